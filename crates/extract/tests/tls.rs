//! Over real TLS on loopback: the handler sees the leaf the client sent, from
//! a hyper-util loop, `axum::serve` with `TlsListener`, and axum-server; with
//! `AcceptAnyClientCert` a self-signed client connects and a client that does
//! not hold its certificate's key is refused.

mod support;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::{Router, routing::get};
use certbound_cert::Thumbprint;
use certbound_extract::connect_info::{TlsConnectInfo, TlsListener};
use certbound_extract::danger::AcceptAnyClientCert;
use certbound_extract::{CertSource, ClientCert, ClientCertLayer, PeerCertificatesLayer};
use certbound_testkit::self_signed;
use http::StatusCode;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use rustls::ServerConfig;
use support::tls::{Pki, get as https_get, provider};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tower::Layer;

fn app() -> Router {
    Router::new()
        .route(
            "/",
            get(|cert: ClientCert| async move {
                assert_eq!(cert.source(), &CertSource::Tls);
                format!("{} {}", cert.thumbprint(), cert.intermediates().len())
            }),
        )
        .route(
            "/maybe",
            get(|cert: Option<ClientCert>| async move {
                cert.map_or("anonymous".to_owned(), |c| c.thumbprint().to_string())
            }),
        )
        .layer(ClientCertLayer::tls())
}

/// A hyper-util accept loop; each handshake's outcome is sent on the channel.
async fn serve_hyper(
    config: Arc<ServerConfig>,
) -> (
    SocketAddr,
    mpsc::UnboundedReceiver<Result<(), String>>,
    JoinHandle<()>,
) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    let (tx, rx) = mpsc::unbounded_channel();
    let app = app();
    let task = tokio::spawn(async move {
        loop {
            let (tcp, remote) = listener.accept().await.unwrap();
            let (acceptor, app, tx) = (acceptor.clone(), app.clone(), tx.clone());
            tokio::spawn(async move {
                match acceptor.accept(tcp).await {
                    Ok(tls) => {
                        let _ = tx.send(Ok(()));
                        // The three lines of the documentation:
                        let svc = PeerCertificatesLayer::from_connection(tls.get_ref().1)
                            .peer_addr(remote)
                            .layer(app);
                        let _ = auto::Builder::new(TokioExecutor::new())
                            .serve_connection(TokioIo::new(tls), TowerToHyperService::new(svc))
                            .await;
                    }
                    Err(e) => {
                        let _ = tx.send(Err(e.to_string()));
                    }
                }
            });
        }
    });
    (addr, rx, task)
}

fn thumb(der: &[u8]) -> String {
    Thumbprint::of_der(der).to_string()
}

#[tokio::test]
async fn hyper_util_loop_handler_sees_the_leaf_and_chain() {
    let pki = Pki::new();
    let issuing = pki.client_ca.intermediate("Client Issuing CA");
    let client = issuing.leaf("client-1").issue();
    let (addr, _rx, server) = serve_hyper(pki.server_config(pki.webpki_verifier())).await;

    let (status, body) = https_get(addr, pki.client_config(&client, &[&issuing.cert]), "/")
        .await
        .unwrap();
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, format!("{} 1", thumb(&client.der)));
    server.abort();
}

#[tokio::test]
async fn accept_any_lets_a_self_signed_client_connect() {
    let pki = Pki::new();
    let verifier = Arc::new(AcceptAnyClientCert::new(provider()));
    let (addr, _rx, server) = serve_hyper(pki.server_config(verifier)).await;

    let me = self_signed("self-signed client").issue();
    let (status, body) = https_get(addr, pki.client_config(&me, &[]), "/")
        .await
        .unwrap();
    assert_eq!(
        (status, body),
        (StatusCode::OK, format!("{} 0", thumb(&me.der)))
    );

    // A WebPKI verifier refuses the same client.
    let (addr2, mut rx2, server2) = serve_hyper(pki.server_config(pki.webpki_verifier())).await;
    assert!(
        https_get(addr2, pki.client_config(&me, &[]), "/")
            .await
            .is_err()
    );
    assert!(rx2.recv().await.unwrap().is_err());
    server.abort();
    server2.abort();
}

#[tokio::test]
async fn accept_any_refuses_a_client_whose_key_does_not_match_its_certificate() {
    let pki = Pki::new();
    let claimed = self_signed("victim").issue();
    let attacker = self_signed("attacker").issue();
    for versions in [
        &[&rustls::version::TLS13][..],
        &[&rustls::version::TLS12][..],
    ] {
        let verifier = Arc::new(AcceptAnyClientCert::new(provider()));
        let (addr, mut rx, server) =
            serve_hyper(pki.server_config_versions(verifier, versions)).await;

        let result = https_get(addr, pki.mismatched_client_config(&claimed, &attacker), "/").await;
        assert!(result.is_err(), "{versions:?}: {result:?}");
        let server_side = rx.recv().await.unwrap().unwrap_err();
        assert!(
            server_side.to_lowercase().contains("signature"),
            "{versions:?}: {server_side}"
        );

        // The honest client still gets in.
        let (status, _) = https_get(addr, pki.client_config(&attacker, &[]), "/")
            .await
            .unwrap();
        assert_eq!(status, StatusCode::OK);
        server.abort();
    }
}

#[tokio::test]
async fn accept_any_optional_or_mandatory() {
    let pki = Pki::new();
    let optional = Arc::new(AcceptAnyClientCert::new(provider()).allow_unauthenticated());
    let (addr, _rx, server) = serve_hyper(pki.server_config(optional)).await;
    let anon = pki.anonymous_client_config();
    assert_eq!(
        https_get(addr, anon.clone(), "/maybe").await.unwrap(),
        (StatusCode::OK, "anonymous".to_owned())
    );
    let (status, body) = https_get(addr, anon.clone(), "/").await.unwrap();
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&body).unwrap()["error_description"],
        "a client certificate is required"
    );
    server.abort();

    let mandatory = Arc::new(AcceptAnyClientCert::new(provider()));
    let (addr, mut rx, server) = serve_hyper(pki.server_config(mandatory)).await;
    assert!(https_get(addr, anon, "/maybe").await.is_err());
    assert!(rx.recv().await.unwrap().is_err());
    server.abort();
}

#[tokio::test]
async fn axum_serve_with_tls_listener_and_connect_info() {
    let pki = Pki::new();
    let client = pki.client_ca.leaf("client-2").issue();
    let config = pki.server_config(pki.webpki_verifier());
    let tcp = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = tcp.local_addr().unwrap();
    let listener = TlsListener::new(tcp, tokio_rustls::TlsAcceptor::from(config));
    let app = app().route(
        "/peer",
        get(|axum::extract::ConnectInfo(info): axum::extract::ConnectInfo<TlsConnectInfo>| async move {
            info.remote_addr().ip().to_string()
        }),
    );
    let server = tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<TlsConnectInfo>(),
        )
        .await
        .unwrap();
    });

    // A failed handshake does not stop the listener.
    assert!(
        https_get(addr, pki.anonymous_client_config(), "/")
            .await
            .is_err()
    );
    let config = pki.client_config(&client, &[]);
    let (status, body) = https_get(addr, config.clone(), "/").await.unwrap();
    assert_eq!(
        (status, body),
        (StatusCode::OK, format!("{} 0", thumb(&client.der)))
    );
    let (_, peer) = https_get(addr, config, "/peer").await.unwrap();
    assert_eq!(peer, "127.0.0.1");
    server.abort();
}

#[tokio::test]
async fn axum_server_tls_info_is_read() {
    let pki = Pki::new();
    let client = pki.client_ca.leaf("client-3").issue();
    let config = axum_server::tls_rustls::RustlsConfig::from_config(
        pki.server_config(pki.webpki_verifier()),
    );
    let handle = axum_server::Handle::new();
    let server_handle = handle.clone();
    let server = tokio::spawn(async move {
        axum_server::bind_rustls("127.0.0.1:0".parse::<SocketAddr>().unwrap(), config)
            .handle(server_handle)
            .serve(app().into_make_service())
            .await
            .unwrap();
    });
    let addr = handle.listening().await.unwrap();
    let (status, body) = https_get(addr, pki.client_config(&client, &[]), "/")
        .await
        .unwrap();
    assert_eq!(
        (status, body),
        (StatusCode::OK, format!("{} 0", thumb(&client.der)))
    );
    handle.shutdown();
    server.await.unwrap();
}
