//! Reading files and standard input, with errors that name what failed.

use std::io::Read as _;
use std::path::Path;
use std::process::ExitCode;

use certbound_cert::Certificate;

/// Exit code for bad input.
pub(crate) const BAD_INPUT: u8 = 2;

/// Prints `error: {msg}` to stderr and returns exit code 2.
pub(crate) fn bad_input(msg: impl std::fmt::Display) -> ExitCode {
    errln!("error: {msg}");
    ExitCode::from(BAD_INPUT)
}

/// Reads a file, or standard input when the path is `-` or absent.
pub(crate) fn read_bytes(path: Option<&Path>) -> Result<Vec<u8>, String> {
    match path {
        None => read_stdin(),
        Some(p) if p.as_os_str() == "-" => read_stdin(),
        Some(p) => std::fs::read(p).map_err(|e| format!("cannot read {}: {e}", p.display())),
    }
}

fn read_stdin() -> Result<Vec<u8>, String> {
    let mut buf = Vec::new();
    std::io::stdin()
        .read_to_end(&mut buf)
        .map_err(|e| format!("cannot read standard input: {e}"))?;
    Ok(buf)
}

/// Reads certificates (PEM, one or more, or one DER) from a file or stdin.
pub(crate) fn read_certificates(path: Option<&Path>) -> Result<Vec<Certificate>, String> {
    let bytes = read_bytes(path)?;
    let name = match path {
        Some(p) if p.as_os_str() != "-" => p.display().to_string(),
        _ => "standard input".to_owned(),
    };
    Certificate::from_pem_or_der(&bytes).map_err(|e| format!("{name}: {e}"))
}
