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
    AccessTokenValidator, Binding, BindingMismatch, OAuthError, TokenClaims, TokenError,
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
/// #     JwtValidator::builder(&jwks).issuer("https://as").audience("https://rs").build().unwrap()
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

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

pin_project! {
    /// The response future of [`BoundToken`]: a refusal of a request
    /// without a well-formed bearer token, or the validation of its token
    /// followed by the inner service.
    pub struct ResponseFuture<B, E> {
        #[pin]
        state: State<B, E>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<B, E> {
        Refused { response: Option<Response<B>> },
        Checking { future: BoxFuture<Result<Response<B>, E>> },
    }
}

impl<B, E> fmt::Debug for ResponseFuture<B, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

impl<B, E> Future for ResponseFuture<B, E> {
    type Output = Result<Response<B>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            StateProj::Refused { response } => match response.take() {
                Some(response) => Poll::Ready(Ok(response)),
                // Polled again after completion: never ready again, as
                // futures in general may not be polled then.
                None => Poll::Pending,
            },
            StateProj::Checking { future } => future.as_mut().poll(cx),
        }
    }
}

impl Config {
    /// The one place a refusal becomes a response: RFC 6750's
    /// `WWW-Authenticate` challenge (with the realm), or gRPC's
    /// UNAUTHENTICATED for a gRPC request.
    fn refuse<B: Default>(&self, e: OAuthError, request_headers: &HeaderMap) -> Response<B> {
        let e = match &self.realm {
            Some(realm) => e.with_realm(realm.clone()),
            None => e,
        };
        e.to_challenge_response(request_headers)
    }

    /// From the validator's answer and the request's certificate to the
    /// token the handler gets, or the refusal.
    fn decide(
        &self,
        validated: Result<TokenClaims, TokenError>,
        cert: Option<&ClientCert>,
    ) -> Result<VerifiedToken, OAuthError> {
        let claims = validated.map_err(|e| e.to_oauth_error())?;
        match verify_binding(claims.confirmation(), cert) {
            Ok(Binding::Unbound) if self.require_confirmation => {
                tracing::debug!("bearer token without cnf refused");
                Err(BindingMismatch::NotBound.to_oauth_error())
            }
            Ok(binding) => Ok(VerifiedToken::new(claims, binding)),
            Err(e) => {
                tracing::debug!(reason = %e, "certificate-bound token refused");
                Err(e.to_oauth_error())
            }
        }
    }
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
    type Future = ResponseFuture<ResBody, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqBody>) -> Self::Future {
        let token = match bearer_token(req.headers()) {
            Ok(token) => token.to_owned(),
            Err(e) => {
                return ResponseFuture {
                    state: State::Refused {
                        response: Some(self.config.refuse(e, req.headers())),
                    },
                };
            }
        };
        // The instance that was polled ready goes into the future.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let validator = self.validator.clone();
        let config = self.config.clone();
        let future = async move {
            let validated = validator.validate(&token).await;
            let cert = req.extensions().get::<ClientCert>();
            match config.decide(validated, cert) {
                Ok(verified) => {
                    req.extensions_mut().insert(verified);
                    inner.call(req).await
                }
                Err(e) => Ok(config.refuse(e, req.headers())),
            }
        };
        ResponseFuture {
            state: State::Checking {
                future: Box::pin(future),
            },
        }
    }
}

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
