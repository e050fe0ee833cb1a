//! Every on-disk file of an index (manifest, shards' tables, streams,
//! suffix arrays, vocabularies, document stores, rights, tombstones), fed
//! corrupted: overwritten or truncated as a disk would, or with a mutated
//! body whose envelope checksum is recomputed so the structure readers
//! behind the checksum see the damage. Opening and querying must answer or
//! fail with an error; never panic.
#![no_main]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use recital_detect::{scan, Input, ScanOptions};
use recital_fuzz::{build_index, one_thread, scratch, Bytes, SAMPLE_DOCS};
use recital_index::{Index, IngestOptions, Query};

/// The envelope of `recital_index`'s files (see its `file` module).
const MAGIC: &[u8] = b"RECITAL\x1a";
const HEADER: usize = 64;
const FOOTER: usize = 24;

struct Base {
    _dir: tempfile::TempDir,
    idx: PathBuf,
    files: Vec<PathBuf>,
}

/// A built index with a base shard, a delta shard and tombstones.
fn base() -> &'static Base {
    static B: OnceLock<Base> = OnceLock::new();
    B.get_or_init(|| {
        let dir = scratch();
        let idx = build_index(dir.path(), SAMPLE_DOCS);
        let extra = dir.path().join("extra");
        std::fs::create_dir(&extra).unwrap();
        std::fs::write(extra.join("more.txt"), "it was the season of light, it was the season of darkness")
            .unwrap();
        let mut w = recital_index::IndexWriter::open(&idx).unwrap().with_options(one_thread());
        w.add_files(&[extra], &IngestOptions::default()).unwrap();
        w.commit().unwrap();
        w.remove(&["hamlet.txt".to_string()]).unwrap();
        w.commit().unwrap();
        let mut files = Vec::new();
        walk(&idx, &idx, &mut files);
        files.sort();
        Base { _dir: dir, idx, files }
    })
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(root, &p, out);
        } else {
            out.push(p.strip_prefix(root).unwrap().to_owned());
        }
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let (src, dst) = (e.path(), to.join(e.file_name()));
        if src.is_dir() {
            copy_dir(&src, &dst);
        } else {
            // libFuzzer's timeout timer (SIGALRM) can interrupt the copy's
            // copy_file_range, which std does not retry.
            let copied = (0..100).find_map(|_| match std::fs::copy(&src, &dst) {
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => None,
                r => Some(r),
            });
            copied.expect("not interrupted 100 times").unwrap();
        }
    }
}

/// Writes a new footer for `file`'s (possibly new) body.
fn reseal(file: &mut Vec<u8>, body: &[u8]) {
    file.truncate(HEADER);
    file.extend_from_slice(body);
    file.extend_from_slice(&xxhash_rust::xxh3::xxh3_64(body).to_le_bytes());
    file.extend_from_slice(&(body.len() as u64).to_le_bytes());
    file.extend_from_slice(b"RCTLEND\x00");
}

fn mutate(b: &mut Bytes<'_>, bytes: &mut Vec<u8>) {
    let enveloped = bytes.starts_with(MAGIC) && bytes.len() >= HEADER + FOOTER;
    match b.u8() % 4 {
        0 => {
            let at = b.below(bytes.len() + 1);
            let patch = b.rest();
            let end = (at + patch.len()).min(bytes.len());
            bytes[at..end].copy_from_slice(&patch[..end - at]);
        }
        1 => {
            let to = b.below(bytes.len() + 1);
            bytes.truncate(to);
        }
        2 if enveloped => {
            let mut body = bytes[HEADER..bytes.len() - FOOTER].to_vec();
            let at = b.below(body.len() + 1);
            for (x, p) in body[at..].iter_mut().zip(b.rest()) {
                *x ^= p;
            }
            reseal(bytes, &body);
        }
        _ if enveloped => {
            let body = b.rest().to_vec();
            reseal(bytes, &body);
        }
        _ => *bytes = b.rest().to_vec(),
    }
}

/// Everything a reader of the index does; errors are answers, panics are bugs.
fn exercise(dir: &Path) {
    let idx = match Index::open(dir) {
        Ok(i) => i,
        Err(e) => {
            assert!(!e.to_string().is_empty());
            return;
        }
    };
    let _ = idx.verify_once();
    let _ = idx.verify();
    let _ = idx.stats();
    let queries = [
        Query::text("it was the"),
        Query::text("the season of"),
        Query::text("to be"),
        Query::text("שלום"),
        Query::canonical("for (int i = 0; i < n; i++)", recital_text::code::Lang::C),
        Query::canonical("return total", recital_text::code::Lang::Python),
    ];
    for q in &queries {
        let _ = idx.count(q);
        let _ = idx.locate(q, 5);
        for o in idx.occurrences(q, 5) {
            let _ = idx.hit(q.stream, o);
        }
        let _ = idx.match_lengths(q.stream, &q.tokens);
        let _ = idx.maximal_match_lengths(q.stream, &q.tokens);
        let _ = idx.longest_prefix(q.stream, &q.tokens);
    }
    let out = "it was the best of times, it was the worst of times, it was the season of light; \
        int sum(const int *a, int n) {\n  int s = 0;\n  for (int i = 0; i < n; i++) s += a[i];\n";
    let input = Input::decode(out.as_bytes()).unwrap();
    let opts = ScanOptions { min_tokens: 4, seed_tokens: 4, code_min_tokens: 8, ..ScanOptions::default() };
    let _ = scan(&idx, &input, &opts);
    let _ = idx.reopen();
}

fuzz_target!(|data: &[u8]| {
    let base = base();
    let mut b = Bytes(data);
    let rel = &base.files[b.below(base.files.len())];
    let dir = scratch();
    let idx = dir.path().join("idx");
    copy_dir(&base.idx, &idx);
    let path = idx.join(rel);
    let mut bytes = std::fs::read(&path).unwrap();
    mutate(&mut b, &mut bytes);
    std::fs::write(&path, &bytes).unwrap();
    exercise(&idx);
});
