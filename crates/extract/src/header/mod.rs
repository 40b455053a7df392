//! Decoding the client certificate from a reverse proxy's header.
//!
//! Each proxy writes the certificate its own way; the format is configured,
//! never guessed ([`HeaderFormat`]). The decoders are plain functions, usable
//! without the layer: [`decode`] with defaults, or a configured
//! [`HeaderDecoder`].
//!
//! | format | written by |
//! | --- | --- |
//! | [`Rfc9440`](HeaderFormat::Rfc9440) | RFC 9440 `Client-Cert: :MIIB...:` and `Client-Cert-Chain` |
//! | [`PemUrlEncoded`](HeaderFormat::PemUrlEncoded) | nginx `$ssl_client_escaped_cert`, ingress-nginx, AWS ALB `X-Amzn-Mtls-Clientcert[-Leaf]` |
//! | [`Pem`](HeaderFormat::Pem) | Apache `%{SSL_CLIENT_CERT}s`, nginx `$ssl_client_cert` |
//! | [`DerBase64`](HeaderFormat::DerBase64) | HAProxy `%[ssl_c_der,base64]` (and `%[ssl_c_chain_der,base64]`, the intermediates without the leaf, as a chain header), Caddy `{http.request.tls.client.certificate_der_base64}`, Traefik v3 `X-Forwarded-Tls-Client-Cert`, Azure `X-ARR-ClientCert`, Cloudflare |
//! | [`Xfcc`](HeaderFormat::Xfcc) | Envoy and Istio `x-forwarded-client-cert` |
//!
//! An empty value (and Apache's literal `(null)`) means "no certificate", as
//! proxies write it when the client sent none.
//!
//! The certificate header's value holds the leaf alone, as nginx, Apache,
//! HAProxy's `ssl_c_der`, Caddy and RFC 9440's `Client-Cert` write it;
//! intermediates come from a chain header. Traefik and AWS ALB's
//! `X-Amzn-Mtls-Clientcert` put the whole chain in the value: tell the
//! decoder so with [`HeaderDecoder::chain_in_value`].
//!
//! A proxy must replace the client's header, not append to it (Apache
//! `RequestHeader append`, HAProxy `add-header`, a copied `$http_` variable
//! in nginx): a value combined from the client's and the proxy's is refused,
//! never picked from ([`HeaderError::is_combined`] lists the signs). Each
//! format has one reader; PEM, URL-encoded PEM and XFCC `Cert`/`Chain` share
//! certbound-cert's [`pem::tokens`].
//!
//! ```
//! use certbound_extract::header::{self, HeaderFormat};
//!
//! // AWS ALB leaves '+', '/' and '=' unescaped: they must not become spaces.
//! let pem = certbound_testkit::vectors::RFC8705_APPENDIX_A_PEM;
//! let alb = pem.replace('\n', "%0A").replace(' ', "%20");
//! let cert = header::decode(HeaderFormat::PemUrlEncoded, alb.as_bytes(), None)?.unwrap();
//! assert_eq!(cert.thumbprint().to_string(), "A4DtL2JmUMhAsvJj5tKyn64SqzmuXbMrJa0n761y5v0");
//! # Ok::<(), certbound_extract::header::HeaderError>(())
//! ```

mod der;
mod error;
mod percent;
pub mod xfcc;

use std::fmt;
use std::str::FromStr;

use certbound_cert::pem::{self, Token};
use certbound_cert::{CertError, Certificate};
use http::HeaderName;

use crate::{CertSource, ClientCert};

pub use der::split_concatenated;
pub use error::HeaderError;
pub use percent::percent_decode;

/// The default limit on a header value's size, in bytes.
pub const DEFAULT_MAX_HEADER_LEN: usize = 16 * 1024;
/// The default limit on the number of certificates, leaf included.
pub const DEFAULT_MAX_CHAIN_LEN: usize = 4;

/// How a proxy wrote the certificate into its header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HeaderFormat {
    /// RFC 9440: `Client-Cert` is a structured-field Byte Sequence
    /// (`:base64:`), `Client-Cert-Chain` a List of them, leaf excluded.
    Rfc9440,
    /// URL-encoded PEM, one or more blocks (leaf first). Percent-decoding is
    /// RFC 3986: `+` stays `+`.
    PemUrlEncoded,
    /// PEM whose newlines were turned into spaces or tabs, or kept; one or
    /// more blocks. `(null)` means no certificate.
    Pem,
    /// Base64 DER, optionally quoted; a comma-separated list forms the chain,
    /// and one value may hold several DER certificates back to back.
    DerBase64,
    /// Envoy's `x-forwarded-client-cert`.
    Xfcc,
}

impl HeaderFormat {
    /// Every format, in the order of the documentation.
    pub const ALL: [HeaderFormat; 5] = [
        HeaderFormat::Rfc9440,
        HeaderFormat::PemUrlEncoded,
        HeaderFormat::Pem,
        HeaderFormat::DerBase64,
        HeaderFormat::Xfcc,
    ];

    /// The name used in configuration and by the CLI: `rfc9440`,
    /// `pem-urlencoded`, `pem`, `der-base64`, `xfcc`.
    pub const fn as_str(self) -> &'static str {
        match self {
            HeaderFormat::Rfc9440 => "rfc9440",
            HeaderFormat::PemUrlEncoded => "pem-urlencoded",
            HeaderFormat::Pem => "pem",
            HeaderFormat::DerBase64 => "der-base64",
            HeaderFormat::Xfcc => "xfcc",
        }
    }

    /// The header this format is read from unless configured otherwise:
    /// `client-cert` (RFC 9440), `x-ssl-client-cert` (PEM, both kinds),
    /// `x-ssl-client-der` (base64 DER), `x-forwarded-client-cert` (XFCC).
    pub fn default_header(self) -> HeaderName {
        HeaderName::from_static(match self {
            HeaderFormat::Rfc9440 => "client-cert",
            HeaderFormat::PemUrlEncoded | HeaderFormat::Pem => "x-ssl-client-cert",
            HeaderFormat::DerBase64 => "x-ssl-client-der",
            HeaderFormat::Xfcc => "x-forwarded-client-cert",
        })
    }

    /// The chain header read by default: `client-cert-chain` for RFC 9440,
    /// none for the others.
    pub fn default_chain_header(self) -> Option<HeaderName> {
        match self {
            HeaderFormat::Rfc9440 => Some(HeaderName::from_static("client-cert-chain")),
            _ => None,
        }
    }
}

impl fmt::Display for HeaderFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An unknown format name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown header format {0:?}; expected rfc9440, pem-urlencoded, pem, der-base64 or xfcc")]
pub struct UnknownFormat(pub String);

impl FromStr for HeaderFormat {
    type Err = UnknownFormat;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        HeaderFormat::ALL
            .into_iter()
            .find(|f| f.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownFormat(s.to_owned()))
    }
}

/// Decodes a header value with the format's defaults (see
/// [`HeaderDecoder`]): `Ok(None)` when the value says "no certificate".
///
/// `chain` is the chain header's value, if any. The result's source is the
/// format's [default header](HeaderFormat::default_header).
pub fn decode(
    format: HeaderFormat,
    value: &[u8],
    chain: Option<&[u8]>,
) -> Result<Option<ClientCert>, HeaderError> {
    HeaderDecoder::new(format).decode(value, chain)
}

/// A configured decoder for one header format: limits, the XFCC hop, and the
/// header name recorded in [`CertSource::Header`].
#[derive(Debug, Clone)]
pub struct HeaderDecoder {
    format: HeaderFormat,
    name: HeaderName,
    max_header_len: usize,
    max_chain_len: usize,
    chain_in_value: bool,
    xfcc_hop: usize,
}

impl HeaderDecoder {
    /// A decoder with the format's default header name, a 16 KiB value
    /// limit, at most 4 certificates, the leaf alone in the header's value,
    /// and the last XFCC element.
    pub fn new(format: HeaderFormat) -> Self {
        Self {
            format,
            name: format.default_header(),
            max_header_len: DEFAULT_MAX_HEADER_LEN,
            max_chain_len: DEFAULT_MAX_CHAIN_LEN,
            chain_in_value: false,
            xfcc_hop: 1,
        }
    }

    /// The format.
    pub fn format(&self) -> HeaderFormat {
        self.format
    }

    /// The header name recorded as the certificate's source.
    pub fn header_name(&self) -> &HeaderName {
        &self.name
    }

    /// Records another header name as the source.
    pub fn with_header_name(mut self, name: HeaderName) -> Self {
        self.name = name;
        self
    }

    /// The largest value accepted, in bytes (each of the header and the chain
    /// header).
    pub fn max_header_len(mut self, bytes: usize) -> Self {
        self.max_header_len = bytes;
        self
    }

    /// The most certificates accepted, leaf included.
    pub fn max_chain_len(mut self, certificates: usize) -> Self {
        self.max_chain_len = certificates;
        self
    }

    /// Whether the proxy puts the client's chain into the header's value,
    /// after the leaf (Traefik's `X-Forwarded-Tls-Client-Cert`, AWS ALB's
    /// `X-Amzn-Mtls-Clientcert`); default `false`. Applies to PEM,
    /// URL-encoded PEM and base64 DER (an RFC 9440 `Client-Cert` holds one
    /// certificate, an XFCC `Cert` too, and Envoy writes `Chain` itself).
    /// HAProxy's `ssl_c_chain_der` holds the intermediates without the
    /// leaf: it goes in a chain header
    /// ([`HeaderSource::chain_header`](crate::HeaderSource::chain_header)),
    /// not here.
    ///
    /// By default a value holds the leaf alone, as nginx, Apache, HAProxy's
    /// `ssl_c_der` and Caddy write it, and a second certificate in it means
    /// the client's value and the proxy's were combined: refused
    /// ([`HeaderError::CombinedInValue`]). With `true`, certificates after
    /// the leaf are accepted when they are CA certificates (and nothing
    /// follows a self-issued leaf); that cannot tell a combined value from
    /// a chain when the proxy also accepts any client certificate (the
    /// attacker's own may then be a CA certificate), so such a proxy must
    /// replace the client's header, as every proxy must.
    ///
    /// ```
    /// use certbound_extract::header::{HeaderDecoder, HeaderFormat};
    ///
    /// let ca = certbound_testkit::TestCa::new("CA");
    /// let inter = ca.intermediate("Issuing CA");
    /// let chain = format!("{}{}", inter.leaf("client").issue().pem, inter.cert.pem);
    /// let value = chain.trim_end().replace('\n', " ");
    /// let leaf_only = HeaderDecoder::new(HeaderFormat::Pem);
    /// assert!(leaf_only.decode(value.as_bytes(), None).unwrap_err().is_combined());
    /// let traefik_like = HeaderDecoder::new(HeaderFormat::Pem).chain_in_value(true);
    /// let cert = traefik_like.decode(value.as_bytes(), None).unwrap().unwrap();
    /// assert_eq!(cert.intermediates().len(), 1);
    /// ```
    pub fn chain_in_value(mut self, yes: bool) -> Self {
        self.chain_in_value = yes;
        self
    }

    /// Which XFCC element describes the client, counted from the right: 1
    /// (the default) is the last element, right for one proxy; behind an
    /// ingress gateway and a sidecar (Istio) it is 2. Zero is taken as 1.
    pub fn xfcc_hop(mut self, hop: usize) -> Self {
        self.xfcc_hop = hop.max(1);
        self
    }

    /// Decodes the header's value and the optional chain header's value.
    /// `Ok(None)` means the proxy says the client sent no certificate.
    pub fn decode(
        &self,
        value: &[u8],
        chain: Option<&[u8]>,
    ) -> Result<Option<ClientCert>, HeaderError> {
        let source = CertSource::Header {
            name: self.name.clone(),
        };
        let cert = self.decode_chain(value, chain)?;
        Ok(cert.map(|(leaf, intermediates)| ClientCert::new(leaf, intermediates, source)))
    }

    /// Like [`decode_chain`](Self::decode_chain), from the header's field
    /// lines and the chain header's, as a request carries them: more than
    /// one line of either is refused ([`single_field_line`]), as
    /// [`ClientCertLayer`](crate::ClientCertLayer) refuses it.
    ///
    /// ```
    /// use certbound_extract::header::{HeaderDecoder, HeaderFormat};
    ///
    /// let pem = certbound_testkit::TestCa::new("CA").leaf("client").issue().pem;
    /// // Apache's %{SSL_CLIENT_CERT}s: the line ends become spaces.
    /// let value = pem.trim_end().replace('\n', " ");
    /// let decoder = HeaderDecoder::new(HeaderFormat::Pem);
    /// assert!(decoder.decode_lines([value.as_bytes()], []).unwrap().is_some());
    /// let twice = decoder.decode_lines([value.as_bytes(), value.as_bytes()], []);
    /// assert!(twice.unwrap_err().is_combined());
    /// ```
    pub fn decode_lines<'v>(
        &self,
        lines: impl IntoIterator<Item = &'v [u8]>,
        chain_lines: impl IntoIterator<Item = &'v [u8]>,
    ) -> Result<Option<(Certificate, Vec<Certificate>)>, HeaderError> {
        let value = single_field_line(lines)?;
        let chain = single_field_line(chain_lines).map_err(HeaderError::in_chain)?;
        match value {
            Some(value) => self.decode_chain(value, chain),
            None => Ok(None),
        }
    }

    /// Like [`decode`](Self::decode), returning the leaf and intermediates.
    pub fn decode_chain(
        &self,
        value: &[u8],
        chain: Option<&[u8]>,
    ) -> Result<Option<(Certificate, Vec<Certificate>)>, HeaderError> {
        let mut certs = Vec::new();
        let value = self.text(value)?;
        if self.means_none(value) {
            return Ok(None);
        }
        match self.format {
            HeaderFormat::Xfcc => {
                let elements = xfcc::parse(value)?;
                let Some(index) = elements.len().checked_sub(self.xfcc_hop) else {
                    tracing::debug!(
                        elements = elements.len(),
                        hop = self.xfcc_hop,
                        "x-forwarded-client-cert has fewer elements than the configured hop: no certificate"
                    );
                    return Ok(None);
                };
                let Some((leaf, intermediates)) = elements[index].certificate(index + 1)? else {
                    return Ok(None);
                };
                certs.push(leaf);
                certs.extend(intermediates);
            }
            HeaderFormat::Rfc9440 => {
                let item: sfv::Item = sfv::Parser::new(value).parse().map_err(|e| {
                    // Base64 has no colon, so more than two colons are
                    // several byte sequences (`:a:, :b:`, `:a: :b:`).
                    match value.bytes().filter(|&b| b == b':').count() {
                        colons if colons > 2 => {
                            HeaderError::CombinedByteSequences { count: colons / 2 }
                        }
                        _ => HeaderError::StructuredField(e.to_string()),
                    }
                })?;
                let der = item.bare_item.as_byte_sequence().ok_or_else(|| {
                    HeaderError::StructuredField(
                        "Client-Cert must be a Byte Sequence (:base64:)".to_owned(),
                    )
                })?;
                push_der(der, &mut certs)?;
            }
            _ => self.decode_list(value, &mut certs)?,
        }
        let from_main_header = certs.len();
        if let (Some(chain), false) = (chain, self.format == HeaderFormat::Xfcc) {
            let chain = self.text(chain).map_err(HeaderError::in_chain)?;
            if !self.means_none(chain) {
                self.decode_list(chain, &mut certs)
                    .map_err(HeaderError::in_chain)?;
            }
        }
        if certs.len() > self.max_chain_len {
            return Err(HeaderError::TooManyCertificates {
                count: certs.len(),
                limit: self.max_chain_len,
            });
        }
        if from_main_header > 1 && !self.chain_in_value && self.format != HeaderFormat::Xfcc {
            return Err(HeaderError::CombinedInValue {
                count: from_main_header,
            });
        }
        leaf_then_cas(&certs).map_err(|e| match e {
            HeaderError::Combined { position } if position > from_main_header => e.in_chain(),
            HeaderError::CombinedAfterSelfIssued if from_main_header == 1 => e.in_chain(),
            e => e,
        })?;
        let mut certs = certs.into_iter();
        Ok(certs.next().map(|leaf| (leaf, certs.collect())))
    }

    /// An empty value, or Apache's `(null)` in PEM: no certificate.
    fn means_none(&self, value: &str) -> bool {
        value.is_empty() || (self.format == HeaderFormat::Pem && value == "(null)")
    }

    fn text<'v>(&self, value: &'v [u8]) -> Result<&'v str, HeaderError> {
        if value.len() > self.max_header_len {
            return Err(HeaderError::TooLarge {
                len: value.len(),
                limit: self.max_header_len,
            });
        }
        let text = std::str::from_utf8(value).map_err(|e| HeaderError::NotText {
            offset: e.valid_up_to(),
        })?;
        Ok(text.trim_matches([' ', '\t']))
    }

    /// A list of certificates in the format: the value of a PEM or base64
    /// DER header, or of a chain header.
    fn decode_list(&self, value: &str, out: &mut Vec<Certificate>) -> Result<(), HeaderError> {
        match self.format {
            HeaderFormat::Rfc9440 => {
                let list: sfv::List = sfv::Parser::new(value)
                    .parse()
                    .map_err(|e| HeaderError::StructuredField(e.to_string()))?;
                for entry in &list {
                    let der = match entry {
                        sfv::ListEntry::Item(item) => item.bare_item.as_byte_sequence(),
                        sfv::ListEntry::InnerList(_) => None,
                    };
                    let der = der.ok_or_else(|| {
                        HeaderError::StructuredField(
                            "Client-Cert-Chain must be a List of Byte Sequences".to_owned(),
                        )
                    })?;
                    push_der(der, out)?;
                }
                Ok(())
            }
            HeaderFormat::PemUrlEncoded => push_url_pem(value, out),
            HeaderFormat::Pem => push_pem(value, out),
            HeaderFormat::DerBase64 => der::decode_list(value, out),
            HeaderFormat::Xfcc => Ok(()),
        }
    }
}

/// The one value of a header, given its field lines in order: `None`
/// when there is none, and [`HeaderError::Repeated`] when there are
/// several, whatever the format. No proxy writes more than one line, so a
/// second is a proxy appending its header to the one the client sent.
/// [`ClientCertLayer`](crate::ClientCertLayer) and
/// [`HeaderDecoder::decode_lines`] read headers through it.
///
/// ```
/// use certbound_extract::header::{HeaderError, single_field_line};
///
/// assert_eq!(single_field_line([&b"a"[..]]), Ok(Some(&b"a"[..])));
/// assert_eq!(single_field_line(Vec::<&[u8]>::new()), Ok(None));
/// assert_eq!(single_field_line([&b"a"[..], b"b"]), Err(HeaderError::Repeated { count: 2 }));
/// ```
pub fn single_field_line<'v>(
    lines: impl IntoIterator<Item = &'v [u8]>,
) -> Result<Option<&'v [u8]>, HeaderError> {
    let mut lines = lines.into_iter();
    let Some(first) = lines.next() else {
        return Ok(None);
    };
    match lines.count() {
        0 => Ok(Some(first)),
        more => Err(HeaderError::Repeated { count: more + 1 }),
    }
}

/// A list is a leaf and then the CA certificates that issued it (RFC 8446
/// §4.4.2, RFC 9440 §2.3): a certificate after the first that is not a CA
/// certificate means two values were combined (a proxy that appends its
/// header to the client's), and the value is refused rather than picked
/// from. So does anything after a self-issued leaf, which no CA issued: an
/// attacker whose own certificate is a CA certificate (a proxy that accepts
/// any client certificate, as `self_signed_tls_client_auth` needs, lets it
/// present one) must not pass the victim's self-signed certificate first.
pub(crate) fn leaf_then_cas(certs: &[Certificate]) -> Result<(), HeaderError> {
    if let [leaf, _, ..] = certs {
        if leaf.is_self_issued() {
            return Err(HeaderError::CombinedAfterSelfIssued);
        }
    }
    match certs.iter().skip(1).position(|c| !c.is_ca()) {
        Some(i) => Err(HeaderError::Combined { position: i + 2 }),
        None => Ok(()),
    }
}

fn push_der(der: &[u8], out: &mut Vec<Certificate>) -> Result<(), HeaderError> {
    let cert = Certificate::from_der(der).map_err(|source| HeaderError::Certificate {
        position: out.len() + 1,
        source,
    })?;
    out.push(cert);
    Ok(())
}

/// URL-encoded PEM: RFC 3986 percent-decoding, then the PEM reader.
fn push_url_pem(value: &str, out: &mut Vec<Certificate>) -> Result<(), HeaderError> {
    let decoded = percent::percent_decode(value.as_bytes())?;
    let text = std::str::from_utf8(&decoded).map_err(|e| HeaderError::NotText {
        offset: e.valid_up_to(),
    })?;
    push_pem(text, out)
}

/// The PEM reader of every header format: certbound-cert's tokens, with
/// nothing but white space outside the blocks and nothing but certificate
/// blocks. In a header, unlike a file, anything else (a `, ` joining two
/// values, injected text) means the value is not what one proxy wrote.
fn push_pem(text: &str, out: &mut Vec<Certificate>) -> Result<(), HeaderError> {
    let start = out.len();
    for token in pem::tokens(text) {
        let token = token.map_err(|e| match e {
            CertError::UnterminatedPem { block } => HeaderError::UnterminatedPem { block },
            e => HeaderError::Pem(e),
        })?;
        match token {
            Token::Text { offset, text: gap } => {
                if let Some(i) = gap.find(|c: char| !c.is_ascii_whitespace()) {
                    if gap.len() == text.len() {
                        // Not PEM at all.
                        return Err(HeaderError::Pem(CertError::NoPemBlock));
                    }
                    return Err(HeaderError::TextOutsidePem { offset: offset + i });
                }
            }
            Token::Block(block) if block.is_certificate() => out.push(block.certificate()?),
            Token::Block(block) => {
                return Err(HeaderError::TextOutsidePem {
                    offset: block.offset(),
                });
            }
        }
    }
    if out.len() == start {
        return Err(HeaderError::Pem(CertError::NoPemBlock));
    }
    Ok(())
}

#[cfg(test)]
mod pem_tests {
    use super::*;

    fn pem() -> String {
        let certs = pem::parse_certificates(certbound_testkit::vectors::RFC8705_APPENDIX_A_PEM);
        pem::encode_certificate(certs.unwrap()[0].der())
    }

    #[test]
    fn two_values_joined_by_a_comma_are_refused() {
        // What a proxy that appends to a client's header produces.
        for joined in [
            format!("{}, {}", pem(), pem()),
            format!("{},{}", pem(), pem()),
        ] {
            let mut out = Vec::new();
            let err = push_pem(&joined, &mut out).unwrap_err();
            assert!(matches!(err, HeaderError::TextOutsidePem { .. }), "{err}");
            assert!(err.to_string().contains("not append"));
        }
    }

    #[test]
    fn a_block_that_ends_on_another_label_is_refused() {
        // The client's block left open, so that a lenient reader would end
        // it at the proxy's END line, or end it on another label.
        let end = "-----END CERTIFICATE-----";
        for client in [
            pem().replace(end, "-----END X"),
            pem().replace(end, "-----END CERTIFICATE"),
            pem().replace(end, "-----END X-----"),
            pem().replace(end, "-----END PRIVATE KEY-----"),
        ] {
            let joined = format!("{client}, {}", pem());
            let mut out = Vec::new();
            assert_eq!(
                push_pem(&joined, &mut out),
                Err(HeaderError::UnterminatedPem { block: 1 }),
                "{joined}"
            );
        }
    }

    #[test]
    fn blocks_separated_by_white_space_form_a_chain() {
        let chain = format!("  {}\n\t{} ", pem(), pem().replace('\n', " "));
        let mut out = Vec::new();
        push_pem(&chain, &mut out).unwrap();
        assert_eq!(out.len(), 2);
        let mut out = Vec::new();
        let err = push_pem(&format!("garbage{}", pem()), &mut out).unwrap_err();
        assert_eq!(err, HeaderError::TextOutsidePem { offset: 0 });
        assert_eq!(
            push_pem("garbage", &mut out),
            Err(HeaderError::Pem(CertError::NoPemBlock))
        );
        let key = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
        assert_eq!(
            push_pem(&format!("{}{key}", pem()), &mut out),
            Err(HeaderError::TextOutsidePem {
                offset: pem().len()
            })
        );
    }
}
