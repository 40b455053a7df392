//! Attribute values: the ASN.1 string types decoded to text, anything else
//! kept as DER.

use x509_parser::asn1_rs::{Any, Class, FromDer as _, ToDer as _};

use super::AttributeValue;

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

/// An attribute value as x509-parser reads it, from a certificate or from
/// a `#hex` string: a universal string type becomes text, anything else
/// stays DER.
pub(crate) fn from_any(any: &Any<'_>) -> AttributeValue {
    let header = &any.header;
    let text = if header.class() == Class::Universal && !header.is_constructed() {
        u8::try_from(header.tag().0)
            .ok()
            .and_then(|tag| decode_string(tag, any.data))
    } else {
        None
    };
    match text {
        Some(s) => AttributeValue::Text(s),
        // Writing into a Vec does not fail.
        None => AttributeValue::Der(any.to_der_vec().unwrap_or_default()),
    }
}

/// The attribute value a `#hex` string's bytes encode: exactly one DER
/// value, read by the reader of certificates.
pub(crate) fn from_der(der: &[u8]) -> Option<AttributeValue> {
    match Any::from_der(der) {
        Ok(([], any)) => Some(from_any(&any)),
        _ => None,
    }
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
    fn hex_bytes_are_exactly_one_value() {
        let text = |s: &str| Some(AttributeValue::Text(s.into()));
        assert_eq!(from_der(&[0x0c, 0x01, b'x']), text("x"));
        assert_eq!(from_der(&[0x0c, 0x02, b'x']), None);
        assert_eq!(from_der(&[0x0c, 0x01, b'x', 0]), None);
        assert_eq!(from_der(&[]), None);
        let mut long = vec![0x0c, 0x82, 0x01, 0x2c];
        long.extend([b'a'; 300]);
        assert_eq!(from_der(&long), text(&"a".repeat(300)));
        // Not a string type, or a multi-byte tag: kept as DER.
        let int = [0x02, 0x01, 0x05];
        assert_eq!(from_der(&int), Some(AttributeValue::Der(int.to_vec())));
        let private = [0xdf, 0x7f, 0x01, 0x00];
        assert_eq!(
            from_der(&private),
            Some(AttributeValue::Der(private.to_vec()))
        );
    }
}
