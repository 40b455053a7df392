//! [`Report`]: every check of one authentication, for operators.

use std::fmt;

use crate::{AuthError, AuthenticatedClient, TokenEndpointAuthMethod};

/// The verdict of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Verdict {
    /// The check passed.
    Pass,
    /// The check failed.
    Fail,
    /// The check does not apply or was not configured.
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

/// One check the authenticator ran, with its verdict and the values it
/// compared. For operators: it may show registered and presented values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// What was checked (`client`, `certificate`, `validity`, `path`, `subject`, ...).
    pub name: &'static str,
    /// The verdict.
    pub verdict: Verdict,
    /// The details.
    pub detail: String,
}

/// Every check of one authentication and its outcome, from
/// [`Authenticator::explain`](crate::Authenticator::explain).
#[derive(Debug, Clone)]
pub struct Report {
    /// The `client_id` asked about.
    pub client_id: String,
    /// The registered method, when the client was found.
    pub method: Option<TokenEndpointAuthMethod>,
    /// The checks, in the order they ran.
    pub checks: Vec<Check>,
    /// The outcome.
    pub result: Result<AuthenticatedClient, AuthError>,
}

impl Report {
    /// Whether the client was authenticated.
    pub fn is_authenticated(&self) -> bool {
        self.result.is_ok()
    }

    /// The report as JSON: `client_id`, `method`, `authenticated`, `error`,
    /// `x5t#S256` and `checks` (each `name`, `verdict`, `detail`).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "client_id": self.client_id,
            "method": self.method.as_ref().map(|m| m.as_str()),
            "authenticated": self.result.is_ok(),
            "error": self.result.as_ref().err().map(|e| e.to_string()),
            "x5t#S256": self.result.as_ref().ok().map(|c| c.thumbprint().to_string()),
            "checks": self.checks.iter().map(|c| serde_json::json!({
                "name": c.name,
                "verdict": c.verdict.as_str(),
                "detail": c.detail,
            })).collect::<Vec<_>>(),
        })
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in &self.checks {
            let verdict = match c.verdict {
                Verdict::Pass => "PASS",
                Verdict::Fail => "FAIL",
                Verdict::Skipped => "SKIP",
            };
            writeln!(f, "{verdict}  {:<12} {}", c.name, c.detail)?;
        }
        match &self.result {
            Ok(c) => write!(
                f,
                "authenticated: client {} with {}, x5t#S256 {}",
                c.client_id(),
                c.method(),
                c.thumbprint()
            ),
            Err(e) => write!(f, "refused: {e}"),
        }
    }
}

/// Collects the checks when explaining; does nothing otherwise.
pub(crate) struct Recorder {
    pub(crate) checks: Option<Vec<Check>>,
    pub(crate) method: Option<TokenEndpointAuthMethod>,
}

impl Recorder {
    pub(crate) fn new(explaining: bool) -> Self {
        Self {
            checks: explaining.then(Vec::new),
            method: None,
        }
    }

    pub(crate) fn explaining(&self) -> bool {
        self.checks.is_some()
    }

    pub(crate) fn record(
        &mut self,
        name: &'static str,
        verdict: Verdict,
        detail: impl FnOnce() -> String,
    ) {
        if let Some(checks) = &mut self.checks {
            checks.push(Check {
                name,
                verdict,
                detail: detail(),
            });
        }
    }

    pub(crate) fn pass(&mut self, name: &'static str, detail: impl FnOnce() -> String) {
        self.record(name, Verdict::Pass, detail);
    }

    pub(crate) fn fail(&mut self, name: &'static str, detail: impl FnOnce() -> String) {
        self.record(name, Verdict::Fail, detail);
    }

    pub(crate) fn skip(&mut self, name: &'static str, detail: impl FnOnce() -> String) {
        self.record(name, Verdict::Skipped, detail);
    }
}
