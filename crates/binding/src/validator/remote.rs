//! The authorization server's keys, live: a [`JwtValidator`] whose keys
//! come from a `jwks_uri`, or from an issuer's RFC 8414 metadata, and are
//! refreshed in the background.
//!
//! A small state machine, as jwt-authorizer's key store manager: the set is
//! *not loaded*, *loaded* (and refreshed on a schedule, or once on an
//! unknown `kid`), or *stale* (every refresh failed for longer than the
//! maximum age: tokens are refused with [`TokenError::Unavailable`], 503 at
//! the layer). The schedule is a value, [`KeyRefresh`].

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use arc_swap::ArcSwapOption;
use josekit::jwk::JwkSet;
use tokio::sync::{Mutex, watch};
use tokio::time::Instant;

use super::TokenError;
use super::jwt::{JwsAlg, JwtValidator, JwtValidatorBuilder, JwtValidatorError, KeySet};
use super::keys::KeySource;

/// A boxed, sendable future, as [`KeySetFetcher`] returns.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Fetches a document (the authorization server's metadata, its JWK set)
/// by URL. Bring your own HTTP client, or enable the `http` feature for
/// certbound-fetch's `Fetcher`. Implemented for async closures
/// `Fn(String) -> impl Future<Output = Result<FetchedDocument, KeySetFetchError>>`.
pub trait KeySetFetcher: Send + Sync + 'static {
    /// The document at `url`.
    fn fetch<'a>(
        &'a self,
        url: &'a str,
    ) -> BoxFuture<'a, Result<FetchedDocument, KeySetFetchError>>;
}

impl<F, Fut> KeySetFetcher for F
where
    F: Fn(String) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<FetchedDocument, KeySetFetchError>> + Send + 'static,
{
    fn fetch<'a>(
        &'a self,
        url: &'a str,
    ) -> BoxFuture<'a, Result<FetchedDocument, KeySetFetchError>> {
        Box::pin(self(url.to_owned()))
    }
}

/// A fetched document and its `Cache-Control: max-age`, if any.
///
/// ```
/// use std::time::Duration;
/// use certbound_binding::FetchedDocument;
///
/// let doc = FetchedDocument::new(r#"{"keys":[]}"#, Some(Duration::from_secs(300)));
/// # let _ = doc;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedDocument {
    body: Vec<u8>,
    max_age: Option<Duration>,
}

impl FetchedDocument {
    /// A document with `body`, whose response said `max_age` (or nothing).
    pub fn new(body: impl Into<Vec<u8>>, max_age: Option<Duration>) -> Self {
        Self {
            body: body.into(),
            max_age,
        }
    }
}

/// A document could not be fetched.
///
/// ```
/// use certbound_binding::KeySetFetchError;
///
/// let err = KeySetFetchError::new("connection refused");
/// assert_eq!(err.to_string(), "connection refused");
/// ```
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct KeySetFetchError(Arc<dyn std::error::Error + Send + Sync>);

impl KeySetFetchError {
    /// Wraps the fetcher's error.
    pub fn new(err: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self(Arc::from(err.into()))
    }
}

/// When a remote key set is fetched, and how long it is trusted.
///
/// ```
/// use std::time::Duration;
/// use certbound_binding::KeyRefresh;
///
/// let refresh = KeyRefresh::default()
///     .interval(Duration::from_secs(300))
///     .unknown_kid_interval(Duration::from_secs(10))
///     .retry_interval(Duration::from_secs(10))
///     .max_age(Duration::from_secs(3600));
/// # let _ = refresh;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyRefresh {
    interval: Duration,
    unknown_kid_interval: Duration,
    retry_interval: Duration,
    max_age: Duration,
}

impl Default for KeyRefresh {
    /// Refresh every 5 minutes (sooner when the response's `max-age` says
    /// so), at most one unknown-`kid` refetch every 10 seconds, retry a
    /// failed fetch after 10 seconds, trust the last good set for one hour
    /// (Microsoft.IdentityModel's last-known-good lifetime).
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(300),
            unknown_kid_interval: Duration::from_secs(10),
            retry_interval: Duration::from_secs(10),
            max_age: Duration::from_secs(3600),
        }
    }
}

impl KeyRefresh {
    /// The longest time between two background refreshes; a shorter
    /// `max-age` of the response, or half the maximum age, wins.
    pub fn interval(mut self, interval: Duration) -> Self {
        self.interval = interval;
        self
    }

    /// The shortest time between two fetches caused by tokens whose `kid`
    /// is not in the set (a flood of made-up `kid`s makes one fetch per
    /// interval).
    pub fn unknown_kid_interval(mut self, interval: Duration) -> Self {
        self.unknown_kid_interval = interval;
        self
    }

    /// How soon a failed background fetch is tried again; also the
    /// shortest time between two background fetches.
    pub fn retry_interval(mut self, interval: Duration) -> Self {
        self.retry_interval = interval;
        self
    }

    /// How long the last good set is used while fetching fails; past this
    /// age tokens are refused (503) rather than checked against keys the
    /// authorization server may have withdrawn.
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.max_age = max_age;
        self
    }

    /// The delay before the next background fetch.
    fn next_delay(&self, fetched: Option<Option<Duration>>) -> Duration {
        match fetched {
            None => self.retry_interval,
            Some(response_max_age) => {
                let mut delay = self.interval.min(self.max_age / 2);
                if let Some(age) = response_max_age {
                    delay = delay.min(age);
                }
                delay.max(self.retry_interval)
            }
        }
    }
}

/// How a remote key set is doing: for readiness checks and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct KeySetStatus {
    /// Keys are loaded and younger than the maximum age: tokens can be
    /// checked. Always true for a fixed set.
    pub ready: bool,
    /// How long ago the set in use was fetched (`None` for a fixed set, or
    /// before the first fetch).
    pub age: Option<Duration>,
    /// Successful fetches so far.
    pub refreshes: u64,
    /// Failed fetches so far.
    pub failures: u64,
}

/// Where the keys are.
#[derive(Debug, Clone)]
enum Location {
    JwksUri(String),
    /// RFC 8414: the metadata at `metadata_url` must name `issuer`, and
    /// gives the `jwks_uri`.
    Issuer {
        issuer: String,
        metadata_url: String,
    },
}

/// A remote key source, as configured.
#[derive(Clone)]
pub(super) struct RemoteSpec {
    fetcher: Arc<dyn KeySetFetcher>,
    location: Location,
    refresh: KeyRefresh,
}

impl fmt::Debug for RemoteSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RemoteSpec")
            .field("location", &self.location)
            .field("refresh", &self.refresh)
            .finish_non_exhaustive()
    }
}

/// The RFC 8414 §3.1 metadata URL of `issuer`: the well-known path is
/// inserted between the host and the issuer's path.
fn metadata_url(issuer: &str) -> Result<String, JwtValidatorError> {
    let invalid = |why: &str| JwtValidatorError::InvalidIssuer(format!("{issuer}: {why}"));
    let uri: http::Uri = issuer.parse().map_err(|_| invalid("not a URL"))?;
    if uri.scheme_str() != Some("https") {
        return Err(invalid("not an https URL (RFC 8414 §2)"));
    }
    let Some(authority) = uri.authority() else {
        return Err(invalid("no host"));
    };
    if uri.query().is_some() || issuer.contains('#') {
        return Err(invalid("a query or fragment (RFC 8414 §2)"));
    }
    let path = uri.path().trim_end_matches('/');
    Ok(format!(
        "https://{authority}/.well-known/oauth-authorization-server{path}"
    ))
}

/// The part of RFC 8414 metadata read here.
#[derive(serde::Deserialize)]
struct Metadata {
    issuer: String,
    jwks_uri: Option<String>,
}

/// The keys in use, and when they were fetched.
struct Loaded {
    keys: Arc<KeySet>,
    fetched_at: Instant,
}

/// State shared by the validator and its background task.
struct Shared {
    spec: RemoteSpec,
    algorithms: Vec<JwsAlg>,
    current: ArcSwapOption<Loaded>,
    /// Held during every fetch (single flight); the time of the last
    /// fetch caused by an unknown `kid`.
    last_unknown_kid_fetch: Mutex<Option<Instant>>,
    /// Bumped by every successful fetch, so that a request that waited
    /// for another's fetch uses its result instead of fetching again.
    generation: AtomicU64,
    refreshes: AtomicU64,
    failures: AtomicU64,
    loaded: watch::Sender<bool>,
}

/// A validator's remote keys; the background task stops when this is
/// dropped (with the validator).
pub(super) struct RemoteKeys {
    shared: Arc<Shared>,
    task: tokio::task::AbortHandle,
}

impl Drop for RemoteKeys {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl fmt::Debug for RemoteKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RemoteKeys")
            .field("location", &self.shared.spec.location)
            .field("status", &self.status())
            .finish_non_exhaustive()
    }
}

impl RemoteKeys {
    /// Starts the background task (which fetches at once) on the current
    /// tokio runtime, once the issuer (if any) is known to be valid.
    pub(super) fn start(
        spec: RemoteSpec,
        algorithms: &[JwsAlg],
    ) -> Result<Self, JwtValidatorError> {
        if let Location::Issuer { issuer, .. } = &spec.location {
            metadata_url(issuer)?;
        }
        let runtime =
            tokio::runtime::Handle::try_current().map_err(|_| JwtValidatorError::NoRuntime)?;
        let shared = Arc::new(Shared {
            spec,
            algorithms: algorithms.to_vec(),
            current: ArcSwapOption::empty(),
            last_unknown_kid_fetch: Mutex::new(None),
            generation: AtomicU64::new(0),
            refreshes: AtomicU64::new(0),
            failures: AtomicU64::new(0),
            loaded: watch::Sender::new(false),
        });
        let task = runtime.spawn(run(Arc::downgrade(&shared))).abort_handle();
        Ok(Self { shared, task })
    }

    /// The keys to verify with, unless none was loaded yet or the last
    /// good set is past its maximum age (fail closed).
    pub(super) fn current(&self) -> Result<Arc<KeySet>, TokenError> {
        let guard = self.shared.current.load();
        let Some(loaded) = guard.as_ref() else {
            return Err(TokenError::Unavailable(
                "the authorization server's keys are not loaded yet".into(),
            ));
        };
        if loaded.fetched_at.elapsed() > self.shared.spec.refresh.max_age {
            return Err(TokenError::Unavailable(
                "the authorization server's keys are past their maximum age".into(),
            ));
        }
        Ok(loaded.keys.clone())
    }

    /// Fetches once for a token whose key is not in the set: single
    /// flight, and not within the unknown-`kid` interval of the last fetch.
    /// Whether a newer set is in place (worth validating again).
    pub(super) async fn refetch_for_unknown_key(&self) -> bool {
        let shared = &self.shared;
        let seen = shared.generation.load(Ordering::Acquire);
        let mut last = shared.last_unknown_kid_fetch.lock().await;
        if shared.generation.load(Ordering::Acquire) != seen {
            return true;
        }
        let interval = shared.spec.refresh.unknown_kid_interval;
        if last.is_some_and(|t| t.elapsed() < interval) {
            tracing::debug!("unknown key: refetch skipped, the last one is too recent");
            return false;
        }
        *last = Some(Instant::now());
        shared.fetch_locked("unknown kid").await.is_some()
    }

    pub(super) fn status(&self) -> KeySetStatus {
        let age = self
            .shared
            .current
            .load()
            .as_ref()
            .map(|l| l.fetched_at.elapsed());
        KeySetStatus {
            ready: age.is_some_and(|a| a <= self.shared.spec.refresh.max_age),
            age,
            refreshes: self.shared.refreshes.load(Ordering::Relaxed),
            failures: self.shared.failures.load(Ordering::Relaxed),
        }
    }

    pub(super) async fn loaded(&self) {
        let mut rx = self.shared.loaded.subscribe();
        let _ = rx.wait_for(|loaded| *loaded).await;
    }
}

/// The background task: fetch now, then on the schedule, until the
/// validator is gone.
async fn run(shared: Weak<Shared>) {
    let mut delay = Duration::ZERO;
    loop {
        tokio::time::sleep(delay).await;
        let Some(shared) = shared.upgrade() else {
            return;
        };
        let single_flight = shared.last_unknown_kid_fetch.lock().await;
        let fetched = shared.fetch_locked("schedule").await;
        drop(single_flight);
        delay = shared.spec.refresh.next_delay(fetched);
    }
}

impl Shared {
    /// One fetch, with the single-flight lock held: the new set replaces
    /// the old one whole, or the old one stays. The response's `max-age`
    /// on success.
    async fn fetch_locked(&self, why: &'static str) -> Option<Option<Duration>> {
        match self.fetch().await {
            Ok((keys, max_age)) => {
                let kids = keys.describe().len();
                self.current.store(Some(Arc::new(Loaded {
                    keys: Arc::new(keys),
                    fetched_at: Instant::now(),
                })));
                self.generation.fetch_add(1, Ordering::AcqRel);
                self.refreshes.fetch_add(1, Ordering::Relaxed);
                self.loaded.send_replace(true);
                tracing::debug!(why, verifiers = kids, "authorization server keys fetched");
                Some(max_age)
            }
            Err(error) => {
                self.failures.fetch_add(1, Ordering::Relaxed);
                let age = self.current.load().as_ref().map(|l| l.fetched_at.elapsed());
                let max_age = self.spec.refresh.max_age;
                match age {
                    Some(age) if age <= max_age => tracing::warn!(
                        why, %error, ?age, ?max_age,
                        "fetching the authorization server's keys failed; keeping the last good set until its maximum age"
                    ),
                    _ => tracing::warn!(
                        why, %error,
                        "fetching the authorization server's keys failed and no good set is in date: tokens are refused"
                    ),
                }
                None
            }
        }
    }

    /// One fetch: the keys and the response's `max-age`.
    async fn fetch(&self) -> Result<(KeySet, Option<Duration>), String> {
        let fetcher = &self.spec.fetcher;
        let jwks_uri = match &self.spec.location {
            Location::JwksUri(uri) => uri.clone(),
            Location::Issuer {
                issuer,
                metadata_url,
            } => {
                let doc = fetcher
                    .fetch(metadata_url)
                    .await
                    .map_err(|e| format!("metadata at {metadata_url}: {e}"))?;
                let metadata: Metadata = serde_json::from_slice(&doc.body)
                    .map_err(|e| format!("metadata at {metadata_url}: {e}"))?;
                // RFC 8414 §3.3: the issuer must be identical to the one
                // the metadata URL was made from.
                if &metadata.issuer != issuer {
                    return Err(format!(
                        "metadata at {metadata_url} names issuer {:?}, not {issuer:?} (RFC 8414 §3.3)",
                        metadata.issuer
                    ));
                }
                metadata
                    .jwks_uri
                    .ok_or_else(|| format!("metadata at {metadata_url} has no jwks_uri"))?
            }
        };
        let doc = fetcher
            .fetch(&jwks_uri)
            .await
            .map_err(|e| format!("JWK set at {jwks_uri}: {e}"))?;
        let set =
            JwkSet::from_bytes(&doc.body).map_err(|e| format!("JWK set at {jwks_uri}: {e}"))?;
        let keys = KeySet::build(&set, &self.algorithms)
            .map_err(|e| format!("JWK set at {jwks_uri}: {e}"))?;
        Ok((keys, doc.max_age))
    }
}

impl JwtValidator {
    /// Starts a validator whose keys are the JWK set at `jwks_uri`,
    /// fetched with `fetcher` in the background (see [`KeyRefresh`]).
    /// Building needs a tokio runtime; tokens are refused with 503 until
    /// the first fetch succeeds (see [`ready`](Self::ready)).
    ///
    /// ```
    /// use certbound_binding::{FetchedDocument, JwtValidator, KeyRefresh, KeySetFetchError};
    ///
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
    /// let jwks = r#"{"keys":[{"kty":"EC","crv":"P-256","kid":"k1",
    ///   "x":"w7JAoU_gJbZJvV-zCOvU9yFJq0FNC_edCMRM78P8eQQ",
    ///   "y":"wQg1EytcsEmGrM70Gb53oluoDbVhCZ3Uq3hHMslHVb4"}]}"#;
    /// let validator = JwtValidator::from_jwks_uri(
    ///     "https://as.example.com/jwks",
    ///     move |_url: String| async move { Ok::<_, KeySetFetchError>(FetchedDocument::new(jwks, None)) },
    /// )
    /// .issuer("https://as.example.com")
    /// .audience("https://rs.example.com")
    /// .key_refresh(KeyRefresh::default())
    /// .build()?;
    /// validator.ready().await;
    /// assert!(validator.key_set_status().ready);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_jwks_uri(
        jwks_uri: impl Into<String>,
        fetcher: impl KeySetFetcher,
    ) -> JwtValidatorBuilder {
        JwtValidator::builder_with_keys(KeySource::Remote(RemoteSpec {
            fetcher: Arc::new(fetcher),
            location: Location::JwksUri(jwks_uri.into()),
            refresh: KeyRefresh::default(),
        }))
    }

    /// Starts a validator for tokens of `issuer`: its RFC 8414 metadata
    /// (at `/.well-known/oauth-authorization-server`, inserted before the
    /// issuer's path, §3.1) must name the same `issuer` (§3.3), and its
    /// `jwks_uri` gives the keys, fetched as by
    /// [`from_jwks_uri`](Self::from_jwks_uri). Also sets the expected
    /// `iss`.
    pub fn from_issuer(
        issuer: impl Into<String>,
        fetcher: impl KeySetFetcher,
    ) -> JwtValidatorBuilder {
        let issuer = issuer.into();
        // An invalid issuer is reported by build(), which returns the error.
        let location = Location::Issuer {
            metadata_url: metadata_url(&issuer).unwrap_or_default(),
            issuer: issuer.clone(),
        };
        JwtValidator::builder_with_keys(KeySource::Remote(RemoteSpec {
            fetcher: Arc::new(fetcher),
            location,
            refresh: KeyRefresh::default(),
        }))
        .issuer(issuer)
    }

    /// How the keys are doing: for a readiness check and metrics. A fixed
    /// set is always ready.
    pub fn key_set_status(&self) -> KeySetStatus {
        match self.keys.remote() {
            Some(remote) => remote.status(),
            None => KeySetStatus {
                ready: true,
                age: None,
                refreshes: 0,
                failures: 0,
            },
        }
    }

    /// Resolves once keys have been loaded (at once for a fixed set). Wrap
    /// it in a timeout: it waits as long as fetching fails.
    pub async fn ready(&self) {
        if let Some(remote) = self.keys.remote() {
            remote.loaded().await;
        }
    }
}

impl JwtValidatorBuilder {
    /// When remote keys are fetched and how long they are trusted (no
    /// effect on a fixed set).
    pub fn key_refresh(mut self, refresh: KeyRefresh) -> Self {
        if let KeySource::Remote(spec) = &mut self.keys {
            spec.refresh = refresh;
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_url_inserts_the_well_known_path_before_the_issuers_path() {
        assert_eq!(
            metadata_url("https://as.example.com").unwrap(),
            "https://as.example.com/.well-known/oauth-authorization-server"
        );
        assert_eq!(
            metadata_url("https://as.example.com/").unwrap(),
            "https://as.example.com/.well-known/oauth-authorization-server"
        );
        // RFC 8414 §3.1's example.
        assert_eq!(
            metadata_url("https://example.com/issuer1").unwrap(),
            "https://example.com/.well-known/oauth-authorization-server/issuer1"
        );
        assert_eq!(
            metadata_url("https://localhost:8443/t/a").unwrap(),
            "https://localhost:8443/.well-known/oauth-authorization-server/t/a"
        );
        for bad in [
            "http://as.example.com",
            "https://as/?q=1",
            "https://as/#f",
            "as.example.com",
        ] {
            assert!(
                matches!(metadata_url(bad), Err(JwtValidatorError::InvalidIssuer(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn the_schedule_is_bounded_by_the_response_and_the_maximum_age() {
        let refresh = KeyRefresh::default()
            .interval(Duration::from_secs(300))
            .retry_interval(Duration::from_secs(10))
            .max_age(Duration::from_secs(3600));
        assert_eq!(refresh.next_delay(Some(None)), Duration::from_secs(300));
        assert_eq!(
            refresh.next_delay(Some(Some(Duration::from_secs(60)))),
            Duration::from_secs(60)
        );
        assert_eq!(
            refresh.next_delay(Some(Some(Duration::ZERO))),
            Duration::from_secs(10)
        );
        assert_eq!(refresh.next_delay(None), Duration::from_secs(10));
        let short = refresh.max_age(Duration::from_secs(120));
        assert_eq!(short.next_delay(Some(None)), Duration::from_secs(60));
    }
}
