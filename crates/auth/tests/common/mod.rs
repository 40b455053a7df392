//! Shared helpers of the certbound-auth integration tests.
#![allow(dead_code, unreachable_pub)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use certbound_auth::{
    Authenticator, ClientMetadata, RegisteredClient, SelfSignedTlsClientAuth, TlsClientAuth,
    TokenEndpointAuthMethod, TrustStore, registry_from_metadata,
};
use certbound_cert::Certificate;
use certbound_extract::{CertSource, ClientCert};
use certbound_testkit::{TestCa, TestCert};

pub fn cert(c: &TestCert) -> Certificate {
    Certificate::from_der(c.der.clone()).unwrap()
}

/// A certificate as presented over TLS: the leaf and the intermediates sent.
pub fn presented(leaf: &TestCert, intermediates: &[&TestCert]) -> ClientCert {
    ClientCert::new(
        cert(leaf),
        intermediates.iter().map(|c| cert(c)).collect(),
        CertSource::Tls,
    )
}

pub fn store(cas: &[&TestCa]) -> TrustStore {
    TrustStore::from_certificates(cas.iter().map(|ca| cert(&ca.cert))).unwrap()
}

/// A `tls_client_auth` registration with one subject parameter.
pub fn tls_client(client_id: &str, field: &str, value: &str) -> ClientMetadata {
    let mut m = ClientMetadata::new(client_id, TokenEndpointAuthMethod::TlsClientAuth);
    let v = Some(value.to_owned());
    match field {
        "tls_client_auth_subject_dn" => m.tls_client_auth_subject_dn = v,
        "tls_client_auth_san_dns" => m.tls_client_auth_san_dns = v,
        "tls_client_auth_san_uri" => m.tls_client_auth_san_uri = v,
        "tls_client_auth_san_ip" => m.tls_client_auth_san_ip = v,
        "tls_client_auth_san_email" => m.tls_client_auth_san_email = v,
        other => panic!("not a subject parameter: {other}"),
    }
    m
}

pub fn validated(m: ClientMetadata) -> RegisteredClient {
    m.validate().unwrap()
}

pub fn tls_authenticator(clients: Vec<ClientMetadata>, tls: TlsClientAuth) -> Authenticator {
    Authenticator::builder(registry_from_metadata(clients).unwrap())
        .tls_client_auth(tls)
        .self_signed_tls_client_auth(SelfSignedTlsClientAuth::new())
        .build()
        .unwrap()
}

/// A clock the test moves by hand.
#[derive(Clone)]
pub struct TestClock(Arc<Mutex<SystemTime>>);

impl TestClock {
    pub fn new() -> Self {
        Self(Arc::new(Mutex::new(SystemTime::now())))
    }

    pub fn advance(&self, by: Duration) {
        *self.0.lock().unwrap() += by;
    }

    pub fn now(&self) -> SystemTime {
        *self.0.lock().unwrap()
    }
}

impl certbound_auth::Clock for TestClock {
    fn now(&self) -> SystemTime {
        TestClock::now(self)
    }
}

pub const DAY: Duration = Duration::from_secs(86_400);

/// The content type of token endpoint requests.
pub const FORM: &str = "application/x-www-form-urlencoded";

/// A form POST to `uri` from a trusted proxy (127.0.0.1) that forwards
/// `cert`, when given, as an RFC 9440 `Client-Cert` header.
pub fn request(
    uri: &str,
    body: impl Into<axum::body::Body>,
    cert: Option<&TestCert>,
) -> http::Request<axum::body::Body> {
    use base64::Engine as _;
    let mut req = http::Request::post(uri)
        .header("content-type", FORM)
        .body(body.into())
        .unwrap();
    req.extensions_mut().insert(certbound_extract::PeerAddr(
        "127.0.0.1:40000".parse().unwrap(),
    ));
    if let Some(c) = cert {
        let value = format!(
            ":{}:",
            base64::engine::general_purpose::STANDARD.encode(&c.der)
        );
        req.headers_mut()
            .insert("client-cert", value.parse().unwrap());
    }
    req
}

/// A response body as text.
pub async fn text(res: http::Response<axum::body::Body>) -> String {
    use http_body_util::BodyExt as _;
    String::from_utf8(res.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap()
}

/// A root, an intermediate and a leaf made with rcgen directly, for the
/// shapes the test CA does not make: the root's pathLenConstraint and the
/// intermediate's notAfter are the caller's.
pub struct Chain {
    pub root: TestCert,
    pub intermediate: TestCert,
    pub leaf: TestCert,
}

pub fn chain(root_path_len: Option<u8>, intermediate_not_after: SystemTime) -> Chain {
    chain_with(
        root_path_len,
        SystemTime::now() + 3650 * DAY,
        intermediate_not_after,
    )
}

/// Like [`chain`], with the root's notAfter too.
pub fn chain_with(
    root_path_len: Option<u8>,
    root_not_after: SystemTime,
    intermediate_not_after: SystemTime,
) -> Chain {
    use certbound_testkit::rcgen::{
        BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose,
        IsCa, Issuer, KeyPair, KeyUsagePurpose,
    };
    fn params(cn: &str, ca: Option<BasicConstraints>, not_after: SystemTime) -> CertificateParams {
        let mut p = CertificateParams::default();
        p.distinguished_name = DistinguishedName::new();
        p.distinguished_name.push(DnType::CommonName, cn);
        p.not_before = (SystemTime::now() - DAY).into();
        p.not_after = not_after.into();
        match ca {
            Some(c) => {
                p.is_ca = IsCa::Ca(c);
                p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
            }
            None => {
                p.is_ca = IsCa::ExplicitNoCa;
                p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
            }
        }
        p
    }
    fn test_cert(c: &certbound_testkit::rcgen::Certificate, key: &KeyPair) -> TestCert {
        TestCert {
            der: c.der().to_vec(),
            pem: c.pem(),
            key_der: key.serialize_der(),
            key_pem: key.serialize_pem(),
            serial: Vec::new(),
        }
    }
    let root_constraints = match root_path_len {
        Some(n) => BasicConstraints::Constrained(n),
        None => BasicConstraints::Unconstrained,
    };
    let root_key = KeyPair::generate().unwrap();
    let root_params = params("Chain Root", Some(root_constraints), root_not_after);
    let root = root_params.self_signed(&root_key).unwrap();
    let root_cert = test_cert(&root, &root_key);
    let root_issuer = Issuer::new(root_params, root_key);
    let int_key = KeyPair::generate().unwrap();
    let int_params = params(
        "Chain Issuing",
        Some(BasicConstraints::Unconstrained),
        intermediate_not_after,
    );
    let int = int_params.signed_by(&int_key, &root_issuer).unwrap();
    let int_cert = test_cert(&int, &int_key);
    let int_issuer = Issuer::new(int_params, int_key);
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = params("bank-1", None, SystemTime::now() + 30 * DAY)
        .signed_by(&leaf_key, &int_issuer)
        .unwrap();
    Chain {
        root: root_cert,
        intermediate: int_cert,
        leaf: test_cert(&leaf, &leaf_key),
    }
}
