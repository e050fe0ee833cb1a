//! # recital-index
//!
//! Sharded, memory-mapped suffix-array indexes over normalised token streams. They
//! answer, exactly and in microseconds, *how often and where does this token
//! sequence occur in the corpus* — the question every other part of recital
//! (detection, policy, audit) stands on.
//!
//! ## Layout
//! ```text
//! INDEX/
//!   manifest.json          commit point: live shards, tombstones, versions
//!   shard-000001/          immutable: streams, vocabularies, documents, rights
//!   shard-000004/          a delta shard written by `add`
//!   tomb-000005/           sub-index over documents removed from a shard
//! ```
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
//! prefix code ([`varint`]): the stream costs ~1.4 bytes per token instead of 4,
//! and because byte order equals id order, the suffix array holds byte offsets and
//! binary search is a `memcmp`. Index size is ≈ 4 (suffix array), ~1.4 (tokens)
//! and 0.25 (the suffix array's top level, [`stream::TOP_EVERY`]) bytes per
//! token, plus the compressed document store.
//!
//! ## Modules
//! - [`ingest`]: directories, files and JSONL dumps in; documents with rights out;
//!   [`rights`] the sidecar, [`license`] SPDX expressions checked and counted.
//! - [`build`](mod@build): one shard from documents; [`pipeline`]: reading and tokenising
//!   on worker threads; [`writer`]: build, add, remove, compact.
//! - [`stream`], [`vocab`], [`doctable`], [`docstore`], [`file`](mod@file): the on-disk parts.
//! - [`index`]: opening an index and querying it.
#![deny(missing_docs)]

pub mod build;
pub mod docstore;
pub mod doctable;
pub mod error;
pub mod file;
pub mod index;
pub mod ingest;
pub mod license;
pub mod manifest;
pub mod pipeline;
pub mod progress;
pub mod rights;
pub mod shard;
pub mod stream;
pub mod varint;
pub mod vocab;
pub mod writer;

pub use build::{DocInput, ShardSummary};
pub use doctable::DocMode;
pub use error::{IndexError, Result};
pub use index::{CountResult, Hit, Index, IndexStats, LocateResult, Occurrence, Query};
pub use ingest::{IngestOptions, ModeChoice};
pub use license::{LicenseCount, LicenseTally};
pub use rights::{normalize_url, DocKeys, Provenance, Rights, RightsRules, UnmatchedRule};
pub use stream::Stream;
pub use writer::{add, add_docs, build, compact, remove, BuildOptions};
