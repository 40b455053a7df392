//! Certificate-bound access tokens for OAuth 2.0 mutual TLS (RFC 8705 §3-4).
//!
//! For the authorization server: [`BindingPolicy`] decides which tokens get a
//! [`Confirmation`] (`cnf` with `x5t#S256`), as a [`TokenBinding`];
//! [`AccessTokenIssuer`] puts it into RFC 9068 access tokens signed by a
//! [`SigningKeyRing`] (rotated on demand or on a schedule, published by
//! [`JwksService`]), or it goes into an introspection response;
//! [`RefreshToken`] and [`RefreshTokenBinding`] bind a public client's
//! refresh token.
//!
//! For the resource server: [`BoundTokenLayer`] accepts a bearer token only
//! when an [`AccessTokenValidator`] ([`JwtValidator`] per RFC 9068, or
//! [`IntrospectionValidator`] per RFC 7662) accepts it and its `cnf` matches
//! the request's client certificate; handlers get a [`VerifiedToken`].
//! [`verify_binding`] is the one place where "bound and matching" is decided.
//!
//! ```
//! use certbound_binding::{verify_binding, Binding, BindingMismatch, Confirmation};
//! use certbound_cert::Certificate;
//! use certbound_extract::{CertSource, ClientCert};
//!
//! let leaf = Certificate::from_pem("-----BEGIN CERTIFICATE-----
//! MIIBBjCBrAIBAjAKBggqhkjOPQQDAjAPMQ0wCwYDVQQDDARtdGxzMB4XDTE4MTAx
//! ODEyMzcwOVoXDTIyMDUwMjEyMzcwOVowDzENMAsGA1UEAwwEbXRsczBZMBMGByqG
//! SM49AgEGCCqGSM49AwEHA0IABNcnyxwqV6hY8QnhxxzFQ03C7HKW9OylMbnQZjjJ
//! /Au08/coZwxS7LfA4vOLS9WuneIXhbGGWvsDSb0tH6IxLm8wCgYIKoZIzj0EAwID
//! SQAwRgIhAP0RC1E+vwJD/D1AGHGzuri+hlV/PpQEKTWUVeORWz83AiEA5x2eXZOV
//! bUlJSGQgjwD5vaUaKlLR50Q2DmFfQj1L+SY=
//! -----END CERTIFICATE-----")?;
//! let cert = ClientCert::new(leaf, vec![], CertSource::Tls);
//!
//! // RFC 8705 Appendix A, Figure 5.
//! let cnf: Confirmation =
//!     serde_json::from_str(r#"{"x5t#S256":"A4DtL2JmUMhAsvJj5tKyn64SqzmuXbMrJa0n761y5v0"}"#)?;
//! assert_eq!(verify_binding(Some(&cnf), Some(&cert)), Ok(Binding::Bound(cert.thumbprint())));
//! assert_eq!(verify_binding(Some(&cnf), None), Err(BindingMismatch::CertificateMissing));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod check;
mod claims;
mod confirmation;
mod forward_auth;
mod issue;
mod layer;
mod policy;
mod validator;

pub use certbound_oauth::OAuthError;
pub use certbound_oauth::{Check, Report, Verdict};
pub use check::{
    Binding, BindingMismatch, check_userinfo_request, verify_binding, verify_thumbprint,
};
pub use claims::{MissingVerifiedToken, TokenClaims, VerifiedToken};
pub use confirmation::{CNF, Confirmation, ConfirmationError, X5T_S256};
pub use forward_auth::{
    Allow, CLIENT_ID_HEADER, CNF_HEADER, ForwardAuth, ForwardAuthBody, ForwardAuthCounts,
    ForwardAuthMetrics, SCOPE_HEADER, SUBJECT_HEADER,
};
pub use issue::{
    AccessToken, AccessTokenBuilder, AccessTokenIssuer, IssueError, JwksService, RefreshToken,
    SigningKeyRing, SigningKeyRingBuilder,
};
pub use layer::{BoundToken, BoundTokenLayer, ResponseFuture, bearer_token};
pub use policy::{
    BindingPolicy, BindingRefused, ClientBinding, RefreshRefused, RefreshTokenBinding,
    TokenBinding, check_refresh_token,
};
pub use validator::{
    AccessTokenValidator, CachedValidator, Introspect, IntrospectionValidator, JwsAlg,
    JwtValidator, JwtValidatorBuilder, JwtValidatorError, TokenError, TypCheck,
    verify_introspection_response,
};
#[cfg(feature = "remote-keys")]
pub use validator::{
    BoxFuture, FetchedDocument, KeyRefresh, KeySetFetchError, KeySetFetcher, KeySetStatus,
};
#[cfg(feature = "http")]
pub use validator::{HttpIntrospectionError, HttpIntrospector};
