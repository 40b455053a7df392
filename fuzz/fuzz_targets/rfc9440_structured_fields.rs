//! RFC 9440 `Client-Cert` and `Client-Cert-Chain` together (structured-field Item and List): input is `value 0xFF chain`.
#![no_main]

use certbound_extract::header::HeaderFormat;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let parts = certbound_fuzz::parts(data);
    let chain = parts.get(1).copied();
    certbound_fuzz::check_header(HeaderFormat::Rfc9440, parts[0], chain, 1);
    // The chain header alone, as the leaf header: must be refused or one certificate.
    if let Some(chain) = chain {
        certbound_fuzz::check_header(HeaderFormat::Rfc9440, chain, None, 1);
    }
});
