//! Shared fixtures for the binding flows: a throw-away PKI, JWT signing keys,
//! a TLS server on loopback that puts the client certificate into the
//! request extensions, and a TLS client.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, unreachable_pub)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use certbound_binding::Confirmation;
use certbound_cert::{Certificate, Thumbprint};
use certbound_extract::{CertSource, ClientCert, ClientCertLayer, PeerCertificatesLayer};
use certbound_testkit::rcgen::ExtendedKeyUsagePurpose;
use certbound_testkit::tls::{self, ClientCerts};
use certbound_testkit::{TestCa, TestCert};
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::{TokioExecutor, TokioIo};
use josekit::jwk::JwkSet;
use josekit::jws::{ES256, JwsHeader, RS256};
use josekit::jwt::{self, JwtPayload};
use rustls::pki_types::ServerName;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

pub const ISSUER: &str = "https://as.example.test";
pub const AUDIENCE: &str = "https://rs.example.test";

/// The PKI: a CA, a server certificate for localhost, two client certificates.
pub struct Pki {
    pub ca: TestCa,
    pub server: TestCert,
    pub client: TestCert,
    pub other_client: TestCert,
}

impl Pki {
    pub fn new() -> Self {
        let ca = TestCa::new("Binding Test CA");
        let server = ca
            .leaf("localhost")
            .san_dns("localhost")
            .san_ip("127.0.0.1".parse().unwrap())
            .eku(vec![ExtendedKeyUsagePurpose::ServerAuth])
            .issue();
        let client = ca.leaf("client-1").issue();
        let other_client = ca.leaf("client-2").issue();
        Self {
            ca,
            server,
            client,
            other_client,
        }
    }
}

pub fn thumbprint(cert: &TestCert) -> Thumbprint {
    Thumbprint::of_der(&cert.der)
}

pub fn client_cert(cert: &TestCert) -> ClientCert {
    ClientCert::new(
        Certificate::from_der(cert.der.clone()).unwrap(),
        vec![],
        CertSource::Tls,
    )
}

/// Server TLS: certificate for localhost, client certificates optional and
/// verified against the CA, ALPN h2 and http/1.1.
pub fn server_config(pki: &Pki) -> Arc<rustls::ServerConfig> {
    let mut config = tls::server_config(&pki.server, ClientCerts::Optional(&pki.ca));
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Arc::new(config)
}

/// A running TLS server; stops when dropped.
pub struct Server {
    pub addr: SocketAddr,
    _stop: oneshot::Sender<()>,
}

/// Serves `service` over TLS on 127.0.0.1 behind certbound-extract's
/// `PeerCertificatesLayer` and `ClientCertLayer::tls()`, so each request
/// carries its connection's `ClientCert` when `service` sees it.
pub async fn serve_tls<S, B>(config: Arc<rustls::ServerConfig>, service: S) -> Server
where
    S: tower::Service<http::Request<hyper::body::Incoming>, Response = http::Response<B>>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    let (stop, mut stopped) = oneshot::channel::<()>();
    tokio::spawn(async move {
        loop {
            let (tcp, peer) = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok(a) => a,
                    Err(_) => continue,
                },
                _ = &mut stopped => break,
            };
            let acceptor = acceptor.clone();
            let service = service.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                // certbound-extract: the chain of this connection, then the
                // ClientCert from the TLS source, as a real deployment does.
                let service = tower::ServiceBuilder::new()
                    .layer(PeerCertificatesLayer::from_connection(tls.get_ref().1).peer_addr(peer))
                    .layer(ClientCertLayer::tls())
                    .service(service);
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(
                        TokioIo::new(tls),
                        hyper_util::service::TowerToHyperService::new(service),
                    )
                    .await;
            });
        }
    });
    Server { addr, _stop: stop }
}

/// Client TLS trusting the CA, presenting `client` if given.
pub fn client_config(pki: &Pki, client: Option<&TestCert>) -> Arc<rustls::ClientConfig> {
    let chain: Vec<&TestCert> = client.into_iter().collect();
    Arc::new(tls::client_config(&pki.ca, &chain))
}

/// What the client saw.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub www_authenticate: Option<String>,
    pub body: String,
}

/// One HTTP/1.1 GET over a new TLS connection.
pub async fn get(
    addr: SocketAddr,
    pki: &Pki,
    client: Option<&TestCert>,
    path: &str,
    token: Option<&str>,
) -> Answer {
    let connector = tokio_rustls::TlsConnector::from(client_config(pki, client));
    let tcp = TcpStream::connect(addr).await.unwrap();
    let tls = connector
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
        .await
        .unwrap();
    tokio::spawn(conn);
    let mut req = http::Request::get(path).header("host", "localhost");
    if let Some(token) = token {
        req = req.header("authorization", format!("Bearer {token}"));
    }
    let response = sender
        .send_request(req.body(Empty::<Bytes>::new()).unwrap())
        .await
        .unwrap();
    let status = response.status().as_u16();
    let www_authenticate = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned());
    let body = response.into_body().collect().await.unwrap().to_bytes();
    Answer {
        status,
        www_authenticate,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

/// Signing keys (ES256 `ec-1`, RS256 `rsa-1`) and their public JWKS.
pub struct Keys {
    es256: josekit::jws::alg::ecdsa::EcdsaJwsSigner,
    rs256: josekit::jws::alg::rsassa::RsassaJwsSigner,
    /// A key nobody trusts.
    rogue: josekit::jws::alg::ecdsa::EcdsaJwsSigner,
    pub jwks: JwkSet,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alg {
    Es256,
    Rs256,
}

impl Keys {
    pub fn new() -> Self {
        let ec = ES256.generate_key_pair().unwrap();
        let rsa = RS256.generate_key_pair(2048).unwrap();
        let rogue = ES256.generate_key_pair().unwrap();
        let mut ec_public = ec.to_jwk_public_key();
        ec_public.set_key_id("ec-1");
        let mut rsa_public = rsa.to_jwk_public_key();
        rsa_public.set_key_id("rsa-1");
        let mut jwks = JwkSet::new();
        jwks.push_key(ec_public);
        jwks.push_key(rsa_public);
        Self {
            es256: ES256.signer_from_der(ec.to_der_private_key()).unwrap(),
            rs256: RS256.signer_from_der(rsa.to_der_private_key()).unwrap(),
            rogue: ES256.signer_from_der(rogue.to_der_private_key()).unwrap(),
            jwks,
        }
    }

    pub fn jwks_json(&self) -> String {
        self.jwks.to_string()
    }

    /// Signs `payload` as an RFC 9068 access token.
    pub fn sign(&self, alg: Alg, payload: &JwtPayload) -> String {
        let mut header = JwsHeader::new();
        header.set_token_type("at+jwt");
        match alg {
            Alg::Es256 => {
                header.set_key_id("ec-1");
                jwt::encode_with_signer(payload, &header, &self.es256).unwrap()
            }
            Alg::Rs256 => {
                header.set_key_id("rsa-1");
                jwt::encode_with_signer(payload, &header, &self.rs256).unwrap()
            }
        }
    }

    /// Signs with a key that is not in the JWKS, but claims `kid: ec-1`.
    pub fn sign_with_rogue_key(&self, payload: &JwtPayload) -> String {
        let mut header = JwsHeader::new();
        header.set_token_type("at+jwt");
        header.set_key_id("ec-1");
        jwt::encode_with_signer(payload, &header, &self.rogue).unwrap()
    }

    /// An unsigned token (`alg: none`).
    pub fn unsigned(payload: &JwtPayload) -> String {
        let mut header = JwsHeader::new();
        header.set_token_type("at+jwt");
        jwt::encode_unsecured(payload, &header).unwrap()
    }
}

/// Claims of a good access token, bound to `bound_to` if given.
pub fn payload(bound_to: Option<Thumbprint>) -> JwtPayload {
    let now = SystemTime::now();
    let mut p = JwtPayload::new();
    p.set_issuer(ISSUER);
    p.set_audience(vec![AUDIENCE]);
    p.set_subject("alice");
    p.set_claim("client_id", Some("client-1".into())).unwrap();
    p.set_claim("scope", Some("read".into())).unwrap();
    p.set_issued_at(&now);
    p.set_expires_at(&(now + Duration::from_secs(300)));
    if let Some(t) = bound_to {
        Confirmation::from_thumbprint(t).insert_into_jwt_payload(&mut p);
    }
    p
}

/// Replaces the last characters of the signature, keeping it valid base64url.
pub fn tamper_signature(token: &str) -> String {
    let (head, sig) = token.rsplit_once('.').unwrap();
    let mut sig: Vec<u8> = sig.bytes().collect();
    let i = sig.len() / 2;
    sig[i] = if sig[i] == b'A' { b'B' } else { b'A' };
    format!("{head}.{}", String::from_utf8(sig).unwrap())
}
