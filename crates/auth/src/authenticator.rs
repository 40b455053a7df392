//! [`Authenticator`]: runs the registered RFC 8705 method of a client on the
//! certificate it presented.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use certbound_cert::{Certificate, Thumbprint};
use certbound_extract::ClientCert;

use crate::clock::{Clock, SystemClock};
use crate::oauth_error::OAuthError;
use crate::registry::{ClientRegistry, RegistryError};
use crate::self_signed::{SelfSignedTlsClientAuth, SetSource};
use crate::tls_client_auth::{EkuPolicy, PathError, TlsClientAuth};
use crate::{RegisteredClient, TokenEndpointAuthMethod};

/// A client that passed mutual TLS client authentication. The layer puts it
/// into the request extensions; the token endpoint reads it (axum: as an
/// extractor) to know who the client is and what to bind tokens to.
#[derive(Debug, Clone)]
pub struct AuthenticatedClient {
    client: RegisteredClient,
    certificate: ClientCert,
}

impl AuthenticatedClient {
    /// `client_id`.
    pub fn client_id(&self) -> &str {
        self.client.client_id()
    }

    /// The method the client authenticated with (its registered one).
    pub fn method(&self) -> &TokenEndpointAuthMethod {
        self.client.method()
    }

    /// The `x5t#S256` of the presented leaf: the value for `cnf` (RFC 8705 §3.1).
    pub fn thumbprint(&self) -> Thumbprint {
        self.certificate.thumbprint()
    }

    /// Whether the client registered `tls_client_certificate_bound_access_tokens`.
    pub fn bound_access_tokens(&self) -> bool {
        self.client.bound_access_tokens()
    }

    /// The presented certificate.
    pub fn certificate(&self) -> &ClientCert {
        &self.certificate
    }

    /// The client's registration.
    pub fn registration(&self) -> &RegisteredClient {
        &self.client
    }
}

/// Why a client was not authenticated. The [`Display`](fmt::Display) form
/// is for logs; [`to_oauth_error`](Self::to_oauth_error) is what the client sees.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// No client is registered under this `client_id`.
    #[error("unknown client")]
    UnknownClient,
    /// The client is registered with another method: not ours to judge, so
    /// the layer passes the request on.
    #[error("client uses {method}, not an mTLS method")]
    NotMtlsClient {
        /// The registered method.
        method: TokenEndpointAuthMethod,
    },
    /// The client's method is not enabled on this authenticator.
    #[error("{method} is not enabled")]
    MethodNotEnabled {
        /// The registered method.
        method: TokenEndpointAuthMethod,
    },
    /// No client certificate came with the request.
    #[error("no client certificate")]
    NoCertificate,
    /// There is no trust anchor to validate against.
    #[error("no trust anchor configured")]
    NoTrustAnchors,
    /// The leaf is past its notAfter.
    #[error("client certificate expired")]
    Expired,
    /// The leaf is before its notBefore.
    #[error("client certificate not yet valid")]
    NotYetValid,
    /// The leaf has no EKU extension and one listing clientAuth is required.
    #[error("client certificate has no extended key usage extension")]
    EkuMissing,
    /// A certificate has an EKU extension without clientAuth.
    #[error("client certificate is not for client authentication (EKU)")]
    WrongEku,
    /// The leaf lacks a required certificate policy.
    #[error("client certificate lacks required policy {oid}")]
    PolicyMissing {
        /// The missing policy OID.
        oid: String,
    },
    /// No path leads to a trust anchor.
    #[error("client certificate issuer is not trusted")]
    UnknownIssuer,
    /// A CRL lists a certificate of the path.
    #[error("client certificate revoked")]
    Revoked,
    /// The issuing CA's key is not the pinned one.
    #[error("issuing CA does not match the pinned key")]
    IssuerPinMismatch,
    /// More intermediates than allowed.
    #[error("certificate path has {intermediates} intermediates, at most {max} allowed")]
    PathTooLong {
        /// Intermediates in the shortest path found.
        intermediates: usize,
        /// The limit.
        max: usize,
    },
    /// Path validation failed for another reason.
    #[error("certificate path invalid: {0}")]
    InvalidPath(String),
    /// The leaf does not carry the registered subject parameter.
    #[error("client certificate does not match {parameter}")]
    SubjectMismatch {
        /// The registered parameter's name.
        parameter: &'static str,
    },
    /// The self-signed certificate is not among the registered ones.
    #[error("client certificate is not registered")]
    CertificateNotRegistered,
    /// The client's `jwks_uri` key set could not be fetched.
    #[error("client key set unavailable: {0}")]
    JwksUnavailable(String),
    /// The registry failed.
    #[error(transparent)]
    Registry(#[from] RegistryError),
}

impl AuthError {
    /// Whether the client uses a method that is not mutual TLS, so that
    /// other client authentication should handle it.
    pub fn is_not_mtls(&self) -> bool {
        matches!(self, Self::NotMtlsClient { .. })
    }

    /// The OAuth error the client sees: `500 server_error` when the
    /// registry failed, `401 invalid_client` with a short description
    /// otherwise.
    pub fn to_oauth_error(&self) -> OAuthError {
        let description = match self {
            Self::Registry(_) => return OAuthError::server_error("client registry unavailable"),
            Self::UnknownClient => "unknown client",
            Self::NotMtlsClient { .. } | Self::MethodNotEnabled { .. } => {
                "client authentication method not supported"
            }
            Self::NoCertificate => "client certificate required",
            Self::Expired | Self::NotYetValid => "client certificate outside its validity period",
            Self::Revoked => "client certificate revoked",
            Self::NoTrustAnchors
            | Self::EkuMissing
            | Self::WrongEku
            | Self::PolicyMissing { .. }
            | Self::UnknownIssuer
            | Self::IssuerPinMismatch
            | Self::PathTooLong { .. }
            | Self::InvalidPath(_) => "client certificate not trusted",
            Self::SubjectMismatch { .. } | Self::CertificateNotRegistered => {
                "client certificate does not match the registration"
            }
            Self::JwksUnavailable(_) => "client key set unavailable",
        };
        OAuthError::invalid_client(description)
    }
}

/// The verdict of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Verdict {
    /// The check passed.
    Pass,
    /// The check failed.
    Fail,
    /// The check does not apply or was not configured.
    Skipped,
}

impl Verdict {
    /// `pass`, `fail` or `skipped`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::Fail => "fail",
            Self::Skipped => "skipped",
        }
    }
}

/// One check the authenticator ran, with its verdict and the values it
/// compared. For operators: it may show registered and presented values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// What was checked (`client`, `certificate`, `validity`, `path`, `subject`, ...).
    pub name: &'static str,
    /// The verdict.
    pub verdict: Verdict,
    /// The details.
    pub detail: String,
}

/// Every check of one authentication and its outcome, from
/// [`Authenticator::explain`].
#[derive(Debug, Clone)]
pub struct Report {
    /// The `client_id` asked about.
    pub client_id: String,
    /// The registered method, when the client was found.
    pub method: Option<TokenEndpointAuthMethod>,
    /// The checks, in the order they ran.
    pub checks: Vec<Check>,
    /// The outcome.
    pub result: Result<AuthenticatedClient, AuthError>,
}

impl Report {
    /// Whether the client was authenticated.
    pub fn is_authenticated(&self) -> bool {
        self.result.is_ok()
    }

    /// The report as JSON: `client_id`, `method`, `authenticated`, `error`,
    /// `x5t#S256` and `checks` (each `name`, `verdict`, `detail`).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "client_id": self.client_id,
            "method": self.method.as_ref().map(|m| m.as_str()),
            "authenticated": self.result.is_ok(),
            "error": self.result.as_ref().err().map(|e| e.to_string()),
            "x5t#S256": self.result.as_ref().ok().map(|c| c.thumbprint().to_string()),
            "checks": self.checks.iter().map(|c| serde_json::json!({
                "name": c.name,
                "verdict": c.verdict.as_str(),
                "detail": c.detail,
            })).collect::<Vec<_>>(),
        })
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in &self.checks {
            let verdict = match c.verdict {
                Verdict::Pass => "PASS",
                Verdict::Fail => "FAIL",
                Verdict::Skipped => "SKIP",
            };
            writeln!(f, "{verdict}  {:<12} {}", c.name, c.detail)?;
        }
        match &self.result {
            Ok(c) => write!(
                f,
                "authenticated: client {} with {}, x5t#S256 {}",
                c.client_id(),
                c.method(),
                c.thumbprint()
            ),
            Err(e) => write!(f, "refused: {e}"),
        }
    }
}

/// Counters of the work done, for tests and metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct AuthMetrics {
    /// Path validations run by webpki (each checks signatures).
    pub path_validations: u64,
    /// `tls_client_auth` authentications answered from the cache.
    pub cache_hits: u64,
}

struct Recorder {
    checks: Option<Vec<Check>>,
    method: Option<TokenEndpointAuthMethod>,
}

impl Recorder {
    fn explaining(&self) -> bool {
        self.checks.is_some()
    }

    fn record(&mut self, name: &'static str, verdict: Verdict, detail: impl FnOnce() -> String) {
        if let Some(checks) = &mut self.checks {
            checks.push(Check {
                name,
                verdict,
                detail: detail(),
            });
        }
    }

    fn pass(&mut self, name: &'static str, detail: impl FnOnce() -> String) {
        self.record(name, Verdict::Pass, detail);
    }

    fn fail(&mut self, name: &'static str, detail: impl FnOnce() -> String) {
        self.record(name, Verdict::Fail, detail);
    }

    fn skip(&mut self, name: &'static str, detail: impl FnOnce() -> String) {
        self.record(name, Verdict::Skipped, detail);
    }
}

/// A verified `tls_client_auth`: the client, its trust configuration, the
/// leaf and the intermediates presented, by thumbprint.
#[derive(Debug, Clone)]
struct CacheKey {
    client_id: String,
    trust_config: [u8; 32],
    leaf: Thumbprint,
    chain: Vec<Thumbprint>,
}

/// A [`CacheKey`] borrowed from the request, so that a lookup allocates
/// nothing; the owned key is built only to insert.
struct CacheKeyRef<'a> {
    client_id: &'a str,
    trust_config: [u8; 32],
    leaf: Thumbprint,
    chain: &'a [Certificate],
}

/// What both forms of the key are made of; the cache hashes and compares
/// keys only through it, so the two forms agree by construction.
trait KeyParts {
    fn client_id(&self) -> &str;
    fn trust_config(&self) -> &[u8; 32];
    fn leaf(&self) -> Thumbprint;
    fn chain_len(&self) -> usize;
    fn chain_at(&self, i: usize) -> Option<Thumbprint>;
}

impl KeyParts for CacheKey {
    fn client_id(&self) -> &str {
        &self.client_id
    }
    fn trust_config(&self) -> &[u8; 32] {
        &self.trust_config
    }
    fn leaf(&self) -> Thumbprint {
        self.leaf
    }
    fn chain_len(&self) -> usize {
        self.chain.len()
    }
    fn chain_at(&self, i: usize) -> Option<Thumbprint> {
        self.chain.get(i).copied()
    }
}

impl KeyParts for CacheKeyRef<'_> {
    fn client_id(&self) -> &str {
        self.client_id
    }
    fn trust_config(&self) -> &[u8; 32] {
        &self.trust_config
    }
    fn leaf(&self) -> Thumbprint {
        self.leaf
    }
    fn chain_len(&self) -> usize {
        self.chain.len()
    }
    fn chain_at(&self, i: usize) -> Option<Thumbprint> {
        self.chain.get(i).map(Certificate::thumbprint)
    }
}

impl std::hash::Hash for dyn KeyParts + '_ {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.client_id().hash(state);
        self.trust_config().hash(state);
        self.leaf().hash(state);
        state.write_usize(self.chain_len());
        for i in 0..self.chain_len() {
            self.chain_at(i).hash(state);
        }
    }
}

impl PartialEq for dyn KeyParts + '_ {
    // Plain byte comparison, not `Thumbprint`'s constant-time one: a cache
    // key is no secret (certificates are public, and a client knows its
    // own), and this runs on every returning client's request.
    fn eq(&self, other: &Self) -> bool {
        let same = |a: Option<Thumbprint>, b: Option<Thumbprint>| {
            a.as_ref().map(Thumbprint::as_bytes) == b.as_ref().map(Thumbprint::as_bytes)
        };
        self.client_id() == other.client_id()
            && self.trust_config() == other.trust_config()
            && same(Some(self.leaf()), Some(other.leaf()))
            && self.chain_len() == other.chain_len()
            && (0..self.chain_len()).all(|i| same(self.chain_at(i), other.chain_at(i)))
    }
}

impl Eq for dyn KeyParts + '_ {}

impl std::hash::Hash for CacheKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        (self as &dyn KeyParts).hash(state);
    }
}

impl PartialEq for CacheKey {
    fn eq(&self, other: &Self) -> bool {
        (self as &dyn KeyParts) == (other as &dyn KeyParts)
    }
}

impl Eq for CacheKey {}

impl<'a> std::borrow::Borrow<dyn KeyParts + 'a> for CacheKey {
    fn borrow(&self) -> &(dyn KeyParts + 'a) {
        self
    }
}

impl CacheKeyRef<'_> {
    fn to_key(&self) -> CacheKey {
        CacheKey {
            client_id: self.client_id.to_owned(),
            trust_config: self.trust_config,
            leaf: self.leaf,
            chain: self.chain.iter().map(Certificate::thumbprint).collect(),
        }
    }
}

#[derive(Debug, Clone)]
struct CacheEntry {
    expires_at: SystemTime,
    ttl: Duration,
}

struct EntryExpiry;

impl moka::Expiry<CacheKey, CacheEntry> for EntryExpiry {
    fn expire_after_create(
        &self,
        _key: &CacheKey,
        value: &CacheEntry,
        _created_at: Instant,
    ) -> Option<Duration> {
        Some(value.ttl)
    }

    fn expire_after_update(
        &self,
        _key: &CacheKey,
        value: &CacheEntry,
        _updated_at: Instant,
        _duration_until_expiry: Option<Duration>,
    ) -> Option<Duration> {
        Some(value.ttl)
    }
}

struct Inner {
    registry: Box<dyn ClientRegistry>,
    tls: Option<TlsClientAuth>,
    self_signed: Option<SelfSignedTlsClientAuth>,
    clock: Arc<dyn Clock>,
    cache: Option<moka::sync::Cache<CacheKey, CacheEntry>>,
    path_validations: AtomicU64,
    cache_hits: AtomicU64,
}

/// Authenticates clients with their registered RFC 8705 method.
/// Cheap to clone (an `Arc`).
///
/// ```
/// use certbound_auth::{Authenticator, ClientMetadata, TlsClientAuth, TokenEndpointAuthMethod, TrustStore, registry_from_metadata};
/// use certbound_cert::Certificate;
/// use certbound_extract::{CertSource, ClientCert};
/// use certbound_testkit::TestCa;
///
/// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
/// let ca = TestCa::new("Example CA");
/// let leaf = ca.leaf("bank-1").issue();
///
/// let mut m = ClientMetadata::new("bank-1", TokenEndpointAuthMethod::TlsClientAuth);
/// m.tls_client_auth_subject_dn = Some("cn=Bank-1".into());
/// let auth = Authenticator::builder(registry_from_metadata([m])?)
///     .tls_client_auth(TlsClientAuth::new(TrustStore::from_pem(&ca.cert.pem)?))
///     .build();
///
/// let cert = ClientCert::new(Certificate::from_pem(&leaf.pem)?, vec![], CertSource::Tls);
/// let client = auth.authenticate("bank-1", Some(&cert)).await?;
/// assert_eq!(client.thumbprint(), cert.thumbprint());
/// assert_eq!(auth.supported_methods(), [TokenEndpointAuthMethod::TlsClientAuth]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Authenticator {
    inner: Arc<Inner>,
}

impl fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authenticator")
            .field("tls_client_auth", &self.inner.tls)
            .field("self_signed_tls_client_auth", &self.inner.self_signed)
            .finish_non_exhaustive()
    }
}

/// Builds an [`Authenticator`].
pub struct AuthenticatorBuilder {
    registry: Box<dyn ClientRegistry>,
    tls: Option<TlsClientAuth>,
    self_signed: Option<SelfSignedTlsClientAuth>,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for AuthenticatorBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthenticatorBuilder")
            .finish_non_exhaustive()
    }
}

impl AuthenticatorBuilder {
    /// Enables `tls_client_auth`.
    pub fn tls_client_auth(mut self, config: TlsClientAuth) -> Self {
        self.tls = Some(config);
        self
    }

    /// Enables `self_signed_tls_client_auth`.
    pub fn self_signed_tls_client_auth(mut self, config: SelfSignedTlsClientAuth) -> Self {
        self.self_signed = Some(config);
        self
    }

    /// Where the current time comes from (the system clock by default).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The authenticator.
    pub fn build(self) -> Authenticator {
        let cache = self
            .tls
            .as_ref()
            .filter(|t| t.cache_capacity > 0 && !t.cache_ttl.is_zero())
            .map(|t| {
                moka::sync::Cache::builder()
                    .max_capacity(t.cache_capacity)
                    .expire_after(EntryExpiry)
                    .build()
            });
        Authenticator {
            inner: Arc::new(Inner {
                registry: self.registry,
                tls: self.tls,
                self_signed: self.self_signed,
                clock: self.clock,
                cache,
                path_validations: AtomicU64::new(0),
                cache_hits: AtomicU64::new(0),
            }),
        }
    }
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn describe_time(t: SystemTime) -> String {
    match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => format!("{}s after the epoch", d.as_secs()),
        Err(_) => "before the epoch".to_owned(),
    }
}

fn map_webpki(e: &webpki::Error) -> AuthError {
    use webpki::Error as E;
    match e {
        E::CertExpired { .. } => AuthError::Expired,
        E::CertNotValidYet { .. } => AuthError::NotYetValid,
        // A CA of the same name whose key did not sign the certificate is
        // just as unknown.
        E::UnknownIssuer | E::InvalidSignatureForPublicKey => AuthError::UnknownIssuer,
        E::CertRevoked => AuthError::Revoked,
        E::RequiredEkuNotFoundContext(_) => AuthError::WrongEku,
        other => AuthError::InvalidPath(other.to_string()),
    }
}

/// The leaf's EKU against the policy: `Ok(description)` or the error.
fn check_eku(leaf: &Certificate, policy: EkuPolicy) -> Result<String, (AuthError, String)> {
    let parsed = leaf
        .parsed()
        .map_err(|e| (AuthError::InvalidPath(e.to_string()), e.to_string()))?;
    let eku = parsed.extended_key_usage().map_err(|e| {
        (
            AuthError::InvalidPath(e.to_string()),
            format!("unreadable EKU extension: {e}"),
        )
    })?;
    match eku {
        None => match policy {
            EkuPolicy::ClientAuthIfPresent => {
                Ok("no EKU extension (accepted: clientAuth is required only when present)".into())
            }
            EkuPolicy::ClientAuthRequired => Err((
                AuthError::EkuMissing,
                "no EKU extension; clientAuth (1.3.6.1.5.5.7.3.2) is required".into(),
            )),
        },
        Some(ext) => {
            let e = ext.value;
            let mut listed = Vec::new();
            for (on, name) in [
                (e.any, "anyExtendedKeyUsage"),
                (e.server_auth, "serverAuth"),
                (e.client_auth, "clientAuth"),
                (e.code_signing, "codeSigning"),
                (e.email_protection, "emailProtection"),
                (e.time_stamping, "timeStamping"),
                (e.ocsp_signing, "OCSPSigning"),
            ] {
                if on {
                    listed.push(name.to_owned());
                }
            }
            listed.extend(e.other.iter().map(|o| o.to_id_string()));
            if e.client_auth {
                Ok(format!("EKU lists {}", listed.join(", ")))
            } else {
                Err((
                    AuthError::WrongEku,
                    format!("EKU lists {} but not clientAuth", listed.join(", ")),
                ))
            }
        }
    }
}

/// The leaf's certificate policy OIDs (dotted), or an error text.
fn leaf_policies(leaf: &Certificate) -> Result<Vec<String>, String> {
    use x509_parser::extensions::ParsedExtension;
    let parsed = leaf.parsed().map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for ext in parsed.extensions() {
        if let ParsedExtension::CertificatePolicies(policies) = ext.parsed_extension() {
            out.extend(policies.iter().map(|p| p.policy_id.to_id_string()));
        }
    }
    Ok(out)
}

impl Authenticator {
    /// Starts an authenticator over a registry; enable the methods on the builder.
    pub fn builder(registry: impl ClientRegistry) -> AuthenticatorBuilder {
        AuthenticatorBuilder {
            registry: Box::new(registry),
            tls: None,
            self_signed: None,
            clock: Arc::new(SystemClock),
        }
    }

    /// The methods enabled, for `token_endpoint_auth_methods_supported`
    /// (RFC 8414); the application adds the non-mTLS ones it handles.
    pub fn supported_methods(&self) -> Vec<TokenEndpointAuthMethod> {
        let mut out = Vec::new();
        if self.inner.tls.is_some() {
            out.push(TokenEndpointAuthMethod::TlsClientAuth);
        }
        if self.inner.self_signed.is_some() {
            out.push(TokenEndpointAuthMethod::SelfSignedTlsClientAuth);
        }
        out
    }

    /// Counters of the work done so far.
    pub fn metrics(&self) -> AuthMetrics {
        AuthMetrics {
            path_validations: self.inner.path_validations.load(Ordering::Relaxed),
            cache_hits: self.inner.cache_hits.load(Ordering::Relaxed),
        }
    }

    /// Authenticates `client_id` with the certificate it presented, by the
    /// client's registered method. On failure the precise reason, with the
    /// expected and presented values, is logged at debug level.
    pub async fn authenticate(
        &self,
        client_id: &str,
        cert: Option<&ClientCert>,
    ) -> Result<AuthenticatedClient, AuthError> {
        let mut rec = Recorder {
            checks: None,
            method: None,
        };
        let result = self.run(client_id, cert, &mut rec, true).await;
        if let Err(e) = &result {
            if !e.is_not_mtls() {
                tracing::debug!(client_id, error = %e, "client authentication failed");
            }
        }
        result
    }

    /// Runs every check of the client's method, without the cache, and
    /// reports each with its verdict: why a certificate is refused.
    pub async fn explain(&self, client_id: &str, cert: Option<&ClientCert>) -> Report {
        let mut rec = Recorder {
            checks: Some(Vec::new()),
            method: None,
        };
        let result = self.run(client_id, cert, &mut rec, false).await;
        Report {
            client_id: client_id.to_owned(),
            method: rec.method,
            checks: rec.checks.unwrap_or_default(),
            result,
        }
    }

    async fn run(
        &self,
        client_id: &str,
        cert: Option<&ClientCert>,
        rec: &mut Recorder,
        use_cache: bool,
    ) -> Result<AuthenticatedClient, AuthError> {
        let client = match self.inner.registry.client(client_id).await {
            Ok(Some(c)) => c,
            Ok(None) => {
                rec.fail("client", || {
                    format!("no client registered as {client_id:?}")
                });
                return Err(AuthError::UnknownClient);
            }
            Err(e) => {
                rec.fail("client", || e.to_string());
                return Err(AuthError::Registry(e));
            }
        };
        let method = client.method().clone();
        rec.method = Some(method.clone());
        rec.pass("client", || {
            format!("{client_id:?} registered with token_endpoint_auth_method {method}")
        });
        match &method {
            TokenEndpointAuthMethod::TlsClientAuth => match &self.inner.tls {
                Some(tls) => self.tls_client_auth(tls, client, cert, rec, use_cache),
                None => {
                    rec.fail("method", || "tls_client_auth is not enabled".into());
                    Err(AuthError::MethodNotEnabled { method })
                }
            },
            TokenEndpointAuthMethod::SelfSignedTlsClientAuth => match &self.inner.self_signed {
                Some(ss) => self.self_signed(ss, client, cert, rec).await,
                None => {
                    rec.fail("method", || {
                        "self_signed_tls_client_auth is not enabled".into()
                    });
                    Err(AuthError::MethodNotEnabled { method })
                }
            },
            _ => {
                rec.skip("method", || {
                    format!("{method} is not an mTLS method: left to other client authentication")
                });
                Err(AuthError::NotMtlsClient { method })
            }
        }
    }

    fn presented(cert: Option<&ClientCert>, rec: &mut Recorder) -> Result<ClientCert, AuthError> {
        match cert {
            Some(c) => {
                rec.pass("certificate", || {
                    format!(
                        "{} (x5t#S256 {}), issued by {}, {} intermediate(s) presented",
                        c.leaf().subject(),
                        c.thumbprint(),
                        c.leaf().issuer(),
                        c.intermediates().len()
                    )
                });
                Ok(c.clone())
            }
            None => {
                rec.fail("certificate", || "no client certificate presented".into());
                Err(AuthError::NoCertificate)
            }
        }
    }

    fn tls_client_auth(
        &self,
        tls: &TlsClientAuth,
        client: RegisteredClient,
        cert: Option<&ClientCert>,
        rec: &mut Recorder,
        use_cache: bool,
    ) -> Result<AuthenticatedClient, AuthError> {
        let cert = Self::presented(cert, rec)?;
        let leaf = cert.leaf();
        let (anchors, whose) = match client.trust_anchors() {
            Some(store) => (store, "the client's own (certbound_trust_anchors)"),
            None => (&tls.trust_store, "the global trust store"),
        };
        if anchors.is_empty() {
            rec.fail("anchors", || format!("{whose} is empty"));
            return Err(AuthError::NoTrustAnchors);
        }
        rec.pass("anchors", || {
            let names: Vec<String> = anchors
                .certificates()
                .iter()
                .map(|c| c.subject().to_string())
                .collect();
            format!(
                "{} anchor(s) from {whose}: {}",
                anchors.len(),
                names.join("; ")
            )
        });

        let now = self.inner.clock.now();
        let cache = self.inner.cache.as_ref().filter(|_| use_cache);
        let key = cache.map(|_| CacheKeyRef {
            client_id: client.client_id(),
            trust_config: client.trust_config_id(),
            leaf: cert.thumbprint(),
            chain: cert.intermediates(),
        });
        let hit = match (cache, &key) {
            (Some(cache), Some(key)) => match cache.get(key as &dyn KeyParts) {
                Some(entry) if now < entry.expires_at => true,
                Some(_) => {
                    cache.invalidate(key as &dyn KeyParts);
                    false
                }
                None => false,
            },
            _ => false,
        };

        let mut first: Option<AuthError> = None;
        macro_rules! failed {
            ($err:expr) => {{
                let err = $err;
                if !rec.explaining() {
                    return Err(err);
                }
                first.get_or_insert(err);
            }};
        }

        if hit {
            self.inner.cache_hits.fetch_add(1, Ordering::Relaxed);
            rec.pass("path", || "validated earlier (cached)".into());
        } else {
            let validity = leaf.validity();
            if now < validity.not_before {
                rec.fail("validity", || {
                    format!("not valid before {}", describe_time(validity.not_before))
                });
                failed!(AuthError::NotYetValid);
            } else if now > validity.not_after {
                rec.fail("validity", || {
                    format!(
                        "expired: not valid after {}",
                        describe_time(validity.not_after)
                    )
                });
                failed!(AuthError::Expired);
            } else {
                rec.pass("validity", || "within notBefore..notAfter".into());
            }

            // webpki's path validation enforces clientAuth when an EKU is
            // present (the default policy), so the leaf is read again only
            // for the stricter policy or to explain.
            if rec.explaining() || tls.eku != EkuPolicy::ClientAuthIfPresent {
                match check_eku(leaf, tls.eku) {
                    Ok(detail) => rec.pass("eku", || detail),
                    Err((err, detail)) => {
                        rec.fail("eku", || detail);
                        failed!(err);
                    }
                }
            }

            if tls.required_policies.is_empty() {
                rec.skip("policies", || "no certificate policy required".into());
            } else {
                let present = leaf_policies(leaf).unwrap_or_default();
                match tls.required_policies.iter().find(|p| !present.contains(p)) {
                    None => rec.pass("policies", || {
                        format!("leaf has {}", tls.required_policies.join(", "))
                    }),
                    Some(missing) => {
                        rec.fail("policies", || {
                            format!(
                                "required {missing}; leaf has {}",
                                if present.is_empty() {
                                    "no policy".to_owned()
                                } else {
                                    present.join(", ")
                                }
                            )
                        });
                        failed!(AuthError::PolicyMissing {
                            oid: missing.clone()
                        });
                    }
                }
            }

            self.inner.path_validations.fetch_add(1, Ordering::Relaxed);
            let pin = client.issuer_spki_sha256();
            match tls.validate_path(leaf, cert.intermediates(), anchors.anchors(), pin, now) {
                Ok(path) => {
                    rec.pass("path", || {
                        format!(
                            "valid chain to anchor {} through {} intermediate(s): signatures, \
                             validity, basic constraints and EKU checked by webpki",
                            path.anchor_subject(),
                            path.intermediates
                        )
                    });
                    if tls.crl_count() > 0 {
                        rec.pass("revocation", || {
                            format!("not revoked by the {} configured CRL(s)", tls.crl_count())
                        });
                    } else {
                        rec.skip("revocation", || "no CRL configured".into());
                    }
                    match pin {
                        Some(p) => rec.pass("issuer pin", || {
                            format!("issuer SPKI SHA-256 {} is the pinned one", b64(p))
                        }),
                        None => rec.skip("issuer pin", || {
                            format!(
                                "no issuer pin registered (the issuer's SPKI SHA-256 is {})",
                                b64(&path.issuer_spki_sha256)
                            )
                        }),
                    }
                    rec.pass("path length", || {
                        format!(
                            "{} intermediate(s), at most {}",
                            path.intermediates, tls.max_intermediates
                        )
                    });
                    if first.is_none() {
                        if let (Some(cache), Some(key)) = (cache, key) {
                            let until = (now + tls.cache_ttl).min(leaf.validity().not_after);
                            if let Ok(ttl) = until.duration_since(now) {
                                cache.insert(
                                    key.to_key(),
                                    CacheEntry {
                                        expires_at: until,
                                        ttl,
                                    },
                                );
                            }
                        }
                    }
                }
                Err(PathError::Webpki(e)) => {
                    let err = map_webpki(&e);
                    rec.fail("path", || format!("webpki: {e}"));
                    if matches!(err, AuthError::Revoked) {
                        rec.fail("revocation", || "revoked by a configured CRL".into());
                    }
                    tracing::debug!(client_id = client.client_id(), error = %e, "path validation failed");
                    failed!(err);
                }
                Err(PathError::TooLong { intermediates, max }) => {
                    rec.fail("path length", || {
                        format!("{intermediates} intermediate(s), at most {max}")
                    });
                    failed!(AuthError::PathTooLong { intermediates, max });
                }
                Err(PathError::IssuerPinMismatch { presented }) => {
                    let expected = pin.map(|p| b64(p)).unwrap_or_default();
                    rec.fail("issuer pin", || {
                        format!(
                            "issuer SPKI SHA-256 {} is not the pinned {expected}",
                            b64(&presented)
                        )
                    });
                    tracing::debug!(
                        client_id = client.client_id(),
                        expected,
                        presented = b64(&presented),
                        "issuer pin mismatch"
                    );
                    failed!(AuthError::IssuerPinMismatch);
                }
            }
        }

        match client.subject_parameter() {
            Some(subject) if subject.matches(leaf) => {
                rec.pass("subject", || {
                    format!(
                        "{} {:?} matches {:?}",
                        subject.name(),
                        subject.to_string(),
                        subject.presented(leaf)
                    )
                });
            }
            Some(subject) => {
                let presented = subject.presented(leaf);
                rec.fail("subject", || {
                    format!(
                        "{} {:?} registered, certificate has {presented:?}",
                        subject.name(),
                        subject.to_string()
                    )
                });
                tracing::debug!(
                    client_id = client.client_id(),
                    parameter = subject.name(),
                    expected = %subject,
                    presented,
                    "subject mismatch"
                );
                failed!(AuthError::SubjectMismatch {
                    parameter: subject.name()
                });
            }
            None => {
                rec.fail("subject", || "no subject parameter registered".into());
                failed!(AuthError::SubjectMismatch {
                    parameter: "tls_client_auth_subject_dn"
                });
            }
        }
        if let Some(err) = first {
            return Err(err);
        }
        Ok(AuthenticatedClient {
            client,
            certificate: cert,
        })
    }

    async fn self_signed(
        &self,
        ss: &SelfSignedTlsClientAuth,
        client: RegisteredClient,
        cert: Option<&ClientCert>,
        rec: &mut Recorder,
    ) -> Result<AuthenticatedClient, AuthError> {
        let cert = Self::presented(cert, rec)?;
        rec.skip("path", || {
            "no chain or validity check for self_signed_tls_client_auth (RFC 8705 §2.2)".into()
        });
        let presented = cert.thumbprint();
        let (found, count, from) = match &client.metadata().jwks_uri {
            Some(uri) => {
                let now = self.inner.clock.now();
                match ss.lookup(uri, &presented, now).await {
                    Ok((found, count, source)) => {
                        let how = match source {
                            SetSource::Cached => "cached",
                            SetSource::Fetched => "fetched",
                            SetSource::RefetchedAfterMiss => "refetched after a miss",
                            SetSource::RefetchRateLimited => {
                                "cached; not refetched, the last fetch is too recent"
                            }
                        };
                        (found, count, format!("jwks_uri {uri} ({how})"))
                    }
                    Err(e) => {
                        rec.fail("key set", || format!("jwks_uri {uri}: {e}"));
                        tracing::debug!(client_id = client.client_id(), jwks_uri = %uri, error = %e, "jwks fetch failed");
                        return Err(AuthError::JwksUnavailable(e.to_string()));
                    }
                }
            }
            None => {
                let set = client.jwks_thumbprints();
                (set.contains(&presented), set.len(), "jwks".to_owned())
            }
        };
        if found {
            rec.pass("x5t#S256", || {
                format!("{presented} is x5c[0] of one of {count} key(s) in {from}")
            });
            Ok(AuthenticatedClient {
                client,
                certificate: cert,
            })
        } else {
            rec.fail("x5t#S256", || {
                format!("{presented} is not x5c[0] of any of {count} key(s) in {from}")
            });
            tracing::debug!(client_id = client.client_id(), presented = %presented, registered = count, source = %from, "self-signed certificate not registered");
            Err(AuthError::CertificateNotRegistered)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use certbound_testkit::TestCa;

    #[test]
    fn a_borrowed_cache_key_finds_its_owned_key_and_nothing_else() {
        let ca = TestCa::new("Key CA");
        let inter = ca.intermediate("Key Issuing");
        let leaf = Certificate::from_der(inter.leaf("client").issue().der).unwrap();
        let chain = vec![Certificate::from_der(inter.cert.der.clone()).unwrap()];
        let key = |client_id, chain: &'static [Certificate]| CacheKeyRef {
            client_id,
            trust_config: [7; 32],
            leaf: leaf.thumbprint(),
            chain,
        };
        let chain: &'static [Certificate] = Vec::leak(chain);
        let cache: moka::sync::Cache<CacheKey, u8> = moka::sync::Cache::new(8);
        cache.insert(key("bank", chain).to_key(), 1);
        assert_eq!(cache.get(&key("bank", chain) as &dyn KeyParts), Some(1));
        assert_eq!(cache.get(&key("bank2", chain) as &dyn KeyParts), None);
        assert_eq!(cache.get(&key("bank", &[]) as &dyn KeyParts), None);
        let mut other = key("bank", chain);
        other.trust_config = [8; 32];
        assert_eq!(cache.get(&other as &dyn KeyParts), None);
    }
}
