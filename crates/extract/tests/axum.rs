//! The axum extractor, behind a (simulated) reverse proxy: `axum::serve`
//! with `ConnectInfo<SocketAddr>` on loopback, the proxy being this test.

mod support;

use std::net::SocketAddr;

use axum::response::IntoResponse;
use axum::{Router, routing::get};
use bytes::Bytes;
use certbound_extract::header::HeaderFormat;
use certbound_extract::{
    ClientCert, ClientCertLayer, ClientCertRejection, HeaderSource, RejectionReason,
};
use certbound_testkit::alb_escaped_cert;
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use support::rfc9440;
use tower::ServiceExt;

async fn whoami(cert: ClientCert) -> String {
    format!("{} {}", cert.leaf().subject(), cert.thumbprint())
}

async fn maybe(cert: Option<ClientCert>) -> String {
    cert.map_or("anonymous".to_owned(), |c| c.thumbprint().to_string())
}

fn routes() -> Router {
    Router::new()
        .route("/whoami", get(whoami))
        .route("/maybe", get(maybe))
}

async fn http_get(addr: SocketAddr, path: &str, header: Option<&str>) -> (StatusCode, String) {
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
        .await
        .unwrap();
    tokio::spawn(conn);
    let mut req = Request::get(path).header("host", "localhost");
    if let Some(v) = header {
        req = req.header("x-amzn-mtls-clientcert", v);
    }
    let res = sender
        .send_request(req.body(Empty::<Bytes>::new()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

#[tokio::test]
async fn extractor_behind_a_trusted_proxy_on_loopback() {
    // AWS ALB's X-Amzn-Mtls-Clientcert holds the whole chain.
    let source = HeaderSource::new(HeaderFormat::PemUrlEncoded)
        .header_name("x-amzn-mtls-clientcert".parse().unwrap())
        .chain_in_value(true)
        .trusted_proxies(["127.0.0.1/32".parse().unwrap()]);
    let app = routes().layer(ClientCertLayer::header(source));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });

    let f = rfc9440();
    let alb = alb_escaped_cert(&f.pems.concat());
    let (status, body) = http_get(addr, "/whoami", Some(&alb)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, format!("CN=BC {}", f.thumbprints[0]));

    let (status, body) = http_get(addr, "/whoami", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&body).unwrap(),
        serde_json::json!({
            "error": "invalid_client",
            "error_description": "a client certificate is required"
        })
    );
    assert_eq!(http_get(addr, "/maybe", None).await.1, "anonymous");
    assert_eq!(
        http_get(addr, "/maybe", Some(&alb)).await.1,
        f.thumbprints[0]
    );

    let (status, body) = http_get(addr, "/maybe", Some("-----BEGIN%20CERT")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body.contains("malformed x-amzn-mtls-clientcert header"),
        "{body}"
    );
    server.abort();
}

#[tokio::test]
async fn extractor_without_the_layer_is_a_500_that_says_so() {
    let res = routes()
        .oneshot(
            Request::get("/maybe")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let body = res.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&body).unwrap(),
        serde_json::json!({
            "error": "server_error",
            "error_description": "ClientCertLayer is not installed in front of this handler"
        })
    );
}

#[tokio::test]
async fn rejection_is_an_error_with_a_status() {
    use axum_core::extract::FromRequestParts;
    let (mut parts, ()) = Request::new(()).into_parts();
    let err: ClientCertRejection = ClientCert::from_request_parts(&mut parts, &())
        .await
        .unwrap_err();
    assert_eq!(err.reason(), RejectionReason::LayerMissing);
    let boxed: Box<dyn std::error::Error> = Box::new(err);
    assert!(boxed.to_string().contains("ClientCertLayer"));
    assert_eq!(
        err.into_response().status(),
        StatusCode::INTERNAL_SERVER_ERROR
    );
}
