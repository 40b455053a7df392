//! `MetadataService`: the metadata document over HTTP.

use std::convert::Infallible;
use std::future::{Ready, ready};
use std::sync::Arc;
use std::task::{Context, Poll};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use http::header::{ALLOW, CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::Full;
use sha2::{Digest as _, Sha256};
use tower_service::Service;

use crate::metadata::AuthorizationServerMetadata;
use crate::well_known::{self, InvalidIssuer, WellKnown};

/// A tower service that answers `GET` and `HEAD` for the metadata document
/// at its well-known paths.
///
/// - The paths follow the issuer: `/.well-known/oauth-authorization-server`
///   and `/.well-known/openid-configuration`, with the RFC 8414 §3 path rule
///   for an issuer with a path (`https://as.example.com/t1` is served at
///   `/.well-known/oauth-authorization-server/t1`,
///   `/.well-known/openid-configuration/t1` and, as OpenID Connect clients
///   expect, `/t1/.well-known/openid-configuration`). [`paths`](Self::paths)
///   lists them, to mount the service in a router.
/// - `200` with `application/json`, `Cache-Control` (default
///   `public, max-age=3600`) and a strong `ETag` (the SHA-256 of the body);
///   `304 Not Modified` when `If-None-Match` matches; `HEAD` without body;
///   `405` with `Allow: GET, HEAD` for other methods; `404` elsewhere.
///
/// The JSON is serialized once, when the service is made. Browser-based
/// clients that fetch the document from another origin need CORS headers:
/// wrap the service in a CORS layer (tower-http's `CorsLayer`, say).
///
/// ```
/// use certbound_discovery::{AuthorizationServerMetadata, MetadataService};
///
/// let md = AuthorizationServerMetadata::builder("https://as.example.com")
///     .standard_endpoints()
///     .build()?;
/// let service = MetadataService::new(&md)?;
/// let app = service.paths().iter().fold(axum::Router::new(), |app, path| {
///     app.route_service(path, service.clone())
/// });
/// # let _: axum::Router = app;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct MetadataService {
    shared: Arc<Shared>,
}

#[derive(Debug, Clone)]
struct Shared {
    body: Bytes,
    etag: HeaderValue,
    cache_control: HeaderValue,
    paths: Vec<String>,
}

const DEFAULT_CACHE_CONTROL: &str = "public, max-age=3600";
const ALLOWED: &str = "GET, HEAD";

impl MetadataService {
    /// Serves `metadata` at both well-known paths of its issuer.
    pub fn new(metadata: &AuthorizationServerMetadata) -> Result<Self, InvalidIssuer> {
        Self::for_documents(
            metadata,
            &[
                WellKnown::OAuthAuthorizationServer,
                WellKnown::OpenIdConfiguration,
            ],
        )
    }

    /// Serves `metadata` at the well-known paths of the given documents only
    /// (a plain OAuth server may not want to answer `openid-configuration`).
    pub fn for_documents(
        metadata: &AuthorizationServerMetadata,
        documents: &[WellKnown],
    ) -> Result<Self, InvalidIssuer> {
        let paths = well_known::paths(&metadata.issuer, documents)?;
        let body = Bytes::from(metadata.to_json());
        let etag = format!("\"{}\"", URL_SAFE_NO_PAD.encode(Sha256::digest(&body)));
        // base64url and quotes are visible ASCII: always a valid header value.
        let etag = HeaderValue::from_str(&etag).unwrap_or(HeaderValue::from_static("\"\""));
        Ok(Self {
            shared: Arc::new(Shared {
                body,
                etag,
                cache_control: HeaderValue::from_static(DEFAULT_CACHE_CONTROL),
                paths,
            }),
        })
    }

    /// Sets the `Cache-Control` value sent with the document.
    #[must_use]
    pub fn cache_control(mut self, value: HeaderValue) -> Self {
        Arc::make_mut(&mut self.shared).cache_control = value;
        self
    }

    /// The request paths answered.
    pub fn paths(&self) -> &[String] {
        &self.shared.paths
    }

    /// The strong entity tag of the document, quotes included.
    pub fn etag(&self) -> &HeaderValue {
        &self.shared.etag
    }

    /// The response to `request`.
    pub fn respond<B>(&self, request: &Request<B>) -> Response<Full<Bytes>> {
        let shared = &*self.shared;
        if !shared.paths.iter().any(|p| p == request.uri().path()) {
            return empty(StatusCode::NOT_FOUND);
        }
        let method = request.method();
        if method != Method::GET && method != Method::HEAD {
            tracing::debug!(%method, "metadata: method not allowed");
            let mut response = empty(StatusCode::METHOD_NOT_ALLOWED);
            response
                .headers_mut()
                .insert(ALLOW, HeaderValue::from_static(ALLOWED));
            return response;
        }

        let not_modified = if_none_match(request.headers(), &shared.etag);
        let (status, body) = if not_modified {
            (StatusCode::NOT_MODIFIED, Bytes::new())
        } else if method == Method::HEAD {
            (StatusCode::OK, Bytes::new())
        } else {
            (StatusCode::OK, shared.body.clone())
        };
        let mut response = Response::new(Full::new(body));
        *response.status_mut() = status;
        let headers = response.headers_mut();
        headers.insert(ETAG, shared.etag.clone());
        headers.insert(CACHE_CONTROL, shared.cache_control.clone());
        if !not_modified {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            headers.insert(CONTENT_LENGTH, HeaderValue::from(shared.body.len()));
        }
        response
    }
}

impl<B> Service<Request<B>> for MetadataService {
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = Ready<Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        ready(Ok(self.respond(&request)))
    }
}

fn empty(status: StatusCode) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = status;
    response
}

/// RFC 9110 §13.1.2: `*`, or any listed entity tag equal to ours under the
/// weak comparison (a `W/` prefix is ignored).
fn if_none_match(headers: &HeaderMap, etag: &HeaderValue) -> bool {
    let ours = etag.as_bytes();
    headers
        .get_all(IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag).as_bytes() == ours)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(v: &'static str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.append(IF_NONE_MATCH, HeaderValue::from_static(v));
        h
    }

    #[test]
    fn if_none_match_uses_the_weak_comparison() {
        let etag = HeaderValue::from_static("\"abc\"");
        assert!(if_none_match(&tag("\"abc\""), &etag));
        assert!(if_none_match(&tag("W/\"abc\""), &etag));
        assert!(if_none_match(&tag("\"x\", \"abc\""), &etag));
        assert!(if_none_match(&tag("*"), &etag));
        assert!(!if_none_match(&tag("\"abcd\""), &etag));
        assert!(!if_none_match(&tag("abc"), &etag));
        assert!(!if_none_match(&HeaderMap::new(), &etag));
    }
}
