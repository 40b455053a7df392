//! PEM values (Apache, nginx `$ssl_client_cert`) through the header decoder, and the PEM reader on its own.
//! Parts split on 0xFF are repeated field lines of the header.
#![no_main]

use certbound_extract::header::HeaderFormat;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(certs) = certbound_cert::pem::parse_certificates(text) {
            for c in &certs {
                certbound_fuzz::check_certificate(c);
            }
        }
    }
    certbound_fuzz::check_header_lines(HeaderFormat::Pem, &certbound_fuzz::parts(data), 1);
});
