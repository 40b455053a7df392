//! Authorization server metadata (RFC 8414, OpenID Connect Discovery 1.0)
//! with the RFC 8705 §5 mTLS fields.
//!
//! - Server side: [`AuthorizationServerMetadata::builder`] makes a document
//!   that lists the client authentication methods the server really accepts,
//!   claims `tls_client_certificate_bound_access_tokens`, and aliases the
//!   back-channel endpoints to an mTLS host ([`MtlsEndpointAliases`]);
//!   [`MetadataService`] serves it at the well-known paths.
//! - Both sides: [`check_document`] / [`AuthorizationServerMetadata::validate`]
//!   list every broken rule, each naming its field, with an opt-in FAPI
//!   [`Profile`].
//! - Client side: [`AuthorizationServerMetadata::endpoint_for`] picks the
//!   alias when the client uses mTLS.
//!
//! ```
//! use certbound_discovery::{AuthorizationServerMetadata, ClientTransport, Endpoint};
//!
//! let md = AuthorizationServerMetadata::builder("https://as.example.com")
//!     .standard_endpoints()
//!     .tls_client_certificate_bound_access_tokens(true)
//!     .auth_methods(["tls_client_auth", "client_secret_basic"])
//!     .mtls_host("mtls.example.com")
//!     .build()?;
//!
//! let json = md.to_json();
//! let seen_by_client = AuthorizationServerMetadata::from_json(json.as_bytes())?;
//! assert_eq!(
//!     seen_by_client.endpoint_for(Endpoint::Token, ClientTransport::Mtls),
//!     Some("https://mtls.example.com/token")
//! );
//! assert_eq!(
//!     seen_by_client.endpoint_for(Endpoint::Authorization, ClientTransport::Mtls),
//!     Some("https://as.example.com/authorize")
//! );
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod aliases;
mod builder;
mod endpoint;
mod metadata;
mod service;
mod url;
mod validate;
mod well_known;

pub use aliases::{AliasError, MtlsEndpointAliases};
pub use builder::{BuildError, MetadataBuilder};
pub use endpoint::{Endpoint, UnknownEndpoint};
pub use metadata::{AuthorizationServerMetadata, ClientTransport, ParseError};
pub use service::MetadataService;
pub use validate::{Profile, UnknownProfile, ValidationError, ValidationErrors, check_document};
pub use well_known::{InvalidIssuer, WellKnown, well_known_url};
