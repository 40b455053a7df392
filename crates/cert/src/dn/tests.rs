use super::*;
use proptest::prelude::*;

fn dn(s: &str) -> DistinguishedName {
    s.parse().unwrap_or_else(|e| panic!("{s:?}: {e}"))
}

fn matches(a: &str, b: &str) -> bool {
    dn(a).matches(&dn(b))
}

#[test]
fn case_and_space_variants_match() {
    let table = [
        ("CN=client,O=Example,C=GB", "cn=CLIENT,o=example,c=gb"),
        ("CN=client one,O=Example", "CN=Client  One,O=Example"),
        ("CN=client one,O=Example", "CN=  client one  ,  O = Example"),
        ("CN=client one", "CN=\\ client one\\ "),
        ("CN=a b", "CN=A\tB"),
        ("CN=ÉCOLE", "cn=école"),
        ("CN=a,O=b", "CN=a;O=b"),
    ];
    for (a, b) in table {
        assert!(matches(a, b), "{a} vs {b}");
        assert!(matches(b, a), "{b} vs {a}");
    }
    assert!(!matches("CN=client1", "CN=client 1"));
    assert!(!matches("CN=client", "CN=client,O=Example"));
}

/// Only lowercasing and white space handling are applied of RFC 4518 string
/// preparation (see the module docs): values that differ by characters it
/// maps to nothing (§2.2), by NFKC (§2.3) or by its case folding do not
/// match, though a directory server would find them equal. A refusal, never
/// a wider match.
#[test]
fn values_equal_only_after_full_rfc4518_preparation_do_not_match() {
    for (registered, presented) in [
        ("CN=admin", "CN=ad\u{AD}min"),
        ("CN=admin", "CN=ad\u{200B}min"),
        ("CN=admin", "CN=ad\u{1}min"),
        ("CN=file", "CN=\u{FB01}le"),
        ("CN=admin", "CN=\u{FF41}\u{FF44}\u{FF4D}\u{FF49}\u{FF4E}"),
        ("CN=strasse", "CN=stra\u{DF}e"),
    ] {
        assert!(
            !matches(registered, presented),
            "{registered:?} vs {presented:?}"
        );
        assert!(
            !matches(presented, registered),
            "{presented:?} vs {registered:?}"
        );
    }
    // The white space RFC 4518 maps to SPACE is insignificant space here too.
    assert!(matches("CN=a b", "CN=\u{A0}a\u{3000}\u{2028}b\u{85}"));
}

#[test]
fn rdn_order_is_significant_unless_ignored() {
    let a = dn("CN=client,O=Example,C=GB");
    let reversed = dn("C=GB,O=Example,CN=client");
    assert!(!a.matches(&reversed));
    let options = DnMatchOptions::new().ignore_rdn_order(true);
    assert!(a.matches_with(&reversed, options));
    assert!(!a.matches_with(&dn("C=GB,O=Example,CN=other"), options));
    assert!(!a.matches_with(&dn("O=Example,CN=client"), options));
}

#[test]
fn multi_valued_rdn_members_match_in_any_order() {
    assert!(matches("CN=x+UID=42,O=Example", "UID=42+cn=X,O=Example"));
    assert!(!matches("CN=x+UID=42,O=Example", "CN=x,UID=42,O=Example"));
    assert!(!matches("CN=x+UID=42", "CN=x+UID=43"));
    assert!(!matches("CN=x+CN=x", "CN=x+CN=y"));
}

#[test]
fn oid_and_short_names_are_the_same_type() {
    assert!(matches("2.5.4.3=x", "CN=x"));
    assert!(matches("OID.2.5.4.3=x", "commonName=x"));
    assert!(matches("ST=Bavaria", "stateOrProvinceName=bavaria"));
    assert!(matches("S=Bavaria", "2.5.4.8=Bavaria"));
    assert!(matches("E=ops@example.com", "emailAddress=OPS@example.com"));
    assert!(matches(
        "1.2.840.113549.1.9.1=ops@example.com",
        "emailAddress=ops@example.com"
    ));
    assert!(matches(
        "DC=example,DC=com",
        "dc=Example,domainComponent=COM"
    ));
    assert!(matches("UID=jdoe", "0.9.2342.19200300.100.1.1=jdoe"));
    assert!(matches("serialNumber=42", "2.5.4.5=42"));
    assert!(matches(
        "businessCategory=Private Organization",
        "2.5.4.15=private organization"
    ));
    assert!(matches("jurisdictionC=DE", "1.3.6.1.4.1.311.60.2.1.3=de"));
    assert!(matches(
        "jurisdictionST=Bayern",
        "jurisdictionStateOrProvinceName=Bayern"
    ));
    assert!(matches(
        "jurisdictionL=München",
        "1.3.6.1.4.1.311.60.2.1.1=München"
    ));
    assert!(matches(
        "organizationIdentifier=PSDDE-BAFIN-123",
        "2.5.4.97=psdde-bafin-123"
    ));
    assert!(matches(
        "title=CTO,givenName=Ada,SN=Lovelace",
        "title=cto,GN=ada,surname=lovelace"
    ));
    assert!(!matches("CN=x", "O=x"));
    // Any numericoid, as a certificate may carry one outside the 0-2 arcs.
    assert_eq!(dn("4.29.4.10=#0C0178").to_string(), "4.29.4.10=#0C0178");
}

#[test]
fn escapes_are_decoded() {
    let d = dn(r#"CN=a\,b\+c\"d\\e\;f\<g\>h\=i,O=x"#);
    let cn: Vec<_> = d.values_of("2.5.4.3").collect();
    assert_eq!(cn, [r#"a,b+c"d\e;f<g>h=i"#]);
    assert!(matches(r"CN=a\2Cb", r"CN=a\,b"));
    assert!(matches(r"CN=\#hash", r"CN=\23hash"));
    assert!(matches(r"CN=caf\C3\A9", "CN=café"));
    let leading_hash = dn(r"CN=\#1");
    assert_eq!(leading_hash.to_string(), r"CN=\#1");
    let spaces = dn(r"CN=\ padded\ ");
    assert_eq!(spaces.values_of("2.5.4.3").next(), Some(" padded "));
    assert_eq!(spaces.to_string(), r"CN=\ padded\ ");
}

#[test]
fn quoted_values_are_accepted() {
    assert!(matches(
        r#"O="Example, Inc.",C=US"#,
        r"O=Example\, Inc.,C=US"
    ));
}

#[test]
fn hex_values_are_compared_as_der() {
    // UTF8String "x" in hex is the text "x".
    assert!(matches("CN=#0C0178", "CN=x"));
    // PrintableString and UTF8String of the same text match.
    assert!(matches("CN=#130178", "CN=#0C0178"));
    // A non-string value is compared byte for byte.
    assert!(matches("2.5.4.45=#030200FF", "2.5.4.45=#030200ff"));
    assert!(!matches("2.5.4.45=#030200FF", "2.5.4.45=#030200FE"));
    assert!(!matches("2.5.4.45=#0C0178", "2.5.4.45=#040178"));
    assert_eq!(
        dn("2.5.4.45=#030200FF").to_string(),
        "x500UniqueIdentifier=#030200FF"
    );
    // An unknown type is printed as its OID with a hex value (RFC 4514 §2.4).
    assert_eq!(dn("1.2.3.4=abc").to_string(), "1.2.3.4=#0C03616263");
    assert_eq!(dn("1.2.3.4=abc"), dn("1.2.3.4=#0C03616263"));
}

#[test]
fn utf8_values_round_trip() {
    let d = dn("CN=日本語,O=Ünïcödé GmbH,C=DE");
    assert_eq!(d.to_string(), "CN=日本語,O=Ünïcödé GmbH,C=DE");
    assert!(d.matches(&dn("cn=日本語,o=üNÏCÖDÉ gmbh,c=de")));
}

#[test]
fn string_order_is_the_reverse_of_asn1_order() {
    let d = dn("CN=leaf,O=Org,C=GB");
    let oids: Vec<_> = d.attributes().map(|a| a.oid()).collect();
    assert_eq!(oids, ["2.5.4.6", "2.5.4.10", "2.5.4.3"]);
    assert_eq!(d.rdns().len(), 3);
}

#[test]
fn empty_name_parses() {
    assert!(dn("").is_empty());
    assert!(dn("  ").is_empty());
    assert_eq!(dn("").to_string(), "");
}

#[test]
fn errors_carry_position_and_reason() {
    let cases: &[(&str, usize, DnErrorKind)] = &[
        ("CN=a,", 5, DnErrorKind::ExpectedAttributeType),
        ("=a", 0, DnErrorKind::ExpectedAttributeType),
        ("CN a", 3, DnErrorKind::ExpectedEquals),
        ("Foo=a", 0, DnErrorKind::UnknownAttributeType("Foo".into())),
        ("1.2.=a", 0, DnErrorKind::InvalidOid("1.2.".into())),
        ("1.02=a", 0, DnErrorKind::InvalidOid("1.02".into())),
        ("7=a", 0, DnErrorKind::InvalidOid("7".into())),
        (r"CN=a\x", 4, DnErrorKind::InvalidEscape),
        (r"CN=a\", 4, DnErrorKind::InvalidEscape),
        ("CN=a\"b", 4, DnErrorKind::UnescapedCharacter('"')),
        ("CN=<a", 3, DnErrorKind::UnescapedCharacter('<')),
        ("CN=#0C01", 3, DnErrorKind::InvalidHexValue),
        ("CN=#0C017", 3, DnErrorKind::InvalidHexValue),
        ("CN=#", 3, DnErrorKind::InvalidHexValue),
        (r"CN=\C3", 3, DnErrorKind::InvalidUtf8),
        ("CN=\"abc", 3, DnErrorKind::UnterminatedQuote),
        ("CN=#0C0178 x", 11, DnErrorKind::ExpectedSeparator),
    ];
    for (input, pos, kind) in cases {
        let e = input.parse::<DistinguishedName>().unwrap_err();
        assert_eq!((e.position(), e.kind()), (*pos, kind), "{input}");
        assert!(e.to_string().contains(&format!("byte {pos}")), "{e}");
    }
}

#[test]
fn slash_form_is_refused_with_the_rfc4514_spelling() {
    let e = "/C=GB/O=Example, Inc/CN=client"
        .parse::<DistinguishedName>()
        .unwrap_err();
    match e.kind() {
        DnErrorKind::SlashForm { rfc4514 } => {
            assert_eq!(rfc4514, r"CN=client,O=Example\, Inc,C=GB");
            assert!(dn(rfc4514).matches(&dn(r"CN=client,O=Example\, Inc,C=GB")));
        }
        other => panic!("{other:?}"),
    }
    assert!(e.to_string().contains("OpenSSL's slash form"));
}

#[test]
fn overlong_input_is_refused() {
    let long = format!("CN={}", "a".repeat(MAX_DN_STRING_LEN));
    let e = long.parse::<DistinguishedName>().unwrap_err();
    assert_eq!(e.kind(), &DnErrorKind::TooLong(long.len()));
}

#[test]
fn hundreds_of_rdns_parse_and_match() {
    let s: Vec<String> = (0..300).map(|i| format!("OU=unit{i}")).collect();
    let s = s.join(",");
    assert_eq!(dn(&s).rdns().len(), 300);
    assert!(matches(&s, &s.to_uppercase().replace("OU=", "ou=")));
}

#[test]
fn serde_as_rfc4514_string() {
    let d = dn("CN=a\\,b,O=x");
    let json = serde_json::to_string(&d).unwrap();
    assert_eq!(json, r#""CN=a\\,b,O=x""#);
    let back: DistinguishedName = serde_json::from_str(&json).unwrap();
    assert_eq!(back, d);
    assert!(serde_json::from_str::<DistinguishedName>(r#""/CN=x""#).is_err());
}

fn attribute_type() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "2.5.4.3",
            "2.5.4.10",
            "2.5.4.11",
            "2.5.4.6",
            "0.9.2342.19200300.100.1.25",
            "1.2.840.113549.1.9.1",
            "2.5.4.97",
        ])
        .prop_map(str::to_owned),
        (1u32..3, 0u32..40, 0u32..100000).prop_map(|(a, b, c)| format!("{a}.{b}.{c}")),
    ]
}

fn attribute_value() -> impl Strategy<Value = AttributeValue> {
    prop_oneof![
        4 => "\\PC{0,12}".prop_map(AttributeValue::Text),
        4 => "[ #,+\"\\\\<>;=a-zA-Z0-9]{0,10}".prop_map(AttributeValue::Text),
        1 => prop::collection::vec(any::<u8>(), 0..8).prop_map(|content| {
            let mut der = vec![0x04, content.len() as u8];
            der.extend(content);
            AttributeValue::Der(der)
        }),
    ]
}

fn distinguished_name() -> impl Strategy<Value = DistinguishedName> {
    prop::collection::vec(
        prop::collection::vec(
            (attribute_type(), attribute_value())
                .prop_map(|(oid, value)| Attribute::new(oid, value)),
            1..4,
        )
        .prop_map(Rdn::new),
        0..6,
    )
    .prop_map(DistinguishedName::from_rdns)
}

proptest! {
    #[test]
    fn print_then_parse_gives_an_equal_dn(d in distinguished_name()) {
        let printed = d.to_string();
        let parsed: DistinguishedName = printed.parse().map_err(|e| TestCaseError::fail(format!("{printed:?}: {e}")))?;
        prop_assert!(parsed.matches(&d), "{printed:?}");
        prop_assert!(d.matches(&parsed), "{printed:?}");
        // Printing is stable.
        prop_assert_eq!(parsed.to_string(), printed.clone());
        // Structurally equal except that trailing/leading spaces are kept
        // through escapes, so the parse is exact.
        prop_assert_eq!(parsed, d);
    }

    #[test]
    fn a_dn_matches_itself_and_not_a_changed_one(d in distinguished_name(), extra in "[a-z]{1,5}") {
        prop_assert!(d.matches(&d));
        let mut rdns = d.rdns().to_vec();
        rdns.push(Rdn::new(vec![Attribute::new("2.5.4.3", AttributeValue::Text(extra))]));
        let changed = DistinguishedName::from_rdns(rdns);
        prop_assert!(!d.matches(&changed));
    }

    #[test]
    fn parser_never_panics(s in "\\PC{0,64}") {
        let _ = s.parse::<DistinguishedName>();
    }
}

#[test]
fn ascii_folding_agrees_with_the_char_folding() {
    let samples = [
        "",
        " ",
        "a",
        "A",
        " a ",
        "a  b",
        "a\tb",
        "a\u{b}b",
        "a\u{c}\r\nB ",
        "\u{b}x",
        "x\u{b}",
        "Example  Inc.",
        "EXAMPLE INC.",
        "example inc",
        "a b c",
        "a-b_c.d",
        "AbC dEf",
        "  lead",
        "trail  ",
    ];
    for a in samples {
        for b in samples {
            let by_char = super::folded(a).eq(super::folded(b));
            let by_byte = super::folded_ascii(a.as_bytes()).eq(super::folded_ascii(b.as_bytes()));
            assert_eq!(by_char, by_byte, "{a:?} vs {b:?}");
            assert_eq!(super::text_matches(a, b), by_char, "{a:?} vs {b:?}");
        }
    }
}
