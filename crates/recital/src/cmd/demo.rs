//! `recital demo`: the main job on the embedded default — the bundled sample
//! corpus (public-domain prose and permissively licensed code, with its rights
//! sidecar) indexed on first use, then queried with famous passages.

use std::path::{Path, PathBuf};

use anyhow::Context;
use recital_index::{BuildOptions, Index, IngestOptions, Query, RightsRules};

use crate::cli::DemoArgs;
use crate::output::{highlight, print_json, use_color};

/// Where the bundled sample corpus is: next to the sources, or under the current directory.
fn sample_dir() -> anyhow::Result<PathBuf> {
    let candidates =
        [Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/sample"), PathBuf::from("data/sample")];
    candidates
        .iter()
        .find(|p| p.join("rights.jsonl").is_file())
        .cloned()
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
    let queries = std::fs::read_to_string(sample.join("queries.txt")).context("reading queries.txt")?;
    let color = use_color();
    let mut out = Vec::new();
    let stats = idx.stats();
    if !a.json {
        println!(
            "sample index: {} documents, {} tokens, {:.2} bytes of index per byte of text\n",
            stats.docs,
            stats.text_tokens + stats.canon_tokens,
            stats.bytes_per_source_byte
        );
    }
    for q in queries.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
        // Shout it, to show that case and spacing do not hide a copy.
        let shouted = q.to_uppercase().split_whitespace().collect::<Vec<_>>().join("  ");
        let query = Query::text(&shouted);
        let r = idx.locate(&query, 3)?;
        if a.json {
            out.push(serde_json::json!({"query": shouted, "result": r}));
            continue;
        }
        println!("query: {shouted}");
        println!("  {} occurrence(s)", r.count);
        for h in &r.hits {
            println!("  - {} [{}] bytes {}..{}", h.doc_id, h.rights.license, h.byte_start, h.byte_end);
            println!("    {}", highlight(&h.snippet, h.snippet_hit[0], h.snippet_hit[1], color));
        }
        println!();
    }
    if a.json {
        print_json(&out)?;
    }
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
