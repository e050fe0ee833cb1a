//! Detection accuracy benchmark: the accuracy suite of `tests/accuracy.rs` on
//! bigger corpora, in release. Run by `bench/accuracy.sh`.
//!
//! ```sh
//! cargo run --release -p recital-detect --example accuracy -- \
//!     [--outputs N] [--seed S] [--work DIR] [--markdown FILE] [--examples FILE] [--dump DIR] [--misses FILE] CORPUS...
//! ```
//! CORPUS is one of `kjv` (the `bible` program), `sample-code`
//! (`data/sample/code`), `prose-small`, `prose` (JSONL under
//! `$RECITAL_BENCH_DATA`, default `~/.cache/recital-bench`), `linux-c-small`,
//! `linux-c` (C trees there), or `NAME=jsonl:DIR` / `NAME=code:DIR`.
//! For each, every fifth document (per JSONL file, or per language) is held
//! out, the rest indexed under `--work`; N outputs per class are generated
//! and scanned with default options. Prints the markdown tables (or writes
//! them to `--markdown`), and the worst misses and false positives to
//! `--examples`; `--dump DIR` also writes two outputs per class with their
//! ground truth marked (`⟦copied⟧`, `⟨held out⟩`); `--misses FILE` writes
//! every excerpt under 95 % found (renamed code with why the canonical
//! matcher passed it over) and every output with false positives.

mod suite;

use std::path::{Path, PathBuf};

use suite::{corpus, Corpus};

fn data_dir() -> PathBuf {
    std::env::var_os("RECITAL_BENCH_DATA").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/recital-bench")
    })
}

fn load(spec: &str) -> Option<Corpus> {
    let data = data_dir();
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/sample/code");
    match spec {
        "kjv" => corpus::kjv(),
        "sample-code" => corpus::code_dir("sample-code", &sample, 4, 1 << 20),
        "prose-small" | "prose" => corpus::jsonl_dir(spec, &data.join(spec), 5),
        "linux-c-small" | "linux-c" => corpus::code_dir(spec, &data.join(spec), 5, 1 << 20),
        _ => {
            let (name, rest) = spec.split_once('=')?;
            let (kind, dir) = rest.split_once(':')?;
            match kind {
                "jsonl" => corpus::jsonl_dir(name, Path::new(dir), 5),
                "code" => corpus::code_dir(name, Path::new(dir), 5, 1 << 20),
                _ => None,
            }
        }
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mut n = 200usize;
    let mut seed = 3u64;
    let mut work: Option<PathBuf> = None;
    let mut markdown: Option<PathBuf> = None;
    let mut examples: Option<PathBuf> = None;
    let mut dump: Option<PathBuf> = None;
    let mut misses: Option<PathBuf> = None;
    let mut specs = Vec::new();
    while let Some(a) = args.next() {
        match a.as_str() {
            "--outputs" => n = args.next().and_then(|s| s.parse().ok()).expect("--outputs N"),
            "--seed" => seed = args.next().and_then(|s| s.parse().ok()).expect("--seed S"),
            "--work" => work = args.next().map(PathBuf::from),
            "--markdown" => markdown = args.next().map(PathBuf::from),
            "--examples" => examples = args.next().map(PathBuf::from),
            "--dump" => dump = args.next().map(PathBuf::from),
            "--misses" => misses = args.next().map(PathBuf::from),
            "-h" | "--help" => {
                eprintln!("usage: accuracy [--outputs N] [--seed S] [--work DIR] [--markdown FILE] [--examples FILE] [--dump DIR] [--misses FILE] CORPUS...");
                return;
            }
            _ => specs.push(a),
        }
    }
    if specs.is_empty() {
        specs = vec!["kjv".into(), "sample-code".into(), "prose-small".into(), "linux-c-small".into()];
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let work = work.unwrap_or_else(|| tmp.path().to_owned());
    let mut copy_tables = String::new();
    let mut held_tables = String::new();
    let mut notes = String::new();
    let mut ex = String::new();
    let mut all_misses = String::new();
    let mut failures = Vec::new();
    for spec in &specs {
        let Some(c) = load(spec) else {
            eprintln!("SKIPPED: corpus {spec} is not available");
            notes.push_str(&format!("- {spec}: SKIPPED (not available)\n"));
            continue;
        };
        let dir = work.join(format!("acc-{}", c.name));
        std::fs::create_dir_all(&dir).expect("work dir");
        eprintln!("==> {}", c.describe());
        let t0 = std::time::Instant::now();
        let index = corpus::build_index(&c, &dir);
        let built = t0.elapsed().as_secs_f64();
        if let Some(d) = &dump {
            std::fs::create_dir_all(d).expect("dump dir");
            suite::dump(&c, &index, 2, seed, d);
        }
        let t1 = std::time::Instant::now();
        let res = suite::run_corpus(&c, &index, n, seed);
        let total = t1.elapsed().as_secs_f64();
        let scan_s: f64 = res.rows.iter().map(|(_, t)| t.scan_seconds).sum();
        let outputs: usize = res.rows.iter().map(|(_, t)| t.outputs).sum();
        let st = index.stats();
        let line = format!(
            "- {}; index {} text + {} code tokens, built in {:.1} s; {} outputs generated and scored in {:.1} s, of which scan() {:.1} s ({:.1} ms per output)\n",
            res.describe,
            st.text_tokens,
            st.canon_tokens,
            built,
            outputs,
            total,
            scan_s,
            scan_s * 1e3 / outputs.max(1) as f64
        );
        eprint!("{line}");
        notes.push_str(&line);
        copy_tables.push_str(&res.markdown(copy_tables.is_empty()));
        held_tables.push_str(&res.markdown_held(held_tables.is_empty()));
        ex.push_str(&res.examples(3));
        all_misses.push_str(&res.all_misses());
        failures.extend(res.failures());
        drop(index);
        let _ = std::fs::remove_dir_all(&dir);
    }
    let mut md = String::new();
    md.push_str(&notes);
    md.push('\n');
    md.push_str(&copy_tables);
    md.push('\n');
    md.push_str(&held_tables);
    md.push('\n');
    if failures.is_empty() {
        md.push_str("All targets met.\n");
    } else {
        md.push_str("Targets missed:\n\n");
        for f in &failures {
            md.push_str(&format!("- {f}\n"));
        }
    }
    match &markdown {
        Some(p) => std::fs::write(p, &md).expect("write markdown"),
        None => print!("{md}"),
    }
    if let Some(p) = &misses {
        std::fs::write(p, &all_misses).expect("write misses");
    }
    match &examples {
        Some(p) => std::fs::write(p, &ex).expect("write examples"),
        None => eprint!("{ex}"),
    }
}
