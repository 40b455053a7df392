//! Subject alternative names and the RFC 8705 §2.1.2 matching rules.
//!
//! Each function compares one registered value (from the client's
//! registration) with one value presented in a certificate:
//!
//! - [`dns_matches`]: ASCII case-insensitive, exact. A wildcard is only
//!   equal to the same wildcard: `*.example.com` registered does not match
//!   `a.example.com` presented, nor the other way round.
//! - [`uri_matches`]: exact, except that the scheme and host are compared
//!   case-insensitively (RFC 3986 §6.2.2.1).
//! - [`ip_matches`]: the address bytes; IPv4 and IPv6 never match each other.
//! - [`email_matches`]: the local part exactly, the domain case-insensitively.
//!
//! ```
//! use certbound_cert::san;
//!
//! assert!(san::dns_matches("Client.Example.com", "client.example.com"));
//! assert!(!san::dns_matches("*.example.com", "client.example.com"));
//! assert!(san::uri_matches("HTTPS://Example.com/Path", "https://example.com/Path"));
//! assert!(!san::uri_matches("https://example.com/Path", "https://example.com/path"));
//! assert!(san::ip_matches("2001:db8::1", "2001:0db8:0:0:0:0:0:1".parse().unwrap()));
//! assert!(san::email_matches("Ops@Example.com", "Ops@example.COM"));
//! assert!(!san::email_matches("Ops@example.com", "ops@example.com"));
//! ```

use std::net::IpAddr;

use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::{GeneralName, SubjectAlternativeName};
use x509_parser::oid_registry::OID_X509_EXT_SUBJECT_ALT_NAME;
use x509_parser::prelude::FromDer;

use crate::CertError;

/// The subject alternative names of a certificate that RFC 8705 can register,
/// in the order of the certificate. Other kinds of names are left out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SubjectAltNames {
    /// dNSName entries.
    pub dns: Vec<String>,
    /// uniformResourceIdentifier entries.
    pub uri: Vec<String>,
    /// iPAddress entries (entries that are not 4 or 16 bytes are left out).
    pub ip: Vec<IpAddr>,
    /// rfc822Name entries.
    pub email: Vec<String>,
}

impl SubjectAltNames {
    /// Whether there is no name of the four kinds.
    pub fn is_empty(&self) -> bool {
        self.dns.is_empty() && self.uri.is_empty() && self.ip.is_empty() && self.email.is_empty()
    }

    pub(crate) fn from_certificate(cert: &X509Certificate<'_>) -> Result<Self, CertError> {
        let mut out = Self::default();
        let Some(ext) = cert
            .get_extension_unique(&OID_X509_EXT_SUBJECT_ALT_NAME)
            .map_err(|e| CertError::InvalidExtension(e.to_string()))?
        else {
            return Ok(out);
        };
        // x509-parser's reading of the extension when the certificate was
        // parsed stops after the GeneralNames SEQUENCE and drops whatever
        // follows it in extnValue. The same reader is used here, and must
        // read extnValue to its last byte.
        let (rest, san) = SubjectAlternativeName::from_der(ext.value)
            .map_err(|e| CertError::InvalidExtension(e.to_string()))?;
        if !rest.is_empty() {
            return Err(CertError::InvalidExtension(format!(
                "subjectAltName: {} bytes after the GeneralNames",
                rest.len()
            )));
        }
        for name in &san.general_names {
            match name {
                GeneralName::DNSName(s) => out.dns.push((*s).to_owned()),
                GeneralName::URI(s) => out.uri.push((*s).to_owned()),
                GeneralName::RFC822Name(s) => out.email.push((*s).to_owned()),
                GeneralName::IPAddress(bytes) => {
                    if let Some(ip) = ip_from_bytes(bytes) {
                        out.ip.push(ip);
                    }
                }
                _ => {}
            }
        }
        Ok(out)
    }

    /// Whether any dNSName matches `registered` ([`dns_matches`]).
    pub fn has_dns(&self, registered: &str) -> bool {
        self.dns.iter().any(|p| dns_matches(registered, p))
    }

    /// Whether any uniformResourceIdentifier matches `registered` ([`uri_matches`]).
    pub fn has_uri(&self, registered: &str) -> bool {
        self.uri.iter().any(|p| uri_matches(registered, p))
    }

    /// Whether any iPAddress matches `registered` ([`ip_matches`]).
    pub fn has_ip(&self, registered: &str) -> bool {
        self.ip.iter().any(|p| ip_matches(registered, *p))
    }

    /// Whether any rfc822Name matches `registered` ([`email_matches`]).
    pub fn has_email(&self, registered: &str) -> bool {
        self.email.iter().any(|p| email_matches(registered, p))
    }
}

fn ip_from_bytes(bytes: &[u8]) -> Option<IpAddr> {
    <[u8; 4]>::try_from(bytes)
        .map(IpAddr::from)
        .or_else(|_| <[u8; 16]>::try_from(bytes).map(IpAddr::from))
        .ok()
}

/// dNSName: ASCII case-insensitive exact match, no wildcard expansion.
pub fn dns_matches(registered: &str, presented: &str) -> bool {
    !registered.is_empty() && registered.eq_ignore_ascii_case(presented)
}

/// iPAddress: the registered text form (IPv4 dotted or IPv6) parsed and
/// compared as bytes. A registered value that does not parse never matches.
pub fn ip_matches(registered: &str, presented: IpAddr) -> bool {
    // `IpAddr`'s `==` never equates an IPv4 and an IPv6 address.
    registered
        .trim()
        .parse::<IpAddr>()
        .is_ok_and(|r| r == presented)
}

/// rfc822Name: local part exact, domain ASCII case-insensitive.
pub fn email_matches(registered: &str, presented: &str) -> bool {
    match (registered.rsplit_once('@'), presented.rsplit_once('@')) {
        (Some((rl, rd)), Some((pl, pd))) => {
            !rl.is_empty() && !rd.is_empty() && rl == pl && rd.eq_ignore_ascii_case(pd)
        }
        _ => false,
    }
}

/// The parts of a URI that RFC 3986 §6.2.2.1 compares case-insensitively.
struct UriParts<'a> {
    scheme: &'a str,
    userinfo: Option<&'a str>,
    host: &'a str,
    port_and_rest: &'a str,
}

fn split_uri(uri: &str) -> Option<UriParts<'_>> {
    let (scheme, rest) = uri.split_once(':')?;
    if scheme.is_empty()
        || !scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        || !scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    {
        return None;
    }
    let Some(after) = rest.strip_prefix("//") else {
        // No authority (urn:, mailto:): only the scheme is case-insensitive.
        return Some(UriParts {
            scheme,
            userinfo: None,
            host: "",
            port_and_rest: rest,
        });
    };
    let authority_end = after.find(['/', '?', '#']).unwrap_or(after.len());
    let (authority, path) = after.split_at(authority_end);
    let (userinfo, host_port) = match authority.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, authority),
    };
    // The port starts at the last ':' outside an IPv6 literal.
    let host_end = if host_port.starts_with('[') {
        host_port.find(']').map_or(host_port.len(), |i| i + 1)
    } else {
        host_port.rfind(':').unwrap_or(host_port.len())
    };
    let host = &host_port[..host_end];
    // `port_and_rest` is the port (with its ':') followed by the path, query
    // and fragment, all compared exactly.
    let port_start = uri.len() - path.len() - (host_port.len() - host_end);
    Some(UriParts {
        scheme,
        userinfo,
        host,
        port_and_rest: &uri[port_start..],
    })
}

/// uniformResourceIdentifier: exact, with scheme and host case-insensitive.
pub fn uri_matches(registered: &str, presented: &str) -> bool {
    if registered.is_empty() {
        return false;
    }
    if registered == presented {
        return true;
    }
    match (split_uri(registered), split_uri(presented)) {
        (Some(r), Some(p)) => {
            r.scheme.eq_ignore_ascii_case(p.scheme)
                && r.userinfo == p.userinfo
                && r.host.eq_ignore_ascii_case(p.host)
                && r.port_and_rest == p.port_and_rest
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_is_case_insensitive_exact_without_wildcards() {
        assert!(dns_matches("client.example.com", "CLIENT.example.COM"));
        assert!(!dns_matches("client.example.com", "client.example.com."));
        assert!(!dns_matches("example.com", "client.example.com"));
        assert!(!dns_matches("*.example.com", "client.example.com"));
        assert!(!dns_matches("client.example.com", "*.example.com"));
        assert!(dns_matches("*.example.com", "*.example.com"));
        assert!(!dns_matches("", ""));
    }

    #[test]
    fn uri_scheme_and_host_are_case_insensitive_rest_exact() {
        assert!(uri_matches(
            "spiffe://Example.org/ns/prod/sa/client",
            "SPIFFE://example.ORG/ns/prod/sa/client"
        ));
        assert!(!uri_matches(
            "spiffe://example.org/ns/prod/sa/client",
            "spiffe://example.org/ns/prod/sa/Client"
        ));
        assert!(uri_matches(
            "https://a.example:8443/x?q=1",
            "HTTPS://A.EXAMPLE:8443/x?q=1"
        ));
        assert!(!uri_matches(
            "https://a.example:8443/x",
            "https://a.example:8444/x"
        ));
        assert!(!uri_matches("https://a.example/x", "https://a.example/x/"));
        assert!(!uri_matches(
            "https://User@a.example/",
            "https://user@a.example/"
        ));
        assert!(uri_matches(
            "https://[2001:DB8::1]:443/",
            "https://[2001:db8::1]:443/"
        ));
        assert!(uri_matches("URN:example:Client", "urn:example:Client"));
        assert!(!uri_matches("urn:example:Client", "urn:example:client"));
        assert!(!uri_matches("", ""));
        assert!(!uri_matches("not a uri", "not a uri/"));
    }

    #[test]
    fn ip_compares_bytes_v4_and_v6() {
        assert!(ip_matches("192.0.2.7", "192.0.2.7".parse().unwrap()));
        assert!(!ip_matches("192.0.2.7", "192.0.2.8".parse().unwrap()));
        assert!(ip_matches("2001:DB8::1", "2001:db8:0::1".parse().unwrap()));
        assert!(!ip_matches(
            "::ffff:192.0.2.7",
            "192.0.2.7".parse().unwrap()
        ));
        assert!(!ip_matches(
            "192.0.2.7",
            "::ffff:192.0.2.7".parse().unwrap()
        ));
        assert!(!ip_matches("192.0.2.300", "192.0.2.7".parse().unwrap()));
    }

    #[test]
    fn email_local_part_exact_domain_case_insensitive() {
        assert!(email_matches("ops@example.com", "ops@EXAMPLE.com"));
        assert!(!email_matches("ops@example.com", "Ops@example.com"));
        assert!(!email_matches("ops@example.com", "ops@example.org"));
        assert!(email_matches("\"a@b\"@example.com", "\"a@b\"@Example.com"));
        assert!(!email_matches("example.com", "example.com"));
        assert!(!email_matches("@example.com", "@example.com"));
    }
}
