//! # recital-detect
//!
//! Finds every span of a model output that copies indexed material and says
//! where it comes from and under which rights: recital's core promise.
//!
//! - **Exact spans**: the output is tokenised like the corpus (so case, Unicode
//!   tricks and whitespace do not hide a copy); for every token the longest match
//!   in the index is found by binary search, and the maximal spans are kept
//!   (OLMoTrace's rule) — see [`spans`].
//! - **Near-verbatim**: exact pieces of the same document, in order, with small
//!   gaps, are chained across substituted, inserted or deleted words — [`chain`].
//! - **Code**: fenced code blocks (or the whole input, on request) are also
//!   matched on the canonical lexeme stream, where identifiers and literals are
//!   abstracted, so renamed and reformatted copies match — [`code`]. Such a
//!   match needs evidence beyond its shape: an exact rare text piece shared
//!   with the source, or names renamed consistently with literals kept —
//!   [`renaming`].
//! - **Context**: what the caller supplied (prompt, retrieved text) is exempt —
//!   [`context`].
//! - **One copy, one span**: overlapping or adjacent pieces of a copy are
//!   merged, with every source's rights kept — [`merge`].
//! - **Boilerplate**: spans as common as `boilerplate_count` in the corpus are
//!   stock phrases and reported as such.
//!
//! - **Views**: the same output read through its formatting (JSON string
//!   escapes, Markdown, HTML), each with a map back to the output's bytes —
//!   [`view`], [`scan_views`] (and [`scan_window_views`] for a stream).
//!
//! The result is a [`ScanReport`] with a versioned JSON schema ([`report`]).
#![deny(missing_docs)]

mod attached;
pub mod chain;
pub mod code;
pub mod context;
pub mod error;
pub mod input;
pub mod merge;
pub mod renaming;
pub mod report;
pub mod scan;
pub mod spans;
pub mod view;

pub use error::DetectError;
pub use input::Input;
pub use report::{ScanReport, Span, SpanKind};
pub use scan::{scan, scan_window, ScanMemo, ScanOptions};
pub use view::{
    json_escape, scan_views, scan_window_views, scan_window_with_views, JsonStrings, View, ViewKind,
};
