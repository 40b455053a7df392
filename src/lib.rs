//! certbound: OAuth 2.0 mutual TLS (RFC 8705) for tower, axum and tonic.
//!
//! This facade re-exports the certbound crates behind cargo features, so one
//! dependency brings what an application needs:
//!
//! | feature | crate | what it gives |
//! | --- | --- | --- |
//! | `cert` (default) | `certbound-cert` (module `cert`) | certificates, `x5t#S256` thumbprints, RFC 4514 names, SAN matching |
//! | `extract` (default) | `certbound-extract` (module `extract`) | the client certificate from the TLS connection or a trusted proxy header (five formats), `ClientCertLayer`, `danger::AcceptAnyClientCert` |
//! | `axum`, `tonic`, `axum-server` | | the matching adapters of `certbound-extract` |
//! | `discovery` (default) | `certbound-discovery` (module `discovery`) | authorization server metadata with `mtls_endpoint_aliases`, validation, a tower service for the well-known paths; with `auth` too, method lists that follow an `Authenticator` (`discovery` alone does not pull in the PKI stack of `certbound-auth`) |
//! | `binding` (default) | `certbound-binding` (module `binding`) | certificate-bound access tokens: `cnf`, binding policy, JWT and introspection validators, `BoundTokenLayer` |
//! | `auth` (default) | `certbound-auth` (module `auth`) | client authentication (RFC 8705 §2): client metadata and registry, `Authenticator`, `ClientAuthLayer`, `AuthenticatedClient` |
//! | `http` (default) | `certbound-fetch` (module `fetch`) | one hardened HTTP fetcher (timeouts, size limits, no redirects, no private addresses for client URLs, mTLS identity); with `binding`, `JwtValidator::from_jwks_uri` / `from_issuer` (keys refreshed live) and `HttpIntrospector`; with `auth`, a `JwksFetcher` for clients' `jwks_uri` and a `CrlFetcher` for CRLs |
//! | `rotation` | | `binding::issue::SigningKeyRing::spawn_rotation`: the signing key rotated on a schedule in a tokio task |
//!
//! ```
//! use certbound::cert::Thumbprint;
//!
//! let t: Thumbprint = "A4DtL2JmUMhAsvJj5tKyn64SqzmuXbMrJa0n761y5v0".parse()?;
//! assert_eq!(t.as_bytes().len(), 32);
//! # Ok::<(), certbound::cert::ThumbprintError>(())
//! ```
#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

/// The OAuth 2.0 error answers every layer sends (RFC 6749 §5.2, RFC 6750,
/// RFC 7591), in JSON, as a `WWW-Authenticate` challenge or as a gRPC status.
pub use certbound_oauth as oauth;

/// Certificates, thumbprints, distinguished names and SANs.
#[cfg(feature = "cert")]
pub use certbound_cert as cert;

/// Where the client certificate comes from (TLS or a trusted proxy header).
#[cfg(feature = "extract")]
pub use certbound_extract as extract;

/// Authorization server metadata (RFC 8414, OpenID Connect Discovery, RFC 8705 §5).
#[cfg(feature = "discovery")]
pub use certbound_discovery as discovery;

/// Certificate-bound access tokens (RFC 8705 §3-4).
#[cfg(feature = "binding")]
pub use certbound_binding as binding;

/// Mutual TLS client authentication (RFC 8705 §2).
#[cfg(feature = "auth")]
pub use certbound_auth as auth;

/// The hardened HTTP fetcher: a client's `jwks_uri`, the authorization
/// server's metadata and keys, introspection, CRLs.
#[cfg(feature = "http")]
pub use certbound_fetch as fetch;

/// The README's code blocks, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
