//! The demo's throw-away PKI, generated with rcgen at start-up.

use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::time::{Duration, SystemTime};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType,
};

use super::DemoError;

/// A certificate and its private key, PEM.
#[derive(Debug, Clone)]
pub struct Identity {
    /// The certificate, PEM.
    pub cert_pem: String,
    /// The certificate, DER.
    pub cert_der: Vec<u8>,
    /// The PKCS#8 private key, PEM.
    pub key_pem: String,
    /// The PKCS#8 private key, DER.
    pub key_der: Vec<u8>,
}

/// Everything the demo's PKI holds.
#[derive(Debug, Clone)]
pub struct DemoPki {
    /// The CA that issues the server and the `tls_client_auth` clients.
    pub ca: Identity,
    /// The servers' certificate (`localhost`, `127.0.0.1`, `::1`).
    pub server: Identity,
    /// `pki-client`: `tls_client_auth` by subject DN.
    pub pki_client: Identity,
    /// `san-client`: `tls_client_auth` by `tls_client_auth_san_dns`.
    pub san_client: Identity,
    /// `self-signed-client`: `self_signed_tls_client_auth`.
    pub self_signed_client: Identity,
    /// `public-client`: a public client's (self-signed) certificate.
    pub public_client: Identity,
    /// `intruder`: issued by the same CA, registered nowhere.
    pub intruder: Identity,
}

/// The subject DN `pki-client` is registered with (RFC 4514).
pub const PKI_CLIENT_DN: &str = "CN=pki-client,O=certbound demo,C=GB";
/// The dNSName `san-client` is registered with.
pub const SAN_CLIENT_DNS: &str = "san-client.demo.certbound.test";

fn identity(cert: &rcgen::Certificate, key: &KeyPair) -> Identity {
    Identity {
        cert_pem: cert.pem(),
        cert_der: cert.der().to_vec(),
        key_pem: key.serialize_pem(),
        key_der: key.serialize_der(),
    }
}

fn leaf_params(
    dn: &[(DnType, &str)],
    sans: Vec<SanType>,
    eku: ExtendedKeyUsagePurpose,
) -> CertificateParams {
    let mut params = CertificateParams::default();
    let mut name = DistinguishedName::new();
    for (ty, value) in dn {
        name.push(ty.clone(), *value);
    }
    params.distinguished_name = name;
    params.subject_alt_names = sans;
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![eku];
    params.not_before = (SystemTime::now() - Duration::from_secs(3600)).into();
    params.not_after = (SystemTime::now() + Duration::from_secs(30 * 86_400)).into();
    params.use_authority_key_identifier_extension = true;
    params
}

fn rcgen_err(e: rcgen::Error) -> DemoError {
    DemoError::Pki(e.to_string())
}

impl DemoPki {
    /// Generates a new PKI.
    pub fn generate() -> Result<Self, DemoError> {
        let ca_key = KeyPair::generate().map_err(rcgen_err)?;
        let mut ca_params = CertificateParams::default();
        let mut ca_dn = DistinguishedName::new();
        ca_dn.push(DnType::OrganizationName, "certbound demo");
        ca_dn.push(DnType::CommonName, "certbound demo CA");
        ca_params.distinguished_name = ca_dn;
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        ca_params.not_before = (SystemTime::now() - Duration::from_secs(3600)).into();
        ca_params.not_after = (SystemTime::now() + Duration::from_secs(365 * 86_400)).into();
        let ca_cert = ca_params.self_signed(&ca_key).map_err(rcgen_err)?;
        let ca = identity(&ca_cert, &ca_key);
        let issuer = Issuer::new(ca_params, ca_key);

        let issue = |params: CertificateParams| -> Result<Identity, DemoError> {
            let key = KeyPair::generate().map_err(rcgen_err)?;
            let cert = params.signed_by(&key, &issuer).map_err(rcgen_err)?;
            Ok(identity(&cert, &key))
        };
        let self_signed = |params: CertificateParams| -> Result<Identity, DemoError> {
            let key = KeyPair::generate().map_err(rcgen_err)?;
            let cert = params.self_signed(&key).map_err(rcgen_err)?;
            Ok(identity(&cert, &key))
        };

        let server = issue(leaf_params(
            &[(DnType::CommonName, "localhost")],
            vec![
                SanType::DnsName("localhost".try_into().map_err(rcgen_err)?),
                SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)),
                SanType::IpAddress("::1".parse().map_err(|_| DemoError::Pki("::1".into()))?),
            ],
            ExtendedKeyUsagePurpose::ServerAuth,
        ))?;
        let pki_client = issue(leaf_params(
            &[
                (DnType::CountryName, "GB"),
                (DnType::OrganizationName, "certbound demo"),
                (DnType::CommonName, "pki-client"),
            ],
            vec![],
            ExtendedKeyUsagePurpose::ClientAuth,
        ))?;
        let san_client = issue(leaf_params(
            &[(DnType::CommonName, "san-client")],
            vec![SanType::DnsName(
                SAN_CLIENT_DNS.try_into().map_err(rcgen_err)?,
            )],
            ExtendedKeyUsagePurpose::ClientAuth,
        ))?;
        let intruder = issue(leaf_params(
            &[
                (DnType::CountryName, "GB"),
                (DnType::OrganizationName, "certbound demo"),
                (DnType::CommonName, "intruder"),
            ],
            vec![SanType::DnsName(
                "intruder.demo.certbound.test"
                    .try_into()
                    .map_err(rcgen_err)?,
            )],
            ExtendedKeyUsagePurpose::ClientAuth,
        ))?;
        let self_signed_client = self_signed(leaf_params(
            &[(DnType::CommonName, "self-signed-client")],
            vec![],
            ExtendedKeyUsagePurpose::ClientAuth,
        ))?;
        let public_client = self_signed(leaf_params(
            &[(DnType::CommonName, "public-client")],
            vec![],
            ExtendedKeyUsagePurpose::ClientAuth,
        ))?;
        Ok(Self {
            ca,
            server,
            pki_client,
            san_client,
            self_signed_client,
            public_client,
            intruder,
        })
    }

    /// Writes `ca.pem`, `server.pem`/`.key` and `NAME.pem`/`.key` for each
    /// client into `dir`.
    pub fn write(&self, dir: &Path) -> Result<(), DemoError> {
        let io = |e: std::io::Error| DemoError::Io(format!("{}: {e}", dir.display()));
        std::fs::create_dir_all(dir).map_err(io)?;
        std::fs::write(dir.join("ca.pem"), &self.ca.cert_pem).map_err(io)?;
        for (name, id) in self.named() {
            std::fs::write(dir.join(format!("{name}.pem")), &id.cert_pem).map_err(io)?;
            std::fs::write(dir.join(format!("{name}.key")), &id.key_pem).map_err(io)?;
        }
        Ok(())
    }

    /// Each identity with its file name.
    pub fn named(&self) -> [(&'static str, &Identity); 6] {
        [
            ("server", &self.server),
            ("pki-client", &self.pki_client),
            ("san-client", &self.san_client),
            ("self-signed-client", &self.self_signed_client),
            ("public-client", &self.public_client),
            ("intruder", &self.intruder),
        ]
    }
}
