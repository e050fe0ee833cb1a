//! The hand-written lexer: one loop for all languages, driven by [`Lang`].
//!
//! It never fails and never panics: any byte sequence lexes to *something*.
//! Unterminated block comments, raw strings, triple-quoted strings, template
//! literals and text blocks run to the end of the input, as the brief of a
//! fragment would have them. Ordinary quoted strings and character literals
//! in languages where they cannot span lines (all but Rust) end at the end
//! of their line instead: a compiler would reject the newline anyway, and in
//! a fragment a stray quote (an apostrophe in a cut-off comment) must not
//! swallow the rest of the input.

use std::ops::Range;

use super::lang::Lang;
use crate::normalize::is_ignorable;

/// What a lexeme is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LexemeKind {
    /// A name that is not a keyword (Rust lifetimes and raw identifiers too).
    Identifier,
    /// A reserved word of the language.
    Keyword,
    /// A numeric literal, any base, with fraction, exponent and suffix.
    Number,
    /// A string, character, template or (JavaScript) regular expression
    /// literal, prefixes and delimiters included.
    String,
    /// An operator or punctuation mark (longest match), or any other
    /// character that is not whitespace.
    Punct,
}

/// One lexeme: its kind and byte range in the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lexeme {
    /// What it is.
    pub kind: LexemeKind,
    /// Its bytes in the input (never empty, on char boundaries).
    pub src: Range<usize>,
}

/// How deep template literals may nest inside `${…}` before the lexer stops
/// looking for nested ones (a guard against stack exhaustion).
const MAX_TEMPLATE_DEPTH: usize = 32;

/// An iterator over the lexemes of a source text.
#[derive(Debug, Clone)]
pub struct Lexer<'a> {
    src: &'a str,
    pos: usize,
    lang: Lang,
    /// The previous lexeme's kind and range, to tell a JavaScript regular
    /// expression from a division.
    prev: Option<(LexemeKind, Range<usize>)>,
}

impl<'a> Lexer<'a> {
    /// A lexer over `src` for `lang`.
    pub fn new(src: &'a str, lang: Lang) -> Self {
        Lexer { src, pos: 0, lang, prev: None }
    }

    #[inline]
    fn byte(&self, i: usize) -> u8 {
        self.src.as_bytes().get(i).copied().unwrap_or(0)
    }

    #[inline]
    fn char_at(&self, i: usize) -> Option<char> {
        self.src.get(i..).and_then(|s| s.chars().next())
    }

    #[inline]
    fn starts(&self, i: usize, pat: &str) -> bool {
        self.src.as_bytes().get(i..).is_some_and(|s| s.starts_with(pat.as_bytes()))
    }

    fn is_ident_start(&self, c: char) -> bool {
        c == '_' || c.is_alphabetic() || (c == '$' && self.lang.dollar_ident())
    }

    fn is_ident_continue(&self, c: char) -> bool {
        c == '_' || c.is_alphanumeric() || (c == '$' && self.lang.dollar_ident())
    }

    /// End of the identifier that starts at `i`.
    fn ident_end(&self, mut i: usize) -> usize {
        let b = self.src.as_bytes();
        let dollar = self.lang.dollar_ident();
        while i < b.len() {
            let x = b[i];
            if x.is_ascii_alphanumeric() || x == b'_' || (x == b'$' && dollar) {
                i += 1;
            } else if x < 0x80 {
                break;
            } else {
                match self.char_at(i) {
                    Some(c) if self.is_ident_continue(c) => i += c.len_utf8(),
                    _ => break,
                }
            }
        }
        i
    }

    /// Skips whitespace, ignorable characters, line continuations and
    /// comments. Returns false at the end of the input.
    fn skip_layout(&mut self) -> bool {
        loop {
            if matches!(self.byte(self.pos), b' ' | b'\t' | b'\n' | b'\r') {
                self.pos += 1;
                continue;
            }
            let Some(c) = self.char_at(self.pos) else {
                return false;
            };
            if c.is_whitespace() || is_ignorable(c) {
                self.pos += c.len_utf8();
            } else if c == '\\' && matches!(self.byte(self.pos + 1), b'\n' | b'\r') {
                self.pos += 1;
            } else if self.lang.c_comments() && self.starts(self.pos, "//") {
                self.pos = self.line_end(self.pos);
            } else if self.lang.c_comments() && self.starts(self.pos, "/*") {
                self.pos = self.block_comment_end(self.pos + 2);
            } else if self.lang == Lang::Python && c == '#' {
                self.pos = self.line_end(self.pos);
            } else {
                return true;
            }
        }
    }

    /// Offset of the next `\n` at or after `i`, or the end.
    fn line_end(&self, i: usize) -> usize {
        memchr(b'\n', &self.src.as_bytes()[i.min(self.src.len())..]).map_or(self.src.len(), |o| i + o)
    }

    /// End of a block comment whose body starts at `i` (nested in Rust).
    fn block_comment_end(&self, mut i: usize) -> usize {
        let b = self.src.as_bytes();
        let nests = self.lang == Lang::Rust;
        let mut depth = 1usize;
        while i < b.len() {
            if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
                depth -= 1;
                i += 2;
                if depth == 0 {
                    return i;
                }
            } else if nests && b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
                depth += 1;
                i += 2;
            } else {
                i += 1;
            }
        }
        b.len()
    }

    /// End of a quoted literal whose body starts at `i`, closed by `close`.
    /// Backslash escapes the next byte when `escapes`; an unescaped newline
    /// ends an unterminated literal unless `multiline`.
    fn quoted_end(&self, mut i: usize, close: &str, escapes: bool, multiline: bool) -> usize {
        let b = self.src.as_bytes();
        while i < b.len() {
            if escapes && b[i] == b'\\' {
                i += 2;
                continue;
            }
            if !multiline && b[i] == b'\n' {
                return i;
            }
            if b[i..].starts_with(close.as_bytes()) {
                return i + close.len();
            }
            i += 1;
        }
        b.len()
    }

    /// End of a JavaScript template literal whose body starts at `i`.
    fn template_end(&self, mut i: usize, depth: usize) -> usize {
        let b = self.src.as_bytes();
        while i < b.len() {
            match b[i] {
                b'\\' => i += 2,
                b'`' => return i + 1,
                b'$' if b.get(i + 1) == Some(&b'{') && depth < MAX_TEMPLATE_DEPTH => {
                    i = self.template_expr_end(i + 2, depth + 1);
                }
                _ => i += 1,
            }
        }
        b.len()
    }

    /// End of a `${…}` expression in a template literal, body at `i`.
    fn template_expr_end(&self, mut i: usize, depth: usize) -> usize {
        let b = self.src.as_bytes();
        let mut braces = 1usize;
        while i < b.len() {
            match b[i] {
                b'{' => braces += 1,
                b'}' => {
                    braces -= 1;
                    if braces == 0 {
                        return i + 1;
                    }
                }
                b'`' => {
                    i = self.template_end(i + 1, depth);
                    continue;
                }
                q @ (b'"' | b'\'') => {
                    i = self.quoted_end(i + 1, if q == b'"' { "\"" } else { "'" }, true, false);
                    continue;
                }
                _ => {}
            }
            i += 1;
        }
        b.len()
    }

    /// End of a number that starts at `i`.
    fn number_end(&self, start: usize) -> usize {
        let b = self.src.as_bytes();
        let mut i = start;
        let hex = b.get(i) == Some(&b'0') && matches!(self.byte(i + 1), b'x' | b'X');
        if hex {
            i += 2;
        }
        let mut seen_dot = false;
        while i < b.len() {
            let c = b[i];
            let prev = if i > start { b[i - 1] } else { 0 };
            // An exponent sign: `1e-3`, `0x1p+4`.
            let sign = (c == b'+' || c == b'-')
                && (if hex { matches!(prev, b'p' | b'P') } else { matches!(prev, b'e' | b'E') })
                && self.byte(i + 1).is_ascii_digit();
            // A C++14 digit separator: `1'000'000`.
            let separator = c == b'\''
                && self.lang == Lang::Cpp
                && prev.is_ascii_alphanumeric()
                && self.byte(i + 1).is_ascii_alphanumeric();
            if c.is_ascii_alphanumeric() || c == b'_' || sign || separator {
                i += 1;
            } else if c == b'.' && !seen_dot && !hex {
                // A fraction unless a range (`0..9`) or a member (`1.max`).
                let take = match self.char_at(i + 1) {
                    Some(n) if n.is_ascii_digit() => true,
                    Some('.') => false,
                    Some(n) if self.is_ident_start(n) => false,
                    _ => true,
                };
                if !take {
                    break;
                }
                seen_dot = true;
                i += 1;
            } else {
                break;
            }
        }
        i
    }

    /// If a string literal starts at `i` after an identifier prefix `word`
    /// (`r`, `b`, `f`, `L`, `u8`, `R`…), its end.
    fn prefixed_string(&self, word: &str, i: usize) -> Option<usize> {
        let q = self.byte(i);
        match self.lang {
            Lang::Python => {
                let lower = word.to_ascii_lowercase();
                let ok = matches!(
                    lower.as_str(),
                    "r" | "u" | "b" | "f" | "t" | "br" | "rb" | "fr" | "rf" | "tr" | "rt"
                );
                (ok && (q == b'"' || q == b'\'')).then(|| self.python_string_end(i))
            }
            Lang::Rust => match (word, q) {
                ("b", b'\'') => Some(self.quoted_end(i + 1, "'", true, false)),
                ("b" | "c", b'"') => Some(self.quoted_end(i + 1, "\"", true, true)),
                ("r" | "br" | "cr", b'"' | b'#') => self.rust_raw_end(i),
                _ => None,
            },
            Lang::C | Lang::Cpp => {
                if matches!(word, "L" | "u" | "U" | "u8") && (q == b'"' || q == b'\'') {
                    let close = if q == b'"' { "\"" } else { "'" };
                    Some(self.quoted_end(i + 1, close, true, false))
                } else if self.lang == Lang::Cpp
                    && matches!(word, "R" | "LR" | "uR" | "UR" | "u8R")
                    && q == b'"'
                {
                    self.cpp_raw_end(i + 1)
                } else {
                    None
                }
            }
            _ => None,
        }
    }

    /// End of a Python string whose opening quote is at `i`.
    fn python_string_end(&self, i: usize) -> usize {
        let q = self.byte(i);
        let triple = if q == b'"' { "\"\"\"" } else { "'''" };
        if self.starts(i, triple) {
            self.quoted_end(i + 3, triple, true, true)
        } else {
            let close = if q == b'"' { "\"" } else { "'" };
            self.quoted_end(i + 1, close, true, false)
        }
    }

    /// End of a Rust raw string whose `#`s or quote start at `i`, or `None`
    /// if no quote follows the hashes (then `r#ident` is a raw identifier).
    fn rust_raw_end(&self, i: usize) -> Option<usize> {
        let b = self.src.as_bytes();
        let mut j = i;
        while j < b.len() && b[j] == b'#' {
            j += 1;
        }
        if b.get(j) != Some(&b'"') {
            return None;
        }
        let hashes = j - i;
        let mut k = j + 1;
        while k < b.len() {
            if b[k] == b'"' && b[k + 1..].iter().take(hashes).filter(|&&h| h == b'#').count() == hashes {
                return Some(k + 1 + hashes);
            }
            k += 1;
        }
        Some(b.len())
    }

    /// End of a C++ raw string `R"delim( … )delim"`, body after the quote at
    /// `i`; `None` if the delimiter is malformed.
    fn cpp_raw_end(&self, i: usize) -> Option<usize> {
        let b = self.src.as_bytes();
        let open = b[i.min(b.len())..].iter().take(17).position(|&c| c == b'(')?;
        let delim = &b[i..i + open];
        if delim.iter().any(|&c| c == b')' || c == b'\\' || c == b'"' || c.is_ascii_whitespace()) {
            return None;
        }
        let mut k = i + open + 1;
        while k < b.len() {
            if b[k] == b')' && b[k + 1..].starts_with(delim) && b.get(k + 1 + delim.len()) == Some(&b'"') {
                return Some(k + 2 + delim.len());
            }
            k += 1;
        }
        Some(b.len())
    }

    /// In JavaScript, whether a `/` here starts a regular expression rather
    /// than a division: after nothing, an operator other than a closing
    /// bracket or `<`, or a keyword other than a value keyword.
    fn regex_allowed(&self) -> bool {
        match &self.prev {
            None => true,
            // After `<` it is far likelier a JSX closing tag (`</div>`)
            // than a comparison with a regular expression.
            Some((LexemeKind::Punct, r)) => !matches!(&self.src[r.clone()], ")" | "]" | "}" | "<"),
            Some((LexemeKind::Keyword, r)) => {
                !matches!(&self.src[r.clone()], "this" | "super" | "true" | "false" | "null")
            }
            Some(_) => false,
        }
    }

    /// End of a JavaScript regular expression whose `/` is at `i`, or `None`
    /// if none closes on this line.
    fn regex_end(&self, i: usize) -> Option<usize> {
        let b = self.src.as_bytes();
        let mut k = i + 1;
        let mut class = false;
        if matches!(b.get(k), Some(b'/') | Some(b'*')) {
            return None;
        }
        while k < b.len() {
            match b[k] {
                b'\\' => k += 1,
                b'\n' | b'\r' => return None,
                b'[' => class = true,
                b']' => class = false,
                b'/' if !class => {
                    let mut e = k + 1;
                    while e < b.len() && (b[e].is_ascii_alphanumeric() || b[e] == b'$' || b[e] == b'_') {
                        e += 1;
                    }
                    return Some(e);
                }
                _ => {}
            }
            k += 1;
        }
        None
    }

    /// Lexes one lexeme at `self.pos` (not layout); returns its kind and end.
    fn lex_one(&self) -> (LexemeKind, usize) {
        let start = self.pos;
        let lang = self.lang;
        let c = self.char_at(start).unwrap_or('\0');
        let b0 = self.byte(start);

        if self.is_ident_start(c) {
            let end = self.ident_end(start);
            let word = &self.src[start..end];
            if let Some(e) = self.prefixed_string(word, end) {
                return (LexemeKind::String, e);
            }
            if lang == Lang::Rust
                && word == "r"
                && self.byte(end) == b'#'
                && self.char_at(end + 1).is_some_and(|n| self.is_ident_start(n))
            {
                return (LexemeKind::Identifier, self.ident_end(end + 1));
            }
            let kind = if lang.is_keyword(word) { LexemeKind::Keyword } else { LexemeKind::Identifier };
            return (kind, end);
        }
        if b0.is_ascii_digit() || (b0 == b'.' && self.byte(start + 1).is_ascii_digit()) {
            return (LexemeKind::Number, self.number_end(start));
        }
        match (lang, b0) {
            (Lang::Python, b'"' | b'\'') => {
                return (LexemeKind::String, self.python_string_end(start));
            }
            (Lang::Java, b'"') if self.starts(start, "\"\"\"") => {
                return (LexemeKind::String, self.quoted_end(start + 3, "\"\"\"", true, true));
            }
            (Lang::Rust, b'"') => {
                return (LexemeKind::String, self.quoted_end(start + 1, "\"", true, true));
            }
            (Lang::Rust, b'\'') => return self.rust_quote(start),
            (_, b'"') => {
                return (LexemeKind::String, self.quoted_end(start + 1, "\"", true, false));
            }
            (Lang::Go, b'`') => {
                return (LexemeKind::String, self.quoted_end(start + 1, "`", false, true));
            }
            (Lang::JavaScript | Lang::TypeScript, b'`') => {
                return (LexemeKind::String, self.template_end(start + 1, 0));
            }
            (_, b'\'') => {
                return (LexemeKind::String, self.quoted_end(start + 1, "'", true, false));
            }
            (Lang::JavaScript | Lang::TypeScript, b'/') if self.regex_allowed() => {
                if let Some(e) = self.regex_end(start) {
                    return (LexemeKind::String, e);
                }
            }
            _ => {}
        }
        // Every multi-character operator is ASCII punctuation throughout, so
        // most punctuation (followed by a name, a digit or a space) needs no
        // look-up at all.
        if b0.is_ascii_punctuation() && self.byte(start + 1).is_ascii_punctuation() {
            let rest = &self.src.as_bytes()[start..];
            for op in lang.operators() {
                if rest.starts_with(op.as_bytes()) {
                    // `a?.5:b` is a conditional, not optional chaining.
                    if *op == "?." && self.byte(start + 2).is_ascii_digit() {
                        continue;
                    }
                    return (LexemeKind::Punct, start + op.len());
                }
            }
        }
        (LexemeKind::Punct, start + c.len_utf8())
    }

    /// A Rust `'`: a char literal (`'a'`, `'\n'`, `'\u{1F600}'`) or a
    /// lifetime or label (`'a`, `'static`), which counts as an identifier.
    fn rust_quote(&self, start: usize) -> (LexemeKind, usize) {
        let next = self.char_at(start + 1);
        match next {
            Some('\\') => (LexemeKind::String, self.quoted_end(start + 1, "'", true, false)),
            Some(n) => {
                let after = start + 1 + n.len_utf8();
                if self.byte(after) == b'\'' {
                    (LexemeKind::String, after + 1)
                } else if self.is_ident_start(n) {
                    (LexemeKind::Identifier, self.ident_end(after))
                } else {
                    (LexemeKind::Punct, start + 1)
                }
            }
            None => (LexemeKind::Punct, start + 1),
        }
    }
}

impl Iterator for Lexer<'_> {
    type Item = Lexeme;

    fn next(&mut self) -> Option<Lexeme> {
        if !self.skip_layout() {
            return None;
        }
        let start = self.pos;
        let (kind, end) = self.lex_one();
        // Every scanner stops at or before the end, but a backslash escape
        // may step past it, and a byte scanner may stop inside a char:
        // clamp and round up to a char boundary so ranges stay valid.
        let mut end = end.clamp(start + 1, self.src.len());
        while !self.src.is_char_boundary(end) {
            end += 1;
        }
        self.pos = end;
        self.prev = Some((kind, start..end));
        Some(Lexeme { kind, src: start..end })
    }
}

/// Position of the first `needle` in `hay`.
#[inline]
fn memchr(needle: u8, hay: &[u8]) -> Option<usize> {
    hay.iter().position(|&b| b == needle)
}
