//! The RFC 6749 hygiene rules over real TLS on loopback: rustls with
//! `AcceptAnyClientCert` (chain validation is the authenticator's), a
//! hyper-util accept loop, `ClientCertLayer::tls()` and `ClientAuthLayer`.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::Router;
use axum::body::Bytes;
use axum::routing::post;
use certbound_auth::{
    AuthenticatedClient, Authenticator, ClientAuthLayer, ClientJwks, ClientMetadata,
    SelfSignedTlsClientAuth, TlsClientAuth, TokenEndpointAuthMethod, registry_from_metadata,
};
use certbound_extract::danger::AcceptAnyClientCert;
use certbound_extract::{ClientCertLayer, PeerCertificatesLayer};
use certbound_testkit::tls::{self, provider};
use certbound_testkit::{TestCa, TestCert, self_signed};
use common::*;
use http::{Request, StatusCode};
use http_body_util::{BodyExt as _, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use rustls::ClientConfig;
use rustls::pki_types::ServerName;
use tokio::net::TcpListener;
use tower::Layer as _;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

async fn token(client: Option<AuthenticatedClient>, body: Bytes) -> String {
    let who = client.map_or("none".to_owned(), |c| c.client_id().to_owned());
    format!("{who}\n{}", String::from_utf8_lossy(&body))
}

struct Server {
    addr: SocketAddr,
    server_ca: TestCa,
    client_ca: TestCa,
    device: TestCert,
}

async fn serve() -> Server {
    let server_ca = TestCa::new("Server CA");
    let server = tls::localhost(&server_ca);
    let client_ca = TestCa::new("Client CA");
    let device = self_signed("device-1").issue();

    let mut device_client =
        ClientMetadata::new("device-1", TokenEndpointAuthMethod::SelfSignedTlsClientAuth);
    device_client.jwks = Some(ClientJwks::from_certificates([&cert(&device)]));
    let auth = Authenticator::builder(
        registry_from_metadata([
            tls_client("bank-1", "tls_client_auth_subject_dn", "CN=bank-1"),
            device_client,
            ClientMetadata::new("web", TokenEndpointAuthMethod::ClientSecretPost),
        ])
        .unwrap(),
    )
    .tls_client_auth(TlsClientAuth::new(store(&[&client_ca])))
    .self_signed_tls_client_auth(SelfSignedTlsClientAuth::new())
    .build()
    .unwrap();
    let app = Router::new()
        .route("/token", post(token))
        .layer(ClientAuthLayer::new(auth))
        .layer(ClientCertLayer::tls());

    let verifier = Arc::new(AcceptAnyClientCert::new(provider()).allow_unauthenticated());
    let mut config = tls::server_config_with_verifier(&server, verifier, rustls::DEFAULT_VERSIONS);
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, remote)) = listener.accept().await else {
                return;
            };
            let (acceptor, app) = (acceptor.clone(), app.clone());
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let svc = PeerCertificatesLayer::from_connection(tls.get_ref().1)
                    .peer_addr(remote)
                    .layer(app);
                let _ = auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(tls), TowerToHyperService::new(svc))
                    .await;
            });
        }
    });
    Server {
        addr,
        server_ca,
        client_ca,
        device,
    }
}

impl Server {
    fn client_config(&self, cert: Option<&TestCert>) -> Arc<ClientConfig> {
        let chain: Vec<&TestCert> = cert.into_iter().collect();
        Arc::new(tls::client_config(&self.server_ca, &chain))
    }

    async fn post(
        &self,
        cert: Option<&TestCert>,
        form: &str,
        authorization: Option<&str>,
    ) -> Result<(StatusCode, String), BoxError> {
        let tcp = tokio::net::TcpStream::connect(self.addr).await?;
        let tls = tokio_rustls::TlsConnector::from(self.client_config(cert))
            .connect(ServerName::try_from("localhost")?, tcp)
            .await?;
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls)).await?;
        tokio::spawn(conn);
        let mut req = Request::post("/token")
            .header("host", "localhost")
            .header("content-type", FORM);
        if let Some(value) = authorization {
            req = req.header("authorization", value);
        }
        let res = sender
            .send_request(req.body(Full::new(Bytes::from(form.to_owned())))?)
            .await?;
        let status = res.status();
        let body = res.into_body().collect().await?.to_bytes();
        Ok((status, String::from_utf8(body.to_vec())?))
    }
}

#[tokio::test]
async fn over_tls_every_invalid_client_has_the_same_body() {
    let s = serve().await;
    let now = SystemTime::now();
    let good = s.client_ca.leaf("bank-1").issue();
    let wrong = s.client_ca.leaf("bank-2").issue();
    let untrusted = TestCa::new("Other CA").leaf("bank-1").issue();
    let expired = s
        .client_ca
        .leaf("bank-1")
        .validity(now - 30 * DAY, now - Duration::from_secs(60))
        .issue();
    let stranger = self_signed("device-1").issue();

    // The controls.
    let (status, body) = s.post(Some(&good), "client_id=bank-1", None).await.unwrap();
    assert_eq!(
        (status, body.lines().next()),
        (StatusCode::OK, Some("bank-1"))
    );
    let (status, _) = s
        .post(Some(&s.device), "client_id=device-1", None)
        .await
        .unwrap();
    assert_eq!(status, StatusCode::OK);

    let cases: [(&str, Option<&TestCert>, &str); 6] = [
        ("unknown client", Some(&good), "client_id=nobody"),
        ("wrong certificate", Some(&wrong), "client_id=bank-1"),
        ("untrusted chain", Some(&untrusted), "client_id=bank-1"),
        ("expired", Some(&expired), "client_id=bank-1"),
        ("no certificate", None, "client_id=bank-1"),
        (
            "self-signed not registered",
            Some(&stranger),
            "client_id=device-1",
        ),
    ];
    let mut bodies = Vec::new();
    for (what, cert, form) in cases {
        let (status, body) = s.post(cert, form, None).await.unwrap();
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}: {body}");
        bodies.push((what, body));
    }
    let json: serde_json::Value = serde_json::from_str(&bodies[0].1).unwrap();
    assert_eq!(json["error"], "invalid_client");
    for (what, body) in &bodies {
        assert_eq!(body, &bodies[0].1, "{what}");
    }
}

#[tokio::test]
async fn over_tls_a_second_method_is_invalid_request_for_mtls_clients_only() {
    let s = serve().await;
    let bank = s.client_ca.leaf("bank-1").issue();
    for (client, leaf) in [("bank-1", &bank), ("device-1", &s.device)] {
        for (form, authorization) in [
            (format!("client_id={client}&client_secret=x"), None),
            (format!("client_id={client}&client_assertion=a.b.c"), None),
            (format!("client_id={client}"), Some("Basic YmFuay0xOng=")),
        ] {
            let (status, body) = s.post(Some(leaf), &form, authorization).await.unwrap();
            assert_eq!(status, StatusCode::BAD_REQUEST, "{form}: {body}");
            let json: serde_json::Value = serde_json::from_str(&body).unwrap();
            assert_eq!(json["error"], "invalid_request");
        }
    }
    // A client_secret_post client presenting a certificate to bind its
    // tokens: passed on untouched.
    let binding = self_signed("binding").issue();
    let form = "client_id=web&client_secret=s3cret";
    let (status, body) = s.post(Some(&binding), form, None).await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, format!("none\n{form}"));
}
