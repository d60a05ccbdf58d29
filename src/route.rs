//! Route templates: what the error tracker groups by and the metrics layer
//! labels with, instead of raw paths, so groups and label values stay few.

use std::sync::Arc;

use crate::marker::ProviderApi;

/// Picks the route template of a request (never its raw path, so groups
/// and labels stay few).
pub type RouteOf = Arc<dyn Fn(&http::request::Parts) -> RouteTemplate + Send + Sync>;

/// A request's route template, kept until its answer is known.
///
/// ```
/// use spark_tower::route::RouteTemplate;
///
/// assert_eq!(RouteTemplate::Static("/v1/messages").as_str(), "/v1/messages");
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum RouteTemplate {
    /// A fixed template.
    Static(&'static str),
    /// A template made at run time.
    Shared(Arc<str>),
    /// axum's matched path (a shared string: keeping it allocates nothing).
    #[cfg(feature = "gateway")]
    Matched(axum::extract::MatchedPath),
}

impl RouteTemplate {
    /// The template.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Static(route) => route,
            Self::Shared(route) => route,
            #[cfg(feature = "gateway")]
            Self::Matched(matched) => matched.as_str(),
        }
    }
}

/// The default route template: axum's `MatchedPath` when the `gateway`
/// feature brings axum and a router set it, else the route of the
/// request's [`Provider`](crate::marker::Provider), else `unmatched`.
pub fn default_route(parts: &http::request::Parts) -> RouteTemplate {
    #[cfg(feature = "gateway")]
    if let Some(matched) = parts.extensions.get::<axum::extract::MatchedPath>() {
        return RouteTemplate::Matched(matched.clone());
    }
    match ProviderApi::from_extensions(&parts.extensions) {
        Some(api) => RouteTemplate::Static(api.route()),
        None => RouteTemplate::Static("unmatched"),
    }
}
