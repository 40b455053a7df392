//! Per-request costs of certbound-extract: decoding each proxy header format
//! (leaf alone, and leaf with two intermediates) and `ClientCertLayer` in a
//! tower stack driven in-process, each beside its floor.
//!
//! `cargo bench -j2 -p certbound-extract --bench extract`

use std::convert::Infallible;
use std::hint::black_box;
use std::sync::LazyLock;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use certbound_extract::header::{HeaderDecoder, HeaderFormat};
use certbound_extract::{ClientCert, ClientCertLayer, HeaderSource, PeerAddr};
use certbound_testkit::TestCa;
use certbound_testkit::block_on;
use http::{HeaderName, HeaderValue, Request, Response};
use sha2::{Digest, Sha256};
use tower::{Layer, ServiceExt, service_fn};

#[global_allocator]
static ALLOC: divan::AllocProfiler = divan::AllocProfiler::system();

fn main() {
    divan::main();
}

/// Every format's header value (and chain header value) for one chain.
struct Headers {
    leaf_der: Vec<u8>,
    values: Vec<(HeaderFormat, String, Option<String>)>,
}

/// nginx `$ssl_client_escaped_cert`: everything but unreserved characters
/// escaped, newlines as `%0A`.
fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3 / 2);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn headers(
    leaf: &certbound_testkit::TestCert,
    intermediates: &[&certbound_testkit::TestCert],
) -> Headers {
    let mut values = Vec::new();
    // RFC 9440
    let chain = (!intermediates.is_empty()).then(|| {
        intermediates
            .iter()
            .map(|c| format!(":{}:", STANDARD.encode(&c.der)))
            .collect::<Vec<_>>()
            .join(", ")
    });
    values.push((
        HeaderFormat::Rfc9440,
        format!(":{}:", STANDARD.encode(&leaf.der)),
        chain,
    ));
    // URL-encoded PEM (nginx), all blocks in one value.
    let mut pem = leaf.pem.clone();
    for c in intermediates {
        pem.push_str(&c.pem);
    }
    values.push((HeaderFormat::PemUrlEncoded, url_encode(&pem), None));
    // PEM with newlines as spaces (Apache).
    values.push((HeaderFormat::Pem, pem.trim_end().replace('\n', " "), None));
    // Base64 DER list (HAProxy, Traefik).
    let der = std::iter::once(leaf)
        .chain(intermediates.iter().copied())
        .map(|c| STANDARD.encode(&c.der))
        .collect::<Vec<_>>()
        .join(",");
    values.push((HeaderFormat::DerBase64, der, None));
    // Envoy XFCC with Hash, Cert and Chain.
    let hash: String = Sha256::digest(&leaf.der)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let xfcc = if intermediates.is_empty() {
        format!(
            "By=spiffe://cluster.local/ns/default/sa/api;Hash={hash};Cert=\"{}\";Subject=\"CN=client-0042\"",
            url_encode(&leaf.pem)
        )
    } else {
        format!(
            "By=spiffe://cluster.local/ns/default/sa/api;Hash={hash};Cert=\"{}\";Chain=\"{}\";Subject=\"CN=client-0042\"",
            url_encode(&leaf.pem),
            url_encode(&pem)
        )
    };
    values.push((HeaderFormat::Xfcc, xfcc, None));
    Headers {
        leaf_der: leaf.der.clone(),
        values,
    }
}

struct Fixture {
    leaf: Headers,
    chain: Headers,
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let root = TestCa::new("Bench Root");
    let policy = root.intermediate("Bench Policy CA");
    let issuing = policy.intermediate("Bench Issuing CA");
    let leaf = issuing
        .leaf("client-0042")
        .san_dns("client-0042.example.com")
        .issue();
    Fixture {
        leaf: headers(&leaf, &[]),
        chain: headers(&leaf, &[&issuing.cert, &policy.cert]),
    }
});

fn value(h: &Headers, format: HeaderFormat) -> (&[u8], Option<&[u8]>) {
    let (_, v, c) = h
        .values
        .iter()
        .find(|(f, _, _)| *f == format)
        .unwrap_or_else(|| unreachable!());
    (v.as_bytes(), c.as_deref().map(str::as_bytes))
}

const FORMATS: [HeaderFormat; 5] = HeaderFormat::ALL;

/// Floor: SHA-256 of the leaf's DER with sha2 directly.
#[divan::bench]
fn sha256_raw_baseline(b: divan::Bencher) {
    let der = FIXTURE.leaf.leaf_der.as_slice();
    b.bench(|| Sha256::digest(black_box(der)));
}

/// The parse the decoders ran before a certificate left them, until reading
/// checked the structure itself: x509-parser's parse of the leaf's DER.
/// Kept as a reference; nothing on the request path runs it now (the
/// fields are parsed when first asked for).
#[divan::bench]
fn x509_parser_parse_baseline(b: divan::Bencher) {
    let der = FIXTURE.leaf.leaf_der.as_slice();
    b.bench(|| x509_parser::parse_x509_certificate(black_box(der)).is_ok());
}

/// Header value -> `ClientCert` (with its thumbprint), leaf alone.
#[divan::bench(args = FORMATS)]
fn decode_leaf(b: divan::Bencher, format: HeaderFormat) {
    let decoder = HeaderDecoder::new(format);
    let (v, c) = value(&FIXTURE.leaf, format);
    b.bench(|| {
        let cert = decoder.decode(black_box(v), black_box(c));
        black_box(cert.map(|c| c.map(|c| c.thumbprint())))
    });
}

/// Header value(s) -> `ClientCert`, leaf and two intermediates (in the
/// value, as Traefik and AWS ALB send them, or in RFC 9440's chain header).
#[divan::bench(args = FORMATS)]
fn decode_leaf_and_two_intermediates(b: divan::Bencher, format: HeaderFormat) {
    let decoder = HeaderDecoder::new(format).chain_in_value(true);
    let (v, c) = value(&FIXTURE.chain, format);
    b.bench(|| {
        let cert = decoder.decode(black_box(v), black_box(c));
        black_box(cert.map(|c| c.map(|c| c.thumbprint())))
    });
}

fn request(format: HeaderFormat) -> Request<()> {
    let (v, c) = value(&FIXTURE.leaf, format);
    let mut req = Request::new(());
    req.headers_mut().insert(
        format.default_header(),
        HeaderValue::from_bytes(v).unwrap_or_else(|e| unreachable!("{e}")),
    );
    if let (Some(c), Some(name)) = (c, format.default_chain_header()) {
        req.headers_mut().insert(
            name,
            HeaderValue::from_bytes(c).unwrap_or_else(|e| unreachable!("{e}")),
        );
    }
    req.headers_mut().insert(
        HeaderName::from_static("accept"),
        HeaderValue::from_static("*/*"),
    );
    req.extensions_mut()
        .insert(PeerAddr(([10, 0, 0, 7], 40_000).into()));
    req
}

async fn handler(req: Request<()>) -> Result<Response<()>, Infallible> {
    black_box(
        req.extensions()
            .get::<ClientCert>()
            .map(ClientCert::thumbprint),
    );
    Ok(Response::new(()))
}

/// Floor of the stack benchmarks: the bare handler, driven the same way.
#[divan::bench]
fn stack_bare_handler(b: divan::Bencher) {
    let svc = service_fn(handler);
    b.with_inputs(|| request(HeaderFormat::PemUrlEncoded))
        .bench_values(|req| block_on(svc.oneshot(req)));
}

/// Header -> `ClientCertLayer` -> handler, each format, leaf alone.
#[divan::bench(args = FORMATS)]
fn stack_client_cert_layer(b: divan::Bencher, format: HeaderFormat) {
    let layer = ClientCertLayer::header(
        HeaderSource::new(format)
            .trusted_proxies(["10.0.0.0/8".parse().unwrap_or_else(|_| unreachable!())]),
    );
    let svc = layer.layer(service_fn(handler));
    b.with_inputs(|| request(format)).bench_values(|req| {
        let res = block_on(svc.clone().oneshot(req));
        black_box(res.map(|r| r.status()))
    });
}

/// Cheap sanity: the decoded thumbprint is the SHA-256 of the DER, for every
/// format (so the benchmarks measure a correct decode).
#[divan::bench]
fn fixtures_decode_correctly() {
    for h in [&FIXTURE.leaf, &FIXTURE.chain] {
        let want: [u8; 32] = Sha256::digest(&h.leaf_der).into();
        for format in FORMATS {
            let (v, c) = value(h, format);
            let cert = HeaderDecoder::new(format)
                .chain_in_value(true)
                .decode(v, c)
                .unwrap_or_else(|e| unreachable!("{format}: {e}"))
                .unwrap_or_else(|| unreachable!("{format}: none"));
            assert_eq!(cert.thumbprint().as_bytes(), &want, "{format}");
        }
    }
}
