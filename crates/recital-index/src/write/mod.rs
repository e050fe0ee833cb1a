//! Writing: one shard from documents (`build.rs`, each document tokenised
//! by `tokenized.rs`, on any thread), and the commit protocol for new
//! indexes and for changes to an index (`writer.rs`).

pub(crate) mod build;
pub(crate) mod tokenized;
mod writer;

pub use build::{DocInput, DEFAULT_SHARD_TOKENS};
#[cfg(feature = "ingest")]
pub use writer::build;
pub use writer::{assemble, build_docs, BuildOptions, BuildReport, CompactReport, IndexWriter, RemoveReport};
