//! A proxy that appends the client's certificate header instead of
//! replacing it (Apache `RequestHeader append`, HAProxy `add-header`, a
//! copied `$http_` variable in nginx) hands the application two values in
//! one: the client's, then its own. An attacker who holds only the public
//! certificate of another client sends that certificate in the header;
//! the proxy appends the attacker's real one. certbound must refuse every
//! such value at the token endpoint and at the resource server, whatever
//! the format, the separator or the END line.
//!
//! The demo runs in `--behind-proxy` mode; this test is the (misconfigured)
//! trusted proxy: it connects from 127.0.0.1, which the demo trusts, and
//! sends the combined values itself. The values come from the one generator
//! the extractor's and `certbound inspect`'s tests use
//! (`certbound_testkit::hostile::combined_header_values`). Two victims: a
//! `tls_client_auth` client of the demo's PKI and a
//! `self_signed_tls_client_auth` client. `tests/proxies_e2e.rs` does the
//! same through a real appending proxy over real TLS.

use std::net::SocketAddr;

use certbound_cli::demo::Identity;
use certbound_cli::demo::client::{DemoClient, Response};
use certbound_cli::demo::{self, DemoConfig, ProxyMode, RunningDemo};
use certbound_testkit::hostile::{combined_header_values, header_value};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Demo {
    running: RunningDemo,
    base: String,
    header: &'static str,
    dir: std::path::PathBuf,
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn start(format: &str, header: &'static str) -> Demo {
    let dir = std::env::temp_dir().join(format!(
        "certbound-combined-{format}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    let mut last = String::new();
    for _ in 0..3 {
        let listen = SocketAddr::from(([127, 0, 0, 1], free_port()));
        let config = DemoConfig {
            out: dir.clone(),
            addr: "127.0.0.1:0".parse().unwrap(),
            mtls_addr: "127.0.0.1:0".parse().unwrap(),
            rs_addr: "127.0.0.1:0".parse().unwrap(),
            behind_proxy: Some(ProxyMode {
                listen,
                public_url: format!("http://{listen}"),
                trusted_proxies: vec!["127.0.0.1/32".parse().unwrap()],
                cert_header: header.parse().unwrap(),
                cert_format: format.parse().unwrap(),
            }),
            crl_addr: "127.0.0.1:0".parse().unwrap(),
            ..DemoConfig::default()
        };
        match demo::start(&config).await {
            Ok(running) => {
                return Demo {
                    running,
                    base: format!("http://{listen}"),
                    header,
                    dir,
                };
            }
            Err(e) => last = e.to_string(),
        }
    }
    panic!("the demo did not start behind a proxy ({format}): {last}");
}

impl Demo {
    fn headers<'a>(
        &'a self,
        lines: &'a [String],
        extra: &[(&'a str, &'a str)],
    ) -> Vec<(&'a str, &'a str)> {
        let mut headers: Vec<(&str, &str)> =
            lines.iter().map(|l| (self.header, l.as_str())).collect();
        headers.extend_from_slice(extra);
        headers
    }

    async fn token(&self, client_id: &str, lines: &[String]) -> Response {
        DemoClient::plain()
            .post_form(
                &format!("{}/token", self.base),
                &self.headers(lines, &[]),
                &[
                    ("grant_type", "client_credentials"),
                    ("client_id", client_id),
                ],
            )
            .await
            .unwrap()
    }

    async fn resource(&self, lines: &[String], token: &str) -> Response {
        let auth = format!("Bearer {token}");
        DemoClient::plain()
            .get(
                &format!("{}/resource", self.base),
                &self.headers(lines, &[("authorization", auth.as_str())]),
            )
            .await
            .unwrap()
    }
}

/// For each victim (a client of the demo, `client_id` and certificate),
/// the victim's token is taken the honest way (its own value alone), then
/// every combined value of the victim's public certificate and the
/// intruder's own is tried at both ends: a 400 `invalid_request` each time,
/// never a token, never the resource.
async fn combined_values_are_refused(format: &str, header: &'static str) {
    let demo = start(format, header).await;
    let pki = &demo.running.pki;
    let victims: [(&str, &Identity); 2] = [
        ("pki-client", &pki.pki_client),
        ("self-signed-client", &pki.self_signed_client),
    ];
    for (client_id, victim) in victims {
        let honest = vec![header_value(format, &victim.cert_der)];
        let res = demo.token(client_id, &honest).await;
        assert_eq!(
            res.status, 200,
            "{format}, {client_id}: honest token request: {res:?}"
        );
        let token = res.json()["access_token"].as_str().unwrap().to_owned();
        let res = demo.resource(&honest, &token).await;
        assert_eq!(
            res.status, 200,
            "{format}, {client_id}: honest resource request: {res:?}"
        );

        let cases = combined_header_values(format, &victim.cert_der, &pki.intruder.cert_der);
        assert!(cases.len() >= 4, "{format}: too few combined cases");
        for (case, lines) in &cases {
            let res = demo.token(client_id, lines).await;
            assert_eq!(
                (res.status.as_u16(), res.json()["error"].as_str()),
                (400, Some("invalid_request")),
                "{format}, {client_id}, {case}: the token endpoint answered {res:?}"
            );
            assert!(
                res.json().get("access_token").is_none(),
                "{format}, {client_id}, {case}: a token was issued"
            );
            let res = demo.resource(lines, &token).await;
            assert_eq!(
                res.status, 400,
                "{format}, {client_id}, {case}: the resource server answered {res:?}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn combined_rfc9440_values_are_refused_at_both_ends() {
    combined_values_are_refused("rfc9440", "client-cert").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn combined_url_encoded_pem_values_are_refused_at_both_ends() {
    combined_values_are_refused("pem-urlencoded", "x-ssl-client-cert").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn combined_pem_values_are_refused_at_both_ends() {
    combined_values_are_refused("pem", "x-ssl-client-cert").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn combined_der_base64_values_are_refused_at_both_ends() {
    combined_values_are_refused("der-base64", "x-ssl-client-der").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn combined_xfcc_values_are_refused_at_both_ends() {
    combined_values_are_refused("xfcc", "x-forwarded-client-cert").await;
}
