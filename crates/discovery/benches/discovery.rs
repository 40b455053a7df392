//! Metadata serialization: what a `/.well-known/oauth-authorization-server`
//! request costs.
//!
//! `cargo bench -j2 -p certbound-discovery --bench discovery`

use std::hint::black_box;

use certbound_discovery::AuthorizationServerMetadata;

#[global_allocator]
static ALLOC: divan::AllocProfiler = divan::AllocProfiler::system();

fn main() {
    divan::main();
}

fn metadata() -> AuthorizationServerMetadata {
    AuthorizationServerMetadata::builder("https://as.example.com")
        .standard_endpoints()
        .tls_client_certificate_bound_access_tokens(true)
        .auth_methods([
            "tls_client_auth",
            "self_signed_tls_client_auth",
            "client_secret_basic",
        ])
        .mtls_host("mtls.example.com")
        .build()
        .unwrap_or_else(|e| unreachable!("{e}"))
}

/// The document as JSON text (what the service answers).
#[divan::bench]
fn metadata_to_json(b: divan::Bencher) {
    let md = metadata();
    b.bench(|| black_box(&md).to_json());
}

/// Floor: serde_json of an already-built `Value` of the same document.
#[divan::bench]
fn serde_json_value_to_string_baseline(b: divan::Bencher) {
    let value: serde_json::Value =
        serde_json::from_str(&metadata().to_json()).unwrap_or_else(|e| unreachable!("{e}"));
    b.bench(|| serde_json::to_string(black_box(&value)));
}
