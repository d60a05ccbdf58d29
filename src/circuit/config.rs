//! When a breaker trips, how long it stays open, and how it probes.

use std::time::Duration;

/// Which recent calls the failure and slow-call rates are taken over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Window {
    /// The last `n` calls.
    Count(u32),
    /// The calls of the last `length`, counted in `buckets` equal slices
    /// (a slice is dropped whole as it ages out).
    Time {
        /// How far back the window reaches.
        length: Duration,
        /// How many slices it is counted in.
        buckets: u32,
    },
}

/// The settings of one breaker (every key's, unless overridden per key).
///
/// Defaults: a window of the last 100 calls, rates judged from 20 calls in
/// it; trip at a failure rate of 50% or 5 failures in a row; slow calls not
/// judged; open for 5 s, doubling on each trip in a row up to 2 min, ±10%
/// jitter, and at least as long as a failing response's `Retry-After`
/// (honoured up to 10 min); 3 probes at once in half-open, all 3 must
/// succeed to close, and probes unanswered 60 s after the latest one was
/// admitted open it again.
///
/// ```
/// use std::time::Duration;
/// use spark_tower::circuit::{CircuitConfig, Window};
///
/// let config = CircuitConfig::default()
///     .window(Window::Time { length: Duration::from_secs(30), buckets: 10 })
///     .minimum_calls(10)
///     .failure_rate(0.25)
///     .slow_calls(Duration::from_secs(20), 0.5)
///     .open_for(Duration::from_secs(2), Duration::from_secs(60));
/// assert!(config.validate().is_ok());
/// assert!(CircuitConfig::default().failure_rate(1.5).validate().is_err());
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct CircuitConfig {
    pub(crate) window: Window,
    pub(crate) minimum_calls: u32,
    pub(crate) failure_rate: Option<f64>,
    pub(crate) slow_call: Option<(Duration, f64)>,
    pub(crate) consecutive_failures: Option<u32>,
    pub(crate) open_base: Duration,
    pub(crate) open_max: Duration,
    pub(crate) backoff: f64,
    pub(crate) jitter: f64,
    pub(crate) retry_after_max: Duration,
    pub(crate) half_open_probes: u32,
    pub(crate) half_open_max_wait: Duration,
}

impl Default for CircuitConfig {
    fn default() -> Self {
        Self {
            window: Window::Count(100),
            minimum_calls: 20,
            failure_rate: Some(0.5),
            slow_call: None,
            consecutive_failures: Some(5),
            open_base: Duration::from_secs(5),
            open_max: Duration::from_secs(120),
            backoff: 2.0,
            jitter: 0.1,
            retry_after_max: Duration::from_secs(600),
            half_open_probes: 3,
            half_open_max_wait: Duration::from_secs(60),
        }
    }
}

/// The most calls a count window holds.
const MAX_WINDOW_CALLS: u32 = 100_000;
/// The most buckets of a time window.
const MAX_BUCKETS: u32 = 1_000;
/// The most half-open probes at once.
pub(crate) const MAX_PROBES: u32 = 1_000;
/// The longest open, half-open or `Retry-After` wait.
const MAX_WAIT: Duration = Duration::from_secs(86_400);

/// A setting out of its range, found when the layer is built.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum CircuitConfigError {
    /// A rate is not in `(0, 1]`.
    #[error("{name} must be in (0, 1], not {value}")]
    Rate {
        /// Which rate.
        name: &'static str,
        /// The value given.
        value: f64,
    },
    /// A count or duration that must be positive is zero.
    #[error("{0} must be positive")]
    Zero(&'static str),
    /// Another setting out of its range (the open wait's cap below its
    /// base, the backoff or jitter, too many probes).
    #[error("{0}")]
    Range(&'static str),
    /// No condition can trip the breaker.
    #[error("no trip condition is set")]
    NoCondition,
}

impl CircuitConfig {
    /// The window the rates are taken over.
    pub fn window(mut self, window: Window) -> Self {
        self.window = window;
        self
    }

    /// How many calls the window must hold before any condition can trip
    /// the breaker (the consecutive-failure count included).
    pub fn minimum_calls(mut self, calls: u32) -> Self {
        self.minimum_calls = calls;
        self
    }

    /// Trips at this failure rate (0 to 1] over the window.
    pub fn failure_rate(mut self, rate: f64) -> Self {
        self.failure_rate = Some(rate);
        self
    }

    /// Does not judge the failure rate.
    pub fn no_failure_rate(mut self) -> Self {
        self.failure_rate = None;
        self
    }

    /// Trips when at least `rate` of the window's calls took `slower_than`
    /// or longer to answer (to the response head: a stream's length does
    /// not count).
    pub fn slow_calls(mut self, slower_than: Duration, rate: f64) -> Self {
        self.slow_call = Some((slower_than, rate));
        self
    }

    /// Trips after this many failures in a row.
    pub fn consecutive_failures(mut self, failures: u32) -> Self {
        self.consecutive_failures = Some(failures);
        self
    }

    /// Does not count failures in a row.
    pub fn no_consecutive_failures(mut self) -> Self {
        self.consecutive_failures = None;
        self
    }

    /// The open wait: `base` after the first trip, growing on each trip in
    /// a row (see [`backoff`](Self::backoff)) up to `max`.
    pub fn open_for(mut self, base: Duration, max: Duration) -> Self {
        self.open_base = base;
        self.open_max = max;
        self
    }

    /// What the open wait is multiplied by on each trip in a row (2 by
    /// default; 1 keeps it constant).
    pub fn backoff(mut self, factor: f64) -> Self {
        self.backoff = factor;
        self
    }

    /// Spreads each open wait by up to this fraction either way (0.1 by
    /// default), so replicas do not probe a provider in step.
    pub fn jitter(mut self, fraction: f64) -> Self {
        self.jitter = fraction;
        self
    }

    /// The longest `Retry-After` of a failing response that is honoured.
    pub fn retry_after_max(mut self, max: Duration) -> Self {
        self.retry_after_max = max;
        self
    }

    /// How many probe calls half-open admits at once; that many must
    /// succeed to close the breaker.
    pub fn half_open_probes(mut self, probes: u32) -> Self {
        self.half_open_probes = probes;
        self
    }

    /// How long half-open waits for its probes: when probes are still
    /// unanswered this long after the latest one was admitted, it opens
    /// again (with the longer wait).
    pub fn half_open_max_wait(mut self, wait: Duration) -> Self {
        self.half_open_max_wait = wait;
        self
    }

    /// Checks every setting is in range.
    ///
    /// # Errors
    /// The first setting out of range.
    pub fn validate(&self) -> Result<(), CircuitConfigError> {
        let rate = |name, value: f64| {
            if value > 0.0 && value <= 1.0 {
                Ok(())
            } else {
                Err(CircuitConfigError::Rate { name, value })
            }
        };
        match self.window {
            Window::Count(0) => return Err(CircuitConfigError::Zero("the window's call count")),
            Window::Count(n) if n > MAX_WINDOW_CALLS => {
                return Err(CircuitConfigError::Range(
                    "the window holds at most 100,000 calls (a byte each, per key)",
                ));
            }
            Window::Count(n) if self.minimum_calls > n => {
                return Err(CircuitConfigError::Range(
                    "minimum_calls is more than the window holds: nothing could trip it",
                ));
            }
            Window::Time { length, buckets } => {
                if buckets == 0 {
                    return Err(CircuitConfigError::Zero("the window's bucket count"));
                }
                if buckets > MAX_BUCKETS {
                    return Err(CircuitConfigError::Range(
                        "the window has at most 1,000 buckets",
                    ));
                }
                if length / buckets < Duration::from_millis(1) {
                    return Err(CircuitConfigError::Zero(
                        "the window's bucket length (at least 1 ms)",
                    ));
                }
            }
            Window::Count(_) => {}
        }
        if self.minimum_calls == 0 {
            return Err(CircuitConfigError::Zero("minimum_calls"));
        }
        if let Some(value) = self.failure_rate {
            rate("failure_rate", value)?;
        }
        if let Some((slower_than, value)) = self.slow_call {
            rate("slow call rate", value)?;
            if slower_than.is_zero() {
                return Err(CircuitConfigError::Zero("the slow-call duration"));
            }
        }
        if self.consecutive_failures == Some(0) {
            return Err(CircuitConfigError::Zero("consecutive_failures"));
        }
        if self.failure_rate.is_none()
            && self.slow_call.is_none()
            && self.consecutive_failures.is_none()
        {
            return Err(CircuitConfigError::NoCondition);
        }
        if self.open_base.is_zero() {
            return Err(CircuitConfigError::Zero("the open wait"));
        }
        if [self.open_max, self.half_open_max_wait, self.retry_after_max]
            .iter()
            .any(|wait| *wait > MAX_WAIT)
        {
            return Err(CircuitConfigError::Range(
                "open, half-open and Retry-After waits are at most a day",
            ));
        }
        if self.open_max < self.open_base {
            return Err(CircuitConfigError::Range(
                "the open wait's cap is below its base",
            ));
        }
        if !(1.0..=100.0).contains(&self.backoff) {
            return Err(CircuitConfigError::Range("backoff must be from 1 to 100"));
        }
        if !(0.0..1.0).contains(&self.jitter) {
            return Err(CircuitConfigError::Range("jitter must be in [0, 1)"));
        }
        if self.half_open_probes == 0 {
            return Err(CircuitConfigError::Zero("half_open_probes"));
        }
        if self.half_open_probes > MAX_PROBES {
            return Err(CircuitConfigError::Range(
                "half_open_probes must be at most 1,000",
            ));
        }
        if self.half_open_max_wait.is_zero() {
            return Err(CircuitConfigError::Zero("half_open_max_wait"));
        }
        Ok(())
    }

    /// The open wait after `trips` trips in a row (from 1), before jitter.
    pub(crate) fn open_wait(&self, trips: u32) -> Duration {
        let factor = self.backoff.powi(trips.saturating_sub(1).min(64) as i32);
        let wait = self.open_base.as_secs_f64() * factor;
        Duration::from_secs_f64(wait.min(self.open_max.as_secs_f64()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_wait_grows_and_caps() {
        let config =
            CircuitConfig::default().open_for(Duration::from_secs(1), Duration::from_secs(5));
        let waits: Vec<u64> = (1..=5).map(|t| config.open_wait(t).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 5, 5]);
        assert_eq!(config.open_wait(10_000), Duration::from_secs(5));
    }

    #[test]
    fn bad_settings_are_named() {
        let bad = [
            CircuitConfig::default().window(Window::Count(0)),
            CircuitConfig::default().window(Window::Time {
                length: Duration::from_secs(1),
                buckets: 0,
            }),
            CircuitConfig::default().minimum_calls(0),
            CircuitConfig::default().failure_rate(0.0),
            CircuitConfig::default().failure_rate(f64::NAN),
            CircuitConfig::default().slow_calls(Duration::ZERO, 0.5),
            CircuitConfig::default().consecutive_failures(0),
            CircuitConfig::default()
                .no_failure_rate()
                .no_consecutive_failures(),
            CircuitConfig::default().open_for(Duration::from_secs(10), Duration::from_secs(1)),
            CircuitConfig::default().backoff(0.5),
            CircuitConfig::default().jitter(1.0),
            CircuitConfig::default().half_open_probes(0),
            CircuitConfig::default().half_open_probes(1_001),
            CircuitConfig::default().window(Window::Count(4_000_000_000)),
            CircuitConfig::default().window(Window::Count(10)),
            CircuitConfig::default().window(Window::Time {
                length: Duration::from_secs(3_600),
                buckets: 100_000,
            }),
            CircuitConfig::default().open_for(Duration::from_secs(1), Duration::MAX),
            CircuitConfig::default().backoff(1e300),
            CircuitConfig::default().retry_after_max(Duration::from_secs(10 * 86_400)),
            CircuitConfig::default().half_open_max_wait(Duration::ZERO),
        ];
        for config in bad {
            let err = config.validate().unwrap_err();
            assert!(!err.to_string().is_empty());
        }
        assert_eq!(CircuitConfig::default().validate(), Ok(()));
    }
}
