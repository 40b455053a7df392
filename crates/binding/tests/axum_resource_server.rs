//! An axum resource server over real TLS: the client certificate comes from
//! the TLS connection, `BoundTokenLayer` checks JWT access tokens (ES256 and
//! RS256, signed by josekit) and their binding.

mod support;

use std::time::{Duration, SystemTime};

use axum::Router;
use axum::routing::get;
use certbound_binding::{BoundTokenLayer, JwtValidator, VerifiedToken};
use serde_json::json;
use support::{
    AUDIENCE, Alg, ISSUER, Keys, Pki, Server, payload, serve_tls, server_config, thumbprint,
};

async fn whoami(token: VerifiedToken) -> String {
    format!(
        "{} bound={}",
        token.claims().subject().unwrap_or("?"),
        token
            .bound_thumbprint()
            .map(|t| t.to_string())
            .unwrap_or_else(|| "no".into())
    )
}

async fn optional(token: Option<VerifiedToken>) -> &'static str {
    if token.is_some() { "token" } else { "none" }
}

struct Fixture {
    pki: Pki,
    keys: Keys,
    server: Server,
    strict: Server,
}

async fn fixture() -> Fixture {
    let pki = Pki::new();
    let keys = Keys::new();
    let validator = || {
        JwtValidator::builder(&keys.jwks)
            .issuer(ISSUER)
            .audience(AUDIENCE)
            .build()
            .unwrap()
    };
    let app = Router::new()
        .route("/whoami", get(whoami))
        .layer(BoundTokenLayer::new(validator()))
        .route("/optional", get(optional));
    let strict_app = Router::new().route("/whoami", get(whoami)).layer(
        BoundTokenLayer::new(validator())
            .require_confirmation(true)
            .realm("api"),
    );
    let server = serve_tls(server_config(&pki), app).await;
    let strict = serve_tls(server_config(&pki), strict_app).await;
    Fixture {
        pki,
        keys,
        server,
        strict,
    }
}

fn assert_invalid_token(answer: &support::Answer, description: &str) {
    assert_eq!(answer.status, 401, "{answer:?}");
    let challenge = answer.www_authenticate.as_deref().unwrap();
    assert!(
        challenge.starts_with("Bearer error=\"invalid_token\", error_description=\""),
        "{challenge}"
    );
    assert!(
        challenge.contains(description),
        "{challenge} lacks {description}"
    );
}

#[tokio::test]
async fn es256_and_rs256_tokens_bound_to_the_presented_certificate_pass() {
    let f = fixture().await;
    let t = thumbprint(&f.pki.client);
    for alg in [Alg::Es256, Alg::Rs256] {
        let token = f.keys.sign(alg, &payload(Some(t)));
        let answer = support::get(
            f.server.addr,
            &f.pki,
            Some(&f.pki.client),
            "/whoami",
            Some(&token),
        )
        .await;
        assert_eq!(answer.status, 200, "{alg:?}: {answer:?}");
        assert_eq!(answer.body, format!("alice bound={t}"));
    }
}

#[tokio::test]
async fn token_bound_to_another_certificate_is_refused() {
    let f = fixture().await;
    for alg in [Alg::Es256, Alg::Rs256] {
        let token = f.keys.sign(alg, &payload(Some(thumbprint(&f.pki.client))));
        let answer = support::get(
            f.server.addr,
            &f.pki,
            Some(&f.pki.other_client),
            "/whoami",
            Some(&token),
        )
        .await;
        assert_invalid_token(&answer, "bound to another client certificate");
    }
}

#[tokio::test]
async fn bound_token_without_certificate_is_refused() {
    let f = fixture().await;
    let token = f
        .keys
        .sign(Alg::Es256, &payload(Some(thumbprint(&f.pki.client))));
    let answer = support::get(f.server.addr, &f.pki, None, "/whoami", Some(&token)).await;
    assert_invalid_token(&answer, "no client certificate was presented");
}

#[tokio::test]
async fn request_without_token_gets_a_bare_bearer_challenge() {
    let f = fixture().await;
    let answer = support::get(f.server.addr, &f.pki, Some(&f.pki.client), "/whoami", None).await;
    assert_eq!(answer.status, 401);
    assert_eq!(answer.www_authenticate.as_deref(), Some("Bearer"));
    let answer = support::get(f.strict.addr, &f.pki, Some(&f.pki.client), "/whoami", None).await;
    assert_eq!(
        answer.www_authenticate.as_deref(),
        Some("Bearer realm=\"api\"")
    );
}

#[tokio::test]
async fn expired_token_is_refused() {
    let f = fixture().await;
    let mut p = payload(Some(thumbprint(&f.pki.client)));
    p.set_expires_at(&(SystemTime::now() - Duration::from_secs(3600)));
    let token = f.keys.sign(Alg::Es256, &p);
    let answer = support::get(
        f.server.addr,
        &f.pki,
        Some(&f.pki.client),
        "/whoami",
        Some(&token),
    )
    .await;
    assert_invalid_token(&answer, "expired");
}

#[tokio::test]
async fn wrong_audience_is_refused() {
    let f = fixture().await;
    let mut p = payload(Some(thumbprint(&f.pki.client)));
    p.set_audience(vec!["https://elsewhere.example.test"]);
    let token = f.keys.sign(Alg::Rs256, &p);
    let answer = support::get(
        f.server.addr,
        &f.pki,
        Some(&f.pki.client),
        "/whoami",
        Some(&token),
    )
    .await;
    assert_invalid_token(&answer, "another audience");
}

#[tokio::test]
async fn wrong_issuer_is_refused() {
    let f = fixture().await;
    let mut p = payload(Some(thumbprint(&f.pki.client)));
    p.set_issuer("https://evil.example.test");
    let token = f.keys.sign(Alg::Es256, &p);
    let answer = support::get(
        f.server.addr,
        &f.pki,
        Some(&f.pki.client),
        "/whoami",
        Some(&token),
    )
    .await;
    assert_invalid_token(&answer, "another issuer");
}

#[tokio::test]
async fn unsigned_alg_none_token_is_refused() {
    let f = fixture().await;
    let token = Keys::unsigned(&payload(Some(thumbprint(&f.pki.client))));
    assert!(
        token.ends_with('.'),
        "an unsecured JWS has an empty signature"
    );
    let answer = support::get(
        f.server.addr,
        &f.pki,
        Some(&f.pki.client),
        "/whoami",
        Some(&token),
    )
    .await;
    assert_invalid_token(&answer, "algorithm is not accepted");
}

#[tokio::test]
async fn tampered_signature_and_unknown_signing_key_are_refused() {
    let f = fixture().await;
    let p = payload(Some(thumbprint(&f.pki.client)));
    for alg in [Alg::Es256, Alg::Rs256] {
        let token = support::tamper_signature(&f.keys.sign(alg, &p));
        let answer = support::get(
            f.server.addr,
            &f.pki,
            Some(&f.pki.client),
            "/whoami",
            Some(&token),
        )
        .await;
        assert_invalid_token(&answer, "signature is invalid");
    }
    let rogue = f.keys.sign_with_rogue_key(&p);
    let answer = support::get(
        f.server.addr,
        &f.pki,
        Some(&f.pki.client),
        "/whoami",
        Some(&rogue),
    )
    .await;
    assert_invalid_token(&answer, "signature is invalid");
}

#[tokio::test]
async fn malformed_cnf_thumbprint_is_refused() {
    let f = fixture().await;
    let mut p = payload(None);
    // RFC 8705 §3.1's example value: not canonical base64url.
    p.set_claim(
        "cnf",
        Some(json!({"x5t#S256": "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2"})),
    )
    .unwrap();
    let token = f.keys.sign(Alg::Es256, &p);
    let answer = support::get(
        f.server.addr,
        &f.pki,
        Some(&f.pki.client),
        "/whoami",
        Some(&token),
    )
    .await;
    assert_invalid_token(&answer, "confirmation is malformed");

    let mut p = payload(None);
    p.set_claim("cnf", Some(json!("not an object"))).unwrap();
    let token = f.keys.sign(Alg::Es256, &p);
    let answer = support::get(
        f.server.addr,
        &f.pki,
        Some(&f.pki.client),
        "/whoami",
        Some(&token),
    )
    .await;
    assert_invalid_token(&answer, "cnf claim is invalid");
}

#[tokio::test]
async fn unbound_token_passes_unless_confirmation_is_required() {
    let f = fixture().await;
    let token = f.keys.sign(Alg::Es256, &payload(None));
    let answer = support::get(
        f.server.addr,
        &f.pki,
        Some(&f.pki.client),
        "/whoami",
        Some(&token),
    )
    .await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body, "alice bound=no");

    let answer = support::get(
        f.strict.addr,
        &f.pki,
        Some(&f.pki.client),
        "/whoami",
        Some(&token),
    )
    .await;
    assert_eq!(answer.status, 401);
    assert_eq!(
        answer.www_authenticate.as_deref(),
        Some(
            "Bearer realm=\"api\", error=\"invalid_token\", error_description=\"the token is not certificate-bound\""
        )
    );
}

#[tokio::test]
async fn malformed_authorization_header_is_invalid_request() {
    let f = fixture().await;
    let answer = support::get(
        f.server.addr,
        &f.pki,
        Some(&f.pki.client),
        "/whoami",
        Some("a b"),
    )
    .await;
    assert_eq!(answer.status, 400);
    assert!(
        answer
            .www_authenticate
            .unwrap()
            .starts_with("Bearer error=\"invalid_request\"")
    );
}

#[tokio::test]
async fn optional_extractor_sees_no_token_outside_the_layer() {
    let f = fixture().await;
    let answer = support::get(
        f.server.addr,
        &f.pki,
        Some(&f.pki.client),
        "/optional",
        None,
    )
    .await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body, "none");
}
