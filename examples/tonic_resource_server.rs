//! A tonic service (the standard gRPC health service) that answers only to
//! a token bound to the client certificate of the call; anything else gets
//! `UNAUTHENTICATED` (grpc-status 16). tonic terminates TLS; certbound reads
//! the certificate from tonic's `TlsConnectInfo`.
//!
//! ```sh
//! cargo run --example tonic_resource_server
//! ```

#[path = "support/mod.rs"]
mod support;

use certbound::binding::{BoundTokenLayer, JwtValidator};
use certbound::extract::ClientCertLayer;
use tonic::transport::{Certificate, Identity, Server, ServerTlsConfig};

#[tokio::main]
async fn main() -> Result<(), support::Error> {
    let (pki, dir) = support::pki("tonic_resource_server")?;
    let issuer = support::TokenIssuer::new()?;
    let validator = JwtValidator::builder(&issuer.jwks)
        .issuer(support::ISSUER)
        .audience(support::AUDIENCE)
        .build()?;

    let (reporter, health) = tonic_health::server::health_reporter();
    reporter
        .set_service_status("", tonic_health::ServingStatus::Serving)
        .await;

    let tls = ServerTlsConfig::new()
        .identity(Identity::from_pem(
            &pki.server.cert_pem,
            &pki.server.key_pem,
        ))
        .client_ca_root(Certificate::from_pem(&pki.ca.cert_pem))
        .client_auth_optional(true);
    let addr = "127.0.0.1:50051".parse()?;
    let token = issuer.mint(
        "pki-client",
        Some(support::thumbprint(&pki.pki_client.cert_pem)?),
    )?;
    let d = dir.display();
    println!(
        "grpcurl -cacert {d}/ca.pem -cert {d}/pki-client.pem -key {d}/pki-client.key -H 'authorization: Bearer {token}' {addr} grpc.health.v1.Health/Check"
    );

    Server::builder()
        .tls_config(tls)?
        .layer(ClientCertLayer::tls())
        .layer(BoundTokenLayer::new(validator))
        .add_service(health)
        .serve(addr)
        .await?;
    Ok(())
}
