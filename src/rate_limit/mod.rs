//! Per-user request and token rate limits (`rate-limit` feature).

mod quota;
mod store;

pub use quota::{Limit, MAX_LIMITS, MAX_PERIOD, Policy, Quota, Unit};
pub use store::{Costs, Decision, LimitState, MemoryStore, RateStore, RateStoreError};
