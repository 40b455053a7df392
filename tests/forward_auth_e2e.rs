//! `certbound forward-auth` beside real nginx (`auth_request`) and real Caddy
//! (`forward_auth`), with the configurations from
//! `examples/proxies/forward-auth/`, in front of a plain upstream that
//! knows nothing of OAuth; the demo's authorization server is the issuer
//! (keys from its RFC 8414 metadata over TLS). The bound client gets the
//! upstream's answer with its identity; another certificate, no certificate,
//! no token, a token for another client and forged headers are refused
//! before the upstream is asked.
//!
//! A missing proxy binary skips its test with a loud message; with
//! `CI=true` it fails the test instead.

mod support;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::http::HeaderMap;
use certbound::cert::Thumbprint;
use certbound_cli::demo::client::{DemoClient, Response};
use certbound_cli::demo::{self, DemoConfig, Identity, RunningDemo};
use certbound_cli::forward_auth::{self, Args, Running};
use support::{CADDY, NGINX, ProxyKind, ProxyProcess, find_binary, free_port, render};

const NGINX_FA: ProxyKind = ProxyKind {
    template: "forward-auth/nginx.conf",
    ..NGINX
};

const CADDY_FA: ProxyKind = ProxyKind {
    template: "forward-auth/Caddyfile",
    ..CADDY
};

/// The upstream: answers every request with the X-Certbound-* and
/// certificate headers it received, as JSON, and counts requests.
async fn upstream(hits: Arc<AtomicUsize>) -> SocketAddr {
    let app = axum::Router::new().fallback(move |headers: HeaderMap| {
        let hits = hits.clone();
        async move {
            hits.fetch_add(1, Ordering::SeqCst);
            let get = |name: &str| {
                headers
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
            };
            axum::Json(serde_json::json!({
                "upstream": true,
                "client_id": get("x-certbound-client-id"),
                "subject": get("x-certbound-subject"),
                "scope": get("x-certbound-scope"),
                "cnf": get("x-certbound-cnf"),
                "cert_header": get("x-ssl-client-cert").or(get("x-ssl-client-der")),
            }))
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

/// Everything one test holds; the proxy stops first.
struct Setup {
    proxy: ProxyProcess,
    forward_auth: Running,
    demo: RunningDemo,
    base: String,
    hits: Arc<AtomicUsize>,
    dir: PathBuf,
}

impl Drop for Setup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn start(kind: &ProxyKind, binary: &Path) -> Setup {
    let mut failures = Vec::new();
    for attempt in 1..=3 {
        match try_start(kind, binary, attempt).await {
            Ok(setup) => return setup,
            Err(e) => failures.push(format!("attempt {attempt}: {e}")),
        }
    }
    panic!(
        "{} could not be started:\n{}",
        kind.name,
        failures.join("\n")
    );
}

async fn try_start(kind: &ProxyKind, binary: &Path, attempt: u32) -> Result<Setup, String> {
    let dir = std::env::temp_dir().join(format!(
        "certbound-forward-auth-e2e-{}-{}-{attempt}",
        kind.name,
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    let rundir = dir.join("run");
    let out = dir.join("demo");
    std::fs::create_dir_all(&rundir).unwrap();

    let demo = demo::start(&DemoConfig {
        out: out.clone(),
        addr: "127.0.0.1:0".parse().unwrap(),
        mtls_addr: "127.0.0.1:0".parse().unwrap(),
        rs_addr: "127.0.0.1:0".parse().unwrap(),
        behind_proxy: None,
        crl_addr: "127.0.0.1:0".parse().unwrap(),
        ..DemoConfig::default()
    })
    .await
    .map_err(|e| format!("demo: {e}"))?;
    let audience = demo.urls.resource.trim_end_matches("/resource").to_owned();

    let args = Args {
        listen: Some("127.0.0.1:0".parse().unwrap()),
        issuer: Some(demo.urls.issuer.clone()),
        ca: vec![out.join("ca.pem")],
        audience: Some(audience),
        cert_header: Some(kind.header.into()),
        cert_format: Some(kind.format.parse().unwrap()),
        trusted_proxy: vec!["127.0.0.1/32".parse().unwrap()],
        ..Args::default()
    };
    let settings = forward_auth::Settings::from_args(args).map_err(|e| e.to_string())?;
    let forward_auth = forward_auth::start(settings)
        .await
        .map_err(|e| e.to_string())?;
    assert!(
        forward_auth.ready(Duration::from_secs(20)).await,
        "forward-auth did not load the demo's keys"
    );

    let hits = Arc::new(AtomicUsize::new(0));
    let upstream = upstream(hits.clone()).await;
    let listen = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let template = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("examples/proxies")
            .join(kind.template),
    )
    .unwrap();
    let rendered = render(
        &template,
        &[
            ("LISTEN", listen.to_string()),
            ("LISTEN_HOST", listen.ip().to_string()),
            ("UPSTREAM", upstream.to_string()),
            ("FORWARD_AUTH", forward_auth.addr.to_string()),
            ("CERT", out.join("server.pem").display().to_string()),
            ("KEY", out.join("server.key").display().to_string()),
            ("RUNDIR", rundir.display().to_string()),
        ],
    );
    let conf = rundir.join(Path::new(kind.template).file_name().unwrap());
    std::fs::write(&conf, rendered).unwrap();
    let proxy = match ProxyProcess::spawn(kind, binary, &conf, &rundir, listen).await {
        Ok(p) => p,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&dir);
            return Err(e);
        }
    };
    Ok(Setup {
        proxy,
        forward_auth,
        demo,
        base: format!("https://{listen}"),
        hits,
        dir,
    })
}

fn thumbprint(id: &Identity) -> String {
    Thumbprint::of_der(&id.cert_der).to_string()
}

/// `id`'s certificate as `format` carries it in a header, forged by a client.
fn forged(format: &str, id: &Identity) -> String {
    let pem = id.cert_pem.trim();
    match format {
        "pem-urlencoded" => certbound_testkit::nginx_escaped_cert(pem),
        "der-base64" => pem.lines().filter(|l| !l.starts_with("-----")).collect(),
        other => panic!("no forgery for {other}"),
    }
}

impl Setup {
    fn ca(&self) -> &str {
        &self.demo.pki.ca.cert_pem
    }

    /// A bound token for `client_id`, got with `id`'s certificate.
    async fn token(&self, id: &Identity, client_id: &str) -> String {
        let res = DemoClient::new(self.ca(), Some(id))
            .unwrap()
            .post_form(
                &format!("{}/token", self.demo.urls.mtls_base),
                &[],
                &[
                    ("grant_type", "client_credentials"),
                    ("client_id", client_id),
                ],
            )
            .await
            .unwrap();
        assert_eq!(res.status, 200, "token for {client_id}");
        res.json()["access_token"].as_str().unwrap().to_owned()
    }

    /// `GET /api/things` through the proxy.
    async fn get(
        &self,
        id: Option<&Identity>,
        token: Option<&str>,
        extra: &[(&str, &str)],
    ) -> Response {
        let auth = token.map(|t| format!("Bearer {t}"));
        let mut headers: Vec<(&str, &str)> = extra.to_vec();
        if let Some(auth) = &auth {
            headers.push(("authorization", auth));
        }
        DemoClient::new(self.ca(), id)
            .unwrap()
            .get(&format!("{}/api/things", self.base), &headers)
            .await
            .unwrap()
    }

    fn context(&self, res: &Response) -> String {
        format!(
            "status {} headers {:?} body {}\n{}",
            res.status,
            res.headers,
            String::from_utf8_lossy(&res.body),
            self.proxy.logs()
        )
    }

    /// A refusal that never reached the upstream.
    fn assert_refused(&self, res: &Response, challenge: &str, what: &str) {
        assert_eq!(res.status, 401, "{what}: {}", self.context(res));
        assert!(
            res.header("www-authenticate").contains(challenge),
            "{what}: {}",
            self.context(res)
        );
        assert!(
            res.json()["upstream"].is_null(),
            "{what}: {}",
            self.context(res)
        );
    }
}

async fn judged_right_behind(kind: &ProxyKind) {
    let Some(binary) = find_binary(kind) else {
        return;
    };
    let s = start(kind, &binary).await;
    let pki = s.demo.pki.clone();
    let pki_token = s.token(&pki.pki_client, "pki-client").await;
    let san_token = s.token(&pki.san_client, "san-client").await;

    // The bound client: the upstream's answer, with its identity, and the
    // client's forged X-Certbound-* header replaced.
    let res = s
        .get(
            Some(&pki.pki_client),
            Some(&pki_token),
            &[("x-certbound-client-id", "admin")],
        )
        .await;
    assert_eq!(res.status, 200, "{}", s.context(&res));
    let body = res.json();
    assert_eq!(body["upstream"], true, "{}", s.context(&res));
    assert_eq!(body["client_id"], "pki-client", "{}", s.context(&res));
    assert_eq!(body["cnf"], thumbprint(&pki.pki_client).as_str());
    assert_eq!(body["cert_header"], serde_json::Value::Null);
    assert_eq!(s.hits.load(Ordering::SeqCst), 1);

    // Another certificate than the token's.
    let res = s.get(Some(&pki.intruder), Some(&pki_token), &[]).await;
    s.assert_refused(&res, r#"error="invalid_token""#, "another certificate");
    // No certificate.
    let res = s.get(None, Some(&pki_token), &[]).await;
    s.assert_refused(&res, r#"error="invalid_token""#, "no certificate");
    // No token.
    let res = s.get(Some(&pki.pki_client), None, &[]).await;
    s.assert_refused(&res, "Bearer", "no token");
    // A token for another client (bound to san-client's certificate).
    let res = s.get(Some(&pki.pki_client), Some(&san_token), &[]).await;
    s.assert_refused(&res, r#"error="invalid_token""#, "another client's token");
    // The intruder sends pki-client's certificate in the header the proxy
    // uses, with pki-client's token: the proxy replaces the header.
    let forged_pki = forged(kind.format, &pki.pki_client);
    let res = s
        .get(
            Some(&pki.intruder),
            Some(&pki_token),
            &[(kind.header, forged_pki.as_str())],
        )
        .await;
    s.assert_refused(
        &res,
        r#"error="invalid_token""#,
        "forged header, other certificate",
    );
    let res = s
        .get(
            None,
            Some(&pki_token),
            &[(kind.header, forged_pki.as_str())],
        )
        .await;
    s.assert_refused(
        &res,
        r#"error="invalid_token""#,
        "forged header, no certificate",
    );

    // Only the bound client's request reached the upstream.
    assert_eq!(s.hits.load(Ordering::SeqCst), 1);
    let counts = s.forward_auth.auth.metrics().snapshot();
    assert_eq!((counts.allowed, counts.unauthorized), (1, 6), "{counts:?}");

    // The AS rotates its signing key: a token signed by the new key (an
    // unknown `kid` to forward-auth) is accepted after the one refetch of
    // the AS's jwks_uri; the token signed before the rotation still is.
    let new_kid = s.demo.rotate_signing_key().expect("rotation");
    let rotated_token = s.token(&pki.pki_client, "pki-client").await;
    assert_eq!(kid_of(&rotated_token), new_kid);
    assert_ne!(kid_of(&pki_token), new_kid);
    let res = s
        .get(Some(&pki.pki_client), Some(&rotated_token), &[])
        .await;
    assert_eq!(res.status, 200, "rotated key: {}", s.context(&res));
    let res = s.get(Some(&pki.pki_client), Some(&pki_token), &[]).await;
    assert_eq!(res.status, 200, "pre-rotation token: {}", s.context(&res));
    assert_eq!(s.hits.load(Ordering::SeqCst), 3);
}

/// The `kid` in a JWT's protected header.
fn kid_of(token: &str) -> String {
    use base64::Engine as _;
    let header = token.split('.').next().unwrap_or_default();
    let header = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header)
        .expect("base64url header");
    let header: serde_json::Value = serde_json::from_slice(&header).expect("JSON header");
    header["kid"].as_str().expect("a kid").to_owned()
}

#[tokio::test]
async fn forward_auth_behind_nginx_judges_each_request_right() {
    judged_right_behind(&NGINX_FA).await;
}

#[tokio::test]
async fn forward_auth_behind_caddy_judges_each_request_right() {
    judged_right_behind(&CADDY_FA).await;
}
