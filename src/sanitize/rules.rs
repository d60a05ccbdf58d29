//! Detection rules: what a rule is, how a set of them is compiled, and how
//! a text is matched against the set.

use std::borrow::Cow;
use std::fmt;

use super::segment::Vocabulary;
use super::walk::{Passed, Walker};
use regex_automata::hybrid::dfa::{Cache as ReverseCache, DFA as ReverseDfa};
use regex_automata::meta::Regex;
use regex_automata::nfa::thompson;
use regex_automata::util::syntax;
use regex_automata::{Anchored, Input};
use regex_syntax::hir::literal::{ExtractKind, Extractor};
use regex_syntax::hir::{Class, Hir, HirKind, Look};

/// The family of attack a rule detects.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Family {
    /// "Ignore previous instructions" and other attempts to replace the
    /// operator's instructions.
    InstructionOverride,
    /// Persona jailbreaks: DAN, developer mode, "an AI without restrictions".
    RolePlay,
    /// Attempts to make the model reveal its system prompt or secrets.
    PromptExfiltration,
    /// Chat-template tokens and delimiters (`<|im_start|>`, `[INST]`).
    TemplateInjection,
    /// Text dressed up as a system, developer or tool message.
    FakeMessage,
    /// An attack split into pieces to be joined by the model.
    PayloadSplitting,
    /// Markdown images or links that carry data out to a URL.
    LinkExfiltration,
    /// Instructions hidden in encodings or invisible characters.
    Obfuscation,
    /// Text that talks about attacks (defending against them, explaining
    /// them) rather than performing one: it caps the verdict at flag.
    Meta,
}

impl Family {
    /// Every family.
    pub const ALL: [Family; 9] = [
        Family::InstructionOverride,
        Family::RolePlay,
        Family::PromptExfiltration,
        Family::TemplateInjection,
        Family::FakeMessage,
        Family::PayloadSplitting,
        Family::LinkExfiltration,
        Family::Obfuscation,
        Family::Meta,
    ];

    /// A short stable name, used in metrics labels and reports.
    pub const fn as_str(self) -> &'static str {
        match self {
            Family::InstructionOverride => "instruction_override",
            Family::RolePlay => "role_play",
            Family::PromptExfiltration => "prompt_exfiltration",
            Family::TemplateInjection => "template_injection",
            Family::FakeMessage => "fake_message",
            Family::PayloadSplitting => "payload_splitting",
            Family::LinkExfiltration => "link_exfiltration",
            Family::Obfuscation => "obfuscation",
            Family::Meta => "meta",
        }
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A detection rule: an id, a family, a weight in `(0, 1]`, and a pattern
/// matched against the normalised view of the text (lower case, see the
/// [module docs](super) for what normalisation does).
///
/// Patterns are regular expressions with three conveniences: a space stands
/// for any run of separators between words (spaces, punctuation), ` ?` for
/// an optional such run, and ` <N> ` for up to `N` words in between. A pattern of ASCII only is matched
/// with ASCII classes and word boundaries (fast); one with other characters
/// with Unicode ones.
///
/// ```
/// use spark_tower::sanitize::{Family, Rule};
///
/// let rule = Rule::new("custom.wire-money", Family::InstructionOverride, 0.9,
///     r"\bwire <3> money to\b");
/// assert_eq!(rule.id(), "custom.wire-money");
/// ```
#[derive(Clone, Debug)]
pub struct Rule {
    id: Cow<'static, str>,
    family: Family,
    weight: f32,
    pattern: Cow<'static, str>,
}

impl Rule {
    /// A rule; it is checked when the rule set is built.
    pub fn new(
        id: impl Into<Cow<'static, str>>,
        family: Family,
        weight: f32,
        pattern: impl Into<Cow<'static, str>>,
    ) -> Self {
        Self {
            id: id.into(),
            family,
            weight,
            pattern: pattern.into(),
        }
    }

    /// The rule's id, reported when it matches.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The rule's family.
    pub fn family(&self) -> Family {
        self.family
    }

    /// The rule's weight.
    pub fn weight(&self) -> f32 {
        self.weight
    }

    /// The pattern as written.
    pub fn pattern(&self) -> &str {
        &self.pattern
    }

    /// The pattern as the regular expression that runs (conveniences
    /// expanded), and whether it uses Unicode classes (a pattern of ASCII
    /// only does not).
    pub fn regex(&self) -> (String, bool) {
        (expand(&self.pattern), !self.pattern.is_ascii())
    }

    pub(crate) fn set_weight(&mut self, weight: f32) {
        self.weight = weight;
    }
}

/// A rule that cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RuleError {
    /// The pattern is not a valid regular expression.
    #[error("rule {id}: invalid pattern: {reason}")]
    Pattern {
        /// The rule's id.
        id: String,
        /// What the regex parser said.
        reason: String,
    },
    /// The weight is not in `(0, 1]`.
    #[error("rule {id}: weight {weight} is not in (0, 1]")]
    Weight {
        /// The rule's id.
        id: String,
        /// The weight given.
        weight: f32,
    },
    /// Two rules share an id.
    #[error("rule {id}: id used twice")]
    DuplicateId {
        /// The id.
        id: String,
    },
    /// An id given to disable or reweight names no rule.
    #[error("rule {id}: no such rule")]
    Unknown {
        /// The id.
        id: String,
    },
    /// The saturation level is not in `(0, 1]`.
    #[error("saturation {0} is not in (0, 1]")]
    Saturation(f32),
    /// A threshold is not in `(0, 1]` or flag is above block.
    #[error("threshold {0}")]
    Threshold(String),
}

const ASCII_SEP: &str = "[^a-z0-9]+";
const ASCII_WORD: &str = "[a-z0-9']+";
const UNICODE_SEP: &str = r"[^\w]+";
const UNICODE_WORD: &str = r"[\w']+";

/// Expands the pattern conveniences into a regular expression.
pub(crate) fn expand(pattern: &str) -> String {
    let (sep, word) = if pattern.is_ascii() {
        (ASCII_SEP, ASCII_WORD)
    } else {
        (UNICODE_SEP, UNICODE_WORD)
    };
    let mut out = String::with_capacity(pattern.len() * 2);
    let mut rest = pattern;
    while let Some(space) = rest.find(' ') {
        out.push_str(&rest[..space]);
        rest = &rest[space + 1..];
        // ` ?`: an optional separator.
        if let Some(after) = rest.strip_prefix('?') {
            out.push_str(&format!("(?:{sep})?"));
            rest = after;
            continue;
        }
        // ` <N> `: up to N words in between.
        if let Some(after) = rest.strip_prefix('<')
            && let Some(close) = after.find("> ")
            && let Ok(n) = after[..close].parse::<u8>()
        {
            out.push_str(&format!("(?:{sep}{word}){{0,{n}}}{sep}"));
            rest = &after[close + 2..];
            continue;
        }
        out.push_str(sep);
    }
    out.push_str(rest);
    out
}

/// Whether normalisation leaves `c` as it is, so a pattern may contain it.
fn survives_normalisation(c: char) -> bool {
    let mut view = super::normalize::View::default();
    let mut buf = [0u8; 4];
    view.build(c.encode_utf8(&mut buf));
    // Separators become spaces and are matched by the pattern's own classes.
    view.text.is_empty() || view.text == " " || view.text.chars().eq([c])
}

/// A compiled rule.
#[derive(Debug)]
pub(crate) struct Compiled {
    pub rule: Rule,
    pub regex: Regex,
    /// Whether every match starts at one of its prefixes, or (with a
    /// reverse automaton) ends at one of its suffixes: the regex then runs
    /// only there.
    anchored: bool,
    /// For a rule anchored by its suffixes (it has no usable prefix): a
    /// reverse automaton run backwards from where a suffix ends.
    reverse: Option<ReverseDfa>,
    /// Its range of [`RuleSet::anchor_literals`].
    anchor_literals: std::ops::Range<usize>,
}

/// Rules compiled for matching: an Aho-Corasick automaton over the literals
/// every match of a pattern must hold (its prefixes, suffixes and required
/// words, see [`required_literals`]) finds the candidates in one pass: a rule
/// runs only once a literal of each of its gate groups (see [`gates`]) was
/// seen, and then only where its anchors stand (see [`Anchors`]). Rules with
/// no usable literal always run.
#[derive(Debug)]
pub(crate) struct RuleSet {
    pub rules: Vec<Compiled>,
    prefilter: Option<Walker>,
    /// For each automaton pattern (a distinct literal), the rules it gates.
    owners: Vec<Owner>,
    /// For each automaton pattern, the rules it anchors.
    anchors: Vec<Anchor>,
    /// For each automaton pattern, its range of `owners` and its length.
    literals: Vec<PrefilterLiteral>,
    /// For each rule, the automaton patterns that anchor it (see
    /// [`Compiled::anchor_literals`]).
    anchor_literals: Vec<u32>,
    /// For each match state of the walk, its first gate literal (one with
    /// owners) or the sentinel (the last of `literals`), and that
    /// literal's length, with [`MORE_GATES`] when the state ends others.
    state_gates: Vec<(u32, u32)>,
    /// For each rule, the groups that must all be seen before it runs.
    needs: Vec<u8>,
    /// For each rule, its place in the order open rules are tried: meta
    /// rules first (they are tried whatever the score), then the heaviest,
    /// so the score saturates after the fewest attempts; the catalogue's
    /// order between equals. The low 16 bits ([`ORDER_RULE`]) are the
    /// rule's index.
    order: Vec<u32>,
    /// Unique among the rule sets of this process.
    id: u64,
    always: Vec<u16>,
    /// The score past which only meta rules are still tried (see
    /// [`RuleSet::matches`]).
    saturation: f32,
    /// The words of the rules' patterns, for splitting spaced-out letters
    /// that ran together.
    pub vocabulary: Vocabulary,
}

/// The default saturation: a score that every verdict threshold up to it
/// has already decided.
pub(crate) const SATURATION: f32 = 0.99;

/// A rule a literal of the prefilter gates, and how.
#[derive(Clone, Copy, Debug)]
struct Owner {
    rule: u16,
    /// The groups it stands for anywhere.
    any: u8,
    /// The groups it stands for only after a byte outside `[a-z0-9]` (see
    /// [`Lit`]).
    if_clear: u8,
}

/// A rule a literal of the prefilter anchors: [`ANCHOR_START`] or
/// [`ANCHOR_END`], with [`ANCHOR_CLEAR`] when it must be clear to.
#[derive(Clone, Copy, Debug)]
struct Anchor {
    rule: u16,
    kind: u8,
}

const ANCHOR_START: u8 = 1;
const ANCHOR_END: u8 = 2;
const ANCHOR_CLEAR: u8 = 4;

/// A distinct literal of the prefilter.
#[derive(Debug)]
struct PrefilterLiteral {
    /// Its range of `owners`.
    owners: std::ops::Range<usize>,
    /// Its range of `anchors`.
    anchors: std::ops::Range<usize>,
    len: u32,
}

/// The rule's index in a [`RuleSet::order`] key.
const ORDER_RULE: u32 = 0xFFFF;

/// In [`RuleSet::state_gates`]: the state ends more than one gate literal.
const MORE_GATES: u32 = 1 << 31;

/// Whether the literal starting at `start` follows a byte outside
/// `[a-z0-9]` (or starts the text), as clear literals must (see [`Lit`]).
#[inline]
fn follows_clear(haystack: &[u8], start: usize) -> bool {
    start == 0 || CLEAR_AFTER[haystack[start - 1] as usize]
}

/// Whether a byte is outside `[a-z0-9]`: one load in the first pass over
/// the walk's match states, where two range checks cost more.
static CLEAR_AFTER: [bool; 256] = {
    let mut table = [true; 256];
    let mut b = 0;
    while b < 256 {
        if (b >= b'a' as usize && b <= b'z' as usize) || (b >= b'0' as usize && b <= b'9' as usize)
        {
            table[b] = false;
        }
        b += 1;
    }
    table
};

/// Marks a rule as done (checked or already hit) in the scratch marks.
const DONE: u8 = 0x80;
/// A gate literal seen (in the scratch `seen`), and seen clear.
const SEEN: u8 = 1;
const SEEN_CLEAR: u8 = 2;

/// Shortest literal worth a place in the prefilter: shorter ones match too
/// often to save anything.
const MIN_ANCHOR: usize = 3;
/// Shortest prefix literal considered at all.
const MIN_PREFIX: usize = 2;
/// Shortest literal of a selective group: three-letter literals occur
/// inside too many ordinary words (`dan` in `abundant`).
const MIN_SELECTIVE: usize = 4;
/// Most literals a group may hold to be used at all.
const MAX_ANCHORS: usize = 200;

/// Words so frequent in ordinary text that a literal group holding one
/// selects little: such a group is not [`selective`] and ranks after those
/// that are.
const COMMON: &[&str] = &[
    "the", "and", "all", "any", "you", "your", "for", "with", "that", "this", "what", "have",
    "has", "was", "are", "not", "but", "can", "will", "from", "its", "our", "they", "then", "now",
    "when", "who", "how", "get", "put", "say", "use", "one", "new", "see", "set", "add", "out",
    "way", "his", "her", "him", "had", "did", "does", "may", "own", "too", "also", "just", "more",
    "some", "than", "them", "into", "only", "over", "such", "each", "very", "make", "like", "time",
    "been", "were", "there", "their", "about", "which", "would", "could", "should", "other",
    "these", "those", "every", "give", "tell", "show", "list", "write", "print", "text", "let",
    "off", "per", "end", "answer", "before", "after", "read", "continue", "here", "must", "need",
    "want", "know", "take", "come", "work", "good", "well", "back", "even", "most", "many", "much",
    "where", "while", "being", "same", "still", "first", "again", "think", "help", "please",
    "thing", "things", "user", "data", "code", "name", "file", "line", "word", "words", "next",
    "last", "part", "form", "mode", "type", "true", "false", "none", "null", "test",
];

/// The most frequent words of all: a group holding one of these matches
/// every few dozen bytes and never gates a rule that has other groups.
const VERY_COMMON: &[&str] = &[
    "the", "and", "you", "your", "for", "with", "that", "this", "are", "not", "but", "can", "all",
    "any", "have", "was", "will", "from", "they", "one", "its", "our", "his", "her", "him", "has",
    "had", "who", "how", "what", "when", "which", "there", "their", "about",
];

/// Whether a group may gate a rule beside selective ones: three bytes or
/// more, and no word of the very most frequent.
fn medium(group: &[Lit]) -> bool {
    group.iter().all(|l| {
        l.bytes.len() >= MIN_ANCHOR && !VERY_COMMON.iter().any(|c| c.as_bytes() == l.bytes)
    })
}

fn is_common(literal: &[u8]) -> bool {
    COMMON.iter().any(|c| c.as_bytes() == literal)
}

/// Whether a literal group rarely occurs in ordinary text: every literal is
/// long enough and none is a common word. Selective groups gate a rule
/// first (see [`gates`]).
fn selective(group: &[Lit]) -> bool {
    group
        .iter()
        .all(|l| l.bytes.len() >= MIN_SELECTIVE && !is_common(&l.bytes))
}

/// Most literal groups one rule is gated by (all must be seen).
const MAX_GROUPS: usize = 7;

/// A set of literals of which every match holds one.
type LiteralGroup = Vec<Lit>;

/// A literal of a group, and whether it is clear: every occurrence that can
/// be part of a match follows a byte outside `[a-z0-9]` (or starts the
/// text), so `dan` inside `abundant` opens no gate (see [`Before`]).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Lit {
    bytes: Vec<u8>,
    clear: bool,
}

/// Notes in `group` what is known before each of its literals.
fn with_before(mut group: LiteralGroup, before: Before) -> LiteralGroup {
    for literal in &mut group {
        literal.clear = before.clears(&literal.bytes);
    }
    group
}

/// What is known of the byte before a position in the view.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Before {
    /// Nothing.
    Unknown,
    /// A word boundary: before a literal starting with a word character,
    /// a byte that is not one (or the start of the text).
    Boundary,
    /// A byte outside `[a-z0-9]`, or the start of the text.
    NotAlnum,
}

impl Before {
    /// The weaker of two facts: what holds on either of two paths.
    fn meet(self, other: Self) -> Self {
        match (self, other) {
            (Before::NotAlnum, Before::NotAlnum) => Before::NotAlnum,
            (Before::Unknown, _) | (_, Before::Unknown) => Before::Unknown,
            _ => Before::Boundary,
        }
    }

    /// Both facts at once: what holds where both do.
    fn and(self, other: Self) -> Self {
        match (self, other) {
            (Before::NotAlnum, _) | (_, Before::NotAlnum) => Before::NotAlnum,
            (Before::Boundary, _) | (_, Before::Boundary) => Before::Boundary,
            _ => Before::Unknown,
        }
    }

    /// Whether a literal found in the text right after this can be part of
    /// a match only where the byte before it is outside `[a-z0-9]`.
    fn clears(self, literal: &[u8]) -> bool {
        match self {
            Before::NotAlnum => true,
            Before::Boundary => literal
                .first()
                .is_some_and(|&b| b.is_ascii_alphanumeric() || b == b'_'),
            Before::Unknown => false,
        }
    }
}

/// What a zero-width assertion says of the byte before its position.
fn look_before(look: Look) -> Before {
    match look {
        Look::Start | Look::StartLF | Look::StartCRLF => Before::NotAlnum,
        Look::WordStartAscii
        | Look::WordStartUnicode
        | Look::WordStartHalfAscii
        | Look::WordStartHalfUnicode => Before::NotAlnum,
        Look::WordAscii | Look::WordUnicode => Before::Boundary,
        _ => Before::Unknown,
    }
}

/// Whether no character of a class is in `[a-z0-9]` (its last byte then
/// never is: the bytes of a multi-byte character are all 0x80 or above).
fn class_not_alnum(class: &Class) -> bool {
    let clear = |lo: u32, hi: u32| {
        [('a' as u32, 'z' as u32), ('0' as u32, '9' as u32)]
            .iter()
            .all(|&(a, z)| hi < a || lo > z)
    };
    match class {
        Class::Unicode(c) => c.iter().all(|r| clear(r.start() as u32, r.end() as u32)),
        Class::Bytes(c) => c.iter().all(|r| clear(r.start().into(), r.end().into())),
    }
}

/// What is known of the byte before the first byte a match of `hir`
/// consumes, given what is known before `hir`: its leading assertions add
/// to it.
fn start_before(hir: &Hir, before: Before) -> Before {
    match hir.kind() {
        HirKind::Look(look) => before.and(look_before(*look)),
        HirKind::Capture(capture) => start_before(&capture.sub, before),
        HirKind::Concat(parts) => {
            let mut at = before;
            for part in parts {
                match part.kind() {
                    HirKind::Look(look) => at = at.and(look_before(*look)),
                    _ => return start_before(part, at),
                }
            }
            at
        }
        HirKind::Alternation(branches) => branches
            .iter()
            .map(|b| start_before(b, before))
            .reduce(Before::meet)
            .unwrap_or(before),
        _ => before,
    }
}

/// What is known of the last byte of a match of `hir` (the byte before
/// the position after it), given what is known before `hir`.
fn end_before(hir: &Hir, before: Before) -> Before {
    match hir.kind() {
        HirKind::Empty => before,
        HirKind::Look(look) => before.and(look_before(*look)),
        HirKind::Literal(literal) => match literal.0.last() {
            Some(b) if !b.is_ascii_alphanumeric() => Before::NotAlnum,
            Some(_) => Before::Unknown,
            None => before,
        },
        HirKind::Class(class) if class_not_alnum(class) => Before::NotAlnum,
        HirKind::Class(_) => Before::Unknown,
        HirKind::Capture(capture) => end_before(&capture.sub, before),
        HirKind::Repetition(rep) => {
            let once = end_before(&rep.sub, before);
            // More repetitions end the way one does.
            let more = end_before(&rep.sub, once).meet(once);
            if rep.min == 0 {
                more.meet(before)
            } else {
                more
            }
        }
        HirKind::Concat(parts) => parts.iter().fold(before, |at, part| end_before(part, at)),
        HirKind::Alternation(branches) => branches
            .iter()
            .map(|b| end_before(b, before))
            .reduce(Before::meet)
            .unwrap_or(before),
    }
}

/// Sets of literals of which every match of `hir` holds one each: its
/// prefixes and its suffixes (also returned apart: a match starts at one of
/// the first and ends at one of the second), and the required parts found
/// by [`part_groups`] (`ignore <4> previous <3> instructions` needs a verb,
/// a "previous" and a noun). Sets with short or too many literals are left
/// out; the rest come rarest first (see [`group_rank`]).
fn required_literals(
    hir: &Hir,
) -> (
    Option<LiteralGroup>,
    Option<LiteralGroup>,
    Vec<LiteralGroup>,
) {
    let usable = |hir: &Hir, kind, min: usize| {
        let seq = Extractor::new().kind(kind).extract(hir);
        seq.literals()
            .filter(|literals| {
                !literals.is_empty()
                    && literals.len() <= MAX_ANCHORS
                    && literals.iter().all(|l| l.as_bytes().len() >= min)
            })
            .map(|literals| {
                let mut set: LiteralGroup = literals
                    .iter()
                    .map(|l| Lit {
                        bytes: l.as_bytes().to_vec(),
                        clear: false,
                    })
                    .collect();
                set.sort();
                set.dedup();
                set
            })
    };
    let prefix = usable(hir, ExtractKind::Prefix, MIN_PREFIX)
        .map(|p| with_before(p, start_before(hir, Before::Unknown)));
    let mut groups: Vec<LiteralGroup> = Vec::new();
    let mut push = |set: Option<LiteralGroup>| {
        if let Some(set) = set
            && !groups.contains(&set)
            && prefix.as_ref() != Some(&set)
        {
            groups.push(set);
        }
    };
    // Where a suffix starts is not known: its literals are not clear.
    let suffix = usable(hir, ExtractKind::Suffix, MIN_ANCHOR);
    push(suffix.clone());
    let mut inner = Vec::new();
    part_groups(hir, Before::Unknown, &usable, &mut inner);
    for set in inner {
        push(Some(set));
    }
    groups.sort_by_key(group_rank);
    (prefix, suffix, groups)
}

/// Adds to `out` literal groups every match of `hir` holds one of: the
/// prefixes of each part of a concatenation, searched through groups and
/// repetitions, and for an alternation the union of one group of each
/// branch. `before` is what is known of the byte before `hir`.
fn part_groups(
    hir: &Hir,
    before: Before,
    usable: &impl Fn(&Hir, ExtractKind, usize) -> Option<LiteralGroup>,
    out: &mut Vec<LiteralGroup>,
) {
    match hir.kind() {
        HirKind::Capture(capture) => part_groups(&capture.sub, before, usable, out),
        HirKind::Repetition(rep) if rep.min > 0 => {
            // A later repetition follows the end of an earlier one.
            let again = end_before(&rep.sub, before).meet(before);
            part_groups(&rep.sub, again, usable, out)
        }
        HirKind::Concat(parts) => {
            let mut at = before;
            for part in parts {
                if let Some(set) = usable(part, ExtractKind::Prefix, MIN_ANCHOR) {
                    out.push(with_before(set, start_before(part, at)));
                } else if let HirKind::Literal(literal) = part.kind()
                    && literal
                        .0
                        .iter()
                        .all(|&b| b.is_ascii_punctuation() || b == b'\n')
                {
                    // Punctuation (`:` of a transcript, `=` of an assignment)
                    // is short but rare in prose: a gate for rules that have
                    // nothing better.
                    out.push(vec![Lit {
                        bytes: literal.0.to_vec(),
                        clear: false,
                    }]);
                }
                part_groups(part, at, usable, out);
                at = end_before(part, at);
            }
        }
        HirKind::Alternation(branches) => {
            let mut union: LiteralGroup = Vec::new();
            for branch in branches {
                let mut found = Vec::new();
                if let Some(set) = usable(branch, ExtractKind::Prefix, MIN_ANCHOR) {
                    found.push(with_before(set, start_before(branch, before)));
                }
                part_groups(branch, before, usable, &mut found);
                let Some(best) = found.into_iter().min_by_key(group_rank) else {
                    return;
                };
                union.extend(best);
            }
            // A literal clear in one branch and not in another is not.
            union.sort();
            union.dedup_by(|later, first| later.bytes == first.bytes);
            if union.len() <= MAX_ANCHORS {
                out.push(union);
            }
        }
        _ => {}
    }
}

/// Orders literal groups rarest first: no common word, then the longest
/// shortest literal, then the fewest literals.
fn group_rank(set: &LiteralGroup) -> (bool, std::cmp::Reverse<usize>, usize) {
    let common = set.iter().any(|l| is_common(&l.bytes));
    let shortest = set.iter().map(|l| l.bytes.len()).min().unwrap_or(0);
    (common, std::cmp::Reverse(shortest), set.len())
}

/// The literal groups that gate a rule, all of which must be seen before
/// its regex runs, and the group it is anchored by: its prefixes, where
/// every match starts, if they are three bytes or longer.
///
/// A rule with selective groups is gated by those, rarest first, and by the
/// groups that hold no very frequent word: a `the` would let the gate open
/// on any text. A rule with no selective group is gated by the groups it
/// has.
fn gates(
    prefix: Option<LiteralGroup>,
    groups: Vec<LiteralGroup>,
) -> (Vec<LiteralGroup>, Option<LiteralGroup>) {
    let anchor = prefix.filter(|p| p.iter().all(|l| l.bytes.len() >= MIN_PREFIX));
    let all: Vec<&LiteralGroup> = anchor.iter().chain(&groups).collect();
    // Prefer selective groups; failing those, any without a very frequent
    // word; failing those, whatever the rule has.
    let keep: fn(&[Lit]) -> bool =
        if all.iter().any(|g| selective(g)) || all.iter().any(|g| medium(g)) {
            medium
        } else {
            |_| true
        };
    let mut gates: Vec<LiteralGroup> = all.into_iter().filter(|g| keep(g)).cloned().collect();
    // Selective groups first (stable: the prefix stays ahead of its peers).
    gates.sort_by_key(|group| !selective(group));
    gates.truncate(MAX_GROUPS);
    (gates, anchor)
}

impl RuleSet {
    pub fn compile(rules: Vec<Rule>) -> Result<Self, RuleError> {
        let mut compiled = Vec::with_capacity(rules.len());
        let mut walk_literals: Vec<Vec<u8>> = Vec::new();
        let mut patterns: std::collections::HashMap<Vec<u8>, usize> = Default::default();
        let mut by_pattern: Vec<(Vec<Owner>, Vec<Anchor>)> = Vec::new();
        let mut needs = Vec::new();
        let mut always = Vec::new();
        let mut anchor_literals: Vec<u32> = Vec::new();
        let mut ids = std::collections::HashSet::new();
        let mut vocabulary = Vocabulary::new();
        for rule in rules {
            if !(rule.weight > 0.0 && rule.weight <= 1.0) {
                return Err(RuleError::Weight {
                    id: rule.id.to_string(),
                    weight: rule.weight,
                });
            }
            if !ids.insert(rule.id.clone()) {
                return Err(RuleError::DuplicateId {
                    id: rule.id.to_string(),
                });
            }
            if let Some(c) = rule.pattern.chars().find(|&c| {
                (c.is_ascii_control() && c != '\n') || (!c.is_ascii() && !survives_normalisation(c))
            }) {
                return Err(RuleError::Pattern {
                    id: rule.id.to_string(),
                    reason: format!(
                        "{c:?} never occurs in the normalised view (write it in lower case without diacritics)"
                    ),
                });
            }
            let expanded = expand(&rule.pattern);
            let unicode = !rule.pattern.is_ascii();
            let invalid = |reason: String| RuleError::Pattern {
                id: rule.id.to_string(),
                reason,
            };
            let regex = Regex::builder()
                .syntax(syntax::Config::new().unicode(unicode).utf8(false))
                .configure(Regex::config().nfa_size_limit(Some(4 << 20)))
                .build(&expanded)
                .map_err(|e| invalid(e.to_string()))?;
            let hir = regex_syntax::ParserBuilder::new()
                .unicode(unicode)
                .utf8(false)
                .build()
                .parse(&expanded)
                .map_err(|e| invalid(e.to_string()))?;
            vocabulary.add_pattern(&hir);
            let index = compiled.len() as u16;
            let (prefix, suffix, groups) = required_literals(&hir);
            let (gates, anchor) = gates(prefix, groups);
            // Without a prefix, the suffixes anchor a reverse search.
            // A prefix as frequent as `the` would be tried everywhere: the
            // suffixes, when there are some, anchor better.
            let anchor = anchor.filter(|a| medium(a) || suffix.is_none());
            let end_anchor = suffix.filter(|_| anchor.is_none());
            let reverse = match &end_anchor {
                Some(_) => Some(
                    ReverseDfa::builder()
                        .syntax(syntax::Config::new().unicode(unicode).utf8(false))
                        .thompson(thompson::Config::new().reverse(true))
                        .configure(ReverseDfa::config().unicode_word_boundary(true))
                        .build(&expanded)
                        .map_err(|e| invalid(e.to_string()))?,
                ),
                None => None,
            };
            let mut need = 0u8;
            // The anchor group, and where its literals put a match.
            let anchor = match (anchor, end_anchor) {
                (Some(start), _) => Some((start, ANCHOR_START)),
                (None, Some(end)) => Some((end, ANCHOR_END)),
                (None, None) => None,
            };
            let first_anchor_literal = anchor_literals.len();
            let mut add = |literals: LiteralGroup, bit: u8, place: u8| {
                for Lit { bytes, clear } in literals {
                    let pattern = *patterns.entry(bytes.clone()).or_insert_with(|| {
                        walk_literals.push(bytes);
                        by_pattern.push(Default::default());
                        walk_literals.len() - 1
                    });
                    let (owners, anchors) = &mut by_pattern[pattern];
                    if bit != 0 {
                        // One entry per rule and literal, whatever its groups.
                        let (any, if_clear) = if clear { (0, bit) } else { (bit, 0) };
                        match owners.last_mut() {
                            Some(entry) if entry.rule == index => {
                                entry.any |= any;
                                entry.if_clear |= if_clear;
                            }
                            _ => owners.push(Owner {
                                rule: index,
                                any,
                                if_clear,
                            }),
                        }
                    }
                    if place != 0 {
                        let kind = if clear { place | ANCHOR_CLEAR } else { place };
                        anchors.push(Anchor { rule: index, kind });
                        anchor_literals.push(pattern as u32);
                    }
                }
            };
            let mut anchor_gates = false;
            for (g, literals) in gates.into_iter().enumerate() {
                let bit = 1u8 << g;
                need |= bit;
                let place = match &anchor {
                    Some((a, kind)) if *a == literals => {
                        anchor_gates = true;
                        *kind
                    }
                    _ => 0,
                };
                add(literals, bit, place);
            }
            let anchored = anchor.is_some();
            if !anchor_gates && let Some((literals, kind)) = anchor {
                // Found by the walk too, though they gate nothing.
                add(literals, 0, kind);
            }
            // A pattern that never matches (the rules the engine raises
            // itself) is never run.
            let never = hir.properties().minimum_len().is_none();
            if need == 0 && !never {
                always.push(index);
            }
            needs.push(need);
            compiled.push(Compiled {
                rule,
                regex,
                anchored,
                reverse,
                anchor_literals: first_anchor_literal..anchor_literals.len(),
            });
        }
        let (mut owners, mut anchors) = (Vec::new(), Vec::new());
        let mut literals = Vec::with_capacity(by_pattern.len());
        for ((gated, anchored), literal) in by_pattern.into_iter().zip(&walk_literals) {
            let (first_owner, first_anchor) = (owners.len(), anchors.len());
            owners.extend(gated);
            anchors.extend(anchored);
            literals.push(PrefilterLiteral {
                owners: first_owner..owners.len(),
                anchors: first_anchor..anchors.len(),
                len: literal.len() as u32,
            });
        }
        let prefilter = if walk_literals.is_empty() {
            None
        } else {
            Some(Walker::new(&walk_literals).map_err(|_| RuleError::Pattern {
                id: "<prefilter>".into(),
                reason: "too many literals".into(),
            })?)
        };
        // Per match state, what the first pass needs (see `matches`).
        let mut state_gates = Vec::new();
        let sentinel = literals.len() as u32;
        if let Some(walker) = &prefilter {
            for m in 0..walker.match_states() {
                let mut gates = walker
                    .literals(m)
                    .iter()
                    .filter(|&&l| !literals[l as usize].owners.is_empty());
                state_gates.push(match gates.next() {
                    Some(&l) => {
                        let more = if gates.next().is_some() {
                            MORE_GATES
                        } else {
                            0
                        };
                        (l, literals[l as usize].len | more)
                    }
                    None => (sentinel, 1),
                });
            }
        }
        literals.push(PrefilterLiteral {
            owners: 0..0,
            anchors: 0..0,
            len: 1,
        });
        let order = compiled
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let meta = u32::from(c.rule.family() != Family::Meta);
                let lightness = ((1.0 - c.rule.weight()) * 1000.0).round() as u32;
                meta << 31 | lightness << 16 | i as u32
            })
            .collect();
        Ok(Self {
            rules: compiled,
            prefilter,
            owners,
            anchors,
            literals,
            order,
            anchor_literals,
            state_gates,
            needs,
            always,
            id: NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            saturation: SATURATION,
            vocabulary,
        })
    }

    /// Adds the index of every rule matching `text` to `hits` (once each),
    /// using `scratch`.
    ///
    /// One Aho-Corasick pass finds the rules whose gate groups are all
    /// present, where their prefixes stand and where their suffixes end;
    /// each such rule's regex then runs anchored at those places (forwards
    /// from a prefix, backwards from a suffix), so its cost is that of the
    /// few words around each place. A rule with no anchor, or with more
    /// places than a whole search would cost, searches the text once.
    ///
    /// Meta rules are tried first, then the others heaviest first (see
    /// [`RuleSet::order`]). Once the hits (those already in `hits`
    /// included) give a score at or above the saturation level, no verdict
    /// threshold up to it can change, and no further rule is tried: an
    /// attack-dense text stops costing once it is certainly an attack.
    pub fn matches(&self, text: &str, scratch: &mut MatchScratch, hits: &mut Vec<u16>) {
        let MatchScratch {
            marks,
            states,
            wanted,
            seen,
            touched,
            opened,
            round,
            stage,
            placed,
            caches,
            reverse_caches,
            owner,
        } = scratch;
        // One search cache per rule, kept with the thread's scratch: the
        // many short anchored searches skip the regex's shared cache pool.
        // A thread may use several rule sets: caches belong to one.
        if *owner != self.id {
            caches.clear();
            caches.extend(self.rules.iter().map(|c| c.regex.create_cache()));
            reverse_caches.clear();
            reverse_caches.extend(
                self.rules
                    .iter()
                    .map(|c| c.reverse.as_ref().map(ReverseCache::new)),
            );
            *owner = self.id;
        }
        marks.clear();
        marks.resize(self.rules.len(), 0);
        for &index in hits.iter() {
            marks[index as usize] = DONE;
        }
        let haystack = text.as_bytes();
        for &index in &self.always {
            if marks[index as usize] & DONE == 0 {
                marks[index as usize] = DONE;
                let input = Input::new(haystack).earliest(true);
                let regex = &self.rules[index as usize].regex;
                if regex
                    .search_half_with(&mut caches[index as usize], &input)
                    .is_some()
                {
                    hits.push(index);
                }
            }
        }
        let Some(prefilter) = &self.prefilter else {
            return;
        };
        // The walk only notes the match states it passes; what they hold is
        // sorted out after, in loops of their own. Every gate literal seen
        // is noted once in `touched`, with whether it was seen clear in
        // `seen` (no branch on what was seen before), so its gates are
        // opened once however often it occurs. A state that ends no gate
        // literal notes the sentinel. Anchors are gathered later, from the
        // same states, only for rules that open.
        let walked = prefilter.walk(haystack, states);
        seen.resize(self.literals.len(), 0);
        wanted.resize(self.literals.len(), 0);
        touched.resize(self.literals.len(), 0);
        // Slices, not the vectors: their lengths and pointers stay in
        // registers across the byte stores.
        let (seen, touched) = (&mut seen[..], &mut touched[..]);
        let mut distinct = 0;
        let mut note = |l: usize, start: usize| {
            let old = seen[l];
            seen[l] = old | SEEN | (SEEN_CLEAR * u8::from(follows_clear(haystack, start)));
            touched[distinct] = l as u32;
            distinct += usize::from(old == 0);
        };
        for &passed in &states[..walked] {
            let (state, at) = (passed.state(), passed.at());
            let m = prefilter.match_index(state);
            let (l, len) = self.state_gates[m];
            note(l as usize, (at + 1 - (len & !MORE_GATES)) as usize);
            if len & MORE_GATES != 0 {
                for &other in &prefilter.literals(m)[1..] {
                    let literal = &self.literals[other as usize];
                    if other != l && !literal.owners.is_empty() {
                        note(other as usize, (at + 1 - literal.len) as usize);
                    }
                }
            }
        }
        // The rules whose last gate group this opens (their order keys):
        // a rule already hit carries `DONE` and never equals its needs.
        opened.clear();
        for &l in &touched[..distinct] {
            let l = l as usize;
            let clear = seen[l] & SEEN_CLEAR != 0;
            seen[l] = 0;
            for owner in &self.owners[self.literals[l].owners.clone()] {
                let rule = owner.rule as usize;
                let before = marks[rule];
                let after = before
                    | if clear {
                        owner.any | owner.if_clear
                    } else {
                        owner.any
                    };
                marks[rule] = after;
                if after != before && after == self.needs[rule] {
                    opened.push(self.order[rule]);
                }
            }
        }
        // Most texts open no rule.
        if opened.is_empty() {
            return;
        }
        opened.sort_unstable();
        placed.resize_with(self.rules.len(), Vec::new);
        stage.clear();
        stage.resize(self.rules.len(), Stage::Waiting);
        let mut keep: f32 = hits.iter().map(|&h| self.keep(h as usize)).product();
        // An anchored attempt fails within a few words; past about one
        // anchor every 16 bytes one search of the whole text is cheaper
        // (a whole search restarts its own prefilter at every such word).
        let most_attempts = haystack.len() / 16 + 8;
        for (next, &key) in opened.iter().enumerate() {
            let i = (key & ORDER_RULE) as usize;
            let rule = &self.rules[i];
            if 1.0 - keep >= self.saturation && rule.rule.family() != Family::Meta {
                // Meta rules came first: none is left.
                for &other in &opened[next..] {
                    placed[(other & ORDER_RULE) as usize].clear();
                }
                break;
            }
            if stage[i] == Stage::Waiting && rule.anchored {
                // Gather, from what the walk found, the anchors of this
                // rule and of the next few open ones (and of every open
                // meta rule, always tried): saturation may come first.
                round.clear();
                for &key in &opened[next..] {
                    let j = (key & ORDER_RULE) as u16;
                    let other = &self.rules[j as usize];
                    let meta = other.rule.family() == Family::Meta;
                    if stage[j as usize] == Stage::Waiting
                        && other.anchored
                        && (round.len() < ROUND || meta)
                    {
                        round.push(j);
                    }
                }
                self.gather(haystack, &states[..walked], wanted, round, stage, placed);
            }
            let places = &mut placed[i];
            places.dedup();
            let found = if !rule.anchored || places.len() > most_attempts {
                None
            } else if let (Some(dfa), Some(cache)) = (&rule.reverse, &mut reverse_caches[i]) {
                ends_at(dfa, cache, haystack, places)
            } else {
                Some(places.iter().any(|&at| {
                    let input = Input::new(haystack)
                        .range(at as usize..)
                        .anchored(Anchored::Yes)
                        .earliest(true);
                    rule.regex
                        .search_half_with(&mut caches[i], &input)
                        .is_some()
                }))
            };
            // No anchors, too many, or a reverse automaton that gave
            // up: one search of the whole text.
            let found = found.unwrap_or_else(|| {
                let input = Input::new(haystack).earliest(true);
                rule.regex
                    .search_half_with(&mut caches[i], &input)
                    .is_some()
            });
            places.clear();
            if found {
                hits.push(i as u16);
                keep *= self.keep(i);
            }
        }
    }

    /// Appends to `placed` where the anchor literals of the rules of
    /// `round` stand, from the match states the walk passed (`states`), and
    /// marks those rules gathered. `wanted` (one byte a literal, all zero)
    /// notes those literals, so the others are passed over at one load
    /// each; it is left zeroed.
    fn gather(
        &self,
        haystack: &[u8],
        states: &[Passed],
        wanted: &mut [u8],
        round: &[u16],
        stage: &mut [Stage],
        placed: &mut [Vec<u32>],
    ) {
        let Some(prefilter) = &self.prefilter else {
            return;
        };
        let literals = || {
            round.iter().flat_map(|&i| {
                &self.anchor_literals[self.rules[i as usize].anchor_literals.clone()]
            })
        };
        for &i in round {
            stage[i as usize] = Stage::Gathering;
        }
        for &l in literals() {
            wanted[l as usize] = 1;
        }
        for &passed in states {
            let (state, at) = (passed.state(), passed.at());
            for &l in prefilter.literals(prefilter.match_index(state)) {
                if wanted[l as usize] == 0 {
                    continue;
                }
                let literal = &self.literals[l as usize];
                let start = at + 1 - literal.len;
                for anchor in &self.anchors[literal.anchors.clone()] {
                    let i = anchor.rule as usize;
                    if stage[i] != Stage::Gathering
                        || (anchor.kind & ANCHOR_CLEAR != 0
                            && !follows_clear(haystack, start as usize))
                    {
                        continue;
                    }
                    let place = if anchor.kind & ANCHOR_END != 0 {
                        at + 1
                    } else {
                        start
                    };
                    placed[i].push(place);
                }
            }
        }
        for &l in literals() {
            wanted[l as usize] = 0;
        }
        for &i in round {
            stage[i as usize] = Stage::Gathered;
        }
    }

    /// What a hit of rule `i` leaves of the score's complement: `1 - weight`,
    /// or 1 for a meta rule (which caps the verdict instead).
    pub(crate) fn keep(&self, i: usize) -> f32 {
        let rule = &self.rules[i].rule;
        if rule.family() == Family::Meta {
            1.0
        } else {
            1.0 - rule.weight()
        }
    }

    /// Sets the saturation level (see [`RuleSet::matches`]).
    pub(crate) fn set_saturation(&mut self, level: f32) {
        self.saturation = level;
    }
}

/// Whether a match of `dfa`'s pattern ends at one of `places`, searching
/// backwards from each; `None` when the automaton gave up (a Unicode word
/// boundary beside non-ASCII text).
fn ends_at(
    dfa: &ReverseDfa,
    cache: &mut ReverseCache,
    haystack: &[u8],
    places: &[u32],
) -> Option<bool> {
    for &at in places {
        let input = Input::new(haystack)
            .range(..at as usize)
            .anchored(Anchored::Yes)
            .earliest(true);
        match dfa.try_search_rev(cache, &input) {
            Ok(Some(_)) => return Some(true),
            Ok(None) => {}
            Err(_) => return None,
        }
    }
    Some(false)
}

/// Whether a rule's anchors were gathered from the walk (see
/// [`RuleSet::gather`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    Waiting,
    Gathering,
    Gathered,
}

/// How many open rules one pass over the walk gathers anchors for.
const ROUND: usize = 8;

/// Per-thread scratch of [`RuleSet::matches`].
#[derive(Debug, Default)]
pub(crate) struct MatchScratch {
    marks: Vec<u8>,
    /// Match states of the prefilter, as walked: state and offset (see
    /// [`Walker::walk`]).
    states: Vec<Passed>,
    /// One byte a prefilter literal, zero between calls: whether it
    /// anchors a rule being gathered (see [`RuleSet::gather`]).
    wanted: Vec<u8>,
    /// One byte a prefilter literal, zero between calls: whether a gate
    /// literal was seen, and seen clear.
    seen: Vec<u8>,
    /// The gate literals seen, each once, at the front (a buffer as long
    /// as the literals).
    touched: Vec<u32>,
    /// The rules whose gates all opened, as their [`RuleSet::order`]
    /// keys, in the order they are tried.
    opened: Vec<u32>,
    /// The rules whose anchors are being gathered (see [`RuleSet::gather`]).
    round: Vec<u16>,
    /// For each rule, whether its anchors were gathered from the walk.
    stage: Vec<Stage>,
    /// For each rule, where the walk found its anchors (filled only for
    /// rules that opened, and emptied as they are tried).
    placed: Vec<Vec<u32>>,
    caches: Vec<regex_automata::meta::Cache>,
    reverse_caches: Vec<Option<ReverseCache>>,
    /// The id of the rule set the caches belong to (0: none).
    owner: u64,
}

/// Ids of compiled rule sets, so scratch caches are never shared between two.
static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expansion() {
        assert_eq!(expand("a b"), format!("a{ASCII_SEP}b"));
        assert_eq!(
            expand("a <2> b"),
            format!("a(?:{ASCII_SEP}{ASCII_WORD}){{0,2}}{ASCII_SEP}b")
        );
        assert_eq!(expand("é b"), format!("é{UNICODE_SEP}b"));
        assert_eq!(expand("a ?b"), format!("a(?:{ASCII_SEP})?b"));
    }

    fn set(rules: &[(&'static str, &'static str)]) -> RuleSet {
        RuleSet::compile(
            rules
                .iter()
                .map(|(id, p)| Rule::new(*id, Family::InstructionOverride, 0.5, *p))
                .collect(),
        )
        .unwrap()
    }

    fn hits(set: &RuleSet, text: &str) -> Vec<String> {
        let mut scratch = MatchScratch::default();
        let mut hits = Vec::new();
        set.matches(text, &mut scratch, &mut hits);
        let mut ids: Vec<String> = hits
            .iter()
            .map(|&i| set.rules[i as usize].rule.id().to_owned())
            .collect();
        ids.sort();
        ids
    }

    #[test]
    fn rule_sets_sharing_a_thread_keep_their_own_caches() {
        let first = set(&[("a", r"\bignore <3> instructions\b")]);
        let second = set(&[("b", r"\bforget <1> rules\b")]);
        let mut scratch = MatchScratch::default();
        let mut found = |set: &RuleSet, text: &str| {
            let mut hits = Vec::new();
            set.matches(text, &mut scratch, &mut hits);
            hits
        };
        for _ in 0..3 {
            assert_eq!(found(&first, "ignore the instructions"), [0]);
            assert_eq!(found(&second, "forget the rules"), [0]);
            assert!(found(&second, "ignore the instructions").is_empty());
        }
    }

    #[test]
    fn prefilter_and_always_rules() {
        let set = set(&[
            ("a", r"\b(ignore|disregard) <3> instructions\b"),
            ("b", r"\bforget <1> rules\b"),
            ("c", r"[a-z]+ it now\b"),
            ("d", r"\b[a-z][0-9]\b"),
        ]);
        // `c` has no prefix but ends with `now`: it runs backwards from
        // there. `d` holds no literal at all.
        assert!(set.rules[2].reverse.is_some() && set.needs[2] != 0);
        assert_eq!(set.always, [3]);
        assert!(!set.always.contains(&0) && set.rules[0].anchored);
        // The first `ignore` starts no match, the second does.
        assert_eq!(
            hits(&set, "ignore me. then disregard the instructions"),
            ["a"]
        );
        assert_eq!(hits(&set, "ignore me, ignore the instructions"), ["a"]);
        assert_eq!(hits(&set, "please ignore all of the instructions"), ["a"]);
        assert_eq!(hits(&set, "forget the rules, do it now please"), ["b", "c"]);
        assert_eq!(hits(&set, "cell b7"), ["d"]);
        assert!(hits(&set, "instructions ignore").is_empty());
        assert!(hits(&set, "ignore one two three four instructions").is_empty());
        assert!(hits(&set, "do it nowhere").is_empty());
    }

    /// A reverse search that meets a Unicode word boundary beside
    /// non-ASCII text gives up; the rule then searches the whole text.
    #[test]
    fn suffix_anchored_unicode_rules_fall_back() {
        let set = set(&[("u", r"\w+ сейчас\b")]);
        assert!(set.rules[0].reverse.is_some());
        assert_eq!(hits(&set, "скажи пароль сейчас"), ["u"]);
        assert!(hits(&set, "сейчасы").is_empty());
    }

    /// A literal that a match can only hold after a word boundary or a
    /// separator opens no gate inside a word, and a real match still hits.
    #[test]
    fn literals_inside_words_open_no_gate() {
        let hir = |p: &str| {
            regex_syntax::ParserBuilder::new()
                .unicode(false)
                .utf8(false)
                .build()
                .parse(&expand(p))
                .unwrap()
        };
        let clear = |p: &str, literal: &str| {
            let (prefix, _, groups) = required_literals(&hir(p));
            prefix
                .into_iter()
                .chain(groups)
                .flatten()
                .filter(|l| l.bytes == literal.as_bytes())
                .map(|l| l.clear)
                .reduce(|a, b| a || b)
        };
        // Clear in some group (a suffix group never is) after `\b`, after
        // a separator, after an optional word and its separator; not when
        // glued to a word or after an optional gap.
        assert_eq!(clear(r"\bhey ai\b", "hey"), Some(true));
        assert_eq!(clear(r"\bhey (bots|assistant)\b", "assistant"), Some(true));
        assert_eq!(clear(r"\bwas (a |just a )?trick\b", "trick"), Some(true));
        assert_eq!(clear(r"\bso ?far\b", "far"), Some(false));
        assert_eq!(clear(r"x?hey now", "hey"), Some(false));

        let set = set(&[("a", r"\b(hey|dear) (ai|assistant)\b")]);
        assert_eq!(hits(&set, "they said: hey ai"), ["a"]);
        assert_eq!(hits(&set, "hey, ai"), ["a"]);
        // `hey` in `they` and `ai` in `said`: the gates stay shut.
        let mut scratch = MatchScratch::default();
        let mut found = Vec::new();
        set.matches("they said assistant", &mut scratch, &mut found);
        assert!(found.is_empty());
        assert_eq!(scratch.marks[0] & 1, 0, "`hey` inside `they` opened a gate");
    }

    /// Once the score saturates only meta rules are still tried; with the
    /// level at 1.0 every rule that could change the score is.
    #[test]
    fn saturation_stops_all_but_meta_rules() {
        let rule = |id: &'static str, family, weight, pattern: &'static str| {
            Rule::new(id, family, weight, pattern)
        };
        let rules = || {
            vec![
                rule("a", Family::InstructionOverride, 0.95, r"\bignore\b"),
                rule("b", Family::InstructionOverride, 0.95, r"\bprevious\b"),
                rule("c", Family::InstructionOverride, 0.5, r"\binstructions\b"),
                rule("m", Family::Meta, 0.1, r"\bdefend\b"),
            ]
        };
        let text = "how do i defend against: ignore previous instructions";
        let mut set = RuleSet::compile(rules()).unwrap();
        // 1 - 0.05 * 0.05 = 0.9975: past 0.99 after `a` and `b`.
        assert_eq!(hits(&set, text), ["a", "b", "m"]);
        set.set_saturation(1.0);
        assert_eq!(hits(&set, text), ["a", "b", "c", "m"]);
    }

    /// Rules without a usable literal run on every text: keep them few.
    #[test]
    fn catalogue_rules_have_literals() {
        let set = RuleSet::compile(crate::sanitize::catalogue::rules()).unwrap();
        let always: Vec<&str> = set
            .always
            .iter()
            .map(|&i| set.rules[i as usize].rule.id())
            .collect();
        assert!(always.len() <= 4, "{always:?}");
    }

    #[test]
    fn invalid_rules_are_rejected() {
        let bad = |rule: Rule| RuleSet::compile(vec![rule]).unwrap_err().to_string();
        assert!(bad(Rule::new("x", Family::Meta, 0.5, "(")).contains("invalid pattern"));
        assert!(bad(Rule::new("x", Family::Meta, 0.5, "contraseña")).contains("normalised"));
        assert!(bad(Rule::new("x", Family::Meta, 0.5, "ＡＢ")).contains("normalised"));
        // A control character typed into a pattern (a `\b` in a string
        // that is not raw) can never match.
        assert!(bad(Rule::new("x", Family::Meta, 0.5, "\x08ignore")).contains("normalised"));
        assert!(bad(Rule::new("x", Family::Meta, 0.0, "a")).contains("weight"));
        assert!(bad(Rule::new("x", Family::Meta, 1.5, "a")).contains("weight"));
        assert!(bad(Rule::new("x", Family::Meta, f32::NAN, "a")).contains("weight"));
        let twice = RuleSet::compile(vec![
            Rule::new("x", Family::Meta, 0.5, "a"),
            Rule::new("x", Family::Meta, 0.5, "b"),
        ]);
        assert!(matches!(twice, Err(RuleError::DuplicateId { .. })));
    }
}
