//! [`Report`]: every check of one decision and its outcome, for operators.

use std::fmt;

use serde_json::{Map, Value};

/// The verdict of one [`Check`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Verdict {
    /// The check passed.
    Pass,
    /// The check failed.
    Fail,
    /// The check does not apply, was not configured, or could not run.
    Skipped,
}

impl Verdict {
    /// `pass`, `fail` or `skipped`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::Fail => "fail",
            Self::Skipped => "skipped",
        }
    }
}

/// One check, with its verdict and what it compared. For operators: the
/// detail may show registered and presented values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// What was checked (`client`, `path`, `signature`, `expiry`, ...).
    pub name: &'static str,
    /// The verdict.
    pub verdict: Verdict,
    /// What was found or compared.
    pub detail: String,
}

/// Why a client or a token was accepted or refused: every check that ran,
/// in order, what was looked at (`facts`), and the outcome. The
/// authenticator's `explain` (`T` the authenticated client) and the JWT
/// validator's `inspect` (`T` the token's claims) both answer with one;
/// `certbound check-client` and `certbound verify-token` print it.
///
/// ```
/// use certbound_oauth::{Check, Report, Verdict};
///
/// let mut report: Report<(), String> = Report::new(Ok(()));
/// report.facts.insert("client_id".into(), "app".into());
/// report.checks.push(Check { name: "client", verdict: Verdict::Pass, detail: "registered".into() });
/// report.checks.push(Check { name: "path", verdict: Verdict::Fail, detail: "unknown issuer".into() });
/// assert!(!report.passed());
/// assert_eq!(
///     report.to_string(),
///     "client_id    app\nPASS  client       registered\nFAIL  path         unknown issuer\nresult: refused (path: unknown issuer)"
/// );
/// assert_eq!(report.to_json()["passed"], false);
/// ```
#[derive(Debug, Clone)]
pub struct Report<T, E> {
    /// What was judged, for display: a client's `client_id` and method, a
    /// token's header and (unverified) claims.
    pub facts: Map<String, Value>,
    /// The checks, in the order they ran.
    pub checks: Vec<Check>,
    /// The outcome of the decision the checks explain.
    pub result: Result<T, E>,
}

impl<T, E> Report<T, E> {
    /// A report of `result`, with no facts and no checks yet.
    pub fn new(result: Result<T, E>) -> Self {
        Self {
            facts: Map::new(),
            checks: Vec::new(),
            result,
        }
    }

    /// Whether the outcome is a success and no check failed (a caller may
    /// add checks of its own after the decision, as `verify-token` does
    /// for the binding).
    pub fn passed(&self) -> bool {
        self.result.is_ok() && self.first_failed().is_none()
    }

    /// The first check that failed.
    pub fn first_failed(&self) -> Option<&Check> {
        self.checks.iter().find(|c| c.verdict == Verdict::Fail)
    }
}

impl<T, E: fmt::Display> Report<T, E> {
    /// The report as JSON: the facts, then `passed`, `error` (the outcome's
    /// error, or the first failed check's detail) and `checks` (each
    /// `name`, `verdict`, `detail`).
    pub fn to_json(&self) -> Value {
        let mut out = self.facts.clone();
        out.insert("passed".into(), self.passed().into());
        out.insert(
            "error".into(),
            self.refusal().map_or(Value::Null, Value::from),
        );
        let checks = self
            .checks
            .iter()
            .map(|c| {
                serde_json::json!({
                    "name": c.name,
                    "verdict": c.verdict.as_str(),
                    "detail": c.detail,
                })
            })
            .collect();
        out.insert("checks".into(), Value::Array(checks));
        Value::Object(out)
    }

    fn refusal(&self) -> Option<String> {
        match (&self.result, self.first_failed()) {
            (_, Some(c)) => Some(format!("{}: {}", c.name, c.detail)),
            (Err(e), None) => Some(e.to_string()),
            (Ok(_), None) => None,
        }
    }
}

/// One line per fact (a string as it is, other values as compact JSON), one per check (`PASS`, `FAIL`,
/// `SKIP`), then `result: passed` or `result: refused (why)`.
impl<T, E: fmt::Display> fmt::Display for Report<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (name, value) in &self.facts {
            match value {
                Value::String(s) => writeln!(f, "{name:<12} {s}")?,
                other => writeln!(f, "{name:<12} {other}")?,
            }
        }
        for c in &self.checks {
            let verdict = match c.verdict {
                Verdict::Pass => "PASS",
                Verdict::Fail => "FAIL",
                Verdict::Skipped => "SKIP",
            };
            writeln!(f, "{verdict}  {:<12} {}", c.name, c.detail)?;
        }
        match self.refusal() {
            None => f.write_str("result: passed"),
            Some(why) => write!(f, "result: refused ({why})"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(name: &'static str, verdict: Verdict) -> Check {
        Check {
            name,
            verdict,
            detail: format!("{name} detail"),
        }
    }

    #[test]
    fn an_error_outcome_is_the_refusal_when_no_check_failed() {
        let mut report: Report<(), &str> = Report::new(Err("unknown client"));
        report.checks.push(check("client", Verdict::Skipped));
        assert!(!report.passed());
        assert_eq!(report.to_json()["error"], "unknown client");
        assert!(
            report
                .to_string()
                .ends_with("result: refused (unknown client)")
        );
    }

    #[test]
    fn a_failed_check_refuses_even_a_successful_outcome() {
        let mut report: Report<(), &str> = Report::new(Ok(()));
        report.checks.push(check("signature", Verdict::Pass));
        assert!(report.passed());
        assert_eq!(report.to_json()["error"], Value::Null);
        report.checks.push(check("binding", Verdict::Fail));
        assert!(!report.passed());
        assert_eq!(report.first_failed().map(|c| c.name), Some("binding"));
        let json = report.to_json();
        assert_eq!(json["error"], "binding: binding detail");
        assert_eq!(json["checks"][1]["verdict"], "fail");
        assert_eq!(json["checks"][0]["name"], "signature");
    }

    #[test]
    fn facts_come_first_in_both_renderings() {
        let mut report: Report<(), &str> = Report::new(Ok(()));
        report.facts.insert("client_id".into(), "app".into());
        report.checks.push(check("client", Verdict::Pass));
        assert_eq!(
            report.to_string(),
            "client_id    app\nPASS  client       client detail\nresult: passed"
        );
        assert_eq!(report.to_json()["client_id"], "app");
    }
}
