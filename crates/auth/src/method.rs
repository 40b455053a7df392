//! [`TokenEndpointAuthMethod`]: the registered client authentication method.

use std::fmt;

/// A `token_endpoint_auth_method` value (RFC 7591 §2, RFC 8705 §2.1.1 and
/// §2.2.1). Unknown values are kept as [`Other`](Self::Other).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TokenEndpointAuthMethod {
    /// `tls_client_auth`: PKI mutual TLS (RFC 8705 §2.1).
    TlsClientAuth,
    /// `self_signed_tls_client_auth`: a registered self-signed certificate
    /// (RFC 8705 §2.2).
    SelfSignedTlsClientAuth,
    /// `client_secret_basic`, the RFC 7591 default.
    ClientSecretBasic,
    /// `client_secret_post`.
    ClientSecretPost,
    /// `client_secret_jwt` (RFC 7523).
    ClientSecretJwt,
    /// `private_key_jwt` (RFC 7523).
    PrivateKeyJwt,
    /// `none`: a public client.
    None,
    /// Any other value.
    Other(String),
}

impl TokenEndpointAuthMethod {
    /// The registered name.
    pub fn as_str(&self) -> &str {
        match self {
            Self::TlsClientAuth => "tls_client_auth",
            Self::SelfSignedTlsClientAuth => "self_signed_tls_client_auth",
            Self::ClientSecretBasic => "client_secret_basic",
            Self::ClientSecretPost => "client_secret_post",
            Self::ClientSecretJwt => "client_secret_jwt",
            Self::PrivateKeyJwt => "private_key_jwt",
            Self::None => "none",
            Self::Other(s) => s,
        }
    }

    /// Whether this is one of the two RFC 8705 methods.
    pub fn is_mtls(&self) -> bool {
        matches!(self, Self::TlsClientAuth | Self::SelfSignedTlsClientAuth)
    }
}

impl Default for TokenEndpointAuthMethod {
    /// `client_secret_basic`, the default of RFC 7591 §2 when the field is absent.
    fn default() -> Self {
        Self::ClientSecretBasic
    }
}

/// Every string is a method: an unregistered name is kept as
/// [`Other`](TokenEndpointAuthMethod::Other).
///
/// ```
/// use certbound_auth::TokenEndpointAuthMethod;
///
/// assert_eq!(TokenEndpointAuthMethod::from("tls_client_auth"), TokenEndpointAuthMethod::TlsClientAuth);
/// assert_eq!(TokenEndpointAuthMethod::from("x"), TokenEndpointAuthMethod::Other("x".into()));
/// ```
impl From<&str> for TokenEndpointAuthMethod {
    fn from(s: &str) -> Self {
        match s {
            "tls_client_auth" => Self::TlsClientAuth,
            "self_signed_tls_client_auth" => Self::SelfSignedTlsClientAuth,
            "client_secret_basic" => Self::ClientSecretBasic,
            "client_secret_post" => Self::ClientSecretPost,
            "client_secret_jwt" => Self::ClientSecretJwt,
            "private_key_jwt" => Self::PrivateKeyJwt,
            "none" => Self::None,
            other => Self::Other(other.to_owned()),
        }
    }
}

impl fmt::Display for TokenEndpointAuthMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for TokenEndpointAuthMethod {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for TokenEndpointAuthMethod {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Ok(Self::from(s.as_ref()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_name() {
        for name in [
            "tls_client_auth",
            "self_signed_tls_client_auth",
            "client_secret_basic",
            "client_secret_post",
            "client_secret_jwt",
            "private_key_jwt",
            "none",
            "something_else",
        ] {
            let m: TokenEndpointAuthMethod = serde_json::from_str(&format!("\"{name}\"")).unwrap();
            assert_eq!(m.as_str(), name);
            assert_eq!(serde_json::to_string(&m).unwrap(), format!("\"{name}\""));
        }
        assert!(TokenEndpointAuthMethod::TlsClientAuth.is_mtls());
        assert!(!TokenEndpointAuthMethod::PrivateKeyJwt.is_mtls());
    }
}
