//! Where the client certificate comes from.
#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod client_cert;

pub use client_cert::{CertSource, ClientCert};
