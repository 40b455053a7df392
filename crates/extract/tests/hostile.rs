//! Hostile header values from a trusted proxy through `ClientCertLayer`:
//! each is answered `400 invalid_request` with a message that says what was
//! wrong (never echoing the value), the inner service is not called, and
//! the next good request on the same service still gets its certificate.

mod support;

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use certbound_extract::header::HeaderFormat;
use certbound_extract::{ClientCert, ClientCertLayer, HeaderSource, PeerAddr};
use certbound_testkit::nginx_escaped_cert;
use certbound_testkit::{TestCa, TestCert};
use http::{HeaderName, HeaderValue, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use support::{b64, sha256_hex};
use tower::{Layer, Service, ServiceExt, service_fn};

const TRUSTED: &str = "10.0.0.7:40000";

struct Pki {
    root: TestCa,
    int: TestCa,
    leaf: TestCert,
}

fn pki() -> Pki {
    let root = TestCa::new("Hostile Root");
    let int = root.intermediate("Hostile Issuing CA");
    let leaf = int.leaf("client").issue();
    Pki { root, int, leaf }
}

fn thumbprint(c: &TestCert) -> String {
    certbound_cert::Thumbprint::of_der(&c.der).to_string()
}

/// A service behind the layer that answers with the thumbprint it was
/// given, and counts its calls.
fn service(
    source: HeaderSource,
    calls: Arc<AtomicUsize>,
) -> impl Service<
    Request<()>,
    Response = Response<impl http_body::Body<Data = Bytes, Error: std::fmt::Debug>>,
    Error = Infallible,
> + Clone {
    let inner = service_fn(move |req: Request<()>| {
        let calls = calls.clone();
        async move {
            calls.fetch_add(1, Ordering::SeqCst);
            let body = req
                .extensions()
                .get::<ClientCert>()
                .map_or("none".to_owned(), |c| {
                    format!("{} +{}", c.thumbprint(), c.intermediates().len())
                });
            Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(body))))
        }
    });
    ClientCertLayer::header(source.trusted_proxies(["10.0.0.0/8".parse().unwrap()])).layer(inner)
}

fn request(headers: &[(&str, HeaderValue)]) -> Request<()> {
    let mut req = Request::new(());
    for (name, value) in headers {
        req.headers_mut().append(
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            value.clone(),
        );
    }
    req.extensions_mut()
        .insert(PeerAddr(TRUSTED.parse().unwrap()));
    req
}

fn value(s: &str) -> HeaderValue {
    HeaderValue::from_str(s).unwrap()
}

async fn send<S, B>(svc: &mut S, req: Request<()>) -> (StatusCode, String)
where
    S: Service<Request<()>, Response = Response<B>, Error = Infallible>,
    B: http_body::Body<Data = Bytes, Error: std::fmt::Debug>,
{
    let res = svc.ready().await.unwrap().call(req).await.unwrap();
    let status = res.status();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

/// Sends the hostile request, expects a 400 whose description contains
/// `expect`, then a good request on the same service.
async fn refused_then_next_works(
    source: HeaderSource,
    hostile: Request<()>,
    expect: &str,
    good: Request<()>,
    good_answer: &str,
) {
    let calls = Arc::new(AtomicUsize::new(0));
    let mut svc = service(source, calls.clone());
    let (status, body) = send(&mut svc, hostile).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["error"], "invalid_request", "{body}");
    let description = json["error_description"].as_str().unwrap();
    assert!(
        description.contains(expect),
        "{description:?} does not say {expect:?}"
    );
    assert!(description.len() < 300, "{description}");
    assert_eq!(calls.load(Ordering::SeqCst), 0, "the inner service ran");
    let (status, body) = send(&mut svc, good).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, good_answer));
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

fn rfc9440(c: &TestCert) -> String {
    format!(":{}:", b64(&c.der))
}

#[test]
fn cr_lf_and_nul_cannot_be_put_into_a_header_value() {
    // The http crate refuses them, so no header value reaching the layer
    // can split a header or end a line early.
    for bad in ["a\rb", "a\nb", "a\r\nX-Injected: 1", "a\0b"] {
        assert!(HeaderValue::from_str(bad).is_err(), "{bad:?}");
        assert!(HeaderValue::from_bytes(bad.as_bytes()).is_err(), "{bad:?}");
    }
}

#[tokio::test]
async fn percent_encoded_nul_in_pem_is_refused_and_the_next_request_works() {
    let p = pki();
    let good = nginx_escaped_cert(&p.leaf.pem);
    // NUL in the middle of the base64.
    let mut hostile = p.leaf.pem.clone();
    hostile.insert(40, '\0');
    refused_then_next_works(
        HeaderSource::new(HeaderFormat::PemUrlEncoded),
        request(&[("x-ssl-client-cert", value(&nginx_escaped_cert(&hostile)))]),
        "not valid base64",
        request(&[("x-ssl-client-cert", value(&good))]),
        &format!("{} +0", thumbprint(&p.leaf)),
    )
    .await;
}

#[tokio::test]
async fn percent_encoded_crlf_in_pem_is_just_a_line_end() {
    let p = pki();
    let crlf = nginx_escaped_cert(&p.leaf.pem.replace('\n', "\r\n"));
    let calls = Arc::new(AtomicUsize::new(0));
    let mut svc = service(HeaderSource::new(HeaderFormat::PemUrlEncoded), calls);
    let (status, body) = send(&mut svc, request(&[("x-ssl-client-cert", value(&crlf))])).await;
    assert_eq!(
        (status, body),
        (StatusCode::OK, format!("{} +0", thumbprint(&p.leaf)))
    );
}

#[tokio::test]
async fn bytes_that_are_not_utf8_are_refused() {
    let p = pki();
    let mut raw = p.leaf.pem.replace('\n', " ").into_bytes();
    raw[40] = 0xff;
    refused_then_next_works(
        HeaderSource::new(HeaderFormat::Pem),
        request(&[("x-ssl-client-cert", HeaderValue::from_bytes(&raw).unwrap())]),
        "not text (invalid UTF-8 at byte 40)",
        request(&[("x-ssl-client-cert", value(&p.leaf.pem.replace('\n', " ")))]),
        &format!("{} +0", thumbprint(&p.leaf)),
    )
    .await;
}

#[tokio::test]
async fn a_single_value_header_sent_twice_is_refused() {
    let p = pki();
    for (format, name, good) in [
        (HeaderFormat::Rfc9440, "client-cert", rfc9440(&p.leaf)),
        (
            HeaderFormat::Pem,
            "x-ssl-client-cert",
            p.leaf.pem.replace('\n', " "),
        ),
        (
            HeaderFormat::PemUrlEncoded,
            "x-ssl-client-cert",
            nginx_escaped_cert(&p.leaf.pem),
        ),
    ] {
        // Twice the same, and two different certificates.
        for second in [good.clone(), rfc9440(&p.int.cert)] {
            refused_then_next_works(
                HeaderSource::new(format),
                request(&[(name, value(&good)), (name, value(&second))]),
                "appears 2 times",
                request(&[(name, value(&good))]),
                &format!("{} +0", thumbprint(&p.leaf)),
            )
            .await;
        }
    }
}

#[tokio::test]
async fn a_list_header_sent_twice_is_refused_and_one_list_is_still_limited() {
    let p = pki();
    // der-base64 on two field lines: no proxy writes two, so one of them
    // is the client's.
    refused_then_next_works(
        HeaderSource::new(HeaderFormat::DerBase64),
        request(&[
            ("x-ssl-client-der", value(&b64(&p.leaf.der))),
            ("x-ssl-client-der", value(&b64(&p.int.cert.der))),
        ]),
        "appears 2 times",
        request(&[("x-ssl-client-der", value(&b64(&p.leaf.der)))]),
        &format!("{} +0", thumbprint(&p.leaf)),
    )
    .await;
    // One list is counted against the chain limit.
    let many = vec![b64(&p.leaf.der); 5].join(",");
    refused_then_next_works(
        HeaderSource::new(HeaderFormat::DerBase64),
        request(&[("x-ssl-client-der", value(&many))]),
        "5 certificates, more than the limit of 4",
        request(&[("x-ssl-client-der", value(&b64(&p.leaf.der)))]),
        &format!("{} +0", thumbprint(&p.leaf)),
    )
    .await;
}

#[tokio::test]
async fn enormous_values_are_refused_before_decoding() {
    let p = pki();
    for size in [16 * 1024 + 1, 1024 * 1024] {
        let huge = format!(":{}:", "A".repeat(size));
        refused_then_next_works(
            HeaderSource::new(HeaderFormat::Rfc9440),
            request(&[("client-cert", value(&huge))]),
            &format!(
                "is {} bytes long, more than the limit of 16384 bytes",
                size + 2
            ),
            request(&[("client-cert", value(&rfc9440(&p.leaf)))]),
            &format!("{} +0", thumbprint(&p.leaf)),
        )
        .await;
    }
    // The chain header has the same limit.
    let huge = format!(":{}:", "A".repeat(20_000));
    refused_then_next_works(
        HeaderSource::new(HeaderFormat::Rfc9440),
        request(&[
            ("client-cert", value(&rfc9440(&p.leaf))),
            ("client-cert-chain", value(&huge)),
        ]),
        "malformed client-cert-chain header",
        request(&[("client-cert", value(&rfc9440(&p.leaf)))]),
        &format!("{} +0", thumbprint(&p.leaf)),
    )
    .await;
    // And a smaller configured limit is honoured.
    refused_then_next_works(
        HeaderSource::new(HeaderFormat::Rfc9440).max_header_len(100),
        request(&[("client-cert", value(&rfc9440(&p.leaf)))]),
        "more than the limit of 100 bytes",
        request(&[("client-cert", value(""))]),
        "none",
    )
    .await;
}

#[tokio::test]
async fn chains_longer_than_the_limit_are_refused_in_every_format() {
    let p = pki();
    let five: Vec<&TestCert> = vec![
        &p.leaf,
        &p.int.cert,
        &p.root.cert,
        &p.int.cert,
        &p.root.cert,
    ];
    let pem: String = five.iter().map(|c| c.pem.clone()).collect();
    let chain_9440: Vec<String> = five[1..].iter().map(|c| rfc9440(c)).collect();
    let xfcc_chain = nginx_escaped_cert(&pem);
    let cases: Vec<(HeaderFormat, Vec<(&str, String)>)> = vec![
        (
            HeaderFormat::Rfc9440,
            vec![
                ("client-cert", rfc9440(&p.leaf)),
                ("client-cert-chain", chain_9440.join(", ")),
            ],
        ),
        (
            HeaderFormat::PemUrlEncoded,
            vec![("x-ssl-client-cert", nginx_escaped_cert(&pem))],
        ),
        (
            HeaderFormat::Pem,
            vec![("x-ssl-client-cert", pem.replace('\n', " "))],
        ),
        (
            HeaderFormat::DerBase64,
            vec![(
                "x-ssl-client-der",
                five.iter()
                    .map(|c| b64(&c.der))
                    .collect::<Vec<_>>()
                    .join(","),
            )],
        ),
        (
            HeaderFormat::Xfcc,
            vec![(
                "x-forwarded-client-cert",
                format!("By=spiffe://proxy;Chain=\"{xfcc_chain}\""),
            )],
        ),
    ];
    for (format, headers) in cases {
        let headers: Vec<(&str, HeaderValue)> =
            headers.iter().map(|(n, v)| (*n, value(v))).collect();
        let good_name = format.default_header();
        let good = match format {
            HeaderFormat::Rfc9440 => rfc9440(&p.leaf),
            HeaderFormat::PemUrlEncoded => nginx_escaped_cert(&p.leaf.pem),
            HeaderFormat::Pem => p.leaf.pem.replace('\n', " "),
            HeaderFormat::DerBase64 => b64(&p.leaf.der),
            _ => format!("Cert=\"{}\"", nginx_escaped_cert(&p.leaf.pem)),
        };
        refused_then_next_works(
            HeaderSource::new(format),
            request(&headers),
            "holds 5 certificates, more than the limit of 4",
            request(&[(good_name.as_str(), value(&good))]),
            &format!("{} +0", thumbprint(&p.leaf)),
        )
        .await;
    }
}

#[tokio::test]
async fn concatenated_der_cannot_smuggle_more_certificates_than_the_limit() {
    let p = pki();
    let mut der = Vec::new();
    for _ in 0..5 {
        der.extend(&p.leaf.der);
    }
    refused_then_next_works(
        HeaderSource::new(HeaderFormat::DerBase64),
        request(&[("x-ssl-client-der", value(&b64(&der)))]),
        "5 certificates",
        request(&[("x-ssl-client-der", value(&b64(&p.leaf.der)))]),
        &format!("{} +0", thumbprint(&p.leaf)),
    )
    .await;
}

#[tokio::test]
async fn a_ca_certificate_as_leaf_is_passed_on_for_the_authenticator_to_judge() {
    // Extraction does not validate: it hands the "leaf" on as presented,
    // and certbound-auth refuses it (tests/hostile.rs there).
    let p = pki();
    let calls = Arc::new(AtomicUsize::new(0));
    let mut svc = service(HeaderSource::new(HeaderFormat::Rfc9440), calls);
    let req = request(&[
        ("client-cert", value(&rfc9440(&p.int.cert))),
        ("client-cert-chain", value(&rfc9440(&p.root.cert))),
    ]);
    let (status, body) = send(&mut svc, req).await;
    assert_eq!(
        (status, body),
        (StatusCode::OK, format!("{} +1", thumbprint(&p.int.cert)))
    );
}

#[tokio::test]
async fn pem_with_garbage_is_refused_with_what_is_wrong() {
    let p = pki();
    let body_start = p.leaf.pem.find('\n').unwrap() + 1;
    let end = p.leaf.pem.find("-----END").unwrap();
    let mut garbage_in_body = p.leaf.pem.clone();
    garbage_in_body.insert_str(end, "garbage!\n");
    let mut der_with_trailing_bytes = p.leaf.der.clone();
    der_with_trailing_bytes.extend(b"trailing");
    let trailing_der = certbound_testkit::pem_of(&der_with_trailing_bytes);
    let unterminated = format!("{}-----BEGIN CERTIFICATE-----\nMIIB", p.leaf.pem);
    let mut wrong_padding = p.leaf.pem.clone();
    wrong_padding.insert(body_start, '=');
    let cases = [
        (garbage_in_body, "PEM block 1 is not valid base64"),
        (trailing_der, "8 unexpected bytes after the certificate"),
        (
            unterminated,
            "PEM block 2 has no -----END CERTIFICATE----- line",
        ),
        (wrong_padding, "PEM block 1 is not valid base64"),
        ("no pem here".to_owned(), "no PEM certificate block"),
        (
            format!("{}trailing words", p.leaf.pem),
            "unexpected text outside the PEM blocks",
        ),
        (
            format!(
                "{}{}",
                p.leaf.pem,
                p.leaf.pem.replace("-----END CERTIFICATE-----\n", "")
            ),
            "PEM block 2 has no -----END CERTIFICATE----- line",
        ),
    ];
    for (format, encode) in [
        (
            HeaderFormat::Pem,
            (|s: &str| s.replace('\n', " ")) as fn(&str) -> String,
        ),
        (HeaderFormat::PemUrlEncoded, |s: &str| nginx_escaped_cert(s)),
    ] {
        for (hostile, expect) in &cases {
            refused_then_next_works(
                HeaderSource::new(format),
                request(&[("x-ssl-client-cert", value(&encode(hostile)))]),
                expect,
                request(&[("x-ssl-client-cert", value(&encode(&p.leaf.pem)))]),
                &format!("{} +0", thumbprint(&p.leaf)),
            )
            .await;
        }
    }
}

#[tokio::test]
async fn base64_with_junk_is_refused() {
    let p = pki();
    let good = b64(&p.leaf.der);
    let rfc_good = rfc9440(&p.leaf);
    let der_cases = [
        (format!("{good}!"), "item 1 is not valid base64"),
        (
            format!("{}*{}", &good[..10], &good[10..]),
            "item 1 is not valid base64",
        ),
        (
            format!("{} {}", &good[..10], &good[10..]),
            "item 1 is not valid base64",
        ),
        (format!("{good},{good}$"), "item 2 is not valid base64"),
        (format!("{good},"), "item 2: empty list item"),
        (b64(b"\x30\x03abc"), "item 1: not an X.509 certificate"),
        (
            b64(b"\x04\x03abc"),
            "item 1: byte 0 starts no DER certificate",
        ),
        (
            b64(&[p.leaf.der.clone(), vec![0, 0, 0]].concat()),
            "item 1: byte",
        ),
    ];
    for (hostile, expect) in der_cases {
        refused_then_next_works(
            HeaderSource::new(HeaderFormat::DerBase64),
            request(&[("x-ssl-client-der", value(&hostile))]),
            expect,
            request(&[("x-ssl-client-der", value(&good))]),
            &format!("{} +0", thumbprint(&p.leaf)),
        )
        .await;
    }
    // The base64url alphabet inside a Byte Sequence. A random certificate's
    // base64 may hold no '+' or no '/', so swap whichever it has (and skip
    // the case when it has neither, where the value would be unchanged).
    let url_alphabet = good.replace('+', "-").replace('/', "_");
    let mut rfc_cases = vec![
        format!(":{good}!:"),
        format!(":{good}"),
        good.clone(),
        "\"a string\"".to_owned(),
    ];
    if url_alphabet != good {
        rfc_cases.push(format!(":{url_alphabet}:"));
    }
    for hostile in rfc_cases {
        refused_then_next_works(
            HeaderSource::new(HeaderFormat::Rfc9440),
            request(&[("client-cert", value(&hostile))]),
            "not an RFC 9440 value",
            request(&[("client-cert", value(&rfc_good))]),
            &format!("{} +0", thumbprint(&p.leaf)),
        )
        .await;
    }
    // Two byte sequences where one belongs: said to be combined.
    refused_then_next_works(
        HeaderSource::new(HeaderFormat::Rfc9440),
        request(&[("client-cert", value(&format!("{rfc_good}, {rfc_good}")))]),
        "two values combined: 2 RFC 9440 byte sequences where Client-Cert holds one",
        request(&[("client-cert", value(&rfc_good))]),
        &format!("{} +0", thumbprint(&p.leaf)),
    )
    .await;
}

#[tokio::test]
async fn xfcc_with_unbalanced_quotes_or_bad_grammar_is_refused() {
    let p = pki();
    let cert = nginx_escaped_cert(&p.leaf.pem);
    let hash = sha256_hex(&p.leaf.der);
    let good = format!("By=spiffe://proxy;Hash={hash};Cert=\"{cert}\";Subject=\"CN=client\"");
    let cases = [
        (
            format!("Hash={hash};Cert=\"{cert}"),
            "unterminated quoted value",
        ),
        (
            format!("Hash={hash};Cert={cert}\""),
            "a quote inside an unquoted value",
        ),
        (
            format!("Subject=\"CN=a\"b\";Cert=\"{cert}\""),
            "expected ';' or ',' after a value",
        ),
        (
            format!("Subject=\"CN=a\\\";Cert=\"{cert}\""),
            "expected ';' or ',' after a value",
        ),
        ("By=a;;Cert=x".to_owned(), "expected Key=value"),
        (format!("Cert=\"{cert}\";=x"), "empty key"),
        (
            format!("Cert=\"{cert}\";Cert=\"{cert}\""),
            "has the key Cert more than once",
        ),
        (
            format!("Hash={};Cert=\"{cert}\"", "0".repeat(64)),
            "Hash does not match",
        ),
        (
            format!("Hash=xyz;Cert=\"{cert}\""),
            "Hash is not 64 hex digits",
        ),
        (
            format!("Cert=\"{}\"", nginx_escaped_cert("junk")),
            "Cert: no PEM certificate block",
        ),
        (format!("Cert=\"{cert}%\""), "invalid percent-encoding"),
    ];
    for (hostile, expect) in cases {
        refused_then_next_works(
            HeaderSource::new(HeaderFormat::Xfcc),
            request(&[("x-forwarded-client-cert", value(&hostile))]),
            expect,
            request(&[("x-forwarded-client-cert", value(&good))]),
            &format!("{} +0", thumbprint(&p.leaf)),
        )
        .await;
    }
}

#[tokio::test]
async fn refusals_never_echo_the_header_value() {
    let marker = "SECRETMARKER";
    let calls = Arc::new(AtomicUsize::new(0));
    for (format, hostile) in [
        (HeaderFormat::Rfc9440, format!(":{marker}!:")),
        (HeaderFormat::DerBase64, format!("{marker}!")),
        (HeaderFormat::Xfcc, format!("By={marker};Cert=\"{marker}")),
        (
            HeaderFormat::Pem,
            format!("-----BEGIN CERTIFICATE-----{marker}"),
        ),
    ] {
        let mut svc = service(HeaderSource::new(format), calls.clone());
        let (status, body) = send(
            &mut svc,
            request(&[(format.default_header().as_str(), value(&hostile))]),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(!body.contains(marker), "{body}");
    }
}
