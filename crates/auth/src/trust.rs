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
    /// Per anchor, its basicConstraints pathLenConstraint: webpki does not
    /// read an anchor's own constraints, so certbound enforces it (RFC 5280
    /// §6.1.1(d) lets the anchor's constraints apply).
    path_len: Vec<Option<u32>>,
}

/// Why a certificate cannot be a trust anchor.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TrustStoreError {
    /// The text or bytes are not certificates.
    #[error("not a certificate: {0}")]
    Certificate(#[from] certbound_cert::CertError),
    /// The certificate is not a CA certificate: basicConstraints must say
    /// CA:TRUE and keyUsage, when present, must include keyCertSign
    /// (RFC 5280 §4.2.1.9, §4.2.1.3).
    #[error("certificate {subject} cannot be a trust anchor: {reason}")]
    NotCa {
        /// The certificate's subject.
        subject: String,
        /// What it lacks.
        reason: &'static str,
    },
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

    /// A store of these CA certificates. Each must be a CA certificate
    /// (basicConstraints CA:TRUE, keyCertSign when keyUsage is present).
    pub fn from_certificates(
        certs: impl IntoIterator<Item = Certificate>,
    ) -> Result<Self, TrustStoreError> {
        let mut inner = Inner::default();
        for cert in certs {
            let path_len = ca_path_len(&cert).map_err(|reason| TrustStoreError::NotCa {
                subject: cert.subject().to_string(),
                reason,
            })?;
            let der = CertificateDer::from(cert.der());
            let anchor = webpki::anchor_from_trusted_cert(&der)
                .map_err(|e| TrustStoreError::Unusable {
                    subject: cert.subject().to_string(),
                    reason: e.to_string(),
                })?
                .to_owned();
            inner.anchors.push(anchor);
            inner.path_len.push(path_len);
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

    fn position(&self, anchor: &TrustAnchor<'_>) -> Option<usize> {
        self.inner.anchors.iter().position(|a| {
            a.subject.as_ref() == anchor.subject.as_ref()
                && a.subject_public_key_info.as_ref() == anchor.subject_public_key_info.as_ref()
        })
    }

    /// The pathLenConstraint of the anchor webpki chose.
    pub(crate) fn path_len(&self, anchor: &TrustAnchor<'_>) -> Option<u32> {
        self.position(anchor)
            .and_then(|i| self.inner.path_len.get(i).copied().flatten())
    }

    /// The certificate of the anchor webpki chose.
    pub(crate) fn certificate(&self, anchor: &TrustAnchor<'_>) -> Option<&Certificate> {
        self.position(anchor).and_then(|i| self.inner.certs.get(i))
    }
}

/// Whether `cert` is a CA certificate, and its pathLenConstraint.
fn ca_path_len(cert: &Certificate) -> Result<Option<u32>, &'static str> {
    let parsed = cert.parsed().map_err(|_| "its fields do not parse")?;
    let constraints = parsed
        .basic_constraints()
        .map_err(|_| "its basicConstraints extension is malformed")?
        .map(|ext| ext.value);
    let Some(constraints) = constraints.filter(|c| c.ca) else {
        return Err("basicConstraints does not say CA:TRUE");
    };
    let key_usage = parsed
        .key_usage()
        .map_err(|_| "its keyUsage extension is malformed")?;
    if key_usage.is_some_and(|ku| !ku.value.key_cert_sign()) {
        return Err("keyUsage does not include keyCertSign");
    }
    Ok(constraints.path_len_constraint)
}
