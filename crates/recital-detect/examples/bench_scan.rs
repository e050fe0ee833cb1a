//! Scan latency benchmark: `recital_detect::scan` in-process on model-like
//! outputs of 1 KB, 4 KB and 64 KB. Run by `bench/scan.sh`; prints JSON.
//!
//! ```sh
//! cargo run --release -p recital-detect --example bench_scan -- INDEX_DIR \
//!     --copied PATH... --novel PATH... [--code] [--stride-copied K] [--stride-novel K] [--seed S]
//!     [--sizes 1024,4096,65536] [--warm-only]
//! ```
//! - **Outputs**: segments of 20–120 tokens joined by short connective
//!   sentences, until the size is reached (then cut at a char boundary):
//!   40 % verbatim excerpts of the documents under `--copied` (those the index
//!   was built from), 10 % such excerpts with words substituted (prose: 1 in
//!   15; code: identifiers renamed), 50 % excerpts of documents under
//!   `--novel` that are not in the index (same relative path or id as a copied
//!   document: skipped). With `--code`, segments are functions in ```` ```c ````
//!   fences, so the canonical code stream is matched too.
//! - **warm**: every output scanned once (warm-up), then each timed, 3 rounds;
//!   also the process CPU time per output over those rounds (`warm_cpu_ms`).
//! - **cold**: the index files are evicted from the page cache
//!   (`posix_fadvise(DONTNEED)`), the index opened afresh, and one output
//!   scanned (open + scan timed), 10 times per size.
//! - **throughput**: outputs/s with 1 and 2 threads sharing one `&Index`
//!   (`Index` is `Sync`; each scan has its own document cache).

#[path = "accuracy/suite/mod.rs"]
mod suite;

use std::collections::HashSet;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use recital_detect::{scan, Input, ScanOptions, SpanKind};
use recital_index::Index;
use recital_text::code::Lang;
use suite::{perturb, Corpus, Doc, Generator, Rng};

const _: fn() = || {
    fn sync<T: Sync>() {}
    sync::<Index>();
};

// The accuracy suite's corpus reader: one directory walk for both examples.
#[allow(dead_code, clippy::duplicate_mod)]
#[path = "accuracy/suite/corpus.rs"]
mod corpus;
use corpus::walk;

/// (root, file) pairs under `paths` (a path that is a file is its own root's child).
fn files(paths: &[PathBuf]) -> Vec<(PathBuf, PathBuf)> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut fs = Vec::new();
            walk(p, &mut fs);
            out.extend(fs.into_iter().map(|f| (p.clone(), f)));
        } else {
            out.push((p.parent().unwrap_or(Path::new(".")).to_owned(), p.clone()));
        }
    }
    out
}

fn is_jsonl(p: &Path) -> bool {
    let n = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    n.ends_with(".jsonl") && n != "rights.jsonl"
}

/// Ids of every document under `paths`: relative paths of source files, ids of JSONL records.
fn ids(paths: &[PathBuf]) -> HashSet<String> {
    let mut out = HashSet::new();
    for (root, f) in files(paths) {
        if is_jsonl(&f) {
            let Ok(fh) = std::fs::File::open(&f) else { continue };
            for line in std::io::BufReader::new(fh).lines().map_while(Result::ok) {
                if let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) {
                    if let Some(id) = v["id"].as_str() {
                        out.insert(id.to_string());
                    }
                }
            }
        } else {
            out.insert(f.strip_prefix(&root).unwrap_or(&f).to_string_lossy().into_owned());
        }
    }
    out
}

/// Every `stride`-th document under `paths` (code files when `code`, else
/// JSONL records and .md/.txt files), skipping ids in `exclude`.
fn load(paths: &[PathBuf], code: bool, stride: usize, exclude: &HashSet<String>) -> Vec<Doc> {
    let mut out = Vec::new();
    let mut k = 0usize;
    let mut take = || {
        k += 1;
        (k - 1).is_multiple_of(stride.max(1))
    };
    for (root, f) in files(paths) {
        let rel = f.strip_prefix(&root).unwrap_or(&f).to_string_lossy().into_owned();
        if is_jsonl(&f) && !code {
            let Ok(fh) = std::fs::File::open(&f) else { continue };
            for line in std::io::BufReader::new(fh).lines().map_while(Result::ok) {
                if !take() {
                    continue;
                }
                let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) else { continue };
                let (Some(id), Some(text)) = (v["id"].as_str(), v["text"].as_str()) else { continue };
                if !exclude.contains(id) {
                    out.push(Doc { id: id.to_string(), text: text.to_string(), lang: None });
                }
            }
            continue;
        }
        let lang = Lang::from_path(&f);
        let prose_file = f.extension().is_some_and(|e| e == "md" || e == "txt");
        if (code && lang.is_none()) || (!code && !prose_file) || exclude.contains(&rel) || !take() {
            continue;
        }
        let Ok(b) = std::fs::read(&f) else { continue };
        if b.contains(&0) || b.len() > 1 << 20 {
            continue;
        }
        out.push(Doc {
            id: rel,
            text: String::from_utf8_lossy(&b).into_owned(),
            lang: if code { lang } else { None },
        });
    }
    out
}

const CONNECTIVES: &[&str] = &[
    "As the passage puts it:",
    "Here is the relevant part.",
    "Consider the following.",
    "In other words:",
    "The next part continues the thought.",
    "Another source says much the same.",
    "I hope that helps.",
    "Note the wording here:",
];

/// One output of about `size` bytes (cut at a char boundary at `size`).
fn output(g: &mut Generator, rng: &mut Rng, size: usize) -> String {
    let code = g.corpus.code;
    let mut s = String::with_capacity(size + 4096);
    while s.len() < size {
        let c = rng.pick(CONNECTIVES);
        s.push_str(c);
        s.push_str("\n\n");
        let r = rng.below(10);
        let novel = r >= 5;
        if code {
            let (t, _, _, lang) = g.code_span(novel);
            let t = if r == 4 { perturb::rename_identifiers(&t, lang, rng) } else { t };
            s.push_str(&format!("```{}\n{t}\n```\n\n", lang.name()));
        } else {
            let (t, _, _) = g.prose_span(novel, 20, 120);
            let t = if r == 4 { perturb::substitute(&t, rng) } else { t };
            s.push_str(&t);
            s.push_str("\n\n");
        }
    }
    let mut cut = size;
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    s.truncate(cut);
    s
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    if v.is_empty() {
        return f64::NAN;
    }
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

fn evict(dir: &Path) {
    let mut fs = Vec::new();
    walk(dir, &mut fs);
    for f in fs {
        if let Ok(fh) = std::fs::File::open(&f) {
            use std::os::fd::AsRawFd;
            // SAFETY: plain syscall on an open descriptor.
            unsafe {
                libc::posix_fadvise(fh.as_raw_fd(), 0, 0, libc::POSIX_FADV_DONTNEED);
            }
        }
    }
}

/// CPU time of the whole process (every thread), in seconds: with latency on
/// a busy machine, the figure that other processes do not inflate.
fn cpu_seconds() -> f64 {
    // SAFETY: getrusage fills the struct it is given.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
    let t = |v: libc::timeval| v.tv_sec as f64 + v.tv_usec as f64 * 1e-6;
    t(u.ru_utime) + t(u.ru_stime)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let dir =
        PathBuf::from(args.next().expect("usage: bench_scan INDEX_DIR --copied PATH... --novel PATH..."));
    let (mut copied, mut novel) = (Vec::new(), Vec::new());
    let (mut code, mut seed, mut sc, mut sn) = (false, 42u64, 1usize, 1usize);
    let mut only: Option<Vec<usize>> = None;
    let mut warm_only = false;
    let mut target: Option<&str> = None;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--copied" => target = Some("copied"),
            "--novel" => target = Some("novel"),
            "--code" => code = true,
            "--warm-only" => warm_only = true,
            "--sizes" => {
                let v = args.next().expect("--sizes 1024,4096,...");
                only = Some(v.split(',').map(|x| x.parse().expect("--sizes takes byte counts")).collect());
            }
            "--seed" => seed = args.next().and_then(|s| s.parse().ok()).expect("--seed S"),
            "--stride-copied" => sc = args.next().and_then(|s| s.parse().ok()).expect("--stride-copied K"),
            "--stride-novel" => sn = args.next().and_then(|s| s.parse().ok()).expect("--stride-novel K"),
            _ => match target {
                Some("copied") => copied.push(PathBuf::from(a)),
                Some("novel") => novel.push(PathBuf::from(a)),
                _ => panic!("unexpected argument {a}"),
            },
        }
    }
    let t0 = Instant::now();
    let copied_docs = load(&copied, code, sc, &HashSet::new());
    let novel_docs = load(&novel, code, sn, &ids(&copied));
    eprintln!(
        "bench_scan: {} copied and {} novel documents loaded in {:.1} s",
        copied_docs.len(),
        novel_docs.len(),
        t0.elapsed().as_secs_f64()
    );
    assert!(!copied_docs.is_empty() && !novel_docs.is_empty(), "no documents to build outputs from");
    let corpus = Corpus { name: "bench".into(), code, indexed: copied_docs, held_out: novel_docs };
    let idx = Index::open(&dir).expect("open index");
    let mut g = Generator::new(&corpus, &idx, seed);
    let mut rng = Rng::new(seed ^ 0xABCD);
    let sizes: Vec<(usize, usize)> = [(1024, 300), (4096, 300), (65536, 40)]
        .into_iter()
        .filter(|(size, _)| only.as_ref().is_none_or(|o| o.contains(size)))
        .collect();
    let sets: Vec<Vec<Input>> = sizes
        .iter()
        .map(|&(size, n)| {
            (0..n)
                .map(|_| Input::decode(output(&mut g, &mut rng, size).as_bytes()).expect("decode"))
                .collect()
        })
        .collect();
    drop(g);
    let opts = ScanOptions::default();
    let mut report = serde_json::Map::new();
    let mut per_size: Vec<serde_json::Map<String, serde_json::Value>> = vec![Default::default(); sizes.len()];
    // Warm.
    for (k, set) in sets.iter().enumerate() {
        let (mut spans, mut copies, mut coverage) = (0usize, 0usize, 0.0);
        for inp in set {
            let r = scan(&idx, inp, &opts).expect("scan");
            spans += r.spans.len();
            copies += r.spans.iter().filter(|s| s.kind != SpanKind::Boilerplate).count();
            coverage += r.coverage;
        }
        let mut lat = Vec::new();
        let cpu0 = cpu_seconds();
        for _ in 0..3 {
            for inp in set {
                let t = Instant::now();
                std::hint::black_box(scan(&idx, inp, &opts).expect("scan"));
                lat.push(t.elapsed().as_secs_f64() * 1e3);
            }
        }
        let cpu_ms = (cpu_seconds() - cpu0) * 1e3 / lat.len() as f64;
        let n = set.len() as f64;
        let m = &mut per_size[k];
        m.insert("size".into(), sizes[k].0.into());
        m.insert("outputs".into(), set.len().into());
        m.insert("warm_n".into(), lat.len().into());
        m.insert("warm_p50_ms".into(), pct(&mut lat, 0.5).into());
        m.insert("warm_p99_ms".into(), pct(&mut lat, 0.99).into());
        m.insert("warm_max_ms".into(), pct(&mut lat, 1.0).into());
        m.insert("warm_cpu_ms".into(), cpu_ms.into());
        m.insert("spans_per_output".into(), (spans as f64 / n).into());
        m.insert("copy_spans_per_output".into(), (copies as f64 / n).into());
        m.insert("coverage_mean".into(), (coverage / n).into());
    }
    // Throughput: 1 and 2 threads sharing the index, each output scanned twice.
    for (k, set) in sets.iter().enumerate().filter(|_| !warm_only) {
        for threads in [1usize, 2] {
            let next = AtomicUsize::new(0);
            let total = set.len() * 2;
            let t = Instant::now();
            std::thread::scope(|s| {
                for _ in 0..threads {
                    s.spawn(|| loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= total {
                            break;
                        }
                        std::hint::black_box(scan(&idx, &set[i % set.len()], &opts).expect("scan"));
                    });
                }
            });
            let secs = t.elapsed().as_secs_f64();
            per_size[k].insert(format!("throughput_{threads}t"), (total as f64 / secs).into());
        }
    }
    // Cold: evict, open, scan.
    drop(idx);
    for (k, set) in sets.iter().enumerate().filter(|_| !warm_only) {
        let mut lat = Vec::new();
        for inp in set.iter().take(10) {
            evict(&dir);
            let t = Instant::now();
            let fresh = Index::open(&dir).expect("open");
            std::hint::black_box(scan(&fresh, inp, &opts).expect("scan"));
            lat.push(t.elapsed().as_secs_f64() * 1e3);
        }
        per_size[k].insert("cold_n".into(), lat.len().into());
        per_size[k].insert("cold_p50_ms".into(), pct(&mut lat, 0.5).into());
        per_size[k].insert("cold_p99_ms".into(), pct(&mut lat, 0.99).into());
    }
    let idx = Index::open(&dir).expect("open");
    report.insert("index".into(), dir.display().to_string().into());
    report.insert("stats".into(), serde_json::to_value(idx.stats()).expect("stats"));
    report.insert("copied_docs".into(), corpus.indexed.len().into());
    report.insert("novel_docs".into(), corpus.held_out.len().into());
    report.insert("code".into(), code.into());
    report.insert(
        "sizes".into(),
        per_size.into_iter().map(serde_json::Value::Object).collect::<Vec<_>>().into(),
    );
    println!("{}", serde_json::to_string_pretty(&report).expect("json"));
}
