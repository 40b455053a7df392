//! What the connection knows about the peer: the certificates it sent during
//! the TLS handshake ([`PeerCertificates`]) and its address ([`PeerAddr`]),
//! put into every request of the connection by [`PeerCertificatesLayer`].
//!
//! In a hyper-util accept loop, after the TLS handshake:
//!
//! ```no_run
//! # use std::sync::Arc;
//! # use hyper_util::{rt::{TokioExecutor, TokioIo}, server::conn::auto, service::TowerToHyperService};
//! # use tower_layer::Layer;
//! # async fn run(listener: tokio::net::TcpListener, acceptor: tokio_rustls::TlsAcceptor, app: axum::Router) -> std::io::Result<()> {
//! use certbound_extract::PeerCertificatesLayer;
//!
//! loop {
//!     let (tcp, remote) = listener.accept().await?;
//!     let tls = acceptor.accept(tcp).await?;
//!     let svc = PeerCertificatesLayer::from_connection(tls.get_ref().1).peer_addr(remote).layer(app.clone());
//!     tokio::spawn(auto::Builder::new(TokioExecutor::new())
//!         .serve_connection(TokioIo::new(tls), TowerToHyperService::new(svc)).into_owned());
//! }
//! # }
//! ```

use std::fmt;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};

use certbound_cert::{CertError, Certificate};
use http::Request;
use rustls_pki_types::CertificateDer;
use tower_layer::Layer;
use tower_service::Service;

use crate::{CertSource, ClientCert};

/// The certificate chain the client sent in the TLS handshake, leaf first,
/// exactly as sent. Cheap to clone: one `Arc` per connection, shared by all
/// its requests. Never empty.
///
/// The [`ClientCert`] made from it is parsed once per connection and cached.
#[derive(Clone)]
pub struct PeerCertificates {
    inner: Arc<Inner>,
}

struct Inner {
    chain: Vec<CertificateDer<'static>>,
    client_cert: OnceLock<Result<ClientCert, CertError>>,
}

impl PeerCertificates {
    /// The chain as sent, leaf first. `None` when it is empty.
    pub fn new(chain: Vec<CertificateDer<'static>>) -> Option<Self> {
        if chain.is_empty() {
            return None;
        }
        Some(Self {
            inner: Arc::new(Inner {
                chain,
                client_cert: OnceLock::new(),
            }),
        })
    }

    /// The certificates of a finished rustls server handshake; `None` when
    /// the client sent none.
    pub fn from_connection(conn: &rustls::ServerConnection) -> Option<Self> {
        conn.peer_certificates()
            .and_then(|certs| Self::new(certs.iter().map(|c| c.clone().into_owned()).collect()))
    }

    /// The chain, leaf first.
    pub fn chain(&self) -> &[CertificateDer<'static>] {
        &self.inner.chain
    }

    /// The end-entity certificate.
    pub fn leaf(&self) -> &CertificateDer<'static> {
        // `new` refuses an empty chain.
        &self.inner.chain[0]
    }

    /// The chain as a [`ClientCert`] with source [`CertSource::Tls`], parsed
    /// on first use and cached for the connection.
    pub fn client_cert(&self) -> Result<ClientCert, CertError> {
        self.inner
            .client_cert
            .get_or_init(|| client_cert_of(self.inner.chain.iter().map(|c| c.as_ref())))
            .clone()
    }
}

/// The [`ClientCert`] of a TLS chain, leaf first: every certificate read.
pub(crate) fn client_cert_of<'a>(
    chain: impl IntoIterator<Item = &'a [u8]>,
) -> Result<ClientCert, CertError> {
    let mut certs = chain.into_iter().map(Certificate::from_der);
    let leaf = certs.next().ok_or(CertError::Empty)??;
    let intermediates = certs.collect::<Result<Vec<_>, _>>()?;
    Ok(ClientCert::new(leaf, intermediates, CertSource::Tls))
}

impl fmt::Debug for PeerCertificates {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PeerCertificates")
            .field("len", &self.inner.chain.len())
            .finish_non_exhaustive()
    }
}

/// Inserted by [`PeerCertificatesLayer`] when the connection has no
/// client certificate, so that `ClientCertLayer::tls` can tell "no
/// certificate" from "the connection was not passed on".
#[derive(Debug, Clone, Copy)]
pub(crate) struct NoPeerCertificates;

/// The address of the connection's peer: the client, or the proxy in front.
/// Used to decide whether a proxy header is believed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PeerAddr(pub SocketAddr);

/// A per-connection layer that puts the connection's [`PeerCertificates`]
/// (when the client sent any) and [`PeerAddr`] (when set) into every request.
#[derive(Debug, Clone, Default)]
pub struct PeerCertificatesLayer {
    certs: Option<PeerCertificates>,
    addr: Option<PeerAddr>,
}

impl PeerCertificatesLayer {
    /// A layer that adds these certificates.
    pub fn new(certs: Option<PeerCertificates>) -> Self {
        Self { certs, addr: None }
    }

    /// A layer for one finished rustls server connection.
    pub fn from_connection(conn: &rustls::ServerConnection) -> Self {
        Self::new(PeerCertificates::from_connection(conn))
    }

    /// Also adds the peer's address as [`PeerAddr`].
    pub fn peer_addr(mut self, addr: SocketAddr) -> Self {
        self.addr = Some(PeerAddr(addr));
        self
    }
}

impl<S> Layer<S> for PeerCertificatesLayer {
    type Service = AddPeerCertificates<S>;

    fn layer(&self, inner: S) -> Self::Service {
        AddPeerCertificates {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service of [`PeerCertificatesLayer`].
#[derive(Debug, Clone)]
pub struct AddPeerCertificates<S> {
    inner: S,
    layer: PeerCertificatesLayer,
}

impl<S, B> Service<Request<B>> for AddPeerCertificates<S>
where
    S: Service<Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<B>) -> Self::Future {
        if let Some(certs) = &self.layer.certs {
            req.extensions_mut().insert(certs.clone());
        } else {
            req.extensions_mut().insert(NoPeerCertificates);
        }
        if let Some(addr) = self.layer.addr {
            req.extensions_mut().insert(addr);
        }
        self.inner.call(req)
    }
}
