//! Sliding windows of call outcomes, recorded without locks.
//!
//! Each record is a few atomic operations on the key's own window; totals
//! are read when a failure or slow call might trip the breaker, and for
//! snapshots. Records that race with a reset (a close, a time slice
//! ageing out) may be lost or counted in the next slice: the rates are
//! estimates at those instants, as in any lock-free window.

use std::sync::atomic::{AtomicU8, AtomicU32, AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use super::config::Window;

/// A call's outcome as the window keeps it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Mark {
    pub failure: bool,
    pub slow: bool,
}

/// What the window holds now.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Totals {
    pub calls: u32,
    pub failures: u32,
    pub slow: u32,
}

impl Totals {
    pub(crate) fn failure_rate(self) -> f64 {
        rate(self.failures, self.calls)
    }

    pub(crate) fn slow_rate(self) -> f64 {
        rate(self.slow, self.calls)
    }
}

fn rate(part: u32, calls: u32) -> f64 {
    if calls == 0 {
        0.0
    } else {
        f64::from(part) / f64::from(calls)
    }
}

#[derive(Debug)]
pub(crate) enum Outcomes {
    Count(CountWindow),
    Time(TimeWindow),
}

impl Outcomes {
    pub(crate) fn new(window: Window) -> Self {
        match window {
            Window::Count(n) => Self::Count(CountWindow::new(n)),
            Window::Time { length, buckets } => Self::Time(TimeWindow::new(length, buckets)),
        }
    }

    #[inline]
    pub(crate) fn record(&self, now: Duration, mark: Mark) {
        match self {
            Self::Count(window) => window.record(mark),
            Self::Time(window) => window.record(now, mark),
        }
    }

    pub(crate) fn totals(&self, now: Duration) -> Totals {
        match self {
            Self::Count(window) => window.totals(),
            Self::Time(window) => window.totals(now),
        }
    }

    pub(crate) fn reset(&self) {
        match self {
            Self::Count(window) => window.reset(),
            Self::Time(window) => window.reset(),
        }
    }

    /// Whether the window needs the time of each record.
    pub(crate) fn timed(&self) -> bool {
        matches!(self, Self::Time(_))
    }
}

const RECORDED: u8 = 1;
const FAILURE: u8 = 2;
const SLOW: u8 = 4;

/// The last `n` outcomes in a ring, with running counts.
///
/// The call count comes from the ring's position, so it is exact; the
/// failure and slow counts are kept as records replace slots, and taken
/// again from the slots on every full turn of the ring, so a record that
/// raced with a reset cannot leave them off for long.
#[derive(Debug)]
pub(crate) struct CountWindow {
    slots: Box<[AtomicU8]>,
    /// Multiplier of the ring position's remainder by the ring's length,
    /// taken with multiplications instead of a division (see [`fast_mod`]).
    magic: u64,
    next: AtomicU64,
    /// `next` at the last reset.
    base: AtomicU64,
    failures: AtomicU32,
    slow: AtomicU32,
}

/// `n % d` for the `magic` of `d` (`u64::MAX / d + 1`), exact for every
/// `u32` `n` (D. Lemire, "Faster remainder by direct computation", 2019).
#[inline]
fn fast_mod(n: u32, magic: u64, d: u32) -> u32 {
    let low = magic.wrapping_mul(u64::from(n));
    ((u128::from(low) * u128::from(d)) >> 64) as u32
}

impl CountWindow {
    fn new(n: u32) -> Self {
        Self {
            slots: (0..n).map(|_| AtomicU8::new(0)).collect(),
            magic: (u64::MAX / u64::from(n)).wrapping_add(1),
            next: AtomicU64::new(0),
            base: AtomicU64::new(0),
            failures: AtomicU32::new(0),
            slow: AtomicU32::new(0),
        }
    }

    #[inline]
    fn record(&self, mark: Mark) {
        let new =
            RECORDED | if mark.failure { FAILURE } else { 0 } | if mark.slow { SLOW } else { 0 };
        let len = self.slots.len() as u32;
        let at = self.next.fetch_add(1, Relaxed);
        // The position since the last reset, kept to 32 bits for the fast
        // remainder (it wraps after 4 billion calls, moving the ring on by
        // a few slots once).
        let since = at.wrapping_sub(self.base.load(Relaxed)) as u32;
        let slot = fast_mod(since, self.magic, len);
        // A load and a store rather than a locked swap: another record of
        // this slot would need the whole ring to turn in between, and the
        // recount below would mend what that race left.
        let cell = &self.slots[slot as usize];
        let old = cell.load(Relaxed);
        cell.store(new, Relaxed);
        // Only the counts that change are touched: a success replacing a
        // success costs the position's increment alone.
        adjust(&self.failures, old & FAILURE != 0, new & FAILURE != 0);
        adjust(&self.slow, old & SLOW != 0, new & SLOW != 0);
        if slot == 0 && since != 0 {
            self.recount();
        }
    }

    fn recount(&self) {
        let (mut failures, mut slow) = (0, 0);
        for slot in self.slots.iter() {
            let mark = slot.load(Relaxed);
            failures += u32::from(mark & FAILURE != 0);
            slow += u32::from(mark & SLOW != 0);
        }
        self.failures.store(failures, Relaxed);
        self.slow.store(slow, Relaxed);
    }

    fn totals(&self) -> Totals {
        let since = self
            .next
            .load(Relaxed)
            .saturating_sub(self.base.load(Relaxed));
        let calls = since.min(self.slots.len() as u64) as u32;
        Totals {
            calls,
            failures: self.failures.load(Relaxed).min(calls),
            slow: self.slow.load(Relaxed).min(calls),
        }
    }

    fn reset(&self) {
        self.base.store(self.next.load(Relaxed), Relaxed);
        for slot in self.slots.iter() {
            slot.store(0, Relaxed);
        }
        self.failures.store(0, Relaxed);
        self.slow.store(0, Relaxed);
    }
}

#[inline]
fn adjust(count: &AtomicU32, was: bool, is: bool) {
    match (was, is) {
        (false, true) => {
            count.fetch_add(1, Relaxed);
        }
        (true, false) => {
            // Saturating: a reset racing with this record may have zeroed it.
            let _ = count.fetch_update(Relaxed, Relaxed, |n| Some(n.saturating_sub(1)));
        }
        _ => {}
    }
}

/// Outcomes of the last `length`, in equal time slices.
#[derive(Debug)]
pub(crate) struct TimeWindow {
    buckets: Box<[Bucket]>,
    /// A slice's length in nanoseconds.
    slice: u64,
}

#[derive(Debug, Default)]
struct Bucket {
    /// Which slice (time / slice length) the counts are of, plus one: 0
    /// marks an empty bucket.
    epoch: AtomicU64,
    calls: AtomicU32,
    failures: AtomicU32,
    slow: AtomicU32,
}

impl TimeWindow {
    fn new(length: Duration, buckets: u32) -> Self {
        let slice = u64::try_from((length / buckets).as_nanos())
            .unwrap_or(u64::MAX)
            .max(1);
        Self {
            buckets: (0..buckets).map(|_| Bucket::default()).collect(),
            slice,
        }
    }

    fn epoch(&self, now: Duration) -> u64 {
        u64::try_from(now.as_nanos()).unwrap_or(u64::MAX) / self.slice + 1
    }

    #[inline]
    fn record(&self, now: Duration, mark: Mark) {
        let epoch = self.epoch(now);
        let bucket = &self.buckets[(epoch % self.buckets.len() as u64) as usize];
        let seen = bucket.epoch.load(Relaxed);
        // A clock read just before a newer slice opened (`seen > epoch`)
        // counts in that slice.
        if seen < epoch
            && bucket
                .epoch
                .compare_exchange(seen, epoch, Relaxed, Relaxed)
                .is_ok()
        {
            // This call opens the slice: the bucket's old counts age out.
            bucket.calls.store(0, Relaxed);
            bucket.failures.store(0, Relaxed);
            bucket.slow.store(0, Relaxed);
        }
        bucket.calls.fetch_add(1, Relaxed);
        if mark.failure {
            bucket.failures.fetch_add(1, Relaxed);
        }
        if mark.slow {
            bucket.slow.fetch_add(1, Relaxed);
        }
    }

    fn totals(&self, now: Duration) -> Totals {
        let epoch = self.epoch(now);
        let oldest = epoch.saturating_sub(self.buckets.len() as u64 - 1);
        let mut totals = Totals::default();
        for bucket in self.buckets.iter() {
            let at = bucket.epoch.load(Relaxed);
            if at >= oldest && at <= epoch && at != 0 {
                totals.calls += bucket.calls.load(Relaxed);
                totals.failures += bucket.failures.load(Relaxed);
                totals.slow += bucket.slow.load(Relaxed);
            }
        }
        totals
    }

    fn reset(&self) {
        for bucket in self.buckets.iter() {
            bucket.epoch.store(0, Relaxed);
            bucket.calls.store(0, Relaxed);
            bucket.failures.store(0, Relaxed);
            bucket.slow.store(0, Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OK: Mark = Mark {
        failure: false,
        slow: false,
    };
    const FAIL: Mark = Mark {
        failure: true,
        slow: false,
    };
    const SLOW_OK: Mark = Mark {
        failure: false,
        slow: true,
    };

    #[test]
    fn count_window_keeps_the_last_n() {
        let window = Outcomes::new(Window::Count(4));
        let now = Duration::ZERO;
        for mark in [FAIL, FAIL, OK, SLOW_OK] {
            window.record(now, mark);
        }
        assert_eq!(
            window.totals(now),
            Totals {
                calls: 4,
                failures: 2,
                slow: 1
            }
        );
        // Two successes push both failures out.
        window.record(now, OK);
        window.record(now, OK);
        let totals = window.totals(now);
        assert_eq!((totals.calls, totals.failures, totals.slow), (4, 0, 1));
        assert_eq!(totals.slow_rate(), 0.25);
        window.reset();
        assert_eq!(window.totals(now), Totals::default());
        window.record(now, FAIL);
        let totals = window.totals(now);
        assert_eq!((totals.calls, totals.failures), (1, 1));
    }

    #[test]
    fn fast_remainders_are_exact() {
        for d in [1u32, 2, 3, 7, 10, 100, 997, 100_000] {
            let magic = (u64::MAX / u64::from(d)).wrapping_add(1);
            for n in (0..5_000).chain([u32::MAX - 3, u32::MAX - 2, u32::MAX - 1, u32::MAX]) {
                assert_eq!(fast_mod(n, magic, d), n % d, "{n} % {d}");
            }
        }
    }

    #[test]
    fn counts_heal_on_each_turn_of_the_ring() {
        let window = CountWindow::new(4);
        for _ in 0..3 {
            window.record(FAIL);
        }
        // A count knocked off, as a record racing with a reset could.
        window.failures.store(0, Relaxed);
        assert_eq!(window.totals().failures, 0);
        for _ in 0..5 {
            window.record(FAIL);
        }
        assert_eq!(
            window.totals(),
            Totals {
                calls: 4,
                failures: 4,
                slow: 0
            }
        );
    }

    #[test]
    fn time_window_ages_out_whole_slices() {
        // Four slices of 1 s.
        let window = Outcomes::new(Window::Time {
            length: Duration::from_secs(4),
            buckets: 4,
        });
        let at = Duration::from_millis;
        window.record(at(100), FAIL);
        window.record(at(900), FAIL);
        window.record(at(1_500), OK);
        window.record(at(3_999), OK);
        let totals = window.totals(at(3_999));
        assert_eq!((totals.calls, totals.failures), (4, 2));
        assert_eq!(totals.failure_rate(), 0.5);
        // At 4 s the first slice has aged out.
        let totals = window.totals(at(4_000));
        assert_eq!((totals.calls, totals.failures), (2, 0));
        // A record in a new slice replaces the bucket's old counts.
        window.record(at(5_000), FAIL);
        let totals = window.totals(at(5_000));
        assert_eq!((totals.calls, totals.failures), (2, 1));
        // Long quiet: nothing left.
        assert_eq!(window.totals(at(60_000)), Totals::default());
    }

    #[test]
    fn concurrent_records_all_count() {
        let window = std::sync::Arc::new(Outcomes::new(Window::Count(10_000)));
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let window = window.clone();
                std::thread::spawn(move || {
                    for i in 0..1_000 {
                        window.record(Duration::ZERO, if (i + t) % 4 == 0 { FAIL } else { OK });
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        let totals = window.totals(Duration::ZERO);
        assert_eq!((totals.calls, totals.failures), (4_000, 1_000));
    }
}
