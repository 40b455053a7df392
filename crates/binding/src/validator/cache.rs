//! [`CachedValidator`]: an opt-in cache of verified tokens.

use std::fmt;
use std::future::Future;
use std::hash::BuildHasher;
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use subtle::ConstantTimeEq;

use super::{AccessTokenValidator, TokenError};
use crate::TokenClaims;

/// The most slots a cache takes, whatever [`CachedValidator::capacity`]
/// asks for (about 24 MiB of slots, before any token is stored).
const MAX_SLOTS: u64 = 1 << 20;

/// How many bytes at each end of a token pick its slot.
const HASHED: usize = 48;

struct Cached {
    /// The token itself: a hit must be this very token, not one whose
    /// 64-bit hash collides with it.
    token: Box<[u8]>,
    claims: TokenClaims,
    expires_at: SystemTime,
}

/// Remembers the claims of tokens `V` accepted, so a token presented again
/// is not verified again (as Envoy's `jwt_authn` cache does).
///
/// An entry is answered no longer than the token's `exp` (tokens without
/// `exp` are not cached) and no longer than [`max_ttl`](Self::max_ttl)
/// (5 minutes by default). Only tokens of RFC 6750 `b64token` syntax are
/// cached, so that a hit is answered by
/// [`recall`](AccessTokenValidator::recall) before the syntax check. The
/// cache is a bounded direct-mapped table of [`capacity`](Self::capacity)
/// slots (10 000 by default): a hash of the token's length and its first
/// and last 48 bytes (foldhash, seeded at random per cache) picks the slot,
/// a hit requires the stored token to equal the presented one in full
/// (compared in a time that depends only on the lengths), and a new token
/// replaces whatever its slot held. An expired entry is never answered, and is freed
/// when its token comes back; memory is bounded by the capacity.
/// The lookup takes a shared read lock on one slot and allocates nothing.
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
    slots: Box<[RwLock<Option<Cached>>]>,
    hasher: foldhash::quality::RandomState,
    max_ttl: Duration,
    hits: Counter,
}

/// The hit counter, on a cache line of its own: every hit on either core
/// writes it, and the fields every lookup reads must not share its line.
#[derive(Default)]
#[repr(align(128))]
struct Counter(AtomicU64);

impl<V> fmt::Debug for CachedValidator<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CachedValidator")
            .field("capacity", &self.slots.len())
            .field("max_ttl", &self.max_ttl)
            .finish_non_exhaustive()
    }
}

fn slots(capacity: u64) -> Box<[RwLock<Option<Cached>>]> {
    (0..capacity.min(MAX_SLOTS))
        .map(|_| RwLock::new(None))
        .collect()
}

impl<V: AccessTokenValidator> CachedValidator<V> {
    /// Caches what `inner` accepts: 10 000 slots, each entry at most 5
    /// minutes.
    pub fn new(inner: V) -> Self {
        Self {
            inner,
            slots: slots(10_000),
            hasher: foldhash::quality::RandomState::default(),
            max_ttl: Duration::from_secs(300),
            hits: Counter::default(),
        }
    }

    /// How many tokens are kept at most (the number of slots, at most
    /// 1 048 576). Zero turns the cache off.
    pub fn capacity(mut self, tokens: u64) -> Self {
        self.slots = slots(tokens);
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
        self.hits.0.load(Ordering::Relaxed)
    }

    /// The slot of `token`: a hash of its length and of its first and last
    /// [`HASHED`] bytes (the whole of a token up to twice that). A JWT ends
    /// in its signature and an opaque token is random throughout, so this
    /// spreads tokens as well as hashing them whole, for a fraction of the
    /// work on a token of several hundred bytes; only tokens the inner
    /// validator accepted are stored, and a hit compares the whole token.
    fn slot(&self, token: &[u8]) -> Option<&RwLock<Option<Cached>>> {
        let len = u64::try_from(self.slots.len()).ok().filter(|&n| n > 0)?;
        let head = token.get(..HASHED).unwrap_or(token);
        let tail = token
            .get(token.len().saturating_sub(HASHED)..)
            .unwrap_or(token);
        let hash = self.hasher.hash_one((token.len(), head, tail));
        let i = usize::try_from(hash % len).ok()?;
        self.slots.get(i)
    }

    /// The claims of `token`, accepted earlier and not yet expired.
    fn lookup(&self, token: &[u8], now: SystemTime) -> Option<TokenClaims> {
        let slot = self.slot(token)?;
        {
            let guard = slot.read().ok()?;
            let hit = guard.as_ref()?;
            if !bool::from(hit.token.ct_eq(token)) {
                return None;
            }
            if now < hit.expires_at {
                self.hits.0.fetch_add(1, Ordering::Relaxed);
                return Some(hit.claims.clone());
            }
        }
        // This token's entry has expired: free it now.
        if let Ok(mut guard) = slot.write() {
            if guard.as_ref().is_some_and(|c| c.expires_at <= now) {
                *guard = None;
            }
        }
        None
    }

    fn remember(&self, token: &str, claims: &TokenClaims, now: SystemTime) {
        let Some(exp) = claims.expires_at() else {
            return;
        };
        // `recall` answers before the syntax check: only a token that
        // passes it is remembered.
        if crate::layer::b64token(token.as_bytes()).is_none() {
            return;
        }
        let until = exp.min(now + self.max_ttl);
        if until <= now {
            return;
        }
        let Some(slot) = self.slot(token.as_bytes()) else {
            return;
        };
        let entry = Cached {
            token: token.as_bytes().into(),
            claims: claims.clone(),
            expires_at: until,
        };
        if let Ok(mut slot) = slot.write() {
            *slot = Some(entry);
        }
    }
}

impl<V: AccessTokenValidator> AccessTokenValidator for CachedValidator<V> {
    fn validate(
        &self,
        token: &str,
    ) -> impl Future<Output = Result<TokenClaims, TokenError>> + Send {
        let hit = self.lookup(token.as_bytes(), SystemTime::now());
        async move {
            if let Some(claims) = hit {
                return Ok(claims);
            }
            let claims = self.inner.validate(token).await?;
            self.remember(token, &claims, SystemTime::now());
            Ok(claims)
        }
    }

    fn validate_now(&self, token: &str) -> Option<Result<TokenClaims, TokenError>> {
        if let Some(claims) = self.lookup(token.as_bytes(), SystemTime::now()) {
            return Some(Ok(claims));
        }
        let result = self.inner.validate_now(token)?;
        if let Ok(claims) = &result {
            self.remember(token, claims, SystemTime::now());
        }
        Some(result)
    }

    fn recall(&self, token: &[u8]) -> Option<TokenClaims> {
        self.lookup(token, SystemTime::now())
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
        assert!(v.lookup(b"t", now + Duration::from_secs(1)).is_some());
        assert!(v.lookup(b"t", now + Duration::from_secs(3)).is_none());
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
        assert!(v.lookup(b"t", now + Duration::from_secs(9)).is_some());
        assert!(v.lookup(b"t", now + Duration::from_secs(11)).is_none());
    }

    #[test]
    fn a_hit_is_the_same_token_not_only_the_same_key() {
        let (_, v) = counting(None, true);
        let v = CachedValidator::new(v);
        let now = SystemTime::now();
        v.remember("t1", &claims(Some(now + Duration::from_secs(60))), now);
        // Another token stored in t2's slot (as a hash collision would).
        if let Ok(mut slot) = v.slot(b"t2").unwrap().write() {
            *slot = Some(Cached {
                token: b"t1".as_slice().into(),
                claims: claims(Some(now + Duration::from_secs(60))),
                expires_at: now + Duration::from_secs(60),
            });
        }
        assert!(v.lookup(b"t1", now).is_some());
        assert!(v.lookup(b"t2", now).is_none());
    }

    #[test]
    fn one_slot_keeps_the_latest_token_and_zero_slots_keep_none() {
        let (calls, v) = counting(Some(SystemTime::now() + Duration::from_secs(600)), true);
        let v = CachedValidator::new(v).capacity(1);
        for token in ["a", "b", "b", "a"] {
            assert!(block_on(v.validate(token)).is_ok());
        }
        // "b" replaced "a", so the last "a" was verified again.
        assert_eq!(calls.load(Ordering::Relaxed), 3);
        assert_eq!(v.hits(), 1);

        let (calls, v) = counting(Some(SystemTime::now() + Duration::from_secs(600)), true);
        let v = CachedValidator::new(v).capacity(0);
        for _ in 0..2 {
            assert!(block_on(v.validate("a")).is_ok());
        }
        assert_eq!(calls.load(Ordering::Relaxed), 2);
        assert_eq!(v.hits(), 0);
    }

    /// A validator that answers without waiting, counting its calls.
    struct Immediate(Arc<AtomicUsize>, SystemTime);

    impl AccessTokenValidator for Immediate {
        async fn validate(&self, _token: &str) -> Result<TokenClaims, TokenError> {
            unreachable!("validate_now answers")
        }

        fn validate_now(&self, token: &str) -> Option<Result<TokenClaims, TokenError>> {
            self.0.fetch_add(1, Ordering::Relaxed);
            Some(if token == "good" {
                Ok(claims(Some(self.1)))
            } else {
                Err(TokenError::BadSignature)
            })
        }
    }

    #[test]
    fn validate_now_answers_hits_and_what_the_inner_validator_answers() {
        let calls = Arc::new(AtomicUsize::new(0));
        let exp = SystemTime::now() + Duration::from_secs(600);
        let v = CachedValidator::new(Immediate(calls.clone(), exp));
        assert!(matches!(v.validate_now("good"), Some(Ok(_))));
        assert!(matches!(v.validate_now("good"), Some(Ok(_))));
        assert_eq!(calls.load(Ordering::Relaxed), 1);
        assert_eq!(v.hits(), 1);
        for _ in 0..2 {
            assert_eq!(v.validate_now("bad"), Some(Err(TokenError::BadSignature)));
        }
        assert_eq!(calls.load(Ordering::Relaxed), 3);

        // An inner validator that cannot answer now: a miss is `None`, and
        // a token `validate` accepted is answered now afterwards.
        let (calls, v) = counting(Some(exp), true);
        let v = CachedValidator::new(v);
        assert!(v.validate_now("t").is_none());
        assert!(block_on(v.validate("t")).is_ok());
        assert!(matches!(v.validate_now("t"), Some(Ok(_))));
        assert_eq!(calls.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn recall_answers_remembered_bytes_and_only_b64token_is_remembered() {
        let exp = SystemTime::now() + Duration::from_secs(600);
        let (calls, v) = counting(Some(exp), true);
        let v = CachedValidator::new(v);
        assert!(v.recall(b"a.b.c").is_none());
        assert!(block_on(v.validate("a.b.c")).is_ok());
        assert!(v.recall(b"a.b.c").is_some());
        assert!(v.recall(b"a.b.d").is_none());
        assert_eq!(v.hits(), 1);

        // The inner validator accepts anything; what is not b64token syntax
        // is not remembered, so `recall` never answers it before the
        // layer's syntax check.
        for token in ["a b", "a,b", "=", "abc=d", "caf\u{e9}"] {
            assert!(block_on(v.validate(token)).is_ok());
            assert!(v.recall(token.as_bytes()).is_none(), "{token:?}");
        }
        assert!(block_on(v.validate("abc==")).is_ok());
        assert!(v.recall(b"abc==").is_some());
        assert_eq!(calls.load(Ordering::Relaxed), 7);
    }

    #[test]
    fn long_tokens_differing_only_in_the_middle_are_told_apart() {
        // The slot is picked by the ends; the hit compares the whole token.
        let exp = SystemTime::now() + Duration::from_secs(600);
        let (calls, v) = counting(Some(exp), true);
        let v = CachedValidator::new(v).capacity(1);
        let a = format!("{}a{}", "x".repeat(100), "y".repeat(100));
        let b = format!("{}b{}", "x".repeat(100), "y".repeat(100));
        assert!(block_on(v.validate(&a)).is_ok());
        assert!(v.recall(b.as_bytes()).is_none());
        assert!(v.recall(a.as_bytes()).is_some());
        assert_eq!(calls.load(Ordering::Relaxed), 1);
    }
}
