//! [`Clock`]: where the current time comes from, so tests can move it.

use std::time::SystemTime;

/// A source of the current time. Implemented for `SystemTime::now` via
/// [`SystemClock`] and for any `Fn() -> SystemTime` closure.
pub trait Clock: Send + Sync + 'static {
    /// The current time.
    fn now(&self) -> SystemTime;
}

/// The system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

impl<F> Clock for F
where
    F: Fn() -> SystemTime + Send + Sync + 'static,
{
    fn now(&self) -> SystemTime {
        self()
    }
}
