//! [`ModelScopeLayer`]: 403 for a model the principal may not use.

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use http::header::WWW_AUTHENTICATE;
use http::request::Parts;
use http::{HeaderValue, Request, Response};
use http_body::Body;
use http_body_util::combinators::Collect;
use http_body_util::{BodyExt, Limited};
use pin_project_lite::pin_project;
use serde::Deserialize;
use tower_layer::Layer;
use tower_service::Service;

use super::credential::{DEFAULT_REALM, quotable};
use crate::body::{RequestBody, ResponseBody};
use crate::marker::{Principal, ProviderApi};
use crate::problem::{Problem, RejectionKind};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The largest body read for its `model`, unless set otherwise.
pub const DEFAULT_MAX_SCOPE_BODY: usize = 4 * 1024 * 1024;

/// Answers 403 when the request's `model` is outside the [`Principal`]'s
/// `model:` scopes (see [`Principal::allows_model`]).
///
/// Put it inside the authenticating layer ([`ApiKeyLayer`](super::ApiKeyLayer)
/// or the JWT layer) and after body limits. Only requests whose principal
/// restricts models are read; the others pass untouched. A restricted
/// principal's request must name its model in a JSON body's `model`
/// member; one that does not is refused too, since it cannot be checked.
///
/// ```
/// use bytes::Bytes;
/// use http::{Request, Response, StatusCode};
/// use http_body_util::Full;
/// use spark_tower::auth::ModelScopeLayer;
/// use spark_tower::body::RequestBody;
/// use spark_tower::marker::Principal;
/// use tower::{ServiceBuilder, ServiceExt, service_fn};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let service = ServiceBuilder::new()
///     .layer(ModelScopeLayer::new())
///     .service(service_fn(|_: Request<RequestBody<Full<Bytes>>>| async {
///         Ok::<_, std::convert::Infallible>(Response::new(String::new()))
///     }));
/// let ask = |model: &str| {
///     let body = format!(r#"{{"model":"{model}","messages":[]}}"#);
///     let mut request = Request::new(Full::new(Bytes::from(body)));
///     let scoped = Principal::new("u", "k", "free", ["model:gpt-4o-mini"]);
///     request.extensions_mut().insert(scoped);
///     request
/// };
/// let allowed = service.clone().oneshot(ask("gpt-4o-mini")).await.unwrap();
/// assert_eq!(allowed.status(), StatusCode::OK);
/// let denied = service.oneshot(ask("o3")).await.unwrap();
/// assert_eq!(denied.status(), StatusCode::FORBIDDEN);
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct ModelScopeLayer {
    config: Arc<ScopeConfig>,
}

#[derive(Clone, Debug)]
struct ScopeConfig {
    max_body: usize,
    realm: String,
}

impl ModelScopeLayer {
    /// Reads bodies of up to 4 MiB.
    pub fn new() -> Self {
        Self {
            config: Arc::new(ScopeConfig {
                max_body: DEFAULT_MAX_SCOPE_BODY,
                realm: DEFAULT_REALM.to_owned(),
            }),
        }
    }

    /// The realm named in `WWW-Authenticate` (quotes, backslashes and
    /// control characters are dropped).
    pub fn realm(mut self, realm: &str) -> Self {
        Arc::make_mut(&mut self.config).realm = quotable(realm);
        self
    }

    /// The largest body read; a larger one from a restricted principal is
    /// answered 413.
    pub fn max_body_bytes(mut self, bytes: usize) -> Self {
        Arc::make_mut(&mut self.config).max_body = bytes;
        self
    }
}

impl Default for ModelScopeLayer {
    fn default() -> Self {
        Self::new()
    }
}

impl<S> Layer<S> for ModelScopeLayer {
    type Service = ModelScope<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ModelScope {
            inner,
            config: self.config.clone(),
        }
    }
}

/// The service of [`ModelScopeLayer`].
#[derive(Clone, Debug)]
pub struct ModelScope<S> {
    inner: S,
    config: Arc<ScopeConfig>,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for ModelScope<S>
where
    S: Service<Request<RequestBody<ReqBody>>, Response = Response<ResBody>> + Clone,
    ReqBody: Body<Data = Bytes>,
    ReqBody::Error: Into<BoxError>,
{
    type Response = Response<ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = ScopeFuture<S, ReqBody>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let restricted = Principal::from_extensions(request.extensions())
            .is_some_and(Principal::restricts_models);
        let (parts, body) = request.into_parts();
        if !restricted {
            let request = Request::from_parts(parts, RequestBody::original(body));
            return ScopeFuture {
                state: State::Inner {
                    future: self.inner.call(request),
                },
            };
        }
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        ScopeFuture {
            state: State::Reading {
                body: Limited::new(body, self.config.max_body).collect(),
                pending: Some((inner, parts, self.config.clone())),
            },
        }
    }
}

pin_project! {
    /// The response future of [`ModelScope`]: reading the body of a
    /// restricted principal's request, then the inner call; or a refusal.
    pub struct ScopeFuture<S, B>
    where
        S: Service<Request<RequestBody<B>>>,
        B: Body,
        B::Error: Into<BoxError>,
    {
        #[pin]
        state: State<S, B>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<S, B>
    where
        S: Service<Request<RequestBody<B>>>,
        B: Body,
        B::Error: Into<BoxError>,
    {
        Reading {
            #[pin]
            body: Collect<Limited<B>>,
            pending: Option<(S, Parts, Arc<ScopeConfig>)>,
        },
        Inner {
            #[pin]
            future: S::Future,
        },
        Rejected {
            response: Option<Response<Bytes>>,
        },
    }
}

impl<S, B> fmt::Debug for ScopeFuture<S, B>
where
    S: Service<Request<RequestBody<B>>>,
    B: Body,
    B::Error: Into<BoxError>,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match &self.state {
            State::Reading { .. } => "ScopeFuture::Reading",
            State::Inner { .. } => "ScopeFuture::Inner",
            State::Rejected { .. } => "ScopeFuture::Rejected",
        })
    }
}

#[derive(Deserialize)]
struct Model<'a> {
    #[serde(borrow)]
    model: Option<Cow<'a, str>>,
}

/// Judges a restricted principal's body: `None` to pass it on, else the
/// refusal.
fn judge(
    principal: &Principal,
    body: &[u8],
    api: Option<ProviderApi>,
    realm: &str,
) -> Option<Response<Bytes>> {
    let model = serde_json::from_slice::<Model<'_>>(body)
        .ok()
        .and_then(|m| m.model);
    let detail = match model.as_deref() {
        Some(model) if principal.allows_model(model) => return None,
        Some(_) => "this credential may not use the requested model",
        None => "this credential may use only some models, and the request names none",
    };
    tracing::info!(
        key_id = principal.key_id(),
        "model outside the credential's scopes refused"
    );
    let model: String = model
        .as_deref()
        .unwrap_or_default()
        .chars()
        .take(200)
        .collect();
    let mut response = Problem::new(RejectionKind::Forbidden)
        .with_detail(detail)
        .with_member("model", model.as_str())
        .to_response::<Bytes>(api);
    // The scope the request would need, when the model's name fits a
    // quoted string as it is.
    let needed = quotable(&model);
    let challenge = if needed.is_empty() || needed.len() != model.len() {
        format!("Bearer realm=\"{realm}\", error=\"insufficient_scope\"")
    } else {
        format!("Bearer realm=\"{realm}\", error=\"insufficient_scope\", scope=\"model:{needed}\"")
    };
    if let Ok(value) = HeaderValue::from_str(&challenge) {
        response.headers_mut().insert(WWW_AUTHENTICATE, value);
    }
    Some(response)
}

impl<S, B, ResBody> Future for ScopeFuture<S, B>
where
    S: Service<Request<RequestBody<B>>, Response = Response<ResBody>>,
    B: Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    type Output = Result<Response<ResponseBody<ResBody>>, S::Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        loop {
            let next = match self.as_mut().project().state.project() {
                StateProj::Reading { body, pending } => {
                    let read = ready!(body.poll(cx));
                    let (mut inner, parts, config) =
                        pending.take().expect("polled after completion");
                    let api = ProviderApi::from_extensions(&parts.extensions);
                    match read {
                        Ok(collected) => {
                            let bytes = collected.to_bytes();
                            let principal = Principal::from_extensions(&parts.extensions)
                                .expect("only restricted principals' bodies are read");
                            match judge(principal, &bytes, api, &config.realm) {
                                Some(response) => State::Rejected {
                                    response: Some(response),
                                },
                                None => State::Inner {
                                    future: inner
                                        .call(Request::from_parts(parts, RequestBody::full(bytes))),
                                },
                            }
                        }
                        Err(error) => {
                            let problem = Problem::body_read_failed(&*error, config.max_body);
                            State::Rejected {
                                response: Some(problem.to_response(api)),
                            }
                        }
                    }
                }
                StateProj::Inner { future } => {
                    return future.poll(cx).map_ok(|r| r.map(ResponseBody::new));
                }
                StateProj::Rejected { response } => {
                    let response = response.take().expect("polled after completion");
                    return Poll::Ready(Ok(response.map(ResponseBody::full)));
                }
            };
            self.as_mut().project().state.set(next);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use http::StatusCode;
    use http_body_util::Full;
    use tower::{ServiceExt, service_fn};

    use super::*;
    use crate::marker::Provider;

    async fn ask(principal: Option<Principal>, body: &str) -> (StatusCode, String, String) {
        let service = ModelScopeLayer::new().max_body_bytes(200).layer(service_fn(
            |request: Request<RequestBody<Full<Bytes>>>| async move {
                let body = request.into_body().collect().await.unwrap().to_bytes();
                Ok::<_, Infallible>(Response::new(Full::new(body)))
            },
        ));
        let mut request = Request::new(Full::new(Bytes::from(body.to_owned())));
        request.extensions_mut().insert(Provider::openai());
        if let Some(principal) = principal {
            request.extensions_mut().insert(principal);
        }
        let response = service.oneshot(request).await.unwrap();
        let status = response.status();
        let challenge = response
            .headers()
            .get(WWW_AUTHENTICATE)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (status, challenge, String::from_utf8(body.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn restricted_principals_are_held_to_their_models() {
        let scoped = || Some(Principal::new("u", "k", "t", ["model:claude-*"]));
        let open = || Some(Principal::new("u", "k", "t", ["files:read"]));
        let body = |model: &str| format!(r#"{{"model":"{model}","max_tokens":1}}"#);
        let cases = [
            (
                "allowed model",
                scoped(),
                body("claude-sonnet-4-5"),
                StatusCode::OK,
            ),
            (
                "other model",
                scoped(),
                body("gpt-4o"),
                StatusCode::FORBIDDEN,
            ),
            (
                "no model",
                scoped(),
                r#"{"messages":[]}"#.to_owned(),
                StatusCode::FORBIDDEN,
            ),
            (
                "not JSON",
                scoped(),
                "model=claude".to_owned(),
                StatusCode::FORBIDDEN,
            ),
            (
                "escaped name",
                scoped(),
                r#"{"model":"claude-\u0073onnet"}"#.to_owned(),
                StatusCode::OK,
            ),
            (
                "too large",
                scoped(),
                format!("{{\"model\":\"{}\"}}", "x".repeat(300)),
                StatusCode::PAYLOAD_TOO_LARGE,
            ),
            ("unrestricted", open(), body("anything"), StatusCode::OK),
            (
                "no principal",
                None,
                "not even JSON".to_owned(),
                StatusCode::OK,
            ),
        ];
        for (name, principal, request, status) in cases {
            let (got, challenge, text) = ask(principal, &request).await;
            assert_eq!(got, status, "{name}: {text}");
            match status {
                StatusCode::OK => assert_eq!(text, request, "{name}: body forwarded intact"),
                StatusCode::FORBIDDEN => {
                    assert!(
                        challenge.starts_with(
                            r#"Bearer realm="spark-tower", error="insufficient_scope""#
                        ),
                        "{name}: {challenge}"
                    );
                    if name == "other model" {
                        assert!(
                            challenge.ends_with(r#", scope="model:gpt-4o""#),
                            "{challenge}"
                        );
                    }
                    if name == "a model name with a quote" {
                        assert!(!challenge.contains("scope="), "{challenge}");
                    }
                    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
                    assert_eq!(json["error"]["code"], "insufficient_permissions", "{name}");
                }
                _ => {}
            }
        }
    }
}
