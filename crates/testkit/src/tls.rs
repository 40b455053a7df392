//! rustls configurations for tests over real TLS on loopback, with the
//! `ring` provider and certificates from this crate.
//!
//! ```
//! use std::sync::Arc;
//!
//! use certbound_testkit::TestCa;
//! use certbound_testkit::tls::{self, ClientCerts};
//!
//! let server_ca = TestCa::new("Server CA");
//! let client_ca = TestCa::new("Client CA");
//! let server = tls::localhost(&server_ca);
//! let mut config = tls::server_config(&server, ClientCerts::Required(&client_ca));
//! config.alpn_protocols = vec![b"http/1.1".to_vec()];
//! let client = client_ca.leaf("client-1").issue();
//! let client_config = tls::client_config(&server_ca, &[&client]);
//! # let _ = (Arc::new(config), client_config);
//! ```

use std::sync::Arc;

use rcgen::ExtendedKeyUsagePurpose;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::server::danger::ClientCertVerifier;
use rustls::{ClientConfig, RootCertStore, ServerConfig, SupportedProtocolVersion};

use crate::{TestCa, TestCert};

/// The crypto provider of every configuration here: ring.
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Which client certificates a test server asks for.
#[derive(Debug, Clone, Copy)]
pub enum ClientCerts<'a> {
    /// None: the server does not ask.
    None,
    /// Asked for and, when sent, verified against this CA; a client
    /// without one is let in.
    Optional(&'a TestCa),
    /// Required and verified against this CA.
    Required(&'a TestCa),
}

/// A server certificate for `localhost` (DNS SAN, serverAuth EKU) from `ca`.
pub fn localhost(ca: &TestCa) -> TestCert {
    ca.leaf("localhost")
        .san_dns("localhost")
        .eku(vec![ExtendedKeyUsagePurpose::ServerAuth])
        .issue()
}

/// The rustls client certificate verifier for `client_certs`.
pub fn client_verifier(client_certs: ClientCerts<'_>) -> Arc<dyn ClientCertVerifier> {
    let (ca, required) = match client_certs {
        ClientCerts::None => return WebPkiClientVerifier::no_client_auth(),
        ClientCerts::Optional(ca) => (ca, false),
        ClientCerts::Required(ca) => (ca, true),
    };
    let builder = WebPkiClientVerifier::builder_with_provider(Arc::new(roots(ca)), provider());
    let builder = if required {
        builder
    } else {
        builder.allow_unauthenticated()
    };
    builder.build().unwrap()
}

/// A server presenting `server` (signed with its key) that asks for client
/// certificates as `client_certs` says; TLS 1.2 and 1.3, no ALPN (set
/// `alpn_protocols` as the test needs).
pub fn server_config(server: &TestCert, client_certs: ClientCerts<'_>) -> ServerConfig {
    server_config_with_verifier(
        server,
        client_verifier(client_certs),
        rustls::DEFAULT_VERSIONS,
    )
}

/// A server presenting `server` that checks client certificates with
/// `verifier` (e.g. `certbound_extract::danger::AcceptAnyClientCert`), with
/// the given protocol versions.
pub fn server_config_with_verifier(
    server: &TestCert,
    verifier: Arc<dyn ClientCertVerifier>,
    versions: &[&'static SupportedProtocolVersion],
) -> ServerConfig {
    let key = PrivateKeyDer::try_from(server.key_der.clone()).unwrap();
    ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(versions)
        .unwrap()
        .with_client_cert_verifier(verifier)
        .with_single_cert(vec![CertificateDer::from(server.der.clone())], key)
        .unwrap()
}

/// A client that trusts `server_ca` and presents `chain` (leaf first, signed
/// with the leaf's key), or no certificate when `chain` is empty.
pub fn client_config(server_ca: &TestCa, chain: &[&TestCert]) -> ClientConfig {
    let builder = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots(server_ca));
    match chain.first() {
        None => builder.with_no_client_auth(),
        Some(leaf) => {
            let certs = chain
                .iter()
                .map(|c| CertificateDer::from(c.der.clone()))
                .collect();
            let key = PrivateKeyDer::try_from(leaf.key_der.clone()).unwrap();
            builder.with_client_auth_cert(certs, key).unwrap()
        }
    }
}

fn roots(ca: &TestCa) -> RootCertStore {
    let mut roots = RootCertStore::empty();
    roots
        .add(CertificateDer::from(ca.cert.der.clone()))
        .unwrap();
    roots
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};

    use rustls::pki_types::ServerName;
    use rustls::{ClientConnection, ServerConnection, StreamOwned};

    use super::*;

    /// One handshake over loopback TCP: the client sends a byte, the server
    /// echoes it. Returns what the server saw of the client's chain, or the
    /// server's handshake error.
    fn handshake(
        server: ServerConfig,
        client: ClientConfig,
    ) -> Result<Option<Vec<Vec<u8>>>, String> {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            let (tcp, _) = listener.accept().unwrap();
            let conn = ServerConnection::new(Arc::new(server)).unwrap();
            let mut tls = StreamOwned::new(conn, tcp);
            let mut byte = [0u8; 1];
            tls.read_exact(&mut byte).map_err(|e| e.to_string())?;
            tls.write_all(&byte).map_err(|e| e.to_string())?;
            let chain = tls
                .conn
                .peer_certificates()
                .map(|c| c.iter().map(|d| d.to_vec()).collect());
            Ok(chain)
        });
        let name = ServerName::try_from("localhost").unwrap();
        let conn = ClientConnection::new(Arc::new(client), name).unwrap();
        let mut tls = StreamOwned::new(conn, TcpStream::connect(addr).unwrap());
        let _ = tls.write_all(b"x");
        let mut echo = [0u8; 1];
        let _ = tls.read_exact(&mut echo);
        server.join().unwrap()
    }

    #[test]
    fn required_client_certificate_is_verified_against_the_ca() {
        let server_ca = TestCa::new("Server CA");
        let client_ca = TestCa::new("Client CA");
        let server = localhost(&server_ca);
        let client = client_ca.leaf("client-1").issue();

        let seen = handshake(
            server_config(&server, ClientCerts::Required(&client_ca)),
            client_config(&server_ca, &[&client]),
        );
        assert_eq!(seen, Ok(Some(vec![client.der.clone()])));

        let refused = handshake(
            server_config(&server, ClientCerts::Required(&client_ca)),
            client_config(&server_ca, &[]),
        );
        assert!(refused.is_err(), "{refused:?}");

        let stranger = TestCa::new("Other CA").leaf("client-1").issue();
        let refused = handshake(
            server_config(&server, ClientCerts::Required(&client_ca)),
            client_config(&server_ca, &[&stranger]),
        );
        assert!(refused.is_err(), "{refused:?}");
    }

    #[test]
    fn optional_client_certificate_lets_a_client_without_one_in() {
        let server_ca = TestCa::new("Server CA");
        let client_ca = TestCa::new("Client CA");
        let server = localhost(&server_ca);
        let seen = handshake(
            server_config(&server, ClientCerts::Optional(&client_ca)),
            client_config(&server_ca, &[]),
        );
        assert_eq!(seen, Ok(None));

        let issuing = client_ca.intermediate("Issuing");
        let client = issuing.leaf("client-2").issue();
        let seen = handshake(
            server_config(&server, ClientCerts::Optional(&client_ca)),
            client_config(&server_ca, &[&client, &issuing.cert]),
        );
        assert_eq!(seen, Ok(Some(vec![client.der, issuing.cert.der])));
    }

    #[test]
    fn chain_is_verified_and_a_leaf_on_the_crl_is_refused() {
        let server_ca = TestCa::new("Server CA");
        let server = localhost(&server_ca);
        let root = TestCa::new("Root");
        let issuing = root.intermediate("Issuing");
        let leaf = issuing.leaf("leaf").policies(&[&[1, 2, 3]]).issue();
        let other = issuing.leaf("other").issue();
        let with_crl = |crl: Vec<u8>| {
            let verifier =
                WebPkiClientVerifier::builder_with_provider(Arc::new(roots(&root)), provider())
                    .with_crls([rustls::pki_types::CertificateRevocationListDer::from(crl)])
                    .only_check_end_entity_revocation()
                    .build()
                    .unwrap();
            server_config_with_verifier(&server, verifier, rustls::DEFAULT_VERSIONS)
        };
        let chain = [&leaf, &issuing.cert];

        let seen = handshake(
            with_crl(issuing.crl(&[&other.serial])),
            client_config(&server_ca, &chain),
        );
        assert_eq!(
            seen,
            Ok(Some(vec![leaf.der.clone(), issuing.cert.der.clone()]))
        );

        let refused = handshake(
            with_crl(issuing.crl(&[&leaf.serial])),
            client_config(&server_ca, &chain),
        );
        assert!(refused.is_err(), "{refused:?}");
    }

    #[test]
    fn server_without_client_auth_sees_no_certificate() {
        let server_ca = TestCa::new("Server CA");
        let server = localhost(&server_ca);
        let seen = handshake(
            server_config(&server, ClientCerts::None),
            client_config(&server_ca, &[]),
        );
        assert_eq!(seen, Ok(None));
    }
}
