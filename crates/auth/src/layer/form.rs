//! Reading `client_id` from an `application/x-www-form-urlencoded` body
//! (HTML URL-encoded form: `+` is a space, then percent-decoding).

use std::borrow::Cow;

/// What the layer needs from the form; `client_id` borrows from the body
/// unless it had to be decoded.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct FormInfo<'a> {
    pub(crate) client_id: Option<Cow<'a, str>>,
    pub(crate) has_client_assertion: bool,
    pub(crate) has_client_secret: bool,
}

/// Why the form cannot be used.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum FormError {
    Repeated(&'static str),
    NotUtf8(&'static str),
}

/// A form name or value: `+` is a space, then percent-decoding; `None` when
/// it is not UTF-8. Text with neither is borrowed as it is, which is every
/// parameter name and most `client_id`s: no allocation per parameter.
pub(crate) fn decode(raw: &[u8]) -> Option<Cow<'_, str>> {
    if !raw.iter().any(|b| matches!(b, b'+' | b'%')) {
        return std::str::from_utf8(raw).ok().map(Cow::Borrowed);
    }
    let plus_free: Cow<'_, [u8]> = if raw.contains(&b'+') {
        Cow::Owned(
            raw.iter()
                .map(|b| if *b == b'+' { b' ' } else { *b })
                .collect(),
        )
    } else {
        Cow::Borrowed(raw)
    };
    let decoded: Vec<u8> = percent_encoding::percent_decode(&plus_free).collect();
    String::from_utf8(decoded).ok().map(Cow::Owned)
}

pub(crate) fn parse(body: &[u8]) -> Result<FormInfo<'_>, FormError> {
    let mut info = FormInfo::default();
    for pair in body.split(|b| *b == b'&').filter(|p| !p.is_empty()) {
        let (name, value) = match pair.iter().position(|b| *b == b'=') {
            Some(i) => (&pair[..i], &pair[i + 1..]),
            None => (pair, &[][..]),
        };
        let Some(name) = decode(name) else { continue };
        match name.as_ref() {
            "client_id" => {
                if info.client_id.is_some() {
                    return Err(FormError::Repeated("client_id"));
                }
                let value = decode(value).ok_or(FormError::NotUtf8("client_id"))?;
                info.client_id = Some(value);
            }
            "client_assertion" => info.has_client_assertion = true,
            "client_secret" => info.has_client_secret = true,
            _ => {}
        }
    }
    Ok(info)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_client_id_with_form_decoding() {
        let f = parse(b"grant_type=client_credentials&client_id=bank%2B1+x&scope=a").unwrap();
        assert_eq!(f.client_id.as_deref(), Some("bank+1 x"));
        assert!(!f.has_client_assertion);
    }

    #[test]
    fn plain_text_is_borrowed_and_escapes_are_decoded() {
        let f = parse(b"client_id=bank-1&scope=a").unwrap();
        assert!(matches!(f.client_id, Some(Cow::Borrowed("bank-1"))));
        let f = parse(b"client%5Fid=bank%2D1").unwrap();
        assert!(matches!(f.client_id.as_deref(), Some("bank-1")));
        // Not UTF-8 without any escape is refused like an escaped one.
        assert_eq!(
            parse(b"client_id=\xff"),
            Err(FormError::NotUtf8("client_id"))
        );
    }

    #[test]
    fn missing_repeated_and_bad_utf8() {
        assert_eq!(parse(b"grant_type=x").unwrap().client_id, None);
        assert_eq!(parse(b"").unwrap().client_id, None);
        assert_eq!(
            parse(b"client_id=a&client_id=b"),
            Err(FormError::Repeated("client_id"))
        );
        assert_eq!(
            parse(b"client_id=%FF"),
            Err(FormError::NotUtf8("client_id"))
        );
        assert!(
            parse(b"client_assertion=x.y.z")
                .unwrap()
                .has_client_assertion
        );
        let f = parse(b"client_id=a&client_secret=s").unwrap();
        assert!(f.has_client_secret && !f.has_client_assertion);
    }
}
