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
use super::usage::{SseScanner, Usage, usage_of};

/// Where settlements go: the layer's store, behind a trait object so the
/// response body does not carry the store's type.
pub(crate) trait Sink: Send + Sync {
    fn settle(&self, key: &str, policy: &Policy, limit: usize, units: i64);
}

/// The largest JSON response body kept to read its usage; past it the
/// reservation stands as the charge.
const MAX_JSON: usize = 1024 * 1024;

/// A token reservation to settle once, when the response tells what was
/// used (or, failing that, when it ends or is dropped).
pub(crate) struct Settlement {
    sink: Arc<dyn Sink>,
    key: Box<str>,
    tier: Arc<Tier>,
    reserved: u64,
    strip: bool,
    settled: bool,
}

impl Settlement {
    pub(crate) fn new(
        sink: Arc<dyn Sink>,
        key: Box<str>,
        tier: Arc<Tier>,
        reserved: u64,
        strip: bool,
    ) -> Self {
        Self {
            sink,
            key,
            tier,
            reserved,
            strip,
            settled: false,
        }
    }

    /// Charges `used` tokens in place of the reservation: refunds or
    /// charges the difference on every token quota. Only the first call
    /// counts.
    pub(crate) fn settle(&mut self, used: u64) {
        if std::mem::replace(&mut self.settled, true) {
            return;
        }
        let difference = i64::try_from(used).unwrap_or(i64::MAX)
            - i64::try_from(self.reserved).unwrap_or(i64::MAX);
        tracing::debug!(reserved = self.reserved, used, "token reservation settled");
        if difference == 0 {
            return;
        }
        let policy = &self.tier.policy;
        for (index, limit) in policy.limits().iter().enumerate() {
            if limit.unit() == Unit::Tokens {
                self.sink.settle(&self.key, policy, index, difference);
            }
        }
    }
}

impl fmt::Debug for Settlement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settlement")
            .field("reserved", &self.reserved)
            .field("settled", &self.settled)
            .finish_non_exhaustive()
    }
}

/// How a response body is watched for usage.
enum Watch {
    /// A JSON body, kept whole up to [`MAX_JSON`].
    Json {
        settlement: Settlement,
        body: Vec<u8>,
        overflow: bool,
    },
    /// Server-sent events, read as they pass.
    Stream {
        settlement: Settlement,
        scanner: SseScanner,
        /// Output held back at the end (an unterminated last line).
        tail: Option<Bytes>,
    },
}

impl Watch {
    /// Settles on what the body reported, or on the estimate for a body
    /// that ended early: the reservation, plus one output token per
    /// stream event seen.
    fn settle(&mut self) {
        match self {
            Self::Json {
                settlement,
                body,
                overflow,
            } => {
                let used = (!*overflow)
                    .then(|| usage_of(body))
                    .flatten()
                    .map_or(settlement.reserved, |usage| usage.total());
                settlement.settle(used);
            }
            Self::Stream {
                settlement,
                scanner,
                ..
            } => {
                let estimate = Usage {
                    input: settlement.reserved,
                    output: scanner.events,
                };
                let used = match scanner.usage {
                    // A stream that ended after its final usage, or whose
                    // running totals are the best figure there is.
                    Some(usage) => Usage {
                        input: if usage.input > 0 {
                            usage.input
                        } else {
                            estimate.input
                        },
                        output: usage.output.max(estimate.output),
                    },
                    None => estimate,
                };
                settlement.settle(used.total());
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
                    tail: None,
                }
            } else {
                Watch::Json {
                    settlement,
                    body: Vec::new(),
                    overflow: false,
                }
            })
        });
        Self { inner, watch }
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
            let Some(watch) = this.watch.as_mut() else {
                return this.inner.poll_frame(cx);
            };
            if let Watch::Stream { tail: Some(_), .. } = watch {
                let Watch::Stream { tail, .. } = watch else {
                    unreachable!()
                };
                let last = tail.take().expect("checked");
                return Poll::Ready(Some(Ok(Frame::data(last))));
            }
            let frame = ready!(this.inner.as_mut().poll_frame(cx));
            let data = match frame {
                Some(Ok(frame)) => match frame.into_data() {
                    Ok(data) => data,
                    Err(frame) => return Poll::Ready(Some(Ok(frame))),
                },
                Some(Err(error)) => {
                    // The settlement happens when the watch is dropped.
                    *this.watch = None;
                    return Poll::Ready(Some(Err(error)));
                }
                None => {
                    let mut watch = this.watch.take().expect("checked");
                    let tail = match &mut watch {
                        Watch::Stream { scanner, .. } => scanner.finish(),
                        Watch::Json { .. } => None,
                    };
                    watch.settle();
                    drop(watch);
                    return Poll::Ready(tail.map(|t| Ok(Frame::data(Bytes::from(t)))));
                }
            };
            match watch {
                Watch::Json { body, overflow, .. } => {
                    if !*overflow {
                        if body.len() + data.len() > MAX_JSON {
                            *overflow = true;
                            *body = Vec::new();
                        } else {
                            body.extend_from_slice(&data);
                        }
                    }
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
        self.watch.is_none() && self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        match &self.watch {
            Some(Watch::Stream { settlement, .. }) if settlement.strip => SizeHint::default(),
            _ => self.inner.size_hint(),
        }
    }
}
