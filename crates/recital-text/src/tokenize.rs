//! Splitting normalised runs into word and punctuation tokens.
//!
//! The normaliser hands over *runs*: maximal stretches of normalised text
//! without whitespace. Each run is cut at UAX #29 word boundaries
//! (`unicode-segmentation`). A segment that contains an alphanumeric
//! character is one word token (`don't`, `3.14`, `e.g`, `snake_case`); any
//! other segment gives one token per character, so `!!` is two tokens and a
//! run of punctuation cannot hide inside one token. Regional indicators
//! (the halves of flag emoji) are always tokens of their own: UAX #29 pairs
//! them by counting from the start of a sequence, which would make a token
//! depend on text outside it.
//!
//! Cutting at whitespace first, rather than segmenting the whole text, is
//! what lets the ASCII fast path below see short, whitespace-free runs. It
//! differs from segmenting the whole text only where UAX #29 glues a
//! combining mark to a preceding space (rule WB4); the mark then becomes a
//! token of its own either way, because whitespace never is one.
//!
//! Runs that are pure ASCII (nearly all runs of English prose and code) are
//! segmented by `ascii_segments`, a direct transcription of the word
//! boundary rules restricted to ASCII without whitespace; a property test
//! checks it against `split_word_bound_indices`.

use std::ops::Range;

use unicode_segmentation::UnicodeSegmentation;

use crate::normalize::Seg;

#[inline]
fn is_core(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Whether `b` (between `prev` and `next`) keeps a word together: WB6/WB7
/// (`.`, `:`, `'` between letters) and WB11/WB12 (`.`, `,`, `;`, `'` between
/// digits).
#[inline]
fn is_infix(b: u8, prev: u8, next: u8) -> bool {
    match b {
        b'.' | b',' | b';' | b'\'' if prev.is_ascii_digit() && next.is_ascii_digit() => true,
        b'\'' | b'.' | b':' if prev.is_ascii_alphabetic() && next.is_ascii_alphabetic() => true,
        _ => false,
    }
}

/// UAX #29 word segments of an ASCII string without whitespace, as
/// `(range, is_word)`.
#[inline]
pub(crate) fn ascii_segments(run: &[u8], mut f: impl FnMut(Range<usize>, bool)) {
    let len = run.len();
    let mut i = 0;
    while i < len {
        let start = i;
        if is_core(run[i]) {
            i += 1;
            while i < len && (is_core(run[i]) || (i + 1 < len && is_infix(run[i], run[i - 1], run[i + 1]))) {
                i += 1;
            }
            f(start..i, true);
        } else {
            i += 1;
            f(start..i, false);
        }
    }
}

/// Calls `f` with the range (in `run`) of every token of a whitespace-free
/// normalised run.
#[inline]
pub(crate) fn run_tokens(run: &str, mut f: impl FnMut(Range<usize>)) {
    if run.is_ascii() {
        // A non-word ASCII segment is a single byte.
        ascii_segments(run.as_bytes(), |r, _| f(r));
    } else {
        // Regional indicators are tokens of their own and cut the run: how
        // UAX #29 pairs them depends on how many precede them, so without
        // the cut a token's text could depend on text outside it.
        let mut piece = 0;
        for (i, c) in run.char_indices() {
            if is_regional_indicator(c) {
                segment(run, piece..i, &mut f);
                f(i..i + c.len_utf8());
                piece = i + c.len_utf8();
            }
        }
        segment(run, piece..run.len(), &mut f);
    }
}

#[inline]
fn is_regional_indicator(c: char) -> bool {
    matches!(c, '\u{1F1E6}'..='\u{1F1FF}')
}

/// Tokens of `run[piece]` by UAX #29 word boundaries.
fn segment(run: &str, piece: Range<usize>, f: &mut impl FnMut(Range<usize>)) {
    let base = piece.start;
    for (i, seg) in run[piece].split_word_bound_indices() {
        let i = base + i;
        if seg.chars().any(char::is_alphanumeric) {
            f(i..i + seg.len());
        } else {
            for (j, c) in seg.char_indices() {
                f(i + j..i + j + c.len_utf8());
            }
        }
    }
}

/// Maps token ranges of one run to source ranges. Tokens come in increasing
/// order, so a cursor walks the segments once.
pub(crate) struct SrcMapper<'a> {
    segs: &'a [Seg],
    k: usize,
}

impl<'a> SrcMapper<'a> {
    pub(crate) fn new(segs: &'a [Seg]) -> Self {
        SrcMapper { segs, k: 0 }
    }

    /// Index of the last segment starting at or before `pos`, moving the
    /// cursor forward.
    fn seek(&mut self, pos: usize) -> usize {
        while self.k + 1 < self.segs.len() && self.segs[self.k + 1].norm <= pos {
            self.k += 1;
        }
        self.k
    }

    /// Source range of the token at `norm` (non-empty) in the run.
    pub(crate) fn map(&mut self, norm: Range<usize>) -> Range<usize> {
        if self.segs.is_empty() {
            return 0..0;
        }
        let a = self.seek(norm.start);
        let start = self.segs[a].src.start;
        // The next token starts at or after this one's end, so the cursor
        // may stay at the last segment this token touches (it may be shared).
        let b = self.seek(norm.end.saturating_sub(1).max(norm.start));
        start..self.segs[b].src.end
    }
}
