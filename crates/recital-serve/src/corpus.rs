//! The corpus index as the service sees it: a snapshot that scans use without
//! locks, swapped for a new one when a registered work is added or withdrawn.
//!
//! Readers clone an `Arc<Index>` under a read lock held for nanoseconds; a
//! writer (one at a time, under `write`) commits a delta shard or tombstones to
//! disk with the index crate's atomic manifest protocol, opens the new snapshot
//! and swaps it in. A scan that started on the old snapshot finishes on it.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use recital_detect::{Input, ScanOptions, ScanReport};
use recital_index::manifest::ShardKind;
use recital_index::{BuildOptions, DocInput, DocMode, Index, Rights};

/// Delta shards tolerated before they are merged: each one adds a binary
/// search per query (bench: 20 deltas cost 30 % of `/v1/scan` throughput).
pub const COMPACT_AT_DELTAS: usize = 8;

/// A document to add to the index (a registered work).
#[derive(Debug, Clone)]
pub struct NewDoc {
    /// Corpus document id.
    pub id: String,
    /// Title shown as the source path.
    pub title: Option<String>,
    /// Text.
    pub text: String,
    /// Text or code.
    pub mode: DocMode,
    /// Rights.
    pub rights: Rights,
}

/// The live index and the lock that serialises changes to it.
pub struct Corpus {
    dir: PathBuf,
    current: RwLock<Arc<Index>>,
    write: tokio::sync::Mutex<()>,
}

impl Corpus {
    /// Opens the index at `dir`.
    pub fn open(dir: &Path) -> anyhow::Result<Self> {
        let index = Arc::new(Index::open(dir)?);
        // The large files' checksums, read now in the background so that the
        // first request does not wait for them; a corrupted shard is then
        // refused by every scan, with its file named.
        let check = index.clone();
        std::thread::spawn(move || {
            if let Err(e) = check.verify_once() {
                tracing::error!("{e}");
            }
        });
        Ok(Self { dir: dir.to_owned(), current: RwLock::new(index), write: Default::default() })
    }

    /// The current snapshot.
    pub fn snapshot(&self) -> Arc<Index> {
        self.current.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Scans `text` on the current snapshot, as given and through its JSON,
    /// Markdown and HTML views (blocking; call from a blocking thread).
    pub fn scan(&self, text: &str, opts: &ScanOptions) -> Result<ScanReport, recital_detect::DetectError> {
        let input = Input::decode(text.as_bytes())?;
        recital_detect::scan_views(&self.snapshot(), &input, opts)
    }

    /// [`Self::scan`] of a window of a streamed text (from byte `offset` of
    /// it), reusing `memo` from the stream's earlier windows.
    pub fn scan_window(
        &self,
        window: &str,
        opts: &ScanOptions,
        memo: &mut recital_detect::ScanMemo,
        offset: usize,
    ) -> Result<ScanReport, recital_detect::DetectError> {
        let input = Input::decode(window.as_bytes())?;
        recital_detect::scan_window_views(&self.snapshot(), &input, opts, memo, offset)
    }

    /// Adds documents as a delta shard and swaps in the new snapshot; returns
    /// once they are searchable. Documents already live are skipped, so that
    /// a work indexed by its registration and by a sync with a shared store
    /// at the same moment is indexed once.
    pub async fn add(&self, mut docs: Vec<NewDoc>) -> anyhow::Result<()> {
        let _w = self.write.lock().await;
        let dir = self.dir.clone();
        let snap = self.snapshot();
        let live = live_among(&snap, &docs.iter().map(|d| d.id.as_str()).collect());
        docs.retain(|d| !live.contains(&d.id));
        if docs.is_empty() {
            return Ok(());
        }
        let index = tokio::task::spawn_blocking(move || -> anyhow::Result<Index> {
            let inputs: Vec<DocInput<'_>> = docs
                .iter()
                .map(|d| DocInput {
                    id: &d.id,
                    path: d.title.as_deref(),
                    text: &d.text,
                    mode: d.mode,
                    rights: d.rights.clone(),
                })
                .collect();
            recital_index::add_docs(&dir, &inputs)?;
            // Only the new delta shard is opened; the others are shared.
            Ok(snap.reopen()?)
        })
        .await??;
        self.swap(index);
        Ok(())
    }

    /// Tombstones documents by id and swaps in the new snapshot. Ids already
    /// gone are not an error (withdrawal is idempotent).
    pub async fn remove(&self, ids: Vec<String>) -> anyhow::Result<()> {
        let _w = self.write.lock().await;
        let dir = self.dir.clone();
        let live: Vec<String> = {
            let snap = self.snapshot();
            ids.into_iter().filter(|id| has_live_doc(&snap, id)).collect()
        };
        if live.is_empty() {
            return Ok(());
        }
        let snap = self.snapshot();
        let index = tokio::task::spawn_blocking(move || -> anyhow::Result<Index> {
            recital_index::remove(&dir, &live)?;
            Ok(snap.reopen()?)
        })
        .await??;
        self.swap(index);
        Ok(())
    }

    /// Merges the delta shards when there are [`COMPACT_AT_DELTAS`] or more
    /// and no base shard has tombstones (compacting those would rewrite a base
    /// shard: an operator's `recital index compact`, not a request's side
    /// effect). Returns whether it compacted.
    pub async fn compact_deltas_if_many(&self) -> anyhow::Result<bool> {
        let _w = self.write.lock().await;
        let snap = self.snapshot();
        let deltas = snap.shards().iter().filter(|s| s.entry.kind == ShardKind::Delta).count();
        let base_tombstoned =
            snap.shards().iter().any(|s| s.entry.kind == ShardKind::Base && s.entry.tombstones.is_some());
        if deltas < COMPACT_AT_DELTAS || base_tombstoned {
            return Ok(false);
        }
        let dir = self.dir.clone();
        let index = tokio::task::spawn_blocking(move || -> anyhow::Result<Index> {
            let opts = BuildOptions { threads: 1, ..Default::default() };
            recital_index::compact(&dir, &opts)?;
            // The base shard stays open (and its caches warm); the merged one is new.
            Ok(snap.reopen()?)
        })
        .await??;
        self.swap(index);
        Ok(true)
    }

    fn swap(&self, index: Index) {
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(index);
    }
}

/// Which of `ids` are live documents of the index: one pass over its
/// documents, newest shards (where registered works live) first, that stops
/// once every id is found.
pub fn live_among(index: &Index, ids: &HashSet<&str>) -> HashSet<String> {
    let mut found = HashSet::new();
    for s in index.shards().iter().rev() {
        for d in 0..s.shard.docs.len() {
            if found.len() == ids.len() {
                return found;
            }
            if let Ok(id) = s.shard.docs.id(d) {
                if ids.contains(id.as_str()) && s.is_live(d) {
                    found.insert(id);
                }
            }
        }
    }
    found
}

/// True if a live document of the index has this id. Delta shards (where
/// registered works live) are searched first: they are small.
pub fn has_live_doc(index: &Index, id: &str) -> bool {
    index
        .shards()
        .iter()
        .rev()
        .any(|s| (0..s.shard.docs.len()).any(|d| s.is_live(d) && s.shard.docs.id(d).is_ok_and(|x| x == id)))
}
