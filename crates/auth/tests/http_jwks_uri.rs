//! A client's `jwks_uri` over real https on 127.0.0.1, fetched with
//! certbound-fetch's client-URL fetcher: loopback is refused unless the
//! host is allowed by name.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use certbound_auth::{
    Authenticator, ClientJwks, ClientMetadata, JwksFetcher, SelfSignedTlsClientAuth,
    TokenEndpointAuthMethod, registry_from_metadata,
};
use certbound_fetch::{Fetcher, FetcherBuilder};
use certbound_testkit::tls::{self, ClientCerts};
use certbound_testkit::{TestCa, self_signed};
use common::*;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::CertificateDer;
use tokio::net::TcpListener;

/// Serves `jwks` at /jwks.json over TLS on 127.0.0.1 until the task is
/// aborted.
async fn serve_jwks(ca: &TestCa, jwks: String) -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let mut config = tls::server_config(&tls::localhost(ca), ClientCerts::None);
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let app = Router::new().route("/jwks.json", get(move || async move { jwks }));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            let service = hyper_util::service::TowerToHyperService::new(app.clone());
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(tls), service)
                    .await;
            });
        }
    });
    (addr, task)
}

fn client_urls(ca: &TestCa) -> FetcherBuilder {
    Fetcher::for_client_urls()
        .crypto_provider(tls::provider())
        .only_root_certificates([CertificateDer::from(ca.cert.der.clone())])
}

fn authenticator(jwks_uri: String, fetcher: Fetcher) -> Authenticator {
    let mut m = ClientMetadata::new("device-1", TokenEndpointAuthMethod::SelfSignedTlsClientAuth);
    m.jwks_uri = Some(jwks_uri);
    Authenticator::builder(registry_from_metadata([m]).unwrap())
        .self_signed_tls_client_auth(SelfSignedTlsClientAuth::new().jwks_fetcher(fetcher))
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_loopback_jwks_uri_is_fetched_when_its_host_is_allowed_by_name() {
    let ca = TestCa::new("Server CA");
    let device = self_signed("device-1").issue();
    let jwks = serde_json::to_string(&ClientJwks::from_certificates([&cert(&device)])).unwrap();
    let (addr, server) = serve_jwks(&ca, jwks).await;
    let uri = format!("https://localhost:{}/jwks.json", addr.port());

    let fetcher = client_urls(&ca).allow_host("localhost").build().unwrap();
    let auth = authenticator(uri, fetcher);
    let client = auth
        .authenticate("device-1", Some(&presented(&device, &[])))
        .await
        .unwrap();
    assert_eq!(client.client_id(), "device-1");
    server.abort();
}

#[tokio::test]
async fn an_https_jwks_uri_resolving_to_127_0_0_1_is_refused_by_default() {
    let ca = TestCa::new("Server CA");
    let device = self_signed("device-1").issue();
    let jwks = serde_json::to_string(&ClientJwks::from_certificates([&cert(&device)])).unwrap();
    let (addr, server) = serve_jwks(&ca, jwks).await;
    let uri = format!("https://localhost:{}/jwks.json", addr.port());

    let fetcher = client_urls(&ca).build().unwrap();
    let err = fetcher.fetch(&uri).await.unwrap_err();
    assert!(
        err.to_string().contains("127.0.0.1") || err.to_string().contains("::1"),
        "{err}"
    );
    let auth = authenticator(uri, fetcher);
    assert!(
        auth.authenticate("device-1", Some(&presented(&device, &[])))
            .await
            .is_err()
    );
    server.abort();
}

#[tokio::test]
async fn an_operator_fetcher_is_refused_for_a_clients_jwks_uri() {
    let ca = TestCa::new("Server CA");
    let device = self_signed("device-1").issue();
    let jwks = serde_json::to_string(&ClientJwks::from_certificates([&cert(&device)])).unwrap();
    let (addr, server) = serve_jwks(&ca, jwks).await;
    let uri = format!("https://localhost:{}/jwks.json", addr.port());

    let operator = Fetcher::for_operator_urls()
        .crypto_provider(tls::provider())
        .only_root_certificates([CertificateDer::from(ca.cert.der.clone())])
        .build()
        .unwrap();
    let err = operator.fetch(&uri).await.unwrap_err();
    assert!(err.to_string().contains("for_client_urls"), "{err}");
    server.abort();
}
