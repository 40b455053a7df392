//! Certificate parsing: DER, PEM, or either (`from_pem_or_der`), and the
//! certificate invariants (thumbprint, DER round trip, subject and issuer
//! DNs, each SAN matching itself).
#![no_main]

use certbound_cert::Certificate;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(cert) = Certificate::from_der(data) {
        assert_eq!(cert.der(), data);
        certbound_fuzz::check_certificate(&cert);
    }
    if let Ok(certs) = Certificate::from_pem_or_der(data) {
        for c in &certs {
            certbound_fuzz::check_certificate(c);
        }
    }
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(cert) = Certificate::from_pem(text) {
            certbound_fuzz::check_certificate(&cert);
            // Printing the DER as PEM and reading it again gives it back.
            let pem = certbound_cert::pem::encode_certificate(cert.der());
            assert_eq!(Certificate::from_pem(&pem).ok().as_ref(), Some(&cert));
        }
    }
});
