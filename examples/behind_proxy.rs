//! A resource server behind a TLS-terminating reverse proxy (nginx here)
//! that forwards the client certificate in a header. The header is believed
//! only from the proxy's address; from anyone else it is removed.
//!
//! ```sh
//! cargo run --example behind_proxy
//! cargo run --example behind_proxy -- --self-test
//! ```
//! Ready proxy configurations are in `examples/proxies/`. The self-test
//! plays the proxy itself: it sends the header nginx would send.

use std::net::SocketAddr;

use axum::routing::get;
use axum::{Router, extract::ConnectInfo};
use certbound::extract::header::HeaderFormat;
use certbound::extract::{ClientCert, ClientCertLayer, HeaderSource};
use rcgen::{CertificateParams, KeyPair};

type Error = Box<dyn std::error::Error + Send + Sync>;

/// The header nginx sets: `proxy_set_header X-SSL-Client-Cert $ssl_client_escaped_cert;`
const HEADER: &str = "x-ssl-client-cert";

async fn whoami(cert: Option<ClientCert>, ConnectInfo(peer): ConnectInfo<SocketAddr>) -> String {
    match cert {
        Some(cert) => format!("{peer} presented {}\n", cert.thumbprint()),
        None => format!("{peer} presented no certificate\n"),
    }
}

/// The application: the certificate from the header, believed from
/// `proxy` alone.
fn app(proxy: &str) -> Result<Router, Error> {
    let source = HeaderSource::new(HeaderFormat::PemUrlEncoded)
        .header_name(http::HeaderName::from_static(HEADER))
        .trusted_proxies([proxy.parse()?]);
    Ok(Router::new()
        .route("/whoami", get(whoami))
        .layer(ClientCertLayer::header(source)))
}

async fn serve(listener: tokio::net::TcpListener, app: Router) -> std::io::Result<()> {
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await
}

#[tokio::main]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("behind_proxy: {e}");
        std::process::exit(1);
    }
}

/// `--self-test` or nothing.
fn self_test_flag() -> Result<bool, Error> {
    match std::env::args().nth(1).as_deref() {
        None => Ok(false),
        Some("--self-test") => Ok(true),
        Some(other) => Err(format!("unknown argument {other:?} (--self-test)").into()),
    }
}

async fn run() -> Result<(), Error> {
    if !self_test_flag()? {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
        println!(
            "plain HTTP on http://{}/whoami; put examples/proxies/nginx.conf in front",
            listener.local_addr()?
        );
        serve(listener, app("127.0.0.1/32")?).await?;
        return Ok(());
    }

    // What nginx would forward: the client's certificate, PEM, URL-encoded.
    let key = KeyPair::generate()?;
    let cert = CertificateParams::new(vec!["client.example.com".to_owned()])?.self_signed(&key)?;
    let escaped =
        percent_encoding::utf8_percent_encode(&cert.pem(), percent_encoding::NON_ALPHANUMERIC)
            .to_string();
    let thumbprint = certbound::cert::Certificate::from_pem(&cert.pem())?.thumbprint();

    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::builder().no_proxy().build()?;
    let trusted = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let trusted_url = format!("http://{}/whoami", trusted.local_addr()?);
    tokio::spawn(serve(trusted, app("127.0.0.1/32")?));
    let untrusted = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let untrusted_url = format!("http://{}/whoami", untrusted.local_addr()?);
    tokio::spawn(serve(untrusted, app("192.0.2.1/32")?));

    let body = http
        .get(&trusted_url)
        .header(HEADER, &escaped)
        .send()
        .await?
        .text()
        .await?;
    check(
        body.contains(&format!("presented {thumbprint}")),
        &format!("from the trusted proxy, the header's certificate is used ({body:?})"),
    )?;
    let body = http
        .get(&untrusted_url)
        .header(HEADER, &escaped)
        .send()
        .await?
        .text()
        .await?;
    check(
        body.contains("presented no certificate"),
        &format!("from an address that is not the proxy, the header is ignored ({body:?})"),
    )?;
    let body = http.get(&trusted_url).send().await?.text().await?;
    check(
        body.contains("presented no certificate"),
        &format!("no header, no certificate ({body:?})"),
    )?;
    println!("self-test passed");
    Ok(())
}

fn check(ok: bool, what: &str) -> Result<(), Error> {
    if ok {
        println!("ok: {what}");
        Ok(())
    } else {
        Err(format!("FAILED: {what}").into())
    }
}
