//! `MetadataService`: the metadata document over HTTP.

use std::convert::Infallible;
use std::future::{Ready, ready};
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use certbound_oauth::JsonDocument;
use http::{HeaderValue, Request, Response, StatusCode};
use http_body_util::Full;
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
    document: JsonDocument,
    cache_control: HeaderValue,
    paths: Vec<String>,
}

const DEFAULT_CACHE_CONTROL: &str = "public, max-age=3600";

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
        Ok(Self {
            shared: Arc::new(Shared {
                document: JsonDocument::new(metadata.to_json()),
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
        self.shared.document.etag()
    }

    /// The response to `request`.
    pub fn respond<B>(&self, request: &Request<B>) -> Response<Full<Bytes>> {
        let shared = &*self.shared;
        if !shared.paths.iter().any(|p| p == request.uri().path()) {
            return empty(StatusCode::NOT_FOUND);
        }
        shared
            .document
            .respond(request, shared.cache_control.clone())
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
