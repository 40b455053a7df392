//! `ClientCertLayer`'s full certificate check and its memo of decoded
//! headers.

use std::convert::Infallible;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use certbound_extract::header::HeaderFormat;
use certbound_extract::{ClientCert, ClientCertLayer, HeaderSource, PeerAddr};
use certbound_testkit::TestCa;
use http::{Request, Response, StatusCode};
use tower::{Layer, ServiceExt, service_fn};

async fn call(layer: &ClientCertLayer, header: &str) -> (StatusCode, Option<ClientCert>) {
    let inner = service_fn(|req: Request<()>| async move {
        let cert = req.extensions().get::<ClientCert>().cloned();
        let mut res = Response::new(());
        res.extensions_mut().insert(cert);
        Ok::<_, Infallible>(res)
    });
    let mut req = Request::new(());
    req.headers_mut()
        .insert("client-cert", header.parse().unwrap());
    req.extensions_mut()
        .insert(PeerAddr("10.0.0.7:40000".parse().unwrap()));
    let res = layer.layer(inner).oneshot(req).await.unwrap();
    let cert = res
        .extensions()
        .get::<Option<ClientCert>>()
        .cloned()
        .flatten();
    (res.status(), cert)
}

fn layer(memo: usize) -> ClientCertLayer {
    ClientCertLayer::header(
        HeaderSource::new(HeaderFormat::Rfc9440)
            .trusted_proxies(["10.0.0.0/8".parse().unwrap()])
            .memo_capacity(memo),
    )
}

#[tokio::test]
async fn certificate_malformed_inside_sound_der_is_a_400_every_time() {
    let mut der = TestCa::new("CA").leaf("client").issue().der;
    // notBefore's UTCTime tag becomes OCTET STRING: the framing holds.
    let i = der.windows(2).position(|w| w == [0x17, 0x0d]).unwrap();
    der[i] = 0x04;
    let header = format!(":{}:", STANDARD.encode(&der));
    let layer = layer(16);
    for _ in 0..2 {
        let (status, cert) = call(&layer, &header).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(cert.is_none());
    }
}

#[tokio::test]
async fn same_header_bytes_give_the_remembered_certificate() {
    let der = TestCa::new("CA").leaf("client").issue().der;
    let header = format!(":{}:", STANDARD.encode(&der));
    for memo in [16, 0] {
        let layer = layer(memo);
        let (_, first) = call(&layer, &header).await;
        let (_, second) = call(&layer, &header).await;
        let (first, second) = (first.unwrap(), second.unwrap());
        assert_eq!(first.thumbprint(), second.thumbprint());
        // Remembered: the very same parsed certificate (names parsed once).
        assert_eq!(
            std::ptr::eq(first.leaf().subject(), second.leaf().subject()),
            memo > 0
        );
    }
}

#[tokio::test]
async fn another_certificate_is_never_taken_from_the_memo() {
    let ca = TestCa::new("CA");
    let layer = layer(1);
    for cn in ["a", "b", "a", "c"] {
        let der = ca.leaf(cn).issue().der;
        let (_, cert) = call(&layer, &format!(":{}:", STANDARD.encode(&der))).await;
        assert_eq!(cert.unwrap().leaf().der(), der.as_slice());
    }
}
