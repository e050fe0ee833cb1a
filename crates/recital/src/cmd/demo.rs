//! `recital demo`: the main job on the embedded default — the bundled sample
//! corpus (public-domain prose and permissively licensed code, with its rights
//! sidecar) is indexed, and a sample model output that copies from it under
//! evasions (capitals, invisible characters, homoglyphs, edits, renamed code) is
//! scanned.

use std::path::{Path, PathBuf};

use anyhow::Context;
use recital_index::{BuildOptions, Index, IngestOptions, RightsRules};

use crate::cli::DemoArgs;
use crate::output::{self, print_json, WithDecision};

/// Where the bundled sample corpus is: next to the sources, or under the current directory.
fn sample_dir() -> anyhow::Result<PathBuf> {
    let candidates =
        [Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/sample"), PathBuf::from("data/sample")];
    candidates
        .iter()
        .find(|p| p.join("rights.jsonl").is_file())
        .map(|p| p.canonicalize().unwrap_or_else(|_| p.clone()))
        .context("bundled sample corpus not found (expected data/sample/ with rights.jsonl)")
}

pub fn run(a: DemoArgs) -> anyhow::Result<()> {
    let sample = sample_dir()?;
    // A fresh index each run (the sample is small), unless the caller names a
    // directory that already holds one.
    let scratch;
    let index_dir = match &a.index {
        Some(d) => d.clone(),
        None => {
            scratch = TempDir::new()?;
            scratch.path.join("index")
        }
    };
    let idx = match Index::open(&index_dir) {
        Ok(i) => i,
        Err(_) => {
            let opts = IngestOptions {
                rights: RightsRules::load(&sample.join("rights.jsonl"))?,
                progress: !a.json,
                ..Default::default()
            };
            let inputs =
                ["prose", "code"].iter().map(|p| sample.join(p)).filter(|p| p.exists()).collect::<Vec<_>>();
            let r = recital_index::build(&index_dir, &inputs, &opts, &BuildOptions::default())
                .with_context(|| format!("building the sample index in {}", index_dir.display()))?;
            if !a.json {
                eprintln!(
                    "indexed the bundled sample ({} documents, {:.1} MB) in {:.2} s",
                    r.ingest.docs,
                    r.ingest.text_bytes as f64 / 1e6,
                    r.seconds
                );
            }
            Index::open(&index_dir)?
        }
    };
    let output_path = sample.join("outputs/demo.txt");
    let output = std::fs::read(&output_path).with_context(|| format!("reading {}", output_path.display()))?;
    let input = recital_detect::Input::decode(&output)?;
    // What a provider's filter would do with it, under the built-in policy
    // (whose thresholds the scan also takes, as `recital scan` and the server do).
    let policy = recital_policy::Policy::builtin_default();
    let t0 = std::time::Instant::now();
    let report = recital_detect::scan(&idx, &input, &policy.scan_options())?;
    let elapsed = t0.elapsed();
    let d =
        policy.decide(&report, &recital_policy::Request::from_jurisdiction(policy.default_jurisdiction()));
    if a.json {
        return print_json(&WithDecision { report: &report, decision: &d });
    }
    let stats = idx.stats();
    println!(
        "sample index: {} documents, {} tokens, {:.2} bytes of index per byte of text",
        stats.docs,
        stats.text_tokens + stats.canon_tokens,
        stats.bytes_per_source_byte
    );
    println!("scanning {} (a model output that quotes in capitals with invisible characters and homoglyphs,\nparaphrases with edits, and renames a function's variables):\n", output_path.display());
    super::scan::print_report(&report, elapsed);
    output::decision(&d);
    println!(
        "\n(serve this as an API and OpenAI-compatible proxy: recital serve --index DIR [--upstream URL])"
    );
    Ok(())
}

/// A temporary directory removed on drop.
struct TempDir {
    path: PathBuf,
}

impl TempDir {
    fn new() -> anyhow::Result<Self> {
        let path = std::env::temp_dir().join(format!("recital-demo-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).with_context(|| format!("creating {}", path.display()))?;
        Ok(Self { path })
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}
