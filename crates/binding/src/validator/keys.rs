//! Where a [`JwtValidator`](super::JwtValidator)'s keys come from: a fixed
//! set, or (feature `remote-keys`) a `jwks_uri` or an issuer's metadata,
//! refreshed in the background.

use std::fmt;
use std::sync::Arc;

use josekit::jwk::JwkSet;

use super::TokenError;
use super::jwt::{JwsAlg, JwtValidatorError, KeySet};

#[cfg(feature = "remote-keys")]
use super::remote::{RemoteKeys, RemoteSpec};

/// The key source a builder was given.
#[derive(Clone)]
pub(super) enum KeySource {
    Fixed(JwkSet),
    #[cfg(feature = "remote-keys")]
    Remote(RemoteSpec),
}

impl fmt::Debug for KeySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeySource::Fixed(set) => f.debug_tuple("Fixed").field(&set.keys().len()).finish(),
            #[cfg(feature = "remote-keys")]
            KeySource::Remote(spec) => f.debug_tuple("Remote").field(spec).finish(),
        }
    }
}

impl KeySource {
    pub(super) fn into_store(self, algorithms: &[JwsAlg]) -> Result<KeyStore, JwtValidatorError> {
        match self {
            KeySource::Fixed(set) => {
                Ok(KeyStore::Fixed(Arc::new(KeySet::build(&set, algorithms)?)))
            }
            #[cfg(feature = "remote-keys")]
            KeySource::Remote(spec) => Ok(KeyStore::Remote(RemoteKeys::start(spec, algorithms)?)),
        }
    }
}

/// A built validator's keys: the verifiers, swapped whole on a refresh.
pub(super) enum KeyStore {
    Fixed(Arc<KeySet>),
    #[cfg(feature = "remote-keys")]
    Remote(RemoteKeys),
}

impl fmt::Debug for KeyStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyStore::Fixed(set) => f.debug_tuple("Fixed").field(&set.describe()).finish(),
            #[cfg(feature = "remote-keys")]
            KeyStore::Remote(remote) => f.debug_tuple("Remote").field(remote).finish(),
        }
    }
}

impl KeyStore {
    /// The keys to verify with now, or why there are none.
    pub(super) fn current(&self) -> Result<Arc<KeySet>, TokenError> {
        match self {
            KeyStore::Fixed(set) => Ok(set.clone()),
            #[cfg(feature = "remote-keys")]
            KeyStore::Remote(remote) => remote.current(),
        }
    }

    #[cfg(feature = "remote-keys")]
    pub(super) fn remote(&self) -> Option<&RemoteKeys> {
        match self {
            KeyStore::Fixed(_) => None,
            KeyStore::Remote(remote) => Some(remote),
        }
    }
}
