//! Word boundaries for spaced-out letters that ran together.
//!
//! The view joins letters spaced out one by one (`i g n o r e` → `ignore`),
//! but when the words of a phrase are spaced out with single spaces the
//! word gaps look like the letter gaps: `o u t p u t y o u r` joins into
//! `outputyour`, which no rule reads. [`Vocabulary`] splits such runs again
//! into the words the rules use (gathered from their patterns when they are
//! compiled) and common English words, and the engine scans that second
//! reading as well, so a split can only add matches.

use regex_syntax::hir::{Class, Hir, HirKind};
use std::collections::HashSet;

/// Common English words that rules read around their own words.
const COMMON: &[&str] = &[
    "about",
    "above",
    "after",
    "again",
    "all",
    "also",
    "always",
    "am",
    "an",
    "and",
    "any",
    "anything",
    "are",
    "as",
    "ask",
    "asked",
    "at",
    "be",
    "been",
    "before",
    "begin",
    "below",
    "but",
    "by",
    "can",
    "can't",
    "code",
    "could",
    "data",
    "did",
    "do",
    "does",
    "don't",
    "each",
    "enter",
    "entered",
    "every",
    "everything",
    "explain",
    "for",
    "from",
    "get",
    "give",
    "given",
    "go",
    "going",
    "had",
    "has",
    "have",
    "he",
    "her",
    "here",
    "him",
    "his",
    "how",
    "i'm",
    "if",
    "in",
    "into",
    "is",
    "it",
    "it's",
    "its",
    "just",
    "know",
    "let",
    "like",
    "list",
    "make",
    "me",
    "more",
    "most",
    "must",
    "my",
    "name",
    "named",
    "need",
    "never",
    "new",
    "no",
    "not",
    "now",
    "of",
    "on",
    "one",
    "only",
    "or",
    "other",
    "our",
    "out",
    "please",
    "print",
    "reply",
    "right",
    "rules",
    "said",
    "say",
    "says",
    "secret",
    "see",
    "she",
    "should",
    "show",
    "so",
    "some",
    "start",
    "tell",
    "text",
    "than",
    "that",
    "the",
    "their",
    "them",
    "then",
    "there",
    "these",
    "they",
    "thing",
    "this",
    "those",
    "to",
    "told",
    "up",
    "us",
    "use",
    "user",
    "users",
    "very",
    "was",
    "way",
    "we",
    "we're",
    "were",
    "what",
    "when",
    "where",
    "which",
    "who",
    "why",
    "will",
    "with",
    "without",
    "word",
    "words",
    "would",
    "write",
    "you",
    "you're",
    "your",
];

/// At most this many strings are tracked for one part of a pattern: larger
/// alternations are taken apart into their words.
const MOST_STRINGS: usize = 64;

/// Runs longer than this (in bytes) are left as they are.
const LONGEST_RUN: usize = 512;

/// What an unknown character costs in a split, against 1 for a word: a run
/// is split into as few words as cover it, and left alone where none do.
const UNKNOWN: u32 = 3;

/// The words a split may produce (see the module docs).
#[derive(Debug, Default)]
pub(crate) struct Vocabulary {
    words: HashSet<Box<[u8]>>,
    /// The longest word, in bytes.
    longest: usize,
}

impl Vocabulary {
    /// The common English words alone.
    pub(crate) fn new() -> Self {
        let mut vocabulary = Self::default();
        for word in COMMON {
            vocabulary.insert(word.as_bytes());
        }
        vocabulary
    }

    fn insert(&mut self, word: &[u8]) {
        self.longest = self.longest.max(word.len());
        self.words.insert(word.into());
    }

    /// Adds the words a rule's pattern spells, in every spelling its small
    /// alternations and optional parts give (`instructions?` gives
    /// `instruction` and `instructions`).
    pub(crate) fn add_pattern(&mut self, hir: &Hir) {
        if let Some(strings) = self.spellings(hir) {
            self.add_words(&strings);
        }
    }

    /// Splits `text` at word boundaries and adds the words.
    fn add_words(&mut self, strings: &[Vec<u8>]) {
        for string in strings {
            let Ok(text) = std::str::from_utf8(string) else {
                continue;
            };
            // One letter splits no better than an unknown character.
            for word in text.split(|c: char| !is_word_char(c)) {
                if word.chars().nth(1).is_some() {
                    self.insert(word.as_bytes());
                }
            }
        }
    }

    /// Every string `hir` matches, when they are few and contain no
    /// separator or wildcard; otherwise `None`, after adding the words of
    /// its parts.
    fn spellings(&mut self, hir: &Hir) -> Option<Vec<Vec<u8>>> {
        match hir.kind() {
            HirKind::Empty | HirKind::Look(_) => Some(vec![Vec::new()]),
            HirKind::Literal(literal) => Some(vec![literal.0.to_vec()]),
            HirKind::Class(class) => small_class(class),
            HirKind::Capture(capture) => self.spellings(&capture.sub),
            HirKind::Repetition(repetition) => {
                let sub = self.spellings(&repetition.sub);
                match (repetition.min, repetition.max, sub) {
                    (1, Some(1), sub) => sub,
                    (0, Some(1), Some(mut strings)) => {
                        strings.push(Vec::new());
                        Some(strings)
                    }
                    (_, _, Some(strings)) => {
                        self.add_words(&strings);
                        None
                    }
                    (_, _, None) => None,
                }
            }
            HirKind::Alternation(alternatives) => {
                let mut all = Some(Vec::new());
                for alternative in alternatives {
                    match (self.spellings(alternative), &mut all) {
                        (Some(strings), Some(so_far))
                            if so_far.len() + strings.len() <= MOST_STRINGS =>
                        {
                            so_far.extend(strings);
                        }
                        (Some(strings), _) => {
                            self.add_words(&strings);
                            if let Some(so_far) = all.take() {
                                self.add_words(&so_far);
                            }
                        }
                        (None, _) => {
                            if let Some(so_far) = all.take() {
                                self.add_words(&so_far);
                            }
                        }
                    }
                }
                all
            }
            HirKind::Concat(parts) => {
                // The strings of the parts since the last separator, joined.
                let mut current = vec![Vec::new()];
                let mut whole = true;
                for part in parts {
                    match self.spellings(part) {
                        Some(strings) if current.len() * strings.len() <= MOST_STRINGS => {
                            current = current
                                .iter()
                                .flat_map(|head| {
                                    strings.iter().map(move |tail| [&head[..], tail].concat())
                                })
                                .collect();
                        }
                        Some(strings) => {
                            // Too many joined spellings: the parts' own words.
                            self.add_words(&current);
                            current = strings;
                            whole = false;
                        }
                        None => {
                            self.add_words(&current);
                            current = vec![Vec::new()];
                            whole = false;
                        }
                    }
                }
                if whole {
                    Some(current)
                } else {
                    self.add_words(&current);
                    None
                }
            }
        }
    }

    /// Writes `text` to `out` with each of `runs` (byte ranges of joined
    /// spaced-out letters, ascending) split into words where that covers
    /// it better; whether any run was split.
    pub(crate) fn split_runs(
        &self,
        text: &str,
        runs: &[(usize, usize)],
        out: &mut Vec<u8>,
    ) -> bool {
        out.clear();
        let mut split = false;
        let mut from = 0;
        let mut best = Vec::new();
        for &(start, end) in runs {
            out.extend_from_slice(&text.as_bytes()[from..start]);
            split |= self.split(&text[start..end], &mut best, out);
            from = end;
        }
        out.extend_from_slice(&text.as_bytes()[from..]);
        split
    }

    /// Appends `run` to `out` as the fewest words (and unknown stretches)
    /// that cover it; whether that is more than one piece. `best` is
    /// scratch.
    fn split(&self, run: &str, best: &mut Vec<(u32, u32)>, out: &mut Vec<u8>) -> bool {
        let bytes = run.as_bytes();
        if bytes.len() > LONGEST_RUN || self.words.is_empty() {
            out.extend_from_slice(bytes);
            return false;
        }
        // best[i]: the lowest cost of `run[..i]` and where its last piece
        // starts, with the high bit set for an unknown character.
        const UNKNOWN_PIECE: u32 = 1 << 31;
        best.clear();
        best.resize(bytes.len() + 1, (u32::MAX, 0));
        best[0] = (0, 0);
        let mut previous = 0;
        let ends = run.char_indices().skip(1).map(|(i, _)| i);
        for i in ends.chain([bytes.len()]) {
            if best[previous].0 != u32::MAX {
                best[i] = (best[previous].0 + UNKNOWN, previous as u32 | UNKNOWN_PIECE);
            }
            for j in i.saturating_sub(self.longest)..i {
                if best[j].0 == u32::MAX || !run.is_char_boundary(j) {
                    continue;
                }
                let cost = best[j].0 + 1;
                if cost < best[i].0 && self.words.contains(&bytes[j..i]) {
                    best[i] = (cost, j as u32);
                }
            }
            previous = i;
        }
        // The pieces, back to front; unknown characters in a row are one.
        let mut cuts = Vec::new();
        let mut i = bytes.len();
        let mut unknown_run = false;
        while i > 0 {
            let (_, from) = best[i];
            let unknown = from & UNKNOWN_PIECE != 0;
            if !(unknown && unknown_run) {
                cuts.push(i);
            }
            unknown_run = unknown;
            i = (from & !UNKNOWN_PIECE) as usize;
        }
        let mut start = 0;
        for (n, &end) in cuts.iter().rev().enumerate() {
            if n > 0 {
                out.push(b' ');
            }
            out.extend_from_slice(&bytes[start..end]);
            start = end;
        }
        cuts.len() > 1
    }
}

/// The characters of a small class of word characters (`[sz]`), or `None`
/// for separators and wildcards.
fn small_class(class: &Class) -> Option<Vec<Vec<u8>>> {
    let mut strings = Vec::new();
    match class {
        Class::Unicode(class) => {
            for range in class.iter() {
                for c in range.start()..=range.end() {
                    if strings.len() == 4 || !is_word_char(c) {
                        return None;
                    }
                    strings.push(c.to_string().into_bytes());
                }
            }
        }
        Class::Bytes(class) => {
            for range in class.iter() {
                for b in range.start()..=range.end() {
                    if strings.len() == 4 || !is_word_char(char::from(b)) || !b.is_ascii() {
                        return None;
                    }
                    strings.push(vec![b]);
                }
            }
        }
    }
    Some(strings)
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '\'' || unicode_normalization::char::is_combining_mark(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vocabulary(patterns: &[&str]) -> Vocabulary {
        let mut vocabulary = Vocabulary::default();
        for pattern in patterns {
            let hir = regex_syntax::ParserBuilder::new()
                .utf8(false)
                .build()
                .parse(&super::super::rules::expand(pattern))
                .unwrap();
            vocabulary.add_pattern(&hir);
        }
        vocabulary
    }

    fn words(vocabulary: &Vocabulary) -> Vec<String> {
        let mut words: Vec<String> = vocabulary
            .words
            .iter()
            .map(|w| String::from_utf8(w.to_vec()).unwrap())
            .collect();
        words.sort();
        words
    }

    fn split(vocabulary: &Vocabulary, run: &str) -> String {
        let mut out = Vec::new();
        vocabulary.split(run, &mut Vec::new(), &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn words_come_from_every_spelling_of_a_pattern() {
        let vocabulary = vocabulary(&[
            r"\b(ignore|disregard) (all )?previous instructions?\b",
            r"apolog(y|ies|i[sz]e)",
            r"\bact as <3> (dan|evil)",
        ]);
        assert_eq!(
            words(&vocabulary),
            [
                "act",
                "all",
                "apologies",
                "apologise",
                "apologize",
                "apology",
                "as",
                "dan",
                "disregard",
                "evil",
                "ignore",
                "instruction",
                "instructions",
                "previous"
            ]
        );
    }

    #[test]
    fn large_alternations_give_their_words() {
        let alternatives: Vec<String> = (0..100).map(|n| format!("w{n}x")).collect();
        let vocabulary = vocabulary(&[&format!("({}) now", alternatives.join("|"))]);
        let words = words(&vocabulary);
        assert!(words.contains(&"w99x".to_owned()) && words.contains(&"now".to_owned()));
    }

    #[test]
    fn runs_split_into_the_fewest_known_words() {
        let mut vocabulary = Vocabulary::new();
        vocabulary.insert(b"output");
        vocabulary.insert(b"previous");
        vocabulary.insert(b"instructions");
        vocabulary.insert(b"\xd0\xb1\xd0\xb0\xd0\xb7\xd0\xb5"); // база
        for (run, expected) in [
            (
                "outputyourpreviousinstructions",
                "output your previous instructions",
            ),
            ("usersaysthis", "user says this"),
            ("instructions", "instructions"),
            // Unknown stretches stay whole.
            ("cynibot3000", "cynibot3000"),
            ("cynibotwith", "cynibot with"),
            ("базеданных", "базе данных"),
        ] {
            assert_eq!(split(&vocabulary, run), expected, "{run}");
        }
    }

    #[test]
    fn only_runs_are_rewritten() {
        let mut vocabulary = Vocabulary::new();
        vocabulary.insert(b"output");
        let text = "say outputyour now tellme";
        let mut out = Vec::new();
        assert!(vocabulary.split_runs(text, &[(4, 14)], &mut out));
        assert_eq!(out, b"say output your now tellme");
        // Nothing known inside: left whole.
        assert!(!vocabulary.split_runs("xyzzy", &[(0, 5)], &mut out));
        assert_eq!(out, b"xyzzy");
    }
}
