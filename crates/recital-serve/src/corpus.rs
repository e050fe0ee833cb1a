//! The corpus index as the service sees it: a snapshot that scans use without
//! locks, swapped for a new one when a registered work is added or withdrawn.
//!
//! Readers clone an `Arc<Index>` under a read lock held for nanoseconds; a
//! writer (one at a time, under `write`) commits a delta shard or tombstones to
//! disk with the index crate's atomic manifest protocol, opens the new snapshot
//! and swaps it in. A scan that started on the old snapshot finishes on it.

use std::collections::HashSet;
use std::path::Path;
use std::sync::{Arc, RwLock};

use recital_detect::{Input, ScanOptions, ScanReport};
use recital_index::{BuildOptions, DocInput, DocMode, Index, IndexWriter, Rights};

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
    current: RwLock<Arc<Index>>,
    write: tokio::sync::Mutex<()>,
}

impl Corpus {
    /// Opens the index at `dir`.
    pub fn open(dir: &Path) -> anyhow::Result<Self> {
        let index = Arc::new(Index::open(dir)?);
        // The large files' checksums, read now in the background so that the
        // first request does not wait for them; a corrupted shard is then
        // refused by every scan, with its file named. The document id tables
        // (the registry's lookups) are built there too.
        let check = index.clone();
        std::thread::spawn(move || {
            if let Err(e) = check.verify_once().and_then(|()| check.find_doc("").map(drop)) {
                tracing::error!("{e}");
            }
        });
        Ok(Self { current: RwLock::new(index), write: Default::default() })
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
    /// it) through its `views` (`View::all_of_prefix` of it), reusing `memo`
    /// from the stream's earlier windows.
    pub fn scan_window(
        &self,
        window: &str,
        views: Vec<recital_detect::View>,
        opts: &ScanOptions,
        memo: &mut recital_detect::ScanMemo,
        offset: usize,
    ) -> Result<ScanReport, recital_detect::DetectError> {
        let input = Input::decode(window.as_bytes())?;
        recital_detect::scan_window_with_views(&self.snapshot(), &input, views, opts, memo, offset)
    }

    /// Adds documents as a delta shard and swaps in the new snapshot; returns
    /// once they are searchable. Documents already live are skipped, so that
    /// a work indexed by its registration and by a sync with a shared store
    /// at the same moment is indexed once.
    pub async fn add(&self, mut docs: Vec<NewDoc>) -> anyhow::Result<()> {
        let _w = self.write.lock().await;
        let snap = self.snapshot();
        let live = live_among(&snap, &docs.iter().map(|d| d.id.as_str()).collect())?;
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
            // Only the new delta shard is opened; the others are shared.
            let mut w = IndexWriter::for_snapshot(&snap)?;
            w.add_docs(&inputs)?;
            Ok(w.commit()?)
        })
        .await??;
        self.swap(index);
        Ok(())
    }

    /// Tombstones documents by id and swaps in the new snapshot. Ids already
    /// gone are not an error (withdrawal is idempotent).
    pub async fn remove(&self, ids: Vec<String>) -> anyhow::Result<()> {
        let _w = self.write.lock().await;
        let snap = self.snapshot();
        let mut live = Vec::new();
        for id in ids {
            if has_live_doc(&snap, &id)? {
                live.push(id);
            }
        }
        if live.is_empty() {
            return Ok(());
        }
        let index = tokio::task::spawn_blocking(move || -> anyhow::Result<Index> {
            let mut w = IndexWriter::for_snapshot(&snap)?;
            w.remove(&live)?;
            Ok(w.commit()?)
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
        let (index, compacted) = tokio::task::spawn_blocking(move || -> anyhow::Result<(Index, bool)> {
            let opts = BuildOptions { threads: 1, ..Default::default() };
            let mut w = IndexWriter::for_snapshot(&snap)?.with_options(opts);
            let r = w.compact_deltas(COMPACT_AT_DELTAS)?;
            // The base shard stays open (and its caches warm); the merged one is new.
            Ok((w.commit()?, !r.merged.is_empty()))
        })
        .await??;
        if compacted {
            self.swap(index);
        }
        Ok(compacted)
    }

    fn swap(&self, index: Index) {
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(index);
    }
}

/// Which of `ids` are live documents of the index (a hash lookup per id
/// and shard, once each shard's id table is built).
pub fn live_among(index: &Index, ids: &HashSet<&str>) -> anyhow::Result<HashSet<String>> {
    let mut found = HashSet::new();
    for id in ids {
        if index.find_doc(id)?.is_some() {
            found.insert(id.to_string());
        }
    }
    Ok(found)
}

/// True if a live document of the index has this id (a hash lookup per
/// shard once each shard's id table is built).
pub fn has_live_doc(index: &Index, id: &str) -> anyhow::Result<bool> {
    Ok(index.find_doc(id)?.is_some())
}
