//! Reading DER one TLV at a time: the one place certbound decodes an ASN.1
//! tag and length (certificate framing, `#hex` DN values, certificates
//! concatenated in a proxy header).
//!
//! Only what X.509 uses: single-byte tags and definite, minimally encoded
//! lengths of at most three bytes (16 MiB), as DER requires.
//!
//! ```
//! use certbound_cert::der::{DerError, read_tlv};
//!
//! let (tlv, rest) = read_tlv(&[0x0c, 0x01, b'x', 0xff])?;
//! assert_eq!((tlv.tag, tlv.content, tlv.encoded.len(), rest), (0x0c, &b"x"[..], 3, &[0xff][..]));
//! assert_eq!(read_tlv(&[0x30, 0x81, 0x03, 1, 2, 3]).unwrap_err(), DerError::NonMinimalLength);
//! # Ok::<(), DerError>(())
//! ```

/// One DER tag-length-value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tlv<'a> {
    /// The tag: its only byte, or the first byte of a multi-byte tag (see
    /// [`read_one_value`]).
    pub tag: u8,
    /// The content octets.
    pub content: &'a [u8],
    /// The whole encoding: tag, length and content.
    pub encoded: &'a [u8],
}

/// Why bytes are not one DER TLV.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DerError {
    /// There are no bytes.
    #[error("missing")]
    Missing,
    /// The tag does not fit in one byte (where only such tags are read), or
    /// a multi-byte tag is not minimally encoded or too long.
    #[error("has a multi-byte tag")]
    MultiByteTag,
    /// The bytes end before the length or the content does.
    #[error("is truncated")]
    Truncated,
    /// An indefinite length, or a length of more than three bytes.
    #[error("has an unsupported length form")]
    UnsupportedLength,
    /// A length written in more bytes than needed.
    #[error("has a non-minimal length")]
    NonMinimalLength,
}

/// Reads the TLV at the start of `input`; returns it and what follows.
/// A multi-byte tag is an error ([`DerError::MultiByteTag`]): X.509's
/// framing has none.
pub fn read_tlv(input: &[u8]) -> Result<(Tlv<'_>, &[u8]), DerError> {
    read(input, false)
}

/// The longest multi-byte tag accepted: the first byte and five more, as
/// any 32-bit tag number needs.
const MAX_TAG_BYTES: usize = 6;

/// Like [`read_one_tlv`], also accepting a multi-byte tag (tag number 31
/// or more, written in the fewest bytes), as an attribute value of any type
/// may have (RFC 4514 `#` values). For such a tag, [`Tlv::tag`] is its
/// first byte (its low five bits are all ones) and the rest of the tag is
/// in [`Tlv::encoded`].
///
/// ```
/// use certbound_cert::der::{read_one_tlv, read_one_value};
///
/// // [PRIVATE 16256] with no content.
/// let v = read_one_value(&[0xff, 0xff, 0x00, 0x00])?;
/// assert_eq!((v.tag, v.content.len(), v.encoded.len()), (0xff, 0, 4));
/// assert!(read_one_tlv(&[0xff, 0xff, 0x00, 0x00]).is_err());
/// # Ok::<(), certbound_cert::der::DerError>(())
/// ```
pub fn read_one_value(input: &[u8]) -> Result<Tlv<'_>, DerError> {
    read_exactly_one(input, true)
}

fn read(input: &[u8], multi_byte_tags: bool) -> Result<(Tlv<'_>, &[u8]), DerError> {
    let (&tag, mut rest) = input.split_first().ok_or(DerError::Missing)?;
    if tag & 0x1f == 0x1f {
        if !multi_byte_tags {
            return Err(DerError::MultiByteTag);
        }
        // Base-128 tag number, high bit set on all bytes but the last; DER
        // wants no leading zero group and a number of 31 or more.
        let end = rest
            .iter()
            .position(|b| b & 0x80 == 0)
            .ok_or(DerError::Truncated)?;
        if end + 2 > MAX_TAG_BYTES || rest[0] == 0x80 || (end == 0 && rest[0] < 0x1f) {
            return Err(DerError::MultiByteTag);
        }
        rest = &rest[end + 1..];
    }
    let (&first, rest) = rest.split_first().ok_or(DerError::Truncated)?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 3 {
            return Err(DerError::UnsupportedLength);
        }
        let bytes = rest.get(..n).ok_or(DerError::Truncated)?;
        if bytes[0] == 0 {
            return Err(DerError::NonMinimalLength);
        }
        let len = bytes
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        if len < 0x80 {
            return Err(DerError::NonMinimalLength);
        }
        (len, &rest[n..])
    };
    if len > rest.len() {
        return Err(DerError::Truncated);
    }
    let (content, after) = rest.split_at(len);
    let header_len = input.len() - rest.len();
    Ok((
        Tlv {
            tag,
            content,
            encoded: &input[..header_len + len],
        },
        after,
    ))
}

/// Reads `input` as exactly one TLV.
pub fn read_one_tlv(input: &[u8]) -> Result<Tlv<'_>, DerError> {
    read_exactly_one(input, false)
}

fn read_exactly_one(input: &[u8], multi_byte_tags: bool) -> Result<Tlv<'_>, DerError> {
    match read(input, multi_byte_tags)? {
        (tlv, []) => Ok(tlv),
        // Bytes after the value: as for a length that does not cover them.
        _ => Err(DerError::Truncated),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_long_lengths() {
        let (t, rest) = read_tlv(&[0x04, 0x00]).unwrap();
        assert_eq!((t.tag, t.content, rest), (0x04, &[][..], &[][..]));
        let mut long = vec![0x30, 0x81, 0x80];
        long.extend([7u8; 0x80]);
        long.push(0xaa);
        let (t, rest) = read_tlv(&long).unwrap();
        assert_eq!(
            (t.content.len(), t.encoded.len(), rest),
            (0x80, 0x83, &[0xaa][..])
        );
    }

    #[test]
    fn malformed_inputs() {
        assert_eq!(read_tlv(&[]).unwrap_err(), DerError::Missing);
        assert_eq!(
            read_tlv(&[0x1f, 0x01, 0x00]).unwrap_err(),
            DerError::MultiByteTag
        );
        assert_eq!(read_tlv(&[0x30]).unwrap_err(), DerError::Truncated);
        assert_eq!(
            read_tlv(&[0x30, 0x02, 0x00]).unwrap_err(),
            DerError::Truncated
        );
        assert_eq!(
            read_tlv(&[0x30, 0x80]).unwrap_err(),
            DerError::UnsupportedLength
        );
        assert_eq!(
            read_tlv(&[0x30, 0x84, 1, 0, 0, 0]).unwrap_err(),
            DerError::UnsupportedLength
        );
        assert_eq!(
            read_tlv(&[0x30, 0x82, 0x00, 0x90]).unwrap_err(),
            DerError::NonMinimalLength
        );
        assert_eq!(
            read_tlv(&[0x30, 0x81, 0x03, 1, 2, 3]).unwrap_err(),
            DerError::NonMinimalLength
        );
        assert!(read_one_tlv(&[0x04, 0x00, 0x00]).is_err());
        assert!(read_one_tlv(&[0x04, 0x01, 0x00]).is_ok());
    }

    #[test]
    fn multi_byte_tags_only_for_values() {
        // Found by cert_parse and header_der_base64: certificate subjects
        // whose attribute values have multi-byte tags.
        for value in [
            &[0xff, 0xff, 0x00, 0x00][..],
            &[0x9f, 0xd9, 0x16, 0x01, 0x65],
            &[0x9f, 0x1f, 0x00],
            &[0xbf, 0x81, 0x80, 0x80, 0x80, 0x00, 0x00],
        ] {
            let v = read_one_value(value).unwrap();
            assert_eq!((v.tag, v.encoded), (value[0], value));
            assert_eq!(read_one_tlv(value).unwrap_err(), DerError::MultiByteTag);
        }
        for bad in [
            &[0x9f, 0x1e, 0x00][..],                           // fits in one byte
            &[0x9f, 0x80, 0x20, 0x00],                         // leading zero group
            &[0x9f, 0x81, 0x81, 0x81, 0x81, 0x81, 0x01, 0x00], // too long
            &[0x9f, 0x81],                                     // tag never ends
            &[0x9f],
        ] {
            assert!(read_one_value(bad).is_err(), "{bad:02x?}");
        }
        assert!(read_one_value(&[0x9f, 0x20, 0x01]).is_err());
        assert!(read_one_value(&[0x9f, 0x20, 0x00, 0x00]).is_err());
    }
}
