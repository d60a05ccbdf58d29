//! Allocation promises of hot paths, checked with a counting allocator:
//! text that needs no cleaning allocates nothing in the sanitize engine once
//! the thread is warm, a call through a closed circuit breaker allocates
//! nothing beyond what the inner service does, a rate-limit check of a
//! known key allocates nothing, the memory each rate-limited key costs, and
//! a warm request through the metrics layer allocates nothing of its own.
//!
//! The allocator counts only on the thread that asked, so the test harness's
//! own threads do not disturb the figures.

use std::alloc::{GlobalAlloc, Layout, System};
#[cfg(feature = "sanitize")]
use std::borrow::Cow;
use std::cell::Cell;

#[cfg(feature = "sanitize")]
use spark_tower::sanitize::{Sanitizer, clean};

struct Counting;

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static COUNT: Cell<usize> = const { Cell::new(0) };
    static BYTES: Cell<isize> = const { Cell::new(0) };
}

/// Counts an allocation of `bytes` (negative for a release).
fn note_bytes(bytes: isize, allocation: bool) {
    // `try_with`: the allocator also runs while thread locals are torn down.
    let _ = COUNTING.try_with(|on| {
        if on.get() {
            if allocation {
                let _ = COUNT.try_with(|n| n.set(n.get() + 1));
            }
            let _ = BYTES.try_with(|b| b.set(b.get() + bytes));
        }
    });
}

// SAFETY: every call is forwarded unchanged to the system allocator.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note_bytes(layout.size() as isize, true);
        // SAFETY: the caller's contract is passed on as is.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        note_bytes(-(layout.size() as isize), false);
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note_bytes(layout.size() as isize, true);
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note_bytes(new_size as isize - layout.size() as isize, true);
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// How many allocations `f` makes on this thread.
fn allocations(f: impl FnOnce()) -> usize {
    counted(f).0
}

/// How many allocations `f` makes on this thread, and how many bytes it
/// leaves allocated.
fn counted(f: impl FnOnce()) -> (usize, isize) {
    COUNT.with(|n| n.set(0));
    BYTES.with(|b| b.set(0));
    COUNTING.with(|on| on.set(true));
    f();
    COUNTING.with(|on| on.set(false));
    (COUNT.with(Cell::get), BYTES.with(Cell::get))
}

#[cfg(feature = "sanitize")]
const PROSE: &str = "The quarterly report shows that revenue grew in every region except the \
north, where a late shipment delayed two large orders. Please send your comments by Friday \
so that we can prepare a summary for the board. ";

#[cfg(feature = "sanitize")]
#[test]
fn clean_text_allocates_nothing_once_the_thread_is_warm() {
    let sanitizer = Sanitizer::default();
    let short = PROSE.to_owned();
    let long = PROSE.repeat(60);
    let typographic = "Our team\u{2019}s view \u{2014} \u{201c}review the contracts\u{201d}\u{2026} \
        El informe trimestral muestra que los ingresos crecieron. \u{c24}\u{c46}\u{c32}\u{c41}\u{c17}\u{c41}. "
        .repeat(20);
    for text in [&short, &long, &typographic] {
        // Warm: the thread's scratch grows to this size once.
        let warm = sanitizer.detect(&clean(text));
        assert!(warm.is_clean(), "bench prose is not an injection");
        let mut verdicts = Vec::new();
        let n = allocations(|| {
            let cleaned = clean(text);
            assert!(matches!(cleaned, Cow::Borrowed(_)), "nothing to remove");
            verdicts.push(sanitizer.detect(&cleaned).is_clean());
        });
        // `verdicts` had room for none: its one growth is counted.
        assert_eq!(n, 1, "allocations for {} bytes", text.len());
        assert_eq!(verdicts, [true]);
    }
}

#[test]
fn the_counter_sees_allocations() {
    // The guard above could pass by counting nothing at all.
    let n = allocations(|| {
        std::hint::black_box(vec![0u8; 64]);
        std::hint::black_box(String::from("x").repeat(3));
    });
    assert!(n >= 2, "{n}");
}

#[cfg(feature = "sanitize")]
#[test]
fn a_text_needing_cleaning_allocates_only_its_cleaned_copy() {
    let sanitizer = Sanitizer::default();
    let text = format!("{PROSE}\u{200b}\u{202e}");
    sanitizer.detect(&clean(&text));
    let n = allocations(|| {
        let cleaned = clean(&text);
        assert!(matches!(cleaned, Cow::Owned(_)));
        std::hint::black_box(sanitizer.detect(&cleaned));
    });
    // The cleaned copy is the one allocation the engine needs.
    assert_eq!(n, 1);
}

#[cfg(feature = "circuit")]
#[test]
fn a_call_through_a_closed_breaker_allocates_nothing_of_its_own() {
    use futures_util::FutureExt;
    use http_body_util::BodyExt;
    use spark_tower::circuit::CircuitBreakerLayer;
    use spark_tower::marker::Provider;
    use tower::{Layer, Service};

    fn ok(
        _: http::Request<()>,
    ) -> std::future::Ready<Result<http::Response<String>, std::convert::Infallible>> {
        std::future::ready(Ok(http::Response::new(String::new())))
    }
    let mut bare = tower::service_fn(ok);
    let mut service = CircuitBreakerLayer::new().layer(tower::service_fn(ok));
    let request = || {
        let mut request = http::Request::new(());
        request.extensions_mut().insert(Provider::openai());
        request
    };
    // One call through `service`, future and body to their ends.
    fn drive<S, B>(service: &mut S, request: http::Request<()>) -> http::StatusCode
    where
        S: Service<http::Request<()>, Response = http::Response<B>>,
        S::Error: std::fmt::Debug,
        B: http_body::Body + Unpin,
        B::Error: std::fmt::Debug,
    {
        let response = service.call(request).now_or_never().unwrap().unwrap();
        let status = response.status();
        let mut body = response.into_body();
        while let Some(frame) = body.frame().now_or_never().unwrap() {
            frame.unwrap();
        }
        status
    }
    // Warm: the breaker is made on the first call.
    drive(&mut service, request());
    let (mut with, mut without) = (Vec::with_capacity(1), Vec::with_capacity(1));
    let bare_allocations = allocations(|| {
        let request = request();
        without.push(drive(&mut bare, request));
    });
    let breaker_allocations = allocations(|| {
        let request = request();
        with.push(drive(&mut service, request));
    });
    assert_eq!(with, without);
    // The request's extensions are the only allocations, and the bare
    // service's call makes them too.
    assert_eq!(breaker_allocations, bare_allocations);
}

#[cfg(feature = "rate-limit")]
mod rate_limit {
    use std::num::NonZeroU32;

    use spark_tower::rate_limit::{MAX_LIMITS, MemoryStore, Policy, Quota};

    use super::*;

    const ONE: [u64; MAX_LIMITS] = [1; MAX_LIMITS];

    fn policy() -> Policy {
        // One a minute: every key stays in use (none is whole to evict).
        Policy::new()
            .requests(Quota::per_minute(NonZeroU32::new(1).unwrap()))
            .requests(Quota::per_day(NonZeroU32::new(10).unwrap()))
    }

    #[test]
    fn a_known_key_is_checked_without_allocating() {
        let store = MemoryStore::new();
        let policy = policy();
        store.try_acquire("alice", &policy, &ONE);
        let count = allocations(|| {
            for _ in 0..100 {
                std::hint::black_box(store.try_acquire("alice", &policy, &ONE));
            }
        });
        assert_eq!(count, 0);
    }

    /// The memory a key costs: its name, its six arrival times, and its
    /// share of the map's tables (which grow by doubling). BENCHMARKS.md
    /// quotes the figure this prints.
    #[test]
    fn memory_per_key_is_bounded_and_measured() {
        let names: Vec<String> = (0..10_000).map(|i| format!("user-{i:05}")).collect();
        let policy = policy();
        let mut store = None;
        let (_, bytes) = counted(|| {
            let made = MemoryStore::new();
            for name in &names {
                made.try_acquire(name, &policy, &ONE);
            }
            store = Some(made);
        });
        let store = store.unwrap();
        assert_eq!(store.len(), names.len());
        let per_key = bytes / names.len() as isize;
        eprintln!("rate-limit memory: {per_key} bytes per key (10-byte names, 10,000 keys)");
        // Name (10 bytes, in a 16-byte block) + 48 bytes of arrival
        // times + 16 bytes of boxed name pointer + table slack.
        assert!((64..=160).contains(&per_key), "{per_key} bytes per key");
    }
}

#[cfg(feature = "metrics")]
#[test]
fn a_warm_request_through_the_metrics_layer_allocates_nothing_of_its_own() {
    use bytes::Bytes;
    use futures_util::FutureExt;
    use http_body_util::{BodyExt, Empty};
    use metrics_util::debugging::DebuggingRecorder;
    use spark_tower::metrics::{CountedBody, MetricsLayer};
    use tower::{Layer, Service, ServiceExt};

    type Answer =
        std::future::Ready<Result<http::Response<Empty<Bytes>>, std::convert::Infallible>>;
    fn ok<B>(_: http::Request<B>) -> Answer {
        std::future::ready(Ok(http::Response::new(Empty::new())))
    }
    // One call, future and body to their ends.
    fn drive<S, B>(service: &mut S) -> http::StatusCode
    where
        S: Service<http::Request<Empty<Bytes>>, Response = http::Response<B>>,
        S::Error: std::fmt::Debug,
        B: http_body::Body + Unpin,
        B::Error: std::fmt::Debug,
    {
        let response = service
            .ready()
            .now_or_never()
            .unwrap()
            .unwrap()
            .call(http::Request::new(Empty::new()))
            .now_or_never()
            .unwrap()
            .unwrap();
        let status = response.status();
        let mut body = response.into_body();
        while let Some(frame) = body.frame().now_or_never().unwrap() {
            frame.unwrap();
        }
        status
    }
    // Real handles: a recorder that stores what it is given.
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let _local = metrics::set_default_local_recorder(&recorder);
    let mut bare = tower::service_fn(ok::<Empty<Bytes>>);
    let mut service = MetricsLayer::new().layer(tower::service_fn(ok::<CountedBody<Empty<Bytes>>>));
    // Warm: the label sets' handles are registered on the first call.
    drive(&mut service);
    let (mut with, mut without) = (Vec::with_capacity(1), Vec::with_capacity(1));
    let bare_allocations = allocations(|| without.push(drive(&mut bare)));
    let layer_allocations = allocations(|| with.push(drive(&mut service)));
    assert_eq!(with, without);
    assert_eq!(layer_allocations, bare_allocations);
    // And the layer did record both calls.
    let requests: u64 = snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .filter_map(|(key, _, _, value)| match value {
            metrics_util::debugging::DebugValue::Counter(n)
                if key.key().name() == "http_server_requests_total" =>
            {
                Some(n)
            }
            _ => None,
        })
        .sum();
    assert_eq!(requests, 2);
}
