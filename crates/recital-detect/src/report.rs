//! The scan report: a documented, versioned JSON schema.
//!
//! Schema `recital.scan/1` (top level):
//! - `schema`: `"recital.scan/1"`;
//! - `input_bytes`, `input_chars`, `tokens`: size of the input;
//! - `spans`: every reported span, in order of `byte_start`; the pieces of one
//!   copy (overlapping, adjacent, or close in one document) are one span;
//! - `documents`: per source document, how much of the output copies it;
//! - `coverage`: fraction of output tokens inside copy spans (`exact`, `near`,
//!   `code-canonical`; not `boilerplate`);
//! - `exempt_tokens`: output tokens exempt because the caller's context has them;
//! - `options`: the thresholds used; `warnings`: notes on the input.
//!
//! A span has `byte_start`/`byte_end` (half-open byte offsets into the input as
//! given), `char_start`/`char_end` (Unicode scalar values), `utf16_start`/
//! `utf16_end` (UTF-16 code units, for JavaScript callers), `tokens`, `count`
//! (occurrences in the corpus; for `near`, the number of documents the edited
//! copy was chained in), `doc_count` (exact when `count` is at most the
//! occurrences a scan examines, 32 by default; otherwise a lower bound: the
//! distinct documents among those examined),
//! `kind` (`exact` | `near` | `code-canonical` | `boilerplate`), `stream`
//! (`text` | `canon`: which token stream matched), `similarity` (1.0 unless
//! `near`), and `sources`, each with `doc_id`, `path`, `license` and the other
//! rights fields (`tdm_policy`, `iscc` and `provenance` when imported
//! signals gave them), the matched range in the source and a short snippet.
//! New fields may be added within a schema version; none is removed or renamed.

use serde::Serialize;

use recital_index::{Provenance, Stream};

/// Schema identifier written into every report.
pub const SCHEMA: &str = "recital.scan/1";

/// What kind of match a span is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SpanKind {
    /// A verbatim (after normalisation) copy.
    Exact,
    /// Exact pieces of one document chained across small edits.
    Near,
    /// Code that matches with identifiers and literals abstracted.
    CodeCanonical,
    /// Too common in the corpus to be a copy of anything in particular.
    Boilerplate,
}

/// A source document of a span.
#[derive(Debug, Clone, Serialize)]
pub struct Source {
    /// External document id.
    pub doc_id: String,
    /// Path or title.
    pub path: Option<String>,
    /// SPDX licence expression.
    pub license: String,
    /// Rights holder.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub holder: Option<String>,
    /// Source URL or identifier.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// TDM opt-out declared.
    pub tdm_opt_out: bool,
    /// Jurisdictions of the rights.
    pub jurisdictions: Vec<String>,
    /// Category.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// Where the rightsholder's TDM licensing terms are (TDMRep `tdm-policy`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tdm_policy: Option<String>,
    /// ISCC code of the work, when one is known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iscc: Option<String>,
    /// Which signal said what about these rights (from `recital rights
    /// import`): signal, field, value, source, observed, applied. Absent for
    /// rights typed into a sidecar by hand.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub provenance: Vec<Provenance>,
    /// Matched byte range in the source's original text (0 and 0, like the
    /// snippet fields, when the scan ran with `locate_sources` off).
    pub source_byte_start: usize,
    /// End of that range.
    pub source_byte_end: usize,
    /// The match in its source, with some context.
    pub snippet: String,
    /// Byte range of the match inside `snippet` (a service that must not
    /// reveal more of a protected source than the caller sent trims to it).
    pub snippet_hit: [usize; 2],
}

/// One reported span of the output.
#[derive(Debug, Clone, Serialize)]
pub struct Span {
    /// Byte offset into the input as given.
    pub byte_start: usize,
    /// End (exclusive).
    pub byte_end: usize,
    /// Char offset.
    pub char_start: usize,
    /// End (exclusive).
    pub char_end: usize,
    /// UTF-16 offset.
    pub utf16_start: usize,
    /// End (exclusive).
    pub utf16_end: usize,
    /// Tokens in the span (of its stream).
    pub tokens: usize,
    /// Occurrences in the corpus (for `near`: documents it was chained in).
    pub count: u64,
    /// Documents containing it (a lower bound when `count` exceeds the
    /// occurrences examined).
    pub doc_count: u64,
    /// Kind of match.
    pub kind: SpanKind,
    /// Stream that matched.
    pub stream: Stream,
    /// Edit similarity to the source (1.0 for exact spans).
    pub similarity: f64,
    /// Longest exact run inside the span, in tokens.
    pub longest_exact_run: usize,
    /// The span's text, as in the input.
    pub text: String,
    /// Up to `max_sources` source documents; a copy merged from pieces also
    /// keeps any source whose rights differ from those listed.
    pub sources: Vec<Source>,
}

/// How much of the output one document accounts for.
#[derive(Debug, Clone, Serialize)]
pub struct DocumentMatch {
    /// External document id.
    pub doc_id: String,
    /// Path or title.
    pub path: Option<String>,
    /// SPDX licence expression.
    pub license: String,
    /// Fraction of the output's tokens matched exactly to this document.
    pub coverage: f64,
    /// Output tokens matched exactly to this document.
    pub matched_tokens: usize,
    /// Best edit similarity of a chained region.
    pub similarity: f64,
    /// Longest exact run, in tokens.
    pub longest_exact_run: usize,
}

/// Thresholds in force.
#[derive(Debug, Clone, Serialize)]
pub struct OptionsUsed {
    /// Shortest reported copy, in text tokens.
    pub min_tokens: usize,
    /// Shortest exact piece chained into a near-verbatim match.
    pub seed_tokens: usize,
    /// Largest gap between chained pieces, in tokens.
    pub max_gap: usize,
    /// Spans occurring at least this often are boilerplate.
    pub boilerplate_count: u64,
    /// Shortest canonical code match, in lexemes.
    pub code_min_tokens: usize,
}

/// The result of a scan.
#[derive(Debug, Clone, Serialize)]
pub struct ScanReport {
    /// Always [`SCHEMA`].
    pub schema: &'static str,
    /// Input size in bytes.
    pub input_bytes: usize,
    /// Input size in chars.
    pub input_chars: usize,
    /// Text tokens of the input.
    pub tokens: usize,
    /// Reported spans, by position.
    pub spans: Vec<Span>,
    /// Only with [`crate::ScanOptions::open_candidates`] (a stream's scan):
    /// copies that may still be growing at the end of the text and are not
    /// reported yet, or not whole: chains of rare exact pieces that a later
    /// piece could still join. Each runs from its first token to the end of
    /// the text, with its documents as sources (not located).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub open: Vec<Span>,
    /// Source documents, most copied first.
    pub documents: Vec<DocumentMatch>,
    /// Fraction of output tokens inside copy spans.
    pub coverage: f64,
    /// Output tokens exempt as context.
    pub exempt_tokens: usize,
    /// Thresholds used.
    pub options: OptionsUsed,
    /// Notes about the input.
    pub warnings: Vec<String>,
}
