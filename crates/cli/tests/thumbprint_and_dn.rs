//! Runs the `certbound` binary: thumbprint and dn subcommands.

mod support;

use support::{certbound, stderr, stdout, temp_file};

use certbound_testkit::vectors;

#[test]
fn thumbprint_of_rfc8705_appendix_a_file() {
    let path = temp_file("a.pem", vectors::RFC8705_APPENDIX_A_PEM.as_bytes());
    let out = certbound(&["thumbprint", path.to_str().unwrap()], None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        format!("{}\n", vectors::RFC8705_APPENDIX_A_X5T_S256)
    );
}

#[test]
fn thumbprint_of_chain_from_stdin_prints_one_per_line_in_order() {
    let out = certbound(
        &["thumbprint", "-"],
        Some(vectors::RFC9440_EXAMPLE_CHAIN_PEM.as_bytes()),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let expected: String = vectors::RFC9440_EXAMPLE_CHAIN_X5T_S256
        .iter()
        .map(|t| format!("{t}\n"))
        .collect();
    assert_eq!(stdout(&out), expected);
}

#[test]
fn thumbprint_of_der_file() {
    let der = certbound_cert::pem::parse_certificates(vectors::RFC8705_APPENDIX_A_PEM).unwrap()[0]
        .der()
        .to_vec();
    let path = temp_file("a.der", &der);
    let out = certbound(&["thumbprint", path.to_str().unwrap()], None);
    assert!(out.status.success());
    assert_eq!(stdout(&out).trim(), vectors::RFC8705_APPENDIX_A_X5T_S256);
}

#[test]
fn thumbprint_bad_input_is_exit_2_with_a_clear_error() {
    let out = certbound(&["thumbprint", "-"], Some(b"hello"));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("not an X.509 certificate"),
        "{}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains("panicked"));

    let out = certbound(&["thumbprint", "/nonexistent/cert.pem"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("cannot read /nonexistent/cert.pem"),
        "{}",
        stderr(&out)
    );

    let out = certbound(
        &["thumbprint", "-"],
        Some(b"-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----\n"),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("not valid base64"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn dn_normalize_prints_canonical_rfc4514() {
    let out = certbound(
        &[
            "dn",
            "normalize",
            "cn = Client\\2c One , o=Example,2.5.4.6=GB",
        ],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "CN=Client\\, One,O=Example,C=GB\n");
}

#[test]
fn dn_normalize_refuses_slash_form_with_hint() {
    let out = certbound(&["dn", "normalize", "/C=GB/O=Example/CN=client"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("CN=client,O=Example,C=GB"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn dn_match_exit_codes() {
    let m = certbound(&["dn", "match", "CN=a,O=B", "cn=A, o=b"], None);
    assert_eq!(m.status.code(), Some(0));
    let no = certbound(&["dn", "match", "CN=a,O=B", "O=B,CN=a"], None);
    assert_eq!(no.status.code(), Some(1));
    let ignored = certbound(
        &["dn", "match", "CN=a,O=B", "O=B,CN=a", "--ignore-rdn-order"],
        None,
    );
    assert_eq!(ignored.status.code(), Some(0));
    let bad = certbound(&["dn", "match", "CN=a", "CN=a\\"], None);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        stderr(&bad).contains("DN2: invalid distinguished name at byte 4"),
        "{}",
        stderr(&bad)
    );
}

#[test]
fn dn_of_cert_prints_subject() {
    let path = temp_file("chain.pem", vectors::RFC9440_EXAMPLE_CHAIN_PEM.as_bytes());
    let out = certbound(&["dn", "of-cert", path.to_str().unwrap()], None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "CN=BC\n");
}
