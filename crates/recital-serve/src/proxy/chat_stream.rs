//! The OpenAI chat and legacy completions streams: chunks of `choices`,
//! each with a `delta` (chat) or `text` (completions), ended by `[DONE]`.
//! Every text field of a delta is a channel ([`super::openai`] lists them);
//! a tool call's id, type and name go out at once, its arguments are held
//! like text; log-probabilities wait with their text.

use serde_json::{json, Value};

use recital_filter::{ChannelId, ChannelKind, Step};

use super::openai;
use super::relay::{openai_error, Cx, Dialect, Outcome};

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

/// The chat (or completions) dialect of one stream.
pub struct ChatStream {
    chat: bool,
    json_mode: bool,
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

impl ChatStream {
    /// The dialect of `/v1/chat/completions` (`chat`) or `/v1/completions`;
    /// `json_mode`: the request asked for a JSON answer.
    pub fn new(chat: bool, json_mode: bool) -> Self {
        Self {
            chat,
            json_mode,
            logprobs: Default::default(),
            text_offsets: Vec::new(),
            envelope: None,
            choices: Vec::new(),
            done: Vec::new(),
        }
    }
}

impl Dialect for ChatStream {
    fn endpoint(&self) -> &'static str {
        if self.chat {
            "/v1/chat/completions"
        } else {
            "/v1/completions"
        }
    }

    fn event(&mut self, cx: &mut Cx, data: &str) -> Option<Outcome> {
        match self.on_event(cx, data) {
            Flow::Go => None,
            Flow::Stop(o) => Some(o),
        }
    }

    fn end(&mut self, cx: &mut Cx, broke: Option<String>) -> Outcome {
        // The body ended without `[DONE]`: complete if every choice
        // finished, otherwise the upstream died mid-stream. What is held is
        // checked and released first.
        let complete = broke.is_none() && !self.done.is_empty();
        if self.finish(cx, None).is_err() {
            return Outcome::Cancelled;
        }
        if complete {
            cx.emit("[DONE]");
            return Outcome::Done;
        }
        let msg = broke.unwrap_or_else(|| "the upstream closed the stream before finishing".to_string());
        cx.emit(&openai_error(&msg, "upstream_error", "upstream_error"));
        Outcome::UpstreamError
    }
}

impl ChatStream {
    fn on_event(&mut self, cx: &mut Cx, data: &str) -> Flow {
        if data.trim() == "[DONE]" {
            if self.finish(cx, None).is_err() {
                return Flow::Stop(Outcome::Cancelled);
            }
            cx.emit("[DONE]");
            return Flow::Stop(Outcome::Done);
        }
        let Ok(mut chunk) = serde_json::from_str::<Value>(data) else {
            // Not JSON: pass it on untouched (it carries no choice text).
            cx.emit(data);
            return Flow::Go;
        };
        if chunk.get("error").is_some() {
            let _ = self.finish(cx, None);
            cx.emit(data);
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
            cx.emit(data);
            return Flow::Go;
        }
        for (pos, c) in choices.into_iter().enumerate() {
            if let Err(flow) = self.choice(cx, c, pos) {
                return flow;
            }
        }
        Flow::Go
    }

    /// One choice of an upstream chunk. `Err` carries how the stream stops.
    fn choice(&mut self, cx: &mut Cx, mut c: Value, pos: usize) -> Result<(), Flow> {
        let idx = openai::choice_index(&c, pos);
        if cx.filter.blocked(idx).is_some() || self.done.contains(&idx) {
            return Ok(());
        }
        if !self.choices.iter().any(|x| x.0 == idx) {
            self.choices.push((idx, Vec::new()));
        }
        let texts = match self.chat {
            true => self.split_chat_delta(cx, idx, &mut c)?,
            false => {
                if let Some(lp) = c.get("logprobs").filter(|v| v.is_object()) {
                    self.logprobs.push_completion(idx, lp);
                }
                let t = c.get("text").and_then(Value::as_str).unwrap_or("").to_string();
                vec![(ChannelId::new(idx, ChannelKind::Text), Field::Named("text"), t)]
            }
        };
        for (id, field, text) in texts {
            self.note_field(id, field);
            let step = run(cx, id, Some(&text)).map_err(|_| Flow::Stop(Outcome::Cancelled))?;
            self.send_step(cx, id, field, step)?;
            if cx.filter.blocked(idx).is_some() {
                return self.after_block(cx);
            }
        }
        if let Some(f) = c.get("finish_reason").and_then(Value::as_str) {
            let f = f.to_string();
            self.finish(cx, Some(idx)).map_err(|_| Flow::Stop(Outcome::Cancelled))?;
            if cx.filter.blocked(idx).is_some() {
                return self.after_block(cx);
            }
            self.done.push(idx);
            self.send_choice(cx, idx, json!({}), Some(&f), None, None);
        }
        Ok(())
    }

    /// Takes a chat delta apart: the fields without text (role, a tool
    /// call's id, type and name) go to the client at once; the text fields
    /// are returned, in the order they are judged.
    fn split_chat_delta(
        &mut self,
        cx: &mut Cx,
        idx: u32,
        c: &mut Value,
    ) -> Result<Vec<(ChannelId, Field, String)>, Flow> {
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
            self.send_choice(cx, idx, Value::Object(delta), None, None, None);
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

    /// Sends what a step released (or, blocked, the choice's end).
    fn send_step(&mut self, cx: &mut Cx, id: ChannelId, field: Field, step: Step) -> Result<(), Flow> {
        let idx = id.choice;
        let emitted_before = cx.filter.emitted(id) - step.text.len();
        if let Some(decision) = step.blocked {
            let ext = json!({"action": "block", "channel": id.to_string(), "statement": decision.statement, "request_id": cx.request_id});
            self.send_choice(cx, idx, json!({}), Some("content_filter"), None, Some(ext));
            return Ok(());
        }
        let lp_field = match (self.chat, id.kind) {
            (false, _) => Some("text"),
            (true, ChannelKind::Text | ChannelKind::Structured) => Some("content"),
            (true, ChannelKind::Refusal) => Some("refusal"),
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
            Field::Named(k) if !self.chat && k == "text" => json!(step.text),
            Field::Named(k) => json!({ k: step.text }),
            Field::ToolArguments(k) => {
                json!({"tool_calls": [{"index": k, "function": {"arguments": step.text}}]})
            }
            Field::FunctionArguments => json!({"function_call": {"arguments": step.text}}),
        };
        let lp = logprobs.filter(|_| has_lp).map(|(f, entries)| self.logprobs_value(idx, f, &entries));
        self.send_choice(cx, idx, delta, None, lp, ext);
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
    fn after_block(&mut self, cx: &mut Cx) -> Result<(), Flow> {
        let all = self.choices.iter().all(|c| cx.filter.blocked(c.0).is_some() || self.done.contains(&c.0));
        if all {
            cx.emit("[DONE]");
            return Err(Flow::Stop(Outcome::Cancelled));
        }
        Ok(())
    }

    /// The upstream is done (or broke), or choice `choice` finished: decide
    /// and release everything held.
    fn finish(&mut self, cx: &mut Cx, choice: Option<u32>) -> Result<(), ()> {
        let open: Vec<(ChannelId, Field)> = self
            .choices
            .iter()
            .filter(|c| choice.is_none_or(|k| k == c.0) && !self.done.contains(&c.0))
            .flat_map(|c| c.1.clone())
            .collect();
        for (id, field) in open {
            if cx.filter.blocked(id.choice).is_some() {
                continue;
            }
            let step = run(cx, id, None)?;
            let _ = self.send_step(cx, id, field, step);
        }
        if choice.is_none() {
            let pending: Vec<u32> = self
                .choices
                .iter()
                .map(|c| c.0)
                .filter(|k| !self.done.contains(k) && cx.filter.blocked(*k).is_none())
                .collect();
            for k in pending {
                self.done.push(k);
                self.send_choice(cx, k, json!({}), Some("stop"), None, None);
            }
        }
        Ok(())
    }

    /// Sends one chunk for choice `idx`.
    fn send_choice(
        &mut self,
        cx: &mut Cx,
        idx: u32,
        delta: Value,
        finish: Option<&str>,
        logprobs: Option<Value>,
        ext: Option<Value>,
    ) {
        let mut chunk = self.envelope.clone().unwrap_or_else(|| json!({}));
        let choice = match self.chat {
            true => {
                let mut c = json!({"index": idx, "delta": delta, "finish_reason": finish});
                if let Some(lp) = logprobs {
                    c["logprobs"] = lp;
                }
                c
            }
            false => {
                let text = delta.as_str().unwrap_or("").to_string();
                json!({"index": idx, "text": text, "finish_reason": finish, "logprobs": logprobs})
            }
        };
        chunk["choices"] = json!([choice]);
        if let (Some(mut e), false) = (ext, cx.strict()) {
            e["choice"] = json!(idx);
            chunk["recital"] = e;
        }
        cx.emit(&chunk.to_string());
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

/// One filter step; a failure is told to the client before the stream stops.
fn run(cx: &mut Cx, id: ChannelId, text: Option<&str>) -> Result<Step, ()> {
    cx.run(id, text).map_err(|e| {
        let msg = format!("recital could not check the output: {e}");
        cx.emit(&openai_error(&msg, "server_error", "scan_failed"));
    })
}
