//! Which URLs and addresses a fetch may reach.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, LazyLock};

use ipnet::IpNet;
use reqwest::Url;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::FetchError;

/// Address ranges a URL that a client registered may not reach: they name
/// the resource server's own host or network, not the client's (SSRF).
static FORBIDDEN: LazyLock<Vec<IpNet>> = LazyLock::new(|| {
    [
        "0.0.0.0/8",      // unspecified, "this network"
        "10.0.0.0/8",     // private
        "100.64.0.0/10",  // carrier-grade NAT
        "127.0.0.0/8",    // loopback
        "169.254.0.0/16", // link-local
        "172.16.0.0/12",  // private
        "192.168.0.0/16", // private
        "224.0.0.0/4",    // multicast
        "240.0.0.0/4",    // reserved, broadcast
        "::/128",         // unspecified
        "::1/128",        // loopback
        "fc00::/7",       // unique local
        "fe80::/10",      // link-local
        "ff00::/8",       // multicast
    ]
    .iter()
    .filter_map(|net| net.parse().ok())
    .collect()
});

/// Whether `ip` is in a range a client-registered URL may not reach.
/// IPv4-mapped (`::ffff:a.b.c.d`) and NAT64 (`64:ff9b::a.b.c.d`) forms
/// are judged by the IPv4 address they carry.
pub(crate) fn is_forbidden(ip: IpAddr) -> bool {
    let ip = match ip {
        IpAddr::V6(v6) => embedded_v4(v6).map_or(ip, IpAddr::V4),
        v4 => v4,
    };
    FORBIDDEN.iter().any(|net| net.contains(&ip))
}

fn embedded_v4(v6: Ipv6Addr) -> Option<std::net::Ipv4Addr> {
    if let Some(v4) = v6.to_ipv4_mapped() {
        return Some(v4);
    }
    let s = v6.segments();
    let nat64 = s[..6] == [0x64, 0xff9b, 0, 0, 0, 0];
    nat64.then(|| {
        let [.., a, b, c, d] = v6.octets();
        std::net::Ipv4Addr::new(a, b, c, d)
    })
}

/// The URL policy of one fetcher.
#[derive(Debug, Clone)]
pub(crate) enum Policy {
    /// URLs a client registered: https, public addresses, unless the host
    /// is allowed by name.
    ClientUrls { allowed_hosts: Arc<HashSet<String>> },
    /// URLs the operator configured: https, or http for CRLs.
    Operator,
}

impl Policy {
    /// Checks the scheme, and for client URLs an IP-literal host (names are
    /// checked when they resolve, by [`GuardedResolver`]).
    pub(crate) fn check_url(&self, url: &Url, allow_http: bool) -> Result<(), FetchError> {
        match url.scheme() {
            "https" => {}
            "http" if allow_http => {}
            other => {
                return Err(FetchError::SchemeRefused {
                    scheme: other.to_owned(),
                });
            }
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(FetchError::InvalidUrl("credentials in the URL".into()));
        }
        let Policy::ClientUrls { allowed_hosts } = self else {
            return Ok(());
        };
        let ip = match url.host() {
            Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip),
            Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip),
            Some(url::Host::Domain(_)) => return Ok(()),
            None => return Err(FetchError::InvalidUrl("no host".into())),
        };
        let host = url.host_str().unwrap_or_default();
        if is_forbidden(ip) && !allowed_hosts.contains(host.trim_matches(['[', ']'])) {
            return Err(FetchError::ForbiddenAddress {
                host: host.to_owned(),
                address: ip,
            });
        }
        Ok(())
    }
}

/// Resolves names with the system resolver and drops the addresses a
/// client-registered URL may not reach, so that the address connected to
/// is the address checked (no second lookup an attacker's DNS could
/// answer differently).
#[derive(Debug)]
pub(crate) struct GuardedResolver {
    pub(crate) allowed_hosts: Arc<HashSet<String>>,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allowed = self
            .allowed_hosts
            .contains(&name.as_str().to_ascii_lowercase());
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if allowed {
                return Ok(Box::new(found.into_iter()) as Addrs);
            }
            let (refused, usable): (Vec<_>, Vec<_>) =
                found.into_iter().partition(|a| is_forbidden(a.ip()));
            if usable.is_empty() {
                if let Some(first) = refused.first() {
                    return Err(Box::new(FetchError::ForbiddenAddress {
                        host,
                        address: first.ip(),
                    }) as _);
                }
            }
            for a in &refused {
                tracing::debug!(host, address = %a.ip(), "resolved address refused");
            }
            Ok(Box::new(usable.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_loopback_link_local_and_their_mapped_forms_are_forbidden() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::10.0.0.1",
        ] {
            assert!(is_forbidden(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn public_addresses_are_allowed() {
        for ip in [
            "8.8.8.8",
            "172.32.0.1",
            "100.128.0.1",
            "2001:db8::1",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            assert!(!is_forbidden(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn ip_literal_client_urls_are_checked_and_allowed_only_by_name() {
        let strict = Policy::ClientUrls {
            allowed_hosts: Arc::default(),
        };
        let url = |s: &str| Url::parse(s).unwrap();
        assert!(matches!(
            strict.check_url(&url("https://127.0.0.1/jwks"), false),
            Err(FetchError::ForbiddenAddress { .. })
        ));
        assert!(matches!(
            strict.check_url(&url("https://[::ffff:10.0.0.1]/jwks"), false),
            Err(FetchError::ForbiddenAddress { .. })
        ));
        assert!(
            strict
                .check_url(&url("https://8.8.8.8/jwks"), false)
                .is_ok()
        );
        assert!(matches!(
            strict.check_url(&url("http://8.8.8.8/jwks"), false),
            Err(FetchError::SchemeRefused { .. })
        ));
        let allowed = Policy::ClientUrls {
            allowed_hosts: Arc::new(["127.0.0.1".to_owned(), "::1".to_owned()].into()),
        };
        assert!(
            allowed
                .check_url(&url("https://127.0.0.1/jwks"), false)
                .is_ok()
        );
        assert!(allowed.check_url(&url("https://[::1]/jwks"), false).is_ok());
    }

    #[test]
    fn operator_urls_need_https_unless_http_is_allowed() {
        let url = |s: &str| Url::parse(s).unwrap();
        assert!(
            Policy::Operator
                .check_url(&url("https://127.0.0.1/"), false)
                .is_ok()
        );
        assert!(matches!(
            Policy::Operator.check_url(&url("http://ca.example/crl"), false),
            Err(FetchError::SchemeRefused { .. })
        ));
        assert!(
            Policy::Operator
                .check_url(&url("http://ca.example/crl"), true)
                .is_ok()
        );
        assert!(matches!(
            Policy::Operator.check_url(&url("file:///etc/passwd"), true),
            Err(FetchError::SchemeRefused { .. })
        ));
    }
}
