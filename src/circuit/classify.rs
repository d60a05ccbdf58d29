//! Which breaker a request goes through, and what its result counts as.

use http::{Request, Response, StatusCode};

use crate::marker::Provider;
use crate::problem::{Rejection, RejectionKind};

/// What a call's result counts as in its breaker's window.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// The provider answered as it should.
    Success,
    /// The provider failed: it counts towards tripping the breaker.
    Failure,
    /// Neither: not counted (the client's own fault, or another layer's
    /// rejection).
    Ignored,
}

impl Outcome {
    /// The outcome's name, as a metrics label.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Failure => "failure",
            Self::Ignored => "ignored",
        }
    }
}

/// Classifies the inner service's result.
///
/// Implemented for closures `Fn(Result<&Response<B>, &E>) -> Outcome`.
///
/// ```
/// use http::Response;
/// use spark_tower::circuit::{Classify, Outcome};
///
/// // Only 503s trip this breaker.
/// let classify = |result: Result<&Response<()>, &std::io::Error>| match result {
///     Ok(response) if response.status() == 503 => Outcome::Failure,
///     Ok(_) => Outcome::Success,
///     Err(_) => Outcome::Failure,
/// };
/// let response = Response::builder().status(500).body(()).unwrap();
/// assert_eq!(classify.classify(Ok(&response)), Outcome::Success);
/// ```
pub trait Classify<B, E> {
    /// The outcome of one call.
    fn classify(&self, result: Result<&Response<B>, &E>) -> Outcome;
}

impl<B, E, F> Classify<B, E> for F
where
    F: Fn(Result<&Response<B>, &E>) -> Outcome,
{
    fn classify(&self, result: Result<&Response<B>, &E>) -> Outcome {
        self(result)
    }
}

/// The default classification for provider traffic.
///
/// Failures: errors of the inner service (transport errors, timeouts),
/// 5xx (Anthropic's 529 "overloaded" included) and 429. Other statuses are
/// successes: a 4xx is the client's fault. A response carrying another
/// spark-tower layer's [`Rejection`] (auth, rate limit, sanitize, body
/// limit, another breaker) is ignored, except the provider client's own
/// `upstream-unavailable`, `upstream-timeout` and `internal`, which are
/// failures of the provider or on the way to it.
#[derive(Clone, Copy, Debug, Default)]
pub struct DefaultClassifier;

impl<B, E> Classify<B, E> for DefaultClassifier {
    fn classify(&self, result: Result<&Response<B>, &E>) -> Outcome {
        let Ok(response) = result else {
            return Outcome::Failure;
        };
        if let Some(rejection) = response.extensions().get::<Rejection>() {
            return match rejection.kind() {
                RejectionKind::UpstreamUnavailable
                | RejectionKind::UpstreamTimeout
                | RejectionKind::Internal => Outcome::Failure,
                _ => Outcome::Ignored,
            };
        }
        let status = response.status();
        if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
            Outcome::Failure
        } else {
            Outcome::Success
        }
    }
}

/// Picks the breaker a request goes through: its key, or `None` to pass
/// the request through without one.
///
/// Implemented for closures `Fn(&Request<B>) -> Option<K>` with `K:
/// AsRef<str>`; a key is looked up without allocating, and copied once,
/// when its breaker is created. A key is echoed in the 503 body and in
/// metric labels, so derive it from routing, not from secrets; keys drawn
/// from request data are bounded by
/// [`max_keys`](super::CircuitBreakerBuilder::max_keys).
///
/// ```
/// use http::Request;
/// use spark_tower::circuit::KeyExtractor;
///
/// // One breaker per upstream host.
/// let by_host = |request: &Request<()>| {
///     request.headers().get("x-upstream").and_then(|v| v.to_str().ok()).map(str::to_owned)
/// };
/// let request = Request::builder().header("x-upstream", "eu-1").body(()).unwrap();
/// assert_eq!(by_host.key(&request).as_deref(), Some("eu-1"));
/// ```
pub trait KeyExtractor<B> {
    /// The key type.
    type Key: AsRef<str>;

    /// The key of `request`'s breaker.
    fn key(&self, request: &Request<B>) -> Option<Self::Key>;
}

impl<B, K, F> KeyExtractor<B> for F
where
    F: Fn(&Request<B>) -> Option<K>,
    K: AsRef<str>,
{
    type Key = K;

    fn key(&self, request: &Request<B>) -> Option<K> {
        self(request)
    }
}

/// The default key: the name of the [`Provider`] marker a route put in the
/// request extensions. Requests without one pass through.
#[derive(Clone, Copy, Debug, Default)]
pub struct ProviderKey;

impl<B> KeyExtractor<B> for ProviderKey {
    type Key = Provider;

    fn key(&self, request: &Request<B>) -> Option<Provider> {
        request.extensions().get::<Provider>().cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(code: u16) -> Response<()> {
        Response::builder().status(code).body(()).unwrap()
    }

    #[test]
    fn default_classification() {
        let c = DefaultClassifier;
        let classify = |r: &Response<()>| Classify::<(), ()>::classify(&c, Ok(r));
        for (code, outcome) in [
            (200, Outcome::Success),
            (204, Outcome::Success),
            (400, Outcome::Success),
            (401, Outcome::Success),
            (404, Outcome::Success),
            (429, Outcome::Failure),
            (500, Outcome::Failure),
            (502, Outcome::Failure),
            (503, Outcome::Failure),
            (529, Outcome::Failure),
        ] {
            assert_eq!(classify(&status(code)), outcome, "{code}");
        }
        assert_eq!(
            Classify::<(), &str>::classify(&c, Err(&"connection reset")),
            Outcome::Failure
        );
        for (kind, outcome) in [
            (RejectionKind::RateLimited, Outcome::Ignored),
            (RejectionKind::InputRejected, Outcome::Ignored),
            (RejectionKind::Unauthorized, Outcome::Ignored),
            (RejectionKind::CircuitOpen, Outcome::Ignored),
            (RejectionKind::UpstreamUnavailable, Outcome::Failure),
            (RejectionKind::UpstreamTimeout, Outcome::Failure),
        ] {
            let mut response = status(kind.default_status().as_u16());
            response.extensions_mut().insert(Rejection::new(kind, ""));
            assert_eq!(classify(&response), outcome, "{kind}");
        }
    }

    #[test]
    fn provider_key_reads_the_marker() {
        let mut request = Request::new(());
        assert!(ProviderKey.key(&request).is_none());
        request.extensions_mut().insert(Provider::anthropic());
        assert_eq!(ProviderKey.key(&request).unwrap().as_ref(), "anthropic");
    }
}
