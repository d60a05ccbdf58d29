//! Per-call overhead of `CircuitBreakerLayer`, beside tower-resilience's
//! circuit breaker configured the same way: a count window of 100 calls,
//! rates judged from 20, trip at a 50% failure rate, 3 half-open probes,
//! 5xx and 429 as failures (no consecutive-failure rule, which the peer's
//! sliding-window model does not combine with the rate).
//!
//! Every call is `poll_ready`, `call`, the future and the response body
//! polled to their ends (also with the service cloned per call, as axum
//! serves a route) (ours counts a success when the body ends), with no
//! runtime: every future here completes on its first poll. The bare inner
//! service is measured in the same run; overhead is the difference.
//!
//! Ours also records through the `metrics` facade (no recorder installed,
//! as in a process without one); the peer is built without its metrics and
//! tracing features.

use std::collections::HashMap;
use std::convert::Infallible;
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use futures_util::FutureExt;
use http::{Request, Response, StatusCode};
use http_body::Body;
use http_body_util::{BodyExt, Full};
use spark_tower::circuit::{CircuitBreakerLayer, CircuitConfig, Window};
use spark_tower::marker::{Provider, ProviderApi};
use tower::{Layer, Service, service_fn};
use tower_resilience::circuitbreaker::CircuitBreakerLayer as PeerLayer;

type Answer = std::future::Ready<Result<Response<Full<Bytes>>, Infallible>>;
type Inner = tower::util::ServiceFn<fn(Request<()>) -> Answer>;

fn ok(_: Request<()>) -> Answer {
    std::future::ready(Ok(Response::new(Full::new(Bytes::from_static(b"{}")))))
}

fn failing(_: Request<()>) -> Answer {
    let mut response = Response::new(Full::new(Bytes::from_static(b"{}")));
    *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    std::future::ready(Ok(response))
}

fn inner(answer: fn(Request<()>) -> Answer) -> Inner {
    service_fn(answer)
}

fn config() -> CircuitConfig {
    CircuitConfig::default()
        .window(Window::Count(100))
        .minimum_calls(20)
        .failure_rate(0.5)
        .no_consecutive_failures()
        .open_for(Duration::from_secs(3_600), Duration::from_secs(3_600))
        .half_open_probes(3)
}

fn ours() -> CircuitBreakerLayer {
    CircuitBreakerLayer::builder()
        .config(config())
        .build()
        .unwrap()
}

fn is_failure(response: &Response<Full<Bytes>>) -> bool {
    response.status().is_server_error() || response.status() == StatusCode::TOO_MANY_REQUESTS
}

macro_rules! peer {
    ($inner:expr) => {
        PeerLayer::builder()
            .sliding_window_size(100)
            .minimum_number_of_calls(20)
            .failure_rate_threshold(0.5)
            .wait_duration_in_open(Duration::from_secs(3_600))
            .permitted_calls_in_half_open(3)
            .classify_response(is_failure)
            .build()
            .unwrap()
            .layer($inner)
    };
}

fn request(provider: &Provider) -> Request<()> {
    let mut request = Request::new(());
    request.extensions_mut().insert(provider.clone());
    request
}

/// Polls `future` until it is ready. Alone, every future here is ready at
/// once; with two threads the peer's lock may make one wait a moment for
/// the other thread, so it is polled again (spinning, as a lock would).
fn drive<F: std::future::Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        std::hint::spin_loop();
    }
}

/// One call through `service`, future and body driven to their ends.
fn one_call<S, B>(service: &mut S, request: Request<()>) -> StatusCode
where
    S: Service<Request<()>, Response = Response<B>>,
    S::Error: std::fmt::Debug,
    B: Body + Unpin,
    B::Error: std::fmt::Debug,
{
    service
        .poll_ready(&mut std::task::Context::from_waker(std::task::Waker::noop()))
        .map(|r| r.unwrap())
        .is_ready()
        .then_some(())
        .expect("ready");
    let response = drive(service.call(request)).unwrap();
    let status = response.status();
    let mut body = response.into_body();
    while let Some(frame) = body.frame().now_or_never().expect("ready body") {
        black_box(frame.unwrap());
    }
    status
}

fn closed(c: &mut Criterion) {
    let mut group = c.benchmark_group("circuit_closed");
    group
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    let openai = Provider::openai();

    let mut bare = inner(ok);
    group.bench_function("bare_service", |b| {
        b.iter(|| one_call(&mut bare, request(&openai)))
    });
    let mut service = ours().layer(inner(ok));
    group.bench_function("ours_1_key", |b| {
        b.iter(|| one_call(&mut service, request(&openai)))
    });
    let mut peer = peer!(inner(ok));
    group.bench_function("peer_1_key", |b| {
        b.iter(|| one_call(&mut peer, request(&openai)))
    });

    // As axum serves a route: the service is cloned for every request.
    let bare_cloned = inner(ok);
    group.bench_function("bare_service_cloned_per_call", |b| {
        b.iter(|| one_call(&mut bare_cloned.clone(), request(&openai)))
    });
    let service = ours().layer(inner(ok));
    group.bench_function("ours_1_key_cloned_per_call", |b| {
        b.iter(|| one_call(&mut service.clone(), request(&openai)))
    });
    let peer = peer!(inner(ok));
    group.bench_function("peer_1_key_cloned_per_call", |b| {
        b.iter(|| one_call(&mut peer.clone(), request(&openai)))
    });

    // 1,000 keys: ours keys breakers by the provider marker; the peer has
    // one breaker per layer, so a user keeps a map of them.
    let providers: Vec<Provider> = (0..1_000)
        .map(|i| Provider::custom(format!("provider-{i}"), ProviderApi::OpenAi))
        .collect();
    let mut bare_keys = inner(ok);
    let mut next = 0;
    group.bench_function(BenchmarkId::new("bare_service", "1000_keys"), |b| {
        b.iter(|| {
            next = (next + 1) % providers.len();
            one_call(&mut bare_keys, request(&providers[next]))
        })
    });
    let mut service = ours().layer(inner(ok));
    group.bench_function(BenchmarkId::new("ours", "1000_keys"), |b| {
        b.iter(|| {
            next = (next + 1) % providers.len();
            one_call(&mut service, request(&providers[next]))
        })
    });
    let mut peers: HashMap<String, _> = providers
        .iter()
        .map(|p| (p.name().to_owned(), peer!(inner(ok))))
        .collect();
    group.bench_function(BenchmarkId::new("peer_map", "1000_keys"), |b| {
        b.iter(|| {
            next = (next + 1) % providers.len();
            let request = request(&providers[next]);
            let key = request.extensions().get::<Provider>().unwrap().name();
            let peer = peers.get_mut(key).unwrap();
            one_call(peer, request)
        })
    });
    group.finish();
}

fn open(c: &mut Criterion) {
    let mut group = c.benchmark_group("circuit_open");
    group
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    let openai = Provider::openai();
    // Tripped by 20 failures; the open wait outlasts the bench.
    let mut service = ours().layer(inner(failing));
    let mut peer = peer!(inner(failing));
    for _ in 0..20 {
        one_call(&mut service, request(&openai));
        let _ = peer.call(request(&openai)).now_or_never();
    }
    assert_eq!(
        one_call(&mut service, request(&openai)),
        StatusCode::SERVICE_UNAVAILABLE
    );
    group.bench_function("ours_rejection", |b| {
        b.iter(|| one_call(&mut service, request(&openai)))
    });
    group.bench_function("peer_rejection", |b| {
        b.iter(|| {
            let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
            let _ = peer.poll_ready(&mut cx);
            black_box(
                peer.call(request(&openai))
                    .now_or_never()
                    .expect("at once")
                    .is_err(),
            )
        })
    });
    group.finish();
}

/// Two threads calling through clones of one service (one key), for the
/// time per call with both cores busy.
fn two_threads(c: &mut Criterion) {
    let mut group = c.benchmark_group("circuit_two_threads");
    group
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    fn run<S, B>(service: S, iters: u64) -> Duration
    where
        S: Service<Request<()>, Response = Response<B>> + Clone + Send + 'static,
        S::Error: std::fmt::Debug,
        B: Body + Unpin,
        B::Error: std::fmt::Debug,
    {
        let openai = Arc::new(Provider::openai());
        let barrier = Arc::new(std::sync::Barrier::new(2));
        let start = Instant::now();
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let (mut service, openai, barrier) =
                    (service.clone(), openai.clone(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    for _ in 0..iters / 2 {
                        one_call(&mut service, request(&openai));
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        start.elapsed()
    }
    group.bench_function("bare_service", |b| {
        b.iter_custom(|iters| run(inner(ok), iters))
    });
    let service = ours().layer(inner(ok));
    group.bench_function("ours_1_key", |b| {
        b.iter_custom(|iters| run(service.clone(), iters))
    });
    let peer = peer!(inner(ok));
    group.bench_function("peer_1_key", |b| {
        b.iter_custom(|iters| run(peer.clone(), iters))
    });
    group.finish();
}

criterion_group!(benches, closed, open, two_threads);
criterion_main!(benches);
