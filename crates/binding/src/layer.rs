//! [`BoundTokenLayer`]: accept a bearer token only when it is valid and bound
//! to the certificate the request came with (RFC 8705 §3, RFC 6750).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use certbound_extract::ClientCert;
use http::header::AUTHORIZATION;
use http::{HeaderMap, Request, Response};
use tower_layer::Layer;
use tower_service::Service;

use pin_project_lite::pin_project;

use crate::{
    AccessTokenValidator, BearerError, Binding, BindingMismatch, TokenClaims, TokenError,
    VerifiedToken, verify_binding,
};

/// Applies [`BoundToken`] to a service.
///
/// For each request: reads the bearer token from `Authorization` (RFC 6750
/// §2.1, scheme case-insensitive), validates it with `V`, then checks its
/// `cnf` against the [`ClientCert`] in the request extensions (put there by
/// certbound-extract's `ClientCertLayer`, which must run first) with
/// [`verify_binding`]. On success the inner service gets the request with a
/// [`VerifiedToken`] in its extensions; otherwise the answer is RFC 6750's:
///
/// | case | status | `WWW-Authenticate` |
/// | --- | --- | --- |
/// | no token | 401 | `Bearer` |
/// | malformed `Authorization` | 400 | `Bearer error="invalid_request", ...` |
/// | invalid token, `cnf` without certificate, thumbprint mismatch | 401 | `Bearer error="invalid_token", ...` |
/// | token not bound, with [`require_confirmation`](Self::require_confirmation) | 401 | `Bearer error="invalid_token", ...` |
/// | introspection call failed | 503 | none |
///
/// gRPC requests (`content-type: application/grpc*`) get the same refusals
/// as a trailers-only gRPC response: `grpc-status: 16` (UNAUTHENTICATED) and
/// a `grpc-message`. In tonic, put it after `ClientCertLayer` in
/// `Server::builder().layer(ServiceBuilder::new().layer(ClientCertLayer::tls()).layer(BoundTokenLayer::new(v)).into_inner())`.
///
/// With axum, `Router::layer` (below) is the simplest; where every request
/// counts, wrap the router instead
/// (`ServiceBuilder::new().layer(ClientCertLayer::tls()).layer(BoundTokenLayer::new(v)).service(router)`):
/// axum boxes a layered route and clones the box on every request, which
/// the load benchmark shows as several percent of a small handler's
/// throughput.
///
/// ```
/// use certbound_binding::{BoundTokenLayer, JwtValidator};
/// # fn validator() -> JwtValidator {
/// #     let key = josekit::jws::ES256.generate_key_pair().unwrap();
/// #     let mut jwks = josekit::jwk::JwkSet::new();
/// #     jwks.push_key(key.to_jwk_public_key());
/// #     JwtValidator::builder(&jwks).build().unwrap()
/// # }
///
/// let app: axum::Router = axum::Router::new()
///     .route("/resource", axum::routing::get(|| async { "ok" }))
///     .layer(BoundTokenLayer::new(validator()).require_confirmation(true));
/// # let _ = app;
/// ```
pub struct BoundTokenLayer<V> {
    validator: Arc<V>,
    config: Arc<Config>,
}

#[derive(Debug, Clone, Default)]
struct Config {
    require_confirmation: bool,
    realm: Option<Arc<str>>,
}

impl<V> Clone for BoundTokenLayer<V> {
    fn clone(&self) -> Self {
        Self {
            validator: self.validator.clone(),
            config: self.config.clone(),
        }
    }
}

impl<V> fmt::Debug for BoundTokenLayer<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BoundTokenLayer")
            .field("require_confirmation", &self.config.require_confirmation)
            .field("realm", &self.config.realm)
            .finish_non_exhaustive()
    }
}

impl<V: AccessTokenValidator> BoundTokenLayer<V> {
    /// A layer validating tokens with `validator`. Tokens without `cnf` are
    /// accepted as plain bearer tokens unless
    /// [`require_confirmation`](Self::require_confirmation) is set.
    pub fn new(validator: V) -> Self {
        Self::from_arc(Arc::new(validator))
    }

    /// A layer sharing a validator.
    pub fn from_arc(validator: Arc<V>) -> Self {
        Self {
            validator,
            config: Arc::new(Config::default()),
        }
    }

    /// Refuses tokens that are not certificate-bound (no `cnf`).
    pub fn require_confirmation(mut self, require: bool) -> Self {
        Arc::make_mut(&mut self.config).require_confirmation = require;
        self
    }

    /// Adds `realm` to the `WWW-Authenticate` challenges.
    pub fn realm(mut self, realm: impl Into<String>) -> Self {
        Arc::make_mut(&mut self.config).realm = Some(Arc::from(realm.into()));
        self
    }
}

impl<S, V> Layer<S> for BoundTokenLayer<V> {
    type Service = BoundToken<S, V>;

    fn layer(&self, inner: S) -> Self::Service {
        BoundToken {
            inner,
            validator: self.validator.clone(),
            config: self.config.clone(),
        }
    }
}

/// The service of [`BoundTokenLayer`].
pub struct BoundToken<S, V> {
    inner: S,
    validator: Arc<V>,
    config: Arc<Config>,
}

impl<S: Clone, V> Clone for BoundToken<S, V> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            validator: self.validator.clone(),
            config: self.config.clone(),
        }
    }
}

impl<S: fmt::Debug, V> fmt::Debug for BoundToken<S, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BoundToken")
            .field("inner", &self.inner)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

pin_project! {
    /// The response future of [`BoundToken`]: the inner service's own future
    /// when the validator answered at once (see
    /// [`AccessTokenValidator::validate_now`]), a ready refusal, or a boxed
    /// future when the validator had to wait (an introspection call).
    pub struct ResponseFuture<F, R, E> {
        #[pin]
        state: State<F, R, E>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<F, R, E> {
        Inner { #[pin] future: F },
        Refused { response: Option<R> },
        Waiting { future: Pin<Box<dyn Future<Output = Result<R, E>> + Send>> },
    }
}

impl<F, R, E> fmt::Debug for ResponseFuture<F, R, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

impl<F, R, E> Future for ResponseFuture<F, R, E>
where
    F: Future<Output = Result<R, E>>,
{
    type Output = Result<R, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            StateProj::Inner { future } => future.poll(cx),
            StateProj::Refused { response } => match response.take() {
                Some(response) => Poll::Ready(Ok(response)),
                // Polled again after completion: never ready again, as
                // futures in general may not be polled then.
                None => Poll::Pending,
            },
            StateProj::Waiting { future } => future.as_mut().poll(cx),
        }
    }
}

impl Config {
    #[cold]
    #[inline(never)]
    fn refuse<B: Default>(&self, e: BearerError, grpc: bool) -> Response<B> {
        let e = match &self.realm {
            Some(realm) => e.with_realm(realm.clone()),
            None => e,
        };
        e.to_response(grpc)
    }

    /// The refusal `e` of a request with these headers, as the layer's
    /// future.
    fn refused<F, B: Default, E>(
        &self,
        e: BearerError,
        headers: &HeaderMap,
    ) -> ResponseFuture<F, Response<B>, E> {
        ResponseFuture {
            state: State::Refused {
                response: Some(self.refuse(e, is_grpc(headers))),
            },
        }
    }

    /// From the validator's answer and the request's certificate to the
    /// token the handler gets, or the refusal.
    fn decide(
        &self,
        validated: Result<TokenClaims, TokenError>,
        cert: Option<&ClientCert>,
    ) -> Result<VerifiedToken, BearerError> {
        let claims = match validated {
            Ok(claims) => claims,
            Err(e) => return Err(invalid(e)),
        };
        match verify_binding(claims.confirmation(), cert) {
            Ok(Binding::Unbound) if self.require_confirmation => Err(not_bound()),
            Ok(binding) => Ok(VerifiedToken::new(claims, binding)),
            Err(e) => Err(mismatched(e)),
        }
    }
}

// The refusals, out of line: the path of an accepted token stays short.

#[cold]
#[inline(never)]
fn invalid(e: TokenError) -> BearerError {
    e.to_bearer_error()
}

#[cold]
#[inline(never)]
fn not_bound() -> BearerError {
    tracing::debug!("bearer token without cnf refused");
    BindingMismatch::NotBound.to_bearer_error()
}

#[cold]
#[inline(never)]
fn mismatched(e: BindingMismatch) -> BearerError {
    tracing::debug!(reason = %e, "certificate-bound token refused");
    e.to_bearer_error()
}

impl<S, V, ReqBody, ResBody> Service<Request<ReqBody>> for BoundToken<S, V>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    V: AccessTokenValidator,
    ReqBody: Send + 'static,
    ResBody: Default + Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, Response<ResBody>, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        let credential = match bearer_credential(req.headers()) {
            Ok(credential) => credential,
            Err(e) => return self.config.refused(e, req.headers()),
        };
        // A token the validator remembers by its exact bytes passed the
        // syntax check when it was first seen: no second look at its
        // hundreds of bytes.
        let token = match self.validator.recall(credential.token) {
            Some(claims) => return self.answered(req, Ok(claims)),
            None => match credential.checked() {
                Ok(token) => token,
                Err(e) => return self.config.refused(e, req.headers()),
            },
        };
        // The validator answers at once (a JWT, a cache hit): decide here
        // and hand the request to the service that was polled ready.
        if let Some(validated) = self.validator.validate_now(token) {
            return self.answered(req, validated);
        }
        // The validator has to wait: the ready instance goes into the future.
        let token = token.to_owned();
        self.wait(req, token)
    }
}

impl<S, V> BoundToken<S, V>
where
    V: AccessTokenValidator,
{
    /// The future of a request whose token the validator answered at once:
    /// the inner service's, with the [`VerifiedToken`], or the refusal.
    #[inline]
    fn answered<ReqBody, ResBody>(
        &mut self,
        mut req: Request<ReqBody>,
        validated: Result<TokenClaims, TokenError>,
    ) -> ResponseFuture<S::Future, Response<ResBody>, S::Error>
    where
        S: Service<Request<ReqBody>, Response = Response<ResBody>>,
        ResBody: Default,
    {
        let cert = req.extensions().get::<ClientCert>();
        match self.config.decide(validated, cert) {
            Ok(verified) => {
                req.extensions_mut().insert(verified);
                ResponseFuture {
                    state: State::Inner {
                        future: self.inner.call(req),
                    },
                }
            }
            Err(e) => self.config.refused(e, req.headers()),
        }
    }

    /// The future of a request whose token the validator answers later (an
    /// introspection call): out of line, apart from the path that answers
    /// at once.
    #[inline(never)]
    fn wait<ReqBody, ResBody>(
        &mut self,
        mut req: Request<ReqBody>,
        token: String,
    ) -> ResponseFuture<S::Future, Response<ResBody>, S::Error>
    where
        S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
        S::Future: Send + 'static,
        ReqBody: Send + 'static,
        ResBody: Default + Send + 'static,
    {
        let grpc = is_grpc(req.headers());
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let validator = self.validator.clone();
        let config = self.config.clone();
        ResponseFuture {
            state: State::Waiting {
                future: Box::pin(async move {
                    let validated = validator.validate(&token).await;
                    let cert = req.extensions().get::<ClientCert>();
                    match config.decide(validated, cert) {
                        Ok(verified) => {
                            req.extensions_mut().insert(verified);
                            inner.call(req).await
                        }
                        Err(e) => Ok(config.refuse(e, grpc)),
                    }
                }),
            },
        }
    }
}

pub(crate) use certbound_extract::response::is_grpc;

/// The bearer token of the `Authorization` header (RFC 6750 §2.1).
///
/// No header, or another scheme: [`BearerError::no_token`]. More than one
/// `Authorization` header, or a bearer credential that is not `b64token`
/// syntax: `invalid_request`.
pub fn bearer_token(headers: &HeaderMap) -> Result<&str, BearerError> {
    bearer_credential(headers)?.checked()
}

/// The credential of a `Bearer` `Authorization` header, its syntax not yet
/// checked.
struct Credential<'a> {
    /// The whole header value.
    value: &'a [u8],
    /// What follows the scheme, without the spaces around it.
    token: &'a [u8],
}

/// The `Bearer` credential of the one `Authorization` header: the errors of
/// [`bearer_token`] but the syntax one.
fn bearer_credential(headers: &HeaderMap) -> Result<Credential<'_>, BearerError> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Err(BearerError::no_token());
    };
    if values.next().is_some() {
        return Err(several());
    }
    // Bytes, not `to_str`: the token is checked in one pass below (a
    // bearer token is several hundred bytes on every request).
    let value = value.as_bytes();
    let (scheme, rest) = match value.iter().position(|&b| b == b' ') {
        Some(i) => (&value[..i], &value[i + 1..]),
        None => (value, &[][..]),
    };
    if !scheme.eq_ignore_ascii_case(b"bearer") {
        return Err(other_scheme(value));
    }
    Ok(Credential {
        value,
        token: trim_spaces(rest),
    })
}

#[cold]
#[inline(never)]
fn several() -> BearerError {
    BearerError::invalid_request("more than one Authorization header")
}

/// Another scheme than `Bearer`: no token, unless the value is not ASCII.
#[cold]
#[inline(never)]
fn other_scheme(value: &[u8]) -> BearerError {
    if is_visible_ascii(value) {
        BearerError::no_token()
    } else {
        not_ascii()
    }
}

impl<'a> Credential<'a> {
    /// The token, if it is `b64token` syntax.
    fn checked(&self) -> Result<&'a str, BearerError> {
        match b64token(self.token) {
            Some(token) => Ok(token),
            None => Err(not_b64token(self.value)),
        }
    }
}

#[cold]
#[inline(never)]
fn not_b64token(value: &[u8]) -> BearerError {
    if is_visible_ascii(value) {
        BearerError::invalid_request("the bearer token is empty or not b64token syntax")
    } else {
        not_ascii()
    }
}

/// `token` as a string, if it is RFC 6750 §2.1 `b64token` syntax: one or
/// more of `ALPHA DIGIT - . _ ~ + /`, then any number of `=`.
pub(crate) fn b64token(token: &[u8]) -> Option<&str> {
    let b64 = token.iter().rposition(|&b| b != b'=').map_or(0, |i| i + 1);
    if b64 > 0 && is_b64token(&token[..b64]) {
        // Only b64token characters (ASCII), then `=`.
        std::str::from_utf8(token).ok()
    } else {
        None
    }
}

/// Whether a header value is visible ASCII, spaces and tabs.
fn is_visible_ascii(value: &[u8]) -> bool {
    value
        .iter()
        .all(|&b| b == b'\t' || (b' '..=b'~').contains(&b))
}

fn not_ascii() -> BearerError {
    BearerError::invalid_request("the Authorization header is not ASCII")
}

fn trim_spaces(mut s: &[u8]) -> &[u8] {
    while let [b' ', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' '] = s {
        s = rest;
    }
    s
}

/// Whether every byte is an RFC 6750 §2.1 `b64token` character (the
/// trailing `=` aside). Branch-free per 32-byte block, so the compiler can
/// vectorize it: the token is several hundred bytes on every request.
fn is_b64token(s: &[u8]) -> bool {
    fn ok(b: u8) -> bool {
        let lower = b | 0x20;
        b.is_ascii_digit()
            | lower.is_ascii_lowercase()
            | (b == b'-')
            | (b == b'.')
            | (b == b'_')
            | (b == b'~')
            | (b == b'+')
            | (b == b'/')
    }
    let mut blocks = s.chunks_exact(32);
    let whole = blocks
        .by_ref()
        .all(|block| block.iter().fold(true, |acc, &b| acc & ok(b)));
    whole && blocks.remainder().iter().all(|&b| ok(b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;
    use http::header::CONTENT_TYPE;

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
        assert_eq!(bearer_token(&headers(&[])), Err(BearerError::no_token()));
        assert_eq!(
            bearer_token(&headers(&["Basic dXNlcjpwYXNz"])),
            Err(BearerError::no_token())
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
            // In a long token (the vectorized blocks) and a short one.
            let mut long = vec![b'a'; 70];
            long[40] = b;
            assert_eq!(is_b64token(&long), expected, "{b}");
            assert_eq!(is_b64token(&[b]), expected, "{b}");
        }
        assert_eq!(
            bearer_token(&headers(&["Bearer ==="]))
                .unwrap_err()
                .status(),
            400
        );
    }

    #[test]
    fn grpc_content_types_are_recognised() {
        let mut h = HeaderMap::new();
        for (ct, grpc) in [
            ("application/grpc", true),
            ("application/grpc+proto", true),
            ("Application/GRPC-web", true),
            ("application/json", false),
            ("application/grp", false),
        ] {
            h.insert(CONTENT_TYPE, HeaderValue::from_static(ct));
            assert_eq!(is_grpc(&h), grpc, "{ct}");
        }
    }
}
