//! Property tests of RFC 4514 printing and parsing and of RFC 4517 matching:
//! a name matches itself and every re-spelling of it (attribute type case,
//! short name or OID, `OID.` prefix, value case, insignificant spaces,
//! escapes, quoting, `#hex` form), and never a name with one attribute
//! changed or removed. Names come both from the type's constructors and
//! from real certificates with arbitrary subjects (rcgen).

use certbound_cert::dn::{Attribute, AttributeValue, Rdn};
use certbound_cert::{Certificate, DistinguishedName, DnMatchOptions};
use certbound_testkit::rcgen::{DnType, DnValue};
use proptest::prelude::*;

/// Attribute types: OID and the spellings the parser accepts for it.
const TYPES: &[(&str, &[&str])] = &[
    ("2.5.4.3", &["CN", "commonName"]),
    ("2.5.4.10", &["O", "organizationName"]),
    ("2.5.4.11", &["OU", "organizationalUnitName"]),
    ("2.5.4.6", &["C", "countryName"]),
    ("2.5.4.7", &["L", "localityName"]),
    ("0.9.2342.19200300.100.1.25", &["DC", "domainComponent"]),
    ("0.9.2342.19200300.100.1.1", &["UID", "userId"]),
    ("1.2.840.113549.1.9.1", &["emailAddress", "E"]),
    ("2.5.4.97", &["organizationIdentifier"]),
    ("1.3.6.1.4.1.99999.7", &[]),
];

fn oid() -> impl Strategy<Value = String> {
    prop::sample::select(
        TYPES
            .iter()
            .map(|(o, _)| (*o).to_owned())
            .collect::<Vec<_>>(),
    )
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        // Anything printable, Unicode included.
        "\\PC{0,10}",
        // The characters RFC 4514 cares about, and spaces.
        "[ #,+\"\\\\<>;=a-zA-Z0-9]{0,10}",
        // Words with inner spaces.
        "[a-zA-Z]{1,5}( {1,3}[a-zA-Z0-9]{1,5}){0,2}",
        // Control characters.
        "[a-z\\x00-\\x1f]{1,6}",
    ]
}

fn value() -> impl Strategy<Value = AttributeValue> {
    prop_oneof![
        8 => text().prop_map(AttributeValue::Text),
        1 => prop::collection::vec(any::<u8>(), 0..6).prop_map(|content| {
            let mut der = vec![0x04, content.len() as u8];
            der.extend(content);
            AttributeValue::Der(der)
        }),
    ]
}

fn name() -> impl Strategy<Value = DistinguishedName> {
    prop::collection::vec(
        prop::collection::vec(
            (oid(), value()).prop_map(|(o, v)| Attribute::new(o, v)),
            1..4,
        )
        .prop_map(Rdn::new),
        1..6,
    )
    .prop_map(DistinguishedName::from_rdns)
}

/// Random choices, consumed one by one while re-spelling.
struct Choices(Vec<u8>, usize);

impl Choices {
    fn pick(&mut self, n: usize) -> usize {
        let b = self.0.get(self.1).copied().unwrap_or(0);
        self.1 += 1;
        usize::from(b) % n.max(1)
    }

    fn flip(&mut self) -> bool {
        self.pick(2) == 1
    }
}

fn flip_ascii_case(s: &str, c: &mut Choices) -> String {
    s.chars()
        .map(|ch| match (ch.is_ascii_alphabetic(), c.flip()) {
            (true, true) if ch.is_ascii_lowercase() => ch.to_ascii_uppercase(),
            (true, true) => ch.to_ascii_lowercase(),
            _ => ch,
        })
        .collect()
}

fn hex(bytes: &[u8], c: &mut Choices) -> String {
    let mut out = String::from("#");
    for b in bytes {
        let digits = format!("{b:02x}");
        out.push_str(&if c.flip() {
            digits.to_uppercase()
        } else {
            digits
        });
    }
    out
}

fn der(tag: u8, content: &[u8]) -> Vec<u8> {
    certbound_testkit::der_tlv(tag, content)
}

fn is_printable_string(s: &str) -> bool {
    // X.680 allows '?' too, but rcgen's DER writer (yasna) panics on it.
    s.chars()
        .all(|c| c.is_ascii_alphanumeric() || " '()+,-./:=".contains(c))
}

/// A value as an RFC 4514 string, escaped in one of the allowed ways.
fn escaped(s: &str, c: &mut Choices) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::new();
    for (i, &ch) in chars.iter().enumerate() {
        let first = i == 0;
        let last = i + 1 == chars.len();
        let must = matches!(ch, '"' | '+' | ',' | ';' | '<' | '>' | '\\')
            || (first && matches!(ch, '#' | ' '))
            || (last && ch == ' ')
            || ch.is_control();
        let may = ch == '=' || ch.is_ascii_alphanumeric() || ch == ' ';
        if must || (may && c.pick(8) == 0) {
            if ch.is_ascii_punctuation() && c.flip() {
                out.push('\\');
                out.push(ch);
            } else if ch == ' ' && c.flip() {
                out.push_str("\\ ");
            } else {
                let mut buf = [0u8; 4];
                for b in ch.encode_utf8(&mut buf).bytes() {
                    out.push_str(&format!("\\{b:02X}"));
                }
            }
        } else if ch == ' ' && !first && !last && c.flip() {
            // An inner space may become a run of spaces.
            out.push_str("   ");
        } else {
            out.push(ch);
        }
    }
    out
}

/// The same name written another way.
fn respell(name: &DistinguishedName, c: &mut Choices) -> String {
    let mut rdns = Vec::new();
    for rdn in name.rdns().iter().rev() {
        let mut attrs: Vec<String> = Vec::new();
        for a in rdn.attributes() {
            let spellings = TYPES
                .iter()
                .find(|(o, _)| *o == a.oid())
                .map(|(_, names)| *names)
                .unwrap_or(&[]);
            let ty = match c.pick(3) {
                0 if !spellings.is_empty() => {
                    let n = c.pick(spellings.len());
                    flip_ascii_case(spellings[n], c)
                }
                1 => format!("{}{}", if c.flip() { "OID." } else { "oid." }, a.oid()),
                _ => a.oid().to_owned(),
            };
            let value = match a.value() {
                AttributeValue::Der(d) => hex(d, c),
                AttributeValue::Text(t) => {
                    let t = flip_ascii_case(t, c);
                    match c.pick(4) {
                        0 => hex(&der(0x0c, t.as_bytes()), c),
                        1 if is_printable_string(&t) => hex(&der(0x13, t.as_bytes()), c),
                        2 if !t.chars().any(char::is_control) => {
                            format!("\"{}\"", t.replace('\\', "\\\\").replace('"', "\\\""))
                        }
                        _ => escaped(&t, c),
                    }
                }
                _ => unreachable!("a new kind of value"),
            };
            let eq = ["=", " = ", "= "][c.pick(3)];
            attrs.push(format!("{ty}{eq}{value}"));
        }
        // Attributes of a multi-valued RDN in any order.
        let rotate = c.pick(attrs.len());
        attrs.rotate_left(rotate);
        rdns.push(attrs.join(["+", " + "][c.pick(2)]));
    }
    let mut out = String::from(["", "  "][c.pick(2)]);
    for (i, rdn) in rdns.iter().enumerate() {
        if i > 0 {
            out.push_str([",", ";", " , ", ",  "][c.pick(4)]);
        }
        out.push_str(rdn);
    }
    out
}

/// The name with one attribute (the `pick`-th) changed or removed.
fn changed(name: &DistinguishedName, pick: usize, how: usize) -> DistinguishedName {
    let total: usize = name.rdns().iter().map(|r| r.attributes().len()).sum();
    let target = pick % total;
    let mut seen = 0;
    let mut rdns = Vec::new();
    for rdn in name.rdns() {
        let mut attrs = Vec::new();
        for a in rdn.attributes() {
            if seen == target {
                match how % 3 {
                    // Another value.
                    0 => attrs.push(Attribute::new(
                        a.oid(),
                        match a.value() {
                            AttributeValue::Text(t) => AttributeValue::Text(format!("{t}x")),
                            AttributeValue::Der(d) => {
                                let mut content = d[2..].to_vec();
                                content.push(0x5a);
                                AttributeValue::Der(der(0x04, &content))
                            }
                            _ => unreachable!(),
                        },
                    )),
                    // Another type.
                    1 => attrs.push(Attribute::new(
                        if a.oid() == "2.5.4.3" {
                            "2.5.4.4"
                        } else {
                            "2.5.4.3"
                        },
                        a.value().clone(),
                    )),
                    // Removed.
                    _ => {}
                }
            } else {
                attrs.push(a.clone());
            }
            seen += 1;
        }
        if !attrs.is_empty() {
            rdns.push(Rdn::new(attrs));
        }
    }
    DistinguishedName::from_rdns(rdns)
}

fn parse(s: &str) -> Result<DistinguishedName, TestCaseError> {
    s.parse()
        .map_err(|e| TestCaseError::fail(format!("{s:?}: {e}")))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn a_name_matches_every_respelling_of_itself(
        d in name(),
        choices in prop::collection::vec(any::<u8>(), 256),
    ) {
        prop_assert!(d.matches(&d));
        let spelled = respell(&d, &mut Choices(choices, 0));
        let parsed = parse(&spelled)?;
        prop_assert!(parsed.matches(&d), "{spelled:?} does not match {d}");
        prop_assert!(d.matches(&parsed), "{d} does not match {spelled:?}");
        // Printing the parsed re-spelling gives a name that still matches.
        prop_assert!(parse(&parsed.to_string())?.matches(&d));
        // Ignoring RDN order never turns a match into a mismatch.
        prop_assert!(d.matches_with(&parsed, DnMatchOptions::new().ignore_rdn_order(true)));
    }

    #[test]
    fn a_name_never_matches_one_with_an_attribute_changed_or_removed(
        d in name(),
        pick in any::<usize>(),
        how in 0usize..3,
        choices in prop::collection::vec(any::<u8>(), 256),
    ) {
        let other = changed(&d, pick, how);
        prop_assert!(!d.matches(&other), "{d} matches {other}");
        prop_assert!(!other.matches(&d), "{other} matches {d}");
        // Nor does any spelling of the original.
        let spelled = parse(&respell(&d, &mut Choices(choices, 0)))?;
        prop_assert!(!spelled.matches(&other), "{spelled} matches {other}");
    }
}

/// A subject attribute value rcgen can write: UTF8String or, when the text
/// allows it, PrintableString.
fn rcgen_value(s: &str, printable: bool) -> DnValue {
    if printable && is_printable_string(s) {
        if let Ok(p) = s.to_owned().try_into() {
            return DnValue::PrintableString(p);
        }
    }
    DnValue::Utf8String(s.to_owned())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn a_certificate_subject_prints_parses_and_matches_its_respellings(
        cn in text(),
        o in text(),
        custom in text(),
        printable in any::<bool>(),
        choices in prop::collection::vec(any::<u8>(), 256),
    ) {
        let leaf = certbound_testkit::self_signed("x")
            .subject(vec![
                (DnType::OrganizationName, rcgen_value(&o, printable)),
                (DnType::CustomDnType(vec![1, 3, 6, 1, 4, 1, 99999, 7]), rcgen_value(&custom, printable)),
                (DnType::CommonName, rcgen_value(&cn, printable)),
            ])
            .issue();
        let cert = Certificate::from_der(leaf.der).unwrap();
        let subject = cert.subject();
        let printed = subject.to_string();
        let parsed = parse(&printed)?;
        prop_assert!(parsed.matches(subject), "{printed:?}");
        prop_assert_eq!(parsed.to_string(), printed.clone());
        let spelled = respell(subject, &mut Choices(choices, 0));
        prop_assert!(parse(&spelled)?.matches(subject), "{spelled:?} vs {printed:?}");
        // The issuer of a self-signed certificate is its subject.
        prop_assert!(cert.issuer().matches(subject));
        prop_assert!(!changed(subject, 2, 0).matches(subject));
    }
}
