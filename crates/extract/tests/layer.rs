//! `ClientCertLayer`: the spoofing matrix, trusted proxies, errors, and the
//! rule that header and TLS never stand in for each other.

mod support;

use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::Bytes;
use certbound_extract::header::HeaderFormat;
use certbound_extract::{ClientCert, ClientCertLayer, HeaderSource, PeerAddr, PeerCertificates};
use certbound_testkit::nginx_escaped_cert;
use http::{HeaderName, HeaderValue, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use rustls_pki_types::CertificateDer;
use support::{b64, rfc8705, rfc9440, sha256_hex};
use tower::{Layer, ServiceExt, service_fn};

/// What the inner service saw: the thumbprint of the `ClientCert` it was
/// given, and which certificate headers reached it.
async fn call(layer: &ClientCertLayer, req: Request<()>) -> (StatusCode, String) {
    let inner = service_fn(|req: Request<()>| async move {
        let cert = req
            .extensions()
            .get::<ClientCert>()
            .map_or("none".to_owned(), |c| c.thumbprint().to_string());
        let mut seen: Vec<&str> = req.headers().keys().map(|k| k.as_str()).collect();
        seen.sort();
        let body = format!("cert={cert} headers={}", seen.join(","));
        Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(body))))
    });
    let res = layer.layer(inner).oneshot(req).await.unwrap();
    let status = res.status();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

/// A valid value of each format for the RFC 8705 certificate.
fn valid_value(format: HeaderFormat) -> String {
    let f = rfc8705();
    match format {
        HeaderFormat::Rfc9440 => format!(":{}:", b64(&f.ders[0])),
        HeaderFormat::PemUrlEncoded => nginx_escaped_cert(&f.pems[0]),
        HeaderFormat::Pem => f.pems[0].replace('\n', " "),
        HeaderFormat::DerBase64 => b64(&f.ders[0]),
        HeaderFormat::Xfcc => format!(
            "Hash={};Cert=\"{}\";Subject=\"CN=mtls\"",
            sha256_hex(&f.ders[0]),
            nginx_escaped_cert(&f.pems[0])
        ),
        _ => unreachable!(),
    }
}

const TRUSTED: &str = "10.0.0.7:40000";
const UNTRUSTED: &str = "192.0.2.1:40000";

fn source(format: HeaderFormat) -> HeaderSource {
    HeaderSource::new(format).trusted_proxies([
        "10.0.0.0/8".parse().unwrap(),
        "2001:db8::/32".parse().unwrap(),
    ])
}

fn request(format: HeaderFormat, value: &str, peer: Option<&str>) -> Request<()> {
    let mut req = Request::new(());
    req.headers_mut().insert(
        format.default_header(),
        HeaderValue::from_str(value).unwrap(),
    );
    if let Some(peer) = peer {
        req.extensions_mut().insert(PeerAddr(peer.parse().unwrap()));
    }
    req
}

#[tokio::test]
async fn header_from_untrusted_or_unknown_peer_is_removed_and_ignored() {
    let thumb = rfc8705().thumbprints[0];
    for format in HeaderFormat::ALL {
        let layer = ClientCertLayer::header(source(format));
        let value = valid_value(format);

        let (status, seen) = call(&layer, request(format, &value, Some(TRUSTED))).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            seen,
            format!("cert={thumb} headers={}", format.default_header()),
            "{format}"
        );

        for peer in [
            Some(UNTRUSTED),
            None,
            Some("[2001:db9::1]:1"),
            Some("11.0.0.1:1"),
        ] {
            let (status, seen) = call(&layer, request(format, &value, peer)).await;
            assert_eq!(status, StatusCode::OK);
            assert_eq!(seen, "cert=none headers=", "{format} from {peer:?}");
        }
        // Malformed values from an untrusted peer are not even looked at.
        let (status, seen) = call(&layer, request(format, "garbage%", Some(UNTRUSTED))).await;
        assert_eq!(
            (status, seen.as_str()),
            (StatusCode::OK, "cert=none headers=")
        );
    }
}

#[tokio::test]
async fn chain_and_verified_headers_from_untrusted_peers_are_removed_too() {
    let layer = ClientCertLayer::header(source(HeaderFormat::Rfc9440).verified_header(
        HeaderName::from_static("x-ssl-client-verify"),
        HeaderValue::from_static("SUCCESS"),
    ));
    let mut req = request(
        HeaderFormat::Rfc9440,
        &valid_value(HeaderFormat::Rfc9440),
        Some(UNTRUSTED),
    );
    req.headers_mut()
        .insert("client-cert-chain", HeaderValue::from_static(":AAAA:"));
    req.headers_mut()
        .insert("x-ssl-client-verify", HeaderValue::from_static("SUCCESS"));
    req.headers_mut()
        .insert("x-other", HeaderValue::from_static("kept"));
    let (_, seen) = call(&layer, req).await;
    assert_eq!(seen, "cert=none headers=x-other");
}

#[tokio::test]
async fn every_field_line_of_a_spoofed_header_is_removed() {
    let layer = ClientCertLayer::header(source(HeaderFormat::Rfc9440).verified_header(
        HeaderName::from_static("x-ssl-client-verify"),
        HeaderValue::from_static("SUCCESS"),
    ));
    let value = valid_value(HeaderFormat::Rfc9440);
    let mut req = request(HeaderFormat::Rfc9440, &value, Some(UNTRUSTED));
    for (name, v) in [
        ("client-cert", value.as_str()),
        ("client-cert", ":AAAA:"),
        ("client-cert-chain", ":AAAA:"),
        ("client-cert-chain", ":AAAA:"),
        ("x-ssl-client-verify", "SUCCESS"),
        ("x-ssl-client-verify", "SUCCESS"),
    ] {
        req.headers_mut()
            .append(name, HeaderValue::from_str(v).unwrap());
    }
    assert_eq!(req.headers().get_all("client-cert").iter().count(), 3);
    let (_, seen) = call(&layer, req).await;
    assert_eq!(seen, "cert=none headers=");
}

#[tokio::test]
async fn peer_address_is_read_from_axum_and_tonic_connect_info() {
    let format = HeaderFormat::DerBase64;
    let layer = ClientCertLayer::header(source(format));
    let value = valid_value(format);
    let thumb = rfc8705().thumbprints[0];
    let addr: SocketAddr = TRUSTED.parse().unwrap();

    let mut req = request(format, &value, None);
    req.extensions_mut()
        .insert(axum::extract::ConnectInfo(addr));
    assert!(
        call(&layer, req)
            .await
            .1
            .starts_with(&format!("cert={thumb}"))
    );

    let mut req = request(format, &value, None);
    req.extensions_mut()
        .insert(tonic::transport::server::TcpConnectInfo {
            local_addr: None,
            remote_addr: Some(addr),
        });
    assert!(
        call(&layer, req)
            .await
            .1
            .starts_with(&format!("cert={thumb}"))
    );

    // IPv4-mapped IPv6 (a dual-stack listener) is matched as IPv4.
    let req = request(format, &value, Some("[::ffff:10.1.2.3]:5"));
    assert!(
        call(&layer, req)
            .await
            .1
            .starts_with(&format!("cert={thumb}"))
    );
    // IPv6 networks work.
    let req = request(format, &value, Some("[2001:db8::5]:5"));
    assert!(
        call(&layer, req)
            .await
            .1
            .starts_with(&format!("cert={thumb}"))
    );

    // Untrusted through every source.
    let mut req = request(format, &value, None);
    req.extensions_mut().insert(axum::extract::ConnectInfo(
        UNTRUSTED.parse::<SocketAddr>().unwrap(),
    ));
    assert_eq!(call(&layer, req).await.1, "cert=none headers=");
}

#[tokio::test]
async fn no_proxy_is_trusted_by_default() {
    let format = HeaderFormat::Rfc9440;
    let layer = ClientCertLayer::header(HeaderSource::new(format));
    let (_, seen) = call(
        &layer,
        request(format, &valid_value(format), Some("127.0.0.1:1")),
    )
    .await;
    assert_eq!(seen, "cert=none headers=");
}

#[tokio::test]
async fn malformed_header_from_trusted_proxy_is_a_400_and_does_not_reach_the_service() {
    for format in HeaderFormat::ALL {
        let layer = ClientCertLayer::header(source(format));
        let (status, body) = call(&layer, request(format, "%%garbage\"", Some(TRUSTED))).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{format}");
        assert!(!body.contains("cert="), "{format}: {body}");
        let json: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(json["error"], "invalid_request");
        let description = json["error_description"].as_str().unwrap();
        assert!(
            description.starts_with(&format!("malformed {} header: ", format.default_header())),
            "{description}"
        );
    }
}

#[tokio::test]
async fn malformed_grpc_request_gets_invalid_argument() {
    let layer = ClientCertLayer::header(source(HeaderFormat::DerBase64));
    let mut req = request(HeaderFormat::DerBase64, "!!!", Some(TRUSTED));
    req.headers_mut()
        .insert("content-type", HeaderValue::from_static("application/grpc"));
    let inner = service_fn(|_req: Request<()>| async {
        Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(b"reached"))))
    });
    let res = layer.layer(inner).oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["grpc-status"], "3");
    assert_eq!(
        res.headers()["grpc-message"],
        "malformed x-ssl-client-der header: item 1 is not valid base64"
    );
}

#[tokio::test]
async fn a_header_on_two_field_lines_is_rejected_even_a_list() {
    let layer = ClientCertLayer::header(source(HeaderFormat::Rfc9440));
    let value = valid_value(HeaderFormat::Rfc9440);
    let mut req = request(HeaderFormat::Rfc9440, &value, Some(TRUSTED));
    req.headers_mut()
        .append("client-cert", HeaderValue::from_str(&value).unwrap());
    let (status, body) = call(&layer, req).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("appears 2 times"), "{body}");

    // RFC 9440 Client-Cert-Chain is a list: on one field line it is read...
    let f = rfc9440();
    let leaf = format!(":{}:", b64(&f.ders[0]));
    let chain = [&f.ders[1], &f.ders[2]].map(|d| format!(":{}:", b64(d)));
    let mut req = request(HeaderFormat::Rfc9440, &leaf, Some(TRUSTED));
    req.headers_mut().append(
        "client-cert-chain",
        HeaderValue::from_str(&chain.join(", ")).unwrap(),
    );
    let inner = service_fn(|req: Request<()>| async move {
        let cert = req.extensions().get::<ClientCert>().unwrap().clone();
        Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(
            cert.intermediates().len().to_string(),
        ))))
    });
    let res = layer.layer(inner).oneshot(req).await.unwrap();
    assert_eq!(res.into_body().collect().await.unwrap().to_bytes(), "2");

    // ...and on two it is refused: no proxy writes two.
    let mut req = request(HeaderFormat::Rfc9440, &leaf, Some(TRUSTED));
    for item in &chain {
        req.headers_mut()
            .append("client-cert-chain", HeaderValue::from_str(item).unwrap());
    }
    let (status, body) = call(&layer, req).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body.contains("malformed client-cert-chain header: the header appears 2 times"),
        "{body}"
    );

    // A bad chain header names the chain header.
    let mut req = request(HeaderFormat::Rfc9440, &value, Some(TRUSTED));
    req.headers_mut()
        .insert("client-cert-chain", HeaderValue::from_static("nope"));
    let (status, body) = call(&layer, req).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body.contains("malformed client-cert-chain header"),
        "{body}"
    );
}

#[tokio::test]
async fn verified_header_must_carry_the_required_value() {
    let format = HeaderFormat::PemUrlEncoded;
    let layer = ClientCertLayer::header(
        source(format)
            .header_name(HeaderName::from_static("x-client-cert"))
            .verified_header(
                HeaderName::from_static("x-ssl-client-verify"),
                HeaderValue::from_static("SUCCESS"),
            ),
    );
    let thumb = rfc8705().thumbprints[0];
    let make = |verify: Option<&'static str>| {
        let mut req = Request::new(());
        req.headers_mut().insert(
            "x-client-cert",
            HeaderValue::from_str(&valid_value(format)).unwrap(),
        );
        if let Some(v) = verify {
            req.headers_mut()
                .insert("x-ssl-client-verify", HeaderValue::from_static(v));
        }
        req.extensions_mut()
            .insert(PeerAddr(TRUSTED.parse().unwrap()));
        req
    };
    assert!(
        call(&layer, make(Some("SUCCESS")))
            .await
            .1
            .starts_with(&format!("cert={thumb}"))
    );
    assert!(
        call(&layer, make(Some("FAILED:unable to get issuer")))
            .await
            .1
            .starts_with("cert=none")
    );
    assert!(call(&layer, make(None)).await.1.starts_with("cert=none"));
}

#[tokio::test]
async fn header_source_never_falls_back_to_tls_and_tls_source_ignores_headers() {
    let f = rfc9440();
    let certs = PeerCertificates::new(
        f.ders
            .iter()
            .map(|d| CertificateDer::from(d.clone()))
            .collect(),
    )
    .unwrap();
    let format = HeaderFormat::Rfc9440;

    // Header source, TLS certificate present, no header: nothing.
    let layer = ClientCertLayer::header(source(format));
    let mut req = Request::new(());
    req.extensions_mut().insert(certs.clone());
    req.extensions_mut()
        .insert(PeerAddr(TRUSTED.parse().unwrap()));
    assert_eq!(call(&layer, req).await.1, "cert=none headers=");

    // TLS source, header from a "trusted" peer, no TLS certificate: nothing.
    let layer = ClientCertLayer::tls();
    let (_, seen) = call(&layer, request(format, &valid_value(format), Some(TRUSTED))).await;
    assert!(seen.starts_with("cert=none"), "{seen}");

    // TLS source with the connection's certificates: the TLS leaf.
    let mut req = request(format, &valid_value(format), Some(TRUSTED));
    req.extensions_mut().insert(certs);
    let (_, seen) = call(&layer, req).await;
    assert!(
        seen.starts_with(&format!("cert={} ", f.thumbprints[0])),
        "{seen}"
    );
}
