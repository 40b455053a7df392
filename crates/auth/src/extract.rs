//! The axum extractor for [`AuthenticatedClient`].

use axum_core::extract::{FromRequestParts, OptionalFromRequestParts};
use axum_core::response::{IntoResponse, Response};
use http::request::Parts;

use crate::AuthenticatedClient;
use certbound_oauth::OAuthError;

/// [`AuthenticatedClient`] could not be extracted: no client was
/// authenticated by mutual TLS for this request (the `ClientAuthLayer` is
/// missing, or the client uses another method).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no client authenticated by mutual TLS")]
#[non_exhaustive]
pub struct AuthenticatedClientRejection;

impl IntoResponse for AuthenticatedClientRejection {
    /// `401 invalid_client`, the RFC 6749 §5.2 JSON body.
    fn into_response(self) -> Response {
        OAuthError::invalid_client(crate::error::INVALID_CLIENT).into_response()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for AuthenticatedClient {
    type Rejection = AuthenticatedClientRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<AuthenticatedClient>()
            .cloned()
            .ok_or(AuthenticatedClientRejection)
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for AuthenticatedClient {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        Ok(parts.extensions.get::<AuthenticatedClient>().cloned())
    }
}
