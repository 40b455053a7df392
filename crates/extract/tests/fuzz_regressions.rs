//! Inputs found by the fuzz targets (`fuzz/`), kept as tests.
//!
//! The header decoders read certificates checking only their DER framing
//! first (the fast path); the fuzzers found that a certificate whose framing
//! holds but whose content does not (here a validity date with the wrong
//! tag) came out of `header::decode` and `XfccElement::certificate`
//! unparsed. Every decoder must refuse it.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use certbound_extract::header::{self, HeaderFormat, xfcc};
use certbound_testkit::{TestCa, pem_of};

/// A certificate whose DER framing is sound but whose notBefore is an
/// OCTET STRING instead of a UTCTime.
fn malformed_inside() -> Vec<u8> {
    let mut der = TestCa::new("Fuzz CA").leaf("client").issue().der;
    let i = der
        .windows(2)
        .position(|w| w == [0x17, 0x0d])
        .expect("a UTCTime");
    der[i] = 0x04;
    der
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[test]
fn every_header_format_refuses_a_certificate_malformed_inside_its_frame() {
    let der = malformed_inside();
    let pem = pem_of(&der);
    let b64 = STANDARD.encode(&der);
    let values = [
        (HeaderFormat::Rfc9440, format!(":{b64}:")),
        (HeaderFormat::PemUrlEncoded, url_encode(&pem)),
        (HeaderFormat::Pem, pem.replace('\n', " ")),
        (HeaderFormat::DerBase64, b64.clone()),
        (HeaderFormat::Xfcc, format!("Cert=\"{}\"", url_encode(&pem))),
    ];
    for (format, value) in values {
        let got = header::decode(format, value.as_bytes(), None);
        assert!(got.is_err(), "{format}: {got:?}");
    }
}

#[test]
fn xfcc_element_certificate_is_parsed_in_full() {
    let pem = pem_of(&malformed_inside());
    let value = format!("By=spiffe://a;Cert=\"{}\"", url_encode(&pem));
    let elements = xfcc::parse(&value).unwrap();
    assert!(elements[0].certificate(1).is_err());
}
