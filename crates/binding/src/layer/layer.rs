use std::fmt;
use std::sync::Arc;

use tower_layer::Layer;

use super::BoundToken;
use crate::AccessTokenValidator;

/// Applies [`BoundToken`] to a service.
///
/// For each request: reads the bearer token from `Authorization` (RFC 6750
/// §2.1, scheme case-insensitive), validates it with `V`, then checks its
/// `cnf` against the [`ClientCert`](certbound_extract::ClientCert) in the request extensions (put there by
/// certbound-extract's `ClientCertLayer`, which must run first) with
/// [`verify_binding`](crate::verify_binding). On success the inner service gets the request with a
/// [`VerifiedToken`](crate::VerifiedToken) in its extensions; otherwise the answer is RFC 6750's:
///
/// | case | status | `WWW-Authenticate` |
/// | --- | --- | --- |
/// | no token | 401 | `Bearer` |
/// | malformed `Authorization` | 400 | `Bearer error="invalid_request", ...` |
/// | invalid token, `cnf` without certificate, thumbprint mismatch | 401 | `Bearer error="invalid_token", ...` |
/// | token not bound, with [`require_confirmation`](Self::require_confirmation) | 401 | `Bearer error="invalid_token", ...` |
/// | introspection call failed | 503 (JSON body) | none |
///
/// gRPC requests (`content-type: application/grpc*`) get the same refusals
/// as a trailers-only gRPC response: `grpc-status: 16` (UNAUTHENTICATED) and
/// a `grpc-message`. Every refusal is written by
/// [`OAuthError::response_for`](crate::OAuthError::response_for), as in the
/// other certbound layers. In tonic, put it after `ClientCertLayer` in
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
    config: Config,
}

#[derive(Debug, Clone, Default)]
pub(super) struct Config {
    pub(super) require_confirmation: bool,
    pub(super) realm: Option<Arc<str>>,
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
            config: Config::default(),
        }
    }

    /// Refuses tokens that are not certificate-bound (no `cnf`).
    pub fn require_confirmation(mut self, require: bool) -> Self {
        self.config.require_confirmation = require;
        self
    }

    /// Adds `realm` to the `WWW-Authenticate` challenges.
    pub fn realm(mut self, realm: impl Into<String>) -> Self {
        self.config.realm = Some(Arc::from(realm.into()));
        self
    }
}

impl<S, V> Layer<S> for BoundTokenLayer<V> {
    type Service = BoundToken<S, V>;

    fn layer(&self, inner: S) -> Self::Service {
        BoundToken::new(inner, self.validator.clone(), self.config.clone())
    }
}
