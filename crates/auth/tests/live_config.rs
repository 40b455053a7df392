//! The `tls_client_auth` configuration swapped at run time: a CA rollover,
//! a removed CA, new CRLs and a changed registration take effect at once,
//! even for verifications cached a moment before; the metrics go on
//! counting; the layer sees updates made through another handle.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::routing::post;
use certbound_auth::{
    AuthError, AuthenticatedClient, Authenticator, ClientAuthLayer, RegisteredClient,
    RegistryError, TlsClientAuth, registry_from_metadata,
};
use certbound_extract::header::HeaderFormat;
use certbound_extract::{ClientCertLayer, HeaderSource};
use certbound_testkit::TestCa;
use common::*;
use http::StatusCode;
use tower::ServiceExt as _;

const HOUR: Duration = Duration::from_secs(3600);

fn authenticator(tls: TlsClientAuth) -> Authenticator {
    Authenticator::builder(
        registry_from_metadata([tls_client(
            "bank-1",
            "tls_client_auth_subject_dn",
            "CN=bank-1",
        )])
        .unwrap(),
    )
    .tls_client_auth(tls.cache_ttl(HOUR))
    .build()
    .unwrap()
}

#[tokio::test]
async fn client_of_a_new_ca_is_accepted_after_the_swap() {
    let (old, new) = (TestCa::new("CA 2025"), TestCa::new("CA 2026"));
    let cert = presented(&new.leaf("bank-1").issue(), &[]);
    let auth = authenticator(TlsClientAuth::new(store(&[&old])));
    let err = auth.authenticate("bank-1", Some(&cert)).await.unwrap_err();
    assert!(matches!(err, AuthError::UnknownIssuer), "{err:?}");

    auth.update_tls_client_auth(TlsClientAuth::new(store(&[&old, &new])))
        .unwrap();
    auth.authenticate("bank-1", Some(&cert)).await.unwrap();
}

#[tokio::test]
async fn client_of_a_removed_ca_is_refused_even_when_its_verification_was_cached() {
    let (old, new) = (TestCa::new("CA 2025"), TestCa::new("CA 2026"));
    let cert = presented(&old.leaf("bank-1").issue(), &[]);
    let auth = authenticator(TlsClientAuth::new(store(&[&old, &new])));
    auth.authenticate("bank-1", Some(&cert)).await.unwrap();
    auth.authenticate("bank-1", Some(&cert)).await.unwrap();
    assert_eq!(auth.metrics().cache_hits, 1);

    auth.update_tls_client_auth(TlsClientAuth::new(store(&[&new])))
        .unwrap();
    let err = auth.authenticate("bank-1", Some(&cert)).await.unwrap_err();
    assert!(matches!(err, AuthError::UnknownIssuer), "{err:?}");
}

#[tokio::test]
async fn a_crl_given_in_an_update_refuses_a_cached_client() {
    let ca = TestCa::new("Client CA");
    let leaf = ca.leaf("bank-1").issue();
    let cert = presented(&leaf, &[]);
    let auth = authenticator(TlsClientAuth::new(store(&[&ca])).crl(&ca.crl(&[])));
    auth.authenticate("bank-1", Some(&cert)).await.unwrap();
    auth.authenticate("bank-1", Some(&cert)).await.unwrap();
    assert_eq!(auth.metrics().cache_hits, 1);

    auth.update_tls_client_auth(TlsClientAuth::new(store(&[&ca])).crl(&ca.crl(&[&leaf.serial])))
        .unwrap();
    let err = auth.authenticate("bank-1", Some(&cert)).await.unwrap_err();
    assert!(matches!(err, AuthError::Revoked), "{err:?}");
}

#[tokio::test]
async fn a_policy_added_by_an_update_applies_to_a_cached_client() {
    let ca = TestCa::new("Client CA");
    let cert = presented(&ca.leaf("bank-1").issue(), &[]);
    let auth = authenticator(TlsClientAuth::new(store(&[&ca])));
    auth.authenticate("bank-1", Some(&cert)).await.unwrap();
    auth.update_tls_client_auth(
        TlsClientAuth::new(store(&[&ca])).required_policy("1.3.6.1.4.1.99999.1"),
    )
    .unwrap();
    let err = auth.authenticate("bank-1", Some(&cert)).await.unwrap_err();
    assert!(matches!(err, AuthError::PolicyMissing { .. }), "{err:?}");
}

#[tokio::test]
async fn metrics_survive_a_swap() {
    let ca = TestCa::new("Client CA");
    let cert = presented(&ca.leaf("bank-1").issue(), &[]);
    let auth = authenticator(TlsClientAuth::new(store(&[&ca])));
    auth.authenticate("bank-1", Some(&cert)).await.unwrap();
    auth.authenticate("bank-1", Some(&cert)).await.unwrap();
    let before = auth.metrics();
    assert_eq!((before.path_validations, before.cache_hits), (1, 1));

    auth.update_tls_client_auth(TlsClientAuth::new(store(&[&ca])))
        .unwrap();
    auth.authenticate("bank-1", Some(&cert)).await.unwrap();
    auth.authenticate("bank-1", Some(&cert)).await.unwrap();
    let after = auth.metrics();
    // Verified again after the swap, then cached again.
    assert_eq!((after.path_validations, after.cache_hits), (2, 2));
}

#[tokio::test]
async fn a_changed_registration_is_not_served_from_the_cache() {
    let (a, b) = (TestCa::new("Own CA A"), TestCa::new("Own CA B"));
    let cert = presented(&a.leaf("bank-1").issue(), &[]);
    let registration = |ca: &TestCa| -> RegisteredClient {
        let mut m = tls_client("bank-1", "tls_client_auth_subject_dn", "CN=bank-1");
        m.certbound_trust_anchors = Some(vec![ca.cert.pem.clone()]);
        validated(m)
    };
    // A registry whose entry the test changes, as a database would.
    let current = Arc::new(Mutex::new(registration(&a)));
    let registry = {
        let current = current.clone();
        move |_id: String| {
            let c = current.lock().unwrap().clone();
            async move { Ok::<_, RegistryError>(Some(c)) }
        }
    };
    let auth = Authenticator::builder(registry)
        .tls_client_auth(TlsClientAuth::new(store(&[])).cache_ttl(HOUR))
        .build()
        .unwrap();
    auth.authenticate("bank-1", Some(&cert)).await.unwrap();
    auth.authenticate("bank-1", Some(&cert)).await.unwrap();
    assert_eq!(auth.metrics().cache_hits, 1);

    *current.lock().unwrap() = registration(&b);
    let err = auth.authenticate("bank-1", Some(&cert)).await.unwrap_err();
    assert!(matches!(err, AuthError::UnknownIssuer), "{err:?}");
}

async fn who(client: AuthenticatedClient) -> String {
    client.client_id().to_owned()
}

#[tokio::test]
async fn the_layer_sees_an_update_made_through_a_shared_handle() {
    let (old, new) = (TestCa::new("CA 2025"), TestCa::new("CA 2026"));
    let leaf = new.leaf("bank-1").issue();
    // The application keeps the authenticator behind an Arc to update it;
    // the layer holds a clone.
    let shared = Arc::new(authenticator(TlsClientAuth::new(store(&[&old]))));
    let source =
        HeaderSource::new(HeaderFormat::Rfc9440).trusted_proxies(["127.0.0.0/8".parse().unwrap()]);
    let app = Router::new()
        .route("/token", post(who))
        .layer(ClientAuthLayer::new(Authenticator::clone(&shared)))
        .layer(ClientCertLayer::header(source));
    let body = "grant_type=client_credentials&client_id=bank-1";

    let res = app
        .clone()
        .oneshot(request("/token", body, Some(&leaf)))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    shared
        .update_tls_client_auth(TlsClientAuth::new(store(&[&new])))
        .unwrap();
    let res = app
        .oneshot(request("/token", body, Some(&leaf)))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(text(res).await, "bank-1");
}

#[tokio::test]
async fn update_enables_tls_client_auth() {
    let ca = TestCa::new("Client CA");
    let cert = presented(&ca.leaf("bank-1").issue(), &[]);
    let auth = Authenticator::builder(
        registry_from_metadata([tls_client(
            "bank-1",
            "tls_client_auth_subject_dn",
            "CN=bank-1",
        )])
        .unwrap(),
    )
    .build()
    .unwrap();
    assert!(auth.supported_methods().is_empty());
    let err = auth.authenticate("bank-1", Some(&cert)).await.unwrap_err();
    assert!(matches!(err, AuthError::MethodNotEnabled { .. }), "{err:?}");
    auth.update_tls_client_auth(TlsClientAuth::new(store(&[&ca])))
        .unwrap();
    auth.authenticate("bank-1", Some(&cert)).await.unwrap();
    assert_eq!(auth.supported_methods().len(), 1);
}
