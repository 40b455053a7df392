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
//! sends the combined values itself.

use std::net::SocketAddr;

use certbound_cli::demo::client::{DemoClient, Response};
use certbound_cli::demo::{self, DemoConfig, ProxyMode, RunningDemo};
use certbound_testkit::combined::{CombinedValue, combined_values};

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

    async fn token(&self, lines: &[String]) -> Response {
        DemoClient::plain()
            .post_form(
                &format!("{}/token", self.base),
                &self.headers(lines, &[]),
                &[
                    ("grant_type", "client_credentials"),
                    ("client_id", "pki-client"),
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

/// The victim's token is taken the honest way (its own value alone), then
/// every combined value is tried at both ends.
async fn combined_values_are_refused(format: &str, header: &'static str) {
    let demo = start(format, header).await;
    let victim = &demo.running.pki.pki_client;
    let attacker = &demo.running.pki.intruder;

    let honest = combined_values(format, &victim.cert_der, &victim.cert_der)
        .into_iter()
        .find(|c| c.name == "alone")
        .expect("the generator gives the victim's value alone");
    let res = demo.token(&honest.lines).await;
    assert_eq!(res.status, 200, "{format}: honest token request: {res:?}");
    let token = res.json()["access_token"].as_str().unwrap().to_owned();
    let res = demo.resource(&honest.lines, &token).await;
    assert_eq!(
        res.status, 200,
        "{format}: honest resource request: {res:?}"
    );

    let cases: Vec<CombinedValue> = combined_values(format, &victim.cert_der, &attacker.cert_der)
        .into_iter()
        .filter(|c| c.name != "alone")
        .collect();
    assert!(cases.len() >= 3, "{format}: too few combined cases");
    for case in &cases {
        let res = demo.token(&case.lines).await;
        assert!(
            refused(format, &res),
            "{format} / {}: the token endpoint answered {res:?}",
            case.name
        );
        assert!(
            !res.body
                .windows(b"access_token".len())
                .any(|w| w == b"access_token"),
            "{format} / {}: a token was issued",
            case.name
        );
        let res = demo.resource(&case.lines, &token).await;
        assert!(
            refused(format, &res),
            "{format} / {}: the resource server answered {res:?}",
            case.name
        );
    }
}

/// A combined value is a 400. XFCC is the exception by design: its
/// elements are counted from the right, so the element the proxy appended
/// (the attacker's own certificate) is the one read, and the attacker is
/// refused as itself (401).
fn refused(format: &str, res: &Response) -> bool {
    match format {
        "xfcc" => res.status == 400 || res.status == 401,
        _ => res.status == 400,
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
async fn combined_xfcc_values_never_authenticate_the_victim() {
    combined_values_are_refused("xfcc", "x-forwarded-client-cert").await;
}
