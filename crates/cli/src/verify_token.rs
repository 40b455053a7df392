//! `certbound verify-token`: runs certbound-binding's JWT validator and
//! binding check on a token, printing each check and its verdict, so an
//! operator can tell "expired" from "wrong certificate" from "wrong key".

use std::io::Read as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use certbound_binding::{
    BindingMismatch, Check, Confirmation, JwtValidator, TypCheck, Verdict, verify_thumbprint,
};
use certbound_cert::Thumbprint;
use serde_json::{Map, Value};

use crate::input;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The authorization server's JWK set (a JSON file with "keys").
    #[arg(long, value_name = "FILE")]
    jwks: PathBuf,
    /// The expected `iss`; when absent, any issuer is accepted and the
    /// report shows the check as skipped.
    #[arg(long, value_name = "ISS")]
    issuer: Option<String>,
    /// The expected audience (`aud` must contain it); when absent, any
    /// audience is accepted and the report shows the check as skipped.
    #[arg(long, value_name = "AUD")]
    audience: Option<String>,
    /// The client certificate the token is presented with (PEM or DER; the
    /// first certificate is the leaf).
    #[arg(long, value_name = "CERT")]
    cert: Option<PathBuf>,
    /// Accept tokens without `typ: at+jwt` (no `typ`, or `JWT`).
    #[arg(long)]
    lenient_typ: bool,
    /// Clock skew tolerated on `exp` and `nbf`, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    leeway: u64,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
    /// The access token, or `-` to read it from standard input.
    #[arg(value_name = "TOKEN|-")]
    token: String,
}

pub(crate) fn run(args: Args) -> ExitCode {
    let jwks = match input::read_bytes(Some(&args.jwks)) {
        Ok(bytes) => bytes,
        Err(e) => return input::bad_input(e),
    };
    let builder = match JwtValidator::builder_from_jwks_json(&jwks) {
        Ok(b) => b,
        Err(e) => return input::bad_input(format!("{}: {e}", args.jwks.display())),
    };
    let mut builder = builder
        .leeway(Duration::from_secs(args.leeway))
        .typ(if args.lenient_typ {
            TypCheck::Lenient
        } else {
            TypCheck::Strict
        });
    // A diagnosis, not an access decision: without --issuer or --audience
    // the check is skipped, and the report says so on its own line.
    builder = match &args.issuer {
        Some(iss) => builder.issuer(iss.clone()),
        None => builder.danger_accept_any_issuer(),
    };
    builder = match &args.audience {
        Some(aud) => builder.audience(aud.clone()),
        None => builder.danger_accept_any_audience(),
    };
    let validator = match builder.build() {
        Ok(v) => v,
        Err(e) => return input::bad_input(format!("{}: {e}", args.jwks.display())),
    };
    let presented: Option<Thumbprint> = match &args.cert {
        None => None,
        Some(path) => match input::read_certificates(Some(path)) {
            Ok(certs) => certs.first().map(|c| c.thumbprint()),
            Err(e) => return input::bad_input(e),
        },
    };
    let token = match read_token(&args.token) {
        Ok(t) => t,
        Err(e) => return input::bad_input(e),
    };

    let mut report = validator.inspect(&token);
    let claims = match report.facts.get("claims") {
        Some(Value::Object(claims)) => claims.clone(),
        _ => Map::new(),
    };
    report
        .checks
        .push(binding_check(&claims, presented, args.cert.is_some()));

    if args.json {
        match serde_json::to_string_pretty(&report.to_json()) {
            Ok(s) => outln!("{s}"),
            Err(e) => return input::bad_input(e),
        }
    } else {
        outln!("{report}");
    }
    if report.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// The binding check, on the token's `cnf` even when an earlier check
/// failed (so the operator sees every problem at once).
fn binding_check(
    claims: &Map<String, Value>,
    presented: Option<Thumbprint>,
    cert_given: bool,
) -> Check {
    let check = |verdict, detail: String| Check {
        name: "binding",
        verdict,
        detail,
    };
    let cnf = match Confirmation::from_claims(claims) {
        Ok(cnf) => cnf,
        Err(_) => return check(Verdict::Skipped, "cnf is not a confirmation object".into()),
    };
    match verify_thumbprint(cnf.as_ref(), presented) {
        Ok(certbound_binding::Binding::Bound(t)) => check(
            Verdict::Pass,
            format!("bound to the given certificate ({t})"),
        ),
        Ok(_) if cert_given => check(
            Verdict::Pass,
            "token is not certificate-bound; the certificate is not needed".into(),
        ),
        Ok(_) => check(Verdict::Skipped, "token is not certificate-bound".into()),
        Err(BindingMismatch::CertificateMissing) => check(
            Verdict::Fail,
            "token is certificate-bound; pass --cert with the client certificate".into(),
        ),
        Err(BindingMismatch::ThumbprintMismatch) => check(
            Verdict::Fail,
            format!(
                "token is bound to {}, the certificate is {}",
                cnf.as_ref().and_then(Confirmation::x5t_s256).unwrap_or("?"),
                presented.map(|t| t.to_string()).unwrap_or_default()
            ),
        ),
        Err(e) => check(Verdict::Fail, e.to_string()),
    }
}

fn read_token(arg: &str) -> Result<String, String> {
    let token = if arg == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| format!("cannot read standard input: {e}"))?;
        s
    } else {
        arg.to_owned()
    };
    let token = token.trim();
    let token = token
        .strip_prefix("Bearer ")
        .or_else(|| token.strip_prefix("bearer "))
        .unwrap_or(token)
        .trim();
    if token.is_empty() {
        return Err("the token is empty".into());
    }
    Ok(token.to_owned())
}
