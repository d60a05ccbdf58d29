//! [`MetricsLayer`]: request metrics through the `metrics` facade.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use http::header::CONTENT_TYPE;
use http::{Method, Request, Response};
use pin_project_lite::pin_project;
use tower_layer::Layer;
use tower_service::Service;

use super::body::{Active, CountedBody, MetricsBody, Pending, Track};
use super::series::Series;
use crate::clock::{Clock, MonotonicClock};
use crate::marker::Provider;
use crate::problem::Rejection;
use crate::route::{RouteOf, RouteTemplate, default_route};

/// Distinct model names labelled unless set otherwise; later ones are
/// `other`.
pub const DEFAULT_MAX_MODELS: usize = 64;

/// What every [`Metrics`] service of one layer shares.
pub(crate) struct Shared {
    pub(crate) series: Series,
    pub(crate) clock: Arc<dyn Clock>,
    route: RouteOf,
}

/// Records request metrics through the [`metrics`] facade: counts,
/// durations, in-flight requests, body sizes, rejections, and for model
/// routes tokens and time to first token. See the [module](super) for
/// every metric.
///
/// The application installs the recorder (Prometheus through
/// [`PrometheusService`](super::PrometheusService), or any other). Handles
/// are registered with the recorder installed when a label set is first
/// seen and kept, so install the recorder before serving.
///
/// ```
/// use bytes::Bytes;
/// use http::{Request, Response};
/// use http_body_util::Full;
/// use metrics_util::debugging::DebuggingRecorder;
/// use spark_tower::metrics::{CountedBody, MetricsLayer};
/// use tower::{ServiceBuilder, ServiceExt, service_fn};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let recorder = DebuggingRecorder::new();
/// let snapshotter = recorder.snapshotter();
/// let _local = metrics::set_default_local_recorder(&recorder);
///
/// let service = ServiceBuilder::new()
///     .layer(MetricsLayer::new())
///     .service(service_fn(|_request: Request<CountedBody<Full<Bytes>>>| async {
///         Ok::<_, std::convert::Infallible>(Response::new(Full::new(Bytes::from("hello"))))
///     }));
/// let response = service.oneshot(Request::new(Full::default())).await.unwrap();
/// drop(response); // the request is recorded when its body ends or is dropped
///
/// let names: Vec<String> = snapshotter
///     .snapshot()
///     .into_vec()
///     .into_iter()
///     .map(|(key, ..)| key.key().name().to_owned())
///     .collect();
/// assert!(names.iter().any(|name| name == "http_server_requests_total"));
/// # }
/// ```
#[derive(Clone)]
pub struct MetricsLayer {
    shared: Arc<Shared>,
}

impl MetricsLayer {
    /// A layer with the default route templates ([`default_route`]) and
    /// at most [`DEFAULT_MAX_MODELS`] model names.
    pub fn new() -> Self {
        Self::builder().build()
    }

    /// Starts a layer with settings.
    pub fn builder() -> MetricsBuilder {
        MetricsBuilder::default()
    }
}

impl Default for MetricsLayer {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for MetricsLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MetricsLayer").finish_non_exhaustive()
    }
}

impl<S> Layer<S> for MetricsLayer {
    type Service = Metrics<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Metrics {
            inner,
            shared: self.shared.clone(),
        }
    }
}

/// Settings of a [`MetricsLayer`].
pub struct MetricsBuilder {
    route: RouteOf,
    clock: Arc<dyn Clock>,
    max_models: usize,
}

impl Default for MetricsBuilder {
    fn default() -> Self {
        Self {
            route: Arc::new(default_route),
            clock: Arc::new(MonotonicClock::new()),
            max_models: DEFAULT_MAX_MODELS,
        }
    }
}

impl fmt::Debug for MetricsBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MetricsBuilder")
            .field("max_models", &self.max_models)
            .finish_non_exhaustive()
    }
}

impl MetricsBuilder {
    /// Picks the route label of each request (the default is
    /// [`default_route`]). Return templates, never raw paths: every value
    /// is a label value.
    pub fn route_with(
        mut self,
        route: impl Fn(&http::request::Parts) -> RouteTemplate + Send + Sync + 'static,
    ) -> Self {
        self.route = Arc::new(route);
        self
    }

    /// How many distinct model names get their own label value (default
    /// [`DEFAULT_MAX_MODELS`]); later ones are labelled `other`.
    pub fn max_models(mut self, models: usize) -> Self {
        self.max_models = models;
        self
    }

    /// The clock durations are measured on (tests use a manual one).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The layer.
    pub fn build(self) -> MetricsLayer {
        MetricsLayer {
            shared: Arc::new(Shared {
                series: Series::new(self.max_models),
                clock: self.clock,
                route: self.route,
            }),
        }
    }
}

/// The service of a [`MetricsLayer`].
#[derive(Clone)]
pub struct Metrics<S> {
    inner: S,
    shared: Arc<Shared>,
}

impl<S> fmt::Debug for Metrics<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

/// The method's label: its name for the standard methods, `_OTHER` for
/// the rest (so a client cannot make new label values).
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::HEAD => "HEAD",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "_OTHER",
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for Metrics<S>
where
    S: Service<Request<CountedBody<ReqBody>>, Response = Response<ResBody>>,
    ReqBody: http_body::Body,
{
    type Response = Response<MetricsBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let start = self.shared.clock.now();
        let (parts, body) = request.into_parts();
        let method = method_label(&parts.method);
        let route = (self.shared.route)(&parts);
        let provider = parts.extensions.get::<Provider>().cloned();
        let (active, size) = self
            .shared
            .series
            .with_route(method, route.as_str(), |series| {
                (series.active.clone(), series.request_size.clone())
            });
        let active = Active::enter(active);
        let request = Request::from_parts(parts, CountedBody::new(body, size));
        ResponseFuture {
            future: self.inner.call(request),
            pending: Waiting(Some(Pending {
                shared: self.shared.clone(),
                start,
                method,
                route,
                provider,
                _active: active,
            })),
        }
    }
}

/// The pending request of a response future; one dropped before its
/// response head (the client went away, a timeout fired) is recorded as
/// `499`, as nginx logs such requests (`500` if the inner future panicked).
struct Waiting(Option<Pending>);

impl Drop for Waiting {
    fn drop(&mut self) {
        if let Some(pending) = self.0.take() {
            // Unwinding from a panic of the inner future: a 500 at the
            // server, not the client's doing.
            let status = if std::thread::panicking() { 500 } else { 499 };
            pending.record_answer(status, None);
        }
    }
}

/// Whether a response is a model answer to read for usage: a success with
/// a provider; `Some(true)` for a stream.
fn watch_of<B>(response: &Response<B>, provider: Option<&Provider>) -> Option<bool> {
    if provider.is_none() || !response.status().is_success() {
        return None;
    }
    let content_type = response.headers().get(CONTENT_TYPE)?.as_bytes();
    let content_type = content_type.trim_ascii_start();
    if content_type.starts_with(b"text/event-stream") {
        Some(true)
    } else if content_type.starts_with(b"application/json") {
        Some(false)
    } else {
        None
    }
}

pin_project! {
    /// The response future of [`Metrics`].
    pub struct ResponseFuture<F> {
        #[pin]
        future: F,
        pending: Waiting,
    }
}

impl<F> fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<MetricsBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = ready!(this.future.poll(cx));
        let mut pending = this
            .pending
            .0
            .take()
            .expect("ResponseFuture polled after completion");
        let response = match result {
            Ok(response) => response,
            Err(error) => {
                // A service error becomes a 500 at the server.
                pending.record_answer(500, None);
                return Poll::Ready(Err(error));
            }
        };
        if let Some(rejection) = response.extensions().get::<Rejection>() {
            pending
                .shared
                .series
                .rejected(rejection.kind().as_str(), pending.route.as_str());
        }
        // Routes may mark the provider on the response only.
        if pending.provider.is_none() {
            pending.provider = response.extensions().get::<Provider>().cloned();
        }
        let watch = watch_of(&response, pending.provider.as_ref());
        let track = Track::new(pending, response.status().as_u16(), watch);
        Poll::Ready(Ok(response.map(|body| MetricsBody::new(body, track))))
    }
}
