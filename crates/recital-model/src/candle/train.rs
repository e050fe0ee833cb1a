//! Training a small GPT-2 from scratch on CPU: the canary lab's model
//! (research §10), saved as a Hugging Face GPT-2 directory
//! (`config.json`, `model.safetensors`, `tokenizer.json`) that the audit then
//! loads like any checkpoint.
//!
//! Deterministic for a seed: weights are initialised and windows shuffled by
//! our own seeded generator (candle's `randn` draws from a thread RNG), and
//! the computation is f32 on one device. Pin `RAYON_NUM_THREADS` for
//! repeatable timing (research §10, pitfall 2).

use std::path::Path;
use std::time::Instant;

use candle_core::{DType, Tensor};
use candle_nn::{AdamW, Optimizer, ParamsAdamW, VarBuilder, VarMap};
use serde::{Deserialize, Serialize};

use super::device;
use super::gpt2::{Gpt2, Gpt2Config};
use crate::error::{ModelError, Result};
use crate::model::SplitMix;

/// Training hyper-parameters.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Passes over the data.
    pub epochs: usize,
    /// Windows per step.
    pub batch_size: usize,
    /// Tokens per window (≤ the model's context).
    pub window: usize,
    /// Peak learning rate (AdamW).
    pub learning_rate: f64,
    /// Linear warm-up steps.
    pub warmup_steps: usize,
    /// Final learning rate as a fraction of the peak (cosine decay).
    pub final_lr_fraction: f64,
    /// AdamW weight decay.
    pub weight_decay: f64,
    /// Seed of initialisation and shuffling.
    pub seed: u64,
}

impl Default for TrainConfig {
    /// The research §10 pilot: batch 64 × 16, AdamW 3e-3, 100 warm-up steps,
    /// cosine decay to 10 %.
    fn default() -> Self {
        Self {
            epochs: 10,
            batch_size: 64,
            window: 16,
            learning_rate: 3e-3,
            warmup_steps: 100,
            final_lr_fraction: 0.1,
            weight_decay: 0.01,
            seed: 0,
        }
    }
}

/// What a training run did.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrainReport {
    /// Optimiser steps.
    pub steps: usize,
    /// Mean training loss (nats/token) of each epoch.
    pub epoch_loss: Vec<f64>,
    /// Wall time.
    pub seconds: f64,
    /// Parameters.
    pub parameters: usize,
}

/// A model being trained.
pub struct Trainer {
    varmap: VarMap,
    model: Gpt2,
    cfg: Gpt2Config,
    opt: AdamW,
    tc: TrainConfig,
    rng: SplitMix,
    step: usize,
    total_steps: usize,
    epoch_loss: Vec<f64>,
    started: Instant,
}

fn normal(rng: &mut SplitMix) -> f32 {
    // Box–Muller.
    let u1 = rng.next_f64().max(1e-300);
    let u2 = rng.next_f64();
    ((-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()) as f32
}

impl Trainer {
    /// A freshly initialised model (GPT-2 initialisation: N(0, 0.02)
    /// weights, residual projections scaled by 1/√(2·layers)).
    pub fn new(cfg: &Gpt2Config, tc: TrainConfig, tokens_per_epoch: usize) -> Result<Self> {
        if tc.window > cfg.n_positions
            || tc.window < 2
            || tc.batch_size == 0
            || cfg.n_head == 0
            || !cfg.n_embd.is_multiple_of(cfg.n_head)
        {
            return Err(ModelError::Invalid(format!(
                "bad training shape: window {} (context {}), batch {}, d={} heads={}",
                tc.window, cfg.n_positions, tc.batch_size, cfg.n_embd, cfg.n_head
            )));
        }
        let dev = device();
        let varmap = VarMap::new();
        let vb = VarBuilder::from_varmap(&varmap, DType::F32, &dev);
        let model = Gpt2::new(cfg, vb)?;
        let mut rng = SplitMix::new(tc.seed ^ 0x5EED);
        let mut vars: Vec<(String, candle_core::Var)> = varmap
            .data()
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        vars.sort_by(|a, b| a.0.cmp(&b.0));
        let resid = 0.02 / (2.0 * cfg.n_layer as f32).sqrt();
        for (name, var) in &vars {
            let n = var.elem_count();
            let values: Vec<f32> = if name.contains("ln_") {
                vec![if name.ends_with("weight") { 1.0 } else { 0.0 }; n]
            } else if name.ends_with("bias") {
                vec![0.0; n]
            } else {
                let std = if name.ends_with("c_proj.weight") {
                    resid
                } else if name.starts_with("wpe") {
                    0.01
                } else {
                    0.02
                };
                (0..n).map(|_| normal(&mut rng) * std).collect()
            };
            var.set(&Tensor::from_vec(values, var.shape(), &dev)?)?;
        }
        let params = ParamsAdamW {
            lr: tc.learning_rate,
            beta1: 0.9,
            beta2: 0.95,
            eps: 1e-8,
            weight_decay: tc.weight_decay,
        };
        let opt = AdamW::new(varmap.all_vars(), params)?;
        let windows = tokens_per_epoch.saturating_sub(1) / tc.window;
        let total_steps = tc.epochs * windows.div_ceil(tc.batch_size);
        Ok(Self {
            varmap,
            model,
            cfg: cfg.clone(),
            opt,
            rng,
            tc,
            step: 0,
            total_steps,
            epoch_loss: vec![],
            started: Instant::now(),
        })
    }

    fn learning_rate(&self) -> f64 {
        let tc = &self.tc;
        if self.step < tc.warmup_steps {
            return tc.learning_rate * (self.step + 1) as f64 / tc.warmup_steps as f64;
        }
        let span = self.total_steps.saturating_sub(tc.warmup_steps).max(1) as f64;
        let t = ((self.step - tc.warmup_steps) as f64 / span).min(1.0);
        let lo = tc.learning_rate * tc.final_lr_fraction;
        lo + 0.5 * (tc.learning_rate - lo) * (1.0 + (std::f64::consts::PI * t).cos())
    }

    /// One epoch over `tokens`: windows of `window + 1` tokens starting
    /// every `window` tokens (so each next-token pair is trained once per
    /// epoch), shuffled. Returns the epoch's mean loss.
    pub fn epoch(&mut self, tokens: &[u32], mut on_step: impl FnMut(usize, usize, f64)) -> Result<f64> {
        let w = self.tc.window;
        if let Some(&bad) = tokens.iter().find(|&&t| t as usize >= self.cfg.vocab_size) {
            return Err(ModelError::Invalid(format!(
                "token {bad} outside the vocabulary of {}",
                self.cfg.vocab_size
            )));
        }
        let mut starts: Vec<usize> = (0..tokens.len().saturating_sub(1) / w).map(|i| i * w).collect();
        if starts.is_empty() {
            return Err(ModelError::Invalid(format!(
                "{} tokens are too few for windows of {w}",
                tokens.len()
            )));
        }
        for i in (1..starts.len()).rev() {
            let j = (self.rng.next_f64() * (i + 1) as f64) as usize;
            starts.swap(i, j.min(i));
        }
        let dev = device();
        let (mut sum, mut n) = (0.0, 0usize);
        for batch in starts.chunks(self.tc.batch_size) {
            let mut inp = Vec::with_capacity(batch.len() * w);
            let mut tgt = Vec::with_capacity(batch.len() * w);
            for &s in batch {
                inp.extend_from_slice(&tokens[s..s + w]);
                tgt.extend_from_slice(&tokens[s + 1..s + w + 1]);
            }
            let inp = Tensor::from_vec(inp, (batch.len(), w), &dev)?;
            let tgt = Tensor::from_vec(tgt, batch.len() * w, &dev)?;
            let logits = self.model.forward(&inp)?;
            let loss = candle_nn::loss::cross_entropy(
                &logits.reshape((batch.len() * w, self.cfg.vocab_size))?,
                &tgt,
            )?;
            self.opt.set_learning_rate(self.learning_rate());
            self.opt.backward_step(&loss)?;
            let l = loss.to_scalar::<f32>()? as f64;
            if !l.is_finite() {
                return Err(ModelError::Invalid(format!(
                    "training diverged at step {} (loss {l})",
                    self.step
                )));
            }
            sum += l;
            n += 1;
            self.step += 1;
            on_step(self.step, self.total_steps, l);
        }
        let mean = sum / n as f64;
        self.epoch_loss.push(mean);
        Ok(mean)
    }

    /// Writes `config.json`, `model.safetensors` and `tokenizer.json` into
    /// `dir` (created), each under a temporary name first.
    pub fn save(&self, dir: &Path, tokenizer_json: &str) -> Result<()> {
        std::fs::create_dir_all(dir).map_err(|e| ModelError::io(dir, e))?;
        let write = |name: &str, bytes: &[u8]| -> Result<()> {
            let tmp = dir.join(format!(".{name}.tmp"));
            std::fs::write(&tmp, bytes).map_err(|e| ModelError::io(&tmp, e))?;
            std::fs::rename(&tmp, dir.join(name)).map_err(|e| ModelError::io(dir.join(name), e))
        };
        let cfg = serde_json::to_vec_pretty(&self.cfg).map_err(|e| ModelError::Invalid(e.to_string()))?;
        write("config.json", &cfg)?;
        write("tokenizer.json", tokenizer_json.as_bytes())?;
        let tmp = dir.join(".model.safetensors.tmp");
        self.varmap.save(&tmp)?;
        std::fs::rename(&tmp, dir.join("model.safetensors")).map_err(|e| ModelError::io(dir, e))?;
        Ok(())
    }

    /// What the run did so far.
    pub fn report(&self) -> TrainReport {
        TrainReport {
            steps: self.step,
            epoch_loss: self.epoch_loss.clone(),
            seconds: self.started.elapsed().as_secs_f64(),
            parameters: self.varmap.all_vars().iter().map(|v| v.elem_count()).sum(),
        }
    }
}
