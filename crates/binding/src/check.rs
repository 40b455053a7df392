//! The one place that decides "bound and matching".

use certbound_cert::Thumbprint;
use certbound_extract::ClientCert;

use crate::{Confirmation, OAuthError};

/// How a token relates to the certificate of the request it came with, when
/// [`verify_binding`] accepts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binding {
    /// The token is bound (`cnf.x5t#S256`) to the presented certificate, whose
    /// thumbprint this is.
    Bound(Thumbprint),
    /// The token carries no confirmation at all: a plain bearer token.
    Unbound,
}

impl Binding {
    /// The thumbprint the token is bound to, when it is bound.
    pub fn thumbprint(&self) -> Option<Thumbprint> {
        match self {
            Binding::Bound(t) => Some(*t),
            Binding::Unbound => None,
        }
    }
}

/// Why a token is not bound to the request's certificate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BindingMismatch {
    /// `cnf.x5t#S256` is not a strictly encoded thumbprint.
    #[error("the token's x5t#S256 confirmation is malformed")]
    MalformedThumbprint,
    /// The token is certificate-bound but the request came without a
    /// certificate.
    #[error("the token is certificate-bound but no client certificate was presented")]
    CertificateMissing,
    /// The token is bound to another certificate.
    #[error("the token is bound to another certificate")]
    ThumbprintMismatch,
    /// The token's `cnf` has members but no `x5t#S256`: it is bound by a
    /// method this check does not verify (for example DPoP's `jkt`), so it
    /// cannot be accepted as if it were a bearer token.
    #[error("the token is bound by an unsupported confirmation method")]
    UnsupportedConfirmation,
    /// The token carries no confirmation and the caller requires one.
    #[error("the token is not certificate-bound")]
    NotBound,
    /// The token's `cnf` has `x5t#S256` and other members (such as DPoP's
    /// `jkt`): it names more than one proof-of-possession key, which RFC
    /// 7800 §3.1 does not allow, and the others cannot be checked here.
    #[error("the token's cnf names more than one proof-of-possession key")]
    SeveralConfirmations,
}

impl BindingMismatch {
    /// The RFC 6750 answer: 401 `invalid_token` with a short description
    /// (RFC 8705 §3).
    pub fn to_oauth_error(&self) -> OAuthError {
        OAuthError::invalid_token(match self {
            BindingMismatch::MalformedThumbprint => {
                "the token's certificate confirmation is malformed"
            }
            BindingMismatch::CertificateMissing => {
                "the token is certificate-bound and no client certificate was presented"
            }
            BindingMismatch::ThumbprintMismatch => {
                "the token is bound to another client certificate"
            }
            BindingMismatch::UnsupportedConfirmation => {
                "the token's confirmation method is not supported"
            }
            BindingMismatch::NotBound => "the token is not certificate-bound",
            BindingMismatch::SeveralConfirmations => {
                "the token's confirmation names more than one key"
            }
        })
    }
}

/// Checks a request to an OpenID Connect UserInfo endpoint (or any
/// endpoint of the authorization server that takes its own access tokens):
/// the token's confirmation, as recorded when it was issued, against the
/// request's certificate. Refusals are the RFC 6750 answer to send.
///
/// ```
/// use certbound_binding::{check_userinfo_request, Confirmation};
///
/// let cnf = Confirmation::from_thumbprint("A4DtL2JmUMhAsvJj5tKyn64SqzmuXbMrJa0n761y5v0".parse()?);
/// let refused = check_userinfo_request(Some(&cnf), None).unwrap_err();
/// assert_eq!(refused.status(), 401);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn check_userinfo_request(
    cnf: Option<&Confirmation>,
    cert: Option<&ClientCert>,
) -> Result<Binding, OAuthError> {
    verify_binding(cnf, cert).map_err(|e| {
        tracing::debug!(reason = %e, "userinfo request refused");
        e.to_oauth_error()
    })
}

/// Decides whether a token with confirmation `cnf` may be used on a request
/// that presented `cert` (RFC 8705 §3).
///
/// - no `cnf` (or an empty one): [`Binding::Unbound`], the caller decides
///   whether plain bearer tokens are acceptable;
/// - `cnf.x5t#S256` present: it must be the only member, a strictly
///   encoded thumbprint, a certificate must have been presented, and its
///   thumbprint must be equal, compared in constant time;
/// - `cnf` with other members only: refused as an unsupported confirmation.
///
/// This is the only comparison of a token's confirmation with a certificate
/// in certbound: [`BoundTokenLayer`](crate::BoundTokenLayer), the userinfo
/// helper, the introspection check and refresh-token binding all call it.
///
/// ```
/// use certbound_binding::{verify_binding, Binding, BindingMismatch, Confirmation};
///
/// let cnf = Confirmation::from_thumbprint("A4DtL2JmUMhAsvJj5tKyn64SqzmuXbMrJa0n761y5v0".parse()?);
/// assert_eq!(verify_binding(Some(&cnf), None), Err(BindingMismatch::CertificateMissing));
/// assert_eq!(verify_binding(None, None), Ok(Binding::Unbound));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn verify_binding(
    cnf: Option<&Confirmation>,
    cert: Option<&ClientCert>,
) -> Result<Binding, BindingMismatch> {
    verify_thumbprint(cnf, cert.map(ClientCert::thumbprint))
}

/// [`verify_binding`] with the presented certificate's thumbprint already
/// known.
pub fn verify_thumbprint(
    cnf: Option<&Confirmation>,
    presented: Option<Thumbprint>,
) -> Result<Binding, BindingMismatch> {
    let Some(cnf) = cnf else {
        return Ok(Binding::Unbound);
    };
    let expected = match cnf.thumbprint() {
        // RFC 7800 §3.1: one proof-of-possession key per cnf. Accepting the
        // certificate alone would silently drop the other binding.
        Ok(Some(_)) if !cnf.other_members().is_empty() => {
            return Err(BindingMismatch::SeveralConfirmations);
        }
        Ok(Some(t)) => t,
        Ok(None) if cnf.is_empty() => return Ok(Binding::Unbound),
        Ok(None) => return Err(BindingMismatch::UnsupportedConfirmation),
        Err(_) => return Err(BindingMismatch::MalformedThumbprint),
    };
    let Some(presented) = presented else {
        return Err(BindingMismatch::CertificateMissing);
    };
    // Thumbprint's PartialEq is constant-time.
    if expected == presented {
        Ok(Binding::Bound(presented))
    } else {
        tracing::debug!(%expected, %presented, "certificate-bound token presented with another certificate");
        Err(BindingMismatch::ThumbprintMismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const A: &str = "A4DtL2JmUMhAsvJj5tKyn64SqzmuXbMrJa0n761y5v0";

    fn other() -> Thumbprint {
        let mut b = *A.parse::<Thumbprint>().unwrap().as_bytes();
        b[0] ^= 0x80;
        Thumbprint::from_bytes(b)
    }

    #[test]
    fn matching_thumbprint_is_bound() {
        let t: Thumbprint = A.parse().unwrap();
        let cnf = Confirmation::from_thumbprint(t);
        assert_eq!(
            verify_thumbprint(Some(&cnf), Some(t)),
            Ok(Binding::Bound(t))
        );
    }

    #[test]
    fn other_thumbprint_is_a_mismatch() {
        let cnf = Confirmation::from_thumbprint(A.parse().unwrap());
        assert_eq!(
            verify_thumbprint(Some(&cnf), Some(other())),
            Err(BindingMismatch::ThumbprintMismatch)
        );
    }

    #[test]
    fn bound_token_without_certificate_is_refused() {
        let cnf = Confirmation::from_thumbprint(A.parse().unwrap());
        assert_eq!(
            verify_thumbprint(Some(&cnf), None),
            Err(BindingMismatch::CertificateMissing)
        );
    }

    #[test]
    fn malformed_thumbprint_is_refused_even_with_a_certificate() {
        let cnf = Confirmation::from_value(
            &json!({"x5t#S256": "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2"}),
        )
        .unwrap();
        assert_eq!(
            verify_thumbprint(Some(&cnf), Some(other())),
            Err(BindingMismatch::MalformedThumbprint)
        );
    }

    #[test]
    fn no_or_empty_cnf_is_unbound_and_other_methods_are_unsupported() {
        assert_eq!(verify_thumbprint(None, Some(other())), Ok(Binding::Unbound));
        let empty = Confirmation::from_value(&json!({})).unwrap();
        assert_eq!(verify_thumbprint(Some(&empty), None), Ok(Binding::Unbound));
        let jkt = Confirmation::from_value(&json!({"jkt": "x"})).unwrap();
        assert_eq!(
            verify_thumbprint(Some(&jkt), Some(other())),
            Err(BindingMismatch::UnsupportedConfirmation)
        );
    }

    #[test]
    fn x5t_s256_with_another_confirmation_member_is_refused() {
        let t: Thumbprint = A.parse().unwrap();
        let both = Confirmation::from_thumbprint(t).with_member("jkt", json!("x"));
        assert_eq!(
            verify_thumbprint(Some(&both), Some(t)),
            Err(BindingMismatch::SeveralConfirmations)
        );
    }
}
