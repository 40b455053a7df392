//! The few URL facts metadata needs, on top of `http::Uri`.
//!
//! `http::Uri` silently drops a fragment, so the raw text is looked at for
//! `?` and `#` as well.

use std::net::IpAddr;

use http::Uri;
use http::uri::{Authority, Scheme};

/// An absolute `http` or `https` URL, split into what the checks need.
#[derive(Debug, Clone)]
pub(crate) struct AbsoluteUrl {
    pub(crate) scheme: Scheme,
    pub(crate) authority: Authority,
    /// The path, `/` when empty.
    pub(crate) path: String,
    pub(crate) query: Option<String>,
    pub(crate) has_fragment: bool,
}

impl AbsoluteUrl {
    /// Parses an absolute URL with a scheme and a host; `None` otherwise.
    pub(crate) fn parse(s: &str) -> Option<Self> {
        let (before_fragment, has_fragment) = match s.split_once('#') {
            Some((b, _)) => (b, true),
            None => (s, false),
        };
        let uri: Uri = before_fragment.parse().ok()?;
        let scheme = uri.scheme()?.clone();
        let authority = uri.authority()?.clone();
        if authority.host().is_empty() {
            return None;
        }
        let query = before_fragment.split_once('?').map(|(_, q)| q.to_owned());
        Some(Self {
            scheme,
            authority,
            path: uri.path().to_owned(),
            query,
            has_fragment,
        })
    }

    pub(crate) fn is_https(&self) -> bool {
        self.scheme == Scheme::HTTPS
    }

    pub(crate) fn is_http(&self) -> bool {
        self.scheme == Scheme::HTTP
    }

    /// `localhost`, `*.localhost`, 127.0.0.0/8 or `::1`.
    pub(crate) fn is_loopback(&self) -> bool {
        let host = self.authority.host();
        let lower = host.to_ascii_lowercase();
        if lower == "localhost" || lower.ends_with(".localhost") {
            return true;
        }
        let bare = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
    }

    /// The same URL with another authority (host and optional port).
    pub(crate) fn with_authority(&self, authority: &Authority) -> String {
        format!("{}://{authority}{}", self.scheme, self.path_and_query())
    }

    /// The path and query as they would appear on the request line.
    pub(crate) fn path_and_query(&self) -> String {
        match &self.query {
            Some(q) => format!("{}?{q}", self.path),
            None => self.path.clone(),
        }
    }
}

/// Parses `host` or `host:port` as an authority without user info.
pub(crate) fn parse_host(host: &str) -> Option<Authority> {
    if host.is_empty() || host.contains(['@', '/', '?', '#']) {
        return None;
    }
    host.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fragment_and_query_are_seen() {
        let u = AbsoluteUrl::parse("https://as.example.com/a?b=c#d").unwrap();
        assert!(u.has_fragment);
        assert_eq!(u.query.as_deref(), Some("b=c"));
        assert_eq!(u.path, "/a");
    }

    #[test]
    fn relative_and_hostless_urls_are_refused() {
        assert!(AbsoluteUrl::parse("/token").is_none());
        assert!(AbsoluteUrl::parse("as.example.com/token").is_none());
        assert!(AbsoluteUrl::parse("").is_none());
    }

    #[test]
    fn loopback_hosts_are_recognised() {
        for s in [
            "http://localhost:8080/x",
            "http://127.0.0.1/",
            "http://127.8.9.1/",
            "http://[::1]:3000/",
            "http://api.localhost/",
        ] {
            assert!(AbsoluteUrl::parse(s).unwrap().is_loopback(), "{s}");
        }
        for s in [
            "http://10.0.0.1/",
            "http://example.com/",
            "http://localhost.example.com/",
        ] {
            assert!(!AbsoluteUrl::parse(s).unwrap().is_loopback(), "{s}");
        }
    }

    #[test]
    fn authority_is_replaced_keeping_path_and_query() {
        let u = AbsoluteUrl::parse("https://as.example.com/t1/token?x=1").unwrap();
        let a = parse_host("mtls.example.com:8443").unwrap();
        assert_eq!(
            u.with_authority(&a),
            "https://mtls.example.com:8443/t1/token?x=1"
        );
    }
}
