//! Writing indexes: `build` and `build_docs` (a new index), and
//! [`IndexWriter`]: `add_files` and `add_docs` (delta shards), `remove`
//! (tombstones), `compact` (merge deltas, drop removed documents), `adopt`
//! (shards built elsewhere), then `commit`.
//!
//! Every change writes new immutable files under a temporary name, syncs them,
//! renames them into place and only then commits a new manifest, under an
//! exclusive lock on `DIR/index.lock`. A process killed at any point leaves the
//! previous manifest in force; leftovers (`.tmp-*`) are ignored by readers and
//! swept by the next writer. A new index is built entirely in a sibling temporary
//! directory and renamed to its name at the end, so an interrupted build leaves
//! nothing that loads and nothing in the target directory.

use std::fs::File;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{IndexError, Result};
#[cfg(feature = "ingest")]
use crate::ingest::{IngestOptions, IngestReport};
use crate::manifest::{Manifest, ShardEntry, ShardKind};
use crate::read::Index;
use crate::shard_build::{sync_dir, DocInput, ShardBuilder, ShardSummary, DEFAULT_SHARD_TOKENS};
use crate::stream::{self, Stream};
use crate::varint;

/// Build settings.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// Token budget per shard (bounds peak memory at ≈ 8–10 bytes per token).
    pub shard_tokens: u64,
    /// Tokenising threads (default: the number of cores).
    pub threads: usize,
}

impl Default for BuildOptions {
    fn default() -> Self {
        Self {
            shard_tokens: DEFAULT_SHARD_TOKENS,
            threads: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        }
    }
}

/// What a build or add did.
#[derive(Debug, Clone, Serialize)]
pub struct BuildReport {
    /// Shards written.
    pub shards: Vec<ShardSummary>,
    /// What ingestion saw.
    #[cfg(feature = "ingest")]
    pub ingest: IngestReport,
    /// Wall time in seconds.
    pub seconds: f64,
}

struct Lock(#[allow(dead_code)] File);

/// Crash injection for tests: when `RECITAL_FAILPOINT` names this point, the
/// process aborts there, as a kill or power cut would stop it.
fn failpoint(name: &str) {
    if std::env::var("RECITAL_FAILPOINT").is_ok_and(|v| v == name) {
        eprintln!("recital: failpoint {name} hit, aborting");
        std::process::abort();
    }
}

fn lock(dir: &Path) -> Result<Lock> {
    let p = dir.join("index.lock");
    let f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&p)
        .map_err(|e| IndexError::io(&p, e))?;
    f.lock().map_err(|e| IndexError::io(&p, e))?;
    Ok(Lock(f))
}

/// Removes what no manifest references: temporary directories and shard or
/// tombstone directories left by a writer that died before its commit (or whose
/// cleanup failed). Runs under the writer lock, like tantivy's garbage collection.
fn collect_garbage(dir: &Path, manifest: &Manifest) {
    let mut live: std::collections::HashSet<&str> = Default::default();
    for s in &manifest.shards {
        live.insert(&s.summary.name);
        if let Some(t) = &s.tombstones {
            live.insert(&t.dir);
        }
    }
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let ours = name.starts_with(".tmp-") || name.starts_with("shard-") || name.starts_with("tomb-");
        if ours && !live.contains(name.as_str()) && e.path().is_dir() {
            tracing::info!("removing unreferenced {name}");
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

/// Writes shards for every document of `inputs` into `into` (which exists).
#[cfg(feature = "ingest")]
fn write_shards(
    into: &Path,
    manifest: &mut Manifest,
    kind: ShardKind,
    inputs: &[PathBuf],
    ingest_opts: &IngestOptions,
    opts: &BuildOptions,
) -> Result<(Vec<ShardEntry>, IngestReport)> {
    let mut entries = Vec::new();
    let mut builder: Option<ShardBuilder> = None;
    let report = std::thread::scope(|scope| -> Result<IngestReport> {
        // A full shard is sorted and written on its own thread while the next fills.
        let mut finishing: Option<std::thread::ScopedJoinHandle<'_, Result<ShardSummary>>> = None;
        let join = |h: std::thread::ScopedJoinHandle<'_, Result<ShardSummary>>,
                    entries: &mut Vec<ShardEntry>| {
            let summary =
                h.join().map_err(|_| IndexError::Input("shard writer thread panicked".into()))??;
            entries.push(ShardEntry { summary, kind, tombstones: None });
            failpoint("write:after-shard");
            Ok::<(), IndexError>(())
        };
        let report = crate::ingest::run_pipeline(inputs, ingest_opts, opts.threads, |doc| {
            if builder.is_none() {
                builder = Some(ShardBuilder::create(&into.join(manifest.fresh_name("shard")))?);
            }
            let b = builder.as_mut().expect("just created");
            b.add_tokenized(&doc)?;
            if b.tokens() >= opts.shard_tokens {
                if let Some(h) = finishing.take() {
                    join(h, &mut entries)?;
                }
                let full = builder.take().expect("present");
                let show = ingest_opts.progress;
                finishing = Some(scope.spawn(move || finish_with_spinner(full, show)));
            }
            Ok(())
        });
        if let Some(h) = finishing.take() {
            join(h, &mut entries)?;
        }
        report
    })?;
    if let Some(b) = builder {
        let summary = finish_with_spinner(b, ingest_opts.progress)?;
        entries.push(ShardEntry { summary, kind, tombstones: None });
    }
    if entries.is_empty() {
        return Err(IndexError::Input(format!(
            "no documents found in {} (binary files are skipped)",
            inputs.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
        )));
    }
    if entries.iter().all(|e| e.summary.text_tokens == 0) {
        return Err(IndexError::Input(
            "the input documents contain no text to index (all empty or whitespace)".into(),
        ));
    }
    Ok((entries, report))
}

/// Sorts and writes a full shard, with a spinner while libsais runs.
#[cfg(feature = "ingest")]
fn finish_with_spinner(b: ShardBuilder, show: bool) -> Result<ShardSummary> {
    let sp = crate::progress::spinner(format!("sorting suffixes of {} tokens", b.tokens()), show);
    let r = b.finish();
    sp.finish_and_clear();
    r
}

/// Builds a new index at `dir` (which must not exist or be empty) from files,
/// directories and JSONL dumps.
#[cfg(feature = "ingest")]
pub fn build(
    dir: &Path,
    inputs: &[PathBuf],
    ingest_opts: &IngestOptions,
    opts: &BuildOptions,
) -> Result<BuildReport> {
    let t0 = std::time::Instant::now();
    create(dir, |tmp, manifest| {
        let (entries, report) = write_shards(tmp, manifest, ShardKind::Base, inputs, ingest_opts, opts)?;
        let shards = entries.iter().map(|e| e.summary.clone()).collect();
        manifest.shards = entries;
        Ok(BuildReport { shards, ingest: report, seconds: t0.elapsed().as_secs_f64() })
    })
}

/// Builds a new index at `dir` (which must not exist or be empty) from
/// documents in memory, cutting shards at `opts.shard_tokens`.
pub fn build_docs(dir: &Path, docs: &[DocInput<'_>], opts: &BuildOptions) -> Result<BuildReport> {
    let t0 = std::time::Instant::now();
    check_docs(docs)?;
    create(dir, |tmp, manifest| {
        let mut cut = Cutter::new(tmp, opts.shard_tokens);
        for d in docs {
            cut.add(manifest, d)?;
        }
        let written = cut.finish()?;
        manifest.shards = written
            .iter()
            .map(|w| ShardEntry { summary: w.clone(), kind: ShardKind::Base, tombstones: None })
            .collect();
        Ok(BuildReport {
            shards: written,
            #[cfg(feature = "ingest")]
            ingest: memory_report(docs),
            seconds: t0.elapsed().as_secs_f64(),
        })
    })
}

/// Writes a new index in a sibling temporary directory with `fill` (which
/// writes shards into it and lists them in the manifest), then renames it to
/// `dir`: an interrupted build leaves nothing that loads.
fn create(dir: &Path, fill: impl FnOnce(&Path, &mut Manifest) -> Result<BuildReport>) -> Result<BuildReport> {
    if dir.exists() {
        let mut rd = std::fs::read_dir(dir).map_err(|e| IndexError::io(dir, e))?;
        if rd.next().is_some() {
            return Err(IndexError::Input(format!(
                "{}: exists and is not empty; choose a new directory (or use `recital index add`)",
                dir.display()
            )));
        }
    }
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).map_err(|e| IndexError::io(&parent, e))?;
    let base = dir.file_name().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "index".into());
    sweep_stale_builds(&parent, &base);
    let tmp = parent.join(format!(".{base}.recital-build-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir(&tmp).map_err(|e| IndexError::io(&tmp, e))?;
    let result = (|| {
        let mut manifest = Manifest::new();
        let report = fill(&tmp, &mut manifest)?;
        manifest.generation = 1;
        manifest.store(&tmp)?;
        failpoint("build:before-rename");
        if dir.exists() {
            std::fs::remove_dir(dir).map_err(|e| IndexError::io(dir, e))?;
        }
        std::fs::rename(&tmp, dir).map_err(|e| IndexError::io(dir, e))?;
        sync_dir(&parent)?;
        Ok(report)
    })();
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    result
}

/// Removes temporary build directories of `base` left by processes that died.
fn sweep_stale_builds(parent: &Path, base: &str) {
    let prefix = format!(".{base}.recital-build-");
    let Ok(rd) = std::fs::read_dir(parent) else { return };
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if let Some(pid) = name.strip_prefix(&prefix).and_then(|p| p.parse::<u32>().ok()) {
            if !Path::new(&format!("/proc/{pid}")).exists() {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
}

fn check_docs(docs: &[DocInput<'_>]) -> Result<()> {
    if docs.is_empty() {
        return Err(IndexError::Input("no documents given".into()));
    }
    if docs.iter().all(|d| d.text.trim().is_empty()) {
        return Err(IndexError::Input(
            "the documents contain no text to index (all empty or whitespace)".into(),
        ));
    }
    Ok(())
}

/// What ingestion "saw" of documents handed over in memory.
#[cfg(feature = "ingest")]
fn memory_report(docs: &[DocInput<'_>]) -> IngestReport {
    let mut report = IngestReport::default();
    report.docs = docs.len() as u64;
    report.text_bytes = docs.iter().map(|d| d.text.len() as u64).sum();
    report
}

/// The writer of an index: it holds the index's write lock for its
/// lifetime (one writer per index, across processes), stages changes, and
/// makes them visible at once with [`IndexWriter::commit`].
///
/// Staged shards and tombstones are complete, synced directories in the
/// index directory that no manifest references yet: readers ignore them, a
/// writer dropped without a commit removes them, and one killed before its
/// commit leaves them to the next writer's sweep. The previous snapshot
/// stays in force until the manifest is replaced.
pub struct IndexWriter {
    dir: PathBuf,
    _lock: Lock,
    /// The last committed snapshot (its open shards are reused).
    committed: Index,
    /// The manifest with the staged changes.
    pending: Manifest,
    /// Names of the staged operations, for crash injection at the commit.
    ops: Vec<&'static str>,
    /// Directories staged by this writer and not yet committed.
    staged: Vec<String>,
    /// Directories the pending manifest no longer references, removed once
    /// it is committed.
    obsolete: Vec<String>,
    opts: BuildOptions,
}

impl IndexWriter {
    /// Opens the index at `dir` for writing, waiting for any other writer.
    pub fn open(dir: &Path) -> Result<Self> {
        Self::open_reusing(dir, &[])
    }

    /// [`IndexWriter::open`] for the index of `snapshot`, reusing the shards
    /// it has open (a long-running reader that writes now and then: only
    /// shards committed since are opened).
    pub fn for_snapshot(snapshot: &Index) -> Result<Self> {
        Self::open_reusing(snapshot.dir(), snapshot.live_shards())
    }

    fn open_reusing(dir: &Path, open: &[crate::read::LiveShard]) -> Result<Self> {
        Manifest::load(dir)?;
        let lock = lock(dir)?;
        let committed = Index::with_manifest(dir, Manifest::load(dir)?, open)?;
        collect_garbage(dir, committed.manifest());
        let pending = committed.manifest().clone();
        Ok(Self {
            dir: dir.to_owned(),
            _lock: lock,
            committed,
            pending,
            ops: Vec::new(),
            staged: Vec::new(),
            obsolete: Vec::new(),
            opts: BuildOptions::default(),
        })
    }

    /// Sets the shard size and tokenising threads of later additions and compactions.
    pub fn with_options(mut self, opts: BuildOptions) -> Self {
        self.opts = opts;
        self
    }

    /// True if changes are staged and not yet committed.
    pub fn has_changes(&self) -> bool {
        !self.ops.is_empty()
    }

    /// The index as it will be once the staged changes are committed.
    pub fn staged_snapshot(&self) -> Result<Index> {
        Index::with_manifest(&self.dir, self.pending.clone(), self.committed.live_shards())
    }

    /// A scratch directory for shards being written, inside the index (so
    /// that renaming them into place is atomic).
    fn scratch(&self) -> Result<Scratch> {
        let tmp = self.dir.join(format!(".tmp-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&tmp);
        std::fs::create_dir(&tmp).map_err(|e| IndexError::io(&tmp, e))?;
        Ok(Scratch(tmp))
    }

    /// Moves finished shard directories from `tmp` into the index and
    /// stages them with `kind`.
    fn stage_shards(&mut self, tmp: &Path, summaries: &[ShardSummary], kind: ShardKind) -> Result<()> {
        for s in summaries {
            let to = self.dir.join(&s.name);
            std::fs::rename(tmp.join(&s.name), &to).map_err(|x| IndexError::io(&to, x))?;
            self.staged.push(s.name.clone());
        }
        sync_dir(&self.dir)?;
        self.pending.shards.extend(summaries.iter().map(|s| ShardEntry {
            summary: s.clone(),
            kind,
            tombstones: None,
        }));
        Ok(())
    }

    /// Stages the documents of files, directories and JSONL dumps as delta shards.
    #[cfg(feature = "ingest")]
    pub fn add_files(&mut self, inputs: &[PathBuf], ingest_opts: &IngestOptions) -> Result<BuildReport> {
        let t0 = std::time::Instant::now();
        let tmp = self.scratch()?;
        let (entries, report) =
            write_shards(&tmp.0, &mut self.pending, ShardKind::Delta, inputs, ingest_opts, &self.opts)?;
        let shards: Vec<ShardSummary> = entries.into_iter().map(|e| e.summary).collect();
        self.stage_shards(&tmp.0, &shards, ShardKind::Delta)?;
        self.ops.push("add");
        Ok(BuildReport { shards, ingest: report, seconds: t0.elapsed().as_secs_f64() })
    }

    /// Stages documents held in memory as one delta shard (the service's
    /// registry: a registered work is searchable once the commit returns).
    pub fn add_docs(&mut self, docs: &[DocInput<'_>]) -> Result<BuildReport> {
        let t0 = std::time::Instant::now();
        check_docs(docs)?;
        let tmp = self.scratch()?;
        let mut b = ShardBuilder::create(&tmp.0.join(self.pending.fresh_name("shard")))?;
        for d in docs {
            b.add(d)?;
        }
        let summary = b.finish()?;
        self.stage_shards(&tmp.0, std::slice::from_ref(&summary), ShardKind::Delta)?;
        self.ops.push("add");
        Ok(BuildReport {
            shards: vec![summary],
            #[cfg(feature = "ingest")]
            ingest: memory_report(docs),
            seconds: t0.elapsed().as_secs_f64(),
        })
    }

    /// Stages tombstones for every live document whose id is in `ids`. If any
    /// id matches no live document, nothing is staged and the error lists them.
    pub fn remove(&mut self, ids: &[String]) -> Result<RemoveReport> {
        if ids.is_empty() {
            return Err(IndexError::Input("no document ids given".into()));
        }
        let index = self.staged_snapshot()?;
        let mut per_shard: std::collections::BTreeMap<u32, Vec<(u32, String)>> = Default::default();
        let mut missing = Vec::new();
        for id in ids {
            let found = index.find_docs(id)?;
            if found.is_empty() {
                missing.push(format!("{id:?}"));
            }
            for a in found {
                per_shard.entry(a.shard).or_default().push((a.doc, id.clone()));
            }
        }
        if !missing.is_empty() {
            return Err(IndexError::Input(format!(
                "no live document with id {}; nothing was removed",
                missing.join(", ")
            )));
        }
        let tmp = self.scratch()?;
        let mut removed = 0u64;
        let mut shards = Vec::new();
        for (si, docs) in per_shard {
            removed += docs.len() as u64;
            shards.push(self.stage_tombstones(&tmp.0, &index, si as usize, docs)?);
        }
        sync_dir(&self.dir)?;
        self.ops.push("remove");
        Ok(RemoveReport { removed, shards })
    }

    /// Writes the new tombstone set of shard `si` (its old removals plus
    /// `docs`) and stages it; returns the shard's name.
    fn stage_tombstones(
        &mut self,
        tmp: &Path,
        index: &Index,
        si: usize,
        docs: Vec<(u32, String)>,
    ) -> Result<String> {
        let live = &index.live_shards()[si];
        let mut t = self.pending.shards[si].tombstones.clone().unwrap_or_default();
        if !t.dir.is_empty() {
            self.obsolete.push(t.dir.clone());
        }
        for (d, id) in docs {
            t.docs.push(d);
            t.ids.push(id);
        }
        t.docs.sort_unstable();
        t.docs.dedup();
        let name = self.pending.fresh_name("tomb");
        let tdir = tmp.join(&name);
        std::fs::create_dir(&tdir).map_err(|e| IndexError::io(&tdir, e))?;
        for stream in [Stream::Text, Stream::Canon] {
            if let Some(st) = live.shard.stream(stream) {
                write_removed_stream(&tdir, stream, &st.files, st.vocab.len() as u32, &t.docs)?;
            }
        }
        sync_dir(&tdir)?;
        let to = self.dir.join(&name);
        std::fs::rename(&tdir, &to).map_err(|e| IndexError::io(&to, e))?;
        self.staged.push(name.clone());
        t.dir = name;
        self.pending.shards[si].tombstones = Some(t);
        Ok(live.shard.name().to_string())
    }

    /// Stages the merge of every delta shard and every shard with tombstones
    /// into new base shards (re-tokenising the stored text), dropping removed
    /// documents for good.
    pub fn compact(&mut self) -> Result<CompactReport> {
        self.compact_where(|_, _| true)
    }

    /// [`IndexWriter::compact`], of the delta shards only, and only when there
    /// are at least `min_deltas` of them and no base shard has tombstones
    /// (compacting those would rewrite a large base shard: an operator's
    /// decision, not a side effect). The service's registry uses it.
    pub fn compact_deltas(&mut self, min_deltas: usize) -> Result<CompactReport> {
        let deltas = self.pending.shards.iter().filter(|e| e.kind == ShardKind::Delta).count();
        let base_tombstoned =
            self.pending.shards.iter().any(|e| e.kind == ShardKind::Base && e.tombstones.is_some());
        if deltas < min_deltas.max(1) || base_tombstoned {
            return Ok(CompactReport::default());
        }
        self.compact_where(|kind, _| kind == ShardKind::Delta)
    }

    fn compact_where(&mut self, also: impl Fn(ShardKind, bool) -> bool) -> Result<CompactReport> {
        let index = self.staged_snapshot()?;
        let chosen: Vec<usize> = self
            .pending
            .shards
            .iter()
            .enumerate()
            .filter(|(_, e)| {
                (e.kind == ShardKind::Delta || e.tombstones.is_some()) && also(e.kind, e.tombstones.is_some())
            })
            .map(|(i, _)| i)
            .collect();
        if chosen.is_empty() {
            return Ok(CompactReport::default());
        }
        let tmp = self.scratch()?;
        let (written, dropped) = self.rewrite(&tmp.0, &index, &chosen)?;
        let mut merged = Vec::new();
        let mut kept = Vec::new();
        for (i, e) in std::mem::take(&mut self.pending.shards).into_iter().enumerate() {
            if chosen.contains(&i) {
                self.obsolete.push(e.summary.name.clone());
                self.obsolete.extend(e.tombstones.as_ref().map(|t| t.dir.clone()));
                merged.push(e.summary.name);
            } else {
                kept.push(e);
            }
        }
        self.pending.shards = kept;
        self.stage_shards(&tmp.0, &written, ShardKind::Base)?;
        self.ops.push("compact");
        Ok(CompactReport { merged, written, dropped_docs: dropped })
    }

    /// Writes the live documents of shards `chosen` of `index` into new
    /// shards in `tmp`; returns them and the number of removed documents left out.
    fn rewrite(&mut self, tmp: &Path, index: &Index, chosen: &[usize]) -> Result<(Vec<ShardSummary>, u64)> {
        let mut cut = Cutter::new(tmp, self.opts.shard_tokens);
        let mut dropped = 0u64;
        for &si in chosen {
            let s = &index.live_shards()[si];
            for d in 0..s.shard.docs.len() {
                if !s.is_live(d) {
                    dropped += 1;
                    continue;
                }
                let (info, rights) = s.shard.doc(d)?;
                let text = s.shard.store.text(info.loc)?;
                let doc = DocInput {
                    id: &info.id,
                    path: info.path.as_deref(),
                    text: &text,
                    mode: info.mode,
                    rights,
                };
                cut.add(&mut self.pending, &doc)?;
            }
        }
        let written = cut.finish()?;
        Ok((written, dropped))
    }

    /// Stages the shards of other indexes, built elsewhere (one per partition
    /// of a corpus, on other workers or machines), as base shards of this
    /// one. Each source must have the same format and normaliser versions and
    /// no removed documents (compact it first); its shards are checked in full
    /// and hard-linked in where the source is on the index's file system
    /// (copied where it is not). Shard files are never written once complete,
    /// so the sources stay as they were, and either side may be deleted later.
    pub fn adopt(&mut self, sources: &[PathBuf]) -> Result<Vec<ShardSummary>> {
        if sources.is_empty() {
            return Err(IndexError::Input("no index to adopt given".into()));
        }
        let tmp = self.scratch()?;
        let mut adopted = Vec::new();
        for src in sources {
            adopted.extend(self.take_shards_of(src, &tmp.0)?);
        }
        self.stage_shards(&tmp.0, &adopted, ShardKind::Base)?;
        self.ops.push("adopt");
        Ok(adopted)
    }

    fn take_shards_of(&mut self, src: &Path, tmp: &Path) -> Result<Vec<ShardSummary>> {
        if src.canonicalize().ok() == self.dir.canonicalize().ok() {
            return Err(IndexError::Input(format!("{}: an index cannot adopt itself", src.display())));
        }
        take_shards_of(src, tmp, &mut self.pending)
    }

    /// Commits the staged changes (the new manifest is the commit point) and
    /// returns the new snapshot; shards it shares with the last one stay open.
    pub fn commit(&mut self) -> Result<Index> {
        if self.ops.is_empty() {
            return Ok(self.committed.clone());
        }
        self.pending.generation = self.committed.manifest().generation + 1;
        for op in &self.ops {
            failpoint(&format!("{op}:before-manifest"));
        }
        self.pending.store(&self.dir)?;
        self.ops.clear();
        self.staged.clear();
        for d in self.obsolete.drain(..) {
            let _ = std::fs::remove_dir_all(self.dir.join(d));
        }
        let index = Index::with_manifest(&self.dir, self.pending.clone(), self.committed.live_shards())?;
        self.committed = index.clone();
        Ok(index)
    }

    /// Drops the staged changes.
    pub fn rollback(&mut self) {
        for d in self.staged.drain(..) {
            let _ = std::fs::remove_dir_all(self.dir.join(d));
        }
        self.pending = self.committed.manifest().clone();
        self.ops.clear();
        self.obsolete.clear();
    }
}

impl Drop for IndexWriter {
    fn drop(&mut self) {
        self.rollback();
    }
}

/// Builds a new index at `dir` (which must not exist or be empty) from the
/// shards of indexes built elsewhere, as [`IndexWriter::adopt`] takes them:
/// the last step of a distributed build, one index per partition.
pub fn assemble(dir: &Path, sources: &[PathBuf]) -> Result<Vec<ShardSummary>> {
    if sources.is_empty() {
        return Err(IndexError::Input("no index to adopt given".into()));
    }
    let mut adopted = Vec::new();
    create(dir, |tmp, manifest| {
        for src in sources {
            adopted.extend(take_shards_of(src, tmp, manifest)?);
        }
        manifest.shards = adopted
            .iter()
            .map(|s| ShardEntry { summary: s.clone(), kind: ShardKind::Base, tombstones: None })
            .collect();
        Ok(BuildReport {
            shards: adopted.clone(),
            #[cfg(feature = "ingest")]
            ingest: IngestReport::default(),
            seconds: 0.0,
        })
    })?;
    Ok(adopted)
}

/// Checks the index at `src` and links (or copies) its shards into `tmp`
/// under fresh names of `into`.
fn take_shards_of(src: &Path, tmp: &Path, into: &mut Manifest) -> Result<Vec<ShardSummary>> {
    let theirs = Index::open(src)?;
    let m = theirs.manifest();
    if m.format_version != into.format_version || m.normalizer_version != into.normalizer_version {
        return Err(IndexError::Input(format!(
            "{}: format {} with normaliser {}, this index has format {} with normaliser {}; rebuild it with this recital",
            src.display(),
            m.format_version,
            m.normalizer_version,
            into.format_version,
            into.normalizer_version
        )));
    }
    if let Some(e) = m.shards.iter().find(|e| e.tombstones.is_some()) {
        return Err(IndexError::Input(format!(
            "{}: shard {} has removed documents; run `recital index compact` on it first",
            src.display(),
            e.summary.name
        )));
    }
    theirs.verify()?;
    let mut out = Vec::new();
    for e in &m.shards {
        let name = into.fresh_name("shard");
        link_or_copy_dir(&src.join(&e.summary.name), &tmp.join(&name))?;
        out.push(ShardSummary { name, ..e.summary.clone() });
    }
    Ok(out)
}

/// Documents into shards under `tmp`, a new shard started when the last
/// reaches `limit` tokens (what bounds a build's memory).
struct Cutter<'a> {
    tmp: &'a Path,
    limit: u64,
    open: Option<ShardBuilder>,
    written: Vec<ShardSummary>,
}

impl<'a> Cutter<'a> {
    fn new(tmp: &'a Path, limit: u64) -> Self {
        Self { tmp, limit, open: None, written: Vec::new() }
    }

    /// Adds a document, naming a new shard from `manifest` when one starts.
    fn add(&mut self, manifest: &mut Manifest, d: &DocInput<'_>) -> Result<()> {
        let b = match &mut self.open {
            Some(b) => b,
            None => self.open.insert(ShardBuilder::create(&self.tmp.join(manifest.fresh_name("shard")))?),
        };
        b.add(d)?;
        if b.tokens() >= self.limit {
            self.written.push(self.open.take().expect("present").finish()?);
        }
        Ok(())
    }

    fn finish(mut self) -> Result<Vec<ShardSummary>> {
        if let Some(b) = self.open.take() {
            self.written.push(b.finish()?);
        }
        Ok(self.written)
    }
}

/// A writer's scratch directory, removed when dropped.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Puts a shard directory (flat: a shard has no subdirectories) at `to`:
/// each file hard-linked where `from` and `to` share a file system, copied
/// where they do not (or the file system has no hard links). Every file and
/// the directory are synced either way, so the commit protocol is the same as
/// for a copy: a source written by another program without a sync is durable
/// before the manifest that names it. Syncing a linked file whose data are
/// already on disk costs a metadata flush, not a rewrite.
fn link_or_copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir(to).map_err(|e| IndexError::io(to, e))?;
    let rd = std::fs::read_dir(from).map_err(|e| IndexError::io(from, e))?;
    for e in rd {
        let e = e.map_err(|x| IndexError::io(from, x))?;
        let target = to.join(e.file_name());
        if let Err(why) = std::fs::hard_link(e.path(), &target) {
            tracing::debug!("copying {} (no hard link: {why})", e.path().display());
            std::fs::copy(e.path(), &target).map_err(|x| IndexError::io(&target, x))?;
        }
        File::open(&target).and_then(|f| f.sync_all()).map_err(|x| IndexError::io(&target, x))?;
    }
    sync_dir(to)
}

/// What `remove` did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RemoveReport {
    /// Documents tombstoned (a document id present in several shards counts each time).
    pub removed: u64,
    /// Shards affected.
    pub shards: Vec<String>,
}

/// What `compact` did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CompactReport {
    /// Shards merged away.
    pub merged: Vec<String>,
    /// Shards written.
    pub written: Vec<ShardSummary>,
    /// Removed documents dropped for good.
    pub dropped_docs: u64,
}

/// The sub-index over removed documents: their token bytes, re-sorted.
fn write_removed_stream(
    dir: &Path,
    stream: Stream,
    files: &stream::StreamFiles,
    alphabet: u32,
    docs: &[u32],
) -> Result<()> {
    let starts = files.starts();
    let toks = files.tokens();
    let mut ids: Vec<i32> = Vec::new();
    let mut firsts = Vec::with_capacity(docs.len());
    for &d in docs {
        let (a, b) = (starts[d as usize] as usize, starts[d as usize + 1] as usize);
        firsts.push(ids.len() as u64);
        let mut i = a;
        while i < b {
            let (id, len) = varint::decode(&toks[i..]).ok_or_else(|| IndexError::Corrupt {
                path: dir.to_owned(),
                why: "token stream ends inside a token".into(),
            })?;
            ids.push(id as i32);
            i += len;
        }
    }
    stream::write_stream(dir, stream, ids, &firsts, alphabet)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::MetadataExt;

    use super::*;
    use crate::format::{DocMode, Rights};
    use crate::read::Query;

    fn build_part(dir: &Path, words: &str) -> PathBuf {
        let text = format!("{words} is the phrase this partition holds and no other one");
        let doc =
            DocInput { id: words, path: None, text: &text, mode: DocMode::Text, rights: Rights::default() };
        build_docs(dir, &[doc], &BuildOptions::default()).unwrap();
        dir.to_owned()
    }

    fn inodes(shard_dir: &Path) -> Vec<(std::ffi::OsString, u64, u64)> {
        let mut v: Vec<_> = std::fs::read_dir(shard_dir)
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                let m = e.metadata().unwrap();
                (e.file_name(), m.dev(), m.ino())
            })
            .collect();
        v.sort();
        v
    }

    fn count(idx: &Index, q: &str) -> u64 {
        idx.count(&Query::text(q)).unwrap().count
    }

    #[test]
    fn adopt_links_on_one_file_system_and_the_source_may_go() {
        let t = tempfile::tempdir().unwrap();
        let a = build_part(&t.path().join("a"), "amber heron");
        let b = build_part(&t.path().join("b"), "cobalt finch");
        let merged = t.path().join("merged");
        let shards = assemble(&merged, std::slice::from_ref(&a)).unwrap();
        assert_eq!(inodes(&merged.join(&shards[0].name)), inodes(&a.join("shard-000001")));
        let mut w = IndexWriter::open(&merged).unwrap();
        let more = w.adopt(std::slice::from_ref(&b)).unwrap();
        let idx = w.commit().unwrap();
        assert_eq!(inodes(&merged.join(&more[0].name)), inodes(&b.join("shard-000001")));
        std::fs::remove_dir_all(&a).unwrap();
        std::fs::remove_dir_all(&b).unwrap();
        let idx2 = Index::open(&merged).unwrap();
        idx2.verify().unwrap();
        for i in [&idx, &idx2] {
            assert_eq!(count(i, "amber heron is the phrase"), 1);
            assert_eq!(count(i, "cobalt finch is the phrase"), 1);
        }
    }

    #[test]
    fn adopt_copies_across_file_systems() {
        let shm = Path::new("/dev/shm");
        let t = tempfile::tempdir().unwrap();
        let Ok(src) = tempfile::tempdir_in(shm) else {
            eprintln!("no /dev/shm here: the cross-file-system copy is not exercised");
            return;
        };
        if src.path().metadata().unwrap().dev() == t.path().metadata().unwrap().dev() {
            eprintln!("/dev/shm and the temporary directory share a file system: nothing to test");
            return;
        }
        let a = build_part(&src.path().join("a"), "amber heron");
        let merged = t.path().join("merged");
        let shards = assemble(&merged, std::slice::from_ref(&a)).unwrap();
        let (ours, theirs) = (inodes(&merged.join(&shards[0].name)), inodes(&a.join("shard-000001")));
        assert_eq!(ours.len(), theirs.len());
        assert!(ours.iter().zip(&theirs).all(|(x, y)| x.0 == y.0 && x.1 != y.1), "{ours:?} {theirs:?}");
        drop(src);
        let idx = Index::open(&merged).unwrap();
        idx.verify().unwrap();
        assert_eq!(count(&idx, "amber heron is the phrase"), 1);
    }
}
