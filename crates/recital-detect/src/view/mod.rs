//! Views of one output: the plain text a format wraps, with a map back.
//!
//! A model (or an evader) can wrap a copy in JSON string escapes, Markdown
//! emphasis and links, or HTML tags and entities. The raw scan then sees
//! `\n`, `**` or `<b>` between the copied words, and the exact match breaks.
//! A [`View`] is the text a format's parser yields (a JSON string's decoded
//! content, a Markdown document's text, an HTML page's text), and for every
//! byte of it the range of original bytes it came from. [`scan_views`] scans
//! the output as given and each view that applies, and maps the view spans
//! back, so every span still points into the output as given.
//!
//! A new format is one new constructor returning a `View`: the scan, the
//! mapping and the merge do not change.
//!
//! Synthetic bytes (separators the view inserts at block or string
//! boundaries, so words of two blocks do not run together) map to an empty
//! original range at the boundary; they are whitespace, so no span starts or
//! ends on one.

mod html;
mod json;
mod markdown;

use std::ops::Range;

use recital_index::Index;
use serde::Serialize;

use crate::error::DetectError;
use crate::input::{Input, OffsetMap};
use crate::report::{ScanReport, Span, SpanKind};
use crate::scan::{scan, scan_window, scan_window_keyed, ScanMemo, ScanOptions};

pub use json::{json_escape, JsonStrings};

/// Which view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ViewKind {
    /// The decoded content of JSON string literals.
    Json,
    /// The text of a Markdown document (markup dropped, code kept).
    Markdown,
    /// The text of an HTML document (tags dropped, entities decoded).
    Html,
}

/// Plain text derived from an output, with a map from each of its bytes back
/// to the original.
#[derive(Debug, Clone)]
pub struct View {
    kind: ViewKind,
    text: String,
    /// Per view byte: the original range it came from (`u32`: outputs are
    /// far below 4 GiB, and the map is 12 bytes per view byte as it is).
    src: Vec<(u32, u32)>,
    /// Per view byte: its segment (a string literal, a text run between
    /// tags): a redaction replaces each segment's part separately.
    seg: Vec<u32>,
}

impl View {
    /// An empty view of `kind`, filled by a format's constructor.
    fn new(kind: ViewKind) -> Self {
        Self { kind, text: String::new(), src: Vec::new(), seg: Vec::new() }
    }

    /// Appends `s`, every byte of it from the original range `from`
    /// (an escape sequence, an entity: the whole of it).
    fn push_mapped(&mut self, s: &str, from: Range<usize>, seg: u32) {
        self.text.push_str(s);
        self.src.extend(std::iter::repeat_n((from.start as u32, from.end as u32), s.len()));
        self.seg.extend(std::iter::repeat_n(seg, s.len()));
    }

    /// Appends `s`, which is the original text from byte `at` on, byte for byte.
    fn push_verbatim(&mut self, s: &str, at: usize, seg: u32) {
        self.text.push_str(s);
        self.src.extend((at..at + s.len()).map(|i| (i as u32, i as u32 + 1)));
        self.seg.extend(std::iter::repeat_n(seg, s.len()));
    }

    /// Appends a synthetic separator at original offset `at`, unless the view
    /// is empty or already ends with whitespace.
    fn separate(&mut self, at: usize, seg: u32) {
        if self.text.is_empty() || self.text.ends_with(char::is_whitespace) {
            return;
        }
        self.push_mapped("\n", at..at, seg);
    }

    /// True when the view maps what it keeps byte for byte and drops only
    /// gaps that `ignorable` accepts (whitespace at least): its scan would
    /// find what the raw scan finds.
    fn adds_nothing(&self, original: &str, ignorable: impl Fn(&str) -> bool) -> bool {
        let ob = original.as_bytes();
        let mut covered = 0usize;
        for (b, &(s, e)) in self.text.bytes().zip(&self.src) {
            let (s, e) = (s as usize, e as usize);
            if s == e {
                continue;
            }
            if e != s + 1 || ob[s] != b || (covered < s && !ignorable(&original[covered..s])) {
                return false;
            }
            covered = covered.max(e);
        }
        ignorable(&original[covered..])
    }

    /// Which view this is.
    pub fn kind(&self) -> ViewKind {
        self.kind
    }

    /// The view's text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The original byte range a view range came from: start of its first
    /// byte's source to end of its last byte's source.
    pub fn to_original(&self, view: Range<usize>) -> Range<usize> {
        if view.start >= view.end || view.start >= self.src.len() {
            let at = match self.src.get(view.start) {
                Some(&(s, _)) => s as usize,
                None => self.src.last().map_or(0, |&(_, e)| e as usize),
            };
            return at..at;
        }
        let start = self.src[view.start].0 as usize;
        let end = self.src[view.end.min(self.src.len()) - 1].1 as usize;
        start..end.max(start)
    }

    /// The view range split at segment boundaries (e.g. one piece per JSON
    /// string literal), each piece mapped to the original: what a redaction
    /// must replace piece by piece to keep the structure valid. Synthetic
    /// bytes are left out; pieces that touch in the original are joined.
    pub fn original_pieces(&self, view: Range<usize>) -> Vec<Range<usize>> {
        let end = view.end.min(self.src.len());
        let mut pieces: Vec<Range<usize>> = Vec::new();
        let mut v = view.start;
        while v < end {
            if self.src[v].0 == self.src[v].1 {
                v += 1;
                continue;
            }
            let mut w = v + 1;
            while w < end && self.seg[w] == self.seg[v] && self.src[w].0 != self.src[w].1 {
                w += 1;
            }
            let r = self.to_original(v..w);
            match pieces.last_mut() {
                Some(last) if last.end == r.start => last.end = r.end,
                _ => pieces.push(r),
            }
            v = w;
        }
        pieces
    }

    /// The JSON view: the decoded content of every string value. `None`
    /// when no string literal holds an escape (the raw scan then sees the
    /// same words in the same order).
    pub fn json(text: &str) -> Option<View> {
        json::view(text)
    }

    /// The Markdown view: text, code and link text, blocks separated.
    /// `None` when the text has no markup.
    pub fn markdown(text: &str) -> Option<View> {
        markdown::view(text)
    }

    /// The HTML view: text with tags dropped and entities decoded. `None`
    /// when the text has no tags or entities.
    pub fn html(text: &str) -> Option<View> {
        html::view(text)
    }

    /// Every view of `text` that applies.
    pub fn all(text: &str) -> Vec<View> {
        if !markdown::may_have_markup(text) {
            // Its bytes include those that start a JSON escape (`\\`) and
            // HTML (`<`, `&`): plain prose is read once, not once per format.
            return Vec::new();
        }
        [View::json(text), View::markdown(text), View::html(text)].into_iter().flatten().collect()
    }

    /// Every view of a text that may still grow (a stream so far), as
    /// [`View::all`] except that a Markdown link destination still being
    /// written at the end is left out: read as literal text until the link
    /// closes, its URL's words would stand between the words of a copy.
    pub fn all_of_prefix(text: &str) -> Vec<View> {
        if !markdown::may_have_markup(text) {
            return Vec::new();
        }
        [View::json(text), markdown::prefix_view(text), View::html(text)].into_iter().flatten().collect()
    }
}

/// Scans the output as given and through every view that applies (JSON,
/// Markdown, HTML). Spans found in a view are mapped back to the original
/// bytes (all offsets and the text recomputed from the original) and merged
/// with the raw scan's: a span found in several views is reported once, as
/// its widest mapping. Same options and report schema as [`scan`].
pub fn scan_views(index: &Index, input: &Input, opts: &ScanOptions) -> Result<ScanReport, DetectError> {
    let raw = scan(index, input, opts)?;
    with_views(raw, input, View::all(&input.text), |_, vin| scan(index, vin, opts))
}

/// [`scan_views`] of a window of a growing text, starting at byte `offset` of
/// it, reusing `memo` from earlier windows ([`scan_window`]): what the
/// streaming filter runs at each step, so that a copy wrapped in markup or
/// escapes is found while it streams, as [`scan_views`] finds it in the whole
/// output. Each view keeps its own memo, its tokens keyed by the original
/// bytes they came from. Plain prose has no view: the cost over
/// [`scan_window`] is then the three checks that say so.
pub fn scan_window_views(
    index: &Index,
    input: &Input,
    opts: &ScanOptions,
    memo: &mut ScanMemo,
    offset: usize,
) -> Result<ScanReport, DetectError> {
    scan_window_with_views(index, input, View::all_of_prefix(&input.text), opts, memo, offset)
}

/// [`scan_window_views`] with the window's views already made: `views` must
/// be [`View::all_of_prefix`] of `input.text`. The streaming filter reads
/// them to count its hold-back before it scans, and building them (an HTML
/// tokenizer and a Markdown parser over the window) costs as much as the
/// index search of a step; this way each step builds them once.
pub fn scan_window_with_views(
    index: &Index,
    input: &Input,
    views: Vec<View>,
    opts: &ScanOptions,
    memo: &mut ScanMemo,
    offset: usize,
) -> Result<ScanReport, DetectError> {
    let raw = scan_window(index, input, opts, memo, offset)?;
    let mut before = std::mem::take(&mut memo.views);
    let mut now = Vec::new();
    let report = with_views(raw, input, views, |view, vin| {
        let kept = before.iter().position(|(k, _)| *k == view.kind()).map(|i| before.swap_remove(i).1);
        let mut m = kept.unwrap_or_default();
        let key = |b: usize| offset + view.to_original(b..b + 1).start;
        let r = scan_window_keyed(index, vin, opts, &mut m, &key);
        now.push((view.kind(), m));
        r
    });
    // A view that no longer applies drops its memo, as the scan drops
    // entries the latest window did not use.
    memo.views = now;
    report
}

/// `raw` with the spans that `scan_view` finds in each of `views` added
/// (see [`merge`]), and their open candidates ([`ScanReport::open`]).
fn with_views(
    mut raw: ScanReport,
    input: &Input,
    views: Vec<View>,
    mut scan_view: impl FnMut(&View, &Input) -> Result<ScanReport, DetectError>,
) -> Result<ScanReport, DetectError> {
    let mut extra: Vec<(Span, Range<usize>)> = Vec::new();
    let mut documents = Vec::new();
    for view in views {
        // A view holding a NUL (`\u0000`) is refused as binary: skip it.
        let Ok(vin) = Input::decode(view.text().as_bytes()) else { continue };
        let rep = scan_view(&view, &vin)?;
        for s in rep.spans {
            let orig = view.to_original(s.byte_start..s.byte_end);
            extra.push((s, orig));
        }
        for s in rep.open {
            let at = view.to_original(s.byte_start..s.byte_start + 1).start;
            raw.open.push(open_from(s, at, input));
        }
        documents.extend(rep.documents);
    }
    if extra.is_empty() {
        return Ok(raw);
    }
    Ok(merge(raw, extra, documents, input))
}

/// An open candidate of a view, from text byte `at` of the original to its end.
fn open_from(s: Span, at: usize, input: &Input) -> Span {
    let text = input.text.as_str();
    let offsets = OffsetMap::new(text, [at, text.len()]);
    Span {
        byte_start: input.input_offset(at),
        byte_end: input.input_len,
        char_start: offsets.char_of(at),
        char_end: offsets.char_of(text.len()),
        utf16_start: offsets.utf16_of(at),
        utf16_end: offsets.utf16_of(text.len()),
        text: text[at..].to_string(),
        ..s
    }
}

/// The raw report with the view spans (each with its original text range)
/// added: a span inside a wider one that shares a source is dropped.
fn merge(
    mut rep: ScanReport,
    extra: Vec<(Span, Range<usize>)>,
    documents: Vec<crate::report::DocumentMatch>,
    input: &Input,
) -> ScanReport {
    let text = input.text.as_str();
    // Raw spans: their text range, recovered from the input offsets.
    let raw_range = |s: &Span| text_offset(input, s.byte_start)..text_offset(input, s.byte_end);
    let mut all: Vec<(Span, Range<usize>)> = std::mem::take(&mut rep.spans)
        .into_iter()
        .map(|s| {
            let r = raw_range(&s);
            (s, r)
        })
        .chain(extra)
        .collect();
    all.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.1.start.cmp(&b.1.start)));
    let mut kept: Vec<(Span, Range<usize>)> = Vec::with_capacity(all.len());
    for (s, r) in all {
        let inside = |k: &(Span, Range<usize>)| {
            k.1.start <= r.start
                && r.end <= k.1.end
                && (k.0.sources.iter().any(|a| s.sources.iter().any(|b| a.doc_id == b.doc_id))
                    || k.0.sources.is_empty() && s.sources.is_empty())
        };
        if !kept.iter().any(inside) {
            kept.push((s, r));
        }
    }
    kept.sort_by(|a, b| a.1.start.cmp(&b.1.start).then(b.1.end.cmp(&a.1.end)));
    let offsets = OffsetMap::new(text, kept.iter().flat_map(|(_, r)| [r.start, r.end]));
    rep.spans = kept
        .into_iter()
        .map(|(s, r)| Span {
            byte_start: input.input_offset(r.start),
            byte_end: input.input_offset(r.end),
            char_start: offsets.char_of(r.start),
            char_end: offsets.char_of(r.end),
            utf16_start: offsets.utf16_of(r.start),
            utf16_end: offsets.utf16_of(r.end),
            text: text[r].to_string(),
            ..s
        })
        .collect();
    rep.coverage = coverage(text, input, &rep.spans);
    merge_documents(&mut rep.documents, documents);
    rep
}

/// Text offset of input byte `b` (the inverse of [`Input::input_offset`],
/// found by binary search: it is monotone).
fn text_offset(input: &Input, b: usize) -> usize {
    let (mut lo, mut hi) = (0usize, input.text.len());
    while lo < hi {
        let mid = (lo + hi) / 2;
        if input.input_offset(mid) < b {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    while lo < input.text.len() && !input.text.is_char_boundary(lo) {
        lo += 1;
    }
    lo
}

/// Fraction of the original's text tokens inside copy spans (as [`scan`]
/// computes it, over the merged spans).
fn coverage(text: &str, input: &Input, spans: &[Span]) -> f64 {
    let ts = recital_text::tokenize(text);
    let copies: Vec<Range<usize>> = spans
        .iter()
        .filter(|s| s.kind != SpanKind::Boilerplate)
        .map(|s| text_offset(input, s.byte_start)..text_offset(input, s.byte_end))
        .collect();
    let covered = ts
        .tokens
        .iter()
        .filter(|t| copies.iter().any(|c| c.start < t.src.end && t.src.start < c.end))
        .count();
    covered as f64 / ts.len().max(1) as f64
}

/// Adds the views' document matches: one entry per document, the one with
/// the most matched tokens, most copied first, 20 at most (as [`scan`]).
fn merge_documents(into: &mut Vec<crate::report::DocumentMatch>, more: Vec<crate::report::DocumentMatch>) {
    for d in more {
        match into.iter_mut().find(|e| e.doc_id == d.doc_id) {
            Some(e) if e.matched_tokens < d.matched_tokens => *e = d,
            Some(_) => {}
            None => into.push(d),
        }
    }
    into.sort_by(|a, b| b.matched_tokens.cmp(&a.matched_tokens).then_with(|| a.doc_id.cmp(&b.doc_id)));
    into.truncate(20);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> View {
        // "ab" from 1..3 (verbatim), a separator at 4, "\n" from the escape 5..7.
        let mut v = View::new(ViewKind::Json);
        v.push_verbatim("ab", 1, 0);
        v.separate(4, 1);
        v.push_mapped("\n", 5..7, 1);
        v.push_verbatim("c", 7, 1);
        v
    }

    #[test]
    fn ranges_map_to_their_sources() {
        let v = sample();
        assert_eq!(v.text(), "ab\n\nc");
        assert_eq!(v.to_original(0..2), 1..3);
        assert_eq!(v.to_original(3..5), 5..8);
        assert_eq!(v.to_original(1..1), 2..2);
        assert_eq!(v.to_original(5..5), 8..8);
    }

    #[test]
    fn pieces_split_at_segments_and_skip_separators() {
        let v = sample();
        assert_eq!(v.original_pieces(0..5), vec![1..3, 5..8]);
        assert_eq!(v.original_pieces(1..4), vec![2..3, 5..7]);
    }

    #[test]
    fn a_view_that_only_drops_whitespace_adds_nothing() {
        let mut v = View::new(ViewKind::Markdown);
        v.push_verbatim("one", 0, 0);
        v.separate(3, 0);
        v.push_verbatim("two", 5, 1);
        let ws = |g: &str| g.trim().is_empty();
        assert!(v.adds_nothing("one\n\ntwo\n", ws));
        assert!(!v.adds_nothing("one\n*two", ws));
        assert!(!v.adds_nothing("one\n\ntwo*", ws));
    }
}
