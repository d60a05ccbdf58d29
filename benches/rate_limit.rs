//! The per-key check of the rate limit's in-memory store, beside governor's
//! keyed limiter (`check_key` on a `DefaultKeyedRateLimiter<String>`), in
//! the same run; and the API-key layer's lookup plus `Principal` insertion.
//!
//! Quotas are large, so every check admits (the path a healthy service
//! takes). Keys are `String`s for governor and `&str` for ours, both
//! prepared before timing.

use std::convert::Infallible;
use std::hint::black_box;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use futures_util::FutureExt;
use governor::{Quota as PeerQuota, RateLimiter};
use http::{Request, Response};
use spark_tower::auth::{ApiKey, ApiKeyLayer, KeyEntry, MemoryKeyStore};
use spark_tower::rate_limit::{MAX_LIMITS, MemoryStore, Policy, Quota};
use tower::{Layer, Service, service_fn};

const WARM_KEYS: usize = 10_000;

fn n(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap()
}

fn big() -> NonZeroU32 {
    n(1_000_000_000)
}

/// One request quota that always admits.
fn one_window() -> Policy {
    Policy::new().requests(Quota::per_second(big()))
}

/// The gateway's shape: two request windows and a token quota.
fn gateway_shape() -> Policy {
    Policy::new()
        .requests(Quota::per_minute(big()).with_burst(big()))
        .requests(Quota::per_day(big()))
        .tokens(Quota::per_minute(big()))
}

fn peer() -> governor::DefaultKeyedRateLimiter<String> {
    RateLimiter::keyed(PeerQuota::per_second(big()))
}

fn keys() -> Vec<String> {
    (0..WARM_KEYS).map(|i| format!("user-{i:05}")).collect()
}

const ONE: [u64; MAX_LIMITS] = [1; MAX_LIMITS];

fn warm(c: &mut Criterion) {
    let mut group = c.benchmark_group("rate_limit/check");
    let keys = keys();

    let ours = MemoryStore::new();
    let policy = one_window();
    group.bench_function("ours/1 key", |b| {
        b.iter(|| black_box(ours.try_acquire(black_box("user-00000"), &policy, &ONE)))
    });
    let governor = peer();
    let key = keys[0].clone();
    group.bench_function("governor/1 key", |b| {
        b.iter(|| black_box(governor.check_key(black_box(&key))))
    });

    let ours = MemoryStore::new();
    for key in &keys {
        ours.try_acquire(key, &policy, &ONE);
    }
    let mut i = 0;
    group.bench_function("ours/10k keys", |b| {
        b.iter(|| {
            i = (i + 1) % WARM_KEYS;
            black_box(ours.try_acquire(&keys[i], &policy, &ONE))
        })
    });
    let governor = peer();
    for key in &keys {
        let _ = governor.check_key(key);
    }
    group.bench_function("governor/10k keys", |b| {
        b.iter(|| {
            i = (i + 1) % WARM_KEYS;
            black_box(governor.check_key(&keys[i]))
        })
    });

    // The gateway's policy: three quotas per check, 10k warm keys.
    let ours = MemoryStore::new();
    let shape = gateway_shape();
    let costs = [1, 1, 250, 0, 0, 0];
    for key in &keys {
        ours.try_acquire(key, &shape, &costs);
    }
    group.bench_function("ours/gateway policy, 10k keys", |b| {
        b.iter(|| {
            i = (i + 1) % WARM_KEYS;
            black_box(ours.try_acquire(&keys[i], &shape, &costs))
        })
    });
    group.finish();
}

fn first_seen(c: &mut Criterion) {
    let mut group = c.benchmark_group("rate_limit/first seen");
    let policy = one_window();
    let keys = keys();
    // Each check meets a key the store has not seen: a fresh store per
    // 10,000 keys, made before the clock starts.
    group.bench_function("ours", |b| {
        b.iter_custom(|iters| {
            let stores: Vec<MemoryStore> = (0..=iters as usize / WARM_KEYS)
                .map(|_| MemoryStore::new())
                .collect();
            let start = Instant::now();
            for i in 0..iters as usize {
                black_box(stores[i / WARM_KEYS].try_acquire(&keys[i % WARM_KEYS], &policy, &ONE));
            }
            start.elapsed()
        })
    });
    group.bench_function("governor", |b| {
        b.iter_custom(|iters| {
            let limiters: Vec<_> = (0..=iters as usize / WARM_KEYS).map(|_| peer()).collect();
            let start = Instant::now();
            for i in 0..iters as usize {
                let _ = black_box(limiters[i / WARM_KEYS].check_key(&keys[i % WARM_KEYS]));
            }
            start.elapsed()
        })
    });
    group.finish();
}

/// Two threads checking one key: the time per check, across both.
fn contended(c: &mut Criterion) {
    let mut group = c.benchmark_group("rate_limit/two threads, one key");
    let policy = Arc::new(one_window());
    let ours = Arc::new(MemoryStore::new());
    group.bench_function("ours", |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            std::thread::scope(|scope| {
                for _ in 0..2 {
                    let (ours, policy) = (ours.clone(), policy.clone());
                    scope.spawn(move || {
                        for _ in 0..iters / 2 {
                            black_box(ours.try_acquire("shared", &policy, &ONE));
                        }
                    });
                }
            });
            start.elapsed()
        })
    });
    let governor = Arc::new(peer());
    let key = "shared".to_owned();
    group.bench_function("governor", |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            std::thread::scope(|scope| {
                for _ in 0..2 {
                    let (governor, key) = (governor.clone(), &key);
                    scope.spawn(move || {
                        for _ in 0..iters / 2 {
                            black_box(governor.check_key(key)).ok();
                        }
                    });
                }
            });
            start.elapsed()
        })
    });
    group.finish();
}

/// `ApiKeyLayer` over a service that does nothing: header parsing,
/// checksum, SHA-256, lookup among 10k keys, header removal and
/// `Principal` insertion. The bare service is measured in the same run.
fn api_key(c: &mut Criterion) {
    let mut group = c.benchmark_group("auth/api key");
    let keys: Vec<ApiKey> = (0..WARM_KEYS).map(|_| ApiKey::generate()).collect();
    let store = MemoryKeyStore::new(keys.iter().map(|k| KeyEntry::new(k, "user", "pro"))).unwrap();
    let bearer = format!("Bearer {}", keys[WARM_KEYS / 2].expose());
    let request = || {
        let mut request = Request::new(());
        request
            .headers_mut()
            .insert("authorization", bearer.parse().unwrap());
        request
    };
    let noop =
        service_fn(|_: Request<()>| std::future::ready(Ok::<_, Infallible>(Response::new(()))));
    let mut bare = noop;
    group.bench_function("bare service", |b| {
        b.iter_batched(
            request,
            |request| black_box(bare.call(request).now_or_never()),
            BatchSize::SmallInput,
        )
    });
    let mut layered = ApiKeyLayer::new(store).layer(noop);
    group.bench_function("lookup and principal", |b| {
        b.iter_batched(
            request,
            |request| {
                let response = layered.call(request).now_or_never();
                assert!(
                    response
                        .as_ref()
                        .is_some_and(|r| r.as_ref().unwrap().status().is_success())
                );
                black_box(response)
            },
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = warm, first_seen, contended, api_key
}
criterion_main!(benches);
