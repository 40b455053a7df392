//! The RFC 8705 §5 metadata example through the types, and a client picking
//! endpoints from it.

use certbound_discovery::{
    AuthorizationServerMetadata, ClientTransport, Endpoint, Profile, check_document,
};
use serde_json::Value;

/// RFC 8705 §5, the example authorization server metadata with
/// `mtls_endpoint_aliases` (verbatim, in certbound-testkit).
const RFC8705_SECTION5_EXAMPLE: &str = certbound_testkit::vectors::RFC8705_SECTION5_METADATA;

fn example() -> AuthorizationServerMetadata {
    AuthorizationServerMetadata::from_json(RFC8705_SECTION5_EXAMPLE.as_bytes()).unwrap()
}

#[test]
fn rfc8705_example_round_trips_through_the_types() {
    let original: Value = serde_json::from_str(RFC8705_SECTION5_EXAMPLE).unwrap();
    let md = example();
    assert!(md.extra.is_empty(), "every field of the example is typed");
    assert_eq!(serde_json::to_value(&md).unwrap(), original);
    let again = AuthorizationServerMetadata::from_json(md.to_json().as_bytes()).unwrap();
    assert_eq!(again, md);
}

#[test]
fn rfc8705_example_fields_land_in_their_typed_fields() {
    let md = example();
    assert_eq!(md.issuer, "https://server.example.com");
    assert!(md.issues_bound_tokens());
    assert_eq!(
        md.token_endpoint_auth_methods_supported.as_deref().unwrap(),
        ["tls_client_auth", "client_secret_basic", "none"]
    );
    let aliases = md.mtls_endpoint_aliases.as_ref().unwrap();
    assert_eq!(aliases.len(), 3);
    assert_eq!(
        aliases.get(Endpoint::Revocation),
        Some("https://mtls.example.com/revo")
    );
}

#[test]
fn rfc8705_example_passes_the_base_and_fapi_rules() {
    let doc: Value = serde_json::from_str(RFC8705_SECTION5_EXAMPLE).unwrap();
    let md = check_document(&doc, Profile::Fapi).unwrap();
    assert_eq!(md, example());
    assert!(md.validate().is_ok());
}

#[test]
fn mtls_client_calls_the_aliases_and_plain_client_the_top_level_endpoints() {
    let md = example();
    for (name, alias, top) in [
        (
            Endpoint::Token,
            "https://mtls.example.com/token",
            "https://server.example.com/token",
        ),
        (
            Endpoint::Revocation,
            "https://mtls.example.com/revo",
            "https://server.example.com/revo",
        ),
        (
            Endpoint::Introspection,
            "https://mtls.example.com/introspect",
            "https://server.example.com/introspect",
        ),
    ] {
        assert_eq!(md.endpoint_for(name, ClientTransport::Mtls), Some(alias));
        assert_eq!(md.endpoint_for(name, ClientTransport::Plain), Some(top));
    }
    // Not aliased: the top-level endpoint for everyone.
    assert_eq!(
        md.endpoint_for(Endpoint::Authorization, ClientTransport::Mtls),
        Some("https://server.example.com/authz")
    );
    assert_eq!(
        md.endpoint_for(Endpoint::JwksUri, ClientTransport::Mtls),
        Some("https://server.example.com/jwks")
    );
    assert_eq!(
        md.endpoint_for(Endpoint::Userinfo, ClientTransport::Mtls),
        None
    );
}

#[test]
fn builder_reproduces_the_rfc8705_example() {
    let built = AuthorizationServerMetadata::builder("https://server.example.com")
        .endpoint(Endpoint::Authorization, "https://server.example.com/authz")
        .endpoint(Endpoint::Token, "https://server.example.com/token")
        .endpoint(
            Endpoint::Introspection,
            "https://server.example.com/introspect",
        )
        .endpoint(Endpoint::Revocation, "https://server.example.com/revo")
        .endpoint(Endpoint::JwksUri, "https://server.example.com/jwks")
        .field(
            "response_modes_supported",
            serde_json::json!(["fragment", "query", "form_post"]),
        )
        .grant_types(["authorization_code", "refresh_token"])
        .token_endpoint_auth_methods(["tls_client_auth", "client_secret_basic", "none"])
        .tls_client_certificate_bound_access_tokens(true)
        .mtls_host("mtls.example.com")
        .build()
        .unwrap();
    assert_eq!(built, example());
}
