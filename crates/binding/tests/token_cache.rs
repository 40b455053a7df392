//! `CachedValidator` behind `BoundTokenLayer`: the token is verified once,
//! the binding on every request.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use std::sync::atomic::{AtomicUsize, Ordering};

use certbound_binding::{
    AccessTokenValidator, BoundTokenLayer, CachedValidator, Confirmation, JwtValidator,
    TokenClaims, TokenError,
};
use certbound_cert::Certificate;
use certbound_extract::{CertSource, ClientCert};
use certbound_testkit::TestCa;
use http::{Request, Response, StatusCode};
use josekit::jws::{ES256, JwsHeader};
use josekit::jwt::{self, JwtPayload};
use tower::{Layer, ServiceExt, service_fn};

fn client_cert(der: Vec<u8>) -> ClientCert {
    ClientCert::new(Certificate::from_der(der).unwrap(), vec![], CertSource::Tls)
}

#[tokio::test]
async fn cached_token_is_still_refused_with_another_certificate() {
    let ca = TestCa::new("CA");
    let good = client_cert(ca.leaf("a").issue().der);
    let other = client_cert(ca.leaf("b").issue().der);
    let key = ES256.generate_key_pair().unwrap();
    let mut jwks = josekit::jwk::JwkSet::new();
    jwks.push_key(key.to_jwk_public_key());
    let signer = ES256.signer_from_der(key.to_der_private_key()).unwrap();
    let mut p = JwtPayload::new();
    p.set_issuer("https://as");
    p.set_audience(vec!["https://rs"]);
    p.set_expires_at(&(SystemTime::now() + Duration::from_secs(600)));
    Confirmation::from_thumbprint(good.thumbprint()).insert_into_jwt_payload(&mut p);
    let mut h = JwsHeader::new();
    h.set_token_type("at+jwt");
    let token = jwt::encode_with_signer(&p, &h, &signer).unwrap();

    let validator = Arc::new(CachedValidator::new(
        JwtValidator::builder(&jwks)
            .issuer("https://as")
            .audience("https://rs")
            .build()
            .unwrap(),
    ));
    let svc =
        BoundTokenLayer::from_arc(validator.clone()).layer(service_fn(|_req: Request<()>| async {
            Ok::<_, Infallible>(Response::new(String::new()))
        }));
    let call = |cert: Option<&ClientCert>| {
        let mut req = Request::get("/")
            .header("authorization", format!("Bearer {token}"))
            .body(())
            .unwrap();
        if let Some(c) = cert {
            req.extensions_mut().insert(c.clone());
        }
        svc.clone().oneshot(req)
    };
    assert_eq!(call(Some(&good)).await.unwrap().status(), StatusCode::OK);
    assert_eq!(
        call(Some(&other)).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(call(None).await.unwrap().status(), StatusCode::UNAUTHORIZED);
    assert_eq!(call(Some(&good)).await.unwrap().status(), StatusCode::OK);
    // Verified once, answered from the cache three times.
    assert_eq!(validator.hits(), 3);
}

/// `max_ttl(Duration::MAX)` is no cap beyond the token's `exp`: accepted
/// tokens are remembered (and nothing panics adding it to the clock).
#[tokio::test]
async fn an_unbounded_max_ttl_keeps_tokens_until_their_exp() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = calls.clone();
    let inner = move |_token: String| {
        counted.fetch_add(1, Ordering::Relaxed);
        async {
            let mut claims = serde_json::Map::new();
            claims.insert("exp".into(), serde_json::json!(4_000_000_000u64));
            Ok::<_, TokenError>(TokenClaims::from_map(claims).unwrap())
        }
    };
    let cache = CachedValidator::new(inner).max_ttl(Duration::MAX);
    for _ in 0..2 {
        assert!(cache.validate("a.b.c").await.is_ok());
    }
    assert_eq!(calls.load(Ordering::Relaxed), 1);
    assert_eq!(cache.hits(), 1);
}
