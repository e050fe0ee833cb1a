//! # recital-artefact
//!
//! Finds indexed works stored inside model artefacts and datastores: the
//! auditor's question "can this artefact be distributed, or does it carry
//! copies of works it may not?".
//!
//! Some systems store training text on purpose — kNN-LM and RAG datastores,
//! example banks, a tokenizer's or a GGUF's embedded strings — and a model
//! file can carry text in its metadata. This crate turns an artefact into
//! segments of text, each with where it came from ([`Place`]: offset, row,
//! array element, key or column), and scans them against a corpus index
//! with the same scanner and policy as model outputs:
//!
//! - **Extractors** ([`extract_file`]) read by the file's first bytes:
//!   GGUF metadata strings and tokenizer arrays, safetensors headers,
//!   JSON Lines, Parquet (feature `parquet`) and SQLite text values,
//!   NumPy token-id arrays decoded with a tokenizer ([`TokenDecoder`]),
//!   gzip and zstd members (at the start, or found inside a file by their
//!   magic numbers, opened recursively), and in any other bytes runs of
//!   printable UTF-8 and UTF-16. Everything streams: memory is a block or a
//!   record, never the file, and every declared length is checked against
//!   the file before it is trusted.
//! - **The scanner** ([`ArtefactScanner`], a [`Sink`]) scans each segment
//!   in overlapping windows, so a segment of any length takes bounded memory
//!   and a copy that crosses a window's edge is one [`ArtefactCopy`], and decides on
//!   each copy with the policy (for distribution, in a jurisdiction).
//! - **The report** ([`ArtefactReport`], schema `recital.artefact-scan/1`)
//!   lists the copies and the [`distribution`] decision over them.
#![deny(missing_docs)]

mod copy;
mod error;
mod extract;
mod place;
mod report;
mod scanner;

pub use copy::ArtefactCopy;
pub use error::{ArtefactError, Result};
pub use extract::{extract_file, ExtractOptions, FileSummary, TokenDecoder};
pub use place::{members_label, Encoding, Format, Member, Place, Sink};
pub use report::{distribution, ArtefactReport, FileReport, SCHEMA};
pub use scanner::{ArtefactScanner, ScanStats, DEFAULT_OVERLAP, DEFAULT_WINDOW};
