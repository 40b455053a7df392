//! The tonic path: `ClientCertLayer` in `Server::builder().layer(...)`, with
//! tonic-health as a real gRPC service, over tonic's TLS and behind a proxy.

mod support;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use certbound_cert::Thumbprint;
use certbound_extract::header::HeaderFormat;
use certbound_extract::{ClientCert, ClientCertLayer, HeaderSource};
use certbound_testkit::nginx_escaped_cert;
use http::Request;
use support::tls::Pki;
use support::{rfc9440, sha256_hex};
use tokio::sync::oneshot;
use tonic::transport::server::TcpIncoming;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Identity, Server, ServerTlsConfig};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;
use tower::ServiceBuilder;

type Seen = Arc<Mutex<Vec<String>>>;

/// Serves tonic-health behind `layer` and a recorder of what reached it.
async fn serve(
    layer: ClientCertLayer,
    tls: Option<ServerTlsConfig>,
) -> (
    SocketAddr,
    Seen,
    oneshot::Sender<()>,
    tokio::task::JoinHandle<()>,
) {
    let seen: Seen = Arc::default();
    let record = seen.clone();
    let stack = ServiceBuilder::new()
        .layer(layer)
        .map_request(move |req: Request<tonic::body::Body>| {
            let cert = req
                .extensions()
                .get::<ClientCert>()
                .map_or("none".to_owned(), |c| c.thumbprint().to_string());
            let xfcc = req.headers().contains_key("x-forwarded-client-cert");
            record.lock().unwrap().push(format!("{cert} xfcc={xfcc}"));
            req
        })
        .into_inner();
    let incoming = TcpIncoming::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = incoming.local_addr().unwrap();
    let (_reporter, health) = tonic_health::server::health_reporter();
    let (stop, stopped) = oneshot::channel::<()>();
    let mut builder = Server::builder();
    if let Some(tls) = tls {
        builder = builder.tls_config(tls).unwrap();
    }
    let task = tokio::spawn(async move {
        builder
            .layer(stack)
            .add_service(health)
            .serve_with_incoming_shutdown(incoming, async {
                let _ = stopped.await;
            })
            .await
            .unwrap();
    });
    (addr, seen, stop, task)
}

async fn check(channel: Channel, xfcc: Option<&str>) -> Result<(), tonic::Status> {
    let mut req = tonic::Request::new(HealthCheckRequest {
        service: String::new(),
    });
    if let Some(v) = xfcc {
        req.metadata_mut()
            .insert("x-forwarded-client-cert", v.parse().unwrap());
    }
    HealthClient::new(channel).check(req).await.map(|_| ())
}

fn xfcc_value() -> String {
    let f = rfc9440();
    format!(
        "By=spiffe://cluster.local/ns/default/sa/api;Hash={};Cert=\"{}\";Subject=\"CN=BC,O=Let's Authenticate\"",
        sha256_hex(&f.ders[0]),
        nginx_escaped_cert(&f.pems[0])
    )
}

#[tokio::test]
async fn tonic_tls_connect_info_gives_the_handler_the_client_leaf() {
    let pki = Pki::new();
    let client = pki.client_ca.leaf("grpc-client").issue();
    let tls = ServerTlsConfig::new()
        .identity(Identity::from_pem(&pki.server.pem, &pki.server.key_pem))
        .client_ca_root(Certificate::from_pem(&pki.client_ca.cert.pem));
    let (addr, seen, stop, task) = serve(ClientCertLayer::tls(), Some(tls)).await;

    let channel = Channel::from_shared(format!("https://127.0.0.1:{}", addr.port()))
        .unwrap()
        .tls_config(
            ClientTlsConfig::new()
                .ca_certificate(Certificate::from_pem(&pki.server_ca.cert.pem))
                .identity(Identity::from_pem(&client.pem, &client.key_pem))
                .domain_name("localhost"),
        )
        .unwrap()
        .connect()
        .await
        .unwrap();
    check(channel, None).await.unwrap();
    assert_eq!(
        *seen.lock().unwrap(),
        [format!("{} xfcc=false", Thumbprint::of_der(&client.der))]
    );
    let _ = stop.send(());
    task.await.unwrap();
}

#[tokio::test]
async fn tonic_behind_a_trusted_proxy_reads_xfcc_via_tcp_connect_info() {
    let layer = ClientCertLayer::header(
        HeaderSource::new(HeaderFormat::Xfcc).trusted_proxies(["127.0.0.1/32".parse().unwrap()]),
    );
    let (addr, seen, stop, task) = serve(layer, None).await;
    let channel = Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();

    check(channel.clone(), Some(&xfcc_value())).await.unwrap();
    check(channel.clone(), None).await.unwrap();
    assert_eq!(
        *seen.lock().unwrap(),
        [
            format!("{} xfcc=true", rfc9440().thumbprints[0]),
            "none xfcc=false".to_owned()
        ]
    );

    // A malformed header from the trusted proxy: INVALID_ARGUMENT, and the
    // service is not reached.
    let bad = xfcc_value().replace("Hash=", "Hash=00");
    let status = check(channel, Some(&bad)).await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
    assert_eq!(
        status.message(),
        "malformed x-forwarded-client-cert header: x-forwarded-client-cert element 1: Hash is not 64 hex digits"
    );
    assert_eq!(seen.lock().unwrap().len(), 2);
    let _ = stop.send(());
    task.await.unwrap();
}

#[tokio::test]
async fn tonic_header_from_an_untrusted_peer_is_removed() {
    let layer = ClientCertLayer::header(
        HeaderSource::new(HeaderFormat::Xfcc).trusted_proxies(["10.0.0.0/8".parse().unwrap()]),
    );
    let (addr, seen, stop, task) = serve(layer, None).await;
    let channel = Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    check(channel, Some(&xfcc_value())).await.unwrap();
    assert_eq!(*seen.lock().unwrap(), ["none xfcc=false"]);
    let _ = stop.send(());
    task.await.unwrap();
}
