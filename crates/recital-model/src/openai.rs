//! Any OpenAI-compatible `/v1/completions` endpoint that returns
//! `logprobs` (vLLM, `recital model serve`; llama.cpp's server generates but
//! does not echo prompt log-probabilities, so it can run extraction only
//! when scoring is not asked for).
//!
//! Prompts are sent as token ids (the legacy completions API accepts an
//! array of integers), so the audit controls tokenisation exactly; ids come
//! from a local `tokenizer.json` when one is given, else from the server's
//! `/tokenize` and `/detokenize` (vLLM and llama.cpp shapes). Scoring uses
//! `echo: true` with `logprobs`, the log-probabilities of the prompt's own
//! tokens. Requests are retried with back-off on connection errors, 429 and
//! 5xx, and deterministic responses are cached on disk by the SHA-256 of the
//! request, so an interrupted audit replays instead of re-querying.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::error::{ModelError, Result};
use crate::model::{Access, Decoding, Generated, LanguageModel, ModelInfo, Scored};
use crate::tokenizer::ModelTokenizer;

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

/// A client for `http://` and `https://` endpoints (rustls on ring, the
/// system's CA certificates).
fn http_client(timeout: Duration) -> reqwest::Result<reqwest::blocking::Client> {
    // reqwest panics without a process-wide rustls provider. ring is
    // deprecated in rustls 0.23.48 only for lacking post-quantum key exchange;
    // aws-lc-rs would need cmake and a C toolchain. Err: one is installed.
    #[allow(deprecated)]
    let _ = rustls::crypto::ring::default_provider().install_default();
    let builder = || reqwest::blocking::Client::builder().timeout(timeout);
    // The platform verifier refuses an empty system store (a container
    // without ca-certificates); an http endpoint needs no roots, so go on.
    builder().build().or_else(|_| builder().tls_certs_only([]).build())
}

/// An OpenAI-compatible completions endpoint.
pub struct Endpoint {
    base: String,
    client: reqwest::blocking::Client,
    opts: EndpointOptions,
    model: String,
    tokenizer: Option<ModelTokenizer>,
    info: ModelInfo,
}

impl Endpoint {
    /// Connects: resolves the model name and checks that the server answers.
    pub fn connect(url: &str, opts: EndpointOptions) -> Result<Self> {
        let base = url.trim_end_matches('/').trim_end_matches("/v1").to_string();
        let client = http_client(opts.timeout)
            .map_err(|e| ModelError::Endpoint { url: base.clone(), why: e.to_string() })?;
        let tokenizer = opts.tokenizer.as_deref().map(ModelTokenizer::from_file).transpose()?;
        let mut me = Self {
            base: base.clone(),
            client,
            opts: opts.clone(),
            model: String::new(),
            tokenizer,
            info: ModelInfo {
                source: base.clone(),
                backend: "openai".into(),
                architecture: String::new(),
                access: Access::TokenLogprobs,
                parameters: None,
                vocab_size: 0,
                context_length: 0,
                tokenizer_sha256: None,
                weights_sha256: None,
                weights_digest_kind: None,
                device: None,
                dtype: None,
            },
        };
        let models = me.request("GET", "/v1/models", None, false)?;
        let data = models.get("data").and_then(|d| d.as_array()).cloned().unwrap_or_default();
        me.model = match &opts.model {
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
        let entry = data.iter().find(|m| m.get("id").and_then(|v| v.as_str()) == Some(me.model.as_str()));
        let meta = |k: &str| entry.and_then(|e| e.get(k)).and_then(|v| v.as_u64());
        me.info.architecture = me.model.clone();
        me.info.context_length = meta("max_model_len").or(meta("context_length")).unwrap_or(0) as usize;
        me.info.vocab_size = meta("vocab_size").unwrap_or(0) as usize;
        me.info.tokenizer_sha256 = me.tokenizer.as_ref().map(|t| t.sha256().to_string());
        if let (Some(t), true) = (&me.tokenizer, me.info.vocab_size > 0) {
            t.check_fits(me.info.vocab_size, url)?;
        }
        Ok(me)
    }

    fn cache_path(&self, path: &str, body: &Value) -> Option<PathBuf> {
        let dir = self.opts.cache_dir.as_ref()?;
        let key = hex::encode(Sha256::digest(format!("{}{path}\n{body}", self.base).as_bytes()));
        Some(dir.join(&key[..2]).join(format!("{key}.json")))
    }

    /// One request with retries; `cache` only for deterministic requests.
    fn request(&self, method: &str, path: &str, body: Option<&Value>, cache: bool) -> Result<Value> {
        let cached = match (cache, body) {
            (true, Some(b)) => self.cache_path(path, b),
            _ => None,
        };
        if let Some(p) = &cached {
            if let Ok(bytes) = std::fs::read(p) {
                if let Ok(v) = serde_json::from_slice(&bytes) {
                    return Ok(v);
                }
            }
        }
        let url = format!("{}{path}", self.base);
        let mut attempt = 0;
        loop {
            let mut req = match method {
                "GET" => self.client.get(&url),
                _ => self.client.post(&url),
            };
            if let Some(k) = &self.opts.api_key {
                req = req.bearer_auth(k);
            }
            if let Some(b) = body {
                req = req.json(b);
            }
            let retry_why = match req.send() {
                Ok(resp) => {
                    let status = resp.status();
                    let text = resp.text().unwrap_or_default();
                    if status.is_success() {
                        let v: Value = serde_json::from_str(&text).map_err(|e| ModelError::Endpoint {
                            url: url.clone(),
                            why: format!("response is not JSON ({e}): {}", truncate(&text)),
                        })?;
                        if let Some(p) = &cached {
                            store(p, text.as_bytes());
                        }
                        return Ok(v);
                    }
                    if status.as_u16() != 429 && !status.is_server_error() {
                        return Err(ModelError::Endpoint {
                            url,
                            why: format!("HTTP {status}: {}", truncate(&text)),
                        });
                    }
                    format!("HTTP {status}: {}", truncate(&text))
                }
                // reqwest's message hides the cause ("error sending request").
                Err(e) if e.is_timeout() => {
                    format!("no response within the request timeout of {:?}", self.opts.timeout)
                }
                Err(e) => e.to_string(),
            };
            if attempt >= self.opts.retries {
                return Err(ModelError::Endpoint {
                    url,
                    why: format!("{retry_why} (after {} attempts)", attempt + 1),
                });
            }
            tracing::warn!(%url, attempt, why = %retry_why, "retrying");
            std::thread::sleep(Duration::from_millis(250 << attempt.min(6)));
            attempt += 1;
        }
    }

    fn completion(&self, body: Value, deterministic: bool) -> Result<Value> {
        let v = self.request("POST", "/v1/completions", Some(&body), deterministic)?;
        v.get("choices").and_then(|c| c.get(0)).cloned().ok_or_else(|| ModelError::Endpoint {
            url: self.base.clone(),
            why: format!("completion without choices: {}", truncate(&v.to_string())),
        })
    }
}

fn truncate(s: &str) -> String {
    let mut end = s.len().min(300);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}

fn store(path: &Path, bytes: &[u8]) {
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let tmp = path.with_extension("tmp");
    if std::fs::write(&tmp, bytes).is_ok() {
        let _ = std::fs::rename(&tmp, path);
    }
}

fn float_list(v: Option<&Value>) -> Option<Vec<Option<f64>>> {
    Some(v?.as_array()?.iter().map(|x| x.as_f64()).collect())
}

impl LanguageModel for Endpoint {
    fn info(&self) -> &ModelInfo {
        &self.info
    }

    fn encode(&self, text: &str) -> Result<Vec<u32>> {
        if let Some(t) = &self.tokenizer {
            return t.encode(text);
        }
        let body = json!({"model": self.model, "prompt": text, "content": text, "add_special_tokens": false});
        let v = self.request("POST", "/tokenize", Some(&body), true)?;
        let toks = v.get("tokens").and_then(|t| t.as_array()).ok_or_else(|| ModelError::Endpoint {
            url: self.base.clone(),
            why: "POST /tokenize gave no `tokens`; pass the model's tokenizer.json instead".into(),
        })?;
        Ok(toks.iter().filter_map(|t| t.as_u64().map(|x| x as u32)).collect())
    }

    fn decode(&self, tokens: &[u32]) -> Result<String> {
        if let Some(t) = &self.tokenizer {
            return t.decode(tokens);
        }
        let body = json!({"model": self.model, "tokens": tokens});
        let v = self.request("POST", "/detokenize", Some(&body), true)?;
        v.get("prompt").or_else(|| v.get("content")).and_then(|s| s.as_str()).map(str::to_string).ok_or_else(
            || ModelError::Endpoint { url: self.base.clone(), why: "POST /detokenize gave no text".into() },
        )
    }

    fn score(&self, context: &[u32], continuation: &[u32]) -> Result<Scored> {
        if context.is_empty() {
            return Err(ModelError::Invalid("empty context".into()));
        }
        let prompt: Vec<u32> = context.iter().chain(continuation).copied().collect();
        let body = json!({
            "model": self.model, "prompt": prompt, "max_tokens": 1, "temperature": 0.0,
            "echo": true, "logprobs": 1,
        });
        let choice = self.completion(body, true)?;
        let lps =
            float_list(choice.get("logprobs").and_then(|l| l.get("token_logprobs"))).ok_or_else(|| {
                ModelError::NoLogprobs { url: self.base.clone(), what: "an echoed prompt".into() }
            })?;
        if lps.len() < prompt.len() {
            return Err(ModelError::NoLogprobs {
                url: self.base.clone(),
                what: format!("the prompt (echo gave {} of {} tokens)", lps.len(), prompt.len()),
            });
        }
        let log_probs = lps[context.len()..prompt.len()]
            .iter()
            .map(|x| {
                x.ok_or_else(|| ModelError::NoLogprobs {
                    url: self.base.clone(),
                    what: "a prompt token".into(),
                })
            })
            .collect::<Result<_>>()?;
        Ok(Scored { log_probs, stats: None })
    }

    fn generate(&self, context: &[u32], max_tokens: usize, decoding: Decoding) -> Result<Generated> {
        let (temperature, seed) = match decoding {
            Decoding::Greedy => (0.0, 0),
            Decoding::Sample { temperature, seed } => (temperature, seed),
        };
        let body = json!({
            "model": self.model, "prompt": context, "max_tokens": max_tokens, "temperature": temperature,
            "seed": seed, "logprobs": 1, "return_tokens_as_token_ids": true,
        });
        let choice = self.completion(body, true)?;
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
