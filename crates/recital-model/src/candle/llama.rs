//! Llama-family safetensors checkpoints (`model_type` `llama` or `mistral`)
//! via `candle-transformers`, computed in f32.

use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use candle_transformers::models::llama::{Cache, Config, Llama, LlamaConfig, LlamaEosToks};

use super::{device, device_name, map_weights, weights_digest, SteppedModel, Stepper};
use crate::error::{ModelError, Result};
use crate::model::{Access, LanguageModel, ModelInfo};
use crate::tokenizer::ModelTokenizer;

struct LlamaStepper {
    model: Llama,
    config: Config,
    cache: Cache,
    device: Device,
}

impl Stepper for LlamaStepper {
    fn reset(&mut self) -> Result<()> {
        self.cache = Cache::new(true, DType::F32, &self.config, &self.device)?;
        Ok(())
    }

    fn step(&mut self, tokens: &[u32], pos: usize) -> Result<Vec<f32>> {
        let x = Tensor::new(tokens, &self.device)?.unsqueeze(0)?;
        Ok(self.model.forward(&x, pos, &mut self.cache)?.squeeze(0)?.to_vec1()?)
    }
}

pub(crate) fn open(
    dir: &Path,
    config_text: &str,
    weights: &[PathBuf],
    tokenizer: ModelTokenizer,
) -> Result<Box<dyn LanguageModel>> {
    let cfg_path = dir.join("config.json");
    let raw: LlamaConfig = serde_json::from_str(config_text).map_err(|e| ModelError::BadFile {
        path: cfg_path.clone(),
        why: format!("not a Llama config: {e}"),
    })?;
    let eos = match &raw.eos_token_id {
        Some(LlamaEosToks::Single(e)) => vec![*e],
        Some(LlamaEosToks::Multiple(v)) => v.clone(),
        None => vec![],
    };
    if raw.num_attention_heads == 0
        || !raw.hidden_size.is_multiple_of(raw.num_attention_heads)
        || raw.num_key_value_heads() == 0
        || !raw.num_attention_heads.is_multiple_of(raw.num_key_value_heads())
    {
        return Err(ModelError::BadFile {
            path: cfg_path,
            why: format!(
                "inconsistent Llama shape: hidden_size {} over {} heads ({} key/value heads)",
                raw.hidden_size,
                raw.num_attention_heads,
                raw.num_key_value_heads()
            ),
        });
    }
    let vocab = raw.vocab_size;
    let context_length = raw.max_position_embeddings;
    let config = raw.into_config(false);
    tokenizer.check_fits(vocab, &dir.display().to_string())?;
    let device = device();
    let vb = map_weights(weights, &device)?;
    let model = Llama::load(vb, &config).map_err(|e| ModelError::BadFile {
        path: weights[0].clone(),
        why: format!("not a Llama checkpoint: {e}"),
    })?;
    let (digest, kind) = weights_digest(weights)?;
    let cache = Cache::new(true, DType::F32, &config, &device)?;
    let info = ModelInfo {
        source: dir.display().to_string(),
        backend: "candle-llama".into(),
        architecture: format!("llama ({} layers, d={})", config.num_hidden_layers, config.hidden_size),
        access: Access::FullDistribution,
        parameters: None,
        vocab_size: vocab,
        context_length,
        tokenizer_sha256: Some(tokenizer.sha256().to_string()),
        weights_sha256: Some(digest),
        weights_digest_kind: Some(kind),
        device: Some(device_name(&device)),
        dtype: Some("f32".into()),
    };
    Ok(Box::new(SteppedModel {
        stepper: std::sync::Mutex::new(LlamaStepper { model, config, cache, device }),
        tokenizer,
        info,
        eos,
    }))
}
