//! The SAN matchers on arbitrary strings (`registered 0xFF presented`):
//! symmetric, reflexive on well-formed values, case rules as documented.
#![no_main]

use std::net::IpAddr;

use certbound_cert::san;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let parts = certbound_fuzz::parts(data);
    let [r, p] = parts[..] else {
        return;
    };
    let (Ok(r), Ok(p)) = (std::str::from_utf8(r), std::str::from_utf8(p)) else {
        return;
    };
    assert_eq!(san::dns_matches(r, p), san::dns_matches(p, r));
    assert_eq!(
        san::uri_matches(r, p),
        san::uri_matches(p, r),
        "uri {r:?} {p:?}"
    );
    assert_eq!(san::email_matches(r, p), san::email_matches(p, r));
    assert_eq!(san::dns_matches(r, r), !r.is_empty());
    assert_eq!(san::uri_matches(r, r), !r.is_empty());
    if san::dns_matches(r, p) {
        assert!(san::dns_matches(&r.to_ascii_uppercase(), p));
    }
    if let Ok(ip) = p.parse::<IpAddr>() {
        assert!(san::ip_matches(p, ip));
        assert!(san::ip_matches(&ip.to_string(), ip));
        let _ = san::ip_matches(r, ip);
    }
});
