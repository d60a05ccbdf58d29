//! [`SentryReporter`]: forwards new error groups and escalations to Sentry
//! (`sentry` feature).

use std::borrow::Cow;
use std::collections::BTreeMap;

use sentry::protocol::{Event, Level, Value};

use super::tracker::{GroupSnapshot, Reporter, Severity};

/// Sends an event to the current Sentry hub for each new group and each
/// escalation: the group's fingerprint as the event's fingerprint (so
/// Sentry groups as the tracker does), its severity as the level (low →
/// info, medium → warning, high → error, critical → fatal), its scrubbed
/// sample as the message, and its kind, provider, route, status and
/// severity as tags.
///
/// Initialise Sentry as usual (`sentry::init`) and keep its guard; the
/// reporter only captures.
///
/// ```
/// use spark_tower::errors::{ErrorTracker, SentryReporter};
///
/// // let _guard = sentry::init("https://key@o0.ingest.sentry.io/0");
/// let tracker = ErrorTracker::builder().reporter(SentryReporter::new()).build();
/// # let _ = tracker;
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct SentryReporter {
    _private: (),
}

impl SentryReporter {
    /// A reporter to the current hub.
    pub fn new() -> Self {
        Self::default()
    }

    fn capture(&self, group: &GroupSnapshot, escalated: bool) {
        sentry::capture_event(event(group, escalated));
    }
}

/// The level of a severity.
pub fn level(severity: Severity) -> Level {
    match severity {
        Severity::Low => Level::Info,
        Severity::Medium => Level::Warning,
        Severity::High => Level::Error,
        Severity::Critical => Level::Fatal,
    }
}

/// The event for `group`.
fn event(group: &GroupSnapshot, escalated: bool) -> Event<'static> {
    let mut tags = BTreeMap::new();
    tags.insert("error.kind".to_owned(), group.kind.to_owned());
    tags.insert("severity".to_owned(), group.severity.as_str().to_owned());
    tags.insert("route".to_owned(), group.route.clone());
    if let Some(provider) = &group.provider {
        tags.insert("provider".to_owned(), provider.clone());
    }
    if let Some(status) = group.status {
        tags.insert("status".to_owned(), status.to_string());
    }
    tags.insert("escalated".to_owned(), escalated.to_string());
    let mut extra = BTreeMap::new();
    extra.insert("count".to_owned(), Value::from(group.count));
    Event {
        level: level(group.severity),
        message: Some(group.message.clone()),
        fingerprint: Cow::Owned(vec![Cow::Owned(group.fingerprint.clone())]),
        logger: Some("spark-tower".to_owned()),
        tags,
        extra,
        ..Event::default()
    }
}

impl Reporter for SentryReporter {
    fn new_group(&self, group: &GroupSnapshot) {
        self.capture(group, false);
    }

    fn escalated(&self, group: &GroupSnapshot) {
        self.capture(group, true);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::clock::ManualClock;
    use crate::errors::{ErrorEvent, ErrorSource, ErrorTracker};

    #[test]
    fn new_groups_and_escalations_reach_sentry_with_fingerprint_and_level() {
        let clock = ManualClock::new();
        let tracker = ErrorTracker::builder()
            .reporter(SentryReporter::new())
            .clock(clock.clone())
            .build();
        let record = || {
            tracker.record(&ErrorEvent {
                source: ErrorSource::Status,
                provider: Some("anthropic"),
                route: "/v1/messages",
                status: Some(529),
                message: "overloaded (request req_aZ19bK22c3) key sk-ant-api03-secretsecret",
            })
        };
        let events = sentry::test::with_captured_events(|| {
            record();
            // A surge the next minute: ten against one.
            clock.advance(Duration::from_secs(60));
            for _ in 0..10 {
                record();
            }
        });
        assert_eq!(events.len(), 2, "one new group, one escalation");
        let fingerprint = record().to_string();
        let (new, escalated) = (&events[0], &events[1]);
        assert_eq!(
            new.fingerprint.as_ref(),
            [Cow::Owned::<str>(fingerprint.clone())]
        );
        assert_eq!(new.level, Level::Warning);
        assert_eq!(new.tags["provider"], "anthropic");
        assert_eq!(new.tags["status"], "529");
        assert_eq!(new.tags["escalated"], "false");
        assert_eq!(escalated.level, Level::Error);
        assert_eq!(escalated.tags["escalated"], "true");
        assert_eq!(escalated.fingerprint[0], fingerprint);
        let message = new.message.as_deref().unwrap();
        assert!(!message.contains("secret"), "{message}");
    }
}
