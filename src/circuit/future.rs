//! The response future and body: where a call's outcome is recorded.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::header::RETRY_AFTER;
use http::{HeaderMap, Response};
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;

use super::breaker::{Permit, Settle};
use super::classify::{Classify, Outcome};
use crate::body::ResponseBody;

pin_project! {
    /// The future of [`CircuitBreaker`](super::CircuitBreaker): the inner
    /// call with its permit, a call that passed without a breaker, or the
    /// 503 of an open breaker. No boxing.
    pub struct ResponseFuture<F, C> {
        #[pin]
        kind: Kind<F, C>,
    }
}

pin_project! {
    #[project = KindProj]
    enum Kind<F, C> {
        Tracked {
            #[pin]
            future: F,
            permit: Option<Permit>,
            classifier: C,
        },
        Untracked {
            #[pin]
            future: F,
        },
        // Boxed: a refusal already allocates (its headers and extensions),
        // and the future of every admitted call stays small.
        Refused {
            response: Option<Box<Response<Bytes>>>,
        },
    }
}

impl<F, C> ResponseFuture<F, C> {
    pub(crate) fn tracked(future: F, permit: Permit, classifier: C) -> Self {
        Self {
            kind: Kind::Tracked {
                future,
                permit: Some(permit),
                classifier,
            },
        }
    }

    pub(crate) fn untracked(future: F) -> Self {
        Self {
            kind: Kind::Untracked { future },
        }
    }

    pub(crate) fn refused(response: Response<Bytes>) -> Self {
        Self {
            kind: Kind::Refused {
                response: Some(Box::new(response)),
            },
        }
    }
}

impl<F, C> fmt::Debug for ResponseFuture<F, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match &self.kind {
            Kind::Tracked { .. } => "ResponseFuture::Tracked",
            Kind::Untracked { .. } => "ResponseFuture::Untracked",
            Kind::Refused { .. } => "ResponseFuture::Refused",
        })
    }
}

impl<F, C, B, E> Future for ResponseFuture<F, C>
where
    F: Future<Output = Result<Response<B>, E>>,
    C: Classify<B, E>,
    B: Body,
{
    type Output = Result<Response<ResponseBody<TrackedBody<B>>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().kind.project() {
            KindProj::Untracked { future } => {
                let response = ready!(future.poll(cx))?;
                Poll::Ready(Ok(
                    response.map(|b| ResponseBody::new(TrackedBody::new(b, Settle::NONE)))
                ))
            }
            KindProj::Refused { response } => {
                let response = response.take().expect("polled after completion");
                Poll::Ready(Ok((*response).map(ResponseBody::full)))
            }
            KindProj::Tracked {
                future,
                permit,
                classifier,
            } => {
                let result = ready!(future.poll(cx));
                let permit = permit.take().expect("polled after completion");
                // Slow is judged at the response head: a stream's length
                // does not make a call slow.
                let slow = permit.is_slow();
                let outcome = classifier.classify(result.as_ref());
                let settle = match (&result, outcome) {
                    // A probe is judged on its head, so a long stream does
                    // not hold the breaker half-open; the body is still
                    // watched for a failure midway.
                    (Ok(_), Outcome::Success) if permit.is_probe() => permit.settle_probe(slow),
                    // Counted when the body ends: a stream that fails
                    // midway is a failure.
                    (Ok(_), Outcome::Success) => permit.into_settle(slow),
                    (Ok(response), Outcome::Failure) => {
                        permit.finish(outcome, slow, retry_after(response.headers()));
                        Settle::NONE
                    }
                    _ => {
                        permit.finish(outcome, slow, None);
                        Settle::NONE
                    }
                };
                Poll::Ready(
                    result.map(|r| r.map(|b| ResponseBody::new(TrackedBody::new(b, settle)))),
                )
            }
        }
    }
}

pin_project! {
    /// The inner service's response body; a successful call is counted
    /// when it ends, as a failure if it fails midway, and not at all if it
    /// is dropped before its end (the client went away). A half-open probe
    /// is counted at its head; its body still counts a failure midway.
    pub struct TrackedBody<B> {
        #[pin]
        inner: B,
        settle: Settle,
    }
}

impl<B: Body> TrackedBody<B> {
    fn new(inner: B, mut settle: Settle) -> Self {
        if inner.is_end_stream() {
            // Nothing to stream (an empty body): the call is done.
            settle.settle(Outcome::Success);
        }
        Self { inner, settle }
    }
}

impl<B> fmt::Debug for TrackedBody<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TrackedBody")
            .field("counting", &self.settle.is_pending())
            .finish_non_exhaustive()
    }
}

impl<B: Body> Body for TrackedBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<B::Data>, B::Error>>> {
        let mut this = self.project();
        let frame = ready!(this.inner.as_mut().poll_frame(cx));
        let outcome = match &frame {
            Some(Err(_)) => Some(Outcome::Failure),
            None => Some(Outcome::Success),
            Some(Ok(_)) if this.inner.is_end_stream() => Some(Outcome::Success),
            Some(Ok(_)) => None,
        };
        if let Some(outcome) = outcome {
            this.settle.settle(outcome);
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

/// A failing response's `Retry-After`: delay seconds or an HTTP date.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(
        at.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn retry_after_in_seconds_or_as_a_date() {
        let mut headers = HeaderMap::new();
        assert_eq!(retry_after(&headers), None);
        headers.insert(RETRY_AFTER, HeaderValue::from_static("30"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(30)));
        let later = SystemTime::now() + Duration::from_secs(120);
        headers.insert(
            RETRY_AFTER,
            HeaderValue::from_str(&httpdate::fmt_http_date(later)).unwrap(),
        );
        let wait = retry_after(&headers).unwrap();
        assert!(
            wait > Duration::from_secs(100) && wait <= Duration::from_secs(120),
            "{wait:?}"
        );
        headers.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&headers), None);
        // A date in the past: no wait.
        headers.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(retry_after(&headers), Some(Duration::ZERO));
    }
}
