//! Settling token reservations on the usage a response reports.

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use http::response::Parts;
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;

use super::layer::Tier;
use super::quota::{Policy, Unit};
use super::store::Costs;
use crate::usage::{JsonBody, SseScanner};

/// Where settlements go: the layer's store, behind a trait object so the
/// response body does not carry the store's type.
pub(crate) trait Sink: Send + Sync {
    fn settle(&self, key: &str, policy: &Policy, limit: usize, units: i64);
}

/// A token reservation to settle once, when the response tells what was
/// used (or, failing that, when it ends or is dropped). A reservation
/// dropped unsettled (a request cancelled before its response head)
/// stands as the charge.
pub(crate) struct Settlement {
    sink: Arc<dyn Sink>,
    key: Box<str>,
    tier: Arc<Tier>,
    /// The input estimate.
    estimate: u64,
    /// What each token quota was charged (the estimate, capped at the
    /// quota's burst).
    charged: Costs,
    strip: bool,
    settled: bool,
}

impl Settlement {
    pub(crate) fn new(
        sink: Arc<dyn Sink>,
        key: Box<str>,
        tier: Arc<Tier>,
        estimate: u64,
        charged: Costs,
        strip: bool,
    ) -> Self {
        Self {
            sink,
            key,
            tier,
            estimate,
            charged,
            strip,
            settled: false,
        }
    }

    /// Charges `used` tokens in place of what was reserved: refunds or
    /// charges the difference on every token quota. Only the first call
    /// counts.
    pub(crate) fn settle(&mut self, used: u64) {
        if std::mem::replace(&mut self.settled, true) {
            return;
        }
        tracing::debug!(estimate = self.estimate, used, "token reservation settled");
        let used = i64::try_from(used).unwrap_or(i64::MAX);
        let policy = &self.tier.policy;
        for (index, limit) in policy.limits().iter().enumerate() {
            if limit.unit() != Unit::Tokens {
                continue;
            }
            let difference = used - i64::try_from(self.charged[index]).unwrap_or(i64::MAX);
            if difference != 0 {
                self.sink.settle(&self.key, policy, index, difference);
            }
        }
    }
}

impl fmt::Debug for Settlement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settlement")
            .field("estimate", &self.estimate)
            .field("settled", &self.settled)
            .finish_non_exhaustive()
    }
}

/// How a response body is watched for usage.
enum Watch {
    /// A JSON body, kept to read its usage at the end.
    Json {
        settlement: Settlement,
        body: JsonBody,
    },
    /// Server-sent events, read as they pass.
    Stream {
        settlement: Settlement,
        scanner: SseScanner,
        ended: bool,
    },
}

impl Watch {
    /// Notes that the body reached its end (not cut off).
    fn end(&mut self) {
        if let Self::Stream { ended, .. } = self {
            *ended = true;
        }
    }

    /// Settles on what the body reported. A stream that ended reporting
    /// usage is charged exactly that; one cut off is charged the larger of
    /// its running usage and one output token per event seen, on top of
    /// its input (reported, or else the estimate).
    fn settle(&mut self) {
        match self {
            Self::Json { settlement, body } => {
                // Read whether or not the end was polled: hyper drops a body
                // of known length once it is sent. A body cut off midway
                // does not parse, and is charged the estimate.
                let usage = body.report().usage;
                let used = usage.map_or(settlement.estimate, |usage| usage.total());
                settlement.settle(used);
            }
            Self::Stream {
                settlement,
                scanner,
                ended,
            } => {
                let reported = scanner.usage.unwrap_or_default();
                let input = if reported.input > 0 {
                    reported.input
                } else {
                    settlement.estimate
                };
                let output = match scanner.usage {
                    Some(usage) if *ended => usage.output,
                    _ => reported.output.max(scanner.events),
                };
                settlement.settle(input.saturating_add(output));
            }
        }
    }
}

impl Drop for Watch {
    /// A body dropped before its end (a client that went away) still
    /// settles what was used.
    fn drop(&mut self) {
        self.settle();
    }
}

pin_project! {
    /// A response body that settles its request's token reservation from
    /// the `usage` it carries; for other requests, the body as it is.
    pub struct SettleBody<B> {
        #[pin]
        inner: B,
        watch: Option<Watch>,
        // The inner body has ended (its last bytes may still be going out).
        done: bool,
    }
}

impl<B> SettleBody<B> {
    /// Watches `inner` for `settlement`; an error answer refunds the whole
    /// reservation at once.
    pub(crate) fn new(inner: B, settlement: Option<Settlement>, parts: &mut Parts) -> Self {
        let watch = settlement.and_then(|mut settlement| {
            if !parts.status.is_success() {
                settlement.settle(0);
                return None;
            }
            let stream = parts
                .headers
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.trim_start().starts_with("text/event-stream"));
            Some(if stream {
                if settlement.strip {
                    // The usage-only chunk is removed: the length changes.
                    parts.headers.remove(CONTENT_LENGTH);
                }
                let scanner = SseScanner::new(settlement.strip);
                Watch::Stream {
                    settlement,
                    scanner,
                    ended: false,
                }
            } else {
                Watch::Json {
                    settlement,
                    body: JsonBody::default(),
                }
            })
        });
        Self {
            inner,
            watch,
            done: false,
        }
    }
}

impl<B> fmt::Debug for SettleBody<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SettleBody")
            .field("watched", &self.watch.is_some())
            .finish_non_exhaustive()
    }
}

impl<B: Body<Data = Bytes>> Body for SettleBody<B> {
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        let mut this = self.project();
        loop {
            if *this.done {
                return Poll::Ready(None);
            }
            let Some(watch) = this.watch.as_mut() else {
                return this.inner.poll_frame(cx);
            };
            let frame = ready!(this.inner.as_mut().poll_frame(cx));
            let data = match frame {
                Some(Ok(frame)) => match frame.into_data() {
                    Ok(data) => data,
                    Err(frame) => return Poll::Ready(Some(Ok(frame))),
                },
                Some(Err(error)) => {
                    // Cut off: settled as such when the watch is dropped.
                    *this.watch = None;
                    return Poll::Ready(Some(Err(error)));
                }
                None => {
                    let mut watch = this.watch.take().expect("checked");
                    let tail = match &mut watch {
                        Watch::Stream { scanner, .. } => scanner.finish(),
                        Watch::Json { .. } => None,
                    };
                    watch.end();
                    drop(watch);
                    *this.done = true;
                    return Poll::Ready(tail.map(|t| Ok(Frame::data(Bytes::from(t)))));
                }
            };
            match watch {
                Watch::Json { body, .. } => {
                    body.push(&data);
                    return Poll::Ready(Some(Ok(Frame::data(data))));
                }
                Watch::Stream { scanner, .. } => match scanner.feed(&data) {
                    None => return Poll::Ready(Some(Ok(Frame::data(data)))),
                    Some(kept) if kept.is_empty() => continue,
                    Some(kept) => return Poll::Ready(Some(Ok(Frame::data(Bytes::from(kept))))),
                },
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.done || (self.watch.is_none() && self.inner.is_end_stream())
    }

    fn size_hint(&self) -> SizeHint {
        match &self.watch {
            Some(Watch::Stream { settlement, .. }) if settlement.strip => SizeHint::default(),
            _ => self.inner.size_hint(),
        }
    }
}
