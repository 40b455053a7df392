//! [`TlsClientAuth`]: the configuration of PKI mutual TLS client
//! authentication (RFC 8705 §2.1), and the path validation it runs.

use std::cell::Cell;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use certbound_cert::Certificate;
use rustls_pki_types::{CertificateDer, SignatureVerificationAlgorithm, UnixTime};
use sha2::{Digest, Sha256};
use webpki::{
    CertRevocationList, EndEntityCert, ExpirationPolicy, KeyUsage, OwnedCertRevocationList,
    RevocationCheckDepth, RevocationOptionsBuilder, UnknownStatusPolicy,
};

use crate::TrustStore;

/// What the leaf's extended key usage must say.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum EkuPolicy {
    /// When the leaf has an EKU extension it must list clientAuth; a leaf
    /// without the extension is accepted (RFC 5280 §4.2.1.12). The default.
    #[default]
    ClientAuthIfPresent,
    /// The leaf must have an EKU extension that lists clientAuth.
    ClientAuthRequired,
}

/// Why the configuration was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A CRL could not be read.
    #[error("invalid CRL: {0}")]
    Crl(String),
    /// A policy OID is not a dotted OID.
    #[error("invalid policy OID {0:?}: expected dotted decimal such as 1.2.3.4")]
    PolicyOid(String),
}

/// The configuration of `tls_client_auth`: trust anchors, configured
/// intermediates, CRLs, EKU and policy requirements, path length, and the
/// cache of successful verifications.
///
/// ```
/// use std::time::Duration;
/// use certbound_auth::{EkuPolicy, TlsClientAuth, TrustStore};
/// use certbound_testkit::TestCa;
///
/// let root = TestCa::new("Example Root");
/// let issuing = root.intermediate("Example Issuing CA");
/// let tls = TlsClientAuth::new(TrustStore::from_pem(&root.cert.pem)?)
///     .intermediate(certbound_cert::Certificate::from_pem(&issuing.cert.pem)?)
///     .eku(EkuPolicy::ClientAuthRequired)
///     .required_policy("1.3.6.1.4.1.99999.1")?
///     .max_intermediates(2)
///     .cache_ttl(Duration::from_secs(300));
/// # let _ = tls;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct TlsClientAuth {
    pub(crate) trust_store: TrustStore,
    pub(crate) intermediates: Vec<CertificateDer<'static>>,
    crls: Vec<Crl>,
    crl_depth: RevocationCheckDepth,
    enforce_crl_next_update: bool,
    refuse_unknown_revocation_status: bool,
    pub(crate) eku: EkuPolicy,
    pub(crate) required_policies: Vec<String>,
    pub(crate) max_intermediates: usize,
    algorithms: &'static [&'static dyn SignatureVerificationAlgorithm],
    pub(crate) cache_ttl: Duration,
    pub(crate) cache_capacity: u64,
}

impl std::fmt::Debug for TlsClientAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsClientAuth")
            .field("trust_store", &self.trust_store)
            .field("intermediates", &self.intermediates.len())
            .field("crls", &self.crls.len())
            .field("eku", &self.eku)
            .field("required_policies", &self.required_policies)
            .field("max_intermediates", &self.max_intermediates)
            .field("cache_ttl", &self.cache_ttl)
            .finish_non_exhaustive()
    }
}

impl TlsClientAuth {
    /// `tls_client_auth` against these trust anchors, with the defaults:
    /// clientAuth EKU required when present, no CRL, no policy, at most 4
    /// intermediates, the ring signature algorithms of webpki, and a cache of
    /// 10 000 verifications kept 5 minutes.
    pub fn new(trust_store: TrustStore) -> Self {
        Self {
            trust_store,
            intermediates: Vec::new(),
            crls: Vec::new(),
            crl_depth: RevocationCheckDepth::Chain,
            enforce_crl_next_update: true,
            refuse_unknown_revocation_status: false,
            eku: EkuPolicy::default(),
            required_policies: Vec::new(),
            max_intermediates: 4,
            algorithms: webpki::ALL_VERIFICATION_ALGS,
            cache_ttl: Duration::from_secs(300),
            cache_capacity: 10_000,
        }
    }

    /// Adds an intermediate CA certificate used to complete chains that
    /// arrive without it (a proxy that forwards only the leaf).
    pub fn intermediate(mut self, cert: Certificate) -> Self {
        self.intermediates
            .push(CertificateDer::from(cert.der().to_vec()));
        self
    }

    /// Adds a CRL (DER). Certificates it lists are refused; certificates of
    /// issuers without a CRL have an unknown revocation status, accepted
    /// unless [`refuse_unknown_revocation_status`](Self::refuse_unknown_revocation_status).
    pub fn crl(mut self, der: &[u8]) -> Result<Self, ConfigError> {
        let crl =
            OwnedCertRevocationList::from_der(der).map_err(|e| ConfigError::Crl(e.to_string()))?;
        // webpki keeps nextUpdate to itself; the cache needs it.
        let next_update = x509_parser::parse_x509_crl(der)
            .map_err(|e| ConfigError::Crl(e.to_string()))?
            .1
            .next_update()
            .and_then(|t| u64::try_from(t.timestamp()).ok())
            .map(|secs| UNIX_EPOCH + Duration::from_secs(secs))
            .ok_or_else(|| ConfigError::Crl("no nextUpdate".into()))?;
        self.crls.push(Crl {
            list: CertRevocationList::Owned(crl),
            next_update,
        });
        Ok(self)
    }

    /// Refuses a certificate of the path when no configured CRL covers its
    /// issuer (its revocation status is unknown); off by default. With
    /// [`crl_leaf_only`](Self::crl_leaf_only) only the leaf needs a CRL.
    pub fn refuse_unknown_revocation_status(mut self, refuse: bool) -> Self {
        self.refuse_unknown_revocation_status = refuse;
        self
    }

    /// Checks only the leaf against the CRLs, not the intermediates.
    pub fn crl_leaf_only(mut self) -> Self {
        self.crl_depth = RevocationCheckDepth::EndEntity;
        self
    }

    /// Whether a CRL past its nextUpdate fails verification (the default) or
    /// is still used.
    pub fn enforce_crl_next_update(mut self, enforce: bool) -> Self {
        self.enforce_crl_next_update = enforce;
        self
    }

    /// The EKU requirement on the leaf.
    pub fn eku(mut self, policy: EkuPolicy) -> Self {
        self.eku = policy;
        self
    }

    /// Requires this certificate policy OID (dotted decimal) on the leaf.
    pub fn required_policy(mut self, oid: &str) -> Result<Self, ConfigError> {
        let ok = oid.split('.').count() >= 2
            && oid
                .split('.')
                .all(|arc| !arc.is_empty() && arc.bytes().all(|b| b.is_ascii_digit()));
        if !ok {
            return Err(ConfigError::PolicyOid(oid.to_owned()));
        }
        self.required_policies.push(oid.to_owned());
        Ok(self)
    }

    /// The most intermediates allowed between the leaf and the anchor.
    pub fn max_intermediates(mut self, n: usize) -> Self {
        self.max_intermediates = n;
        self
    }

    /// The signature algorithms accepted (the crypto provider's); webpki's
    /// ring set by default.
    pub fn signature_algorithms(
        mut self,
        algs: &'static [&'static dyn SignatureVerificationAlgorithm],
    ) -> Self {
        self.algorithms = algs;
        self
    }

    /// How long a successful verification is reused (never beyond the
    /// notAfter of a certificate of the path, the anchor's included, nor
    /// the nextUpdate of a CRL it relied on).
    pub fn cache_ttl(mut self, ttl: Duration) -> Self {
        self.cache_ttl = ttl;
        self
    }

    /// How many verifications the cache holds at most; 0 disables it.
    pub fn cache_capacity(mut self, n: u64) -> Self {
        self.cache_capacity = n;
        self
    }

    /// The global trust store.
    pub fn trust_store(&self) -> &TrustStore {
        &self.trust_store
    }

    /// Path validation with webpki, then the issuer pin, the path length
    /// and the anchor's pathLenConstraint (checked for each candidate path,
    /// so another path may still pass).
    pub(crate) fn validate_path(
        &self,
        leaf: &Certificate,
        presented: &[Certificate],
        anchors: &TrustStore,
        pin: Option<&[u8; 32]>,
        now: SystemTime,
    ) -> Result<ValidatedPath, PathError> {
        let leaf_der = CertificateDer::from(leaf.der());
        let ee = EndEntityCert::try_from(&leaf_der).map_err(PathError::Webpki)?;
        let mut intermediates: Vec<CertificateDer<'_>> = presented
            .iter()
            .map(|c| CertificateDer::from(c.der()))
            .collect();
        intermediates.extend(
            self.intermediates
                .iter()
                .map(|c| CertificateDer::from(c.as_ref())),
        );
        let time = UnixTime::since_unix_epoch(now.duration_since(UNIX_EPOCH).unwrap_or_default());
        let crl_refs: Vec<&CertRevocationList<'static>> =
            self.crls.iter().map(|c| &c.list).collect();
        let revocation = match RevocationOptionsBuilder::new(&crl_refs) {
            Ok(b) => Some(
                b.with_depth(self.crl_depth)
                    .with_status_policy(if self.refuse_unknown_revocation_status {
                        UnknownStatusPolicy::Deny
                    } else {
                        UnknownStatusPolicy::Allow
                    })
                    .with_expiration_policy(if self.enforce_crl_next_update {
                        ExpirationPolicy::Enforce
                    } else {
                        ExpirationPolicy::Ignore
                    })
                    .build(),
            ),
            // No CRL at all: every status is unknown.
            Err(_) if self.refuse_unknown_revocation_status => {
                return Err(PathError::Webpki(webpki::Error::UnknownRevocationStatus));
            }
            Err(_) => None,
        };
        let rejected: Cell<Option<PathError>> = Cell::new(None);
        let max = self.max_intermediates;
        let check = |path: &webpki::VerifiedPath<'_>| -> Result<(), webpki::Error> {
            let n = path.intermediate_certificates().count();
            // The anchor's own pathLenConstraint, which webpki ignores.
            let limit = match anchors.path_len(path.anchor()) {
                Some(len) => max.min(usize::try_from(len).unwrap_or(usize::MAX)),
                None => max,
            };
            if n > limit {
                rejected.set(Some(PathError::TooLong {
                    intermediates: n,
                    max: limit,
                }));
                return Err(webpki::Error::MaximumPathDepthExceeded);
            }
            if let Some(pin) = pin {
                let spki = path.issuer_spki();
                let got: [u8; 32] = Sha256::digest(spki.as_ref()).into();
                if &got != pin {
                    rejected.set(Some(PathError::IssuerPinMismatch { presented: got }));
                    return Err(webpki::Error::UnknownIssuer);
                }
            }
            Ok(())
        };
        let result = ee.verify_for_usage(
            self.algorithms,
            anchors.anchors(),
            &intermediates,
            time,
            KeyUsage::client_auth(),
            revocation,
            Some(&check),
        );
        let path = match result {
            Ok(path) => path,
            Err(e) => {
                return Err(match rejected.take() {
                    Some(ours)
                        if matches!(
                            e,
                            webpki::Error::UnknownIssuer | webpki::Error::MaximumPathDepthExceeded
                        ) =>
                    {
                        ours
                    }
                    _ => PathError::Webpki(e),
                });
            }
        };

        // Until when this verification holds: the earliest notAfter of the
        // path (webpki checks each at `now` only) and nextUpdate of the CRLs
        // it relied on.
        let mut valid_until = leaf.validity().not_after;
        if let Some(t) = anchors.not_after(path.anchor()) {
            valid_until = valid_until.min(t);
        }
        for cert in path.intermediate_certificates() {
            valid_until = valid_until.min(not_after(cert.der().as_ref()));
        }
        // The certificates whose revocation webpki checked, by issuer.
        let mut checked: Vec<&[u8]> = vec![ee.issuer()];
        if self.crl_depth == RevocationCheckDepth::Chain {
            checked.extend(path.intermediate_certificates().map(|c| c.issuer()));
        }
        let mut unknown = None;
        for issuer in &checked {
            match self.crls.iter().find(|c| c.list.issuer() == *issuer) {
                Some(crl) => valid_until = valid_until.min(crl.next_update),
                None => {
                    unknown.get_or_insert_with(|| name_from_content(issuer));
                }
            }
        }
        let revocation = match unknown {
            _ if self.crls.is_empty() => Revocation::NotConfigured,
            Some(issuer) => Revocation::Unknown { issuer },
            None => Revocation::NotRevoked {
                certificates: checked.len(),
            },
        };
        Ok(ValidatedPath {
            intermediates: path.intermediate_certificates().count(),
            issuer_spki_sha256: Sha256::digest(path.issuer_spki().as_ref()).into(),
            anchor_subject_der: path.anchor().subject.as_ref().to_vec(),
            valid_until,
            revocation,
        })
    }
}

/// A configured CRL and its nextUpdate.
struct Crl {
    list: CertRevocationList<'static>,
    next_update: SystemTime,
}

/// A certificate's notAfter; the epoch when it does not parse, so that
/// nothing is cached on its account.
fn not_after(der: &[u8]) -> SystemTime {
    x509_parser::parse_x509_certificate(der)
        .ok()
        .and_then(|(_, c)| u64::try_from(c.validity().not_after.timestamp()).ok())
        .map_or(UNIX_EPOCH, |secs| UNIX_EPOCH + Duration::from_secs(secs))
}

/// An RFC 4514 name from webpki's form of it, the DER content of the Name
/// SEQUENCE.
fn name_from_content(subject: &[u8]) -> String {
    let mut der = vec![0x30];
    let len = subject.len();
    if len < 0x80 {
        der.push(len as u8);
    } else if len <= 0xff {
        der.extend([0x81, len as u8]);
    } else {
        der.extend([0x82, (len >> 8) as u8, len as u8]);
    }
    der.extend_from_slice(subject);
    use x509_parser::prelude::FromDer;
    match x509_parser::x509::X509Name::from_der(&der) {
        Ok((_, name)) => certbound_cert::DistinguishedName::from_x509_name(&name).to_string(),
        Err(_) => "(unreadable)".to_owned(),
    }
}

/// A path webpki validated.
#[derive(Debug, Clone)]
pub(crate) struct ValidatedPath {
    pub(crate) intermediates: usize,
    pub(crate) issuer_spki_sha256: [u8; 32],
    anchor_subject_der: Vec<u8>,
    /// The earliest notAfter of the path and nextUpdate of the CRLs used.
    pub(crate) valid_until: SystemTime,
    pub(crate) revocation: Revocation,
}

/// What the CRLs said about the path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Revocation {
    /// No CRL is configured.
    NotConfigured,
    /// A CRL covered each checked certificate's issuer, and none listed it.
    NotRevoked { certificates: usize },
    /// No configured CRL covers this issuer: the status is unknown.
    Unknown { issuer: String },
}

impl ValidatedPath {
    /// The anchor's subject, RFC 4514 (formatted only when asked: it is
    /// for reports).
    pub(crate) fn anchor_subject(&self) -> String {
        name_from_content(&self.anchor_subject_der)
    }
}

/// Why path validation failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PathError {
    Webpki(webpki::Error),
    TooLong { intermediates: usize, max: usize },
    IssuerPinMismatch { presented: [u8; 32] },
}
