//! `manifest.json`: the one mutable file of an index, and its commit point.
//!
//! It lists the live shards (base and delta), each shard's tombstones, and the
//! versions the index was built with. Every change (add, remove, compact) writes
//! new immutable files first, then replaces the manifest atomically (write a
//! temporary file, fsync, rename, fsync the directory). A reader that loaded the
//! previous manifest keeps a consistent snapshot: files it mapped are never
//! modified, only unlinked after the switch.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{IndexError, Result};
use crate::file::{FORMAT_VERSION, MIN_FORMAT_VERSION};
use crate::shard_build::{sync_dir, ShardSummary};

/// File name of the manifest.
pub const MANIFEST: &str = "manifest.json";
/// Value of the `format` field.
pub const FORMAT_NAME: &str = "recital-index";

/// Whether a shard came from a full build or from `index add`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ShardKind {
    /// Written by `build` or `compact`.
    Base,
    /// Written by `add`.
    Delta,
}

/// Tombstones of one shard.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tombstones {
    /// Directory (at the index root) of the sub-index over the removed documents,
    /// subtracted from counts so that they stay exact.
    pub dir: String,
    /// Removed document numbers in the shard, sorted.
    pub docs: Vec<u32>,
    /// Their external ids, for people reading the manifest.
    pub ids: Vec<String>,
}

/// One live shard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardEntry {
    /// What the shard holds.
    #[serde(flatten)]
    pub summary: ShardSummary,
    /// Base or delta.
    pub kind: ShardKind,
    /// Removed documents, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tombstones: Option<Tombstones>,
}

/// The manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Always `recital-index`.
    pub format: String,
    /// On-disk format version.
    pub format_version: u32,
    /// Normaliser version the tokens were made with.
    pub normalizer_version: u32,
    /// Incremented by every change.
    pub generation: u64,
    /// Number for the next new shard or tombstone directory.
    pub next_id: u64,
    /// Live shards, base first.
    pub shards: Vec<ShardEntry>,
    /// Version of recital that wrote the manifest.
    pub written_by: String,
}

impl Manifest {
    /// An empty manifest for a new index.
    pub fn new() -> Self {
        Self {
            format: FORMAT_NAME.into(),
            format_version: FORMAT_VERSION,
            normalizer_version: recital_text::NORMALIZER_VERSION,
            generation: 0,
            next_id: 1,
            shards: Vec::new(),
            written_by: concat!("recital ", env!("CARGO_PKG_VERSION")).into(),
        }
    }

    /// Reads and checks the manifest of the index at `dir`.
    pub fn load(dir: &Path) -> Result<Self> {
        if dir.is_file() {
            let hint = match dir.parent().filter(|p| p.join(MANIFEST).is_file()) {
                Some(p) => format!("; it is inside the index {}", p.display()),
                None => String::new(),
            };
            return Err(IndexError::Input(format!(
                "{} is a file, not an index directory (--index takes the directory that `recital index build` made){hint}",
                dir.display()
            )));
        }
        let path = dir.join(MANIFEST);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(IndexError::Input(format!(
                    "{}: not a recital index (no {MANIFEST}); build one with `recital index build`",
                    dir.display()
                )))
            }
            Err(e) => return Err(IndexError::io(&path, e)),
        };
        let m: Manifest = serde_json::from_slice(&bytes)
            .map_err(|e| IndexError::Corrupt { path: path.clone(), why: format!("manifest: {e}") })?;
        if m.format != FORMAT_NAME {
            return Err(IndexError::Foreign { path });
        }
        if !(MIN_FORMAT_VERSION..=FORMAT_VERSION).contains(&m.format_version) {
            return Err(IndexError::Version {
                path,
                found: m.format_version,
                supported: (MIN_FORMAT_VERSION, FORMAT_VERSION),
            });
        }
        if m.normalizer_version != recital_text::NORMALIZER_VERSION {
            return Err(IndexError::Input(format!(
                "{}: index was tokenised with normaliser version {}, this recital uses {}; rebuild the index",
                path.display(),
                m.normalizer_version,
                recital_text::NORMALIZER_VERSION
            )));
        }
        Ok(m)
    }

    /// Writes the manifest atomically into `dir`.
    pub fn store(&self, dir: &Path) -> Result<()> {
        let tmp = dir.join(format!("{MANIFEST}.tmp"));
        let body = serde_json::to_vec_pretty(self).map_err(|e| IndexError::Input(e.to_string()))?;
        {
            use std::io::Write;
            let mut f = std::fs::File::create(&tmp).map_err(|e| IndexError::io(&tmp, e))?;
            f.write_all(&body).map_err(|e| IndexError::io(&tmp, e))?;
            f.sync_all().map_err(|e| IndexError::io(&tmp, e))?;
        }
        let path = dir.join(MANIFEST);
        std::fs::rename(&tmp, &path).map_err(|e| IndexError::io(&path, e))?;
        sync_dir(dir)
    }

    /// A fresh name with a prefix (`shard-000007`, `tomb-000008`).
    pub fn fresh_name(&mut self, prefix: &str) -> String {
        let n = self.next_id;
        self.next_id += 1;
        format!("{prefix}-{n:06}")
    }
}

impl Default for Manifest {
    fn default() -> Self {
        Self::new()
    }
}
