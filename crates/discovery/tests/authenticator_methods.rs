//! The method lists follow the certbound-auth `Authenticator`'s configuration.
#![cfg(feature = "auth")]

use std::collections::HashMap;

use certbound_auth::{
    Authenticator, RegisteredClient, SelfSignedTlsClientAuth, TlsClientAuth, TrustStore,
};
use certbound_discovery::{
    AuthorizationServerMetadata, BuildError, MetadataService, Profile, ValidationError,
};

fn authenticator(tls: bool, self_signed: bool) -> Authenticator {
    let mut builder = Authenticator::builder(HashMap::<String, RegisteredClient>::new());
    if tls {
        builder = builder.tls_client_auth(TlsClientAuth::new(TrustStore::new()));
    }
    if self_signed {
        builder = builder.self_signed_tls_client_auth(SelfSignedTlsClientAuth::new());
    }
    builder.build().unwrap()
}

fn methods_published(auth: &Authenticator) -> AuthorizationServerMetadata {
    AuthorizationServerMetadata::builder("https://as.example.com")
        .standard_endpoints()
        .authenticator(auth)
        .token_endpoint_auth_methods(["private_key_jwt", "client_secret_basic"])
        .build()
        .unwrap()
}

#[test]
fn methods_list_follows_the_authenticator_configuration() {
    let cases: [(bool, bool, &[&str]); 4] = [
        (true, false, &["tls_client_auth"]),
        (false, true, &["self_signed_tls_client_auth"]),
        (
            true,
            true,
            &["tls_client_auth", "self_signed_tls_client_auth"],
        ),
        (false, false, &[]),
    ];
    for (tls, self_signed, expected_mtls) in cases {
        let md = methods_published(&authenticator(tls, self_signed));

        // Introspection and revocation list exactly the authenticator's methods.
        let introspection = md.introspection_endpoint_auth_methods_supported.clone();
        let revocation = md.revocation_endpoint_auth_methods_supported.clone();
        if expected_mtls.is_empty() {
            assert_eq!(introspection, None);
            assert_eq!(revocation, None);
        } else {
            assert_eq!(
                introspection.unwrap(),
                expected_mtls,
                "tls={tls} self_signed={self_signed}"
            );
            assert_eq!(revocation.unwrap(), expected_mtls);
        }

        // The token endpoint: the authenticator's, then the server's others.
        let token = md.token_endpoint_auth_methods_supported.unwrap();
        let mut expected: Vec<&str> = expected_mtls.to_vec();
        expected.extend(["private_key_jwt", "client_secret_basic"]);
        assert_eq!(token, expected, "tls={tls} self_signed={self_signed}");
    }
}

#[test]
fn claiming_an_mtls_method_the_authenticator_does_not_run_is_refused() {
    let err = AuthorizationServerMetadata::builder("https://as.example.com")
        .standard_endpoints()
        .authenticator(&authenticator(false, true))
        .token_endpoint_auth_methods(["tls_client_auth", "self_signed_tls_client_auth"])
        .build()
        .unwrap_err();
    assert_eq!(
        err,
        BuildError::MtlsMethodNotEnabled {
            field: "token_endpoint_auth_methods_supported",
            method: "tls_client_auth".into()
        }
    );

    // Listing what the authenticator runs again is fine (de-duplicated).
    let md = AuthorizationServerMetadata::builder("https://as.example.com")
        .standard_endpoints()
        .authenticator(&authenticator(false, true))
        .auth_methods(["self_signed_tls_client_auth", "client_secret_basic"])
        .build()
        .unwrap();
    assert_eq!(
        md.introspection_endpoint_auth_methods_supported.unwrap(),
        ["self_signed_tls_client_auth", "client_secret_basic"]
    );
}

#[test]
fn authenticator_without_mtls_methods_fails_the_fapi_profile() {
    let err = AuthorizationServerMetadata::builder("https://as.example.com")
        .standard_endpoints()
        .tls_client_certificate_bound_access_tokens(true)
        .authenticator(&authenticator(false, false))
        .token_endpoint_auth_methods(["private_key_jwt"])
        .profile(Profile::Fapi)
        .build()
        .unwrap_err();
    let BuildError::Invalid(errors) = err else {
        panic!("expected a validation error, got {err:?}");
    };
    assert_eq!(errors.as_slice(), [ValidationError::NoMtlsAuthMethod]);

    AuthorizationServerMetadata::builder("https://as.example.com")
        .standard_endpoints()
        .tls_client_certificate_bound_access_tokens(true)
        .authenticator(&authenticator(false, true))
        .profile(Profile::Fapi)
        .build()
        .unwrap();
}

#[tokio::test]
async fn served_document_lists_the_authenticator_methods() {
    use tower::ServiceExt as _;

    let md = AuthorizationServerMetadata::builder("https://as.example.com")
        .standard_endpoints()
        .authenticator(&authenticator(true, false))
        .build()
        .unwrap();
    let response = MetadataService::new(&md)
        .unwrap()
        .oneshot(
            http::Request::get("/.well-known/oauth-authorization-server")
                .body(())
                .unwrap(),
        )
        .await
        .unwrap();
    let body = http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap()
        .to_bytes();
    let served = AuthorizationServerMetadata::from_json(&body).unwrap();
    assert_eq!(
        served.token_endpoint_auth_methods_supported.unwrap(),
        ["tls_client_auth"]
    );
}
