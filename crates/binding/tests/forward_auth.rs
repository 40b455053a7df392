//! `ForwardAuth` as a proxy sees it: served over HTTP on 127.0.0.1, asked
//! with the headers a TLS-terminating proxy sends (the client certificate as
//! URL-encoded PEM, as nginx's `$ssl_client_escaped_cert`), with the
//! authorization server's keys fetched over real TLS from a JWKS endpoint on
//! loopback.
#![cfg(feature = "http")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use bytes::Bytes;
use certbound_binding::{ForwardAuth, JwtValidator, KeyRefresh};
use certbound_extract::header::HeaderFormat;
use certbound_extract::{HeaderSource, PeerCertificatesLayer};
use certbound_fetch::Fetcher;
use certbound_testkit::{TestCert, nginx_escaped_cert};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::CertificateDer;
use support::{
    AUDIENCE, Alg, ISSUER, Keys, Pki, payload, serve_tls, server_config, tamper_signature,
    thumbprint,
};
use tokio::net::{TcpListener, TcpStream};
use tower::Layer;

/// The authorization server's JWKS, served over TLS.
struct Authority {
    keys: Keys,
    pki: Pki,
    jwks_uri: String,
    _server: support::Server,
}

async fn authority() -> Authority {
    let keys = Keys::new();
    let pki = Pki::new();
    let jwks = keys.jwks_json();
    let app = Router::new().route(
        "/jwks",
        get(move || {
            let jwks = jwks.clone();
            async move { ([("content-type", "application/json")], jwks) }
        }),
    );
    let server = serve_tls(server_config(&pki), app).await;
    Authority {
        jwks_uri: format!("https://localhost:{}/jwks", server.addr.port()),
        keys,
        pki,
        _server: server,
    }
}

fn fetcher(pki: &Pki) -> Fetcher {
    Fetcher::for_operator_urls()
        .crypto_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .only_root_certificates([CertificateDer::from(pki.ca.cert.der.clone())])
        .timeout(Duration::from_secs(2))
        .build()
        .unwrap()
}

async fn validator(jwks_uri: &str, pki: &Pki) -> Arc<JwtValidator> {
    let v = JwtValidator::from_jwks_uri(jwks_uri, fetcher(pki))
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .key_refresh(KeyRefresh::default().retry_interval(Duration::from_millis(200)))
        .build()
        .unwrap();
    Arc::new(v)
}

/// Serves `auth` over HTTP/1.1 on 127.0.0.1, with each connection's peer
/// address, as the `certbound forward-auth` command does.
async fn serve(auth: ForwardAuth<JwtValidator>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, peer)) = listener.accept().await else {
                continue;
            };
            let svc = PeerCertificatesLayer::new(None)
                .peer_addr(peer)
                .layer(auth.clone());
            tokio::spawn(
                hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(
                        TokioIo::new(tcp),
                        hyper_util::service::TowerToHyperService::new(svc),
                    )
                    .into_owned(),
            );
        }
    });
    addr
}

fn source(trusted: &str) -> HeaderSource {
    HeaderSource::new(HeaderFormat::PemUrlEncoded).trusted_proxies([trusted.parse().unwrap()])
}

/// What the proxy got.
#[derive(Debug)]
struct Verdict {
    status: u16,
    headers: http::HeaderMap,
}

impl Verdict {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }
}

/// One subrequest as a proxy makes it: the client's headers plus the
/// certificate header.
async fn ask(addr: SocketAddr, headers: &[(&str, &str)]) -> Verdict {
    let tcp = TcpStream::connect(addr).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
        .await
        .unwrap();
    tokio::spawn(conn);
    let mut req = http::Request::get("/any/path?x=1").header("host", "auth");
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let res = sender
        .send_request(req.body(Full::<Bytes>::default()).unwrap())
        .await
        .unwrap();
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let _ = res.into_body().collect().await.unwrap();
    Verdict { status, headers }
}

fn cert_header(cert: &TestCert) -> String {
    nginx_escaped_cert(&cert.pem)
}

struct Setup {
    authority: Authority,
    auth: ForwardAuth<JwtValidator>,
    addr: SocketAddr,
}

async fn setup(require_binding: bool) -> Setup {
    let authority = authority().await;
    let v = validator(&authority.jwks_uri, &authority.pki).await;
    tokio::time::timeout(Duration::from_secs(10), v.ready())
        .await
        .expect("keys loaded");
    let auth = ForwardAuth::new(source("127.0.0.0/8"), v).require_binding(require_binding);
    let addr = serve(auth.clone()).await;
    Setup {
        authority,
        auth,
        addr,
    }
}

#[tokio::test]
async fn a_bound_token_with_its_certificate_is_allowed_with_the_identity_headers() {
    let s = setup(true).await;
    let client = &s.authority.pki.client;
    let token = s
        .authority
        .keys
        .sign(Alg::Es256, &payload(Some(thumbprint(client))));
    let v = ask(
        s.addr,
        &[
            ("authorization", &format!("Bearer {token}")),
            ("x-ssl-client-cert", &cert_header(client)),
        ],
    )
    .await;
    assert_eq!(v.status, 200, "{v:?}");
    assert_eq!(v.header("x-certbound-client-id"), Some("client-1"));
    assert_eq!(v.header("x-certbound-subject"), Some("alice"));
    assert_eq!(v.header("x-certbound-scope"), Some("read"));
    assert_eq!(
        v.header("x-certbound-cnf"),
        Some(thumbprint(client).to_string().as_str())
    );
    assert_eq!(v.header("www-authenticate"), None);
    assert_eq!(s.auth.metrics().snapshot().allowed, 1);
}

#[tokio::test]
async fn refusals_are_401_with_rfc_6750_challenges() {
    let s = setup(true).await;
    let pki = &s.authority.pki;
    let keys = &s.authority.keys;
    let bound = keys.sign(Alg::Es256, &payload(Some(thumbprint(&pki.client))));
    let bearer = format!("Bearer {bound}");
    let client_header = cert_header(&pki.client);
    let other_header = cert_header(&pki.other_client);

    // Another certificate than the one the token is bound to.
    let v = ask(
        s.addr,
        &[
            ("authorization", &bearer),
            ("x-ssl-client-cert", &other_header),
        ],
    )
    .await;
    assert_eq!(v.status, 401);
    assert!(
        v.header("www-authenticate")
            .unwrap()
            .contains(r#"error="invalid_token""#)
    );
    assert_eq!(v.header("x-certbound-client-id"), None);

    // No certificate at all.
    let v = ask(s.addr, &[("authorization", &bearer)]).await;
    assert_eq!(v.status, 401);
    assert!(
        v.header("www-authenticate")
            .unwrap()
            .contains(r#"error="invalid_token""#)
    );

    // No token: a bare challenge (RFC 6750 §3.1).
    let v = ask(s.addr, &[("x-ssl-client-cert", &client_header)]).await;
    assert_eq!(v.status, 401);
    assert_eq!(v.header("www-authenticate"), Some("Bearer"));

    // A malformed Authorization header: invalid_request, as 401 for nginx.
    let v = ask(
        s.addr,
        &[
            ("authorization", "Bearer a b"),
            ("x-ssl-client-cert", &client_header),
        ],
    )
    .await;
    assert_eq!(v.status, 401);
    assert!(
        v.header("www-authenticate")
            .unwrap()
            .contains(r#"error="invalid_request""#)
    );

    // A certificate header that does not decode.
    let v = ask(
        s.addr,
        &[
            ("authorization", &bearer),
            ("x-ssl-client-cert", "-----BEGIN%20CERTIFICATE-----%0Anope"),
        ],
    )
    .await;
    assert_eq!(v.status, 401);
    assert!(
        v.header("www-authenticate")
            .unwrap()
            .contains(r#"error="invalid_request""#)
    );

    // A bad signature and a key nobody trusts.
    for token in [
        tamper_signature(&bound),
        keys.sign_with_rogue_key(&payload(Some(thumbprint(&pki.client)))),
    ] {
        let v = ask(
            s.addr,
            &[
                ("authorization", &format!("Bearer {token}")),
                ("x-ssl-client-cert", &client_header),
            ],
        )
        .await;
        assert_eq!(v.status, 401);
        assert!(
            v.header("www-authenticate")
                .unwrap()
                .contains(r#"error="invalid_token""#)
        );
    }

    // An unbound token: binding is required.
    let unbound = keys.sign(Alg::Es256, &payload(None));
    let v = ask(
        s.addr,
        &[
            ("authorization", &format!("Bearer {unbound}")),
            ("x-ssl-client-cert", &client_header),
        ],
    )
    .await;
    assert_eq!(v.status, 401);

    assert_eq!(s.auth.metrics().snapshot().unauthorized, 8);
    assert_eq!(s.auth.metrics().snapshot().allowed, 0);
}

#[tokio::test]
async fn a_grpc_request_is_refused_with_a_401_not_a_grpc_200() {
    let s = setup(true).await;
    let v = ask(s.addr, &[("content-type", "application/grpc")]).await;
    assert_eq!(v.status, 401);
    assert_eq!(v.header("grpc-status"), None);
}

#[tokio::test]
async fn without_required_binding_an_unbound_token_passes_but_a_bound_one_must_match() {
    let s = setup(false).await;
    let pki = &s.authority.pki;
    let keys = &s.authority.keys;
    let unbound = keys.sign(Alg::Rs256, &payload(None));
    let v = ask(s.addr, &[("authorization", &format!("Bearer {unbound}"))]).await;
    assert_eq!(v.status, 200);
    assert_eq!(v.header("x-certbound-subject"), Some("alice"));
    assert_eq!(v.header("x-certbound-cnf"), None);

    let bound = keys.sign(Alg::Rs256, &payload(Some(thumbprint(&pki.client))));
    let v = ask(
        s.addr,
        &[
            ("authorization", &format!("Bearer {bound}")),
            ("x-ssl-client-cert", &cert_header(&pki.other_client)),
        ],
    )
    .await;
    assert_eq!(v.status, 401);
}

#[tokio::test]
async fn a_peer_that_is_not_a_trusted_proxy_is_refused_403() {
    let authority = authority().await;
    let v = validator(&authority.jwks_uri, &authority.pki).await;
    v.ready().await;
    // Only 10.0.0.0/8 may ask; the test asks from 127.0.0.1.
    let auth = ForwardAuth::new(source("10.0.0.0/8"), v);
    let addr = serve(auth.clone()).await;
    let client = &authority.pki.client;
    let token = authority
        .keys
        .sign(Alg::Es256, &payload(Some(thumbprint(client))));
    let v = ask(
        addr,
        &[
            ("authorization", &format!("Bearer {token}")),
            ("x-ssl-client-cert", &cert_header(client)),
        ],
    )
    .await;
    assert_eq!(v.status, 403);
    assert_eq!(v.header("x-certbound-client-id"), None);
    assert_eq!(auth.metrics().snapshot().forbidden, 1);
}

#[tokio::test]
async fn unreachable_keys_are_503() {
    let pki = Pki::new();
    // A port nothing listens on.
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let v = validator(&format!("https://localhost:{port}/jwks"), &pki).await;
    let auth = ForwardAuth::new(source("127.0.0.0/8"), v);
    let addr = serve(auth.clone()).await;
    let keys = Keys::new();
    let token = keys.sign(Alg::Es256, &payload(Some(thumbprint(&pki.client))));
    let v = ask(
        addr,
        &[
            ("authorization", &format!("Bearer {token}")),
            ("x-ssl-client-cert", &cert_header(&pki.client)),
        ],
    )
    .await;
    assert_eq!(v.status, 503);
    assert_eq!(v.header("www-authenticate"), None);
    assert_eq!(auth.metrics().snapshot().unavailable, 1);
    assert!(!auth.validator().key_set_status().ready);
}
