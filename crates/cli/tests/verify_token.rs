//! Runs `certbound verify-token` on tokens signed by josekit, with keys,
//! JWKS and certificates written to temporary files.

mod support;

use std::time::{Duration, SystemTime};
use support::{certbound, stderr, stdout, temp_file};

use certbound_testkit::TestCa;
use josekit::jwk::JwkSet;
use josekit::jws::{ES256, JwsHeader};
use josekit::jwt::{self, JwtPayload};
use serde_json::{Value, json};

const ISS: &str = "https://as.example.test";
const AUD: &str = "https://rs.example.test";

struct Fixture {
    signer: josekit::jws::alg::ecdsa::EcdsaJwsSigner,
    jwks: String,
    client_pem: String,
    client_thumbprint: String,
    other_pem: String,
}

fn fixture() -> Fixture {
    let pair = ES256.generate_key_pair().unwrap();
    let mut public = pair.to_jwk_public_key();
    public.set_key_id("k1");
    let mut set = JwkSet::new();
    set.push_key(public);
    let ca = TestCa::new("CLI CA");
    let client = ca.leaf("client").issue();
    let other = ca.leaf("other").issue();
    let client_thumbprint = certbound_cert::Thumbprint::of_der(&client.der).to_string();
    Fixture {
        signer: ES256.signer_from_der(pair.to_der_private_key()).unwrap(),
        jwks: set.to_string(),
        client_pem: client.pem,
        client_thumbprint,
        other_pem: other.pem,
    }
}

impl Fixture {
    fn token(&self, edit: impl FnOnce(&mut JwtPayload)) -> String {
        let mut p = JwtPayload::new();
        p.set_issuer(ISS);
        p.set_audience(vec![AUD]);
        p.set_subject("alice");
        p.set_expires_at(&(SystemTime::now() + Duration::from_secs(300)));
        p.set_claim("cnf", Some(json!({"x5t#S256": self.client_thumbprint})))
            .unwrap();
        edit(&mut p);
        let mut h = JwsHeader::new();
        h.set_token_type("at+jwt");
        h.set_key_id("k1");
        jwt::encode_with_signer(&p, &h, &self.signer).unwrap()
    }

    fn files(&self, tag: &str) -> (String, String, String) {
        let jwks = temp_file(&format!("{tag}-jwks.json"), self.jwks.as_bytes());
        let client = temp_file(&format!("{tag}-client.pem"), self.client_pem.as_bytes());
        let other = temp_file(&format!("{tag}-other.pem"), self.other_pem.as_bytes());
        (
            jwks.display().to_string(),
            client.display().to_string(),
            other.display().to_string(),
        )
    }
}

fn line<'a>(out: &'a str, check: &str) -> &'a str {
    out.lines()
        .find(|l| l.split_whitespace().nth(1) == Some(check))
        .unwrap_or_else(|| panic!("no {check} line in:\n{out}"))
}

#[test]
fn bound_token_with_its_certificate_is_valid() {
    let f = fixture();
    let (jwks, client, _) = f.files("valid");
    let token = f.token(|_| {});
    let o = certbound(
        &[
            "verify-token",
            "--jwks",
            &jwks,
            "--issuer",
            ISS,
            "--audience",
            AUD,
            "--cert",
            &client,
            &token,
        ],
        None,
    );
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{}", stderr(&o));
    for check in [
        "format",
        "algorithm",
        "type",
        "signature",
        "issuer",
        "audience",
        "expiry",
        "binding",
    ] {
        assert!(line(&out, check).starts_with("PASS"), "{check}: {out}");
    }
    assert!(line(&out, "binding").contains(&f.client_thumbprint));
    assert!(out.ends_with("result: passed\n"), "{out}");
}

#[test]
fn other_certificate_is_refused_with_both_thumbprints() {
    let f = fixture();
    let (jwks, _, other) = f.files("other");
    let o = certbound(
        &[
            "verify-token",
            "--jwks",
            &jwks,
            "--cert",
            &other,
            &f.token(|_| {}),
        ],
        None,
    );
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    let binding = line(&out, "binding");
    assert!(
        binding.starts_with("FAIL") && binding.contains(&f.client_thumbprint),
        "{binding}"
    );
    assert!(line(&out, "signature").starts_with("PASS"));
    assert!(out.contains("result: refused (binding:"), "{out}");
}

#[test]
fn bound_token_without_cert_option_is_refused() {
    let f = fixture();
    let (jwks, _, _) = f.files("nocert");
    let o = certbound(&["verify-token", "--jwks", &jwks, &f.token(|_| {})], None);
    assert_eq!(o.status.code(), Some(1));
    assert!(line(&stdout(&o), "binding").contains("pass --cert"));
}

#[test]
fn expired_token_is_told_apart_from_a_wrong_key() {
    let f = fixture();
    let (jwks, client, _) = f.files("expired");
    let expired = f.token(|p| p.set_expires_at(&(SystemTime::now() - Duration::from_secs(7200))));
    let o = certbound(
        &["verify-token", "--jwks", &jwks, "--cert", &client, &expired],
        None,
    );
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(1));
    assert!(line(&out, "expiry").starts_with("FAIL"), "{out}");
    assert!(line(&out, "signature").starts_with("PASS"), "{out}");

    // Same token checked against another authorization server's keys.
    let stranger = fixture();
    let (other_jwks, _, _) = stranger.files("stranger");
    let o = certbound(
        &[
            "verify-token",
            "--jwks",
            &other_jwks,
            "--cert",
            &client,
            &f.token(|_| {}),
        ],
        None,
    );
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(1));
    assert!(line(&out, "signature").starts_with("FAIL"), "{out}");
    assert!(line(&out, "expiry").starts_with("PASS"), "{out}");
}

#[test]
fn wrong_issuer_and_audience_are_reported_in_json() {
    let f = fixture();
    let (jwks, client, _) = f.files("json");
    let token = f.token(|_| {});
    let o = certbound(
        &[
            "verify-token",
            "--jwks",
            &jwks,
            "--issuer",
            "https://other",
            "--audience",
            "other",
            "--cert",
            &client,
            "--json",
            "-",
        ],
        Some(format!("Bearer {token}\n").as_bytes()),
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let report: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report["passed"], false);
    let verdict = |name: &str| {
        report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap()["verdict"]
            .clone()
    };
    assert_eq!(verdict("issuer"), "fail");
    assert_eq!(verdict("audience"), "fail");
    assert_eq!(verdict("signature"), "pass");
    assert_eq!(verdict("binding"), "pass");
    assert_eq!(report["claims"]["sub"], "alice");
    assert_eq!(report["header"]["kid"], "k1");
}

#[test]
fn unsigned_and_garbage_tokens_are_refused() {
    let f = fixture();
    let (jwks, client, _) = f.files("none");
    let mut p = JwtPayload::new();
    p.set_subject("mallory");
    let mut h = JwsHeader::new();
    h.set_token_type("at+jwt");
    let none = jwt::encode_unsecured(&p, &h).unwrap();
    let o = certbound(
        &["verify-token", "--jwks", &jwks, "--cert", &client, &none],
        None,
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(line(&stdout(&o), "algorithm").starts_with("FAIL"));

    let o = certbound(&["verify-token", "--jwks", &jwks, "not-a-jwt"], None);
    assert_eq!(o.status.code(), Some(1));
    assert!(line(&stdout(&o), "format").starts_with("FAIL"));
}

#[test]
fn bad_input_exits_2() {
    let f = fixture();
    let (jwks, _, _) = f.files("bad");
    let token = f.token(|_| {});
    let missing = certbound(
        &["verify-token", "--jwks", "/nonexistent/jwks.json", &token],
        None,
    );
    assert_eq!(missing.status.code(), Some(2));
    assert!(stderr(&missing).starts_with("error: "));
    let not_jwks = temp_file("bad-not-jwks.json", b"{\"keys\": 3}");
    let o = certbound(
        &["verify-token", "--jwks", not_jwks.to_str().unwrap(), &token],
        None,
    );
    assert_eq!(o.status.code(), Some(2));
    let not_cert = temp_file("bad-cert.pem", b"hello");
    let o = certbound(
        &[
            "verify-token",
            "--jwks",
            &jwks,
            "--cert",
            not_cert.to_str().unwrap(),
            &token,
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(2));
    let o = certbound(&["verify-token", "--jwks", &jwks, "-"], Some(b"  \n"));
    assert_eq!(o.status.code(), Some(2));
}
