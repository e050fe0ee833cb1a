//! Code mode: lexemes of source code, and the *canonical* stream in which
//! renamed and reformatted copies look the same.
//!
//! # What the canonical stream is
//!
//! The lexer ([`Lexer`]) reads identifiers, keywords, numbers, string and
//! character literals, and operators and punctuation (longest match), and
//! drops comments and all layout. [`canonical`] then keeps keywords and
//! operators as written and replaces every identifier by [`ID`], every
//! number by [`NUM`] and every string or character literal by [`STR`]. Two
//! fragments that differ only in layout, comments, names and literal values
//! (type-1 and type-2 clones) give the same stream, so a suffix-array match
//! over it finds them; 65 lexemes is the threshold GitHub Copilot's
//! duplicate filter uses. Each token keeps the byte range of its lexeme, so
//! matches are reported on the caller's code.
//!
//! The code is not normalised as text is: keywords are case-sensitive in
//! every language here, and identifiers are abstracted anyway.
//!
//! # Why a hand-written lexer and not tree-sitter
//!
//! - Clone matching at type 1 and 2 needs lexemes, not parse trees; one
//!   uniform lexeme-level lexer, configured per language by keyword and
//!   operator tables ([`Lang`]), covers C, C++, Python, Rust, JavaScript,
//!   TypeScript, Java and Go in a few hundred lines.
//! - Model outputs are usually fragments: half a function, an unclosed
//!   string, a snippet cut mid-comment. A grammar-driven parser turns those
//!   into error nodes whose leaves depend on the recovery heuristics; a lexer
//!   handles fragments and gives the same lexemes for the same text wherever
//!   it is cut.
//! - tree-sitter grammars are C code: eight of them add minutes of C
//!   compilation to every clean build on a 2-core CI, and a C dependency to a
//!   crate that is otherwise pure Rust.
//!
//! The price: context-dependent corners are approximated (a JavaScript `/`
//! is a regular expression after an operator or keyword, a division
//! otherwise; contextual keywords are keywords everywhere; C++ `>>` closing
//! two templates is one operator). Both sides of a comparison are lexed by
//! the same rules, so the approximations cost recall only at their edges.
//!
//! # Markers
//!
//! The marker strings begin with U+0001, a control character. Text
//! normalisation keeps a control character as a punctuation token *of its
//! own*, so no text token and no keyword or operator can ever equal a
//! marker: an index may hold text and code tokens in one vocabulary.

mod lang;
mod lexer;

pub use lang::Lang;
pub use lexer::{Lexeme, LexemeKind, Lexer};

use crate::{Scratch, Token, TokenStream};

/// Canonical token for every identifier (Rust lifetimes included).
pub const ID: &str = "\u{1}id";
/// Canonical token for every numeric literal.
pub const NUM: &str = "\u{1}num";
/// Canonical token for every string, character, template or regular
/// expression literal.
pub const STR: &str = "\u{1}str";

/// The lexemes of `input` in `lang`: comments and layout dropped.
pub fn lexemes(input: &str, lang: Lang) -> Lexer<'_> {
    Lexer::new(input, lang)
}

/// The canonical text of one lexeme.
#[inline]
fn canonical_text<'a>(input: &'a str, lx: &Lexeme) -> &'a str {
    match lx.kind {
        LexemeKind::Identifier => ID,
        LexemeKind::Number => NUM,
        LexemeKind::String => STR,
        LexemeKind::Keyword | LexemeKind::Punct => &input[lx.src.clone()],
    }
}

/// Canonical code stream with offsets (comments and layout dropped,
/// identifiers and literals abstracted).
///
/// `norm` holds the canonical tokens separated by single spaces; each
/// token's `src` is its lexeme's byte range. Never panics.
pub fn canonical(input: &str, lang: Lang) -> TokenStream {
    let mut ts = TokenStream::default();
    for lx in Lexer::new(input, lang) {
        if !ts.norm.is_empty() {
            ts.norm.push(' ');
        }
        let start = ts.norm.len();
        ts.norm.push_str(canonical_text(input, &lx));
        ts.tokens.push(Token { norm: start..ts.norm.len(), src: lx.src });
    }
    ts
}

/// [`for_each_canonical`] with each lexeme's byte offset in `input`.
pub fn for_each_canonical_at(input: &str, lang: Lang, scratch: &mut Scratch, mut f: impl FnMut(&str, usize)) {
    let _ = scratch;
    for lx in Lexer::new(input, lang) {
        f(canonical_text(input, &lx), lx.src.start);
    }
}

/// The canonical text of one lexeme of `input` (`ID`, `NUM`, `STR`, or the
/// keyword or punctuation itself).
pub fn canonical_of<'a>(input: &'a str, lx: &Lexeme) -> &'a str {
    canonical_text(input, lx)
}

/// Fast path of `canonical`.
///
/// Calls `f` with exactly the token strings of [`canonical`], in order,
/// without allocating. `scratch` is accepted for symmetry with
/// [`crate::for_each_token`]; the lexer needs no buffers.
pub fn for_each_canonical(input: &str, lang: Lang, scratch: &mut Scratch, mut f: impl FnMut(&str)) {
    let _ = scratch;
    for lx in Lexer::new(input, lang) {
        f(canonical_text(input, &lx));
    }
}

#[cfg(test)]
mod tests;
