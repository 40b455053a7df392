//! [`ClientCertLayer`]: puts the client's [`ClientCert`](crate::ClientCert)
//! into the request extensions, from one configured source.
//!
//! The source is either the TLS connection ([`ClientCertLayer::tls`]) or one
//! proxy header ([`ClientCertLayer::header`] with a [`HeaderSource`]), never
//! both: a deployment behind a proxy that also accepts TLS directly must not
//! let one stand in for the other.
//!
//! A header is believed only when the connection's peer address (from
//! [`PeerAddr`](crate::PeerAddr), axum's `ConnectInfo<SocketAddr>`, or
//! tonic's `TcpConnectInfo`) is inside the trusted proxy networks. From any
//! other peer, or when the address is unknown, the header (and its chain and
//! "verified" headers) is removed from the request and ignored, so nothing
//! behind the layer can read a spoofed value.
//!
//! A header from a trusted proxy that cannot be decoded, or that comes on
//! more than one field line (no proxy writes two: the client sent one), is
//! answered with
//! `400 Bad Request` and `{"error":"invalid_request","error_description":...}`
//! (for gRPC requests: `grpc-status: 3`, `INVALID_ARGUMENT`); the inner
//! service is not called. No certificate is not an error: the request goes
//! on without a `ClientCert`, and what to do about it is the next layer's
//! decision.
//!
//! ```
//! use axum::{Router, routing::post};
//! use certbound_extract::{ClientCert, ClientCertLayer, HeaderSource, header::HeaderFormat};
//!
//! let source = HeaderSource::new(HeaderFormat::PemUrlEncoded)
//!     .trusted_proxies(["10.0.0.0/8".parse().unwrap(), "fd00::/8".parse().unwrap()]);
//! let app: Router = Router::new()
//!     .route("/token", post(|cert: ClientCert| async move { cert.thumbprint().to_string() }))
//!     .layer(ClientCertLayer::header(source));
//! ```

mod body;
mod future;
#[allow(clippy::module_inception)]
mod layer;
pub(crate) mod memo;
mod service;

pub use body::ResponseBody;
pub use future::ResponseFuture;
pub use layer::{ClientCertLayer, HeaderSource};
pub use service::ClientCertService;

/// Inserted by the layer into every request it forwards without a
/// [`ClientCert`](crate::ClientCert), so the extractor can tell "no
/// certificate" from "the layer is not installed" (a `ClientCert` in the
/// extensions says the layer ran).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Extracted;
