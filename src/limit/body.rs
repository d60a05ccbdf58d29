//! The request body handed to the inner service.

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use http::HeaderMap;
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;

use super::{BoxError, LengthLimitExceeded, to_u64};

pin_project! {
    /// The request body the inner service of [`BodyLimit`](super::BodyLimit)
    /// receives.
    ///
    /// In streaming mode it counts bytes as frames arrive and yields a
    /// [`LengthLimitExceeded`] error (boxed) in place of the frame that
    /// passes the limit, then ends. In buffering mode it holds the complete
    /// body and yields it as one data frame, then the trailers if there were
    /// any.
    pub struct RequestBody<B> {
        #[pin]
        kind: Kind<B>,
    }
}

pin_project! {
    #[project = KindProj]
    enum Kind<B> {
        Streaming {
            #[pin]
            body: B,
            // Bytes still allowed.
            remaining: usize,
            limit: usize,
            // Shared with the response future, which answers 413 once set;
            // `None` when the body's size hint rules out passing the limit.
            overflow: Option<Arc<AtomicBool>>,
            exceeded: bool,
        },
        Buffered {
            data: Option<Bytes>,
            // Boxed: trailers are rare, and the box keeps this variant (and
            // so every `RequestBody`) small.
            trailers: Option<Box<HeaderMap>>,
        },
    }
}

impl<B> RequestBody<B> {
    pub(super) fn streaming(body: B, limit: usize, overflow: Option<Arc<AtomicBool>>) -> Self {
        Self {
            kind: Kind::Streaming {
                body,
                remaining: limit,
                limit,
                overflow,
                exceeded: false,
            },
        }
    }

    pub(super) fn buffered(data: Bytes, trailers: Option<Box<HeaderMap>>) -> Self {
        Self {
            kind: Kind::Buffered {
                data: (!data.is_empty()).then_some(data),
                trailers,
            },
        }
    }

    pub(super) fn empty() -> Self {
        Self::buffered(Bytes::new(), None)
    }
}

impl<B> fmt::Debug for RequestBody<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::Streaming {
                remaining,
                limit,
                exceeded,
                ..
            } => f
                .debug_struct("RequestBody::Streaming")
                .field("limit", limit)
                .field("remaining", remaining)
                .field("exceeded", exceeded)
                .finish_non_exhaustive(),
            Kind::Buffered { data, trailers } => f
                .debug_struct("RequestBody::Buffered")
                .field("len", &data.as_ref().map_or(0, Bytes::len))
                .field("trailers", &trailers.is_some())
                .finish(),
        }
    }
}

impl<B> Body for RequestBody<B>
where
    B: Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    #[inline]
    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        match self.project().kind.project() {
            KindProj::Streaming {
                body,
                remaining,
                limit,
                overflow,
                exceeded,
            } => {
                if *exceeded {
                    return Poll::Ready(None);
                }
                let polled = ready!(body.poll_frame(cx));
                // Inspect the frame in place: moving frames out and back is
                // most of the cost of a wrapper like this one.
                if let Some(Ok(frame)) = &polled
                    && let Some(data) = frame.data_ref()
                {
                    if data.len() > *remaining {
                        *exceeded = true;
                        if let Some(flag) = overflow {
                            // Pairs with the Acquire load of the response future.
                            flag.store(true, Ordering::Release);
                        }
                        let err = LengthLimitExceeded::new(*limit);
                        return Poll::Ready(Some(Err(Box::new(err))));
                    }
                    *remaining -= data.len();
                }
                Poll::Ready(polled.map(|frame| frame.map_err(Into::into)))
            }
            KindProj::Buffered { data, trailers } => Poll::Ready(
                data.take()
                    .map(Frame::data)
                    .or_else(|| trailers.take().map(|t| Frame::trailers(*t)))
                    .map(Ok),
            ),
        }
    }

    #[inline]
    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Streaming { body, exceeded, .. } => *exceeded || body.is_end_stream(),
            Kind::Buffered { data, trailers } => data.is_none() && trailers.is_none(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Streaming {
                body,
                remaining,
                exceeded,
                ..
            } => {
                if *exceeded {
                    return SizeHint::with_exact(0);
                }
                // Never more than the bytes still allowed.
                let remaining = to_u64(*remaining);
                let inner = body.size_hint();
                let mut hint = SizeHint::new();
                hint.set_lower(inner.lower().min(remaining));
                hint.set_upper(inner.upper().map_or(remaining, |u| u.min(remaining)));
                hint
            }
            Kind::Buffered { data, .. } => {
                SizeHint::with_exact(data.as_ref().map_or(0, |d| to_u64(d.len())))
            }
        }
    }
}
