//! The RFC 4514 parser: a string that parses keeps the DN invariants (it
//! matches itself, its printed form parses again to a matching name, and
//! printing is stable).
#![no_main]

use certbound_cert::DistinguishedName;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(dn) = text.parse::<DistinguishedName>() {
        certbound_fuzz::check_dn_invariants(&dn);
    }
});
