//! Envoy's `x-forwarded-client-cert` (XFCC) header.
//!
//! The value is a list of elements separated by `,`, one per proxy hop; each
//! element is a list of `Key=value` pairs separated by `;`. Keys are
//! case-insensitive (`By`, `Hash`, `Cert`, `Chain`, `Subject`, `URI`, `DNS`;
//! `URI` and `DNS` may repeat). A value containing `,`, `;` or `=` is
//! double-quoted, with `\"` for a quote inside. `Cert` and `Chain` are
//! URL-encoded PEM; `Chain` includes the leaf. `Hash` is the hex SHA-256 of
//! the DER of the certificate.
//!
//! Each proxy appends the element that describes the peer it received the
//! request from, so the external client is described by the element the edge
//! proxy appended: count from the right, one per trusted hop
//! ([`HeaderDecoder::xfcc_hop`](super::HeaderDecoder::xfcc_hop)).
//!
//! ```
//! use certbound_extract::header::xfcc;
//!
//! let elements = xfcc::parse(r#"By=spiffe://a;Hash=abc;Subject="CN=x,O=y;z";URI=spiffe://c;URI=spiffe://d"#)?;
//! assert_eq!(elements.len(), 1);
//! assert_eq!(elements[0].get("subject"), Some("CN=x,O=y;z"));
//! assert_eq!(elements[0].get_all("URI").collect::<Vec<_>>(), ["spiffe://c", "spiffe://d"]);
//! # Ok::<(), certbound_extract::header::HeaderError>(())
//! ```

use certbound_cert::{CertError, Certificate};

use super::HeaderError;

/// One element of an XFCC header: the key-value pairs one proxy wrote, in
/// order, with quotes and escapes removed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct XfccElement {
    pairs: Vec<(String, String)>,
}

impl XfccElement {
    /// Every pair in order, keys as written.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }

    /// The first value of a key (case-insensitive).
    pub fn get<'a>(&'a self, key: &str) -> Option<&'a str> {
        self.get_all(key).next()
    }

    /// Every value of a key (case-insensitive), in order.
    pub fn get_all<'a>(&'a self, key: &str) -> impl Iterator<Item = &'a str> {
        self.pairs
            .iter()
            .filter(move |(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }

    fn single(&self, key: &'static str, element: usize) -> Result<Option<&str>, HeaderError> {
        let mut it = self.get_all(key);
        let first = it.next();
        if it.next().is_some() {
            return Err(HeaderError::XfccRepeatedKey { element, key });
        }
        Ok(first)
    }

    /// The certificate this element carries: its `Cert`, else the first of
    /// its `Chain`, with the rest of `Chain` as intermediates. `None` when the
    /// element carries neither. A present `Hash` must be the SHA-256 of that
    /// certificate, and every certificate after the leaf a CA certificate
    /// (else two values were combined: [`HeaderError::Combined`]). `element` is the 1-based position from the left, for
    /// error messages.
    pub fn certificate(
        &self,
        element: usize,
    ) -> Result<Option<(Certificate, Vec<Certificate>)>, HeaderError> {
        let cert = self.single("Cert", element)?;
        let chain = self.single("Chain", element)?;
        let hash = self.single("Hash", element)?;
        let value_error = |key, reason| HeaderError::XfccValue {
            element,
            key,
            reason: Box::new(reason),
        };
        let decode = |key, value: &str| {
            let mut certs = Vec::new();
            super::push_url_pem(value, &mut certs)
                .map(|()| certs)
                .map_err(|e| value_error(key, e))
        };
        // Leaf first (Chain includes it, else Cert's is put in), then the CAs.
        let mut chain = match chain {
            Some(v) => decode("Chain", v)?,
            None => Vec::new(),
        };
        if let Some(v) = cert {
            let certs = decode("Cert", v)?;
            // Several certificates where one belongs: a leaf and another
            // leaf were combined, or it is not what Envoy writes.
            super::leaf_then_cas(&certs).map_err(|e| value_error("Cert", e))?;
            let [leaf] = <[Certificate; 1]>::try_from(certs).map_err(|certs| {
                value_error("Cert", HeaderError::Pem(CertError::NotOne(certs.len())))
            })?;
            match chain.first() {
                None => chain.push(leaf),
                Some(first) if *first != leaf => {
                    return Err(HeaderError::XfccChainMismatch { element });
                }
                Some(_) => {}
            }
        }
        let Some(leaf) = chain.first() else {
            return Ok(None);
        };
        if let Some(hash) = hash {
            let mut expected = [0u8; 32];
            hex::decode_to_slice(hash, &mut expected)
                .map_err(|_| HeaderError::XfccInvalidHash { element })?;
            if &expected != leaf.thumbprint().as_bytes() {
                return Err(HeaderError::XfccHashMismatch { element });
            }
        }
        // Only Chain can have put certificates after the leaf.
        super::leaf_then_cas(&chain).map_err(|e| value_error("Chain", e))?;
        let mut chain = chain.into_iter();
        Ok(chain.next().map(|leaf| (leaf, chain.collect())))
    }
}

fn is_ows(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// Parses an XFCC value into its elements, left to right.
pub fn parse(value: &str) -> Result<Vec<XfccElement>, HeaderError> {
    let b = value.as_bytes();
    let mut i = 0;
    let mut elements = Vec::new();
    let mut current = XfccElement::default();
    let syntax = |offset, reason| HeaderError::XfccSyntax { offset, reason };
    loop {
        // A pair: OWS key "=" value OWS.
        while i < b.len() && is_ows(b[i]) {
            i += 1;
        }
        let key_start = i;
        while i < b.len() && !matches!(b[i], b'=' | b';' | b',' | b'"') {
            i += 1;
        }
        if i >= b.len() || b[i] != b'=' {
            return Err(syntax(i, "expected Key=value"));
        }
        let key = value[key_start..i].trim_matches([' ', '\t']);
        if key.is_empty() {
            return Err(syntax(key_start, "empty key"));
        }
        i += 1;
        let mut v = String::new();
        if i < b.len() && b[i] == b'"' {
            i += 1;
            let mut start = i;
            loop {
                match b.get(i) {
                    None => return Err(syntax(i, "unterminated quoted value")),
                    Some(b'"') => {
                        v.push_str(&value[start..i]);
                        i += 1;
                        break;
                    }
                    Some(b'\\') => {
                        v.push_str(&value[start..i]);
                        let Some(&next) = b.get(i + 1) else {
                            return Err(syntax(i, "unterminated quoted value"));
                        };
                        if !next.is_ascii() {
                            return Err(syntax(i + 1, "escape of a non-ASCII character"));
                        }
                        v.push(char::from(next));
                        i += 2;
                        start = i;
                    }
                    Some(_) => i += 1,
                }
            }
            while i < b.len() && is_ows(b[i]) {
                i += 1;
            }
        } else {
            let start = i;
            while i < b.len() && !matches!(b[i], b';' | b',' | b'"') {
                i += 1;
            }
            if i < b.len() && b[i] == b'"' {
                return Err(syntax(i, "a quote inside an unquoted value"));
            }
            v.push_str(value[start..i].trim_matches([' ', '\t']));
        }
        current.pairs.push((key.to_owned(), v));
        match b.get(i) {
            None => {
                elements.push(current);
                return Ok(elements);
            }
            Some(b';') => i += 1,
            Some(b',') => {
                elements.push(std::mem::take(&mut current));
                i += 1;
            }
            Some(_) => return Err(syntax(i, "expected ';' or ',' after a value")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_quoted_values_with_separators_and_escapes() {
        let els = parse(r#"By=a;Subject="CN=x,O=\"q\";z", By=b ; URI=u1;URI=u2"#).unwrap();
        assert_eq!(els.len(), 2);
        assert_eq!(els[0].get("subject"), Some(r#"CN=x,O="q";z"#));
        assert_eq!(els[1].get("by"), Some("b"));
        assert_eq!(els[1].get_all("uri").collect::<Vec<_>>(), ["u1", "u2"]);
    }

    #[test]
    fn reports_syntax_errors() {
        for bad in [
            "",
            "By",
            "By=a,",
            "By=a;;",
            r#"Subject="CN=x"#,
            r#"By=a"b"#,
            r#"Subject="x"y"#,
            "=v",
        ] {
            assert!(
                matches!(parse(bad), Err(HeaderError::XfccSyntax { .. })),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn empty_values_are_allowed() {
        let els = parse("By=;Hash=").unwrap();
        assert_eq!(els[0].get("By"), Some(""));
    }
}
