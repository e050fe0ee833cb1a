//! Changing an index: `build` (a new index), `add` (a delta shard), `remove`
//! (tombstones) and `compact` (merge deltas and drop removed documents).
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

use crate::build::{sync_dir, DocInput, ShardBuilder, ShardSummary, DEFAULT_SHARD_TOKENS};
use crate::error::{IndexError, Result};
use crate::index::Index;
use crate::ingest::{IngestOptions, IngestReport};
use crate::manifest::{Manifest, ShardEntry, ShardKind};
use crate::pipeline;
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
        let report = pipeline::run(inputs, ingest_opts, opts.threads, |doc| {
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
fn finish_with_spinner(b: ShardBuilder, show: bool) -> Result<ShardSummary> {
    let sp = crate::progress::spinner(format!("sorting suffixes of {} tokens", b.tokens()), show);
    let r = b.finish();
    sp.finish_and_clear();
    r
}

/// Builds a new index at `dir` (which must not exist or be empty).
pub fn build(
    dir: &Path,
    inputs: &[PathBuf],
    ingest_opts: &IngestOptions,
    opts: &BuildOptions,
) -> Result<BuildReport> {
    let t0 = std::time::Instant::now();
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
        let (entries, report) =
            write_shards(&tmp, &mut manifest, ShardKind::Base, inputs, ingest_opts, opts)?;
        let shards = entries.iter().map(|e| e.summary.clone()).collect();
        manifest.shards = entries;
        manifest.generation = 1;
        manifest.store(&tmp)?;
        failpoint("build:before-rename");
        if dir.exists() {
            std::fs::remove_dir(dir).map_err(|e| IndexError::io(dir, e))?;
        }
        std::fs::rename(&tmp, dir).map_err(|e| IndexError::io(dir, e))?;
        sync_dir(&parent)?;
        Ok(BuildReport { shards, ingest: report, seconds: t0.elapsed().as_secs_f64() })
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

/// Adds the documents of `inputs` to the index at `dir` as a delta shard.
pub fn add(
    dir: &Path,
    inputs: &[PathBuf],
    ingest_opts: &IngestOptions,
    opts: &BuildOptions,
) -> Result<BuildReport> {
    let t0 = std::time::Instant::now();
    Manifest::load(dir)?;
    let _lock = lock(dir)?;
    let mut manifest = Manifest::load(dir)?;
    collect_garbage(dir, &manifest);
    let tmp = dir.join(format!(".tmp-{}", std::process::id()));
    std::fs::create_dir(&tmp).map_err(|e| IndexError::io(&tmp, e))?;
    let result = (|| {
        let (entries, report) =
            write_shards(&tmp, &mut manifest, ShardKind::Delta, inputs, ingest_opts, opts)?;
        for e in &entries {
            let from = tmp.join(&e.summary.name);
            let to = dir.join(&e.summary.name);
            std::fs::rename(&from, &to).map_err(|x| IndexError::io(&to, x))?;
        }
        sync_dir(dir)?;
        let shards = entries.iter().map(|e| e.summary.clone()).collect();
        manifest.shards.extend(entries);
        manifest.generation += 1;
        failpoint("add:before-manifest");
        manifest.store(dir)?;
        Ok(BuildReport { shards, ingest: report, seconds: t0.elapsed().as_secs_f64() })
    })();
    let _ = std::fs::remove_dir_all(&tmp);
    result
}

/// Adds in-memory documents to the index at `dir` as one delta shard: the
/// service's registry uses it so a registered work is searchable as soon as the
/// call returns, without staging files. Same commit protocol as [`add`].
pub fn add_docs(dir: &Path, docs: &[DocInput<'_>]) -> Result<BuildReport> {
    let t0 = std::time::Instant::now();
    if docs.is_empty() {
        return Err(IndexError::Input("no documents given".into()));
    }
    if docs.iter().all(|d| d.text.trim().is_empty()) {
        return Err(IndexError::Input(
            "the documents contain no text to index (all empty or whitespace)".into(),
        ));
    }
    Manifest::load(dir)?;
    let _lock = lock(dir)?;
    let mut manifest = Manifest::load(dir)?;
    collect_garbage(dir, &manifest);
    let tmp = dir.join(format!(".tmp-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir(&tmp).map_err(|e| IndexError::io(&tmp, e))?;
    let result = (|| {
        let name = manifest.fresh_name("shard");
        let mut b = ShardBuilder::create(&tmp.join(&name))?;
        let mut report = IngestReport::default();
        for d in docs {
            b.add(d)?;
            report.docs += 1;
            report.text_bytes += d.text.len() as u64;
        }
        let summary = b.finish()?;
        let to = dir.join(&summary.name);
        std::fs::rename(tmp.join(&summary.name), &to).map_err(|x| IndexError::io(&to, x))?;
        sync_dir(dir)?;
        manifest.shards.push(ShardEntry {
            summary: summary.clone(),
            kind: ShardKind::Delta,
            tombstones: None,
        });
        manifest.generation += 1;
        failpoint("add:before-manifest");
        manifest.store(dir)?;
        Ok(BuildReport { shards: vec![summary], ingest: report, seconds: t0.elapsed().as_secs_f64() })
    })();
    let _ = std::fs::remove_dir_all(&tmp);
    result
}

/// What `remove` did.
#[derive(Debug, Clone, Serialize)]
pub struct RemoveReport {
    /// Documents tombstoned (a document id present in several shards counts each time).
    pub removed: u64,
    /// Shards affected.
    pub shards: Vec<String>,
}

/// Tombstones every live document whose id is in `ids`. If any id matches no live
/// document, nothing is changed and the error lists them.
pub fn remove(dir: &Path, ids: &[String]) -> Result<RemoveReport> {
    if ids.is_empty() {
        return Err(IndexError::Input("no document ids given".into()));
    }
    Manifest::load(dir)?;
    let _lock = lock(dir)?;
    let index = Index::open(dir)?;
    collect_garbage(dir, index.manifest());
    let mut manifest = index.manifest().clone();
    let wanted: std::collections::HashSet<&str> = ids.iter().map(|s| s.as_str()).collect();
    let mut found: std::collections::HashSet<String> = Default::default();
    let mut per_shard: Vec<(usize, Vec<u32>, Vec<String>)> = Vec::new();
    for (si, s) in index.shards().iter().enumerate() {
        let mut docs = Vec::new();
        let mut names = Vec::new();
        for d in 0..s.shard.docs.len() {
            if !s.is_live(d) {
                continue;
            }
            let id = s.shard.docs.id(d)?;
            if wanted.contains(id.as_str()) {
                docs.push(d as u32);
                names.push(id.clone());
                found.insert(id);
            }
        }
        if !docs.is_empty() {
            per_shard.push((si, docs, names));
        }
    }
    let missing: Vec<&str> = ids.iter().map(|s| s.as_str()).filter(|id| !found.contains(*id)).collect();
    if !missing.is_empty() {
        return Err(IndexError::Input(format!(
            "no live document with id {}; nothing was removed",
            missing.iter().map(|m| format!("{m:?}")).collect::<Vec<_>>().join(", ")
        )));
    }
    let tmp = dir.join(format!(".tmp-{}", std::process::id()));
    std::fs::create_dir(&tmp).map_err(|e| IndexError::io(&tmp, e))?;
    let result = (|| {
        let mut removed = 0u64;
        let mut shards = Vec::new();
        let mut old_dirs = Vec::new();
        for (si, new_docs, new_names) in per_shard {
            let live = &index.shards()[si];
            let entry = &mut manifest.shards[si];
            let mut t = entry.tombstones.clone().unwrap_or_default();
            if !t.dir.is_empty() {
                old_dirs.push(t.dir.clone());
            }
            removed += new_docs.len() as u64;
            t.docs.extend(new_docs);
            t.docs.sort_unstable();
            t.docs.dedup();
            t.ids.extend(new_names);
            let name = manifest.fresh_name("tomb");
            let tdir = tmp.join(&name);
            std::fs::create_dir(&tdir).map_err(|e| IndexError::io(&tdir, e))?;
            for stream in [Stream::Text, Stream::Canon] {
                if let Some(st) = live.shard.stream(stream) {
                    write_removed_stream(&tdir, stream, &st.files, st.vocab.len() as u32, &t.docs)?;
                }
            }
            sync_dir(&tdir)?;
            std::fs::rename(&tdir, dir.join(&name)).map_err(|e| IndexError::io(&dir.join(&name), e))?;
            t.dir = name;
            manifest.shards[si].tombstones = Some(t);
            shards.push(live.shard.name().to_string());
        }
        sync_dir(dir)?;
        manifest.generation += 1;
        failpoint("remove:before-manifest");
        manifest.store(dir)?;
        for d in old_dirs {
            let _ = std::fs::remove_dir_all(dir.join(d));
        }
        Ok(RemoveReport { removed, shards })
    })();
    let _ = std::fs::remove_dir_all(&tmp);
    result
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

/// What `compact` did.
#[derive(Debug, Clone, Serialize)]
pub struct CompactReport {
    /// Shards merged away.
    pub merged: Vec<String>,
    /// Shards written.
    pub written: Vec<ShardSummary>,
    /// Removed documents dropped for good.
    pub dropped_docs: u64,
}

/// Merges every delta shard and every shard with tombstones into new base shards
/// (re-tokenising the stored text), dropping removed documents for good.
pub fn compact(dir: &Path, opts: &BuildOptions) -> Result<CompactReport> {
    Manifest::load(dir)?;
    let _lock = lock(dir)?;
    let index = Index::open(dir)?;
    collect_garbage(dir, index.manifest());
    let mut manifest = index.manifest().clone();
    let chosen: Vec<usize> = index
        .shards()
        .iter()
        .enumerate()
        .filter(|(_, s)| s.entry.kind == ShardKind::Delta || s.entry.tombstones.is_some())
        .map(|(i, _)| i)
        .collect();
    if chosen.is_empty() {
        return Ok(CompactReport { merged: vec![], written: vec![], dropped_docs: 0 });
    }
    let tmp = dir.join(format!(".tmp-{}", std::process::id()));
    std::fs::create_dir(&tmp).map_err(|e| IndexError::io(&tmp, e))?;
    let result = (|| {
        let mut written = Vec::new();
        let mut dropped = 0u64;
        let mut builder: Option<ShardBuilder> = None;
        for &si in &chosen {
            let s = &index.shards()[si];
            for d in 0..s.shard.docs.len() {
                if !s.is_live(d) {
                    dropped += 1;
                    continue;
                }
                let (info, rights) = s.shard.doc(d)?;
                let text = s.shard.store.text(info.loc)?;
                if builder.is_none() {
                    builder = Some(ShardBuilder::create(&tmp.join(manifest.fresh_name("shard")))?);
                }
                let b = builder.as_mut().expect("just created");
                b.add(&DocInput {
                    id: &info.id,
                    path: info.path.as_deref(),
                    text: &text,
                    mode: info.mode,
                    rights,
                })?;
                if b.tokens() >= opts.shard_tokens {
                    written.push(builder.take().expect("present").finish()?);
                }
            }
        }
        if let Some(b) = builder {
            written.push(b.finish()?);
        }
        for w in &written {
            std::fs::rename(tmp.join(&w.name), dir.join(&w.name))
                .map_err(|e| IndexError::io(&dir.join(&w.name), e))?;
        }
        sync_dir(dir)?;
        let mut old = Vec::new();
        let mut kept = Vec::new();
        for (i, e) in manifest.shards.drain(..).enumerate() {
            if chosen.contains(&i) {
                old.push(e);
            } else {
                kept.push(e);
            }
        }
        kept.extend(written.iter().map(|w| ShardEntry {
            summary: w.clone(),
            kind: ShardKind::Base,
            tombstones: None,
        }));
        manifest.shards = kept;
        manifest.generation += 1;
        failpoint("compact:before-manifest");
        manifest.store(dir)?;
        for e in &old {
            let _ = std::fs::remove_dir_all(dir.join(&e.summary.name));
            if let Some(t) = &e.tombstones {
                let _ = std::fs::remove_dir_all(dir.join(&t.dir));
            }
        }
        Ok(CompactReport {
            merged: old.into_iter().map(|e| e.summary.name).collect(),
            written,
            dropped_docs: dropped,
        })
    })();
    let _ = std::fs::remove_dir_all(&tmp);
    result
}
