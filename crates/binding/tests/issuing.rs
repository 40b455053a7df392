//! The issuing side: tokens from `AccessTokenIssuer` checked by an RFC 9068
//! reading written here and by `JwtValidator`; key rotation and retirement
//! on a test clock; `JwksService` over a real HTTP server on loopback; the
//! bound token accepted over real TLS by `BoundTokenLayer`.

mod support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use axum::Router;
use axum::routing::get;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use certbound_binding::{
    AccessTokenIssuer, BindingPolicy, BoundTokenLayer, ClientBinding, IssueError, JwksService,
    JwtValidator, RefreshToken, SigningKeyRing, TokenBinding, TokenError, VerifiedToken,
};
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use josekit::jwt::JwtPayload;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use support::{AUDIENCE, ISSUER, Pki, client_cert, serve_tls, server_config};

/// A clock the test moves.
#[derive(Clone)]
struct TestClock(Arc<Mutex<SystemTime>>);

impl TestClock {
    fn new() -> Self {
        Self(Arc::new(Mutex::new(SystemTime::now())))
    }
    fn now(&self) -> SystemTime {
        *self.0.lock().unwrap()
    }
    fn advance(&self, by: Duration) {
        *self.0.lock().unwrap() += by;
    }
}

fn ring_on(clock: &TestClock, max_lifetime: Duration, leeway: Duration) -> SigningKeyRing {
    let clock = clock.clone();
    SigningKeyRing::builder()
        .max_token_lifetime(max_lifetime)
        .leeway(leeway)
        .clock(move || clock.now())
        .build()
        .unwrap()
}

fn validator(jwks: &josekit::jwk::JwkSet, leeway: Duration) -> JwtValidator {
    JwtValidator::builder(jwks)
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .leeway(leeway)
        .build()
        .unwrap()
}

fn part(token: &str, index: usize) -> Map<String, Value> {
    let encoded = token.split('.').nth(index).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(encoded).unwrap()).unwrap()
}

fn kids(jwks: &josekit::jwk::JwkSet) -> Vec<String> {
    jwks.keys()
        .iter()
        .map(|k| k.key_id().unwrap().to_owned())
        .collect()
}

/// RFC 9068 §2, read without certbound: the header and the claims an
/// issuer must write, dates as integers, and the `cnf` of RFC 8705 §3.1
/// computed here from the certificate's DER.
fn assert_rfc9068(token: &str, jwks: &josekit::jwk::JwkSet, cert_der: &[u8]) {
    assert_eq!(token.split('.').count(), 3);
    let header = part(token, 0);
    assert_eq!(header["typ"], "at+jwt");
    assert_eq!(header["alg"], "ES256");
    let kid = header["kid"].as_str().expect("kid in the header");
    assert!(
        kids(jwks).contains(&kid.to_owned()),
        "kid {kid} not in the JWKS"
    );

    let claims = part(token, 1);
    for name in ["iss", "sub", "aud", "client_id", "jti"] {
        assert!(claims[name].is_string(), "{name}: {:?}", claims.get(name));
    }
    assert_eq!(claims["iss"], ISSUER);
    assert_eq!(claims["aud"], AUDIENCE);
    for name in ["iat", "exp"] {
        assert!(
            claims[name].is_u64(),
            "{name} is not an integer NumericDate: {}",
            claims[name]
        );
    }
    assert!(claims["exp"].as_u64() > claims["iat"].as_u64());
    let x5t = URL_SAFE_NO_PAD.encode(Sha256::digest(cert_der));
    assert_eq!(claims["cnf"]["x5t#S256"], x5t);
}

#[test]
fn issued_token_passes_an_rfc9068_reading_and_the_validator() {
    let pki = Pki::new();
    let cert = client_cert(&pki.client);
    let ring = SigningKeyRing::builder().build().unwrap();
    let issuer = AccessTokenIssuer::new(ring.clone(), ISSUER);
    let binding = BindingPolicy::new()
        .decide(
            ClientBinding::confidential().bound_tokens_required(true),
            Some(&cert),
        )
        .unwrap();
    let auth_time = SystemTime::now() - Duration::from_secs(30);
    let token = issuer
        .access_token("client-1", &binding)
        .subject("alice")
        .audience(AUDIENCE)
        .scope("read write")
        .auth_time(auth_time)
        .acr("urn:example:mfa")
        .sign()
        .unwrap();

    assert_rfc9068(token.as_str(), &ring.jwks(), &pki.client.der);
    let claims = part(token.as_str(), 1);
    assert_eq!(claims["sub"], "alice");
    assert_eq!(claims["client_id"], "client-1");
    assert_eq!(claims["scope"], "read write");
    assert_eq!(claims["acr"], "urn:example:mfa");
    assert!(claims["auth_time"].is_u64());
    assert_eq!(claims["jti"], token.jti());
    assert_eq!(
        claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
        token.expires_in().as_secs()
    );

    let verified = validator(&ring.jwks(), Duration::from_secs(60))
        .validate_at(token.as_str(), SystemTime::now())
        .unwrap();
    assert_eq!(verified.client_id(), Some("client-1"));
    assert_eq!(
        verified.confirmation().unwrap().thumbprint(),
        Ok(Some(cert.thumbprint()))
    );
}

#[test]
fn each_token_has_its_own_jti_and_an_unbound_one_has_no_cnf() {
    let issuer = AccessTokenIssuer::new(SigningKeyRing::builder().build().unwrap(), ISSUER);
    let sign = || {
        issuer
            .access_token("client-1", &TokenBinding::Unbound)
            .audience(AUDIENCE)
            .sign()
            .unwrap()
    };
    let (one, two) = (sign(), sign());
    assert_ne!(one.jti(), two.jti());
    let claims = part(one.as_str(), 1);
    assert!(claims.get("cnf").is_none());
    // RFC 9068 §2.2: with the client credentials grant, sub is the client.
    assert_eq!(claims["sub"], "client-1");
}

#[test]
fn token_signed_before_a_rotation_validates_until_its_exp() {
    let clock = TestClock::new();
    let leeway = Duration::from_secs(10);
    let ring = ring_on(&clock, Duration::from_secs(120), leeway);
    let issuer = AccessTokenIssuer::new(ring.clone(), ISSUER).lifetime(Duration::from_secs(120));
    let old_kid = ring.current_kid();
    let old = issuer
        .access_token("client-1", &TokenBinding::Unbound)
        .audience(AUDIENCE)
        .sign()
        .unwrap();

    clock.advance(Duration::from_secs(30));
    let new_kid = ring.rotate().unwrap();
    let new = issuer
        .access_token("client-1", &TokenBinding::Unbound)
        .audience(AUDIENCE)
        .sign()
        .unwrap();
    assert_eq!(part(new.as_str(), 0)["kid"], new_kid.as_str());

    // A resource server that fetches the JWKS after the rotation accepts
    // both: the old key is still published.
    let after_rotation = validator(&ring.jwks(), leeway);
    assert_eq!(kids(&ring.jwks()), [new_kid.clone(), old_kid.clone()]);
    after_rotation
        .validate_at(old.as_str(), clock.now())
        .unwrap();
    after_rotation
        .validate_at(new.as_str(), clock.now())
        .unwrap();

    // Until the old token's exp (plus the leeway), with a JWKS fetched then.
    clock.advance(Duration::from_secs(95)); // 125 s after the old token's iat
    let later = validator(&ring.jwks(), leeway);
    later.validate_at(old.as_str(), clock.now()).unwrap();
    clock.advance(Duration::from_secs(10)); // 135 s: past exp + leeway
    assert!(matches!(
        validator(&ring.jwks(), leeway).validate_at(old.as_str(), clock.now()),
        Err(TokenError::Expired(_))
    ));
}

#[test]
fn tokens_signed_on_many_threads_during_rotations_all_validate() {
    let ring = SigningKeyRing::builder().build().unwrap();
    let issuer = AccessTokenIssuer::new(ring.clone(), ISSUER);
    let tokens = std::thread::scope(|scope| {
        let signers: Vec<_> = (0..4)
            .map(|_| {
                let issuer = issuer.clone();
                scope.spawn(move || {
                    (0..25)
                        .map(|_| {
                            issuer
                                .access_token("client-1", &TokenBinding::Unbound)
                                .audience(AUDIENCE)
                                .sign()
                                .unwrap()
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for _ in 0..10 {
            ring.rotate().unwrap();
        }
        signers
            .into_iter()
            .flat_map(|s| s.join().unwrap())
            .collect::<Vec<_>>()
    });
    assert_eq!(kids(&ring.jwks()).len(), 11);
    let validator = validator(&ring.jwks(), Duration::from_secs(60));
    for token in &tokens {
        validator
            .validate_at(token.as_str(), SystemTime::now())
            .unwrap();
    }
}

#[test]
fn retired_key_leaves_the_jwks_after_its_retire_time() {
    let clock = TestClock::new();
    let ring = ring_on(&clock, Duration::from_secs(60), Duration::from_secs(5));
    assert_eq!(ring.publication_overlap(), Duration::from_secs(65));
    let old_kid = ring.current_kid();
    let new_kid = ring.rotate().unwrap();

    clock.advance(Duration::from_secs(64));
    assert_eq!(kids(&ring.jwks()), [new_kid.clone(), old_kid.clone()]);
    clock.advance(Duration::from_secs(1));
    assert_eq!(kids(&ring.jwks()), [new_kid]);
    let published: Value = serde_json::from_slice(&ring.jwks_json()).unwrap();
    assert_eq!(published["keys"].as_array().unwrap().len(), 1);
    assert!(!String::from_utf8_lossy(&ring.jwks_json()).contains(&old_kid));
}

/// `SigningKeyRing::sign` keeps the ring's promise that a key stays
/// published until every token it signed has expired: a JWT without `exp`,
/// or whose `exp` is further away than `max_token_lifetime`, is refused.
#[test]
fn ring_refuses_to_sign_a_token_that_outlives_its_keys_publication() {
    let clock = TestClock::new();
    let ring = ring_on(&clock, Duration::from_secs(60), Duration::from_secs(5));
    // `exp` in whole seconds, at most `now`: no rounding past the limit.
    let with_exp = |exp: SystemTime| {
        let secs = exp
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let mut p = JwtPayload::new();
        p.set_claim("exp", Some(secs.into())).unwrap();
        p
    };
    let refused = ring.sign(
        &with_exp(clock.now() + Duration::from_secs(86_400)),
        "at+jwt",
    );
    assert!(
        matches!(
            refused,
            Err(IssueError::LifetimeTooLong { requested, max })
                if requested > Duration::from_secs(86_399) && max == Duration::from_secs(60)
        ),
        "{refused:?}"
    );
    assert_eq!(
        ring.sign(&JwtPayload::new(), "at+jwt"),
        Err(IssueError::MissingExpiry)
    );
    // Beyond any NumericDate a validator reads (and SystemTime holds).
    let mut not_a_date = JwtPayload::new();
    not_a_date.set_claim("exp", Some(1e300.into())).unwrap();
    assert_eq!(
        ring.sign(&not_a_date, "at+jwt"),
        Err(IssueError::MissingExpiry)
    );
    // Up to the longest lifetime, and already expired, are signed.
    for exp in [
        clock.now() + Duration::from_secs(60),
        clock.now() - Duration::from_secs(1),
    ] {
        assert!(ring.sign(&with_exp(exp), "at+jwt").is_ok());
    }
}

/// A longest token lifetime too long to add to the clock keeps previous
/// keys published for ever, without a panic at rotation.
#[test]
fn an_unbounded_token_lifetime_keeps_previous_keys_published() {
    let clock = TestClock::new();
    let ring = ring_on(&clock, Duration::MAX, Duration::from_secs(60));
    let first = ring.current_kid();
    let second = ring.rotate().unwrap();
    clock.advance(Duration::from_secs(100 * 365 * 86_400));
    assert_eq!(kids(&ring.jwks()), [second, first]);
    let mut p = JwtPayload::new();
    p.set_expires_at(&(clock.now() + Duration::from_secs(10 * 365 * 86_400)));
    assert!(ring.sign(&p, "at+jwt").is_ok());
}

#[test]
fn public_client_refresh_token_is_bound_by_the_same_decision() {
    let pki = Pki::new();
    let cert = client_cert(&pki.client);
    let other = client_cert(&pki.other_client);
    let decision = BindingPolicy::new()
        .bind_whenever_certificate_presented(true)
        .decide(ClientBinding::public(), Some(&cert))
        .unwrap();
    let issuer = AccessTokenIssuer::new(SigningKeyRing::builder().build().unwrap(), ISSUER);
    let access = issuer
        .access_token("public-app", &decision)
        .audience(AUDIENCE)
        .sign()
        .unwrap();
    let refresh = RefreshToken::generate(&decision).unwrap();
    let recorded = *refresh
        .binding()
        .expect("a public client's refresh token is bound");
    assert_eq!(recorded.thumbprint(), cert.thumbprint());
    assert_eq!(
        part(access.as_str(), 1)["cnf"]["x5t#S256"],
        cert.thumbprint().to_string()
    );
    assert_eq!(recorded.check(Some(&cert)), Ok(()));
    assert!(recorded.check(Some(&other)).is_err());
    assert!(recorded.check(None).is_err());
    let response = access.token_response(Some(&refresh));
    assert_eq!(response["refresh_token"], refresh.as_str());

    // A confidential client's refresh token is bound by its authentication.
    let confidential = BindingPolicy::new()
        .bind_whenever_certificate_presented(true)
        .decide(ClientBinding::confidential(), Some(&cert))
        .unwrap();
    assert!(confidential.is_bound());
    assert!(
        RefreshToken::generate(&confidential)
            .unwrap()
            .binding()
            .is_none()
    );
}

/// A plain HTTP server on 127.0.0.1; stops when dropped.
struct HttpServer {
    base: String,
    _stop: tokio::sync::oneshot::Sender<()>,
}

async fn serve(app: Router) -> HttpServer {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
            .unwrap();
    });
    HttpServer { base, _stop: stop }
}

struct Fetched {
    status: u16,
    etag: Option<String>,
    cache_control: Option<String>,
    content_type: Option<String>,
    body: Bytes,
}

async fn fetch(url: &str, if_none_match: Option<&str>) -> Fetched {
    let client = Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>();
    let mut request = http::Request::get(url);
    if let Some(tag) = if_none_match {
        request = request.header("if-none-match", tag);
    }
    let response = client
        .request(request.body(Empty::new()).unwrap())
        .await
        .unwrap();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    };
    let (etag, cache_control, content_type) = (
        header("etag"),
        header("cache-control"),
        header("content-type"),
    );
    let status = response.status().as_u16();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    Fetched {
        status,
        etag,
        cache_control,
        content_type,
        body,
    }
}

#[tokio::test]
async fn jwks_service_over_http_answers_etag_304_and_a_new_etag_after_rotation() {
    let ring = SigningKeyRing::builder().build().unwrap();
    let issuer = AccessTokenIssuer::new(ring.clone(), ISSUER);
    let app = Router::new().route_service("/jwks", JwksService::new(ring.clone()));
    let server = serve(app).await;
    let url = format!("{}/jwks", server.base);

    let first = fetch(&url, None).await;
    assert_eq!(first.status, 200);
    assert_eq!(first.content_type.as_deref(), Some("application/json"));
    assert_eq!(first.cache_control.as_deref(), Some("public, max-age=300"));
    let etag = first.etag.expect("an ETag");
    assert!(
        etag.starts_with('"') && etag.ends_with('"'),
        "strong: {etag}"
    );
    assert_eq!(
        etag,
        format!(
            "\"{}\"",
            URL_SAFE_NO_PAD.encode(Sha256::digest(&first.body))
        )
    );
    // What a resource server does with the document.
    let token = issuer
        .access_token("client-1", &TokenBinding::Unbound)
        .audience(AUDIENCE)
        .sign()
        .unwrap();
    JwtValidator::builder_from_jwks_json(&first.body)
        .unwrap()
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .build()
        .unwrap()
        .validate_at(token.as_str(), SystemTime::now())
        .unwrap();

    let again = fetch(&url, Some(&etag)).await;
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());
    assert_eq!(again.etag.as_deref(), Some(etag.as_str()));

    let new_kid = ring.rotate().unwrap();
    let rotated = fetch(&url, Some(&etag)).await;
    assert_eq!(rotated.status, 200);
    assert_ne!(rotated.etag.as_deref(), Some(etag.as_str()));
    let document: Value = serde_json::from_slice(&rotated.body).unwrap();
    let keys = document["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[0]["kid"], new_kid.as_str());
    for key in keys {
        assert!(key.get("d").is_none(), "private key material published");
    }
}

async fn whoami(token: VerifiedToken) -> String {
    token.claims().client_id().unwrap_or("?").to_owned()
}

#[tokio::test]
async fn issued_bound_token_is_accepted_over_tls_only_with_its_certificate() {
    let pki = Pki::new();
    let ring = SigningKeyRing::builder().build().unwrap();
    let issuer = AccessTokenIssuer::new(ring.clone(), ISSUER);
    let binding = BindingPolicy::new()
        .decide(
            ClientBinding::confidential().bound_tokens_required(true),
            Some(&client_cert(&pki.client)),
        )
        .unwrap();
    let token = issuer
        .access_token("client-1", &binding)
        .audience(AUDIENCE)
        .sign()
        .unwrap();
    let app = Router::new()
        .route("/whoami", get(whoami))
        .layer(BoundTokenLayer::new(validator(
            &ring.jwks(),
            Duration::from_secs(60),
        )));
    let server = serve_tls(server_config(&pki), app).await;

    let own = support::get(
        server.addr,
        &pki,
        Some(&pki.client),
        "/whoami",
        Some(token.as_str()),
    )
    .await;
    assert_eq!((own.status, own.body.as_str()), (200, "client-1"));
    let other = support::get(
        server.addr,
        &pki,
        Some(&pki.other_client),
        "/whoami",
        Some(token.as_str()),
    )
    .await;
    assert_eq!(other.status, 401, "{other:?}");
}

#[cfg(feature = "rotation")]
#[tokio::test]
async fn scheduled_rotation_changes_the_kid_and_ends_with_the_ring() {
    let ring = SigningKeyRing::builder().build().unwrap();
    let first = ring.current_kid();
    let task = ring.spawn_rotation(Duration::from_secs(1)).unwrap();
    // The JWKS service keeps caches short of the next rotation.
    let service = JwksService::new(ring.clone());
    let response = service.respond(&http::Request::get("/jwks").body(()).unwrap());
    let cache_control = response.headers()["cache-control"].to_str().unwrap();
    assert!(
        cache_control == "public, max-age=1" || cache_control == "public, max-age=0",
        "{cache_control}"
    );

    let mut rotated = false;
    for _ in 0..100 {
        if ring.current_kid() != first {
            rotated = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(rotated, "no rotation within 10 s");
    assert!(kids(&ring.jwks()).contains(&first));

    drop(service);
    drop(ring);
    tokio::time::timeout(Duration::from_secs(10), task)
        .await
        .expect("the rotation task ends when the ring is dropped")
        .ok();
}

#[cfg(feature = "rotation")]
#[test]
fn scheduled_rotation_outside_a_runtime_is_an_error() {
    let ring = SigningKeyRing::builder().build().unwrap();
    assert_eq!(
        ring.spawn_rotation(Duration::from_secs(1)).unwrap_err(),
        certbound_binding::IssueError::NoRuntime
    );
}
