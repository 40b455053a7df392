//! [`JwtValidator`]: JWT access tokens per RFC 9068, verified with josekit.

use std::fmt;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use josekit::jwk::{Jwk, JwkSet};
use josekit::jws::{self, JwsVerifier};
use serde_json::{Map, Value};

use certbound_oauth::{Check, Report, Verdict};

use super::keys::{KeySource, KeyStore};
use super::rules::ClaimRules;
use super::{AccessTokenValidator, TokenError};
use crate::{Confirmation, TokenClaims};

/// Largest token accepted, in bytes: anything bigger is refused before any
/// decoding.
const MAX_TOKEN_LEN: usize = 16 * 1024;

/// A JWS signing algorithm a [`JwtValidator`] may accept. Symmetric (`HS*`)
/// algorithms and `none` are not among them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum JwsAlg {
    /// ECDSA P-256 SHA-256.
    Es256,
    /// ECDSA P-384 SHA-384.
    Es384,
    /// ECDSA P-521 SHA-512.
    Es512,
    /// RSASSA-PKCS1-v1_5 SHA-256.
    Rs256,
    /// RSASSA-PKCS1-v1_5 SHA-384.
    Rs384,
    /// RSASSA-PKCS1-v1_5 SHA-512.
    Rs512,
    /// RSASSA-PSS SHA-256.
    Ps256,
    /// RSASSA-PSS SHA-384.
    Ps384,
    /// RSASSA-PSS SHA-512.
    Ps512,
    /// EdDSA (Ed25519, Ed448).
    EdDsa,
}

impl JwsAlg {
    /// Every supported algorithm: the default allow-list.
    pub const ALL: [JwsAlg; 10] = [
        JwsAlg::Es256,
        JwsAlg::Es384,
        JwsAlg::Es512,
        JwsAlg::Rs256,
        JwsAlg::Rs384,
        JwsAlg::Rs512,
        JwsAlg::Ps256,
        JwsAlg::Ps384,
        JwsAlg::Ps512,
        JwsAlg::EdDsa,
    ];

    /// The `alg` header value.
    pub fn name(self) -> &'static str {
        match self {
            JwsAlg::Es256 => "ES256",
            JwsAlg::Es384 => "ES384",
            JwsAlg::Es512 => "ES512",
            JwsAlg::Rs256 => "RS256",
            JwsAlg::Rs384 => "RS384",
            JwsAlg::Rs512 => "RS512",
            JwsAlg::Ps256 => "PS256",
            JwsAlg::Ps384 => "PS384",
            JwsAlg::Ps512 => "PS512",
            JwsAlg::EdDsa => "EdDSA",
        }
    }

    /// The algorithm with this `alg` header value.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.name() == name)
    }

    fn verifier(self, jwk: &Jwk) -> Result<Box<dyn JwsVerifier>, josekit::JoseError> {
        Ok(match self {
            JwsAlg::Es256 => Box::new(jws::ES256.verifier_from_jwk(jwk)?),
            JwsAlg::Es384 => Box::new(jws::ES384.verifier_from_jwk(jwk)?),
            JwsAlg::Es512 => Box::new(jws::ES512.verifier_from_jwk(jwk)?),
            JwsAlg::Rs256 => Box::new(jws::RS256.verifier_from_jwk(jwk)?),
            JwsAlg::Rs384 => Box::new(jws::RS384.verifier_from_jwk(jwk)?),
            JwsAlg::Rs512 => Box::new(jws::RS512.verifier_from_jwk(jwk)?),
            JwsAlg::Ps256 => Box::new(jws::PS256.verifier_from_jwk(jwk)?),
            JwsAlg::Ps384 => Box::new(jws::PS384.verifier_from_jwk(jwk)?),
            JwsAlg::Ps512 => Box::new(jws::PS512.verifier_from_jwk(jwk)?),
            JwsAlg::EdDsa => Box::new(jws::EdDSA.verifier_from_jwk(jwk)?),
        })
    }
}

impl fmt::Display for JwsAlg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How strictly the JOSE `typ` header is checked (RFC 9068 §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TypCheck {
    /// `typ` must be `at+jwt` (or `application/at+jwt`), as RFC 9068 requires.
    #[default]
    Strict,
    /// Also accept no `typ` or `JWT`, for authorization servers that predate
    /// RFC 9068. Any other explicit type (`dpop+jwt`, ...) is still refused.
    Lenient,
}

pub(super) struct Key {
    kid: Option<String>,
    alg: JwsAlg,
    verifier: Box<dyn JwsVerifier>,
}

/// The verifiers built from one JWK set: what a refresh replaces, apart
/// from the validator's settings.
pub(super) struct KeySet {
    keys: Vec<Key>,
    /// The `kid` of every key of the JWK set, usable or not: a token naming
    /// one of them is only tried with that key.
    kids: Vec<String>,
}

impl KeySet {
    /// One verifier per key of `jwks` and allowed algorithm that fits it:
    /// josekit checks the key's `kty`, `crv`, `use` (`sig` or absent),
    /// `key_ops` (`verify`, if present) and own `alg`.
    pub(super) fn build(jwks: &JwkSet, algorithms: &[JwsAlg]) -> Result<Self, JwtValidatorError> {
        let mut keys = Vec::new();
        let kids = jwks
            .keys()
            .iter()
            .filter_map(|jwk| jwk.key_id().map(str::to_owned))
            .collect();
        for jwk in jwks.keys() {
            let before = keys.len();
            for &alg in algorithms {
                if let Ok(verifier) = alg.verifier(jwk) {
                    keys.push(Key {
                        kid: jwk.key_id().map(str::to_owned),
                        alg,
                        verifier,
                    });
                }
            }
            if keys.len() == before {
                tracing::debug!(kid = ?jwk.key_id(), "no allowed algorithm fits this key");
            }
        }
        if keys.is_empty() {
            return Err(JwtValidatorError::NoUsableKey);
        }
        Ok(Self { keys, kids })
    }

    /// The `kid` and algorithm of each verifier, for display.
    pub(super) fn describe(&self) -> Vec<(Option<&str>, JwsAlg)> {
        self.keys
            .iter()
            .map(|k| (k.kid.as_deref(), k.alg))
            .collect()
    }
}

/// Validates JWT access tokens (RFC 9068) signed with a key of a JWKS.
///
/// Checks, in order: the compact serialization, `alg` against the
/// allow-list (never `none`, never `HS*`), `typ`, the signature with the key
/// named by `kid` (or every key fitting `alg` when there is no `kid`; the
/// keys without `kid` when no key of the set has the token's `kid`), `cnf`
/// syntax, `iss`, `aud`, `exp` (required) and `nbf` with a leeway. An
/// issuer and an audience must be configured (RFC 9068 §4), unless the
/// builder is told to skip them with a `danger_` method.
///
/// ```
/// use certbound_binding::{JwtValidator, TypCheck};
/// use josekit::jws::ES256;
///
/// let key = ES256.generate_key_pair()?;
/// let mut jwks = josekit::jwk::JwkSet::new();
/// jwks.push_key(key.to_jwk_public_key());
/// let validator = JwtValidator::builder(&jwks)
///     .issuer("https://as.example.com")
///     .audience("https://rs.example.com")
///     .typ(TypCheck::Strict)
///     .build()?;
/// # let _ = validator;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct JwtValidator {
    pub(super) keys: KeyStore,
    algorithms: Vec<JwsAlg>,
    rules: ClaimRules,
    typ: TypCheck,
}

/// Builds a [`JwtValidator`].
#[derive(Debug, Clone)]
pub struct JwtValidatorBuilder {
    pub(super) keys: KeySource,
    algorithms: Vec<JwsAlg>,
    rules: ClaimRules,
    typ: TypCheck,
    accept_any_issuer: bool,
    accept_any_audience: bool,
}

/// Why a [`JwtValidator`] could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JwtValidatorError {
    /// The JWKS does not parse.
    #[error("invalid JWK set: {0}")]
    InvalidJwks(String),
    /// No key of the set can verify any allowed algorithm.
    #[error("no key of the JWK set can verify any allowed algorithm")]
    NoUsableKey,
    /// No [`issuer`](JwtValidatorBuilder::issuer) was set.
    #[error("no issuer set (RFC 9068 §4 requires checking iss)")]
    MissingIssuer,
    /// No [`audience`](JwtValidatorBuilder::audience) was set.
    #[error("no audience set (RFC 9068 §4 requires checking aud)")]
    MissingAudience,
    /// A remote key source needs a tokio runtime for its background
    /// refresh: build inside one.
    #[error("a remote key source must be built inside a tokio runtime")]
    NoRuntime,
    /// The issuer is not an https URL without query and fragment
    /// (RFC 8414 §2), so it has no metadata URL.
    #[error("invalid issuer {0}")]
    InvalidIssuer(String),
}

impl JwtValidator {
    /// Starts a validator trusting the public keys of `jwks`.
    pub fn builder(jwks: &JwkSet) -> JwtValidatorBuilder {
        Self::builder_with_keys(KeySource::Fixed(jwks.clone()))
    }

    /// Starts a validator with keys from `keys`.
    pub(super) fn builder_with_keys(keys: KeySource) -> JwtValidatorBuilder {
        JwtValidatorBuilder {
            keys,
            algorithms: JwsAlg::ALL.to_vec(),
            rules: ClaimRules::default(),
            typ: TypCheck::Strict,
            accept_any_issuer: false,
            accept_any_audience: false,
        }
    }

    /// Starts a validator from a JWKS document (`{"keys": [...]}`).
    pub fn builder_from_jwks_json(
        jwks: impl AsRef<[u8]>,
    ) -> Result<JwtValidatorBuilder, JwtValidatorError> {
        let set =
            JwkSet::from_bytes(jwks).map_err(|e| JwtValidatorError::InvalidJwks(e.to_string()))?;
        Ok(Self::builder(&set))
    }

    /// Runs every check on `token` at time `now` and reports each verdict.
    /// Checks after a failed one still run where they can, so the report
    /// tells an expired token from a wrongly signed one. The report's
    /// `result` is the claims when every check passed, else the first
    /// failed check's error (what [`validate_at`](Self::validate_at)
    /// answers); its facts are the JOSE `header` and the `claims` as
    /// decoded, verified or not (for display only).
    pub fn inspect_at(&self, token: &str, now: SystemTime) -> Report<TokenClaims, TokenError> {
        let mut run = Inspection::default();
        let parsed = match self.parse(token) {
            Ok(parsed) => parsed,
            Err(e) => {
                run.record("format", &Err::<(), _>(e), |_| String::new());
                return run.finish(
                    Map::new(),
                    Map::new(),
                    Err(TokenError::Malformed(String::new())),
                );
            }
        };
        run.push("format", Verdict::Pass, "JWS compact serialization".into());
        let Parsed {
            header,
            payload,
            message_len,
            signature,
        } = parsed;
        let message = token.as_bytes().get(..message_len).unwrap_or_default();

        let alg = self.check_alg(&header);
        run.record("algorithm", &alg, |alg| alg.name().into());
        run.record("type", &self.check_typ(&header), |typ| {
            typ.unwrap_or("(none)").into()
        });
        match alg {
            Ok(alg) => match self.keys.current() {
                Ok(keys) => {
                    let key = self.check_signature(&keys, alg, &header, message, &signature);
                    run.record("signature", &key, |key| match &key.kid {
                        Some(kid) => format!("{alg} with key {kid:?}"),
                        None => format!("{alg} with a key without kid"),
                    });
                }
                Err(e) => run.record("signature", &Err::<(), _>(e), |_| String::new()),
            },
            Err(_) => run.skip("signature", "algorithm not accepted"),
        }
        let confirmation = check_confirmation(&payload);
        run.record("confirmation", &confirmation, |cnf| {
            match cnf.as_ref().map(Confirmation::x5t_s256) {
                Some(Some(x5t)) => format!("x5t#S256 {x5t}"),
                Some(None) => "cnf without x5t#S256".into(),
                None => "no cnf (not certificate-bound)".into(),
            }
        });
        match self.rules.issuer(&payload, false) {
            Ok(None) => run.skip("issuer", "any issuer accepted (none configured)"),
            issuer => run.record("issuer", &issuer, |i| i.unwrap_or_default().into()),
        }
        match self.rules.audience(&payload, false) {
            Ok(None) => run.skip("audience", "any audience accepted (none configured)"),
            aud => run.record("audience", &aud, |a| a.unwrap_or_default().into()),
        }
        run.record("expiry", &self.rules.expiry(&payload, now, true), |exp| {
            format!("expires at {}", exp.unwrap_or_default())
        });
        match self.rules.not_before(&payload, now) {
            Ok(None) => run.skip("not-before", "no nbf claim"),
            nbf => run.record("not-before", &nbf, |nbf| {
                format!("valid since {}", nbf.unwrap_or_default())
            }),
        }
        let claims = confirmation.map(|cnf| TokenClaims::from_parts(payload.clone(), cnf));
        run.finish(header, payload, claims)
    }

    /// [`inspect_at`](Self::inspect_at) now.
    pub fn inspect(&self, token: &str) -> Report<TokenClaims, TokenError> {
        self.inspect_at(token, SystemTime::now())
    }

    /// Validates `token` at time `now`: its claims, or the first failed check.
    ///
    /// The same checks as [`inspect_at`](Self::inspect_at), in the same
    /// order and with the same verdicts, but it stops at the first failure
    /// and builds no report: this is the request path.
    pub fn validate_at(&self, token: &str, now: SystemTime) -> Result<TokenClaims, TokenError> {
        self.first_failure(token, now).inspect_err(|err| {
            tracing::debug!(error = %err, "JWT access token refused");
        })
    }

    fn first_failure(&self, token: &str, now: SystemTime) -> Result<TokenClaims, TokenError> {
        let Parsed {
            header,
            payload,
            message_len,
            signature,
        } = self.parse(token)?;
        let message = token.as_bytes().get(..message_len).unwrap_or_default();
        let alg = self.check_alg(&header)?;
        self.check_typ(&header)?;
        let keys = self.keys.current()?;
        self.check_signature(&keys, alg, &header, message, &signature)?;
        let confirmation = check_confirmation(&payload)?;
        self.rules.issuer(&payload, false)?;
        self.rules.audience(&payload, false)?;
        self.rules.expiry(&payload, now, true)?;
        self.rules.not_before(&payload, now)?;
        Ok(TokenClaims::from_parts(payload, confirmation))
    }

    /// The token's three parts: the header and payload as JSON objects, the
    /// signature decoded.
    fn parse(&self, token: &str) -> Result<Parsed, TokenError> {
        let fail = |why: &str| Err(TokenError::Malformed(why.into()));
        if token.len() > MAX_TOKEN_LEN {
            return fail("token too large");
        }
        let mut parts = token.split('.');
        let (Some(h), Some(p), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return fail("not three dot-separated parts (JWE tokens are not supported)");
        };
        let Some(header) = decode_object(h) else {
            return fail("the header is not base64url JSON object");
        };
        let Some(payload) = decode_object(p) else {
            return fail("the payload is not a base64url JSON object");
        };
        if header.contains_key("crit") {
            return fail("critical header extensions are not supported");
        }
        let signature = URL_SAFE_NO_PAD.decode(s).unwrap_or_default();
        Ok(Parsed {
            header,
            payload,
            message_len: h.len() + 1 + p.len(),
            signature,
        })
    }

    /// `alg`: in the allow-list (never `none`, never `HS*`).
    fn check_alg(&self, header: &Map<String, Value>) -> Result<JwsAlg, TokenError> {
        let name = header.get("alg").and_then(Value::as_str).unwrap_or("");
        JwsAlg::from_name(name)
            .filter(|a| self.algorithms.contains(a))
            .ok_or_else(|| TokenError::UnsupportedAlgorithm(name.into()))
    }

    /// `typ` (RFC 9068 §4); the type found. A `typ` that is not a string
    /// (RFC 7515 §4.1.9) is refused, also with [`TypCheck::Lenient`].
    fn check_typ<'h>(&self, header: &'h Map<String, Value>) -> Result<Option<&'h str>, TokenError> {
        let typ = match header.get("typ") {
            None => None,
            Some(Value::String(typ)) => Some(typ.as_str()),
            Some(other) => return Err(TokenError::UnacceptableType(Some(other.to_string()))),
        };
        let at_jwt = |t: &str| {
            t.eq_ignore_ascii_case("at+jwt") || t.eq_ignore_ascii_case("application/at+jwt")
        };
        let ok = match (typ, self.typ) {
            (Some(t), _) if at_jwt(t) => true,
            (None, TypCheck::Lenient) => true,
            (Some(t), TypCheck::Lenient) => t.eq_ignore_ascii_case("jwt"),
            _ => false,
        };
        if ok {
            Ok(typ)
        } else {
            Err(TokenError::UnacceptableType(typ.map(str::to_owned)))
        }
    }

    /// The signature, with the key named by `kid` (or, when no key of the
    /// set has that `kid`, the keys that have none, a JWKS may omit them;
    /// without `kid`, every key fitting `alg`); the key that verified. A
    /// `kid` naming a key of the set is only tried with that key, so a key
    /// of another algorithm is an unknown key; a `kid` that is not a string
    /// (RFC 7515 §4.1.4) makes the token malformed.
    fn check_signature<'k>(
        &self,
        keys: &'k KeySet,
        alg: JwsAlg,
        header: &Map<String, Value>,
        message: &[u8],
        signature: &[u8],
    ) -> Result<&'k Key, TokenError> {
        let kid = match header.get("kid") {
            None => None,
            Some(Value::String(kid)) => Some(kid.as_str()),
            Some(_) => {
                return Err(TokenError::Malformed(
                    "the kid header is not a string".into(),
                ));
            }
        };
        let named = kid.is_some_and(|kid| keys.kids.iter().any(|k| k == kid));
        let mut candidates = keys
            .keys
            .iter()
            .filter(|k| {
                k.alg == alg
                    && if named {
                        k.kid.as_deref() == kid
                    } else {
                        kid.is_none() || k.kid.is_none()
                    }
            })
            .peekable();
        if candidates.peek().is_none() {
            return Err(TokenError::UnknownKey {
                kid: kid.map(str::to_owned),
                alg: alg.name().into(),
            });
        }
        candidates
            .find(|k| k.verifier.verify(message, signature).is_ok())
            .ok_or(TokenError::BadSignature)
    }
}

/// `cnf`, when present, is a confirmation object.
fn check_confirmation(payload: &Map<String, Value>) -> Result<Option<Confirmation>, TokenError> {
    Confirmation::from_claims(payload).map_err(|e| TokenError::InvalidConfirmation(e.to_string()))
}

struct Parsed {
    header: Map<String, Value>,
    payload: Map<String, Value>,
    message_len: usize,
    signature: Vec<u8>,
}

fn decode_object(part: &str) -> Option<Map<String, Value>> {
    let bytes = URL_SAFE_NO_PAD.decode(part).ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

impl JwtValidatorBuilder {
    /// Requires `iss` to equal `issuer` (RFC 9068 §4: the resource server
    /// must check it). Required unless
    /// [`danger_accept_any_issuer`](Self::danger_accept_any_issuer).
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.rules.issuer = Some(issuer.into());
        self
    }

    /// Requires `aud` to contain `audience` (RFC 9068 §4: the resource
    /// server must reject a token that does not name it). Required unless
    /// [`danger_accept_any_audience`](Self::danger_accept_any_audience).
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.rules.audience = Some(audience.into());
        self
    }

    /// Builds without an issuer: a token from any issuer whose key is in
    /// the set is accepted. Only for diagnostics, or when the key set
    /// belongs to one issuer alone and nothing else signs with it.
    pub fn danger_accept_any_issuer(mut self) -> Self {
        self.accept_any_issuer = true;
        self
    }

    /// Builds without an audience: a token issued for another resource
    /// server is accepted here (RFC 9068 §4 forbids this for a resource
    /// server). Only for diagnostics.
    pub fn danger_accept_any_audience(mut self) -> Self {
        self.accept_any_audience = true;
        self
    }

    /// The accepted algorithms (default: [`JwsAlg::ALL`]).
    pub fn algorithms(mut self, algorithms: impl IntoIterator<Item = JwsAlg>) -> Self {
        self.algorithms = algorithms.into_iter().collect();
        self
    }

    /// The clock skew tolerated on `exp` and `nbf` (default 60 seconds).
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.rules.leeway = leeway;
        self
    }

    /// How `typ` is checked (default [`TypCheck::Strict`]).
    pub fn typ(mut self, typ: TypCheck) -> Self {
        self.typ = typ;
        self
    }

    /// Builds the validator. Fails unless an issuer and an audience are set
    /// (or skipped with the `danger_` methods); see [`JwtValidatorError`].
    pub fn build(self) -> Result<JwtValidator, JwtValidatorError> {
        if self.rules.issuer.is_none() && !self.accept_any_issuer {
            return Err(JwtValidatorError::MissingIssuer);
        }
        if self.rules.audience.is_none() && !self.accept_any_audience {
            return Err(JwtValidatorError::MissingAudience);
        }
        let keys = self.keys.into_store(&self.algorithms)?;
        Ok(JwtValidator {
            keys,
            algorithms: self.algorithms,
            rules: self.rules,
            typ: self.typ,
        })
    }
}

impl AccessTokenValidator for JwtValidator {
    async fn validate(&self, token: &str) -> Result<TokenClaims, TokenError> {
        let result = self.validate_at(token, SystemTime::now());
        #[cfg(feature = "remote-keys")]
        if let (Err(TokenError::UnknownKey { .. } | TokenError::Unavailable(_)), Some(remote)) =
            (&result, self.keys.remote())
        {
            // The one request that may wait on the network: a key the
            // authorization server may have just published.
            if remote.refetch_for_unknown_key().await {
                return self.validate_at(token, SystemTime::now());
            }
        }
        result
    }
}

/// The checks of one [`JwtValidator::inspect_at`] run, and its first error.
#[derive(Default)]
struct Inspection {
    checks: Vec<Check>,
    first_error: Option<TokenError>,
}

impl Inspection {
    fn skip(&mut self, name: &'static str, why: &str) {
        self.push(name, Verdict::Skipped, why.into());
    }

    fn push(&mut self, name: &'static str, verdict: Verdict, detail: String) {
        self.checks.push(Check {
            name,
            verdict,
            detail,
        });
    }

    /// Records the verdict of one check function: passed with the detail
    /// `passed` gives, or failed with its error (the first one is kept).
    fn record<T>(
        &mut self,
        name: &'static str,
        verdict: &Result<T, TokenError>,
        passed: impl FnOnce(&T) -> String,
    ) {
        match verdict {
            Ok(found) => self.push(name, Verdict::Pass, passed(found)),
            Err(e) => {
                self.push(name, Verdict::Fail, e.to_string());
                self.first_error.get_or_insert_with(|| e.clone());
            }
        }
    }

    fn finish(
        self,
        header: Map<String, Value>,
        payload: Map<String, Value>,
        claims: Result<TokenClaims, TokenError>,
    ) -> Report<TokenClaims, TokenError> {
        // The first failed check's error; else the claims (whose one
        // failure, the confirmation, is a check of its own).
        let mut report = Report::new(self.first_error.map_or(claims, Err));
        report.facts.insert("header".into(), Value::Object(header));
        report.facts.insert("claims".into(), Value::Object(payload));
        report.checks = self.checks;
        report
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::time::UNIX_EPOCH;

    fn since_epoch(t: SystemTime) -> Duration {
        t.duration_since(UNIX_EPOCH).unwrap()
    }

    fn validator() -> JwtValidator {
        JwtValidator::builder(&es256_jwks())
            .issuer("https://as")
            .audience("https://rs")
            .build()
            .unwrap()
    }

    fn b64(s: &str) -> String {
        URL_SAFE_NO_PAD.encode(s)
    }

    fn es256_jwks() -> JwkSet {
        let mut jwks = JwkSet::new();
        jwks.push_key(jws::ES256.generate_key_pair().unwrap().to_jwk_public_key());
        jwks
    }

    #[test]
    fn building_without_issuer_or_audience_is_refused() {
        let jwks = es256_jwks();
        assert_eq!(
            JwtValidator::builder(&jwks).audience("rs").build().err(),
            Some(JwtValidatorError::MissingIssuer)
        );
        assert_eq!(
            JwtValidator::builder(&jwks).issuer("as").build().err(),
            Some(JwtValidatorError::MissingAudience)
        );
        assert_eq!(
            JwtValidator::builder(&jwks).build().err(),
            Some(JwtValidatorError::MissingIssuer)
        );
    }

    #[test]
    fn danger_methods_skip_exactly_the_check_they_name() {
        let pair = jws::ES256.generate_key_pair().unwrap();
        let mut jwks = JwkSet::new();
        jwks.push_key(pair.to_jwk_public_key());
        let signer = jws::ES256
            .signer_from_der(pair.to_der_private_key())
            .unwrap();
        let mut header = jws::JwsHeader::new();
        header.set_token_type("at+jwt");
        let exp = since_epoch(SystemTime::now()).as_secs() + 600;
        let token = |payload: serde_json::Value| {
            jws::serialize_compact(payload.to_string().as_bytes(), &header, &signer).unwrap()
        };
        let elsewhere = token(serde_json::json!({"iss": "other-as", "aud": "rs", "exp": exp}));
        let other_rs = token(serde_json::json!({"iss": "as", "aud": "other-rs", "exp": exp}));

        let any_issuer = JwtValidator::builder(&jwks)
            .danger_accept_any_issuer()
            .audience("rs")
            .build()
            .unwrap();
        assert!(
            any_issuer
                .validate_at(&elsewhere, SystemTime::now())
                .is_ok()
        );
        assert!(matches!(
            any_issuer.validate_at(&other_rs, SystemTime::now()),
            Err(TokenError::WrongAudience { .. })
        ));

        let any_audience = JwtValidator::builder(&jwks)
            .issuer("as")
            .danger_accept_any_audience()
            .build()
            .unwrap();
        assert!(
            any_audience
                .validate_at(&other_rs, SystemTime::now())
                .is_ok()
        );
        assert!(matches!(
            any_audience.validate_at(&elsewhere, SystemTime::now()),
            Err(TokenError::WrongIssuer { .. })
        ));
    }

    #[test]
    fn header_and_payload_must_be_json_objects() {
        let v = validator();
        for token in [
            "",
            "a.b",
            "a.b.c.d",
            &format!("{}.{}.", b64("[1]"), b64("{}")),
            &format!("{}.{}.", b64("{\"alg\":\"ES256\"}"), b64("\"x\"")),
        ] {
            let report = v.inspect(token);
            assert!(
                matches!(report.result.as_ref().err(), Some(TokenError::Malformed(_))),
                "{token}: {report:?}"
            );
        }
    }

    #[test]
    fn critical_header_extensions_are_refused() {
        let token = format!(
            "{}.{}.AA",
            b64(r#"{"alg":"ES256","typ":"at+jwt","crit":["exp"]}"#),
            b64("{}")
        );
        assert!(matches!(
            validator().inspect(&token).result.err(),
            Some(TokenError::Malformed(_))
        ));
    }

    #[test]
    fn hmac_and_none_are_never_accepted() {
        for alg in ["none", "HS256", "None", ""] {
            let token = format!(
                "{}.{}.",
                b64(&format!(r#"{{"alg":"{alg}","typ":"at+jwt"}}"#)),
                b64(r#"{"exp":99999999999}"#)
            );
            assert_eq!(
                validator().inspect(&token).result.err(),
                Some(TokenError::UnsupportedAlgorithm(alg.into()))
            );
        }
    }

    #[test]
    fn validation_stops_at_the_reports_first_failure() {
        let pair = jws::ES256.generate_key_pair().unwrap();
        let mut jwks = JwkSet::new();
        jwks.push_key(pair.to_jwk_public_key());
        let v = JwtValidator::builder(&jwks)
            .issuer("https://as")
            .audience("https://rs")
            .leeway(Duration::ZERO)
            .build()
            .unwrap();
        let signer = jws::ES256
            .signer_from_der(pair.to_der_private_key())
            .unwrap();
        let now = SystemTime::now();
        let secs = since_epoch(now).as_secs();
        let sign = |typ: &str, payload: serde_json::Value| {
            let mut header = jws::JwsHeader::new();
            header.set_token_type(typ);
            jws::serialize_compact(payload.to_string().as_bytes(), &header, &signer).unwrap()
        };
        let good = serde_json::json!({
            "iss": "https://as", "aud": ["x", "https://rs"], "exp": secs + 60, "nbf": secs - 60,
            "cnf": {"x5t#S256": "A4DtL2JmUMhAsvJj5tKyn64SqzmuXbMrJa0n761y5v0"}
        });
        let with = |k: &str, val: serde_json::Value| {
            let mut p = good.clone();
            p[k] = val;
            p
        };
        let tokens = [
            sign("at+jwt", good.clone()),
            sign("JWT", good.clone()),
            sign("at+jwt", with("iss", "https://other".into())),
            sign("at+jwt", with("aud", "x".into())),
            sign("at+jwt", with("exp", (secs - 1).into())),
            sign("at+jwt", with("nbf", (secs + 60).into())),
            sign("at+jwt", with("nbf", "soon".into())),
            sign("at+jwt", with("cnf", "x".into())),
            {
                let mut t = sign("at+jwt", good.clone());
                let at = t.len() - 10;
                let other = if &t[at..=at] == "A" { "B" } else { "A" };
                t.replace_range(at..=at, other);
                t
            },
            sign("dpop+jwt", with("exp", (secs - 1).into())),
            {
                let mut p = with("cnf", "x".into());
                p["iss"] = "https://other".into();
                sign("at+jwt", p)
            },
            "a.b".into(),
        ];
        for token in &tokens {
            let report = v.inspect_at(token, now);
            let fast = v.validate_at(token, now);
            assert_eq!(fast.as_ref().err(), report.result.as_ref().err(), "{token}");
            assert_eq!(fast.ok().as_ref(), report.result.as_ref().ok(), "{token}");
        }
        assert!(v.validate_at(&tokens[0], now).is_ok());
    }

    proptest! {
        #[test]
        fn arbitrary_input_is_refused_without_panicking(
            header in ".{0,64}", payload in ".{0,64}", sig in "[A-Za-z0-9_-]{0,90}"
        ) {
            let v = validator();
            let token = format!("{}.{}.{sig}", b64(&header), b64(&payload));
            prop_assert!(v.validate_at(&token, SystemTime::now()).is_err());
            let raw = format!("{header}.{payload}.{sig}");
            prop_assert!(v.validate_at(&raw, SystemTime::now()).is_err());
        }
    }
}
