//! Built-in checks: circuit breakers, the error tracker, the rate limiter's
//! keys and the process's memory. Each reads its component's public API
//! only.

#[cfg(feature = "errors")]
use std::time::Duration;

use super::report::{Check, HealthCheck, Report, Status};

/// Each provider's circuit breaker, as `circuit:<provider>`: closed passes,
/// half-open warns, open warns while another provider can still serve and
/// fails when every provider's breaker is open (nothing can be served).
///
/// Breakers are made on a provider's first call; name the providers with
/// [`providers`](Self::providers) so one that has not been called yet
/// counts as closed rather than missing.
#[cfg(feature = "circuit")]
#[derive(Clone, Debug)]
pub struct CircuitCheck {
    handle: crate::circuit::CircuitBreakerHandle,
    providers: Vec<String>,
}

#[cfg(feature = "circuit")]
impl CircuitCheck {
    /// Checks the breakers of `handle`.
    pub fn new(handle: crate::circuit::CircuitBreakerHandle) -> Self {
        Self {
            handle,
            providers: Vec::new(),
        }
    }

    /// The providers served, breaker or not yet.
    pub fn providers<I, S>(mut self, providers: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.providers = providers.into_iter().map(Into::into).collect();
        self
    }
}

#[cfg(feature = "circuit")]
impl HealthCheck for CircuitCheck {
    fn check(&self, report: &mut Report) {
        use crate::circuit::CircuitState;

        let snapshots = self.handle.snapshots();
        let unseen: Vec<&String> = self
            .providers
            .iter()
            .filter(|p| !snapshots.iter().any(|s| &s.key == *p))
            .collect();
        let is_open = |state| matches!(state, CircuitState::Open | CircuitState::ForcedOpen);
        let all_open = unseen.is_empty()
            && !snapshots.is_empty()
            && snapshots.iter().all(|s| is_open(s.state));
        for snapshot in &snapshots {
            let (status, output) = match snapshot.state {
                CircuitState::Closed | CircuitState::ForcedClosed => (Status::Pass, None),
                CircuitState::HalfOpen => (
                    Status::Warn,
                    Some("half-open: probe calls decide".to_owned()),
                ),
                CircuitState::Open | CircuitState::ForcedOpen => {
                    let status = if all_open { Status::Fail } else { Status::Warn };
                    let output = match snapshot.until_half_open {
                        Some(wait) => format!("open: calls refused for {} ms", wait.as_millis()),
                        None => "open: calls refused until reset".to_owned(),
                    };
                    (status, Some(output))
                }
            };
            let mut check = Check::new(status)
                .component_id(snapshot.key.clone())
                .component_type("component")
                .observed_value(snapshot.state.as_str());
            if let Some(output) = output {
                check = check.output(output);
            }
            report.add(format!("circuit:{}", snapshot.key), check);
        }
        for provider in unseen {
            report.add(
                format!("circuit:{provider}"),
                Check::new(Status::Pass)
                    .component_id(provider.clone())
                    .component_type("component")
                    .observed_value("closed"),
            );
        }
    }
}

/// The error tracker: `errors:groups` (groups held) passes;
/// `errors:critical` (critical groups seen within the window, 5 minutes by
/// default) warns while there are any.
#[cfg(feature = "errors")]
#[derive(Clone, Debug)]
pub struct ErrorTrackerCheck {
    tracker: crate::errors::ErrorTracker,
    window: Duration,
}

#[cfg(feature = "errors")]
impl ErrorTrackerCheck {
    /// Checks `tracker`.
    pub fn new(tracker: crate::errors::ErrorTracker) -> Self {
        Self {
            tracker,
            window: Duration::from_secs(300),
        }
    }

    /// How recent a critical group must be to warn.
    pub fn window(mut self, window: Duration) -> Self {
        self.window = window;
        self
    }
}

#[cfg(feature = "errors")]
impl HealthCheck for ErrorTrackerCheck {
    fn check(&self, report: &mut Report) {
        use crate::errors::Severity;

        let critical = self.tracker.seen_within(Severity::Critical, self.window);
        report.add(
            "errors:groups",
            Check::new(Status::Pass)
                .component_type("component")
                .observed(self.tracker.len(), "groups"),
        );
        let status = if critical > 0 {
            Status::Warn
        } else {
            Status::Pass
        };
        report.add(
            "errors:critical",
            Check::new(status)
                .component_type("component")
                .observed(critical, "groups")
                .output(format!(
                    "{critical} critical error groups seen in the last {} s",
                    self.window.as_secs()
                )),
        );
    }
}

/// The rate limiter's in-memory store: `ratelimit:keys`, the keys it holds
/// (always passes; a figure to watch).
#[cfg(feature = "rate-limit")]
pub struct RateLimitCheck<K> {
    layer: crate::rate_limit::RateLimitLayer<crate::rate_limit::MemoryStore, K>,
}

#[cfg(feature = "rate-limit")]
impl<K> RateLimitCheck<K> {
    /// Checks the store of `layer`.
    pub fn new(
        layer: crate::rate_limit::RateLimitLayer<crate::rate_limit::MemoryStore, K>,
    ) -> Self {
        Self { layer }
    }
}

#[cfg(feature = "rate-limit")]
impl<K> std::fmt::Debug for RateLimitCheck<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimitCheck").finish_non_exhaustive()
    }
}

#[cfg(feature = "rate-limit")]
impl<K: Send + Sync + 'static> HealthCheck for RateLimitCheck<K> {
    fn check(&self, report: &mut Report) {
        report.add(
            "ratelimit:keys",
            Check::new(Status::Pass)
                .component_type("component")
                .observed(self.layer.store().len(), "keys"),
        );
    }
}

/// The process's resident set size, as `memory:rss` in bytes: warns above
/// the threshold, or when the platform does not tell.
#[derive(Clone, Copy, Debug)]
pub struct MemoryCheck {
    warn_above: Option<u64>,
}

impl MemoryCheck {
    /// Reports the resident set size, warning above `warn_above` bytes
    /// (`None`: never).
    pub fn new(warn_above: Option<u64>) -> Self {
        Self { warn_above }
    }

    /// The resident set size in bytes, if the platform tells.
    pub fn resident_bytes() -> Option<u64> {
        memory_stats::memory_stats().map(|stats| stats.physical_mem as u64)
    }
}

impl HealthCheck for MemoryCheck {
    fn check(&self, report: &mut Report) {
        let check = match Self::resident_bytes() {
            Some(bytes) => {
                let over = self.warn_above.is_some_and(|limit| bytes > limit);
                let status = if over { Status::Warn } else { Status::Pass };
                let mut check = Check::new(status)
                    .component_type("system")
                    .observed(bytes, "bytes");
                if let Some(limit) = self.warn_above.filter(|_| over) {
                    check = check.output(format!("resident set above {limit} bytes"));
                }
                check
            }
            None => Check::new(Status::Warn)
                .component_type("system")
                .output("the resident set size is not available on this platform"),
        };
        report.add("memory:rss", check);
    }
}
