//! The shared answer of the read-only endpoints (error listing, metrics,
//! health): `GET` and `HEAD` get the rendered body, uncached; other methods
//! a 405 problem.

use bytes::Bytes;
use http::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use http_body_util::Full;

use crate::problem::read_only_endpoint;

/// Answers `request` with what `render` makes (status and body) as
/// `content_type`, with `Cache-Control: no-store`; only `render`s for `GET`
/// and `HEAD`.
pub(crate) fn answer<B>(
    request: &Request<B>,
    content_type: &'static str,
    render: impl FnOnce() -> (StatusCode, Bytes),
) -> Response<Full<Bytes>> {
    if request.method() != Method::GET && request.method() != Method::HEAD {
        return read_only_endpoint();
    }
    let (status, body) = render();
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
