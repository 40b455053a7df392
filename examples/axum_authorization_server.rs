//! An axum authorization server for OAuth 2.0 mutual TLS (RFC 8705):
//!
//! - clients register at `POST /register` (RFC 7591 style); each
//!   registration is checked by `ClientMetadata::validate` (a refusal is
//!   `invalid_client_metadata` naming the field) and kept in an embedded
//!   SQLite database behind certbound's `ClientRegistry`;
//! - `POST /token` (`client_credentials`) authenticates the client by its
//!   certificate (`tls_client_auth` or `self_signed_tls_client_auth`) and
//!   issues an RFC 9068 access token bound to that certificate;
//! - `GET /jwks` publishes the signing keys, `GET
//!   /.well-known/oauth-authorization-server` the metadata, whose
//!   authentication methods follow the authenticator.
//!
//! It makes a throw-away PKI at every start (written to a temporary
//! directory for `curl`) and prints the commands that exercise it.
//!
//! ```sh
//! cargo run --example axum_authorization_server -- --db clients.sqlite
//! cargo run --example axum_authorization_server -- --self-test
//! ```
//!
//! Registration here is open (RFC 7591 §3 allows it); a deployment would
//! ask for an initial access token.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::{Form, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::post;
use axum::{Json, Router};
use certbound::auth::{
    AuthenticatedClient, Authenticator, BoxFuture, ClientAuthLayer, ClientMetadata,
    ClientMetadataError, ClientRegistry, RegisteredClient, RegistryError, SelfSignedTlsClientAuth,
    TlsClientAuth, TokenEndpointAuthMethod, TrustStore,
};
use certbound::binding::{
    AccessTokenIssuer, BindingPolicy, ClientBinding, JwksService, OAuthError, SigningKeyRing,
};
use certbound::discovery::{AuthorizationServerMetadata, Endpoint, MetadataService};
use certbound::extract::ClientCertLayer;
use certbound::extract::connect_info::{TlsConnectInfo, TlsListener};
use certbound::extract::danger::AcceptAnyClientCert;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair,
};
use rusqlite::{Connection, OptionalExtension as _};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use serde::Deserialize;
use serde_json::{Value, json};
use tower::Layer as _;

type Error = Box<dyn std::error::Error + Send + Sync>;

/// The `aud` of the tokens: the resource server they are for.
const AUDIENCE: &str = "https://rs.example.com";
/// The largest registration request read.
const MAX_REGISTRATION_BYTES: usize = 16 * 1024;

// ---------------------------------------------------------------------------
// The client registry: SQLite.

/// Registered clients in one SQLite file: the metadata as JSON, validated
/// again on every read (so a row edited by hand cannot bypass the checks).
#[derive(Clone)]
struct SqliteRegistry {
    conn: Arc<Mutex<Connection>>,
}

impl SqliteRegistry {
    fn open(path: &Path) -> rusqlite::Result<Self> {
        let conn = Connection::open(path)?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS clients (
                 client_id TEXT PRIMARY KEY,
                 metadata  TEXT NOT NULL,
                 issued_at INTEGER NOT NULL
             )",
        )?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Runs `f` on the connection in the blocking pool.
    async fn with_conn<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, Error> + Send + 'static,
    ) -> Result<T, Error> {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let conn = conn
                .lock()
                .map_err(|_| Error::from("registry lock poisoned"))?;
            f(&conn)
        })
        .await?
    }

    /// Assigns a `client_id`, validates, stores. The outer error is the
    /// database's, the inner one the registration's.
    async fn register(
        &self,
        mut metadata: ClientMetadata,
    ) -> Result<Result<(RegisteredClient, i64), ClientMetadataError>, Error> {
        self.with_conn(move |conn| {
            let count: i64 = conn.query_row("SELECT COUNT(*) FROM clients", [], |r| r.get(0))?;
            metadata.client_id = format!("client-{}", count + 1);
            let client = match metadata.validate() {
                Ok(client) => client,
                Err(e) => return Ok(Err(e)),
            };
            let issued_at = i64::try_from(SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs())?;
            conn.execute(
                "INSERT INTO clients (client_id, metadata, issued_at) VALUES (?1, ?2, ?3)",
                (
                    client.client_id(),
                    serde_json::to_string(client.metadata())?,
                    issued_at,
                ),
            )?;
            Ok(Ok((client, issued_at)))
        })
        .await
    }
}

impl ClientRegistry for SqliteRegistry {
    fn client<'a>(
        &'a self,
        client_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<RegisteredClient>, RegistryError>> {
        let client_id = client_id.to_owned();
        Box::pin(async move {
            let row: Option<String> = self
                .with_conn(move |conn| {
                    Ok(conn
                        .query_row(
                            "SELECT metadata FROM clients WHERE client_id = ?1",
                            [client_id],
                            |r| r.get(0),
                        )
                        .optional()?)
                })
                .await
                .map_err(RegistryError::new)?;
            let Some(json) = row else { return Ok(None) };
            let metadata: ClientMetadata =
                serde_json::from_str(&json).map_err(RegistryError::new)?;
            metadata.validate().map(Some).map_err(RegistryError::new)
        })
    }
}

// ---------------------------------------------------------------------------
// The endpoints.

#[derive(Clone)]
struct AppState {
    registry: SqliteRegistry,
    issuer: AccessTokenIssuer,
    policy: BindingPolicy,
}

/// `POST /register`: RFC 7591 §3.1, for the two mTLS methods.
async fn register(
    State(app): State<AppState>,
    body: Bytes,
) -> Result<impl IntoResponse, OAuthError> {
    // The server assigns the client_id (RFC 7591 §3.2.1): whatever the
    // request says is replaced. serde's message names a field whose type
    // is wrong.
    let mut request: serde_json::Map<String, Value> = serde_json::from_slice(&body)
        .map_err(|e| OAuthError::invalid_client_metadata(e.to_string()))?;
    request.insert("client_id".into(), Value::String(String::new()));
    let metadata: ClientMetadata = serde_json::from_value(Value::Object(request))
        .map_err(|e| OAuthError::invalid_client_metadata(e.to_string()))?;
    if !matches!(
        metadata.token_endpoint_auth_method,
        TokenEndpointAuthMethod::TlsClientAuth | TokenEndpointAuthMethod::SelfSignedTlsClientAuth
    ) {
        return Err(OAuthError::invalid_client_metadata(
            "token_endpoint_auth_method: this server supports tls_client_auth and self_signed_tls_client_auth",
        ));
    }
    let (client, issued_at) = app
        .registry
        .register(metadata)
        .await
        .map_err(|e| {
            eprintln!("client registry failed: {e}");
            OAuthError::server_error("the registration could not be stored")
        })?
        .map_err(|e| e.to_oauth_error())?;
    let mut response = serde_json::to_value(client.metadata())
        .map_err(|_| OAuthError::server_error("the registration could not be written"))?;
    response["client_id_issued_at"] = json!(issued_at);
    Ok((
        StatusCode::CREATED,
        [(header::CACHE_CONTROL, "no-store")],
        Json(response),
    ))
}

#[derive(Deserialize)]
struct TokenRequest {
    grant_type: Option<String>,
    scope: Option<String>,
}

/// `POST /token`, `client_credentials`: `ClientAuthLayer` has authenticated
/// the client; the token is bound to the certificate it authenticated with
/// when the client registered for bound tokens (RFC 8705 §3).
async fn token(
    State(app): State<AppState>,
    client: AuthenticatedClient,
    Form(request): Form<TokenRequest>,
) -> Result<impl IntoResponse, OAuthError> {
    match request.grant_type.as_deref() {
        Some("client_credentials") => {}
        Some(_) => {
            return Err(OAuthError::unsupported_grant_type(
                "only client_credentials is supported",
            ));
        }
        None => return Err(OAuthError::invalid_request("grant_type is missing")),
    }
    let binding = ClientBinding::confidential().bound_tokens_required(client.bound_access_tokens());
    let binding = app
        .policy
        .decide(binding, Some(client.certificate()))
        .map_err(|e| e.to_oauth_error())?;
    let mut builder = app
        .issuer
        .access_token(client.client_id(), &binding)
        .audience(AUDIENCE);
    if let Some(scope) = request.scope {
        builder = builder.scope(scope);
    }
    let token = builder.sign().map_err(|e| {
        eprintln!("signing failed: {e}");
        OAuthError::server_error("no token could be issued")
    })?;
    Ok((
        [(header::CACHE_CONTROL, "no-store")],
        Json(token.token_response(None)),
    ))
}

/// The whole server: routes, client authentication on `/token`, the
/// certificate from the TLS connection for every route.
fn app(
    base: &str,
    ca_pem: &str,
    registry: SqliteRegistry,
    ring: SigningKeyRing,
) -> Result<Router, Error> {
    let authenticator = Authenticator::builder(registry.clone())
        .tls_client_auth(TlsClientAuth::new(TrustStore::from_pem(ca_pem)?))
        .self_signed_tls_client_auth(SelfSignedTlsClientAuth::new())
        .build()?;
    let metadata = AuthorizationServerMetadata::builder(base)
        .endpoint(Endpoint::Token, format!("{base}/token"))
        .endpoint(Endpoint::JwksUri, format!("{base}/jwks"))
        .endpoint(Endpoint::Registration, format!("{base}/register"))
        .authenticator(&authenticator)
        .tls_client_certificate_bound_access_tokens(true)
        .build()?;
    let state = AppState {
        registry,
        issuer: AccessTokenIssuer::new(ring.clone(), base),
        policy: BindingPolicy::new(),
    };
    let token_endpoint = ClientAuthLayer::new(authenticator).layer(
        Router::new()
            .route("/token", post(token))
            .with_state(state.clone()),
    );
    Ok(Router::new()
        .route("/register", post(register))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_REGISTRATION_BYTES))
        .with_state(state)
        .route_service("/token", token_endpoint)
        .route_service("/jwks", JwksService::new(ring))
        .route_service(
            "/.well-known/oauth-authorization-server",
            MetadataService::new(&metadata)?,
        )
        .layer(ClientCertLayer::tls()))
}

/// Serves `app` over TLS until `shutdown` resolves.
async fn serve(
    listener: tokio::net::TcpListener,
    tls: Arc<rustls::ServerConfig>,
    app: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let listener = TlsListener::new(listener, tokio_rustls::TlsAcceptor::from(tls));
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<TlsConnectInfo>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
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
    /// A `tls_client_auth` client, issued by the CA.
    client: Leaf,
    /// A self-signed certificate for `self_signed_tls_client_auth`.
    self_signed: Leaf,
    /// Same subject as `client`, but from another CA.
    intruder: Leaf,
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
        let (other_ca, _, _) = new_ca("someone else's CA")?;
        Ok(Self {
            server: leaf(
                Some(&ca),
                "localhost",
                &["localhost", "127.0.0.1"],
                ServerAuth,
            )?,
            client: leaf(Some(&ca), "pki-client", &[], ClientAuth)?,
            self_signed: leaf(None, "self-signed-client", &[], ClientAuth)?,
            intruder: leaf(Some(&other_ca), "pki-client", &[], ClientAuth)?,
            ca_pem,
            ca_der,
        })
    }

    /// Writes the PEM files `curl` needs.
    fn write(&self, dir: &Path) -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        std::fs::write(dir.join("ca.pem"), &self.ca_pem)?;
        for (name, leaf) in [
            ("pki-client", &self.client),
            ("self-signed-client", &self.self_signed),
            ("intruder", &self.intruder),
        ] {
            std::fs::write(dir.join(format!("{name}.pem")), &leaf.cert_pem)?;
            std::fs::write(dir.join(format!("{name}.key")), &leaf.key_pem)?;
        }
        Ok(())
    }

    /// TLS for the server: any client certificate is accepted at the
    /// handshake (the authenticator decides), none is required (discovery
    /// and the JWKS are public).
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

/// The subject DN of a PEM certificate, RFC 4514 text.
fn subject_dn(pem: &str) -> Result<String, Error> {
    Ok(certbound::cert::Certificate::from_pem(pem)?
        .subject()
        .to_string())
}

// ---------------------------------------------------------------------------
// main and the self-test.

struct Args {
    db: PathBuf,
    self_test: bool,
}

fn args() -> Result<Args, Error> {
    let mut args = Args {
        db: PathBuf::from("axum_authorization_server.sqlite"),
        self_test: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--db" => args.db = it.next().ok_or("--db needs a path")?.into(),
            "--self-test" => args.self_test = true,
            other => {
                return Err(format!("unknown argument {other:?} (--db PATH, --self-test)").into());
            }
        }
    }
    Ok(args)
}

#[tokio::main]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("axum_authorization_server: {e}");
        std::process::exit(1);
    }
}

async fn run() -> Result<(), Error> {
    // The process-wide provider, for the self-test's HTTP client.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let args = args()?;
    let pki = Pki::generate()?;
    if args.self_test {
        return self_test(&pki).await;
    }

    let dir = std::env::temp_dir().join(format!("certbound-example-as-{}", std::process::id()));
    pki.write(&dir)?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:8443").await?;
    let base = format!("https://{}", listener.local_addr()?);
    let registry = SqliteRegistry::open(&args.db)?;
    let app = app(
        &base,
        &pki.ca_pem,
        registry,
        SigningKeyRing::builder().build()?,
    )?;

    let d = dir.display();
    let dn = subject_dn(&pki.client.cert_pem)?;
    println!("clients are kept in {}", args.db.display());
    println!(
        "\ndiscovery:\n  curl --cacert {d}/ca.pem {base}/.well-known/oauth-authorization-server"
    );
    println!(
        "\nregister pki-client (tls_client_auth, by subject DN; the answer has its client_id):\n  curl --cacert {d}/ca.pem -H 'Content-Type: application/json' -d '{{\"token_endpoint_auth_method\":\"tls_client_auth\",\"tls_client_auth_subject_dn\":\"{dn}\",\"tls_client_certificate_bound_access_tokens\":true}}' {base}/register"
    );
    println!(
        "\na refused registration (400 invalid_client_metadata, naming tls_client_auth_subject_dn):\n  curl --cacert {d}/ca.pem -d '{{\"token_endpoint_auth_method\":\"tls_client_auth\",\"tls_client_auth_subject_dn\":\"not a DN\"}}' {base}/register"
    );
    println!(
        "\na certificate-bound token (put the client_id in):\n  curl --cacert {d}/ca.pem --cert {d}/pki-client.pem --key {d}/pki-client.key -d grant_type=client_credentials -d client_id=CLIENT_ID {base}/token"
    );
    println!(
        "\nsame subject, another CA (401 invalid_client):\n  curl --cacert {d}/ca.pem --cert {d}/intruder.pem --key {d}/intruder.key -d grant_type=client_credentials -d client_id=CLIENT_ID {base}/token"
    );
    println!("\nthe signing keys:\n  curl --cacert {d}/ca.pem {base}/jwks");
    serve(listener, pki.server_config()?, app, std::future::pending()).await?;
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

/// A running instance of the server.
struct Running {
    base: String,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

async fn start(pki: &Pki, db: &Path) -> Result<Running, Error> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr: SocketAddr = listener.local_addr()?;
    let base = format!("https://{addr}");
    let app = app(
        &base,
        &pki.ca_pem,
        SqliteRegistry::open(db)?,
        SigningKeyRing::builder().build()?,
    )?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(serve(listener, pki.server_config()?, app, async {
        let _ = stopped.await;
    }));
    Ok(Running { base, stop, task })
}

impl Running {
    async fn stop(self) -> Result<(), Error> {
        let _ = self.stop.send(());
        // Bounded so that a stuck connection fails the test instead of
        // hanging it.
        tokio::time::timeout(std::time::Duration::from_secs(30), self.task).await???;
        Ok(())
    }
}

/// POSTs and returns the status and JSON body.
async fn send(request: reqwest::RequestBuilder) -> Result<(u16, Value), Error> {
    let response = request.send().await?;
    let status = response.status().as_u16();
    let body = response.bytes().await?;
    let json = serde_json::from_slice(&body).unwrap_or(Value::Null);
    Ok((status, json))
}

/// POSTs `metadata` to the registration endpoint.
async fn register_request(
    http: &reqwest::Client,
    base: &str,
    metadata: Value,
) -> Result<(u16, Value), Error> {
    send(
        http.post(format!("{base}/register"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(metadata.to_string()),
    )
    .await
}

fn check(ok: bool, what: &str) -> Result<(), Error> {
    if ok {
        println!("ok: {what}");
        Ok(())
    } else {
        Err(format!("FAILED: {what}").into())
    }
}

async fn self_test(pki: &Pki) -> Result<(), Error> {
    let db = std::env::temp_dir().join(format!(
        "certbound-example-as-{}.sqlite",
        std::process::id()
    ));
    let _ = std::fs::remove_file(&db);
    let result = scenarios(pki, &db).await;
    let _ = std::fs::remove_file(&db);
    result?;
    println!("self-test passed");
    Ok(())
}

async fn token_request(
    pki: &Pki,
    base: &str,
    identity: &Leaf,
    client_id: &str,
) -> Result<(u16, Value), Error> {
    let http = client(pki, Some(identity))?;
    send(http.post(format!("{base}/token")).form(&[
        ("grant_type", "client_credentials"),
        ("client_id", client_id),
    ]))
    .await
}

async fn scenarios(pki: &Pki, db: &Path) -> Result<(), Error> {
    let server = start(pki, db).await?;
    let base = server.base.clone();
    let anonymous = client(pki, None)?;

    // Discovery follows the authenticator.
    let metadata: Value = serde_json::from_slice(
        &anonymous
            .get(format!("{base}/.well-known/oauth-authorization-server"))
            .send()
            .await?
            .bytes()
            .await?,
    )?;
    check(
        metadata["issuer"] == json!(base),
        "discovery names the issuer",
    )?;
    let methods = metadata["token_endpoint_auth_methods_supported"].clone();
    check(
        methods == json!(["tls_client_auth", "self_signed_tls_client_auth"])
            || methods == json!(["self_signed_tls_client_auth", "tls_client_auth"]),
        &format!("discovery lists the two mTLS methods ({methods})"),
    )?;
    check(
        metadata["registration_endpoint"] == json!(format!("{base}/register")),
        "discovery names the registration endpoint",
    )?;

    // A good registration.
    let (status, registered) = register_request(
        &anonymous,
        &base,
        json!({
            "token_endpoint_auth_method": "tls_client_auth",
            "tls_client_auth_subject_dn": subject_dn(&pki.client.cert_pem)?,
            "tls_client_certificate_bound_access_tokens": true,
        }),
    )
    .await?;
    check(
        status == 201,
        &format!("registration accepted ({status} {registered})"),
    )?;
    let client_id = registered["client_id"]
        .as_str()
        .ok_or("the registration has no client_id")?
        .to_owned();

    // Bad registrations, refused with the field named.
    let (status, refused) = register_request(
        &anonymous,
        &base,
        json!({
            "token_endpoint_auth_method": "tls_client_auth",
        }),
    )
    .await?;
    let description = refused["error_description"].as_str().unwrap_or("");
    check(
        status == 400
            && refused["error"] == "invalid_client_metadata"
            && description.contains("tls_client_auth"),
        &format!(
            "tls_client_auth without a subject refused, naming the field ({status} {refused})"
        ),
    )?;
    let (status, refused) = register_request(
        &anonymous,
        &base,
        json!({
            "token_endpoint_auth_method": "tls_client_auth",
            "tls_client_auth_subject_dn": "not a DN",
        }),
    )
    .await?;
    let description = refused["error_description"].as_str().unwrap_or("");
    check(
        status == 400
            && refused["error"] == "invalid_client_metadata"
            && description.contains("tls_client_auth_subject_dn"),
        &format!("a malformed subject DN refused, naming the field ({status} {refused})"),
    )?;

    // A self-signed client, registered with its certificate in `jwks`.
    let self_signed = certbound::cert::Certificate::from_pem(&pki.self_signed.cert_pem)?;
    let (status, registered) = register_request(
        &anonymous,
        &base,
        json!({
            "token_endpoint_auth_method": "self_signed_tls_client_auth",
            "jwks": certbound::auth::ClientJwks::from_certificates([&self_signed]),
        }),
    )
    .await?;
    check(
        status == 201,
        &format!("self-signed client registered ({status})"),
    )?;
    let self_signed_id = registered["client_id"]
        .as_str()
        .ok_or("the registration has no client_id")?
        .to_owned();

    // Tokens.
    let (status, body) = token_request(pki, &base, &pki.client, &client_id).await?;
    check(
        status == 200,
        &format!("{client_id} gets a token ({status})"),
    )?;
    let token = body["access_token"].as_str().ok_or("no access_token")?;
    // The resource server's view: the keys from the published jwks_uri.
    let fetcher = certbound::fetch::Fetcher::for_operator_urls()
        .only_root_certificates([pki.ca_der.clone()])
        .build()?;
    let validator =
        certbound::binding::JwtValidator::from_jwks_uri(format!("{base}/jwks"), fetcher)
            .issuer(&base)
            .audience(AUDIENCE)
            .build()?;
    tokio::time::timeout(std::time::Duration::from_secs(30), validator.ready())
        .await
        .map_err(|_| "the JWKS was not fetched")?;
    let claims = validator.validate_at(token, SystemTime::now())?;
    let expected = certbound::cert::Certificate::from_pem(&pki.client.cert_pem)?.thumbprint();
    check(
        claims
            .confirmation()
            .and_then(|c| c.x5t_s256())
            .is_some_and(|t| t == expected.to_string()),
        "the token verifies with the published keys and is bound to the client's certificate",
    )?;
    let (status, _) = token_request(pki, &base, &pki.self_signed, &self_signed_id).await?;
    check(
        status == 200,
        &format!("{self_signed_id} (self-signed) gets a token ({status})"),
    )?;
    let (status, body) = token_request(pki, &base, &pki.intruder, &client_id).await?;
    check(
        status == 401 && body["error"] == "invalid_client",
        &format!("same subject from another CA refused ({status} {body})"),
    )?;
    let (status, body) = send(
        client(pki, Some(&pki.client))?
            .post(format!("{base}/token"))
            .form(&[
                ("grant_type", "password"),
                ("client_id", client_id.as_str()),
            ]),
    )
    .await?;
    check(
        status == 400 && body["error"] == "unsupported_grant_type",
        &format!("another grant type refused ({status} {body})"),
    )?;

    // Restart on the same database file: the client is still there.
    drop(anonymous);
    server.stop().await?;
    let server = start(pki, db).await?;
    let (status, body) = token_request(pki, &server.base, &pki.client, &client_id).await?;
    check(
        status == 200 && body["access_token"].is_string(),
        &format!(
            "after a restart on {}, {client_id} still authenticates ({status})",
            db.display()
        ),
    )?;
    server.stop().await?;
    Ok(())
}
