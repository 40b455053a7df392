//! Base64 DER values (HAProxy, Traefik, Azure, Cloudflare) through the header decoder, and the back-to-back DER splitter on raw bytes.
//! Parts split on 0xFF are repeated field lines of the header.
#![no_main]

use certbound_extract::header::HeaderFormat;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(items) = certbound_extract::header::split_concatenated(data) {
        assert_eq!(items.iter().map(|i| i.len()).sum::<usize>(), data.len());
    }
    certbound_fuzz::check_header_lines(HeaderFormat::DerBase64, &certbound_fuzz::parts(data), 1);
});
