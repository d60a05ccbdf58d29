//! Problem details for rejected requests ([RFC 9457]) and the typed rejection
//! reason that travels with them.
//!
//! Every spark-tower layer that turns a request away answers with an
//! `application/problem+json` body built here:
//!
//! ```json
//! {"type":"urn:spark-tower:problem:payload-too-large","title":"Request body too large",
//!  "status":413,"detail":"the body exceeds 1048576 bytes","limit":1048576}
//! ```
//!
//! and inserts a [`Rejection`] into the response extensions, so outer layers
//! (metrics, error tracking, circuit breakers) can group rejections by
//! [`RejectionKind`] without parsing bodies.
//!
//! On provider routes (where a [`Provider`](crate::marker::Provider) marker is
//! present) the body also carries an `error` member in that provider's own error
//! shape, so the official OpenAI and Anthropic SDKs show a meaningful message:
//! `{"message", "type", "code"}` for OpenAI, `{"type", "message"}` for Anthropic.
//!
//! Details must never echo secrets or the offending input: layers put limits,
//! positions, field paths and rule ids there, not the text they rejected.
//!
//! ```
//! use http::StatusCode;
//! use spark_tower::marker::ProviderApi;
//! use spark_tower::problem::{Problem, Rejection, RejectionKind};
//!
//! let response: http::Response<bytes::Bytes> = Problem::new(RejectionKind::PayloadTooLarge)
//!     .with_detail("the body exceeds 1048576 bytes")
//!     .with_member("limit", 1_048_576)
//!     .to_response(Some(ProviderApi::OpenAi));
//!
//! assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
//! assert_eq!(response.headers()["content-type"], "application/problem+json");
//! let rejection = response.extensions().get::<Rejection>().unwrap();
//! assert_eq!(rejection.kind(), RejectionKind::PayloadTooLarge);
//!
//! let body: serde_json::Value = serde_json::from_slice(response.body()).unwrap();
//! assert_eq!(body["type"], "urn:spark-tower:problem:payload-too-large");
//! assert_eq!(body["limit"], 1_048_576);
//! assert_eq!(body["error"]["type"], "invalid_request_error");
//! ```
//!
//! [RFC 9457]: https://www.rfc-editor.org/rfc/rfc9457

use std::borrow::Cow;
use std::fmt;

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderValue};
use http::{Response, StatusCode};
use serde_json::Value;

use crate::marker::ProviderApi;

/// The media type of problem details bodies.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// Error type names of a provider's own error shape for one kind of problem.
struct ProviderShape {
    openai_type: &'static str,
    openai_code: Option<&'static str>,
    anthropic_type: &'static str,
}

macro_rules! rejection_kinds {
    ($(
        $(#[$doc:meta])*
        $variant:ident => $slug:literal, $status:ident, $title:literal,
            openai($otype:literal, $ocode:expr), anthropic($atype:literal);
    )*) => {
        /// What kind of problem turned a request away.
        ///
        /// Each kind has a stable problem `type` URI
        /// (`urn:spark-tower:problem:<slug>`), a title and a default status.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum RejectionKind {
            $( $(#[$doc])* $variant, )*
        }

        impl RejectionKind {
            /// Every kind, in declaration order.
            pub const ALL: &'static [RejectionKind] = &[$(RejectionKind::$variant),*];

            /// The stable problem `type` URI of this kind.
            pub const fn type_uri(self) -> &'static str {
                match self { $( Self::$variant => concat!("urn:spark-tower:problem:", $slug), )* }
            }

            /// The short, stable name of this kind (the last part of its URI),
            /// suitable as a metrics label.
            pub const fn as_str(self) -> &'static str {
                match self { $( Self::$variant => $slug, )* }
            }

            /// The human-readable summary of this kind (the problem `title`).
            pub const fn title(self) -> &'static str {
                match self { $( Self::$variant => $title, )* }
            }

            /// The status a problem of this kind gets unless a layer overrides it.
            pub const fn default_status(self) -> StatusCode {
                match self { $( Self::$variant => StatusCode::$status, )* }
            }

            const fn shape(self) -> ProviderShape {
                match self { $( Self::$variant => ProviderShape {
                    openai_type: $otype, openai_code: $ocode, anthropic_type: $atype,
                }, )* }
            }
        }
    };
}

rejection_kinds! {
    /// The request body is not valid JSON, or not the JSON the route expects.
    InvalidJson => "invalid-json", BAD_REQUEST, "Malformed JSON body",
        openai("invalid_request_error", None), anthropic("invalid_request_error");
    /// The request is malformed in another way (a bad header, a missing field).
    BadRequest => "bad-request", BAD_REQUEST, "Bad request",
        openai("invalid_request_error", None), anthropic("invalid_request_error");
    /// No or an invalid credential.
    Unauthorized => "unauthorized", UNAUTHORIZED, "Unauthorized",
        openai("invalid_request_error", Some("invalid_api_key")), anthropic("authentication_error");
    /// A valid credential that may not do this.
    Forbidden => "forbidden", FORBIDDEN, "Forbidden",
        openai("invalid_request_error", Some("insufficient_permissions")), anthropic("permission_error");
    /// No route matches the request path.
    NotFound => "not-found", NOT_FOUND, "Not found",
        openai("invalid_request_error", Some("unknown_url")), anthropic("not_found_error");
    /// The route exists but not for this method.
    MethodNotAllowed => "method-not-allowed", METHOD_NOT_ALLOWED, "Method not allowed",
        openai("invalid_request_error", Some("method_not_allowed")), anthropic("invalid_request_error");
    /// The request body is larger than the configured limit.
    PayloadTooLarge => "payload-too-large", PAYLOAD_TOO_LARGE, "Request body too large",
        openai("invalid_request_error", Some("request_too_large")), anthropic("request_too_large");
    /// The request body has a missing or unsupported `Content-Type`.
    UnsupportedMediaType => "unsupported-media-type", UNSUPPORTED_MEDIA_TYPE, "Unsupported media type",
        openai("invalid_request_error", Some("unsupported_media_type")), anthropic("invalid_request_error");
    /// The input was refused by a content rule (for example prompt injection).
    InputRejected => "input-rejected", BAD_REQUEST, "Input rejected",
        openai("invalid_request_error", Some("input_rejected")), anthropic("invalid_request_error");
    /// The caller exceeded a rate limit or quota.
    RateLimited => "rate-limited", TOO_MANY_REQUESTS, "Too many requests",
        openai("rate_limit_error", Some("rate_limit_exceeded")), anthropic("rate_limit_error");
    /// A circuit breaker is open for the provider.
    CircuitOpen => "circuit-open", SERVICE_UNAVAILABLE, "Provider temporarily unavailable",
        openai("server_error", Some("circuit_open")), anthropic("overloaded_error");
    /// The provider could not be reached.
    UpstreamUnavailable => "upstream-unavailable", BAD_GATEWAY, "Provider unreachable",
        openai("server_error", Some("upstream_unavailable")), anthropic("api_error");
    /// The provider did not answer in time.
    UpstreamTimeout => "upstream-timeout", GATEWAY_TIMEOUT, "Provider timed out",
        openai("server_error", Some("upstream_timeout")), anthropic("api_error");
    /// The gateway itself failed (for example a panic in an inner service).
    Internal => "internal", INTERNAL_SERVER_ERROR, "Internal error",
        openai("server_error", None), anthropic("api_error");
}

impl fmt::Display for RejectionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The typed reason a spark-tower layer rejected a request, found in the
/// response extensions.
///
/// ```
/// # use spark_tower::problem::{Rejection, RejectionKind};
/// fn is_quota(response: &http::Response<()>) -> bool {
///     response
///         .extensions()
///         .get::<Rejection>()
///         .is_some_and(|r| r.kind() == RejectionKind::RateLimited)
/// }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    kind: RejectionKind,
    detail: Cow<'static, str>,
}

impl Rejection {
    /// A rejection of `kind` with a detail for logs and error tracking.
    pub fn new(kind: RejectionKind, detail: impl Into<Cow<'static, str>>) -> Self {
        Self {
            kind,
            detail: detail.into(),
        }
    }

    /// What kind of problem it was.
    pub fn kind(&self) -> RejectionKind {
        self.kind
    }

    /// The detail given to the client (never a secret or the rejected input).
    pub fn detail(&self) -> &str {
        &self.detail
    }
}

/// An RFC 9457 problem, turned into a response with [`Problem::to_response`].
///
/// The `type`, `title` and the provider error type names are static strings
/// chosen by the [`RejectionKind`]; per request only the detail and extension
/// members are written, into one buffer.
#[derive(Clone, Debug)]
pub struct Problem {
    kind: RejectionKind,
    status: StatusCode,
    detail: Cow<'static, str>,
    members: Vec<(&'static str, Value)>,
}

impl Problem {
    /// A problem of `kind` with its default status and no detail.
    pub fn new(kind: RejectionKind) -> Self {
        Self {
            kind,
            status: kind.default_status(),
            detail: Cow::Borrowed(""),
            members: Vec::new(),
        }
    }

    /// Sets the `detail` member: what went wrong with this request.
    pub fn with_detail(mut self, detail: impl Into<Cow<'static, str>>) -> Self {
        self.detail = detail.into();
        self
    }

    /// Overrides the status (for example 503 instead of 504 for timeouts).
    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    /// Adds an extension member such as `limit`, `retry_after` or `rule_ids`.
    ///
    /// Names reserved by RFC 9457 (`type`, `title`, `status`, `detail`,
    /// `instance`) and `error` are ignored, so a layer cannot corrupt the shape.
    pub fn with_member(mut self, name: &'static str, value: impl Into<Value>) -> Self {
        if !matches!(
            name,
            "type" | "title" | "status" | "detail" | "instance" | "error"
        ) {
            self.members.push((name, value.into()));
        }
        self
    }

    /// 413 for a request body over `limit` bytes, with the `limit` member:
    /// the one wording of every layer that limits bodies.
    pub fn body_too_large(limit: usize) -> Self {
        Self::new(RejectionKind::PayloadTooLarge)
            .with_detail(format!(
                "the request body exceeds the limit of {limit} bytes"
            ))
            .with_member("limit", limit)
    }

    /// 400 for a request body that could not be read (a broken or stalled
    /// connection).
    pub fn unreadable_body() -> Self {
        Self::new(RejectionKind::BadRequest).with_detail("the request body could not be read")
    }

    /// The problem for a failed read of a body limited to `limit` bytes
    /// (with `http_body_util::Limited`): too large, or unreadable.
    pub fn body_read_failed(error: &(dyn std::error::Error + 'static), limit: usize) -> Self {
        if error.is::<http_body_util::LengthLimitError>() {
            Self::body_too_large(limit)
        } else {
            Self::unreadable_body()
        }
    }

    /// The kind of this problem.
    pub fn kind(&self) -> RejectionKind {
        self.kind
    }

    /// The status this problem is answered with.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The detail text.
    pub fn detail(&self) -> &str {
        &self.detail
    }

    /// Serialises the body. `api` adds the provider-shaped `error` member.
    pub fn to_json(&self, api: Option<ProviderApi>) -> Bytes {
        let mut buf = Vec::with_capacity(160 + self.detail.len());
        buf.extend_from_slice(br#"{"type":""#);
        buf.extend_from_slice(self.kind.type_uri().as_bytes());
        buf.extend_from_slice(br#"","title":""#);
        buf.extend_from_slice(self.kind.title().as_bytes());
        buf.extend_from_slice(br#"","status":"#);
        buf.extend_from_slice(self.status.as_str().as_bytes());
        if !self.detail.is_empty() {
            buf.extend_from_slice(br#","detail":"#);
            write_json(&mut buf, &*self.detail);
        }
        for (name, value) in &self.members {
            buf.push(b',');
            write_json(&mut buf, name);
            buf.push(b':');
            write_json(&mut buf, value);
        }
        if let Some(api) = api {
            let shape = self.kind.shape();
            buf.extend_from_slice(br#","error":{"#);
            match api {
                ProviderApi::OpenAi => {
                    buf.extend_from_slice(br#""message":"#);
                    self.write_message(&mut buf);
                    buf.extend_from_slice(br#","type":""#);
                    buf.extend_from_slice(shape.openai_type.as_bytes());
                    buf.extend_from_slice(br#"","param":null,"code":"#);
                    match shape.openai_code {
                        Some(code) => write_json(&mut buf, code),
                        None => buf.extend_from_slice(b"null"),
                    }
                }
                ProviderApi::Anthropic => {
                    buf.extend_from_slice(br#""type":""#);
                    buf.extend_from_slice(shape.anthropic_type.as_bytes());
                    buf.extend_from_slice(br#"","message":"#);
                    self.write_message(&mut buf);
                }
            }
            buf.push(b'}');
        }
        buf.push(b'}');
        Bytes::from(buf)
    }

    /// The SDK-facing message: the title, then the detail when there is one.
    fn write_message(&self, buf: &mut Vec<u8>) {
        if self.detail.is_empty() {
            write_json(buf, self.kind.title());
        } else {
            write_json(buf, &format!("{}: {}", self.kind.title(), self.detail));
        }
    }

    /// The problem as a response: status, `Content-Type:
    /// application/problem+json`, the body, and a [`Rejection`] in the
    /// extensions. `api` adds the provider-shaped `error` member; pass
    /// [`ProviderApi::from_extensions`] of the request on provider routes.
    pub fn to_response<B: From<Bytes>>(&self, api: Option<ProviderApi>) -> Response<B> {
        let mut response = Response::new(B::from(self.to_json(api)));
        *response.status_mut() = self.status;
        response
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        response
            .extensions_mut()
            .insert(Rejection::new(self.kind, self.detail.clone()));
        response
    }
}

/// The 405 answer of a read-only endpoint (error listing, metrics, health):
/// a problem naming the methods it answers, with the `Allow` header.
pub fn read_only_endpoint<B: From<Bytes>>() -> Response<B> {
    let mut response = Problem::new(RejectionKind::MethodNotAllowed)
        .with_detail("this endpoint answers GET and HEAD")
        .to_response::<B>(None);
    response
        .headers_mut()
        .insert(http::header::ALLOW, HeaderValue::from_static("GET, HEAD"));
    response
}

fn write_json<T: serde::Serialize + ?Sized>(buf: &mut Vec<u8>, value: &T) {
    // Serialising strings, numbers and `Value`s into a Vec cannot fail.
    serde_json::to_writer(buf, value).expect("JSON serialisation into memory");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(problem: &Problem, api: Option<ProviderApi>) -> Value {
        serde_json::from_slice(&problem.to_json(api)).expect("valid JSON")
    }

    #[test]
    fn every_kind_has_a_unique_uri_and_valid_body() {
        let mut uris = std::collections::HashSet::new();
        for &kind in RejectionKind::ALL {
            assert!(uris.insert(kind.type_uri()), "duplicate uri for {kind:?}");
            assert!(kind.type_uri().ends_with(kind.as_str()));
            for api in [
                None,
                Some(ProviderApi::OpenAi),
                Some(ProviderApi::Anthropic),
            ] {
                let v = body(&Problem::new(kind).with_detail("d \"quoted\""), api);
                assert_eq!(v["type"], kind.type_uri());
                assert_eq!(v["title"], kind.title());
                assert_eq!(v["status"], kind.default_status().as_u16());
                assert_eq!(v["detail"], "d \"quoted\"");
                assert_eq!(v.get("error").is_some(), api.is_some());
            }
        }
    }

    #[test]
    fn provider_shapes() {
        let problem = Problem::new(RejectionKind::RateLimited).with_detail("try later");
        let cases = [
            (
                ProviderApi::OpenAi,
                serde_json::json!({
                    "message": "Too many requests: try later",
                    "type": "rate_limit_error",
                    "param": null,
                    "code": "rate_limit_exceeded",
                }),
            ),
            (
                ProviderApi::Anthropic,
                serde_json::json!({
                    "type": "rate_limit_error",
                    "message": "Too many requests: try later",
                }),
            ),
        ];
        for (api, expected) in cases {
            assert_eq!(body(&problem, Some(api))["error"], expected, "{api:?}");
        }
    }

    #[test]
    fn message_without_detail_is_the_title() {
        let v = body(
            &Problem::new(RejectionKind::NotFound),
            Some(ProviderApi::Anthropic),
        );
        assert_eq!(v["error"]["message"], "Not found");
        assert!(v.get("detail").is_none());
    }

    #[test]
    fn members_and_status_override() {
        let problem = Problem::new(RejectionKind::UpstreamTimeout)
            .with_status(StatusCode::SERVICE_UNAVAILABLE)
            .with_member("retry_after", 3)
            .with_member("rule_ids", vec!["a", "b"])
            .with_member("type", "hijack")
            .with_member("error", "hijack");
        let v = body(&problem, None);
        assert_eq!(v["status"], 503);
        assert_eq!(v["retry_after"], 3);
        assert_eq!(v["rule_ids"], serde_json::json!(["a", "b"]));
        assert_eq!(v["type"], RejectionKind::UpstreamTimeout.type_uri());
        assert!(v.get("error").is_none());
    }

    #[test]
    fn response_carries_rejection_and_content_type() {
        let response: Response<Bytes> = Problem::new(RejectionKind::Unauthorized)
            .with_detail("missing key")
            .to_response(None);
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(response.headers()[CONTENT_TYPE], "application/problem+json");
        assert_eq!(
            response.extensions().get::<Rejection>(),
            Some(&Rejection::new(RejectionKind::Unauthorized, "missing key"))
        );
    }
}
