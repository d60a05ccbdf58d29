//! The layer and its shared configuration.

use std::sync::Arc;

use http::Request;
use tower_layer::Layer;

use super::{BodyLimit, RouteLimit};

/// Configuration shared by every clone of a layer and its services.
#[derive(Debug, Clone)]
pub(super) struct Config {
    /// The limit when neither a [`RouteLimit`] nor a route entry applies.
    pub(super) limit: usize,
    /// Exact paths with their own limit. Empty for most layers, so the
    /// lookup is one length check; a handful of entries is scanned linearly,
    /// which beats hashing the path for the few routes layers carry.
    pub(super) routes: Vec<(Box<str>, usize)>,
    /// Read the whole body before calling the inner service.
    pub(super) buffer: bool,
}

impl Config {
    /// The limit for `request`: its [`RouteLimit`], else its path's entry,
    /// else the default.
    pub(super) fn limit_for<B>(&self, request: &Request<B>) -> usize {
        if let Some(RouteLimit(limit)) = request.extensions().get::<RouteLimit>() {
            return *limit;
        }
        if !self.routes.is_empty() {
            let path = request.uri().path();
            if let Some((_, limit)) = self.routes.iter().find(|(p, _)| **p == *path) {
                return *limit;
            }
        }
        self.limit
    }
}

/// Layer that limits the size of request bodies; see the
/// [module docs](super).
///
/// Cheap to clone: the configuration lives behind an [`Arc`] and builder
/// methods copy it only when it is shared.
///
/// ```
/// use spark_tower::limit::BodyLimitLayer;
///
/// let layer = BodyLimitLayer::new(1024 * 1024)
///     .route("/v1/messages", 10 * 1024 * 1024)
///     .buffer(true);
/// assert_eq!(layer.limit(), 1024 * 1024);
/// assert_eq!(layer.limit_for_path("/v1/messages"), 10 * 1024 * 1024);
/// assert!(layer.is_buffering());
/// ```
#[derive(Debug, Clone)]
pub struct BodyLimitLayer {
    pub(super) config: Arc<Config>,
}

impl BodyLimitLayer {
    /// Limits request bodies to `limit_bytes` (inclusive), streaming them to
    /// the inner service. `0` admits only empty bodies, `usize::MAX`
    /// everything.
    pub fn new(limit_bytes: usize) -> Self {
        Self {
            config: Arc::new(Config {
                limit: limit_bytes,
                routes: Vec::new(),
                buffer: false,
            }),
        }
    }

    fn config_mut(&mut self) -> &mut Config {
        Arc::make_mut(&mut self.config)
    }

    /// Sets the limit of requests whose path is exactly `path` (no pattern
    /// matching, no query string), replacing an earlier entry for the same
    /// path. A [`RouteLimit`] in the request extensions still wins.
    ///
    /// # Panics
    ///
    /// If `path` does not start with `/` (it could never match).
    pub fn route(mut self, path: impl Into<String>, limit_bytes: usize) -> Self {
        let path = path.into();
        assert!(
            path.starts_with('/'),
            "BodyLimitLayer::route: path {path:?} must start with '/'"
        );
        let routes = &mut self.config_mut().routes;
        match routes.iter_mut().find(|(p, _)| **p == *path) {
            Some((_, limit)) => *limit = limit_bytes,
            None => routes.push((path.into_boxed_str(), limit_bytes)),
        }
        self
    }

    /// Whether to read the whole body (within the limit) before calling the
    /// inner service (default `false`).
    ///
    /// The inner service then sees the body as one data frame (followed by
    /// trailers, if any) with an exact size hint, and an oversized body is
    /// answered with 413 without calling it. A body that cannot be read is
    /// answered with `400 Bad Request`.
    ///
    /// A body that arrives in one frame is kept as that frame, uncopied;
    /// one that arrives in several is collected into one buffer sized from
    /// its `Content-Length`, so it is allocated once. The declared length
    /// is trusted up to 4 MiB only: a client that declares a large body and
    /// then stalls cannot make each connection reserve the whole limit, so
    /// a larger body grows its buffer as it arrives.
    pub fn buffer(mut self, buffer: bool) -> Self {
        self.config_mut().buffer = buffer;
        self
    }

    /// The default limit in bytes.
    pub fn limit(&self) -> usize {
        self.config.limit
    }

    /// The limit of requests to `path` that carry no [`RouteLimit`].
    pub fn limit_for_path(&self, path: &str) -> usize {
        self.config
            .routes
            .iter()
            .find(|(p, _)| **p == *path)
            .map_or(self.config.limit, |(_, limit)| *limit)
    }

    /// Whether the layer buffers bodies (see [`buffer`](Self::buffer)).
    pub fn is_buffering(&self) -> bool {
        self.config.buffer
    }
}

impl<S> Layer<S> for BodyLimitLayer {
    type Service = BodyLimit<S>;

    fn layer(&self, inner: S) -> Self::Service {
        BodyLimit::from_parts(inner, Arc::clone(&self.config))
    }
}
