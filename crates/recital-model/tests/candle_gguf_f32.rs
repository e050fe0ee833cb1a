//! recital's Llama forward on the real SmolLM2 GGUF, as it runs by default
//! (a model this small is dequantised to f32 when loaded), against
//! `candle-transformers`' quantised Llama stepped token by token (the path it
//! replaced) with its matrices dequantised too (`CANDLE_DEQUANTIZE_ALL`).
//!
//! Why dequantised: on quantised matrices candle rounds each activation row
//! to 8 bits (Q8_1) before the dot products, and a last-bit difference in the
//! f32 attention (whose kernels differ with the sequence length) flips some
//! roundings; over 30 layers that moves single log-probabilities by up to ~0.3.
//! The stepped path disagrees with itself by that much when the same tokens
//! are split differently between prefill and steps, so 1e-4 is only
//! meaningful without that rounding. `candle_gguf.rs` checks recital's forward
//! on the quantised matrices, at the tolerance that rounding allows.
#![cfg(feature = "candle")]

mod common;

use common::stepped::{assert_close, gguf_stepper, test_gguf, Stepped, GENESIS};
use recital_model::Decoding;

#[test]
fn smollm2_gguf_dequantised_matches_candle_transformers_within_1e_4() {
    let Some(path) = test_gguf() else { return };
    // Read by candle when a quantised matrix is loaded, per thread; this is
    // the only test of this binary, and it loads both models on this thread.
    std::env::set_var("CANDLE_DEQUANTIZE_ALL", "1");
    let m = recital_model::open(&path, Default::default()).unwrap();
    assert_eq!(m.info().dtype.as_deref(), Some("f32, dequantised from F32+Q4_1+Q8_0"));
    let mut old = Stepped(gguf_stepper(&path));
    let ids = m.encode(GENESIS).unwrap();
    let (ctx, rest) = ids.split_at(24);
    let cont = &rest[..24];
    let new = m.score(ctx, cont).unwrap();
    assert_close(&new.log_probs, &old.score(ctx, cont), 1e-4, "SmolLM2 f32: score vs stepped");
    let short = (&ids[..9], &ids[9..14]);
    let both = m.score_probes(&[(ctx, cont), short]).unwrap();
    assert_close(&both[0].log_probs, &new.log_probs, 1e-4, "SmolLM2 f32: batched vs alone");
    assert_close(&both[1].log_probs, &old.score(short.0, short.1), 1e-4, "SmolLM2 f32: batched short probe");
    let g = m.generate(ctx, 12, Decoding::Greedy).unwrap();
    assert_eq!(g.tokens, old.greedy(ctx, 12));
}
