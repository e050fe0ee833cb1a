//! The proxy: `POST /v1/chat/completions` and `POST /v1/completions`
//! (OpenAI), and `POST /v1/messages` (Anthropic, in `messages.rs`),
//! forwarded to `--upstream`, with every channel of
//! the answer checked before the client sees it: content, refusal,
//! reasoning, tool-call and function-call arguments, each of `n` choices,
//! and the log-probabilities that repeat them ([`openai`] says where each
//! lives). The checking, and the dialect's fields, are `recital_filter`'s;
//! this module only forwards.
//!
//! Streaming uses the hold-back pattern (`recital_filter::Guard`), per channel: text is released as soon
//! as the policy's shortest trigger can no longer complete inside it. On a
//! block the stream ends with `finish_reason: "content_filter"` and the
//! upstream request is dropped, which closes its connection (cancelling the
//! generation; the LiteLLM pitfall of leaving it running does not arise because
//! nothing keeps the upstream body alive). Citations travel in-band in a
//! `recital` field of the chunk (documented in the OpenAPI description);
//! `--strict-openai` leaves them out.

mod chat_stream;
mod messages;
mod messages_stream;
pub mod relay;
pub mod responses;
pub mod sse;

use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use recital_filter::dialect::openai::{self, Dialect};
use recital_filter::StreamFilter;
use recital_policy::{Action, Decision};

use crate::auth::Caller;
use crate::engine;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub use messages::{count_tokens as messages_count_tokens, messages};
pub use recital_filter::LOOKBACK_BYTES;

/// Which OpenAI endpoint is proxied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Chat,
    Completions,
    Responses,
}

impl Kind {
    fn path(self) -> &'static str {
        match self {
            Kind::Chat => "/chat/completions",
            Kind::Completions => "/completions",
            Kind::Responses => "/responses",
        }
    }
    fn dialect(self) -> Dialect {
        match self {
            Kind::Chat => Dialect::Chat,
            Kind::Completions => Dialect::Completions,
            Kind::Responses => Dialect::Responses,
        }
    }
    fn endpoint(self) -> &'static str {
        match self {
            Kind::Chat => "/v1/chat/completions",
            Kind::Completions => "/v1/completions",
            Kind::Responses => "/v1/responses",
        }
    }
}

/// `POST /v1/chat/completions`.
pub async fn chat(
    state: State<Arc<AppState>>,
    caller: Caller,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    handle(state, caller, headers, body, Kind::Chat).await.unwrap_or_else(IntoResponse::into_response)
}

/// `POST /v1/completions`.
pub async fn completions(
    state: State<Arc<AppState>>,
    caller: Caller,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    handle(state, caller, headers, body, Kind::Completions).await.unwrap_or_else(IntoResponse::into_response)
}

/// `POST /v1/responses`.
pub async fn responses(
    state: State<Arc<AppState>>,
    caller: Caller,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    handle(state, caller, headers, body, Kind::Responses).await.unwrap_or_else(IntoResponse::into_response)
}

/// Every text of a message's `content` (a string, or parts with `text`).
fn content_texts(content: Option<&Value>, parts: &mut Vec<String>) {
    match content {
        Some(Value::String(s)) => parts.push(s.clone()),
        Some(Value::Array(items)) => parts
            .extend(items.iter().filter_map(|it| it.get("text").and_then(Value::as_str).map(str::to_string))),
        _ => {}
    }
}

/// The text the caller gave the model, which the output may repeat freely.
fn prompt_context(kind: Kind, req: &Value) -> String {
    let mut parts: Vec<String> = Vec::new();
    match kind {
        Kind::Chat => {
            for m in req.get("messages").and_then(Value::as_array).into_iter().flatten() {
                content_texts(m.get("content"), &mut parts);
            }
        }
        Kind::Responses => {
            content_texts(req.get("instructions"), &mut parts);
            match req.get("input") {
                Some(Value::Array(items)) => {
                    items.iter().for_each(|m| content_texts(m.get("content"), &mut parts))
                }
                other => content_texts(other, &mut parts),
            }
        }
        Kind::Completions => match req.get("prompt") {
            Some(Value::String(s)) => parts.push(s.clone()),
            Some(Value::Array(items)) => {
                parts.extend(items.iter().filter_map(|v| v.as_str().map(str::to_string)))
            }
            _ => {}
        },
    }
    parts.join("\n\n")
}

/// The upstream's URL for `path` (`/chat/completions`, `/messages`): a
/// base given with or without its `/v1` works.
fn upstream_url(base: &str, path: &str) -> String {
    let base = base.trim_end_matches('/');
    if base.ends_with("/v1") {
        format!("{base}{path}")
    } else {
        format!("{base}/v1{path}")
    }
}

/// The `--upstream` base URL, or why this server cannot proxy.
fn upstream_base(state: &AppState) -> ApiResult<String> {
    state.config.upstream.clone().ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_IMPLEMENTED,
            "no_upstream",
            "this server has no upstream model server (start it with --upstream URL)",
        )
    })
}

/// Sends a request to the upstream; a failure to get an answer is a 502
/// (or 504 on a timeout) that says why.
async fn send_upstream(state: &AppState, up: reqwest::RequestBuilder) -> ApiResult<reqwest::Response> {
    up.send().await.map_err(|e| {
        state.metrics.upstream_errors.fetch_add(1, Ordering::Relaxed);
        if e.is_timeout() {
            ApiError::upstream(
                StatusCode::GATEWAY_TIMEOUT,
                format!("the upstream model server did not answer in time: {e}"),
            )
        } else {
            ApiError::upstream(
                StatusCode::BAD_GATEWAY,
                format!("cannot reach the upstream model server: {}", crate::tls::describe_request_error(&e)),
            )
        }
    })
}

async fn handle(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    headers: HeaderMap,
    body: axum::body::Bytes,
    kind: Kind,
) -> ApiResult<Response> {
    let upstream = upstream_base(&state)?;
    crate::json::require_json(&headers)?;
    let req: Value = crate::json::parse(&body)?;
    if kind == Kind::Chat && !req.get("messages").is_some_and(Value::is_array) {
        return Err(ApiError::bad_request("invalid_request", "`messages` must be an array"));
    }
    // The official clients send `"prompt": null` for a prompt given as `None`.
    if kind == Kind::Completions && req.get("prompt").is_none_or(Value::is_null) {
        return Err(ApiError::bad_request("invalid_request", "`prompt` is required"));
    }
    if kind == Kind::Responses && !req.get("input").is_some_and(|i| i.is_string() || i.is_array()) {
        return Err(ApiError::bad_request(
            "invalid_request",
            "`input` must be a string or an array of items",
        ));
    }
    let jurisdiction = engine::jurisdiction(&state, &headers, None, &caller.0)?;
    let context = prompt_context(kind, &req);
    let stream = req.get("stream").and_then(Value::as_bool).unwrap_or(false);
    state.metrics.proxy_requests.fetch_add(1, Ordering::Relaxed);
    let mut up = state.http.post(upstream_url(&upstream, kind.path())).json(&req);
    if let Ok(k) = std::env::var("RECITAL_UPSTREAM_API_KEY") {
        up = up.bearer_auth(k);
    }
    let resp = send_upstream(&state, up).await?;
    let status = resp.status();
    if !status.is_success() {
        state.metrics.upstream_errors.fetch_add(1, Ordering::Relaxed);
        let text = resp.text().await.unwrap_or_default();
        // Pass the upstream's own error through (it is the client's request that failed).
        let code = StatusCode::from_u16(status.as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
        let body: Value = serde_json::from_str(&text).unwrap_or_else(|_| {
            json!({"error": {"message": format!("upstream answered {status}: {}", text.chars().take(500).collect::<String>()), "type": "upstream_error", "code": "upstream_error"}})
        });
        return Ok((code, axum::Json(body)).into_response());
    }
    let format = match kind {
        Kind::Responses => "/text/format/type",
        _ => "/response_format/type",
    };
    let json_mode =
        matches!(req.pointer(format).and_then(Value::as_str), Some("json_object" | "json_schema"));
    let call =
        Call { state, caller, kind, jurisdiction, context, json_mode, request_id: engine::request_id() };
    if stream {
        let Call { state, caller, kind, jurisdiction, context, json_mode, request_id } = call;
        let filter = StreamFilter::new(&*state, &jurisdiction, &context);
        Ok(match kind {
            Kind::Responses => {
                let dialect = responses::ResponsesStream::new(json_mode);
                relay::stream_response(state, caller, request_id, filter, dialect, resp)
            }
            _ => {
                let dialect = chat_stream::ChatStream::new(kind == Kind::Chat, json_mode);
                relay::stream_response(state, caller, request_id, filter, dialect, resp)
            }
        })
    } else {
        unary(call, resp).await
    }
}

/// One proxied call: who asked, for which endpoint, where, with what prompt.
struct Call {
    state: Arc<AppState>,
    caller: Caller,
    kind: Kind,
    jurisdiction: String,
    /// The prompt: exempt from flagging.
    context: String,
    /// The request asked for a JSON answer (`response_format`): its content
    /// is judged as a JSON document.
    json_mode: bool,
    request_id: String,
}

/// Non-streamed: every channel of every choice checked at once, then the
/// answer rewritten.
async fn unary(call: Call, resp: reqwest::Response) -> ApiResult<Response> {
    let Call { state, caller, kind, jurisdiction, context, json_mode, request_id } = call;
    let bytes = resp.bytes().await.map_err(|e| {
        state.metrics.upstream_errors.fetch_add(1, Ordering::Relaxed);
        ApiError::upstream(StatusCode::BAD_GATEWAY, format!("the upstream response broke off: {e}"))
    })?;
    let body: Value = serde_json::from_slice(&bytes).map_err(|e| {
        ApiError::upstream(StatusCode::BAD_GATEWAY, format!("the upstream answered invalid JSON: {e}"))
    })?;
    let st = state.clone();
    let (ctx, j) = (context.clone(), jurisdiction.clone());
    let (mut body, filtered) = tokio::task::spawn_blocking(move || {
        let mut body = body;
        openai::filter_response(&*st, &mut body, kind.dialect(), json_mode, Some(&ctx), &j).map(|f| (body, f))
    })
    .await
    .map_err(|e| ApiError::internal("scan task", e))?
    .map_err(engine::api_error)?;
    let ext = record_whole(&state, &caller, kind.endpoint(), &request_id, &filtered);
    if !state.config.strict_openai {
        body["recital"] = json!({"request_id": request_id, "jurisdiction": jurisdiction, "decisions": ext});
    }
    Ok(axum::Json(body).into_response())
}

/// The audit record of a whole answer; the `recital` field's decisions.
fn record_whole(
    state: &Arc<AppState>,
    caller: &Caller,
    endpoint: &str,
    request_id: &str,
    filtered: &recital_filter::FilteredOutput,
) -> Vec<Value> {
    let decisions: Vec<recital_filter::ChannelDecision> = filtered
        .flagged()
        .map(|c| recital_filter::ChannelDecision { channel: c.channel, decision: c.decision.clone() })
        .collect();
    let bytes = filtered.channels.iter().map(|c| c.decision.spans.len()).sum::<usize>();
    record(state, caller, endpoint, request_id, bytes, &decisions);
    filtered
        .flagged()
        .map(|c| {
            json!({
                "choice": c.channel.choice,
                "channel": c.channel.to_string(),
                "action": c.decision.action,
                "annotations": c.annotations,
                "statement": c.decision.statement,
            })
        })
        .collect()
}

/// One audit record for an answer: every flagged span of every channel,
/// the most severe action, the channels named.
pub(crate) fn record(
    state: &Arc<AppState>,
    caller: &Caller,
    endpoint: &str,
    request_id: &str,
    input_bytes: usize,
    decisions: &[recital_filter::ChannelDecision],
) {
    let mut spans = Vec::new();
    let mut statements = Vec::new();
    let mut channels = Vec::new();
    let mut jurisdiction = String::new();
    for c in decisions {
        spans.extend(c.decision.spans.iter().cloned());
        statements.push(format!("[{}] {}", c.channel, c.decision.statement));
        channels.push(c.channel.to_string());
        jurisdiction = c.decision.jurisdiction.clone();
    }
    let d = Decision {
        action: decisions.iter().map(|c| c.decision.action).max().unwrap_or(Action::Allow),
        jurisdiction,
        spans,
        statement: statements.join(" "),
        policy: state.policy.name().to_string(),
    };
    engine::record(state, &caller.0, endpoint, request_id, input_bytes, &d, &channels);
}
