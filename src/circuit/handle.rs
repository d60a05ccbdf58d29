//! The breakers of a layer, and the handle that reads and sets them.

use std::collections::HashMap;
use std::fmt;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use dashmap::DashMap;

use super::breaker::{Breaker, CircuitState};
use super::config::CircuitConfig;
use crate::clock::Clock;

/// Every breaker of one layer (and its clones), created as keys are first
/// seen.
pub(crate) struct Registry {
    /// The first keys' breakers, read without a lock or a hash: most
    /// layers serve a handful of providers, and servers such as axum clone
    /// the service for every request, so a per-service cache would not
    /// last.
    hot: [OnceLock<HotKey>; HOT],
    /// Later keys' breakers, found without a lock: an open-addressed
    /// table of write-once slots (a key is never removed), at least twice
    /// `max_keys` (a power of two), probed from the key's hash for at most
    /// [`PROBES`] slots.
    table: Box<[OnceLock<HotKey>]>,
    /// Every breaker. foldhash rather than SipHash: keys are short, looked
    /// up per call, and the hasher is still seeded per process.
    breakers: DashMap<Arc<str>, Arc<Breaker>, foldhash::fast::RandomState>,
    config: CircuitConfig,
    overrides: HashMap<String, CircuitConfig>,
    clock: Arc<dyn Clock>,
    /// The most breakers made for calls (see [`CircuitBreakerBuilder::max_keys`]).
    ///
    /// [`CircuitBreakerBuilder::max_keys`]: super::CircuitBreakerBuilder::max_keys
    max_keys: usize,
    /// Whether reaching `max_keys` was logged.
    full_logged: AtomicBool,
}

/// How many breakers are kept in [`Registry::hot`].
const HOT: usize = 8;

/// The most slots a lookup or insertion of [`Registry::table`] probes.
const PROBES: usize = 16;

/// A hot key's breaker, with the key's length and words to compare.
struct HotKey {
    len: usize,
    words: (u64, u64),
    breaker: Arc<Breaker>,
}

/// Two words that, with the length, tell apart any keys of up to 16
/// bytes (overlapping loads from both ends); `None` for longer keys, which
/// are compared byte by byte.
#[inline]
fn key_words(key: &[u8]) -> Option<(u64, u64)> {
    let n = key.len();
    let word = |at: usize| u64::from_le_bytes(key[at..at + 8].try_into().unwrap_or([0; 8]));
    let half = |at: usize| {
        u64::from(u32::from_le_bytes(
            key[at..at + 4].try_into().unwrap_or([0; 4]),
        ))
    };
    Some(match n {
        0 => (0, 0),
        1..=3 => (
            u64::from(key[0]) | u64::from(key[n / 2]) << 8 | u64::from(key[n - 1]) << 16,
            0,
        ),
        4..=7 => (half(0), half(n - 4)),
        8..=16 => (word(0), word(n - 8)),
        _ => return None,
    })
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registry")
            .field("breakers", &self.breakers.len())
            .field("config", &self.config)
            .field("overrides", &self.overrides.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl Registry {
    pub(crate) fn new(
        config: CircuitConfig,
        overrides: HashMap<String, CircuitConfig>,
        clock: Arc<dyn Clock>,
        max_keys: usize,
    ) -> Self {
        Self {
            hot: Default::default(),
            table: (0..max_keys
                .saturating_mul(2)
                .clamp(16, 1 << 24)
                .next_power_of_two())
                .map(|_| OnceLock::new())
                .collect(),
            breakers: DashMap::with_hasher(foldhash::fast::RandomState::default()),
            config,
            overrides,
            clock,
            max_keys,
            full_logged: AtomicBool::new(false),
        }
    }

    /// The breaker of `key` for a call, created on first use; `None` once
    /// `max_keys` breakers exist and `key` is not one of them (the call
    /// passes without a breaker). A hot key costs a few compares, another
    /// known key a hash and a short probe of the table; neither locks or
    /// allocates (a key the table had no slot for is read from the map).
    #[inline]
    pub(crate) fn for_call(&self, key: &str) -> Option<Arc<Breaker>> {
        let words = key_words(key.as_bytes());
        let same = |hot: &HotKey| {
            hot.len == key.len()
                && match words {
                    Some(words) => hot.words == words,
                    None => **hot.breaker.key() == *key,
                }
        };
        let mut hot_full = true;
        for slot in &self.hot {
            match slot.get() {
                Some(hot) if same(hot) => return Some(hot.breaker.clone()),
                Some(_) => {}
                None => {
                    hot_full = false;
                    break;
                }
            }
        }
        if hot_full {
            for slot in self.table_slots(key) {
                match slot.get() {
                    Some(hot) if same(hot) => return Some(hot.breaker.clone()),
                    Some(_) => {}
                    None => break,
                }
            }
        }
        if let Some(breaker) = self.breakers.get(key) {
            return Some(breaker.clone());
        }
        if self.breakers.len() >= self.max_keys {
            if !self.full_logged.swap(true, Ordering::Relaxed) {
                tracing::warn!(
                    max_keys = self.max_keys,
                    "circuit breakers: key limit reached; calls with new keys pass without a breaker"
                );
            }
            return None;
        }
        Some(self.create(key))
    }

    /// The table slots `key` may sit in, in probing order.
    fn table_slots<'a>(&'a self, key: &str) -> impl Iterator<Item = &'a OnceLock<HotKey>> {
        let start = self.breakers.hasher().hash_one(key) as usize;
        let mask = self.table.len() - 1;
        (0..PROBES).map(move |probe| &self.table[(start + probe) & mask])
    }

    /// The breaker of `key`, created if needed (whatever the key limit:
    /// for operators' commands).
    pub(crate) fn breaker(&self, key: &str) -> Arc<Breaker> {
        match self.breakers.get(key) {
            Some(breaker) => breaker.clone(),
            None => self.create(key),
        }
    }

    fn create(&self, key: &str) -> Arc<Breaker> {
        let key: Arc<str> = Arc::from(key);
        let config = self.overrides.get(&*key).unwrap_or(&self.config).clone();
        let mut created = false;
        let breaker = self
            .breakers
            .entry(key.clone())
            .or_insert_with(|| {
                created = true;
                Arc::new(Breaker::new(key, config, self.clock.clone()))
            })
            .clone();
        if created {
            // The first keys go to the hot slots too, later ones to the
            // table (a slot lost to a race leaves the key in the map, or in
            // two slots: both hold the same breaker).
            let hot = || HotKey {
                len: breaker.key().len(),
                words: key_words(breaker.key().as_bytes()).unwrap_or_default(),
                breaker: breaker.clone(),
            };
            match self.hot.iter().find(|slot| slot.get().is_none()) {
                Some(slot) => {
                    let _ = slot.set(hot());
                }
                None => {
                    if let Some(slot) = self
                        .table_slots(breaker.key())
                        .find(|slot| slot.get().is_none())
                    {
                        let _ = slot.set(hot());
                    }
                }
            }
        }
        breaker
    }
}

/// Reads and sets the breakers of a [`CircuitBreakerLayer`](super::CircuitBreakerLayer)
/// (and of every clone of it and its services), for health endpoints and
/// operators.
///
/// ```
/// use spark_tower::circuit::{CircuitBreakerLayer, CircuitState};
///
/// let layer = CircuitBreakerLayer::new();
/// let handle = layer.handle();
/// handle.force_open("openai");
/// let snapshot = handle.snapshot("openai").unwrap();
/// assert_eq!(snapshot.state, CircuitState::ForcedOpen);
/// handle.reset("openai");
/// assert_eq!(handle.snapshot("openai").unwrap().state, CircuitState::Closed);
/// ```
#[derive(Clone, Debug)]
pub struct CircuitBreakerHandle {
    registry: Arc<Registry>,
}

/// One breaker as it is now.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct CircuitSnapshot {
    /// The breaker's key (the provider's name by default).
    pub key: String,
    /// Its state.
    pub state: CircuitState,
    /// The failure rate over the window (0 to 1).
    pub failure_rate: f64,
    /// The slow-call rate over the window (0 to 1).
    pub slow_call_rate: f64,
    /// Calls in the window.
    pub calls: u32,
    /// While open: the time until it goes half-open.
    pub until_half_open: Option<Duration>,
    /// How many times it has tripped (opened) since it was created.
    pub trips: u64,
}

impl CircuitBreakerHandle {
    pub(crate) fn new(registry: Arc<Registry>) -> Self {
        Self { registry }
    }

    /// Every breaker created so far, by key.
    pub fn snapshots(&self) -> Vec<CircuitSnapshot> {
        let breakers: Vec<Arc<Breaker>> = self
            .registry
            .breakers
            .iter()
            .map(|entry| entry.value().clone())
            .collect();
        let mut snapshots: Vec<CircuitSnapshot> = breakers.iter().map(|b| b.snapshot()).collect();
        snapshots.sort_by(|a, b| a.key.cmp(&b.key));
        snapshots
    }

    /// The breaker of `key`, if it has been created.
    pub fn snapshot(&self, key: &str) -> Option<CircuitSnapshot> {
        let breaker = self.registry.breakers.get(key)?.clone();
        Some(breaker.snapshot())
    }

    /// Opens `key`'s breaker until [`reset`](Self::reset) or
    /// [`force_closed`](Self::force_closed), creating it if needed.
    pub fn force_open(&self, key: &str) {
        self.registry.breaker(key).force(CircuitState::ForcedOpen);
    }

    /// Keeps `key`'s breaker closed (outcomes are still counted, nothing
    /// trips it) until [`reset`](Self::reset) or
    /// [`force_open`](Self::force_open).
    pub fn force_closed(&self, key: &str) {
        self.registry.breaker(key).force(CircuitState::ForcedClosed);
    }

    /// Closes `key`'s breaker and clears its window and trip streak.
    pub fn reset(&self, key: &str) {
        if let Some(breaker) = self.registry.breakers.get(key).map(|b| b.clone()) {
            breaker.force(CircuitState::Closed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_finds_its_own_breaker_in_the_array_and_the_table() {
        let registry = Registry::new(
            CircuitConfig::default(),
            HashMap::new(),
            Arc::new(super::super::ManualClock::new()),
            3_000,
        );
        // Past the hot array, through the table, up to the key limit.
        let keys: Vec<String> = (0..3_000).map(|i| format!("provider-{i}")).collect();
        for key in &keys {
            assert_eq!(&**registry.for_call(key).unwrap().key(), key.as_str());
        }
        for key in keys.iter().rev() {
            let first = registry.for_call(key).unwrap();
            assert_eq!(&**first.key(), key.as_str());
            assert!(Arc::ptr_eq(&first, &registry.for_call(key).unwrap()));
        }
        assert_eq!(registry.breakers.len(), keys.len());
        // Past the limit calls get none, but an operator's key is made and
        // then found like any other.
        assert!(registry.for_call("one-too-many").is_none());
        let long = "an-operators-key-longer-than-sixteen-bytes";
        let made = registry.breaker(long);
        assert!(Arc::ptr_eq(&made, &registry.for_call(long).unwrap()));
    }

    #[test]
    fn key_words_tell_short_keys_apart() {
        let keys: Vec<Vec<u8>> = (0..=16usize)
            .flat_map(|n| {
                (0..n.max(1)).map(move |flip| {
                    let mut key: Vec<u8> = (0..n as u8).map(|b| b'a' + b).collect();
                    if n > 0 {
                        key[flip] = b'Z';
                    }
                    key
                })
            })
            .collect();
        for a in &keys {
            for b in &keys {
                let same = a.len() == b.len() && key_words(a) == key_words(b);
                assert_eq!(same, a == b, "{a:?} {b:?}");
            }
        }
        assert_eq!(key_words(&[b'x'; 17]), None);
    }
}
