//! Per-request overhead of `BodyLimitLayer` (streaming and buffering) on a
//! 1 KiB body, versus a bare service that reads the body and tower-http's
//! `RequestBodyLimitLayer` over the same service.
//!
//! Two request shapes: a body of known length (`Content-Length` and an exact
//! size hint, as hyper delivers it) and a chunked body of 4 x 256 bytes with
//! no known length. Every future completes on its first poll, so requests
//! are driven with `now_or_never`, without a runtime.

use std::convert::Infallible;
use std::hint::black_box;
use std::time::Duration;

use bytes::Bytes;
use criterion::{BenchmarkGroup, Criterion, criterion_group, criterion_main};
use futures_util::FutureExt;
use futures_util::stream::{self, Iter};
use http::{Request, Response, StatusCode};
use http_body::{Body, Frame};
use http_body_util::{BodyExt, Full, StreamBody};
use spark_tower::limit::BodyLimitLayer;
use tower::{Layer, Service, ServiceExt, service_fn};
use tower_http::limit::RequestBodyLimitLayer;

const LIMIT: usize = 64 * 1024;
static BODY: [u8; 1024] = [b'x'; 1024];

type Chunked = StreamBody<Iter<std::array::IntoIter<Result<Frame<Bytes>, Infallible>, 4>>>;

fn known() -> Request<Full<Bytes>> {
    Request::post("/v1/messages")
        .header("content-length", "1024")
        .body(Full::new(Bytes::from_static(&BODY)))
        .unwrap()
}

fn chunked() -> Request<Chunked> {
    let chunk = |i: usize| Ok(Frame::data(Bytes::from_static(&BODY[i * 256..][..256])));
    let frames = [chunk(0), chunk(1), chunk(2), chunk(3)];
    Request::post("/v1/messages")
        .body(StreamBody::new(stream::iter(frames)))
        .unwrap()
}

/// The inner service: reads the whole body, answers with its length.
async fn read<B>(request: Request<B>) -> Result<Response<Full<Bytes>>, Infallible>
where
    B: Body<Data = Bytes>,
    B::Error: std::fmt::Debug,
{
    let body = request.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(body.len(), BODY.len());
    Ok(Response::new(Full::new(Bytes::new())))
}

/// One request: `poll_ready`, `call`, and the future polled to completion
/// without a runtime (every future here completes on the first poll).
fn one_request<S, B, R>(svc: &mut S, request: Request<B>) -> Response<R>
where
    S: Service<Request<B>, Response = Response<R>, Error = Infallible>,
{
    let ready = svc
        .ready()
        .now_or_never()
        .expect("service is always ready")
        .unwrap();
    ready
        .call(request)
        .now_or_never()
        .expect("future completes immediately")
        .unwrap()
}

fn case<S, B, R>(
    group: &mut BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    mut svc: S,
    make: fn() -> Request<B>,
    expected: StatusCode,
) where
    S: Service<Request<B>, Response = Response<R>, Error = Infallible>,
{
    assert_eq!(one_request(&mut svc, make()).status(), expected, "{name}");
    group.bench_function(name, |b| {
        b.iter(|| black_box(one_request(&mut svc, black_box(make()))))
    });
}

fn bench_shape<B>(c: &mut Criterion, shape: &str, make: fn() -> Request<B>)
where
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>> + std::fmt::Debug,
{
    let mut group = c.benchmark_group(format!("limit/{shape}"));
    group
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    let ok = StatusCode::OK;

    case(&mut group, "bare", service_fn(read::<B>), make, ok);
    let streaming = BodyLimitLayer::new(LIMIT);
    case(
        &mut group,
        "body_limit_streaming",
        streaming.layer(service_fn(read)),
        make,
        ok,
    );
    let buffering = BodyLimitLayer::new(LIMIT).buffer(true);
    case(
        &mut group,
        "body_limit_buffering",
        buffering.layer(service_fn(read)),
        make,
        ok,
    );
    let peer = RequestBodyLimitLayer::new(LIMIT);
    case(
        &mut group,
        "tower_http_request_body_limit",
        peer.layer(service_fn(read)),
        make,
        ok,
    );

    // Rejections: the limit below the body (a `Content-Length` over it is
    // answered before the body is read; a chunked one once it passes).
    let tight = StatusCode::PAYLOAD_TOO_LARGE;
    case(
        &mut group,
        "body_limit_reject",
        BodyLimitLayer::new(512).layer(service_fn(read_or_fail)),
        make,
        tight,
    );
    case(
        &mut group,
        "tower_http_reject",
        RequestBodyLimitLayer::new(512).layer(service_fn(read_or_fail)),
        make,
        tight,
    );
    group.finish();
}

/// Like `read`, but answers 413 itself when the body cannot be read, as an
/// axum handler does for tower-http's limit error (our layer replaces
/// whatever the inner service answers).
async fn read_or_fail<B>(request: Request<B>) -> Result<Response<Full<Bytes>>, Infallible>
where
    B: Body<Data = Bytes>,
{
    let mut response = Response::new(Full::new(Bytes::new()));
    if request.into_body().collect().await.is_err() {
        *response.status_mut() = StatusCode::PAYLOAD_TOO_LARGE;
    }
    Ok(response)
}

fn bench_limit(c: &mut Criterion) {
    bench_shape(c, "known_length_1k", known);
    bench_shape(c, "chunked_1k", chunked);
}

criterion_group!(benches, bench_limit);
criterion_main!(benches);
