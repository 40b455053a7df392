//! [`TrustStore`]: the CA certificates `tls_client_auth` chains must lead to.

use std::sync::Arc;

use certbound_cert::{Certificate, pem};
use rustls_pki_types::{CertificateDer, TrustAnchor};

/// A set of trust anchors (root or issuing CA certificates). Cheap to clone.
///
/// ```
/// use certbound_auth::TrustStore;
/// use certbound_testkit::TestCa;
///
/// let root = TestCa::new("Example Root");
/// let store = TrustStore::from_pem(&root.cert.pem)?;
/// assert_eq!(store.len(), 1);
/// # Ok::<(), certbound_auth::TrustStoreError>(())
/// ```
#[derive(Clone, Default)]
pub struct TrustStore {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    certs: Vec<Certificate>,
    anchors: Vec<TrustAnchor<'static>>,
}

/// Why a certificate cannot be a trust anchor.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TrustStoreError {
    /// The text or bytes are not certificates.
    #[error("not a certificate: {0}")]
    Certificate(#[from] certbound_cert::CertError),
    /// webpki cannot use the certificate as an anchor (an X.509 v1
    /// certificate, for instance).
    #[error("certificate {subject} cannot be a trust anchor: {reason}")]
    Unusable {
        /// The certificate's subject.
        subject: String,
        /// webpki's reason.
        reason: String,
    },
}

impl std::fmt::Debug for TrustStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.inner.certs.iter().map(|c| c.subject().to_string()))
            .finish()
    }
}

impl TrustStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// A store of these CA certificates.
    pub fn from_certificates(
        certs: impl IntoIterator<Item = Certificate>,
    ) -> Result<Self, TrustStoreError> {
        let mut inner = Inner::default();
        for cert in certs {
            let der = CertificateDer::from(cert.der());
            let anchor = webpki::anchor_from_trusted_cert(&der)
                .map_err(|e| TrustStoreError::Unusable {
                    subject: cert.subject().to_string(),
                    reason: e.to_string(),
                })?
                .to_owned();
            inner.anchors.push(anchor);
            inner.certs.push(cert);
        }
        Ok(Self {
            inner: Arc::new(inner),
        })
    }

    /// A store of every certificate in a PEM text.
    pub fn from_pem(text: &str) -> Result<Self, TrustStoreError> {
        Self::from_certificates(pem::parse_certificates(text)?)
    }

    /// The anchors' certificates.
    pub fn certificates(&self) -> &[Certificate] {
        &self.inner.certs
    }

    /// The number of anchors.
    pub fn len(&self) -> usize {
        self.inner.anchors.len()
    }

    /// Whether there is no anchor.
    pub fn is_empty(&self) -> bool {
        self.inner.anchors.is_empty()
    }

    pub(crate) fn anchors(&self) -> &[TrustAnchor<'static>] {
        &self.inner.anchors
    }
}
