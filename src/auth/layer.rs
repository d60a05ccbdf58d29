//! [`ApiKeyLayer`]: authenticates requests by API key.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::SystemTime;

use bytes::Bytes;
use http::header::{AUTHORIZATION, HeaderName};
use http::{HeaderMap, Request, Response, Uri};
use pin_project_lite::pin_project;
use tower_layer::Layer;
use tower_service::Service;

use super::credential::{Challenges, Failure, Found, Scheme, bearer, single};
use super::key::{ApiKey, KeyHash, PREFIX};
use super::store::{KeyRecord, KeyStore, StoreError};
use crate::body::ResponseBody;
use crate::marker::{Principal, ProviderApi};

/// The header the Anthropic SDK sends its key in.
pub const X_API_KEY: HeaderName = HeaderName::from_static("x-api-key");

/// Authenticates every request by API key and puts its [`Principal`] into
/// the request extensions.
///
/// The key is read from `Authorization: Bearer <key>` (the OpenAI SDK) or
/// `x-api-key: <key>` (the Anthropic SDK), never from the query string
/// unless [`query_parameter`](Self::query_parameter) allows it. Its format
/// and checksum are checked before the [`KeyStore`] is asked, and the
/// credential is removed from the request before it goes on, so it never
/// reaches the provider or a log.
///
/// | request | answer |
/// |---|---|
/// | no key | 401, `WWW-Authenticate: Bearer realm="…"` |
/// | malformed, unknown, revoked or expired key | 401, `… error="invalid_token"` (unknown and revoked alike) |
/// | two different keys (say a header and `x-api-key`) | 400, `… error="invalid_request"` |
/// | a key without a [required scope](Self::require_scope) | 403, `… error="insufficient_scope"` |
/// | the store fails | 503 |
///
/// Every answer is `application/problem+json`, in the provider's error
/// shape on provider routes; none holds the key.
///
/// ```
/// use http::{Request, Response, StatusCode};
/// use spark_tower::auth::{ApiKey, ApiKeyLayer, KeyEntry, MemoryKeyStore};
/// use spark_tower::marker::Principal;
/// use tower::{ServiceBuilder, ServiceExt, service_fn};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let key = ApiKey::generate();
/// let store = MemoryKeyStore::new([KeyEntry::new(&key, "alice", "pro")]).unwrap();
/// let service = ServiceBuilder::new()
///     .layer(ApiKeyLayer::new(store))
///     .service(service_fn(|request: Request<String>| async move {
///         assert!(request.headers().get("authorization").is_none());
///         let user = Principal::from_extensions(request.extensions()).unwrap().user().to_owned();
///         Ok::<_, std::convert::Infallible>(Response::new(user))
///     }));
///
/// let request = Request::builder()
///     .header("authorization", format!("Bearer {}", key.expose()))
///     .body(String::new())
///     .unwrap();
/// let response = service.clone().oneshot(request).await.unwrap();
/// assert_eq!(response.status(), StatusCode::OK);
///
/// let anonymous = service.oneshot(Request::new(String::new())).await.unwrap();
/// assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
/// assert_eq!(anonymous.headers()["www-authenticate"], r#"Bearer realm="spark-tower""#);
/// # }
/// ```
pub struct ApiKeyLayer<St> {
    store: St,
    config: Arc<Config>,
}

#[derive(Clone)]
struct Config {
    challenges: Challenges,
    query: Option<Box<str>>,
    pass_other_tokens: bool,
}

impl<St> ApiKeyLayer<St> {
    /// Authenticates against `store`, with the realm `spark-tower`.
    pub fn new(store: St) -> Self {
        Self {
            store,
            config: Arc::new(Config {
                challenges: Challenges::new(),
                query: None,
                pass_other_tokens: false,
            }),
        }
    }

    /// The realm named in `WWW-Authenticate` (quotes, backslashes and
    /// control characters are dropped).
    pub fn realm(mut self, realm: &str) -> Self {
        Arc::make_mut(&mut self.config).challenges.set_realm(realm);
        self
    }

    /// Also accepts the key in the query parameter `name` (for clients that
    /// cannot set headers). Off by default: URLs end up in logs and
    /// browser histories. The parameter is removed before the request goes
    /// on.
    pub fn query_parameter(mut self, name: &str) -> Self {
        Arc::make_mut(&mut self.config).query = Some(name.into());
        self
    }

    /// Refuses keys without `scope` with 403 (patterns ending in `*` in a
    /// key's scopes match, as [`Principal::has_scope`] says).
    pub fn require_scope(mut self, scope: &str) -> Self {
        Arc::make_mut(&mut self.config).challenges.require(scope);
        self
    }

    /// Lets a bearer token without the `spk_` prefix through untouched and
    /// unauthenticated, for a JWT layer inside this one to judge. Off by
    /// default: such a token is refused as malformed.
    pub fn pass_other_tokens(mut self, pass: bool) -> Self {
        Arc::make_mut(&mut self.config).pass_other_tokens = pass;
        self
    }
}

impl<St: Clone> Clone for ApiKeyLayer<St> {
    fn clone(&self) -> Self {
        Self {
            store: self.store.clone(),
            config: self.config.clone(),
        }
    }
}

impl<St: fmt::Debug> fmt::Debug for ApiKeyLayer<St> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKeyLayer")
            .field("store", &self.store)
            .field("challenges", &self.config.challenges)
            .field("query", &self.config.query)
            .field("pass_other_tokens", &self.config.pass_other_tokens)
            .finish()
    }
}

impl<S, St: Clone> Layer<S> for ApiKeyLayer<St> {
    type Service = ApiKeyAuth<S, St>;

    fn layer(&self, inner: S) -> Self::Service {
        ApiKeyAuth {
            inner,
            store: self.store.clone(),
            config: self.config.clone(),
        }
    }
}

/// The service of [`ApiKeyLayer`].
pub struct ApiKeyAuth<S, St> {
    inner: S,
    store: St,
    config: Arc<Config>,
}

impl<S: Clone, St: Clone> Clone for ApiKeyAuth<S, St> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            store: self.store.clone(),
            config: self.config.clone(),
        }
    }
}

impl<S: fmt::Debug, St: fmt::Debug> fmt::Debug for ApiKeyAuth<S, St> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKeyAuth")
            .field("inner", &self.inner)
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

fn from_headers(headers: &HeaderMap) -> (Found<'_>, bool) {
    let bearer = bearer(headers);
    let other_bearer =
        matches!(bearer, Found::Token(token) if !token.is_empty() && !token.starts_with(PREFIX));
    let header = match single(headers, &X_API_KEY) {
        None => Found::None,
        Some(Err(())) => Found::Conflicting,
        Some(Ok(value)) => value
            .to_str()
            .map_or(Found::Unreadable, |t| Found::Token(t.trim())),
    };
    (bearer.merge(header), other_bearer)
}

fn from_query<'a>(uri: &'a Uri, name: &str) -> Found<'a> {
    let mut found = Found::None;
    for pair in uri.query().unwrap_or("").split('&') {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        if key == name {
            found = found.merge(Found::Token(value));
        }
    }
    found
}

/// The key's hash, or why there is none to look up; `Ok(None)` passes the
/// request on untouched (another scheme's token, for an inner layer).
fn credential(config: &Config, request: &Request<impl Sized>) -> Result<Option<KeyHash>, Failure> {
    let (mut found, other_bearer) = from_headers(request.headers());
    if let Some(name) = &config.query {
        found = found.merge(from_query(request.uri(), name));
    }
    match found {
        Found::None => Err(Failure::Missing),
        Found::Conflicting => Err(Failure::Conflicting),
        Found::Unreadable => Err(Failure::Malformed(None)),
        Found::Token(_) if other_bearer && config.pass_other_tokens => Ok(None),
        Found::Token(token) => ApiKey::hash_of(token)
            .map(Some)
            .map_err(|error| Failure::Malformed(Some(error))),
    }
}

/// Judges a looked-up record; the principal to insert, or why not.
fn judge(
    config: &Config,
    found: Result<Option<KeyRecord>, StoreError>,
) -> Result<Principal, Failure> {
    let record = match found {
        Ok(Some(record)) if !record.disabled => record,
        Ok(_) => return Err(Failure::Invalid),
        Err(error) => {
            tracing::error!(%error, "API key lookup failed");
            return Err(Failure::Store);
        }
    };
    let principal = record.principal;
    if record.expires.is_some_and(|at| SystemTime::now() >= at) {
        tracing::info!(key_id = principal.key_id(), "expired API key refused");
        return Err(Failure::Expired);
    }
    if !config.challenges.allows(&principal) {
        tracing::info!(
            key_id = principal.key_id(),
            "API key without a required scope refused"
        );
        return Err(Failure::Scope);
    }
    Ok(principal)
}

/// Removes every credential the layer reads.
fn strip(config: &Config, request: &mut Request<impl Sized>) {
    let headers = request.headers_mut();
    headers.remove(AUTHORIZATION);
    headers.remove(X_API_KEY);
    if let Some(uri) = config
        .query
        .as_deref()
        .and_then(|name| without_parameter(request.uri(), name))
    {
        *request.uri_mut() = uri;
    }
}

/// `uri` without the query parameter `name`, or `None` when it has none.
fn without_parameter(uri: &Uri, name: &str) -> Option<Uri> {
    let query = uri.query()?;
    let is_key = |pair: &&str| pair.split_once('=').map_or(*pair, |(k, _)| k) == name;
    if !query.split('&').any(|pair| is_key(&pair)) {
        return None;
    }
    let kept: Vec<&str> = query.split('&').filter(|pair| !is_key(pair)).collect();
    let mut path_and_query = uri.path().to_owned();
    if !kept.is_empty() {
        path_and_query.push('?');
        path_and_query.push_str(&kept.join("&"));
    }
    let mut parts = uri.clone().into_parts();
    parts.path_and_query = Some(path_and_query.parse().ok()?);
    Uri::from_parts(parts).ok()
}

impl<S, St, ReqBody, ResBody> Service<Request<ReqBody>> for ApiKeyAuth<S, St>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone,
    St: KeyStore,
{
    type Response = Response<ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S, ReqBody, St::Lookup>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let api = ProviderApi::from_extensions(request.extensions());
        let hash = match credential(&self.config, &request) {
            Ok(Some(hash)) => hash,
            Ok(None) => {
                return ResponseFuture {
                    state: State::Inner {
                        future: self.inner.call(request),
                    },
                };
            }
            Err(failure) => return ResponseFuture::rejected(failure, &self.config, api),
        };
        // The service readied by `poll_ready` goes with the request; a clone
        // stays for the next one.
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        ResponseFuture {
            state: State::Lookup {
                lookup: self.store.lookup(&hash),
                pending: Some(Pending {
                    inner,
                    request,
                    config: self.config.clone(),
                }),
            },
        }
    }
}

struct Pending<S, B> {
    inner: S,
    request: Request<B>,
    config: Arc<Config>,
}

pin_project! {
    /// The response future of [`ApiKeyAuth`]: the store lookup, then the
    /// inner call; or a rejection. No boxing.
    pub struct ResponseFuture<S, B, L>
    where
        S: Service<Request<B>>,
    {
        #[pin]
        state: State<S, B, L>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<S, B, L>
    where
        S: Service<Request<B>>,
    {
        Lookup {
            #[pin]
            lookup: L,
            pending: Option<Pending<S, B>>,
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

impl<S: Service<Request<B>>, B, L> ResponseFuture<S, B, L> {
    fn rejected(failure: Failure, config: &Config, api: Option<ProviderApi>) -> Self {
        tracing::debug!(
            reason = failure.as_str(),
            "request without a usable API key"
        );
        Self {
            state: State::Rejected {
                response: Some(failure.response(&config.challenges, Scheme::ApiKey, api)),
            },
        }
    }
}

impl<S, B, L> fmt::Debug for ResponseFuture<S, B, L>
where
    S: Service<Request<B>>,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match &self.state {
            State::Lookup { .. } => "ResponseFuture::Lookup",
            State::Inner { .. } => "ResponseFuture::Inner",
            State::Rejected { .. } => "ResponseFuture::Rejected",
        })
    }
}

impl<S, B, L, ResBody> Future for ResponseFuture<S, B, L>
where
    S: Service<Request<B>, Response = Response<ResBody>>,
    L: Future<Output = Result<Option<KeyRecord>, StoreError>>,
{
    type Output = Result<Response<ResponseBody<ResBody>>, S::Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        loop {
            match self.as_mut().project().state.project() {
                StateProj::Lookup { lookup, pending } => {
                    let found = ready!(lookup.poll(cx));
                    let Pending {
                        mut inner,
                        mut request,
                        config,
                    } = pending.take().expect("polled after completion");
                    let next = match judge(&config, found) {
                        Ok(principal) => {
                            tracing::debug!(key_id = principal.key_id(), "API key accepted");
                            strip(&config, &mut request);
                            request.extensions_mut().insert(principal);
                            State::Inner {
                                future: inner.call(request),
                            }
                        }
                        Err(failure) => {
                            tracing::debug!(reason = failure.as_str(), "API key refused");
                            let api = ProviderApi::from_extensions(request.extensions());
                            State::Rejected {
                                response: Some(failure.response(
                                    &config.challenges,
                                    Scheme::ApiKey,
                                    api,
                                )),
                            }
                        }
                    };
                    self.as_mut().project().state.set(next);
                }
                StateProj::Inner { future } => {
                    return future.poll(cx).map_ok(|r| r.map(ResponseBody::new));
                }
                StateProj::Rejected { response } => {
                    let response = response.take().expect("polled after completion");
                    return Poll::Ready(Ok(response.map(ResponseBody::full)));
                }
            }
        }
    }
}
