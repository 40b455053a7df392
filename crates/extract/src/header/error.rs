//! Why a proxy header could not be decoded.

use certbound_cert::CertError;

/// Why a client-certificate header (or its chain header) could not be
/// decoded. The `Display` text says what was wrong in words an operator can
/// act on; it never echoes the header value itself.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HeaderError {
    /// The header value is longer than the configured limit.
    #[error("the header is {len} bytes long, more than the limit of {limit} bytes")]
    TooLarge {
        /// The value's length in bytes.
        len: usize,
        /// The configured limit.
        limit: usize,
    },
    /// More certificates than the configured chain length.
    #[error("the header holds {count} certificates, more than the limit of {limit}")]
    TooManyCertificates {
        /// How many certificates were found (leaf included).
        count: usize,
        /// The configured limit (leaf included).
        limit: usize,
    },
    /// The header appeared on several field lines. No proxy writes more
    /// than one: the client sent one and a proxy appended its own.
    #[error(
        "the header appears {count} times: repeated header lines, values were combined; exactly one is allowed (a proxy must replace the client's header, not append to it)"
    )]
    Repeated {
        /// How many times it appeared.
        count: usize,
    },
    /// The value is not valid UTF-8 text.
    #[error("the value is not text (invalid UTF-8 at byte {offset})")]
    NotText {
        /// Offset of the first bad byte.
        offset: usize,
    },
    /// A `%` not followed by two hexadecimal digits.
    #[error("invalid percent-encoding at byte {offset} (a '%' must be followed by two hex digits)")]
    InvalidPercentEncoding {
        /// Offset of the `%`.
        offset: usize,
    },
    /// Text that should hold PEM certificates does not.
    #[error(transparent)]
    Pem(#[from] CertError),
    /// A PEM block does not end with `-----END CERTIFICATE-----`: the value
    /// was cut short, or put together from two, with the client's block
    /// left open or ended on another label so that a lenient reader would
    /// read the proxy's certificate as part of the client's value.
    #[error(
        "PEM block {block} has no -----END CERTIFICATE----- line of its own: the value was cut short or combined from two (a proxy must replace the client's header, not append to it)"
    )]
    UnterminatedPem {
        /// The 1-based index of the block.
        block: usize,
    },
    /// Something other than white space stands outside the PEM blocks: the
    /// header was most likely combined from several values (a proxy that
    /// appends to a client's header instead of replacing it).
    #[error(
        "unexpected text outside the PEM blocks at byte {offset}: two values combined or text injected (a proxy must replace the client's header, not append to it)"
    )]
    TextOutsidePem {
        /// Offset of the first unexpected character in the (decoded) text.
        offset: usize,
    },
    /// A certificate after the first is not a CA certificate: a list is a
    /// leaf and the CAs that issued it, so the value was combined from two
    /// (a proxy that appends to a client's header instead of replacing it).
    #[error(
        "two values combined: certificate {position} is not a CA certificate; a proxy must replace the client's header, not append to it"
    )]
    Combined {
        /// The 1-based position of the certificate, leaf first.
        position: usize,
    },
    /// The header's value holds several certificates, and the decoder was
    /// not told that the proxy puts the client's chain in it
    /// ([`HeaderDecoder::chain_in_value`](super::HeaderDecoder::chain_in_value)):
    /// a proxy that writes the leaf alone wrote one of them, the client the
    /// others.
    #[error(
        "two values combined: the value holds {count} certificates where the proxy writes one; a proxy must replace the client's header, not append to it (if it sends the client's chain in this header, configure chain_in_value)"
    )]
    CombinedInValue {
        /// How many certificates the value holds.
        count: usize,
    },
    /// Certificates follow a self-issued leaf, which no CA issued: the
    /// value was combined from two (the client's self-signed certificate
    /// first, the proxy's value after).
    #[error(
        "two values combined: certificate 1 is self-issued, so nothing may follow it; a proxy must replace the client's header, not append to it"
    )]
    CombinedAfterSelfIssued,
    /// An RFC 9440 `Client-Cert`, which holds one Byte Sequence, holds
    /// several (`:a:, :b:`, `:a: :b:`): the client's value and the proxy's
    /// were joined on one line.
    #[error(
        "two values combined: {count} RFC 9440 byte sequences where Client-Cert holds one; a proxy must replace the client's header, not append to it"
    )]
    CombinedByteSequences {
        /// How many byte sequences the value holds.
        count: usize,
    },
    /// A base64 list item holds white space between base64 characters:
    /// two values were joined by a space (no proxy writes base64 with
    /// spaces inside).
    #[error(
        "two values combined: item {item} is base64 values joined by white space; a proxy must replace the client's header, not append to it"
    )]
    CombinedBase64 {
        /// The 1-based position of the item in the list.
        item: usize,
    },
    /// An element of a base64 list is not base64.
    #[error("item {item} is not valid base64")]
    InvalidBase64 {
        /// The 1-based position of the item in the list.
        item: usize,
    },
    /// Decoded bytes are not a sequence of DER certificates.
    #[error("item {item}: {reason}")]
    InvalidDer {
        /// The 1-based position of the item in the list.
        item: usize,
        /// What was wrong.
        reason: String,
    },
    /// A certificate in the header could not be read.
    #[error("certificate {position}: {source}")]
    Certificate {
        /// The 1-based position of the certificate, leaf first.
        position: usize,
        /// What was wrong.
        source: CertError,
    },
    /// The value is not a valid RFC 9651 structured field of the expected
    /// type (RFC 9440 `Client-Cert` is an Item, `Client-Cert-Chain` a List,
    /// both of Byte Sequences such as `:MIIB...:`).
    #[error("not an RFC 9440 value: {0}")]
    StructuredField(String),
    /// The `x-forwarded-client-cert` value does not follow Envoy's grammar.
    #[error("x-forwarded-client-cert syntax error at byte {offset}: {reason}")]
    XfccSyntax {
        /// Offset in the value.
        offset: usize,
        /// What was expected.
        reason: &'static str,
    },
    /// A key that may appear once in an XFCC element appears again.
    #[error("x-forwarded-client-cert element {element} has the key {key} more than once")]
    XfccRepeatedKey {
        /// The 1-based position of the element, from the left.
        element: usize,
        /// The key.
        key: &'static str,
    },
    /// An XFCC `Hash` is not the SHA-256 of the certificate.
    #[error(
        "x-forwarded-client-cert element {element}: Hash does not match the SHA-256 of the certificate"
    )]
    XfccHashMismatch {
        /// The 1-based position of the element, from the left.
        element: usize,
    },
    /// An XFCC `Hash` is not 64 hexadecimal digits.
    #[error("x-forwarded-client-cert element {element}: Hash is not 64 hex digits")]
    XfccInvalidHash {
        /// The 1-based position of the element, from the left.
        element: usize,
    },
    /// An XFCC `Chain` whose first certificate is not the element's `Cert`.
    #[error("x-forwarded-client-cert element {element}: Chain does not start with Cert")]
    XfccChainMismatch {
        /// The 1-based position of the element, from the left.
        element: usize,
    },
    /// An XFCC `Cert` or `Chain` value could not be decoded.
    #[error("x-forwarded-client-cert element {element}, {key}: {reason}")]
    XfccValue {
        /// The 1-based position of the element, from the left.
        element: usize,
        /// `Cert` or `Chain`.
        key: &'static str,
        /// What was wrong.
        reason: Box<HeaderError>,
    },
    /// The chain header could not be decoded.
    #[error("chain header: {0}")]
    Chain(Box<HeaderError>),
}

impl HeaderError {
    /// Whether the value was refused because it combines two values (the
    /// client's and a proxy's that appended instead of replacing): repeated
    /// header lines, a PEM block that does not end on its own label, text
    /// outside the PEM blocks, several certificates in a value that holds
    /// the leaf alone, a certificate after the leaf that is no CA
    /// certificate, several values where the format holds one; also when
    /// such an error is inside an XFCC value or the chain header.
    ///
    /// ```
    /// use certbound_extract::header::{self, HeaderFormat};
    ///
    /// let err = header::decode(HeaderFormat::Rfc9440, b":AAAA:, :AAAA:", None).unwrap_err();
    /// assert!(err.is_combined(), "{err}");
    /// let err = header::decode(HeaderFormat::Rfc9440, b"AAAA", None).unwrap_err();
    /// assert!(!err.is_combined(), "{err}");
    /// ```
    pub fn is_combined(&self) -> bool {
        match self {
            HeaderError::Repeated { .. }
            | HeaderError::UnterminatedPem { .. }
            | HeaderError::TextOutsidePem { .. }
            | HeaderError::Combined { .. }
            | HeaderError::CombinedInValue { .. }
            | HeaderError::CombinedAfterSelfIssued
            | HeaderError::CombinedByteSequences { .. }
            | HeaderError::CombinedBase64 { .. } => true,
            HeaderError::XfccValue { reason, .. } => reason.is_combined(),
            HeaderError::Chain(inner) => inner.is_combined(),
            _ => false,
        }
    }

    /// This error, as one of the chain header.
    pub(crate) fn in_chain(self) -> Self {
        HeaderError::Chain(Box::new(self))
    }
}
