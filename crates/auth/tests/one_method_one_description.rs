//! RFC 6749 hygiene at the token endpoint, through `ClientCertLayer` (an
//! RFC 9440 header from a trusted proxy) and `ClientAuthLayer`: one client
//! authentication method per request (§2.3), and one description for every
//! `invalid_client`.

mod common;

use std::time::{Duration, SystemTime};

use axum::Router;
use axum::body::Bytes;
use axum::routing::post;
use base64::Engine as _;
use certbound_auth::{
    AuthenticatedClient, Authenticator, AuthenticatorBuilder, ClientAuthLayer, ClientJwks,
    ClientMetadata, SelfSignedTlsClientAuth, TlsClientAuth, TokenEndpointAuthMethod,
    registry_from_metadata,
};
use certbound_extract::header::HeaderFormat;
use certbound_extract::{ClientCertLayer, HeaderSource};
use certbound_testkit::{TestCa, TestCert, self_signed};
use common::*;
use http::StatusCode;
use tower::ServiceExt as _;

async fn token(client: Option<AuthenticatedClient>, body: Bytes) -> String {
    let who = client.map_or("none".to_owned(), |c| c.client_id().to_owned());
    format!("{who}\n{}", String::from_utf8_lossy(&body))
}

struct Fixture {
    ca: TestCa,
    device: TestCert,
    revoked: TestCert,
}

impl Fixture {
    fn new() -> Self {
        let ca = TestCa::new("Client CA");
        let revoked = ca.leaf("bank-1").issue();
        Self {
            device: self_signed("device-1").issue(),
            revoked,
            ca,
        }
    }

    fn app(&self, configure: impl FnOnce(AuthenticatorBuilder) -> AuthenticatorBuilder) -> Router {
        let mut device =
            ClientMetadata::new("device-1", TokenEndpointAuthMethod::SelfSignedTlsClientAuth);
        device.jwks = Some(ClientJwks::from_certificates([&cert(&self.device)]));
        // Its key set is published at a URI no fetcher can reach.
        let mut remote =
            ClientMetadata::new("device-2", TokenEndpointAuthMethod::SelfSignedTlsClientAuth);
        remote.jwks_uri = Some("https://device-2.example/jwks.json".into());
        let registry = registry_from_metadata([
            tls_client("bank-1", "tls_client_auth_subject_dn", "CN=bank-1"),
            device,
            remote,
            ClientMetadata::new("web", TokenEndpointAuthMethod::ClientSecretBasic),
            ClientMetadata::new("spa", TokenEndpointAuthMethod::None),
        ])
        .unwrap();
        let tls = TlsClientAuth::new(store(&[&self.ca])).crl(&self.ca.crl(&[&self.revoked.serial]));
        let auth = configure(
            Authenticator::builder(registry)
                .tls_client_auth(tls)
                .self_signed_tls_client_auth(SelfSignedTlsClientAuth::new()),
        )
        .build()
        .unwrap();
        let source = HeaderSource::new(HeaderFormat::Rfc9440)
            .trusted_proxies(["127.0.0.0/8".parse().unwrap()]);
        Router::new()
            .route("/token", post(token))
            .layer(ClientAuthLayer::new(auth))
            .layer(ClientCertLayer::header(source))
    }
}

fn basic(user: &str, secret: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{secret}"))
    )
}

async fn send(
    app: &Router,
    body: &str,
    cert: Option<&TestCert>,
    authorization: Option<&str>,
) -> (StatusCode, String) {
    let mut req = request("/token", body.to_owned(), cert);
    if let Some(value) = authorization {
        req.headers_mut()
            .insert("authorization", value.parse().unwrap());
    }
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    (status, text(res).await)
}

#[tokio::test]
async fn an_mtls_client_with_a_second_method_is_invalid_request() {
    let f = Fixture::new();
    let app = f.app(|b| b);
    let bank = f.ca.leaf("bank-1").issue();
    for (client, leaf) in [("bank-1", &bank), ("device-1", &f.device)] {
        // The control: the certificate alone authenticates.
        let (status, body) = send(&app, &format!("client_id={client}"), Some(leaf), None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(body.starts_with(client), "{body}");

        let cases = [
            (format!("client_id={client}&client_secret=s3cret"), None),
            (
                format!(
                    "client_id={client}&client_assertion=a.b.c&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer"
                ),
                None,
            ),
            (format!("client_id={client}"), Some(basic(client, "s3cret"))),
            // Basic alone names the client.
            (
                "grant_type=client_credentials".to_owned(),
                Some(basic(client, "s3cret")),
            ),
        ];
        for (form, authorization) in cases {
            for presented in [Some(leaf), None] {
                let (status, body) = send(&app, &form, presented, authorization.as_deref()).await;
                assert_eq!(
                    status,
                    StatusCode::BAD_REQUEST,
                    "{form} {authorization:?}: {body}"
                );
                let json: serde_json::Value = serde_json::from_str(&body).unwrap();
                assert_eq!(json["error"], "invalid_request", "{body}");
            }
        }
    }
}

#[tokio::test]
async fn other_clients_with_a_certificate_for_binding_pass_through_untouched() {
    let f = Fixture::new();
    let app = f.app(|b| b);
    // A certificate presented only to bind tokens (RFC 8705 §3).
    let binding = self_signed("binding key").issue();
    let cases = [
        ("client_id=web&client_secret=s3cret", None),
        (
            "grant_type=client_credentials",
            Some(basic("web", "s3cret")),
        ),
        ("client_id=web", Some(basic("web", "s3cret"))),
        ("client_id=spa&code=abc", None),
        // A Basic header naming no registered client is not ours either.
        (
            "grant_type=client_credentials",
            Some(basic("stranger", "x")),
        ),
    ];
    for (form, authorization) in cases {
        let (status, body) = send(&app, form, Some(&binding), authorization.as_deref()).await;
        assert_eq!(status, StatusCode::OK, "{form}: {body}");
        assert_eq!(body, format!("none\n{form}"));
    }
}

/// The bodies of every kind of `invalid_client` refusal.
async fn refusals(app: &Router, f: &Fixture) -> Vec<(&'static str, StatusCode, String)> {
    let now = SystemTime::now();
    let other_ca = TestCa::new("Other CA");
    let expired =
        f.ca.leaf("bank-1")
            .validity(now - 30 * DAY, now - Duration::from_secs(60))
            .issue();
    let wrong = f.ca.leaf("bank-2").issue();
    let untrusted = other_ca.leaf("bank-1").issue();
    let stranger = self_signed("device-1").issue();
    let cases: [(&'static str, &str, Option<&TestCert>); 8] = [
        ("unknown client", "client_id=nobody", Some(&wrong)),
        ("wrong certificate", "client_id=bank-1", Some(&wrong)),
        ("untrusted chain", "client_id=bank-1", Some(&untrusted)),
        ("revoked", "client_id=bank-1", Some(&f.revoked)),
        ("expired", "client_id=bank-1", Some(&expired)),
        ("no certificate", "client_id=bank-1", None),
        (
            "self-signed not registered",
            "client_id=device-1",
            Some(&stranger),
        ),
        ("key set unavailable", "client_id=device-2", Some(&stranger)),
    ];
    let mut out = Vec::new();
    for (what, form, cert) in cases {
        let (status, body) = send(app, form, cert, None).await;
        out.push((what, status, body));
    }
    out
}

#[tokio::test]
async fn every_invalid_client_has_the_same_body() {
    let f = Fixture::new();
    let app = f.app(|b| b);
    let all = refusals(&app, &f).await;
    let (_, _, first) = &all[0];
    let json: serde_json::Value = serde_json::from_str(first).unwrap();
    assert_eq!(json["error"], "invalid_client");
    for (what, status, body) in &all {
        assert_eq!(*status, StatusCode::UNAUTHORIZED, "{what}: {body}");
        assert_eq!(body, first, "{what}");
    }
}

#[tokio::test]
async fn reasons_are_shown_only_when_dangerously_asked() {
    let f = Fixture::new();
    let app = f.app(|b| b.danger_expose_refusal_reasons(true));
    let all = refusals(&app, &f).await;
    let descriptions: Vec<String> = all
        .iter()
        .map(|(what, status, body)| {
            assert_eq!(*status, StatusCode::UNAUTHORIZED, "{what}: {body}");
            let json: serde_json::Value = serde_json::from_str(body).unwrap();
            assert_eq!(json["error"], "invalid_client");
            json["error_description"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(descriptions[0], "unknown client");
    assert!(descriptions[3].contains("revoked"), "{descriptions:?}");
    assert!(descriptions[4].contains("expired"), "{descriptions:?}");
    assert_eq!(descriptions[5], "no client certificate");
    assert!(
        descriptions[7].starts_with("client key set unavailable"),
        "{descriptions:?}"
    );
    let mut distinct = descriptions.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), descriptions.len(), "{descriptions:?}");
}
