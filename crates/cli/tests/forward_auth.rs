//! `certbound forward-auth` as a process: configured by a TOML file with a
//! flag overriding it, keys from the demo's authorization server (RFC 8414
//! metadata and JWKS over TLS on loopback), `/healthz`, `/metrics`, a check,
//! and JSON logs on standard error.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Read as _;
use std::net::{SocketAddr, TcpListener};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bytes::Bytes;
use certbound_cli::demo::{self, DemoConfig};
use certbound_cli::forward_auth::{Args, Settings};
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Stops the process when dropped.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `GET path` over plain HTTP; `None` when nothing listens yet.
async fn get(addr: SocketAddr, path: &str, headers: &[(&str, &str)]) -> Option<(u16, String)> {
    let tcp = tokio::net::TcpStream::connect(addr).await.ok()?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
        .await
        .ok()?;
    tokio::spawn(conn);
    let mut req = http::Request::get(path).header("host", "fa");
    for (n, v) in headers {
        req = req.header(*n, *v);
    }
    let res = sender
        .send_request(req.body(Empty::<Bytes>::new()).unwrap())
        .await
        .ok()?;
    let status = res.status().as_u16();
    let body = res.into_body().collect().await.ok()?.to_bytes();
    Some((status, String::from_utf8_lossy(&body).into_owned()))
}

#[tokio::test]
async fn the_command_reads_its_toml_file_serves_healthz_metrics_and_checks_and_logs_json() {
    let dir = std::env::temp_dir().join(format!("certbound-fa-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let running = demo::start(&DemoConfig {
        out: dir.join("demo"),
        addr: "127.0.0.1:0".parse().unwrap(),
        mtls_addr: "127.0.0.1:0".parse().unwrap(),
        rs_addr: "127.0.0.1:0".parse().unwrap(),
        behind_proxy: None,
        crl_addr: "127.0.0.1:0".parse().unwrap(),
        ..DemoConfig::default()
    })
    .await
    .unwrap();
    let audience = running.urls.resource.trim_end_matches("/resource");
    let port = free_port();
    let config = dir.join("forward-auth.toml");
    // The file says 127.0.0.2 (nothing would answer there for the test);
    // --listen on the command line overrides it.
    std::fs::write(
        &config,
        format!(
            r#"listen = "127.0.0.2:1"
issuer = "{issuer}"
ca = ["{ca}"]
audience = "{audience}"
cert_format = "pem-urlencoded"
trusted_proxy = ["127.0.0.1/32"]
log_format = "json"
"#,
            issuer = running.urls.issuer,
            ca = dir.join("demo/ca.pem").display(),
        ),
    )
    .unwrap();
    let stderr = dir.join("stderr.log");
    let child = Command::new(env!("CARGO_BIN_EXE_certbound"))
        .args(["forward-auth", "--config"])
        .arg(&config)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&stderr).unwrap())
        .spawn()
        .unwrap();
    let mut process = Process(child);
    let addr = SocketAddr::from(([127, 0, 0, 1], port));

    // Ready once the keys are loaded.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some((200, body)) = get(addr, "/healthz", &[]).await {
            assert_eq!(body, "ready\n");
            break;
        }
        if let Ok(Some(status)) = process.0.try_wait() {
            let mut log = String::new();
            std::fs::File::open(&stderr)
                .unwrap()
                .read_to_string(&mut log)
                .unwrap();
            panic!("forward-auth exited with {status}:\n{log}");
        }
        assert!(Instant::now() < deadline, "forward-auth not ready in 30s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // A check without a token, from 127.0.0.1 (a trusted proxy).
    let (status, _) = get(addr, "/auth", &[]).await.unwrap();
    assert_eq!(status, 401);

    let (status, metrics) = get(addr, "/metrics", &[]).await.unwrap();
    assert_eq!(status, 200);
    assert!(
        metrics.contains("certbound_forward_auth_requests_total{outcome=\"unauthorized\"} 1\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("certbound_forward_auth_key_refreshes_total{result=\"ok\"} 1\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("certbound_forward_auth_cache_hits_total 0\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("certbound_forward_auth_ready 1\n"),
        "{metrics}"
    );

    drop(process);
    let log = std::fs::read_to_string(&stderr).unwrap();
    let first = log.lines().next().unwrap_or_default();
    let line: serde_json::Value = serde_json::from_str(first)
        .unwrap_or_else(|e| panic!("not a JSON log line ({e}): {first:?}\n{log}"));
    assert_eq!(line["fields"]["message"], "forward-auth listening", "{log}");
    drop(running);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn flags_override_the_file_and_missing_settings_are_named() {
    let dir = std::env::temp_dir().join(format!("certbound-fa-settings-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("fa.toml");
    std::fs::write(
        &config,
        r#"issuer = "https://as.example"
audience = "https://api.example"
cert_format = "pem"
trusted_proxy = ["10.0.0.0/8"]
require_binding = false
"#,
    )
    .unwrap();
    let settings = Settings::from_args(Args {
        config: Some(config.clone()),
        issuer: Some("https://other.example".into()),
        ..Args::default()
    })
    .unwrap();
    assert_eq!(settings.issuer, "https://other.example");
    assert!(!settings.require_binding);
    assert_eq!(settings.listen, "127.0.0.1:9180".parse().unwrap());

    // An unknown key is an error, not ignored.
    std::fs::write(&config, "issuer = \"https://as\"\ntrusted_proxies = []\n").unwrap();
    let err = Settings::from_args(Args {
        config: Some(config.clone()),
        ..Args::default()
    })
    .unwrap_err();
    assert!(err.to_string().contains("trusted_proxies"), "{err}");

    // No trusted proxy: refused, with the reason.
    let err = Settings::from_args(Args {
        issuer: Some("https://as".into()),
        cert_format: Some("pem".parse().unwrap()),
        ..Args::default()
    })
    .unwrap_err();
    assert!(err.to_string().contains("--trusted-proxy"), "{err}");

    // No audience: refused, unless tokens for any audience are accepted
    // by name.
    let no_audience = || Args {
        issuer: Some("https://as".into()),
        cert_format: Some("pem".parse().unwrap()),
        trusted_proxy: vec!["127.0.0.1/32".parse().unwrap()],
        ..Args::default()
    };
    let err = Settings::from_args(no_audience()).unwrap_err();
    assert!(err.to_string().contains("--audience is required"), "{err}");
    let settings = Settings::from_args(Args {
        danger_accept_any_audience: true,
        ..no_audience()
    })
    .unwrap();
    assert_eq!(settings.audience, None);

    // Introspection without credentials: refused.
    let err = Settings::from_args(Args {
        issuer: Some("https://as".into()),
        cert_format: Some("pem".parse().unwrap()),
        trusted_proxy: vec!["127.0.0.1/32".parse().unwrap()],
        introspection_endpoint: Some("https://as/introspect".into()),
        client_id: Some("rs".into()),
        ..Args::default()
    })
    .unwrap_err();
    assert!(err.to_string().contains("--client-secret-file"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn introspection_over_mtls_at_the_demo_judges_bound_tokens() {
    let dir = std::env::temp_dir().join(format!("certbound-fa-introspect-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let out = dir.join("demo");
    let running = demo::start(&DemoConfig {
        out: out.clone(),
        addr: "127.0.0.1:0".parse().unwrap(),
        mtls_addr: "127.0.0.1:0".parse().unwrap(),
        rs_addr: "127.0.0.1:0".parse().unwrap(),
        behind_proxy: None,
        crl_addr: "127.0.0.1:0".parse().unwrap(),
        ..DemoConfig::default()
    })
    .await
    .unwrap();
    let pki = running.pki.clone();
    let token =
        certbound_cli::demo::client::DemoClient::new(&pki.ca.cert_pem, Some(&pki.pki_client))
            .unwrap()
            .post_form(
                &format!("{}/token", running.urls.mtls_base),
                &[],
                &[
                    ("grant_type", "client_credentials"),
                    ("client_id", "pki-client"),
                ],
            )
            .await
            .unwrap()
            .json()["access_token"]
            .as_str()
            .unwrap()
            .to_owned();
    // The resource server authenticates to the introspection endpoint as
    // pki-client, by mTLS.
    let fa = certbound_cli::forward_auth::start(
        Settings::from_args(Args {
            listen: Some("127.0.0.1:0".parse().unwrap()),
            issuer: Some(running.urls.issuer.clone()),
            ca: vec![out.join("ca.pem")],
            audience: Some(
                running
                    .urls
                    .resource
                    .trim_end_matches("/resource")
                    .to_owned(),
            ),
            cert_format: Some("pem-urlencoded".parse().unwrap()),
            trusted_proxy: vec!["127.0.0.1/32".parse().unwrap()],
            introspection_endpoint: Some(format!("{}/introspect", running.urls.mtls_base)),
            client_id: Some("pki-client".into()),
            client_cert: Some(out.join("pki-client.pem")),
            client_key: Some(out.join("pki-client.key")),
            ..Args::default()
        })
        .unwrap(),
    )
    .await
    .unwrap();
    let auth = format!("Bearer {token}");
    let own = certbound_testkit::nginx_escaped_cert(&pki.pki_client.cert_pem);
    let other = certbound_testkit::nginx_escaped_cert(&pki.intruder.cert_pem);
    let (status, _) = get(
        fa.addr,
        "/auth",
        &[("authorization", &auth), ("x-ssl-client-cert", &own)],
    )
    .await
    .unwrap();
    assert_eq!(status, 200);
    let (status, _) = get(
        fa.addr,
        "/auth",
        &[("authorization", &auth), ("x-ssl-client-cert", &other)],
    )
    .await
    .unwrap();
    assert_eq!(status, 401);
    // The second check was answered from the token cache.
    let (_, metrics) = get(fa.addr, "/metrics", &[]).await.unwrap();
    assert!(
        metrics.contains("certbound_forward_auth_cache_hits_total 1\n"),
        "{metrics}"
    );
    drop(fa);
    drop(running);
    let _ = std::fs::remove_dir_all(&dir);
}
