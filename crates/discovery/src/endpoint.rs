//! The endpoint URLs a metadata document names.

use std::fmt;
use std::str::FromStr;

/// An endpoint URL field of the metadata document (RFC 8414 §2, RFC 7009,
/// RFC 7662, RFC 8628, RFC 9126, OpenID Connect Discovery and CIBA), named by
/// [`as_str`](Self::as_str) as in the document and in RFC 8705 §5
/// `mtls_endpoint_aliases`.
///
/// ```
/// use certbound_discovery::Endpoint;
///
/// assert_eq!(Endpoint::Token.as_str(), "token_endpoint");
/// assert_eq!("jwks_uri".parse(), Ok(Endpoint::JwksUri));
/// assert!(Endpoint::Introspection.is_aliasable());
/// assert!(!Endpoint::Authorization.is_aliasable());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Endpoint {
    /// `authorization_endpoint` (browser-facing).
    Authorization,
    /// `token_endpoint`.
    Token,
    /// `jwks_uri`: the server's key set, not an endpoint a client
    /// authenticates at, so never aliased.
    JwksUri,
    /// `registration_endpoint` (RFC 7591).
    Registration,
    /// `revocation_endpoint` (RFC 7009).
    Revocation,
    /// `introspection_endpoint` (RFC 7662).
    Introspection,
    /// `device_authorization_endpoint` (RFC 8628).
    DeviceAuthorization,
    /// `pushed_authorization_request_endpoint` (RFC 9126).
    PushedAuthorizationRequest,
    /// `userinfo_endpoint` (OpenID Connect).
    Userinfo,
    /// `end_session_endpoint` (OpenID Connect RP-initiated logout; browser-facing).
    EndSession,
    /// `backchannel_authentication_endpoint` (OpenID Connect CIBA).
    BackchannelAuthentication,
}

/// The name is not one of [`Endpoint`]'s.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a known endpoint metadata name: {0}")]
pub struct UnknownEndpoint(pub String);

impl Endpoint {
    /// Every endpoint, in document order.
    pub const ALL: [Endpoint; 11] = [
        Self::Authorization,
        Self::Token,
        Self::JwksUri,
        Self::Registration,
        Self::Revocation,
        Self::Introspection,
        Self::DeviceAuthorization,
        Self::PushedAuthorizationRequest,
        Self::Userinfo,
        Self::EndSession,
        Self::BackchannelAuthentication,
    ];

    /// The metadata name (`token_endpoint`, `jwks_uri`, ...).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Authorization => "authorization_endpoint",
            Self::Token => "token_endpoint",
            Self::JwksUri => "jwks_uri",
            Self::Registration => "registration_endpoint",
            Self::Revocation => "revocation_endpoint",
            Self::Introspection => "introspection_endpoint",
            Self::DeviceAuthorization => "device_authorization_endpoint",
            Self::PushedAuthorizationRequest => "pushed_authorization_request_endpoint",
            Self::Userinfo => "userinfo_endpoint",
            Self::EndSession => "end_session_endpoint",
            Self::BackchannelAuthentication => "backchannel_authentication_endpoint",
        }
    }

    /// Whether a user's browser is sent there. Such endpoints are never
    /// aliased: a browser has no client certificate to present (RFC 8705 §5).
    /// [`MtlsEndpointAliases::insert`](crate::MtlsEndpointAliases::insert)
    /// refuses them, and validation reports an alias of one read from JSON
    /// ([`ValidationError::BrowserFacingEndpointAliased`](crate::ValidationError::BrowserFacingEndpointAliased)).
    pub const fn is_browser_facing(self) -> bool {
        matches!(self, Self::Authorization | Self::EndSession)
    }

    /// Whether `mtls_endpoint_aliases` may hold it: an `*_endpoint` that is
    /// not browser-facing.
    pub const fn is_aliasable(self) -> bool {
        !self.is_browser_facing() && !matches!(self, Self::JwksUri)
    }

    /// The path [`MetadataBuilder::standard_endpoints`](crate::MetadataBuilder::standard_endpoints)
    /// puts it at under the issuer, for the endpoints it sets.
    pub const fn standard_path(self) -> Option<&'static str> {
        match self {
            Self::Authorization => Some("/authorize"),
            Self::Token => Some("/token"),
            Self::Introspection => Some("/introspect"),
            Self::Revocation => Some("/revoke"),
            Self::PushedAuthorizationRequest => Some("/par"),
            Self::Userinfo => Some("/userinfo"),
            Self::JwksUri => Some("/jwks"),
            Self::Registration
            | Self::DeviceAuthorization
            | Self::EndSession
            | Self::BackchannelAuthentication => None,
        }
    }
}

impl FromStr for Endpoint {
    type Err = UnknownEndpoint;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|e| e.as_str() == name)
            .ok_or_else(|| UnknownEndpoint(name.to_owned()))
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_parses_back_to_its_endpoint() {
        for e in Endpoint::ALL {
            assert_eq!(e.as_str().parse(), Ok(e));
        }
        assert_eq!(
            "issuer".parse::<Endpoint>(),
            Err(UnknownEndpoint("issuer".into()))
        );
    }

    #[test]
    fn only_back_channel_endpoint_fields_are_aliasable() {
        let aliasable: Vec<_> = Endpoint::ALL
            .into_iter()
            .filter(|e| e.is_aliasable())
            .collect();
        assert!(aliasable.iter().all(|e| e.as_str().ends_with("_endpoint")));
        assert!(!aliasable.contains(&Endpoint::Authorization));
        assert!(!aliasable.contains(&Endpoint::EndSession));
        assert!(!aliasable.contains(&Endpoint::JwksUri));
        assert_eq!(aliasable.len(), Endpoint::ALL.len() - 3);
    }
}
