//! Runs the `certbound check-client` binary on generated certificates.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, SystemTime};
use support::{stderr, stdout};

use certbound_testkit::{TestCa, self_signed};

struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "certbound-check-client-{name}-{}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn file(&self, name: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, content).unwrap();
        p
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn run(args: &[&Path], flags: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_certbound"));
    cmd.arg("check-client");
    for a in flags {
        cmd.arg(a);
    }
    for a in args {
        cmd.arg(a);
    }
    cmd.output().unwrap()
}

const BANK: &str = r#"{"client_id":"bank-1","token_endpoint_auth_method":"tls_client_auth","tls_client_auth_subject_dn":"cn=BANK-1"}"#;

#[test]
fn authenticating_certificate_exits_0_with_every_check() {
    let dir = Dir::new("ok");
    let root = TestCa::new("Root");
    let issuing = root.intermediate("Issuing");
    let leaf = issuing.leaf("bank-1").issue();
    let client = dir.file("client.json", BANK);
    let ca = dir.file("ca.pem", &root.cert.pem);
    let cert = dir.file("cert.pem", format!("{}{}", leaf.pem, issuing.cert.pem));
    let o = run(
        &[&cert],
        &[
            "--client",
            client.to_str().unwrap(),
            "--ca",
            ca.to_str().unwrap(),
        ],
    );
    let text = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{text}{}", stderr(&o));
    for line in [
        "PASS  client",
        "PASS  certificate",
        "PASS  anchors",
        "PASS  validity",
        "PASS  eku",
        "SKIP  policies",
        "PASS  path",
        "SKIP  revocation",
        "PASS  subject",
        "client_id    bank-1",
        "method       tls_client_auth",
        "result: passed",
    ] {
        assert!(text.contains(line), "missing {line:?} in\n{text}");
    }
}

#[test]
fn refused_certificate_exits_1_and_says_why() {
    let dir = Dir::new("refused");
    let ca = TestCa::new("CA");
    let now = SystemTime::now();
    let leaf = ca
        .leaf("bank-2")
        .validity(
            now - Duration::from_secs(10 * 86_400),
            now - Duration::from_secs(86_400),
        )
        .issue();
    let client = dir.file("client.json", BANK);
    let ca_file = dir.file("ca.pem", &ca.cert.pem);
    let cert = dir.file("cert.pem", &leaf.pem);
    let o = run(
        &[&cert],
        &[
            "--client",
            client.to_str().unwrap(),
            "--ca",
            ca_file.to_str().unwrap(),
        ],
    );
    let text = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{text}{}", stderr(&o));
    assert!(text.contains("FAIL  validity"), "{text}");
    assert!(text.contains("FAIL  subject"), "{text}");
    assert!(text.contains("CN=bank-2"), "{text}");
    assert!(text.contains("refused"), "{text}");
}

#[test]
fn intermediate_and_crl_from_files() {
    let dir = Dir::new("crl");
    let root = TestCa::new("Root");
    let issuing = root.intermediate("Issuing");
    let leaf = issuing.leaf("bank-1").issue();
    let client = dir.file("client.json", BANK);
    let ca = dir.file("ca.pem", &root.cert.pem);
    let int = dir.file("int.pem", &issuing.cert.pem);
    let cert = dir.file("cert.pem", &leaf.pem);
    let crl = dir.file("crl.der", issuing.crl(&[&leaf.serial]));
    let base = [
        "--client",
        client.to_str().unwrap(),
        "--ca",
        ca.to_str().unwrap(),
    ];

    // The leaf alone: no path without the intermediate.
    let o = run(&[&cert], &base);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(stdout(&o).contains("FAIL  path"), "{}", stdout(&o));

    let mut with_int = base.to_vec();
    with_int.extend(["--intermediate", int.to_str().unwrap()]);
    let o = run(&[&cert], &with_int);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));

    with_int.extend(["--crl", crl.to_str().unwrap(), "--json"]);
    let o = run(&[&cert], &with_int);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let json: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(json["passed"], false);
    let revocation = json["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "revocation")
        .unwrap();
    assert_eq!(revocation["verdict"], "fail");
}

#[test]
fn revocation_is_unknown_when_no_crl_covers_the_issuer() {
    let dir = Dir::new("crl-unknown");
    let ca = TestCa::new("CA");
    let other = TestCa::new("Other CA");
    let leaf = ca.leaf("bank-1").issue();
    let client = dir.file("client.json", BANK);
    let ca_file = dir.file("ca.pem", &ca.cert.pem);
    let cert = dir.file("cert.pem", &leaf.pem);
    let other_crl = dir.file("other.crl", other.crl(&[]));
    let flags = [
        "--client",
        client.to_str().unwrap(),
        "--ca",
        ca_file.to_str().unwrap(),
        "--crl",
        other_crl.to_str().unwrap(),
    ];
    let o = run(&[&cert], &flags);
    let text = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{text}{}", stderr(&o));
    let line = text
        .lines()
        .find(|l| l.contains("revocation"))
        .unwrap_or_else(|| panic!("no revocation line in\n{text}"));
    assert!(line.starts_with("SKIP"), "{line}");
    assert!(line.contains("no CRL covers this issuer (CN=CA)"), "{line}");
    assert!(!line.contains("not revoked"), "{line}");

    let mut refuse = flags.to_vec();
    refuse.push("--refuse-unknown-revocation");
    let o = run(&[&cert], &refuse);
    let text = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{text}");
    assert!(text.contains("FAIL  revocation"), "{text}");
    assert!(text.contains("revocation status unknown"), "{text}");
}

#[test]
fn self_signed_client_is_checked_by_thumbprint() {
    let dir = Dir::new("self-signed");
    let mine = self_signed("device").issue();
    let b64 = mine
        .pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect::<String>();
    let client = dir.file(
        "client.json",
        format!(
            r#"{{"client_id":"device","token_endpoint_auth_method":"self_signed_tls_client_auth","jwks":{{"keys":[{{"kty":"EC","x5c":["{b64}"]}}]}}}}"#
        ),
    );
    let cert = dir.file("cert.pem", &mine.pem);
    let o = run(&[&cert], &["--client", client.to_str().unwrap(), "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let json: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(json["method"], "self_signed_tls_client_auth");
    assert_eq!(json["passed"], true);

    let other = dir.file("other.pem", self_signed("device").issue().pem);
    let o = run(&[&other], &["--client", client.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(stdout(&o).contains("FAIL  x5t#S256"), "{}", stdout(&o));
}

#[test]
fn invalid_registration_exits_2_naming_the_field() {
    let dir = Dir::new("invalid");
    let leaf = TestCa::new("CA").leaf("x").issue();
    let cert = dir.file("cert.pem", &leaf.pem);
    let client = dir.file(
        "client.json",
        r#"{"client_id":"c","token_endpoint_auth_method":"tls_client_auth","tls_client_auth_subject_dn":"CN=a","tls_client_auth_san_dns":"a.example"}"#,
    );
    let o = run(&[&cert], &["--client", client.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("invalid_client_metadata"),
        "{}",
        stderr(&o)
    );
    assert!(
        stderr(&o).contains("tls_client_auth_san_dns"),
        "{}",
        stderr(&o)
    );

    let bad_ip = dir.file(
        "ip.json",
        r#"{"client_id":"c","token_endpoint_auth_method":"tls_client_auth","tls_client_auth_san_ip":"300.1.1.1"}"#,
    );
    let o = run(&[&cert], &["--client", bad_ip.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("tls_client_auth_san_ip"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn bad_input_exits_2() {
    let dir = Dir::new("bad");
    let leaf = TestCa::new("CA").leaf("x").issue();
    let cert = dir.file("cert.pem", &leaf.pem);
    let client = dir.file("client.json", BANK);
    // Not JSON.
    let junk = dir.file("junk.json", "{");
    let o = run(&[&cert], &["--client", junk.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    // No trust anchors for tls_client_auth.
    let o = run(&[&cert], &["--client", client.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--ca"), "{}", stderr(&o));
    // A certificate file that is not one.
    let not_cert = dir.file("not.pem", "hello");
    let ca = dir.file("ca.pem", TestCa::new("CA").cert.pem);
    let o = run(
        &[&not_cert],
        &[
            "--client",
            client.to_str().unwrap(),
            "--ca",
            ca.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    // A registration with a non-mTLS method.
    let secret = dir.file(
        "secret.json",
        r#"{"client_id":"c","token_endpoint_auth_method":"client_secret_basic"}"#,
    );
    let o = run(&[&cert], &["--client", secret.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}
