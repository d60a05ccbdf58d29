//! Adds a recommended set of security response headers for JSON APIs.
//!
//! [`SecurityHeadersLayer::new`] adds these headers to every response:
//!
//! | Header                         | Default value                                        |
//! |--------------------------------|------------------------------------------------------|
//! | `Strict-Transport-Security`    | `max-age=31536000; includeSubDomains`                |
//! | `X-Content-Type-Options`       | `nosniff`                                            |
//! | `X-Frame-Options`              | `DENY`                                               |
//! | `Referrer-Policy`              | `no-referrer`                                        |
//! | `Content-Security-Policy`      | `default-src 'none'; frame-ancestors 'none'`         |
//! | `Permissions-Policy`           | `accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), payment=(), usb=()` |
//! | `Cross-Origin-Opener-Policy`   | `same-origin`                                        |
//! | `Cross-Origin-Resource-Policy` | `same-origin`                                        |
//! | `Cache-Control`                | `no-store`                                           |
//!
//! It also removes `Server` and `X-Powered-By` from responses by default
//! (see [`SecurityHeadersLayer::strip_server_headers`]).
//!
//! Caveats:
//!
//! - A header the inner service already set is kept unless
//!   [`overwrite(true)`](SecurityHeadersLayer::overwrite) is used.
//!   `Cache-Control` set by the inner service is **always** kept, even in
//!   overwrite mode, because it is often deliberate (e.g. cacheable resources).
//! - The defaults are meant for JSON APIs. `default-src 'none'` breaks HTML
//!   pages (e.g. an API docs UI): override the CSP for such routes.
//! - Browsers only honour HSTS over HTTPS; `includeSubDomains` applies to
//!   every subdomain, so make sure they all serve HTTPS.
//! - Only successful (`Ok`) responses are touched; errors pass through
//!   unchanged. Place this layer outside any layer that turns errors into
//!   responses so those responses get the headers too.
//!
//! # Example
//!
//! ```
//! use std::convert::Infallible;
//!
//! use bytes::Bytes;
//! use http::{Request, Response, header};
//! use http_body_util::Empty;
//! use spark_tower::headers::SecurityHeadersLayer;
//! use tower::{ServiceBuilder, ServiceExt, service_fn};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Infallible> {
//! let svc = ServiceBuilder::new()
//!     .layer(SecurityHeadersLayer::new().without_header(header::X_FRAME_OPTIONS))
//!     .service(service_fn(|_req: Request<()>| async {
//!         let mut res = Response::new(Empty::<Bytes>::new());
//!         res.headers_mut().insert(header::SERVER, "my-server/1.0".parse().unwrap());
//!         Ok::<_, Infallible>(res)
//!     }));
//!
//! let res = svc.oneshot(Request::new(())).await?;
//! let h = res.headers();
//! assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
//! assert_eq!(h[header::STRICT_TRANSPORT_SECURITY], "max-age=31536000; includeSubDomains");
//! assert_eq!(h[header::CACHE_CONTROL], "no-store");
//! assert!(!h.contains_key(header::X_FRAME_OPTIONS));
//! assert!(!h.contains_key(header::SERVER));
//! # Ok(())
//! # }
//! ```

use std::fmt;
use std::future::Future;
use std::mem;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use http::header::{self, Entry, HeaderMap, HeaderName, HeaderValue};
use http::{Request, Response};
use pin_project_lite::pin_project;
use tower_layer::Layer;
use tower_service::Service;

/// `Permissions-Policy` header name.
const PERMISSIONS_POLICY: HeaderName = HeaderName::from_static("permissions-policy");
/// `Cross-Origin-Opener-Policy` header name.
const CROSS_ORIGIN_OPENER_POLICY: HeaderName =
    HeaderName::from_static("cross-origin-opener-policy");
/// `Cross-Origin-Resource-Policy` header name.
const CROSS_ORIGIN_RESOURCE_POLICY: HeaderName =
    HeaderName::from_static("cross-origin-resource-policy");
/// `X-Powered-By` header name.
const X_POWERED_BY: HeaderName = HeaderName::from_static("x-powered-by");

/// Responses with at least this many fewer headers than the layer adds are
/// merged into a clone of the prebuilt map (see `Config::apply`).
const MERGE_MARGIN: usize = 4;

/// The recommended header set.
const DEFAULTS: [(HeaderName, &str); 9] = [
    (
        header::STRICT_TRANSPORT_SECURITY,
        "max-age=31536000; includeSubDomains",
    ),
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::X_FRAME_OPTIONS, "DENY"),
    (header::REFERRER_POLICY, "no-referrer"),
    (
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; frame-ancestors 'none'",
    ),
    (
        PERMISSIONS_POLICY,
        "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), \
         microphone=(), payment=(), usb=()",
    ),
    (CROSS_ORIGIN_OPENER_POLICY, "same-origin"),
    (CROSS_ORIGIN_RESOURCE_POLICY, "same-origin"),
    (header::CACHE_CONTROL, "no-store"),
];

/// Shared, immutable-once-built configuration.
#[derive(Debug, Clone)]
struct Config {
    /// Headers to add, prebuilt so a request only clones them (or the map).
    headers: HeaderMap,
    /// Replace headers the inner service already set (except `Cache-Control`).
    overwrite: bool,
    /// Remove `Server` and `X-Powered-By`.
    strip_server_headers: bool,
}

impl Config {
    fn apply(&self, map: &mut HeaderMap) {
        // Hashing a header name costs about as much as inserting it, so
        // touch whichever map is smaller: a response with few headers is
        // merged into a clone of the prebuilt map (no hashing of our
        // headers); otherwise our headers are inserted into the response.
        // Both paths give the same result, up to header order.
        if map.len() + MERGE_MARGIN <= self.headers.len() {
            self.merge_into_prebuilt(map);
        } else {
            self.insert_into(map);
        }
    }

    fn strips(&self, name: &HeaderName) -> bool {
        self.strip_server_headers && (name == header::SERVER || name == X_POWERED_BY)
    }

    fn merge_into_prebuilt(&self, map: &mut HeaderMap) {
        let inner = mem::replace(map, self.headers.clone());
        let mut inner = inner.into_iter().peekable();
        while let Some((name, value)) = inner.next() {
            // `None` only follows a `Some` of the same name, consumed below.
            let mut slot = match name {
                Some(name) if !self.strips(&name) => match map.entry(name) {
                    Entry::Occupied(entry)
                        if self.overwrite && entry.key() != header::CACHE_CONTROL =>
                    {
                        None
                    }
                    Entry::Occupied(mut entry) => {
                        entry.insert(value);
                        Some(entry)
                    }
                    Entry::Vacant(entry) => Some(entry.insert_entry(value)),
                },
                _ => None,
            };
            while let Some((_, extra)) = inner.next_if(|(name, _)| name.is_none()) {
                if let Some(entry) = slot.as_mut() {
                    entry.append(extra);
                }
            }
        }
    }

    fn insert_into(&self, map: &mut HeaderMap) {
        if self.strip_server_headers {
            map.remove(header::SERVER);
            map.remove(X_POWERED_BY);
        }
        map.reserve(self.headers.len());
        for (name, value) in &self.headers {
            if self.overwrite && name != header::CACHE_CONTROL {
                map.insert(name, value.clone());
            } else if let Entry::Vacant(slot) = map.entry(name) {
                slot.insert(value.clone());
            }
        }
    }
}

/// Layer that adds security headers to every response.
///
/// Cheap to clone: the configuration lives behind an [`Arc`] and builder
/// methods copy it only when it is shared. Header names and values are built
/// once, with the layer; a response only clones them (no re-parsing).
///
/// Defaults of [`new`](Self::new): the recommended header set (see the
/// [module docs](self)), no overwriting of headers set by the inner service,
/// and stripping of `Server` / `X-Powered-By` **on**.
#[derive(Debug, Clone)]
pub struct SecurityHeadersLayer {
    config: Arc<Config>,
}

impl Default for SecurityHeadersLayer {
    fn default() -> Self {
        Self::new()
    }
}

impl SecurityHeadersLayer {
    /// Creates a layer with the recommended header set, `overwrite(false)` and
    /// `strip_server_headers(true)`.
    pub fn new() -> Self {
        let headers = DEFAULTS
            .into_iter()
            .map(|(name, value)| (name, HeaderValue::from_static(value)))
            .collect();
        Self::from_parts(headers)
    }

    /// Creates a layer that adds no headers (still `overwrite(false)` and
    /// `strip_server_headers(true)`); add headers with
    /// [`with_header`](Self::with_header).
    pub fn empty() -> Self {
        Self::from_parts(HeaderMap::new())
    }

    fn from_parts(headers: HeaderMap) -> Self {
        Self {
            config: Arc::new(Config {
                headers,
                overwrite: false,
                strip_server_headers: true,
            }),
        }
    }

    fn config_mut(&mut self) -> &mut Config {
        Arc::make_mut(&mut self.config)
    }

    /// Sets `name` to `value`, replacing the configured value if `name` is
    /// already in the set, or adding it as an extra header otherwise.
    ///
    /// Extra headers follow the same rules as the default ones (see
    /// [`overwrite`](Self::overwrite)).
    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.config_mut().headers.insert(name, value);
        self
    }

    /// Removes `name` from the set; a no-op if it is not in the set.
    ///
    /// This only stops the layer from adding the header; it does not remove
    /// the header from responses where the inner service set it.
    pub fn without_header(mut self, name: HeaderName) -> Self {
        self.config_mut().headers.remove(name);
        self
    }

    /// Sets the `Strict-Transport-Security` value.
    pub fn hsts(self, value: HeaderValue) -> Self {
        self.with_header(header::STRICT_TRANSPORT_SECURITY, value)
    }

    /// Sets the `Content-Security-Policy` value.
    pub fn content_security_policy(self, value: HeaderValue) -> Self {
        self.with_header(header::CONTENT_SECURITY_POLICY, value)
    }

    /// Sets the `Permissions-Policy` value.
    pub fn permissions_policy(self, value: HeaderValue) -> Self {
        self.with_header(PERMISSIONS_POLICY, value)
    }

    /// Sets the `Referrer-Policy` value.
    pub fn referrer_policy(self, value: HeaderValue) -> Self {
        self.with_header(header::REFERRER_POLICY, value)
    }

    /// Sets the default `Cache-Control` value, used only when the inner
    /// service did not set `Cache-Control` itself.
    pub fn cache_control(self, value: HeaderValue) -> Self {
        self.with_header(header::CACHE_CONTROL, value)
    }

    /// Whether configured headers replace the ones the inner service already
    /// set (default `false`: the inner service's headers are kept).
    ///
    /// `Cache-Control` set by the inner service is always kept, even with
    /// `overwrite(true)`.
    pub fn overwrite(mut self, overwrite: bool) -> Self {
        self.config_mut().overwrite = overwrite;
        self
    }

    /// Whether to remove `Server` and `X-Powered-By` from responses
    /// (default `true`), as they only advertise the software stack.
    ///
    /// Stripping happens before the configured headers are added, so a
    /// `Server` header configured with [`with_header`](Self::with_header)
    /// is still sent.
    pub fn strip_server_headers(mut self, strip: bool) -> Self {
        self.config_mut().strip_server_headers = strip;
        self
    }

    /// The configured headers.
    pub fn headers(&self) -> impl Iterator<Item = (&HeaderName, &HeaderValue)> {
        self.config.headers.iter()
    }
}

impl<S> Layer<S> for SecurityHeadersLayer {
    type Service = SecurityHeaders<S>;

    fn layer(&self, inner: S) -> Self::Service {
        SecurityHeaders {
            inner,
            config: Arc::clone(&self.config),
        }
    }
}

/// Service that adds security headers to every response of `S`.
///
/// Created by [`SecurityHeadersLayer`]; see there for the configuration.
#[derive(Debug, Clone)]
pub struct SecurityHeaders<S> {
    inner: S,
    config: Arc<Config>,
}

impl<S> SecurityHeaders<S> {
    /// Wraps `inner` with the recommended configuration
    /// ([`SecurityHeadersLayer::new`]).
    pub fn new(inner: S) -> Self {
        SecurityHeadersLayer::new().layer(inner)
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

impl<S, ReqB, ResB> Service<Request<ReqB>> for SecurityHeaders<S>
where
    S: Service<Request<ReqB>, Response = Response<ResB>>,
{
    type Response = Response<ResB>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqB>) -> Self::Future {
        ResponseFuture {
            inner: self.inner.call(req),
            config: Arc::clone(&self.config),
        }
    }
}

pin_project! {
    /// Response future of [`SecurityHeaders`].
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        config: Arc<Config>,
    }
}

impl<F> fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl<F, ResB, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<ResB>, E>>,
{
    type Output = Result<Response<ResB>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut res = ready!(this.inner.poll(cx))?;
        this.config.apply(res.headers_mut());
        Poll::Ready(Ok(res))
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use tower::{ServiceExt, service_fn};

    use super::*;

    /// Runs `layer` over a service responding with `inner_headers`, and
    /// checks that both strategies of `Config::apply` agree.
    async fn run(layer: &SecurityHeadersLayer, inner_headers: &[(&str, &str)]) -> HeaderMap {
        let mut inner = HeaderMap::new();
        for (n, v) in inner_headers {
            inner.append(n.parse::<HeaderName>().unwrap(), v.parse().unwrap());
        }
        let (mut merged, mut inserted) = (inner.clone(), inner.clone());
        layer.config.merge_into_prebuilt(&mut merged);
        layer.config.insert_into(&mut inserted);
        assert_eq!(
            merged, inserted,
            "strategies disagree for {inner_headers:?}"
        );

        let svc = layer.layer(service_fn(move |_req: Request<()>| {
            let mut res = Response::new(());
            *res.headers_mut() = inner.clone();
            async move { Ok::<_, Infallible>(res) }
        }));
        let headers = svc
            .oneshot(Request::new(()))
            .await
            .unwrap()
            .into_parts()
            .0
            .headers;
        assert_eq!(headers, merged);
        headers
    }

    fn value(v: &'static str) -> HeaderValue {
        HeaderValue::from_static(v)
    }

    #[tokio::test]
    async fn default_headers_present() {
        let h = run(&SecurityHeadersLayer::new(), &[]).await;
        let cases = [
            (
                "strict-transport-security",
                "max-age=31536000; includeSubDomains",
            ),
            ("x-content-type-options", "nosniff"),
            ("x-frame-options", "DENY"),
            ("referrer-policy", "no-referrer"),
            (
                "content-security-policy",
                "default-src 'none'; frame-ancestors 'none'",
            ),
            (
                "permissions-policy",
                "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), \
                 microphone=(), payment=(), usb=()",
            ),
            ("cross-origin-opener-policy", "same-origin"),
            ("cross-origin-resource-policy", "same-origin"),
            ("cache-control", "no-store"),
        ];
        for (name, expected) in cases {
            assert_eq!(h.get_all(name).iter().count(), 1, "{name} count");
            assert_eq!(h[name], expected, "{name}");
        }
        assert_eq!(h.len(), cases.len());
        assert_eq!(
            SecurityHeadersLayer::default().headers().count(),
            cases.len()
        );
    }

    #[tokio::test]
    async fn inner_header_kept_or_overwritten() {
        // (overwrite, expected X-Frame-Options)
        let cases = [(false, "SAMEORIGIN"), (true, "DENY")];
        for (overwrite, expected) in cases {
            let layer = SecurityHeadersLayer::new().overwrite(overwrite);
            let h = run(
                &layer,
                &[
                    ("x-frame-options", "SAMEORIGIN"),
                    ("x-frame-options", "ALLOW"),
                ],
            )
            .await;
            let all: Vec<_> = h.get_all("x-frame-options").iter().collect();
            if overwrite {
                assert_eq!(all, [expected], "overwrite={overwrite}");
            } else {
                assert_eq!(all, ["SAMEORIGIN", "ALLOW"], "overwrite={overwrite}");
            }
            assert_eq!(h["x-content-type-options"], "nosniff");
        }
    }

    #[tokio::test]
    async fn inner_cache_control_always_kept() {
        for overwrite in [false, true] {
            let layer = SecurityHeadersLayer::new()
                .overwrite(overwrite)
                .cache_control(value("private"));
            let h = run(&layer, &[("cache-control", "public, max-age=60")]).await;
            let all: Vec<_> = h.get_all("cache-control").iter().collect();
            assert_eq!(all, ["public, max-age=60"], "overwrite={overwrite}");
        }
        let h = run(
            &SecurityHeadersLayer::new().cache_control(value("private")),
            &[],
        )
        .await;
        assert_eq!(h["cache-control"], "private");
    }

    #[tokio::test]
    async fn header_turned_off() {
        let cases = [
            header::STRICT_TRANSPORT_SECURITY,
            header::CACHE_CONTROL,
            PERMISSIONS_POLICY,
            HeaderName::from_static("not-in-the-set"),
        ];
        for name in cases {
            let layer = SecurityHeadersLayer::new().without_header(name.clone());
            let h = run(&layer, &[]).await;
            assert!(!h.contains_key(&name), "{name}");
            assert!(h.contains_key(header::X_CONTENT_TYPE_OPTIONS), "{name}");
        }
        assert!(run(&SecurityHeadersLayer::empty(), &[]).await.is_empty());
    }

    #[tokio::test]
    async fn overridden_and_extra_headers() {
        let layer = SecurityHeadersLayer::new()
            .hsts(value("max-age=63072000; includeSubDomains; preload"))
            .content_security_policy(value("default-src 'self'"))
            .permissions_policy(value("camera=()"))
            .referrer_policy(value("same-origin"))
            .with_header(header::X_FRAME_OPTIONS, value("SAMEORIGIN"))
            .with_header(HeaderName::from_static("x-custom"), value("yes"));
        let cases = [
            (
                "strict-transport-security",
                "max-age=63072000; includeSubDomains; preload",
            ),
            ("content-security-policy", "default-src 'self'"),
            ("permissions-policy", "camera=()"),
            ("referrer-policy", "same-origin"),
            ("x-frame-options", "SAMEORIGIN"),
            ("x-custom", "yes"),
        ];
        let h = run(&layer, &[]).await;
        for (name, expected) in cases {
            assert_eq!(h.get_all(name).iter().count(), 1, "{name} count");
            assert_eq!(h[name], expected, "{name}");
        }
        // Overrides replace in place; only the extra header is appended.
        assert_eq!(layer.headers().count(), DEFAULTS.len() + 1);
        assert_eq!(layer.headers().last().unwrap().0, "x-custom");
    }

    #[tokio::test]
    async fn server_headers_stripped_per_setting() {
        let inner = [("server", "hyper/1"), ("x-powered-by", "rust")];
        // (layer, expect stripped)
        let cases = [
            (SecurityHeadersLayer::new(), true),
            (SecurityHeadersLayer::empty(), true),
            (SecurityHeadersLayer::new().strip_server_headers(true), true),
            (
                SecurityHeadersLayer::new().strip_server_headers(false),
                false,
            ),
        ];
        for (i, (layer, stripped)) in cases.into_iter().enumerate() {
            let h = run(&layer, &inner).await;
            assert_eq!(h.contains_key("server"), !stripped, "case {i}");
            assert_eq!(h.contains_key("x-powered-by"), !stripped, "case {i}");
        }
        // A configured Server header survives stripping.
        let layer = SecurityHeadersLayer::new().with_header(header::SERVER, value("edge"));
        let h = run(&layer, &inner).await;
        assert_eq!(h["server"], "edge");
        assert!(!h.contains_key("x-powered-by"));
    }

    #[tokio::test]
    async fn many_inner_headers() {
        // Enough inner headers to take the in-place insertion path.
        let fillers: Vec<String> = (0..10).map(|i| format!("x-filler-{i}")).collect();
        let mut inner: Vec<(&str, &str)> = fillers.iter().map(|n| (n.as_str(), "1")).collect();
        inner.extend([
            ("x-frame-options", "SAMEORIGIN"),
            ("x-frame-options", "ALLOW"),
            ("cache-control", "max-age=5"),
            ("server", "hyper"),
            ("x-powered-by", "rust"),
        ]);
        for overwrite in [false, true] {
            for strip in [false, true] {
                let layer = SecurityHeadersLayer::new()
                    .overwrite(overwrite)
                    .strip_server_headers(strip);
                let h = run(&layer, &inner).await;
                let case = format!("overwrite={overwrite} strip={strip}");
                let frame: Vec<_> = h.get_all("x-frame-options").iter().collect();
                if overwrite {
                    assert_eq!(frame, ["DENY"], "{case}");
                } else {
                    assert_eq!(frame, ["SAMEORIGIN", "ALLOW"], "{case}");
                }
                assert_eq!(h["cache-control"], "max-age=5", "{case}");
                assert_eq!(h.contains_key("server"), !strip, "{case}");
                assert_eq!(h.contains_key("x-powered-by"), !strip, "{case}");
                assert_eq!(h["x-content-type-options"], "nosniff", "{case}");
                for name in &fillers {
                    assert_eq!(h[name.as_str()], "1", "{case}");
                }
            }
        }
    }

    #[test]
    fn clones_share_config_copy_on_write() {
        let a = SecurityHeadersLayer::new();
        let b = a.clone();
        assert!(Arc::ptr_eq(&a.config, &b.config));
        let svc = b.layer(());
        assert!(Arc::ptr_eq(&a.config, &svc.config));
        assert!(Arc::ptr_eq(&svc.config, &svc.clone().config));

        let c = b.without_header(header::X_FRAME_OPTIONS);
        assert!(!Arc::ptr_eq(&a.config, &c.config));
        assert_eq!(a.headers().count(), DEFAULTS.len());
        assert_eq!(c.headers().count(), DEFAULTS.len() - 1);
        assert_eq!(svc.config.headers.len(), DEFAULTS.len());

        // Unshared config is modified in place.
        let ptr = Arc::as_ptr(&c.config);
        let d = c.overwrite(true);
        assert_eq!(Arc::as_ptr(&d.config), ptr);
    }

    #[tokio::test]
    async fn inner_error_passes_through() {
        #[derive(Debug, PartialEq)]
        struct Boom(u32);

        let svc = SecurityHeadersLayer::new().layer(service_fn(|_req: Request<()>| async {
            Err::<Response<()>, _>(Boom(7))
        }));
        assert_eq!(svc.oneshot(Request::new(())).await.unwrap_err(), Boom(7));
    }

    #[tokio::test]
    async fn service_accessors() {
        let mut svc = SecurityHeaders::new(service_fn(|_req: Request<()>| async {
            Ok::<_, Infallible>(Response::new(()))
        }));
        let _ = svc.get_ref();
        let _ = svc.get_mut();
        let res = svc.into_inner().oneshot(Request::new(())).await.unwrap();
        assert!(res.headers().is_empty());
        let _ = format!("{:?}", SecurityHeadersLayer::new());
    }
}
