//! Thousands of concurrent requests from distinct clients, each with its
//! own certificate, through one `Authenticator` and its verification cache
//! (behind `ClientCertLayer` and `ClientAuthLayer`): every answer names the
//! client that asked and the certificate it presented, never another; a
//! client presenting another client's certificate is refused even when that
//! certificate is in the cache.

mod common;

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::routing::post;
use base64::Engine as _;
use certbound_auth::{AuthenticatedClient, Authenticator, ClientAuthLayer, TlsClientAuth};
use certbound_cert::Thumbprint;
use certbound_extract::header::HeaderFormat;
use certbound_extract::{ClientCertLayer, HeaderSource, PeerAddr};
use certbound_testkit::{TestCa, TestCert};
use common::*;
use http::{Request, StatusCode};
use http_body_util::BodyExt as _;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tower::ServiceExt as _;

const CLIENTS: usize = 2000;
const IN_FLIGHT: usize = 256;

async fn token(client: AuthenticatedClient) -> String {
    format!("{} {}", client.client_id(), client.thumbprint())
}

/// Leaves `CN=client-{i}`, generated on every core.
fn leaves(ca: &TestCa) -> Vec<TestCert> {
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let per = CLIENTS.div_ceil(threads);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                s.spawn(move || {
                    (t * per..((t + 1) * per).min(CLIENTS))
                        .map(|i| ca.leaf(&format!("client-{i}")).issue())
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    })
}

fn request(client_id: &str, cert: &TestCert) -> Request<Body> {
    let mut req = Request::post("/token")
        .header("content-type", "application/x-www-form-urlencoded")
        .header(
            "client-cert",
            format!(
                ":{}:",
                base64::engine::general_purpose::STANDARD.encode(&cert.der)
            ),
        )
        .body(Body::from(format!(
            "grant_type=client_credentials&client_id={client_id}"
        )))
        .unwrap();
    req.extensions_mut()
        .insert(PeerAddr("127.0.0.1:40000".parse().unwrap()));
    req
}

/// What one request expects back.
#[derive(Clone)]
enum Expect {
    /// 200 naming this client and thumbprint.
    Client(String, Thumbprint),
    /// 401 invalid_client.
    Refused,
}

/// Sends every request at once (at most `IN_FLIGHT` in flight) and checks
/// each answer.
async fn run(app: &Router, requests: Vec<(String, Arc<TestCert>, Expect)>) {
    let limit = Arc::new(Semaphore::new(IN_FLIGHT));
    let mut set = JoinSet::new();
    for (client_id, cert, expect) in requests {
        let app = app.clone();
        let limit = limit.clone();
        set.spawn(async move {
            let _permit = limit.acquire().await.unwrap();
            let res = app.oneshot(request(&client_id, &cert)).await.unwrap();
            let status = res.status();
            let body = res.into_body().collect().await.unwrap().to_bytes();
            let body = String::from_utf8(body.to_vec()).unwrap();
            match expect {
                Expect::Client(id, thumbprint) => {
                    assert_eq!(status, StatusCode::OK, "{client_id}: {body}");
                    assert_eq!(body, format!("{id} {thumbprint}"), "{client_id}");
                }
                Expect::Refused => {
                    assert_eq!(status, StatusCode::UNAUTHORIZED, "{client_id}: {body}");
                    assert!(body.contains("invalid_client"), "{body}");
                }
            }
        });
    }
    let mut done = 0;
    while let Some(result) = set.join_next().await {
        result.unwrap();
        done += 1;
    }
    assert!(done > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thousands_of_concurrent_clients_are_never_mixed_up() {
    let ca = TestCa::new("Concurrency CA");
    let leaves: Vec<Arc<TestCert>> = leaves(&ca).into_iter().map(Arc::new).collect();
    let ids: Vec<String> = (0..CLIENTS).map(|i| format!("client-{i}")).collect();
    let thumbprints: Vec<Thumbprint> = leaves.iter().map(|l| Thumbprint::of_der(&l.der)).collect();

    let registrations = ids
        .iter()
        .map(|id| tls_client(id, "tls_client_auth_subject_dn", &format!("CN={id}")));
    let auth =
        Authenticator::builder(certbound_auth::registry_from_metadata(registrations).unwrap())
            .tls_client_auth(TlsClientAuth::new(store(&[&ca])))
            .build()
            .unwrap();
    let app = Router::new()
        .route("/token", post(token))
        .layer(ClientAuthLayer::new(auth.clone()))
        .layer(ClientCertLayer::header(
            HeaderSource::new(HeaderFormat::Rfc9440)
                .trusted_proxies(["127.0.0.0/8".parse().unwrap()]),
        ));

    // Round 1: every client once, all at the same time; nothing cached yet.
    let round1 = (0..CLIENTS)
        .map(|i| {
            (
                ids[i].clone(),
                leaves[i].clone(),
                Expect::Client(ids[i].clone(), thumbprints[i]),
            )
        })
        .collect();
    run(&app, round1).await;
    let after1 = auth.metrics();
    assert_eq!(after1.path_validations, CLIENTS as u64);
    assert_eq!(after1.cache_hits, 0);

    // Round 2: every client again (from the cache), interleaved with one
    // request in ten that names a client but presents its neighbour's
    // certificate, which is cached for the neighbour: refused.
    let mut round2 = Vec::new();
    for i in 0..CLIENTS {
        round2.push((
            ids[i].clone(),
            leaves[i].clone(),
            Expect::Client(ids[i].clone(), thumbprints[i]),
        ));
        if i % 10 == 0 {
            let j = (i + 1) % CLIENTS;
            round2.push((ids[i].clone(), leaves[j].clone(), Expect::Refused));
        }
    }
    // Reverse, so the cached and uncached requests of a client race.
    round2.reverse();
    run(&app, round2).await;
    let after2 = auth.metrics();
    assert!(
        after2.cache_hits >= CLIENTS as u64,
        "{after2:?}: returning clients did not hit the cache"
    );
    assert_eq!(
        after2.path_validations,
        CLIENTS as u64 + (CLIENTS / 10) as u64,
        "{after2:?}: only the mismatched pairs are validated again"
    );

    // Round 3: the mismatched pairs again, now with (client, certificate)
    // keys in the cache: still refused, because the subject is checked on
    // every request.
    let round3 = (0..CLIENTS)
        .step_by(10)
        .map(|i| {
            (
                ids[i].clone(),
                leaves[(i + 1) % CLIENTS].clone(),
                Expect::Refused,
            )
        })
        .collect();
    run(&app, round3).await;
}
