//! Every command, with its standard output read by a reader that goes away
//! (`certbound ... | head -c1`): the command ends with its own exit code and
//! no panic, where `println!` would panic on `EPIPE` and exit 101.

mod support;

use std::io::Read as _;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant, SystemTime};

use certbound_testkit::{TestCa, vectors};
use josekit::jwk::JwkSet;
use josekit::jws::{ES256, JwsHeader};
use josekit::jwt::{self, JwtPayload};
use serde_json::json;
use support::temp_file;

/// When the reader of the command's standard output goes away.
#[derive(Debug, Clone, Copy)]
enum Reader {
    /// Before the command writes anything: its first write fails.
    GoneAtOnce,
    /// After reading one byte, as `head -c1` does.
    GoneAfterOneByte,
}

/// Runs `certbound ARGS...` with stdout read as `reader` says; returns the
/// exit status and standard error.
fn run(args: &[&str], reader: Reader) -> (ExitStatus, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_certbound"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    if let Reader::GoneAfterOneByte = reader {
        let mut byte = [0u8; 1];
        assert_eq!(
            stdout.read(&mut byte).unwrap(),
            1,
            "{args:?} printed nothing"
        );
    }
    drop(stdout);

    let mut stderr = child.stderr.take().unwrap();
    let errors = std::thread::spawn(move || {
        let mut text = String::new();
        stderr.read_to_string(&mut text).unwrap();
        text
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("{args:?} did not end after its reader went away");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    (status, errors.join().unwrap())
}

/// Runs `args` with each kind of reader and checks the command ended with
/// `code` and wrote nothing to standard error.
fn ends_cleanly(args: &[&str], code: i32) {
    for reader in [Reader::GoneAtOnce, Reader::GoneAfterOneByte] {
        let (status, errors) = run(args, reader);
        assert!(
            !errors.contains("panicked"),
            "{args:?} {reader:?}: {errors}"
        );
        assert_eq!(status.code(), Some(code), "{args:?} {reader:?}: {errors}");
        assert_eq!(errors, "", "{args:?} {reader:?}");
    }
}

fn path(name: &str, content: impl AsRef<[u8]>) -> String {
    temp_file(name, content.as_ref()).display().to_string()
}

#[test]
fn thumbprint_and_dn_end_cleanly_when_the_reader_goes_away() {
    let pem = path("a.pem", vectors::RFC8705_APPENDIX_A_PEM);
    ends_cleanly(&["thumbprint", &pem], 0);
    ends_cleanly(&["dn", "of-cert", &pem], 0);
    ends_cleanly(&["dn", "normalize", "cn=Alice,o=Example"], 0);
    ends_cleanly(&["dn", "match", "CN=a", "cn=A"], 0);
    // "No match" stays the answer even though nobody read it.
    ends_cleanly(&["dn", "match", "CN=a", "CN=b"], 1);
}

#[test]
fn output_larger_than_the_pipe_ends_cleanly_when_the_reader_goes_away() {
    // Far more than a pipe buffer holds (64 KiB on Linux), so the command is
    // still writing when the reader goes away.
    let many = vectors::RFC9440_EXAMPLE_CHAIN_PEM.repeat(1_000);
    let pem = path("many.pem", many);
    ends_cleanly(&["thumbprint", &pem], 0);
}

#[test]
fn inspect_ends_cleanly_when_the_reader_goes_away() {
    let leaf = vectors::RFC9440_CLIENT_CERT_HEADER.trim();
    let chain = vectors::RFC9440_CLIENT_CERT_CHAIN_HEADER.trim();
    ends_cleanly(&["inspect", "--chain", chain, leaf], 0);
    ends_cleanly(&["inspect", "--json", "--chain", chain, leaf], 0);
}

#[test]
fn metadata_ends_cleanly_when_the_reader_goes_away() {
    ends_cleanly(
        &[
            "metadata",
            "--issuer",
            "https://as.example.com",
            "--mtls-host",
            "mtls.example.com",
        ],
        0,
    );
    let doc = path("metadata.json", vectors::RFC8705_SECTION5_METADATA);
    ends_cleanly(&["metadata", "--check", &doc], 0);
}

#[test]
fn check_client_ends_cleanly_when_the_reader_goes_away() {
    let root = TestCa::new("Pipe Root");
    let leaf = root.leaf("bank-1").issue();
    let client = path(
        "client.json",
        r#"{"client_id":"bank-1","token_endpoint_auth_method":"tls_client_auth","tls_client_auth_subject_dn":"cn=bank-1"}"#,
    );
    let ca = path("ca.pem", &root.cert.pem);
    let cert = path("cert.pem", &leaf.pem);
    ends_cleanly(
        &["check-client", "--client", &client, "--ca", &ca, &cert],
        0,
    );
    ends_cleanly(
        &[
            "check-client",
            "--json",
            "--client",
            &client,
            "--ca",
            &ca,
            &cert,
        ],
        0,
    );
}

#[test]
fn verify_token_ends_cleanly_when_the_reader_goes_away() {
    let pair = ES256.generate_key_pair().unwrap();
    let mut public = pair.to_jwk_public_key();
    public.set_key_id("k1");
    let mut set = JwkSet::new();
    set.push_key(public);
    let client = TestCa::new("Pipe CA").leaf("client").issue();

    let mut payload = JwtPayload::new();
    payload.set_issuer("https://as.example.test");
    payload.set_audience(vec!["https://rs.example.test"]);
    payload.set_subject("alice");
    payload.set_expires_at(&(SystemTime::now() + Duration::from_secs(300)));
    let thumbprint = certbound_cert::Thumbprint::of_der(&client.der).to_string();
    payload
        .set_claim("cnf", Some(json!({ "x5t#S256": thumbprint })))
        .unwrap();
    let mut header = JwsHeader::new();
    header.set_token_type("at+jwt");
    header.set_key_id("k1");
    let signer = ES256.signer_from_der(pair.to_der_private_key()).unwrap();
    let token = jwt::encode_with_signer(&payload, &header, &signer).unwrap();

    let jwks = path("jwks.json", set.to_string());
    let cert = path("client.pem", &client.pem);
    ends_cleanly(
        &[
            "verify-token",
            "--jwks",
            &jwks,
            "--issuer",
            "https://as.example.test",
            "--audience",
            "https://rs.example.test",
            "--cert",
            &cert,
            &token,
        ],
        0,
    );
}

#[test]
fn demo_self_test_ends_cleanly_when_the_reader_goes_away() {
    let out = std::env::temp_dir().join(format!("certbound-pipe-demo-{}", std::process::id()));
    let out = out.display().to_string();
    ends_cleanly(
        &[
            "demo",
            "--self-test",
            "--out",
            &out,
            "--addr",
            "127.0.0.1:0",
            "--mtls-addr",
            "127.0.0.1:0",
            "--rs-addr",
            "127.0.0.1:0",
        ],
        0,
    );
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn help_ends_cleanly_when_the_reader_goes_away() {
    ends_cleanly(&["--help"], 0);
    ends_cleanly(&["inspect", "--help"], 0);
}
