//! [`SelfSignedTlsClientAuth`]: mutual TLS with a registered self-signed
//! certificate (RFC 8705 §2.2), and the [`JwksFetcher`] behind `jwks_uri`.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use quick_cache::sync::{Cache, EntryAction, EntryResult};

use certbound_cert::Thumbprint;

use crate::ClientJwks;
use crate::registry::BoxFuture;

/// Fetches the key set published at a client's `jwks_uri`. The HTTP client
/// is the application's choice; implemented for async closures
/// `Fn(String) -> impl Future<Output = Result<ClientJwks, JwksFetchError>>`.
pub trait JwksFetcher: Send + Sync + 'static {
    /// The key set at `jwks_uri`.
    fn fetch<'a>(&'a self, jwks_uri: &'a str) -> BoxFuture<'a, Result<ClientJwks, JwksFetchError>>;
}

impl<F, Fut> JwksFetcher for F
where
    F: Fn(String) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<ClientJwks, JwksFetchError>> + Send + 'static,
{
    fn fetch<'a>(&'a self, jwks_uri: &'a str) -> BoxFuture<'a, Result<ClientJwks, JwksFetchError>> {
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
/// `jwks_uri` key sets, how long a fetched set is used, how old it may get
/// when refetching fails, and how often a certificate that is not in the
/// set may trigger a refetch.
///
/// ```
/// use std::time::Duration;
/// use certbound_auth::{ClientJwks, JwksFetchError, SelfSignedTlsClientAuth};
///
/// let self_signed = SelfSignedTlsClientAuth::new()
///     .jwks_fetcher(|uri: String| async move {
///         // Fetch `uri` with the HTTP client of your choice.
///         Err::<ClientJwks, _>(JwksFetchError::new(format!("no HTTP client to fetch {uri}")))
///     })
///     .jwks_ttl(Duration::from_secs(3600))
///     .jwks_max_age(Duration::from_secs(6 * 3600))
///     .min_refetch_interval(Duration::from_secs(60));
/// # let _ = self_signed;
/// ```
pub struct SelfSignedTlsClientAuth {
    fetcher: Option<Arc<dyn JwksFetcher>>,
    ttl: Duration,
    max_age: Duration,
    min_refetch_interval: Duration,
    cache: Cache<String, CachedSet>,
}

impl std::fmt::Debug for SelfSignedTlsClientAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SelfSignedTlsClientAuth")
            .field("jwks_fetcher", &self.fetcher.is_some())
            .field("jwks_ttl", &self.ttl)
            .field("jwks_max_age", &self.max_age)
            .field("min_refetch_interval", &self.min_refetch_interval)
            .finish_non_exhaustive()
    }
}

impl Default for SelfSignedTlsClientAuth {
    fn default() -> Self {
        Self::new()
    }
}

#[derive(Clone)]
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

/// The default number of `jwks_uri` key sets kept.
const DEFAULT_CAPACITY: usize = 10_000;

impl SelfSignedTlsClientAuth {
    /// Self-signed client authentication with registered `jwks` only (no
    /// fetcher), a one-hour TTL, a maximum age of one day, a one-minute
    /// refetch interval, and at most 10 000 key sets kept.
    pub fn new() -> Self {
        Self {
            fetcher: None,
            ttl: Duration::from_secs(3600),
            max_age: Duration::from_secs(86_400),
            min_refetch_interval: Duration::from_secs(60),
            cache: Cache::new(DEFAULT_CAPACITY),
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

    /// How old a fetched key set may get while refetching it fails: past
    /// this age the client is refused rather than trusted on an old set
    /// (a removed certificate must stop working). One day by default.
    pub fn jwks_max_age(mut self, max_age: Duration) -> Self {
        self.max_age = max_age;
        self
    }

    /// The shortest time between two fetches of one `jwks_uri` caused by a
    /// certificate that is not in the cached set.
    pub fn min_refetch_interval(mut self, interval: Duration) -> Self {
        self.min_refetch_interval = interval;
        self
    }

    /// How many `jwks_uri` key sets are kept at most (the least used go
    /// first); at least one, since the refetch rate limit lives there too.
    pub fn jwks_cache_capacity(mut self, n: u64) -> Self {
        self.cache = Cache::new(usize::try_from(n).unwrap_or(usize::MAX).max(1));
        self
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
        let fetched = CachedSet {
            thumbprints: thumbprints.clone(),
            fetched_at: now,
            last_attempt: now,
        };
        let set = fetched.clone();
        let entry = self.cache.entry(uri, None, |_, cached| {
            cached.thumbprints = set.thumbprints;
            cached.fetched_at = now;
            EntryAction::Retain(())
        });
        if let EntryResult::Vacant(guard) = entry {
            let _ = guard.insert(fetched);
        }
        Ok(thumbprints)
    }

    /// Whether `presented` is the `x5c[0]` of a key of the set at `uri`:
    /// from the cache while fresh; fetched when absent or stale; refetched
    /// once on a miss unless the last fetch was within the interval; never
    /// from a set older than the maximum age.
    pub(crate) async fn lookup(
        &self,
        uri: &str,
        presented: &Thumbprint,
        now: SystemTime,
    ) -> Result<(bool, usize, SetSource), JwksFetchError> {
        // Decided under the entry's lock, so that concurrent misses fetch once.
        let entry = self.cache.entry(uri, None, |_, set| {
            let fresh = within(now, set.fetched_at, self.ttl);
            if fresh && set.thumbprints.contains(presented) {
                return EntryAction::Retain(Decision::Answer(set.clone(), SetSource::Cached));
            }
            // A miss, or a stale set: fetch, unless the last attempt
            // (successful or not) was within the interval.
            if within(now, set.last_attempt, self.min_refetch_interval) {
                let source = SetSource::RefetchRateLimited;
                return EntryAction::Retain(Decision::Answer(set.clone(), source));
            }
            set.last_attempt = now;
            EntryAction::Retain(Decision::Fetch {
                had: Some((set.clone(), fresh)),
            })
        });
        let decision = match entry {
            EntryResult::Retained(decision) => decision,
            EntryResult::Vacant(guard) => {
                // Remember the attempt, so a failing fetch is rate-limited too.
                let _ = guard.insert(CachedSet {
                    thumbprints: Arc::from(Vec::new()),
                    fetched_at: SystemTime::UNIX_EPOCH,
                    last_attempt: now,
                });
                Decision::Fetch { had: None }
            }
            // The closure neither removes nor replaces, and there is no
            // timeout: these do not happen; fetch as for a new `jwks_uri`.
            EntryResult::Removed(..) | EntryResult::Replaced(..) | EntryResult::Timeout => {
                Decision::Fetch { had: None }
            }
        };
        let had = match decision {
            Decision::Answer(set, source) => {
                if set.fetched_at == SystemTime::UNIX_EPOCH {
                    return Err(JwksFetchError::new(
                        "no key set fetched yet, and the last attempt is too recent to retry",
                    ));
                }
                if !within(now, set.fetched_at, self.max_age) {
                    return Err(JwksFetchError::new(
                        "the cached key set is past its maximum age",
                    ));
                }
                return Ok((
                    set.thumbprints.contains(presented),
                    set.thumbprints.len(),
                    source,
                ));
            }
            Decision::Fetch { had } => had,
        };
        let refetch = had.as_ref().is_some_and(|(_, fresh)| *fresh);
        let set = match self.fetch(uri, now).await {
            Ok(set) => set,
            Err(e) => match had {
                // Keep serving the set we had rather than refusing everyone,
                // up to its maximum age.
                Some((set, _))
                    if !set.thumbprints.is_empty() && within(now, set.fetched_at, self.max_age) =>
                {
                    tracing::debug!(jwks_uri = uri, error = %e, "refetch failed; using the cached set");
                    set.thumbprints
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

/// Whether `now` is within `period` from `start` (always, for a period
/// too long to add to a time).
fn within(now: SystemTime, start: SystemTime, period: Duration) -> bool {
    start.checked_add(period).is_none_or(|end| now < end)
}

/// What a lookup does once the cache has been read.
enum Decision {
    Answer(CachedSet, SetSource),
    Fetch { had: Option<(CachedSet, bool)> },
}
