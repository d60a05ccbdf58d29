//! What the authenticating layers share: reading a bearer token, the
//! RFC 6750 challenges, and the answers to each kind of failure.

use std::fmt;

use bytes::Bytes;
use http::header::{AUTHORIZATION, HeaderName, HeaderValue, WWW_AUTHENTICATE};
use http::{HeaderMap, Response, StatusCode};

use super::key::KeyError;
use crate::marker::{Principal, ProviderApi};
use crate::problem::{Problem, RejectionKind};

/// The realm of every challenge unless set otherwise.
pub(super) const DEFAULT_REALM: &str = "spark-tower";

/// The `WWW-Authenticate` values, built once.
#[derive(Clone)]
pub(super) struct Challenges {
    realm: String,
    required: Box<[Box<str>]>,
    missing: HeaderValue,
    invalid_token: HeaderValue,
    invalid_request: HeaderValue,
    insufficient_scope: HeaderValue,
}

impl Challenges {
    pub(super) fn new() -> Self {
        let mut challenges = Self {
            realm: DEFAULT_REALM.to_owned(),
            required: Box::new([]),
            missing: HeaderValue::from_static("Bearer"),
            invalid_token: HeaderValue::from_static("Bearer"),
            invalid_request: HeaderValue::from_static("Bearer"),
            insufficient_scope: HeaderValue::from_static("Bearer"),
        };
        challenges.rebuild();
        challenges
    }

    /// Sets the realm (quotes, backslashes and controls dropped).
    pub(super) fn set_realm(&mut self, realm: &str) {
        self.realm = quotable(realm);
        self.rebuild();
    }

    /// Adds a scope every principal must hold.
    pub(super) fn require(&mut self, scope: &str) {
        let mut required = std::mem::take(&mut self.required).into_vec();
        required.push(quotable(scope).into());
        self.required = required.into_boxed_slice();
        self.rebuild();
    }

    /// Whether `principal` holds every required scope.
    pub(super) fn allows(&self, principal: &Principal) -> bool {
        self.required.iter().all(|scope| principal.has_scope(scope))
    }

    fn rebuild(&mut self) {
        let base = format!("Bearer realm=\"{}\"", self.realm);
        let value = |text: String| {
            HeaderValue::from_str(&text).expect("the realm and scopes are quoted-string safe")
        };
        let scopes = self.required.join(" ");
        self.missing = value(base.clone());
        self.invalid_token = value(format!("{base}, error=\"invalid_token\""));
        self.invalid_request = value(format!("{base}, error=\"invalid_request\""));
        self.insufficient_scope = value(format!(
            "{base}, error=\"insufficient_scope\", scope=\"{scopes}\""
        ));
    }
}

impl fmt::Debug for Challenges {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Challenges")
            .field("realm", &self.realm)
            .field("required", &self.required)
            .finish()
    }
}

/// Keeps the characters a quoted-string may hold without escapes.
pub(super) fn quotable(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_ascii_graphic() && !matches!(c, '"' | '\\') || *c == ' ')
        .collect()
}

/// Where the credential was found.
pub(super) enum Found<'a> {
    None,
    Token(&'a str),
    /// A header value that is not visible ASCII.
    Unreadable,
    /// Two different credentials, or one header repeated.
    Conflicting,
}

impl<'a> Found<'a> {
    pub(super) fn merge(self, other: Self) -> Self {
        match (self, other) {
            (Self::None, found) | (found, Self::None) => found,
            (Self::Token(a), Self::Token(b)) if a == b => Self::Token(a),
            _ => Self::Conflicting,
        }
    }
}

pub(super) fn single<'a>(
    headers: &'a HeaderMap,
    name: &HeaderName,
) -> Option<Result<&'a HeaderValue, ()>> {
    let mut values = headers.get_all(name).iter();
    let first = values.next()?;
    Some(if values.next().is_some() {
        Err(())
    } else {
        Ok(first)
    })
}

/// The token of `Authorization: Bearer <token>`; another scheme (Basic,
/// say) is not a credential of ours.
pub(super) fn bearer(headers: &HeaderMap) -> Found<'_> {
    match single(headers, &AUTHORIZATION) {
        None => Found::None,
        Some(Err(())) => Found::Conflicting,
        Some(Ok(value)) => match value.to_str() {
            Err(_) => Found::Unreadable,
            Ok(text) => {
                let text = text.trim();
                let (scheme, token) = text.split_once(' ').unwrap_or((text, ""));
                if scheme.eq_ignore_ascii_case("bearer") {
                    Found::Token(token.trim_start())
                } else {
                    Found::None
                }
            }
        },
    }
}

/// Which credential a layer reads, for the wording of its answers.
#[derive(Clone, Copy, Debug)]
pub(super) enum Scheme {
    ApiKey,
    #[cfg_attr(not(feature = "jwt"), allow(dead_code))]
    Jwt,
}

/// Why a request was not authenticated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Failure {
    Missing,
    Conflicting,
    Malformed(Option<KeyError>),
    /// Unknown or revoked: one answer for both.
    Invalid,
    Expired,
    /// A token whose `nbf` is still to come.
    #[cfg_attr(not(feature = "jwt"), allow(dead_code))]
    NotYetValid,
    Scope,
    Store,
}

impl Failure {
    /// The answer: a problem in the provider's shape, with the challenge.
    pub(super) fn response(
        self,
        challenges: &Challenges,
        scheme: Scheme,
        api: Option<ProviderApi>,
    ) -> Response<Bytes> {
        let noun = match scheme {
            Scheme::ApiKey => "API key",
            Scheme::Jwt => "token",
        };
        let unauthorized =
            |detail: String| Problem::new(RejectionKind::Unauthorized).with_detail(detail);
        let (problem, challenge) = match self {
            Self::Missing => (
                unauthorized(match scheme {
                    Scheme::ApiKey => "an API key is required: send it as `Authorization: Bearer <key>` or `x-api-key: <key>`".to_owned(),
                    Scheme::Jwt => "a bearer token is required: send it as `Authorization: Bearer <token>`".to_owned(),
                }),
                Some(&challenges.missing),
            ),
            Self::Conflicting => (
                Problem::new(RejectionKind::BadRequest)
                    .with_detail("the request carries more than one credential"),
                Some(&challenges.invalid_request),
            ),
            Self::Malformed(Some(error)) => (
                unauthorized(format!("the {noun} is malformed: {error}")),
                Some(&challenges.invalid_token),
            ),
            Self::Malformed(None) => (
                unauthorized(format!("the {noun} is malformed")),
                Some(&challenges.invalid_token),
            ),
            Self::Invalid => (
                unauthorized(format!("the {noun} is not valid")),
                Some(&challenges.invalid_token),
            ),
            Self::Expired => (
                unauthorized(format!("the {noun} has expired")),
                Some(&challenges.invalid_token),
            ),
            Self::NotYetValid => (
                unauthorized(format!("the {noun} is not valid yet")),
                Some(&challenges.invalid_token),
            ),
            Self::Scope => (
                Problem::new(RejectionKind::Forbidden)
                    .with_detail(format!("the {noun} lacks a scope this route requires"))
                    .with_member(
                        "required_scopes",
                        challenges.required.iter().map(|s| &**s).collect::<Vec<_>>(),
                    ),
                Some(&challenges.insufficient_scope),
            ),
            Self::Store => (
                Problem::new(RejectionKind::Internal)
                    .with_status(StatusCode::SERVICE_UNAVAILABLE)
                    .with_detail(match scheme {
                        Scheme::ApiKey => "the key store is unavailable",
                        Scheme::Jwt => "the token signing keys are unavailable",
                    }),
                None,
            ),
        };
        let mut response = problem.to_response::<Bytes>(api);
        if let Some(challenge) = challenge {
            response
                .headers_mut()
                .insert(WWW_AUTHENTICATE, challenge.clone());
        }
        response
    }

    /// A short name for logs.
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Self::Missing => "missing",
            Self::Conflicting => "conflicting",
            Self::Malformed(_) => "malformed",
            Self::Invalid => "invalid",
            Self::Expired => "expired",
            Self::NotYetValid => "not-yet-valid",
            Self::Scope => "scope",
            Self::Store => "store",
        }
    }
}
