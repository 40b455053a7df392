//! `self_signed_tls_client_auth` (RFC 8705 §2.2): the leaf's `x5t#S256`
//! against `x5c[0]` of the registered keys, no chain or date checks.

mod common;

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use certbound_auth::{
    AuthError, Authenticator, ClientJwks, ClientMetadata, JwksFetchError, SelfSignedTlsClientAuth,
    TokenEndpointAuthMethod, registry_from_metadata,
};
use certbound_testkit::{TestCert, self_signed};
use common::*;

fn inline_client(certs: &[&TestCert]) -> ClientMetadata {
    let mut m = ClientMetadata::new("device-1", TokenEndpointAuthMethod::SelfSignedTlsClientAuth);
    let certs: Vec<_> = certs.iter().map(|c| cert(c)).collect();
    m.jwks = Some(ClientJwks::from_certificates(&certs));
    m
}

fn inline(certs: &[&TestCert]) -> Authenticator {
    Authenticator::builder(registry_from_metadata([inline_client(certs)]).unwrap())
        .self_signed_tls_client_auth(SelfSignedTlsClientAuth::new())
        .build()
        .unwrap()
}

#[tokio::test]
async fn right_certificate_authenticates() {
    let mine = self_signed("device-1").issue();
    let got = inline(&[&mine])
        .authenticate("device-1", Some(&presented(&mine, &[])))
        .await
        .unwrap();
    assert_eq!(
        got.method(),
        &TokenEndpointAuthMethod::SelfSignedTlsClientAuth
    );
    assert_eq!(got.thumbprint(), cert(&mine).thumbprint());
}

#[tokio::test]
async fn wrong_certificate_is_refused() {
    let mine = self_signed("device-1").issue();
    // Same subject, other key: a different certificate.
    let other = self_signed("device-1").issue();
    let err = inline(&[&mine])
        .authenticate("device-1", Some(&presented(&other, &[])))
        .await
        .unwrap_err();
    assert!(
        matches!(err, AuthError::CertificateNotRegistered),
        "{err:?}"
    );
    assert_eq!(err.to_oauth_error().status(), 401);
}

#[tokio::test]
async fn no_certificate_is_refused() {
    let mine = self_signed("device-1").issue();
    let err = inline(&[&mine])
        .authenticate("device-1", None)
        .await
        .unwrap_err();
    assert!(matches!(err, AuthError::NoCertificate), "{err:?}");
}

#[tokio::test]
async fn expired_and_not_yet_valid_certificates_are_accepted() {
    // RFC 8705 §2.2: no date checks for self-signed certificates.
    let now = SystemTime::now();
    let expired = self_signed("device-1")
        .validity(now - 30 * DAY, now - DAY)
        .issue();
    let future = self_signed("device-1")
        .validity(now + DAY, now + 30 * DAY)
        .issue();
    let auth = inline(&[&expired, &future]);
    for c in [&expired, &future] {
        auth.authenticate("device-1", Some(&presented(c, &[])))
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn chain_is_not_checked() {
    // An unrelated "intermediate" sent along changes nothing.
    let mine = self_signed("device-1").issue();
    let junk = self_signed("junk").issue();
    inline(&[&mine])
        .authenticate("device-1", Some(&presented(&mine, &[&junk])))
        .await
        .unwrap();
}

#[tokio::test]
async fn two_registered_certificates_both_work_for_rotation() {
    let old = self_signed("device-1").issue();
    let new = self_signed("device-1").issue();
    let auth = inline(&[&old, &new]);
    for c in [&old, &new] {
        auth.authenticate("device-1", Some(&presented(c, &[])))
            .await
            .unwrap();
    }
}

/// A key set server the test controls, counting fetches.
#[derive(Clone, Default)]
struct KeySet {
    certs: Arc<Mutex<Vec<TestCert>>>,
    fetches: Arc<AtomicUsize>,
    fail: Arc<Mutex<bool>>,
}

impl KeySet {
    fn set(&self, certs: &[&TestCert]) {
        *self.certs.lock().unwrap() = certs.iter().map(|c| (*c).clone()).collect();
    }

    fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }

    fn authenticator(&self, clock: &TestClock) -> Authenticator {
        self.authenticator_with(clock, |s| s)
    }

    fn authenticator_with(
        &self,
        clock: &TestClock,
        configure: impl FnOnce(SelfSignedTlsClientAuth) -> SelfSignedTlsClientAuth,
    ) -> Authenticator {
        let mut m =
            ClientMetadata::new("device-1", TokenEndpointAuthMethod::SelfSignedTlsClientAuth);
        m.jwks_uri = Some("https://device.example/jwks.json".into());
        let keys = self.clone();
        let fetcher = move |uri: String| {
            let keys = keys.clone();
            async move {
                assert_eq!(uri, "https://device.example/jwks.json");
                keys.fetches.fetch_add(1, Ordering::SeqCst);
                if *keys.fail.lock().unwrap() {
                    return Err(JwksFetchError::new("connection refused"));
                }
                let certs: Vec<_> = keys.certs.lock().unwrap().iter().map(cert).collect();
                Ok(ClientJwks::from_certificates(&certs))
            }
        };
        Authenticator::builder(registry_from_metadata([m]).unwrap())
            .self_signed_tls_client_auth(configure(
                SelfSignedTlsClientAuth::new()
                    .jwks_fetcher(fetcher)
                    .jwks_ttl(Duration::from_secs(3600))
                    .min_refetch_interval(Duration::from_secs(60)),
            ))
            .clock(clock.clone())
            .build()
            .unwrap()
    }
}

#[tokio::test]
async fn jwks_uri_set_is_fetched_once_and_cached() {
    let mine = self_signed("device-1").issue();
    let keys = KeySet::default();
    keys.set(&[&mine]);
    let clock = TestClock::new();
    let auth = keys.authenticator(&clock);
    for _ in 0..3 {
        auth.authenticate("device-1", Some(&presented(&mine, &[])))
            .await
            .unwrap();
    }
    assert_eq!(keys.fetches(), 1);
    // After the TTL the set is fetched again.
    clock.advance(Duration::from_secs(3601));
    auth.authenticate("device-1", Some(&presented(&mine, &[])))
        .await
        .unwrap();
    assert_eq!(keys.fetches(), 2);
}

#[tokio::test]
async fn miss_triggers_one_refetch_and_a_second_miss_within_the_interval_does_not() {
    let old = self_signed("device-1").issue();
    let new = self_signed("device-1").issue();
    let unknown = self_signed("device-1").issue();
    let keys = KeySet::default();
    keys.set(&[&old]);
    let clock = TestClock::new();
    let auth = keys.authenticator(&clock);
    auth.authenticate("device-1", Some(&presented(&old, &[])))
        .await
        .unwrap();
    assert_eq!(keys.fetches(), 1);

    // The client rotates: the cached set misses, one refetch finds it.
    keys.set(&[&old, &new]);
    clock.advance(Duration::from_secs(120));
    auth.authenticate("device-1", Some(&presented(&new, &[])))
        .await
        .unwrap();
    assert_eq!(keys.fetches(), 2);

    // A certificate that is in no set: the miss within the interval does
    // not refetch.
    clock.advance(Duration::from_secs(10));
    let err = auth
        .authenticate("device-1", Some(&presented(&unknown, &[])))
        .await
        .unwrap_err();
    assert!(
        matches!(err, AuthError::CertificateNotRegistered),
        "{err:?}"
    );
    assert_eq!(keys.fetches(), 2);

    // After the interval a miss may refetch again.
    clock.advance(Duration::from_secs(60));
    auth.authenticate("device-1", Some(&presented(&unknown, &[])))
        .await
        .unwrap_err();
    assert_eq!(keys.fetches(), 3);
}

#[tokio::test]
async fn unreachable_jwks_uri_is_refused() {
    let mine = self_signed("device-1").issue();
    let keys = KeySet::default();
    *keys.fail.lock().unwrap() = true;
    let clock = TestClock::new();
    let err = keys
        .authenticator(&clock)
        .authenticate("device-1", Some(&presented(&mine, &[])))
        .await
        .unwrap_err();
    assert!(matches!(err, AuthError::JwksUnavailable(_)), "{err:?}");
    assert_eq!(err.to_oauth_error().code(), Some("invalid_client"));
}

#[tokio::test]
async fn failing_jwks_uri_is_not_hammered() {
    let mine = self_signed("device-1").issue();
    let keys = KeySet::default();
    *keys.fail.lock().unwrap() = true;
    let clock = TestClock::new();
    let auth = keys.authenticator(&clock);
    for _ in 0..3 {
        auth.authenticate("device-1", Some(&presented(&mine, &[])))
            .await
            .unwrap_err();
    }
    assert_eq!(keys.fetches(), 1);
    // Back up after the interval.
    *keys.fail.lock().unwrap() = false;
    keys.set(&[&mine]);
    clock.advance(Duration::from_secs(61));
    auth.authenticate("device-1", Some(&presented(&mine, &[])))
        .await
        .unwrap();
    assert_eq!(keys.fetches(), 2);
}

#[tokio::test]
async fn stale_set_is_kept_when_the_refetch_fails() {
    let mine = self_signed("device-1").issue();
    let keys = KeySet::default();
    keys.set(&[&mine]);
    let clock = TestClock::new();
    let auth = keys.authenticator(&clock);
    auth.authenticate("device-1", Some(&presented(&mine, &[])))
        .await
        .unwrap();
    *keys.fail.lock().unwrap() = true;
    clock.advance(Duration::from_secs(3601));
    auth.authenticate("device-1", Some(&presented(&mine, &[])))
        .await
        .unwrap();
    assert_eq!(keys.fetches(), 2);
}

#[tokio::test]
async fn a_set_past_its_maximum_age_is_not_served_when_the_refetch_fails() {
    let mine = self_signed("device-1").issue();
    let keys = KeySet::default();
    keys.set(&[&mine]);
    let clock = TestClock::new();
    // The default maximum age: one day.
    let auth = keys.authenticator(&clock);
    auth.authenticate("device-1", Some(&presented(&mine, &[])))
        .await
        .unwrap();
    *keys.fail.lock().unwrap() = true;

    // Stale but younger than a day: kept.
    clock.advance(DAY - Duration::from_secs(60));
    auth.authenticate("device-1", Some(&presented(&mine, &[])))
        .await
        .unwrap();
    assert_eq!(keys.fetches(), 2);

    // A day old: the failed refetch refuses the client.
    clock.advance(Duration::from_secs(61));
    let err = auth
        .authenticate("device-1", Some(&presented(&mine, &[])))
        .await
        .unwrap_err();
    assert!(matches!(err, AuthError::JwksUnavailable(_)), "{err:?}");
    assert_eq!(keys.fetches(), 3);

    // Within the refetch interval, the old set is not served either.
    clock.advance(Duration::from_secs(1));
    let err = auth
        .authenticate("device-1", Some(&presented(&mine, &[])))
        .await
        .unwrap_err();
    assert!(matches!(err, AuthError::JwksUnavailable(_)), "{err:?}");
    assert_eq!(keys.fetches(), 3);

    // The host comes back: the client works again.
    *keys.fail.lock().unwrap() = false;
    clock.advance(Duration::from_secs(60));
    auth.authenticate("device-1", Some(&presented(&mine, &[])))
        .await
        .unwrap();
    assert_eq!(keys.fetches(), 4);
}

#[tokio::test]
async fn a_shorter_maximum_age_is_honoured() {
    let mine = self_signed("device-1").issue();
    let keys = KeySet::default();
    keys.set(&[&mine]);
    let clock = TestClock::new();
    let auth = keys.authenticator_with(&clock, |s| {
        s.jwks_ttl(Duration::from_secs(600))
            .jwks_max_age(Duration::from_secs(1800))
    });
    auth.authenticate("device-1", Some(&presented(&mine, &[])))
        .await
        .unwrap();
    *keys.fail.lock().unwrap() = true;
    clock.advance(Duration::from_secs(1200));
    auth.authenticate("device-1", Some(&presented(&mine, &[])))
        .await
        .unwrap();
    clock.advance(Duration::from_secs(600));
    auth.authenticate("device-1", Some(&presented(&mine, &[])))
        .await
        .unwrap_err();
}

// Periods too long to add to the time mean "forever", not a panic.
#[tokio::test]
async fn periods_too_long_to_add_do_not_panic() {
    let mine = self_signed("device-1").issue();
    let keys = KeySet::default();
    keys.set(&[&mine]);
    let clock = TestClock::new();
    let auth = keys.authenticator_with(&clock, |s| {
        s.jwks_ttl(Duration::MAX)
            .jwks_max_age(Duration::MAX)
            .min_refetch_interval(Duration::MAX)
    });
    let other = self_signed("device-1").issue();
    for _ in 0..2 {
        auth.authenticate("device-1", Some(&presented(&mine, &[])))
            .await
            .unwrap();
    }
    // Not in the set, and no refetch within an interval that never ends.
    auth.authenticate("device-1", Some(&presented(&other, &[])))
        .await
        .unwrap_err();
    assert_eq!(keys.fetches(), 1);
}

/// `clients` self-signed clients, each with its own `jwks_uri`, every set
/// holding `mine`; returns the authenticator and the fetch counter.
fn many_jwks_uris(
    clients: usize,
    mine: &TestCert,
    configure: impl FnOnce(SelfSignedTlsClientAuth) -> SelfSignedTlsClientAuth,
) -> (Authenticator, Arc<AtomicUsize>) {
    let registrations = (0..clients).map(|i| {
        let mut m = ClientMetadata::new(
            format!("device-{i}"),
            TokenEndpointAuthMethod::SelfSignedTlsClientAuth,
        );
        m.jwks_uri = Some(format!("https://device-{i}.example/jwks.json"));
        m
    });
    let fetches = Arc::new(AtomicUsize::new(0));
    let (count, set) = (
        fetches.clone(),
        ClientJwks::from_certificates([&cert(mine)]),
    );
    let fetcher = move |_uri: String| {
        count.fetch_add(1, Ordering::SeqCst);
        std::future::ready(Ok::<_, JwksFetchError>(set.clone()))
    };
    let auth = Authenticator::builder(registry_from_metadata(registrations).unwrap())
        .self_signed_tls_client_auth(configure(
            SelfSignedTlsClientAuth::new()
                .jwks_fetcher(fetcher)
                .jwks_ttl(DAY),
        ))
        .build()
        .unwrap();
    (auth, fetches)
}

#[tokio::test]
async fn the_key_set_cache_is_bounded() {
    const CLIENTS: usize = 200;
    let mine = self_signed("device").issue();
    let cert = presented(&mine, &[]);
    for (capacity, kept_at_most) in [(None, CLIENTS), (Some(10), CLIENTS / 2)] {
        let (auth, fetches) = many_jwks_uris(CLIENTS, &mine, |s| match capacity {
            Some(n) => s.jwks_cache_capacity(n),
            None => s,
        });
        for i in 0..CLIENTS {
            auth.authenticate(&format!("device-{i}"), Some(&cert))
                .await
                .unwrap();
        }
        assert_eq!(fetches.load(Ordering::SeqCst), CLIENTS);
        // A second round: a set still cached is not fetched again (the TTL
        // is a day), an evicted one is.
        for i in 0..CLIENTS {
            auth.authenticate(&format!("device-{i}"), Some(&cert))
                .await
                .unwrap();
        }
        let kept = 2 * CLIENTS - fetches.load(Ordering::SeqCst);
        match capacity {
            // Unbounded for this many: every set kept.
            None => assert_eq!(kept, CLIENTS),
            // About ten sets (the cache's capacity is approximate), far
            // fewer than the clients.
            Some(_) => assert!(kept <= kept_at_most, "{kept} of {CLIENTS} sets kept"),
        }
    }
}
