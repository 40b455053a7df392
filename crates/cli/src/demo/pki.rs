//! The demo's throw-away PKI, generated with rcgen at start-up.

use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::time::{Duration, SystemTime};

use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, CrlDistributionPoint,
    DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyIdMethod, KeyPair,
    KeyUsagePurpose, RevokedCertParams, SanType, SerialNumber,
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

/// The demo CA's CRL (DER) in the output directory, and its path on the
/// CRL listener.
pub const CRL_FILE: &str = "ca.crl";
/// The demo CA's private key in the output directory (`demo revoke` signs
/// the CRL with it).
pub const CA_KEY_FILE: &str = "ca.key";
/// The clients whose certificates the demo CA issued: the ones `demo
/// revoke` can revoke.
pub const REVOCABLE: [&str; 3] = ["pki-client", "san-client", "intruder"];
/// How long a CRL the demo writes is valid (as long as its certificates).
const CRL_VALIDITY: Duration = Duration::from_secs(30 * 86_400);

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
    /// Generates a new PKI whose CA-issued client certificates name no CRL
    /// distribution point.
    pub fn generate() -> Result<Self, DemoError> {
        Self::generate_with_crl(None)
    }

    /// Generates a new PKI; the client certificates the CA issues name
    /// `crl_url` as their CRL distribution point, when given.
    pub fn generate_with_crl(crl_url: Option<&str>) -> Result<Self, DemoError> {
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

        let issue = |mut params: CertificateParams| -> Result<Identity, DemoError> {
            if let (Some(url), Some(ExtendedKeyUsagePurpose::ClientAuth)) =
                (crl_url, params.extended_key_usages.first())
            {
                params.crl_distribution_points = vec![CrlDistributionPoint {
                    uris: vec![url.to_owned()],
                }];
            }
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

    /// Writes `ca.pem`, the CA's key `ca.key` (`demo revoke` signs the CRL
    /// with it), an empty CRL `ca.crl`, `server.pem`/`.key` and
    /// `NAME.pem`/`.key` for each client into `dir`. On unix the private
    /// keys are created with mode `0600` (readable by the owner alone),
    /// replacing any file of the same name.
    pub fn write(&self, dir: &Path) -> Result<(), DemoError> {
        let io = |e: std::io::Error| DemoError::Io(format!("{}: {e}", dir.display()));
        std::fs::create_dir_all(dir).map_err(io)?;
        std::fs::write(dir.join("ca.pem"), &self.ca.cert_pem).map_err(io)?;
        write_private_key(&dir.join(CA_KEY_FILE), &self.ca.key_pem).map_err(io)?;
        write_crl(dir, &self.ca.cert_pem, &self.ca.key_pem, Vec::new())?;
        for (name, id) in self.named() {
            std::fs::write(dir.join(format!("{name}.pem")), &id.cert_pem).map_err(io)?;
            write_private_key(&dir.join(format!("{name}.key")), &id.key_pem).map_err(io)?;
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

/// Writes a private key so that no other user can read it, not even
/// briefly: on unix a file left by an earlier run is removed (opening it
/// would keep its mode) and the new one is created with mode `0600`
/// (`create_new`, so a symbolic link planted under the name is not
/// followed either).
fn write_private_key(path: &Path, pem: &str) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::io::Write as _;
        use std::os::unix::fs::OpenOptionsExt as _;

        match std::fs::remove_file(path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)?;
        file.write_all(pem.as_bytes())
    }
    #[cfg(not(unix))]
    {
        std::fs::write(path, pem)
    }
}

/// Adds `client`'s certificate (`DIR/CLIENT.pem`) to the demo CA's CRL in
/// `dir` (`ca.crl`, signed with `ca.key`), keeping the certificates already
/// listed. The file is replaced in one rename, so the CRL listener never
/// serves half of it.
pub fn revoke(dir: &Path, client: &str) -> Result<(), DemoError> {
    if !REVOCABLE.contains(&client) {
        return Err(DemoError::Config(format!(
            "{client:?} has no certificate of the demo CA (one of: {})",
            REVOCABLE.join(", ")
        )));
    }
    let read = |name: &str| {
        std::fs::read(dir.join(name))
            .map_err(|e| DemoError::Io(format!("{}: {e}", dir.join(name).display())))
    };
    let text = |name: &str| {
        read(name).and_then(|b| {
            String::from_utf8(b).map_err(|_| DemoError::Pki(format!("{name} is not PEM")))
        })
    };
    let ca_pem = text("ca.pem")?;
    let ca_key = text(CA_KEY_FILE)?;
    let cert_pem = read(&format!("{client}.pem"))?;
    let (_, pem) = x509_parser::pem::parse_x509_pem(&cert_pem)
        .map_err(|e| DemoError::Pki(format!("{client}.pem: {e}")))?;
    let cert = pem
        .parse_x509()
        .map_err(|e| DemoError::Pki(format!("{client}.pem: {e}")))?;
    let serial = cert.raw_serial().to_vec();

    let crl_der = read(CRL_FILE)?;
    let (_, crl) = x509_parser::parse_x509_crl(&crl_der)
        .map_err(|e| DemoError::Pki(format!("{CRL_FILE}: {e}")))?;
    let mut revoked: Vec<(Vec<u8>, SystemTime)> = crl
        .iter_revoked_certificates()
        .map(|r| {
            let secs = u64::try_from(r.revocation_date.timestamp()).unwrap_or(0);
            (
                r.raw_serial().to_vec(),
                SystemTime::UNIX_EPOCH + Duration::from_secs(secs),
            )
        })
        .collect();
    if !revoked.iter().any(|(s, _)| *s == serial) {
        revoked.push((serial, SystemTime::now()));
    }
    write_crl(dir, &ca_pem, &ca_key, revoked)
}

/// Signs a CRL listing `revoked` (serial, revocation time) with the CA and
/// writes it to `dir/ca.crl` (DER).
fn write_crl(
    dir: &Path,
    ca_pem: &str,
    ca_key_pem: &str,
    revoked: Vec<(Vec<u8>, SystemTime)>,
) -> Result<(), DemoError> {
    let key = KeyPair::from_pem(ca_key_pem).map_err(rcgen_err)?;
    let issuer = Issuer::from_ca_cert_pem(ca_pem, key).map_err(rcgen_err)?;
    let now = SystemTime::now();
    // A CRL number that grows with each CRL written: the time in seconds.
    let number = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(1, |d| d.as_secs());
    let params = CertificateRevocationListParams {
        this_update: now.into(),
        next_update: (now + CRL_VALIDITY).into(),
        crl_number: SerialNumber::from(number),
        issuing_distribution_point: None,
        revoked_certs: revoked
            .into_iter()
            .map(|(serial, at)| RevokedCertParams {
                serial_number: SerialNumber::from_slice(&serial),
                revocation_time: at.into(),
                reason_code: None,
                invalidity_date: None,
            })
            .collect(),
        key_identifier_method: KeyIdMethod::Sha256,
    };
    let crl = params.signed_by(&issuer).map_err(rcgen_err)?;
    let io = |e: std::io::Error| DemoError::Io(format!("{}: {e}", dir.display()));
    let tmp = dir.join(format!("{CRL_FILE}.tmp"));
    std::fs::write(&tmp, crl.der()).map_err(io)?;
    std::fs::rename(&tmp, dir.join(CRL_FILE)).map_err(io)
}
