//! Per-request overhead of `SecurityHeadersLayer` versus a bare service.

use std::convert::Infallible;
use std::future::{Ready, ready};
use std::hint::black_box;
use std::time::Duration;

use bytes::Bytes;
use criterion::{Criterion, criterion_group, criterion_main};
use futures_util::FutureExt;
use http::{Request, Response};
use http_body_util::Empty;
use spark_tower::headers::SecurityHeadersLayer;
use tower::{Layer, Service, ServiceBuilder, ServiceExt, service_fn};
use tower_http::set_header::SetResponseHeaderLayer;

type Res = Response<Empty<Bytes>>;

fn handler(_req: Request<()>) -> Ready<Result<Res, Infallible>> {
    ready(Ok(Response::new(Empty::new())))
}

/// One request: `poll_ready`, `call`, and the future polled to completion
/// without a runtime (every future here completes on the first poll).
fn one_request<S>(svc: &mut S) -> Res
where
    S: Service<Request<()>, Response = Res, Error = Infallible>,
{
    let ready_svc = svc
        .ready()
        .now_or_never()
        .expect("service is always ready")
        .unwrap();
    ready_svc
        .call(Request::new(()))
        .now_or_never()
        .expect("future completes immediately")
        .unwrap()
}

fn bench_headers(c: &mut Criterion) {
    let mut group = c.benchmark_group("headers");
    group
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));

    let mut baseline = service_fn(handler);
    group.bench_function("baseline", |b| {
        b.iter(|| black_box(one_request(&mut baseline)))
    });

    let mut layered = SecurityHeadersLayer::new().layer(service_fn(handler));
    assert_eq!(one_request(&mut layered).headers().len(), 9);
    group.bench_function("security_headers", |b| {
        b.iter(|| black_box(one_request(&mut layered)))
    });

    // The peer: tower-http's `SetResponseHeaderLayer`, one per header, each
    // keeping a value the inner service set (as our default does).
    let mut stacked = Vec::new();
    for (name, value) in SecurityHeadersLayer::new().headers() {
        stacked.push(SetResponseHeaderLayer::if_not_present(
            name.clone(),
            value.clone(),
        ));
    }
    let mut peer_svc = {
        let [a, b, c, d, e, f, g, h, i]: [_; 9] = stacked.try_into().expect("nine headers");
        ServiceBuilder::new()
            .layer(a)
            .layer(b)
            .layer(c)
            .layer(d)
            .layer(e)
            .layer(f)
            .layer(g)
            .layer(h)
            .layer(i)
            .service(service_fn(handler))
    };
    assert_eq!(one_request(&mut peer_svc).headers().len(), 9);
    group.bench_function("tower_http_set_response_header_x9", |b| {
        b.iter(|| black_box(one_request(&mut peer_svc)))
    });

    group.finish();
}

criterion_group!(benches, bench_headers);
criterion_main!(benches);
