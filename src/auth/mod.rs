//! API keys: format, storage and the authenticating layer (`auth` feature).
//!
//! - [`ApiKey`]: keys look like `spk_` followed by 28 letters and digits (see
//!   [`ApiKey`] for the exact format); a malformed or mistyped key is
//!   rejected before any lookup.
//! - [`KeyStore`]: where keys are looked up by their SHA-256
//!   ([`KeyHash`]); [`MemoryKeyStore`] holds them in memory, loaded from a
//!   TOML or JSON file that can be reloaded while serving.
//! - [`ApiKeyLayer`]: reads the key from `Authorization: Bearer` or
//!   `x-api-key`, puts a [`Principal`](crate::marker::Principal) into the
//!   request extensions and removes the credential before the request goes
//!   on.
//! - [`ModelScopeLayer`]: 403 for a model outside the principal's `model:`
//!   scopes.
//!
//! `cargo run --example keygen -- --user alice --tier pro` prints a new key
//! and the key-file entry that holds only its hash.

mod credential;
#[cfg(feature = "jwt")]
mod jwt;
mod key;
mod layer;
mod scope;
mod store;
#[cfg(test)]
mod tests;

#[cfg(feature = "jwt")]
pub use jwt::{JwksFetch, JwtAuth, JwtBuilder, JwtConfigError, JwtFuture, JwtKeys, JwtLayer};
pub use key::{ApiKey, KEY_LEN, KeyError, KeyHash, PREFIX};
pub use layer::{ApiKeyAuth, ApiKeyLayer, ResponseFuture, X_API_KEY};
pub use scope::{DEFAULT_MAX_SCOPE_BODY, ModelScope, ModelScopeLayer, ScopeFuture};
pub use store::{
    FileFormat, KeyEntry, KeyRecord, KeyStore, MemoryKeyStore, StoreError, parse_key_file,
};
