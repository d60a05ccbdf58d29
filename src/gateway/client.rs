//! The provider client: a tower `Service` forwarding requests to a real
//! provider over HTTPS (rustls, no OpenSSL) with connection pooling.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use axum::body::Body;
use bytes::Bytes;
use http::header::{self, HeaderName, HeaderValue};
use http::uri::{PathAndQuery, Uri};
use http::{Request, Response, StatusCode};
use http_body::{Body as HttpBody, Frame, SizeHint};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use pin_project_lite::pin_project;
use tokio::time::{Instant, Sleep};

use super::config::ApiKey;
use crate::marker::ProviderApi;
use crate::problem::{Problem, RejectionKind};

/// The Anthropic API version sent when the client did not name one.
pub const DEFAULT_ANTHROPIC_VERSION: &str = "2023-06-01";

static ANTHROPIC_VERSION: HeaderName = HeaderName::from_static("anthropic-version");
static ANTHROPIC_BETA: HeaderName = HeaderName::from_static("anthropic-beta");
static X_API_KEY: HeaderName = HeaderName::from_static("x-api-key");
static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
static TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");
static TRACESTATE: HeaderName = HeaderName::from_static("tracestate");

/// Request headers passed from the client to every provider. Everything else,
/// the client's own credentials above all, stays behind.
static FORWARDED: [&HeaderName; 5] = [
    &header::CONTENT_TYPE,
    &header::ACCEPT,
    &X_REQUEST_ID,
    &TRACEPARENT,
    &TRACESTATE,
];

/// Response headers that belong to one connection and are not passed on.
static HOP_BY_HOP: [HeaderName; 5] = [
    header::CONNECTION,
    header::TRANSFER_ENCODING,
    header::TE,
    header::TRAILER,
    header::UPGRADE,
];

type HttpsClient = Client<HttpsConnector<HttpConnector>, Body>;

/// Forwards requests to one provider's upstream.
///
/// The request path is mapped to the provider's path under its base URL
/// ([`ProviderApi::upstream_path`]); the body is forwarded unchanged; the
/// provider's credential replaces the client's; `x-request-id`,
/// `traceparent`, `tracestate` and (for Anthropic) `anthropic-version` and
/// `anthropic-beta` pass through.
///
/// Two timeouts apply: to the response head, answered with a 504 problem (the
/// status is configurable), and between body chunks, which ends an idle stream
/// cleanly so long generations are never cut while they make progress. A
/// connection failure is a 502 problem. The provider's own error responses pass
/// through unchanged.
///
/// ```no_run
/// use spark_tower::gateway::ProviderClient;
/// use spark_tower::marker::ProviderApi;
///
/// let client = ProviderClient::builder(ProviderApi::OpenAi, "https://api.openai.com/v1".parse()?)
///     .head_timeout(std::time::Duration::from_secs(30))
///     .build();
/// # Ok::<_, Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct ProviderClient {
    inner: Arc<Inner>,
}

struct Inner {
    client: HttpsClient,
    api: ProviderApi,
    base: Uri,
    api_key: Option<ApiKey>,
    head_timeout: Duration,
    idle_timeout: Duration,
    timeout_status: StatusCode,
}

impl std::fmt::Debug for ProviderClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderClient")
            .field("api", &self.inner.api)
            .field("base", &self.inner.base)
            .field("api_key", &self.inner.api_key)
            .field("head_timeout", &self.inner.head_timeout)
            .field("idle_timeout", &self.inner.idle_timeout)
            .finish()
    }
}

/// Builds a [`ProviderClient`].
#[derive(Debug)]
pub struct ProviderClientBuilder {
    api: ProviderApi,
    base: Uri,
    api_key: Option<ApiKey>,
    head_timeout: Duration,
    idle_timeout: Duration,
    timeout_status: StatusCode,
}

impl ProviderClient {
    /// Starts a client for `api` at `base_url` (see
    /// [`UpstreamConfig::base_url`](super::UpstreamConfig::base_url) for the
    /// base-URL conventions).
    pub fn builder(api: ProviderApi, base_url: Uri) -> ProviderClientBuilder {
        ProviderClientBuilder {
            api,
            base: base_url,
            api_key: None,
            head_timeout: Duration::from_secs(60),
            idle_timeout: Duration::from_secs(60),
            timeout_status: StatusCode::GATEWAY_TIMEOUT,
        }
    }
}

impl ProviderClientBuilder {
    /// The provider credential to send.
    pub fn api_key(mut self, key: Option<ApiKey>) -> Self {
        self.api_key = key;
        self
    }

    /// Longest wait for the response head (default 60 s).
    pub fn head_timeout(mut self, timeout: Duration) -> Self {
        self.head_timeout = timeout;
        self
    }

    /// Longest gap between response body chunks (default 60 s).
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// The status of a head timeout (default 504; 503 is common too).
    pub fn timeout_status(mut self, status: StatusCode) -> Self {
        self.timeout_status = status;
        self
    }

    /// Builds the client and its connection pool.
    pub fn build(self) -> ProviderClient {
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(Some(self.head_timeout));
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_webpki_roots()
            .https_or_http()
            .enable_http1()
            .enable_http2()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(90))
            .build(https);
        ProviderClient {
            inner: Arc::new(Inner {
                client,
                api: self.api,
                base: self.base,
                api_key: self.api_key,
                head_timeout: self.head_timeout,
                idle_timeout: self.idle_timeout,
                timeout_status: self.timeout_status,
            }),
        }
    }
}

impl tower_service::Service<Request<Body>> for ProviderClient {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        let inner = self.inner.clone();
        Box::pin(async move { Ok(inner.forward(request).await) })
    }
}

impl Inner {
    async fn forward(&self, request: Request<Body>) -> Response<Body> {
        let api = Some(self.api);
        let upstream = match self.upstream_request(request) {
            Ok(upstream) => upstream,
            Err(problem) => return problem.to_response(api),
        };
        let response = match tokio::time::timeout(self.head_timeout, self.client.request(upstream))
            .await
        {
            Ok(Ok(response)) => response,
            Ok(Err(error)) => {
                let detail = if error.is_connect() {
                    "could not connect to the provider"
                } else {
                    "the connection to the provider failed"
                };
                tracing::warn!(provider_api = ?self.api, %error, "{detail}");
                return Problem::new(RejectionKind::UpstreamUnavailable)
                    .with_detail(detail)
                    .to_response(api);
            }
            Err(_) => {
                let ms = self.head_timeout.as_millis();
                tracing::warn!(provider_api = ?self.api, timeout_ms = %ms, "provider head timeout");
                return Problem::new(RejectionKind::UpstreamTimeout)
                    .with_status(self.timeout_status)
                    .with_detail(format!("the provider did not answer within {ms} ms"))
                    .to_response(api);
            }
        };
        let (mut parts, body) = response.into_parts();
        for name in &HOP_BY_HOP {
            parts.headers.remove(name);
        }
        let body = IdleTimeoutBody::new(body, self.idle_timeout);
        Response::from_parts(parts, Body::new(body))
    }

    fn upstream_request(&self, request: Request<Body>) -> Result<Request<Body>, Problem> {
        let (parts, body) = request.into_parts();
        let base_path = self.base.path().trim_end_matches('/');
        let path = self.api.upstream_path();
        let path_and_query = match parts.uri.query() {
            Some(query) => format!("{base_path}{path}?{query}"),
            None => format!("{base_path}{path}"),
        };
        let mut uri = self.base.clone().into_parts();
        uri.path_and_query =
            Some(PathAndQuery::try_from(path_and_query).map_err(|_| {
                Problem::new(RejectionKind::BadRequest).with_detail("invalid query")
            })?);
        let uri = Uri::from_parts(uri)
            .map_err(|_| Problem::new(RejectionKind::BadRequest).with_detail("invalid query"))?;

        let mut upstream = Request::builder()
            .method(parts.method)
            .uri(uri)
            .body(body)
            .map_err(|_| Problem::new(RejectionKind::Internal))?;
        let headers = upstream.headers_mut();
        for name in FORWARDED {
            if let Some(value) = parts.headers.get(name) {
                headers.insert(name.clone(), value.clone());
            }
        }
        match self.api {
            ProviderApi::OpenAi => {
                if let Some(key) = &self.api_key {
                    let mut bearer = Vec::with_capacity(7 + key.header_value().len());
                    bearer.extend_from_slice(b"Bearer ");
                    bearer.extend_from_slice(key.header_value().as_bytes());
                    let mut value = HeaderValue::from_bytes(&bearer)
                        .map_err(|_| Problem::new(RejectionKind::Internal))?;
                    value.set_sensitive(true);
                    headers.insert(header::AUTHORIZATION, value);
                }
            }
            ProviderApi::Anthropic => {
                if let Some(key) = &self.api_key {
                    headers.insert(X_API_KEY.clone(), key.header_value().clone());
                }
                let version = parts
                    .headers
                    .get(&ANTHROPIC_VERSION)
                    .cloned()
                    .unwrap_or(HeaderValue::from_static(DEFAULT_ANTHROPIC_VERSION));
                headers.insert(ANTHROPIC_VERSION.clone(), version);
                for beta in parts.headers.get_all(&ANTHROPIC_BETA) {
                    headers.append(ANTHROPIC_BETA.clone(), beta.clone());
                }
            }
        }
        Ok(upstream)
    }
}

pin_project! {
    /// A response body that ends cleanly when no chunk arrives for `idle`.
    struct IdleTimeoutBody<B> {
        #[pin]
        inner: B,
        #[pin]
        deadline: Sleep,
        idle: Duration,
        ended: bool,
    }
}

impl<B> IdleTimeoutBody<B> {
    fn new(inner: B, idle: Duration) -> Self {
        Self {
            inner,
            deadline: tokio::time::sleep(idle),
            idle,
            ended: false,
        }
    }
}

impl<B: HttpBody<Data = Bytes>> HttpBody for IdleTimeoutBody<B> {
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        let this = self.project();
        if *this.ended {
            return Poll::Ready(None);
        }
        match this.inner.poll_frame(cx) {
            Poll::Ready(Some(frame)) => {
                this.deadline.reset(Instant::now() + *this.idle);
                Poll::Ready(Some(frame))
            }
            Poll::Ready(None) => {
                *this.ended = true;
                Poll::Ready(None)
            }
            Poll::Pending => {
                ready!(this.deadline.poll(cx));
                *this.ended = true;
                tracing::warn!(
                    idle_ms = %this.idle.as_millis(),
                    "provider stream idle for too long; ending the response"
                );
                Poll::Ready(None)
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.ended || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::{BodyExt, StreamBody};

    #[tokio::test(start_paused = true)]
    async fn idle_body_ends_after_the_gap_but_not_while_chunks_flow() {
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<Frame<Bytes>, Infallible>>(4);
        let stream = futures_util::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|item| (item, rx))
        });
        let mut body = Box::pin(IdleTimeoutBody::new(
            StreamBody::new(stream),
            Duration::from_millis(100),
        ));
        let sender = tokio::spawn(async move {
            for chunk in ["a", "b", "c"] {
                tokio::time::sleep(Duration::from_millis(80)).await;
                tx.send(Ok(Frame::data(Bytes::from(chunk)))).await.unwrap();
            }
            tokio::time::sleep(Duration::from_secs(10)).await;
            drop(tx);
        });
        let start = Instant::now();
        let mut seen = Vec::new();
        while let Some(frame) = body.frame().await {
            seen.push(frame.unwrap().into_data().unwrap());
        }
        // 240 ms of chunks 80 ms apart passed a 100 ms idle limit; then the
        // 10 s silence ended the body after 100 ms.
        assert_eq!(seen, ["a", "b", "c"]);
        assert_eq!(start.elapsed(), Duration::from_millis(340));
        assert!(body.is_end_stream());
        sender.abort();
    }

    fn request_for(api: ProviderApi, base: &str, key: Option<&str>) -> Request<Body> {
        let client = ProviderClient::builder(api, base.parse().unwrap())
            .api_key(key.map(|k| ApiKey::new(k).unwrap()))
            .build();
        let request = Request::post(format!("{}?a=1", api.route()))
            .header("authorization", "Bearer client-secret")
            .header("x-api-key", "client-secret")
            .header("content-type", "application/json")
            .header("x-request-id", "req-1")
            .header("anthropic-beta", "tools-2024")
            .header("cookie", "session=1")
            .body(Body::from("{}"))
            .unwrap();
        client.inner.upstream_request(request).unwrap()
    }

    #[test]
    fn openai_request_mapping() {
        let r = request_for(
            ProviderApi::OpenAi,
            "https://api.openai.com/v1/",
            Some("sk-up"),
        );
        assert_eq!(
            r.uri().to_string(),
            "https://api.openai.com/v1/chat/completions?a=1"
        );
        assert_eq!(r.headers()["authorization"], "Bearer sk-up");
        assert!(r.headers()["authorization"].is_sensitive());
        assert_eq!(r.headers()["x-request-id"], "req-1");
        for absent in ["x-api-key", "cookie", "anthropic-beta", "anthropic-version"] {
            assert!(r.headers().get(absent).is_none(), "{absent}");
        }
    }

    #[test]
    fn anthropic_request_mapping() {
        let r = request_for(ProviderApi::Anthropic, "http://127.0.0.1:9/proxy", None);
        assert_eq!(
            r.uri().to_string(),
            "http://127.0.0.1:9/proxy/v1/messages?a=1"
        );
        assert!(r.headers().get("x-api-key").is_none(), "client key leaked");
        assert!(
            r.headers().get("authorization").is_none(),
            "client key leaked"
        );
        assert_eq!(r.headers()["anthropic-version"], DEFAULT_ANTHROPIC_VERSION);
        assert_eq!(r.headers()["anthropic-beta"], "tools-2024");
    }
}
