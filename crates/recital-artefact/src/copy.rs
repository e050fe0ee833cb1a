//! A copy found in an artefact, and how the pieces of one copy seen by two
//! overlapping windows become one.

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
