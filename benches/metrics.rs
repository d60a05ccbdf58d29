//! Per-request cost of `MetricsLayer` (and `ErrorTrackerLayer`) beside
//! axum-prometheus, the closest maintained peer, over the same axum router
//! and handler. Both record into
//! the same installed Prometheus recorder (a facade call without a recorder
//! costs nothing and proves nothing). Each iteration sends a request, waits
//! for the answer and reads its body, where both layers finish recording.
//! No runtime: every future here completes on its first poll.

use std::hint::black_box;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::routing::post;
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use futures_util::FutureExt;
use http::Request;
use http_body_util::BodyExt;
use spark_tower::errors::{ErrorTracker, ErrorTrackerLayer};
use spark_tower::marker::Provider;
use spark_tower::metrics::{MetricsLayer, describe, prometheus_builder};
use tower::Service;

const ROUTE: &str = "/v1/chat/completions";
const ANSWER: &str = r#"{"id":"chatcmpl-1","model":"gpt-4o-mini","choices":[{"message":{"role":"assistant","content":"Hello!"}}],"usage":{"prompt_tokens":12,"completion_tokens":3}}"#;

fn router() -> Router {
    Router::new().route(
        ROUTE,
        post(|| async { ([(http::header::CONTENT_TYPE, "application/json")], ANSWER) }),
    )
}

fn request() -> Request<Body> {
    Request::post(ROUTE).body(Body::from("{}")).unwrap()
}

/// Sends one request and reads the whole answer.
fn send(router: &mut Router, request: Request<Body>) -> usize {
    let response = <Router as Service<Request<Body>>>::call(router, request)
        .now_or_never()
        .expect("ready at once")
        .unwrap();
    let body = response
        .into_body()
        .collect()
        .now_or_never()
        .unwrap()
        .unwrap();
    body.to_bytes().len()
}

fn per_request(c: &mut Criterion) {
    let handle = prometheus_builder()
        .install_recorder()
        .expect("the only recorder");
    describe();
    let mut group = c.benchmark_group("metrics/per request");
    let tracker = ErrorTracker::new();
    let variants: [(&str, Router); 7] = [
        ("bare router", router()),
        ("spark MetricsLayer", router().layer(MetricsLayer::new())),
        (
            "axum-prometheus",
            router().layer(axum_prometheus::PrometheusMetricLayer::new()),
        ),
        ("axum-prometheus, with body size", {
            let mut layer = axum_prometheus::PrometheusMetricLayer::new();
            layer.enable_response_body_size();
            router().layer(layer)
        }),
        (
            "spark ErrorTrackerLayer",
            router().layer(ErrorTrackerLayer::new(tracker.clone())),
        ),
        (
            "spark MetricsLayer + ErrorTrackerLayer",
            router()
                .layer(ErrorTrackerLayer::new(tracker.clone()))
                .layer(MetricsLayer::new()),
        ),
        (
            "spark MetricsLayer, model answer (tokens read)",
            router()
                .layer(MetricsLayer::new())
                .layer(axum::middleware::map_request(
                    |mut request: Request<Body>| async move {
                        request.extensions_mut().insert(Provider::openai());
                        request
                    },
                )),
        ),
    ];
    for (name, mut router) in variants {
        group.bench_function(name, |b| {
            b.iter_batched(
                request,
                |request| black_box(send(&mut router, request)),
                BatchSize::SmallInput,
            )
        });
    }
    group.finish();
    // Both layers recorded into the installed recorder.
    let text = handle.render();
    assert!(
        text.contains("http_server_requests_total{"),
        "spark recorded"
    );
    assert!(text.contains("axum_http_requests_total{"), "peer recorded");
    assert!(
        text.contains("gen_ai_client_token_usage_bucket{"),
        "tokens read"
    );
    assert!(tracker.is_empty(), "successes are not errors");
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = per_request
}
criterion_main!(benches);
