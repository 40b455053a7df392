//! Every `certbound demo --self-test` scenario, as a test over real TLS on
//! loopback: the demo's hosts in-process (its CRL listener included), its
//! built-in client in front. The day-2 scenarios (key rotation, a revoked
//! client) run last.

use std::collections::BTreeSet;

use certbound_cli::demo::{self, DemoConfig, DemoUrls, selftest};

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("certbound-e2e-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_demo_scenario_holds_over_real_tls() {
    let out = temp_dir("tls");
    let config = DemoConfig {
        out: out.clone(),
        addr: "127.0.0.1:0".parse().unwrap(),
        mtls_addr: "127.0.0.1:0".parse().unwrap(),
        rs_addr: "127.0.0.1:0".parse().unwrap(),
        behind_proxy: None,
        crl_addr: "127.0.0.1:0".parse().unwrap(),
        ..DemoConfig::default()
    };
    let running = demo::start(&config).await.unwrap();

    // The files a user scripts against.
    for file in [
        "ca.pem",
        "ca.key",
        "ca.crl",
        "pki-client.pem",
        "pki-client.key",
        "san-client.pem",
        "san-client.key",
        "self-signed-client.pem",
        "self-signed-client.key",
        "public-client.pem",
        "public-client.key",
        "intruder.pem",
        "intruder.key",
        "clients.json",
        "urls.json",
    ] {
        assert!(out.join(file).is_file(), "{file} was not written");
    }
    let urls: DemoUrls =
        serde_json::from_slice(&std::fs::read(out.join("urls.json")).unwrap()).unwrap();
    assert_eq!(urls, running.urls);
    assert!(urls.resource.ends_with("/resource"));
    let clients: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("clients.json")).unwrap()).unwrap();
    let ids: BTreeSet<&str> = clients
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["client_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        BTreeSet::from([
            "pki-client",
            "san-client",
            "self-signed-client",
            "public-client"
        ])
    );

    let rows = selftest::run_all(&running).await;
    let failed: Vec<_> = rows.iter().filter(|r| !r.ok).collect();
    assert!(failed.is_empty(), "{}", selftest::table(&rows));
    // Each scenario the demo promises is in the table.
    for needle in [
        "discovery",
        "token for pki-client with its certificate",
        "token for san-client with its certificate",
        "token for self-signed-client with its certificate",
        "token for pki-client with intruder's certificate",
        "token for san-client with pki-client's certificate",
        "resource with pki-client's token and certificate",
        "resource with pki-client's token, intruder's certificate",
        "introspection of pki-client's token",
        "refresh of public-client's token with intruder's certificate",
        "refresh of public-client's token with its certificate",
        "resource with a token signed by the rotated-in key",
        "resource with a token signed before the rotation",
        "token for san-client after `demo revoke san-client` and a CRL refresh",
        "token for pki-client after san-client's revocation",
    ] {
        assert!(
            rows.iter().any(|r| r.scenario.contains(needle)),
            "scenario {needle:?} missing"
        );
    }
    drop(running);
    let _ = std::fs::remove_dir_all(&out);
}
