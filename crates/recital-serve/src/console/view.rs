//! The scan view's model: the output cut into plain and flagged segments,
//! each span with its decision and sources, the documents cited, and for
//! `near` and `code-canonical` spans the aligned side-by-side rows.
//!
//! Built from a report whose snippets are already limited
//! ([`crate::engine::limit_snippets`]), so nothing here can show more of a
//! source than the API would.

use std::collections::HashMap;

use recital_detect::report::SpanKind;
use recital_detect::ScanReport;
use recital_policy::Decision;
use serde::{Deserialize, Serialize};
use similar::{capture_diff_slices, Algorithm, DiffTag};

use crate::engine::action_name;

/// A piece of the output: plain text or one span's text.
#[derive(Serialize, Deserialize)]
pub struct Segment {
    /// The text.
    pub text: String,
    /// Index of the span it belongs to.
    pub span: Option<usize>,
    /// That span's kind (empty for plain text).
    pub kind: String,
    /// That span's action.
    pub action: String,
    /// That span's cited documents ([`SpanView::doc_refs`]).
    pub docs: String,
}

/// One span as the page shows it.
#[derive(Serialize, Deserialize)]
pub struct SpanView {
    /// Index in the report.
    pub idx: usize,
    /// `exact`, `near`, `code-canonical`, `boilerplate`.
    pub kind: String,
    /// The policy's action on it.
    pub action: String,
    /// Tokens.
    pub tokens: usize,
    /// Edit similarity, as a percentage.
    pub similarity: String,
    /// Occurrences in the corpus.
    pub count: u64,
    /// The deciding rule.
    pub rule: Option<String>,
    /// The decision's sentence for this span.
    pub reason: String,
    /// Sources, as located.
    pub sources: Vec<SourceView>,
    /// Indices into [`ScanView::docs`] of the documents it cites, as
    /// `d0 d3` for the page's data attribute.
    pub doc_refs: String,
}

/// A source of a span.
#[derive(Serialize, Deserialize)]
pub struct SourceView {
    /// Index into [`ScanView::docs`].
    pub doc: usize,
    /// Document id.
    pub doc_id: String,
    /// Path or title.
    pub label: String,
    /// SPDX licence.
    pub license: String,
    /// Rights holder.
    pub holder: Option<String>,
    /// URL, only when it is a web address (the page links it).
    pub url: Option<String>,
    /// Any other identifier given as the URL.
    pub url_text: Option<String>,
    /// The matched text in the source, at most the API's snippet limit.
    pub snippet: String,
    /// For `near` and `code-canonical`: output and source aligned.
    pub aligned: Vec<AlignedRow>,
    /// The snippet stops at the API's limit before the copy ends: the rest
    /// of the span is not compared (rather than marked as added).
    pub aligned_partial: bool,
}

/// One row of the side-by-side view: the same stretch of output and source.
#[derive(Serialize, Deserialize)]
pub struct AlignedRow {
    /// The output's words.
    pub output: String,
    /// The source's words.
    pub source: String,
    /// `same`, `changed`, `output-only` or `source-only`.
    pub tag: String,
}

/// A document cited somewhere in the output.
#[derive(Serialize, Deserialize)]
pub struct DocView {
    /// Document id.
    pub doc_id: String,
    /// Path or title.
    pub label: String,
    /// SPDX licence.
    pub license: String,
    /// Spans citing it.
    pub spans: usize,
}

/// Everything the scan view shows.
#[derive(Serialize, Deserialize)]
pub struct ScanView {
    /// The output, cut at span boundaries.
    pub segments: Vec<Segment>,
    /// The spans.
    pub spans: Vec<SpanView>,
    /// Documents cited, most cited first.
    pub docs: Vec<DocView>,
    /// The response's action.
    pub action: String,
    /// Jurisdiction decided for.
    pub jurisdiction: String,
    /// Policy name and version.
    pub policy: String,
    /// Statement of reasons.
    pub statement: String,
    /// Rules that decided, in order of first use.
    pub rules: Vec<String>,
    /// Tokens of the output.
    pub tokens: usize,
    /// Coverage, as a percentage.
    pub coverage: String,
}

/// The kind's name as in the JSON.
pub fn kind_name(k: SpanKind) -> &'static str {
    match k {
        SpanKind::Exact => "exact",
        SpanKind::Near => "near",
        SpanKind::CodeCanonical => "code-canonical",
        SpanKind::Boilerplate => "boilerplate",
    }
}

impl ScanView {
    /// The view of `text` scanned into `report` and judged into `decision`.
    pub fn new(text: &str, report: &ScanReport, decision: &Decision) -> ScanView {
        let mut docs: Vec<DocView> = Vec::new();
        let mut doc_index: HashMap<String, usize> = HashMap::new();
        let mut spans = Vec::with_capacity(report.spans.len());
        for (i, s) in report.spans.iter().enumerate() {
            let d = decision.spans.iter().find(|d| d.span == i);
            let aligned_kind = matches!(s.kind, SpanKind::Near | SpanKind::CodeCanonical);
            let mut sources = Vec::new();
            let mut refs: Vec<usize> = Vec::new();
            for src in &s.sources {
                let label = src.path.clone().filter(|p| !p.is_empty()).unwrap_or_else(|| src.doc_id.clone());
                let doc = *doc_index.entry(src.doc_id.clone()).or_insert_with(|| {
                    docs.push(DocView {
                        doc_id: src.doc_id.clone(),
                        label: label.clone(),
                        license: src.license.clone(),
                        spans: 0,
                    });
                    docs.len() - 1
                });
                if !refs.contains(&doc) {
                    refs.push(doc);
                    docs[doc].spans += 1;
                }
                let (aligned, aligned_partial) = if aligned_kind && !src.snippet.is_empty() {
                    align_limited(&s.text, &src.snippet)
                } else {
                    (Vec::new(), false)
                };
                let web =
                    src.url.as_deref().filter(|u| u.starts_with("https://") || u.starts_with("http://"));
                sources.push(SourceView {
                    doc,
                    doc_id: src.doc_id.clone(),
                    label,
                    license: src.license.clone(),
                    holder: src.holder.clone(),
                    url: web.map(str::to_string),
                    url_text: src.url.clone().filter(|_| web.is_none()),
                    snippet: src.snippet.clone(),
                    aligned,
                    aligned_partial,
                });
            }
            spans.push(SpanView {
                idx: i,
                kind: kind_name(s.kind).to_string(),
                action: d.map(|d| action_name(d.action)).unwrap_or("allow").to_string(),
                tokens: s.tokens,
                similarity: format!("{:.0}", s.similarity * 100.0),
                count: s.count,
                rule: d.and_then(|d| d.rule.clone()),
                reason: d.map(|d| d.reason.clone()).unwrap_or_default(),
                sources,
                doc_refs: refs.iter().map(|r| format!("d{r}")).collect::<Vec<_>>().join(" "),
            });
        }
        let mut rules: Vec<String> = Vec::new();
        for r in decision.spans.iter().filter_map(|d| d.rule.as_ref()) {
            if !rules.contains(r) {
                rules.push(r.clone());
            }
        }
        let mut segments = segments(text, report);
        for seg in &mut segments {
            if let Some(s) = seg.span.and_then(|i| spans.get(i)) {
                (seg.kind, seg.action, seg.docs) = (s.kind.clone(), s.action.clone(), s.doc_refs.clone());
            }
        }
        ScanView {
            segments,
            spans,
            docs,
            action: action_name(decision.action).to_string(),
            jurisdiction: decision.jurisdiction.clone(),
            policy: decision.policy.clone(),
            statement: decision.statement.clone(),
            rules,
            tokens: report.tokens,
            coverage: format!("{:.1}", report.coverage * 100.0),
        }
    }

    /// Spans the policy acts on (anything but allow).
    pub fn acted_on(&self) -> usize {
        self.spans.iter().filter(|s| s.action != "allow").count()
    }
}

impl Segment {
    fn plain(text: &str) -> Segment {
        Segment {
            text: text.to_string(),
            span: None,
            kind: String::new(),
            action: String::new(),
            docs: String::new(),
        }
    }
}

/// Cuts `text` at the spans' byte offsets. A span that overlaps the one
/// before starts where that one ends (the report's spans are one per copy,
/// so an overlap is a boilerplate span inside a copy at most).
fn segments(text: &str, report: &ScanReport) -> Vec<Segment> {
    let mut out = Vec::new();
    let mut pos = 0usize;
    for (i, s) in report.spans.iter().enumerate() {
        let start = s.byte_start.max(pos).min(text.len());
        let end = s.byte_end.min(text.len());
        if start >= end || !text.is_char_boundary(start) || !text.is_char_boundary(end) {
            continue;
        }
        if start > pos {
            out.push(Segment::plain(&text[pos..start]));
        }
        out.push(Segment { span: Some(i), ..Segment::plain(&text[start..end]) });
        pos = end;
    }
    if pos < text.len() {
        out.push(Segment::plain(&text[pos..]));
    }
    out
}

/// Words with all the whitespace after them, so that rows join back into
/// text and a run of spaces or a line break is never a "word" of its own.
fn words(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut start, mut prev_space, mut seen_word) = (0, false, false);
    for (i, c) in s.char_indices() {
        let space = c.is_whitespace();
        if !space && prev_space && seen_word {
            out.push(&s[start..i]);
            start = i;
        }
        seen_word |= !space;
        prev_space = space;
    }
    if start < s.len() {
        out.push(&s[start..]);
    }
    out
}

/// [`align`] for a snippet that may stop at the API's limit (it then ends
/// in `…`): output words past the end of the source shown are left out of
/// the rows rather than marked as added. True when that happened.
fn align_limited(output: &str, snippet: &str) -> (Vec<AlignedRow>, bool) {
    let Some(shown) = snippet.strip_suffix('…') else {
        return (align(output, snippet), false);
    };
    let mut rows = align(output, shown);
    let mut cut = false;
    while rows.last().is_some_and(|r| r.tag == "output-only") {
        rows.pop();
        cut = true;
    }
    (rows, cut)
}

/// Aligns the output's span with the source's matched text, word by word,
/// comparing words as the index does (normalised: case, width, homoglyphs),
/// so that only real edits are marked.
pub fn align(output: &str, source: &str) -> Vec<AlignedRow> {
    let (ow, sw) = (words(output), words(source));
    let key = |w: &&str| recital_text::normalize::normalize_str(w.trim());
    let (ok, sk): (Vec<String>, Vec<String>) = (ow.iter().map(key).collect(), sw.iter().map(key).collect());
    let mut rows: Vec<AlignedRow> = Vec::new();
    for op in capture_diff_slices(Algorithm::Patience, &sk, &ok) {
        let (tag, src_range, out_range) = op.as_tag_tuple();
        let row = AlignedRow {
            output: ow[out_range].concat(),
            source: sw[src_range].concat(),
            tag: match tag {
                DiffTag::Equal => "same",
                DiffTag::Replace => "changed",
                DiffTag::Insert => "output-only",
                DiffTag::Delete => "source-only",
            }
            .to_string(),
        };
        rows.push(row);
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alignment_marks_only_real_edits() {
        let rows =
            align("The QUICK brown fox leaps over the dog", "the quick brown fox jumps over the lazy dog");
        let tags: Vec<_> = rows.iter().map(|r| r.tag.as_str()).collect();
        assert_eq!(tags, ["same", "changed", "same", "source-only", "same"], "{tags:?}");
        let changed = &rows[1];
        assert_eq!(changed.output.trim(), "leaps");
        assert_eq!(changed.source.trim(), "jumps");
        assert_eq!(rows[3].source.trim(), "lazy");
        // Every word of both sides is in exactly one row.
        let out: String = rows.iter().map(|r| r.output.as_str()).collect();
        let src: String = rows.iter().map(|r| r.source.as_str()).collect();
        assert_eq!(out, "The QUICK brown fox leaps over the dog");
        assert_eq!(src, "the quick brown fox jumps over the lazy dog");
    }

    fn span(a: usize, b: usize) -> recital_detect::report::Span {
        recital_detect::report::Span {
            byte_start: a,
            byte_end: b,
            char_start: a,
            char_end: b,
            utf16_start: a,
            utf16_end: b,
            tokens: 1,
            count: 1,
            doc_count: 1,
            kind: SpanKind::Exact,
            stream: recital_index::Stream::Text,
            similarity: 1.0,
            longest_exact_run: 1,
            text: String::new(),
            sources: Vec::new(),
        }
    }

    fn report(spans: Vec<recital_detect::report::Span>) -> ScanReport {
        ScanReport {
            schema: recital_detect::report::SCHEMA,
            input_bytes: 0,
            input_chars: 0,
            tokens: 0,
            spans,
            open: Vec::new(),
            documents: Vec::new(),
            coverage: 0.0,
            exempt_tokens: 0,
            options: recital_detect::report::OptionsUsed {
                min_tokens: 1,
                seed_tokens: 1,
                max_gap: 1,
                boilerplate_count: 1,
                code_min_tokens: 1,
            },
            warnings: Vec::new(),
        }
    }

    fn flagged(segs: &[Segment]) -> Vec<(&str, usize)> {
        segs.iter().filter_map(|s| s.span.map(|i| (s.text.as_str(), i))).collect()
    }

    /// Segments give back the whole text, each byte once: overlaps are
    /// clipped, spans off a character boundary or past the end left out.
    #[test]
    fn segments_cover_the_text_once() {
        let text = "one two three four five é six";
        let segs = segments(text, &report(vec![span(4, 13), span(8, 18), span(24, 27)]));
        assert_eq!(segs.iter().map(|s| s.text.as_str()).collect::<String>(), text);
        assert_eq!(flagged(&segs), [("two three", 0), (" four", 1), ("é ", 2)]);
        let segs = segments(text, &report(vec![span(0, 3), span(25, 27), span(28, 99)]));
        assert_eq!(segs.iter().map(|s| s.text.as_str()).collect::<String>(), text);
        assert_eq!(flagged(&segs), [("one", 0), ("ix", 2)]);
    }

    #[test]
    fn words_keep_their_whitespace() {
        assert_eq!(words("a  b \n c"), ["a  ", "b \n ", "c"]);
        assert_eq!(words("  a b\n"), ["  a ", "b\n"]);
        assert!(words("").is_empty());
        // A line break where the source has a space is no difference.
        let rows = align("profit hath a man \nof all", "profit hath a man of all");
        assert_eq!(rows.len(), 1, "{:?}", rows.iter().map(|r| &r.tag).collect::<Vec<_>>());
    }

    #[test]
    fn a_limited_snippet_is_compared_only_as_far_as_it_goes() {
        let (rows, partial) = align_limited("a b c d e f", "a b c…");
        assert!(partial);
        assert_eq!(rows.len(), 1);
        assert_eq!((rows[0].tag.as_str(), rows[0].output.as_str()), ("same", "a b c "));
        let (rows, partial) = align_limited("a b x", "a b c");
        assert!(!partial);
        assert_eq!(rows.last().unwrap().tag, "changed");
    }

    #[test]
    fn identical_text_is_one_same_row() {
        let rows = align("a b c", "a b c");
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].tag, "same");
        assert!(align("", "").is_empty());
    }
}
