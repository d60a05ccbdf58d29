//! The health report's vocabulary: [`Status`], [`Check`], [`Report`] and the
//! [`HealthCheck`] trait components implement.

use serde::Serialize;
use serde_json::Value;

/// A status of the health-check response format: `pass`, `warn` or `fail`.
/// Ordered from best to worst, so a report's status is the maximum of its
/// checks'.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Healthy.
    Pass,
    /// Healthy, with a concern (answered 200).
    Warn,
    /// Unhealthy (answered 503).
    Fail,
}

impl Status {
    /// The HTTP status a report with this status is answered with: 200 for
    /// `pass` and `warn`, 503 for `fail`.
    pub const fn http_status(self) -> http::StatusCode {
        match self {
            Self::Pass | Self::Warn => http::StatusCode::OK,
            Self::Fail => http::StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

/// One measurement of one component: an entry of a report's `checks`.
///
/// ```
/// use spark_tower::health::{Check, Status};
///
/// let check = Check::new(Status::Warn)
///     .component_type("system")
///     .observed(92.5, "percent")
///     .output("disk almost full");
/// assert_eq!(check.status(), Status::Warn);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Check {
    #[serde(skip_serializing_if = "Option::is_none")]
    component_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    component_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    observed_value: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    observed_unit: Option<String>,
    status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    output: Option<String>,
}

impl Check {
    /// A check with `status` and nothing else.
    pub fn new(status: Status) -> Self {
        Self {
            component_id: None,
            component_type: None,
            observed_value: None,
            observed_unit: None,
            status,
            time: None,
            output: None,
        }
    }

    /// Names the component instance (`componentId`).
    pub fn component_id(mut self, id: impl Into<String>) -> Self {
        self.component_id = Some(id.into());
        self
    }

    /// The kind of component (`componentType`: `component`, `datastore`,
    /// `system` or your own).
    pub fn component_type(mut self, kind: impl Into<String>) -> Self {
        self.component_type = Some(kind.into());
        self
    }

    /// What was measured (`observedValue`) and its unit (`observedUnit`).
    pub fn observed(mut self, value: impl Into<Value>, unit: impl Into<String>) -> Self {
        self.observed_value = Some(value.into());
        self.observed_unit = Some(unit.into());
        self
    }

    /// What was measured, without a unit.
    pub fn observed_value(mut self, value: impl Into<Value>) -> Self {
        self.observed_value = Some(value.into());
        self
    }

    /// Why the check warns or fails (`output`). The format says to leave
    /// it out for `pass`, so it is only written then.
    pub fn output(mut self, output: impl Into<String>) -> Self {
        self.output = Some(output.into());
        self
    }

    /// The check's status.
    pub fn status(&self) -> Status {
        self.status
    }
}

/// The checks of one report, in the order they were added. A
/// [`HealthCheck`] adds its entries under `component:measurement` keys.
#[derive(Debug, Default)]
pub struct Report {
    pub(crate) checks: Vec<(String, Check)>,
    pub(crate) time: String,
}

impl Report {
    pub(crate) fn new(time: String) -> Self {
        Self {
            checks: Vec::new(),
            time,
        }
    }

    /// Adds `check` under `key`: `component:measurement`, such as
    /// `circuit:openai` or `memory:rss`. Several checks may share a key (a
    /// component with several instances); they are listed together.
    pub fn add(&mut self, key: impl Into<String>, mut check: Check) {
        if check.time.is_none() {
            check.time = Some(self.time.clone());
        }
        if check.status == Status::Pass {
            check.output = None;
        }
        self.checks.push((key.into(), check));
    }

    /// The worst status of the checks so far (`pass` without any).
    pub fn status(&self) -> Status {
        self.checks
            .iter()
            .map(|(_, check)| check.status)
            .max()
            .unwrap_or(Status::Pass)
    }

    /// The checks added so far, with their keys.
    pub fn checks(&self) -> impl Iterator<Item = (&str, &Check)> {
        self.checks.iter().map(|(key, check)| (key.as_str(), check))
    }
}

/// A component's contribution to a health report. Called on every poll of
/// the endpoint (which may be every second): read counters and states,
/// never do I/O or slow work here.
///
/// Closures `Fn(&mut Report)` are checks too.
///
/// ```
/// use spark_tower::health::{Check, HealthCheck, Report, Status};
///
/// struct QueueDepth(fn() -> usize);
///
/// impl HealthCheck for QueueDepth {
///     fn check(&self, report: &mut Report) {
///         let depth = (self.0)();
///         let status = if depth > 1_000 { Status::Warn } else { Status::Pass };
///         report.add(
///             "queue:depth",
///             Check::new(status).observed(depth, "jobs").output("queue backing up"),
///         );
///     }
/// }
/// ```
pub trait HealthCheck: Send + Sync + 'static {
    /// Adds this component's checks to `report`.
    fn check(&self, report: &mut Report);
}

impl<F> HealthCheck for F
where
    F: Fn(&mut Report) + Send + Sync + 'static,
{
    fn check(&self, report: &mut Report) {
        self(report)
    }
}
