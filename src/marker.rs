//! Markers that layers exchange through request and response extensions.
//!
//! Layers never reach into each other's internals: the gateway (or your own
//! router) puts a [`Provider`] into the request extensions, and per-provider
//! layers key on it; rejecting layers put a [`Rejection`](crate::problem::Rejection)
//! into the response extensions, and observing layers group by it.

use std::fmt;
use std::sync::Arc;

use http::Extensions;

/// The wire format a provider speaks, which decides the shape of its errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ProviderApi {
    /// OpenAI Chat Completions and compatible APIs (`/v1/chat/completions`).
    OpenAi,
    /// Anthropic Messages API (`/v1/messages`).
    Anthropic,
}

impl ProviderApi {
    /// The path the gateway serves this API on.
    pub const fn route(self) -> &'static str {
        match self {
            Self::OpenAi => "/v1/chat/completions",
            Self::Anthropic => "/v1/messages",
        }
    }

    /// The path appended to the provider's base URL, following each official
    /// SDK's convention: the OpenAI base URL includes the version
    /// (`https://api.openai.com/v1`), the Anthropic one does not
    /// (`https://api.anthropic.com`).
    pub const fn upstream_path(self) -> &'static str {
        match self {
            Self::OpenAi => "/chat/completions",
            Self::Anthropic => "/v1/messages",
        }
    }

    /// The API of the [`Provider`] marker in `extensions`, if there is one.
    pub fn from_extensions(extensions: &Extensions) -> Option<Self> {
        extensions.get::<Provider>().map(Provider::api)
    }
}

#[derive(Clone)]
enum Name {
    Static(&'static str),
    Shared(Arc<str>),
}

/// Which model provider a request is routed to.
///
/// Routes insert it into the request extensions; per-provider layers (circuit
/// breakers, metrics labels, error tracking) read it. Cloning is cheap: the
/// built-in providers hold a `&'static str`, custom ones an `Arc<str>`.
///
/// ```
/// use spark_tower::marker::{Provider, ProviderApi};
///
/// let groq = Provider::custom("groq", ProviderApi::OpenAi);
/// assert_eq!(groq.name(), "groq");
/// assert_eq!(Provider::openai().api(), ProviderApi::OpenAi);
/// assert_ne!(groq, Provider::openai());
/// ```
#[derive(Clone)]
pub struct Provider {
    name: Name,
    api: ProviderApi,
}

impl Provider {
    /// OpenAI, named `openai`.
    pub const fn openai() -> Self {
        Self {
            name: Name::Static("openai"),
            api: ProviderApi::OpenAi,
        }
    }

    /// Anthropic, named `anthropic`.
    pub const fn anthropic() -> Self {
        Self {
            name: Name::Static("anthropic"),
            api: ProviderApi::Anthropic,
        }
    }

    /// Any other provider speaking one of the supported APIs.
    pub fn custom(name: impl Into<Arc<str>>, api: ProviderApi) -> Self {
        Self {
            name: Name::Shared(name.into()),
            api,
        }
    }

    /// The provider's name, used as a key and as a metrics label.
    pub fn name(&self) -> &str {
        match &self.name {
            Name::Static(name) => name,
            Name::Shared(name) => name,
        }
    }

    /// The API this provider speaks.
    pub const fn api(&self) -> ProviderApi {
        self.api
    }
}

impl AsRef<str> for Provider {
    /// The provider's name (see [`Provider::name`]).
    fn as_ref(&self) -> &str {
        self.name()
    }
}

impl PartialEq for Provider {
    fn eq(&self, other: &Self) -> bool {
        self.name() == other.name()
    }
}

impl Eq for Provider {}

impl std::hash::Hash for Provider {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.name().hash(state);
    }
}

impl fmt::Debug for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Provider")
            .field("name", &self.name())
            .field("api", &self.api)
            .finish()
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn providers_compare_by_name() {
        assert_eq!(
            Provider::custom("openai", ProviderApi::OpenAi),
            Provider::openai()
        );
        assert_ne!(Provider::openai(), Provider::anthropic());
    }

    #[test]
    fn api_is_read_from_extensions() {
        let mut ext = Extensions::new();
        assert_eq!(ProviderApi::from_extensions(&ext), None);
        ext.insert(Provider::anthropic());
        assert_eq!(
            ProviderApi::from_extensions(&ext),
            Some(ProviderApi::Anthropic)
        );
    }
}
