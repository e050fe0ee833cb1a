//! Any OpenAI-compatible `/v1/completions` endpoint that returns
//! `logprobs` (vLLM, `recital model serve`, llama.cpp's Python server).
//!
//! Prompts are sent as token ids (the legacy completions API accepts an
//! array of integers), so the audit controls tokenisation exactly. A server
//! that refuses ids (llama-cpp-python's) gets the text the ids decode to,
//! and every answer is checked to have tokenised that text back into the
//! same ids (module `text`). Ids come from a local `tokenizer.json` when one is
//! given, else from the server's `/tokenize` and `/detokenize` (vLLM and
//! llama.cpp shapes) or `/extras/tokenize` (llama-cpp-python).
//!
//! Scoring uses `echo: true` with `logprobs`, the log-probabilities of the
//! prompt's own tokens. Where prompts go as text, the echo is first checked
//! against a greedy step's own log-probability: llama-cpp-python's echo is
//! shifted by one position for models without a BOS token, and is then
//! read one entry earlier, among its alternatives. Requests are
//! retried with back-off on connection errors, 429 and 5xx, and
//! deterministic responses are cached on disk by the SHA-256 of the
//! request, so an interrupted audit replays instead of re-querying.

mod http;
mod text;

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use serde_json::{json, Value};

use crate::error::{ModelError, Result};
use crate::model::{Access, Decoding, Generated, LanguageModel, ModelInfo, Scored};
use crate::tokenizer::ModelTokenizer;
use http::{truncate, Http};
use text::Scoring;

/// How to reach an endpoint.
#[derive(Debug, Clone)]
pub struct EndpointOptions {
    /// Bearer key, if the server wants one.
    pub api_key: Option<String>,
    /// The served model's name (default: the first of `GET /v1/models`).
    pub model: Option<String>,
    /// A local `tokenizer.json` matching the served model.
    pub tokenizer: Option<PathBuf>,
    /// Where responses are cached (none: no cache).
    pub cache_dir: Option<PathBuf>,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Retries after the first attempt.
    pub retries: u32,
}

impl Default for EndpointOptions {
    fn default() -> Self {
        Self {
            api_key: None,
            model: None,
            tokenizer: None,
            cache_dir: None,
            timeout: Duration::from_secs(120),
            retries: 4,
        }
    }
}

/// An OpenAI-compatible completions endpoint.
pub struct Endpoint {
    http: Http,
    model: String,
    tokenizer: Option<ModelTokenizer>,
    info: ModelInfo,
    /// Whether prompts go as text: learned from the first completion.
    text_prompts: OnceLock<bool>,
    /// How a text-prompt server's log-probabilities are read: learned on
    /// the first score.
    scoring: OnceLock<Scoring>,
    /// `info` with how scoring was done, once that is known.
    scored_info: OnceLock<ModelInfo>,
}

/// A completion's first choice and the prompt length the server counted.
struct Completion {
    choice: Value,
    prompt_tokens: Option<usize>,
}

impl Endpoint {
    /// Connects: resolves the model name and checks that the server answers.
    pub fn connect(url: &str, opts: EndpointOptions) -> Result<Self> {
        let base = url.trim_end_matches('/').trim_end_matches("/v1").to_string();
        let client = http::http_client(opts.timeout)
            .map_err(|e| ModelError::Endpoint { url: base.clone(), why: e.to_string() })?;
        let tokenizer = opts.tokenizer.as_deref().map(ModelTokenizer::from_file).transpose()?;
        let http = Http {
            base: base.clone(),
            client,
            api_key: opts.api_key.clone(),
            cache_dir: opts.cache_dir.clone(),
            timeout: opts.timeout,
            retries: opts.retries,
        };
        let models = http.request("GET", "/v1/models", None, false)?;
        let data = models.get("data").and_then(|d| d.as_array()).cloned().unwrap_or_default();
        let model = match &opts.model {
            Some(m) => m.clone(),
            None => data
                .first()
                .and_then(|m| m.get("id"))
                .and_then(|v| v.as_str())
                .map(str::to_string)
                .ok_or_else(|| ModelError::Endpoint {
                    url: base.clone(),
                    why: "GET /v1/models lists no model; pass a model name".into(),
                })?,
        };
        let entry = data.iter().find(|m| m.get("id").and_then(|v| v.as_str()) == Some(model.as_str()));
        let meta = |k: &str| entry.and_then(|e| e.get(k)).and_then(|v| v.as_u64());
        let info = ModelInfo {
            source: base.clone(),
            backend: "openai".into(),
            architecture: model.clone(),
            access: Access::TokenLogprobs,
            parameters: None,
            vocab_size: meta("vocab_size").unwrap_or(0) as usize,
            context_length: meta("max_model_len").or(meta("context_length")).unwrap_or(0) as usize,
            tokenizer_sha256: tokenizer.as_ref().map(|t| t.sha256().to_string()),
            weights_sha256: None,
            weights_digest_kind: None,
            device: None,
            dtype: None,
            scoring: None,
        };
        if let (Some(t), true) = (&tokenizer, info.vocab_size > 0) {
            t.check_fits(info.vocab_size, url)?;
        }
        Ok(Self {
            http,
            model,
            tokenizer,
            info,
            text_prompts: OnceLock::new(),
            scoring: OnceLock::new(),
            scored_info: OnceLock::new(),
        })
    }

    fn base(&self) -> &str {
        &self.http.base
    }

    /// `/v1/completions` of the prompt `ids` with the other `fields`: as ids,
    /// or as their text where the server refuses ids (learned on the first
    /// call, when a refusal of ids is retried once as text).
    fn complete(&self, ids: &[u32], fields: Value, deterministic: bool) -> Result<Completion> {
        let text = match self.text_prompts.get() {
            Some(&text) => text,
            None => {
                let as_ids =
                    self.post_completion_with(json!(ids), &fields, deterministic, http::is_prompt_refusal)?;
                let refusal = match as_ids {
                    Ok(v) => {
                        let _ = self.text_prompts.set(false);
                        return self.first_choice(v);
                    }
                    Err(r) => r,
                };
                let as_text = self.post_completion(json!(self.decode(ids)?), &fields, deterministic)?;
                let v = as_text.map_err(|r| ModelError::Endpoint {
                    url: r.url,
                    why: format!(
                        "the server refused the prompt as token ids (HTTP {}: {}) and as text (HTTP {}: {})",
                        refusal.status, refusal.body, r.status, r.body
                    ),
                })?;
                tracing::info!(url = %self.base(), why = %refusal.body, "the endpoint refuses token-id prompts; sending text");
                let _ = self.text_prompts.set(true);
                return self.first_choice(v);
            }
        };
        let prompt = if text { json!(self.decode(ids)?) } else { json!(ids) };
        let v = self.post_completion(prompt, &fields, deterministic)?.map_err(http::Refusal::into_error)?;
        self.first_choice(v)
    }

    fn post_completion(
        &self,
        prompt: Value,
        fields: &Value,
        deterministic: bool,
    ) -> Result<std::result::Result<Value, http::Refusal>> {
        self.post_completion_with(prompt, fields, deterministic, http::is_refusal)
    }

    fn post_completion_with(
        &self,
        prompt: Value,
        fields: &Value,
        deterministic: bool,
        refused: fn(u16, &str) -> bool,
    ) -> Result<std::result::Result<Value, http::Refusal>> {
        let mut body = json!({"model": self.model, "prompt": prompt});
        if let (Some(b), Some(f)) = (body.as_object_mut(), fields.as_object()) {
            b.extend(f.clone());
        }
        self.http.attempt_with("POST", "/v1/completions", Some(&body), deterministic, refused)
    }

    fn first_choice(&self, v: Value) -> Result<Completion> {
        let prompt_tokens =
            v.get("usage").and_then(|u| u.get("prompt_tokens")).and_then(|n| n.as_u64()).map(|n| n as usize);
        let choice =
            v.get("choices").and_then(|c| c.get(0)).cloned().ok_or_else(|| ModelError::Endpoint {
                url: self.base().to_string(),
                why: format!("completion without choices: {}", truncate(&v.to_string())),
            })?;
        Ok(Completion { choice, prompt_tokens })
    }

    fn sends_text(&self) -> bool {
        self.text_prompts.get() == Some(&true)
    }

    /// The ids of `text` from the server: vLLM's and llama.cpp's
    /// `/tokenize`, else llama-cpp-python's `/extras/tokenize`.
    fn server_encode(&self, text: &str) -> Result<Vec<u32>> {
        let body = json!({"model": self.model, "prompt": text, "content": text, "add_special_tokens": false});
        let v = match self.http.attempt("POST", "/tokenize", Some(&body), true)? {
            Ok(v) => v,
            Err(_) => self.extras_encode(text)?,
        };
        let toks = v.get("tokens").and_then(|t| t.as_array()).ok_or_else(|| ModelError::Endpoint {
            url: self.base().to_string(),
            why: "POST /tokenize gave no `tokens`; pass the model's tokenizer.json instead".into(),
        })?;
        Ok(toks.iter().filter_map(|t| t.as_u64().map(|x| x as u32)).collect())
    }

    /// llama-cpp-python's tokenizer adds the model's BOS where the model
    /// asks for one; what it gives for the empty text is that prefix, cut.
    fn extras_encode(&self, text: &str) -> Result<Value> {
        let tokenize =
            |s: &str| self.http.request("POST", "/extras/tokenize", Some(&json!({"input": s})), true);
        let mut v = tokenize(text)?;
        let prefix = tokenize("")?.get("tokens").and_then(|t| t.as_array()).map_or(0, |a| a.len());
        if let Some(a) = v.get_mut("tokens").and_then(|t| t.as_array_mut()) {
            a.drain(..prefix.min(a.len()));
        }
        Ok(v)
    }

    fn server_decode(&self, tokens: &[u32]) -> Result<String> {
        let body = json!({"model": self.model, "tokens": tokens});
        let v = match self.http.attempt("POST", "/detokenize", Some(&body), true)? {
            Ok(v) => v,
            Err(_) => {
                self.http.request("POST", "/extras/detokenize", Some(&json!({"tokens": tokens})), true)?
            }
        };
        v.get("prompt")
            .or_else(|| v.get("content"))
            .or_else(|| v.get("text"))
            .and_then(|s| s.as_str())
            .map(str::to_string)
            .ok_or_else(|| ModelError::Endpoint {
                url: self.base().to_string(),
                why: "POST /detokenize gave no text".into(),
            })
    }

    /// Scores by `echo`: one request, the prompt's own log-probabilities.
    fn score_by_echo(&self, context: &[u32], continuation: &[u32]) -> Result<Scored> {
        let prompt: Vec<u32> = context.iter().chain(continuation).copied().collect();
        let fields = json!({"max_tokens": 1, "temperature": 0.0, "echo": true, "logprobs": 1});
        let c = self.complete(&prompt, fields, true)?;
        let lps = echoed_logprobs(&c.choice).ok_or_else(|| ModelError::NoLogprobs {
            url: self.base().to_string(),
            what: "an echoed prompt".into(),
        })?;
        if self.sends_text() {
            self.check_echo_alignment(&prompt, &c)?;
        }
        if lps.len() < prompt.len() {
            return Err(ModelError::NoLogprobs {
                url: self.base().to_string(),
                what: format!("the prompt (echo gave {} of {} tokens)", lps.len(), prompt.len()),
            });
        }
        let log_probs = lps[context.len()..prompt.len()]
            .iter()
            .map(|x| {
                x.ok_or_else(|| ModelError::NoLogprobs {
                    url: self.base().to_string(),
                    what: "a prompt token".into(),
                })
            })
            .collect::<Result<_>>()?;
        Ok(Scored { log_probs, stats: None })
    }
}

fn float_list(v: Option<&Value>) -> Option<Vec<Option<f64>>> {
    Some(v?.as_array()?.iter().map(|x| x.as_f64()).collect())
}

fn echoed_logprobs(choice: &Value) -> Option<Vec<Option<f64>>> {
    float_list(choice.get("logprobs").and_then(|l| l.get("token_logprobs")))
}

impl LanguageModel for Endpoint {
    fn info(&self) -> &ModelInfo {
        self.scored_info.get().unwrap_or(&self.info)
    }

    fn encode(&self, text: &str) -> Result<Vec<u32>> {
        match &self.tokenizer {
            Some(t) => t.encode(text),
            None => self.server_encode(text),
        }
    }

    fn decode(&self, tokens: &[u32]) -> Result<String> {
        match &self.tokenizer {
            Some(t) => t.decode(tokens),
            None => self.server_decode(tokens),
        }
    }

    fn score(&self, context: &[u32], continuation: &[u32]) -> Result<Scored> {
        if context.is_empty() {
            return Err(ModelError::Invalid("empty context".into()));
        }
        if !self.sends_text() {
            let scored = self.score_by_echo(context, continuation);
            // The first request may have learned that prompts go as text:
            // then the echo is not trusted until it is checked.
            if !self.sends_text() {
                return scored;
            }
        }
        match self.scoring_method(context)? {
            Scoring::Echo => self.score_by_echo(context, continuation),
            Scoring::Shifted => self.score_shifted(context, continuation),
        }
    }

    fn generate(&self, context: &[u32], max_tokens: usize, decoding: Decoding) -> Result<Generated> {
        let (temperature, seed) = match decoding {
            Decoding::Greedy => (0.0, 0),
            Decoding::Sample { temperature, seed } => (temperature, seed),
        };
        let fields = json!({
            "max_tokens": max_tokens, "temperature": temperature,
            "seed": seed, "logprobs": 1, "return_tokens_as_token_ids": true,
        });
        let c = self.complete(context, fields, true)?;
        let choice = c.choice;
        let logprobs = choice.get("logprobs").filter(|l| !l.is_null());
        let token_strs: Option<Vec<String>> = logprobs
            .and_then(|l| l.get("tokens"))
            .and_then(|t| t.as_array())
            .map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_string)).collect());
        let ids: Option<Vec<u32>> = token_strs.as_ref().and_then(|ts| {
            ts.iter().map(|s| s.strip_prefix("token_id:").and_then(|n| n.parse().ok())).collect()
        });
        let tokens = match ids {
            Some(ids) => ids,
            None => {
                let text = choice.get("text").and_then(|t| t.as_str()).unwrap_or_default();
                self.encode(text)?
            }
        };
        let log_probs = float_list(logprobs.and_then(|l| l.get("token_logprobs")))
            .map(|v| v.into_iter().map(|x| x.unwrap_or(f64::NAN)).collect())
            .unwrap_or_default();
        Ok(Generated { tokens, log_probs })
    }
}
