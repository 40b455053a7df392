//! A bare hyper-util accept loop (no axum): after the TLS handshake, three
//! lines put the client's certificate chain into every request of the
//! connection, and a plain tower service reads the `ClientCert`.
//!
//! ```sh
//! cargo run --example hyper_util_accept_loop
//! ```

#[path = "support/mod.rs"]
mod support;

use std::convert::Infallible;

use certbound::extract::{ClientCert, ClientCertLayer, PeerCertificatesLayer};
use http::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tower::{Layer as _, ServiceBuilder, service_fn};

async fn whoami<B>(req: Request<B>) -> Result<Response<String>, Infallible> {
    let body = match req.extensions().get::<ClientCert>() {
        Some(cert) => format!(
            "subject: {}\nx5t#S256: {}\n",
            cert.leaf().subject(),
            cert.thumbprint()
        ),
        None => "no client certificate\n".to_owned(),
    };
    Ok(Response::new(body))
}

#[tokio::main]
async fn main() -> Result<(), support::Error> {
    let (pki, dir) = support::pki("hyper_util_accept_loop")?;
    let acceptor = tokio_rustls::TlsAcceptor::from(support::server_config(&pki)?);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let d = dir.display();
    println!(
        "curl --cacert {d}/ca.pem --cert {d}/pki-client.pem --key {d}/pki-client.key https://{}/",
        listener.local_addr()?
    );

    let app = ServiceBuilder::new()
        .layer(ClientCertLayer::tls())
        .service(service_fn(whoami));
    loop {
        let (tcp, remote) = listener.accept().await?;
        let Ok(tls) = acceptor.accept(tcp).await else {
            continue;
        };
        // The three lines:
        let svc = PeerCertificatesLayer::from_connection(tls.get_ref().1)
            .peer_addr(remote)
            .layer(app.clone());
        tokio::spawn(
            auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(tls), TowerToHyperService::new(svc))
                .into_owned(),
        );
    }
}
