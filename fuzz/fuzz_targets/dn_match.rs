//! The DN matcher: two strings (`a 0xFF b`) parsed and matched both ways,
//! in both modes. Matching must be symmetric, order-significant matching
//! must imply order-insensitive matching, and each name matches itself.
#![no_main]

use certbound_cert::{DistinguishedName, DnMatchOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let parts = certbound_fuzz::parts(data);
    let [a, b] = parts[..] else {
        return;
    };
    let (Ok(a), Ok(b)) = (std::str::from_utf8(a), std::str::from_utf8(b)) else {
        return;
    };
    let (Ok(a), Ok(b)) = (
        a.parse::<DistinguishedName>(),
        b.parse::<DistinguishedName>(),
    ) else {
        return;
    };
    let any = DnMatchOptions::new().ignore_rdn_order(true);
    let ab = a.matches(&b);
    assert_eq!(
        ab,
        b.matches(&a),
        "matching is not symmetric: {a:?} / {b:?}"
    );
    let ab_any = a.matches_with(&b, any);
    assert_eq!(
        ab_any,
        b.matches_with(&a, any),
        "any-order matching is not symmetric: {a:?} / {b:?}"
    );
    if ab {
        assert!(
            ab_any,
            "ordered match without any-order match: {a:?} / {b:?}"
        );
    }
    if a == b {
        assert!(ab);
    }
    assert!(a.matches(&a) && b.matches(&b));
});
