//! The Llama-family network, written here because `candle-transformers`'
//! `llama::Llama` and `quantized_llama::ModelWeights` return the last
//! position's logits only (and keep their fields private). Scoring a probe
//! needs every position: with this forward a continuation is scored in one
//! pass instead of one pass per token.
//!
//! One implementation serves both weight sources: every linear layer is a
//! [`QMatMul`], which holds either a quantised GGUF tensor or a plain f32
//! tensor (Hugging Face safetensors). The arithmetic follows
//! `candle-transformers` 0.11 step for step (RMSNorm, RoPE tables, GQA by
//! repeating key/value heads, SwiGLU, softmax in f32), so both give the same
//! log-probabilities; the tests check it against them.

use candle_core::quantized::QMatMul;
use candle_core::{Device, Module, Tensor};

/// How a head's dimensions are paired for rotary embeddings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rope {
    /// Pairs `(2i, 2i+1)`: GGUF Llama files, whose q/k weights llama.cpp's
    /// converter permuted (`candle_nn::rotary_emb::rope_i`).
    Interleaved,
    /// Pairs `(i, i + d/2)`: Hugging Face checkpoints (`rope`).
    Halves,
}

/// The hyper-parameters the forward needs, from `config.json` or GGUF metadata.
#[derive(Debug, Clone)]
pub(crate) struct LlamaShape {
    pub vocab: usize,
    pub hidden: usize,
    pub intermediate: usize,
    pub layers: usize,
    pub heads: usize,
    pub kv_heads: usize,
    pub rms_eps: f64,
    pub rope: Rope,
    /// Rotary inverse frequencies, one per pair (`head_dim / 2`).
    pub inv_freq: Vec<f32>,
    /// Longest sequence (rotary table length).
    pub max_positions: usize,
}

impl LlamaShape {
    pub fn head_dim(&self) -> usize {
        self.hidden / self.heads.max(1)
    }

    /// `1 / theta^(2i/d)` as `candle-transformers` computes it (in f32).
    pub fn default_inv_freq(head_dim: usize, theta: f32) -> Vec<f32> {
        (0..head_dim).step_by(2).map(|i| 1f32 / theta.powf(i as f32 / head_dim as f32)).collect()
    }

    /// What is wrong with the shape, if anything.
    pub fn check(&self) -> Option<String> {
        let ok = self.heads > 0
            && self.kv_heads > 0
            && self.hidden.is_multiple_of(self.heads)
            && self.heads.is_multiple_of(self.kv_heads)
            && self.head_dim().is_multiple_of(2)
            && self.inv_freq.len() == self.head_dim() / 2
            && self.vocab > 0
            && self.max_positions > 0;
        (!ok).then(|| {
            format!(
                "inconsistent Llama shape: hidden size {} over {} heads ({} key/value heads), {} rotary pairs, vocabulary {}, {} positions",
                self.hidden,
                self.heads,
                self.kv_heads,
                self.inv_freq.len(),
                self.vocab,
                self.max_positions
            )
        })
    }
}

/// A tensor of the network, by role; each weight format names it its own way.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Part {
    Embed,
    Norm,
    Output,
    AttnNorm(usize),
    Q(usize),
    K(usize),
    V(usize),
    O(usize),
    FfnNorm(usize),
    Gate(usize),
    Up(usize),
    Down(usize),
}

/// A weight file, read by role.
pub(crate) trait Weights {
    /// A matrix stored `[out, in]`; `None` when the file lacks it.
    fn matrix(&mut self, part: Part) -> candle_core::Result<Option<QMatMul>>;
    /// A vector or table, as f32.
    fn tensor(&mut self, part: Part) -> candle_core::Result<Tensor>;
    /// The output projection when the file has none: the embedding table.
    fn tied_output(&mut self, embed: &Tensor) -> candle_core::Result<QMatMul>;
}

struct Layer {
    attn_norm: Tensor,
    q: QMatMul,
    k: QMatMul,
    v: QMatMul,
    o: QMatMul,
    ffn_norm: Tensor,
    gate: QMatMul,
    up: QMatMul,
    down: QMatMul,
}

/// Keys and values of the positions seen so far, per layer
/// (`[batch, kv_heads, positions, head_dim]`).
pub(crate) struct KvCache {
    layers: Vec<Option<(Tensor, Tensor)>>,
    len: usize,
}

impl KvCache {
    /// Positions held.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Forgets every position from `len` on: taking tokens back costs no
    /// recomputation of the ones kept.
    pub fn truncate(&mut self, len: usize) -> candle_core::Result<()> {
        if len >= self.len {
            return Ok(());
        }
        for slot in &mut self.layers {
            if let Some((k, v)) = slot.take() {
                if len > 0 {
                    *slot = Some((k.narrow(2, 0, len)?.contiguous()?, v.narrow(2, 0, len)?.contiguous()?));
                }
            }
        }
        self.len = len;
        Ok(())
    }
}

/// A Llama-family decoder whose forward returns every position.
pub(crate) struct LlamaNet {
    embed: Tensor,
    layers: Vec<Layer>,
    norm: Tensor,
    output: QMatMul,
    cos: Tensor,
    sin: Tensor,
    shape: LlamaShape,
}

fn dims(m: &QMatMul) -> candle_core::Result<(usize, usize)> {
    match m {
        QMatMul::QTensor(t) => t.shape().dims2(),
        QMatMul::Tensor(t) | QMatMul::TensorF16(t) => t.dims2(),
    }
}

/// A matrix `[out, inp]` of `w`, which must be there.
fn matrix(w: &mut dyn Weights, part: Part, out: usize, inp: usize) -> candle_core::Result<QMatMul> {
    let m = w.matrix(part)?.ok_or_else(|| candle_core::Error::Msg(format!("no {part:?} weight")))?;
    let got = dims(&m)?;
    if got != (out, inp) {
        candle_core::bail!("{part:?} is {got:?}, the configuration says ({out}, {inp})");
    }
    Ok(m)
}

fn vector(w: &mut dyn Weights, part: Part, len: usize) -> candle_core::Result<Tensor> {
    let t = w.tensor(part)?;
    if t.dims() != [len] {
        candle_core::bail!("{part:?} is {:?}, the configuration says [{len}]", t.dims());
    }
    Ok(t)
}

impl LlamaNet {
    /// Reads the network from `w`, checking every tensor's shape.
    pub fn load(shape: LlamaShape, w: &mut dyn Weights, device: &Device) -> candle_core::Result<Self> {
        let (d, i, hd) = (shape.hidden, shape.intermediate, shape.head_dim());
        let (q_out, kv_out) = (shape.heads * hd, shape.kv_heads * hd);
        let mut layers = Vec::with_capacity(shape.layers);
        for l in 0..shape.layers {
            layers.push(Layer {
                attn_norm: vector(w, Part::AttnNorm(l), d)?,
                q: matrix(w, Part::Q(l), q_out, d)?,
                k: matrix(w, Part::K(l), kv_out, d)?,
                v: matrix(w, Part::V(l), kv_out, d)?,
                o: matrix(w, Part::O(l), d, q_out)?,
                ffn_norm: vector(w, Part::FfnNorm(l), d)?,
                gate: matrix(w, Part::Gate(l), i, d)?,
                up: matrix(w, Part::Up(l), i, d)?,
                down: matrix(w, Part::Down(l), d, i)?,
            });
        }
        let norm = vector(w, Part::Norm, d)?;
        let embed = w.tensor(Part::Embed)?;
        if embed.dims() != [shape.vocab, d] {
            candle_core::bail!(
                "the embedding is {:?}, the configuration says [{}, {d}]",
                embed.dims(),
                shape.vocab
            );
        }
        let output = match w.matrix(Part::Output)? {
            Some(m) => m,
            None => w.tied_output(&embed)?,
        };
        if dims(&output)? != (shape.vocab, d) {
            candle_core::bail!(
                "the output projection is {:?}, expected ({}, {d})",
                dims(&output)?,
                shape.vocab
            );
        }
        let (cos, sin) = rotary_tables(&shape, device)?;
        Ok(Self { embed, layers, norm, output, cos, sin, shape })
    }

    pub fn shape(&self) -> &LlamaShape {
        &self.shape
    }

    /// An empty cache for [`Self::hidden`].
    pub fn cache(&self) -> KvCache {
        KvCache { layers: vec![None; self.shape.layers], len: 0 }
    }

    /// Final hidden states `[batch, time, hidden]` (after the last norm) for
    /// ids `[batch, time]`. Without a cache the ids sit at positions
    /// `0..time`; with one they follow its positions, attend to them, and are
    /// appended. Rows of a batch may be right-padded: causal attention keeps
    /// padding from reaching the positions before it.
    pub fn hidden(&self, ids: &Tensor, cache: Option<&mut KvCache>) -> candle_core::Result<Tensor> {
        let (b, t) = ids.dims2()?;
        let mut cache = cache;
        let pos = cache.as_ref().map_or(0, |c| c.len);
        if pos + t > self.shape.max_positions {
            candle_core::bail!("{} positions exceed the model's {}", pos + t, self.shape.max_positions);
        }
        let cos = self.cos.narrow(0, pos, t)?;
        let sin = self.sin.narrow(0, pos, t)?;
        let mask = if t > 1 { Some(causal_mask(t, pos, ids.device())?) } else { None };
        let mut x = self.embed.index_select(&ids.flatten_all()?, 0)?.reshape((b, t, self.shape.hidden))?;
        for (l, layer) in self.layers.iter().enumerate() {
            let kv = cache.as_deref_mut().map(|c| &mut c.layers[l]);
            let h = self.rms_norm(&x, &layer.attn_norm)?;
            x = (self.attention(layer, &h, &cos, &sin, mask.as_ref(), kv)? + x)?;
            let h = self.rms_norm(&x, &layer.ffn_norm)?;
            x = (self.mlp(layer, &h)? + x)?;
        }
        if let Some(c) = cache {
            c.len += t;
        }
        self.rms_norm(&x, &self.norm)
    }

    /// Logits `[.., vocab]` of hidden states `[.., hidden]`.
    pub fn logits(&self, hidden: &Tensor) -> candle_core::Result<Tensor> {
        self.output.forward(hidden)
    }

    fn rms_norm(&self, x: &Tensor, w: &Tensor) -> candle_core::Result<Tensor> {
        candle_nn::ops::rms_norm(x, w, self.shape.rms_eps as f32)
    }

    fn rotate(&self, x: &Tensor, cos: &Tensor, sin: &Tensor) -> candle_core::Result<Tensor> {
        match self.shape.rope {
            Rope::Interleaved => candle_nn::rotary_emb::rope_i(x, cos, sin),
            Rope::Halves => candle_nn::rotary_emb::rope(x, cos, sin),
        }
    }

    fn attention(
        &self,
        l: &Layer,
        x: &Tensor,
        cos: &Tensor,
        sin: &Tensor,
        mask: Option<&Tensor>,
        kv: Option<&mut Option<(Tensor, Tensor)>>,
    ) -> candle_core::Result<Tensor> {
        let (b, t, _) = x.dims3()?;
        let (h, kvh, hd) = (self.shape.heads, self.shape.kv_heads, self.shape.head_dim());
        let heads = |m: &QMatMul, n: usize| -> candle_core::Result<Tensor> {
            m.forward(x)?.reshape((b, t, n, hd))?.transpose(1, 2)?.contiguous()
        };
        let q = self.rotate(&heads(&l.q, h)?, cos, sin)?;
        let k = self.rotate(&heads(&l.k, kvh)?, cos, sin)?;
        let v = heads(&l.v, kvh)?;
        let (k, v) = match kv {
            None => (k, v),
            Some(slot) => {
                let kv = match slot.take() {
                    Some((pk, pv)) => (Tensor::cat(&[&pk, &k], 2)?, Tensor::cat(&[&pv, &v], 2)?),
                    None => (k, v),
                };
                *slot = Some(kv.clone());
                kv
            }
        };
        let k = repeat_kv(k, h / kvh)?;
        let v = repeat_kv(v, h / kvh)?;
        let att = (q.matmul(&k.t()?)? / (hd as f64).sqrt())?;
        let att = match mask {
            Some(m) => att.broadcast_add(m)?,
            None => att,
        };
        let att = candle_nn::ops::softmax_last_dim(&att)?;
        let y = att.matmul(&v.contiguous()?)?.transpose(1, 2)?.reshape((b, t, h * hd))?;
        l.o.forward(&y)
    }

    fn mlp(&self, l: &Layer, x: &Tensor) -> candle_core::Result<Tensor> {
        let gate = candle_nn::ops::silu(&l.gate.forward(x)?)?;
        l.down.forward(&(gate * l.up.forward(x)?)?)
    }
}

/// `cos` and `sin` of `position · inv_freq`, `[max_positions, head_dim / 2]`.
fn rotary_tables(shape: &LlamaShape, device: &Device) -> candle_core::Result<(Tensor, Tensor)> {
    let n = shape.max_positions;
    let pairs = shape.inv_freq.len();
    let angles: Vec<f32> = (0..n).flat_map(|p| shape.inv_freq.iter().map(move |f| p as f32 * f)).collect();
    let angles = Tensor::from_vec(angles, (n, pairs), device)?;
    Ok((angles.cos()?, angles.sin()?))
}

/// `[t, pos + t]` additive mask: query `i` (at position `pos + i`) sees keys
/// up to its own position; later ones get −∞.
fn causal_mask(t: usize, pos: usize, device: &Device) -> candle_core::Result<Tensor> {
    let m: Vec<f32> = (0..t)
        .flat_map(|i| (0..pos + t).map(move |j| if j > pos + i { f32::NEG_INFINITY } else { 0.0 }))
        .collect();
    Tensor::from_vec(m, (t, pos + t), device)
}

/// Each key/value head repeated for the `n` query heads that share it
/// (grouped-query attention), laid out as `candle-transformers` does.
fn repeat_kv(x: Tensor, n: usize) -> candle_core::Result<Tensor> {
    if n == 1 {
        return Ok(x);
    }
    let (b, kvh, t, hd) = x.dims4()?;
    Tensor::cat(&vec![&x; n], 2)?.reshape((b, kvh * n, t, hd))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn causal_mask_with_cached_positions() {
        let m = causal_mask(2, 3, &Device::Cpu).unwrap().to_vec2::<f32>().unwrap();
        let seen: Vec<Vec<bool>> = m.iter().map(|r| r.iter().map(|x| x.is_finite()).collect()).collect();
        assert_eq!(seen, vec![vec![true, true, true, true, false], vec![true; 5]]);
    }

    #[test]
    fn repeat_kv_puts_copies_next_to_each_other() {
        // Two kv heads, each a single position of one value: head k's copies
        // must be query heads k·n .. k·n + n.
        let x = Tensor::from_vec(vec![1f32, 2.0], (1, 2, 1, 1), &Device::Cpu).unwrap();
        let r = repeat_kv(x, 3).unwrap().flatten_all().unwrap().to_vec1::<f32>().unwrap();
        assert_eq!(r, vec![1.0, 1.0, 1.0, 2.0, 2.0, 2.0]);
    }

    #[test]
    fn default_inverse_frequencies() {
        let f = LlamaShape::default_inv_freq(4, 10_000.0);
        assert_eq!(f.len(), 2);
        assert_eq!(f[0], 1.0);
        assert!((f[1] - 0.01).abs() < 1e-7);
    }
}
