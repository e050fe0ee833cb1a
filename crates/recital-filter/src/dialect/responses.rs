//! The OpenAI Responses API's whole answers: an answer is a list of output
//! items (messages with `output_text` and `refusal` parts, reasoning with
//! summary and reasoning text, function and MCP calls with JSON arguments,
//! custom tool calls and code-interpreter calls with free text). Channels
//! are keyed by output item (`choice` = `output_index`) and part (`item` =
//! `content_index` or `summary_index`; reasoning text parts from 1000, so
//! they never share a channel with the summary's).

use serde_json::{json, Value};

use crate::logprobs;
use recital_policy::Action;

use crate::{filter_output, ChannelId, ChannelKind, FilterError, FilteredOutput, Judge};

/// Filters a whole response in place; a block withholds its whole output.
pub fn filter_response(
    judge: &dyn Judge,
    body: &mut Value,
    json_mode: bool,
    context: Option<&str>,
    jurisdiction: &str,
) -> Result<FilteredOutput, FilterError> {
    let found = response_channels(body, json_mode);
    let fields: Vec<(ChannelId, Vec<String>)> = found.iter().map(|(id, p, _)| (*id, p.clone())).collect();
    let refs: Vec<(ChannelId, &str)> = found.iter().map(|(id, _, t)| (*id, t.as_str())).collect();
    let filtered = filter_output(judge, &refs, context, jurisdiction)?;
    rewrite_response(body, &fields, &filtered);
    Ok(filtered)
}

/// Where a text lives in an output item: `(channel, path inside the item)`.
pub fn item_channels(
    output_index: u32,
    item: &Value,
    json_mode: bool,
) -> Vec<(ChannelId, Vec<String>, String)> {
    let mut out = Vec::new();
    let mut add = |kind: ChannelKind, part: usize, path: Vec<String>, v: Option<&Value>| {
        if let Some(t) = v.and_then(Value::as_str) {
            out.push((ChannelId::tool(output_index, kind, part as u32), path, t.to_string()));
        }
    };
    let s = |x: &str| x.to_string();
    let parts = |key: &str| item.get(key).and_then(Value::as_array).cloned().unwrap_or_default();
    match item.get("type").and_then(Value::as_str).unwrap_or("") {
        "message" => {
            for (ci, p) in parts("content").iter().enumerate() {
                match p.get("type").and_then(Value::as_str) {
                    Some("output_text") => add(
                        text_kind(json_mode),
                        ci,
                        vec![s("content"), ci.to_string(), s("text")],
                        p.get("text"),
                    ),
                    Some("refusal") => add(
                        ChannelKind::Refusal,
                        ci,
                        vec![s("content"), ci.to_string(), s("refusal")],
                        p.get("refusal"),
                    ),
                    _ => {}
                }
            }
        }
        "reasoning" => {
            for (si, p) in parts("summary").iter().enumerate() {
                add(ChannelKind::Reasoning, si, vec![s("summary"), si.to_string(), s("text")], p.get("text"));
            }
            // Reasoning text parts are numbered after the summary's, so the two never share a channel.
            for (ci, p) in parts("content").iter().enumerate() {
                add(
                    ChannelKind::Reasoning,
                    1000 + ci,
                    vec![s("content"), ci.to_string(), s("text")],
                    p.get("text"),
                );
            }
        }
        "function_call" => add(ChannelKind::ToolArguments, 0, vec![s("arguments")], item.get("arguments")),
        // What server-side tools returned reaches the client too.
        "mcp_call" => {
            add(ChannelKind::ToolArguments, 0, vec![s("arguments")], item.get("arguments"));
            add(ChannelKind::ToolOutput, 0, vec![s("output")], item.get("output"));
        }
        "custom_tool_call" => add(ChannelKind::ToolInput, 0, vec![s("input")], item.get("input")),
        "code_interpreter_call" => {
            add(ChannelKind::ToolInput, 0, vec![s("code")], item.get("code"));
            for (k, o) in parts("outputs").iter().enumerate() {
                add(ChannelKind::ToolOutput, k, vec![s("outputs"), k.to_string(), s("logs")], o.get("logs"));
            }
        }
        "file_search_call" => {
            for (k, r) in parts("results").iter().enumerate() {
                add(ChannelKind::ToolOutput, k, vec![s("results"), k.to_string(), s("text")], r.get("text"));
            }
        }
        _ => {}
    }
    out
}

/// The kind of an answer's text: JSON under `text.format` json_schema / json_object.
pub fn text_kind(json_mode: bool) -> ChannelKind {
    if json_mode {
        ChannelKind::Structured
    } else {
        ChannelKind::Text
    }
}

/// Every text of a whole response's `output`.
pub fn response_channels(body: &Value, json_mode: bool) -> Vec<(ChannelId, Vec<String>, String)> {
    let mut out = Vec::new();
    for (oi, item) in body.get("output").and_then(Value::as_array).into_iter().flatten().enumerate() {
        for (id, mut path, t) in item_channels(oi as u32, item, json_mode) {
            path.splice(0..0, ["output".to_string(), oi.to_string()]);
            out.push((id, path, t));
        }
    }
    out
}

/// Writes a whole response back as it may be shown.
pub fn rewrite_response(body: &mut Value, fields: &[(ChannelId, Vec<String>)], filtered: &FilteredOutput) {
    if filtered.channels.iter().any(|c| c.decision.action == Action::Block) {
        withhold(body);
        return;
    }
    for (id, path) in fields {
        let Some(r) = filtered.get(*id) else { continue };
        if let Some(f) = super::openai::field_mut(body, path) {
            *f = json!(r.text.clone().unwrap_or_default());
        }
        if matches!(id.kind, ChannelKind::Text | ChannelKind::Structured) && !r.redactions.is_empty() {
            let mut lp_path = path.clone();
            lp_path.pop();
            lp_path.push("logprobs".to_string());
            if let Some(Value::Array(entries)) = super::openai::field_mut(body, &lp_path).map(Value::take) {
                let rebuilt = logprobs::rebuild_chat(entries, &r.redactions);
                if let Some(f) = super::openai::field_mut(body, &lp_path) {
                    *f = Value::Array(rebuilt);
                }
            }
        }
    }
}

/// A blocked response: nothing of what the model wrote is left.
pub fn withhold(response: &mut Value) {
    response["output"] = json!([]);
    response["status"] = json!("incomplete");
    response["incomplete_details"] = json!({"reason": "content_filter"});
}
