//! [`AccessTokenValidator`]: from a bearer token to its claims.

use std::future::Future;

use crate::{OAuthError, TokenClaims};

mod cache;
#[cfg(feature = "http")]
mod http;
mod introspection;
mod jwt;
mod keys;
#[cfg(feature = "remote-keys")]
mod remote;
mod rules;

pub use cache::CachedValidator;

#[cfg(feature = "http")]
pub use http::{HttpIntrospectionError, HttpIntrospector};
pub use introspection::{Introspect, IntrospectionValidator, verify_introspection_response};
pub use jwt::{JwsAlg, JwtValidator, JwtValidatorBuilder, JwtValidatorError, TypCheck};
#[cfg(feature = "remote-keys")]
pub use remote::{
    BoxFuture, FetchedDocument, KeyRefresh, KeySetFetchError, KeySetFetcher, KeySetStatus,
};

/// Turns a bearer token into its claims, with its confirmation (`cnf`) if
/// it has one. The binding to the request's certificate is checked after,
/// by [`verify_binding`](crate::verify_binding); a validator only says
/// whether the token itself is good.
///
/// Provided: [`JwtValidator`] (RFC 9068 JWTs, keys from a JWKS) and
/// [`IntrospectionValidator`] (RFC 7662, over your own HTTP call). Any
/// `Fn(String) -> impl Future<Output = Result<TokenClaims, TokenError>>`
/// closure is a validator too, and [`CachedValidator`] wraps any validator
/// to remember the tokens it accepted.
pub trait AccessTokenValidator: Send + Sync + 'static {
    /// Validates `token`.
    fn validate(&self, token: &str)
    -> impl Future<Output = Result<TokenClaims, TokenError>> + Send;
}

impl<F, Fut> AccessTokenValidator for F
where
    F: Fn(String) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<TokenClaims, TokenError>> + Send,
{
    fn validate(
        &self,
        token: &str,
    ) -> impl Future<Output = Result<TokenClaims, TokenError>> + Send {
        self(token.to_owned())
    }
}

/// Why a token was refused by a validator.
///
/// [`description`](Self::description) is the short text the client sees;
/// `Display` gives the detail, for logs and the CLI.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// Not a JWS compact serialization, its parts are not JSON objects, or
    /// its header is not one this crate reads (critical extensions, a `kid`
    /// that is not a string).
    #[error("malformed token: {0}")]
    Malformed(String),
    /// `alg` is `none`, or not in the allow-list.
    #[error("signing algorithm {0:?} is not accepted")]
    UnsupportedAlgorithm(String),
    /// `typ` is not `at+jwt` (RFC 9068 §4): the `typ` found (as JSON text
    /// when it is not a string), `None` when there is none.
    #[error("token type {0:?} is not an access token type")]
    UnacceptableType(Option<String>),
    /// No key of the key set has the token's `kid` and algorithm.
    #[error("no key for kid {kid:?} and algorithm {alg}")]
    UnknownKey {
        /// The token's `kid`.
        kid: Option<String>,
        /// The token's `alg`.
        alg: String,
    },
    /// The signature does not verify.
    #[error("the signature does not verify")]
    BadSignature,
    /// `iss` is not the expected issuer.
    #[error("issuer {found:?} is not {expected:?}")]
    WrongIssuer {
        /// The expected issuer.
        expected: String,
        /// The token's `iss`.
        found: Option<String>,
    },
    /// `aud` does not contain the expected audience.
    #[error("audience {found:?} does not contain {expected:?}")]
    WrongAudience {
        /// The expected audience.
        expected: String,
        /// The token's audiences.
        found: Vec<String>,
    },
    /// `exp` is in the past (leeway included).
    #[error("expired at {0} (seconds since the epoch)")]
    Expired(u64),
    /// `nbf` is in the future (leeway included).
    #[error("not valid before {0} (seconds since the epoch)")]
    NotYetValid(u64),
    /// A required claim is missing or not of its type.
    #[error("the {0} claim is missing or invalid")]
    MissingClaim(&'static str),
    /// `cnf` is not a confirmation object.
    #[error("invalid cnf claim: {0}")]
    InvalidConfirmation(String),
    /// The introspection response says `active: false`.
    #[error("the token is not active")]
    Inactive,
    /// The token could not be checked (the introspection call failed).
    #[error("the token could not be checked: {0}")]
    Unavailable(String),
}

impl TokenError {
    /// The short description for the client.
    pub fn description(&self) -> &'static str {
        match self {
            TokenError::Malformed(_) => "the access token is malformed",
            TokenError::UnsupportedAlgorithm(_) => "the access token's algorithm is not accepted",
            TokenError::UnacceptableType(_) => "the token is not an access token",
            TokenError::UnknownKey { .. } => "the access token is signed with an unknown key",
            TokenError::BadSignature => "the access token's signature is invalid",
            TokenError::WrongIssuer { .. } => "the access token is from another issuer",
            TokenError::WrongAudience { .. } => "the access token is for another audience",
            TokenError::Expired(_) => "the access token has expired",
            TokenError::NotYetValid(_) => "the access token is not valid yet",
            TokenError::MissingClaim(_) => "the access token lacks a required claim",
            TokenError::InvalidConfirmation(_) => "the access token's cnf claim is invalid",
            TokenError::Inactive => "the access token is not active",
            TokenError::Unavailable(_) => "the access token could not be checked",
        }
    }

    /// The RFC 6750 answer: `invalid_token` (401), or 503 for
    /// [`Unavailable`](Self::Unavailable).
    pub fn to_oauth_error(&self) -> OAuthError {
        match self {
            TokenError::Unavailable(_) => OAuthError::temporarily_unavailable(self.description()),
            _ => OAuthError::invalid_token(self.description()),
        }
    }
}
