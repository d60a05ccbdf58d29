//! Per-request cost of `ErrorTrackerLayer`: a success passing through (the
//! common case: the provider marker and route template are read, nothing
//! is recorded), and a 502 recorded into its existing group (fingerprint,
//! parameterised message, group update). The bare inner service is
//! measured in the same run; overhead is the difference. No runtime: every
//! future here completes on its first poll.

use std::convert::Infallible;
use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use futures_util::FutureExt;
use http::{Request, Response, StatusCode};
use spark_tower::errors::{ErrorTracker, ErrorTrackerLayer};
use spark_tower::marker::Provider;
use tower::{Layer, Service, service_fn};

type Answer = std::future::Ready<Result<Response<String>, Infallible>>;

fn ok(_: Request<()>) -> Answer {
    std::future::ready(Ok(Response::new(String::new())))
}

fn bad_gateway(_: Request<()>) -> Answer {
    let mut response = Response::new(String::new());
    *response.status_mut() = StatusCode::BAD_GATEWAY;
    std::future::ready(Ok(response))
}

fn request() -> Request<()> {
    let mut request = Request::new(());
    request.extensions_mut().insert(Provider::openai());
    request
}

fn per_request(c: &mut Criterion) {
    let mut group = c.benchmark_group("errors/per request");
    for (name, answer) in [
        ("success", ok as fn(Request<()>) -> Answer),
        ("502 recorded", bad_gateway),
    ] {
        let mut bare = service_fn(answer);
        group.bench_function(format!("bare service, {name}"), |b| {
            b.iter_batched(
                request,
                |request| black_box(bare.call(request).now_or_never()),
                BatchSize::SmallInput,
            )
        });
        let tracker = ErrorTracker::new();
        let mut layered = ErrorTrackerLayer::new(tracker.clone()).layer(service_fn(answer));
        group.bench_function(format!("layer, {name}"), |b| {
            b.iter_batched(
                request,
                |request| black_box(layered.call(request).now_or_never()),
                BatchSize::SmallInput,
            )
        });
        // A success records nothing; every 502 went into its one group.
        let groups = tracker.snapshot();
        match name {
            "success" => assert!(groups.is_empty()),
            _ => assert!(groups.len() == 1 && groups[0].count > 1_000, "{groups:?}"),
        }
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = per_request
}
criterion_main!(benches);
