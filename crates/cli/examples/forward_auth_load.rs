//! Requests per second of real nginx alone against the same nginx with
//! `auth_request` to `certbound forward-auth` (issue #20: at least 0.5x),
//! over keep-alive TLS with client certificates on loopback.
//!
//! `cargo run -j2 --release -p certbound-cli --example forward_auth_load -- [connections] [window_ms] [rounds]`
//!
//! Starts the demo's authorization server (the issuer), forward-auth (the
//! library's `forward_auth::start`, as the command runs it), a plain
//! upstream, and two nginx processes from
//! `examples/proxies/forward-auth/nginx.conf`: one as written, one with the
//! `auth_request` line removed (same TLS, same upstream, same keep-alive).
//! Each connection presents `pki-client`'s certificate and its bound token;
//! requests go one after another on each connection. The two setups are
//! measured in alternating windows (`rounds` of each) so that the machine's
//! other load weighs on both alike; the ratio is of the summed counts.
//! Defaults: 8 connections, 500 ms windows, 10 rounds (bounded to 256
//! connections, 50 ms to 60 s, 1000 rounds). nginx is looked up on `PATH`
//! and in `/usr/sbin`.

use std::net::{SocketAddr, TcpListener as StdListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use certbound_cli::demo::client::DemoClient;
use certbound_cli::demo::{self, DemoConfig};
use certbound_cli::forward_auth::{self, Args, Settings};
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use tokio::net::{TcpListener, TcpStream};

type Error = Box<dyn std::error::Error + Send + Sync>;

struct Nginx(Child);

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = Command::new("sh")
            .args(["-c", &format!("kill -TERM {}", self.0.id())])
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> Result<u16, Error> {
    Ok(StdListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn nginx_binary() -> Result<PathBuf, Error> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    dirs.push("/usr/sbin".into());
    dirs.into_iter()
        .map(|d| d.join("nginx"))
        .find(|p| p.is_file())
        .ok_or_else(|| "nginx not found on PATH or in /usr/sbin".into())
}

async fn start_nginx(
    dir: &Path,
    name: &str,
    vars: &[(&str, String)],
    with_auth: bool,
) -> Result<(Nginx, SocketAddr), Error> {
    let template = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../examples/proxies/forward-auth/nginx.conf"),
    )?;
    let listen = SocketAddr::from(([127, 0, 0, 1], free_port()?));
    let rundir = dir.join(name);
    std::fs::create_dir_all(&rundir)?;
    let mut conf = template;
    if !with_auth {
        conf = conf.replace("            auth_request /_certbound;\n", "");
    }
    // nginx closes a client connection after 1000 requests by default; the
    // harness measures requests, not handshakes.
    conf = conf.replacen("http {\n", "http {\n    keepalive_requests 10000000;\n", 1);
    for (k, v) in vars {
        conf = conf.replace(&format!("{{{{{k}}}}}"), v);
    }
    conf = conf
        .replace("{{LISTEN}}", &listen.to_string())
        .replace("{{RUNDIR}}", &rundir.display().to_string());
    if conf.contains("{{") {
        return Err("unsubstituted placeholder in nginx.conf".into());
    }
    let path = rundir.join("nginx.conf");
    std::fs::write(&path, conf)?;
    let child = Command::new(nginx_binary()?)
        .arg("-c")
        .arg(&path)
        .args(["-g", "daemon off;"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let nginx = Nginx(child);
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(listen).await.is_err() {
        if Instant::now() > deadline {
            return Err(format!("nginx ({name}) did not listen on {listen}").into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok((nginx, listen))
}

/// A plain upstream answering "ok".
async fn upstream() -> Result<SocketAddr, Error> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let app = axum::Router::new().fallback(|| async { "ok" });
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(addr)
}

/// One keep-alive TLS connection sending requests while `running`, counting
/// 200s into `count` when `counting`.
async fn client(
    addr: SocketAddr,
    tls: Arc<rustls::ClientConfig>,
    auth: String,
    counting: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    count: Arc<AtomicU64>,
) -> Result<(), Error> {
    let tcp = TcpStream::connect(addr).await?;
    tcp.set_nodelay(true)?;
    let stream = tokio_rustls::TlsConnector::from(tls)
        .connect(ServerName::try_from("localhost")?.to_owned(), tcp)
        .await?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(conn);
    while !stop.load(Ordering::Relaxed) {
        if !counting.load(Ordering::Relaxed) {
            tokio::time::sleep(Duration::from_millis(5)).await;
            continue;
        }
        let req = http::Request::get("/api/things")
            .header("host", "localhost")
            .header("authorization", &auth)
            .body(Empty::<Bytes>::new())?;
        let res = sender.send_request(req).await?;
        let status = res.status();
        let _ = res.into_body().collect().await?;
        if status != 200 {
            return Err(format!("status {status}").into());
        }
        count.fetch_add(1, Ordering::Relaxed);
    }
    Ok(())
}

fn arg(n: usize, default: u64, min: u64, max: u64) -> u64 {
    std::env::args()
        .nth(n)
        .and_then(|a| a.parse().ok())
        .unwrap_or(default)
        .clamp(min, max)
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let connections = arg(1, 8, 1, 256);
    let window = Duration::from_millis(arg(2, 500, 50, 60_000));
    let rounds = arg(3, 10, 1, 1000);
    let _ = rustls::crypto::ring::default_provider().install_default();

    let dir = std::env::temp_dir().join(format!("certbound-fa-load-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let demo = demo::start(&DemoConfig {
        out: dir.join("demo"),
        addr: "127.0.0.1:0".parse()?,
        mtls_addr: "127.0.0.1:0".parse()?,
        rs_addr: "127.0.0.1:0".parse()?,
        behind_proxy: None,
        crl_addr: "127.0.0.1:0".parse()?,
        ..DemoConfig::default()
    })
    .await?;
    let pki = demo.pki.clone();
    let token = DemoClient::new(&pki.ca.cert_pem, Some(&pki.pki_client))?
        .post_form(
            &format!("{}/token", demo.urls.mtls_base),
            &[],
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "pki-client"),
            ],
        )
        .await?
        .json()["access_token"]
        .as_str()
        .ok_or("no access token")?
        .to_owned();

    let fa = forward_auth::start(Settings::from_args(Args {
        listen: Some("127.0.0.1:0".parse()?),
        issuer: Some(demo.urls.issuer.clone()),
        ca: vec![dir.join("demo/ca.pem")],
        audience: Some(demo.urls.resource.trim_end_matches("/resource").to_owned()),
        cert_format: Some("pem-urlencoded".parse()?),
        trusted_proxy: vec!["127.0.0.1/32".parse()?],
        ..Args::default()
    })?)
    .await?;
    if !fa.ready(Duration::from_secs(20)).await {
        return Err("forward-auth did not load the keys".into());
    }
    let upstream = upstream().await?;
    let vars = [
        ("UPSTREAM", upstream.to_string()),
        ("FORWARD_AUTH", fa.addr.to_string()),
        ("CERT", dir.join("demo/server.pem").display().to_string()),
        ("KEY", dir.join("demo/server.key").display().to_string()),
    ];
    let (_alone, alone_addr) = start_nginx(&dir, "alone", &vars, false).await?;
    let (_with, with_addr) = start_nginx(&dir, "with", &vars, true).await?;

    let mut roots = rustls::RootCertStore::empty();
    roots.add(CertificateDer::from(pki.ca.cert_der.clone()))?;
    let tls = Arc::new(
        rustls::ClientConfig::builder()
            .with_root_certificates(roots)
            .with_client_auth_cert(
                vec![CertificateDer::from(pki.pki_client.cert_der.clone())],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(pki.pki_client.key_der.clone())),
            )?,
    );
    let auth = format!("Bearer {token}");
    let stop = Arc::new(AtomicBool::new(false));
    let mut setups = Vec::new();
    for addr in [alone_addr, with_addr] {
        let counting = Arc::new(AtomicBool::new(false));
        let count = Arc::new(AtomicU64::new(0));
        let mut tasks = Vec::new();
        for _ in 0..connections {
            tasks.push(tokio::spawn(client(
                addr,
                tls.clone(),
                auth.clone(),
                counting.clone(),
                stop.clone(),
                count.clone(),
            )));
        }
        setups.push((counting, count, tasks));
    }
    let mut totals = [0u64; 2];
    for round in 0..rounds {
        for i in 0..2 {
            let which = (i + round as usize) % 2;
            let (counting, count, _) = &setups[which];
            let before = count.load(Ordering::Relaxed);
            counting.store(true, Ordering::Relaxed);
            tokio::time::sleep(window).await;
            counting.store(false, Ordering::Relaxed);
            // Let requests in flight finish before the other setup starts.
            tokio::time::sleep(Duration::from_millis(20)).await;
            totals[which] += count.load(Ordering::Relaxed) - before;
        }
    }
    stop.store(true, Ordering::Relaxed);
    for (_, _, tasks) in setups {
        for t in tasks {
            t.await??;
        }
    }
    let seconds = window.as_secs_f64() * rounds as f64;
    let alone = totals[0] as f64 / seconds;
    let with = totals[1] as f64 / seconds;
    println!(
        "{connections} keep-alive TLS connections, {rounds} x {} ms per setup",
        window.as_millis()
    );
    println!("nginx alone:                 {alone:>10.0} requests/s");
    println!("nginx + forward-auth:        {with:>10.0} requests/s");
    println!("ratio (issue #20: >= 0.5):   {:>10.2}", with / alone);
    let counts = fa.auth.metrics().snapshot();
    println!(
        "forward-auth: {} allowed, {} refused",
        counts.allowed,
        counts.unauthorized + counts.forbidden + counts.unavailable + counts.error
    );
    drop(fa);
    drop(demo);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
