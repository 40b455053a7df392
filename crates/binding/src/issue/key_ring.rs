//! [`SigningKeyRing`]: the authorization server's signing keys.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use arc_swap::ArcSwap;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use certbound_oauth::JsonDocument;
use josekit::jwk::alg::ec::EcCurve;
use josekit::jwk::alg::ed::EdCurve;
use josekit::jwk::{Jwk, JwkSet};
use josekit::jws::{self, JwsHeader, JwsSigner};
use josekit::jwt::{self, JwtPayload};
use serde_json::Value;
use sha2::{Digest as _, Sha256};

use super::IssueError;
use crate::JwsAlg;
use crate::claims::numeric_date;

/// RSA keys the ring generates have this many bits.
const RSA_BITS: u32 = 2048;

/// The longest period of a scheduled rotation: about 30 years, tokio's
/// longest timer.
#[cfg(feature = "rotation")]
const MAX_ROTATION_PERIOD: Duration = Duration::from_secs(30 * 365 * 86_400);

/// Where the ring reads the time.
type Clock = Arc<dyn Fn() -> SystemTime + Send + Sync>;

/// The signing keys of an authorization server: the current key signs, the
/// previous ones stay published until every token they signed has expired.
///
/// - [`sign`](Self::sign) signs only tokens with an `exp` at most
///   [`max_token_lifetime`](Self::max_token_lifetime) away, so that no
///   token outlives the publication of its key.
/// - Every key has a `kid`: its RFC 7638 JWK thumbprint (SHA-256,
///   base64url), which the JWS header of each token names.
/// - [`rotate`](Self::rotate) makes a new key current. The key it replaces
///   signs nothing more but stays in [`jwks`](Self::jwks) for the longest
///   token lifetime plus a leeway for clock skew
///   ([`publication_overlap`](Self::publication_overlap)), then leaves it.
/// - With the `rotation` feature, `spawn_rotation` rotates on a schedule in
///   a tokio task that ends when the last clone of the ring is dropped.
/// - Cheap to clone (one `Arc`) and shared between threads: signing and
///   publishing read the keys without a lock; a rotation swaps them in one
///   step.
///
/// Keys are generated with josekit (OpenSSL): ES256 by default, or any
/// [`JwsAlg`] (RSA keys of 2048 bits for `RS*`/`PS*`, Ed25519 for EdDSA).
/// A key made elsewhere (a file, a KMS export) is brought in with
/// [`SigningKeyRingBuilder::key`] or [`rotate_to`](Self::rotate_to).
///
/// ```
/// use std::time::Duration;
/// use certbound_binding::{JwsAlg, SigningKeyRing};
///
/// let ring = SigningKeyRing::builder()
///     .algorithm(JwsAlg::Es256)
///     .max_token_lifetime(Duration::from_secs(600))
///     .build()?;
/// let first = ring.current_kid();
/// let second = ring.rotate()?;
/// assert_ne!(first, second);
/// // Both are published: tokens signed with the first key are still valid.
/// let kids: Vec<_> = ring.jwks().keys().iter().filter_map(|k| k.key_id()).map(String::from).collect();
/// assert_eq!(kids, [second, first]);
/// # Ok::<(), certbound_binding::IssueError>(())
/// ```
#[derive(Clone)]
pub struct SigningKeyRing {
    inner: Arc<Inner>,
}

struct Inner {
    alg: JwsAlg,
    overlap: Duration,
    max_token_lifetime: Duration,
    clock: Clock,
    state: ArcSwap<KeyState>,
    /// When the scheduled rotation runs next, in seconds since the epoch
    /// (0: no schedule), so the JWKS service can keep caches short of it.
    #[cfg(feature = "rotation")]
    next_rotation: std::sync::atomic::AtomicU64,
    #[cfg(feature = "rotation")]
    rotation_task: std::sync::Mutex<Option<tokio::task::AbortHandle>>,
}

#[cfg(feature = "rotation")]
impl Drop for Inner {
    fn drop(&mut self) {
        if let Ok(Some(task)) = self.rotation_task.get_mut().map(Option::take) {
            task.abort();
        }
    }
}

/// The keys at one moment, and the JWKS document that publishes them.
struct KeyState {
    current: Arc<SigningKey>,
    /// Newest first.
    previous: Vec<Retiring>,
    /// The public JWKS, serialized once per change of the key set.
    document: Arc<JsonDocument>,
}

#[derive(Clone)]
struct Retiring {
    key: Arc<SigningKey>,
    /// When the key leaves the JWKS; `None`: never (an overlap too long to
    /// add to the clock).
    retire_at: Option<SystemTime>,
}

impl Retiring {
    fn is_live(&self, now: SystemTime) -> bool {
        self.retire_at.is_none_or(|at| at > now)
    }
}

struct SigningKey {
    kid: String,
    signer: Box<dyn JwsSigner>,
    /// The public JWK as published: `kid`, `alg` and `use` set.
    public: Jwk,
}

impl fmt::Debug for SigningKeyRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.inner.state.load();
        f.debug_struct("SigningKeyRing")
            .field("alg", &self.inner.alg)
            .field("current", &state.current.kid)
            .field(
                "previous",
                &state
                    .previous
                    .iter()
                    .map(|p| p.key.kid.as_str())
                    .collect::<Vec<_>>(),
            )
            .field("overlap", &self.inner.overlap)
            .finish_non_exhaustive()
    }
}

/// Builds a [`SigningKeyRing`].
pub struct SigningKeyRingBuilder {
    alg: JwsAlg,
    max_token_lifetime: Duration,
    leeway: Duration,
    clock: Clock,
    key: Option<Jwk>,
}

impl fmt::Debug for SigningKeyRingBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKeyRingBuilder")
            .field("alg", &self.alg)
            .field("max_token_lifetime", &self.max_token_lifetime)
            .field("leeway", &self.leeway)
            .field("key", &self.key.as_ref().map(Jwk::key_id))
            .finish_non_exhaustive()
    }
}

impl SigningKeyRingBuilder {
    /// The algorithm of the keys the ring generates (default ES256).
    pub fn algorithm(mut self, alg: JwsAlg) -> Self {
        self.alg = alg;
        self
    }

    /// The longest lifetime of a token the ring signs (default one hour):
    /// a previous key stays published this long, plus the leeway, after it
    /// stops signing. [`SigningKeyRing::sign`] (and so
    /// [`AccessTokenIssuer`](crate::AccessTokenIssuer)) refuses to sign a
    /// token that would outlive it. A lifetime too long to add to the clock
    /// (`Duration::MAX`) keeps previous keys published for ever.
    pub fn max_token_lifetime(mut self, lifetime: Duration) -> Self {
        self.max_token_lifetime = lifetime;
        self
    }

    /// The clock skew allowed to resource servers (default 60 s, the
    /// leeway of [`JwtValidator`](crate::JwtValidator)): added to the time a
    /// previous key stays published.
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// Where the ring reads the time (default the system clock); tests move
    /// it to see keys retire.
    pub fn clock(mut self, clock: impl Fn() -> SystemTime + Send + Sync + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Starts with this private key instead of a generated one. It must
    /// suit the ring's algorithm; its own `kid` is replaced by its RFC 7638
    /// thumbprint.
    pub fn key(mut self, jwk: Jwk) -> Self {
        self.key = Some(jwk);
        self
    }

    /// Builds the ring, generating its first key unless one was given.
    pub fn build(self) -> Result<SigningKeyRing, IssueError> {
        let current = Arc::new(match &self.key {
            Some(jwk) => SigningKey::from_jwk(self.alg, jwk)?,
            None => SigningKey::generate(self.alg)?,
        });
        let state = KeyState::new(current, Vec::new());
        Ok(SigningKeyRing {
            inner: Arc::new(Inner {
                alg: self.alg,
                overlap: self.max_token_lifetime.saturating_add(self.leeway),
                max_token_lifetime: self.max_token_lifetime,
                clock: self.clock,
                state: ArcSwap::from_pointee(state),
                #[cfg(feature = "rotation")]
                next_rotation: std::sync::atomic::AtomicU64::new(0),
                #[cfg(feature = "rotation")]
                rotation_task: std::sync::Mutex::new(None),
            }),
        })
    }
}

impl SigningKeyRing {
    /// Starts a ring: ES256, tokens of at most one hour, 60 s of leeway.
    pub fn builder() -> SigningKeyRingBuilder {
        SigningKeyRingBuilder {
            alg: JwsAlg::Es256,
            max_token_lifetime: Duration::from_secs(3600),
            leeway: Duration::from_secs(60),
            clock: Arc::new(SystemTime::now),
            key: None,
        }
    }

    /// A ring with one generated key of this algorithm and the builder's
    /// defaults.
    pub fn new(alg: JwsAlg) -> Result<Self, IssueError> {
        Self::builder().algorithm(alg).build()
    }

    /// The algorithm the ring signs with.
    pub fn algorithm(&self) -> JwsAlg {
        self.inner.alg
    }

    /// The `kid` of the key that signs now.
    pub fn current_kid(&self) -> String {
        self.state().current.kid.clone()
    }

    /// The longest lifetime of a token the ring signs.
    pub fn max_token_lifetime(&self) -> Duration {
        self.inner.max_token_lifetime
    }

    /// How long a key stays published after it stops signing: the longest
    /// token lifetime plus the leeway.
    pub fn publication_overlap(&self) -> Duration {
        self.inner.overlap
    }

    /// The time on the ring's clock.
    pub fn now(&self) -> SystemTime {
        (self.inner.clock)()
    }

    /// Makes a newly generated key current; the replaced key stays
    /// published for [`publication_overlap`](Self::publication_overlap).
    /// Returns the new `kid`.
    pub fn rotate(&self) -> Result<String, IssueError> {
        Ok(self.install(SigningKey::generate(self.inner.alg)?))
    }

    /// [`rotate`](Self::rotate) to a key made elsewhere (a private JWK
    /// suiting the ring's algorithm). Rotating to the current key is
    /// refused.
    pub fn rotate_to(&self, jwk: &Jwk) -> Result<String, IssueError> {
        let key = SigningKey::from_jwk(self.inner.alg, jwk)?;
        if key.kid == self.state().current.kid {
            return Err(IssueError::InvalidKey("already the current key".into()));
        }
        Ok(self.install(key))
    }

    fn install(&self, key: SigningKey) -> String {
        let key = Arc::new(key);
        let now = self.now();
        let retire_at = now.checked_add(self.inner.overlap);
        // `rcu` calls the closure again when another rotation wins the
        // race, so the key is made before.
        self.inner.state.rcu(|old| {
            let mut previous = vec![Retiring {
                key: old.current.clone(),
                retire_at,
            }];
            // A key brought back by `rotate_to` is published once.
            previous.extend(old.live_previous(now));
            previous.retain(|p| p.key.kid != key.kid);
            KeyState::new(key.clone(), previous)
        });
        tracing::info!(kid = %key.kid, alg = %self.inner.alg, "signing key rotated");
        key.kid.clone()
    }

    /// The public keys now published: the current key first, then the
    /// previous keys not yet retired, newest first.
    pub fn jwks(&self) -> JwkSet {
        let state = self.state();
        let mut set = JwkSet::new();
        for key in state.published() {
            set.push_key(key.public.clone());
        }
        set
    }

    /// The published JWKS as JSON (`{"keys": [...]}`), exactly as
    /// [`JwksService`](crate::JwksService) serves it.
    pub fn jwks_json(&self) -> Bytes {
        self.state().document.body().clone()
    }

    /// Signs `payload` with the current key, with `typ` in the JWS header
    /// and the key's `kid`. [`AccessTokenIssuer`](crate::AccessTokenIssuer)
    /// builds RFC 9068 access tokens on top of this; use it directly for
    /// other JWTs the server signs.
    ///
    /// The key stays published until every token it signed has expired, so
    /// `payload` must have an `exp` (a NumericDate) no later than now plus
    /// [`max_token_lifetime`](Self::max_token_lifetime): else signing fails
    /// with [`IssueError::MissingExpiry`] or
    /// [`IssueError::LifetimeTooLong`].
    pub fn sign(&self, payload: &JwtPayload, typ: &str) -> Result<String, IssueError> {
        self.check_expiry(payload)?;
        let state = self.state();
        let key = &state.current;
        let mut header = JwsHeader::new();
        header.set_token_type(typ);
        header.set_key_id(key.kid.clone());
        jwt::encode_with_signer(payload, &header, &*key.signer).map_err(|e| {
            tracing::debug!(kid = %key.kid, error = %e, "signing failed");
            IssueError::Signing(e.to_string())
        })
    }

    /// `exp` of `payload` is a NumericDate no later than now plus the
    /// longest token lifetime.
    fn check_expiry(&self, payload: &JwtPayload) -> Result<(), IssueError> {
        let Some(exp) = payload.claim("exp").and_then(numeric_date) else {
            tracing::debug!("refused to sign a JWT without a valid exp");
            return Err(IssueError::MissingExpiry);
        };
        let now = self.now();
        let max = self.inner.max_token_lifetime;
        // A lifetime too long to add to the clock bounds nothing.
        if now.checked_add(max).is_some_and(|latest| exp > latest) {
            let requested = exp.duration_since(now).unwrap_or_default();
            tracing::debug!(
                ?requested,
                ?max,
                "refused to sign a JWT that outlives its key's publication"
            );
            return Err(IssueError::LifetimeTooLong { requested, max });
        }
        Ok(())
    }

    /// The current state, without keys whose retire time has passed.
    fn state(&self) -> Arc<KeyState> {
        let now = self.now();
        let state = self.inner.state.load_full();
        if state.previous.iter().all(|p| p.is_live(now)) {
            return state;
        }
        self.inner.state.rcu(|old| {
            let previous: Vec<_> = old.live_previous(now).collect();
            if previous.len() == old.previous.len() {
                return Arc::clone(old);
            }
            tracing::debug!("retired signing keys leave the JWKS");
            Arc::new(KeyState::new(old.current.clone(), previous))
        });
        self.inner.state.load_full()
    }

    pub(crate) fn document(&self) -> Arc<JsonDocument> {
        self.state().document.clone()
    }

    /// When the scheduled rotation runs next, if one is scheduled.
    pub(crate) fn next_rotation(&self) -> Option<SystemTime> {
        #[cfg(feature = "rotation")]
        {
            let secs = self
                .inner
                .next_rotation
                .load(std::sync::atomic::Ordering::Relaxed);
            (secs != 0).then(|| SystemTime::UNIX_EPOCH + Duration::from_secs(secs))
        }
        #[cfg(not(feature = "rotation"))]
        None
    }

    /// Rotates the signing key every `every`, in a task on the current
    /// tokio runtime, until the last clone of the ring is dropped. A
    /// previous schedule is replaced. A failed rotation is logged
    /// (`tracing`, warn) and the current key keeps signing until the next
    /// try.
    ///
    /// `every` is at least one second and at most about 30 years (tokio's
    /// longest timer). When it is shorter than
    /// [`publication_overlap`](Self::publication_overlap), several previous
    /// keys are published at once (about overlap / `every`).
    ///
    /// The returned handle needs no keeping; it tells when the task ended.
    /// Fails outside a tokio runtime.
    #[cfg(feature = "rotation")]
    pub fn spawn_rotation(
        &self,
        every: Duration,
    ) -> Result<tokio::task::JoinHandle<()>, IssueError> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| IssueError::NoRuntime)?;
        let every = every.clamp(Duration::from_secs(1), MAX_ROTATION_PERIOD);
        let ring = Arc::downgrade(&self.inner);
        self.schedule_next(every);
        let task = runtime.spawn(async move {
            let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
            loop {
                ticks.tick().await;
                // The task holds the ring weakly: once every clone is
                // dropped, it ends.
                let Some(inner) = ring.upgrade() else { return };
                let ring = SigningKeyRing { inner };
                if let Err(e) = ring.rotate() {
                    tracing::warn!(error = %e, "scheduled signing key rotation failed");
                }
                ring.schedule_next(every);
            }
        });
        if let Ok(mut slot) = self.inner.rotation_task.lock() {
            if let Some(old) = slot.replace(task.abort_handle()) {
                old.abort();
            }
        }
        Ok(task)
    }

    #[cfg(feature = "rotation")]
    fn schedule_next(&self, every: Duration) {
        let next = self
            .now()
            .checked_add(every)
            .and_then(|next| next.duration_since(SystemTime::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_secs().max(1));
        self.inner
            .next_rotation
            .store(next, std::sync::atomic::Ordering::Relaxed);
    }
}

impl KeyState {
    fn new(current: Arc<SigningKey>, previous: Vec<Retiring>) -> Self {
        let keys: Vec<Value> = std::iter::once(&*current)
            .chain(previous.iter().map(|p| &*p.key))
            .map(|k| Value::Object(k.public.as_ref().clone()))
            .collect();
        let body = serde_json::json!({ "keys": keys }).to_string();
        let document = Arc::new(JsonDocument::new(body));
        Self {
            current,
            previous,
            document,
        }
    }

    fn published(&self) -> impl Iterator<Item = &SigningKey> {
        std::iter::once(&*self.current).chain(self.previous.iter().map(|p| &*p.key))
    }

    fn live_previous(&self, now: SystemTime) -> impl Iterator<Item = Retiring> + '_ {
        self.previous
            .iter()
            .filter(move |p| p.is_live(now))
            .cloned()
    }
}

impl SigningKey {
    fn generate(alg: JwsAlg) -> Result<Self, IssueError> {
        let jwk = match alg {
            JwsAlg::Es256 => Jwk::generate_ec_key(EcCurve::P256),
            JwsAlg::Es384 => Jwk::generate_ec_key(EcCurve::P384),
            JwsAlg::Es512 => Jwk::generate_ec_key(EcCurve::P521),
            JwsAlg::Rs256
            | JwsAlg::Rs384
            | JwsAlg::Rs512
            | JwsAlg::Ps256
            | JwsAlg::Ps384
            | JwsAlg::Ps512 => Jwk::generate_rsa_key(RSA_BITS),
            JwsAlg::EdDsa => Jwk::generate_ed_key(EdCurve::Ed25519),
        }
        .map_err(|e| IssueError::KeyGeneration(e.to_string()))?;
        Self::from_jwk(alg, &jwk)
    }

    fn from_jwk(alg: JwsAlg, jwk: &Jwk) -> Result<Self, IssueError> {
        let invalid = |e: josekit::JoseError| IssueError::InvalidKey(e.to_string());
        if let Some(stated) = jwk.algorithm().filter(|a| *a != alg.name()) {
            return Err(IssueError::InvalidKey(format!(
                "the key is for {stated}, the ring signs with {alg}"
            )));
        }
        let kid = jwk_thumbprint(jwk).ok_or_else(|| {
            IssueError::InvalidKey(format!("a {} key has no RFC 7638 members", jwk.key_type()))
        })?;
        let mut private = jwk.clone();
        private.set_key_id(kid.clone());
        private.set_algorithm(alg.name());
        let signer: Box<dyn JwsSigner> = match alg {
            JwsAlg::Es256 => Box::new(jws::ES256.signer_from_jwk(&private).map_err(invalid)?),
            JwsAlg::Es384 => Box::new(jws::ES384.signer_from_jwk(&private).map_err(invalid)?),
            JwsAlg::Es512 => Box::new(jws::ES512.signer_from_jwk(&private).map_err(invalid)?),
            JwsAlg::Rs256 => Box::new(jws::RS256.signer_from_jwk(&private).map_err(invalid)?),
            JwsAlg::Rs384 => Box::new(jws::RS384.signer_from_jwk(&private).map_err(invalid)?),
            JwsAlg::Rs512 => Box::new(jws::RS512.signer_from_jwk(&private).map_err(invalid)?),
            JwsAlg::Ps256 => Box::new(jws::PS256.signer_from_jwk(&private).map_err(invalid)?),
            JwsAlg::Ps384 => Box::new(jws::PS384.signer_from_jwk(&private).map_err(invalid)?),
            JwsAlg::Ps512 => Box::new(jws::PS512.signer_from_jwk(&private).map_err(invalid)?),
            JwsAlg::EdDsa => Box::new(jws::EdDSA.signer_from_jwk(&private).map_err(invalid)?),
        };
        // josekit's public key keeps only the key's own members.
        let mut public = private.to_public_key().map_err(invalid)?;
        public.set_key_id(kid.clone());
        public.set_algorithm(alg.name());
        public.set_key_use("sig");
        Ok(Self {
            kid,
            signer,
            public,
        })
    }
}

/// The RFC 7638 thumbprint of a JWK: SHA-256 over the JSON object of its
/// required members, in lexicographic order, without whitespace; base64url.
/// `None` for a key type without RFC 7638 members or a member missing.
fn jwk_thumbprint(jwk: &Jwk) -> Option<String> {
    let member = |name: &str| -> Option<String> {
        match jwk.parameter(name)? {
            // serde_json writes the string as RFC 7638 §3 asks (RFC 8259
            // escaping, which base64url values never need).
            value @ Value::String(_) => Some(value.to_string()),
            _ => None,
        }
    };
    let canonical = match jwk.key_type() {
        "EC" => format!(
            r#"{{"crv":{},"kty":"EC","x":{},"y":{}}}"#,
            member("crv")?,
            member("x")?,
            member("y")?
        ),
        "RSA" => format!(
            r#"{{"e":{},"kty":"RSA","n":{}}}"#,
            member("e")?,
            member("n")?
        ),
        "OKP" => format!(
            r#"{{"crv":{},"kty":"OKP","x":{}}}"#,
            member("crv")?,
            member("x")?
        ),
        _ => return None,
    };
    Some(URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// RFC 7638 §3.1: the example RSA key and its thumbprint.
    #[test]
    fn kid_is_the_rfc7638_thumbprint() {
        let jwk = Jwk::from_bytes(
            r#"{"kty":"RSA","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw","e":"AQAB","alg":"RS256","kid":"2011-04-29"}"#,
        )
        .unwrap();
        assert_eq!(
            jwk_thumbprint(&jwk).unwrap(),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }

    #[test]
    fn every_algorithm_generates_a_key_that_signs() {
        for alg in JwsAlg::ALL {
            let ring = SigningKeyRing::new(alg).unwrap();
            let mut payload = JwtPayload::new();
            payload.set_expires_at(&(ring.now() + Duration::from_secs(60)));
            let token = ring.sign(&payload, "at+jwt").unwrap();
            let set = ring.jwks();
            let jwk = set.get(&ring.current_kid())[0];
            assert_eq!(jwk.algorithm(), Some(alg.name()));
            assert_eq!(jwk.key_use(), Some("sig"));
            assert!(
                jwk.parameter("d").is_none(),
                "{alg}: private part published"
            );
            let (_, header) = match alg {
                JwsAlg::Es256 => {
                    jwt::decode_with_verifier(&token, &jws::ES256.verifier_from_jwk(jwk).unwrap())
                }
                JwsAlg::Es384 => {
                    jwt::decode_with_verifier(&token, &jws::ES384.verifier_from_jwk(jwk).unwrap())
                }
                JwsAlg::Es512 => {
                    jwt::decode_with_verifier(&token, &jws::ES512.verifier_from_jwk(jwk).unwrap())
                }
                JwsAlg::Rs256 => {
                    jwt::decode_with_verifier(&token, &jws::RS256.verifier_from_jwk(jwk).unwrap())
                }
                JwsAlg::Rs384 => {
                    jwt::decode_with_verifier(&token, &jws::RS384.verifier_from_jwk(jwk).unwrap())
                }
                JwsAlg::Rs512 => {
                    jwt::decode_with_verifier(&token, &jws::RS512.verifier_from_jwk(jwk).unwrap())
                }
                JwsAlg::Ps256 => {
                    jwt::decode_with_verifier(&token, &jws::PS256.verifier_from_jwk(jwk).unwrap())
                }
                JwsAlg::Ps384 => {
                    jwt::decode_with_verifier(&token, &jws::PS384.verifier_from_jwk(jwk).unwrap())
                }
                JwsAlg::Ps512 => {
                    jwt::decode_with_verifier(&token, &jws::PS512.verifier_from_jwk(jwk).unwrap())
                }
                JwsAlg::EdDsa => {
                    jwt::decode_with_verifier(&token, &jws::EdDSA.verifier_from_jwk(jwk).unwrap())
                }
            }
            .unwrap_or_else(|e| panic!("{alg}: {e}"));
            assert_eq!(header.algorithm(), Some(alg.name()));
            assert_eq!(header.token_type(), Some("at+jwt"));
            assert_eq!(header.key_id(), Some(ring.current_kid().as_str()));
        }
    }

    #[test]
    fn a_key_of_another_algorithm_is_refused() {
        let rsa = Jwk::generate_rsa_key(2048).unwrap();
        let err = SigningKeyRing::builder().key(rsa).build().unwrap_err();
        assert!(matches!(err, IssueError::InvalidKey(_)), "{err:?}");
        let public = Jwk::generate_ec_key(EcCurve::P256)
            .unwrap()
            .to_public_key()
            .unwrap();
        let ring = SigningKeyRing::new(JwsAlg::Es256).unwrap();
        assert!(matches!(
            ring.rotate_to(&public),
            Err(IssueError::InvalidKey(_))
        ));
    }

    #[test]
    fn rotating_back_to_a_previous_key_publishes_it_once() {
        let first = Jwk::generate_ec_key(EcCurve::P256).unwrap();
        let ring = SigningKeyRing::builder()
            .key(first.clone())
            .build()
            .unwrap();
        assert!(matches!(
            ring.rotate_to(&first),
            Err(IssueError::InvalidKey(_))
        ));
        let second = ring.rotate().unwrap();
        let back = ring.rotate_to(&first).unwrap();
        let kids: Vec<_> = ring
            .jwks()
            .keys()
            .iter()
            .filter_map(|k| k.key_id().map(str::to_owned))
            .collect();
        assert_eq!(kids, [back, second]);
    }

    #[test]
    fn a_key_stating_another_algorithm_is_refused() {
        let mut jwk = Jwk::generate_ec_key(EcCurve::P256).unwrap();
        jwk.set_algorithm("ES384");
        let err = SigningKeyRing::builder().key(jwk).build().unwrap_err();
        assert!(matches!(err, IssueError::InvalidKey(_)), "{err:?}");
    }

    #[test]
    fn a_given_key_keeps_its_thumbprint_as_kid() {
        let jwk = Jwk::generate_ec_key(EcCurve::P256).unwrap();
        let ring = SigningKeyRing::builder().key(jwk.clone()).build().unwrap();
        assert_eq!(ring.current_kid(), jwk_thumbprint(&jwk).unwrap());
    }

    #[test]
    fn previous_keys_retire_after_the_overlap() {
        let now = Arc::new(Mutex::new(SystemTime::now()));
        let clock = now.clone();
        let ring = SigningKeyRing::builder()
            .max_token_lifetime(Duration::from_secs(100))
            .leeway(Duration::from_secs(10))
            .clock(move || *clock.lock().unwrap())
            .build()
            .unwrap();
        let first = ring.current_kid();
        let etag_one = ring.document().etag().clone();
        let second = ring.rotate().unwrap();
        assert_ne!(ring.document().etag(), &etag_one);
        *now.lock().unwrap() += Duration::from_secs(50);
        let third = ring.rotate().unwrap();
        assert_eq!(ring.jwks().keys().len(), 3);

        *now.lock().unwrap() += Duration::from_secs(60); // first: 110 s after its rotation
        let kids: Vec<String> = ring
            .jwks()
            .keys()
            .iter()
            .filter_map(|k| k.key_id().map(str::to_owned))
            .collect();
        assert_eq!(kids, [third.clone(), second]);
        assert!(!kids.contains(&first));

        *now.lock().unwrap() += Duration::from_secs(50);
        assert_eq!(ring.jwks().keys().len(), 1);
        assert_eq!(ring.current_kid(), third);
    }
}
