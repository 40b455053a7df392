//! Test fixtures for certbound: the published test vectors, kept verbatim, and
//! a throw-away PKI generated with rcgen.
//!
//! This crate is not published; it exists so every crate's tests build their
//! certificates, proxy header values ([`nginx_escaped_cert`]) and rustls
//! configurations ([`tls`]) the same way. It deliberately does not depend on
//! any certbound crate, so it hands out DER, PEM and rustls types, never
//! certbound types.
//!
//! ```
//! use certbound_testkit::TestCa;
//!
//! let root = TestCa::new("Example Root");
//! let issuing = root.intermediate("Example Issuing CA");
//! let client = issuing.leaf("client-1").san_dns("client-1.example.com").issue();
//! assert!(client.pem.starts_with("-----BEGIN CERTIFICATE-----"));
//! ```
#![forbid(unsafe_code)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod hostile;
pub mod tls;

use std::net::IpAddr;
use std::time::{Duration, SystemTime};

pub use rcgen;
use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, CustomExtension,
    DistinguishedName, DnType, DnValue, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyIdMethod,
    KeyPair, KeyUsagePurpose, RevocationReason, RevokedCertParams, SanType, SerialNumber,
    SignatureAlgorithm,
};

/// Published test vectors, verbatim, with their sources in `vectors/README.md`.
pub mod vectors {
    /// RFC 8705 Appendix A, Figure 6: a self-signed P-256 certificate
    /// (X.509 v1, `CN=mtls`, expired in 2022).
    pub const RFC8705_APPENDIX_A_PEM: &str = include_str!("../vectors/rfc8705-appendix-a.pem");
    /// RFC 8705 Appendix A, Figure 5: the `x5t#S256` of that certificate.
    pub const RFC8705_APPENDIX_A_X5T_S256: &str = "A4DtL2JmUMhAsvJj5tKyn64SqzmuXbMrJa0n761y5v0";
    /// RFC 8705 §3.1: the example JWT claims set with a `cnf` claim, as
    /// printed in the RFC.
    pub const RFC8705_SECTION3_1_CLAIMS: &str =
        include_str!("../vectors/rfc8705-section3-1-claims.json");
    /// RFC 8705 §3.2: the body of the example introspection response with a
    /// `cnf` member, as printed in the RFC.
    pub const RFC8705_SECTION3_2_INTROSPECTION: &str =
        include_str!("../vectors/rfc8705-section3-2-introspection.json");
    /// The `x5t#S256` of the §3.1 and §3.2 examples. It is illustrative: 43
    /// characters whose last one leaves non-zero trailing bits, so a strict
    /// base64url decoder refuses it, and it is no certificate's thumbprint.
    pub const RFC8705_SECTION3_X5T_S256: &str = "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2";
    /// RFC 8705 §5: the example authorization server metadata with
    /// `mtls_endpoint_aliases`, as printed in the RFC.
    pub const RFC8705_SECTION5_METADATA: &str =
        include_str!("../vectors/rfc8705-section5-metadata.json");
    /// RFC 9440 Appendix A: the example chain, leaf first (leaf, intermediate, root).
    pub const RFC9440_EXAMPLE_CHAIN_PEM: &str =
        include_str!("../vectors/rfc9440-example-chain.pem");
    /// The `x5t#S256` of each certificate of [`RFC9440_EXAMPLE_CHAIN_PEM`], in
    /// order, as computed by openssl:
    /// `openssl x509 -outform DER | openssl dgst -sha256 -binary | base64 | tr '+/' '-_' | tr -d '='`.
    pub const RFC9440_EXAMPLE_CHAIN_X5T_S256: [&str; 3] = [
        "v68ffgcPn6jdYpBfFY2nP4ShE2Yk-6_Mk5PI9yh6aes",
        "6H31tD6_m4nKKyu_MaTnrVpA1ATPuy_MGkA8JlEoWtw",
        "QjrpXcQc0m2pAhrU5jibqnfghYYHY1qwhekeXR2Ue4M",
    ];
    /// RFC 9440 Appendix A: the `Client-Cert` header line, unfolded.
    pub const RFC9440_CLIENT_CERT_HEADER: &str =
        include_str!("../vectors/rfc9440-client-cert-header.txt");
    /// RFC 9440 Appendix A: the `Client-Cert` header line as folded in the RFC.
    pub const RFC9440_CLIENT_CERT_HEADER_FOLDED: &str =
        include_str!("../vectors/rfc9440-client-cert-header-folded.txt");
    /// RFC 9440 Appendix A: the `Client-Cert-Chain` header line, unfolded.
    pub const RFC9440_CLIENT_CERT_CHAIN_HEADER: &str =
        include_str!("../vectors/rfc9440-client-cert-chain-header.txt");
    /// RFC 9440 Appendix A: the `Client-Cert-Chain` header line as folded in the RFC.
    pub const RFC9440_CLIENT_CERT_CHAIN_HEADER_FOLDED: &str =
        include_str!("../vectors/rfc9440-client-cert-chain-header-folded.txt");

    /// The value of a `Name: value` header line, trimmed.
    pub fn header_value(line: &str) -> &str {
        line.split_once(':').map(|(_, v)| v.trim()).unwrap_or(line)
    }
}

/// The key algorithm of a generated certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KeyAlg {
    /// ECDSA P-256 with SHA-256.
    #[default]
    P256,
    /// ECDSA P-384 with SHA-384.
    P384,
    /// Ed25519.
    Ed25519,
}

impl KeyAlg {
    fn alg(self) -> &'static SignatureAlgorithm {
        match self {
            KeyAlg::P256 => &rcgen::PKCS_ECDSA_P256_SHA256,
            KeyAlg::P384 => &rcgen::PKCS_ECDSA_P384_SHA384,
            KeyAlg::Ed25519 => &rcgen::PKCS_ED25519,
        }
    }
}

/// A generated certificate with its private key.
#[derive(Debug, Clone)]
pub struct TestCert {
    /// The certificate, DER.
    pub der: Vec<u8>,
    /// The certificate, PEM.
    pub pem: String,
    /// The private key, PKCS#8 DER.
    pub key_der: Vec<u8>,
    /// The private key, PKCS#8 PEM.
    pub key_pem: String,
    /// The serial number, big-endian bytes.
    pub serial: Vec<u8>,
}

/// A certificate authority that issues intermediates and leaves.
pub struct TestCa {
    issuer: Issuer<'static, KeyPair>,
    /// The CA's own certificate.
    pub cert: TestCert,
}

impl std::fmt::Debug for TestCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestCa").finish_non_exhaustive()
    }
}

fn serial() -> SerialNumber {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    let mut bytes = vec![0x01];
    bytes.extend_from_slice(&nanos.to_be_bytes());
    bytes.extend_from_slice(&n.to_be_bytes());
    SerialNumber::from_slice(&bytes)
}

fn ca_params(cn: &str) -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name = DistinguishedName::new();
    params.distinguished_name.push(DnType::CommonName, cn);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params.not_before = (SystemTime::now() - Duration::from_secs(86_400)).into();
    params.not_after = (SystemTime::now() + Duration::from_secs(3650 * 86_400)).into();
    params.serial_number = Some(serial());
    params.key_identifier_method = KeyIdMethod::Sha256;
    params
}

fn finish(cert: rcgen::Certificate, key: &KeyPair, serial: Vec<u8>) -> TestCert {
    TestCert {
        der: cert.der().to_vec(),
        pem: cert.pem(),
        key_der: key.serialize_der(),
        key_pem: key.serialize_pem(),
        serial,
    }
}

impl TestCa {
    /// A self-signed root CA with the given common name and a P-256 key.
    pub fn new(cn: &str) -> Self {
        Self::new_with(cn, KeyAlg::P256)
    }

    /// A self-signed root CA with the given key algorithm.
    pub fn new_with(cn: &str, alg: KeyAlg) -> Self {
        let key = KeyPair::generate_for(alg.alg()).unwrap();
        let params = ca_params(cn);
        let serial = params.serial_number.as_ref().unwrap().to_bytes();
        let cert = params.self_signed(&key).unwrap();
        let cert = finish(cert, &key, serial);
        Self {
            issuer: Issuer::new(params, key),
            cert,
        }
    }

    /// An intermediate CA signed by this one.
    pub fn intermediate(&self, cn: &str) -> TestCa {
        let key = KeyPair::generate().unwrap();
        let mut params = ca_params(cn);
        params.use_authority_key_identifier_extension = true;
        let serial = params.serial_number.as_ref().unwrap().to_bytes();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        let cert = finish(cert, &key, serial);
        TestCa {
            issuer: Issuer::new(params, key),
            cert,
        }
    }

    /// Starts a leaf certificate issued by this CA, with the given common name,
    /// the clientAuth EKU and a validity from a day ago to thirty days ahead.
    pub fn leaf(&self, cn: &str) -> LeafBuilder<'_> {
        let mut params = CertificateParams::default();
        params.distinguished_name = DistinguishedName::new();
        params.distinguished_name.push(DnType::CommonName, cn);
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        params.not_before = (SystemTime::now() - Duration::from_secs(86_400)).into();
        params.not_after = (SystemTime::now() + Duration::from_secs(30 * 86_400)).into();
        params.use_authority_key_identifier_extension = true;
        params.key_identifier_method = KeyIdMethod::Sha256;
        LeafBuilder {
            issuer: Some(self),
            params,
            alg: KeyAlg::P256,
        }
    }

    /// A CRL signed by this CA that revokes the certificates with the given
    /// serial numbers, as DER.
    pub fn crl(&self, revoked_serials: &[&[u8]]) -> Vec<u8> {
        let now = SystemTime::now();
        self.crl_with(
            revoked_serials,
            now - Duration::from_secs(3600),
            now + Duration::from_secs(86_400),
        )
    }

    /// A CRL signed by this CA that revokes these serial numbers, with the
    /// given thisUpdate and nextUpdate (whole seconds in the CRL), as DER.
    pub fn crl_with(
        &self,
        revoked_serials: &[&[u8]],
        this_update: SystemTime,
        next_update: SystemTime,
    ) -> Vec<u8> {
        let now = SystemTime::now();
        let params = CertificateRevocationListParams {
            this_update: this_update.into(),
            next_update: next_update.into(),
            crl_number: SerialNumber::from(1u64),
            issuing_distribution_point: None,
            revoked_certs: revoked_serials
                .iter()
                .map(|s| RevokedCertParams {
                    serial_number: SerialNumber::from_slice(s),
                    revocation_time: (now - Duration::from_secs(60)).into(),
                    reason_code: Some(RevocationReason::KeyCompromise),
                    invalidity_date: None,
                })
                .collect(),
            key_identifier_method: KeyIdMethod::Sha256,
        };
        params.signed_by(&self.issuer).unwrap().der().to_vec()
    }
}

/// Builds a leaf certificate; see [`TestCa::leaf`] and [`self_signed`].
pub struct LeafBuilder<'a> {
    issuer: Option<&'a TestCa>,
    params: CertificateParams,
    alg: KeyAlg,
}

impl std::fmt::Debug for LeafBuilder<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LeafBuilder").finish_non_exhaustive()
    }
}

/// Starts a self-signed leaf certificate (for `self_signed_tls_client_auth`).
pub fn self_signed(cn: &str) -> LeafBuilder<'static> {
    let mut builder = LeafBuilder {
        issuer: None,
        params: CertificateParams::default(),
        alg: KeyAlg::P256,
    };
    builder.params.distinguished_name = DistinguishedName::new();
    builder
        .params
        .distinguished_name
        .push(DnType::CommonName, cn);
    builder.params.not_before = (SystemTime::now() - Duration::from_secs(86_400)).into();
    builder.params.not_after = (SystemTime::now() + Duration::from_secs(30 * 86_400)).into();
    builder
}

impl LeafBuilder<'_> {
    /// Replaces the subject with these attributes, one RDN each, in ASN.1
    /// order (the order RFC 4514 prints reversed).
    pub fn subject(mut self, attrs: Vec<(DnType, DnValue)>) -> Self {
        let mut dn = DistinguishedName::new();
        for (ty, value) in attrs {
            dn.push(ty, value);
        }
        self.params.distinguished_name = dn;
        self
    }

    /// Adds a dNSName SAN.
    pub fn san_dns(mut self, name: &str) -> Self {
        self.params
            .subject_alt_names
            .push(SanType::DnsName(name.try_into().unwrap()));
        self
    }

    /// Adds a uniformResourceIdentifier SAN.
    pub fn san_uri(mut self, uri: &str) -> Self {
        self.params
            .subject_alt_names
            .push(SanType::URI(uri.try_into().unwrap()));
        self
    }

    /// Adds an iPAddress SAN.
    pub fn san_ip(mut self, ip: IpAddr) -> Self {
        self.params.subject_alt_names.push(SanType::IpAddress(ip));
        self
    }

    /// Adds an rfc822Name SAN.
    pub fn san_email(mut self, email: &str) -> Self {
        self.params
            .subject_alt_names
            .push(SanType::Rfc822Name(email.try_into().unwrap()));
        self
    }

    /// Replaces the extended key usages; an empty list omits the extension.
    pub fn eku(mut self, ekus: Vec<ExtendedKeyUsagePurpose>) -> Self {
        self.params.extended_key_usages = ekus;
        self
    }

    /// Sets the validity period.
    pub fn validity(mut self, not_before: SystemTime, not_after: SystemTime) -> Self {
        self.params.not_before = not_before.into();
        self.params.not_after = not_after.into();
        self
    }

    /// Adds a certificatePolicies extension with these policy OIDs.
    pub fn policies(mut self, oids: &[&[u64]]) -> Self {
        let mut seq = Vec::new();
        for oid in oids {
            let oid_der = der_oid(oid);
            seq.extend(der_tlv(0x30, &oid_der));
        }
        self.params
            .custom_extensions
            .push(CustomExtension::from_oid_content(
                &[2, 5, 29, 32],
                der_tlv(0x30, &seq),
            ));
        self
    }

    /// Adds an extension with the given OID, content and criticality.
    pub fn extension(mut self, oid: &[u64], content: Vec<u8>, critical: bool) -> Self {
        let mut ext = CustomExtension::from_oid_content(oid, content);
        ext.set_criticality(critical);
        self.params.custom_extensions.push(ext);
        self
    }

    /// Uses another key algorithm (P-256 by default).
    pub fn key_alg(mut self, alg: KeyAlg) -> Self {
        self.alg = alg;
        self
    }

    /// Gives raw access to the rcgen parameters.
    pub fn params(mut self, f: impl FnOnce(&mut CertificateParams)) -> Self {
        f(&mut self.params);
        self
    }

    /// Signs the certificate.
    pub fn issue(mut self) -> TestCert {
        let key = KeyPair::generate_for(self.alg.alg()).unwrap();
        let serial_number = serial();
        let serial = serial_number.to_bytes();
        self.params.serial_number = Some(serial_number);
        let cert = match self.issuer {
            Some(ca) => self.params.signed_by(&key, &ca.issuer).unwrap(),
            None => self.params.self_signed(&key).unwrap(),
        };
        finish(cert, &key, serial)
    }
}

/// PEM `CERTIFICATE` block of DER, 64-character lines.
pub fn pem_of(der: &[u8]) -> String {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap());
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}

/// Everything but RFC 3986 unreserved characters.
const NOT_UNRESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A PEM as nginx's `$ssl_client_escaped_cert` carries it in a header:
/// everything but RFC 3986 unreserved characters percent-encoded (what
/// ingress-nginx and Envoy's XFCC `Cert` / `Chain` do too).
///
/// ```
/// assert_eq!(
///     certbound_testkit::nginx_escaped_cert("-----BEGIN CERTIFICATE-----\nMII+/=\n"),
///     "-----BEGIN%20CERTIFICATE-----%0AMII%2B%2F%3D%0A"
/// );
/// ```
pub fn nginx_escaped_cert(pem: &str) -> String {
    percent_encoding::utf8_percent_encode(pem, NOT_UNRESERVED).to_string()
}

/// A PEM as AWS ALB's `X-Amzn-Mtls-Clientcert` carries it: only spaces and
/// line ends escaped; `+`, `/` and `=` left as they are.
///
/// ```
/// assert_eq!(
///     certbound_testkit::alb_escaped_cert("-----BEGIN CERTIFICATE-----\r\nMII+/=\n"),
///     "-----BEGIN%20CERTIFICATE-----%0D%0AMII+/=%0A"
/// );
/// ```
pub fn alb_escaped_cert(pem: &str) -> String {
    pem.replace(' ', "%20")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// DER TLV with a short or long length.
pub fn der_tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
    out
}

/// DER encoding of an OBJECT IDENTIFIER.
pub fn der_oid(arcs: &[u64]) -> Vec<u8> {
    let mut body = Vec::new();
    let mut push_arc = |mut v: u64| {
        let mut tmp = vec![(v & 0x7f) as u8];
        v >>= 7;
        while v > 0 {
            tmp.push(0x80 | (v & 0x7f) as u8);
            v >>= 7;
        }
        tmp.reverse();
        body.extend(tmp);
    };
    push_arc(arcs[0] * 40 + arcs[1]);
    for &a in &arcs[2..] {
        push_arc(a);
    }
    der_tlv(0x06, &body)
}

/// Runs a future that never waits (in-memory services, ready validators)
/// to completion on this thread, polling it with a no-op waker: what the
/// benchmarks and unit tests use instead of a runtime.
pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn der_helpers_encode_known_values() {
        assert_eq!(der_oid(&[2, 5, 4, 3]), vec![0x06, 0x03, 0x55, 0x04, 0x03]);
        assert_eq!(
            der_oid(&[1, 2, 840, 113549, 1, 9, 1]),
            vec![
                0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01
            ]
        );
        assert_eq!(der_tlv(0x04, &[0; 200])[..3], [0x04, 0x81, 200]);
    }

    #[test]
    fn pem_of_matches_rcgen_pem() {
        let ss = self_signed("me").issue();
        assert!(ss.key_pem.starts_with("-----BEGIN PRIVATE KEY-----"));
        assert_eq!(pem_of(&ss.der), ss.pem.replace("\r\n", "\n"));
    }

    #[test]
    fn escaping_leaves_only_unreserved_characters_or_only_spaces_and_line_ends() {
        let pem = self_signed("me").issue().pem;
        let nginx = nginx_escaped_cert(&pem);
        assert!(
            nginx
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~%".contains(&b)),
            "{nginx}"
        );
        let alb = alb_escaped_cert(&pem);
        assert!(!alb.contains([' ', '\r', '\n']), "{alb}");
        for escaped in [nginx, alb] {
            let back = percent_encoding::percent_decode_str(&escaped)
                .decode_utf8()
                .unwrap();
            assert_eq!(back, pem);
        }
    }
}
