//! `certbound`: thumbprints, RFC 4514 names and diagnostics for OAuth 2.0
//! mutual TLS (RFC 8705).
//!
//! Exit codes: 0 success (or "matches"), 1 a negative answer ("does not
//! match", "refused"), 2 bad input. Errors go to stderr, never a panic.
#![forbid(unsafe_code)]
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// Output goes through `outln!` / `out!` / `errln!` (module `out`).
#![deny(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// `println!` to standard output through [`out::stdout`]: when the reader
/// has gone away (`certbound inspect ... | head -c1`) the rest of the output
/// is dropped instead of panicking.
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::out::stdout(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// `print!` to standard output through [`out::stdout`].
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::out::stdout(format_args!($($arg)*))
    };
}

/// `eprintln!` to standard error through [`out::stderr`].
macro_rules! errln {
    ($($arg:tt)*) => {
        $crate::out::stderr(format_args!("{}\n", format_args!($($arg)*)))
    };
}

mod check_client;
mod demo_cmd;
mod dn;
mod forward_auth_cmd;
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
    /// Answer a reverse proxy's authorization subrequests: certificate-bound tokens for any service.
    ForwardAuth(certbound_cli::forward_auth::Args),
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
    let code = match cli.command {
        Command::CheckClient(args) => check_client::run(args),
        Command::Demo(args) => demo_cmd::run(args),
        Command::ForwardAuth(args) => forward_auth_cmd::run(args),
        Command::Thumbprint(args) => thumbprint::run(args),
        Command::Dn(cmd) => dn::run(cmd),
        Command::Inspect(args) => inspect::run(args),
        Command::Metadata(args) => metadata::run(args),
        Command::VerifyToken(args) => verify_token::run(args),
    };
    out::finish(code)
}

/// Every command writes through here, because `println!` panics when the
/// standard output is a pipe whose reader has gone away (`EPIPE`).
mod out {
    use std::fmt;
    use std::io::{self, Write as _};
    use std::process::ExitCode;
    use std::sync::OnceLock;

    /// The first error writing standard output; nothing more is written
    /// after it.
    static STDOUT_ERROR: OnceLock<io::Error> = OnceLock::new();

    /// Writes to standard output, unless an earlier write failed.
    pub(crate) fn stdout(args: fmt::Arguments<'_>) {
        if STDOUT_ERROR.get().is_some() {
            return;
        }
        if let Err(e) = io::stdout().lock().write_fmt(args) {
            let _ = STDOUT_ERROR.set(e);
        }
    }

    /// Writes to standard error. A message that cannot be written there has
    /// nowhere else to go, so a failure is ignored.
    pub(crate) fn stderr(args: fmt::Arguments<'_>) {
        let _ = io::stderr().lock().write_fmt(args);
    }

    /// The exit code of a command that returned `code`. A reader that went
    /// away before the end (`BrokenPipe`) is a clean exit: the command's own
    /// answer stands (`dn match` still says 1 for "no match"). Any other
    /// failure to write the output is bad input's exit code, 2.
    pub(crate) fn finish(code: ExitCode) -> ExitCode {
        if let Err(e) = io::stdout().lock().flush() {
            let _ = STDOUT_ERROR.set(e);
        }
        match STDOUT_ERROR.get() {
            Some(e) if e.kind() != io::ErrorKind::BrokenPipe => {
                crate::input::bad_input(format!("cannot write to standard output: {e}"))
            }
            _ => code,
        }
    }
}
