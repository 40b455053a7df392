//! [`AccessTokenIssuer`]: JWT access tokens per RFC 9068, and
//! [`RefreshToken`]s bound per RFC 8705 §4.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use josekit::jwt::JwtPayload;
use serde_json::{Map, Value, json};

use super::{IssueError, SigningKeyRing, random_base64url};
use crate::{CNF, Confirmation, RefreshTokenBinding, TokenBinding};

/// The JOSE `typ` of an RFC 9068 access token (§2.1).
const AT_JWT: &str = "at+jwt";

/// Default lifetime of an access token.
const DEFAULT_LIFETIME: Duration = Duration::from_secs(300);

/// Random bytes in a `jti` (128 bits) and in a refresh token (256 bits).
const JTI_BYTES: usize = 16;
const REFRESH_TOKEN_BYTES: usize = 32;

/// The claims the builder sets itself; [`AccessTokenBuilder::claim`] may
/// not overwrite them.
const RESERVED: [&str; 12] = [
    "iss",
    "sub",
    "aud",
    "client_id",
    "iat",
    "exp",
    "nbf",
    "jti",
    "scope",
    "auth_time",
    "acr",
    CNF,
];

/// Issues JWT access tokens per RFC 9068, signed by a [`SigningKeyRing`].
///
/// Each token has `typ: at+jwt` and the current key's `kid` in its header;
/// `iss`, `sub`, `aud`, `client_id`, `iat`, `exp` and a random `jti` in its
/// payload, dates as integer NumericDates; `scope`, `auth_time` and `acr`
/// when given; and the `cnf` of the [`TokenBinding`] the
/// [`BindingPolicy`](crate::BindingPolicy) decided, which the builder takes
/// up front so that it cannot be forgotten.
///
/// ```
/// use certbound_binding::{
///     AccessTokenIssuer, BindingPolicy, ClientBinding, JwtValidator, SigningKeyRing,
/// };
///
/// let ring = SigningKeyRing::builder().build()?;
/// let issuer = AccessTokenIssuer::new(ring.clone(), "https://as.example.com");
///
/// // At the token endpoint, after client authentication:
/// let binding = BindingPolicy::new().decide(ClientBinding::confidential(), None)?;
/// let token = issuer
///     .access_token("s6BhdRkqt3", &binding)
///     .audience("https://rs.example.com")
///     .scope("read")
///     .sign()?;
/// let response = token.token_response(None);
/// assert_eq!(response["token_type"], "Bearer");
///
/// // The resource server, with the published keys:
/// let validator = JwtValidator::builder(&ring.jwks())
///     .issuer("https://as.example.com")
///     .audience("https://rs.example.com")
///     .build()?;
/// let claims = validator.validate_at(token.as_str(), std::time::SystemTime::now())?;
/// assert_eq!(claims.client_id(), Some("s6BhdRkqt3"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct AccessTokenIssuer {
    ring: SigningKeyRing,
    issuer: Arc<str>,
    lifetime: Duration,
}

impl AccessTokenIssuer {
    /// Tokens from `issuer` (the `iss` value, the authorization server's
    /// issuer identifier), signed by `ring`, valid for five minutes (or the
    /// ring's maximum, when shorter).
    pub fn new(ring: SigningKeyRing, issuer: impl Into<String>) -> Self {
        let lifetime = DEFAULT_LIFETIME.min(ring.max_token_lifetime());
        Self {
            ring,
            issuer: Arc::from(issuer.into()),
            lifetime,
        }
    }

    /// The lifetime of the tokens (default five minutes). Signing fails
    /// when it exceeds the ring's
    /// [`max_token_lifetime`](SigningKeyRing::max_token_lifetime).
    #[must_use]
    pub fn lifetime(mut self, lifetime: Duration) -> Self {
        self.lifetime = lifetime;
        self
    }

    /// The `iss` value.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The ring the tokens are signed with.
    pub fn key_ring(&self) -> &SigningKeyRing {
        &self.ring
    }

    /// Starts an access token for `client_id`, bound as `binding` says. The
    /// subject defaults to the client (RFC 9068 §2.2 for the client
    /// credentials grant); set the resource owner with
    /// [`subject`](AccessTokenBuilder::subject).
    pub fn access_token(
        &self,
        client_id: impl Into<String>,
        binding: &TokenBinding,
    ) -> AccessTokenBuilder<'_> {
        AccessTokenBuilder {
            issuer: self,
            client_id: client_id.into(),
            subject: None,
            audience: Vec::new(),
            scope: None,
            auth_time: None,
            acr: None,
            confirmation: binding.access_token_confirmation().cloned(),
            lifetime: None,
            extra: Map::new(),
        }
    }
}

/// One access token being built; see [`AccessTokenIssuer`].
#[derive(Debug)]
#[must_use = "an access token is made by `sign`"]
pub struct AccessTokenBuilder<'a> {
    issuer: &'a AccessTokenIssuer,
    client_id: String,
    subject: Option<String>,
    audience: Vec<String>,
    scope: Option<String>,
    auth_time: Option<SystemTime>,
    acr: Option<String>,
    confirmation: Option<Confirmation>,
    lifetime: Option<Duration>,
    extra: Map<String, Value>,
}

impl AccessTokenBuilder<'_> {
    /// The `sub` claim: the resource owner (default: the client id).
    pub fn subject(mut self, subject: impl Into<String>) -> Self {
        self.subject = Some(subject.into());
        self
    }

    /// Adds an audience (`aud`): the resource server the token is for. At
    /// least one is required; one is written as a string, several as an
    /// array.
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audience.push(audience.into());
        self
    }

    /// The `scope` claim: the granted scopes, space-separated.
    pub fn scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = Some(scope.into());
        self
    }

    /// The `auth_time` claim: when the resource owner authenticated.
    pub fn auth_time(mut self, time: SystemTime) -> Self {
        self.auth_time = Some(time);
        self
    }

    /// The `acr` claim: the authentication context class.
    pub fn acr(mut self, acr: impl Into<String>) -> Self {
        self.acr = Some(acr.into());
        self
    }

    /// This token's lifetime, instead of the issuer's.
    pub fn lifetime(mut self, lifetime: Duration) -> Self {
        self.lifetime = Some(lifetime);
        self
    }

    /// Another claim (`roles`, `groups`, ...). Signing fails when it names a
    /// claim the builder sets.
    pub fn claim(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.extra.insert(name.into(), value.into());
        self
    }

    /// Signs the token with the ring's current key.
    pub fn sign(self) -> Result<AccessToken, IssueError> {
        let ring = &self.issuer.ring;
        let lifetime = self.lifetime.unwrap_or(self.issuer.lifetime);
        if lifetime > ring.max_token_lifetime() {
            return Err(IssueError::LifetimeTooLong {
                requested: lifetime,
                max: ring.max_token_lifetime(),
            });
        }
        if self.audience.is_empty() {
            return Err(IssueError::MissingAudience);
        }
        if let Some(name) = self.extra.keys().find(|k| RESERVED.contains(&k.as_str())) {
            return Err(IssueError::ReservedClaim(name.clone()));
        }
        let issued_at = ring.now();
        let iat = seconds(issued_at);
        let exp = iat.saturating_add(lifetime.as_secs());
        let jti = random_base64url(JTI_BYTES)?;

        let mut claims = self.extra;
        claims.insert("iss".into(), self.issuer.issuer.as_ref().into());
        claims.insert(
            "sub".into(),
            self.subject
                .unwrap_or_else(|| self.client_id.clone())
                .into(),
        );
        claims.insert(
            "aud".into(),
            match <[String; 1]>::try_from(self.audience) {
                Ok([one]) => Value::String(one),
                Err(many) => many.into(),
            },
        );
        claims.insert("client_id".into(), self.client_id.into());
        claims.insert("iat".into(), iat.into());
        claims.insert("exp".into(), exp.into());
        claims.insert("jti".into(), jti.clone().into());
        if let Some(scope) = &self.scope {
            claims.insert("scope".into(), scope.clone().into());
        }
        if let Some(auth_time) = self.auth_time {
            claims.insert("auth_time".into(), seconds(auth_time).into());
        }
        if let Some(acr) = self.acr {
            claims.insert("acr".into(), acr.into());
        }
        if let Some(cnf) = &self.confirmation {
            claims.insert(CNF.into(), cnf.to_value());
        }
        let payload =
            JwtPayload::from_map(claims).map_err(|e| IssueError::Signing(e.to_string()))?;
        let token = ring.sign(&payload, AT_JWT)?;
        tracing::debug!(%jti, bound = self.confirmation.is_some(), "access token issued");
        Ok(AccessToken {
            token,
            jti,
            issued_at: UNIX_EPOCH + Duration::from_secs(iat),
            expires_in: Duration::from_secs(exp - iat),
            scope: self.scope,
        })
    }
}

/// Whole seconds since the epoch: an integer NumericDate.
fn seconds(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// A signed access token, and what the token response says about it.
#[derive(Clone)]
pub struct AccessToken {
    token: String,
    jti: String,
    issued_at: SystemTime,
    expires_in: Duration,
    scope: Option<String>,
}

impl fmt::Debug for AccessToken {
    /// Leaves the token itself out: it is a credential.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessToken")
            .field("jti", &self.jti)
            .field("issued_at", &self.issued_at)
            .field("expires_in", &self.expires_in)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

impl AccessToken {
    /// The JWT, compact serialization.
    pub fn as_str(&self) -> &str {
        &self.token
    }

    /// The JWT, compact serialization.
    pub fn into_string(self) -> String {
        self.token
    }

    /// Its `jti`.
    pub fn jti(&self) -> &str {
        &self.jti
    }

    /// Its `iat`.
    pub fn issued_at(&self) -> SystemTime {
        self.issued_at
    }

    /// Its `exp`.
    pub fn expires_at(&self) -> SystemTime {
        self.issued_at + self.expires_in
    }

    /// Its lifetime: the token response's `expires_in`.
    pub fn expires_in(&self) -> Duration {
        self.expires_in
    }

    /// The RFC 6749 §5.1 token response: `access_token`, `token_type`
    /// (`Bearer`, also for certificate-bound tokens, RFC 8705 §3),
    /// `expires_in`, `scope` when set, and `refresh_token` when given.
    pub fn token_response(&self, refresh_token: Option<&RefreshToken>) -> Value {
        let mut response = json!({
            "access_token": self.token,
            "token_type": "Bearer",
            "expires_in": self.expires_in.as_secs(),
        });
        if let Some(scope) = &self.scope {
            response["scope"] = scope.clone().into();
        }
        if let Some(refresh) = refresh_token {
            response["refresh_token"] = refresh.value.clone().into();
        }
        response
    }
}

/// An opaque refresh token (256 random bits, base64url) and the binding to
/// record with it: for a public client, the certificate its tokens are
/// bound to (RFC 8705 §4), checked at refresh time with
/// [`RefreshTokenBinding::check`].
///
/// ```
/// use certbound_binding::{BindingPolicy, ClientBinding, RefreshToken, TokenBinding};
///
/// let unbound = RefreshToken::generate(&TokenBinding::Unbound)?;
/// assert!(unbound.binding().is_none());
/// assert_eq!(unbound.as_str().len(), 43);
/// # Ok::<(), certbound_binding::IssueError>(())
/// ```
#[derive(Clone)]
pub struct RefreshToken {
    value: String,
    binding: Option<RefreshTokenBinding>,
}

impl fmt::Debug for RefreshToken {
    /// Leaves the token itself out: it is a credential.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RefreshToken")
            .field("binding", &self.binding)
            .finish_non_exhaustive()
    }
}

impl RefreshToken {
    /// A new refresh token, bound as `binding` says.
    pub fn generate(binding: &TokenBinding) -> Result<Self, IssueError> {
        Ok(Self {
            value: random_base64url(REFRESH_TOKEN_BYTES)?,
            binding: binding.refresh_token_binding().copied(),
        })
    }

    /// The token the client receives.
    pub fn as_str(&self) -> &str {
        &self.value
    }

    /// What to store with the token, when it is bound.
    pub fn binding(&self) -> Option<&RefreshTokenBinding> {
        self.binding.as_ref()
    }

    /// The token and its binding, to store.
    pub fn into_parts(self) -> (String, Option<RefreshTokenBinding>) {
        (self.value, self.binding)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extra_claims_cannot_overwrite_the_issuers() {
        let issuer =
            AccessTokenIssuer::new(SigningKeyRing::builder().build().unwrap(), "https://as");
        let err = issuer
            .access_token("c", &TokenBinding::Unbound)
            .audience("https://rs")
            .claim("cnf", json!({}))
            .sign()
            .unwrap_err();
        assert_eq!(err, IssueError::ReservedClaim("cnf".into()));
        let ok = issuer
            .access_token("c", &TokenBinding::Unbound)
            .audience("https://rs")
            .claim("roles", json!(["admin"]))
            .sign();
        assert!(ok.is_ok());
    }

    #[test]
    fn audience_is_required_and_lifetime_bounded_by_the_ring() {
        let ring = SigningKeyRing::builder()
            .max_token_lifetime(Duration::from_secs(60))
            .build()
            .unwrap();
        let issuer = AccessTokenIssuer::new(ring, "https://as");
        assert_eq!(
            issuer
                .access_token("c", &TokenBinding::Unbound)
                .sign()
                .unwrap_err(),
            IssueError::MissingAudience
        );
        let token = issuer
            .access_token("c", &TokenBinding::Unbound)
            .audience("https://rs")
            .sign()
            .unwrap();
        assert_eq!(token.expires_in(), Duration::from_secs(60));
        let err = issuer
            .access_token("c", &TokenBinding::Unbound)
            .audience("https://rs")
            .lifetime(Duration::from_secs(61))
            .sign()
            .unwrap_err();
        assert!(matches!(err, IssueError::LifetimeTooLong { .. }));
    }

    #[test]
    fn debug_output_leaves_the_credentials_out() {
        let issuer =
            AccessTokenIssuer::new(SigningKeyRing::builder().build().unwrap(), "https://as");
        let token = issuer
            .access_token("c", &TokenBinding::Unbound)
            .audience("https://rs")
            .sign()
            .unwrap();
        assert!(!format!("{token:?}").contains(token.as_str()));
        let refresh = RefreshToken::generate(&TokenBinding::Unbound).unwrap();
        assert!(!format!("{refresh:?}").contains(refresh.as_str()));
        let response = token.token_response(Some(&refresh));
        assert_eq!(response["refresh_token"], refresh.as_str());
        assert_eq!(response["expires_in"], 300);
    }
}
