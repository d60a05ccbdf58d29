//! Where quota state lives: the [`RateStore`] trait and the in-memory
//! [`MemoryStore`] (GCRA per key, lock-free per key, in a `dashmap`).

use std::fmt;
use std::future::{Future, Ready, ready};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use dashmap::DashMap;

use super::quota::{Limit, MAX_LIMITS, Policy};
use crate::clock::{Clock, MonotonicClock};

/// What each quota of a policy costs one request: 1 for request quotas,
/// the reservation for token quotas.
pub type Costs = [u64; MAX_LIMITS];

/// The state of one quota for one key, after a decision or a peek.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LimitState {
    /// Units that could be taken at once now.
    pub remaining: u64,
    /// Time until the quota is whole again.
    pub reset: Duration,
}

/// The answer of a store: whether the request was admitted, and how much
/// of each quota is in use (read with [`Decision::state`]).
///
/// It holds raw figures (the credit in use, in nanoseconds), so a check
/// whose answer nobody reads costs no division.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decision {
    /// Admitted (and charged), or refused (and not charged at all).
    pub admitted: bool,
    /// For a refusal, how long until the same request would be admitted.
    pub retry_after: Duration,
    /// Which quota refused it (an index into the policy's limits).
    pub refused_by: Option<usize>,
    used: [u64; MAX_LIMITS],
}

impl Decision {
    /// A decision where quota `i` of the policy has `used[i]` of its
    /// credit in use (the time until it is whole again).
    pub fn new(
        admitted: bool,
        retry_after: Duration,
        refused_by: Option<usize>,
        used: &[Duration],
    ) -> Self {
        let mut all = [0; MAX_LIMITS];
        for (slot, used) in all.iter_mut().zip(used) {
            *slot = u64::try_from(used.as_nanos()).unwrap_or(u64::MAX);
        }
        Self {
            admitted,
            retry_after,
            refused_by,
            used: all,
        }
    }

    /// The state of quota `index` of `policy` (the policy the decision
    /// was made under).
    ///
    /// # Panics
    /// When `policy` has no quota `index`.
    pub fn state(&self, policy: &Policy, index: usize) -> LimitState {
        self.state_of(index, &policy.limits()[index])
    }

    /// The state of every quota of `policy`, in order.
    pub fn states<'a>(&'a self, policy: &'a Policy) -> impl Iterator<Item = LimitState> + 'a {
        policy
            .limits()
            .iter()
            .enumerate()
            .map(|(index, limit)| self.state_of(index, limit))
    }

    fn state_of(&self, index: usize, limit: &Limit) -> LimitState {
        let used = self.used.get(index).copied().unwrap_or(0);
        LimitState {
            remaining: limit.capacity.saturating_sub(used) / limit.interval,
            reset: Duration::from_nanos(used),
        }
    }

    fn from_used(
        admitted: bool,
        retry_after: Duration,
        refused_by: Option<usize>,
        used: [u64; MAX_LIMITS],
    ) -> Self {
        Self {
            admitted,
            retry_after,
            refused_by,
            used,
        }
    }
}

/// Why a store could not answer.
#[derive(Debug, thiserror::Error)]
#[error("the rate-limit store is unavailable: {0}")]
pub struct RateStoreError(pub Box<dyn std::error::Error + Send + Sync>);

/// Holds quota state, so that one process's [`MemoryStore`] or a store
/// shared by many replicas (Redis) can back the same layer.
///
/// A store must take a request's costs against every quota of the policy
/// at once or not at all, must not charge a refused request, and keys its
/// state by the string the layer gives it.
pub trait RateStore: Send + Sync + 'static {
    /// The future of an acquisition or a peek.
    type Answer: Future<Output = Result<Decision, RateStoreError>> + Send + 'static;

    /// Takes `costs` from every quota of `policy` for `key`, or none.
    fn acquire(&self, key: &str, policy: &Policy, costs: &Costs) -> Self::Answer;

    /// Where `key`'s quotas stand, taking nothing.
    fn peek(&self, key: &str, policy: &Policy) -> Self::Answer;

    /// Charges (`units > 0`) or refunds (`units < 0`) quota `limit` of
    /// `key`: how token reservations are settled. A charge may take a
    /// quota below zero, so later requests wait until it is paid back.
    fn settle(&self, key: &str, policy: &Policy, limit: usize, units: i64);
}

impl<T: RateStore> RateStore for Arc<T> {
    type Answer = T::Answer;

    fn acquire(&self, key: &str, policy: &Policy, costs: &Costs) -> Self::Answer {
        (**self).acquire(key, policy, costs)
    }

    fn peek(&self, key: &str, policy: &Policy) -> Self::Answer {
        (**self).peek(key, policy)
    }

    fn settle(&self, key: &str, policy: &Policy, limit: usize, units: i64) {
        (**self).settle(key, policy, limit, units);
    }
}

/// One key's state: a theoretical arrival time per quota, in nanoseconds
/// on the store's clock (0 for untouched).
///
/// A key whose quotas are all whole may be forgotten even with a
/// settlement still to come: a refund cannot make a whole quota fuller,
/// and a charge to a forgotten key recreates it whole and charges it.
#[derive(Default)]
struct Cells {
    tats: [AtomicU64; MAX_LIMITS],
}

impl Cells {
    /// Whether every quota is whole at `now`: then forgetting the key
    /// changes nothing.
    fn is_whole(&self, now: u64) -> bool {
        self.tats
            .iter()
            .all(|tat| tat.load(Ordering::Acquire) <= now)
    }
}

/// The charge of `cost` units, capped at a whole burst: a request that
/// alone exceeds the burst is admitted when the quota is whole, and its
/// settlement charges the rest.
fn charge(limit: &Limit, cost: u64) -> u64 {
    cost.saturating_mul(limit.interval).min(limit.capacity)
}

/// An in-memory [`RateStore`]: GCRA per key in a sharded `dashmap`, each
/// key's quotas in atomics, so keys never wait for each other and one key
/// never takes a lock beyond its shard's read lock.
///
/// Memory stays bounded: keys whose quotas are all whole again (nothing
/// to remember) are evicted, whenever the number of keys reaches twice what
/// it was at the last sweep, and at least once a minute while requests
/// arrive. A key costs about 116 bytes with a 10-byte name, map slack
/// included (measured in `tests/allocations.rs`).
///
/// ```
/// use std::num::NonZeroU32;
/// use spark_tower::rate_limit::{MemoryStore, Policy, Quota, RateStore};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let store = MemoryStore::new();
/// let policy = Policy::new().requests(Quota::per_minute(NonZeroU32::new(2).unwrap()));
/// let one = [1, 0, 0, 0, 0, 0];
/// assert!(store.acquire("alice", &policy, &one).await.unwrap().admitted);
/// assert!(store.acquire("alice", &policy, &one).await.unwrap().admitted);
/// let third = store.acquire("alice", &policy, &one).await.unwrap();
/// assert!(!third.admitted);
/// assert!(third.retry_after > std::time::Duration::from_secs(29));
/// assert_eq!(store.peek("bob", &policy).await.unwrap().state(&policy, 0).remaining, 2);
/// # }
/// ```
pub struct MemoryStore {
    keys: DashMap<Box<str>, Cells, foldhash::fast::RandomState>,
    clock: Arc<dyn Clock>,
    sweep: SweepSchedule,
}

/// When to look for whole keys to evict.
struct SweepSchedule {
    /// Keys in the map, counted as they are added and recounted by each
    /// sweep (`DashMap::len` visits every shard).
    keys: AtomicU64,
    /// Sweep when the map reaches this many keys.
    at_len: AtomicU64,
    /// Or at this time (nanoseconds).
    at_time: AtomicU64,
    evicted: AtomicU64,
}

/// Fewest keys before a growth-triggered sweep.
const MIN_SWEEP_LEN: u64 = 1024;
/// Longest time between sweeps while requests arrive.
const SWEEP_EVERY: u64 = 60_000_000_000;

impl MemoryStore {
    /// An empty store on the monotonic clock.
    pub fn new() -> Self {
        Self::with_clock(MonotonicClock::new())
    }

    /// An empty store on `clock` (a [`ManualClock`](crate::clock::ManualClock)
    /// in tests).
    pub fn with_clock(clock: impl Clock) -> Self {
        Self {
            keys: DashMap::with_hasher(foldhash::fast::RandomState::default()),
            clock: Arc::new(clock),
            sweep: SweepSchedule {
                keys: AtomicU64::new(0),
                at_len: AtomicU64::new(MIN_SWEEP_LEN),
                at_time: AtomicU64::new(SWEEP_EVERY),
                evicted: AtomicU64::new(0),
            },
        }
    }

    /// Nanoseconds since the clock's origin, plus one so that 0 stays
    /// "untouched".
    fn now(&self) -> u64 {
        u64::try_from(self.clock.now().as_nanos()).unwrap_or(u64::MAX - 1) + 1
    }

    /// How many keys the store remembers.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the store remembers no key.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Keys evicted so far.
    pub fn evicted(&self) -> u64 {
        self.sweep.evicted.load(Ordering::Relaxed)
    }

    /// Forgets every key whose quotas are all whole; returns how many.
    pub fn sweep(&self) -> usize {
        let now = self.now();
        let before = self.keys.len();
        self.keys.retain(|_, cells| !cells.is_whole(now));
        let after = self.keys.len();
        self.sweep.keys.store(after as u64, Ordering::Relaxed);
        let evicted = before.saturating_sub(after);
        self.sweep
            .evicted
            .fetch_add(evicted as u64, Ordering::Relaxed);
        // Room for the population just seen to come back without another
        // growth sweep; the minute's sweep forgets what went quiet.
        self.sweep
            .at_len
            .store((before as u64 * 2).max(MIN_SWEEP_LEN), Ordering::Relaxed);
        self.sweep
            .at_time
            .store(now + SWEEP_EVERY, Ordering::Relaxed);
        evicted
    }

    /// Runs `f` on `key`'s cells, creating them if needed. With `sweeping`,
    /// a sweep is due when a minute has passed, or when a new key brings
    /// the map to the sweep length (counting the map visits every shard, so
    /// only then); one caller claims it, the others go on.
    fn with_cells<R>(&self, key: &str, now: u64, sweeping: bool, f: impl FnOnce(&Cells) -> R) -> R {
        let schedule = &self.sweep;
        if sweeping {
            let due = schedule.at_time.load(Ordering::Relaxed);
            if now >= due
                && schedule
                    .at_time
                    .compare_exchange(
                        due,
                        now.saturating_add(SWEEP_EVERY),
                        Ordering::Relaxed,
                        Ordering::Relaxed,
                    )
                    .is_ok()
            {
                self.sweep();
            }
        }
        if let Some(cells) = self.keys.get(key) {
            return f(&cells);
        }
        if sweeping {
            let at_len = schedule.at_len.load(Ordering::Relaxed);
            if schedule.keys.load(Ordering::Relaxed) >= at_len
                && schedule
                    .at_len
                    .compare_exchange(at_len, u64::MAX, Ordering::Relaxed, Ordering::Relaxed)
                    .is_ok()
            {
                self.sweep();
            }
        }
        let cells = match self.keys.entry(key.into()) {
            dashmap::Entry::Occupied(entry) => entry.into_ref(),
            dashmap::Entry::Vacant(entry) => {
                schedule.keys.fetch_add(1, Ordering::Relaxed);
                entry.insert(Cells::default())
            }
        };
        f(&cells.downgrade())
    }

    /// The synchronous acquisition behind [`RateStore::acquire`].
    pub fn try_acquire(&self, key: &str, policy: &Policy, costs: &Costs) -> Decision {
        let now = self.now();
        let limits = policy.limits();
        self.with_cells(key, now, true, |cells| acquire(cells, limits, costs, now))
    }

    /// The synchronous peek behind [`RateStore::peek`].
    pub fn try_peek(&self, key: &str, policy: &Policy) -> Decision {
        let now = self.now();
        let mut used = [0; MAX_LIMITS];
        if let Some(cells) = self.keys.get(key) {
            for (slot, tat) in used.iter_mut().zip(&cells.tats).take(policy.limits().len()) {
                *slot = tat.load(Ordering::Acquire).saturating_sub(now);
            }
        }
        Decision::from_used(true, Duration::ZERO, None, used)
    }
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryStore")
            .field("keys", &self.len())
            .field("evicted", &self.evicted())
            .finish()
    }
}

/// GCRA over every quota at once: each quota's arrival time moves forward
/// by its cost if all fit; if one does not, the ones already moved are
/// moved back.
fn acquire(cells: &Cells, limits: &[Limit], costs: &Costs, now: u64) -> Decision {
    let mut used = [0; MAX_LIMITS];
    for (i, limit) in limits.iter().enumerate() {
        let charge = charge(limit, costs[i]);
        let cell = &cells.tats[i];
        let mut tat = cell.load(Ordering::Acquire);
        loop {
            let next = tat.max(now).saturating_add(charge);
            if next - now > limit.capacity {
                for (j, earlier) in limits[..i].iter().enumerate() {
                    let back = self::charge(earlier, costs[j]);
                    let _ = cells.tats[j].fetch_update(Ordering::AcqRel, Ordering::Acquire, |t| {
                        Some(t.saturating_sub(back))
                    });
                }
                return refusal(cells, limits, costs, now, i);
            }
            match cell.compare_exchange_weak(tat, next, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => {
                    used[i] = next - now;
                    break;
                }
                Err(current) => tat = current,
            }
        }
    }
    Decision::from_used(true, Duration::ZERO, None, used)
}

/// The refusal by quota `by`: every quota's state, and the wait until all
/// of them would admit the same costs.
fn refusal(cells: &Cells, limits: &[Limit], costs: &Costs, now: u64, by: usize) -> Decision {
    let mut used = [0; MAX_LIMITS];
    let mut wait = 0;
    for (i, limit) in limits.iter().enumerate() {
        let tat = cells.tats[i].load(Ordering::Acquire);
        used[i] = tat.saturating_sub(now);
        let need = tat.max(now).saturating_add(charge(limit, costs[i])) - now;
        wait = wait.max(need.saturating_sub(limit.capacity));
    }
    Decision::from_used(false, Duration::from_nanos(wait), Some(by), used)
}

/// Charges or refunds `units` of quota `limit` on `cells`.
fn settle(cells: &Cells, limit: &Limit, index: usize, units: i64, now: u64) {
    let amount = units.unsigned_abs().saturating_mul(limit.interval);
    let _ = cells.tats[index].fetch_update(Ordering::AcqRel, Ordering::Acquire, |tat| {
        Some(if units >= 0 {
            tat.max(now).saturating_add(amount)
        } else {
            tat.saturating_sub(amount)
        })
    });
}

impl RateStore for MemoryStore {
    type Answer = Ready<Result<Decision, RateStoreError>>;

    fn acquire(&self, key: &str, policy: &Policy, costs: &Costs) -> Self::Answer {
        ready(Ok(self.try_acquire(key, policy, costs)))
    }

    fn peek(&self, key: &str, policy: &Policy) -> Self::Answer {
        ready(Ok(self.try_peek(key, policy)))
    }

    fn settle(&self, key: &str, policy: &Policy, limit: usize, units: i64) {
        let Some(quota) = policy.limits().get(limit) else {
            return;
        };
        let now = self.now();
        if units < 0 && !self.keys.contains_key(key) {
            // A forgotten key is whole: a refund cannot make it fuller.
            return;
        }
        // Settling runs in response bodies' drops: it never sweeps.
        self.with_cells(key, now, false, |cells| {
            settle(cells, quota, limit, units, now)
        });
    }
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroU32;

    use proptest::prelude::*;

    use super::*;
    use crate::clock::ManualClock;
    use crate::rate_limit::Quota;

    fn n(n: u32) -> NonZeroU32 {
        NonZeroU32::new(n).unwrap()
    }

    const ONE: Costs = [1; MAX_LIMITS];

    fn store() -> (MemoryStore, ManualClock) {
        let clock = ManualClock::new();
        (MemoryStore::with_clock(clock.clone()), clock)
    }

    #[test]
    fn exact_admission_sequence() {
        let (store, clock) = store();
        let policy = Policy::new().requests(Quota::per_minute(n(60)).with_burst(n(10)));
        for i in 0..10 {
            let d = store.try_acquire("u", &policy, &ONE);
            assert!(d.admitted, "request {i}");
            assert_eq!(d.state(&policy, 0).remaining, 9 - i);
        }
        let refused = store.try_acquire("u", &policy, &ONE);
        assert!(!refused.admitted);
        assert_eq!(refused.refused_by, Some(0));
        assert_eq!(refused.retry_after, Duration::from_secs(1));
        assert_eq!(refused.state(&policy, 0).remaining, 0);
        assert_eq!(refused.state(&policy, 0).reset, Duration::from_secs(10));
        clock.advance(Duration::from_millis(999));
        assert!(!store.try_acquire("u", &policy, &ONE).admitted);
        clock.advance(Duration::from_millis(1));
        assert!(store.try_acquire("u", &policy, &ONE).admitted);
        let again = store.try_acquire("u", &policy, &ONE);
        assert_eq!(again.retry_after, Duration::from_secs(1));
        // Other keys are untouched; a long pause restores the full burst.
        assert_eq!(store.try_peek("v", &policy).state(&policy, 0).remaining, 10);
        clock.advance(Duration::from_secs(100));
        assert_eq!(store.try_peek("u", &policy).state(&policy, 0).remaining, 10);
    }

    #[test]
    fn every_window_must_admit_and_a_refusal_charges_none() {
        let (store, clock) = store();
        let policy = Policy::new()
            .requests(Quota::per_second(n(10)))
            .requests(Quota::per_minute(n(12)));
        for _ in 0..10 {
            assert!(store.try_acquire("u", &policy, &ONE).admitted);
        }
        // The per-second quota refuses; the per-minute one keeps its 2.
        let refused = store.try_acquire("u", &policy, &ONE);
        assert_eq!(refused.refused_by, Some(0));
        assert_eq!(store.try_peek("u", &policy).state(&policy, 1).remaining, 2);
        clock.advance(Duration::from_secs(1));
        assert!(store.try_acquire("u", &policy, &ONE).admitted);
        assert!(store.try_acquire("u", &policy, &ONE).admitted);
        // Now the minute quota refuses, and the second quota is rolled back.
        let before = store.try_peek("u", &policy).state(&policy, 0);
        let refused = store.try_acquire("u", &policy, &ONE);
        assert_eq!(refused.refused_by, Some(1));
        assert_eq!(store.try_peek("u", &policy).state(&policy, 0), before);
        // The retry-after is when the minute quota frees one request: it
        // is 5 s past its 60 s of credit, one of which has gone by.
        assert_eq!(refused.retry_after, Duration::from_secs(4));
    }

    #[test]
    fn tokens_reserve_then_settle() {
        let (store, clock) = store();
        let policy = Policy::new()
            .requests(Quota::per_minute(n(100)))
            .tokens(Quota::per_minute(n(1000)));
        let costs = [1, 400, 0, 0, 0, 0];
        assert!(store.try_acquire("u", &policy, &costs).admitted);
        assert_eq!(
            store.try_peek("u", &policy).state(&policy, 1).remaining,
            600
        );
        // Used 100 fewer than reserved: refunded.
        store.settle("u", &policy, 1, -100);
        assert_eq!(
            store.try_peek("u", &policy).state(&policy, 1).remaining,
            700
        );
        // Used 900 more: charged, taking the quota below zero.
        store.settle("u", &policy, 1, 900);
        let peek = store.try_peek("u", &policy).state(&policy, 1);
        assert_eq!(peek.remaining, 0);
        assert_eq!(peek.reset, Duration::from_millis(72_000));
        // A request that reserves nothing still waits out the debt.
        let zero = [1, 0, 0, 0, 0, 0];
        let refused = store.try_acquire("u", &policy, &zero);
        assert!(!refused.admitted);
        assert_eq!(refused.retry_after, Duration::from_secs(12));
        clock.advance(Duration::from_secs(12));
        assert!(store.try_acquire("u", &policy, &zero).admitted);
        // A reservation beyond the whole burst is admitted when whole.
        clock.advance(Duration::from_secs(120));
        let huge = [1, 50_000, 0, 0, 0, 0];
        assert!(store.try_acquire("u", &policy, &huge).admitted);
        assert!(
            !store
                .try_acquire("u", &policy, &[1, 1, 0, 0, 0, 0])
                .admitted
        );
    }

    #[test]
    fn whole_keys_are_evicted() {
        let (store, clock) = store();
        let policy = Policy::new().requests(Quota::per_second(n(5)));
        for i in 0..100 {
            assert!(
                store
                    .try_acquire(&format!("user-{i}"), &policy, &ONE)
                    .admitted
            );
        }
        assert_eq!(store.len(), 100);
        assert_eq!(store.sweep(), 0, "every key still owes time");
        clock.advance(Duration::from_millis(200));
        assert!(store.try_acquire("user-0", &policy, &ONE).admitted);
        assert_eq!(store.sweep(), 99);
        assert_eq!(store.len(), 1);
        assert_eq!(store.evicted(), 99);
        // A settlement on a forgotten key recreates it and charges it.
        clock.advance(Duration::from_secs(1));
        store.sweep();
        assert!(store.is_empty());
        store.settle("user-5", &policy, 0, 5);
        assert_eq!(
            store
                .try_peek("user-5", &policy)
                .state(&policy, 0)
                .remaining,
            0
        );
        // Refunds to an unknown key change nothing.
        store.settle("user-6", &policy, 0, -5);
        assert_eq!(
            store
                .try_peek("user-6", &policy)
                .state(&policy, 0)
                .remaining,
            5
        );
    }

    #[test]
    fn growth_and_time_trigger_sweeps() {
        let (store, clock) = store();
        let policy = Policy::new().requests(Quota::per_second(n(1000)));
        for i in 0..MIN_SWEEP_LEN {
            store.try_acquire(&i.to_string(), &policy, &ONE);
        }
        clock.advance(Duration::from_secs(1));
        // The map is at the sweep length: the next acquisition sweeps.
        store.try_acquire("next", &policy, &ONE);
        assert_eq!(store.len(), 1);
        clock.advance(Duration::from_secs(61));
        store.try_acquire("later", &policy, &ONE);
        assert_eq!(store.len(), 1, "the minute's sweep forgot `next`");
    }

    #[test]
    fn concurrent_callers_never_exceed_the_burst() {
        let (store, clock) = store();
        let store = Arc::new(store);
        let policy = Arc::new(Policy::new().requests(Quota::per_second(n(50)).with_burst(n(20))));
        let mut total = 0;
        for round in 0..5 {
            let handles: Vec<_> = (0..4)
                .map(|_| {
                    let (store, policy) = (store.clone(), policy.clone());
                    std::thread::spawn(move || {
                        (0..500)
                            .filter(|_| store.try_acquire("shared", &policy, &ONE).admitted)
                            .count()
                    })
                })
                .collect();
            let admitted: usize = handles.into_iter().map(|h| h.join().unwrap()).sum();
            // At frozen time: the whole burst at first, then exactly what
            // 100 ms of rate earned.
            assert_eq!(admitted, if round == 0 { 20 } else { 5 }, "round {round}");
            total += admitted;
            clock.advance(Duration::from_millis(100));
        }
        assert_eq!(total, 40);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Over any span, admissions never exceed the burst plus what the
        /// rate earns in that span, with two threads asking at once at
        /// every step.
        #[test]
        fn never_more_than_burst_plus_rate(
            count in 1u32..50,
            burst in 1u32..20,
            steps in proptest::collection::vec((0u64..400, 1usize..8), 1..40),
        ) {
            let (store, clock) = store();
            let quota = Quota::per_second(n(count)).with_burst(n(burst));
            let policy = Policy::new().requests(quota);
            // (time, admitted at that time)
            let mut admitted_at = Vec::new();
            let mut now = 0u64;
            for (advance, attempts) in steps {
                clock.advance(Duration::from_millis(advance));
                now += advance * 1_000_000;
                let admitted: usize = std::thread::scope(|scope| {
                    let callers: Vec<_> = (0..2)
                        .map(|_| {
                            scope.spawn(|| {
                                (0..attempts)
                                    .filter(|_| store.try_acquire("k", &policy, &ONE).admitted)
                                    .count()
                            })
                        })
                        .collect();
                    callers.into_iter().map(|c| c.join().unwrap()).sum()
                });
                admitted_at.push((now, admitted as u64));
            }
            let interval = quota.interval_nanos();
            for (i, &(start, _)) in admitted_at.iter().enumerate() {
                let mut in_span = 0;
                for &(end, admitted) in &admitted_at[i..] {
                    in_span += admitted;
                    let earned = (end - start) / interval;
                    prop_assert!(in_span <= u64::from(burst) + earned,
                        "{in_span} admitted in {} ns", end - start);
                }
            }
        }
    }
}
