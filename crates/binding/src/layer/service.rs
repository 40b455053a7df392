use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};

use certbound_extract::{ClientCert, ResponseBody};
use http::{HeaderMap, Request, Response};
use tower_service::Service;

use super::layer::Config;
use super::{ResponseFuture, bearer_token};
use crate::{
    AccessTokenValidator, Binding, BindingMismatch, OAuthError, TokenClaims, TokenError,
    VerifiedToken, verify_binding,
};

/// The service of [`BoundTokenLayer`](super::BoundTokenLayer).
pub struct BoundToken<S, V> {
    inner: S,
    /// The validator and the settings, shared by every clone.
    shared: Arc<Shared<V>>,
}

struct Shared<V> {
    validator: Arc<V>,
    config: Config,
}

impl<S, V> BoundToken<S, V> {
    pub(super) fn new(inner: S, validator: Arc<V>, config: Config) -> Self {
        Self {
            inner,
            shared: Arc::new(Shared { validator, config }),
        }
    }
}

impl<S: Clone, V> Clone for BoundToken<S, V> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            shared: self.shared.clone(),
        }
    }
}

impl<S: fmt::Debug, V> fmt::Debug for BoundToken<S, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BoundToken")
            .field("inner", &self.inner)
            .field("config", &self.shared.config)
            .finish_non_exhaustive()
    }
}

impl Config {
    /// A refusal as a resource server's answer: RFC 6750's
    /// `WWW-Authenticate` challenge (with the realm), or its gRPC form.
    fn refuse<B>(&self, e: OAuthError, request_headers: &HeaderMap) -> Response<ResponseBody<B>> {
        match &self.realm {
            Some(realm) => e.with_realm(realm.clone()),
            None => e.bearer_challenge(),
        }
        .response_for(request_headers)
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
    ResBody: Send + 'static,
{
    type Response = Response<ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<ResponseBody<ResBody>, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqBody>) -> Self::Future {
        // The instance that was polled ready goes into the future.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let shared = self.shared.clone();
        ResponseFuture::new(async move {
            let Shared { validator, config } = &*shared;
            // The token is read where the request is kept: no copy of it.
            let validated = match bearer_token(req.headers()) {
                Ok(token) => validator.validate(token).await,
                Err(e) => return Ok(config.refuse(e, req.headers())),
            };
            let cert = ClientCert::from_extensions(req.extensions(), "BoundTokenLayer");
            match config.decide(validated, cert) {
                Ok(verified) => {
                    req.extensions_mut().insert(verified);
                    Ok(inner.call(req).await?.map(ResponseBody::body))
                }
                Err(e) => Ok(config.refuse(e, req.headers())),
            }
        })
    }
}
