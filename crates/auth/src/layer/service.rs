use std::task::{Context, Poll};

use bytes::Bytes;
use certbound_extract::ClientCert;
use http::{HeaderMap, Request, Response, header};
use http_body_util::{BodyExt as _, LengthLimitError, Limited};
use tower_service::Service;

use super::ResponseFuture;
use super::form::{self, FormError};
use crate::{AuthError, Authenticator};
use certbound_oauth::OAuthError;

/// The service of [`ClientAuthLayer`](super::ClientAuthLayer).
#[derive(Debug, Clone)]
pub struct ClientAuth<S> {
    inner: S,
    authenticator: Authenticator,
    body_limit: usize,
}

impl<S> ClientAuth<S> {
    /// Wraps `inner`.
    pub fn new(inner: S, authenticator: Authenticator, body_limit: usize) -> Self {
        Self {
            inner,
            authenticator,
            body_limit,
        }
    }

    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }
}

/// What the preparing step decided: forward the request, or answer it.
pub(crate) enum Prepared<B> {
    Forward(Request<B>),
    Reject(Response<Bytes>),
}

fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| {
            m.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
}

/// The credentials of an `Authorization: Basic` header, or `None` for no
/// header or another scheme.
fn basic_credentials(headers: &HeaderMap) -> Option<&[u8]> {
    let value = headers.get(header::AUTHORIZATION)?.as_bytes();
    let scheme = value.get(..6)?;
    scheme
        .eq_ignore_ascii_case(b"basic ")
        .then(|| value.get(6..).unwrap_or_default().trim_ascii())
}

/// The client identifier in Basic credentials (RFC 6749 §2.3.1:
/// form-encoded, then base64).
fn basic_user_id(credentials: &[u8]) -> Option<String> {
    use base64::Engine as _;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(credentials)
        .ok()?;
    let user = decoded.split(|b| *b == b':').next()?;
    form::decode(user).map(|v| v.into_owned())
}

/// Reads the form body within `limit` and authenticates the client it
/// names: the body to hand on, with an [`AuthenticatedClient`](crate::AuthenticatedClient)
/// in `parts` for an mTLS client, or the refusal.
async fn authenticate<B>(
    authenticator: &Authenticator,
    limit: usize,
    parts: &mut http::request::Parts,
    body: B,
) -> Result<B, OAuthError>
where
    B: http_body::Body + From<Bytes> + Send,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    if declared_length(&parts.headers).is_some_and(|n| n > limit as u64) {
        return Err(OAuthError::payload_too_large(limit));
    }
    if !is_form(&parts.headers) {
        return Err(OAuthError::invalid_request(
            "the body must be application/x-www-form-urlencoded",
        ));
    }
    let bytes = match Limited::new(body, limit).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => {
            return Err(OAuthError::payload_too_large(limit));
        }
        Err(e) => {
            tracing::debug!(error = %e, "reading the request body failed");
            return Err(OAuthError::invalid_request("the body could not be read"));
        }
    };
    let info = match form::parse(&bytes) {
        Ok(info) => info,
        Err(FormError::Repeated(name)) => {
            return Err(OAuthError::invalid_request(format!(
                "{name} must not be repeated"
            )));
        }
        Err(FormError::NotUtf8(name)) => {
            return Err(OAuthError::invalid_request(format!("{name} is not UTF-8")));
        }
    };
    // A `client_id` in the query that differs from the body's would let a
    // handler reading the query believe it serves another client than the
    // one authenticated (RFC 6749 §3.2: parameters must not repeat).
    if let (Some(query), Some(body_id)) = (parts.uri.query(), info.client_id.as_deref()) {
        let conflict = match form::parse(query.as_bytes()) {
            Ok(q) => q.client_id.is_some_and(|q| q.as_ref() != body_id),
            Err(_) => true,
        };
        if conflict {
            tracing::debug!(
                body_client_id = body_id,
                "client_id in the query conflicts with the body"
            );
            return Err(OAuthError::invalid_request(
                "client_id in the query differs from the body's",
            ));
        }
    }
    let basic = basic_credentials(&parts.headers);
    // RFC 6749 §2.3: one client authentication method per request. The
    // credentials of another method, if any:
    let other_method = if basic.is_some() {
        Some("Authorization: Basic")
    } else if info.has_client_secret {
        Some("client_secret")
    } else if info.has_client_assertion {
        Some("client_assertion")
    } else {
        None
    };
    let cert = ClientCert::from_extensions(&parts.extensions, "ClientAuthLayer");
    let Some(client_id) = info.client_id else {
        if let Some(user_id) = basic.and_then(basic_user_id) {
            // HTTP Basic names the client (RFC 6749 §2.3.1): an mTLS client
            // sending it uses two methods; any other client is not ours.
            let result = authenticator
                .authenticate_request(&user_id, cert, other_method)
                .await;
            if let Err(e @ AuthError::MultipleMethods { .. }) = result {
                return Err(authenticator.oauth_error(&e));
            }
            return Ok(B::from(bytes));
        }
        if parts.headers.contains_key(header::AUTHORIZATION) || info.has_client_assertion {
            // Another client authentication method: not ours.
            return Ok(B::from(bytes));
        }
        return Err(OAuthError::invalid_request("client_id is required"));
    };
    let result = authenticator
        .authenticate_request(&client_id, cert, other_method)
        .await;
    // `client_id` borrows from the body, which moves on below.
    drop(client_id);
    match result {
        Ok(client) => {
            parts.extensions.insert(client);
        }
        Err(e) if e.is_not_mtls() => {}
        Err(e) => return Err(authenticator.oauth_error(&e)),
    }
    Ok(B::from(bytes))
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for ClientAuth<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone,
    ReqBody: http_body::Body + From<Bytes> + Send + 'static,
    ReqBody::Data: Send,
    ReqBody::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    ResBody: From<Bytes>,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S, ReqBody>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        // The ready service goes into the future; a clone stays here.
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        let (authenticator, limit) = (self.authenticator.clone(), self.body_limit);
        let prepare = Box::pin(async move {
            let (mut parts, body) = req.into_parts();
            match authenticate(&authenticator, limit, &mut parts, body).await {
                Ok(body) => Prepared::Forward(Request::from_parts(parts, body)),
                Err(e) => Prepared::Reject(e.response_for(&parts.headers)),
            }
        });
        ResponseFuture::new(prepare, inner)
    }
}
