//! Gateway configuration, read from the environment or set in code.

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use http::uri::{Scheme, Uri};
use http::{HeaderValue, StatusCode};

use super::mock::{MockConfig, MockConfigError};
use crate::auth::{FileFormat, MemoryKeyStore, parse_key_file};
use crate::circuit::{CircuitConfig, Window};
use crate::rate_limit::HeaderStyle;
use crate::sanitize::Policy;

/// A provider API key. Its value never appears in `Debug` output.
#[derive(Clone)]
pub struct ApiKey(HeaderValue);

impl ApiKey {
    /// Wraps a key. Fails when the key is empty or not a valid header value.
    pub fn new(key: &str) -> Result<Self, ConfigError> {
        let key = key.trim();
        let invalid = |reason| ConfigError::Invalid {
            var: "API key",
            reason,
        };
        if key.is_empty() {
            return Err(invalid("is empty".into()));
        }
        let mut value = HeaderValue::from_str(key)
            .map_err(|_| invalid("contains characters not allowed in a header".into()))?;
        value.set_sensitive(true);
        Ok(Self(value))
    }

    /// The key as a header value, marked sensitive.
    pub(crate) fn header_value(&self) -> &HeaderValue {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

/// The key of the gateway's admin routes (`SPARK_ADMIN_KEY`), compared in
/// constant time. Its value never appears in `Debug` output.
#[derive(Clone)]
pub struct AdminKey(String);

/// The shortest admin key accepted.
pub const MIN_ADMIN_KEY_LEN: usize = 16;

impl AdminKey {
    /// Wraps a key of at least 16 visible ASCII characters.
    ///
    /// # Errors
    /// A shorter key, or one with other characters (never repeated).
    pub fn new(key: &str) -> Result<Self, ConfigError> {
        let invalid = |reason: &str| ConfigError::Invalid {
            var: "SPARK_ADMIN_KEY",
            reason: reason.to_owned(),
        };
        if !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(invalid("must be visible ASCII characters only"));
        }
        if key.len() < MIN_ADMIN_KEY_LEN {
            return Err(invalid("must be at least 16 characters"));
        }
        Ok(Self(key.to_owned()))
    }

    /// Whether `candidate` is the key. The comparison takes the same time
    /// whatever the candidate (both are hashed, then compared in constant
    /// time), so it leaks neither content nor length.
    pub fn matches(&self, candidate: &[u8]) -> bool {
        use sha2::{Digest, Sha256};
        use subtle::ConstantTimeEq;
        let expected = Sha256::digest(self.0.as_bytes());
        let given = Sha256::digest(candidate);
        expected.ct_eq(&given).into()
    }
}

impl fmt::Debug for AdminKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AdminKey(<redacted>)")
    }
}

/// Where one provider's requests go: a real upstream, or the in-process mock
/// when `base_url` is `None`.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct UpstreamConfig {
    /// The provider's base URL, following the official SDK's convention:
    /// OpenAI's includes the version (`https://api.openai.com/v1`),
    /// Anthropic's does not (`https://api.anthropic.com`).
    pub base_url: Option<Uri>,
    /// The key sent to the provider (`Authorization: Bearer` for OpenAI,
    /// `x-api-key` for Anthropic).
    pub api_key: Option<ApiKey>,
}

impl UpstreamConfig {
    /// Forward to `base_url` with `api_key`.
    pub fn new(base_url: Uri, api_key: Option<ApiKey>) -> Self {
        Self {
            base_url: Some(base_url),
            api_key,
        }
    }
}

/// Everything the gateway needs; see the README's configuration table.
///
/// `from_env` reads the `SPARK_*` variables; tests and embedding programs
/// start from `Default` and set fields.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct GatewayConfig {
    /// `SPARK_ADDR`: where to listen (port 0 picks a free port).
    pub addr: SocketAddr,
    /// `SPARK_UPSTREAM_TIMEOUT_MS`: longest wait for the provider's response head.
    pub upstream_timeout: Duration,
    /// `SPARK_UPSTREAM_IDLE_TIMEOUT_MS`: longest gap between body chunks of a
    /// provider response; an idle stream is ended.
    pub upstream_idle_timeout: Duration,
    /// `SPARK_UPSTREAM_TIMEOUT_STATUS`: the status of a head timeout (504 or 503).
    pub upstream_timeout_status: StatusCode,
    /// `SPARK_MAX_BODY_BYTES`: the largest request body the gateway reads.
    pub max_body_bytes: usize,
    /// `SPARK_SHUTDOWN_GRACE_MS`: how long in-flight requests may finish after
    /// SIGINT or SIGTERM.
    pub shutdown_grace: Duration,
    /// `SPARK_HEADER_TIMEOUT_MS`: longest wait for a request head.
    pub header_timeout: Duration,
    /// `SPARK_BODY_TIMEOUT_MS`: longest gap between chunks of a request body;
    /// a stalled body is answered with 400.
    pub body_timeout: Duration,
    /// `SPARK_OPENAI_BASE_URL`, `SPARK_OPENAI_API_KEY`.
    pub openai: UpstreamConfig,
    /// `SPARK_ANTHROPIC_BASE_URL`, `SPARK_ANTHROPIC_API_KEY`.
    pub anthropic: UpstreamConfig,
    /// The in-process mock's knobs (`SPARK_MOCK_*`).
    pub mock: MockConfig,
    /// `SPARK_SANITIZE_POLICY`: the policy for user, assistant and tool
    /// texts (`block`, `flag`, `sanitize` or `off`; system texts are always
    /// cleaned only).
    pub sanitize_policy: Policy,
    /// `SPARK_SANITIZE_REPORT_HEADER`: add `x-spark-sanitize: flag` to
    /// responses of flagged requests.
    pub sanitize_report_header: bool,
    /// `SPARK_SANITIZE_MAX_CHARS`: the character limit of one user,
    /// assistant or tool text (system texts: 100,000).
    pub sanitize_max_chars: usize,
    /// The circuit breaker around each provider (`SPARK_CIRCUIT_*`; see the
    /// README's table); `None` (`SPARK_CIRCUIT_ENABLED=false`) for none.
    pub circuit: Option<CircuitConfig>,
    /// The client API keys: from `SPARK_API_KEYS_FILE` (TOML, or JSON when
    /// the name ends in `.json`), else the development keys of
    /// [`DEV_KEYS`](super::DEV_KEYS).
    pub api_keys: MemoryKeyStore,
    /// Whether `api_keys` are the development keys, whose key is public:
    /// [`check_listen`](Self::check_listen) then refuses non-loopback
    /// addresses.
    pub dev_keys: bool,
    /// `SPARK_RATE_LIMIT_ENABLED`: per-user request and token quotas by
    /// tier (see [`tiers`](super::tiers)).
    pub rate_limit: bool,
    /// `SPARK_RATE_LIMIT_HEADERS`: `ietf` (`RateLimit-Policy` and
    /// `RateLimit`), `legacy` (`X-RateLimit-*`) or `none`.
    pub rate_limit_headers: HeaderStyle,
    /// `SPARK_ADMIN_KEY`: the `x-admin-key` of `GET /admin/errors`; without
    /// it that route does not exist (404).
    pub admin_key: Option<AdminKey>,
    /// `SPARK_HEALTH_MEMORY_WARN_MB`: `GET /health` warns when the resident
    /// set size exceeds this many bytes (`None`: never; default 1 GiB).
    pub health_memory_warn_bytes: Option<u64>,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            upstream_timeout: Duration::from_secs(60),
            upstream_idle_timeout: Duration::from_secs(60),
            upstream_timeout_status: StatusCode::GATEWAY_TIMEOUT,
            max_body_bytes: 32 * 1024 * 1024,
            shutdown_grace: Duration::from_secs(30),
            header_timeout: Duration::from_secs(30),
            body_timeout: Duration::from_secs(30),
            openai: UpstreamConfig::default(),
            anthropic: UpstreamConfig::default(),
            mock: MockConfig::default(),
            sanitize_policy: Policy::Block,
            sanitize_report_header: false,
            sanitize_max_chars: 10_000,
            circuit: Some(CircuitConfig::default()),
            api_keys: dev_key_store(),
            dev_keys: true,
            rate_limit: true,
            rate_limit_headers: HeaderStyle::Ietf,
            admin_key: None,
            health_memory_warn_bytes: Some(1024 * 1024 * 1024),
        }
    }
}

/// The store of the development keys.
fn dev_key_store() -> MemoryKeyStore {
    let entries = parse_key_file(super::DEV_KEYS, FileFormat::Toml)
        .expect("the development key file is valid");
    MemoryKeyStore::new(entries).expect("the development key file is valid")
}

/// A configuration value that cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A variable holds a value that cannot be used. The value itself is not
    /// repeated, since it may be a secret.
    #[error("{var} {reason}")]
    Invalid {
        /// The variable or setting.
        var: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The mock provider's knobs are invalid.
    #[error(transparent)]
    Mock(#[from] MockConfigError),
    /// The key file cannot be loaded.
    #[error("SPARK_API_KEYS_FILE: {0}")]
    Keys(#[from] crate::auth::StoreError),
    /// The development keys may not be used on a network address.
    #[error(
        "refusing to listen on {0}: the development API key is public; set SPARK_API_KEYS_FILE \
         (make keys with `cargo run --example keygen`) or listen on a loopback address"
    )]
    DevKeysOnNetwork(SocketAddr),
}

impl GatewayConfig {
    /// Checks that the gateway may listen on `addr`: not on a non-loopback
    /// address with the development keys.
    ///
    /// # Errors
    /// [`ConfigError::DevKeysOnNetwork`].
    pub fn check_listen(&self) -> Result<(), ConfigError> {
        if self.dev_keys && !self.addr.ip().is_loopback() {
            return Err(ConfigError::DevKeysOnNetwork(self.addr));
        }
        Ok(())
    }

    /// Reads the configuration from the process environment.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the first variable that cannot be parsed.
    pub fn from_env() -> Result<Self, ConfigError> {
        let mut config = Self::from_lookup(|name| std::env::var(name).ok())?;
        config.mock = MockConfig::from_env()?;
        Ok(config)
    }

    /// Reads the gateway's own variables (not the mock's) through `lookup`,
    /// so tests need not touch the process environment.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the first variable that cannot be parsed.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let var = |name: &'static str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
                .map(|v| (name, v))
        };
        let mut config = Self::default();
        if let Some((name, v)) = var("SPARK_ADDR") {
            config.addr = v
                .parse()
                .map_err(|_| invalid(name, "is not an IP:port address"))?;
        }
        if let Some((name, v)) = var("SPARK_UPSTREAM_TIMEOUT_MS") {
            config.upstream_timeout = millis(name, &v)?;
        }
        if let Some((name, v)) = var("SPARK_UPSTREAM_IDLE_TIMEOUT_MS") {
            config.upstream_idle_timeout = millis(name, &v)?;
        }
        if let Some((name, v)) = var("SPARK_UPSTREAM_TIMEOUT_STATUS") {
            config.upstream_timeout_status = v
                .parse::<StatusCode>()
                .ok()
                .filter(|s| s.is_server_error())
                .ok_or_else(|| invalid(name, "must be a 5xx status such as 504 or 503"))?;
        }
        if let Some((name, v)) = var("SPARK_MAX_BODY_BYTES") {
            config.max_body_bytes = v
                .parse::<usize>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| invalid(name, "must be a positive number of bytes"))?;
        }
        if let Some((name, v)) = var("SPARK_SHUTDOWN_GRACE_MS") {
            config.shutdown_grace = millis(name, &v)?;
        }
        if let Some((name, v)) = var("SPARK_HEADER_TIMEOUT_MS") {
            config.header_timeout = millis(name, &v)?;
        }
        if let Some((name, v)) = var("SPARK_BODY_TIMEOUT_MS") {
            config.body_timeout = millis(name, &v)?;
        }
        if let Some((name, v)) = var("SPARK_SANITIZE_POLICY") {
            config.sanitize_policy = match v.to_ascii_lowercase().as_str() {
                "block" => Policy::Block,
                "flag" => Policy::Flag,
                "sanitize" => Policy::Sanitize,
                "off" => Policy::Off,
                _ => return Err(invalid(name, "must be block, flag, sanitize or off")),
            };
        }
        if let Some((name, v)) = var("SPARK_SANITIZE_REPORT_HEADER") {
            config.sanitize_report_header = flag(name, &v)?;
        }
        if let Some((name, v)) = var("SPARK_SANITIZE_MAX_CHARS") {
            config.sanitize_max_chars = v
                .parse::<usize>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| invalid(name, "must be a positive number of characters"))?;
        }
        config.circuit = circuit_from(&var)?;
        if let Some((_, path)) = var("SPARK_API_KEYS_FILE") {
            config.api_keys = MemoryKeyStore::from_file(path)?;
            config.dev_keys = false;
        }
        if let Some((_, v)) = var("SPARK_ADMIN_KEY") {
            config.admin_key = Some(AdminKey::new(&v)?);
        }
        if let Some((name, v)) = var("SPARK_HEALTH_MEMORY_WARN_MB") {
            config.health_memory_warn_bytes = if v.eq_ignore_ascii_case("off") {
                None
            } else {
                let mb = v
                    .parse::<u64>()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| invalid(name, "must be a positive number of MiB or off"))?;
                Some(mb.saturating_mul(1024 * 1024))
            };
        }
        if let Some((name, v)) = var("SPARK_RATE_LIMIT_ENABLED") {
            config.rate_limit = flag(name, &v)?;
        }
        if let Some((name, v)) = var("SPARK_RATE_LIMIT_HEADERS") {
            config.rate_limit_headers = match v.to_ascii_lowercase().as_str() {
                "ietf" => HeaderStyle::Ietf,
                "legacy" => HeaderStyle::Legacy,
                "none" => HeaderStyle::None,
                _ => return Err(invalid(name, "must be ietf, legacy or none")),
            };
        }
        for (upstream, base, key) in [
            (
                &mut config.openai,
                "SPARK_OPENAI_BASE_URL",
                "SPARK_OPENAI_API_KEY",
            ),
            (
                &mut config.anthropic,
                "SPARK_ANTHROPIC_BASE_URL",
                "SPARK_ANTHROPIC_API_KEY",
            ),
        ] {
            if let Some((name, v)) = var(base) {
                upstream.base_url = Some(parse_base_url(&v).map_err(|r| invalid(name, r))?);
            }
            if let Some((name, v)) = var(key) {
                upstream.api_key =
                    Some(ApiKey::new(&v).map_err(|_| {
                        invalid(name, "contains characters not allowed in a header")
                    })?);
            }
        }
        Ok(config)
    }
}

/// The breaker settings of `SPARK_CIRCUIT_*`, from the defaults of
/// [`CircuitConfig`].
fn circuit_from(
    var: &impl Fn(&'static str) -> Option<(&'static str, String)>,
) -> Result<Option<CircuitConfig>, ConfigError> {
    if let Some((name, v)) = var("SPARK_CIRCUIT_ENABLED")
        && !flag(name, &v)?
    {
        return Ok(None);
    }
    let count = |name: &'static str, v: &str| {
        v.parse::<u32>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| invalid(name, "must be a positive whole number"))
    };
    let rate = |name: &'static str, v: &str| {
        v.parse::<f64>()
            .ok()
            .filter(|r| *r > 0.0 && *r <= 1.0)
            .ok_or_else(|| invalid(name, "must be a number above 0 and at most 1"))
    };
    let positive_millis = |name: &'static str, v: &str| {
        millis(name, v).and_then(|d| {
            if d.is_zero() {
                Err(invalid(name, "must be a positive number of milliseconds"))
            } else {
                Ok(d)
            }
        })
    };
    let mut config = CircuitConfig::default();
    if let Some((name, v)) = var("SPARK_CIRCUIT_WINDOW_CALLS") {
        config = config.window(Window::Count(count(name, &v)?));
    }
    if let Some((name, v)) = var("SPARK_CIRCUIT_WINDOW_MS") {
        let buckets = match var("SPARK_CIRCUIT_WINDOW_BUCKETS") {
            Some((buckets_name, b)) => count(buckets_name, &b)?,
            None => 10,
        };
        let length = positive_millis(name, &v)?;
        config = config.window(Window::Time { length, buckets });
    }
    if let Some((name, v)) = var("SPARK_CIRCUIT_MIN_CALLS") {
        config = config.minimum_calls(count(name, &v)?);
    }
    if let Some((name, v)) = var("SPARK_CIRCUIT_FAILURE_RATE") {
        config = match v.as_str() {
            "off" => config.no_failure_rate(),
            _ => config.failure_rate(rate(name, &v)?),
        };
    }
    if let Some((name, v)) = var("SPARK_CIRCUIT_CONSECUTIVE_FAILURES") {
        config = match v.as_str() {
            "off" => config.no_consecutive_failures(),
            _ => config.consecutive_failures(count(name, &v)?),
        };
    }
    if let Some((name, v)) = var("SPARK_CIRCUIT_SLOW_CALL_MS") {
        let slow_rate = match var("SPARK_CIRCUIT_SLOW_CALL_RATE") {
            Some((rate_name, r)) => rate(rate_name, &r)?,
            None => 0.5,
        };
        config = config.slow_calls(positive_millis(name, &v)?, slow_rate);
    }
    let open = var("SPARK_CIRCUIT_OPEN_MS")
        .map(|(name, v)| positive_millis(name, &v))
        .transpose()?
        .unwrap_or(config.open_base);
    let open_max = var("SPARK_CIRCUIT_OPEN_MAX_MS")
        .map(|(name, v)| positive_millis(name, &v))
        .transpose()?
        .unwrap_or(config.open_max)
        .max(open);
    config = config.open_for(open, open_max);
    if let Some((name, v)) = var("SPARK_CIRCUIT_BACKOFF") {
        let factor = v
            .parse::<f64>()
            .ok()
            .filter(|f| (1.0..=100.0).contains(f))
            .ok_or_else(|| invalid(name, "must be a number from 1 to 100"))?;
        config = config.backoff(factor);
    }
    if let Some((name, v)) = var("SPARK_CIRCUIT_JITTER") {
        let fraction = v
            .parse::<f64>()
            .ok()
            .filter(|f| (0.0..1.0).contains(f))
            .ok_or_else(|| invalid(name, "must be a number from 0 up to 1"))?;
        config = config.jitter(fraction);
    }
    if let Some((name, v)) = var("SPARK_CIRCUIT_RETRY_AFTER_MAX_MS") {
        config = config.retry_after_max(millis(name, &v)?);
    }
    if let Some((name, v)) = var("SPARK_CIRCUIT_HALF_OPEN_PROBES") {
        let probes = count(name, &v)?;
        if probes > 1_000 {
            return Err(invalid(name, "must be at most 1000"));
        }
        config = config.half_open_probes(probes);
    }
    if let Some((name, v)) = var("SPARK_CIRCUIT_HALF_OPEN_MAX_WAIT_MS") {
        config = config.half_open_max_wait(positive_millis(name, &v)?);
    }
    config
        .validate()
        .map_err(|e| invalid("SPARK_CIRCUIT_*", &e.to_string()))?;
    Ok(Some(config))
}

fn flag(name: &'static str, v: &str) -> Result<bool, ConfigError> {
    match v.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(invalid(name, "must be true or false")),
    }
}

fn invalid(var: &'static str, reason: &str) -> ConfigError {
    ConfigError::Invalid {
        var,
        reason: reason.to_owned(),
    }
}

fn millis(name: &'static str, value: &str) -> Result<Duration, ConfigError> {
    value
        .parse::<u64>()
        .map(Duration::from_millis)
        .map_err(|_| invalid(name, "must be a whole number of milliseconds"))
}

/// Checks that `value` is an absolute `http` or `https` URL without a query.
pub(crate) fn parse_base_url(value: &str) -> Result<Uri, &'static str> {
    let uri: Uri = value.parse().map_err(|_| "is not a valid URL")?;
    let scheme_ok = uri.scheme() == Some(&Scheme::HTTP) || uri.scheme() == Some(&Scheme::HTTPS);
    if !scheme_ok || uri.authority().is_none() {
        return Err("must be an absolute http:// or https:// URL");
    }
    if uri.query().is_some() {
        return Err("must not have a query string");
    }
    Ok(uri)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from(vars: &[(&str, &str)]) -> Result<GatewayConfig, ConfigError> {
        GatewayConfig::from_lookup(|name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        })
    }

    #[test]
    fn health_memory_threshold() {
        assert_eq!(
            from(&[]).unwrap().health_memory_warn_bytes,
            Some(1024 * 1024 * 1024)
        );
        let c = from(&[("SPARK_HEALTH_MEMORY_WARN_MB", "512")]).unwrap();
        assert_eq!(c.health_memory_warn_bytes, Some(512 * 1024 * 1024));
        let c = from(&[("SPARK_HEALTH_MEMORY_WARN_MB", "off")]).unwrap();
        assert_eq!(c.health_memory_warn_bytes, None);
        for bad in ["0", "-1", "lots"] {
            let error = from(&[("SPARK_HEALTH_MEMORY_WARN_MB", bad)]).unwrap_err();
            assert!(
                error.to_string().contains("SPARK_HEALTH_MEMORY_WARN_MB"),
                "{error}"
            );
        }
    }

    #[test]
    fn defaults() {
        let c = from(&[]).unwrap();
        assert_eq!(c.addr, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(c.upstream_timeout, Duration::from_secs(60));
        assert_eq!(c.upstream_idle_timeout, Duration::from_secs(60));
        assert_eq!(c.upstream_timeout_status, StatusCode::GATEWAY_TIMEOUT);
        assert_eq!(c.shutdown_grace, Duration::from_secs(30));
        assert!(c.openai.base_url.is_none() && c.anthropic.base_url.is_none());
    }

    #[test]
    fn values_are_read() {
        let c = from(&[
            ("SPARK_ADDR", "0.0.0.0:0"),
            ("SPARK_UPSTREAM_TIMEOUT_MS", "1500"),
            ("SPARK_UPSTREAM_IDLE_TIMEOUT_MS", "250"),
            ("SPARK_UPSTREAM_TIMEOUT_STATUS", "503"),
            ("SPARK_MAX_BODY_BYTES", "1024"),
            ("SPARK_SHUTDOWN_GRACE_MS", "10"),
            ("SPARK_OPENAI_BASE_URL", "https://api.openai.com/v1"),
            ("SPARK_OPENAI_API_KEY", "sk-secret"),
            ("SPARK_ANTHROPIC_BASE_URL", "http://127.0.0.1:9000"),
            ("SPARK_SANITIZE_POLICY", "Flag"),
            ("SPARK_SANITIZE_REPORT_HEADER", "true"),
            ("SPARK_SANITIZE_MAX_CHARS", "50000"),
            ("SPARK_HEADER_TIMEOUT_MS", "700"),
            ("SPARK_BODY_TIMEOUT_MS", "800"),
        ])
        .unwrap();
        assert_eq!(c.addr.port(), 0);
        assert_eq!(c.upstream_timeout, Duration::from_millis(1500));
        assert_eq!(c.upstream_idle_timeout, Duration::from_millis(250));
        assert_eq!(c.upstream_timeout_status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(c.max_body_bytes, 1024);
        assert_eq!(c.shutdown_grace, Duration::from_millis(10));
        assert_eq!(c.openai.base_url.unwrap().path(), "/v1");
        assert_eq!(
            c.openai.api_key.unwrap().header_value(),
            &HeaderValue::from_static("sk-secret")
        );
        assert!(c.anthropic.api_key.is_none());
        assert_eq!(c.sanitize_policy, Policy::Flag);
        assert!(c.sanitize_report_header);
        assert_eq!(c.sanitize_max_chars, 50_000);
        assert_eq!(c.header_timeout, Duration::from_millis(700));
        assert_eq!(c.body_timeout, Duration::from_millis(800));
    }

    #[test]
    fn bad_values_name_the_variable_without_echoing_secrets() {
        let cases = [
            ("SPARK_ADDR", "localhost"),
            ("SPARK_UPSTREAM_TIMEOUT_MS", "-1"),
            ("SPARK_UPSTREAM_IDLE_TIMEOUT_MS", "1s"),
            ("SPARK_UPSTREAM_TIMEOUT_STATUS", "408"),
            ("SPARK_MAX_BODY_BYTES", "0"),
            ("SPARK_SHUTDOWN_GRACE_MS", "soon"),
            ("SPARK_OPENAI_BASE_URL", "api.openai.com/v1"),
            ("SPARK_ANTHROPIC_BASE_URL", "ftp://example.com"),
            ("SPARK_OPENAI_BASE_URL", "https://x.test/v1?key=1"),
            ("SPARK_OPENAI_API_KEY", "sk-SECRET\nret"),
            ("SPARK_SANITIZE_POLICY", "maybe"),
            ("SPARK_SANITIZE_REPORT_HEADER", "2"),
            ("SPARK_SANITIZE_MAX_CHARS", "0"),
            ("SPARK_HEADER_TIMEOUT_MS", "x"),
            ("SPARK_BODY_TIMEOUT_MS", "-5"),
            ("SPARK_CIRCUIT_ENABLED", "sometimes"),
            ("SPARK_CIRCUIT_WINDOW_CALLS", "0"),
            ("SPARK_CIRCUIT_WINDOW_MS", "0"),
            ("SPARK_CIRCUIT_MIN_CALLS", "-1"),
            ("SPARK_CIRCUIT_FAILURE_RATE", "1.5"),
            ("SPARK_CIRCUIT_CONSECUTIVE_FAILURES", "0"),
            ("SPARK_CIRCUIT_SLOW_CALL_MS", "fast"),
            ("SPARK_CIRCUIT_OPEN_MS", "0"),
            ("SPARK_CIRCUIT_OPEN_MAX_MS", "x"),
            ("SPARK_CIRCUIT_HALF_OPEN_PROBES", "1001"),
            ("SPARK_CIRCUIT_BACKOFF", "0.5"),
            ("SPARK_CIRCUIT_JITTER", "1"),
            ("SPARK_CIRCUIT_RETRY_AFTER_MAX_MS", "soon"),
            ("SPARK_CIRCUIT_HALF_OPEN_MAX_WAIT_MS", "0"),
        ];
        for (name, value) in cases {
            let err = from(&[(name, value)]).expect_err(name).to_string();
            assert!(err.starts_with(name), "{name}: {err}");
            assert!(!err.contains("SECRET"), "secret echoed: {err}");
        }
    }

    #[test]
    fn circuit_settings() {
        let c = from(&[]).unwrap();
        assert_eq!(c.circuit, Some(CircuitConfig::default()));
        let c = from(&[("SPARK_CIRCUIT_ENABLED", "false")]).unwrap();
        assert_eq!(c.circuit, None);
        let c = from(&[
            ("SPARK_CIRCUIT_WINDOW_MS", "30000"),
            ("SPARK_CIRCUIT_WINDOW_BUCKETS", "30"),
            ("SPARK_CIRCUIT_BACKOFF", "3"),
            ("SPARK_CIRCUIT_JITTER", "0"),
            ("SPARK_CIRCUIT_RETRY_AFTER_MAX_MS", "60000"),
            ("SPARK_CIRCUIT_MIN_CALLS", "4"),
            ("SPARK_CIRCUIT_FAILURE_RATE", "0.25"),
            ("SPARK_CIRCUIT_CONSECUTIVE_FAILURES", "off"),
            ("SPARK_CIRCUIT_SLOW_CALL_MS", "20000"),
            ("SPARK_CIRCUIT_SLOW_CALL_RATE", "0.75"),
            ("SPARK_CIRCUIT_OPEN_MS", "250"),
            ("SPARK_CIRCUIT_OPEN_MAX_MS", "1000"),
            ("SPARK_CIRCUIT_HALF_OPEN_PROBES", "1"),
            ("SPARK_CIRCUIT_HALF_OPEN_MAX_WAIT_MS", "5000"),
        ])
        .unwrap();
        let expected = CircuitConfig::default()
            .window(Window::Time {
                length: Duration::from_secs(30),
                buckets: 30,
            })
            .minimum_calls(4)
            .failure_rate(0.25)
            .no_consecutive_failures()
            .slow_calls(Duration::from_secs(20), 0.75)
            .open_for(Duration::from_millis(250), Duration::from_secs(1))
            .half_open_probes(1)
            .half_open_max_wait(Duration::from_secs(5))
            .backoff(3.0)
            .jitter(0.0)
            .retry_after_max(Duration::from_secs(60));
        assert_eq!(c.circuit, Some(expected));
        // A minimum the window cannot hold, or no condition left: refused.
        let err = from(&[
            ("SPARK_CIRCUIT_WINDOW_CALLS", "10"),
            ("SPARK_CIRCUIT_MIN_CALLS", "20"),
        ])
        .unwrap_err();
        assert!(err.to_string().starts_with("SPARK_CIRCUIT_"), "{err}");
        let err = from(&[
            ("SPARK_CIRCUIT_FAILURE_RATE", "off"),
            ("SPARK_CIRCUIT_CONSECUTIVE_FAILURES", "off"),
        ])
        .unwrap_err();
        assert!(err.to_string().starts_with("SPARK_CIRCUIT_"), "{err}");
    }

    #[test]
    fn keys_and_rate_limits() {
        let c = from(&[]).unwrap();
        assert!(c.dev_keys);
        assert_eq!(c.api_keys.len(), 1);
        assert!(c.rate_limit);
        assert_eq!(c.rate_limit_headers, HeaderStyle::Ietf);
        c.check_listen().unwrap();
        let network = from(&[("SPARK_ADDR", "0.0.0.0:8080")]).unwrap();
        let error = network.check_listen().unwrap_err();
        assert!(matches!(error, ConfigError::DevKeysOnNetwork(_)));
        assert!(!error.to_string().contains("spk_"));

        let dir = std::env::temp_dir().join(format!("spark-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("keys.toml");
        let key = crate::auth::ApiKey::generate();
        std::fs::write(
            &path,
            crate::auth::KeyEntry::new(&key, "a", "pro").to_toml(),
        )
        .unwrap();
        let path_text = path.to_str().unwrap();
        let c = from(&[
            ("SPARK_API_KEYS_FILE", path_text),
            ("SPARK_ADDR", "0.0.0.0:8080"),
            ("SPARK_RATE_LIMIT_ENABLED", "false"),
            ("SPARK_RATE_LIMIT_HEADERS", "Legacy"),
        ])
        .unwrap();
        assert!(!c.dev_keys);
        assert_eq!(c.api_keys.path(), Some(path.as_path()));
        c.check_listen().unwrap();
        assert!(!c.rate_limit);
        assert_eq!(c.rate_limit_headers, HeaderStyle::Legacy);
        std::fs::write(&path, "[[keys]]\nid = 1\n").unwrap();
        let broken = from(&[("SPARK_API_KEYS_FILE", path_text)]).unwrap_err();
        assert!(
            broken.to_string().starts_with("SPARK_API_KEYS_FILE:"),
            "{broken}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(from(&[("SPARK_API_KEYS_FILE", "/nonexistent/keys.toml")]).is_err());
        assert!(from(&[("SPARK_RATE_LIMIT_HEADERS", "x")]).is_err());
    }

    #[test]
    fn admin_keys() {
        assert!(from(&[]).unwrap().admin_key.is_none());
        let c = from(&[("SPARK_ADMIN_KEY", "an-admin-key-of-some-length")]).unwrap();
        let key = c.admin_key.unwrap();
        assert!(key.matches(b"an-admin-key-of-some-length"));
        assert!(!key.matches(b"an-admin-key-of-some-lengtH"));
        assert!(!key.matches(b""));
        assert!(!format!("{key:?}").contains("admin-key"));
        for bad in [
            "short",
            "has a space in it here",
            "non-ascii-é-key-long-enough",
        ] {
            let error = from(&[("SPARK_ADMIN_KEY", bad)]).unwrap_err();
            assert!(!error.to_string().contains(bad), "{error}");
        }
    }

    #[test]
    fn api_key_debug_is_redacted() {
        let key = ApiKey::new("sk-live-123").unwrap();
        assert!(key.header_value().is_sensitive());
        assert_eq!(format!("{key:?}"), "ApiKey(<redacted>)");
        assert!(ApiKey::new("  ").is_err());
    }
}
