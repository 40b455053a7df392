//! The fetcher against real HTTP(S) servers on 127.0.0.1: limits,
//! redirects, the client-URL address policy, max-age, mTLS, Basic auth.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use certbound_fetch::{BasicAuth, FetchError, Fetcher, FetcherBuilder};
use certbound_testkit::tls::{self, ClientCerts};
use certbound_testkit::{TestCa, TestCert};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// A server on 127.0.0.1 (TLS when a config is given); stops when dropped.
struct Server {
    addr: SocketAddr,
    _stop: oneshot::Sender<()>,
}

impl Server {
    fn url(&self, path: &str) -> String {
        format!("https://localhost:{}{path}", self.addr.port())
    }
}

async fn serve(tls: Option<rustls::ServerConfig>, app: Router) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let acceptor = tls.map(|mut c| {
        c.alpn_protocols = vec![b"http/1.1".to_vec()];
        tokio_rustls::TlsAcceptor::from(Arc::new(c))
    });
    let (stop, mut stopped) = oneshot::channel::<()>();
    tokio::spawn(async move {
        loop {
            let tcp = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((tcp, _)) => tcp,
                    Err(_) => continue,
                },
                _ = &mut stopped => break,
            };
            let acceptor = acceptor.clone();
            let service = hyper_util::service::TowerToHyperService::new(app.clone());
            tokio::spawn(async move {
                let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
                match acceptor {
                    Some(acceptor) => {
                        let Ok(tls) = acceptor.accept(tcp).await else {
                            return;
                        };
                        let _ = builder.serve_connection(TokioIo::new(tls), service).await;
                    }
                    None => {
                        let _ = builder.serve_connection(TokioIo::new(tcp), service).await;
                    }
                }
            });
        }
    });
    Server { addr, _stop: stop }
}

struct Pki {
    ca: TestCa,
    server: TestCert,
}

fn pki() -> Pki {
    let ca = TestCa::new("Fetch Test CA");
    let server = tls::localhost(&ca);
    Pki { ca, server }
}

fn app() -> Router {
    Router::new()
        .route("/jwks", get(|| async { r#"{"keys":[]}"# }))
        .route(
            "/cached",
            get(|| async { ([(header::CACHE_CONTROL, "public, max-age=7200")], "{}") }),
        )
        .route(
            "/short",
            get(|| async { ([(header::CACHE_CONTROL, "max-age=1")], "{}") }),
        )
        .route(
            "/no-store",
            get(|| async { ([(header::CACHE_CONTROL, "no-store")], "{}") }),
        )
        .route("/big", get(|| async { "x".repeat(10_000) }))
        .route(
            "/big-chunked",
            get(|| async {
                let chunks = (0..10).map(|_| Ok::<_, std::io::Error>("x".repeat(1_000)));
                axum::body::Body::from_stream(tokio_stream::iter(chunks))
            }),
        )
        .route(
            "/redirect",
            get(|| async {
                (
                    StatusCode::FOUND,
                    [(header::LOCATION, "https://example.com/")],
                )
            }),
        )
        .route("/missing", get(|| async { StatusCode::NOT_FOUND }))
        .route(
            "/stall",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(60)).await;
                "late"
            }),
        )
        .route(
            "/introspect",
            post(|headers: HeaderMap, body: String| async move {
                let auth = headers
                    .get(header::AUTHORIZATION)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_owned();
                format!("{auth}|{body}").into_response()
            }),
        )
}

fn operator(pki: &Pki) -> FetcherBuilder {
    Fetcher::for_operator_urls()
        .crypto_provider(tls::provider())
        .only_root_certificates([CertificateDer::from(pki.ca.cert.der.clone())])
}

fn client_urls(pki: &Pki) -> FetcherBuilder {
    Fetcher::for_client_urls()
        .crypto_provider(tls::provider())
        .only_root_certificates([CertificateDer::from(pki.ca.cert.der.clone())])
}

async fn https(pki: &Pki) -> Server {
    serve(
        Some(tls::server_config(&pki.server, ClientCerts::None)),
        app(),
    )
    .await
}

#[tokio::test]
async fn operator_fetch_returns_the_body() {
    let pki = pki();
    let server = https(&pki).await;
    let fetched = operator(&pki)
        .build()
        .unwrap()
        .get(&server.url("/jwks"))
        .await
        .unwrap();
    assert_eq!(fetched.body(), br#"{"keys":[]}"#);
    assert_eq!(fetched.max_age(), None);
}

#[tokio::test]
async fn max_age_is_held_within_the_configured_bounds() {
    let pki = pki();
    let server = https(&pki).await;
    let fetcher = operator(&pki)
        .max_age_bounds(Duration::from_secs(60), Duration::from_secs(3600))
        .build()
        .unwrap();
    let age = |path: &'static str| {
        let fetcher = fetcher.clone();
        let url = server.url(path);
        async move { fetcher.get(&url).await.unwrap().max_age() }
    };
    assert_eq!(age("/cached").await, Some(Duration::from_secs(3600)));
    assert_eq!(age("/short").await, Some(Duration::from_secs(60)));
    assert_eq!(age("/no-store").await, Some(Duration::from_secs(60)));
}

#[tokio::test]
async fn a_response_over_the_size_limit_is_refused() {
    let pki = pki();
    let server = https(&pki).await;
    let fetcher = operator(&pki).max_response_size(4_096).build().unwrap();
    for path in ["/big", "/big-chunked"] {
        assert!(
            matches!(
                fetcher.get(&server.url(path)).await,
                Err(FetchError::TooLarge { limit: 4_096 })
            ),
            "{path}"
        );
    }
    assert!(fetcher.get(&server.url("/jwks")).await.is_ok());
}

#[tokio::test]
async fn a_stalling_server_times_out() {
    let pki = pki();
    let server = https(&pki).await;
    let fetcher = operator(&pki)
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    assert!(matches!(
        fetcher.get(&server.url("/stall")).await,
        Err(FetchError::Timeout)
    ));
}

#[tokio::test]
async fn a_server_that_never_finishes_the_handshake_times_out() {
    let pki = pki();
    // Accepts TCP connections and never says a word.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let silent = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((tcp, _)) = listener.accept().await {
            held.push(tcp);
        }
    });
    let fetcher = operator(&pki)
        .connect_timeout(Duration::from_millis(300))
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let result = fetcher
        .get(&format!("https://localhost:{}/jwks", addr.port()))
        .await;
    assert!(matches!(result, Err(FetchError::Timeout)), "{result:?}");
    silent.abort();
}

#[tokio::test]
async fn redirects_are_refused() {
    let pki = pki();
    let server = https(&pki).await;
    let result = operator(&pki)
        .build()
        .unwrap()
        .get(&server.url("/redirect"))
        .await;
    assert!(
        matches!(&result, Err(FetchError::RedirectRefused { location: Some(l) }) if l == "https://example.com/"),
        "{result:?}"
    );
}

#[tokio::test]
async fn a_status_other_than_200_is_an_error() {
    let pki = pki();
    let server = https(&pki).await;
    let result = operator(&pki)
        .build()
        .unwrap()
        .get(&server.url("/missing"))
        .await;
    assert!(matches!(result, Err(FetchError::Status(404))), "{result:?}");
}

#[tokio::test]
async fn an_https_client_url_resolving_to_loopback_is_refused_by_default() {
    let pki = pki();
    let server = https(&pki).await;
    let refused = client_urls(&pki).build().unwrap();
    let result = refused.get(&server.url("/jwks")).await;
    assert!(
        matches!(&result, Err(FetchError::ForbiddenAddress { host, address }) if host == "localhost" && address.is_loopback()),
        "{result:?}"
    );
    let literal = format!("https://127.0.0.1:{}/jwks", server.addr.port());
    assert!(matches!(
        refused.get(&literal).await,
        Err(FetchError::ForbiddenAddress { .. })
    ));
}

#[tokio::test]
async fn a_loopback_client_url_is_fetched_when_its_host_is_allowed_by_name() {
    let pki = pki();
    let server = https(&pki).await;
    let allowed = client_urls(&pki).allow_host("LocalHost").build().unwrap();
    assert!(allowed.get(&server.url("/jwks")).await.is_ok());
}

#[tokio::test]
async fn plain_http_is_allowed_for_operator_crls_only() {
    let pki = pki();
    let server = serve(None, app()).await;
    let url = format!("http://localhost:{}/jwks", server.addr.port());
    let operator = operator(&pki).build().unwrap();
    assert!(operator.get_crl(&url).await.is_ok());
    assert!(matches!(
        operator.get(&url).await,
        Err(FetchError::SchemeRefused { .. })
    ));
    let client = client_urls(&pki).allow_host("localhost").build().unwrap();
    assert!(matches!(
        client.get_crl(&url).await,
        Err(FetchError::SchemeRefused { .. })
    ));
}

#[tokio::test]
async fn an_untrusted_server_certificate_is_a_tls_error() {
    let pki = pki();
    let server = https(&pki).await;
    let stranger = TestCa::new("Other CA");
    let fetcher = Fetcher::for_operator_urls()
        .crypto_provider(tls::provider())
        .only_root_certificates([CertificateDer::from(stranger.cert.der.clone())])
        .build()
        .unwrap();
    let result = fetcher.get(&server.url("/jwks")).await;
    assert!(matches!(result, Err(FetchError::Tls(_))), "{result:?}");
}

#[tokio::test]
async fn the_client_certificate_is_presented_to_a_server_that_requires_one() {
    let pki = pki();
    let client_ca = TestCa::new("Client CA");
    let client = client_ca.leaf("rs-1").issue();
    let server = serve(
        Some(tls::server_config(
            &pki.server,
            ClientCerts::Required(&client_ca),
        )),
        app(),
    )
    .await;
    let without = operator(&pki).build().unwrap();
    assert!(without.get(&server.url("/jwks")).await.is_err());
    let with = operator(&pki)
        .identity(
            vec![CertificateDer::from(client.der.clone())],
            PrivateKeyDer::try_from(client.key_der.clone()).unwrap(),
        )
        .build()
        .unwrap();
    assert!(with.get(&server.url("/jwks")).await.is_ok());
}

#[tokio::test]
async fn post_form_sends_the_form_and_basic_credentials_form_encoded() {
    let pki = pki();
    let server = https(&pki).await;
    let fetcher = operator(&pki).build().unwrap();
    let fetched = fetcher
        .post_form(
            &server.url("/introspect"),
            &[("token", "a b&c"), ("token_type_hint", "access_token")],
            Some(&BasicAuth::new("rs:1", "s3cr=t")),
        )
        .await
        .unwrap();
    let text = String::from_utf8(fetched.into_body().to_vec()).unwrap();
    // base64("rs%3A1:s3cr%3Dt")
    assert_eq!(
        text,
        "Basic cnMlM0ExOnMzY3IlM0R0|token=a+b%26c&token_type_hint=access_token"
    );
}

#[tokio::test]
async fn an_added_root_is_trusted_beside_the_platform_roots() {
    let pki = pki();
    let server = https(&pki).await;
    let fetcher = Fetcher::for_operator_urls()
        .crypto_provider(tls::provider())
        .add_root_certificate(CertificateDer::from(pki.ca.cert.der.clone()))
        .build()
        .unwrap();
    let result = fetcher.get(&server.url("/jwks")).await;
    assert!(result.is_ok(), "{result:?}");
}
