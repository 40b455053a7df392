//! `certbound verify-token`: runs certbound-binding's JWT validator and
//! binding check on a token, printing each check and its verdict, so an
//! operator can tell "expired" from "wrong certificate" from "wrong key".

use std::io::Read as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use certbound_binding::{
    BindingMismatch, Confirmation, JwtReport, JwtValidator, Outcome, TypCheck, verify_thumbprint,
};
use certbound_cert::Thumbprint;
use serde_json::{Value, json};

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

/// One line of the report.
struct Line {
    check: &'static str,
    verdict: &'static str,
    detail: String,
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

    let report = validator.inspect(&token);
    let mut lines: Vec<Line> = report
        .checks()
        .iter()
        .map(|c| match &c.outcome {
            Outcome::Passed(d) => Line {
                check: c.name,
                verdict: "ok",
                detail: d.clone(),
            },
            Outcome::Failed(e) => Line {
                check: c.name,
                verdict: "FAIL",
                detail: e.to_string(),
            },
            Outcome::Skipped(d) => Line {
                check: c.name,
                verdict: "skip",
                detail: d.clone(),
            },
            _ => Line {
                check: c.name,
                verdict: "?",
                detail: String::new(),
            },
        })
        .collect();
    lines.push(binding_line(&report, presented, args.cert.is_some()));
    let valid = lines.iter().all(|l| l.verdict != "FAIL");

    if args.json {
        let checks: Vec<Value> = lines
            .iter()
            .map(|l| {
                json!({
                    "check": l.check,
                    "verdict": match l.verdict { "ok" => "pass", "FAIL" => "fail", _ => "skip" },
                    "detail": l.detail,
                })
            })
            .collect();
        let out = json!({
            "valid": valid,
            "checks": checks,
            "header": report.header(),
            "claims": report.unverified_payload(),
        });
        match serde_json::to_string_pretty(&out) {
            Ok(s) => outln!("{s}"),
            Err(e) => return input::bad_input(e),
        }
    } else {
        for l in &lines {
            outln!("{:<13} {:<5} {}", l.check, l.verdict, l.detail);
        }
        match lines.iter().find(|l| l.verdict == "FAIL") {
            None => outln!("result: valid"),
            Some(l) => outln!("result: refused ({}: {})", l.check, l.detail),
        }
    }
    if valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// The binding check, on the token's `cnf` even when an earlier check
/// failed (so the operator sees every problem at once).
fn binding_line(report: &JwtReport, presented: Option<Thumbprint>, cert_given: bool) -> Line {
    let line = |verdict, detail: String| Line {
        check: "binding",
        verdict,
        detail,
    };
    let cnf = match Confirmation::from_claims(report.unverified_payload()) {
        Ok(cnf) => cnf,
        Err(_) => return line("skip", "cnf is not a confirmation object".into()),
    };
    match verify_thumbprint(cnf.as_ref(), presented) {
        Ok(certbound_binding::Binding::Bound(t)) => {
            line("ok", format!("bound to the given certificate ({t})"))
        }
        Ok(_) if cert_given => line(
            "ok",
            "token is not certificate-bound; the certificate is not needed".into(),
        ),
        Ok(_) => line("skip", "token is not certificate-bound".into()),
        Err(BindingMismatch::CertificateMissing) => line(
            "FAIL",
            "token is certificate-bound; pass --cert with the client certificate".into(),
        ),
        Err(BindingMismatch::ThumbprintMismatch) => line(
            "FAIL",
            format!(
                "token is bound to {}, the certificate is {}",
                cnf.as_ref().and_then(Confirmation::x5t_s256).unwrap_or("?"),
                presented.map(|t| t.to_string()).unwrap_or_default()
            ),
        ),
        Err(e) => line("FAIL", e.to_string()),
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
