//! [`RateLimitLayer`]: its builder, service and response future.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker, ready};
use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use http::header::{CONTENT_LENGTH, HeaderName, HeaderValue, RETRY_AFTER, TRANSFER_ENCODING};
use http::request::Parts;
use http::{HeaderMap, Request, Response};
use http_body::Body;
use http_body_util::combinators::Collect;
use http_body_util::{BodyExt, Limited};
use pin_project_lite::pin_project;
use tower_layer::Layer;
use tower_service::Service;

use super::key::{KeyExtractor, UserKey};
use super::quota::{MAX_LIMITS, Policy, Unit};
use super::settle::{SettleBody, Settlement, Sink};
use super::store::{Costs, Decision, MemoryStore, RateStore, RateStoreError};
use crate::body::{RequestBody, ResponseBody};
use crate::marker::{Principal, ProviderApi};
use crate::problem::{Problem, RejectionKind};
use crate::usage::estimate_input_tokens;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The largest body read to estimate tokens, unless set otherwise.
pub const DEFAULT_MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// The key requests without one are counted under together.
pub const ANONYMOUS: &str = "-";

/// One quota of a key, as [`RateLimitLayer::peek`] reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct QuotaView {
    /// The quota's name, as headers give it.
    pub name: String,
    /// What it counts.
    pub unit: Unit,
    /// Its definition.
    pub quota: super::quota::Quota,
    /// Where it stands.
    pub state: super::store::LimitState,
}

/// Which rate-limit fields responses carry.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum HeaderStyle {
    /// `RateLimit-Policy` and `RateLimit`, as
    /// draft-ietf-httpapi-ratelimit-headers-11 defines them (the default).
    #[default]
    Ietf,
    /// `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset`
    /// for the request quota closest to running out.
    Legacy,
    /// None.
    None,
}

/// A tier's policy with what each request derives from it, built once.
#[derive(Debug)]
pub(crate) struct Tier {
    pub(crate) policy: Policy,
    /// 1 for each request quota, 0 for token quotas (filled per request).
    request_costs: Costs,
    has_tokens: bool,
    /// The `RateLimit-Policy` value.
    policy_field: Option<HeaderValue>,
}

impl Tier {
    fn new(policy: Policy) -> Self {
        let mut request_costs = [0; MAX_LIMITS];
        for (cost, limit) in request_costs.iter_mut().zip(policy.limits()) {
            *cost = u64::from(limit.unit() == Unit::Requests);
        }
        let items: Vec<String> = policy
            .limits()
            .iter()
            .map(|limit| {
                let quota = limit.quota();
                // Whole seconds, rounded up (a 1.5 s window is `w=2`).
                let period = quota.period();
                let window = period.as_secs() + u64::from(period.subsec_nanos() > 0);
                let unit = match limit.unit() {
                    Unit::Requests => "",
                    Unit::Tokens => ";qu=\"tokens\"",
                };
                format!("\"{}\";q={};w={window}{unit}", limit.name(), quota.count())
            })
            .collect();
        let policy_field = (!items.is_empty()).then(|| {
            HeaderValue::from_str(&items.join(", ")).expect("policy names are visible ASCII")
        });
        Self {
            has_tokens: policy.has_tokens(),
            policy,
            request_costs,
            policy_field,
        }
    }
}

impl Tier {
    /// The costs of a request whose input is estimated at `estimate`
    /// tokens: one for each request quota; for each token quota the
    /// estimate, capped at the quota's burst (a larger request is admitted
    /// when the quota is whole, and settling charges the rest).
    fn costs_for(&self, estimate: u64) -> Costs {
        let mut costs = self.request_costs;
        for (cost, limit) in costs.iter_mut().zip(self.policy.limits()) {
            if limit.unit() == Unit::Tokens {
                *cost = estimate.min(u64::from(limit.quota().burst()));
            }
        }
        costs
    }
}

/// What every service of one layer shares.
struct Shared<St> {
    store: St,
    default: Arc<Tier>,
    tiers: HashMap<Box<str>, Arc<Tier>>,
    users: HashMap<Box<str>, Arc<Tier>>,
    headers: HeaderStyle,
    max_body: usize,
    stream_usage: bool,
}

impl<St> Shared<St> {
    /// The tier of a request: the user's override, else the principal's
    /// tier, else the default.
    fn tier<B>(&self, key: &str, request: &Request<B>) -> &Arc<Tier> {
        let tier = Principal::from_extensions(request.extensions()).map(Principal::tier);
        self.tier_named(key, tier)
    }

    /// The tier of `key`: its override, else the tier `tier`, else the
    /// default.
    fn tier_named(&self, key: &str, tier: Option<&str>) -> &Arc<Tier> {
        self.users
            .get(key)
            .or_else(|| tier.and_then(|t| self.tiers.get(t)))
            .unwrap_or(&self.default)
    }
}

impl<St: RateStore> Sink for Shared<St> {
    fn settle(&self, key: &str, policy: &Policy, limit: usize, units: i64) {
        self.store.settle(key, policy, limit, units);
    }
}

/// Holds each user (or other key) to request and token quotas: GCRA per
/// key, per tier, several windows at once.
///
/// Each request is counted under a key from a [`KeyExtractor`] (by default
/// the [`Principal`]'s user, so put it inside the authenticating layer)
/// and held to its tier's [`Policy`]: a per-user override, else the
/// principal's tier, else the default policy.
///
/// - **Requests** cost one unit of every request quota.
/// - **Tokens**: when the policy has token quotas, the body is read (up to
///   [`max_body_bytes`](RateLimitBuilder::max_body_bytes)), its input
///   tokens estimated ([`estimate_input_tokens`](super::estimate_input_tokens))
///   and reserved; when the response reports `usage` (a JSON body or the
///   events of a stream), the difference is refunded or charged. A stream
///   dropped before its usage settles the reservation plus one output
///   token per event seen; an error answer (4xx, 5xx, or a service error)
///   refunds the whole reservation. For OpenAI streams that did not ask for
///   usage, the layer asks the provider (`stream_options.include_usage`)
///   and removes the usage-only chunk before the client sees it.
/// - **Refusals**: 429 `application/problem+json` with `Retry-After` (whole
///   seconds until the same request would be admitted); a refused request
///   is not charged.
/// - **Fields**: admitted and refused responses carry `RateLimit-Policy`
///   and `RateLimit` ([`HeaderStyle`]); token quotas are marked
///   `qu="tokens"`.
///
/// Place it after the layers that reject bad requests (auth, body limits,
/// input screening), so requests they turn away consume no quota.
///
/// ```
/// use std::num::NonZeroU32;
/// use http::{Request, Response, StatusCode};
/// use spark_tower::body::RequestBody;
/// use spark_tower::marker::Principal;
/// use spark_tower::rate_limit::{Policy, Quota, RateLimitLayer};
/// use tower::{ServiceBuilder, ServiceExt, service_fn};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let n = |n| NonZeroU32::new(n).unwrap();
/// let service = ServiceBuilder::new()
///     .layer(
///         RateLimitLayer::builder()
///             .tier("free", Policy::new().requests(Quota::per_minute(n(1))))
///             .build(),
///     )
///     .service(service_fn(|_: Request<RequestBody<String>>| async {
///         Ok::<_, std::convert::Infallible>(Response::new(String::new()))
///     }));
///
/// let request = || {
///     let mut request = Request::new(String::new());
///     let alice = Principal::new("alice", "key_1", "free", Vec::<String>::new());
///     request.extensions_mut().insert(alice);
///     request
/// };
/// let first = service.clone().oneshot(request()).await.unwrap();
/// assert_eq!(first.status(), StatusCode::OK);
/// assert_eq!(first.headers()["ratelimit"], r#""requests-per-minute";r=0;t=60"#);
/// let second = service.oneshot(request()).await.unwrap();
/// assert_eq!(second.status(), StatusCode::TOO_MANY_REQUESTS);
/// assert_eq!(second.headers()["retry-after"], "60");
/// # }
/// ```
pub struct RateLimitLayer<St = MemoryStore, K = UserKey> {
    shared: Arc<Shared<St>>,
    key: K,
}

impl RateLimitLayer {
    /// A builder with an in-memory store, keyed by user, and no quotas.
    pub fn builder() -> RateLimitBuilder {
        RateLimitBuilder {
            store: MemoryStore::new(),
            key: UserKey,
            default: Policy::new(),
            tiers: HashMap::new(),
            users: HashMap::new(),
            headers: HeaderStyle::Ietf,
            max_body: DEFAULT_MAX_BODY_BYTES,
            stream_usage: true,
        }
    }
}

impl<St: RateStore, K> RateLimitLayer<St, K> {
    /// Where `key`'s quotas stand under `tier` (or its override), taking
    /// nothing: for dashboards and health reports.
    ///
    /// # Errors
    /// The store's.
    pub async fn peek(
        &self,
        key: &str,
        tier: Option<&str>,
    ) -> Result<Vec<QuotaView>, RateStoreError> {
        let shared = &self.shared;
        let tier = shared.tier_named(key, tier);
        let decision = shared.store.peek(key, &tier.policy).await?;
        Ok(tier
            .policy
            .limits()
            .iter()
            .zip(decision.states(&tier.policy))
            .map(|(limit, state)| QuotaView {
                name: limit.name().to_owned(),
                unit: limit.unit(),
                quota: limit.quota(),
                state,
            })
            .collect())
    }

    /// The store.
    pub fn store(&self) -> &St {
        &self.shared.store
    }
}

impl<St, K: Clone> Clone for RateLimitLayer<St, K> {
    fn clone(&self) -> Self {
        Self {
            shared: self.shared.clone(),
            key: self.key.clone(),
        }
    }
}

impl<St: fmt::Debug, K: fmt::Debug> fmt::Debug for RateLimitLayer<St, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateLimitLayer")
            .field("store", &self.shared.store)
            .field("key", &self.key)
            .field("default", &self.shared.default.policy)
            .field("tiers", &self.shared.tiers.len())
            .field("users", &self.shared.users.len())
            .finish()
    }
}

impl<S, St, K: Clone> Layer<S> for RateLimitLayer<St, K> {
    type Service = RateLimit<S, St, K>;

    fn layer(&self, inner: S) -> Self::Service {
        RateLimit {
            inner,
            shared: self.shared.clone(),
            key: self.key.clone(),
        }
    }
}

/// Builds a [`RateLimitLayer`].
pub struct RateLimitBuilder<St = MemoryStore, K = UserKey> {
    store: St,
    key: K,
    default: Policy,
    tiers: HashMap<Box<str>, Policy>,
    users: HashMap<Box<str>, Policy>,
    headers: HeaderStyle,
    max_body: usize,
    stream_usage: bool,
}

impl<St: fmt::Debug, K: fmt::Debug> fmt::Debug for RateLimitBuilder<St, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateLimitBuilder")
            .field("store", &self.store)
            .field("key", &self.key)
            .field("default", &self.default)
            .field("tiers", &self.tiers)
            .field("users", &self.users.len())
            .finish_non_exhaustive()
    }
}

impl<St, K> RateLimitBuilder<St, K> {
    /// The policy of requests whose tier has none (and of requests without
    /// a principal). Without one, they are not limited.
    pub fn default_policy(mut self, policy: Policy) -> Self {
        self.default = policy;
        self
    }

    /// The policy of the tier `name` (a [`Principal`]'s tier).
    pub fn tier(mut self, name: &str, policy: Policy) -> Self {
        self.tiers.insert(name.into(), policy);
        self
    }

    /// A policy for one key (user), ahead of its tier's.
    pub fn user(mut self, key: &str, policy: Policy) -> Self {
        self.users.insert(key.into(), policy);
        self
    }

    /// Which fields responses carry ([`HeaderStyle::Ietf`] by default).
    pub fn headers(mut self, style: HeaderStyle) -> Self {
        self.headers = style;
        self
    }

    /// The largest body read to estimate tokens (4 MiB by default); a
    /// larger one is answered 413.
    pub fn max_body_bytes(mut self, bytes: usize) -> Self {
        self.max_body = bytes;
        self
    }

    /// Whether to ask OpenAI streams for usage when the client did not
    /// (on by default; only with token quotas).
    pub fn request_stream_usage(mut self, on: bool) -> Self {
        self.stream_usage = on;
        self
    }

    /// Keeps quota state in `store` (a store shared by replicas, say).
    pub fn store<St2>(self, store: St2) -> RateLimitBuilder<St2, K> {
        RateLimitBuilder {
            store,
            key: self.key,
            default: self.default,
            tiers: self.tiers,
            users: self.users,
            headers: self.headers,
            max_body: self.max_body,
            stream_usage: self.stream_usage,
        }
    }

    /// Counts requests under the keys `key` picks.
    pub fn key<K2>(self, key: K2) -> RateLimitBuilder<St, K2> {
        RateLimitBuilder {
            store: self.store,
            key,
            default: self.default,
            tiers: self.tiers,
            users: self.users,
            headers: self.headers,
            max_body: self.max_body,
            stream_usage: self.stream_usage,
        }
    }

    /// The layer.
    pub fn build(self) -> RateLimitLayer<St, K> {
        let tiers = |map: HashMap<Box<str>, Policy>| {
            map.into_iter()
                .map(|(name, policy)| (name, Arc::new(Tier::new(policy))))
                .collect()
        };
        RateLimitLayer {
            shared: Arc::new(Shared {
                store: self.store,
                default: Arc::new(Tier::new(self.default)),
                tiers: tiers(self.tiers),
                users: tiers(self.users),
                headers: self.headers,
                max_body: self.max_body,
                stream_usage: self.stream_usage,
            }),
            key: self.key,
        }
    }
}

/// The service of [`RateLimitLayer`].
pub struct RateLimit<S, St = MemoryStore, K = UserKey> {
    inner: S,
    shared: Arc<Shared<St>>,
    key: K,
}

impl<S: Clone, St, K: Clone> Clone for RateLimit<S, St, K> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            shared: self.shared.clone(),
            key: self.key.clone(),
        }
    }
}

impl<S: fmt::Debug, St, K: fmt::Debug> fmt::Debug for RateLimit<S, St, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateLimit")
            .field("inner", &self.inner)
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

impl<S, St, K, ReqBody, ResBody> Service<Request<ReqBody>> for RateLimit<S, St, K>
where
    S: Service<Request<RequestBody<ReqBody>>, Response = Response<ResBody>> + Clone,
    St: RateStore,
    St::Answer: Unpin,
    K: KeyExtractor<ReqBody>,
    ReqBody: Body<Data = Bytes>,
    ReqBody::Error: Into<BoxError>,
{
    type Response = Response<ResponseBody<SettleBody<ResBody>>>;
    type Error = S::Error;
    type Future = ResponseFuture<S, ReqBody, St>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let shared = &self.shared;
        let key = self.key.key(&request);
        let key_str = key.as_deref().unwrap_or(ANONYMOUS);
        let tier = shared.tier(key_str, &request);
        if tier.policy.limits().is_empty() {
            let (parts, body) = request.into_parts();
            return ResponseFuture::inner(
                self.inner
                    .call(Request::from_parts(parts, RequestBody::original(body))),
                Fields::default(),
                None,
            );
        }
        let api = ProviderApi::from_extensions(request.extensions());
        if !tier.has_tokens {
            let mut answer = shared
                .store
                .acquire(key_str, &tier.policy, &tier.request_costs);
            // A store that answers at once (the in-memory one) is decided
            // here, without keeping the tier or the request aside.
            if let Poll::Ready(decided) =
                Pin::new(&mut answer).poll(&mut Context::from_waker(Waker::noop()))
            {
                return match decided {
                    Ok(decision) => {
                        let fields = Fields::new(shared.headers, tier, &decision);
                        if decision.admitted {
                            let (parts, body) = request.into_parts();
                            let request = Request::from_parts(parts, RequestBody::original(body));
                            ResponseFuture::inner(self.inner.call(request), fields, None)
                        } else {
                            ResponseFuture::rejected(too_many(&decision, tier, fields, api))
                        }
                    }
                    Err(error) => ResponseFuture::rejected(unavailable(&error, api)),
                };
            }
            let clone = self.inner.clone();
            let inner = std::mem::replace(&mut self.inner, clone);
            let (parts, body) = request.into_parts();
            return ResponseFuture {
                state: State::Deciding {
                    answer,
                    pending: Some(Pending {
                        inner,
                        parts,
                        body: Some(RequestBody::original(body)),
                        tier: tier.clone(),
                        shared: shared.clone(),
                        key: None,
                        estimate: 0,
                        costs: tier.request_costs,
                        strip_usage: false,
                        api,
                    }),
                },
            };
        }
        // Token quotas: read the body to estimate, then decide.
        let declared = request
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|len| len > shared.max_body as u64) {
            return ResponseFuture::rejected(too_large(shared.max_body, api));
        }
        let key: Box<str> = key_str.into();
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        let (parts, body) = request.into_parts();
        ResponseFuture {
            state: State::Reading {
                body: Limited::new(body, shared.max_body).collect(),
                pending: Some(Pending {
                    inner,
                    parts,
                    body: None,
                    tier: tier.clone(),
                    shared: shared.clone(),
                    key: Some(key),
                    estimate: 0,
                    costs: tier.request_costs,
                    strip_usage: false,
                    api,
                }),
            },
        }
    }
}

/// The rate-limit fields for one response, formatted once decided.
#[derive(Default)]
pub(crate) struct Fields {
    values: [Option<(HeaderName, HeaderValue)>; 3],
}

const RATELIMIT_POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");
const RATELIMIT: HeaderName = HeaderName::from_static("ratelimit");
const X_LIMIT: HeaderName = HeaderName::from_static("x-ratelimit-limit");
const X_REMAINING: HeaderName = HeaderName::from_static("x-ratelimit-remaining");
const X_RESET: HeaderName = HeaderName::from_static("x-ratelimit-reset");

/// Whole seconds, rounded up.
fn ceil_secs(duration: Duration) -> u64 {
    duration.as_secs() + u64::from(duration.subsec_nanos() > 0)
}

impl Fields {
    fn new(style: HeaderStyle, tier: &Tier, decision: &Decision) -> Self {
        let limits = tier.policy.limits();
        match style {
            HeaderStyle::None => Self::default(),
            HeaderStyle::Ietf => {
                let mut value = BytesMut::with_capacity(40 * limits.len());
                for (i, (limit, state)) in
                    limits.iter().zip(decision.states(&tier.policy)).enumerate()
                {
                    if i > 0 {
                        value.put_slice(b", ");
                    }
                    value.put_u8(b'"');
                    value.put_slice(limit.name().as_bytes());
                    value.put_slice(b"\";r=");
                    value.put_slice(itoa::Buffer::new().format(state.remaining).as_bytes());
                    value.put_slice(b";t=");
                    value.put_slice(
                        itoa::Buffer::new()
                            .format(ceil_secs(state.reset))
                            .as_bytes(),
                    );
                }
                let current = HeaderValue::from_maybe_shared(value.freeze())
                    .expect("digits and policy names are visible ASCII");
                Self {
                    values: [
                        tier.policy_field.clone().map(|v| (RATELIMIT_POLICY, v)),
                        Some((RATELIMIT, current)),
                        None,
                    ],
                }
            }
            HeaderStyle::Legacy => {
                // The request quota closest to running out, else any.
                let tightest = limits
                    .iter()
                    .zip(decision.states(&tier.policy))
                    .filter(|(limit, _)| limit.unit() == Unit::Requests)
                    .min_by_key(|(_, state)| state.remaining)
                    .or_else(|| limits.iter().zip(decision.states(&tier.policy)).next());
                let Some((limit, state)) = tightest else {
                    return Self::default();
                };
                let number = |n: u64| HeaderValue::from(n);
                Self {
                    values: [
                        Some((X_LIMIT, number(u64::from(limit.quota().count())))),
                        Some((X_REMAINING, number(state.remaining))),
                        Some((X_RESET, number(ceil_secs(state.reset)))),
                    ],
                }
            }
        }
    }

    fn apply(self, headers: &mut HeaderMap) {
        for (name, value) in self.values.into_iter().flatten() {
            headers.insert(name, value);
        }
    }
}

/// The 429 for a refusal: `Retry-After`, the rate-limit fields, and the
/// quota that refused.
fn too_many(
    decision: &Decision,
    tier: &Tier,
    fields: Fields,
    api: Option<ProviderApi>,
) -> Response<Bytes> {
    let seconds = ceil_secs(decision.retry_after).max(1);
    let quota = decision
        .refused_by
        .and_then(|i| tier.policy.limits().get(i))
        .map_or("", |limit| limit.name());
    let mut response = Problem::new(RejectionKind::RateLimited)
        .with_detail(format!(
            "the {quota} quota is used up; retry in {seconds} s"
        ))
        .with_member("quota", quota)
        .with_member("retry_after", seconds)
        .to_response::<Bytes>(api);
    response
        .headers_mut()
        .insert(RETRY_AFTER, HeaderValue::from(seconds));
    fields.apply(response.headers_mut());
    response
}

fn too_large(limit: usize, api: Option<ProviderApi>) -> Response<Bytes> {
    Problem::body_too_large(limit).to_response(api)
}

fn unavailable(error: &RateStoreError, api: Option<ProviderApi>) -> Response<Bytes> {
    tracing::error!(%error, "rate-limit store failed");
    Problem::new(RejectionKind::Internal)
        .with_status(http::StatusCode::SERVICE_UNAVAILABLE)
        .with_detail("the rate-limit store is unavailable")
        .to_response(api)
}

/// What a request needs while its body is read or its decision awaited.
struct Pending<S, B, St> {
    inner: S,
    parts: Parts,
    body: Option<RequestBody<B>>,
    tier: Arc<Tier>,
    shared: Arc<Shared<St>>,
    /// The key, kept only when tokens are to be settled.
    key: Option<Box<str>>,
    /// The input tokens estimated (token quotas only).
    estimate: u64,
    /// What each quota is asked for.
    costs: Costs,
    strip_usage: bool,
    api: Option<ProviderApi>,
}

pin_project! {
    /// The response future of [`RateLimit`]: reading the body (token
    /// quotas only), awaiting a store that does not answer at once, then
    /// the inner call; or a refusal. No boxing.
    pub struct ResponseFuture<S, B, St>
    where
        S: Service<Request<RequestBody<B>>>,
        B: Body,
        B::Error: Into<BoxError>,
        St: RateStore,
    {
        #[pin]
        state: State<S, B, St>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<S, B, St>
    where
        S: Service<Request<RequestBody<B>>>,
        B: Body,
        B::Error: Into<BoxError>,
        St: RateStore,
    {
        Reading {
            #[pin]
            body: Collect<Limited<B>>,
            pending: Option<Pending<S, B, St>>,
        },
        Deciding {
            answer: St::Answer,
            pending: Option<Pending<S, B, St>>,
        },
        Inner {
            #[pin]
            future: S::Future,
            fields: Option<Fields>,
            settlement: Option<Settlement>,
        },
        Rejected {
            response: Option<Response<Bytes>>,
        },
    }
}

impl<S, B, St> ResponseFuture<S, B, St>
where
    S: Service<Request<RequestBody<B>>>,
    B: Body,
    B::Error: Into<BoxError>,
    St: RateStore,
{
    fn inner(future: S::Future, fields: Fields, settlement: Option<Settlement>) -> Self {
        Self {
            state: State::Inner {
                future,
                fields: Some(fields),
                settlement,
            },
        }
    }

    fn rejected(response: Response<Bytes>) -> Self {
        Self {
            state: State::Rejected {
                response: Some(response),
            },
        }
    }
}

impl<S, B, St> fmt::Debug for ResponseFuture<S, B, St>
where
    S: Service<Request<RequestBody<B>>>,
    B: Body,
    B::Error: Into<BoxError>,
    St: RateStore,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match &self.state {
            State::Reading { .. } => "ResponseFuture::Reading",
            State::Deciding { .. } => "ResponseFuture::Deciding",
            State::Inner { .. } => "ResponseFuture::Inner",
            State::Rejected { .. } => "ResponseFuture::Rejected",
        })
    }
}

impl<S, B, St, ResBody> Future for ResponseFuture<S, B, St>
where
    S: Service<Request<RequestBody<B>>, Response = Response<ResBody>>,
    B: Body<Data = Bytes>,
    B::Error: Into<BoxError>,
    St: RateStore,
    St::Answer: Unpin,
{
    type Output = Result<Response<ResponseBody<SettleBody<ResBody>>>, S::Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        loop {
            let next = match self.as_mut().project().state.project() {
                StateProj::Reading { body, pending } => {
                    let read = ready!(body.poll(cx));
                    let mut pending = pending.take().expect("polled after completion");
                    match read {
                        Ok(collected) => {
                            let bytes = prepare_tokens(&mut pending, collected.to_bytes());
                            pending.costs = pending.tier.costs_for(pending.estimate);
                            let key = pending.key.as_deref().unwrap_or(ANONYMOUS);
                            let answer = pending.shared.store.acquire(
                                key,
                                &pending.tier.policy,
                                &pending.costs,
                            );
                            pending.body = Some(RequestBody::full(bytes));
                            State::Deciding {
                                answer,
                                pending: Some(pending),
                            }
                        }
                        Err(error) => {
                            let response =
                                Problem::body_read_failed(&*error, pending.shared.max_body)
                                    .to_response(pending.api);
                            State::Rejected {
                                response: Some(response),
                            }
                        }
                    }
                }
                StateProj::Deciding { answer, pending } => {
                    let decided = ready!(Pin::new(answer).poll(cx));
                    let pending = pending.take().expect("polled after completion");
                    decide(pending, decided)
                }
                StateProj::Inner {
                    future,
                    fields,
                    settlement,
                } => {
                    let result = ready!(future.poll(cx));
                    let fields = fields.take().unwrap_or_default();
                    let mut settlement = settlement.take();
                    if result.is_err() {
                        // Nothing reached the provider's answer: refund.
                        if let Some(settlement) = settlement.as_mut() {
                            settlement.settle(0);
                        }
                    }
                    return Poll::Ready(result.map(|response| {
                        let (mut parts, body) = response.into_parts();
                        fields.apply(&mut parts.headers);
                        let body = SettleBody::new(body, settlement, &mut parts);
                        Response::from_parts(parts, ResponseBody::new(body))
                    }));
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

/// The state after a decision: the inner call, or a refusal.
fn decide<S, B, St>(
    pending: Pending<S, B, St>,
    decided: Result<Decision, RateStoreError>,
) -> State<S, B, St>
where
    S: Service<Request<RequestBody<B>>>,
    B: Body,
    B::Error: Into<BoxError>,
    St: RateStore,
{
    let Pending {
        mut inner,
        parts,
        body,
        tier,
        shared,
        key,
        estimate,
        costs,
        strip_usage,
        api,
    } = pending;
    let decision = match decided {
        Ok(decision) => decision,
        Err(error) => {
            return State::Rejected {
                response: Some(unavailable(&error, api)),
            };
        }
    };
    let fields = Fields::new(shared.headers, &tier, &decision);
    if !decision.admitted {
        return State::Rejected {
            response: Some(too_many(&decision, &tier, fields, api)),
        };
    }
    let settlement = key.filter(|_| tier.has_tokens).map(|key| {
        let sink: Arc<dyn Sink> = shared;
        Settlement::new(sink, key, tier, estimate, costs, strip_usage)
    });
    let body = body.expect("the body is set before deciding");
    State::Inner {
        future: inner.call(Request::from_parts(parts, body)),
        fields: Some(fields),
        settlement,
    }
}

/// Estimates the body's tokens into `pending.estimate` and, for an OpenAI
/// stream that did not ask for usage, asks for it; returns the body to
/// forward.
fn prepare_tokens<S, B, St>(pending: &mut Pending<S, B, St>, bytes: Bytes) -> Bytes {
    pending.estimate = estimate_input_tokens(&bytes);
    let openai = pending.api == Some(ProviderApi::OpenAi)
        || (pending.api.is_none() && pending.parts.uri.path().ends_with("/chat/completions"));
    if !(openai && pending.shared.stream_usage) {
        return bytes;
    }
    match with_usage_requested(&bytes) {
        Some(rewritten) => {
            pending.strip_usage = true;
            let headers = &mut pending.parts.headers;
            headers.remove(TRANSFER_ENCODING);
            headers.insert(CONTENT_LENGTH, HeaderValue::from(rewritten.len()));
            rewritten
        }
        None => bytes,
    }
}

/// The body with `stream_options.include_usage` set, for a streaming
/// request that did not set it; `None` to forward the body unchanged.
fn with_usage_requested(bytes: &[u8]) -> Option<Bytes> {
    let mut value: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    let object = value.as_object_mut()?;
    if object.get("stream") != Some(&serde_json::Value::Bool(true)) {
        return None;
    }
    let options = object
        .entry("stream_options")
        .or_insert_with(|| serde_json::Value::Object(serde_json::Map::new()))
        .as_object_mut()?;
    if options.contains_key("include_usage") {
        return None;
    }
    options.insert("include_usage".to_owned(), serde_json::Value::Bool(true));
    serde_json::to_vec(&value).ok().map(Bytes::from)
}
