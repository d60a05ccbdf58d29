//! Tests of the whole layer: what each kind of request is answered with.

use std::convert::Infallible;
use std::future::{Ready, ready};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::BodyExt;
use tower::{Layer, Service, ServiceExt, service_fn};

use super::*;
use crate::marker::{Principal, Provider};
use crate::problem::{Rejection, RejectionKind};

/// What the inner service saw of a request.
#[derive(Debug, Default)]
struct Seen {
    calls: AtomicUsize,
}

/// The answer: status, headers, body as JSON (or text), and the inner
/// service's record.
struct Answer {
    status: StatusCode,
    challenge: Option<String>,
    body: String,
    kind: Option<RejectionKind>,
}

struct Fixture {
    alice: ApiKey,
    alice_new: ApiKey,
    revoked: ApiKey,
    expired: ApiKey,
    scoped: ApiKey,
    store: MemoryKeyStore,
    seen: Arc<Seen>,
}

impl Fixture {
    fn new() -> Self {
        let (alice, alice_new, revoked, expired, scoped) = (
            ApiKey::generate(),
            ApiKey::generate(),
            ApiKey::generate(),
            ApiKey::generate(),
            ApiKey::generate(),
        );
        let store = MemoryKeyStore::new([
            KeyEntry::new(&alice, "alice", "pro").with_id("key_alice"),
            // Rotation: a second key of the same user, valid at once.
            KeyEntry::new(&alice_new, "alice", "pro").with_id("key_alice2"),
            KeyEntry::new(&revoked, "bob", "free").with_disabled(true),
            KeyEntry::new(&expired, "carol", "free")
                .with_expiry(SystemTime::now() - Duration::from_secs(1)),
            KeyEntry::new(&scoped, "dave", "free").with_scopes(["admin", "model:gpt-*"]),
        ])
        .unwrap();
        Self {
            alice,
            alice_new,
            revoked,
            expired,
            scoped,
            store,
            seen: Arc::default(),
        }
    }

    /// The layer over an inner service that checks no credential reaches
    /// it and answers with the principal's user.
    fn service(
        &self,
        layer: impl FnOnce(ApiKeyLayer<MemoryKeyStore>) -> ApiKeyLayer<MemoryKeyStore>,
    ) -> impl Service<
        Request<String>,
        Response = Response<crate::body::ResponseBody<String>>,
        Error = Infallible,
        Future = impl Send,
    > + Clone {
        let seen = self.seen.clone();
        let secrets: Vec<String> = [&self.alice, &self.alice_new, &self.scoped]
            .iter()
            .map(|k| k.expose().to_owned())
            .collect();
        let inner = service_fn(move |request: Request<String>| {
            seen.calls.fetch_add(1, Ordering::SeqCst);
            let head = format!("{:?} {:?}", request.uri(), request.headers());
            for secret in &secrets {
                assert!(
                    !head.contains(secret.as_str()),
                    "credential forwarded: {head}"
                );
            }
            let user = Principal::from_extensions(request.extensions())
                .map_or("-".to_owned(), |p| format!("{}/{}", p.user(), p.key_id()));
            ready(Ok::<_, Infallible>(Response::new(user)))
        });
        layer(ApiKeyLayer::new(self.store.clone())).layer(inner)
    }

    fn calls(&self) -> usize {
        self.seen.calls.load(Ordering::SeqCst)
    }
}

async fn send<S>(service: S, request: Request<String>) -> Answer
where
    S: Service<
            Request<String>,
            Response = Response<crate::body::ResponseBody<String>>,
            Error = Infallible,
        >,
{
    let response = service.oneshot(request).await.unwrap();
    let status = response.status();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned());
    let kind = response
        .extensions()
        .get::<Rejection>()
        .map(Rejection::kind);
    if kind.is_some() {
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
    }
    let body = response.into_body().collect().await.unwrap().to_bytes();
    Answer {
        status,
        challenge,
        body: String::from_utf8(body.to_vec()).unwrap(),
        kind,
    }
}

fn request(headers: &[(&str, &str)]) -> Request<String> {
    let mut builder = Request::builder().uri("/v1/chat/completions");
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder.body(String::new()).unwrap()
}

const MISSING: &str = r#"Bearer realm="spark-tower""#;
const INVALID: &str = r#"Bearer realm="spark-tower", error="invalid_token""#;

#[tokio::test]
async fn each_kind_of_request_gets_its_answer() {
    let f = Fixture::new();
    let bearer = |key: &ApiKey| format!("Bearer {}", key.expose());
    let alice = f.alice.expose();
    let mut mistyped = alice.to_owned().into_bytes();
    mistyped[8] = if mistyped[8] == b'x' { b'y' } else { b'x' };
    let mistyped = String::from_utf8(mistyped).unwrap();
    let unknown = ApiKey::generate();
    let huge = format!("Bearer spk_{}", "a".repeat(64 * 1024));
    let other = bearer(&f.alice_new);
    let alice_bearer = bearer(&f.alice);
    let lower = format!("bearer {alice}");
    let wrong_prefix = format!("sk-_{}", &alice[4..]);
    let mistyped = format!("Bearer {mistyped}");

    // (name, headers, status, challenge, what the body holds)
    type Case<'a> = (
        &'a str,
        Vec<(&'a str, &'a str)>,
        StatusCode,
        Option<&'a str>,
        &'a str,
    );
    let cases: Vec<Case> = vec![
        (
            "bearer",
            vec![("authorization", &alice_bearer)],
            StatusCode::OK,
            None,
            "alice/key_alice",
        ),
        (
            "lower-case scheme",
            vec![("authorization", &lower)],
            StatusCode::OK,
            None,
            "alice/key_alice",
        ),
        (
            "x-api-key",
            vec![("x-api-key", alice)],
            StatusCode::OK,
            None,
            "alice/key_alice",
        ),
        (
            "same key twice",
            vec![("authorization", &alice_bearer), ("x-api-key", alice)],
            StatusCode::OK,
            None,
            "alice/key_alice",
        ),
        (
            "rotated key",
            vec![("x-api-key", f.alice_new.expose())],
            StatusCode::OK,
            None,
            "alice/key_alice2",
        ),
        (
            "no key",
            vec![],
            StatusCode::UNAUTHORIZED,
            Some(MISSING),
            "API key is required",
        ),
        (
            "basic scheme",
            vec![("authorization", "Basic YWxhZGRpbjpvcGVuc2VzYW1l")],
            StatusCode::UNAUTHORIZED,
            Some(MISSING),
            "API key is required",
        ),
        (
            "empty bearer",
            vec![("authorization", "Bearer ")],
            StatusCode::UNAUTHORIZED,
            Some(INVALID),
            "malformed",
        ),
        (
            "mistyped",
            vec![("authorization", &mistyped)],
            StatusCode::UNAUTHORIZED,
            Some(INVALID),
            "checksum",
        ),
        (
            "truncated",
            vec![("x-api-key", &alice[..20])],
            StatusCode::UNAUTHORIZED,
            Some(INVALID),
            "32 characters",
        ),
        (
            "wrong prefix",
            vec![("x-api-key", &wrong_prefix)],
            StatusCode::UNAUTHORIZED,
            Some(INVALID),
            "starts with spk_",
        ),
        (
            "a JWT, not passed on",
            vec![("authorization", "Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig")],
            StatusCode::UNAUTHORIZED,
            Some(INVALID),
            "malformed",
        ),
        (
            "huge header",
            vec![("authorization", &huge)],
            StatusCode::UNAUTHORIZED,
            Some(INVALID),
            "32 characters",
        ),
        (
            "unknown",
            vec![("x-api-key", unknown.expose())],
            StatusCode::UNAUTHORIZED,
            Some(INVALID),
            "not valid",
        ),
        (
            "revoked",
            vec![("x-api-key", f.revoked.expose())],
            StatusCode::UNAUTHORIZED,
            Some(INVALID),
            "not valid",
        ),
        (
            "expired",
            vec![("x-api-key", f.expired.expose())],
            StatusCode::UNAUTHORIZED,
            Some(INVALID),
            "expired",
        ),
        (
            "two different keys",
            vec![
                ("authorization", &alice_bearer),
                ("x-api-key", f.alice_new.expose()),
            ],
            StatusCode::BAD_REQUEST,
            Some(r#"Bearer realm="spark-tower", error="invalid_request""#),
            "more than one credential",
        ),
        (
            "repeated header",
            vec![("x-api-key", alice), ("x-api-key", alice)],
            StatusCode::BAD_REQUEST,
            Some(r#"Bearer realm="spark-tower", error="invalid_request""#),
            "more than one credential",
        ),
        (
            "key in the query only",
            vec![],
            StatusCode::UNAUTHORIZED,
            Some(MISSING),
            "API key is required",
        ),
        (
            "another key as bearer",
            vec![("authorization", &other)],
            StatusCode::OK,
            None,
            "alice/key_alice2",
        ),
    ];
    let service = f.service(|layer| layer);
    for (name, headers, status, challenge, contains) in cases {
        let before = f.calls();
        let mut request = request(&headers);
        if name == "key in the query only" {
            *request.uri_mut() = format!("/v1/messages?api_key={alice}").parse().unwrap();
        }
        let answer = send(service.clone(), request).await;
        assert_eq!(answer.status, status, "{name}: {}", answer.body);
        assert_eq!(answer.challenge.as_deref(), challenge, "{name}");
        assert!(answer.body.contains(contains), "{name}: {}", answer.body);
        assert_eq!(
            f.calls() - before,
            usize::from(status == StatusCode::OK),
            "{name}"
        );
        for key in [&f.alice, &f.alice_new, &f.revoked, &f.expired, &unknown] {
            assert!(
                !answer.body.contains(&key.expose()[4..]),
                "{name}: key echoed"
            );
        }
        match status {
            StatusCode::OK => assert_eq!(answer.kind, None),
            StatusCode::BAD_REQUEST => assert_eq!(answer.kind, Some(RejectionKind::BadRequest)),
            _ => assert_eq!(answer.kind, Some(RejectionKind::Unauthorized), "{name}"),
        }
    }
}

#[tokio::test]
async fn unknown_and_revoked_keys_are_indistinguishable() {
    let f = Fixture::new();
    let service = f.service(|layer| layer);
    let unknown = send(
        service.clone(),
        request(&[("x-api-key", ApiKey::generate().expose())]),
    )
    .await;
    let revoked = send(service, request(&[("x-api-key", f.revoked.expose())])).await;
    assert_eq!(unknown.status, revoked.status);
    assert_eq!(unknown.challenge, revoked.challenge);
    assert_eq!(unknown.body, revoked.body);
}

#[tokio::test]
async fn non_ascii_header_is_malformed_not_a_panic() {
    let f = Fixture::new();
    let mut request = request(&[]);
    request.headers_mut().insert(
        "x-api-key",
        http::HeaderValue::from_bytes("spk_é".as_bytes()).unwrap(),
    );
    let answer = send(f.service(|layer| layer), request).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer.challenge.as_deref(), Some(INVALID));
}

#[tokio::test]
async fn revocation_and_removal_take_effect_on_the_next_request() {
    let f = Fixture::new();
    let service = f.service(|layer| layer);
    let ask = |key: &ApiKey| request(&[("x-api-key", key.expose())]);
    assert_eq!(
        send(service.clone(), ask(&f.alice)).await.status,
        StatusCode::OK
    );
    f.store
        .replace([
            KeyEntry::new(&f.alice, "alice", "pro")
                .with_id("key_alice")
                .with_disabled(true),
            KeyEntry::new(&f.alice_new, "alice", "pro").with_id("key_alice2"),
        ])
        .unwrap();
    assert_eq!(
        send(service.clone(), ask(&f.alice)).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        send(service.clone(), ask(&f.alice_new)).await.status,
        StatusCode::OK
    );
    f.store.replace([]).unwrap();
    assert_eq!(
        send(service, ask(&f.alice_new)).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn query_parameter_only_when_enabled_and_then_removed() {
    let f = Fixture::new();
    let service = f.service(|layer| layer.query_parameter("key"));
    let inner_uri = Arc::new(std::sync::Mutex::new(String::new()));
    let seen_uri = inner_uri.clone();
    let echo = ApiKeyLayer::new(f.store.clone())
        .query_parameter("key")
        .layer(service_fn(move |request: Request<String>| {
            *seen_uri.lock().unwrap() = request.uri().to_string();
            ready(Ok::<_, Infallible>(Response::new(String::new())))
        }));
    let uri = format!("/v1/messages?a=1&key={}&b=2", f.alice.expose());
    let answer = send(service, Request::get(&uri).body(String::new()).unwrap()).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.body, "alice/key_alice");
    let answer = send(echo, Request::get(&uri).body(String::new()).unwrap()).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(*inner_uri.lock().unwrap(), "/v1/messages?a=1&b=2");
}

#[tokio::test]
async fn required_scopes_answer_403() {
    let f = Fixture::new();
    let service = f.service(|layer| layer.require_scope("admin").realm("ops \"x\""));
    let denied = send(service.clone(), request(&[("x-api-key", f.alice.expose())])).await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    assert_eq!(denied.kind, Some(RejectionKind::Forbidden));
    assert_eq!(
        denied.challenge.as_deref(),
        Some(r#"Bearer realm="ops x", error="insufficient_scope", scope="admin""#)
    );
    let body: serde_json::Value = serde_json::from_str(&denied.body).unwrap();
    assert_eq!(body["required_scopes"], serde_json::json!(["admin"]));
    let allowed = send(service, request(&[("x-api-key", f.scoped.expose())])).await;
    assert_eq!(allowed.status, StatusCode::OK);
    assert_eq!(f.calls(), 1);
}

#[tokio::test]
async fn other_bearer_tokens_pass_untouched_when_asked() {
    let f = Fixture::new();
    let jwt = "Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig";
    let inner = service_fn(|request: Request<String>| {
        let kept = request.headers().get("authorization").is_some();
        let principal = Principal::from_extensions(request.extensions()).is_some();
        ready(Ok::<_, Infallible>(Response::new(format!(
            "{kept} {principal}"
        ))))
    });
    let service = ApiKeyLayer::new(f.store.clone())
        .pass_other_tokens(true)
        .layer(inner);
    let answer = send(service.clone(), request(&[("authorization", jwt)])).await;
    assert_eq!(
        (answer.status, answer.body.as_str()),
        (StatusCode::OK, "true false")
    );
    // Keys are still judged, and a JWT beside an x-api-key conflicts.
    let bad = send(
        service.clone(),
        request(&[("authorization", "Bearer spk_x")]),
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNAUTHORIZED);
    let both = send(
        service,
        request(&[("authorization", jwt), ("x-api-key", f.alice.expose())]),
    )
    .await;
    assert_eq!(both.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn provider_routes_get_their_error_shape() {
    let f = Fixture::new();
    let mut request = request(&[]);
    request.extensions_mut().insert(Provider::anthropic());
    let answer = send(f.service(|layer| layer), request).await;
    let body: serde_json::Value = serde_json::from_str(&answer.body).unwrap();
    assert_eq!(body["error"]["type"], "authentication_error");
    assert_eq!(body["status"], 401);
}

/// A store that always fails, as a remote one can.
#[derive(Clone)]
struct Broken;

impl KeyStore for Broken {
    type Lookup = Ready<Result<Option<KeyRecord>, StoreError>>;

    fn lookup(&self, _: &KeyHash) -> Self::Lookup {
        ready(Err(StoreError::Unavailable("connection refused".into())))
    }
}

#[tokio::test]
async fn a_failing_store_answers_503_without_calling_inner() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let service = ApiKeyLayer::new(Broken).layer(service_fn(move |_: Request<String>| {
        counter.fetch_add(1, Ordering::SeqCst);
        ready(Ok::<_, Infallible>(Response::new(String::new())))
    }));
    let answer = send(
        service,
        request(&[("x-api-key", ApiKey::generate().expose())]),
    )
    .await;
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(answer.challenge, None);
    assert_eq!(calls.load(Ordering::SeqCst), 0);
}

#[test]
fn debug_output_holds_no_key() {
    let f = Fixture::new();
    let layer = ApiKeyLayer::new(f.store.clone());
    let text = format!("{layer:?} {:?}", f.store);
    assert!(!text.contains("spk_"), "{text}");
    let entry = KeyEntry::new(&f.alice, "alice", "pro");
    assert!(!format!("{entry:?}").contains(f.alice.expose()));
    let _: Bytes = Bytes::new();
}
