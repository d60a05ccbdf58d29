//! Where keys are looked up: the [`KeyStore`] trait and the file-backed
//! [`MemoryKeyStore`].

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::future::{Future, Ready, ready};
use std::hash::{BuildHasher, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use arc_swap::ArcSwap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::key::{ApiKey, KeyHash};
use crate::marker::Principal;

/// What a store knows of a key: who it belongs to and whether it may be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyRecord {
    /// The principal a request with this key acts as.
    pub principal: Principal,
    /// When the key stops working, if ever.
    pub expires: Option<SystemTime>,
    /// A revoked key: refused exactly like an unknown one.
    pub disabled: bool,
}

impl KeyRecord {
    /// A usable key for `principal` that never expires.
    pub fn new(principal: Principal) -> Self {
        Self {
            principal,
            expires: None,
            disabled: false,
        }
    }

    /// Whether the key has expired at `now` (a key expires at its instant).
    pub fn expired_at(&self, now: SystemTime) -> bool {
        self.expires.is_some_and(|expires| now >= expires)
    }
}

/// Looks API keys up by their SHA-256.
///
/// Implement it for a database or a shared cache; the lookup future is an
/// associated type so the layer's future needs no boxing (a store that
/// needs `async fn` can use a boxed future). Expiry and the disabled flag
/// are judged by the layer from the returned [`KeyRecord`].
pub trait KeyStore: Send + Sync + 'static {
    /// The future of one lookup.
    type Lookup: Future<Output = Result<Option<KeyRecord>, StoreError>> + Send + 'static;

    /// The record of the key whose SHA-256 is `hash`, or `None` when the
    /// key is unknown.
    fn lookup(&self, hash: &KeyHash) -> Self::Lookup;
}

impl<T: KeyStore> KeyStore for Arc<T> {
    type Lookup = T::Lookup;

    fn lookup(&self, hash: &KeyHash) -> Self::Lookup {
        (**self).lookup(hash)
    }
}

/// Why a key file could not be loaded or a lookup failed. Never holds a
/// key.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The file could not be read.
    #[error("cannot read the key file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not valid TOML or JSON of the expected shape.
    #[error("the key file is malformed: {0}")]
    Syntax(String),
    /// An entry is invalid (an empty field, a bad hash).
    #[error("key entry {index} ({id:?}): {problem}")]
    Entry {
        /// The entry's position, from 0.
        index: usize,
        /// Its id, as written.
        id: String,
        /// What is wrong.
        problem: &'static str,
    },
    /// Two entries share an id or a hash.
    #[error("key entry {index} ({id:?}) repeats the {what} of an earlier entry")]
    Duplicate {
        /// The later entry's position, from 0.
        index: usize,
        /// Its id.
        id: String,
        /// `id` or `hash`.
        what: &'static str,
    },
    /// The store has no file to reload.
    #[error("the key store was not loaded from a file")]
    NoFile,
    /// A remote store could not answer.
    #[error("the key store is unavailable: {0}")]
    Unavailable(Box<dyn std::error::Error + Send + Sync>),
}

/// One entry of a key file: everything about a key except the key itself.
///
/// ```toml
/// [[keys]]
/// id = "key_7Hq2mN4xPa"
/// user = "alice"
/// tier = "pro"
/// hash = "c911ecf81f8eb55777d0ab69f12bdb7227fe33c22590686d32df423328f451a2"
/// scopes = ["model:gpt-4o*"]        # optional
/// expires = "2027-01-01T00:00:00Z"  # optional, RFC 3339
/// disabled = false                  # optional
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct KeyEntry {
    /// The key's id: unique, safe to log.
    pub id: String,
    /// The user the key belongs to; one user may hold several keys.
    pub user: String,
    /// The user's tier.
    pub tier: String,
    /// The SHA-256 of the key.
    #[serde(with = "hash_hex")]
    pub hash: KeyHash,
    /// Scopes granted (see [`Principal`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
    /// When the key stops working.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "rfc3339")]
    pub expires: Option<SystemTime>,
    /// Revoked.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub disabled: bool,
}

impl KeyEntry {
    /// The entry for `key`: its hash, with a fresh random id.
    pub fn new(key: &ApiKey, user: impl Into<String>, tier: impl Into<String>) -> Self {
        Self {
            id: new_key_id(),
            user: user.into(),
            tier: tier.into(),
            hash: key.hash(),
            scopes: Vec::new(),
            expires: None,
            disabled: false,
        }
    }

    /// Sets the id.
    pub fn with_id(mut self, id: impl Into<String>) -> Self {
        self.id = id.into();
        self
    }

    /// Sets the scopes.
    pub fn with_scopes<S: Into<String>>(mut self, scopes: impl IntoIterator<Item = S>) -> Self {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the expiry.
    pub fn with_expiry(mut self, expires: SystemTime) -> Self {
        self.expires = Some(expires);
        self
    }

    /// Marks the key revoked (or not).
    pub fn with_disabled(mut self, disabled: bool) -> Self {
        self.disabled = disabled;
        self
    }

    /// The entry as a `[[keys]]` table of a TOML key file.
    pub fn to_toml(&self) -> String {
        #[derive(Serialize)]
        struct File<'a> {
            keys: [&'a KeyEntry; 1],
        }
        toml::to_string(&File { keys: [self] }).expect("a key entry serialises to TOML")
    }

    /// The entry as one JSON object of a JSON key file's `keys` array.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a key entry serialises to JSON")
    }

    fn problem(&self) -> Option<&'static str> {
        let blank = |s: &str| s.trim().is_empty();
        if blank(&self.id) {
            Some("the id is empty")
        } else if blank(&self.user) {
            Some("the user is empty")
        } else if blank(&self.tier) {
            Some("the tier is empty")
        } else if self.scopes.iter().any(|s| blank(s)) {
            Some("a scope is empty")
        } else {
            None
        }
    }
}

/// A random key id: `key_` and 10 base62 characters (about 60 bits),
/// independent of the key.
fn new_key_id() -> String {
    format!("key_{}", super::key::random_base62(10))
}

/// The formats a key file can be written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FileFormat {
    /// `[[keys]]` tables.
    Toml,
    /// `{"keys": [...]}`.
    Json,
}

impl FileFormat {
    /// JSON for a `.json` file, TOML otherwise.
    pub fn of(path: &Path) -> Self {
        match path.extension().and_then(|e| e.to_str()) {
            Some(ext) if ext.eq_ignore_ascii_case("json") => Self::Json,
            _ => Self::Toml,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyFile {
    #[serde(default)]
    keys: Vec<KeyEntry>,
}

/// Reads the entries of a key file's text.
///
/// # Errors
/// [`StoreError::Syntax`] for text that is not a key file.
pub fn parse_key_file(text: &str, format: FileFormat) -> Result<Vec<KeyEntry>, StoreError> {
    let file: KeyFile = match format {
        FileFormat::Toml => toml::from_str(text).map_err(|e| StoreError::Syntax(e.to_string()))?,
        FileFormat::Json => {
            serde_json::from_str(text).map_err(|e| StoreError::Syntax(e.to_string()))?
        }
    };
    Ok(file.keys)
}

/// An in-memory store of key hashes, optionally loaded from a TOML or JSON
/// file and reloaded on demand.
///
/// Lookups read the current table without locking; [`reload`] and
/// [`replace`] build a new table and swap it in whole, so a revoked or
/// removed key stops working for the next request and a bad file leaves the
/// old table in place. Clones share the table.
///
/// ```
/// use spark_tower::auth::{ApiKey, KeyEntry, KeyStore, MemoryKeyStore};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let key = ApiKey::generate();
/// let store = MemoryKeyStore::new([KeyEntry::new(&key, "alice", "pro")]).unwrap();
/// let record = store.lookup(&key.hash()).await.unwrap().unwrap();
/// assert_eq!(record.principal.user(), "alice");
/// assert!(store.lookup(&ApiKey::generate().hash()).await.unwrap().is_none());
/// # }
/// ```
///
/// [`reload`]: MemoryKeyStore::reload
/// [`replace`]: MemoryKeyStore::replace
#[derive(Clone)]
pub struct MemoryKeyStore(Arc<Shared>);

struct Shared {
    table: ArcSwap<Table>,
    path: Option<PathBuf>,
}

type Table = HashMap<KeyHash, KeyRecord, HashPrefix>;

impl MemoryKeyStore {
    /// A store holding `entries`.
    ///
    /// # Errors
    /// An invalid entry, or two entries with one id or one hash.
    pub fn new(entries: impl IntoIterator<Item = KeyEntry>) -> Result<Self, StoreError> {
        Ok(Self(Arc::new(Shared {
            table: ArcSwap::from_pointee(build_table(entries)?),
            path: None,
        })))
    }

    /// A store loaded from the TOML or JSON file at `path` (JSON when the
    /// name ends in `.json`), which [`reload`](Self::reload) reads again.
    ///
    /// # Errors
    /// The file cannot be read or holds an invalid entry.
    pub fn from_file(path: impl Into<PathBuf>) -> Result<Self, StoreError> {
        let path = path.into();
        let table = build_table(read_file(&path)?)?;
        Ok(Self(Arc::new(Shared {
            table: ArcSwap::from_pointee(table),
            path: Some(path),
        })))
    }

    /// Reads the file again and swaps its keys in; returns how many keys
    /// the store now holds. On any error the old keys stay.
    ///
    /// # Errors
    /// [`StoreError::NoFile`] for a store not loaded from a file, or the
    /// errors of [`from_file`](Self::from_file).
    pub fn reload(&self) -> Result<usize, StoreError> {
        let path = self.0.path.as_deref().ok_or(StoreError::NoFile)?;
        self.replace(read_file(path)?)
    }

    /// Swaps in `entries` in place of every key; returns how many keys the
    /// store now holds. On error the old keys stay.
    ///
    /// # Errors
    /// As [`new`](Self::new).
    pub fn replace(
        &self,
        entries: impl IntoIterator<Item = KeyEntry>,
    ) -> Result<usize, StoreError> {
        let table = build_table(entries)?;
        let len = table.len();
        self.0.table.store(Arc::new(table));
        Ok(len)
    }

    /// How many keys the store holds (revoked ones included).
    pub fn len(&self) -> usize {
        self.0.table.load().len()
    }

    /// Whether the store holds no key.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The file the store reloads from.
    pub fn path(&self) -> Option<&Path> {
        self.0.path.as_deref()
    }
}

impl KeyStore for MemoryKeyStore {
    type Lookup = Ready<Result<Option<KeyRecord>, StoreError>>;

    fn lookup(&self, hash: &KeyHash) -> Self::Lookup {
        ready(Ok(self.0.table.load().get(hash).cloned()))
    }
}

impl fmt::Debug for MemoryKeyStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryKeyStore")
            .field("keys", &self.len())
            .field("path", &self.0.path)
            .finish()
    }
}

fn read_file(path: &Path) -> Result<Vec<KeyEntry>, StoreError> {
    let text = std::fs::read_to_string(path).map_err(|source| StoreError::Read {
        path: path.to_owned(),
        source,
    })?;
    parse_key_file(&text, FileFormat::of(path))
}

fn build_table(entries: impl IntoIterator<Item = KeyEntry>) -> Result<Table, StoreError> {
    let mut table = Table::default();
    let mut ids = HashSet::new();
    for (index, entry) in entries.into_iter().enumerate() {
        if let Some(problem) = entry.problem() {
            return Err(StoreError::Entry {
                index,
                id: entry.id,
                problem,
            });
        }
        if !ids.insert(entry.id.clone()) {
            return Err(StoreError::Duplicate {
                index,
                id: entry.id,
                what: "id",
            });
        }
        if table.contains_key(&entry.hash) {
            return Err(StoreError::Duplicate {
                index,
                id: entry.id,
                what: "hash",
            });
        }
        let record = KeyRecord {
            principal: Principal::new(entry.user, entry.id, entry.tier, entry.scopes),
            expires: entry.expires,
            disabled: entry.disabled,
        };
        table.insert(entry.hash, record);
    }
    Ok(table)
}

/// Hashes a [`KeyHash`] by its first eight bytes: they are already the
/// output of SHA-256, and the table's keys are chosen by us, not by
/// clients, so no further mixing is needed.
#[derive(Clone, Copy, Default)]
struct HashPrefix;

impl BuildHasher for HashPrefix {
    type Hasher = PrefixHasher;

    fn build_hasher(&self) -> PrefixHasher {
        PrefixHasher(0)
    }
}

#[derive(Default)]
struct PrefixHasher(u64);

impl Hasher for PrefixHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // `[u8; 32]` hashes as its length, then its bytes: keep the bytes.
        if let Some(prefix) = bytes.first_chunk::<8>() {
            self.0 = u64::from_le_bytes(*prefix);
        }
    }
}

mod hash_hex {
    use super::*;

    pub(super) fn serialize<S: Serializer>(hash: &KeyHash, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(hash)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<KeyHash, D::Error> {
        let text = String::deserialize(d)?;
        KeyHash::from_hex(&text)
            .ok_or_else(|| serde::de::Error::custom("a key hash is 64 hexadecimal digits"))
    }
}

mod rfc3339 {
    use super::*;

    pub(super) fn serialize<S: Serializer>(
        time: &Option<SystemTime>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match time {
            Some(time) => s.collect_str(&humantime::format_rfc3339_seconds(*time)),
            None => s.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<SystemTime>, D::Error> {
        let text = String::deserialize(d)?;
        humantime::parse_rfc3339_weak(&text).map(Some).map_err(|_| {
            serde::de::Error::custom("expires is an RFC 3339 time such as 2027-01-01T00:00:00Z")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn entry(key: &ApiKey, id: &str, user: &str) -> KeyEntry {
        KeyEntry::new(key, user, "pro").with_id(id)
    }

    async fn user_of(store: &MemoryKeyStore, key: &ApiKey) -> Option<String> {
        store
            .lookup(&key.hash())
            .await
            .unwrap()
            .map(|r| r.principal.user().to_owned())
    }

    #[tokio::test]
    async fn toml_and_json_files_load_the_same_entries() {
        let key = ApiKey::generate();
        let entry = entry(&key, "key_a", "alice")
            .with_scopes(["model:gpt-4o*"])
            .with_expiry(SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000));
        let toml = entry.to_toml();
        let json = format!("{{\"keys\":[{}]}}", entry.to_json());
        assert_eq!(
            parse_key_file(&toml, FileFormat::Toml).unwrap(),
            vec![entry.clone()]
        );
        assert_eq!(
            parse_key_file(&json, FileFormat::Json).unwrap(),
            vec![entry.clone()]
        );
        assert!(
            toml.contains("expires = \"2027-01-15T08:00:00Z\""),
            "{toml}"
        );
        assert!(!toml.contains(key.expose()));

        let dir = std::env::temp_dir().join(format!("spark-keys-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for (name, text) in [("keys.toml", &toml), ("keys.json", &json)] {
            let path = dir.join(name);
            std::fs::write(&path, text).unwrap();
            let store = MemoryKeyStore::from_file(&path).unwrap();
            let record = store.lookup(&key.hash()).await.unwrap().unwrap();
            assert_eq!(record.principal.key_id(), "key_a");
            assert!(record.principal.allows_model("gpt-4o-mini"));
            assert_eq!(record.expires, entry.expires);
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn reload_swaps_keys_and_keeps_them_on_error() {
        let (old, new) = (ApiKey::generate(), ApiKey::generate());
        let dir = std::env::temp_dir().join(format!("spark-reload-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("keys.toml");
        std::fs::write(&path, entry(&old, "key_old", "alice").to_toml()).unwrap();
        let store = MemoryKeyStore::from_file(&path).unwrap();
        let clone = store.clone();
        assert_eq!(user_of(&clone, &old).await.as_deref(), Some("alice"));

        // Rotation: both keys of one user work while the file lists both.
        let both = format!(
            "{}{}",
            entry(&old, "key_old", "alice").to_toml(),
            entry(&new, "key_new", "alice").to_toml()
        );
        std::fs::write(&path, both).unwrap();
        assert_eq!(store.reload().unwrap(), 2);
        assert_eq!(user_of(&clone, &old).await.as_deref(), Some("alice"));
        assert_eq!(user_of(&clone, &new).await.as_deref(), Some("alice"));

        // A broken file leaves the keys in place.
        std::fs::write(&path, "[[keys]]\nid = 3").unwrap();
        assert!(matches!(store.reload(), Err(StoreError::Syntax(_))));
        assert_eq!(clone.len(), 2);

        // Removing the old key ends it at once.
        std::fs::write(&path, entry(&new, "key_new", "alice").to_toml()).unwrap();
        assert_eq!(store.reload().unwrap(), 1);
        assert_eq!(user_of(&clone, &old).await, None);
        assert_eq!(user_of(&clone, &new).await.as_deref(), Some("alice"));

        std::fs::remove_file(&path).unwrap();
        assert!(matches!(store.reload(), Err(StoreError::Read { .. })));
        assert_eq!(clone.len(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(matches!(
            MemoryKeyStore::new([]).unwrap().reload(),
            Err(StoreError::NoFile)
        ));
    }

    #[test]
    fn invalid_files_are_refused() {
        let (a, b) = (ApiKey::generate(), ApiKey::generate());
        let dup_id = vec![entry(&a, "k", "alice"), entry(&b, "k", "bob")];
        let dup_hash = vec![entry(&a, "k1", "alice"), entry(&a, "k2", "bob")];
        let blank = vec![entry(&a, "k", " ")];
        assert!(matches!(
            MemoryKeyStore::new(dup_id),
            Err(StoreError::Duplicate {
                index: 1,
                what: "id",
                ..
            })
        ));
        assert!(matches!(
            MemoryKeyStore::new(dup_hash),
            Err(StoreError::Duplicate {
                index: 1,
                what: "hash",
                ..
            })
        ));
        assert!(matches!(
            MemoryKeyStore::new(blank),
            Err(StoreError::Entry {
                problem: "the user is empty",
                ..
            })
        ));
        let hash = a.hash().to_string();
        let cases = [
            (
                "bad hash",
                "[[keys]]\nid='k'\nuser='u'\ntier='t'\nhash='abc'\n",
            ),
            (
                "unknown field",
                &*format!("[[keys]]\nid='k'\nuser='u'\ntier='t'\nhash='{hash}'\nrole='x'\n"),
            ),
            (
                "bad expiry",
                &*format!("[[keys]]\nid='k'\nuser='u'\ntier='t'\nhash='{hash}'\nexpires='soon'\n"),
            ),
            (
                "missing user",
                &*format!("[[keys]]\nid='k'\ntier='t'\nhash='{hash}'\n"),
            ),
        ];
        for (name, text) in cases {
            let err = parse_key_file(text, FileFormat::Toml).unwrap_err();
            assert!(matches!(err, StoreError::Syntax(_)), "{name}: {err}");
        }
        assert!(parse_key_file("{\"keys\": 3}", FileFormat::Json).is_err());
        assert_eq!(parse_key_file("", FileFormat::Toml).unwrap(), vec![]);
    }

    #[test]
    fn records_expire_at_their_instant() {
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(100);
        let record = KeyRecord {
            expires: Some(at),
            ..KeyRecord::new(Principal::new("u", "k", "t", Vec::<String>::new()))
        };
        assert!(!record.expired_at(at - Duration::from_secs(1)));
        assert!(record.expired_at(at));
        assert!(!KeyRecord::new(record.principal.clone()).expired_at(at));
    }

    #[test]
    fn ids_are_random_and_keyless() {
        let key = ApiKey::generate();
        let (a, b) = (KeyEntry::new(&key, "u", "t"), KeyEntry::new(&key, "u", "t"));
        assert_ne!(a.id, b.id);
        assert_eq!(a.id.len(), 14);
        assert!(!a.id.contains(&key.expose()[4..14]));
    }
}
