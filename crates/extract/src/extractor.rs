//! The axum extractor for [`ClientCert`].
//!
//! `ClientCert` as a handler argument requires a certificate (else 401
//! `invalid_client`); `Option<ClientCert>` makes it optional. Both need
//! [`ClientCertLayer`](crate::ClientCertLayer) in front of the handler;
//! without it they answer 500 and say so. Refusals are
//! [`OAuthError`]s, like the layers'.
//!
//! ```
//! use axum::{Router, routing::get};
//! use certbound_extract::{ClientCert, ClientCertLayer};
//!
//! async fn whoami(cert: ClientCert) -> String {
//!     format!("{} {}", cert.leaf().subject(), cert.thumbprint())
//! }
//!
//! async fn maybe(cert: Option<ClientCert>) -> &'static str {
//!     if cert.is_some() { "with a certificate" } else { "without" }
//! }
//!
//! let app: Router = Router::new()
//!     .route("/whoami", get(whoami))
//!     .route("/maybe", get(maybe))
//!     .layer(ClientCertLayer::tls());
//! ```

use axum_core::extract::{FromRequestParts, OptionalFromRequestParts};
use axum_core::response::{IntoResponse, Response};
use certbound_oauth::OAuthError;
use http::StatusCode;
use http::request::Parts;

use crate::ClientCert;
use crate::layer::Extracted;

/// Why the [`ClientCert`] extractor failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RejectionReason {
    /// The client presented no certificate (401).
    #[error("a client certificate is required")]
    Missing,
    /// `ClientCertLayer` is not installed in front of the handler (500).
    #[error("ClientCertLayer is not installed in front of this handler")]
    LayerMissing,
}

/// The rejection of the [`ClientCert`] extractor: `401 Unauthorized` when the
/// client presented no certificate, `500` when the layer is missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct ClientCertRejection {
    reason: RejectionReason,
}

impl ClientCertRejection {
    /// Why it failed.
    pub fn reason(&self) -> RejectionReason {
        self.reason
    }

    /// The HTTP status of the response.
    pub fn status(&self) -> StatusCode {
        self.to_oauth_error().status()
    }

    /// The answer: `401 invalid_client` without a certificate,
    /// `500 server_error` without the layer; the description is this
    /// rejection's message.
    pub fn to_oauth_error(&self) -> OAuthError {
        let description = self.to_string();
        match self.reason {
            RejectionReason::Missing => OAuthError::invalid_client(description),
            RejectionReason::LayerMissing => OAuthError::server_error(description),
        }
    }
}

impl IntoResponse for ClientCertRejection {
    /// [`to_oauth_error`](Self::to_oauth_error)'s JSON answer.
    fn into_response(self) -> Response {
        self.to_oauth_error().into_response()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClientCert {
    type Rejection = ClientCertRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match <ClientCert as OptionalFromRequestParts<S>>::from_request_parts(parts, state).await? {
            Some(cert) => Ok(cert),
            None => Err(ClientCertRejection {
                reason: RejectionReason::Missing,
            }),
        }
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for ClientCert {
    type Rejection = ClientCertRejection;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        if let Some(cert) = parts.extensions.get::<ClientCert>() {
            return Ok(Some(cert.clone()));
        }
        if parts.extensions.get::<Extracted>().is_none() {
            tracing::debug!("ClientCert extractor used without ClientCertLayer");
            return Err(ClientCertRejection {
                reason: RejectionReason::LayerMissing,
            });
        }
        Ok(None)
    }
}
