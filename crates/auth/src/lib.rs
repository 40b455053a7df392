//! OAuth 2.0 mutual TLS client authentication (RFC 8705 §2).
//!
//! An authorization server registers clients ([`ClientMetadata`], validated
//! into a [`RegisteredClient`]) in a [`ClientRegistry`], builds an
//! [`Authenticator`] with the methods it offers ([`TlsClientAuth`],
//! [`SelfSignedTlsClientAuth`]), and puts a [`ClientAuthLayer`] in front of
//! its token, introspection, revocation and PAR endpoints. Handlers then
//! receive an [`AuthenticatedClient`].
//!
//! The method is the one the client registered, never guessed from the
//! certificate chain. `tls_client_auth` validates the path with
//! rustls-webpki and then matches the one registered subject parameter on
//! the leaf with certbound-cert's rules; `self_signed_tls_client_auth`
//! compares the leaf's `x5t#S256` with the registered `x5c` certificates.
//!
//! Nothing needs a restart: [`Authenticator::update_tls_client_auth`] swaps
//! trust anchors, intermediates, CRLs and policy atomically, and CRLs from
//! files, URLs and certificates' distribution points (through a
//! [`CrlFetcher`]) are refreshed in the background before their nextUpdate.
//! Past nextUpdate without a fresh CRL, the issuer's clients are refused.
//!
//! ```
//! use certbound_auth::{Authenticator, ClientMetadata, TlsClientAuth, TrustStore, registry_from_metadata};
//! use certbound_cert::Certificate;
//! use certbound_extract::{CertSource, ClientCert};
//! use certbound_testkit::TestCa;
//!
//! # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
//! let ca = TestCa::new("Example CA");
//! let leaf = ca.leaf("client-1").san_dns("client-1.example.com").issue();
//!
//! let client: ClientMetadata = serde_json::from_str(r#"{
//!     "client_id": "client-1",
//!     "token_endpoint_auth_method": "tls_client_auth",
//!     "tls_client_auth_san_dns": "client-1.example.com"
//! }"#)?;
//! let auth = Authenticator::builder(registry_from_metadata([client])?)
//!     .tls_client_auth(TlsClientAuth::new(TrustStore::from_pem(&ca.cert.pem)?))
//!     .build()?;
//!
//! let presented = ClientCert::new(Certificate::from_pem(&leaf.pem)?, vec![], CertSource::Tls);
//! let client = auth.authenticate("client-1", Some(&presented)).await?;
//! assert_eq!(client.client_id(), "client-1");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod authenticator;
mod cache;
mod clock;
mod crl;
mod error;
mod extract;
#[cfg(feature = "http")]
mod http;
pub mod layer;
mod metadata;
mod method;
mod registry;
mod report;
mod self_signed;
mod tls_client_auth;
mod trust;

pub use authenticator::{AuthMetrics, AuthenticatedClient, Authenticator, AuthenticatorBuilder};
pub use certbound_oauth::OAuthError;
pub use certbound_oauth::{Check, Report, Verdict};
pub use clock::{Clock, SystemClock};
pub use crl::{CrlFetchError, CrlFetcher};
pub use error::AuthError;
pub use extract::AuthenticatedClientRejection;
pub use layer::{ClientAuth, ClientAuthLayer};
pub use metadata::{
    ClientJwk, ClientJwks, ClientMetadata, ClientMetadataError, RegisteredClient, SubjectParameter,
    ValidationOptions, spki_sha256,
};
pub use method::TokenEndpointAuthMethod;
pub use registry::{
    BoxFuture, ClientRegistry, RegistryError, registry_from_metadata, registry_from_metadata_with,
};
pub use self_signed::{JwksFetchError, JwksFetcher, SelfSignedTlsClientAuth};
pub use tls_client_auth::{ConfigError, EkuPolicy, TlsClientAuth};
pub use trust::{TrustStore, TrustStoreError};
