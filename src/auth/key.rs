//! The API key format: recognisable, checksummed, stored only as a hash.
//!
//! A key is 32 ASCII characters:
//!
//! | part | characters | what |
//! |---|---|---|
//! | prefix | 4 | `spk_`, so secret scanners can recognise a leaked key |
//! | secret | 22 | 128 random bits in base62 (`0-9A-Za-z`), zero-padded on the left |
//! | checksum | 6 | the CRC-32 of the prefix and secret, in base62, zero-padded |
//!
//! A mistyped or truncated key fails the format or checksum check before
//! any store is asked. Stores keep only the key's SHA-256 ([`KeyHash`]).

use std::fmt;

use sha2::{Digest, Sha256};

/// The prefix of every key.
pub const PREFIX: &str = "spk_";
/// Characters of the random part.
const SECRET_LEN: usize = 22;
/// Characters of the checksum.
const CHECK_LEN: usize = 6;
/// The length of every key.
pub const KEY_LEN: usize = PREFIX.len() + SECRET_LEN + CHECK_LEN;

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A client API key. Its value never appears in `Debug` output.
///
/// ```
/// use spark_tower::auth::ApiKey;
///
/// let key = ApiKey::generate();
/// assert!(key.expose().starts_with("spk_"));
/// assert_eq!(ApiKey::parse(key.expose()).unwrap().hash(), key.hash());
/// assert_eq!(format!("{key:?}"), "ApiKey(<redacted>)");
/// assert!(ApiKey::parse("spk_not-a-key").is_err());
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

/// Why a string is not an API key. Never holds the string.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// Not 32 characters.
    #[error("an API key has 32 characters")]
    Length,
    /// Does not start with `spk_`.
    #[error("an API key starts with spk_")]
    Prefix,
    /// A character outside `0-9A-Za-z` after the prefix.
    #[error("an API key has only letters and digits after spk_")]
    Alphabet,
    /// The checksum does not match: a mistyped or altered key.
    #[error("the API key's checksum does not match")]
    Checksum,
}

impl ApiKey {
    /// A new key from 128 bits of the thread's cryptographically secure
    /// generator (ChaCha, seeded from the operating system).
    pub fn generate() -> Self {
        let secret: u128 = rand::random();
        let mut key = String::with_capacity(KEY_LEN);
        key.push_str(PREFIX);
        push_base62(&mut key, secret, SECRET_LEN);
        let check = crc32fast::hash(key.as_bytes());
        push_base62(&mut key, u128::from(check), CHECK_LEN);
        Self(key)
    }

    /// Checks the format and checksum of `text`.
    ///
    /// # Errors
    /// The first check that fails; the error never repeats the text.
    pub fn parse(text: &str) -> Result<Self, KeyError> {
        check(text)?;
        Ok(Self(text.to_owned()))
    }

    /// Checks `text` like [`ApiKey::parse`] and returns its hash, without
    /// copying the key: what a layer does per request.
    ///
    /// # Errors
    /// As [`ApiKey::parse`].
    pub fn hash_of(text: &str) -> Result<KeyHash, KeyError> {
        check(text)?;
        Ok(KeyHash(Sha256::digest(text.as_bytes()).into()))
    }

    /// The key itself, to hand to its owner once (never log it).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The SHA-256 of the key: what a store keeps.
    pub fn hash(&self) -> KeyHash {
        KeyHash(Sha256::digest(self.0.as_bytes()).into())
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

/// The SHA-256 of an API key, shown as 64 lower-case hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyHash([u8; 32]);

impl KeyHash {
    /// Reads 64 hex digits (either case).
    pub fn from_hex(hex: &str) -> Option<Self> {
        let bytes = hex.as_bytes();
        if bytes.len() != 64 {
            return None;
        }
        let mut out = [0u8; 32];
        for (byte, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
            let digit = |c: u8| char::from(c).to_digit(16);
            *byte = (digit(pair[0])? * 16 + digit(pair[1])?) as u8;
        }
        Some(Self(out))
    }

    /// The hash's bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Display for KeyHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for byte in self.0 {
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for KeyHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyHash({self})")
    }
}

/// Checks length, prefix, alphabet and checksum, in that order.
fn check(text: &str) -> Result<(), KeyError> {
    let bytes = text.as_bytes();
    if bytes.len() != KEY_LEN {
        return Err(KeyError::Length);
    }
    if !text.starts_with(PREFIX) {
        return Err(KeyError::Prefix);
    }
    let rest = &bytes[PREFIX.len()..];
    if !rest.iter().all(u8::is_ascii_alphanumeric) {
        return Err(KeyError::Alphabet);
    }
    let (body, check) = bytes.split_at(PREFIX.len() + SECRET_LEN);
    if decode_base62(check) != Some(u128::from(crc32fast::hash(body))) {
        return Err(KeyError::Checksum);
    }
    Ok(())
}

/// `len` base62 characters from the thread's secure generator.
pub(super) fn random_base62(len: usize) -> String {
    (0..len)
        .map(|_| char::from(BASE62[rand::random_range(0..BASE62.len())]))
        .collect()
}

/// Appends `value` as exactly `width` base62 digits, most significant first.
fn push_base62(out: &mut String, mut value: u128, width: usize) {
    let mut digits = [b'0'; SECRET_LEN];
    for digit in digits[..width].iter_mut().rev() {
        *digit = BASE62[(value % 62) as usize];
        value /= 62;
    }
    out.extend(digits[..width].iter().map(|&d| char::from(d)));
}

/// The value of each base62 digit, by byte; 255 for any other byte.
const DIGIT_VALUES: [u8; 256] = {
    let mut values = [255u8; 256];
    let mut i = 0;
    while i < BASE62.len() {
        values[BASE62[i] as usize] = i as u8;
        i += 1;
    }
    values
};

/// The value of base62 digits, or `None` for another character or a value
/// too large.
fn decode_base62(digits: &[u8]) -> Option<u128> {
    digits.iter().try_fold(0u128, |value, &c| {
        let digit = DIGIT_VALUES[usize::from(c)];
        if digit == 255 {
            return None;
        }
        value.checked_mul(62)?.checked_add(u128::from(digit))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A key built by hand: a given secret and its checksum.
    fn key_with_secret(secret: u128) -> String {
        let mut key = String::from(PREFIX);
        push_base62(&mut key, secret, SECRET_LEN);
        let check = crc32fast::hash(key.as_bytes());
        push_base62(&mut key, u128::from(check), CHECK_LEN);
        key
    }

    #[test]
    fn generated_keys_parse_and_differ() {
        let keys: Vec<ApiKey> = (0..100).map(|_| ApiKey::generate()).collect();
        for key in &keys {
            assert_eq!(key.expose().len(), KEY_LEN);
            assert_eq!(ApiKey::parse(key.expose()).as_ref(), Ok(key));
        }
        let distinct: std::collections::HashSet<&str> = keys.iter().map(ApiKey::expose).collect();
        assert_eq!(distinct.len(), keys.len());
    }

    #[test]
    fn the_full_range_of_secrets_fits() {
        for secret in [0, 1, 61, 62, u128::MAX - 1, u128::MAX] {
            let key = key_with_secret(secret);
            assert_eq!(key.len(), KEY_LEN, "{key}");
            assert!(ApiKey::parse(&key).is_ok(), "{key}");
            assert_eq!(decode_base62(&key.as_bytes()[4..26]), Some(secret));
        }
    }

    #[test]
    fn malformed_keys_are_named_without_echoing_them() {
        let good = key_with_secret(0x0123_4567_89ab_cdef_0011_2233_4455_6677);
        let mut flipped = good.clone().into_bytes();
        flipped[10] = if flipped[10] == b'a' { b'b' } else { b'a' };
        let flipped = String::from_utf8(flipped).unwrap();
        let mut bad_check = good[..KEY_LEN - 1].to_owned();
        bad_check.push(if good.ends_with('0') { '1' } else { '0' });
        let huge = format!("{good}{}", "x".repeat(1 << 16));
        let cases: Vec<(&str, String, KeyError)> = vec![
            (
                "truncated",
                good[..KEY_LEN - 1].to_owned(),
                KeyError::Length,
            ),
            ("empty", String::new(), KeyError::Length),
            ("huge", huge, KeyError::Length),
            (
                "wrong prefix",
                format!("sk-_{}", &good[4..]),
                KeyError::Prefix,
            ),
            (
                "upper-case prefix",
                format!("SPK_{}", &good[4..]),
                KeyError::Prefix,
            ),
            (
                "punctuation",
                format!("{}-{}", &good[..20], &good[21..]),
                KeyError::Alphabet,
            ),
            // Two bytes of `é` in place of two characters: same length.
            (
                "non-ASCII",
                format!("{}é{}", &good[..20], &good[22..]),
                KeyError::Alphabet,
            ),
            ("a mistyped character", flipped, KeyError::Checksum),
            ("wrong checksum", bad_check, KeyError::Checksum),
        ];
        for (name, text, expected) in cases {
            let err = ApiKey::parse(&text).unwrap_err();
            assert_eq!(err, expected, "{name}");
            assert_eq!(ApiKey::hash_of(&text), Err(expected), "{name}");
            assert!(
                !err.to_string().contains(&good[4..26]),
                "{name}: secret echoed"
            );
        }
        assert_eq!(
            ApiKey::hash_of(&good),
            Ok(ApiKey::parse(&good).unwrap().hash())
        );
    }

    #[test]
    fn the_hash_is_sha256_of_the_key() {
        // A key whose secret is zero, checksum set by hand: the hash is of
        // the text, whatever its checksum.
        let key = ApiKey("spk_0000000000000000000000abcdef".to_owned());
        assert_eq!(
            key.hash().to_string(),
            "c911ecf81f8eb55777d0ab69f12bdb7227fe33c22590686d32df423328f451a2"
        );
        let hash = key.hash();
        assert_eq!(KeyHash::from_hex(&hash.to_string()), Some(hash));
        assert_eq!(
            KeyHash::from_hex(&hash.to_string().to_uppercase()),
            Some(hash)
        );
        assert_eq!(KeyHash::from_hex("abc"), None);
        assert_eq!(KeyHash::from_hex(&"g".repeat(64)), None);
        assert!(!format!("{:?}", ApiKey::generate()).contains("spk_"));
    }
}
