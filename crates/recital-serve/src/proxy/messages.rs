//! The Anthropic Messages API: `POST /v1/messages`, forwarded to
//! `{upstream}/v1/messages` and checked like the OpenAI dialects (same
//! policy, hold-back and audit log). Streams are [`super::messages_stream`]'s.
//!
//! An answer is a list of content blocks; each block that carries text is a
//! channel of its own, keyed by the block's index (`item`), all of choice 0:
//!
//! | block | channel | its text | streamed as |
//! |---|---|---|---|
//! | `text` | text | `text` | `text_delta.text` |
//! | `thinking` | reasoning | `thinking` | `thinking_delta.thinking` |
//! | `tool_use`, `server_tool_use`, `mcp_tool_use` | tool arguments (JSON) | `input` | `input_json_delta.partial_json` |
//!
//! A channel per block rather than one per kind because a stream's deltas
//! name their block: released text goes back into the block it came from,
//! and a block's `content_block_stop` is where its channel is complete.
//! `redacted_thinking` is encrypted and passes; so do the server tools'
//! result blocks (search results, encrypted or the tool's own data).
//!
//! A block anywhere ends the message with `stop_reason: "refusal"`, the stop
//! reason Anthropic's API gives when its own classifiers intervene, with
//! nothing of the content left (whole: `content: []`). Errors, recital's own
//! included, are in Anthropic's shape (`{"type": "error", "error": {"type",
//! "message"}}`), which its clients map to their exception classes.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use recital_filter::{ChannelId, ChannelKind, FilteredOutput, StreamFilter};

use super::messages_stream::MessagesStream;
use super::relay;
use crate::auth::Caller;
use crate::engine;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// The endpoint, as the audit log names it.
pub const ENDPOINT: &str = "/v1/messages";

/// The API version sent upstream when the client names none (the one
/// Anthropic's SDKs send).
const DEFAULT_VERSION: &str = "2023-06-01";

/// `POST /v1/messages`. The caller and body are taken as results so that
/// their rejections, too, are answered in Anthropic's error shape.
pub async fn messages(
    state: State<Arc<AppState>>,
    caller: Result<Caller, ApiError>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    handle(state, caller, query, headers, body).await.unwrap_or_else(error_response)
}

/// `POST /v1/messages/count_tokens`: counts the tokens of a request. Its
/// answer holds no model output, so it is forwarded as it is.
pub async fn count_tokens(
    State(state): State<Arc<AppState>>,
    caller: Result<Caller, ApiError>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let go = async {
        caller?;
        let body = body.map_err(body_error)?;
        let upstream = super::upstream_base(&state)?;
        let req: Value = crate::json::parse(&body)?;
        let url = with_query(super::upstream_url(&upstream, "/messages/count_tokens"), query.as_deref());
        let resp =
            super::send_upstream(&state, upstream_headers(state.http.post(url).json(&req), &headers)).await?;
        if !resp.status().is_success() {
            return Ok(upstream_error(&state, resp).await);
        }
        ApiResult::Ok(axum::Json(read_json(&state, resp).await?).into_response())
    };
    go.await.unwrap_or_else(error_response)
}

/// An upstream's whole JSON answer.
async fn read_json(state: &AppState, resp: reqwest::Response) -> ApiResult<Value> {
    let bytes = resp.bytes().await.map_err(|e| {
        state.metrics.upstream_errors.fetch_add(1, Ordering::Relaxed);
        ApiError::upstream(StatusCode::BAD_GATEWAY, format!("the upstream response broke off: {e}"))
    })?;
    serde_json::from_slice(&bytes).map_err(|e| {
        ApiError::upstream(StatusCode::BAD_GATEWAY, format!("the upstream answered invalid JSON: {e}"))
    })
}

/// The client's query string (`?beta=true` from the SDKs' beta calls), which
/// the upstream reads too.
fn with_query(url: String, query: Option<&str>) -> String {
    match query.filter(|q| !q.is_empty()) {
        Some(q) => format!("{url}?{q}"),
        None => url,
    }
}

async fn handle(
    State(state): State<Arc<AppState>>,
    caller: Result<Caller, ApiError>,
    query: Option<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let caller = caller?;
    let body = body.map_err(body_error)?;
    let upstream = super::upstream_base(&state)?;
    let req: Value = crate::json::parse(&body)?;
    validate(&req)?;
    let jurisdiction = engine::jurisdiction(&state, &headers, None, &caller.0)?;
    let context = prompt_context(&req);
    let stream = req.get("stream").and_then(Value::as_bool).unwrap_or(false);
    state.metrics.proxy_requests.fetch_add(1, Ordering::Relaxed);
    let url = with_query(super::upstream_url(&upstream, "/messages"), query.as_deref());
    let up = state.http.post(url).json(&req);
    let resp = super::send_upstream(&state, upstream_headers(up, &headers)).await?;
    if !resp.status().is_success() {
        return Ok(upstream_error(&state, resp).await);
    }
    let request_id = engine::request_id();
    if stream {
        let filter = StreamFilter::new(&*state, &jurisdiction, &context);
        return Ok(relay::stream_response(
            state,
            caller,
            request_id,
            filter,
            MessagesStream::default(),
            resp,
        ));
    }
    let call = Whole { state, caller, jurisdiction, context, request_id };
    whole(call, resp).await
}

/// What Anthropic's API requires of every request (the rest is the
/// upstream's to judge).
fn validate(req: &Value) -> ApiResult<()> {
    if !req.is_object() {
        return Err(ApiError::bad_request("invalid_request", "the request body must be a JSON object"));
    }
    if !req.get("messages").is_some_and(Value::is_array) {
        return Err(ApiError::bad_request("invalid_request", "`messages` must be an array"));
    }
    if req.get("max_tokens").and_then(Value::as_u64).is_none_or(|n| n == 0) {
        return Err(ApiError::bad_request("invalid_request", "`max_tokens` must be a positive integer"));
    }
    Ok(())
}

/// The upstream's credentials (ours, never the client's key for recital)
/// and the client's API version and beta flags, which change what the
/// upstream answers.
fn upstream_headers(mut up: reqwest::RequestBuilder, headers: &HeaderMap) -> reqwest::RequestBuilder {
    if let Ok(k) = std::env::var("RECITAL_UPSTREAM_API_KEY") {
        up = up.header("x-api-key", k);
    }
    let version = headers.get("anthropic-version").and_then(|v| v.to_str().ok()).unwrap_or(DEFAULT_VERSION);
    up = up.header("anthropic-version", version);
    if let Some(beta) = headers.get("anthropic-beta").and_then(|v| v.to_str().ok()) {
        up = up.header("anthropic-beta", beta);
    }
    up
}

/// The text the caller gave the model, which the output may repeat freely:
/// the system prompt, and every message's text, tool results and plain-text
/// documents.
fn prompt_context(req: &Value) -> String {
    let mut parts = Vec::new();
    collect_text(req.get("system"), &mut parts);
    for m in req.get("messages").and_then(Value::as_array).into_iter().flatten() {
        collect_text(m.get("content"), &mut parts);
    }
    parts.join("\n\n")
}

/// The caller-supplied text of a `content` (a string or a list of blocks).
fn collect_text(content: Option<&Value>, out: &mut Vec<String>) {
    match content {
        Some(Value::String(s)) => out.push(s.clone()),
        Some(Value::Array(blocks)) => {
            for b in blocks {
                match b.get("type").and_then(Value::as_str) {
                    Some("text") => out.extend(b.get("text").and_then(Value::as_str).map(str::to_string)),
                    Some("tool_result") => collect_text(b.get("content"), out),
                    Some("document") if b.pointer("/source/type") == Some(&json!("text")) => {
                        out.extend(b.pointer("/source/data").and_then(Value::as_str).map(str::to_string))
                    }
                    _ => {}
                }
            }
        }
        _ => {}
    }
}

/// The channel kind of a content block's `type`; `None`: the block carries
/// no text of the model's that can be read. A server tool's result (`web_fetch_tool_result`,
/// `code_execution_tool_result`, any `*_tool_result`) is judged too: the
/// provider ran the tool, and what it fetched reaches the client all the same.
pub(super) fn block_kind(block_type: &str) -> Option<ChannelKind> {
    match block_type {
        "text" => Some(ChannelKind::Text),
        "thinking" => Some(ChannelKind::Reasoning),
        "tool_use" | "server_tool_use" | "mcp_tool_use" => Some(ChannelKind::ToolArguments),
        t if t.ends_with("_tool_result") => Some(ChannelKind::ToolResult),
        _ => None,
    }
}

/// The field of a block that holds its channel's text.
pub(super) fn block_field(kind: ChannelKind) -> &'static str {
    match kind {
        ChannelKind::Reasoning => "thinking",
        ChannelKind::ToolArguments => "input",
        ChannelKind::ToolResult => "content",
        ChannelKind::Citation => "citations",
        _ => "text",
    }
}

/// Channel `kind` of block `index`.
pub(super) fn block_channel(kind: ChannelKind, index: u32) -> ChannelId {
    ChannelId { choice: 0, kind, item: index }
}

/// Whether the channel's text is a JSON document (a tool's input or
/// result, citations) rather than a string.
pub(super) fn is_json(kind: ChannelKind) -> bool {
    matches!(kind, ChannelKind::ToolArguments | ChannelKind::ToolResult | ChannelKind::Citation)
}

/// A whole block's channels and texts: its own text, and the quotations of
/// its citations. A JSON field (a tool's input or result, the citations) is
/// judged as its JSON text (string values only).
fn block_texts(index: u32, block: &Value) -> Vec<(ChannelId, String)> {
    let mut out = Vec::new();
    let Some(kind) = block.get("type").and_then(Value::as_str).and_then(block_kind) else { return out };
    let field = block.get(block_field(kind));
    let text = match kind {
        k if is_json(k) => Some(field.map_or_else(|| "{}".to_string(), Value::to_string)),
        _ => field.and_then(Value::as_str).map(str::to_string),
    };
    out.extend(text.map(|t| (block_channel(kind, index), t)));
    if let Some(c) = block.get("citations").filter(|c| c.as_array().is_some_and(|a| !a.is_empty())) {
        out.push((block_channel(ChannelKind::Citation, index), c.to_string()));
    }
    out
}

/// The explanation a refusal carries (Anthropic's `stop_details`).
pub(super) fn refusal_details(statement: &str) -> Value {
    let explanation = format!("recital withheld this answer: {statement}");
    json!({"type": "refusal", "category": null, "explanation": explanation})
}

/// One non-streamed call.
struct Whole {
    state: Arc<AppState>,
    caller: Caller,
    jurisdiction: String,
    context: String,
    request_id: String,
}

/// Non-streamed: every block judged at once, then the message rewritten.
async fn whole(call: Whole, resp: reqwest::Response) -> ApiResult<Response> {
    let Whole { state, caller, jurisdiction, context, request_id } = call;
    let mut body = read_json(&state, resp).await?;
    let blocks = body.get("content").and_then(Value::as_array).cloned().unwrap_or_default();
    let texts: Vec<(ChannelId, String)> =
        blocks.iter().enumerate().flat_map(|(i, b)| block_texts(i as u32, b)).collect();
    let st = state.clone();
    let (ctx, j) = (context, jurisdiction.clone());
    let filtered = tokio::task::spawn_blocking(move || {
        let refs: Vec<(ChannelId, &str)> = texts.iter().map(|(id, t)| (*id, t.as_str())).collect();
        recital_filter::filter_output(&*st, &refs, Some(&ctx), &j)
    })
    .await
    .map_err(|e| ApiError::internal("scan task", e))?
    .map_err(engine::api_error)?;
    rewrite(&mut body, &filtered);
    let mut ext = super::record_whole(&state, &caller, ENDPOINT, &request_id, &filtered);
    for (e, c) in ext.iter_mut().zip(filtered.flagged()) {
        // Two text blocks are two channels both named `text`: the index says which.
        e["index"] = json!(c.channel.item);
    }
    if !state.config.strict_openai {
        body["recital"] = json!({"request_id": request_id, "jurisdiction": jurisdiction, "decisions": ext});
    }
    Ok(axum::Json(body).into_response())
}

/// Writes the message back as it may be shown: redacted blocks rewritten in
/// place, or, on a block, no content at all and a refusal.
fn rewrite(body: &mut Value, filtered: &FilteredOutput) {
    if filtered.blocked(0) {
        let statement = filtered
            .flagged()
            .find(|c| c.decision.action == recital_policy::Action::Block)
            .map_or("", |c| c.decision.statement.as_str());
        body["content"] = json!([]);
        body["stop_reason"] = json!("refusal");
        body["stop_sequence"] = Value::Null;
        body["stop_details"] = refusal_details(statement);
        return;
    }
    let Some(blocks) = body.get_mut("content").and_then(Value::as_array_mut) else { return };
    for (i, block) in blocks.iter_mut().enumerate() {
        for (id, original) in block_texts(i as u32, block) {
            let Some(text) = filtered.get(id).and_then(|r| r.text.as_ref()) else { continue };
            if *text == original {
                // Untouched: the block stays exactly as the upstream wrote it
                // (a tool input is not re-parsed).
                continue;
            }
            block[block_field(id.kind)] = match id.kind {
                // The redaction markers are inside the JSON's strings, so it
                // parses; `{}` only if the filter ever broke that promise.
                k if is_json(k) => serde_json::from_str(text).unwrap_or_else(|_| json!({})),
                _ => json!(text),
            };
        }
    }
}

/// A non-success answer of the upstream, passed to the client in
/// Anthropic's error shape (as it is when the upstream already speaks it).
async fn upstream_error(state: &AppState, resp: reqwest::Response) -> Response {
    state.metrics.upstream_errors.fetch_add(1, Ordering::Relaxed);
    let status = resp.status();
    let code = StatusCode::from_u16(status.as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    let text = resp.text().await.unwrap_or_default();
    let body = match serde_json::from_str::<Value>(&text) {
        Ok(v) if v.get("type") == Some(&json!("error")) && v.get("error").is_some_and(Value::is_object) => v,
        Ok(v) if v.pointer("/error/message").is_some_and(Value::is_string) => {
            let kind = v.pointer("/error/type").and_then(Value::as_str).unwrap_or(error_type(code));
            error_body(kind, v.pointer("/error/message").and_then(Value::as_str).unwrap_or(""))
        }
        _ => {
            let head: String = text.chars().take(500).collect();
            error_body(error_type(code), &format!("upstream answered {status}: {head}"))
        }
    };
    (code, axum::Json(body)).into_response()
}

/// Anthropic's error body.
pub(super) fn error_body(kind: &str, message: &str) -> Value {
    json!({"type": "error", "error": {"type": kind, "message": message}})
}

/// Anthropic's error type for an HTTP status (the SDK's `ErrorObject`).
fn error_type(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 | 413 | 415 | 422 => "invalid_request_error",
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        429 => "rate_limit_error",
        504 => "timeout_error",
        529 => "overloaded_error",
        _ => "api_error",
    }
}

/// Recital's own error, in Anthropic's shape, with the headers it needs
/// (`retry-after` on a 429, `connection: close` on a 413) kept.
fn error_response(e: ApiError) -> Response {
    let body = error_body(error_type(e.status), &e.message);
    let status = e.status;
    let plain = e.into_response();
    let mut resp = (status, axum::Json(body)).into_response();
    for h in [header::RETRY_AFTER, header::CONNECTION] {
        if let Some(v) = plain.headers().get(&h) {
            resp.headers_mut().insert(h, v.clone());
        }
    }
    resp
}

/// A body that could not be read: too large, or cut off.
fn body_error(r: BytesRejection) -> ApiError {
    let status = r.status();
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        return ApiError::new(
            status,
            "body_too_large",
            "the request body exceeds the size limit of this server",
        );
    }
    ApiError::new(status, "invalid_body", format!("could not read the request body: {}", r.body_text()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompt_context_takes_the_system_prompt_and_every_text_the_caller_gave() {
        let req = json!({"system": [{"type": "text", "text": "Be brief."}], "max_tokens": 5, "messages": [
            {"role": "user", "content": "Quote it."},
            {"role": "user", "content": [{"type": "text", "text": "Here:"},
                {"type": "tool_result", "tool_use_id": "t", "content": [{"type": "text", "text": "result"}]},
                {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "doc"}},
                {"type": "image", "source": {"type": "base64", "data": "AAAA"}}]}]});
        assert_eq!(prompt_context(&req), "Be brief.\n\nQuote it.\n\nHere:\n\nresult\n\ndoc");
    }

    #[test]
    fn requests_need_messages_and_max_tokens() {
        assert!(validate(&json!({"messages": [], "max_tokens": 16})).is_ok());
        assert!(validate(&json!({"messages": []})).is_err());
        assert!(validate(&json!({"messages": [], "max_tokens": 0})).is_err());
        assert!(validate(&json!({"max_tokens": 16})).is_err());
        assert!(validate(&json!([])).is_err());
    }

    #[test]
    fn blocks_map_to_channels_keyed_by_their_index() {
        let text = json!({"type": "text", "text": "hi"});
        assert_eq!(block_texts(2, &text), vec![(block_channel(ChannelKind::Text, 2), "hi".to_string())]);
        let tool = json!({"type": "tool_use", "id": "t", "name": "f", "input": {"a": "b"}});
        assert_eq!(block_texts(1, &tool)[0].1, r#"{"a":"b"}"#);
        assert_eq!(block_texts(0, &json!({"type": "redacted_thinking", "data": "xyz"})), vec![]);
        // A server tool's result, and the quotations of a text's citations.
        let fetched = json!({"type": "web_fetch_tool_result", "tool_use_id": "s", "content": {"type": "web_fetch_result", "content": {"source": {"data": "page"}}}});
        let got = block_texts(3, &fetched);
        assert_eq!(got[0].0, block_channel(ChannelKind::ToolResult, 3));
        assert!(got[0].1.contains(r#""data":"page""#), "{got:?}");
        let cited =
            json!({"type": "text", "text": "t", "citations": [{"type": "char_location", "cited_text": "q"}]});
        let got = block_texts(0, &cited);
        assert_eq!(
            got.iter().map(|c| c.0.kind).collect::<Vec<_>>(),
            [ChannelKind::Text, ChannelKind::Citation]
        );
    }

    #[test]
    fn errors_take_anthropics_types() {
        assert_eq!(error_type(StatusCode::UNAUTHORIZED), "authentication_error");
        assert_eq!(error_type(StatusCode::BAD_GATEWAY), "api_error");
        let r = error_response(ApiError::bad_request("invalid_request", "no"));
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    }
}
