//! Dangerous TLS configuration, needed for `self_signed_tls_client_auth`.
//!
//! [`AcceptAnyClientCert`] lets a client connect with **any** certificate:
//! self-signed, expired, issued by anyone, for any name. The TLS layer then
//! proves only one thing: that the client holds the private key of the
//! certificate it sent (the handshake signature is still verified). It does
//! not prove who the client is.
//!
//! That is exactly what RFC 8705 §2.2 `self_signed_tls_client_auth` needs,
//! and it is why this lives in a module called `danger`: the application must
//! now decide, per request, whether the certificate means anything. Before
//! trusting a [`ClientCert`](crate::ClientCert) from such a connection, it
//! must either
//!
//! - compare its `x5t#S256` with a certificate registered for the client
//!   (`self_signed_tls_client_auth`, the client's `jwks`), or
//! - validate its chain against trust anchors itself (`tls_client_auth`,
//!   certbound-auth does it with rustls-webpki), or
//! - compare it with the `cnf` of a certificate-bound access token.
//!
//! A handler that only checks "a certificate is present" accepts anyone.
//!
//! ```
//! use std::sync::Arc;
//! use certbound_extract::danger::AcceptAnyClientCert;
//!
//! let provider = Arc::new(rustls::crypto::ring::default_provider());
//! let verifier = AcceptAnyClientCert::new(provider.clone()).allow_unauthenticated();
//! # let cert = certbound_testkit::self_signed("server").issue();
//! # let chain = vec![rustls::pki_types::CertificateDer::from(cert.der)];
//! # let key = rustls::pki_types::PrivateKeyDer::try_from(cert.key_der).unwrap();
//! let config = rustls::ServerConfig::builder_with_provider(provider)
//!     .with_safe_default_protocol_versions()?
//!     .with_client_cert_verifier(Arc::new(verifier))
//!     .with_single_cert(chain, key)?;
//! # let _ = config;
//! # Ok::<(), rustls::Error>(())
//! ```

use std::sync::Arc;

use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, UnixTime};
use rustls::server::ParsedCertificate;
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, SignatureScheme};

/// A rustls client-certificate verifier that asks for a certificate, accepts
/// any well-formed one without looking at its issuer, dates or names, and
/// still verifies the handshake signature with the algorithms of the crypto
/// provider it was given. Read the [module docs](self) before using it.
///
/// A certificate is mandatory unless
/// [`allow_unauthenticated`](Self::allow_unauthenticated) is called.
#[derive(Debug, Clone)]
pub struct AcceptAnyClientCert {
    algorithms: WebPkiSupportedAlgorithms,
    mandatory: bool,
    root_hints: Vec<DistinguishedName>,
}

impl AcceptAnyClientCert {
    /// A verifier that requires a certificate and checks handshake
    /// signatures with `provider`'s signature verification algorithms.
    pub fn new(provider: Arc<CryptoProvider>) -> Self {
        Self {
            algorithms: provider.signature_verification_algorithms,
            mandatory: true,
            root_hints: Vec::new(),
        }
    }

    /// Lets clients connect without a certificate (the server still asks).
    pub fn allow_unauthenticated(mut self) -> Self {
        self.mandatory = false;
        self
    }

    /// The CA names sent to the client in the certificate request (none by
    /// default, which tells clients any certificate will do).
    pub fn root_hint_subjects(mut self, subjects: Vec<DistinguishedName>) -> Self {
        self.root_hints = subjects;
        self
    }
}

impl ClientCertVerifier for AcceptAnyClientCert {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        self.mandatory
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &self.root_hints
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        // Only well-formedness: the handshake signature is checked against
        // this certificate's key, so it must parse.
        ParsedCertificate::try_from(end_entity)?;
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_garbage_end_entity() {
        let v = AcceptAnyClientCert::new(Arc::new(rustls::crypto::ring::default_provider()));
        assert!(v.client_auth_mandatory());
        let garbage = CertificateDer::from(vec![0x30, 0x03, 0x02, 0x01, 0x00]);
        assert!(
            v.verify_client_cert(&garbage, &[], UnixTime::now())
                .is_err()
        );
        let cert = certbound_testkit::self_signed("c").issue();
        let der = CertificateDer::from(cert.der);
        assert!(v.verify_client_cert(&der, &[], UnixTime::now()).is_ok());
        assert!(!v.allow_unauthenticated().client_auth_mandatory());
    }
}
