//! The error answers: RFC 6750 bearer-token challenges (HTTP and gRPC) and
//! RFC 6749 §5.2 token-endpoint errors. Every response certbound-binding
//! sends is built here.

use std::borrow::Cow;
use std::sync::Arc;

use axum_core::response::{IntoResponse, Response as AxumResponse};
use certbound_extract::response::grpc_error;
use http::header::{CACHE_CONTROL, WWW_AUTHENTICATE};
use http::{HeaderValue, Response, StatusCode};

pub use certbound_extract::response::OAuthError;

/// gRPC status UNAUTHENTICATED.
const GRPC_UNAUTHENTICATED: u32 = 16;
/// gRPC status UNAVAILABLE.
const GRPC_UNAVAILABLE: u32 = 14;
/// gRPC status INVALID_ARGUMENT.
const GRPC_INVALID_ARGUMENT: u32 = 3;
/// gRPC status PERMISSION_DENIED.
const GRPC_PERMISSION_DENIED: u32 = 7;

/// The kind of a bearer-token refusal (RFC 6750 §3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BearerErrorCode {
    /// The request carried no bearer token: 401 with a bare challenge and no
    /// error code (RFC 6750 §3.1).
    NoToken,
    /// `invalid_request` (400): the `Authorization` header is malformed.
    InvalidRequest,
    /// `invalid_token` (401): expired, revoked, malformed, wrongly signed,
    /// or not bound to the presented certificate.
    InvalidToken,
    /// `insufficient_scope` (403).
    InsufficientScope,
    /// The token could not be checked right now (the introspection endpoint
    /// did not answer): 503, no challenge.
    TemporarilyUnavailable,
}

impl BearerErrorCode {
    /// The RFC 6750 `error` value, if this kind has one.
    pub fn as_str(self) -> Option<&'static str> {
        match self {
            BearerErrorCode::NoToken | BearerErrorCode::TemporarilyUnavailable => None,
            BearerErrorCode::InvalidRequest => Some("invalid_request"),
            BearerErrorCode::InvalidToken => Some("invalid_token"),
            BearerErrorCode::InsufficientScope => Some("insufficient_scope"),
        }
    }

    /// The HTTP status RFC 6750 §3.1 gives this kind.
    pub fn status(self) -> StatusCode {
        match self {
            BearerErrorCode::NoToken | BearerErrorCode::InvalidToken => StatusCode::UNAUTHORIZED,
            BearerErrorCode::InvalidRequest => StatusCode::BAD_REQUEST,
            BearerErrorCode::InsufficientScope => StatusCode::FORBIDDEN,
            BearerErrorCode::TemporarilyUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The gRPC status for this kind.
    pub fn grpc_status(self) -> u32 {
        match self {
            BearerErrorCode::NoToken | BearerErrorCode::InvalidToken => GRPC_UNAUTHENTICATED,
            BearerErrorCode::InvalidRequest => GRPC_INVALID_ARGUMENT,
            BearerErrorCode::InsufficientScope => GRPC_PERMISSION_DENIED,
            BearerErrorCode::TemporarilyUnavailable => GRPC_UNAVAILABLE,
        }
    }
}

/// A refused bearer token: the RFC 6750 answer (status and
/// `WWW-Authenticate: Bearer ...`), or its gRPC counterpart.
///
/// The description is short and meant for the client; the detailed reason
/// goes to `tracing` where the refusal is decided.
///
/// ```
/// use certbound_binding::BearerError;
///
/// let e = BearerError::invalid_token("the token has expired");
/// assert_eq!(e.status(), 401);
/// assert_eq!(
///     e.www_authenticate().unwrap(),
///     r#"Bearer error="invalid_token", error_description="the token has expired""#
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BearerError {
    code: BearerErrorCode,
    description: Cow<'static, str>,
    realm: Option<Arc<str>>,
}

impl BearerError {
    fn new(code: BearerErrorCode, description: impl Into<Cow<'static, str>>) -> Self {
        Self {
            code,
            description: description.into(),
            realm: None,
        }
    }

    /// No bearer token on the request.
    pub fn no_token() -> Self {
        Self::new(BearerErrorCode::NoToken, "a bearer token is required")
    }

    /// `invalid_request`.
    pub fn invalid_request(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(BearerErrorCode::InvalidRequest, description)
    }

    /// `invalid_token`.
    pub fn invalid_token(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(BearerErrorCode::InvalidToken, description)
    }

    /// `insufficient_scope`.
    pub fn insufficient_scope(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(BearerErrorCode::InsufficientScope, description)
    }

    /// The token could not be checked now.
    pub fn temporarily_unavailable(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(BearerErrorCode::TemporarilyUnavailable, description)
    }

    /// Adds a `realm` to the challenge.
    pub fn with_realm(mut self, realm: impl Into<Arc<str>>) -> Self {
        self.realm = Some(realm.into());
        self
    }

    /// The kind of refusal.
    pub fn code(&self) -> BearerErrorCode {
        self.code
    }

    /// The short description sent to the client.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.code.status()
    }

    /// The `WWW-Authenticate` value, or `None` for the kinds that send no
    /// challenge (503).
    pub fn www_authenticate(&self) -> Option<HeaderValue> {
        if self.code == BearerErrorCode::TemporarilyUnavailable {
            return None;
        }
        let mut params = Vec::new();
        if let Some(realm) = &self.realm {
            params.push(format!("realm=\"{}\"", quoted_safe(realm)));
        }
        if let Some(code) = self.code.as_str() {
            params.push(format!("error=\"{code}\""));
            params.push(format!(
                "error_description=\"{}\"",
                quoted_safe(&self.description)
            ));
        }
        let value = if params.is_empty() {
            "Bearer".to_owned()
        } else {
            format!("Bearer {}", params.join(", "))
        };
        HeaderValue::from_str(&value).ok()
    }

    /// The HTTP answer: the status, `WWW-Authenticate`, `Cache-Control:
    /// no-store`, and an empty body.
    pub fn to_http_response<B: Default>(&self) -> Response<B> {
        let mut response = Response::new(B::default());
        *response.status_mut() = self.status();
        if let Some(value) = self.www_authenticate() {
            response.headers_mut().insert(WWW_AUTHENTICATE, value);
        }
        response
            .headers_mut()
            .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }

    /// The gRPC answer: a trailers-only response (HTTP 200,
    /// `content-type: application/grpc`, `grpc-status` and a percent-encoded
    /// `grpc-message`), `UNAUTHENTICATED` for a missing or refused token.
    pub fn to_grpc_response<B: Default>(&self) -> Response<B> {
        let mut response = grpc_error(self.code.grpc_status(), &self.description);
        if let Some(value) = self.www_authenticate() {
            response.headers_mut().insert(WWW_AUTHENTICATE, value);
        }
        response
    }

    /// [`to_grpc_response`](Self::to_grpc_response) when `grpc`, else
    /// [`to_http_response`](Self::to_http_response).
    pub fn to_response<B: Default>(&self, grpc: bool) -> Response<B> {
        if grpc {
            self.to_grpc_response()
        } else {
            self.to_http_response()
        }
    }
}

impl std::fmt::Display for BearerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.code.as_str() {
            Some(code) => write!(f, "{code}: {}", self.description),
            None => f.write_str(&self.description),
        }
    }
}

impl std::error::Error for BearerError {}

impl IntoResponse for BearerError {
    fn into_response(self) -> AxumResponse {
        self.to_http_response()
    }
}

/// RFC 6750 §3: `error_description` and `realm` values may not contain `"`
/// or `\`, nor anything outside printable ASCII.
fn quoted_safe(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '"' | '\\' => '\'',
            c if (' '..='~').contains(&c) => c,
            _ => '?',
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::header::CONTENT_TYPE;

    #[test]
    fn bare_challenge_without_token() {
        let r: Response<()> = BearerError::no_token().to_http_response();
        assert_eq!(r.status(), 401);
        assert_eq!(r.headers()[WWW_AUTHENTICATE], "Bearer");
        let r: Response<()> = BearerError::no_token().with_realm("api").to_http_response();
        assert_eq!(r.headers()[WWW_AUTHENTICATE], "Bearer realm=\"api\"");
    }

    #[test]
    fn description_cannot_break_out_of_the_quoted_string() {
        let e = BearerError::invalid_token("bad \"quote\" \\ and é");
        assert_eq!(
            e.www_authenticate().unwrap(),
            "Bearer error=\"invalid_token\", error_description=\"bad 'quote' ' and ?\""
        );
    }

    #[test]
    fn grpc_answer_is_unauthenticated_with_encoded_message() {
        let r: Response<()> = BearerError::invalid_token("100% wrong").to_grpc_response();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["grpc-status"], "16");
        assert_eq!(r.headers()["grpc-message"], "100%25 wrong");
        assert_eq!(r.headers()[CONTENT_TYPE], "application/grpc");
    }

    #[test]
    fn invalid_request_is_400_and_unavailable_has_no_challenge() {
        assert_eq!(BearerError::invalid_request("x").status(), 400);
        let e = BearerError::temporarily_unavailable("later");
        assert_eq!(e.status(), 503);
        assert!(e.www_authenticate().is_none());
    }
}
