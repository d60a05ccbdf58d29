//! Tests of the whole layer on a manual clock.

use std::convert::Infallible;
use std::future::Future;
use std::num::NonZeroU32;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, StreamBody};
use tower::{Layer, Service, ServiceExt, service_fn};

use super::*;
use crate::body::RequestBody;
use crate::clock::ManualClock;
use crate::marker::{Principal, Provider};
use crate::problem::{Rejection, RejectionKind};

fn n(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap()
}

fn as_user(user: &str, tier: &str, body: &str) -> Request<Full<Bytes>> {
    let mut request = Request::post("/v1/chat/completions")
        .body(Full::new(Bytes::from(body.to_owned())))
        .unwrap();
    request
        .extensions_mut()
        .insert(Principal::new(user, "key", tier, Vec::<String>::new()));
    request
}

/// The request bodies an inner service received.
type Seen = Arc<Mutex<Vec<String>>>;

/// An inner service answering `reply`, recording the bodies it receives.
// The type is an opaque service and its log; naming it would not help.
#[allow(clippy::type_complexity)]
fn upstream(
    reply: fn() -> Response<Full<Bytes>>,
) -> (
    impl Service<
        Request<RequestBody<Full<Bytes>>>,
        Response = Response<Full<Bytes>>,
        Error = Infallible,
        Future = impl Send,
    > + Clone,
    Seen,
) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let service = service_fn(move |request: Request<RequestBody<Full<Bytes>>>| {
        let log = log.clone();
        async move {
            let body = request.into_body().collect().await.unwrap().to_bytes();
            log.lock()
                .unwrap()
                .push(String::from_utf8_lossy(&body).into_owned());
            Ok::<_, Infallible>(reply())
        }
    });
    (service, seen)
}

fn ok() -> Response<Full<Bytes>> {
    Response::new(Full::new(Bytes::from_static(b"{}")))
}

async fn text<B: http_body::Body<Data = Bytes>>(body: B) -> String
where
    B::Error: std::fmt::Debug,
{
    String::from_utf8(body.collect().await.unwrap().to_bytes().to_vec()).unwrap()
}

fn store() -> (Arc<MemoryStore>, ManualClock) {
    let clock = ManualClock::new();
    (Arc::new(MemoryStore::with_clock(clock.clone())), clock)
}

#[tokio::test]
async fn fields_on_admitted_and_refused_responses() {
    let (store, clock) = store();
    let layer = RateLimitLayer::builder()
        .store(store)
        .tier(
            "dev",
            Policy::new()
                .requests(Quota::per_minute(n(60)).with_burst(n(10)))
                .requests(Quota::per_day(n(1000))),
        )
        .build();
    let (inner, _) = upstream(ok);
    let service = layer.layer(inner);
    for i in 0..10u64 {
        let response = service
            .clone()
            .oneshot(as_user("alice", "dev", ""))
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            response.headers()["ratelimit-policy"],
            r#""requests-per-minute";q=60;w=60, "requests-per-day";q=1000;w=86400"#
        );
        assert_eq!(
            response.headers()["ratelimit"],
            format!(
                "\"requests-per-minute\";r={};t={}, \"requests-per-day\";r={};t={}",
                9 - i,
                i + 1,
                999 - i,
                ((i + 1) * 86_400).div_ceil(1000),
            )
        );
    }
    let mut refused = service
        .clone()
        .oneshot(as_user("alice", "dev", ""))
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(refused.headers()["retry-after"], "1");
    assert_eq!(
        refused.headers()["content-type"],
        "application/problem+json"
    );
    assert!(
        refused.headers()["ratelimit"]
            .to_str()
            .unwrap()
            .starts_with("\"requests-per-minute\";r=0;t=10")
    );
    assert_eq!(
        refused
            .extensions_mut()
            .remove::<Rejection>()
            .unwrap()
            .kind(),
        RejectionKind::RateLimited
    );
    let body: serde_json::Value = serde_json::from_str(&text(refused.into_body()).await).unwrap();
    assert_eq!(body["quota"], "requests-per-minute");
    assert_eq!(body["retry_after"], 1);
    // A refusal charged nothing; a second later one more is admitted.
    clock.advance(Duration::from_secs(1));
    let response = service
        .clone()
        .oneshot(as_user("alice", "dev", ""))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    // Other users have their own quota.
    let bob = service.oneshot(as_user("bob", "dev", "")).await.unwrap();
    assert!(
        bob.headers()["ratelimit"]
            .to_str()
            .unwrap()
            .starts_with("\"requests-per-minute\";r=9;t=1,")
    );
}

#[tokio::test]
async fn legacy_and_no_fields() {
    let policy = || Policy::new().requests(Quota::per_minute(n(2)));
    for (style, expected) in [
        (HeaderStyle::Legacy, Some(("2", "1", "30"))),
        (HeaderStyle::None, None),
    ] {
        let layer = RateLimitLayer::builder()
            .default_policy(policy())
            .headers(style)
            .build();
        let (inner, _) = upstream(ok);
        let response = layer
            .layer(inner)
            .oneshot(as_user("u", "any", ""))
            .await
            .unwrap();
        let get = |name: &str| response.headers().get(name).map(|v| v.to_str().unwrap());
        assert_eq!(get("ratelimit"), None);
        match expected {
            Some((limit, remaining, reset)) => {
                assert_eq!(get("x-ratelimit-limit"), Some(limit));
                assert_eq!(get("x-ratelimit-remaining"), Some(remaining));
                assert_eq!(get("x-ratelimit-reset"), Some(reset));
            }
            None => assert_eq!(get("x-ratelimit-limit"), None),
        }
    }
}

#[tokio::test]
async fn tiers_overrides_and_anonymous_requests() {
    let layer = RateLimitLayer::builder()
        .default_policy(Policy::new().requests(Quota::per_minute(n(1))))
        .tier("pro", Policy::new().requests(Quota::per_minute(n(3))))
        .user("vip", Policy::new().requests(Quota::per_minute(n(5))))
        .build();
    let (inner, _) = upstream(ok);
    let service = layer.layer(inner);
    let admitted = |request: fn() -> Request<Full<Bytes>>| {
        let service = service.clone();
        async move {
            let mut count = 0;
            for _ in 0..10 {
                if service.clone().oneshot(request()).await.unwrap().status() == StatusCode::OK {
                    count += 1;
                }
            }
            count
        }
    };
    assert_eq!(admitted(|| as_user("p", "pro", "")).await, 3);
    assert_eq!(
        admitted(|| as_user("f", "free", "")).await,
        1,
        "unknown tier: default"
    );
    assert_eq!(
        admitted(|| as_user("vip", "free", "")).await,
        5,
        "per-user override"
    );
    // Requests without a principal share one key under the default policy.
    let anonymous = || Request::new(Full::new(Bytes::new()));
    assert_eq!(admitted(anonymous).await, 1);
    assert_eq!(
        layer.peek(ANONYMOUS, None).await.unwrap()[0]
            .state
            .remaining,
        0
    );
    assert_eq!(
        layer.peek("p", Some("pro")).await.unwrap()[0]
            .state
            .remaining,
        0
    );
    assert_eq!(
        layer.peek("new", Some("pro")).await.unwrap()[0]
            .state
            .remaining,
        3
    );
}

fn token_layer(store: Arc<MemoryStore>) -> RateLimitLayer<Arc<MemoryStore>> {
    RateLimitLayer::builder()
        .store(store)
        .default_policy(
            Policy::new()
                .requests(Quota::per_minute(n(100)))
                .tokens(Quota::per_minute(n(1000))),
        )
        .build()
}

fn tokens_left(store: &MemoryStore, user: &str) -> u64 {
    let policy = Policy::new()
        .requests(Quota::per_minute(n(100)))
        .tokens(Quota::per_minute(n(1000)));
    store.try_peek(user, &policy).state(&policy, 1).remaining
}

/// 400 characters of content: 100 tokens estimated.
fn chat(stream: bool, include_usage: bool) -> String {
    let mut body = serde_json::json!({
        "model": "gpt-4o-mini",
        "messages": [{"role": "user", "content": "a".repeat(400)}],
    });
    if stream {
        body["stream"] = true.into();
    }
    if include_usage {
        body["stream_options"] = serde_json::json!({"include_usage": true});
    }
    body.to_string()
}

#[tokio::test]
async fn json_usage_settles_the_reservation() {
    fn reply() -> Response<Full<Bytes>> {
        let body = r#"{"choices":[],"usage":{"prompt_tokens":90,"completion_tokens":250}}"#;
        Response::new(Full::new(Bytes::from_static(body.as_bytes())))
    }
    // Read to its end, or sent as hyper sends it: hyper stops at the known
    // length and drops the body without polling its end.
    for like_hyper in [false, true] {
        let (store, _clock) = store();
        let (inner, _) = upstream(reply);
        let service = token_layer(store.clone()).layer(inner);
        let response = service
            .oneshot(as_user("u", "t", &chat(false, false)))
            .await
            .unwrap();
        // The fields show the reservation: 100 estimated of 1000.
        assert!(
            response.headers()["ratelimit"]
                .to_str()
                .unwrap()
                .contains("\"tokens-per-minute\";r=900;")
        );
        assert_eq!(tokens_left(&store, "u"), 900);
        if like_hyper {
            assert!(crate::body::send_like_hyper(response.into_body()).await > 0);
        } else {
            text(response.into_body()).await;
        }
        // Settled on 340 used.
        assert_eq!(tokens_left(&store, "u"), 660, "like hyper: {like_hyper}");
    }
}

#[tokio::test]
async fn error_answers_refund_the_reservation() {
    let (store, _clock) = store();
    fn reply() -> Response<Full<Bytes>> {
        let mut response = Response::new(Full::new(Bytes::from_static(b"{\"error\":{}}")));
        *response.status_mut() = StatusCode::BAD_GATEWAY;
        response
    }
    let (inner, _) = upstream(reply);
    let service = token_layer(store.clone()).layer(inner);
    let response = service
        .oneshot(as_user("u", "t", &chat(false, false)))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_GATEWAY);
    assert_eq!(tokens_left(&store, "u"), 1000);
}

fn sse(events: &[&str]) -> String {
    events.iter().map(|e| format!("data: {e}\n\n")).collect()
}

const CHUNK: &str = r#"{"choices":[{"delta":{"content":"Hi"}}]}"#;
const USAGE_CHUNK: &str = r#"{"choices":[],"usage":{"prompt_tokens":80,"completion_tokens":5}}"#;

fn streaming() -> Response<Full<Bytes>> {
    let body = sse(&[CHUNK, CHUNK, USAGE_CHUNK, "[DONE]"]);
    Response::builder()
        .header("content-type", "text/event-stream")
        .body(Full::new(Bytes::from(body)))
        .unwrap()
}

#[tokio::test]
async fn openai_streams_are_asked_for_usage_the_client_does_not_see() {
    let (store, _clock) = store();
    let (inner, seen) = upstream(streaming);
    let service = token_layer(store.clone()).layer(inner);
    let mut request = as_user("u", "t", &chat(true, false));
    request.extensions_mut().insert(Provider::openai());
    let response = service.clone().oneshot(request).await.unwrap();
    let forwarded: serde_json::Value = serde_json::from_str(&seen.lock().unwrap()[0]).unwrap();
    assert_eq!(forwarded["stream_options"]["include_usage"], true);
    assert_eq!(
        text(response.into_body()).await,
        sse(&[CHUNK, CHUNK, "[DONE]"])
    );
    assert_eq!(tokens_left(&store, "u"), 1000 - 85);

    // A client that asked for usage gets it, and its body is forwarded as is.
    let body = chat(true, true);
    let mut request = as_user("w", "t", &body);
    request.extensions_mut().insert(Provider::openai());
    let response = service.oneshot(request).await.unwrap();
    assert_eq!(seen.lock().unwrap()[1], body);
    assert_eq!(
        text(response.into_body()).await,
        sse(&[CHUNK, CHUNK, USAGE_CHUNK, "[DONE]"])
    );
    assert_eq!(tokens_left(&store, "w"), 1000 - 85);
}

#[tokio::test]
async fn a_dropped_stream_settles_what_was_seen() {
    let (store, _clock) = store();
    // A stream that sends two events and then waits forever.
    let inner = service_fn(|_: Request<RequestBody<Full<Bytes>>>| async {
        let events = futures_util::stream::iter([CHUNK, CHUNK].map(|e| {
            Ok::<_, Infallible>(http_body::Frame::data(Bytes::from(format!(
                "data: {e}\n\n"
            ))))
        }))
        .chain(futures_util::stream::pending());
        Ok::<_, Infallible>(
            Response::builder()
                .header("content-type", "text/event-stream")
                .body(StreamBody::new(events))
                .unwrap(),
        )
    });
    let service = token_layer(store.clone()).layer(inner);
    let response = service
        .oneshot(as_user("u", "t", &chat(true, true)))
        .await
        .unwrap();
    let mut body = response.into_body();
    for _ in 0..2 {
        body.frame().await.unwrap().unwrap();
    }
    assert_eq!(
        tokens_left(&store, "u"),
        900,
        "the reservation, until the end"
    );
    drop(body);
    // The reservation (100) plus one output token per event seen (2).
    assert_eq!(tokens_left(&store, "u"), 898);
}

#[tokio::test]
async fn bodies_beyond_the_limit_are_413_and_charge_nothing() {
    let (store, _clock) = store();
    let layer = RateLimitLayer::builder()
        .store(store.clone())
        .max_body_bytes(100)
        .default_policy(Policy::new().tokens(Quota::per_minute(n(1000))))
        .build();
    let (inner, seen) = upstream(ok);
    let service = layer.layer(inner);
    let response = service
        .clone()
        .oneshot(as_user("u", "t", &"x".repeat(101)))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // A declared length is judged before reading.
    let mut declared = as_user("u", "t", "");
    declared
        .headers_mut()
        .insert("content-length", "5000".parse().unwrap());
    let response = service.oneshot(declared).await.unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(seen.lock().unwrap().is_empty());
    assert_eq!(store.len(), 0);
}

/// A store that answers on the second poll, as a remote one would, or
/// fails.
#[derive(Clone)]
struct Remote {
    inner: Arc<MemoryStore>,
    fail: bool,
}

struct Later(Option<Result<Decision, RateStoreError>>, bool);

impl Future for Later {
    type Output = Result<Decision, RateStoreError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if std::mem::replace(&mut self.1, true) {
            Poll::Ready(self.0.take().unwrap())
        } else {
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

impl RateStore for Remote {
    type Answer = Later;

    fn acquire(&self, key: &str, policy: &Policy, costs: &Costs) -> Later {
        let answer = if self.fail {
            Err(RateStoreError("connection refused".into()))
        } else {
            Ok(self.inner.try_acquire(key, policy, costs))
        };
        Later(Some(answer), false)
    }

    fn peek(&self, key: &str, policy: &Policy) -> Later {
        Later(Some(Ok(self.inner.try_peek(key, policy))), false)
    }

    fn settle(&self, key: &str, policy: &Policy, limit: usize, units: i64) {
        self.inner.settle(key, policy, limit, units);
    }
}

#[tokio::test]
async fn stores_that_answer_later_or_fail() {
    let (memory, _clock) = store();
    for fail in [false, true] {
        let layer = RateLimitLayer::builder()
            .store(Remote {
                inner: memory.clone(),
                fail,
            })
            .default_policy(Policy::new().requests(Quota::per_minute(n(1))))
            .build();
        let (inner, _) = upstream(ok);
        let service = layer.layer(inner);
        let first = service
            .clone()
            .oneshot(as_user("u", "t", ""))
            .await
            .unwrap();
        let second = service.oneshot(as_user("u", "t", "")).await.unwrap();
        if fail {
            assert_eq!(first.status(), StatusCode::SERVICE_UNAVAILABLE);
            assert_eq!(second.status(), StatusCode::SERVICE_UNAVAILABLE);
        } else {
            assert_eq!(first.status(), StatusCode::OK);
            assert_eq!(second.status(), StatusCode::TOO_MANY_REQUESTS);
        }
    }
}

#[tokio::test]
async fn refusals_take_the_provider_error_shape() {
    let layer = RateLimitLayer::builder()
        .default_policy(Policy::new().requests(Quota::per_minute(n(1))))
        .build();
    let (inner, _) = upstream(ok);
    let service = layer.layer(inner);
    let request = || {
        let mut request = as_user("u", "t", "");
        request.extensions_mut().insert(Provider::anthropic());
        request
    };
    service.clone().oneshot(request()).await.unwrap();
    let refused = service.oneshot(request()).await.unwrap();
    let body: serde_json::Value = serde_json::from_str(&text(refused.into_body()).await).unwrap();
    assert_eq!(body["error"]["type"], "rate_limit_error");
}

#[test]
fn debug_output_is_short_and_safe() {
    let layer = RateLimitLayer::builder()
        .user("alice", Policy::new().requests(Quota::per_second(n(1))))
        .build();
    let text = format!("{layer:?}");
    assert!(text.contains("users: 1"), "{text}");
    assert!(!text.contains("alice"));
}

#[tokio::test]
async fn a_request_beyond_the_burst_is_charged_in_full() {
    let (store, clock) = store();
    fn reply() -> Response<Full<Bytes>> {
        let body = r#"{"choices":[],"usage":{"prompt_tokens":2000,"completion_tokens":0}}"#;
        Response::new(Full::new(Bytes::from_static(body.as_bytes())))
    }
    let (inner, _) = upstream(reply);
    let service = token_layer(store.clone()).layer(inner);
    // 8,000 characters: 2,000 tokens estimated, twice the burst of 1,000.
    let body = serde_json::json!({"messages": [{"role": "user", "content": "a".repeat(8000)}]});
    let response = service
        .clone()
        .oneshot(as_user("u", "t", &body.to_string()))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    text(response.into_body()).await;
    // All 2,000 were charged: two minutes of debt, not one.
    let policy = Policy::new()
        .requests(Quota::per_minute(n(100)))
        .tokens(Quota::per_minute(n(1000)));
    let state = store.try_peek("u", &policy).state(&policy, 1);
    assert_eq!(state.remaining, 0);
    assert_eq!(state.reset, Duration::from_secs(120));
    clock.advance(Duration::from_secs(61));
    let refused = service
        .oneshot(as_user("u", "t", &chat(false, false)))
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn a_finished_stream_is_charged_its_reported_usage_exactly() {
    let (store, _clock) = store();
    fn anthropic_stream() -> Response<Full<Bytes>> {
        let events = [
            (
                "message_start",
                r#"{"type":"message_start","message":{"usage":{"input_tokens":90,"output_tokens":1}}}"#,
            ),
            ("ping", r#"{"type":"ping"}"#),
            (
                "content_block_start",
                r#"{"type":"content_block_start","index":0}"#,
            ),
            (
                "content_block_delta",
                r#"{"type":"content_block_delta","delta":{"text":"Hi"}}"#,
            ),
            (
                "content_block_stop",
                r#"{"type":"content_block_stop","index":0}"#,
            ),
            (
                "message_delta",
                r#"{"type":"message_delta","usage":{"output_tokens":2}}"#,
            ),
            ("message_stop", r#"{"type":"message_stop"}"#),
        ];
        let body: String = events
            .iter()
            .map(|(name, data)| format!("event: {name}\ndata: {data}\n\n"))
            .collect();
        Response::builder()
            .header("content-type", "text/event-stream")
            .body(Full::new(Bytes::from(body)))
            .unwrap()
    }
    let (inner, _) = upstream(anthropic_stream);
    let service = token_layer(store.clone()).layer(inner);
    let mut request = as_user("u", "t", &chat(true, false));
    request.extensions_mut().insert(Provider::anthropic());
    let response = service.oneshot(request).await.unwrap();
    text(response.into_body()).await;
    // 90 in and 2 out, although seven events went by.
    assert_eq!(tokens_left(&store, "u"), 1000 - 92);
}

#[tokio::test]
async fn an_inner_error_refunds_the_reservation() {
    let (store, _clock) = store();
    let inner = service_fn(|_: Request<RequestBody<Full<Bytes>>>| async {
        Err::<Response<Full<Bytes>>, std::io::Error>(std::io::Error::other("connection reset"))
    });
    let service = token_layer(store.clone()).layer(inner);
    let result = service
        .oneshot(as_user("u", "t", &chat(false, false)))
        .await;
    assert!(result.is_err());
    assert_eq!(tokens_left(&store, "u"), 1000);
}

#[tokio::test]
async fn usage_at_the_end_of_a_large_body_is_found() {
    let (store, _clock) = store();
    fn large() -> Response<Full<Bytes>> {
        let content = "x".repeat(2 * 1024 * 1024);
        let body = format!(
            r#"{{"choices":[{{"message":{{"content":"{content}"}}}}],"usage":{{"prompt_tokens":100,"completion_tokens":300}}}}"#
        );
        Response::new(Full::new(Bytes::from(body)))
    }
    let (inner, _) = upstream(large);
    let service = token_layer(store.clone()).layer(inner);
    let response = service
        .oneshot(as_user("u", "t", &chat(false, false)))
        .await
        .unwrap();
    let body = text(response.into_body()).await;
    assert!(body.len() > 2 * 1024 * 1024, "the body passes whole");
    assert_eq!(tokens_left(&store, "u"), 600);
}

#[tokio::test]
async fn a_body_that_fails_midway_is_a_400_problem_and_charges_nothing() {
    let (store, _clock) = store();
    let inner = service_fn(|_: Request<RequestBody<StreamBody<_>>>| async {
        Ok::<_, Infallible>(Response::new(Full::new(Bytes::new())))
    });
    let service = token_layer(store.clone()).layer(inner);
    let frames = futures_util::stream::iter([
        Ok(http_body::Frame::data(Bytes::from_static(
            b"{\"messages\":",
        ))),
        Err(std::io::Error::other("connection reset")),
    ]);
    let mut request = Request::post("/v1/chat/completions")
        .body(StreamBody::new(frames))
        .unwrap();
    request
        .extensions_mut()
        .insert(Principal::new("u", "key", "t", Vec::<String>::new()));
    let response = service.oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    assert_eq!(store.len(), 0, "nothing was charged");
}
