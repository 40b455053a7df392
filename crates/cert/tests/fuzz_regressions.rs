//! Inputs found by the fuzz targets (`fuzz/`), minimized, kept here so the
//! normal test suite catches a regression.

use certbound_cert::DistinguishedName;

/// fuzz target `dn_parse` (and `dn_match`): an attribute type that is only
/// the `OID.` prefix indexed the first byte of an empty string
/// (`parse.rs`, `attribute_type`: `numeric.as_bytes()[0]`) and panicked.
/// The same string reaches the parser from a client registration's
/// `tls_client_auth_subject_dn`.
#[test]
fn an_oid_prefix_without_digits_is_an_error_not_a_panic() {
    for input in [
        "oid.",
        "OID.",
        "OID.=x",
        "oid.=#0C0161",
        "CN=a,OID.=b",
        "UID=b+OID.,DC=example",
    ] {
        let parsed = std::panic::catch_unwind(|| input.parse::<DistinguishedName>());
        match parsed {
            Ok(result) => assert!(result.is_err(), "{input:?} parsed as {result:?}"),
            Err(_) => panic!("{input:?} made the DN parser panic"),
        }
    }
}

/// fuzz targets `cert_parse` and `header_der_base64`: a certificate whose
/// subject has an attribute value with a multi-byte tag (here
/// `[PRIVATE 16256]`, tag bytes `FF FF 00`, which x509-parser accepts)
/// printed as `2.5.4.127=#FFFF0000`, and the RFC 4514 parser refused that
/// `#` value: the DER reader took only single-byte tags. Such a subject
/// could not be written in a registration. `#` values now take any tag
/// (they are read by x509-parser's DER reader, as certificates are).
///
/// The input as `cert_parse` found it is kept below. It also has an
/// unterminated OID arc (`55 04 ff`, which x509-parser reads as 2.5.4.127),
/// SEQUENCEs tagged in the application class (0x70, which x509-parser
/// takes for 0x30) and bytes after the subject's first RDN, which
/// x509-parser skips silently: a subject not read to its last byte is now
/// refused, so that input is. The value with the multi-byte tag is also
/// carried by a well-formed certificate below.
#[test]
fn a_value_with_a_multi_byte_tag_prints_and_parses_back() {
    let found: String = [
        "308201bb3082016da00302010202110118ec0cc99785f5e0000000fdffffff04300506032b657030",
        "173115301306035504030c0c46757a7a20526f6f74204341301e170d323631313237303030363531",
        "5a170d3236313232383030303330325a306d310b300906035504ffffff00000001ed15060355040a",
        "0c0e4578c3a46d706c652c20496e632e31133011060355040bfc0a20207370616365642020301730",
        "1506035504030c0e23726963682b6e616d653b22712231177015060a0992268993f22c6401193607",
        "6578616d706c65302a300506032b657003210016498a15c788764e6fd5698726cc0836815f0d742a",
        "b4120a03fba2540ce22f87a3783076301f06035596230418301680140480a1cee4c03a32c7b99c69",
        "a47ee96afd196725300e0603551d0f0101ff0404030207807013060355251d040c300a06082b0601",
        "0505070302301d060355150e4416041421000000fa10a3f9d2ff0685f0759101fb52b567300f0603",
        "551d130101ff04053001010300300506032b6570034100d580649775e9dc3a8df8880e2c7363b4e9",
        "a3fc467ab7b1cc22cdaed6c4c4b8f4d215f3037bbadbf1c4c6ce3b3856343a922779e8ba8169c6a2",
        "03de661e99df00",
    ]
    .concat();
    assert_eq!(
        certbound_cert::Certificate::from_der(unhex(&found)),
        Err(certbound_cert::CertError::MalformedName { field: "subject" })
    );

    // A generated leaf whose CN value `0C 06 "client"` becomes the same
    // eight bytes as `[PRIVATE 16256]` holding "clie".
    let ca = certbound_testkit::TestCa::new("Test CA");
    let mut der = ca.leaf("client").issue().der;
    let cn = [0x0c, 0x06, b'c', b'l', b'i', b'e', b'n', b't'];
    let at = der.windows(cn.len()).position(|w| w == cn).unwrap();
    der[at..at + 4].copy_from_slice(&[0xff, 0xff, 0x00, 0x04]);
    der[at + 4..at + 8].copy_from_slice(b"clie");
    assert!(x509_parser::parse_x509_certificate(&der).is_ok());
    let cert = certbound_cert::Certificate::from_der(der).unwrap();
    let printed = cert.subject().to_string();
    assert!(printed.contains("=#FFFF0004636C6965"), "{printed}");
    let parsed: DistinguishedName = printed.parse().unwrap();
    assert!(parsed.matches(cert.subject()));
    assert!(cert.subject().matches(&parsed));
    assert_eq!(parsed.to_string(), printed);

    let value: DistinguishedName = "2.5.4.127=#9FD91607651AD15E706C65".parse().unwrap();
    assert_eq!(value.to_string(), "2.5.4.127=#9FD91607651AD15E706C65");
    // Read as x509-parser reads a certificate's values: exactly one value
    // (these are refused), and a tag it accepts in a longer form than
    // needed is written back in the short one, as the same bytes in a
    // certificate's subject are.
    for bad in ["CN=#FFFF000000", "CN=#9F81", "CN=#0C017800"] {
        assert!(bad.parse::<DistinguishedName>().is_err(), "{bad}");
    }
    let long_form: DistinguishedName = "CN=#9F1E00".parse().unwrap();
    assert_eq!(long_form.to_string(), "CN=#9E00");
}

fn unhex(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}
