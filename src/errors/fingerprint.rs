//! Fingerprints: one stable id per fault, whatever ids, numbers and times
//! its messages carry; and scrubbing of the samples kept.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::{Captures, Regex};

/// A stable 64-bit id of a group of errors, shown as 16 hex digits.
///
/// It is the XXH64 (seed 0) of the error's kind, provider, route template,
/// status and parameterised message, joined by `\x1f`. XXH64 is fixed by
/// its specification, so the id does not change between runs, platforms or
/// Rust releases; a change to this recipe or to [`parameterize`] is noted
/// in the CHANGELOG.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Fingerprint(pub u64);

impl std::fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

impl Fingerprint {
    /// The fingerprint of an error, from its parts; `message` is
    /// parameterised first.
    ///
    /// ```
    /// use spark_tower::errors::Fingerprint;
    ///
    /// let a = Fingerprint::of("status", Some("openai"), "/v1/chat/completions", Some(502),
    ///     "upstream req_8f3kLm2Qw9 failed after 1500 ms");
    /// let b = Fingerprint::of("status", Some("openai"), "/v1/chat/completions", Some(502),
    ///     "upstream req_Zt71pQk0aa failed after 30000 ms");
    /// assert_eq!(a, b);
    /// ```
    pub fn of(
        kind: &str,
        provider: Option<&str>,
        route: &str,
        status: Option<u16>,
        message: &str,
    ) -> Self {
        let message = parameterize(message);
        let mut status_digits = itoa::Buffer::new();
        let status = status.map_or("", |s| status_digits.format(s));
        let parts = [kind, provider.unwrap_or(""), route, status, &message];
        // The parts are streamed into the hash, not joined into a string
        // first: the same bytes, so the same id.
        let mut hasher = xxhash_rust::xxh64::Xxh64::new(0);
        for (i, part) in parts.iter().enumerate() {
            if i > 0 {
                hasher.update(b"\x1f");
            }
            hasher.update(part.as_bytes());
        }
        Self(hasher.digest())
    }
}

/// The variable parts of messages, most specific first.
static VARIABLE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?P<url>\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s<>]+)",
        r"|(?P<email>\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+)",
        r"|(?P<uuid>\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b)",
        // Model names stay whole: another model is another fault, and their
        // versions and dates would otherwise become numbers.
        // Segments are words or short numbers (versions, `4o`, dates of 8
        // digits): a long number after a model's name is not part of it.
        r"|(?P<model>\b(?:gpt|chatgpt|o[1-9]|claude|gemini|mistral|mixtral|llama|command|grok|deepseek|qwen|text-embedding|dall-e|whisper|tts)(?:[-.](?:[A-Za-z][A-Za-z0-9]{0,15}|\d{1,8}[A-Za-z]{0,3}))+\b)",
        r"|(?P<id>\b(?:req|msg|chatcmpl|cmpl|resp|run|call|toolu|file|batch|asst|thread|evt|ch)[-_][A-Za-z0-9_-]{6,})",
        // Account ids: only with a digit, so `user-provided` stays a word.
        r"|(?P<account>\b(?:org|proj|user|sess)[-_][A-Za-z_-]*[0-9][A-Za-z0-9_-]*)",
        r"|(?P<time>\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)",
        r"|(?P<clock>\b\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\b)",
        r"|(?P<ip4>\b(?:\d{1,3}\.){3}\d{1,3}(?::\d{1,5})?\b)",
        // A candidate only: checked to be an address, not a `a::b` path.
        r"|(?P<ip6>(?:\b[0-9a-fA-F]{1,4})?(?::[0-9a-fA-F]{0,4}){2,7})",
        r"|(?P<hex>\b(?:0x)?[0-9a-fA-F]{8,}\b)",
        // A number with its unit (`350ms`, `1.2s`, `12KB`) is one number.
        r"|(?P<num>\b\d+(?:\.\d+)?(?i:ns|us|µs|ms|s|m|h|d|b|kb|mb|gb|kib|mib|gib|k|%)?\b)",
    ))
    .expect("the placeholder patterns are valid")
});

/// Whether `candidate`, found at `start..end` of `message`, is an IPv6
/// address rather than part of a path such as `serde_json::de::Error`.
fn is_ipv6(message: &str, start: usize, end: usize) -> bool {
    let candidate = &message[start..end];
    let word = |c: char| c.is_alphanumeric() || c == '_';
    let before = message[..start].chars().next_back();
    let after = message[end..].chars().next();
    candidate.bytes().any(|b| b.is_ascii_digit())
        && !before.is_some_and(|c| word(c) || c == ':')
        && !after.is_some_and(word)
        && candidate.parse::<std::net::Ipv6Addr>().is_ok()
}

/// `message` with its variable parts replaced by placeholders, as Sentry's
/// grouping does: URLs (`<url>`), emails (`<email>`), UUIDs (`<uuid>`),
/// request and object ids such as `req_…`, `msg_…`, `chatcmpl-…`, and
/// account ids such as `org-…`, `proj_…`, `user-…` with a digit (`<id>`),
/// timestamps (`<time>`), IP addresses (`<ip>`), hex ids of 8 or more
/// digits (`<hex>`) and numbers, with their unit if any (`<num>`: `1500`,
/// `350ms`, `1.2s`). Model names (`gpt-4o-2024-08-06`,
/// `claude-3-5-sonnet-20241022`) are kept whole: another model is another
/// fault.
///
/// ```
/// use spark_tower::errors::parameterize;
///
/// assert_eq!(
///     parameterize("request chatcmpl-9xQ2aB7c from 10.0.0.7 timed out after 30.5 s at 2026-12-04T10:00:00Z"),
///     "request <id> from <ip> timed out after <num> s at <time>"
/// );
/// assert_eq!(
///     parameterize("claude-3-5-sonnet-20241022 overloaded for 350ms"),
///     "claude-3-5-sonnet-20241022 overloaded for <num>"
/// );
/// ```
pub fn parameterize(message: &str) -> Cow<'_, str> {
    VARIABLE.replace_all(message, |caps: &Captures<'_>| -> Cow<'_, str> {
        let whole = caps.get(0).expect("a match");
        Cow::Borrowed(if caps.name("url").is_some() {
            "<url>"
        } else if caps.name("email").is_some() {
            "<email>"
        } else if caps.name("uuid").is_some() {
            "<uuid>"
        } else if caps.name("model").is_some() {
            return Cow::Owned(whole.as_str().to_owned());
        } else if caps.name("id").is_some() || caps.name("account").is_some() {
            "<id>"
        } else if caps.name("time").is_some() || caps.name("clock").is_some() {
            "<time>"
        } else if caps.name("ip4").is_some() {
            "<ip>"
        } else if caps.name("ip6").is_some() {
            if !is_ipv6(message, whole.start(), whole.end()) {
                // Not an address (`de::Error`, `a1b2:c3d4:12`): its numbers
                // are still numbers.
                let parts: Vec<&str> = whole
                    .as_str()
                    .split(':')
                    .map(|part| {
                        if !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()) {
                            "<num>"
                        } else {
                            part
                        }
                    })
                    .collect();
                return Cow::Owned(parts.join(":"));
            }
            "<ip>"
        } else if let Some(hex) = caps.name("hex") {
            // All digits: a long number, not a hex id.
            if hex.as_str().bytes().all(|b| b.is_ascii_digit()) {
                "<num>"
            } else {
                "<hex>"
            }
        } else {
            "<num>"
        })
    })
}

/// Secrets and personal data that must not be kept in samples.
const SECRETS: &str = concat!(
    // `scheme://user:password@host`: the credentials.
    r"(?P<userinfo>\b[a-zA-Z][a-zA-Z0-9+.-]*://)[^\s/@]+@",
    r"|(?P<cookie>(?i:set-cookie|cookie)\s*:\s*[^\r\n]*)",
    r"|(?P<jwt>\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*)",
    r"|(?P<key>\b(?:spk_[A-Za-z0-9]{8,}|sk-[A-Za-z0-9_-]{8,}|[sr]k_(?:live|test)_[A-Za-z0-9]{8,}|AIza[0-9A-Za-z_-]{20,}|AKIA[0-9A-Z]{12,}|gh[pousr]_[A-Za-z0-9]{20,}|xox[abprs]-[A-Za-z0-9-]{10,}))",
    r"|(?P<bearer>(?i:bearer)\s+[^\s,;]+)",
    // A password may hold spaces: up to the end of the clause.
    r#"|(?P<pass>["']?(?i:password|passwd|passphrase|secret)["']?\s*[:=]\s*[^\r\n,;}]+)"#,
    r#"|(?P<assign>["']?(?i:api[_-]?key|x-api-key|access[_-]?token|token|authorization)["']?\s*[:=]\s*["']?(?:(?i:bearer|basic)\s+)?[^\s"',;}&]+["']?)"#,
    r"|(?P<query>[?&](?i:key|sig|signature|auth|code|client_secret)=[^&\s#]+)",
    r"|(?P<token>\b(?i:token)\s+[A-Za-z0-9._~+/=-]{16,})",
    r"|(?P<email>\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+)",
);

/// Quoted text, which is the client's: a long one, or any phrase (a space
/// inside), is likely prompt text; `"temperature"` is a name. A single
/// quote right after a letter is an apostrophe (`don't`), not a quote.
const QUOTES: &str = concat!(
    r#"(?P<quoted>"(?:[^"\\]|\\.)*"|\B'(?:[^'\\]|\\.)*')"#,
    // A quote left open by a cut message: the rest is prompt text.
    r#"|(?P<open>"[^"]*\s[^"]*$|\B'[^']*\s[^']*$)"#,
);

/// [`SECRETS`] alone, for the inside of quotes that are kept.
static SECRET: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(SECRETS).expect("the secret patterns are valid"));
/// [`SECRETS`] and [`QUOTES`]: secrets first where both start at once.
static SECRET_OR_QUOTE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!("{SECRETS}|{QUOTES}")).expect("the secret and quote patterns are valid")
});

/// The replacement of one [`SECRETS`] match.
fn redact(caps: &Captures<'_>) -> Cow<'static, str> {
    if caps.name("email").is_some() {
        Cow::Borrowed("<email>")
    } else if let Some(scheme) = caps.name("userinfo") {
        Cow::Owned(format!("{}<redacted>@", scheme.as_str()))
    } else if let Some(query) = caps.name("query") {
        let text = query.as_str();
        let cut = text.find('=').map_or(text.len(), |i| i + 1);
        Cow::Owned(format!("{}<redacted>", &text[..cut]))
    } else if let Some(named) = caps
        .name("assign")
        .or_else(|| caps.name("pass"))
        .or_else(|| caps.name("cookie"))
    {
        // Keep the name, drop the value.
        let text = named.as_str();
        let cut = text.find([':', '=']).map_or(text.len(), |i| i + 1);
        Cow::Owned(format!("{}<redacted>", &text[..cut]))
    } else if let Some(token) = caps.name("token") {
        let text = token.as_str();
        Cow::Owned(format!("{} <redacted>", &text[..5]))
    } else {
        Cow::Borrowed("<redacted>")
    }
}

/// The longest sample message kept, in characters.
pub const MAX_SAMPLE_CHARS: usize = 300;

/// A sample of `message` safe to keep and show: keys and tokens redacted
/// (`spk_…`, `sk-…`, `sk_live_…`, `AIza…`, JWTs, bearer tokens, `api_key=…`,
/// `token …`, secret query parameters, URL credentials, cookies, passwords
/// up to the end of their clause) and email addresses; quoted text that is
/// long (24 characters or more) or a phrase, or a quote the message leaves
/// open (likely prompt text echoed by a provider), replaced by `"<text>"`;
/// cut to [`MAX_SAMPLE_CHARS`]. Ids and numbers stay: they help find the
/// request.
///
/// ```
/// use spark_tower::errors::scrub;
///
/// let sample = scrub(r#"invalid key sk-abcdef0123456789 in "Tell me everything about my neighbour's address""#);
/// assert_eq!(sample, r#"invalid key <redacted> in "<text>""#);
/// ```
pub fn scrub(message: &str) -> String {
    let scrubbed =
        SECRET_OR_QUOTE.replace_all(message, |caps: &Captures<'_>| -> Cow<'static, str> {
            if let Some(quoted) = caps.name("quoted") {
                let text = quoted.as_str();
                let inner = &text[1..text.len() - 1];
                if inner.chars().count() >= 24 || inner.contains(char::is_whitespace) {
                    Cow::Borrowed("\"<text>\"")
                } else {
                    // A name stays, unless it is a key or an address.
                    let mark = &text[..1];
                    Cow::Owned(format!("{mark}{}{mark}", SECRET.replace_all(inner, redact)))
                }
            } else if caps.name("open").is_some() {
                Cow::Borrowed("\"<text>\"")
            } else {
                redact(caps)
            }
        });
    scrubbed.chars().take(MAX_SAMPLE_CHARS).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_that_differ_only_by_ids_group_together() {
        let groups: &[&[&str]] = &[
            &[
                "upstream request req_8f3kLm2Qw9 failed after 1500 ms",
                "upstream request req_Zt71pQk0aa failed after 30000 ms",
            ],
            &[
                "completion chatcmpl-AbC123xyz for user alice@example.com at 2026-12-04T10:00:00Z",
                "completion chatcmpl-QQQ999zzz for user bob@corp.example.org at 2025-01-01 23:59:59+01:00",
            ],
            &[
                "object 550e8400-e29b-41d4-a716-446655440000 not found on 10.1.2.3:8080",
                "object 123e4567-e89b-12d3-a456-426614174000 not found on 192.168.0.9:443",
            ],
            &[
                "GET https://api.openai.com/v1/models?x=1 returned hash deadbeef0042",
                "GET http://localhost:8081/v1/x returned hash 00ff00ff00ff",
            ],
            &[
                "message msg_01XyZabcdef overloaded",
                "message msg_02QweRtyUiop overloaded",
            ],
            &[
                "peer fe80::1:2:3 reset",
                "peer 2001:db8::ff00:42:8329 reset",
            ],
        ];
        let mut seen = std::collections::HashSet::new();
        for group in groups {
            let fingerprints: Vec<Fingerprint> = group
                .iter()
                .map(|m| {
                    Fingerprint::of(
                        "status",
                        Some("openai"),
                        "/v1/chat/completions",
                        Some(502),
                        m,
                    )
                })
                .collect();
            assert!(
                fingerprints.windows(2).all(|w| w[0] == w[1]),
                "{group:?}: {:?}",
                group.iter().map(|m| parameterize(m)).collect::<Vec<_>>()
            );
            assert!(
                seen.insert(fingerprints[0]),
                "{group:?} collides with another group"
            );
        }
    }

    #[test]
    fn different_models_do_not_group() {
        let fp =
            |m: &str| Fingerprint::of("status", Some("anthropic"), "/v1/messages", Some(529), m);
        assert_ne!(
            fp("claude-3-5-sonnet-20241022 is overloaded"),
            fp("claude-3-7-sonnet-20250219 is overloaded")
        );
        assert_eq!(
            fp("claude-3-5-sonnet-20241022 is overloaded, retry in 350ms"),
            fp("claude-3-5-sonnet-20241022 is overloaded, retry in 2s")
        );
    }

    #[test]
    fn different_faults_do_not_group() {
        let base = (
            "status",
            Some("openai"),
            "/v1/chat/completions",
            Some(502),
            "upstream reset",
        );
        let fp = |(k, p, r, s, m): (&str, Option<&str>, &str, Option<u16>, &str)| {
            Fingerprint::of(k, p, r, s, m)
        };
        let variants = [
            ("panic", base.1, base.2, base.3, base.4),
            (base.0, Some("anthropic"), base.2, base.3, base.4),
            (base.0, base.1, "/v1/messages", base.3, base.4),
            (base.0, base.1, base.2, Some(503), base.4),
            (base.0, base.1, base.2, base.3, "upstream refused"),
            (base.0, None, base.2, base.3, base.4),
        ];
        for variant in variants {
            assert_ne!(fp(base), fp(variant), "{variant:?}");
        }
    }

    #[test]
    fn the_fingerprint_of_a_fixed_input_is_pinned() {
        // Changing this value changes every group id: note it in the CHANGELOG.
        let fp = Fingerprint::of(
            "status",
            Some("openai"),
            "/v1/chat/completions",
            Some(502),
            "upstream req_8f3kLm2Qw9 failed after 1500 ms",
        );
        assert_eq!(fp.to_string(), PINNED);
        assert_eq!(
            parameterize("upstream req_8f3kLm2Qw9 failed after 1500 ms"),
            "upstream <id> failed after <num> ms"
        );
    }

    const PINNED: &str = "b461b3c6fb325a8b";

    #[test]
    fn placeholders() {
        let cases = [
            ("retry in 12 s", "retry in <num> s"),
            ("at 09:15:30.25 today", "at <time> today"),
            ("id 12345678901 and cafe1234babe", "id <num> and <hex>"),
            ("0xDEADBEEF", "<hex>"),
            // Numbers with units are one number.
            ("took 350ms, then 1.2s", "took <num>, then <num>"),
            ("body of 12KB over 5MiB", "body of <num> over <num>"),
            // Account and project ids, with a digit; words stay.
            ("org-7Hq2kX9 over quota", "<id> over quota"),
            ("proj_abc123 and user-42 denied", "<id> and <id> denied"),
            (
                "user-provided value rejected",
                "user-provided value rejected",
            ),
            // Rust paths are not IPv6 addresses; real addresses are.
            (
                "serde_json::de::Error at line 3",
                "serde_json::de::Error at line <num>",
            ),
            ("peer ::1 reset", "peer <ip> reset"),
            // Model names stay whole, dates and versions included.
            (
                "claude-3-5-sonnet-20241022 overloaded",
                "claude-3-5-sonnet-20241022 overloaded",
            ),
            ("gpt-4o-2024-08-06 not found", "gpt-4o-2024-08-06 not found"),
            // What follows a model's name is not always part of it.
            ("command-1734567890 failed", "command-<num> failed"),
            ("llama.cpp:8080 refused", "llama.cpp:<num> refused"),
            ("gpt-4o:req_abcdef123 failed", "gpt-4o:<id> failed"),
            (
                "request a1b2:c3d4:12 failed",
                "request a1b2:c3d4:<num> failed",
            ),
            ("no variables here", "no variables here"),
            ("", ""),
        ];
        for (message, expected) in cases {
            assert_eq!(parameterize(message), expected, "{message}");
        }
    }

    #[test]
    fn samples_hold_no_secrets_or_prompt_text() {
        let cases = [
            (
                "Authorization: Bearer eyJhbGciOi.payload.sig failed",
                "Authorization:<redacted> failed",
            ),
            (
                "bad key spk_60WSdTTRWl0W2GYy55uryU3aN7Yo",
                "bad key <redacted>",
            ),
            (
                "Incorrect API key provided: sk-proj-abcdefghijklmnop",
                "Incorrect API key provided: <redacted>",
            ),
            (
                "config api_key=supersecret123, retry",
                "config api_key=<redacted>, retry",
            ),
            (
                r#"{"x-api-key": "sk-ant-api03-xyz"}"#,
                r#"{"x-api-key":<redacted>}"#,
            ),
            (
                r#"prompt "Please summarise my medical records from last year" rejected"#,
                r#"prompt "<text>" rejected"#,
            ),
            ("short \"quoted\" stays", "short \"quoted\" stays"),
            // URL credentials and secret query parameters.
            (
                "GET https://admin:hunter2@internal.example/v1 failed",
                "GET https://<redacted>@internal.example/v1 failed",
            ),
            (
                "fetch https://generativelanguage.googleapis.com/v1?key=AIzaSyA1b2c3d4e5f6g7h8i9j0kLmNoPqRsTu&alt=sse failed",
                "fetch https://generativelanguage.googleapis.com/v1?key=<redacted>&alt=sse failed",
            ),
            (
                "callback ?sig=abc123def&x=1",
                "callback ?sig=<redacted>&x=1",
            ),
            // JWTs, payment keys, cookies, `token <value>`.
            (
                "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl expired",
                "jwt <redacted> expired",
            ),
            (
                "charge with sk_live_51HxYzAbCdEf failed",
                "charge with <redacted> failed",
            ),
            (
                "Cookie: session=abc123; theme=dark\nnext line",
                "Cookie:<redacted>\nnext line",
            ),
            (
                "invalid token 0a1b2c3d4e5f6a7b8c9d0e1f",
                "invalid token <redacted>",
            ),
            ("token limit exceeded", "token limit exceeded"),
            // A password with spaces, to the end of its clause.
            (
                "login failed, password: correct horse battery, retry",
                "login failed, password:<redacted>, retry",
            ),
            // Personal data.
            ("no account for alice@example.com", "no account for <email>"),
            // Short phrases are prompt text; names are not.
            (
                r#"unknown field "temperatur", prompt "kill him" refused"#,
                r#"unknown field "temperatur", prompt "<text>" refused"#,
            ),
            // Keys and addresses inside short quotes.
            (
                r#"invalid key "AKIAIOSFODNN7EXAMPLE""#,
                r#"invalid key "<redacted>""#,
            ),
            (
                r#"invalid api key "sk-abc123def456""#,
                r#"invalid api key "<redacted>""#,
            ),
            (
                r#"no account for "alice@example.com""#,
                r#"no account for "<email>""#,
            ),
            // Single quotes as double ones; apostrophes are not quotes.
            (
                "prompt 'tell me a joke' refused",
                r#"prompt "<text>" refused"#,
            ),
            (
                "'hello world' is not of type 'array'",
                r#""<text>" is not of type 'array'"#,
            ),
            (
                "can't read 'gpt-5', don't retry",
                "can't read 'gpt-5', don't retry",
            ),
            (
                "content filter on 'Please summarise my medical rec",
                r#"content filter on "<text>""#,
            ),
            // A quote the message leaves open.
            (
                r#"content filter on "Please summarise my medical rec"#,
                r#"content filter on "<text>""#,
            ),
        ];
        for (message, expected) in cases {
            assert_eq!(scrub(message), expected, "{message}");
        }
        assert_eq!(scrub(&"x".repeat(1000)).chars().count(), MAX_SAMPLE_CHARS);
    }
}
