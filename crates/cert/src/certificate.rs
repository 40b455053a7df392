//! [`Certificate`]: one X.509 certificate, its DER and what is read from it.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use x509_parser::asn1_rs::SetOf;
use x509_parser::certificate::X509Certificate;
use x509_parser::error::{X509Error, X509Result};
use x509_parser::prelude::FromDer;
use x509_parser::x509::{AttributeTypeAndValue, X509Name};

use crate::{CertError, DistinguishedName, SubjectAltNames, Thumbprint, pem};

/// The largest DER certificate accepted, in bytes. Real client certificates
/// are a few kilobytes at most.
pub const MAX_CERTIFICATE_DER_LEN: usize = 64 * 1024;

/// One X.509 certificate.
///
/// It owns its DER encoding behind an `Arc`, so cloning is cheap. Reading
/// one ([`from_der`](Self::from_der), the PEM readers) refuses anything
/// that is not exactly one X.509 certificate: the DER is parsed once, by
/// x509-parser, and what certbound needs from it (subject, issuer, SANs,
/// validity, basic constraints, the `x5t#S256` thumbprint) is kept.
///
/// ```
/// use certbound_cert::Certificate;
///
/// let pem = "-----BEGIN CERTIFICATE-----
/// MIIBBjCBrAIBAjAKBggqhkjOPQQDAjAPMQ0wCwYDVQQDDARtdGxzMB4XDTE4MTAx
/// ODEyMzcwOVoXDTIyMDUwMjEyMzcwOVowDzENMAsGA1UEAwwEbXRsczBZMBMGByqG
/// SM49AgEGCCqGSM49AwEHA0IABNcnyxwqV6hY8QnhxxzFQ03C7HKW9OylMbnQZjjJ
/// /Au08/coZwxS7LfA4vOLS9WuneIXhbGGWvsDSb0tH6IxLm8wCgYIKoZIzj0EAwID
/// SQAwRgIhAP0RC1E+vwJD/D1AGHGzuri+hlV/PpQEKTWUVeORWz83AiEA5x2eXZOV
/// bUlJSGQgjwD5vaUaKlLR50Q2DmFfQj1L+SY=
/// -----END CERTIFICATE-----";
/// let cert = Certificate::from_pem(pem)?;
/// assert_eq!(cert.thumbprint().to_string(), "A4DtL2JmUMhAsvJj5tKyn64SqzmuXbMrJa0n761y5v0");
/// assert_eq!(cert.subject().to_string(), "CN=mtls");
/// assert!(cert.is_self_issued());
/// # Ok::<(), certbound_cert::CertError>(())
/// ```
#[derive(Clone)]
pub struct Certificate {
    inner: Arc<Inner>,
}

struct Inner {
    der: Vec<u8>,
    thumbprint: Thumbprint,
    subject: DistinguishedName,
    issuer: DistinguishedName,
    sans: Result<SubjectAltNames, CertError>,
    validity: Validity,
    self_issued: bool,
    ca: bool,
}

/// The validity period of a certificate (RFC 5280 §4.1.2.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Validity {
    /// The first instant the certificate is valid.
    pub not_before: SystemTime,
    /// The last instant the certificate is valid.
    pub not_after: SystemTime,
}

impl Validity {
    /// Whether `at` is inside the period, ends included.
    pub fn contains(&self, at: SystemTime) -> bool {
        self.not_before <= at && at <= self.not_after
    }
}

fn system_time(unix_seconds: i64) -> SystemTime {
    let magnitude = Duration::from_secs(unix_seconds.unsigned_abs());
    if unix_seconds >= 0 {
        UNIX_EPOCH.checked_add(magnitude).unwrap_or(UNIX_EPOCH)
    } else {
        UNIX_EPOCH.checked_sub(magnitude).unwrap_or(UNIX_EPOCH)
    }
}

/// `name` (the certificate's `field`) as a [`DistinguishedName`], if
/// x509-parser read all of it.
///
/// x509-parser reads a Name as RDNs up to the first one it cannot read (an
/// empty SET, an attribute without a type, stray bytes), an RDN as
/// attributes up to the first one it cannot read, and an attribute as a
/// type and a value; whatever follows is dropped without an error. The
/// Name's raw bytes (its header and the RDNs read) are read again here as
/// asn1-rs `SEQUENCE OF SET OF`, each attribute by x509-parser's own reader,
/// and must be consumed to the last byte: that fails when the header
/// promises more than was read, or anything inside was skipped.
fn read_name(field: &'static str, name: &X509Name<'_>) -> Result<DistinguishedName, CertError> {
    match <Vec<SetOf<WholeAttribute>> as FromDer<'_, X509Error>>::from_der(name.as_raw()) {
        Ok((rest, rdns)) if rest.is_empty() && rdns.iter().all(|rdn| !rdn.is_empty()) => {
            Ok(DistinguishedName::from_x509_name(name))
        }
        _ => Err(CertError::MalformedName { field }),
    }
}

/// An AttributeTypeAndValue read by x509-parser, with nothing after its
/// value inside its SEQUENCE.
struct WholeAttribute;

impl<'a> FromDer<'a, X509Error> for WholeAttribute {
    fn from_der(bytes: &'a [u8]) -> X509Result<'a, Self> {
        let (rest, atv) = AttributeTypeAndValue::from_der(bytes)?;
        // The value is a slice of `bytes` and the last part of the
        // SEQUENCE, which ends where `rest` starts.
        if atv.attr_value().data.as_ptr_range().end == rest.as_ptr() {
            Ok((rest, Self))
        } else {
            Err(x509_parser::nom::Err::Error(X509Error::InvalidX509Name))
        }
    }
}

impl Certificate {
    /// Reads one DER-encoded certificate: bytes that are not exactly one
    /// X.509 certificate (as x509-parser reads it, nothing trailing) are an
    /// error, and so is a subject or issuer name x509-parser did not read
    /// to its last byte ([`CertError::MalformedName`]). What an extension
    /// holds is checked when asked for: a malformed SAN list is an error of
    /// [`subject_alt_names`](Self::subject_alt_names).
    pub fn from_der(der: impl Into<Vec<u8>> + AsRef<[u8]>) -> Result<Self, CertError> {
        let bytes = der.as_ref();
        if bytes.is_empty() {
            return Err(CertError::Empty);
        }
        if bytes.len() > MAX_CERTIFICATE_DER_LEN {
            return Err(CertError::TooLarge {
                size: bytes.len(),
                limit: MAX_CERTIFICATE_DER_LEN,
            });
        }
        let c = match X509Certificate::from_der(bytes) {
            Ok((rest, _)) if !rest.is_empty() => return Err(CertError::TrailingData(rest.len())),
            Ok((_, c)) => c,
            Err(e) => return Err(CertError::InvalidDer(e.to_string())),
        };
        let subject = read_name("subject", c.subject())?;
        let issuer = read_name("issuer", c.issuer())?;
        let sans = SubjectAltNames::from_certificate(&c);
        let validity = Validity {
            not_before: system_time(c.validity().not_before.timestamp()),
            not_after: system_time(c.validity().not_after.timestamp()),
        };
        let self_issued = c.subject().as_raw() == c.issuer().as_raw();
        let ca = c
            .basic_constraints()
            .ok()
            .flatten()
            .is_some_and(|bc| bc.value.ca);
        let thumbprint = Thumbprint::of_der(bytes);
        Ok(Self {
            inner: Arc::new(Inner {
                der: der.into(),
                thumbprint,
                subject,
                issuer,
                sans,
                validity,
                self_issued,
                ca,
            }),
        })
    }

    /// Reads exactly one PEM certificate (see [`pem`] for what is tolerated).
    pub fn from_pem(text: &str) -> Result<Self, CertError> {
        let mut certs = pem::parse_certificates(text)?;
        match certs.len() {
            1 => Ok(certs.remove(0)),
            n => Err(CertError::NotOne(n)),
        }
    }

    /// Reads a certificate file's content: PEM when it contains a PEM
    /// certificate block, DER otherwise. Returns every certificate, in order.
    pub fn from_pem_or_der(bytes: &[u8]) -> Result<Vec<Self>, CertError> {
        match std::str::from_utf8(bytes) {
            Ok(text) if text.contains("-----BEGIN") => pem::parse_certificates(text),
            _ => Self::from_der(bytes).map(|c| vec![c]),
        }
    }

    /// The DER encoding.
    pub fn der(&self) -> &[u8] {
        &self.inner.der
    }

    /// The `x5t#S256` thumbprint, computed once when the certificate was read.
    pub fn thumbprint(&self) -> Thumbprint {
        self.inner.thumbprint
    }

    /// The certificate parsed by x509-parser, for anything this type does not
    /// expose. Parsing is repeated on each call.
    pub fn parsed(&self) -> Result<X509Certificate<'_>, CertError> {
        X509Certificate::from_der(&self.inner.der)
            .map(|(_, c)| c)
            .map_err(|e| CertError::InvalidDer(e.to_string()))
    }

    /// The subject's distinguished name.
    pub fn subject(&self) -> &DistinguishedName {
        &self.inner.subject
    }

    /// The issuer's distinguished name.
    pub fn issuer(&self) -> &DistinguishedName {
        &self.inner.issuer
    }

    /// The subject alternative names. An absent extension gives empty lists;
    /// a malformed or duplicated one is an error.
    pub fn subject_alt_names(&self) -> Result<&SubjectAltNames, CertError> {
        self.inner.sans.as_ref().map_err(Clone::clone)
    }

    /// The validity period.
    pub fn validity(&self) -> Validity {
        self.inner.validity
    }

    /// Whether the certificate is a CA certificate: it has a
    /// basicConstraints extension with cA TRUE (RFC 5280 §4.2.1.9). A
    /// malformed extension counts as no CA.
    pub fn is_ca(&self) -> bool {
        self.inner.ca
    }

    /// Whether subject and issuer are the same name (byte for byte), as in a
    /// self-signed certificate. This says nothing about the signature.
    pub fn is_self_issued(&self) -> bool {
        self.inner.self_issued
    }
}

impl PartialEq for Certificate {
    fn eq(&self, other: &Self) -> bool {
        self.inner.thumbprint == other.inner.thumbprint && self.der() == other.der()
    }
}

impl Eq for Certificate {}

impl fmt::Debug for Certificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Certificate")
            .field("x5t#S256", &self.inner.thumbprint.to_string())
            .field("subject", &self.subject().to_string())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use certbound_testkit::{TestCa, vectors};

    #[test]
    fn rfc8705_appendix_a_thumbprint() {
        let cert = Certificate::from_pem(vectors::RFC8705_APPENDIX_A_PEM).unwrap();
        assert_eq!(
            cert.thumbprint().to_string(),
            vectors::RFC8705_APPENDIX_A_X5T_S256
        );
        assert_eq!(cert.der().len(), 266);
        assert_eq!(cert.subject().to_string(), "CN=mtls");
        assert_eq!(cert.issuer().to_string(), "CN=mtls");
        assert!(cert.is_self_issued());
        let v = cert.validity();
        assert_eq!(
            v.not_before,
            UNIX_EPOCH + Duration::from_secs(1_539_866_229)
        );
        assert_eq!(v.not_after, UNIX_EPOCH + Duration::from_secs(1_651_495_029));
        assert!(!v.contains(SystemTime::now()));
        assert!(cert.subject_alt_names().unwrap().is_empty());
    }

    #[test]
    fn rfc9440_example_chain_thumbprints_match_openssl() {
        // Expected values from:
        //   for i in 0 1 2; do openssl storeutl -certs -noout ... ; done
        // i.e. each certificate of rfc9440-example-chain.pem through
        //   openssl x509 -outform DER | openssl dgst -sha256 -binary \
        //     | base64 | tr '+/' '-_' | tr -d '='
        let certs = pem::parse_certificates(vectors::RFC9440_EXAMPLE_CHAIN_PEM).unwrap();
        let got: Vec<String> = certs.iter().map(|c| c.thumbprint().to_string()).collect();
        assert_eq!(got, vectors::RFC9440_EXAMPLE_CHAIN_X5T_S256);
        assert_eq!(certs[0].subject().to_string(), "CN=BC");
        assert_eq!(
            certs[0].issuer().to_string(),
            "CN=LA Intermediate CA,O=Let's Authenticate"
        );
    }

    #[test]
    fn refuses_trailing_bytes_and_garbage() {
        let cert = Certificate::from_pem(vectors::RFC8705_APPENDIX_A_PEM).unwrap();
        let mut der = cert.der().to_vec();
        der.push(0);
        assert_eq!(Certificate::from_der(der), Err(CertError::TrailingData(1)));
        assert_eq!(Certificate::from_der(Vec::new()), Err(CertError::Empty));
        assert!(matches!(
            Certificate::from_der(b"not a cert".to_vec()),
            Err(CertError::InvalidDer(_))
        ));
        let truncated = cert.der()[..100].to_vec();
        assert!(matches!(
            Certificate::from_der(truncated),
            Err(CertError::InvalidDer(_))
        ));
    }

    #[test]
    fn malformed_inside_a_sound_frame_is_refused() {
        let ca = TestCa::new("Test CA");
        let mut der = ca.leaf("client").issue().der;
        // notBefore's UTCTime tag becomes OCTET STRING: the DER framing
        // still holds, the certificate does not.
        let i = der.windows(2).position(|w| w == [0x17, 0x0d]).unwrap();
        der[i] = 0x04;
        assert!(matches!(
            Certificate::from_der(der.clone()),
            Err(CertError::InvalidDer(_))
        ));
    }

    #[test]
    fn a_ca_is_told_from_a_leaf_by_basic_constraints() {
        let ca = TestCa::new("Test CA");
        let intermediate = ca.intermediate("Issuing CA");
        let leaf = intermediate.leaf("client").issue();
        assert!(Certificate::from_der(ca.cert.der.clone()).unwrap().is_ca());
        assert!(
            Certificate::from_der(intermediate.cert.der.clone())
                .unwrap()
                .is_ca()
        );
        assert!(!Certificate::from_der(leaf.der).unwrap().is_ca());
        let self_signed = certbound_testkit::self_signed("device").issue();
        assert!(!Certificate::from_der(self_signed.der).unwrap().is_ca());
    }

    #[test]
    fn from_pem_wants_exactly_one() {
        assert_eq!(
            Certificate::from_pem(vectors::RFC9440_EXAMPLE_CHAIN_PEM),
            Err(CertError::NotOne(3))
        );
    }

    #[test]
    fn from_pem_or_der_reads_both() {
        let pem_certs =
            Certificate::from_pem_or_der(vectors::RFC8705_APPENDIX_A_PEM.as_bytes()).unwrap();
        let der_certs = Certificate::from_pem_or_der(pem_certs[0].der()).unwrap();
        assert_eq!(pem_certs, der_certs);
    }

    #[test]
    fn reads_sans_from_generated_certificate() {
        let ca = TestCa::new("Test CA");
        let leaf = ca
            .leaf("client")
            .san_dns("client.example.com")
            .san_uri("spiffe://example.com/client")
            .san_ip("192.0.2.7".parse().unwrap())
            .san_ip("2001:db8::1".parse().unwrap())
            .san_email("ops@Example.COM")
            .issue();
        let cert = Certificate::from_der(leaf.der.clone()).unwrap();
        let sans = cert.subject_alt_names().unwrap();
        assert_eq!(sans.dns, ["client.example.com"]);
        assert_eq!(sans.uri, ["spiffe://example.com/client"]);
        assert_eq!(
            sans.ip,
            [
                "192.0.2.7".parse::<std::net::IpAddr>().unwrap(),
                "2001:db8::1".parse().unwrap()
            ]
        );
        assert_eq!(sans.email, ["ops@Example.COM"]);
        assert!(!cert.is_self_issued());
        assert!(cert.validity().contains(SystemTime::now()));
        assert_eq!(cert.issuer().to_string(), "CN=Test CA");
    }
}
