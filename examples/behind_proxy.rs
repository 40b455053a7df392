//! A resource server behind a TLS-terminating reverse proxy (nginx here)
//! that forwards the client certificate in a header. The header is believed
//! only from the proxy's address; from anyone else it is removed.
//!
//! ```sh
//! cargo run --example behind_proxy
//! ```
//! Ready proxy configurations are in `examples/proxies/`.

#[path = "support/mod.rs"]
mod support;

use axum::routing::get;
use axum::{Router, extract::ConnectInfo};
use certbound::extract::header::HeaderFormat;
use certbound::extract::{ClientCert, ClientCertLayer, HeaderSource};
use std::net::SocketAddr;

async fn whoami(cert: Option<ClientCert>, ConnectInfo(peer): ConnectInfo<SocketAddr>) -> String {
    match cert {
        Some(cert) => format!("{peer} presented {}\n", cert.thumbprint()),
        None => format!("{peer} presented no certificate\n"),
    }
}

#[tokio::main]
async fn main() -> Result<(), support::Error> {
    // nginx: proxy_set_header X-SSL-Client-Cert $ssl_client_escaped_cert;
    let source = HeaderSource::new(HeaderFormat::PemUrlEncoded)
        .header_name(http::HeaderName::from_static("x-ssl-client-cert"))
        .trusted_proxies(["127.0.0.1/32".parse()?]);
    let app = Router::new()
        .route("/whoami", get(whoami))
        .layer(ClientCertLayer::header(source));

    let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
    println!(
        "plain HTTP on http://{}/whoami; put examples/proxies/nginx.conf in front",
        listener.local_addr()?
    );
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await?;
    Ok(())
}
