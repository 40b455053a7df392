//! [`Confirmation`]: the `cnf` claim (RFC 7800 §3.1, RFC 8705 §3.1).

use std::fmt;

use certbound_cert::{Thumbprint, ThumbprintError};
use josekit::jwt::JwtPayload;
use serde::de::Error as _;
use serde_json::{Map, Value};

/// The name of the confirmation member RFC 8705 §3.1 defines.
pub const X5T_S256: &str = "x5t#S256";

/// The name of the confirmation claim, in a JWT and in an RFC 7662
/// introspection response.
pub const CNF: &str = "cnf";

/// The `cnf` (confirmation) object of a token: its `x5t#S256` member, typed,
/// and any other member (`jkt`, `jwk`, ...) kept as it was, so a token bound
/// by other means passes through unchanged.
///
/// The `x5t#S256` value is kept as the string the token carried: a value
/// that is not a strictly encoded thumbprint still parses as a `cnf` object
/// (RFC 8705 §3.1's own example is one), and is refused as a thumbprint by
/// [`Confirmation::thumbprint`] and by [`verify_binding`](crate::verify_binding).
///
/// ```
/// use certbound_binding::Confirmation;
/// use certbound_cert::Thumbprint;
///
/// let t: Thumbprint = "A4DtL2JmUMhAsvJj5tKyn64SqzmuXbMrJa0n761y5v0".parse()?;
/// let cnf = Confirmation::from_thumbprint(t);
/// assert_eq!(
///     serde_json::to_string(&cnf)?,
///     r#"{"x5t#S256":"A4DtL2JmUMhAsvJj5tKyn64SqzmuXbMrJa0n761y5v0"}"#
/// );
/// assert_eq!(cnf.thumbprint(), Ok(Some(t)));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Confirmation {
    x5t_s256: Option<String>,
    /// `x5t_s256` parsed, once, when the confirmation is made: the binding
    /// check reads it on every request.
    thumbprint: Option<Result<Thumbprint, ThumbprintError>>,
    others: Map<String, Value>,
}

impl Confirmation {
    /// A confirmation binding a token to the certificate with this thumbprint.
    pub fn from_thumbprint(thumbprint: Thumbprint) -> Self {
        Self {
            x5t_s256: Some(thumbprint.to_string()),
            thumbprint: Some(Ok(thumbprint)),
            others: Map::new(),
        }
    }

    /// Reads a `cnf` value. It must be a JSON object whose `x5t#S256` member,
    /// when present, is a string; other members are kept as they are.
    pub fn from_value(value: &Value) -> Result<Self, ConfirmationError> {
        match value {
            Value::Object(map) => Self::from_map(map.clone()),
            _ => Err(ConfirmationError::NotAnObject),
        }
    }

    fn from_map(mut map: Map<String, Value>) -> Result<Self, ConfirmationError> {
        let x5t_s256 = match map.remove(X5T_S256) {
            None => None,
            Some(Value::String(s)) => Some(s),
            Some(_) => return Err(ConfirmationError::X5tS256NotAString),
        };
        Ok(Self {
            thumbprint: x5t_s256.as_deref().map(str::parse),
            x5t_s256,
            others: map,
        })
    }

    /// The `x5t#S256` member as the token carried it, if any.
    pub fn x5t_s256(&self) -> Option<&str> {
        self.x5t_s256.as_deref()
    }

    /// The `x5t#S256` member as a [`Thumbprint`]: `Ok(None)` when the member
    /// is absent, an error when it is not a strictly encoded thumbprint.
    pub fn thumbprint(&self) -> Result<Option<Thumbprint>, ThumbprintError> {
        self.thumbprint.clone().transpose()
    }

    /// The members other than `x5t#S256`.
    pub fn other_members(&self) -> &Map<String, Value> {
        &self.others
    }

    /// Adds or replaces a member other than `x5t#S256` (for example `jkt`).
    /// Setting `x5t#S256` this way is ignored; use
    /// [`from_thumbprint`](Self::from_thumbprint).
    pub fn with_member(mut self, name: impl Into<String>, value: Value) -> Self {
        let name = name.into();
        if name != X5T_S256 {
            self.others.insert(name, value);
        }
        self
    }

    /// Whether the object has no member at all.
    pub fn is_empty(&self) -> bool {
        self.x5t_s256.is_none() && self.others.is_empty()
    }

    /// The `cnf` object as JSON.
    pub fn to_value(&self) -> Value {
        let mut map = self.others.clone();
        if let Some(x5t) = &self.x5t_s256 {
            map.insert(X5T_S256.to_owned(), Value::String(x5t.clone()));
        }
        Value::Object(map)
    }

    /// Reads the `cnf` claim of a JWT payload, if it has one.
    pub fn from_jwt_payload(payload: &JwtPayload) -> Result<Option<Self>, ConfirmationError> {
        payload.claim(CNF).map(Self::from_value).transpose()
    }

    /// Reads the `cnf` member of an RFC 7662 introspection response (or any
    /// claims object), if it has one.
    pub fn from_claims(claims: &Map<String, Value>) -> Result<Option<Self>, ConfirmationError> {
        claims.get(CNF).map(Self::from_value).transpose()
    }

    /// Puts this confirmation into a JWT payload as its `cnf` claim, replacing
    /// any `cnf` claim already there (RFC 8705 §3.1).
    pub fn insert_into_jwt_payload(&self, payload: &mut JwtPayload) {
        // josekit only type-checks its registered claims; `cnf` is not one,
        // so this cannot fail.
        if let Err(e) = payload.set_claim(CNF, Some(self.to_value())) {
            tracing::debug!(error = %e, "josekit refused the cnf claim");
        }
    }

    /// Puts this confirmation into an RFC 7662 introspection response as its
    /// `cnf` member (RFC 8705 §3.2), replacing any `cnf` already there.
    ///
    /// ```
    /// use certbound_binding::Confirmation;
    ///
    /// let t = "A4DtL2JmUMhAsvJj5tKyn64SqzmuXbMrJa0n761y5v0".parse()?;
    /// let mut response = serde_json::json!({"active": true, "sub": "ty.webb@example.com"});
    /// if let Some(map) = response.as_object_mut() {
    ///     Confirmation::from_thumbprint(t).insert_into_introspection(map);
    /// }
    /// assert_eq!(response["cnf"]["x5t#S256"], "A4DtL2JmUMhAsvJj5tKyn64SqzmuXbMrJa0n761y5v0");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn insert_into_introspection(&self, response: &mut Map<String, Value>) {
        response.insert(CNF.to_owned(), self.to_value());
    }
}

impl fmt::Debug for Confirmation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Confirmation({})", self.to_value())
    }
}

impl serde::Serialize for Confirmation {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_value().serialize(serializer)
    }
}

impl<'de> serde::Deserialize<'de> for Confirmation {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let map = Map::<String, Value>::deserialize(deserializer)?;
        Self::from_map(map).map_err(D::Error::custom)
    }
}

/// Why a `cnf` value is not a confirmation object.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfirmationError {
    /// `cnf` is not a JSON object.
    #[error("cnf is not a JSON object")]
    NotAnObject,
    /// `cnf.x5t#S256` is not a string.
    #[error("cnf.x5t#S256 is not a string")]
    X5tS256NotAString,
}

#[cfg(test)]
mod tests {
    use super::*;
    use certbound_testkit::vectors::{
        RFC8705_SECTION3_1_CLAIMS, RFC8705_SECTION3_2_INTROSPECTION, RFC8705_SECTION3_X5T_S256,
    };
    use serde_json::json;

    /// RFC 8705 Appendix A, Figure 5.
    const RFC8705_FIGURE_5: &str =
        r#"{"cnf":{"x5t#S256":"A4DtL2JmUMhAsvJj5tKyn64SqzmuXbMrJa0n761y5v0"}}"#;

    #[test]
    fn rfc8705_section_3_1_example_parses_as_cnf_but_not_as_thumbprint() {
        let payload: Map<String, Value> = serde_json::from_str(RFC8705_SECTION3_1_CLAIMS).unwrap();
        let jwt = JwtPayload::from_map(payload).unwrap();
        let cnf = Confirmation::from_jwt_payload(&jwt).unwrap().unwrap();
        assert_eq!(cnf.x5t_s256(), Some(RFC8705_SECTION3_X5T_S256));
        assert!(cnf.other_members().is_empty());
        assert_eq!(cnf.thumbprint(), Err(ThumbprintError::Encoding));
    }

    #[test]
    fn rfc8705_section_3_2_example_parses_as_cnf_but_not_as_thumbprint() {
        let response: Map<String, Value> =
            serde_json::from_str(RFC8705_SECTION3_2_INTROSPECTION).unwrap();
        let cnf = Confirmation::from_claims(&response).unwrap().unwrap();
        assert_eq!(cnf.x5t_s256(), Some(RFC8705_SECTION3_X5T_S256));
        assert!(cnf.thumbprint().is_err());
    }

    #[test]
    fn rfc8705_figure_5_is_a_valid_thumbprint() {
        let claims: Map<String, Value> = serde_json::from_str(RFC8705_FIGURE_5).unwrap();
        let cnf = Confirmation::from_claims(&claims).unwrap().unwrap();
        let t = cnf.thumbprint().unwrap().unwrap();
        assert_eq!(t.to_string(), "A4DtL2JmUMhAsvJj5tKyn64SqzmuXbMrJa0n761y5v0");
        assert_eq!(
            serde_json::to_string(&cnf).unwrap(),
            r#"{"x5t#S256":"A4DtL2JmUMhAsvJj5tKyn64SqzmuXbMrJa0n761y5v0"}"#
        );
    }

    #[test]
    fn other_members_pass_through() {
        let value =
            json!({"x5t#S256": "A4DtL2JmUMhAsvJj5tKyn64SqzmuXbMrJa0n761y5v0", "jkt": "abc"});
        let cnf: Confirmation = serde_json::from_value(value.clone()).unwrap();
        assert_eq!(cnf.other_members()["jkt"], "abc");
        assert_eq!(serde_json::to_value(&cnf).unwrap(), value);
        let jkt_only = Confirmation::from_value(&json!({"jkt": "abc"})).unwrap();
        assert_eq!(jkt_only.thumbprint(), Ok(None));
        assert!(!jkt_only.is_empty());
    }

    #[test]
    fn cnf_that_is_not_an_object_or_has_a_non_string_thumbprint_is_refused() {
        assert_eq!(
            Confirmation::from_value(&json!("x")),
            Err(ConfirmationError::NotAnObject)
        );
        assert_eq!(
            Confirmation::from_value(&json!({"x5t#S256": 42})),
            Err(ConfirmationError::X5tS256NotAString)
        );
        assert!(serde_json::from_value::<Confirmation>(json!([1])).is_err());
    }

    #[test]
    fn inserts_into_jwt_payload_and_introspection_response() {
        let t: Thumbprint = "A4DtL2JmUMhAsvJj5tKyn64SqzmuXbMrJa0n761y5v0"
            .parse()
            .unwrap();
        let cnf = Confirmation::from_thumbprint(t);
        let mut payload = JwtPayload::new();
        payload.set_subject("client");
        cnf.insert_into_jwt_payload(&mut payload);
        assert_eq!(
            payload.claim("cnf"),
            Some(&json!({"x5t#S256": "A4DtL2JmUMhAsvJj5tKyn64SqzmuXbMrJa0n761y5v0"}))
        );
        assert_eq!(
            Confirmation::from_jwt_payload(&payload).unwrap(),
            Some(cnf.clone())
        );
        let mut response = Map::new();
        response.insert("active".into(), json!(true));
        cnf.insert_into_introspection(&mut response);
        assert_eq!(Confirmation::from_claims(&response).unwrap(), Some(cnf));
    }
}
