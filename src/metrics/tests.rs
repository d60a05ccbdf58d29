//! The metrics layer against a local debugging recorder (no global state).

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body::{Body, Frame};
use http_body_util::{BodyExt, Full};
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use tower::{Layer, ServiceExt, service_fn};

use super::*;
use crate::clock::ManualClock;
use crate::marker::Provider;
use crate::problem::{Problem, RejectionKind};
use crate::route::RouteTemplate;

/// Labels as `name=value` pairs, sorted.
type Labels = Vec<(String, String)>;

/// Everything recorded so far. A debugging snapshot resets counters and
/// gauges and drains histograms, so values add up across snapshots.
#[derive(Default)]
struct Recorded {
    counters: HashMap<(String, Labels), u64>,
    gauges: HashMap<(String, Labels), f64>,
    histograms: HashMap<(String, Labels), Vec<f64>>,
}

impl Recorded {
    fn take(&mut self, snapshotter: &Snapshotter) -> &mut Self {
        for (key, _, _, value) in snapshotter.snapshot().into_vec() {
            let mut labels: Labels = key
                .key()
                .labels()
                .map(|l| (l.key().to_owned(), l.value().to_owned()))
                .collect();
            labels.sort();
            let id = (key.key().name().to_owned(), labels);
            match value {
                DebugValue::Counter(n) => *self.counters.entry(id).or_default() += n,
                DebugValue::Gauge(v) => *self.gauges.entry(id).or_default() += v.0,
                DebugValue::Histogram(vs) => self
                    .histograms
                    .entry(id)
                    .or_default()
                    .extend(vs.into_iter().map(|v| v.0)),
            }
        }
        self
    }

    fn find<'a, V>(
        map: &'a HashMap<(String, Labels), V>,
        name: &str,
        labels: &[(&str, &str)],
    ) -> Option<&'a V> {
        let mut wanted: Labels = labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        wanted.sort();
        map.get(&(name.to_owned(), wanted))
    }

    fn counter(&self, name: &str, labels: &[(&str, &str)]) -> u64 {
        Self::find(&self.counters, name, labels)
            .copied()
            .unwrap_or(0)
    }

    fn gauge(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        Self::find(&self.gauges, name, labels)
            .copied()
            .unwrap_or(0.0)
    }

    fn histogram(&self, name: &str, labels: &[(&str, &str)]) -> Vec<f64> {
        Self::find(&self.histograms, name, labels)
            .cloned()
            .unwrap_or_default()
    }

    fn names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self
            .counters
            .keys()
            .chain(self.gauges.keys())
            .chain(self.histograms.keys())
            .map(|(name, _)| name.as_str())
            .collect();
        names.sort_unstable();
        names.dedup();
        names
    }
}

/// A debugging recorder for this test's thread, and the snapshotter that
/// reads it (leaked: a test is short).
fn recording() -> (Snapshotter, metrics::LocalRecorderGuard<'static>) {
    let recorder: &'static DebuggingRecorder = Box::leak(Box::new(DebuggingRecorder::new()));
    (
        recorder.snapshotter(),
        metrics::set_default_local_recorder(recorder),
    )
}

/// One step of a scripted response body.
#[derive(Clone)]
enum Step {
    Data(&'static str),
    /// Moves the test clock (time passing between events).
    Wait(Duration),
}

/// A body that plays its steps, one data frame per poll.
struct Script {
    steps: VecDeque<Step>,
    clock: ManualClock,
}

impl Body for Script {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        while let Some(step) = self.steps.pop_front() {
            match step {
                Step::Wait(by) => self.clock.advance(by),
                Step::Data(data) => return Poll::Ready(Some(Ok(Frame::data(Bytes::from(data))))),
            }
        }
        Poll::Ready(None)
    }
}

const OPENAI_ROUTE: &str = "/v1/chat/completions";

fn layer(clock: &ManualClock) -> MetricsLayer {
    MetricsLayer::builder()
        .clock(clock.clone())
        .route_with(|_| RouteTemplate::Static(OPENAI_ROUTE))
        .build()
}

fn model_request(provider: Provider) -> Request<Full<Bytes>> {
    let mut request = Request::post(OPENAI_ROUTE)
        .body(Full::new(Bytes::from_static(br#"{"model":"gpt-4o-mini"}"#)))
        .unwrap();
    request.extensions_mut().insert(provider);
    request
}

/// A provider answering with `content_type` and the scripted body, after
/// `head` of waiting.
fn provider(
    clock: &ManualClock,
    head: Duration,
    content_type: &'static str,
    steps: Vec<Step>,
) -> impl tower::Service<
    Request<CountedBody<Full<Bytes>>>,
    Response = Response<Script>,
    Error = Infallible,
    Future = impl Future<Output = Result<Response<Script>, Infallible>>,
> + Clone {
    let clock = clock.clone();
    service_fn(move |request: Request<CountedBody<Full<Bytes>>>| {
        let clock = clock.clone();
        let steps = steps.clone();
        async move {
            // Read the request body, as a provider client would.
            let _ = request.into_body().collect().await;
            clock.advance(head);
            let mut response = Response::new(Script {
                steps: steps.into(),
                clock,
            });
            response.headers_mut().insert(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static(content_type),
            );
            Ok(response)
        }
    })
}

const ANSWER: &[(&str, &str)] = &[
    (label::METHOD, "POST"),
    (label::ROUTE, OPENAI_ROUTE),
    (label::STATUS, "200"),
    (label::PROVIDER, "openai"),
];

#[tokio::test]
async fn a_request_is_counted_with_its_labels_duration_and_sizes() {
    let (snapshotter, _local) = recording();
    let clock = ManualClock::new();
    let body = r#"{"id":"chatcmpl-1","model":"gpt-4o-mini-2024-07-18","usage":{"prompt_tokens":12,"completion_tokens":30}}"#;
    let service = layer(&clock).layer(provider(
        &clock,
        Duration::from_millis(250),
        "application/json",
        vec![Step::Data(body)],
    ));

    let response = service
        .oneshot(model_request(Provider::openai()))
        .await
        .unwrap();
    let sent = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(sent.len(), body.len());

    let mut recorded = Recorded::default();
    recorded.take(&snapshotter);
    assert_eq!(recorded.counter(REQUESTS, ANSWER), 1);
    assert_eq!(recorded.histogram(REQUEST_DURATION, ANSWER), vec![0.25]);
    assert_eq!(
        recorded.histogram(RESPONSE_BODY_SIZE, ANSWER),
        vec![body.len() as f64]
    );
    let route = &[(label::METHOD, "POST"), (label::ROUTE, OPENAI_ROUTE)];
    assert_eq!(recorded.histogram(REQUEST_BODY_SIZE, route), vec![23.0]);
    assert_eq!(recorded.gauge(ACTIVE_REQUESTS, route), 0.0);
    // Tokens of a JSON answer, labelled with the model that answered.
    let model = [
        (label::PROVIDER, "openai"),
        (label::MODEL, "gpt-4o-mini-2024-07-18"),
    ];
    let input = [model.as_slice(), &[(label::TOKEN_TYPE, "input")]].concat();
    let output = [model.as_slice(), &[(label::TOKEN_TYPE, "output")]].concat();
    assert_eq!(recorded.histogram(TOKEN_USAGE, &input), vec![12.0]);
    assert_eq!(recorded.histogram(TOKEN_USAGE, &output), vec![30.0]);
    // Not a stream: no time to first token.
    assert!(recorded.histogram(TIME_TO_FIRST_TOKEN, &model).is_empty());
}

#[tokio::test]
async fn a_json_answer_sent_as_hyper_sends_it_reports_its_tokens() {
    let (snapshotter, _local) = recording();
    let clock = ManualClock::new();
    let body = r#"{"model":"gpt-4o","usage":{"prompt_tokens":4,"completion_tokens":8}}"#;
    let service = layer(&clock).layer(service_fn(
        move |_: Request<CountedBody<Full<Bytes>>>| async move {
            let mut response = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
            response.headers_mut().insert(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static("application/json"),
            );
            Ok::<_, Infallible>(response)
        },
    ));
    let response = service
        .oneshot(model_request(Provider::openai()))
        .await
        .unwrap();
    // Hyper stops once the known length is sent and drops the body.
    assert_eq!(
        crate::body::send_like_hyper(response.into_body()).await,
        body.len()
    );

    let mut recorded = Recorded::default();
    recorded.take(&snapshotter);
    let output = [
        (label::PROVIDER, "openai"),
        (label::MODEL, "gpt-4o"),
        (label::TOKEN_TYPE, "output"),
    ];
    assert_eq!(recorded.histogram(TOKEN_USAGE, &output), vec![8.0]);
    assert_eq!(recorded.counter(REQUESTS, ANSWER), 1);
}

#[tokio::test]
async fn a_stream_stays_in_flight_until_its_body_ends() {
    let (snapshotter, _local) = recording();
    let clock = ManualClock::new();
    let service = layer(&clock).layer(provider(
        &clock,
        Duration::from_millis(100),
        "text/event-stream",
        vec![
            // The first chunk names the role only: not yet output.
            Step::Data(
                "data: {\"model\":\"gpt-4o-mini-2024-07-18\",\"choices\":[{\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n",
            ),
            Step::Wait(Duration::from_millis(200)),
            Step::Data(
                "data: {\"model\":\"gpt-4o-mini-2024-07-18\",\"choices\":[{\"delta\":{\"content\":\"Hel\"}}]}\n\n",
            ),
            Step::Wait(Duration::from_millis(700)),
            Step::Data(
                "data: {\"model\":\"gpt-4o-mini-2024-07-18\",\"choices\":[],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":21}}\n\ndata: [DONE]\n\n",
            ),
        ],
    ));
    let route = &[(label::METHOD, "POST"), (label::ROUTE, OPENAI_ROUTE)];
    let mut recorded = Recorded::default();

    let response = service
        .oneshot(model_request(Provider::openai()))
        .await
        .unwrap();
    assert_eq!(
        recorded.take(&snapshotter).gauge(ACTIVE_REQUESTS, route),
        1.0
    );
    assert_eq!(recorded.counter(REQUESTS, ANSWER), 0, "counted at the end");

    let mut body = response.into_body();
    body.frame().await.unwrap().unwrap();
    body.frame().await.unwrap().unwrap();
    assert_eq!(
        recorded.take(&snapshotter).gauge(ACTIVE_REQUESTS, route),
        1.0
    );
    while body.frame().await.is_some() {}
    assert_eq!(
        recorded.take(&snapshotter).gauge(ACTIVE_REQUESTS, route),
        0.0
    );
    assert_eq!(recorded.counter(REQUESTS, ANSWER), 1);
    // The whole stream: 100 ms to the head, 900 ms of events.
    assert_eq!(recorded.histogram(REQUEST_DURATION, ANSWER), vec![1.0]);

    let model = [
        (label::PROVIDER, "openai"),
        (label::MODEL, "gpt-4o-mini-2024-07-18"),
    ];
    // The first chunk with text came 300 ms after the request.
    assert_eq!(recorded.histogram(TIME_TO_FIRST_TOKEN, &model), vec![0.3]);
    let input = [model.as_slice(), &[(label::TOKEN_TYPE, "input")]].concat();
    let output = [model.as_slice(), &[(label::TOKEN_TYPE, "output")]].concat();
    assert_eq!(recorded.histogram(TOKEN_USAGE, &input), vec![9.0]);
    assert_eq!(recorded.histogram(TOKEN_USAGE, &output), vec![21.0]);
}

#[tokio::test]
async fn anthropic_streams_report_tokens_across_events() {
    let (snapshotter, _local) = recording();
    let clock = ManualClock::new();
    let service = layer(&clock).layer(provider(
        &clock,
        Duration::from_millis(50),
        "text/event-stream",
        vec![
            Step::Data(
                "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"model\":\"claude-sonnet-4-5\",\"usage\":{\"input_tokens\":25,\"cache_read_input_tokens\":5,\"output_tokens\":1}}}\n\n",
            ),
            Step::Wait(Duration::from_millis(75)),
            Step::Data(
                "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hi\"}}\n\n",
            ),
            Step::Wait(Duration::from_millis(400)),
            Step::Data(
                "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":42}}\n\n",
            ),
        ],
    ));
    let response = service
        .oneshot(model_request(Provider::anthropic()))
        .await
        .unwrap();
    response.into_body().collect().await.unwrap();

    let mut recorded = Recorded::default();
    recorded.take(&snapshotter);
    let model = [
        (label::PROVIDER, "anthropic"),
        (label::MODEL, "claude-sonnet-4-5"),
    ];
    let input = [model.as_slice(), &[(label::TOKEN_TYPE, "input")]].concat();
    let output = [model.as_slice(), &[(label::TOKEN_TYPE, "output")]].concat();
    assert_eq!(recorded.histogram(TOKEN_USAGE, &input), vec![30.0]);
    assert_eq!(recorded.histogram(TOKEN_USAGE, &output), vec![42.0]);
    assert_eq!(recorded.histogram(TIME_TO_FIRST_TOKEN, &model), vec![0.125]);
}

#[tokio::test]
async fn a_stream_dropped_midway_is_recorded_and_leaves_the_gauge() {
    let (snapshotter, _local) = recording();
    let clock = ManualClock::new();
    let service = layer(&clock).layer(provider(
        &clock,
        Duration::ZERO,
        "text/event-stream",
        vec![
            Step::Data("data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\n"),
            Step::Data("data: {\"choices\":[{\"delta\":{\"content\":\"b\"}}]}\n\n"),
        ],
    ));
    let response = service
        .oneshot(model_request(Provider::openai()))
        .await
        .unwrap();
    let mut body = response.into_body();
    body.frame().await.unwrap().unwrap();
    drop(body);

    let mut recorded = Recorded::default();
    recorded.take(&snapshotter);
    let route = &[(label::METHOD, "POST"), (label::ROUTE, OPENAI_ROUTE)];
    assert_eq!(recorded.gauge(ACTIVE_REQUESTS, route), 0.0);
    assert_eq!(recorded.counter(REQUESTS, ANSWER), 1);
    // No usage was reported: no token figures are made up.
    let model = [(label::PROVIDER, "openai"), (label::MODEL, "unknown")];
    let output = [model.as_slice(), &[(label::TOKEN_TYPE, "output")]].concat();
    assert!(recorded.histogram(TOKEN_USAGE, &output).is_empty());
    assert_eq!(recorded.histogram(TIME_TO_FIRST_TOKEN, &model), vec![0.0]);
}

#[tokio::test]
async fn rejections_are_counted_by_kind_and_errors_as_500() {
    let (snapshotter, _local) = recording();
    let clock = ManualClock::new();
    let rejecting = layer(&clock).layer(service_fn(|_: Request<CountedBody<Full<Bytes>>>| async {
        Ok::<_, Infallible>(
            Problem::new(RejectionKind::RateLimited).to_response::<Full<Bytes>>(None),
        )
    }));
    for _ in 0..3 {
        let response = rejecting
            .clone()
            .oneshot(model_request(Provider::openai()))
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    }
    let failing = layer(&clock).layer(service_fn(|_: Request<CountedBody<Full<Bytes>>>| async {
        Err::<Response<Full<Bytes>>, _>(std::io::Error::other("connection reset"))
    }));
    failing
        .oneshot(model_request(Provider::openai()))
        .await
        .unwrap_err();

    let mut recorded = Recorded::default();
    recorded.take(&snapshotter);
    let kind = [(label::KIND, "rate-limited"), (label::ROUTE, OPENAI_ROUTE)];
    assert_eq!(recorded.counter(REJECTIONS, &kind), 3);
    let limited = [&ANSWER[..3], &[(label::PROVIDER, "openai")]].concat();
    let limited: Vec<_> = limited
        .into_iter()
        .map(|(k, v)| {
            if k == label::STATUS {
                (k, "429")
            } else {
                (k, v)
            }
        })
        .collect();
    assert_eq!(recorded.counter(REQUESTS, &limited), 3);
    let failed: Vec<_> = ANSWER
        .iter()
        .map(|&(k, v)| {
            if k == label::STATUS {
                (k, "500")
            } else {
                (k, v)
            }
        })
        .collect();
    assert_eq!(recorded.counter(REQUESTS, &failed), 1);
    let route = &[(label::METHOD, "POST"), (label::ROUTE, OPENAI_ROUTE)];
    assert_eq!(recorded.gauge(ACTIVE_REQUESTS, route), 0.0);
}

#[tokio::test]
async fn a_request_abandoned_before_its_head_is_a_499() {
    let (snapshotter, _local) = recording();
    let clock = ManualClock::new();
    let never = layer(&clock).layer(service_fn(|_: Request<CountedBody<Full<Bytes>>>| {
        std::future::pending::<Result<Response<Full<Bytes>>, Infallible>>()
    }));
    let mut future = Box::pin(never.oneshot(model_request(Provider::openai())));
    assert!(futures_util::poll!(future.as_mut()).is_pending());
    let route = &[(label::METHOD, "POST"), (label::ROUTE, OPENAI_ROUTE)];
    let mut recorded = Recorded::default();
    assert_eq!(
        recorded.take(&snapshotter).gauge(ACTIVE_REQUESTS, route),
        1.0
    );
    clock.advance(Duration::from_secs(30));
    drop(future);

    recorded.take(&snapshotter);
    assert_eq!(recorded.gauge(ACTIVE_REQUESTS, route), 0.0);
    let abandoned: Vec<_> = ANSWER
        .iter()
        .map(|&(k, v)| {
            if k == label::STATUS {
                (k, "499")
            } else {
                (k, v)
            }
        })
        .collect();
    assert_eq!(recorded.counter(REQUESTS, &abandoned), 1);
    assert_eq!(recorded.histogram(REQUEST_DURATION, &abandoned), vec![30.0]);
    // Its body was never read: no size is made up.
    assert!(recorded.histogram(REQUEST_BODY_SIZE, route).is_empty());
}

#[tokio::test]
async fn label_values_stay_bounded() {
    let (snapshotter, _local) = recording();
    let clock = ManualClock::new();
    let metrics = MetricsLayer::builder()
        .clock(clock.clone())
        .max_models(1)
        .build();
    let answer = |model: &'static str| {
        service_fn(move |_: Request<CountedBody<Full<Bytes>>>| async move {
            let body = format!(
                r#"{{"model":"{model}","usage":{{"prompt_tokens":1,"completion_tokens":2}}}}"#
            );
            let mut response = Response::new(Full::new(Bytes::from(body)));
            response.headers_mut().insert(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static("application/json"),
            );
            Ok::<_, Infallible>(response)
        })
    };
    for model in ["model-a", "model-b", "model-c", "bad model name"] {
        let mut request = model_request(Provider::openai());
        *request.method_mut() = Method::from_bytes(b"BREW").unwrap();
        let response = metrics.layer(answer(model)).oneshot(request).await.unwrap();
        response.into_body().collect().await.unwrap();
    }

    let mut recorded = Recorded::default();
    recorded.take(&snapshotter);
    // No `MatchedPath` and no classifier: the provider's route template,
    // never the raw path; an unknown method is `_OTHER`.
    let answer = [
        (label::METHOD, "_OTHER"),
        (label::ROUTE, "/v1/chat/completions"),
        (label::STATUS, "200"),
        (label::PROVIDER, "openai"),
    ];
    assert_eq!(recorded.counter(REQUESTS, &answer), 4);
    let output = |model| {
        [
            (label::PROVIDER, "openai"),
            (label::MODEL, model),
            (label::TOKEN_TYPE, "output"),
        ]
    };
    assert_eq!(recorded.histogram(TOKEN_USAGE, &output("model-a")).len(), 1);
    assert_eq!(recorded.histogram(TOKEN_USAGE, &output("other")).len(), 3);
    assert!(
        recorded
            .histogram(TOKEN_USAGE, &output("model-b"))
            .is_empty()
    );
}

#[tokio::test]
async fn a_chunked_request_body_is_counted_as_read() {
    let (snapshotter, _local) = recording();
    let clock = ManualClock::new();
    let service = layer(&clock).layer(service_fn(
        |request: Request<CountedBody<Script>>| async move {
            let read = request.into_body().collect().await.unwrap().to_bytes();
            Ok::<_, Infallible>(Response::new(Full::new(read)))
        },
    ));
    let body = Script {
        steps: vec![Step::Data("abc"), Step::Data("defgh")].into(),
        clock: clock.clone(),
    };
    let response = service.oneshot(Request::new(body)).await.unwrap();
    assert_eq!(
        response.into_body().collect().await.unwrap().to_bytes(),
        "abcdefgh"
    );

    let mut recorded = Recorded::default();
    recorded.take(&snapshotter);
    let route = &[(label::METHOD, "GET"), (label::ROUTE, OPENAI_ROUTE)];
    assert_eq!(recorded.histogram(REQUEST_BODY_SIZE, route), vec![8.0]);
    assert!(recorded.names().contains(&RESPONSE_BODY_SIZE));
}

#[test]
fn every_metric_is_described() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    metrics::with_local_recorder(&recorder, || {
        describe();
        for name in [REQUESTS, REJECTIONS] {
            metrics::counter!(name).increment(1);
        }
        metrics::gauge!(ACTIVE_REQUESTS).set(1.0);
        for name in [
            REQUEST_DURATION,
            REQUEST_BODY_SIZE,
            RESPONSE_BODY_SIZE,
            TOKEN_USAGE,
            TIME_TO_FIRST_TOKEN,
        ] {
            metrics::histogram!(name).record(1.0);
        }
    });
    let described = snapshotter.snapshot().into_vec();
    assert_eq!(described.len(), 8);
    for (key, unit, help, _) in described {
        assert!(unit.is_some(), "{} has a unit", key.key().name());
        assert!(
            help.is_some_and(|h| h.len() > 10),
            "{} has help",
            key.key().name()
        );
    }
}

#[cfg(feature = "prometheus")]
mod prometheus {
    use super::*;

    /// The `q` quantile estimated from cumulative buckets, as PromQL's
    /// `histogram_quantile` does (linear within the bucket).
    fn quantile(q: f64, buckets: &[(f64, f64)]) -> f64 {
        let total = buckets.last().unwrap().1;
        let rank = q * total;
        let mut previous = (0.0, 0.0);
        for &(bound, count) in buckets {
            if count >= rank {
                if bound.is_infinite() {
                    return previous.0;
                }
                let within = (rank - previous.1) / (count - previous.1).max(1.0);
                return previous.0 + (bound - previous.0) * within;
            }
            previous = (bound, count);
        }
        previous.0
    }

    #[tokio::test]
    async fn the_endpoint_renders_valid_text_with_quantiles_obtainable() {
        let recorder = prometheus_builder().build_recorder();
        let endpoint = PrometheusService::new(recorder.handle());
        let _local = metrics::set_default_local_recorder(&recorder);
        describe();
        let clock = ManualClock::new();
        // 100 streamed requests taking 10 ms to 1 s, first output at a
        // fifth of that.
        for i in 1..=100u64 {
            let total = Duration::from_millis(10 * i);
            let service = layer(&clock).layer(provider(
                &clock,
                total / 5,
                "text/event-stream",
                vec![
                    Step::Data("data: {\"model\":\"gpt-4o\",\"choices\":[{\"delta\":{\"content\":\"x\"}}]}\n\n"),
                    Step::Wait(total - total / 5),
                    Step::Data("data: {\"model\":\"gpt-4o\",\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":7}}\n\n"),
                ],
            ));
            let response = service
                .oneshot(model_request(Provider::openai()))
                .await
                .unwrap();
            response.into_body().collect().await.unwrap();
        }

        let response = endpoint.clone().oneshot(Request::new(())).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            response.headers()["content-type"],
            "text/plain; version=0.0.4; charset=utf-8"
        );
        assert_eq!(response.headers()["cache-control"], "no-store");
        let text = response.into_body().collect().await.unwrap().to_bytes();
        let text = String::from_utf8(text.to_vec()).unwrap();
        let lines = text.lines().map(|l| Ok(l.to_owned()));
        let scrape = prometheus_parse::Scrape::parse(lines).expect("valid exposition text");

        assert!(
            scrape.docs.contains_key(REQUEST_DURATION),
            "HELP lines are rendered"
        );
        let histogram = |name: &str| {
            scrape
                .samples
                .iter()
                .find_map(|sample| match &sample.value {
                    prometheus_parse::Value::Histogram(buckets) if sample.metric == name => Some(
                        buckets
                            .iter()
                            .map(|b| (b.less_than, b.count))
                            .collect::<Vec<_>>(),
                    ),
                    _ => None,
                })
                .unwrap_or_else(|| panic!("{name} is a histogram"))
        };
        for name in [REQUEST_DURATION, TIME_TO_FIRST_TOKEN] {
            let buckets = histogram(name);
            assert_eq!(buckets.last().unwrap().1, 100.0, "{name}: all requests");
            assert!(buckets.iter().any(|&(bound, _)| bound >= 600.0), "minutes");
            assert!(
                buckets.iter().any(|&(bound, _)| bound <= 0.005),
                "milliseconds"
            );
        }
        let duration = histogram(REQUEST_DURATION);
        let (p50, p95, p99) = (
            quantile(0.5, &duration),
            quantile(0.95, &duration),
            quantile(0.99, &duration),
        );
        // True values 0.5 s, 0.95 s and 0.99 s, within their buckets.
        assert!((0.25..=0.5).contains(&p50), "p50 {p50}");
        assert!((0.5..=1.0).contains(&p95), "p95 {p95}");
        assert!((0.5..=1.0).contains(&p99) && p99 >= p95, "p99 {p99}");
        let first_token = histogram(TIME_TO_FIRST_TOKEN);
        assert!((0.1..=0.25).contains(&quantile(0.95, &first_token)));

        let counter = scrape
            .samples
            .iter()
            .find(|s| s.metric == REQUESTS)
            .expect("the request counter");
        assert_eq!(counter.labels.get(label::STATUS), Some("200"));
        assert_eq!(counter.labels.get(label::PROVIDER), Some("openai"));
        assert!(matches!(counter.value, prometheus_parse::Value::Counter(n) if n == 100.0));

        let post = endpoint
            .oneshot(Request::post("/metrics").body(()).unwrap())
            .await
            .unwrap();
        assert_eq!(post.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(post.headers()["allow"], "GET, HEAD");
        assert_eq!(post.headers()["content-type"], "application/problem+json");
    }
}
