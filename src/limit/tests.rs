use std::collections::VecDeque;
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::FutureExt;
use http::{HeaderMap, HeaderValue, Request, Response, StatusCode};
use http_body::{Body, Frame, SizeHint};
use http_body_util::{BodyExt, Empty, Full, StreamBody};
use serde_json::Value;
use tower::{Layer, Service, ServiceExt, service_fn};

use super::*;
use crate::marker::Provider;
use crate::problem::{PROBLEM_JSON, Rejection, RejectionKind};

/// A body yielding prepared frames, all ready at once.
struct TestBody {
    frames: VecDeque<Result<Frame<Bytes>, std::io::Error>>,
    /// The exact size hint it reports, if any (otherwise unknown).
    exact: Option<u64>,
    /// Set on the first poll, to prove a body was never read.
    polled: Arc<AtomicBool>,
}

impl TestBody {
    /// Chunks of the given sizes, with an unknown size hint (chunked).
    fn chunked(sizes: &[usize]) -> Self {
        let frames = sizes
            .iter()
            .enumerate()
            .map(|(i, &n)| Ok(Frame::data(Bytes::from(vec![b'a' + i as u8; n]))))
            .collect();
        Self {
            frames,
            exact: None,
            polled: Arc::default(),
        }
    }

    /// Chunks of the given sizes that announce their exact total length.
    fn known(sizes: &[usize]) -> Self {
        let exact = sizes.iter().sum::<usize>() as u64;
        Self {
            exact: Some(exact),
            ..Self::chunked(sizes)
        }
    }

    /// Announces `exact` bytes whatever it really yields.
    fn lying(mut self, exact: u64) -> Self {
        self.exact = Some(exact);
        self
    }

    fn then_error(mut self) -> Self {
        self.frames
            .push_back(Err(std::io::Error::other("connection reset")));
        self
    }

    fn then_trailers(mut self, name: &'static str, value: &'static str) -> Self {
        let mut trailers = HeaderMap::new();
        trailers.insert(name, HeaderValue::from_static(value));
        self.frames.push_back(Ok(Frame::trailers(trailers)));
        self
    }
}

impl Body for TestBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        self.polled.store(true, Ordering::SeqCst);
        Poll::Ready(self.frames.pop_front())
    }

    fn is_end_stream(&self) -> bool {
        self.frames.is_empty()
    }

    fn size_hint(&self) -> SizeHint {
        self.exact.map_or_else(SizeHint::new, SizeHint::with_exact)
    }
}

/// What the inner service saw and answered, and what the client got.
#[derive(Debug)]
struct Outcome {
    status: StatusCode,
    headers: HeaderMap,
    rejection: Option<RejectionKind>,
    body: Bytes,
    calls: usize,
}

impl Outcome {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("problem JSON")
    }

    /// Asserts a complete 413 problem for `limit`.
    fn assert_too_large(&self, limit: usize, case: &str) {
        assert_eq!(self.status, StatusCode::PAYLOAD_TOO_LARGE, "{case}");
        assert_eq!(self.headers["content-type"], PROBLEM_JSON, "{case}");
        assert_eq!(
            self.rejection,
            Some(RejectionKind::PayloadTooLarge),
            "{case}"
        );
        let json = self.json();
        assert_eq!(
            json["type"], "urn:spark-tower:problem:payload-too-large",
            "{case}"
        );
        assert_eq!(json["status"], 413, "{case}");
        assert_eq!(json["limit"], limit, "{case}");
        assert_eq!(
            json["detail"],
            format!("the request body exceeds the limit of {limit} bytes"),
            "{case}"
        );
        assert!(json.get("error").is_none(), "{case}");
    }

    fn assert_echoed(&self, expected_len: usize, case: &str) {
        assert_eq!(self.status, StatusCode::OK, "{case}: {:?}", self.body);
        assert_eq!(self.body.len(), expected_len, "{case}");
        assert_eq!(self.rejection, None, "{case}");
        assert_eq!(self.calls, 1, "{case}");
    }
}

/// Reads the whole body frame by frame; answers 500 with the error if
/// reading fails (the layer must turn that into a 413 when it was the limit),
/// and reports the frames and size hint it saw in headers.
async fn read_body<B>(request: Request<RequestBody<B>>) -> Result<Response<Full<Bytes>>, Infallible>
where
    B: Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    let hint = request.body().size_hint().exact();
    let mut body = std::pin::pin!(request.into_body());
    let (mut data, mut frames, mut trailers) = (Vec::new(), 0, 0);
    while let Some(frame) = body.frame().await {
        match frame {
            Ok(frame) => match frame.into_data() {
                Ok(chunk) => {
                    frames += 1;
                    data.extend_from_slice(&chunk);
                }
                Err(_) => trailers += 1,
            },
            Err(err) => {
                let limit = err
                    .downcast_ref::<LengthLimitExceeded>()
                    .map(|e| e.limit().to_string());
                let mut response = Response::new(Full::new(Bytes::from(err.to_string())));
                *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
                if let Some(limit) = limit {
                    response
                        .headers_mut()
                        .insert("x-limit-error", limit.parse().unwrap());
                }
                return Ok(response);
            }
        }
    }
    let mut response = Response::new(Full::new(Bytes::from(data)));
    let headers = response.headers_mut();
    headers.insert("x-frames", frames.into());
    headers.insert("x-trailers", trailers.into());
    let hint = hint.map_or("none".to_owned(), |n| n.to_string());
    headers.insert("x-hint", hint.parse().unwrap());
    Ok(response)
}

/// The echo service, counting its calls.
fn echo<B>(
    calls: Arc<AtomicUsize>,
) -> impl Service<
    Request<RequestBody<B>>,
    Response = Response<Full<Bytes>>,
    Error = Infallible,
    Future = impl Future<Output = Result<Response<Full<Bytes>>, Infallible>>,
> + Clone
where
    B: Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    service_fn(move |request| {
        calls.fetch_add(1, Ordering::SeqCst);
        read_body(request)
    })
}

async fn run<B>(layer: &BodyLimitLayer, request: Request<B>) -> Outcome
where
    B: Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    let calls = Arc::new(AtomicUsize::new(0));
    let response = layer
        .layer(echo(Arc::clone(&calls)))
        .oneshot(request)
        .await
        .unwrap();
    let rejection = response
        .extensions()
        .get::<Rejection>()
        .map(Rejection::kind);
    let (parts, body) = response.into_parts();
    Outcome {
        status: parts.status,
        headers: parts.headers,
        rejection,
        body: body.collect().await.unwrap().to_bytes(),
        calls: calls.load(Ordering::SeqCst),
    }
}

fn post<B>(body: B) -> Request<B> {
    Request::post("/v1/chat/completions").body(body).unwrap()
}

fn with_length<B>(mut request: Request<B>, length: &str) -> Request<B> {
    request
        .headers_mut()
        .insert("content-length", length.parse().unwrap());
    request
}

#[tokio::test]
async fn content_length_over_limit_is_rejected_unread() {
    // (case, limit, declared length, bytes sent)
    let cases = [
        ("one over", 100, "101", 101),
        ("far over", 100, "1000000", 10),
        ("limit zero", 0, "1", 1),
        ("huge declared", 1 << 20, "18446744073709551615", 10),
    ];
    for buffer in [false, true] {
        let layer = BodyLimitLayer::new(0).buffer(buffer);
        for (case, limit, declared, sent) in cases {
            let case = format!("{case}, buffer={buffer}");
            let body = TestBody::chunked(&[sent]);
            let polled = Arc::clone(&body.polled);
            let mut request = with_length(post(body), declared);
            request.extensions_mut().insert(RouteLimit(limit));
            let outcome = run(&layer, request).await;
            outcome.assert_too_large(limit, &case);
            assert_eq!(outcome.calls, 0, "{case}: inner service called");
            assert!(!polled.load(Ordering::SeqCst), "{case}: body was read");
        }
    }
}

#[tokio::test]
async fn size_hint_over_limit_is_rejected_unread() {
    let body = TestBody::known(&[60, 60]);
    let polled = Arc::clone(&body.polled);
    let outcome = run(&BodyLimitLayer::new(100), post(body)).await;
    outcome.assert_too_large(100, "hint over");
    assert_eq!(outcome.calls, 0);
    assert!(!polled.load(Ordering::SeqCst));
}

#[tokio::test]
async fn bodies_up_to_the_limit_pass_intact() {
    // (case, limit, chunk sizes, announce the length)
    let cases: [(&str, usize, &[usize], bool); 7] = [
        ("known, exactly the limit", 100, &[100], true),
        ("known, several chunks", 100, &[30, 30, 40], true),
        ("chunked, exactly the limit", 100, &[50, 50], false),
        ("chunked, under", 100, &[1, 2, 3], false),
        ("chunked, empty chunks", 10, &[0, 10, 0], false),
        ("empty, limit zero", 0, &[], false),
        ("unlimited", usize::MAX, &[1000, 1000], false),
    ];
    for buffer in [false, true] {
        for (case, limit, sizes, known) in cases {
            let case = format!("{case}, buffer={buffer}");
            let layer = BodyLimitLayer::new(limit).buffer(buffer);
            let total: usize = sizes.iter().sum();
            let (body, request) = if known {
                let request = post(TestBody::known(sizes));
                (total, with_length(request, &total.to_string()))
            } else {
                (total, post(TestBody::chunked(sizes)))
            };
            let outcome = run(&layer, request).await;
            outcome.assert_echoed(body, &case);
            let expected: Vec<u8> = sizes
                .iter()
                .enumerate()
                .flat_map(|(i, &n)| vec![b'a' + i as u8; n])
                .collect();
            assert_eq!(outcome.body, expected, "{case}");
            let frames = outcome.headers["x-frames"].to_str().unwrap();
            if buffer {
                let expected = if total == 0 { "0" } else { "1" };
                assert_eq!(frames, expected, "{case}");
                assert_eq!(outcome.headers["x-hint"], total.to_string(), "{case}");
            } else {
                assert_eq!(frames, sizes.len().to_string(), "{case}");
            }
        }
    }
}

#[tokio::test]
async fn streamed_body_over_limit_turns_inner_answer_into_413() {
    // (case, limit, chunk sizes, declared length)
    let cases: [(&str, usize, &[usize], Option<&str>); 5] = [
        ("chunked, one over", 100, &[50, 51], None),
        ("chunked, first chunk over", 100, &[101], None),
        ("chunked, many chunks", 1000, &[100; 20], None),
        ("declares less than it sends", 100, &[60, 60], Some("10")),
        ("limit zero", 0, &[1], None),
    ];
    for (case, limit, sizes, declared) in cases {
        let mut request = post(TestBody::chunked(sizes));
        if let Some(declared) = declared {
            request = with_length(request, declared);
        }
        let outcome = run(&BodyLimitLayer::new(limit), request).await;
        outcome.assert_too_large(limit, case);
        assert_eq!(outcome.calls, 1, "{case}: the inner service reads the body");
    }
}

#[tokio::test]
async fn stream_body_over_limit() {
    let chunks = |n: usize| {
        let frames = (0..n).map(|_| Ok::<_, Infallible>(Frame::data(Bytes::from_static(&[7; 64]))));
        StreamBody::new(futures_util::stream::iter(frames))
    };
    let layer = BodyLimitLayer::new(256);
    run(&layer, post(chunks(5)))
        .await
        .assert_too_large(256, "5 x 64 over 256");
    run(&layer, post(chunks(4)))
        .await
        .assert_echoed(256, "4 x 64 at 256");
}

#[tokio::test]
async fn reader_gets_a_typed_error() {
    // A body whose size hint lies is still counted: the reader gets the
    // error even though no overflow flag was allocated for it.
    let calls = Arc::new(AtomicUsize::new(0));
    let service = BodyLimitLayer::new(100).layer(echo(Arc::clone(&calls)));
    let outcome = service
        .oneshot(post(TestBody::chunked(&[80, 80]).lying(50)))
        .await
        .unwrap();
    assert_eq!(outcome.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(outcome.headers()["x-limit-error"], "100");

    let mut body = std::pin::pin!(RequestBody::streaming(
        TestBody::chunked(&[80, 80, 1]),
        100,
        None
    ));
    assert_eq!(
        body.frame()
            .await
            .unwrap()
            .unwrap()
            .data_ref()
            .unwrap()
            .len(),
        80
    );
    assert!(!body.is_end_stream());
    let err = body.frame().await.unwrap().unwrap_err();
    let exceeded = err.downcast_ref::<LengthLimitExceeded>().unwrap();
    assert_eq!(exceeded.limit(), 100);
    assert_eq!(
        err.to_string(),
        "the request body exceeds the limit of 100 bytes"
    );
    assert!(body.is_end_stream());
    assert_eq!(body.size_hint().exact(), Some(0));
    assert!(body.frame().await.is_none(), "ends after the error");
}

#[tokio::test]
async fn per_route_limits_by_extension_and_path() {
    let layer = BodyLimitLayer::new(100)
        .route("/v1/messages", 1000)
        .route("/small", 10);
    const CHAT: &str = "/v1/chat/completions";
    // (case, path, extension, bytes sent, expected limit or None to pass)
    type Case = (
        &'static str,
        &'static str,
        Option<usize>,
        usize,
        Option<usize>,
    );
    let cases: [Case; 10] = [
        ("default passes", CHAT, None, 100, None),
        ("default rejects", CHAT, None, 101, Some(100)),
        ("looser route passes", "/v1/messages", None, 1000, None),
        (
            "looser route rejects",
            "/v1/messages",
            None,
            1001,
            Some(1000),
        ),
        ("tighter route rejects", "/small", None, 11, Some(10)),
        ("query ignored", "/small?x=1", None, 11, Some(10)),
        ("prefix no match", "/v1/messages/x", None, 101, Some(100)),
        ("looser extension", CHAT, Some(5000), 4000, None),
        ("tighter extension", CHAT, Some(5), 6, Some(5)),
        (
            "extension beats route",
            "/v1/messages",
            Some(20),
            21,
            Some(20),
        ),
    ];
    for buffer in [false, true] {
        let layer = layer.clone().buffer(buffer);
        for (case, path, extension, sent, rejected) in cases {
            let case = format!("{case}, buffer={buffer}");
            let mut request = Request::post(path)
                .body(TestBody::chunked(&[sent]))
                .unwrap();
            if let Some(limit) = extension {
                request.extensions_mut().insert(RouteLimit(limit));
            }
            let outcome = run(&layer, request).await;
            match rejected {
                Some(limit) => outcome.assert_too_large(limit, &case),
                None => outcome.assert_echoed(sent, &case),
            }
        }
    }
}

#[tokio::test]
async fn buffering_gives_one_frame_with_exact_hint_and_trailers() {
    let layer = BodyLimitLayer::new(1000).buffer(true);
    let body = TestBody::chunked(&[100, 200, 300]).then_trailers("x-checksum", "abc");
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let inner = {
        let seen = Arc::clone(&seen);
        let calls = Arc::clone(&calls);
        service_fn(move |request: Request<RequestBody<TestBody>>| {
            calls.fetch_add(1, Ordering::SeqCst);
            let seen = Arc::clone(&seen);
            async move {
                let mut body = request.into_body();
                let mut log = Vec::new();
                log.push(format!("hint {:?}", body.size_hint().exact()));
                while let Some(frame) = body.frame().await {
                    let frame = frame.unwrap();
                    if let Some(data) = frame.data_ref() {
                        log.push(format!("data {}", data.len()));
                    } else if let Some(trailers) = frame.trailers_ref() {
                        log.push(format!("trailers {:?}", trailers["x-checksum"]));
                    }
                }
                log.push(format!("end {}", body.is_end_stream()));
                *seen.lock().unwrap() = log;
                Ok::<_, Infallible>(Response::new(Empty::<Bytes>::new()))
            }
        })
    };
    let response = layer.layer(inner).oneshot(post(body)).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(
        *seen.lock().unwrap(),
        ["hint Some(600)", "data 600", "trailers \"abc\"", "end true"]
    );
}

#[test]
fn buffering_copies_only_multi_frame_bodies() {
    // A single frame is handed on as is: the same allocation.
    let chunk = Bytes::from(vec![1; 64]);
    let ptr = chunk.as_ptr();
    let mut body = std::pin::pin!(Full::new(chunk));
    let mut collect = future::Collect::new(64);
    let waker = futures_util::task::noop_waker();
    let mut cx = Context::from_waker(&waker);
    let Poll::Ready(Ok(buffered)) = collect.poll_body(body.as_mut(), &mut cx, 64) else {
        panic!("a ready body collects at once");
    };
    let data = buffered
        .collect()
        .now_or_never()
        .unwrap()
        .unwrap()
        .to_bytes();
    assert_eq!(data.as_ptr(), ptr);

    // Several frames go into one buffer of the announced size.
    let mut body = std::pin::pin!(TestBody::known(&[10, 20, 30]));
    let mut collect = future::Collect::new(60);
    let Poll::Ready(Ok(buffered)) = collect.poll_body(body.as_mut(), &mut cx, 100) else {
        panic!("a ready body collects at once");
    };
    assert_eq!(buffered.size_hint().exact(), Some(60));
    let data = buffered
        .collect()
        .now_or_never()
        .unwrap()
        .unwrap()
        .to_bytes();
    assert_eq!(data.len(), 60);
}

#[tokio::test]
async fn buffering_rejects_oversized_body_without_calling_inner() {
    let layer = BodyLimitLayer::new(100).buffer(true);
    // (case, body)
    let cases = [
        ("chunked over", TestBody::chunked(&[60, 60])),
        ("chunked, first chunk over", TestBody::chunked(&[101])),
        ("lying hint", TestBody::chunked(&[60, 60]).lying(50)),
    ];
    for (case, body) in cases {
        let outcome = run(&layer, post(body)).await;
        outcome.assert_too_large(100, case);
        assert_eq!(outcome.calls, 0, "{case}");
    }
}

#[tokio::test]
async fn buffering_read_error_is_400() {
    let layer = BodyLimitLayer::new(100).buffer(true);
    let outcome = run(&layer, post(TestBody::chunked(&[10]).then_error())).await;
    assert_eq!(outcome.status, StatusCode::BAD_REQUEST);
    assert_eq!(outcome.calls, 0);
    assert_eq!(outcome.rejection, Some(RejectionKind::BadRequest));
    assert_eq!(outcome.headers["content-type"], PROBLEM_JSON);
    let json = outcome.json();
    assert_eq!(json["type"], "urn:spark-tower:problem:bad-request");
    assert_eq!(json["detail"], "the request body could not be read");

    // An inner limit error (a nested streaming `BodyLimit`) stays a 413.
    let nested = RequestBody::streaming(TestBody::chunked(&[60, 60]), 50, None);
    let outcome = run(&layer, post(nested)).await;
    outcome.assert_too_large(50, "nested limit");
    assert_eq!(outcome.calls, 0);
}

#[tokio::test]
async fn streaming_read_error_passes_to_inner() {
    let outcome = run(
        &BodyLimitLayer::new(100),
        post(TestBody::chunked(&[10]).then_error()),
    )
    .await;
    assert_eq!(outcome.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(outcome.body, "connection reset");
    assert_eq!(outcome.rejection, None);
}

#[tokio::test]
async fn provider_routes_get_provider_shaped_error() {
    // (case, layer, body)
    let cases = [
        (
            "declared",
            BodyLimitLayer::new(10),
            with_length(post(TestBody::chunked(&[11])), "11"),
        ),
        (
            "streamed",
            BodyLimitLayer::new(10),
            post(TestBody::chunked(&[5, 6])),
        ),
        (
            "buffered",
            BodyLimitLayer::new(10).buffer(true),
            post(TestBody::chunked(&[5, 6])),
        ),
    ];
    for (case, layer, mut request) in cases {
        request.extensions_mut().insert(Provider::anthropic());
        let outcome = run(&layer, request).await;
        assert_eq!(outcome.status, StatusCode::PAYLOAD_TOO_LARGE, "{case}");
        let json = outcome.json();
        assert_eq!(json["limit"], 10, "{case}");
        assert_eq!(json["error"]["type"], "request_too_large", "{case}");
        assert_eq!(
            json["error"]["message"],
            "Request body too large: the request body exceeds the limit of 10 bytes",
            "{case}"
        );
    }
}

#[test]
fn overflow_flag_only_when_the_body_may_pass_the_limit() {
    let inner = service_fn(|_: Request<RequestBody<TestBody>>| async {
        Ok::<_, Infallible>(Response::new(Empty::<Bytes>::new()))
    });
    // (case, layer, body, flag allocated)
    let cases = [
        (
            "known under",
            BodyLimitLayer::new(100),
            TestBody::known(&[50]),
            false,
        ),
        (
            "known at",
            BodyLimitLayer::new(100),
            TestBody::known(&[100]),
            false,
        ),
        (
            "chunked",
            BodyLimitLayer::new(100),
            TestBody::chunked(&[50]),
            true,
        ),
        (
            "unlimited chunked",
            BodyLimitLayer::new(usize::MAX),
            TestBody::chunked(&[50]),
            false,
        ),
        (
            "buffered, empty",
            BodyLimitLayer::new(100).buffer(true),
            TestBody::chunked(&[]),
            false,
        ),
    ];
    for (case, layer, body, flag) in cases {
        let mut service = layer.layer(inner);
        let future = service.call(post(body));
        assert_eq!(future.has_overflow_flag(), flag, "{case}");
        assert!(!future.is_collecting(), "{case}");
    }
    let mut service = BodyLimitLayer::new(100).buffer(true).layer(inner);
    assert!(service.call(post(TestBody::chunked(&[1]))).is_collecting());
}

#[tokio::test]
async fn inner_errors_pass_unless_the_limit_was_passed() {
    #[derive(Debug, PartialEq)]
    struct Boom;

    let inner = service_fn(|request: Request<RequestBody<TestBody>>| async move {
        let _ = request.into_body().collect().await;
        Err::<Response<Empty<Bytes>>, _>(Boom)
    });
    let layer = BodyLimitLayer::new(10);
    let err = layer
        .layer(inner)
        .oneshot(post(TestBody::chunked(&[5])))
        .await
        .unwrap_err();
    assert_eq!(err, Boom);
    // The body passed the limit: the error was caused by it.
    let response = layer
        .layer(inner)
        .oneshot(post(TestBody::chunked(&[5, 6])))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

#[test]
fn request_body_size_hints() {
    // (case, body, limit, expected lower, expected upper)
    let cases = [
        ("known under", TestBody::known(&[40]), 100, 40, Some(40)),
        ("known over", TestBody::known(&[400]), 100, 100, Some(100)),
        ("unknown", TestBody::chunked(&[40]), 100, 0, Some(100)),
        ("limit zero", TestBody::chunked(&[]), 0, 0, Some(0)),
    ];
    for (case, body, limit, lower, upper) in cases {
        let hint = RequestBody::streaming(body, limit, None).size_hint();
        assert_eq!(hint.lower(), lower, "{case}");
        assert_eq!(hint.upper(), upper, "{case}");
    }
    let buffered = RequestBody::<TestBody>::buffered(Bytes::from_static(b"abc"), None);
    assert_eq!(buffered.size_hint().exact(), Some(3));
    assert!(!buffered.is_end_stream());
    assert!(RequestBody::<TestBody>::empty().is_end_stream());
}

#[test]
fn layer_configuration() {
    let layer = BodyLimitLayer::new(100)
        .route("/a", 1)
        .route("/b", 2)
        .route("/a", 3);
    assert_eq!(layer.limit(), 100);
    assert_eq!(layer.limit_for_path("/a"), 3);
    assert_eq!(layer.limit_for_path("/b"), 2);
    assert_eq!(layer.limit_for_path("/c"), 100);
    assert!(!layer.is_buffering());

    // Clones share the configuration until one is changed.
    let clone = layer.clone();
    let service = clone.layer(());
    assert!(Arc::ptr_eq(&layer.config, &clone.config));
    let buffering = clone.buffer(true);
    assert!(buffering.is_buffering());
    assert!(!layer.is_buffering());
    assert_eq!(buffering.limit_for_path("/a"), 3);

    let mut service = service;
    let _ = service.get_ref();
    let _ = service.get_mut();
    service.into_inner();
    BodyLimit::new((), 1).into_inner();

    assert!(format!("{layer:?}").contains("routes"));
    let body = RequestBody::streaming(TestBody::chunked(&[]), 5, None);
    assert!(format!("{body:?}").contains("Streaming"));
    let body = RequestBody::<TestBody>::empty();
    assert!(format!("{body:?}").contains("Buffered"));
    assert_eq!(RouteLimit(5), RouteLimit(5));
}

#[test]
#[should_panic(expected = "must start with '/'")]
fn route_without_leading_slash_panics() {
    let _ = BodyLimitLayer::new(1).route("v1/messages", 2);
}

#[test]
fn future_debug_names_its_state() {
    let inner = service_fn(|_: Request<RequestBody<TestBody>>| async {
        Ok::<_, Infallible>(Response::new(Empty::<Bytes>::new()))
    });
    let mut service = BodyLimitLayer::new(1).layer(inner);
    let future = service.call(post(TestBody::chunked(&[5]).lying(5)));
    assert!(format!("{future:?}").contains("rejected"));
}

#[test]
fn content_length_parsing() {
    // (case, header value, parsed)
    let cases = [
        ("plain", "1024", Some(1024)),
        ("zero", "0", Some(0)),
        ("leading zeros", "007", Some(7)),
        ("max", "18446744073709551615", Some(u64::MAX)),
        ("overflow", "18446744073709551616", None),
        ("empty", "", None),
        ("sign", "+5", None),
        ("blank", " 5", None),
        ("list", "5, 5", None),
        ("letters", "5a", None),
    ];
    for (case, value, expected) in cases {
        let mut headers = HeaderMap::new();
        headers.insert("content-length", HeaderValue::from_str(value).unwrap());
        assert_eq!(service::content_length(&headers), expected, "{case}");
    }
    assert_eq!(service::content_length(&HeaderMap::new()), None);
}
