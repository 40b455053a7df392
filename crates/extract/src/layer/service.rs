//! [`ClientCertService`].

use std::sync::Once;
use std::task::{Context, Poll};

use http::{HeaderMap, HeaderName, HeaderValue, Request, Response};
use tower_service::Service;

use super::layer::Source;
use super::memo::Memo;
use super::{ClientCertLayer, Extracted, HeaderSource, ResponseBody, ResponseFuture};
use crate::header::{self, HeaderError};
use crate::{ClientCert, conn};
use certbound_cert::CertError;
use certbound_oauth::OAuthError;

/// The service of [`ClientCertLayer`].
#[derive(Debug, Clone)]
pub struct ClientCertService<S> {
    inner: S,
    layer: ClientCertLayer,
}

impl<S> ClientCertService<S> {
    /// Wraps `inner`.
    pub fn new(inner: S, layer: ClientCertLayer) -> Self {
        Self { inner, layer }
    }

    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for ClientCertService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
{
    type Response = Response<ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqBody>) -> Self::Future {
        let found = match &*self.layer.source {
            Source::Tls(memo) => match conn::tls_client_cert(req.extensions(), memo.as_ref()) {
                None => {
                    no_tls_info();
                    Ok(None)
                }
                Some(None) => Ok(None),
                Some(Some(Ok(cert))) => Ok(Some(cert)),
                Some(Some(Err(e))) => Err(unreadable_tls(&e)),
            },
            Source::Header(source, memo) => source
                .extract(&mut req, memo.as_ref())
                .map_err(|(name, e)| malformed_header(&name, &e)),
        };
        match found {
            Ok(cert) => {
                // A certificate says the layer ran; the marker says so
                // when there is none.
                if let Some(cert) = cert {
                    req.extensions_mut().insert(cert);
                } else {
                    req.extensions_mut().insert(Extracted);
                }
                ResponseFuture::forward(self.inner.call(req))
            }
            // `400 invalid_request` with a JSON body, or gRPC `INVALID_ARGUMENT`.
            Err(message) => ResponseFuture::reject(
                OAuthError::invalid_request(message).response_for(req.headers()),
            ),
        }
    }
}

/// A set-up mistake, not a client without a certificate: said once.
fn no_tls_info() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        tracing::warn!(
            "ClientCertLayer::tls found no TLS connection in the request's extensions, so \
             no request will have a client certificate: serve with certbound's TLS listener \
             (which inserts PeerCertificates), axum's ConnectInfo<TlsConnectInfo>, \
             axum-server's TlsInfo or tonic's TLS connect info"
        );
    });
}

/// A set-up mistake: without the peer's address no proxy is trusted.
fn no_peer_address() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        tracing::warn!(
            "ClientCertLayer::header found no peer address in the request's extensions, so \
             no proxy is trusted and every certificate header is removed: insert PeerAddr, \
             or serve with axum's or tonic's connect info"
        );
    });
}

fn unreadable_tls(e: &CertError) -> String {
    tracing::debug!(error = %e, "the TLS client certificate could not be read");
    "the client certificate of the TLS connection could not be read".to_owned()
}

fn malformed_header(name: &HeaderName, e: &HeaderError) -> String {
    tracing::debug!(header = %name, error = %e, "malformed client certificate header from a trusted proxy");
    format!("malformed {name} header: {e}")
}

impl HeaderSource {
    /// Whether the request came from a trusted proxy: its peer address (a
    /// [`PeerAddr`](crate::PeerAddr), axum's `ConnectInfo`, or tonic's
    /// connect info, read as [`ClientCertLayer`] reads it) is inside one of
    /// the [trusted networks](Self::trusted_proxies). An unknown address is
    /// not trusted.
    ///
    /// ```
    /// use certbound_extract::{HeaderSource, PeerAddr, header::HeaderFormat};
    ///
    /// let source = HeaderSource::new(HeaderFormat::Pem)
    ///     .trusted_proxies(["127.0.0.0/8".parse().unwrap()]);
    /// let mut req = http::Request::new(());
    /// assert!(!source.trusts(req.extensions()));
    /// req.extensions_mut().insert(PeerAddr("127.0.0.1:4000".parse().unwrap()));
    /// assert!(source.trusts(req.extensions()));
    /// req.extensions_mut().insert(PeerAddr("192.0.2.1:4000".parse().unwrap()));
    /// assert!(!source.trusts(req.extensions()));
    /// ```
    pub fn trusts(&self, extensions: &http::Extensions) -> bool {
        conn::peer_ip(extensions).is_some_and(|ip| self.trusted.iter().any(|net| net.contains(&ip)))
    }

    /// The certificate from the configured headers, after the peer check.
    /// On error, the name of the header that was wrong.
    fn extract<B>(
        &self,
        req: &mut Request<B>,
        memo: Option<&Memo>,
    ) -> Result<Option<ClientCert>, (HeaderName, HeaderError)> {
        let name = self.decoder.header_name();
        let peer = conn::peer_ip(req.extensions());
        if peer.is_none() {
            no_peer_address();
        }
        let trusted = self.trusts(req.extensions());
        let headers = req.headers_mut();
        if !trusted {
            // `remove` drops every field line of the name, not only the first.
            let mut removed = headers.remove(name).is_some();
            if let Some(chain) = &self.chain {
                removed |= headers.remove(chain).is_some();
            }
            if let Some((verified, _)) = &self.verified {
                removed |= headers.remove(verified).is_some();
            }
            if removed {
                tracing::debug!(peer = ?peer, header = %name, "removed a client certificate header from a peer that is not a trusted proxy");
            }
            return Ok(None);
        }
        let Some(value) = single(headers, name).map_err(|e| (name.clone(), e))? else {
            return Ok(None);
        };
        if let Some((verified, required)) = &self.verified {
            let mut got = headers.get_all(verified).iter();
            if got.next() != Some(required) || got.next().is_some() {
                let values = headers.get_all(verified).iter().collect::<Vec<_>>();
                tracing::debug!(header = %verified, values = ?values, "the proxy did not mark the client certificate verified: no certificate");
                return Ok(None);
            }
        }
        let chain = match &self.chain {
            Some(chain_name) => single(headers, chain_name).map_err(|e| (chain_name.clone(), e))?,
            None => None,
        };
        let read: &[&[u8]] = match chain {
            Some(chain) => &[value, chain],
            None => &[value],
        };
        if let Some(cert) = memo.and_then(|m| m.get(read)) {
            return Ok(Some(cert));
        }
        let cert = self
            .decoder
            .decode(value, chain)
            .map_err(|e| match (e, &self.chain) {
                (HeaderError::Chain(inner), Some(chain_name)) => (chain_name.clone(), *inner),
                (e, _) => (name.clone(), e),
            })?;
        if let (Some(cert), Some(memo)) = (&cert, memo) {
            memo.insert(read, cert);
        }
        Ok(cert)
    }
}

/// The header's value; several field lines are refused whatever the
/// format ([`header::single_field_line`]).
fn single<'h>(headers: &'h HeaderMap, name: &HeaderName) -> Result<Option<&'h [u8]>, HeaderError> {
    header::single_field_line(headers.get_all(name).iter().map(HeaderValue::as_bytes))
}
