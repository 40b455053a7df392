//! Where the client certificate comes from: the TLS connection, or a trusted
//! reverse proxy's header (RFC 8705 deployments terminate TLS either way).
//!
//! - [`PeerCertificatesLayer`] puts the chain of a rustls connection into its
//!   requests; adapters read the same from axum-server's `TlsInfo`, tonic's
//!   `TlsConnectInfo`, and axum's `connect_info::TlsConnectInfo`.
//! - [`danger::AcceptAnyClientCert`] lets `self_signed_tls_client_auth`
//!   clients connect.
//! - [`header`] decodes the five proxy header formats, as plain functions.
//! - [`ClientCertLayer`] puts a [`ClientCert`] into the request extensions
//!   from one configured source; the axum extractor reads it.
//!
//! ```
//! use certbound_extract::{ClientCert, ClientCertLayer, HeaderSource, PeerAddr, header::HeaderFormat};
//! use http::Request;
//! use tower::{ServiceBuilder, ServiceExt, service_fn};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let header = certbound_testkit::vectors::header_value(certbound_testkit::vectors::RFC9440_CLIENT_CERT_HEADER);
//! let svc = ServiceBuilder::new()
//!     .layer(ClientCertLayer::header(
//!         HeaderSource::new(HeaderFormat::Rfc9440).trusted_proxies(["10.0.0.0/8".parse()?]),
//!     ))
//!     .service(service_fn(|req: Request<()>| async move {
//!         // The handler's view: the certificate, with where it came from.
//!         let cert = req.extensions().get::<ClientCert>().unwrap();
//!         let res = http::Response::builder().header("x-thumbprint", cert.thumbprint().to_string());
//!         Ok::<_, http::Error>(res.body(())?)
//!     }));
//!
//! let mut req = Request::new(());
//! req.headers_mut().insert("client-cert", header.parse()?);
//! req.extensions_mut().insert(PeerAddr("10.1.2.3:5000".parse()?));
//! let res = svc.oneshot(req).await?;
//! assert_eq!(res.headers()["x-thumbprint"], "v68ffgcPn6jdYpBfFY2nP4ShE2Yk-6_Mk5PI9yh6aes");
//! # Ok(()) }
//! ```
//!
//! Cargo features: `axum` (extractor, `ConnectInfo`, `connect_info`),
//! `axum-server` (`TlsInfo`), `tonic` (`TlsConnectInfo`, `TcpConnectInfo`).
#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]
#![cfg_attr(docsrs, feature(doc_auto_cfg))]

mod client_cert;
mod conn;
#[cfg(feature = "axum")]
pub mod connect_info;
pub mod danger;
#[cfg(feature = "axum")]
mod extractor;
pub mod header;
pub mod layer;
mod peer;

pub use client_cert::{CertSource, ClientCert};
#[cfg(feature = "axum")]
pub use extractor::{ClientCertRejection, RejectionReason};
pub use layer::{ClientCertLayer, ClientCertService, HeaderSource, ResponseBody};
pub use peer::{AddPeerCertificates, PeerAddr, PeerCertificates, PeerCertificatesLayer};
