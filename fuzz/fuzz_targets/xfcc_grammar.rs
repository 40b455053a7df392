//! The XFCC grammar on its own (`xfcc::parse`), each element's certificate,
//! and a round trip: every parsed element, written back with every value
//! quoted and escaped, parses to the same pairs.
#![no_main]

use certbound_extract::header::xfcc;
use libfuzzer_sys::fuzz_target;

fn quote(v: &str) -> String {
    let mut out = String::with_capacity(v.len() + 2);
    out.push('"');
    for c in v.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(elements) = xfcc::parse(text) else {
        return;
    };
    assert!(!elements.is_empty());
    for (i, element) in elements.iter().enumerate() {
        assert!(!element.pairs().is_empty());
        for (k, _) in element.pairs() {
            assert!(!k.is_empty());
            assert!(element.get(k).is_some());
        }
        if let Ok(Some((leaf, intermediates))) = element.certificate(i + 1) {
            certbound_fuzz::check_certificate(&leaf);
            for c in &intermediates {
                certbound_fuzz::check_certificate(c);
            }
        }
    }
    let written = elements
        .iter()
        .map(|e| {
            e.pairs()
                .iter()
                .map(|(k, v)| format!("{k}={}", quote(v)))
                .collect::<Vec<_>>()
                .join(";")
        })
        .collect::<Vec<_>>()
        .join(",");
    match xfcc::parse(&written) {
        Ok(again) => assert_eq!(again, elements, "round trip of {text:?} via {written:?}"),
        Err(e) => panic!("{written:?} (written from {text:?}) does not parse: {e}"),
    }
});
