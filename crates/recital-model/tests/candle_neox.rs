//! GPT-NeoX (Pythia) against `neox_reference.py`, a pure-Python transcription
//! of Hugging Face's `modeling_gpt_neox.py`, on random weights saved as a
//! Hugging Face checkpoint: every log-probability must agree.
#![cfg(feature = "candle")]

mod common;

use std::collections::HashMap;
use std::path::Path;

use candle_core::{Device, Tensor};
use recital_model::Decoding;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> f32 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((self.0 >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 0.8
    }
}

fn write_model(dir: &Path, parallel: bool, rotary_pct: f64, heads: usize, seed: u64) {
    let (v, d, i, layers) = (11usize, 8usize, 16usize, 2usize);
    let mut rng = Rng(seed);
    let mut t = HashMap::new();
    let mut put = |name: String, shape: &[usize], rng: &mut Rng| {
        let n: usize = shape.iter().product();
        let data: Vec<f32> = (0..n).map(|_| rng.next()).collect();
        t.insert(name, Tensor::from_vec(data, shape, &Device::Cpu).unwrap());
    };
    put("gpt_neox.embed_in.weight".into(), &[v, d], &mut rng);
    for l in 0..layers {
        let p = format!("gpt_neox.layers.{l}.");
        for ln in ["input_layernorm", "post_attention_layernorm"] {
            put(format!("{p}{ln}.weight"), &[d], &mut rng);
            put(format!("{p}{ln}.bias"), &[d], &mut rng);
        }
        put(format!("{p}attention.query_key_value.weight"), &[3 * d, d], &mut rng);
        put(format!("{p}attention.query_key_value.bias"), &[3 * d], &mut rng);
        put(format!("{p}attention.dense.weight"), &[d, d], &mut rng);
        put(format!("{p}attention.dense.bias"), &[d], &mut rng);
        put(format!("{p}mlp.dense_h_to_4h.weight"), &[i, d], &mut rng);
        put(format!("{p}mlp.dense_h_to_4h.bias"), &[i], &mut rng);
        put(format!("{p}mlp.dense_4h_to_h.weight"), &[d, i], &mut rng);
        put(format!("{p}mlp.dense_4h_to_h.bias"), &[d], &mut rng);
    }
    put("gpt_neox.final_layer_norm.weight".into(), &[d], &mut rng);
    put("gpt_neox.final_layer_norm.bias".into(), &[d], &mut rng);
    put("embed_out.weight".into(), &[v, d], &mut rng);
    candle_core::safetensors::save(&t, dir.join("model.safetensors")).unwrap();
    let cfg = serde_json::json!({
        "model_type": "gpt_neox", "vocab_size": v, "hidden_size": d, "num_hidden_layers": layers,
        "num_attention_heads": heads, "intermediate_size": i, "rotary_pct": rotary_pct, "rotary_emb_base": 10000,
        "max_position_embeddings": 16, "layer_norm_eps": 1e-5, "use_parallel_residual": parallel, "hidden_act": "gelu",
    });
    std::fs::write(dir.join("config.json"), cfg.to_string()).unwrap();
    common::write_word_tokenizer(dir, v);
}

fn reference(dir: &Path, ids: &[u32]) -> Vec<Vec<f64>> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/neox_reference.py");
    let list: Vec<String> = ids.iter().map(|i| i.to_string()).collect();
    let o = std::process::Command::new("python3").arg(script).arg(dir).arg(list.join(",")).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

#[test]
fn neox_matches_the_transcribed_reference() {
    for (parallel, rotary_pct, heads, seed) in [(true, 0.5, 2, 1), (false, 1.0, 2, 2), (true, 0.25, 1, 3)] {
        let dir = tempfile::tempdir().unwrap();
        write_model(dir.path(), parallel, rotary_pct, heads, seed);
        let m = recital_model::open(dir.path().to_str().unwrap(), Default::default()).unwrap();
        assert_eq!(m.info().backend, "candle-gpt-neox");
        let ids = [3u32, 1, 4, 1, 5, 9, 2, 6, 5, 3];
        let rows = reference(dir.path(), &ids);
        let (ctx, cont) = ids.split_at(2);
        let s = m.score(ctx, cont).unwrap();
        for (k, &lp) in s.log_probs.iter().enumerate() {
            let want = rows[1 + k][cont[k] as usize];
            assert!(
                (lp - want).abs() < 1e-4,
                "parallel={parallel} rotary={rotary_pct} position {k}: {lp} vs {want}"
            );
        }
        // Greedy generation follows the reference's argmax.
        let g = m.generate(&ids[..3], 1, Decoding::Greedy).unwrap();
        let row = &rows[2];
        let best = (0..row.len()).max_by(|&a, &b| row[a].total_cmp(&row[b])).unwrap();
        assert_eq!(g.tokens[0] as usize, best);
    }
    // Half a rotary pair is refused (Hugging Face cannot run it either).
    let dir = tempfile::tempdir().unwrap();
    write_model(dir.path(), true, 0.25, 2, 4);
    let e = recital_model::open(dir.path().to_str().unwrap(), Default::default()).err().unwrap().to_string();
    assert!(e.contains("rotary"), "{e}");
}
