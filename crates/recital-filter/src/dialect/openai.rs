//! The OpenAI chat and legacy completions dialects: where each channel of an
//! answer lives in its JSON, whole and streamed.
//!
//! | channel | chat (`message` / `delta`) | completions |
//! |---|---|---|
//! | text | `content` (JSON mode: `structured`) | `text` |
//! | refusal | `refusal` | — |
//! | reasoning | `reasoning_content`, `reasoning` | — |
//! | tool arguments | `tool_calls[k].function.arguments`, `function_call.arguments` | — |
//! | log-probabilities | `logprobs.content`, `logprobs.refusal` (rebuilt) | `logprobs` arrays (rebuilt) |

use serde_json::{json, Value};

use crate::logprobs::{self, TokenQueue};
use crate::{filter_output, ChannelId, ChannelKind, FilterError, FilteredOutput, Judge, Redaction};

/// Which OpenAI response a body is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// `/v1/chat/completions`: a `chat.completion`.
    Chat,
    /// `/v1/completions`: a `text_completion`.
    Completions,
    /// `/v1/responses`: a `response` ([`super::responses`]).
    Responses,
}

impl Dialect {
    /// The `object` a whole response of this dialect names.
    pub fn object(self) -> &'static str {
        match self {
            Dialect::Chat => "chat.completion",
            Dialect::Completions => "text_completion",
            Dialect::Responses => "response",
        }
    }
}

/// Parses a saved whole response, refusing what is not one: not JSON, not an
/// object with a `choices` array, or a response of another dialect (its
/// `object` says so; a streamed chunk is not a whole response). The proxy
/// does not call this: an upstream's answer without choices has nothing to
/// filter and is passed on as it is.
pub fn parse_response(bytes: &[u8], dialect: Dialect) -> Result<Value, FilterError> {
    let want = dialect.object();
    // The Responses API's object is itself called `response`.
    let what = if want == "response" { "Responses API".to_string() } else { want.to_string() };
    let body: Value = serde_json::from_slice(bytes)
        .map_err(|e| FilterError::Input(format!("not a JSON {what} response: {e}")))?;
    if let Some(object) = body.get("object").and_then(Value::as_str) {
        if object != want {
            return Err(FilterError::Input(format!(
                "the response is a {object:?}, not a {want:?} (save a whole, non-streamed response of that endpoint)"
            )));
        }
    }
    let list = if dialect == Dialect::Responses { "output" } else { "choices" };
    if !body.get(list).is_some_and(Value::is_array) {
        return Err(FilterError::Input(format!("not a {want} response: no `{list}` array")));
    }
    Ok(body)
}

/// Filters a whole response in place: every channel of every choice judged
/// at once (`json_mode`: the request asked for a JSON answer, so `content`
/// is judged as a JSON document), then each choice written back as it may
/// be shown, its log-probabilities rebuilt and a blocked choice withheld.
pub fn filter_response(
    judge: &dyn Judge,
    body: &mut Value,
    dialect: Dialect,
    json_mode: bool,
    context: Option<&str>,
    jurisdiction: &str,
) -> Result<FilteredOutput, FilterError> {
    if dialect == Dialect::Responses {
        return super::responses::filter_response(judge, body, json_mode, context, jurisdiction);
    }
    let mut fields: Vec<(u32, ChoiceFields)> = Vec::new();
    let mut texts: Vec<(ChannelId, String)> = Vec::new();
    for (pos, choice) in body.get("choices").and_then(Value::as_array).into_iter().flatten().enumerate() {
        let idx = choice_index(choice, pos);
        let found = match dialect {
            Dialect::Chat => chat_channels(choice.get("message").unwrap_or(&Value::Null), idx, json_mode),
            Dialect::Completions | Dialect::Responses => completion_channels(choice, idx),
        };
        fields.push((idx, found.iter().map(|(id, p, _)| (*id, p.clone())).collect()));
        texts.extend(found.into_iter().map(|(id, _, t)| (id, t)));
    }
    let refs: Vec<(ChannelId, &str)> = texts.iter().map(|(id, t)| (*id, t.as_str())).collect();
    let filtered = filter_output(judge, &refs, context, jurisdiction)?;
    let choices = body.get_mut("choices").and_then(Value::as_array_mut);
    for (pos, choice) in choices.into_iter().flatten().enumerate() {
        let idx = choice_index(choice, pos);
        let f = fields.iter().find(|f| f.0 == idx).map(|f| f.1.as_slice()).unwrap_or(&[]);
        match dialect {
            Dialect::Chat => rewrite_chat_choice(choice, idx, f, &filtered),
            Dialect::Completions | Dialect::Responses => rewrite_completion_choice(choice, idx, &filtered),
        }
    }
    Ok(filtered)
}

/// Where each channel of a whole choice lives: `(channel, field path)`.
type ChoiceFields = Vec<(ChannelId, Vec<String>)>;

/// The one channel of a legacy completion choice: its `text`.
fn completion_channels(choice: &Value, idx: u32) -> Vec<(ChannelId, Vec<String>, String)> {
    choice
        .get("text")
        .and_then(Value::as_str)
        .map(|t| (ChannelId::new(idx, ChannelKind::Text), vec!["text".to_string()], t.to_string()))
        .into_iter()
        .collect()
}

/// The item number of the legacy `function_call` (one per choice, never
/// beside `tool_calls`).
pub const FUNCTION_CALL: u32 = u32::MAX;

/// The reasoning fields servers use (vLLM and DeepSeek `reasoning_content`,
/// others `reasoning`).
pub const REASONING_FIELDS: [&str; 2] = ["reasoning_content", "reasoning"];

/// The choice's index (its position when absent).
pub fn choice_index(choice: &Value, position: usize) -> u32 {
    choice.get("index").and_then(Value::as_u64).map_or(position as u32, |i| i as u32)
}

/// The text-bearing channels of a whole chat `message` (or a streamed
/// `delta`): `(channel, field path, text)`.
pub fn chat_channels(msg: &Value, choice: u32, json_mode: bool) -> Vec<(ChannelId, Vec<String>, String)> {
    let mut out = Vec::new();
    let mut add = |id: ChannelId, path: &[&str], v: Option<&Value>| {
        if let Some(t) = v.and_then(Value::as_str) {
            out.push((id, path.iter().map(|s| s.to_string()).collect(), t.to_string()));
        }
    };
    let text_kind = if json_mode { ChannelKind::Structured } else { ChannelKind::Text };
    add(ChannelId::new(choice, text_kind), &["content"], msg.get("content"));
    add(ChannelId::new(choice, ChannelKind::Refusal), &["refusal"], msg.get("refusal"));
    for f in REASONING_FIELDS {
        add(ChannelId::new(choice, ChannelKind::Reasoning), &[f], msg.get(f));
    }
    for (pos, call) in msg.get("tool_calls").and_then(Value::as_array).into_iter().flatten().enumerate() {
        let k = call.get("index").and_then(Value::as_u64).map_or(pos as u32, |i| i as u32);
        let id = ChannelId::tool(choice, ChannelKind::ToolArguments, k);
        let path = ["tool_calls", &pos.to_string(), "function", "arguments"];
        add(id, &path, call.pointer("/function/arguments"));
    }
    add(
        ChannelId::tool(choice, ChannelKind::ToolArguments, FUNCTION_CALL),
        &["function_call", "arguments"],
        msg.pointer("/function_call/arguments"),
    );
    out
}

/// The field at `path` (object keys and array positions) of `v`.
pub fn field_mut<'a>(v: &'a mut Value, path: &[String]) -> Option<&'a mut Value> {
    path.iter().try_fold(v, |v, k| match v {
        Value::Object(o) => o.get_mut(k),
        Value::Array(a) => k.parse::<usize>().ok().and_then(|i| a.get_mut(i)),
        _ => None,
    })
}

/// Writes a whole chat choice back as it may be shown.
pub fn rewrite_chat_choice(
    choice: &mut Value,
    idx: u32,
    fields: &[(ChannelId, Vec<String>)],
    filtered: &FilteredOutput,
) {
    if filtered.blocked(idx) {
        withhold_chat_choice(choice);
        return;
    }
    let Some(msg) = choice.get_mut("message") else { return };
    for (id, path) in fields {
        if let (Some(r), Some(f)) = (filtered.get(*id), field_mut(msg, path)) {
            *f = r.text.clone().map_or(Value::Null, Value::String);
        }
    }
    let redactions = |kind: ChannelKind| -> Vec<Redaction> {
        filtered
            .channels
            .iter()
            .filter(|c| c.channel.choice == idx && c.channel.kind == kind)
            .flat_map(|c| c.redactions.clone())
            .collect()
    };
    for (key, kind) in [
        ("content", ChannelKind::Text),
        ("content", ChannelKind::Structured),
        ("refusal", ChannelKind::Refusal),
    ] {
        let reds = redactions(kind);
        if reds.is_empty() {
            continue;
        }
        if let Some(list) = choice.pointer_mut(&format!("/logprobs/{key}")) {
            if let Value::Array(entries) = list.take() {
                *list = Value::Array(logprobs::rebuild_chat(entries, &reds));
            }
        }
    }
}

/// A blocked chat choice: nothing of what the model wrote is left.
pub fn withhold_chat_choice(choice: &mut Value) {
    if let Some(Value::Object(msg)) = choice.get_mut("message") {
        let role = msg.get("role").cloned().unwrap_or(json!("assistant"));
        msg.clear();
        msg.insert("role".into(), role);
        // "" rather than null: what this proxy has always answered, and
        // what clients that concatenate content expect.
        msg.insert("content".into(), json!(""));
    }
    choice["logprobs"] = Value::Null;
    choice["finish_reason"] = json!("content_filter");
}

/// Writes a whole legacy completion choice back as it may be shown.
pub fn rewrite_completion_choice(choice: &mut Value, idx: u32, filtered: &FilteredOutput) {
    let id = ChannelId::new(idx, ChannelKind::Text);
    if filtered.blocked(idx) {
        choice["text"] = json!("");
        choice["logprobs"] = Value::Null;
        choice["finish_reason"] = json!("content_filter");
        return;
    }
    let Some(r) = filtered.get(id) else { return };
    choice["text"] = json!(r.text.clone().unwrap_or_default());
    if !r.redactions.is_empty() {
        if let Some(lp) = choice.get_mut("logprobs").filter(|v| v.is_object()) {
            *lp = logprobs::rebuild_completion(lp, &r.redactions);
        }
    }
}

/// Log-probability entries of a streamed choice waiting for their text.
#[derive(Default)]
pub struct LogprobQueues {
    /// `(choice, field)` → queue; `field` is `content`, `refusal` or `text` (completions).
    queues: Vec<((u32, &'static str), TokenQueue)>,
}

impl LogprobQueues {
    fn queue(&mut self, choice: u32, field: &'static str) -> &mut TokenQueue {
        if let Some(i) = self.queues.iter().position(|q| q.0 == (choice, field)) {
            return &mut self.queues[i].1;
        }
        self.queues.push(((choice, field), TokenQueue::new()));
        &mut self.queues.last_mut().expect("just pushed").1
    }

    /// Queues the log-probabilities a streamed chunk's choice carries.
    pub fn push_chat(&mut self, choice: u32, logprobs: &Value) {
        for field in ["content", "refusal"] {
            for e in logprobs.get(field).and_then(Value::as_array).into_iter().flatten() {
                let len = logprobs::chat_entry_len(e);
                self.queue(choice, field).push(e.clone(), len);
            }
        }
    }

    /// Queues a legacy completion chunk's log-probabilities.
    pub fn push_completion(&mut self, choice: u32, logprobs: &Value) {
        for e in logprobs::completion_entries(logprobs) {
            let len = e.get("token").and_then(Value::as_str).map_or(0, str::len);
            self.queue(choice, "text").push(e, len);
        }
    }

    /// Whether any entry was ever queued for this choice's field.
    pub fn has(&self, choice: u32, field: &'static str) -> bool {
        self.queues.iter().any(|q| q.0 == (choice, field))
    }

    /// The entries released with a step's text.
    pub fn release(
        &mut self,
        choice: u32,
        field: &'static str,
        released: usize,
        redactions: &[Redaction],
    ) -> Vec<Value> {
        let marker: &dyn Fn(&str) -> Value =
            if field == "text" { &logprobs::completion_marker } else { &logprobs::chat_marker };
        self.queue(choice, field).release(released, redactions, marker)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saved_responses_of_another_kind_are_refused_with_the_reason() {
        let chat = br#"{"object": "chat.completion", "choices": []}"#;
        assert!(parse_response(chat, Dialect::Chat).is_ok());
        let e = parse_response(chat, Dialect::Completions).unwrap_err().to_string();
        assert!(e.contains("\"chat.completion\", not a \"text_completion\""), "{e}");
        let chunk = br#"{"object": "chat.completion.chunk", "choices": []}"#;
        assert!(parse_response(chunk, Dialect::Chat).unwrap_err().to_string().contains("non-streamed"));
        let e = parse_response(b"[1]", Dialect::Chat).unwrap_err().to_string();
        assert!(e.contains("no `choices` array"), "{e}");
        let e = parse_response(b"Hello", Dialect::Chat).unwrap_err().to_string();
        assert!(e.contains("not a JSON chat.completion response"), "{e}");
        let e = parse_response(b"Hello", Dialect::Responses).unwrap_err().to_string();
        assert!(e.contains("not a JSON Responses API response"), "{e}");
    }
}
