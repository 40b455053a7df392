//! [`ForwardAuth`]: the whole RFC 8705 check as an authorization service for
//! a reverse proxy (nginx `auth_request`, Caddy `forward_auth`, Traefik
//! `ForwardAuth`, Envoy `ext_authz` in HTTP mode).
//!
//! See [`ForwardAuth`].

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

use bytes::Bytes;
use certbound_extract::{ClientCertLayer, ClientCertService, HeaderSource, ResponseBody};
use http::header::{CONTENT_TYPE, WWW_AUTHENTICATE};
use http::{HeaderName, HeaderValue, Request, Response, StatusCode};
use tower_layer::Layer;
use tower_service::Service;

use crate::{AccessTokenValidator, BoundToken, BoundTokenLayer, OAuthError, VerifiedToken};

/// `X-Certbound-Client-Id`: the token's `client_id` claim.
pub const CLIENT_ID_HEADER: HeaderName = HeaderName::from_static("x-certbound-client-id");
/// `X-Certbound-Subject`: the token's `sub` claim.
pub const SUBJECT_HEADER: HeaderName = HeaderName::from_static("x-certbound-subject");
/// `X-Certbound-Scope`: the token's scopes, separated by spaces.
pub const SCOPE_HEADER: HeaderName = HeaderName::from_static("x-certbound-scope");
/// `X-Certbound-Cnf`: the `x5t#S256` thumbprint (base64url) of the
/// certificate the token is bound to; absent for an unbound token.
pub const CNF_HEADER: HeaderName = HeaderName::from_static("x-certbound-cnf");

/// The response body of [`ForwardAuth`]: empty on `200`, an RFC 6749 JSON
/// error otherwise.
pub type ForwardAuthBody = ResponseBody<ResponseBody<ResponseBody<http_body_util::Empty<Bytes>>>>;

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// The stack behind the trusted-proxy check.
type Check<V> = ClientCertService<BoundToken<Allow, V>>;

/// A tower [`Service`] answering a proxy's authorization subrequests: `200`
/// with the token's identity in `X-Certbound-*` headers when the bearer
/// token is valid and bound to the certificate the proxy passed, `401`,
/// `403` or `503` otherwise.
///
/// The proxy terminates the client's TLS connection, puts the client
/// certificate into a header and asks the service about each request with
/// the original headers. The service answers:
///
/// | case | status | headers |
/// | --- | --- | --- |
/// | the asking peer is not a trusted proxy | 403 | none |
/// | valid token, bound to the certificate (or unbound, binding not required) | 200 | `X-Certbound-Client-Id`, `-Subject`, `-Scope`, `-Cnf` |
/// | no bearer token | 401 | `WWW-Authenticate: Bearer` |
/// | malformed `Authorization` or certificate header | 401 | `WWW-Authenticate: Bearer error="invalid_request", ...` |
/// | invalid token, not bound, bound to another certificate | 401 | `WWW-Authenticate: Bearer error="invalid_token", ...` |
/// | keys or introspection endpoint unreachable | 503 | none |
///
/// A malformed request is answered `401` rather than RFC 6750's `400`
/// because nginx's `auth_request` turns any status but 2xx, 401 and 403
/// into a 500. The reason of a refusal goes to the log (`tracing`, at debug
/// level), not into the response. The request's `Content-Type` is ignored,
/// so a gRPC request never gets a gRPC-style (`200` with `grpc-status`)
/// refusal that a proxy would read as "allowed".
///
/// Inside, it is certbound-extract's [`ClientCertLayer::header`] and
/// [`BoundTokenLayer`] around a service that answers `200`: the same check a
/// Rust resource server mounts, for a service written in anything else.
///
/// ```
/// use std::sync::Arc;
/// use certbound_binding::{ForwardAuth, JwtValidator};
/// use certbound_extract::{HeaderSource, PeerAddr, header::HeaderFormat};
/// use tower::ServiceExt;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
/// let key = josekit::jws::ES256.generate_key_pair()?;
/// let mut jwks = josekit::jwk::JwkSet::new();
/// jwks.push_key(key.to_jwk_public_key());
/// let validator = JwtValidator::builder(&jwks).issuer("https://as").audience("https://rs").build()?;
///
/// let source = HeaderSource::new(HeaderFormat::PemUrlEncoded)
///     .trusted_proxies(["127.0.0.1/32".parse()?]);
/// let auth = ForwardAuth::new(source, Arc::new(validator)).require_binding(true);
///
/// // nginx on 127.0.0.1 asks about a request without a token.
/// let mut req = http::Request::new(());
/// req.extensions_mut().insert(PeerAddr("127.0.0.1:40000".parse()?));
/// let res = auth.clone().oneshot(req).await?;
/// assert_eq!(res.status(), 401);
/// assert_eq!(res.headers()["www-authenticate"], "Bearer");
///
/// // Anyone else is refused before anything is read.
/// let mut req = http::Request::new(());
/// req.extensions_mut().insert(PeerAddr("192.0.2.7:40000".parse()?));
/// assert_eq!(auth.clone().oneshot(req).await?.status(), 403);
/// assert_eq!(auth.metrics().snapshot().forbidden, 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })
/// # }
/// ```
pub struct ForwardAuth<V> {
    source: Arc<HeaderSource>,
    validator: Arc<V>,
    require_binding: bool,
    check: Check<V>,
    metrics: Arc<ForwardAuthMetrics>,
}

impl<V> Clone for ForwardAuth<V> {
    fn clone(&self) -> Self {
        Self {
            source: self.source.clone(),
            validator: self.validator.clone(),
            require_binding: self.require_binding,
            check: self.check.clone(),
            metrics: self.metrics.clone(),
        }
    }
}

impl<V> fmt::Debug for ForwardAuth<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ForwardAuth")
            .field("source", &self.source)
            .field("require_binding", &self.require_binding)
            .finish_non_exhaustive()
    }
}

impl<V: AccessTokenValidator> ForwardAuth<V> {
    /// A service reading the certificate from `source` (its trusted proxies
    /// are the only peers answered) and validating tokens with `validator`.
    /// Binding is required: a token without `cnf` is refused.
    pub fn new(source: HeaderSource, validator: Arc<V>) -> Self {
        let source = Arc::new(source);
        Self {
            check: stack(&source, &validator, true),
            source,
            validator,
            require_binding: true,
            metrics: Arc::new(ForwardAuthMetrics::default()),
        }
    }

    /// Whether a token must be certificate-bound (default `true`). With
    /// `false`, a token without `cnf` is accepted as a plain bearer token;
    /// a token with `cnf` must still match the certificate.
    pub fn require_binding(mut self, require: bool) -> Self {
        self.require_binding = require;
        self.check = stack(&self.source, &self.validator, require);
        self
    }

    /// The validator, shared: for readiness checks and metrics.
    pub fn validator(&self) -> &Arc<V> {
        &self.validator
    }

    /// The counters of this service and its clones.
    pub fn metrics(&self) -> &Arc<ForwardAuthMetrics> {
        &self.metrics
    }
}

fn stack<V: AccessTokenValidator>(
    source: &HeaderSource,
    validator: &Arc<V>,
    require: bool,
) -> Check<V> {
    let bound = BoundTokenLayer::from_arc(validator.clone())
        .require_confirmation(require)
        .layer(Allow);
    ClientCertLayer::header(source.clone()).layer(bound)
}

impl<V, B> Service<Request<B>> for ForwardAuth<V>
where
    V: AccessTokenValidator,
    B: Send + 'static,
{
    type Response = Response<ForwardAuthBody>;
    type Error = Infallible;
    type Future = BoxFuture<Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        // Every service of the stack is always ready (`Allow` is).
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, mut req: Request<B>) -> Self::Future {
        let metrics = self.metrics.clone();
        if !self.source.trusts(req.extensions()) {
            tracing::debug!("forward-auth request from a peer that is not a trusted proxy: 403");
            metrics.count(StatusCode::FORBIDDEN);
            let mut res = Response::new(ResponseBody::from(Bytes::new()));
            *res.status_mut() = StatusCode::FORBIDDEN;
            return Box::pin(async move { Ok(res) });
        }
        // The answer is for the proxy, never a gRPC trailers-only response.
        req.headers_mut().remove(CONTENT_TYPE);
        let mut check = self.check.clone();
        Box::pin(async move {
            let Ok(res) = check.call(req).await;
            let res = for_proxy(res);
            metrics.count(res.status());
            Ok(res)
        })
    }
}

/// Makes a `400` a `401 invalid_request` (nginx reads any status but 2xx,
/// 401 and 403 as its own failure).
fn for_proxy(res: Response<ForwardAuthBody>) -> Response<ForwardAuthBody> {
    if res.status() != StatusCode::BAD_REQUEST {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    parts.status = StatusCode::UNAUTHORIZED;
    if !parts.headers.contains_key(WWW_AUTHENTICATE) {
        if let Some(challenge) = OAuthError::invalid_request("malformed request")
            .bearer_challenge()
            .www_authenticate()
        {
            parts.headers.insert(WWW_AUTHENTICATE, challenge);
        }
    }
    Response::from_parts(parts, body)
}

/// The innermost service of [`ForwardAuth`]: `200` with the
/// [`VerifiedToken`]'s identity in `X-Certbound-*` headers.
///
/// A request without a `VerifiedToken` (not behind [`BoundTokenLayer`]) is
/// answered `500`. A claim that cannot be a header value (a control
/// character in `sub`, say) gets `401 invalid_token`: passing it on
/// truncated or dropped would hand the upstream another identity.
#[derive(Debug, Clone, Copy, Default)]
pub struct Allow;

impl<B> Service<Request<B>> for Allow {
    type Response = Response<ResponseBody<http_body_util::Empty<Bytes>>>;
    type Error = Infallible;
    type Future = std::future::Ready<Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let res = match req.extensions().get::<VerifiedToken>() {
            None => {
                tracing::error!("certbound Allow reached without a VerifiedToken");
                OAuthError::server_error("the token was not checked").into_response()
            }
            Some(token) => match identity_headers(token) {
                Ok(headers) => {
                    let mut res = Response::new(ResponseBody::body(http_body_util::Empty::new()));
                    res.headers_mut().extend(headers);
                    res
                }
                Err(claim) => {
                    tracing::debug!(
                        claim,
                        "a claim of an accepted token cannot be passed as a header value: refused"
                    );
                    OAuthError::invalid_token("the token's claims cannot be passed on")
                        .bearer_challenge()
                        .into_response()
                }
            },
        };
        std::future::ready(Ok(res))
    }
}

/// The `X-Certbound-*` headers of a verified token; on error, the claim
/// that cannot be a header value.
fn identity_headers(
    token: &VerifiedToken,
) -> Result<Vec<(Option<HeaderName>, HeaderValue)>, &'static str> {
    let claims = token.claims();
    let mut headers = Vec::with_capacity(4);
    let mut push = |name: HeaderName, value: &str, claim: &'static str| {
        HeaderValue::from_str(value)
            .map(|v| headers.push((Some(name), v)))
            .map_err(|_| claim)
    };
    if let Some(client_id) = claims.client_id() {
        push(CLIENT_ID_HEADER, client_id, "client_id")?;
    }
    if let Some(sub) = claims.subject() {
        push(SUBJECT_HEADER, sub, "sub")?;
    }
    let scope = claims.scopes().collect::<Vec<_>>().join(" ");
    if !scope.is_empty() {
        push(SCOPE_HEADER, &scope, "scope")?;
    }
    if let Some(thumbprint) = token.bound_thumbprint() {
        push(CNF_HEADER, &thumbprint.to_string(), "cnf")?;
    }
    Ok(headers)
}

/// Requests answered by a [`ForwardAuth`] and its clones, by outcome.
#[derive(Debug, Default)]
pub struct ForwardAuthMetrics {
    allowed: AtomicU64,
    unauthorized: AtomicU64,
    forbidden: AtomicU64,
    unavailable: AtomicU64,
    error: AtomicU64,
}

impl ForwardAuthMetrics {
    /// Counts a request answered with `status`.
    fn count(&self, status: StatusCode) {
        let counter = match status {
            s if s.is_success() => &self.allowed,
            StatusCode::UNAUTHORIZED => &self.unauthorized,
            StatusCode::FORBIDDEN => &self.forbidden,
            StatusCode::SERVICE_UNAVAILABLE => &self.unavailable,
            _ => &self.error,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// The counts so far.
    pub fn snapshot(&self) -> ForwardAuthCounts {
        ForwardAuthCounts {
            allowed: self.allowed.load(Ordering::Relaxed),
            unauthorized: self.unauthorized.load(Ordering::Relaxed),
            forbidden: self.forbidden.load(Ordering::Relaxed),
            unavailable: self.unavailable.load(Ordering::Relaxed),
            error: self.error.load(Ordering::Relaxed),
        }
    }
}

/// A snapshot of [`ForwardAuthMetrics`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct ForwardAuthCounts {
    /// Answered `200`.
    pub allowed: u64,
    /// Answered `401` (no, malformed, invalid or unbound token, or a
    /// malformed certificate header).
    pub unauthorized: u64,
    /// Answered `403` (not from a trusted proxy).
    pub forbidden: u64,
    /// Answered `503` (keys or introspection unavailable).
    pub unavailable: u64,
    /// Answered anything else (`500`: a misconfigured stack).
    pub error: u64,
}

impl ForwardAuthCounts {
    /// The counts with their Prometheus `outcome` label values.
    pub fn by_outcome(&self) -> [(&'static str, u64); 5] {
        [
            ("allowed", self.allowed),
            ("unauthorized", self.unauthorized),
            ("forbidden", self.forbidden),
            ("unavailable", self.unavailable),
            ("error", self.error),
        ]
    }
}
