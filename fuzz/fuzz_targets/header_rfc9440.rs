//! RFC 9440 `Client-Cert` values (no chain header) through the header decoder.
#![no_main]

use certbound_extract::header::HeaderFormat;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    certbound_fuzz::check_header(HeaderFormat::Rfc9440, data, None, 1);
});
