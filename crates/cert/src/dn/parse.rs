//! The RFC 4514 string parser.
//!
//! Strict where it matters (escapes, hex, UTF-8, known attribute names) and
//! lenient where RFC 4514 §1 allows it (spaces around `,`, `+` and `=`, `;`
//! as an RDN separator, RFC 2253 quoted values), since registrations are
//! typed by people and copied from tools.

use std::fmt;

use super::{Attribute, AttributeValue, DistinguishedName, Rdn, attr, value};

/// The longest DN string accepted, in bytes.
pub const MAX_DN_STRING_LEN: usize = 16 * 1024;

/// A DN string that could not be parsed, with the byte offset of the problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnError {
    position: usize,
    kind: DnErrorKind,
}

/// What was wrong with a DN string.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DnErrorKind {
    /// OpenSSL's `/C=GB/O=x/CN=y` form, which is not RFC 4514; carries the
    /// RFC 4514 spelling of the same name.
    #[error(
        "this is OpenSSL's slash form (/C=../O=../CN=..), not an RFC 4514 distinguished name; \
         in RFC 4514 the same name is written \"{rfc4514}\""
    )]
    SlashForm {
        /// The same name in RFC 4514 form.
        rfc4514: String,
    },
    /// An attribute type (a name or a dotted OID) was expected.
    #[error("expected an attribute type such as CN or 2.5.4.3")]
    ExpectedAttributeType,
    /// The attribute name is not one this library knows; write its OID.
    #[error("unknown attribute type \"{0}\" (write it as a dotted OID)")]
    UnknownAttributeType(String),
    /// A dotted OID is malformed.
    #[error("\"{0}\" is not a valid OID")]
    InvalidOid(String),
    /// `=` was expected after the attribute type.
    #[error("expected '=' after the attribute type")]
    ExpectedEquals,
    /// A `\` is not followed by a special character or two hex digits.
    #[error("'\\' must be followed by one of \\ \" # + , ; < = > space, or two hex digits")]
    InvalidEscape,
    /// A character must be escaped here.
    #[error("{0:?} must be escaped with a backslash")]
    UnescapedCharacter(char),
    /// A `#` value is not an even number of hex digits holding one DER value.
    #[error("a '#' value must be an even number of hex digits encoding one DER value")]
    InvalidHexValue,
    /// The value's bytes (after unescaping) are not UTF-8.
    #[error("the value is not valid UTF-8")]
    InvalidUtf8,
    /// A quoted value has no closing quote.
    #[error("missing closing '\"'")]
    UnterminatedQuote,
    /// `,` or `+` was expected after a value.
    #[error("expected ',' or '+' after the value")]
    ExpectedSeparator,
    /// The string is longer than [`MAX_DN_STRING_LEN`].
    #[error("distinguished name of {0} bytes exceeds the limit of {MAX_DN_STRING_LEN}")]
    TooLong(usize),
}

impl DnError {
    /// The byte offset in the input where the problem was found.
    pub fn position(&self) -> usize {
        self.position
    }

    /// What the problem is.
    pub fn kind(&self) -> &DnErrorKind {
        &self.kind
    }
}

impl fmt::Display for DnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            kind @ (DnErrorKind::SlashForm { .. } | DnErrorKind::TooLong(_)) => write!(f, "{kind}"),
            kind => write!(
                f,
                "invalid distinguished name at byte {}: {kind}",
                self.position
            ),
        }
    }
}

impl std::error::Error for DnError {}

struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
}

fn err(position: usize, kind: DnErrorKind) -> DnError {
    DnError { position, kind }
}

pub(super) fn parse(input: &str) -> Result<DistinguishedName, DnError> {
    if input.len() > MAX_DN_STRING_LEN {
        return Err(err(0, DnErrorKind::TooLong(input.len())));
    }
    if let Some(rfc4514) = slash_form(input) {
        return Err(err(0, DnErrorKind::SlashForm { rfc4514 }));
    }
    let mut p = Parser {
        s: input.as_bytes(),
        pos: 0,
    };
    p.skip_spaces();
    let mut rdns = Vec::new();
    if p.at_end() {
        return Ok(DistinguishedName { rdns });
    }
    let mut current = Vec::new();
    loop {
        current.push(p.attribute()?);
        p.skip_spaces();
        match p.peek() {
            None => {
                rdns.push(Rdn {
                    attributes: std::mem::take(&mut current),
                });
                break;
            }
            Some(b'+') => p.pos += 1,
            Some(b',' | b';') => {
                p.pos += 1;
                rdns.push(Rdn {
                    attributes: std::mem::take(&mut current),
                });
            }
            Some(_) => return Err(err(p.pos, DnErrorKind::ExpectedSeparator)),
        }
    }
    // The string lists RDNs most specific first; ASN.1 order is the reverse.
    rdns.reverse();
    Ok(DistinguishedName { rdns })
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn at_end(&self) -> bool {
        self.pos >= self.s.len()
    }

    fn skip_spaces(&mut self) {
        while self.peek() == Some(b' ') {
            self.pos += 1;
        }
    }

    fn attribute(&mut self) -> Result<Attribute, DnError> {
        self.skip_spaces();
        let oid = self.attribute_type()?;
        self.skip_spaces();
        if self.peek() != Some(b'=') {
            return Err(err(self.pos, DnErrorKind::ExpectedEquals));
        }
        self.pos += 1;
        self.skip_spaces();
        let value = match self.peek() {
            Some(b'#') => self.hex_value()?,
            Some(b'"') => self.quoted_value()?,
            _ => self.string_value()?,
        };
        Ok(Attribute { oid, value })
    }

    fn attribute_type(&mut self) -> Result<String, DnError> {
        let start = self.pos;
        while let Some(b) = self.peek() {
            if b.is_ascii_alphanumeric() || b == b'-' || b == b'.' {
                self.pos += 1;
            } else {
                break;
            }
        }
        let word = std::str::from_utf8(&self.s[start..self.pos]).unwrap_or_default();
        if word.is_empty() {
            return Err(err(start, DnErrorKind::ExpectedAttributeType));
        }
        let numeric = word
            .strip_prefix("OID.")
            .or_else(|| word.strip_prefix("oid."))
            .unwrap_or(word);
        // After an `OID.` prefix only a dotted OID may follow (and it may be
        // empty: `OID.` alone).
        let prefixed = numeric.len() != word.len();
        if prefixed || numeric.as_bytes().first().is_some_and(u8::is_ascii_digit) {
            if attr::is_numeric_oid(numeric) {
                return Ok(numeric.to_owned());
            }
            return Err(err(start, DnErrorKind::InvalidOid(word.to_owned())));
        }
        match attr::oid_of_name(word) {
            Some(oid) => Ok(oid.to_owned()),
            None => Err(err(
                start,
                DnErrorKind::UnknownAttributeType(word.to_owned()),
            )),
        }
    }

    fn hex_value(&mut self) -> Result<AttributeValue, DnError> {
        let start = self.pos;
        self.pos += 1;
        let digits_start = self.pos;
        while self.peek().is_some_and(|b| b.is_ascii_hexdigit()) {
            self.pos += 1;
        }
        // An odd count fails to decode, and no digits are no DER value.
        hex::decode(&self.s[digits_start..self.pos])
            .ok()
            .and_then(|der| value::from_der(&der))
            .ok_or_else(|| err(start, DnErrorKind::InvalidHexValue))
    }

    fn quoted_value(&mut self) -> Result<AttributeValue, DnError> {
        let start = self.pos;
        self.pos += 1;
        let mut bytes = Vec::new();
        loop {
            match self.peek() {
                None => return Err(err(start, DnErrorKind::UnterminatedQuote)),
                Some(b'"') => {
                    self.pos += 1;
                    break;
                }
                Some(b'\\') => bytes.push(self.escape()?),
                Some(b) => {
                    bytes.push(b);
                    self.pos += 1;
                }
            }
        }
        String::from_utf8(bytes)
            .map(AttributeValue::Text)
            .map_err(|_| err(start, DnErrorKind::InvalidUtf8))
    }

    fn string_value(&mut self) -> Result<AttributeValue, DnError> {
        let start = self.pos;
        let mut bytes = Vec::new();
        // Length of `bytes` up to the last character that is not an
        // unescaped space: unescaped trailing spaces are not part of the value.
        let mut significant = 0;
        while let Some(b) = self.peek() {
            match b {
                b',' | b'+' | b';' => break,
                b'\\' => {
                    bytes.push(self.escape()?);
                    significant = bytes.len();
                }
                b'"' | b'<' | b'>' | 0 => {
                    return Err(err(
                        self.pos,
                        DnErrorKind::UnescapedCharacter(char::from(b)),
                    ));
                }
                b' ' => {
                    bytes.push(b);
                    self.pos += 1;
                }
                _ => {
                    bytes.push(b);
                    self.pos += 1;
                    significant = bytes.len();
                }
            }
        }
        bytes.truncate(significant);
        String::from_utf8(bytes)
            .map(AttributeValue::Text)
            .map_err(|_| err(start, DnErrorKind::InvalidUtf8))
    }

    /// Reads `\c` or `\XX` at the current position and returns the byte.
    fn escape(&mut self) -> Result<u8, DnError> {
        let at = self.pos;
        let next = self.s.get(at + 1).copied();
        match next {
            Some(c @ (b'\\' | b'"' | b'#' | b'+' | b',' | b';' | b'<' | b'=' | b'>' | b' ')) => {
                self.pos += 2;
                Ok(c)
            }
            Some(_) => {
                let mut byte = [0u8; 1];
                let pair = self.s.get(at + 1..at + 3).unwrap_or_default();
                hex::decode_to_slice(pair, &mut byte)
                    .map_err(|_| err(at, DnErrorKind::InvalidEscape))?;
                self.pos += 3;
                Ok(byte[0])
            }
            _ => Err(err(at, DnErrorKind::InvalidEscape)),
        }
    }
}

/// Recognizes `/TYPE=value/TYPE=value...` and returns its RFC 4514 spelling.
fn slash_form(input: &str) -> Option<String> {
    let rest = input.trim().strip_prefix('/')?;
    let parts: Vec<&str> = rest.split('/').filter(|p| !p.is_empty()).collect();
    if parts.is_empty() || !parts.iter().all(|p| p.contains('=')) {
        return None;
    }
    let mut out = String::new();
    for (i, part) in parts.iter().rev().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let (ty, value) = part.split_once('=').unwrap_or((part, ""));
        out.push_str(ty);
        out.push('=');
        for c in value.chars() {
            if matches!(c, '"' | '+' | ',' | ';' | '<' | '>' | '\\') {
                out.push('\\');
            }
            out.push(c);
        }
    }
    Some(out)
}
