//! Where metadata lives: RFC 8414 §3 and OpenID Connect Discovery 1.0 §4.

use crate::url::AbsoluteUrl;

/// The two well-known metadata documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WellKnown {
    /// `/.well-known/oauth-authorization-server` (RFC 8414 §3).
    OAuthAuthorizationServer,
    /// `/.well-known/openid-configuration` (OpenID Connect Discovery 1.0 §4).
    OpenIdConfiguration,
}

impl WellKnown {
    /// The well-known suffix, `oauth-authorization-server` or `openid-configuration`.
    pub fn suffix(self) -> &'static str {
        match self {
            Self::OAuthAuthorizationServer => "oauth-authorization-server",
            Self::OpenIdConfiguration => "openid-configuration",
        }
    }
}

/// The issuer is not an absolute URL without query or fragment, so no
/// metadata location can be derived from it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("issuer is not an absolute URL without query or fragment: {issuer}")]
pub struct InvalidIssuer {
    issuer: String,
}

/// The URL a client fetches the metadata from.
///
/// RFC 8414 §3 inserts the well-known segment between the host and the
/// issuer's path; OpenID Connect Discovery appends it to the issuer.
///
/// ```
/// use certbound_discovery::{well_known_url, WellKnown};
///
/// assert_eq!(
///     well_known_url("https://example.com/issuer1", WellKnown::OAuthAuthorizationServer)?,
///     "https://example.com/.well-known/oauth-authorization-server/issuer1"
/// );
/// assert_eq!(
///     well_known_url("https://example.com/issuer1", WellKnown::OpenIdConfiguration)?,
///     "https://example.com/issuer1/.well-known/openid-configuration"
/// );
/// # Ok::<(), certbound_discovery::InvalidIssuer>(())
/// ```
pub fn well_known_url(issuer: &str, kind: WellKnown) -> Result<String, InvalidIssuer> {
    let url = parse_issuer(issuer)?;
    let path = match kind {
        WellKnown::OAuthAuthorizationServer => inserted(kind, &url.path),
        WellKnown::OpenIdConfiguration => appended(kind, &url.path),
    };
    Ok(format!("{}://{}{path}", url.scheme, url.authority))
}

/// Every request path under which the document for `issuer` is served:
/// the RFC 8414 insertion for both suffixes, and the OpenID Connect
/// appending rule for `openid-configuration` when the issuer has a path.
pub(crate) fn paths(issuer: &str, kinds: &[WellKnown]) -> Result<Vec<String>, InvalidIssuer> {
    let url = parse_issuer(issuer)?;
    let mut paths = Vec::new();
    for &kind in kinds {
        paths.push(inserted(kind, &url.path));
        if kind == WellKnown::OpenIdConfiguration {
            paths.push(appended(kind, &url.path));
        }
    }
    paths.dedup();
    Ok(paths)
}

fn parse_issuer(issuer: &str) -> Result<AbsoluteUrl, InvalidIssuer> {
    AbsoluteUrl::parse(issuer)
        .filter(|u| u.query.is_none() && !u.has_fragment)
        .ok_or_else(|| InvalidIssuer {
            issuer: issuer.into(),
        })
}

/// `/.well-known/{suffix}{issuer path}`, a terminating `/` of the issuer
/// path removed first (RFC 8414 §3).
fn inserted(kind: WellKnown, issuer_path: &str) -> String {
    format!(
        "/.well-known/{}{}",
        kind.suffix(),
        issuer_path.trim_end_matches('/')
    )
}

/// `{issuer path}/.well-known/{suffix}` (OpenID Connect Discovery 1.0 §4).
fn appended(kind: WellKnown, issuer_path: &str) -> String {
    format!(
        "{}/.well-known/{}",
        issuer_path.trim_end_matches('/'),
        kind.suffix()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuer_without_path_has_one_path_per_document() {
        let p = paths(
            "https://as.example.com",
            &[
                WellKnown::OAuthAuthorizationServer,
                WellKnown::OpenIdConfiguration,
            ],
        )
        .unwrap();
        assert_eq!(
            p,
            [
                "/.well-known/oauth-authorization-server",
                "/.well-known/openid-configuration"
            ]
        );
    }

    #[test]
    fn terminating_slash_of_the_issuer_is_removed() {
        assert_eq!(
            well_known_url(
                "https://as.example.com/t1/",
                WellKnown::OAuthAuthorizationServer
            )
            .unwrap(),
            "https://as.example.com/.well-known/oauth-authorization-server/t1"
        );
        assert_eq!(
            well_known_url("https://as.example.com/", WellKnown::OpenIdConfiguration).unwrap(),
            "https://as.example.com/.well-known/openid-configuration"
        );
    }

    #[test]
    fn issuer_with_query_has_no_metadata_location() {
        assert!(
            well_known_url(
                "https://as.example.com/?t=1",
                WellKnown::OpenIdConfiguration
            )
            .is_err()
        );
    }
}
