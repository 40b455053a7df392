//! Per-request costs of certbound-binding, each beside its floor in the
//! same run: the bound-token check (ES256 JWT verification with
//! `JwtValidator`, then `cnf` against the presented certificate) against raw
//! josekit verification of the same token, and the whole stack header ->
//! `ClientCertLayer` -> `BoundTokenLayer` -> handler beside the bare handler.
//! The allocation profiler counts allocations per iteration. The same check
//! with a remote key source (keys in memory) sits beside the fixed-set one.
//!
//! `forward_auth_cached_check` is one check of `ForwardAuth` (issue #20) on
//! a cached token.
//!
//! `cargo bench -j2 -p certbound-binding --bench binding`

use std::convert::Infallible;
use std::hint::black_box;
use std::sync::LazyLock;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use certbound_binding::{
    AccessTokenValidator, BoundTokenLayer, CachedValidator, Confirmation, FetchedDocument,
    JwtValidator, KeyRefresh, KeySetFetchError, VerifiedToken, verify_binding,
};
use certbound_cert::Certificate;
use certbound_extract::header::HeaderFormat;
use certbound_extract::{CertSource, ClientCert, ClientCertLayer, HeaderSource, PeerAddr};
use certbound_testkit::TestCa;
use certbound_testkit::block_on;
use http::header::AUTHORIZATION;
use http::{HeaderValue, Request, Response};
use josekit::jws::{ES256, JwsHeader};
use josekit::jwt::{self, JwtPayload};
use tower::{Layer, ServiceExt, service_fn};

#[global_allocator]
static ALLOC: divan::AllocProfiler = divan::AllocProfiler::system();

fn main() {
    divan::main();
}

const ISSUER: &str = "https://as.example.com";
const AUDIENCE: &str = "https://rs.example.com";

struct Fixture {
    jwks: josekit::jwk::JwkSet,
    public: josekit::jwk::Jwk,
    token: String,
    cert: ClientCert,
    header: String,
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let ca = TestCa::new("Bench CA");
    let leaf = ca.leaf("client-1").issue();
    let cert = ClientCert::new(
        Certificate::from_der(leaf.der.clone()).unwrap_or_else(|e| unreachable!("{e}")),
        vec![],
        CertSource::Tls,
    );
    let key = ES256
        .generate_key_pair()
        .unwrap_or_else(|e| unreachable!("{e}"));
    let mut public = key.to_jwk_public_key();
    public.set_key_id("ec-1");
    let mut jwks = josekit::jwk::JwkSet::new();
    jwks.push_key(public.clone());
    let signer = ES256
        .signer_from_der(key.to_der_private_key())
        .unwrap_or_else(|e| unreachable!("{e}"));
    let now = SystemTime::now();
    let mut p = JwtPayload::new();
    p.set_issuer(ISSUER);
    p.set_audience(vec![AUDIENCE]);
    p.set_subject("alice");
    p.set_issued_at(&now);
    p.set_expires_at(&(now + Duration::from_secs(3600)));
    let _ = p.set_claim("client_id", Some("client-1".into()));
    let _ = p.set_claim("scope", Some("read write".into()));
    Confirmation::from_thumbprint(cert.thumbprint()).insert_into_jwt_payload(&mut p);
    let mut header = JwsHeader::new();
    header.set_token_type("at+jwt");
    header.set_key_id("ec-1");
    let token =
        jwt::encode_with_signer(&p, &header, &signer).unwrap_or_else(|e| unreachable!("{e}"));
    Fixture {
        jwks,
        public,
        token,
        cert,
        header: format!(":{}:", STANDARD.encode(&leaf.der)),
    }
});

fn validator() -> JwtValidator {
    JwtValidator::builder(&FIXTURE.jwks)
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .build()
        .unwrap_or_else(|e| unreachable!("{e}"))
}

/// Floor: josekit's own JWT decoding and ES256 verification of the token.
#[divan::bench]
fn josekit_verify_raw_baseline(b: divan::Bencher) {
    let verifier = ES256
        .verifier_from_jwk(&FIXTURE.public)
        .unwrap_or_else(|e| unreachable!("{e}"));
    let token = FIXTURE.token.as_str();
    b.bench(|| jwt::decode_with_verifier(black_box(token), &verifier).is_ok());
}

/// The bound-token check: `JwtValidator` (signature, typ, iss, aud, exp,
/// cnf syntax) and `verify_binding` against the presented certificate.
#[divan::bench]
fn bound_token_check(b: divan::Bencher) {
    let v = validator();
    let token = FIXTURE.token.as_str();
    let cert = &FIXTURE.cert;
    b.bench(|| {
        let claims = block_on(v.validate(black_box(token))).unwrap_or_else(|e| unreachable!("{e}"));
        verify_binding(claims.confirmation(), Some(cert)).unwrap_or_else(|e| unreachable!("{e}"))
    });
}

/// The bound-token check answered by `CachedValidator` (SHA-256 of the
/// token, quick_cache lookup, claims `Arc` clone), then `verify_binding`.
#[divan::bench]
fn bound_token_check_cached(b: divan::Bencher) {
    let v = CachedValidator::new(validator());
    let token = FIXTURE.token.as_str();
    let cert = &FIXTURE.cert;
    let _ = block_on(v.validate(token));
    b.bench(|| {
        let claims = block_on(v.validate(black_box(token))).unwrap_or_else(|e| unreachable!("{e}"));
        verify_binding(claims.confirmation(), Some(cert)).unwrap_or_else(|e| unreachable!("{e}"))
    });
    assert!(v.hits() > 0);
}

/// The bound-token check with the keys from a fixed set and from a remote
/// key source (`JwtValidator::from_jwks_uri`, loaded once from memory and
/// swapped in with arc-swap): both verify against keys in memory, so the
/// two should be equal within noise.
#[divan::bench(args = ["fixed", "remote"])]
fn bound_token_check_key_source(b: divan::Bencher, source: &str) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| unreachable!("{e}"));
    let v = match source {
        "fixed" => validator(),
        _ => runtime.block_on(async {
            let jwks = FIXTURE.jwks.to_string();
            let v =
                JwtValidator::from_jwks_uri("https://as.example.com/jwks", move |_url: String| {
                    let jwks = jwks.clone();
                    async move { Ok::<_, KeySetFetchError>(FetchedDocument::new(jwks, None)) }
                })
                .issuer(ISSUER)
                .audience(AUDIENCE)
                .key_refresh(KeyRefresh::default().interval(Duration::from_secs(3600)))
                .build()
                .unwrap_or_else(|e| unreachable!("{e}"));
            v.ready().await;
            v
        }),
    };
    let token = FIXTURE.token.as_str();
    let cert = &FIXTURE.cert;
    b.bench(|| {
        let claims = block_on(v.validate(black_box(token))).unwrap_or_else(|e| unreachable!("{e}"));
        verify_binding(claims.confirmation(), Some(cert)).unwrap_or_else(|e| unreachable!("{e}"))
    });
    drop(v);
    drop(runtime);
}

fn request() -> Request<()> {
    let mut req = Request::get("/resource")
        .body(())
        .unwrap_or_else(|e| unreachable!("{e}"));
    let h = req.headers_mut();
    h.insert(
        "client-cert",
        HeaderValue::from_str(&FIXTURE.header).unwrap_or_else(|e| unreachable!("{e}")),
    );
    h.insert(
        AUTHORIZATION,
        HeaderValue::from_str(&format!("Bearer {}", FIXTURE.token))
            .unwrap_or_else(|e| unreachable!("{e}")),
    );
    req.extensions_mut()
        .insert(PeerAddr(([10, 0, 0, 7], 40_000).into()));
    req
}

async fn handler(req: Request<()>) -> Result<Response<String>, Infallible> {
    black_box(req.extensions().get::<VerifiedToken>().is_some());
    Ok(Response::new(String::from("ok")))
}

/// Floor of the stack benchmark: the bare handler, driven the same way.
#[divan::bench]
fn stack_bare_handler(b: divan::Bencher) {
    let svc = service_fn(handler);
    b.with_inputs(request)
        .bench_values(|req| block_on(svc.oneshot(req)));
}

/// RFC 9440 header -> `ClientCertLayer` -> `BoundTokenLayer` -> handler,
/// with and without the token cache.
#[divan::bench(args = ["cold", "cached"])]
fn stack_bound_token(b: divan::Bencher, mode: &str) {
    let cert_layer = ClientCertLayer::header(
        HeaderSource::new(HeaderFormat::Rfc9440)
            .trusted_proxies(["10.0.0.0/8".parse().unwrap_or_else(|_| unreachable!())]),
    );
    let run = |svc: &(dyn Fn(Request<()>) -> http::StatusCode + Sync)| {
        assert_eq!(svc(request()), http::StatusCode::OK);
        b.with_inputs(request)
            .bench_values(|req| black_box(svc(req)));
    };
    if mode == "cached" {
        let svc = cert_layer.layer(
            BoundTokenLayer::new(CachedValidator::new(validator()))
                .require_confirmation(true)
                .layer(service_fn(handler)),
        );
        run(&|req| {
            block_on(svc.clone().oneshot(req))
                .map_or(http::StatusCode::INTERNAL_SERVER_ERROR, |r| r.status())
        });
    } else {
        let svc = cert_layer.layer(
            BoundTokenLayer::new(validator())
                .require_confirmation(true)
                .layer(service_fn(handler)),
        );
        run(&|req| {
            block_on(svc.clone().oneshot(req))
                .map_or(http::StatusCode::INTERNAL_SERVER_ERROR, |r| r.status())
        });
    }
}

/// One forward-auth check on a cached token: `ForwardAuth` (trusted-proxy
/// check, RFC 9440 header, `CachedValidator`, binding, the `X-Certbound-*`
/// headers of the 200), beside `stack_bare_handler`. Issue #20's bound is
/// 30 µs of CPU per check.
#[divan::bench]
fn forward_auth_cached_check(b: divan::Bencher) {
    let source = HeaderSource::new(HeaderFormat::Rfc9440)
        .trusted_proxies(["10.0.0.0/8".parse().unwrap_or_else(|_| unreachable!())]);
    let auth = certbound_binding::ForwardAuth::new(
        source,
        std::sync::Arc::new(CachedValidator::new(validator())),
    );
    let check = |req| {
        block_on(auth.clone().oneshot(req))
            .map_or(http::StatusCode::INTERNAL_SERVER_ERROR, |r| r.status())
    };
    assert_eq!(check(request()), http::StatusCode::OK);
    b.with_inputs(request)
        .bench_values(|req| black_box(check(req)));
}
