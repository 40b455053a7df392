//! RFC 8705 §5 `mtls_endpoint_aliases`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::endpoint::Endpoint;
use crate::metadata::AuthorizationServerMetadata;
use crate::url::{self, AbsoluteUrl};

/// The `mtls_endpoint_aliases` object (RFC 8705 §5): for some endpoints, the
/// URL a client that uses mutual TLS calls instead of the top-level one, so a
/// server can ask for client certificates on a separate host without
/// bothering browsers or non-mTLS clients.
///
/// [`insert`](Self::insert) refuses the endpoints that are not
/// [aliasable](Endpoint::is_aliasable): the browser-facing ones
/// (`authorization_endpoint`, `end_session_endpoint`), since a browser has no
/// certificate to present, and `jwks_uri`, which is not an `*_endpoint`.
/// A document read from JSON is taken as it is, unknown names included;
/// [`validate`](AuthorizationServerMetadata::validate) reports what is wrong,
/// by the same rule: an alias of a browser-facing endpoint is
/// [`ValidationError::BrowserFacingEndpointAliased`](crate::ValidationError::BrowserFacingEndpointAliased).
///
/// ```
/// use certbound_discovery::{AuthorizationServerMetadata, Endpoint, MtlsEndpointAliases};
///
/// let mut md = AuthorizationServerMetadata::new("https://as.example.com");
/// md.set_endpoint(Endpoint::Authorization, "https://as.example.com/authorize");
/// md.set_endpoint(Endpoint::Token, "https://as.example.com/token");
/// let aliases = MtlsEndpointAliases::from_host(&md, "mtls.example.com")?;
/// assert_eq!(aliases.get(Endpoint::Token), Some("https://mtls.example.com/token"));
/// assert_eq!(aliases.get(Endpoint::Authorization), None);
/// # Ok::<(), certbound_discovery::AliasError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MtlsEndpointAliases(BTreeMap<String, String>);

/// Why an alias could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AliasError {
    /// Alias names are endpoint metadata names, which end in `_endpoint`.
    #[error("mtls_endpoint_aliases.{name}: not an endpoint name (must end in _endpoint)")]
    NotAnEndpoint {
        /// The refused name.
        name: String,
    },
    /// The endpoint is visited by browsers and must not be aliased.
    #[error("mtls_endpoint_aliases.{name}: browser-facing endpoints are never aliased")]
    BrowserFacing {
        /// The refused name.
        name: String,
    },
    /// The base URL is not an absolute URL without query or fragment.
    #[error("mTLS base URL is not an absolute URL without query or fragment: {url}")]
    InvalidBaseUrl {
        /// The refused URL.
        url: String,
    },
    /// The host is not `host` or `host:port`.
    #[error("mTLS host is not a host name with an optional port: {host}")]
    InvalidHost {
        /// The refused host.
        host: String,
    },
    /// A top-level endpoint URL could not be parsed, so no alias can be derived.
    #[error("{name}: not an absolute URL: {url}")]
    InvalidEndpointUrl {
        /// The endpoint's metadata name.
        name: String,
        /// Its URL.
        url: String,
    },
}

impl MtlsEndpointAliases {
    /// No aliases.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the alias of `endpoint`, returning the previous one.
    pub fn insert(
        &mut self,
        endpoint: Endpoint,
        url: impl Into<String>,
    ) -> Result<Option<String>, AliasError> {
        let name = endpoint.as_str();
        if let Some(refused) = refusal(name) {
            return Err(refused);
        }
        Ok(self.0.insert(name.to_owned(), url.into()))
    }

    /// [`insert`](Self::insert), by value, for chaining.
    pub fn with(mut self, endpoint: Endpoint, url: impl Into<String>) -> Result<Self, AliasError> {
        self.insert(endpoint, url)?;
        Ok(self)
    }

    /// The alias of `endpoint`, if any.
    pub fn get(&self, endpoint: Endpoint) -> Option<&str> {
        self.0.get(endpoint.as_str()).map(String::as_str)
    }

    /// Removes and returns the alias of `endpoint`.
    pub fn remove(&mut self, endpoint: Endpoint) -> Option<String> {
        self.0.remove(endpoint.as_str())
    }

    /// `(endpoint name, alias URL)` pairs, by name, names this crate does not
    /// know included.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// How many aliases there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// An alias for every top-level endpoint of `metadata` except the
    /// browser-facing ones, under `base`: the part of the endpoint URL after
    /// the issuer is appended to `base` (an endpoint outside the issuer keeps
    /// its whole path). With issuer `https://as.example.com` and base
    /// `https://mtls.example.com`, `https://as.example.com/token` becomes
    /// `https://mtls.example.com/token`.
    pub fn from_base_url(
        metadata: &AuthorizationServerMetadata,
        base: &str,
    ) -> Result<Self, AliasError> {
        if AbsoluteUrl::parse(base).is_none_or(|u| u.query.is_some() || u.has_fragment) {
            return Err(AliasError::InvalidBaseUrl { url: base.into() });
        }
        let base = base.trim_end_matches('/');
        let issuer = metadata.issuer.trim_end_matches('/');
        let mut aliases = Self::new();
        for (name, url) in aliasable(metadata) {
            let rest = match url.strip_prefix(issuer) {
                Some(rest) if rest.is_empty() || rest.starts_with(['/', '?']) => rest.to_owned(),
                _ => parse_endpoint(name, url)?.path_and_query(),
            };
            aliases.0.insert(name.to_owned(), format!("{base}{rest}"));
        }
        Ok(aliases)
    }

    /// An alias for every top-level endpoint of `metadata` except the
    /// browser-facing ones: the same URL on `host` (`host` or `host:port`,
    /// typically an `mtls.` host name).
    pub fn from_host(
        metadata: &AuthorizationServerMetadata,
        host: &str,
    ) -> Result<Self, AliasError> {
        let authority =
            url::parse_host(host).ok_or_else(|| AliasError::InvalidHost { host: host.into() })?;
        let mut aliases = Self::new();
        for (name, url) in aliasable(metadata) {
            let alias = parse_endpoint(name, url)?.with_authority(&authority);
            aliases.0.insert(name.to_owned(), alias);
        }
        Ok(aliases)
    }
}

impl<'a> IntoIterator for &'a MtlsEndpointAliases {
    type Item = (&'a String, &'a String);
    type IntoIter = std::collections::btree_map::Iter<'a, String, String>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// Why `name` may not be a key of `mtls_endpoint_aliases`, or `None` when it
/// may: the one rule [`MtlsEndpointAliases::insert`], the derived aliases and
/// [`validate`](AuthorizationServerMetadata::validate) follow. A known
/// endpoint may be aliased when it is [aliasable](Endpoint::is_aliasable)
/// (so never when it is [browser-facing](Endpoint::is_browser_facing)); a
/// name this crate does not know, when it ends in `_endpoint`.
pub(crate) fn refusal(name: &str) -> Option<AliasError> {
    match name.parse::<Endpoint>() {
        Ok(endpoint) if endpoint.is_browser_facing() => Some(AliasError::BrowserFacing {
            name: name.to_owned(),
        }),
        Ok(endpoint) if endpoint.is_aliasable() => None,
        Err(_) if name.ends_with("_endpoint") => None,
        Ok(_) | Err(_) => Some(AliasError::NotAnEndpoint {
            name: name.to_owned(),
        }),
    }
}

/// The endpoints of `metadata` that get an alias: the aliasable known ones,
/// and every `*_endpoint` kept in `extra`.
fn aliasable(metadata: &AuthorizationServerMetadata) -> impl Iterator<Item = (&str, &str)> {
    metadata
        .endpoints()
        .filter(|(name, _)| refusal(name).is_none())
}

fn parse_endpoint(name: &str, url: &str) -> Result<AbsoluteUrl, AliasError> {
    AbsoluteUrl::parse(url).ok_or_else(|| AliasError::InvalidEndpointUrl {
        name: name.into(),
        url: url.into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metadata(issuer: &str) -> AuthorizationServerMetadata {
        let mut md = AuthorizationServerMetadata::new(issuer);
        for (endpoint, path) in [
            (Endpoint::Authorization, "/authorize"),
            (Endpoint::Token, "/token"),
            (Endpoint::Introspection, "/introspect"),
            (Endpoint::EndSession, "/logout"),
            (Endpoint::JwksUri, "/jwks"),
        ] {
            md.set_endpoint(endpoint, format!("{issuer}{path}"));
        }
        md
    }

    #[test]
    fn browser_facing_endpoints_and_jwks_uri_are_refused() {
        let mut a = MtlsEndpointAliases::new();
        assert_eq!(
            a.insert(Endpoint::Authorization, "https://m/a"),
            Err(AliasError::BrowserFacing {
                name: "authorization_endpoint".into()
            })
        );
        assert_eq!(
            a.insert(Endpoint::EndSession, "https://m/a"),
            Err(AliasError::BrowserFacing {
                name: "end_session_endpoint".into()
            })
        );
        assert_eq!(
            a.insert(Endpoint::JwksUri, "https://m/jwks"),
            Err(AliasError::NotAnEndpoint {
                name: "jwks_uri".into()
            })
        );
        assert_eq!(a.iter().count(), 0);
        assert_eq!(a.insert(Endpoint::Token, "https://m/t"), Ok(None));
        assert_eq!(
            a.insert(Endpoint::Token, "https://m/t2"),
            Ok(Some("https://m/t".into()))
        );
        assert_eq!(a.get(Endpoint::Token), Some("https://m/t2"));
    }

    #[test]
    fn extra_endpoints_are_aliased_too() {
        let mut md = metadata("https://as.example.com");
        md.extra.insert(
            "x_custom_endpoint".into(),
            "https://as.example.com/custom".into(),
        );
        let a = MtlsEndpointAliases::from_host(&md, "mtls.example.com").unwrap();
        let names: Vec<_> = a.iter().map(|(n, _)| n).collect();
        assert_eq!(
            names,
            [
                "introspection_endpoint",
                "token_endpoint",
                "x_custom_endpoint"
            ]
        );
    }

    #[test]
    fn base_url_aliases_every_back_channel_endpoint() {
        let md = metadata("https://as.example.com");
        let a = MtlsEndpointAliases::from_base_url(&md, "https://mtls.example.com/").unwrap();
        let got: Vec<_> = a.iter().collect();
        assert_eq!(
            got,
            [
                (
                    "introspection_endpoint",
                    "https://mtls.example.com/introspect"
                ),
                ("token_endpoint", "https://mtls.example.com/token"),
            ]
        );
    }

    #[test]
    fn base_url_keeps_the_path_below_an_issuer_with_a_path() {
        let md = metadata("https://as.example.com/realms/a");
        let a = MtlsEndpointAliases::from_base_url(&md, "https://mtls.example.com:8443/realms/a")
            .unwrap();
        assert_eq!(
            a.get(Endpoint::Token),
            Some("https://mtls.example.com:8443/realms/a/token")
        );
    }

    #[test]
    fn endpoint_outside_the_issuer_keeps_its_whole_path() {
        let mut md = AuthorizationServerMetadata::new("https://as.example.com/t1");
        md.set_endpoint(Endpoint::Token, "https://tokens.example.com/oauth/token");
        let a = MtlsEndpointAliases::from_base_url(&md, "https://mtls.example.com").unwrap();
        assert_eq!(
            a.get(Endpoint::Token),
            Some("https://mtls.example.com/oauth/token")
        );
    }

    #[test]
    fn base_url_with_query_is_refused() {
        let md = metadata("https://as.example.com");
        assert!(matches!(
            MtlsEndpointAliases::from_base_url(&md, "https://mtls.example.com/?a=b"),
            Err(AliasError::InvalidBaseUrl { .. })
        ));
        assert!(matches!(
            MtlsEndpointAliases::from_base_url(&md, "mtls.example.com"),
            Err(AliasError::InvalidBaseUrl { .. })
        ));
    }

    #[test]
    fn host_replaces_only_the_authority() {
        let md = metadata("https://as.example.com/t1");
        let a = MtlsEndpointAliases::from_host(&md, "mtls.example.com").unwrap();
        assert_eq!(
            a.get(Endpoint::Introspection),
            Some("https://mtls.example.com/t1/introspect")
        );
        assert_eq!(a.len(), 2);
        assert!(matches!(
            MtlsEndpointAliases::from_host(&md, "https://mtls.example.com"),
            Err(AliasError::InvalidHost { .. })
        ));
    }
}
