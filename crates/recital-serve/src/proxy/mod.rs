//! The OpenAI-compatible proxy: `POST /v1/chat/completions` and
//! `POST /v1/completions`, forwarded to `--upstream`, with every generated
//! text checked before the client sees it.
//!
//! Streaming uses the hold-back pattern ([`guard`]): text is released as soon
//! as the policy's shortest trigger can no longer complete inside it. On a
//! block the stream ends with `finish_reason: "content_filter"` and the
//! upstream request is dropped, which closes its connection (cancelling the
//! generation; the LiteLLM pitfall of leaving it running does not arise because
//! nothing keeps the upstream body alive). Citations travel in-band in a
//! `recital` field of the chunk (documented in the OpenAPI description);
//! `--strict-openai` leaves them out.

pub mod guard;
pub mod sse;

use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::body::Body as HttpBody;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use serde_json::{json, Value};

use recital_policy::{Action, Decision};

use crate::auth::Caller;
use crate::engine;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use guard::{Guard, Step};
use sse::SseParser;

/// Released text rescanned before the held tail at each step. A flagged
/// exact copy never starts in released text (see [`guard`]), so this is only
/// context for near-verbatim chains; it bounds the work per streamed token
/// (the scan is linear in the window), which is the proxy's added latency.
pub const LOOKBACK_BYTES: usize = 384;

/// One streamed choice under check: its guard and the scan work kept between
/// the guard's steps. What the proxy runs for every upstream chunk (public so
/// that `bench/serve_bench` times exactly this).
pub struct Checked {
    /// The hold-back state machine.
    pub guard: Guard,
    memo: recital_detect::ScanMemo,
    /// The stream's scan options ([`engine::window_options`]) and the context
    /// they were built for: built on the first step, not on every one.
    opts: Option<(String, recital_detect::ScanOptions)>,
    /// How long the last step took (the proxy runs the next one off the
    /// async worker when it was long).
    last_step: std::time::Duration,
}

/// Guard steps that took longer than this make the proxy run the next step
/// of the stream with `block_in_place`.
const INLINE_STEP: std::time::Duration = std::time::Duration::from_millis(2);

impl Checked {
    /// A guard holding back the policy's shortest trigger minus one token,
    /// rescanning [`LOOKBACK_BYTES`] of released text.
    pub fn new(state: &AppState) -> Self {
        let hold = state.policy.trigger_tokens().saturating_sub(1);
        let policy = state.policy.clone();
        let marker = Box::new(move |d: &recital_policy::SpanDecision| policy.redaction_marker(d));
        Self {
            guard: Guard::new(hold, LOOKBACK_BYTES, marker),
            memo: Default::default(),
            opts: None,
            last_step: std::time::Duration::ZERO,
        }
    }

    /// Match lengths searched in the index and reused from earlier steps,
    /// over the stream's life (for benchmarks: the work a step saves).
    pub fn memo_counts(&self) -> (usize, usize) {
        (self.memo.searched, self.memo.reused)
    }

    /// One guard step ([`Guard::step`]) with the service's evaluator: the
    /// window is scanned with the stream's memo and decided with `context`
    /// exempt, for `jurisdiction`. Blocking.
    pub fn step(
        &mut self,
        state: &AppState,
        finished: bool,
        context: &str,
        jurisdiction: &str,
    ) -> Result<Step, ApiError> {
        if self.opts.as_ref().is_none_or(|(c, _)| c != context) {
            self.opts = Some((context.to_string(), engine::window_options(state, context)));
        }
        let Self { guard, memo, opts, .. } = self;
        let opts = &opts.as_ref().expect("set above").1;
        guard.step(finished, &mut |window: &str, offset: usize| {
            engine::evaluate_window(state, window, offset, opts, jurisdiction, memo)
        })
    }
}

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
    let call = Call { state, caller, kind, jurisdiction, context, request_id: engine::request_id() };
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
    request_id: String,
}

/// Non-streamed: check every choice's text, then answer.
async fn unary(call: Call, resp: reqwest::Response) -> ApiResult<Response> {
    let Call { state, caller, kind, jurisdiction, context, request_id } = call;
    let bytes = resp.bytes().await.map_err(|e| {
        state.metrics.upstream_errors.fetch_add(1, Ordering::Relaxed);
        ApiError::upstream(StatusCode::BAD_GATEWAY, format!("the upstream response broke off: {e}"))
    })?;
    let mut body: Value = serde_json::from_slice(&bytes).map_err(|e| {
        ApiError::upstream(StatusCode::BAD_GATEWAY, format!("the upstream answered invalid JSON: {e}"))
    })?;
    let mut ext = Vec::new();
    let choices = body.get_mut("choices").and_then(Value::as_array_mut);
    for (i, choice) in choices.into_iter().flatten().enumerate() {
        let text = match kind {
            Kind::Chat => choice.pointer("/message/content").and_then(Value::as_str),
            Kind::Completions => choice.get("text").and_then(Value::as_str),
        };
        let Some(text) = text.map(str::to_string) else { continue };
        let st = state.clone();
        let (ctx, j) = (context.clone(), jurisdiction.clone());
        let (text, report, decision) = tokio::task::spawn_blocking(move || {
            engine::evaluate_decision(&st, &text, Some(ctx), &j).map(|(r, d)| (text, r, d))
        })
        .await
        .map_err(|e| ApiError::internal("scan task", e))??;
        engine::record(&state, &caller.0, kind.endpoint(), &request_id, text.len(), &decision);
        let filtered = recital_policy::apply(&text, &report, &decision);
        let new_text = Value::String(filtered.text.clone().unwrap_or_default());
        match kind {
            Kind::Chat => {
                if let Some(m) = choice.get_mut("message") {
                    m["content"] = new_text;
                }
            }
            Kind::Completions => choice["text"] = new_text,
        }
        if filtered.blocked {
            choice["finish_reason"] = json!("content_filter");
        }
        if decision.action != Action::Allow {
            ext.push(json!({
                "choice": i,
                "action": decision.action,
                "annotations": filtered.annotations,
                "statement": decision.statement,
            }));
        }
    }
    if !state.config.strict_openai {
        body["recital"] = json!({"request_id": request_id, "jurisdiction": jurisdiction, "decisions": ext});
    }
    Ok(axum::Json(body).into_response())
}

/// Streamed: guard each choice, release checked text as chunks.
///
/// The relay runs inside the response body: each time hyper asks the body for
/// more, the [`Pump`] reads the next upstream chunk, runs the guards on it and
/// hands back what they release. An earlier version ran the pump in a task of
/// its own and passed events through a channel; every token then crossed two
/// tasks, often on two threads, and on a loaded two-core machine the thread
/// wake-ups were most of the proxy's added latency. Backpressure is now the
/// client's own: a client that reads slowly slows the upstream read, and a
/// client that goes away drops the body, the pump and with it the upstream
/// request (cancelling the generation). The audit record and the metrics are
/// written when the pump is dropped, however the stream ended.
fn stream_response(call: Call, resp: reqwest::Response) -> Response {
    let Call { state, caller, kind, jurisdiction, context, request_id } = call;
    let pump = Pump {
        state,
        caller,
        kind,
        jurisdiction,
        context,
        request_id,
        upstream: Some(Box::pin(resp.bytes_stream())),
        parser: SseParser::default(),
        out: bytes::BytesMut::new(),
        outcome: None,
        guards: Vec::new(),
        envelope: None,
        envelope_json: "{}".to_string(),
        scratch: Vec::new(),
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

/// Moves one stream from upstream to client.
struct Pump {
    state: Arc<AppState>,
    caller: Caller,
    kind: Kind,
    jurisdiction: String,
    context: String,
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
    /// Per choice index: its guard and, once blocked, the decision.
    guards: Vec<(u64, Checked, Option<Decision>)>,
    /// `id`, `object`, `created`, `model` of the upstream chunks.
    envelope: Option<Value>,
    /// `envelope` as JSON (`{}` until it is known), for [`sse::write_text_chunk`].
    envelope_json: String,
    /// Reused buffer for the chunks written by [`sse::write_text_chunk`].
    scratch: Vec<u8>,
    /// Choices whose finish has been sent.
    done: Vec<u64>,
}

impl Drop for Pump {
    /// One audit record per stream: every flagged span, final action.
    fn drop(&mut self) {
        let mut spans = Vec::new();
        let mut action = Action::Allow;
        let mut statement = String::new();
        for (_, c, blocked) in self.guards.iter() {
            spans.extend(c.guard.flagged.iter().cloned());
            if let Some(d) = blocked {
                action = Action::Block;
                statement = d.statement.clone();
            }
        }
        if action != Action::Block {
            action = spans.iter().map(|s| s.action).max().unwrap_or(Action::Allow);
            statement = spans.iter().map(|s| s.reason.clone()).collect::<Vec<_>>().join(" ");
        }
        let d = Decision {
            action,
            jurisdiction: std::mem::take(&mut self.jurisdiction),
            spans,
            statement,
            policy: self.state.policy.name().to_string(),
        };
        let bytes: usize = self.guards.iter().map(|(_, c, _)| c.guard.text().len()).sum();
        engine::record(&self.state, &self.caller.0, self.kind.endpoint(), &self.request_id, bytes, &d);
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
                    if let Flow::Stop(o) = self.event(&ev).await {
                        return Some(o);
                    }
                }
                None
            }
            Some(Err(e)) => {
                // Release what is held (it is checked first), then report the break.
                if self.finish_all().await.is_err() {
                    return Some(Outcome::Cancelled);
                }
                let msg = json!({"error": {"message": format!("the upstream stream broke off: {e}"), "type": "upstream_error", "code": "upstream_error"}});
                self.emit(&msg.to_string());
                Some(Outcome::UpstreamError)
            }
            None => {
                if let Some(ev) = self.parser.finish() {
                    if let Flow::Stop(o) = self.event(&ev).await {
                        return Some(o);
                    }
                }
                // The body ended without `[DONE]`: complete if every choice
                // finished, otherwise the upstream died mid-stream.
                let complete = !self.done.is_empty();
                if self.finish_all().await.is_err() {
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

    async fn event(&mut self, data: &str) -> Flow {
        if data.trim() == "[DONE]" {
            if self.finish_all().await.is_err() {
                return Flow::Stop(Outcome::Cancelled);
            }
            self.emit("[DONE]");
            return Flow::Stop(Outcome::Done);
        }
        // The common chunk (text only, envelope known) is read without a
        // `serde_json::Value`; it does exactly what the general path below
        // does with a chunk of that shape.
        if self.envelope.is_some() {
            if let Ok(chunk) = serde_json::from_str::<sse::TextChunk<'_>>(data) {
                if !chunk.error.0 && !chunk.choices.is_empty() {
                    for c in chunk.choices {
                        let idx = c.index.unwrap_or(0);
                        if self.is_blocked(idx) || self.done.contains(&idx) {
                            continue;
                        }
                        let text = match self.kind {
                            Kind::Chat => c.delta.and_then(|d| d.content),
                            Kind::Completions => c.text,
                        };
                        let finish = c.finish_reason.map(|f| f.into_owned());
                        if let Err(flow) = self.choice_text(idx, text.as_deref().unwrap_or(""), finish).await
                        {
                            return flow;
                        }
                    }
                    return Flow::Go;
                }
            }
        }
        let Ok(mut chunk) = serde_json::from_str::<Value>(data) else {
            // Not JSON: pass it on untouched (it carries no choice text).
            return self.send_raw(data).await;
        };
        if chunk.get("error").is_some() {
            let _ = self.finish_all().await;
            let _ = self.send_raw(data).await;
            return Flow::Stop(Outcome::UpstreamError);
        }
        if self.envelope.is_none() {
            let mut env = serde_json::Map::new();
            for k in ["id", "object", "created", "model", "system_fingerprint"] {
                if let Some(v) = chunk.get(k) {
                    env.insert(k.to_string(), v.clone());
                }
            }
            let env = Value::Object(env);
            self.envelope_json = env.to_string();
            self.envelope = Some(env);
        }
        let choices = match chunk.get_mut("choices").map(Value::take) {
            Some(Value::Array(c)) => c,
            _ => Vec::new(),
        };
        if choices.is_empty() {
            // Usage and other choice-less chunks pass through.
            return self.send_raw(data).await;
        }
        for c in choices {
            let idx = c.get("index").and_then(Value::as_u64).unwrap_or(0);
            if self.is_blocked(idx) || self.done.contains(&idx) {
                continue;
            }
            let text = match self.kind {
                Kind::Chat => c.pointer("/delta/content").and_then(Value::as_str),
                Kind::Completions => c.get("text").and_then(Value::as_str),
            }
            .unwrap_or("")
            .to_string();
            // Other delta fields (role, tool calls) go out at once, without the text.
            if self.kind == Kind::Chat {
                if let Some(mut delta) = c.get("delta").cloned() {
                    if let Some(o) = delta.as_object_mut() {
                        o.remove("content");
                        if !o.is_empty()
                            && self
                                .send_choice(idx, Value::Object(o.clone()), None, None, None)
                                .await
                                .is_err()
                        {
                            return Flow::Stop(Outcome::Cancelled);
                        }
                    }
                }
            }
            let finish = c.get("finish_reason").and_then(Value::as_str).map(str::to_string);
            if let Err(flow) = self.choice_text(idx, &text, finish).await {
                return flow;
            }
        }
        Flow::Go
    }

    /// Text (and perhaps the finish) of choice `idx`: guarded, released as
    /// decided, then the finish sent. `Err` carries how the stream stops.
    async fn choice_text(&mut self, idx: u64, text: &str, finish: Option<String>) -> Result<(), Flow> {
        self.guard(idx).push(text);
        match self.release(idx, finish.is_some()).await {
            Ok(true) => {}
            Ok(false) => {
                if self.all_blocked() {
                    return Err(Flow::Stop(Outcome::Cancelled));
                }
                return Ok(());
            }
            Err(()) => return Err(Flow::Stop(Outcome::Cancelled)),
        }
        if let Some(f) = finish {
            self.done.push(idx);
            if self.send_choice(idx, json!({}), Some(&f), None, None).await.is_err() {
                return Err(Flow::Stop(Outcome::Cancelled));
            }
        }
        Ok(())
    }

    fn guard(&mut self, idx: u64) -> &mut Guard {
        if let Some(p) = self.guards.iter().position(|g| g.0 == idx) {
            return &mut self.guards[p].1.guard;
        }
        self.guards.push((idx, Checked::new(&self.state), None));
        &mut self.guards.last_mut().expect("just pushed").1.guard
    }

    fn is_blocked(&self, idx: u64) -> bool {
        self.guards.iter().any(|g| g.0 == idx && g.2.is_some())
    }

    fn all_blocked(&self) -> bool {
        !self.guards.is_empty() && self.guards.iter().all(|g| g.2.is_some() || self.done.contains(&g.0))
    }

    /// Runs the guard of choice `idx`; sends what it releases. `Ok(false)`: blocked.
    async fn release(&mut self, idx: u64, finished: bool) -> Result<bool, ()> {
        let state = self.state.clone();
        let p = self.guards.iter().position(|g| g.0 == idx).ok_or(())?;
        let checked = &mut self.guards[p].1;
        let (ctx, j) = (&self.context, &self.jurisdiction);
        // A step is a scan of a bounded window (tenths of a millisecond), run
        // on the worker like any other short computation: `block_in_place`
        // would hand the worker's queue to another thread on every token,
        // which costs more than the scan. Only after a step that took long (a
        // long prompt's first step, a long held copy) does the next one hand
        // the queue over, so that other streams are not held up behind it.
        let t0 = std::time::Instant::now();
        let step = if checked.last_step > INLINE_STEP {
            tokio::task::block_in_place(|| checked.step(&state, finished, ctx, j))
        } else {
            checked.step(&state, finished, ctx, j)
        };
        checked.last_step = t0.elapsed();
        let step: Step = match step {
            Ok(s) => s,
            Err(e) => {
                tracing::error!("scan failed during a stream: {}", e.message);
                let msg = json!({"error": {"message": format!("recital could not check the output: {}", e.message), "type": "server_error", "code": e.code}});
                self.emit(&msg.to_string());
                return Err(());
            }
        };
        if let Some(decision) = step.blocked {
            let ext =
                json!({"action": "block", "statement": decision.statement, "request_id": self.request_id});
            self.guards[p].2 = Some(decision);
            self.send_choice(idx, json!({}), Some("content_filter"), None, Some(ext)).await?;
            if self.all_blocked() {
                self.emit("[DONE]");
            }
            return Ok(false);
        }
        if !step.text.is_empty() || !step.annotations.is_empty() {
            let check = self.guards[p].1.guard.emitted();
            let ext = (!step.annotations.is_empty())
                .then(|| json!({"annotations": step.annotations, "check_offset": check}));
            let delta = match self.kind {
                Kind::Chat => json!({"content": step.text}),
                Kind::Completions => json!(step.text),
            };
            self.send_choice(idx, delta, None, None, ext).await?;
        }
        Ok(true)
    }

    /// Upstream is done (or broke): decide and release everything held.
    async fn finish_all(&mut self) -> Result<(), ()> {
        let pending: Vec<u64> =
            self.guards.iter().filter(|g| g.2.is_none() && !self.done.contains(&g.0)).map(|g| g.0).collect();
        for idx in pending {
            if self.release(idx, true).await? {
                self.done.push(idx);
                self.send_choice(idx, json!({}), Some("stop"), None, None).await?;
            }
        }
        Ok(())
    }

    async fn send_raw(&mut self, data: &str) -> Flow {
        self.emit(data);
        Flow::Go
    }

    /// Sends one chunk for choice `idx`.
    async fn send_choice(
        &mut self,
        idx: u64,
        delta: Value,
        finish: Option<&str>,
        _logprobs: Option<Value>,
        ext: Option<Value>,
    ) -> Result<(), ()> {
        // Text and finish chunks without a `recital` field (nearly all of
        // them) are written directly; the rest through a `Value`.
        let plain = ext.is_none() || self.state.config.strict_openai;
        let text = match (self.kind, &delta) {
            (Kind::Chat, Value::Object(o)) if o.is_empty() => Some(None),
            (Kind::Chat, Value::Object(o)) if o.len() == 1 => {
                o.get("content").and_then(Value::as_str).map(Some)
            }
            (Kind::Chat, _) => None,
            (Kind::Completions, d) => Some(Some(d.as_str().unwrap_or(""))),
        };
        if let (true, Some(text)) = (plain, text) {
            let mut buf = std::mem::take(&mut self.scratch);
            buf.clear();
            sse::write_text_chunk(&mut buf, &self.envelope_json, self.kind == Kind::Chat, idx, text, finish);
            sse::write_event_bytes(&mut self.out, &buf);
            self.scratch = buf;
            return Ok(());
        }
        let mut chunk = self.envelope.clone().unwrap_or_else(|| json!({}));
        let choice = match self.kind {
            Kind::Chat => json!({"index": idx, "delta": delta, "finish_reason": finish}),
            Kind::Completions => {
                let text = delta.as_str().unwrap_or("").to_string();
                json!({"index": idx, "text": text, "finish_reason": finish, "logprobs": null})
            }
        };
        chunk["choices"] = json!([choice]);
        if let (Some(mut e), false) = (ext, self.state.config.strict_openai) {
            e["choice"] = json!(idx);
            chunk["recital"] = e;
        }
        self.emit(&chunk.to_string());
        Ok(())
    }
}

enum Flow {
    Go,
    Stop(Outcome),
}
