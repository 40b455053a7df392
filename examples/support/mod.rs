//! What the examples share: a throw-away PKI (the demo's), TLS
//! configurations, and an ES256 key that mints certificate-bound tokens the
//! way an authorization server would.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use certbound::binding::Confirmation;
use certbound::cert::Thumbprint;
use certbound::extract::danger::AcceptAnyClientCert;
use certbound_cli::demo::DemoPki;
use josekit::jwk::JwkSet;
use josekit::jws::alg::ecdsa::EcdsaJwsSigner;
use josekit::jws::{ES256, JwsHeader};
use josekit::jwt::JwtPayload;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

pub(crate) type Error = Box<dyn std::error::Error + Send + Sync>;

pub(crate) const ISSUER: &str = "https://as.example.com";
pub(crate) const AUDIENCE: &str = "https://rs.example.com";

/// Generates the PKI and writes it to `target/example-pki/NAME`.
pub(crate) fn pki(name: &str) -> Result<(DemoPki, PathBuf), Error> {
    let pki = DemoPki::generate()?;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target")
        .join("example-pki")
        .join(name);
    pki.write(&dir)?;
    Ok((pki, dir))
}

/// A rustls server configuration with the PKI's server certificate that
/// accepts any client certificate (the application decides) but does not
/// require one.
pub(crate) fn server_config(pki: &DemoPki) -> Result<Arc<rustls::ServerConfig>, Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?
        .with_client_cert_verifier(Arc::new(
            AcceptAnyClientCert::new(provider).allow_unauthenticated(),
        ))
        .with_single_cert(
            vec![CertificateDer::from(pki.server.cert_der.clone())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(pki.server.key_der.clone())),
        )?;
    Ok(Arc::new(config))
}

/// Serves `app` over TLS: the accept loop of `hyper_util_accept_loop.rs`,
/// shared by the other examples.
pub(crate) async fn serve_tls(
    listener: tokio::net::TcpListener,
    config: Arc<rustls::ServerConfig>,
    app: axum::Router,
) -> Result<(), Error> {
    use certbound::extract::PeerCertificatesLayer;
    use hyper_util::rt::{TokioExecutor, TokioIo};
    use hyper_util::server::conn::auto;
    use hyper_util::service::TowerToHyperService;
    use tower::Layer as _;

    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    loop {
        let (tcp, remote) = listener.accept().await?;
        let (acceptor, app) = (acceptor.clone(), app.clone());
        tokio::spawn(async move {
            let Ok(tls) = acceptor.accept(tcp).await else {
                return;
            };
            let svc = PeerCertificatesLayer::from_connection(tls.get_ref().1)
                .peer_addr(remote)
                .layer(app);
            let _ = auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(tls), TowerToHyperService::new(svc))
                .await;
        });
    }
}

/// An ES256 signing key and the JWKS a resource server verifies with.
pub(crate) struct TokenIssuer {
    signer: EcdsaJwsSigner,
    /// The public keys.
    pub(crate) jwks: JwkSet,
}

impl TokenIssuer {
    pub(crate) fn new() -> Result<Self, Error> {
        let pair = ES256.generate_key_pair()?;
        let mut jwk = pair.to_jwk_public_key();
        jwk.set_key_id("example");
        let mut jwks = JwkSet::new();
        jwks.push_key(jwk);
        Ok(Self {
            signer: ES256.signer_from_der(pair.to_der_private_key())?,
            jwks,
        })
    }

    /// An RFC 9068 access token for `client_id`, bound to `cnf` when given.
    pub(crate) fn mint(&self, client_id: &str, cnf: Option<Thumbprint>) -> Result<String, Error> {
        let mut payload = JwtPayload::new();
        payload.set_issuer(ISSUER);
        payload.set_subject(client_id);
        payload.set_audience(vec![AUDIENCE]);
        payload.set_issued_at(&SystemTime::now());
        payload.set_expires_at(&(SystemTime::now() + Duration::from_secs(3600)));
        payload.set_claim("client_id", Some(client_id.into()))?;
        if let Some(t) = cnf {
            Confirmation::from_thumbprint(t).insert_into_jwt_payload(&mut payload);
        }
        let mut header = JwsHeader::new();
        header.set_token_type("at+jwt");
        header.set_key_id("example");
        Ok(josekit::jwt::encode_with_signer(
            &payload,
            &header,
            &self.signer,
        )?)
    }
}

/// The thumbprint of a PEM certificate.
pub(crate) fn thumbprint(pem: &str) -> Result<Thumbprint, Error> {
    Ok(certbound::cert::Certificate::from_pem(pem)?.thumbprint())
}
