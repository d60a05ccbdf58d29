//! One key's breaker: its state machine, kept in one atomic word.
//!
//! The word holds the state, the half-open probe counts and a generation
//! that every transition bumps. A call admitted in closed state costs one
//! load; a permit remembers the generation it was admitted in, so an
//! outcome that arrives after the state moved on (a slow call finishing
//! after the breaker opened) is not counted against the new state. Probe
//! slots are taken and given back by compare-and-swap on the same word, so
//! half-open never admits more than its probes. Transitions (rare) also
//! take the breaker's own mutex, which orders them with the data they
//! publish (when the open wait ends, when half-open began).

use std::fmt;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use metrics::{Counter, Gauge};

use super::classify::Outcome;
use super::config::CircuitConfig;
use super::window::{Mark, Outcomes, Totals};
use crate::clock::Clock;
use crate::marker::ProviderApi;

/// A breaker's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CircuitState {
    /// Calls pass and their outcomes are counted.
    Closed = 0,
    /// Calls are rejected until the open wait ends.
    Open = 1,
    /// A few probe calls pass; their outcomes decide.
    HalfOpen = 2,
    /// Set by hand: every call is rejected until reset.
    ForcedOpen = 3,
    /// Set by hand: every call passes and nothing trips it until reset.
    ForcedClosed = 4,
}

impl CircuitState {
    /// The state's name, as a metrics label.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Closed => "closed",
            Self::Open => "open",
            Self::HalfOpen => "half_open",
            Self::ForcedOpen => "forced_open",
            Self::ForcedClosed => "forced_closed",
        }
    }

    /// The value of the `spark_circuit_state` gauge: 0 closed, 1 open,
    /// 2 half-open, 3 forced open, 4 forced closed.
    pub const fn gauge(self) -> f64 {
        match self {
            Self::Closed => 0.0,
            Self::Open => 1.0,
            Self::HalfOpen => 2.0,
            Self::ForcedOpen => 3.0,
            Self::ForcedClosed => 4.0,
        }
    }
}

impl fmt::Display for CircuitState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

// The word: bits 0-2 state, 3-18 probes in flight, 19-34 probe successes,
// 35-63 the generation.
const STATE_BITS: u64 = 0b111;
const PROBE_ONE: u64 = 1 << 3;
const PROBE_MASK: u64 = 0xFFFF << 3;
const SUCCESS_ONE: u64 = 1 << 19;
const SUCCESS_MASK: u64 = 0xFFFF << 19;
const GENERATION_SHIFT: u32 = 35;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Word(u64);

impl Word {
    fn new(state: CircuitState, generation: u64) -> Self {
        Self(state as u64 | generation << GENERATION_SHIFT)
    }

    #[inline]
    fn state(self) -> CircuitState {
        match self.0 & STATE_BITS {
            0 => CircuitState::Closed,
            1 => CircuitState::Open,
            2 => CircuitState::HalfOpen,
            3 => CircuitState::ForcedOpen,
            _ => CircuitState::ForcedClosed,
        }
    }

    fn generation(self) -> u64 {
        self.0 >> GENERATION_SHIFT
    }

    fn probes(self) -> u32 {
        ((self.0 & PROBE_MASK) >> 3) as u32
    }

    fn successes(self) -> u32 {
        ((self.0 & SUCCESS_MASK) >> 19) as u32
    }

    /// The next state, in the next generation (it wraps: a permit that
    /// outlives 2^29 transitions is the only one misread).
    fn next(self, state: CircuitState) -> Self {
        Self::new(state, (self.generation() + 1) & ((1 << 29) - 1))
    }
}

/// A call turned away: its breaker, and when to try again.
#[derive(Debug)]
pub(crate) struct Refusal {
    pub breaker: Arc<Breaker>,
    pub retry_after: Duration,
}

/// The per-key counters of the metrics facade, registered once.
struct BreakerMetrics {
    success: Counter,
    failure: Counter,
    ignored: Counter,
    rejected: Counter,
    state: Gauge,
}

impl BreakerMetrics {
    fn new(key: &Arc<str>) -> Self {
        let calls = |outcome: &'static str| metrics::counter!("spark_circuit_calls_total", "key" => key.to_string(), "outcome" => outcome);
        Self {
            success: calls("success"),
            failure: calls("failure"),
            ignored: calls("ignored"),
            rejected: calls("rejected"),
            state: metrics::gauge!("spark_circuit_state", "key" => key.to_string()),
        }
    }
}

/// One key's breaker.
pub(crate) struct Breaker {
    key: Arc<str>,
    config: CircuitConfig,
    clock: Arc<dyn Clock>,
    /// Read by every call: kept off the cache lines that calls write (the
    /// `Arc`'s counts, the window's counters).
    word: Padded<AtomicU64>,
    outcomes: Outcomes,
    consecutive: AtomicU32,
    /// Clock nanoseconds when the open wait ends.
    open_until: AtomicU64,
    /// Clock nanoseconds when the latest probe was admitted (or half-open
    /// began): probes still in flight `half_open_max_wait` after it are
    /// overdue.
    last_probe_at: AtomicU64,
    /// Clock nanoseconds until which failing responses asked, with
    /// `Retry-After`, not to be called again (0: none since the last close).
    retry_after_until: AtomicU64,
    trips: AtomicU64,
    trips_in_row: AtomicU32,
    transition: Mutex<()>,
    metrics: BreakerMetrics,
    /// The last open-breaker body: its seconds, API shape and bytes.
    rejection: Mutex<Option<(u64, Option<ProviderApi>, Bytes)>>,
    /// Whether admitting a call reads the clock (slow calls are judged):
    /// `config.slow_call.is_some()`, kept beside the hot fields.
    timed_calls: bool,
}

impl fmt::Debug for Breaker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Breaker")
            .field("key", &self.key)
            .field("state", &self.state())
            .finish_non_exhaustive()
    }
}

/// A value on cache lines of its own (two, as adjacent lines are fetched
/// together on common CPUs).
#[derive(Debug)]
#[repr(align(128))]
struct Padded<T>(T);

impl<T> std::ops::Deref for Padded<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

impl Breaker {
    pub(crate) fn new(key: Arc<str>, config: CircuitConfig, clock: Arc<dyn Clock>) -> Self {
        let metrics = BreakerMetrics::new(&key);
        metrics.state.set(CircuitState::Closed.gauge());
        Self {
            outcomes: Outcomes::new(config.window),
            timed_calls: config.slow_call.is_some(),
            key,
            config,
            clock,
            word: Padded(AtomicU64::new(Word::new(CircuitState::Closed, 0).0)),
            consecutive: AtomicU32::new(0),
            open_until: AtomicU64::new(0),
            last_probe_at: AtomicU64::new(0),
            retry_after_until: AtomicU64::new(0),
            trips: AtomicU64::new(0),
            trips_in_row: AtomicU32::new(0),
            transition: Mutex::new(()),
            metrics,
            rejection: Mutex::new(None),
        }
    }

    pub(crate) fn key(&self) -> &Arc<str> {
        &self.key
    }

    fn load(&self) -> Word {
        Word(self.word.load(Ordering::Acquire))
    }

    pub(crate) fn state(&self) -> CircuitState {
        self.load().state()
    }

    /// Admits a call, or refuses it with the time until the next try.
    #[inline]
    pub(crate) fn admit(self: Arc<Self>) -> Result<Permit, Refusal> {
        loop {
            let word = self.load();
            match word.state() {
                CircuitState::Closed | CircuitState::ForcedClosed => {
                    let started = self.timed_calls.then(|| self.clock.now());
                    return Ok(Permit::new(self, word, false, started));
                }
                CircuitState::ForcedOpen => {
                    self.metrics.rejected.increment(1);
                    let retry_after = self.config.open_base;
                    return Err(Refusal {
                        breaker: self,
                        retry_after,
                    });
                }
                CircuitState::Open => {
                    let now = self.clock.now();
                    let until = self.open_until.load(Ordering::Acquire);
                    if nanos(now) < until {
                        self.metrics.rejected.increment(1);
                        return Err(Refusal {
                            breaker: self,
                            retry_after: Duration::from_nanos(until - nanos(now)),
                        });
                    }
                    self.to_half_open(word, now);
                }
                CircuitState::HalfOpen => {
                    let now = self.clock.now();
                    if self.probes_overdue(word, now) {
                        self.reopen(word, now, "probes did not finish in time");
                        continue;
                    }
                    if word.probes() >= self.config.half_open_probes {
                        // As if open: the probes in flight decide soon.
                        self.metrics.rejected.increment(1);
                        return Err(Refusal {
                            breaker: self,
                            retry_after: Duration::from_secs(1),
                        });
                    }
                    let taken = Word(word.0 + PROBE_ONE);
                    if self
                        .word
                        .compare_exchange(word.0, taken.0, Ordering::AcqRel, Ordering::Acquire)
                        .is_ok()
                    {
                        self.last_probe_at.fetch_max(nanos(now), Ordering::AcqRel);
                        let started = self.timed_calls.then_some(now);
                        return Ok(Permit::new(self, taken, true, started));
                    }
                }
            }
        }
    }

    /// Whether probes are in flight and none was admitted for the
    /// half-open maximum wait: they are taking too long. (A probe admitted
    /// later is younger than that; slots that free up admit new probes, so
    /// a probe that hangs while others succeed does not hold the breaker.)
    fn probes_overdue(&self, word: Word, now: Duration) -> bool {
        word.probes() > 0
            && nanos(now)
                >= self
                    .last_probe_at
                    .load(Ordering::Acquire)
                    .saturating_add(nanos(self.config.half_open_max_wait))
    }

    /// Records the outcome of a call admitted in `generation` (as a probe
    /// or not).
    pub(crate) fn finish(
        &self,
        generation: u32,
        probe: bool,
        outcome: Outcome,
        slow: bool,
        retry_after: Option<Duration>,
    ) {
        match outcome {
            Outcome::Success => self.metrics.success.increment(1),
            Outcome::Failure => self.metrics.failure.increment(1),
            Outcome::Ignored => self.metrics.ignored.increment(1),
        }
        let word = self.load();
        if word.generation() as u32 != generation {
            // Admitted in a state that has passed: not counted in this one.
            return;
        }
        match word.state() {
            CircuitState::Closed | CircuitState::ForcedClosed if outcome != Outcome::Ignored => {
                self.record(word, outcome == Outcome::Failure, slow, retry_after);
            }
            CircuitState::HalfOpen if probe => {
                let now = self.clock.now();
                match outcome {
                    Outcome::Ignored => self.release(generation),
                    Outcome::Failure => {
                        if let Some(asked) = retry_after {
                            self.note_retry_after(now, asked);
                        }
                        self.reopen(word, now, "a probe failed");
                    }
                    Outcome::Success if slow => self.reopen(word, now, "a probe was slow"),
                    Outcome::Success => self.probe_succeeded(generation),
                }
            }
            _ => {}
        }
    }

    /// Notes until when a failing response asked not to be called again.
    fn note_retry_after(&self, now: Duration, asked: Duration) {
        let until = nanos(now).saturating_add(nanos(asked.min(self.config.retry_after_max)));
        self.retry_after_until.fetch_max(until, Ordering::AcqRel);
    }

    /// Counts a call in closed state and trips the breaker if that makes a
    /// condition hold. (Only failures carry a `Retry-After`.)
    fn record(&self, word: Word, failure: bool, slow: bool, retry_after: Option<Duration>) {
        if !failure && !slow {
            self.count_success();
            return;
        }
        let now = self.clock.now();
        self.outcomes.record(now, Mark { failure, slow });
        if let Some(asked) = retry_after {
            self.note_retry_after(now, asked);
        }
        let in_row = if failure {
            self.consecutive.fetch_add(1, Ordering::Relaxed) + 1
        } else {
            self.end_failure_run();
            0
        };
        if word.state() == CircuitState::Closed {
            let totals = self.outcomes.totals(now);
            if let Some(reason) = self.trips_on(totals, in_row) {
                self.trip(word, now, reason);
            }
        }
    }

    /// Counts a success in time: nothing can trip on it.
    #[inline(always)]
    fn count_success(&self) {
        let now = if self.outcomes.timed() {
            self.clock.now()
        } else {
            Duration::ZERO
        };
        self.outcomes.record(now, Mark::default());
        self.end_failure_run();
    }

    /// Ends the run of failures in a row (written only when there is one,
    /// so successes do not contend on the line).
    #[inline]
    fn end_failure_run(&self) {
        if self.consecutive.load(Ordering::Relaxed) != 0 {
            self.consecutive.store(0, Ordering::Relaxed);
        }
    }

    /// [`finish`](Self::finish) for the common case, a closed-state call
    /// that succeeded in time: nothing can trip, so only the window and the
    /// run of failures are touched.
    fn succeeded(&self, generation: u32) {
        self.metrics.success.increment(1);
        let word = self.load();
        if word.generation() as u32 != generation {
            return;
        }
        // A closed-state permit in another state has another generation.
        if matches!(
            word.state(),
            CircuitState::Closed | CircuitState::ForcedClosed
        ) {
            self.count_success();
        }
    }

    /// A stream whose head counted as a success failed midway, after its
    /// permit was settled (a probe is judged at its head): a failure in
    /// closed state, a failed probe in half-open.
    pub(crate) fn late_failure(&self) {
        self.metrics.failure.increment(1);
        let word = self.load();
        match word.state() {
            CircuitState::Closed | CircuitState::ForcedClosed => {
                self.record(word, true, false, None);
            }
            CircuitState::HalfOpen => {
                self.reopen(word, self.clock.now(), "a probe's stream failed");
            }
            _ => {}
        }
    }

    /// Which condition, if any, trips the breaker on these totals.
    fn trips_on(&self, totals: Totals, in_row: u32) -> Option<&'static str> {
        let config = &self.config;
        if totals.calls < config.minimum_calls {
            return None;
        }
        if config
            .failure_rate
            .is_some_and(|rate| totals.failure_rate() >= rate)
        {
            return Some("failure rate");
        }
        if config
            .slow_call
            .is_some_and(|(_, rate)| totals.slow_rate() >= rate)
        {
            return Some("slow-call rate");
        }
        if config.consecutive_failures.is_some_and(|n| in_row >= n) {
            return Some("consecutive failures");
        }
        None
    }

    /// Gives a probe's slot back without counting it.
    fn release(&self, generation: u32) {
        let _ = self.end_probe(generation, 0);
    }

    /// Ends a probe of `generation` while that half-open lasts: its slot is
    /// given back and `add` added to the word (a success, or nothing);
    /// the word before, or an error when the probe's half-open has passed.
    fn end_probe(&self, generation: u32, add: u64) -> Result<u64, u64> {
        self.word
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |current| {
                let word = Word(current);
                (word.generation() as u32 == generation
                    && word.state() == CircuitState::HalfOpen
                    && word.probes() > 0)
                    .then_some(current - PROBE_ONE + add)
            })
    }

    fn probe_succeeded(&self, generation: u32) {
        let counted = self.end_probe(generation, SUCCESS_ONE);
        if let Ok(before) = counted {
            let after = Word(before - PROBE_ONE + SUCCESS_ONE);
            if after.successes() >= self.config.half_open_probes {
                self.close(after);
            }
        }
    }

    /// Moves from `expected`'s generation to `to`, under the transition
    /// lock, after `publish` has stored what the new state reads; false
    /// when another transition came first.
    fn transition(
        &self,
        expected: Word,
        allowed: &[CircuitState],
        to: CircuitState,
        publish: impl FnOnce(),
    ) -> bool {
        let _guard = self.transition.lock().unwrap_or_else(|e| e.into_inner());
        let current = self.load();
        if current.generation() != expected.generation() || !allowed.contains(&current.state()) {
            return false;
        }
        publish();
        self.move_to(current, to);
        true
    }

    /// Stores `to` in the next generation (under the transition lock) and
    /// counts the transition; returns the state it left.
    fn move_to(&self, mut current: Word, to: CircuitState) -> CircuitState {
        // Only probe counts change outside the lock: retry on those.
        loop {
            let next = current.next(to);
            match self
                .word
                .compare_exchange(current.0, next.0, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => break,
                Err(seen) => current = Word(seen),
            }
        }
        self.metrics.state.set(to.gauge());
        metrics::counter!(
            "spark_circuit_transitions_total",
            "key" => self.key.to_string(),
            "from" => current.state().as_str(),
            "to" => to.as_str()
        )
        .increment(1);
        current.state()
    }

    fn trip(&self, word: Word, now: Duration, reason: &'static str) {
        self.open(word, CircuitState::Closed, now, reason);
    }

    fn reopen(&self, word: Word, now: Duration, reason: &'static str) {
        self.open(word, CircuitState::HalfOpen, now, reason);
    }

    /// Opens the breaker from `from` (closed or half-open) for the next
    /// wait, counting a trip.
    fn open(&self, word: Word, from: CircuitState, now: Duration, reason: &'static str) {
        let wait = self.open_wait(now);
        let moved = self.transition(word, &[from], CircuitState::Open, || {
            self.open_until
                .store(nanos(now).saturating_add(nanos(wait)), Ordering::Release);
            self.trips.fetch_add(1, Ordering::Relaxed);
            self.trips_in_row.fetch_add(1, Ordering::Relaxed);
            self.consecutive.store(0, Ordering::Relaxed);
        });
        if moved {
            tracing::warn!(
                key = %self.key,
                from = from.as_str(),
                to = "open",
                reason,
                open_for_ms = wait.as_millis() as u64,
                "circuit breaker opened"
            );
        }
    }

    fn to_half_open(&self, word: Word, now: Duration) {
        let moved = self.transition(word, &[CircuitState::Open], CircuitState::HalfOpen, || {
            self.last_probe_at.store(nanos(now), Ordering::Release);
        });
        if moved {
            tracing::info!(key = %self.key, from = "open", to = "half_open", "circuit breaker half-open");
        }
    }

    fn close(&self, word: Word) {
        let moved = self.transition(
            word,
            &[CircuitState::HalfOpen],
            CircuitState::Closed,
            || {
                self.clear();
            },
        );
        if moved {
            tracing::info!(key = %self.key, from = "half_open", to = "closed", "circuit breaker closed");
        }
    }

    /// A fresh start on closing: an empty window, no run of failures or
    /// trips, no `Retry-After` still asked.
    fn clear(&self) {
        self.outcomes.reset();
        self.consecutive.store(0, Ordering::Relaxed);
        self.trips_in_row.store(0, Ordering::Relaxed);
        self.retry_after_until.store(0, Ordering::Relaxed);
    }

    /// The wait of the next trip: grown for each trip in a row, jittered,
    /// and lasting at least as long as failing responses asked with
    /// `Retry-After` (each up to its cap).
    fn open_wait(&self, now: Duration) -> Duration {
        let config = &self.config;
        let trips = self.trips_in_row.load(Ordering::Relaxed) + 1;
        let mut wait = config.open_wait(trips);
        if config.jitter > 0.0 {
            let spread = (rand::random::<f64>() * 2.0 - 1.0) * config.jitter;
            wait = wait.mul_f64(1.0 + spread);
        }
        let asked = self
            .retry_after_until
            .load(Ordering::Acquire)
            .saturating_sub(nanos(now));
        wait.max(Duration::from_nanos(asked))
    }

    /// Forces a state by hand (forced open, forced closed, or closed for a
    /// reset, which also clears the window and the trip streak).
    pub(crate) fn force(&self, to: CircuitState) {
        let _guard = self.transition.lock().unwrap_or_else(|e| e.into_inner());
        if to == CircuitState::Closed {
            self.clear();
        }
        let from = self.move_to(self.load(), to);
        tracing::info!(key = %self.key, from = %from, to = %to, "circuit breaker set by hand");
    }

    /// What the breaker looks like now, without changing it: an open wait
    /// that has ended shows as half-open, as the next call will find it.
    pub(crate) fn snapshot(&self) -> super::handle::CircuitSnapshot {
        let now = self.clock.now();
        let word = self.load();
        let totals = self.outcomes.totals(now);
        let left = self
            .open_until
            .load(Ordering::Acquire)
            .saturating_sub(nanos(now));
        let (state, until_half_open) = match word.state() {
            CircuitState::Open if left == 0 => (CircuitState::HalfOpen, None),
            CircuitState::Open => (CircuitState::Open, Some(Duration::from_nanos(left))),
            state => (state, None),
        };
        super::handle::CircuitSnapshot {
            key: self.key.to_string(),
            state,
            failure_rate: totals.failure_rate(),
            slow_call_rate: totals.slow_rate(),
            calls: totals.calls,
            until_half_open,
            trips: self.trips.load(Ordering::Relaxed),
        }
    }

    /// The body of a rejection stating `seconds` in `api`'s shape, made
    /// by `make` only when the last one stated something else.
    pub(crate) fn rejection_body(
        &self,
        seconds: u64,
        api: Option<ProviderApi>,
        make: impl FnOnce() -> Bytes,
    ) -> Bytes {
        let mut cached = self.rejection.lock().unwrap_or_else(|e| e.into_inner());
        match &*cached {
            Some((s, a, body)) if *s == seconds && *a == api => body.clone(),
            _ => {
                let body = make();
                *cached = Some((seconds, api, body.clone()));
                body
            }
        }
    }

    pub(crate) fn slow_threshold(&self) -> Option<Duration> {
        self.config.slow_call.map(|(slower_than, _)| slower_than)
    }

    pub(crate) fn now(&self) -> Duration {
        self.clock.now()
    }
}

/// A call's place in its breaker: finished with the call's outcome, or
/// dropped (the client went away), which gives a probe's slot back and
/// counts nothing.
pub(crate) struct Permit {
    /// `None` once the permit is settled or handed on.
    breaker: Option<Arc<Breaker>>,
    /// Clock nanoseconds when the call was admitted, plus one; 0 when slow
    /// calls are not judged.
    started: u64,
    generation: u32,
    probe: bool,
}

impl fmt::Debug for Permit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Permit")
            .field("key", &self.breaker.as_ref().map(|b| b.key.clone()))
            .field("probe", &self.probe)
            .finish_non_exhaustive()
    }
}

impl Permit {
    fn new(breaker: Arc<Breaker>, word: Word, probe: bool, started: Option<Duration>) -> Self {
        Self {
            breaker: Some(breaker),
            started: started.map_or(0, |at| nanos(at).saturating_add(1)),
            generation: word.generation() as u32,
            probe,
        }
    }

    /// Whether the call, answered now, took longer than the slow-call
    /// threshold.
    pub(crate) fn is_slow(&self) -> bool {
        if self.started == 0 {
            return false;
        }
        let Some(breaker) = &self.breaker else {
            return false;
        };
        breaker.slow_threshold().is_some_and(|threshold| {
            nanos(breaker.now()).saturating_sub(self.started - 1) >= nanos(threshold)
        })
    }

    /// Whether this call is a half-open probe.
    pub(crate) fn is_probe(&self) -> bool {
        self.probe
    }

    /// Records the outcome.
    pub(crate) fn finish(mut self, outcome: Outcome, slow: bool, retry_after: Option<Duration>) {
        if let Some(breaker) = self.breaker.take() {
            breaker.finish(self.generation, self.probe, outcome, slow, retry_after);
        }
    }

    /// Hands a closed-state call on to its response body, which settles it
    /// when it ends (see [`Settle`]).
    pub(crate) fn into_settle(mut self, slow: bool) -> Settle {
        Settle {
            breaker: self.breaker.take(),
            generation: self.generation,
            mode: if slow { Mode::CountSlow } else { Mode::Count },
        }
    }

    /// Settles a probe now and keeps its breaker for the body, which only
    /// counts a failure midway.
    pub(crate) fn settle_probe(mut self, slow: bool) -> Settle {
        let breaker = self.breaker.take();
        if let Some(breaker) = &breaker {
            breaker.finish(self.generation, true, Outcome::Success, slow, None);
        }
        Settle {
            breaker,
            generation: self.generation,
            mode: Mode::Watch,
        }
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        // Dropped unsettled (the client went away): a probe's slot is given
        // back, nothing is counted.
        if self.probe
            && let Some(breaker) = self.breaker.take()
        {
            breaker.release(self.generation);
        }
    }
}

/// What a response body still settles for its call, in few bytes (it
/// travels inside every response): the breaker, the generation the call
/// was admitted in, and whether it counts at the end or only watches for a
/// failure midway.
pub(crate) struct Settle {
    breaker: Option<Arc<Breaker>>,
    generation: u32,
    mode: Mode,
}

/// How a body settles its call.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Counted when the body ends (slow or not, as judged at the head).
    Count,
    CountSlow,
    /// Already counted at the head (a probe): only a failure midway counts.
    Watch,
}

impl Settle {
    /// Nothing to settle.
    pub(crate) const NONE: Self = Self {
        breaker: None,
        generation: 0,
        mode: Mode::Watch,
    };

    /// Whether anything is left to settle.
    pub(crate) fn is_pending(&self) -> bool {
        self.breaker.is_some()
    }

    /// Settles with the body's outcome (once; later calls do nothing).
    pub(crate) fn settle(&mut self, outcome: Outcome) {
        let Some(breaker) = self.breaker.take() else {
            return;
        };
        match (self.mode, outcome) {
            (Mode::Watch, Outcome::Failure) => breaker.late_failure(),
            (Mode::Watch, _) => {}
            (Mode::Count, Outcome::Success) => breaker.succeeded(self.generation),
            (mode, outcome) => breaker.finish(
                self.generation,
                false,
                outcome,
                mode == Mode::CountSlow,
                None,
            ),
        }
    }
}
