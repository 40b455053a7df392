//! The [`Recorder`] that collects an explanation's checks into a
//! [`Report`](certbound_oauth::Report).

use certbound_oauth::{Check, Verdict};

use crate::TokenEndpointAuthMethod;

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
