//! RFC 3986 percent-decoding. `+` is an ordinary character here, never a
//! space: that is `application/x-www-form-urlencoded`, a different thing, and
//! applying it to a certificate silently changes its base64.

use std::borrow::Cow;

use super::HeaderError;

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Decodes `%XX` sequences; everything else, `+` included, is kept as is.
/// Borrows when there is nothing to decode. A `%` not followed by two hex
/// digits is an error.
pub fn percent_decode(input: &[u8]) -> Result<Cow<'_, [u8]>, HeaderError> {
    let Some(first) = input.iter().position(|&b| b == b'%') else {
        return Ok(Cow::Borrowed(input));
    };
    let mut out = Vec::with_capacity(input.len());
    out.extend_from_slice(&input[..first]);
    let mut i = first;
    while i < input.len() {
        let b = input[i];
        if b == b'%' {
            let hi = input.get(i + 1).copied().and_then(hex);
            let lo = input.get(i + 2).copied().and_then(hex);
            match (hi, lo) {
                (Some(hi), Some(lo)) => out.push(hi << 4 | lo),
                _ => return Err(HeaderError::InvalidPercentEncoding { offset: i }),
            }
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    Ok(Cow::Owned(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plus_stays_plus_and_escapes_decode() {
        assert_eq!(&*percent_decode(b"a+b%2Bc%20d%0a").unwrap(), b"a+b+c d\n");
        assert!(matches!(percent_decode(b"abc").unwrap(), Cow::Borrowed(_)));
    }

    #[test]
    fn bad_escapes_are_errors_with_offset() {
        assert_eq!(
            percent_decode(b"ab%2"),
            Err(HeaderError::InvalidPercentEncoding { offset: 2 })
        );
        assert_eq!(
            percent_decode(b"%zz"),
            Err(HeaderError::InvalidPercentEncoding { offset: 0 })
        );
    }
}
