//! [`PrometheusService`]: the `/metrics` endpoint, rendered by
//! metrics-exporter-prometheus (`prometheus` feature).

use std::convert::Infallible;
use std::future::{Ready, ready};
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use metrics_exporter_prometheus::{BuildError, Matcher, PrometheusBuilder, PrometheusHandle};
use tower_service::Service;

use super::names;

/// Buckets of the duration histograms, in seconds: from 5 ms (a cached or
/// rejected request) to 10 minutes (a long generation).
pub const DURATION_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0,
    600.0,
];
/// Buckets of the body size histograms, in bytes: powers of 4 from 64 B to
/// 16 MiB.
pub const SIZE_BUCKETS: &[f64] = &[
    64.0, 256.0, 1024.0, 4096.0, 16384.0, 65536.0, 262144.0, 1048576.0, 4194304.0, 16777216.0,
];
/// Buckets of the token histogram: powers of 4 from 1 to about a million.
pub const TOKEN_BUCKETS: &[f64] = &[
    1.0, 4.0, 16.0, 64.0, 256.0, 1024.0, 4096.0, 16384.0, 65536.0, 262144.0, 1048576.0,
];

/// A Prometheus exporter builder with the buckets of this crate's
/// histograms ([`DURATION_BUCKETS`], [`SIZE_BUCKETS`], [`TOKEN_BUCKETS`]),
/// so they render as Prometheus histograms (p50, p95 and p99 through
/// `histogram_quantile`). Add your own settings before installing it.
pub fn prometheus_builder() -> PrometheusBuilder {
    let buckets = [
        (names::REQUEST_DURATION, DURATION_BUCKETS),
        (names::TIME_TO_FIRST_TOKEN, DURATION_BUCKETS),
        (names::REQUEST_BODY_SIZE, SIZE_BUCKETS),
        (names::RESPONSE_BODY_SIZE, SIZE_BUCKETS),
        (names::TOKEN_USAGE, TOKEN_BUCKETS),
    ];
    buckets
        .into_iter()
        .fold(PrometheusBuilder::new(), |builder, (name, buckets)| {
            builder
                .set_buckets_for_metric(Matcher::Full(name.to_owned()), buckets)
                .expect("the bucket lists are not empty")
        })
}

/// Renders the installed Prometheus recorder in the text exposition format
/// (`text/plain; version=0.0.4`), with `Cache-Control: no-store`. `GET` and
/// `HEAD` only (405 problem otherwise).
///
/// The exporter's histograms need upkeep (draining and idle cleanup) when
/// nobody scrapes for a while: call [`PrometheusHandle::run_upkeep`] every
/// few seconds (the gateway does). Rendering runs it too.
///
/// ```
/// use http::Request;
/// use http_body_util::BodyExt;
/// use spark_tower::metrics::{PrometheusService, prometheus_builder};
/// use tower::ServiceExt;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// // `PrometheusService::install()` installs it as the global recorder;
/// // here a local one keeps the example self-contained.
/// let recorder = prometheus_builder().build_recorder();
/// let endpoint = PrometheusService::new(recorder.handle());
/// metrics::with_local_recorder(&recorder, || {
///     metrics::counter!("http_server_requests_total").increment(1);
/// });
/// let response = endpoint.oneshot(Request::new(())).await.unwrap();
/// let text = response.into_body().collect().await.unwrap().to_bytes();
/// assert!(std::str::from_utf8(&text).unwrap().contains("http_server_requests_total 1"));
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct PrometheusService {
    handle: PrometheusHandle,
}

impl PrometheusService {
    /// Renders the recorder of `handle`.
    pub fn new(handle: PrometheusHandle) -> Self {
        Self { handle }
    }

    /// Installs [`prometheus_builder`]'s recorder as the global recorder,
    /// describes this crate's metrics to it, and renders it.
    ///
    /// # Errors
    ///
    /// When a global recorder is already installed.
    pub fn install() -> Result<Self, BuildError> {
        let handle = prometheus_builder().install_recorder()?;
        names::describe();
        Ok(Self::new(handle))
    }

    /// The recorder's handle (for upkeep, or to render elsewhere).
    pub fn handle(&self) -> &PrometheusHandle {
        &self.handle
    }
}

/// The content type of the text exposition format.
const TEXT_FORMAT: &str = "text/plain; version=0.0.4; charset=utf-8";

impl<B> Service<Request<B>> for PrometheusService {
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = Ready<Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        ready(Ok(crate::endpoint::answer(&request, TEXT_FORMAT, || {
            self.handle.run_upkeep();
            (StatusCode::OK, Bytes::from(self.handle.render()))
        })))
    }
}
