//! Per-request costs of certbound-auth, each beside its floor in the same
//! run: `tls_client_auth` cold (P-256 and RSA-2048 chains) against raw
//! `webpki::EndEntityCert::verify_for_usage` on the same chain, cached
//! against raw SHA-256 of the leaf, `self_signed_tls_client_auth`, and the
//! whole stack header -> `ClientCertLayer` -> `ClientAuthLayer` -> handler
//! beside the bare handler. The allocation profiler counts allocations per
//! iteration.
//!
//! The RSA-2048 keys come from `openssl genpkey` at start (rcgen with ring
//! cannot generate RSA keys; it signs with them).
//!
//! `cargo bench -j2 -p certbound-auth --bench auth`

use std::convert::Infallible;
use std::hint::black_box;
use std::sync::LazyLock;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use certbound_auth::{
    AuthenticatedClient, Authenticator, ClientAuthLayer, ClientJwks, ClientMetadata,
    SelfSignedTlsClientAuth, TlsClientAuth, TokenEndpointAuthMethod, TrustStore,
    registry_from_metadata,
};
use certbound_cert::Certificate;
use certbound_extract::header::{HeaderDecoder, HeaderFormat};
use certbound_extract::{ClientCertLayer, HeaderSource, PeerAddr};
use certbound_testkit::block_on;
use certbound_testkit::{TestCa, self_signed};
use http::header::CONTENT_TYPE;
use http::{HeaderValue, Request, Response};
use http_body_util::Full;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};
use rustls_pki_types::{CertificateDer, TrustAnchor, UnixTime};
use sha2::{Digest, Sha256};
use tower::{Layer, ServiceExt, service_fn};
use webpki::{EndEntityCert, KeyUsage};

#[global_allocator]
static ALLOC: divan::AllocProfiler = divan::AllocProfiler::system();

fn main() {
    divan::main();
}

/// Root -> intermediate -> leaf, as DER, the leaf registered as `client_id`.
struct Chain {
    root: Vec<u8>,
    intermediate: Vec<u8>,
    leaf: Vec<u8>,
}

fn p256_chain() -> Chain {
    let root = TestCa::new("Bench Root");
    let issuing = root.intermediate("Bench Issuing CA");
    let leaf = issuing.leaf("bank-1").issue();
    Chain {
        root: root.cert.der.clone(),
        intermediate: issuing.cert.der.clone(),
        leaf: leaf.der,
    }
}

fn rsa_key() -> KeyPair {
    let out = std::process::Command::new("openssl")
        .args([
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
        ])
        .output()
        .unwrap_or_else(|e| unreachable!("openssl genpkey: {e}"));
    let pem = String::from_utf8(out.stdout).unwrap_or_else(|e| unreachable!("{e}"));
    KeyPair::from_pem_and_sign_algo(&pem, &rcgen::PKCS_RSA_SHA256)
        .unwrap_or_else(|e| unreachable!("{e}"))
}

fn params(cn: &str, ca: bool) -> CertificateParams {
    let mut p = CertificateParams::default();
    p.distinguished_name = DistinguishedName::new();
    p.distinguished_name.push(DnType::CommonName, cn);
    p.not_before = (SystemTime::now() - Duration::from_secs(86_400)).into();
    p.not_after = (SystemTime::now() + Duration::from_secs(30 * 86_400)).into();
    if ca {
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::DigitalSignature,
        ];
    } else {
        p.is_ca = IsCa::ExplicitNoCa;
        p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        p.use_authority_key_identifier_extension = true;
    }
    p
}

fn rsa_chain() -> Chain {
    let unwrap =
        |r: Result<rcgen::Certificate, rcgen::Error>| r.unwrap_or_else(|e| unreachable!("{e}"));
    let root_key = rsa_key();
    let root_params = params("Bench RSA Root", true);
    let root = unwrap(root_params.self_signed(&root_key));
    let root_issuer = Issuer::new(root_params, root_key);
    let int_key = rsa_key();
    let int_params = params("Bench RSA Issuing CA", true);
    let int = unwrap(int_params.signed_by(&int_key, &root_issuer));
    let int_issuer = Issuer::new(int_params, int_key);
    let leaf_key = rsa_key();
    let leaf = unwrap(params("bank-1", false).signed_by(&leaf_key, &int_issuer));
    Chain {
        root: root.der().to_vec(),
        intermediate: int.der().to_vec(),
        leaf: leaf.der().to_vec(),
    }
}

fn cert(der: &[u8]) -> Certificate {
    Certificate::from_der(der).unwrap_or_else(|e| unreachable!("{e}"))
}

/// The RFC 9440 headers a proxy writes for the chain: `Client-Cert` and
/// `Client-Cert-Chain`.
fn rfc9440(chain: &Chain) -> (String, String) {
    (
        format!(":{}:", STANDARD.encode(&chain.leaf)),
        format!(":{}:", STANDARD.encode(&chain.intermediate)),
    )
}

fn authenticator(chain: &Chain, cache: bool) -> Authenticator {
    let mut m = ClientMetadata::new("bank-1", TokenEndpointAuthMethod::TlsClientAuth);
    m.tls_client_auth_subject_dn = Some("CN=bank-1".into());
    let store =
        TrustStore::from_certificates([cert(&chain.root)]).unwrap_or_else(|e| unreachable!("{e}"));
    let mut tls = TlsClientAuth::new(store);
    if !cache {
        tls = tls.cache_capacity(0);
    }
    Authenticator::builder(registry_from_metadata([m]).unwrap_or_else(|e| unreachable!("{e}")))
        .tls_client_auth(tls)
        .build()
        .unwrap()
}

struct Fixture {
    p256: Chain,
    rsa: Chain,
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| Fixture {
    p256: p256_chain(),
    rsa: rsa_chain(),
});

fn chain(alg: &str) -> &'static Chain {
    match alg {
        "rsa2048" => &FIXTURE.rsa,
        _ => &FIXTURE.p256,
    }
}

const ALGS: [&str; 2] = ["p256", "rsa2048"];

/// Floor: SHA-256 of the leaf's DER with sha2 directly.
#[divan::bench(args = ALGS)]
fn sha256_leaf_raw_baseline(b: divan::Bencher, alg: &str) {
    let der = chain(alg).leaf.as_slice();
    b.bench(|| Sha256::digest(black_box(der)));
}

/// Floor: webpki path validation of the same chain, called directly.
#[divan::bench(args = ALGS)]
fn webpki_verify_for_usage_raw_baseline(b: divan::Bencher, alg: &str) {
    let c = chain(alg);
    let root = CertificateDer::from(c.root.as_slice());
    let anchor = webpki::anchor_from_trusted_cert(&root)
        .unwrap_or_else(|e| unreachable!("{e}"))
        .to_owned();
    let anchors: [TrustAnchor<'static>; 1] = [anchor];
    let intermediates = [CertificateDer::from(c.intermediate.as_slice())];
    let leaf = CertificateDer::from(c.leaf.as_slice());
    b.bench(|| {
        let ee = EndEntityCert::try_from(black_box(&leaf)).unwrap_or_else(|e| unreachable!("{e}"));
        let now = UnixTime::now();
        let path = ee.verify_for_usage(
            webpki::ALL_VERIFICATION_ALGS,
            &anchors,
            &intermediates,
            now,
            KeyUsage::client_auth(),
            None,
            None,
        );
        black_box(path.is_ok())
    });
}

/// Header(s) -> `ClientCertLayer` -> a handler that authenticates the
/// client: "header to authenticated client", as a token endpoint sees it.
fn header_to_client(
    chain: &Chain,
    auth: &Authenticator,
    memo: usize,
) -> impl Fn(&(String, String)) -> bool + use<> {
    let _ = chain;
    let layer = ClientCertLayer::header(
        HeaderSource::new(HeaderFormat::Rfc9440)
            .trusted_proxies(["10.0.0.0/8".parse().unwrap_or_else(|_| unreachable!())])
            .memo_capacity(memo),
    );
    let auth = auth.clone();
    let svc = layer.layer(service_fn(move |req: Request<()>| {
        let auth = auth.clone();
        async move {
            let cert = req.extensions().get::<certbound_extract::ClientCert>();
            let client = auth.authenticate("bank-1", cert).await;
            let mut res = Response::new(());
            if client.is_err() {
                *res.status_mut() = http::StatusCode::UNAUTHORIZED;
            }
            Ok::<_, Infallible>(res)
        }
    }));
    move |headers| {
        let mut req = Request::new(());
        let h = req.headers_mut();
        h.insert(
            "client-cert",
            HeaderValue::from_str(&headers.0).unwrap_or_else(|e| unreachable!("{e}")),
        );
        h.insert(
            "client-cert-chain",
            HeaderValue::from_str(&headers.1).unwrap_or_else(|e| unreachable!("{e}")),
        );
        req.extensions_mut()
            .insert(PeerAddr(([10, 0, 0, 7], 40_000).into()));
        let res = block_on(svc.clone().oneshot(req)).unwrap_or_else(|e| match e {});
        res.status() == http::StatusCode::OK
    }
}

/// `tls_client_auth` without any cache, from the RFC 9440 headers (leaf
/// and intermediate) to the authenticated client: decoding, the full
/// parse, and path validation every time.
#[divan::bench(args = ALGS)]
fn tls_client_auth_cold(b: divan::Bencher, alg: &str) {
    let c = chain(alg);
    let auth = authenticator(c, false);
    let call = header_to_client(c, &auth, 0);
    let headers = rfc9440(c);
    assert!(call(&headers));
    b.bench(|| call(black_box(&headers)));
    assert!(auth.metrics().path_validations > 1);
}

/// `tls_client_auth` of a returning client, from the same headers to the
/// authenticated client: the header memo and the verification cache.
#[divan::bench(args = ALGS)]
fn tls_client_auth_cached(b: divan::Bencher, alg: &str) {
    let c = chain(alg);
    let auth = authenticator(c, true);
    let call = header_to_client(c, &auth, 4096);
    let headers = rfc9440(c);
    assert!(call(&headers));
    let before = auth.metrics().path_validations;
    b.bench(|| call(black_box(&headers)));
    assert_eq!(
        auth.metrics().path_validations,
        before,
        "the cache was not hit"
    );
}

/// As `tls_client_auth_cached`, with the header memo turned off: the
/// headers are decoded and parsed again each time.
#[divan::bench(args = ALGS)]
fn tls_client_auth_cached_without_header_memo(b: divan::Bencher, alg: &str) {
    let c = chain(alg);
    let auth = authenticator(c, true);
    let call = header_to_client(c, &auth, 0);
    let headers = rfc9440(c);
    assert!(call(&headers));
    let before = auth.metrics().path_validations;
    b.bench(|| call(black_box(&headers)));
    assert_eq!(
        auth.metrics().path_validations,
        before,
        "the cache was not hit"
    );
}

/// `self_signed_tls_client_auth` against a registered `jwks` (RFC 9440 header).
#[divan::bench]
fn self_signed_tls_client_auth(b: divan::Bencher) {
    let device = self_signed("device-7").issue();
    let mut m = ClientMetadata::new("device-7", TokenEndpointAuthMethod::SelfSignedTlsClientAuth);
    m.jwks = Some(ClientJwks::from_certificates(&[cert(&device.der)]));
    let auth =
        Authenticator::builder(registry_from_metadata([m]).unwrap_or_else(|e| unreachable!("{e}")))
            .self_signed_tls_client_auth(SelfSignedTlsClientAuth::new())
            .build()
            .unwrap();
    let decoder = HeaderDecoder::new(HeaderFormat::Rfc9440);
    let header = format!(":{}:", STANDARD.encode(&device.der));
    b.bench(|| {
        let cert = decoder
            .decode(black_box(header.as_bytes()), None)
            .unwrap_or_else(|e| unreachable!("{e}"))
            .unwrap_or_else(|| unreachable!());
        block_on(auth.authenticate("device-7", Some(&cert))).unwrap_or_else(|e| unreachable!("{e}"))
    });
}

const FORM: &str = "grant_type=client_credentials&client_id=bank-1&scope=payments";

fn request(headers: &(String, String)) -> Request<Full<Bytes>> {
    let mut req = Request::post("/token")
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Full::new(Bytes::from_static(FORM.as_bytes())))
        .unwrap_or_else(|e| unreachable!("{e}"));
    let h = req.headers_mut();
    h.insert(
        "client-cert",
        HeaderValue::from_str(&headers.0).unwrap_or_else(|e| unreachable!("{e}")),
    );
    h.insert(
        "client-cert-chain",
        HeaderValue::from_str(&headers.1).unwrap_or_else(|e| unreachable!("{e}")),
    );
    req.extensions_mut()
        .insert(PeerAddr(([10, 0, 0, 7], 40_000).into()));
    req
}

async fn handler(req: Request<Full<Bytes>>) -> Result<Response<Full<Bytes>>, Infallible> {
    let client = req
        .extensions()
        .get::<AuthenticatedClient>()
        .map(|c| c.thumbprint());
    black_box(client);
    Ok(Response::new(Full::new(Bytes::from_static(b"{}"))))
}

/// Floor of the stack benchmark: the bare handler, driven the same way.
#[divan::bench]
fn stack_bare_handler(b: divan::Bencher) {
    let headers = rfc9440(&FIXTURE.p256);
    let svc = service_fn(handler);
    b.with_inputs(|| request(&headers))
        .bench_values(|req| block_on(svc.oneshot(req)));
}

/// RFC 9440 headers -> `ClientCertLayer` -> `ClientAuthLayer` -> handler,
/// for a returning client (cached verification), P-256 chain.
#[divan::bench(args = [true, false])]
fn stack_client_auth(b: divan::Bencher, cached: bool) {
    let c = &FIXTURE.p256;
    let headers = rfc9440(c);
    let auth = authenticator(c, cached);
    let cert_layer = ClientCertLayer::header(
        HeaderSource::new(HeaderFormat::Rfc9440)
            .trusted_proxies(["10.0.0.0/8".parse().unwrap_or_else(|_| unreachable!())]),
    );
    let svc = cert_layer.layer(ClientAuthLayer::new(auth.clone()).layer(service_fn(handler)));
    let status = block_on(svc.clone().oneshot(request(&headers))).map(|r| r.status());
    assert_eq!(status.ok(), Some(http::StatusCode::OK));
    b.with_inputs(|| request(&headers)).bench_values(|req| {
        let res = block_on(svc.clone().oneshot(req));
        black_box(res.map(|r| r.status()))
    });
    if cached {
        assert_eq!(auth.metrics().path_validations, 1);
    }
}
