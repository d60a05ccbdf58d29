//! Health reports in `application/health+json`, liveness and readiness
//! (`health` feature).
//!
//! [`HealthService`] answers the IETF health-check response format draft
//! (`draft-inadarei-api-health-check`): `status` `pass`, `warn` (both 200)
//! or `fail` (503), and `checks` keyed `component:measurement`. Components
//! add their checks through the small [`HealthCheck`] trait (closures
//! too); built in:
//!
//! | check | key | status |
//! |---|---|---|
//! | [`CircuitCheck`] | `circuit:<provider>` | closed pass; half-open warn; open warn, or fail when every provider's breaker is open |
//! | [`ErrorTrackerCheck`] | `errors:groups`, `errors:critical` | groups held (pass); critical groups seen lately (warn) |
//! | [`RateLimitCheck`] | `ratelimit:keys` | keys held (pass) |
//! | [`MemoryCheck`] | `memory:rss` | resident set size in bytes; warn above a threshold |
//!
//! Every check reads counters and states only, so the endpoint can be
//! polled every second; answers carry `Cache-Control: no-store`.

mod checks;
mod report;
mod service;
#[cfg(test)]
mod tests;

#[cfg(feature = "circuit")]
pub use checks::CircuitCheck;
#[cfg(feature = "errors")]
pub use checks::ErrorTrackerCheck;
pub use checks::MemoryCheck;
#[cfg(feature = "rate-limit")]
pub use checks::RateLimitCheck;
pub use report::{Check, HealthCheck, Report, Status};
pub use service::{HEALTH_JSON, HealthBuilder, HealthService, present};
