//! `certbound inspect`, run as a binary.

mod support;

use support::{certbound, stderr, stdout};

use certbound_cert::pem;
use certbound_testkit::{hostile, nginx_escaped_cert, vectors};

fn run(args: &[&str], stdin: Option<&str>) -> std::process::Output {
    let mut all = vec!["inspect"];
    all.extend_from_slice(args);
    certbound(&all, stdin.map(str::as_bytes))
}

#[test]
fn rfc9440_header_line_is_guessed_and_shown() {
    let out = run(
        &[
            "--chain",
            vectors::RFC9440_CLIENT_CERT_CHAIN_HEADER.trim(),
            vectors::RFC9440_CLIENT_CERT_HEADER.trim(),
        ],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.starts_with("format: rfc9440 (guessed)\n"), "{text}");
    assert!(
        text.contains("certificate 1 (leaf)\n  subject:    CN=BC\n"),
        "{text}"
    );
    assert!(text.contains("san:        email:bdc@example.com"), "{text}");
    assert!(text.contains("not before: 2020-01-14T22:55:33Z"), "{text}");
    for t in vectors::RFC9440_EXAMPLE_CHAIN_X5T_S256 {
        assert!(text.contains(&format!("x5t#S256:   {t}")), "{text}");
    }
}

#[test]
fn json_output_for_pem_urlencoded_from_stdin() {
    let value = nginx_escaped_cert(vectors::RFC8705_APPENDIX_A_PEM);
    let out = run(
        &["--format", "pem-urlencoded", "--json", "-"],
        Some(&format!("{value}\n")),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(json["format"], "pem-urlencoded");
    let cert = &json["certificates"][0];
    assert_eq!(cert["x5t#S256"], vectors::RFC8705_APPENDIX_A_X5T_S256);
    assert_eq!(cert["subject"], "CN=mtls");
    assert_eq!(cert["issuer"], "CN=mtls");
    assert_eq!(cert["not_before"], "2018-10-18T12:37:09Z");
    assert_eq!(cert["not_after"], "2022-05-02T12:37:09Z");
    assert_eq!(cert["san"]["dns"], serde_json::json!([]));
    assert!(json.get("elements").is_none());
}

#[test]
fn xfcc_lists_every_element_and_selects_by_hop() {
    let certs = pem::parse_certificates(vectors::RFC9440_EXAMPLE_CHAIN_PEM).unwrap();
    let leaf_pem = pem::encode_certificate(certs[0].der());
    let value = format!(
        "By=spiffe://gw;Cert=\"{}\";Subject=\"CN=BC,O=x;y\";DNS=a.example;DNS=b.example, By=spiffe://sidecar;URI=spiffe://gw",
        nginx_escaped_cert(&leaf_pem)
    );
    let out = run(&["--xfcc-hop", "2", "--json", &value], None);
    assert!(out.status.success(), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(json["format"], "xfcc");
    assert_eq!(
        json["certificates"][0]["x5t#S256"],
        vectors::RFC9440_EXAMPLE_CHAIN_X5T_S256[0]
    );
    let elements = json["elements"].as_array().unwrap();
    assert_eq!(elements.len(), 2);
    assert_eq!(elements[0]["position"], 1);
    assert_eq!(elements[0]["hop"], 2);
    assert_eq!(elements[0]["selected"], true);
    assert_eq!(
        elements[0]["fields"][2],
        serde_json::json!({"key": "Subject", "value": "CN=BC,O=x;y"})
    );
    assert_eq!(elements[0]["certificate"]["subject"], "CN=BC");
    assert!(elements[1].get("certificate").is_none());

    // The default hop (1) selects the sidecar's element: no certificate.
    let out = run(&[&value], None);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains("element 1 of 2 (hop 2 from the right)"),
        "{text}"
    );
    assert!(
        text.contains("element 2 of 2 (hop 1 from the right, selected)"),
        "{text}"
    );
    assert!(text.contains("  Subject: CN=BC,O=x;y"), "{text}");
    assert!(stderr(&out).contains("no certificate"), "{}", stderr(&out));
}

#[test]
fn der_base64_and_pem_are_guessed() {
    let certs = pem::parse_certificates(vectors::RFC8705_APPENDIX_A_PEM).unwrap();
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(certs[0].der());
    let out = run(&[&format!("\"{b64}\"")], None);
    assert!(
        stdout(&out).starts_with("format: der-base64 (guessed)"),
        "{}",
        stdout(&out)
    );
    let apache = vectors::RFC8705_APPENDIX_A_PEM.replace('\n', " ");
    let out = run(&[&apache], None);
    assert!(out.status.success());
    assert!(stdout(&out).starts_with("format: pem (guessed)"));
}

#[test]
fn errors_say_what_was_seen() {
    // A PEM value given as pem-urlencoded with a broken escape.
    let out = run(&["--format", "pem-urlencoded", "-----BEGIN%2"], None);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("invalid percent-encoding at byte 10"), "{err}");
    assert!(err.contains("12 bytes starting \"-----BEGIN%2\""), "{err}");

    // The wrong format: says what it looks like.
    let out = run(
        &["--format", "rfc9440", "MIIBBjCBrAIBAjAKBggqhkjOPQQDAjAP"],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("(it looks like der-base64)"),
        "{}",
        stderr(&out)
    );

    let out = run(&["{\"not\": \"a header\"}"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("cannot guess the format"),
        "{}",
        stderr(&out)
    );

    let out = run(&["--format", "json", "x"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("unknown header format"),
        "{}",
        stderr(&out)
    );

    let out = run(&["--format", "pem", "(null)"], None);
    assert_eq!(out.status.code(), Some(1));
}

/// Every case of the combined-value matrix (the generator the extractor's
/// and the demo's tests use), one field line or two, for a CA-issued and a
/// self-signed victim: refused, and explained as a combination.
#[test]
fn every_combined_value_is_refused_and_explained_as_combined() {
    let ca = certbound_testkit::TestCa::new("Inspect CA");
    let attacker = ca.leaf("attacker").issue();
    let victims = [
        ca.leaf("client-a").issue(),
        certbound_testkit::self_signed("client-a-self-signed").issue(),
    ];
    for victim in &victims {
        for format in ["pem", "pem-urlencoded", "der-base64", "rfc9440", "xfcc"] {
            let cases = hostile::combined_header_values(format, &victim.der, &attacker.der);
            for (case, lines) in cases {
                let mut args = vec!["--format", format];
                args.extend(lines.iter().map(String::as_str));
                let out = run(&args, None);
                assert_eq!(
                    out.status.code(),
                    Some(2),
                    "{format}, {case}: {}",
                    stdout(&out)
                );
                let err = stderr(&out);
                assert!(
                    err.contains("values were combined")
                        && err
                            .contains("a proxy must replace the client's header, not append to it"),
                    "{format}, {case}: {err}"
                );
                if lines.len() > 1 {
                    assert!(
                        err.contains("refused: repeated header lines: values were combined"),
                        "{err}"
                    );
                }
                if lines.len() > 1 && !case.contains("ending") {
                    // Each line said on its own: whose certificate it is.
                    assert!(
                        err.contains("  line 1: CN=client-a"),
                        "{format}, {case}: {err}"
                    );
                    assert!(
                        err.contains("  line 2: CN=attacker"),
                        "{format}, {case}: {err}"
                    );
                }
                // The same lines pasted with their header name on standard
                // input.
                let pasted: String = lines.iter().map(|l| format!("X-Cert: {l}\n")).collect();
                let out = run(&["--format", format], Some(&pasted));
                assert_eq!(
                    out.status.code(),
                    Some(2),
                    "{format}, {case}, pasted: {}",
                    stdout(&out)
                );
                assert!(
                    stderr(&out).contains("values were combined"),
                    "{format}, {case}, pasted: {}",
                    stderr(&out)
                );
            }
        }
    }
}

#[test]
fn joined_values_name_what_was_combined() {
    let ca = certbound_testkit::TestCa::new("Inspect CA");
    let victim = ca.leaf("client-a").issue();
    let attacker = ca.leaf("attacker").issue();
    let (v, a) = (
        hostile::header_value("der-base64", &victim.der),
        hostile::header_value("der-base64", &attacker.der),
    );
    for (value, says) in [
        (
            format!(":{v}:, :{a}:"),
            "rfc9440 (guessed): refused, values were combined: two values combined: 2 RFC 9440 byte sequences where Client-Cert holds one",
        ),
        (
            format!(":{v}: :{a}:"),
            "two values combined: 2 RFC 9440 byte sequences where Client-Cert holds one",
        ),
        (
            format!("{v}, {a}"),
            "der-base64 (guessed): refused, values were combined: two values combined: the value holds 2 certificates where the proxy writes one",
        ),
        (
            format!("{v} {a}"),
            "two values combined: item 1 is base64 values joined by white space",
        ),
        (
            format!(
                "{} {}",
                victim.pem.trim_end().replace('\n', " "),
                attacker.pem.trim_end().replace('\n', " ")
            ),
            "two values combined: the value holds 2 certificates where the proxy writes one; a proxy must replace the client's header, not append to it",
        ),
    ] {
        let out = run(&[&value], None);
        assert_eq!(out.status.code(), Some(2));
        assert!(stderr(&out).contains(says), "{}", stderr(&out));
    }
    // Where the proxy sends the chain in the value, the second must be a CA.
    let out = run(&["--chain-in-value", &format!("{v}, {a}")], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("two values combined: certificate 2 is not a CA certificate"),
        "{}",
        stderr(&out)
    );
    // Two chain header lines.
    let chain = format!(":{}:", hostile::header_value("der-base64", &ca.cert.der));
    let out = run(
        &["--chain", &chain, "--chain", &chain, &format!(":{v}:")],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(
            "refused: repeated header lines: values were combined (the chain header appears 2 times"
        ),
        "{}",
        stderr(&out)
    );
}
