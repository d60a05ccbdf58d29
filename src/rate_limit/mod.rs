//! Per-user request and token rate limits (`rate-limit` feature).

mod key;
mod layer;
mod quota;
mod settle;
mod store;

#[cfg(test)]
mod tests;

pub use crate::usage::{Usage, estimate_input_tokens, usage_of};
pub use key::{ClientIpKey, HeaderKey, IpNet, IpNetError, KeyExtractor, UserKey};
pub use layer::{
    ANONYMOUS, DEFAULT_MAX_BODY_BYTES, HeaderStyle, QuotaView, RateLimit, RateLimitBuilder,
    RateLimitLayer, ResponseFuture,
};
pub use quota::{Limit, MAX_LIMITS, MAX_PERIOD, Policy, Quota, Unit};
pub use settle::SettleBody;
pub use store::{Costs, Decision, LimitState, MemoryStore, RateStore, RateStoreError};
