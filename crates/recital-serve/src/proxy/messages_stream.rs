//! The Anthropic Messages stream: named events (`message_start`,
//! `content_block_start`, `content_block_delta`, `content_block_stop`,
//! `message_delta`, `message_stop`, `ping`, `error`), each written with its
//! `event:` line, which is what Anthropic's clients dispatch on.
//!
//! A block's metadata (a tool's id and name) goes out at once; its text (`text_delta`, `thinking_delta`,
//! `input_json_delta`, and a block start's own initial text) goes through
//! the block's channel and comes back as deltas of the same kind and index.
//! `content_block_stop` completes the channel: what it held is released
//! before the stop. A server tool's result arrives whole in its block's
//! start and is judged whole before the start goes out. The quotations of
//! `citations_delta` events wait for their block's stop and are judged
//! together, as one JSON document. A thinking block's `signature_delta` waits for that
//! release, so that it still comes last in its block, as the API sends it. A block ends the message as Anthropic's own classifiers
//! do: the open blocks stopped, `stop_reason: "refusal"`, `message_stop`,
//! and the upstream request dropped.

use serde_json::{json, Value};

use recital_filter::{ChannelId, ChannelKind, Step};
use recital_policy::Decision;

use super::messages::{block_channel, block_field, block_kind, error_body, refusal_details};
use super::relay::{Cx, Dialect, Outcome};

/// The kinds a block's channel can be (a delta names its own).
const KINDS: [ChannelKind; 3] = [ChannelKind::Text, ChannelKind::Reasoning, ChannelKind::ToolArguments];

/// The Messages dialect of one stream.
#[derive(Default)]
pub struct MessagesStream {
    /// Blocks started and not yet stopped, by index.
    open: Vec<u32>,
    /// `signature_delta` events waiting for their block's held text.
    signatures: Vec<(u32, Value)>,
    /// `citations_delta` events waiting for their block's stop.
    citations: Vec<(u32, Value)>,
    /// The upstream's count of output tokens so far (a refusal's
    /// `message_delta` must carry usage; the client reads it).
    output_tokens: u64,
}

/// `Err`: the stream is over, with this outcome.
type Flow = Result<(), Outcome>;

impl Dialect for MessagesStream {
    fn endpoint(&self) -> &'static str {
        super::messages::ENDPOINT
    }

    fn event(&mut self, cx: &mut Cx, data: &str) -> Option<Outcome> {
        // Every event of this API is a JSON object naming its type; anything
        // else (a stray `[DONE]`) is no event an Anthropic client reads.
        let Ok(mut v) = serde_json::from_str::<Value>(data) else { return None };
        self.on_event(cx, &mut v).err()
    }

    fn end(&mut self, cx: &mut Cx, broke: Option<String>) -> Outcome {
        // No `message_stop`: what is held is judged and released, then the
        // client is told the stream broke.
        if let Err(o) = self.release_open(cx) {
            return o;
        }
        let msg = broke.unwrap_or_else(|| "the upstream closed the stream before message_stop".to_string());
        cx.emit_typed(&error_body("api_error", &msg));
        Outcome::UpstreamError
    }
}

impl MessagesStream {
    fn on_event(&mut self, cx: &mut Cx, v: &mut Value) -> Flow {
        let kind = v.get("type").and_then(Value::as_str).unwrap_or("").to_string();
        match kind.as_str() {
            "message_start" => {
                self.count_tokens(v.pointer("/message/usage/output_tokens"));
                cx.emit_typed(v);
            }
            "content_block_start" => self.block_start(cx, v)?,
            "content_block_delta" => self.block_delta(cx, v)?,
            "content_block_stop" => self.block_stop(cx, v)?,
            "message_delta" => {
                self.release_open(cx)?;
                self.count_tokens(v.pointer("/usage/output_tokens"));
                cx.emit_typed(v);
            }
            "message_stop" => {
                self.release_open(cx)?;
                cx.emit_typed(v);
                return Err(Outcome::Done);
            }
            "error" => {
                self.release_open(cx)?;
                cx.emit_typed(v);
                return Err(Outcome::UpstreamError);
            }
            // `ping`, and events this dialect does not know: no model text.
            _ => cx.emit_typed(v),
        }
        Ok(())
    }

    fn count_tokens(&mut self, n: Option<&Value>) {
        if let Some(n) = n.and_then(Value::as_u64) {
            self.output_tokens = self.output_tokens.max(n);
        }
    }

    /// Sends the block's metadata with its text emptied; the text (a start
    /// usually has none, but a tool's whole `input` may come here) goes
    /// through the channel.
    fn block_start(&mut self, cx: &mut Cx, v: &mut Value) -> Flow {
        let index = index_of(v);
        self.open.push(index);
        let block = v.get_mut("content_block");
        let kind = block.as_deref().and_then(|b| b.get("type")).and_then(Value::as_str).and_then(block_kind);
        let (Some(kind), Some(block)) = (kind, block) else {
            cx.emit_typed(v);
            return Ok(());
        };
        let field = block_field(kind);
        if kind == ChannelKind::ToolResult {
            let id = block_channel(kind, index);
            let content = block.get(field).map_or_else(|| "null".to_string(), Value::to_string);
            block[field] = self.judge_whole(cx, id, &content)?;
            cx.emit_typed(v);
            return Ok(());
        }
        let initial = match (kind, block.get(field)) {
            (ChannelKind::ToolArguments, Some(Value::Object(o))) if !o.is_empty() => {
                Value::Object(o.clone()).to_string()
            }
            (ChannelKind::ToolArguments, _) => String::new(),
            (_, t) => t.and_then(Value::as_str).unwrap_or("").to_string(),
        };
        block[field] = if kind == ChannelKind::ToolArguments { json!({}) } else { json!("") };
        cx.emit_typed(v);
        if initial.is_empty() {
            return Ok(());
        }
        let id = block_channel(kind, index);
        let step = run(cx, id, Some(&initial))?;
        self.send_step(cx, id, step)
    }

    /// A JSON document judged whole on channel `id` (a tool's result, a
    /// block's citations): what may be shown of it, still JSON.
    fn judge_whole(&mut self, cx: &mut Cx, id: ChannelId, doc: &str) -> Result<Value, Outcome> {
        let mut shown = String::new();
        for text in [Some(doc), None] {
            let step = run(cx, id, text)?;
            if let Some(decision) = &step.blocked {
                return Err(self.refuse(cx, id, decision));
            }
            shown.push_str(&step.text);
        }
        // The filter redacts inside the JSON's strings, so it parses.
        Ok(serde_json::from_str(&shown).unwrap_or(Value::Null))
    }

    /// The block's held citations, judged together, each sent as the
    /// `citations_delta` it came in, with what may be shown of it.
    fn release_citations(&mut self, cx: &mut Cx, index: u32) -> Flow {
        let (mine, rest): (Vec<_>, Vec<_>) =
            std::mem::take(&mut self.citations).into_iter().partition(|c| c.0 == index);
        self.citations = rest;
        if mine.is_empty() {
            return Ok(());
        }
        let list: Vec<Value> =
            mine.iter().map(|(_, e)| e.pointer("/delta/citation").cloned().unwrap_or(Value::Null)).collect();
        let shown = self.judge_whole(
            cx,
            block_channel(ChannelKind::Citation, index),
            &Value::Array(list).to_string(),
        )?;
        for ((_, mut ev), citation) in mine.into_iter().zip(shown.as_array().cloned().unwrap_or_default()) {
            ev["delta"]["citation"] = citation;
            cx.emit_typed(&ev);
        }
        Ok(())
    }

    /// A text delta goes through its block's channel; a signature and the
    /// citations wait for the block's stop.
    fn block_delta(&mut self, cx: &mut Cx, v: &mut Value) -> Flow {
        let index = index_of(v);
        let dtype = v.pointer("/delta/type").and_then(Value::as_str).unwrap_or("");
        if dtype == "signature_delta" {
            self.signatures.push((index, v.take()));
            return Ok(());
        }
        if dtype == "citations_delta" {
            self.citations.push((index, v.take()));
            return Ok(());
        }
        let Some((kind, field)) = delta_kind(dtype) else {
            cx.emit_typed(v);
            return Ok(());
        };
        let text = v.pointer(&format!("/delta/{field}")).and_then(Value::as_str).unwrap_or("").to_string();
        let id = block_channel(kind, index);
        let step = run(cx, id, Some(&text))?;
        self.send_step(cx, id, step)
    }

    /// The block is complete: its channels release what they held, then the stop.
    fn block_stop(&mut self, cx: &mut Cx, v: &mut Value) -> Flow {
        let index = index_of(v);
        self.release(cx, index)?;
        self.release_citations(cx, index)?;
        self.open.retain(|&i| i != index);
        for (_, sig) in self.signatures.iter().filter(|s| s.0 == index) {
            cx.emit_typed(sig);
        }
        self.signatures.retain(|s| s.0 != index);
        cx.emit_typed(v);
        Ok(())
    }

    /// Completes the channels of block `index` and sends what they held.
    fn release(&mut self, cx: &mut Cx, index: u32) -> Flow {
        for kind in KINDS {
            let id = block_channel(kind, index);
            if cx.filter.has(id) {
                let step = run(cx, id, None)?;
                self.send_step(cx, id, step)?;
            }
        }
        Ok(())
    }

    /// Releases every open block's held text (the stream is ending); the
    /// blocks stay open: their stops are the upstream's to send.
    fn release_open(&mut self, cx: &mut Cx) -> Flow {
        for index in self.open.clone() {
            self.release(cx, index)?;
        }
        Ok(())
    }

    /// Sends what a step released as a delta of its block; a block refuses.
    fn send_step(&mut self, cx: &mut Cx, id: ChannelId, step: Step) -> Flow {
        if let Some(decision) = &step.blocked {
            return Err(self.refuse(cx, id, decision));
        }
        if step.text.is_empty() && (step.annotations.is_empty() || cx.strict()) {
            return Ok(());
        }
        let emitted_before = cx.filter.emitted(id) - step.text.len();
        let mut ev = json!({"type": "content_block_delta", "index": id.item, "delta": delta_value(id.kind, &step.text)});
        if !step.annotations.is_empty() && !cx.strict() {
            ev["recital"] = json!({"annotations": step.annotations, "check_offset": emitted_before, "channel": id.to_string(), "index": id.item});
        }
        cx.emit_typed(&ev);
        Ok(())
    }

    /// Ends the message on a block: the open blocks stopped (nothing more
    /// of them is sent, nor their signatures: a cut thinking block has no
    /// valid one), a refusal, the end. The upstream is dropped.
    fn refuse(&mut self, cx: &mut Cx, id: ChannelId, decision: &Decision) -> Outcome {
        for index in std::mem::take(&mut self.open) {
            cx.emit_typed(&json!({"type": "content_block_stop", "index": index}));
        }
        let delta = json!({"stop_reason": "refusal", "stop_sequence": null, "stop_details": refusal_details(&decision.statement)});
        let mut ev =
            json!({"type": "message_delta", "delta": delta, "usage": {"output_tokens": self.output_tokens}});
        if !cx.strict() {
            ev["recital"] = json!({"action": "block", "channel": id.to_string(), "index": id.item, "statement": decision.statement, "request_id": cx.request_id});
        }
        cx.emit_typed(&ev);
        cx.emit_typed(&json!({"type": "message_stop"}));
        Outcome::Cancelled
    }
}

/// The block index an event names.
fn index_of(v: &Value) -> u32 {
    v.get("index").and_then(Value::as_u64).unwrap_or(0) as u32
}

/// The channel kind of a delta type, and the field holding its text.
fn delta_kind(delta_type: &str) -> Option<(ChannelKind, &'static str)> {
    match delta_type {
        "text_delta" => Some((ChannelKind::Text, "text")),
        "thinking_delta" => Some((ChannelKind::Reasoning, "thinking")),
        "input_json_delta" => Some((ChannelKind::ToolArguments, "partial_json")),
        _ => None,
    }
}

/// A delta of channel `kind` carrying `text`.
fn delta_value(kind: ChannelKind, text: &str) -> Value {
    match kind {
        ChannelKind::Reasoning => json!({"type": "thinking_delta", "thinking": text}),
        ChannelKind::ToolArguments => json!({"type": "input_json_delta", "partial_json": text}),
        _ => json!({"type": "text_delta", "text": text}),
    }
}

/// One filter step; a failure is told to the client (as an `error` event,
/// which its client raises) and the stream stops.
fn run(cx: &mut Cx, id: ChannelId, text: Option<&str>) -> Result<Step, Outcome> {
    cx.run(id, text).map_err(|e| {
        let msg = format!("recital could not check the output: {e}");
        cx.emit_typed(&error_body("api_error", &msg));
        Outcome::Cancelled
    })
}
