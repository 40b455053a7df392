//! [`IntrospectionValidator`]: RFC 7662 token introspection over a call you
//! supply.

use std::fmt;
use std::future::Future;
use std::time::{Duration, SystemTime};

use certbound_extract::ClientCert;
use serde_json::{Map, Value};

use super::rules::ClaimRules;
use super::{AccessTokenValidator, TokenError};
use crate::{Binding, BindingMismatch, Confirmation, TokenClaims, verify_binding};

/// Validates tokens by asking the authorization server (RFC 7662).
///
/// The call is an [`Introspect`]: your own
/// (`Fn(String) -> impl Future<Output = Result<Value, E>>`, with the HTTP
/// client, TLS and resource server authentication of your choice), or
/// (feature `http`) an `HttpIntrospector`. The response must say
/// `"active": true`; `exp` and `nbf`, when present, must be NumericDates
/// and are checked with a leeway; `iss`, when configured and present in
/// the response, must match. When an audience is configured the
/// response must have an `aud` that contains it (RFC 7662 makes `aud`
/// optional; a response without one is refused unless
/// [`danger_accept_missing_audience`](Self::danger_accept_missing_audience)). `cnf` is parsed as the token's
/// confirmation (RFC 8705 §3.2). A failed call refuses the request with 503.
///
/// ```
/// use certbound_binding::IntrospectionValidator;
/// use serde_json::json;
///
/// let validator = IntrospectionValidator::new(|token: String| async move {
///     // POST token to the introspection endpoint here.
///     Ok::<_, std::io::Error>(json!({"active": token == "good"}))
/// });
/// # let _ = validator;
/// ```
pub struct IntrospectionValidator<F> {
    introspect: F,
    rules: ClaimRules,
    accept_missing_audience: bool,
}

impl<F> fmt::Debug for IntrospectionValidator<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IntrospectionValidator")
            .field("rules", &self.rules)
            .field("accept_missing_audience", &self.accept_missing_audience)
            .finish_non_exhaustive()
    }
}

impl<F> IntrospectionValidator<F> {
    /// A validator over `introspect`.
    pub fn new(introspect: F) -> Self {
        Self {
            introspect,
            rules: ClaimRules::default(),
            accept_missing_audience: false,
        }
    }

    /// The expected `iss`, checked when the response has one.
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.rules.issuer = Some(issuer.into());
        self
    }

    /// The expected audience: the response's `aud` must contain it, and a
    /// response without `aud` is refused.
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.rules.audience = Some(audience.into());
        self
    }

    /// Accepts a response without `aud` although an audience is
    /// configured: a token the authorization server issued for any
    /// resource server is then accepted here. Only when the authorization
    /// server never puts `aud` in its responses and issues tokens for this
    /// resource server alone. An `aud` that is present must still contain
    /// the audience.
    pub fn danger_accept_missing_audience(mut self) -> Self {
        self.accept_missing_audience = true;
        self
    }

    /// The clock skew tolerated on `exp` and `nbf` (default 60 seconds).
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.rules.leeway = leeway;
        self
    }

    /// Checks an introspection response at time `now`.
    pub fn check_response(
        &self,
        response: Value,
        now: SystemTime,
    ) -> Result<TokenClaims, TokenError> {
        let Value::Object(map) = response else {
            return Err(TokenError::Malformed(
                "the introspection response is not a JSON object".into(),
            ));
        };
        if map.get("active") != Some(&Value::Bool(true)) {
            return Err(TokenError::Inactive);
        }
        let claims = TokenClaims::from_map(map)
            .map_err(|e| TokenError::InvalidConfirmation(e.to_string()))?;
        let map = claims.claims();
        self.rules.expiry(map, now, false)?;
        self.rules.not_before(map, now)?;
        self.rules.issuer(map, true)?;
        self.rules.audience(map, self.accept_missing_audience)?;
        Ok(claims)
    }
}

/// The introspection call of an [`IntrospectionValidator`]: POST the token
/// to the authorization server (RFC 7662 §2.1) and return the JSON
/// response. Implemented for async closures
/// `Fn(String) -> impl Future<Output = Result<Value, E>>`, and (feature
/// `http`) by `HttpIntrospector`.
pub trait Introspect: Send + Sync + 'static {
    /// Why the call failed (logged, never shown to the client).
    type Error: fmt::Display;

    /// The introspection response for `token`.
    fn introspect(&self, token: &str) -> impl Future<Output = Result<Value, Self::Error>> + Send;
}

impl<F, Fut, E> Introspect for F
where
    F: Fn(String) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Value, E>> + Send,
    E: fmt::Display,
{
    type Error = E;

    fn introspect(&self, token: &str) -> impl Future<Output = Result<Value, E>> + Send {
        self(token.to_owned())
    }
}

impl<I: Introspect> AccessTokenValidator for IntrospectionValidator<I> {
    async fn validate(&self, token: &str) -> Result<TokenClaims, TokenError> {
        let response = self.introspect.introspect(token).await.map_err(|e| {
            tracing::debug!(error = %e, "introspection call failed");
            TokenError::Unavailable(e.to_string())
        })?;
        self.check_response(response, SystemTime::now())
            .inspect_err(|e| tracing::debug!(error = %e, "introspected token refused"))
    }
}

/// Checks an RFC 7662 introspection response's `cnf` against the request's
/// certificate, for code that introspects tokens itself (RFC 8705 §3.2).
/// The same decision as everywhere: [`verify_binding`].
pub fn verify_introspection_response(
    response: &Map<String, Value>,
    cert: Option<&ClientCert>,
) -> Result<Binding, BindingMismatch> {
    match Confirmation::from_claims(response) {
        Ok(cnf) => verify_binding(cnf.as_ref(), cert),
        Err(_) => Err(BindingMismatch::MalformedThumbprint),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    type Call = fn(String) -> std::future::Ready<Result<Value, String>>;

    fn validator() -> IntrospectionValidator<Call> {
        IntrospectionValidator::new((|_| std::future::ready(Ok(json!({})))) as Call)
            .issuer("https://server.example.com")
            .audience("rs")
    }

    #[test]
    fn rfc8705_section_3_2_example_is_accepted_before_its_expiry_with_its_cnf() {
        // RFC 8705 §3.2, the example introspection response (verbatim).
        let response: Value = serde_json::from_str(
            r#"{
      "active": true,
      "iss": "https://server.example.com",
      "sub": "ty.webb@example.com",
      "exp": 1493726400,
      "nbf": 1493722800,
      "cnf":{
        "x5t#S256": "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2"
      }
    }"#,
        )
        .unwrap();
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1493725000);
        let claims = validator()
            .danger_accept_missing_audience()
            .check_response(response.clone(), at)
            .unwrap();
        assert_eq!(
            claims.confirmation().unwrap().x5t_s256(),
            Some("bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2")
        );
        // Its thumbprint is not canonical: never bound to anything.
        assert_eq!(
            verify_introspection_response(claims.claims(), None),
            Err(BindingMismatch::MalformedThumbprint)
        );
        // And today it has long expired.
        assert!(matches!(
            validator().check_response(response, SystemTime::now()),
            Err(TokenError::Expired(1493726400))
        ));
    }

    #[test]
    fn inactive_wrong_issuer_and_wrong_audience_are_refused() {
        let now = SystemTime::now();
        assert_eq!(
            validator().check_response(json!({"active": false}), now),
            Err(TokenError::Inactive)
        );
        assert_eq!(
            validator().check_response(json!({"active": "true"}), now),
            Err(TokenError::Inactive)
        );
        assert!(matches!(
            validator().check_response(json!({"active": true, "iss": "x"}), now),
            Err(TokenError::WrongIssuer { .. })
        ));
        assert!(matches!(
            validator().check_response(json!({"active": true, "aud": ["x"]}), now),
            Err(TokenError::WrongAudience { .. })
        ));
        assert!(
            validator()
                .check_response(json!({"active": true, "aud": ["x", "rs"]}), now)
                .is_ok()
        );
    }

    #[test]
    fn malformed_exp_or_nbf_is_refused_not_ignored() {
        let now = SystemTime::now();
        for (claim, bad) in [("exp", json!("never")), ("nbf", json!(-5))] {
            let mut response = json!({"active": true, "aud": "rs"});
            response[claim] = bad;
            assert_eq!(
                validator().check_response(response, now),
                Err(TokenError::MissingClaim(claim))
            );
        }
    }

    #[test]
    fn response_without_aud_is_refused_when_an_audience_is_configured() {
        let now = SystemTime::now();
        assert!(matches!(
            validator().check_response(json!({"active": true}), now),
            Err(TokenError::WrongAudience { .. })
        ));
        let lax = validator().danger_accept_missing_audience();
        assert!(lax.check_response(json!({"active": true}), now).is_ok());
        // A present aud must still name this resource server.
        assert!(matches!(
            lax.check_response(json!({"active": true, "aud": "x"}), now),
            Err(TokenError::WrongAudience { .. })
        ));
        // No audience configured: aud is not looked at.
        let unconfigured = IntrospectionValidator::new(validator().introspect);
        assert!(
            unconfigured
                .check_response(json!({"active": true}), now)
                .is_ok()
        );
    }

    #[tokio::test]
    async fn failed_call_is_unavailable() {
        let v = IntrospectionValidator::new(|_t: String| async {
            Err::<Value, _>("connection refused")
        });
        let err = v.validate("t").await.unwrap_err();
        assert!(matches!(err, TokenError::Unavailable(_)));
        assert_eq!(err.to_oauth_error().status(), 503);
    }
}
