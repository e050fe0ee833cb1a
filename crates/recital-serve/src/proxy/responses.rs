//! The OpenAI Responses API (`POST /v1/responses`): an answer is a list of
//! output items (messages with `output_text` and `refusal` parts, reasoning
//! with summary and reasoning text, function calls with JSON arguments,
//! custom tool calls with free-text input), streamed as typed events.
//!
//! Channels are keyed by output item (`choice` = `output_index`) and part
//! (`item` = `content_index` or `summary_index`). Text reaches the client
//! in deltas, and again, whole, in every `.done` event, in
//! `output_item.done` and in the final `response.completed`: each of those
//! is rewritten from what the channel released, so the copy cannot come
//! back through a summary event. An item whose text arrives only whole (no
//! deltas) is filtered when it arrives. A block ends the stream with
//! `response.incomplete`, `incomplete_details.reason = "content_filter"`.

use std::collections::HashMap;

use serde_json::{json, Value};

use recital_filter::dialect::openai::field_mut;
use recital_filter::dialect::responses::{item_channels, text_kind, withhold};
use recital_filter::logprobs::{self, TokenQueue};
use recital_filter::{ChannelId, ChannelKind, Step};

use super::relay::{Cx, Dialect, Outcome};

/// The Responses dialect of one stream.
#[derive(Default)]
pub struct ResponsesStream {
    /// The request asked for a JSON answer (`text.format`).
    json_mode: bool,
    /// The response as `response.created` described it (for the final event on a block).
    envelope: Option<Value>,
    /// Per channel: the text released so far.
    released: HashMap<ChannelId, String>,
    /// Per channel still open: the event that carries its deltas, for the releases at its end.
    open: Vec<(ChannelId, Value)>,
    /// Output-text log-probabilities waiting for their text, and those released.
    logprobs: HashMap<ChannelId, (TokenQueue, Vec<Value>)>,
}

impl ResponsesStream {
    /// The dialect of one stream; `json_mode`: the request asked for JSON.
    pub fn new(json_mode: bool) -> Self {
        Self { json_mode, ..Default::default() }
    }
}

/// The channel a delta or done event speaks of, and the field its text is in.
fn event_channel(ev: &Value, json_mode: bool) -> Option<(ChannelId, &'static str)> {
    let ty = ev.get("type")?.as_str()?;
    let base = ty.rsplit_once('.').map_or(ty, |(b, _)| b);
    let n = |k: &str| ev.get(k).and_then(Value::as_u64).unwrap_or(0) as u32;
    let (kind, part) = match base {
        "response.output_text" => (text_kind(json_mode), n("content_index")),
        "response.refusal" => (ChannelKind::Refusal, n("content_index")),
        "response.reasoning_summary_text" => (ChannelKind::Reasoning, n("summary_index")),
        "response.reasoning_text" => (ChannelKind::Reasoning, 1000 + n("content_index")),
        "response.function_call_arguments" | "response.mcp_call_arguments" => (ChannelKind::ToolArguments, 0),
        "response.custom_tool_call_input" => (ChannelKind::ToolInput, 0),
        "response.code_interpreter_call_code" => (ChannelKind::ToolInput, 0),
        _ => return None,
    };
    let done_field = match (base, ty.ends_with(".done")) {
        (_, false) => "delta",
        ("response.refusal", true) => "refusal",
        ("response.function_call_arguments" | "response.mcp_call_arguments", true) => "arguments",
        ("response.custom_tool_call_input", true) => "input",
        ("response.code_interpreter_call_code", true) => "code",
        _ => "text",
    };
    Some((ChannelId::tool(n("output_index"), kind, part), done_field))
}

impl Dialect for ResponsesStream {
    fn endpoint(&self) -> &'static str {
        "/v1/responses"
    }

    fn event(&mut self, cx: &mut Cx, data: &str) -> Option<Outcome> {
        let Ok(mut ev) = serde_json::from_str::<Value>(data) else {
            cx.emit(data);
            return None;
        };
        match self.on_event(cx, &mut ev) {
            Ok(None) => None,
            Ok(Some(o)) => Some(o),
            Err(o) => Some(o),
        }
    }

    fn end(&mut self, cx: &mut Cx, broke: Option<String>) -> Outcome {
        if self.finish_all(cx).is_err() {
            return Outcome::Cancelled;
        }
        let message = broke.unwrap_or_else(|| "the upstream closed the stream before finishing".to_string());
        cx.emit_typed(&json!({"type": "error", "code": "upstream_error", "message": message, "param": null}));
        Outcome::UpstreamError
    }
}

impl ResponsesStream {
    /// One event; `Ok(Some)` when the stream is over, `Err` when it was blocked.
    fn on_event(&mut self, cx: &mut Cx, ev: &mut Value) -> Result<Option<Outcome>, Outcome> {
        let ty = ev.get("type").and_then(Value::as_str).unwrap_or("").to_string();
        if let Some((id, field)) = event_channel(ev, self.json_mode) {
            return if field == "delta" { self.delta(cx, id, ev) } else { self.done(cx, id, field, ev) }
                .map(|_| None);
        }
        match ty.as_str() {
            "response.created" | "response.in_progress" | "response.queued" => {
                if let Some(r) = ev.get_mut("response") {
                    self.envelope.get_or_insert_with(|| r.clone());
                    self.rewrite_items(cx, r)?;
                }
            }
            "response.output_item.added" | "response.output_item.done" => {
                let oi = ev.get("output_index").and_then(Value::as_u64).unwrap_or(0) as u32;
                if ty.ends_with(".done") {
                    self.finish_output(cx, Some(oi))?;
                }
                if let Some(item) = ev.get_mut("item") {
                    self.rewrite_item(cx, oi, item, ty.ends_with(".added"))?;
                }
            }
            "response.content_part.added"
            | "response.content_part.done"
            | "response.reasoning_summary_part.added"
            | "response.reasoning_summary_part.done" => self.rewrite_part(cx, ev, ty.ends_with(".added"))?,
            "response.completed" | "response.incomplete" | "response.failed" => {
                self.finish_all(cx).map_err(|_| Outcome::Cancelled)?;
                if let Some(r) = ev.get_mut("response") {
                    self.rewrite_items(cx, r)?;
                }
                cx.emit_typed(ev);
                return Ok(Some(if ty == "response.failed" {
                    Outcome::UpstreamError
                } else {
                    Outcome::Done
                }));
            }
            "error" => {
                let _ = self.finish_all(cx);
                cx.emit_typed(ev);
                return Ok(Some(Outcome::UpstreamError));
            }
            _ => {}
        }
        cx.emit_typed(ev);
        Ok(None)
    }

    /// A delta: fed to its channel; what the channel releases goes out in
    /// the same kind of event.
    fn delta(&mut self, cx: &mut Cx, id: ChannelId, ev: &Value) -> Result<(), Outcome> {
        let text = ev.get("delta").and_then(Value::as_str).unwrap_or("").to_string();
        if let Some(lps) = ev.get("logprobs").and_then(Value::as_array) {
            let q = &mut self.logprobs.entry(id).or_default().0;
            for e in lps {
                q.push(e.clone(), logprobs::chat_entry_len(e));
            }
        }
        match self.open.iter_mut().find(|o| o.0 == id) {
            Some(o) => o.1 = ev.clone(),
            None => self.open.push((id, ev.clone())),
        }
        let step = self.run(cx, id, Some(&text))?;
        self.send(cx, id, step)
    }

    /// A `.done` event: the channel is finished, and the event carries the
    /// text as released.
    fn done(&mut self, cx: &mut Cx, id: ChannelId, field: &str, ev: &mut Value) -> Result<(), Outcome> {
        let original = ev.get(field).and_then(Value::as_str).unwrap_or("").to_string();
        let text = self.final_text(cx, id, &original)?;
        ev[field] = json!(text);
        if let Some(lp) = ev.get_mut("logprobs").filter(|v| v.is_array()) {
            *lp = json!(self.logprobs.get(&id).map(|l| l.1.clone()).unwrap_or_default());
        }
        cx.emit_typed(ev);
        Ok(())
    }

    /// What channel `id` released in all, finishing it first; a channel
    /// never streamed is filtered whole now, from `original`.
    fn final_text(&mut self, cx: &mut Cx, id: ChannelId, original: &str) -> Result<String, Outcome> {
        if !cx.filter.has(id) {
            let step = self.run(cx, id, Some(original))?;
            self.note(id, &step);
        }
        if self.open.iter().any(|o| o.0 == id) || !self.released.contains_key(&id) {
            self.finish_channel(cx, id)?;
        }
        Ok(self.released.get(&id).cloned().unwrap_or_default())
    }

    fn run(&mut self, cx: &mut Cx, id: ChannelId, text: Option<&str>) -> Result<Step, Outcome> {
        let step = cx.run(id, text).map_err(|e| {
            cx.emit_typed(&json!({"type": "error", "code": "scan_failed", "message": format!("recital could not check the output: {e}"), "param": null}));
            Outcome::Cancelled
        })?;
        if let Some(d) = &step.blocked {
            self.block(cx, id, d);
            return Err(Outcome::Cancelled);
        }
        Ok(step)
    }

    /// Remembers what a step released (text and log-probabilities).
    fn note(&mut self, id: ChannelId, step: &Step) -> Vec<Value> {
        self.released.entry(id).or_default().push_str(&step.text);
        let Some((q, sent)) = self.logprobs.get_mut(&id) else { return Vec::new() };
        let lps = q.release(
            step.raw_released,
            &step.redactions,
            &|m: &str| json!({"token": m, "logprob": 0.0, "top_logprobs": []}),
        );
        sent.extend(lps.iter().cloned());
        lps
    }

    /// Sends a released step as a delta event of the channel's kind.
    fn send(&mut self, cx: &mut Cx, id: ChannelId, step: Step) -> Result<(), Outcome> {
        let lps = self.note(id, &step);
        if step.text.is_empty() && lps.is_empty() && step.annotations.is_empty() {
            return Ok(());
        }
        let Some(mut ev) = self.open.iter().find(|o| o.0 == id).map(|o| o.1.clone()) else { return Ok(()) };
        ev["delta"] = json!(step.text);
        if ev.get("logprobs").is_some() {
            ev["logprobs"] = json!(lps);
        }
        if !step.annotations.is_empty() && !cx.strict() {
            ev["recital"] = json!({"annotations": step.annotations, "channel": id.to_string()});
        }
        cx.emit_typed(&ev);
        Ok(())
    }

    fn finish_channel(&mut self, cx: &mut Cx, id: ChannelId) -> Result<(), Outcome> {
        let step = self.run(cx, id, None)?;
        self.send(cx, id, step)?;
        self.open.retain(|o| o.0 != id);
        Ok(())
    }

    /// Finishes the open channels of output item `oi` (every item: `None`).
    fn finish_output(&mut self, cx: &mut Cx, oi: Option<u32>) -> Result<(), Outcome> {
        let ids: Vec<ChannelId> =
            self.open.iter().map(|o| o.0).filter(|id| oi.is_none_or(|k| id.choice == k)).collect();
        for id in ids {
            self.finish_channel(cx, id)?;
        }
        Ok(())
    }

    fn finish_all(&mut self, cx: &mut Cx) -> Result<(), Outcome> {
        self.finish_output(cx, None)
    }

    /// An output item as it may be shown: an item just added carries no
    /// text yet (it comes in deltas), one done carries what was released.
    fn rewrite_item(&mut self, cx: &mut Cx, oi: u32, item: &mut Value, added: bool) -> Result<(), Outcome> {
        for (id, path, original) in item_channels(oi, item, self.json_mode) {
            let text = if added { String::new() } else { self.final_text(cx, id, &original)? };
            if let Some(f) = field_mut(item, &path) {
                *f = json!(text);
            }
            if matches!(id.kind, ChannelKind::Text | ChannelKind::Structured) {
                let mut lp = path.clone();
                lp.pop();
                lp.push("logprobs".into());
                let sent = if added {
                    Vec::new()
                } else {
                    self.logprobs.get(&id).map(|l| l.1.clone()).unwrap_or_default()
                };
                if let Some(f) = field_mut(item, &lp) {
                    *f = json!(sent);
                }
            }
        }
        Ok(())
    }

    fn rewrite_items(&mut self, cx: &mut Cx, response: &mut Value) -> Result<(), Outcome> {
        if let Some(Value::Array(items)) = response.get_mut("output") {
            for (oi, item) in items.iter_mut().enumerate() {
                self.rewrite_item(cx, oi as u32, item, false)?;
            }
        }
        Ok(())
    }

    /// `content_part` and `reasoning_summary_part` events carry their part whole.
    fn rewrite_part(&mut self, cx: &mut Cx, ev: &mut Value, added: bool) -> Result<(), Outcome> {
        let oi = ev.get("output_index").and_then(Value::as_u64).unwrap_or(0) as u32;
        let summary = ev.get("summary_index").and_then(Value::as_u64);
        let (kind, part, field) = match (summary, ev.pointer("/part/type").and_then(Value::as_str)) {
            (Some(si), _) => (ChannelKind::Reasoning, si as u32, "text"),
            (None, Some("refusal")) => (ChannelKind::Refusal, 0, "refusal"),
            (None, Some("reasoning_text")) => (ChannelKind::Reasoning, 1000, "text"),
            _ => (text_kind(self.json_mode), 0, "text"),
        };
        let ci = ev.get("content_index").and_then(Value::as_u64).unwrap_or(0) as u32;
        let part = if summary.is_some() { part } else { part + ci };
        let id = ChannelId::tool(oi, kind, part);
        let original = ev.pointer(&format!("/part/{field}")).and_then(Value::as_str).map(str::to_string);
        if let Some(original) = original {
            let text = if added { String::new() } else { self.final_text(cx, id, &original)? };
            ev["part"][field] = json!(text);
        }
        if !added && matches!(kind, ChannelKind::Text | ChannelKind::Structured) {
            if let Some(lp) = ev.pointer_mut("/part/logprobs") {
                *lp = json!(self.logprobs.get(&id).map(|l| l.1.clone()).unwrap_or_default());
            }
        }
        Ok(())
    }

    /// Ends the stream: the response is incomplete, for a content filter.
    fn block(&mut self, cx: &mut Cx, id: ChannelId, d: &recital_policy::Decision) {
        let mut response = self.envelope.clone().unwrap_or_else(|| json!({"object": "response"}));
        withhold(&mut response);
        let mut ev = json!({"type": "response.incomplete", "response": response});
        if !cx.strict() {
            ev["recital"] = json!({"action": "block", "channel": id.to_string(), "statement": d.statement, "request_id": cx.request_id});
        }
        cx.emit_typed(&ev);
    }
}
