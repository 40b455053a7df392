//! [`ClientRegistry`]: where registered clients are looked up.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::{ClientMetadata, ClientMetadataError, RegisteredClient, ValidationOptions};

/// A boxed, sendable future.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A store of registered clients, looked up by `client_id`.
///
/// Implemented for a `HashMap<String, RegisteredClient>` and for async
/// closures `Fn(String) -> impl Future<Output = Result<Option<RegisteredClient>, RegistryError>>`,
/// so any existing store can serve it.
///
/// ```
/// use certbound_auth::{ClientMetadata, ClientRegistry, RegisteredClient, RegistryError, TokenEndpointAuthMethod};
///
/// let registry = |client_id: String| async move {
///     let m = ClientMetadata::new(client_id, TokenEndpointAuthMethod::ClientSecretBasic);
///     Ok::<_, RegistryError>(Some(m.validate().map_err(RegistryError::new)?))
/// };
/// fn assert_registry(_: &impl ClientRegistry) {}
/// assert_registry(&registry);
/// ```
pub trait ClientRegistry: Send + Sync + 'static {
    /// The client registered under `client_id`, or `None`.
    fn client<'a>(
        &'a self,
        client_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<RegisteredClient>, RegistryError>>;
}

/// The store failed (as opposed to: the client is not there).
#[derive(Debug, Clone, thiserror::Error)]
#[error("client registry failed: {0}")]
pub struct RegistryError(Arc<dyn std::error::Error + Send + Sync>);

impl RegistryError {
    /// Wraps the store's error: any error type, or a message.
    ///
    /// ```
    /// use certbound_auth::RegistryError;
    ///
    /// let from_io = RegistryError::new(std::io::Error::other("disk full"));
    /// let from_text = RegistryError::new("connection pool exhausted");
    /// assert_eq!(from_text.to_string(), "client registry failed: connection pool exhausted");
    /// # let _ = from_io;
    /// ```
    pub fn new(err: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self(Arc::from(err.into()))
    }
}

impl ClientRegistry for HashMap<String, RegisteredClient> {
    fn client<'a>(
        &'a self,
        client_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<RegisteredClient>, RegistryError>> {
        let found = self.get(client_id).cloned();
        Box::pin(std::future::ready(Ok(found)))
    }
}

impl<T: ClientRegistry> ClientRegistry for Arc<T> {
    fn client<'a>(
        &'a self,
        client_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<RegisteredClient>, RegistryError>> {
        (**self).client(client_id)
    }
}

impl<F, Fut> ClientRegistry for F
where
    F: Fn(String) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Option<RegisteredClient>, RegistryError>> + Send + 'static,
{
    fn client<'a>(
        &'a self,
        client_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<RegisteredClient>, RegistryError>> {
        Box::pin(self(client_id.to_owned()))
    }
}

/// Validates each registration and keys it by `client_id`: a ready
/// in-memory [`ClientRegistry`]. Validation uses the default
/// [`ValidationOptions`]; [`registry_from_metadata_with`] takes others.
pub fn registry_from_metadata(
    clients: impl IntoIterator<Item = ClientMetadata>,
) -> Result<HashMap<String, RegisteredClient>, ClientMetadataError> {
    registry_from_metadata_with(ValidationOptions::default(), clients)
}

/// Like [`registry_from_metadata`], validating each registration with
/// these options (for instance an `http` `jwks_uri` in a test).
///
/// ```
/// use certbound_auth::{ClientMetadata, TokenEndpointAuthMethod, ValidationOptions, registry_from_metadata, registry_from_metadata_with};
///
/// let mut m = ClientMetadata::new("device-1", TokenEndpointAuthMethod::SelfSignedTlsClientAuth);
/// m.jwks_uri = Some("http://127.0.0.1:8080/jwks.json".into());
/// assert!(registry_from_metadata([m.clone()]).is_err());
/// let testing = ValidationOptions::default().allow_http_jwks_uri_for_testing(true);
/// let registry = registry_from_metadata_with(testing, [m])?;
/// assert!(registry.contains_key("device-1"));
/// # Ok::<(), certbound_auth::ClientMetadataError>(())
/// ```
pub fn registry_from_metadata_with(
    options: ValidationOptions,
    clients: impl IntoIterator<Item = ClientMetadata>,
) -> Result<HashMap<String, RegisteredClient>, ClientMetadataError> {
    clients
        .into_iter()
        .map(|m| {
            let c = m.validate_with(options)?;
            Ok((c.client_id().to_owned(), c))
        })
        .collect()
}
