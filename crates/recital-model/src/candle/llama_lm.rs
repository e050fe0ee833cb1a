//! A [`LlamaNet`] with its tokenizer behind [`LanguageModel`], for both
//! weight sources (safetensors and GGUF).
//!
//! Scoring runs whole sequences: a probe (context + continuation) is one
//! forward pass over all positions, and several probes share a pass,
//! right-padded to the longest (causal attention keeps the padding from
//! reaching the positions that are read). Generation keeps a KV cache; when
//! a decode-time guard takes tokens back, the cache is cut back to them
//! rather than rebuilt.

use candle_core::{Device, IndexOp, Tensor};

use super::llama_net::{KvCache, LlamaNet};
use super::{check_ids, mask, pick, score_rows, seed_of};
use crate::error::{ModelError, Result};
use crate::model::{
    banned_mass, log_prob_from_logits, DecodeHook, Decoding, Generated, LanguageModel, ModelInfo, Scored,
    SplitMix,
};
use crate::tokenizer::ModelTokenizer;

/// At most this many token positions per forward pass (activations grow with it).
const TOKENS_PER_PASS: usize = 2048;
/// At most this many logits (`rows × vocab` floats) per pass.
const LOGIT_BUDGET: usize = 16 << 20;
/// At most this many attention weights (`batch × heads × time²`) per pass.
const ATTENTION_BUDGET: usize = 1 << 26;

/// A Llama-family model with its tokenizer.
pub(crate) struct LlamaModel {
    net: LlamaNet,
    tokenizer: ModelTokenizer,
    info: ModelInfo,
    eos: Vec<u32>,
    device: Device,
}

/// One probe cut to the model's context: `seq = context ++ continuation`,
/// the continuation starting at `start`; `index` is its place in the request.
struct Window {
    index: usize,
    seq: Vec<u32>,
    start: usize,
}

/// A decode hook that never intervenes (plain generation).
struct NoHook;

impl DecodeHook for NoHook {
    fn banned(&mut self) -> Vec<u32> {
        Vec::new()
    }
    fn advise(&mut self, _: f64) -> Option<usize> {
        None
    }
    fn push(&mut self, _: u32) {}
}

impl LlamaModel {
    pub(crate) fn new(
        net: LlamaNet,
        tokenizer: ModelTokenizer,
        info: ModelInfo,
        eos: Vec<u32>,
        device: Device,
    ) -> Self {
        Self { net, tokenizer, info, eos, device }
    }

    /// The end of `context` that leaves room for `extra` tokens.
    fn fit_context<'a>(&self, context: &'a [u32], extra: usize) -> Result<&'a [u32]> {
        let max = self.info.context_length.min(self.net.shape().max_positions);
        if extra >= max {
            return Err(ModelError::Invalid(format!(
                "{extra} tokens do not fit the model's context of {max}"
            )));
        }
        Ok(&context[context.len().saturating_sub(max - extra)..])
    }

    /// Scores `probes` (context, continuation) in as few passes as the
    /// budgets allow; probes of similar length share a pass.
    fn score_batch(&self, probes: &[(&[u32], &[u32])], with_stats: bool) -> Result<Vec<Scored>> {
        let mut out: Vec<Scored> = vec![Scored::default(); probes.len()];
        let mut windows = Vec::with_capacity(probes.len());
        for (index, &(context, continuation)) in probes.iter().enumerate() {
            check_ids(context, continuation, self.info.vocab_size)?;
            if continuation.is_empty() {
                out[index] = Scored { log_probs: vec![], stats: with_stats.then(Vec::new) };
                continue;
            }
            let context = self.fit_context(context, continuation.len())?;
            let seq: Vec<u32> = context.iter().chain(continuation).copied().collect();
            windows.push(Window { index, seq, start: context.len() });
        }
        windows.sort_by_key(|w| w.seq.len());
        let mut rest = windows.as_slice();
        while !rest.is_empty() {
            let n = self.pass_size(rest);
            let rows = self.pass(&rest[..n])?;
            for (w, rows) in rest[..n].iter().zip(rows) {
                out[w.index] = score_rows(&rows, &w.seq[w.start..], with_stats);
            }
            rest = &rest[n..];
        }
        Ok(out)
    }

    /// How many of `windows` (sorted by length) the next pass takes: at
    /// least one, and as many more as fit the budgets.
    fn pass_size(&self, windows: &[Window]) -> usize {
        let heads = self.net.shape().heads;
        let vocab = self.info.vocab_size;
        let mut rows = 0;
        for (n, w) in windows.iter().enumerate() {
            let (b, t) = (n + 1, w.seq.len());
            rows += t - w.start;
            if n > 0
                && (b * t > TOKENS_PER_PASS
                    || rows * vocab > LOGIT_BUDGET
                    || b * heads * t * t > ATTENTION_BUDGET)
            {
                return n;
            }
        }
        windows.len()
    }

    /// One forward pass over `windows`, right-padded: the logit rows that
    /// predict each window's continuation.
    fn pass(&self, windows: &[Window]) -> Result<Vec<Vec<Vec<f32>>>> {
        let t = windows.iter().map(|w| w.seq.len()).max().unwrap_or(0);
        let mut flat = Vec::with_capacity(windows.len() * t);
        for w in windows {
            flat.extend_from_slice(&w.seq);
            flat.resize(flat.len() + t - w.seq.len(), 0);
        }
        let ids = Tensor::from_vec(flat, (windows.len(), t), &self.device)?;
        let hidden = self.net.hidden(&ids, None)?;
        // Only the rows that predict a continuation token go through the
        // (vocabulary-wide) output projection.
        let picked: Vec<Tensor> = windows
            .iter()
            .enumerate()
            .map(|(r, w)| hidden.i(r)?.narrow(0, w.start - 1, w.seq.len() - w.start))
            .collect::<candle_core::Result<_>>()?;
        let logits = self.net.logits(&Tensor::cat(&picked, 0)?)?.to_vec2::<f32>()?;
        let mut logits = logits.into_iter();
        Ok(windows.iter().map(|w| logits.by_ref().take(w.seq.len() - w.start).collect()).collect())
    }

    /// Feeds `tokens` after the cache's positions: the logits after the last.
    fn step(&self, cache: &mut KvCache, tokens: &[u32]) -> Result<Vec<f32>> {
        let ids = Tensor::new(tokens, &self.device)?.unsqueeze(0)?;
        let hidden = self.net.hidden(&ids, Some(cache))?;
        let last = hidden.i((.., tokens.len() - 1, ..))?;
        Ok(self.net.logits(&last)?.squeeze(0)?.to_vec1()?)
    }

    /// Keeps the first `keep` generated tokens: the cache is cut to just
    /// before the last kept token, which is fed again for its logits.
    fn rewind(
        &self,
        cache: &mut KvCache,
        context: &[u32],
        out: &mut Generated,
        keep: usize,
    ) -> Result<Vec<f32>> {
        let keep = keep.min(out.tokens.len());
        out.tokens.truncate(keep);
        out.log_probs.truncate(keep);
        let last = out.tokens.last().or(context.last()).copied().unwrap_or_default();
        cache.truncate(context.len() + keep - 1)?;
        debug_assert_eq!(cache.len(), context.len() + keep - 1);
        self.step(cache, &[last])
    }
}

impl LanguageModel for LlamaModel {
    local_model_basics!();

    fn score(&self, context: &[u32], continuation: &[u32]) -> Result<Scored> {
        Ok(self.score_batch(&[(context, continuation)], true)?.remove(0))
    }

    fn score_many(&self, context: &[u32], continuations: &[Vec<u32>]) -> Result<Vec<Scored>> {
        let probes: Vec<(&[u32], &[u32])> = continuations.iter().map(|c| (context, c.as_slice())).collect();
        self.score_batch(&probes, false)
    }

    fn score_probes(&self, probes: &[(&[u32], &[u32])]) -> Result<Vec<Scored>> {
        self.score_batch(probes, true)
    }

    fn generate(&self, context: &[u32], max_tokens: usize, decoding: Decoding) -> Result<Generated> {
        self.generate_guarded(context, max_tokens, decoding, &mut NoHook)
    }

    fn generate_guarded(
        &self,
        context: &[u32],
        max_tokens: usize,
        decoding: Decoding,
        hook: &mut dyn DecodeHook,
    ) -> Result<Generated> {
        check_ids(context, &[], self.info.vocab_size)?;
        let context = self.fit_context(context, max_tokens)?;
        let mut rng = SplitMix::new(seed_of(decoding));
        let mut out = Generated::default();
        if max_tokens == 0 {
            return Ok(out);
        }
        let mut cache = self.net.cache();
        let mut logits = self.step(&mut cache, context)?;
        while out.tokens.len() < max_tokens {
            let banned = hook.banned();
            if !banned.is_empty() {
                if let Some(keep) = hook.advise(banned_mass(&logits, &banned)) {
                    logits = self.rewind(&mut cache, context, &mut out, keep)?;
                    continue;
                }
                mask(&mut logits, &banned);
            }
            let tok = pick(&logits, decoding, &mut rng);
            out.log_probs.push(log_prob_from_logits(&logits, tok));
            out.tokens.push(tok);
            hook.push(tok);
            if self.eos.contains(&tok) || out.tokens.len() == max_tokens {
                break;
            }
            logits = self.step(&mut cache, &[tok])?;
        }
        Ok(out)
    }
}
