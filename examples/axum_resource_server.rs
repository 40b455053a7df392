//! An axum resource server that accepts a bearer token only with the
//! client certificate it is bound to (RFC 8705 §3), over rustls.
//!
//! - The keys come from the authorization server's `jwks_uri`
//!   (`JwtValidator::from_jwks_uri` over certbound's hardened `Fetcher`,
//!   trusting the example's own CA): fetched in the background, refreshed
//!   when the cache expires or a token names an unknown `kid`.
//! - The handler takes the `VerifiedToken` extractor directly.
//!
//! So that it runs alone, the example also starts a tiny authorization
//! server in the same process (a `SigningKeyRing` served by `JwksService`
//! over HTTPS) and mints a token for the printed `curl` commands; a real
//! resource server points `from_jwks_uri` (or `from_issuer`) at its
//! authorization server.
//!
//! ```sh
//! cargo run --example axum_resource_server
//! cargo run --example axum_resource_server -- --self-test
//! ```

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::routing::get;
use axum::{Json, Router};
use certbound::binding::{
    AccessTokenIssuer, BoundTokenLayer, Confirmation, JwksService, JwtValidator, SigningKeyRing,
    TokenBinding, VerifiedToken,
};
use certbound::extract::ClientCertLayer;
use certbound::extract::connect_info::{TlsConnectInfo, TlsListener};
use certbound::extract::danger::AcceptAnyClientCert;
use certbound::fetch::Fetcher;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use serde_json::{Value, json};

type Error = Box<dyn std::error::Error + Send + Sync>;

/// The resource server's identifier, the `aud` of its tokens.
const AUDIENCE: &str = "https://rs.example.com";

/// The protected route: the layer has checked the token and its binding;
/// the extractor hands over what it found.
async fn hello(token: VerifiedToken) -> Json<Value> {
    Json(json!({
        "client_id": token.claims().client_id(),
        "x5t#S256": token.bound_thumbprint().map(|t| t.to_string()),
    }))
}

/// The resource server: where the certificate comes from, and the
/// bound-token check in front of the routes.
fn resource_server(validator: JwtValidator) -> Router {
    Router::new()
        .route("/hello", get(hello))
        .layer(BoundTokenLayer::new(validator).require_confirmation(true))
        .layer(ClientCertLayer::tls())
}

/// The validator: keys from `jwks_uri`, fetched over TLS that trusts `ca`.
async fn validator(
    jwks_uri: &str,
    issuer: &str,
    ca: CertificateDer<'static>,
) -> Result<JwtValidator, Error> {
    let fetcher = Fetcher::for_operator_urls()
        .crypto_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .only_root_certificates([ca])
        .build()?;
    let validator = JwtValidator::from_jwks_uri(jwks_uri, fetcher)
        .issuer(issuer)
        .audience(AUDIENCE)
        .build()?;
    // Tokens are refused (503) until the first fetch; wait for it so the
    // first request is not.
    tokio::time::timeout(Duration::from_secs(30), validator.ready())
        .await
        .map_err(|_| format!("no keys from {jwks_uri}"))?;
    Ok(validator)
}

/// Serves `app` over TLS on `listener`.
async fn serve(
    listener: tokio::net::TcpListener,
    tls: Arc<rustls::ServerConfig>,
    app: Router,
) -> std::io::Result<()> {
    let listener = TlsListener::new(listener, tokio_rustls::TlsAcceptor::from(tls));
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<TlsConnectInfo>(),
    )
    .await
}

/// The in-process authorization server: its keys at `/jwks`.
struct TinyAs {
    issuer: AccessTokenIssuer,
    jwks_uri: String,
}

async fn tiny_as(pki: &Pki) -> Result<TinyAs, Error> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("https://{}", listener.local_addr()?);
    let ring = SigningKeyRing::builder().build()?;
    let app = Router::new().route_service("/jwks", JwksService::new(ring.clone()));
    tokio::spawn(serve(listener, pki.server_config()?, app));
    Ok(TinyAs {
        issuer: AccessTokenIssuer::new(ring, base.clone()),
        jwks_uri: format!("{base}/jwks"),
    })
}

impl TinyAs {
    /// A token for `client_id`, bound to `cert` when given.
    fn mint(&self, client_id: &str, cert: Option<&Leaf>) -> Result<String, Error> {
        let binding = match cert {
            Some(leaf) => TokenBinding::Bound {
                confirmation: Confirmation::from_thumbprint(
                    certbound::cert::Certificate::from_der(leaf.cert_der.to_vec())?.thumbprint(),
                ),
                refresh_token: None,
            },
            None => TokenBinding::Unbound,
        };
        Ok(self
            .issuer
            .access_token(client_id, &binding)
            .audience(AUDIENCE)
            .sign()?
            .into_string())
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

// ---------------------------------------------------------------------------
// main and the self-test.

#[tokio::main]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("axum_resource_server: {e}");
        std::process::exit(1);
    }
}

async fn run() -> Result<(), Error> {
    let self_test = match std::env::args().nth(1).as_deref() {
        None => false,
        Some("--self-test") => true,
        Some(other) => return Err(format!("unknown argument {other:?} (--self-test)").into()),
    };
    let pki = Pki::generate()?;
    let auth_server = tiny_as(&pki).await?;
    let app = resource_server(
        validator(
            &auth_server.jwks_uri,
            auth_server.issuer.issuer(),
            pki.ca_der.clone(),
        )
        .await?,
    );
    let listener = tokio::net::TcpListener::bind(if self_test {
        "127.0.0.1:0"
    } else {
        "127.0.0.1:8444"
    })
    .await?;
    let base = format!("https://{}", listener.local_addr()?);
    if self_test {
        tokio::spawn(serve(listener, pki.server_config()?, app));
        scenarios(&pki, &auth_server, &base).await?;
        println!("self-test passed");
        return Ok(());
    }

    let dir = std::env::temp_dir().join(format!("certbound-example-rs-{}", std::process::id()));
    pki.write(&dir)?;
    let token = auth_server.mint("pki-client", Some(&pki.client))?;
    let d = dir.display();
    println!("keys from {}\n", auth_server.jwks_uri);
    println!(
        "bound to pki-client.pem (200):\n  curl --cacert {d}/ca.pem --cert {d}/pki-client.pem --key {d}/pki-client.key -H 'Authorization: Bearer {token}' {base}/hello\n"
    );
    println!(
        "another certificate (401 invalid_token):\n  curl --cacert {d}/ca.pem --cert {d}/other-client.pem --key {d}/other-client.key -H 'Authorization: Bearer {token}' {base}/hello"
    );
    serve(listener, pki.server_config()?, app).await?;
    Ok(())
}

/// GETs `/hello` with `token`, presenting `identity`: the status and body.
async fn hello_request(
    pki: &Pki,
    base: &str,
    identity: Option<&Leaf>,
    token: Option<&str>,
) -> Result<(u16, Value, String), Error> {
    let mut request = client(pki, identity)?.get(format!("{base}/hello"));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await?;
    let status = response.status().as_u16();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let body = serde_json::from_slice(&response.bytes().await?).unwrap_or(Value::Null);
    Ok((status, body, challenge))
}

fn check(ok: bool, what: &str) -> Result<(), Error> {
    if ok {
        println!("ok: {what}");
        Ok(())
    } else {
        Err(format!("FAILED: {what}").into())
    }
}

async fn scenarios(pki: &Pki, auth_server: &TinyAs, base: &str) -> Result<(), Error> {
    let bound = auth_server.mint("pki-client", Some(&pki.client))?;
    let expected =
        certbound::cert::Certificate::from_der(pki.client.cert_der.to_vec())?.thumbprint();

    let (status, body, _) = hello_request(pki, base, Some(&pki.client), Some(&bound)).await?;
    check(
        status == 200
            && body["client_id"] == "pki-client"
            && body["x5t#S256"] == json!(expected.to_string()),
        &format!("the bound token with its certificate is accepted ({status} {body})"),
    )?;

    let (status, _, challenge) = hello_request(pki, base, Some(&pki.other), Some(&bound)).await?;
    check(
        status == 401 && challenge.contains("invalid_token"),
        &format!("the bound token with another certificate is refused ({status} {challenge})"),
    )?;

    let (status, _, challenge) = hello_request(pki, base, None, Some(&bound)).await?;
    check(
        status == 401 && challenge.contains("invalid_token"),
        &format!("the bound token without a certificate is refused ({status} {challenge})"),
    )?;

    let unbound = auth_server.mint("pki-client", None)?;
    let (status, _, challenge) =
        hello_request(pki, base, Some(&pki.client), Some(&unbound)).await?;
    check(
        status == 401,
        &format!("an unbound token is refused, as confirmation is required ({status} {challenge})"),
    )?;

    let (status, _, challenge) = hello_request(pki, base, Some(&pki.client), None).await?;
    check(
        status == 401 && challenge.starts_with("Bearer"),
        &format!("no token: a Bearer challenge ({status} {challenge})"),
    )?;

    // The authorization server rotates its key: the resource server sees an
    // unknown `kid` and fetches the jwks_uri again.
    auth_server.issuer.key_ring().rotate()?;
    let rotated = auth_server.mint("pki-client", Some(&pki.client))?;
    let (status, _, challenge) =
        hello_request(pki, base, Some(&pki.client), Some(&rotated)).await?;
    check(
        status == 200,
        &format!(
            "a token signed by the rotated key is accepted (keys refetched) ({status} {challenge})"
        ),
    )?;
    Ok(())
}
