//! URL-encoded PEM values (nginx, ALB) through the header decoder and the
//! layer, and the RFC 3986 percent-decoder on its own. URL-encoded PEM is
//! percent-decoding and then the PEM reader: reading the decoded text as
//! PEM gives the same answer.
//! Parts split on 0xFF are repeated field lines of the header.
#![no_main]

use certbound_extract::header::{HeaderDecoder, HeaderFormat};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let decoded = certbound_extract::header::percent_decode(data);
    if let Ok(decoded) = &decoded {
        assert!(decoded.len() <= data.len());
    }
    certbound_fuzz::check_header_lines(
        HeaderFormat::PemUrlEncoded,
        &certbound_fuzz::parts(data),
        1,
    );
    let read = HeaderDecoder::new(HeaderFormat::PemUrlEncoded).decode_chain(data, None);
    if let (Ok(read), Ok(decoded)) = (read, decoded) {
        let text = HeaderDecoder::new(HeaderFormat::Pem)
            // Percent-decoding may shorten; the limit is the value's.
            .decode_chain(&decoded, None);
        // `(null)` is Apache's "no certificate" in PEM only.
        if &*decoded != b"(null)" {
            assert_eq!(
                text.ok(),
                Some(read),
                "percent-decoding then PEM reads otherwise"
            );
        }
    }
});
