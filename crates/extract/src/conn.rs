//! Reading what the connection knows from the request extensions, whichever
//! server put it there.

use std::net::{IpAddr, SocketAddr};

use certbound_cert::{CertError, Certificate};
use http::Extensions;

use crate::{CertSource, ClientCert, PeerAddr, PeerCertificates};

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

/// The certificate of the TLS connection, from our [`PeerCertificates`],
/// axum's `ConnectInfo<TlsConnectInfo>`, axum-server's `TlsInfo` or tonic's
/// `TlsConnectInfo`.
pub(crate) fn tls_client_cert(ext: &Extensions) -> Option<Result<ClientCert, CertError>> {
    if let Some(certs) = ext.get::<PeerCertificates>() {
        return Some(certs.client_cert());
    }
    #[cfg(feature = "axum")]
    if let Some(axum::extract::ConnectInfo(info)) =
        ext.get::<axum::extract::ConnectInfo<crate::connect_info::TlsConnectInfo>>()
    {
        return info.peer_certificates().map(PeerCertificates::client_cert);
    }
    #[cfg(feature = "axum-server")]
    if let Some(info) = ext.get::<std::sync::Arc<axum_server::tls::TlsInfo>>() {
        return from_der_chain(info.peer_certificates.iter().map(Vec::as_slice));
    }
    #[cfg(feature = "tonic")]
    {
        use tonic::transport::server::{TcpConnectInfo, TlsConnectInfo};
        if let Some(info) = ext.get::<TlsConnectInfo<TcpConnectInfo>>() {
            let certs = info.peer_certs()?;
            return from_der_chain(certs.iter().map(|c| c.as_ref()));
        }
    }
    None
}

/// A [`ClientCert`] from DER certificates, leaf first; `None` when empty.
#[cfg_attr(not(any(feature = "axum-server", feature = "tonic")), allow(dead_code))]
fn from_der_chain<'a>(
    mut chain: impl Iterator<Item = &'a [u8]>,
) -> Option<Result<ClientCert, CertError>> {
    let leaf = chain.next()?;
    Some((|| {
        let leaf = Certificate::from_der_framed(leaf)?;
        let intermediates = chain
            .map(Certificate::from_der_framed)
            .collect::<Result<_, _>>()?;
        let cert = ClientCert::new(leaf, intermediates, CertSource::Tls);
        cert.check().map_err(|(_, e)| e)?;
        Ok(cert)
    })())
}
