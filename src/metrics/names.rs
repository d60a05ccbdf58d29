//! Metric and label names: the OpenTelemetry semantic conventions for HTTP
//! servers and generative AI, spelled as Prometheus names (dots become
//! underscores, the unit and `_total` are suffixes).

use metrics::Unit;

/// Requests answered (counter; labels: method, route, status, provider).
pub const REQUESTS: &str = "http_server_requests_total";
/// Request duration, from the request to the end of its response body, so
/// streams count in full (histogram, seconds; labels: method, route,
/// status, provider).
pub const REQUEST_DURATION: &str = "http_server_request_duration_seconds";
/// Requests in flight, until their response bodies end (gauge; labels:
/// method, route).
pub const ACTIVE_REQUESTS: &str = "http_server_active_requests";
/// Request body size as read, whatever `Content-Length` claimed; a body
/// never read is not recorded (histogram, bytes; labels: method, route).
pub const REQUEST_BODY_SIZE: &str = "http_server_request_body_size_bytes";
/// Response body size as sent (histogram, bytes; labels: method, route,
/// status, provider).
pub const RESPONSE_BODY_SIZE: &str = "http_server_response_body_size_bytes";
/// Requests turned away by a spark-tower layer (counter; labels: kind,
/// route).
pub const REJECTIONS: &str = "spark_rejections_total";
/// Tokens per model response, from the `usage` the provider reports
/// (histogram, tokens; labels: provider, model, token type).
pub const TOKEN_USAGE: &str = "gen_ai_client_token_usage";
/// Time from the request to the first stream event that carries output
/// (histogram, seconds; labels: provider, model).
pub const TIME_TO_FIRST_TOKEN: &str = "gen_ai_server_time_to_first_token_seconds";

/// Label names.
pub mod label {
    /// The HTTP method: a standard method's name, or `_OTHER`.
    pub const METHOD: &str = "http_request_method";
    /// The route template (never the raw path).
    pub const ROUTE: &str = "http_route";
    /// The response status code: `500` for a service error, `499` for a
    /// request its client abandoned before the response head.
    pub const STATUS: &str = "http_response_status_code";
    /// The provider (from the `Provider` marker), or `none`.
    pub const PROVIDER: &str = "gen_ai_provider_name";
    /// The model the provider says answered, `unknown` when it did not
    /// say, or `other` past the layer's bound on distinct models.
    pub const MODEL: &str = "gen_ai_response_model";
    /// `input` or `output`.
    pub const TOKEN_TYPE: &str = "gen_ai_token_type";
    /// The rejection kind (`rate-limited`, `payload-too-large`, …).
    pub const KIND: &str = "kind";
}

/// Describes every metric of the layer (type, unit and help text) to the
/// installed recorder. Call it after installing the recorder: a recorder
/// installed later never hears of the descriptions.
/// [`PrometheusService::install`](super::PrometheusService) does it for you.
pub fn describe() {
    metrics::describe_counter!(REQUESTS, Unit::Count, "HTTP requests answered.");
    metrics::describe_histogram!(
        REQUEST_DURATION,
        Unit::Seconds,
        "Duration of HTTP server requests, to the end of the response body."
    );
    metrics::describe_gauge!(
        ACTIVE_REQUESTS,
        Unit::Count,
        "HTTP requests in flight, streams until they end."
    );
    metrics::describe_histogram!(
        REQUEST_BODY_SIZE,
        Unit::Bytes,
        "Size of HTTP request bodies as read."
    );
    metrics::describe_histogram!(
        RESPONSE_BODY_SIZE,
        Unit::Bytes,
        "Size of HTTP response bodies as sent."
    );
    metrics::describe_counter!(
        REJECTIONS,
        Unit::Count,
        "Requests turned away by a spark-tower layer, by kind."
    );
    metrics::describe_histogram!(
        TOKEN_USAGE,
        Unit::Count,
        "Tokens per model response (input and output), as the provider reports them."
    );
    metrics::describe_histogram!(
        TIME_TO_FIRST_TOKEN,
        Unit::Seconds,
        "Time from the request to the first streamed output."
    );
}
