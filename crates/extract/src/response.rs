//! The error responses of every certbound layer, built in this one place:
//! OAuth 2.0 errors (RFC 6749 §5.2, RFC 7591 §3.2.2) as [`OAuthError`], and
//! gRPC errors ([`grpc_error`]) for requests that are gRPC ([`is_grpc`]).
//!
//! certbound-auth and certbound-binding re-export [`OAuthError`].
//!
//! An [`OAuthError`] is a status code, an error code and a short description
//! for the client. Its response is JSON with `Cache-Control: no-store` and
//! `Pragma: no-cache`, as RFC 6749 §5.1 asks of token endpoint responses.
//!
//! ```
//! use certbound_extract::response::OAuthError;
//!
//! let err = OAuthError::invalid_client("client certificate required");
//! assert_eq!(err.status(), http::StatusCode::UNAUTHORIZED);
//! assert_eq!(
//!     err.to_json(),
//!     r#"{"error":"invalid_client","error_description":"client certificate required"}"#
//! );
//! let response: http::Response<bytes::Bytes> = err.into_response();
//! assert_eq!(response.headers()["cache-control"], "no-store");
//! ```

use std::borrow::Cow;
use std::fmt;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Response, StatusCode, header};
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};

/// An OAuth 2.0 error: HTTP status, `error` code and `error_description`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    status: StatusCode,
    code: Cow<'static, str>,
    description: Option<Cow<'static, str>>,
}

impl OAuthError {
    /// An error with any status, code and description.
    pub fn new(
        status: StatusCode,
        code: impl Into<Cow<'static, str>>,
        description: Option<Cow<'static, str>>,
    ) -> Self {
        Self {
            status,
            code: code.into(),
            description,
        }
    }

    /// `400 invalid_request` (RFC 6749 §5.2).
    pub fn invalid_request(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            Some(description.into()),
        )
    }

    /// `401 invalid_client` (RFC 6749 §5.2).
    pub fn invalid_client(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            Some(description.into()),
        )
    }

    /// `400 invalid_client_metadata` (RFC 7591 §3.2.2).
    pub fn invalid_client_metadata(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_client_metadata",
            Some(description.into()),
        )
    }

    /// `413` with `invalid_request`: the request body is larger than allowed.
    pub fn payload_too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "invalid_request",
            Some(format!("request body larger than {limit} bytes").into()),
        )
    }

    /// `500 server_error`: something on the server's side failed.
    pub fn server_error(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            Some(description.into()),
        )
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The `error` code.
    pub fn code(&self) -> &str {
        &self.code
    }

    /// The `error_description`, if any.
    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }

    /// The JSON body.
    pub fn to_json(&self) -> String {
        let mut body = serde_json::Map::new();
        body.insert("error".into(), self.code.as_ref().into());
        if let Some(d) = &self.description {
            body.insert("error_description".into(), d.as_ref().into());
        }
        serde_json::Value::Object(body).to_string()
    }

    /// The HTTP response, with any body type that can be made from bytes.
    pub fn into_response<B: From<Bytes>>(self) -> Response<B> {
        let mut response = Response::new(B::from(Bytes::from(self.to_json())));
        *response.status_mut() = self.status;
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
        response
    }
}

impl fmt::Display for OAuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.description {
            Some(d) => write!(f, "{}: {d}", self.code),
            None => f.write_str(&self.code),
        }
    }
}

impl std::error::Error for OAuthError {}

/// Whether a request is gRPC (`content-type: application/grpc`,
/// `application/grpc+proto`, `application/grpc-web`...): such a request is
/// answered with a gRPC status, not an HTTP error page.
pub fn is_grpc(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.as_bytes().get(..16))
        .is_some_and(|prefix| prefix.eq_ignore_ascii_case(b"application/grpc"))
}

/// A trailers-only gRPC error: HTTP 200, `content-type: application/grpc`,
/// `grpc-status` and the percent-encoded `grpc-message`.
pub fn grpc_error<B: Default>(grpc_status: u32, message: &str) -> Response<B> {
    let mut response = Response::new(B::default());
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/grpc"),
    );
    headers.insert("grpc-status", HeaderValue::from(grpc_status));
    if let Ok(v) = HeaderValue::from_str(&grpc_percent_encode(message)) {
        headers.insert("grpc-message", v);
    }
    response
}

/// What `grpc-message` percent-encodes (gRPC over HTTP/2: every byte
/// outside 0x20-0x7E, and `%`; percent-encoding always encodes non-ASCII).
const GRPC_MESSAGE: &AsciiSet = &CONTROLS.add(b'%');

fn grpc_percent_encode(s: &str) -> String {
    utf8_percent_encode(s, GRPC_MESSAGE).to_string()
}

impl axum_core::response::IntoResponse for OAuthError {
    fn into_response(self) -> axum_core::response::Response {
        OAuthError::into_response(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn response_has_json_and_no_store() {
        let r: Response<Bytes> =
            OAuthError::invalid_request("client_id is required").into_response();
        assert_eq!(r.status(), 400);
        assert_eq!(r.headers()["content-type"], "application/json");
        assert_eq!(r.headers()["cache-control"], "no-store");
        assert_eq!(r.headers()["pragma"], "no-cache");
        let v: serde_json::Value = serde_json::from_slice(r.body()).unwrap();
        assert_eq!(v["error"], "invalid_request");
        assert_eq!(v["error_description"], "client_id is required");
    }

    #[test]
    fn grpc_requests_are_recognised_and_answered_with_a_status() {
        let mut headers = HeaderMap::new();
        assert!(!is_grpc(&headers));
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/GRPC+proto"),
        );
        assert!(is_grpc(&headers));
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        assert!(!is_grpc(&headers));
        let r: Response<()> = grpc_error(16, "50% bad\né");
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["grpc-status"], "16");
        assert_eq!(r.headers()["grpc-message"], "50%25 bad%0A%C3%A9");
    }

    #[test]
    fn description_is_optional_and_escaped() {
        let e = OAuthError::new(StatusCode::BAD_REQUEST, "x", None);
        assert_eq!(e.to_json(), r#"{"error":"x"}"#);
        let e = OAuthError::invalid_client("a \"quoted\" thing");
        assert_eq!(
            e.to_json(),
            r#"{"error":"invalid_client","error_description":"a \"quoted\" thing"}"#
        );
    }
}
