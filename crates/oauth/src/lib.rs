//! The OAuth 2.0 errors certbound answers with, in one place for every
//! certbound crate: [`OAuthError`] for the token endpoint (RFC 6749 §5.2),
//! client registration (RFC 7591 §3.2.2) and resource servers (RFC 6750
//! §3), each also in its gRPC form for gRPC requests ([`is_grpc`]);
//! [`Report`], the one answer to "why was this refused" that the
//! authenticator and the token validator give operators; and
//! [`JsonDocument`], how the metadata and the JWKS are served (`ETag`,
//! `304`, `HEAD`).
//!
//! ```
//! use certbound_oauth::OAuthError;
//! use http::{HeaderMap, Response};
//!
//! // The token endpoint: a JSON body, never cached.
//! let response: Response<bytes::Bytes> =
//!     OAuthError::invalid_client("client authentication failed").into_response();
//! assert_eq!(response.status(), 401);
//! assert_eq!(response.headers()["cache-control"], "no-store");
//! assert_eq!(
//!     response.body().as_ref(),
//!     br#"{"error":"invalid_client","error_description":"client authentication failed"}"#
//! );
//!
//! // A layer answers the request: here the RFC 6750 challenge of a
//! // resource server (a gRPC request would get the gRPC form).
//! let refusal = OAuthError::invalid_token("the token has expired");
//! let response: Response<bytes::Bytes> = refusal.response_for(&HeaderMap::new());
//! assert_eq!(
//!     response.headers()["www-authenticate"],
//!     r#"Bearer error="invalid_token", error_description="the token has expired""#
//! );
//! ```
#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod document;
mod error;

pub use document::JsonDocument;

pub use error::{OAuthError, is_grpc};
mod report;

pub use report::{Check, Report, Verdict};
