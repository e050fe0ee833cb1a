//! Documents in: directories, files, JSONL dumps (`files.rs`) and Parquet
//! files (`parquet.rs`, feature `parquet`), read and
//! tokenised on worker threads (`pipeline.rs`); rights sidecars
//! (`sidecar.rs`); progress bars (`progress.rs`). Behind the `ingest`
//! feature: a program that only reads indexes, or writes documents it
//! already holds, needs none of it.

mod files;
#[cfg(feature = "parquet")]
mod parquet;
mod pipeline;
pub(crate) mod progress;
mod sidecar;

pub use files::{IngestOptions, IngestReport, ModeChoice};
pub(crate) use pipeline::run as run_pipeline;
pub use sidecar::{DocKeys, RightsRules, UnmatchedRule};
