//! [`TlsClientAuth`]: the configuration of PKI mutual TLS client
//! authentication (RFC 8705 §2.1), and the path validation it runs.

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use certbound_cert::Certificate;
use rustls_pki_types::{CertificateDer, SignatureVerificationAlgorithm, UnixTime};
use sha2::{Digest, Sha256};
use webpki::{
    CertRevocationList, EndEntityCert, ExpirationPolicy, KeyUsage, RevocationCheckDepth,
    RevocationOptionsBuilder, UnknownStatusPolicy,
};

use crate::TrustStore;
use crate::crl::{Crl, CrlFetcher, FileStamp};

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
    /// A CRL could not be read (a file: its path comes first).
    #[error("invalid CRL: {0}")]
    Crl(String),
    /// A policy OID is not a dotted OID.
    #[error("invalid policy OID {0:?}: expected dotted decimal such as 1.2.3.4")]
    PolicyOid(String),
}

/// The configuration of `tls_client_auth`: trust anchors, configured
/// intermediates, CRLs and where they come from, EKU and policy
/// requirements, path length, and the cache of successful verifications.
///
/// An [`Authenticator`](crate::Authenticator) takes a new one at run time
/// with [`update_tls_client_auth`](crate::Authenticator::update_tls_client_auth),
/// atomically and without losing its caches' other work or its metrics.
///
/// CRLs come from bytes ([`crl`](Self::crl)), files read again when they
/// change ([`crl_file`](Self::crl_file)), URLs ([`crl_url`](Self::crl_url))
/// and the distribution points of presented certificates
/// ([`crl_distribution_points`](Self::crl_distribution_points)), the last
/// two through a [`CrlFetcher`]. A CRL is used only when its signature
/// verifies with the key of a trust anchor or configured intermediate of
/// its issuer's name; a refreshed file, URL or distribution point that
/// served one issuer's CRL is not taken when it serves another's. Each is
/// refreshed in the background before its nextUpdate; a certificate whose
/// issuer's CRL is past its nextUpdate is refused (see
/// [`danger_crl_grace_period`](Self::danger_crl_grace_period)).
///
/// ```
/// use std::time::Duration;
/// use certbound_auth::{CrlFetchError, EkuPolicy, TlsClientAuth, TrustStore};
/// use certbound_testkit::TestCa;
///
/// let root = TestCa::new("Example Root");
/// let issuing = root.intermediate("Example Issuing CA");
/// let tls = TlsClientAuth::new(TrustStore::from_pem(&root.cert.pem)?)
///     .intermediate(certbound_cert::Certificate::from_pem(&issuing.cert.pem)?)
///     .crl(&issuing.crl(&[]))
///     .crl_url("http://crl.example.com/root.crl")
///     .crl_distribution_points(true)
///     .crl_fetcher(|url: String| async move {
///         // Fetch `url` with the HTTP client of your choice.
///         Err::<Vec<u8>, _>(CrlFetchError::new(format!("no HTTP client to fetch {url}")))
///     })
///     .crl_refresh_interval(Duration::from_secs(300))
///     .eku(EkuPolicy::ClientAuthRequired)
///     .required_policy("1.3.6.1.4.1.99999.1")
///     .max_intermediates(2)
///     .cache_ttl(Duration::from_secs(300));
/// # let _ = tls;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct TlsClientAuth {
    pub(crate) trust_store: TrustStore,
    pub(crate) intermediates: Vec<Certificate>,
    pub(crate) crls: Vec<Crl>,
    pub(crate) crl_files: Vec<(PathBuf, Crl, FileStamp)>,
    pub(crate) crl_urls: Vec<String>,
    pub(crate) crl_distribution_points: bool,
    pub(crate) crl_fetcher: Option<Arc<dyn CrlFetcher>>,
    pub(crate) crl_refresh_interval: Duration,
    pub(crate) crl_refresh_margin: Duration,
    pub(crate) crl_grace_period: Duration,
    pub(crate) max_crl_size: usize,
    pub(crate) max_crl_distribution_points: usize,
    crl_depth: RevocationCheckDepth,
    refuse_unknown_revocation_status: bool,
    pub(crate) eku: EkuPolicy,
    pub(crate) required_policies: Vec<String>,
    pub(crate) max_intermediates: usize,
    algorithms: &'static [&'static dyn SignatureVerificationAlgorithm],
    pub(crate) cache_ttl: Duration,
    pub(crate) cache_capacity: u64,
    /// The first error of a method that could not take its argument,
    /// reported by [`AuthenticatorBuilder::build`](crate::AuthenticatorBuilder::build).
    pub(crate) error: Option<ConfigError>,
}

impl std::fmt::Debug for TlsClientAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsClientAuth")
            .field("trust_store", &self.trust_store)
            .field("intermediates", &self.intermediates.len())
            .field("crls", &self.crls.len())
            .field(
                "crl_files",
                &self.crl_files.iter().map(|(p, _, _)| p).collect::<Vec<_>>(),
            )
            .field("crl_urls", &self.crl_urls)
            .field("crl_distribution_points", &self.crl_distribution_points)
            .field("crl_fetcher", &self.crl_fetcher.is_some())
            .field("crl_refresh_interval", &self.crl_refresh_interval)
            .field("crl_grace_period", &self.crl_grace_period)
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
    /// 10 000 verifications kept 5 minutes. When CRLs are added: refreshed
    /// every 5 minutes and at the latest a minute before their nextUpdate,
    /// no grace past nextUpdate, at most 10 MiB each, at most 64
    /// distribution points followed.
    pub fn new(trust_store: TrustStore) -> Self {
        Self {
            trust_store,
            intermediates: Vec::new(),
            crls: Vec::new(),
            crl_files: Vec::new(),
            crl_urls: Vec::new(),
            crl_distribution_points: false,
            crl_fetcher: None,
            crl_refresh_interval: Duration::from_secs(300),
            crl_refresh_margin: Duration::from_secs(60),
            crl_grace_period: Duration::ZERO,
            max_crl_size: 10 << 20,
            max_crl_distribution_points: 64,
            crl_depth: RevocationCheckDepth::Chain,
            refuse_unknown_revocation_status: false,
            eku: EkuPolicy::default(),
            required_policies: Vec::new(),
            max_intermediates: 4,
            algorithms: webpki::ALL_VERIFICATION_ALGS,
            cache_ttl: Duration::from_secs(300),
            cache_capacity: 10_000,
            error: None,
        }
    }

    /// Keeps the first error for `build()`.
    fn fail(mut self, error: ConfigError) -> Self {
        self.error.get_or_insert(error);
        self
    }

    /// Adds an intermediate CA certificate used to complete chains that
    /// arrive without it (a proxy that forwards only the leaf).
    pub fn intermediate(mut self, cert: Certificate) -> Self {
        self.intermediates.push(cert);
        self
    }

    /// Adds a CRL (PEM or DER). Certificates it lists are refused;
    /// certificates of issuers without a CRL have an unknown revocation
    /// status, accepted unless
    /// [`refuse_unknown_revocation_status`](Self::refuse_unknown_revocation_status).
    /// It is used only when its signature verifies (see [`TlsClientAuth`]):
    /// checked when the authenticator takes the configuration, otherwise
    /// logged and left out. A CRL that cannot be read makes
    /// [`AuthenticatorBuilder::build`](crate::AuthenticatorBuilder::build)
    /// (or [`update_tls_client_auth`](crate::Authenticator::update_tls_client_auth))
    /// fail.
    pub fn crl(mut self, crl: &[u8]) -> Self {
        match Crl::parse(crl, self.max_crl_size) {
            Ok(crl) => {
                self.crls.push(crl);
                self
            }
            Err(e) => self.fail(ConfigError::Crl(e)),
        }
    }

    /// Adds a CRL file (PEM or DER), read now and read again, in the
    /// background, whenever its modification time or length changes (an
    /// operator's job can replace it). An unreadable file makes
    /// [`AuthenticatorBuilder::build`](crate::AuthenticatorBuilder::build)
    /// fail, and is a logged refresh failure later.
    pub fn crl_file(mut self, path: impl AsRef<Path>) -> Self {
        let path = path.as_ref().to_path_buf();
        match crate::crl::live::read_file(&path, self.max_crl_size)
            .and_then(|(bytes, stamp)| Ok((Crl::parse(&bytes, self.max_crl_size)?, stamp)))
        {
            Ok((crl, stamp)) => {
                self.crl_files.push((path, crl, stamp));
                self
            }
            Err(e) => self.fail(ConfigError::Crl(format!("{}: {e}", path.display()))),
        }
    }

    /// Adds a CRL published at `url`, fetched with the
    /// [`crl_fetcher`](Self::crl_fetcher) in the background: until the first
    /// fetch (at once when the authenticator takes the configuration, or
    /// [`Authenticator::refresh_crls`](crate::Authenticator::refresh_crls))
    /// the status of its issuer's certificates is unknown.
    pub fn crl_url(mut self, url: impl Into<String>) -> Self {
        self.crl_urls.push(url.into());
        self
    }

    /// Follows the CRL distribution points (`http` and `https` URIs) named
    /// in presented certificates issued by a trust anchor or configured
    /// intermediate, fetched with the [`crl_fetcher`](Self::crl_fetcher);
    /// off by default. Only the leaf and the presented intermediates of a
    /// path webpki verified to an anchor are read, never other presented
    /// certificates. A distribution point seen for the first time is
    /// fetched in the background, at once: the request that revealed it is
    /// not held up, so its revocation status is unknown (refused with
    /// [`refuse_unknown_revocation_status`](Self::refuse_unknown_revocation_status),
    /// and the client's next attempt is checked against the CRL).
    pub fn crl_distribution_points(mut self, follow: bool) -> Self {
        self.crl_distribution_points = follow;
        self
    }

    /// How CRLs at URLs and distribution points are fetched.
    pub fn crl_fetcher(mut self, fetcher: impl CrlFetcher) -> Self {
        self.crl_fetcher = Some(Arc::new(fetcher));
        self
    }

    /// How often each CRL file is checked for changes and each CRL URL
    /// fetched again; 5 minutes by default. A CRL is also refreshed ahead of
    /// its nextUpdate by the [margin](Self::crl_refresh_margin), and a
    /// failed refresh is retried after at most 30 seconds.
    pub fn crl_refresh_interval(mut self, interval: Duration) -> Self {
        self.crl_refresh_interval = interval.max(Duration::from_millis(10));
        self
    }

    /// How long before its nextUpdate a CRL is refreshed at the latest; one
    /// minute by default.
    pub fn crl_refresh_margin(mut self, margin: Duration) -> Self {
        self.crl_refresh_margin = margin;
        self
    }

    /// Keeps using a CRL that could not be refreshed for this long past its
    /// nextUpdate. The risk is in the name: a certificate revoked after
    /// the last CRL that arrived is accepted for that long. Zero (the
    /// default) fails closed: past nextUpdate, the certificates of that
    /// issuer are refused until a fresh CRL arrives.
    pub fn danger_crl_grace_period(mut self, grace: Duration) -> Self {
        self.crl_grace_period = grace;
        self
    }

    /// The largest CRL read or fetched, in bytes; 10 MiB by default. Set it
    /// before [`crl`](Self::crl) and [`crl_file`](Self::crl_file), which
    /// read at once.
    pub fn max_crl_size(mut self, bytes: usize) -> Self {
        self.max_crl_size = bytes;
        self
    }

    /// How many distribution points are followed at most; 64 by default.
    pub fn max_crl_distribution_points(mut self, n: usize) -> Self {
        self.max_crl_distribution_points = n;
        self
    }

    /// Refuses a certificate of the path when no configured CRL covers its
    /// issuer (its revocation status is unknown); off by default. With
    /// [`crl_leaf_only`](Self::crl_leaf_only) only the leaf needs a CRL. A
    /// chain that does not verify to an anchor is refused for that (an
    /// unknown issuer, say), whatever the CRLs.
    pub fn refuse_unknown_revocation_status(mut self, refuse: bool) -> Self {
        self.refuse_unknown_revocation_status = refuse;
        self
    }

    /// Checks only the leaf against the CRLs, not the intermediates.
    pub fn crl_leaf_only(mut self) -> Self {
        self.crl_depth = RevocationCheckDepth::EndEntity;
        self
    }

    /// The EKU requirement on the leaf.
    pub fn eku(mut self, policy: EkuPolicy) -> Self {
        self.eku = policy;
        self
    }

    /// Requires this certificate policy OID (dotted decimal) on the leaf.
    /// Anything else makes
    /// [`AuthenticatorBuilder::build`](crate::AuthenticatorBuilder::build)
    /// fail.
    pub fn required_policy(mut self, oid: &str) -> Self {
        let ok = oid.split('.').count() >= 2
            && oid
                .split('.')
                .all(|arc| !arc.is_empty() && arc.bytes().all(|b| b.is_ascii_digit()));
        if !ok {
            return self.fail(ConfigError::PolicyOid(oid.to_owned()));
        }
        self.required_policies.push(oid.to_owned());
        self
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

    /// The CA certificates a CRL may come from: the anchors and the
    /// configured intermediates.
    pub(crate) fn known_cas(&self) -> impl Iterator<Item = &Certificate> {
        self.trust_store
            .certificates()
            .iter()
            .chain(self.intermediates.iter())
    }

    /// Whether any CRL source is configured.
    pub(crate) fn has_crl_sources(&self) -> bool {
        !self.crls.is_empty()
            || !self.crl_files.is_empty()
            || !self.crl_urls.is_empty()
            || self.crl_distribution_points
    }

    /// Path validation with webpki, then the issuer pin, the path length
    /// and the anchor's pathLenConstraint (checked for each candidate path,
    /// so another path may still pass). A refused unknown revocation status
    /// is reported only for a path that otherwise verified to an anchor;
    /// any other failure comes first.
    pub(crate) fn validate_path(
        &self,
        leaf: &Certificate,
        presented: &[Certificate],
        anchors: &TrustStore,
        pin: Option<&[u8; 32]>,
        now: SystemTime,
        crls: &[Crl],
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
                .map(|c| CertificateDer::from(c.der())),
        );
        let time = UnixTime::since_unix_epoch(now.duration_since(UNIX_EPOCH).unwrap_or_default());
        let crl_refs: Vec<&CertRevocationList<'static>> = crls.iter().map(|c| &*c.list).collect();
        // No CRL at all: every status is unknown, refused (if so) below,
        // once the path is verified.
        let revocation = RevocationOptionsBuilder::new(&crl_refs).ok().map(|b| {
            b.with_depth(self.crl_depth)
                .with_status_policy(if self.refuse_unknown_revocation_status {
                    UnknownStatusPolicy::Deny
                } else {
                    UnknownStatusPolicy::Allow
                })
                // A CRL past its nextUpdate still proves a revocation;
                // whether it may prove the contrary is decided below,
                // with the grace period.
                .with_expiration_policy(ExpirationPolicy::Ignore)
                .build()
        });
        let mut unknown_status = revocation.is_none() && self.refuse_unknown_revocation_status;
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
        let verify = |revocation| {
            ee.verify_for_usage(
                self.algorithms,
                anchors.anchors(),
                &intermediates,
                time,
                KeyUsage::client_auth(),
                revocation,
                Some(&check),
            )
        };
        let mut result = verify(revocation);
        if matches!(result, Err(webpki::Error::UnknownRevocationStatus)) {
            // webpki checks each certificate's revocation right after its
            // signature, from the anchor down: the certificates below one
            // of unknown status were not checked. Only a path verified to
            // an anchor is refused for its status (and has its
            // distribution points followed).
            unknown_status = true;
            result = verify(None);
        }
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
        let anchor = anchors.certificate(path.anchor());
        let mut valid_until = leaf.validity().not_after;
        if let Some(anchor) = anchor {
            valid_until = valid_until.min(anchor.validity().not_after);
        }
        // The presented certificates of the path, whose CRL distribution
        // points may be followed.
        let mut chained = vec![leaf.clone()];
        for cert in path.intermediate_certificates() {
            let der = cert.der();
            let is = |c: &&Certificate| c.der() == der.as_ref();
            let given = presented.iter().find(is);
            chained.extend(given.cloned());
            // One of ours, presented or configured; the epoch (nothing
            // cached) should it not be.
            let not_after = given
                .or_else(|| self.intermediates.iter().find(is))
                .map_or(UNIX_EPOCH, |c| c.validity().not_after);
            valid_until = valid_until.min(not_after);
        }
        if unknown_status {
            return Err(PathError::UnknownRevocationStatus { chained });
        }
        // The certificates whose revocation webpki checked, by issuer.
        let mut checked: Vec<&[u8]> = vec![ee.issuer()];
        if self.crl_depth == RevocationCheckDepth::Chain {
            checked.extend(path.intermediate_certificates().map(|c| c.issuer()));
        }
        let mut unknown = None;
        for issuer in &checked {
            // With several CRLs of one issuer (partitioned by issuing
            // distribution point), the earliest nextUpdate bounds them all.
            let Some(next_update) = crls
                .iter()
                .filter(|c| c.list.issuer() == *issuer)
                .map(|c| c.next_update)
                .min()
            else {
                unknown.get_or_insert_with(|| name_from_content(issuer));
                continue;
            };
            // Nothing is cached past a nextUpdate, within a grace period too:
            // each request looks again whether a fresh CRL arrived.
            valid_until = valid_until.min(next_update);
            let stale = now >= next_update
                && next_update
                    .checked_add(self.crl_grace_period)
                    .is_some_and(|end| now >= end);
            if stale {
                return Err(PathError::CrlExpired {
                    issuer: name_from_content(issuer),
                });
            }
        }
        let revocation = match unknown {
            _ if crls.is_empty() && !self.has_crl_sources() => Revocation::NotConfigured,
            Some(issuer) => Revocation::Unknown { issuer },
            None => Revocation::NotRevoked {
                certificates: checked.len(),
            },
        };
        Ok(ValidatedPath {
            intermediates: path.intermediate_certificates().count(),
            chained,
            issuer_spki_sha256: Sha256::digest(path.issuer_spki().as_ref()).into(),
            anchor: anchor.cloned(),
            valid_until,
            revocation,
        })
    }
}

/// An RFC 4514 name from webpki's form of it, the DER content of the Name
/// SEQUENCE.
pub(crate) fn name_from_content(subject: &[u8]) -> String {
    use x509_parser::asn1_rs::{Class, Header, Length, Tag, ToDer};
    use x509_parser::prelude::FromDer;
    let header = Header::new(
        Class::Universal,
        true,
        Tag::Sequence,
        Length::Definite(subject.len()),
    );
    let name = header.to_der_vec().ok().and_then(|mut der| {
        der.extend_from_slice(subject);
        let (_, name) = x509_parser::x509::X509Name::from_der(&der).ok()?;
        Some(certbound_cert::DistinguishedName::from_x509_name(&name).to_string())
    });
    name.unwrap_or_else(|| "(unreadable)".to_owned())
}

/// A path webpki validated.
#[derive(Debug, Clone)]
pub(crate) struct ValidatedPath {
    pub(crate) intermediates: usize,
    /// The leaf and the presented intermediates of the path.
    pub(crate) chained: Vec<Certificate>,
    pub(crate) issuer_spki_sha256: [u8; 32],
    /// The anchor's certificate (always found: webpki chose one of ours).
    pub(crate) anchor: Option<Certificate>,
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

/// Why path validation failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PathError {
    Webpki(webpki::Error),
    /// The path chained to an anchor, but the revocation status of a
    /// certificate is unknown, and that is refused. `chained` as in
    /// [`ValidatedPath`].
    UnknownRevocationStatus {
        chained: Vec<Certificate>,
    },
    TooLong {
        intermediates: usize,
        max: usize,
    },
    IssuerPinMismatch {
        presented: [u8; 32],
    },
    /// The CRL of a certificate's issuer is past its nextUpdate (and grace).
    CrlExpired {
        issuer: String,
    },
}
