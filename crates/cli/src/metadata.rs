//! `certbound metadata`: make or check authorization server metadata
//! (RFC 8414 / OpenID Connect Discovery with RFC 8705 §5 mTLS aliases).

use std::path::PathBuf;
use std::process::ExitCode;

use certbound_discovery::{
    AuthorizationServerMetadata, BuildError, Endpoint, Profile, check_document,
};

use crate::input;

#[derive(Debug, clap::Args)]
#[command(
    group(clap::ArgGroup::new("mode").required(true).args(["issuer", "check"])),
    after_help = "Examples:\n  \
        certbound metadata --issuer https://as.example.com --mtls-host mtls.example.com \\\n      \
        --bound-tokens --method tls_client_auth --method client_secret_basic\n  \
        certbound metadata --check metadata.json --profile fapi"
)]
pub(crate) struct Args {
    /// Make a document for this issuer (an https URL; http only on loopback).
    #[arg(long, value_name = "URL", conflicts_with = "check")]
    issuer: Option<String>,

    /// Alias every endpoint but the browser-facing ones under this base URL.
    #[arg(
        long,
        value_name = "URL",
        requires = "issuer",
        conflicts_with = "mtls_host"
    )]
    mtls_base: Option<String>,

    /// Alias every endpoint but the browser-facing ones to the same URL on
    /// this host (`host` or `host:port`, e.g. `mtls.example.com`).
    #[arg(long, value_name = "HOST", requires = "issuer")]
    mtls_host: Option<String>,

    /// An endpoint as METADATA_NAME=URL (e.g. token_endpoint=https://as.example.com/token);
    /// repeatable. Without any, the usual endpoints under the issuer:
    /// authorize, token, introspect, revoke, par, userinfo, jwks.
    #[arg(long, value_name = "NAME=URL", requires = "issuer", value_parser = parse_endpoint)]
    endpoint: Vec<(String, String)>,

    /// Claim tls_client_certificate_bound_access_tokens (RFC 8705 §3).
    #[arg(long, requires = "issuer")]
    bound_tokens: bool,

    /// A client authentication method the token, introspection and
    /// revocation endpoints accept (tls_client_auth, client_secret_basic, ...);
    /// repeatable, duplicates dropped.
    #[arg(long, value_name = "METHOD", requires = "issuer")]
    method: Vec<String>,

    /// Check an existing document (a file, or `-` for standard input) and
    /// list each problem; exit 1 when there is one.
    #[arg(long, value_name = "FILE")]
    check: Option<PathBuf>,

    /// Rules to check on top of RFC 8414 / RFC 8705: `fapi` (bound tokens
    /// claimed and an mTLS method listed).
    #[arg(long, value_name = "PROFILE", default_value = "base", value_parser = parse_profile)]
    profile: Profile,
}

pub(crate) fn run(args: Args) -> ExitCode {
    match (&args.check, &args.issuer) {
        (Some(file), _) => check(file, args.profile),
        (None, Some(issuer)) => make(issuer, &args),
        // clap's "mode" group makes one of them required.
        (None, None) => input::bad_input("--issuer or --check is required"),
    }
}

fn make(issuer: &str, args: &Args) -> ExitCode {
    let mut builder = AuthorizationServerMetadata::builder(issuer);
    if args.endpoint.is_empty() {
        builder = builder.standard_endpoints();
    }
    for (name, url) in &args.endpoint {
        builder = match name.parse::<Endpoint>() {
            Ok(endpoint) => builder.endpoint(endpoint, url),
            // An endpoint this version does not know is kept as it is.
            Err(_) => builder.field(name, url.as_str()),
        };
    }
    if args.bound_tokens {
        builder = builder.tls_client_certificate_bound_access_tokens(true);
    }
    builder = builder.auth_methods(&args.method).profile(args.profile);
    if let Some(base) = &args.mtls_base {
        builder = builder.mtls_base_url(base);
    }
    if let Some(host) = &args.mtls_host {
        builder = builder.mtls_host(host);
    }
    match builder.build() {
        Ok(md) => {
            outln!("{}", md.to_json_pretty());
            ExitCode::SUCCESS
        }
        Err(BuildError::Invalid(errors)) => {
            for e in &errors {
                errln!("error: {e}");
            }
            ExitCode::from(input::BAD_INPUT)
        }
        Err(e) => input::bad_input(e),
    }
}

fn check(file: &std::path::Path, profile: Profile) -> ExitCode {
    let name = if file.as_os_str() == "-" {
        "standard input".to_owned()
    } else {
        file.display().to_string()
    };
    let bytes = match input::read_bytes(Some(file)) {
        Ok(b) => b,
        Err(e) => return input::bad_input(e),
    };
    let document: serde_json::Value = match serde_json::from_slice(&bytes) {
        Ok(v) => v,
        Err(e) => return input::bad_input(format!("{name}: not JSON: {e}")),
    };
    match check_document(&document, profile) {
        Ok(_) => {
            outln!("ok");
            ExitCode::SUCCESS
        }
        Err(errors) => {
            for e in &errors {
                outln!("{e}");
            }
            let n = errors.as_slice().len();
            errln!("{name}: {n} problem{}", if n == 1 { "" } else { "s" });
            ExitCode::from(1)
        }
    }
}

fn parse_endpoint(s: &str) -> Result<(String, String), String> {
    let (name, url) = s
        .split_once('=')
        .ok_or_else(|| format!("expected NAME=URL, got {s:?}"))?;
    if name.is_empty() || url.is_empty() {
        return Err(format!("expected NAME=URL, got {s:?}"));
    }
    if !(name.ends_with("_endpoint") || name.ends_with("_uri")) {
        return Err(format!(
            "{name:?} is not an endpoint metadata name (e.g. token_endpoint, jwks_uri)"
        ));
    }
    Ok((name.to_owned(), url.to_owned()))
}

fn parse_profile(s: &str) -> Result<Profile, String> {
    s.parse()
        .map_err(|e: certbound_discovery::UnknownProfile| e.to_string())
}
