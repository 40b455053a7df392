//! `certbound forward-auth`: certbound-binding's [`ForwardAuth`] as a
//! command, beside nginx (`auth_request`), Caddy (`forward_auth`), Traefik
//! (`ForwardAuth`) or Envoy (`ext_authz`, HTTP mode).
//!
//! Configuration comes from flags ([`Args`]) or a TOML file (`--config`, the
//! same names with `_` for `-`); a flag overrides the file. [`start`] binds
//! and serves until the returned [`Running`] is dropped: any method on any
//! path is a check, except `GET /healthz` (200 once the keys are loaded,
//! 503 before) and `GET /metrics` (Prometheus text).
//!
//! ```no_run
//! # async fn run() -> Result<(), certbound_cli::forward_auth::ForwardAuthError> {
//! use certbound_cli::forward_auth::{self, Args, Settings};
//!
//! let args = Args {
//!     listen: Some("127.0.0.1:9180".parse().unwrap()),
//!     issuer: Some("https://as.example.com".into()),
//!     audience: Some("https://api.example.com".into()),
//!     cert_format: Some("pem-urlencoded".parse().unwrap()),
//!     trusted_proxy: vec!["127.0.0.1/32".parse().unwrap()],
//!     ..Args::default()
//! };
//! let settings = Settings::from_args(args)?;
//! let running = forward_auth::start(settings).await?;
//! assert_eq!(running.addr.port(), 9180);
//! # Ok(()) }
//! ```

use std::convert::Infallible;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use certbound_binding::{
    AccessTokenValidator, CachedValidator, ForwardAuth, ForwardAuthBody, HttpIntrospector,
    IntrospectionValidator, JwtValidator, KeyRefresh, TokenClaims, TokenError,
};
use certbound_extract::header::HeaderFormat;
use certbound_extract::{HeaderSource, PeerCertificatesLayer};
use certbound_fetch::Fetcher;
use http::{HeaderName, Method, Request, Response, StatusCode};
use http_body_util::{Either, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use ipnet::IpNet;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde::Deserialize;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tower::{Layer, Service};

/// The largest configuration or secret file read, in bytes.
const MAX_FILE_LEN: u64 = 1024 * 1024;

/// Why forward-auth could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ForwardAuthError {
    /// The configuration is incomplete or inconsistent.
    #[error("configuration: {0}")]
    Config(String),
    /// A file could not be read.
    #[error("{path}: {message}")]
    File {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// The listener could not be bound.
    #[error("listen on {addr}: {message}")]
    Listen {
        /// The address.
        addr: SocketAddr,
        /// What went wrong.
        message: String,
    },
}

fn config_error(message: impl Into<String>) -> ForwardAuthError {
    ForwardAuthError::Config(message.into())
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// `certbound forward-auth`: the flags. Each may also be set in the
/// `--config` file; a flag overrides the file.
#[derive(Debug, Default, clap::Args)]
#[command(
    after_help = "Any method on any path is a check (200 with X-Certbound-Client-Id, -Subject, \
                  -Scope and -Cnf; 401 with WWW-Authenticate; 403 to a peer that is not a \
                  trusted proxy; 503 when keys or introspection are unavailable), except \
                  GET /healthz and GET /metrics."
)]
pub struct Args {
    /// A TOML file with any of these settings (names with `_` for `-`, e.g.
    /// `trusted_proxy = ["127.0.0.1/32"]`); flags override it.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The address to listen on (plain HTTP: put it on loopback or a
    /// private network beside the proxy) [default: 127.0.0.1:9180].
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    /// The authorization server's issuer identifier: keys come from its
    /// RFC 8414 metadata's `jwks_uri`, and tokens must carry this `iss`.
    #[arg(long, value_name = "URL")]
    pub issuer: Option<String>,
    /// A PEM file of CA certificates trusted (besides the system's) for
    /// the issuer's metadata, its JWKS and the introspection endpoint.
    /// Repeatable.
    #[arg(long, value_name = "FILE")]
    pub ca: Vec<PathBuf>,
    /// The audience tokens must be issued for (`aud`, RFC 9068 §4; with
    /// introspection, the response's `aud`). Required unless
    /// --danger-accept-any-audience.
    #[arg(long, value_name = "AUD")]
    pub audience: Option<String>,
    /// Accept tokens issued for any audience (a token meant for another
    /// resource server passes): for trying things out, never in
    /// production. Ignored when --audience is given.
    #[arg(long)]
    pub danger_accept_any_audience: bool,
    /// The header the proxy puts the client certificate in [default: the
    /// format's usual header: x-ssl-client-cert for pem and pem-urlencoded,
    /// x-ssl-client-der for der-base64, client-cert for rfc9440,
    /// x-forwarded-client-cert for xfcc].
    #[arg(long, value_name = "NAME")]
    pub cert_header: Option<String>,
    /// How the proxy writes the certificate: rfc9440, pem-urlencoded (nginx
    /// $ssl_client_escaped_cert), pem, der-base64 (HAProxy, Caddy), xfcc
    /// (Envoy).
    #[arg(long, value_name = "FORMAT")]
    pub cert_format: Option<HeaderFormat>,
    /// A network (CIDR, or a single address) of the proxies allowed to ask;
    /// any other peer gets 403. Repeatable; at least one is required.
    #[arg(long, value_name = "CIDR")]
    pub trusted_proxy: Vec<IpNet>,
    /// With xfcc: which element describes the client, counted from the
    /// right [default: 1].
    #[arg(long, value_name = "N")]
    pub xfcc_hop: Option<usize>,
    /// The proxy puts the client's chain into the certificate header after
    /// the leaf (Traefik, AWS ALB's X-Amzn-Mtls-Clientcert) [default:
    /// false: the leaf alone, and several certificates are refused as a
    /// combined value].
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub chain_in_value: Option<bool>,
    /// Refuse tokens that are not certificate-bound (no `cnf`)
    /// [default: true].
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub require_binding: Option<bool>,
    /// Validate tokens by RFC 7662 introspection at this endpoint instead
    /// of as JWTs (needs --client-id and credentials).
    #[arg(long, value_name = "URL")]
    pub introspection_endpoint: Option<String>,
    /// This resource server's client_id at the introspection endpoint.
    #[arg(long, value_name = "ID")]
    pub client_id: Option<String>,
    /// PEM certificate (chain) for mTLS client authentication at the
    /// introspection endpoint (with --client-key).
    #[arg(long, value_name = "FILE")]
    pub client_cert: Option<PathBuf>,
    /// PEM private key of --client-cert.
    #[arg(long, value_name = "FILE")]
    pub client_key: Option<PathBuf>,
    /// A file holding the client secret for client_secret_basic at the
    /// introspection endpoint (instead of mTLS).
    #[arg(long, value_name = "FILE")]
    pub client_secret_file: Option<PathBuf>,
    /// How many accepted tokens are remembered [default: 10000].
    #[arg(long, value_name = "N")]
    pub cache_capacity: Option<u64>,
    /// How long an accepted token is remembered at most, in seconds (never
    /// beyond its `exp`) [default: 60].
    #[arg(long, value_name = "SECONDS")]
    pub cache_ttl: Option<u64>,
    /// How often the issuer's keys are refetched at most, in seconds
    /// [default: 300].
    #[arg(long, value_name = "SECONDS")]
    pub key_refresh_interval: Option<u64>,
    /// Log format [default: text].
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub log_format: Option<LogFormat>,
}

/// The `--config` file: the flags' settings.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<SocketAddr>,
    issuer: Option<String>,
    #[serde(default)]
    ca: Vec<PathBuf>,
    audience: Option<String>,
    danger_accept_any_audience: Option<bool>,
    cert_header: Option<String>,
    cert_format: Option<String>,
    #[serde(default)]
    trusted_proxy: Vec<String>,
    xfcc_hop: Option<usize>,
    chain_in_value: Option<bool>,
    require_binding: Option<bool>,
    introspection_endpoint: Option<String>,
    client_id: Option<String>,
    client_cert: Option<PathBuf>,
    client_key: Option<PathBuf>,
    client_secret_file: Option<PathBuf>,
    cache_capacity: Option<u64>,
    cache_ttl: Option<u64>,
    key_refresh_interval: Option<u64>,
    log_format: Option<LogFormat>,
}

/// How tokens are validated.
#[derive(Debug, Clone)]
pub enum Validation {
    /// JWT access tokens (RFC 9068), keys from the issuer's metadata.
    Jwt,
    /// RFC 7662 introspection.
    Introspection {
        /// The endpoint.
        endpoint: String,
        /// This resource server's client_id.
        client_id: String,
        /// How it authenticates.
        credentials: Credentials,
    },
}

/// The resource server's credentials at the introspection endpoint.
#[derive(Clone)]
pub enum Credentials {
    /// mTLS: the certificate chain and its key, PEM.
    Mtls {
        /// The chain, leaf first.
        chain: Vec<CertificateDer<'static>>,
        /// The key.
        key: Arc<PrivateKeyDer<'static>>,
    },
    /// `client_secret_basic`.
    Secret(String),
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credentials::Mtls { chain, .. } => write!(f, "Mtls({} certificates)", chain.len()),
            Credentials::Secret(_) => f.write_str("Secret(..)"),
        }
    }
}

/// The complete, checked configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Where to listen.
    pub listen: SocketAddr,
    /// The issuer.
    pub issuer: String,
    /// Extra trusted roots.
    pub roots: Vec<CertificateDer<'static>>,
    /// The expected audience; `None` only with
    /// `--danger-accept-any-audience`.
    pub audience: Option<String>,
    /// Where the certificate comes from, and the trusted proxies.
    pub source: HeaderSource,
    /// Whether tokens must be bound.
    pub require_binding: bool,
    /// JWT or introspection.
    pub validation: Validation,
    /// Token cache size.
    pub cache_capacity: u64,
    /// Token cache lifetime.
    pub cache_ttl: Duration,
    /// Key refresh.
    pub key_refresh: KeyRefresh,
    /// Log format.
    pub log_format: LogFormat,
}

fn read_file(path: &Path) -> Result<Vec<u8>, ForwardAuthError> {
    let err = |message: String| ForwardAuthError::File {
        path: path.to_owned(),
        message,
    };
    let len = std::fs::metadata(path)
        .map_err(|e| err(e.to_string()))?
        .len();
    if len > MAX_FILE_LEN {
        return Err(err(format!("larger than {MAX_FILE_LEN} bytes")));
    }
    std::fs::read(path).map_err(|e| err(e.to_string()))
}

fn certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, ForwardAuthError> {
    let pem = read_file(path)?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ForwardAuthError::File {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
    if certs.is_empty() {
        return Err(ForwardAuthError::File {
            path: path.to_owned(),
            message: "no PEM certificate".into(),
        });
    }
    Ok(certs)
}

impl Settings {
    /// The settings of these flags and of the `--config` file they name.
    pub fn from_args(args: Args) -> Result<Self, ForwardAuthError> {
        let file = match &args.config {
            Some(path) => {
                let text =
                    String::from_utf8(read_file(path)?).map_err(|e| ForwardAuthError::File {
                        path: path.clone(),
                        message: e.to_string(),
                    })?;
                toml::from_str::<FileConfig>(&text).map_err(|e| ForwardAuthError::File {
                    path: path.clone(),
                    message: e.to_string(),
                })?
            }
            None => FileConfig::default(),
        };
        let issuer = args
            .issuer
            .or(file.issuer)
            .ok_or_else(|| config_error("--issuer is required"))?;
        let ca = if args.ca.is_empty() { file.ca } else { args.ca };
        let mut roots = Vec::new();
        for path in &ca {
            roots.extend(certificates(path)?);
        }
        let format = match args.cert_format {
            Some(f) => f,
            None => file
                .cert_format
                .ok_or_else(|| config_error("--cert-format is required"))?
                .parse::<HeaderFormat>()
                .map_err(|e| config_error(format!("cert_format: {e}")))?,
        };
        let trusted = if args.trusted_proxy.is_empty() {
            file.trusted_proxy
                .iter()
                .map(|s| {
                    s.parse::<IpNet>()
                        .or_else(|_| s.parse::<std::net::IpAddr>().map(IpNet::from))
                        .map_err(|e| config_error(format!("trusted_proxy {s:?}: {e}")))
                })
                .collect::<Result<Vec<_>, _>>()?
        } else {
            args.trusted_proxy
        };
        if trusted.is_empty() {
            return Err(config_error(
                "at least one --trusted-proxy is required: only those peers are answered",
            ));
        }
        let mut source = HeaderSource::new(format).trusted_proxies(trusted);
        if let Some(name) = args.cert_header.or(file.cert_header) {
            let name = HeaderName::try_from(name.as_str())
                .map_err(|e| config_error(format!("cert_header {name:?}: {e}")))?;
            source = source.header_name(name);
        }
        if let Some(hop) = args.xfcc_hop.or(file.xfcc_hop) {
            if hop == 0 {
                return Err(config_error("--xfcc-hop counts from 1"));
            }
            source = source.xfcc_hop(hop);
        }
        if let Some(yes) = args.chain_in_value.or(file.chain_in_value) {
            source = source.chain_in_value(yes);
        }
        let validation =
            match args.introspection_endpoint.or(file.introspection_endpoint) {
                None => Validation::Jwt,
                Some(endpoint) => {
                    let client_id = args.client_id.or(file.client_id).ok_or_else(|| {
                        config_error("--introspection-endpoint needs --client-id")
                    })?;
                    let cert = args.client_cert.or(file.client_cert);
                    let key = args.client_key.or(file.client_key);
                    let secret = args.client_secret_file.or(file.client_secret_file);
                    let credentials =
                        match (cert, key, secret) {
                            (Some(cert), Some(key), None) => {
                                let chain = certificates(&cert)?;
                                let key = PrivateKeyDer::from_pem_slice(&read_file(&key)?)
                                    .map_err(|e| ForwardAuthError::File {
                                        path: key.clone(),
                                        message: e.to_string(),
                                    })?;
                                Credentials::Mtls {
                                    chain,
                                    key: Arc::new(key),
                                }
                            }
                            (None, None, Some(secret)) => {
                                let text = String::from_utf8(read_file(&secret)?).map_err(|e| {
                                    ForwardAuthError::File {
                                        path: secret.clone(),
                                        message: e.to_string(),
                                    }
                                })?;
                                let text = text.trim_end_matches(['\r', '\n']).to_owned();
                                if text.is_empty() {
                                    return Err(ForwardAuthError::File {
                                        path: secret,
                                        message: "empty client secret".into(),
                                    });
                                }
                                Credentials::Secret(text)
                            }
                            _ => {
                                return Err(config_error(
                                    "--introspection-endpoint needs either --client-cert with \
                             --client-key, or --client-secret-file",
                                ));
                            }
                        };
                    Validation::Introspection {
                        endpoint,
                        client_id,
                        credentials,
                    }
                }
            };
        let audience = args.audience.or(file.audience);
        let any_audience =
            args.danger_accept_any_audience || file.danger_accept_any_audience.unwrap_or(false);
        if audience.is_none() && !any_audience {
            return Err(config_error(
                "--audience is required (RFC 9068 §4: a resource server checks that a token is \
                 meant for it); --danger-accept-any-audience accepts tokens for any audience",
            ));
        }
        let interval = args
            .key_refresh_interval
            .or(file.key_refresh_interval)
            .unwrap_or(300);
        Ok(Self {
            listen: args
                .listen
                .or(file.listen)
                .unwrap_or(SocketAddr::from(([127, 0, 0, 1], 9180))),
            issuer,
            roots,
            audience,
            source,
            require_binding: args
                .require_binding
                .or(file.require_binding)
                .unwrap_or(true),
            validation,
            cache_capacity: args
                .cache_capacity
                .or(file.cache_capacity)
                .unwrap_or(10_000),
            cache_ttl: Duration::from_secs(args.cache_ttl.or(file.cache_ttl).unwrap_or(60)),
            key_refresh: KeyRefresh::default().interval(Duration::from_secs(interval.max(1))),
            log_format: args.log_format.or(file.log_format).unwrap_or_default(),
        })
    }
}

/// The validator of either kind, behind the token cache.
pub enum Validator {
    /// JWT access tokens.
    Jwt(CachedValidator<JwtValidator>),
    /// Introspection.
    Introspection(CachedValidator<IntrospectionValidator<HttpIntrospector>>),
}

impl std::fmt::Debug for Validator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Validator::Jwt(_) => f.write_str("Validator::Jwt"),
            Validator::Introspection(_) => f.write_str("Validator::Introspection"),
        }
    }
}

impl AccessTokenValidator for Validator {
    async fn validate(&self, token: &str) -> Result<TokenClaims, TokenError> {
        match self {
            Validator::Jwt(v) => v.validate(token).await,
            Validator::Introspection(v) => v.validate(token).await,
        }
    }
}

impl Validator {
    /// Whether tokens can be checked: keys loaded (JWT); always for
    /// introspection, whose endpoint is asked per token.
    pub fn ready(&self) -> bool {
        match self {
            Validator::Jwt(v) => v.get_ref().key_set_status().ready,
            Validator::Introspection(_) => true,
        }
    }

    fn cache_hits(&self) -> u64 {
        match self {
            Validator::Jwt(v) => v.hits(),
            Validator::Introspection(v) => v.hits(),
        }
    }

    fn key_fetches(&self) -> Option<(u64, u64)> {
        match self {
            Validator::Jwt(v) => {
                let s = v.get_ref().key_set_status();
                Some((s.refreshes, s.failures))
            }
            Validator::Introspection(_) => None,
        }
    }
}

fn validator(settings: &Settings) -> Result<Validator, ForwardAuthError> {
    let mut fetcher = Fetcher::for_operator_urls()
        .crypto_provider(Arc::new(rustls::crypto::ring::default_provider()));
    for root in &settings.roots {
        fetcher = fetcher.add_root_certificate(root.clone());
    }
    let (capacity, ttl) = (settings.cache_capacity, settings.cache_ttl);
    if settings.audience.is_none() {
        tracing::warn!("--danger-accept-any-audience: tokens for any audience are accepted");
    }
    match &settings.validation {
        Validation::Jwt => {
            let fetcher = fetcher
                .build()
                .map_err(|e| config_error(format!("HTTP client: {e}")))?;
            let mut builder = JwtValidator::from_issuer(settings.issuer.clone(), fetcher)
                .key_refresh(settings.key_refresh);
            builder = match &settings.audience {
                Some(aud) => builder.audience(aud.clone()),
                None => builder.danger_accept_any_audience(),
            };
            let v = builder
                .build()
                .map_err(|e| config_error(format!("issuer: {e}")))?;
            Ok(Validator::Jwt(
                CachedValidator::new(v).capacity(capacity).max_ttl(ttl),
            ))
        }
        Validation::Introspection {
            endpoint,
            client_id,
            credentials,
        } => {
            let introspector = match credentials {
                Credentials::Mtls { chain, key } => {
                    let fetcher = fetcher
                        .identity(chain.clone(), key.clone_key())
                        .build()
                        .map_err(|e| config_error(format!("HTTP client: {e}")))?;
                    HttpIntrospector::mtls(fetcher, endpoint.clone(), client_id.clone())
                }
                Credentials::Secret(secret) => {
                    let fetcher = fetcher
                        .build()
                        .map_err(|e| config_error(format!("HTTP client: {e}")))?;
                    HttpIntrospector::client_secret_basic(
                        fetcher,
                        endpoint.clone(),
                        client_id.clone(),
                        secret.clone(),
                    )
                }
            };
            let mut v = IntrospectionValidator::new(introspector).issuer(settings.issuer.clone());
            if let Some(aud) = &settings.audience {
                v = v.audience(aud.clone());
            }
            Ok(Validator::Introspection(
                CachedValidator::new(v).capacity(capacity).max_ttl(ttl),
            ))
        }
    }
}

/// A running forward-auth; dropping it stops the listener.
#[derive(Debug)]
pub struct Running {
    /// The bound address.
    pub addr: SocketAddr,
    /// The service, for its metrics and validator.
    pub auth: ForwardAuth<Validator>,
    task: JoinHandle<()>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Running {
    /// Waits until the keys are loaded (JWT), at most `timeout`; true when
    /// ready.
    pub async fn ready(&self, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        while !self.auth.validator().ready() {
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        true
    }
}

/// Binds `settings.listen` and serves until the [`Running`] is dropped.
pub async fn start(settings: Settings) -> Result<Running, ForwardAuthError> {
    let validator = Arc::new(validator(&settings)?);
    let auth = ForwardAuth::new(settings.source.clone(), validator)
        .require_binding(settings.require_binding);
    let listener =
        TcpListener::bind(settings.listen)
            .await
            .map_err(|e| ForwardAuthError::Listen {
                addr: settings.listen,
                message: e.to_string(),
            })?;
    let addr = listener
        .local_addr()
        .map_err(|e| ForwardAuthError::Listen {
            addr: settings.listen,
            message: e.to_string(),
        })?;
    tracing::info!(%addr, issuer = %settings.issuer, require_binding = settings.require_binding, "forward-auth listening");
    let service = auth.clone();
    let task = tokio::spawn(async move {
        loop {
            let (tcp, peer) = match listener.accept().await {
                Ok(accepted) => accepted,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let _ = tcp.set_nodelay(true);
            let svc = PeerCertificatesLayer::new(None)
                .peer_addr(peer)
                .layer(Endpoints {
                    auth: service.clone(),
                });
            tokio::spawn(
                hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(
                        TokioIo::new(tcp),
                        hyper_util::service::TowerToHyperService::new(svc),
                    )
                    .into_owned(),
            );
        }
    });
    Ok(Running { addr, auth, task })
}

/// `/healthz`, `/metrics`, and the check on every other request.
#[derive(Clone)]
struct Endpoints {
    auth: ForwardAuth<Validator>,
}

type Body = Either<ForwardAuthBody, Full<Bytes>>;

impl<B: Send + 'static> Service<Request<B>> for Endpoints {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<Response<Body>, Infallible>> + Send>,
    >;

    fn poll_ready(
        &mut self,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Infallible>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        if req.method() == Method::GET {
            match req.uri().path() {
                "/healthz" => {
                    let ready = self.auth.validator().ready();
                    let (status, text) = if ready {
                        (StatusCode::OK, "ready\n")
                    } else {
                        (StatusCode::SERVICE_UNAVAILABLE, "keys not loaded\n")
                    };
                    return Box::pin(async move { Ok(plain(status, text.to_owned())) });
                }
                "/metrics" => {
                    let text = metrics(&self.auth);
                    return Box::pin(async move { Ok(plain(StatusCode::OK, text)) });
                }
                _ => {}
            }
        }
        let future = self.auth.call(req);
        Box::pin(async move { Ok(future.await?.map(Either::Left)) })
    }
}

fn plain(status: StatusCode, text: String) -> Response<Body> {
    let mut res = Response::new(Either::Right(Full::new(Bytes::from(text))));
    *res.status_mut() = status;
    res.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain; version=0.0.4"),
    );
    res
}

/// The Prometheus text exposition of the counters.
fn metrics(auth: &ForwardAuth<Validator>) -> String {
    let mut out = String::new();
    let counts = auth.metrics().snapshot();
    out.push_str("# HELP certbound_forward_auth_requests_total Checks answered, by outcome.\n");
    out.push_str("# TYPE certbound_forward_auth_requests_total counter\n");
    for (outcome, n) in counts.by_outcome() {
        let _ = writeln!(
            out,
            "certbound_forward_auth_requests_total{{outcome=\"{outcome}\"}} {n}"
        );
    }
    let validator = auth.validator();
    out.push_str("# HELP certbound_forward_auth_cache_hits_total Token checks answered by the token cache.\n");
    out.push_str("# TYPE certbound_forward_auth_cache_hits_total counter\n");
    let _ = writeln!(
        out,
        "certbound_forward_auth_cache_hits_total {}",
        validator.cache_hits()
    );
    if let Some((refreshes, failures)) = validator.key_fetches() {
        out.push_str("# HELP certbound_forward_auth_key_refreshes_total Fetches of the issuer's keys, by result.\n");
        out.push_str("# TYPE certbound_forward_auth_key_refreshes_total counter\n");
        let _ = writeln!(
            out,
            "certbound_forward_auth_key_refreshes_total{{result=\"ok\"}} {refreshes}"
        );
        let _ = writeln!(
            out,
            "certbound_forward_auth_key_refreshes_total{{result=\"error\"}} {failures}"
        );
    }
    out.push_str(
        "# HELP certbound_forward_auth_ready Whether tokens can be checked (keys loaded).\n",
    );
    out.push_str("# TYPE certbound_forward_auth_ready gauge\n");
    let _ = writeln!(
        out,
        "certbound_forward_auth_ready {}",
        u8::from(validator.ready())
    );
    out
}
