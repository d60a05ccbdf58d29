//! Injectable monotonic clocks, so tests of time-based layers (circuit
//! breakers, rate limits) need no real sleeps.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
#[cfg(doc)]
use std::time::Instant;

/// A monotonic clock: the time since a fixed origin of its own choosing.
///
/// [`MonotonicClock`] is the default; [`ManualClock`] is moved by hand, so
/// tests of open waits, slow calls, time windows and quotas run without
/// sleeping.
pub trait Clock: Send + Sync + 'static {
    /// The time since this clock's origin; never goes backwards.
    fn now(&self) -> Duration;
}

/// The system's monotonic clock, read through the CPU's time-stamp counter
/// where it is reliable ([`quanta`]) and the operating system's clock
/// otherwise. Reading it costs a few nanoseconds, against about twenty
/// for [`Instant::now`], which matters on paths that read it per request.
#[derive(Clone, Debug)]
pub struct MonotonicClock {
    clock: quanta::Clock,
    origin: u64,
}

impl MonotonicClock {
    /// A clock whose origin is now.
    pub fn new() -> Self {
        let clock = quanta::Clock::new();
        let origin = clock.raw();
        Self { clock, origin }
    }
}

impl Default for MonotonicClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for MonotonicClock {
    fn now(&self) -> Duration {
        Duration::from_nanos(self.clock.delta_as_nanos(self.origin, self.clock.raw()))
    }
}

/// A clock that moves only when told to; clones share the time.
///
/// ```
/// use std::time::Duration;
/// use spark_tower::circuit::{Clock, ManualClock};
///
/// let clock = ManualClock::new();
/// let other = clock.clone();
/// clock.advance(Duration::from_secs(3));
/// assert_eq!(other.now(), Duration::from_secs(3));
/// ```
#[derive(Clone, Default)]
pub struct ManualClock {
    nanos: Arc<AtomicU64>,
}

impl ManualClock {
    /// A clock at its origin.
    pub fn new() -> Self {
        Self::default()
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        self.nanos.fetch_add(
            u64::try_from(by.as_nanos()).unwrap_or(u64::MAX),
            Ordering::SeqCst,
        );
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Duration {
        Duration::from_nanos(self.nanos.load(Ordering::SeqCst))
    }
}

impl fmt::Debug for ManualClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ManualClock").field(&self.now()).finish()
    }
}
