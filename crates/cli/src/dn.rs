//! `certbound dn normalize | match | of-cert`.

use std::path::PathBuf;
use std::process::ExitCode;

use certbound_cert::{DistinguishedName, DnMatchOptions};

use crate::input;

#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// Print the canonical RFC 4514 form of a distinguished name.
    Normalize {
        /// The distinguished name, in RFC 4514 form.
        dn: String,
    },
    /// Compare two names with RFC 4517 distinguishedNameMatch: exit 0 when
    /// they match, 1 when they do not, 2 when either does not parse.
    Match {
        /// The first name.
        dn1: String,
        /// The second name.
        dn2: String,
        /// Compare the RDNs as a set, ignoring their order.
        #[arg(long)]
        ignore_rdn_order: bool,
    },
    /// Print a certificate's subject in RFC 4514 form.
    OfCert {
        /// A PEM or DER certificate file; `-` for stdin.
        file: PathBuf,
    },
}

fn parse(which: &str, s: &str) -> Result<DistinguishedName, String> {
    s.parse().map_err(|e| format!("{which}: {e}"))
}

pub(crate) fn run(cmd: Command) -> ExitCode {
    match cmd {
        Command::Normalize { dn } => match parse("DN", &dn) {
            Ok(dn) => {
                outln!("{dn}");
                ExitCode::SUCCESS
            }
            Err(e) => input::bad_input(e),
        },
        Command::Match {
            dn1,
            dn2,
            ignore_rdn_order,
        } => {
            let (a, b) = match (parse("DN1", &dn1), parse("DN2", &dn2)) {
                (Ok(a), Ok(b)) => (a, b),
                (Err(e), _) | (_, Err(e)) => return input::bad_input(e),
            };
            let options = DnMatchOptions::new().ignore_rdn_order(ignore_rdn_order);
            if a.matches_with(&b, options) {
                outln!("match");
                ExitCode::SUCCESS
            } else {
                outln!("no match");
                ExitCode::from(1)
            }
        }
        Command::OfCert { file } => match input::read_certificates(Some(&file)) {
            Ok(certs) => match certs.first() {
                Some(cert) => {
                    outln!("{}", cert.subject());
                    ExitCode::SUCCESS
                }
                None => input::bad_input("no certificate"),
            },
            Err(e) => input::bad_input(e),
        },
    }
}
