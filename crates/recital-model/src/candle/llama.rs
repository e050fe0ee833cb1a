//! Llama-family safetensors checkpoints (`model_type` `llama` or `mistral`),
//! run in f32 by recital's own forward (`llama_net`). The configuration is
//! read here rather than with `candle-transformers`' `LlamaConfig` so that
//! what the forward does not compute (biases, a head size of its own, RoPE
//! scaling other than Llama 3's) is refused by name instead of ignored.

use std::f32::consts::PI;
use std::path::{Path, PathBuf};

use candle_core::quantized::QMatMul;
use candle_core::Tensor;
use candle_nn::VarBuilder;
use serde::Deserialize;

use super::llama_lm::LlamaModel;
use super::llama_net::{LlamaNet, LlamaShape, Part, Rope, Weights};
use super::{device, device_name, map_weights, weights_digest};
use crate::error::{ModelError, Result};
use crate::model::{Access, LanguageModel, ModelInfo};
use crate::tokenizer::ModelTokenizer;

/// The fields of a Hugging Face Llama/Mistral `config.json` recital reads.
#[derive(Debug, Deserialize)]
struct HfConfig {
    vocab_size: usize,
    hidden_size: usize,
    intermediate_size: usize,
    num_hidden_layers: usize,
    num_attention_heads: usize,
    num_key_value_heads: Option<usize>,
    rms_norm_eps: f64,
    #[serde(default = "ten_thousand")]
    rope_theta: f32,
    max_position_embeddings: usize,
    #[serde(default)]
    tie_word_embeddings: bool,
    eos_token_id: Option<serde_json::Value>,
    rope_scaling: Option<serde_json::Value>,
    head_dim: Option<usize>,
    #[serde(default)]
    attention_bias: bool,
    #[serde(default)]
    mlp_bias: bool,
    hidden_act: Option<String>,
    /// Mistral: attention reaches this many positions back at most.
    sliding_window: Option<usize>,
}

fn ten_thousand() -> f32 {
    10_000.0
}

/// Llama 3's `rope_scaling` (`rope_type = "llama3"`).
#[derive(Debug, Deserialize)]
struct Llama3Scaling {
    factor: f32,
    low_freq_factor: f32,
    high_freq_factor: f32,
    original_max_position_embeddings: usize,
}

impl HfConfig {
    fn eos(&self) -> Vec<u32> {
        match &self.eos_token_id {
            Some(serde_json::Value::Number(n)) => n.as_u64().map(|e| vec![e as u32]).unwrap_or_default(),
            Some(serde_json::Value::Array(v)) => {
                v.iter().filter_map(|x| x.as_u64()).map(|e| e as u32).collect()
            }
            _ => vec![],
        }
    }

    /// What the forward does not compute, if the configuration asks for it.
    fn unsupported(&self) -> Option<String> {
        let head_dim = self.hidden_size / self.num_attention_heads.max(1);
        if self.attention_bias || self.mlp_bias {
            return Some("attention or MLP biases (attention_bias / mlp_bias)".into());
        }
        if let Some(act) = self.hidden_act.as_deref().filter(|a| *a != "silu") {
            return Some(format!("hidden_act {act:?} (SwiGLU with silu only)"));
        }
        if let Some(hd) = self.head_dim.filter(|&hd| hd != head_dim) {
            return Some(format!(
                "head_dim {hd} differs from hidden_size / num_attention_heads = {head_dim}"
            ));
        }
        None
    }

    /// Rotary inverse frequencies: the default, or Llama 3's scaling.
    fn inv_freq(&self) -> std::result::Result<Vec<f32>, String> {
        let head_dim = self.hidden_size / self.num_attention_heads.max(1);
        let base = LlamaShape::default_inv_freq(head_dim, self.rope_theta);
        let Some(scaling) = self.rope_scaling.as_ref().filter(|v| !v.is_null()) else {
            return Ok(base);
        };
        let kind = scaling.get("rope_type").or_else(|| scaling.get("type")).and_then(|v| v.as_str());
        match kind {
            Some("default") => Ok(base),
            Some("llama3") => {
                let s: Llama3Scaling = serde_json::from_value(scaling.clone()).map_err(|e| e.to_string())?;
                Ok(llama3_scaled(&base, &s))
            }
            other => Err(format!(
                "rope_scaling of type {other:?}; recital computes the default RoPE and Llama 3's"
            )),
        }
    }
}

/// Llama 3's frequency-dependent RoPE scaling, as `candle-transformers`
/// and Hugging Face compute it.
fn llama3_scaled(base: &[f32], s: &Llama3Scaling) -> Vec<f32> {
    let orig = s.original_max_position_embeddings as f32;
    let (low_wavelen, high_wavelen) = (orig / s.low_freq_factor, orig / s.high_freq_factor);
    base.iter()
        .map(|&freq| {
            let wavelen = 2. * PI / freq;
            if wavelen < high_wavelen {
                freq
            } else if wavelen > low_wavelen {
                freq / s.factor
            } else {
                let smooth = (orig / wavelen - s.low_freq_factor) / (s.high_freq_factor - s.low_freq_factor);
                (1. - smooth) * freq / s.factor + smooth * freq
            }
        })
        .collect()
}

/// The tensors of a Hugging Face checkpoint, by its names.
struct HfWeights {
    vb: VarBuilder<'static>,
    tied: bool,
}

impl HfWeights {
    fn name(part: Part) -> String {
        let layer = |l: usize, what: &str| format!("model.layers.{l}.{what}.weight");
        match part {
            Part::Embed => "model.embed_tokens.weight".into(),
            Part::Norm => "model.norm.weight".into(),
            Part::Output => "lm_head.weight".into(),
            Part::AttnNorm(l) => layer(l, "input_layernorm"),
            Part::Q(l) => layer(l, "self_attn.q_proj"),
            Part::K(l) => layer(l, "self_attn.k_proj"),
            Part::V(l) => layer(l, "self_attn.v_proj"),
            Part::O(l) => layer(l, "self_attn.o_proj"),
            Part::FfnNorm(l) => layer(l, "post_attention_layernorm"),
            Part::Gate(l) => layer(l, "mlp.gate_proj"),
            Part::Up(l) => layer(l, "mlp.up_proj"),
            Part::Down(l) => layer(l, "mlp.down_proj"),
        }
    }
}

impl Weights for HfWeights {
    fn matrix(&mut self, part: Part) -> candle_core::Result<Option<QMatMul>> {
        let name = Self::name(part);
        if (self.tied && matches!(part, Part::Output)) || !self.vb.contains_tensor(&name) {
            return Ok(None);
        }
        Ok(Some(QMatMul::Tensor(self.vb.get_unchecked(&name)?)))
    }

    fn tensor(&mut self, part: Part) -> candle_core::Result<Tensor> {
        self.vb.get_unchecked(&Self::name(part))
    }

    fn tied_output(&mut self, embed: &Tensor) -> candle_core::Result<QMatMul> {
        Ok(QMatMul::Tensor(embed.clone()))
    }
}

pub(crate) fn open(
    dir: &Path,
    config_text: &str,
    weights: &[PathBuf],
    tokenizer: ModelTokenizer,
) -> Result<Box<dyn LanguageModel>> {
    let cfg_path = dir.join("config.json");
    let bad = |why: String| ModelError::BadFile { path: cfg_path.clone(), why };
    let cfg: HfConfig =
        serde_json::from_str(config_text).map_err(|e| bad(format!("not a Llama config: {e}")))?;
    let unsupported = |why: String| ModelError::Unsupported { spec: dir.display().to_string(), why };
    if let Some(why) = cfg.unsupported() {
        return Err(unsupported(why));
    }
    let inv_freq = cfg.inv_freq().map_err(unsupported)?;
    // Windows never exceed Mistral's sliding window, where it equals full attention.
    let context_length = cfg.max_position_embeddings.min(cfg.sliding_window.unwrap_or(usize::MAX));
    let shape = LlamaShape {
        vocab: cfg.vocab_size,
        hidden: cfg.hidden_size,
        intermediate: cfg.intermediate_size,
        layers: cfg.num_hidden_layers,
        heads: cfg.num_attention_heads,
        kv_heads: cfg.num_key_value_heads.unwrap_or(cfg.num_attention_heads),
        rms_eps: cfg.rms_norm_eps,
        rope: Rope::Halves,
        inv_freq,
        max_positions: context_length,
    };
    if let Some(why) = shape.check() {
        return Err(bad(why));
    }
    tokenizer.check_fits(cfg.vocab_size, &dir.display().to_string())?;
    let device = device();
    let mut source = HfWeights { vb: map_weights(weights, &device)?, tied: cfg.tie_word_embeddings };
    let net = LlamaNet::load(shape.clone(), &mut source, &device).map_err(|e| ModelError::BadFile {
        path: weights[0].clone(),
        why: format!("not a Llama checkpoint matching config.json: {e}"),
    })?;
    let (digest, kind) = weights_digest(weights)?;
    let info = ModelInfo {
        source: dir.display().to_string(),
        backend: "candle-llama".into(),
        architecture: format!(
            "llama ({} layers, d={}, {} heads, {} key/value heads)",
            shape.layers, shape.hidden, shape.heads, shape.kv_heads
        ),
        access: Access::FullDistribution,
        parameters: None,
        vocab_size: cfg.vocab_size,
        context_length,
        tokenizer_sha256: Some(tokenizer.sha256().to_string()),
        weights_sha256: Some(digest),
        weights_digest_kind: Some(kind),
        device: Some(device_name(&device)),
        dtype: Some("f32".into()),
        scoring: None,
    };
    Ok(Box::new(LlamaModel::new(net, tokenizer, info, cfg.eos(), device)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(extra: serde_json::Value) -> HfConfig {
        let mut v = serde_json::json!({
            "vocab_size": 10, "hidden_size": 8, "intermediate_size": 16, "num_hidden_layers": 1,
            "num_attention_heads": 2, "rms_norm_eps": 1e-5, "max_position_embeddings": 32,
        });
        v.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn refuses_what_the_forward_does_not_compute() {
        assert!(config(serde_json::json!({"attention_bias": true})).unsupported().is_some());
        assert!(config(serde_json::json!({"hidden_act": "gelu"})).unsupported().is_some());
        assert!(config(serde_json::json!({"head_dim": 8})).unsupported().is_some());
        assert!(config(serde_json::json!({"head_dim": 4})).unsupported().is_none());
        let linear = config(serde_json::json!({"rope_scaling": {"type": "linear", "factor": 2.0}}));
        assert!(linear.inv_freq().unwrap_err().contains("linear"));
    }

    #[test]
    fn llama3_scaling_keeps_high_and_divides_low_frequencies() {
        let c = config(serde_json::json!({"rope_theta": 500000.0, "rope_scaling": {
            "rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
            "original_max_position_embeddings": 32}}));
        let base = LlamaShape::default_inv_freq(4, 500000.0);
        let scaled = c.inv_freq().unwrap();
        // Wavelength 2π (< 32/4) stays; 2π·√500000 (> 32/1) is divided by the factor.
        assert_eq!(scaled[0], base[0]);
        assert!((scaled[1] - base[1] / 8.0).abs() < 1e-9);
        let plain = config(serde_json::json!({"rope_scaling": null}));
        assert_eq!(plain.inv_freq().unwrap(), LlamaShape::default_inv_freq(4, 10_000.0));
    }
}
