//! An axum authorization server token endpoint with `tls_client_auth`
//! (subject DN and SAN) and `self_signed_tls_client_auth`, issuing
//! certificate-bound access tokens (RFC 8705 §2-3), with discovery metadata
//! that lists exactly the methods the authenticator runs.
//!
//! ```sh
//! cargo run --example axum_authorization_server
//! ```

#[path = "support/mod.rs"]
mod support;

use std::sync::Arc;

use axum::extract::State;
use axum::routing::post;
use axum::{Extension, Json, Router};
use certbound::auth::{
    AuthenticatedClient, Authenticator, ClientAuthLayer, ClientMetadata, Jwks,
    SelfSignedTlsClientAuth, TlsClientAuth, TrustStore, registry_from_metadata,
};
use certbound::binding::{BindingPolicy, ClientBinding};
use certbound::cert::Certificate;
use certbound::discovery::{AuthorizationServerMetadata, Endpoint, MetadataService};
use certbound::extract::ClientCertLayer;
use serde_json::{Value, json};
use tower::Layer as _;

struct AppState {
    issuer: support::TokenIssuer,
    policy: BindingPolicy,
}

/// `grant_type=client_credentials`: the client is already authenticated by
/// `ClientAuthLayer`; bind its token to the certificate it authenticated with.
async fn token(
    State(state): State<Arc<AppState>>,
    Extension(client): Extension<AuthenticatedClient>,
) -> Result<Json<Value>, certbound::binding::OAuthError> {
    let binding = ClientBinding::confidential().bound_tokens_required(client.bound_access_tokens());
    let decided = state
        .policy
        .decide(binding, Some(client.certificate()))
        .map_err(|e| e.to_oauth_error())?;
    let cnf = decided
        .access_token_confirmation()
        .and_then(|c| c.thumbprint().ok().flatten());
    let token = state
        .issuer
        .mint(client.client_id(), cnf)
        .unwrap_or_default();
    Ok(Json(
        json!({"access_token": token, "token_type": "Bearer", "expires_in": 3600}),
    ))
}

#[tokio::main]
async fn main() -> Result<(), support::Error> {
    let (pki, dir) = support::pki("axum_authorization_server")?;
    let self_signed = Certificate::from_pem(&pki.self_signed_client.cert_pem)?;
    let clients: Vec<ClientMetadata> = serde_json::from_value(json!([
        {"client_id": "pki-client", "token_endpoint_auth_method": "tls_client_auth",
         "tls_client_auth_subject_dn": "CN=pki-client,O=certbound demo,C=GB",
         "tls_client_certificate_bound_access_tokens": true},
        {"client_id": "san-client", "token_endpoint_auth_method": "tls_client_auth",
         "tls_client_auth_san_dns": "san-client.demo.certbound.test"},
        {"client_id": "self-signed-client", "token_endpoint_auth_method": "self_signed_tls_client_auth",
         "jwks": Jwks::from_certificates([&self_signed])},
    ]))?;

    let authenticator = Authenticator::builder(registry_from_metadata(clients)?)
        .tls_client_auth(TlsClientAuth::new(TrustStore::from_pem(&pki.ca.cert_pem)?))
        .self_signed_tls_client_auth(SelfSignedTlsClientAuth::new())
        .build();

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("https://{}", listener.local_addr()?);
    let metadata = AuthorizationServerMetadata::builder(base.clone())
        .endpoint(Endpoint::Token, format!("{base}/token"))
        .authenticator(&authenticator)
        .tls_client_certificate_bound_access_tokens(true)
        .build()?;
    let discovery = MetadataService::new(&metadata)?;

    let state = Arc::new(AppState {
        issuer: support::TokenIssuer::new()?,
        policy: BindingPolicy::new(),
    });
    let token_endpoint = ClientAuthLayer::new(authenticator)
        .layer(Router::new().route("/token", post(token)).with_state(state));
    let app = Router::new()
        .route_service("/token", token_endpoint)
        .route_service("/.well-known/oauth-authorization-server", discovery)
        .layer(ClientCertLayer::tls());

    let d = dir.display();
    println!("discovery: curl --cacert {d}/ca.pem {base}/.well-known/oauth-authorization-server");
    for client in ["pki-client", "san-client", "self-signed-client"] {
        println!(
            "{client}: curl --cacert {d}/ca.pem --cert {d}/{client}.pem --key {d}/{client}.key -d grant_type=client_credentials -d client_id={client} {base}/token"
        );
    }
    println!(
        "refused (401 invalid_client): curl --cacert {d}/ca.pem --cert {d}/intruder.pem --key {d}/intruder.key -d grant_type=client_credentials -d client_id=pki-client {base}/token"
    );

    support::serve_tls(listener, support::server_config(&pki)?, app).await
}
