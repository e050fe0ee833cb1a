//! One request to the endpoint: retries with back-off, the on-disk cache of
//! deterministic responses, and refusals told apart from failures (a 4xx
//! answer is the server saying no, which the caller may work around).

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::error::{ModelError, Result};

/// A client for `http://` and `https://` endpoints (rustls on ring, the
/// system's CA certificates).
pub(super) fn http_client(timeout: Duration) -> reqwest::Result<reqwest::blocking::Client> {
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

/// A 4xx answer other than 429: the server understood and said no.
#[derive(Debug)]
pub(super) struct Refusal {
    pub url: String,
    pub status: u16,
    pub body: String,
}

impl Refusal {
    pub fn into_error(self) -> ModelError {
        ModelError::Endpoint { url: self.url, why: format!("HTTP {}: {}", self.status, self.body) }
    }
}

/// Where and how requests go.
pub(super) struct Http {
    pub base: String,
    pub client: reqwest::blocking::Client,
    pub api_key: Option<String>,
    pub cache_dir: Option<PathBuf>,
    pub timeout: Duration,
    pub retries: u32,
}

impl Http {
    fn cache_path(&self, path: &str, body: &Value) -> Option<PathBuf> {
        let dir = self.cache_dir.as_ref()?;
        let key = hex::encode(Sha256::digest(format!("{}{path}\n{body}", self.base).as_bytes()));
        Some(dir.join(&key[..2]).join(format!("{key}.json")))
    }

    /// One request with retries; a refusal is an error.
    pub fn request(&self, method: &str, path: &str, body: Option<&Value>, cache: bool) -> Result<Value> {
        self.attempt(method, path, body, cache)?.map_err(Refusal::into_error)
    }

    /// One request with retries on connection errors, 429 and 5xx; `cache`
    /// only for deterministic requests.
    pub fn attempt(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        cache: bool,
    ) -> Result<std::result::Result<Value, Refusal>> {
        self.attempt_with(method, path, body, cache, is_refusal)
    }

    /// As [`Http::attempt`], with the caller's rule for which answers are
    /// refusals rather than failures worth retrying.
    pub fn attempt_with(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        cache: bool,
        refused: fn(u16, &str) -> bool,
    ) -> Result<std::result::Result<Value, Refusal>> {
        let cached = match (cache, body) {
            (true, Some(b)) => self.cache_path(path, b),
            _ => None,
        };
        if let Some(v) = cached.as_deref().and_then(read_cached) {
            return Ok(Ok(v));
        }
        let url = format!("{}{path}", self.base);
        let mut attempt = 0;
        loop {
            let retry_why = match self.send(method, &url, body) {
                Ok((status, text)) if (200..300).contains(&status) => {
                    let v: Value = serde_json::from_str(&text).map_err(|e| ModelError::Endpoint {
                        url: url.clone(),
                        why: format!("response is not JSON ({e}): {}", truncate(&text)),
                    })?;
                    if let Some(p) = &cached {
                        store(p, text.as_bytes());
                    }
                    return Ok(Ok(v));
                }
                Ok((status, text)) if refused(status, &text) => {
                    return Ok(Err(Refusal { url, status, body: truncate(&text) }));
                }
                Ok((status, text)) => format!("HTTP {status}: {}", truncate(&text)),
                Err(why) => why,
            };
            if attempt >= self.retries {
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

    /// Sends once: the status and body, or why nothing came back.
    fn send(
        &self,
        method: &str,
        url: &str,
        body: Option<&Value>,
    ) -> std::result::Result<(u16, String), String> {
        let mut req = match method {
            "GET" => self.client.get(url),
            _ => self.client.post(url),
        };
        if let Some(k) = &self.api_key {
            req = req.bearer_auth(k);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        match req.send() {
            Ok(resp) => {
                let status = resp.status().as_u16();
                Ok((status, resp.text().unwrap_or_default()))
            }
            // reqwest's message hides the cause ("error sending request").
            Err(e) if e.is_timeout() => {
                Err(format!("no response within the request timeout of {:?}", self.timeout))
            }
            Err(e) => Err(e.to_string()),
        }
    }
}

/// A 4xx other than 429.
pub(super) fn is_refusal(status: u16, _body: &str) -> bool {
    status != 429 && status < 500
}

/// A refusal, or a 5xx that says the request's prompt did not validate:
/// llama-cpp-python answers a prompt of token ids with HTTP 500 and
/// "Input should be a valid string".
pub(super) fn is_prompt_refusal(status: u16, body: &str) -> bool {
    is_refusal(status, body) || (status >= 500 && body.contains("prompt") && body.contains("valid"))
}

fn read_cached(p: &Path) -> Option<Value> {
    serde_json::from_slice(&std::fs::read(p).ok()?).ok()
}

pub(super) fn truncate(s: &str) -> String {
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
