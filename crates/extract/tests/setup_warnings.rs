//! A stack set up wrong (no `ClientCertLayer` before a layer that needs the
//! certificate, `ClientCertLayer::tls` without the TLS connection in the
//! request, `ClientCertLayer::header` without the peer's address) is said
//! in the log, once per process, naming the missing piece; a stack set up
//! right says nothing. One test in its own binary: the warnings are
//! once per process.

use std::io::Write;
use std::sync::{Arc, Mutex};

use certbound_extract::header::HeaderFormat;
use certbound_extract::{
    ClientCert, ClientCertLayer, HeaderSource, PeerAddr, PeerCertificatesLayer,
};
use http::{Request, Response, StatusCode};
use tower::{Layer, ServiceExt, service_fn};

#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<u8>>>);

impl Write for Log {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Log {
    /// The warnings logged since the last call.
    fn take(&self) -> Vec<String> {
        let bytes = std::mem::take(&mut *self.0.lock().unwrap());
        String::from_utf8(bytes)
            .unwrap()
            .lines()
            .filter(|l| l.contains("WARN"))
            .map(str::to_owned)
            .collect()
    }
}

/// Answers 200, with `x-cert: yes` when the certificate was there, looked
/// up as the library's own layers look it up.
async fn consumer(req: Request<String>) -> Result<Response<String>, std::convert::Infallible> {
    let seen = ClientCert::from_extensions(req.extensions(), "the test's consumer").is_some();
    Ok(Response::builder()
        .header("x-cert", if seen { "yes" } else { "no" })
        .body(String::new())
        .unwrap())
}

async fn call(layer: Option<&ClientCertLayer>, req: Request<String>) -> (StatusCode, String) {
    let res = match layer {
        Some(layer) => layer
            .layer(service_fn(consumer))
            .oneshot(req)
            .await
            .unwrap()
            .map(|_| ()),
        None => service_fn(consumer).oneshot(req).await.unwrap().map(|_| ()),
    };
    let seen = res.headers()["x-cert"].to_str().unwrap().to_owned();
    (res.status(), seen)
}

fn from(peer: &str) -> Request<String> {
    let mut req = Request::new(String::new());
    req.extensions_mut().insert(PeerAddr(peer.parse().unwrap()));
    req
}

#[tokio::test]
async fn a_stack_set_up_wrong_is_said_once_and_a_right_one_says_nothing() {
    let log = Log::default();
    let writer = log.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    // Right: a header layer with the peer's address, trusted or not.
    let header = ClientCertLayer::header(
        HeaderSource::new(HeaderFormat::Pem).trusted_proxies(["10.0.0.0/8".parse().unwrap()]),
    );
    for peer in ["10.0.0.1:5000", "192.0.2.1:5000"] {
        assert_eq!(
            call(Some(&header), from(peer)).await,
            (StatusCode::OK, "no".into())
        );
    }
    // Right: the TLS layer on a connection whose client sent no certificate.
    let res = PeerCertificatesLayer::new(None)
        .layer(ClientCertLayer::tls().layer(service_fn(consumer)))
        .oneshot(Request::new(String::new()))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["x-cert"], "no");
    assert_eq!(log.take(), Vec::<String>::new());

    // No ClientCertLayer before the consumer: one warning naming it.
    for _ in 0..3 {
        assert_eq!(
            call(None, from("10.0.0.1:5000")).await,
            (StatusCode::OK, "no".into())
        );
    }
    let warnings = log.take();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("the test's consumer"), "{warnings:?}");
    assert!(
        warnings[0].contains("no ClientCertLayer ran"),
        "{warnings:?}"
    );

    // The TLS layer on a request that came without its TLS connection.
    let tls = ClientCertLayer::tls();
    for _ in 0..3 {
        assert_eq!(
            call(Some(&tls), from("10.0.0.1:5000")).await,
            (StatusCode::OK, "no".into())
        );
    }
    let warnings = log.take();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains("found no TLS connection"),
        "{warnings:?}"
    );

    // The header layer on a request without the peer's address.
    for _ in 0..3 {
        let req = Request::new(String::new());
        assert_eq!(
            call(Some(&header), req).await,
            (StatusCode::OK, "no".into())
        );
    }
    let warnings = log.take();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains("found no peer address"),
        "{warnings:?}"
    );
}
