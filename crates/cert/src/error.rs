//! Errors of certificate decoding.

/// Why bytes or text could not be read as certificates.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CertError {
    /// The input was empty.
    #[error("no certificate: the input is empty")]
    Empty,
    /// The DER bytes are not an X.509 certificate.
    #[error("not an X.509 certificate: {0}")]
    InvalidDer(String),
    /// The DER bytes hold a certificate followed by more bytes.
    #[error("{0} unexpected bytes after the certificate")]
    TrailingData(usize),
    /// The PEM text holds no `CERTIFICATE` block.
    #[error("no PEM certificate block (-----BEGIN CERTIFICATE-----) found")]
    NoPemBlock,
    /// A PEM block has no matching end line.
    #[error("PEM block {block} has no -----END CERTIFICATE----- line")]
    UnterminatedPem {
        /// The 1-based index of the block.
        block: usize,
    },
    /// A PEM block's body is not base64.
    #[error("PEM block {block} is not valid base64")]
    InvalidBase64 {
        /// The 1-based index of the block.
        block: usize,
    },
    /// A PEM block holds something other than one certificate.
    #[error("PEM block {block}: {reason}")]
    InvalidPemBlock {
        /// The 1-based index of the block.
        block: usize,
        /// What was wrong with the DER inside.
        reason: Box<CertError>,
    },
    /// One PEM certificate was expected and several were found.
    #[error("expected one certificate, found {0}")]
    NotOne(usize),
    /// The subject or issuer `Name` is not made only of RDNs, each a
    /// non-empty SET of AttributeTypeAndValue (RFC 5280 §4.1.2.4), read to
    /// its last byte. x509-parser stops at the first RDN it cannot read and
    /// drops the rest, so the name it read would be a part of the one the CA
    /// signed.
    #[error(
        "the certificate's {field} name is malformed: it is not a SEQUENCE of RDNs, each a non-empty SET of AttributeTypeAndValue, read to its last byte (RFC 5280 §4.1.2.4)"
    )]
    MalformedName {
        /// `"subject"` or `"issuer"`.
        field: &'static str,
    },
    /// An extension could not be read.
    #[error("invalid certificate extension: {0}")]
    InvalidExtension(String),
    /// The input is larger than the configured limit.
    #[error("input of {size} bytes exceeds the limit of {limit} bytes")]
    TooLarge {
        /// The size of the input.
        size: usize,
        /// The limit.
        limit: usize,
    },
}
