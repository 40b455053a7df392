//! Issue 16: a proxy that appends its certificate header to the one the
//! client sent, instead of replacing it, must never let the client
//! authenticate with another's certificate. The attacker holds a real
//! certificate of its own (which the proxy writes after the client's value)
//! and the victim's public certificate (which it sends as its own header).
//! Every combination, in every format, through `ClientCertLayer` from a
//! trusted proxy, is refused with a 400 and never reaches the service.

mod support;

use std::convert::Infallible;

use bytes::Bytes;
use certbound_extract::header::{HeaderDecoder, HeaderError, HeaderFormat};
use certbound_extract::{ClientCert, ClientCertLayer, HeaderSource, PeerAddr};
use certbound_testkit::hostile::combined_header_values;
use certbound_testkit::nginx_escaped_cert;
use certbound_testkit::{TestCa, TestCert};
use http::{HeaderValue, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use support::b64;
use tower::{Layer, ServiceExt, service_fn};

const TRUSTED: &str = "10.0.0.7:40000";

struct Parties {
    /// Client A's certificate: the attacker knows only its public part.
    victims: Vec<TestCert>,
    /// The attacker's own certificate, presented to the proxy over TLS.
    attacker: TestCert,
}

fn parties() -> Parties {
    let ca = TestCa::new("Clients CA");
    let issuing = ca.intermediate("Clients Issuing CA");
    Parties {
        victims: vec![
            issuing.leaf("client-a").issue(),
            // A self_signed_tls_client_auth client.
            certbound_testkit::self_signed("client-a-self-signed").issue(),
        ],
        attacker: issuing.leaf("attacker").issue(),
    }
}

/// The status and body of one request with these certificate header lines,
/// from a trusted proxy; the body is the thumbprint the service saw.
async fn send(format: HeaderFormat, lines: &[String]) -> (StatusCode, String) {
    send_with(format, false, lines).await
}

/// [`send`], with a source told whether the proxy puts the chain in the
/// value (`HeaderSource::chain_in_value`).
async fn send_with(
    format: HeaderFormat,
    chain_in_value: bool,
    lines: &[String],
) -> (StatusCode, String) {
    let layer = ClientCertLayer::header(
        HeaderSource::new(format)
            .chain_in_value(chain_in_value)
            .trusted_proxies(["10.0.0.0/8".parse().unwrap()]),
    );
    let svc = layer.layer(service_fn(|req: Request<()>| async move {
        let seen = req
            .extensions()
            .get::<ClientCert>()
            .map(|c| c.thumbprint().to_string())
            .unwrap_or_default();
        Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(seen))))
    }));
    let mut req = Request::new(());
    for line in lines {
        req.headers_mut().append(
            format.default_header(),
            HeaderValue::from_str(line).unwrap(),
        );
    }
    req.extensions_mut()
        .insert(PeerAddr(TRUSTED.parse().unwrap()));
    let res = svc.oneshot(req).await.unwrap();
    let status = res.status();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

fn thumbprint(c: &TestCert) -> String {
    certbound_cert::Certificate::from_der(c.der.clone())
        .unwrap()
        .thumbprint()
        .to_string()
}

#[tokio::test]
async fn a_combined_value_is_refused_in_every_format() {
    let p = parties();
    for (victim, chain_in_value) in p.victims.iter().flat_map(|v| [(v, false), (v, true)]) {
        for format in HeaderFormat::ALL {
            let cases = combined_header_values(format.as_str(), &victim.der, &p.attacker.der);
            assert!(cases.len() >= 4, "{format}: {cases:?}");
            for (case, lines) in cases {
                let (status, body) = send_with(format, chain_in_value, &lines).await;
                assert_eq!(
                    status,
                    StatusCode::BAD_REQUEST,
                    "{format}, {case}: {body}\n{lines:?}"
                );
                assert!(body.contains("invalid_request"), "{format}, {case}: {body}");
                // The same field lines through the plain decoder are
                // refused too, and the error says values were combined.
                let decoded = HeaderDecoder::new(format)
                    .chain_in_value(chain_in_value)
                    .decode_lines(lines.iter().map(|l| l.as_bytes()), []);
                match decoded {
                    Err(e) => assert!(e.is_combined(), "{format}, {case}: {e}"),
                    Ok(c) => panic!("{format}, {case}: decoded {c:?}"),
                }
                assert!(body.contains("combined"), "{format}, {case}: {body}");
            }
        }
    }
}

#[tokio::test]
async fn a_self_signed_victim_before_an_attackers_ca_certificate_is_refused() {
    // Behind a proxy that accepts any client certificate (as
    // self_signed_tls_client_auth needs), the attacker's own certificate
    // may be a CA certificate.
    let victim = certbound_testkit::self_signed("client-a-self-signed").issue();
    let attacker = TestCa::new("Attacker's own CA").cert;
    for format in HeaderFormat::ALL {
        for (case, lines) in combined_header_values(format.as_str(), &victim.der, &attacker.der) {
            let (status, body) = send(format, &lines).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{format}, {case}: {body}");
            assert!(body.contains("combined"), "{format}, {case}: {body}");
        }
    }
    // Where the proxy sends the chain in the value, a self-issued leaf
    // has none.
    let (status, body) = send_with(
        HeaderFormat::DerBase64,
        true,
        &[format!("{}, {}", b64(&victim.der), b64(&attacker.der))],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body.contains("certificate 1 is self-issued, so nothing may follow it"),
        "{body}"
    );
}

#[tokio::test]
async fn a_ca_issued_victim_before_an_attackers_own_ca_certificate_is_refused() {
    // The proxy accepts any client certificate, so the attacker's may be
    // a CA certificate of its own; the victim's was issued by a CA, so
    // nothing about the order of the two tells them apart. A value that
    // holds the leaf alone (the default) refuses the second certificate
    // whatever it is.
    let ca = TestCa::new("Clients CA");
    let victim = ca
        .intermediate("Clients Issuing CA")
        .leaf("client-a")
        .issue();
    let attacker = TestCa::new("Attacker's own CA").cert;
    for format in HeaderFormat::ALL {
        for (case, lines) in combined_header_values(format.as_str(), &victim.der, &attacker.der) {
            // XFCC: Envoy writes `Cert` and `Chain` of its element from the
            // TLS connection, leaf first, and the element is picked from
            // the right; the victim cannot come first in a `Chain` Envoy
            // wrote.
            if format == HeaderFormat::Xfcc && case.starts_with("Chain") {
                continue;
            }
            let (status, body) = send(format, &lines).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{format}, {case}: {body}");
            assert!(body.contains("invalid_request"), "{format}, {case}: {body}");
        }
    }
}

#[tokio::test]
async fn a_combination_is_explained_as_one() {
    let p = parties();
    let victim = &p.victims[0];
    let pem = |c: &TestCert| c.pem.trim_end().replace('\n', " ");
    let joined = [format!("{} {}", pem(victim), pem(&p.attacker))];
    // Joined by white space alone: two blocks where the proxy writes one.
    let (status, body) = send(HeaderFormat::Pem, &joined).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body.contains(
            "two values combined: the value holds 2 certificates where the proxy writes one; a proxy must replace the client's header, not append to it"
        ),
        "{body}"
    );
    // Where the proxy sends the chain in the value: the second is no CA.
    let (status, body) = send_with(HeaderFormat::Pem, true, &joined).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body.contains(
            "two values combined: certificate 2 is not a CA certificate; a proxy must replace the client's header, not append to it"
        ),
        "{body}"
    );
    // Two field lines.
    let (status, body) = send(
        HeaderFormat::DerBase64,
        &[b64(&victim.der), b64(&p.attacker.der)],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("appears 2 times"), "{body}");
    assert!(body.contains("not append to it"), "{body}");
}

#[tokio::test]
async fn an_rfc9440_chain_header_holding_a_leaf_is_refused() {
    let p = parties();
    let layer = ClientCertLayer::header(
        HeaderSource::new(HeaderFormat::Rfc9440).trusted_proxies(["10.0.0.0/8".parse().unwrap()]),
    );
    let mut req = Request::new(());
    req.headers_mut().insert(
        "client-cert",
        HeaderValue::from_str(&format!(":{}:", b64(&p.victims[0].der))).unwrap(),
    );
    req.headers_mut().insert(
        "client-cert-chain",
        HeaderValue::from_str(&format!(":{}:", b64(&p.attacker.der))).unwrap(),
    );
    req.extensions_mut()
        .insert(PeerAddr(TRUSTED.parse().unwrap()));
    let svc = layer.layer(service_fn(|_: Request<()>| async {
        Ok::<_, Infallible>(Response::new(Full::new(Bytes::new())))
    }));
    let res = svc.oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let body = res.into_body().collect().await.unwrap().to_bytes();
    assert!(
        String::from_utf8_lossy(&body)
            .contains("malformed client-cert-chain header: two values combined"),
        "{body:?}"
    );
}

#[tokio::test]
async fn a_proxy_that_replaces_the_header_works_as_before() {
    let p = parties();
    let a = &p.attacker;
    let xfcc = format!(
        "By=spiffe://proxy.example/ns/edge;Cert=\"{}\";Subject=\"CN=attacker\"",
        nginx_escaped_cert(&a.pem)
    );
    for (format, value) in [
        (HeaderFormat::Rfc9440, format!(":{}:", b64(&a.der))),
        // nginx $ssl_client_escaped_cert
        (HeaderFormat::PemUrlEncoded, nginx_escaped_cert(&a.pem)),
        // Apache %{SSL_CLIENT_CERT}s
        (HeaderFormat::Pem, a.pem.trim_end().replace('\n', " ")),
        // HAProxy %[ssl_c_der,base64]
        (HeaderFormat::DerBase64, b64(&a.der)),
        // Envoy SANITIZE_SET
        (HeaderFormat::Xfcc, xfcc),
    ] {
        assert_eq!(
            send(format, &[value]).await,
            (StatusCode::OK, thumbprint(a)),
            "{format}"
        );
    }
}

#[tokio::test]
async fn xfcc_elements_appended_on_one_line_give_the_proxys_own() {
    // Envoy APPEND_FORWARD: the client's element first, the proxy's last.
    // Counted from the right, the proxy's element is read: the attacker
    // gets its own certificate, never the victim's.
    let p = parties();
    let element = |c: &TestCert| format!("By=spiffe://x;Cert=\"{}\"", nginx_escaped_cert(&c.pem));
    for join in [",", ", "] {
        let value = format!("{}{join}{}", element(&p.victims[0]), element(&p.attacker));
        assert_eq!(
            send(HeaderFormat::Xfcc, &[value]).await,
            (StatusCode::OK, thumbprint(&p.attacker))
        );
    }
}

#[test]
fn joined_rfc9440_and_base64_values_are_explained_as_combined() {
    let p = parties();
    let (v, a) = (b64(&p.victims[0].der), b64(&p.attacker.der));
    for join in [", ", ",", " "] {
        let err = HeaderDecoder::new(HeaderFormat::Rfc9440)
            .decode(format!(":{v}:{join}:{a}:").as_bytes(), None)
            .unwrap_err();
        assert_eq!(
            err,
            HeaderError::CombinedByteSequences { count: 2 },
            "{join:?}"
        );
    }
    let err = HeaderDecoder::new(HeaderFormat::DerBase64)
        .decode(format!("{v} {a}").as_bytes(), None)
        .unwrap_err();
    assert_eq!(err, HeaderError::CombinedBase64 { item: 1 });
    assert!(
        err.to_string()
            .contains("base64 values joined by white space")
    );
    // Base64 with junk is not called combined.
    let err = HeaderDecoder::new(HeaderFormat::DerBase64)
        .decode(format!("{v} !").as_bytes(), None)
        .unwrap_err();
    assert_eq!(err, HeaderError::InvalidBase64 { item: 1 });
    assert!(!err.is_combined());
}

#[test]
fn repeated_field_lines_are_refused_by_the_decoder_in_every_format() {
    let p = parties();
    let victim = &p.victims[0];
    for format in HeaderFormat::ALL {
        let value = certbound_testkit::hostile::header_value(format.as_str(), &victim.der);
        let decoder = HeaderDecoder::new(format);
        let one = decoder
            .decode_lines([value.as_bytes()], [])
            .unwrap()
            .unwrap();
        assert_eq!(one.0.der(), &victim.der[..], "{format}");
        let err = decoder
            .decode_lines([value.as_bytes(), value.as_bytes()], [])
            .unwrap_err();
        assert_eq!(err, HeaderError::Repeated { count: 2 }, "{format}");
        assert!(
            err.to_string()
                .contains("repeated header lines, values were combined")
        );
        assert!(decoder.decode_lines([], []).unwrap().is_none());
    }
    let decoder = HeaderDecoder::new(HeaderFormat::Rfc9440);
    let leaf = format!(":{}:", b64(&victim.der));
    let err = decoder
        .decode_lines([leaf.as_bytes()], [&b""[..], b""])
        .unwrap_err();
    assert!(err.is_combined(), "{err}");
    assert!(
        err.to_string()
            .starts_with("chain header: the header appears 2 times"),
        "{err}"
    );
}
