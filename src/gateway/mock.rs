//! A mock model provider that answers like OpenAI or Anthropic.
//!
//! [`MockProvider`] is a [`tower::Service`] that stands in for a real model
//! provider: the gateway calls it in-process for providers without a base URL,
//! and [`router`] serves it as a real upstream (`POST /v1/chat/completions` and
//! `POST /v1/messages`). It validates requests like the real APIs, answers in
//! each provider's exact shape (JSON or server-sent events), and can inject
//! latency and failures, drawn from a seeded random number generator so that
//! runs repeat.
//!
//! The assistant reply is the text of the **last `user` message**, so a test
//! can see exactly what reached the provider. A message's text is its `content`
//! when that is a string; when it is an array of content parts (OpenAI) or
//! blocks (Anthropic), it is the `text` of the parts whose `type` is `text`,
//! joined with `"\n"`; other parts (images, tool results, ...) are ignored.
//! Without any user text the reply is empty. Parameters such as `max_tokens`,
//! `n` or `temperature` do not change the reply.
//!
//! # Configuration
//!
//! [`MockConfig`] has builder methods; [`MockConfig::from_env`] reads these
//! environment variables (an unset or empty variable keeps the default):
//!
//! | Variable                     | Default | Meaning                                                                 |
//! |------------------------------|---------|-------------------------------------------------------------------------|
//! | `SPARK_MOCK_LATENCY_MS`      | `0`     | Milliseconds to wait before the response head.                         |
//! | `SPARK_MOCK_STREAM_DELAY_MS` | `0`     | Milliseconds to wait between two streamed events (not before the first). |
//! | `SPARK_MOCK_FAIL_RATE`       | `0`     | Share of calls, `0.0..=1.0`, answered with a provider error.             |
//! | `SPARK_MOCK_OPENAI_FAIL_RATE` | unset  | The same for OpenAI calls only; overrides `SPARK_MOCK_FAIL_RATE`.        |
//! | `SPARK_MOCK_ANTHROPIC_FAIL_RATE` | unset | The same for Anthropic calls only; overrides `SPARK_MOCK_FAIL_RATE`. |
//! | `SPARK_MOCK_FAIL_STATUS`     | unset   | Status (`400..=599`) of those errors; unset: a mix of 500, 503 and 529.  |
//! | `SPARK_MOCK_SEED`            | `0`     | Seed of the generator that decides failures.                            |
//!
//! # Token counts
//!
//! The `usage` numbers are a deterministic estimate, see [`estimate_tokens`]:
//! input tokens are `ceil(c / 4)`, at least 1, where `c` counts the characters
//! (Unicode scalar values) of the text of every message (all roles) plus the
//! Anthropic `system` prompt (a string or text blocks); output tokens are
//! `ceil(c / 4)`, at least 1, over the characters of the reply.
//!
//! # Example
//!
//! ```
//! use axum::body::Body;
//! use http::{Request, StatusCode};
//! use http_body_util::BodyExt;
//! use spark_tower::gateway::mock::{MockConfig, MockProvider};
//! use spark_tower::marker::ProviderApi;
//! use tower::ServiceExt;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let provider = MockProvider::new(ProviderApi::OpenAi, MockConfig::default());
//! let request = Request::post("/v1/chat/completions")
//!     .header("content-type", "application/json")
//!     .body(Body::from(
//!         r#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hello, mock!"}]}"#,
//!     ))
//!     .unwrap();
//!
//! let response = provider.oneshot(request).await.unwrap();
//! assert_eq!(response.status(), StatusCode::OK);
//!
//! let body = response.into_body().collect().await.unwrap().to_bytes();
//! let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
//! assert_eq!(json["choices"][0]["message"]["content"], "Hello, mock!");
//! # }
//! ```

use std::convert::Infallible;
use std::fmt;
use std::hash::Hasher;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::future::BoxFuture;
use http::header::{CACHE_CONTROL, CONTENT_TYPE};
use http::{HeaderValue, Request, Response, StatusCode};
use http_body::Body as _;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::marker::ProviderApi;

/// Environment variable for [`MockConfig::latency`], in milliseconds.
pub const ENV_LATENCY_MS: &str = "SPARK_MOCK_LATENCY_MS";
/// Environment variable for [`MockConfig::stream_delay`], in milliseconds.
pub const ENV_STREAM_DELAY_MS: &str = "SPARK_MOCK_STREAM_DELAY_MS";
/// Environment variable for [`MockConfig::fail_rate`], `0.0..=1.0`.
pub const ENV_FAIL_RATE: &str = "SPARK_MOCK_FAIL_RATE";
/// Environment variable for [`MockConfig::fail_rate_for`] OpenAI, `0.0..=1.0`.
pub const ENV_OPENAI_FAIL_RATE: &str = "SPARK_MOCK_OPENAI_FAIL_RATE";
/// Environment variable for [`MockConfig::fail_rate_for`] Anthropic, `0.0..=1.0`.
pub const ENV_ANTHROPIC_FAIL_RATE: &str = "SPARK_MOCK_ANTHROPIC_FAIL_RATE";
/// Environment variable for [`MockConfig::fail_status`], a status in `400..=599`.
pub const ENV_FAIL_STATUS: &str = "SPARK_MOCK_FAIL_STATUS";
/// Environment variable for [`MockConfig::seed`].
pub const ENV_SEED: &str = "SPARK_MOCK_SEED";

/// The largest request body the mock reads; larger bodies get a 413.
pub const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;

/// Statuses of injected failures when no [`MockConfig::fail_status`] is set.
const FAILURE_MIX: [u16; 3] = [500, 503, 529];

/// How the mock provider behaves: latency, streaming pace and failures.
///
/// The default answers at once and never fails.
///
/// ```
/// use std::time::Duration;
/// use http::StatusCode;
/// use spark_tower::gateway::mock::MockConfig;
///
/// let config = MockConfig::default()
///     .latency(Duration::from_millis(200))
///     .stream_delay(Duration::from_millis(20))
///     .fail_rate(0.1)
///     .fail_status(Some(StatusCode::TOO_MANY_REQUESTS))
///     .seed(42);
/// # let _ = config;
/// ```
#[derive(Clone, Debug, Default)]
pub struct MockConfig {
    latency: Duration,
    stream_delay: Duration,
    fail_rate: f64,
    /// Per-API overrides of `fail_rate` (OpenAI, Anthropic).
    fail_rates: [Option<f64>; 2],
    fail_status: Option<StatusCode>,
    seed: u64,
}

impl MockConfig {
    /// Reads the configuration from the `SPARK_MOCK_*` environment variables
    /// (see the [module documentation](self)); unset or empty variables keep
    /// their defaults.
    ///
    /// # Errors
    ///
    /// [`MockConfigError::Invalid`], naming the variable, when a value cannot
    /// be parsed or is out of range.
    pub fn from_env() -> Result<Self, MockConfigError> {
        Self::from_lookup(|name| {
            std::env::var_os(name).map(|value| value.to_string_lossy().into_owned())
        })
    }

    /// Like [`from_env`](Self::from_env), but reads each variable through
    /// `lookup` instead of the process environment.
    ///
    /// ```
    /// use spark_tower::gateway::mock::MockConfig;
    ///
    /// let ok = MockConfig::from_lookup(|name| (name == "SPARK_MOCK_SEED").then(|| "7".into()));
    /// assert!(ok.is_ok());
    ///
    /// let err = MockConfig::from_lookup(|name| {
    ///     (name == "SPARK_MOCK_FAIL_RATE").then(|| "2".into())
    /// })
    /// .unwrap_err();
    /// assert_eq!(err.var(), "SPARK_MOCK_FAIL_RATE");
    /// ```
    ///
    /// # Errors
    ///
    /// [`MockConfigError::Invalid`], naming the variable, when a value cannot
    /// be parsed or is out of range.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, MockConfigError> {
        let read = |var: &'static str| {
            lookup(var)
                .map(|value| value.trim().to_owned())
                .filter(|value| !value.is_empty())
                .map(|value| (var, value))
        };
        let mut config = Self::default();
        if let Some((var, value)) = read(ENV_LATENCY_MS) {
            config.latency = parse_millis(var, &value)?;
        }
        if let Some((var, value)) = read(ENV_STREAM_DELAY_MS) {
            config.stream_delay = parse_millis(var, &value)?;
        }
        let rate = |var: &'static str, value: &str| {
            value
                .parse::<f64>()
                .ok()
                .filter(|rate| (0.0..=1.0).contains(rate))
                .ok_or_else(|| {
                    MockConfigError::invalid(var, value, "expected a number from 0.0 to 1.0")
                })
        };
        if let Some((var, value)) = read(ENV_FAIL_RATE) {
            config.fail_rate = rate(var, &value)?;
        }
        for (api, env) in [
            (ProviderApi::OpenAi, ENV_OPENAI_FAIL_RATE),
            (ProviderApi::Anthropic, ENV_ANTHROPIC_FAIL_RATE),
        ] {
            if let Some((var, value)) = read(env) {
                config.fail_rates[api_index(api)] = Some(rate(var, &value)?);
            }
        }
        if let Some((var, value)) = read(ENV_FAIL_STATUS) {
            let status = value
                .parse::<u16>()
                .ok()
                .filter(|code| (400..=599).contains(code))
                .and_then(|code| StatusCode::from_u16(code).ok())
                .ok_or_else(|| {
                    MockConfigError::invalid(var, &value, "expected an HTTP status from 400 to 599")
                })?;
            config.fail_status = Some(status);
        }
        if let Some((var, value)) = read(ENV_SEED) {
            config.seed = value.parse().map_err(|_| {
                MockConfigError::invalid(var, &value, "expected an unsigned 64-bit integer")
            })?;
        }
        Ok(config)
    }

    /// Waits `latency` before the response head, for successes and injected
    /// failures alike (requests rejected as invalid are answered at once).
    pub fn latency(mut self, latency: Duration) -> Self {
        self.latency = latency;
        self
    }

    /// Waits `delay` between two events of a streamed response; the first
    /// event is sent at once.
    pub fn stream_delay(mut self, delay: Duration) -> Self {
        self.stream_delay = delay;
        self
    }

    /// Answers this share of valid calls with a provider error. The rate is
    /// clamped to `0.0..=1.0`; NaN counts as `0.0`.
    pub fn fail_rate(mut self, rate: f64) -> Self {
        self.fail_rate = if rate.is_nan() {
            0.0
        } else {
            rate.clamp(0.0, 1.0)
        };
        self
    }

    /// Answers this share of `api`'s valid calls with a provider error,
    /// whatever [`fail_rate`](Self::fail_rate) says (clamped the same way).
    pub fn fail_rate_for(mut self, api: ProviderApi, rate: f64) -> Self {
        self.fail_rates[api_index(api)] = Some(if rate.is_nan() {
            0.0
        } else {
            rate.clamp(0.0, 1.0)
        });
        self
    }

    /// The share of `api`'s calls that fail.
    pub fn fail_rate_of(&self, api: ProviderApi) -> f64 {
        self.fail_rates[api_index(api)].unwrap_or(self.fail_rate)
    }

    /// The status of injected failures, which should be a 4xx or 5xx status;
    /// `None` (the default) draws each one from 500, 503 and 529.
    pub fn fail_status(mut self, status: Option<StatusCode>) -> Self {
        self.fail_status = status;
        self
    }

    /// Seeds the generator that decides which calls fail, so that a run
    /// repeats. The default seed is 0.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
}

fn parse_millis(var: &'static str, value: &str) -> Result<Duration, MockConfigError> {
    value.parse().map(Duration::from_millis).map_err(|_| {
        MockConfigError::invalid(var, value, "expected a whole number of milliseconds")
    })
}

/// A [`MockConfig`] could not be read from the environment.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MockConfigError {
    /// An environment variable holds a value that cannot be used.
    #[error("invalid value {value:?} for {var}: {reason}")]
    Invalid {
        /// The name of the variable.
        var: &'static str,
        /// The value it holds.
        value: String,
        /// What was expected instead.
        reason: String,
    },
}

impl MockConfigError {
    fn invalid(var: &'static str, value: &str, reason: &str) -> Self {
        Self::Invalid {
            var,
            value: value.to_owned(),
            reason: reason.to_owned(),
        }
    }

    /// The name of the offending environment variable.
    pub fn var(&self) -> &'static str {
        match self {
            Self::Invalid { var, .. } => var,
        }
    }
}

/// The number of tokens the mock reports for `text_chars` characters of text:
/// `ceil(text_chars / 4)`, at least 1 (saturating at `u32::MAX`).
///
/// ```
/// use spark_tower::gateway::mock::estimate_tokens;
///
/// assert_eq!(estimate_tokens(0), 1);
/// assert_eq!(estimate_tokens(4), 1);
/// assert_eq!(estimate_tokens(5), 2);
/// ```
pub fn estimate_tokens(text_chars: usize) -> u32 {
    u32::try_from(text_chars.div_ceil(4))
        .unwrap_or(u32::MAX)
        .max(1)
}

fn api_index(api: ProviderApi) -> usize {
    match api {
        ProviderApi::OpenAi => 0,
        ProviderApi::Anthropic => 1,
    }
}

/// State shared by every clone of a provider and by the routes of [`router`].
struct Shared {
    config: MockConfig,
    rng: Mutex<StdRng>,
    /// Each API's failure rate now (`f64` bits): set from the configuration,
    /// changed by [`MockProvider::set_fail_rate`].
    fail_rates: [AtomicU64; 2],
}

impl Shared {
    fn new(config: MockConfig) -> Self {
        let rate = |api| AtomicU64::new(config.fail_rate_of(api).to_bits());
        Self {
            rng: Mutex::new(StdRng::seed_from_u64(config.seed)),
            fail_rates: [rate(ProviderApi::OpenAi), rate(ProviderApi::Anthropic)],
            config,
        }
    }

    /// Decides whether this call to `api` fails, and with which status.
    fn draw_failure(&self, api: ProviderApi) -> Option<StatusCode> {
        let fail_rate = f64::from_bits(self.fail_rates[api_index(api)].load(Ordering::Relaxed));
        let mut rng = self.rng.lock().unwrap_or_else(PoisonError::into_inner);
        let roll: f64 = rng.random();
        if roll >= fail_rate {
            return None;
        }
        Some(match self.config.fail_status {
            Some(status) => status,
            None => {
                let code = FAILURE_MIX[rng.random_range(0..FAILURE_MIX.len())];
                StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
            }
        })
    }
}

/// A [`tower::Service`] answering chat requests like the provider API it was
/// built for.
///
/// Clones share the configuration and the failure generator, so the sequence
/// of outcomes for a given seed does not depend on which clone serves a call.
/// Requests are validated like the real API (400 in the provider's error
/// shape), then a failure is drawn, then the configured latency elapses, then
/// the reply is sent as JSON or, for `"stream": true`, as server-sent events.
/// The request path and method are not checked; [`router`] does that.
#[derive(Clone)]
pub struct MockProvider {
    api: ProviderApi,
    shared: Arc<Shared>,
}

impl MockProvider {
    /// A mock speaking `api`, behaving as `config` says.
    pub fn new(api: ProviderApi, config: MockConfig) -> Self {
        Self {
            api,
            shared: Arc::new(Shared::new(config)),
        }
    }

    /// Changes the share of this mock's API's calls that fail, for every
    /// clone and every mock sharing its state (see [`with_api`](Self::with_api)):
    /// a test can bring a provider down and up again while it serves.
    pub fn set_fail_rate(&self, rate: f64) {
        let rate = if rate.is_nan() {
            0.0
        } else {
            rate.clamp(0.0, 1.0)
        };
        self.shared.fail_rates[api_index(self.api)].store(rate.to_bits(), Ordering::Relaxed);
    }

    /// A mock speaking `api` that shares this one's configuration and failure
    /// generator.
    pub fn with_api(&self, api: ProviderApi) -> Self {
        Self {
            api,
            shared: Arc::clone(&self.shared),
        }
    }

    /// The API this mock speaks.
    pub fn api(&self) -> ProviderApi {
        self.api
    }

    /// The configuration this mock follows.
    pub fn config(&self) -> &MockConfig {
        &self.shared.config
    }

    async fn handle(self, request: Request<Body>) -> Response<Body> {
        let api = self.api;
        let body = match read_body(request.into_body()).await {
            Ok(body) => body,
            Err(error) => return error.into_response(api),
        };
        let call = match Call::parse(api, &body) {
            Ok(call) => call,
            Err(invalid) => return invalid.into_response(api),
        };
        let failure = self.shared.draw_failure(api);
        let config = &self.shared.config;
        if !config.latency.is_zero() {
            tokio::time::sleep(config.latency).await;
        }
        if let Some(status) = failure {
            tracing::debug!(%status, ?api, "mock provider: injected failure");
            return failure_response(api, status);
        }
        if call.stream {
            call.stream_response(api, config.stream_delay)
        } else {
            call.json_response(api)
        }
    }
}

impl fmt::Debug for MockProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MockProvider")
            .field("api", &self.api)
            .field("config", &self.shared.config)
            .finish_non_exhaustive()
    }
}

impl tower::Service<Request<Body>> for MockProvider {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response<Body>, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        let this = self.clone();
        Box::pin(async move { Ok(this.handle(request).await) })
    }
}

/// A router serving `POST /v1/chat/completions` (OpenAI) and
/// `POST /v1/messages` (Anthropic) with mocks sharing `config` and one failure
/// generator. Other methods get a 405, other paths a 404.
///
/// ```no_run
/// use spark_tower::gateway::mock::{self, MockConfig};
///
/// # async fn serve() -> Result<(), Box<dyn std::error::Error>> {
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:8089").await?;
/// axum::serve(listener, mock::router(MockConfig::from_env()?)).await?;
/// # Ok(())
/// # }
/// ```
pub fn router(config: MockConfig) -> axum::Router {
    router_with(&MockProvider::new(ProviderApi::OpenAi, config))
}

/// Like [`router`], serving both APIs with `mock`'s state, so that
/// [`MockProvider::set_fail_rate`] on it (or on a mock made from it with
/// [`MockProvider::with_api`]) changes what the server answers.
pub fn router_with(mock: &MockProvider) -> axum::Router {
    let openai = mock.with_api(ProviderApi::OpenAi);
    let anthropic = mock.with_api(ProviderApi::Anthropic);
    axum::Router::new()
        .route(
            ProviderApi::OpenAi.route(),
            axum::routing::post_service(openai),
        )
        .route(
            ProviderApi::Anthropic.route(),
            axum::routing::post_service(anthropic),
        )
}

// ---------------------------------------------------------------------------
// Reading and validating requests
// ---------------------------------------------------------------------------

enum BodyError {
    TooLarge,
    Unreadable,
}

impl BodyError {
    fn into_response(self, api: ProviderApi) -> Response<Body> {
        match self {
            Self::TooLarge => {
                let message = match api {
                    ProviderApi::OpenAi => format!(
                        "The request body is too large: the limit is {MAX_BODY_BYTES} bytes."
                    ),
                    ProviderApi::Anthropic => {
                        "Request exceeds the maximum allowed number of bytes.".to_owned()
                    }
                };
                error_response(api, StatusCode::PAYLOAD_TOO_LARGE, &message, None)
            }
            Self::Unreadable => error_response(
                api,
                StatusCode::BAD_REQUEST,
                "The request body could not be read.",
                None,
            ),
        }
    }
}

async fn read_body(body: Body) -> Result<Bytes, BodyError> {
    if body.size_hint().lower() > MAX_BODY_BYTES as u64 {
        return Err(BodyError::TooLarge);
    }
    match Limited::new(body, MAX_BODY_BYTES).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(error) if error.downcast_ref::<LengthLimitError>().is_some() => {
            Err(BodyError::TooLarge)
        }
        Err(_) => Err(BodyError::Unreadable),
    }
}

/// Where in the request a problem is.
#[derive(Clone, Copy)]
enum Field {
    Top(&'static str),
    Message(usize),
    MessageRole(usize),
}

impl Field {
    fn path(self, api: ProviderApi) -> String {
        match (self, api) {
            (Self::Top(name), _) => name.to_owned(),
            (Self::Message(i), ProviderApi::OpenAi) => format!("messages[{i}]"),
            (Self::Message(i), ProviderApi::Anthropic) => format!("messages.{i}"),
            (Self::MessageRole(i), ProviderApi::OpenAi) => format!("messages[{i}].role"),
            (Self::MessageRole(i), ProviderApi::Anthropic) => format!("messages.{i}.role"),
        }
    }
}

#[derive(Clone, Copy)]
enum Expected {
    String,
    Array,
    Integer,
    Object,
    Boolean,
}

impl Expected {
    fn openai(self) -> &'static str {
        match self {
            Self::String => "a string",
            Self::Array => "an array",
            Self::Integer => "an integer",
            Self::Object => "an object",
            Self::Boolean => "a boolean",
        }
    }

    fn anthropic(self) -> &'static str {
        match self {
            Self::String => "string",
            Self::Array => "list",
            Self::Integer => "integer",
            Self::Object => "dictionary",
            Self::Boolean => "boolean",
        }
    }
}

/// A request the real API would reject with a 400.
enum Invalid {
    Json(String),
    NotObject,
    Missing(Field),
    WrongType {
        field: Field,
        expected: Expected,
        got: &'static str,
    },
    EmptyMessages,
    MaxTokensTooSmall,
}

impl Invalid {
    fn wrong_type(field: Field, expected: Expected, value: &Value) -> Self {
        Self::WrongType {
            field,
            expected,
            got: json_type(value),
        }
    }

    fn param(&self, api: ProviderApi) -> Option<String> {
        match self {
            Self::Json(_) | Self::NotObject => None,
            Self::Missing(field) | Self::WrongType { field, .. } => Some(field.path(api)),
            Self::EmptyMessages => Some("messages".to_owned()),
            Self::MaxTokensTooSmall => Some("max_tokens".to_owned()),
        }
    }

    fn message(&self, api: ProviderApi) -> String {
        match api {
            ProviderApi::OpenAi => match self {
                Self::Json(error) => format!(
                    "We could not parse the JSON body of your request ({error}). \
                     The API expects a JSON payload."
                ),
                Self::NotObject => "The request body must be a JSON object.".to_owned(),
                Self::Missing(Field::Top("model")) => {
                    "you must provide a model parameter".to_owned()
                }
                Self::Missing(field) => {
                    format!("Missing required parameter: '{}'.", field.path(api))
                }
                Self::WrongType {
                    field,
                    expected,
                    got,
                } => format!(
                    "Invalid type for '{}': expected {}, but got {got} instead.",
                    field.path(api),
                    expected.openai()
                ),
                Self::EmptyMessages => "Invalid 'messages': empty array. Expected an array \
                                        with minimum length 1, but got an empty array instead."
                    .to_owned(),
                Self::MaxTokensTooSmall => {
                    "Invalid 'max_tokens': integer below minimum value 1.".to_owned()
                }
            },
            ProviderApi::Anthropic => match self {
                Self::Json(error) => {
                    format!("There was an issue with the request body: invalid JSON ({error})")
                }
                Self::NotObject => "Input should be a valid dictionary".to_owned(),
                Self::Missing(field) => format!("{}: Field required", field.path(api)),
                Self::WrongType {
                    field, expected, ..
                } => format!(
                    "{}: Input should be a valid {}",
                    field.path(api),
                    expected.anthropic()
                ),
                Self::EmptyMessages => "messages: at least one message is required".to_owned(),
                Self::MaxTokensTooSmall => {
                    "max_tokens: Input should be greater than or equal to 1".to_owned()
                }
            },
        }
    }

    fn into_response(self, api: ProviderApi) -> Response<Body> {
        let message = self.message(api);
        let param = self.param(api);
        error_response(api, StatusCode::BAD_REQUEST, &message, param.as_deref())
    }
}

/// How OpenAI names a JSON type in its error messages.
fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(number) if number.is_f64() => "a decimal",
        Value::Number(_) => "an integer",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A validated call, with everything needed to answer it.
struct Call {
    id: String,
    created: u64,
    model: String,
    stream: bool,
    include_usage: bool,
    reply: String,
    input_tokens: u32,
    output_tokens: u32,
}

impl Call {
    fn parse(api: ProviderApi, body: &[u8]) -> Result<Self, Invalid> {
        let value: Value =
            serde_json::from_slice(body).map_err(|error| Invalid::Json(error.to_string()))?;
        let Value::Object(object) = value else {
            return Err(Invalid::NotObject);
        };

        let model = match object.get("model") {
            None => return Err(Invalid::Missing(Field::Top("model"))),
            Some(Value::String(model)) => model.clone(),
            Some(other) => {
                return Err(Invalid::wrong_type(
                    Field::Top("model"),
                    Expected::String,
                    other,
                ));
            }
        };
        let messages = match object.get("messages") {
            None => return Err(Invalid::Missing(Field::Top("messages"))),
            Some(Value::Array(messages)) if messages.is_empty() => {
                return Err(Invalid::EmptyMessages);
            }
            Some(Value::Array(messages)) => messages,
            Some(other) => {
                return Err(Invalid::wrong_type(
                    Field::Top("messages"),
                    Expected::Array,
                    other,
                ));
            }
        };
        if api == ProviderApi::Anthropic {
            check_max_tokens(&object)?;
        }
        let stream = optional_bool(&object, "stream")?;
        let include_usage = match (api, object.get("stream_options")) {
            (ProviderApi::OpenAi, Some(Value::Object(options))) => {
                optional_bool(options, "include_usage")?
            }
            (ProviderApi::OpenAi, Some(Value::Null) | None) | (ProviderApi::Anthropic, _) => false,
            (ProviderApi::OpenAi, Some(other)) => {
                return Err(Invalid::wrong_type(
                    Field::Top("stream_options"),
                    Expected::Object,
                    other,
                ));
            }
        };

        let mut input_chars = 0;
        let mut reply = String::new();
        for (index, message) in messages.iter().enumerate() {
            let Value::Object(message) = message else {
                return Err(Invalid::wrong_type(
                    Field::Message(index),
                    Expected::Object,
                    message,
                ));
            };
            let role = match message.get("role") {
                None => return Err(Invalid::Missing(Field::MessageRole(index))),
                Some(Value::String(role)) => role,
                Some(other) => {
                    return Err(Invalid::wrong_type(
                        Field::MessageRole(index),
                        Expected::String,
                        other,
                    ));
                }
            };
            let text = message.get("content").map(content_text).unwrap_or_default();
            input_chars += text.chars().count();
            if role == "user" {
                reply = text;
            }
        }
        if api == ProviderApi::Anthropic
            && let Some(system) = object.get("system")
        {
            input_chars += content_text(system).chars().count();
        }

        let mut hasher = std::hash::DefaultHasher::new();
        hasher.write(body);
        let hash = hasher.finish();
        let id = match api {
            ProviderApi::OpenAi => format!("chatcmpl-mock{hash:016x}"),
            ProviderApi::Anthropic => format!("msg_mock{hash:016x}"),
        };
        let created = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_secs());

        Ok(Self {
            id,
            created,
            model,
            stream,
            include_usage,
            input_tokens: estimate_tokens(input_chars),
            output_tokens: estimate_tokens(reply.chars().count()),
            reply,
        })
    }

    fn json_response(&self, api: ProviderApi) -> Response<Body> {
        let body = match api {
            ProviderApi::OpenAi => to_json(&ChatCompletion {
                id: &self.id,
                object: "chat.completion",
                created: self.created,
                model: &self.model,
                choices: [Choice {
                    index: 0,
                    message: AssistantMessage {
                        role: "assistant",
                        content: &self.reply,
                        refusal: None,
                    },
                    logprobs: None,
                    finish_reason: "stop",
                }],
                usage: self.openai_usage(),
                system_fingerprint: SYSTEM_FINGERPRINT,
            }),
            ProviderApi::Anthropic => to_json(&self.anthropic_message(
                vec![TextBlock::new(&self.reply)],
                Some("end_turn"),
                self.output_tokens,
            )),
        };
        json_body(StatusCode::OK, body)
    }

    fn stream_response(&self, api: ProviderApi, delay: Duration) -> Response<Body> {
        let events = match api {
            ProviderApi::OpenAi => self.openai_events(),
            ProviderApi::Anthropic => self.anthropic_events(),
        };
        let stream = futures_util::stream::iter(events.into_iter().enumerate()).then(
            move |(index, event)| async move {
                if index > 0 && !delay.is_zero() {
                    tokio::time::sleep(delay).await;
                }
                Ok::<_, Infallible>(event)
            },
        );
        let mut response = Response::new(Body::from_stream(stream));
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        response
    }

    fn openai_usage(&self) -> OpenAiUsage {
        OpenAiUsage {
            prompt_tokens: self.input_tokens,
            completion_tokens: self.output_tokens,
            total_tokens: self.input_tokens.saturating_add(self.output_tokens),
        }
    }

    fn openai_events(&self) -> Vec<Bytes> {
        let chunk = |delta, finish_reason| Chunk {
            id: &self.id,
            object: "chat.completion.chunk",
            created: self.created,
            model: &self.model,
            system_fingerprint: SYSTEM_FINGERPRINT,
            choices: vec![ChunkChoice {
                index: 0,
                delta,
                logprobs: None,
                finish_reason,
            }],
            usage: self.include_usage.then_some(None),
        };
        let data = |chunk: &Chunk<'_>| sse_data(&to_json(chunk));

        let mut events = Vec::new();
        events.push(data(&chunk(
            Delta {
                role: Some("assistant"),
                content: Some(""),
            },
            None,
        )));
        for piece in split_pieces(&self.reply) {
            events.push(data(&chunk(
                Delta {
                    role: None,
                    content: Some(piece),
                },
                None,
            )));
        }
        events.push(data(&chunk(Delta::default(), Some("stop"))));
        if self.include_usage {
            let mut last = chunk(Delta::default(), None);
            last.choices.clear();
            last.usage = Some(Some(self.openai_usage()));
            events.push(data(&last));
        }
        events.push(Bytes::from_static(b"data: [DONE]\n\n"));
        events
    }

    fn anthropic_message<'a>(
        &'a self,
        content: Vec<TextBlock<'a>>,
        stop_reason: Option<&'static str>,
        output_tokens: u32,
    ) -> Message<'a> {
        Message {
            id: &self.id,
            kind: "message",
            role: "assistant",
            model: &self.model,
            content,
            stop_reason,
            stop_sequence: None,
            usage: AnthropicUsage {
                input_tokens: self.input_tokens,
                output_tokens,
            },
        }
    }

    fn anthropic_events(&self) -> Vec<Bytes> {
        let mut events = vec![
            StreamEvent::MessageStart {
                message: self.anthropic_message(Vec::new(), None, 1),
            },
            StreamEvent::ContentBlockStart {
                index: 0,
                content_block: TextBlock::new(""),
            },
            StreamEvent::Ping,
        ];
        events.extend(split_pieces(&self.reply).into_iter().map(|text| {
            StreamEvent::ContentBlockDelta {
                index: 0,
                delta: TextDelta {
                    kind: "text_delta",
                    text,
                },
            }
        }));
        events.extend([
            StreamEvent::ContentBlockStop { index: 0 },
            StreamEvent::MessageDelta {
                delta: MessageDeltaBody {
                    stop_reason: "end_turn",
                    stop_sequence: None,
                },
                usage: OutputUsage {
                    output_tokens: self.output_tokens,
                },
            },
            StreamEvent::MessageStop,
        ]);
        events
            .iter()
            .map(|event| {
                Bytes::from(format!(
                    "event: {}\ndata: {}\n\n",
                    event.name(),
                    String::from_utf8_lossy(&to_json(event))
                ))
            })
            .collect()
    }
}

fn check_max_tokens(object: &Map<String, Value>) -> Result<(), Invalid> {
    let field = Field::Top("max_tokens");
    match object.get("max_tokens") {
        None => Err(Invalid::Missing(field)),
        Some(Value::Number(number)) if number.is_u64() || number.is_i64() => {
            if number.as_u64().is_some_and(|max| max >= 1) {
                Ok(())
            } else {
                Err(Invalid::MaxTokensTooSmall)
            }
        }
        Some(other) => Err(Invalid::wrong_type(field, Expected::Integer, other)),
    }
}

fn optional_bool(object: &Map<String, Value>, name: &'static str) -> Result<bool, Invalid> {
    match object.get(name) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(flag)) => Ok(*flag),
        Some(other) => Err(Invalid::wrong_type(
            Field::Top(name),
            Expected::Boolean,
            other,
        )),
    }
}

/// The text of a message `content` (or Anthropic `system`): the string itself,
/// or the `text` of the `text` parts of an array, joined with `"\n"`.
fn content_text(content: &Value) -> String {
    match content {
        Value::String(text) => text.clone(),
        Value::Array(parts) => {
            let texts: Vec<&str> = parts
                .iter()
                .filter(|part| part.get("type").and_then(Value::as_str) == Some("text"))
                .filter_map(|part| part.get("text").and_then(Value::as_str))
                .collect();
            texts.join("\n")
        }
        _ => String::new(),
    }
}

/// Splits `text` into stream pieces: each word with the whitespace after it
/// (leading whitespace goes with the first word). Concatenating the pieces
/// gives `text` back; an empty text has no pieces.
fn split_pieces(text: &str) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut after_space = false;
    for (index, ch) in text.char_indices() {
        if ch.is_whitespace() {
            after_space = true;
        } else {
            if after_space && index > start && !text[start..index].trim().is_empty() {
                pieces.push(&text[start..index]);
                start = index;
            }
            after_space = false;
        }
    }
    if start < text.len() {
        pieces.push(&text[start..]);
    }
    pieces
}

// ---------------------------------------------------------------------------
// Responses
// ---------------------------------------------------------------------------

const SYSTEM_FINGERPRINT: &str = "fp_mock";

fn to_json(value: &impl Serialize) -> Vec<u8> {
    // Serializing these plain structs cannot fail: every key is a string and
    // there are no maps with non-string keys or failing `Serialize` impls.
    serde_json::to_vec(value).unwrap_or_default()
}

fn sse_data(json: &[u8]) -> Bytes {
    let mut event = Vec::with_capacity(json.len() + 8);
    event.extend_from_slice(b"data: ");
    event.extend_from_slice(json);
    event.extend_from_slice(b"\n\n");
    Bytes::from(event)
}

fn json_body(status: StatusCode, body: Vec<u8>) -> Response<Body> {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// An error in the provider's shape.
fn error_response(
    api: ProviderApi,
    status: StatusCode,
    message: &str,
    param: Option<&str>,
) -> Response<Body> {
    let body = match api {
        ProviderApi::OpenAi => {
            let (kind, code) = openai_error_kind(status);
            to_json(&OpenAiErrorBody {
                error: OpenAiError {
                    message,
                    kind,
                    param,
                    code,
                },
            })
        }
        ProviderApi::Anthropic => to_json(&AnthropicErrorBody {
            kind: "error",
            error: AnthropicError {
                kind: anthropic_error_kind(status),
                message,
            },
        }),
    };
    json_body(status, body)
}

/// The OpenAI error `type` and `code` for a status.
fn openai_error_kind(status: StatusCode) -> (&'static str, Option<&'static str>) {
    match status.as_u16() {
        429 => ("requests", Some("rate_limit_exceeded")),
        500.. => ("server_error", None),
        _ => ("invalid_request_error", None),
    }
}

/// The Anthropic error `type` for a status.
fn anthropic_error_kind(status: StatusCode) -> &'static str {
    match status.as_u16() {
        401 => "authentication_error",
        402 => "billing_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        529 => "overloaded_error",
        500.. => "api_error",
        _ => "invalid_request_error",
    }
}

/// The answer to a call chosen to fail.
fn failure_response(api: ProviderApi, status: StatusCode) -> Response<Body> {
    let message = match api {
        ProviderApi::OpenAi => match status.as_u16() {
            429 => "Rate limit reached for requests (mock provider).",
            503 | 529 => "The server is overloaded, please try again later (mock provider).",
            500.. => "The server had an error while processing your request (mock provider).",
            _ => "The request was rejected (mock provider).",
        },
        ProviderApi::Anthropic => match anthropic_error_kind(status) {
            "overloaded_error" => "Overloaded",
            "api_error" => "Internal server error",
            "rate_limit_error" => "Number of requests has exceeded your rate limit",
            "authentication_error" => "invalid x-api-key",
            "permission_error" => {
                "Your API key does not have permission to use the specified resource."
            }
            "not_found_error" => "The requested resource could not be found.",
            "request_too_large" => "Request exceeds the maximum allowed number of bytes.",
            "billing_error" => "Your credit balance is too low.",
            _ => "The request was rejected (mock provider).",
        },
    };
    error_response(api, status, message, None)
}

#[derive(Serialize)]
struct OpenAiErrorBody<'a> {
    error: OpenAiError<'a>,
}

#[derive(Serialize)]
struct OpenAiError<'a> {
    message: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    param: Option<&'a str>,
    code: Option<&'static str>,
}

#[derive(Serialize)]
struct AnthropicErrorBody<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    error: AnthropicError<'a>,
}

#[derive(Serialize)]
struct AnthropicError<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    message: &'a str,
}

#[derive(Serialize)]
struct ChatCompletion<'a> {
    id: &'a str,
    object: &'static str,
    created: u64,
    model: &'a str,
    choices: [Choice<'a>; 1],
    usage: OpenAiUsage,
    system_fingerprint: &'static str,
}

#[derive(Serialize)]
struct Choice<'a> {
    index: u32,
    message: AssistantMessage<'a>,
    logprobs: Option<()>,
    finish_reason: &'static str,
}

#[derive(Serialize)]
struct AssistantMessage<'a> {
    role: &'static str,
    content: &'a str,
    refusal: Option<&'a str>,
}

#[derive(Serialize)]
struct OpenAiUsage {
    prompt_tokens: u32,
    completion_tokens: u32,
    total_tokens: u32,
}

#[derive(Serialize)]
struct Chunk<'a> {
    id: &'a str,
    object: &'static str,
    created: u64,
    model: &'a str,
    system_fingerprint: &'static str,
    choices: Vec<ChunkChoice<'a>>,
    /// Absent without `include_usage`; with it, `null` except on the last chunk.
    #[serde(skip_serializing_if = "Option::is_none")]
    usage: Option<Option<OpenAiUsage>>,
}

#[derive(Serialize)]
struct ChunkChoice<'a> {
    index: u32,
    delta: Delta<'a>,
    logprobs: Option<()>,
    finish_reason: Option<&'static str>,
}

#[derive(Default, Serialize)]
struct Delta<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    role: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    content: Option<&'a str>,
}

#[derive(Serialize)]
struct Message<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    role: &'static str,
    model: &'a str,
    content: Vec<TextBlock<'a>>,
    stop_reason: Option<&'static str>,
    stop_sequence: Option<()>,
    usage: AnthropicUsage,
}

#[derive(Serialize)]
struct TextBlock<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    text: &'a str,
}

impl<'a> TextBlock<'a> {
    fn new(text: &'a str) -> Self {
        Self { kind: "text", text }
    }
}

#[derive(Serialize)]
struct AnthropicUsage {
    input_tokens: u32,
    output_tokens: u32,
}

#[derive(Serialize)]
struct TextDelta<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    text: &'a str,
}

#[derive(Serialize)]
struct MessageDeltaBody {
    stop_reason: &'static str,
    stop_sequence: Option<()>,
}

#[derive(Serialize)]
struct OutputUsage {
    output_tokens: u32,
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum StreamEvent<'a> {
    MessageStart {
        message: Message<'a>,
    },
    ContentBlockStart {
        index: u32,
        content_block: TextBlock<'a>,
    },
    Ping,
    ContentBlockDelta {
        index: u32,
        delta: TextDelta<'a>,
    },
    ContentBlockStop {
        index: u32,
    },
    MessageDelta {
        delta: MessageDeltaBody,
        usage: OutputUsage,
    },
    MessageStop,
}

impl StreamEvent<'_> {
    fn name(&self) -> &'static str {
        match self {
            Self::MessageStart { .. } => "message_start",
            Self::ContentBlockStart { .. } => "content_block_start",
            Self::Ping => "ping",
            Self::ContentBlockDelta { .. } => "content_block_delta",
            Self::ContentBlockStop { .. } => "content_block_stop",
            Self::MessageDelta { .. } => "message_delta",
            Self::MessageStop => "message_stop",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use serde_json::json;
    use tokio::time::Instant;
    use tower::ServiceExt;

    fn request(api: ProviderApi, body: impl Into<Body>) -> Request<Body> {
        Request::post(api.route())
            .header(CONTENT_TYPE, "application/json")
            .body(body.into())
            .unwrap()
    }

    async fn call_raw(
        provider: &MockProvider,
        body: impl Into<Body>,
    ) -> (StatusCode, http::HeaderMap, Bytes) {
        let response = provider
            .clone()
            .oneshot(request(provider.api(), body))
            .await
            .unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        (status, headers, bytes)
    }

    async fn call_json(provider: &MockProvider, body: &Value) -> (StatusCode, Value) {
        let (status, headers, bytes) = call_raw(provider, body.to_string()).await;
        assert_eq!(headers[CONTENT_TYPE], "application/json");
        (status, serde_json::from_slice(&bytes).unwrap())
    }

    fn openai() -> MockProvider {
        MockProvider::new(ProviderApi::OpenAi, MockConfig::default())
    }

    fn anthropic() -> MockProvider {
        MockProvider::new(ProviderApi::Anthropic, MockConfig::default())
    }

    fn chars(texts: &[&str]) -> usize {
        texts.iter().map(|text| text.chars().count()).sum()
    }

    /// Splits an SSE body into `(event name, data)` pairs.
    fn parse_sse(body: &[u8]) -> Vec<(Option<String>, String)> {
        let text = std::str::from_utf8(body).unwrap();
        assert!(
            text.ends_with("\n\n"),
            "unterminated event stream: {text:?}"
        );
        text.split_terminator("\n\n")
            .map(|block| {
                let mut event = None;
                let mut data = None;
                for line in block.lines() {
                    if let Some(name) = line.strip_prefix("event: ") {
                        event = Some(name.to_owned());
                    } else if let Some(payload) = line.strip_prefix("data: ") {
                        assert!(data.is_none(), "two data lines in {block:?}");
                        data = Some(payload.to_owned());
                    } else {
                        panic!("unexpected line {line:?}");
                    }
                }
                (event, data.expect("event without data"))
            })
            .collect()
    }

    #[tokio::test]
    async fn openai_reply_echoes_last_user_string() {
        let body = json!({
            "model": "gpt-4o-mini",
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": "first question"},
                {"role": "assistant", "content": "an answer"},
                {"role": "user", "content": "Hello, mock! ünïcödé"},
            ],
        });
        let (status, json) = call_json(&openai(), &body).await;
        assert_eq!(status, StatusCode::OK);

        let reply = "Hello, mock! ünïcödé";
        let input = estimate_tokens(chars(&["Be brief.", "first question", "an answer", reply]));
        let output = estimate_tokens(reply.chars().count());
        assert_eq!(input, 13);
        assert_eq!(output, 5);

        let id = json["id"].as_str().unwrap();
        assert!(id.starts_with("chatcmpl-mock"), "{id}");
        assert!(json["created"].as_u64().unwrap() > 1_600_000_000);
        let expected = json!({
            "id": id,
            "object": "chat.completion",
            "created": json["created"],
            "model": "gpt-4o-mini",
            "choices": [{
                "index": 0,
                "message": {"role": "assistant", "content": reply, "refusal": null},
                "logprobs": null,
                "finish_reason": "stop",
            }],
            "usage": {
                "prompt_tokens": input,
                "completion_tokens": output,
                "total_tokens": input + output,
            },
            "system_fingerprint": "fp_mock",
        });
        assert_eq!(json, expected);

        // Key order follows the real API.
        let (_, _, raw) = call_raw(&openai(), body.to_string()).await;
        let raw = String::from_utf8(raw.to_vec()).unwrap();
        assert!(raw.starts_with(r#"{"id":"chatcmpl-mock"#), "{raw}");
        assert!(raw.ends_with(r#""system_fingerprint":"fp_mock"}"#), "{raw}");
    }

    #[tokio::test]
    async fn openai_reply_joins_text_parts() {
        let body = json!({
            "model": "gpt-4o",
            "messages": [
                {"role": "developer", "content": [{"type": "text", "text": "dev"}]},
                {"role": "user", "content": [
                    {"type": "text", "text": "look at"},
                    {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}},
                    {"type": "text", "text": "this picture"},
                ]},
                {"role": "assistant", "content": null, "tool_calls": []},
            ],
        });
        let (status, json) = call_json(&openai(), &body).await;
        assert_eq!(status, StatusCode::OK);
        let reply = "look at\nthis picture";
        assert_eq!(json["choices"][0]["message"]["content"], reply);
        assert_eq!(
            json["usage"]["prompt_tokens"],
            estimate_tokens(chars(&["dev", reply]))
        );
        assert_eq!(
            json["usage"]["completion_tokens"],
            estimate_tokens(reply.len())
        );
    }

    #[tokio::test]
    async fn anthropic_reply_echoes_last_user_text() {
        let body = json!({
            "model": "claude-sonnet-4-5",
            "max_tokens": 1024,
            "system": [{"type": "text", "text": "You are a mock."}],
            "messages": [
                {"role": "user", "content": "earlier"},
                {"role": "assistant", "content": [{"type": "text", "text": "ok"}]},
                {"role": "user", "content": [
                    {"type": "text", "text": "part one"},
                    {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AAAA"}},
                    {"type": "text", "text": "part two"},
                ]},
            ],
        });
        let (status, json) = call_json(&anthropic(), &body).await;
        assert_eq!(status, StatusCode::OK);
        let reply = "part one\npart two";
        let input = estimate_tokens(chars(&["You are a mock.", "earlier", "ok", reply]));
        let id = json["id"].as_str().unwrap();
        assert!(id.starts_with("msg_mock"), "{id}");
        assert_eq!(
            json,
            json!({
                "id": id,
                "type": "message",
                "role": "assistant",
                "model": "claude-sonnet-4-5",
                "content": [{"type": "text", "text": reply}],
                "stop_reason": "end_turn",
                "stop_sequence": null,
                "usage": {"input_tokens": input, "output_tokens": estimate_tokens(reply.len())},
            })
        );
        assert_eq!(input, 11);
    }

    #[tokio::test]
    async fn anthropic_system_string_counts_as_input() {
        let without = json!({
            "model": "m", "max_tokens": 10,
            "messages": [{"role": "user", "content": "abcd"}],
        });
        let mut with = without.clone();
        with["system"] = json!("12345678");
        let (_, without) = call_json(&anthropic(), &without).await;
        let (_, with) = call_json(&anthropic(), &with).await;
        assert_eq!(without["usage"]["input_tokens"], 1);
        assert_eq!(with["usage"]["input_tokens"], 3);
        assert_eq!(with["content"][0]["text"], "abcd");
    }

    #[tokio::test]
    async fn no_user_text_gives_an_empty_reply() {
        let body = json!({
            "model": "m",
            "messages": [
                {"role": "system", "content": "sys"},
                {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]},
            ],
        });
        let (status, json) = call_json(&openai(), &body).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(json["choices"][0]["message"]["content"], "");
        assert_eq!(json["usage"]["completion_tokens"], 1);
    }

    #[tokio::test]
    async fn ids_depend_only_on_the_body() {
        let body = json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]});
        let other = json!({"model": "m", "messages": [{"role": "user", "content": "ho"}]});
        let (_, first) = call_json(&openai(), &body).await;
        let (_, again) = call_json(&openai(), &body).await;
        let (_, different) = call_json(&openai(), &other).await;
        assert_eq!(first["id"], again["id"]);
        assert_ne!(first["id"], different["id"]);
    }

    #[test]
    fn token_estimate() {
        assert_eq!(estimate_tokens(0), 1);
        assert_eq!(estimate_tokens(1), 1);
        assert_eq!(estimate_tokens(4), 1);
        assert_eq!(estimate_tokens(5), 2);
        assert_eq!(estimate_tokens(400), 100);
        assert_eq!(estimate_tokens(401), 101);
        assert_eq!(estimate_tokens(usize::MAX), u32::MAX);
    }

    #[test]
    fn pieces_rebuild_the_text() {
        for text in [
            "",
            "word",
            "Hello, world!",
            "  leading and trailing  ",
            "multi\nline\ttext  with   gaps",
            "ünï cödé 日本 語",
            "   ",
        ] {
            let pieces = split_pieces(text);
            assert_eq!(pieces.concat(), text);
            assert!(pieces.iter().all(|piece| !piece.is_empty()));
        }
        assert_eq!(split_pieces("Hello, world!"), ["Hello, ", "world!"]);
        assert_eq!(split_pieces(" a b "), [" a ", "b "]);
        assert!(split_pieces("").is_empty());
    }

    #[tokio::test]
    async fn openai_stream_without_usage() {
        let reply = "The quick brown fox jumps";
        let body = json!({
            "model": "gpt-4o-mini",
            "stream": true,
            "messages": [{"role": "user", "content": reply}],
        });
        let (status, headers, bytes) = call_raw(&openai(), body.to_string()).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(headers[CONTENT_TYPE], "text/event-stream");
        assert_eq!(headers[CACHE_CONTROL], "no-cache");

        let events = parse_sse(&bytes);
        assert!(events.iter().all(|(name, _)| name.is_none()));
        assert_eq!(events.last().unwrap().1, "[DONE]");
        let chunks: Vec<Value> = events[..events.len() - 1]
            .iter()
            .map(|(_, data)| serde_json::from_str(data).unwrap())
            .collect();
        assert_eq!(chunks.len(), 1 + 5 + 1);
        let id = &chunks[0]["id"];
        for chunk in &chunks {
            assert_eq!(&chunk["id"], id);
            assert_eq!(chunk["object"], "chat.completion.chunk");
            assert_eq!(chunk["model"], "gpt-4o-mini");
            assert_eq!(chunk["system_fingerprint"], "fp_mock");
            assert!(chunk.get("usage").is_none(), "{chunk}");
            assert_eq!(chunk["choices"][0]["index"], 0);
            assert_eq!(chunk["choices"][0]["logprobs"], Value::Null);
        }
        assert_eq!(
            chunks[0]["choices"][0]["delta"],
            json!({"role": "assistant", "content": ""})
        );
        let middle = &chunks[1..chunks.len() - 1];
        let text: String = middle
            .iter()
            .map(|chunk| {
                assert_eq!(chunk["choices"][0]["finish_reason"], Value::Null);
                chunk["choices"][0]["delta"]["content"].as_str().unwrap()
            })
            .collect();
        assert_eq!(text, reply);
        let last = chunks.last().unwrap();
        assert_eq!(last["choices"][0]["delta"], json!({}));
        assert_eq!(last["choices"][0]["finish_reason"], "stop");
    }

    #[tokio::test]
    async fn openai_stream_with_usage() {
        let reply = "one two three";
        let body = json!({
            "model": "gpt-4o-mini",
            "stream": true,
            "stream_options": {"include_usage": true},
            "messages": [
                {"role": "system", "content": "system prompt"},
                {"role": "user", "content": reply},
            ],
        });
        let (_, _, bytes) = call_raw(&openai(), body.to_string()).await;
        let events = parse_sse(&bytes);
        assert_eq!(events.last().unwrap().1, "[DONE]");
        let chunks: Vec<Value> = events[..events.len() - 1]
            .iter()
            .map(|(_, data)| serde_json::from_str(data).unwrap())
            .collect();
        let (usage_chunk, others) = chunks.split_last().unwrap();
        for chunk in others {
            assert_eq!(chunk["usage"], Value::Null);
            assert!(chunk.get("usage").is_some());
        }
        assert_eq!(
            others.last().unwrap()["choices"][0]["finish_reason"],
            "stop"
        );
        let input = estimate_tokens(chars(&["system prompt", reply]));
        let output = estimate_tokens(reply.len());
        assert_eq!(usage_chunk["choices"], json!([]));
        assert_eq!(
            usage_chunk["usage"],
            json!({"prompt_tokens": input, "completion_tokens": output, "total_tokens": input + output})
        );
        let text: String = others
            .iter()
            .filter_map(|chunk| chunk["choices"][0]["delta"]["content"].as_str())
            .collect();
        assert_eq!(text, reply);
    }

    #[tokio::test]
    async fn anthropic_stream_event_sequence() {
        let reply = "Streaming is\nfun, isn't it?";
        let body = json!({
            "model": "claude-haiku",
            "max_tokens": 64,
            "stream": true,
            "messages": [{"role": "user", "content": reply}],
        });
        let (status, headers, bytes) = call_raw(&anthropic(), body.to_string()).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(headers[CONTENT_TYPE], "text/event-stream");
        let events = parse_sse(&bytes);
        let names: Vec<&str> = events
            .iter()
            .map(|(name, _)| name.as_deref().unwrap())
            .collect();
        let pieces = split_pieces(reply).len();
        assert_eq!(pieces, 5);
        let mut expected = vec!["message_start", "content_block_start", "ping"];
        expected.extend(std::iter::repeat_n("content_block_delta", pieces));
        expected.extend(["content_block_stop", "message_delta", "message_stop"]);
        assert_eq!(names, expected);

        let data: Vec<Value> = events
            .iter()
            .map(|(_, data)| serde_json::from_str(data).unwrap())
            .collect();
        for (name, data) in names.iter().zip(&data) {
            assert_eq!(data["type"], *name);
        }
        let input = estimate_tokens(reply.chars().count());
        let message = &data[0]["message"];
        assert!(message["id"].as_str().unwrap().starts_with("msg_mock"));
        assert_eq!(
            data[0],
            json!({"type": "message_start", "message": {
                "id": message["id"], "type": "message", "role": "assistant",
                "model": "claude-haiku", "content": [], "stop_reason": null,
                "stop_sequence": null, "usage": {"input_tokens": input, "output_tokens": 1},
            }})
        );
        assert_eq!(
            data[1],
            json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}})
        );
        assert_eq!(data[2], json!({"type": "ping"}));
        let text: String = data[3..3 + pieces]
            .iter()
            .map(|delta| {
                assert_eq!(delta["index"], 0);
                assert_eq!(delta["delta"]["type"], "text_delta");
                delta["delta"]["text"].as_str().unwrap()
            })
            .collect();
        assert_eq!(text, reply);
        assert_eq!(
            data[3 + pieces],
            json!({"type": "content_block_stop", "index": 0})
        );
        assert_eq!(
            data[4 + pieces],
            json!({"type": "message_delta",
                   "delta": {"stop_reason": "end_turn", "stop_sequence": null},
                   "usage": {"output_tokens": estimate_tokens(reply.chars().count())}})
        );
        assert_eq!(data[5 + pieces], json!({"type": "message_stop"}));
    }

    #[tokio::test]
    async fn empty_reply_streams_without_deltas() {
        let body = json!({
            "model": "m", "max_tokens": 5, "stream": true,
            "messages": [{"role": "user", "content": ""}],
        });
        let (_, _, bytes) = call_raw(&anthropic(), body.to_string()).await;
        let names: Vec<String> = parse_sse(&bytes)
            .into_iter()
            .map(|(name, _)| name.unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "message_start",
                "content_block_start",
                "ping",
                "content_block_stop",
                "message_delta",
                "message_stop"
            ]
        );

        let body =
            json!({"model": "m", "stream": true, "messages": [{"role": "user", "content": ""}]});
        let (_, _, bytes) = call_raw(&openai(), body.to_string()).await;
        let events = parse_sse(&bytes);
        assert_eq!(events.len(), 3);
        assert_eq!(events[2].1, "[DONE]");
        let stop: Value = serde_json::from_str(&events[1].1).unwrap();
        assert_eq!(stop["choices"][0]["finish_reason"], "stop");
    }

    async fn openai_error(body: &str) -> (StatusCode, Value) {
        let (status, headers, bytes) = call_raw(&openai(), body.to_owned()).await;
        assert_eq!(headers[CONTENT_TYPE], "application/json");
        (status, serde_json::from_slice(&bytes).unwrap())
    }

    async fn anthropic_error(body: &str) -> (StatusCode, Value) {
        let (status, headers, bytes) = call_raw(&anthropic(), body.to_owned()).await;
        assert_eq!(headers[CONTENT_TYPE], "application/json");
        (status, serde_json::from_slice(&bytes).unwrap())
    }

    fn assert_openai_400(json: &Value, param: Option<&str>) {
        let error = &json["error"];
        assert_eq!(error["type"], "invalid_request_error", "{json}");
        assert_eq!(error["param"], json!(param), "{json}");
        assert_eq!(error["code"], Value::Null);
        assert!(!error["message"].as_str().unwrap().is_empty());
        assert_eq!(json.as_object().unwrap().len(), 1);
        assert_eq!(error.as_object().unwrap().len(), 4);
    }

    #[tokio::test]
    async fn openai_rejects_invalid_requests() {
        let cases: [(&str, Option<&str>); 9] = [
            (
                r#"{"messages":[{"role":"user","content":"x"}]}"#,
                Some("model"),
            ),
            (
                r#"{"model":7,"messages":[{"role":"user","content":"x"}]}"#,
                Some("model"),
            ),
            (r#"{"model":"m"}"#, Some("messages")),
            (r#"{"model":"m","messages":"hi"}"#, Some("messages")),
            (r#"{"model":"m","messages":[]}"#, Some("messages")),
            (r#"{"model":"m","messages":[3]}"#, Some("messages[0]")),
            (
                r#"{"model":"m","messages":[{"content":"x"}]}"#,
                Some("messages[0].role"),
            ),
            (
                r#"{"model":"m","stream":"yes","messages":[{"role":"user","content":"x"}]}"#,
                Some("stream"),
            ),
            (r#"{"model":"m","#, None),
        ];
        for (body, param) in cases {
            let (status, json) = openai_error(body).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
            assert_openai_400(&json, param);
        }
        let (status, json) = openai_error("[1, 2]").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_openai_400(&json, None);
        let (_, json) = openai_error(r#"{"messages":[]}"#).await;
        assert_eq!(
            json["error"]["message"],
            "you must provide a model parameter"
        );
        let (_, json) = openai_error(r#"{"model":"m"}"#).await;
        assert_eq!(
            json["error"]["message"],
            "Missing required parameter: 'messages'."
        );
    }

    #[tokio::test]
    async fn anthropic_rejects_invalid_requests() {
        let cases = [
            (
                r#"{"max_tokens":5,"messages":[{"role":"user","content":"x"}]}"#,
                "model: Field required",
            ),
            (
                r#"{"model":null,"max_tokens":5,"messages":[{"role":"user","content":"x"}]}"#,
                "model: Input should be a valid string",
            ),
            (
                r#"{"model":"m","max_tokens":5}"#,
                "messages: Field required",
            ),
            (
                r#"{"model":"m","max_tokens":5,"messages":{}}"#,
                "messages: Input should be a valid list",
            ),
            (
                r#"{"model":"m","max_tokens":5,"messages":[]}"#,
                "messages: at least one message is required",
            ),
            (
                r#"{"model":"m","messages":[{"role":"user","content":"x"}]}"#,
                "max_tokens: Field required",
            ),
            (
                r#"{"model":"m","max_tokens":"5","messages":[{"role":"user","content":"x"}]}"#,
                "max_tokens: Input should be a valid integer",
            ),
            (
                r#"{"model":"m","max_tokens":1.5,"messages":[{"role":"user","content":"x"}]}"#,
                "max_tokens: Input should be a valid integer",
            ),
            (
                r#"{"model":"m","max_tokens":0,"messages":[{"role":"user","content":"x"}]}"#,
                "max_tokens: Input should be greater than or equal to 1",
            ),
            (
                r#"{"model":"m","max_tokens":5,"messages":[{"content":"x"}]}"#,
                "messages.0.role: Field required",
            ),
        ];
        for (body, message) in cases {
            let (status, json) = anthropic_error(body).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
            assert_eq!(
                json,
                json!({"type": "error", "error": {"type": "invalid_request_error", "message": message}})
            );
        }
        for body in ["not json", "\"a string\""] {
            let (status, json) = anthropic_error(body).await;
            assert_eq!(status, StatusCode::BAD_REQUEST);
            assert_eq!(json["type"], "error");
            assert_eq!(json["error"]["type"], "invalid_request_error");
        }
    }

    #[tokio::test]
    async fn oversized_bodies_get_413() {
        let body = vec![b' '; MAX_BODY_BYTES + 1];
        let (status, _, bytes) = call_raw(&anthropic(), body).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        let json: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(json["error"]["type"], "request_too_large");

        // A body without a size hint is cut off while it is read.
        let chunks = futures_util::stream::iter(
            (0..=MAX_BODY_BYTES / (1024 * 1024))
                .map(|_| Ok::<_, Infallible>(Bytes::from(vec![b' '; 1024 * 1024]))),
        );
        let (status, _, _) = call_raw(&openai(), Body::from_stream(chunks)).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    }

    fn valid_body(api: ProviderApi) -> Value {
        let mut body = json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]});
        if api == ProviderApi::Anthropic {
            body["max_tokens"] = json!(10);
        }
        body
    }

    async fn statuses(provider: &MockProvider, calls: usize) -> Vec<u16> {
        let body = valid_body(provider.api());
        let mut statuses = Vec::with_capacity(calls);
        for _ in 0..calls {
            let (status, _) = call_json(provider, &body).await;
            statuses.push(status.as_u16());
        }
        statuses
    }

    #[tokio::test]
    async fn fail_rate_one_always_fails_with_the_mix() {
        let config = MockConfig::default().fail_rate(1.0).seed(3);
        for api in [ProviderApi::OpenAi, ProviderApi::Anthropic] {
            let provider = MockProvider::new(api, config.clone());
            let body = valid_body(api);
            let mut seen = std::collections::BTreeSet::new();
            for _ in 0..50 {
                let (status, json) = call_json(&provider, &body).await;
                seen.insert(status.as_u16());
                match api {
                    ProviderApi::OpenAi => {
                        assert_eq!(json["error"]["type"], "server_error");
                        assert_eq!(json["error"]["param"], Value::Null);
                        assert_eq!(json["error"]["code"], Value::Null);
                        assert!(json["error"]["message"].is_string());
                    }
                    ProviderApi::Anthropic => {
                        let (kind, message) = if status.as_u16() == 529 {
                            ("overloaded_error", "Overloaded")
                        } else {
                            ("api_error", "Internal server error")
                        };
                        assert_eq!(
                            json,
                            json!({"type": "error", "error": {"type": kind, "message": message}})
                        );
                    }
                }
            }
            assert_eq!(seen.into_iter().collect::<Vec<_>>(), [500, 503, 529]);
        }
    }

    #[tokio::test]
    async fn fail_status_is_honoured() {
        let config = MockConfig::default()
            .fail_rate(1.0)
            .fail_status(Some(StatusCode::TOO_MANY_REQUESTS));
        let provider = MockProvider::new(ProviderApi::Anthropic, config);
        let body = valid_body(ProviderApi::Anthropic);
        for _ in 0..5 {
            let (status, json) = call_json(&provider, &body).await;
            assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
            assert_eq!(json["error"]["type"], "rate_limit_error");
        }
        let openai = provider.with_api(ProviderApi::OpenAi);
        let (status, json) = call_json(&openai, &valid_body(ProviderApi::OpenAi)).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(json["error"]["code"], "rate_limit_exceeded");

        let overloaded = StatusCode::from_u16(529).unwrap();
        let provider = MockProvider::new(
            ProviderApi::OpenAi,
            MockConfig::default()
                .fail_rate(1.0)
                .fail_status(Some(overloaded)),
        );
        assert_eq!(statuses(&provider, 10).await, [529; 10]);
    }

    #[tokio::test]
    async fn fail_rate_zero_never_fails() {
        let provider = MockProvider::new(ProviderApi::OpenAi, MockConfig::default().seed(9));
        assert_eq!(statuses(&provider, 100).await, [200; 100]);
    }

    #[tokio::test]
    async fn the_same_seed_repeats_the_outcomes() {
        let config = MockConfig::default().fail_rate(0.5).seed(1234);
        let first = statuses(&MockProvider::new(ProviderApi::OpenAi, config.clone()), 50).await;
        let second = statuses(&MockProvider::new(ProviderApi::OpenAi, config.clone()), 50).await;
        assert_eq!(first, second);
        assert!(first.contains(&200));
        assert!(first.iter().any(|status| *status >= 500));

        let other = statuses(
            &MockProvider::new(ProviderApi::OpenAi, config.clone().seed(4321)),
            50,
        )
        .await;
        assert_ne!(first, other);

        // Clones and `with_api` share one generator.
        let provider = MockProvider::new(ProviderApi::OpenAi, config);
        let sibling = provider.with_api(ProviderApi::Anthropic);
        let mut interleaved = Vec::new();
        for _ in 0..25 {
            interleaved.extend(statuses(&provider.clone(), 1).await);
            interleaved.extend(statuses(&sibling, 1).await);
        }
        assert_eq!(interleaved, first);
    }

    #[tokio::test]
    async fn invalid_requests_do_not_draw() {
        let config = MockConfig::default().fail_rate(0.5).seed(77);
        let expected = statuses(&MockProvider::new(ProviderApi::OpenAi, config.clone()), 20).await;
        let provider = MockProvider::new(ProviderApi::OpenAi, config);
        let mut actual = Vec::new();
        for _ in 0..20 {
            let (status, _) = openai_error(r#"{"model":"m"}"#).await;
            assert_eq!(status, StatusCode::BAD_REQUEST);
            let (status, _) = call_json(&provider, &json!({"model": 1})).await;
            assert_eq!(status, StatusCode::BAD_REQUEST);
            actual.extend(statuses(&provider, 1).await);
        }
        assert_eq!(actual, expected);
    }

    #[test]
    fn fail_rate_is_clamped() {
        assert_eq!(MockConfig::default().fail_rate(2.0).fail_rate, 1.0);
        assert_eq!(MockConfig::default().fail_rate(-0.5).fail_rate, 0.0);
        assert_eq!(MockConfig::default().fail_rate(f64::NAN).fail_rate, 0.0);
        assert_eq!(MockConfig::default().fail_rate(0.25).fail_rate, 0.25);
    }

    fn lookup(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect();
        move |name| {
            vars.iter()
                .find(|(var, _)| var == name)
                .map(|(_, value)| value.clone())
        }
    }

    #[test]
    fn from_lookup_reads_every_variable() {
        let config = MockConfig::from_lookup(lookup(&[
            (ENV_LATENCY_MS, "250"),
            (ENV_STREAM_DELAY_MS, " 15 "),
            (ENV_FAIL_RATE, "0.125"),
            (ENV_FAIL_STATUS, "529"),
            (ENV_SEED, "18446744073709551615"),
        ]))
        .unwrap();
        assert_eq!(config.latency, Duration::from_millis(250));
        assert_eq!(config.stream_delay, Duration::from_millis(15));
        assert_eq!(config.fail_rate, 0.125);
        assert_eq!(config.fail_status, Some(StatusCode::from_u16(529).unwrap()));
        assert_eq!(config.seed, u64::MAX);

        let config =
            MockConfig::from_lookup(lookup(&[(ENV_FAIL_RATE, "1"), (ENV_SEED, "")])).unwrap();
        assert_eq!(config.fail_rate, 1.0);
        assert_eq!(config.seed, 0);
    }

    #[test]
    fn per_provider_fail_rates_override_the_shared_one() {
        let config = MockConfig::from_lookup(lookup(&[
            (ENV_FAIL_RATE, "0.5"),
            (ENV_OPENAI_FAIL_RATE, "1"),
        ]))
        .unwrap();
        assert_eq!(config.fail_rate_of(ProviderApi::OpenAi), 1.0);
        assert_eq!(config.fail_rate_of(ProviderApi::Anthropic), 0.5);
        let config = MockConfig::from_lookup(lookup(&[(ENV_ANTHROPIC_FAIL_RATE, "0.25")])).unwrap();
        assert_eq!(config.fail_rate_of(ProviderApi::OpenAi), 0.0);
        assert_eq!(config.fail_rate_of(ProviderApi::Anthropic), 0.25);
    }

    #[tokio::test]
    async fn a_providers_failures_follow_its_own_rate_and_can_be_lifted() {
        let config = MockConfig::default().fail_rate_for(ProviderApi::OpenAi, 1.0);
        let app = router(config.clone());
        let status = |app: axum::Router, api| async move {
            app.oneshot(request(api, valid_body(api).to_string()))
                .await
                .unwrap()
                .status()
        };
        for _ in 0..5 {
            assert!(
                status(app.clone(), ProviderApi::OpenAi)
                    .await
                    .is_server_error()
            );
            assert_eq!(
                status(app.clone(), ProviderApi::Anthropic).await,
                StatusCode::OK
            );
        }
        let mock = MockProvider::new(ProviderApi::OpenAi, config);
        let app = router_with(&mock);
        assert!(
            status(app.clone(), ProviderApi::OpenAi)
                .await
                .is_server_error()
        );
        mock.set_fail_rate(0.0);
        assert_eq!(
            status(app.clone(), ProviderApi::OpenAi).await,
            StatusCode::OK
        );
        mock.with_api(ProviderApi::Anthropic).set_fail_rate(1.0);
        assert!(status(app, ProviderApi::Anthropic).await.is_server_error());
    }

    #[test]
    fn from_lookup_defaults() {
        let config = MockConfig::from_lookup(|_| None).unwrap();
        assert_eq!(config.latency, Duration::ZERO);
        assert_eq!(config.stream_delay, Duration::ZERO);
        assert_eq!(config.fail_rate, 0.0);
        assert_eq!(config.fail_status, None);
        assert_eq!(config.seed, 0);
    }

    #[test]
    fn from_lookup_rejects_invalid_values() {
        let cases = [
            (ENV_LATENCY_MS, "-1"),
            (ENV_LATENCY_MS, "1.5"),
            (ENV_LATENCY_MS, "soon"),
            (ENV_STREAM_DELAY_MS, "10ms"),
            (ENV_FAIL_RATE, "1.5"),
            (ENV_FAIL_RATE, "-0.1"),
            (ENV_FAIL_RATE, "NaN"),
            (ENV_FAIL_RATE, "inf"),
            (ENV_FAIL_RATE, "half"),
            (ENV_FAIL_STATUS, "200"),
            (ENV_FAIL_STATUS, "600"),
            (ENV_FAIL_STATUS, "oops"),
            (ENV_SEED, "-3"),
            (ENV_SEED, "seed"),
            (ENV_OPENAI_FAIL_RATE, "2"),
            (ENV_ANTHROPIC_FAIL_RATE, "often"),
        ];
        for (var, value) in cases {
            let error = MockConfig::from_lookup(lookup(&[(var, value)])).unwrap_err();
            assert_eq!(error.var(), var);
            let text = error.to_string();
            assert!(text.contains(var), "{text}");
            assert!(text.contains(value), "{text}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn latency_delays_the_head() {
        let latency = Duration::from_millis(750);
        let config = MockConfig::default().latency(latency);
        let provider = MockProvider::new(ProviderApi::OpenAi, config.clone());
        let start = Instant::now();
        let response = provider
            .oneshot(request(
                ProviderApi::OpenAi,
                valid_body(ProviderApi::OpenAi).to_string(),
            ))
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert!(start.elapsed() >= latency, "{:?}", start.elapsed());

        // Failures wait too; invalid requests do not.
        let failing = MockProvider::new(ProviderApi::Anthropic, config.fail_rate(1.0));
        let start = Instant::now();
        let (status, _) = call_json(&failing, &valid_body(ProviderApi::Anthropic)).await;
        assert!(status.is_server_error());
        assert!(start.elapsed() >= latency);
        let start = Instant::now();
        let (status, _) = call_json(&failing, &json!({})).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(start.elapsed(), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn stream_delay_separates_events() {
        let delay = Duration::from_millis(100);
        let provider = MockProvider::new(
            ProviderApi::Anthropic,
            MockConfig::default().stream_delay(delay),
        );
        let body = json!({
            "model": "m", "max_tokens": 10, "stream": true,
            "messages": [{"role": "user", "content": "a b c"}],
        });
        let start = Instant::now();
        let response = provider
            .oneshot(request(ProviderApi::Anthropic, body.to_string()))
            .await
            .unwrap();
        assert_eq!(start.elapsed(), Duration::ZERO);
        let mut body = response.into_body();
        let mut arrivals = Vec::new();
        let mut text = Vec::new();
        while let Some(frame) = body.frame().await {
            arrivals.push(start.elapsed());
            text.extend_from_slice(&frame.unwrap().into_data().unwrap());
        }
        let events = parse_sse(&text);
        // message_start, content_block_start, ping, 3 deltas, stop, delta, stop.
        assert_eq!(events.len(), 9);
        assert_eq!(arrivals.len(), events.len());
        assert_eq!(arrivals[0], Duration::ZERO);
        for pair in arrivals.windows(2) {
            assert!(pair[1] - pair[0] >= delay, "{arrivals:?}");
        }
        assert!(*arrivals.last().unwrap() >= delay * 8);
    }

    #[tokio::test]
    async fn router_serves_both_apis() {
        let app = router(MockConfig::default());
        for api in [ProviderApi::OpenAi, ProviderApi::Anthropic] {
            let response = app
                .clone()
                .oneshot(request(api, valid_body(api).to_string()))
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            let bytes = response.into_body().collect().await.unwrap().to_bytes();
            let json: Value = serde_json::from_slice(&bytes).unwrap();
            match api {
                ProviderApi::OpenAi => assert_eq!(json["object"], "chat.completion"),
                ProviderApi::Anthropic => assert_eq!(json["type"], "message"),
            }

            let get = Request::get(api.route()).body(Body::empty()).unwrap();
            let response = app.clone().oneshot(get).await.unwrap();
            assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
        }
        let missing = request(ProviderApi::OpenAi, "{}");
        let (mut parts, body) = missing.into_parts();
        parts.uri = "/v1/completions".parse().unwrap();
        let response = app.oneshot(Request::from_parts(parts, body)).await.unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
    }

    #[tokio::test]
    async fn router_routes_share_one_generator() {
        let config = MockConfig::default().fail_rate(0.5).seed(99);
        let expected = statuses(&MockProvider::new(ProviderApi::OpenAi, config.clone()), 40).await;
        let app = router(config);
        let mut actual = Vec::new();
        for i in 0..40 {
            let api = if i % 2 == 0 {
                ProviderApi::OpenAi
            } else {
                ProviderApi::Anthropic
            };
            let response = app
                .clone()
                .oneshot(request(api, valid_body(api).to_string()))
                .await
                .unwrap();
            actual.push(response.status().as_u16());
        }
        assert_eq!(actual, expected);
    }

    #[test]
    fn debug_shows_the_configuration() {
        let provider = MockProvider::new(ProviderApi::Anthropic, MockConfig::default().seed(5));
        let debug = format!("{provider:?}");
        assert!(debug.contains("Anthropic"), "{debug}");
        assert!(debug.contains("seed: 5"), "{debug}");
        assert_eq!(provider.config().seed, 5);
    }
}
