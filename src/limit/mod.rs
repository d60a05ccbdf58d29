//! Rejects request bodies larger than a limit with `413 Payload Too Large`,
//! also when they arrive streamed or chunked without a `Content-Length`.
//!
//! [`BodyLimitLayer`] checks each request in three places:
//!
//! - A `Content-Length` (or a body size hint) over the limit is answered with
//!   413 at once: the inner service is not called and no byte is read (so a
//!   client that sent `Expect: 100-continue` is never asked for the body).
//! - Otherwise the body handed to the inner service, a [`RequestBody`],
//!   counts bytes as frames arrive. The moment the count passes the limit it
//!   yields a [`LengthLimitExceeded`] error to whoever reads it, and the
//!   layer replaces whatever response the inner service then produces (often
//!   a 400 or 500 about an unreadable body) with the 413.
//! - With [`buffer(true)`](BodyLimitLayer::buffer) the layer reads the whole
//!   body itself before calling the inner service, which then sees it as one
//!   complete frame with an exact size hint; an oversized body never reaches
//!   the inner service.
//!
//! Every 413 is an `application/problem+json` body (see [`crate::problem`])
//! stating the limit in a `limit` member, with a provider-shaped `error`
//! member on provider routes, and a
//! [`Rejection`](crate::problem::Rejection) of kind
//! [`PayloadTooLarge`](crate::problem::RejectionKind::PayloadTooLarge) in
//! the response extensions.
//!
//! # Per-route limits
//!
//! - [`BodyLimitLayer::route`] sets the limit of one exact request path, for
//!   example a larger one for `/v1/messages`. With axum's `Router::layer`
//!   the layer runs after routing (per route), and paths under `nest` are
//!   seen without the nested prefix.
//! - A [`RouteLimit`] in the request extensions replaces the layer's limit
//!   for that request. It must be inserted by something that runs *before*
//!   this layer: an authentication layer granting larger bodies to some
//!   keys, `ServiceBuilder::map_request`, or tower-http's
//!   `AddExtensionLayer` in front. Note that axum applies layers in the order
//!   they are added, the last one outermost, so a `route_layer(Extension(..))`
//!   added *before* this layer runs inside it and comes too late.
//!
//! A [`RouteLimit`] wins over a [`route`](BodyLimitLayer::route) entry, which
//! wins over the default limit. A limit of `0` admits only empty bodies;
//! `usize::MAX` admits everything.
//!
//! # Where to put it
//!
//! Inside authentication, so unauthenticated clients are turned away before
//! any of their body is read; outside layers that read the body (sanitize,
//! cache), so they only ever see a bounded body (and, in buffering mode, a
//! complete one).
//!
//! # Caveats
//!
//! - A streamed body is only answered with the 413 if it passes the limit
//!   before the inner service's response is ready (the usual case: services
//!   read the request before they answer). A service that answers first and
//!   reads later sees the [`LengthLimitExceeded`] error when it reads.
//! - When the limit was passed, the 413 replaces the inner service's
//!   response *and* an error it may have returned instead.
//! - A body whose size hint promises at most the limit (hyper's body with a
//!   `Content-Length`, `Full`) is still counted, but the layer skips the
//!   shared flag it would need to replace the answer: should such a body
//!   break its promise, its reader gets the error and the inner service's
//!   answer stands. Hyper enforces `Content-Length` framing itself.
//! - Buffering holds up to the limit in memory per request, and requires the
//!   inner service to be `Clone` (it is for every axum service); so does the
//!   streaming mode, since both share one `Service` impl.
//!
//! # Examples
//!
//! A `Content-Length` over the limit is rejected before the inner service
//! runs:
//!
//! ```
//! use std::convert::Infallible;
//!
//! use bytes::Bytes;
//! use http::{Request, Response, StatusCode};
//! use http_body_util::{BodyExt, Full};
//! use spark_tower::limit::{BodyLimitLayer, RequestBody};
//! use tower::{ServiceBuilder, ServiceExt, service_fn};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let service = ServiceBuilder::new()
//!     .layer(BodyLimitLayer::new(1024))
//!     .service(service_fn(|request: Request<RequestBody<Full<Bytes>>>| async move {
//!         let body = request.into_body().collect().await.unwrap().to_bytes();
//!         Ok::<_, Infallible>(Response::new(Full::new(body)))
//!     }));
//!
//! let request = Request::post("/v1/chat/completions")
//!     .header("content-length", "2048")
//!     .body(Full::new(Bytes::from(vec![b'x'; 2048])))
//!     .unwrap();
//! let response = service.oneshot(request).await.unwrap();
//! assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
//! assert_eq!(response.headers()["content-type"], "application/problem+json");
//!
//! let body = response.into_body().collect().await.unwrap().to_bytes();
//! let problem: serde_json::Value = serde_json::from_slice(&body).unwrap();
//! assert_eq!(problem["type"], "urn:spark-tower:problem:payload-too-large");
//! assert_eq!(problem["limit"], 1024);
//! # }
//! ```
//!
//! Per-route limits in an axum `Router`, by path and by an extension set in
//! front of the layer:
//!
//! ```
//! # #[cfg(feature = "gateway")]
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! use axum::Router;
//! use axum::body::{Body, Bytes};
//! use axum::routing::post;
//! use http::{Request, StatusCode};
//! use spark_tower::limit::{BodyLimitLayer, RouteLimit};
//! use tower::{ServiceBuilder, ServiceExt};
//!
//! let app = Router::new()
//!     .route("/v1/chat/completions", post(|body: Bytes| async move { body }))
//!     .route("/v1/messages", post(|body: Bytes| async move { body }))
//!     .layer(BodyLimitLayer::new(1024).route("/v1/messages", 8 * 1024));
//!
//! let post = |path: &str| {
//!     // No Content-Length: the body is counted as it is read.
//!     let body = Body::from_stream(futures_util::stream::iter(
//!         [Ok::<_, std::io::Error>(Bytes::from(vec![b'x'; 4096]))],
//!     ));
//!     Request::post(path).body(body).unwrap()
//! };
//! let response = app.clone().oneshot(post("/v1/chat/completions")).await.unwrap();
//! assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
//! let response = app.clone().oneshot(post("/v1/messages")).await.unwrap();
//! assert_eq!(response.status(), StatusCode::OK);
//!
//! // An outer layer (here a plain `map_request`) grants this request more.
//! let generous = ServiceBuilder::new()
//!     .map_request(|mut request: Request<Body>| {
//!         request.extensions_mut().insert(RouteLimit(1 << 20));
//!         request
//!     })
//!     .service(app);
//! let response = generous.oneshot(post("/v1/chat/completions")).await.unwrap();
//! assert_eq!(response.status(), StatusCode::OK);
//! # }
//! # #[cfg(not(feature = "gateway"))]
//! # fn main() {}
//! ```

mod body;
mod future;
mod layer;
mod service;
#[cfg(test)]
mod tests;

pub use body::RequestBody;
pub use future::ResponseFuture;
pub use layer::BodyLimitLayer;
pub use service::BodyLimit;

/// A per-request body limit in bytes, replacing the layer's limit when found
/// in the request extensions.
///
/// Insert it in a layer that runs before [`BodyLimit`] (see the
/// [module docs](self#per-route-limits)); it may be looser or tighter than
/// the layer's limit.
///
/// ```
/// use spark_tower::limit::RouteLimit;
///
/// let mut request = http::Request::new(());
/// request.extensions_mut().insert(RouteLimit(10 * 1024 * 1024));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RouteLimit(pub usize);

/// The error a [`RequestBody`] yields when the body passes its limit.
///
/// Readers that box errors can find it with
/// `error.downcast_ref::<LengthLimitExceeded>()`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the request body exceeds the limit of {limit} bytes")]
pub struct LengthLimitExceeded {
    limit: usize,
}

impl LengthLimitExceeded {
    pub(crate) const fn new(limit: usize) -> Self {
        Self { limit }
    }

    /// The limit, in bytes, that the body passed.
    pub const fn limit(&self) -> usize {
        self.limit
    }
}

/// The error type of [`RequestBody`], which axum and hyper accept.
type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A byte count as `u64`, saturating on (hypothetical) wider `usize`s.
fn to_u64(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}
