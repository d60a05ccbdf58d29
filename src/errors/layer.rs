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
use http::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use http_body_util::Full;
use pin_project_lite::pin_project;
use tower_layer::Layer;
use tower_service::Service;

use super::tracker::{ErrorEvent, ErrorSource, ErrorTracker};
use crate::body::ResponseBody;
use crate::marker::{Provider, ProviderApi};
use crate::problem::{Problem, Rejection, RejectionKind};

/// Picks the route template of a request (never its raw path, so groups
/// and labels stay few).
pub type RouteOf = Arc<dyn Fn(&http::request::Parts) -> RouteTemplate + Send + Sync>;

/// A request's route template, kept until its answer is known.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum RouteTemplate {
    /// A fixed template.
    Static(&'static str),
    /// A template made at run time.
    Shared(Arc<str>),
    /// axum's matched path (a shared string: keeping it allocates nothing).
    #[cfg(feature = "gateway")]
    Matched(axum::extract::MatchedPath),
}

impl RouteTemplate {
    /// The template.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Static(route) => route,
            Self::Shared(route) => route,
            #[cfg(feature = "gateway")]
            Self::Matched(matched) => matched.as_str(),
        }
    }
}

/// The default route template: axum's `MatchedPath` when the `gateway`
/// feature brings axum and a router set it, else the route of the
/// request's [`Provider`], else `unmatched`.
pub fn default_route(parts: &http::request::Parts) -> RouteTemplate {
    #[cfg(feature = "gateway")]
    if let Some(matched) = parts.extensions.get::<axum::extract::MatchedPath>() {
        return RouteTemplate::Matched(matched.clone());
    }
    match ProviderApi::from_extensions(&parts.extensions) {
        Some(api) => RouteTemplate::Static(api.route()),
        None => RouteTemplate::Static("unmatched"),
    }
}

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
/// - responses with a 5xx status (from the provider, or from a layer
///   inside this one);
/// - rejections of other spark-tower layers, by the
///   [`Rejection`] in the response extensions, for the kinds counted
///   ([`DEFAULT_COUNTED`] unless set with [`count`](Self::count)); a
///   rejection of another kind is not recorded, whatever its status;
/// - errors returned by the inner service (passed on unchanged);
/// - panics of the inner service, in `call` or in its future: caught,
///   answered with a 500 problem+json, and recorded as critical.
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
    route: RouteOf,
}

impl ErrorTrackerLayer {
    /// Records into `tracker`.
    pub fn new(tracker: ErrorTracker) -> Self {
        Self {
            config: Arc::new(Config {
                tracker,
                counted: DEFAULT_COUNTED.into_iter().collect(),
                route: Arc::new(default_route),
            }),
        }
    }

    /// Counts rejections of exactly these kinds.
    pub fn count(mut self, kinds: impl IntoIterator<Item = RejectionKind>) -> Self {
        Arc::make_mut(&mut self.config).counted = kinds.into_iter().collect();
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
            None if status.is_server_error() => self.record_for(
                provider,
                ErrorSource::Status,
                Some(status),
                status.canonical_reason().unwrap_or("server error"),
            ),
            None => {}
        }
    }

    fn panicked(&self, payload: &(dyn std::any::Any + Send)) -> Response<Bytes> {
        let message = payload
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
            .unwrap_or("a panic without a message");
        tracing::error!(route = self.route.as_str(), "the inner service panicked");
        self.record(
            ErrorSource::Panic,
            Some(StatusCode::INTERNAL_SERVER_ERROR),
            message,
        );
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
    type Response = Response<ResponseBody<ResBody>>;
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
    type Output = Result<Response<ResponseBody<ResBody>>, E>;

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
                                Ok(response.map(ResponseBody::new))
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
                return Poll::Ready(Ok(response.map(ResponseBody::full)));
            }
        };
        // The panicked future is dropped and never polled again.
        self.as_mut()
            .project()
            .state
            .set(State::Done { response: None });
        let response = context.panicked(&*payload);
        Poll::Ready(Ok(response.map(ResponseBody::full)))
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
        if request.method() != Method::GET && request.method() != Method::HEAD {
            let mut response = Problem::new(RejectionKind::MethodNotAllowed)
                .with_detail("the error listing answers GET")
                .to_response::<Full<Bytes>>(None);
            response
                .headers_mut()
                .insert(http::header::ALLOW, HeaderValue::from_static("GET, HEAD"));
            return ready(Ok(response));
        }
        let tracker = &self.tracker;
        let listing = serde_json::json!({
            "groups": tracker.snapshot(),
            "groups_held": tracker.len(),
            "max_groups": tracker.max_groups(),
            "evicted": tracker.evicted(),
        });
        let body = serde_json::to_vec(&listing).expect("a listing serialises");
        let mut response = Response::new(Full::new(Bytes::from(body)));
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        ready(Ok(response))
    }
}

#[cfg(test)]
mod tests {
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
