//! The units recital indexes and matches: normalised word and punctuation
//! tokens of text, canonical lexemes of code, each with the exact byte range
//! of the caller's input it came from.
//!
//! Everything downstream (the suffix-array index, span detection, policy)
//! sees only token strings; everything reported to a user is a byte range of
//! *their* text. This crate is the one place where the two meet, so it is
//! small, has no I/O, and never panics on any input.
//!
//! # Text mode
//!
//! [`tokenize()`] normalises each grapheme cluster (capital homoglyphs to
//! ASCII capitals, punctuation fold, NFKC, full case fold, drop
//! default-ignorables and combining marks, TR39 confusable skeleton, case
//! fold, NFC: see [`normalize`] for each step and why), then cuts the result
//! at whitespace and at UAX #29 word boundaries ([`mod@tokenize`]).
//! [`for_each_token`] yields the same token strings without offsets or
//! per-token allocation: it is what indexing gigabytes runs.
//!
//! ```
//! let ts = recital_text::tokenize("Ｈe\u{200B}LLO, “Wörld”!");
//! let texts: Vec<&str> = (0..ts.len()).map(|i| ts.text(i)).collect();
//! assert_eq!(texts, ["hello", ",", "\"", "world", "\"", "!"]);
//! // Offsets are on the caller's bytes: the zero-width space is inside.
//! assert_eq!(&"Ｈe\u{200B}LLO, “Wörld”!"[ts.tokens[0].src.clone()], "Ｈe\u{200B}LLO");
//! ```
//!
//! Why these choices:
//!
//! - **Own tokens, not a model's tokenizer.** The index is model-agnostic,
//!   and thresholds are stated the way the field states them (50 tokens, 11
//!   words of lyrics, 65 lexemes of code).
//! - **Aggressive normalisation.** Verbatim filters have been beaten by
//!   asking for ALL CAPS, by homoglyphs and by zero-width characters; each
//!   step removes one such evasion. The cost is collisions nobody would
//!   type on purpose (see below).
//! - **Per grapheme cluster, exact offsets.** A token's `src` covers the
//!   clusters it came from, including any invisible characters inside it.
//! - **Punctuation tokens.** Each non-word character is its own token, so a
//!   span of prose matches only with its punctuation, and `!!` is not `!`.
//! - **ASCII fast path.** Normalising ASCII is a table look-up per byte
//!   (the table is built by the slow path, so the two cannot disagree), and
//!   ASCII runs are segmented by a transcription of UAX #29 for ASCII.
//!
//! What the TR39 skeleton does that may surprise: it maps `m` to `rn`, `0`
//! to `o`, `1` and `|` to `l`, `` ` `` to `'`, sigma to `o`, Hebrew vav and
//! Arabic alef to `l`, Hebrew yod to `'`, `%` to `°/₀`, `"` to `''` and the
//! em dash to `ー`. Recital keeps the
//! skeleton for letters (it is what defeats Cyrillic and Greek look-alikes),
//! and exempts ASCII digits (so `3.14` stays one token: UAX #29 keeps `.`
//! only between digits) and the two marks it would split into several
//! tokens: see [`normalize::SKELETON_EXEMPT`]. Case is folded *before* the
//! skeleton, as the pipeline requires, so a capital look-alike whose lower
//! case is not a look-alike (Greek `Η` folds to `η`, whose prototype is `n̩`)
//! is not caught; skeleton-first would instead break case-insensitivity
//! (`I` → `l` but `i` → `i`).
//!
//! # Code mode
//!
//! [`code::canonical`] lexes C, C++, Python, Rust, JavaScript, TypeScript,
//! Java and Go with one hand-written lexer, drops comments and layout, and
//! abstracts identifiers and literals, so renamed and reformatted copies
//! give the same stream. See [`code`] for why not tree-sitter.
//!
//! # Licences
//!
//! [`spdx::identifier`] reads the `SPDX-License-Identifier:` tag from the
//! head of a file.
//!
//! # Versioning
//!
//! Any change to what tokens come out, including an upgrade of the Unicode
//! crates that changes their tables, must bump [`NORMALIZER_VERSION`]: an
//! index records it and refuses queries normalised differently. The crates
//! currently carry different Unicode versions (normalisation and confusables
//! 18.0, segmentation 17.0, case folding 16.0); the lock file pins them.
#![deny(missing_docs)]

use std::ops::Range;

pub mod code;
pub mod normalize;
pub mod spdx;
pub mod tokenize;

/// Bumped whenever normalisation or tokenisation changes what tokens come out:
/// an index records it and refuses queries from a different version.
pub const NORMALIZER_VERSION: u32 = 1;

/// One token: its normalised text (a range into `TokenStream::norm`) and the
/// half-open byte range of the caller's original input it came from.
///
/// `src` is never empty and lies on char boundaries of the input. Across a
/// stream, `src.start` and `src.end` never decrease. Two tokens share source
/// bytes only when one source cluster normalises to several tokens (`½` →
/// `1`, `/`, `2`; `ﷺ` → four words): then each such token carries that
/// cluster's whole range, because no finer correspondence exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// Byte range of the token's text in [`TokenStream::norm`].
    pub norm: Range<usize>,
    /// Byte range of the caller's input the token came from.
    pub src: Range<usize>,
}

/// Tokens of one input with their offset map.
#[derive(Debug, Clone, Default)]
pub struct TokenStream {
    /// The tokens' texts, separated by single spaces.
    pub norm: String,
    /// The tokens, in input order.
    pub tokens: Vec<Token>,
}

impl TokenStream {
    /// Number of tokens.
    pub fn len(&self) -> usize {
        self.tokens.len()
    }
    /// Whether there are no tokens.
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }
    /// Normalised text of token `i`.
    ///
    /// # Panics
    ///
    /// If `i >= self.len()`, like slice indexing.
    pub fn text(&self, i: usize) -> &str {
        &self.norm[self.tokens[i].norm.clone()]
    }
    /// Iterates over the token texts.
    pub fn texts(&self) -> impl Iterator<Item = &str> + '_ {
        self.tokens.iter().map(|t| &self.norm[t.norm.clone()])
    }
}

/// Reusable buffers for the allocation-free fast path used when indexing.
///
/// Keep one per thread and pass it to every call: after the first few
/// inputs its buffers have grown to size and no call allocates.
#[derive(Default, Debug)]
pub struct Scratch {
    norm: normalize::NormScratch,
}

/// Text mode with offsets: normalise (NFKC, case fold, drop default-ignorables,
/// TR39 confusable skeleton, whitespace dropped) and split into UAX #29 word and
/// punctuation tokens.
///
/// Never panics. See [`Token`] for what the offsets promise.
pub fn tokenize(input: &str) -> TokenStream {
    tokenize_with(input, &mut Scratch::default(), false)
}

/// [`tokenize()`] with caller-supplied buffers and, for tests, the ASCII fast
/// path switched off.
fn tokenize_with(input: &str, scratch: &mut Scratch, slow_only: bool) -> TokenStream {
    let mut ts = TokenStream::default();
    let TokenStream { norm, tokens } = &mut ts;
    scratch.norm.for_each_run(input, true, slow_only, |run, segs| {
        let mut mapper = tokenize::SrcMapper::new(segs);
        tokenize::run_tokens(run, |r| {
            if !norm.is_empty() {
                norm.push(' ');
            }
            let start = norm.len();
            norm.push_str(&run[r.clone()]);
            tokens.push(Token { norm: start..norm.len(), src: mapper.map(r) });
        });
    });
    ts
}

/// Text mode fast path: same tokens as `tokenize`, no offsets, no per-token allocation.
///
/// Calls `f` with each token's normalised text, in order.
pub fn for_each_token(input: &str, scratch: &mut Scratch, mut f: impl FnMut(&str)) {
    scratch.norm.for_each_run(input, false, false, |run, _| {
        tokenize::run_tokens(run, |r| f(&run[r]));
    });
}

#[cfg(test)]
mod tests;
