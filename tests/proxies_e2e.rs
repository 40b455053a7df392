//! The demo behind real reverse proxies: nginx, HAProxy, Apache httpd and Caddy,
//! started on loopback with the configurations from `examples/proxies/`,
//! terminating TLS with client certificates and forwarding the certificate
//! in a header to the demo in behind-proxy mode. Every self-test scenario
//! runs through the proxy, and a client that forges the certificate header
//! gets nowhere.
//!
//! A missing proxy binary skips its test with a loud message; with
//! `CI=true` it fails the test instead.

mod support;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use certbound_cli::demo::client::DemoClient;
use certbound_cli::demo::{self, DemoConfig, Identity, ProxyMode, RunningDemo, selftest};
use support::{
    APACHE, CADDY, HAPROXY, NGINX, ProxyKind, ProxyProcess, find_binary, free_port, render,
};

/// Everything one proxy test holds; dropped in order: proxy, then demo.
struct Setup {
    proxy: ProxyProcess,
    demo: RunningDemo,
    dir: PathBuf,
}

impl Drop for Setup {
    fn drop(&mut self) {
        // The proxy and the demo stop in their own Drop (right after this);
        // a failure message already carries the proxy's logs.
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The configuration template of `kind` from `examples/proxies/`.
fn template(kind: &ProxyKind) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/proxies")
        .join(kind.template);
    std::fs::read_to_string(&path).unwrap()
}

/// Starts the demo and the proxy in front of it with the configuration from
/// `examples/proxies/`.
async fn start(kind: &ProxyKind, binary: &Path) -> Setup {
    start_with(kind, binary, &template(kind)).await
}

/// Starts the demo and the proxy in front of it with this configuration
/// template. The ports are picked free and then handed over, so another
/// process may take one in between: that attempt is retried with new ports.
async fn start_with(kind: &ProxyKind, binary: &Path, template: &str) -> Setup {
    let mut failures = Vec::new();
    for attempt in 1..=3 {
        match try_start(kind, binary, template, attempt).await {
            Ok(setup) => return setup,
            Err(e) => failures.push(format!("attempt {attempt}: {e}")),
        }
    }
    panic!(
        "{} could not be started:\n{}",
        kind.name,
        failures.join("\n")
    );
}

async fn try_start(
    kind: &ProxyKind,
    binary: &Path,
    template: &str,
    attempt: u32,
) -> Result<Setup, String> {
    let dir = std::env::temp_dir().join(format!(
        "certbound-proxy-e2e-{}-{}-{attempt}",
        kind.name,
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    let rundir = dir.join("run");
    let out = dir.join("demo");
    std::fs::create_dir_all(&rundir).unwrap();

    // The demo does not report back a port-0 listener in behind-proxy mode:
    // pick both ports first.
    let upstream = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let listen = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let config = DemoConfig {
        out: out.clone(),
        addr: "127.0.0.1:0".parse().unwrap(),
        mtls_addr: "127.0.0.1:0".parse().unwrap(),
        rs_addr: "127.0.0.1:0".parse().unwrap(),
        behind_proxy: Some(ProxyMode {
            listen: upstream,
            public_url: format!("https://{listen}"),
            trusted_proxies: vec!["127.0.0.1/32".parse().unwrap()],
            cert_header: kind.header.parse().unwrap(),
            cert_format: kind.format.parse().unwrap(),
        }),
        crl_addr: "127.0.0.1:0".parse().unwrap(),
        ..DemoConfig::default()
    };
    let running = demo::start(&config).await.map_err(|e| {
        let _ = std::fs::remove_dir_all(&dir);
        format!("demo on {upstream}: {e}")
    })?;

    // HAProxy wants the certificate and its key in one file.
    let cert = out.join("server.pem");
    let key = out.join("server.key");
    let cert_key = rundir.join("server-with-key.pem");
    std::fs::write(
        &cert_key,
        std::fs::read_to_string(&cert).unwrap() + &std::fs::read_to_string(&key).unwrap(),
    )
    .unwrap();

    let rendered = render(
        template,
        &[
            ("LISTEN", listen.to_string()),
            ("LISTEN_HOST", listen.ip().to_string()),
            ("UPSTREAM", upstream.to_string()),
            ("CERT", cert.display().to_string()),
            ("KEY", key.display().to_string()),
            ("CERT_KEY", cert_key.display().to_string()),
            ("CA", out.join("ca.pem").display().to_string()),
            ("RUNDIR", rundir.display().to_string()),
        ],
    );
    let conf = rundir.join(kind.template);
    std::fs::write(&conf, rendered).unwrap();

    let proxy = match ProxyProcess::spawn(kind, binary, &conf, &rundir, listen).await {
        Ok(proxy) => proxy,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&dir);
            return Err(e);
        }
    };

    Ok(Setup {
        proxy,
        demo: running,
        dir,
    })
}

/// `id`'s certificate written the way `format` carries it in a header, as a
/// client would forge it.
fn forged_header(format: &str, id: &Identity) -> String {
    let pem = id.cert_pem.trim();
    match format {
        // nginx's $ssl_client_escaped_cert: URL-encoded PEM.
        "pem-urlencoded" => certbound_testkit::nginx_escaped_cert(pem),
        // HAProxy's %[ssl_c_der,base64]: the PEM body is exactly that.
        "der-base64" => pem.lines().filter(|l| !l.starts_with("-----")).collect(),
        // Apache's %{SSL_CLIENT_CERT}s through mod_headers: newlines become spaces.
        "pem" => pem.lines().collect::<Vec<_>>().join(" "),
        other => panic!("no forgery for format {other}"),
    }
}

/// Every self-test scenario through the proxy, then the forgeries.
async fn scenarios_hold_behind(kind: &ProxyKind) {
    let Some(binary) = find_binary(kind) else {
        return;
    };
    let setup = start(kind, &binary).await;
    let urls = &setup.demo.urls;
    let pki = &setup.demo.pki;
    assert!(urls.issuer.starts_with("https://127.0.0.1:"));

    let rows = selftest::run(urls, pki).await;
    let failed: Vec<_> = rows.iter().filter(|r| !r.ok).collect();
    assert!(
        failed.is_empty(),
        "behind {}:\n{}\n{}",
        kind.name,
        selftest::table(&rows),
        setup.proxy.logs()
    );
    assert!(
        rows.len() >= 11,
        "behind {}: too few scenarios\n{}",
        kind.name,
        selftest::table(&rows)
    );

    let token_url = format!("{}/token", urls.mtls_base);
    let ca = &pki.ca.cert_pem;
    let forged_pki = forged_header(kind.format, &pki.pki_client);
    let forged_intruder = forged_header(kind.format, &pki.intruder);
    let grant = [
        ("grant_type", "client_credentials"),
        ("client_id", "pki-client"),
    ];

    // The intruder presents its own certificate in TLS and pki-client's in
    // the header: the proxy overwrites the header, the intruder is refused.
    let res = DemoClient::new(ca, Some(&pki.intruder))
        .unwrap()
        .post_form(&token_url, &[(kind.header, forged_pki.as_str())], &grant)
        .await
        .unwrap();
    assert_eq!(
        (res.status.as_u16(), res.json()["error"].as_str()),
        (401, Some("invalid_client")),
        "behind {}: intruder with a forged {} header: {:?}\n{}",
        kind.name,
        kind.header,
        res,
        setup.proxy.logs()
    );

    // Without any certificate, the forged header alone is no better.
    let res = DemoClient::new(ca, None)
        .unwrap()
        .post_form(&token_url, &[(kind.header, forged_pki.as_str())], &grant)
        .await
        .unwrap();
    assert_eq!(
        (res.status.as_u16(), res.json()["error"].as_str()),
        (401, Some("invalid_client")),
        "behind {}: no certificate, forged {} header: {:?}\n{}",
        kind.name,
        kind.header,
        res,
        setup.proxy.logs()
    );

    // pki-client with a forged intruder header: the proxy's own header wins
    // (replaced, not appended), so pki-client gets its bound token...
    let res = DemoClient::new(ca, Some(&pki.pki_client))
        .unwrap()
        .post_form(
            &token_url,
            &[(kind.header, forged_intruder.as_str())],
            &grant,
        )
        .await
        .unwrap();
    assert_eq!(
        res.status,
        200,
        "behind {}: pki-client with a forged intruder header: {res:?}\n{}",
        kind.name,
        setup.proxy.logs()
    );
    let token = res.json()["access_token"].as_str().unwrap().to_owned();
    let bearer = format!("Bearer {token}");

    // ...which the intruder cannot use at the resource server by forging
    // pki-client's certificate header next to it.
    let res = DemoClient::new(ca, Some(&pki.intruder))
        .unwrap()
        .get(
            &urls.resource,
            &[
                ("authorization", bearer.as_str()),
                (kind.header, forged_pki.as_str()),
            ],
        )
        .await
        .unwrap();
    assert_eq!(
        res.status,
        401,
        "behind {}: stolen token with a forged {} header: {res:?}\n{}",
        kind.name,
        kind.header,
        setup.proxy.logs()
    );
    assert!(
        res.header("www-authenticate").contains("invalid_token"),
        "behind {}: {res:?}",
        kind.name
    );

    // While pki-client itself, through the same proxy, is served.
    let res = DemoClient::new(ca, Some(&pki.pki_client))
        .unwrap()
        .get(&urls.resource, &[("authorization", bearer.as_str())])
        .await
        .unwrap();
    assert_eq!(res.status, 200, "behind {}: {res:?}", kind.name);
    assert_eq!(res.json()["client_id"], "pki-client");

    drop(setup);
}

/// A MISCONFIGURED proxy, for the negative tests below: the example's
/// configuration with the line that replaces the certificate header
/// (`replacing`, which must be there) swapped for one that appends to the
/// client's own header (`appending`). Never configure a proxy this way.
fn appending_template(kind: &ProxyKind, replacing: &str, appending: &str) -> String {
    let example = template(kind);
    assert!(
        example.contains(replacing),
        "examples/proxies/{} no longer has {replacing:?}",
        kind.template
    );
    example.replace(replacing, appending)
}

/// Behind a proxy that appends instead of replacing, over real TLS: the
/// intruder presents its own certificate and sends a header carrying a
/// victim's public certificate, which the proxy keeps next to its own. The
/// demo refuses the combined value at the token endpoint (400
/// `invalid_request`, no token) and at the resource server, where a token
/// bound to the victim is refused too. Victims: `pki-client`
/// (`tls_client_auth`) and `self-signed-client`
/// (`self_signed_tls_client_auth`), each served when it comes honestly
/// through the same proxy.
///
/// What no application can catch: a client that presents NO certificate
/// through such a proxy (which then adds nothing) forwards its forged
/// header alone. Only a proxy that replaces (or deletes) the header
/// prevents that; see SECURITY.md.
async fn combined_values_are_refused_behind_an_appending(
    kind: &ProxyKind,
    replacing: &str,
    appending: &str,
) {
    let Some(binary) = find_binary(kind) else {
        return;
    };
    let template = appending_template(kind, replacing, appending);
    let setup = start_with(kind, &binary, &template).await;
    let urls = &setup.demo.urls;
    let pki = &setup.demo.pki;
    let ca = &pki.ca.cert_pem;
    let token_url = format!("{}/token", urls.mtls_base);
    let victims: [(&str, &Identity); 2] = [
        ("pki-client", &pki.pki_client),
        ("self-signed-client", &pki.self_signed_client),
    ];
    for (client_id, victim) in victims {
        let grant = [
            ("grant_type", "client_credentials"),
            ("client_id", client_id),
        ];
        let behind = format!("behind an appending {}, {client_id}", kind.name);

        // The victim itself, honest, through the same proxy.
        let res = DemoClient::new(ca, Some(victim))
            .unwrap()
            .post_form(&token_url, &[], &grant)
            .await
            .unwrap();
        assert_eq!(res.status, 200, "{behind}: {res:?}\n{}", setup.proxy.logs());
        let token = res.json()["access_token"].as_str().unwrap().to_owned();
        let bearer = format!("Bearer {token}");
        let res = DemoClient::new(ca, Some(victim))
            .unwrap()
            .get(&urls.resource, &[("authorization", bearer.as_str())])
            .await
            .unwrap();
        assert_eq!(res.status, 200, "{behind}: {res:?}");

        // The intruder, its own certificate in TLS, the victim's in the
        // header: the proxy appends its own value to the forged one.
        let forged = forged_header(kind.format, victim);
        let res = DemoClient::new(ca, Some(&pki.intruder))
            .unwrap()
            .post_form(&token_url, &[(kind.header, forged.as_str())], &grant)
            .await
            .unwrap();
        assert_eq!(
            (res.status.as_u16(), res.json()["error"].as_str()),
            (400, Some("invalid_request")),
            "{behind}: intruder with a forged {} header: {res:?}\n{}",
            kind.header,
            setup.proxy.logs()
        );
        assert!(res.json().get("access_token").is_none(), "{behind}");
        let description = res.json()["error_description"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(
            description.contains("combined") && description.contains("not append"),
            "{behind}: {description}"
        );

        // The victim's token with the forged header: refused as well.
        let res = DemoClient::new(ca, Some(&pki.intruder))
            .unwrap()
            .get(
                &urls.resource,
                &[
                    ("authorization", bearer.as_str()),
                    (kind.header, forged.as_str()),
                ],
            )
            .await
            .unwrap();
        assert_eq!(
            res.status, 400,
            "{behind}: the victim's token with a forged header: {res:?}"
        );
    }
    drop(setup);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn combined_values_are_refused_behind_haproxy_adding_instead_of_setting() {
    // `add-header` keeps the client's own X-SSL-Client-Der line and adds
    // the proxy's: two field lines.
    combined_values_are_refused_behind_an_appending(
        &HAPROXY,
        "    http-request del-header X-SSL-Client-Der\n    http-request set-header X-SSL-Client-Der",
        "    http-request add-header X-SSL-Client-Der",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn combined_values_are_refused_behind_nginx_joining_the_clients_header() {
    // The client's header copied in front of the proxy's value: one line
    // holding two PEM blocks (nothing between them, so an honest client,
    // who sends no header, still gets through).
    combined_values_are_refused_behind_an_appending(
        &NGINX,
        "proxy_set_header X-SSL-Client-Cert $ssl_client_escaped_cert;",
        "proxy_set_header X-SSL-Client-Cert \"$http_x_ssl_client_cert$ssl_client_escaped_cert\";",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_scenario_holds_behind_nginx_and_forged_headers_are_replaced() {
    scenarios_hold_behind(&NGINX).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_scenario_holds_behind_haproxy_and_forged_headers_are_replaced() {
    scenarios_hold_behind(&HAPROXY).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_scenario_holds_behind_apache_and_forged_headers_are_replaced() {
    scenarios_hold_behind(&APACHE).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_scenario_holds_behind_caddy_and_forged_headers_are_replaced() {
    scenarios_hold_behind(&CADDY).await;
}
