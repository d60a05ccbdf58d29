//! The cost of one health report, as the gateway's `GET /health` builds it:
//! two providers' breakers, an error tracker holding 1,000 groups, a rate
//! limiter holding 10,000 keys, and the resident set size. Liveness (no
//! checks) in the same run.

use std::hint::black_box;
use std::num::NonZeroU32;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use spark_tower::circuit::CircuitBreakerLayer;
use spark_tower::errors::{ErrorEvent, ErrorSource, ErrorTracker};
use spark_tower::health::{CircuitCheck, ErrorTrackerCheck, HealthService, RateLimitCheck, Status};
use spark_tower::rate_limit::{Policy, Quota, RateLimitLayer};

fn report(c: &mut Criterion) {
    let breakers = CircuitBreakerLayer::new();
    breakers.handle().force_closed("openai");
    breakers.handle().force_open("anthropic");
    let tracker = ErrorTracker::new();
    for i in 0..1_000 {
        let route = format!("/route/{i}");
        tracker.record(&ErrorEvent {
            source: ErrorSource::Status,
            provider: Some("openai"),
            route: &route,
            status: Some(502),
            message: "upstream reset",
        });
    }
    let policy = Policy::new().requests(Quota::per_minute(NonZeroU32::new(60).unwrap()));
    let limiter = RateLimitLayer::builder()
        .default_policy(policy.clone())
        .build();
    for i in 0..10_000 {
        limiter
            .store()
            .try_acquire(&format!("user-{i}"), &policy, &[1, 0, 0, 0, 0, 0]);
    }
    let health = HealthService::builder()
        .check(CircuitCheck::new(breakers.handle()).providers(["openai", "anthropic"]))
        .check(ErrorTrackerCheck::new(tracker.clone()))
        .check(RateLimitCheck::new(limiter))
        .memory(Some(1 << 30))
        .version("0.1.0")
        .build();
    let liveness = HealthService::liveness();

    let mut group = c.benchmark_group("health/report");
    group.bench_function(
        "full (breakers, 1,000 error groups, 10,000 keys, memory)",
        |b| b.iter(|| black_box(health.render())),
    );
    group.bench_function("liveness", |b| b.iter(|| black_box(liveness.render())));
    group.finish();
    let (status, body) = health.render();
    assert_eq!(status, Status::Warn, "one provider's breaker is open");
    assert!(body.len() > 200);
    assert_eq!(tracker.len(), 1_000);
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = report
}
criterion_main!(benches);
