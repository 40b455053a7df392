//! RFC 9440 `Client-Cert` values (no chain header) through the header decoder.
//! Parts split on 0xFF are repeated field lines of the header.
#![no_main]

use certbound_extract::header::HeaderFormat;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    certbound_fuzz::check_header_lines(HeaderFormat::Rfc9440, &certbound_fuzz::parts(data), 1);
});
