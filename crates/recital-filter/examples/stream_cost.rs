//! Per-fragment CPU of a streamed channel: pushes a long text word by word
//! (plain text, and JSON-escaped inside tool-call arguments) through a
//! `StreamFilter` and prints the mean time per push by position.
//!
//! `cargo run --release -p recital-filter --example stream_cost -- INDEX TEXTS.jsonl [THREADS [text|tool|none]]`
//! (`none`: only opens the index, to subtract from a `perf stat` of the others)

use std::sync::Arc;
use std::time::Instant;

use recital_filter::{ChannelId, ChannelKind, IndexJudge, StreamFilter};
use recital_index::Index;
use recital_policy::Policy;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let index = Arc::new(Index::open(args[1].as_ref())?);
    let texts: Vec<String> = std::fs::read_to_string(&args[2])?
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["text"].as_str().unwrap().to_string())
        .collect();
    let threads: usize = args.get(3).map_or(1, |t| t.parse().unwrap());
    let policy = Policy::builtin_default();
    let options = policy.scan_options();
    let judge = Arc::new(IndexJudge::new(index, policy, options));
    // One long stream, or (`STREAM_COST_PER_TEXT=1`) each text a stream
    // of its own, as the bench's scripted upstream sends them.
    let per_text = std::env::var_os("STREAM_COST_PER_TEXT").is_some();
    let long = texts.join(" ");
    let streams: Vec<Vec<&str>> = match per_text {
        true => texts.iter().map(|t| t.split_inclusive(' ').collect()).collect(),
        false => vec![long.split_inclusive(' ').collect()],
    };
    let kinds = match args.get(4).map(String::as_str) {
        Some("text") => vec![ChannelKind::Text],
        Some("tool") => vec![ChannelKind::ToolArguments],
        Some("none") => vec![],
        _ => vec![ChannelKind::Text, ChannelKind::ToolArguments],
    };
    for kind in kinds {
        let t0 = Instant::now();
        let per: Vec<Vec<f64>> = std::thread::scope(|s| {
            let hs: Vec<_> = (0..threads)
                .map(|_| {
                    let judge = judge.clone();
                    let streams = &streams;
                    s.spawn(move || streams.iter().flat_map(|w| run(&judge, kind, w)).collect::<Vec<f64>>())
                })
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let wall = t0.elapsed().as_secs_f64();
        let n = per[0].len();
        let mut line = format!("{kind:?} threads={threads} words={n} wall={wall:.2}s");
        for b in [0usize, 100, 500, 1000, 2000] {
            let e = (b + 100).min(n);
            if b >= n {
                break;
            }
            let m: f64 = per.iter().map(|p| p[b..e].iter().sum::<f64>() / (e - b) as f64).sum::<f64>()
                / per.len() as f64;
            line += &format!(" | words {b}-{e}: {:.1} us", m * 1e6);
        }
        let all: f64 = per.iter().flatten().sum::<f64>() / (per.len() * n) as f64;
        line += &format!(" | mean {:.1} us", all * 1e6);
        println!("{line}");
    }
    Ok(())
}

fn run(judge: &IndexJudge, kind: ChannelKind, words: &[&str]) -> Vec<f64> {
    let id = ChannelId::tool(0, kind, 0);
    let mut f = StreamFilter::new(judge, "EU", "");
    let mut times = Vec::with_capacity(words.len());
    for (i, w) in words.iter().enumerate() {
        let piece = match kind {
            ChannelKind::Text => w.to_string(),
            _ => {
                let q = serde_json::to_string(w).unwrap();
                let mut p = q[1..q.len() - 1].to_string();
                if i == 0 {
                    p.insert_str(0, r#"{"path": "notes.md", "content": ""#);
                }
                p
            }
        };
        let t = Instant::now();
        let step = f.push(judge, id, &piece).unwrap();
        times.push(t.elapsed().as_secs_f64());
        std::hint::black_box(step);
    }
    times
}
