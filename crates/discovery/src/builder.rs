//! Building a metadata document that says only what the server does.

use serde_json::Value;

use crate::aliases::{AliasError, MtlsEndpointAliases};
use crate::endpoint::Endpoint;
use crate::metadata::AuthorizationServerMetadata;
use crate::validate::{Profile, ValidationErrors};

/// Builds [`AuthorizationServerMetadata`] from the issuer and endpoint URLs,
/// the client authentication methods really configured, and the mTLS
/// aliases; [`build`](Self::build) validates the result.
///
/// ```
/// use certbound_discovery::{AuthorizationServerMetadata, Endpoint};
///
/// let md = AuthorizationServerMetadata::builder("https://as.example.com")
///     .standard_endpoints()
///     .tls_client_certificate_bound_access_tokens(true)
///     .auth_methods(["tls_client_auth", "self_signed_tls_client_auth"])
///     .token_endpoint_auth_methods(["client_secret_basic", "tls_client_auth"])
///     .mtls_host("mtls.example.com")
///     .build()?;
/// assert_eq!(
///     md.token_endpoint_auth_methods_supported.as_deref().unwrap(),
///     ["tls_client_auth", "self_signed_tls_client_auth", "client_secret_basic"]
/// );
/// assert_eq!(
///     md.mtls_endpoint_aliases.as_ref().unwrap().get(Endpoint::Token),
///     Some("https://mtls.example.com/token")
/// );
/// # Ok::<(), certbound_discovery::BuildError>(())
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct MetadataBuilder {
    md: AuthorizationServerMetadata,
    shared_methods: Vec<String>,
    token_methods: Vec<String>,
    alias_source: Option<AliasSource>,
    explicit_aliases: Vec<(Endpoint, String)>,
    profile: Profile,
    fields: Vec<(String, Value)>,
    /// The mTLS methods an authenticator runs, when one was given: then no
    /// list may claim another mTLS method.
    enabled_mtls_methods: Option<Vec<String>>,
}

#[derive(Debug, Clone)]
enum AliasSource {
    BaseUrl(String),
    Host(String),
}

/// Why [`MetadataBuilder::build`] failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// An mTLS alias could not be made.
    #[error(transparent)]
    Alias(#[from] AliasError),
    /// A field set with [`MetadataBuilder::field`] does not fit its type.
    #[error("{field}: {reason}")]
    Field {
        /// The field.
        field: String,
        /// Why it does not fit.
        reason: String,
    },
    /// A method list claims an mTLS method the authenticator given to
    /// `MetadataBuilder::authenticator` (feature `auth`) does not run.
    #[error("{field}: {method} is listed but the authenticator does not run it")]
    MtlsMethodNotEnabled {
        /// The method list.
        field: &'static str,
        /// The method.
        method: String,
    },
    /// The document breaks a rule.
    #[error(transparent)]
    Invalid(#[from] ValidationErrors),
}

impl AuthorizationServerMetadata {
    /// A [`MetadataBuilder`] for the server whose issuer identifier is `issuer`.
    pub fn builder(issuer: impl Into<String>) -> MetadataBuilder {
        MetadataBuilder::new(issuer)
    }
}

impl MetadataBuilder {
    /// A builder for the server whose issuer identifier is `issuer`.
    pub fn new(issuer: impl Into<String>) -> Self {
        Self {
            md: AuthorizationServerMetadata::new(issuer),
            shared_methods: Vec::new(),
            token_methods: Vec::new(),
            alias_source: None,
            explicit_aliases: Vec::new(),
            profile: Profile::Base,
            fields: Vec::new(),
            enabled_mtls_methods: None,
        }
    }

    /// Sets the URL of `endpoint` (`authorization_endpoint`,
    /// `token_endpoint`, `jwks_uri`, ...). An endpoint [`Endpoint`] does not
    /// name goes in with [`field`](Self::field).
    pub fn endpoint(mut self, endpoint: Endpoint, url: impl Into<String>) -> Self {
        self.md.set_endpoint(endpoint, url);
        self
    }

    /// Sets each endpoint that has a [standard path](Endpoint::standard_path)
    /// and is not set yet to that path under the issuer (`{issuer}/token`, ...).
    pub fn standard_endpoints(mut self) -> Self {
        let issuer = self.md.issuer.trim_end_matches('/').to_owned();
        for endpoint in Endpoint::ALL {
            if let Some(path) = endpoint.standard_path() {
                if self.md.endpoint(endpoint).is_none() {
                    self.md.set_endpoint(endpoint, format!("{issuer}{path}"));
                }
            }
        }
        self
    }

    /// Client authentication methods accepted at the token endpoint and, when
    /// they are published, the introspection and revocation endpoints: the
    /// methods of the server's mTLS authenticator, typically. Merged with the
    /// other calls' methods, duplicates dropped, first-seen order kept.
    pub fn auth_methods(mut self, methods: impl IntoIterator<Item = impl Into<String>>) -> Self {
        merge(&mut self.shared_methods, methods);
        self
    }

    /// The client authentication methods `authenticator` really has enabled
    /// (`tls_client_auth`, `self_signed_tls_client_auth`), as with
    /// [`auth_methods`](Self::auth_methods): so the document cannot claim an
    /// mTLS method the server does not run (build fails with
    /// [`BuildError::MtlsMethodNotEnabled`]), nor leave out one it does. Add the
    /// server's other methods with [`auth_methods`](Self::auth_methods) or
    /// [`token_endpoint_auth_methods`](Self::token_endpoint_auth_methods).
    ///
    /// ```
    /// use std::collections::HashMap;
    ///
    /// use certbound_auth::{Authenticator, RegisteredClient, SelfSignedTlsClientAuth};
    /// use certbound_discovery::AuthorizationServerMetadata;
    ///
    /// let authenticator = Authenticator::builder(HashMap::<String, RegisteredClient>::new())
    ///     .self_signed_tls_client_auth(SelfSignedTlsClientAuth::new())
    ///     .build()?;
    /// let md = AuthorizationServerMetadata::builder("https://as.example.com")
    ///     .standard_endpoints()
    ///     .authenticator(&authenticator)
    ///     .token_endpoint_auth_methods(["private_key_jwt"])
    ///     .build()?;
    /// assert_eq!(
    ///     md.token_endpoint_auth_methods_supported.unwrap(),
    ///     ["self_signed_tls_client_auth", "private_key_jwt"]
    /// );
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cfg(feature = "auth")]
    pub fn authenticator(mut self, authenticator: &certbound_auth::Authenticator) -> Self {
        let methods: Vec<String> = authenticator
            .supported_methods()
            .iter()
            .map(|m| m.as_str().to_owned())
            .collect();
        merge(
            self.enabled_mtls_methods.get_or_insert_with(Vec::new),
            methods.iter().cloned(),
        );
        self.auth_methods(methods)
    }

    /// More methods accepted at the token endpoint only (merged, de-duplicated).
    pub fn token_endpoint_auth_methods(
        mut self,
        methods: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        merge(&mut self.token_methods, methods);
        self
    }

    /// Sets `tls_client_certificate_bound_access_tokens` (RFC 8705 §3.3).
    pub fn tls_client_certificate_bound_access_tokens(mut self, bound: bool) -> Self {
        self.md.tls_client_certificate_bound_access_tokens = Some(bound);
        self
    }

    /// Sets `grant_types_supported`.
    pub fn grant_types(mut self, grant_types: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.md.grant_types_supported = Some(grant_types.into_iter().map(Into::into).collect());
        self
    }

    /// Sets `response_types_supported`. The document always has the list
    /// (RFC 8414 §2: required): unless set, `["code"]` when there is an
    /// authorization endpoint, `[]` when there is none.
    pub fn response_types(
        mut self,
        response_types: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        self.md.response_types_supported =
            Some(response_types.into_iter().map(Into::into).collect());
        self
    }

    /// Sets `scopes_supported`.
    pub fn scopes(mut self, scopes: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.md.scopes_supported = Some(scopes.into_iter().map(Into::into).collect());
        self
    }

    /// Sets `code_challenge_methods_supported`.
    pub fn code_challenge_methods(
        mut self,
        methods: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        self.md.code_challenge_methods_supported =
            Some(methods.into_iter().map(Into::into).collect());
        self
    }

    /// Sets any field by name, known or not (`dpop_signing_alg_values_supported`, ...).
    pub fn field(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.fields.push((name.into(), value.into()));
        self
    }

    /// Aliases `endpoint` to `url` (overrides a derived alias).
    pub fn mtls_alias(mut self, endpoint: Endpoint, url: impl Into<String>) -> Self {
        self.explicit_aliases.push((endpoint, url.into()));
        self
    }

    /// Aliases every endpoint but the browser-facing ones under `base`; see
    /// [`MtlsEndpointAliases::from_base_url`].
    pub fn mtls_base_url(mut self, base: impl Into<String>) -> Self {
        self.alias_source = Some(AliasSource::BaseUrl(base.into()));
        self
    }

    /// Aliases every endpoint but the browser-facing ones to the same URL on
    /// `host`; see [`MtlsEndpointAliases::from_host`].
    pub fn mtls_host(mut self, host: impl Into<String>) -> Self {
        self.alias_source = Some(AliasSource::Host(host.into()));
        self
    }

    /// Validates against `profile` as well on [`build`](Self::build).
    pub fn profile(mut self, profile: Profile) -> Self {
        self.profile = profile;
        self
    }

    /// The document, validated with [`validate_for`](AuthorizationServerMetadata::validate_for)
    /// and the [`profile`](Self::profile): a broken rule, in a field set with
    /// [`field`](Self::field) too (an `mtls_endpoint_aliases` entry for a
    /// browser-facing endpoint, say), is [`BuildError::Invalid`] with the
    /// errors validation reports.
    pub fn build(self) -> Result<AuthorizationServerMetadata, BuildError> {
        let Self {
            mut md,
            shared_methods,
            token_methods,
            alias_source,
            explicit_aliases,
            profile,
            fields,
            enabled_mtls_methods,
        } = self;

        if !fields.is_empty() {
            md = apply_fields(md, fields)?;
        }

        let lists = [
            (
                true,
                &mut md.token_endpoint_auth_methods_supported,
                token_methods,
            ),
            (
                md.introspection_endpoint.is_some(),
                &mut md.introspection_endpoint_auth_methods_supported,
                Vec::new(),
            ),
            (
                md.revocation_endpoint.is_some(),
                &mut md.revocation_endpoint_auth_methods_supported,
                Vec::new(),
            ),
        ];
        for (has_endpoint, list, own) in lists {
            let mut methods = list.take().unwrap_or_default();
            if has_endpoint {
                merge(&mut methods, shared_methods.iter().cloned());
            }
            merge(&mut methods, own);
            if !methods.is_empty() {
                *list = Some(methods);
            }
        }
        if let Some(enabled) = &enabled_mtls_methods {
            check_enabled(&md, enabled)?;
        }

        if md.response_types_supported.is_none() {
            // RFC 8414 §2: required. A server without an authorization
            // endpoint takes no response_type: the truthful list is empty.
            let code = md
                .authorization_endpoint
                .is_some()
                .then(|| "code".to_owned());
            md.response_types_supported = Some(code.into_iter().collect());
        }

        let mut aliases = match alias_source {
            None => md.mtls_endpoint_aliases.take().unwrap_or_default(),
            Some(AliasSource::BaseUrl(base)) => MtlsEndpointAliases::from_base_url(&md, &base)?,
            Some(AliasSource::Host(host)) => MtlsEndpointAliases::from_host(&md, &host)?,
        };
        for (endpoint, url) in explicit_aliases {
            aliases.insert(endpoint, url)?;
        }
        md.mtls_endpoint_aliases = (!aliases.is_empty()).then_some(aliases);

        md.validate_for(profile)?;
        Ok(md)
    }
}

/// With an authenticator given, every listed mTLS method must be one it runs.
fn check_enabled(md: &AuthorizationServerMetadata, enabled: &[String]) -> Result<(), BuildError> {
    let lists = [
        (
            "token_endpoint_auth_methods_supported",
            &md.token_endpoint_auth_methods_supported,
        ),
        (
            "introspection_endpoint_auth_methods_supported",
            &md.introspection_endpoint_auth_methods_supported,
        ),
        (
            "revocation_endpoint_auth_methods_supported",
            &md.revocation_endpoint_auth_methods_supported,
        ),
    ];
    for (field, list) in lists {
        for method in list.iter().flatten() {
            let is_mtls = MTLS_METHODS.contains(&method.as_str());
            if is_mtls && !enabled.contains(method) {
                return Err(BuildError::MtlsMethodNotEnabled {
                    field,
                    method: method.clone(),
                });
            }
        }
    }
    Ok(())
}

const MTLS_METHODS: &[&str] = &["tls_client_auth", "self_signed_tls_client_auth"];

fn merge(into: &mut Vec<String>, methods: impl IntoIterator<Item = impl Into<String>>) {
    for m in methods {
        let m = m.into();
        if !into.contains(&m) {
            into.push(m);
        }
    }
}

/// Sets fields by name through JSON, so known names land in their typed field.
fn apply_fields(
    md: AuthorizationServerMetadata,
    fields: Vec<(String, Value)>,
) -> Result<AuthorizationServerMetadata, BuildError> {
    let mut value = serde_json::to_value(md).map_err(|e| BuildError::Field {
        field: String::new(),
        reason: e.to_string(),
    })?;
    let mut last = String::new();
    if let Value::Object(map) = &mut value {
        for (name, v) in fields {
            last.clone_from(&name);
            map.insert(name, v);
        }
    }
    serde_json::from_value(value).map_err(|e| BuildError::Field {
        field: last,
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::ValidationError;

    #[test]
    fn methods_are_merged_without_duplicates_in_first_seen_order() {
        let md = AuthorizationServerMetadata::builder("https://as.example.com")
            .endpoint(Endpoint::Token, "https://as.example.com/token")
            .endpoint(Endpoint::Introspection, "https://as.example.com/introspect")
            .token_endpoint_auth_methods(["client_secret_basic", "private_key_jwt"])
            .auth_methods(["tls_client_auth", "client_secret_basic"])
            .auth_methods(vec![String::from("tls_client_auth")])
            .build()
            .unwrap();
        assert_eq!(
            md.token_endpoint_auth_methods_supported.unwrap(),
            ["tls_client_auth", "client_secret_basic", "private_key_jwt"]
        );
        assert_eq!(
            md.introspection_endpoint_auth_methods_supported.unwrap(),
            ["tls_client_auth", "client_secret_basic"]
        );
        // No revocation endpoint: no revocation method list either.
        assert_eq!(md.revocation_endpoint_auth_methods_supported, None);
    }

    #[test]
    fn standard_endpoints_fill_only_what_is_unset() {
        let md = AuthorizationServerMetadata::builder("https://as.example.com/t1/")
            .endpoint(Endpoint::Token, "https://tokens.example.com/token")
            .standard_endpoints()
            .build()
            .unwrap();
        assert_eq!(
            md.token_endpoint.as_deref(),
            Some("https://tokens.example.com/token")
        );
        assert_eq!(
            md.pushed_authorization_request_endpoint.as_deref(),
            Some("https://as.example.com/t1/par")
        );
        assert_eq!(
            md.jwks_uri.as_deref(),
            Some("https://as.example.com/t1/jwks")
        );
        assert_eq!(md.response_types_supported.unwrap(), ["code"]);
    }

    #[test]
    fn base_url_aliases_all_but_browser_facing_endpoints() {
        let md = AuthorizationServerMetadata::builder("https://as.example.com")
            .standard_endpoints()
            .endpoint(Endpoint::EndSession, "https://as.example.com/logout")
            .mtls_base_url("https://mtls.example.com")
            .build()
            .unwrap();
        let aliases = md.mtls_endpoint_aliases.unwrap();
        let names: Vec<_> = aliases.iter().map(|(n, _)| n).collect();
        assert_eq!(
            names,
            [
                "introspection_endpoint",
                "pushed_authorization_request_endpoint",
                "revocation_endpoint",
                "token_endpoint",
                "userinfo_endpoint",
            ]
        );
    }

    #[test]
    fn explicit_alias_overrides_the_derived_one() {
        let md = AuthorizationServerMetadata::builder("https://as.example.com")
            .standard_endpoints()
            .mtls_host("mtls.example.com")
            .mtls_alias(Endpoint::Token, "https://mtls-token.example.com/t")
            .build()
            .unwrap();
        let aliases = md.mtls_endpoint_aliases.unwrap();
        assert_eq!(
            aliases.get(Endpoint::Token),
            Some("https://mtls-token.example.com/t")
        );
        assert_eq!(
            aliases.get(Endpoint::Revocation),
            Some("https://mtls.example.com/revoke")
        );
    }

    #[test]
    fn aliasing_the_authorization_endpoint_is_refused() {
        let err = AuthorizationServerMetadata::builder("https://as.example.com")
            .standard_endpoints()
            .mtls_alias(
                Endpoint::Authorization,
                "https://mtls.example.com/authorize",
            )
            .build()
            .unwrap_err();
        assert!(matches!(
            err,
            BuildError::Alias(AliasError::BrowserFacing { .. })
        ));
    }

    #[test]
    fn browser_facing_alias_given_by_field_is_refused_as_validation_does() {
        for (endpoint, path) in [
            (Endpoint::EndSession, "/logout"),
            (Endpoint::Authorization, "/authorize"),
        ] {
            let key = endpoint.as_str();
            let err = AuthorizationServerMetadata::builder("https://as.example.com")
                .standard_endpoints()
                .endpoint(endpoint, format!("https://as.example.com{path}"))
                .field(
                    "mtls_endpoint_aliases",
                    serde_json::json!({
                        "token_endpoint": "https://mtls.example.com/token",
                        key: format!("https://mtls.example.com{path}"),
                    }),
                )
                .build()
                .unwrap_err();
            let BuildError::Invalid(errors) = err else {
                panic!("{key}: expected validation errors, got {err:?}");
            };
            assert_eq!(
                errors.as_slice(),
                [ValidationError::BrowserFacingEndpointAliased { key: key.into() }]
            );
        }
    }

    #[test]
    fn response_types_supported_is_always_published() {
        // No authorization endpoint: no response_type is taken.
        let md = AuthorizationServerMetadata::builder("https://as.example.com")
            .endpoint(Endpoint::Token, "https://as.example.com/token")
            .auth_methods(["tls_client_auth"])
            .build()
            .unwrap();
        assert_eq!(md.response_types_supported, Some(Vec::new()));
        assert!(
            md.to_json().contains(r#""response_types_supported":[]"#),
            "{}",
            md.to_json()
        );

        let md = AuthorizationServerMetadata::builder("https://as.example.com")
            .endpoint(Endpoint::Authorization, "https://as.example.com/authorize")
            .endpoint(Endpoint::Token, "https://as.example.com/token")
            .build()
            .unwrap();
        assert_eq!(md.response_types_supported.unwrap(), ["code"]);

        let md = AuthorizationServerMetadata::builder("https://as.example.com")
            .standard_endpoints()
            .response_types(["code", "code id_token"])
            .build()
            .unwrap();
        assert_eq!(
            md.response_types_supported.unwrap(),
            ["code", "code id_token"]
        );
    }

    #[test]
    fn fields_by_name_land_in_typed_fields_or_extra() {
        let md = AuthorizationServerMetadata::builder("https://as.example.com")
            .field("require_pushed_authorization_requests", true)
            .field(
                "dpop_signing_alg_values_supported",
                serde_json::json!(["ES256"]),
            )
            .build()
            .unwrap();
        assert_eq!(md.require_pushed_authorization_requests, Some(true));
        assert_eq!(
            md.extra.get("dpop_signing_alg_values_supported"),
            Some(&serde_json::json!(["ES256"]))
        );

        let err = AuthorizationServerMetadata::builder("https://as.example.com")
            .field("require_pushed_authorization_requests", "yes")
            .build()
            .unwrap_err();
        assert!(
            matches!(&err, BuildError::Field { field, .. } if field == "require_pushed_authorization_requests"),
            "{err:?}"
        );
    }

    #[test]
    fn build_validates_the_fapi_profile_when_asked() {
        let builder = AuthorizationServerMetadata::builder("https://as.example.com")
            .standard_endpoints()
            .token_endpoint_auth_methods(["private_key_jwt"]);
        assert!(builder.clone().build().is_ok());
        let err = builder.profile(Profile::Fapi).build().unwrap_err();
        let BuildError::Invalid(errors) = err else {
            panic!("expected validation errors, got {err:?}");
        };
        assert_eq!(
            errors.as_slice(),
            [
                ValidationError::BoundTokensNotClaimed,
                ValidationError::NoMtlsAuthMethod
            ]
        );
    }
}
