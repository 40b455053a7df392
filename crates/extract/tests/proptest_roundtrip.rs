//! Property tests: every proxy header format round-trips.
//!
//! A handful of certificates with arbitrary subjects and SANs are generated
//! once (rcgen, through certbound-testkit); each case picks a chain of them
//! and writes it the way a proxy documents it (small encoders below), with
//! the variations real proxies produce: quoting, padding, alphabets, line
//! ends, escaping styles, XFCC key order and case, hops, and lists folded
//! and joined again. Decoding must give back the same leaf and
//! intermediates, byte for byte.

mod support;

use std::convert::Infallible;
use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use bytes::Bytes;
use certbound_extract::header::{HeaderDecoder, HeaderFormat};
use certbound_extract::{ClientCert, ClientCertLayer, HeaderSource, PeerAddr};
use certbound_testkit::TestCa;
use certbound_testkit::{alb_escaped_cert, nginx_escaped_cert};
use http::{HeaderName, HeaderValue, Request, Response};
use http_body_util::{BodyExt, Full};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use support::sha256_hex;
use tower::{Layer, ServiceExt, service_fn};

/// One certificate of the pool: DER, PEM, subject string, SANs.
struct PoolCert {
    der: Vec<u8>,
    pem: String,
    uris: Vec<String>,
    dns: Vec<String>,
}

/// A root, an intermediate and leaves with arbitrary subjects and SANs,
/// drawn once from strategies with a fixed seed.
fn pool() -> &'static Vec<PoolCert> {
    static POOL: OnceLock<Vec<PoolCert>> = OnceLock::new();
    POOL.get_or_init(|| {
        let mut runner = TestRunner::deterministic();
        let mut draw = |s: &str| s.new_tree(&mut runner).unwrap().current();
        let root = TestCa::new(&draw("\\PC{1,20}"));
        let int = root.intermediate(&draw("[^\\x00]{1,20}"));
        let mut certs = vec![
            PoolCert {
                der: root.cert.der.clone(),
                pem: root.cert.pem.clone(),
                uris: vec![],
                dns: vec![],
            },
            PoolCert {
                der: int.cert.der.clone(),
                pem: int.cert.pem.clone(),
                uris: vec![],
                dns: vec![],
            },
        ];
        for i in 0..5 {
            let cn = draw("[ -~]{0,12}[,;=\"+#\\\\]{1,3}\\PC{0,12}");
            let dns = vec![format!("{}.example", draw("[a-z0-9-]{1,20}"))];
            let uris = vec![format!(
                "spiffe://example.org/{}?a=b;c,d",
                draw("[a-zA-Z0-9._~-]{1,20}")
            )];
            let email = format!("{}@example.com", draw("[a-z0-9.+_-]{1,16}"));
            let issuer = if i % 2 == 0 { &int } else { &root };
            let leaf = issuer
                .leaf(&cn)
                .san_dns(&dns[0])
                .san_uri(&uris[0])
                .san_email(&email)
                .issue();
            certs.push(PoolCert {
                der: leaf.der,
                pem: leaf.pem,
                uris,
                dns,
            });
        }
        certs
    })
}

/// A chain of 1 to 4 pool certificates: any one first, then CA
/// certificates (the root and the intermediate, in any order: decoding
/// does not validate, but a list is a leaf and then CAs, and nothing
/// follows a self-issued one, the root).
fn chain() -> impl Strategy<Value = Vec<usize>> {
    (0..7usize, prop::collection::vec(0..2usize, 0..=3)).prop_map(|(leaf, cas)| {
        let mut chain = vec![leaf];
        if leaf != 0 {
            chain.extend(cas);
        }
        chain
    })
}

fn certs(chain: &[usize]) -> Vec<&'static PoolCert> {
    chain.iter().map(|&i| &pool()[i]).collect()
}

/// Header field lines, name and value.
type Lines = Vec<(HeaderName, String)>;

/// Splits a comma-separated list into `parts` field lines (RFC 9110 §5.3:
/// a recipient may combine them with `,`). The layer refuses a header on
/// several field lines (no proxy writes more than one): it is given them
/// joined.
fn fold(name: &str, items: &[String], parts: usize, ows: &str) -> Lines {
    let name = HeaderName::from_bytes(name.as_bytes()).unwrap();
    let per = items.len().div_ceil(parts.max(1)).max(1);
    items
        .chunks(per)
        .map(|c| (name.clone(), c.join(&format!(",{ows}"))))
        .collect()
}

/// RFC 9440: `Client-Cert` a Byte Sequence, `Client-Cert-Chain` a List.
fn rfc9440(certs: &[&PoolCert], parts: usize, ows: &str) -> Lines {
    let item = |c: &PoolCert| format!(":{}:", STANDARD.encode(&c.der));
    let mut lines = vec![(HeaderName::from_static("client-cert"), item(certs[0]))];
    let chain: Vec<String> = certs[1..].iter().map(|c| item(c)).collect();
    if !chain.is_empty() {
        lines.extend(fold("client-cert-chain", &chain, parts, ows));
    }
    lines
}

/// Concatenated PEM blocks, with LF or CRLF line ends.
fn pem_text(certs: &[&PoolCert], crlf: bool) -> String {
    let pem: String = certs.iter().map(|c| c.pem.replace("\r\n", "\n")).collect();
    if crlf { pem.replace('\n', "\r\n") } else { pem }
}

/// nginx `$ssl_client_escaped_cert` (everything but unreserved escaped) or
/// AWS ALB (only spaces and line ends escaped; `+`, `/`, `=` left).
fn pem_urlencoded(certs: &[&PoolCert], crlf: bool, alb: bool) -> Lines {
    let pem = pem_text(certs, crlf);
    let value = if alb {
        alb_escaped_cert(&pem).replace('\r', "%0D")
    } else {
        nginx_escaped_cert(&pem)
    };
    vec![(HeaderName::from_static("x-ssl-client-cert"), value)]
}

/// Apache `%{SSL_CLIENT_CERT}s` and friends: line ends become spaces or tabs.
fn pem_flat(certs: &[&PoolCert], tab: bool) -> Lines {
    let pem = pem_text(certs, false).replace('\n', if tab { "\t" } else { " " });
    vec![(HeaderName::from_static("x-ssl-client-cert"), pem)]
}

/// HAProxy / Traefik / Azure / Cloudflare: base64 DER items, optionally
/// quoted one by one or as a whole; intermediates either one item each or
/// concatenated in one item (`ssl_c_chain_der`).
fn der_base64(certs: &[&PoolCert], style: u8, quoting: u8, parts: usize, ows: &str) -> Lines {
    let enc = |der: &[u8]| match style % 4 {
        0 => STANDARD.encode(der),
        1 => STANDARD_NO_PAD.encode(der),
        2 => URL_SAFE.encode(der),
        _ => URL_SAFE_NO_PAD.encode(der),
    };
    let mut items = vec![enc(&certs[0].der)];
    if certs.len() > 1 {
        if style >= 4 {
            let concatenated: Vec<u8> = certs[1..].iter().flat_map(|c| c.der.clone()).collect();
            items.push(enc(&concatenated));
        } else {
            items.extend(certs[1..].iter().map(|c| enc(&c.der)));
        }
    }
    let name = "x-ssl-client-der";
    match quoting % 3 {
        0 => fold(name, &items, parts, ows),
        1 => {
            let quoted: Vec<String> = items.iter().map(|i| format!("\"{i}\"")).collect();
            fold(name, &quoted, parts, ows)
        }
        _ => vec![(
            HeaderName::from_static("x-ssl-client-der"),
            format!("\"{}\"", items.join(",")),
        )],
    }
}

/// XFCC options drawn by the strategy.
#[derive(Debug, Clone)]
struct XfccStyle {
    with_cert: bool,
    with_chain: bool,
    with_hash: bool,
    upper_hash: bool,
    quote_cert: bool,
    key_case: u8,
    rotate: usize,
    before: usize,
    after: usize,
    parts: usize,
}

fn xfcc_style() -> impl Strategy<Value = XfccStyle> {
    (
        any::<(bool, bool, bool, bool, bool)>(),
        0u8..3,
        0usize..8,
        0usize..3,
        0usize..3,
        1usize..3,
    )
        .prop_map(
            |((cert, chain, hash, upper, quote), key_case, rotate, before, after, parts)| {
                XfccStyle {
                    with_cert: cert || !chain,
                    with_chain: chain,
                    with_hash: hash,
                    upper_hash: upper,
                    quote_cert: quote,
                    key_case,
                    rotate,
                    before,
                    after,
                    parts,
                }
            },
        )
}

fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Envoy `x-forwarded-client-cert`: our element among those of other hops,
/// keys in any order and case, `Chain` including the leaf.
fn xfcc(certs: &[&PoolCert], s: &XfccStyle) -> (Lines, usize) {
    let key = |k: &str| match s.key_case {
        0 => k.to_owned(),
        1 => k.to_ascii_lowercase(),
        _ => k.to_ascii_uppercase(),
    };
    let leaf = certs[0];
    let parsed = certbound_cert::Certificate::from_der(leaf.der.clone()).unwrap();
    let mut pairs = vec![
        format!("{}=spiffe://proxy.example/ns/a", key("By")),
        format!(
            "{}={}",
            key("Subject"),
            quote(&parsed.subject().to_string())
        ),
    ];
    if s.with_hash {
        let h = sha256_hex(&leaf.der);
        let h = if s.upper_hash { h.to_uppercase() } else { h };
        pairs.push(format!("{}={h}", key("Hash")));
    }
    let cert = nginx_escaped_cert(&leaf.pem);
    if s.with_cert {
        let v = if s.quote_cert {
            format!("\"{cert}\"")
        } else {
            cert
        };
        pairs.push(format!("{}={v}", key("Cert")));
    }
    if s.with_chain {
        let chain = nginx_escaped_cert(&pem_text(certs, false));
        pairs.push(format!("{}=\"{chain}\"", key("Chain")));
    }
    for uri in &leaf.uris {
        pairs.push(format!("{}={}", key("URI"), quote(uri)));
    }
    for dns in &leaf.dns {
        pairs.push(format!("{}={dns}", key("DNS")));
    }
    let rotate = s.rotate % pairs.len();
    pairs.rotate_left(rotate);
    let other = |i: usize| {
        format!(
            "By=spiffe://hop/{i};Hash={};Subject=\"CN=hop, O=x\"",
            "ab".repeat(32)
        )
    };
    let mut elements: Vec<String> = (0..s.before).map(other).collect();
    elements.push(pairs.join(";"));
    elements.extend((0..s.after).map(|i| other(i + 10)));
    (
        fold("x-forwarded-client-cert", &elements, s.parts, " "),
        s.after + 1,
    )
}

/// Decodes the lines with the plain decoder, joining folded lines as a
/// recipient does.
fn decode(format: HeaderFormat, lines: &Lines, hop: usize) -> (Vec<u8>, Vec<Vec<u8>>) {
    let decoder = HeaderDecoder::new(format)
        .chain_in_value(true)
        .xfcc_hop(hop);
    let join = |name: &HeaderName| -> Option<String> {
        let v: Vec<&str> = lines
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect();
        (!v.is_empty()).then(|| v.join(", "))
    };
    let main = join(&format.default_header()).unwrap();
    let chain = format.default_chain_header().and_then(|n| join(&n));
    let cert = decoder
        .decode(main.as_bytes(), chain.as_deref().map(str::as_bytes))
        .unwrap_or_else(|e| panic!("{format}: {e}\n{lines:?}"))
        .unwrap();
    unpack(&cert)
}

fn unpack(cert: &ClientCert) -> (Vec<u8>, Vec<Vec<u8>>) {
    (
        cert.leaf().der().to_vec(),
        cert.intermediates()
            .iter()
            .map(|c| c.der().to_vec())
            .collect(),
    )
}

fn expected(certs: &[&PoolCert]) -> (Vec<u8>, Vec<Vec<u8>>) {
    (
        certs[0].der.clone(),
        certs[1..].iter().map(|c| c.der.clone()).collect(),
    )
}

/// The same lines through `ClientCertLayer` from a trusted proxy, the field
/// lines of each header joined into one, as one proxy writes them.
fn through_layer(format: HeaderFormat, lines: &Lines, hop: usize) -> (Vec<u8>, Vec<Vec<u8>>) {
    let mut joined: Lines = Vec::new();
    for (name, value) in lines {
        match joined.iter_mut().find(|(n, _)| n == name) {
            Some((_, v)) => *v = format!("{v}, {value}"),
            None => joined.push((name.clone(), value.clone())),
        }
    }
    let lines = &joined;
    let layer = ClientCertLayer::header(
        HeaderSource::new(format)
            .chain_in_value(true)
            .xfcc_hop(hop)
            .trusted_proxies(["192.0.2.0/24".parse().unwrap()]),
    );
    let svc = layer.layer(service_fn(|req: Request<()>| async move {
        let cert = req.extensions().get::<ClientCert>().cloned();
        let body = match cert {
            Some(c) => {
                let (leaf, ints) = unpack(&c);
                let mut parts = vec![STANDARD.encode(leaf)];
                parts.extend(ints.iter().map(|d| STANDARD.encode(d)));
                parts.join(" ")
            }
            None => String::new(),
        };
        Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(body))))
    }));
    let mut req = Request::new(());
    for (name, value) in lines {
        req.headers_mut()
            .append(name.clone(), HeaderValue::from_str(value).unwrap());
    }
    req.extensions_mut()
        .insert(PeerAddr("192.0.2.1:1234".parse().unwrap()));
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let (status, body) = rt.block_on(async move {
        let res = svc.oneshot(req).await.unwrap();
        let status = res.status();
        let body = res.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8(body.to_vec()).unwrap())
    });
    assert_eq!(status, 200, "{format}: {body}");
    let mut ders = body.split(' ').map(|b| STANDARD.decode(b).unwrap());
    let leaf = ders.next().unwrap();
    (leaf, ders.collect())
}

fn ows() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec!["", " ", "  ", "\t", " \t "])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn rfc9440_round_trips(chain in chain(), parts in 1usize..4, ows in ows()) {
        let certs = certs(&chain);
        let lines = rfc9440(&certs, parts, ows);
        prop_assert_eq!(decode(HeaderFormat::Rfc9440, &lines, 1), expected(&certs));
        prop_assert_eq!(through_layer(HeaderFormat::Rfc9440, &lines, 1), expected(&certs));
    }

    #[test]
    fn pem_urlencoded_round_trips(chain in chain(), crlf in any::<bool>(), alb in any::<bool>()) {
        let certs = certs(&chain);
        let lines = pem_urlencoded(&certs, crlf, alb);
        prop_assert_eq!(decode(HeaderFormat::PemUrlEncoded, &lines, 1), expected(&certs));
        prop_assert_eq!(through_layer(HeaderFormat::PemUrlEncoded, &lines, 1), expected(&certs));
    }

    #[test]
    fn pem_round_trips(chain in chain(), tab in any::<bool>()) {
        let certs = certs(&chain);
        let lines = pem_flat(&certs, tab);
        prop_assert_eq!(decode(HeaderFormat::Pem, &lines, 1), expected(&certs));
        prop_assert_eq!(through_layer(HeaderFormat::Pem, &lines, 1), expected(&certs));
    }

    #[test]
    fn der_base64_round_trips(
        chain in chain(),
        style in 0u8..8,
        quoting in 0u8..3,
        parts in 1usize..4,
        ows in ows(),
    ) {
        let certs = certs(&chain);
        let lines = der_base64(&certs, style, quoting, parts, ows);
        prop_assert_eq!(decode(HeaderFormat::DerBase64, &lines, 1), expected(&certs));
        prop_assert_eq!(through_layer(HeaderFormat::DerBase64, &lines, 1), expected(&certs));
    }

    #[test]
    fn xfcc_round_trips(chain in chain(), style in xfcc_style()) {
        let certs = certs(&chain);
        let (lines, hop) = xfcc(&certs, &style);
        // Without a Chain, the element carries the leaf only.
        let want = if style.with_chain { expected(&certs) } else { (certs[0].der.clone(), vec![]) };
        prop_assert_eq!(decode(HeaderFormat::Xfcc, &lines, hop), want.clone());
        prop_assert_eq!(through_layer(HeaderFormat::Xfcc, &lines, hop), want);
    }

    #[test]
    fn xfcc_element_values_round_trip_through_quoting(
        values in prop::collection::vec("[ -~]{0,24}", 1..6),
    ) {
        use certbound_extract::header::xfcc;
        let header = values
            .iter()
            .enumerate()
            .map(|(i, v)| format!("K{i}={}", quote(v)))
            .collect::<Vec<_>>()
            .join(";");
        let elements = xfcc::parse(&header).map_err(|e| TestCaseError::fail(format!("{header}: {e}")))?;
        prop_assert_eq!(elements.len(), 1);
        let got: Vec<&str> = elements[0].pairs().iter().map(|(_, v)| v.as_str()).collect();
        prop_assert_eq!(got, values.iter().map(String::as_str).collect::<Vec<_>>());
    }
}
