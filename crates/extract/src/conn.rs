//! Reading what the connection knows from the request extensions, whichever
//! server put it there.

use std::net::{IpAddr, SocketAddr};

use certbound_cert::CertError;
use http::Extensions;

use crate::layer::memo::Memo;
use crate::{ClientCert, PeerAddr, PeerCertificates};

/// The peer's address: our [`PeerAddr`], axum's `ConnectInfo<SocketAddr>` or
/// `ConnectInfo<TlsConnectInfo>`, or tonic's `TcpConnectInfo` (plain or
/// inside its `TlsConnectInfo`). IPv4-mapped IPv6 addresses are unmapped.
pub(crate) fn peer_ip(ext: &Extensions) -> Option<IpAddr> {
    peer_addr(ext).map(|a| a.ip().to_canonical())
}

fn peer_addr(ext: &Extensions) -> Option<SocketAddr> {
    if let Some(PeerAddr(addr)) = ext.get::<PeerAddr>() {
        return Some(*addr);
    }
    #[cfg(feature = "axum")]
    {
        if let Some(axum::extract::ConnectInfo(addr)) =
            ext.get::<axum::extract::ConnectInfo<SocketAddr>>()
        {
            return Some(*addr);
        }
        if let Some(axum::extract::ConnectInfo(info)) =
            ext.get::<axum::extract::ConnectInfo<crate::connect_info::TlsConnectInfo>>()
        {
            return Some(info.remote_addr());
        }
    }
    #[cfg(feature = "tonic")]
    {
        use tonic::transport::server::{TcpConnectInfo, TlsConnectInfo};
        if let Some(info) = ext.get::<TcpConnectInfo>() {
            return info.remote_addr();
        }
        if let Some(info) = ext.get::<TlsConnectInfo<TcpConnectInfo>>() {
            return info.get_ref().remote_addr();
        }
    }
    None
}

/// The certificate of the TLS connection, from our [`PeerCertificates`]
/// (or its marker that the connection had none), axum's
/// `ConnectInfo<TlsConnectInfo>`, axum-server's `TlsInfo` or tonic's
/// `TlsConnectInfo`: `None` when the request carries none of them (the
/// server was not set up to pass the TLS connection on), `Some(None)` when
/// the connection has no client certificate.
///
/// The first two are parsed once per connection already; the chains of
/// axum-server and tonic come as DER on every request, so `memo` remembers
/// what they gave by their exact bytes.
#[cfg_attr(
    not(any(feature = "axum-server", feature = "tonic")),
    allow(unused_variables)
)]
pub(crate) fn tls_client_cert(
    ext: &Extensions,
    memo: Option<&Memo>,
) -> Option<Option<Result<ClientCert, CertError>>> {
    if let Some(certs) = ext.get::<PeerCertificates>() {
        return Some(Some(certs.client_cert()));
    }
    if ext.get::<crate::peer::NoPeerCertificates>().is_some() {
        return Some(None);
    }
    #[cfg(feature = "axum")]
    if let Some(axum::extract::ConnectInfo(info)) =
        ext.get::<axum::extract::ConnectInfo<crate::connect_info::TlsConnectInfo>>()
    {
        return Some(info.peer_certificates().map(PeerCertificates::client_cert));
    }
    #[cfg(feature = "axum-server")]
    if let Some(info) = ext.get::<std::sync::Arc<axum_server::tls::TlsInfo>>() {
        return Some(from_der_chain(
            info.peer_certificates.iter().map(Vec::as_slice),
            memo,
        ));
    }
    #[cfg(feature = "tonic")]
    {
        use tonic::transport::server::{TcpConnectInfo, TlsConnectInfo};
        if let Some(info) = ext.get::<TlsConnectInfo<TcpConnectInfo>>() {
            return Some(
                info.peer_certs()
                    .and_then(|certs| from_der_chain(certs.iter().map(|c| c.as_ref()), memo)),
            );
        }
    }
    None
}

/// A [`ClientCert`] from DER certificates, leaf first; `None` when empty.
/// A chain `memo` holds (the same bytes, certificate for certificate) is
/// not parsed again.
#[cfg_attr(not(any(feature = "axum-server", feature = "tonic")), allow(dead_code))]
fn from_der_chain<'a>(
    chain: impl Iterator<Item = &'a [u8]>,
    memo: Option<&Memo>,
) -> Option<Result<ClientCert, CertError>> {
    let ders: Vec<&[u8]> = chain.collect();
    if ders.is_empty() {
        return None;
    }
    if let Some(cert) = memo.and_then(|m| m.get(&ders)) {
        return Some(Ok(cert));
    }
    let cert = crate::peer::client_cert_of(ders.iter().copied());
    if let (Ok(cert), Some(memo)) = (&cert, memo) {
        memo.insert(&ders, cert);
    }
    Some(cert)
}

#[cfg(test)]
mod tests {
    use super::*;
    use certbound_testkit::TestCa;

    #[test]
    fn a_chain_seen_before_is_served_by_the_memo_only_when_identical() {
        let ca = TestCa::new("Conn CA");
        let inter = ca.intermediate("Conn Issuing");
        let leaf = inter.leaf("client").issue();
        let memo = Memo::new(16);
        let chain = [leaf.der.as_slice(), inter.cert.der.as_slice()];

        let first = from_der_chain(chain.iter().copied(), memo.as_ref())
            .unwrap()
            .unwrap();
        let again = from_der_chain(chain.iter().copied(), memo.as_ref())
            .unwrap()
            .unwrap();
        // The same parsed certificate, not a second parse of the same bytes.
        assert!(std::ptr::eq(first.leaf().der(), again.leaf().der()));
        assert_eq!(again.intermediates().len(), 1);

        // The same leaf with other intermediates is parsed again, as sent.
        let alone = from_der_chain([leaf.der.as_slice()].into_iter(), memo.as_ref())
            .unwrap()
            .unwrap();
        assert!(alone.intermediates().is_empty());
        assert!(!std::ptr::eq(first.leaf().der(), alone.leaf().der()));
        assert_eq!(alone.thumbprint(), first.thumbprint());

        // Malformed certificates are refused every time and never remembered.
        let bad = [&leaf.der[..leaf.der.len() - 1]];
        for _ in 0..2 {
            assert!(
                from_der_chain(bad.iter().copied(), memo.as_ref())
                    .unwrap()
                    .is_err()
            );
        }
        assert!(from_der_chain(std::iter::empty(), memo.as_ref()).is_none());
    }
}
