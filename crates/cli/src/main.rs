//! `certbound`: thumbprints, RFC 4514 names and diagnostics for OAuth 2.0
//! mutual TLS (RFC 8705).
//!
//! Exit codes: 0 success (or "matches"), 1 a negative answer ("does not
//! match", "refused"), 2 bad input. Errors go to stderr, never a panic.
#![forbid(unsafe_code)]
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod check_client;
mod demo_cmd;
mod dn;
mod input;
mod inspect;
mod metadata;
mod thumbprint;
mod verify_token;

/// OAuth 2.0 mutual TLS (RFC 8705) tools.
#[derive(Debug, Parser)]
#[command(name = "certbound", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the real client authenticator on a certificate and a registration, printing every check.
    CheckClient(check_client::Args),
    /// Run an authorization server and a resource server on loopback over real TLS.
    Demo(demo_cmd::Args),
    /// Print the x5t#S256 thumbprint of each certificate, one per line.
    Thumbprint(thumbprint::Args),
    /// Normalize, compare and extract RFC 4514 distinguished names.
    #[command(subcommand)]
    Dn(dn::Command),
    /// Decode a proxy's client-certificate header value and show each certificate.
    Inspect(inspect::Args),
    /// Make or check authorization server metadata with RFC 8705 mTLS endpoint aliases.
    Metadata(metadata::Args),
    /// Check a JWT access token and its certificate binding, printing each verdict.
    VerifyToken(verify_token::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::CheckClient(args) => check_client::run(args),
        Command::Demo(args) => demo_cmd::run(args),
        Command::Thumbprint(args) => thumbprint::run(args),
        Command::Dn(cmd) => dn::run(cmd),
        Command::Inspect(args) => inspect::run(args),
        Command::Metadata(args) => metadata::run(args),
        Command::VerifyToken(args) => verify_token::run(args),
    }
}
