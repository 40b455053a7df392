//! The axum extractor for [`ClientCert`].
//!
//! `ClientCert` as a handler argument requires a certificate (else 401);
//! `Option<ClientCert>` makes it optional. Both need
//! [`ClientCertLayer`](crate::ClientCertLayer) in front of the handler;
//! without it they answer 500 and say so.
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

use std::fmt;

use axum_core::extract::{FromRequestParts, OptionalFromRequestParts};
use axum_core::response::{IntoResponse, Response};
use http::request::Parts;
use http::{HeaderValue, StatusCode, header};

use crate::ClientCert;
use crate::layer::Extracted;

/// Why the [`ClientCert`] extractor failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RejectionReason {
    /// The client presented no certificate (401).
    Missing,
    /// `ClientCertLayer` is not installed in front of the handler (500).
    LayerMissing,
}

/// The rejection of the [`ClientCert`] extractor: `401 Unauthorized` when the
/// client presented no certificate, `500` when the layer is missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
        match self.reason {
            RejectionReason::Missing => StatusCode::UNAUTHORIZED,
            RejectionReason::LayerMissing => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl fmt::Display for ClientCertRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.reason {
            RejectionReason::Missing => "a client certificate is required",
            RejectionReason::LayerMissing => {
                "ClientCertLayer is not installed in front of this handler"
            }
        })
    }
}

impl std::error::Error for ClientCertRejection {}

impl IntoResponse for ClientCertRejection {
    fn into_response(self) -> Response {
        let mut response = (self.status(), self.to_string()).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        response
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
