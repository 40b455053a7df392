//! One hardened HTTP fetcher for the network calls of an OAuth 2.0 mutual
//! TLS deployment: a client's `jwks_uri`, the authorization server's
//! metadata and JWKS, token introspection, CRLs.
//!
//! Every fetch has a connect timeout, a total timeout and a response size
//! limit (the body is streamed and the fetch stops at the limit); redirects
//! are never followed; `Cache-Control: max-age` is reported within
//! configured bounds. A [`Fetcher`] is built for one of two kinds of URL:
//!
//! - [`Fetcher::for_client_urls`]: URLs a *client* registered. https only,
//!   and a host that is, or resolves to, a loopback, private, link-local,
//!   unspecified, CGNAT or multicast address (or an IPv4-mapped form of
//!   one) is refused unless allowed by name. Names are checked in the
//!   resolver, so the address connected to is the address checked.
//! - [`Fetcher::for_operator_urls`]: URLs the operator configured. https,
//!   or plain http for CRLs alone ([`Fetcher::get_crl`]: CRLs are signed,
//!   and RFC 5280 distribution points are usually http).
//!
//! TLS is rustls with the crypto provider you give (or the process
//! default), the platform's roots plus any you add (or only yours), and
//! optionally a client certificate, so a resource server can authenticate
//! to the authorization server by mTLS.
//!
//! ```
//! use std::time::Duration;
//! use certbound_fetch::Fetcher;
//!
//! # let _ = rustls::crypto::ring::default_provider().install_default();
//! let fetcher = Fetcher::for_client_urls()
//!     .connect_timeout(Duration::from_secs(2))
//!     .timeout(Duration::from_secs(5))
//!     .max_response_size(64 * 1024)
//!     .max_age_bounds(Duration::from_secs(60), Duration::from_secs(3600))
//!     .build()?;
//! assert!(fetcher.is_for_client_urls());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod error;
mod guard;

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use headers::{CacheControl, HeaderMapExt as _};
use reqwest::Url;
use rustls::crypto::CryptoProvider;
use rustls::{ClientConfig, RootCertStore};
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

pub use error::{BuildError, FetchError};

use guard::{GuardedResolver, Policy};

/// A response body and how long it may be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    body: Bytes,
    max_age: Option<Duration>,
}

impl Fetched {
    /// The body.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// The body, owned.
    pub fn into_body(self) -> Bytes {
        self.body
    }

    /// The response's `Cache-Control: max-age` (`no-cache` and `no-store`
    /// count as zero), held within the fetcher's bounds; `None` when the
    /// response says nothing about it.
    pub fn max_age(&self) -> Option<Duration> {
        self.max_age
    }
}

/// Credentials for HTTP Basic authentication (`client_secret_basic`,
/// RFC 6749 §2.3.1). `Debug` does not show the password.
///
/// ```
/// use certbound_fetch::BasicAuth;
///
/// let basic = BasicAuth::new("rs-1", "s3cret");
/// assert!(!format!("{basic:?}").contains("s3cret"));
/// ```
#[derive(Clone)]
pub struct BasicAuth {
    username: String,
    password: String,
}

impl BasicAuth {
    /// A user name (a `client_id`) and password (a client secret).
    /// RFC 6749 §2.3.1 form-encodes both before they are joined; that is
    /// done here.
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Self {
        Self {
            username: username.into(),
            password: password.into(),
        }
    }
}

impl fmt::Debug for BasicAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BasicAuth")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// The hardened fetcher. Cheap to clone (the connection pool is shared).
///
/// ```no_run
/// use std::sync::Arc;
/// use certbound_fetch::{BasicAuth, FetchError, Fetcher};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let provider = Arc::new(rustls::crypto::ring::default_provider());
/// // The authorization server's URLs, with the resource server's own CA.
/// # let as_ca_der: Vec<u8> = Vec::new();
/// let operator = Fetcher::for_operator_urls()
///     .crypto_provider(provider.clone())
///     .add_root_certificate(as_ca_der.into())
///     .build()?;
/// let metadata = operator
///     .get("https://as.example.com/.well-known/oauth-authorization-server")
///     .await?;
/// let introspection = operator
///     .post_form(
///         "https://as.example.com/introspect",
///         &[("token", "..."), ("token_type_hint", "access_token")],
///         Some(&BasicAuth::new("rs-1", "secret")),
///     )
///     .await?;
///
/// // A client's jwks_uri: private and loopback addresses are refused.
/// let clients = Fetcher::for_client_urls().crypto_provider(provider).build()?;
/// let refused = clients.get("https://127.0.0.1/jwks.json").await;
/// assert!(matches!(refused, Err(FetchError::ForbiddenAddress { .. })));
/// # let _ = (metadata, introspection);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    policy: Policy,
    max_response_size: u64,
    max_age_bounds: (Duration, Duration),
}

impl fmt::Debug for Fetcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Fetcher")
            .field("policy", &self.policy)
            .field("max_response_size", &self.max_response_size)
            .field("max_age_bounds", &self.max_age_bounds)
            .finish_non_exhaustive()
    }
}

/// Which certificates a fetcher trusts.
enum Roots {
    /// The platform's, plus these.
    Platform(Vec<CertificateDer<'static>>),
    /// These alone.
    Only(Vec<CertificateDer<'static>>),
}

/// Builds a [`Fetcher`]; see [`Fetcher::for_client_urls`] and
/// [`Fetcher::for_operator_urls`].
pub struct FetcherBuilder {
    client_urls: bool,
    allowed_hosts: HashSet<String>,
    provider: Option<Arc<CryptoProvider>>,
    roots: Roots,
    identity: Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>,
    connect_timeout: Duration,
    timeout: Duration,
    max_response_size: u64,
    max_age_bounds: (Duration, Duration),
}

impl fmt::Debug for FetcherBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FetcherBuilder")
            .field("client_urls", &self.client_urls)
            .field("allowed_hosts", &self.allowed_hosts)
            .field("identity", &self.identity.is_some())
            .field("connect_timeout", &self.connect_timeout)
            .field("timeout", &self.timeout)
            .field("max_response_size", &self.max_response_size)
            .field("max_age_bounds", &self.max_age_bounds)
            .finish_non_exhaustive()
    }
}

impl Fetcher {
    /// A fetcher for URLs a client registered (`jwks_uri`): https only,
    /// no private or local addresses unless allowed by name.
    pub fn for_client_urls() -> FetcherBuilder {
        FetcherBuilder::new(true)
    }

    /// A fetcher for URLs the operator configured (authorization server
    /// metadata and JWKS, introspection, CRLs): https, or http for
    /// [`get_crl`](Self::get_crl).
    pub fn for_operator_urls() -> FetcherBuilder {
        FetcherBuilder::new(false)
    }

    /// Whether this fetcher applies the client-URL policy.
    pub fn is_for_client_urls(&self) -> bool {
        matches!(self.policy, Policy::ClientUrls { .. })
    }

    /// GETs `url` (https only).
    pub async fn get(&self, url: &str) -> Result<Fetched, FetchError> {
        let url = self.checked(url, false)?;
        self.finish(self.client.get(url)).await
    }

    /// GETs a CRL at `url`: plain http is allowed too when this is an
    /// operator fetcher (a CRL is signed by its issuer; RFC 5280
    /// distribution points are usually http).
    pub async fn get_crl(&self, url: &str) -> Result<Fetched, FetchError> {
        let allow_http = !self.is_for_client_urls();
        let url = self.checked(url, allow_http)?;
        self.finish(self.client.get(url)).await
    }

    /// POSTs `form` as `application/x-www-form-urlencoded` to `url` (https
    /// only), with HTTP Basic authentication when `basic` is given (as for
    /// RFC 7662 introspection).
    pub async fn post_form(
        &self,
        url: &str,
        form: &[(&str, &str)],
        basic: Option<&BasicAuth>,
    ) -> Result<Fetched, FetchError> {
        let url = self.checked(url, false)?;
        let mut request = self
            .client
            .post(url)
            .header(http::header::ACCEPT, "application/json")
            .form(form);
        if let Some(basic) = basic {
            // RFC 6749 §2.3.1: each part form-encoded, then Basic.
            let encode =
                |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
            request = request.basic_auth(encode(&basic.username), Some(encode(&basic.password)));
        }
        self.finish(request).await
    }

    fn checked(&self, url: &str, allow_http: bool) -> Result<Url, FetchError> {
        let url = Url::parse(url).map_err(|e| FetchError::InvalidUrl(e.to_string()))?;
        self.policy.check_url(&url, allow_http)?;
        Ok(url)
    }

    async fn finish(&self, request: reqwest::RequestBuilder) -> Result<Fetched, FetchError> {
        let mut response = request.send().await.map_err(FetchError::from_reqwest)?;
        let status = response.status();
        if status.is_redirection() {
            let location = response
                .headers()
                .get(http::header::LOCATION)
                .and_then(|l| l.to_str().ok())
                .map(str::to_owned);
            return Err(FetchError::RedirectRefused { location });
        }
        if status != http::StatusCode::OK {
            return Err(FetchError::Status(status.as_u16()));
        }
        let limit = self.max_response_size;
        if response.content_length().is_some_and(|n| n > limit) {
            return Err(FetchError::TooLarge { limit });
        }
        let max_age = self.max_age(response.headers());
        let mut body = BytesMut::new();
        while let Some(chunk) = response.chunk().await.map_err(FetchError::from_reqwest)? {
            if body.len() as u64 + chunk.len() as u64 > limit {
                return Err(FetchError::TooLarge { limit });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Fetched {
            body: body.freeze(),
            max_age,
        })
    }

    fn max_age(&self, headers: &http::HeaderMap) -> Option<Duration> {
        let cc: CacheControl = headers.typed_get()?;
        let age = if cc.no_store() || cc.no_cache() {
            Duration::ZERO
        } else {
            cc.max_age()?
        };
        let (min, max) = self.max_age_bounds;
        Some(age.clamp(min, max.max(min)))
    }
}

impl FetcherBuilder {
    fn new(client_urls: bool) -> Self {
        Self {
            client_urls,
            allowed_hosts: HashSet::new(),
            provider: None,
            roots: Roots::Platform(Vec::new()),
            identity: None,
            connect_timeout: Duration::from_secs(5),
            timeout: Duration::from_secs(10),
            max_response_size: 512 * 1024,
            max_age_bounds: (Duration::from_secs(60), Duration::from_secs(86_400)),
        }
    }

    /// The rustls crypto provider (default: the process default, see
    /// `CryptoProvider::install_default`; building fails when there is
    /// none).
    pub fn crypto_provider(mut self, provider: Arc<CryptoProvider>) -> Self {
        self.provider = Some(provider);
        self
    }

    /// Trusts `cert` as a root, besides the platform's roots (or besides
    /// those given to [`only_root_certificates`](Self::only_root_certificates)).
    pub fn add_root_certificate(mut self, cert: CertificateDer<'static>) -> Self {
        match &mut self.roots {
            Roots::Platform(extra) | Roots::Only(extra) => extra.push(cert),
        }
        self
    }

    /// Trusts these roots alone, not the platform's.
    pub fn only_root_certificates(
        mut self,
        certs: impl IntoIterator<Item = CertificateDer<'static>>,
    ) -> Self {
        self.roots = Roots::Only(certs.into_iter().collect());
        self
    }

    /// Presents this client certificate chain (leaf first) and key when the
    /// server asks for one (mTLS client authentication).
    pub fn identity(
        mut self,
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
    ) -> Self {
        self.identity = Some((chain, key));
        self
    }

    /// For a client-URL fetcher: lets `host` (a DNS name or an IP literal,
    /// compared case-insensitively) reach any address, loopback and
    /// private ones included. No effect on an operator fetcher.
    pub fn allow_host(mut self, host: impl Into<String>) -> Self {
        self.allowed_hosts.insert(host.into().to_ascii_lowercase());
        self
    }

    /// How long connecting (TCP and TLS) may take (default 5 seconds).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How long a whole fetch may take, body included (default 10
    /// seconds).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The largest response body accepted, in bytes (default 512 KiB).
    pub fn max_response_size(mut self, bytes: u64) -> Self {
        self.max_response_size = bytes;
        self
    }

    /// The bounds a response's `max-age` is held within (default one
    /// minute to one day).
    pub fn max_age_bounds(mut self, min: Duration, max: Duration) -> Self {
        self.max_age_bounds = (min, max);
        self
    }

    /// Builds the fetcher.
    pub fn build(self) -> Result<Fetcher, BuildError> {
        let provider = match self.provider {
            Some(p) => p,
            None => CryptoProvider::get_default()
                .cloned()
                .ok_or(BuildError::NoCryptoProvider)?,
        };
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()?;
        let builder = match self.roots {
            Roots::Platform(extra) => {
                let verifier =
                    rustls_platform_verifier::Verifier::new_with_extra_roots(extra, provider)?;
                builder
                    .dangerous()
                    .with_custom_certificate_verifier(Arc::new(verifier))
            }
            Roots::Only(certs) => {
                let mut store = RootCertStore::empty();
                for cert in certs {
                    store.add(cert)?;
                }
                builder.with_root_certificates(store)
            }
        };
        let mut tls = match self.identity {
            Some((chain, key)) => builder.with_client_auth_cert(chain, key)?,
            None => builder.with_no_client_auth(),
        };
        tls.alpn_protocols = vec![b"http/1.1".to_vec()];

        let allowed_hosts = Arc::new(self.allowed_hosts);
        let mut client = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(self.connect_timeout)
            .timeout(self.timeout)
            .user_agent(concat!("certbound/", env!("CARGO_PKG_VERSION")));
        let policy = if self.client_urls {
            client = client.dns_resolver(Arc::new(GuardedResolver {
                allowed_hosts: allowed_hosts.clone(),
            }));
            Policy::ClientUrls { allowed_hosts }
        } else {
            Policy::Operator
        };
        let client = client
            .build()
            .map_err(|e| BuildError::Client(e.to_string()))?;
        Ok(Fetcher {
            client,
            policy,
            max_response_size: self.max_response_size,
            max_age_bounds: self.max_age_bounds,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn building_without_a_crypto_provider_fails() {
        // This test binary installs no process default.
        assert!(CryptoProvider::get_default().is_none());
        assert!(matches!(
            Fetcher::for_operator_urls().build(),
            Err(BuildError::NoCryptoProvider)
        ));
        let given = Arc::new(rustls::crypto::ring::default_provider());
        assert!(
            Fetcher::for_operator_urls()
                .crypto_provider(given)
                .build()
                .is_ok()
        );
    }
}
