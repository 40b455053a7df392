//! OAuth 2.0 error responses (RFC 6749 §5.2, RFC 7591 §3.2.2).
//!
//! Built in one place for every certbound crate:
//! [`certbound_extract::response`], re-exported here.
//!
//! ```
//! use certbound_auth::oauth_error::OAuthError;
//!
//! let err = OAuthError::invalid_client("client certificate required");
//! assert_eq!(err.status(), http::StatusCode::UNAUTHORIZED);
//! ```

pub use certbound_extract::response::OAuthError;
