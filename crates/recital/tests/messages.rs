//! The Anthropic Messages API through the real `recital serve` and the
//! official `anthropic` Python client: a protected passage placed in a
//! thinking block, in a tool's input (escaped JSON fragments when streamed)
//! and in a text block, whole and streamed, with keys and open. No run of it
//! reaches the client in any field; clean text passes byte for byte; the tool
//! input stays a JSON object; each decision and audit record names its
//! channel; a block ends the message with `stop_reason: "refusal"` and the
//! client raises nothing.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{json, Value};
use support::raw_upstream::{RawUpstream, Reply};
use support::{all_strings, build_index, client, prose, quote, shares_words, Server};

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/messages_client.py");
const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
const CLEAN: &str =
    "Here is the file you asked for; I kept the layout of the original and added nothing else.";
const KEY: &str = "rk_client_0123456789abcdef";
const UPSTREAM_KEY: &str = "sk-upstream-test";

/// A block of the answer: its whole form and its streamed deltas.
enum Block {
    Thinking(String),
    Redacted,
    Text(String),
    Tool(Value),
    /// A server tool's result: a fetched page, whole in its block's start.
    Fetched(String),
    /// A text with one citation quoting `cited` (streamed: a `citations_delta`).
    Cited(String, String),
}

impl Block {
    fn whole(&self) -> Value {
        match self {
            Block::Thinking(t) => json!({"type": "thinking", "thinking": t, "signature": "c2ln"}),
            Block::Redacted => json!({"type": "redacted_thinking", "data": "ZW5jcnlwdGVk"}),
            Block::Text(t) => json!({"type": "text", "text": t}),
            Block::Tool(input) => {
                json!({"type": "tool_use", "id": "toolu_1", "name": "write_file", "input": input})
            }
            Block::Fetched(page) => json!({"type": "web_fetch_tool_result", "tool_use_id": "srvtoolu_1",
                "content": {"type": "web_fetch_result", "url": "https://example.org/essay",
                            "content": {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": page}, "title": "Essay"}}}),
            Block::Cited(t, q) => json!({"type": "text", "text": t, "citations": [citation(q)]}),
        }
    }

    /// `content_block_start`, the deltas (words, or 7-character pieces of
    /// a tool's JSON), `content_block_stop`.
    fn events(&self, index: usize) -> Vec<Value> {
        let start = match self {
            Block::Thinking(_) => json!({"type": "thinking", "thinking": "", "signature": ""}),
            Block::Text(_) => json!({"type": "text", "text": ""}),
            Block::Tool(_) => json!({"type": "tool_use", "id": "toolu_1", "name": "write_file", "input": {}}),
            Block::Redacted | Block::Fetched(_) => self.whole(),
            Block::Cited(..) => json!({"type": "text", "text": ""}),
        };
        let delta = |d: Value| json!({"type": "content_block_delta", "index": index, "delta": d});
        let mut out = vec![json!({"type": "content_block_start", "index": index, "content_block": start})];
        match self {
            Block::Thinking(t) => {
                out.extend(
                    words(t).into_iter().map(|w| delta(json!({"type": "thinking_delta", "thinking": w}))),
                );
                out.push(delta(json!({"type": "signature_delta", "signature": "c2ln"})));
            }
            Block::Text(t) => {
                out.extend(words(t).into_iter().map(|w| delta(json!({"type": "text_delta", "text": w}))))
            }
            Block::Tool(input) => {
                let chars: Vec<char> = input.to_string().chars().collect();
                out.extend(chars.chunks(7).map(|p| {
                    delta(json!({"type": "input_json_delta", "partial_json": p.iter().collect::<String>()}))
                }));
            }
            Block::Cited(t, q) => {
                out.extend(words(t).into_iter().map(|w| delta(json!({"type": "text_delta", "text": w}))));
                out.push(delta(json!({"type": "citations_delta", "citation": citation(q)})));
            }
            Block::Redacted | Block::Fetched(_) => {}
        }
        out.push(json!({"type": "content_block_stop", "index": index}));
        out
    }
}

fn citation(q: &str) -> Value {
    json!({"type": "web_search_result_location", "cited_text": q, "url": "https://example.org/essay",
           "title": "Essay", "encrypted_index": "ZW5j"})
}

fn words(text: &str) -> Vec<String> {
    text.split(' ').enumerate().map(|(i, w)| if i == 0 { w.to_string() } else { format!(" {w}") }).collect()
}

/// An answer made of `blocks`, whole and streamed; `complete`: the stream
/// ends with `message_delta` and `message_stop` (otherwise it breaks off
/// before its last block's stop).
fn reply(blocks: &[Block], stop_reason: &str, complete: bool) -> Reply {
    let message = |content: Value, stop: Value| {
        json!({"id": "msg_1", "type": "message", "role": "assistant", "model": "m", "content": content,
               "stop_reason": stop, "stop_sequence": null, "usage": {"input_tokens": 12, "output_tokens": 1}})
    };
    let whole = message(blocks.iter().map(Block::whole).collect(), json!(stop_reason));
    let mut events = vec![json!({"type": "message_start", "message": message(json!([]), Value::Null)})];
    events.push(json!({"type": "ping"}));
    for (i, b) in blocks.iter().enumerate() {
        events.extend(b.events(i));
    }
    if complete {
        events.push(json!({"type": "message_delta", "delta": {"stop_reason": stop_reason, "stop_sequence": null}, "usage": {"output_tokens": 400}}));
        events.push(json!({"type": "message_stop"}));
    } else {
        events.pop();
    }
    Reply { whole, events }
}

/// The tool's input: the passage over lines and with a quote, so that its
/// JSON form escapes both.
fn tool_input(q: &str) -> Value {
    json!({"path": "essay.md", "content": q.replacen(' ', "\n", 3).replacen(' ', " \"", 1)})
}

/// Thinking, redacted thinking, clean text, a tool call and a quoting text:
/// the passage is in blocks 0, 3 and 4.
fn quoting_everywhere(q: &str) -> Vec<Block> {
    vec![
        Block::Thinking(format!("The user wants this: {q}")),
        Block::Redacted,
        Block::Text(CLEAN.to_string()),
        Block::Tool(tool_input(q)),
        Block::Text(format!("Sure: {q}")),
    ]
}

/// Whether an object anywhere in `v` has the key `key`.
fn has_key(v: &Value, key: &str) -> bool {
    match v {
        Value::Object(o) => o.contains_key(key) || o.values().any(|x| has_key(x, key)),
        Value::Array(a) => a.iter().any(|x| has_key(x, key)),
        _ => false,
    }
}

fn no_leak(v: &Value, q: &str, what: &str) {
    if let Some(run) = shares_words(&all_strings(v), q, 12) {
        panic!("{what}: a run of the protected passage reached the client: {run:?}\n{v}");
    }
}

/// The streamed deltas of block `index`: field `field` of deltas of type `kind`, joined.
fn streamed(events: &Value, index: u64, kind: &str, field: &str) -> String {
    events
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "content_block_delta" && e["index"] == index && e["delta"]["type"] == kind)
        .map(|e| e["delta"][field].as_str().unwrap().to_string())
        .collect()
}

fn python() -> String {
    if let Some(p) = std::env::var("RECITAL_TEST_PYTHON").ok().filter(|p| !p.trim().is_empty()) {
        return p;
    }
    let o = Command::new("bash")
        .arg(Path::new(ROOT).join("scripts/install-test-deps.sh"))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(o.status.success(), "install-test-deps.sh: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).lines().last().unwrap_or("").trim().to_string()
}

fn run_client(cfg: Value) -> Value {
    let py = python();
    let o = Command::new(&py)
        .arg(SCRIPT)
        .arg(cfg.to_string())
        .env_remove("ANTHROPIC_BASE_URL")
        .env_remove("ANTHROPIC_API_KEY")
        .env_remove("ANTHROPIC_AUTH_TOKEN")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {py}: {e}"));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

fn ok<'a>(r: &'a Value, name: &str) -> &'a Value {
    assert_eq!(r[name]["ok"], true, "{name}: {}", r[name]);
    &r[name]["result"]
}

/// The raw stream's events, which ended without an error.
fn events(r: &Value) -> &Value {
    let s = ok(r, "raw_stream");
    assert_eq!(s["error"], Value::Null, "the stream ended in an error: {s}");
    &s["events"]
}

fn serve(dir: &Path, name: &str, up: &RawUpstream, extra: &[&str]) -> Server {
    let idx = dir.join("idx");
    let db = dir.join(format!("{name}.sqlite"));
    let mut args =
        vec!["--index", idx.to_str().unwrap(), "--db", db.to_str().unwrap(), "--upstream", &up.base];
    args.extend_from_slice(extra);
    Server::start(&args, &[("RECITAL_UPSTREAM_API_KEY", UPSTREAM_KEY)])
}

fn keys_file(dir: &Path) -> PathBuf {
    let p = dir.join("keys.jsonl");
    std::fs::write(&p, format!(r#"{{"name": "acme", "key": "{KEY}", "role": "client"}}"#)).unwrap();
    p
}

fn block_policy(dir: &Path) -> PathBuf {
    let p = dir.join("block.toml");
    let redact =
        "license_class = [\"copyleft\", \"proprietary\", \"noassertion\", \"unknown\"]\naction = \"redact\"";
    let text = std::fs::read_to_string(Path::new(ROOT).join("policies/everywhere.toml")).unwrap();
    assert!(text.contains(redact), "the policy's redact rule moved");
    std::fs::write(&p, text.replace(redact, &redact.replace("\"redact\"", "\"block\""))).unwrap();
    p
}

/// The channels that audit records of `/v1/messages` name.
fn audited_channels(s: &Server) -> Vec<String> {
    let audit: Value = client().get(s.url("/v1/audit")).send().unwrap().json().unwrap();
    audit["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["endpoint"] == "/v1/messages")
        .flat_map(|r| r["channels"].as_array().cloned().unwrap_or_default())
        .map(|c| c.as_str().unwrap().to_string())
        .collect()
}

/// What every redacted answer must show, whole or as the stream helper's
/// final message.
fn check_redacted_message(m: &Value, q: &str, what: &str) {
    no_leak(m, q, what);
    let c = &m["content"];
    assert_eq!(c.as_array().map(Vec::len), Some(5), "{what}: every block is kept: {m}");
    assert!(c[0]["thinking"].as_str().unwrap().starts_with("The user wants this: [redacted"), "{what}: {m}");
    assert_eq!(c[0]["signature"], "c2ln", "{what}: the signature passes");
    assert_eq!(c[1], json!({"type": "redacted_thinking", "data": "ZW5jcnlwdGVk"}), "{what}");
    assert_eq!(c[2]["text"], CLEAN, "{what}: clean text passes byte for byte");
    assert_eq!(c[3]["name"], "write_file", "{what}");
    assert_eq!(c[3]["input"]["path"], "essay.md", "{what}: the tool input stays an object: {m}");
    assert!(c[3]["input"]["content"].as_str().unwrap().contains("[redacted"), "{what}: {m}");
    assert!(c[4]["text"].as_str().unwrap().starts_with("Sure: [redacted"), "{what}: {m}");
    assert_eq!(m["stop_reason"], "tool_use", "{what}");
}

fn check_redacted(r: &Value, q: &str) {
    let w = ok(r, "whole");
    check_redacted_message(w, q, "whole");
    let s = events(r);
    no_leak(s, q, "raw_stream");
    assert_eq!(streamed(s, 2, "text_delta", "text"), CLEAN, "clean streamed text passes byte for byte");
    let args = streamed(s, 3, "input_json_delta", "partial_json");
    let input: Value = serde_json::from_str(&args).unwrap_or_else(|e| panic!("streamed input {args:?}: {e}"));
    assert!(input["content"].as_str().unwrap().contains("[redacted"), "{input}");
    assert!(streamed(s, 0, "thinking_delta", "thinking").starts_with("The user wants this: [redacted"));
    let block0: Vec<&str> = s
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["index"] == 0)
        .map(|e| e["delta"]["type"].as_str().or(e["type"].as_str()).unwrap())
        .collect();
    assert_eq!(block0[block0.len() - 2..], ["signature_delta", "content_block_stop"], "{block0:?}");
    let h = ok(r, "helper_stream");
    check_redacted_message(&h["final"], q, "helper_stream");
    assert_eq!(h["types"].as_array().unwrap().last().unwrap(), "message_stop", "{h}");
    // recital's own errors are in Anthropic's shape, raised as the SDK's classes.
    assert_eq!(r["invalid"]["exception"], "BadRequestError", "{}", r["invalid"]);
    assert_eq!(r["invalid"]["body"]["type"], "error", "{}", r["invalid"]);
    assert_eq!(r["invalid"]["body"]["error"]["type"], "invalid_request_error", "{}", r["invalid"]);
}

#[test]
fn no_block_of_a_message_carries_a_protected_copy() {
    let dir = tempfile::tempdir().unwrap();
    build_index(dir.path());
    let q = quote(&prose(1, 3000), 200, 290);
    let up = RawUpstream::start(reply(&quoting_everywhere(&q), "tool_use", true));
    let open = serve(dir.path(), "open", &up, &[]);
    let keys = keys_file(dir.path());
    let keyed = serve(dir.path(), "keyed", &up, &["--keys", keys.to_str().unwrap()]);

    let r = run_client(json!({"base": open.base}));
    check_redacted(&r, &q);
    let w = ok(&r, "whole");
    let decisions: Vec<(&str, u64)> = w["recital"]["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["channel"].as_str().unwrap(), d["index"].as_u64().unwrap()))
        .collect();
    for want in [("reasoning", 0), ("tool_arguments[3]", 3), ("text", 4)] {
        assert!(decisions.contains(&want), "decision for {want:?}: {decisions:?}");
    }
    let audited = audited_channels(&open);
    for want in ["reasoning", "tool_arguments[3]", "text"] {
        assert!(audited.iter().any(|c| c == want), "audit names {want}: {audited:?}");
    }
    let api: Value = client().get(open.url("/openapi.json")).send().unwrap().json().unwrap();
    assert!(api["paths"]["/v1/messages"]["post"]["description"].is_string(), "the endpoint is described");

    // The upstream was asked at /v1/messages with recital's upstream key,
    // the client's API version and beta flags, never the client's key.
    let seen = up.requests();
    assert!(!seen.is_empty());
    for req in &seen {
        assert_eq!(req.path, "/v1/messages");
        assert_eq!(req.header("x-api-key"), Some(UPSTREAM_KEY));
        assert_eq!(req.header("anthropic-version"), Some("2023-06-01"));
        assert_eq!(req.header("anthropic-beta"), Some("recital-test-beta"));
    }

    // With keys: the client's x-api-key is recital's key; a wrong one is
    // the SDK's AuthenticationError.
    let r = run_client(json!({"base": keyed.base, "key": KEY, "bad_key": "rk_wrong"}));
    check_redacted(&r, &q);
    let bad = &r["bad_key"];
    assert_eq!(bad["exception"], "AuthenticationError", "{bad}");
    assert_eq!(bad["body"]["error"]["type"], "authentication_error", "{bad}");
}

#[test]
fn a_block_ends_the_message_with_a_refusal() {
    let dir = tempfile::tempdir().unwrap();
    build_index(dir.path());
    let q = quote(&prose(1, 3000), 200, 290);
    let blocks =
        [Block::Text(CLEAN.to_string()), Block::Tool(tool_input(&q)), Block::Text(CLEAN.to_string())];
    let up = RawUpstream::start(reply(&blocks, "tool_use", true));
    let pol = block_policy(dir.path());
    let s = serve(dir.path(), "block", &up, &["--policy", pol.to_str().unwrap()]);
    let r = run_client(json!({"base": s.base}));

    let w = ok(&r, "whole");
    no_leak(w, &q, "whole");
    assert_eq!(w["stop_reason"], "refusal", "{w}");
    assert_eq!(w["content"], json!([]), "nothing of a blocked message is left: {w}");
    assert_eq!(w["recital"]["decisions"][0]["channel"], "tool_arguments[1]", "{w}");
    assert_eq!(w["recital"]["decisions"][0]["action"], "block", "{w}");

    let ev = events(&r);
    no_leak(ev, &q, "raw_stream");
    let types: Vec<&str> = ev.as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        &types[types.len() - 3..],
        ["content_block_stop", "message_delta", "message_stop"],
        "{types:?}"
    );
    assert_eq!(ev[types.len() - 3]["index"], 1, "the open tool block is stopped: {ev}");
    let md = &ev[types.len() - 2];
    assert_eq!(md["delta"]["stop_reason"], "refusal", "{md}");
    assert_eq!(md["recital"]["channel"], "tool_arguments[1]", "{md}");
    assert_eq!(streamed(ev, 0, "text_delta", "text"), CLEAN, "what came before the block is intact");
    assert!(!ev.as_array().unwrap().iter().any(|e| e["index"] == 2), "the block after is never started");

    let h = ok(&r, "helper_stream");
    no_leak(h, &q, "helper_stream");
    assert_eq!(h["final"]["stop_reason"], "refusal", "{h}");
    assert_eq!(h["final"]["content"][0]["text"], CLEAN, "{h}");
    assert!(audited_channels(&s).iter().any(|c| c == "tool_arguments[1]"));

    // --strict-openai: the same refusal, and no `recital` field anywhere.
    let strict = serve(dir.path(), "strict", &up, &["--policy", pol.to_str().unwrap(), "--strict-openai"]);
    let r = run_client(json!({"base": strict.base}));
    assert_eq!(ok(&r, "whole")["stop_reason"], "refusal");
    let ev = events(&r);
    assert!(ev.as_array().unwrap().iter().any(|e| e["delta"]["stop_reason"] == "refusal"), "{ev}");
    for case in [ok(&r, "whole"), ev] {
        assert!(!has_key(case, "recital"), "strict: {case}");
    }
}

#[test]
fn an_upstream_that_stops_short_releases_what_is_held_then_errors() {
    let dir = tempfile::tempdir().unwrap();
    build_index(dir.path());
    let up = RawUpstream::start(reply(&[Block::Text(CLEAN.to_string())], "end_turn", false));
    let s = serve(dir.path(), "short", &up, &[]);
    let r = run_client(json!({"base": s.base}));
    let st = ok(&r, "raw_stream");
    assert_eq!(streamed(&st["events"], 0, "text_delta", "text"), CLEAN, "the held text is released: {st}");
    assert_eq!(st["error"]["body"]["type"], "error", "the client is told the stream broke: {st}");
    assert_eq!(st["error"]["body"]["error"]["type"], "api_error", "{st}");
}

#[test]
fn server_tool_results_and_citations_are_checked_and_beta_calls_pass() {
    let dir = tempfile::tempdir().unwrap();
    build_index(dir.path());
    let q = quote(&prose(1, 3000), 200, 290);
    let blocks = [Block::Fetched(format!("Essay\n\n{q}")), Block::Cited(CLEAN.to_string(), q.clone())];
    let up = RawUpstream::start(reply(&blocks, "end_turn", true));
    let s = serve(dir.path(), "tools", &up, &[]);
    let r = run_client(json!({"base": s.base, "extras": true}));
    for (name, m) in [
        ("whole", ok(&r, "whole")),
        ("helper_stream", &ok(&r, "helper_stream")["final"]),
        ("beta_whole", ok(&r, "beta_whole")),
    ] {
        no_leak(m, &q, name);
        let c = &m["content"];
        assert_eq!(c[0]["type"], "web_fetch_tool_result", "{name}: {m}");
        let page =
            c[0]["content"]["content"]["source"]["data"].as_str().unwrap_or_else(|| panic!("{name}: {m}"));
        assert!(page.starts_with("Essay\n\n[redacted"), "{name}: the page is redacted in place: {page}");
        assert_eq!(c[1]["text"], CLEAN, "{name}: the text passes");
        let cited = c[1]["citations"][0]["cited_text"].as_str().unwrap_or_else(|| panic!("{name}: {m}"));
        assert!(cited.contains("[redacted"), "{name}: {cited}");
        assert_eq!(c[1]["citations"][0]["url"], "https://example.org/essay", "{name}");
    }
    no_leak(events(&r), &q, "raw_stream");
    let audited = audited_channels(&s);
    for want in ["tool_result[0]", "citation[1]"] {
        assert!(audited.iter().any(|c| c == want), "audit names {want}: {audited:?}");
    }
    // count_tokens is forwarded; the beta call's query string reaches the upstream.
    assert_eq!(r["count_tokens"]["ok"], true, "{}", r["count_tokens"]);
    let paths: Vec<String> = up.requests().into_iter().map(|s| s.path).collect();
    assert!(paths.iter().any(|p| p == "/v1/messages/count_tokens"), "{paths:?}");
    assert!(paths.iter().any(|p| p == "/v1/messages?beta=true"), "{paths:?}");
}
