//! The one trait every backend implements, and what it returns.

use serde::{Deserialize, Serialize};

use crate::error::Result;

/// What a backend lets an auditor see. Every report states it (research §11:
/// "every report must say which mode produced it"), because it decides which
/// metrics exist: Min-K%++ and exact exposure need the whole next-token
/// distribution, extraction needs only generated tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Access {
    /// White box: local weights, the full next-token distribution.
    FullDistribution,
    /// An endpoint returning the log-probability of each token: LOSS-family
    /// scores, exposure and extraction work; Min-K%++ does not (its μ and σ
    /// need the whole next-token distribution).
    TokenLogprobs,
}

impl Access {
    /// A phrase for reports.
    pub fn describe(&self) -> String {
        match self {
            Access::FullDistribution => "white-box (local weights; full next-token distribution)".into(),
            Access::TokenLogprobs => "grey-box (an endpoint's log-probability of each token)".into(),
        }
    }
}

/// Identity and provenance of a loaded model: stored with every number so a
/// result can be traced to the exact model, tokenizer and decoding.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ModelInfo {
    /// The path or URL it was loaded from.
    pub source: String,
    /// Backend (`candle-gpt2`, `candle-llama`, `candle-gguf`, `openai`).
    pub backend: String,
    /// Architecture or served model name.
    pub architecture: String,
    /// What the auditor can see.
    pub access: Access,
    /// Parameters, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameters: Option<u64>,
    /// Vocabulary size.
    pub vocab_size: usize,
    /// Longest sequence the model takes.
    pub context_length: usize,
    /// SHA-256 of the tokenizer definition, when it is local.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tokenizer_sha256: Option<String>,
    /// SHA-256 of the weights file(s) — or, for large files, of their size
    /// and first and last MiB (stated in `weights_digest_kind`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weights_sha256: Option<String>,
    /// How `weights_sha256` was computed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weights_digest_kind: Option<String>,
    /// Device (`cpu`, `cuda:0`) and dtype for local models.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
    /// Numeric type of the computation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dtype: Option<String>,
    /// How continuation log-probabilities are obtained, where that is not
    /// the backend's plain one pass (an endpoint that takes only text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scoring: Option<String>,
}

/// Mean and standard deviation of `log p(z)` under the model's own next-token
/// distribution `p` at one position — the μ and σ of Min-K%++ (research §12.B).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DistStats {
    /// `E_{z∼p}[log p(z)]` (nats).
    pub mean: f64,
    /// `sqrt(Var_{z∼p}[log p(z)])`.
    pub std: f64,
}

/// Log-probabilities of a continuation given a context.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Scored {
    /// `ln p(x_i | context, x_<i)` for each continuation token.
    pub log_probs: Vec<f64>,
    /// Per position μ, σ of the full distribution (white-box only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stats: Option<Vec<DistStats>>,
}

/// How to decode.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Decoding {
    /// Argmax at each step; ties go to the lowest token id (research §11:
    /// fix greedy tie-breaking).
    Greedy,
    /// Sampling with a temperature and a seed.
    Sample {
        /// Softmax temperature (> 0).
        temperature: f64,
        /// Seed of the sampler.
        seed: u64,
    },
}

/// Generated tokens.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Generated {
    /// Token ids, at most the requested number (fewer on end-of-text).
    pub tokens: Vec<u32>,
    /// `ln p` of each generated token.
    pub log_probs: Vec<f64>,
}

/// A language model the audit can query.
///
/// Token ids are the currency: probes are cut in the model's own tokens so
/// that "50-token suffix" means what the papers mean (research §11). Backends
/// that only see text (an endpoint) map text to ids through a tokenizer of
/// their own or the server's `/tokenize`.
pub trait LanguageModel: Send + Sync {
    /// Identity and provenance.
    fn info(&self) -> &ModelInfo;

    /// Text to token ids (no special tokens added).
    fn encode(&self, text: &str) -> Result<Vec<u32>>;

    /// Token ids to text.
    fn decode(&self, tokens: &[u32]) -> Result<String>;

    /// `ln p` of every token of `continuation` after `context`.
    fn score(&self, context: &[u32], continuation: &[u32]) -> Result<Scored>;

    /// Several continuations of one context (a canary's alternatives), log-
    /// probabilities only (`stats` may be `None`: exposure does not need
    /// them, and they cost a pass over the vocabulary per token). Backends
    /// batch it where they can.
    fn score_many(&self, context: &[u32], continuations: &[Vec<u32>]) -> Result<Vec<Scored>> {
        continuations.iter().map(|c| self.score(context, c)).collect()
    }

    /// Several probes, each a context with its continuation, scored as
    /// [`Self::score`] scores one (with stats). Backends batch it where they
    /// can: a local model with a whole-sequence forward scores them in a few
    /// passes.
    fn score_probes(&self, probes: &[(&[u32], &[u32])]) -> Result<Vec<Scored>> {
        probes.iter().map(|(c, k)| self.score(c, k)).collect()
    }

    /// Decodes up to `max_tokens` after `context`.
    fn generate(&self, context: &[u32], max_tokens: usize, decoding: Decoding) -> Result<Generated>;

    /// [`Self::generate`] with a [`DecodeHook`] asked at every step: its
    /// banned tokens are masked, and it may take tokens back. Only backends
    /// that hold the logits can do this; an endpoint answers `Unsupported`.
    fn generate_guarded(
        &self,
        context: &[u32],
        max_tokens: usize,
        decoding: Decoding,
        hook: &mut dyn DecodeHook,
    ) -> Result<Generated> {
        let _ = (context, max_tokens, decoding, hook);
        Err(crate::ModelError::Unsupported {
            spec: self.info().source.clone(),
            why: "this backend does not expose its logits at each step; guard a local model".into(),
        })
    }
}

/// What a generation loop asks of a decode-time guard at each step
/// (`recital-guard`'s session, adapted by the binary): this crate knows no
/// index or policy.
pub trait DecodeHook {
    /// Token ids that must not come next.
    fn banned(&mut self) -> Vec<u32>;
    /// After masking `banned()`, which held `banned_mass` of the
    /// probability: `None` to sample, or how many generated tokens to keep
    /// (the hook has taken back the rest; the loop rewinds the model).
    fn advise(&mut self, banned_mass: f64) -> Option<usize>;
    /// The token the loop emitted.
    fn push(&mut self, token: u32);
}

/// Softmax mass of `banned` under `logits`.
pub fn banned_mass(logits: &[f32], banned: &[u32]) -> f64 {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
    let total: f64 = logits.iter().map(|&x| (x as f64 - max).exp()).sum();
    let hit: f64 =
        banned.iter().filter_map(|&b| logits.get(b as usize)).map(|&x| (x as f64 - max).exp()).sum();
    if total > 0.0 {
        hit / total
    } else {
        0.0
    }
}

/// μ and σ of `log p` over one row of logits, computed in f64 with a
/// max-shifted log-sum-exp.
pub fn dist_stats_from_logits(logits: &[f32]) -> DistStats {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
    let z: f64 = logits.iter().map(|&l| ((l as f64) - max).exp()).sum();
    let lse = max + z.ln();
    let (mut m1, mut m2) = (0.0, 0.0);
    for &l in logits {
        let lp = l as f64 - lse;
        let p = lp.exp();
        m1 += p * lp;
        m2 += p * lp * lp;
    }
    DistStats { mean: m1, std: (m2 - m1 * m1).max(0.0).sqrt() }
}

/// `ln softmax(logits)[token]`, in f64.
pub fn log_prob_from_logits(logits: &[f32], token: u32) -> f64 {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
    let z: f64 = logits.iter().map(|&l| ((l as f64) - max).exp()).sum();
    logits.get(token as usize).map_or(f64::NEG_INFINITY, |&l| l as f64 - max - z.ln())
}

/// Argmax with ties to the lowest id.
pub fn argmax(logits: &[f32]) -> u32 {
    let mut best = 0usize;
    for (i, &l) in logits.iter().enumerate() {
        if l > logits[best] {
            best = i;
        }
    }
    best as u32
}

/// Draws from `softmax(logits / temperature)` with a uniform `u ∈ [0, 1)`.
pub fn sample_from_logits(logits: &[f32], temperature: f64, u: f64) -> u32 {
    let t = temperature.max(1e-6);
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
    let w: Vec<f64> = logits.iter().map(|&l| ((l as f64 - max) / t).exp()).collect();
    let total: f64 = w.iter().sum();
    let mut acc = 0.0;
    let target = u * total;
    for (i, x) in w.iter().enumerate() {
        acc += x;
        if acc > target {
            return i as u32;
        }
    }
    (w.len().saturating_sub(1)) as u32
}

/// A small deterministic generator for sampling (SplitMix64).
#[derive(Debug, Clone)]
pub struct SplitMix(u64);

impl SplitMix {
    /// Seeded.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// Uniform in `[0, 1)`.
    pub fn next_f64(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_of_uniform_distribution() {
        let s = dist_stats_from_logits(&[0.0; 4]);
        assert!((s.mean - (0.25f64).ln()).abs() < 1e-12);
        assert!(s.std < 1e-9);
        assert!((log_prob_from_logits(&[0.0; 4], 2) - (0.25f64).ln()).abs() < 1e-12);
    }

    #[test]
    fn stats_by_hand() {
        // p = (0.5, 0.25, 0.25): E[log p] = 0.5 ln .5 + .5 ln .25
        let l = [(0.5f32).ln(), (0.25f32).ln(), (0.25f32).ln()];
        let s = dist_stats_from_logits(&l);
        let m = 0.5 * 0.5f64.ln() + 0.5 * 0.25f64.ln();
        let v = 0.5 * 0.5f64.ln().powi(2) + 0.5 * 0.25f64.ln().powi(2) - m * m;
        assert!((s.mean - m).abs() < 1e-6);
        assert!((s.std - v.sqrt()).abs() < 1e-6);
    }

    #[test]
    fn argmax_ties_go_low() {
        assert_eq!(argmax(&[1.0, 3.0, 3.0, 0.0]), 1);
    }

    #[test]
    fn sampling_follows_weights() {
        let mut r = SplitMix::new(7);
        let mut counts = [0usize; 2];
        for _ in 0..10_000 {
            counts[sample_from_logits(&[0.0, (3.0f32).ln()], 1.0, r.next_f64()) as usize] += 1;
        }
        let frac = counts[1] as f64 / 10_000.0;
        assert!((frac - 0.75).abs() < 0.02, "{frac}");
    }
}
