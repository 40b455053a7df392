//! [`CachedValidator`]: an opt-in cache of verified tokens.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use quick_cache::sync::Cache;
use sha2::{Digest, Sha256};

use super::{AccessTokenValidator, TokenError};
use crate::TokenClaims;

/// The SHA-256 of a token: the cache keeps no copy of the tokens it
/// remembers, and every key has the same small size.
type Key = [u8; 32];

#[derive(Clone)]
struct Entry {
    claims: TokenClaims,
    /// The earliest of the token's `exp` and `max_ttl` after it was
    /// verified: the entry is never answered from then on.
    until: SystemTime,
}

/// Remembers the claims of tokens `V` accepted, so a token presented again
/// is not verified again (as Envoy's `jwt_authn` cache does).
///
/// An entry is answered no longer than the token's `exp` (tokens without
/// `exp` are not cached) and no longer than [`max_ttl`](Self::max_ttl)
/// (5 minutes by default); refusals are not cached. The cache is a bounded
/// [quick_cache](https://docs.rs/quick_cache) cache of at most
/// [`capacity`](Self::capacity) tokens (10 000 by default), keyed by the
/// token's SHA-256.
///
/// Only the token's own verification is remembered: `BoundTokenLayer`
/// still checks its `cnf` against the certificate of every request. With
/// an introspection validator, a token revoked at the authorization server
/// stays accepted until its entry expires: choose `max_ttl` accordingly.
///
/// ```
/// use std::time::Duration;
/// use certbound_binding::{BoundTokenLayer, CachedValidator, JwtValidator};
/// # fn validator() -> JwtValidator {
/// #     let key = josekit::jws::ES256.generate_key_pair().unwrap();
/// #     let mut jwks = josekit::jwk::JwkSet::new();
/// #     jwks.push_key(key.to_jwk_public_key());
/// #     JwtValidator::builder(&jwks).issuer("https://as").audience("https://rs").build().unwrap()
/// # }
///
/// let layer = BoundTokenLayer::new(
///     CachedValidator::new(validator())
///         .capacity(50_000)
///         .max_ttl(Duration::from_secs(60)),
/// );
/// # let _ = layer;
/// ```
pub struct CachedValidator<V> {
    inner: V,
    cache: Cache<Key, Entry>,
    capacity: u64,
    max_ttl: Duration,
    hits: AtomicU64,
}

impl<V> fmt::Debug for CachedValidator<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CachedValidator")
            .field("capacity", &self.capacity)
            .field("max_ttl", &self.max_ttl)
            .finish_non_exhaustive()
    }
}

fn cache(capacity: u64) -> Cache<Key, Entry> {
    Cache::new(usize::try_from(capacity).unwrap_or(usize::MAX).max(1))
}

fn key(token: &str) -> Key {
    Sha256::digest(token.as_bytes()).into()
}

impl<V: AccessTokenValidator> CachedValidator<V> {
    /// Caches what `inner` accepts: 10 000 tokens, each at most 5 minutes.
    pub fn new(inner: V) -> Self {
        Self {
            inner,
            cache: cache(10_000),
            capacity: 10_000,
            max_ttl: Duration::from_secs(300),
            hits: AtomicU64::new(0),
        }
    }

    /// How many tokens are kept at most. Zero turns the cache off.
    pub fn capacity(mut self, tokens: u64) -> Self {
        self.cache = cache(tokens);
        self.capacity = tokens;
        self
    }

    /// How long a token is kept at most (never beyond its `exp`).
    /// `Duration::MAX` sets no cap: tokens are kept until their `exp`.
    pub fn max_ttl(mut self, ttl: Duration) -> Self {
        self.max_ttl = ttl;
        self
    }

    /// The wrapped validator.
    pub fn get_ref(&self) -> &V {
        &self.inner
    }

    /// How many validations the cache answered.
    pub fn hits(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }

    /// The claims of `token`, accepted earlier and not past its deadline at
    /// `now`.
    fn lookup(&self, token: &str, now: SystemTime) -> Option<TokenClaims> {
        let key = key(token);
        let entry = self.cache.get(&key)?;
        if now < entry.until {
            self.hits.fetch_add(1, Ordering::Relaxed);
            Some(entry.claims)
        } else {
            self.cache.remove(&key);
            None
        }
    }

    fn remember(&self, token: &str, claims: &TokenClaims, now: SystemTime) {
        let Some(exp) = claims.expires_at() else {
            return;
        };
        // A `max_ttl` too long to add to the clock is no cap: until `exp`.
        let until = now
            .checked_add(self.max_ttl)
            .map_or(exp, |cap| exp.min(cap));
        let Ok(ttl) = until.duration_since(now) else {
            return;
        };
        if self.capacity == 0 || ttl.is_zero() {
            return;
        }
        let entry = Entry {
            claims: claims.clone(),
            until,
        };
        self.cache.insert(key(token), entry);
    }
}

impl<V: AccessTokenValidator> AccessTokenValidator for CachedValidator<V> {
    async fn validate(&self, token: &str) -> Result<TokenClaims, TokenError> {
        if let Some(claims) = self.lookup(token, SystemTime::now()) {
            return Ok(claims);
        }
        let claims = self.inner.validate(token).await?;
        self.remember(token, &claims, SystemTime::now());
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use certbound_testkit::block_on;
    use serde_json::json;
    use std::sync::Arc;
    use std::sync::atomic::AtomicUsize;

    fn claims(exp: Option<SystemTime>) -> TokenClaims {
        let mut m = serde_json::Map::new();
        m.insert("sub".into(), json!("alice"));
        if let Some(exp) = exp {
            let secs = exp
                .duration_since(SystemTime::UNIX_EPOCH)
                .unwrap()
                .as_secs();
            m.insert("exp".into(), json!(secs));
        }
        TokenClaims::from_map(m).unwrap()
    }

    fn counting(
        exp: Option<SystemTime>,
        ok: bool,
    ) -> (
        Arc<AtomicUsize>,
        impl Fn(String) -> std::future::Ready<Result<TokenClaims, TokenError>> + Send + Sync + 'static,
    ) {
        let calls = Arc::new(AtomicUsize::new(0));
        let c = calls.clone();
        (calls, move |_token: String| {
            c.fetch_add(1, Ordering::Relaxed);
            std::future::ready(if ok {
                Ok(claims(exp))
            } else {
                Err(TokenError::BadSignature)
            })
        })
    }

    fn in_ten_minutes() -> Option<SystemTime> {
        Some(SystemTime::now() + Duration::from_secs(600))
    }

    #[test]
    fn accepted_token_is_verified_once() {
        let (calls, v) = counting(in_ten_minutes(), true);
        let v = CachedValidator::new(v);
        for _ in 0..3 {
            assert!(block_on(v.validate("a.b.c")).is_ok());
        }
        assert_eq!(calls.load(Ordering::Relaxed), 1);
        assert_eq!(v.hits(), 2);
        // Another token is another key.
        assert!(block_on(v.validate("a.b.d")).is_ok());
        assert_eq!(calls.load(Ordering::Relaxed), 2);
    }

    #[test]
    fn refused_tokens_and_tokens_without_exp_are_not_cached() {
        let (calls, v) = counting(in_ten_minutes(), false);
        let v = CachedValidator::new(v);
        for _ in 0..2 {
            assert_eq!(block_on(v.validate("t")), Err(TokenError::BadSignature));
        }
        assert_eq!(calls.load(Ordering::Relaxed), 2);
        let (calls, v) = counting(None, true);
        let v = CachedValidator::new(v);
        for _ in 0..2 {
            assert!(block_on(v.validate("t")).is_ok());
        }
        assert_eq!(calls.load(Ordering::Relaxed), 2);
    }

    #[test]
    fn entry_is_not_kept_past_the_tokens_exp() {
        let (calls, v) = counting(in_ten_minutes(), true);
        let v = CachedValidator::new(v);
        let now = SystemTime::now();
        v.remember("t", &claims(Some(now + Duration::from_secs(2))), now);
        assert!(v.lookup("t", now + Duration::from_secs(1)).is_some());
        assert!(v.lookup("t", now + Duration::from_secs(3)).is_none());
        // And gone: the next validation calls the inner validator.
        assert!(block_on(v.validate("t")).is_ok());
        assert_eq!(calls.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn max_ttl_bounds_the_entry() {
        let (_, v) = counting(None, true);
        let v = CachedValidator::new(v).max_ttl(Duration::from_secs(10));
        let now = SystemTime::now();
        v.remember("t", &claims(Some(now + Duration::from_secs(3600))), now);
        assert!(v.lookup("t", now + Duration::from_secs(9)).is_some());
        assert!(v.lookup("t", now + Duration::from_secs(11)).is_none());
    }

    #[test]
    fn expired_token_is_not_remembered() {
        let (_, v) = counting(None, true);
        let v = CachedValidator::new(v);
        let now = SystemTime::now();
        v.remember("t", &claims(Some(now - Duration::from_secs(1))), now);
        assert!(v.lookup("t", now).is_none());
    }

    #[test]
    fn capacity_bounds_the_entries_and_zero_keeps_none() {
        let (_, v) = counting(in_ten_minutes(), true);
        let v = CachedValidator::new(v).capacity(10);
        for i in 0..100 {
            assert!(block_on(v.validate(&format!("token-{i}"))).is_ok());
        }
        assert!(v.cache.len() <= 10, "{}", v.cache.len());

        let (calls, v) = counting(in_ten_minutes(), true);
        let v = CachedValidator::new(v).capacity(0);
        for _ in 0..2 {
            assert!(block_on(v.validate("a")).is_ok());
        }
        assert_eq!(calls.load(Ordering::Relaxed), 2);
        assert_eq!(v.hits(), 0);
    }

    #[test]
    fn long_tokens_differing_only_in_the_middle_are_told_apart() {
        let (calls, v) = counting(in_ten_minutes(), true);
        let v = CachedValidator::new(v);
        let a = format!("{}a{}", "x".repeat(100), "y".repeat(100));
        let b = format!("{}b{}", "x".repeat(100), "y".repeat(100));
        assert!(block_on(v.validate(&a)).is_ok());
        assert!(v.lookup(&b, SystemTime::now()).is_none());
        assert!(v.lookup(&a, SystemTime::now()).is_some());
        assert_eq!(calls.load(Ordering::Relaxed), 1);
    }
}
