//! Hostile input at the token endpoint (`ClientAuthLayer` in an axum
//! `Router`, behind `ClientCertLayer`) and hostile certificates through the
//! `Authenticator`: each refused with a clear error, never a panic, and the
//! next good request still works.

mod common;

use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::routing::post;
use certbound_auth::{
    AuthError, AuthenticatedClient, Authenticator, ClientAuthLayer, ClientJwks, ClientMetadata,
    SelfSignedTlsClientAuth, TlsClientAuth, TokenEndpointAuthMethod, registry_from_metadata,
};
use certbound_cert::Certificate;
use certbound_extract::header::HeaderFormat;
use certbound_extract::{CertSource, ClientCert, ClientCertLayer, HeaderSource};
use certbound_testkit::hostile::{
    self, Resigner, TBS_EXTENSIONS, TBS_SERIAL, TBS_SIGNATURE, TBS_SUBJECT, TBS_VERSION,
};
use certbound_testkit::{TestCa, TestCert, der_tlv, vectors};
use common::*;
use http::{Response, StatusCode};
use tower::ServiceExt as _;

const LIMIT: usize = 1024;

async fn token(client: Option<AuthenticatedClient>, body: Bytes) -> String {
    let who = client.map_or("none".to_owned(), |c| c.client_id().to_owned());
    format!("{who}\n{}", String::from_utf8_lossy(&body))
}

fn app(ca: &TestCa) -> Router {
    let auth = Authenticator::builder(
        registry_from_metadata([
            tls_client("bank-1", "tls_client_auth_subject_dn", "CN=bank-1"),
            tls_client("bank-2", "tls_client_auth_subject_dn", "CN=bank-2"),
            ClientMetadata::new("web", TokenEndpointAuthMethod::ClientSecretPost),
        ])
        .unwrap(),
    )
    .tls_client_auth(TlsClientAuth::new(store(&[ca])))
    .build()
    .unwrap();
    let source =
        HeaderSource::new(HeaderFormat::Rfc9440).trusted_proxies(["127.0.0.0/8".parse().unwrap()]);
    Router::new()
        .route("/token", post(token))
        .layer(ClientAuthLayer::new(auth).body_limit(LIMIT))
        .layer(ClientCertLayer::header(source))
}

/// The response is the OAuth error `code` with `status`, and its
/// description mentions `says`.
async fn oauth_error(res: Response<Body>, status: StatusCode, code: &str, says: &str) {
    assert_eq!(res.status(), status);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let body: serde_json::Value = serde_json::from_str(&text(res).await).unwrap();
    assert_eq!(body["error"], code, "{body}");
    let description = body["error_description"].as_str().unwrap();
    assert!(description.contains(says), "{description:?} lacks {says:?}");
}

/// The same app then answers a good request from bank-1.
async fn next_request_works(app: &Router, leaf: &TestCert) {
    let res = app
        .clone()
        .oneshot(request("/token", "client_id=bank-1", Some(leaf)))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(text(res).await, "bank-1\nclient_id=bank-1");
}

/// A body that yields `chunk` every `every`, `count` times (forever when
/// `None`), without a Content-Length.
fn trickle(chunk: &'static [u8], every: Duration, count: Option<usize>) -> Body {
    let stream = futures_util_stream(chunk, every, count);
    Body::from_stream(stream)
}

fn futures_util_stream(
    chunk: &'static [u8],
    every: Duration,
    count: Option<usize>,
) -> impl tokio_stream::Stream<Item = Result<Bytes, std::io::Error>> {
    use tokio_stream::StreamExt as _;
    let ticks = tokio_stream::iter(std::iter::repeat_n((), count.unwrap_or(usize::MAX)));
    ticks
        .throttle(every)
        .map(move |_| Ok(Bytes::from_static(chunk)))
}

#[tokio::test]
async fn body_over_the_limit_is_413_whether_declared_or_streamed() {
    let ca = TestCa::new("Client CA");
    let leaf = ca.leaf("bank-1").issue();
    let app = app(&ca);
    let big = format!("client_id=bank-1&pad={}", "a".repeat(LIMIT));

    // Declared by Content-Length: refused before reading.
    let mut req = request("/token", big.clone(), Some(&leaf));
    req.headers_mut()
        .insert("content-length", big.len().to_string().parse().unwrap());
    let res = app.clone().oneshot(req).await.unwrap();
    oauth_error(
        res,
        StatusCode::PAYLOAD_TOO_LARGE,
        "invalid_request",
        "1024",
    )
    .await;
    next_request_works(&app, &leaf).await;

    // A Content-Length that lies: the bytes are counted, not the header.
    let mut req = request("/token", big.clone(), Some(&leaf));
    req.headers_mut()
        .insert("content-length", "20".parse().unwrap());
    let res = app.clone().oneshot(req).await.unwrap();
    oauth_error(
        res,
        StatusCode::PAYLOAD_TOO_LARGE,
        "invalid_request",
        "1024",
    )
    .await;
    next_request_works(&app, &leaf).await;

    // An absurd Content-Length.
    let mut req = request("/token", "client_id=bank-1", Some(&leaf));
    req.headers_mut()
        .insert("content-length", u64::MAX.to_string().parse().unwrap());
    let res = app.clone().oneshot(req).await.unwrap();
    oauth_error(
        res,
        StatusCode::PAYLOAD_TOO_LARGE,
        "invalid_request",
        "1024",
    )
    .await;
    next_request_works(&app, &leaf).await;
}

#[tokio::test]
async fn client_id_twice_is_invalid_request_however_spelled() {
    let ca = TestCa::new("Client CA");
    let leaf = ca.leaf("bank-1").issue();
    let app = app(&ca);
    for body in [
        "client_id=bank-1&client_id=bank-2",
        "client_id=bank-1&client_id=bank-1",
        "client_id=bank-1&client_id=",
        "client_id=bank-2&client%5Fid=bank-1",
        "client_id=bank-2&%63lient_id=bank-1",
        "client_id&client_id=bank-1",
    ] {
        let res = app
            .clone()
            .oneshot(request("/token", body, Some(&leaf)))
            .await
            .unwrap();
        oauth_error(
            res,
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "client_id must not be repeated",
        )
        .await;
        next_request_works(&app, &leaf).await;
    }
}

#[tokio::test]
async fn client_id_in_query_and_body_with_different_values_is_invalid_request() {
    let ca = TestCa::new("Client CA");
    let leaf = ca.leaf("bank-1").issue();
    let app = app(&ca);
    // bank-1 authenticates in the body; a handler that read the query
    // would believe it is bank-2.
    for uri in [
        "/token?client_id=bank-2",
        "/token?x=1&client_id=bank-2",
        "/token?client%5Fid=bank-2",
        "/token?client_id=bank%2D2",
    ] {
        let res = app
            .clone()
            .oneshot(request(uri, "client_id=bank-1", Some(&leaf)))
            .await
            .unwrap();
        oauth_error(res, StatusCode::BAD_REQUEST, "invalid_request", "client_id").await;
        next_request_works(&app, &leaf).await;
    }
    // The same value in both places is harmless.
    let res = app
        .clone()
        .oneshot(request(
            "/token?client_id=bank-1",
            "client_id=bank-1",
            Some(&leaf),
        ))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn client_id_only_in_the_query_is_not_read() {
    let ca = TestCa::new("Client CA");
    let leaf = ca.leaf("bank-1").issue();
    let app = app(&ca);
    let res = app
        .clone()
        .oneshot(request(
            "/token?client_id=bank-1",
            "grant_type=client_credentials",
            Some(&leaf),
        ))
        .await
        .unwrap();
    oauth_error(
        res,
        StatusCode::BAD_REQUEST,
        "invalid_request",
        "client_id is required",
    )
    .await;
    next_request_works(&app, &leaf).await;
}

#[tokio::test]
async fn wrong_content_types_are_invalid_request() {
    let ca = TestCa::new("Client CA");
    let leaf = ca.leaf("bank-1").issue();
    let app = app(&ca);
    for content_type in [
        Some("application/json"),
        Some("multipart/form-data; boundary=x"),
        Some("text/plain"),
        Some("application/x-www-form-urlencodedx"),
        Some("application/x-www-form"),
        Some(""),
        None,
    ] {
        let mut req = request("/token", "client_id=bank-1", Some(&leaf));
        match content_type {
            Some(ct) => {
                req.headers_mut()
                    .insert("content-type", ct.parse().unwrap());
            }
            None => {
                req.headers_mut().remove("content-type");
            }
        }
        let res = app.clone().oneshot(req).await.unwrap();
        oauth_error(
            res,
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "application/x-www-form-urlencoded",
        )
        .await;
        next_request_works(&app, &leaf).await;
    }
    // Parameters and case do not matter.
    let mut req = request("/token", "client_id=bank-1", Some(&leaf));
    req.headers_mut().insert(
        "content-type",
        "Application/X-WWW-Form-URLEncoded ; charset=UTF-8"
            .parse()
            .unwrap(),
    );
    assert_eq!(
        app.clone().oneshot(req).await.unwrap().status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_trickling_body_is_read_to_its_end_and_answered() {
    let ca = TestCa::new("Client CA");
    let leaf = ca.leaf("bank-1").issue();
    let app = app(&ca);
    // "client_id=bank-1" one byte every 5 ms.
    let body = Body::from_stream({
        use tokio_stream::StreamExt as _;
        tokio_stream::iter(b"client_id=bank-1".chunks(1).map(Bytes::from_static))
            .throttle(Duration::from_millis(5))
            .map(Ok::<_, std::io::Error>)
    });
    let res = tokio::time::timeout(
        Duration::from_secs(30),
        app.clone().oneshot(request("/token", body, Some(&leaf))),
    )
    .await
    .expect("the layer did not answer a slow but finite body")
    .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(text(res).await, "bank-1\nclient_id=bank-1");
}

#[tokio::test]
async fn an_endless_trickle_is_cut_off_at_the_limit() {
    let ca = TestCa::new("Client CA");
    let leaf = ca.leaf("bank-1").issue();
    let app = app(&ca);
    // 64 bytes every millisecond, forever: the limit (1 KiB) is reached
    // after about 16 chunks, and the layer answers then.
    let body = trickle(&[b'a'; 64], Duration::from_millis(1), None);
    let res = tokio::time::timeout(
        Duration::from_secs(30),
        app.clone().oneshot(request("/token", body, Some(&leaf))),
    )
    .await
    .expect("the layer did not answer an endless body")
    .unwrap();
    oauth_error(
        res,
        StatusCode::PAYLOAD_TOO_LARGE,
        "invalid_request",
        "1024",
    )
    .await;
    next_request_works(&app, &leaf).await;
}

#[tokio::test]
async fn a_body_that_fails_midway_is_invalid_request() {
    let ca = TestCa::new("Client CA");
    let leaf = ca.leaf("bank-1").issue();
    let app = app(&ca);
    let body = Body::from_stream(tokio_stream::iter([
        Ok(Bytes::from_static(b"client_id=")),
        Err(std::io::Error::other("connection reset")),
    ]));
    let res = app
        .clone()
        .oneshot(request("/token", body, Some(&leaf)))
        .await
        .unwrap();
    oauth_error(
        res,
        StatusCode::BAD_REQUEST,
        "invalid_request",
        "could not be read",
    )
    .await;
    next_request_works(&app, &leaf).await;
}

#[tokio::test]
async fn odd_form_bodies_never_panic() {
    let ca = TestCa::new("Client CA");
    let leaf = ca.leaf("bank-1").issue();
    let app = app(&ca);
    for body in [
        &b"client_id=%FF"[..],
        b"client_id=%",
        b"client_id=%4",
        b"client_id=%zz",
        b"\xff\xfe=\x00&client_id=bank-1",
        b"&&&&=&==&client_id=bank-1&",
        b"client_id=bank-1\0",
        b"client_id=+bank-1+",
    ] {
        let res = app
            .clone()
            .oneshot(request("/token", Bytes::from_static(body), Some(&leaf)))
            .await
            .unwrap();
        assert!(
            [
                StatusCode::OK,
                StatusCode::BAD_REQUEST,
                StatusCode::UNAUTHORIZED
            ]
            .contains(&res.status()),
            "{body:?}: {}",
            res.status()
        );
        next_request_works(&app, &leaf).await;
    }
}

#[tokio::test]
async fn a_ca_certificate_presented_as_the_leaf_is_invalid_client() {
    let root = TestCa::new("Root");
    let int = root.intermediate("bank-1");
    let app = app(&root);
    // The intermediate CA certificate, named like the client, sent as the
    // leaf: webpki refuses a CA as end entity.
    let res = app
        .clone()
        .oneshot(request("/token", "client_id=bank-1", Some(&int.cert)))
        .await
        .unwrap();
    oauth_error(
        res,
        StatusCode::UNAUTHORIZED,
        "invalid_client",
        "client authentication failed",
    )
    .await;
    let leaf = root.leaf("bank-1").issue();
    next_request_works(&app, &leaf).await;

    let auth = Authenticator::builder(
        registry_from_metadata([tls_client(
            "bank-1",
            "tls_client_auth_subject_dn",
            "CN=bank-1",
        )])
        .unwrap(),
    )
    .tls_client_auth(TlsClientAuth::new(store(&[&root])))
    .build()
    .unwrap();
    let err = auth
        .authenticate("bank-1", Some(&presented(&int.cert, &[])))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, AuthError::InvalidPath(reason) if reason.contains("CaUsedAsEndEntity")),
        "{err:?}"
    );
}

// --- Hostile certificates through the Authenticator -------------------------

fn resigner_authenticator(ca: &Resigner, clients: Vec<ClientMetadata>) -> Authenticator {
    let anchors =
        certbound_auth::TrustStore::from_certificates([
            Certificate::from_der(ca.cert.der.clone()).unwrap()
        ])
        .unwrap();
    Authenticator::builder(registry_from_metadata(clients).unwrap())
        .tls_client_auth(TlsClientAuth::new(anchors))
        .self_signed_tls_client_auth(SelfSignedTlsClientAuth::new())
        .build()
        .unwrap()
}

fn as_presented(c: &TestCert) -> ClientCert {
    ClientCert::new(
        Certificate::from_der(c.der.clone()).unwrap(),
        vec![],
        CertSource::Tls,
    )
}

/// Authenticates `client` with `cert`, returning the error and the checks
/// `explain` reports (which run every check, and must not panic either).
async fn refused(auth: &Authenticator, client: &str, cert: &TestCert) -> AuthError {
    let cert = as_presented(cert);
    let report = auth.explain(client, Some(&cert)).await;
    assert!(!report.passed(), "{report}");
    let _ = report.to_json();
    auth.authenticate(client, Some(&cert)).await.unwrap_err()
}

#[tokio::test]
async fn the_resigner_makes_certificates_the_authenticator_accepts() {
    // The control: an unedited certificate from the same CA passes.
    let ca = Resigner::new("Hostile CA");
    let leaf = ca.issue(ca.leaf("client"), |_| {});
    let auth = resigner_authenticator(
        &ca,
        vec![tls_client("c", "tls_client_auth_subject_dn", "CN=client")],
    );
    auth.authenticate("c", Some(&as_presented(&leaf)))
        .await
        .unwrap();
}

#[tokio::test]
async fn unknown_critical_extension_is_refused_by_path_validation() {
    let ca = Resigner::new("Hostile CA");
    let leaf = ca.issue(
        ca.leaf("client")
            .extension(&[1, 3, 6, 1, 4, 1, 99999, 1], vec![0x05, 0x00], true),
        |_| {},
    );
    let auth = resigner_authenticator(
        &ca,
        vec![tls_client("c", "tls_client_auth_subject_dn", "CN=client")],
    );
    let err = refused(&auth, "c", &leaf).await;
    assert!(
        matches!(&err, AuthError::InvalidPath(r) if r.contains("UnsupportedCriticalExtension")),
        "{err:?}"
    );
    assert_eq!(
        err.to_oauth_error().description(),
        Some("client authentication failed")
    );
}

#[tokio::test]
async fn negative_serial_is_decided_without_panic() {
    let ca = Resigner::new("Hostile CA");
    let leaf = ca.issue(ca.leaf("client"), |tbs| {
        tbs[TBS_SERIAL] = der_tlv(0x02, &[0xff, 0x7f, 0x01])
    });
    let auth = resigner_authenticator(
        &ca,
        vec![tls_client("c", "tls_client_auth_subject_dn", "CN=client")],
    );
    // webpki reads serial numbers leniently (RFC 5280 §4.1.2.2 asks
    // relying parties to handle negative ones gracefully): the path is
    // valid and the subject matches.
    let cert = as_presented(&leaf);
    let report = auth.explain("c", Some(&cert)).await;
    assert!(report.passed(), "{report}");
    auth.authenticate("c", Some(&cert)).await.unwrap();
}

#[tokio::test]
async fn thousands_of_sans_are_matched_without_trouble() {
    let ca = Resigner::new("Hostile CA");
    let mut builder = ca.leaf("client");
    for i in 0..3000 {
        builder = builder.san_dns(&format!("h{i}.example"));
    }
    let leaf = ca.issue(builder, |_| {});
    let auth = resigner_authenticator(
        &ca,
        vec![
            tls_client("last", "tls_client_auth_san_dns", "h2999.example"),
            tls_client("absent", "tls_client_auth_san_dns", "h3000.example"),
        ],
    );
    let cert = as_presented(&leaf);
    auth.authenticate("last", Some(&cert)).await.unwrap();
    let err = refused(&auth, "absent", &leaf).await;
    assert!(
        matches!(
            err,
            AuthError::SubjectMismatch {
                parameter: "tls_client_auth_san_dns"
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn deeply_nested_names_are_refused_or_matched_never_a_crash() {
    let ca = Resigner::new("Hostile CA");
    let nested = hostile::nested_sequences(2000);
    let leaf = ca.issue(ca.leaf("client"), |tbs| {
        let mut atv = certbound_testkit::der_oid(&[1, 3, 6, 1, 4, 1, 99999, 2]);
        atv.extend(&nested);
        let mut subject = hostile::tlv_content(&tbs[TBS_SUBJECT]).to_vec();
        subject.extend(der_tlv(0x31, &der_tlv(0x30, &atv)));
        tbs[TBS_SUBJECT] = der_tlv(0x30, &subject);
    });
    let auth = resigner_authenticator(
        &ca,
        vec![tls_client("c", "tls_client_auth_subject_dn", "CN=client")],
    );
    // The name has one RDN more than registered.
    let err = refused(&auth, "c", &leaf).await;
    assert!(
        matches!(
            err,
            AuthError::SubjectMismatch { .. } | AuthError::InvalidPath(_)
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_dn_with_hundreds_of_rdns_matches_its_registration() {
    let ca = Resigner::new("Hostile CA");
    let values: Vec<String> = (0..300).map(|i| format!("unit {i}")).collect();
    let attrs: Vec<(&[u64], &str)> = values
        .iter()
        .map(|v| (&[2u64, 5, 4, 11][..], v.as_str()))
        .collect();
    let leaf = ca.issue(ca.leaf("client"), |tbs| {
        tbs[TBS_SUBJECT] = hostile::name(&attrs)
    });
    let registered: Vec<String> = values.iter().rev().map(|v| format!("ou={v}")).collect();
    let registered = registered.join(", ");
    let one_less = registered.replacen("ou=unit 299, ", "", 1);
    let auth = resigner_authenticator(
        &ca,
        vec![
            tls_client("c", "tls_client_auth_subject_dn", &registered),
            tls_client("d", "tls_client_auth_subject_dn", &one_less),
        ],
    );
    auth.authenticate("c", Some(&as_presented(&leaf)))
        .await
        .unwrap();
    let err = refused(&auth, "d", &leaf).await;
    assert!(matches!(err, AuthError::SubjectMismatch { .. }), "{err:?}");
}

#[tokio::test]
async fn v1_certificates_are_refused_for_tls_client_auth_and_accepted_self_signed() {
    // RFC 8705 Appendix A: v1, self-signed, expired. For
    // self_signed_tls_client_auth neither matters (RFC 8705 §2.2).
    let appendix_a = Certificate::from_pem(vectors::RFC8705_APPENDIX_A_PEM).unwrap();
    let mut m = ClientMetadata::new("ss", TokenEndpointAuthMethod::SelfSignedTlsClientAuth);
    m.jwks = Some(ClientJwks::from_certificates([&appendix_a]));
    let ca = Resigner::new("Hostile CA");
    let leaf = ca.issue(ca.leaf("v1 client"), |tbs| {
        tbs.remove(TBS_EXTENSIONS);
        tbs.remove(TBS_VERSION);
    });
    let auth = resigner_authenticator(
        &ca,
        vec![
            m,
            tls_client("v1", "tls_client_auth_subject_dn", "CN=v1 client"),
        ],
    );
    let presented = ClientCert::new(appendix_a, vec![], CertSource::Tls);
    auth.authenticate("ss", Some(&presented)).await.unwrap();

    let err = refused(&auth, "v1", &leaf).await;
    assert!(
        matches!(&err, AuthError::InvalidPath(r) if r.contains("UnsupportedCertVersion")),
        "{err:?}"
    );
}

#[tokio::test]
async fn unsupported_signature_algorithms_are_refused_by_path_validation() {
    let ca = Resigner::new("Hostile CA");
    let auth = resigner_authenticator(
        &ca,
        vec![tls_client("c", "tls_client_auth_subject_dn", "CN=client")],
    );
    for alg in [
        hostile::sha1_with_rsa(),
        hostile::algorithm(&[1, 3, 6, 1, 4, 1, 99999, 4]),
    ] {
        let leaf = ca.issue(ca.leaf("client"), |tbs| tbs[TBS_SIGNATURE] = alg.clone());
        let err = refused(&auth, "c", &leaf).await;
        assert!(
            matches!(&err, AuthError::InvalidPath(r) if r.contains("UnsupportedSignatureAlgorithm")),
            "{err:?}"
        );
    }
}

#[tokio::test]
async fn a_tampered_certificate_is_an_unknown_issuer() {
    let ca = Resigner::new("Hostile CA");
    let leaf = ca.issue(ca.leaf("client"), |_| {});
    // Flip a bit of the subject after signing: the signature no longer holds.
    let mut der = leaf.der.clone();
    let at = der.windows(6).position(|w| w == b"client").unwrap();
    der[at] ^= 0x20;
    let tampered = TestCert { der, ..leaf };
    let auth = resigner_authenticator(
        &ca,
        vec![tls_client("c", "tls_client_auth_subject_dn", "CN=Client")],
    );
    let err = refused(&auth, "c", &tampered).await;
    assert!(matches!(err, AuthError::UnknownIssuer), "{err:?}");
}
