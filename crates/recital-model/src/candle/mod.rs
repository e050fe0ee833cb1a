//! Local weights with candle: GPT-2 (safetensors, our own implementation,
//! also trainable), GPT-NeoX, and the Llama family from safetensors or GGUF
//! (our own forward over candle's quantised matrices).
//!
//! Every network here returns logits for every position of a sequence, so a
//! continuation is scored in one forward pass and probes are batched.
//! GPT-2 and GPT-NeoX sit behind [`FullModel`]; the Llama family behind
//! `llama_lm::LlamaModel`, which also keeps a KV cache for generation.

/// The `info`, `encode` and `decode` of a local model: its own [`ModelInfo`]
/// and tokenizer, the same for every candle backend (fields `info` and
/// `tokenizer`).
macro_rules! local_model_basics {
    () => {
        fn info(&self) -> &ModelInfo {
            &self.info
        }

        fn encode(&self, text: &str) -> Result<Vec<u32>> {
            self.tokenizer.encode(text)
        }

        fn decode(&self, tokens: &[u32]) -> Result<String> {
            self.tokenizer.decode(tokens)
        }
    };
}

mod gguf;
pub mod gpt2;
mod llama;
mod llama_lm;
mod llama_net;
pub mod neox;
pub mod train;

use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;

use crate::error::{ModelError, Result};
use crate::model::{
    argmax, dist_stats_from_logits, log_prob_from_logits, sample_from_logits, Access, Decoding, Generated,
    LanguageModel, ModelInfo, Scored, SplitMix,
};
use crate::tokenizer::ModelTokenizer;
use gpt2::{Gpt2, Gpt2Config};
use neox::{GptNeox, NeoxConfig};

/// The device local models run on: CUDA device 0 when built with the `cuda`
/// feature and one is present (unless `RECITAL_DEVICE=cpu`), else the CPU.
pub fn device() -> Device {
    #[cfg(feature = "cuda")]
    {
        if std::env::var("RECITAL_DEVICE").as_deref() != Ok("cpu") {
            if let Ok(d) = Device::new_cuda(0) {
                return d;
            }
        }
    }
    Device::Cpu
}

fn device_name(d: &Device) -> String {
    match d {
        Device::Cpu => "cpu".into(),
        Device::Cuda(_) => "cuda:0".into(),
        _ => format!("{d:?}"),
    }
}

/// Opens a local model: a `.gguf` file, a directory holding one, or a
/// Hugging Face directory (`config.json`, `tokenizer.json`, `*.safetensors`).
pub fn open_path(path: &Path) -> Result<Box<dyn LanguageModel>> {
    if path.is_file() {
        if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("gguf")) {
            return gguf::open(path);
        }
        return Err(ModelError::Unsupported {
            spec: path.display().to_string(),
            why: "a model file must be .gguf; otherwise give the model directory".into(),
        });
    }
    if !path.is_dir() {
        return Err(ModelError::Unsupported {
            spec: path.display().to_string(),
            why: "no such file or directory".into(),
        });
    }
    let ggufs = files_with_ext(path, "gguf")?;
    if ggufs.len() == 1 && !path.join("config.json").exists() {
        return gguf::open(&ggufs[0]);
    }
    let config_path = require(path, "config.json", "the model configuration")?;
    let tokenizer_path = require(path, "tokenizer.json", "the tokenizer the model was trained with")?;
    let weights = files_with_ext(path, "safetensors")?;
    if weights.is_empty() {
        return Err(ModelError::MissingFile {
            dir: path.to_path_buf(),
            file: "*.safetensors".into(),
            why: "the weights".into(),
        });
    }
    let config_text = std::fs::read_to_string(&config_path).map_err(|e| ModelError::io(&config_path, e))?;
    let value: serde_json::Value = serde_json::from_str(&config_text)
        .map_err(|e| ModelError::BadFile { path: config_path.clone(), why: e.to_string() })?;
    let model_type = value.get("model_type").and_then(|v| v.as_str()).unwrap_or("").to_string();
    let tokenizer = ModelTokenizer::from_file(&tokenizer_path)?;
    match model_type.as_str() {
        "gpt2" => {
            let cfg: Gpt2Config = serde_json::from_value(value)
                .map_err(|e| ModelError::BadFile { path: config_path.clone(), why: e.to_string() })?;
            Ok(Box::new(Gpt2Model::load(path, &cfg, &weights, tokenizer)?))
        }
        "gpt_neox" => {
            let cfg: NeoxConfig = serde_json::from_value(value)
                .map_err(|e| ModelError::BadFile { path: config_path.clone(), why: e.to_string() })?;
            Ok(Box::new(load_neox(path, &cfg, &weights, tokenizer)?))
        }
        "llama" | "mistral" => llama::open(path, &config_text, &weights, tokenizer),
        other => Err(ModelError::Unsupported {
            spec: path.display().to_string(),
            why: format!(
                "model_type {other:?}; supported: gpt2, gpt_neox, llama (safetensors) and GGUF files of the Llama family"
            ),
        }),
    }
}

fn require(dir: &Path, file: &str, why: &str) -> Result<PathBuf> {
    let p = dir.join(file);
    if p.is_file() {
        Ok(p)
    } else {
        Err(ModelError::MissingFile { dir: dir.to_path_buf(), file: file.into(), why: why.into() })
    }
}

fn files_with_ext(dir: &Path, ext: &str) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).map_err(|e| ModelError::io(dir, e))? {
        let p = e.map_err(|e| ModelError::io(dir, e))?.path();
        if p.extension().is_some_and(|x| x.eq_ignore_ascii_case(ext)) {
            out.push(p);
        }
    }
    out.sort();
    Ok(out)
}

/// The safetensors `weights` as f32 tensors on `device`, memory-mapped.
pub(crate) fn map_weights(weights: &[PathBuf], device: &Device) -> Result<VarBuilder<'static>> {
    // SAFETY: the files are memory-mapped read-only; recital does not modify
    // model files while they are in use.
    unsafe { VarBuilder::from_mmaped_safetensors(weights, DType::F32, device) }
        .map_err(|e| ModelError::BadFile { path: weights[0].clone(), why: e.to_string() })
}

/// SHA-256 of weights: the whole files when together under 256 MiB, else
/// each file's size and first and last MiB (stated in the report).
pub(crate) fn weights_digest(files: &[PathBuf]) -> Result<(String, String)> {
    use sha2::{Digest, Sha256};
    use std::io::{Read, Seek, SeekFrom};
    let total: u64 = files.iter().map(|f| f.metadata().map(|m| m.len()).unwrap_or(0)).sum();
    let mut h = Sha256::new();
    let full = total <= 256 << 20;
    for f in files {
        let mut file = std::fs::File::open(f).map_err(|e| ModelError::io(f, e))?;
        let len = file.metadata().map_err(|e| ModelError::io(f, e))?.len();
        if full {
            let mut buf = vec![0u8; 1 << 20];
            loop {
                let n = file.read(&mut buf).map_err(|e| ModelError::io(f, e))?;
                if n == 0 {
                    break;
                }
                h.update(&buf[..n]);
            }
        } else {
            h.update(len.to_le_bytes());
            let mut buf = vec![0u8; (1 << 20).min(len as usize)];
            file.read_exact(&mut buf).map_err(|e| ModelError::io(f, e))?;
            h.update(&buf);
            file.seek(SeekFrom::Start(len - buf.len() as u64)).map_err(|e| ModelError::io(f, e))?;
            file.read_exact(&mut buf).map_err(|e| ModelError::io(f, e))?;
            h.update(&buf);
        }
    }
    let kind = if full {
        "sha256 of the weight files"
    } else {
        "sha256 of each weight file's size, first MiB and last MiB"
    };
    Ok((hex::encode(h.finalize()), kind.into()))
}

/// Scores rows of logits: row `i` predicts `targets[i]`.
fn score_rows(rows: &[Vec<f32>], targets: &[u32], with_stats: bool) -> Scored {
    let log_probs = rows.iter().zip(targets).map(|(r, &t)| log_prob_from_logits(r, t)).collect();
    let stats = with_stats.then(|| rows.iter().map(|r| dist_stats_from_logits(r)).collect());
    Scored { log_probs, stats }
}

fn pick(logits: &[f32], decoding: Decoding, rng: &mut SplitMix) -> u32 {
    match decoding {
        Decoding::Greedy => argmax(logits),
        Decoding::Sample { temperature, .. } => sample_from_logits(logits, temperature, rng.next_f64()),
    }
}

fn seed_of(decoding: Decoding) -> u64 {
    match decoding {
        Decoding::Greedy => 0,
        Decoding::Sample { seed, .. } => seed,
    }
}

/// A network that returns logits for every position in one forward pass.
pub trait FullSequence: Send + Sync {
    /// Logits `[batch, time, vocab]` for ids `[batch, time]`.
    fn logits(&self, ids: &Tensor) -> candle_core::Result<Tensor>;
    /// Context length.
    fn n_positions(&self) -> usize;
    /// End-of-text id, if any.
    fn eos(&self) -> Option<u32>;
}

impl FullSequence for Gpt2 {
    fn logits(&self, ids: &Tensor) -> candle_core::Result<Tensor> {
        self.forward(ids)
    }
    fn n_positions(&self) -> usize {
        self.config().n_positions
    }
    fn eos(&self) -> Option<u32> {
        self.config().eos_token_id
    }
}

impl FullSequence for GptNeox {
    fn logits(&self, ids: &Tensor) -> candle_core::Result<Tensor> {
        self.forward(ids)
    }
    fn n_positions(&self) -> usize {
        self.config().max_position_embeddings
    }
    fn eos(&self) -> Option<u32> {
        self.config().eos_token_id
    }
}

/// A full-sequence network with its tokenizer: one forward pass scores a
/// continuation, and alternatives are batched.
pub struct FullModel<M: FullSequence> {
    model: M,
    tokenizer: ModelTokenizer,
    info: ModelInfo,
    device: Device,
}

/// A GPT-2 checkpoint with its tokenizer.
pub type Gpt2Model = FullModel<Gpt2>;

/// A GPT-NeoX (Pythia) checkpoint.
pub fn load_neox(
    dir: &Path,
    cfg: &NeoxConfig,
    weights: &[PathBuf],
    tokenizer: ModelTokenizer,
) -> Result<FullModel<GptNeox>> {
    if cfg.num_attention_heads == 0
        || !cfg.hidden_size.is_multiple_of(cfg.num_attention_heads)
        || cfg.max_position_embeddings == 0
        || cfg.vocab_size == 0
        || cfg.rotary_dims() % 2 == 1
        || cfg.rotary_dims() > cfg.head_size()
    {
        return Err(ModelError::BadFile {
            path: dir.join("config.json"),
            why: format!(
                "inconsistent GPT-NeoX shape: hidden_size {} over {} heads, {} rotary dims per head, {} positions, vocab_size {}",
                cfg.hidden_size,
                cfg.num_attention_heads,
                cfg.rotary_dims(),
                cfg.max_position_embeddings,
                cfg.vocab_size
            ),
        });
    }
    tokenizer.check_fits(cfg.vocab_size, &dir.display().to_string())?;
    let device = device();
    let vb = map_weights(weights, &device)?;
    let model = GptNeox::new(cfg, vb).map_err(|e| ModelError::BadFile {
        path: weights[0].clone(),
        why: format!("not a GPT-NeoX checkpoint matching config.json: {e}"),
    })?;
    let (digest, kind) = weights_digest(weights)?;
    let info = ModelInfo {
        source: dir.display().to_string(),
        backend: "candle-gpt-neox".into(),
        architecture: format!(
            "gpt_neox ({} layers, d={}, {} heads, rotary {} of {} dims)",
            cfg.num_hidden_layers,
            cfg.hidden_size,
            cfg.num_attention_heads,
            cfg.rotary_dims(),
            cfg.head_size()
        ),
        access: Access::FullDistribution,
        parameters: None,
        vocab_size: cfg.vocab_size,
        context_length: cfg.max_position_embeddings,
        tokenizer_sha256: Some(tokenizer.sha256().to_string()),
        weights_sha256: Some(digest),
        weights_digest_kind: Some(kind),
        device: Some(device_name(&device)),
        dtype: Some("f32".into()),
        scoring: None,
    };
    Ok(FullModel { model, tokenizer, info, device })
}

impl Gpt2Model {
    /// Loads `weights` (safetensors) with `cfg`.
    pub fn load(
        dir: &Path,
        cfg: &Gpt2Config,
        weights: &[PathBuf],
        tokenizer: ModelTokenizer,
    ) -> Result<Self> {
        if cfg.n_head == 0
            || !cfg.n_embd.is_multiple_of(cfg.n_head)
            || cfg.n_positions == 0
            || cfg.vocab_size == 0
        {
            return Err(ModelError::BadFile {
                path: dir.join("config.json"),
                why: format!(
                    "inconsistent GPT-2 shape: n_embd {} over n_head {}, n_positions {}, vocab_size {}",
                    cfg.n_embd, cfg.n_head, cfg.n_positions, cfg.vocab_size
                ),
            });
        }
        tokenizer.check_fits(cfg.vocab_size, &dir.display().to_string())?;
        let device = device();
        let vb = map_weights(weights, &device)?;
        let model = Gpt2::new(cfg, vb).map_err(|e| ModelError::BadFile {
            path: weights[0].clone(),
            why: format!("not a GPT-2 checkpoint matching config.json: {e}"),
        })?;
        let (digest, kind) = weights_digest(weights)?;
        let d = cfg.n_embd as u64;
        let params = cfg.vocab_size as u64 * d
            + cfg.n_positions as u64 * d
            + cfg.n_layer as u64 * (12 * d * d + 13 * d)
            + 2 * d;
        let info = ModelInfo {
            source: dir.display().to_string(),
            backend: "candle-gpt2".into(),
            architecture: format!("gpt2 ({} layers, d={}, {} heads)", cfg.n_layer, cfg.n_embd, cfg.n_head),
            access: Access::FullDistribution,
            parameters: Some(params),
            vocab_size: cfg.vocab_size,
            context_length: cfg.n_positions,
            tokenizer_sha256: Some(tokenizer.sha256().to_string()),
            weights_sha256: Some(digest),
            weights_digest_kind: Some(kind),
            device: Some(device_name(&device)),
            dtype: Some("f32".into()),
            scoring: None,
        };
        Ok(Self { model, tokenizer, info, device })
    }
}

impl<M: FullSequence> FullModel<M> {
    fn logits(&self, batch: &[&[u32]]) -> Result<Vec<Vec<Vec<f32>>>> {
        let t = batch[0].len();
        let flat: Vec<u32> = batch.iter().flat_map(|s| s.iter().copied()).collect();
        let ids = Tensor::from_vec(flat, (batch.len(), t), &self.device)?;
        Ok(self.model.logits(&ids)?.to_vec3::<f32>()?)
    }

    /// The window of `context ++ continuation` the model sees, and where the
    /// continuation starts in it.
    fn window(&self, context: &[u32], continuation: &[u32]) -> Result<(Vec<u32>, usize)> {
        check_ids(context, continuation, self.info.vocab_size)?;
        let max = self.model.n_positions();
        if continuation.len() >= max {
            return Err(ModelError::Invalid(format!(
                "continuation of {} tokens does not fit the model's context of {max}",
                continuation.len()
            )));
        }
        let mut seq: Vec<u32> = context.iter().chain(continuation).copied().collect();
        if seq.len() > max {
            seq.drain(..seq.len() - max);
        }
        let start = seq.len() - continuation.len();
        Ok((seq, start))
    }
}

fn check_ids(context: &[u32], continuation: &[u32], vocab: usize) -> Result<()> {
    if context.is_empty() {
        return Err(ModelError::Invalid(
            "empty context: a continuation needs at least one token before it".into(),
        ));
    }
    if let Some(&bad) = context.iter().chain(continuation).find(|&&t| t as usize >= vocab) {
        return Err(ModelError::TokenizerMismatch(format!(
            "token id {bad} is outside the model's vocabulary of {vocab}"
        )));
    }
    Ok(())
}

/// Batches of at most this many logits (`batch × time × vocab` floats).
const LOGIT_BUDGET: usize = 16 << 20;

impl<M: FullSequence> LanguageModel for FullModel<M> {
    local_model_basics!();

    fn score(&self, context: &[u32], continuation: &[u32]) -> Result<Scored> {
        Ok(self.score_batch(context, &[continuation.to_vec()], true)?.remove(0))
    }

    fn score_many(&self, context: &[u32], continuations: &[Vec<u32>]) -> Result<Vec<Scored>> {
        self.score_batch(context, continuations, false)
    }

    fn generate(&self, context: &[u32], max_tokens: usize, decoding: Decoding) -> Result<Generated> {
        self.generate_impl(context, max_tokens, decoding)
    }
}

impl<M: FullSequence> FullModel<M> {
    fn score_batch(
        &self,
        context: &[u32],
        continuations: &[Vec<u32>],
        with_stats: bool,
    ) -> Result<Vec<Scored>> {
        let mut out: Vec<Option<Scored>> = vec![None; continuations.len()];
        let mut by_len: std::collections::BTreeMap<usize, Vec<usize>> = Default::default();
        for (i, c) in continuations.iter().enumerate() {
            by_len.entry(c.len()).or_default().push(i);
        }
        for (len, idx) in by_len {
            if len == 0 {
                for i in idx {
                    out[i] = Some(Scored { log_probs: vec![], stats: with_stats.then(Vec::new) });
                }
                continue;
            }
            let windows: Vec<(Vec<u32>, usize)> =
                idx.iter().map(|&i| self.window(context, &continuations[i])).collect::<Result<_>>()?;
            let t = windows[0].0.len();
            let per_batch = (LOGIT_BUDGET / (t * self.info.vocab_size)).max(1);
            for (chunk_idx, chunk) in idx.chunks(per_batch).zip(windows.chunks(per_batch)) {
                let seqs: Vec<&[u32]> = chunk.iter().map(|(s, _)| s.as_slice()).collect();
                let logits = self.logits(&seqs)?;
                for ((&i, (seq, start)), rows) in chunk_idx.iter().zip(chunk).zip(logits) {
                    let rows = &rows[start - 1..seq.len() - 1];
                    out[i] = Some(score_rows(rows, &seq[*start..], with_stats));
                }
            }
        }
        Ok(out.into_iter().map(|s| s.unwrap_or_default()).collect())
    }

    fn generate_impl(&self, context: &[u32], max_tokens: usize, decoding: Decoding) -> Result<Generated> {
        check_ids(context, &[], self.info.vocab_size)?;
        let mut rng = SplitMix::new(seed_of(decoding));
        let mut seq = context.to_vec();
        let mut out = Generated::default();
        let max = self.model.n_positions();
        for _ in 0..max_tokens {
            let from = seq.len().saturating_sub(max);
            let logits = self.logits(&[&seq[from..]])?;
            let last = logits[0].last().ok_or_else(|| ModelError::Invalid("no logits".into()))?;
            let tok = pick(last, decoding, &mut rng);
            out.log_probs.push(log_prob_from_logits(last, tok));
            out.tokens.push(tok);
            seq.push(tok);
            if Some(tok) == self.model.eos() {
                break;
            }
        }
        Ok(out)
    }
}

/// Bans `banned` from `logits` (ids outside the vocabulary ignored).
fn mask(logits: &mut [f32], banned: &[u32]) {
    for &b in banned {
        if let Some(x) = logits.get_mut(b as usize) {
            *x = f32::NEG_INFINITY;
        }
    }
}
