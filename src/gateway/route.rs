//! The entry of a provider route: marks the request with its [`Provider`] and
//! turns away what no provider would accept, before any layer behind it runs.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use http::header::{ALLOW, CONTENT_TYPE, HeaderValue};
use http::{Method, Request, Response};
use pin_project_lite::pin_project;
use tower_layer::Layer;
use tower_service::Service;

use crate::body::ResponseBody;
use crate::marker::Provider;
use crate::problem::{Problem, RejectionKind};

/// Applies [`ProviderRoute`] to a provider's service.
#[derive(Clone, Debug)]
pub struct ProviderRouteLayer {
    provider: Provider,
}

impl ProviderRouteLayer {
    /// Marks requests with `provider`.
    pub fn new(provider: Provider) -> Self {
        Self { provider }
    }
}

impl<S> Layer<S> for ProviderRouteLayer {
    type Service = ProviderRoute<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ProviderRoute {
            inner,
            provider: self.provider.clone(),
        }
    }
}

/// The entry of a provider route.
///
/// It inserts the [`Provider`] marker, so every layer behind it can key on
/// the provider and answer in its error shape (and puts it into the
/// response extensions too, for layers in front of it), and rejects in that
/// shape:
/// 405 with `Allow: POST` for other methods, 415 unless the body is
/// `application/json`. Body size and JSON syntax are checked by the layers
/// behind it ([`limit`](crate::limit) and [`sanitize`](crate::sanitize) in
/// the gateway).
///
/// ```
/// use http::{Request, Response, StatusCode};
/// use spark_tower::gateway::ProviderRouteLayer;
/// use spark_tower::marker::Provider;
/// use tower::{Layer, ServiceExt, service_fn};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let route = ProviderRouteLayer::new(Provider::openai()).layer(service_fn(|request: Request<String>| async move {
///     let provider = request.extensions().get::<Provider>().unwrap().name().to_owned();
///     Ok::<_, std::convert::Infallible>(Response::new(provider))
/// }));
/// let request = Request::post("/v1/chat/completions")
///     .header("content-type", "text/plain")
///     .body(String::new())
///     .unwrap();
/// assert_eq!(route.oneshot(request).await.unwrap().status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct ProviderRoute<S> {
    inner: S,
    provider: Provider,
}

pin_project! {
    /// The response future of [`ProviderRoute`].
    #[project = ResponseFutureProj]
    pub enum ResponseFuture<F, B> {
        /// The inner service answers.
        Inner { #[pin] future: F, provider: Option<Provider> },
        /// The route rejected the request.
        Rejected { response: Option<Response<ResponseBody<B>>> },
    }
}

impl<F, B, E> Future for ResponseFuture<F, B>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<ResponseBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            ResponseFutureProj::Inner { future, provider } => {
                future.poll(cx).map(|result| {
                    result.map(|mut response| {
                        // For outer layers (error tracking, metrics), which
                        // run before the route marks the request.
                        if let Some(provider) = provider.take() {
                            response.extensions_mut().insert(provider);
                        }
                        response.map(ResponseBody::new)
                    })
                })
            }
            ResponseFutureProj::Rejected { response } => {
                Poll::Ready(Ok(response.take().expect("polled after completion")))
            }
        }
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for ProviderRoute<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
{
    type Response = Response<ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, ResBody>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        if let Err(problem) = check_head(&request) {
            let mut response = problem.to_response(Some(self.provider.api()));
            response.extensions_mut().insert(self.provider.clone());
            if problem.kind() == RejectionKind::MethodNotAllowed {
                response
                    .headers_mut()
                    .insert(ALLOW, HeaderValue::from_static("POST"));
            }
            return ResponseFuture::Rejected {
                response: Some(response),
            };
        }
        request.extensions_mut().insert(self.provider.clone());
        ResponseFuture::Inner {
            future: self.inner.call(request),
            provider: Some(self.provider.clone()),
        }
    }
}

fn check_head<B>(request: &Request<B>) -> Result<(), Problem> {
    if request.method() != Method::POST {
        return Err(Problem::new(RejectionKind::MethodNotAllowed)
            .with_detail("this route accepts POST only"));
    }
    if !is_json(request.headers().get(CONTENT_TYPE)) {
        return Err(Problem::new(RejectionKind::UnsupportedMediaType)
            .with_detail("the body must be sent with Content-Type: application/json"));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::problem::Rejection;
    use http::StatusCode;
    use http_body_util::BodyExt;
    use std::convert::Infallible;
    use tower::{ServiceExt, service_fn};

    async fn call(request: Request<String>) -> (StatusCode, Response<()>, serde_json::Value) {
        let echo = service_fn(|request: Request<String>| async move {
            let provider = request.extensions().get::<Provider>().unwrap().clone();
            let mut response = Response::new(http_body_util::Full::new(bytes::Bytes::from(
                request.into_body(),
            )));
            response.extensions_mut().insert(provider);
            Ok::<_, Infallible>(response)
        });
        let response = ProviderRouteLayer::new(Provider::anthropic())
            .layer(echo)
            .oneshot(request)
            .await
            .unwrap();
        let status = response.status();
        let (parts, body) = response.into_parts();
        let bytes = body.collect().await.unwrap().to_bytes();
        let json = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
        (status, Response::from_parts(parts, ()), json)
    }

    fn post(content_type: Option<&str>, body: &str) -> Request<String> {
        let mut builder = Request::post("/v1/messages");
        if let Some(ct) = content_type {
            builder = builder.header(CONTENT_TYPE, ct);
        }
        builder.body(body.to_owned()).unwrap()
    }

    #[tokio::test]
    async fn json_post_passes_unchanged_with_provider_marker() {
        let body = " {\"model\" : \"m\"} ";
        let (status, response, json) =
            call(post(Some("Application/JSON; charset=utf-8"), body)).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(json, serde_json::json!({"model": "m"}));
        assert_eq!(
            response.extensions().get::<Provider>(),
            Some(&Provider::anthropic())
        );
    }

    #[tokio::test]
    async fn rejections() {
        let cases = [
            (
                "get",
                Request::get("/v1/messages").body(String::new()).unwrap(),
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
                "json-ish",
                post(Some("application/jsonx"), "{}"),
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                RejectionKind::UnsupportedMediaType,
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
            assert_eq!(json["error"]["type"], "invalid_request_error", "{name}");
            if kind == RejectionKind::MethodNotAllowed {
                assert_eq!(response.headers()[ALLOW], "POST");
            }
        }
    }
}
