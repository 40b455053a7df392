//! The metadata document: RFC 8414, the common OpenID Connect Discovery 1.0
//! fields and RFC 8705 §5.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::aliases::MtlsEndpointAliases;
use crate::endpoint::Endpoint;
use crate::validate::{self, Profile, ValidationErrors};

/// Authorization server metadata (RFC 8414 §2), with the OpenID Connect
/// Discovery 1.0 fields most servers publish and the RFC 8705 §5 fields.
///
/// Every field but `issuer` is optional and left out of the JSON when unset.
/// Fields this type does not know are kept in [`extra`](Self::extra), so a
/// document read and written again loses nothing.
///
/// Build one with [`AuthorizationServerMetadata::builder`]; read one with
/// [`AuthorizationServerMetadata::from_json`] (clients) or
/// [`validate::check_document`](crate::check_document) (to list every problem).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AuthorizationServerMetadata {
    /// The authorization server's issuer identifier: an `https` URL with no
    /// query or fragment (RFC 8414 §2).
    pub issuer: String,
    /// URL of the authorization endpoint (browser-facing; never aliased).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_endpoint: Option<String>,
    /// URL of the token endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_endpoint: Option<String>,
    /// URL of the server's JSON Web Key Set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
    /// URL of the dynamic client registration endpoint (RFC 7591).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration_endpoint: Option<String>,
    /// OAuth scope values the server supports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes_supported: Option<Vec<String>>,
    /// `response_type` values the server supports (RFC 8414: required;
    /// [`validate`](Self::validate) reports it missing, the builder always
    /// sets it, empty when there is no authorization endpoint).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_types_supported: Option<Vec<String>>,
    /// `response_mode` values the server supports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_modes_supported: Option<Vec<String>>,
    /// Grant types the server supports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_types_supported: Option<Vec<String>>,
    /// Client authentication methods at the token endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_endpoint_auth_methods_supported: Option<Vec<String>>,
    /// JWS algorithms for `private_key_jwt` / `client_secret_jwt` at the token endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_endpoint_auth_signing_alg_values_supported: Option<Vec<String>>,
    /// URL of human-readable documentation for developers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_documentation: Option<String>,
    /// Languages supported for the user interface (BCP 47).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ui_locales_supported: Option<Vec<String>>,
    /// URL of the server's policy on client data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub op_policy_uri: Option<String>,
    /// URL of the server's terms of service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub op_tos_uri: Option<String>,
    /// URL of the revocation endpoint (RFC 7009).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocation_endpoint: Option<String>,
    /// Client authentication methods at the revocation endpoint. RFC 8414
    /// makes an absent list mean `client_secret_basic`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocation_endpoint_auth_methods_supported: Option<Vec<String>>,
    /// JWS algorithms for JWT client authentication at the revocation endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocation_endpoint_auth_signing_alg_values_supported: Option<Vec<String>>,
    /// URL of the introspection endpoint (RFC 7662).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub introspection_endpoint: Option<String>,
    /// Client authentication methods at the introspection endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub introspection_endpoint_auth_methods_supported: Option<Vec<String>>,
    /// JWS algorithms for JWT client authentication at the introspection endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub introspection_endpoint_auth_signing_alg_values_supported: Option<Vec<String>>,
    /// PKCE code challenge methods (RFC 7636).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_challenge_methods_supported: Option<Vec<String>>,
    /// A JWT with signed metadata values (RFC 8414 §2.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed_metadata: Option<String>,
    /// URL of the device authorization endpoint (RFC 8628).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_authorization_endpoint: Option<String>,
    /// URL of the pushed authorization request endpoint (RFC 9126).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pushed_authorization_request_endpoint: Option<String>,
    /// Whether every authorization request must be pushed (RFC 9126).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_pushed_authorization_requests: Option<bool>,
    /// Whether the `iss` authorization response parameter is sent (RFC 9207).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_response_iss_parameter_supported: Option<bool>,
    /// URL of the OpenID Connect UserInfo endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub userinfo_endpoint: Option<String>,
    /// URL of the OpenID Connect RP-initiated logout endpoint (browser-facing;
    /// never aliased).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_session_endpoint: Option<String>,
    /// URL of the OpenID Connect CIBA backchannel authentication endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backchannel_authentication_endpoint: Option<String>,
    /// OpenID Connect subject identifier types (`public`, `pairwise`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject_types_supported: Option<Vec<String>>,
    /// JWS algorithms for ID tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token_signing_alg_values_supported: Option<Vec<String>>,
    /// JWS algorithms for signed UserInfo responses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub userinfo_signing_alg_values_supported: Option<Vec<String>>,
    /// JWS algorithms for request objects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_object_signing_alg_values_supported: Option<Vec<String>>,
    /// Authentication context class references the server supports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acr_values_supported: Option<Vec<String>>,
    /// `display` parameter values the server supports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_values_supported: Option<Vec<String>>,
    /// Claim types (`normal`, `aggregated`, `distributed`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim_types_supported: Option<Vec<String>>,
    /// Claim names the server may supply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claims_supported: Option<Vec<String>>,
    /// Languages for claim values (BCP 47).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claims_locales_supported: Option<Vec<String>>,
    /// Whether the `claims` request parameter is supported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claims_parameter_supported: Option<bool>,
    /// Whether the `request` parameter is supported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_parameter_supported: Option<bool>,
    /// Whether the `request_uri` parameter is supported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_uri_parameter_supported: Option<bool>,
    /// Whether `request_uri` values must be pre-registered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_request_uri_registration: Option<bool>,
    /// RFC 8705 §3.3: the server issues certificate-bound access tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_client_certificate_bound_access_tokens: Option<bool>,
    /// RFC 8705 §5: endpoints to use instead of the top-level ones when the
    /// client authenticates with, or binds tokens to, a TLS client certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtls_endpoint_aliases: Option<MtlsEndpointAliases>,
    /// Every other field, kept as it was.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Which connection the client will make to the authorization server, for
/// [`AuthorizationServerMetadata::endpoint_for`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientTransport {
    /// The client presents a TLS client certificate (it authenticates with
    /// `tls_client_auth` / `self_signed_tls_client_auth`, or wants
    /// certificate-bound tokens): use the mTLS alias when there is one.
    Mtls,
    /// The client does not use a client certificate: use the top-level endpoint.
    Plain,
}

/// Error reading a metadata document.
#[derive(Debug, thiserror::Error)]
#[error("invalid authorization server metadata: {0}")]
pub struct ParseError(#[from] serde_json::Error);

impl AuthorizationServerMetadata {
    /// Metadata with only the issuer set.
    pub fn new(issuer: impl Into<String>) -> Self {
        Self {
            issuer: issuer.into(),
            ..Self::default()
        }
    }

    /// Reads a metadata document (as a client does after fetching it).
    ///
    /// This only checks the JSON types; call [`validate`](Self::validate) or
    /// use [`check_document`](crate::check_document) for the rules.
    pub fn from_json(json: &[u8]) -> Result<Self, ParseError> {
        Ok(serde_json::from_slice(json)?)
    }

    /// The document as compact JSON.
    pub fn to_json(&self) -> String {
        // Serializing this type cannot fail: every key is a string and every
        // value plain JSON. Fall back to an empty object rather than panic.
        serde_json::to_string(self).unwrap_or_else(|_| String::from("{}"))
    }

    /// The document as indented JSON, for people.
    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|_| String::from("{}"))
    }

    /// Checks the RFC 8414 / RFC 8705 rules; see [`ValidationError`](crate::ValidationError).
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        self.validate_for(Profile::Base)
    }

    /// Checks the rules of `profile` (the base rules, plus FAPI's when asked).
    pub fn validate_for(&self, profile: Profile) -> Result<(), ValidationErrors> {
        ValidationErrors::result(validate::check_typed(self, profile))
    }

    /// The top-level URL of `endpoint`, if set.
    pub fn endpoint(&self, endpoint: Endpoint) -> Option<&str> {
        let field = match endpoint {
            Endpoint::Authorization => &self.authorization_endpoint,
            Endpoint::Token => &self.token_endpoint,
            Endpoint::JwksUri => &self.jwks_uri,
            Endpoint::Registration => &self.registration_endpoint,
            Endpoint::Revocation => &self.revocation_endpoint,
            Endpoint::Introspection => &self.introspection_endpoint,
            Endpoint::DeviceAuthorization => &self.device_authorization_endpoint,
            Endpoint::PushedAuthorizationRequest => &self.pushed_authorization_request_endpoint,
            Endpoint::Userinfo => &self.userinfo_endpoint,
            Endpoint::EndSession => &self.end_session_endpoint,
            Endpoint::BackchannelAuthentication => &self.backchannel_authentication_endpoint,
        };
        field.as_deref()
    }

    /// Sets the top-level URL of `endpoint`.
    pub fn set_endpoint(&mut self, endpoint: Endpoint, url: impl Into<String>) {
        let field = match endpoint {
            Endpoint::Authorization => &mut self.authorization_endpoint,
            Endpoint::Token => &mut self.token_endpoint,
            Endpoint::JwksUri => &mut self.jwks_uri,
            Endpoint::Registration => &mut self.registration_endpoint,
            Endpoint::Revocation => &mut self.revocation_endpoint,
            Endpoint::Introspection => &mut self.introspection_endpoint,
            Endpoint::DeviceAuthorization => &mut self.device_authorization_endpoint,
            Endpoint::PushedAuthorizationRequest => &mut self.pushed_authorization_request_endpoint,
            Endpoint::Userinfo => &mut self.userinfo_endpoint,
            Endpoint::EndSession => &mut self.end_session_endpoint,
            Endpoint::BackchannelAuthentication => &mut self.backchannel_authentication_endpoint,
        };
        *field = Some(url.into());
    }

    /// Every top-level endpoint URL that is set as `(name, url)`: the
    /// [`Endpoint`] fields in document order, then the `*_endpoint` fields
    /// kept in [`extra`](Self::extra).
    pub fn endpoints(&self) -> impl Iterator<Item = (&str, &str)> {
        let known = Endpoint::ALL
            .into_iter()
            .filter_map(|e| self.endpoint(e).map(|url| (e.as_str(), url)));
        let extra = self.extra.iter().filter_map(|(name, v)| {
            let url = v.as_str()?;
            name.ends_with("_endpoint").then_some((name.as_str(), url))
        });
        known.chain(extra)
    }

    /// The endpoint a client should call (RFC 8705 §5): the
    /// `mtls_endpoint_aliases` entry when the client uses mTLS and the server
    /// published one, otherwise the top-level endpoint.
    ///
    /// ```
    /// use certbound_discovery::{AuthorizationServerMetadata, ClientTransport, Endpoint};
    ///
    /// let md = AuthorizationServerMetadata::from_json(br#"{
    ///     "issuer": "https://server.example.com",
    ///     "token_endpoint": "https://server.example.com/token",
    ///     "mtls_endpoint_aliases": { "token_endpoint": "https://mtls.example.com/token" }
    /// }"#)?;
    /// assert_eq!(
    ///     md.endpoint_for(Endpoint::Token, ClientTransport::Mtls),
    ///     Some("https://mtls.example.com/token")
    /// );
    /// assert_eq!(
    ///     md.endpoint_for(Endpoint::Token, ClientTransport::Plain),
    ///     Some("https://server.example.com/token")
    /// );
    /// # Ok::<(), certbound_discovery::ParseError>(())
    /// ```
    pub fn endpoint_for(&self, endpoint: Endpoint, transport: ClientTransport) -> Option<&str> {
        if transport == ClientTransport::Mtls {
            let alias = self
                .mtls_endpoint_aliases
                .as_ref()
                .and_then(|a| a.get(endpoint));
            if let Some(alias) = alias {
                return Some(alias);
            }
        }
        self.endpoint(endpoint)
    }

    /// Whether the server advertises certificate-bound access tokens.
    pub fn issues_bound_tokens(&self) -> bool {
        self.tls_client_certificate_bound_access_tokens == Some(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_fields_are_kept_through_a_round_trip() {
        let json = serde_json::json!({
            "issuer": "https://as.example.com",
            "dpop_signing_alg_values_supported": ["ES256"],
            "x_vendor": {"nested": [1, 2, 3]}
        });
        let md: AuthorizationServerMetadata = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(md.extra.len(), 2);
        assert_eq!(serde_json::to_value(&md).unwrap(), json);
    }

    #[test]
    fn unset_fields_are_left_out() {
        let md = AuthorizationServerMetadata::new("https://as.example.com");
        assert_eq!(md.to_json(), r#"{"issuer":"https://as.example.com"}"#);
    }

    #[test]
    fn endpoint_without_alias_falls_back_to_top_level_for_mtls_clients() {
        let mut md = AuthorizationServerMetadata::new("https://as.example.com");
        md.set_endpoint(Endpoint::Userinfo, "https://as.example.com/userinfo");
        assert_eq!(
            md.endpoint_for(Endpoint::Userinfo, ClientTransport::Mtls),
            Some("https://as.example.com/userinfo")
        );
        assert_eq!(
            md.endpoint_for(Endpoint::Token, ClientTransport::Mtls),
            None
        );
    }

    #[test]
    fn extra_endpoints_are_listed_after_the_known_ones() {
        let mut md = AuthorizationServerMetadata::new("https://as.example.com");
        md.extra.insert(
            "x_custom_endpoint".into(),
            "https://as.example.com/custom".into(),
        );
        md.extra.insert("x_not_a_url".into(), "kept".into());
        md.set_endpoint(Endpoint::Token, "https://as.example.com/token");
        md.set_endpoint(Endpoint::JwksUri, "https://as.example.com/jwks");
        let listed: Vec<_> = md.endpoints().collect();
        assert_eq!(
            listed,
            [
                ("token_endpoint", "https://as.example.com/token"),
                ("jwks_uri", "https://as.example.com/jwks"),
                ("x_custom_endpoint", "https://as.example.com/custom"),
            ]
        );
    }

    #[test]
    fn set_endpoint_lands_in_the_field_of_that_name() {
        for e in Endpoint::ALL {
            let mut md = AuthorizationServerMetadata::new("https://as.example.com");
            md.set_endpoint(e, "https://as.example.com/x");
            let json: Value = serde_json::from_str(&md.to_json()).unwrap();
            assert_eq!(json[e.as_str()], "https://as.example.com/x", "{e}");
            assert_eq!(md.endpoint(e), Some("https://as.example.com/x"));
        }
    }
}
