//! Scoring through a server that takes prompts only as text.
//!
//! Two things can go wrong that an id prompt rules out, and both are
//! checked rather than assumed:
//! - the server may tokenise the text into other ids than the probe's, so
//!   that the log-probabilities belong to other tokens: the ids must
//!   survive the round trip through text, and the server's prompt length
//!   must be theirs;
//! - the echoed prompt log-probabilities may sit one position off.
//!   llama-cpp-python (0.3) scores echoed token *i* with the logits after
//!   token *i* when the model adds no BOS token (SmolLM2, GPT-2, Qwen): its
//!   row of logits is one ahead of its list of tokens. A greedy step's own
//!   log-probability, which every server reports in place, tells the two
//!   apart: the echo of context + that token must give it the same value.
//!   Where the echo is off, entry *i* holds the distribution that predicts
//!   token *i + 1*: each continuation token is read among that entry's
//!   alternatives, or, when it is not among them, forced with `logit_bias`
//!   in a one-token generation, whose reported log-probability is the
//!   unbiased one (checked the same way). A forced prefix must tokenise
//!   back into its ids too; about 1 prefix in 400 does not (SmolLM2 on
//!   English), and its token is then nearly always among the alternatives.

use serde_json::{json, Value};

use super::{echoed_logprobs, Completion, Endpoint};
use crate::error::{ModelError, Result};
use crate::model::{LanguageModel, Scored};

/// Log-probabilities of one token agree when they differ by less than
/// this. The same weights evaluated over a batch and one token at a time
/// (a server reusing its prompt cache) disagree by more than rounding:
/// 0.052 nats for SmolLM2 Q4_1 under llama-cpp-python on one CI machine,
/// 1e-4 on another. What the checks tell apart differs by far more: an echo
/// one position off gives the greedy token a value from another
/// distribution, and a biased forced token reports about 0.
const CLOSE: f64 = 0.25;

/// Alternatives asked of the greedy step, to check forcing on a token the
/// bias moves far: the last of five has p ≤ 1/5, log p ≤ −1.6.
const CHECK_ALTERNATIVES: u32 = 5;

/// The bias that forces a token in greedy decoding.
const FORCE: f64 = 100.0;

/// Alternatives asked for per echoed token where the echo is one position
/// off: a token of the probe is read there when it is among them.
const ALTERNATIVES: u32 = 20;

/// How a text-prompt server's continuation log-probabilities are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Scoring {
    /// From the echoed prompt, one request per probe.
    Echo,
    /// From an echo one position off: each token's log-probability is
    /// read among the alternatives of the entry before it, or else from a
    /// one-token generation forced with `logit_bias`.
    Shifted,
}

impl Scoring {
    fn describe(self) -> &'static str {
        match self {
            Scoring::Echo => "text prompts (the server refuses token ids); echoed prompt log-probabilities, checked against a greedy step",
            Scoring::Shifted => "text prompts (the server refuses token ids); the server's echoed prompt log-probabilities are one position off, so each token's was read among the alternatives of the entry before it, or else from a one-token generation forced with logit_bias",
        }
    }
}

impl Endpoint {
    /// How to score on this server, learned once from `context`.
    pub(super) fn scoring_method(&self, context: &[u32]) -> Result<Scoring> {
        if let Some(s) = self.scoring.get() {
            return Ok(*s);
        }
        let s = self.calibrate(context)?;
        tracing::info!(url = %self.base(), scoring = ?s, "learned how the endpoint scores text prompts");
        let _ = self.scoring.set(s);
        let mut info = self.info.clone();
        info.scoring = Some(s.describe().to_string());
        let _ = self.scored_info.set(info);
        Ok(s)
    }

    fn calibrate(&self, context: &[u32]) -> Result<Scoring> {
        let fields = json!({"max_tokens": 1, "temperature": 0.0, "logprobs": CHECK_ALTERNATIVES});
        let step = self.complete(context, fields, true)?;
        let (g_text, lp_g) = first_generated(&step.choice).ok_or_else(|| ModelError::NoLogprobs {
            url: self.base().to_string(),
            what: "a greedy step (needed to check how it scores prompts)".into(),
        })?;
        let g = self.encode(&g_text)?;
        let prompt: Vec<u32> = context.iter().chain(&g).copied().collect();
        let fields = json!({"max_tokens": 1, "temperature": 0.0, "echo": true, "logprobs": 1});
        let echo = self.complete(&prompt, fields, true)?.choice;
        let n = context.len();
        let in_place = echoed_logprobs(&echo).and_then(|l| l.get(n).copied().flatten());
        // Off by one shows as the greedy token among the alternatives of the
        // entry before it; the nearer reading wins.
        let ahead = echo
            .pointer(&format!("/logprobs/top_logprobs/{}", n - 1))
            .and_then(|t| t.get(&g_text))
            .and_then(Value::as_f64);
        let miss = |lp: Option<f64>| lp.map_or(f64::INFINITY, |lp| (lp - lp_g).abs());
        if miss(in_place) < CLOSE && miss(in_place) <= miss(ahead) {
            return Ok(Scoring::Echo);
        }
        if miss(ahead) >= CLOSE {
            return Err(self.unexplained("its echo", in_place, lp_g, &g_text));
        }
        let (token, text, want) = self.forcing_check_token(&step.choice, &g, &g_text, lp_g)?;
        let forced = self.forced_step(context, token)?;
        if (forced - want).abs() >= CLOSE {
            return Err(self.unexplained("a token forced with logit_bias", Some(forced), want, &text));
        }
        Ok(Scoring::Shifted)
    }

    /// The token whose forced log-probability is checked against the
    /// greedy step's: the least likely of its alternatives that is one
    /// token, where the bias moves it far from its own value; else the
    /// greedy token itself.
    fn forcing_check_token(
        &self,
        step: &Value,
        g: &[u32],
        g_text: &str,
        lp_g: f64,
    ) -> Result<(u32, String, f64)> {
        let alternatives = step.pointer("/logprobs/top_logprobs/0").and_then(Value::as_object);
        let mut candidates: Vec<(String, f64)> = alternatives
            .into_iter()
            .flatten()
            .filter(|(t, _)| t.as_str() != g_text && !t.is_empty() && !t.contains('\u{FFFD}'))
            .filter_map(|(t, lp)| Some((t.clone(), lp.as_f64()?)))
            .collect();
        candidates.sort_by(|a, b| a.1.total_cmp(&b.1));
        for (text, lp) in candidates {
            if let [id] = self.encode(&text)?.as_slice() {
                return Ok((*id, text, lp));
            }
        }
        match g {
            [id] => Ok((*id, g_text.to_string(), lp_g)),
            _ => Err(ModelError::Endpoint {
                url: self.base().to_string(),
                why: format!(
                    "its echo is unusable, and its greedy token {g_text:?} is not one token of the tokenizer, so forcing cannot be checked"
                ),
            }),
        }
    }

    fn unexplained(&self, what: &str, got: Option<f64>, want: f64, token: &str) -> ModelError {
        ModelError::Endpoint {
            url: self.base().to_string(),
            why: format!(
                "{what} gives the token {token:?} log-probability {got:?}, but the greedy step gives it {want}; \
                 the audit cannot tell which token each log-probability belongs to"
            ),
        }
    }

    /// log p(`token` | `context`), from a one-token generation forced by `logit_bias`.
    fn forced_step(&self, context: &[u32], token: u32) -> Result<f64> {
        let fields = json!({
            "max_tokens": 1, "temperature": 0.0, "logprobs": 1,
            "logit_bias": {token.to_string(): FORCE},
        });
        let c = self.complete(context, fields, true)?;
        self.check_prompt_length(context.len(), c.prompt_tokens)?;
        let (text, lp) = first_generated(&c.choice).ok_or_else(|| ModelError::NoLogprobs {
            url: self.base().to_string(),
            what: "a forced token".into(),
        })?;
        let want = self.decode(&[token])?;
        if !want.contains('\u{FFFD}') && text != want {
            return Err(ModelError::Endpoint {
                url: self.base().to_string(),
                why: format!(
                    "logit_bias did not force token {token} ({want:?}): the server generated {text:?}"
                ),
            });
        }
        Ok(lp)
    }

    /// Scores `continuation` through an echo one position off: entry `i`
    /// holds the distribution that predicts token `i + 1`, so a token is
    /// found among the alternatives of the entry before it; one that is not
    /// there is forced.
    pub(super) fn score_shifted(&self, context: &[u32], continuation: &[u32]) -> Result<Scored> {
        let all: Vec<u32> = context.iter().chain(continuation).copied().collect();
        self.check_round_trip(&all)?;
        let fields = json!({"max_tokens": 1, "temperature": 0.0, "echo": true, "logprobs": ALTERNATIVES});
        let echo = self.complete(&all, fields, true)?;
        self.check_prompt_length(all.len(), echo.prompt_tokens)?;
        let log_probs = (0..continuation.len())
            .map(|j| {
                let before = context.len() + j - 1;
                match self.alternative(&echo.choice, before, continuation[j])? {
                    Some(lp) => Ok(lp),
                    None => self.forced_step(&all[..context.len() + j], continuation[j]),
                }
            })
            .collect::<Result<_>>()?;
        Ok(Scored { log_probs, stats: None })
    }

    /// `token`'s log-probability among the alternatives of echo entry
    /// `entry`, where its text names it without doubt.
    fn alternative(&self, echo: &Value, entry: usize, token: u32) -> Result<Option<f64>> {
        let piece = self.decode(&[token])?;
        if piece.is_empty() || piece.contains('\u{FFFD}') {
            return Ok(None);
        }
        let alts = echo.pointer(&format!("/logprobs/top_logprobs/{entry}"));
        Ok(alts.and_then(|a| a.get(&piece)).and_then(Value::as_f64))
    }

    /// The echo of a text prompt belongs to the probe's ids.
    pub(super) fn check_echo_alignment(&self, prompt: &[u32], c: &Completion) -> Result<()> {
        self.check_prompt_length(prompt.len(), c.prompt_tokens)?;
        self.check_round_trip(prompt)
    }

    /// The server counted the prompt as `n` tokens (or `n` and its BOS).
    pub(super) fn check_prompt_length(&self, n: usize, counted: Option<usize>) -> Result<()> {
        match counted {
            Some(k) if k != n && k != n + 1 => Err(ModelError::Endpoint {
                url: self.base().to_string(),
                why: format!(
                    "the server tokenised a prompt of {n} tokens, sent as text, into {k}; \
                     this server takes only text prompts, so the probe cannot be scored exactly"
                ),
            }),
            _ => Ok(()),
        }
    }

    /// The ids decode to a text that tokenises back into them.
    fn check_round_trip(&self, ids: &[u32]) -> Result<()> {
        let text = self.decode(ids)?;
        let back = self.encode(&text)?;
        if back == ids {
            return Ok(());
        }
        let at = back.iter().zip(ids).take_while(|(a, b)| a == b).count();
        Err(ModelError::Endpoint {
            url: self.base().to_string(),
            why: format!(
                "the probe's {} token ids do not survive the round trip through text ({} ids come back, \
                 the first difference at token {at}); this server takes only text prompts, so the probe cannot be scored exactly",
                ids.len(),
                back.len()
            ),
        })
    }
}

/// The first generated token's text and log-probability.
fn first_generated(choice: &Value) -> Option<(String, f64)> {
    let lp = choice.pointer("/logprobs/token_logprobs/0")?.as_f64()?;
    let text = match choice.pointer("/logprobs/tokens/0").and_then(Value::as_str) {
        Some(t) => t.to_string(),
        None => choice.get("text")?.as_str()?.to_string(),
    };
    (!text.is_empty()).then_some((text, lp))
}
