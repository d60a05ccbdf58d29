//! The gateway's reusable pieces: provider routing, the provider client, the
//! mock provider, and a router builder.
//!
//! `examples/gateway.rs` is a thin `main` over [`GatewayBuilder`] and
//! [`serve`]; build your own gateway from the same pieces. The router serves
//!
//! | route | API | provider |
//! |---|---|---|
//! | `POST /v1/chat/completions` | OpenAI Chat Completions | [`Provider::openai`] |
//! | `POST /v1/messages` | Anthropic Messages | [`Provider::anthropic`] |
//!
//! and the operational endpoints: `GET /metrics` (Prometheus text, see
//! [`prometheus()`]), `GET /health` (every component),
//! `GET /health/live` (liveness), `GET /health/ready` (readiness: the
//! providers' breakers), and `GET /admin/errors` when an admin key is set.
//!
//! Each route puts its [`Provider`] into the request extensions (see
//! [`ProviderRoute`]) and forwards to the provider's base URL with a
//! [`ProviderClient`], or to the in-process [`MockProvider`] when no base URL is
//! configured, so the gateway works offline. Unknown routes answer 404
//! problem+json. Around the router: request ids (`x-request-id`, taken from the
//! request or generated, echoed on the response and recorded in every log line
//! of the request), `tracing` spans, and the crate's layers.
//!
//! ```
//! use axum::body::Body;
//! use http::{Request, StatusCode};
//! use http_body_util::BodyExt;
//! use spark_tower::gateway::{GatewayBuilder, GatewayConfig};
//! use tower::ServiceExt;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let router = GatewayBuilder::new(GatewayConfig::default()).build();
//! let request = Request::post("/v1/chat/completions")
//!     .header("content-type", "application/json")
//!     // Without `SPARK_API_KEYS_FILE`, the development key works.
//!     .header("authorization", format!("Bearer {}", spark_tower::gateway::dev_key()))
//!     .body(Body::from(r#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}"#))
//!     .unwrap();
//! let response = router.oneshot(request).await.unwrap();
//! assert_eq!(response.status(), StatusCode::OK);
//! assert!(response.headers().contains_key("x-request-id"));
//! let body = response.into_body().collect().await.unwrap().to_bytes();
//! let completion: serde_json::Value = serde_json::from_slice(&body).unwrap();
//! assert_eq!(completion["choices"][0]["message"]["content"], "hi");
//! # }
//! ```

mod client;
mod config;
#[cfg(feature = "jwt")]
mod jwks;
pub mod mock;
mod route;

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use futures_util::future::Either;
use http::{Request, Response};
use tokio::net::TcpListener;
use tower::ServiceBuilder;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::RequestBodyTimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tower_service::Service;

pub use client::{DEFAULT_ANTHROPIC_VERSION, ProviderClient, ProviderClientBuilder};
pub use config::{AdminKey, ApiKey, ConfigError, GatewayConfig, MIN_ADMIN_KEY_LEN, UpstreamConfig};
#[cfg(feature = "jwt")]
pub use jwks::JwksUrl;
pub use mock::{MockConfig, MockProvider};
pub use route::{ProviderRoute, ProviderRouteLayer};

use crate::auth::{ApiKeyLayer, MemoryKeyStore, ModelScopeLayer};
use crate::circuit::{CircuitBreakerHandle, CircuitBreakerLayer};
use crate::errors::{ErrorTracker, ErrorTrackerLayer, ErrorsService};
use crate::headers::SecurityHeadersLayer;
use crate::health::{CircuitCheck, ErrorTrackerCheck, HealthService, RateLimitCheck, present};
use crate::limit::BodyLimitLayer;
use crate::marker::{PeerAddr, Provider, ProviderApi};
use crate::metrics::{MetricsLayer, PrometheusService};
use crate::problem::{Problem, RejectionKind};
use crate::rate_limit::{MemoryStore, Policy, Quota, RateLimitLayer};
use crate::sanitize::{Limits, Role, SanitizeLayer};

/// The development key file shipped in the repository (`dev/keys.toml`),
/// used when `SPARK_API_KEYS_FILE` is not set. Its first line is
/// `# dev key: spk_…`.
pub const DEV_KEYS: &str = include_str!("../../dev/keys.toml");

/// The development API key, read from the first line of [`DEV_KEYS`]. It
/// is public: a gateway using it listens on loopback addresses only.
pub fn dev_key() -> &'static str {
    DEV_KEYS
        .lines()
        .next()
        .and_then(|line| line.strip_prefix("# dev key: "))
        .expect("the development key file starts with its key")
        .trim()
}

/// The gateway's tiers and their quotas, by name; principals of other
/// tiers get `free`'s.
///
/// | tier | requests | tokens (input and output) |
/// |---|---|---|
/// | `dev` | 60 a minute, bursts of 10; 10,000 a day | 100,000 a minute |
/// | `free` | 20 a minute, bursts of 5; 1,000 a day | 40,000 a minute |
/// | `pro` | 600 a minute, bursts of 50; 100,000 a day | 1,000,000 a minute |
pub fn tiers() -> Vec<(&'static str, Policy)> {
    let n = |n| std::num::NonZeroU32::new(n).expect("quotas are positive");
    let tier = |per_minute, burst, per_day, tokens| {
        Policy::new()
            .requests(Quota::per_minute(n(per_minute)).with_burst(n(burst)))
            .requests(Quota::per_day(n(per_day)))
            .tokens(Quota::per_minute(n(tokens)))
    };
    vec![
        ("dev", tier(60, 10, 10_000, 100_000)),
        ("free", tier(20, 5, 1_000, 40_000)),
        ("pro", tier(600, 50, 100_000, 1_000_000)),
    ]
}

/// The gateway's rate limit: [`tiers`], `free` for unknown tiers, in an
/// in-memory store.
fn rate_limit_layer(config: &GatewayConfig) -> RateLimitLayer<MemoryStore> {
    let mut builder = RateLimitLayer::builder().headers(config.rate_limit_headers);
    if !config.rate_limit {
        return builder.build();
    }
    for (name, policy) in tiers() {
        if name == "free" {
            builder = builder.default_policy(policy.clone());
        }
        builder = builder.tier(name, policy);
    }
    builder.max_body_bytes(config.max_body_bytes).build()
}

/// Builds the gateway's [`Router`] from a [`GatewayConfig`].
///
/// Each provider route is, from the outside in: [`ProviderRoute`] (provider
/// marker, 405/415), [`ApiKeyLayer`] (401 without a valid key; the key is
/// removed), [`BodyLimitLayer`] in buffering mode (413, also for chunked
/// bodies), [`SanitizeLayer`] (400 for malformed JSON or a refused
/// injection, 413 for oversized texts, cleaning), [`ModelScopeLayer`] (403
/// for a model outside the key's scopes), [`RateLimitLayer`] (429 over the
/// tier's request or token quotas; requests refused above consume
/// nothing), [`CircuitBreakerLayer`] (a breaker per provider: 503 with
/// `Retry-After` while open), then the upstream. Around the router:
/// request ids, tracing, [`SecurityHeadersLayer`].
#[derive(Clone, Debug)]
pub struct GatewayBuilder {
    config: GatewayConfig,
    security_headers: SecurityHeadersLayer,
    sanitize: SanitizeLayer,
    circuit: Option<CircuitBreakerLayer>,
    rate_limit: RateLimitLayer<MemoryStore>,
    errors: ErrorTracker,
    metrics: Option<MetricsLayer>,
    prometheus: Option<PrometheusService>,
}

/// The providers the gateway serves, each on its route.
const SERVED: [Provider; 2] = [Provider::openai(), Provider::anthropic()];

/// The process's Prometheus recorder, installed by the first call (`None`
/// when the application installed another recorder first).
static PROMETHEUS: std::sync::OnceLock<Option<PrometheusService>> = std::sync::OnceLock::new();

/// The `GET /metrics` endpoint of this process: installs a Prometheus
/// recorder ([`crate::metrics::prometheus_builder`]) as the global
/// recorder on the first call. `None` when another global recorder was
/// installed first; then export through that one.
pub fn prometheus() -> Option<PrometheusService> {
    PROMETHEUS
        .get_or_init(|| match PrometheusService::install() {
            Ok(service) => Some(service),
            Err(error) => {
                tracing::warn!(%error, "no Prometheus recorder installed: GET /metrics is off");
                None
            }
        })
        .clone()
}

impl GatewayBuilder {
    /// A gateway with `config` and the crate's recommended layers.
    ///
    /// The first call in a process installs the Prometheus recorder of
    /// `GET /metrics` as the global `metrics` recorder ([`prometheus()`]).
    /// To export through your own recorder, install it before: the gateway's
    /// metrics then go to yours and `/metrics` is off (or set it with
    /// [`metrics_endpoint`](Self::metrics_endpoint)).
    pub fn new(config: GatewayConfig) -> Self {
        let mut limits = Limits::default();
        for role in [Role::User, Role::Assistant, Role::Tool] {
            limits.set_per_field(role, config.sanitize_max_chars);
        }
        let mut sanitize = SanitizeLayer::new()
            .report_header(config.sanitize_report_header)
            .max_body_bytes(config.max_body_bytes)
            .limits(limits);
        for role in [Role::User, Role::Assistant, Role::Tool] {
            sanitize = sanitize.policy(role, config.sanitize_policy);
        }
        let circuit = config.circuit.clone().map(|settings| {
            CircuitBreakerLayer::builder()
                .config(settings)
                .build()
                .unwrap_or_else(|error| {
                    // `from_env` checks these; settings made in code may not.
                    tracing::error!(%error, "invalid circuit breaker settings; using the defaults");
                    CircuitBreakerLayer::new()
                })
        });
        let rate_limit = rate_limit_layer(&config);
        Self {
            config,
            security_headers: SecurityHeadersLayer::new(),
            sanitize,
            circuit,
            rate_limit,
            errors: ErrorTracker::new(),
            metrics: Some(MetricsLayer::new()),
            prometheus: prometheus(),
        }
    }

    /// Replaces the metrics layer around every route (`None`: no request
    /// metrics).
    pub fn metrics(mut self, layer: Option<MetricsLayer>) -> Self {
        self.metrics = layer;
        self
    }

    /// Replaces the `GET /metrics` endpoint (`None`: no such route). The
    /// default is [`prometheus()`], the process's Prometheus recorder.
    pub fn metrics_endpoint(mut self, endpoint: Option<PrometheusService>) -> Self {
        self.prometheus = endpoint;
        self
    }

    /// The error tracker every route reports into (listed at
    /// `GET /admin/errors` when `SPARK_ADMIN_KEY` is set).
    pub fn error_tracker(&self) -> &ErrorTracker {
        &self.errors
    }

    /// Replaces the error tracker (for other severity rules or a reporter).
    pub fn errors(mut self, tracker: ErrorTracker) -> Self {
        self.errors = tracker;
        self
    }

    /// Replaces the rate limit (for example with other tiers or a shared
    /// store's layer built the same way).
    pub fn rate_limit(mut self, layer: RateLimitLayer<MemoryStore>) -> Self {
        self.rate_limit = layer;
        self
    }

    /// The rate limit, to read remaining quota without consuming it.
    pub fn rate_limit_layer(&self) -> &RateLimitLayer<MemoryStore> {
        &self.rate_limit
    }

    /// The client key store (reload it to apply a changed key file).
    pub fn key_store(&self) -> &MemoryKeyStore {
        &self.config.api_keys
    }

    /// Replaces the circuit breaker layer around the providers (`None`: no
    /// breaker).
    pub fn circuit(mut self, layer: Option<CircuitBreakerLayer>) -> Self {
        self.circuit = layer;
        self
    }

    /// A handle on the providers' circuit breakers (for health endpoints and
    /// operators), when they are on.
    pub fn circuit_handle(&self) -> Option<CircuitBreakerHandle> {
        self.circuit.as_ref().map(CircuitBreakerLayer::handle)
    }

    /// Replaces the security headers layer (for example to change HSTS).
    pub fn security_headers(mut self, layer: SecurityHeadersLayer) -> Self {
        self.security_headers = layer;
        self
    }

    /// Replaces the sanitize layer (for example with custom rules).
    pub fn sanitize(mut self, layer: SanitizeLayer) -> Self {
        self.sanitize = layer;
        self
    }

    /// The upstream service for one provider: its client when a base URL is
    /// configured, the mock otherwise.
    pub fn upstream(&self, provider: &Provider) -> Upstream {
        let config = &self.config;
        let upstream = match provider.api() {
            ProviderApi::OpenAi => &config.openai,
            ProviderApi::Anthropic => &config.anthropic,
        };
        match &upstream.base_url {
            Some(base_url) => Upstream::Client(
                ProviderClient::builder(provider.api(), base_url.clone())
                    .api_key(upstream.api_key.clone())
                    .head_timeout(config.upstream_timeout)
                    .idle_timeout(config.upstream_idle_timeout)
                    .timeout_status(config.upstream_timeout_status)
                    .build(),
            ),
            None => Upstream::Mock(MockProvider::new(provider.api(), config.mock.clone())),
        }
    }

    /// The full health report (`GET /health`: breakers, error tracker,
    /// rate limiter, metrics recorder, memory) and the readiness report
    /// (`GET /health/ready`: breakers only).
    fn health_services(&self) -> (HealthService, HealthService) {
        let providers = SERVED.map(|p| p.name().to_owned());
        let breakers = self
            .circuit_handle()
            .map(|handle| CircuitCheck::new(handle).providers(providers));
        let with_breakers = |builder: crate::health::HealthBuilder| match &breakers {
            Some(check) => builder.check(check.clone()),
            None => builder,
        };
        // Which recorder the metrics go to: ours, or the application's.
        let recorder = match &self.prometheus {
            Some(_) => "prometheus",
            None => "external",
        };
        let version = env!("CARGO_PKG_VERSION");
        let full = with_breakers(HealthService::builder())
            .check(ErrorTrackerCheck::new(self.errors.clone()))
            .check(RateLimitCheck::new(self.rate_limit.clone()))
            .check(present("metrics:recorder", recorder))
            .memory(self.config.health_memory_warn_bytes)
            .version(version)
            .service_id("spark-tower-gateway")
            .build();
        let ready = with_breakers(HealthService::builder())
            .version(version)
            .service_id("spark-tower-gateway")
            .build();
        (full, ready)
    }

    /// Builds the router with every layer in place.
    pub fn build(self) -> Router {
        if self.config.dev_keys {
            let ids = crate::auth::parse_key_file(DEV_KEYS, crate::auth::FileFormat::Toml)
                .map(|entries| {
                    entries
                        .into_iter()
                        .map(|e| e.id)
                        .collect::<Vec<_>>()
                        .join(",")
                })
                .unwrap_or_default();
            tracing::warn!(
                key_id = %ids,
                "using the development API key (see dev/keys.toml); set SPARK_API_KEYS_FILE for real keys"
            );
        }
        let mut router = Router::new();
        for provider in SERVED {
            let route = provider.api().route();
            let stack = ServiceBuilder::new()
                .layer(ProviderRouteLayer::new(provider.clone()))
                .layer(ApiKeyLayer::new(self.config.api_keys.clone()))
                .layer(RequestBodyTimeoutLayer::new(self.config.body_timeout))
                .layer(BodyLimitLayer::new(self.config.max_body_bytes).buffer(true))
                .layer(self.sanitize.clone())
                .map_request(|request: Request<_>| request.map(Body::new))
                .layer(ModelScopeLayer::new().max_body_bytes(self.config.max_body_bytes))
                .map_request(|request: Request<_>| request.map(Body::new))
                .layer(self.rate_limit.clone())
                .map_request(|request: Request<_>| request.map(Body::new));
            let upstream = self.upstream(&provider);
            // The breaker sits right around the provider: requests the layers
            // above refuse never reach it.
            router = match &self.circuit {
                Some(circuit) => {
                    router.route_service(route, stack.layer(circuit.clone()).service(upstream))
                }
                None => router.route_service(route, stack.service(upstream)),
            };
        }
        if let Some(key) = self.config.admin_key.clone() {
            let listing = ErrorsService::new(self.errors.clone());
            // Every method reaches the service: the key is checked first,
            // then the listing answers other methods with a 405 problem.
            router = router.route_service(
                "/admin/errors",
                tower::service_fn(move |request: Request<Body>| {
                    let (key, listing) = (key.clone(), listing.clone());
                    async move { Ok::<_, Infallible>(admin_errors(key, listing, request).await) }
                }),
            );
        }
        if self.config.dev_keys {
            // However the router is served: the public key works from
            // loopback peers only.
            router = router.layer(axum::middleware::from_fn(dev_keys_from_loopback_only));
        }
        // Every route and the fallback, after routing (so the route
        // template is known), outside the provider routes' layers.
        let mut router = router
            .fallback(|| async {
                Problem::new(RejectionKind::NotFound)
                    .with_detail("no route for this path")
                    .to_response::<Body>(None)
            })
            .layer(ErrorTrackerLayer::new(self.errors.clone()));
        // The operational endpoints come after the error tracker (a 503
        // from readiness is an answer, not a fault) and before the metrics
        // layer (their traffic is counted like any other).
        if let Some(endpoint) = self.prometheus.clone() {
            router = router.route_service("/metrics", endpoint);
        }
        let (health, ready) = self.health_services();
        router = router
            .route_service("/health", health)
            .route_service("/health/live", HealthService::liveness())
            .route_service("/health/ready", ready);
        if let Some(metrics) = self.metrics {
            // Outside the tracker, so caught panics count as the 500s
            // they become.
            router = router.layer(metrics);
        }
        router.layer(
            ServiceBuilder::new()
                .map_request(drop_unusable_request_id)
                .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(request_span)
                        .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
                )
                .layer(PropagateRequestIdLayer::x_request_id())
                .layer(self.security_headers),
        )
    }
}

/// `GET /admin/errors`: the error listing, for a request whose
/// `x-admin-key` is the admin key (401 otherwise).
async fn admin_errors(
    key: config::AdminKey,
    mut listing: ErrorsService,
    request: Request<Body>,
) -> Response<Body> {
    let given = request.headers().get("x-admin-key").map(|v| v.as_bytes());
    if !given.is_some_and(|given| key.matches(given)) {
        tracing::warn!("admin route refused: missing or wrong x-admin-key");
        return Problem::new(RejectionKind::Unauthorized)
            .with_detail("the admin routes need the x-admin-key header")
            .to_response(None);
    }
    // Always ready, and infallible.
    let Ok(response) = listing.call(request).await;
    response.map(Body::new)
}

/// Refuses requests from non-loopback peers (when the server says who
/// the peer is, as [`serve`] does) while the development keys are in use.
async fn dev_keys_from_loopback_only(
    request: Request<Body>,
    next: axum::middleware::Next,
) -> Response<Body> {
    let remote = request
        .extensions()
        .get::<PeerAddr>()
        .is_some_and(|peer| !peer.0.ip().to_canonical().is_loopback());
    if remote {
        tracing::warn!("request from a network address refused: the development API key is in use");
        return Problem::new(RejectionKind::Forbidden)
            .with_detail(
                "this gateway uses the public development API key and answers loopback clients only; \
                 its operator must set SPARK_API_KEYS_FILE",
            )
            .to_response(ProviderApi::from_extensions(request.extensions()));
    }
    next.run(request).await
}

/// Longest client `x-request-id` kept; a longer one, or one with characters
/// outside `A-Z a-z 0-9 - _ . : /`, is replaced by a generated id, so a
/// client cannot forge log fields or bloat every log line.
const MAX_REQUEST_ID: usize = 128;

fn drop_unusable_request_id(mut request: Request<Body>) -> Request<Body> {
    let usable = request.headers().get("x-request-id").is_none_or(|id| {
        let id = id.as_bytes();
        !id.is_empty()
            && id.len() <= MAX_REQUEST_ID
            && id
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':' | b'/'))
    });
    if !usable {
        request.headers_mut().remove("x-request-id");
    }
    request
}

fn request_span(request: &Request<Body>) -> tracing::Span {
    let id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    tracing::info_span!(
        "request",
        request_id = ?id,
        method = %request.method(),
        path = %request.uri().path(),
    )
}

/// Where a provider route sends its requests.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Upstream {
    /// A real provider.
    Client(ProviderClient),
    /// The in-process mock.
    Mock(MockProvider),
}

impl Service<Request<Body>> for Upstream {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = Either<
        <ProviderClient as Service<Request<Body>>>::Future,
        <MockProvider as Service<Request<Body>>>::Future,
    >;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        match self {
            Self::Client(client) => client.poll_ready(cx),
            Self::Mock(mock) => mock.poll_ready(cx),
        }
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        match self {
            Self::Client(client) => Either::Left(client.call(request)),
            Self::Mock(mock) => Either::Right(mock.call(request)),
        }
    }
}

/// Serves `router` on `listener` over HTTP/1.1 and h2c until `shutdown`
/// resolves, then stops accepting and lets in-flight requests finish for up
/// to `grace` before returning.
///
/// A client must send its request head within `header_timeout` (HTTP/1.1),
/// so connections that trickle headers cannot be held open forever; slow
/// bodies are bounded by the gateway's request body timeout.
///
/// # Errors
/// Never today: accept errors (such as running out of file descriptors) are
/// logged and retried after a short pause.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    grace: Duration,
    header_timeout: Duration,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
    use hyper_util::server::conn::auto::Builder;
    use hyper_util::service::TowerToHyperService;

    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout);
    builder.http2().timer(TokioTimer::new());
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    // The exporter's histograms hold samples until drained: drain them even
    // when nobody scrapes.
    let upkeep = PROMETHEUS.get().cloned().flatten().map(|endpoint| {
        tokio::spawn(async move {
            let mut every = tokio::time::interval(Duration::from_secs(5));
            loop {
                every.tick().await;
                endpoint.handle().run_upkeep();
            }
        })
    });
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let service = TowerToHyperService::new(WithPeer {
            inner: router.clone(),
            peer: PeerAddr(peer),
        });
        let connection = builder
            .serve_connection_with_upgrades(TokioIo::new(stream), service)
            .into_owned();
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%error, "connection ended with an error");
            }
        });
    }
    drop(listener);
    if let Some(upkeep) = upkeep {
        upkeep.abort();
    }
    tracing::info!(
        grace_ms = %grace.as_millis(),
        "shutting down: no new connections, finishing in-flight requests"
    );
    if tokio::time::timeout(grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("shutdown grace period over; dropping unfinished requests");
    }
    Ok(())
}

/// Puts the connection's [`PeerAddr`] into every request's extensions.
#[derive(Clone)]
struct WithPeer<S> {
    inner: S,
    peer: PeerAddr,
}

impl<S, B> Service<Request<B>> for WithPeer<S>
where
    S: Service<Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> S::Future {
        request.extensions_mut().insert(self.peer);
        self.inner.call(request)
    }
}

/// Reloads `store` from its file on every SIGHUP, logging the outcome
/// (a bad file leaves the old keys in place). Runs until the process ends;
/// spawn it. Does nothing for a store without a file or off Unix.
pub async fn reload_keys_on_sighup(store: MemoryKeyStore) {
    #[cfg(unix)]
    {
        if store.path().is_none() {
            return;
        }
        let Ok(mut hangups) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        else {
            tracing::warn!("cannot listen for SIGHUP; key reloads need a restart");
            return;
        };
        while hangups.recv().await.is_some() {
            match store.reload() {
                Ok(keys) => tracing::info!(keys, "API keys reloaded"),
                Err(error) => {
                    tracing::error!(%error, "API key reload failed; keeping the old keys")
                }
            }
        }
    }
    #[cfg(not(unix))]
    drop(store);
}

/// Resolves on the first SIGINT or SIGTERM (SIGINT only on non-Unix systems).
pub async fn shutdown_signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => tracing::info!("SIGINT received"),
        () = terminate => tracing::info!("SIGTERM received"),
    }
}
