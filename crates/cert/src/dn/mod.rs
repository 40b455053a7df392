//! Distinguished names: RFC 4514 strings, RFC 4517 `distinguishedNameMatch`.
//!
//! A [`DistinguishedName`] keeps its RDNs in ASN.1 order (the order of the
//! certificate, usually country first). Its string form is RFC 4514's, which
//! writes them the other way round (`CN=...,O=...,C=...`), just as
//! `openssl x509 -nameopt RFC2253` does.
//!
//! Matching ([`DistinguishedName::matches`]) is RFC 4517
//! `distinguishedNameMatch`, with string values compared more strictly than
//! RFC 4518 string preparation would:
//!
//! - the RDNs must pair up in order (an opt-in mode ignores the order);
//! - the attributes inside a multi-valued RDN pair up in any order;
//! - attribute types are compared by OID, so `CN`, `commonName` and
//!   `2.5.4.3` are the same type;
//! - string values (of any attribute type) are compared after two steps
//!   only: each character lowercased (`char::to_lowercase`), and white
//!   space (Unicode `White_Space`: the characters RFC 4518 §2.2 maps to
//!   SPACE) handled as RFC 4518 §2.6.1 insignificant space: leading and
//!   trailing white space ignored, each inner run compared as one space;
//! - the other RFC 4518 steps are not applied: no character is mapped to
//!   nothing (§2.2: SOFT HYPHEN U+00AD, ZERO WIDTH SPACE U+200B, control
//!   characters), there is no NFKC normalization (§2.3), case is not folded
//!   with the stringprep table (`ß` and `ss` stay different), and
//!   prohibited characters (§2.4) are not refused (a value holding one
//!   matches the same value). So names that differ only by such characters
//!   (`CN=ad\u{AD}min` and `CN=admin`, fullwidth `CN=ａｄｍｉｎ` and
//!   `CN=admin`, the ligature in `CN=\u{FB01}le` and `CN=file`) do not
//!   match, though a directory server applying RFC 4518 finds them equal.
//!   The difference is a refusal where RFC 4518 finds a match, never a
//!   match between values it tells apart (a value with a prohibited
//!   character, which RFC 4518 leaves undefined, matches only itself, up
//!   to case and white space): register a name as the certificate spells
//!   it, up to case and white space;
//! - values given as `#hex` are compared as their DER: a string type in hex
//!   equals the same text, anything else is compared byte for byte.
//!
//! ```
//! use certbound_cert::DistinguishedName;
//!
//! let registered: DistinguishedName = "CN=client 1, O=Example\\, Inc., C=GB".parse()?;
//! let presented: DistinguishedName = "cn=CLIENT  1,2.5.4.10=example\\2c inc.,c=gb".parse()?;
//! assert!(registered.matches(&presented));
//! assert_eq!(registered.to_string(), "CN=client 1,O=Example\\, Inc.,C=GB");
//!
//! // OpenSSL's slash form is refused with a hint.
//! let err = "/C=GB/O=Example/CN=client".parse::<DistinguishedName>().unwrap_err();
//! assert!(err.to_string().contains("CN=client,O=Example,C=GB"));
//! # Ok::<(), certbound_cert::DnError>(())
//! ```

mod attr;
mod parse;
pub(crate) mod value;

use std::fmt::{self, Write as _};
use std::str::FromStr;

use x509_parser::x509::X509Name;

pub use parse::{DnError, DnErrorKind, MAX_DN_STRING_LEN};

/// A distinguished name: a sequence of RDNs in ASN.1 order.
///
/// `==` is structural (same types, same values, same order); use
/// [`matches`](Self::matches) for RFC 4517 matching (with the string
/// comparison described in the [module docs](self)).
#[derive(Debug, Clone, PartialEq, Eq, Default, Hash)]
pub struct DistinguishedName {
    rdns: Vec<Rdn>,
}

/// A relative distinguished name: one or more attributes (`+` in RFC 4514).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Rdn {
    attributes: Vec<Attribute>,
}

/// One attribute type and value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Attribute {
    oid: String,
    value: AttributeValue,
}

/// An attribute value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AttributeValue {
    /// A value of one of the ASN.1 string types, as text.
    Text(String),
    /// A value of another type, as its DER encoding (tag, length, content).
    Der(Vec<u8>),
}

/// Options for [`DistinguishedName::matches_with`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DnMatchOptions {
    /// Match the RDNs as a multiset rather than a sequence. Off by default:
    /// RFC 4517 makes the order significant, and `CN=a,O=b` and `O=b,CN=a`
    /// name different entries.
    pub ignore_rdn_order: bool,
}

impl DnMatchOptions {
    /// The default: RDN order significant.
    pub const fn new() -> Self {
        Self {
            ignore_rdn_order: false,
        }
    }

    /// Sets [`ignore_rdn_order`](Self::ignore_rdn_order).
    pub const fn ignore_rdn_order(mut self, yes: bool) -> Self {
        self.ignore_rdn_order = yes;
        self
    }
}

impl DistinguishedName {
    /// A name from RDNs in ASN.1 order.
    pub fn from_rdns(rdns: Vec<Rdn>) -> Self {
        Self { rdns }
    }

    /// The RDNs in ASN.1 order (the reverse of the RFC 4514 string).
    pub fn rdns(&self) -> &[Rdn] {
        &self.rdns
    }

    /// Whether the name has no RDN.
    pub fn is_empty(&self) -> bool {
        self.rdns.is_empty()
    }

    /// Every attribute, in ASN.1 order.
    pub fn attributes(&self) -> impl Iterator<Item = &Attribute> {
        self.rdns.iter().flat_map(|r| r.attributes.iter())
    }

    /// The text values of every attribute with this OID, in ASN.1 order.
    pub fn values_of<'a>(&'a self, oid: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.attributes()
            .filter(move |a| a.oid == oid)
            .filter_map(|a| match &a.value {
                AttributeValue::Text(s) => Some(s.as_str()),
                AttributeValue::Der(_) => None,
            })
    }

    /// The name of a certificate's subject or issuer, as parsed by x509-parser.
    ///
    /// Values of the ASN.1 string types become text; anything else is kept
    /// as DER. This never fails, and takes the name as x509-parser read it:
    /// x509-parser stops silently at the first RDN it cannot read (an empty
    /// SET, stray bytes), so an `X509Name` may hold only the first RDNs of
    /// the encoded Name. [`Certificate::from_der`](crate::Certificate::from_der)
    /// refuses such a certificate ([`CertError::MalformedName`](crate::CertError::MalformedName));
    /// an `X509Name` read elsewhere is taken as it is.
    pub fn from_x509_name(name: &X509Name<'_>) -> Self {
        let rdns = name
            .iter_rdn()
            .map(|rdn| Rdn {
                attributes: rdn
                    .iter()
                    .map(|atv| Attribute {
                        oid: atv.attr_type().to_id_string(),
                        value: value::from_any(atv.attr_value()),
                    })
                    .collect(),
            })
            .collect();
        Self { rdns }
    }

    /// RFC 4517 `distinguishedNameMatch` with RDN order significant.
    ///
    /// String values are compared by case and white space only, not with
    /// all of RFC 4518 string preparation: names that differ by characters
    /// RFC 4518 maps to nothing or by NFKC do not match (see the
    /// [module docs](self)).
    pub fn matches(&self, other: &Self) -> bool {
        self.matches_with(other, DnMatchOptions::new())
    }

    /// RFC 4517 `distinguishedNameMatch`, with options.
    pub fn matches_with(&self, other: &Self, options: DnMatchOptions) -> bool {
        if self.rdns.len() != other.rdns.len() {
            return false;
        }
        if !options.ignore_rdn_order {
            return self.rdns.iter().zip(&other.rdns).all(|(a, b)| a.matches(b));
        }
        pairs_up(&self.rdns, &other.rdns, Rdn::matches)
    }
}

/// Whether every item of `a` matches a distinct item of `b`, in any order.
/// Matching is an equivalence, so pairing greedily finds a pairing
/// whenever one exists.
fn pairs_up<T>(a: &[T], b: &[T], matches: impl Fn(&T, &T) -> bool) -> bool {
    let mut used = vec![false; b.len()];
    a.len() == b.len()
        && a.iter().all(
            |x| match used.iter().zip(b).position(|(&u, y)| !u && matches(x, y)) {
                Some(i) => {
                    used[i] = true;
                    true
                }
                None => false,
            },
        )
}

impl Rdn {
    /// An RDN from its attributes (at least one).
    pub fn new(attributes: Vec<Attribute>) -> Self {
        Self { attributes }
    }

    /// The attributes, in the order given.
    pub fn attributes(&self) -> &[Attribute] {
        &self.attributes
    }

    fn matches(&self, other: &Self) -> bool {
        pairs_up(&self.attributes, &other.attributes, Attribute::matches)
    }
}

impl Attribute {
    /// An attribute from a dotted-decimal OID and a value.
    pub fn new(oid: impl Into<String>, value: AttributeValue) -> Self {
        Self {
            oid: oid.into(),
            value,
        }
    }

    /// The attribute type as a dotted-decimal OID, e.g. `2.5.4.3`.
    pub fn oid(&self) -> &str {
        &self.oid
    }

    /// The short name printed for this type (`CN`, `emailAddress`, ...), if
    /// it is a known one.
    pub fn name(&self) -> Option<&'static str> {
        attr::name_of_oid(&self.oid)
    }

    /// The value.
    pub fn value(&self) -> &AttributeValue {
        &self.value
    }

    fn matches(&self, other: &Self) -> bool {
        self.oid == other.oid
            && match (&self.value, &other.value) {
                (AttributeValue::Text(a), AttributeValue::Text(b)) => text_matches(a, b),
                (AttributeValue::Der(a), AttributeValue::Der(b)) => a == b,
                _ => false,
            }
    }
}

/// Case-insensitive comparison with insignificant spaces folded, without
/// allocating. These are the only RFC 4518 preparation steps applied: no
/// mapping to nothing, no NFKC (see the module docs).
fn text_matches(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    if a.is_ascii() && b.is_ascii() {
        // The same folding over bytes: most names are ASCII, and the
        // `char` lowercasing iterators cost several times more.
        return folded_ascii(a.as_bytes()).eq(folded_ascii(b.as_bytes()));
    }
    folded(a).eq(folded(b))
}

/// [`folded`] for ASCII text: the same white space (`char::is_whitespace`
/// restricted to ASCII, vertical tab included) and the same lowercasing.
fn folded_ascii(s: &[u8]) -> impl Iterator<Item = u8> + '_ {
    fn space(b: u8) -> bool {
        matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
    }
    let start = s.iter().position(|&b| !space(b)).unwrap_or(s.len());
    let end = s.iter().rposition(|&b| !space(b)).map_or(start, |i| i + 1);
    let mut pending_space = false;
    s[start..end].iter().flat_map(move |&b| {
        let mut out = [None, None];
        if space(b) {
            pending_space = true;
        } else {
            if pending_space {
                out[0] = Some(b' ');
                pending_space = false;
            }
            out[1] = Some(b.to_ascii_lowercase());
        }
        out.into_iter().flatten()
    })
}

/// The characters of `s` lowercased, with leading and trailing white space
/// dropped and each inner run of it replaced by one space.
fn folded(s: &str) -> impl Iterator<Item = char> + '_ {
    let mut pending_space = false;
    let mut started = false;
    s.trim().chars().flat_map(move |c| {
        let mut out = [None, None];
        if c.is_whitespace() {
            pending_space = started;
        } else {
            if pending_space {
                out[0] = Some(' ');
                pending_space = false;
            }
            started = true;
            out[1] = Some(c);
        }
        out.into_iter().flatten().flat_map(char::to_lowercase)
    })
}

impl fmt::Display for DistinguishedName {
    /// RFC 4514: RDNs last to first, separated by `,`; attributes of a
    /// multi-valued RDN separated by `+`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, rdn) in self.rdns.iter().rev().enumerate() {
            if i > 0 {
                f.write_char(',')?;
            }
            write!(f, "{rdn}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Rdn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, a) in self.attributes.iter().enumerate() {
            if i > 0 {
                f.write_char('+')?;
            }
            write!(f, "{a}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Attribute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self.name();
        write!(f, "{}=", name.unwrap_or(&self.oid))?;
        match &self.value {
            AttributeValue::Text(s) if name.is_some() => write_escaped(f, s),
            // RFC 4514 §2.4: a type written as an OID has its value in hex.
            AttributeValue::Text(s) => write_hex(f, &value::utf8_string_der(s)),
            AttributeValue::Der(der) => write_hex(f, der),
        }
    }
}

fn write_hex(f: &mut fmt::Formatter<'_>, der: &[u8]) -> fmt::Result {
    write!(f, "#{}", hex::encode_upper(der))
}

/// RFC 4514 §2.4 escaping.
fn write_escaped(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    let last = s.chars().count().saturating_sub(1);
    for (i, c) in s.chars().enumerate() {
        match c {
            '"' | '+' | ',' | ';' | '<' | '>' | '\\' => {
                f.write_char('\\')?;
                f.write_char(c)?;
            }
            '#' if i == 0 => f.write_str("\\#")?,
            ' ' if i == 0 || i == last => f.write_str("\\ ")?,
            c if c.is_control() => {
                let mut buf = [0u8; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    write!(f, "\\{b:02X}")?;
                }
            }
            c => f.write_char(c)?,
        }
    }
    Ok(())
}

impl FromStr for DistinguishedName {
    type Err = DnError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse::parse(s)
    }
}

impl serde::Serialize for DistinguishedName {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for DistinguishedName {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = DistinguishedName;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an RFC 4514 distinguished name")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<DistinguishedName, E> {
                v.parse().map_err(E::custom)
            }
        }
        deserializer.deserialize_str(Visitor)
    }
}

#[cfg(test)]
mod tests;
