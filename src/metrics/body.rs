//! The bodies that carry the layer's accounting to the end of a request:
//! [`CountedBody`] for requests, [`MetricsBody`] for responses.

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::Buf;
use http_body::{Body, Frame, SizeHint};
use metrics::{Gauge, Histogram};
use pin_project_lite::pin_project;

use super::layer::Shared;
use super::series::NO_PROVIDER;
use crate::marker::Provider;
use crate::route::RouteTemplate;
use crate::usage::{JsonBody, SseScanner};

/// Holds a request in the in-flight gauge until dropped.
pub(crate) struct Active(Gauge);

impl Active {
    pub(crate) fn enter(gauge: Gauge) -> Self {
        gauge.increment(1.0);
        Self(gauge)
    }
}

impl Drop for Active {
    fn drop(&mut self) {
        self.0.decrement(1.0);
    }
}

/// Records the bytes a request body gave once, when it ends or is dropped:
/// what was read, whatever its `Content-Length` claimed. A body never read
/// (a request refused before its body) is not recorded.
struct SizeRecord {
    histogram: Histogram,
    bytes: u64,
    read: bool,
}

impl Drop for SizeRecord {
    fn drop(&mut self) {
        if self.read {
            self.histogram.record(self.bytes as f64);
        }
    }
}

pin_project! {
    /// A request body that counts its bytes for the request size histogram.
    pub struct CountedBody<B> {
        #[pin]
        inner: B,
        record: Option<SizeRecord>,
    }
}

impl<B> CountedBody<B> {
    pub(crate) fn new(inner: B, histogram: Histogram) -> Self {
        Self {
            inner,
            record: Some(SizeRecord {
                histogram,
                bytes: 0,
                read: false,
            }),
        }
    }

    /// The body inside.
    pub fn get_ref(&self) -> &B {
        &self.inner
    }
}

impl<B> fmt::Debug for CountedBody<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CountedBody").finish_non_exhaustive()
    }
}

impl<B: Body> Body for CountedBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<B::Data>, B::Error>>> {
        let this = self.project();
        if let Some(record) = this.record.as_mut() {
            record.read = true;
        }
        let frame = ready!(this.inner.poll_frame(cx));
        match &frame {
            Some(Ok(frame)) => {
                if let (Some(data), Some(record)) = (frame.data_ref(), this.record.as_mut()) {
                    record.bytes += data.remaining() as u64;
                }
            }
            Some(Err(_)) => {}
            None => drop(this.record.take()),
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// How a model response is read for its usage and model.
enum Watch {
    /// A JSON body, kept to read it at the end.
    Json(JsonBody),
    /// Server-sent events, read as they pass.
    Stream(Box<SseScanner>),
}

/// A request on its way: what its answer is recorded with, and its place
/// in the in-flight gauge.
pub(crate) struct Pending {
    pub(crate) shared: Arc<Shared>,
    pub(crate) start: Duration,
    pub(crate) method: &'static str,
    pub(crate) route: RouteTemplate,
    pub(crate) provider: Option<Provider>,
    /// Held until the request is recorded: its drop leaves the gauge.
    pub(crate) _active: Active,
}

impl Pending {
    /// Counts the request with `status` and its duration until now, and
    /// the size of the response body it sent, if it had one.
    pub(crate) fn record_answer(&self, status: u16, sent: Option<u64>) {
        let elapsed = self.shared.clock.now().saturating_sub(self.start);
        let provider = self.provider.as_ref().map_or(NO_PROVIDER, Provider::name);
        let route = self.route.as_str();
        self.shared
            .series
            .with_answer(self.method, route, status, provider, |series| {
                series.requests.increment(1);
                series.duration.record(elapsed.as_secs_f64());
                if let Some(sent) = sent {
                    series.response_size.record(sent as f64);
                }
            });
    }
}

/// What a response records when its body ends or is dropped.
pub(crate) struct Track {
    request: Pending,
    status: u16,
    bytes: u64,
    watch: Option<Watch>,
    first_token: Option<Duration>,
}

impl Track {
    /// Tracks the answer to `request`; `stream` says how to read a model
    /// answer for usage (`None`: not one).
    pub(crate) fn new(request: Pending, status: u16, stream: Option<bool>) -> Self {
        let watch = stream.map(|stream| {
            if stream {
                Watch::Stream(Box::new(SseScanner::with_details()))
            } else {
                Watch::Json(JsonBody::default())
            }
        });
        Self {
            request,
            status,
            bytes: 0,
            watch,
            first_token: None,
        }
    }

    fn on_data(&mut self, data: &[u8]) {
        self.bytes += data.len() as u64;
        match &mut self.watch {
            None => {}
            Some(Watch::Json(body)) => body.push(data),
            Some(Watch::Stream(scanner)) => {
                scanner.feed(data);
                if scanner.first_output && self.first_token.is_none() {
                    let request = &self.request;
                    self.first_token =
                        Some(request.shared.clock.now().saturating_sub(request.start));
                }
            }
        }
    }

    /// Records the answer, and a model response's tokens and time to first
    /// token.
    fn record(&mut self) {
        self.request.record_answer(self.status, Some(self.bytes));
        let Some(watch) = self.watch.as_mut() else {
            return;
        };
        let (usage, model) = match watch {
            // Read whether or not the end was polled: hyper drops a body of
            // known length once it is sent. A body cut off midway does not
            // parse.
            Watch::Json(body) => {
                let report = body.report();
                (report.usage, report.model)
            }
            Watch::Stream(scanner) => (scanner.usage, scanner.model.take()),
        };
        if usage.is_none() && self.first_token.is_none() {
            return;
        }
        let provider = self
            .request
            .provider
            .as_ref()
            .map_or(NO_PROVIDER, Provider::name);
        self.request
            .shared
            .series
            .with_model(provider, model.as_deref(), |series| {
                if let Some(usage) = usage {
                    series.input.record(usage.input as f64);
                    series.output.record(usage.output as f64);
                }
                if let Some(first) = self.first_token {
                    series.first_token.record(first.as_secs_f64());
                }
            });
    }
}

impl Drop for Track {
    /// A body dropped before its end (a client that went away) is recorded
    /// all the same, with what was sent.
    fn drop(&mut self) {
        self.record();
    }
}

pin_project! {
    /// A response body that holds its request in flight and records it
    /// when it ends (or is dropped): count, duration, size, and for model
    /// responses their tokens and time to first token.
    pub struct MetricsBody<B> {
        #[pin]
        inner: B,
        track: Option<Track>,
    }
}

impl<B> MetricsBody<B> {
    pub(crate) fn new(inner: B, track: Track) -> Self {
        Self {
            inner,
            track: Some(track),
        }
    }
}

impl<B> fmt::Debug for MetricsBody<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MetricsBody")
            .field("in_flight", &self.track.is_some())
            .finish_non_exhaustive()
    }
}

impl<B> Body for MetricsBody<B>
where
    B: Body,
    B::Data: AsRef<[u8]>,
{
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<B::Data>, B::Error>>> {
        let this = self.project();
        let frame = ready!(this.inner.poll_frame(cx));
        match &frame {
            Some(Ok(frame)) => {
                if let (Some(data), Some(track)) = (frame.data_ref(), this.track.as_mut()) {
                    track.on_data(data.as_ref());
                }
            }
            // The end, or cut off: recorded with what was sent.
            Some(Err(_)) | None => drop(this.track.take()),
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
