//! The rules a metadata document must follow.
//!
//! The base rules are what the OpenID Foundation conformance suite refuses in
//! RFC 8414 / RFC 8705 metadata. The FAPI profile is opt-in: RFC 8705 §4 lets
//! a server bind the tokens of public clients without offering any mTLS
//! client authentication, which FAPI does not allow.

use std::str::FromStr;

use serde_json::{Map, Value};

use crate::aliases::{self, AliasError};
use crate::metadata::AuthorizationServerMetadata;
use crate::url::AbsoluteUrl;

/// Which rules to check.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Profile {
    /// RFC 8414 and RFC 8705 §5 (the default).
    #[default]
    Base,
    /// The base rules, and FAPI's: certificate-bound access tokens are
    /// claimed and at least one mTLS client authentication method is listed.
    Fapi,
}

/// The profile name is not one this crate knows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown profile {0:?} (known: base, fapi)")]
pub struct UnknownProfile(String);

impl FromStr for Profile {
    type Err = UnknownProfile;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "base" | "rfc8414" => Ok(Self::Base),
            "fapi" => Ok(Self::Fapi),
            _ => Err(UnknownProfile(s.to_owned())),
        }
    }
}

/// One broken rule. [`field`](Self::field) names the metadata field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ValidationError {
    /// The document is not a JSON object.
    #[error("the document is not a JSON object")]
    NotAnObject,
    /// `issuer` is missing.
    #[error("issuer: missing (required)")]
    MissingIssuer,
    /// `response_types_supported` is missing (RFC 8414 §2: required; an
    /// empty array when the server takes no `response_type`).
    #[error("response_types_supported: missing (required)")]
    MissingResponseTypes,
    /// A known field has the wrong JSON type.
    #[error("{field}: {reason}")]
    WrongType {
        /// The field.
        field: String,
        /// What serde expected.
        reason: String,
    },
    /// `mtls_endpoint_aliases` is not a JSON object.
    #[error("mtls_endpoint_aliases: not a JSON object")]
    AliasesNotAnObject,
    /// An `mtls_endpoint_aliases` key does not end in `_endpoint`.
    #[error("mtls_endpoint_aliases.{key}: alias names must end in _endpoint")]
    AliasKeyNotEndpoint {
        /// The key.
        key: String,
    },
    /// `mtls_endpoint_aliases` aliases a browser-facing endpoint
    /// (`authorization_endpoint`, `end_session_endpoint`: see
    /// [`Endpoint::is_browser_facing`]), which a browser calls without a
    /// client certificate (RFC 8705 §5). [`MtlsEndpointAliases::insert`]
    /// refuses the same names.
    ///
    /// [`Endpoint::is_browser_facing`]: crate::Endpoint::is_browser_facing
    /// [`MtlsEndpointAliases::insert`]: crate::MtlsEndpointAliases::insert
    #[error("mtls_endpoint_aliases.{key}: {key} is browser-facing and must not be aliased")]
    BrowserFacingEndpointAliased {
        /// The key.
        key: String,
    },
    /// An alias has no top-level endpoint of the same name.
    #[error("mtls_endpoint_aliases.{key}: aliased, but there is no top-level {key}")]
    AliasWithoutTopLevel {
        /// The key.
        key: String,
    },
    /// A URL field is not an absolute URL.
    #[error("{field}: not an absolute URL: {url:?}")]
    NotAUrl {
        /// The field (`mtls_endpoint_aliases.<name>` for an alias).
        field: String,
        /// The value.
        url: String,
    },
    /// A URL field does not use `https` (plain `http` is accepted on
    /// loopback hosts only, for development).
    #[error("{field}: must use https (http only on loopback): {url}")]
    NotHttps {
        /// The field (`mtls_endpoint_aliases.<name>` for an alias).
        field: String,
        /// The value.
        url: String,
    },
    /// The issuer has a query component (RFC 8414 §2).
    #[error("issuer: must not have a query component: {url}")]
    IssuerHasQuery {
        /// The issuer.
        url: String,
    },
    /// The issuer has a fragment component (RFC 8414 §2).
    #[error("issuer: must not have a fragment component: {url}")]
    IssuerHasFragment {
        /// The issuer.
        url: String,
    },
    /// FAPI: `tls_client_certificate_bound_access_tokens` is not `true`.
    #[error("tls_client_certificate_bound_access_tokens: the FAPI profile requires true")]
    BoundTokensNotClaimed,
    /// FAPI: no mTLS method in `token_endpoint_auth_methods_supported`.
    #[error(
        "token_endpoint_auth_methods_supported: the FAPI profile requires tls_client_auth or self_signed_tls_client_auth"
    )]
    NoMtlsAuthMethod,
}

impl ValidationError {
    /// The metadata field the error is about (`mtls_endpoint_aliases.<key>`
    /// for one alias, the empty string for [`NotAnObject`](Self::NotAnObject)).
    pub fn field(&self) -> String {
        match self {
            Self::NotAnObject => String::new(),
            Self::MissingIssuer | Self::IssuerHasQuery { .. } | Self::IssuerHasFragment { .. } => {
                "issuer".into()
            }
            Self::WrongType { field, .. }
            | Self::NotAUrl { field, .. }
            | Self::NotHttps { field, .. } => field.clone(),
            Self::AliasesNotAnObject => "mtls_endpoint_aliases".into(),
            Self::MissingResponseTypes => "response_types_supported".into(),
            Self::AliasKeyNotEndpoint { key }
            | Self::AliasWithoutTopLevel { key }
            | Self::BrowserFacingEndpointAliased { key } => {
                format!("mtls_endpoint_aliases.{key}")
            }
            Self::BoundTokensNotClaimed => "tls_client_certificate_bound_access_tokens".into(),
            Self::NoMtlsAuthMethod => "token_endpoint_auth_methods_supported".into(),
        }
    }
}

/// Every broken rule of one document, in document order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid authorization server metadata: {}",
    .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
)]
pub struct ValidationErrors(Vec<ValidationError>);

impl ValidationErrors {
    pub(crate) fn result(errors: Vec<ValidationError>) -> Result<(), Self> {
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Self(errors))
        }
    }

    /// The errors.
    pub fn as_slice(&self) -> &[ValidationError] {
        &self.0
    }

    /// The errors, owned.
    pub fn into_vec(self) -> Vec<ValidationError> {
        self.0
    }

    /// Iterates over the errors.
    pub fn iter(&self) -> std::slice::Iter<'_, ValidationError> {
        self.0.iter()
    }
}

impl<'a> IntoIterator for &'a ValidationErrors {
    type Item = &'a ValidationError;
    type IntoIter = std::slice::Iter<'a, ValidationError>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// Checks a metadata document as JSON, listing every problem, including
/// those the typed [`AuthorizationServerMetadata`] cannot hold (a field of
/// the wrong type, `mtls_endpoint_aliases` that is not an object). Returns
/// the typed document when there is none.
///
/// ```
/// use certbound_discovery::{check_document, Profile, ValidationError};
///
/// let doc = serde_json::json!({
///     "issuer": "https://as.example.com",
///     "token_endpoint": "https://as.example.com/token",
///     "mtls_endpoint_aliases": "https://mtls.example.com"
/// });
/// let errors = check_document(&doc, Profile::Base).unwrap_err();
/// assert_eq!(
///     errors.as_slice(),
///     [ValidationError::AliasesNotAnObject, ValidationError::MissingResponseTypes]
/// );
/// ```
pub fn check_document(
    document: &Value,
    profile: Profile,
) -> Result<AuthorizationServerMetadata, ValidationErrors> {
    let Some(object) = document.as_object() else {
        return Err(ValidationErrors(vec![ValidationError::NotAnObject]));
    };
    if let Ok(md) = serde_json::from_value::<AuthorizationServerMetadata>(document.clone()) {
        return md.validate_for(profile).map(|()| md);
    }

    // Some field does not fit its type: find each one, then check the rest.
    let mut errors = Vec::new();
    let mut usable = object.clone();
    for (key, value) in object {
        if key == "mtls_endpoint_aliases" {
            match value.as_object() {
                None => {
                    errors.push(ValidationError::AliasesNotAnObject);
                    usable.remove(key);
                }
                Some(aliases) => {
                    let before = errors.len();
                    for (alias, url) in aliases {
                        if !url.is_string() {
                            errors.push(ValidationError::WrongType {
                                field: format!("mtls_endpoint_aliases.{alias}"),
                                reason: format!("expected a string URL, found {url}"),
                            });
                        }
                    }
                    if errors.len() > before {
                        usable.remove(key);
                    }
                }
            }
        } else if let Err(e) = probe_field(key, value) {
            errors.push(ValidationError::WrongType {
                field: key.clone(),
                reason: e.to_string(),
            });
            usable.remove(key);
        }
    }
    let issuer_missing = !matches!(usable.get("issuer"), Some(Value::String(_)));
    if !object.contains_key("issuer") {
        errors.push(ValidationError::MissingIssuer);
    }
    if issuer_missing {
        // A stand-in that breaks no rule, so the other fields are checked.
        usable.insert("issuer".into(), Value::String(PLACEHOLDER_ISSUER.into()));
    }
    if object.contains_key(RESPONSE_TYPES) && !usable.contains_key(RESPONSE_TYPES) {
        // Present but of the wrong type (reported above), not missing.
        usable.insert(RESPONSE_TYPES.into(), Value::Array(Vec::new()));
    }
    match serde_json::from_value::<AuthorizationServerMetadata>(Value::Object(usable)) {
        Ok(md) => errors.extend(check_typed(&md, profile)),
        Err(e) => {
            tracing::debug!(error = %e, "metadata still does not parse after removing bad fields")
        }
    }
    Err(ValidationErrors(errors))
}

const PLACEHOLDER_ISSUER: &str = "https://issuer.invalid";
const RESPONSE_TYPES: &str = "response_types_supported";

/// Whether `key: value` deserializes on its own (with an issuer beside it).
fn probe_field(key: &str, value: &Value) -> Result<(), serde_json::Error> {
    let mut probe = Map::new();
    if key != "issuer" {
        probe.insert("issuer".into(), Value::String(PLACEHOLDER_ISSUER.into()));
    }
    probe.insert(key.into(), value.clone());
    serde_json::from_value::<AuthorizationServerMetadata>(Value::Object(probe)).map(|_| ())
}

/// The rules on the typed document.
pub(crate) fn check_typed(
    md: &AuthorizationServerMetadata,
    profile: Profile,
) -> Vec<ValidationError> {
    let mut errors = Vec::new();

    if let Some(u) = check_url(&mut errors, "issuer", &md.issuer) {
        if u.query.is_some() {
            errors.push(ValidationError::IssuerHasQuery {
                url: md.issuer.clone(),
            });
        }
        if u.has_fragment {
            errors.push(ValidationError::IssuerHasFragment {
                url: md.issuer.clone(),
            });
        }
    }

    if md.response_types_supported.is_none() {
        errors.push(ValidationError::MissingResponseTypes);
    }

    let url_fields = [
        ("service_documentation", md.service_documentation.as_deref()),
        ("op_policy_uri", md.op_policy_uri.as_deref()),
        ("op_tos_uri", md.op_tos_uri.as_deref()),
    ];
    let endpoints = md.endpoints().map(|(n, u)| (n, Some(u)));
    for (field, url) in endpoints.chain(url_fields) {
        if let Some(url) = url {
            check_url(&mut errors, field, url);
        }
    }

    if let Some(aliases) = &md.mtls_endpoint_aliases {
        for (key, url) in aliases.iter() {
            let key_owned = || key.to_owned();
            // The rule `MtlsEndpointAliases::insert` follows.
            match aliases::refusal(key) {
                Some(AliasError::BrowserFacing { .. }) => {
                    errors.push(ValidationError::BrowserFacingEndpointAliased { key: key_owned() });
                }
                Some(_) => errors.push(ValidationError::AliasKeyNotEndpoint { key: key_owned() }),
                None if !md.endpoints().any(|(name, _)| name == key) => {
                    errors.push(ValidationError::AliasWithoutTopLevel { key: key_owned() });
                }
                None => {}
            }
            check_url(&mut errors, &format!("mtls_endpoint_aliases.{key}"), url);
        }
    }

    if profile == Profile::Fapi {
        if !md.issues_bound_tokens() {
            errors.push(ValidationError::BoundTokensNotClaimed);
        }
        let has_mtls = md
            .token_endpoint_auth_methods_supported
            .iter()
            .flatten()
            .any(|m| m == "tls_client_auth" || m == "self_signed_tls_client_auth");
        if !has_mtls {
            errors.push(ValidationError::NoMtlsAuthMethod);
        }
    }
    errors
}

/// Checks that `url` is an absolute `https` URL (`http` on loopback) and
/// returns it parsed, if it parses.
fn check_url(errors: &mut Vec<ValidationError>, field: &str, url: &str) -> Option<AbsoluteUrl> {
    let Some(u) = AbsoluteUrl::parse(url) else {
        errors.push(ValidationError::NotAUrl {
            field: field.into(),
            url: url.into(),
        });
        return None;
    };
    if !(u.is_https() || (u.is_http() && u.is_loopback())) {
        errors.push(ValidationError::NotHttps {
            field: field.into(),
            url: url.into(),
        });
    }
    Some(u)
}
