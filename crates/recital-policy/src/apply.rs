//! Carrying out a decision on the text: redacted spans replaced by a marker
//! naming the source, annotations with offsets into the text as shown.
//!
//! - Blocked: no text at all.
//! - A redacted span is replaced by its marker ([`SpanDecision::marker`]: the
//!   policy's `redaction_marker` filled in with its sources). What is replaced
//!   is snapped to whole tokens, leaves the surrounding whitespace and glued
//!   trailing punctuation shown, and takes in the partner of a bracket or
//!   quote it would leave unpaired ([`crate::bounds`]). Redacted spans that
//!   overlap are merged: the text they cover is replaced once, by each of
//!   their distinct markers in order, separated by a space.
//! - Each redaction also yields an annotation on its marker (so the client can
//!   show the citation); each annotated span yields one on its text. An
//!   annotated span wholly inside a redaction adds its citations to the
//!   redaction's annotation; one that straddles a redaction edge is stretched
//!   to cover the whole marker.
//! - Offsets are bytes of the filtered text, always on character boundaries.
//!   Span offsets that are not (a report for another text) are widened to the
//!   nearest boundaries and clipped to the text: never a panic.

use serde::Serialize;

use recital_detect::ScanReport;

use crate::bounds::{redaction_bounds, token_ranges};
use crate::decision::{Action, Citation, Decision};
use crate::marker::{citations, render_for, DEFAULT_MARKER};

/// The text as it may be shown.
#[derive(Serialize, Clone, Debug)]
pub struct Filtered {
    /// The text with redactions applied; `None` when the response is blocked.
    pub text: Option<String>,
    /// Whether the response is blocked.
    pub blocked: bool,
    /// Citations to show, by position in the filtered text.
    pub annotations: Vec<Annotation>,
}

/// A citation attached to part of the filtered text.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct Annotation {
    /// Start in the filtered text.
    pub start_offset: usize,
    /// End (exclusive) in the filtered text.
    pub end_offset: usize,
    /// Unit of the offsets: always `"byte"` (UTF-8 bytes of the filtered text).
    pub offset_unit: &'static str,
    /// `annotate` for a span shown with its citation, `redact` for a marker.
    pub action: Action,
    /// The rule that decided (the first one, for merged redactions).
    pub rule: Option<String>,
    /// The sources.
    pub citations: Vec<Citation>,
}

/// A merged redaction: where it was, where its marker is, which span decisions it covers.
struct Region {
    orig: (usize, usize),
    new: (usize, usize),
    spans: Vec<usize>,
}

/// Applies `decision` to `text` (the text that was scanned into `report`).
pub fn apply(text: &str, report: &ScanReport, decision: &Decision) -> Filtered {
    if decision.action == Action::Block {
        return Filtered { text: None, blocked: true, annotations: Vec::new() };
    }
    if text.len() != report.input_bytes {
        tracing::warn!(
            text_bytes = text.len(),
            report_bytes = report.input_bytes,
            "applying a decision to a text of another length than the one scanned"
        );
    }
    let ds = &decision.spans;
    let toks = if ds.iter().any(|d| d.action >= Action::Redact) { token_ranges(text) } else { Vec::new() };
    let mut reds: Vec<(usize, usize, usize)> = ds
        .iter()
        .enumerate()
        .filter(|(_, d)| d.action >= Action::Redact)
        .filter_map(|(i, d)| {
            let (s, e) = snap(text, d.byte_start, d.byte_end);
            let r = redaction_bounds(text, &toks, s..e)?;
            Some((r.start, r.end, i))
        })
        .collect();
    reds.sort();
    let mut regions: Vec<Region> = Vec::new();
    for (s, e, i) in reds {
        match regions.last_mut() {
            Some(r) if s < r.orig.1 => {
                r.orig.1 = r.orig.1.max(e);
                r.spans.push(i);
            }
            _ => regions.push(Region { orig: (s, e), new: (0, 0), spans: vec![i] }),
        }
    }

    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for r in &mut regions {
        out.push_str(&text[last..r.orig.0]);
        // Each distinct marker of the merged spans once, in order.
        let mut markers: Vec<String> = Vec::new();
        for &i in &r.spans {
            let m =
                ds[i].marker.clone().unwrap_or_else(|| render_for(DEFAULT_MARKER, std::iter::once(&ds[i])));
            if !markers.contains(&m) {
                markers.push(m);
            }
        }
        let marker = markers.join(" ");
        let start = out.len();
        out.push_str(&marker);
        r.new = (start, out.len());
        last = r.orig.1;
    }
    out.push_str(&text[last..]);

    let mut annotations: Vec<Annotation> = regions
        .iter()
        .map(|r| Annotation {
            start_offset: r.new.0,
            end_offset: r.new.1,
            offset_unit: "byte",
            action: Action::Redact,
            rule: r.spans.iter().find_map(|&i| ds[i].rule.clone()),
            citations: citations(r.spans.iter().map(|&i| &ds[i])),
        })
        .collect();
    for d in ds.iter().filter(|d| d.action == Action::Annotate) {
        let (s, e) = snap(text, d.byte_start, d.byte_end);
        if s >= e {
            continue;
        }
        if let Some(k) = regions.iter().position(|r| r.orig.0 <= s && e <= r.orig.1) {
            let a = &mut annotations[k];
            for c in &d.sources {
                if !a.citations.iter().any(|x| x.doc_id == c.doc_id) {
                    a.citations.push(c.clone());
                }
            }
            continue;
        }
        annotations.push(Annotation {
            start_offset: map(&regions, s, false),
            end_offset: map(&regions, e, true),
            offset_unit: "byte",
            action: Action::Annotate,
            rule: d.rule.clone(),
            citations: d.sources.clone(),
        });
    }
    annotations.sort_by_key(|a| (a.start_offset, a.end_offset));
    Filtered { text: Some(out), blocked: false, annotations }
}

/// Clips `[s, e)` to the text and widens it to character boundaries.
fn snap(text: &str, s: usize, e: usize) -> (usize, usize) {
    let mut e = e.min(text.len());
    let mut s = s.min(e);
    while !text.is_char_boundary(s) {
        s -= 1;
    }
    while !text.is_char_boundary(e) {
        e += 1;
    }
    (s, e)
}

/// Where an offset of the original text lies in the filtered text; inside a
/// redaction, at the start (`end == false`) or end of its marker.
fn map(regions: &[Region], pos: usize, end: bool) -> usize {
    let mut out = pos;
    for r in regions {
        if pos <= r.orig.0 {
            break;
        }
        if pos < r.orig.1 {
            return if end { r.new.1 } else { r.new.0 };
        }
        out = pos - r.orig.1 + r.new.1;
    }
    out
}

#[cfg(test)]
#[path = "apply_tests.rs"]
mod tests;
