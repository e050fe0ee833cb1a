//! # recital-index
//!
//! Sharded, memory-mapped suffix-array indexes over normalised token streams. They
//! answer, exactly and in microseconds, *how often and where does this token
//! sequence occur in the corpus* — the question every other part of recital
//! (detection, policy, audit) stands on.
//!
//! ## The face
//! - Reading: [`Index`] is an immutable snapshot. It counts ([`Index::count`]),
//!   locates ([`Index::locate`]) and gives match lengths for a scan; its
//!   documents are named by [`DocAddr`] ([`Index::doc`], [`Index::docs`],
//!   [`Index::find_doc`], [`Index::doc_text`], [`Index::doc_tokens`]).
//! - Writing: [`build`] makes a new index from files (feature `ingest`,
//!   on by default) and [`build_docs`] from documents in memory;
//!   [`IndexWriter`] holds an index's write lock, stages additions, removals,
//!   compactions and adopted shards, and [`IndexWriter::commit`] makes them
//!   visible at once and returns the new snapshot.
//! - [`raw`]: the on-disk parts, for benchmarks and tools that need them.
//!
//! ## Layout
//! ```text
//! INDEX/
//!   manifest.json          commit point: live shards, tombstones, versions
//!   shard-000001/          immutable: streams, vocabularies, documents, rights
//!   shard-000004/          a delta shard written by `add`
//!   tomb-000005/           sub-index over documents removed from a shard
//! ```
//! The source is grouped the same way: `format/` (the files), `read/` (an
//! open snapshot and its queries), `write/` (building shards and committing
//! them) and `ingest/` (files, JSONL dumps, rights sidecars, progress bars).
//!
//! ## Why a suffix array over word tokens
//! Suffix arrays give exact counts, every location and maximal spans with one
//! binary search per query (FM-indexes are smaller but seconds slower, DAWGs give
//! no documents, Bloom sketches neither counts nor documents). Tokens are the
//! model-agnostic, normalised word and punctuation units of [`recital_text`], so
//! case, Unicode and whitespace tricks do not change them.
//!
//! ## Why a varint token stream
//! Ids are numbered by frequency per shard and stored in an order-preserving
//! prefix code ([`raw::varint`]): the stream costs ~1.4 bytes per token instead
//! of 4, and because byte order equals id order, the suffix array holds byte
//! offsets and binary search is a `memcmp`. Index size is ≈ 4 (suffix array),
//! ~1.4 (tokens) and 0.25 (the suffix array's top level) bytes per token, plus
//! the compressed document store.
#![deny(missing_docs)]

mod error;
mod format;
#[cfg(feature = "ingest")]
mod ingest;
mod license;
mod read;
mod write;

// The modules' short names, for paths inside the crate.
use format::{docstore, doctable, file, manifest, rights, shard, stream, varint, vocab};
#[cfg(feature = "ingest")]
use ingest::progress;
use write::{build as shard_build, tokenized};

pub use error::{IndexError, Result};
pub use format::{DocMode, Provenance, Rights, ShardKind, ShardSummary, Stream};
#[cfg(feature = "ingest")]
pub use ingest::{DocKeys, IngestOptions, IngestReport, ModeChoice, RightsRules, UnmatchedRule};
pub use license::{check as check_license, InvalidLicense, LicenseCount, LicenseTally, NOASSERTION};
pub use read::{
    CountResult, Doc, DocAddr, DocTokens, Hit, Index, IndexStats, LocateResult, Occurrence, Query, ShardStats,
};
pub use rights::normalize_url;
#[cfg(feature = "ingest")]
pub use write::build;
pub use write::{
    assemble, build_docs, BuildOptions, BuildReport, CompactReport, DocInput, IndexWriter, RemoveReport,
    DEFAULT_SHARD_TOKENS,
};

/// The on-disk parts and a snapshot's shards, for benchmarks and tools that
/// work below [`Index`]'s queries. Not needed to search, scan or write.
pub mod raw {
    pub use crate::format::varint;
    pub use crate::format::{
        DocInfo, DocLoc, DocStore, DocTable, Manifest, Shard, ShardEntry, StreamFiles, StreamIndex,
        Tombstones, Vocab,
    };
    pub use crate::read::{LiveShard, Removed};
    pub use crate::stream::{build_suffix_array, TOP_EVERY};

    /// The live shards of a snapshot, in manifest order.
    pub fn shards(index: &crate::Index) -> &[LiveShard] {
        index.live_shards()
    }
}
