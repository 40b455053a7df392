//! A certificate's subject, read by certbound-cert, matches the RFC 4514
//! string OpenSSL prints for it.

use certbound_cert::{Certificate, DistinguishedName};
use certbound_testkit::TestCa;
use certbound_testkit::rcgen::{DnType, DnValue};

/// Subject attributes in ASN.1 order, with every character RFC 4514 makes
/// special, leading and trailing spaces, UTF-8, and non-RFC 4514 types.
fn tricky_subject() -> Vec<(DnType, DnValue)> {
    vec![
        (
            DnType::CountryName,
            DnValue::PrintableString("GB".try_into().unwrap()),
        ),
        (DnType::LocalityName, " Zürich ".into()),
        (DnType::OrganizationName, "Example, Inc. + Sons".into()),
        (
            DnType::OrganizationalUnitName,
            "#1 \"Quoted\" <team>".into(),
        ),
        (
            DnType::CustomDnType(vec![1, 2, 840, 113549, 1, 9, 1]),
            DnValue::Ia5String("ops@example.com".try_into().unwrap()),
        ),
        (
            DnType::CustomDnType(vec![2, 5, 4, 5]),
            DnValue::PrintableString("SN-0042".try_into().unwrap()),
        ),
        (DnType::CommonName, "back\\slash;semi=eq".into()),
    ]
}

/// Printed once by
/// `openssl x509 -in tricky.pem -noout -subject -nameopt RFC2253`
/// (OpenSSL 3.0.19) for a certificate with [`tricky_subject`].
const OPENSSL_RFC2253: &str = r#"CN=back\\slash\;semi=eq,serialNumber=SN-0042,emailAddress=ops@example.com,OU=\#1 \"Quoted\" \<team\>,O=Example\, Inc. \+ Sons,L=\ Z\C3\BCrich\ ,C=GB"#;

/// The same with `-nameopt RFC2253,-esc_msb` (UTF-8 left unescaped).
const OPENSSL_RFC2253_UTF8: &str = r#"CN=back\\slash\;semi=eq,serialNumber=SN-0042,emailAddress=ops@example.com,OU=\#1 \"Quoted\" \<team\>,O=Example\, Inc. \+ Sons,L=\ Zürich\ ,C=GB"#;

fn tricky_cert() -> Certificate {
    let ca = TestCa::new("Tricky CA");
    let leaf = ca.leaf("unused").subject(tricky_subject()).issue();
    Certificate::from_der(leaf.der).unwrap()
}

#[test]
fn certificate_subject_matches_openssl_rfc2253_string() {
    let cert = tricky_cert();
    for printed in [OPENSSL_RFC2253, OPENSSL_RFC2253_UTF8] {
        let dn: DistinguishedName = printed.parse().unwrap();
        assert!(cert.subject().matches(&dn), "{printed}");
        assert_eq!(cert.subject(), &dn, "structurally equal too");
    }
}

#[test]
fn certificate_subject_prints_as_rfc4514() {
    let cert = tricky_cert();
    assert_eq!(
        cert.subject().to_string(),
        r#"CN=back\\slash\;semi=eq,serialNumber=SN-0042,emailAddress=ops@example.com,OU=\#1 \"Quoted\" \<team\>,O=Example\, Inc. \+ Sons,L=\ Zürich\ ,C=GB"#
    );
}

#[test]
fn certificate_subject_does_not_match_a_changed_attribute() {
    let cert = tricky_cert();
    let changed = OPENSSL_RFC2253.replace("SN-0042", "SN-0043");
    let dn: DistinguishedName = changed.parse().unwrap();
    assert!(!cert.subject().matches(&dn));
}
