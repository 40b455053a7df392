//! The cache of successful `tls_client_auth` verifications: a returning
//! client does no signature check.

mod common;

use std::time::{Duration, SystemTime};

use certbound_auth::{AuthError, Authenticator, TlsClientAuth, registry_from_metadata};
use certbound_testkit::TestCa;
use common::*;

fn authenticator(
    ca: &TestCa,
    tls: impl FnOnce(TlsClientAuth) -> TlsClientAuth,
    clock: &TestClock,
) -> Authenticator {
    Authenticator::builder(
        registry_from_metadata([tls_client(
            "bank-1",
            "tls_client_auth_subject_dn",
            "CN=bank-1",
        )])
        .unwrap(),
    )
    .tls_client_auth(tls(TlsClientAuth::new(store(&[ca]))))
    .clock(clock.clone())
    .build()
    .unwrap()
}

#[tokio::test]
async fn second_authentication_does_no_signature_check() {
    let ca = TestCa::new("Client CA");
    let leaf = ca.leaf("bank-1").issue();
    let clock = TestClock::new();
    let auth = authenticator(&ca, |t| t, &clock);
    let cert = presented(&leaf, &[]);
    auth.authenticate("bank-1", Some(&cert)).await.unwrap();
    assert_eq!(auth.metrics().path_validations, 1);
    for _ in 0..5 {
        auth.authenticate("bank-1", Some(&cert)).await.unwrap();
    }
    assert_eq!(auth.metrics().path_validations, 1);
    assert_eq!(auth.metrics().cache_hits, 5);
}

#[tokio::test]
async fn expired_cache_entry_is_verified_again() {
    let ca = TestCa::new("Client CA");
    let leaf = ca.leaf("bank-1").issue();
    let clock = TestClock::new();
    let auth = authenticator(&ca, |t| t.cache_ttl(Duration::from_secs(600)), &clock);
    let cert = presented(&leaf, &[]);
    auth.authenticate("bank-1", Some(&cert)).await.unwrap();
    clock.advance(Duration::from_secs(601));
    auth.authenticate("bank-1", Some(&cert)).await.unwrap();
    assert_eq!(auth.metrics().path_validations, 2);
    assert_eq!(auth.metrics().cache_hits, 0);
}

#[tokio::test]
async fn cache_never_outlives_the_leaf() {
    let ca = TestCa::new("Client CA");
    let now = SystemTime::now();
    let leaf = ca
        .leaf("bank-1")
        .validity(now - DAY, now + Duration::from_secs(120))
        .issue();
    let clock = TestClock::new();
    let auth = authenticator(&ca, |t| t.cache_ttl(Duration::from_secs(3600)), &clock);
    let cert = presented(&leaf, &[]);
    auth.authenticate("bank-1", Some(&cert)).await.unwrap();
    clock.advance(Duration::from_secs(300));
    let err = auth.authenticate("bank-1", Some(&cert)).await.unwrap_err();
    assert!(matches!(err, AuthError::Expired), "{err:?}");
}

#[tokio::test]
async fn another_chain_or_subject_is_not_served_from_the_cache() {
    let root = TestCa::new("Root");
    let issuing = root.intermediate("Issuing");
    let leaf = issuing.leaf("bank-1").issue();
    let clock = TestClock::new();
    let auth = Authenticator::builder(
        registry_from_metadata([
            tls_client("bank-1", "tls_client_auth_subject_dn", "CN=bank-1"),
            tls_client("bank-2", "tls_client_auth_subject_dn", "CN=bank-2"),
        ])
        .unwrap(),
    )
    .tls_client_auth(TlsClientAuth::new(store(&[&root])).intermediate(cert(&issuing.cert)))
    .clock(clock.clone())
    .build()
    .unwrap();
    auth.authenticate("bank-1", Some(&presented(&leaf, &[])))
        .await
        .unwrap();
    // Same leaf with its intermediate sent: another key.
    auth.authenticate("bank-1", Some(&presented(&leaf, &[&issuing.cert])))
        .await
        .unwrap();
    assert_eq!(auth.metrics().path_validations, 2);
    // Another client with the same certificate is verified, and its subject
    // still decides.
    let err = auth
        .authenticate("bank-2", Some(&presented(&leaf, &[])))
        .await
        .unwrap_err();
    assert!(matches!(err, AuthError::SubjectMismatch { .. }), "{err:?}");
    assert_eq!(auth.metrics().path_validations, 3);
    let err = auth
        .authenticate("bank-2", Some(&presented(&leaf, &[])))
        .await
        .unwrap_err();
    assert!(matches!(err, AuthError::SubjectMismatch { .. }), "{err:?}");
    assert_eq!(auth.metrics().path_validations, 3);
}

#[tokio::test]
async fn failed_verifications_are_not_cached() {
    let ca = TestCa::new("Client CA");
    let stranger = TestCa::new("Stranger");
    let leaf = stranger.leaf("bank-1").issue();
    let clock = TestClock::new();
    let auth = authenticator(&ca, |t| t, &clock);
    for _ in 0..2 {
        auth.authenticate("bank-1", Some(&presented(&leaf, &[])))
            .await
            .unwrap_err();
    }
    assert_eq!(auth.metrics().path_validations, 2);
}

#[tokio::test]
async fn explain_does_not_use_the_cache() {
    let ca = TestCa::new("Client CA");
    let leaf = ca.leaf("bank-1").issue();
    let clock = TestClock::new();
    let auth = authenticator(&ca, |t| t, &clock);
    let cert = presented(&leaf, &[]);
    auth.authenticate("bank-1", Some(&cert)).await.unwrap();
    let report = auth.explain("bank-1", Some(&cert)).await;
    assert!(report.passed(), "{report}");
    assert_eq!(auth.metrics().path_validations, 2);
}

fn chain_authenticator(tls: TlsClientAuth, clock: &TestClock) -> Authenticator {
    Authenticator::builder(
        registry_from_metadata([tls_client(
            "bank-1",
            "tls_client_auth_subject_dn",
            "CN=bank-1",
        )])
        .unwrap(),
    )
    .tls_client_auth(tls)
    .clock(clock.clone())
    .build()
    .unwrap()
}

#[tokio::test]
async fn cache_never_outlives_an_intermediate() {
    let c = chain(None, SystemTime::now() + 2 * DAY);
    let clock = TestClock::new();
    let anchors = certbound_auth::TrustStore::from_certificates([cert(&c.root)]).unwrap();
    let tls = TlsClientAuth::new(anchors).cache_ttl(365 * DAY);
    let auth = chain_authenticator(tls, &clock);
    let cert = presented(&c.leaf, &[&c.intermediate]);
    auth.authenticate("bank-1", Some(&cert)).await.unwrap();
    clock.advance(DAY);
    auth.authenticate("bank-1", Some(&cert)).await.unwrap();
    assert_eq!(auth.metrics().cache_hits, 1);
    // Past the intermediate's notAfter (the leaf is still valid): verified
    // again, and refused.
    clock.advance(DAY + Duration::from_secs(60));
    let err = auth.authenticate("bank-1", Some(&cert)).await.unwrap_err();
    assert!(matches!(err, AuthError::Expired), "{err:?}");
    assert_eq!(auth.metrics().path_validations, 2);
    assert_eq!(auth.metrics().cache_hits, 1);
}

#[tokio::test]
async fn cache_never_outlives_the_trust_anchor() {
    // The root (the trust anchor) expires first; the intermediate and the
    // leaf outlive it.
    let c = chain_with(
        None,
        SystemTime::now() + 2 * DAY,
        SystemTime::now() + 3650 * DAY,
    );
    let clock = TestClock::new();
    let anchors = certbound_auth::TrustStore::from_certificates([cert(&c.root)]).unwrap();
    let tls = TlsClientAuth::new(anchors).cache_ttl(365 * DAY);
    let auth = chain_authenticator(tls, &clock);
    let cert = presented(&c.leaf, &[&c.intermediate]);
    auth.authenticate("bank-1", Some(&cert)).await.unwrap();
    clock.advance(DAY);
    auth.authenticate("bank-1", Some(&cert)).await.unwrap();
    assert_eq!(auth.metrics().cache_hits, 1);
    assert_eq!(auth.metrics().path_validations, 1);
    // Past the anchor's notAfter: not answered from the cache.
    clock.advance(DAY + Duration::from_secs(60));
    let _ = auth.authenticate("bank-1", Some(&cert)).await;
    assert_eq!(auth.metrics().path_validations, 2);
    assert_eq!(auth.metrics().cache_hits, 1);
}

#[tokio::test]
async fn cache_never_outlives_the_crl_it_relied_on() {
    // The test CA's CRLs have a nextUpdate a day ahead.
    let ca = TestCa::new("Client CA");
    let leaf = ca.leaf("bank-1").issue();
    let crl = ca.crl(&[]);
    let clock = TestClock::new();
    let auth = authenticator(&ca, |t| t.cache_ttl(365 * DAY).crl(&crl), &clock);
    let cert = presented(&leaf, &[]);
    auth.authenticate("bank-1", Some(&cert)).await.unwrap();
    clock.advance(DAY - Duration::from_secs(120));
    auth.authenticate("bank-1", Some(&cert)).await.unwrap();
    assert_eq!(auth.metrics().cache_hits, 1);
    // Past nextUpdate: verified again, and the stale CRL fails it.
    clock.advance(Duration::from_secs(180));
    let err = auth.authenticate("bank-1", Some(&cert)).await.unwrap_err();
    assert_eq!(auth.metrics().path_validations, 2, "{err:?}");
    assert_eq!(auth.metrics().cache_hits, 1);

    // Even when a stale CRL is accepted, nothing is cached past its nextUpdate.
    let clock = TestClock::new();
    let auth = authenticator(
        &ca,
        |t| {
            t.cache_ttl(365 * DAY)
                .crl(&crl)
                .danger_crl_grace_period(Duration::MAX)
        },
        &clock,
    );
    auth.authenticate("bank-1", Some(&cert)).await.unwrap();
    clock.advance(DAY + Duration::from_secs(60));
    auth.authenticate("bank-1", Some(&cert)).await.unwrap();
    auth.authenticate("bank-1", Some(&cert)).await.unwrap();
    assert_eq!(auth.metrics().path_validations, 3);
    assert_eq!(auth.metrics().cache_hits, 0);
}

#[tokio::test]
async fn cache_never_outlives_a_crl_of_an_intermediate() {
    let root = TestCa::new("Root");
    let issuing = root.intermediate("Issuing");
    let leaf = issuing.leaf("bank-1").issue();
    // Only the root's CRL (covering the intermediate) is configured.
    let crl = root.crl(&[]);
    let clock = TestClock::new();
    let auth = authenticator(&root, |t| t.cache_ttl(365 * DAY).crl(&crl), &clock);
    let cert = presented(&leaf, &[&issuing.cert]);
    auth.authenticate("bank-1", Some(&cert)).await.unwrap();
    clock.advance(DAY + Duration::from_secs(60));
    auth.authenticate("bank-1", Some(&cert)).await.unwrap_err();
    assert_eq!(auth.metrics().path_validations, 2);
    assert_eq!(auth.metrics().cache_hits, 0);
}

// A TTL too long to add to the time is bounded by the path's notAfter.
#[tokio::test]
async fn a_cache_ttl_too_long_to_add_is_bounded_by_the_path() {
    let ca = TestCa::new("Client CA");
    let leaf = ca.leaf("bank-1").issue();
    let clock = TestClock::new();
    let auth = authenticator(&ca, |t| t.cache_ttl(Duration::MAX), &clock);
    let cert = presented(&leaf, &[]);
    auth.authenticate("bank-1", Some(&cert)).await.unwrap();
    auth.authenticate("bank-1", Some(&cert)).await.unwrap();
    assert_eq!(auth.metrics().path_validations, 1);
    assert_eq!(auth.metrics().cache_hits, 1);
    // Past the leaf's notAfter (30 days), the entry is not served: the
    // client is refused as expired.
    clock.advance(31 * DAY);
    let err = auth.authenticate("bank-1", Some(&cert)).await.unwrap_err();
    assert!(matches!(err, AuthError::Expired), "{err:?}");
    assert_eq!(auth.metrics().cache_hits, 1);
}
