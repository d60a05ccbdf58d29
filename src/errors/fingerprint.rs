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
        let status = status.map_or(String::new(), |s| s.to_string());
        let parts = [kind, provider.unwrap_or(""), route, &status, &message];
        let mut text = String::with_capacity(parts.iter().map(|p| p.len() + 1).sum());
        for (i, part) in parts.iter().enumerate() {
            if i > 0 {
                text.push('\u{1f}');
            }
            text.push_str(part);
        }
        Self(xxhash_rust::xxh64::xxh64(text.as_bytes(), 0))
    }
}

/// The variable parts of messages, most specific first.
static VARIABLE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?P<url>\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s<>]+)",
        r"|(?P<email>\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+)",
        r"|(?P<uuid>\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b)",
        r"|(?P<id>\b(?:req|msg|chatcmpl|cmpl|resp|run|call|toolu|file|batch|asst|thread|evt|ch)[-_][A-Za-z0-9_-]{6,})",
        r"|(?P<time>\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)",
        r"|(?P<clock>\b\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\b)",
        r"|(?P<ip4>\b(?:\d{1,3}\.){3}\d{1,3}(?::\d{1,5})?\b)",
        r"|(?P<ip6>\b[0-9a-fA-F]{1,4}(?::[0-9a-fA-F]{0,4}){2,7}\b)",
        r"|(?P<hex>\b(?:0x)?[0-9a-fA-F]{8,}\b)",
        r"|(?P<num>\b\d+(?:\.\d+)?\b)",
    ))
    .expect("the placeholder patterns are valid")
});

/// `message` with its variable parts replaced by placeholders, as Sentry's
/// grouping does: URLs (`<url>`), emails (`<email>`), UUIDs (`<uuid>`),
/// request and object ids such as `req_…`, `msg_…`, `chatcmpl-…`
/// (`<id>`), timestamps (`<time>`), IP addresses (`<ip>`), hex ids of 8
/// or more digits (`<hex>`) and numbers (`<num>`).
///
/// ```
/// use spark_tower::errors::parameterize;
///
/// assert_eq!(
///     parameterize("request chatcmpl-9xQ2aB7c from 10.0.0.7 timed out after 30.5 s at 2026-12-04T10:00:00Z"),
///     "request <id> from <ip> timed out after <num> s at <time>"
/// );
/// ```
pub fn parameterize(message: &str) -> Cow<'_, str> {
    VARIABLE.replace_all(message, |caps: &Captures<'_>| {
        if caps.name("url").is_some() {
            "<url>"
        } else if caps.name("email").is_some() {
            "<email>"
        } else if caps.name("uuid").is_some() {
            "<uuid>"
        } else if caps.name("id").is_some() {
            "<id>"
        } else if caps.name("time").is_some() || caps.name("clock").is_some() {
            "<time>"
        } else if caps.name("ip4").is_some() || caps.name("ip6").is_some() {
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
        }
    })
}

/// Secrets and prompt text that must not be kept in samples.
static SECRET: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?P<bearer>(?i:bearer)\s+[^\s,;]+)",
        r#"|(?P<assign>(?i:api[_-]?key|x-api-key|token|secret|password|authorization)["']?\s*[:=]\s*["']?(?:(?i:bearer|basic)\s+)?[^\s"',;}]+["']?)"#,
        r"|(?P<key>\b(?:spk_[A-Za-z0-9]{8,}|sk-[A-Za-z0-9_-]{8,}|AKIA[0-9A-Z]{12,}|gh[pousr]_[A-Za-z0-9]{20,}|xox[abprs]-[A-Za-z0-9-]{10,}))",
        r#"|(?P<quoted>"(?:[^"\\]|\\.){24,}"|'(?:[^'\\]|\\.){24,}')"#,
    ))
    .expect("the secret patterns are valid")
});

/// The longest sample message kept, in characters.
pub const MAX_SAMPLE_CHARS: usize = 300;

/// A sample of `message` safe to keep and show: keys and tokens redacted
/// (`spk_…`, `sk-…`, bearer tokens, `api_key=…` and the like), quoted text
/// of 24 characters or more (likely prompt text echoed by a provider)
/// replaced by `"<text>"`, cut to [`MAX_SAMPLE_CHARS`].
///
/// ```
/// use spark_tower::errors::scrub;
///
/// let sample = scrub(r#"invalid key sk-abcdef0123456789 in "Tell me everything about my neighbour's address""#);
/// assert_eq!(sample, r#"invalid key <redacted> in "<text>""#);
/// ```
pub fn scrub(message: &str) -> String {
    let scrubbed = SECRET.replace_all(message, |caps: &Captures<'_>| {
        if caps.name("quoted").is_some() {
            "\"<text>\"".to_owned()
        } else if let Some(assign) = caps.name("assign") {
            // Keep the name, drop the value.
            let text = assign.as_str();
            let cut = text.find([':', '=']).map_or(text.len(), |i| i + 1);
            format!("{}<redacted>", &text[..cut])
        } else {
            "<redacted>".to_owned()
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
        ];
        for (message, expected) in cases {
            assert_eq!(scrub(message), expected, "{message}");
        }
        assert_eq!(scrub(&"x".repeat(1000)).chars().count(), MAX_SAMPLE_CHARS);
    }
}
