//! Attribute values: the ASN.1 string types decoded to text, anything else
//! kept as DER.

use x509_parser::asn1_rs::ToDer as _;

/// Universal tags of the string types a directory attribute may use.
const UTF8_STRING: u8 = 12;
const NUMERIC_STRING: u8 = 18;
const PRINTABLE_STRING: u8 = 19;
const TELETEX_STRING: u8 = 20;
const IA5_STRING: u8 = 22;
const VISIBLE_STRING: u8 = 26;
const UNIVERSAL_STRING: u8 = 28;
const BMP_STRING: u8 = 30;

/// Decodes the content of a universal string type to text. `None` for
/// other types or undecodable content.
pub(crate) fn decode_string(tag: u8, content: &[u8]) -> Option<String> {
    match tag {
        UTF8_STRING | NUMERIC_STRING | PRINTABLE_STRING | IA5_STRING | VISIBLE_STRING => {
            std::str::from_utf8(content).ok().map(str::to_owned)
        }
        // T.61 is in practice Latin-1 in certificates.
        TELETEX_STRING => Some(content.iter().map(|&b| char::from(b)).collect()),
        BMP_STRING => {
            if content.len() % 2 != 0 {
                return None;
            }
            let units = content
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]));
            char::decode_utf16(units)
                .collect::<Result<String, _>>()
                .ok()
        }
        UNIVERSAL_STRING => {
            if content.len() % 4 != 0 {
                return None;
            }
            content
                .chunks_exact(4)
                .map(|c| char::from_u32(u32::from_be_bytes([c[0], c[1], c[2], c[3]])))
                .collect()
        }
        _ => None,
    }
}

/// Splits one DER TLV into its tag (the first identifier byte) and content,
/// when `der` is exactly one TLV of any tag ([`crate::der::read_one_value`]).
pub(crate) fn split_tlv(der: &[u8]) -> Option<(u8, &[u8])> {
    crate::der::read_one_value(der)
        .ok()
        .map(|tlv| (tlv.tag, tlv.content))
}

/// DER-encodes text as a UTF8String.
pub(crate) fn utf8_string_der(s: &str) -> Vec<u8> {
    // Writing into a Vec does not fail.
    s.to_der_vec().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_string_types() {
        assert_eq!(decode_string(12, "é".as_bytes()).as_deref(), Some("é"));
        assert_eq!(decode_string(20, &[0xe9]).as_deref(), Some("é"));
        assert_eq!(decode_string(30, &[0x00, 0xe9]).as_deref(), Some("é"));
        assert_eq!(decode_string(28, &[0, 0, 0, 0xe9]).as_deref(), Some("é"));
        assert_eq!(decode_string(30, &[0x00]), None);
        assert_eq!(decode_string(4, b"x"), None);
    }

    #[test]
    fn splits_exactly_one_tlv() {
        assert_eq!(split_tlv(&[0x0c, 0x01, b'x']), Some((0x0c, &b"x"[..])));
        assert_eq!(split_tlv(&[0x0c, 0x02, b'x']), None);
        assert_eq!(split_tlv(&[0x0c, 0x01, b'x', 0]), None);
        // DER: a long-form length for a short value is refused.
        assert_eq!(split_tlv(&[0x0c, 0x81, 0x01, b'x']), None);
        assert_eq!(split_tlv(&[]), None);
        let long = utf8_string_der(&"a".repeat(300));
        assert_eq!(split_tlv(&long).map(|(_, c)| c.len()), Some(300));
    }
}
