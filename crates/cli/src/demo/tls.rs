//! rustls server configurations and the accept loop (the three lines of a
//! hyper-util server with certbound-extract, plus graceful handling of
//! failed handshakes).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use certbound_extract::PeerCertificatesLayer;
use certbound_extract::danger::AcceptAnyClientCert;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use rustls::ServerConfig;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tower::Layer as _;

use super::DemoError;
use super::pki::Identity;

/// Whether a TLS host asks for a client certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ClientCerts {
    /// No certificate requested (the browser-facing host).
    None,
    /// Any certificate accepted, none required; the application decides
    /// ([`AcceptAnyClientCert`]).
    AcceptAny,
}

/// A server configuration with the demo's server certificate.
pub(crate) fn server_config(
    server: &Identity,
    client_certs: ClientCerts,
) -> Result<Arc<ServerConfig>, DemoError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| DemoError::Tls(e.to_string()))?;
    let builder = match client_certs {
        ClientCerts::None => builder.with_no_client_auth(),
        ClientCerts::AcceptAny => builder.with_client_cert_verifier(Arc::new(
            AcceptAnyClientCert::new(provider).allow_unauthenticated(),
        )),
    };
    let mut config = builder
        .with_single_cert(
            vec![CertificateDer::from(server.cert_der.clone())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server.key_der.clone())),
        )
        .map_err(|e| DemoError::Tls(e.to_string()))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Serves `app` (a `Router`, or certbound's layers around one) over TLS on
/// `listener` until the task is aborted.
pub(crate) fn serve_tls<S, B>(
    listener: TcpListener,
    config: Arc<ServerConfig>,
    app: S,
) -> JoinHandle<()>
where
    S: tower::Service<
            http::Request<hyper::body::Incoming>,
            Response = http::Response<B>,
            Error = std::convert::Infallible,
        > + Clone
        + Send
        + Sync
        + 'static,
    S::Future: Send + 'static,
    B: axum::body::HttpBody<Data = bytes::Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let acceptor = TlsAcceptor::from(config);
    tokio::spawn(async move {
        loop {
            let Ok((tcp, remote)) = listener.accept().await else {
                continue;
            };
            let acceptor = acceptor.clone();
            let app = app.clone();
            tokio::spawn(async move {
                let tls = match tokio::time::timeout(Duration::from_secs(10), acceptor.accept(tcp))
                    .await
                {
                    Ok(Ok(tls)) => tls,
                    Ok(Err(e)) => {
                        tracing::debug!(%remote, "TLS handshake failed: {e}");
                        return;
                    }
                    Err(_) => return,
                };
                let svc = PeerCertificatesLayer::from_connection(tls.get_ref().1)
                    .peer_addr(remote)
                    .layer(app);
                let _ = auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(tls), TowerToHyperService::new(svc))
                    .await;
            });
        }
    })
}

/// Serves `app` over plain HTTP (behind a TLS-terminating proxy).
pub(crate) fn serve_plain(listener: TcpListener, app: Router) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let Ok((tcp, remote)) = listener.accept().await else {
                continue;
            };
            let svc = PeerCertificatesLayer::new(None)
                .peer_addr(remote)
                .layer(app.clone());
            tokio::spawn(async move {
                let _ = auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(tcp), TowerToHyperService::new(svc))
                    .await;
            });
        }
    })
}

/// Binds a listener, with the address in the error.
pub(crate) async fn bind(addr: SocketAddr) -> Result<TcpListener, DemoError> {
    TcpListener::bind(addr)
        .await
        .map_err(|e| DemoError::Io(format!("cannot listen on {addr}: {e}")))
}
