//! Roles, per-role policies, limits, and the judgement of one text.

use std::fmt;

use super::engine::{Detection, Sanitizer, Thresholds, Verdict};

/// Who wrote a text, as the request says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// The operator's instructions (`system`, and OpenAI's `developer`).
    System,
    /// The end user.
    User,
    /// A previous model turn, as sent by the client (clients can forge them).
    Assistant,
    /// Tool definitions, calls and results.
    Tool,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 4] = [Role::System, Role::User, Role::Assistant, Role::Tool];

    /// `system`, `user`, `assistant` or `tool`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Role::System => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
            Role::Tool => "tool",
        }
    }

    /// Parses a role name; `developer` is the system role.
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "system" | "developer" => Role::System,
            "user" => Role::User,
            "assistant" | "model" => Role::Assistant,
            "tool" | "function" => Role::Tool,
            _ => return None,
        })
    }

    const fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the layer does with a role's texts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Policy {
    /// Clean, score, block at the block threshold, flag at the flag threshold.
    Block,
    /// Clean, score, never block: flag at the flag threshold.
    Flag,
    /// Clean and forward without scoring.
    Sanitize,
    /// Leave the text alone: no cleaning, no scoring (limits still apply).
    Off,
}

impl Policy {
    /// Whether texts of this policy are scored.
    pub const fn scores(self) -> bool {
        matches!(self, Policy::Block | Policy::Flag)
    }

    /// Whether texts of this policy are cleaned before forwarding.
    pub const fn cleans(self) -> bool {
        !matches!(self, Policy::Off)
    }
}

/// Size limits, in characters (Unicode scalar values) and messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    per_field: [usize; 4],
    /// Characters across every text of a request.
    pub total_chars: usize,
    /// Messages in a request.
    pub max_messages: usize,
}

impl Default for Limits {
    /// 10,000 characters per user, assistant and tool text, 100,000 per
    /// system text, 1,000,000 in all, 2,000 messages.
    fn default() -> Self {
        let mut per_field = [10_000; 4];
        per_field[Role::System.index()] = 100_000;
        Self {
            per_field,
            total_chars: 1_000_000,
            max_messages: 2_000,
        }
    }
}

impl Limits {
    /// The character limit of one text of `role`.
    pub fn per_field(&self, role: Role) -> usize {
        self.per_field[role.index()]
    }

    /// Sets the character limit of one text of `role`.
    pub fn set_per_field(&mut self, role: Role, chars: usize) {
        self.per_field[role.index()] = chars;
    }
}

/// Policies, thresholds and limits: everything that turns a [`Detection`]
/// into a [`Verdict`]. The defaults are the gateway's.
#[derive(Clone, Debug)]
pub struct Judge {
    sanitizer: Sanitizer,
    policies: [Policy; 4],
    thresholds: Thresholds,
    limits: Limits,
}

impl Default for Judge {
    /// The default sanitizer; system texts cleaned only (operators write
    /// system prompts, which read like injections); user, assistant and
    /// tool texts scored, blocked at high confidence and flagged below it.
    fn default() -> Self {
        let mut policies = [Policy::Block; 4];
        policies[Role::System.index()] = Policy::Sanitize;
        Self {
            sanitizer: Sanitizer::default(),
            policies,
            thresholds: Thresholds::default(),
            limits: Limits::default(),
        }
    }
}

/// The judgement of one text.
#[derive(Clone, Debug, PartialEq)]
pub struct Judgement {
    /// The verdict under the role's policy.
    pub verdict: Verdict,
    /// What detection found (empty when the policy does not score).
    pub detection: Detection,
    /// Whether the text is over its role's character limit.
    pub too_long: bool,
}

impl Judge {
    /// A judge with `sanitizer` and the default policies.
    pub fn new(sanitizer: Sanitizer) -> Self {
        Self {
            sanitizer,
            ..Self::default()
        }
    }

    /// The sanitizer.
    pub fn sanitizer(&self) -> &Sanitizer {
        &self.sanitizer
    }

    /// The policy of `role`.
    pub fn policy(&self, role: Role) -> Policy {
        self.policies[role.index()]
    }

    /// Sets the policy of `role`.
    pub fn set_policy(&mut self, role: Role, policy: Policy) {
        self.policies[role.index()] = policy;
    }

    /// The thresholds.
    pub fn thresholds(&self) -> Thresholds {
        self.thresholds
    }

    /// Sets the thresholds (validate them first with [`Thresholds::validate`]).
    pub fn set_thresholds(&mut self, thresholds: Thresholds) {
        self.thresholds = thresholds;
    }

    /// The limits.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The limits, to change.
    pub fn limits_mut(&mut self) -> &mut Limits {
        &mut self.limits
    }

    /// Judges one text of `role`, whose length in characters is `chars`.
    pub fn judge(&self, role: Role, text: &str, chars: usize) -> Judgement {
        let policy = self.policy(role);
        let too_long = chars > self.limits.per_field(role);
        if !policy.scores() {
            return Judgement {
                verdict: Verdict::Allow,
                detection: Detection::default(),
                too_long,
            };
        }
        let detection = self.sanitizer.detect(text);
        let mut verdict = detection.verdict(self.thresholds);
        if policy == Policy::Flag && verdict == Verdict::Block {
            verdict = Verdict::Flag;
        }
        Judgement {
            verdict,
            detection,
            too_long,
        }
    }
}
