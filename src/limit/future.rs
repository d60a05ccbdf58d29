//! The response future: a pinned state machine, no boxing.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use http::request::Parts;
use http::{HeaderMap, Request, Response};
use http_body::Body;
use pin_project_lite::pin_project;
use tower_service::Service;

use super::{BoxError, LengthLimitExceeded, RequestBody};
use crate::body::ResponseBody;
use crate::marker::ProviderApi;
use crate::problem::Problem;

/// Largest buffer reserved from a declared `Content-Length` before the bytes
/// arrive (4 MiB): bodies up to it are collected with one allocation.
const MAX_PREALLOC: usize = 4 * 1024 * 1024;

/// Why the layer answers a request itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Reject {
    /// The body passes `limit`: 413.
    TooLarge { limit: usize },
    /// The body failed while being buffered: 400.
    Unreadable,
}

impl Reject {
    /// The reason for a body error met while buffering: an inner limit
    /// (say, of a nested `BodyLimit`) stays a 413, anything else is a 400.
    fn from_body_error(err: BoxError) -> Self {
        match err.downcast_ref::<LengthLimitExceeded>() {
            Some(exceeded) => Self::TooLarge {
                limit: exceeded.limit(),
            },
            None => Self::Unreadable,
        }
    }

    fn into_response<B>(self, api: Option<ProviderApi>) -> Response<ResponseBody<B>> {
        let problem = match self {
            Self::TooLarge { limit } => Problem::body_too_large(limit),
            Self::Unreadable => Problem::unreadable_body(),
        };
        problem.to_response(api)
    }
}

/// The body read so far in buffering mode.
///
/// A body arriving in one frame is kept as that frame's `Bytes` (no copy);
/// from the second frame on, the bytes are copied into one buffer sized for
/// the length the body announced.
#[derive(Debug)]
pub(super) struct Collect {
    /// Bytes the body announced (`Content-Length` or size hint), at most the
    /// limit: the capacity of the buffer.
    expected: usize,
    /// Bytes read so far, never more than the limit.
    len: usize,
    data: Data,
    trailers: Option<Box<HeaderMap>>,
}

#[derive(Debug)]
enum Data {
    Empty,
    One(Bytes),
    Many(Vec<u8>),
}

impl Collect {
    pub(super) fn new(expected: usize) -> Self {
        Self {
            expected,
            len: 0,
            data: Data::Empty,
            trailers: None,
        }
    }

    fn push(&mut self, chunk: Bytes) {
        if chunk.is_empty() {
            return;
        }
        self.data = match std::mem::replace(&mut self.data, Data::Empty) {
            Data::Empty => Data::One(chunk),
            Data::One(first) => {
                // A declared length is trusted up to `MAX_PREALLOC` only, so a
                // client that declares a large body and stalls cannot make
                // every connection reserve the whole limit.
                let arrived = first.len() + chunk.len();
                let mut buf = Vec::with_capacity(self.expected.min(MAX_PREALLOC).max(arrived));
                buf.extend_from_slice(&first);
                buf.extend_from_slice(&chunk);
                Data::Many(buf)
            }
            Data::Many(mut buf) => {
                buf.extend_from_slice(&chunk);
                Data::Many(buf)
            }
        };
    }

    /// Reads `body` to its end or until it passes `limit`.
    pub(super) fn poll_body<B>(
        &mut self,
        mut body: Pin<&mut B>,
        cx: &mut Context<'_>,
        limit: usize,
    ) -> Poll<Result<RequestBody<B>, Reject>>
    where
        B: Body<Data = Bytes>,
        B::Error: Into<BoxError>,
    {
        loop {
            let frame = match ready!(body.as_mut().poll_frame(cx)) {
                Some(Ok(frame)) => frame,
                Some(Err(err)) => return Poll::Ready(Err(Reject::from_body_error(err.into()))),
                None => break,
            };
            match frame.into_data() {
                Ok(chunk) => {
                    // `len <= limit` always holds, so this cannot underflow.
                    if chunk.len() > limit - self.len {
                        return Poll::Ready(Err(Reject::TooLarge { limit }));
                    }
                    self.len += chunk.len();
                    self.push(chunk);
                }
                Err(frame) => {
                    if let Ok(trailers) = frame.into_trailers() {
                        match &mut self.trailers {
                            Some(all) => all.extend(trailers),
                            None => self.trailers = Some(Box::new(trailers)),
                        }
                    }
                }
            }
        }
        let data = match std::mem::replace(&mut self.data, Data::Empty) {
            Data::Empty => Bytes::new(),
            Data::One(bytes) => bytes,
            Data::Many(buf) => Bytes::from(buf),
        };
        Poll::Ready(Ok(RequestBody::buffered(data, self.trailers.take())))
    }
}

pin_project! {
    /// Response future of [`BodyLimit`](super::BodyLimit).
    ///
    /// A pinned state machine: waiting for the inner service, reading the
    /// body first (buffering mode), or holding an early rejection.
    pub struct ResponseFuture<S: Service<Request<RequestBody<B>>>, B> {
        #[pin]
        state: State<S, B>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<S: Service<Request<RequestBody<B>>>, B> {
        Inner {
            #[pin]
            future: S::Future,
            // Set by the body when it passes `limit` (streaming mode).
            overflow: Option<Arc<AtomicBool>>,
            limit: usize,
            api: Option<ProviderApi>,
        },
        Collecting {
            #[pin]
            body: B,
            // The inner service readied by `poll_ready`, and the request
            // head, both taken when the body is complete.
            service: Option<S>,
            parts: Option<Parts>,
            collect: Collect,
            limit: usize,
            api: Option<ProviderApi>,
        },
        Rejected {
            reject: Reject,
            api: Option<ProviderApi>,
        },
    }
}

impl<S: Service<Request<RequestBody<B>>>, B> ResponseFuture<S, B> {
    pub(super) fn inner(
        future: S::Future,
        overflow: Option<Arc<AtomicBool>>,
        limit: usize,
        api: Option<ProviderApi>,
    ) -> Self {
        Self {
            state: State::Inner {
                future,
                overflow,
                limit,
                api,
            },
        }
    }

    pub(super) fn collecting(
        service: S,
        parts: Parts,
        body: B,
        collect: Collect,
        limit: usize,
        api: Option<ProviderApi>,
    ) -> Self {
        Self {
            state: State::Collecting {
                body,
                service: Some(service),
                parts: Some(parts),
                collect,
                limit,
                api,
            },
        }
    }

    pub(super) fn rejected(reject: Reject, api: Option<ProviderApi>) -> Self {
        Self {
            state: State::Rejected { reject, api },
        }
    }
}

#[cfg(test)]
impl<S: Service<Request<RequestBody<B>>>, B> ResponseFuture<S, B> {
    /// Whether the future waits on the inner service with an overflow flag.
    pub(super) fn has_overflow_flag(&self) -> bool {
        matches!(
            &self.state,
            State::Inner {
                overflow: Some(_),
                ..
            }
        )
    }

    /// Whether the future is reading the body (buffering mode).
    pub(super) fn is_collecting(&self) -> bool {
        matches!(&self.state, State::Collecting { .. })
    }
}

impl<S: Service<Request<RequestBody<B>>>, B> fmt::Debug for ResponseFuture<S, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.state {
            State::Inner { .. } => "inner",
            State::Collecting { .. } => "collecting",
            State::Rejected { .. } => "rejected",
        };
        f.debug_struct("ResponseFuture")
            .field("state", &state)
            .finish_non_exhaustive()
    }
}

impl<S, B, ResBody> Future for ResponseFuture<S, B>
where
    S: Service<Request<RequestBody<B>>, Response = Response<ResBody>>,
    B: Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    type Output = Result<Response<ResponseBody<ResBody>>, S::Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        loop {
            let mut state = self.as_mut().project().state;
            let next = match state.as_mut().project() {
                StateProj::Inner {
                    future,
                    overflow,
                    limit,
                    api,
                } => {
                    let result = ready!(future.poll(cx));
                    // Acquire pairs with the body's Release store.
                    if overflow
                        .as_ref()
                        .is_some_and(|flag| flag.load(Ordering::Acquire))
                    {
                        let reject = Reject::TooLarge { limit: *limit };
                        return Poll::Ready(Ok(reject.into_response(*api)));
                    }
                    return Poll::Ready(result.map(|response| response.map(ResponseBody::new)));
                }
                StateProj::Collecting {
                    body,
                    service,
                    parts,
                    collect,
                    limit,
                    api,
                } => match ready!(collect.poll_body(body, cx, *limit)) {
                    Ok(body) => {
                        let (Some(parts), Some(mut service)) = (parts.take(), service.take())
                        else {
                            unreachable!("the collecting state is left once its body is read");
                        };
                        let future = service.call(Request::from_parts(parts, body));
                        State::Inner {
                            future,
                            overflow: None,
                            limit: *limit,
                            api: *api,
                        }
                    }
                    Err(reject) => State::Rejected { reject, api: *api },
                },
                StateProj::Rejected { reject, api } => {
                    return Poll::Ready(Ok(reject.into_response(*api)));
                }
            };
            state.set(next);
        }
    }
}
