//! Hostile certificates through `Certificate::from_der` and everything read
//! from it: each is read or refused with a precise error, never a panic.

use certbound_cert::{CertError, Certificate, DistinguishedName, MAX_CERTIFICATE_DER_LEN};
use certbound_testkit::hostile::{
    self, Resigner, TBS_EXTENSIONS, TBS_ISSUER, TBS_SERIAL, TBS_SIGNATURE, TBS_SUBJECT, TBS_VERSION,
};
use certbound_testkit::{der_tlv, vectors};

/// Reads every lazily parsed part, so a panic anywhere would show.
fn read_everything(cert: &Certificate) {
    let _ = cert.thumbprint().to_string();
    let subject = cert.subject().to_string();
    let issuer = cert.issuer().to_string();
    let _ = cert.subject_alt_names();
    let _ = cert.validity();
    let _ = cert.is_self_issued();
    let _ = format!("{cert:?}");
    // What is printed parses back to a name that matches.
    for (printed, name) in [(subject, cert.subject()), (issuer, cert.issuer())] {
        let back: DistinguishedName = printed.parse().unwrap_or_else(|e| panic!("{printed}: {e}"));
        assert!(back.matches(name), "{printed}");
    }
}

#[test]
fn unknown_critical_extension_is_read_and_kept_for_the_path_validator() {
    let ca = Resigner::new("Hostile CA");
    let leaf = ca.issue(
        ca.leaf("client")
            .extension(&[1, 3, 6, 1, 4, 1, 99999, 1], vec![0x05, 0x00], true),
        |_| {},
    );
    let cert = Certificate::from_der(leaf.der).unwrap();
    read_everything(&cert);
    let parsed = cert.parsed().unwrap();
    let ext = parsed
        .extensions()
        .iter()
        .find(|e| e.oid.to_id_string() == "1.3.6.1.4.1.99999.1")
        .unwrap();
    assert!(ext.critical);
}

#[test]
fn negative_serial_is_read() {
    let ca = Resigner::new("Hostile CA");
    let leaf = ca.issue(ca.leaf("client"), |tbs| {
        tbs[TBS_SERIAL] = der_tlv(0x02, &[0xff, 0x7f, 0x01])
    });
    let cert = Certificate::from_der(leaf.der).unwrap();
    read_everything(&cert);
    assert_eq!(cert.subject().to_string(), "CN=client");
}

#[test]
fn thousands_of_sans_are_read_in_order() {
    let ca = Resigner::new("Hostile CA");
    let mut builder = ca.leaf("client");
    for i in 0..3000 {
        builder = builder.san_dns(&format!("h{i}.example"));
    }
    let leaf = ca.issue(builder, |_| {});
    assert!(leaf.der.len() < MAX_CERTIFICATE_DER_LEN);
    let cert = Certificate::from_der(leaf.der).unwrap();
    read_everything(&cert);
    let sans = cert.subject_alt_names().unwrap();
    assert_eq!(sans.dns.len(), 3000);
    assert!(sans.has_dns("H2999.example"));
    assert!(!sans.has_dns("h3000.example"));
}

#[test]
fn sans_beyond_the_size_limit_are_refused_as_too_large() {
    let ca = Resigner::new("Hostile CA");
    let mut builder = ca.leaf("client");
    for i in 0..6000 {
        builder = builder.san_dns(&format!("host-{i}.example.com"));
    }
    let leaf = ca.issue(builder, |_| {});
    let size = leaf.der.len();
    assert_eq!(
        Certificate::from_der(leaf.der),
        Err(CertError::TooLarge {
            size,
            limit: MAX_CERTIFICATE_DER_LEN
        })
    );
}

#[test]
fn deeply_nested_values_in_names_and_sans_do_not_overflow_the_stack() {
    let ca = Resigner::new("Hostile CA");
    // A subject attribute whose value is 2000 nested SEQUENCEs, and an
    // otherName SAN holding the same.
    let nested = hostile::nested_sequences(2000);
    let leaf = ca.issue(ca.leaf("client"), |tbs| {
        let mut atv = certbound_testkit::der_oid(&[1, 3, 6, 1, 4, 1, 99999, 2]);
        atv.extend(&nested);
        let mut subject = hostile::tlv_content(&tbs[TBS_SUBJECT]).to_vec();
        subject.extend(der_tlv(0x31, &der_tlv(0x30, &atv)));
        tbs[TBS_SUBJECT] = der_tlv(0x30, &subject);

        let mut other_name = certbound_testkit::der_oid(&[1, 3, 6, 1, 4, 1, 99999, 3]);
        other_name.extend(der_tlv(0xa0, &nested));
        let san = der_tlv(0x30, &der_tlv(0xa0, &other_name));
        let mut exts = hostile::extensions(&tbs[TBS_EXTENSIONS]);
        exts.push(hostile::extension(&[2, 5, 29, 17], false, &san));
        tbs[TBS_EXTENSIONS] = hostile::extensions_field(&exts);
    });
    let cert = Certificate::from_der(leaf.der).unwrap();
    read_everything(&cert);
    // The odd value is kept as DER and printed as hex.
    let printed = cert.subject().to_string();
    assert!(
        printed.starts_with("1.3.6.1.4.1.99999.2=#3082"),
        "{printed:.60}"
    );
    assert!(cert.subject_alt_names().unwrap().is_empty());
}

#[test]
fn hundreds_of_rdns_are_read_printed_and_matched() {
    let ca = Resigner::new("Hostile CA");
    let values: Vec<String> = (0..400).map(|i| format!("unit {i}")).collect();
    let attrs: Vec<(&[u64], &str)> = values
        .iter()
        .map(|v| (&[2u64, 5, 4, 11][..], v.as_str()))
        .collect();
    let leaf = ca.issue(ca.leaf("client"), |tbs| {
        tbs[TBS_SUBJECT] = hostile::name(&attrs)
    });
    let cert = Certificate::from_der(leaf.der).unwrap();
    read_everything(&cert);
    assert_eq!(cert.subject().rdns().len(), 400);
    let registered: DistinguishedName = cert.subject().to_string().to_uppercase().parse().unwrap();
    assert!(registered.matches(cert.subject()));
    // One RDN fewer does not match.
    let fewer: Vec<String> = values[1..]
        .iter()
        .rev()
        .map(|v| format!("OU={v}"))
        .collect();
    let fewer: DistinguishedName = fewer.join(",").parse().unwrap();
    assert!(!fewer.matches(cert.subject()));
}

#[test]
fn v1_certificates_are_read() {
    // RFC 8705 Appendix A is a v1 certificate.
    let cert = Certificate::from_pem(vectors::RFC8705_APPENDIX_A_PEM).unwrap();
    assert_eq!(cert.parsed().unwrap().version().0, 0);
    read_everything(&cert);

    // And one made here: no version field, no extensions.
    let ca = Resigner::new("Hostile CA");
    let leaf = ca.issue(ca.leaf("v1 client"), |tbs| {
        tbs.remove(TBS_EXTENSIONS);
        tbs.remove(TBS_VERSION);
    });
    let cert = Certificate::from_der(leaf.der).unwrap();
    read_everything(&cert);
    assert_eq!(cert.subject().to_string(), "CN=v1 client");
    assert!(cert.subject_alt_names().unwrap().is_empty());
}

#[test]
fn unsupported_signature_algorithms_are_read() {
    let ca = Resigner::new("Hostile CA");
    for alg in [
        hostile::sha1_with_rsa(),
        hostile::algorithm(&[1, 3, 6, 1, 4, 1, 99999, 4]),
    ] {
        let leaf = ca.issue(ca.leaf("client"), |tbs| tbs[TBS_SIGNATURE] = alg.clone());
        let cert = Certificate::from_der(leaf.der).unwrap();
        read_everything(&cert);
    }
}

#[test]
fn a_broken_extension_is_an_error_when_asked_for_not_at_parse() {
    let ca = Resigner::new("Hostile CA");
    // A SAN extension whose value is not a GeneralNames SEQUENCE.
    let leaf = ca.issue(ca.leaf("client"), |tbs| {
        let mut exts = hostile::extensions(&tbs[TBS_EXTENSIONS]);
        exts.push(hostile::extension(
            &[2, 5, 29, 17],
            false,
            &[0x04, 0x01, 0x00],
        ));
        tbs[TBS_EXTENSIONS] = hostile::extensions_field(&exts);
    });
    let cert = Certificate::from_der(leaf.der).unwrap();
    read_everything(&cert);
    assert!(matches!(
        cert.subject_alt_names(),
        Err(CertError::InvalidExtension(_))
    ));
}

#[test]
fn duplicated_san_extension_is_an_error() {
    let ca = Resigner::new("Hostile CA");
    let leaf = ca.issue(ca.leaf("client").san_dns("a.example"), |tbs| {
        let mut exts = hostile::extensions(&tbs[TBS_EXTENSIONS]);
        let san = hostile::extension(
            &[2, 5, 29, 17],
            false,
            &der_tlv(0x30, &der_tlv(0x82, b"b.example")),
        );
        exts.push(san);
        tbs[TBS_EXTENSIONS] = hostile::extensions_field(&exts);
    });
    // A certificate with two SAN extensions is either refused outright or
    // its SANs are an error: never one of the two silently.
    match Certificate::from_der(leaf.der) {
        Err(CertError::InvalidDer(_)) => {}
        Ok(cert) => {
            read_everything(&cert);
            assert!(cert.subject_alt_names().is_err());
        }
        Err(other) => panic!("unexpected {other:?}"),
    }
}

#[test]
fn truncations_and_bit_flips_of_a_real_certificate_never_panic() {
    let ca = Resigner::new("Hostile CA");
    let leaf = ca.issue(
        ca.leaf("client")
            .san_dns("a.example")
            .san_email("x@example.com"),
        |_| {},
    );
    for len in 0..leaf.der.len() {
        let _ = Certificate::from_der(leaf.der[..len].to_vec()).map(|c| read_everything(&c));
    }
    for i in 0..leaf.der.len() {
        for bit in [0x01u8, 0x80] {
            let mut der = leaf.der.clone();
            der[i] ^= bit;
            if let Ok(cert) = Certificate::from_der(der) {
                // Names with odd bytes may not print as parseable strings
                // (a flipped OID arc), but reading must not panic.
                let _ = cert.subject().to_string();
                let _ = cert.issuer().to_string();
                let _ = cert.subject_alt_names();
                let _ = cert.validity();
            }
        }
    }
}

/// A subject or issuer `Name` that x509-parser does not read to its last
/// byte is refused. x509-parser reads a Name as RDNs up to the first it
/// cannot read and an RDN as attributes up to the first it cannot read,
/// and drops the rest without an error. The CA-signed subject
/// `C=GB, O=Example Bank, CN=bank-1, {}, CN=mallory` (OpenSSL prints
/// `CN=mallory,CN=bank-1,O=Example Bank,C=GB`) would otherwise be read as
/// `CN=bank-1,O=Example Bank,C=GB` and match bank-1's registered
/// `tls_client_auth_subject_dn`.
#[test]
fn a_name_not_read_to_its_last_byte_is_refused_not_truncated() {
    let ca = Resigner::new("Hostile CA");
    let c: &[u64] = &[2, 5, 4, 6];
    let o: &[u64] = &[2, 5, 4, 10];
    let cn: &[u64] = &[2, 5, 4, 3];
    let victim = hostile::name(&[(c, "GB"), (o, "Example Bank"), (cn, "bank-1")]);
    let mallory = hostile::name(&[(cn, "mallory")]);
    let mallory_rdn = hostile::tlv_content(&mallory).to_vec();
    let mallory_atv = hostile::tlv_content(&mallory_rdn).to_vec();
    // The RDNs of the victim's name with `between` and CN=mallory after them.
    let after_victim = |between: &[u8]| {
        let mut rdns = hostile::tlv_content(&victim).to_vec();
        rdns.extend(between);
        rdns.extend(&mallory_rdn);
        der_tlv(0x30, &rdns)
    };
    // The victim's name with its last RDN (CN=bank-1) replaced by a SET
    // holding CN=bank-1, then `inside`.
    let inside_last_rdn = |inside: &[u8]| {
        let mut rdns = hostile::tlvs(hostile::tlv_content(&victim));
        let mut set = hostile::tlv_content(&rdns[2]).to_vec();
        set.extend(inside);
        rdns[2] = der_tlv(0x31, &set);
        der_tlv(0x30, &rdns.concat())
    };
    // CN=bank-1 as an attribute with `after` following its value.
    let bank_atv_then = |after: &[u8]| {
        let mut atv = certbound_testkit::der_oid(cn);
        atv.extend(der_tlv(0x0c, b"bank-1"));
        atv.extend(after);
        der_tlv(0x30, &atv)
    };
    let mut rdns = hostile::tlvs(hostile::tlv_content(&victim));
    rdns[2] = der_tlv(0x31, &bank_atv_then(&mallory_atv));
    let junk_in_attribute = der_tlv(0x30, &rdns.concat());
    let names: [(&str, Vec<u8>); 7] = [
        ("an empty RDN", after_victim(&der_tlv(0x31, &[]))),
        (
            "an RDN whose attribute has no type",
            after_victim(&der_tlv(0x31, &der_tlv(0x30, &[0x05, 0x00]))),
        ),
        ("bytes that are no RDN", after_victim(&[0x00, 0x00])),
        ("an empty RDN last", {
            let mut rdns = hostile::tlv_content(&victim).to_vec();
            rdns.extend(der_tlv(0x31, &[]));
            der_tlv(0x30, &rdns)
        }),
        (
            "bytes that are no attribute inside an RDN",
            inside_last_rdn(&[[0x00, 0x00].as_slice(), &mallory_atv].concat()),
        ),
        (
            "an attribute without a type inside an RDN",
            inside_last_rdn(&[der_tlv(0x30, &[0x05, 0x00]), mallory_atv.clone()].concat()),
        ),
        ("an attribute with bytes after its value", junk_in_attribute),
    ];
    let registered: DistinguishedName = "CN=bank-1,O=Example Bank,C=GB".parse().unwrap();
    for (what, name) in names {
        for (field, index) in [("subject", TBS_SUBJECT), ("issuer", TBS_ISSUER)] {
            let leaf = ca.issue(ca.leaf("bank-1"), |tbs| tbs[index] = name.clone());
            match Certificate::from_der(leaf.der) {
                Err(CertError::MalformedName { field: f }) => assert_eq!(f, field, "{what}"),
                Ok(cert) => panic!(
                    "{field} with {what} was read as {:?}, issuer {:?}; matches bank-1: {}",
                    cert.subject().to_string(),
                    cert.issuer().to_string(),
                    registered.matches(cert.subject()),
                ),
                Err(other) => panic!("{field} with {what}: unexpected {other:?}"),
            }
        }
    }
    let err = CertError::MalformedName { field: "subject" }.to_string();
    assert!(err.contains("subject name is malformed"), "{err}");
}

/// Names that are read to their last byte still are: a multi-valued RDN,
/// an empty Name, and the same name as above without the extra bytes.
#[test]
fn well_formed_names_around_the_completeness_check_are_read() {
    let ca = Resigner::new("Hostile CA");
    let cn: &[u64] = &[2, 5, 4, 3];
    let uid: &[u64] = &[0, 9, 2342, 19200300, 100, 1, 1];
    let mut multi = hostile::tlv_content(&hostile::name(&[(cn, "bank-1")])).to_vec();
    let uid_rdn = hostile::name(&[(uid, "42")]);
    let uid_atv = hostile::tlv_content(hostile::tlv_content(&uid_rdn));
    // The RDN SET of CN=bank-1 gets UID=42 as a second attribute.
    multi = der_tlv(0x31, &[hostile::tlv_content(&multi), uid_atv].concat());
    let names = [
        (der_tlv(0x30, &multi), "CN=bank-1+UID=42"),
        (der_tlv(0x30, &[]), ""),
        (
            hostile::name(&[(&[2, 5, 4, 6], "GB"), (cn, "bank-1"), (cn, "mallory")]),
            "CN=mallory,CN=bank-1,C=GB",
        ),
    ];
    for (name, printed) in names {
        let leaf = ca.issue(ca.leaf("client"), |tbs| tbs[TBS_SUBJECT] = name.clone());
        let cert = Certificate::from_der(leaf.der).unwrap();
        read_everything(&cert);
        assert_eq!(cert.subject().to_string(), printed);
    }
}

/// x509-parser reads a subjectAltName extension's GeneralNames SEQUENCE and
/// ignores what follows it in extnValue. Names hidden there would be seen
/// by other readers and not by certbound: such an extension is an error,
/// as any malformed SAN list is.
#[test]
fn a_san_extension_with_bytes_after_its_general_names_is_an_error() {
    let ca = Resigner::new("Hostile CA");
    let names = der_tlv(0x30, &der_tlv(0x82, b"a.example"));
    let more = der_tlv(0x30, &der_tlv(0x82, b"b.example"));
    for after in [more, vec![0x00], vec![0x00, 0x00]] {
        let leaf = ca.issue(ca.leaf("client"), |tbs| {
            let mut exts = hostile::extensions(&tbs[TBS_EXTENSIONS]);
            let value = [names.as_slice(), &after].concat();
            exts.push(hostile::extension(&[2, 5, 29, 17], false, &value));
            tbs[TBS_EXTENSIONS] = hostile::extensions_field(&exts);
        });
        let cert = Certificate::from_der(leaf.der).unwrap();
        read_everything(&cert);
        match cert.subject_alt_names() {
            Err(CertError::InvalidExtension(reason)) => {
                assert!(reason.contains("after the GeneralNames"), "{reason}");
            }
            other => panic!("{after:02x?} after the SANs: {other:?}"),
        }
    }
    // Without them, the same extension is read.
    let leaf = ca.issue(ca.leaf("client"), |tbs| {
        let mut exts = hostile::extensions(&tbs[TBS_EXTENSIONS]);
        exts.push(hostile::extension(&[2, 5, 29, 17], false, &names));
        tbs[TBS_EXTENSIONS] = hostile::extensions_field(&exts);
    });
    let cert = Certificate::from_der(leaf.der).unwrap();
    assert_eq!(cert.subject_alt_names().unwrap().dns, ["a.example"]);
}
