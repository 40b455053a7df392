//! The claim checks both validators make, one way: `iss`, `aud`, `exp` and
//! `nbf` with a leeway.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};

use super::TokenError;
use crate::claims::{audiences, numeric_date};

/// The issuer and audience a token must name, and the clock skew tolerated
/// (added saturating: `Duration::MAX` tolerates any skew).
#[derive(Debug, Clone)]
pub(super) struct ClaimRules {
    pub(super) issuer: Option<String>,
    pub(super) audience: Option<String>,
    pub(super) leeway: Duration,
}

impl Default for ClaimRules {
    fn default() -> Self {
        Self {
            issuer: None,
            audience: None,
            leeway: Duration::from_secs(60),
        }
    }
}

impl ClaimRules {
    /// `iss` equals the issuer, when one is configured; a claim set without
    /// `iss` passes only when `absent_ok`. The issuer checked.
    pub(super) fn issuer(
        &self,
        claims: &Map<String, Value>,
        absent_ok: bool,
    ) -> Result<Option<&str>, TokenError> {
        let Some(expected) = self.issuer.as_deref() else {
            return Ok(None);
        };
        match claims.get("iss") {
            None if absent_ok => Ok(None),
            Some(Value::String(found)) if found == expected => Ok(Some(expected)),
            found => Err(TokenError::WrongIssuer {
                expected: expected.to_owned(),
                found: found.and_then(Value::as_str).map(str::to_owned),
            }),
        }
    }

    /// `aud` (a string or an array of strings) contains the audience, when
    /// one is configured; a claim set without `aud` passes only when
    /// `absent_ok`. The audience checked.
    pub(super) fn audience(
        &self,
        claims: &Map<String, Value>,
        absent_ok: bool,
    ) -> Result<Option<&str>, TokenError> {
        let Some(expected) = self.audience.as_deref() else {
            return Ok(None);
        };
        if absent_ok && !claims.contains_key("aud") {
            return Ok(None);
        }
        let found = audiences(claims);
        if found.contains(&expected) {
            Ok(Some(expected))
        } else {
            Err(TokenError::WrongAudience {
                expected: expected.to_owned(),
                found: found.into_iter().map(str::to_owned).collect(),
            })
        }
    }

    /// `exp`, when present or `required`: a NumericDate not in the past
    /// (leeway included). Its seconds.
    pub(super) fn expiry(
        &self,
        claims: &Map<String, Value>,
        now: SystemTime,
        required: bool,
    ) -> Result<Option<u64>, TokenError> {
        let Some(exp) = date(claims, "exp", required)? else {
            return Ok(None);
        };
        if since_epoch(now) > exp.saturating_add(self.leeway) {
            Err(TokenError::Expired(exp.as_secs()))
        } else {
            Ok(Some(exp.as_secs()))
        }
    }

    /// `nbf`, when present: a NumericDate not in the future (leeway
    /// included). Its seconds.
    pub(super) fn not_before(
        &self,
        claims: &Map<String, Value>,
        now: SystemTime,
    ) -> Result<Option<u64>, TokenError> {
        let Some(nbf) = date(claims, "nbf", false)? else {
            return Ok(None);
        };
        if since_epoch(now).saturating_add(self.leeway) < nbf {
            Err(TokenError::NotYetValid(nbf.as_secs()))
        } else {
            Ok(Some(nbf.as_secs()))
        }
    }
}

/// The date claim `name` as time since the epoch: absent is `None` unless
/// `required`; present, it must be a NumericDate.
fn date(
    claims: &Map<String, Value>,
    name: &'static str,
    required: bool,
) -> Result<Option<Duration>, TokenError> {
    match claims.get(name) {
        None if !required => Ok(None),
        value => value
            .and_then(numeric_date)
            .map(|t| Some(since_epoch(t)))
            .ok_or(TokenError::MissingClaim(name)),
    }
}

fn since_epoch(t: SystemTime) -> Duration {
    t.duration_since(UNIX_EPOCH).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => unreachable!(),
        }
    }

    fn rules() -> ClaimRules {
        ClaimRules {
            issuer: Some("https://as".into()),
            audience: Some("https://rs".into()),
            leeway: Duration::from_secs(60),
        }
    }

    #[test]
    fn absent_iss_and_aud_pass_only_where_allowed() {
        let empty = Map::new();
        assert_eq!(rules().issuer(&empty, true), Ok(None));
        assert!(matches!(
            rules().issuer(&empty, false),
            Err(TokenError::WrongIssuer { found: None, .. })
        ));
        assert_eq!(rules().audience(&empty, true), Ok(None));
        assert!(matches!(
            rules().audience(&empty, false),
            Err(TokenError::WrongAudience { .. })
        ));
        // Present but not a string is never "absent".
        let odd = map(json!({"iss": 1, "aud": 2}));
        assert!(rules().issuer(&odd, true).is_err());
        assert!(rules().audience(&odd, true).is_err());
    }

    #[test]
    fn aud_may_be_a_string_or_an_array() {
        let one = map(json!({"aud": "https://rs"}));
        let many = map(json!({"aud": ["https://other", "https://rs"]}));
        let other = map(json!({"aud": ["https://other"]}));
        assert_eq!(rules().audience(&one, false), Ok(Some("https://rs")));
        assert_eq!(rules().audience(&many, false), Ok(Some("https://rs")));
        assert_eq!(
            rules().audience(&other, true),
            Err(TokenError::WrongAudience {
                expected: "https://rs".into(),
                found: vec!["https://other".into()],
            })
        );
    }

    #[test]
    fn dates_are_checked_with_the_leeway_and_a_malformed_one_is_refused() {
        let now = UNIX_EPOCH + Duration::from_secs(1_000_000);
        let claims = map(json!({"exp": 999_950, "nbf": 1_000_050}));
        assert_eq!(rules().expiry(&claims, now, true), Ok(Some(999_950)));
        assert_eq!(rules().not_before(&claims, now), Ok(Some(1_000_050)));
        let strict = ClaimRules {
            leeway: Duration::ZERO,
            ..rules()
        };
        assert_eq!(
            strict.expiry(&claims, now, true),
            Err(TokenError::Expired(999_950))
        );
        assert_eq!(
            strict.not_before(&claims, now),
            Err(TokenError::NotYetValid(1_000_050))
        );

        let empty = Map::new();
        assert_eq!(rules().expiry(&empty, now, false), Ok(None));
        assert_eq!(
            rules().expiry(&empty, now, true),
            Err(TokenError::MissingClaim("exp"))
        );
        assert_eq!(rules().not_before(&empty, now), Ok(None));
        let bad = map(json!({"exp": "soon", "nbf": "later"}));
        assert_eq!(
            rules().expiry(&bad, now, false),
            Err(TokenError::MissingClaim("exp"))
        );
        assert_eq!(
            rules().not_before(&bad, now),
            Err(TokenError::MissingClaim("nbf"))
        );
    }
}
