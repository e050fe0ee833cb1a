//! An open snapshot of an index and its queries (`index.rs`), and its
//! documents by address (`docs.rs`).

mod docs;
mod index;

pub use docs::{Doc, DocAddr, DocTokens};
pub use index::{
    CountResult, Hit, Index, IndexStats, LiveShard, LocateResult, Occurrence, Query, Removed, ShardStats,
};
