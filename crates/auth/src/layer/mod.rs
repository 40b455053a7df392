//! [`ClientAuthLayer`]: mutual TLS client authentication in front of the
//! token, introspection, revocation and PAR endpoints.
//!
//! For each request it:
//!
//! 1. buffers the `application/x-www-form-urlencoded` body up to a limit
//!    (64 KiB by default; `413` beyond) and reads `client_id` from it;
//! 2. asks the [`Authenticator`](crate::Authenticator) about that client
//!    and the [`ClientCert`](certbound_extract::ClientCert) that
//!    `ClientCertLayer` put into the extensions;
//! 3. on success puts an [`AuthenticatedClient`](crate::AuthenticatedClient)
//!    into the extensions and calls the inner service with the body, byte
//!    for byte; clients registered with a non-mTLS method are passed on
//!    untouched, for the application's other client authentication;
//! 4. otherwise answers with an RFC 6749 §5.2 JSON error and
//!    `Cache-Control: no-store`: `400 invalid_request` when `client_id` is
//!    missing or repeated, or when an mTLS client also sends
//!    `Authorization: Basic`, `client_secret` or `client_assertion` (RFC 6749
//!    §2.3: one method per request); `401 invalid_client` for an unknown
//!    client or a missing or wrong certificate, with one
//!    `error_description` whatever the reason (the reason goes to
//!    `tracing`). A gRPC request gets the same refusal in gRPC's form
//!    ([`OAuthError::response_for`](crate::OAuthError::response_for)).
//!
//! A request without `client_id` that carries an `Authorization` header or
//! a `client_assertion` is passed on as well: it authenticates another way
//! (unless its HTTP Basic user is an mTLS client: `400`).
//!
//! ```
//! use axum::{Router, routing::post};
//! use certbound_auth::{AuthenticatedClient, Authenticator, ClientAuthLayer, TlsClientAuth, TrustStore};
//! use std::collections::HashMap;
//!
//! async fn token(client: AuthenticatedClient) -> String {
//!     format!("hello {}", client.client_id())
//! }
//!
//! let auth = Authenticator::builder(HashMap::new())
//!     .tls_client_auth(TlsClientAuth::new(TrustStore::new()))
//!     .build()?;
//! let app: Router = Router::new()
//!     .route("/token", post(token))
//!     .layer(ClientAuthLayer::new(auth));
//! // ...and a `ClientCertLayer` outside it, so the certificate is there.
//! # Ok::<(), certbound_auth::ConfigError>(())
//! ```

mod form;
mod future;
#[allow(clippy::module_inception)]
mod layer;
mod service;

pub use future::ResponseFuture;
pub use layer::{ClientAuthLayer, DEFAULT_BODY_LIMIT};
pub use service::ClientAuth;
