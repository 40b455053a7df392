//! The demo's authorization server as an RFC 9068 issuer, its key rotation,
//! its CRL over HTTP with `certbound demo revoke`, introspection through
//! certbound's `HttpIntrospector` over mTLS, token revocation (RFC 7009),
//! PKCE's `code_challenge` syntax and the private keys' file modes: all
//! against a running demo on loopback, over real TLS and real HTTP.

use std::path::PathBuf;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use certbound_binding::{
    AccessTokenValidator, HttpIntrospector, Introspect, IntrospectionValidator,
};
use certbound_cli::demo::client::{DemoClient, Response};
use certbound_cli::demo::{self, DemoConfig, Identity, RunningDemo};
use certbound_fetch::Fetcher;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use serde_json::Value;
use sha2::{Digest, Sha256};

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("certbound-day2-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn config(out: &std::path::Path) -> DemoConfig {
    DemoConfig {
        out: out.to_path_buf(),
        addr: "127.0.0.1:0".parse().unwrap(),
        mtls_addr: "127.0.0.1:0".parse().unwrap(),
        rs_addr: "127.0.0.1:0".parse().unwrap(),
        crl_addr: "127.0.0.1:0".parse().unwrap(),
        ..DemoConfig::default()
    }
}

fn client(demo: &RunningDemo, id: Option<&Identity>) -> DemoClient {
    DemoClient::new(&demo.pki.ca.cert_pem, id).unwrap()
}

async fn token(demo: &RunningDemo, id: &Identity, client_id: &str) -> Response {
    client(demo, Some(id))
        .post_form(
            &format!("{}/token", demo.urls.mtls_base),
            &[],
            &[
                ("grant_type", "client_credentials"),
                ("client_id", client_id),
                ("scope", "read"),
            ],
        )
        .await
        .unwrap()
}

async fn resource(demo: &RunningDemo, id: &Identity, token: &str) -> Response {
    let auth = format!("Bearer {token}");
    client(demo, Some(id))
        .get(&demo.urls.resource, &[("authorization", auth.as_str())])
        .await
        .unwrap()
}

/// base64url, then JSON: no certbound code involved.
fn decode_part(token: &str, n: usize) -> Value {
    let part = token.split('.').nth(n).expect("three parts");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("base64url")).expect("JSON")
}

fn published_kids(jwks: &Value) -> Vec<String> {
    jwks["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .map(|k| k["kid"].as_str().expect("kid").to_owned())
        .collect()
}

fn thumbprint(id: &Identity) -> String {
    certbound_cert::Certificate::from_der(id.cert_der.clone())
        .unwrap()
        .thumbprint()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issued_tokens_pass_an_independent_rfc_9068_check() {
    let out = temp_dir("rfc9068");
    let demo = demo::start(&config(&out)).await.unwrap();

    let res = token(&demo, &demo.pki.pki_client, "pki-client").await;
    assert_eq!(res.status, 200, "{:?}", res.body);
    assert_eq!(res.header("cache-control"), "no-store");
    let body = res.json();
    assert_eq!(body["token_type"], "Bearer");
    assert!(body["expires_in"].is_u64());
    let jwt = body["access_token"].as_str().unwrap();

    // RFC 9068 §2.1: the header.
    let header = decode_part(jwt, 0);
    assert_eq!(header["typ"], "at+jwt");
    assert_eq!(header["alg"], "ES256");
    let kid = header["kid"].as_str().expect("kid in the header");

    // The kid is in the JWKS the AS serves at its jwks_uri (from discovery).
    let discovery = client(&demo, None)
        .get(
            &format!(
                "{}/.well-known/oauth-authorization-server",
                demo.urls.issuer
            ),
            &[],
        )
        .await
        .unwrap()
        .json();
    let jwks_uri = discovery["jwks_uri"].as_str().unwrap();
    let jwks_res = client(&demo, None).get(jwks_uri, &[]).await.unwrap();
    assert_eq!(jwks_res.status, 200);
    assert!(jwks_res.header("etag").starts_with('"'));
    assert!(jwks_res.header("cache-control").contains("max-age="));
    let jwks = jwks_res.json();
    assert!(published_kids(&jwks).contains(&kid.to_owned()));
    for key in jwks["keys"].as_array().unwrap() {
        assert!(key.get("d").is_none(), "private key material published");
    }

    // RFC 9068 §2.2: the claims, dates as integers.
    let claims = decode_part(jwt, 1);
    assert_eq!(claims["iss"], demo.urls.issuer.as_str());
    assert_eq!(claims["sub"], "pki-client");
    assert_eq!(claims["client_id"], "pki-client");
    assert_eq!(
        claims["aud"],
        demo.urls.resource.trim_end_matches("/resource")
    );
    assert_eq!(claims["scope"], "read");
    let iat = claims["iat"].as_u64().expect("integer iat");
    let exp = claims["exp"].as_u64().expect("integer exp");
    assert!(claims["iat"].is_u64() && !claims["iat"].is_f64());
    assert!(claims["exp"].is_u64() && !claims["exp"].is_f64());
    assert!(exp > iat);
    assert!(!claims["jti"].as_str().expect("jti").is_empty());
    // RFC 8705 §3.1: bound to the client's certificate.
    assert_eq!(claims["cnf"]["x5t#S256"], thumbprint(&demo.pki.pki_client));

    // Two tokens, two jti.
    let again = token(&demo, &demo.pki.pki_client, "pki-client")
        .await
        .json();
    let again = decode_part(again["access_token"].as_str().unwrap(), 1);
    assert_ne!(again["jti"], claims["jti"]);

    // Token-endpoint errors are RFC 6749 §5.2 bodies.
    let res = client(&demo, Some(&demo.pki.pki_client))
        .post_form(
            &format!("{}/token", demo.urls.mtls_base),
            &[],
            &[("grant_type", "password"), ("client_id", "pki-client")],
        )
        .await
        .unwrap();
    assert_eq!(res.status, 400);
    assert_eq!(res.json()["error"], "unsupported_grant_type");

    drop(demo);
    let _ = std::fs::remove_dir_all(&out);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduled_rotation_changes_the_kid_and_the_resource_server_follows() {
    let out = temp_dir("rotation");
    let mut cfg = config(&out);
    cfg.rotate_signing_key = Some(Duration::from_secs(1));
    let demo = demo::start(&cfg).await.unwrap();

    let first = token(&demo, &demo.pki.pki_client, "pki-client")
        .await
        .json();
    let first = first["access_token"].as_str().unwrap().to_owned();
    let first_kid = decode_part(&first, 0)["kid"].as_str().unwrap().to_owned();
    assert_eq!(
        resource(&demo, &demo.pki.pki_client, &first).await.status,
        200
    );

    // Wait (bounded) for the schedule to put a new key in place.
    let mut second = String::new();
    for _ in 0..40 {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let t = token(&demo, &demo.pki.pki_client, "pki-client")
            .await
            .json();
        let t = t["access_token"].as_str().unwrap().to_owned();
        if decode_part(&t, 0)["kid"] != first_kid.as_str() {
            second = t;
            break;
        }
    }
    assert!(!second.is_empty(), "the signing key was never rotated");
    let second_kid = decode_part(&second, 0)["kid"].as_str().unwrap().to_owned();
    let jwks = client(&demo, None)
        .get(&format!("{}/jwks", demo.urls.issuer), &[])
        .await
        .unwrap()
        .json();
    let kids = published_kids(&jwks);
    assert!(kids.contains(&first_kid), "the previous key left the JWKS");
    assert!(kids.contains(&second_kid));

    // The resource server learns the new key from the jwks_uri; its
    // unknown-kid interval is at most the rotation period, so it gets there.
    let mut status = 0;
    for _ in 0..40 {
        status = resource(&demo, &demo.pki.pki_client, &second)
            .await
            .status
            .as_u16();
        if status == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(status, 200, "token of the rotated-in key refused");
    // The token signed before the rotation is still good.
    assert_eq!(
        resource(&demo, &demo.pki.pki_client, &first).await.status,
        200
    );

    // Rotation on demand, through the handle the forward-auth tests use.
    let kid = demo.rotate_signing_key().unwrap();
    assert_eq!(demo.signing_keys().current_kid(), kid);

    drop(demo);
    let _ = std::fs::remove_dir_all(&out);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_revoke_is_seen_at_the_next_scheduled_crl_refresh() {
    let out = temp_dir("revoke");
    let mut cfg = config(&out);
    cfg.crl_refresh = Duration::from_secs(1);
    let demo = demo::start(&cfg).await.unwrap();

    // The CRL is served over plain HTTP at the URL the certificates name.
    assert!(demo.urls.crl.starts_with("http://127.0.0.1:"));
    assert!(!demo.urls.crl.ends_with(":0/ca.crl"));
    let (_, cert) = x509_parser::parse_x509_certificate(&demo.pki.pki_client.cert_der).unwrap();
    let named = cert
        .extensions()
        .iter()
        .find_map(|e| match e.parsed_extension() {
            x509_parser::extensions::ParsedExtension::CRLDistributionPoints(dps) => Some(
                dps.iter()
                    .filter_map(|dp| match &dp.distribution_point {
                        Some(x509_parser::extensions::DistributionPointName::FullName(names)) => {
                            Some(names.iter().filter_map(|n| match n {
                                x509_parser::extensions::GeneralName::URI(u) => Some(u.to_string()),
                                _ => None,
                            }))
                        }
                        _ => None,
                    })
                    .flatten()
                    .collect::<Vec<_>>(),
            ),
            _ => None,
        })
        .expect("a CRL distribution point");
    assert_eq!(named, vec![demo.urls.crl.clone()]);
    let crl = DemoClient::plain().get(&demo.urls.crl, &[]).await.unwrap();
    assert_eq!(crl.status, 200);
    let (_, parsed) = x509_parser::parse_x509_crl(&crl.body).unwrap();
    assert_eq!(parsed.iter_revoked_certificates().count(), 0);

    // Verified (and cached) a moment before the revocation.
    assert_eq!(
        token(&demo, &demo.pki.pki_client, "pki-client")
            .await
            .status,
        200
    );
    assert_eq!(
        token(&demo, &demo.pki.san_client, "san-client")
            .await
            .status,
        200
    );

    let cli = std::process::Command::new(env!("CARGO_BIN_EXE_certbound"))
        .args(["demo", "revoke", "--out"])
        .arg(&out)
        .arg("pki-client")
        .output()
        .unwrap();
    assert!(
        cli.status.success(),
        "{}",
        String::from_utf8_lossy(&cli.stderr)
    );
    let crl = DemoClient::plain().get(&demo.urls.crl, &[]).await.unwrap();
    let (_, parsed) = x509_parser::parse_x509_crl(&crl.body).unwrap();
    let serials: Vec<_> = parsed
        .iter_revoked_certificates()
        .map(|r| r.raw_serial().to_vec())
        .collect();
    assert_eq!(serials, [cert.raw_serial().to_vec()]);

    // No refresh asked for: the schedule (--crl-refresh 1) brings it in.
    let mut res = token(&demo, &demo.pki.pki_client, "pki-client").await;
    for _ in 0..60 {
        if res.status != 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
        res = token(&demo, &demo.pki.pki_client, "pki-client").await;
    }
    assert_eq!(res.status, 401);
    assert_eq!(res.json()["error"], "invalid_client");
    // The others keep working.
    assert_eq!(
        token(&demo, &demo.pki.san_client, "san-client")
            .await
            .status,
        200
    );
    assert_eq!(
        token(&demo, &demo.pki.self_signed_client, "self-signed-client")
            .await
            .status,
        200
    );

    // Revoking is idempotent; an unknown client is bad input.
    let again = std::process::Command::new(env!("CARGO_BIN_EXE_certbound"))
        .args(["demo", "revoke", "--out"])
        .arg(&out)
        .arg("pki-client")
        .output()
        .unwrap();
    assert!(again.status.success());
    let bad = std::process::Command::new(env!("CARGO_BIN_EXE_certbound"))
        .args(["demo", "revoke", "--out"])
        .arg(&out)
        .arg("public-client")
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));

    drop(demo);
    let _ = std::fs::remove_dir_all(&out);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_introspector_against_the_demo_as_over_mtls() {
    let out = temp_dir("introspect");
    let demo = demo::start(&config(&out)).await.unwrap();
    let rs_identity = &demo.pki.pki_client;
    let fetcher = Fetcher::for_operator_urls()
        .crypto_provider(std::sync::Arc::new(rustls::crypto::ring::default_provider()))
        .add_root_certificate(CertificateDer::from(demo.pki.ca.cert_der.clone()))
        .identity(
            vec![CertificateDer::from(rs_identity.cert_der.clone())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(rs_identity.key_der.clone())),
        )
        .build()
        .unwrap();
    let endpoint = format!("{}/introspect", demo.urls.mtls_base);
    let introspector = HttpIntrospector::mtls(fetcher.clone(), endpoint.clone(), "pki-client");

    let issued = token(&demo, &demo.pki.san_client, "san-client")
        .await
        .json();
    let jwt = issued["access_token"].as_str().unwrap().to_owned();

    // Active, with the binding.
    let response = introspector.introspect(&jwt).await.unwrap();
    assert_eq!(response["active"], true);
    assert_eq!(response["client_id"], "san-client");
    assert_eq!(
        response["cnf"]["x5t#S256"],
        thumbprint(&demo.pki.san_client)
    );
    assert!(response["exp"].is_u64());

    // Through IntrospectionValidator, as a resource server uses it.
    let validator = IntrospectionValidator::new(introspector.clone())
        .issuer(demo.urls.issuer.clone())
        .audience(demo.urls.resource.trim_end_matches("/resource"));
    let claims = validator.validate(&jwt).await.unwrap();
    assert_eq!(claims.client_id(), Some("san-client"));

    // Inactive: an unknown token, and the token once revoked (RFC 7009).
    let response = introspector.introspect("not-a-token").await.unwrap();
    assert_eq!(response, serde_json::json!({"active": false}));
    let revoked = client(&demo, Some(&demo.pki.san_client))
        .post_form(
            &format!("{}/revoke", demo.urls.mtls_base),
            &[],
            &[("client_id", "san-client"), ("token", jwt.as_str())],
        )
        .await
        .unwrap();
    assert_eq!(revoked.status, 200);
    let response = introspector.introspect(&jwt).await.unwrap();
    assert_eq!(response["active"], false);
    assert!(validator.validate(&jwt).await.is_err());

    // Without the mTLS identity, the endpoint refuses the caller.
    let anonymous = Fetcher::for_operator_urls()
        .crypto_provider(std::sync::Arc::new(rustls::crypto::ring::default_provider()))
        .add_root_certificate(CertificateDer::from(demo.pki.ca.cert_der.clone()))
        .build()
        .unwrap();
    let refused = HttpIntrospector::mtls(anonymous, endpoint, "pki-client")
        .introspect(&jwt)
        .await;
    assert!(refused.is_err(), "{refused:?}");

    drop(demo);
    let _ = std::fs::remove_dir_all(&out);
}

async fn post(demo: &RunningDemo, id: &Identity, path: &str, form: &[(&str, &str)]) -> Response {
    client(demo, Some(id))
        .post_form(&format!("{}{path}", demo.urls.mtls_base), &[], form)
        .await
        .unwrap()
}

/// What introspection (asked by pki-client) says about `token`.
async fn introspect(demo: &RunningDemo, token: &str) -> Value {
    let res = post(
        demo,
        &demo.pki.pki_client,
        "/introspect",
        &[("client_id", "pki-client"), ("token", token)],
    )
    .await;
    assert_eq!(res.status, 200);
    res.json()
}

/// `client_id` (authenticated as `id`) asks to revoke `token`.
async fn revoke(demo: &RunningDemo, id: &Identity, client_id: &str, token: &str) -> Response {
    post(
        demo,
        id,
        "/revoke",
        &[("client_id", client_id), ("token", token)],
    )
    .await
}

/// RFC 7009 §2.1: the server verifies that the token was issued to the
/// client asking for its revocation, and refuses otherwise; §2.2: an
/// unknown token is answered 200.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revocation_refuses_a_token_issued_to_another_client() {
    let out = temp_dir("revoke-other");
    let demo = demo::start(&config(&out)).await.unwrap();
    let pki = demo.pki.clone();
    let res = token(&demo, &pki.pki_client, "pki-client").await;
    assert_eq!(res.status, 200);
    let victim = res.json()["access_token"].as_str().unwrap().to_owned();
    assert_eq!(introspect(&demo, &victim).await["active"], true);

    // san-client, authenticated as itself, may not revoke pki-client's token.
    let refused = revoke(&demo, &pki.san_client, "san-client", &victim).await;
    assert_eq!(refused.status, 400);
    assert_eq!(refused.json()["error"], "unauthorized_client");
    // The description does not say whose token it is.
    assert!(
        !String::from_utf8_lossy(&refused.body).contains("pki-client"),
        "{}",
        String::from_utf8_lossy(&refused.body)
    );
    assert_eq!(introspect(&demo, &victim).await["active"], true);

    // Nor can the public client, unauthenticated.
    let refused = revoke(&demo, &pki.public_client, "public-client", &victim).await;
    assert_eq!(refused.status, 400);
    assert_eq!(introspect(&demo, &victim).await["active"], true);

    // An unknown token: 200, nothing to do.
    let unknown = revoke(&demo, &pki.san_client, "san-client", "not-a-token").await;
    assert_eq!(unknown.status, 200);

    // pki-client revokes its own token.
    let own = revoke(&demo, &pki.pki_client, "pki-client", &victim).await;
    assert_eq!(own.status, 200);
    assert_eq!(introspect(&demo, &victim).await["active"], false);

    drop(demo);
    let _ = std::fs::remove_dir_all(&out);
}

/// An authorization code with PKCE for `public-client`: the token response.
async fn public_client_tokens(demo: &RunningDemo) -> Value {
    let verifier = "certbound-test-code-verifier-0123456789-abcdefghijklmnop";
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let authorize = format!(
        "{}/authorize?response_type=code&client_id=public-client&redirect_uri={}&code_challenge={challenge}&code_challenge_method=S256",
        demo.urls.issuer,
        demo::client::form_encode(demo::PUBLIC_CLIENT_REDIRECT_URI),
    );
    let res = client(demo, None).get(&authorize, &[]).await.unwrap();
    assert_eq!(res.status, 302);
    let code = res
        .header("location")
        .split(['?', '&'])
        .find_map(|p| p.strip_prefix("code="))
        .unwrap()
        .to_owned();
    let res = post(
        demo,
        &demo.pki.public_client,
        "/token",
        &[
            ("grant_type", "authorization_code"),
            ("client_id", "public-client"),
            ("code", code.as_str()),
            ("redirect_uri", demo::PUBLIC_CLIENT_REDIRECT_URI),
            ("code_verifier", verifier),
        ],
    )
    .await;
    assert_eq!(res.status, 200);
    res.json()
}

async fn refresh(demo: &RunningDemo, refresh_token: &str) -> Response {
    post(
        demo,
        &demo.pki.public_client,
        "/token",
        &[
            ("grant_type", "refresh_token"),
            ("client_id", "public-client"),
            ("refresh_token", refresh_token),
        ],
    )
    .await
}

/// The public client revokes its own refresh token by its `client_id`, as
/// the metadata advertises (`none`), and the refresh token no longer
/// refreshes; the access tokens issued under it are revoked with it
/// (RFC 7009 §2.1). Another client may not revoke it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_client_revokes_its_refresh_token_which_then_no_longer_refreshes() {
    let out = temp_dir("revoke-refresh");
    let demo = demo::start(&config(&out)).await.unwrap();
    let pki = demo.pki.clone();

    // The metadata says which endpoints take `none`: token and revocation,
    // not introspection (authenticated clients only).
    let md = client(&demo, None)
        .get(
            &format!(
                "{}/.well-known/oauth-authorization-server",
                demo.urls.issuer
            ),
            &[],
        )
        .await
        .unwrap()
        .json();
    let has_none = |field: &str| {
        md[field]
            .as_array()
            .unwrap_or_else(|| panic!("{field}: {md}"))
            .iter()
            .any(|v| v == "none")
    };
    assert!(has_none("token_endpoint_auth_methods_supported"), "{md}");
    assert!(
        has_none("revocation_endpoint_auth_methods_supported"),
        "{md}"
    );
    assert!(
        !has_none("introspection_endpoint_auth_methods_supported"),
        "{md}"
    );
    let anonymous = client(&demo, None)
        .post_form(
            &format!("{}/introspect", demo.urls.mtls_base),
            &[],
            &[("client_id", "public-client"), ("token", "x")],
        )
        .await
        .unwrap();
    assert_eq!(anonymous.status, 401);

    let tokens = public_client_tokens(&demo).await;
    let refresh_token = tokens["refresh_token"].as_str().unwrap().to_owned();
    let first_access = tokens["access_token"].as_str().unwrap().to_owned();
    let res = refresh(&demo, &refresh_token).await;
    assert_eq!(res.status, 200);
    let refreshed_access = res.json()["access_token"].as_str().unwrap().to_owned();
    assert_eq!(introspect(&demo, &first_access).await["active"], true);
    assert_eq!(introspect(&demo, &refreshed_access).await["active"], true);

    // Another client may not revoke it.
    let refused = revoke(&demo, &pki.pki_client, "pki-client", &refresh_token).await;
    assert_eq!(refused.status, 400);
    assert_eq!(refresh(&demo, &refresh_token).await.status, 200);

    // The public client revokes it.
    let revoked = post(
        &demo,
        &pki.public_client,
        "/revoke",
        &[
            ("client_id", "public-client"),
            ("token", refresh_token.as_str()),
            ("token_type_hint", "refresh_token"),
        ],
    )
    .await;
    assert_eq!(
        revoked.status,
        200,
        "{}",
        String::from_utf8_lossy(&revoked.body)
    );

    // The refresh grant refuses it, and its access tokens are inactive.
    let again = refresh(&demo, &refresh_token).await;
    assert_eq!(again.status, 400);
    assert_eq!(again.json()["error"], "invalid_grant");
    assert_eq!(introspect(&demo, &first_access).await["active"], false);
    assert_eq!(introspect(&demo, &refreshed_access).await["active"], false);

    // Revoking it again is answered 200 (RFC 7009 §2.2).
    let twice = revoke(&demo, &pki.public_client, "public-client", &refresh_token).await;
    assert_eq!(twice.status, 200);

    drop(demo);
    let _ = std::fs::remove_dir_all(&out);
}

/// RFC 7636 §4.2: a `code_challenge` is 43 to 128 characters of
/// `A-Z a-z 0-9 - . _ ~`; anything else is refused before a code is made.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorize_refuses_a_code_challenge_outside_rfc_7636_syntax() {
    let out = temp_dir("code-challenge");
    let demo = demo::start(&config(&out)).await.unwrap();
    let authorize = |challenge: &str| {
        format!(
            "{}/authorize?response_type=code&client_id=public-client&redirect_uri={}&code_challenge={}&code_challenge_method=S256",
            demo.urls.issuer,
            demo::client::form_encode(demo::PUBLIC_CLIENT_REDIRECT_URI),
            demo::client::form_encode(challenge),
        )
    };
    let cases = [
        ("a".repeat(42), 400),
        ("a".repeat(43), 302),
        ("-._~AZaz09".repeat(12) + "abcdefgh", 302), // 128
        ("a".repeat(129), 400),
        (format!("{}+", "a".repeat(42)), 400),
        (format!("{}=", "a".repeat(43)), 400),
        (format!("{} ", "a".repeat(43)), 400),
        (String::new(), 400),
    ];
    for (challenge, status) in cases {
        let res = client(&demo, None)
            .get(&authorize(&challenge), &[])
            .await
            .unwrap();
        assert_eq!(res.status, status, "code_challenge {challenge:?}");
        if status == 400 {
            assert_eq!(res.json()["error"], "invalid_request");
        }
    }
    drop(demo);
    let _ = std::fs::remove_dir_all(&out);
}

/// The demo CA's key and every private key are readable by their owner
/// alone, also when they replace world-readable files of an earlier run.
#[cfg(unix)]
#[test]
fn private_keys_are_written_readable_by_the_owner_only() {
    use std::os::unix::fs::PermissionsExt as _;
    let out = temp_dir("key-modes");
    let pki = demo::DemoPki::generate().unwrap();
    let keys: Vec<String> = std::iter::once(demo::pki::CA_KEY_FILE.to_owned())
        .chain(pki.named().iter().map(|(name, _)| format!("{name}.key")))
        .collect();
    // An earlier run's files, readable by all.
    std::fs::create_dir_all(&out).unwrap();
    for key in &keys {
        let path = out.join(key);
        std::fs::write(&path, "old").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    pki.write(&out).unwrap();
    for key in &keys {
        let path = out.join(key);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(
            mode & 0o077,
            0,
            "{key} is readable by others: mode {mode:o}"
        );
        assert!(
            std::fs::read_to_string(&path)
                .unwrap()
                .starts_with("-----BEGIN PRIVATE KEY-----"),
            "{key}"
        );
    }
    // The certificates stay readable.
    let mode = std::fs::metadata(out.join("ca.pem"))
        .unwrap()
        .permissions()
        .mode();
    assert_ne!(mode & 0o400, 0);
    let _ = std::fs::remove_dir_all(&out);
}
