//! GGUF files of the Llama family (Llama, SmolLM2, Mistral…), quantised, run
//! by recital's own forward (`llama_net`) over candle's quantised matrices.
//! What that forward does not compute (mixture of experts, RoPE scaling,
//! per-frequency RoPE factors) is refused when the file is opened. The tokenizer is a
//! `tokenizer.json` beside the file when there is one, else rebuilt from the
//! GGUF metadata (byte-level BPE: `tokenizer.ggml.model = "gpt2"`).

use std::fs::File;
use std::path::Path;

use candle_core::quantized::gguf_file::{Content, Value};
use candle_core::quantized::QMatMul;
use candle_core::{Device, Tensor};

use super::llama_lm::LlamaModel;
use super::llama_net::{LlamaNet, LlamaShape, Part, Rope, Weights};
use super::{device, device_name, weights_digest};
use crate::error::{ModelError, Result};
use crate::model::{Access, LanguageModel, ModelInfo};
use crate::tokenizer::ModelTokenizer;

/// Models whose weights take at most this much as f32 are dequantised when
/// loaded (SmolLM2-135M: 540 MB). candle's CPU kernels for several GGUF
/// types (Q4_1, Q5_0, Q5_1…) are scalar, and every quantised product first
/// rounds the activations to 8 bits; over the many rows of a whole-sequence
/// pass f32 matrix products are an order of magnitude faster, and they
/// compute the file's own weights without that rounding. Larger models keep
/// their quantised matrices, and so does every model when
/// `RECITAL_GGUF_KEEP_QUANTISED=1` (less memory, the quantised kernels).
const DEQUANTISE_MAX_BYTES: u64 = 2 << 30;

/// The tensors of an open GGUF file, by llama.cpp's names.
struct GgufWeights<'a> {
    content: &'a Content,
    file: &'a mut File,
    device: &'a Device,
    /// Matrices as f32 (see [`DEQUANTISE_MAX_BYTES`]).
    dequantise: bool,
}

impl GgufWeights<'_> {
    fn name(part: Part) -> String {
        let blk = |l: usize, what: &str| format!("blk.{l}.{what}.weight");
        match part {
            Part::Embed => "token_embd.weight".into(),
            Part::Norm => "output_norm.weight".into(),
            Part::Output => "output.weight".into(),
            Part::AttnNorm(l) => blk(l, "attn_norm"),
            Part::Q(l) => blk(l, "attn_q"),
            Part::K(l) => blk(l, "attn_k"),
            Part::V(l) => blk(l, "attn_v"),
            Part::O(l) => blk(l, "attn_output"),
            Part::FfnNorm(l) => blk(l, "ffn_norm"),
            Part::Gate(l) => blk(l, "ffn_gate"),
            Part::Up(l) => blk(l, "ffn_up"),
            Part::Down(l) => blk(l, "ffn_down"),
        }
    }

    fn read(&mut self, name: &str) -> candle_core::Result<candle_core::quantized::QTensor> {
        self.content.tensor(self.file, name, self.device)
    }

    fn as_matrix(&self, q: candle_core::quantized::QTensor) -> candle_core::Result<QMatMul> {
        if self.dequantise {
            Ok(QMatMul::Tensor(q.dequantize(self.device)?))
        } else {
            QMatMul::from_qtensor(q)
        }
    }
}

impl Weights for GgufWeights<'_> {
    fn matrix(&mut self, part: Part) -> candle_core::Result<Option<QMatMul>> {
        let name = Self::name(part);
        if !self.content.tensor_infos.contains_key(&name) {
            return Ok(None);
        }
        let q = self.read(&name)?;
        self.as_matrix(q).map(Some)
    }

    fn tensor(&mut self, part: Part) -> candle_core::Result<Tensor> {
        self.read(&Self::name(part))?.dequantize(self.device)
    }

    fn tied_output(&mut self, embed: &Tensor) -> candle_core::Result<QMatMul> {
        if self.dequantise {
            return Ok(QMatMul::Tensor(embed.clone()));
        }
        // The quantised table, as llama.cpp and candle-transformers use it.
        QMatMul::from_qtensor(self.read(&Self::name(Part::Embed))?)
    }
}

fn bad(path: &Path, why: impl Into<String>) -> ModelError {
    ModelError::BadFile { path: path.to_path_buf(), why: why.into() }
}

fn strings(content: &Content, key: &str, path: &Path) -> Result<Vec<String>> {
    let v = content.metadata.get(key).ok_or_else(|| bad(path, format!("GGUF metadata has no {key}")))?;
    let arr = v.to_vec().map_err(|e| bad(path, format!("{key}: {e}")))?;
    arr.iter().map(|x| x.to_string().cloned().map_err(|e| bad(path, format!("{key}: {e}")))).collect()
}

fn number(content: &Content, key: &str) -> Option<u64> {
    match content.metadata.get(key)? {
        Value::U8(v) => Some(*v as u64),
        Value::U16(v) => Some(*v as u64),
        Value::U32(v) => Some(*v as u64),
        Value::U64(v) => Some(*v),
        Value::I32(v) => Some(*v as u64),
        Value::I64(v) => Some(*v as u64),
        _ => None,
    }
}

/// Opens a GGUF file.
pub(crate) fn open(path: &Path) -> Result<Box<dyn LanguageModel>> {
    let mut file = std::fs::File::open(path).map_err(|e| ModelError::io(path, e))?;
    let content = Content::read(&mut file).map_err(|e| bad(path, format!("not a GGUF file: {e}")))?;
    let arch = content
        .metadata
        .get("general.architecture")
        .and_then(|v| v.to_string().ok())
        .cloned()
        .unwrap_or_default();
    if arch != "llama" {
        return Err(ModelError::Unsupported {
            spec: path.display().to_string(),
            why: format!("GGUF architecture {arch:?}; recital runs the Llama family (general.architecture = \"llama\")"),
        });
    }
    let vocab_tokens = strings(&content, "tokenizer.ggml.tokens", path)?;
    let beside = path.with_file_name("tokenizer.json");
    let tokenizer = if beside.is_file() {
        ModelTokenizer::from_file(&beside)?
    } else {
        let kind = content.metadata.get("tokenizer.ggml.model").and_then(|v| v.to_string().ok()).cloned();
        if kind.as_deref() != Some("gpt2") {
            return Err(ModelError::Unsupported {
                spec: path.display().to_string(),
                why: format!(
                    "GGUF tokenizer {kind:?}: recital rebuilds byte-level BPE (\"gpt2\") vocabularies; put the model's tokenizer.json beside the file"
                ),
            });
        }
        let merges = strings(&content, "tokenizer.ggml.merges", path)?;
        let special: Vec<u32> =
            match content.metadata.get("tokenizer.ggml.token_type").and_then(|v| v.to_vec().ok()) {
                Some(types) => types
                    .iter()
                    .enumerate()
                    .filter(|(_, t)| matches!(t.to_i32(), Ok(3)) || matches!(t.to_u32(), Ok(3)))
                    .map(|(i, _)| i as u32)
                    .collect(),
                None => vec![],
            };
        ModelTokenizer::byte_level_bpe(&vocab_tokens, &merges, &special)?
    };
    tokenizer.check_fits(vocab_tokens.len(), &path.display().to_string())?;
    let eos: Vec<u32> =
        number(&content, "tokenizer.ggml.eos_token_id").map(|e| vec![e as u32]).unwrap_or_default();
    let context_length = number(&content, "llama.context_length").unwrap_or(2048) as usize;
    let params: u64 = content.tensor_infos.values().map(|t| t.shape.elem_count() as u64).sum();
    let dtypes: std::collections::BTreeSet<String> =
        content.tensor_infos.values().map(|t| format!("{:?}", t.ggml_dtype)).collect();
    let name =
        content.metadata.get("general.name").and_then(|v| v.to_string().ok()).cloned().unwrap_or_default();
    let stored = dtypes.into_iter().collect::<Vec<_>>().join("+");
    let shape = shape(&content, path, vocab_tokens.len(), context_length)?;
    let device = device();
    let keep = std::env::var_os("RECITAL_GGUF_KEEP_QUANTISED").is_some_and(|v| v == "1");
    let dequantise = !keep && params * 4 <= DEQUANTISE_MAX_BYTES;
    let mut weights = GgufWeights { content: &content, file: &mut file, device: &device, dequantise };
    let net = LlamaNet::load(shape.clone(), &mut weights, &device)
        .map_err(|e| bad(path, format!("loading the GGUF weights: {e}")))?;
    let (digest, kind) = weights_digest(&[path.to_path_buf()])?;
    let desc = format!(
        "llama, GGUF, {} layers, d={}, {} heads, {} key/value heads",
        shape.layers, shape.hidden, shape.heads, shape.kv_heads
    );
    let info = ModelInfo {
        source: path.display().to_string(),
        backend: "candle-gguf".into(),
        architecture: if name.is_empty() { desc } else { format!("{name} ({desc})") },
        access: Access::FullDistribution,
        parameters: Some(params),
        vocab_size: vocab_tokens.len(),
        context_length,
        tokenizer_sha256: Some(tokenizer.sha256().to_string()),
        weights_sha256: Some(digest),
        weights_digest_kind: Some(kind),
        device: Some(device_name(&device)),
        dtype: Some(if dequantise { format!("f32, dequantised from {stored}") } else { stored }),
        scoring: None,
    };
    Ok(Box::new(LlamaModel::new(net, tokenizer, info, eos, device)))
}

/// The network's shape from the metadata (llama.cpp's keys), refusing what
/// the forward does not compute.
fn shape(content: &Content, path: &Path, vocab: usize, context_length: usize) -> Result<LlamaShape> {
    let need = |key: &str| {
        number(content, &format!("llama.{key}"))
            .map(|v| v as usize)
            .ok_or_else(|| bad(path, format!("GGUF metadata has no llama.{key}")))
    };
    let float = |key: &str| content.metadata.get(key).and_then(|v| v.to_f32().ok());
    let unsupported = |why: String| ModelError::Unsupported { spec: path.display().to_string(), why };
    if number(content, "llama.expert_count").unwrap_or(0) > 1 {
        return Err(unsupported("a mixture-of-experts GGUF (llama.expert_count > 1)".into()));
    }
    let scaling = content.metadata.get("llama.rope.scaling.type").and_then(|v| v.to_string().ok());
    if let Some(kind) = scaling.filter(|k| k.as_str() != "none") {
        return Err(unsupported(format!("RoPE scaling {kind:?} (llama.rope.scaling.type)")));
    }
    if content.tensor_infos.contains_key("rope_freqs.weight") {
        return Err(unsupported("per-frequency RoPE factors (rope_freqs.weight, Llama 3.1 style)".into()));
    }
    let (hidden, heads) = (need("embedding_length")?, need("attention.head_count")?);
    let head_dim = hidden / heads.max(1);
    let rope_dims = number(content, "llama.rope.dimension_count").map_or(head_dim, |v| v as usize);
    if rope_dims != head_dim {
        return Err(unsupported(format!("RoPE on {rope_dims} of {head_dim} dimensions per head")));
    }
    let theta = float("llama.rope.freq_base").unwrap_or(10_000.0);
    let shape = LlamaShape {
        vocab,
        hidden,
        intermediate: need("feed_forward_length")?,
        layers: need("block_count")?,
        heads,
        kv_heads: number(content, "llama.attention.head_count_kv").map_or(heads, |v| v as usize),
        rms_eps: float("llama.attention.layer_norm_rms_epsilon")
            .ok_or_else(|| bad(path, "GGUF metadata has no llama.attention.layer_norm_rms_epsilon"))?
            as f64,
        rope: Rope::Interleaved,
        inv_freq: LlamaShape::default_inv_freq(head_dim, theta),
        max_positions: context_length,
    };
    match shape.check() {
        Some(why) => Err(bad(path, why)),
        None => Ok(shape),
    }
}
