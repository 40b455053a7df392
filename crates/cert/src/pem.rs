//! PEM (RFC 7468) certificates: one tokenizer, [`tokens`], for every reader.
//!
//! [`tokens`] cuts text into the blocks and the text between them. A block
//! whose END line does not carry exactly its BEGIN label followed by five
//! dashes is an error: RFC 7468 §2 lets a parser disregard the END label,
//! but text that ends a block on another label was put together from more
//! than one source, and readers that disagree on where a block ends do not
//! read the same certificates. Inside a block any ASCII white space is
//! ignored, so CRLF line ends, a missing final newline, and newlines turned
//! into spaces or tabs (as Apache's `%{SSL_CLIENT_CERT}s` does) all decode.
//!
//! [`parse_certificates`] reads a file: text outside the blocks is ignored
//! (RFC 7468 §2), as are blocks with other labels (a private key in the same
//! file). A proxy header's reader (certbound-extract) takes the same tokens
//! and refuses any text that is not white space.
//!
//! ```
//! use certbound_cert::pem::{self, Token};
//!
//! let pem = "-----BEGIN CERTIFICATE----- MIIBBjCBrAIBAjAKBggqhkjOPQQDAjAPMQ0wCwYDVQQDDARtdGxzMB4XDTE4MTAx\
//!   ODEyMzcwOVoXDTIyMDUwMjEyMzcwOVowDzENMAsGA1UEAwwEbXRsczBZMBMGByqG SM49AgEGCCqGSM49AwEHA0IABNcnyxwqV6hY8QnhxxzFQ03C7HKW9OylMbnQZjjJ\
//!   /Au08/coZwxS7LfA4vOLS9WuneIXhbGGWvsDSb0tH6IxLm8wCgYIKoZIzj0EAwID SQAwRgIhAP0RC1E+vwJD/D1AGHGzuri+hlV/PpQEKTWUVeORWz83AiEA5x2eXZOV\
//!   bUlJSGQgjwD5vaUaKlLR50Q2DmFfQj1L+SY= -----END CERTIFICATE-----";
//! let certs = pem::parse_certificates(pem)?;
//! assert_eq!(certs.len(), 1);
//! assert_eq!(certs[0].thumbprint().to_string(), "A4DtL2JmUMhAsvJj5tKyn64SqzmuXbMrJa0n761y5v0");
//!
//! // Two values joined by a comma: two blocks and the text between them.
//! let joined = format!("{pem}, {pem}");
//! let tokens = pem::tokens(&joined).collect::<Result<Vec<_>, _>>()?;
//! assert!(matches!(tokens[1], Token::Text { text: ", ", .. }));
//!
//! // A block that ends on another label is an error.
//! let altered = pem.replace("-----END CERTIFICATE-----", "-----END X-----");
//! assert!(pem::parse_certificates(&altered).is_err());
//! # Ok::<(), certbound_cert::CertError>(())
//! ```

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

use crate::{CertError, Certificate};

/// Standard base64, padding optional, canonical trailing bits required.
const STANDARD_LENIENT_PAD: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

const BEGIN: &str = "-----BEGIN ";
const END: &str = "-----END ";
const DASHES: &str = "-----";

/// A piece of PEM text, as [`tokens`] cuts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Token<'a> {
    /// Text outside any block.
    Text {
        /// Its byte offset in the input.
        offset: usize,
        /// The text.
        text: &'a str,
    },
    /// One block, BEGIN line to END line.
    Block(Block<'a>),
}

/// One PEM block: its label and its base64 body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Block<'a> {
    index: usize,
    offset: usize,
    label: &'a str,
    body: &'a str,
}

impl Block<'_> {
    /// The block's 1-based position among the blocks of the input.
    pub fn index(&self) -> usize {
        self.index
    }

    /// The byte offset of its BEGIN line in the input.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// The label of its BEGIN (and END) line, such as `CERTIFICATE`.
    pub fn label(&self) -> &str {
        self.label
    }

    /// Whether the label is one that holds an X.509 certificate
    /// (`CERTIFICATE`, or the older `X509 CERTIFICATE`).
    pub fn is_certificate(&self) -> bool {
        matches!(self.label, "CERTIFICATE" | "X509 CERTIFICATE")
    }

    /// The decoded body: base64, white space ignored, padding optional.
    pub fn der(&self) -> Result<Vec<u8>, CertError> {
        let b64: Vec<u8> = self
            .body
            .bytes()
            .filter(|b| !b.is_ascii_whitespace())
            .collect();
        STANDARD_LENIENT_PAD
            .decode(b64)
            .map_err(|_| CertError::InvalidBase64 { block: self.index })
    }

    /// The body as exactly one certificate.
    pub fn certificate(&self) -> Result<Certificate, CertError> {
        Certificate::from_der(self.der()?).map_err(|e| CertError::InvalidPemBlock {
            block: self.index,
            reason: Box::new(e),
        })
    }
}

/// Cuts `text` into blocks and the text between them, in order.
///
/// A block without an END line of its own label is
/// [`CertError::UnterminatedPem`], and ends the tokens.
pub fn tokens(text: &str) -> Tokens<'_> {
    Tokens {
        text,
        pos: 0,
        blocks: 0,
    }
}

/// The iterator of [`tokens`].
#[derive(Debug, Clone)]
pub struct Tokens<'a> {
    text: &'a str,
    pos: usize,
    blocks: usize,
}

impl<'a> Iterator for Tokens<'a> {
    type Item = Result<Token<'a>, CertError>;

    fn next(&mut self) -> Option<Self::Item> {
        let offset = self.pos;
        let rest = self.text.get(offset..).filter(|r| !r.is_empty())?;
        let text_len = rest.find(BEGIN).unwrap_or(rest.len());
        if text_len > 0 {
            self.pos += text_len;
            return Some(Ok(Token::Text {
                offset,
                text: &rest[..text_len],
            }));
        }
        self.blocks += 1;
        match block(rest) {
            Some((label, body, len)) => {
                self.pos += len;
                Some(Ok(Token::Block(Block {
                    index: self.blocks,
                    offset,
                    label,
                    body,
                })))
            }
            None => {
                self.pos = self.text.len();
                Some(Err(CertError::UnterminatedPem { block: self.blocks }))
            }
        }
    }
}

/// The label, body and length of the block `rest` starts with: the body
/// ends at the next five dashes, which must open `-----END <label>-----`.
fn block(rest: &str) -> Option<(&str, &str, usize)> {
    let after_begin = rest.strip_prefix(BEGIN)?;
    let (label, after_label) = after_begin.split_once(DASHES)?;
    let (body, _) = after_label.split_once(DASHES)?;
    let after_end = after_label[body.len()..]
        .strip_prefix(END)?
        .strip_prefix(label)?
        .strip_prefix(DASHES)?;
    Some((label, body, rest.len() - after_end.len()))
}

/// Decodes every certificate block of a file's `text`, in order; text
/// outside the blocks and blocks of other labels are ignored.
///
/// Fails when there is no certificate block, when a block has no END line
/// of its own label, when a certificate block is not base64, or when its DER
/// is not exactly one certificate.
pub fn parse_certificates(text: &str) -> Result<Vec<Certificate>, CertError> {
    let mut certs = Vec::new();
    for token in tokens(text) {
        if let Token::Block(block) = token? {
            if block.is_certificate() {
                certs.push(block.certificate()?);
            }
        }
    }
    if certs.is_empty() {
        return Err(CertError::NoPemBlock);
    }
    Ok(certs)
}

/// Encodes DER as one PEM `CERTIFICATE` block with 64-character lines.
pub fn encode_certificate(der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = String::with_capacity(b64.len() + b64.len() / 64 + 60);
    out.push_str("-----BEGIN CERTIFICATE-----\n");
    for line in b64.as_bytes().chunks(64) {
        // base64 output is ASCII, so every chunk is valid UTF-8.
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use certbound_testkit::vectors;

    #[test]
    fn decodes_one_and_many_blocks() {
        let one = parse_certificates(vectors::RFC8705_APPENDIX_A_PEM).unwrap();
        assert_eq!(one.len(), 1);
        let chain = parse_certificates(vectors::RFC9440_EXAMPLE_CHAIN_PEM).unwrap();
        assert_eq!(chain.len(), 3);
    }

    #[test]
    fn tolerates_crlf_missing_newline_and_spaces() {
        let pem = vectors::RFC8705_APPENDIX_A_PEM;
        let expected = parse_certificates(pem).unwrap()[0].thumbprint();
        let variants = [
            pem.replace('\n', "\r\n"),
            pem.trim_end().to_owned(),
            pem.replace('\n', " "),
            pem.replace('\n', "\t"),
            format!("Bag Attributes\n    friendlyName: x\n{pem}"),
        ];
        for v in variants {
            let got = parse_certificates(&v).unwrap();
            assert_eq!(got[0].thumbprint(), expected, "variant {v:?}");
        }
    }

    #[test]
    fn encode_then_decode_round_trips() {
        let cert = &parse_certificates(vectors::RFC8705_APPENDIX_A_PEM).unwrap()[0];
        let again = parse_certificates(&encode_certificate(cert.der())).unwrap();
        assert_eq!(again[0].der(), cert.der());
    }

    #[test]
    fn skips_other_labels() {
        let text = format!(
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n{}",
            vectors::RFC8705_APPENDIX_A_PEM
        );
        assert_eq!(parse_certificates(&text).unwrap().len(), 1);
    }

    #[test]
    fn tokens_are_the_blocks_and_the_text_between_them() {
        let pem = vectors::RFC8705_APPENDIX_A_PEM;
        let text = format!("a{pem}, {}", pem.trim_end());
        let tokens = tokens(&text).collect::<Result<Vec<_>, _>>().unwrap();
        assert_eq!(tokens.len(), 4, "{tokens:?}");
        assert_eq!(
            tokens[0],
            Token::Text {
                offset: 0,
                text: "a"
            }
        );
        let Token::Block(first) = tokens[1] else {
            panic!("{tokens:?}")
        };
        assert_eq!(
            (first.index(), first.offset(), first.label()),
            (1, 1, "CERTIFICATE")
        );
        assert_eq!(
            tokens[2],
            Token::Text {
                offset: 1 + pem.trim_end().len(),
                text: "\n, "
            }
        );
        let Token::Block(second) = tokens[3] else {
            panic!("{tokens:?}")
        };
        assert_eq!(second.index(), 2);
        assert_eq!(second.certificate(), first.certificate());
    }

    #[test]
    fn a_block_must_end_on_its_own_label() {
        let pem = vectors::RFC8705_APPENDIX_A_PEM;
        let end = "-----END CERTIFICATE-----";
        for altered in [
            pem.replace(end, "-----END X-----"),
            pem.replace(end, "-----END X"),
            pem.replace(end, "-----END CERTIFICATE"),
            pem.replace(end, "-----END CERTIFICATE----"),
            pem.replace(end, "-----END PRIVATE KEY-----"),
            pem.replace(end, "-----END X509 CERTIFICATE-----"),
            pem.replace(end, "-----END  CERTIFICATE-----"),
            // The next block's BEGIN before this block's END.
            format!("{}{pem}", pem.replace(end, "")),
        ] {
            assert_eq!(
                parse_certificates(&altered),
                Err(CertError::UnterminatedPem { block: 1 }),
                "{altered:?}"
            );
        }
    }

    #[test]
    fn reports_bad_input_precisely() {
        assert_eq!(parse_certificates(""), Err(CertError::NoPemBlock));
        assert_eq!(
            parse_certificates("hello world"),
            Err(CertError::NoPemBlock)
        );
        assert_eq!(
            parse_certificates("-----BEGIN CERTIFICATE-----\nMIIB"),
            Err(CertError::UnterminatedPem { block: 1 })
        );
        assert_eq!(
            parse_certificates("-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----"),
            Err(CertError::InvalidBase64 { block: 1 })
        );
        assert!(matches!(
            parse_certificates("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----"),
            Err(CertError::InvalidPemBlock { block: 1, .. })
        ));
    }
}
