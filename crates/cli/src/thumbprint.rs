//! `certbound thumbprint`.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::input;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// A PEM (one or more certificates) or DER file; `-` or nothing for stdin.
    file: Option<PathBuf>,
}

pub(crate) fn run(args: Args) -> ExitCode {
    match input::read_certificates(args.file.as_deref()) {
        Ok(certs) => {
            for cert in certs {
                outln!("{}", cert.thumbprint());
            }
            ExitCode::SUCCESS
        }
        Err(e) => input::bad_input(e),
    }
}
