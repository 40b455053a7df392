//! [`TokenClaims`] (what a validator returns) and [`VerifiedToken`] (what
//! [`BoundTokenLayer`](crate::BoundTokenLayer) puts into the request).

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum_core::extract::{FromRequestParts, OptionalFromRequestParts};
use axum_core::response::{IntoResponse, Response};
use certbound_cert::Thumbprint;
use http::request::Parts;
use serde_json::{Map, Value};

use crate::{Binding, Confirmation, ConfirmationError, OAuthError};

/// The claims of a validated access token, with its confirmation parsed.
///
/// Shared: cloning it (as a token cache hit or the [`VerifiedToken`]
/// extractor does) copies a pointer, not the claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenClaims {
    inner: Arc<Inner>,
}

#[derive(Debug, PartialEq, Eq)]
struct Inner {
    claims: Map<String, Value>,
    confirmation: Option<Confirmation>,
}

impl TokenClaims {
    /// Claims from a JSON object (a JWT claims set or an introspection
    /// response). A `cnf` member must be a confirmation object.
    pub fn from_map(claims: Map<String, Value>) -> Result<Self, ConfirmationError> {
        let confirmation = Confirmation::from_claims(&claims)?;
        Ok(Self::from_parts(claims, confirmation))
    }

    /// Claims whose confirmation was already parsed from them.
    pub(crate) fn from_parts(
        claims: Map<String, Value>,
        confirmation: Option<Confirmation>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                claims,
                confirmation,
            }),
        }
    }

    /// All claims, `cnf` included.
    pub fn claims(&self) -> &Map<String, Value> {
        &self.inner.claims
    }

    /// One claim.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.inner.claims.get(name)
    }

    /// The confirmation (`cnf`), if the token has one.
    pub fn confirmation(&self) -> Option<&Confirmation> {
        self.inner.confirmation.as_ref()
    }

    /// A claim that is a string.
    fn string(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(Value::as_str)
    }

    /// `sub`.
    pub fn subject(&self) -> Option<&str> {
        self.string("sub")
    }

    /// `iss`.
    pub fn issuer(&self) -> Option<&str> {
        self.string("iss")
    }

    /// `client_id` (RFC 9068 §2.2, RFC 7662 §2.2).
    pub fn client_id(&self) -> Option<&str> {
        self.string("client_id")
    }

    /// The space-separated `scope`, split.
    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        self.string("scope").unwrap_or("").split_ascii_whitespace()
    }

    /// Whether `scope` contains `scope`.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes().any(|s| s == scope)
    }

    /// `aud`, a string or an array of strings.
    pub fn audiences(&self) -> Vec<&str> {
        audiences(&self.inner.claims)
    }

    /// `exp` as a time.
    pub fn expires_at(&self) -> Option<SystemTime> {
        numeric_date(self.get("exp")?)
    }

    /// `nbf` as a time.
    pub fn not_before(&self) -> Option<SystemTime> {
        numeric_date(self.get("nbf")?)
    }
}

/// The `aud` of `claims`: a string or an array of strings.
pub(crate) fn audiences(claims: &Map<String, Value>) -> Vec<&str> {
    match claims.get("aud") {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// A JSON NumericDate (seconds since the epoch, possibly fractional).
pub(crate) fn numeric_date(value: &Value) -> Option<SystemTime> {
    let secs = value.as_f64()?;
    if !(0.0..=1e12).contains(&secs) {
        return None;
    }
    UNIX_EPOCH.checked_add(Duration::from_secs_f64(secs))
}

/// An access token that passed [`BoundTokenLayer`](crate::BoundTokenLayer):
/// valid, and bound to the request's certificate when it carries `cnf`.
///
/// Found in the request extensions; also an axum extractor (and an optional
/// one: `Option<VerifiedToken>`).
///
/// ```
/// use certbound_binding::VerifiedToken;
///
/// async fn handler(token: VerifiedToken) -> String {
///     format!("hello {}", token.claims().subject().unwrap_or("?"))
/// }
/// # let _ = handler;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedToken {
    claims: TokenClaims,
    binding: Binding,
}

impl VerifiedToken {
    /// A verified token from its claims and the outcome of
    /// [`verify_binding`](crate::verify_binding).
    pub fn new(claims: TokenClaims, binding: Binding) -> Self {
        Self { claims, binding }
    }

    /// The token's claims.
    pub fn claims(&self) -> &TokenClaims {
        &self.claims
    }

    /// The token's confirmation (`cnf`), if any.
    pub fn confirmation(&self) -> Option<&Confirmation> {
        self.claims.confirmation()
    }

    /// Whether the token is certificate-bound (and so matched the request's
    /// certificate).
    pub fn binding(&self) -> Binding {
        self.binding
    }

    /// The thumbprint of the certificate the token is bound to.
    pub fn bound_thumbprint(&self) -> Option<Thumbprint> {
        self.binding.thumbprint()
    }
}

/// The [`VerifiedToken`] extractor's rejection: the route is not behind a
/// [`BoundTokenLayer`](crate::BoundTokenLayer). A server mistake, so 500.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("no verified token in the request: is the route behind BoundTokenLayer?")]
pub struct MissingVerifiedToken;

impl IntoResponse for MissingVerifiedToken {
    /// `500 server_error`, the RFC 6749 §5.2 JSON body.
    fn into_response(self) -> Response {
        tracing::debug!("{self}");
        OAuthError::server_error("missing token verification").into_response()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for VerifiedToken {
    type Rejection = MissingVerifiedToken;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<VerifiedToken>()
            .cloned()
            .ok_or(MissingVerifiedToken)
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for VerifiedToken {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        Ok(parts.extensions.get::<VerifiedToken>().cloned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_common_claims() {
        let Value::Object(map) = json!({
            "sub": "u", "iss": "i", "client_id": "c", "scope": "read  write",
            "aud": ["a", "b"], "exp": 1493726400, "nbf": 1493722800.5
        }) else {
            unreachable!()
        };
        let c = TokenClaims::from_map(map).unwrap();
        assert_eq!(c.subject(), Some("u"));
        assert_eq!(c.issuer(), Some("i"));
        assert_eq!(c.client_id(), Some("c"));
        assert!(c.has_scope("write") && !c.has_scope("admin"));
        assert_eq!(c.audiences(), vec!["a", "b"]);
        assert_eq!(
            c.expires_at(),
            Some(UNIX_EPOCH + Duration::from_secs(1493726400))
        );
        assert!(c.not_before().is_some());
        assert!(c.confirmation().is_none());
    }

    #[test]
    fn common_claims_that_are_not_strings_or_absent_are_none() {
        let Value::Object(map) = json!({
            "sub": 42, "iss": null, "client_id": ["c"], "other": "x"
        }) else {
            unreachable!()
        };
        let c = TokenClaims::from_map(map).unwrap();
        assert_eq!(c.subject(), None);
        assert_eq!(c.issuer(), None);
        assert_eq!(c.client_id(), None);
        assert_eq!(c.scopes().count(), 0);
        assert_eq!(c.get("sub"), Some(&json!(42)));
        assert_eq!(c.get("other"), Some(&json!("x")));
    }

    #[test]
    fn cnf_that_is_not_an_object_is_refused() {
        let Value::Object(map) = json!({"cnf": "x"}) else {
            unreachable!()
        };
        assert!(TokenClaims::from_map(map).is_err());
    }

    #[test]
    fn numeric_dates_out_of_range_are_ignored() {
        assert!(numeric_date(&json!(-1)).is_none());
        assert!(numeric_date(&json!(1e300)).is_none());
        assert!(numeric_date(&json!("1")).is_none());
    }
}
