//! X.509 client certificates for OAuth 2.0 mutual TLS (RFC 8705).
//!
//! The ground the other certbound crates stand on: a [`Certificate`] that
//! owns its DER and knows its `x5t#S256` [`Thumbprint`], RFC 4514
//! [`DistinguishedName`]s with RFC 4517 matching (string values compared by
//! case and white space only, see [`dn`]), and the subject alternative
//! name rules of RFC 8705 §2.1.2 ([`san`]).
//!
//! ```
//! use certbound_cert::{Certificate, DistinguishedName};
//!
//! let cert = Certificate::from_pem("-----BEGIN CERTIFICATE-----
//! MIIBBjCBrAIBAjAKBggqhkjOPQQDAjAPMQ0wCwYDVQQDDARtdGxzMB4XDTE4MTAx
//! ODEyMzcwOVoXDTIyMDUwMjEyMzcwOVowDzENMAsGA1UEAwwEbXRsczBZMBMGByqG
//! SM49AgEGCCqGSM49AwEHA0IABNcnyxwqV6hY8QnhxxzFQ03C7HKW9OylMbnQZjjJ
//! /Au08/coZwxS7LfA4vOLS9WuneIXhbGGWvsDSb0tH6IxLm8wCgYIKoZIzj0EAwID
//! SQAwRgIhAP0RC1E+vwJD/D1AGHGzuri+hlV/PpQEKTWUVeORWz83AiEA5x2eXZOV
//! bUlJSGQgjwD5vaUaKlLR50Q2DmFfQj1L+SY=
//! -----END CERTIFICATE-----")?;
//!
//! // RFC 8705 Appendix A.
//! assert_eq!(cert.thumbprint().to_string(), "A4DtL2JmUMhAsvJj5tKyn64SqzmuXbMrJa0n761y5v0");
//!
//! let registered: DistinguishedName = "cn=MTLS".parse()?;
//! assert!(registered.matches(cert.subject()));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod certificate;
pub mod dn;
mod error;
pub mod pem;
pub mod san;
mod thumbprint;

pub use certificate::{Certificate, MAX_CERTIFICATE_DER_LEN, Validity};
pub use dn::{DistinguishedName, DnError, DnMatchOptions};
pub use error::CertError;
pub use san::SubjectAltNames;
pub use thumbprint::{THUMBPRINT_LEN, Thumbprint, ThumbprintError};
