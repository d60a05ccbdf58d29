//! Markers that layers exchange through request and response extensions.
//!
//! Layers never reach into each other's internals: the gateway (or your own
//! router) puts a [`Provider`] into the request extensions, and per-provider
//! layers key on it; authenticating layers put a [`Principal`] there, and
//! rate limits and scope checks read it; rejecting layers put a
//! [`Rejection`](crate::problem::Rejection) into the response extensions,
//! and observing layers group by it.

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

/// The address of the connection a request came on, set by the server (the
/// gateway's `serve` does). Client-IP rate limits read it.
///
/// With axum's `into_make_service_with_connect_info`, insert it from
/// `ConnectInfo<SocketAddr>` with a one-line `map_request`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PeerAddr(pub std::net::SocketAddr);

/// Who is making a request: set by an authenticating layer (API key or
/// JWT) in the request extensions, read by rate limits, scope checks and
/// your handlers.
///
/// It names the user, the credential (a key id, never the key), the
/// user's tier (which picks a quota) and the scopes granted. Cloning is one
/// reference count.
///
/// Scopes are free-form strings; those of the form `model:<name>` restrict
/// which models the principal may use, and a trailing `*` matches any
/// suffix (`model:claude-*`). A principal without any `model:` scope may
/// use every model.
///
/// ```
/// use spark_tower::marker::Principal;
///
/// let alice = Principal::new("alice", "key_1", "pro", ["model:gpt-4o*", "files:read"]);
/// assert!(alice.allows_model("gpt-4o-mini"));
/// assert!(!alice.allows_model("o3"));
/// assert!(alice.has_scope("files:read"));
/// assert!(Principal::new("bob", "key_2", "free", Vec::<String>::new()).allows_model("o3"));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Principal(Arc<PrincipalParts>);

#[derive(PartialEq, Eq)]
struct PrincipalParts {
    user: Box<str>,
    key_id: Box<str>,
    tier: Box<str>,
    scopes: Box<[Box<str>]>,
}

impl Principal {
    /// A principal for `user`, authenticated by the credential `key_id`.
    pub fn new<S: Into<Box<str>>>(
        user: impl Into<Box<str>>,
        key_id: impl Into<Box<str>>,
        tier: impl Into<Box<str>>,
        scopes: impl IntoIterator<Item = S>,
    ) -> Self {
        Self(Arc::new(PrincipalParts {
            user: user.into(),
            key_id: key_id.into(),
            tier: tier.into(),
            scopes: scopes.into_iter().map(Into::into).collect(),
        }))
    }

    /// The user's id: what rate limits key on by default.
    pub fn user(&self) -> &str {
        &self.0.user
    }

    /// The id of the credential used (an API key's id or a JWT's key id),
    /// safe to log.
    pub fn key_id(&self) -> &str {
        &self.0.key_id
    }

    /// The user's tier, which picks a quota (for example `free` or `pro`).
    pub fn tier(&self) -> &str {
        &self.0.tier
    }

    /// The scopes granted.
    pub fn scopes(&self) -> impl ExactSizeIterator<Item = &str> {
        self.0.scopes.iter().map(|scope| &**scope)
    }

    /// Whether `scope` was granted, exactly or by a pattern ending in `*`.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.0
            .scopes
            .iter()
            .any(|granted| pattern_matches(granted, scope))
    }

    /// Whether the principal may use `model`: true when no `model:` scope
    /// restricts it, or when one of them matches.
    pub fn allows_model(&self, model: &str) -> bool {
        let mut restricted = false;
        for pattern in self
            .0
            .scopes
            .iter()
            .filter_map(|s| s.strip_prefix("model:"))
        {
            restricted = true;
            if pattern_matches(pattern, model) {
                return true;
            }
        }
        !restricted
    }

    /// Whether some `model:` scope restricts the models this principal may use.
    pub fn restricts_models(&self) -> bool {
        self.0.scopes.iter().any(|s| s.starts_with("model:"))
    }

    /// The principal of `extensions`, if a layer authenticated the request.
    pub fn from_extensions(extensions: &Extensions) -> Option<&Self> {
        extensions.get::<Self>()
    }
}

/// `pattern` equals `value`, or ends in `*` and is a prefix of it.
fn pattern_matches(pattern: &str, value: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => value.starts_with(prefix),
        None => pattern == value,
    }
}

impl fmt::Debug for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Principal")
            .field("user", &self.user())
            .field("key_id", &self.key_id())
            .field("tier", &self.tier())
            .field("scopes", &self.0.scopes)
            .finish()
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
    fn model_scopes_restrict_only_when_present() {
        let open = Principal::new("u", "k", "free", ["files:*"]);
        assert!(open.allows_model("anything"));
        assert!(!open.restricts_models());
        assert!(open.has_scope("files:write"));
        assert!(!open.has_scope("admin"));
        let narrow = Principal::new("u", "k", "free", ["model:claude-*", "model:gpt-4o"]);
        assert!(narrow.restricts_models());
        assert!(narrow.allows_model("claude-sonnet-4-5"));
        assert!(narrow.allows_model("gpt-4o"));
        assert!(!narrow.allows_model("gpt-4o-mini"));
        assert!(!narrow.allows_model(""));
        assert_eq!(narrow.scopes().len(), 2);
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
