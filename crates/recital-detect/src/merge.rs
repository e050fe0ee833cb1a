//! One copy, one span: pieces of one copied passage merged before judging.
//!
//! A copy can come back in pieces: an edited passage chains differently in
//! two documents that hold the same text (two versions of a licence), and each
//! piece is credited to whichever document chained it best. Judged piece by
//! piece, every part may fall under a policy's threshold although the copy as
//! a whole does not; an evader could cut a copy on purpose. So copy spans are
//! merged into one when they
//! - overlap,
//! - touch with no token between them (only whitespace), or
//! - are at most `max_gap` tokens apart and share a source document,
//!
//! and the merged span lists every source of its pieces, each with its own
//! rights: the policy judges the whole copy against each of them and takes the
//! strictest outcome. Text spans (`exact`, `near`) merge with each other,
//! `code-canonical` spans with each other; `boilerplate` is never merged.

use std::ops::Range;

use recital_index::Stream;
use recital_text::TokenStream;

use crate::report::{Source, Span, SpanKind};

/// How far apart pieces may be and how many sources a merged span keeps.
#[derive(Debug, Clone, Copy)]
pub struct MergeLimits {
    /// Largest gap, in tokens, between pieces that share a source document.
    pub max_gap: usize,
    /// Sources kept per span; a source whose rights differ from every kept
    /// one is kept beyond it (dropping it could hide the strictest outcome).
    pub max_sources: usize,
}

/// Merges the pieces of each copy in `spans` (byte offsets into `text`),
/// returned in order of `byte_start`. Spans that merge with nothing are
/// returned unchanged.
pub fn merge_copies(spans: Vec<Span>, text: &str, limits: MergeLimits) -> Vec<Span> {
    merge_with_tokens(spans, text, &recital_text::tokenize(text), limits)
}

/// [`merge_copies`] with the text's tokens already at hand (the scan's).
pub fn merge_with_tokens(
    mut spans: Vec<Span>,
    text: &str,
    ts: &TokenStream,
    limits: MergeLimits,
) -> Vec<Span> {
    spans.sort_by(|a, b| a.byte_start.cmp(&b.byte_start).then(b.byte_end.cmp(&a.byte_end)));
    let mut out: Vec<Span> = Vec::with_capacity(spans.len());
    // One open group per stream: text copies and canonical code copies
    // interleave without merging with each other.
    let mut open: [Vec<Span>; 2] = [Vec::new(), Vec::new()];
    for s in spans {
        if s.kind == SpanKind::Boilerplate {
            out.push(s);
            continue;
        }
        let g = &mut open[usize::from(s.stream == Stream::Canon)];
        if !g.is_empty() && !joins(g, &s, ts, limits.max_gap) {
            out.push(combine(std::mem::take(g), text, ts, limits.max_sources));
        }
        g.push(s);
    }
    for g in open.into_iter().filter(|g| !g.is_empty()) {
        out.push(combine(g, text, ts, limits.max_sources));
    }
    out.sort_by(|a, b| a.byte_start.cmp(&b.byte_start).then(b.byte_end.cmp(&a.byte_end)));
    out
}

/// Whether `s` (starting at or after the group's start) continues the group.
fn joins(group: &[Span], s: &Span, ts: &TokenStream, max_gap: usize) -> bool {
    let end = group.iter().map(|p| p.byte_end).max().unwrap_or(0);
    if s.byte_start <= end {
        return true;
    }
    let gap = tokens_in(ts, end..s.byte_start);
    gap == 0 || gap <= max_gap && group.iter().any(|p| shares_source(p, s))
}

fn shares_source(a: &Span, b: &Span) -> bool {
    a.sources.iter().any(|x| b.sources.iter().any(|y| x.doc_id == y.doc_id))
}

/// Tokens lying wholly inside `r`.
fn tokens_in(ts: &TokenStream, r: Range<usize>) -> usize {
    let from = ts.tokens.partition_point(|t| t.src.start < r.start);
    let to = ts.tokens.partition_point(|t| t.src.end <= r.end);
    to.saturating_sub(from)
}

/// One span for a group of pieces (sorted by start).
fn combine(mut pieces: Vec<Span>, text: &str, ts: &TokenStream, max_sources: usize) -> Span {
    if pieces.len() == 1 {
        return pieces.pop().unwrap_or_else(|| unreachable!("one piece"));
    }
    let first = &pieces[0];
    let last = pieces.iter().max_by_key(|p| p.byte_end).unwrap_or(first);
    let range = first.byte_start..last.byte_end;
    let canon = first.stream == Stream::Canon;
    let tokens = if canon { lexemes(&pieces) } else { tokens_in(ts, range.clone()) };
    let whole = pieces.iter().find(|p| p.byte_start == range.start && p.byte_end == range.end);
    let (kind, similarity) = match whole {
        Some(w) => (w.kind, w.similarity),
        None if canon => (SpanKind::CodeCanonical, 1.0),
        None => (SpanKind::Near, similarity(&pieces, ts, &range, tokens)),
    };
    let sources = union_sources(&pieces, max_sources);
    Span {
        byte_start: range.start,
        byte_end: range.end,
        char_start: first.char_start,
        char_end: last.char_end,
        utf16_start: first.utf16_start,
        utf16_end: last.utf16_end,
        tokens,
        count: pieces.iter().map(|p| p.count).max().unwrap_or(0),
        doc_count: pieces.iter().map(|p| p.doc_count).max().unwrap_or(0).max(sources.len() as u64),
        kind,
        stream: first.stream,
        similarity,
        longest_exact_run: pieces.iter().map(|p| p.longest_exact_run).max().unwrap_or(0),
        text: text.get(range).unwrap_or_default().to_string(),
        sources,
    }
}

/// Lexemes of merged canonical pieces: each piece's own, less its share of
/// the bytes already counted (the text's tokens are not the code's lexemes).
fn lexemes(pieces: &[Span]) -> usize {
    let mut reach = 0;
    let mut total = 0;
    for p in pieces {
        let len = (p.byte_end - p.byte_start).max(1);
        let new = p.byte_end.saturating_sub(reach.max(p.byte_start));
        total += (p.tokens * new).div_ceil(len);
        reach = reach.max(p.byte_end);
    }
    total
}

/// Token-weighted similarity of the pieces, scaled by the share of the
/// merged range they cover (the tokens of a gap count as edits).
fn similarity(pieces: &[Span], ts: &TokenStream, range: &Range<usize>, tokens: usize) -> f64 {
    let weight: usize = pieces.iter().map(|p| p.tokens).sum();
    let mean = pieces.iter().map(|p| p.similarity * p.tokens as f64).sum::<f64>() / weight.max(1) as f64;
    let from = ts.tokens.partition_point(|t| t.src.start < range.start);
    let to = ts.tokens.partition_point(|t| t.src.end <= range.end);
    let covered = ts.tokens[from..to.max(from)]
        .iter()
        .filter(|t| pieces.iter().any(|p| p.byte_start <= t.src.start && t.src.end <= p.byte_end))
        .count();
    mean * covered as f64 / tokens.max(1) as f64
}

/// The pieces' sources, each document once, in order: the first
/// `max_sources`, then any whose rights differ from all of those kept.
fn union_sources(pieces: &[Span], max_sources: usize) -> Vec<Source> {
    let mut out: Vec<Source> = Vec::new();
    for s in pieces.iter().flat_map(|p| &p.sources) {
        if out.iter().any(|k| k.doc_id == s.doc_id) {
            continue;
        }
        if out.len() < max_sources || !out.iter().any(|k| same_rights(k, s)) {
            out.push(s.clone());
        }
    }
    out
}

/// Whether two sources carry the same rights (what a policy judges).
fn same_rights(a: &Source, b: &Source) -> bool {
    a.license == b.license
        && a.tdm_opt_out == b.tdm_opt_out
        && a.jurisdictions == b.jurisdictions
        && a.category == b.category
        && a.holder == b.holder
}

#[cfg(test)]
#[path = "merge_tests.rs"]
mod tests;
