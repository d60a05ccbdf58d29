//! The prefilter's walk: every occurrence of a set of literals, found in
//! one pass over the text.
//!
//! aho-corasick builds the automaton; [`Walker`] lays its transitions out
//! again for a walk with no branch on the state. aho-corasick's own DFA
//! treats its start state as special, and ordinary text returns to the
//! start state every few bytes, so its `is_special` test mispredicts often
//! (13 cycles a byte on English, of which the table lookup needs about 6).
//! Here match states are numbered first: a single comparison tells a match
//! state, and every state is written to the output with only the count
//! advanced on a match, so the loop's one data-dependent step is the table
//! lookup.

use aho_corasick::automaton::{Automaton, StateID};
use aho_corasick::dfa::DFA;
use aho_corasick::{Anchored, MatchKind, StartKind};
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::hash::{BuildHasherDefault, Hasher};

/// A DFA over a set of literals, walked byte by byte (see the module docs).
#[derive(Debug)]
pub(crate) struct Walker {
    /// The class of each byte: 0 for bytes in no literal.
    classes: [u8; 256],
    /// Transitions, `stride` per state; states are numbered times `stride`.
    /// The last entry of a match state's row is not a transition but its
    /// match index (see [`Walker::match_index`]).
    trans: Vec<u32>,
    stride: u32,
    start: u32,
    /// States below this are match states.
    match_limit: u32,
    /// For match index `m`, its range of `match_literals`.
    match_offsets: Vec<u32>,
    /// The literals each match state ends, as indices into the set given.
    match_literals: Vec<u32>,
    /// The longest literal's length.
    longest: usize,
}

/// A match state the walk passed and the offset of the byte that entered
/// it, in one word so the walk writes it with one store.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Passed(u64);

impl Passed {
    #[inline(always)]
    fn new(state: u32, at: usize) -> Self {
        Self(u64::from(state) | (at as u64) << 32)
    }

    /// The match state, as [`Walker::match_index`] takes it.
    #[inline(always)]
    pub(crate) fn state(self) -> u32 {
        self.0 as u32
    }

    /// The offset of the byte that entered it: where its literals end.
    #[inline(always)]
    pub(crate) fn at(self) -> u32 {
        (self.0 >> 32) as u32
    }
}

/// A literal set too large for the walk's 32-bit state numbers (or for
/// aho-corasick's DFA).
#[derive(Debug)]
pub(crate) struct TooLarge;

impl Walker {
    /// The walker finding every occurrence of `literals` (none empty).
    pub(crate) fn new(literals: &[Vec<u8>]) -> Result<Self, TooLarge> {
        let dfa = DFA::builder()
            .match_kind(MatchKind::Standard)
            .start_kind(StartKind::Unanchored)
            .prefilter(false)
            .build(literals)
            .map_err(|_| TooLarge)?;
        // A class per byte that occurs in a literal; the rest share class 0
        // (they only ever lead where any other such byte leads), in byte
        // order so the ASCII letters of a state sit side by side.
        let mut used = [false; 256];
        for literal in literals {
            for &b in literal {
                used[b as usize] = true;
            }
        }
        let mut classes = [0u8; 256];
        let mut representative = Vec::with_capacity(256);
        if let Some(other) = (0..=255u8).find(|&b| !used[b as usize]) {
            representative.push(other);
        }
        for b in 0..=255u8 {
            if used[b as usize] {
                classes[b as usize] = representative.len() as u8;
                representative.push(b);
            }
        }
        // One more entry a row for the match index.
        let stride = representative.len() + 1;
        // Every state reachable from the start, numbered as found, with its
        // row of transitions (to those numbers).
        let start = dfa.start_state(Anchored::No).map_err(|_| TooLarge)?;
        let mut found = vec![start];
        // Keyed by aho-corasick's state id: millions of lookups, so a
        // multiplicative hash rather than SipHash (ids are not chosen by
        // users).
        let mut number: HashMap<u32, u32, BuildHasherDefault<IdHasher>> = HashMap::default();
        number.insert(start.as_u32(), 0);
        let mut rows: Vec<u32> = Vec::new();
        let mut next = 0;
        while next < found.len() {
            let state = found[next];
            next += 1;
            // Most bytes of a row lead back to a few shallow states: the
            // last lookup is kept.
            let mut last = (u32::MAX, 0);
            for &b in &representative {
                let to = dfa.next_state(Anchored::No, state, b).as_u32();
                if to == last.0 {
                    rows.push(last.1);
                    continue;
                }
                let n = match number.entry(to) {
                    Entry::Occupied(entry) => *entry.get(),
                    Entry::Vacant(entry) => {
                        let n = u32::try_from(found.len()).map_err(|_| TooLarge)?;
                        found.push(StateID::new_unchecked(to as usize));
                        *entry.insert(n)
                    }
                };
                last = (to, n);
                rows.push(n);
            }
        }
        drop(number);
        let states = found.len();
        if states
            .checked_mul(stride)
            .is_none_or(|n| n > u32::MAX as usize)
        {
            return Err(TooLarge);
        }
        // Renumbered match states first, times the stride.
        let mut order: Vec<usize> = (0..states).collect();
        order.sort_by_key(|&n| !dfa.is_match(found[n]));
        let matches = order
            .iter()
            .take_while(|&&n| dfa.is_match(found[n]))
            .count();
        let mut id = vec![0u32; states];
        for (i, &n) in order.iter().enumerate() {
            id[n] = (i * stride) as u32;
        }
        let mut trans = vec![0u32; states * stride];
        let (mut match_offsets, mut match_literals) = (vec![0u32], Vec::new());
        for (i, &n) in order.iter().enumerate() {
            let classes = stride - 1;
            let row = &rows[n * classes..(n + 1) * classes];
            let out = &mut trans[i * stride..(i + 1) * stride];
            for (to, &from) in out.iter_mut().zip(row) {
                *to = id[from as usize];
            }
            out[classes] = i as u32;
            if i < matches {
                let s = found[n];
                match_literals
                    .extend((0..dfa.match_len(s)).map(|k| dfa.match_pattern(s, k).as_u32()));
                match_offsets.push(match_literals.len() as u32);
            }
        }
        Ok(Self {
            classes,
            trans,
            stride: stride as u32,
            start: id[0],
            match_limit: (matches * stride) as u32,
            match_offsets,
            match_literals,
            longest: literals.iter().map(Vec::len).max().unwrap_or(0),
        })
    }

    /// Walks `haystack` and writes to the front of `out` each match state
    /// entered and the offset of the byte that entered it, in order;
    /// returns how many. `out` is grown to the haystack's length when
    /// shorter (and not shrunk: past the count it holds stale entries).
    ///
    /// A long haystack is walked as two halves at once: each step waits on
    /// the table lookup of the step before, so two independent walks take
    /// little longer than one. The second starts early by the longest
    /// literal, unrecorded, so it finds whatever ends in its half.
    #[inline(never)]
    pub(crate) fn walk(&self, haystack: &[u8], out: &mut Vec<Passed>) -> usize {
        if out.len() < haystack.len() {
            out.resize(haystack.len(), Passed::default());
        }
        let out = &mut out[..haystack.len()];
        let mid = haystack.len() / 2;
        if mid < 4 * self.longest.max(16) {
            return self.walk_from(self.start, haystack, 0, out);
        }
        let (first, second) = haystack.split_at(mid);
        let (out_first, out_second) = out.split_at_mut(mid);
        let mut one = self.start;
        let mut two = self.start;
        for &byte in &first[mid - self.longest.saturating_sub(1)..] {
            two = self.step(two, byte);
        }
        let (mut found_one, mut found_two) = (0, 0);
        for (at, (&a, &b)) in first.iter().zip(second).enumerate() {
            one = self.step(one, a);
            two = self.step(two, b);
            out_first[found_one] = Passed::new(one, at);
            out_second[found_two] = Passed::new(two, mid + at);
            found_one += usize::from(one < self.match_limit);
            found_two += usize::from(two < self.match_limit);
        }
        // The second half is a byte longer when the length is odd.
        let found_two =
            found_two + self.walk_from(two, &second[mid..], 2 * mid, &mut out_second[found_two..]);
        out.copy_within(mid..mid + found_two, found_one);
        found_one + found_two
    }

    #[inline(always)]
    fn step(&self, state: u32, byte: u8) -> u32 {
        self.trans[(state + u32::from(self.classes[byte as usize])) as usize]
    }

    /// Walks `haystack` (found at `offset`) from `state`, writing match
    /// states to the front of `out` (at least as long as `haystack`).
    #[inline(always)]
    fn walk_from(
        &self,
        mut state: u32,
        haystack: &[u8],
        offset: usize,
        out: &mut [Passed],
    ) -> usize {
        let mut found = 0;
        for (at, &byte) in haystack.iter().enumerate() {
            state = self.step(state, byte);
            // Written always, kept only for a match state: no branch.
            out[found] = Passed::new(state, offset + at);
            found += usize::from(state < self.match_limit);
        }
        found
    }

    /// The match index (from 0, dense) of a match state as written by
    /// [`walk`](Self::walk): one load from the state's own row, where a
    /// division by the stride would take longer.
    #[inline]
    pub(crate) fn match_index(&self, state: u32) -> usize {
        self.trans[(state + self.stride - 1) as usize] as usize
    }

    /// How many match states there are.
    pub(crate) fn match_states(&self) -> usize {
        self.match_offsets.len() - 1
    }

    /// The literals the match state of index `m` ends.
    #[inline]
    pub(crate) fn literals(&self, m: usize) -> &[u32] {
        &self.match_literals[self.match_offsets[m] as usize..self.match_offsets[m + 1] as usize]
    }
}

/// Hashes a `u32` key with one multiplication (see [`Walker::new`]).
#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_u32(&mut self, n: u32) {
        self.0 = u64::from(n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every (literal, end) pair, found the slow way.
    fn naive(literals: &[&[u8]], haystack: &[u8]) -> Vec<(u32, u32)> {
        let mut out = Vec::new();
        for end in 0..haystack.len() {
            for (i, l) in literals.iter().enumerate() {
                if end + 1 >= l.len() && haystack[end + 1 - l.len()..=end] == **l {
                    out.push((i as u32, end as u32));
                }
            }
        }
        out
    }

    fn walked(walker: &Walker, haystack: &[u8]) -> Vec<(u32, u32)> {
        let mut out = Vec::new();
        let n = walker.walk(haystack, &mut out);
        let mut found: Vec<(u32, u32)> = out[..n]
            .iter()
            .flat_map(|&passed| {
                let m = walker.match_index(passed.state());
                walker.literals(m).iter().map(move |&l| (l, passed.at()))
            })
            .collect();
        found.sort_by_key(|&(l, at)| (at, l));
        found
    }

    #[test]
    fn finds_every_occurrence_overlapping_and_nested() {
        let literals: [&[u8]; 6] = [b"he", b"she", b"his", b"hers", b"ignore", "é ".as_bytes()];
        let owned: Vec<Vec<u8>> = literals.iter().map(|l| l.to_vec()).collect();
        let walker = Walker::new(&owned).unwrap();
        for haystack in [
            "ushers and she said his hers",
            "ignoreignore ignor e",
            "café é\u{0}\u{ff} he",
            "",
            "h",
        ] {
            let mut expected = naive(&literals, haystack.as_bytes());
            expected.sort_by_key(|&(l, at)| (at, l));
            assert_eq!(
                walked(&walker, haystack.as_bytes()),
                expected,
                "{haystack:?}"
            );
        }
    }

    #[test]
    fn scratch_longer_than_the_text_keeps_only_this_walk() {
        let walker = Walker::new(&[b"ab".to_vec()]).unwrap();
        let mut out = Vec::new();
        assert_eq!(walker.walk(b"ab ab ab ab", &mut out), 4);
        assert_eq!(walker.walk(b"xab", &mut out), 1);
        assert_eq!(out[0].at(), 2);
    }

    #[test]
    fn every_byte_value_in_literals() {
        // No byte is left for class 0.
        let literals: Vec<Vec<u8>> = (0..=255u8).map(|b| vec![b, b]).collect();
        let walker = Walker::new(&literals).unwrap();
        let haystack: Vec<u8> = (0..=255u8).flat_map(|b| [b, b, b]).collect();
        let refs: Vec<&[u8]> = literals.iter().map(|l| l.as_slice()).collect();
        let mut expected = naive(&refs, &haystack);
        expected.sort_by_key(|&(l, at)| (at, l));
        assert_eq!(walked(&walker, &haystack), expected);
    }

    #[test]
    fn random_texts_agree_with_the_naive_search() {
        let literals: [&[u8]; 5] = [b"ab", b"abab", b"ba", b"aab", b"b a"];
        let owned: Vec<Vec<u8>> = literals.iter().map(|l| l.to_vec()).collect();
        let walker = Walker::new(&owned).unwrap();
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for round in 0..1000 {
            // Short texts take one walk, long ones two halves.
            let len = if round % 2 == 0 {
                seed % 40
            } else {
                128 + seed % 300
            } as usize;
            let haystack: Vec<u8> = (0..len)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    [b'a', b'b', b' ', b'c'][(seed % 4) as usize]
                })
                .collect();
            let mut expected = naive(&literals, &haystack);
            expected.sort_by_key(|&(l, at)| (at, l));
            assert_eq!(walked(&walker, &haystack), expected);
        }
    }
}
