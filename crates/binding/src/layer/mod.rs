//! [`BoundTokenLayer`]: accept a bearer token only when it is valid and bound
//! to the certificate the request came with (RFC 8705 §3, RFC 6750).

use http::HeaderMap;
use http::header::AUTHORIZATION;

use crate::OAuthError;

mod future;
#[allow(clippy::module_inception)]
mod layer;
mod service;

pub use future::ResponseFuture;
pub use layer::BoundTokenLayer;
pub use service::BoundToken;

/// The bearer token of the `Authorization` header (RFC 6750 §2.1).
///
/// No header, or another scheme: [`OAuthError::token_required`]. More than one
/// `Authorization` header, a value that is not ASCII, or a bearer
/// credential that is not `b64token` syntax: `invalid_request`.
pub fn bearer_token(headers: &HeaderMap) -> Result<&str, OAuthError> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Err(OAuthError::token_required());
    };
    if values.next().is_some() {
        return Err(OAuthError::invalid_request(
            "more than one Authorization header",
        ));
    }
    let Ok(value) = value.to_str() else {
        return Err(OAuthError::invalid_request(
            "the Authorization header is not ASCII",
        ));
    };
    let (scheme, credential) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(OAuthError::token_required());
    }
    let token = credential.trim_matches(' ');
    if is_b64token(token) {
        Ok(token)
    } else {
        Err(OAuthError::invalid_request(
            "the bearer token is empty or not b64token syntax",
        ))
    }
}

/// RFC 6750 §2.1: `b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" /
/// "+" / "/" ) *"="`.
fn is_b64token(token: &str) -> bool {
    let body = token.trim_end_matches('=');
    !body.is_empty()
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(AUTHORIZATION, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn bearer_scheme_is_case_insensitive() {
        assert_eq!(
            bearer_token(&headers(&["Bearer abc.def-_~+/="])),
            Ok("abc.def-_~+/=")
        );
        assert_eq!(bearer_token(&headers(&["bEaReR x"])), Ok("x"));
    }

    #[test]
    fn missing_or_other_scheme_is_no_token() {
        assert_eq!(
            bearer_token(&headers(&[])),
            Err(OAuthError::token_required())
        );
        assert_eq!(
            bearer_token(&headers(&["Basic dXNlcjpwYXNz"])),
            Err(OAuthError::token_required())
        );
    }

    #[test]
    fn malformed_bearer_credentials_are_invalid_requests() {
        for bad in [
            "Bearer",
            "Bearer ",
            "Bearer a b",
            "Bearer a\"b",
            "Bearer =abc",
        ] {
            let err = bearer_token(&headers(&[bad])).unwrap_err();
            assert_eq!(err.status(), 400, "{bad}");
        }
        assert_eq!(
            bearer_token(&headers(&["Bearer a", "Bearer b"]))
                .unwrap_err()
                .status(),
            400
        );
    }

    #[test]
    fn b64token_characters_are_exactly_rfc_6750s() {
        for b in 0..=255u8 {
            let expected = b.is_ascii_alphanumeric() || b"-._~+/".contains(&b);
            let token = format!("ab{}cd", char::from(b));
            assert_eq!(is_b64token(&token), expected, "{b}");
        }
        assert_eq!(
            bearer_token(&headers(&["Bearer ==="]))
                .unwrap_err()
                .status(),
            400
        );
    }
}
