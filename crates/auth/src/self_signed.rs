//! [`SelfSignedTlsClientAuth`]: mutual TLS with a registered self-signed
//! certificate (RFC 8705 §2.2), and the [`JwksFetcher`] behind `jwks_uri`.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use certbound_cert::Thumbprint;

use crate::Jwks;
use crate::registry::BoxFuture;

/// Fetches the key set published at a client's `jwks_uri`. The HTTP client
/// is the application's choice; implemented for async closures
/// `Fn(String) -> impl Future<Output = Result<Jwks, JwksFetchError>>`.
pub trait JwksFetcher: Send + Sync + 'static {
    /// The key set at `jwks_uri`.
    fn fetch<'a>(&'a self, jwks_uri: &'a str) -> BoxFuture<'a, Result<Jwks, JwksFetchError>>;
}

impl<F, Fut> JwksFetcher for F
where
    F: Fn(String) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Jwks, JwksFetchError>> + Send + 'static,
{
    fn fetch<'a>(&'a self, jwks_uri: &'a str) -> BoxFuture<'a, Result<Jwks, JwksFetchError>> {
        Box::pin(self(jwks_uri.to_owned()))
    }
}

/// A key set could not be fetched.
#[derive(Debug, Clone, thiserror::Error)]
#[error("fetching the JWK set failed: {0}")]
pub struct JwksFetchError(Arc<dyn std::error::Error + Send + Sync>);

impl JwksFetchError {
    /// Wraps the fetcher's error.
    pub fn new(err: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self(Arc::from(err.into()))
    }
}

/// The configuration of `self_signed_tls_client_auth`: the fetcher for
/// `jwks_uri` key sets, how long a fetched set is kept, and how often a
/// certificate that is not in the set may trigger a refetch.
///
/// ```
/// use std::time::Duration;
/// use certbound_auth::{Jwks, JwksFetchError, SelfSignedTlsClientAuth};
///
/// let self_signed = SelfSignedTlsClientAuth::new()
///     .jwks_fetcher(|uri: String| async move {
///         // Fetch `uri` with the HTTP client of your choice.
///         Err::<Jwks, _>(JwksFetchError::new(format!("no HTTP client to fetch {uri}")))
///     })
///     .jwks_ttl(Duration::from_secs(3600))
///     .min_refetch_interval(Duration::from_secs(60));
/// # let _ = self_signed;
/// ```
pub struct SelfSignedTlsClientAuth {
    fetcher: Option<Arc<dyn JwksFetcher>>,
    ttl: Duration,
    min_refetch_interval: Duration,
    cache: Mutex<HashMap<String, CachedSet>>,
}

impl std::fmt::Debug for SelfSignedTlsClientAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SelfSignedTlsClientAuth")
            .field("jwks_fetcher", &self.fetcher.is_some())
            .field("jwks_ttl", &self.ttl)
            .field("min_refetch_interval", &self.min_refetch_interval)
            .finish_non_exhaustive()
    }
}

impl Default for SelfSignedTlsClientAuth {
    fn default() -> Self {
        Self::new()
    }
}

struct CachedSet {
    thumbprints: Arc<[Thumbprint]>,
    fetched_at: SystemTime,
    last_attempt: SystemTime,
}

/// How the registered set was obtained, for the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SetSource {
    Cached,
    Fetched,
    RefetchedAfterMiss,
    RefetchRateLimited,
}

impl SelfSignedTlsClientAuth {
    /// Self-signed client authentication with registered `jwks` only (no
    /// fetcher), a one-hour TTL and a one-minute refetch interval.
    pub fn new() -> Self {
        Self {
            fetcher: None,
            ttl: Duration::from_secs(3600),
            min_refetch_interval: Duration::from_secs(60),
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// Fetches `jwks_uri` key sets with this fetcher.
    pub fn jwks_fetcher(mut self, fetcher: impl JwksFetcher) -> Self {
        self.fetcher = Some(Arc::new(fetcher));
        self
    }

    /// How long a fetched key set is used before it is fetched again.
    pub fn jwks_ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// The shortest time between two fetches of one `jwks_uri` caused by a
    /// certificate that is not in the cached set.
    pub fn min_refetch_interval(mut self, interval: Duration) -> Self {
        self.min_refetch_interval = interval;
        self
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, CachedSet>> {
        // A panic while holding the lock cannot leave the map inconsistent.
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }

    async fn fetch(&self, uri: &str, now: SystemTime) -> Result<Arc<[Thumbprint]>, JwksFetchError> {
        let Some(fetcher) = &self.fetcher else {
            return Err(JwksFetchError::new("no JwksFetcher is configured"));
        };
        let jwks = fetcher.fetch(uri).await?;
        let (thumbprints, errors) = jwks.x5c_thumbprints();
        for e in errors {
            tracing::debug!(jwks_uri = uri, "ignoring a key of the fetched set: {e}");
        }
        let thumbprints: Arc<[Thumbprint]> = thumbprints.into();
        let mut cache = self.lock();
        let entry = cache.entry(uri.to_owned()).or_insert(CachedSet {
            thumbprints: thumbprints.clone(),
            fetched_at: now,
            last_attempt: now,
        });
        entry.thumbprints = thumbprints.clone();
        entry.fetched_at = now;
        Ok(thumbprints)
    }

    /// Whether `presented` is the `x5c[0]` of a key of the set at `uri`:
    /// from the cache while fresh; fetched when absent or stale; refetched
    /// once on a miss unless the last fetch was within the interval.
    pub(crate) async fn lookup(
        &self,
        uri: &str,
        presented: &Thumbprint,
        now: SystemTime,
    ) -> Result<(bool, usize, SetSource), JwksFetchError> {
        let (refetch, stale) = {
            let mut cache = self.lock();
            match cache.get_mut(uri) {
                Some(set) => {
                    let fresh = now < set.fetched_at + self.ttl;
                    if fresh && set.thumbprints.contains(presented) {
                        return Ok((true, set.thumbprints.len(), SetSource::Cached));
                    }
                    // A miss, or a stale set: fetch, unless the last attempt
                    // (successful or not) was within the interval.
                    if now < set.last_attempt + self.min_refetch_interval {
                        return Ok((
                            set.thumbprints.contains(presented),
                            set.thumbprints.len(),
                            SetSource::RefetchRateLimited,
                        ));
                    }
                    set.last_attempt = now;
                    (fresh, Some(set.thumbprints.clone()))
                }
                None => {
                    // Remember the attempt, so a failing fetch is rate-limited too.
                    cache.insert(
                        uri.to_owned(),
                        CachedSet {
                            thumbprints: Arc::from(Vec::new()),
                            fetched_at: SystemTime::UNIX_EPOCH,
                            last_attempt: now,
                        },
                    );
                    (false, None)
                }
            }
        };
        let set = match self.fetch(uri, now).await {
            Ok(set) => set,
            Err(e) => match stale {
                // Keep serving the set we had rather than refusing everyone.
                Some(set) if !set.is_empty() => {
                    tracing::debug!(jwks_uri = uri, error = %e, "refetch failed; using the cached set");
                    set
                }
                _ => return Err(e),
            },
        };
        let source = if refetch {
            SetSource::RefetchedAfterMiss
        } else {
            SetSource::Fetched
        };
        Ok((set.contains(presented), set.len(), source))
    }
}
