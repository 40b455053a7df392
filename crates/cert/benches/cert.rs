//! Per-request costs of certbound-cert, each beside its unavoidable floor.
//!
//! `cargo bench -p certbound-cert --bench cert`

use std::hint::black_box;
use std::sync::LazyLock;

use certbound_cert::{Certificate, DistinguishedName, Thumbprint, pem, san};
use certbound_testkit::TestCa;
use sha2::{Digest, Sha256};

fn main() {
    divan::main();
}

struct Fixture {
    leaf: Certificate,
    pem: String,
    subject: String,
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let ca = TestCa::new("Bench CA");
    let leaf = ca
        .leaf("client-0042")
        .san_dns("client-0042.example.com")
        .san_uri("spiffe://example.com/ns/prod/sa/client-0042")
        .issue();
    let cert = Certificate::from_der(leaf.der).unwrap_or_else(|e| unreachable!("{e}"));
    Fixture {
        subject: cert.subject().to_string(),
        leaf: cert,
        pem: leaf.pem,
    }
});

/// Floor: SHA-256 of the DER with sha2 directly.
#[divan::bench]
fn sha256_raw_baseline(b: divan::Bencher) {
    let der = FIXTURE.leaf.der();
    b.bench(|| Sha256::digest(black_box(der)));
}

/// x5t#S256 of a certificate's DER.
#[divan::bench]
fn thumbprint_of_der(b: divan::Bencher) {
    let der = FIXTURE.leaf.der();
    b.bench(|| Thumbprint::of_der(black_box(der)));
}

/// Reading DER into a `Certificate` (one x509-parser parse and the thumbprint).
#[divan::bench]
fn certificate_from_der(b: divan::Bencher) {
    let der = FIXTURE.leaf.der().to_vec();
    b.bench(|| Certificate::from_der(black_box(der.as_slice())));
}

/// Reading one PEM block into a `Certificate`.
#[divan::bench]
fn certificate_from_pem(b: divan::Bencher) {
    let text = FIXTURE.pem.as_str();
    b.bench(|| pem::parse_certificates(black_box(text)));
}

#[divan::bench]
fn dn_parse(b: divan::Bencher) {
    let s = FIXTURE.subject.as_str();
    b.bench(|| black_box(s).parse::<DistinguishedName>());
}

#[divan::bench]
fn dn_match(b: divan::Bencher) {
    let registered: DistinguishedName = FIXTURE
        .subject
        .to_uppercase()
        .parse()
        .unwrap_or_else(|e| unreachable!("{e}"));
    let presented = FIXTURE.leaf.subject();
    b.bench(|| black_box(&registered).matches(black_box(presented)));
}

#[divan::bench]
fn san_dns_match(b: divan::Bencher) {
    let sans = FIXTURE
        .leaf
        .subject_alt_names()
        .unwrap_or_else(|e| unreachable!("{e}"));
    b.bench(|| black_box(sans).has_dns(black_box("CLIENT-0042.example.com")));
}

#[divan::bench]
fn san_uri_match(b: divan::Bencher) {
    b.bench(|| {
        san::uri_matches(
            black_box("SPIFFE://Example.com/ns/prod/sa/client-0042"),
            black_box("spiffe://example.com/ns/prod/sa/client-0042"),
        )
    });
}
