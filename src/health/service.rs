//! [`HealthService`]: the health report endpoint, and its builder.

use std::convert::Infallible;
use std::fmt;
use std::future::{Ready, ready};
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use serde_json::{Map, Value};
use tower_service::Service;

use super::checks::MemoryCheck;
use super::report::{Check, HealthCheck, Report, Status};

/// The media type of the health-check response format.
pub const HEALTH_JSON: &str = "application/health+json";

struct Inner {
    checks: Vec<Box<dyn HealthCheck>>,
    version: Option<String>,
    service_id: Option<String>,
    description: Option<String>,
}

/// Answers a health report in `application/health+json` (the IETF
/// health-check response format draft): a `status` of `pass` or `warn`
/// (200) or `fail` (503), the service's `version`, `serviceId` and
/// `description` when set, and `checks` keyed `component:measurement`, as
/// its [`HealthCheck`]s report them. `Cache-Control: no-store`; `GET` and
/// `HEAD` only (405 problem otherwise).
///
/// Mount three: a full report (`/health`), liveness
/// ([`HealthService::liveness`]: no checks, passes while the process can
/// answer) and readiness (the checks that decide whether to send traffic,
/// such as a [`CircuitCheck`](super::CircuitCheck)).
///
/// ```
/// use http::{Request, StatusCode};
/// use http_body_util::BodyExt;
/// use spark_tower::circuit::CircuitBreakerLayer;
/// use spark_tower::health::{CircuitCheck, HealthService};
/// use tower::ServiceExt;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let breakers = CircuitBreakerLayer::new();
/// let readiness = HealthService::builder()
///     .check(CircuitCheck::new(breakers.handle()).providers(["openai", "anthropic"]))
///     .build();
///
/// breakers.handle().force_open("openai");
/// let response = readiness.clone().oneshot(Request::new(())).await.unwrap();
/// assert_eq!(response.status(), StatusCode::OK); // anthropic still serves
/// assert_eq!(response.headers()["content-type"], "application/health+json");
/// let report: serde_json::Value =
///     serde_json::from_slice(&response.into_body().collect().await.unwrap().to_bytes()).unwrap();
/// assert_eq!(report["status"], "warn");
/// assert_eq!(report["checks"]["circuit:openai"][0]["observedValue"], "forced_open");
///
/// breakers.handle().force_open("anthropic");
/// let response = readiness.oneshot(Request::new(())).await.unwrap();
/// assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
/// # }
/// ```
#[derive(Clone)]
pub struct HealthService {
    inner: Arc<Inner>,
}

impl HealthService {
    /// Starts a health service.
    pub fn builder() -> HealthBuilder {
        HealthBuilder {
            inner: Inner {
                checks: Vec::new(),
                version: None,
                service_id: None,
                description: None,
            },
        }
    }

    /// A liveness service: no checks, so it passes whenever the process can
    /// answer at all. Restart the process when it does not.
    pub fn liveness() -> Self {
        Self::builder().build()
    }

    /// Runs every check now.
    pub fn report(&self) -> Report {
        let now = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
        let mut report = Report::new(now);
        for check in &self.inner.checks {
            // A check that panics fails the report; the others still run.
            let ran =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check.check(&mut report)));
            if ran.is_err() {
                report.add(
                    "health:checks",
                    Check::new(Status::Fail).output("a health check panicked"),
                );
            }
        }
        report
    }

    /// The report as `application/health+json` bytes, and its status.
    pub fn render(&self) -> (Status, Bytes) {
        let report = self.report();
        let status = report.status();
        let mut body = Map::new();
        body.insert(
            "status".into(),
            serde_json::to_value(status).unwrap_or(Value::Null),
        );
        let inner = &self.inner;
        for (name, value) in [
            ("version", &inner.version),
            ("serviceId", &inner.service_id),
            ("description", &inner.description),
        ] {
            if let Some(value) = value {
                body.insert(name.into(), Value::String(value.clone()));
            }
        }
        let mut checks: Map<String, Value> = Map::new();
        for (key, check) in report.checks {
            let entry = checks
                .entry(key)
                .or_insert_with(|| Value::Array(Vec::new()));
            if let (Value::Array(list), Ok(check)) = (entry, serde_json::to_value(&check)) {
                list.push(check);
            }
        }
        if !checks.is_empty() {
            body.insert("checks".into(), Value::Object(checks));
        }
        let bytes = serde_json::to_vec(&Value::Object(body)).unwrap_or_default();
        (status, Bytes::from(bytes))
    }
}

impl fmt::Debug for HealthService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HealthService")
            .field("checks", &self.inner.checks.len())
            .field("version", &self.inner.version)
            .finish_non_exhaustive()
    }
}

impl<B> Service<Request<B>> for HealthService {
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = Ready<Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        ready(Ok(crate::endpoint::answer(&request, HEALTH_JSON, || {
            let (status, body) = self.render();
            (status.http_status(), body)
        })))
    }
}

/// Builds a [`HealthService`].
pub struct HealthBuilder {
    inner: Inner,
}

impl fmt::Debug for HealthBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HealthBuilder")
            .field("checks", &self.inner.checks.len())
            .finish_non_exhaustive()
    }
}

impl HealthBuilder {
    /// Adds a check (a component's, or a closure `Fn(&mut Report)`).
    pub fn check(mut self, check: impl HealthCheck) -> Self {
        self.inner.checks.push(Box::new(check));
        self
    }

    /// Adds the resident-set-size check, warning above `warn_above` bytes
    /// (`None`: reported, never warns).
    pub fn memory(self, warn_above: Option<u64>) -> Self {
        self.check(MemoryCheck::new(warn_above))
    }

    /// The service's version (`version`).
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.inner.version = Some(version.into());
        self
    }

    /// The service's id (`serviceId`).
    pub fn service_id(mut self, id: impl Into<String>) -> Self {
        self.inner.service_id = Some(id.into());
        self
    }

    /// A human-friendly description (`description`).
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.inner.description = Some(description.into());
        self
    }

    /// The service.
    pub fn build(self) -> HealthService {
        HealthService {
            inner: Arc::new(self.inner),
        }
    }
}

/// A check that always passes with `value`: for a component that is
/// present and has nothing to judge (such as the metrics recorder).
pub fn present(key: &'static str, value: impl Into<Value>) -> impl HealthCheck {
    let value = value.into();
    move |report: &mut Report| {
        report.add(
            key,
            Check::new(Status::Pass)
                .component_type("component")
                .observed_value(value.clone()),
        )
    }
}
