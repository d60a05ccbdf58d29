//! The entry of a provider route: marks the request with its [`Provider`] and
//! turns away what no provider would accept, before any layer behind it runs.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::Body;
use bytes::Bytes;
use http::header::{ALLOW, CONTENT_LENGTH, CONTENT_TYPE, HeaderValue};
use http::{Method, Request, Response};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use tower_layer::Layer;
use tower_service::Service;

use crate::marker::Provider;
use crate::problem::{Problem, RejectionKind};

/// Applies [`ProviderRoute`] to a provider's service.
#[derive(Clone, Debug)]
pub struct ProviderRouteLayer {
    provider: Provider,
    max_body_bytes: usize,
}

impl ProviderRouteLayer {
    /// Marks requests with `provider` and reads bodies of at most
    /// `max_body_bytes`.
    pub fn new(provider: Provider, max_body_bytes: usize) -> Self {
        Self {
            provider,
            max_body_bytes,
        }
    }
}

impl<S> Layer<S> for ProviderRouteLayer {
    type Service = ProviderRoute<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ProviderRoute {
            inner,
            provider: self.provider.clone(),
            max_body_bytes: self.max_body_bytes,
        }
    }
}

/// The entry of a provider route.
///
/// It inserts the [`Provider`] marker, then answers in the provider's error
/// shape: 405 with `Allow: POST` for other methods, 415 unless the body is
/// `application/json`, 413 past the body limit, 400 naming the line and column
/// of malformed JSON (or a body that is not a JSON object). The body reaches the
/// inner service complete and byte-for-byte unchanged.
#[derive(Clone, Debug)]
pub struct ProviderRoute<S> {
    inner: S,
    provider: Provider,
    max_body_bytes: usize,
}

impl<S> Service<Request<Body>> for ProviderRoute<S>
where
    S: Service<Request<Body>, Response = Response<Body>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send,
{
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        let api = Some(self.provider.api());
        if let Err(problem) = check_head(&request, self.max_body_bytes) {
            let mut response = problem.to_response::<Body>(api);
            if problem.kind() == RejectionKind::MethodNotAllowed {
                response
                    .headers_mut()
                    .insert(ALLOW, HeaderValue::from_static("POST"));
            }
            return Box::pin(std::future::ready(Ok(response)));
        }
        // The service that was made ready serves this call; its clone waits
        // for the next one.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let provider = self.provider.clone();
        let limit = self.max_body_bytes;
        Box::pin(async move {
            let (mut parts, body) = request.into_parts();
            let bytes = match read_json_object(body, limit).await {
                Ok(bytes) => bytes,
                Err(problem) => return Ok(problem.to_response(api)),
            };
            parts.extensions.insert(provider);
            inner
                .call(Request::from_parts(parts, Body::from(bytes)))
                .await
        })
    }
}

fn check_head(request: &Request<Body>, limit: usize) -> Result<(), Problem> {
    if request.method() != Method::POST {
        return Err(Problem::new(RejectionKind::MethodNotAllowed)
            .with_detail("this route accepts POST only"));
    }
    if !is_json(request.headers().get(CONTENT_TYPE)) {
        return Err(Problem::new(RejectionKind::UnsupportedMediaType)
            .with_detail("the body must be sent with Content-Type: application/json"));
    }
    let declared = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit as u64) {
        return Err(too_large(limit));
    }
    Ok(())
}

/// `application/json`, with or without parameters, in any letter case.
fn is_json(content_type: Option<&HeaderValue>) -> bool {
    let Some(value) = content_type.and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or("").trim();
    essence.eq_ignore_ascii_case("application/json")
}

fn too_large(limit: usize) -> Problem {
    Problem::new(RejectionKind::PayloadTooLarge)
        .with_detail(format!("the request body exceeds {limit} bytes"))
        .with_member("limit", limit)
}

async fn read_json_object(body: Body, limit: usize) -> Result<Bytes, Problem> {
    let bytes = match Limited::new(body, limit).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(error) if error.is::<LengthLimitError>() => return Err(too_large(limit)),
        Err(_) => {
            return Err(Problem::new(RejectionKind::BadRequest)
                .with_detail("the request body could not be read"));
        }
    };
    if let Err(error) = serde_json::from_slice::<serde::de::IgnoredAny>(&bytes) {
        // serde_json's syntax messages name the problem and its position,
        // never the input itself.
        return Err(Problem::new(RejectionKind::InvalidJson)
            .with_detail(error.to_string())
            .with_member("line", error.line())
            .with_member("column", error.column()));
    }
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(Problem::new(RejectionKind::InvalidJson)
            .with_detail("the request body must be a JSON object"));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::problem::Rejection;
    use http::StatusCode;
    use tower::{ServiceExt, service_fn};

    fn route() -> ProviderRoute<
        impl Service<Request<Body>, Response = Response<Body>, Error = Infallible, Future = impl Send>
        + Clone
        + Send
        + 'static,
    > {
        let echo = service_fn(|request: Request<Body>| async move {
            let provider = request.extensions().get::<Provider>().unwrap().clone();
            let body = request.into_body().collect().await.unwrap().to_bytes();
            let mut response = Response::new(Body::from(body));
            response.extensions_mut().insert(provider);
            Ok::<_, Infallible>(response)
        });
        ProviderRouteLayer::new(Provider::anthropic(), 64).layer(echo)
    }

    async fn call(request: Request<Body>) -> (StatusCode, Response<Body>, serde_json::Value) {
        let response = route().oneshot(request).await.unwrap();
        let status = response.status();
        let (parts, body) = response.into_parts();
        let bytes = body.collect().await.unwrap().to_bytes();
        let json = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
        (status, Response::from_parts(parts, Body::empty()), json)
    }

    fn post(content_type: Option<&str>, body: &'static str) -> Request<Body> {
        let mut builder = Request::post("/v1/messages");
        if let Some(ct) = content_type {
            builder = builder.header(CONTENT_TYPE, ct);
        }
        builder.body(Body::from(body)).unwrap()
    }

    #[tokio::test]
    async fn valid_body_passes_unchanged_with_provider_marker() {
        let body = " {\"model\" : \"m\",\"x\":[1, 2]} ";
        let (status, response, json) =
            call(post(Some("Application/JSON; charset=utf-8"), body)).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(json, serde_json::json!({"model": "m", "x": [1, 2]}));
        assert_eq!(
            response.extensions().get::<Provider>(),
            Some(&Provider::anthropic())
        );
    }

    #[tokio::test]
    async fn rejections() {
        let cases: [(&str, Request<Body>, StatusCode, RejectionKind); 6] = [
            (
                "get",
                Request::get("/v1/messages").body(Body::empty()).unwrap(),
                StatusCode::METHOD_NOT_ALLOWED,
                RejectionKind::MethodNotAllowed,
            ),
            (
                "no content type",
                post(None, "{}"),
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                RejectionKind::UnsupportedMediaType,
            ),
            (
                "text/plain",
                post(Some("text/plain"), "{}"),
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                RejectionKind::UnsupportedMediaType,
            ),
            (
                "malformed",
                post(Some("application/json"), "{\"a\":\n tru}"),
                StatusCode::BAD_REQUEST,
                RejectionKind::InvalidJson,
            ),
            (
                "not an object",
                post(Some("application/json"), "[1]"),
                StatusCode::BAD_REQUEST,
                RejectionKind::InvalidJson,
            ),
            (
                "too large",
                post(Some("application/json"), include_str!("route.rs")),
                StatusCode::PAYLOAD_TOO_LARGE,
                RejectionKind::PayloadTooLarge,
            ),
        ];
        for (name, request, status, kind) in cases {
            let (got, response, json) = call(request).await;
            assert_eq!(got, status, "{name}");
            assert_eq!(
                response
                    .extensions()
                    .get::<Rejection>()
                    .map(Rejection::kind),
                Some(kind),
                "{name}"
            );
            assert_eq!(
                response.headers()[CONTENT_TYPE],
                "application/problem+json",
                "{name}"
            );
            assert_eq!(json["type"], kind.type_uri(), "{name}");
            assert!(json["error"]["message"].is_string(), "{name}: {json}");
            if kind == RejectionKind::MethodNotAllowed {
                assert_eq!(response.headers()[ALLOW], "POST");
            }
        }
    }

    #[tokio::test]
    async fn malformed_json_names_the_position() {
        let (_, _, json) = call(post(Some("application/json"), "{\"a\":\n tru}")).await;
        assert_eq!(json["line"], 2);
        assert_eq!(json["column"], 5);
        assert!(json["detail"].as_str().unwrap().contains("line 2"));
    }

    #[tokio::test]
    async fn oversized_chunked_body_is_413() {
        let chunks = futures_util::stream::iter(
            std::iter::repeat_n(Bytes::from_static(b"{\"a\":\"xxxxxxxxxxxx\"}"), 8)
                .map(Ok::<_, Infallible>),
        );
        let request = Request::post("/v1/messages")
            .header(CONTENT_TYPE, "application/json")
            .body(Body::from_stream(chunks))
            .unwrap();
        let (status, _, json) = call(request).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(json["limit"], 64);
        assert_eq!(json["error"]["type"], "request_too_large");
    }
}
