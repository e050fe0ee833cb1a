//! GPT-NeoX (the Pythia suite) in candle, from Hugging Face checkpoints
//! (`model_type = "gpt_neox"`): rotary position embeddings on the first
//! `rotary_pct` of each head, parallel (or sequential) residual, exact GELU,
//! untied output embedding. `candle-transformers` has no GPT-NeoX; the
//! Pythia models are the field's reference for memorisation by duplicate
//! count (Biderman et al. 2023), so recital carries its own. It is checked
//! against a line-by-line Python transcription of Hugging Face's
//! `modeling_gpt_neox.py` (`tests/neox_reference.py`).

use candle_core::{DType, Device, Module, Tensor, D};
use candle_nn::{Embedding, Linear, VarBuilder};
use serde::{Deserialize, Serialize};

/// The fields of a Hugging Face GPT-NeoX `config.json` recital reads.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NeoxConfig {
    /// Vocabulary rows.
    pub vocab_size: usize,
    /// Hidden size.
    pub hidden_size: usize,
    /// Layers.
    pub num_hidden_layers: usize,
    /// Attention heads.
    pub num_attention_heads: usize,
    /// MLP width.
    pub intermediate_size: usize,
    /// Fraction of each head's dimensions that get rotary embeddings.
    #[serde(default = "quarter")]
    pub rotary_pct: f64,
    /// Rotary base.
    #[serde(default = "ten_thousand")]
    pub rotary_emb_base: f64,
    /// Context length.
    pub max_position_embeddings: usize,
    /// Layer-norm epsilon.
    #[serde(default = "eps")]
    pub layer_norm_eps: f64,
    /// `x + attn(ln1 x) + mlp(ln2 x)` (Pythia) rather than sequential.
    #[serde(default = "yes")]
    pub use_parallel_residual: bool,
    /// Activation (`gelu` = exact).
    #[serde(default = "gelu")]
    pub hidden_act: String,
    /// End-of-text id, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eos_token_id: Option<u32>,
}

fn quarter() -> f64 {
    0.25
}
fn ten_thousand() -> f64 {
    10_000.0
}
fn eps() -> f64 {
    1e-5
}
fn yes() -> bool {
    true
}
fn gelu() -> String {
    "gelu".into()
}

impl NeoxConfig {
    /// Dimensions per head.
    pub fn head_size(&self) -> usize {
        self.hidden_size / self.num_attention_heads.max(1)
    }

    /// Dimensions per head with rotary embeddings, `int(head_size · rotary_pct)`
    /// as Hugging Face computes it (must be even).
    pub fn rotary_dims(&self) -> usize {
        (self.head_size() as f64 * self.rotary_pct) as usize
    }
}

fn layer_norm(dim: usize, eps: f64, vb: VarBuilder) -> candle_core::Result<candle_nn::LayerNorm> {
    candle_nn::layer_norm(dim, candle_nn::LayerNormConfig { eps, ..Default::default() }, vb)
}

struct Layer {
    ln_1: candle_nn::LayerNorm,
    ln_2: candle_nn::LayerNorm,
    qkv: Linear,
    dense: Linear,
    up: Linear,
    down: Linear,
}

/// A GPT-NeoX language model.
pub struct GptNeox {
    embed_in: Embedding,
    layers: Vec<Layer>,
    ln_f: candle_nn::LayerNorm,
    embed_out: Linear,
    cfg: NeoxConfig,
}

impl GptNeox {
    /// Loads a checkpoint (Hugging Face tensor names).
    pub fn new(cfg: &NeoxConfig, vb: VarBuilder) -> candle_core::Result<Self> {
        let (d, i) = (cfg.hidden_size, cfg.intermediate_size);
        let base = vb.pp("gpt_neox");
        let embed_in = candle_nn::embedding(cfg.vocab_size, d, base.pp("embed_in"))?;
        let mut layers = Vec::with_capacity(cfg.num_hidden_layers);
        for l in 0..cfg.num_hidden_layers {
            let vb = base.pp(format!("layers.{l}"));
            layers.push(Layer {
                ln_1: layer_norm(d, cfg.layer_norm_eps, vb.pp("input_layernorm"))?,
                ln_2: layer_norm(d, cfg.layer_norm_eps, vb.pp("post_attention_layernorm"))?,
                qkv: candle_nn::linear(d, 3 * d, vb.pp("attention.query_key_value"))?,
                dense: candle_nn::linear(d, d, vb.pp("attention.dense"))?,
                up: candle_nn::linear(d, i, vb.pp("mlp.dense_h_to_4h"))?,
                down: candle_nn::linear(i, d, vb.pp("mlp.dense_4h_to_h"))?,
            });
        }
        let ln_f = layer_norm(d, cfg.layer_norm_eps, base.pp("final_layer_norm"))?;
        let embed_out = candle_nn::linear_no_bias(d, cfg.vocab_size, vb.pp("embed_out"))?;
        Ok(Self { embed_in, layers, ln_f, embed_out, cfg: cfg.clone() })
    }

    /// The configuration.
    pub fn config(&self) -> &NeoxConfig {
        &self.cfg
    }

    /// `(cos, sin)` of shape `[t, rotary_dims]` (the two halves repeated, as
    /// Hugging Face's `cat(freqs, freqs)`).
    fn rotary(&self, t: usize, device: &Device) -> candle_core::Result<(Tensor, Tensor)> {
        let rd = self.cfg.rotary_dims();
        let inv: Vec<f32> = (0..rd / 2)
            .map(|j| 1.0 / self.cfg.rotary_emb_base.powf((2 * j) as f64 / rd as f64) as f32)
            .collect();
        let mut ang = Vec::with_capacity(t * rd);
        for p in 0..t {
            for _ in 0..2 {
                ang.extend(inv.iter().map(|f| p as f32 * f));
            }
        }
        let ang = Tensor::from_vec(ang, (t, rd), device)?;
        Ok((ang.cos()?, ang.sin()?))
    }

    fn rotate(&self, x: &Tensor, cos: &Tensor, sin: &Tensor) -> candle_core::Result<Tensor> {
        let rd = self.cfg.rotary_dims();
        let hs = self.cfg.head_size();
        if rd == 0 {
            return Ok(x.clone());
        }
        let rot = x.narrow(D::Minus1, 0, rd)?;
        let x1 = rot.narrow(D::Minus1, 0, rd / 2)?;
        let x2 = rot.narrow(D::Minus1, rd / 2, rd / 2)?;
        let half = Tensor::cat(&[&x2.neg()?, &x1], D::Minus1)?;
        let rot = (rot.broadcast_mul(cos)? + half.broadcast_mul(sin)?)?;
        if rd == hs {
            return Ok(rot);
        }
        Tensor::cat(&[&rot, &x.narrow(D::Minus1, rd, hs - rd)?], D::Minus1)
    }

    fn attention(
        &self,
        l: &Layer,
        x: &Tensor,
        cos: &Tensor,
        sin: &Tensor,
        mask: &Tensor,
    ) -> candle_core::Result<Tensor> {
        let (b, t, d) = x.dims3()?;
        let (h, hs) = (self.cfg.num_attention_heads, self.cfg.head_size());
        // [b, t, h, 3·hs]: each head's q, k, v side by side (NeoX's layout).
        let qkv = l.qkv.forward(x)?.reshape((b, t, h, 3 * hs))?;
        let part = |i: usize| -> candle_core::Result<Tensor> {
            qkv.narrow(D::Minus1, i * hs, hs)?.transpose(1, 2)?.contiguous()
        };
        let q = self.rotate(&part(0)?, cos, sin)?;
        let k = self.rotate(&part(1)?, cos, sin)?;
        let v = part(2)?;
        let att = (q.matmul(&k.t()?)? / (hs as f64).sqrt())?.broadcast_add(mask)?;
        let att = candle_nn::ops::softmax(&att, D::Minus1)?;
        let y = att.matmul(&v)?.transpose(1, 2)?.reshape((b, t, d))?;
        l.dense.forward(&y)
    }

    fn mlp(&self, l: &Layer, x: &Tensor) -> candle_core::Result<Tensor> {
        let h = l.up.forward(x)?;
        let h = if self.cfg.hidden_act == "gelu_new" || self.cfg.hidden_act == "gelu_fast" {
            h.gelu()?
        } else {
            h.gelu_erf()?
        };
        l.down.forward(&h)
    }

    /// Logits `[batch, time, vocab]` for token ids `[batch, time]`.
    pub fn forward(&self, ids: &Tensor) -> candle_core::Result<Tensor> {
        let (_b, t) = ids.dims2()?;
        let dev = ids.device();
        let (cos, sin) = self.rotary(t, dev)?;
        let m: Vec<f32> = (0..t).flat_map(|i| (0..t).map(move |j| if j > i { -1e9 } else { 0.0 })).collect();
        let mask = Tensor::from_vec(m, (t, t), dev)?.to_dtype(DType::F32)?;
        let mut x = self.embed_in.forward(ids)?;
        for l in &self.layers {
            let a = self.attention(l, &l.ln_1.forward(&x)?, &cos, &sin, &mask)?;
            x = if self.cfg.use_parallel_residual {
                let m = self.mlp(l, &l.ln_2.forward(&x)?)?;
                ((x + a)? + m)?
            } else {
                let x1 = (x + a)?;
                let m = self.mlp(l, &l.ln_2.forward(&x1)?)?;
                (x1 + m)?
            };
        }
        self.embed_out.forward(&self.ln_f.forward(&x)?)
    }
}
