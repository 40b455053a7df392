//! PEM (RFC 7468) decoding of certificates, tolerant of the ways proxies and
//! people mangle it.
//!
//! Text outside `-----BEGIN CERTIFICATE-----` / `-----END CERTIFICATE-----`
//! blocks is ignored (RFC 7468 §2), as are blocks with other labels (a private
//! key in the same file). Inside a block any ASCII whitespace is ignored, so
//! CRLF line ends, a missing final newline, and newlines turned into spaces or
//! tabs (as Apache's `%{SSL_CLIENT_CERT}s` does) all decode.
//!
//! ```
//! use certbound_cert::pem;
//!
//! let pem = "-----BEGIN CERTIFICATE----- MIIBBjCBrAIBAjAKBggqhkjOPQQDAjAPMQ0wCwYDVQQDDARtdGxzMB4XDTE4MTAx\
//!   ODEyMzcwOVoXDTIyMDUwMjEyMzcwOVowDzENMAsGA1UEAwwEbXRsczBZMBMGByqG SM49AgEGCCqGSM49AwEHA0IABNcnyxwqV6hY8QnhxxzFQ03C7HKW9OylMbnQZjjJ\
//!   /Au08/coZwxS7LfA4vOLS9WuneIXhbGGWvsDSb0tH6IxLm8wCgYIKoZIzj0EAwID SQAwRgIhAP0RC1E+vwJD/D1AGHGzuri+hlV/PpQEKTWUVeORWz83AiEA5x2eXZOV\
//!   bUlJSGQgjwD5vaUaKlLR50Q2DmFfQj1L+SY= -----END CERTIFICATE-----";
//! let certs = pem::parse_certificates(pem)?;
//! assert_eq!(certs.len(), 1);
//! assert_eq!(certs[0].thumbprint().to_string(), "A4DtL2JmUMhAsvJj5tKyn64SqzmuXbMrJa0n761y5v0");
//! # Ok::<(), certbound_cert::CertError>(())
//! ```

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

use crate::{CertError, Certificate};

/// Standard base64, padding optional, canonical trailing bits required.
pub(crate) const STANDARD_LENIENT_PAD: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

const BEGIN: &str = "-----BEGIN ";
const END: &str = "-----END ";
const DASHES: &str = "-----";

/// Labels that hold an X.509 certificate.
fn is_certificate_label(label: &str) -> bool {
    matches!(label, "CERTIFICATE" | "X509 CERTIFICATE")
}

/// Decodes every certificate block of `text`, in order.
///
/// Fails when there is no certificate block, when a block is unterminated or
/// not base64, or when a block's DER is not exactly one certificate.
pub fn parse_certificates(text: &str) -> Result<Vec<Certificate>, CertError> {
    let mut certs = Vec::new();
    for_each_der(text, |block, der| {
        let cert = Certificate::from_der(der).map_err(|e| CertError::InvalidPemBlock {
            block,
            reason: Box::new(e),
        })?;
        certs.push(cert);
        Ok(())
    })?;
    if certs.is_empty() {
        return Err(CertError::NoPemBlock);
    }
    Ok(certs)
}

/// Calls `f` with the 1-based index and decoded DER of each certificate block.
///
/// This is the allocation-light primitive under [`parse_certificates`]: one
/// scratch buffer is reused for every block.
pub fn for_each_der(
    text: &str,
    mut f: impl FnMut(usize, &[u8]) -> Result<(), CertError>,
) -> Result<(), CertError> {
    let mut rest = text;
    let mut block = 0;
    let mut b64 = Vec::new();
    let mut der = Vec::new();
    while let Some(start) = rest.find(BEGIN) {
        let after_begin = &rest[start + BEGIN.len()..];
        let Some(label_end) = after_begin.find(DASHES) else {
            break;
        };
        let label = &after_begin[..label_end];
        let body_start = &after_begin[label_end + DASHES.len()..];
        let Some(end) = body_start.find(END) else {
            if is_certificate_label(label) {
                return Err(CertError::UnterminatedPem { block: block + 1 });
            }
            break;
        };
        let body = &body_start[..end];
        let after_end = &body_start[end + END.len()..];
        rest = match after_end.find(DASHES) {
            Some(i) => &after_end[i + DASHES.len()..],
            None => "",
        };
        if !is_certificate_label(label) {
            continue;
        }
        block += 1;
        b64.clear();
        b64.extend(body.bytes().filter(|b| !b.is_ascii_whitespace()));
        der.clear();
        STANDARD_LENIENT_PAD
            .decode_vec(&b64, &mut der)
            .map_err(|_| CertError::InvalidBase64 { block })?;
        f(block, &der)?;
    }
    Ok(())
}

/// Encodes DER as one PEM `CERTIFICATE` block with 64-character lines.
pub fn encode_certificate(der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = String::with_capacity(b64.len() + b64.len() / 64 + 60);
    out.push_str("-----BEGIN CERTIFICATE-----\n");
    for line in b64.as_bytes().chunks(64) {
        // base64 output is ASCII, so every chunk is valid UTF-8.
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use certbound_testkit::vectors;

    #[test]
    fn decodes_one_and_many_blocks() {
        let one = parse_certificates(vectors::RFC8705_APPENDIX_A_PEM).unwrap();
        assert_eq!(one.len(), 1);
        let chain = parse_certificates(vectors::RFC9440_EXAMPLE_CHAIN_PEM).unwrap();
        assert_eq!(chain.len(), 3);
    }

    #[test]
    fn tolerates_crlf_missing_newline_and_spaces() {
        let pem = vectors::RFC8705_APPENDIX_A_PEM;
        let expected = parse_certificates(pem).unwrap()[0].thumbprint();
        let variants = [
            pem.replace('\n', "\r\n"),
            pem.trim_end().to_owned(),
            pem.replace('\n', " "),
            pem.replace('\n', "\t"),
            format!("Bag Attributes\n    friendlyName: x\n{pem}"),
        ];
        for v in variants {
            let got = parse_certificates(&v).unwrap();
            assert_eq!(got[0].thumbprint(), expected, "variant {v:?}");
        }
    }

    #[test]
    fn encode_then_decode_round_trips() {
        let cert = &parse_certificates(vectors::RFC8705_APPENDIX_A_PEM).unwrap()[0];
        let again = parse_certificates(&encode_certificate(cert.der())).unwrap();
        assert_eq!(again[0].der(), cert.der());
    }

    #[test]
    fn skips_other_labels() {
        let text = format!(
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n{}",
            vectors::RFC8705_APPENDIX_A_PEM
        );
        assert_eq!(parse_certificates(&text).unwrap().len(), 1);
    }

    #[test]
    fn reports_bad_input_precisely() {
        assert_eq!(parse_certificates(""), Err(CertError::NoPemBlock));
        assert_eq!(
            parse_certificates("hello world"),
            Err(CertError::NoPemBlock)
        );
        assert_eq!(
            parse_certificates("-----BEGIN CERTIFICATE-----\nMIIB"),
            Err(CertError::UnterminatedPem { block: 1 })
        );
        assert_eq!(
            parse_certificates("-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----"),
            Err(CertError::InvalidBase64 { block: 1 })
        );
        assert!(matches!(
            parse_certificates("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----"),
            Err(CertError::InvalidPemBlock { block: 1, .. })
        ));
    }
}
