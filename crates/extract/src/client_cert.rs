//! [`ClientCert`]: the certificate a client presented, and where it came from.

use std::sync::Arc;

use certbound_cert::{Certificate, Thumbprint};

/// Where a [`ClientCert`] was read from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CertSource {
    /// The TLS handshake of the connection this request came on.
    Tls,
    /// A header set by a trusted reverse proxy.
    Header {
        /// The header's name (lowercase, as `http` keeps every name).
        name: http::HeaderName,
    },
}

/// The certificate a client presented: its leaf, the intermediates it sent
/// with it (leaf excluded, in the order sent), and where it came from.
///
/// Cheap to clone. Put into the request extensions by `ClientCertLayer`.
#[derive(Debug, Clone)]
pub struct ClientCert {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    leaf: Certificate,
    intermediates: Vec<Certificate>,
    source: CertSource,
}

impl ClientCert {
    /// A client certificate from its leaf, the intermediates presented with
    /// it, and its source.
    pub fn new(leaf: Certificate, intermediates: Vec<Certificate>, source: CertSource) -> Self {
        Self {
            inner: Arc::new(Inner {
                leaf,
                intermediates,
                source,
            }),
        }
    }

    /// The end-entity certificate.
    pub fn leaf(&self) -> &Certificate {
        &self.inner.leaf
    }

    /// The intermediates presented with the leaf, leaf excluded.
    pub fn intermediates(&self) -> &[Certificate] {
        &self.inner.intermediates
    }

    /// Where the certificate was read from.
    pub fn source(&self) -> &CertSource {
        &self.inner.source
    }

    /// The leaf's `x5t#S256`, as computed when it was read.
    pub fn thumbprint(&self) -> Thumbprint {
        self.inner.leaf.thumbprint()
    }
}
