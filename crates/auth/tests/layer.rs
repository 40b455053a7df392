//! `ClientAuthLayer` inside an axum `Router`, behind the real extraction
//! layer (`ClientCertLayer` reading an RFC 9440 header from a trusted proxy).

mod common;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::routing::post;
use certbound_auth::{
    AuthenticatedClient, Authenticator, ClientAuthLayer, ClientMetadata, TlsClientAuth,
    TokenEndpointAuthMethod, registry_from_metadata,
};
use certbound_extract::header::HeaderFormat;
use certbound_extract::{ClientCertLayer, HeaderSource, PeerAddr};
use certbound_testkit::TestCa;
use common::*;
use http::{Response, StatusCode};
use tower::ServiceExt as _;

/// The token handler: says who it saw and echoes the body it received.
async fn token(client: Option<AuthenticatedClient>, body: Bytes) -> String {
    let who = match client {
        Some(c) => format!("{} {}", c.client_id(), c.thumbprint()),
        None => "none".to_owned(),
    };
    format!("{who}\n{}", String::from_utf8_lossy(&body))
}

async fn strict(client: AuthenticatedClient) -> String {
    client.client_id().to_owned()
}

fn app(ca: &TestCa) -> Router {
    let auth = Authenticator::builder(
        registry_from_metadata([
            tls_client("bank-1", "tls_client_auth_subject_dn", "CN=bank-1"),
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
        .route("/strict", post(strict))
        .layer(ClientAuthLayer::new(auth).body_limit(1024))
        .layer(ClientCertLayer::header(source))
}

async fn oauth_error(res: Response<Body>, status: StatusCode, code: &str) {
    assert_eq!(res.status(), status);
    assert_eq!(res.headers()["content-type"], "application/json");
    assert_eq!(res.headers()["cache-control"], "no-store");
    let body: serde_json::Value = serde_json::from_str(&text(res).await).unwrap();
    assert_eq!(body["error"], code, "{body}");
    assert!(body["error_description"].is_string());
}

#[tokio::test]
async fn authenticated_client_reaches_the_handler_with_the_body_intact() {
    let ca = TestCa::new("Client CA");
    let leaf = ca.leaf("bank-1").issue();
    // Percent-escapes, `+` and a repeated non-client_id field, byte for byte.
    let body = "grant_type=client_credentials&client_id=bank-1&scope=a+b%20c&x=%2B&x=2";
    let res = app(&ca)
        .oneshot(request("/token", body, Some(&leaf)))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let got = text(res).await;
    let thumbprint = cert(&leaf).thumbprint().to_string();
    assert_eq!(got, format!("bank-1 {thumbprint}\n{body}"));
}

#[tokio::test]
async fn missing_client_id_is_invalid_request() {
    let ca = TestCa::new("Client CA");
    let leaf = ca.leaf("bank-1").issue();
    let res = app(&ca)
        .oneshot(request(
            "/token",
            "grant_type=client_credentials",
            Some(&leaf),
        ))
        .await
        .unwrap();
    oauth_error(res, StatusCode::BAD_REQUEST, "invalid_request").await;
}

#[tokio::test]
async fn repeated_client_id_is_invalid_request() {
    let ca = TestCa::new("Client CA");
    let leaf = ca.leaf("bank-1").issue();
    let res = app(&ca)
        .oneshot(request(
            "/token",
            "client_id=bank-1&client_id=bank-1",
            Some(&leaf),
        ))
        .await
        .unwrap();
    oauth_error(res, StatusCode::BAD_REQUEST, "invalid_request").await;
}

#[tokio::test]
async fn unknown_client_is_invalid_client() {
    let ca = TestCa::new("Client CA");
    let leaf = ca.leaf("bank-1").issue();
    let res = app(&ca)
        .oneshot(request("/token", "client_id=nobody", Some(&leaf)))
        .await
        .unwrap();
    oauth_error(res, StatusCode::UNAUTHORIZED, "invalid_client").await;
}

#[tokio::test]
async fn missing_certificate_is_invalid_client() {
    let ca = TestCa::new("Client CA");
    let res = app(&ca)
        .oneshot(request("/token", "client_id=bank-1", None))
        .await
        .unwrap();
    oauth_error(res, StatusCode::UNAUTHORIZED, "invalid_client").await;
}

#[tokio::test]
async fn wrong_certificate_is_invalid_client() {
    let ca = TestCa::new("Client CA");
    let other = ca.leaf("bank-2").issue();
    let res = app(&ca)
        .oneshot(request("/token", "client_id=bank-1", Some(&other)))
        .await
        .unwrap();
    oauth_error(res, StatusCode::UNAUTHORIZED, "invalid_client").await;
}

#[tokio::test]
async fn header_from_untrusted_peer_gives_no_certificate() {
    let ca = TestCa::new("Client CA");
    let leaf = ca.leaf("bank-1").issue();
    let mut req = request("/token", "client_id=bank-1", Some(&leaf));
    req.extensions_mut()
        .insert(PeerAddr("192.0.2.9:40000".parse().unwrap()));
    let res = app(&ca).oneshot(req).await.unwrap();
    oauth_error(res, StatusCode::UNAUTHORIZED, "invalid_client").await;
}

#[tokio::test]
async fn body_over_the_limit_is_413() {
    let ca = TestCa::new("Client CA");
    let leaf = ca.leaf("bank-1").issue();
    let big = format!("client_id=bank-1&pad={}", "a".repeat(2000));
    let res = app(&ca)
        .oneshot(request("/token", big.clone(), Some(&leaf)))
        .await
        .unwrap();
    oauth_error(res, StatusCode::PAYLOAD_TOO_LARGE, "invalid_request").await;

    // Without a Content-Length (streamed): cut off while reading.
    let stream = futures_stream(big);
    let res = app(&ca)
        .oneshot(request("/token", stream, Some(&leaf)))
        .await
        .unwrap();
    oauth_error(res, StatusCode::PAYLOAD_TOO_LARGE, "invalid_request").await;
}

fn futures_stream(s: String) -> Body {
    let chunks: Vec<Result<Bytes, std::io::Error>> = s
        .into_bytes()
        .chunks(100)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    Body::from_stream(tokio_stream::iter(chunks))
}

#[tokio::test]
async fn non_mtls_client_passes_through_untouched() {
    let ca = TestCa::new("Client CA");
    let body = "grant_type=client_credentials&client_id=web&client_secret=s3cret";
    let res = app(&ca)
        .oneshot(request("/token", body, None))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(text(res).await, format!("none\n{body}"));
}

#[tokio::test]
async fn basic_auth_without_client_id_passes_through() {
    let ca = TestCa::new("Client CA");
    let mut req = request("/token", "grant_type=client_credentials", None);
    req.headers_mut()
        .insert("authorization", "Basic d2ViOnMzY3JldA==".parse().unwrap());
    let res = app(&ca).oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(text(res).await, "none\ngrant_type=client_credentials");
}

#[tokio::test]
async fn non_form_body_is_invalid_request() {
    let ca = TestCa::new("Client CA");
    let mut req = request("/token", r#"{"client_id":"bank-1"}"#, None);
    req.headers_mut()
        .insert("content-type", "application/json".parse().unwrap());
    let res = app(&ca).oneshot(req).await.unwrap();
    oauth_error(res, StatusCode::BAD_REQUEST, "invalid_request").await;
}

#[tokio::test]
async fn grpc_request_is_refused_in_grpc_form() {
    let ca = TestCa::new("Client CA");
    let leaf = ca.leaf("bank-1").issue();
    let mut req = request("/token", "client_id=bank-1", Some(&leaf));
    req.headers_mut()
        .insert("content-type", "application/grpc+proto".parse().unwrap());
    let res = app(&ca).oneshot(req).await.unwrap();
    // A trailers-only gRPC status, not an HTTP error page.
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "application/grpc");
    assert_eq!(res.headers()["grpc-status"], "3");
    assert_eq!(
        res.headers()["grpc-message"],
        "the body must be application/x-www-form-urlencoded"
    );
    assert_eq!(text(res).await, "");
}

#[tokio::test]
async fn extractor_refuses_when_no_client_was_authenticated() {
    let ca = TestCa::new("Client CA");
    let res = app(&ca)
        .oneshot(request("/strict", "client_id=web", None))
        .await
        .unwrap();
    oauth_error(res, StatusCode::UNAUTHORIZED, "invalid_client").await;
    let leaf = ca.leaf("bank-1").issue();
    let res = app(&ca)
        .oneshot(request("/strict", "client_id=bank-1", Some(&leaf)))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(text(res).await, "bank-1");
}
