//! [`CachedValidator`]: an opt-in cache of verified tokens.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use std::hash::BuildHasher;

use super::{AccessTokenValidator, TokenError};
use crate::TokenClaims;

struct Cached {
    /// The token itself: a hit must be this very token, not one whose
    /// 64-bit hash collides with it.
    token: Box<[u8]>,
    claims: TokenClaims,
    expires_at: SystemTime,
    ttl: Duration,
}

struct Expiry;

impl moka::Expiry<u64, Arc<Cached>> for Expiry {
    fn expire_after_create(
        &self,
        _key: &u64,
        value: &Arc<Cached>,
        _created_at: Instant,
    ) -> Option<Duration> {
        Some(value.ttl)
    }
}

/// Remembers the claims of tokens `V` accepted, keyed by a hash of the
/// token (foldhash, seeded at random per cache) and compared in full on a
/// hit, so a token presented again is not verified again (as Envoy's
/// `jwt_authn` cache does).
///
/// An entry is kept no longer than the token's `exp` (tokens without `exp`
/// are not cached) and no longer than [`max_ttl`](Self::max_ttl) (5 minutes
/// by default), in a bounded cache (10 000 tokens by default). Only the
/// token's own verification is remembered: `BoundTokenLayer` still checks
/// its `cnf` against the certificate of every request. With an
/// introspection validator, a token revoked at the authorization server
/// stays accepted until its entry expires: choose `max_ttl` accordingly.
///
/// ```
/// use std::time::Duration;
/// use certbound_binding::{BoundTokenLayer, CachedValidator, JwtValidator};
/// # fn validator() -> JwtValidator {
/// #     let key = josekit::jws::ES256.generate_key_pair().unwrap();
/// #     let mut jwks = josekit::jwk::JwkSet::new();
/// #     jwks.push_key(key.to_jwk_public_key());
/// #     JwtValidator::builder(&jwks).build().unwrap()
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
    cache: moka::sync::Cache<u64, Arc<Cached>>,
    hasher: foldhash::quality::RandomState,
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

fn build(capacity: u64) -> moka::sync::Cache<u64, Arc<Cached>> {
    moka::sync::Cache::builder()
        .max_capacity(capacity)
        .expire_after(Expiry)
        .build()
}

impl<V: AccessTokenValidator> CachedValidator<V> {
    /// Caches what `inner` accepts: 10 000 tokens, each at most 5 minutes.
    pub fn new(inner: V) -> Self {
        Self {
            inner,
            cache: build(10_000),
            hasher: foldhash::quality::RandomState::default(),
            capacity: 10_000,
            max_ttl: Duration::from_secs(300),
            hits: AtomicU64::new(0),
        }
    }

    /// How many tokens are kept at most.
    pub fn capacity(mut self, tokens: u64) -> Self {
        self.capacity = tokens;
        self.cache = build(tokens);
        self
    }

    /// How long a token is kept at most (never beyond its `exp`).
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

    fn key(&self, token: &str) -> u64 {
        self.hasher.hash_one(token.as_bytes())
    }

    /// The claims of `token`, accepted earlier and not yet expired.
    fn lookup(&self, token: &str, now: SystemTime) -> Option<TokenClaims> {
        let key = &self.key(token);
        let hit = self.cache.get(key)?;
        if !same(&hit.token, token.as_bytes()) {
            return None;
        }
        if now < hit.expires_at {
            self.hits.fetch_add(1, Ordering::Relaxed);
            Some(hit.claims.clone())
        } else {
            self.cache.invalidate(key);
            None
        }
    }

    fn remember(&self, token: &str, claims: &TokenClaims, now: SystemTime) {
        let Some(exp) = claims.expires_at() else {
            return;
        };
        let until = exp.min(now + self.max_ttl);
        if let Ok(ttl) = until.duration_since(now) {
            if !ttl.is_zero() {
                self.cache.insert(
                    self.key(token),
                    Arc::new(Cached {
                        token: token.as_bytes().into(),
                        claims: claims.clone(),
                        expires_at: until,
                        ttl,
                    }),
                );
            }
        }
    }
}

impl<V: AccessTokenValidator> AccessTokenValidator for CachedValidator<V> {
    fn validate(
        &self,
        token: &str,
    ) -> impl Future<Output = Result<TokenClaims, TokenError>> + Send {
        let hit = self.lookup(token, SystemTime::now());
        async move {
            if let Some(claims) = hit {
                return Ok(claims);
            }
            let claims = self.inner.validate(token).await?;
            self.remember(token, &claims, SystemTime::now());
            Ok(claims)
        }
    }
}

/// Equality of two byte strings in a time that depends on their lengths
/// only.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
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

    fn block_on<F: Future>(f: F) -> F::Output {
        let mut f = std::pin::pin!(f);
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        loop {
            if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {
                return v;
            }
        }
    }

    #[test]
    fn accepted_token_is_verified_once() {
        let (calls, v) = counting(Some(SystemTime::now() + Duration::from_secs(600)), true);
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
        let (calls, v) = counting(Some(SystemTime::now() + Duration::from_secs(600)), false);
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
        let (calls, v) = counting(Some(SystemTime::now() + Duration::from_secs(600)), true);
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
    fn a_hit_is_the_same_token_not_only_the_same_key() {
        let (_, v) = counting(None, true);
        let v = CachedValidator::new(v);
        let now = SystemTime::now();
        v.remember("t1", &claims(Some(now + Duration::from_secs(60))), now);
        // Another token stored under t1's key (as a hash collision would).
        v.cache.insert(
            v.key("t2"),
            Arc::new(Cached {
                token: b"t1".as_slice().into(),
                claims: claims(Some(now + Duration::from_secs(60))),
                expires_at: now + Duration::from_secs(60),
                ttl: Duration::from_secs(60),
            }),
        );
        assert!(v.lookup("t1", now).is_some());
        assert!(v.lookup("t2", now).is_none());
        assert!(same(b"abc", b"abc") && !same(b"abc", b"abd") && !same(b"ab", b"abc"));
    }
}
