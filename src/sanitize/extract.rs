//! Finding the texts of a request body: OpenAI Chat Completions, Anthropic
//! Messages, plain text, or your own format through [`Extractor`].

use std::borrow::Cow;
use std::fmt::{self, Write as _};
use std::ops::ControlFlow;

use serde_json::Value;

use super::policy::Role;

/// One step of a [`FieldPath`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Segment {
    /// An object member.
    Key(Cow<'static, str>),
    /// An array element.
    Index(usize),
}

/// Where a text sits in the body, rendered as a JSON Pointer (RFC 6901),
/// for example `/messages/3/content/0/text`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldPath {
    segments: Vec<Segment>,
}

impl FieldPath {
    /// The steps from the root.
    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    fn push_key(&mut self, key: &'static str) {
        self.segments.push(Segment::Key(Cow::Borrowed(key)));
    }

    fn push_index(&mut self, index: usize) {
        self.segments.push(Segment::Index(index));
    }

    fn pop(&mut self) {
        self.segments.pop();
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for segment in &self.segments {
            f.write_char('/')?;
            match segment {
                Segment::Index(i) => write!(f, "{i}")?,
                Segment::Key(key) => {
                    for c in key.chars() {
                        match c {
                            '~' => f.write_str("~0")?,
                            '/' => f.write_str("~1")?,
                            c => f.write_char(c)?,
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

/// One text found in a body, handed to the visitor of [`Extractor::extract`].
#[derive(Debug)]
pub struct Field<'a> {
    /// Who wrote it.
    pub role: Role,
    /// Where it is.
    pub path: &'a FieldPath,
    /// The text, which the visitor may replace (with a cleaned version).
    pub text: &'a mut String,
}

/// What an extraction saw besides the texts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Extracted {
    /// Messages in the request.
    pub messages: usize,
    /// Content parts of types the extractor does not know, passed through
    /// unscored.
    pub unknown_parts: usize,
}

/// The visitor's answer: go on, or stop the walk (a limit was exceeded or a
/// text is refused).
pub type Visit = ControlFlow<()>;

/// Finds the texts of one request format.
///
/// Implement it for formats other than the built-in ones; the walk calls
/// `visit` for every text with its role and path, and stops when `visit`
/// breaks.
pub trait Extractor: Send + Sync + 'static {
    /// Walks `body`, calling `visit` for every text.
    fn extract(
        &self,
        body: &mut Value,
        path: &mut FieldPath,
        visit: &mut dyn FnMut(Field<'_>) -> Visit,
    ) -> (Extracted, Visit);
}

/// The OpenAI Chat Completions request: message contents (strings and text
/// parts, `refusal` parts), `tool_calls[].function.arguments`, tool results,
/// the legacy `prompt`, and `tools[].function.description`.
#[derive(Clone, Copy, Debug, Default)]
pub struct OpenAiChat;

/// The Anthropic Messages request: `system` (string or text blocks), message
/// text blocks, `tool_use` input, `tool_result` content, documents (text,
/// title, context), `search_result` blocks (title, text), and
/// `tools[].description`.
#[derive(Clone, Copy, Debug, Default)]
pub struct AnthropicMessages;

/// Runs `f` one step down, under `key`.
fn under(
    path: &mut FieldPath,
    key: &'static str,
    f: impl FnOnce(&mut FieldPath) -> Visit,
) -> Visit {
    path.push_key(key);
    let flow = f(path);
    path.pop();
    flow
}

/// Runs `f` on every element of `items`, each under its index, until one
/// breaks.
fn each(
    items: &mut [Value],
    path: &mut FieldPath,
    mut f: impl FnMut(&mut Value, &mut FieldPath) -> Visit,
) -> Visit {
    for (i, item) in items.iter_mut().enumerate() {
        path.push_index(i);
        let flow = f(item, path);
        path.pop();
        flow?;
    }
    Visit::Continue(())
}

/// Visits `text` at `path`.
fn text(
    text: &mut String,
    role: Role,
    path: &mut FieldPath,
    visit: &mut dyn FnMut(Field<'_>) -> Visit,
) -> Visit {
    visit(Field { role, path, text })
}

/// The string member `key` of `value`, if there is one.
fn text_at(
    value: &mut Value,
    role: Role,
    path: &mut FieldPath,
    key: &'static str,
    visit: &mut dyn FnMut(Field<'_>) -> Visit,
) -> Visit {
    match value.get_mut(key) {
        Some(Value::String(t)) => under(path, key, |path| text(t, role, path, visit)),
        _ => Visit::Continue(()),
    }
}

/// Every string inside `value` (tool inputs and arguments are free-form).
fn all_strings(
    value: &mut Value,
    role: Role,
    path: &mut FieldPath,
    visit: &mut dyn FnMut(Field<'_>) -> Visit,
) -> Visit {
    match value {
        Value::String(t) => text(t, role, path, visit),
        Value::Array(items) => each(items, path, |item, path| {
            all_strings(item, role, path, visit)
        }),
        Value::Object(members) => {
            for (key, item) in members.iter_mut() {
                path.segments.push(Segment::Key(Cow::Owned(key.clone())));
                let flow = all_strings(item, role, path, visit);
                path.pop();
                flow?;
            }
            Visit::Continue(())
        }
        _ => Visit::Continue(()),
    }
}

/// `tools[].description` (Anthropic) or `tools[].<nested>.description`
/// (OpenAI's `function`).
fn tool_descriptions(
    body: &mut Value,
    path: &mut FieldPath,
    nested: Option<&'static str>,
    visit: &mut dyn FnMut(Field<'_>) -> Visit,
) -> Visit {
    let Some(Value::Array(tools)) = body.get_mut("tools") else {
        return Visit::Continue(());
    };
    under(path, "tools", |path| {
        each(tools, path, |tool, path| match nested {
            Some(key) => match tool.get_mut(key) {
                Some(inner) => under(path, key, |path| {
                    text_at(inner, Role::Tool, path, "description", visit)
                }),
                None => Visit::Continue(()),
            },
            None => text_at(tool, Role::Tool, path, "description", visit),
        })
    })
}

impl Extractor for OpenAiChat {
    fn extract(
        &self,
        body: &mut Value,
        path: &mut FieldPath,
        visit: &mut dyn FnMut(Field<'_>) -> Visit,
    ) -> (Extracted, Visit) {
        let mut seen = Extracted::default();
        let flow = (|| {
            if let Some(prompt) = body.get_mut("prompt") {
                under(path, "prompt", |path| {
                    all_strings(prompt, Role::User, path, visit)
                })?;
            }
            if let Some(Value::Array(messages)) = body.get_mut("messages") {
                seen.messages = messages.len();
                under(path, "messages", |path| {
                    each(messages, path, |message, path| {
                        openai_message(message, path, &mut seen, visit)
                    })
                })?;
            }
            tool_descriptions(body, path, Some("function"), visit)
        })();
        (seen, flow)
    }
}

fn openai_message(
    message: &mut Value,
    path: &mut FieldPath,
    seen: &mut Extracted,
    visit: &mut dyn FnMut(Field<'_>) -> Visit,
) -> Visit {
    // An unknown role is scored as the user's: it came from the client.
    let role = message
        .get("role")
        .and_then(Value::as_str)
        .and_then(Role::parse)
        .unwrap_or(Role::User);
    match message.get_mut("content") {
        Some(Value::String(t)) => under(path, "content", |path| text(t, role, path, visit))?,
        Some(Value::Array(parts)) => under(path, "content", |path| {
            each(parts, path, |part, path| {
                match part.get("type").and_then(Value::as_str).unwrap_or("") {
                    "text" => text_at(part, role, path, "text", visit),
                    "refusal" => text_at(part, role, path, "refusal", visit),
                    "image_url" | "input_audio" | "file" => Visit::Continue(()),
                    _ => {
                        seen.unknown_parts += 1;
                        Visit::Continue(())
                    }
                }
            })
        })?,
        _ => {}
    }
    if let Some(Value::Array(calls)) = message.get_mut("tool_calls") {
        under(path, "tool_calls", |path| {
            each(calls, path, |call, path| match call.get_mut("function") {
                Some(function) => under(path, "function", |path| {
                    text_at(function, Role::Assistant, path, "arguments", visit)
                }),
                None => Visit::Continue(()),
            })
        })?;
    }
    if let Some(function) = message.get_mut("function_call") {
        under(path, "function_call", |path| {
            text_at(function, Role::Assistant, path, "arguments", visit)
        })?;
    }
    Visit::Continue(())
}

impl Extractor for AnthropicMessages {
    fn extract(
        &self,
        body: &mut Value,
        path: &mut FieldPath,
        visit: &mut dyn FnMut(Field<'_>) -> Visit,
    ) -> (Extracted, Visit) {
        let mut seen = Extracted::default();
        let flow = (|| {
            match body.get_mut("system") {
                Some(Value::String(t)) => {
                    under(path, "system", |path| text(t, Role::System, path, visit))?
                }
                Some(Value::Array(blocks)) => under(path, "system", |path| {
                    anthropic_blocks(blocks, Role::System, path, &mut seen, visit)
                })?,
                _ => {}
            }
            if let Some(Value::Array(messages)) = body.get_mut("messages") {
                seen.messages = messages.len();
                under(path, "messages", |path| {
                    each(messages, path, |message, path| {
                        let role = match message.get("role").and_then(Value::as_str) {
                            Some("assistant") => Role::Assistant,
                            _ => Role::User,
                        };
                        anthropic_content(message, role, path, &mut seen, visit)
                    })
                })?;
            }
            tool_descriptions(body, path, None, visit)
        })();
        (seen, flow)
    }
}

/// The `content` member of a message, tool result or document: a string or
/// blocks.
fn anthropic_content(
    holder: &mut Value,
    role: Role,
    path: &mut FieldPath,
    seen: &mut Extracted,
    visit: &mut dyn FnMut(Field<'_>) -> Visit,
) -> Visit {
    match holder.get_mut("content") {
        Some(Value::String(t)) => under(path, "content", |path| text(t, role, path, visit)),
        Some(Value::Array(blocks)) => under(path, "content", |path| {
            anthropic_blocks(blocks, role, path, seen, visit)
        }),
        _ => Visit::Continue(()),
    }
}

fn anthropic_blocks(
    blocks: &mut [Value],
    role: Role,
    path: &mut FieldPath,
    seen: &mut Extracted,
    visit: &mut dyn FnMut(Field<'_>) -> Visit,
) -> Visit {
    each(blocks, path, |block, path| {
        match block.get("type").and_then(Value::as_str).unwrap_or("") {
            "text" => text_at(block, role, path, "text", visit),
            "tool_use" | "server_tool_use" => match block.get_mut("input") {
                Some(input) => under(path, "input", |path| {
                    all_strings(input, Role::Assistant, path, visit)
                }),
                None => Visit::Continue(()),
            },
            "tool_result" => anthropic_content(block, Role::Tool, path, seen, visit),
            "document" => {
                text_at(block, role, path, "title", visit)?;
                text_at(block, role, path, "context", visit)?;
                match block.get_mut("source") {
                    Some(source) => under(path, "source", |path| {
                        match source.get("type").and_then(Value::as_str) {
                            Some("text") => text_at(source, role, path, "data", visit),
                            Some("content") => anthropic_content(source, role, path, seen, visit),
                            _ => Visit::Continue(()),
                        }
                    }),
                    None => Visit::Continue(()),
                }
            }
            // Search results the client passes in (retrieved text, the way
            // indirect injections arrive).
            "search_result" => {
                text_at(block, role, path, "title", visit)?;
                anthropic_content(block, role, path, seen, visit)
            }
            // Binary or signed content: nothing to scan, and thinking blocks
            // must reach the provider unchanged for their signatures.
            "image"
            | "thinking"
            | "redacted_thinking"
            | "web_search_tool_result"
            | "container_upload" => Visit::Continue(()),
            _ => {
                seen.unknown_parts += 1;
                Visit::Continue(())
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn texts(
        extractor: &dyn Extractor,
        mut body: Value,
    ) -> (Vec<(Role, String, String)>, Extracted) {
        let mut found = Vec::new();
        let mut path = FieldPath::default();
        let (seen, flow) = extractor.extract(&mut body, &mut path, &mut |field| {
            found.push((field.role, field.path.to_string(), field.text.clone()));
            Visit::Continue(())
        });
        assert!(flow.is_continue());
        assert!(path.segments().is_empty(), "path left unbalanced: {path}");
        (found, seen)
    }

    #[test]
    fn openai_fields() {
        let body = json!({
            "model": "m",
            "prompt": ["legacy"],
            "messages": [
                {"role": "developer", "content": "dev rules"},
                {"role": "system", "content": [{"type": "text", "text": "sys part"}]},
                {"role": "user", "content": [
                    {"type": "text", "text": "hello"},
                    {"type": "image_url", "image_url": {"url": "https://x/y.png"}},
                    {"type": "hologram", "data": "?"}
                ]},
                {"role": "assistant", "content": null, "tool_calls": [
                    {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{\"q\":1}"}}
                ]},
                {"role": "assistant", "content": [{"type": "refusal", "refusal": "no"}]},
                {"role": "tool", "tool_call_id": "c1", "content": "result text"}
            ],
            "tools": [{"type": "function", "function": {"name": "f", "description": "finds"}}]
        });
        let (found, seen) = texts(&OpenAiChat, body);
        let expected = [
            (Role::User, "/prompt/0", "legacy"),
            (Role::System, "/messages/0/content", "dev rules"),
            (Role::System, "/messages/1/content/0/text", "sys part"),
            (Role::User, "/messages/2/content/0/text", "hello"),
            (
                Role::Assistant,
                "/messages/3/tool_calls/0/function/arguments",
                "{\"q\":1}",
            ),
            (Role::Assistant, "/messages/4/content/0/refusal", "no"),
            (Role::Tool, "/messages/5/content", "result text"),
            (Role::Tool, "/tools/0/function/description", "finds"),
        ];
        let found: Vec<_> = found
            .iter()
            .map(|(r, p, t)| (*r, p.as_str(), t.as_str()))
            .collect();
        assert_eq!(found, expected);
        assert_eq!(
            seen,
            Extracted {
                messages: 6,
                unknown_parts: 1
            }
        );
    }

    #[test]
    fn anthropic_fields() {
        let body = json!({
            "model": "m",
            "system": [{"type": "text", "text": "be nice"}],
            "messages": [
                {"role": "user", "content": "plain"},
                {"role": "assistant", "content": [
                    {"type": "thinking", "thinking": "hmm", "signature": "sig"},
                    {"type": "text", "text": "answer"},
                    {"type": "tool_use", "id": "t", "name": "n", "input": {"q/x": "look up", "n": [1, "two"]}}
                ]},
                {"role": "user", "content": [
                    {"type": "tool_result", "tool_use_id": "t", "content": [{"type": "text", "text": "found"}]},
                    {"type": "document", "title": "doc title", "context": "doc context",
                     "source": {"type": "text", "media_type": "text/plain", "data": "doc body"}},
                    {"type": "search_result", "source": "https://example.com", "title": "result title",
                     "content": [{"type": "text", "text": "result text"}]},
                    {"type": "mystery"}
                ]}
            ],
            "tools": [{"name": "n", "description": "looks up", "input_schema": {}}]
        });
        let (found, seen) = texts(&AnthropicMessages, body);
        let found: Vec<_> = found
            .iter()
            .map(|(r, p, t)| (*r, p.as_str(), t.as_str()))
            .collect();
        assert_eq!(
            found,
            [
                (Role::System, "/system/0/text", "be nice"),
                (Role::User, "/messages/0/content", "plain"),
                (Role::Assistant, "/messages/1/content/1/text", "answer"),
                (
                    Role::Assistant,
                    "/messages/1/content/2/input/q~1x",
                    "look up"
                ),
                (Role::Assistant, "/messages/1/content/2/input/n/1", "two"),
                (Role::Tool, "/messages/2/content/0/content/0/text", "found"),
                (Role::User, "/messages/2/content/1/title", "doc title"),
                (Role::User, "/messages/2/content/1/context", "doc context"),
                (Role::User, "/messages/2/content/1/source/data", "doc body"),
                (Role::User, "/messages/2/content/2/title", "result title"),
                (
                    Role::User,
                    "/messages/2/content/2/content/0/text",
                    "result text"
                ),
                (Role::Tool, "/tools/0/description", "looks up"),
            ]
        );
        assert_eq!(
            seen,
            Extracted {
                messages: 3,
                unknown_parts: 1
            }
        );
    }

    #[test]
    fn walk_stops_when_visitor_breaks() {
        let mut body = json!({"messages": [
            {"role": "user", "content": "a"},
            {"role": "user", "content": "b"}
        ]});
        let mut path = FieldPath::default();
        let mut visited = 0;
        let (_, flow) = OpenAiChat.extract(&mut body, &mut path, &mut |field| {
            visited += 1;
            if field.text == "a" {
                Visit::Break(())
            } else {
                Visit::Continue(())
            }
        });
        assert!(flow.is_break());
        assert_eq!(visited, 1);
        assert!(path.segments().is_empty());
    }
}
