//! The scoring path recital replaced, as the oracle for its own Llama
//! forward: `candle-transformers`' models fed the context, then one token at
//! a time with their KV cache.

pub fn log_softmax(logits: &[f32]) -> Vec<f64> {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
    let z = logits.iter().map(|&x| (x as f64 - max).exp()).sum::<f64>().ln() + max;
    logits.iter().map(|&x| x as f64 - z).collect()
}

/// The replaced path: feed the context, then one token at a time with the
/// KV cache; `step(tokens, pos)` returns the logits after the last token.
pub struct Stepped<F: FnMut(&[u32], usize) -> Vec<f32>>(pub F);

impl<F: FnMut(&[u32], usize) -> Vec<f32>> Stepped<F> {
    pub fn score(&mut self, ctx: &[u32], cont: &[u32]) -> Vec<f64> {
        let mut rows = vec![(self.0)(ctx, 0)];
        for (k, &t) in cont[..cont.len() - 1].iter().enumerate() {
            rows.push((self.0)(&[t], ctx.len() + k));
        }
        rows.iter().zip(cont).map(|(r, &t)| log_softmax(r)[t as usize]).collect()
    }

    pub fn greedy(&mut self, ctx: &[u32], n: usize) -> Vec<u32> {
        let mut out = vec![];
        let mut logits = (self.0)(ctx, 0);
        for k in 0..n {
            let best = (0..logits.len()).fold(0, |b, j| if logits[j] > logits[b] { j } else { b }) as u32;
            out.push(best);
            if k + 1 < n {
                logits = (self.0)(&[best], ctx.len() + k);
            }
        }
        out
    }
}

pub fn assert_close(new: &[f64], old: &[f64], tol: f64, what: &str) {
    assert_eq!(new.len(), old.len(), "{what}: lengths");
    for (k, (a, b)) in new.iter().zip(old).enumerate() {
        assert!((a - b).abs() < tol, "{what}, token {k}: new {a} vs old {b}");
    }
}

/// The GGUF named by `RECITAL_TEST_GGUF` (`scripts/test.sh` sets it), if any.
pub fn test_gguf() -> Option<String> {
    let p = std::env::var("RECITAL_TEST_GGUF").ok().filter(|p| !p.is_empty());
    if p.is_none() {
        eprintln!("RECITAL_TEST_GGUF unset: skipping the SmolLM2 GGUF comparison");
    }
    p
}

/// `candle-transformers`' quantised Llama on `path`, stepped.
pub fn gguf_stepper(path: &str) -> impl FnMut(&[u32], usize) -> Vec<f32> {
    use candle_core::{Device, Tensor};
    let mut file = std::fs::File::open(path).unwrap();
    let content = candle_core::quantized::gguf_file::Content::read(&mut file).unwrap();
    let mut weights = candle_transformers::models::quantized_llama::ModelWeights::from_gguf(
        content,
        &mut file,
        &Device::Cpu,
    )
    .unwrap();
    move |tokens: &[u32], pos: usize| {
        if pos == 0 {
            weights.clear_kv_cache();
        }
        let x = Tensor::new(tokens, &Device::Cpu).unwrap().unsqueeze(0).unwrap();
        weights.forward(&x, pos).unwrap().squeeze(0).unwrap().to_vec1().unwrap()
    }
}

/// Text the SmolLM2 comparisons score (49 tokens).
pub const GENESIS: &str = "In the beginning God created the heaven and the earth. And the earth was without form, \
    and void; and darkness was upon the face of the deep. And the Spirit of God moved upon the face of the waters. \
    And God said, Let there be light: and there was light.";
