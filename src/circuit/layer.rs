//! The layer, its builder and its service.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use http::{Request, Response};
use tower_layer::Layer;
use tower_service::Service;

use super::breaker::Refusal;
use super::classify::{Classify, DefaultClassifier, KeyExtractor, ProviderKey};
use super::config::{CircuitConfig, CircuitConfigError};
use super::future::{ResponseFuture, TrackedBody};
use super::handle::{CircuitBreakerHandle, Registry};
use crate::body::ResponseBody;
use crate::clock::{Clock, MonotonicClock};
use crate::marker::ProviderApi;
use crate::problem::{PROBLEM_JSON, Problem, Rejection, RejectionKind};

/// A circuit breaker per key (per provider by default) around a service.
///
/// Every clone of the layer, and every service it makes, shares the same
/// breakers; [`handle`](Self::handle) reads and sets them. While a key's
/// breaker is open its calls are answered with `503` problem+json
/// (`urn:spark-tower:problem:circuit-open`) with `Retry-After`, the
/// `breaker` key and a [`Rejection`](crate::problem::Rejection) in the
/// response extensions, without calling the inner service.
///
/// ```
/// use std::time::Duration;
/// use http::{Request, Response, StatusCode};
/// use spark_tower::circuit::{CircuitBreakerLayer, CircuitConfig, CircuitState};
/// use spark_tower::marker::Provider;
/// use tower::{Layer, ServiceExt, service_fn};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let layer = CircuitBreakerLayer::builder()
///     .config(CircuitConfig::default().minimum_calls(2).consecutive_failures(2))
///     .build()
///     .unwrap();
/// let handle = layer.handle();
/// // A provider that is down.
/// let service = layer.layer(service_fn(|_: Request<String>| async {
///     let mut response = Response::new(String::from("overloaded"));
///     *response.status_mut() = StatusCode::from_u16(529).unwrap();
///     Ok::<_, std::convert::Infallible>(response)
/// }));
/// let call = || {
///     let mut request = Request::new(String::new());
///     request.extensions_mut().insert(Provider::anthropic());
///     service.clone().oneshot(request)
/// };
/// assert_eq!(call().await.unwrap().status().as_u16(), 529);
/// assert_eq!(call().await.unwrap().status().as_u16(), 529);
/// // Two failures in a row: open, answered without calling the provider.
/// let refused = call().await.unwrap();
/// assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
/// assert!(refused.headers().contains_key("retry-after"));
/// assert_eq!(handle.snapshot("anthropic").unwrap().state, CircuitState::Open);
/// # }
/// ```
pub struct CircuitBreakerLayer<K = ProviderKey, C = DefaultClassifier> {
    registry: Arc<Registry>,
    key: K,
    classifier: C,
}

impl<K: Clone, C: Clone> Clone for CircuitBreakerLayer<K, C> {
    fn clone(&self) -> Self {
        Self {
            registry: self.registry.clone(),
            key: self.key.clone(),
            classifier: self.classifier.clone(),
        }
    }
}

impl<K, C> fmt::Debug for CircuitBreakerLayer<K, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CircuitBreakerLayer")
            .field("registry", &self.registry)
            .finish_non_exhaustive()
    }
}

impl CircuitBreakerLayer {
    /// Breakers keyed by the [`Provider`](crate::marker::Provider) marker,
    /// with the default [`CircuitConfig`] and classification.
    pub fn new() -> Self {
        Self::builder()
            .build()
            .expect("the default configuration is valid")
    }

    /// A builder for other settings, keys or classifications.
    pub fn builder() -> CircuitBreakerBuilder {
        CircuitBreakerBuilder {
            max_keys: 1_000,
            config: CircuitConfig::default(),
            overrides: HashMap::new(),
            clock: Arc::new(MonotonicClock::new()),
            key: ProviderKey,
            classifier: DefaultClassifier,
        }
    }
}

impl Default for CircuitBreakerLayer {
    fn default() -> Self {
        Self::new()
    }
}

impl<K, C> CircuitBreakerLayer<K, C> {
    /// A handle on this layer's breakers (shared with its clones).
    pub fn handle(&self) -> CircuitBreakerHandle {
        CircuitBreakerHandle::new(self.registry.clone())
    }
}

impl<S, K: Clone, C: Clone> Layer<S> for CircuitBreakerLayer<K, C> {
    type Service = CircuitBreaker<S, K, C>;

    fn layer(&self, inner: S) -> Self::Service {
        CircuitBreaker {
            inner,
            registry: self.registry.clone(),
            key: self.key.clone(),
            classifier: self.classifier.clone(),
        }
    }
}

/// Builds a [`CircuitBreakerLayer`].
pub struct CircuitBreakerBuilder<K = ProviderKey, C = DefaultClassifier> {
    max_keys: usize,
    config: CircuitConfig,
    overrides: HashMap<String, CircuitConfig>,
    clock: Arc<dyn Clock>,
    key: K,
    classifier: C,
}

impl<K, C> fmt::Debug for CircuitBreakerBuilder<K, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CircuitBreakerBuilder")
            .field("config", &self.config)
            .field("overrides", &self.overrides)
            .finish_non_exhaustive()
    }
}

impl<K, C> CircuitBreakerBuilder<K, C> {
    /// The settings of every key's breaker without an override.
    pub fn config(mut self, config: CircuitConfig) -> Self {
        self.config = config;
        self
    }

    /// The settings of `key`'s breaker.
    pub fn override_for(mut self, key: impl Into<String>, config: CircuitConfig) -> Self {
        self.overrides.insert(key.into(), config);
        self
    }

    /// The most breakers made for calls (1,000 by default). Past it, calls
    /// with a key that has no breaker yet pass without one (logged once),
    /// so keys drawn from request data cannot grow memory and metric
    /// series without bound. A breaker takes about 800 bytes (640 of its
    /// own, measured with `size_of`, the rest its `Arc`, key and map entry)
    /// plus its window: a byte per call of a count window (100 by default),
    /// 24 bytes per bucket of a time window. The lock-free lookup table is
    /// sized for the limit: 80 bytes per key of it.
    pub fn max_keys(mut self, keys: usize) -> Self {
        self.max_keys = keys;
        self
    }

    /// The clock (a [`ManualClock`](super::ManualClock) in tests).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Picks each request's breaker (see [`KeyExtractor`]).
    pub fn key<K2>(self, key: K2) -> CircuitBreakerBuilder<K2, C> {
        CircuitBreakerBuilder {
            max_keys: self.max_keys,
            config: self.config,
            overrides: self.overrides,
            clock: self.clock,
            key,
            classifier: self.classifier,
        }
    }

    /// Classifies results (see [`Classify`]).
    pub fn classifier<C2>(self, classifier: C2) -> CircuitBreakerBuilder<K, C2> {
        CircuitBreakerBuilder {
            max_keys: self.max_keys,
            config: self.config,
            overrides: self.overrides,
            clock: self.clock,
            key: self.key,
            classifier,
        }
    }

    /// Checks the settings and builds the layer.
    ///
    /// # Errors
    /// The first setting out of range, in the shared settings or an
    /// override.
    pub fn build(self) -> Result<CircuitBreakerLayer<K, C>, CircuitConfigError> {
        self.config.validate()?;
        for config in self.overrides.values() {
            config.validate()?;
        }
        Ok(CircuitBreakerLayer {
            registry: Arc::new(Registry::new(
                self.config,
                self.overrides,
                self.clock,
                self.max_keys,
            )),
            key: self.key,
            classifier: self.classifier,
        })
    }
}

/// The service of [`CircuitBreakerLayer`].
pub struct CircuitBreaker<S, K = ProviderKey, C = DefaultClassifier> {
    inner: S,
    registry: Arc<Registry>,
    key: K,
    classifier: C,
}

impl<S: Clone, K: Clone, C: Clone> Clone for CircuitBreaker<S, K, C> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            registry: self.registry.clone(),
            key: self.key.clone(),
            classifier: self.classifier.clone(),
        }
    }
}

impl<S: fmt::Debug, K, C> fmt::Debug for CircuitBreaker<S, K, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CircuitBreaker")
            .field("inner", &self.inner)
            .field("registry", &self.registry)
            .finish_non_exhaustive()
    }
}

impl<S, K, C> CircuitBreaker<S, K, C> {
    /// A handle on this service's breakers.
    pub fn handle(&self) -> CircuitBreakerHandle {
        CircuitBreakerHandle::new(self.registry.clone())
    }
}

impl<S, K, C, ReqBody, ResBody> Service<Request<ReqBody>> for CircuitBreaker<S, K, C>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    K: KeyExtractor<ReqBody>,
    C: Classify<ResBody, S::Error> + Clone,
    ResBody: http_body::Body,
{
    type Response = Response<ResponseBody<TrackedBody<ResBody>>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, C>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let Some(key) = self.key.key(&request) else {
            return ResponseFuture::untracked(self.inner.call(request));
        };
        let Some(breaker) = self.registry.for_call(key.as_ref()) else {
            return ResponseFuture::untracked(self.inner.call(request));
        };
        match breaker.admit() {
            Ok(permit) => {
                ResponseFuture::tracked(self.inner.call(request), permit, self.classifier.clone())
            }
            Err(refusal) => ResponseFuture::refused(open_response(
                &refusal,
                ProviderApi::from_extensions(request.extensions()),
            )),
        }
    }
}

/// The 503 of an open breaker. Its body is cached by the breaker for the
/// seconds and API shape it states, so a rejection during an outage does
/// not serialise one each time.
fn open_response(refusal: &Refusal, api: Option<ProviderApi>) -> Response<Bytes> {
    // Whole seconds, rounded up: a client that waits that long finds the
    // breaker half-open.
    let retry_after = refusal.retry_after;
    let seconds = (retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0)).max(1);
    let body = refusal.breaker.rejection_body(seconds, api, || {
        Problem::new(RejectionKind::CircuitOpen)
            .with_detail(OPEN_DETAIL)
            .with_member("breaker", &**refusal.breaker.key())
            .with_member("retry_after", seconds)
            .to_json(api)
    });
    let mut response = Response::new(body);
    *response.status_mut() = RejectionKind::CircuitOpen.default_status();
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    headers.insert(RETRY_AFTER, HeaderValue::from(seconds));
    response
        .extensions_mut()
        .insert(Rejection::new(RejectionKind::CircuitOpen, OPEN_DETAIL));
    response
}

/// The detail of every open-breaker problem: the key and the wait are
/// members of their own.
const OPEN_DETAIL: &str = "the provider's circuit breaker is open";
