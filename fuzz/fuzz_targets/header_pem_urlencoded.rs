//! URL-encoded PEM values (nginx, ALB) through the header decoder, and the RFC 3986 percent-decoder on its own.
//! Whatever the decoder reads (by its single pass or its general path), percent-decoding the value and reading
//! the text as PEM must read too, to the same certificates: the single pass never accepts more.
#![no_main]

use certbound_extract::header::{HeaderDecoder, HeaderFormat};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let decoded = certbound_extract::header::percent_decode(data);
    if let Ok(decoded) = &decoded {
        assert!(decoded.len() <= data.len());
    }
    certbound_fuzz::check_header(HeaderFormat::PemUrlEncoded, data, None, 1);
    if let Ok(Some(read)) = HeaderDecoder::new(HeaderFormat::PemUrlEncoded).decode_chain(data, None)
    {
        let decoded = decoded.expect("a value the decoder reads percent-decodes");
        let text = HeaderDecoder::new(HeaderFormat::Pem).decode_chain(&decoded, None);
        assert_eq!(
            text.ok().flatten(),
            Some(read),
            "the single pass read what the text does not say"
        );
    }
});
