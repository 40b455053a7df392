//! A tonic service (tonic-health) behind `BoundTokenLayer` over real TLS: a
//! token bound to the presented certificate is served, anything else is
//! gRPC UNAUTHENTICATED.

mod support;

use certbound_binding::{BoundTokenLayer, JwtValidator};
use certbound_testkit::TestCert;
use support::{AUDIENCE, Alg, ISSUER, Keys, Pki, payload, serve_tls, server_config, thumbprint};
use tonic::Code;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Identity};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

async fn start(pki: &Pki, keys: &Keys) -> support::Server {
    let (reporter, health) = tonic_health::server::health_reporter();
    reporter
        .set_service_status("", tonic_health::ServingStatus::Serving)
        .await;
    let validator = JwtValidator::builder(&keys.jwks)
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .build()
        .unwrap();
    let routes = tonic::service::Routes::new(health).prepare();
    let service = tower::ServiceBuilder::new()
        .layer(BoundTokenLayer::new(validator))
        .service(routes);
    serve_tls(server_config(pki), service).await
}

async fn client(addr: std::net::SocketAddr, pki: &Pki, cert: &TestCert) -> HealthClient<Channel> {
    let tls = ClientTlsConfig::new()
        .domain_name("localhost")
        .ca_certificate(Certificate::from_pem(&pki.ca.cert.pem))
        .identity(Identity::from_pem(&cert.pem, &cert.key_pem));
    let channel = Channel::from_shared(format!("https://{addr}"))
        .unwrap()
        .tls_config(tls)
        .unwrap()
        .connect()
        .await
        .unwrap();
    HealthClient::new(channel)
}

fn check_request(token: Option<&str>) -> tonic::Request<HealthCheckRequest> {
    let mut req = tonic::Request::new(HealthCheckRequest {
        service: String::new(),
    });
    if let Some(token) = token {
        req.metadata_mut()
            .insert("authorization", format!("Bearer {token}").parse().unwrap());
    }
    req
}

#[tokio::test]
async fn matching_certificate_is_served() {
    let pki = Pki::new();
    let keys = Keys::new();
    let server = start(&pki, &keys).await;
    let token = keys.sign(Alg::Es256, &payload(Some(thumbprint(&pki.client))));
    let mut health = client(server.addr, &pki, &pki.client).await;
    let response = health.check(check_request(Some(&token))).await.unwrap();
    assert_eq!(response.into_inner().status(), ServingStatus::Serving);
}

#[tokio::test]
async fn other_certificate_is_unauthenticated() {
    let pki = Pki::new();
    let keys = Keys::new();
    let server = start(&pki, &keys).await;
    let token = keys.sign(Alg::Rs256, &payload(Some(thumbprint(&pki.client))));
    let mut health = client(server.addr, &pki, &pki.other_client).await;
    let status = health.check(check_request(Some(&token))).await.unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
    assert_eq!(
        status.message(),
        "the token is bound to another client certificate"
    );
}

#[tokio::test]
async fn missing_or_invalid_token_is_unauthenticated() {
    let pki = Pki::new();
    let keys = Keys::new();
    let server = start(&pki, &keys).await;
    let mut health = client(server.addr, &pki, &pki.client).await;
    let status = health.check(check_request(None)).await.unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
    assert_eq!(status.message(), "a bearer token is required");

    let tampered =
        support::tamper_signature(&keys.sign(Alg::Es256, &payload(Some(thumbprint(&pki.client)))));
    let status = health
        .check(check_request(Some(&tampered)))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
    assert_eq!(status.message(), "the access token's signature is invalid");
}

/// The same, with tonic's own TLS server: `ClientCertLayer::tls()` reads
/// tonic's `TlsConnectInfo`, and `BoundTokenLayer` goes into
/// `Server::builder().layer(...)`.
#[tokio::test]
async fn tonic_server_builder_with_its_own_tls() {
    use certbound_extract::ClientCertLayer;
    use tonic::transport::server::TcpIncoming;
    use tonic::transport::{Server, ServerTlsConfig};

    let pki = Pki::new();
    let keys = Keys::new();
    let validator = JwtValidator::builder(&keys.jwks)
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .build()
        .unwrap();
    let (reporter, health) = tonic_health::server::health_reporter();
    reporter
        .set_service_status("", tonic_health::ServingStatus::Serving)
        .await;
    let tls = ServerTlsConfig::new()
        .identity(Identity::from_pem(&pki.server.pem, &pki.server.key_pem))
        .client_ca_root(Certificate::from_pem(&pki.ca.cert.pem))
        .client_auth_optional(true);
    let incoming = TcpIncoming::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = incoming.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(
        Server::builder()
            .tls_config(tls)
            .unwrap()
            .layer(
                tower::ServiceBuilder::new()
                    .layer(ClientCertLayer::tls())
                    .layer(BoundTokenLayer::new(validator).require_confirmation(true))
                    .into_inner(),
            )
            .add_service(health)
            .serve_with_incoming_shutdown(incoming, async {
                let _ = stopped.await;
            }),
    );

    let token = keys.sign(Alg::Es256, &payload(Some(thumbprint(&pki.client))));
    let mut health = client(addr, &pki, &pki.client).await;
    let response = health.check(check_request(Some(&token))).await.unwrap();
    assert_eq!(response.into_inner().status(), ServingStatus::Serving);

    let mut other = client(addr, &pki, &pki.other_client).await;
    let status = other.check(check_request(Some(&token))).await.unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);

    let unbound = keys.sign(Alg::Es256, &payload(None));
    let status = health
        .check(check_request(Some(&unbound)))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
    assert_eq!(status.message(), "the token is not certificate-bound");

    let _ = stop.send(());
    server.await.unwrap().unwrap();
}
