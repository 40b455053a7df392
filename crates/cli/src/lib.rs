//! The library half of the `certbound` command: the demo (an authorization
//! server and a resource server over real TLS, with a throw-away PKI) and
//! its built-in client, used by `certbound demo` and the end-to-end tests.
//!
//! ```no_run
//! # async fn run() -> Result<(), certbound_cli::demo::DemoError> {
//! use certbound_cli::demo::{self, DemoConfig};
//!
//! let config = DemoConfig {
//!     out: "target/demo".into(),
//!     addr: "127.0.0.1:0".parse().unwrap(),
//!     mtls_addr: "127.0.0.1:0".parse().unwrap(),
//!     rs_addr: "127.0.0.1:0".parse().unwrap(),
//!     behind_proxy: None,
//!     crl_addr: "127.0.0.1:0".parse().unwrap(),
//!     ..DemoConfig::default()
//! };
//! let running = demo::start(&config).await?;
//! let rows = demo::selftest::run(&running.urls, &running.pki).await;
//! assert!(rows.iter().all(|r| r.ok));
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod demo;
pub mod forward_auth;
