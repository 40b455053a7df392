//! `CachedValidator` behind `BoundTokenLayer`: the token is verified once,
//! the binding on every request.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use certbound_binding::{BoundTokenLayer, CachedValidator, Confirmation, JwtValidator};
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
