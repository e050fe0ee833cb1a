//! The guard's work per token, replayed outside any model (`bench/guard.sh`
//! runs it beside the Python bench): a vocabulary and token ids written by
//! `bench/guard_dump.py` from the SmolLM2 tokenizer, the GPL-3 text indexed
//! under its licence, and per token `push`, `banned` and, when something is
//! banned, `advise`. Prints one JSON object: p50, p99 and max in ms per
//! replay, over `ROUNDS` timed rounds after one untimed.
//!
//! `cargo run --release -p recital-guard --example bench_guard -- DIR GPL-3 [ROUNDS]`

use std::time::Instant;

use recital_guard::{DecodeGuard, GuardOptions, Vocab};
use recital_index::{BuildOptions, DocInput, DocMode, Index, Rights};
use recital_policy::Policy;

fn unhex(line: &str) -> Vec<u8> {
    (0..line.len() / 2).filter_map(|i| u8::from_str_radix(&line[2 * i..2 * i + 2], 16).ok()).collect()
}

fn ids(path: &std::path::Path) -> Result<Vec<u32>, Box<dyn std::error::Error>> {
    Ok(std::fs::read_to_string(path)?.split_whitespace().map(str::parse).collect::<Result<_, _>>()?)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (dir, gpl) = (std::path::Path::new(&args[1]), &args[2]);
    let rounds: usize = args.get(3).map_or(Ok(5), |r| r.parse())?;
    let pieces: Vec<Vec<u8>> = std::fs::read_to_string(dir.join("pieces.hex"))?.lines().map(unhex).collect();
    let t = Instant::now();
    let vocab = Vocab::from_pieces(pieces)?;
    let vocab_s = t.elapsed().as_secs_f64();
    let text = std::fs::read_to_string(gpl)?;
    let tmp = tempfile::tempdir()?;
    let rights = Rights { license: "GPL-3.0-only".into(), ..Rights::default() };
    let doc = DocInput { id: "GPL-3", path: None, text: &text, mode: DocMode::Text, rights };
    recital_index::build_docs(&tmp.path().join("idx"), &[doc], &BuildOptions::default())?;
    let index = Index::open(&tmp.path().join("idx"))?;
    let options =
        GuardOptions { jurisdiction: "DE".into(), exempt_context: false, ..GuardOptions::default() };
    let guard = DecodeGuard::new(index, vocab, Policy::builtin_default(), options)?;
    let mut out = serde_json::Map::new();
    out.insert("vocab_build_s".into(), vocab_s.into());
    for name in ["copy", "clean"] {
        let replay = ids(&dir.join(format!("{name}.ids")))?;
        let mut times = Vec::new();
        for round in 0..=rounds {
            let mut s = guard.session(None);
            for (k, &id) in replay.iter().enumerate() {
                let t = Instant::now();
                s.push(id);
                if !s.banned().is_empty() {
                    s.advise(0.0);
                }
                // The first round warms the index pages and caches; the
                // first 20 tokens of each round are too short to copy.
                if round > 0 && k >= 20 {
                    times.push(t.elapsed().as_secs_f64() * 1e3);
                }
            }
        }
        times.sort_by(f64::total_cmp);
        out.insert(
            name.into(),
            serde_json::json!({"n": times.len(), "p50_ms": percentile(&times, 0.5), "p99_ms": percentile(&times, 0.99), "max_ms": times[times.len() - 1]}),
        );
    }
    println!("{}", serde_json::Value::Object(out));
    Ok(())
}
