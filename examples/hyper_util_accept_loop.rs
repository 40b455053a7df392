//! A bare hyper-util accept loop (no axum): after the TLS handshake, three
//! lines put the client's certificate chain into every request of the
//! connection, and a plain tower service reads the `ClientCert`.
//!
//! ```sh
//! cargo run --example hyper_util_accept_loop
//! cargo run --example hyper_util_accept_loop -- --self-test
//! ```

use std::convert::Infallible;
use std::path::Path;
use std::sync::Arc;

use certbound::extract::danger::AcceptAnyClientCert;
use certbound::extract::{ClientCert, ClientCertLayer, PeerCertificatesLayer};
use http::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tower::{Layer as _, ServiceBuilder, service_fn};

type Error = Box<dyn std::error::Error + Send + Sync>;

async fn whoami<B>(req: Request<B>) -> Result<Response<String>, Infallible> {
    let body = match req.extensions().get::<ClientCert>() {
        Some(cert) => format!(
            "subject: {}\nx5t#S256: {}\n",
            cert.leaf().subject(),
            cert.thumbprint()
        ),
        None => "no client certificate\n".to_owned(),
    };
    Ok(Response::new(body))
}

/// The accept loop.
async fn serve(
    listener: tokio::net::TcpListener,
    tls: Arc<rustls::ServerConfig>,
) -> std::io::Result<()> {
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    let app = ServiceBuilder::new()
        .layer(ClientCertLayer::tls())
        .service(service_fn(whoami));
    loop {
        let (tcp, remote) = listener.accept().await?;
        let (acceptor, app) = (acceptor.clone(), app.clone());
        tokio::spawn(async move {
            let Ok(tls) = acceptor.accept(tcp).await else {
                return;
            };
            // The three lines:
            let svc = PeerCertificatesLayer::from_connection(tls.get_ref().1)
                .peer_addr(remote)
                .layer(app);
            let _ = auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(tls), TowerToHyperService::new(svc))
                .await;
        });
    }
}

#[tokio::main]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("hyper_util_accept_loop: {e}");
        std::process::exit(1);
    }
}

/// `--self-test` or nothing.
fn self_test_flag() -> Result<bool, Error> {
    match std::env::args().nth(1).as_deref() {
        None => Ok(false),
        Some("--self-test") => Ok(true),
        Some(other) => Err(format!("unknown argument {other:?} (--self-test)").into()),
    }
}

async fn run() -> Result<(), Error> {
    let self_test = self_test_flag()?;
    let pki = Pki::generate()?;
    let listener = tokio::net::TcpListener::bind(if self_test {
        "127.0.0.1:0"
    } else {
        "127.0.0.1:8445"
    })
    .await?;
    let base = format!("https://{}", listener.local_addr()?);
    if self_test {
        tokio::spawn(serve(listener, pki.server_config()?));
        let expected =
            certbound::cert::Certificate::from_der(pki.client.cert_der.to_vec())?.thumbprint();
        let body = client(&pki, Some(&pki.client))?
            .get(format!("{base}/"))
            .send()
            .await?
            .text()
            .await?;
        check(
            body.contains(&format!("x5t#S256: {expected}")) && body.contains("CN=pki-client"),
            &format!("the client certificate reaches the service ({body:?})"),
        )?;
        let body = client(&pki, None)?
            .get(format!("{base}/"))
            .send()
            .await?
            .text()
            .await?;
        check(
            body == "no client certificate\n",
            &format!("no certificate, none seen ({body:?})"),
        )?;
        println!("self-test passed");
        return Ok(());
    }
    let dir = std::env::temp_dir().join(format!("certbound-example-hyper-{}", std::process::id()));
    pki.write(&dir)?;
    let d = dir.display();
    println!("curl --cacert {d}/ca.pem --cert {d}/pki-client.pem --key {d}/pki-client.key {base}/");
    serve(listener, pki.server_config()?).await?;
    Ok(())
}

/// An HTTPS client trusting the example's CA, presenting `identity`.
fn client(pki: &Pki, identity: Option<&Leaf>) -> Result<reqwest::Client, Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots.add(pki.ca_der.clone())?;
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots);
    let config = match identity {
        Some(leaf) => builder.with_client_auth_cert(
            vec![leaf.cert_der.clone()],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf.key_der.clone())),
        )?,
        None => builder.with_no_client_auth(),
    };
    Ok(reqwest::Client::builder()
        .tls_backend_preconfigured(config)
        .no_proxy()
        .build()?)
}

fn check(ok: bool, what: &str) -> Result<(), Error> {
    if ok {
        println!("ok: {what}");
        Ok(())
    } else {
        Err(format!("FAILED: {what}").into())
    }
}

// ---------------------------------------------------------------------------
// A throw-away PKI.

struct Leaf {
    cert_pem: String,
    key_pem: String,
    cert_der: CertificateDer<'static>,
    key_der: Vec<u8>,
}

struct Pki {
    ca_pem: String,
    ca_der: CertificateDer<'static>,
    server: Leaf,
    /// The client the token is bound to.
    client: Leaf,
    /// Another client of the same CA.
    other: Leaf,
}

fn dn(cn: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "certbound example");
    dn.push(DnType::CommonName, cn);
    dn
}

fn new_ca(cn: &str) -> Result<(Issuer<'static, KeyPair>, String, CertificateDer<'static>), Error> {
    let key = KeyPair::generate()?;
    let mut params = CertificateParams::default();
    params.distinguished_name = dn(cn);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let cert = params.self_signed(&key)?;
    Ok((Issuer::new(params, key), cert.pem(), cert.der().clone()))
}

fn leaf(
    issuer: Option<&Issuer<'_, KeyPair>>,
    cn: &str,
    sans: &[&str],
    usage: ExtendedKeyUsagePurpose,
) -> Result<Leaf, Error> {
    let key = KeyPair::generate()?;
    let mut params =
        CertificateParams::new(sans.iter().map(|s| s.to_string()).collect::<Vec<_>>())?;
    params.distinguished_name = dn(cn);
    params.extended_key_usages = vec![usage];
    let cert = match issuer {
        Some(issuer) => params.signed_by(&key, issuer)?,
        None => params.self_signed(&key)?,
    };
    Ok(Leaf {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
        cert_der: cert.der().clone(),
        key_der: key.serialize_der(),
    })
}

impl Pki {
    fn generate() -> Result<Self, Error> {
        use ExtendedKeyUsagePurpose::{ClientAuth, ServerAuth};
        let (ca, ca_pem, ca_der) = new_ca("certbound example CA")?;
        Ok(Self {
            server: leaf(
                Some(&ca),
                "localhost",
                &["localhost", "127.0.0.1"],
                ServerAuth,
            )?,
            client: leaf(Some(&ca), "pki-client", &[], ClientAuth)?,
            other: leaf(Some(&ca), "other-client", &[], ClientAuth)?,
            ca_pem,
            ca_der,
        })
    }

    /// Writes the PEM files `curl` needs.
    fn write(&self, dir: &Path) -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        std::fs::write(dir.join("ca.pem"), &self.ca_pem)?;
        for (name, leaf) in [("pki-client", &self.client), ("other-client", &self.other)] {
            std::fs::write(dir.join(format!("{name}.pem")), &leaf.cert_pem)?;
            std::fs::write(dir.join(format!("{name}.key")), &leaf.key_pem)?;
        }
        Ok(())
    }

    /// TLS for the servers: any client certificate is accepted at the
    /// handshake (the token's binding decides), none is required (the
    /// JWKS is public).
    fn server_config(&self) -> Result<Arc<rustls::ServerConfig>, Error> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()?
            .with_client_cert_verifier(Arc::new(
                AcceptAnyClientCert::new(provider).allow_unauthenticated(),
            ))
            .with_single_cert(
                vec![self.server.cert_der.clone()],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.server.key_der.clone())),
            )?;
        Ok(Arc::new(config))
    }
}
