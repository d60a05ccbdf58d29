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
pub use config::{ApiKey, ConfigError, GatewayConfig, UpstreamConfig};
pub use mock::{MockConfig, MockProvider};
pub use route::{ProviderRoute, ProviderRouteLayer};

use crate::circuit::{CircuitBreakerHandle, CircuitBreakerLayer};
use crate::headers::SecurityHeadersLayer;
use crate::limit::BodyLimitLayer;
use crate::marker::{Provider, ProviderApi};
use crate::problem::{Problem, RejectionKind};
use crate::sanitize::{Limits, Role, SanitizeLayer};

/// Builds the gateway's [`Router`] from a [`GatewayConfig`].
///
/// Each provider route is, from the outside in: [`ProviderRoute`] (provider
/// marker, 405/415), [`BodyLimitLayer`] in buffering mode (413, also for
/// chunked bodies), [`SanitizeLayer`] (400 for malformed JSON or a refused
/// injection, 413 for oversized texts, cleaning), [`CircuitBreakerLayer`]
/// (a breaker per provider: 503 with `Retry-After` while open), then the
/// upstream. Around the router: request ids, tracing,
/// [`SecurityHeadersLayer`].
#[derive(Clone, Debug)]
pub struct GatewayBuilder {
    config: GatewayConfig,
    security_headers: SecurityHeadersLayer,
    sanitize: SanitizeLayer,
    circuit: Option<CircuitBreakerLayer>,
}

impl GatewayBuilder {
    /// A gateway with `config` and the crate's recommended layers.
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
        Self {
            config,
            security_headers: SecurityHeadersLayer::new(),
            sanitize,
            circuit,
        }
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

    /// Builds the router with every layer in place.
    pub fn build(self) -> Router {
        let mut router = Router::new();
        for provider in [Provider::openai(), Provider::anthropic()] {
            let route = provider.api().route();
            let stack = ServiceBuilder::new()
                .layer(ProviderRouteLayer::new(provider.clone()))
                .layer(RequestBodyTimeoutLayer::new(self.config.body_timeout))
                .layer(BodyLimitLayer::new(self.config.max_body_bytes).buffer(true))
                .layer(self.sanitize.clone())
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
        router
            .fallback(|| async {
                Problem::new(RejectionKind::NotFound)
                    .with_detail("no route for this path")
                    .to_response::<Body>(None)
            })
            .layer(
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
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, _) = tokio::select! {
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
        let service = TowerToHyperService::new(router.clone());
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
