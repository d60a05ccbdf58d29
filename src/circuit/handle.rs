//! The breakers of a layer, and the handle that reads and sets them.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use dashmap::DashMap;

use super::breaker::{Breaker, CircuitState};
use super::clock::Clock;
use super::config::CircuitConfig;

/// Every breaker of one layer (and its clones), created as keys are first
/// seen.
pub(crate) struct Registry {
    /// foldhash rather than SipHash: keys are short, looked up per call,
    /// and the hasher is still seeded per process.
    breakers: DashMap<Arc<str>, Arc<Breaker>, foldhash::fast::RandomState>,
    config: CircuitConfig,
    overrides: HashMap<String, CircuitConfig>,
    clock: Arc<dyn Clock>,
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
    ) -> Self {
        Self {
            breakers: DashMap::with_hasher(foldhash::fast::RandomState::default()),
            config,
            overrides,
            clock,
        }
    }

    /// The breaker of `key`, created on first use. A known key costs one
    /// shard read lock and no allocation.
    #[inline]
    pub(crate) fn breaker(&self, key: &str) -> Arc<Breaker> {
        if let Some(breaker) = self.breakers.get(key) {
            return breaker.clone();
        }
        let key: Arc<str> = Arc::from(key);
        let config = self.overrides.get(&*key).unwrap_or(&self.config).clone();
        self.breakers
            .entry(key.clone())
            .or_insert_with(|| Arc::new(Breaker::new(key, config, self.clock.clone())))
            .clone()
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
