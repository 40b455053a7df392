//! The demo resource server: `GET /resource` for a bound token with its
//! certificate.

use std::sync::Arc;

use axum::routing::get;
use axum::{Extension, Json, Router};
use certbound_binding::{BoundTokenLayer, JwtValidator, VerifiedToken};
use serde_json::{Value, json};

pub(crate) fn router(validator: Arc<JwtValidator>) -> Router {
    Router::new()
        .route("/resource", get(resource))
        // Only tokens bound to the certificate of the request.
        .layer(BoundTokenLayer::from_arc(validator).require_confirmation(true))
}

async fn resource(Extension(token): Extension<VerifiedToken>) -> Json<Value> {
    Json(json!({
        "client_id": token.claims().client_id(),
        "x5t#S256": token.bound_thumbprint().map(|t| t.to_string()),
    }))
}
