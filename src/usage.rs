//! Token estimates for requests, and the usage providers report: read by
//! the rate limiter (token quotas) and the metrics layer (token counts).

use std::borrow::Cow;

use serde::Deserialize;

/// Keys whose string values are not text a model reads as tokens: names,
/// ids, and inline files (images, audio, documents), which providers count
/// differently and which would swamp the estimate.
const NOT_TEXT: &[&[u8]] = &[
    b"model",
    b"role",
    b"type",
    b"id",
    b"tool_call_id",
    b"data",
    b"url",
    b"file_data",
    b"image_url",
    b"media_type",
];

/// The estimated input tokens of a JSON request body: a quarter of the
/// characters of its string values (rounded up, at least 1), not counting
/// object keys or the values of `model`, `role`, `type`, ids and inline
/// files (`data`, `url`, `file_data`, `image_url`, `media_type`).
///
/// A quarter of the characters is the usual rule of thumb for English with
/// the OpenAI and Anthropic tokenizers; the estimate only reserves quota
/// until the provider reports the real figure. A body that is not JSON
/// counts all its characters.
///
/// ```
/// use spark_tower::usage::estimate_input_tokens;
///
/// let body = br#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hello there, friend"}]}"#;
/// assert_eq!(estimate_input_tokens(body), 5); // 19 characters
/// ```
pub fn estimate_input_tokens(body: &[u8]) -> u64 {
    let trimmed = body.trim_ascii_start();
    if !trimmed.starts_with(b"{") && !trimmed.starts_with(b"[") {
        let chars = body.iter().filter(|&&b| !is_continuation(b)).count() as u64;
        return chars.div_ceil(4).max(1);
    }
    let mut chars = 0u64;
    // Whether the next value belongs to a key in NOT_TEXT.
    let mut skip_value = false;
    let mut i = 0;
    while i < body.len() {
        match body[i] {
            b'"' => {
                let (end, count) = scan_string(body, i + 1);
                let next = body[end..].iter().find(|b| !b.is_ascii_whitespace());
                if next == Some(&b':') {
                    skip_value = NOT_TEXT.contains(&&body[i + 1..end.saturating_sub(1).max(i + 1)]);
                } else {
                    if !skip_value {
                        chars += count;
                    }
                    skip_value = false;
                }
                i = end;
            }
            b'{' | b'[' | b'0'..=b'9' | b'-' | b't' | b'f' | b'n' => {
                skip_value = false;
                i += 1;
            }
            _ => i += 1,
        }
    }
    chars.div_ceil(4).max(1)
}

fn is_continuation(byte: u8) -> bool {
    byte & 0xC0 == 0x80
}

/// Scans a string whose content starts at `start`; returns the index past
/// its closing quote and its character count (an escape is one).
fn scan_string(body: &[u8], start: usize) -> (usize, u64) {
    let mut count = 0;
    let mut i = start;
    while i < body.len() {
        match body[i] {
            b'"' => return (i + 1, count),
            b'\\' => {
                count += 1;
                i += if body.get(i + 1) == Some(&b'u') { 6 } else { 2 };
            }
            byte => {
                count += u64::from(!is_continuation(byte));
                i += 1;
            }
        }
    }
    (body.len(), count)
}

/// Tokens a provider reports for one response.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    /// Input tokens, cached ones included.
    pub input: u64,
    /// Output tokens.
    pub output: u64,
}

impl Usage {
    /// Input and output together: what token quotas count.
    pub fn total(&self) -> u64 {
        self.input.saturating_add(self.output)
    }

    /// Merges a later report of the same response (stream events report
    /// running totals).
    fn merge(&mut self, other: Usage) {
        self.input = self.input.max(other.input);
        self.output = self.output.max(other.output);
    }
}

#[derive(Deserialize)]
struct RawUsage {
    // OpenAI
    prompt_tokens: Option<u64>,
    completion_tokens: Option<u64>,
    // Anthropic
    input_tokens: Option<u64>,
    output_tokens: Option<u64>,
    cache_creation_input_tokens: Option<u64>,
    cache_read_input_tokens: Option<u64>,
}

impl RawUsage {
    fn usage(&self) -> Usage {
        let anthropic_input = self.input_tokens.unwrap_or(0)
            + self.cache_creation_input_tokens.unwrap_or(0)
            + self.cache_read_input_tokens.unwrap_or(0);
        Usage {
            input: self.prompt_tokens.unwrap_or(anthropic_input),
            output: self.completion_tokens.or(self.output_tokens).unwrap_or(0),
        }
    }
}

#[derive(Deserialize)]
struct Envelope<'a> {
    usage: Option<RawUsage>,
    // Anthropic's `message_start` event nests the message; the Responses
    // API's events nest the response.
    #[serde(borrow)]
    message: Option<Nested<'a>>,
    #[serde(borrow)]
    response: Option<Nested<'a>>,
    #[serde(borrow)]
    model: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct Nested<'a> {
    usage: Option<RawUsage>,
    #[serde(borrow)]
    model: Option<Cow<'a, str>>,
}

impl<'a> Envelope<'a> {
    /// The usage and model it reports, at the top or nested (Anthropic's
    /// message, the Responses API's response).
    fn parse(json: &'a [u8]) -> Option<(Option<Usage>, Option<Cow<'a, str>>)> {
        let envelope: Self = serde_json::from_slice(json).ok()?;
        let nested = envelope.message.or(envelope.response);
        let (nested_usage, nested_model) = nested.map_or((None, None), |n| (n.usage, n.model));
        let usage = envelope.usage.or(nested_usage).map(|raw| raw.usage());
        Some((usage, envelope.model.or(nested_model)))
    }
}

/// The usage in a JSON response body or stream event, if it reports one.
pub fn usage_of(json: &[u8]) -> Option<Usage> {
    Envelope::parse(json)?.0
}

/// What a whole JSON response body or stream event reports: its usage and
/// the model that answered.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Report {
    pub(crate) usage: Option<Usage>,
    pub(crate) model: Option<Box<str>>,
}

/// The [`Report`] of a JSON response body or stream event.
pub(crate) fn report_of(json: &[u8]) -> Report {
    Envelope::parse(json).map_or_else(Report::default, |(usage, model)| Report {
        usage,
        model: model.map(Into::into),
    })
}

/// Whether a stream event carries output: Anthropic's `content_block_delta`
/// (text, thinking or tool input), an OpenAI chunk whose delta has text,
/// tool calls or a refusal, or a Responses API text delta. The first such
/// event is the first token a client sees.
#[cfg_attr(not(feature = "metrics"), allow(dead_code))]
pub(crate) fn carries_output(payload: &[u8]) -> bool {
    if contains(payload, b"\"content_block_delta\"") || contains(payload, b"output_text.delta\"") {
        return true;
    }
    // Tool calls count when there are some: role-only chunks of some
    // compatible servers carry `"tool_calls": null` or `[]`.
    let key = b"\"tool_calls\":";
    if let Some(at) = find(payload, key) {
        let value = payload[at + key.len()..].trim_ascii_start();
        if value.first() == Some(&b'[') && value[1..].trim_ascii_start().first() != Some(&b']') {
            return true;
        }
    }
    [&b"\"content\":"[..], b"\"refusal\":"].iter().any(|key| {
        find(payload, key).is_some_and(|at| {
            // A string value with at least one character.
            let value = payload[at + key.len()..].trim_ascii_start();
            value.first() == Some(&b'"') && value.get(1).is_some_and(|&b| b != b'"')
        })
    })
}

/// The usage of a JSON body of which only the tail is left: the object
/// after the last `"usage"` key, if it is whole.
pub(crate) fn usage_in_tail(tail: &[u8]) -> Option<Usage> {
    let key = b"\"usage\"";
    let at = tail.windows(key.len()).rposition(|w| w == key)?;
    let rest = tail[at + key.len()..]
        .trim_ascii_start()
        .strip_prefix(b":")?;
    let raw = serde_json::Deserializer::from_slice(rest)
        .into_iter::<RawUsage>()
        .next()?
        .ok()?;
    Some(raw.usage())
}

/// Whether an OpenAI stream event is the usage-only chunk that
/// `stream_options.include_usage` adds (`"choices": []`).
fn is_usage_only_chunk(json: &[u8]) -> bool {
    #[derive(Deserialize)]
    struct Chunk {
        choices: Vec<serde::de::IgnoredAny>,
        usage: Option<serde::de::IgnoredAny>,
    }
    serde_json::from_slice::<Chunk>(json).is_ok_and(|c| c.choices.is_empty() && c.usage.is_some())
}

/// The largest JSON response body kept whole to read what it reports; past
/// it, only its first [`JSON_HEAD`] bytes (for `model`) and its last
/// [`JSON_TAIL`] bytes (for `usage`) are kept, so a large answer costs at
/// most that much memory while it passes.
const MAX_JSON: usize = 64 * 1024;
/// The head of an oversized JSON body searched for `model`.
const JSON_HEAD: usize = 1024;
/// The tail of an oversized JSON body searched for `usage`.
const JSON_TAIL: usize = 64 * 1024;

/// A JSON response body kept as it passes, to read what it reports at the
/// end: whole up to [`MAX_JSON`], then its head and tail.
#[derive(Debug, Default)]
pub(crate) struct JsonBody {
    body: Vec<u8>,
    /// The first bytes, once the body outgrew [`MAX_JSON`].
    head: Option<Box<[u8]>>,
}

impl JsonBody {
    /// Keeps the next chunk of the body.
    pub(crate) fn push(&mut self, data: &[u8]) {
        if self.head.is_none() && self.body.len() + data.len() > MAX_JSON {
            let mut head = self.body.clone();
            head.extend_from_slice(&data[..data.len().min(JSON_HEAD.saturating_sub(head.len()))]);
            head.truncate(JSON_HEAD);
            self.head = Some(head.into_boxed_slice());
        }
        self.body.extend_from_slice(data);
        if self.head.is_some() && self.body.len() > JSON_TAIL {
            self.body.drain(..self.body.len() - JSON_TAIL);
        }
    }

    /// What the body reports: read whole, or the usage from its tail and
    /// the model from its head when it was too large to keep. A body cut
    /// off midway does not parse, so it reports nothing.
    pub(crate) fn report(&self) -> Report {
        match &self.head {
            Some(head) => Report {
                usage: usage_in_tail(&self.body),
                model: model_in_head(head),
            },
            None => report_of(&self.body),
        }
    }
}

/// The `model` of a JSON object from its first bytes: the first `"model"`
/// key's string value, if it is whole and has no escapes.
fn model_in_head(head: &[u8]) -> Option<Box<str>> {
    let key = b"\"model\"";
    let at = find(head, key)?;
    let rest = head[at + key.len()..]
        .trim_ascii_start()
        .strip_prefix(b":")?
        .trim_ascii_start()
        .strip_prefix(b"\"")?;
    let end = rest.iter().position(|&b| b == b'"' || b == b'\\')?;
    (rest[end] == b'"')
        .then(|| std::str::from_utf8(&rest[..end]).ok().map(Into::into))
        .flatten()
}

/// The longest line a stream scanner keeps whole; longer lines (a huge
/// delta) are passed on but not read for usage.
const MAX_LINE: usize = 64 * 1024;

/// Reads server-sent events as they pass: the usage they report, and how
/// many data events went by (the estimate of output tokens when a stream
/// ends before its usage).
#[derive(Debug, Default)]
pub(crate) struct SseScanner {
    line: Vec<u8>,
    overlong: bool,
    pub(crate) events: u64,
    pub(crate) usage: Option<Usage>,
    /// Drop the usage-only chunk the client did not ask for.
    strip: bool,
    /// Output held back while a line is incomplete (only when stripping).
    out: Vec<u8>,
    /// The blank line after a dropped event is dropped too.
    drop_blank: bool,
    /// Also look for the model and the first output event (metrics).
    details: bool,
    /// The model the stream names (its first event that names one).
    pub(crate) model: Option<Box<str>>,
    /// An event with output has gone by.
    pub(crate) first_output: bool,
}

impl SseScanner {
    #[cfg_attr(not(feature = "rate-limit"), allow(dead_code))]
    pub(crate) fn new(strip: bool) -> Self {
        Self {
            strip,
            ..Self::default()
        }
    }

    /// A scanner that also notes the model and the first output event,
    /// without stripping anything.
    #[cfg_attr(not(feature = "metrics"), allow(dead_code))]
    pub(crate) fn with_details() -> Self {
        Self {
            details: true,
            ..Self::default()
        }
    }

    /// Reads `data`; when stripping, returns what to pass on (complete
    /// lines, minus the usage-only event), else `None`: pass `data` as is.
    pub(crate) fn feed(&mut self, data: &[u8]) -> Option<Vec<u8>> {
        let mut rest = data;
        while let Some(pos) = rest.iter().position(|&b| b == b'\n') {
            let (head, tail) = rest.split_at(pos + 1);
            rest = tail;
            if self.overlong {
                self.overlong = false;
                if self.strip {
                    self.out.extend_from_slice(head);
                }
                self.line.clear();
                continue;
            }
            self.line.extend_from_slice(head);
            let line = std::mem::take(&mut self.line);
            let keep = self.on_line(&line);
            if self.strip && keep {
                self.out.extend_from_slice(&line);
            }
            self.line = line;
            self.line.clear();
        }
        if self.line.len() + rest.len() > MAX_LINE {
            // Too long to read: pass it on as it comes.
            if self.strip {
                self.out.extend_from_slice(&self.line);
                self.out.extend_from_slice(rest);
            }
            self.line.clear();
            self.overlong = true;
        } else if !self.overlong {
            self.line.extend_from_slice(rest);
        } else if self.strip {
            self.out.extend_from_slice(rest);
        }
        self.strip.then(|| std::mem::take(&mut self.out))
    }

    /// What is left at the end of the stream (an unterminated last line).
    #[cfg_attr(not(feature = "rate-limit"), allow(dead_code))]
    pub(crate) fn finish(&mut self) -> Option<Vec<u8>> {
        let line = std::mem::take(&mut self.line);
        let keep = line.is_empty() || self.on_line(&line);
        (self.strip && keep && !line.is_empty()).then_some(line)
    }

    /// Reads one line (with its line ending); whether to pass it on.
    fn on_line(&mut self, line: &[u8]) -> bool {
        let text = line.trim_ascii_end();
        if text.is_empty() {
            return !std::mem::take(&mut self.drop_blank);
        }
        self.drop_blank = false;
        let Some(payload) = text.strip_prefix(b"data:") else {
            return true;
        };
        let payload = payload.trim_ascii_start();
        if payload == b"[DONE]" {
            return true;
        }
        self.events += 1;
        if self.details {
            if !self.first_output && carries_output(payload) {
                self.first_output = true;
            }
            if self.model.is_none() && contains(payload, b"\"model\"") {
                let report = report_of(payload);
                self.model = report.model;
                if let Some(usage) = report.usage {
                    self.usage.get_or_insert_with(Usage::default).merge(usage);
                }
                return true;
            }
        }
        if contains(payload, b"\"usage\"") {
            if let Some(usage) = usage_of(payload) {
                self.usage.get_or_insert_with(Usage::default).merge(usage);
            }
            if self.strip && is_usage_only_chunk(payload) {
                self.events -= 1;
                self.drop_blank = true;
                return false;
            }
        }
        true
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    find(haystack, needle).is_some()
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimates_count_text_values_only() {
        let cases: &[(&str, u64)] = &[
            // 19 characters of content.
            (
                r#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hello there, friend"}]}"#,
                5,
            ),
            // An image's base64 is not text; the question is (12 chars).
            (
                r#"{"messages":[{"role":"user","content":[{"type":"text","text":"What is it?!"},{"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"}}]}]}"#,
                3,
            ),
            // Escapes count as one character each: 8 characters.
            (r#"{"prompt":"a\"b\\c\u00e9d\n"}"#, 2),
            // Multi-byte characters count once: 4 characters.
            (r#"{"prompt":"日本語!"}"#, 1),
            ("plain text of twenty", 5),
            ("", 1),
            (r#"{"unterminated":"abcdefgh"#, 2),
        ];
        for (body, expected) in cases {
            assert_eq!(estimate_input_tokens(body.as_bytes()), *expected, "{body}");
        }
    }

    #[test]
    fn a_kept_json_body_reports_whole_or_from_its_tail() {
        let mut small = JsonBody::default();
        for part in [
            &br#"{"model":"gpt-4o","usage":{"prompt_"#[..],
            br#"tokens":3,"completion_tokens":4}}"#,
        ] {
            small.push(part);
        }
        assert_eq!(
            small.report(),
            Report {
                usage: Some(Usage {
                    input: 3,
                    output: 4
                }),
                model: Some("gpt-4o".into()),
            }
        );
        let mut large = JsonBody::default();
        large.push(br#"{"model":"gpt-4o","choices":[{"message":{"content":""#);
        let filler = vec![b'a'; 64 * 1024];
        for _ in 0..20 {
            large.push(&filler);
        }
        large.push(br#""}}],"usage":{"prompt_tokens":5,"completion_tokens":6}}"#);
        // Only the head and the tail are kept: the model and the usage.
        assert_eq!(
            large.report(),
            Report {
                usage: Some(Usage {
                    input: 5,
                    output: 6
                }),
                model: Some("gpt-4o".into()),
            }
        );
        assert!(large.body.len() <= JSON_TAIL);
        // A body cut off midway reports nothing.
        let mut cut = JsonBody::default();
        cut.push(br#"{"model":"gpt-4o","usage":{"prompt_tokens":3,"completion_"#);
        assert_eq!(cut.report(), Report::default());
    }

    #[test]
    fn usage_is_found_in_the_tail_of_a_large_body() {
        let tail = br#"aaaa truncated ...","usage": {"prompt_tokens":7,"completion_tokens":9}}"#;
        assert_eq!(
            usage_in_tail(tail),
            Some(Usage {
                input: 7,
                output: 9
            })
        );
        assert_eq!(usage_in_tail(br#"...","usage":{"prompt_tok"#), None);
        assert_eq!(usage_in_tail(b"no usage here"), None);
    }

    #[test]
    fn output_events_and_the_responses_api() {
        let outputs: &[(&str, bool)] = &[
            (
                r#"{"choices":[{"delta":{"role":"assistant","content":""}}]}"#,
                false,
            ),
            (
                r#"{"choices":[{"delta":{"role":"assistant","tool_calls":null}}]}"#,
                false,
            ),
            (r#"{"choices":[{"delta":{"tool_calls": [ ]}}]}"#, false),
            (
                r#"{"choices":[{"delta":{"tool_calls":[{"index":0}]}}]}"#,
                true,
            ),
            (r#"{"choices":[{"delta":{"content":"Hi"}}]}"#, true),
            (r#"{"choices":[{"delta":{"refusal":"No"}}]}"#, true),
            (
                r#"{"type":"content_block_delta","delta":{"text":"Hi"}}"#,
                true,
            ),
            (
                r#"{"type":"response.output_text.delta","delta":"Hi"}"#,
                true,
            ),
            (
                r#"{"type":"message_start","message":{"model":"claude"}}"#,
                false,
            ),
        ];
        for (payload, expected) in outputs {
            assert_eq!(carries_output(payload.as_bytes()), *expected, "{payload}");
        }
        let completed = br#"{"type":"response.completed","response":{"model":"gpt-4.1","usage":{"input_tokens":11,"output_tokens":22}}}"#;
        assert_eq!(
            report_of(completed),
            Report {
                usage: Some(Usage {
                    input: 11,
                    output: 22
                }),
                model: Some("gpt-4.1".into()),
            }
        );
    }

    #[test]
    fn usage_in_both_shapes() {
        let openai = br#"{"id":"x","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":30,"total_tokens":42}}"#;
        assert_eq!(
            usage_of(openai),
            Some(Usage {
                input: 12,
                output: 30
            })
        );
        let anthropic = br#"{"type":"message","usage":{"input_tokens":10,"cache_read_input_tokens":5,"output_tokens":7}}"#;
        assert_eq!(
            usage_of(anthropic),
            Some(Usage {
                input: 15,
                output: 7
            })
        );
        let start =
            br#"{"type":"message_start","message":{"usage":{"input_tokens":9,"output_tokens":1}}}"#;
        assert_eq!(
            usage_of(start),
            Some(Usage {
                input: 9,
                output: 1
            })
        );
        assert_eq!(
            usage_of(br#"{"choices":[{"delta":{"content":"hi"}}]}"#),
            None
        );
        assert_eq!(usage_of(b"not json"), None);
    }

    #[test]
    fn the_scanner_reads_usage_across_split_frames() {
        let stream = concat!(
            "event: message_start\n",
            "data: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":20,\"output_tokens\":1}}}\n\n",
            "event: content_block_delta\n",
            "data: {\"type\":\"content_block_delta\",\"delta\":{\"text\":\"Hi\"}}\n\n",
            "event: message_delta\n",
            "data: {\"type\":\"message_delta\",\"usage\":{\"output_tokens\":15}}\n\n",
        );
        for split in [1, 7, 50, stream.len()] {
            let mut scanner = SseScanner::new(false);
            for chunk in stream.as_bytes().chunks(split) {
                assert_eq!(scanner.feed(chunk), None);
            }
            assert_eq!(scanner.finish(), None);
            assert_eq!(
                scanner.usage,
                Some(Usage {
                    input: 20,
                    output: 15
                }),
                "split {split}"
            );
            assert_eq!(scanner.events, 3);
        }
    }

    #[test]
    fn stripping_drops_only_the_usage_only_chunk() {
        let chunk = "data: {\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}\n\n";
        let usage =
            "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":2}}\n\n";
        let done = "data: [DONE]\n\n";
        let stream = format!("{chunk}{chunk}{usage}{done}");
        for split in [1, 5, 64, stream.len()] {
            let mut scanner = SseScanner::new(true);
            let mut out = Vec::new();
            for piece in stream.as_bytes().chunks(split) {
                out.extend(scanner.feed(piece).unwrap());
            }
            out.extend(scanner.finish().unwrap_or_default());
            assert_eq!(
                String::from_utf8(out).unwrap(),
                format!("{chunk}{chunk}{done}"),
                "split {split}"
            );
            assert_eq!(
                scanner.usage,
                Some(Usage {
                    input: 3,
                    output: 2
                })
            );
            assert_eq!(scanner.events, 2);
        }
    }

    #[test]
    fn overlong_lines_pass_through_unread() {
        let long = format!("data: {{\"x\":\"{}\"}}\n\n", "a".repeat(MAX_LINE + 10));
        let usage =
            "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1}}\n\n";
        let stream = format!("{long}{usage}");
        let mut scanner = SseScanner::new(true);
        let mut out = Vec::new();
        for piece in stream.as_bytes().chunks(4096) {
            out.extend(scanner.feed(piece).unwrap());
        }
        out.extend(scanner.finish().unwrap_or_default());
        assert_eq!(String::from_utf8(out).unwrap(), long);
        assert_eq!(
            scanner.usage,
            Some(Usage {
                input: 1,
                output: 1
            })
        );
    }
}
