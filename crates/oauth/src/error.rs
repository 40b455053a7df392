//! [`OAuthError`]: every refusal certbound sends, and how it is written.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Response, StatusCode, header};
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};

/// An OAuth 2.0 error: an HTTP status, an `error` code and a short
/// `error_description` for the client.
///
/// There is a constructor for every code RFC 6749 (§4.1.2.1, §5.2), RFC 6750
/// (§3.1) and RFC 7591 (§3.2.2) define. The description is what the client
/// reads: keep the precise reason for a refusal in `tracing`, where the
/// refusal is decided.
///
/// Every certbound layer answers a refusal the same way,
/// [`response_for`](Self::response_for) the request: the gRPC form for a
/// gRPC request, the RFC 6750 `WWW-Authenticate` challenge for a resource
/// server's refusal, else the JSON body of RFC 6749 §5.2. A handler returns
/// it through [`into_response`](Self::into_response) (axum's
/// `IntoResponse`), which is the JSON form.
///
/// ```
/// use certbound_oauth::OAuthError;
///
/// let e = OAuthError::invalid_grant("the authorization code has expired");
/// assert_eq!(e.status(), 400);
/// assert_eq!(e.code(), Some("invalid_grant"));
/// assert_eq!(
///     e.to_json(),
///     r#"{"error":"invalid_grant","error_description":"the authorization code has expired"}"#
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    status: StatusCode,
    code: Option<Cow<'static, str>>,
    description: Option<Cow<'static, str>>,
    realm: Option<Arc<str>>,
    bearer: bool,
}

/// gRPC status codes (gRPC's `code.proto`).
const GRPC_INVALID_ARGUMENT: u32 = 3;
const GRPC_PERMISSION_DENIED: u32 = 7;
const GRPC_INTERNAL: u32 = 13;
const GRPC_UNAVAILABLE: u32 = 14;
const GRPC_UNAUTHENTICATED: u32 = 16;

/// What `grpc-message` percent-encodes (gRPC over HTTP/2: every byte
/// outside 0x20-0x7E, and `%`; percent-encoding always encodes non-ASCII).
const GRPC_MESSAGE: &AsciiSet = &CONTROLS.add(b'%');

macro_rules! constructors {
    ($($(#[$doc:meta])* $name:ident => $status:ident;)*) => {
        $(
            $(#[$doc])*
            pub fn $name(description: impl Into<Cow<'static, str>>) -> Self {
                Self::new(StatusCode::$status, stringify!($name), Some(description.into()))
            }
        )*
    };
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
            code: Some(code.into()),
            description,
            realm: None,
            bearer: false,
        }
    }

    constructors! {
        /// `400 invalid_request` (RFC 6749 §5.2, RFC 6750 §3.1): a parameter
        /// is missing, repeated or malformed, or more than one
        /// authentication method was used.
        invalid_request => BAD_REQUEST;
        /// `401 invalid_client` (RFC 6749 §5.2): client authentication
        /// failed.
        invalid_client => UNAUTHORIZED;
        /// `400 invalid_grant` (RFC 6749 §5.2): the grant or refresh token
        /// is invalid, expired, revoked or was issued to another client (or
        /// bound to another certificate, RFC 8705 §4).
        invalid_grant => BAD_REQUEST;
        /// `400 unauthorized_client` (RFC 6749 §5.2): the client may not use
        /// this grant type.
        unauthorized_client => BAD_REQUEST;
        /// `400 unsupported_grant_type` (RFC 6749 §5.2).
        unsupported_grant_type => BAD_REQUEST;
        /// `400 invalid_scope` (RFC 6749 §5.2).
        invalid_scope => BAD_REQUEST;
        /// `403 access_denied` (RFC 6749 §4.1.2.1): the resource owner or
        /// the authorization server denied the request.
        access_denied => FORBIDDEN;
        /// `400 unsupported_response_type` (RFC 6749 §4.1.2.1).
        unsupported_response_type => BAD_REQUEST;
        /// `500 server_error` (RFC 6749 §4.1.2.1): something on the server's
        /// side failed.
        server_error => INTERNAL_SERVER_ERROR;
        /// `503 temporarily_unavailable` (RFC 6749 §4.1.2.1): the request
        /// cannot be judged now (an introspection endpoint or a key set that
        /// cannot be reached); a resource server sends it without a
        /// challenge.
        temporarily_unavailable => SERVICE_UNAVAILABLE;
        /// `401 invalid_token` (RFC 6750 §3.1): the access token is
        /// expired, revoked, malformed, wrongly signed or not bound to the
        /// presented certificate.
        invalid_token => UNAUTHORIZED;
        /// `403 insufficient_scope` (RFC 6750 §3.1).
        insufficient_scope => FORBIDDEN;
        /// `400 invalid_redirect_uri` (RFC 7591 §3.2.2).
        invalid_redirect_uri => BAD_REQUEST;
        /// `400 invalid_client_metadata` (RFC 7591 §3.2.2): a registered
        /// value is invalid; the description names the field.
        invalid_client_metadata => BAD_REQUEST;
        /// `400 invalid_software_statement` (RFC 7591 §3.2.2).
        invalid_software_statement => BAD_REQUEST;
        /// `400 unapproved_software_statement` (RFC 7591 §3.2.2).
        unapproved_software_statement => BAD_REQUEST;
    }

    /// `401` with a bare `Bearer` challenge and no error code: the request
    /// carried no access token (RFC 6750 §3.1: "the resource server SHOULD
    /// NOT include an error code").
    pub fn token_required() -> Self {
        Self {
            status: StatusCode::UNAUTHORIZED,
            code: None,
            description: Some(Cow::Borrowed("a bearer token is required")),
            realm: None,
            bearer: true,
        }
    }

    /// `413` with `invalid_request`: the request body is larger than allowed.
    pub fn payload_too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "invalid_request",
            Some(format!("request body larger than {limit} bytes").into()),
        )
    }

    /// Makes this a resource server's refusal (RFC 6750 §3), answered with
    /// a `Bearer` challenge whatever its code: a malformed `Authorization`
    /// header is `invalid_request` with a challenge. A server-side failure
    /// (5xx) still sends none.
    pub fn bearer_challenge(mut self) -> Self {
        self.bearer = true;
        self
    }

    /// Adds a `realm` to the `WWW-Authenticate` challenge (RFC 6750 §3);
    /// implies [`bearer_challenge`](Self::bearer_challenge).
    pub fn with_realm(mut self, realm: impl Into<Arc<str>>) -> Self {
        self.realm = Some(realm.into());
        self.bearer_challenge()
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The `error` code; `None` only for [`token_required`](Self::token_required).
    pub fn code(&self) -> Option<&str> {
        self.code.as_deref()
    }

    /// The `error_description`, if any.
    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }

    /// Whether this carries a `WWW-Authenticate` challenge: one of RFC
    /// 6750's own answers (`invalid_token`, `insufficient_scope`, no token),
    /// or a refusal marked with [`bearer_challenge`](Self::bearer_challenge).
    pub fn is_bearer_challenge(&self) -> bool {
        self.bearer
            || matches!(
                self.code.as_deref(),
                None | Some("invalid_token" | "insufficient_scope")
            )
    }

    /// The JSON body of RFC 6749 §5.2: `error` and `error_description`.
    pub fn to_json(&self) -> String {
        let mut body = serde_json::Map::new();
        if let Some(code) = &self.code {
            body.insert("error".into(), code.as_ref().into());
        }
        if let Some(d) = &self.description {
            body.insert("error_description".into(), d.as_ref().into());
        }
        serde_json::Value::Object(body).to_string()
    }

    /// The `WWW-Authenticate: Bearer ...` value (RFC 6750 §3), or `None`
    /// for a server-side failure (5xx), which sends no challenge.
    pub fn www_authenticate(&self) -> Option<HeaderValue> {
        if self.status.is_server_error() {
            return None;
        }
        let mut params = Vec::new();
        if let Some(realm) = &self.realm {
            params.push(format!("realm=\"{}\"", quoted_safe(realm)));
        }
        if let Some(code) = &self.code {
            params.push(format!("error=\"{}\"", quoted_safe(code)));
            if let Some(d) = &self.description {
                params.push(format!("error_description=\"{}\"", quoted_safe(d)));
            }
        }
        let value = if params.is_empty() {
            "Bearer".to_owned()
        } else {
            format!("Bearer {}", params.join(", "))
        };
        HeaderValue::from_str(&value).ok()
    }

    /// The RFC 6749 §5.2 answer: the status, the JSON body,
    /// `Content-Type: application/json`, `Cache-Control: no-store` and
    /// `Pragma: no-cache` (plus the challenge for the RFC 6750 codes).
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
        if self.is_bearer_challenge()
            && let Some(value) = self.www_authenticate()
        {
            headers.insert(header::WWW_AUTHENTICATE, value);
        }
        response
    }

    /// The answer to a request with `request_headers`: the one way every
    /// certbound layer turns a refusal into a response.
    ///
    /// - a gRPC request ([`is_grpc`]): a trailers-only gRPC status (HTTP
    ///   200, `content-type: application/grpc`, `grpc-status` and the
    ///   percent-encoded `grpc-message`), with the challenge if any;
    /// - a `WWW-Authenticate` challenge
    ///   ([`is_bearer_challenge`](Self::is_bearer_challenge), not 5xx): the
    ///   status, the challenge, `Cache-Control: no-store` and no body (RFC
    ///   6750 §3);
    /// - otherwise the JSON answer of [`into_response`](Self::into_response).
    ///
    /// ```
    /// use certbound_oauth::OAuthError;
    /// use http::{HeaderMap, Response};
    ///
    /// let grpc: HeaderMap = [(http::header::CONTENT_TYPE, "application/grpc".parse().unwrap())]
    ///     .into_iter()
    ///     .collect();
    /// let r: Response<bytes::Bytes> = OAuthError::invalid_client("no").response_for(&grpc);
    /// assert_eq!(r.headers()["grpc-status"], "16");
    ///
    /// let r: Response<bytes::Bytes> =
    ///     OAuthError::invalid_token("expired").response_for(&HeaderMap::new());
    /// assert_eq!(r.status(), 401);
    /// assert!(r.body().is_empty());
    /// ```
    pub fn response_for<B: From<Bytes>>(self, request_headers: &HeaderMap) -> Response<B> {
        let challenge = if self.is_bearer_challenge() {
            self.www_authenticate()
        } else {
            None
        };
        let mut response = if is_grpc(request_headers) {
            self.grpc_response()
        } else if challenge.is_some() {
            let mut response = Response::new(B::from(Bytes::new()));
            *response.status_mut() = self.status;
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        } else {
            return self.into_response();
        };
        if let Some(value) = challenge {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, value);
        }
        response
    }

    /// The gRPC status for this error: `UNAUTHENTICATED` for a refused
    /// client or token, `PERMISSION_DENIED` for a scope or a denial,
    /// `UNAVAILABLE`, `INTERNAL`, else `INVALID_ARGUMENT`.
    pub fn grpc_status(&self) -> u32 {
        match self.code.as_deref() {
            None | Some("invalid_token" | "invalid_client") => GRPC_UNAUTHENTICATED,
            Some("insufficient_scope" | "access_denied" | "unauthorized_client") => {
                GRPC_PERMISSION_DENIED
            }
            Some("temporarily_unavailable") => GRPC_UNAVAILABLE,
            Some("server_error") => GRPC_INTERNAL,
            Some(_) => GRPC_INVALID_ARGUMENT,
        }
    }

    /// A trailers-only gRPC answer: HTTP 200, `content-type:
    /// application/grpc`, `grpc-status` and the percent-encoded
    /// `grpc-message` (the description).
    fn grpc_response<B: From<Bytes>>(&self) -> Response<B> {
        let mut response = Response::new(B::from(Bytes::new()));
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/grpc"),
        );
        headers.insert("grpc-status", HeaderValue::from(self.grpc_status()));
        let message = self.description().or(self.code()).unwrap_or_default();
        if let Ok(v) =
            HeaderValue::from_str(&utf8_percent_encode(message, GRPC_MESSAGE).to_string())
        {
            headers.insert("grpc-message", v);
        }
        response
    }
}

impl fmt::Display for OAuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.code, &self.description) {
            (Some(c), Some(d)) => write!(f, "{c}: {d}"),
            (Some(c), None) => f.write_str(c),
            (None, Some(d)) => f.write_str(d),
            (None, None) => f.write_str("bearer token required"),
        }
    }
}

impl std::error::Error for OAuthError {}

impl axum_core::response::IntoResponse for OAuthError {
    /// [`OAuthError::into_response`].
    fn into_response(self) -> axum_core::response::Response {
        OAuthError::into_response(self)
    }
}

/// Whether a request is gRPC (`content-type: application/grpc`,
/// `application/grpc+proto`, `application/grpc-web`...): such a request is
/// answered with a gRPC status, not an HTTP error page.
pub fn is_grpc(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.as_bytes().get(..16))
        .is_some_and(|prefix| prefix.eq_ignore_ascii_case(b"application/grpc"))
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

    fn grpc_request() -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/grpc+proto"),
        );
        h
    }

    #[test]
    fn every_constructor_has_its_rfc_code_and_status() {
        let all = [
            (OAuthError::invalid_request("d"), "invalid_request", 400),
            (OAuthError::invalid_client("d"), "invalid_client", 401),
            (OAuthError::invalid_grant("d"), "invalid_grant", 400),
            (
                OAuthError::unauthorized_client("d"),
                "unauthorized_client",
                400,
            ),
            (
                OAuthError::unsupported_grant_type("d"),
                "unsupported_grant_type",
                400,
            ),
            (OAuthError::invalid_scope("d"), "invalid_scope", 400),
            (OAuthError::access_denied("d"), "access_denied", 403),
            (
                OAuthError::unsupported_response_type("d"),
                "unsupported_response_type",
                400,
            ),
            (OAuthError::server_error("d"), "server_error", 500),
            (
                OAuthError::temporarily_unavailable("d"),
                "temporarily_unavailable",
                503,
            ),
            (OAuthError::invalid_token("d"), "invalid_token", 401),
            (
                OAuthError::insufficient_scope("d"),
                "insufficient_scope",
                403,
            ),
            (
                OAuthError::invalid_redirect_uri("d"),
                "invalid_redirect_uri",
                400,
            ),
            (
                OAuthError::invalid_client_metadata("d"),
                "invalid_client_metadata",
                400,
            ),
            (
                OAuthError::invalid_software_statement("d"),
                "invalid_software_statement",
                400,
            ),
            (
                OAuthError::unapproved_software_statement("d"),
                "unapproved_software_statement",
                400,
            ),
            (OAuthError::payload_too_large(10), "invalid_request", 413),
        ];
        for (e, code, status) in all {
            assert_eq!(e.code(), Some(code));
            assert_eq!(e.status(), status, "{code}");
            let r: Response<Bytes> = e.into_response();
            let v: serde_json::Value = serde_json::from_slice(r.body()).unwrap();
            assert_eq!(v["error"], code);
        }
    }

    #[test]
    fn json_answer_is_never_cached() {
        let r: Response<Bytes> =
            OAuthError::invalid_request("client_id is required").into_response();
        assert_eq!(r.status(), 400);
        assert_eq!(r.headers()["content-type"], "application/json");
        assert_eq!(r.headers()["cache-control"], "no-store");
        assert_eq!(r.headers()["pragma"], "no-cache");
        assert!(r.headers().get("www-authenticate").is_none());
        let v: serde_json::Value = serde_json::from_slice(r.body()).unwrap();
        assert_eq!(v["error_description"], "client_id is required");
        // RFC 6750 codes carry their challenge in the JSON form too.
        let r: Response<Bytes> = OAuthError::invalid_token("expired").into_response();
        assert_eq!(
            r.headers()["www-authenticate"],
            r#"Bearer error="invalid_token", error_description="expired""#
        );
    }

    #[test]
    fn description_is_optional_and_escaped_in_json() {
        let e = OAuthError::new(StatusCode::BAD_REQUEST, "x", None);
        assert_eq!(e.to_json(), r#"{"error":"x"}"#);
        let e = OAuthError::invalid_client("a \"quoted\" thing");
        assert_eq!(
            e.to_json(),
            r#"{"error":"invalid_client","error_description":"a \"quoted\" thing"}"#
        );
    }

    #[test]
    fn no_token_is_a_bare_challenge() {
        let r: Response<Bytes> = OAuthError::token_required().response_for(&HeaderMap::new());
        assert_eq!(r.status(), 401);
        assert_eq!(r.headers()["www-authenticate"], "Bearer");
        assert_eq!(r.headers()["cache-control"], "no-store");
        assert!(r.body().is_empty());
        let r: Response<Bytes> = OAuthError::token_required()
            .with_realm("api")
            .response_for(&HeaderMap::new());
        assert_eq!(r.headers()["www-authenticate"], "Bearer realm=\"api\"");
    }

    #[test]
    fn description_cannot_break_out_of_the_quoted_string() {
        let e = OAuthError::invalid_token("bad \"quote\" \\ and é");
        assert_eq!(
            e.www_authenticate().unwrap(),
            "Bearer error=\"invalid_token\", error_description=\"bad 'quote' ' and ?\""
        );
    }

    #[test]
    fn server_side_failures_send_no_challenge() {
        let e = OAuthError::temporarily_unavailable("later");
        assert!(e.www_authenticate().is_none());
        let r: Response<Bytes> = e.clone().bearer_challenge().response_for(&HeaderMap::new());
        assert_eq!(r.status(), 503);
        assert!(r.headers().get("www-authenticate").is_none());
        assert_eq!(r.headers()["content-type"], "application/json");
    }

    #[test]
    fn a_resource_servers_invalid_request_carries_a_challenge() {
        let plain: Response<Bytes> =
            OAuthError::invalid_request("bad").response_for(&HeaderMap::new());
        assert!(plain.headers().get("www-authenticate").is_none());
        assert_eq!(plain.headers()["content-type"], "application/json");
        let bearer: Response<Bytes> = OAuthError::invalid_request("bad")
            .bearer_challenge()
            .response_for(&HeaderMap::new());
        assert_eq!(bearer.status(), 400);
        assert_eq!(
            bearer.headers()["www-authenticate"],
            r#"Bearer error="invalid_request", error_description="bad""#
        );
        assert!(bearer.body().is_empty());
    }

    #[test]
    fn grpc_requests_get_a_status_with_an_encoded_message() {
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

        let r: Response<Bytes> =
            OAuthError::invalid_token("100% wrong\né").response_for(&grpc_request());
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "application/grpc");
        assert_eq!(r.headers()["grpc-status"], "16");
        assert_eq!(r.headers()["grpc-message"], "100%25 wrong%0A%C3%A9");
        assert!(r.headers().get("www-authenticate").is_some());

        let r: Response<Bytes> =
            OAuthError::invalid_request("bad header").response_for(&grpc_request());
        assert_eq!(r.headers()["grpc-status"], "3");
        assert!(r.headers().get("www-authenticate").is_none());
        assert!(r.body().is_empty());
        let r: Response<Bytes> =
            OAuthError::invalid_request("bad header").response_for(&HeaderMap::new());
        assert_eq!(r.status(), 400);
        assert_eq!(r.headers()["content-type"], "application/json");

        for (e, status) in [
            (OAuthError::token_required(), "16"),
            (OAuthError::insufficient_scope("s"), "7"),
            (OAuthError::temporarily_unavailable("s"), "14"),
            (OAuthError::server_error("s"), "13"),
        ] {
            let r: Response<Bytes> = e.response_for(&grpc_request());
            assert_eq!(r.headers()["grpc-status"], status);
        }
    }
}
