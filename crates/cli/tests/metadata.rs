//! Runs the `certbound metadata` subcommand.

mod support;

use std::process::Output;
use support::{certbound, stderr, stdout, temp_file};

use serde_json::Value;

fn json(o: &Output) -> Value {
    assert!(o.status.success(), "stderr: {}", stderr(o));
    serde_json::from_slice(&o.stdout).unwrap()
}

/// RFC 8705 §5, the example authorization server metadata with
/// `mtls_endpoint_aliases` (verbatim, in certbound-testkit).
const RFC8705_SECTION5_EXAMPLE: &str = certbound_testkit::vectors::RFC8705_SECTION5_METADATA;

#[test]
fn metadata_with_mtls_host_aliases_the_usual_back_channel_endpoints() {
    let o = certbound(
        &[
            "metadata",
            "--issuer",
            "https://as.example.com",
            "--mtls-host",
            "mtls.example.com",
            "--bound-tokens",
            "--method",
            "tls_client_auth",
            "--method",
            "client_secret_basic",
            "--method",
            "tls_client_auth",
        ],
        None,
    );
    let doc = json(&o);
    assert_eq!(doc["issuer"], "https://as.example.com");
    assert_eq!(doc["token_endpoint"], "https://as.example.com/token");
    assert_eq!(
        doc["pushed_authorization_request_endpoint"],
        "https://as.example.com/par"
    );
    assert_eq!(doc["jwks_uri"], "https://as.example.com/jwks");
    assert_eq!(doc["tls_client_certificate_bound_access_tokens"], true);
    assert_eq!(
        doc["token_endpoint_auth_methods_supported"],
        serde_json::json!(["tls_client_auth", "client_secret_basic"])
    );
    let aliases = doc["mtls_endpoint_aliases"].as_object().unwrap();
    assert_eq!(aliases["token_endpoint"], "https://mtls.example.com/token");
    assert_eq!(
        aliases["revocation_endpoint"],
        "https://mtls.example.com/revoke"
    );
    assert!(!aliases.contains_key("authorization_endpoint"));
    assert!(!aliases.contains_key("jwks_uri"));
}

#[test]
fn metadata_with_mtls_base_and_explicit_endpoints() {
    let o = certbound(
        &[
            "metadata",
            "--issuer",
            "https://as.example.com/t1",
            "--mtls-base",
            "https://mtls.example.com:8443/t1",
            "--endpoint",
            "authorization_endpoint=https://as.example.com/t1/authz",
            "--endpoint",
            "token_endpoint=https://as.example.com/t1/oauth/token",
        ],
        None,
    );
    let doc = json(&o);
    assert_eq!(
        doc["token_endpoint"],
        "https://as.example.com/t1/oauth/token"
    );
    assert!(
        doc.get("introspection_endpoint").is_none(),
        "only the given endpoints"
    );
    assert_eq!(
        doc["mtls_endpoint_aliases"],
        serde_json::json!({"token_endpoint": "https://mtls.example.com:8443/t1/oauth/token"})
    );
}

#[test]
fn endpoint_of_another_specification_is_kept_and_aliased() {
    let o = certbound(
        &[
            "metadata",
            "--issuer",
            "https://as.example.com",
            "--mtls-host",
            "mtls.example.com",
            "--endpoint",
            "token_endpoint=https://as.example.com/token",
            "--endpoint",
            "x_vendor_endpoint=https://as.example.com/vendor",
            "--endpoint",
            "jwks_uri=https://as.example.com/keys",
        ],
        None,
    );
    let doc = json(&o);
    assert_eq!(doc["x_vendor_endpoint"], "https://as.example.com/vendor");
    assert_eq!(doc["jwks_uri"], "https://as.example.com/keys");
    assert_eq!(
        doc["mtls_endpoint_aliases"],
        serde_json::json!({
            "token_endpoint": "https://mtls.example.com/token",
            "x_vendor_endpoint": "https://mtls.example.com/vendor"
        })
    );
}

#[test]
fn generated_document_passes_the_fapi_check() {
    let made = certbound(
        &[
            "metadata",
            "--issuer",
            "https://as.example.com",
            "--mtls-host",
            "mtls.example.com",
            "--bound-tokens",
            "--method",
            "self_signed_tls_client_auth",
        ],
        None,
    );
    assert!(made.status.success(), "{}", stderr(&made));
    let o = certbound(
        &["metadata", "--check", "-", "--profile", "fapi"],
        Some(&made.stdout),
    );
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert_eq!(stdout(&o).trim(), "ok");
}

#[test]
fn metadata_for_a_plain_http_issuer_is_refused_naming_the_field() {
    let o = certbound(&["metadata", "--issuer", "http://as.example.com"], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty());
    assert!(
        stderr(&o).contains("issuer: must use https"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn metadata_on_loopback_may_use_http() {
    let o = certbound(&["metadata", "--issuer", "http://127.0.0.1:8080"], None);
    assert_eq!(json(&o)["token_endpoint"], "http://127.0.0.1:8080/token");
}

#[test]
fn fapi_profile_on_generation_requires_bound_tokens() {
    let o = certbound(
        &[
            "metadata",
            "--issuer",
            "https://as.example.com",
            "--profile",
            "fapi",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("tls_client_certificate_bound_access_tokens"),
        "{err}"
    );
    assert!(
        err.contains("token_endpoint_auth_methods_supported"),
        "{err}"
    );
}

#[test]
fn mtls_base_and_mtls_host_together_are_refused() {
    let o = certbound(
        &[
            "metadata",
            "--issuer",
            "https://as.example.com",
            "--mtls-base",
            "https://mtls.example.com",
            "--mtls-host",
            "mtls.example.com",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn endpoint_without_equals_is_refused() {
    let o = certbound(
        &[
            "metadata",
            "--issuer",
            "https://as.example.com",
            "--endpoint",
            "token_endpoint",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("NAME=URL"), "{}", stderr(&o));
}

#[test]
fn check_accepts_the_rfc8705_example_in_every_profile() {
    let path = temp_file("rfc8705.json", RFC8705_SECTION5_EXAMPLE.as_bytes());
    for profile in ["base", "fapi"] {
        let o = certbound(
            &[
                "metadata",
                "--check",
                path.to_str().unwrap(),
                "--profile",
                profile,
            ],
            None,
        );
        assert_eq!(o.status.code(), Some(0), "{profile}: {}", stdout(&o));
        assert_eq!(stdout(&o).trim(), "ok");
    }
}

#[test]
fn check_lists_each_problem_and_exits_1() {
    let bad = serde_json::json!({
        "issuer": "https://as.example.com?x=1",
        "response_types_supported": ["code"],
        "authorization_endpoint": "https://as.example.com/authorize",
        "token_endpoint": "http://as.example.com/token",
        "mtls_endpoint_aliases": {
            "authorization_endpoint": "https://mtls.example.com/authorize",
            "revocation_endpoint": "https://mtls.example.com/revoke"
        }
    });
    let path = temp_file("bad.json", bad.to_string().as_bytes());
    let o = certbound(&["metadata", "--check", path.to_str().unwrap()], None);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 4, "{out}");
    assert!(
        lines[0].starts_with("issuer: must not have a query"),
        "{out}"
    );
    assert!(
        lines[1].starts_with("token_endpoint: must use https"),
        "{out}"
    );
    assert!(
        lines[2].starts_with("mtls_endpoint_aliases.authorization_endpoint:"),
        "{out}"
    );
    assert!(
        lines[3].starts_with("mtls_endpoint_aliases.revocation_endpoint:"),
        "{out}"
    );
    assert!(stderr(&o).contains("4 problems"), "{}", stderr(&o));
}

#[test]
fn check_with_fapi_profile_refuses_unbound_tokens() {
    let doc = RFC8705_SECTION5_EXAMPLE.replace(
        r#""tls_client_certificate_bound_access_tokens": true"#,
        r#""tls_client_certificate_bound_access_tokens": false"#,
    );
    let base = certbound(&["metadata", "--check", "-"], Some(doc.as_bytes()));
    assert_eq!(base.status.code(), Some(0));
    let fapi = certbound(
        &["metadata", "--check", "-", "--profile", "fapi"],
        Some(doc.as_bytes()),
    );
    assert_eq!(fapi.status.code(), Some(1));
    assert!(stdout(&fapi).starts_with("tls_client_certificate_bound_access_tokens:"));
}

#[test]
fn check_of_aliases_that_are_not_an_object_names_the_field() {
    let doc = r#"{"issuer":"https://as.example.com","response_types_supported":["code"],"mtls_endpoint_aliases":"https://mtls.example.com"}"#;
    let o = certbound(&["metadata", "--check", "-"], Some(doc.as_bytes()));
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stdout(&o).trim(),
        "mtls_endpoint_aliases: not a JSON object"
    );
}

#[test]
fn check_of_a_file_that_is_not_json_is_bad_input() {
    let o = certbound(
        &["metadata", "--check", "-"],
        Some(b"issuer: https://as.example.com"),
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("not JSON"), "{}", stderr(&o));
}

#[test]
fn unknown_profile_is_refused() {
    let o = certbound(
        &["metadata", "--check", "-", "--profile", "strict"],
        Some(b"{}"),
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("unknown profile"), "{}", stderr(&o));
}

#[test]
fn issuer_and_check_together_are_refused() {
    let o = certbound(
        &[
            "metadata",
            "--issuer",
            "https://as.example.com",
            "--check",
            "-",
        ],
        Some(b"{}"),
    );
    assert_eq!(o.status.code(), Some(2));
}
