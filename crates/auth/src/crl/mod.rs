//! CRLs for `tls_client_auth` (sources and use: see [`TlsClientAuth`](crate::TlsClientAuth)),
//! the [`CrlFetcher`], and the refresher in [`live`]. Of two CRLs of one
//! issuer and scope the later one (thisUpdate) is used, and a source never
//! goes back to a CRL older than the one it has, nor moves to another
//! issuer's.

pub(crate) mod live;

use std::fmt;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use certbound_cert::{Certificate, pem};
use sha2::{Digest, Sha256};
use webpki::{CertRevocationList, OwnedCertRevocationList};
use x509_parser::time::ASN1Time;

use crate::registry::BoxFuture;

/// Fetches the CRL published at a URL (a configured one, or a CRL
/// distribution point named in a certificate). The HTTP client is the
/// application's choice (plain `http` is usual for CRLs, which are signed);
/// it should bound the time and the size of a fetch. Implemented for async
/// closures `Fn(String) -> impl Future<Output = Result<Vec<u8>, CrlFetchError>>`.
///
/// ```
/// use certbound_auth::{CrlFetchError, CrlFetcher};
///
/// let fetcher = |url: String| async move {
///     // Fetch `url` with the HTTP client of your choice; PEM or DER.
///     Err::<Vec<u8>, _>(CrlFetchError::new(format!("no HTTP client to fetch {url}")))
/// };
/// fn assert_fetcher(_: &impl CrlFetcher) {}
/// assert_fetcher(&fetcher);
/// ```
pub trait CrlFetcher: Send + Sync + 'static {
    /// The CRL at `url`, PEM or DER.
    fn fetch<'a>(&'a self, url: &'a str) -> BoxFuture<'a, Result<Vec<u8>, CrlFetchError>>;
}

impl<F, Fut> CrlFetcher for F
where
    F: Fn(String) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Vec<u8>, CrlFetchError>> + Send + 'static,
{
    fn fetch<'a>(&'a self, url: &'a str) -> BoxFuture<'a, Result<Vec<u8>, CrlFetchError>> {
        Box::pin(self(url.to_owned()))
    }
}

/// A CRL could not be fetched.
#[derive(Debug, Clone, thiserror::Error)]
#[error("fetching the CRL failed: {0}")]
pub struct CrlFetchError(Arc<dyn std::error::Error + Send + Sync>);

impl CrlFetchError {
    /// Wraps the fetcher's error.
    pub fn new(err: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self(Arc::from(err.into()))
    }
}

/// Where a CRL comes from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Source {
    /// Bytes given to the configuration, by their SHA-256.
    Given([u8; 32]),
    /// A file, read again when it changes.
    File(PathBuf),
    /// A configured URL.
    Url(String),
    /// A CRL distribution point named in a presented certificate.
    DistributionPoint(String),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Given(_) => f.write_str("configured CRL"),
            Self::File(p) => write!(f, "file {}", p.display()),
            Self::Url(u) => write!(f, "URL {u}"),
            Self::DistributionPoint(u) => write!(f, "distribution point {u}"),
        }
    }
}

/// A file's modification time and length: when either changes, it is read again.
pub(crate) type FileStamp = (SystemTime, u64);

/// A parsed CRL. Its signature is checked against the configuration's CAs
/// separately ([`Crl::verify`]), since the configuration can change.
#[derive(Clone)]
pub(crate) struct Crl {
    /// The list, for webpki.
    pub(crate) list: Arc<CertRevocationList<'static>>,
    der: Arc<[u8]>,
    /// The issuer Name, full DER, as in the CA certificate's subject.
    issuer_der: Vec<u8>,
    pub(crate) this_update: SystemTime,
    pub(crate) next_update: SystemTime,
    pub(crate) digest: [u8; 32],
}

/// The issuer and dates only: a derived `Debug` would print the whole DER
/// and every revoked serial (up to `max_crl_size`) into a log line.
impl fmt::Debug for Crl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Crl")
            .field("issuer", &self.issuer_name())
            .field("this_update", &self.this_update)
            .field("next_update", &self.next_update)
            .finish_non_exhaustive()
    }
}

fn to_system_time(t: ASN1Time) -> SystemTime {
    match u64::try_from(t.timestamp()) {
        Ok(secs) => UNIX_EPOCH + Duration::from_secs(secs),
        Err(_) => UNIX_EPOCH,
    }
}

impl Crl {
    /// A CRL from PEM (`X509 CRL`, exactly one block) or DER, of at most
    /// `max_size` bytes, with a nextUpdate.
    pub(crate) fn parse(bytes: &[u8], max_size: usize) -> Result<Self, String> {
        if bytes.len() > max_size {
            return Err(format!(
                "{} bytes, more than the limit of {max_size}",
                bytes.len()
            ));
        }
        let der = if bytes.trim_ascii_start().starts_with(b"-----BEGIN") {
            let text = std::str::from_utf8(bytes).map_err(|_| "PEM that is not UTF-8")?;
            let mut blocks = Vec::new();
            for token in pem::tokens(text) {
                if let pem::Token::Block(b) = token.map_err(|e| e.to_string())? {
                    blocks.push(b);
                }
            }
            match blocks.as_slice() {
                [b] if b.label() == "X509 CRL" => b.der().map_err(|e| e.to_string())?,
                [b] => return Err(format!("a PEM block {:?}, not \"X509 CRL\"", b.label())),
                _ => return Err(format!("{} PEM blocks, expected one", blocks.len())),
            }
        } else {
            bytes.to_vec()
        };
        let list = OwnedCertRevocationList::from_der(&der).map_err(|e| e.to_string())?;
        let (rest, parsed) = x509_parser::parse_x509_crl(&der).map_err(|e| e.to_string())?;
        if !rest.is_empty() {
            return Err("trailing bytes after the CRL".into());
        }
        // webpki keeps the dates to itself; the cache and the refresher need them.
        let next_update = parsed
            .next_update()
            .map(to_system_time)
            .ok_or("no nextUpdate")?;
        let this_update = to_system_time(parsed.last_update());
        let issuer_der = parsed.issuer().as_raw().to_vec();
        let digest = Sha256::digest(&der).into();
        Ok(Self {
            list: Arc::new(CertRevocationList::Owned(list)),
            der: Arc::from(der),
            issuer_der,
            this_update,
            next_update,
            digest,
        })
    }

    /// Issuer and issuing distribution point: CRLs of one scope replace
    /// each other.
    pub(crate) fn scope(&self) -> (&[u8], Option<&[u8]>) {
        (self.list.issuer(), self.list.issuing_distribution_point())
    }

    /// The issuer, RFC 4514.
    pub(crate) fn issuer_name(&self) -> String {
        crate::tls_client_auth::name_from_content(self.list.issuer())
    }

    /// Checks the signature with the key of a CA of `cas` whose subject is
    /// the CRL's issuer.
    pub(crate) fn verify<'a>(
        &self,
        cas: impl IntoIterator<Item = &'a Certificate>,
    ) -> Result<(), String> {
        let (_, parsed) = x509_parser::parse_x509_crl(&self.der).map_err(|e| e.to_string())?;
        let mut named = false;
        for ca in cas {
            let Ok(ca) = ca.parsed() else { continue };
            if ca.subject().as_raw() != self.issuer_der.as_slice() {
                continue;
            }
            named = true;
            if parsed.verify_signature(ca.public_key()).is_ok() {
                return Ok(());
            }
        }
        if named {
            Err("its signature does not verify with the key of the CA of that name".into())
        } else {
            Err("no trust anchor or configured intermediate has its issuer's name".into())
        }
    }
}

/// The CRL distribution point URLs (`http`/`https`) a certificate names.
pub(crate) fn distribution_points(cert: &Certificate) -> Vec<String> {
    use x509_parser::extensions::{DistributionPointName, GeneralName, ParsedExtension};
    let Ok(parsed) = cert.parsed() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for ext in parsed.extensions() {
        let ParsedExtension::CRLDistributionPoints(points) = ext.parsed_extension() else {
            continue;
        };
        for point in points.iter() {
            let Some(DistributionPointName::FullName(names)) = &point.distribution_point else {
                continue;
            };
            for name in names {
                if let GeneralName::URI(uri) = name {
                    let lower = uri.to_ascii_lowercase();
                    if lower.starts_with("http://") || lower.starts_with("https://") {
                        out.push((*uri).to_owned());
                    }
                }
            }
        }
    }
    out
}

/// Whether `cert` was issued by a CA of `cas` (by name only: the CRL of
/// another issuer could not be used).
pub(crate) fn issued_by_one_of<'a>(
    cert: &Certificate,
    cas: impl IntoIterator<Item = &'a Certificate>,
) -> bool {
    let Ok(parsed) = cert.parsed() else {
        return false;
    };
    let issuer = parsed.issuer().as_raw();
    cas.into_iter()
        .any(|ca| ca.parsed().is_ok_and(|ca| ca.subject().as_raw() == issuer))
}

#[cfg(test)]
mod tests {
    use super::*;
    use certbound_testkit::{TestCa, pem_of};

    fn ca_cert(ca: &TestCa) -> Certificate {
        Certificate::from_der(ca.cert.der.clone()).unwrap()
    }

    #[test]
    fn pem_and_der_read_the_same_crl() {
        let ca = TestCa::new("Parse CA");
        let der = ca.crl(&[]);
        let pem = format!(
            "-----BEGIN X509 CRL-----\n{}\n-----END X509 CRL-----\n",
            pem_of(&der)
                .lines()
                .filter(|l| !l.starts_with("-----"))
                .collect::<Vec<_>>()
                .join("\n")
        );
        let a = Crl::parse(&der, 1 << 20).unwrap();
        let b = Crl::parse(pem.as_bytes(), 1 << 20).unwrap();
        assert_eq!(a.digest, b.digest);
        assert!(a.next_update > a.this_update);
        assert_eq!(a.issuer_name(), "CN=Parse CA");
    }

    #[test]
    fn oversized_or_foreign_input_is_refused() {
        let ca = TestCa::new("Parse CA");
        let der = ca.crl(&[]);
        assert!(
            Crl::parse(&der, der.len() - 1)
                .unwrap_err()
                .contains("limit")
        );
        assert!(
            Crl::parse(ca.cert.pem.as_bytes(), 1 << 20)
                .unwrap_err()
                .contains("CERTIFICATE")
        );
        assert!(Crl::parse(&ca.cert.der, 1 << 20).is_err());
        let mut trailing = der.clone();
        trailing.push(0);
        assert!(Crl::parse(&trailing, 1 << 20).is_err());
    }

    #[test]
    fn only_the_issuers_key_verifies_a_crl() {
        let ca = TestCa::new("Verify CA");
        let same_name = TestCa::new("Verify CA");
        let other = TestCa::new("Other CA");
        let crl = Crl::parse(&ca.crl(&[]), 1 << 20).unwrap();
        assert!(crl.verify([&ca_cert(&ca)]).is_ok());
        assert!(crl.verify([&ca_cert(&other), &ca_cert(&ca)]).is_ok());
        let err = crl.verify([&ca_cert(&same_name)]).unwrap_err();
        assert!(err.contains("signature"), "{err}");
        let err = crl.verify([&ca_cert(&other)]).unwrap_err();
        assert!(err.contains("name"), "{err}");
    }
}
