//! [`JwtLayer`]: authenticates requests by JSON Web Token (`jwt` feature).

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use arc_swap::ArcSwap;
use bytes::Bytes;
use futures_util::FutureExt;
use futures_util::future::{BoxFuture, Shared};
use http::header::AUTHORIZATION;
use http::{Request, Response};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use pin_project_lite::pin_project;
use serde_json::{Map, Value};
use tower_layer::Layer;
use tower_service::Service;

use super::credential::{Challenges, Failure, Found, Scheme, bearer};
use crate::body::ResponseBody;
use crate::clock::{Clock, MonotonicClock};
use crate::marker::{Principal, ProviderApi};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Fetches a JWKS document (from the issuer's `jwks_uri`, say): plug in
/// your HTTP client. Closures returning a future implement it.
pub trait JwksFetch: Send + Sync + 'static {
    /// The current key set.
    fn fetch(&self) -> BoxFuture<'static, Result<JwkSet, BoxError>>;
}

impl<F, Fut> JwksFetch for F
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<JwkSet, BoxError>> + Send + 'static,
{
    fn fetch(&self) -> BoxFuture<'static, Result<JwkSet, BoxError>> {
        self().boxed()
    }
}

/// The keys tokens are verified with: one key (a secret or a PEM), or a
/// JWKS key set selected by the token's `kid`, optionally refreshed.
pub struct JwtKeys {
    kind: KeysKind,
}

enum KeysKind {
    Single(DecodingKey),
    Set {
        set: JwkSet,
        refresh: Option<(Arc<dyn JwksFetch>, Duration)>,
    },
}

impl JwtKeys {
    /// An HMAC secret (HS256, HS384, HS512).
    pub fn secret(secret: &[u8]) -> Result<Self, JwtConfigError> {
        let key = DecodingKey::from_secret(secret).map_err(|_| JwtConfigError::Key)?;
        Ok(Self {
            kind: KeysKind::Single(key),
        })
    }

    /// A PEM public key (or certificate) for `algorithm`: RSA for RS* and
    /// PS*, P-256/P-384 for ES*, Ed25519 for EdDSA.
    pub fn pem(algorithm: Algorithm, pem: &[u8]) -> Result<Self, JwtConfigError> {
        use jsonwebtoken::AlgorithmFamily as Family;
        let key = match algorithm.family() {
            Family::Rsa => DecodingKey::from_rsa_pem(pem),
            Family::Ec => DecodingKey::from_ec_pem(pem),
            Family::Ed => DecodingKey::from_ed_pem(pem),
            _ => return Err(JwtConfigError::KeyMismatch),
        }
        .map_err(|_| JwtConfigError::Key)?;
        Ok(Self {
            kind: KeysKind::Single(key),
        })
    }

    /// A JWKS key set; tokens name their key with `kid` (a set of one key
    /// also verifies tokens without `kid`).
    pub fn jwks(set: JwkSet) -> Self {
        Self {
            kind: KeysKind::Set { set, refresh: None },
        }
    }

    /// Refetches the set when a token names an unknown `kid`, at most once
    /// per `cooldown` (so random `kid`s cannot multiply fetches); requests
    /// arriving during a fetch wait for it rather than starting another.
    /// Only for [`JwtKeys::jwks`]; start from an empty set to fetch on the
    /// first token.
    pub fn refresh(mut self, fetch: impl JwksFetch, cooldown: Duration) -> Self {
        if let KeysKind::Set { refresh, .. } = &mut self.kind {
            *refresh = Some((Arc::new(fetch), cooldown));
        }
        self
    }
}

impl fmt::Debug for JwtKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            KeysKind::Single(_) => f.write_str("JwtKeys::Single(<redacted>)"),
            KeysKind::Set { set, refresh } => f
                .debug_struct("JwtKeys::Set")
                .field("keys", &set.keys.len())
                .field("refresh", &refresh.as_ref().map(|(_, cooldown)| cooldown))
                .finish(),
        }
    }
}

/// Why a [`JwtLayer`] cannot be built. Never holds key material.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JwtConfigError {
    /// The key could not be read.
    #[error("the JWT key could not be read")]
    Key,
    /// The key does not fit the pinned algorithm (an HMAC secret for RS256,
    /// say): the configuration that HS/RS confusion attacks need.
    #[error("the JWT key does not fit the pinned algorithm")]
    KeyMismatch,
}

/// Authenticates requests by a JSON Web Token in `Authorization: Bearer`,
/// with the same [`Principal`] and the same failures as
/// [`ApiKeyLayer`](super::ApiKeyLayer).
///
/// - **Algorithm pinned** by configuration: a token whose `alg` differs is
///   refused, so `none` and HS/RS confusion cannot work (jsonwebtoken has no
///   `none`, and a key must fit the pinned algorithm's family).
/// - **Claims checked**: signature, `exp` (required), `nbf`, and `iss` and
///   `aud` when configured, with a leeway for clock skew (60 s by default).
/// - **Principal**: `sub` (required) is the user; the tier and scopes come
///   from configurable claims (`tier`, and `scope` as a space-separated
///   string or a list); the key id is `jwt:<kid>`.
/// - **Beside API keys**: put it inside
///   `ApiKeyLayer::pass_other_tokens(true)`. A bearer token with the `spk_`
///   prefix is then an API key, any other is tried as a JWT; a request the
///   outer layer authenticated passes this one untouched.
///
/// The credential header is removed before the request goes on.
///
/// ```
/// use http::{Request, Response, StatusCode};
/// use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
/// use spark_tower::auth::{JwtKeys, JwtLayer};
/// use spark_tower::marker::Principal;
/// use tower::{ServiceBuilder, ServiceExt, service_fn};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let layer = JwtLayer::builder(Algorithm::HS256, JwtKeys::secret(b"a long shared secret").unwrap())
///     .issuer("https://issuer.example")
///     .build()
///     .unwrap();
/// let service = ServiceBuilder::new().layer(layer).service(service_fn(|request: Request<String>| async move {
///     let principal = Principal::from_extensions(request.extensions()).unwrap();
///     Ok::<_, std::convert::Infallible>(Response::new(format!("{} {}", principal.user(), principal.tier())))
/// }));
///
/// let exp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() + 600;
/// let claims = serde_json::json!({"sub": "alice", "tier": "pro", "exp": exp, "iss": "https://issuer.example"});
/// let token = encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(b"a long shared secret").unwrap()).unwrap();
/// let request = Request::builder().header("authorization", format!("Bearer {token}")).body(String::new()).unwrap();
/// let response = service.oneshot(request).await.unwrap();
/// assert_eq!(response.status(), StatusCode::OK);
/// # }
/// ```
#[derive(Clone)]
pub struct JwtLayer {
    shared: Arc<JwtShared>,
}

struct JwtShared {
    validation: Validation,
    keys: Keys,
    tier_claim: Box<str>,
    scopes_claim: Box<str>,
    default_tier: Box<str>,
    challenges: Challenges,
}

enum Keys {
    Single(DecodingKey),
    Set {
        by_kid: ArcSwap<HashMap<String, DecodingKey>>,
        refresh: Option<Refresh>,
    },
}

/// The refetching of a key set.
struct Refresh {
    algorithm: Algorithm,
    fetch: Arc<dyn JwksFetch>,
    cooldown: Duration,
    clock: Arc<dyn Clock>,
    state: Mutex<RefreshState>,
}

type Fetching = Shared<BoxFuture<'static, Result<Arc<HashMap<String, DecodingKey>>, Arc<str>>>>;

#[derive(Default)]
struct RefreshState {
    /// When the last fetch started (on the refresh clock).
    last: Option<Duration>,
    /// The fetch under way, which later requests share.
    fetching: Option<Fetching>,
}

/// The usable keys of `set` for `algorithm`, by `kid`.
fn usable_keys(set: &JwkSet, algorithm: Algorithm) -> HashMap<String, DecodingKey> {
    set.keys
        .iter()
        .filter_map(|jwk| {
            let kid = jwk.common.key_id.clone()?;
            if jwk
                .common
                .key_algorithm
                .is_some_and(|alg| alg != algorithm.into())
            {
                return None;
            }
            let key = DecodingKey::from_jwk(jwk).ok()?;
            (key.family() == algorithm.family()).then_some((kid, key))
        })
        .collect()
}

/// Builds a [`JwtLayer`].
pub struct JwtBuilder {
    algorithm: Algorithm,
    keys: JwtKeys,
    validation: Validation,
    tier_claim: Box<str>,
    scopes_claim: Box<str>,
    default_tier: Box<str>,
    challenges: Challenges,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for JwtBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtBuilder")
            .field("algorithm", &self.algorithm)
            .field("keys", &self.keys)
            .finish_non_exhaustive()
    }
}

impl JwtLayer {
    /// A builder for tokens signed with `algorithm` (the only one accepted)
    /// and verified with `keys`.
    pub fn builder(algorithm: Algorithm, keys: JwtKeys) -> JwtBuilder {
        let mut validation = Validation::new(algorithm);
        validation.validate_nbf = true;
        validation.validate_aud = false;
        validation.set_required_spec_claims(&["exp", "sub"]);
        JwtBuilder {
            algorithm,
            keys,
            validation,
            tier_claim: "tier".into(),
            scopes_claim: "scope".into(),
            default_tier: "free".into(),
            challenges: Challenges::new(),
            clock: Arc::new(MonotonicClock::new()),
        }
    }
}

impl JwtBuilder {
    /// Accepts only tokens whose `iss` is `issuer` (and requires `iss`).
    pub fn issuer(mut self, issuer: &str) -> Self {
        self.validation.set_issuer(&[issuer]);
        self.validation
            .required_spec_claims
            .insert("iss".to_owned());
        self
    }

    /// Accepts only tokens whose `aud` holds `audience` (and requires
    /// `aud`).
    pub fn audience(mut self, audience: &str) -> Self {
        self.validation.set_audience(&[audience]);
        self.validation.validate_aud = true;
        self.validation
            .required_spec_claims
            .insert("aud".to_owned());
        self
    }

    /// Clock skew allowed on `exp` and `nbf` (60 s by default).
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.validation.leeway = leeway.as_secs();
        self
    }

    /// The claim naming the tier (`tier` by default).
    pub fn tier_claim(mut self, name: &str) -> Self {
        self.tier_claim = name.into();
        self
    }

    /// The claim holding the scopes (`scope` by default), a
    /// space-separated string or a list of strings.
    pub fn scopes_claim(mut self, name: &str) -> Self {
        self.scopes_claim = name.into();
        self
    }

    /// The tier of tokens without the tier claim (`free` by default).
    pub fn default_tier(mut self, tier: &str) -> Self {
        self.default_tier = tier.into();
        self
    }

    /// The realm named in `WWW-Authenticate`.
    pub fn realm(mut self, realm: &str) -> Self {
        self.challenges.set_realm(realm);
        self
    }

    /// Refuses tokens without `scope` with 403.
    pub fn require_scope(mut self, scope: &str) -> Self {
        self.challenges.require(scope);
        self
    }

    /// The clock of the key-set refresh cooldown (a
    /// [`ManualClock`](crate::clock::ManualClock) in tests).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The layer.
    ///
    /// # Errors
    /// [`JwtConfigError::KeyMismatch`] for a single key that does not fit
    /// the pinned algorithm.
    pub fn build(self) -> Result<JwtLayer, JwtConfigError> {
        // A build with more than one crypto backend has no default: pick ours.
        if jsonwebtoken::crypto::CryptoProvider::try_get_default().is_none() {
            let _ = jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER.install_default();
        }
        let keys = match self.keys.kind {
            KeysKind::Single(key) => {
                if key.family() != self.algorithm.family() {
                    return Err(JwtConfigError::KeyMismatch);
                }
                Keys::Single(key)
            }
            KeysKind::Set { set, refresh } => Keys::Set {
                by_kid: ArcSwap::from_pointee(usable_keys(&set, self.algorithm)),
                refresh: refresh.map(|(fetch, cooldown)| Refresh {
                    algorithm: self.algorithm,
                    fetch,
                    cooldown,
                    clock: self.clock,
                    state: Mutex::default(),
                }),
            },
        };
        Ok(JwtLayer {
            shared: Arc::new(JwtShared {
                validation: self.validation,
                keys,
                tier_claim: self.tier_claim,
                scopes_claim: self.scopes_claim,
                default_tier: self.default_tier,
                challenges: self.challenges,
            }),
        })
    }
}

impl fmt::Debug for JwtLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtLayer")
            .field("algorithms", &self.shared.validation.algorithms)
            .field("challenges", &self.shared.challenges)
            .finish_non_exhaustive()
    }
}

impl<S> Layer<S> for JwtLayer {
    type Service = JwtAuth<S>;

    fn layer(&self, inner: S) -> Self::Service {
        JwtAuth {
            inner,
            shared: self.shared.clone(),
        }
    }
}

/// The service of [`JwtLayer`].
#[derive(Clone)]
pub struct JwtAuth<S> {
    inner: S,
    shared: Arc<JwtShared>,
}

impl<S: fmt::Debug> fmt::Debug for JwtAuth<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtAuth")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

/// What verifying a token needs next.
enum Verdict {
    Ok(Principal),
    Refused(Failure),
    /// The token names a `kid` not in the set, and a refetch may find it.
    Refetch(Fetching),
}

impl JwtShared {
    fn verify(&self, token: &str) -> Verdict {
        let Ok(header) = jsonwebtoken::decode_header(token) else {
            return Verdict::Refused(Failure::Malformed(None));
        };
        let kid = header.kid.as_deref();
        match &self.keys {
            Keys::Single(key) => self.judge(token, key, kid),
            Keys::Set { by_kid, refresh } => {
                let keys = by_kid.load();
                let key = match kid {
                    Some(kid) => keys.get(kid),
                    None if keys.len() == 1 => keys.values().next(),
                    None => None,
                };
                if let Some(key) = key {
                    return self.judge(token, key, kid);
                }
                match (kid, refresh) {
                    (Some(_), Some(refresh)) => match refresh.start() {
                        Some(fetching) => Verdict::Refetch(fetching),
                        None => Verdict::Refused(Failure::Invalid),
                    },
                    _ => Verdict::Refused(Failure::Invalid),
                }
            }
        }
    }

    /// Verifies `token` with `key` and maps its claims to a principal.
    fn judge(&self, token: &str, key: &DecodingKey, kid: Option<&str>) -> Verdict {
        let data = match jsonwebtoken::decode::<Map<String, Value>>(token, key, &self.validation) {
            Ok(data) => data,
            Err(error) => {
                let failure = match error.kind() {
                    ErrorKind::ExpiredSignature => Failure::Expired,
                    ErrorKind::ImmatureSignature => Failure::NotYetValid,
                    ErrorKind::InvalidToken
                    | ErrorKind::Base64(_)
                    | ErrorKind::Json(_)
                    | ErrorKind::Utf8(_) => Failure::Malformed(None),
                    _ => Failure::Invalid,
                };
                return Verdict::Refused(failure);
            }
        };
        let claims = data.claims;
        let Some(user) = claims
            .get("sub")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
        else {
            return Verdict::Refused(Failure::Invalid);
        };
        let tier = claims
            .get(&*self.tier_claim)
            .and_then(Value::as_str)
            .unwrap_or(&self.default_tier);
        let scopes: Vec<&str> = match claims.get(&*self.scopes_claim) {
            Some(Value::String(text)) => text.split_whitespace().collect(),
            Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        let key_id = match kid {
            Some(kid) => format!("jwt:{kid}"),
            None => "jwt".to_owned(),
        };
        let principal = Principal::new(user, key_id, tier, scopes);
        if !self.challenges.allows(&principal) {
            return Verdict::Refused(Failure::Scope);
        }
        Verdict::Ok(principal)
    }
}

impl Refresh {
    /// The fetch to wait for: the one under way, or a new one if the
    /// cooldown allows; `None` when neither.
    fn start(&self) -> Option<Fetching> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(fetching) = state.fetching.as_ref().filter(|f| f.peek().is_none()) {
            return Some(fetching.clone());
        }
        let now = self.clock.now();
        if state
            .last
            .is_some_and(|last| now.saturating_sub(last) < self.cooldown)
        {
            return None;
        }
        state.last = Some(now);
        let fetch = self.fetch.fetch();
        let algorithm = self.algorithm;
        let fetching = async move {
            match fetch.await {
                Ok(set) => Ok(Arc::new(usable_keys(&set, algorithm))),
                Err(error) => Err(Arc::<str>::from(error.to_string())),
            }
        }
        .boxed()
        .shared();
        state.fetching = Some(fetching.clone());
        Some(fetching)
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for JwtAuth<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone,
{
    type Response = Response<ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = JwtFuture<S, ReqBody>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        // Authenticated by an outer layer (an API key): nothing to do.
        if Principal::from_extensions(request.extensions()).is_some() {
            return JwtFuture::inner(self.inner.call(request));
        }
        let api = ProviderApi::from_extensions(request.extensions());
        let shared = &self.shared;
        let verdict = match bearer(request.headers()) {
            Found::None => Verdict::Refused(Failure::Missing),
            Found::Conflicting => Verdict::Refused(Failure::Conflicting),
            Found::Unreadable => Verdict::Refused(Failure::Malformed(None)),
            Found::Token(token) => shared.verify(token),
        };
        match verdict {
            Verdict::Ok(principal) => {
                request.headers_mut().remove(AUTHORIZATION);
                request.extensions_mut().insert(principal);
                JwtFuture::inner(self.inner.call(request))
            }
            Verdict::Refused(failure) => JwtFuture::refused(failure, shared, api),
            Verdict::Refetch(fetching) => {
                let clone = self.inner.clone();
                let inner = std::mem::replace(&mut self.inner, clone);
                JwtFuture {
                    state: State::Refetching {
                        fetching,
                        pending: Some((inner, request, shared.clone())),
                    },
                }
            }
        }
    }
}

pin_project! {
    /// The response future of [`JwtAuth`]: the inner call, a refusal, or
    /// (rarely) a key-set refetch first.
    pub struct JwtFuture<S, B>
    where
        S: Service<Request<B>>,
    {
        #[pin]
        state: State<S, B>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<S, B>
    where
        S: Service<Request<B>>,
    {
        Refetching {
            fetching: Fetching,
            pending: Option<(S, Request<B>, Arc<JwtShared>)>,
        },
        Inner {
            #[pin]
            future: S::Future,
        },
        Refused {
            response: Option<Response<Bytes>>,
        },
    }
}

impl<S: Service<Request<B>>, B> JwtFuture<S, B> {
    fn inner(future: S::Future) -> Self {
        Self {
            state: State::Inner { future },
        }
    }

    fn refused(failure: Failure, shared: &JwtShared, api: Option<ProviderApi>) -> Self {
        tracing::debug!(reason = failure.as_str(), "bearer token refused");
        Self {
            state: State::Refused {
                response: Some(failure.response(&shared.challenges, Scheme::Jwt, api)),
            },
        }
    }
}

impl<S: Service<Request<B>>, B> fmt::Debug for JwtFuture<S, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match &self.state {
            State::Refetching { .. } => "JwtFuture::Refetching",
            State::Inner { .. } => "JwtFuture::Inner",
            State::Refused { .. } => "JwtFuture::Refused",
        })
    }
}

impl<S, B, ResBody> Future for JwtFuture<S, B>
where
    S: Service<Request<B>, Response = Response<ResBody>>,
{
    type Output = Result<Response<ResponseBody<ResBody>>, S::Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        loop {
            let next = match self.as_mut().project().state.project() {
                StateProj::Refetching { fetching, pending } => {
                    let fetched = ready!(fetching.poll_unpin(cx));
                    let (mut inner, mut request, shared) =
                        pending.take().expect("polled after completion");
                    let api = ProviderApi::from_extensions(request.extensions());
                    let verdict = match fetched {
                        Ok(keys) => {
                            if let Keys::Set { by_kid, .. } = &shared.keys {
                                by_kid.store(keys);
                            }
                            match bearer(request.headers()) {
                                Found::Token(token) => match shared.verify(token) {
                                    // Still unknown after a fetch: refused.
                                    Verdict::Refetch(_) => Verdict::Refused(Failure::Invalid),
                                    verdict => verdict,
                                },
                                _ => Verdict::Refused(Failure::Invalid),
                            }
                        }
                        Err(error) => {
                            tracing::error!(%error, "JWKS fetch failed");
                            Verdict::Refused(Failure::Store)
                        }
                    };
                    match verdict {
                        Verdict::Ok(principal) => {
                            request.headers_mut().remove(AUTHORIZATION);
                            request.extensions_mut().insert(principal);
                            State::Inner {
                                future: inner.call(request),
                            }
                        }
                        Verdict::Refused(failure) => {
                            tracing::debug!(reason = failure.as_str(), "bearer token refused");
                            State::Refused {
                                response: Some(failure.response(
                                    &shared.challenges,
                                    Scheme::Jwt,
                                    api,
                                )),
                            }
                        }
                        Verdict::Refetch(_) => unreachable!("mapped to a refusal above"),
                    }
                }
                StateProj::Inner { future } => {
                    return future.poll(cx).map_ok(|r| r.map(ResponseBody::new));
                }
                StateProj::Refused { response } => {
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
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::{SystemTime, UNIX_EPOCH};

    use http::StatusCode;
    use http_body_util::BodyExt;
    use jsonwebtoken::jwk::Jwk;
    use jsonwebtoken::{EncodingKey, Header, encode};
    use serde_json::json;
    use tower::{ServiceExt, service_fn};

    use super::*;
    use crate::auth::{ApiKey, ApiKeyLayer, KeyEntry, MemoryKeyStore};
    use crate::clock::ManualClock;

    const SECRET: &[u8] = b"a test secret of thirty-two bytes!";
    const RSA_PRIVATE: &[u8] = include_bytes!("../../tests/fixtures/jwt/rsa_private.pem");
    const RSA_PUBLIC: &[u8] = include_bytes!("../../tests/fixtures/jwt/rsa_public.pem");
    const EC_PRIVATE: &[u8] = include_bytes!("../../tests/fixtures/jwt/ec_private.pem");
    const EC_PUBLIC: &[u8] = include_bytes!("../../tests/fixtures/jwt/ec_public.pem");
    const ED_PRIVATE: &[u8] = include_bytes!("../../tests/fixtures/jwt/ed_private.pem");
    const ED_PUBLIC: &[u8] = include_bytes!("../../tests/fixtures/jwt/ed_public.pem");

    fn now() -> i64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64
    }

    fn claims() -> Value {
        json!({"sub": "alice", "tier": "pro", "scope": "model:gpt-4o* files:read",
               "exp": now() + 600, "iss": "https://issuer.test", "aud": "spark"})
    }

    fn sign(alg: Algorithm, key: &EncodingKey, claims: &Value, kid: Option<&str>) -> String {
        let mut header = Header::new(alg);
        header.kid = kid.map(str::to_owned);
        encode(&header, claims, key).unwrap()
    }

    fn hs(claims: &Value) -> String {
        sign(
            Algorithm::HS256,
            &EncodingKey::from_secret(SECRET).unwrap(),
            claims,
            None,
        )
    }

    /// The layer over a service answering with the principal.
    async fn ask(layer: &JwtLayer, authorization: Option<&str>) -> (StatusCode, String, String) {
        let service = layer
            .clone()
            .layer(service_fn(|request: Request<String>| async move {
                assert!(
                    request.headers().get("authorization").is_none(),
                    "credential forwarded"
                );
                let p = Principal::from_extensions(request.extensions()).unwrap();
                let scopes: Vec<&str> = p.scopes().collect();
                Ok::<_, Infallible>(Response::new(format!(
                    "{} {} {} {}",
                    p.user(),
                    p.tier(),
                    p.key_id(),
                    scopes.join(",")
                )))
            }));
        let mut request = Request::new(String::new());
        if let Some(value) = authorization {
            request
                .headers_mut()
                .insert("authorization", value.parse().unwrap());
        }
        let response = service.oneshot(request).await.unwrap();
        let status = response.status();
        let challenge = response
            .headers()
            .get("www-authenticate")
            .map_or(String::new(), |v| v.to_str().unwrap().to_owned());
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (status, challenge, String::from_utf8(body.to_vec()).unwrap())
    }

    fn hs_layer() -> JwtLayer {
        JwtLayer::builder(Algorithm::HS256, JwtKeys::secret(SECRET).unwrap())
            .issuer("https://issuer.test")
            .audience("spark")
            .leeway(Duration::ZERO)
            .build()
            .unwrap()
    }

    const INVALID: &str = r#"Bearer realm="spark-tower", error="invalid_token""#;

    #[tokio::test]
    async fn each_kind_of_token_gets_its_answer() {
        let layer = hs_layer();
        let with = |change: &dyn Fn(&mut Value)| {
            let mut c = claims();
            change(&mut c);
            format!("Bearer {}", hs(&c))
        };
        let other_secret = format!(
            "Bearer {}",
            sign(
                Algorithm::HS256,
                &EncodingKey::from_secret(b"another secret entirely!!").unwrap(),
                &claims(),
                None
            )
        );
        // `alg: none`, an unsigned token.
        let b64 = |v: &Value| {
            use base64::Engine as _;
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
        };
        let none = format!(
            "Bearer {}.{}.",
            b64(&json!({"alg": "none", "typ": "JWT"})),
            b64(&claims())
        );
        let hs512 = format!(
            "Bearer {}",
            sign(
                Algorithm::HS512,
                &EncodingKey::from_secret(SECRET).unwrap(),
                &claims(),
                None
            )
        );
        let cases: Vec<(&str, Option<String>, StatusCode, &str)> = vec![
            (
                "valid",
                Some(with(&|_| {})),
                StatusCode::OK,
                "alice pro jwt model:gpt-4o*,files:read",
            ),
            (
                "no token",
                None,
                StatusCode::UNAUTHORIZED,
                "bearer token is required",
            ),
            (
                "expired",
                Some(with(&|c| c["exp"] = json!(now() - 3600))),
                StatusCode::UNAUTHORIZED,
                "has expired",
            ),
            (
                "not yet valid",
                Some(with(&|c| c["nbf"] = json!(now() + 3600))),
                StatusCode::UNAUTHORIZED,
                "not valid yet",
            ),
            (
                "wrong audience",
                Some(with(&|c| c["aud"] = json!("other"))),
                StatusCode::UNAUTHORIZED,
                "not valid",
            ),
            (
                "wrong issuer",
                Some(with(&|c| c["iss"] = json!("https://evil.test"))),
                StatusCode::UNAUTHORIZED,
                "not valid",
            ),
            (
                "no exp",
                Some(with(&|c| {
                    c.as_object_mut().unwrap().remove("exp");
                })),
                StatusCode::UNAUTHORIZED,
                "not valid",
            ),
            (
                "no sub",
                Some(with(&|c| {
                    c.as_object_mut().unwrap().remove("sub");
                })),
                StatusCode::UNAUTHORIZED,
                "not valid",
            ),
            (
                "wrong signature",
                Some(other_secret),
                StatusCode::UNAUTHORIZED,
                "not valid",
            ),
            (
                "alg none",
                Some(none),
                StatusCode::UNAUTHORIZED,
                "malformed",
            ),
            (
                "another HMAC algorithm",
                Some(hs512),
                StatusCode::UNAUTHORIZED,
                "not valid",
            ),
            (
                "garbage",
                Some("Bearer not.a.jwt".to_owned()),
                StatusCode::UNAUTHORIZED,
                "malformed",
            ),
        ];
        for (name, authorization, status, contains) in cases {
            let (got, challenge, body) = ask(&layer, authorization.as_deref()).await;
            assert_eq!(got, status, "{name}: {body}");
            assert!(body.contains(contains), "{name}: {body}");
            match (name, status) {
                ("no token", _) => assert_eq!(challenge, r#"Bearer realm="spark-tower""#),
                (_, StatusCode::UNAUTHORIZED) => assert_eq!(challenge, INVALID, "{name}"),
                _ => {}
            }
        }
    }

    #[tokio::test]
    async fn every_asymmetric_algorithm_verifies_with_its_pem() {
        let cases = [
            (
                Algorithm::RS256,
                EncodingKey::from_rsa_pem(RSA_PRIVATE).unwrap(),
                RSA_PUBLIC,
            ),
            (
                Algorithm::PS256,
                EncodingKey::from_rsa_pem(RSA_PRIVATE).unwrap(),
                RSA_PUBLIC,
            ),
            (
                Algorithm::ES256,
                EncodingKey::from_ec_pem(EC_PRIVATE).unwrap(),
                EC_PUBLIC,
            ),
            (
                Algorithm::EdDSA,
                EncodingKey::from_ed_pem(ED_PRIVATE).unwrap(),
                ED_PUBLIC,
            ),
        ];
        for (alg, private, public) in cases {
            let layer = JwtLayer::builder(alg, JwtKeys::pem(alg, public).unwrap())
                .build()
                .unwrap();
            let token = format!("Bearer {}", sign(alg, &private, &claims(), None));
            let (status, _, body) = ask(&layer, Some(&token)).await;
            assert_eq!(status, StatusCode::OK, "{alg:?}: {body}");
            // A token of another algorithm of the same key is refused.
            if alg == Algorithm::RS256 {
                let ps = format!(
                    "Bearer {}",
                    sign(Algorithm::PS256, &private, &claims(), None)
                );
                assert_eq!(ask(&layer, Some(&ps)).await.0, StatusCode::UNAUTHORIZED);
            }
        }
    }

    #[tokio::test]
    async fn hs_rs_confusion_is_refused() {
        // The attacker signs HS256 with the RSA public key as the secret.
        let layer = JwtLayer::builder(
            Algorithm::RS256,
            JwtKeys::pem(Algorithm::RS256, RSA_PUBLIC).unwrap(),
        )
        .build()
        .unwrap();
        let forged = sign(
            Algorithm::HS256,
            &EncodingKey::from_secret(RSA_PUBLIC).unwrap(),
            &claims(),
            None,
        );
        let (status, challenge, _) = ask(&layer, Some(&format!("Bearer {forged}"))).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(challenge, INVALID);
        // And a layer cannot be configured that way round.
        assert_eq!(
            JwtLayer::builder(Algorithm::RS256, JwtKeys::secret(RSA_PUBLIC).unwrap())
                .build()
                .unwrap_err(),
            JwtConfigError::KeyMismatch
        );
        assert_eq!(
            JwtKeys::pem(Algorithm::HS256, RSA_PUBLIC).unwrap_err(),
            JwtConfigError::KeyMismatch
        );
        assert_eq!(
            JwtKeys::pem(Algorithm::ES256, b"not a pem").unwrap_err(),
            JwtConfigError::Key
        );
    }

    fn jwk(kid: &str) -> (EncodingKey, Jwk) {
        let private = EncodingKey::from_rsa_pem(RSA_PRIVATE).unwrap();
        let mut jwk = Jwk::from_encoding_key(&private, Algorithm::RS256).unwrap();
        jwk.common.key_id = Some(kid.to_owned());
        (private, jwk)
    }

    #[tokio::test]
    async fn jwks_by_kid_with_a_refresh_cooldown() {
        let (private, old) = jwk("old");
        let (_, new) = jwk("new");
        let fetches = Arc::new(AtomicUsize::new(0));
        let counter = fetches.clone();
        let fetched = JwkSet {
            keys: vec![old.clone(), new],
        };
        let clock = ManualClock::new();
        let layer = JwtLayer::builder(
            Algorithm::RS256,
            JwtKeys::jwks(JwkSet { keys: vec![old] }).refresh(
                move || {
                    counter.fetch_add(1, Ordering::SeqCst);
                    let set = fetched.clone();
                    async move {
                        tokio::task::yield_now().await;
                        Ok::<_, BoxError>(set)
                    }
                },
                Duration::from_secs(60),
            ),
        )
        .clock(clock.clone())
        .build()
        .unwrap();
        let token = |kid: &str| {
            format!(
                "Bearer {}",
                sign(Algorithm::RS256, &private, &claims(), Some(kid))
            )
        };

        // A known kid: no fetch.
        let (status, _, body) = ask(&layer, Some(&token("old"))).await;
        assert_eq!(
            (status, body.as_str()),
            (StatusCode::OK, "alice pro jwt:old model:gpt-4o*,files:read")
        );
        assert_eq!(fetches.load(Ordering::SeqCst), 0);

        // Unknown kids at once share one fetch, which finds `new`.
        let answers = futures_util::future::join_all((0..5).map(|_| {
            let token = token("new");
            let layer = layer.clone();
            async move { ask(&layer, Some(&token)).await.0 }
        }))
        .await;
        assert!(answers.iter().all(|s| *s == StatusCode::OK), "{answers:?}");
        assert_eq!(fetches.load(Ordering::SeqCst), 1);

        // Random kids within the cooldown fetch nothing more.
        for i in 0..20 {
            let (status, challenge, _) = ask(&layer, Some(&token(&format!("random-{i}")))).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED);
            assert_eq!(challenge, INVALID);
        }
        assert_eq!(fetches.load(Ordering::SeqCst), 1);
        // After the cooldown, one more.
        clock.advance(Duration::from_secs(61));
        assert_eq!(
            ask(&layer, Some(&token("random"))).await.0,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(fetches.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_failing_fetch_is_503() {
        let (private, _) = jwk("k");
        let layer = JwtLayer::builder(
            Algorithm::RS256,
            JwtKeys::jwks(JwkSet { keys: vec![] }).refresh(
                || async { Err::<JwkSet, BoxError>("connection refused".into()) },
                Duration::from_secs(60),
            ),
        )
        .build()
        .unwrap();
        let token = format!(
            "Bearer {}",
            sign(Algorithm::RS256, &private, &claims(), Some("k"))
        );
        let (status, challenge, body) = ask(&layer, Some(&token)).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        assert!(challenge.is_empty());
    }

    #[tokio::test]
    async fn claims_map_to_the_principal_and_scopes_are_required() {
        let layer = JwtLayer::builder(Algorithm::HS256, JwtKeys::secret(SECRET).unwrap())
            .tier_claim("plan")
            .scopes_claim("permissions")
            .default_tier("basic")
            .require_scope("admin")
            .build()
            .unwrap();
        let mut c = json!({"sub": "bob", "exp": now() + 60, "permissions": ["admin", "x"]});
        let (status, _, body) = ask(&layer, Some(&format!("Bearer {}", hs(&c)))).await;
        assert_eq!(
            (status, body.as_str()),
            (StatusCode::OK, "bob basic jwt admin,x")
        );
        c["plan"] = json!("pro");
        c["permissions"] = json!("x y");
        let (status, challenge, _) = ask(&layer, Some(&format!("Bearer {}", hs(&c)))).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(
            challenge,
            r#"Bearer realm="spark-tower", error="insufficient_scope", scope="admin""#
        );
    }

    #[tokio::test]
    async fn api_keys_and_tokens_side_by_side() {
        let key = ApiKey::generate();
        let store =
            MemoryKeyStore::new([KeyEntry::new(&key, "carol", "free").with_id("key_c")]).unwrap();
        let stack = |request: Request<String>| {
            let service = ApiKeyLayer::new(store.clone())
                .pass_other_tokens(true)
                .layer(
                    hs_layer().layer(service_fn(|request: Request<String>| async move {
                        let p = Principal::from_extensions(request.extensions()).unwrap();
                        Ok::<_, Infallible>(Response::new(format!("{} {}", p.user(), p.key_id())))
                    })),
                );
            service.oneshot(request)
        };
        let with = |value: String| {
            let mut request = Request::new(String::new());
            request
                .headers_mut()
                .insert("authorization", value.parse().unwrap());
            request
        };
        let body = |r: Response<ResponseBody<ResponseBody<String>>>| async move {
            (
                r.status(),
                String::from_utf8(r.into_body().collect().await.unwrap().to_bytes().to_vec())
                    .unwrap(),
            )
        };
        let by_key = body(
            stack(with(format!("Bearer {}", key.expose())))
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(by_key, (StatusCode::OK, "carol key_c".to_owned()));
        let by_jwt = body(
            stack(with(format!("Bearer {}", hs(&claims()))))
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(by_jwt, (StatusCode::OK, "alice jwt".to_owned()));
        let bad_key = body(stack(with("Bearer spk_short".to_owned())).await.unwrap()).await;
        assert_eq!(bad_key.0, StatusCode::UNAUTHORIZED);
        let bad_jwt = body(
            stack(with("Bearer eyJ.bad.token".to_owned()))
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(bad_jwt.0, StatusCode::UNAUTHORIZED);
        let none = body(stack(Request::new(String::new())).await.unwrap()).await;
        assert_eq!(none.0, StatusCode::UNAUTHORIZED);
    }

    #[test]
    fn debug_output_holds_no_key_material() {
        let keys = JwtKeys::secret(SECRET).unwrap();
        assert_eq!(format!("{keys:?}"), "JwtKeys::Single(<redacted>)");
        let text = format!("{:?}", hs_layer());
        assert!(!text.contains("secret"), "{text}");
    }
}
