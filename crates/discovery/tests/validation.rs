//! One bad document per rule: each fails with exactly its own error, and the
//! error names the field.

use certbound_discovery::{Profile, ValidationError, check_document};
use serde_json::{Value, json};

/// A document that breaks no rule, FAPI's included.
fn good() -> Value {
    json!({
        "issuer": "https://as.example.com",
        "authorization_endpoint": "https://as.example.com/authorize",
        "token_endpoint": "https://as.example.com/token",
        "introspection_endpoint": "https://as.example.com/introspect",
        "jwks_uri": "https://as.example.com/jwks",
        "response_types_supported": ["code"],
        "token_endpoint_auth_methods_supported": ["tls_client_auth", "private_key_jwt"],
        "tls_client_certificate_bound_access_tokens": true,
        "mtls_endpoint_aliases": {
            "token_endpoint": "https://mtls.example.com/token",
            "introspection_endpoint": "https://mtls.example.com/introspect"
        }
    })
}

fn with(field: &str, value: Value) -> Value {
    let mut doc = good();
    doc[field] = value;
    doc
}

fn with_alias(key: &str, url: &str) -> Value {
    let mut doc = good();
    doc["mtls_endpoint_aliases"][key] = json!(url);
    doc
}

/// The only error of `doc` under `profile`.
fn only_error(doc: &Value, profile: Profile) -> ValidationError {
    let errors = check_document(doc, profile).unwrap_err().into_vec();
    assert_eq!(errors.len(), 1, "expected one error, got {errors:?}");
    errors.into_iter().next().unwrap()
}

#[test]
fn good_document_passes_every_profile() {
    check_document(&good(), Profile::Base).unwrap();
    check_document(&good(), Profile::Fapi).unwrap();
}

#[test]
fn aliases_that_are_not_an_object_are_refused() {
    let e = only_error(
        &with(
            "mtls_endpoint_aliases",
            json!(["https://mtls.example.com/token"]),
        ),
        Profile::Base,
    );
    assert_eq!(e, ValidationError::AliasesNotAnObject);
    assert_eq!(e.field(), "mtls_endpoint_aliases");
}

#[test]
fn alias_key_not_ending_in_endpoint_is_refused() {
    let e = only_error(
        &with_alias("jwks_uri", "https://mtls.example.com/jwks"),
        Profile::Base,
    );
    assert_eq!(
        e,
        ValidationError::AliasKeyNotEndpoint {
            key: "jwks_uri".into()
        }
    );
    assert_eq!(e.field(), "mtls_endpoint_aliases.jwks_uri");
}

#[test]
fn browser_facing_endpoint_alias_is_refused() {
    // The endpoints `Endpoint::is_browser_facing` names, which
    // `MtlsEndpointAliases::insert` refuses too.
    for (key, path) in [
        ("authorization_endpoint", "/authorize"),
        ("end_session_endpoint", "/logout"),
    ] {
        let mut doc = with_alias(key, &format!("https://mtls.example.com{path}"));
        doc[key] = json!(format!("https://as.example.com{path}"));
        let e = only_error(&doc, Profile::Base);
        assert_eq!(
            e,
            ValidationError::BrowserFacingEndpointAliased { key: key.into() }
        );
        assert_eq!(e.field(), format!("mtls_endpoint_aliases.{key}"));
        assert!(e.to_string().contains("browser-facing"), "{e}");
    }
    // Without it at the top level, it is still the browser-facing rule.
    let e = only_error(
        &with_alias("end_session_endpoint", "https://mtls.example.com/logout"),
        Profile::Base,
    );
    assert_eq!(
        e,
        ValidationError::BrowserFacingEndpointAliased {
            key: "end_session_endpoint".into()
        }
    );
}

#[test]
fn missing_response_types_supported_is_refused() {
    // RFC 8414 §2: REQUIRED, even without an authorization endpoint.
    let doc = json!({
        "issuer": "https://as.example.com",
        "token_endpoint": "https://as.example.com/token",
        "token_endpoint_auth_methods_supported": ["tls_client_auth"],
        "tls_client_certificate_bound_access_tokens": true
    });
    let e = only_error(&doc, Profile::Base);
    assert_eq!(e, ValidationError::MissingResponseTypes);
    assert_eq!(e.field(), "response_types_supported");

    let mut doc = good();
    doc.as_object_mut()
        .unwrap()
        .remove("response_types_supported");
    assert_eq!(
        only_error(&doc, Profile::Base),
        ValidationError::MissingResponseTypes
    );
}

#[test]
fn empty_response_types_supported_is_accepted() {
    let doc = json!({
        "issuer": "https://as.example.com",
        "token_endpoint": "https://as.example.com/token",
        "response_types_supported": []
    });
    check_document(&doc, Profile::Base).unwrap();
}

#[test]
fn response_types_supported_of_the_wrong_type_is_not_also_missing() {
    let e = only_error(
        &with("response_types_supported", json!("code")),
        Profile::Base,
    );
    assert_eq!(e.field(), "response_types_supported");
    assert!(matches!(e, ValidationError::WrongType { .. }), "{e:?}");
}

#[test]
fn alias_of_an_endpoint_missing_at_the_top_level_is_refused() {
    let e = only_error(
        &with_alias("revocation_endpoint", "https://mtls.example.com/revoke"),
        Profile::Base,
    );
    assert_eq!(
        e,
        ValidationError::AliasWithoutTopLevel {
            key: "revocation_endpoint".into()
        }
    );
    assert_eq!(e.field(), "mtls_endpoint_aliases.revocation_endpoint");
}

#[test]
fn plain_http_endpoint_is_refused() {
    let e = only_error(
        &with("token_endpoint", json!("http://as.example.com/token")),
        Profile::Base,
    );
    assert_eq!(
        e,
        ValidationError::NotHttps {
            field: "token_endpoint".into(),
            url: "http://as.example.com/token".into()
        }
    );
}

#[test]
fn plain_http_alias_is_refused() {
    let e = only_error(
        &with_alias("token_endpoint", "http://mtls.example.com/token"),
        Profile::Base,
    );
    assert_eq!(e.field(), "mtls_endpoint_aliases.token_endpoint");
    assert!(matches!(e, ValidationError::NotHttps { .. }));
}

#[test]
fn plain_http_issuer_is_refused() {
    let e = only_error(
        &with("issuer", json!("http://as.example.com")),
        Profile::Base,
    );
    assert_eq!(e.field(), "issuer");
    assert!(matches!(e, ValidationError::NotHttps { .. }));
}

#[test]
fn plain_http_on_loopback_is_accepted_for_development() {
    let doc = json!({
        "issuer": "http://127.0.0.1:8080",
        "token_endpoint": "http://localhost:8080/token",
        "jwks_uri": "http://[::1]:8080/jwks",
        "response_types_supported": [],
        "mtls_endpoint_aliases": {"token_endpoint": "http://127.0.0.1:8443/token"}
    });
    check_document(&doc, Profile::Base).unwrap();
}

#[test]
fn relative_url_is_refused() {
    let e = only_error(&with("jwks_uri", json!("/jwks")), Profile::Base);
    assert_eq!(
        e,
        ValidationError::NotAUrl {
            field: "jwks_uri".into(),
            url: "/jwks".into()
        }
    );
}

#[test]
fn issuer_with_a_query_is_refused() {
    let e = only_error(
        &with("issuer", json!("https://as.example.com?tenant=a")),
        Profile::Base,
    );
    assert!(matches!(e, ValidationError::IssuerHasQuery { .. }));
    assert_eq!(e.field(), "issuer");
}

#[test]
fn issuer_with_a_fragment_is_refused() {
    let e = only_error(
        &with("issuer", json!("https://as.example.com/#a")),
        Profile::Base,
    );
    assert!(matches!(e, ValidationError::IssuerHasFragment { .. }));
    assert_eq!(e.field(), "issuer");
}

#[test]
fn missing_issuer_is_refused() {
    let mut doc = good();
    doc.as_object_mut().unwrap().remove("issuer");
    assert_eq!(
        only_error(&doc, Profile::Base),
        ValidationError::MissingIssuer
    );
}

#[test]
fn field_of_the_wrong_type_is_named() {
    let e = only_error(
        &with("tls_client_certificate_bound_access_tokens", json!("true")),
        Profile::Base,
    );
    assert_eq!(e.field(), "tls_client_certificate_bound_access_tokens");
    assert!(matches!(e, ValidationError::WrongType { .. }));
}

#[test]
fn alias_that_is_not_a_string_is_named() {
    let mut doc = good();
    doc["mtls_endpoint_aliases"]["token_endpoint"] = json!(42);
    let e = only_error(&doc, Profile::Base);
    assert_eq!(e.field(), "mtls_endpoint_aliases.token_endpoint");
    assert!(matches!(e, ValidationError::WrongType { .. }));
}

#[test]
fn document_that_is_not_an_object_is_refused() {
    assert_eq!(
        only_error(&json!(["issuer"]), Profile::Base),
        ValidationError::NotAnObject
    );
}

#[test]
fn fapi_requires_bound_tokens_to_be_claimed() {
    let doc = with("tls_client_certificate_bound_access_tokens", json!(false));
    check_document(&doc, Profile::Base).unwrap();
    let e = only_error(&doc, Profile::Fapi);
    assert_eq!(e, ValidationError::BoundTokensNotClaimed);
    assert_eq!(e.field(), "tls_client_certificate_bound_access_tokens");
}

#[test]
fn fapi_requires_an_mtls_auth_method() {
    let doc = with(
        "token_endpoint_auth_methods_supported",
        json!(["private_key_jwt", "none"]),
    );
    check_document(&doc, Profile::Base).unwrap();
    let e = only_error(&doc, Profile::Fapi);
    assert_eq!(e, ValidationError::NoMtlsAuthMethod);
    assert_eq!(e.field(), "token_endpoint_auth_methods_supported");
}

#[test]
fn self_signed_method_satisfies_fapi() {
    let doc = with(
        "token_endpoint_auth_methods_supported",
        json!(["self_signed_tls_client_auth"]),
    );
    check_document(&doc, Profile::Fapi).unwrap();
}

#[test]
fn every_problem_of_a_document_is_listed() {
    let doc = json!({
        "issuer": "http://as.example.com?x#y",
        "token_endpoint": 7,
        "jwks_uri": "ftp://as.example.com/jwks",
        "mtls_endpoint_aliases": {
            "authorization_endpoint": "https://mtls.example.com/a",
            "userinfo_endpoint": "https://mtls.example.com/u"
        }
    });
    let errors = check_document(&doc, Profile::Fapi).unwrap_err();
    let fields: Vec<String> = errors.iter().map(ValidationError::field).collect();
    assert_eq!(
        fields,
        [
            "token_endpoint",
            "issuer",
            "issuer",
            "issuer",
            "response_types_supported",
            "jwks_uri",
            "mtls_endpoint_aliases.authorization_endpoint",
            "mtls_endpoint_aliases.userinfo_endpoint",
            "tls_client_certificate_bound_access_tokens",
            "token_endpoint_auth_methods_supported",
        ]
    );
}
