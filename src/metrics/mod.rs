//! Request metrics through the [`metrics`] facade (`metrics` feature), and a
//! Prometheus endpoint (`prometheus` feature).
//!
//! [`MetricsLayer`] records through the facade only: the application picks
//! the exporter. Names follow the OpenTelemetry semantic conventions for
//! HTTP servers and generative AI, in their Prometheus spelling:
//!
//! | metric | type | unit | labels |
//! |---|---|---|---|
//! | `http_server_requests_total` | counter | requests | method, route, status, provider |
//! | `http_server_request_duration_seconds` | histogram | seconds, to the end of the response body | method, route, status, provider |
//! | `http_server_active_requests` | gauge | requests, streams until they end | method, route |
//! | `http_server_request_body_size_bytes` | histogram | bytes read | method, route |
//! | `http_server_response_body_size_bytes` | histogram | bytes sent | method, route, status, provider |
//! | `spark_rejections_total` | counter | rejections | kind, route |
//! | `gen_ai_client_token_usage` | histogram | tokens per response | provider, model, token type |
//! | `gen_ai_server_time_to_first_token_seconds` | histogram | seconds, streams only | provider, model |
//!
//! Label names are in [`label`]: `http_request_method`, `http_route`,
//! `http_response_status_code`, `gen_ai_provider_name`,
//! `gen_ai_response_model`, `gen_ai_token_type` and `kind`.
//!
//! Label values are bounded by design: routes are templates (axum's
//! `MatchedPath`, or your classifier), methods outside the standard ones
//! are `_OTHER`, providers come from the [`Provider`](crate::marker::Provider)
//! marker, and model names are the provider's, capped at
//! [`DEFAULT_MAX_MODELS`] distinct values (then `other`).
//!
//! Token counts come from the `usage` a provider reports, in JSON
//! responses and in streams (OpenAI's usage chunk, Anthropic's
//! `message_start` and `message_delta`). Time to first token is the time
//! from the request to the first stream event that carries output (text,
//! tool calls or a refusal).

mod body;
mod layer;
mod names;
#[cfg(feature = "prometheus")]
mod prometheus;
mod series;
#[cfg(test)]
mod tests;

pub use body::{CountedBody, MetricsBody};
pub use layer::{DEFAULT_MAX_MODELS, Metrics, MetricsBuilder, MetricsLayer, ResponseFuture};
pub use names::{
    ACTIVE_REQUESTS, REJECTIONS, REQUEST_BODY_SIZE, REQUEST_DURATION, REQUESTS, RESPONSE_BODY_SIZE,
    TIME_TO_FIRST_TOKEN, TOKEN_USAGE, describe, label,
};
#[cfg(feature = "prometheus")]
pub use prometheus::{
    DURATION_BUCKETS, PrometheusService, SIZE_BUCKETS, TOKEN_BUCKETS, prometheus_builder,
};
