//! The validators on their own, and the whole issue-then-enforce flow without
//! a network: the binding policy issues, the layer enforces.

mod support;

use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use certbound_binding::{
    AccessTokenValidator, BindingPolicy, BoundTokenLayer, ClientBinding, IntrospectionValidator,
    JwsAlg, JwtValidator, JwtValidatorError, TokenError, TypCheck, Verdict, VerifiedToken,
};
use josekit::jws::{ES256, JwsHeader, JwsSigner, RS256};
use josekit::jwt::JwtPayload;
use serde_json::{Value, json};
use support::{AUDIENCE, Alg, ISSUER, Keys, Pki, client_cert, payload, thumbprint};
use tower::ServiceExt as _;

fn validator(keys: &Keys) -> JwtValidator {
    JwtValidator::builder(&keys.jwks)
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .build()
        .unwrap()
}

/// A JWS compact token with the header written verbatim (so that members
/// of the wrong JSON type can be sent), signed by `signer`.
fn sign_raw(header: &str, payload: &JwtPayload, signer: &dyn JwsSigner) -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(payload.to_string())
    );
    let sig = signer.sign(input.as_bytes()).unwrap();
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
}

#[test]
fn report_tells_expired_from_wrong_key() {
    let keys = Keys::new();
    let v = validator(&keys);
    let mut p = payload(None);
    p.set_expires_at(&(SystemTime::now() - Duration::from_secs(3600)));
    let report = v.inspect(&keys.sign(Alg::Es256, &p));
    let verdict = |name: &str| {
        report
            .checks
            .iter()
            .find(|c| c.name == name)
            .map(|c| c.verdict)
            .unwrap()
    };
    assert_eq!(verdict("signature"), Verdict::Pass);
    assert_eq!(verdict("expiry"), Verdict::Fail);
    assert!(matches!(report.result, Err(TokenError::Expired(_))));
    assert!(!report.passed());

    let report = v.inspect(&keys.sign_with_rogue_key(&payload(None)));
    assert_eq!(
        report.result.as_ref().err(),
        Some(&TokenError::BadSignature)
    );
    assert!(
        report
            .checks
            .iter()
            .all(|c| c.name != "expiry" || c.verdict == Verdict::Pass)
    );
}

#[test]
fn typ_is_strict_by_default_and_lenient_on_request() {
    // A key of its own, signing with a plain `JWT` type.
    let pair = josekit::jws::ES256.generate_key_pair().unwrap();
    let signer = josekit::jws::ES256
        .signer_from_der(pair.to_der_private_key())
        .unwrap();
    let mut jwks = josekit::jwk::JwkSet::new();
    jwks.push_key(pair.to_jwk_public_key());
    let mut header = JwsHeader::new();
    header.set_token_type("JWT");
    let token = josekit::jwt::encode_with_signer(&payload(None), &header, &signer).unwrap();

    let strict = JwtValidator::builder(&jwks)
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .build()
        .unwrap();
    assert_eq!(
        strict.validate_at(&token, SystemTime::now()),
        Err(TokenError::UnacceptableType(Some("JWT".into())))
    );
    let lenient = JwtValidator::builder(&jwks)
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .typ(TypCheck::Lenient)
        .build()
        .unwrap();
    assert!(lenient.validate_at(&token, SystemTime::now()).is_ok());

    header.set_token_type("dpop+jwt");
    let dpop = josekit::jwt::encode_with_signer(&payload(None), &header, &signer).unwrap();
    assert!(lenient.validate_at(&dpop, SystemTime::now()).is_err());
}

#[test]
fn algorithm_allow_list_is_enforced() {
    let keys = Keys::new();
    let es_only = JwtValidator::builder(&keys.jwks)
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .algorithms([JwsAlg::Es256])
        .build()
        .unwrap();
    let token = keys.sign(Alg::Rs256, &payload(None));
    assert_eq!(
        es_only.validate_at(&token, SystemTime::now()),
        Err(TokenError::UnsupportedAlgorithm("RS256".into()))
    );
    assert!(
        es_only
            .validate_at(&keys.sign(Alg::Es256, &payload(None)), SystemTime::now())
            .is_ok()
    );
}

#[test]
fn unusable_key_sets_are_refused_at_build_time() {
    assert!(matches!(
        JwtValidator::builder_from_jwks_json("not json"),
        Err(JwtValidatorError::InvalidJwks(_))
    ));
    let empty = JwtValidator::builder_from_jwks_json(r#"{"keys":[]}"#).unwrap();
    assert_eq!(
        empty.issuer(ISSUER).audience(AUDIENCE).build().unwrap_err(),
        JwtValidatorError::NoUsableKey
    );
}

#[test]
fn leeway_accepts_slightly_expired_and_not_yet_valid_tokens() {
    let keys = Keys::new();
    let v = validator(&keys);
    let now = SystemTime::now();
    let mut p = payload(None);
    p.set_expires_at(&(now - Duration::from_secs(30)));
    p.set_not_before(&(now + Duration::from_secs(30)));
    assert!(v.validate_at(&keys.sign(Alg::Es256, &p), now).is_ok());
    p.set_not_before(&(now + Duration::from_secs(600)));
    p.set_expires_at(&(now + Duration::from_secs(900)));
    assert!(matches!(
        v.validate_at(&keys.sign(Alg::Es256, &p), now),
        Err(TokenError::NotYetValid(_))
    ));
    let mut no_exp = payload(None);
    no_exp.set_claim("exp", None).unwrap();
    assert_eq!(
        v.validate_at(&keys.sign(Alg::Es256, &no_exp), now),
        Err(TokenError::MissingClaim("exp"))
    );
}

async fn call(
    layer: BoundTokenLayer<impl AccessTokenValidator>,
    cert: Option<certbound_extract::ClientCert>,
    token: &str,
) -> (u16, Option<String>, Option<VerifiedToken>) {
    let service = tower::ServiceBuilder::new().layer(layer).service_fn(
        |req: http::Request<String>| async move {
            let verified = req.extensions().get::<VerifiedToken>().cloned();
            Ok::<_, std::convert::Infallible>(
                http::Response::builder()
                    .extension(verified)
                    .body(String::new())
                    .unwrap(),
            )
        },
    );
    let mut req = http::Request::get("/")
        .header("authorization", format!("Bearer {token}"))
        .body(String::new())
        .unwrap();
    if let Some(cert) = cert {
        req.extensions_mut().insert(cert);
    }
    let response = service.oneshot(req).await.unwrap();
    let www = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned());
    let verified = response
        .extensions()
        .get::<Option<VerifiedToken>>()
        .cloned()
        .flatten();
    (response.status().as_u16(), www, verified)
}

#[tokio::test]
async fn policy_issued_token_is_enforced_by_the_layer() {
    let pki = Pki::new();
    let keys = Keys::new();
    let presented = client_cert(&pki.client);
    // Authorization server: the client registered for bound tokens.
    let binding = BindingPolicy::new()
        .decide(
            ClientBinding::confidential().bound_tokens_required(true),
            Some(&presented),
        )
        .unwrap();
    let mut p = payload(None);
    binding
        .access_token_confirmation()
        .unwrap()
        .insert_into_jwt_payload(&mut p);
    let token = keys.sign(Alg::Es256, &p);

    // Resource server.
    let layer = BoundTokenLayer::new(validator(&keys));
    let (status, _, verified) = call(layer.clone(), Some(client_cert(&pki.client)), &token).await;
    assert_eq!(status, 200);
    assert_eq!(
        verified.unwrap().bound_thumbprint(),
        Some(thumbprint(&pki.client))
    );
    let (status, www, _) = call(layer, Some(client_cert(&pki.other_client)), &token).await;
    assert_eq!(status, 401);
    assert!(www.unwrap().contains("invalid_token"));
}

#[tokio::test]
async fn introspection_validator_behind_the_layer() {
    let pki = Pki::new();
    let bound = thumbprint(&pki.client);
    let introspect = move |token: String| async move {
        // The authorization server's answer, RFC 8705 §3.2 style.
        let response: Value = match token.as_str() {
            "bound" => {
                json!({"active": true, "sub": "alice", "cnf": {"x5t#S256": bound.to_string()}})
            }
            "plain" => json!({"active": true, "sub": "bob"}),
            "down" => return Err("connection refused"),
            _ => json!({"active": false}),
        };
        Ok(response)
    };
    let layer = BoundTokenLayer::new(IntrospectionValidator::new(introspect));
    let cert = || Some(client_cert(&pki.client));
    let other = || Some(client_cert(&pki.other_client));

    let (status, _, verified) = call(layer.clone(), cert(), "bound").await;
    assert_eq!(status, 200);
    assert_eq!(verified.unwrap().claims().subject(), Some("alice"));
    assert_eq!(call(layer.clone(), other(), "bound").await.0, 401);
    assert_eq!(call(layer.clone(), None, "bound").await.0, 401);
    assert_eq!(call(layer.clone(), other(), "plain").await.0, 200);
    let (status, www, _) = call(layer.clone(), cert(), "revoked").await;
    assert_eq!(status, 401);
    assert!(www.unwrap().contains("not active"));
    let (status, www, _) = call(layer, cert(), "down").await;
    assert_eq!(status, 503);
    assert!(www.is_none());
}

#[test]
fn keys_without_kid_verify_tokens_with_or_without_kid() {
    let pair = josekit::jws::ES256.generate_key_pair().unwrap();
    let signer = josekit::jws::ES256
        .signer_from_der(pair.to_der_private_key())
        .unwrap();
    let mut jwks = josekit::jwk::JwkSet::new();
    jwks.push_key(pair.to_jwk_public_key());
    let v = JwtValidator::builder(&jwks)
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .build()
        .unwrap();
    let mut header = JwsHeader::new();
    header.set_token_type("at+jwt");
    let plain = josekit::jwt::encode_with_signer(&payload(None), &header, &signer).unwrap();
    assert!(v.validate_at(&plain, SystemTime::now()).is_ok());
    header.set_key_id("rotated-1");
    let with_kid = josekit::jwt::encode_with_signer(&payload(None), &header, &signer).unwrap();
    assert!(v.validate_at(&with_kid, SystemTime::now()).is_ok());

    // With named keys, an unknown kid matches nothing.
    let keys = Keys::new();
    let named = validator(&keys);
    assert!(matches!(
        named.validate_at(&with_kid, SystemTime::now()),
        Err(TokenError::UnknownKey { .. })
    ));
}

/// `kid` names a key of the set (RSA): the token is tried with that key
/// only, never with a key without `kid` that fits its algorithm (ES256).
#[test]
fn a_kid_naming_a_key_of_another_algorithm_is_an_unknown_key() {
    let ec = ES256.generate_key_pair().unwrap();
    let rsa = RS256.generate_key_pair(2048).unwrap();
    let mut rsa_public = rsa.to_jwk_public_key();
    rsa_public.set_key_id("rsa-1");
    let mut set = josekit::jwk::JwkSet::new();
    set.push_key(rsa_public);
    set.push_key(ec.to_jwk_public_key()); // no kid
    let signer = ES256.signer_from_der(ec.to_der_private_key()).unwrap();
    let token = |header: &str| sign_raw(header, &payload(None), &signer);
    let named_rsa = token(r#"{"alg":"ES256","typ":"at+jwt","kid":"rsa-1"}"#);
    for algorithms in [JwsAlg::ALL.to_vec(), vec![JwsAlg::Es256]] {
        // Also when the allow-list leaves the named key unusable.
        let v = JwtValidator::builder(&set)
            .issuer(ISSUER)
            .audience(AUDIENCE)
            .algorithms(algorithms)
            .build()
            .unwrap();
        assert_eq!(
            v.validate_at(&named_rsa, SystemTime::now()),
            Err(TokenError::UnknownKey {
                kid: Some("rsa-1".into()),
                alg: "ES256".into()
            })
        );
        // A kid no key has, or none, still falls back to the unnamed key.
        for header in [
            r#"{"alg":"ES256","typ":"at+jwt","kid":"rotated-1"}"#,
            r#"{"alg":"ES256","typ":"at+jwt"}"#,
        ] {
            assert!(v.validate_at(&token(header), SystemTime::now()).is_ok());
        }
    }
}

/// RFC 7515 §4.1.4: `kid` is a string. Another type is not read as "no
/// kid" (which would try every key of the algorithm): the token is
/// malformed.
#[test]
fn a_kid_that_is_not_a_string_is_malformed() {
    let a = ES256.generate_key_pair().unwrap();
    let b = ES256.generate_key_pair().unwrap();
    let mut a_public = a.to_jwk_public_key();
    a_public.set_key_id("a");
    let mut b_public = b.to_jwk_public_key();
    b_public.set_key_id("b");
    let mut set = josekit::jwk::JwkSet::new();
    set.push_key(a_public);
    set.push_key(b_public);
    let v = JwtValidator::builder(&set)
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .build()
        .unwrap();
    let signer_b = ES256.signer_from_der(b.to_der_private_key()).unwrap();
    for kid in [r#"["a"]"#, "1", "null", r#"{"kid":"b"}"#] {
        let token = sign_raw(
            &format!(r#"{{"alg":"ES256","typ":"at+jwt","kid":{kid}}}"#),
            &payload(None),
            &signer_b,
        );
        assert!(
            matches!(
                v.validate_at(&token, SystemTime::now()),
                Err(TokenError::Malformed(_))
            ),
            "kid {kid}"
        );
        assert!(matches!(
            v.inspect(&token).result,
            Err(TokenError::Malformed(_))
        ));
    }
}

/// RFC 7515 §4.1.9: `typ` is a string. One of another type is an explicit
/// type, refused also by `TypCheck::Lenient` (which accepts no `typ`).
#[test]
fn a_typ_that_is_not_a_string_is_refused_also_when_lenient() {
    let key = ES256.generate_key_pair().unwrap();
    let mut set = josekit::jwk::JwkSet::new();
    set.push_key(key.to_jwk_public_key());
    let signer = ES256.signer_from_der(key.to_der_private_key()).unwrap();
    for typ in [TypCheck::Lenient, TypCheck::Strict] {
        let v = JwtValidator::builder(&set)
            .issuer(ISSUER)
            .audience(AUDIENCE)
            .typ(typ)
            .build()
            .unwrap();
        for header in [
            r#"{"alg":"ES256","typ":["dpop+jwt"]}"#,
            r#"{"alg":"ES256","typ":["at+jwt"]}"#,
            r#"{"alg":"ES256","typ":null}"#,
        ] {
            let token = sign_raw(header, &payload(None), &signer);
            assert!(
                matches!(
                    v.validate_at(&token, SystemTime::now()),
                    Err(TokenError::UnacceptableType(Some(_)))
                ),
                "{typ:?} {header}"
            );
        }
    }
}

/// A leeway too long to add to a date tolerates any skew, without a panic.
#[test]
fn an_unbounded_leeway_accepts_any_date() {
    let keys = Keys::new();
    let v = JwtValidator::builder(&keys.jwks)
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .leeway(Duration::MAX)
        .build()
        .unwrap();
    let now = SystemTime::now();
    let mut p = payload(None);
    p.set_expires_at(&(now - Duration::from_secs(86_400)));
    p.set_not_before(&(now + Duration::from_secs(86_400)));
    assert!(v.validate_at(&keys.sign(Alg::Es256, &p), now).is_ok());
}
