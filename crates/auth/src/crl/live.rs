//! The live `tls_client_auth` configuration: the configuration and the
//! CRLs in use, in one snapshot that requests read without a lock, and the
//! background task that keeps the CRLs fresh.
//!
//! Every change (a new configuration, a CRL that differs from the one
//! held) publishes a new snapshot with the next generation number; the
//! verification cache keys its entries by it, so nothing verified under an
//! older snapshot is served after the change.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError, Weak};
use std::time::{Duration, SystemTime};

use arc_swap::ArcSwapOption;
use certbound_cert::Certificate;
use tokio::sync::Notify;
use tokio::task::AbortHandle;
use tokio::time::Instant;

use super::{Crl, FileStamp, Source, distribution_points, issued_by_one_of};
use crate::TlsClientAuth;
use crate::cache::VerificationCache;
use crate::clock::Clock;

/// A failed refresh is tried again after at most this long.
const RETRY: Duration = Duration::from_secs(30);
/// A CRL close to (or past) its nextUpdate is fetched at most this often.
const MIN_GAP: Duration = Duration::from_secs(10);
/// How long the task sleeps when nothing is due (a new source wakes it).
const IDLE: Duration = Duration::from_secs(3600);
/// The longest wait: a longer one could overflow an [`Instant`].
const FAR: Duration = Duration::from_secs(30 * 365 * 86_400);

/// One snapshot of the `tls_client_auth` configuration.
pub(crate) struct TlsState {
    pub(crate) config: Arc<TlsClientAuth>,
    /// The CRLs in use: signature verified, the latest of each scope.
    pub(crate) crls: Vec<Crl>,
    /// Increases with every snapshot published.
    pub(crate) generation: u64,
    pub(crate) cache: Option<Arc<VerificationCache>>,
}

/// What is known of one CRL source.
struct SourceState {
    /// The last CRL read that verified.
    crl: Option<Crl>,
    stamp: Option<FileStamp>,
    /// When to refresh it (on the runtime's clock: the authenticator's
    /// [`Clock`] may be a test's, standing still); never for CRLs given as
    /// bytes.
    due: Option<Instant>,
    failures: u32,
}

impl SourceState {
    fn new(crl: Option<Crl>, stamp: Option<FileStamp>, due: Option<Instant>) -> Self {
        Self {
            crl,
            stamp,
            due,
            failures: 0,
        }
    }
}

/// What reading a source gave.
enum Read {
    Unchanged,
    Bytes(Vec<u8>, Option<FileStamp>),
}

/// The live configuration and its CRL sources.
pub(crate) struct LiveTls {
    current: ArcSwapOption<TlsState>,
    /// Every writer holds this lock, so snapshots are published in order.
    sources: Mutex<HashMap<Source, SourceState>>,
    clock: Arc<dyn Clock>,
    wake: Arc<Notify>,
    /// Whether the configuration has a source to refresh or follows
    /// distribution points, and the task once started: read on every
    /// verification, so no lock.
    wants_task: AtomicBool,
    task: OnceLock<AbortHandle>,
    /// CRLs that differed from the one held, taken since the start.
    pub(crate) crl_updates: AtomicU64,
    /// Failed CRL refreshes since the start.
    pub(crate) crl_refresh_failures: AtomicU64,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Reads a CRL file of at most `max` bytes, with its stamp.
pub(crate) fn read_file(path: &Path, max: usize) -> Result<(Vec<u8>, FileStamp), String> {
    let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
    let stamp = stamp_of(&meta, max)?;
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    Ok((bytes, stamp))
}

fn stamp_of(meta: &std::fs::Metadata, max: usize) -> Result<FileStamp, String> {
    if usize::try_from(meta.len()).map_or(true, |len| len > max) {
        return Err(format!(
            "{} bytes, more than the limit of {max}",
            meta.len()
        ));
    }
    let modified = meta.modified().map_err(|e| e.to_string())?;
    Ok((modified, meta.len()))
}

/// When to refresh a source next, having just read it at `now` (the
/// authenticator's clock, against which nextUpdate is measured).
fn schedule(config: &TlsClientAuth, crl: Option<&Crl>, now: SystemTime) -> Instant {
    let interval = config.crl_refresh_interval;
    let wait = match crl {
        // Ahead of nextUpdate by the margin, but not in a tight loop when
        // the publisher is late.
        Some(crl) => match crl
            .next_update
            .checked_sub(config.crl_refresh_margin)
            .and_then(|t| t.duration_since(now).ok())
            .filter(|until| !until.is_zero())
        {
            Some(until) => until.min(interval),
            None => interval.min(MIN_GAP),
        },
        None => interval.min(RETRY),
    };
    // A huge interval would overflow the Instant.
    Instant::now() + wait.min(FAR)
}

impl LiveTls {
    pub(crate) fn new(config: Option<TlsClientAuth>, clock: Arc<dyn Clock>) -> Self {
        let live = Self {
            current: ArcSwapOption::empty(),
            sources: Mutex::new(HashMap::new()),
            clock,
            wake: Arc::new(Notify::new()),
            wants_task: AtomicBool::new(false),
            task: OnceLock::new(),
            crl_updates: AtomicU64::new(0),
            crl_refresh_failures: AtomicU64::new(0),
        };
        if let Some(config) = config {
            live.install(config);
        }
        live
    }

    /// The current snapshot, if `tls_client_auth` is enabled.
    pub(crate) fn load(&self) -> Option<Arc<TlsState>> {
        self.current.load_full()
    }

    /// Takes a new configuration: the sources it names (keeping what is
    /// known of those it shares with the previous one), its CRLs checked
    /// against its CAs, published as the next generation.
    pub(crate) fn install(&self, config: TlsClientAuth) {
        let now = self.clock.now();
        let config = Arc::new(config);
        let mut sources = lock(&self.sources);
        let mut old = std::mem::take(&mut *sources);
        let verified = |source: &Source, crl: Crl| -> Option<Crl> {
            match crl.verify(config.known_cas()) {
                Ok(()) => Some(crl),
                Err(reason) => {
                    tracing::warn!(source = %source, issuer = crl.issuer_name(), reason, "CRL not used");
                    None
                }
            }
        };
        for crl in &config.crls {
            let source = Source::Given(crl.digest);
            let state = SourceState::new(verified(&source, crl.clone()), None, None);
            sources.insert(source, state);
        }
        for (path, crl, stamp) in &config.crl_files {
            let source = Source::File(path.clone());
            // The configuration read the file just now; keep what the
            // refresher read if it is later still (and of the same issuer:
            // a new configuration may change a file's issuer).
            let (crl, stamp) = match old.remove(&source) {
                Some(SourceState {
                    crl: Some(held),
                    stamp: held_stamp,
                    ..
                }) if held.this_update > crl.this_update
                    && held.list.issuer() == crl.list.issuer() =>
                {
                    (held, held_stamp)
                }
                _ => (crl.clone(), Some(*stamp)),
            };
            let crl = verified(&source, crl);
            let due = Some(schedule(&config, crl.as_ref(), now));
            sources.insert(source, SourceState::new(crl, stamp, due));
        }
        let points: Vec<Source> = old
            .keys()
            .filter(|s| config.crl_distribution_points && matches!(s, Source::DistributionPoint(_)))
            .cloned()
            .collect();
        let urls = config.crl_urls.iter().map(|u| Source::Url(u.clone()));
        for source in urls.chain(points) {
            let state = match old.remove(&source) {
                Some(mut state) => {
                    state.crl = state.crl.and_then(|crl| verified(&source, crl));
                    state
                }
                None => SourceState::new(None, None, Some(Instant::now())),
            };
            sources.insert(source, state);
        }
        if (!config.crl_urls.is_empty() || config.crl_distribution_points)
            && config.crl_fetcher.is_none()
        {
            tracing::warn!(
                "CRL URLs or distribution points are configured without a CrlFetcher: they cannot be fetched"
            );
        }

        // The cache survives when its settings do: the new generation keeps
        // its old entries from being served.
        let previous = self.current.load_full();
        let cache = previous
            .as_ref()
            .and_then(|p| p.cache.clone())
            .filter(|c| c.settings() == (config.cache_capacity, config.cache_ttl))
            .or_else(|| VerificationCache::for_config(&config).map(Arc::new));
        let wants_task =
            config.crl_distribution_points || sources.values().any(|s| s.due.is_some());
        self.wants_task.fetch_or(wants_task, Ordering::Relaxed);
        self.publish(&sources, config, cache);
        drop(sources);
        self.wake.notify_one();
    }

    /// Publishes the next snapshot. Called with the sources locked.
    fn publish(
        &self,
        sources: &HashMap<Source, SourceState>,
        config: Arc<TlsClientAuth>,
        cache: Option<Arc<VerificationCache>>,
    ) {
        // The latest CRL of each scope: webpki takes the first that fits.
        let mut latest: HashMap<(&[u8], Option<&[u8]>), &Crl> = HashMap::new();
        for crl in sources.values().filter_map(|s| s.crl.as_ref()) {
            let slot = latest.entry(crl.scope()).or_insert(crl);
            if (crl.this_update, crl.next_update) > (slot.this_update, slot.next_update) {
                *slot = crl;
            }
        }
        let crls = latest.into_values().cloned().collect();
        let generation = self.current.load().as_ref().map_or(0, |s| s.generation) + 1;
        self.current.store(Some(Arc::new(TlsState {
            config,
            crls,
            generation,
            cache,
        })));
    }

    /// Starts the refresher on the current tokio runtime, once, when a
    /// source needs refreshing. Without a runtime it starts later (the
    /// authenticator calls this on each verification).
    pub(crate) fn ensure_task(self: &Arc<Self>) {
        if !self.wants_task.load(Ordering::Relaxed) || self.task.get().is_some() {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::debug!(
                "no tokio runtime yet: CRL refreshes start with the first verification"
            );
            return;
        };
        // Spawned once: a racing caller waits for this one's handle.
        self.task.get_or_init(|| {
            let task = run(Arc::downgrade(self), self.wake.clone());
            runtime.spawn(task).abort_handle()
        });
    }

    /// Ends the refresher (the authenticator is gone). The task holds the
    /// state while it fetches, so it must be ended from outside.
    pub(crate) fn stop(&self) {
        if let Some(task) = self.task.get() {
            task.abort();
        }
    }

    /// Reads every refreshable source whose time has come (all of them
    /// when `force`), and returns when the next one is due.
    pub(crate) async fn refresh(&self, force: bool) -> Option<Instant> {
        let now = Instant::now();
        let state = self.load()?;
        let due: Vec<(Source, Option<FileStamp>)> = lock(&self.sources)
            .iter()
            .filter(|(_, s)| s.due.is_some_and(|d| force || d <= now))
            .map(|(k, s)| (k.clone(), s.stamp))
            .collect();
        for (source, stamp) in due {
            let read = read(&state.config, &source, stamp).await;
            self.apply(&source, read);
        }
        lock(&self.sources).values().filter_map(|s| s.due).min()
    }

    /// Takes what reading `source` gave, under the lock.
    fn apply(&self, source: &Source, read: Result<Read, String>) {
        let now = self.clock.now();
        let mut sources = lock(&self.sources);
        let Some(current) = self.current.load_full() else {
            return;
        };
        let config = &current.config;
        // Removed by a new configuration while it was read.
        let Some(entry) = sources.get_mut(source) else {
            return;
        };
        let outcome = read.and_then(|read| match read {
            Read::Unchanged => Ok(None),
            Read::Bytes(bytes, stamp) => {
                let crl = Crl::parse(&bytes, config.max_crl_size)?;
                if let Some(held) = &entry.crl {
                    if held.digest == crl.digest {
                        entry.stamp = stamp;
                        return Ok(None);
                    }
                    // Another CA's CRL would leave the held issuer's
                    // certificates without one (RFC 5280 §6.3.3 (b)).
                    if crl.list.issuer() != held.list.issuer() {
                        return Err(format!(
                            "issued by {}, not by {}, the issuer of the CRL held",
                            crl.issuer_name(),
                            held.issuer_name()
                        ));
                    }
                    // An old CRL served again (a replay, a stale mirror)
                    // would undo revocations.
                    if crl.this_update < held.this_update {
                        return Err("older (thisUpdate) than the CRL held".to_owned());
                    }
                }
                crl.verify(config.known_cas())
                    .map_err(|reason| format!("not used: {reason}"))?;
                Ok(Some((crl, stamp)))
            }
        });
        match outcome {
            Ok(changed) => {
                if entry.failures > 0 {
                    tracing::info!(source = %source, failures = entry.failures, "CRL refresh works again");
                }
                entry.failures = 0;
                let changed = changed.map(|(crl, stamp)| {
                    tracing::info!(source = %source, issuer = crl.issuer_name(), "CRL updated");
                    entry.crl = Some(crl);
                    entry.stamp = stamp;
                });
                entry.due = Some(schedule(config, entry.crl.as_ref(), now));
                if changed.is_some() {
                    self.crl_updates.fetch_add(1, Ordering::Relaxed);
                    self.publish(&sources, current.config.clone(), current.cache.clone());
                }
            }
            Err(error) => {
                entry.failures = entry.failures.saturating_add(1);
                entry.due = Some(Instant::now() + config.crl_refresh_interval.min(RETRY));
                self.crl_refresh_failures.fetch_add(1, Ordering::Relaxed);
                match &entry.crl {
                    Some(held) if now >= held.next_update => {
                        let until = held.next_update.checked_add(config.crl_grace_period);
                        let verdict = match until {
                            Some(until) if now >= until => "its issuer's certificates are refused",
                            _ => {
                                "its issuer's certificates are accepted within danger_crl_grace_period"
                            }
                        };
                        tracing::warn!(
                            source = %source,
                            issuer = held.issuer_name(),
                            failures = entry.failures,
                            error,
                            "CRL refresh failed and the CRL held is past its nextUpdate: {verdict}"
                        );
                    }
                    _ => tracing::warn!(
                        source = %source,
                        failures = entry.failures,
                        error,
                        "CRL refresh failed"
                    ),
                }
            }
        }
    }

    /// Adds the CRL distribution points named in `certs`, certificates of
    /// a path verified to an anchor (those issued by a CA of the
    /// configuration: the CRL of another could not be used), up to the
    /// limit, and wakes the refresher to fetch the new ones.
    pub(crate) fn note_distribution_points(&self, state: &TlsState, certs: &[Certificate]) {
        let config = &state.config;
        if !config.crl_distribution_points {
            return;
        }
        let urls: Vec<String> = certs
            .iter()
            .filter(|c| issued_by_one_of(c, config.known_cas()))
            .flat_map(distribution_points)
            .collect();
        if urls.is_empty() {
            return;
        }
        let mut added = false;
        {
            let mut sources = lock(&self.sources);
            let mut count = sources
                .keys()
                .filter(|s| matches!(s, Source::DistributionPoint(_)))
                .count();
            for url in urls {
                let source = Source::DistributionPoint(url);
                if sources.contains_key(&source) {
                    continue;
                }
                if count >= config.max_crl_distribution_points {
                    tracing::warn!(source = %source, max = config.max_crl_distribution_points, "CRL distribution point not followed: limit reached");
                    continue;
                }
                tracing::debug!(source = %source, "following a new CRL distribution point");
                sources.insert(source, SourceState::new(None, None, Some(Instant::now())));
                count += 1;
                added = true;
            }
        }
        if added {
            self.wake.notify_one();
        }
    }
}

/// Reads `source`: a file when its stamp changed, a URL always.
async fn read(
    config: &TlsClientAuth,
    source: &Source,
    stamp: Option<FileStamp>,
) -> Result<Read, String> {
    match source {
        Source::Given(_) => Ok(Read::Unchanged),
        Source::File(path) => {
            let meta = tokio::fs::metadata(path).await.map_err(|e| e.to_string())?;
            let now = stamp_of(&meta, config.max_crl_size)?;
            if Some(now) == stamp {
                return Ok(Read::Unchanged);
            }
            let bytes = tokio::fs::read(path).await.map_err(|e| e.to_string())?;
            Ok(Read::Bytes(bytes, Some(now)))
        }
        Source::Url(url) | Source::DistributionPoint(url) => {
            let Some(fetcher) = &config.crl_fetcher else {
                return Err("no CrlFetcher is configured".to_owned());
            };
            let bytes = fetcher.fetch(url).await.map_err(|e| e.to_string())?;
            Ok(Read::Bytes(bytes, None))
        }
    }
}

/// The refresher: refreshes what is due, sleeps until the next one or a
/// wake-up (a new source), and ends with the authenticator.
async fn run(live: Weak<LiveTls>, wake: Arc<Notify>) {
    loop {
        let next = {
            let Some(live) = live.upgrade() else {
                return;
            };
            live.refresh(false).await
        };
        let next = next.unwrap_or_else(|| Instant::now() + IDLE);
        // Either way, look again.
        let _ = tokio::time::timeout_at(next, wake.notified()).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TrustStore;
    use certbound_testkit::TestCa;

    /// How long after now `schedule` puts the next refresh, in whole seconds.
    fn wait(config: &TlsClientAuth, next_update_in: Option<u64>) -> u64 {
        let ca = TestCa::new("Schedule CA");
        let now = SystemTime::now();
        let crl = next_update_in.map(|s| {
            let der = ca.crl_with(
                &[],
                now - Duration::from_secs(60),
                now + Duration::from_secs(s),
            );
            Crl::parse(&der, 1 << 20).unwrap()
        });
        let before = Instant::now();
        let due = schedule(config, crl.as_ref(), now);
        // The CRL's times are whole seconds: round to the nearest.
        (due - before + Duration::from_millis(500)).as_secs()
    }

    #[test]
    fn refresh_comes_at_the_earlier_of_the_interval_and_next_update_minus_the_margin() {
        let config = TlsClientAuth::new(TrustStore::new())
            .crl_refresh_interval(Duration::from_secs(300))
            .crl_refresh_margin(Duration::from_secs(60));
        // Far from nextUpdate: the interval.
        assert_eq!(wait(&config, Some(3600)), 300);
        // Close to it: the margin ahead of it (give or take the second
        // nextUpdate was truncated to).
        assert!((39..=40).contains(&wait(&config, Some(100))));
        // Within the margin or past it (a late publisher): soon, not in a loop.
        assert_eq!(wait(&config, Some(30)), 10);
        assert_eq!(wait(&config, Some(0)), 10);
        // Nothing read yet (a failure): retried within 30 s.
        assert_eq!(wait(&config, None), 30);
        // A short interval bounds every wait.
        let short = config.crl_refresh_interval(Duration::from_secs(2));
        assert_eq!(wait(&short, Some(30)), 2);
        assert_eq!(wait(&short, None), 2);
    }
}
