//! An axum resource server that accepts a bearer token only with the client
//! certificate it is bound to (RFC 8705 §3), over rustls.
//!
//! ```sh
//! cargo run --example axum_resource_server
//! ```
//! It prints a bound token and `curl` commands to try it.

#[path = "support/mod.rs"]
mod support;

use axum::routing::get;
use axum::{Extension, Json, Router};
use certbound::binding::{BoundTokenLayer, JwtValidator, VerifiedToken};
use certbound::extract::ClientCertLayer;
use serde_json::{Value, json};

async fn hello(Extension(token): Extension<VerifiedToken>) -> Json<Value> {
    Json(json!({
        "client_id": token.claims().client_id(),
        "x5t#S256": token.bound_thumbprint().map(|t| t.to_string()),
    }))
}

#[tokio::main]
async fn main() -> Result<(), support::Error> {
    let (pki, dir) = support::pki("axum_resource_server")?;
    let issuer = support::TokenIssuer::new()?;

    // The whole integration: where the certificate comes from, and the
    // bound-token check in front of the routes.
    let validator = JwtValidator::builder(&issuer.jwks)
        .issuer(support::ISSUER)
        .audience(support::AUDIENCE)
        .build()?;
    let app = Router::new()
        .route("/hello", get(hello))
        .layer(BoundTokenLayer::new(validator).require_confirmation(true))
        .layer(ClientCertLayer::tls());

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let token = issuer.mint(
        "pki-client",
        Some(support::thumbprint(&pki.pki_client.cert_pem)?),
    )?;
    let d = dir.display();
    println!("listening on https://{addr}/hello\n");
    println!(
        "bound to pki-client.pem (200):\n  curl --cacert {d}/ca.pem --cert {d}/pki-client.pem --key {d}/pki-client.key -H 'Authorization: Bearer {token}' https://{addr}/hello\n"
    );
    println!(
        "another certificate (401 invalid_token):\n  curl --cacert {d}/ca.pem --cert {d}/intruder.pem --key {d}/intruder.key -H 'Authorization: Bearer {token}' https://{addr}/hello"
    );

    support::serve_tls(listener, support::server_config(&pki)?, app).await
}
