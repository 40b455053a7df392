//! RFC 3986 percent-decoding. `+` is an ordinary character here, never a
//! space: that is `application/x-www-form-urlencoded`, a different thing, and
//! applying it to a certificate silently changes its base64.

use std::borrow::Cow;

use super::HeaderError;

/// Decodes `%XX` sequences; everything else, `+` included, is kept as is.
/// Borrows when there is nothing to decode. A `%` not followed by two hex
/// digits is an error (RFC 3986 §2.1: a percent-encoding is a `%` and two
/// hexadecimal digits; percent-encoding would pass it through).
pub fn percent_decode(input: &[u8]) -> Result<Cow<'_, [u8]>, HeaderError> {
    let malformed = input.iter().enumerate().find(|&(i, &b)| {
        b == b'%'
            && !input
                .get(i + 1..i + 3)
                .is_some_and(|digits| digits.iter().all(u8::is_ascii_hexdigit))
    });
    if let Some((offset, _)) = malformed {
        return Err(HeaderError::InvalidPercentEncoding { offset });
    }
    Ok(percent_encoding::percent_decode(input).into())
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
        assert_eq!(
            percent_decode(b"%41%"),
            Err(HeaderError::InvalidPercentEncoding { offset: 3 })
        );
    }
}
