//! recital's Llama forward on the real SmolLM2 GGUF (Q4_1) with its matrices
//! kept quantised (`RECITAL_GGUF_KEEP_QUANTISED=1`; by default a model this
//! small is dequantised, see `candle_gguf_f32.rs`), against
//! `candle-transformers`' quantised Llama stepped token by token. Activations
//! are rounded to 8 bits before each quantised product, so two execution
//! orders differ by more than float noise; here the bound is the one the
//! stepped path keeps with itself: the same 48 tokens, split 8 tokens
//! earlier between prefill and steps, move single log-probabilities by
//! ~0.3 (and LOSS, their mean, by a few hundredths).
#![cfg(feature = "candle")]

mod common;

use common::stepped::{gguf_stepper, test_gguf, Stepped, GENESIS};
use recital_model::Decoding;

fn max_abs_diff(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max)
}

fn mean(a: &[f64]) -> f64 {
    a.iter().sum::<f64>() / a.len() as f64
}

#[test]
fn smollm2_gguf_agrees_with_candle_transformers_as_quantised() {
    let Some(path) = test_gguf() else { return };
    // Read when the model is opened; this is the only test of this binary.
    std::env::set_var("RECITAL_GGUF_KEEP_QUANTISED", "1");
    let m = recital_model::open(&path, Default::default()).unwrap();
    assert_eq!(m.info().backend, "candle-gguf");
    assert_eq!(m.info().dtype.as_deref(), Some("F32+Q4_1+Q8_0"));
    let mut old = Stepped(gguf_stepper(&path));
    let ids = m.encode(GENESIS).unwrap();
    let (ctx, rest) = ids.split_at(24);
    let cont = &rest[..24];
    let new = m.score(ctx, cont).unwrap().log_probs;
    let stepped = old.score(ctx, cont);
    // The stepped path on the same 48 tokens, split 8 tokens earlier.
    let resplit: Vec<f64> = old.score(&ids[..16], &ids[16..48])[8..].to_vec();
    let (d_new, d_self) = (max_abs_diff(&new, &stepped), max_abs_diff(&resplit, &stepped));
    let (loss, loss_self) = ((mean(&new) - mean(&stepped)).abs(), (mean(&resplit) - mean(&stepped)).abs());
    eprintln!(
        "max |new - stepped| = {d_new:.2e} (stepped re-split: {d_self:.2e}); LOSS difference {loss:.2e} (re-split: {loss_self:.2e})"
    );
    // Measured 2026-12: 0.26 against the stepped path's 0.29 with itself, and
    // LOSS 0.024; a wrong forward is off by nats.
    assert!(d_new < 0.5, "per-token difference {d_new}");
    assert!(loss < 0.05, "LOSS difference {loss}");
    let g = m.generate(ctx, 8, Decoding::Greedy).unwrap();
    assert_eq!(g.tokens, old.greedy(ctx, 8));
}
