//! The authorization server's keys, live: a `JwtValidator` over a JWKS
//! endpoint (and RFC 8414 metadata) served over real TLS on 127.0.0.1 and
//! fetched with certbound-fetch; and `HttpIntrospector` over mTLS.
#![cfg(feature = "http")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use certbound_binding::{
    AccessTokenValidator, BoundTokenLayer, CachedValidator, HttpIntrospector,
    IntrospectionValidator, JwtValidator, KeyRefresh, TokenError,
};
use certbound_fetch::Fetcher;
use certbound_testkit::tls::{self as testtls, ClientCerts};
use josekit::jwk::{Jwk, JwkSet};
use josekit::jws::alg::ecdsa::EcdsaJwsSigner;
use josekit::jws::{ES256, JwsHeader};
use josekit::jwt;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use support::{AUDIENCE, ISSUER, Pki, client_cert, payload, serve_tls, server_config, thumbprint};

/// A signing key with its `kid`.
struct SigningKey {
    signer: EcdsaJwsSigner,
    public: Jwk,
    kid: String,
}

impl SigningKey {
    fn new(kid: &str) -> Self {
        let pair = ES256.generate_key_pair().unwrap();
        let mut public = pair.to_jwk_public_key();
        public.set_key_id(kid);
        Self {
            signer: ES256.signer_from_der(pair.to_der_private_key()).unwrap(),
            public,
            kid: kid.into(),
        }
    }

    fn token(&self) -> String {
        let mut header = JwsHeader::new();
        header.set_token_type("at+jwt");
        header.set_key_id(&self.kid);
        jwt::encode_with_signer(&payload(None), &header, &self.signer).unwrap()
    }
}

fn jwks(keys: &[&SigningKey]) -> String {
    let mut set = JwkSet::new();
    for k in keys {
        set.push_key(k.public.clone());
    }
    set.to_string()
}

/// The authorization server's side: what it publishes, and how often its
/// JWKS was fetched.
#[derive(Default)]
struct AsState {
    jwks: Mutex<String>,
    /// The `issuer` its metadata names.
    metadata_issuer: Mutex<String>,
    base: Mutex<String>,
    failing: AtomicBool,
    jwks_fetches: AtomicUsize,
}

impl AsState {
    fn publish(&self, keys: &[&SigningKey]) {
        *self.jwks.lock().unwrap() = jwks(keys);
    }

    fn fetches(&self) -> usize {
        self.jwks_fetches.load(Ordering::SeqCst)
    }
}

async fn jwks_endpoint(State(state): State<Arc<AsState>>) -> impl IntoResponse {
    state.jwks_fetches.fetch_add(1, Ordering::SeqCst);
    if state.failing.load(Ordering::SeqCst) {
        return (StatusCode::INTERNAL_SERVER_ERROR, String::new()).into_response();
    }
    let body = state.jwks.lock().unwrap().clone();
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

async fn metadata_endpoint(State(state): State<Arc<AsState>>) -> impl IntoResponse {
    let issuer = state.metadata_issuer.lock().unwrap().clone();
    let base = state.base.lock().unwrap().clone();
    let body = serde_json::json!({"issuer": issuer, "jwks_uri": format!("{base}/jwks")});
    (
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
}

struct Authority {
    state: Arc<AsState>,
    base: String,
    pki: Pki,
    _server: support::Server,
}

async fn authority(keys: &[&SigningKey]) -> Authority {
    let pki = Pki::new();
    let state = Arc::new(AsState::default());
    state.publish(keys);
    let app = Router::new()
        .route("/jwks", get(jwks_endpoint))
        .route(
            "/.well-known/oauth-authorization-server/tenant",
            get(metadata_endpoint),
        )
        .with_state(state.clone());
    let server = serve_tls(server_config(&pki), app).await;
    let base = format!("https://localhost:{}", server.addr.port());
    *state.base.lock().unwrap() = base.clone();
    *state.metadata_issuer.lock().unwrap() = format!("{base}/tenant");
    Authority {
        state,
        base,
        pki,
        _server: server,
    }
}

fn fetcher(pki: &Pki) -> Fetcher {
    Fetcher::for_operator_urls()
        .crypto_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .only_root_certificates([CertificateDer::from(pki.ca.cert.der.clone())])
        .build()
        .unwrap()
}

async fn remote_validator(authority: &Authority, refresh: KeyRefresh) -> JwtValidator {
    let validator =
        JwtValidator::from_jwks_uri(format!("{}/jwks", authority.base), fetcher(&authority.pki))
            .issuer(ISSUER)
            .audience(AUDIENCE)
            .key_refresh(refresh)
            .build()
            .unwrap();
    tokio::time::timeout(Duration::from_secs(10), validator.ready())
        .await
        .expect("keys loaded");
    validator
}

/// Polls `done` every 20 ms for at most 10 seconds.
async fn eventually(mut done: impl AsyncFnMut() -> bool) -> bool {
    for _ in 0..500 {
        if done().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

fn quiet() -> KeyRefresh {
    // Nothing happens in the background during a test unless it says so.
    KeyRefresh::default()
        .interval(Duration::from_secs(3600))
        .unknown_kid_interval(Duration::from_secs(3600))
}

#[tokio::test]
async fn old_and_new_keys_are_both_accepted_while_both_are_published() {
    let old = SigningKey::new("2026-01");
    let new = SigningKey::new("2026-02");
    let authority = authority(&[&old]).await;
    let validator = remote_validator(&authority, quiet()).await;
    let before_rotation = old.token();
    assert!(validator.validate(&before_rotation).await.is_ok());

    // Rotation: the new key signs, the old one stays published.
    authority.state.publish(&[&new, &old]);
    assert!(validator.validate(&new.token()).await.is_ok());
    assert!(validator.validate(&before_rotation).await.is_ok());
    assert_eq!(validator.key_set_status().refreshes, 2);
}

#[tokio::test]
async fn a_token_signed_before_a_rotation_is_valid_until_its_key_is_withdrawn() {
    let old = SigningKey::new("old");
    let new = SigningKey::new("new");
    let authority = authority(&[&old, &new]).await;
    let refresh = KeyRefresh::default()
        .interval(Duration::from_millis(50))
        .retry_interval(Duration::from_millis(50));
    let validator = remote_validator(&authority, refresh).await;
    let signed_before = old.token();
    assert!(validator.validate(&signed_before).await.is_ok());

    // The background refresh sees the old key withdrawn.
    authority.state.publish(&[&new]);
    let refused = eventually(async || {
        matches!(
            validator.validate_at(&signed_before, std::time::SystemTime::now()),
            Err(TokenError::UnknownKey { .. })
        )
    })
    .await;
    assert!(refused, "the withdrawn key is still trusted");
    assert!(validator.validate(&new.token()).await.is_ok());
}

#[tokio::test]
async fn unknown_kid_refetches_once() {
    let published = SigningKey::new("k1");
    let authority = authority(&[&published]).await;
    let validator = remote_validator(&authority, quiet()).await;
    assert_eq!(authority.state.fetches(), 1);

    let stranger = SigningKey::new("k-unknown");
    assert!(matches!(
        validator.validate(&stranger.token()).await,
        Err(TokenError::UnknownKey { .. })
    ));
    assert_eq!(
        authority.state.fetches(),
        2,
        "one refetch for the unknown kid"
    );

    // Within the interval: no second refetch, whatever the kid.
    let another = SigningKey::new("k-other");
    assert!(validator.validate(&another.token()).await.is_err());
    assert!(validator.validate(&stranger.token()).await.is_err());
    assert_eq!(authority.state.fetches(), 2);
    // A known kid never fetches.
    assert!(validator.validate(&published.token()).await.is_ok());
    assert_eq!(authority.state.fetches(), 2);
}

#[tokio::test]
async fn a_flood_of_unknown_kids_makes_at_most_one_fetch_per_interval() {
    let published = SigningKey::new("k1");
    let authority = authority(&[&published]).await;
    let validator = Arc::new(remote_validator(&authority, quiet()).await);
    let before = authority.state.fetches();

    let tokens: Vec<String> = (0..20)
        .map(|i| SigningKey::new(&format!("made-up-{i}")).token())
        .collect();
    let mut flood = Vec::new();
    for _ in 0..5 {
        for token in &tokens {
            let validator = validator.clone();
            let token = token.clone();
            flood.push(tokio::spawn(
                async move { validator.validate(&token).await },
            ));
        }
    }
    for task in flood {
        assert!(matches!(
            task.await.unwrap(),
            Err(TokenError::UnknownKey { .. })
        ));
    }
    assert_eq!(authority.state.fetches(), before + 1);
    assert_eq!(validator.key_set_status().refreshes, 2);
}

#[tokio::test]
async fn a_failing_jwks_endpoint_keeps_the_last_good_set_until_its_max_age_then_refuses() {
    let key = SigningKey::new("k1");
    let authority = authority(&[&key]).await;
    let max_age = Duration::from_secs(3);
    let refresh = KeyRefresh::default()
        .interval(Duration::from_millis(50))
        .retry_interval(Duration::from_millis(50))
        .max_age(max_age);
    let validator = Arc::new(remote_validator(&authority, refresh).await);
    let pki = Pki::new();
    let cert = client_cert(&pki.client);
    let bound = {
        let mut header = JwsHeader::new();
        header.set_token_type("at+jwt");
        header.set_key_id("k1");
        jwt::encode_with_signer(
            &payload(Some(thumbprint(&pki.client))),
            &header,
            &key.signer,
        )
        .unwrap()
    };

    authority.state.failing.store(true, Ordering::SeqCst);
    let failed = eventually(async || validator.key_set_status().failures >= 1).await;
    assert!(failed);
    // Still within the maximum age (the set is a few refresh intervals
    // old): the last good set answers.
    assert!(validator.key_set_status().ready);
    assert!(validator.validate(&bound).await.is_ok());

    // Past it: refused, 503 at the layer.
    let refused = eventually(async || {
        matches!(
            validator.validate(&bound).await,
            Err(TokenError::Unavailable(_))
        )
    })
    .await;
    assert!(refused, "a set past its maximum age is still used");
    assert!(!validator.key_set_status().ready);
    let layer = BoundTokenLayer::from_arc(validator.clone());
    let status = call_layer(layer, cert.clone(), &bound).await;
    assert_eq!(status, 503);

    // The endpoint recovers: the next refresh serves again.
    authority.state.failing.store(false, Ordering::SeqCst);
    let back = eventually(async || validator.validate(&bound).await.is_ok()).await;
    assert!(back);
    let layer = BoundTokenLayer::from_arc(validator.clone());
    assert_eq!(call_layer(layer, cert, &bound).await, 200);
}

async fn call_layer(
    layer: BoundTokenLayer<impl AccessTokenValidator>,
    cert: certbound_extract::ClientCert,
    token: &str,
) -> u16 {
    use tower::ServiceExt as _;
    let service =
        tower::ServiceBuilder::new()
            .layer(layer)
            .service_fn(|_req: http::Request<String>| async {
                Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
            });
    let mut req = http::Request::get("/")
        .header("authorization", format!("Bearer {token}"))
        .body(String::new())
        .unwrap();
    req.extensions_mut().insert(cert);
    service.oneshot(req).await.unwrap().status().as_u16()
}

#[tokio::test]
async fn keys_come_from_the_issuers_rfc8414_metadata() {
    let key = SigningKey::new("k1");
    let authority = authority(&[&key]).await;
    let issuer = format!("{}/tenant", authority.base);
    let validator = JwtValidator::from_issuer(issuer.clone(), fetcher(&authority.pki))
        .audience(AUDIENCE)
        .key_refresh(quiet())
        .build()
        .unwrap();
    tokio::time::timeout(Duration::from_secs(10), validator.ready())
        .await
        .unwrap();
    // The token's iss is checked against the same issuer.
    let mut p = payload(None);
    p.set_issuer(&issuer);
    let mut header = JwsHeader::new();
    header.set_token_type("at+jwt");
    header.set_key_id("k1");
    let token = jwt::encode_with_signer(&p, &header, &key.signer).unwrap();
    assert!(validator.validate(&token).await.is_ok());
    assert!(matches!(
        validator.validate(&key.token()).await,
        Err(TokenError::WrongIssuer { .. })
    ));
}

#[tokio::test]
async fn metadata_whose_issuer_differs_is_refused() {
    let key = SigningKey::new("k1");
    let authority = authority(&[&key]).await;
    *authority.state.metadata_issuer.lock().unwrap() = "https://attacker.example".into();
    let issuer = format!("{}/tenant", authority.base);
    let validator = JwtValidator::from_issuer(issuer.clone(), fetcher(&authority.pki))
        .audience(AUDIENCE)
        .key_refresh(quiet().retry_interval(Duration::from_millis(50)))
        .build()
        .unwrap();
    assert!(eventually(async || validator.key_set_status().failures >= 2).await);
    let status = validator.key_set_status();
    assert_eq!((status.ready, status.refreshes), (false, 0));
    // The JWKS was never fetched: the metadata was refused first.
    assert_eq!(authority.state.fetches(), 0);
    let mut p = payload(None);
    p.set_issuer(&issuer);
    let mut header = JwsHeader::new();
    header.set_token_type("at+jwt");
    header.set_key_id("k1");
    let token = jwt::encode_with_signer(&p, &header, &key.signer).unwrap();
    assert!(matches!(
        validator.validate(&token).await,
        Err(TokenError::Unavailable(_))
    ));
}

#[test]
fn a_remote_key_source_needs_a_runtime_and_an_https_issuer() {
    let f = |_: String| async {
        Err::<certbound_binding::FetchedDocument, _>(certbound_binding::KeySetFetchError::new(
            "unused",
        ))
    };
    assert_eq!(
        JwtValidator::from_jwks_uri("https://as/jwks", f)
            .issuer(ISSUER)
            .audience(AUDIENCE)
            .build()
            .err(),
        Some(certbound_binding::JwtValidatorError::NoRuntime)
    );
    assert!(matches!(
        JwtValidator::from_issuer("http://as.example", f)
            .audience(AUDIENCE)
            .build()
            .err(),
        Some(certbound_binding::JwtValidatorError::InvalidIssuer(_))
    ));
}

#[tokio::test]
async fn the_background_task_stops_when_the_validator_is_dropped() {
    let key = SigningKey::new("k1");
    let authority = authority(&[&key]).await;
    let refresh = KeyRefresh::default()
        .interval(Duration::from_millis(20))
        .retry_interval(Duration::from_millis(20));
    let validator = remote_validator(&authority, refresh).await;
    assert!(eventually(async || authority.state.fetches() >= 3).await);
    drop(validator);
    // Let any fetch in flight land, then nothing more comes.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let after_drop = authority.state.fetches();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(authority.state.fetches(), after_drop);
}

/// The introspection endpoint: requires a client certificate (TLS) and
/// `client_id=rs-1` in the body; counts calls.
async fn introspection_endpoint(
    State(calls): State<Arc<AtomicUsize>>,
    body: String,
) -> impl IntoResponse {
    calls.fetch_add(1, Ordering::SeqCst);
    let form: Vec<(String, String)> = url_pairs(&body);
    let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    if get("client_id") != Some("rs-1") || get("token_type_hint") != Some("access_token") {
        return (StatusCode::UNAUTHORIZED, String::new()).into_response();
    }
    let active = get("token") == Some("good-token");
    let exp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 300;
    let body = if active {
        serde_json::json!({"active": true, "iss": ISSUER, "aud": AUDIENCE, "exp": exp, "sub": "alice"})
    } else {
        serde_json::json!({"active": false})
    };
    (
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn url_pairs(body: &str) -> Vec<(String, String)> {
    body.split('&')
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.replace('+', " ")))
        .collect()
}

#[tokio::test]
async fn http_introspector_authenticates_by_mtls_and_works_under_the_cache() {
    let pki = Pki::new();
    let rs_ca = certbound_testkit::TestCa::new("RS client CA");
    let rs = rs_ca.leaf("rs-1").issue();
    let calls = Arc::new(AtomicUsize::new(0));
    let app = Router::new()
        .route("/introspect", post(introspection_endpoint))
        .with_state(calls.clone());
    let mut tls = testtls::server_config(&pki.server, ClientCerts::Required(&rs_ca));
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    let server = serve_tls(Arc::new(tls), app).await;
    let endpoint = format!("https://localhost:{}/introspect", server.addr.port());

    let with_identity = Fetcher::for_operator_urls()
        .crypto_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .only_root_certificates([CertificateDer::from(pki.ca.cert.der.clone())])
        .identity(
            vec![CertificateDer::from(rs.der.clone())],
            PrivateKeyDer::try_from(rs.key_der.clone()).unwrap(),
        )
        .build()
        .unwrap();
    let validator = CachedValidator::new(
        IntrospectionValidator::new(HttpIntrospector::mtls(
            with_identity,
            endpoint.clone(),
            "rs-1",
        ))
        .issuer(ISSUER)
        .audience(AUDIENCE),
    );
    let claims = validator.validate("good-token").await.unwrap();
    assert_eq!(claims.get("sub").and_then(|s| s.as_str()), Some("alice"));
    assert!(validator.validate("good-token").await.is_ok());
    assert_eq!(
        calls.load(Ordering::SeqCst),
        1,
        "the second answer is cached"
    );
    assert_eq!(
        validator.validate("other-token").await.err(),
        Some(TokenError::Inactive)
    );

    // Without the client certificate the handshake fails: 503, not 401.
    let without =
        IntrospectionValidator::new(HttpIntrospector::mtls(fetcher(&pki), endpoint, "rs-1"));
    let err = without.validate("good-token").await.unwrap_err();
    assert!(matches!(err, TokenError::Unavailable(_)), "{err:?}");
    assert_eq!(err.to_oauth_error().status(), 503);
}

#[tokio::test]
async fn http_introspector_authenticates_with_client_secret_basic() {
    let pki = Pki::new();
    let app = Router::new().route(
        "/introspect",
        post(|headers: http::HeaderMap, body: String| async move {
            // base64("rs-1:s3cret")
            let authorized = headers.get(header::AUTHORIZATION)
                == Some(&http::HeaderValue::from_static("Basic cnMtMTpzM2NyZXQ="));
            let form = url_pairs(&body);
            let has_client_id = form.iter().any(|(k, _)| k == "client_id");
            if !authorized || has_client_id {
                return (StatusCode::UNAUTHORIZED, String::new()).into_response();
            }
            let body = serde_json::json!({"active": true, "iss": ISSUER, "aud": AUDIENCE});
            (
                [(header::CONTENT_TYPE, "application/json")],
                body.to_string(),
            )
                .into_response()
        }),
    );
    let server = serve_tls(server_config(&pki), app).await;
    let endpoint = format!("https://localhost:{}/introspect", server.addr.port());
    let validator = |secret: &str| {
        IntrospectionValidator::new(HttpIntrospector::client_secret_basic(
            fetcher(&pki),
            endpoint.clone(),
            "rs-1",
            secret,
        ))
        .issuer(ISSUER)
        .audience(AUDIENCE)
    };
    assert!(validator("s3cret").validate("any").await.is_ok());
    // A wrong secret is the AS's 401: the token cannot be checked (503).
    assert!(matches!(
        validator("wrong").validate("any").await,
        Err(TokenError::Unavailable(_))
    ));
}
