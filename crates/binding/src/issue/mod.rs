//! Issuing: the authorization server's signing keys ([`SigningKeyRing`]),
//! their JWKS ([`JwksService`]), RFC 9068 access tokens
//! ([`AccessTokenIssuer`]) and refresh tokens ([`RefreshToken`]).

mod access_token;
mod jwks;
mod key_ring;

pub use access_token::{AccessToken, AccessTokenBuilder, AccessTokenIssuer, RefreshToken};
pub use jwks::JwksService;
pub use key_ring::{SigningKeyRing, SigningKeyRingBuilder};

use std::time::Duration;

/// Why a key could not be made or a token could not be issued.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IssueError {
    /// The key could not be generated.
    #[error("signing key generation failed: {0}")]
    KeyGeneration(String),
    /// The key given does not suit the ring's algorithm, or has no private
    /// part.
    #[error("signing key refused: {0}")]
    InvalidKey(String),
    /// Signing failed.
    #[error("signing failed: {0}")]
    Signing(String),
    /// The operating system gave no random bytes for a `jti` or a refresh
    /// token.
    #[error("no random bytes: {0}")]
    Random(String),
    /// RFC 9068 §2.2 requires `aud`; none was given.
    #[error("an access token needs an audience (RFC 9068 §2.2)")]
    MissingAudience,
    /// The token would outlive the time its key stays published: its
    /// lifetime, or its `exp` (given to
    /// [`SigningKeyRing::sign`]), is beyond the ring's
    /// [`max_token_lifetime`](SigningKeyRing::max_token_lifetime).
    #[error("token lifetime {requested:?} exceeds the key ring's maximum {max:?}")]
    LifetimeTooLong {
        /// The lifetime asked for.
        requested: Duration,
        /// The ring's [`max_token_lifetime`](SigningKeyRing::max_token_lifetime).
        max: Duration,
    },
    /// A JWT given to [`SigningKeyRing::sign`] has no `exp`, or one that is
    /// not a NumericDate: its key could leave the JWKS before it expires.
    #[error("the token has no valid exp claim, so it could outlive its signing key's publication")]
    MissingExpiry,
    /// An extra claim would overwrite one the issuer sets.
    #[error("claim {0:?} is set by the issuer")]
    ReservedClaim(String),
    /// Scheduled rotation needs a tokio runtime; there was none.
    #[error("scheduled rotation needs a tokio runtime")]
    NoRuntime,
}

/// `len` random bytes from the operating system, base64url.
fn random_base64url(len: usize) -> Result<String, IssueError> {
    use base64::Engine as _;
    let mut bytes = vec![0u8; len];
    getrandom::fill(&mut bytes).map_err(|e| IssueError::Random(e.to_string()))?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}
