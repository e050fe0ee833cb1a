//! GGUF files of the Llama family (Llama, SmolLM2, Mistral…), quantised, via
//! `candle-transformers`' `quantized_llama`. The tokenizer is a
//! `tokenizer.json` beside the file when there is one, else rebuilt from the
//! GGUF metadata (byte-level BPE: `tokenizer.ggml.model = "gpt2"`).

use std::path::Path;

use candle_core::quantized::gguf_file::{Content, Value};
use candle_core::{Device, Tensor};
use candle_transformers::models::quantized_llama::ModelWeights;

use super::{device, device_name, weights_digest, SteppedModel, Stepper};
use crate::error::{ModelError, Result};
use crate::model::{Access, LanguageModel, ModelInfo};
use crate::tokenizer::ModelTokenizer;

struct GgufStepper {
    model: ModelWeights,
    device: Device,
}

impl Stepper for GgufStepper {
    fn reset(&mut self) -> Result<()> {
        self.model.clear_kv_cache();
        Ok(())
    }

    fn step(&mut self, tokens: &[u32], pos: usize) -> Result<Vec<f32>> {
        let x = Tensor::new(tokens, &self.device)?.unsqueeze(0)?;
        Ok(self.model.forward(&x, pos)?.squeeze(0)?.to_dtype(candle_core::DType::F32)?.to_vec1()?)
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
    let device = device();
    let model = ModelWeights::from_gguf(content, &mut file, &device)
        .map_err(|e| bad(path, format!("loading the GGUF weights: {e}")))?;
    let (digest, kind) = weights_digest(&[path.to_path_buf()])?;
    let info = ModelInfo {
        source: path.display().to_string(),
        backend: "candle-gguf".into(),
        architecture: if name.is_empty() { "llama (GGUF)".into() } else { format!("{name} (llama, GGUF)") },
        access: Access::FullDistribution,
        parameters: Some(params),
        vocab_size: vocab_tokens.len(),
        context_length,
        tokenizer_sha256: Some(tokenizer.sha256().to_string()),
        weights_sha256: Some(digest),
        weights_digest_kind: Some(kind),
        device: Some(device_name(&device)),
        dtype: Some(dtypes.into_iter().collect::<Vec<_>>().join("+")),
    };
    Ok(Box::new(SteppedModel {
        stepper: std::sync::Mutex::new(GgufStepper { model, device }),
        tokenizer,
        info,
        eos,
    }))
}
