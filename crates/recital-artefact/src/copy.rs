//! A copy found in an artefact, how the pieces of one copy seen by two
//! overlapping windows become one, and how two readings of the same bytes
//! become one copy.

use recital_detect::Span;
use recital_policy::{Action, SpanDecision};
use serde::Serialize;

use crate::place::{Format, Member, Place};

/// A merged copy's text is kept up to this many bytes (the span's offsets
/// and token count still cover all of it).
const MAX_TEXT: usize = 1 << 20;

/// One copy of indexed material found in an artefact, with the policy's
/// decision on distributing it.
#[derive(Serialize, Clone, Debug)]
pub struct ArtefactCopy {
    /// The file scanned, as named on the command line.
    pub file: String,
    /// The compressed members the copy lies in, outermost first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<Member>,
    /// The structure it was found in.
    pub format: Format,
    /// Where the copy starts: offset, row, element, field.
    #[serde(flatten)]
    pub place: Place,
    /// The copy as a `recital.scan/1` span, its offsets into the segment's
    /// text (the values of one record or run, joined by line breaks).
    pub span: Span,
    /// The policy's decision on the span.
    pub decision: SpanDecision,
}

impl ArtefactCopy {
    /// The action decided.
    pub fn action(&self) -> Action {
        self.decision.action
    }

    /// Whether `other` (found later in the same segment) overlaps this copy.
    pub(crate) fn overlaps(&self, other: &ArtefactCopy) -> bool {
        other.span.byte_start < self.span.byte_end && self.span.byte_start < other.span.byte_end
    }

    /// Absorbs `other`, an overlapping piece of the same copy seen by the
    /// next window: the union of both ranges, sources and decisions (the
    /// more severe one decides).
    pub(crate) fn absorb(&mut self, other: ArtefactCopy) {
        let (a, b) = (&mut self.span, other.span);
        if b.byte_end > a.byte_end {
            let shared = a.byte_end.saturating_sub(b.byte_start);
            let tail = b.text.get(shared..).unwrap_or("");
            let shared_tokens = b.text.get(..shared).map_or(0, |s| recital_text::tokenize(s).len());
            a.tokens += b.tokens.saturating_sub(shared_tokens);
            if a.text.len() + tail.len() <= MAX_TEXT {
                a.text.push_str(tail);
            }
            a.byte_end = b.byte_end;
            a.char_end = b.char_end;
            a.utf16_end = b.utf16_end;
            a.longest_exact_run = a.longest_exact_run.max(b.longest_exact_run);
            a.similarity = a.similarity.min(b.similarity);
        }
        a.count = a.count.min(b.count);
        for s in b.sources {
            if !a.sources.iter().any(|t| t.doc_id == s.doc_id) {
                a.sources.push(s);
            }
        }
        if other.decision.action > self.decision.action {
            self.decision = other.decision;
        }
        self.decision.byte_start = self.span.byte_start;
        self.decision.byte_end = self.span.byte_end;
        self.decision.tokens = self.span.tokens;
    }
}

/// The bytes of the file (or innermost member) a copy was read from, where
/// the text maps back to them.
fn bytes_of(c: &ArtefactCopy) -> Option<(u64, u64)> {
    let start = c.place.offset?;
    let len = match c.place.encoding {
        e if e.is_utf16() => 2 * (c.span.utf16_end - c.span.utf16_start) as u64,
        crate::place::Encoding::Utf8 => (c.span.byte_end - c.span.byte_start) as u64,
        _ => return None,
    };
    Some((start, start + len))
}

/// Keeps one of each set of copies that are readings of the same bytes.
/// UTF-16 text whose characters share their high byte (Latin-1, kana) reads
/// as the same text in the other byte order one byte off, so one copy can
/// be found by two decoders. Of two copies of the same source over
/// overlapping bytes of one member, the longer stays (the earlier on a tie);
/// the order of the rest is kept.
pub(crate) fn drop_other_readings(copies: &mut Vec<ArtefactCopy>) {
    let mut order: Vec<(usize, (u64, u64))> = copies
        .iter()
        .enumerate()
        .filter(|(_, c)| c.format == Format::Strings && c.place.encoding.is_utf16())
        .filter_map(|(i, c)| bytes_of(c).map(|r| (i, r)))
        .collect();
    order.sort_by_key(|&(i, (start, _))| (start, i));
    let mut dropped = vec![false; copies.len()];
    for (k, &(i, (_, end))) in order.iter().enumerate() {
        for &(j, _) in order[k + 1..].iter().take_while(|(_, (start, _))| *start < end) {
            if dropped[i] || dropped[j] || !same_reading(&copies[i], &copies[j]) {
                continue;
            }
            let (a, b) = (&copies[i], &copies[j]);
            let loser = if (b.span.tokens, std::cmp::Reverse(j)) > (a.span.tokens, std::cmp::Reverse(i)) {
                i
            } else {
                j
            };
            dropped[loser] = true;
        }
    }
    let mut k = 0;
    copies.retain(|_| {
        k += 1;
        !dropped[k - 1]
    });
}

/// Whether two copies over overlapping bytes are of one source, in one member.
fn same_reading(a: &ArtefactCopy, b: &ArtefactCopy) -> bool {
    a.file == b.file
        && a.members == b.members
        && a.span.sources.iter().any(|s| b.span.sources.iter().any(|t| t.doc_id == s.doc_id))
}
