//! Quotas and the policies that group them: typed so that a zero or
//! nonsensical quota cannot be built.

use std::fmt;
use std::num::NonZeroU32;
use std::time::Duration;

/// What a quota counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Unit {
    /// Requests: each admitted request costs one.
    Requests,
    /// Model tokens, input and output: a request reserves its estimated
    /// input tokens and settles on the usage the provider reports.
    Tokens,
}

impl Unit {
    /// The name used in policy names and headers.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Requests => "requests",
            Self::Tokens => "tokens",
        }
    }
}

/// A rate: `count` units per `period`, with bursts of up to `burst` units
/// at once (by default the whole `count`).
///
/// It is enforced with GCRA: units are admitted at a steady rate of one
/// every `period / count` (rounded up to a nanosecond, so never faster), and
/// up to `burst` may be taken at once after a quiet spell. Over any span of
/// time `d`, at most `burst + count * d / period` units are admitted.
///
/// ```
/// use std::num::NonZeroU32;
/// use spark_tower::rate_limit::Quota;
///
/// let sixty = NonZeroU32::new(60).unwrap();
/// let quota = Quota::per_minute(sixty).with_burst(NonZeroU32::new(10).unwrap());
/// assert_eq!(quota.count(), 60);
/// assert_eq!(quota.burst(), 10);
/// assert_eq!(quota.period().as_secs(), 60);
/// assert!(Quota::new(sixty, std::time::Duration::ZERO).is_none());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Quota {
    count: NonZeroU32,
    period: Duration,
    burst: NonZeroU32,
}

/// The longest period a quota may have (a year), so that every figure
/// derived from it fits in 64-bit nanoseconds.
pub const MAX_PERIOD: Duration = Duration::from_secs(366 * 24 * 3600);

impl Quota {
    /// `count` per `period`; `None` for a period under a millisecond or
    /// over [`MAX_PERIOD`].
    pub fn new(count: NonZeroU32, period: Duration) -> Option<Self> {
        (period >= Duration::from_millis(1) && period <= MAX_PERIOD).then_some(Self {
            count,
            period,
            burst: count,
        })
    }

    /// `count` per second.
    pub const fn per_second(count: NonZeroU32) -> Self {
        Self::fixed(count, 1)
    }

    /// `count` per minute.
    pub const fn per_minute(count: NonZeroU32) -> Self {
        Self::fixed(count, 60)
    }

    /// `count` per hour.
    pub const fn per_hour(count: NonZeroU32) -> Self {
        Self::fixed(count, 3600)
    }

    /// `count` per day.
    pub const fn per_day(count: NonZeroU32) -> Self {
        Self::fixed(count, 86_400)
    }

    const fn fixed(count: NonZeroU32, seconds: u64) -> Self {
        Self {
            count,
            period: Duration::from_secs(seconds),
            burst: count,
        }
    }

    /// Allows bursts of up to `burst` units at once.
    pub const fn with_burst(mut self, burst: NonZeroU32) -> Self {
        self.burst = burst;
        self
    }

    /// Units per period.
    pub const fn count(&self) -> u32 {
        self.count.get()
    }

    /// The period.
    pub const fn period(&self) -> Duration {
        self.period
    }

    /// Units that may be taken at once.
    pub const fn burst(&self) -> u32 {
        self.burst.get()
    }

    /// Nanoseconds per unit, rounded up: the GCRA emission interval.
    pub(crate) fn interval_nanos(&self) -> u64 {
        // At most a year in nanoseconds (3.2e16) over at least 1: fits.
        let period = self.period.as_nanos() as u64;
        period.div_ceil(u64::from(self.count.get()))
    }

    /// Nanoseconds of credit a full burst holds (saturating: a burst far
    /// beyond the count is as good as unlimited).
    pub(crate) fn capacity_nanos(&self) -> u64 {
        self.interval_nanos()
            .saturating_mul(u64::from(self.burst.get()))
    }
}

impl fmt::Debug for Quota {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Quota({} per {:?}, burst {})",
            self.count, self.period, self.burst
        )
    }
}

/// One quota of a policy, with its unit and the name headers give it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limit {
    pub(crate) name: Box<str>,
    pub(crate) unit: Unit,
    pub(crate) quota: Quota,
    pub(crate) interval: u64,
    pub(crate) capacity: u64,
}

impl Limit {
    fn new(unit: Unit, quota: Quota) -> Self {
        let period = quota.period();
        let whole = period.subsec_nanos() == 0;
        let window = match period.as_secs() {
            86_400 if whole => "day".to_owned(),
            3600 if whole => "hour".to_owned(),
            60 if whole => "minute".to_owned(),
            1 if whole => "second".to_owned(),
            _ => format!("{}ms", period.as_millis()),
        };
        Self {
            name: format!("{}-per-{window}", unit.as_str()).into(),
            unit,
            quota,
            interval: quota.interval_nanos(),
            capacity: quota.capacity_nanos(),
        }
    }

    /// The name headers give this quota, such as `requests-per-minute`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// What the quota counts.
    pub fn unit(&self) -> Unit {
        self.unit
    }

    /// The quota.
    pub fn quota(&self) -> Quota {
        self.quota
    }
}

/// The most quotas one policy may hold.
pub const MAX_LIMITS: usize = 6;

/// The quotas one tier (or one user) is held to: any number of request
/// and token quotas up to [`MAX_LIMITS`], all of which a request must fit.
///
/// ```
/// use std::num::NonZeroU32;
/// use spark_tower::rate_limit::{Policy, Quota};
///
/// let n = |n| NonZeroU32::new(n).unwrap();
/// let pro = Policy::new()
///     .requests(Quota::per_minute(n(600)).with_burst(n(50)))
///     .requests(Quota::per_day(n(100_000)))
///     .tokens(Quota::per_minute(n(200_000)));
/// assert_eq!(pro.limits().len(), 3);
/// assert!(pro.has_tokens());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Policy {
    limits: Vec<Limit>,
}

impl Policy {
    /// A policy with no quota yet (one that admits everything).
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a request quota.
    ///
    /// # Panics
    /// With more than [`MAX_LIMITS`] quotas.
    pub fn requests(self, quota: Quota) -> Self {
        self.with(Unit::Requests, quota)
    }

    /// Adds a token quota.
    ///
    /// # Panics
    /// With more than [`MAX_LIMITS`] quotas.
    pub fn tokens(self, quota: Quota) -> Self {
        self.with(Unit::Tokens, quota)
    }

    fn with(mut self, unit: Unit, quota: Quota) -> Self {
        assert!(
            self.limits.len() < MAX_LIMITS,
            "a policy holds at most {MAX_LIMITS} quotas"
        );
        let mut limit = Limit::new(unit, quota);
        // Two quotas of one unit and window get distinct names.
        let same = self
            .limits
            .iter()
            .filter(|l| l.name.starts_with(&*limit.name))
            .count();
        if same > 0 {
            limit.name = format!("{}-{}", limit.name, same + 1).into();
        }
        self.limits.push(limit);
        self
    }

    /// The quotas, in the order added.
    pub fn limits(&self) -> &[Limit] {
        &self.limits
    }

    /// Whether any quota counts tokens (so requests need an estimate).
    pub fn has_tokens(&self) -> bool {
        self.limits.iter().any(|l| l.unit == Unit::Tokens)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(n: u32) -> NonZeroU32 {
        NonZeroU32::new(n).unwrap()
    }

    #[test]
    fn nonsensical_quotas_cannot_be_built() {
        assert!(Quota::new(n(1), Duration::ZERO).is_none());
        assert!(Quota::new(n(1), Duration::from_micros(999)).is_none());
        assert!(Quota::new(n(1), MAX_PERIOD + Duration::from_secs(1)).is_none());
        assert!(Quota::new(n(1), MAX_PERIOD).is_some());
        assert!(
            NonZeroU32::new(0).is_none(),
            "a zero count is unrepresentable"
        );
    }

    #[test]
    fn intervals_round_up_and_capacity_saturates() {
        assert_eq!(Quota::per_second(n(3)).interval_nanos(), 333_333_334);
        assert_eq!(Quota::per_minute(n(60)).interval_nanos(), 1_000_000_000);
        let q = Quota::per_minute(n(60)).with_burst(n(10));
        assert_eq!(q.capacity_nanos(), 10_000_000_000);
        let huge = Quota::new(n(1), MAX_PERIOD)
            .unwrap()
            .with_burst(n(u32::MAX));
        assert_eq!(huge.capacity_nanos(), u64::MAX);
    }

    #[test]
    fn limits_are_named_by_unit_and_window() {
        let policy = Policy::new()
            .requests(Quota::per_minute(n(60)))
            .requests(Quota::per_day(n(1000)))
            .requests(Quota::per_day(n(2000)))
            .tokens(Quota::new(n(10), Duration::from_millis(1500)).unwrap());
        let names: Vec<&str> = policy.limits().iter().map(Limit::name).collect();
        assert_eq!(
            names,
            [
                "requests-per-minute",
                "requests-per-day",
                "requests-per-day-2",
                "tokens-per-1500ms"
            ]
        );
    }

    #[test]
    #[should_panic(expected = "at most 6")]
    fn too_many_quotas_panic_at_build_time() {
        let mut policy = Policy::new();
        for _ in 0..=MAX_LIMITS {
            policy = policy.requests(Quota::per_second(n(1)));
        }
    }
}
