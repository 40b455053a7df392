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

    /// The certificate [`ClientCertLayer`](crate::ClientCertLayer) put in
    /// a request's extensions, for a layer or handler behind it; `consumer`
    /// names the caller in the log. When no `ClientCertLayer` ran on the
    /// request (a mistake in the stack, not a client without a
    /// certificate), a warning naming the missing layer is logged, once per
    /// process, and the answer is `None`.
    ///
    /// ```
    /// use certbound_extract::ClientCert;
    ///
    /// let req = http::Request::new(());
    /// // No ClientCertLayer ran: `None`, and a warning in the log.
    /// assert!(ClientCert::from_extensions(req.extensions(), "my layer").is_none());
    /// ```
    pub fn from_extensions<'a>(
        extensions: &'a http::Extensions,
        consumer: &str,
    ) -> Option<&'a Self> {
        static ONCE: std::sync::Once = std::sync::Once::new();
        let cert = extensions.get::<Self>();
        if cert.is_none() && extensions.get::<crate::layer::Extracted>().is_none() {
            ONCE.call_once(|| {
                tracing::warn!(
                    consumer,
                    "{consumer} needs a client certificate, but no ClientCertLayer ran on the \
                     request: add ClientCertLayer::tls() or ClientCertLayer::header(..) outside it; \
                     until then every request is treated as having no certificate"
                );
            });
        }
        cert
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
