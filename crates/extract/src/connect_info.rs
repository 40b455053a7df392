//! TLS for `axum::serve`: [`TlsListener`] and its connection info,
//! [`TlsConnectInfo`].
//!
//! [`TlsListener`] wraps any plain axum [`Listener`] (such as a
//! `tokio::net::TcpListener`) with a rustls acceptor; handshakes run
//! concurrently, each with a timeout, so a slow client does not hold up the
//! others. Serve the router with
//! `into_make_service_with_connect_info::<TlsConnectInfo>()` and every
//! request carries the peer's address and certificates, which
//! [`ClientCertLayer`](crate::ClientCertLayer) reads.
//!
//! ```no_run
//! use axum::{Router, routing::get};
//! use certbound_extract::{ClientCert, ClientCertLayer, connect_info::{TlsConnectInfo, TlsListener}};
//! # async fn run(config: std::sync::Arc<rustls::ServerConfig>) -> std::io::Result<()> {
//! let app = Router::new()
//!     .route("/", get(|cert: ClientCert| async move { cert.thumbprint().to_string() }))
//!     .layer(ClientCertLayer::tls());
//! let tcp = tokio::net::TcpListener::bind("127.0.0.1:8443").await?;
//! let listener = TlsListener::new(tcp, tokio_rustls::TlsAcceptor::from(config));
//! axum::serve(listener, app.into_make_service_with_connect_info::<TlsConnectInfo>()).await
//! # }
//! ```
//!
//! [`Listener`]: axum::serve::Listener

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::connect_info::Connected;
use axum::serve::{IncomingStream, Listener};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use crate::PeerCertificates;

/// The peer address and TLS client certificates of an axum connection.
#[derive(Debug, Clone)]
pub struct TlsConnectInfo {
    remote_addr: SocketAddr,
    certs: Option<PeerCertificates>,
}

impl TlsConnectInfo {
    /// Connection info from its parts, for a listener of your own.
    pub fn new(remote_addr: SocketAddr, certs: Option<PeerCertificates>) -> Self {
        Self { remote_addr, certs }
    }

    /// The peer's address.
    pub fn remote_addr(&self) -> SocketAddr {
        self.remote_addr
    }

    /// The certificates the client sent, if any.
    pub fn peer_certificates(&self) -> Option<&PeerCertificates> {
        self.certs.as_ref()
    }
}

impl<L> Connected<IncomingStream<'_, TlsListener<L>>> for TlsConnectInfo
where
    L: Listener<Addr = SocketAddr>,
{
    fn connect_info(stream: IncomingStream<'_, TlsListener<L>>) -> Self {
        let (_, conn) = stream.io().get_ref();
        Self::new(
            *stream.remote_addr(),
            PeerCertificates::from_connection(conn),
        )
    }
}

/// A [`Listener`] that does the TLS handshake on the connections of another.
pub struct TlsListener<L: Listener> {
    inner: L,
    acceptor: TlsAcceptor,
    handshake_timeout: Duration,
    handshakes: JoinSet<Handshake<L>>,
}

/// A finished handshake, or `None` when it failed.
type Handshake<L> = Option<(TlsStream<<L as Listener>::Io>, <L as Listener>::Addr)>;

impl<L: Listener> TlsListener<L> {
    /// Wraps `inner`; handshakes time out after 10 seconds.
    pub fn new(inner: L, acceptor: TlsAcceptor) -> Self {
        Self {
            inner,
            acceptor,
            handshake_timeout: Duration::from_secs(10),
            handshakes: JoinSet::new(),
        }
    }

    /// How long a handshake may take.
    pub fn handshake_timeout(mut self, timeout: Duration) -> Self {
        self.handshake_timeout = timeout;
        self
    }
}

impl<L: Listener> fmt::Debug for TlsListener<L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsListener")
            .field("handshake_timeout", &self.handshake_timeout)
            .field("handshakes_in_progress", &self.handshakes.len())
            .finish_non_exhaustive()
    }
}

impl<L> Listener for TlsListener<L>
where
    L: Listener,
    L::Addr: Send + fmt::Debug,
{
    type Io = TlsStream<L::Io>;
    type Addr = L::Addr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            tokio::select! {
                (io, addr) = self.inner.accept() => {
                    let acceptor = self.acceptor.clone();
                    let timeout = self.handshake_timeout;
                    self.handshakes.spawn(async move {
                        match tokio::time::timeout(timeout, acceptor.accept(io)).await {
                            Ok(Ok(stream)) => Some((stream, addr)),
                            Ok(Err(e)) => {
                                tracing::debug!(peer = ?addr, error = %e, "TLS handshake failed");
                                None
                            }
                            Err(_) => {
                                tracing::debug!(peer = ?addr, "TLS handshake timed out");
                                None
                            }
                        }
                    });
                }
                Some(done) = self.handshakes.join_next(), if !self.handshakes.is_empty() => {
                    if let Ok(Some(accepted)) = done {
                        return accepted;
                    }
                }
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}
