//! Client API keys (`auth` feature).
//!
//! This is the first part of the `auth` layer: the key format, generation,
//! parsing and hashing. The key store and `ApiKeyLayer` follow.
//!
//! Keys look like `spk_` followed by 28 letters and digits (see [`ApiKey`]
//! for the exact format); a malformed or mistyped key is rejected before
//! any lookup, and stores keep only its SHA-256 ([`KeyHash`]).

mod key;

pub use key::{ApiKey, KEY_LEN, KeyError, KeyHash, PREFIX};
