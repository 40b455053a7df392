//! Envoy `x-forwarded-client-cert` values through the header decoder, at hop 1 and hop 2.
#![no_main]

use certbound_extract::header::HeaderFormat;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    certbound_fuzz::check_header(HeaderFormat::Xfcc, data, None, 1);
    certbound_fuzz::check_header(HeaderFormat::Xfcc, data, None, 2);
});
