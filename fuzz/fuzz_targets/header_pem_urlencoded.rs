//! URL-encoded PEM values (nginx, ALB) through the header decoder, and the RFC 3986 percent-decoder on its own.
#![no_main]

use certbound_extract::header::HeaderFormat;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(decoded) = certbound_extract::header::percent_decode(data) {
        assert!(decoded.len() <= data.len());
    }
    certbound_fuzz::check_header(HeaderFormat::PemUrlEncoded, data, None, 1);
});
