//! The service: decides early rejections and wraps the request body.

use std::mem;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::header::CONTENT_LENGTH;
use http::{HeaderMap, Request, Response};
use http_body::Body;
use tower_layer::Layer;
use tower_service::Service;

use super::future::{Collect, Reject, ResponseFuture};
use super::layer::Config;
use super::{BodyLimitLayer, BoxError, RequestBody, to_u64};
use crate::body::ResponseBody;
use crate::marker::ProviderApi;

/// Service that limits the size of request bodies.
///
/// Created by [`BodyLimitLayer`]; see the [module docs](super).
#[derive(Debug, Clone)]
pub struct BodyLimit<S> {
    inner: S,
    config: Arc<Config>,
}

impl<S> BodyLimit<S> {
    /// Wraps `inner` with a streaming limit of `limit_bytes`
    /// ([`BodyLimitLayer::new`]).
    pub fn new(inner: S, limit_bytes: usize) -> Self {
        BodyLimitLayer::new(limit_bytes).layer(inner)
    }

    pub(super) fn from_parts(inner: S, config: Arc<Config>) -> Self {
        Self { inner, config }
    }

    /// A reference to the inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// A mutable reference to the inner service.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Consumes `self`, returning the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

/// The declared `Content-Length`, if present and well-formed.
///
/// A malformed value is ignored here: the body is counted either way, and
/// servers such as hyper refuse such requests before they reach a service.
pub(super) fn content_length(headers: &HeaderMap) -> Option<u64> {
    let digits = headers.get(CONTENT_LENGTH)?.as_bytes();
    if digits.is_empty() {
        return None;
    }
    // Digits only (no sign, no blanks), as RFC 9110 defines the field; this
    // skips the UTF-8 check and generic parsing of `str::parse`.
    digits.iter().try_fold(0u64, |n, &d| {
        let digit = d.wrapping_sub(b'0');
        if digit > 9 {
            return None;
        }
        n.checked_mul(10)?.checked_add(u64::from(digit))
    })
}

impl<S, B, ResBody> Service<Request<B>> for BodyLimit<S>
where
    // `Clone`: buffering mode calls the inner service only once the body is
    // read, so the future takes the instance readied by `poll_ready` and
    // leaves a clone behind (the usual tower pattern).
    S: Service<Request<RequestBody<B>>, Response = Response<ResBody>> + Clone,
    B: Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    type Response = Response<ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S, B>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let limit = self.config.limit_for(&request);
        let limit64 = to_u64(limit);
        // Read the marker now: the request moves on to the inner service.
        let api = ProviderApi::from_extensions(request.extensions());
        let declared = content_length(request.headers());
        let hint = request.body().size_hint();
        if hint.lower() > limit64 || declared.is_some_and(|n| n > limit64) {
            return ResponseFuture::rejected(Reject::TooLarge { limit }, api);
        }

        let body_done = request.body().is_end_stream();
        if self.config.buffer && !body_done {
            // Reserve for the size the body announces (never past the limit);
            // the buffer is only allocated if a second frame arrives.
            let expected = hint.exact().or(declared).unwrap_or(hint.lower());
            let expected = usize::try_from(expected.min(limit64)).unwrap_or(limit);
            let clone = self.inner.clone();
            let ready = mem::replace(&mut self.inner, clone);
            let (parts, body) = request.into_parts();
            return ResponseFuture::collecting(
                ready,
                parts,
                body,
                Collect::new(expected),
                limit,
                api,
            );
        }

        let (request, overflow) = if self.config.buffer {
            // An empty body is already complete: nothing to collect.
            (request.map(|_| RequestBody::empty()), None)
        } else {
            // The shared flag is needed only when the body may pass the limit
            // according to its own size hint. Bodies of known length (hyper's
            // with a `Content-Length`, `Full`) are still counted, but skip the
            // allocation; a body whose hint lies still yields the error.
            let may_overflow =
                limit != usize::MAX && hint.upper().is_none_or(|upper| upper > limit64);
            let overflow = may_overflow.then(|| Arc::new(AtomicBool::new(false)));
            let flag = overflow.clone();
            (
                request.map(|body| RequestBody::streaming(body, limit, flag)),
                overflow,
            )
        };
        ResponseFuture::inner(self.inner.call(request), overflow, limit, api)
    }
}
