use tower_layer::Layer;

use super::ClientAuth;
use crate::Authenticator;

/// The default limit of the buffered form body: 64 KiB.
pub const DEFAULT_BODY_LIMIT: usize = 64 * 1024;

/// Applies mutual TLS client authentication to a service; see the
/// [module docs](crate::layer).
#[derive(Debug, Clone)]
pub struct ClientAuthLayer {
    authenticator: Authenticator,
    body_limit: usize,
}

impl ClientAuthLayer {
    /// A layer that authenticates with this authenticator.
    pub fn new(authenticator: Authenticator) -> Self {
        Self {
            authenticator,
            body_limit: DEFAULT_BODY_LIMIT,
        }
    }

    /// The largest form body read, in bytes; larger requests get `413`.
    pub fn body_limit(mut self, limit: usize) -> Self {
        self.body_limit = limit;
        self
    }
}

impl<S> Layer<S> for ClientAuthLayer {
    type Service = ClientAuth<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ClientAuth::new(inner, self.authenticator.clone(), self.body_limit)
    }
}
