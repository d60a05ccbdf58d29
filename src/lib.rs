//! Production-grade [`tower`] middleware for services that sit in front of AI
//! model providers (Anthropic, OpenAI and compatible APIs).
//!
//! Every layer stands alone, behind its own cargo feature, and fits any
//! `tower::ServiceBuilder` or axum stack. Layers that turn a request away
//! answer with an RFC 9457 `application/problem+json` body and put a typed
//! [`Rejection`](problem::Rejection) into the response extensions (see
//! [`problem`]); they never return errors that axum users would have to
//! handle with `HandleErrorLayer`. Layers exchange only the small markers of
//! [`marker`], so each compiles and works alone.
//!
//! # Example
//!
//! ```
//! use http::{Request, Response, StatusCode};
//! use spark_tower::headers::SecurityHeadersLayer;
//! use spark_tower::marker::Provider;
//! use tower::{ServiceBuilder, ServiceExt, service_fn};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let service = ServiceBuilder::new()
//!     .layer(SecurityHeadersLayer::new())
//!     .service(service_fn(|request: Request<String>| async move {
//!         // Per-provider layers key on the `Provider` marker that routes set.
//!         let provider = request.extensions().get::<Provider>().map(|p| p.name().to_owned());
//!         Ok::<_, std::convert::Infallible>(Response::new(provider.unwrap_or_default()))
//!     }));
//!
//! let mut request = Request::new(String::new());
//! request.extensions_mut().insert(Provider::anthropic());
//! let response = service.oneshot(request).await.unwrap();
//! assert_eq!(response.status(), StatusCode::OK);
//! assert_eq!(response.headers()["x-content-type-options"], "nosniff");
//! assert_eq!(response.body(), "anthropic");
//! # }
//! ```
//!
//! # Features
//!
//! | feature | what it brings | in `default` |
//! |---|---|---|
//! | `headers` | [`headers::SecurityHeadersLayer`]: security headers for JSON APIs | yes |
//! | `limit` | [`limit::BodyLimitLayer`]: body limits that hold for chunked and streamed bodies | yes |
//! | `sanitize` | [`sanitize::SanitizeLayer`] and [`sanitize::Sanitizer`]: per-field limits, cleaning, prompt-injection detection | yes |
//! | `circuit` | [`circuit::CircuitBreakerLayer`]: per-provider circuit breakers | yes |
//! | `auth` | [`auth::ApiKeyLayer`], [`auth::ModelScopeLayer`], key stores: API keys and a [`Principal`](marker::Principal) per request | yes |
//! | `jwt` | `auth::JwtLayer`: JWT authentication beside API keys | no |
//! | `rate-limit` | [`rate_limit::RateLimitLayer`]: per-user request and token quotas | yes |
//! | `errors` | [`errors::ErrorTrackerLayer`] and [`errors::ErrorTracker`]: error groups by fingerprint, severities, panics caught | yes |
//! | `sentry` | `errors::SentryReporter`: error groups to Sentry | no |
//! | `metrics` | [`metrics::MetricsLayer`]: request, token and streaming metrics through the `metrics` facade | yes |
//! | `prometheus` | [`metrics::PrometheusService`]: the Prometheus text endpoint | yes |
//! | `health` | [`health::HealthService`]: `application/health+json` reports, liveness, readiness | yes |
//! | `gateway` | [`gateway`]: provider routing, provider client, mock provider, router builder | yes |
//! | `full` | every feature above | no |
//!
//! The [`problem`], [`marker`], [`body`] and [`clock`] modules are always built;
//! `route` (route templates) and `usage` (token usage in responses) come with the
//! layers that need them. Layers still to come (cache, Redis backends) get their own
//! features as they land.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod body;
pub mod clock;
#[cfg(any(feature = "errors", feature = "prometheus", feature = "health"))]
mod endpoint;
pub mod marker;
pub mod problem;
#[cfg(any(feature = "errors", feature = "metrics"))]
pub mod route;
#[cfg(any(feature = "rate-limit", feature = "metrics"))]
pub mod usage;

#[cfg(feature = "limit")]
pub mod limit;

#[cfg(feature = "sanitize")]
pub mod sanitize;

#[cfg(feature = "headers")]
pub mod headers;

#[cfg(feature = "circuit")]
pub mod circuit;

#[cfg(feature = "auth")]
pub mod auth;

#[cfg(feature = "rate-limit")]
pub mod rate_limit;

#[cfg(feature = "errors")]
pub mod errors;

#[cfg(feature = "metrics")]
pub mod metrics;

#[cfg(feature = "health")]
pub mod health;

#[cfg(feature = "gateway")]
pub mod gateway;
