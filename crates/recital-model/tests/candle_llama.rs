//! The Llama safetensors path on a tiny random checkpoint with Hugging
//! Face's tensor names: it loads, and the token-by-token scoring with the KV
//! cache agrees with the log-probabilities of its own greedy generation and
//! with scoring the same tokens one call at a time.
#![cfg(feature = "candle")]

mod common;

use std::collections::HashMap;

use candle_core::{Device, Tensor};
use recital_model::Decoding;

#[test]
fn tiny_llama_loads_and_scores_consistently() {
    let (v, d, i, layers, heads, kv) = (11usize, 16usize, 32usize, 2usize, 4usize, 2usize);
    let hd = d / heads;
    let mut state = 7u64;
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
    put("model.embed_tokens.weight".into(), &[v, d]);
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
    put("lm_head.weight".into(), &[v, d]);
    let dir = tempfile::tempdir().unwrap();
    candle_core::safetensors::save(&t, dir.path().join("model.safetensors")).unwrap();
    let cfg = serde_json::json!({
        "model_type": "llama", "vocab_size": v, "hidden_size": d, "intermediate_size": i,
        "num_hidden_layers": layers, "num_attention_heads": heads, "num_key_value_heads": kv,
        "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "max_position_embeddings": 32, "tie_word_embeddings": false,
    });
    std::fs::write(dir.path().join("config.json"), cfg.to_string()).unwrap();
    common::write_word_tokenizer(dir.path(), v);

    let m = recital_model::open(dir.path().to_str().unwrap(), Default::default()).unwrap();
    assert_eq!(m.info().backend, "candle-llama");
    let ctx = m.encode("w3 w1 w4").unwrap();
    assert_eq!(ctx, vec![3, 1, 4]);
    let g = m.generate(&ctx, 6, Decoding::Greedy).unwrap();
    assert_eq!(g.tokens.len(), 6);
    let s = m.score(&ctx, &g.tokens).unwrap();
    for (a, b) in s.log_probs.iter().zip(&g.log_probs) {
        assert!((a - b).abs() < 1e-4, "scoring {a} vs generation {b}");
    }
    // Scoring the continuation one token at a time (longer contexts) gives the same numbers.
    let mut seq = ctx.clone();
    for (k, &tok) in g.tokens.iter().enumerate() {
        let one = m.score(&seq, &[tok]).unwrap();
        assert!((one.log_probs[0] - s.log_probs[k]).abs() < 1e-4);
        seq.push(tok);
    }
    assert!(s.stats.unwrap().iter().all(|x| x.mean < 0.0 && x.std >= 0.0));
    // Sampling is reproducible for a seed.
    let a = m.generate(&ctx, 6, Decoding::Sample { temperature: 1.0, seed: 9 }).unwrap();
    let b = m.generate(&ctx, 6, Decoding::Sample { temperature: 1.0, seed: 9 }).unwrap();
    assert_eq!(a.tokens, b.tokens);
}
