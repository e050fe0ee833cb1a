//! The OpenAI-compatible proxy: `POST /v1/chat/completions` and
//! `POST /v1/completions`, forwarded to `--upstream`, with every channel of
//! the answer checked before the client sees it: content, refusal,
//! reasoning, tool-call and function-call arguments, each of `n` choices,
//! and the log-probabilities that repeat them ([`openai`] says where each
//! lives). The checking is `recital_filter`'s; this module only translates.
//!
//! Streaming uses the hold-back pattern (`recital_filter::Guard`), per channel: text is released as soon
//! as the policy's shortest trigger can no longer complete inside it. On a
//! block the stream ends with `finish_reason: "content_filter"` and the
//! upstream request is dropped, which closes its connection (cancelling the
//! generation; the LiteLLM pitfall of leaving it running does not arise because
//! nothing keeps the upstream body alive). Citations travel in-band in a
//! `recital` field of the chunk (documented in the OpenAPI description);
//! `--strict-openai` leaves them out.

pub mod openai;
pub mod sse;

use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::body::Body as HttpBody;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use serde_json::{json, Value};

use recital_filter::{ChannelId, ChannelKind, Step, StreamFilter};
use recital_policy::{Action, Decision};

use crate::auth::Caller;
use crate::engine;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use sse::SseParser;

pub use recital_filter::LOOKBACK_BYTES;

/// Which OpenAI endpoint is proxied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Chat,
    Completions,
}

impl Kind {
    fn path(self) -> &'static str {
        match self {
            Kind::Chat => "/chat/completions",
            Kind::Completions => "/completions",
        }
    }
    fn endpoint(self) -> &'static str {
        match self {
            Kind::Chat => "/v1/chat/completions",
            Kind::Completions => "/v1/completions",
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

/// The text the caller gave the model, which the output may repeat freely.
fn prompt_context(kind: Kind, req: &Value) -> String {
    let mut parts: Vec<String> = Vec::new();
    match kind {
        Kind::Chat => {
            for m in req.get("messages").and_then(Value::as_array).into_iter().flatten() {
                match m.get("content") {
                    Some(Value::String(s)) => parts.push(s.clone()),
                    Some(Value::Array(items)) => {
                        for it in items {
                            if let Some(t) = it.get("text").and_then(Value::as_str) {
                                parts.push(t.to_string());
                            }
                        }
                    }
                    _ => {}
                }
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

fn upstream_url(base: &str, kind: Kind) -> String {
    let base = base.trim_end_matches('/');
    if base.ends_with("/v1") {
        format!("{base}{}", kind.path())
    } else {
        format!("{base}/v1{}", kind.path())
    }
}

async fn handle(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    headers: HeaderMap,
    body: axum::body::Bytes,
    kind: Kind,
) -> ApiResult<Response> {
    let Some(upstream) = state.config.upstream.clone() else {
        return Err(ApiError::new(
            StatusCode::NOT_IMPLEMENTED,
            "no_upstream",
            "this server has no upstream model server (start it with --upstream URL)",
        ));
    };
    let req: Value = crate::json::parse(&body)?;
    if !req.is_object() {
        return Err(ApiError::bad_request("invalid_request", "the request body must be a JSON object"));
    }
    if kind == Kind::Chat && !req.get("messages").is_some_and(Value::is_array) {
        return Err(ApiError::bad_request("invalid_request", "`messages` must be an array"));
    }
    // The official clients send `"prompt": null` for a prompt given as `None`.
    if kind == Kind::Completions && req.get("prompt").is_none_or(Value::is_null) {
        return Err(ApiError::bad_request("invalid_request", "`prompt` is required"));
    }
    let jurisdiction = engine::jurisdiction(&state, &headers, None, &caller.0)?;
    let context = prompt_context(kind, &req);
    let stream = req.get("stream").and_then(Value::as_bool).unwrap_or(false);
    state.metrics.proxy_requests.fetch_add(1, Ordering::Relaxed);
    let mut up = state.http.post(upstream_url(&upstream, kind)).json(&req);
    if let Ok(k) = std::env::var("RECITAL_UPSTREAM_API_KEY") {
        up = up.bearer_auth(k);
    }
    let resp = up.send().await.map_err(|e| {
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
    })?;
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
    let json_mode = matches!(
        req.pointer("/response_format/type").and_then(Value::as_str),
        Some("json_object" | "json_schema")
    );
    let call =
        Call { state, caller, kind, jurisdiction, context, json_mode, request_id: engine::request_id() };
    if stream {
        Ok(stream_response(call, resp))
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

/// Where each channel of a whole choice lives: `(channel, field path)`.
type ChoiceFields = Vec<(ChannelId, Vec<String>)>;

/// Non-streamed: every channel of every choice checked at once, then the
/// answer rewritten.
async fn unary(call: Call, resp: reqwest::Response) -> ApiResult<Response> {
    let Call { state, caller, kind, jurisdiction, context, json_mode, request_id } = call;
    let bytes = resp.bytes().await.map_err(|e| {
        state.metrics.upstream_errors.fetch_add(1, Ordering::Relaxed);
        ApiError::upstream(StatusCode::BAD_GATEWAY, format!("the upstream response broke off: {e}"))
    })?;
    let mut body: Value = serde_json::from_slice(&bytes).map_err(|e| {
        ApiError::upstream(StatusCode::BAD_GATEWAY, format!("the upstream answered invalid JSON: {e}"))
    })?;
    let mut fields: Vec<(u32, ChoiceFields)> = Vec::new();
    let mut texts: Vec<(ChannelId, String)> = Vec::new();
    for (pos, choice) in body.get("choices").and_then(Value::as_array).into_iter().flatten().enumerate() {
        let idx = openai::choice_index(choice, pos);
        let found = match kind {
            Kind::Chat => {
                openai::chat_channels(choice.get("message").unwrap_or(&Value::Null), idx, json_mode)
            }
            Kind::Completions => choice
                .get("text")
                .and_then(Value::as_str)
                .map(|t| (ChannelId::new(idx, ChannelKind::Text), vec!["text".to_string()], t.to_string()))
                .into_iter()
                .collect(),
        };
        fields.push((idx, found.iter().map(|(id, p, _)| (*id, p.clone())).collect()));
        texts.extend(found.into_iter().map(|(id, _, t)| (id, t)));
    }
    let st = state.clone();
    let (ctx, j) = (context.clone(), jurisdiction.clone());
    let filtered = tokio::task::spawn_blocking(move || {
        let refs: Vec<(ChannelId, &str)> = texts.iter().map(|(id, t)| (*id, t.as_str())).collect();
        recital_filter::filter_output(&*st, &refs, Some(&ctx), &j)
    })
    .await
    .map_err(|e| ApiError::internal("scan task", e))?
    .map_err(engine::api_error)?;
    let choices = body.get_mut("choices").and_then(Value::as_array_mut);
    for (pos, choice) in choices.into_iter().flatten().enumerate() {
        let idx = openai::choice_index(choice, pos);
        let f = fields.iter().find(|f| f.0 == idx).map(|f| f.1.as_slice()).unwrap_or(&[]);
        match kind {
            Kind::Chat => openai::rewrite_chat_choice(choice, idx, f, &filtered),
            Kind::Completions => openai::rewrite_completion_choice(choice, idx, &filtered),
        }
    }
    let ext = record_whole(&state, &caller, kind, &request_id, &filtered);
    if !state.config.strict_openai {
        body["recital"] = json!({"request_id": request_id, "jurisdiction": jurisdiction, "decisions": ext});
    }
    Ok(axum::Json(body).into_response())
}

/// The audit record of a whole answer; the `recital` field's decisions.
fn record_whole(
    state: &Arc<AppState>,
    caller: &Caller,
    kind: Kind,
    request_id: &str,
    filtered: &recital_filter::FilteredOutput,
) -> Vec<Value> {
    let decisions: Vec<recital_filter::ChannelDecision> = filtered
        .flagged()
        .map(|c| recital_filter::ChannelDecision { channel: c.channel, decision: c.decision.clone() })
        .collect();
    let bytes = filtered.channels.iter().map(|c| c.decision.spans.len()).sum::<usize>();
    record(state, caller, kind, request_id, bytes, &decisions);
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
fn record(
    state: &Arc<AppState>,
    caller: &Caller,
    kind: Kind,
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
    engine::record(state, &caller.0, kind.endpoint(), request_id, input_bytes, &d, &channels);
}

/// Streamed: each channel of each choice guarded, checked text released as
/// chunks.
///
/// The relay runs inside the response body: each time hyper asks the body for
/// more, the [`Pump`] reads the next upstream chunk, runs the filter on it and
/// hands back what it releases. Every token crossing two tasks (a pump task
/// and a channel) cost more than the scan on a loaded two-core machine.
/// Backpressure is the client's own: a client that reads slowly slows the
/// upstream read, and a client that goes away drops the body, the pump and
/// with it the upstream request (cancelling the generation). The audit
/// record and the metrics are written when the pump is dropped, however the
/// stream ended.
fn stream_response(call: Call, resp: reqwest::Response) -> Response {
    let Call { state, caller, kind, jurisdiction, context, json_mode, request_id } = call;
    let filter = StreamFilter::new(&*state, &jurisdiction, &context);
    let pump = Pump {
        state,
        caller,
        kind,
        json_mode,
        request_id,
        upstream: Some(Box::pin(resp.bytes_stream())),
        parser: SseParser::default(),
        out: bytes::BytesMut::new(),
        outcome: None,
        filter,
        logprobs: openai::LogprobQueues::default(),
        text_offsets: Vec::new(),
        envelope: None,
        choices: Vec::new(),
        done: Vec::new(),
    };
    let events = futures_util::stream::unfold(pump, |mut pump| async move {
        pump.fill().await;
        (!pump.out.is_empty()).then(|| (Ok::<_, std::io::Error>(pump.out.split().freeze()), pump))
    });
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "text/event-stream")
        .header(header::CACHE_CONTROL, "no-cache")
        .header("x-accel-buffering", "no")
        .body(HttpBody::from_stream(events))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

#[derive(Debug, Clone, Copy)]
enum Outcome {
    Done,
    Cancelled,
    UpstreamError,
}

/// The upstream body.
type Upstream = std::pin::Pin<Box<dyn futures_util::Stream<Item = reqwest::Result<bytes::Bytes>> + Send>>;

/// How long the rest of a finished upstream body may take to end.
const DRAIN_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(1);

/// Reads what follows `[DONE]` (the end of the chunked body, normally
/// already there) off the stream's path, so that the upstream connection
/// goes back to the client's pool: a body dropped before its end closes the
/// connection, and every stream then paid a new connection to the model
/// server (and left a socket in TIME_WAIT). An upstream that keeps the body
/// open after `[DONE]` loses the connection after [`DRAIN_TIMEOUT`].
fn drain(mut rest: Upstream) {
    tokio::spawn(async move {
        let _ =
            tokio::time::timeout(DRAIN_TIMEOUT, async { while let Some(Ok(_)) = rest.next().await {} }).await;
    });
}

/// Guard steps that took longer than this make the proxy run the next step
/// of the stream with `block_in_place`.
const INLINE_STEP: std::time::Duration = std::time::Duration::from_millis(2);

/// Where a streamed channel's text goes in a chunk's `delta`.
#[derive(Clone, Copy)]
enum Field {
    /// `content`, `refusal`, `reasoning_content` / `reasoning` (chat) or `text` (completions).
    Named(&'static str),
    /// `tool_calls[].function.arguments` of call `k`.
    ToolArguments(u32),
    /// `function_call.arguments`.
    FunctionArguments,
}

/// Moves one stream from upstream to client.
struct Pump {
    state: Arc<AppState>,
    caller: Caller,
    kind: Kind,
    json_mode: bool,
    request_id: String,
    /// The upstream response body; taken as soon as the outcome is known:
    /// dropped (closing its connection, cancelling the generation) when the
    /// stream was blocked or broke, drained ([`drain`]) when it finished.
    upstream: Option<Upstream>,
    parser: SseParser,
    /// SSE bytes for the client, not yet handed to hyper.
    out: bytes::BytesMut,
    /// Set once the stream is over; `None` when dropped early means the client
    /// went away.
    outcome: Option<Outcome>,
    /// Every channel's guard.
    filter: StreamFilter,
    /// Log-probabilities waiting for their text.
    logprobs: openai::LogprobQueues,
    /// Completions: per choice, bytes of text sent (the `text_offset` of the next token).
    text_offsets: Vec<(u32, u64)>,
    /// `id`, `object`, `created`, `model` of the upstream chunks.
    envelope: Option<Value>,
    /// Choices seen, and the fields each channel came in.
    choices: Vec<(u32, Vec<(ChannelId, Field)>)>,
    /// Choices whose finish has been sent.
    done: Vec<u32>,
}

impl Drop for Pump {
    /// One audit record per stream: every flagged span, final action.
    fn drop(&mut self) {
        let decisions = self.filter.decisions(self.state.policy.name());
        let bytes = self.filter.bytes();
        record(&self.state, &self.caller, self.kind, &self.request_id, bytes, &decisions);
        let leaked = self.filter.leaked_bytes() as u64;
        self.state.metrics.stream_leaked_bytes.fetch_add(leaked, Ordering::Relaxed);
        match self.outcome.unwrap_or(Outcome::Cancelled) {
            Outcome::Cancelled => {
                self.state.metrics.upstream_cancelled.fetch_add(1, Ordering::Relaxed);
            }
            Outcome::UpstreamError => {
                self.state.metrics.upstream_errors.fetch_add(1, Ordering::Relaxed);
            }
            Outcome::Done => {}
        }
    }
}

impl Pump {
    /// Reads upstream chunks until there is something for the client or the
    /// stream is over.
    async fn fill(&mut self) {
        while self.out.is_empty() && self.outcome.is_none() {
            if let Some(o) = self.advance().await {
                self.outcome = Some(o);
                // Otherwise (blocked, failed) the body is dropped here: that
                // closes the connection, which cancels the generation.
                if let (Outcome::Done, Some(rest)) = (o, self.upstream.take()) {
                    drain(rest);
                }
            }
        }
    }

    /// Handles the next upstream chunk; `Some` once the stream is over.
    async fn advance(&mut self) -> Option<Outcome> {
        let next = match self.upstream.as_mut() {
            Some(u) => u.next().await,
            None => None,
        };
        match next {
            Some(Ok(b)) => {
                for ev in self.parser.feed(&b) {
                    if let Flow::Stop(o) = self.event(&ev) {
                        return Some(o);
                    }
                }
                None
            }
            Some(Err(e)) => {
                // Release what is held (it is checked first), then report the break.
                if self.finish(None).is_err() {
                    return Some(Outcome::Cancelled);
                }
                let msg = json!({"error": {"message": format!("the upstream stream broke off: {e}"), "type": "upstream_error", "code": "upstream_error"}});
                self.emit(&msg.to_string());
                Some(Outcome::UpstreamError)
            }
            None => {
                if let Some(ev) = self.parser.finish() {
                    if let Flow::Stop(o) = self.event(&ev) {
                        return Some(o);
                    }
                }
                // The body ended without `[DONE]`: complete if every choice
                // finished, otherwise the upstream died mid-stream.
                let complete = !self.done.is_empty();
                if self.finish(None).is_err() {
                    return Some(Outcome::Cancelled);
                }
                if complete {
                    self.emit("[DONE]");
                    return Some(Outcome::Done);
                }
                let msg = json!({"error": {"message": "the upstream closed the stream before finishing", "type": "upstream_error", "code": "upstream_error"}});
                self.emit(&msg.to_string());
                Some(Outcome::UpstreamError)
            }
        }
    }

    /// Queues one SSE event for the client.
    fn emit(&mut self, data: &str) {
        sse::write_event(&mut self.out, data);
    }

    fn event(&mut self, data: &str) -> Flow {
        if data.trim() == "[DONE]" {
            if self.finish(None).is_err() {
                return Flow::Stop(Outcome::Cancelled);
            }
            self.emit("[DONE]");
            return Flow::Stop(Outcome::Done);
        }
        let Ok(mut chunk) = serde_json::from_str::<Value>(data) else {
            // Not JSON: pass it on untouched (it carries no choice text).
            self.emit(data);
            return Flow::Go;
        };
        if chunk.get("error").is_some() {
            let _ = self.finish(None);
            self.emit(data);
            return Flow::Stop(Outcome::UpstreamError);
        }
        if self.envelope.is_none() {
            let mut env = serde_json::Map::new();
            for k in ["id", "object", "created", "model", "system_fingerprint"] {
                if let Some(v) = chunk.get(k) {
                    env.insert(k.to_string(), v.clone());
                }
            }
            self.envelope = Some(Value::Object(env));
        }
        let choices = match chunk.get_mut("choices").map(Value::take) {
            Some(Value::Array(c)) => c,
            _ => Vec::new(),
        };
        if choices.is_empty() {
            // Usage and other choice-less chunks pass through.
            self.emit(data);
            return Flow::Go;
        }
        for (pos, c) in choices.into_iter().enumerate() {
            if let Err(flow) = self.choice(c, pos) {
                return flow;
            }
        }
        Flow::Go
    }

    /// One choice of an upstream chunk. `Err` carries how the stream stops.
    fn choice(&mut self, mut c: Value, pos: usize) -> Result<(), Flow> {
        let idx = openai::choice_index(&c, pos);
        if self.filter.blocked(idx).is_some() || self.done.contains(&idx) {
            return Ok(());
        }
        if !self.choices.iter().any(|x| x.0 == idx) {
            self.choices.push((idx, Vec::new()));
        }
        let texts = match self.kind {
            Kind::Chat => self.split_chat_delta(idx, &mut c)?,
            Kind::Completions => {
                if let Some(lp) = c.get("logprobs").filter(|v| v.is_object()) {
                    self.logprobs.push_completion(idx, lp);
                }
                let t = c.get("text").and_then(Value::as_str).unwrap_or("").to_string();
                vec![(ChannelId::new(idx, ChannelKind::Text), Field::Named("text"), t)]
            }
        };
        for (id, field, text) in texts {
            self.note_field(id, field);
            let step = self.run(id, Some(&text)).map_err(|_| Flow::Stop(Outcome::Cancelled))?;
            self.send_step(id, field, step)?;
            if self.filter.blocked(idx).is_some() {
                return self.after_block();
            }
        }
        if let Some(f) = c.get("finish_reason").and_then(Value::as_str) {
            let f = f.to_string();
            self.finish(Some(idx)).map_err(|_| Flow::Stop(Outcome::Cancelled))?;
            if self.filter.blocked(idx).is_some() {
                return self.after_block();
            }
            self.done.push(idx);
            self.send_choice(idx, json!({}), Some(&f), None, None);
        }
        Ok(())
    }

    /// Takes a chat delta apart: the fields without text (role, a tool
    /// call's id, type and name) go to the client at once; the text fields
    /// are returned, in the order they are judged.
    fn split_chat_delta(&mut self, idx: u32, c: &mut Value) -> Result<Vec<(ChannelId, Field, String)>, Flow> {
        if let Some(lp) = c.get("logprobs").filter(|v| v.is_object()) {
            self.logprobs.push_chat(idx, lp);
        }
        let Some(Value::Object(mut delta)) = c.get_mut("delta").map(Value::take) else {
            return Ok(Vec::new());
        };
        let mut texts = Vec::new();
        let mut take = |delta: &mut serde_json::Map<String, Value>, key: &'static str, id: ChannelId| {
            if let Some(v) = delta.remove(key) {
                if let Some(t) = v.as_str() {
                    texts.push((id, Field::Named(key), t.to_string()));
                }
            }
        };
        for f in openai::REASONING_FIELDS {
            take(&mut delta, f, ChannelId::new(idx, ChannelKind::Reasoning));
        }
        let text_kind = if self.json_mode { ChannelKind::Structured } else { ChannelKind::Text };
        take(&mut delta, "content", ChannelId::new(idx, text_kind));
        take(&mut delta, "refusal", ChannelId::new(idx, ChannelKind::Refusal));
        if let Some(Value::Array(calls)) = delta.get_mut("tool_calls") {
            for (pos, call) in calls.iter_mut().enumerate() {
                let k = call.get("index").and_then(Value::as_u64).map_or(pos as u32, |i| i as u32);
                if let Some(args) = call.pointer_mut("/function/arguments").map(Value::take) {
                    call["function"]["arguments"] = json!("");
                    let id = ChannelId::tool(idx, ChannelKind::ToolArguments, k);
                    texts.push((id, Field::ToolArguments(k), args.as_str().unwrap_or("").to_string()));
                }
            }
            // A fragment that was only arguments has nothing else to send now.
            calls.retain(|call| !is_bare_arguments(call));
            if calls.is_empty() {
                delta.remove("tool_calls");
            }
        }
        if let Some(fc) = delta.get_mut("function_call") {
            if let Some(args) = fc.get_mut("arguments").map(Value::take) {
                fc["arguments"] = json!("");
                let id = ChannelId::tool(idx, ChannelKind::ToolArguments, openai::FUNCTION_CALL);
                texts.push((id, Field::FunctionArguments, args.as_str().unwrap_or("").to_string()));
            }
            if fc.as_object().is_some_and(|o| o.keys().all(|k| k == "arguments")) {
                delta.remove("function_call");
            }
        }
        if !delta.is_empty() {
            self.send_choice(idx, Value::Object(delta), None, None, None);
        }
        Ok(texts)
    }

    fn note_field(&mut self, id: ChannelId, field: Field) {
        if let Some(c) = self.choices.iter_mut().find(|c| c.0 == id.choice) {
            match c.1.iter_mut().find(|f| f.0 == id) {
                Some(f) => f.1 = field,
                None => c.1.push((id, field)),
            }
        }
    }

    /// One filter step of channel `id` (`None`: the channel is complete).
    fn run(&mut self, id: ChannelId, text: Option<&str>) -> Result<Step, ()> {
        let state = self.state.clone();
        // A step scans a bounded window (tenths of a millisecond) and runs
        // on the worker; only after a long one (a long prompt's first step,
        // a long held copy) does the next hand the worker's queue over, so
        // that other streams are not held up behind it.
        let long = self.filter.last_step(id) > INLINE_STEP;
        let mut go = || match text {
            Some(t) => self.filter.push(&*state, id, t),
            None => self.filter.finish(&*state, id),
        };
        let step = if long { tokio::task::block_in_place(go) } else { go() };
        step.map_err(|e| {
            tracing::error!("scan failed during a stream: {e}");
            let msg = json!({"error": {"message": format!("recital could not check the output: {e}"), "type": "server_error", "code": "scan_failed"}});
            self.emit(&msg.to_string());
        })
    }

    /// Sends what a step released (or, blocked, the choice's end).
    fn send_step(&mut self, id: ChannelId, field: Field, step: Step) -> Result<(), Flow> {
        let idx = id.choice;
        let emitted_before = self.filter.emitted(id) - step.text.len();
        if let Some(decision) = step.blocked {
            let ext = json!({"action": "block", "channel": id.to_string(), "statement": decision.statement, "request_id": self.request_id});
            self.send_choice(idx, json!({}), Some("content_filter"), None, Some(ext));
            return Ok(());
        }
        let lp_field = match (self.kind, id.kind) {
            (Kind::Completions, _) => Some("text"),
            (Kind::Chat, ChannelKind::Text | ChannelKind::Structured) => Some("content"),
            (Kind::Chat, ChannelKind::Refusal) => Some("refusal"),
            _ => None,
        };
        let logprobs = lp_field.filter(|f| self.logprobs.has(idx, f)).map(|f| {
            let entries = self.logprobs.release(idx, f, step.raw_released, &step.redactions);
            (f, entries)
        });
        let has_lp = logprobs.as_ref().is_some_and(|(_, e)| !e.is_empty());
        if step.text.is_empty() && step.annotations.is_empty() && !has_lp {
            return Ok(());
        }
        let ext = (!step.annotations.is_empty()).then(|| {
            json!({"annotations": step.annotations, "check_offset": emitted_before, "channel": id.to_string()})
        });
        let delta = match field {
            Field::Named(k) if self.kind == Kind::Completions && k == "text" => json!(step.text),
            Field::Named(k) => json!({ k: step.text }),
            Field::ToolArguments(k) => {
                json!({"tool_calls": [{"index": k, "function": {"arguments": step.text}}]})
            }
            Field::FunctionArguments => json!({"function_call": {"arguments": step.text}}),
        };
        let lp = logprobs.filter(|_| has_lp).map(|(f, entries)| self.logprobs_value(idx, f, &entries));
        self.send_choice(idx, delta, None, lp, ext);
        Ok(())
    }

    fn logprobs_value(&mut self, idx: u32, field: &str, entries: &[Value]) -> Value {
        if field != "text" {
            return json!({ field: entries });
        }
        let offset = match self.text_offsets.iter_mut().find(|o| o.0 == idx) {
            Some(o) => o,
            None => {
                self.text_offsets.push((idx, 0));
                self.text_offsets.last_mut().expect("just pushed")
            }
        };
        let v = recital_filter::logprobs::completion_arrays(entries, offset.1);
        offset.1 += entries.iter().map(|e| e["token"].as_str().map_or(0, str::len) as u64).sum::<u64>();
        v
    }

    /// Every choice blocked or finished: the stream ends (the upstream is
    /// dropped, which cancels the generation).
    fn after_block(&mut self) -> Result<(), Flow> {
        let all = self.choices.iter().all(|c| self.filter.blocked(c.0).is_some() || self.done.contains(&c.0));
        if all {
            self.emit("[DONE]");
            return Err(Flow::Stop(Outcome::Cancelled));
        }
        Ok(())
    }

    /// The upstream is done (or broke), or choice `choice` finished: decide
    /// and release everything held.
    fn finish(&mut self, choice: Option<u32>) -> Result<(), ()> {
        let open: Vec<(ChannelId, Field)> = self
            .choices
            .iter()
            .filter(|c| choice.is_none_or(|k| k == c.0) && !self.done.contains(&c.0))
            .flat_map(|c| c.1.clone())
            .collect();
        for (id, field) in open {
            if self.filter.blocked(id.choice).is_some() {
                continue;
            }
            let step = self.run(id, None)?;
            let _ = self.send_step(id, field, step);
        }
        if choice.is_none() {
            let pending: Vec<u32> = self
                .choices
                .iter()
                .map(|c| c.0)
                .filter(|k| !self.done.contains(k) && self.filter.blocked(*k).is_none())
                .collect();
            for k in pending {
                self.done.push(k);
                self.send_choice(k, json!({}), Some("stop"), None, None);
            }
        }
        Ok(())
    }

    /// Sends one chunk for choice `idx`.
    fn send_choice(
        &mut self,
        idx: u32,
        delta: Value,
        finish: Option<&str>,
        logprobs: Option<Value>,
        ext: Option<Value>,
    ) {
        let mut chunk = self.envelope.clone().unwrap_or_else(|| json!({}));
        let choice = match self.kind {
            Kind::Chat => {
                let mut c = json!({"index": idx, "delta": delta, "finish_reason": finish});
                if let Some(lp) = logprobs {
                    c["logprobs"] = lp;
                }
                c
            }
            Kind::Completions => {
                let text = delta.as_str().unwrap_or("").to_string();
                json!({"index": idx, "text": text, "finish_reason": finish, "logprobs": logprobs})
            }
        };
        chunk["choices"] = json!([choice]);
        if let (Some(mut e), false) = (ext, self.state.config.strict_openai) {
            e["choice"] = json!(idx);
            chunk["recital"] = e;
        }
        self.emit(&chunk.to_string());
    }
}

/// A streamed tool-call fragment that carries nothing but its arguments
/// (now emptied): nothing to send before the arguments are checked.
fn is_bare_arguments(call: &Value) -> bool {
    let Some(o) = call.as_object() else { return false };
    o.keys().all(|k| k == "index" || k == "function")
        && call.get("function").and_then(Value::as_object).is_some_and(|f| f.keys().all(|k| k == "arguments"))
}

enum Flow {
    Go,
    Stop(Outcome),
}
