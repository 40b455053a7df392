//! Hostile requests to a resource server (`BoundTokenLayer` with a JWT
//! validator, in-process): several tokens in `Authorization`, scheme case,
//! `cnf` claims of the wrong type, and a `cnf` naming two keys. Each is
//! answered with a clear RFC 6750 error, and the next good request works.

mod support;

use axum::Router;
use axum::body::Body;
use axum::routing::get;
use certbound_binding::{BoundTokenLayer, JwtValidator, VerifiedToken};
use http::{HeaderValue, Request, Response, StatusCode};
use http_body_util::BodyExt as _;
use serde_json::{Value, json};
use support::{AUDIENCE, Alg, ISSUER, Keys, Pki, client_cert, payload, thumbprint};
use tower::ServiceExt as _;

async fn whoami(token: VerifiedToken) -> String {
    format!(
        "{} bound={}",
        token.claims().subject().unwrap_or("?"),
        token
            .bound_thumbprint()
            .map_or_else(|| "no".to_owned(), |t| t.to_string())
    )
}

struct Fixture {
    pki: Pki,
    keys: Keys,
    app: Router,
}

fn fixture() -> Fixture {
    let pki = Pki::new();
    let keys = Keys::new();
    let validator = JwtValidator::builder(&keys.jwks)
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .build()
        .unwrap();
    let app = Router::new()
        .route("/whoami", get(whoami))
        .layer(BoundTokenLayer::new(validator));
    Fixture { pki, keys, app }
}

impl Fixture {
    /// A token bound to the client's certificate.
    fn good_token(&self) -> String {
        self.keys
            .sign(Alg::Es256, &payload(Some(thumbprint(&self.pki.client))))
    }

    /// A token whose `cnf` claim is `cnf` (absent when `None`).
    fn token_with_cnf(&self, cnf: Option<Value>) -> String {
        let mut p = payload(None);
        p.set_claim("cnf", cnf).unwrap();
        self.keys.sign(Alg::Es256, &p)
    }

    /// A request from the client (its certificate in the extensions, as
    /// `ClientCertLayer` puts it) with these `Authorization` values.
    fn request(&self, authorization: &[&str]) -> Request<Body> {
        let mut req = Request::get("/whoami").body(Body::empty()).unwrap();
        for a in authorization {
            req.headers_mut()
                .append("authorization", HeaderValue::from_str(a).unwrap());
        }
        req.extensions_mut().insert(client_cert(&self.pki.client));
        req
    }

    async fn send(&self, req: Request<Body>) -> (StatusCode, String, String) {
        let res: Response<Body> = self.app.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let challenge = res
            .headers()
            .get("www-authenticate")
            .map_or(String::new(), |v| v.to_str().unwrap().to_owned());
        let body = res.into_body().collect().await.unwrap().to_bytes();
        (status, challenge, String::from_utf8(body.to_vec()).unwrap())
    }

    /// Expects `status` and a challenge with `error` and a description
    /// containing `says`, then a good request that passes.
    async fn refused_then_next_works(
        &self,
        req: Request<Body>,
        status: StatusCode,
        error: &str,
        says: &str,
    ) {
        let (got, challenge, body) = self.send(req).await;
        assert_eq!(got, status, "{challenge} {body}");
        assert!(
            challenge.starts_with(&format!("Bearer error=\"{error}\"")),
            "{challenge}"
        );
        assert!(challenge.contains(says), "{challenge} lacks {says:?}");
        let good = self.good_token();
        let (got, _, body) = self.send(self.request(&[&format!("Bearer {good}")])).await;
        assert_eq!(got, StatusCode::OK, "{body}");
        assert_eq!(
            body,
            format!("alice bound={}", thumbprint(&self.pki.client))
        );
    }
}

#[tokio::test]
async fn several_tokens_in_authorization_are_invalid_request() {
    let f = fixture();
    let a = f.good_token();
    let b = f.keys.sign(Alg::Rs256, &payload(None));
    for values in [
        vec![format!("Bearer {a}, Bearer {b}")],
        vec![format!("Bearer {a},{b}")],
        vec![format!("Bearer {a} {b}")],
        vec![format!("Bearer {a}"), format!("Bearer {b}")],
        vec![format!("Bearer {a}"), format!("Bearer {a}")],
        vec![format!("Bearer {a}"), "Basic dXNlcjpwYXNz".to_owned()],
    ] {
        let values: Vec<&str> = values.iter().map(String::as_str).collect();
        f.refused_then_next_works(
            f.request(&values),
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "error_description=",
        )
        .await;
    }
}

#[tokio::test]
async fn the_scheme_is_case_insensitive() {
    let f = fixture();
    let t = f.good_token();
    for scheme in ["bearer", "BEARER", "bEaReR", "Bearer"] {
        let (status, _, body) = f.send(f.request(&[&format!("{scheme} {t}")])).await;
        assert_eq!(status, StatusCode::OK, "{scheme}: {body}");
    }
}

#[tokio::test]
async fn empty_or_non_token_credentials_are_invalid_request() {
    let f = fixture();
    let t = f.good_token();
    for value in [
        "Bearer".to_owned(),
        "Bearer ".to_owned(),
        format!("Bearer \"{t}\""),
        format!("Bearer =={t}"),
    ] {
        let mut req = f.request(&[]);
        req.headers_mut()
            .insert("authorization", HeaderValue::from_str(&value).unwrap());
        f.refused_then_next_works(
            req,
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "error_description=",
        )
        .await;
    }
    // Bytes that are not ASCII.
    let mut req = f.request(&[]);
    req.headers_mut().insert(
        "authorization",
        HeaderValue::from_bytes(b"Bearer \xff\xfe").unwrap(),
    );
    f.refused_then_next_works(req, StatusCode::BAD_REQUEST, "invalid_request", "ASCII")
        .await;
}

#[tokio::test]
async fn a_cnf_of_the_wrong_type_is_invalid_token() {
    let f = fixture();
    for cnf in [
        json!("x5t#S256"),
        json!(42),
        json!(true),
        json!([{"x5t#S256": thumbprint(&f.pki.client).to_string()}]),
        json!({"x5t#S256": 42}),
        json!({"x5t#S256": null}),
        json!({"x5t#S256": [thumbprint(&f.pki.client).to_string()]}),
        json!({"x5t#S256": {"value": thumbprint(&f.pki.client).to_string()}}),
    ] {
        let token = f.token_with_cnf(Some(cnf.clone()));
        f.refused_then_next_works(
            f.request(&[&format!("Bearer {token}")]),
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "cnf",
        )
        .await;
    }
}

#[tokio::test]
async fn a_malformed_thumbprint_is_invalid_token() {
    let f = fixture();
    let good = thumbprint(&f.pki.client).to_string();
    for x5t in [
        String::new(),
        format!("{good}="),
        good[..42].to_owned(),
        format!("{good}A"),
        good.replace('-', "+").replace('_', "/"),
        hex_of(&good),
    ] {
        if x5t == good {
            continue;
        }
        let token = f.token_with_cnf(Some(json!({ "x5t#S256": x5t })));
        f.refused_then_next_works(
            f.request(&[&format!("Bearer {token}")]),
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "error_description=",
        )
        .await;
    }
}

fn hex_of(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test]
async fn a_cnf_with_both_x5t_s256_and_jkt_is_invalid_token() {
    // RFC 7800 §3.1: a cnf represents a single proof-of-possession key.
    // One that names a certificate and a DPoP key is ambiguous; this
    // resource server cannot check the DPoP proof, so it must not accept
    // the token on the certificate alone.
    let f = fixture();
    let t = thumbprint(&f.pki.client).to_string();
    for cnf in [
        json!({"x5t#S256": t, "jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}),
        json!({"jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I", "x5t#S256": t}),
        json!({"x5t#S256": t, "jwk": {"kty": "EC"}}),
    ] {
        let token = f.token_with_cnf(Some(cnf));
        f.refused_then_next_works(
            f.request(&[&format!("Bearer {token}")]),
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "confirmation",
        )
        .await;
    }
    // jkt alone is refused as unsupported, as before.
    let token = f.token_with_cnf(Some(
        json!({"jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}),
    ));
    f.refused_then_next_works(
        f.request(&[&format!("Bearer {token}")]),
        StatusCode::UNAUTHORIZED,
        "invalid_token",
        "not supported",
    )
    .await;
}

#[tokio::test]
async fn enormous_tokens_are_refused_before_decoding() {
    let f = fixture();
    let huge = "a".repeat(64 * 1024);
    f.refused_then_next_works(
        f.request(&[&format!("Bearer {huge}.{huge}.{huge}")]),
        StatusCode::UNAUTHORIZED,
        "invalid_token",
        "malformed",
    )
    .await;
}

/// With a token cache in front of a validator that accepts anything, a
/// credential that is not `b64token` syntax is still `invalid_request`,
/// the first time and every time after, even when the cache already holds
/// it, while a good one is answered by the cache.
#[tokio::test]
async fn a_token_cache_does_not_let_bad_syntax_through() {
    use certbound_binding::{AccessTokenValidator as _, CachedValidator, TokenClaims, TokenError};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    let calls = Arc::new(AtomicUsize::new(0));
    let counted = calls.clone();
    let anything = move |_token: String| {
        counted.fetch_add(1, Ordering::Relaxed);
        let mut claims = serde_json::Map::new();
        claims.insert("sub".into(), json!("alice"));
        claims.insert("exp".into(), json!(4_000_000_000u64));
        std::future::ready(TokenClaims::from_map(claims).map_err(|_| TokenError::BadSignature))
    };
    let cache = Arc::new(CachedValidator::new(anything));
    // The validator is shared: a token `validate` accepted directly is in
    // the cache the layer asks.
    assert!(cache.validate("a,b").await.is_ok());
    let app = Router::new()
        .route("/whoami", get(whoami))
        .layer(BoundTokenLayer::from_arc(cache.clone()));
    let send = |value: &'static str| {
        let app = app.clone();
        async move {
            let req = Request::get("/whoami")
                .header("authorization", value)
                .body(Body::empty())
                .unwrap();
            app.oneshot(req).await.unwrap().status()
        }
    };
    for _ in 0..3 {
        assert_eq!(send("Bearer a,b").await, StatusCode::BAD_REQUEST);
    }
    assert_eq!(send("Bearer good.token").await, StatusCode::OK);
    let before = calls.load(Ordering::Relaxed);
    for _ in 0..3 {
        assert_eq!(send("Bearer good.token").await, StatusCode::OK);
    }
    assert_eq!(
        calls.load(Ordering::Relaxed),
        before,
        "answered by the cache"
    );
    assert!(cache.hits() >= 3);
}
