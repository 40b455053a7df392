//! The cheap structural check run when a certificate is read: the DER
//! framing of `Certificate` and of the fields of `TBSCertificate` (RFC 5280
//! §4.1), with exact, minimally encoded lengths and no trailing bytes. The
//! full parse (names, times, extensions) runs once, on first access; see
//! [`Certificate::check`](crate::Certificate::check).

use crate::CertError;
use crate::der::read_tlv;

const SEQUENCE: u8 = 0x30;
const INTEGER: u8 = 0x02;
const BIT_STRING: u8 = 0x03;
const VERSION: u8 = 0xa0;
const ISSUER_UID: u8 = 0x81;
const SUBJECT_UID: u8 = 0x82;
const EXTENSIONS: u8 = 0xa3;

fn invalid(what: &str) -> CertError {
    CertError::InvalidDer(format!("malformed certificate structure: {what}"))
}

/// One DER TLV at the start of `input`: its tag, its content, the rest.
fn tlv<'a>(input: &'a [u8], what: &str) -> Result<(u8, &'a [u8], &'a [u8]), CertError> {
    let (tlv, rest) = read_tlv(input).map_err(|e| invalid(&format!("{what} {e}")))?;
    Ok((tlv.tag, tlv.content, rest))
}

fn expect<'a>(input: &'a [u8], tag: u8, what: &str) -> Result<(&'a [u8], &'a [u8]), CertError> {
    let (got, content, rest) = tlv(input, what)?;
    if got != tag {
        return Err(invalid(&format!(
            "{what} has tag 0x{got:02x}, expected 0x{tag:02x}"
        )));
    }
    Ok((content, rest))
}

/// Checks the framing of one DER certificate filling all of `der`.
pub(crate) fn check(der: &[u8]) -> Result<(), CertError> {
    let (cert, trailing) = expect(der, SEQUENCE, "Certificate")?;
    if !trailing.is_empty() {
        return Err(CertError::TrailingData(trailing.len()));
    }
    let (tbs, rest) = expect(cert, SEQUENCE, "tbsCertificate")?;
    let (_, rest) = expect(rest, SEQUENCE, "signatureAlgorithm")?;
    let (signature, rest) = expect(rest, BIT_STRING, "signatureValue")?;
    if signature.is_empty() {
        return Err(invalid("signatureValue is empty"));
    }
    if !rest.is_empty() {
        return Err(invalid("Certificate has more than three fields"));
    }

    let mut rest = tbs;
    if rest.first() == Some(&VERSION) {
        let (version, after) = expect(rest, VERSION, "version")?;
        let (_, inner_rest) = expect(version, INTEGER, "version")?;
        if !inner_rest.is_empty() {
            return Err(invalid("version has trailing bytes"));
        }
        rest = after;
    }
    let (serial, after) = expect(rest, INTEGER, "serialNumber")?;
    if serial.is_empty() {
        return Err(invalid("serialNumber is empty"));
    }
    rest = after;
    for what in [
        "signature",
        "issuer",
        "validity",
        "subject",
        "subjectPublicKeyInfo",
    ] {
        let (_, after) = expect(rest, SEQUENCE, what)?;
        rest = after;
    }
    // The optional fields, each at most once and in order.
    let mut last = 0u8;
    while !rest.is_empty() {
        let (tag, _, after) = tlv(rest, "tbsCertificate field")?;
        let order = match tag {
            ISSUER_UID => 1,
            SUBJECT_UID => 2,
            EXTENSIONS => 3,
            other => {
                return Err(invalid(&format!(
                    "tbsCertificate has an unexpected field with tag 0x{other:02x}"
                )));
            }
        };
        if order <= last {
            return Err(invalid(
                "tbsCertificate fields are repeated or out of order",
            ));
        }
        last = order;
        rest = after;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use certbound_testkit::TestCa;

    #[test]
    fn generated_certificates_pass() {
        let ca = TestCa::new("Structure CA");
        let leaf = ca.leaf("client").san_dns("client.example").issue();
        check(&leaf.der).unwrap();
        check(&ca.cert.der).unwrap();
    }

    #[test]
    fn truncations_trailing_bytes_and_wrong_tags_are_refused() {
        let ca = TestCa::new("Structure CA");
        let der = ca.leaf("client").issue().der;
        for len in 0..der.len() {
            assert!(check(&der[..len]).is_err(), "truncated to {len}");
        }
        let mut long = der.clone();
        long.push(0);
        assert_eq!(check(&long), Err(CertError::TrailingData(1)));
        let mut wrong = der.clone();
        wrong[0] = 0x31;
        assert!(check(&wrong).is_err());
    }

    #[test]
    fn non_minimal_lengths_are_refused() {
        // SEQUENCE with a long-form length for 3 bytes.
        assert!(check(&[0x30, 0x81, 0x03, 0x02, 0x01, 0x00]).is_err());
        assert!(check(&[0x30, 0x82, 0x00, 0x90]).is_err());
    }
}
