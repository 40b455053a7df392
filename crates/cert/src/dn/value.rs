//! Attribute values: the ASN.1 string types decoded to text, anything else
//! kept as DER.

use x509_parser::asn1_rs::{Any, Class, FromDer as _, Tag, ToDer as _};

use super::AttributeValue;

/// Decodes the content of a universal string type (one a directory
/// attribute may use) to text. `None` for other types or undecodable content.
pub(crate) fn decode_string(tag: Tag, content: &[u8]) -> Option<String> {
    match tag {
        Tag::Utf8String
        | Tag::NumericString
        | Tag::PrintableString
        | Tag::Ia5String
        | Tag::VisibleString => std::str::from_utf8(content).ok().map(str::to_owned),
        // T.61 is in practice Latin-1 in certificates.
        Tag::TeletexString => Some(content.iter().map(|&b| char::from(b)).collect()),
        Tag::BmpString => {
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
        Tag::UniversalString => {
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
        decode_string(header.tag(), any.data)
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
        let decode = |tag, content: &[u8]| decode_string(Tag(tag), content);
        assert_eq!(decode(12, "é".as_bytes()).as_deref(), Some("é"));
        assert_eq!(decode(20, &[0xe9]).as_deref(), Some("é"));
        assert_eq!(decode(30, &[0x00, 0xe9]).as_deref(), Some("é"));
        assert_eq!(decode(28, &[0, 0, 0, 0xe9]).as_deref(), Some("é"));
        assert_eq!(decode(30, &[0x00]), None);
        assert_eq!(decode(4, b"x"), None);
        // A tag beyond one byte is no string type.
        assert_eq!(decode(12 + 256, b"x"), None);
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
