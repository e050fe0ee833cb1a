//! Which pieces merge, and what the merged span says.

use recital_index::Stream;

use super::{merge_copies, MergeLimits};
use crate::report::{Source, Span, SpanKind};

const LIMITS: MergeLimits = MergeLimits { max_gap: 3, max_sources: 2 };

fn source(doc_id: &str, license: &str) -> Source {
    Source {
        doc_id: doc_id.to_string(),
        path: None,
        license: license.to_string(),
        holder: None,
        url: None,
        tdm_opt_out: false,
        jurisdictions: vec!["*".to_string()],
        category: None,
        tdm_policy: None,
        iscc: None,
        provenance: Vec::new(),
        source_byte_start: 0,
        source_byte_end: 0,
        snippet: String::new(),
        snippet_hit: [0, 0],
    }
}

/// A span over the first occurrence of `piece` in `text`.
fn span(text: &str, piece: &str, kind: SpanKind, sources: Vec<Source>) -> Span {
    let s = text.find(piece).unwrap_or_else(|| panic!("{piece:?} in {text:?}"));
    let e = s + piece.len();
    Span {
        byte_start: s,
        byte_end: e,
        char_start: text[..s].chars().count(),
        char_end: text[..e].chars().count(),
        utf16_start: text[..s].encode_utf16().count(),
        utf16_end: text[..e].encode_utf16().count(),
        tokens: recital_text::tokenize(piece).len(),
        count: 1,
        doc_count: 1,
        kind,
        stream: if kind == SpanKind::CodeCanonical { Stream::Canon } else { Stream::Text },
        similarity: if kind == SpanKind::Near { 0.9 } else { 1.0 },
        longest_exact_run: 3,
        text: piece.to_string(),
        sources,
    }
}

fn ids(s: &Span) -> Vec<&str> {
    s.sources.iter().map(|x| x.doc_id.as_str()).collect()
}

#[test]
fn overlapping_pieces_from_two_documents_are_one_copy() {
    let text = "intro « the entire risk as to the quality and performance » outro";
    let a = span(text, "the entire risk as to the", SpanKind::Near, vec![source("mpl2", "MPL-2.0")]);
    let b = span(text, "as to the quality and performance", SpanKind::Near, vec![source("mpl1", "MPL-1.1")]);
    let out = merge_copies(vec![b, a], text, LIMITS);
    assert_eq!(out.len(), 1, "{out:?}");
    let m = &out[0];
    assert_eq!(m.text, "the entire risk as to the quality and performance");
    assert_eq!((m.byte_start, m.byte_end), (9, 9 + m.text.len()), "« is two bytes, one char");
    assert_eq!((m.char_start, m.char_end), (8, 8 + m.text.chars().count()));
    assert_eq!(m.tokens, 9);
    assert_eq!(m.kind, SpanKind::Near);
    assert!((m.similarity - 0.9).abs() < 1e-9, "{}", m.similarity);
    assert_eq!(ids(m), ["mpl2", "mpl1"]);
    assert_eq!(m.doc_count, 2);
}

#[test]
fn pieces_touching_across_whitespace_merge_and_a_word_between_strangers_does_not() {
    let text = "alpha beta gamma\n  delta epsilon zeta eta theta";
    let a = span(text, "alpha beta gamma", SpanKind::Exact, vec![source("x", "MIT")]);
    let b = span(text, "delta epsilon", SpanKind::Exact, vec![source("y", "GPL-2.0-only")]);
    let c = span(text, "eta theta", SpanKind::Exact, vec![source("z", "MIT")]);
    let out = merge_copies(vec![a, b, c], text, LIMITS);
    assert_eq!(out.len(), 2, "{out:?}");
    assert_eq!(out[0].text, "alpha beta gamma\n  delta epsilon");
    assert_eq!((out[0].kind, out[0].similarity), (SpanKind::Near, 1.0));
    assert_eq!(out[1].text, "eta theta", "one word (zeta) between documents that share nothing");
}

#[test]
fn a_small_gap_merges_only_pieces_that_share_a_source() {
    let text = "one two three four five six seven eight nine ten eleven twelve";
    let a = span(text, "one two three", SpanKind::Exact, vec![source("d", "MIT")]);
    let b = span(text, "six seven", SpanKind::Exact, vec![source("d", "MIT"), source("e", "MIT")]);
    let far = span(text, "twelve", SpanKind::Exact, vec![source("d", "MIT")]);
    let out = merge_copies(vec![a, b, far], text, LIMITS);
    assert_eq!(out.len(), 2, "{out:?}");
    assert_eq!(out[0].text, "one two three four five six seven");
    assert_eq!(out[0].tokens, 7);
    let sim = out[0].similarity;
    assert!((sim - 5.0 / 7.0).abs() < 1e-9, "two gap tokens of seven count as edits: {sim}");
    assert_eq!(ids(&out[0]), ["d", "e"]);
    assert_eq!(out[1].text, "twelve", "four tokens apart is past max_gap");
}

#[test]
fn boilerplate_and_other_streams_stay_apart_and_lone_spans_are_unchanged() {
    let text = "fn main() { let x = 1; println!(x); }";
    let code = span(text, "fn main() { let x = 1;", SpanKind::CodeCanonical, vec![source("c", "MIT")]);
    let more = span(text, "let x = 1; println!(x); }", SpanKind::CodeCanonical, vec![source("k", "MIT")]);
    let words = span(text, "main() { let", SpanKind::Exact, vec![source("t", "MIT")]);
    let stock = span(text, "println!(x);", SpanKind::Boilerplate, vec![source("b", "MIT")]);
    let out = merge_copies(vec![code, more, words.clone(), stock], text, LIMITS);
    assert_eq!(out.len(), 3, "{out:?}");
    let canon = out.iter().find(|s| s.stream == Stream::Canon).unwrap_or_else(|| panic!("{out:?}"));
    assert_eq!(canon.text, text);
    assert_eq!(canon.kind, SpanKind::CodeCanonical);
    assert!(canon.tokens > 0);
    let lone = out.iter().find(|s| s.kind == SpanKind::Exact).unwrap_or_else(|| panic!("{out:?}"));
    assert_eq!(
        (lone.byte_start, lone.byte_end, lone.tokens),
        (words.byte_start, words.byte_end, words.tokens)
    );
    assert!(out.iter().any(|s| s.kind == SpanKind::Boilerplate && s.text == "println!(x);"));
}

#[test]
fn the_source_cap_keeps_every_distinct_right() {
    let text = "aa bb cc dd ee ff gg hh";
    let a = span(text, "aa bb cc dd", SpanKind::Near, vec![source("1", "MIT"), source("2", "MIT")]);
    let mut optout = source("4", "MIT");
    optout.tdm_opt_out = true;
    let b =
        span(text, "dd ee ff gg hh", SpanKind::Near, vec![source("3", "MIT"), optout, source("2", "MIT")]);
    let out = merge_copies(vec![a, b], text, LIMITS);
    assert_eq!(out.len(), 1);
    assert_eq!(ids(&out[0]), ["1", "2", "4"], "3 repeats rights already kept; 4 reserved TDM");
}
