//! The response body of layers that can answer early.
//!
//! A rejecting layer answers either with the inner service's body or with a
//! small problem body of its own. [`ResponseBody`] holds one or the other
//! without boxing, so every rejecting layer shares one body type rather than
//! making its own. [`RequestBody`] is the same shape for requests, for layers
//! that read the body before passing it on.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;

pin_project! {
    /// The inner service's body, or a complete body a layer answered with.
    ///
    /// ```
    /// use bytes::Bytes;
    /// use http_body::Body as _;
    /// use http_body_util::Empty;
    /// use spark_tower::body::ResponseBody;
    ///
    /// let inner: ResponseBody<Empty<Bytes>> = ResponseBody::new(Empty::new());
    /// assert!(inner.is_end_stream());
    /// let early = ResponseBody::<Empty<Bytes>>::full(Bytes::from_static(b"{}"));
    /// assert_eq!(early.size_hint().exact(), Some(2));
    /// ```
    pub struct ResponseBody<B> {
        #[pin]
        kind: Kind<B>,
    }
}

pin_project! {
    #[project = KindProj]
    enum Kind<B> {
        Inner { #[pin] body: B },
        Full { data: Option<Bytes> },
    }
}

impl<B> ResponseBody<B> {
    /// Wraps the inner service's body.
    pub fn new(body: B) -> Self {
        Self {
            kind: Kind::Inner { body },
        }
    }

    /// A complete body (empty data gives an empty body).
    pub fn full(data: Bytes) -> Self {
        Self {
            kind: Kind::Full {
                data: (!data.is_empty()).then_some(data),
            },
        }
    }
}

impl<B> From<Bytes> for ResponseBody<B> {
    fn from(data: Bytes) -> Self {
        Self::full(data)
    }
}

impl<B> std::fmt::Debug for ResponseBody<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.kind {
            Kind::Inner { .. } => f.write_str("ResponseBody::Inner"),
            Kind::Full { data } => f
                .debug_struct("ResponseBody::Full")
                .field("len", &data.as_ref().map_or(0, Bytes::len))
                .finish(),
        }
    }
}

impl<B: Body<Data = Bytes>> Body for ResponseBody<B> {
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        match self.project().kind.project() {
            KindProj::Inner { body } => body.poll_frame(cx),
            KindProj::Full { data } => Poll::Ready(data.take().map(|d| Ok(Frame::data(d)))),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Inner { body } => body.is_end_stream(),
            Kind::Full { data } => data.is_none(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Inner { body } => body.size_hint(),
            Kind::Full { data } => {
                SizeHint::with_exact(data.as_ref().map_or(0, |d| d.len() as u64))
            }
        }
    }
}

pin_project! {
    /// The request body an inner service receives from a layer that may read
    /// the body first (sanitize, rate limits with token quotas): the
    /// original stream when the layer did not read it, else the complete
    /// (possibly rewritten) body.
    ///
    /// ```
    /// use bytes::Bytes;
    /// use http_body::Body as _;
    /// use http_body_util::Empty;
    /// use spark_tower::body::RequestBody;
    ///
    /// let read = RequestBody::<Empty<Bytes>>::full(Bytes::from_static(b"{}"));
    /// assert_eq!(read.size_hint().exact(), Some(2));
    /// assert!(RequestBody::original(Empty::<Bytes>::new()).is_end_stream());
    /// ```
    pub struct RequestBody<B> {
        // The same inner-or-complete shape as the crate's response body.
        #[pin]
        inner: ResponseBody<B>,
    }
}

impl<B> RequestBody<B> {
    /// The body as the client sends it.
    pub fn original(body: B) -> Self {
        Self {
            inner: ResponseBody::new(body),
        }
    }

    /// A complete body already read.
    pub fn full(data: Bytes) -> Self {
        Self {
            inner: ResponseBody::full(data),
        }
    }
}

impl<B> std::fmt::Debug for RequestBody<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("RequestBody").field(&self.inner).finish()
    }
}

impl<B: Body<Data = Bytes>> Body for RequestBody<B> {
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        self.project().inner.poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Sends `body` as hyper does: frames until the body says it has ended or
/// its exact length is out, then drops it, without necessarily polling its
/// end. Returns the bytes sent.
#[cfg(test)]
pub(crate) async fn send_like_hyper<B>(mut body: B) -> usize
where
    B: Body + Unpin,
    B::Data: bytes::Buf,
    B::Error: std::fmt::Debug,
{
    use bytes::Buf;
    use http_body_util::BodyExt;

    let length = body.size_hint().exact();
    let mut sent = 0;
    while !body.is_end_stream() && length.is_none_or(|n| (sent as u64) < n) {
        match body.frame().await {
            Some(frame) => {
                if let Ok(data) = frame.unwrap().into_data() {
                    sent += data.remaining();
                }
            }
            None => break,
        }
    }
    sent
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::{BodyExt, Full};

    #[tokio::test]
    async fn both_kinds_yield_their_bytes() {
        let inner = ResponseBody::new(Full::new(Bytes::from_static(b"inner")));
        assert_eq!(inner.collect().await.unwrap().to_bytes(), "inner");
        let full = ResponseBody::<Full<Bytes>>::from(Bytes::from_static(b"problem"));
        assert_eq!(full.size_hint().exact(), Some(7));
        assert_eq!(full.collect().await.unwrap().to_bytes(), "problem");
        let empty = ResponseBody::<Full<Bytes>>::full(Bytes::new());
        assert!(empty.is_end_stream());
    }
}
