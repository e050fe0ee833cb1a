//! Scoring speed of a Llama-family GGUF, old path and new side by side in
//! one process (`bench/score.sh` runs it and records the numbers):
//!
//! - `stepped`: the path recital used before its own forward —
//!   `candle-transformers`' quantised Llama fed the context, then one
//!   continuation token at a time with its KV cache (what `SteppedModel`
//!   did, stats included);
//! - `whole`: `LanguageModel::score`, one forward pass per probe;
//! - `batched`: `LanguageModel::score_probes` over all probes at once.
//!
//! Plus the audit's per-probe work (greedy generation of the suffix, then
//! scoring it) on both paths. Probes are consecutive windows of the text
//! files given, cut in the model's tokens. Prints one JSON object.
//!
//! `bench_score MODEL.gguf PREFIX SUFFIX PROBES TEXT...`

use std::time::Instant;

use candle_core::quantized::gguf_file::Content;
use candle_core::{Device, Tensor};
use candle_transformers::models::quantized_llama::ModelWeights;
use recital_model::model::{argmax, dist_stats_from_logits, log_prob_from_logits};
use recital_model::Decoding;

/// The replaced path.
struct Stepped {
    weights: ModelWeights,
}

impl Stepped {
    fn step(&mut self, tokens: &[u32], pos: usize) -> Vec<f32> {
        if pos == 0 {
            self.weights.clear_kv_cache();
        }
        let x = Tensor::new(tokens, &Device::Cpu).unwrap().unsqueeze(0).unwrap();
        self.weights.forward(&x, pos).unwrap().squeeze(0).unwrap().to_vec1().unwrap()
    }

    fn score(&mut self, ctx: &[u32], cont: &[u32]) -> Vec<f64> {
        let mut rows = vec![self.step(ctx, 0)];
        for (k, &t) in cont[..cont.len() - 1].iter().enumerate() {
            rows.push(self.step(&[t], ctx.len() + k));
        }
        let _stats: Vec<_> = rows.iter().map(|r| dist_stats_from_logits(r)).collect();
        rows.iter().zip(cont).map(|(r, &t)| log_prob_from_logits(r, t)).collect()
    }

    fn greedy(&mut self, ctx: &[u32], n: usize) -> Vec<u32> {
        let mut logits = self.step(ctx, 0);
        let mut out = Vec::with_capacity(n);
        for k in 0..n {
            out.push(argmax(&logits));
            if k + 1 < n {
                logits = self.step(&[out[k]], ctx.len() + k);
            }
        }
        out
    }
}

fn timed<T>(f: impl FnOnce() -> T) -> (T, f64) {
    let t = Instant::now();
    let r = f();
    (r, t.elapsed().as_secs_f64())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 6 {
        eprintln!("usage: bench_score MODEL.gguf PREFIX SUFFIX PROBES TEXT...");
        std::process::exit(2);
    }
    let (path, prefix, suffix, n): (&str, usize, usize, usize) =
        (&args[1], args[2].parse().unwrap(), args[3].parse().unwrap(), args[4].parse().unwrap());
    let model = recital_model::open(path, Default::default()).expect("opening the model");
    let mut file = std::fs::File::open(path).unwrap();
    let content = Content::read(&mut file).unwrap();
    let mut old = Stepped { weights: ModelWeights::from_gguf(content, &mut file, &Device::Cpu).unwrap() };

    let mut probes: Vec<(Vec<u32>, Vec<u32>)> = Vec::new();
    for text_path in &args[5..] {
        let text = std::fs::read_to_string(text_path).expect("reading the text");
        let ids = model.encode(&text).unwrap();
        for w in ids.chunks_exact(prefix + suffix).take(n - probes.len()) {
            probes.push((w[..prefix].to_vec(), w[prefix..].to_vec()));
        }
        if probes.len() == n {
            break;
        }
    }
    assert_eq!(probes.len(), n, "not enough text for {n} probes");
    let refs: Vec<(&[u32], &[u32])> = probes.iter().map(|(c, k)| (c.as_slice(), k.as_slice())).collect();

    let (old_scores, stepped_s) = timed(|| probes.iter().map(|(c, k)| old.score(c, k)).collect::<Vec<_>>());
    let (_, whole_s) = timed(|| refs.iter().map(|(c, k)| model.score(c, k).unwrap()).collect::<Vec<_>>());
    let (new_scores, batched_s) = timed(|| model.score_probes(&refs).unwrap());
    let (_, old_audit_s) = timed(|| {
        for (c, k) in &probes {
            old.greedy(c, k.len());
            old.score(c, k);
        }
    });
    let (_, new_audit_s) = timed(|| {
        for (c, k) in &probes {
            model.generate(c, k.len(), Decoding::Greedy).unwrap();
            model.score(c, k).unwrap();
        }
    });

    let mut max_diff = 0f64;
    let mut loss_diff = 0f64;
    for (a, b) in old_scores.iter().zip(&new_scores) {
        for (x, y) in a.iter().zip(&b.log_probs) {
            max_diff = max_diff.max((x - y).abs());
        }
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        loss_diff = loss_diff.max((mean(a) - mean(&b.log_probs)).abs());
    }
    let rate = |s: f64| n as f64 / s;
    let out = serde_json::json!({
        "model": model.info().architecture,
        "threads": std::env::var("RAYON_NUM_THREADS").unwrap_or_default(),
        "probes": n, "prefix": prefix, "suffix": suffix,
        "stepped_s": stepped_s, "whole_s": whole_s, "batched_s": batched_s,
        "stepped_pps": rate(stepped_s), "whole_pps": rate(whole_s), "batched_pps": rate(batched_s),
        "audit_stepped_s": old_audit_s, "audit_new_s": new_audit_s,
        "audit_stepped_pps": rate(old_audit_s), "audit_new_pps": rate(new_audit_s),
        "max_token_diff": max_diff, "max_loss_diff": loss_diff,
    });
    println!("{out}");
}
