//! Shared test support: the published vectors as DER, and header values
//! built the way each proxy documents them.
#![allow(dead_code, unreachable_pub)]

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use certbound_cert::pem;
use certbound_testkit::vectors;
use sha2::{Digest, Sha256};

/// Certificates, leaf first, with their expected thumbprints.
pub struct Fixture {
    pub pems: Vec<String>,
    pub ders: Vec<Vec<u8>>,
    pub thumbprints: Vec<&'static str>,
}

pub fn rfc8705() -> Fixture {
    fixture(
        vectors::RFC8705_APPENDIX_A_PEM,
        &[vectors::RFC8705_APPENDIX_A_X5T_S256],
    )
}

pub fn rfc9440() -> Fixture {
    fixture(
        vectors::RFC9440_EXAMPLE_CHAIN_PEM,
        &vectors::RFC9440_EXAMPLE_CHAIN_X5T_S256,
    )
}

fn fixture(text: &str, thumbprints: &[&'static str]) -> Fixture {
    let ders: Vec<Vec<u8>> = pem::parse_certificates(text)
        .unwrap()
        .iter()
        .map(|c| c.der().to_vec())
        .collect();
    Fixture {
        pems: ders.iter().map(|d| pem::encode_certificate(d)).collect(),
        ders,
        thumbprints: thumbprints.to_vec(),
    }
}

pub fn b64(der: &[u8]) -> String {
    STANDARD.encode(der)
}

pub fn sha256_hex(der: &[u8]) -> String {
    hex::encode(Sha256::digest(der))
}

pub mod tls;
