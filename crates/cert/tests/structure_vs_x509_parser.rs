//! Reading a certificate checks its structure with certbound's own walk of
//! the DER, and its fields are parsed later by x509-parser. That is sound
//! only if the walk is at least as strict as x509-parser: every
//! certificate `Certificate::from_der` accepts, x509-parser must parse in
//! full, or the accessors would fall back to empty values. This checks it
//! over every single-byte change of real certificates (and the fuzz targets
//! check it over whatever they find).

use certbound_cert::Certificate;
use certbound_testkit::{KeyAlg, TestCa, self_signed, vectors};
use proptest::prelude::*;

fn x509_parser_accepts(der: &[u8]) -> bool {
    matches!(x509_parser::parse_x509_certificate(der), Ok((rest, _)) if rest.is_empty())
}

fn assert_no_more_lenient(der: &[u8], what: &str) {
    if let Ok(cert) = Certificate::from_der(der) {
        assert!(
            x509_parser_accepts(der),
            "{what}: read, but x509-parser refuses it: {:02x?}",
            der
        );
        cert.check()
            .unwrap_or_else(|e| panic!("{what}: read, but its fields do not parse: {e}"));
    }
}

fn certificates() -> Vec<(String, Vec<u8>)> {
    let root = TestCa::new("Structure Root");
    let inter = root.intermediate("Structure Issuing CA");
    let ed = TestCa::new_with("Structure Ed25519", KeyAlg::Ed25519);
    let leaf = inter
        .leaf("client")
        .san_dns("client.example.com")
        .san_uri("spiffe://example.com/client")
        .san_ip("192.0.2.7".parse().unwrap())
        .san_email("ops@example.com")
        .policies(&[&[2, 23, 140, 1, 2, 1]])
        .issue();
    let mut out = vec![
        ("root".to_owned(), root.cert.der.clone()),
        ("intermediate".to_owned(), inter.cert.der.clone()),
        ("leaf with SANs and a policy".to_owned(), leaf.der),
        ("ed25519 CA".to_owned(), ed.cert.der.clone()),
        ("self-signed".to_owned(), self_signed("self").issue().der),
        (
            "RFC 8705 Appendix A".to_owned(),
            Certificate::from_pem(vectors::RFC8705_APPENDIX_A_PEM)
                .unwrap()
                .der()
                .to_vec(),
        ),
    ];
    for (i, c) in certbound_cert::pem::parse_certificates(vectors::RFC9440_EXAMPLE_CHAIN_PEM)
        .unwrap()
        .iter()
        .enumerate()
    {
        out.push((format!("RFC 9440 chain {i}"), c.der().to_vec()));
    }
    out
}

#[test]
fn every_certificate_read_parses_with_x509_parser_under_single_byte_changes() {
    for (name, der) in certificates() {
        assert!(Certificate::from_der(der.clone()).is_ok(), "{name}");
        for i in 0..der.len() {
            let original = der[i];
            for value in [
                original ^ 0x01,
                original ^ 0x20,
                original ^ 0x80,
                original.wrapping_add(1),
                original.wrapping_sub(1),
                0x00,
                0x80,
                0xff,
            ] {
                if value == original {
                    continue;
                }
                let mut mutated = der.clone();
                mutated[i] = value;
                assert_no_more_lenient(&mutated, &format!("{name}, byte {i} = {value:#04x}"));
            }
        }
        for len in 0..der.len() {
            assert_no_more_lenient(&der[..len], &format!("{name} truncated to {len}"));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn every_certificate_read_parses_with_x509_parser_under_random_changes(
        which in 0usize..8,
        changes in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..6),
    ) {
        static CERTS: std::sync::OnceLock<Vec<(String, Vec<u8>)>> = std::sync::OnceLock::new();
        let certs = CERTS.get_or_init(certificates);
        let (name, der) = &certs[which % certs.len()];
        let mut mutated = der.clone();
        for (at, value) in &changes {
            let at = at % mutated.len();
            mutated[at] = *value;
        }
        assert_no_more_lenient(&mutated, name);
    }
}
