//! Real TLS on loopback: a throw-away PKI, rustls configs with ring, and an
//! HTTP/1 client.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
pub use certbound_testkit::tls::provider;
use certbound_testkit::tls::{self, ClientCerts};
use certbound_testkit::{TestCa, TestCert};
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use rustls::client::ResolvesClientCert;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::server::danger::ClientCertVerifier;
use rustls::sign::CertifiedKey;
use rustls::{ClientConfig, RootCertStore, ServerConfig, SignatureScheme};

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

pub struct Pki {
    pub server_ca: TestCa,
    pub server: TestCert,
    pub client_ca: TestCa,
}

impl Pki {
    pub fn new() -> Self {
        let server_ca = TestCa::new("Server CA");
        Self {
            server: tls::localhost(&server_ca),
            server_ca,
            client_ca: TestCa::new("Client CA"),
        }
    }

    /// A server config with this verifier.
    pub fn server_config(&self, verifier: Arc<dyn ClientCertVerifier>) -> Arc<ServerConfig> {
        self.server_config_versions(verifier, rustls::DEFAULT_VERSIONS)
    }

    pub fn server_config_versions(
        &self,
        verifier: Arc<dyn ClientCertVerifier>,
        versions: &[&'static rustls::SupportedProtocolVersion],
    ) -> Arc<ServerConfig> {
        let mut config = tls::server_config_with_verifier(&self.server, verifier, versions);
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Arc::new(config)
    }

    /// A verifier that validates client chains against the client CA.
    pub fn webpki_verifier(&self) -> Arc<dyn ClientCertVerifier> {
        tls::client_verifier(ClientCerts::Required(&self.client_ca))
    }

    /// A client presenting `cert` (and `chain`), signing with its own key.
    pub fn client_config(&self, cert: &TestCert, chain: &[&TestCert]) -> Arc<ClientConfig> {
        let presented: Vec<&TestCert> =
            std::iter::once(cert).chain(chain.iter().copied()).collect();
        Arc::new(tls::client_config(&self.server_ca, &presented))
    }

    /// A client without a certificate.
    pub fn anonymous_client_config(&self) -> Arc<ClientConfig> {
        Arc::new(tls::client_config(&self.server_ca, &[]))
    }

    /// A client that presents `cert` but signs the handshake with the key of
    /// `key_of`: it does not hold the key of the certificate it claims.
    pub fn mismatched_client_config(
        &self,
        cert: &TestCert,
        key_of: &TestCert,
    ) -> Arc<ClientConfig> {
        let key = provider()
            .key_provider
            .load_private_key(PrivateKeyDer::try_from(key_of.key_der.clone()).unwrap())
            .unwrap();
        let certified = CertifiedKey::new(vec![CertificateDer::from(cert.der.clone())], key);
        let mut roots = RootCertStore::empty();
        roots
            .add(CertificateDer::from(self.server_ca.cert.der.clone()))
            .unwrap();
        Arc::new(
            ClientConfig::builder_with_provider(provider())
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_root_certificates(roots)
                .with_client_cert_resolver(Arc::new(PresentAnyway(Arc::new(certified)))),
        )
    }
}

/// Presents a certified key whatever the server asks for.
#[derive(Debug)]
struct PresentAnyway(Arc<CertifiedKey>);

impl ResolvesClientCert for PresentAnyway {
    fn resolve(&self, _hints: &[&[u8]], _schemes: &[SignatureScheme]) -> Option<Arc<CertifiedKey>> {
        Some(self.0.clone())
    }

    fn has_certs(&self) -> bool {
        true
    }
}

/// One HTTP/1.1 GET over a fresh TLS connection.
pub async fn get(
    addr: SocketAddr,
    config: Arc<ClientConfig>,
    path: &str,
) -> Result<(StatusCode, String), BoxError> {
    let tcp = tokio::net::TcpStream::connect(addr).await?;
    let tls = tokio_rustls::TlsConnector::from(config)
        .connect(ServerName::try_from("localhost")?, tcp)
        .await?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls)).await?;
    tokio::spawn(conn);
    let req = Request::get(path)
        .header("host", "localhost")
        .body(Empty::<Bytes>::new())?;
    let res = sender.send_request(req).await?;
    let status = res.status();
    let body = res.into_body().collect().await?.to_bytes();
    Ok((status, String::from_utf8(body.to_vec())?))
}
