//! Base64 DER lists, and DER certificates concatenated in one buffer.

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use certbound_cert::Certificate;
use x509_parser::asn1_rs::{Any, FromDer as _, Tag};

use super::HeaderError;

const LENIENT: GeneralPurposeConfig =
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
const STANDARD: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, LENIENT);
const URL_SAFE: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, LENIENT);

/// Splits `bytes` into the DER SEQUENCEs it holds back to back (as HAProxy's
/// `ssl_c_chain_der` writes them), by their ASN.1 lengths, read as
/// x509-parser reads a certificate's.
pub fn split_concatenated(bytes: &[u8]) -> Result<Vec<&[u8]>, String> {
    let mut out = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        let offset = bytes.len() - rest.len();
        let (after, any) = Any::from_der(rest)
            .map_err(|e| format!("the certificate at byte {offset} is not DER: {e}"))?;
        if any.tag() != Tag::Sequence {
            return Err(format!(
                "byte {offset} starts no DER certificate (tag {}, expected a SEQUENCE)",
                any.tag()
            ));
        }
        out.push(&rest[..rest.len() - after.len()]);
        rest = after;
    }
    if out.is_empty() {
        return Err("no bytes".to_owned());
    }
    Ok(out)
}

/// Decodes one base64 item (standard or URL-safe alphabet, padding optional).
pub(super) fn decode_base64(item: &str, index: usize) -> Result<Vec<u8>, HeaderError> {
    let engine = if item.contains(['-', '_']) {
        &URL_SAFE
    } else {
        &STANDARD
    };
    engine
        .decode(item)
        .map_err(|_| HeaderError::InvalidBase64 { item: index })
}

/// Decodes a comma-separated list of (optionally quoted) base64 DER values;
/// each value may hold several certificates back to back. Appends to `out`.
pub(super) fn decode_list(value: &str, out: &mut Vec<Certificate>) -> Result<(), HeaderError> {
    for (i, raw) in value.split(',').enumerate() {
        let item = i + 1;
        let mut s = raw.trim_matches([' ', '\t']);
        // Quoted either item by item ("a","b") or as a whole ("a,b").
        s = s.strip_prefix('"').unwrap_or(s);
        s = s.strip_suffix('"').unwrap_or(s);
        if s.is_empty() {
            return Err(HeaderError::InvalidDer {
                item,
                reason: "empty list item".to_owned(),
            });
        }
        let der = decode_base64(s, item).map_err(|e| {
            // Base64 values joined by white space: two values combined
            // (no proxy writes spaces inside base64).
            let mut pieces = s.split([' ', '\t']).filter(|p| !p.is_empty());
            let joined =
                pieces.clone().nth(1).is_some() && pieces.all(|p| decode_base64(p, item).is_ok());
            if joined {
                HeaderError::CombinedBase64 { item }
            } else {
                e
            }
        })?;
        let parts =
            split_concatenated(&der).map_err(|reason| HeaderError::InvalidDer { item, reason })?;
        for part in parts {
            let cert = Certificate::from_der(part).map_err(|e| HeaderError::InvalidDer {
                item,
                reason: e.to_string(),
            })?;
            out.push(cert);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_short_and_long_lengths() {
        let a = [0x30, 0x01, 0xaa];
        let mut b = vec![0x30, 0x81, 0x80];
        b.extend([0u8; 0x80]);
        let mut both = a.to_vec();
        both.extend(&b);
        let parts = split_concatenated(&both).unwrap();
        assert_eq!(parts, vec![&a[..], &b[..]]);
    }

    #[test]
    fn refuses_truncated_and_foreign_bytes() {
        assert!(split_concatenated(&[0x30, 0x05, 0]).is_err());
        assert!(split_concatenated(&[0x04, 0x00]).is_err());
        assert!(split_concatenated(&[0x30, 0x80]).is_err());
        assert!(split_concatenated(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]).is_err());
        assert!(split_concatenated(&[]).is_err());
    }
}
