//! `certbound`: thumbprints, RFC 4514 names and diagnostics for OAuth 2.0
//! mutual TLS (RFC 8705).
//!
//! Exit codes: 0 success (or "matches"), 1 a negative answer ("does not
//! match", "refused"), 2 bad input. Errors go to stderr, never a panic.
#![forbid(unsafe_code)]
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod dn;
mod input;
mod metadata;
mod thumbprint;

/// OAuth 2.0 mutual TLS (RFC 8705) tools.
#[derive(Debug, Parser)]
#[command(name = "certbound", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print the x5t#S256 thumbprint of each certificate, one per line.
    Thumbprint(thumbprint::Args),
    /// Normalize, compare and extract RFC 4514 distinguished names.
    #[command(subcommand)]
    Dn(dn::Command),
    /// Make or check authorization server metadata with RFC 8705 mTLS endpoint aliases.
    Metadata(metadata::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Thumbprint(args) => thumbprint::run(args),
        Command::Dn(cmd) => dn::run(cmd),
        Command::Metadata(args) => metadata::run(args),
    }
}
