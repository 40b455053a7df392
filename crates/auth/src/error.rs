//! [`AuthError`]: why a client was not authenticated, and what it is told.

use crate::TokenEndpointAuthMethod;
use crate::registry::RegistryError;
use certbound_oauth::OAuthError;

/// The one `error_description` of every `invalid_client` refusal: which
/// check failed is an oracle for client ids and the PKI, so it goes to
/// `tracing` only.
pub(crate) const INVALID_CLIENT: &str = "client authentication failed";

/// Why a client was not authenticated. The [`Display`](std::fmt::Display)
/// form is for logs; [`to_oauth_error`](Self::to_oauth_error) is what the
/// client sees.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// No client is registered under this `client_id`.
    #[error("unknown client")]
    UnknownClient,
    /// The client is registered with another method: not ours to judge, so
    /// the layer passes the request on.
    #[error("client uses {method}, not an mTLS method")]
    NotMtlsClient {
        /// The registered method.
        method: TokenEndpointAuthMethod,
    },
    /// The client's method is not enabled on this authenticator.
    #[error("{method} is not enabled")]
    MethodNotEnabled {
        /// The registered method.
        method: TokenEndpointAuthMethod,
    },
    /// No client certificate came with the request.
    #[error("no client certificate")]
    NoCertificate,
    /// There is no trust anchor to validate against.
    #[error("no trust anchor configured")]
    NoTrustAnchors,
    /// The leaf is past its notAfter.
    #[error("client certificate expired")]
    Expired,
    /// The leaf is before its notBefore.
    #[error("client certificate not yet valid")]
    NotYetValid,
    /// The leaf has no EKU extension and one listing clientAuth is required.
    #[error("client certificate has no extended key usage extension")]
    EkuMissing,
    /// A certificate has an EKU extension without clientAuth.
    #[error("client certificate is not for client authentication (EKU)")]
    WrongEku,
    /// The leaf lacks a required certificate policy.
    #[error("client certificate lacks required policy {oid}")]
    PolicyMissing {
        /// The missing policy OID.
        oid: String,
    },
    /// No path leads to a trust anchor.
    #[error("client certificate issuer is not trusted")]
    UnknownIssuer,
    /// A CRL lists a certificate of the path.
    #[error("client certificate revoked")]
    Revoked,
    /// No configured CRL covers the issuer of a certificate of the path,
    /// and unknown revocation status is refused.
    #[error("revocation status unknown: no CRL covers the issuer")]
    RevocationStatusUnknown,
    /// The CRL of the issuer of a certificate of the path is past its
    /// nextUpdate (and past the grace period, if one is configured): it
    /// could not be refreshed, so the status is unknown and refused.
    #[error("the CRL covering the issuer is past its nextUpdate")]
    CrlExpired,
    /// The issuing CA's key is not the pinned one.
    #[error("issuing CA does not match the pinned key")]
    IssuerPinMismatch,
    /// More intermediates than allowed.
    #[error("certificate path has {intermediates} intermediates, at most {max} allowed")]
    PathTooLong {
        /// Intermediates in the shortest path found.
        intermediates: usize,
        /// The limit.
        max: usize,
    },
    /// Path validation failed for another reason.
    #[error("certificate path invalid: {0}")]
    InvalidPath(String),
    /// The leaf does not carry the registered subject parameter.
    #[error("client certificate does not match {parameter}")]
    SubjectMismatch {
        /// The registered parameter's name.
        parameter: &'static str,
    },
    /// The self-signed certificate is not among the registered ones.
    #[error("client certificate is not registered")]
    CertificateNotRegistered,
    /// The client's `jwks_uri` key set could not be fetched.
    #[error("client key set unavailable: {0}")]
    JwksUnavailable(String),
    /// The request also carries another client authentication method
    /// (RFC 6749 §2.3: one method per request).
    #[error("the request also uses {other}; one client authentication method per request")]
    MultipleMethods {
        /// The other method's credentials (`Authorization: Basic`,
        /// `client_secret`, `client_assertion`).
        other: &'static str,
    },
    /// The registry failed.
    #[error(transparent)]
    Registry(#[from] RegistryError),
}

impl AuthError {
    /// Whether the client uses a method that is not mutual TLS, so that
    /// other client authentication should handle it.
    pub fn is_not_mtls(&self) -> bool {
        matches!(self, Self::NotMtlsClient { .. })
    }

    /// The OAuth error the client sees: `500 server_error` when the
    /// registry failed, `400 invalid_request` for a second method, and
    /// otherwise `401 invalid_client` with one description for every reason.
    pub fn to_oauth_error(&self) -> OAuthError {
        self.oauth_error(false)
    }

    pub(crate) fn oauth_error(&self, with_reason: bool) -> OAuthError {
        match self {
            Self::Registry(_) => OAuthError::server_error("client registry unavailable"),
            Self::MultipleMethods { .. } => OAuthError::invalid_request(
                "more than one client authentication method in the request",
            ),
            _ if with_reason => OAuthError::invalid_client(self.to_string()),
            _ => OAuthError::invalid_client(INVALID_CLIENT),
        }
    }
}
