//! Where a redaction's marker goes: on token boundaries, with the text around
//! it well formed.
//!
//! A span's bytes come from the scan, but what is replaced is widened or
//! trimmed so that the filtered text reads cleanly:
//! - whole tokens only, and the whitespace around them stays outside the
//!   marker, exactly as in the original;
//! - punctuation glued to the word before the range (the comma of
//!   `statutory, including`) stays shown, so the marker follows the space a
//!   reader expects rather than sticking to the word;
//! - a bracket or straight quote the range would leave unpaired takes its
//!   partner along when that lies within [`BALANCE_REACH`] tokens: no
//!   `… any Contributor)` dangling after a marker.

use std::ops::Range;

/// Tokens past a range searched for the partner of an unpaired bracket or quote.
const BALANCE_REACH: usize = 8;
/// Rounds of widening: each can unpair a bracket the previous one took in.
const BALANCE_ROUNDS: usize = 4;

const PAIRS: [(&str, &str); 4] = [("(", ")"), ("[", "]"), ("{", "}"), ("\u{201C}", "\u{201D}")];

/// The text's tokens, as byte ranges (what [`redaction_bounds`] snaps to).
pub(crate) fn token_ranges(text: &str) -> Vec<Range<usize>> {
    recital_text::tokenize(text).tokens.into_iter().map(|t| t.src).collect()
}

/// The byte range to replace for a redaction of `r` in `text` (whose tokens
/// are `toks`); `None` when `r` covers no token.
pub(crate) fn redaction_bounds(text: &str, toks: &[Range<usize>], r: Range<usize>) -> Option<Range<usize>> {
    let mut a = toks.partition_point(|t| t.end <= r.start);
    let b = toks.partition_point(|t| t.start < r.end);
    while a < b && a > 0 && toks[a - 1].end == toks[a].start && is_trailing(&text[toks[a].clone()]) {
        a += 1;
    }
    if a >= b {
        return None;
    }
    let (a, b) = balance(text, toks, a, b);
    Some(toks[a].start..toks[b - 1].end)
}

/// Punctuation that ends a phrase and belongs to the word before it.
fn is_trailing(tok: &str) -> bool {
    matches!(tok, "," | "." | ";" | ":" | "!" | "?")
}

/// Widens tokens `a..b` to take in the partners of unpaired brackets and quotes.
fn balance(text: &str, toks: &[Range<usize>], mut a: usize, mut b: usize) -> (usize, usize) {
    let tok = |i: usize| &text[toks[i].clone()];
    for _ in 0..BALANCE_ROUNDS {
        let (from, to) = (a, b);
        for (open, close) in PAIRS {
            let (unopened, unclosed) = unpaired(a, b, tok, open, close);
            if unopened > 0 {
                a = partner_before(a, tok, open, close).unwrap_or(a);
            }
            if unclosed > 0 {
                b = partner_after(b, toks.len(), tok, open, close).map_or(b, |i| i + 1);
            }
        }
        let quotes = (a..b).filter(|&i| tok(i) == "\"").count();
        if quotes % 2 == 1 {
            let opens = (0..a).filter(|&i| tok(i) == "\"").count() % 2 == 0;
            let found = if opens {
                (b..toks.len().min(b + BALANCE_REACH)).find(|&i| tok(i) == "\"").map(|i| (a, i + 1))
            } else {
                (a.saturating_sub(BALANCE_REACH)..a).rev().find(|&i| tok(i) == "\"").map(|i| (i, b))
            };
            (a, b) = found.unwrap_or((a, b));
        }
        if (a, b) == (from, to) {
            break;
        }
    }
    (a, b)
}

/// Closers without an opener, and openers without a closer, in `a..b`.
fn unpaired<'t>(
    a: usize,
    b: usize,
    tok: impl Fn(usize) -> &'t str,
    open: &str,
    close: &str,
) -> (usize, usize) {
    let (mut unopened, mut depth) = (0usize, 0usize);
    for i in a..b {
        let t = tok(i);
        if t == open {
            depth += 1;
        } else if t == close {
            if depth == 0 {
                unopened += 1;
            } else {
                depth -= 1;
            }
        }
    }
    (unopened, depth)
}

/// The opener, at most [`BALANCE_REACH`] tokens before `a`, that the first
/// unopened closer of the range pairs with: the first one going back at depth 0.
fn partner_before<'t>(a: usize, tok: impl Fn(usize) -> &'t str, open: &str, close: &str) -> Option<usize> {
    let mut depth = 0usize;
    for i in (a.saturating_sub(BALANCE_REACH)..a).rev() {
        let t = tok(i);
        if t == close {
            depth += 1;
        } else if t == open {
            if depth == 0 {
                return Some(i);
            }
            depth -= 1;
        }
    }
    None
}

/// The closer, at most [`BALANCE_REACH`] tokens after `b`, of the range's
/// last unclosed opener.
fn partner_after<'t>(
    b: usize,
    n: usize,
    tok: impl Fn(usize) -> &'t str,
    open: &str,
    close: &str,
) -> Option<usize> {
    let mut depth = 0usize;
    for i in b..n.min(b + BALANCE_REACH) {
        let t = tok(i);
        if t == open {
            depth += 1;
        } else if t == close {
            if depth == 0 {
                return Some(i);
            }
            depth -= 1;
        }
    }
    None
}
