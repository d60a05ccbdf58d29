//! Per-provider circuit breakers (`circuit` feature).
//!
//! Provider APIs fail in bursts: 500s, 503s, Anthropic's 529 "overloaded",
//! 429s, timeouts. [`CircuitBreakerLayer`] keeps one breaker per key (the
//! [`Provider`](crate::marker::Provider) marker's name by default) and stops
//! sending traffic to a provider that is failing, then probes it back:
//!
//! - **closed**: calls pass; their outcomes are counted in a sliding window
//!   (the last N calls, or the last N seconds in buckets). Once the window
//!   holds [`minimum_calls`](CircuitConfig::minimum_calls), any configured
//!   condition trips it: a failure rate, a slow-call rate (time to the
//!   response head) or failures in a row;
//! - **open**: calls are answered with `503` problem+json and `Retry-After`
//!   without reaching the provider. The wait grows on each trip in a row
//!   (exponential, capped, jittered) and lasts at least as long as failing
//!   responses since the last close asked for with `Retry-After`;
//! - **half-open**: at most N probe calls at once; N successes close it, a
//!   failure (or a slow probe) opens it again with a longer wait, and probes
//!   still unanswered the half-open wait after the latest one was admitted
//!   send it back to open. A probe is judged on its response head, so a
//!   long stream does not hold the breaker half-open (its stream failing
//!   midway still counts as a failure). A probe whose future is dropped
//!   before its head (the client went away) gives its slot back uncounted;
//! - **forced open / forced closed**, set by hand through
//!   [`CircuitBreakerHandle`], which also gives snapshots for health
//!   endpoints.
//!
//! What counts as a failure is a [`Classify`] implementation; by default
//! transport errors, timeouts, 5xx and 429 are failures, other 4xx are the
//! client's fault (successes), and responses carrying another spark-tower
//! layer's [`Rejection`](crate::problem::Rejection) (auth, rate limit,
//! sanitize) are ignored. A successful response is counted when its body
//! ends, so a stream that fails midway is a failure.
//!
//! The closed-state path allocates nothing and takes no lock: the first
//! keys' breakers are found by comparing keys in a small array (later ones
//! in a write-once table sized for `max_keys` and probed from the key's
//! hash; a key that finds no slot there, which takes sixteen collisions in
//! a table at most half full, is read from a `dashmap`), then one atomic
//! load of the state
//! word, and a few atomic operations on the key's window when the call
//! ends. Breakers made for calls are capped
//! ([`CircuitBreakerBuilder::max_keys`], 1,000 by default), so keys drawn
//! from request data cannot grow memory or metric series without bound.
//!
//! Put timeouts inside the breaker (between it and the provider), as the
//! gateway's provider client does: a call a timeout outside drops is never
//! counted, so a provider that hangs would not trip the breaker.
//!
//! Transitions emit `tracing` events; `metrics` get a
//! `spark_circuit_state{key}` gauge (0 closed, 1 open, 2 half-open, 3
//! forced open, 4 forced closed), `spark_circuit_calls_total{key, outcome}`
//! (success, failure, ignored, rejected) and
//! `spark_circuit_transitions_total{key, from, to}`.

mod breaker;
mod classify;
mod config;
mod future;
mod handle;
mod layer;
mod window;

#[cfg(test)]
mod tests;

pub use crate::clock::{Clock, ManualClock, MonotonicClock};
pub use breaker::CircuitState;
pub use classify::{Classify, DefaultClassifier, KeyExtractor, Outcome, ProviderKey};
pub use config::{CircuitConfig, CircuitConfigError, Window};
pub use future::{ResponseFuture, TrackedBody};
pub use handle::{CircuitBreakerHandle, CircuitSnapshot};
pub use layer::{CircuitBreaker, CircuitBreakerBuilder, CircuitBreakerLayer};
