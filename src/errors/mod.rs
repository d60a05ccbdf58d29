//! Error tracking with fingerprint grouping and severity levels (`errors`
//! feature).
//!
//! - [`Fingerprint`]: one stable id per fault, from the error's kind,
//!   provider, route template, status and [parameterised](parameterize)
//!   message.
//! - [`ErrorTracker`]: groups with counts, first and last seen, a
//!   [scrubbed](scrub) sample and a [`Severity`] from [`SeverityRules`];
//!   bounded, with a [`Reporter`] for new groups and escalations.
//! - [`ErrorTrackerLayer`]: records 5xx answers, service errors, counted
//!   rejections and panics (caught: a 500 problem); [`ErrorsService`]
//!   lists the groups as JSON.
//! - `SentryReporter` (`sentry` feature): new groups and escalations as
//!   Sentry events carrying the fingerprint and level.

mod fingerprint;
mod layer;
#[cfg(feature = "sentry")]
mod sentry_reporter;
mod tracker;

pub use crate::route::{RouteOf, RouteTemplate, default_route};
pub use fingerprint::{Fingerprint, MAX_SAMPLE_CHARS, parameterize, scrub};
pub use layer::{
    DEFAULT_COUNTED, ErrorTrackerLayer, ErrorTracking, ErrorsService, TrackedBody, TrackedFuture,
};
#[cfg(feature = "sentry")]
pub use sentry_reporter::{SentryReporter, level as sentry_level};
pub use tracker::{
    DEFAULT_MAX_GROUPS, ErrorEvent, ErrorSource, ErrorTracker, ErrorTrackerBuilder, GroupSnapshot,
    Reporter, Severity, SeverityRules,
};
