//! [`ClientCertLayer`] and its header configuration, [`HeaderSource`].

use std::sync::Arc;

use http::{HeaderName, HeaderValue};
use ipnet::IpNet;
use tower_layer::Layer;

use super::ClientCertService;
use super::memo::Memo;
use crate::header::{HeaderDecoder, HeaderFormat};

/// Puts the client's [`ClientCert`](crate::ClientCert) into the request
/// extensions, from the TLS connection or from one trusted proxy header. See
/// the [module docs](super).
///
/// Its service is [`ClientCertService`](super::ClientCertService), not
/// `ClientCert<S>` as tower-http's `FooLayer`/`Foo<S>` would have it:
/// [`ClientCert`](crate::ClientCert) is the certificate the layer extracts.
#[derive(Debug, Clone)]
pub struct ClientCertLayer {
    pub(crate) source: Arc<Source>,
}

// Held once behind an `Arc`: the size difference costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub(crate) enum Source {
    /// The memo serves the chains that come as DER on every request
    /// (axum-server, tonic).
    Tls(Option<Memo>),
    Header(HeaderSource, Option<Memo>),
}

impl ClientCertLayer {
    /// Reads the certificate of the TLS connection: a [`PeerCertificates`]
    /// extension, axum's `ConnectInfo<TlsConnectInfo>`, axum-server's
    /// `TlsInfo` or tonic's `TlsConnectInfo`. Headers are not looked at.
    ///
    /// The first two are parsed once per connection. axum-server and tonic
    /// hand over the chain as DER on every request: the layer remembers the
    /// last 4096 chains by their exact bytes, so a returning client's
    /// certificate is not parsed again.
    ///
    /// [`PeerCertificates`]: crate::PeerCertificates
    pub fn tls() -> Self {
        Self {
            // Only the axum-server and tonic adapters read DER chains.
            source: Arc::new(Source::Tls(Memo::new(
                if cfg!(any(feature = "axum-server", feature = "tonic")) {
                    DEFAULT_MEMO_CAPACITY
                } else {
                    0
                },
            ))),
        }
    }

    /// Reads the certificate from a proxy header, believed only from trusted
    /// proxies. The TLS connection is not looked at.
    pub fn header(source: HeaderSource) -> Self {
        let memo = Memo::new(source.memo_capacity);
        Self {
            source: Arc::new(Source::Header(source, memo)),
        }
    }
}

impl<S> Layer<S> for ClientCertLayer {
    type Service = ClientCertService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ClientCertService::new(inner, self.clone())
    }
}

/// Where and how a reverse proxy passes the client certificate, and which
/// peers are trusted to do so.
///
/// Defaults: the format's [default header](HeaderFormat::default_header) and
/// [chain header](HeaderFormat::default_chain_header), no "verified" header,
/// values up to 16 KiB, at most 4 certificates, the last XFCC element, and
/// **no trusted proxy** (so every header is ignored until
/// [`trusted_proxies`](Self::trusted_proxies) is set).
#[derive(Debug, Clone)]
pub struct HeaderSource {
    pub(crate) decoder: HeaderDecoder,
    pub(crate) chain: Option<HeaderName>,
    pub(crate) verified: Option<(HeaderName, HeaderValue)>,
    pub(crate) trusted: Vec<IpNet>,
    pub(crate) memo_capacity: usize,
}

/// The default number of decoded headers a layer remembers.
pub(crate) const DEFAULT_MEMO_CAPACITY: usize = 4096;

impl HeaderSource {
    /// A header source of this format with the defaults above.
    pub fn new(format: HeaderFormat) -> Self {
        Self {
            decoder: HeaderDecoder::new(format),
            chain: format.default_chain_header(),
            verified: None,
            trusted: Vec::new(),
            memo_capacity: DEFAULT_MEMO_CAPACITY,
        }
    }

    /// The networks of the proxies whose headers are believed (IPv4 and
    /// IPv6; a single address is a `/32` or `/128`). Adds to the list.
    pub fn trusted_proxies(mut self, networks: impl IntoIterator<Item = IpNet>) -> Self {
        self.trusted.extend(networks);
        self
    }

    /// The header the certificate is read from.
    pub fn header_name(mut self, name: HeaderName) -> Self {
        self.decoder = self.decoder.with_header_name(name);
        self
    }

    /// The header the intermediates are read from, in the same format, or
    /// `None` for no chain header.
    pub fn chain_header(mut self, name: Option<HeaderName>) -> Self {
        self.chain = name;
        self
    }

    /// A header the proxy sets to say it verified the certificate, and the
    /// value meaning success, such as `X-SSL-Client-Verify: SUCCESS` (nginx
    /// `$ssl_client_verify`). A certificate header without it, or with
    /// another value, yields no certificate.
    pub fn verified_header(mut self, name: HeaderName, required: HeaderValue) -> Self {
        self.verified = Some((name, required));
        self
    }

    /// The largest header value accepted, in bytes (default 16 KiB).
    pub fn max_header_len(mut self, bytes: usize) -> Self {
        self.decoder = self.decoder.max_header_len(bytes);
        self
    }

    /// The most certificates accepted, leaf included (default 4).
    pub fn max_chain_len(mut self, certificates: usize) -> Self {
        self.decoder = self.decoder.max_chain_len(certificates);
        self
    }

    /// Whether the proxy puts the client's chain into the certificate
    /// header's value after the leaf (default `false`: the leaf alone, and
    /// a value with several certificates is refused as combined). See
    /// [`HeaderDecoder::chain_in_value`].
    pub fn chain_in_value(mut self, yes: bool) -> Self {
        self.decoder = self.decoder.chain_in_value(yes);
        self
    }

    /// Which XFCC element describes the client, counted from the right
    /// (default 1, the last). See [`HeaderDecoder::xfcc_hop`].
    pub fn xfcc_hop(mut self, hop: usize) -> Self {
        self.decoder = self.decoder.xfcc_hop(hop);
        self
    }

    /// How many decoded headers the layer remembers, by their exact bytes
    /// (header and chain header), so that a returning client's certificate
    /// is not decoded and parsed again (default 4096; 0 turns it off). A
    /// remembered certificate is the one the same bytes decode to; dates and
    /// trust are still checked by whatever decides on it.
    pub fn memo_capacity(mut self, entries: usize) -> Self {
        self.memo_capacity = entries;
        self
    }

    /// The configured decoder.
    pub fn decoder(&self) -> &HeaderDecoder {
        &self.decoder
    }
}
