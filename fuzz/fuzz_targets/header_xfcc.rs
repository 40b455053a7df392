//! Envoy `x-forwarded-client-cert` values through the header decoder, at hop 1 and hop 2.
//! Parts split on 0xFF are repeated field lines of the header.
#![no_main]

use certbound_extract::header::HeaderFormat;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    certbound_fuzz::check_header_lines(HeaderFormat::Xfcc, &certbound_fuzz::parts(data), 1);
    certbound_fuzz::check_header_lines(HeaderFormat::Xfcc, &certbound_fuzz::parts(data), 2);
});
