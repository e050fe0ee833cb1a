//! The files of an index: the manifest (the commit point), a shard's
//! directory, and each file in it. Everything here is immutable once written.

pub(crate) mod docstore;
pub(crate) mod doctable;
pub(crate) mod file;
pub(crate) mod manifest;
pub(crate) mod rights;
pub(crate) mod shard;
pub(crate) mod stream;
pub mod varint;
pub(crate) mod vocab;

pub use crate::write::build::ShardSummary;
pub use docstore::{DocLoc, DocStore};
pub use doctable::{DocInfo, DocMode, DocTable};
pub use manifest::{Manifest, ShardEntry, ShardKind, Tombstones};
pub use rights::{Provenance, Rights};
pub use shard::{Shard, StreamIndex};
pub use stream::{Stream, StreamFiles};
pub use vocab::Vocab;
