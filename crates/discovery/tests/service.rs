//! `MetadataService` over a real HTTP/1.1 server on loopback.

use std::net::SocketAddr;

use certbound_discovery::{AuthorizationServerMetadata, MetadataService};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

/// A server answering every request with `service`, stopped on drop.
struct Server {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Server {
    async fn start(service: MetadataService) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = axum::Router::new().fallback_service(service);
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
        });
        Self {
            addr,
            stop: Some(stop),
            task: Some(task),
        }
    }

    async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap();
        }
    }

    /// Sends one request and reads the whole response.
    async fn request(&self, method: &str, path: &str, headers: &[(&str, &str)]) -> Reply {
        let mut stream = TcpStream::connect(self.addr).await.unwrap();
        let mut req =
            format!("{method} {path} HTTP/1.1\r\nHost: as.example.com\r\nConnection: close\r\n");
        for (name, value) in headers {
            req.push_str(&format!("{name}: {value}\r\n"));
        }
        req.push_str("\r\n");
        stream.write_all(req.as_bytes()).await.unwrap();
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await.unwrap();
        Reply::parse(&raw)
    }
}

#[derive(Debug)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn parse(raw: &[u8]) -> Self {
        let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
        let head = std::str::from_utf8(&raw[..split]).unwrap();
        let mut lines = head.split("\r\n");
        let status = lines
            .next()
            .unwrap()
            .split(' ')
            .nth(1)
            .unwrap()
            .parse()
            .unwrap();
        let headers = lines
            .map(|l| {
                let (n, v) = l.split_once(':').unwrap();
                (n.trim().to_ascii_lowercase(), v.trim().to_owned())
            })
            .collect();
        Self {
            status,
            headers,
            body: raw[split + 4..].to_vec(),
        }
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

fn metadata(issuer: &str) -> AuthorizationServerMetadata {
    AuthorizationServerMetadata::builder(issuer)
        .standard_endpoints()
        .tls_client_certificate_bound_access_tokens(true)
        .auth_methods(["tls_client_auth"])
        .mtls_host("mtls.example.com")
        .build()
        .unwrap()
}

const OAUTH: &str = "/.well-known/oauth-authorization-server";
const OIDC: &str = "/.well-known/openid-configuration";

#[tokio::test]
async fn get_serves_the_document_as_json_with_cache_headers() {
    let md = metadata("https://as.example.com");
    let server = Server::start(MetadataService::new(&md).unwrap()).await;
    for path in [OAUTH, OIDC] {
        let r = server.request("GET", path, &[]).await;
        assert_eq!(r.status, 200, "{path}");
        assert_eq!(r.header("content-type"), Some("application/json"));
        assert_eq!(r.header("cache-control"), Some("public, max-age=3600"));
        let etag = r.header("etag").unwrap();
        assert!(etag.starts_with('"') && etag.ends_with('"') && !etag.starts_with("W/"));
        let served = AuthorizationServerMetadata::from_json(&r.body).unwrap();
        assert_eq!(served, md);
    }
    server.stop().await;
}

#[tokio::test]
async fn matching_if_none_match_gives_304_without_body() {
    let md = metadata("https://as.example.com");
    let service = MetadataService::new(&md).unwrap();
    let server = Server::start(service.clone()).await;
    let first = server.request("GET", OAUTH, &[]).await;
    let etag = first.header("etag").unwrap().to_owned();
    assert_eq!(etag, service.etag().to_str().unwrap());

    let again = server
        .request("GET", OAUTH, &[("If-None-Match", &etag)])
        .await;
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());
    assert_eq!(again.header("etag"), Some(etag.as_str()));
    assert_eq!(again.header("cache-control"), Some("public, max-age=3600"));

    let listed = format!("\"other\", {etag}");
    assert_eq!(
        server
            .request("GET", OAUTH, &[("If-None-Match", &listed)])
            .await
            .status,
        304
    );

    let stale = server
        .request("GET", OAUTH, &[("If-None-Match", "\"stale\"")])
        .await;
    assert_eq!(stale.status, 200);
    assert_eq!(stale.body, first.body);
    server.stop().await;
}

#[tokio::test]
async fn etag_changes_with_the_document() {
    let a = MetadataService::new(&metadata("https://as.example.com")).unwrap();
    let b = MetadataService::new(&metadata("https://as2.example.com")).unwrap();
    let a2 = MetadataService::new(&metadata("https://as.example.com")).unwrap();
    assert_ne!(a.etag(), b.etag());
    assert_eq!(a.etag(), a2.etag());
}

#[tokio::test]
async fn head_gives_the_headers_without_the_body() {
    let md = metadata("https://as.example.com");
    let server = Server::start(MetadataService::new(&md).unwrap()).await;
    let get = server.request("GET", OIDC, &[]).await;
    let head = server.request("HEAD", OIDC, &[]).await;
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    assert_eq!(head.header("content-type"), Some("application/json"));
    assert_eq!(head.header("etag"), get.header("etag"));
    assert_eq!(
        head.header("content-length"),
        Some(get.body.len().to_string().as_str())
    );
    server.stop().await;
}

#[tokio::test]
async fn other_methods_get_405_with_allow() {
    let md = metadata("https://as.example.com");
    let server = Server::start(MetadataService::new(&md).unwrap()).await;
    for method in ["POST", "PUT", "DELETE", "OPTIONS"] {
        let r = server
            .request(method, OAUTH, &[("Content-Length", "0")])
            .await;
        assert_eq!(r.status, 405, "{method}");
        assert_eq!(r.header("allow"), Some("GET, HEAD"));
        assert!(r.body.is_empty());
    }
    server.stop().await;
}

#[tokio::test]
async fn issuer_with_a_path_is_served_at_the_rfc8414_paths() {
    let md = metadata("https://as.example.com/tenant1");
    let service = MetadataService::new(&md).unwrap();
    let expected = [
        "/.well-known/oauth-authorization-server/tenant1",
        "/.well-known/openid-configuration/tenant1",
        "/tenant1/.well-known/openid-configuration",
    ];
    assert_eq!(service.paths(), expected);
    let server = Server::start(service).await;
    for path in expected {
        let r = server.request("GET", path, &[]).await;
        assert_eq!(r.status, 200, "{path}");
        assert_eq!(
            AuthorizationServerMetadata::from_json(&r.body)
                .unwrap()
                .issuer,
            md.issuer
        );
    }
    for path in [
        OAUTH,
        OIDC,
        "/tenant1/.well-known/oauth-authorization-server",
        "/.well-known/oauth-authorization-server/tenant2",
        "/.well-known/oauth-authorization-server/tenant1/",
    ] {
        assert_eq!(server.request("GET", path, &[]).await.status, 404, "{path}");
    }
    server.stop().await;
}

#[tokio::test]
async fn service_mounts_in_a_router_at_its_paths() {
    let md = metadata("https://as.example.com");
    let service = MetadataService::new(&md)
        .unwrap()
        .cache_control(http::HeaderValue::from_static("no-cache"));
    let app = service
        .paths()
        .iter()
        .fold(axum::Router::new(), |app, path| {
            app.route_service(path, service.clone())
        })
        .route("/token", axum::routing::post(|| async { "token" }));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(
            format!("GET {OIDC} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .await
        .unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let r = Reply::parse(&raw);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("cache-control"), Some("no-cache"));
    task.abort();
}
