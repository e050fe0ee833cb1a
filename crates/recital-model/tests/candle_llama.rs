//! recital's own Llama forward (whole-sequence scoring, batched probes, KV
//! cache for generation) against `candle-transformers`' Llama driven token by
//! token, the path it replaced: on tiny random checkpoints with Hugging
//! Face's tensor names (grouped-query attention, separate and tied output
//! embeddings). The real SmolLM2 GGUF is compared in `candle_gguf*.rs`.
#![cfg(feature = "candle")]

mod common;

use common::stepped::{assert_close, Stepped};

use std::collections::HashMap;
use std::path::Path;

use candle_core::{DType, Device, Tensor};
use candle_transformers::models::llama;
use recital_model::{DecodeHook, Decoding};

const V: usize = 11;

/// Writes a random Llama (GQA: 4 query heads over 2 key/value heads).
fn write_tiny_llama(dir: &Path, tied: bool, seed: u64) -> serde_json::Value {
    let (d, i, layers, heads, kv) = (16usize, 32usize, 2usize, 4usize, 2usize);
    let hd = d / heads;
    let mut state = seed;
    let mut next = move || {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((state >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 0.6
    };
    let mut t = HashMap::new();
    let mut put = |name: String, shape: &[usize]| {
        let n: usize = shape.iter().product();
        let data: Vec<f32> = (0..n).map(|_| next()).collect();
        t.insert(name, Tensor::from_vec(data, shape, &Device::Cpu).unwrap());
    };
    put("model.embed_tokens.weight".into(), &[V, d]);
    for l in 0..layers {
        let p = format!("model.layers.{l}.");
        put(format!("{p}self_attn.q_proj.weight"), &[d, d]);
        put(format!("{p}self_attn.k_proj.weight"), &[kv * hd, d]);
        put(format!("{p}self_attn.v_proj.weight"), &[kv * hd, d]);
        put(format!("{p}self_attn.o_proj.weight"), &[d, d]);
        put(format!("{p}mlp.gate_proj.weight"), &[i, d]);
        put(format!("{p}mlp.up_proj.weight"), &[i, d]);
        put(format!("{p}mlp.down_proj.weight"), &[d, i]);
        put(format!("{p}input_layernorm.weight"), &[d]);
        put(format!("{p}post_attention_layernorm.weight"), &[d]);
    }
    put("model.norm.weight".into(), &[d]);
    if !tied {
        put("lm_head.weight".into(), &[V, d]);
    }
    candle_core::safetensors::save(&t, dir.join("model.safetensors")).unwrap();
    let cfg = serde_json::json!({
        "model_type": "llama", "vocab_size": V, "hidden_size": d, "intermediate_size": i,
        "num_hidden_layers": layers, "num_attention_heads": heads, "num_key_value_heads": kv,
        "rms_norm_eps": 1e-5, "rope_theta": 500.0, "max_position_embeddings": 64, "tie_word_embeddings": tied,
    });
    std::fs::write(dir.join("config.json"), cfg.to_string()).unwrap();
    common::write_word_tokenizer(dir, V);
    cfg
}

fn candle_transformers_llama(dir: &Path) -> impl FnMut(&[u32], usize) -> Vec<f32> {
    let raw: llama::LlamaConfig =
        serde_json::from_str(&std::fs::read_to_string(dir.join("config.json")).unwrap()).unwrap();
    let cfg = raw.into_config(false);
    let vb = unsafe {
        candle_nn::VarBuilder::from_mmaped_safetensors(
            &[dir.join("model.safetensors")],
            DType::F32,
            &Device::Cpu,
        )
    }
    .unwrap();
    let model = llama::Llama::load(vb, &cfg).unwrap();
    let mut cache = llama::Cache::new(true, DType::F32, &cfg, &Device::Cpu).unwrap();
    move |tokens: &[u32], pos: usize| {
        if pos == 0 {
            cache = llama::Cache::new(true, DType::F32, &cfg, &Device::Cpu).unwrap();
        }
        let x = Tensor::new(tokens, &Device::Cpu).unwrap().unsqueeze(0).unwrap();
        model.forward(&x, pos, &mut cache).unwrap().squeeze(0).unwrap().to_vec1().unwrap()
    }
}

fn check_against_candle_transformers(tied: bool) {
    let dir = tempfile::tempdir().unwrap();
    write_tiny_llama(dir.path(), tied, if tied { 3 } else { 7 });
    let m = recital_model::open(dir.path().to_str().unwrap(), Default::default()).unwrap();
    assert_eq!(m.info().backend, "candle-llama");
    let mut old = Stepped(candle_transformers_llama(dir.path()));
    let probes: Vec<(Vec<u32>, Vec<u32>)> = vec![
        (vec![3, 1, 4], vec![1, 5, 9, 2, 6, 5]),
        (vec![2, 7], vec![1, 8]),
        ((1..=10).chain(1..=10).map(|x| x as u32).collect(), vec![3, 3, 3, 7, 1, 2, 9, 10, 4]),
        (vec![5], vec![4]),
    ];
    for (ctx, cont) in &probes {
        let new = m.score(ctx, cont).unwrap();
        assert_close(&new.log_probs, &old.score(ctx, cont), 1e-4, "score vs stepped candle-transformers");
        assert_eq!(new.stats.as_ref().map(Vec::len), Some(cont.len()));
    }
    // All probes in one batched call (different lengths share a padded pass).
    let refs: Vec<(&[u32], &[u32])> = probes.iter().map(|(c, k)| (c.as_slice(), k.as_slice())).collect();
    for ((ctx, cont), s) in probes.iter().zip(m.score_probes(&refs).unwrap()) {
        assert_close(&s.log_probs, &old.score(ctx, cont), 1e-4, "score_probes vs stepped");
    }
    // Alternatives of one context.
    let alts: Vec<Vec<u32>> = vec![vec![1, 2, 3], vec![9], vec![4, 4, 4, 4, 4], vec![]];
    for (alt, s) in alts.iter().zip(m.score_many(&[6, 2, 8], &alts).unwrap()) {
        let want = if alt.is_empty() { vec![] } else { old.score(&[6, 2, 8], alt) };
        assert_close(&s.log_probs, &want, 1e-4, "score_many vs stepped");
    }
    // Greedy generation: the same tokens, and log-probabilities that
    // scoring them reproduces.
    let g = m.generate(&[3, 1, 4], 12, Decoding::Greedy).unwrap();
    assert_eq!(g.tokens, old.greedy(&[3, 1, 4], 12));
    assert_close(
        &g.log_probs,
        &m.score(&[3, 1, 4], &g.tokens).unwrap().log_probs,
        1e-4,
        "generation vs score",
    );
}

#[test]
fn llama_with_gqa_matches_candle_transformers() {
    check_against_candle_transformers(false);
}

#[test]
fn llama_with_tied_embeddings_matches_candle_transformers() {
    check_against_candle_transformers(true);
}

/// Takes back all but the first generated token once, after the third.
struct TakeBackOnce {
    pushed: usize,
    done: bool,
}

impl DecodeHook for TakeBackOnce {
    fn banned(&mut self) -> Vec<u32> {
        if self.pushed == 3 && !self.done {
            vec![0]
        } else {
            vec![]
        }
    }
    fn advise(&mut self, _: f64) -> Option<usize> {
        self.done = true;
        self.pushed = 1;
        Some(1)
    }
    fn push(&mut self, _: u32) {
        self.pushed += 1;
    }
}

#[test]
fn rewinding_the_kv_cache_regenerates_the_same_tokens() {
    let dir = tempfile::tempdir().unwrap();
    write_tiny_llama(dir.path(), false, 11);
    let m = recital_model::open(dir.path().to_str().unwrap(), Default::default()).unwrap();
    let plain = m.generate(&[2, 9, 4, 4], 8, Decoding::Greedy).unwrap();
    let mut hook = TakeBackOnce { pushed: 0, done: false };
    let guarded = m.generate_guarded(&[2, 9, 4, 4], 8, Decoding::Greedy, &mut hook).unwrap();
    assert!(hook.done, "the hook was never asked");
    assert_eq!(guarded.tokens, plain.tokens);
    assert_close(&guarded.log_probs, &plain.log_probs, 1e-5, "after the rewind");
}

#[test]
fn bad_llama_checkpoints_are_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = write_tiny_llama(dir.path(), false, 5);
    cfg["num_key_value_heads"] = 3.into();
    std::fs::write(dir.path().join("config.json"), cfg.to_string()).unwrap();
    let err = recital_model::open(dir.path().to_str().unwrap(), Default::default()).err().unwrap();
    assert!(err.to_string().contains("key/value heads"), "{err}");
    cfg["num_key_value_heads"] = 2.into();
    cfg["rope_scaling"] = serde_json::json!({"type": "yarn", "factor": 4.0});
    std::fs::write(dir.path().join("config.json"), cfg.to_string()).unwrap();
    let err = recital_model::open(dir.path().to_str().unwrap(), Default::default()).err().unwrap();
    assert!(err.to_string().contains("yarn"), "{err}");
    cfg["rope_scaling"] = serde_json::Value::Null;
    cfg["intermediate_size"] = 31.into();
    std::fs::write(dir.path().join("config.json"), cfg.to_string()).unwrap();
    let err = recital_model::open(dir.path().to_str().unwrap(), Default::default()).err().unwrap();
    assert!(err.to_string().contains("Gate"), "{err}");
}
