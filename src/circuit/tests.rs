//! Whole-layer tests on a manual clock: no real sleeps.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body::Frame;
use http_body_util::{BodyExt, Full, StreamBody};
use serde_json::Value;
use tower::{Layer, Service, ServiceExt, service_fn};

use super::*;
use crate::marker::Provider;
use crate::problem::{Rejection, RejectionKind};

const SECOND: Duration = Duration::from_secs(1);

type TestService = tower::util::BoxCloneService<
    Request<()>,
    Response<crate::body::ResponseBody<TrackedBody<Full<Bytes>>>>,
    &'static str,
>;

/// What the inner service is told to do, by request headers: `x-status`
/// (default 200), `x-took-ms` (moves the manual clock before answering),
/// `x-retry-after`, `x-rejection` (a rate-limit rejection from another
/// layer), `x-error` (a transport error).
struct Harness {
    clock: ManualClock,
    calls: Arc<AtomicUsize>,
    handle: CircuitBreakerHandle,
    service: TestService,
}

/// The default-keyed layer with `config`, on `clock`.
fn layer_on(config: CircuitConfig, clock: &ManualClock) -> CircuitBreakerLayer {
    CircuitBreakerLayer::builder()
        .config(config)
        .clock(clock.clone())
        .build()
        .unwrap()
}

fn harness(config: CircuitConfig) -> Harness {
    let clock = ManualClock::new();
    let calls = Arc::new(AtomicUsize::new(0));
    let layer = layer_on(config, &clock);
    let handle = layer.handle();
    let (inner_clock, inner_calls) = (clock.clone(), calls.clone());
    let inner = service_fn(move |request: Request<()>| {
        inner_calls.fetch_add(1, Ordering::SeqCst);
        let header = |name: &str| {
            request
                .headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_owned())
        };
        if let Some(ms) = header("x-took-ms") {
            inner_clock.advance(Duration::from_millis(ms.parse().unwrap()));
        }
        let status: u16 = header("x-status").map_or(200, |s| s.parse().unwrap());
        let mut response = Response::new(Full::new(Bytes::from_static(b"answer")));
        *response.status_mut() = StatusCode::from_u16(status).unwrap();
        if let Some(seconds) = header("x-retry-after") {
            response
                .headers_mut()
                .insert("retry-after", seconds.parse().unwrap());
        }
        if header("x-rejection").is_some() {
            response
                .extensions_mut()
                .insert(Rejection::new(RejectionKind::RateLimited, "quota"));
        }
        let error = header("x-error").is_some();
        async move {
            if error {
                Err("connection reset")
            } else {
                Ok(response)
            }
        }
    });
    Harness {
        clock,
        calls,
        handle,
        service: tower::util::BoxCloneService::new(layer.layer(inner)),
    }
}

fn request(provider: Provider, headers: &[(&str, &str)]) -> Request<()> {
    let mut request = Request::new(());
    for (name, value) in headers {
        request.headers_mut().insert(
            http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            value.parse().unwrap(),
        );
    }
    request.extensions_mut().insert(provider);
    request
}

impl Harness {
    /// One call to `provider`, its body read to the end; the status, or
    /// 0 for a transport error.
    async fn call_to(&self, provider: Provider, headers: &[(&str, &str)]) -> u16 {
        match self
            .service
            .clone()
            .oneshot(request(provider, headers))
            .await
        {
            Ok(response) => {
                let status = response.status().as_u16();
                response.into_body().collect().await.unwrap();
                status
            }
            Err(_) => 0,
        }
    }

    async fn call(&self, headers: &[(&str, &str)]) -> u16 {
        self.call_to(Provider::openai(), headers).await
    }

    fn state(&self) -> CircuitState {
        self.handle.snapshot("openai").unwrap().state
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

const FAIL: &[(&str, &str)] = &[("x-status", "500")];
const OK: &[(&str, &str)] = &[];

/// Trips only on the failure rate, from 4 calls, opens for 10 s exactly.
fn rate_only() -> CircuitConfig {
    CircuitConfig::default()
        .window(Window::Count(10))
        .minimum_calls(4)
        .failure_rate(0.5)
        .no_consecutive_failures()
        .open_for(10 * SECOND, 80 * SECOND)
        .jitter(0.0)
        .half_open_probes(1)
}

#[tokio::test]
async fn trips_on_the_failure_rate_once_the_window_has_enough_calls() {
    let h = harness(rate_only());
    // Three failures: below the minimum of 4 calls, still closed.
    for _ in 0..3 {
        assert_eq!(h.call(FAIL).await, 500);
    }
    assert_eq!(h.state(), CircuitState::Closed);
    let snapshot = h.handle.snapshot("openai").unwrap();
    assert_eq!((snapshot.calls, snapshot.failure_rate), (3, 1.0));
    // The fourth call makes 4 calls at 75% failures.
    assert_eq!(h.call(OK).await, 200);
    assert_eq!(h.state(), CircuitState::Closed, "a success never trips");
    assert_eq!(h.call(FAIL).await, 500);
    assert_eq!(h.state(), CircuitState::Open);
    assert_eq!(h.handle.snapshot("openai").unwrap().trips, 1);
}

#[tokio::test]
async fn a_healthy_rate_does_not_trip() {
    let h = harness(rate_only());
    for i in 0..40 {
        h.call(if i % 3 == 2 { FAIL } else { OK }).await;
    }
    assert_eq!(h.state(), CircuitState::Closed);
}

#[tokio::test]
async fn open_answers_503_without_calling_the_provider() {
    let h = harness(rate_only());
    for _ in 0..4 {
        h.call(FAIL).await;
    }
    assert_eq!(h.state(), CircuitState::Open);
    let before = h.calls();
    let response = h
        .service
        .clone()
        .oneshot(request(Provider::anthropic(), &[]))
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "another provider is not affected");
    let response = h
        .service
        .clone()
        .oneshot(request(Provider::openai(), &[]))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(response.headers()["retry-after"], "10");
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    assert_eq!(
        response.extensions().get::<Rejection>().unwrap().kind(),
        RejectionKind::CircuitOpen
    );
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let json: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(json["type"], "urn:spark-tower:problem:circuit-open");
    assert_eq!(json["breaker"], "openai");
    assert_eq!(json["retry_after"], 10);
    assert_eq!(
        json["error"]["type"], "server_error",
        "the provider's own shape"
    );
    assert_eq!(h.calls(), before + 1, "only the other provider was called");
    // Retry-After counts down.
    h.clock.advance(Duration::from_millis(7_500));
    let response = h
        .service
        .clone()
        .oneshot(request(Provider::openai(), &[]))
        .await
        .unwrap();
    assert_eq!(response.headers()["retry-after"], "3");
}

#[tokio::test]
async fn trips_on_slow_calls_timed_to_the_response_head() {
    let config = rate_only().no_failure_rate().slow_calls(2 * SECOND, 0.5);
    let h = harness(config);
    let slow = &[("x-took-ms", "2500")];
    for _ in 0..3 {
        assert_eq!(h.call(slow).await, 200);
    }
    assert_eq!(h.state(), CircuitState::Closed, "minimum calls");
    assert_eq!(h.call(slow).await, 200);
    assert_eq!(h.state(), CircuitState::Open);
    assert_eq!(h.handle.snapshot("openai").unwrap().slow_call_rate, 1.0);
}

#[tokio::test]
async fn a_long_stream_is_not_a_slow_call() {
    let clock = ManualClock::new();
    let layer = layer_on(
        rate_only().no_failure_rate().slow_calls(2 * SECOND, 0.5),
        &clock,
    );
    let handle = layer.handle();
    let stream_clock = clock.clone();
    let service = layer.layer(service_fn(move |_: Request<()>| {
        let clock = stream_clock.clone();
        async move {
            // The head comes at once; the stream takes 10 s.
            let frames = futures_util::stream::iter(0..3).map(move |i| {
                clock.advance(5 * SECOND);
                Ok::<_, Infallible>(Frame::data(Bytes::from(format!("chunk {i}"))))
            });
            Ok::<_, Infallible>(Response::new(StreamBody::new(frames)))
        }
    }));
    for _ in 0..6 {
        let response = service
            .clone()
            .oneshot(request(Provider::openai(), &[]))
            .await
            .unwrap();
        response.into_body().collect().await.unwrap();
    }
    let snapshot = handle.snapshot("openai").unwrap();
    assert_eq!((snapshot.state, snapshot.calls), (CircuitState::Closed, 6));
    assert_eq!(snapshot.slow_call_rate, 0.0);
}

use futures_util::StreamExt;

#[tokio::test]
async fn a_stream_that_fails_midway_is_a_failure_and_a_dropped_one_is_not_counted() {
    let layer = CircuitBreakerLayer::builder()
        .config(rate_only())
        .build()
        .unwrap();
    let handle = layer.handle();
    let service = layer.layer(service_fn(|_: Request<()>| async {
        let frames = futures_util::stream::iter([
            Ok(Frame::data(Bytes::from_static(b"partial"))),
            Err("provider hung up"),
        ]);
        Ok::<_, Infallible>(Response::new(StreamBody::new(frames)))
    }));
    let response = service
        .clone()
        .oneshot(request(Provider::openai(), &[]))
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "the head was fine");
    assert!(response.into_body().collect().await.is_err());
    let snapshot = handle.snapshot("openai").unwrap();
    assert_eq!((snapshot.calls, snapshot.failure_rate), (1, 1.0));
    // The client goes away before the end: not counted.
    let response = service
        .clone()
        .oneshot(request(Provider::openai(), &[]))
        .await
        .unwrap();
    drop(response);
    assert_eq!(handle.snapshot("openai").unwrap().calls, 1);
}

#[tokio::test]
async fn trips_on_consecutive_failures_and_transport_errors_count() {
    let config = rate_only()
        .no_failure_rate()
        .consecutive_failures(3)
        .minimum_calls(3);
    let h = harness(config);
    h.call(FAIL).await;
    h.call(&[("x-error", "1")]).await;
    h.call(OK).await;
    h.call(&[("x-status", "529")]).await;
    h.call(&[("x-status", "429")]).await;
    assert_eq!(h.state(), CircuitState::Closed, "a success broke the run");
    assert_eq!(h.call(&[("x-error", "1")]).await, 0);
    assert_eq!(h.state(), CircuitState::Open);
}

#[tokio::test]
async fn client_errors_are_successes_and_other_layers_rejections_are_ignored() {
    let h = harness(rate_only());
    for _ in 0..10 {
        assert_eq!(h.call(&[("x-status", "400")]).await, 400);
    }
    for _ in 0..10 {
        h.call(&[("x-status", "429"), ("x-rejection", "1")]).await;
    }
    let snapshot = h.handle.snapshot("openai").unwrap();
    assert_eq!(snapshot.state, CircuitState::Closed);
    assert_eq!((snapshot.calls, snapshot.failure_rate), (10, 0.0));
}

#[tokio::test]
async fn the_wait_grows_on_each_trip_in_a_row_and_resets_after_a_close() {
    let h = harness(rate_only());
    let until = |h: &Harness| h.handle.snapshot("openai").unwrap().until_half_open;
    for _ in 0..4 {
        h.call(FAIL).await;
    }
    assert_eq!(until(&h), Some(10 * SECOND));
    // Half-open: the probe fails, open again for twice as long.
    h.clock.advance(10 * SECOND);
    assert_eq!(h.state(), CircuitState::HalfOpen);
    assert_eq!(h.call(FAIL).await, 500);
    assert_eq!(until(&h), Some(20 * SECOND));
    h.clock.advance(20 * SECOND);
    assert_eq!(h.call(FAIL).await, 500);
    assert_eq!(until(&h), Some(40 * SECOND));
    h.clock.advance(40 * SECOND);
    assert_eq!(h.call(FAIL).await, 500);
    assert_eq!(until(&h), Some(80 * SECOND), "capped");
    h.clock.advance(80 * SECOND);
    assert_eq!(h.call(FAIL).await, 500);
    assert_eq!(until(&h), Some(80 * SECOND));
    // A successful probe closes it, and the next trip waits the base again.
    h.clock.advance(80 * SECOND);
    assert_eq!(h.call(OK).await, 200);
    assert_eq!(h.state(), CircuitState::Closed);
    assert_eq!(
        h.handle.snapshot("openai").unwrap().calls,
        0,
        "a fresh window"
    );
    for _ in 0..4 {
        h.call(FAIL).await;
    }
    assert_eq!(until(&h), Some(10 * SECOND));
    assert_eq!(h.handle.snapshot("openai").unwrap().trips, 6);
}

#[tokio::test]
async fn jitter_spreads_the_wait() {
    let h = harness(rate_only().jitter(0.5));
    for _ in 0..4 {
        h.call(FAIL).await;
    }
    let wait = h
        .handle
        .snapshot("openai")
        .unwrap()
        .until_half_open
        .unwrap();
    assert!(wait >= 5 * SECOND && wait <= 15 * SECOND, "{wait:?}");
}

#[tokio::test]
async fn a_providers_retry_after_keeps_it_open_at_least_that_long() {
    let h = harness(rate_only());
    for _ in 0..3 {
        h.call(FAIL).await;
    }
    h.call(&[("x-status", "529"), ("x-retry-after", "45")])
        .await;
    let snapshot = h.handle.snapshot("openai").unwrap();
    assert_eq!(snapshot.state, CircuitState::Open);
    assert_eq!(snapshot.until_half_open, Some(45 * SECOND));
    // Capped by `retry_after_max`.
    let h = harness(rate_only().retry_after_max(30 * SECOND));
    for _ in 0..3 {
        h.call(FAIL).await;
    }
    h.call(&[("x-status", "503"), ("x-retry-after", "86400")])
        .await;
    let snapshot = h.handle.snapshot("openai").unwrap();
    assert_eq!(snapshot.until_half_open, Some(30 * SECOND));
}

/// Opens `h`'s breaker and moves the clock to half-open.
async fn to_half_open(h: &Harness) {
    for _ in 0..4 {
        h.call(FAIL).await;
    }
    h.clock.advance(10 * SECOND);
    assert_eq!(h.state(), CircuitState::HalfOpen);
}

#[tokio::test]
async fn half_open_needs_every_probe_to_succeed() {
    let h = harness(rate_only().half_open_probes(3));
    to_half_open(&h).await;
    assert_eq!(h.call(OK).await, 200);
    assert_eq!(h.call(OK).await, 200);
    assert_eq!(h.state(), CircuitState::HalfOpen);
    assert_eq!(h.call(OK).await, 200);
    assert_eq!(h.state(), CircuitState::Closed);
}

#[tokio::test]
async fn a_dropped_probe_gives_its_slot_back_uncounted() {
    let h = harness(rate_only());
    to_half_open(&h).await;
    // The probe's future is dropped before it is polled.
    let mut service = h.service.clone();
    let future = service
        .ready()
        .await
        .unwrap()
        .call(request(Provider::openai(), &[]));
    let refused = h
        .service
        .clone()
        .oneshot(request(Provider::openai(), &[]))
        .await
        .unwrap();
    assert_eq!(refused.status(), 503, "the one slot is taken");
    drop(future);
    assert_eq!(h.state(), CircuitState::HalfOpen, "nothing counted");
    assert_eq!(h.calls(), 5, "the dropped probe was called");
    assert_eq!(h.call(OK).await, 200, "the slot is free again");
    assert_eq!(h.state(), CircuitState::Closed);
}

#[tokio::test]
async fn probes_that_do_not_finish_in_time_send_it_back_to_open() {
    let h = harness(rate_only().half_open_max_wait(30 * SECOND));
    to_half_open(&h).await;
    let mut service = h.service.clone();
    let stuck = service
        .ready()
        .await
        .unwrap()
        .call(request(Provider::openai(), &[]));
    h.clock.advance(31 * SECOND);
    assert_eq!(h.call(OK).await, 503);
    let snapshot = h.handle.snapshot("openai").unwrap();
    assert_eq!(snapshot.state, CircuitState::Open);
    assert_eq!(
        snapshot.until_half_open,
        Some(20 * SECOND),
        "the longer wait"
    );
    // The late probe's outcome belongs to a past state: not counted.
    let response = stuck.await.unwrap();
    response.into_body().collect().await.unwrap();
    assert_eq!(h.state(), CircuitState::Open);
}

#[tokio::test]
async fn the_half_open_wait_counts_from_the_latest_probe_not_from_half_open() {
    let h = harness(
        rate_only()
            .half_open_probes(3)
            .half_open_max_wait(30 * SECOND),
    );
    to_half_open(&h).await;
    // No traffic for a minute, then probes arrive a moment apart.
    h.clock.advance(60 * SECOND);
    let mut service = h.service.clone();
    let first = service.call(request(Provider::openai(), &[]));
    h.clock.advance(Duration::from_millis(100));
    let second = service.call(request(Provider::openai(), &[]));
    assert_eq!(h.calls(), 6, "both admitted as probes");
    assert_eq!(h.state(), CircuitState::HalfOpen);
    for probe in [first, second] {
        probe.await.unwrap().into_body().collect().await.unwrap();
    }
    assert_eq!(h.call(OK).await, 200);
    assert_eq!(h.state(), CircuitState::Closed);
}

#[tokio::test]
async fn a_probe_is_judged_at_its_head_and_its_stream_still_counts() {
    let clock = ManualClock::new();
    let layer = layer_on(rate_only(), &clock);
    let handle = layer.handle();
    let failing = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let fails = failing.clone();
    let service = layer.layer(service_fn(move |_: Request<()>| {
        let fails = fails.load(Ordering::SeqCst);
        async move {
            // Heads: 500 while failing; then a long stream that breaks.
            let frames = futures_util::stream::iter([
                Ok(Frame::data(Bytes::from_static(b"part"))),
                Err("provider hung up"),
            ]);
            let mut response = Response::new(StreamBody::new(frames));
            if fails {
                *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
            }
            Ok::<_, Infallible>(response)
        }
    }));
    for _ in 0..4 {
        let response = service
            .clone()
            .oneshot(request(Provider::openai(), &[]))
            .await
            .unwrap();
        drop(response);
    }
    assert_eq!(handle.snapshot("openai").unwrap().state, CircuitState::Open);
    failing.store(false, Ordering::SeqCst);
    clock.advance(10 * SECOND);
    // The probe's head closes the breaker before its stream ends.
    let response = service
        .clone()
        .oneshot(request(Provider::openai(), &[]))
        .await
        .unwrap();
    assert_eq!(
        handle.snapshot("openai").unwrap().state,
        CircuitState::Closed
    );
    // The stream then fails: a failure in the new window.
    assert!(response.into_body().collect().await.is_err());
    let snapshot = handle.snapshot("openai").unwrap();
    assert_eq!((snapshot.calls, snapshot.failure_rate), (1, 1.0));
}

#[tokio::test]
async fn retry_after_of_an_earlier_failure_is_remembered() {
    let h = harness(rate_only());
    h.call(&[("x-status", "429"), ("x-retry-after", "120")])
        .await;
    for _ in 0..3 {
        h.call(&[("x-error", "1")]).await;
    }
    let snapshot = h.handle.snapshot("openai").unwrap();
    assert_eq!(snapshot.state, CircuitState::Open);
    assert_eq!(snapshot.until_half_open, Some(120 * SECOND));
}

#[tokio::test]
async fn keys_beyond_the_limit_pass_without_a_breaker() {
    let clock = ManualClock::new();
    let layer = CircuitBreakerLayer::builder()
        .config(rate_only().minimum_calls(1).failure_rate(1.0))
        .max_keys(2)
        .clock(clock)
        .build()
        .unwrap();
    let handle = layer.handle();
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = calls.clone();
    let service = layer.layer(service_fn(move |_: Request<()>| {
        counted.fetch_add(1, Ordering::SeqCst);
        async {
            let mut response = Response::new(Full::new(Bytes::new()));
            *response.status_mut() = StatusCode::BAD_GATEWAY;
            Ok::<_, Infallible>(response)
        }
    }));
    let providers: Vec<Provider> = (0..5)
        .map(|i| Provider::custom(format!("p{i}"), crate::marker::ProviderApi::OpenAi))
        .collect();
    for _ in 0..3 {
        for provider in &providers {
            service
                .clone()
                .oneshot(request(provider.clone(), &[]))
                .await
                .unwrap();
        }
    }
    assert_eq!(handle.snapshots().len(), 2);
    // p0 and p1 opened after their first failure; the other three reached
    // the provider every time.
    assert_eq!(calls.load(Ordering::SeqCst), 2 + 3 * 3);
    // Operators can still set a breaker for any key.
    handle.force_open("p4");
    assert_eq!(handle.snapshots().len(), 3);
}

#[tokio::test]
async fn a_quiet_half_open_waits_for_traffic() {
    let h = harness(rate_only().half_open_max_wait(30 * SECOND));
    to_half_open(&h).await;
    h.clock.advance(300 * SECOND);
    assert_eq!(h.state(), CircuitState::HalfOpen);
    assert_eq!(h.call(OK).await, 200);
    assert_eq!(h.state(), CircuitState::Closed);
}

#[tokio::test]
async fn forced_states_and_reset() {
    let h = harness(rate_only());
    h.handle.force_open("openai");
    assert_eq!(h.call(OK).await, 503);
    assert_eq!(h.calls(), 0);
    h.clock.advance(3_600 * SECOND);
    assert_eq!(h.call(OK).await, 503, "no wait ends a forced open");
    h.handle.force_closed("openai");
    for _ in 0..20 {
        assert_eq!(h.call(FAIL).await, 500);
    }
    let snapshot = h.handle.snapshot("openai").unwrap();
    assert_eq!(snapshot.state, CircuitState::ForcedClosed);
    assert_eq!(snapshot.failure_rate, 1.0, "still measured");
    h.handle.reset("openai");
    let snapshot = h.handle.snapshot("openai").unwrap();
    assert_eq!((snapshot.state, snapshot.calls), (CircuitState::Closed, 0));
    // Reset of a key never seen is a no-op; snapshots list keys in order.
    h.handle.reset("never-seen");
    h.call_to(Provider::anthropic(), OK).await;
    let keys: Vec<String> = h.handle.snapshots().into_iter().map(|s| s.key).collect();
    assert_eq!(keys, ["anthropic", "openai"]);
}

#[tokio::test]
async fn one_provider_open_another_serving() {
    let h = harness(rate_only());
    for _ in 0..4 {
        h.call_to(Provider::anthropic(), FAIL).await;
    }
    assert_eq!(h.call_to(Provider::anthropic(), OK).await, 503);
    for _ in 0..10 {
        assert_eq!(h.call_to(Provider::openai(), OK).await, 200);
    }
    assert_eq!(
        h.handle.snapshot("anthropic").unwrap().state,
        CircuitState::Open
    );
    assert_eq!(h.state(), CircuitState::Closed);
}

#[tokio::test]
async fn per_key_overrides_and_requests_without_a_key() {
    let clock = ManualClock::new();
    let layer = CircuitBreakerLayer::builder()
        .config(rate_only())
        .override_for("anthropic", rate_only().minimum_calls(1).failure_rate(1.0))
        .clock(clock)
        .build()
        .unwrap();
    let handle = layer.handle();
    let service = layer.layer(service_fn(|_: Request<()>| async {
        let mut response = Response::new(Full::new(Bytes::new()));
        *response.status_mut() = StatusCode::BAD_GATEWAY;
        Ok::<_, Infallible>(response)
    }));
    let status = service
        .clone()
        .oneshot(request(Provider::anthropic(), &[]))
        .await
        .unwrap()
        .status();
    assert_eq!(status, 502);
    assert_eq!(
        handle.snapshot("anthropic").unwrap().state,
        CircuitState::Open
    );
    // No provider marker: passed through, no breaker made.
    for _ in 0..10 {
        let status = service
            .clone()
            .oneshot(Request::new(()))
            .await
            .unwrap()
            .status();
        assert_eq!(status, 502);
    }
    assert_eq!(handle.snapshots().len(), 1);
    // Invalid settings are refused when the layer is built.
    let err = CircuitBreakerLayer::builder()
        .override_for("x", CircuitConfig::default().minimum_calls(0))
        .build()
        .unwrap_err();
    assert_eq!(err, CircuitConfigError::Zero("minimum_calls"));
}

#[tokio::test]
async fn custom_keys_and_classifiers() {
    let layer = CircuitBreakerLayer::builder()
        .config(rate_only().minimum_calls(1).failure_rate(1.0))
        .key(|request: &Request<()>| {
            request
                .headers()
                .get("x-region")
                .map(|v| v.to_str().unwrap_or("").to_owned())
        })
        .classifier(
            |result: Result<&Response<Full<Bytes>>, &Infallible>| match result {
                Ok(response) if response.status() == StatusCode::IM_A_TEAPOT => Outcome::Failure,
                _ => Outcome::Success,
            },
        )
        .build()
        .unwrap();
    let handle = layer.handle();
    let service = layer.layer(service_fn(|_: Request<()>| async {
        let mut response = Response::new(Full::new(Bytes::new()));
        *response.status_mut() = StatusCode::IM_A_TEAPOT;
        Ok::<_, Infallible>(response)
    }));
    let mut eu = Request::new(());
    eu.headers_mut().insert("x-region", "eu".parse().unwrap());
    service.clone().oneshot(eu).await.unwrap();
    assert_eq!(handle.snapshot("eu").unwrap().state, CircuitState::Open);
}

#[tokio::test]
async fn time_windows_forget_old_failures() {
    let config = rate_only().window(Window::Time {
        length: 10 * SECOND,
        buckets: 10,
    });
    let h = harness(config);
    for _ in 0..3 {
        h.call(FAIL).await;
    }
    // Eleven seconds later those failures have aged out.
    h.clock.advance(11 * SECOND);
    h.call(FAIL).await;
    h.call(OK).await;
    h.call(OK).await;
    h.call(OK).await;
    let snapshot = h.handle.snapshot("openai").unwrap();
    assert_eq!((snapshot.state, snapshot.calls), (CircuitState::Closed, 4));
    assert_eq!(snapshot.failure_rate, 0.25);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]

    /// However many requests arrive at once, half-open admits exactly its
    /// probes (or all requests, when fewer).
    #[test]
    fn half_open_admits_exactly_n_concurrent_probes(probes in 1u32..6, requests in 1usize..24, threads in 2usize..6) {
        let h = harness(rate_only().half_open_probes(probes));
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        runtime.block_on(to_half_open(&h));
        let before = h.calls();
        let barrier = Arc::new(std::sync::Barrier::new(threads));
        let sent = Arc::new(AtomicUsize::new(0));
        let held = Arc::new(std::sync::Mutex::new(Vec::new()));
        std::thread::scope(|scope| {
            for t in 0..threads {
                let (barrier, held, service) = (barrier.clone(), held.clone(), h.service.clone());
                let sent = sent.clone();
                scope.spawn(move || {
                    barrier.wait();
                    let mut service = service;
                    for _ in (t..requests).step_by(threads) {
                        // `call` admits or refuses at once (only admitted
                        // calls reach the inner service); the futures are
                        // kept unpolled so the probes stay in flight.
                        let future = service.call(request(Provider::openai(), &[]));
                        held.lock().unwrap().push(future);
                        sent.fetch_add(1, Ordering::SeqCst);
                    }
                });
            }
        });
        let inner_calls = h.calls() - before;
        proptest::prop_assert_eq!(sent.load(Ordering::SeqCst), requests);
        proptest::prop_assert_eq!(inner_calls, requests.min(probes as usize));
        // Dropping them all frees every slot: the next probes are sent.
        held.lock().unwrap().clear();
        let status = runtime.block_on(h.call(OK));
        proptest::prop_assert_eq!(status, 200);
    }
}

/// A recorder keeping every counter and gauge by name and labels.
#[derive(Default)]
struct Recorded(std::sync::Mutex<HashMap<String, Arc<std::sync::atomic::AtomicU64>>>);

use std::collections::HashMap;

impl Recorded {
    fn handle(&self, key: &metrics::Key) -> Arc<std::sync::atomic::AtomicU64> {
        let mut labels: Vec<String> = key
            .labels()
            .map(|l| format!("{}={}", l.key(), l.value()))
            .collect();
        labels.sort();
        let name = format!("{}{{{}}}", key.name(), labels.join(","));
        self.0.lock().unwrap().entry(name).or_default().clone()
    }

    fn counter(&self, name: &str) -> u64 {
        self.0
            .lock()
            .unwrap()
            .get(name)
            .map_or(0, |v| v.load(Ordering::SeqCst))
    }

    fn gauge(&self, name: &str) -> f64 {
        f64::from_bits(self.counter(name))
    }
}

impl metrics::Recorder for Recorded {
    fn describe_counter(
        &self,
        _: metrics::KeyName,
        _: Option<metrics::Unit>,
        _: metrics::SharedString,
    ) {
    }
    fn describe_gauge(
        &self,
        _: metrics::KeyName,
        _: Option<metrics::Unit>,
        _: metrics::SharedString,
    ) {
    }
    fn describe_histogram(
        &self,
        _: metrics::KeyName,
        _: Option<metrics::Unit>,
        _: metrics::SharedString,
    ) {
    }

    fn register_counter(&self, key: &metrics::Key, _: &metrics::Metadata<'_>) -> metrics::Counter {
        metrics::Counter::from_arc(self.handle(key))
    }

    fn register_gauge(&self, key: &metrics::Key, _: &metrics::Metadata<'_>) -> metrics::Gauge {
        metrics::Gauge::from_arc(self.handle(key))
    }

    fn register_histogram(
        &self,
        _: &metrics::Key,
        _: &metrics::Metadata<'_>,
    ) -> metrics::Histogram {
        metrics::Histogram::noop()
    }
}

#[test]
fn calls_states_and_transitions_are_counted() {
    let recorder = Recorded::default();
    metrics::with_local_recorder(&recorder, || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        runtime.block_on(async {
            let h = harness(rate_only());
            h.call(OK).await;
            h.call(&[("x-status", "400"), ("x-rejection", "1")]).await;
            for _ in 0..4 {
                h.call(FAIL).await;
            }
            h.call(OK).await;
            // A snapshot reads the state without moving it.
            h.clock.advance(10 * SECOND);
            assert_eq!(h.state(), CircuitState::HalfOpen);
        });
    });
    let calls = |outcome: &str| {
        recorder.counter(&format!(
            "spark_circuit_calls_total{{key=openai,outcome={outcome}}}"
        ))
    };
    assert_eq!(
        (
            calls("success"),
            calls("failure"),
            calls("ignored"),
            calls("rejected")
        ),
        // 1 success and 3 failures trip it (75%); the last two are refused.
        (1, 3, 1, 2)
    );
    assert_eq!(
        recorder.gauge("spark_circuit_state{key=openai}"),
        1.0,
        "open"
    );
    assert_eq!(
        recorder.counter("spark_circuit_transitions_total{from=closed,key=openai,to=open}"),
        1
    );
    assert_eq!(
        recorder.counter("spark_circuit_transitions_total{from=open,key=openai,to=half_open}"),
        0,
        "a snapshot moved nothing"
    );
}
