//! [`ErrorTracker`]: groups errors by fingerprint, with counts, samples,
//! severities and a bound.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use dashmap::DashMap;
use serde::Serialize;

use super::fingerprint::{Fingerprint, scrub};
use crate::clock::{Clock, MonotonicClock};
use crate::problem::RejectionKind;

/// How serious a group of errors is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Expected under load (a 429 from a provider).
    Low,
    /// Worth watching (an overloaded provider, an open breaker).
    Medium,
    /// A failure users see (a 5xx, an unreachable provider).
    High,
    /// A bug or an outage (a panic).
    Critical,
}

impl Severity {
    /// The next level up (critical stays critical).
    pub fn escalated(self) -> Self {
        match self {
            Self::Low => Self::Medium,
            Self::Medium => Self::High,
            Self::High | Self::Critical => Self::Critical,
        }
    }

    /// The lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Critical => "critical",
        }
    }
}

/// Where an error came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorSource {
    /// A response with a 5xx status (from the provider or a layer).
    Status,
    /// A spark-tower layer's rejection, by kind.
    Rejection(RejectionKind),
    /// The inner service returned an error.
    Service,
    /// The inner service panicked.
    Panic,
}

impl ErrorSource {
    /// The kind named in fingerprints and listings: `status`, `service`,
    /// `panic`, or the rejection's slug.
    pub fn name(self) -> &'static str {
        match self {
            Self::Status => "status",
            Self::Rejection(kind) => kind.as_str(),
            Self::Service => "service",
            Self::Panic => "panic",
        }
    }
}

/// One error to record.
#[derive(Clone, Copy, Debug)]
pub struct ErrorEvent<'a> {
    /// Where it came from.
    pub source: ErrorSource,
    /// The provider the request was for, if any.
    pub provider: Option<&'a str>,
    /// The route template (never a raw path).
    pub route: &'a str,
    /// The response status, if there was a response.
    pub status: Option<u16>,
    /// What went wrong; parameterised for the fingerprint, scrubbed for
    /// the sample.
    pub message: &'a str,
}

/// The rules that give a group its severity, and when a group escalates.
///
/// By default: panics are critical; a 429 is low and a 529 (overloaded)
/// medium; other 5xx and service errors are high; rejections by kind (rate
/// limits low, open breakers medium, an unreachable or slow provider high,
/// internal errors critical, others low). A group escalates one level when
/// its count in the current minute reaches 10 and 5 times the previous
/// minute's, not in its first minute, and at most one level above its
/// rule's severity; it comes back after a minute with fewer than 10.
#[derive(Clone, Debug)]
pub struct SeverityRules {
    panic: Severity,
    service: Severity,
    statuses: HashMap<u16, Severity>,
    rejections: HashMap<RejectionKind, Severity>,
    escalate_factor: u64,
    escalate_min: u64,
}

impl Default for SeverityRules {
    fn default() -> Self {
        Self {
            panic: Severity::Critical,
            service: Severity::High,
            statuses: HashMap::from([(429, Severity::Low), (529, Severity::Medium)]),
            rejections: HashMap::from([
                (RejectionKind::RateLimited, Severity::Low),
                (RejectionKind::CircuitOpen, Severity::Medium),
                (RejectionKind::UpstreamUnavailable, Severity::High),
                (RejectionKind::UpstreamTimeout, Severity::High),
                (RejectionKind::Internal, Severity::Critical),
            ]),
            escalate_factor: 5,
            escalate_min: 10,
        }
    }
}

impl SeverityRules {
    /// The severity of panics (critical unless set).
    pub fn panic(mut self, severity: Severity) -> Self {
        self.panic = severity;
        self
    }

    /// The severity of errors the inner service returns (high unless set).
    pub fn service_error(mut self, severity: Severity) -> Self {
        self.service = severity;
        self
    }

    /// The severity of responses with `status`.
    pub fn status(mut self, status: u16, severity: Severity) -> Self {
        self.statuses.insert(status, severity);
        self
    }

    /// The severity of rejections of `kind`.
    pub fn rejection(mut self, kind: RejectionKind, severity: Severity) -> Self {
        self.rejections.insert(kind, severity);
        self
    }

    /// Escalate a group one level above its rule's severity when its count
    /// in the current minute reaches `at_least` and `factor` times the
    /// previous minute's (a quiet minute counts as 1). A group in its first
    /// minute has no previous minute and does not escalate. It returns to
    /// its rule's severity after a minute with fewer than `at_least`.
    pub fn escalate_when(mut self, factor: u64, at_least: u64) -> Self {
        self.escalate_factor = factor.max(1);
        self.escalate_min = at_least.max(1);
        self
    }

    /// The severity of `event` before any escalation.
    pub fn severity(&self, event: &ErrorEvent<'_>) -> Severity {
        match event.source {
            ErrorSource::Panic => self.panic,
            ErrorSource::Service => self.service,
            ErrorSource::Rejection(kind) => {
                self.rejections.get(&kind).copied().unwrap_or(Severity::Low)
            }
            ErrorSource::Status => event
                .status
                .and_then(|s| self.statuses.get(&s).copied())
                .unwrap_or(Severity::High),
        }
    }
}

/// A group as listed: what it is, how often, since when.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GroupSnapshot {
    /// The group's id, as 16 hex digits.
    pub fingerprint: String,
    /// `status`, `service`, `panic` or a rejection's slug.
    pub kind: &'static str,
    /// The provider, if any.
    pub provider: Option<String>,
    /// The route template.
    pub route: String,
    /// The status, if any.
    pub status: Option<u16>,
    /// A scrubbed sample message (the latest).
    pub message: String,
    /// The group's severity (escalations included).
    pub severity: Severity,
    /// Errors recorded.
    pub count: u64,
    /// When the first was recorded (seconds since the Unix epoch).
    pub first_seen: u64,
    /// When the latest was recorded (seconds since the Unix epoch).
    pub last_seen: u64,
}

/// Told of new groups and escalations (to forward them to Sentry, a pager,
/// a log). Called on the recording thread: keep it quick.
pub trait Reporter: Send + Sync + 'static {
    /// A group seen for the first time.
    fn new_group(&self, group: &GroupSnapshot);
    /// A group whose severity rose.
    fn escalated(&self, group: &GroupSnapshot);
}

struct Group {
    source: ErrorSource,
    provider: Option<Box<str>>,
    route: Box<str>,
    status: Option<u16>,
    message: String,
    severity: Severity,
    /// The severity the rules give; escalation goes one level above it.
    base: Severity,
    count: u64,
    first_seen: SystemTime,
    last_seen: SystemTime,
    /// Recency for eviction, on the tracker's clock.
    last_tick: Duration,
    /// The minute (on the tracker's clock) the counts below are for.
    minute: u64,
    this_minute: u64,
    last_minute: u64,
    /// The minute the group was made in (no previous minute to compare).
    first_minute: u64,
}

/// What a record did to its group's severity, to tell once the lock is
/// released.
enum Change {
    New(GroupSnapshot),
    Escalated(GroupSnapshot),
    Calmed(Severity),
}

impl Group {
    /// Counts one more error at `tick` (in `minute`), with a fresh sample
    /// if one was made; escalates or calms the group by `rules`.
    fn add(
        &mut self,
        fingerprint: Fingerprint,
        (tick, minute, now): (Duration, u64, SystemTime),
        sample: Option<String>,
        rules: &SeverityRules,
    ) -> Option<Change> {
        let mut change = None;
        if self.minute != minute {
            self.last_minute = if self.minute + 1 == minute {
                self.this_minute
            } else {
                0
            };
            self.this_minute = 0;
            self.minute = minute;
            if self.severity != self.base && self.last_minute < rules.escalate_min {
                self.severity = self.base;
                change = Some(Change::Calmed(self.base));
            }
        }
        self.count += 1;
        self.this_minute += 1;
        self.last_seen = now;
        self.last_tick = tick;
        if let Some(sample) = sample {
            self.message = sample;
        }
        let surge = minute > self.first_minute
            && self.this_minute >= rules.escalate_min
            && self.this_minute
                >= rules
                    .escalate_factor
                    .saturating_mul(self.last_minute.max(1));
        if surge && self.severity == self.base && self.base != Severity::Critical {
            self.severity = self.base.escalated();
            change = Some(Change::Escalated(self.snapshot(fingerprint)));
        }
        change
    }

    fn snapshot(&self, fingerprint: Fingerprint) -> GroupSnapshot {
        let secs = |t: SystemTime| {
            t.duration_since(SystemTime::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs())
        };
        GroupSnapshot {
            fingerprint: fingerprint.to_string(),
            kind: self.source.name(),
            provider: self.provider.as_deref().map(str::to_owned),
            route: self.route.to_string(),
            status: self.status,
            message: self.message.clone(),
            severity: self.severity,
            count: self.count,
            first_seen: secs(self.first_seen),
            last_seen: secs(self.last_seen),
        }
    }
}

/// Groups errors by [`Fingerprint`]: count, first and last seen, a
/// scrubbed sample, provider, route, status and severity. At most
/// `max_groups` are kept; past it the least recently seen is evicted (and
/// counted). Clones share the groups.
///
/// ```
/// use spark_tower::errors::{ErrorEvent, ErrorSource, ErrorTracker, Severity};
///
/// let tracker = ErrorTracker::new();
/// for id in ["req_aaaaaaaa", "req_bbbbbbbb"] {
///     tracker.record(&ErrorEvent {
///         source: ErrorSource::Status,
///         provider: Some("openai"),
///         route: "/v1/chat/completions",
///         status: Some(502),
///         message: &format!("upstream {id} reset"),
///     });
/// }
/// let groups = tracker.snapshot();
/// assert_eq!(groups.len(), 1);
/// assert_eq!(groups[0].count, 2);
/// assert_eq!(groups[0].severity, Severity::High);
/// ```
#[derive(Clone)]
pub struct ErrorTracker {
    inner: Arc<Inner>,
}

struct Inner {
    groups: DashMap<Fingerprint, Group, foldhash::fast::RandomState>,
    /// Groups held, counted apart: `DashMap::len` locks every shard.
    held: AtomicUsize,
    /// One evictor at a time; only taken past the bound.
    evicting: Mutex<()>,
    max_groups: usize,
    evicted: AtomicU64,
    rules: SeverityRules,
    reporter: Option<Arc<dyn Reporter>>,
    clock: Arc<dyn Clock>,
}

/// The most groups kept unless set otherwise.
pub const DEFAULT_MAX_GROUPS: usize = 1_000;

impl ErrorTracker {
    /// A tracker with the default rules and at most 1,000 groups.
    pub fn new() -> Self {
        Self::builder().build()
    }

    /// A builder.
    pub fn builder() -> ErrorTrackerBuilder {
        ErrorTrackerBuilder {
            max_groups: DEFAULT_MAX_GROUPS,
            rules: SeverityRules::default(),
            reporter: None,
            clock: Arc::new(MonotonicClock::new()),
        }
    }

    /// Records `event` in its group; returns the group's fingerprint.
    ///
    /// Scrubbing, logging and the reporter run outside the group's lock;
    /// a group's sample is refreshed once a minute.
    pub fn record(&self, event: &ErrorEvent<'_>) -> Fingerprint {
        let inner = &*self.inner;
        let fingerprint = Fingerprint::of(
            event.source.name(),
            event.provider,
            event.route,
            event.status,
            event.message,
        );
        let tick = inner.clock.now();
        let minute = tick.as_secs() / 60;
        let when = (tick, minute, SystemTime::now());
        // Within the group's minute, one lookup and no sample. Otherwise
        // the sample is scrubbed first, outside any lock.
        let current = inner.groups.get_mut(&fingerprint).and_then(|mut group| {
            (group.minute == minute).then(|| group.add(fingerprint, when, None, &inner.rules))
        });
        let change = match current {
            Some(change) => change,
            None => {
                let sample = scrub(event.message);
                match inner.groups.entry(fingerprint) {
                    // Its minute turned, or another thread made it meanwhile.
                    dashmap::Entry::Occupied(mut entry) => {
                        entry
                            .get_mut()
                            .add(fingerprint, when, Some(sample), &inner.rules)
                    }
                    dashmap::Entry::Vacant(entry) => {
                        let severity = inner.rules.severity(event);
                        let group = Group {
                            source: event.source,
                            provider: event.provider.map(Into::into),
                            route: event.route.into(),
                            status: event.status,
                            message: sample,
                            severity,
                            base: severity,
                            count: 1,
                            first_seen: when.2,
                            last_seen: when.2,
                            last_tick: tick,
                            minute,
                            this_minute: 1,
                            last_minute: 0,
                            first_minute: minute,
                        };
                        let snapshot = group.snapshot(fingerprint);
                        // Counted before it can be seen: an evictor that
                        // removes it at once must not take the count below
                        // zero.
                        inner.held.fetch_add(1, Ordering::AcqRel);
                        entry.insert(group);
                        Some(Change::New(snapshot))
                    }
                }
            }
        };
        match change {
            Some(Change::New(snapshot)) => {
                tracing::info!(
                    fingerprint = %fingerprint,
                    kind = snapshot.kind,
                    severity = snapshot.severity.as_str(),
                    "new error group"
                );
                if let Some(reporter) = &inner.reporter {
                    reporter.new_group(&snapshot);
                }
                self.evict_past_the_bound();
            }
            Some(Change::Escalated(snapshot)) => {
                tracing::warn!(
                    fingerprint = %fingerprint,
                    severity = snapshot.severity.as_str(),
                    count = snapshot.count,
                    "error group escalated"
                );
                if let Some(reporter) = &inner.reporter {
                    reporter.escalated(&snapshot);
                }
            }
            Some(Change::Calmed(severity)) => {
                tracing::info!(
                    fingerprint = %fingerprint,
                    severity = severity.as_str(),
                    "error group back to its severity"
                );
            }
            None => {}
        }
        fingerprint
    }

    /// Evicts the least recently seen groups while more than `max_groups`
    /// are held, in batches of at least a sixteenth of the bound, so a
    /// tracker at its bound scans its groups once per batch rather than
    /// once per new group.
    fn evict_past_the_bound(&self) {
        let inner = &*self.inner;
        if inner.held.load(Ordering::Acquire) <= inner.max_groups {
            return;
        }
        let _evictor = inner
            .evicting
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        loop {
            let held = inner.held.load(Ordering::Acquire);
            if held <= inner.max_groups {
                return;
            }
            let batch = (held - inner.max_groups).max(inner.max_groups / 16);
            let mut ages: Vec<(Duration, Fingerprint)> = inner
                .groups
                .iter()
                .map(|entry| (entry.last_tick, *entry.key()))
                .collect();
            let batch = batch.min(ages.len());
            if batch == 0 {
                return;
            }
            ages.select_nth_unstable(batch - 1);
            for (_, fingerprint) in &ages[..batch] {
                if inner.groups.remove(fingerprint).is_some() {
                    inner.held.fetch_sub(1, Ordering::AcqRel);
                    inner.evicted.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    }

    /// Every group, most recently seen first.
    pub fn snapshot(&self) -> Vec<GroupSnapshot> {
        let mut groups: Vec<(Duration, GroupSnapshot)> = self
            .inner
            .groups
            .iter()
            .map(|entry| (entry.last_tick, entry.snapshot(*entry.key())))
            .collect();
        groups.sort_by(|a, b| {
            b.0.cmp(&a.0)
                .then_with(|| a.1.fingerprint.cmp(&b.1.fingerprint))
        });
        groups.into_iter().map(|(_, group)| group).collect()
    }

    /// Groups of `severity` (escalations included) seen within `window`
    /// of now, counted without copying any group: for health checks.
    pub fn seen_within(&self, severity: Severity, window: Duration) -> usize {
        let since = SystemTime::now()
            .checked_sub(window)
            .unwrap_or(SystemTime::UNIX_EPOCH);
        self.inner
            .groups
            .iter()
            .filter(|group| group.severity == severity && group.last_seen >= since)
            .count()
    }

    /// Groups held.
    pub fn len(&self) -> usize {
        self.inner.held.load(Ordering::Acquire)
    }

    /// Whether no group is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Groups evicted to stay within the bound.
    pub fn evicted(&self) -> u64 {
        self.inner.evicted.load(Ordering::Relaxed)
    }

    /// The bound on groups.
    pub fn max_groups(&self) -> usize {
        self.inner.max_groups
    }
}

impl Default for ErrorTracker {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for ErrorTracker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ErrorTracker")
            .field("groups", &self.len())
            .field("max_groups", &self.inner.max_groups)
            .field("evicted", &self.evicted())
            .finish()
    }
}

/// Builds an [`ErrorTracker`].
pub struct ErrorTrackerBuilder {
    max_groups: usize,
    rules: SeverityRules,
    reporter: Option<Arc<dyn Reporter>>,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for ErrorTrackerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ErrorTrackerBuilder")
            .field("max_groups", &self.max_groups)
            .field("rules", &self.rules)
            .finish_non_exhaustive()
    }
}

impl ErrorTrackerBuilder {
    /// Keeps at most `groups` groups (at least 1).
    pub fn max_groups(mut self, groups: usize) -> Self {
        self.max_groups = groups.max(1);
        self
    }

    /// The severity rules.
    pub fn rules(mut self, rules: SeverityRules) -> Self {
        self.rules = rules;
        self
    }

    /// Tells `reporter` of new groups and escalations.
    pub fn reporter(mut self, reporter: impl Reporter) -> Self {
        self.reporter = Some(Arc::new(reporter));
        self
    }

    /// The clock of recency and per-minute rates (a
    /// [`ManualClock`](crate::clock::ManualClock) in tests).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The tracker.
    pub fn build(self) -> ErrorTracker {
        ErrorTracker {
            inner: Arc::new(Inner {
                groups: DashMap::with_hasher(foldhash::fast::RandomState::default()),
                held: AtomicUsize::new(0),
                evicting: Mutex::new(()),
                max_groups: self.max_groups,
                evicted: AtomicU64::new(0),
                rules: self.rules,
                reporter: self.reporter,
                clock: self.clock,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::clock::ManualClock;

    fn event<'a>(source: ErrorSource, status: Option<u16>, message: &'a str) -> ErrorEvent<'a> {
        ErrorEvent {
            source,
            provider: Some("openai"),
            route: "/v1/chat/completions",
            status,
            message,
        }
    }

    #[test]
    fn default_severities() {
        let rules = SeverityRules::default();
        let cases = [
            (event(ErrorSource::Panic, None, "boom"), Severity::Critical),
            (
                event(ErrorSource::Status, Some(429), "slow down"),
                Severity::Low,
            ),
            (
                event(ErrorSource::Status, Some(529), "overloaded"),
                Severity::Medium,
            ),
            (
                event(ErrorSource::Status, Some(500), "oops"),
                Severity::High,
            ),
            (event(ErrorSource::Service, None, "io"), Severity::High),
            (
                event(
                    ErrorSource::Rejection(RejectionKind::RateLimited),
                    Some(429),
                    "quota",
                ),
                Severity::Low,
            ),
            (
                event(
                    ErrorSource::Rejection(RejectionKind::CircuitOpen),
                    Some(503),
                    "open",
                ),
                Severity::Medium,
            ),
            (
                event(
                    ErrorSource::Rejection(RejectionKind::UpstreamTimeout),
                    Some(504),
                    "slow",
                ),
                Severity::High,
            ),
            (
                event(
                    ErrorSource::Rejection(RejectionKind::Unauthorized),
                    Some(401),
                    "key",
                ),
                Severity::Low,
            ),
        ];
        for (event, expected) in cases {
            assert_eq!(rules.severity(&event), expected, "{event:?}");
        }
        let custom = SeverityRules::default()
            .status(500, Severity::Critical)
            .rejection(RejectionKind::RateLimited, Severity::Medium);
        assert_eq!(
            custom.severity(&event(ErrorSource::Status, Some(500), "x")),
            Severity::Critical
        );
        assert_eq!(
            custom.severity(&event(
                ErrorSource::Rejection(RejectionKind::RateLimited),
                None,
                "x"
            )),
            Severity::Medium
        );
    }

    #[derive(Default)]
    struct Log(Mutex<Vec<(bool, Severity, u64)>>);

    impl Reporter for Arc<Log> {
        fn new_group(&self, group: &GroupSnapshot) {
            self.0
                .lock()
                .unwrap()
                .push((true, group.severity, group.count));
        }
        fn escalated(&self, group: &GroupSnapshot) {
            self.0
                .lock()
                .unwrap()
                .push((false, group.severity, group.count));
        }
    }

    #[test]
    fn a_surge_escalates_once_a_minute_and_is_reported() {
        let clock = ManualClock::new();
        let log = Arc::new(Log::default());
        let tracker = ErrorTracker::builder()
            .clock(clock.clone())
            .reporter(log.clone())
            .build();
        // A steady minute: 9 errors, no escalation.
        for _ in 0..9 {
            tracker.record(&event(ErrorSource::Status, Some(529), "overloaded"));
        }
        assert_eq!(tracker.snapshot()[0].severity, Severity::Medium);
        // Next minute: the 45th (5 × 9) escalates once, to high (54 in all).
        clock.advance(Duration::from_secs(60));
        for _ in 0..60 {
            tracker.record(&event(ErrorSource::Status, Some(529), "overloaded"));
        }
        let group = &tracker.snapshot()[0];
        assert_eq!(group.severity, Severity::High);
        assert_eq!(group.count, 69);
        assert_eq!(
            *log.0.lock().unwrap(),
            vec![(true, Severity::Medium, 1), (false, Severity::High, 54)]
        );
        // Still surging: escalated once, never past one level above.
        for _ in 0..500 {
            tracker.record(&event(ErrorSource::Status, Some(529), "overloaded"));
        }
        assert_eq!(tracker.snapshot()[0].severity, Severity::High);
        assert_eq!(log.0.lock().unwrap().len(), 2);
        // After quiet minutes the group is back to its rule's severity...
        clock.advance(Duration::from_secs(180));
        tracker.record(&event(ErrorSource::Status, Some(529), "overloaded"));
        assert_eq!(tracker.snapshot()[0].severity, Severity::Medium);
        // ... and a burst of 10 after a quiet minute is a surge again.
        for _ in 0..9 {
            tracker.record(&event(ErrorSource::Status, Some(529), "overloaded"));
        }
        assert_eq!(tracker.snapshot()[0].severity, Severity::High);
        assert_eq!(log.0.lock().unwrap().len(), 3);
    }

    #[test]
    fn a_new_group_does_not_escalate_in_its_first_minute() {
        let clock = ManualClock::new();
        let tracker = ErrorTracker::builder().clock(clock.clone()).build();
        for _ in 0..1_000 {
            tracker.record(&event(ErrorSource::Status, Some(500), "oops"));
        }
        // A busy first minute is how this group starts, not a jump.
        assert_eq!(tracker.snapshot()[0].severity, Severity::High);
        // Steady at the same rate next minute: no jump either.
        clock.advance(Duration::from_secs(60));
        for _ in 0..1_000 {
            tracker.record(&event(ErrorSource::Status, Some(500), "oops"));
        }
        assert_eq!(tracker.snapshot()[0].severity, Severity::High);
        // A jump to five times the previous minute escalates, to critical.
        clock.advance(Duration::from_secs(60));
        for _ in 0..5_000 {
            tracker.record(&event(ErrorSource::Status, Some(500), "oops"));
        }
        assert_eq!(tracker.snapshot()[0].severity, Severity::Critical);
    }

    #[test]
    fn a_huge_factor_does_not_overflow() {
        let clock = ManualClock::new();
        let tracker = ErrorTracker::builder()
            .clock(clock.clone())
            .rules(SeverityRules::default().escalate_when(u64::MAX, 1))
            .build();
        tracker.record(&event(ErrorSource::Status, Some(500), "oops"));
        clock.advance(Duration::from_secs(60));
        for _ in 0..100 {
            tracker.record(&event(ErrorSource::Status, Some(500), "oops"));
        }
        assert_eq!(tracker.snapshot()[0].severity, Severity::High);
    }

    #[test]
    fn recent_groups_are_counted_by_severity() {
        let tracker = ErrorTracker::new();
        tracker.record(&event(ErrorSource::Panic, None, "boom"));
        tracker.record(&event(ErrorSource::Status, Some(500), "oops"));
        let minute = Duration::from_secs(60);
        assert_eq!(tracker.seen_within(Severity::Critical, minute), 1);
        assert_eq!(tracker.seen_within(Severity::High, minute), 1);
        assert_eq!(tracker.seen_within(Severity::Low, minute), 0);
        assert_eq!(tracker.seen_within(Severity::Critical, Duration::ZERO), 0);
    }

    #[test]
    fn panic_and_service_severities_are_configurable() {
        let rules = SeverityRules::default()
            .panic(Severity::High)
            .service_error(Severity::Medium);
        assert_eq!(
            rules.severity(&event(ErrorSource::Panic, None, "boom")),
            Severity::High
        );
        assert_eq!(
            rules.severity(&event(ErrorSource::Service, None, "io")),
            Severity::Medium
        );
    }

    #[test]
    fn the_bound_holds_under_concurrent_new_groups() {
        const THREADS: usize = 8;
        const EACH: usize = 1_000;
        let tracker = ErrorTracker::builder().max_groups(8).build();
        std::thread::scope(|scope| {
            for thread in 0..THREADS {
                let tracker = &tracker;
                scope.spawn(move || {
                    for i in 0..EACH {
                        // Routes are not parameterised: every one is a group.
                        let route = format!("/t{thread}/r{i}");
                        tracker.record(&ErrorEvent {
                            route: &route,
                            ..event(ErrorSource::Status, Some(500), "oops")
                        });
                    }
                });
            }
        });
        assert!(tracker.len() <= 8, "{} groups held", tracker.len());
        assert_eq!(tracker.snapshot().len(), tracker.len());
        assert_eq!(
            tracker.evicted() + tracker.len() as u64,
            (THREADS * EACH) as u64
        );
    }

    #[test]
    fn the_least_recently_seen_group_is_evicted_at_the_bound() {
        let clock = ManualClock::new();
        let tracker = ErrorTracker::builder()
            .max_groups(3)
            .clock(clock.clone())
            .build();
        let routes = ["/a", "/b", "/c", "/d"];
        for route in &routes[..3] {
            clock.advance(Duration::from_secs(1));
            tracker.record(&ErrorEvent {
                route,
                ..event(ErrorSource::Status, Some(500), "x")
            });
        }
        // `/a` is seen again: `/b` is now the oldest.
        clock.advance(Duration::from_secs(1));
        tracker.record(&ErrorEvent {
            route: "/a",
            ..event(ErrorSource::Status, Some(500), "x")
        });
        clock.advance(Duration::from_secs(1));
        tracker.record(&ErrorEvent {
            route: "/d",
            ..event(ErrorSource::Status, Some(500), "x")
        });
        let routes: Vec<String> = tracker.snapshot().into_iter().map(|g| g.route).collect();
        assert_eq!(routes, ["/d", "/a", "/c"]);
        assert_eq!(tracker.evicted(), 1);
        assert_eq!(tracker.len(), 3);
    }

    #[test]
    fn concurrent_recorders_lose_no_count() {
        let tracker = ErrorTracker::new();
        std::thread::scope(|scope| {
            for _ in 0..4 {
                scope.spawn(|| {
                    for i in 0..500 {
                        tracker.record(&event(
                            ErrorSource::Status,
                            Some(502),
                            &format!("reset after {i} ms"),
                        ));
                    }
                });
            }
        });
        let groups = tracker.snapshot();
        assert_eq!(groups.len(), 1);
        assert_eq!(groups[0].count, 2_000);
    }

    #[test]
    fn samples_are_scrubbed() {
        let tracker = ErrorTracker::new();
        tracker.record(&event(
            ErrorSource::Service,
            None,
            "auth failed for Bearer spk_60WSdTTRWl0W2GYy55uryU3aN7Yo on \"Please tell me the launch codes right now\"",
        ));
        let message = &tracker.snapshot()[0].message;
        assert!(!message.contains("spk_"), "{message}");
        assert!(!message.contains("launch codes"), "{message}");
        let json = serde_json::to_string(&tracker.snapshot()).unwrap();
        assert!(!json.contains("spk_"));
    }
}
