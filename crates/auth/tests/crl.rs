//! CRL sources for `tls_client_auth`, over a real HTTP server on loopback:
//! refreshed in the background before nextUpdate, a revocation seen after a
//! refresh even when the verification was cached, fail closed past
//! nextUpdate (or within a grace period), CRLs of the wrong issuer or with a
//! bad signature not used, a source kept to its issuer, files read again,
//! distribution points followed (only those of a verified path).

mod common;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use certbound_auth::{
    AuthError, Authenticator, ConfigError, CrlFetchError, CrlFetcher, TlsClientAuth, Verdict,
    registry_from_metadata,
};
use certbound_fetch::Fetcher;
use certbound_testkit::rcgen::CrlDistributionPoint;
use certbound_testkit::{TestCa, TestCert};
use common::*;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

const HOUR: Duration = Duration::from_secs(3600);

/// A CRL publisher on 127.0.0.1: serves the bytes it is given at any path,
/// or 503 when it has none; remembers when it was asked.
struct CrlServer {
    addr: SocketAddr,
    body: Arc<Mutex<Option<Vec<u8>>>>,
    hits: Arc<Mutex<Vec<SystemTime>>>,
    task: JoinHandle<()>,
}

impl CrlServer {
    async fn start(body: Option<Vec<u8>>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let body = Arc::new(Mutex::new(body));
        let hits = Arc::new(Mutex::new(Vec::new()));
        let (b, h) = (body.clone(), hits.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let (b, h) = (b.clone(), h.clone());
                tokio::spawn(async move {
                    let service = service_fn(move |_req: Request<hyper::body::Incoming>| {
                        h.lock().unwrap().push(SystemTime::now());
                        let res = match b.lock().unwrap().clone() {
                            Some(crl) => Response::new(Full::new(Bytes::from(crl))),
                            None => {
                                let mut res = Response::new(Full::new(Bytes::new()));
                                *res.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
                                res
                            }
                        };
                        async move { Ok::<_, std::convert::Infallible>(res) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Self {
            addr,
            body,
            hits,
            task,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}/{path}", self.addr)
    }

    fn serve(&self, body: Option<Vec<u8>>) {
        *self.body.lock().unwrap() = body;
    }

    fn hits(&self) -> Vec<SystemTime> {
        self.hits.lock().unwrap().clone()
    }
}

impl Drop for CrlServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// certbound-fetch's operator fetcher: plain http allowed for CRLs.
fn http_fetcher() -> impl CrlFetcher {
    Fetcher::for_operator_urls()
        .crypto_provider(certbound_testkit::tls::provider())
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

fn authenticator(tls: TlsClientAuth, clock: &TestClock) -> Authenticator {
    Authenticator::builder(
        registry_from_metadata([
            tls_client("bank-1", "tls_client_auth_subject_dn", "CN=bank-1"),
            tls_client("bank-2", "tls_client_auth_subject_dn", "CN=bank-2"),
        ])
        .unwrap(),
    )
    .tls_client_auth(tls)
    .clock(clock.clone())
    .build()
    .unwrap()
}

/// A CRL of `ca` revoking `revoked`, issued `age` ago and valid `ahead`.
fn crl(ca: &TestCa, revoked: &[&TestCert], age: Duration, ahead: Duration) -> Vec<u8> {
    let serials: Vec<&[u8]> = revoked.iter().map(|c| c.serial.as_slice()).collect();
    let now = SystemTime::now();
    ca.crl_with(&serials, now - age, now + ahead)
}

/// A CRL fetcher that records every URL asked for and serves the bytes
/// registered for it (an error for any other URL).
#[derive(Clone, Default)]
struct RecordingFetcher {
    asked: Arc<Mutex<Vec<String>>>,
    bodies: Arc<Mutex<HashMap<String, Vec<u8>>>>,
}

impl RecordingFetcher {
    fn serve(&self, url: &str, body: Vec<u8>) {
        self.bodies.lock().unwrap().insert(url.to_owned(), body);
    }

    fn asked(&self) -> Vec<String> {
        self.asked.lock().unwrap().clone()
    }

    fn fetcher(&self) -> impl CrlFetcher {
        let (asked, bodies) = (self.asked.clone(), self.bodies.clone());
        move |url: String| {
            asked.lock().unwrap().push(url.clone());
            let body = bodies.lock().unwrap().get(&url).cloned();
            std::future::ready(body.ok_or_else(|| CrlFetchError::new(format!("404 {url}"))))
        }
    }
}

/// Sets the CRL distribution point URIs of a certificate.
fn with_dps(urls: Vec<String>) -> impl FnOnce(&mut certbound_testkit::rcgen::CertificateParams) {
    move |p| p.crl_distribution_points = vec![CrlDistributionPoint { uris: urls }]
}

/// Polls `f` every 50 ms for up to 20 s until it is true.
async fn eventually(what: &str, mut f: impl AsyncFnMut() -> bool) {
    for _ in 0..400 {
        if f().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("not within 20 s: {what}");
}

fn revocation_verdict(
    report: &certbound_auth::Report<certbound_auth::AuthenticatedClient, AuthError>,
) -> (Verdict, String) {
    let check = report
        .checks
        .iter()
        .find(|c| c.name == "revocation")
        .expect("a revocation check");
    (check.verdict, check.detail.clone())
}

#[tokio::test]
async fn crl_url_is_refreshed_before_its_next_update() {
    let ca = TestCa::new("Client CA");
    let leaf = ca.leaf("bank-1").issue();
    let first = crl(&ca, &[], HOUR, Duration::from_secs(20));
    let server = CrlServer::start(Some(first)).await;
    let clock = TestClock::new();
    let auth = authenticator(
        TlsClientAuth::new(store(&[&ca]))
            .crl_url(server.url("ca.crl"))
            .crl_fetcher(http_fetcher())
            // The interval alone would wait an hour: nextUpdate decides.
            .crl_refresh_interval(HOUR)
            .crl_refresh_margin(Duration::from_secs(18)),
        &clock,
    );
    auth.refresh_crls().await;
    assert_eq!(auth.metrics().crl_updates, 1);
    let next_update = SystemTime::now() + Duration::from_secs(19);
    // The publisher's next CRL revokes the client.
    server.serve(Some(crl(&ca, &[&leaf], Duration::ZERO, HOUR)));
    let cert = presented(&leaf, &[]);
    eventually("the CRL is refreshed", async || {
        auth.metrics().crl_updates == 2
    })
    .await;
    let hits = server.hits();
    assert!(hits.len() >= 2);
    assert!(hits[1] < next_update, "refreshed after nextUpdate");
    let err = auth.authenticate("bank-1", Some(&cert)).await.unwrap_err();
    assert!(matches!(err, AuthError::Revoked), "{err:?}");
}

#[tokio::test]
async fn revocation_is_seen_after_the_refresh_though_the_verification_was_cached() {
    let ca = TestCa::new("Client CA");
    let (one, two) = (ca.leaf("bank-1").issue(), ca.leaf("bank-2").issue());
    let server = CrlServer::start(Some(crl(&ca, &[], HOUR, HOUR))).await;
    let clock = TestClock::new();
    let auth = authenticator(
        TlsClientAuth::new(store(&[&ca]))
            .crl_url(server.url("ca.crl"))
            .crl_fetcher(http_fetcher())
            .crl_refresh_interval(Duration::from_millis(100))
            .cache_ttl(HOUR),
        &clock,
    );
    auth.refresh_crls().await;
    let (one, two) = (presented(&one, &[]), presented(&two, &[]));
    auth.authenticate("bank-1", Some(&one)).await.unwrap();
    auth.authenticate("bank-1", Some(&one)).await.unwrap();
    auth.authenticate("bank-2", Some(&two)).await.unwrap();
    assert_eq!(
        auth.metrics().cache_hits,
        1,
        "cached just before the revocation"
    );

    server.serve(Some(crl(&ca, &[&leaf_of(&one)], Duration::ZERO, HOUR)));
    eventually("bank-1 is refused", async || {
        matches!(
            auth.authenticate("bank-1", Some(&one)).await,
            Err(AuthError::Revoked)
        )
    })
    .await;
    // The others keep working.
    auth.authenticate("bank-2", Some(&two)).await.unwrap();
}

/// The serial of a presented leaf, as a `TestCert` for [`crl`].
fn leaf_of(cert: &certbound_extract::ClientCert) -> TestCert {
    let parsed = cert.leaf().parsed().unwrap();
    TestCert {
        der: cert.leaf().der().to_vec(),
        pem: String::new(),
        key_der: Vec::new(),
        key_pem: String::new(),
        serial: parsed.raw_serial().to_vec(),
    }
}

#[tokio::test]
async fn unreachable_crl_past_next_update_fails_closed() {
    let ca = TestCa::new("Client CA");
    let leaf = ca.leaf("bank-1").issue();
    let server = CrlServer::start(Some(crl(&ca, &[], HOUR, HOUR))).await;
    let clock = TestClock::new();
    let auth = authenticator(
        TlsClientAuth::new(store(&[&ca]))
            .crl_url(server.url("ca.crl"))
            .crl_fetcher(http_fetcher()),
        &clock,
    );
    auth.refresh_crls().await;
    let cert = presented(&leaf, &[]);
    auth.authenticate("bank-1", Some(&cert)).await.unwrap();

    server.serve(None);
    auth.refresh_crls().await;
    assert!(auth.metrics().crl_refresh_failures >= 1);
    // Still within nextUpdate: the CRL held is used.
    auth.authenticate("bank-1", Some(&cert)).await.unwrap();
    clock.advance(HOUR + Duration::from_secs(60));
    let err = auth.authenticate("bank-1", Some(&cert)).await.unwrap_err();
    assert!(matches!(err, AuthError::CrlExpired), "{err:?}");
    assert_eq!(err.to_oauth_error().code(), Some("invalid_client"));

    // Once the publisher is back, so is the client (with a fresh CRL).
    server.serve(Some(crl(&ca, &[], Duration::ZERO, 3 * HOUR)));
    auth.refresh_crls().await;
    auth.authenticate("bank-1", Some(&cert)).await.unwrap();
}

#[tokio::test]
async fn grace_period_accepts_a_stale_crl_within_it_and_refuses_after() {
    let ca = TestCa::new("Client CA");
    let leaf = ca.leaf("bank-1").issue();
    let revoked = ca.leaf("bank-2").issue();
    let server = CrlServer::start(Some(crl(&ca, &[&revoked], HOUR, HOUR))).await;
    let clock = TestClock::new();
    let auth = authenticator(
        TlsClientAuth::new(store(&[&ca]))
            .crl_url(server.url("ca.crl"))
            .crl_fetcher(http_fetcher())
            .danger_crl_grace_period(2 * HOUR),
        &clock,
    );
    auth.refresh_crls().await;
    server.serve(None);
    let (cert, revoked) = (presented(&leaf, &[]), presented(&revoked, &[]));

    clock.advance(HOUR + Duration::from_secs(60));
    auth.refresh_crls().await;
    auth.authenticate("bank-1", Some(&cert)).await.unwrap();
    // A stale CRL still proves a revocation.
    let err = auth
        .authenticate("bank-2", Some(&revoked))
        .await
        .unwrap_err();
    assert!(matches!(err, AuthError::Revoked), "{err:?}");

    clock.advance(2 * HOUR);
    let err = auth.authenticate("bank-1", Some(&cert)).await.unwrap_err();
    assert!(matches!(err, AuthError::CrlExpired), "{err:?}");
}

#[tokio::test]
async fn crl_of_the_wrong_issuer_or_with_a_bad_signature_is_not_used() {
    let ca = TestCa::new("Client CA");
    // Same name, another key: its CRL claims to be the client CA's.
    let impostor = TestCa::new("Client CA");
    let other = TestCa::new("Other CA");
    let leaf = ca.leaf("bank-1").issue();
    let cert = presented(&leaf, &[]);
    let mut tampered = crl(&ca, &[&leaf], Duration::ZERO, HOUR);
    let last = tampered.len() - 1;
    tampered[last] ^= 0x01;

    for (what, bytes) in [
        ("impostor", crl(&impostor, &[&leaf], Duration::ZERO, HOUR)),
        ("other issuer", crl(&other, &[&leaf], Duration::ZERO, HOUR)),
        ("bad signature", tampered.clone()),
    ] {
        // Given as bytes, or fetched: never used.
        let given = authenticator(
            TlsClientAuth::new(store(&[&ca]))
                .crl(&bytes)
                .refuse_unknown_revocation_status(true),
            &TestClock::new(),
        );
        let err = given.authenticate("bank-1", Some(&cert)).await.unwrap_err();
        assert!(
            matches!(err, AuthError::RevocationStatusUnknown),
            "{what}: {err:?}"
        );
        // The path verified; only its revocation status is refused.
        let report = given.explain("bank-1", Some(&cert)).await;
        assert!(!report.passed(), "{what}: {report}");
        let path = report.checks.iter().find(|c| c.name == "path");
        assert_eq!(
            path.map(|c| c.verdict),
            Some(Verdict::Pass),
            "{what}: {report}"
        );
        assert_eq!(revocation_verdict(&report).0, Verdict::Fail, "{what}");

        let server = CrlServer::start(Some(bytes)).await;
        let fetched = authenticator(
            TlsClientAuth::new(store(&[&ca]))
                .crl_url(server.url("ca.crl"))
                .crl_fetcher(http_fetcher()),
            &TestClock::new(),
        );
        fetched.refresh_crls().await;
        assert_eq!(fetched.metrics().crl_updates, 0, "{what}");
        assert!(fetched.metrics().crl_refresh_failures >= 1, "{what}");
        let report = fetched.explain("bank-1", Some(&cert)).await;
        assert!(report.passed(), "{what}: {report}");
        let (verdict, detail) = revocation_verdict(&report);
        assert_eq!(verdict, Verdict::Skipped, "{what}: {detail}");
    }

    // A good CRL held is kept when a bad one is served after it.
    let server = CrlServer::start(Some(crl(&ca, &[], HOUR, HOUR))).await;
    let auth = authenticator(
        TlsClientAuth::new(store(&[&ca]))
            .crl_url(server.url("ca.crl"))
            .crl_fetcher(http_fetcher())
            .refuse_unknown_revocation_status(true),
        &TestClock::new(),
    );
    auth.refresh_crls().await;
    server.serve(Some(tampered));
    auth.refresh_crls().await;
    assert_eq!(auth.metrics().crl_updates, 1);
    auth.authenticate("bank-1", Some(&cert)).await.unwrap();
}

#[tokio::test]
async fn an_older_crl_does_not_replace_a_newer_one() {
    let ca = TestCa::new("Client CA");
    let leaf = ca.leaf("bank-1").issue();
    let cert = presented(&leaf, &[]);
    let server = CrlServer::start(Some(crl(&ca, &[&leaf], Duration::ZERO, HOUR))).await;
    // A given CRL that is older: the fetched one (later thisUpdate) wins.
    let auth = authenticator(
        TlsClientAuth::new(store(&[&ca]))
            .crl(&crl(&ca, &[], 2 * HOUR, HOUR))
            .crl_url(server.url("ca.crl"))
            .crl_fetcher(http_fetcher()),
        &TestClock::new(),
    );
    auth.refresh_crls().await;
    let err = auth.authenticate("bank-1", Some(&cert)).await.unwrap_err();
    assert!(matches!(err, AuthError::Revoked), "{err:?}");
    // The publisher serves an older CRL again (a stale mirror, a replay).
    server.serve(Some(crl(&ca, &[], 3 * HOUR, HOUR)));
    auth.refresh_crls().await;
    assert_eq!(auth.metrics().crl_updates, 1);
    let err = auth.authenticate("bank-1", Some(&cert)).await.unwrap_err();
    assert!(matches!(err, AuthError::Revoked), "{err:?}");
}

/// A file in a fresh directory under the system's temp dir.
fn temp_file(name: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "certbound-crl-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

#[tokio::test]
async fn crl_file_is_read_again_when_it_changes() {
    let ca = TestCa::new("Client CA");
    let leaf = ca.leaf("bank-1").issue();
    let path = temp_file("ca.crl");
    std::fs::write(&path, crl(&ca, &[], HOUR, HOUR)).unwrap();
    let clock = TestClock::new();
    let auth = authenticator(
        TlsClientAuth::new(store(&[&ca]))
            .crl_file(&path)
            .crl_refresh_interval(Duration::from_millis(100)),
        &clock,
    );
    let cert = presented(&leaf, &[]);
    auth.authenticate("bank-1", Some(&cert)).await.unwrap();

    // Replaced as PEM, revoking the client.
    let der = crl(&ca, &[&leaf], Duration::ZERO, HOUR);
    let pem = certbound_testkit::pem_of(&der).replace("CERTIFICATE", "X509 CRL");
    std::fs::write(&path, pem).unwrap();
    eventually("the file is read again", async || {
        matches!(
            auth.authenticate("bank-1", Some(&cert)).await,
            Err(AuthError::Revoked)
        )
    })
    .await;
    assert_eq!(auth.metrics().crl_updates, 1);
    let _ = std::fs::remove_dir_all(path.parent().unwrap());
}

#[tokio::test]
async fn unreadable_crl_file_is_a_configuration_error() {
    let path = temp_file("missing.crl");
    let ca = TestCa::new("Client CA");
    let tls = TlsClientAuth::new(store(&[&ca])).crl_file(&path);
    let err = Authenticator::builder(registry_from_metadata([]).unwrap())
        .tls_client_auth(tls)
        .build()
        .unwrap_err();
    assert!(matches!(err, ConfigError::Crl(_)), "{err:?}");
    assert!(err.to_string().contains("missing.crl"), "{err}");
}

#[tokio::test]
async fn a_bad_crl_or_policy_fails_at_build_and_an_update_keeps_the_old_configuration() {
    let ca = TestCa::new("Client CA");
    let leaf = ca.leaf("bank-1").issue();
    let cert = presented(&leaf, &[]);
    let builder = || {
        Authenticator::builder(
            registry_from_metadata([tls_client(
                "bank-1",
                "tls_client_auth_subject_dn",
                "CN=bank-1",
            )])
            .unwrap(),
        )
    };

    // The error comes from build(), wherever the bad call was in the chain.
    let err = builder()
        .tls_client_auth(
            TlsClientAuth::new(store(&[&ca]))
                .crl(b"not a CRL")
                .cache_ttl(HOUR),
        )
        .build()
        .unwrap_err();
    assert!(matches!(err, ConfigError::Crl(_)), "{err:?}");
    let err = builder()
        .tls_client_auth(TlsClientAuth::new(store(&[&ca])).required_policy("1.x.3"))
        .build()
        .unwrap_err();
    assert_eq!(err, ConfigError::PolicyOid("1.x.3".into()));

    // An update with an error is refused; the running configuration stays.
    let auth = builder()
        .tls_client_auth(TlsClientAuth::new(store(&[&ca])))
        .build()
        .unwrap();
    let bad = TlsClientAuth::new(store(&[])).crl(b"-----BEGIN X509 CRL-----\n");
    assert!(matches!(
        auth.update_tls_client_auth(bad),
        Err(ConfigError::Crl(_))
    ));
    assert_eq!(
        auth.authenticate("bank-1", Some(&cert))
            .await
            .unwrap()
            .client_id(),
        "bank-1"
    );
}

#[tokio::test]
async fn distribution_point_of_a_presented_certificate_is_followed() {
    let ca = TestCa::new("Client CA");
    let server = CrlServer::start(Some(crl(&ca, &[], HOUR, HOUR))).await;
    let url = server.url("dp.crl");
    let leaf = ca
        .leaf("bank-1")
        .params(|p| {
            p.crl_distribution_points = vec![CrlDistributionPoint {
                uris: vec![url.clone()],
            }]
        })
        .issue();
    let cert = presented(&leaf, &[]);
    let auth = authenticator(
        TlsClientAuth::new(store(&[&ca]))
            .crl_distribution_points(true)
            .crl_fetcher(http_fetcher())
            .refuse_unknown_revocation_status(true),
        &TestClock::new(),
    );
    // Seen for the first time: unknown until fetched, in the background.
    let err = auth.authenticate("bank-1", Some(&cert)).await.unwrap_err();
    assert!(matches!(err, AuthError::RevocationStatusUnknown), "{err:?}");
    eventually("the distribution point is fetched", async || {
        auth.authenticate("bank-1", Some(&cert)).await.is_ok()
    })
    .await;
    assert_eq!(server.hits().len(), 1);

    server.serve(Some(crl(&ca, &[&leaf], Duration::ZERO, HOUR)));
    auth.refresh_crls().await;
    let err = auth.authenticate("bank-1", Some(&cert)).await.unwrap_err();
    assert!(matches!(err, AuthError::Revoked), "{err:?}");
}

#[tokio::test]
async fn distribution_points_of_untrusted_certificates_are_not_followed() {
    let ca = TestCa::new("Client CA");
    let stranger = TestCa::new("Stranger CA");
    let server = CrlServer::start(Some(crl(&stranger, &[], HOUR, HOUR))).await;
    let url = server.url("dp.crl");
    let leaf = stranger
        .leaf("bank-1")
        .params(|p| {
            p.crl_distribution_points = vec![CrlDistributionPoint {
                uris: vec![url.clone()],
            }]
        })
        .issue();
    let auth = authenticator(
        TlsClientAuth::new(store(&[&ca]))
            .crl_distribution_points(true)
            .crl_fetcher(http_fetcher()),
        &TestClock::new(),
    );
    let err = auth
        .authenticate("bank-1", Some(&presented(&leaf, &[])))
        .await
        .unwrap_err();
    assert!(matches!(err, AuthError::UnknownIssuer), "{err:?}");
    auth.refresh_crls().await;
    assert!(server.hits().is_empty());
}

// A presented certificate outside the validated path (same issuer name,
// another key) does not have its distribution points followed.
#[tokio::test]
async fn distribution_points_of_certificates_outside_the_path_are_not_followed() {
    let ca = TestCa::new("Client CA");
    let impostor = TestCa::new("Client CA");
    let leaf = ca.leaf("bank-1").issue();
    let bogus = impostor
        .leaf("anything")
        .params(with_dps(vec!["http://10.0.0.1/internal-admin".into()]))
        .issue();
    let fetcher = RecordingFetcher::default();
    let auth = authenticator(
        TlsClientAuth::new(store(&[&ca]))
            .crl_distribution_points(true)
            .crl_fetcher(fetcher.fetcher()),
        &TestClock::new(),
    );
    // The path is leaf -> Client CA; the extra certificate plays no part.
    auth.authenticate("bank-1", Some(&presented(&leaf, &[&bogus])))
        .await
        .unwrap();
    auth.refresh_crls().await;
    assert!(fetcher.asked().is_empty(), "{:?}", fetcher.asked());
}

// Before any CRL is held, with unknown status refused, an untrusted chain
// is refused as an unknown issuer, without a fetch or a distribution point
// slot spent, and the real distribution point is still followed.
#[tokio::test]
async fn an_untrusted_chain_is_an_unknown_issuer_and_its_distribution_points_are_not_followed() {
    let ca = TestCa::new("Client CA");
    let impostor = TestCa::new("Client CA");
    let real_dp = "http://crl.example/client-ca.crl".to_owned();
    let legit = ca
        .leaf("bank-1")
        .params(with_dps(vec![real_dp.clone()]))
        .issue();
    let attacker_urls: Vec<String> = (0..64).map(|i| format!("http://10.0.0.{i}/x")).collect();
    let forged = impostor
        .leaf("bank-1")
        .params(with_dps(attacker_urls))
        .issue();
    let fetcher = RecordingFetcher::default();
    fetcher.serve(&real_dp, crl(&ca, &[], HOUR, HOUR));
    let auth = authenticator(
        TlsClientAuth::new(store(&[&ca]))
            .crl_distribution_points(true)
            .crl_fetcher(fetcher.fetcher())
            .refuse_unknown_revocation_status(true),
        &TestClock::new(),
    );

    let err = auth
        .authenticate("bank-1", Some(&presented(&forged, &[])))
        .await
        .unwrap_err();
    assert!(matches!(err, AuthError::UnknownIssuer), "{err:?}");
    auth.refresh_crls().await;
    assert!(fetcher.asked().is_empty(), "{:?}", fetcher.asked());

    let cert = presented(&legit, &[]);
    let err = auth.authenticate("bank-1", Some(&cert)).await.unwrap_err();
    assert!(matches!(err, AuthError::RevocationStatusUnknown), "{err:?}");
    auth.refresh_crls().await;
    let asked = fetcher.asked();
    assert!(
        !asked.is_empty() && asked.iter().all(|u| *u == real_dp),
        "{asked:?}"
    );
    auth.authenticate("bank-1", Some(&cert)).await.unwrap();
}

// A source that serves another known CA's (newer, genuine) CRL keeps the
// CRL of the issuer it held, with its revocations.
#[tokio::test]
async fn a_crl_source_does_not_switch_issuers() {
    let ca_a = TestCa::new("Client CA A");
    let ca_b = TestCa::new("Client CA B");
    let leaf = ca_a.leaf("bank-1").issue();
    let url = "http://crl.example/client-ca-a.crl";
    let fetcher = RecordingFetcher::default();
    fetcher.serve(url, crl(&ca_a, &[&leaf], HOUR, HOUR));
    let auth = authenticator(
        TlsClientAuth::new(store(&[&ca_a, &ca_b]))
            .crl_url(url)
            .crl_fetcher(fetcher.fetcher()),
        &TestClock::new(),
    );
    auth.refresh_crls().await;
    let cert = presented(&leaf, &[]);
    let err = auth.authenticate("bank-1", Some(&cert)).await.unwrap_err();
    assert!(matches!(err, AuthError::Revoked), "{err:?}");

    fetcher.serve(url, crl(&ca_b, &[], Duration::ZERO, HOUR));
    auth.refresh_crls().await;
    assert_eq!(auth.metrics().crl_updates, 1);
    assert!(auth.metrics().crl_refresh_failures >= 1);
    let err = auth.authenticate("bank-1", Some(&cert)).await.unwrap_err();
    assert!(matches!(err, AuthError::Revoked), "{err:?}");
}

#[tokio::test]
async fn a_hanging_crl_fetch_does_not_hold_up_requests() {
    let ca = TestCa::new("Client CA");
    let leaf = ca.leaf("bank-1").issue();
    let asked = Arc::new(AtomicUsize::new(0));
    let fetcher = {
        let asked = asked.clone();
        move |_url: String| {
            asked.fetch_add(1, Ordering::Relaxed);
            std::future::pending::<Result<Vec<u8>, CrlFetchError>>()
        }
    };
    let auth = authenticator(
        TlsClientAuth::new(store(&[&ca]))
            .crl_url("http://127.0.0.1:9/never.crl")
            .crl_fetcher(fetcher),
        &TestClock::new(),
    );
    let cert = presented(&leaf, &[]);
    eventually("the refresher is fetching", async || {
        asked.load(Ordering::Relaxed) > 0
    })
    .await;
    // Answered while the refresher waits on the network (status unknown).
    let answer = tokio::time::timeout(
        Duration::from_secs(10),
        auth.authenticate("bank-1", Some(&cert)),
    )
    .await
    .expect("not held up by the fetch");
    answer.unwrap();

    // Dropping the authenticator ends the refresher, even mid-fetch: the
    // fetcher (owned by the configuration) is released.
    let weak = Arc::downgrade(&asked);
    drop((auth, asked));
    eventually("the refresher ends", async || weak.upgrade().is_none()).await;
}
