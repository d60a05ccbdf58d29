//! Cleaning of forwarded text: control, bidi-override, tag and zero-width
//! characters out; everything a script or emoji sequence needs stays.

use std::borrow::Cow;

/// Bytes that may start a character the cleaner removes. Everything else is
/// copied without a second look, so plain text costs one table lookup a byte.
static SUSPECT: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = !matches!(b, 0x09 | 0x0A | 0x0D);
        b += 1;
    }
    table[0x7F] = true;
    table[0xC2] = true; // U+0080..U+009F (C1 controls), U+00AD
    table[0xE1] = true; // U+17B4..U+17B5, U+180E
    table[0xE2] = true; // U+200B..U+200D, U+202A..U+202E, U+2060..U+206F
    table[0xEF] = true; // U+FE00..U+FE0F, U+FEFF, U+FFF9..U+FFFB
    table[0xF3] = true; // U+E0000..U+E007F (tags), U+E0100..U+E01EF
    table
};

/// Zero-width joiner.
pub(crate) const ZWJ: char = '\u{200D}';
/// Zero-width non-joiner.
pub(crate) const ZWNJ: char = '\u{200C}';
const BLACK_FLAG: char = '\u{1F3F4}';
const CANCEL_TAG: char = '\u{E007F}';

/// What the cleaner does with a character out of context.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Class {
    Keep,
    Remove,
    /// ZWJ or ZWNJ: kept only between characters that need it.
    Joiner,
    /// A tag character: kept only inside an emoji tag sequence.
    Tag,
    /// A variation selector: kept only right after a character it can vary.
    Variation,
}

fn class(c: char) -> Class {
    match c {
        '\t' | '\n' | '\r' => Class::Keep,
        '\0'..='\u{1F}' | '\u{7F}'..='\u{9F}' => Class::Remove,
        // Bidi embeddings, overrides and isolates.
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => Class::Remove,
        // Zero-width space, word joiner, invisible operators, the deprecated
        // format controls, BOM, Mongolian vowel separator, soft hyphen,
        // Khmer's invisible vowels, interlinear annotation marks.
        '\u{200B}'
        | '\u{2060}'..='\u{2064}'
        | '\u{206A}'..='\u{206F}'
        | '\u{FEFF}'
        | '\u{180E}'
        | '\u{AD}'
        | '\u{17B4}'..='\u{17B5}'
        | '\u{FFF9}'..='\u{FFFB}' => Class::Remove,
        ZWJ | ZWNJ => Class::Joiner,
        '\u{E0000}'..='\u{E007F}' => Class::Tag,
        '\u{FE00}'..='\u{FE0F}' | '\u{E0100}'..='\u{E01EF}' => Class::Variation,
        _ => Class::Keep,
    }
}

/// Whether `c` belongs to a script whose spelling uses ZWJ/ZWNJ: Arabic and
/// Persian, Syriac, N'Ko, the Indic scripts from Devanagari to Sinhala,
/// Myanmar, Khmer and Mongolian.
pub(crate) fn is_joining_script(c: char) -> bool {
    matches!(c,
        '\u{0600}'..='\u{08FF}'
        | '\u{0900}'..='\u{0DFF}'
        | '\u{1000}'..='\u{109F}'
        | '\u{1780}'..='\u{18AF}'
        | '\u{A8E0}'..='\u{A8FF}'
        | '\u{FB50}'..='\u{FDFF}'
        | '\u{FE70}'..='\u{FEFE}')
}

/// Whether `c` is pictographic (emoji), approximately `Extended_Pictographic`.
pub(crate) fn is_pictographic(c: char) -> bool {
    matches!(c,
        '\u{00A9}' | '\u{00AE}' | '\u{203C}' | '\u{2049}' | '\u{2122}' | '\u{2139}'
        | '\u{2194}'..='\u{21AA}'
        | '\u{2300}'..='\u{23FF}'
        | '\u{24C2}'
        | '\u{25A0}'..='\u{27BF}'
        | '\u{2934}'..='\u{2935}'
        | '\u{2B00}'..='\u{2BFF}'
        | '\u{3030}' | '\u{303D}' | '\u{3297}' | '\u{3299}'
        | '\u{1F000}'..='\u{1FAFF}')
}

/// Characters that may stand right before a ZWJ inside an emoji sequence:
/// the emoji itself, a skin-tone modifier (inside the range above) or VS16.
fn ends_emoji(c: char) -> bool {
    is_pictographic(c) || c == '\u{FE0F}'
}

/// Whether a variation selector after `prev` is kept: one selector right
/// after a character other than ASCII (emoji, CJK ideographs, symbols), a
/// digit, `#` or `*` (keycaps). A run of selectors after one character, the
/// way bytes are smuggled in them, keeps only its first.
fn variation_kept(prev: Option<char>) -> bool {
    prev.is_some_and(|p| {
        class(p) == Class::Keep
            && !p.is_whitespace()
            && (!p.is_ascii() || p.is_ascii_digit() || p == '#' || p == '*')
    })
}

fn joiner_needed(joiner: char, prev: Option<char>, next: Option<char>) -> bool {
    let (Some(prev), Some(next)) = (prev, next) else {
        return false;
    };
    if is_joining_script(prev) && is_joining_script(next) {
        return true;
    }
    joiner == ZWJ && ends_emoji(prev) && is_pictographic(next)
}

/// Length in bytes of an emoji tag sequence's tags starting at `rest` (the
/// text right after a black flag), or 0 when `rest` does not start one:
/// 2 to 6 tag letters or digits, then CANCEL TAG.
fn flag_tags_len(rest: &str) -> usize {
    let mut count = 0;
    for (i, c) in rest.char_indices() {
        match c {
            '\u{E0030}'..='\u{E0039}' | '\u{E0061}'..='\u{E007A}' if count < 6 => count += 1,
            CANCEL_TAG if count >= 2 => return i + c.len_utf8(),
            _ => return 0,
        }
    }
    0
}

/// Returns `text` without the characters that must not reach a model, or the
/// same slice, unallocated, when there is nothing to remove.
///
/// Removed: C0 and C1 controls except tab, line feed and carriage return;
/// bidi embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069);
/// tag characters (U+E0000–U+E007F) except in emoji tag sequences such as
/// the flag of Scotland; zero-width space, word joiner, invisible operators
/// and deprecated format controls (U+200B, U+2060–U+2064, U+206A–U+206F),
/// U+FEFF, U+180E, the soft hyphen, Khmer's invisible vowels (U+17B4–U+17B5)
/// and interlinear annotation marks (U+FFF9–U+FFFB); variation selectors
/// (U+FE00–U+FE0F, U+E0100–U+E01EF) except one right after a character it
/// can vary (not ASCII, or a keycap's digit, `#` or `*`); ZWJ and ZWNJ except
/// between letters of scripts that spell with them (Arabic, Persian, Indic,
/// Sinhala, Myanmar, Khmer, Mongolian) and ZWJ inside emoji sequences.
///
/// ```
/// use spark_tower::sanitize::clean;
///
/// assert_eq!(clean("ig\u{200B}nore\u{202E} me\u{7}"), "ignore me");
/// // Telugu needs its ZWNJ, a family emoji its ZWJs: both are kept.
/// assert_eq!(clean("ఎన్\u{200C}టీఆర్"), "ఎన్\u{200C}టీఆర్");
/// assert_eq!(clean("👩\u{200D}👩\u{200D}👦"), "👩\u{200D}👩\u{200D}👦");
/// assert!(matches!(clean("plain text"), std::borrow::Cow::Borrowed(_)));
/// ```
pub fn clean(text: &str) -> Cow<'_, str> {
    match first_removal(text) {
        None => Cow::Borrowed(text),
        Some(start) => Cow::Owned(clean_from(text, start)),
    }
}

/// The byte offset of the first character to remove, if any.
fn first_removal(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    // Eight bytes at a time while they are printable ASCII (most text).
    let mut i = 0;
    while let Some(chunk) = bytes.get(i..i + 8) {
        let word = u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8]));
        if !printable_ascii(word) {
            break;
        }
        i += 8;
    }
    while i < bytes.len() {
        if !SUSPECT[bytes[i] as usize] {
            i += 1;
            continue;
        }
        // `i` is a character start: suspect bytes are ASCII or lead bytes.
        let c = text[i..].chars().next().unwrap_or('\0');
        if removes(text, i, c) {
            return Some(i);
        }
        i += c.len_utf8();
    }
    None
}

/// Whether all eight bytes of `word` are ASCII from space to `~`: no byte
/// has its high bit set, none is below 0x20, none is DEL.
fn printable_ascii(word: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let below_space = word.wrapping_sub(ONES * 0x20) & !word & HIGH;
    let del = word ^ (ONES * 0x7F);
    let is_del = del.wrapping_sub(ONES) & !del & HIGH;
    (word & HIGH) | below_space | is_del == 0
}

/// Whether the character `c` at byte `at` of `text` is removed in context.
fn removes(text: &str, at: usize, c: char) -> bool {
    match class(c) {
        Class::Keep => false,
        Class::Remove => true,
        Class::Joiner => {
            let prev = text[..at].chars().next_back();
            let next = text[at + c.len_utf8()..].chars().next();
            !joiner_needed(c, prev, next)
        }
        Class::Tag => !in_flag_sequence(text, at),
        Class::Variation => !variation_kept(text[..at].chars().next_back()),
    }
}

/// Whether the tag at byte `at` belongs to a well-formed emoji tag sequence.
fn in_flag_sequence(text: &str, at: usize) -> bool {
    // Walk back over tags to the black flag, then check the whole sequence.
    let mut start = at;
    for c in text[..at].chars().rev() {
        match c {
            '\u{E0000}'..='\u{E007F}' => start -= c.len_utf8(),
            BLACK_FLAG => {
                let tags = flag_tags_len(&text[start..]);
                return tags > 0 && at < start + tags;
            }
            _ => return false,
        }
    }
    false
}

fn clean_from(text: &str, start: usize) -> String {
    let mut out = String::with_capacity(text.len());
    out.push_str(&text[..start]);
    let mut rest = text[start..].char_indices().peekable();
    let mut prev_kept = text[..start].chars().next_back();
    while let Some((offset, c)) = rest.next() {
        let at = start + offset;
        if c == BLACK_FLAG {
            let tags = flag_tags_len(&text[at + c.len_utf8()..]);
            out.push(c);
            if tags > 0 {
                out.push_str(&text[at + c.len_utf8()..at + c.len_utf8() + tags]);
                while rest
                    .peek()
                    .is_some_and(|(o, _)| start + *o < at + c.len_utf8() + tags)
                {
                    rest.next();
                }
            }
            prev_kept = Some(c);
            continue;
        }
        let keep = match class(c) {
            Class::Keep => true,
            Class::Remove | Class::Tag => false,
            Class::Joiner => {
                // Context is judged on the text as sent, so a joiner between
                // two removed characters goes too.
                let next = rest.peek().map(|(_, n)| *n);
                joiner_needed(c, prev_kept, next)
            }
            Class::Variation => variation_kept(prev_kept),
        };
        if keep {
            out.push(c);
            prev_kept = Some(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_ascii_words() {
        assert!(printable_ascii(u64::from_le_bytes(*b"plain ~!")));
        for bad in [0x00u8, 0x07, 0x09, 0x0A, 0x1F, 0x7F, 0x80, 0xC2, 0xFF] {
            for at in 0..8 {
                let mut bytes = *b"abcdefgh";
                bytes[at] = bad;
                assert!(
                    !printable_ascii(u64::from_le_bytes(bytes)),
                    "{bad:#x} at {at}"
                );
            }
        }
    }

    #[test]
    fn table() {
        let cases: &[(&str, &str, &str)] = &[
            ("plain", "hello, world", "hello, world"),
            ("tab newline cr kept", "a\tb\nc\r\n", "a\tb\nc\r\n"),
            ("c0", "a\u{0}b\u{1b}[31mc", "ab[31mc"),
            ("del and c1", "a\u{7f}b\u{85}c\u{9f}", "abc"),
            ("bidi override", "abc\u{202E}fed\u{202C}", "abcfed"),
            ("bidi isolate", "\u{2067}x\u{2069}", "x"),
            ("lrm kept", "a\u{200E}b", "a\u{200E}b"),
            ("zwsp", "ig\u{200B}no\u{2060}re", "ignore"),
            ("bom", "\u{FEFF}text", "text"),
            ("zwj between latin", "ig\u{200D}nore", "ignore"),
            ("zwnj between latin", "ig\u{200C}nore", "ignore"),
            ("tags smuggled", "hi\u{E0069}\u{E0067}\u{E006E}", "hi"),
            (
                "scotland flag",
                "\u{1F3F4}\u{E0067}\u{E0062}\u{E0073}\u{E0063}\u{E0074}\u{E007F}!",
                "\u{1F3F4}\u{E0067}\u{E0062}\u{E0073}\u{E0063}\u{E0074}\u{E007F}!",
            ),
            (
                "flag then smuggled tags",
                "\u{1F3F4}\u{E0067}\u{E0062}\u{E007F}\u{E0069}",
                "\u{1F3F4}\u{E0067}\u{E0062}\u{E007F}",
            ),
            ("lone black flag tags", "\u{1F3F4}\u{E0069}x", "\u{1F3F4}x"),
            ("telugu zwnj", "ఎన్\u{200C}టీఆర్", "ఎన్\u{200C}టీఆర్"),
            ("persian zwnj", "می\u{200C}خواهم", "می\u{200C}خواهم"),
            ("devanagari zwj", "क्\u{200D}ष", "क्\u{200D}ष"),
            (
                "family emoji",
                "👩\u{200D}👩\u{200D}👦",
                "👩\u{200D}👩\u{200D}👦",
            ),
            ("skin tone zwj", "👋🏽\u{200D}👋", "👋🏽\u{200D}👋"),
            ("vs16 zwj", "❤\u{FE0F}\u{200D}🔥", "❤\u{FE0F}\u{200D}🔥"),
            ("zwj at end", "👩\u{200D}", "👩"),
            ("double zwnj in telugu", "న్\u{200C}\u{200C}న", "న్\u{200C}న"),
            ("soft hyphen", "ig\u{AD}nore", "ignore"),
            ("deprecated format controls", "a\u{206A}\u{206F}b", "ab"),
            (
                "emoji presentation kept",
                "❤\u{FE0F} ☺\u{FE0E}",
                "❤\u{FE0F} ☺\u{FE0E}",
            ),
            ("keycap kept", "1\u{FE0F}\u{20E3}", "1\u{FE0F}\u{20E3}"),
            (
                "ideographic variation kept",
                "葛\u{E0100}城",
                "葛\u{E0100}城",
            ),
            (
                "selectors smuggling bytes",
                "😀\u{FE01}\u{E0150}\u{E0165}\u{FE03}",
                "😀\u{FE01}",
            ),
            ("selector after ascii letter", "hi\u{FE0F}\u{E0101}", "hi"),
            (
                "typographic kept",
                "“quotes” — and ‘more’…",
                "“quotes” — and ‘more’…",
            ),
        ];
        for (name, input, expected) in cases {
            assert_eq!(clean(input), *expected, "{name}");
        }
    }

    #[test]
    fn unchanged_text_is_borrowed() {
        for text in [
            "plain",
            "“typographic” — text",
            "ఎన్\u{200C}టీ",
            "日本語のテキスト",
        ] {
            assert!(matches!(clean(text), Cow::Borrowed(_)), "{text}");
        }
    }

    fn tricky_text() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let special = prop_oneof![
            Just('\u{0}'),
            Just('\u{1b}'),
            Just('\t'),
            Just('\n'),
            Just('\u{85}'),
            Just('\u{200B}'),
            Just(ZWJ),
            Just(ZWNJ),
            Just('\u{202E}'),
            Just('\u{2066}'),
            Just('\u{FEFF}'),
            Just('\u{E0041}'),
            Just('\u{E007F}'),
            Just('\u{E0067}'),
            Just(BLACK_FLAG),
            Just('👩'),
            Just('\u{FE0F}'),
            Just('న'),
            Just('్'),
            Just('म'),
            Just('a'),
            Just(' '),
        ];
        let more = prop_oneof![
            Just('\u{AD}'),
            Just('\u{206A}'),
            Just('\u{FE00}'),
            Just('\u{FE0E}'),
            Just('\u{E0100}'),
            Just('1'),
            Just('#'),
            Just('漢'),
        ];
        proptest::collection::vec(prop_oneof![special, more, any::<char>()], 0..48)
            .prop_map(|chars| chars.into_iter().collect())
    }

    proptest::proptest! {
        #[test]
        fn cleaned_text_has_no_removed_class(text in tricky_text()) {
            let cleaned = clean(&text);
            for (at, c) in cleaned.char_indices() {
                proptest::prop_assert!(class(c) != Class::Remove, "{c:?} kept in {cleaned:?}");
                // Joiners, tags and selectors only where their context
                // keeps them.
                proptest::prop_assert!(!removes(&cleaned, at, c), "{c:?} kept out of context in {cleaned:?}");
            }
        }

        #[test]
        fn cleaning_is_idempotent(text in tricky_text()) {
            let once = clean(&text).into_owned();
            proptest::prop_assert_eq!(clean(&once), once.as_str());
        }
    }
}
