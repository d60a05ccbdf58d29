//! [`ErrorTrackerLayer`]: records 5xx answers, service errors, counted
//! rejections and panics into an [`ErrorTracker`]; and [`ErrorsService`],
//! the JSON listing of its groups.

use std::collections::HashSet;
use std::convert::Infallible;
use std::fmt;
use std::future::{Future, Ready, ready};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use pin_project_lite::pin_project;
use tower_layer::Layer;
use tower_service::Service;

use super::tracker::{ErrorEvent, ErrorSource, ErrorTracker};
use crate::body::ResponseBody;
use crate::marker::Provider;
use crate::problem::{Problem, Rejection, RejectionKind};
use crate::route::{RouteOf, RouteTemplate, default_route};

/// The rejection kinds counted unless set otherwise: the failures of the
/// service, not of its clients.
pub const DEFAULT_COUNTED: [RejectionKind; 4] = [
    RejectionKind::CircuitOpen,
    RejectionKind::UpstreamUnavailable,
    RejectionKind::UpstreamTimeout,
    RejectionKind::Internal,
];

/// Records what fails into an [`ErrorTracker`]:
///
/// - answers with a recorded status (every 5xx and 429 unless set with
///   [`record_statuses`](Self::record_statuses)), from the provider or a
///   layer inside this one, that carry no rejection;
/// - rejections of other spark-tower layers, by the
///   [`Rejection`] in the response extensions, for the kinds counted
///   ([`DEFAULT_COUNTED`] unless set with [`count`](Self::count)); a
///   rejection of another kind is not recorded, whatever its status;
/// - errors returned by the inner service (passed on unchanged);
/// - errors a response body yields while it streams (recorded as service
///   errors with the status sent);
/// - panics of the inner service, in `call` or in its future: caught,
///   answered with a 500 problem+json, and recorded as critical. A panic
///   while the body streams is recorded and resumed (the head is sent).
///
/// After a panic in `call`, the inner service is called again for the
/// next request: this assumes, as axum's handlers and `tower::util`
/// services allow, that a panic leaves it usable. A service with state a
/// panic can corrupt should not be behind this layer alone.
///
/// Each error is grouped by its fingerprint with the provider (the
/// [`Provider`] marker) and the route template ([`default_route`], or
/// [`route_with`](Self::route_with)).
///
/// ```
/// use http::{Request, Response, StatusCode};
/// use spark_tower::errors::{ErrorTracker, ErrorTrackerLayer, Severity};
/// use tower::{ServiceBuilder, ServiceExt, service_fn};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let tracker = ErrorTracker::new();
/// let service = ServiceBuilder::new()
///     .layer(ErrorTrackerLayer::new(tracker.clone()))
///     .service(service_fn(|_: Request<()>| async {
///         if true {
///             panic!("index out of bounds");
///         }
///         Ok::<_, std::convert::Infallible>(Response::new(String::new()))
///     }));
/// let response = service.oneshot(Request::new(())).await.unwrap();
/// assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
/// assert_eq!(tracker.snapshot()[0].severity, Severity::Critical);
/// # }
/// ```
#[derive(Clone)]
pub struct ErrorTrackerLayer {
    config: Arc<Config>,
}

#[derive(Clone)]
struct Config {
    tracker: ErrorTracker,
    counted: HashSet<RejectionKind>,
    /// The statuses recorded, as bits (status codes are below 1000).
    statuses: [u64; 16],
    route: RouteOf,
}

impl Config {
    fn records(&self, status: StatusCode) -> bool {
        let code = usize::from(status.as_u16());
        self.statuses[code / 64] & (1 << (code % 64)) != 0
    }
}

/// The default recorded statuses: every 5xx, and 429 (a provider's rate
/// limit, which the gateway's users feel).
fn default_statuses() -> [u64; 16] {
    status_bits((500..600).chain([429]))
}

fn status_bits(codes: impl IntoIterator<Item = u16>) -> [u64; 16] {
    let mut bits = [0; 16];
    for code in codes {
        let code = usize::from(code).min(1023);
        bits[code / 64] |= 1 << (code % 64);
    }
    bits
}

impl ErrorTrackerLayer {
    /// Records into `tracker`.
    pub fn new(tracker: ErrorTracker) -> Self {
        Self {
            config: Arc::new(Config {
                tracker,
                counted: DEFAULT_COUNTED.into_iter().collect(),
                statuses: default_statuses(),
                route: Arc::new(default_route),
            }),
        }
    }

    /// Counts rejections of exactly these kinds.
    pub fn count(mut self, kinds: impl IntoIterator<Item = RejectionKind>) -> Self {
        Arc::make_mut(&mut self.config).counted = kinds.into_iter().collect();
        self
    }

    /// Records answers with exactly these statuses, unless they carry a
    /// rejection (rejections are chosen by [`count`](Self::count)). By
    /// default every 5xx and 429: a provider's own rate limit is an error
    /// users feel, while the gateway's rate-limit rejections are not.
    pub fn record_statuses(mut self, statuses: impl IntoIterator<Item = StatusCode>) -> Self {
        Arc::make_mut(&mut self.config).statuses =
            status_bits(statuses.into_iter().map(|s| s.as_u16()));
        self
    }

    /// Picks route templates with `route`.
    pub fn route_with(
        mut self,
        route: impl Fn(&http::request::Parts) -> RouteTemplate + Send + Sync + 'static,
    ) -> Self {
        Arc::make_mut(&mut self.config).route = Arc::new(route);
        self
    }

    /// The tracker.
    pub fn tracker(&self) -> &ErrorTracker {
        &self.config.tracker
    }
}

impl fmt::Debug for ErrorTrackerLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ErrorTrackerLayer")
            .field("tracker", &self.config.tracker)
            .field("counted", &self.config.counted)
            .finish_non_exhaustive()
    }
}

impl<S> Layer<S> for ErrorTrackerLayer {
    type Service = ErrorTracking<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ErrorTracking {
            inner,
            config: self.config.clone(),
        }
    }
}

/// The service of [`ErrorTrackerLayer`].
#[derive(Clone)]
pub struct ErrorTracking<S> {
    inner: S,
    config: Arc<Config>,
}

impl<S: fmt::Debug> fmt::Debug for ErrorTracking<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ErrorTracking")
            .field("inner", &self.inner)
            .field("tracker", &self.config.tracker)
            .finish_non_exhaustive()
    }
}

/// What an answer is recorded with.
struct Recorder {
    // One reference count per request: the tracker lives in the config.
    config: Arc<Config>,
    provider: Option<Provider>,
    route: RouteTemplate,
}

impl Recorder {
    fn record(&self, source: ErrorSource, status: Option<StatusCode>, message: &str) {
        self.record_for(self.provider.as_ref(), source, status, message);
    }

    fn record_for(
        &self,
        provider: Option<&Provider>,
        source: ErrorSource,
        status: Option<StatusCode>,
        message: &str,
    ) {
        self.config.tracker.record(&ErrorEvent {
            source,
            provider: provider.map(Provider::name),
            route: self.route.as_str(),
            status: status.map(|s| s.as_u16()),
            message,
        });
    }

    /// Records a response, if it is a failure the layer counts. The
    /// provider is the request's, or else the one a route inside put into
    /// the response.
    fn observe<B>(&self, response: &Response<B>) {
        let status = response.status();
        let provider = self
            .provider
            .as_ref()
            .or_else(|| response.extensions().get::<Provider>());
        match response.extensions().get::<Rejection>() {
            Some(rejection) if self.config.counted.contains(&rejection.kind()) => self.record_for(
                provider,
                ErrorSource::Rejection(rejection.kind()),
                Some(status),
                rejection.detail(),
            ),
            // A rejection of a kind not counted: not recorded, whatever its status.
            Some(_) => {}
            None if self.config.records(status) => self.record_for(
                provider,
                ErrorSource::Status,
                Some(status),
                status.canonical_reason().unwrap_or("server error"),
            ),
            None => {}
        }
    }

    /// Records a panic of the inner service (in `call`, its future or its
    /// response body) answered or sent with `status`.
    fn record_panic(&self, payload: &(dyn std::any::Any + Send), status: StatusCode) {
        let message = payload
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
            .unwrap_or("a panic without a message");
        tracing::error!(route = self.route.as_str(), "the inner service panicked");
        self.record(ErrorSource::Panic, Some(status), message);
    }

    fn panicked(&self, payload: &(dyn std::any::Any + Send)) -> Response<Bytes> {
        self.record_panic(payload, StatusCode::INTERNAL_SERVER_ERROR);
        Problem::new(RejectionKind::Internal)
            .with_detail("the service failed while handling the request")
            .to_response(self.provider.as_ref().map(Provider::api))
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for ErrorTracking<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    S::Error: fmt::Display,
{
    type Response = Response<TrackedBody<ResBody>>;
    type Error = S::Error;
    type Future = TrackedFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let (parts, body) = request.into_parts();
        let context = Recorder {
            config: self.config.clone(),
            provider: parts.extensions.get::<Provider>().cloned(),
            route: (self.config.route)(&parts),
        };
        let request = Request::from_parts(parts, body);
        match catch_unwind(AssertUnwindSafe(|| self.inner.call(request))) {
            Ok(future) => TrackedFuture {
                state: State::Running {
                    future,
                    context: Some(context),
                },
            },
            Err(payload) => TrackedFuture {
                state: State::Done {
                    response: Some(context.panicked(&*payload)),
                },
            },
        }
    }
}

pin_project! {
    /// The response future of [`ErrorTracking`]: the inner future, watched
    /// for failures and panics.
    pub struct TrackedFuture<F> {
        #[pin]
        state: State<F>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<F> {
        Running {
            #[pin]
            future: F,
            context: Option<Recorder>,
        },
        Done {
            response: Option<Response<Bytes>>,
        },
    }
}

impl<F> fmt::Debug for TrackedFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match &self.state {
            State::Running { .. } => "TrackedFuture::Running",
            State::Done { .. } => "TrackedFuture::Done",
        })
    }
}

impl<F, ResBody, E> Future for TrackedFuture<F>
where
    F: Future<Output = Result<Response<ResBody>, E>>,
    E: fmt::Display,
{
    type Output = Result<Response<TrackedBody<ResBody>>, E>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let (payload, context) = match self.as_mut().project().state.project() {
            StateProj::Running { future, context } => {
                match catch_unwind(AssertUnwindSafe(|| future.poll(cx))) {
                    Ok(Poll::Pending) => return Poll::Pending,
                    Ok(Poll::Ready(result)) => {
                        let context = context.take().expect("polled after completion");
                        return Poll::Ready(match result {
                            Ok(response) => {
                                context.observe(&response);
                                let status = response.status();
                                Ok(response.map(|body| TrackedBody {
                                    inner: ResponseBody::new(body),
                                    watch: Some((context, status)),
                                }))
                            }
                            Err(error) => {
                                context.record(ErrorSource::Service, None, &error.to_string());
                                Err(error)
                            }
                        });
                    }
                    Err(payload) => (payload, context.take().expect("polled after completion")),
                }
            }
            StateProj::Done { response } => {
                let response = response.take().expect("polled after completion");
                return Poll::Ready(Ok(response.map(TrackedBody::full)));
            }
        };
        // The panicked future is dropped and never polled again.
        self.as_mut()
            .project()
            .state
            .set(State::Done { response: None });
        let response = context.panicked(&*payload);
        Poll::Ready(Ok(response.map(TrackedBody::full)))
    }
}

pin_project! {
    /// The response body of [`ErrorTracking`]: the inner body, watched
    /// while it streams (an error it yields is recorded as a service error,
    /// a panic as a panic and then resumed, since the head is sent and the
    /// answer can no longer change), or the 500 problem of a caught panic.
    pub struct TrackedBody<B> {
        #[pin]
        inner: ResponseBody<B>,
        // Until the body ends: what to record with, and the status sent.
        watch: Option<(Recorder, StatusCode)>,
    }
}

impl<B> TrackedBody<B> {
    fn full(data: Bytes) -> Self {
        Self {
            inner: ResponseBody::full(data),
            watch: None,
        }
    }
}

impl<B> fmt::Debug for TrackedBody<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TrackedBody")
            .field("inner", &self.inner)
            .field("watched", &self.watch.is_some())
            .finish()
    }
}

impl<B> http_body::Body for TrackedBody<B>
where
    B: http_body::Body<Data = Bytes>,
    B::Error: fmt::Display,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, B::Error>>> {
        let mut this = self.project();
        if this.watch.is_none() {
            return this.inner.poll_frame(cx);
        }
        let polled = catch_unwind(AssertUnwindSafe(|| this.inner.as_mut().poll_frame(cx)));
        match polled {
            Ok(Poll::Ready(Some(Err(error)))) => {
                if let Some((recorder, status)) = this.watch.take() {
                    recorder.record(ErrorSource::Service, Some(status), &error.to_string());
                }
                Poll::Ready(Some(Err(error)))
            }
            Ok(Poll::Ready(None)) => {
                *this.watch = None;
                Poll::Ready(None)
            }
            Ok(polled) => polled,
            Err(payload) => {
                if let Some((recorder, status)) = this.watch.take() {
                    recorder.record_panic(&*payload, status);
                }
                std::panic::resume_unwind(payload)
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// The JSON listing of an [`ErrorTracker`]'s groups, most recently seen
/// first: `{"groups": [...], "groups_held": n, "max_groups": n,
/// "evicted": n}`, with `Cache-Control: no-store`. `GET` and `HEAD` only
/// (405 problem otherwise). Mount it behind your own access control; the
/// gateway requires an admin key.
///
/// ```
/// use http::Request;
/// use spark_tower::errors::{ErrorTracker, ErrorsService};
/// use tower::ServiceExt;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let listing = ErrorsService::new(ErrorTracker::new());
/// let response = listing.oneshot(Request::new(())).await.unwrap();
/// assert_eq!(response.headers()["content-type"], "application/json");
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct ErrorsService {
    tracker: ErrorTracker,
}

impl ErrorsService {
    /// Lists `tracker`'s groups.
    pub fn new(tracker: ErrorTracker) -> Self {
        Self { tracker }
    }
}

impl<B> Service<Request<B>> for ErrorsService {
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = Ready<Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let tracker = &self.tracker;
        ready(Ok(crate::endpoint::answer(
            &request,
            "application/json",
            || {
                let listing = serde_json::json!({
                    "groups": tracker.snapshot(),
                    "groups_held": tracker.len(),
                    "max_groups": tracker.max_groups(),
                    "evicted": tracker.evicted(),
                });
                let body = serde_json::to_vec(&listing).expect("a listing serialises");
                (StatusCode::OK, Bytes::from(body))
            },
        )))
    }
}

#[cfg(test)]
mod tests {
    use futures_util::FutureExt;
    use http::header::{CACHE_CONTROL, CONTENT_TYPE};
    use http_body_util::BodyExt;
    use tower::{ServiceExt, service_fn};

    use super::*;
    use crate::errors::Severity;

    fn request(provider: Option<Provider>) -> Request<()> {
        let mut request = Request::new(());
        if let Some(provider) = provider {
            request.extensions_mut().insert(provider);
        }
        request
    }

    fn answer(status: StatusCode, rejection: Option<RejectionKind>) -> Response<String> {
        let mut response = Response::new(String::new());
        *response.status_mut() = status;
        if let Some(kind) = rejection {
            response
                .extensions_mut()
                .insert(Rejection::new(kind, "the provider's breaker is open"));
        }
        response
    }

    async fn through(
        layer: &ErrorTrackerLayer,
        provider: Option<Provider>,
        reply: Response<String>,
    ) -> StatusCode {
        let reply = std::sync::Mutex::new(Some(reply));
        let service = layer.clone().layer(service_fn(move |_: Request<()>| {
            let reply = reply.lock().unwrap().take().unwrap();
            async move { Ok::<_, std::io::Error>(reply) }
        }));
        service.oneshot(request(provider)).await.unwrap().status()
    }

    #[tokio::test]
    async fn failures_are_recorded_and_the_rest_is_not() {
        let tracker = ErrorTracker::new();
        let layer = ErrorTrackerLayer::new(tracker.clone());
        let openai = || Some(Provider::openai());
        let cases = [
            (StatusCode::OK, None, false),
            (StatusCode::NOT_FOUND, None, false),
            (StatusCode::BAD_GATEWAY, None, true),
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Some(RejectionKind::CircuitOpen),
                true,
            ),
            (
                StatusCode::TOO_MANY_REQUESTS,
                Some(RejectionKind::RateLimited),
                false,
            ),
            // A rejection of a kind not counted is not recorded, 5xx or not.
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Some(RejectionKind::BadRequest),
                false,
            ),
        ];
        for (status, rejection, recorded) in cases {
            let before = tracker.snapshot().iter().map(|g| g.count).sum::<u64>();
            through(&layer, openai(), answer(status, rejection)).await;
            let after = tracker.snapshot().iter().map(|g| g.count).sum::<u64>();
            assert_eq!(
                after - before,
                u64::from(recorded),
                "{status} {rejection:?}"
            );
        }
        let groups = tracker.snapshot();
        let kinds: Vec<&str> = groups.iter().map(|g| g.kind).collect();
        assert_eq!(kinds, ["circuit-open", "status"]);
        assert_eq!(groups[0].severity, Severity::Medium);
        assert_eq!(groups[0].message, "the provider's breaker is open");
        assert_eq!(groups[1].provider.as_deref(), Some("openai"));
        assert_eq!(groups[1].route, "/v1/chat/completions");
        assert_eq!(groups[1].status, Some(502));
        assert_eq!(groups[1].message, "Bad Gateway");

        // Counting rate limits too, on request.
        let counting = ErrorTrackerLayer::new(tracker.clone()).count([RejectionKind::RateLimited]);
        through(
            &counting,
            None,
            answer(
                StatusCode::TOO_MANY_REQUESTS,
                Some(RejectionKind::RateLimited),
            ),
        )
        .await;
        let limited = tracker
            .snapshot()
            .into_iter()
            .find(|g| g.kind == "rate-limited")
            .unwrap();
        assert_eq!(
            (limited.route.as_str(), limited.severity),
            ("unmatched", Severity::Low)
        );
    }

    #[tokio::test]
    async fn a_providers_429_is_recorded_and_statuses_are_configurable() {
        let tracker = ErrorTracker::new();
        let layer = ErrorTrackerLayer::new(tracker.clone());
        through(
            &layer,
            Some(Provider::openai()),
            answer(StatusCode::TOO_MANY_REQUESTS, None),
        )
        .await;
        let groups = tracker.snapshot();
        assert_eq!(groups.len(), 1);
        assert_eq!(groups[0].status, Some(429));
        assert_eq!(groups[0].severity, Severity::Low);
        assert_eq!(groups[0].message, "Too Many Requests");

        let only_500 = ErrorTracker::new();
        let layer = ErrorTrackerLayer::new(only_500.clone())
            .record_statuses([StatusCode::INTERNAL_SERVER_ERROR]);
        through(&layer, None, answer(StatusCode::BAD_GATEWAY, None)).await;
        through(&layer, None, answer(StatusCode::TOO_MANY_REQUESTS, None)).await;
        assert!(only_500.is_empty());
        through(
            &layer,
            None,
            answer(StatusCode::INTERNAL_SERVER_ERROR, None),
        )
        .await;
        assert_eq!(only_500.len(), 1);
    }

    /// A body that yields one chunk, then fails or panics.
    struct Breaking {
        sent: bool,
        panics: bool,
    }

    impl http_body::Body for Breaking {
        type Data = Bytes;
        type Error = std::io::Error;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<http_body::Frame<Bytes>, std::io::Error>>> {
            if !std::mem::replace(&mut self.sent, true) {
                return Poll::Ready(Some(Ok(http_body::Frame::data(Bytes::from_static(
                    b"data: {}\n\n",
                )))));
            }
            if self.panics {
                panic!("stream state corrupted at event 2");
            }
            Poll::Ready(Some(Err(std::io::Error::other(
                "upstream reset the stream after 2 events",
            ))))
        }
    }

    #[tokio::test]
    async fn errors_and_panics_while_a_body_streams_are_recorded() {
        for panics in [false, true] {
            let tracker = ErrorTracker::new();
            let service = ErrorTrackerLayer::new(tracker.clone()).layer(service_fn(
                move |_: Request<()>| async move {
                    Ok::<_, Infallible>(Response::new(Breaking {
                        sent: false,
                        panics,
                    }))
                },
            ));
            let response = service
                .oneshot(request(Some(Provider::anthropic())))
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            assert!(tracker.is_empty(), "nothing wrong yet");
            let mut body = response.into_body();
            body.frame().await.unwrap().unwrap();
            let next = AssertUnwindSafe(body.frame()).catch_unwind().await;
            let group = &tracker.snapshot()[0];
            assert_eq!(group.status, Some(200));
            assert_eq!(group.provider.as_deref(), Some("anthropic"));
            if panics {
                assert!(next.is_err(), "the panic goes on");
                assert_eq!((group.kind, group.severity), ("panic", Severity::Critical));
                assert!(group.message.contains("stream state corrupted"));
            } else {
                assert!(next.unwrap().unwrap().is_err(), "the error goes on");
                assert_eq!((group.kind, group.severity), ("service", Severity::High));
                assert!(group.message.contains("upstream reset the stream"));
            }
        }
    }

    #[tokio::test]
    async fn service_errors_pass_through_and_are_recorded() {
        let tracker = ErrorTracker::new();
        let service = ErrorTrackerLayer::new(tracker.clone())
            .route_with(|_| RouteTemplate::Static("/custom"))
            .layer(service_fn(|_: Request<()>| async {
                Err::<Response<String>, _>(std::io::Error::other(
                    "connection reset by peer 10.0.0.9",
                ))
            }));
        let error = service.oneshot(request(None)).await.unwrap_err();
        assert_eq!(error.to_string(), "connection reset by peer 10.0.0.9");
        let group = &tracker.snapshot()[0];
        assert_eq!(
            (group.kind, group.route.as_str(), group.severity),
            ("service", "/custom", Severity::High)
        );
    }

    #[tokio::test]
    async fn panics_in_call_and_in_the_future_are_caught() {
        let tracker = ErrorTracker::new();
        let layer = ErrorTrackerLayer::new(tracker.clone());
        // In the future, with the provider's error shape.
        let in_future = layer.clone().layer(service_fn(|_: Request<()>| async {
            let items: Vec<u8> = Vec::new();
            let _ = items[3];
            Ok::<_, Infallible>(Response::new(String::new()))
        }));
        let response = in_future
            .oneshot(request(Some(Provider::anthropic())))
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(response.headers()[CONTENT_TYPE], "application/problem+json");
        let body = response.into_body().collect().await.unwrap().to_bytes();
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(json["error"]["type"], "api_error");
        assert!(
            !json.to_string().contains("index out of bounds"),
            "the panic message leaks: {json}"
        );

        // In `call` itself.
        #[derive(Clone)]
        struct PanicsInCall;
        impl Service<Request<()>> for PanicsInCall {
            type Response = Response<String>;
            type Error = Infallible;
            type Future = Ready<Result<Response<String>, Infallible>>;
            fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
                Poll::Ready(Ok(()))
            }
            fn call(&mut self, _: Request<()>) -> Self::Future {
                panic!("bad state {}", 42)
            }
        }
        let response = layer
            .layer(PanicsInCall)
            .oneshot(request(None))
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);

        let groups = tracker.snapshot();
        assert_eq!(groups.len(), 2);
        assert!(
            groups
                .iter()
                .all(|g| g.kind == "panic" && g.severity == Severity::Critical)
        );
        assert!(groups.iter().any(|g| g.message == "bad state 42"));
        assert!(
            groups
                .iter()
                .any(|g| g.message.contains("index out of bounds"))
        );
    }

    #[tokio::test]
    async fn the_listing_is_json_not_cached_and_get_only() {
        let tracker = ErrorTracker::new();
        tracker.record(&ErrorEvent {
            source: ErrorSource::Status,
            provider: Some("openai"),
            route: "/v1/chat/completions",
            status: Some(500),
            message: "failed with key sk-proj-abcdefghijklmnop",
        });
        let listing = ErrorsService::new(tracker);
        let response = listing
            .clone()
            .oneshot(Request::get("/").body(()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.headers()[CACHE_CONTROL], "no-store");
        let body = response.into_body().collect().await.unwrap().to_bytes();
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(json["groups"][0]["count"], 1);
        assert_eq!(json["groups"][0]["severity"], "high");
        assert_eq!(json["groups"][0]["fingerprint"].as_str().unwrap().len(), 16);
        assert_eq!(json["max_groups"], 1000);
        assert!(!String::from_utf8_lossy(&body).contains("sk-proj"));
        let post = listing
            .oneshot(Request::post("/").body(()).unwrap())
            .await
            .unwrap();
        assert_eq!(post.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(post.headers()[http::header::ALLOW], "GET, HEAD");
    }
}
