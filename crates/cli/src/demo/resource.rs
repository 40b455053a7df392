//! The demo resource server: `GET /resource` for a bound token with its
//! certificate.

use std::sync::Arc;

use axum::routing::get;
use axum::{Extension, Json, Router};
use certbound_binding::{BoundToken, BoundTokenLayer, JwtValidator, VerifiedToken};
use certbound_extract::{ClientCertLayer, ClientCertService};
use serde_json::{Value, json};
use tower::ServiceBuilder;

/// The resource routes with `BoundTokenLayer` added by `Router::layer`, to
/// merge with other routers (the `--behind-proxy` host).
pub(crate) fn router(validator: Arc<JwtValidator>) -> Router {
    routes().layer(bound_tokens(validator))
}

/// The resource host's service: `ClientCertLayer` and `BoundTokenLayer`
/// wrapped around the router, rather than added with `Router::layer`
/// (which boxes the layered route and clones the box on every request;
/// see BENCHMARKS.md, Load).
pub(crate) fn service(
    validator: Arc<JwtValidator>,
    certificates: ClientCertLayer,
) -> ClientCertService<BoundToken<Router, JwtValidator>> {
    ServiceBuilder::new()
        .layer(certificates)
        .layer(bound_tokens(validator))
        .service(routes())
}

fn routes() -> Router {
    Router::new().route("/resource", get(resource))
}

/// Only tokens bound to the certificate of the request.
fn bound_tokens(validator: Arc<JwtValidator>) -> BoundTokenLayer<JwtValidator> {
    BoundTokenLayer::from_arc(validator).require_confirmation(true)
}

async fn resource(Extension(token): Extension<VerifiedToken>) -> Json<Value> {
    Json(json!({
        "client_id": token.claims().client_id(),
        "x5t#S256": token.bound_thumbprint().map(|t| t.to_string()),
    }))
}
