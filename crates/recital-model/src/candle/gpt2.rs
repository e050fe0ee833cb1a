//! GPT-2 in candle, written here rather than taken from `candle-transformers`
//! (which has no GPT-2) because recital also *trains* it: the canary lab's
//! tiny transformer is a GPT-2 saved with Hugging Face's tensor names, so the
//! audit loads it through the same path as a real `gpt2` checkpoint.
//!
//! Only differentiable ops are used. candle 0.11's fused `LayerNorm` and
//! `softmax_last_dim` have no backward pass, and a model trained with them
//! runs without error but learns nothing through them (research §10,
//! pitfall 1); the layer norm below is written out and the softmax is
//! `candle_nn::ops::softmax`.

use candle_core::{DType, Device, Module, Tensor, D};
use candle_nn::{Embedding, Init, VarBuilder};
use serde::{Deserialize, Serialize};

/// The fields of a Hugging Face GPT-2 `config.json` recital reads.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Gpt2Config {
    /// Vocabulary rows.
    pub vocab_size: usize,
    /// Context length.
    pub n_positions: usize,
    /// Hidden size.
    pub n_embd: usize,
    /// Layers.
    pub n_layer: usize,
    /// Attention heads.
    pub n_head: usize,
    /// Layer-norm epsilon.
    #[serde(default = "default_eps")]
    pub layer_norm_epsilon: f64,
    /// `"gpt2"`.
    #[serde(default = "default_model_type")]
    pub model_type: String,
    /// End-of-text id, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eos_token_id: Option<u32>,
}

fn default_eps() -> f64 {
    1e-5
}

fn default_model_type() -> String {
    "gpt2".into()
}

struct LayerNorm {
    weight: Tensor,
    bias: Tensor,
    eps: f64,
}

impl LayerNorm {
    fn new(dim: usize, eps: f64, vb: VarBuilder) -> candle_core::Result<Self> {
        Ok(Self {
            weight: vb.get_with_hints(dim, "weight", Init::Const(1.0))?,
            bias: vb.get_with_hints(dim, "bias", Init::Const(0.0))?,
            eps,
        })
    }

    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        let mean = x.mean_keepdim(D::Minus1)?;
        let centred = x.broadcast_sub(&mean)?;
        let var = centred.sqr()?.mean_keepdim(D::Minus1)?;
        let normed = centred.broadcast_div(&(var + self.eps)?.sqrt()?)?;
        normed.broadcast_mul(&self.weight)?.broadcast_add(&self.bias)
    }
}

/// GPT-2's `Conv1D`: `x @ W + b` with `W` stored as `[in, out]`.
struct Conv1D {
    weight: Tensor,
    bias: Tensor,
}

impl Conv1D {
    fn new(input: usize, output: usize, vb: VarBuilder) -> candle_core::Result<Self> {
        Ok(Self {
            weight: vb.get_with_hints((input, output), "weight", Init::Randn { mean: 0.0, stdev: 0.02 })?,
            bias: vb.get_with_hints(output, "bias", Init::Const(0.0))?,
        })
    }

    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        x.broadcast_matmul(&self.weight)?.broadcast_add(&self.bias)
    }
}

struct Block {
    ln_1: LayerNorm,
    c_attn: Conv1D,
    attn_proj: Conv1D,
    ln_2: LayerNorm,
    c_fc: Conv1D,
    mlp_proj: Conv1D,
    n_head: usize,
}

impl Block {
    fn new(cfg: &Gpt2Config, vb: VarBuilder) -> candle_core::Result<Self> {
        let d = cfg.n_embd;
        Ok(Self {
            ln_1: LayerNorm::new(d, cfg.layer_norm_epsilon, vb.pp("ln_1"))?,
            c_attn: Conv1D::new(d, 3 * d, vb.pp("attn.c_attn"))?,
            attn_proj: Conv1D::new(d, d, vb.pp("attn.c_proj"))?,
            ln_2: LayerNorm::new(d, cfg.layer_norm_epsilon, vb.pp("ln_2"))?,
            c_fc: Conv1D::new(d, 4 * d, vb.pp("mlp.c_fc"))?,
            mlp_proj: Conv1D::new(4 * d, d, vb.pp("mlp.c_proj"))?,
            n_head: cfg.n_head,
        })
    }

    fn attention(&self, x: &Tensor, mask: &Tensor) -> candle_core::Result<Tensor> {
        let (b, t, d) = x.dims3()?;
        let dh = d / self.n_head;
        let qkv = self.c_attn.forward(x)?;
        let heads = |i: usize| -> candle_core::Result<Tensor> {
            qkv.narrow(D::Minus1, i * d, d)?.reshape((b, t, self.n_head, dh))?.transpose(1, 2)?.contiguous()
        };
        let (q, k, v) = (heads(0)?, heads(1)?, heads(2)?);
        let att = (q.matmul(&k.t()?)? / (dh as f64).sqrt())?;
        let att = att.broadcast_add(mask)?;
        let att = candle_nn::ops::softmax(&att, D::Minus1)?;
        let y = att.matmul(&v)?.transpose(1, 2)?.reshape((b, t, d))?;
        self.attn_proj.forward(&y)
    }

    fn forward(&self, x: &Tensor, mask: &Tensor) -> candle_core::Result<Tensor> {
        let x = (x + self.attention(&self.ln_1.forward(x)?, mask)?)?;
        let h = self.c_fc.forward(&self.ln_2.forward(&x)?)?.gelu()?;
        x + self.mlp_proj.forward(&h)?
    }
}

/// A GPT-2 language model (tied input and output embeddings).
pub struct Gpt2 {
    wte: Tensor,
    wpe: Tensor,
    blocks: Vec<Block>,
    ln_f: LayerNorm,
    cfg: Gpt2Config,
}

impl Gpt2 {
    /// Builds the model from `vb`: loads a checkpoint's tensors, or creates
    /// freshly initialised variables when `vb` is backed by a `VarMap`.
    /// Tensor names are Hugging Face's (`wte.weight`, `h.0.attn.c_attn.weight`…).
    pub fn new(cfg: &Gpt2Config, vb: VarBuilder) -> candle_core::Result<Self> {
        let vb = if vb.contains_tensor("transformer.wte.weight") { vb.pp("transformer") } else { vb };
        let d = cfg.n_embd;
        let wte =
            vb.get_with_hints((cfg.vocab_size, d), "wte.weight", Init::Randn { mean: 0.0, stdev: 0.02 })?;
        let wpe =
            vb.get_with_hints((cfg.n_positions, d), "wpe.weight", Init::Randn { mean: 0.0, stdev: 0.01 })?;
        let blocks =
            (0..cfg.n_layer).map(|i| Block::new(cfg, vb.pp(format!("h.{i}")))).collect::<Result<_, _>>()?;
        let ln_f = LayerNorm::new(d, cfg.layer_norm_epsilon, vb.pp("ln_f"))?;
        Ok(Self { wte, wpe, blocks, ln_f, cfg: cfg.clone() })
    }

    /// The configuration.
    pub fn config(&self) -> &Gpt2Config {
        &self.cfg
    }

    /// Logits `[batch, time, vocab]` for token ids `[batch, time]`.
    pub fn forward(&self, ids: &Tensor) -> candle_core::Result<Tensor> {
        let (_b, t) = ids.dims2()?;
        let emb = Embedding::new(self.wte.clone(), self.cfg.n_embd).forward(ids)?;
        let x = emb.broadcast_add(&self.wpe.narrow(0, 0, t)?)?;
        let mask = causal_mask(t, ids.device())?;
        let mut x = x;
        for b in &self.blocks {
            x = b.forward(&x, &mask)?;
        }
        let x = self.ln_f.forward(&x)?;
        x.broadcast_matmul(&self.wte.t()?)
    }
}

/// `[t, t]` additive mask: 0 on and below the diagonal, a large negative
/// number above (not −∞, which turns fully masked rows into NaN).
fn causal_mask(t: usize, device: &Device) -> candle_core::Result<Tensor> {
    let m: Vec<f32> = (0..t).flat_map(|i| (0..t).map(move |j| if j > i { -1e9 } else { 0.0 })).collect();
    Tensor::from_vec(m, (t, t), device)?.to_dtype(DType::F32)
}
