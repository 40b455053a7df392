//! Load over real TLS on loopback: requests per second of a demo-style
//! resource server with certbound (`ClientCertLayer::tls()` and
//! `BoundTokenLayer`, ES256 tokens bound to each client's certificate)
//! against the same server without certbound (same TLS, same handler
//! output, no token check).
//!
//! `cargo run -j2 --release -p certbound-cli --example load -- [connections] [window_ms] [rounds]`
//!
//! Each keep-alive HTTP/1.1 connection has its own client certificate and
//! bound token; requests go one after another on each connection. Only
//! 127.0.0.1, bounded in connections per server (default 16, at most
//! 256), window length (default 500 ms, 50 ms to 60 s) and rounds (default
//! 40, at most 1000).
//!
//! Four servers are measured in short rotating windows (`rounds` of each,
//! the order rotated every round), so that whatever else the machine does
//! weighs on all alike: without certbound; with `ClientCertLayer`,
//! `BoundTokenLayer` and `CachedValidator` wrapped around the `Router`
//! (`ServiceBuilder`), as the demo's resource host does; the same added
//! with `Router::layer` (axum boxes a layered route and clones the box on
//! every request); and the two layers around the `Router` with a validator
//! that only looks each token up in a `HashMap` of tokens verified at the
//! start, which tells what the layers cost apart from the token cache.
//! Every server's connections are opened once, at the start, and stay
//! open: in a window only that server's clients send, the
//! others wait, so a window measures requests alone (no handshakes, no
//! warm-up) and windows can be short, which averages the machine's noise
//! over many of them. Each ratio is of the summed counts, with the range
//! and median of the per-round ratios. The server without the token cache
//! is measured after, in three windows.
//!
//! `load -- count SERVER REQUESTS [connections]` sends exactly `REQUESTS`
//! requests to one server (0 without certbound, 1 around the `Router`, 2
//! with `Router::layer`, 3 with the pre-verified tokens, 4 without the
//! token cache) and exits: the form to
//! run under `perf stat` or `valgrind --tool=callgrind`, where the CPU time
//! or the instructions of two runs with different counts give the cost of
//! one request, free of the machine's other load.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime};

use axum::Router;
use axum::routing::get;
use bytes::Bytes;
use certbound_binding::{
    AccessTokenValidator, BoundTokenLayer, CachedValidator, Confirmation, JwtValidator,
    TokenClaims, TokenError, VerifiedToken,
};
use certbound_cert::Certificate;
use certbound_extract::danger::AcceptAnyClientCert;
use certbound_extract::{ClientCertLayer, PeerCertificatesLayer};
use certbound_testkit::{TestCa, TestCert};
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use josekit::jws::{ES256, JwsHeader};
use josekit::jwt::{self, JwtPayload};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio_rustls::{TlsAcceptor, TlsConnector};
use tower::Layer as _;

type Error = Box<dyn std::error::Error + Send + Sync>;

const ISSUER: &str = "https://as.example.com";
const AUDIENCE: &str = "https://rs.example.com";

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn server_config(server: &TestCert) -> Result<Arc<rustls::ServerConfig>, Error> {
    let p = provider();
    let mut config = rustls::ServerConfig::builder_with_provider(p.clone())
        .with_safe_default_protocol_versions()?
        .with_client_cert_verifier(Arc::new(AcceptAnyClientCert::new(p)))
        .with_single_cert(
            vec![CertificateDer::from(server.der.clone())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server.key_der.clone())),
        )?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

fn client_config(ca: &TestCa, client: &TestCert) -> Result<Arc<rustls::ClientConfig>, Error> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(CertificateDer::from(ca.cert.der.clone()))?;
    let mut config = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_client_auth_cert(
            vec![CertificateDer::from(client.der.clone())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(client.key_der.clone())),
        )?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

async fn serve<S, B>(config: Arc<rustls::ServerConfig>, app: S) -> Result<SocketAddr, Error>
where
    S: tower::Service<
            http::Request<hyper::body::Incoming>,
            Response = http::Response<B>,
            Error = std::convert::Infallible,
        > + Clone
        + Send
        + Sync
        + 'static,
    S::Future: Send + 'static,
    B: axum::body::HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<Error>,
{
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let acceptor = TlsAcceptor::from(config);
    tokio::spawn(async move {
        while let Ok((tcp, remote)) = listener.accept().await {
            let _ = tcp.set_nodelay(true);
            let acceptor = acceptor.clone();
            let app = app.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let svc = PeerCertificatesLayer::from_connection(tls.get_ref().1)
                    .peer_addr(remote)
                    .layer(app);
                let _ = auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(tls), TowerToHyperService::new(svc))
                    .await;
            });
        }
    });
    Ok(addr)
}

/// Which server's clients send now: an index, [`NONE`] or [`END`].
struct Windows {
    active: AtomicUsize,
    changed: Notify,
}

/// No window is open.
const NONE: usize = usize::MAX - 1;
/// The run is over: the clients close their connections.
const END: usize = usize::MAX;

impl Windows {
    fn open(&self, server: usize) {
        self.active.store(server, Ordering::SeqCst);
        self.changed.notify_waiters();
    }
}

type Sender = hyper::client::conn::http1::SendRequest<Empty<Bytes>>;

/// A keep-alive HTTP/1.1 connection over TLS to `addr`.
async fn connect(addr: SocketAddr, config: Arc<rustls::ClientConfig>) -> Result<Sender, Error> {
    let tcp = TcpStream::connect(addr).await?;
    tcp.set_nodelay(true)?;
    let tls = TlsConnector::from(config)
        .connect(ServerName::try_from("localhost")?, tcp)
        .await?;
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls)).await?;
    tokio::spawn(conn);
    Ok(sender)
}

/// One request with `authorization`, its body read; an error unless 200.
async fn request(sender: &mut Sender, authorization: &str) -> Result<(), Error> {
    let req = http::Request::get("/resource")
        .header(http::header::HOST, "localhost")
        .header(http::header::AUTHORIZATION, authorization)
        .body(Empty::<Bytes>::new())?;
    sender.ready().await?;
    let res = sender.send_request(req).await?;
    let status = res.status();
    res.into_body().collect().await?;
    if status != http::StatusCode::OK {
        return Err(format!("status {status}").into());
    }
    Ok(())
}

/// One keep-alive connection to server `me`: a request after another
/// while `me`'s window is open, each counted in `done`.
async fn client(
    addr: SocketAddr,
    config: Arc<rustls::ClientConfig>,
    token: String,
    me: usize,
    windows: Arc<Windows>,
    done: Arc<AtomicU64>,
) -> Result<(), Error> {
    let mut sender = connect(addr, config).await?;
    let auth = format!("Bearer {token}");
    loop {
        // Made before the check, so an `open` between the two is not lost.
        let changed = windows.changed.notified();
        match windows.active.load(Ordering::SeqCst) {
            END => return Ok(()),
            active if active != me => {
                changed.await;
                continue;
            }
            _ => {}
        }
        request(&mut sender, &auth).await?;
        done.fetch_add(1, Ordering::Relaxed);
    }
}

struct Client {
    config: Arc<rustls::ClientConfig>,
    token: String,
}

/// Requests per second of server `i` in one window of `window`.
async fn window(windows: &Windows, done: &AtomicU64, i: usize, window: Duration) -> f64 {
    let before = done.load(Ordering::Relaxed);
    let start = Instant::now();
    windows.open(i);
    tokio::time::sleep(window).await;
    let count = done.load(Ordering::Relaxed) - before;
    let elapsed = start.elapsed().as_secs_f64();
    windows.open(NONE);
    count as f64 / elapsed
}

/// Exactly `requests` requests against `addr`, spread over the clients.
async fn run_count(addr: SocketAddr, clients: &[Client], requests: u64) -> Result<u64, Error> {
    let mut tasks = Vec::new();
    let per = requests / clients.len() as u64;
    for c in clients {
        tasks.push(tokio::spawn(client_n(
            addr,
            c.config.clone(),
            c.token.clone(),
            per,
        )));
    }
    let mut n = 0;
    for t in tasks {
        n += t.await??;
    }
    Ok(n)
}

/// One keep-alive connection sending exactly `requests` requests.
async fn client_n(
    addr: SocketAddr,
    config: Arc<rustls::ClientConfig>,
    token: String,
    requests: u64,
) -> Result<u64, Error> {
    let mut sender = connect(addr, config).await?;
    let auth = format!("Bearer {token}");
    for _ in 0..requests {
        request(&mut sender, &auth).await?;
    }
    Ok(requests)
}

/// The demo resource server's route.
fn resource_router() -> Router {
    Router::new().route(
        "/resource",
        get(
            |axum::Extension(t): axum::Extension<VerifiedToken>| async move {
                body(
                    t.claims().client_id(),
                    t.bound_thumbprint().map(|t| t.to_string()),
                )
            },
        ),
    )
}

/// The route with certbound's layers added by `Router::layer`: axum then
/// boxes the layered route and clones the box on every request.
fn certbound_router_layered(validator: impl AccessTokenValidator) -> Router {
    resource_router()
        .layer(BoundTokenLayer::new(validator).require_confirmation(true))
        .layer(ClientCertLayer::tls())
}

/// The route with certbound's layers around the router (`ServiceBuilder`),
/// as the demo's resource host has them.
fn certbound_router<V: AccessTokenValidator>(
    validator: V,
) -> certbound_extract::ClientCertService<certbound_binding::BoundToken<Router, V>> {
    let router = resource_router();
    tower::ServiceBuilder::new()
        .layer(ClientCertLayer::tls())
        .layer(BoundTokenLayer::new(validator).require_confirmation(true))
        .service(router)
}

/// The servers measured in rotation; the one without the token cache comes
/// after them.
const ROTATING: usize = 4;

/// A validator that only looks tokens up: the tokens of the run, verified
/// once at the start.
struct PreVerified(HashMap<String, TokenClaims>);

impl AccessTokenValidator for PreVerified {
    async fn validate(&self, token: &str) -> Result<TokenClaims, TokenError> {
        self.0.get(token).cloned().ok_or(TokenError::BadSignature)
    }
}

fn body(client_id: Option<&str>, x5t: Option<String>) -> String {
    serde_json::json!({ "client_id": client_id, "x5t#S256": x5t }).to_string()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Error> {
    let mut args = std::env::args().skip(1).peekable();
    let count_mode = args.next_if(|a| a == "count").is_some();
    let count_server: usize = if count_mode {
        args.next().map_or(Ok(0), |a| a.parse())?.min(ROTATING)
    } else {
        0
    };
    let count_requests: u64 = if count_mode {
        args.next()
            .map_or(Ok(10_000), |a| a.parse())?
            .clamp(1, 10_000_000)
    } else {
        0
    };
    let connections: usize = args.next().map_or(Ok(16), |a| a.parse())?.clamp(1, 256);
    let window_ms: u64 = args
        .next()
        .map_or(Ok(500), |a| a.parse())?
        .clamp(50, 60_000);
    let rounds: usize = args.next().map_or(Ok(40), |a| a.parse())?.clamp(1, 1000);

    let ca = TestCa::new("Load CA");
    let server = ca
        .leaf("localhost")
        .san_dns("localhost")
        .eku(vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth])
        .issue();
    let key = ES256.generate_key_pair()?;
    let mut public = key.to_jwk_public_key();
    public.set_key_id("k1");
    let mut jwks = josekit::jwk::JwkSet::new();
    jwks.push_key(public);
    let signer = ES256.signer_from_der(key.to_der_private_key())?;
    let mut clients = Vec::new();
    for i in 0..connections {
        let leaf = ca.leaf(&format!("client-{i}")).issue();
        let thumbprint = Certificate::from_der(leaf.der.clone())?.thumbprint();
        let now = SystemTime::now();
        let mut p = JwtPayload::new();
        p.set_issuer(ISSUER);
        p.set_audience(vec![AUDIENCE]);
        p.set_subject(format!("user-{i}"));
        p.set_claim("client_id", Some(format!("client-{i}").into()))?;
        p.set_issued_at(&now);
        p.set_expires_at(&(now + Duration::from_secs(3600)));
        Confirmation::from_thumbprint(thumbprint).insert_into_jwt_payload(&mut p);
        let mut header = JwsHeader::new();
        header.set_token_type("at+jwt");
        header.set_key_id("k1");
        clients.push(Client {
            config: client_config(&ca, &leaf)?,
            token: jwt::encode_with_signer(&p, &header, &signer)?,
        });
    }

    let validator = || {
        JwtValidator::builder(&jwks)
            .issuer(ISSUER)
            .audience(AUDIENCE)
            .build()
    };
    let with = certbound_router(validator()?);
    let cached = certbound_router(CachedValidator::new(validator()?));
    let cached_layered = certbound_router_layered(CachedValidator::new(validator()?));
    let mut verified = HashMap::new();
    for c in &clients {
        verified.insert(
            c.token.clone(),
            validator()?.validate_at(&c.token, SystemTime::now())?,
        );
    }
    let preverified = certbound_router(PreVerified(verified));
    let without = Router::new().route(
        "/resource",
        get(|| async { body(Some("client-0"), Some("-".repeat(43))) }),
    );

    let config = server_config(&server)?;
    let with_addr = serve(config.clone(), with).await?;
    let servers = [
        ("without certbound", serve(config.clone(), without).await?),
        (
            "ClientCertLayer + BoundTokenLayer + CachedValidator around the Router",
            serve(config.clone(), cached).await?,
        ),
        (
            "the same added with Router::layer",
            serve(config.clone(), cached_layered).await?,
        ),
        (
            "ClientCertLayer + BoundTokenLayer around the Router, tokens looked up in a HashMap",
            serve(config, preverified).await?,
        ),
    ];

    if count_mode {
        let addr = if count_server == ROTATING {
            with_addr
        } else {
            servers[count_server].1
        };
        let start = Instant::now();
        let n = run_count(addr, &clients, count_requests).await?;
        println!("{n} requests in {:?}", start.elapsed());
        return Ok(());
    }

    // Every server's connections, opened now and kept to the end.
    let windows = Arc::new(Windows {
        active: AtomicUsize::new(NONE),
        changed: Notify::new(),
    });
    // The rotating servers, then the one without the token cache.
    let addrs: Vec<SocketAddr> = servers.iter().map(|s| s.1).chain([with_addr]).collect();
    let done: Vec<Arc<AtomicU64>> = (0..addrs.len())
        .map(|_| Arc::new(AtomicU64::new(0)))
        .collect();
    let mut tasks = Vec::new();
    for (i, addr) in addrs.iter().enumerate() {
        for c in &clients {
            tasks.push(tokio::spawn(client(
                *addr,
                c.config.clone(),
                c.token.clone(),
                i,
                windows.clone(),
                done[i].clone(),
            )));
        }
    }
    let window_len = Duration::from_millis(window_ms);
    // Warm-up: the handshakes, the token cache, the allocator.
    for (i, done) in done.iter().enumerate() {
        window(&windows, done, i, Duration::from_millis(300)).await;
    }

    println!(
        "{connections} keep-alive TLS connections per server, each its own client certificate, \
         127.0.0.1; {rounds} rounds of one {window_ms} ms window per server, order rotated each round"
    );
    let mut totals = [0.0; ROTATING];
    let mut ratios = vec![Vec::new(); ROTATING - 1];
    for round in 0..rounds {
        let mut rps = [0.0; ROTATING];
        for k in 0..ROTATING {
            let i = (round + k) % ROTATING;
            rps[i] = window(&windows, &done[i], i, window_len).await;
        }
        if rounds <= 50 {
            let counts = rps.map(|r| format!("{r:.0}")).join(" / ");
            let shares = rps[1..].iter().map(|r| format!("{:.3}", r / rps[0]));
            let shares = shares.collect::<Vec<_>>().join(" / ");
            println!("  round {}: {counts} req/s, ratios {shares}", round + 1);
        }
        for i in 0..ROTATING {
            totals[i] += rps[i];
        }
        for (i, r) in ratios.iter_mut().enumerate() {
            r.push(rps[i + 1] / rps[0]);
        }
    }
    let n = rounds as f64;
    println!("{}: {:.0} requests/s", servers[0].0, totals[0] / n);
    for (i, r) in ratios.iter_mut().enumerate() {
        r.sort_by(f64::total_cmp);
        println!("{}: {:.0} requests/s", servers[i + 1].0, totals[i + 1] / n);
        println!(
            "  ratio {:.3} (rounds {:.3} to {:.3}, median {:.3})",
            totals[i + 1] / totals[0],
            r[0],
            r[r.len() - 1],
            r[r.len() / 2]
        );
    }
    let mut bound = 0.0;
    for _ in 0..3 {
        bound += window(&windows, &done[ROTATING], ROTATING, window_len).await / 3.0;
    }
    println!(
        "ClientCertLayer + BoundTokenLayer around the Router, no cache: {bound:.0} requests/s"
    );
    println!("  ratio {:.3}", bound / (totals[0] / n));
    windows.open(END);
    for t in tasks {
        t.await??;
    }
    Ok(())
}
