//! Serves a [`LanguageModel`] over the OpenAI-compatible legacy completions
//! API, with what audits need and chat-oriented servers lack: `echo` with
//! per-token `logprobs` of the prompt, prompts as token ids,
//! `return_tokens_as_token_ids`, and vLLM-style `/tokenize` and
//! `/detokenize`. `recital model serve` runs it; the audit's endpoint backend
//! is tested against it with a model trained in the test.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::model::{Decoding, LanguageModel};

#[derive(Clone)]
struct AppState {
    model: Arc<dyn LanguageModel>,
    name: String,
}

/// The router for `model`, served under the name `name`.
pub fn router(model: Arc<dyn LanguageModel>, name: String) -> Router {
    Router::new()
        .route("/v1/models", get(models))
        .route("/v1/completions", post(completions))
        .route("/tokenize", post(tokenize))
        .route("/detokenize", post(detokenize))
        .with_state(AppState { model, name })
}

/// Serves until `shutdown` resolves.
pub async fn serve(
    model: Arc<dyn LanguageModel>,
    name: String,
    addr: SocketAddr,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    // Printed (not logged) so scripts and tests can find a port chosen by the OS.
    eprintln!("recital: serving model {name:?}, listening on http://{}", listener.local_addr()?);
    axum::serve(listener, router(model, name)).with_graceful_shutdown(shutdown).await
}

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    let body = json!({"error": {"message": message.into(), "type": "invalid_request_error", "code": null}});
    (status, Json(body)).into_response()
}

async fn models(State(s): State<AppState>) -> Json<Value> {
    let info = s.model.info();
    Json(json!({"object": "list", "data": [{
        "id": s.name, "object": "model", "owned_by": "recital",
        "max_model_len": info.context_length, "vocab_size": info.vocab_size,
    }]}))
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Prompt {
    Text(String),
    Ids(Vec<u32>),
}

#[derive(Deserialize)]
struct CompletionRequest {
    #[serde(default)]
    model: Option<String>,
    prompt: Prompt,
    #[serde(default = "sixteen")]
    max_tokens: usize,
    #[serde(default)]
    temperature: Option<f64>,
    #[serde(default)]
    seed: Option<u64>,
    #[serde(default)]
    logprobs: Option<u32>,
    #[serde(default)]
    echo: bool,
    #[serde(default)]
    return_tokens_as_token_ids: bool,
}

fn sixteen() -> usize {
    16
}

async fn completions(State(s): State<AppState>, body: axum::body::Bytes) -> Response {
    let req: CompletionRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => return error(StatusCode::BAD_REQUEST, format!("invalid request: {e}")),
    };
    if let Some(m) = &req.model {
        if m != &s.name {
            return error(
                StatusCode::NOT_FOUND,
                format!("model {m:?} is not served here (this is {:?})", s.name),
            );
        }
    }
    let model = s.model.clone();
    let name = s.name.clone();
    match tokio::task::spawn_blocking(move || complete(&*model, &name, req)).await {
        Ok(Ok(v)) => Json(v).into_response(),
        Ok(Err(e)) => error(StatusCode::BAD_REQUEST, e),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

fn complete(model: &dyn LanguageModel, name: &str, req: CompletionRequest) -> Result<Value, String> {
    let prompt = match req.prompt {
        Prompt::Ids(ids) => ids,
        Prompt::Text(t) => model.encode(&t).map_err(|e| e.to_string())?,
    };
    if prompt.is_empty() {
        return Err("empty prompt".into());
    }
    let decoding = match req.temperature {
        Some(t) if t > 0.0 => Decoding::Sample { temperature: t, seed: req.seed.unwrap_or(0) },
        _ => Decoding::Greedy,
    };
    let gen = model.generate(&prompt, req.max_tokens, decoding).map_err(|e| e.to_string())?;
    let piece = |id: u32| -> Result<String, String> {
        if req.return_tokens_as_token_ids {
            Ok(format!("token_id:{id}"))
        } else {
            model.decode(&[id]).map_err(|e| e.to_string())
        }
    };
    let mut tokens = Vec::new();
    let mut lps: Vec<Value> = Vec::new();
    let mut text = String::new();
    if req.echo {
        let scored = model.score(&prompt[..1], &prompt[1..]).map_err(|e| e.to_string())?;
        for &id in &prompt {
            tokens.push(piece(id)?);
        }
        lps.push(Value::Null);
        lps.extend(scored.log_probs.iter().map(|&x| json!(x)));
        text.push_str(&model.decode(&prompt).map_err(|e| e.to_string())?);
    }
    for (&id, &lp) in gen.tokens.iter().zip(&gen.log_probs) {
        tokens.push(piece(id)?);
        lps.push(json!(lp));
    }
    text.push_str(&model.decode(&gen.tokens).map_err(|e| e.to_string())?);
    let finish = if gen.tokens.len() < req.max_tokens { "stop" } else { "length" };
    let logprobs =
        req.logprobs.map(|_| json!({"tokens": tokens, "token_logprobs": lps, "top_logprobs": null}));
    let created =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    Ok(json!({
        "id": format!("cmpl-{created}"), "object": "text_completion", "created": created, "model": name,
        "choices": [{"index": 0, "text": text, "logprobs": logprobs, "finish_reason": finish}],
        "usage": {"prompt_tokens": prompt.len(), "completion_tokens": gen.tokens.len(),
                  "total_tokens": prompt.len() + gen.tokens.len()},
    }))
}

#[derive(Deserialize)]
struct TokenizeRequest {
    #[serde(default)]
    prompt: Option<String>,
    #[serde(default)]
    content: Option<String>,
}

async fn tokenize(State(s): State<AppState>, Json(req): Json<TokenizeRequest>) -> Response {
    let text = req.prompt.or(req.content).unwrap_or_default();
    match s.model.encode(&text) {
        Ok(ids) => {
            Json(json!({"tokens": ids, "count": ids.len(), "max_model_len": s.model.info().context_length}))
                .into_response()
        }
        Err(e) => error(StatusCode::BAD_REQUEST, e.to_string()),
    }
}

#[derive(Deserialize)]
struct DetokenizeRequest {
    tokens: Vec<u32>,
}

async fn detokenize(State(s): State<AppState>, Json(req): Json<DetokenizeRequest>) -> Response {
    match s.model.decode(&req.tokens) {
        Ok(t) => Json(json!({"prompt": t, "content": t})).into_response(),
        Err(e) => error(StatusCode::BAD_REQUEST, e.to_string()),
    }
}
