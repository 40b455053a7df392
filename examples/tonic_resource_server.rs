//! A tonic service (the standard gRPC health service) that answers only to
//! a token bound to the client certificate of the call; anything else gets
//! `UNAUTHENTICATED` (grpc-status 16). tonic terminates TLS; certbound reads
//! the certificate from tonic's `TlsConnectInfo`.
//!
//! The signing keys are an in-process `SigningKeyRing` (the authorization
//! server's side, see `axum_resource_server` for keys from a `jwks_uri`).
//!
//! ```sh
//! cargo run --example tonic_resource_server
//! cargo run --example tonic_resource_server -- --self-test
//! ```

use std::path::Path;

use certbound::binding::{
    AccessTokenIssuer, BoundTokenLayer, Confirmation, JwtValidator, SigningKeyRing, TokenBinding,
};
use certbound::extract::ClientCertLayer;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair,
};
use rustls::pki_types::CertificateDer;
use tonic::transport::server::TcpIncoming;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Identity, Server, ServerTlsConfig};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;

type Error = Box<dyn std::error::Error + Send + Sync>;

const ISSUER: &str = "https://as.example.com";
const AUDIENCE: &str = "https://rs.example.com";

/// Serves the health service behind the bound-token check.
async fn serve(
    listener: tokio::net::TcpListener,
    pki: &Pki,
    validator: JwtValidator,
) -> Result<(), Error> {
    let (reporter, health) = tonic_health::server::health_reporter();
    reporter
        .set_service_status("", tonic_health::ServingStatus::Serving)
        .await;
    let tls = ServerTlsConfig::new()
        .identity(Identity::from_pem(
            &pki.server.cert_pem,
            &pki.server.key_pem,
        ))
        .client_ca_root(Certificate::from_pem(&pki.ca_pem))
        .client_auth_optional(true);
    Server::builder()
        .tls_config(tls)?
        .layer(ClientCertLayer::tls())
        .layer(BoundTokenLayer::new(validator).require_confirmation(true))
        .add_service(health)
        .serve_with_incoming(TcpIncoming::from(listener))
        .await?;
    Ok(())
}

/// A token for `client_id`, bound to `leaf`.
fn mint(issuer: &AccessTokenIssuer, client_id: &str, leaf: &Leaf) -> Result<String, Error> {
    let binding = TokenBinding::Bound {
        confirmation: Confirmation::from_thumbprint(
            certbound::cert::Certificate::from_der(leaf.cert_der.to_vec())?.thumbprint(),
        ),
        refresh_token: None,
    };
    Ok(issuer
        .access_token(client_id, &binding)
        .audience(AUDIENCE)
        .sign()?
        .into_string())
}

#[tokio::main]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("tonic_resource_server: {e}");
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
    let ring = SigningKeyRing::builder().build()?;
    let issuer = AccessTokenIssuer::new(ring.clone(), ISSUER);
    let validator = JwtValidator::builder(&ring.jwks())
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .build()?;
    let listener = tokio::net::TcpListener::bind(if self_test {
        "127.0.0.1:0"
    } else {
        "127.0.0.1:50051"
    })
    .await?;
    let addr = listener.local_addr()?;
    let token = mint(&issuer, "pki-client", &pki.client)?;
    if !self_test {
        let dir =
            std::env::temp_dir().join(format!("certbound-example-tonic-{}", std::process::id()));
        pki.write(&dir)?;
        let d = dir.display();
        println!(
            "grpcurl -cacert {d}/ca.pem -cert {d}/pki-client.pem -key {d}/pki-client.key -authority localhost -H 'authorization: Bearer {token}' {addr} grpc.health.v1.Health/Check"
        );
        return serve(listener, &pki, validator).await;
    }

    let pki = std::sync::Arc::new(pki);
    let server_pki = pki.clone();
    tokio::spawn(async move { serve(listener, &server_pki, validator).await });
    let url = format!("https://localhost:{}", addr.port());
    let call = |identity: Option<&Leaf>, token: Option<String>| {
        let mut tls = ClientTlsConfig::new()
            .ca_certificate(Certificate::from_pem(&pki.ca_pem))
            .domain_name("localhost");
        if let Some(leaf) = identity {
            tls = tls.identity(Identity::from_pem(&leaf.cert_pem, &leaf.key_pem));
        }
        let url = url.clone();
        async move {
            let channel = Channel::from_shared(url)?
                .tls_config(tls)?
                .connect()
                .await?;
            let mut request = tonic::Request::new(HealthCheckRequest {
                service: String::new(),
            });
            if let Some(token) = token {
                request
                    .metadata_mut()
                    .insert("authorization", format!("Bearer {token}").parse()?);
            }
            Ok::<_, Error>(HealthClient::new(channel).check(request).await)
        }
    };
    let answer = call(Some(&pki.client), Some(token.clone())).await?;
    check(
        answer.is_ok(),
        &format!("the bound token with its certificate is served ({answer:?})"),
    )?;
    let answer = call(Some(&pki.other), Some(token.clone())).await?;
    check(
        answer
            .as_ref()
            .is_err_and(|s| s.code() == tonic::Code::Unauthenticated),
        &format!(
            "the bound token with another certificate: UNAUTHENTICATED ({:?})",
            answer.err()
        ),
    )?;
    let answer = call(None, Some(token)).await?;
    check(
        answer
            .as_ref()
            .is_err_and(|s| s.code() == tonic::Code::Unauthenticated),
        &format!(
            "the bound token without a certificate: UNAUTHENTICATED ({:?})",
            answer.err()
        ),
    )?;
    let answer = call(Some(&pki.client), None).await?;
    check(
        answer
            .as_ref()
            .is_err_and(|s| s.code() == tonic::Code::Unauthenticated),
        &format!("no token: UNAUTHENTICATED ({:?})", answer.err()),
    )?;
    println!("self-test passed");
    Ok(())
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
}

struct Pki {
    ca_pem: String,
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
    })
}

impl Pki {
    fn generate() -> Result<Self, Error> {
        use ExtendedKeyUsagePurpose::{ClientAuth, ServerAuth};
        let (ca, ca_pem, _) = new_ca("certbound example CA")?;
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
}
