//! Every channel of an answer, through the real `recital serve` and the
//! official `openai` Python client: a protected passage placed in the
//! reasoning, in a tool call's JSON arguments (escaped), in a second choice's
//! content and in the log-probabilities that repeat it, whole and streamed,
//! chat and legacy completions. No run of it reaches the client in any
//! field; clean text passes byte for byte; the JSON stays valid; each
//! decision and audit record names its channel.

mod support;

use std::process::{Command, Stdio};

use serde_json::{json, Value};
use support::raw_upstream::{RawUpstream, Reply};
use support::{all_strings, build_index, client, prose, quote, shares_words, Server};

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/channels_client.py");
const CLEAN: &str =
    "Here is the file you asked for; I kept the layout of the original and added nothing else.";

/// Log-probability entries for `text`, one per word (with the space before it).
fn chat_logprobs(text: &str) -> Vec<Value> {
    words(text)
        .into_iter()
        .map(|w| json!({"token": w, "logprob": -0.25, "bytes": w.as_bytes(), "top_logprobs": [{"token": w, "logprob": -0.25, "bytes": w.as_bytes()}]}))
        .collect()
}

fn words(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (i, w) in text.split(' ').enumerate() {
        out.push(if i == 0 { w.to_string() } else { format!(" {w}") });
    }
    out
}

/// The whole and streamed chat answers: choice 0 reasons with the passage
/// and writes it into a file through a tool call; choice 1 quotes it.
fn chat_reply(q: &str) -> Reply {
    let args =
        json!({"path": "essay.md", "content": q.replacen(' ', "\n", 3).replacen(' ', " \"", 1)}).to_string();
    let quoting = format!("Sure: {q}");
    let env = |choices: Value| json!({"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m", "choices": choices});
    let whole = json!({"id": "c1", "object": "chat.completion", "created": 1, "model": "m", "choices": [
        {"index": 0, "finish_reason": "tool_calls", "logprobs": null, "message": {"role": "assistant", "content": CLEAN,
            "reasoning_content": format!("The user wants this: {q}"),
            "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "write_file", "arguments": args}}]}},
        {"index": 1, "finish_reason": "stop", "message": {"role": "assistant", "content": quoting},
            "logprobs": {"content": chat_logprobs(&quoting)}}]});
    let mut events = vec![env(
        json!([{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": null}]),
    )];
    for w in words(&format!("The user wants this: {q}")) {
        events.push(env(json!([{"index": 0, "delta": {"reasoning_content": w}, "finish_reason": null}])));
    }
    for w in words(CLEAN) {
        events.push(env(json!([{"index": 0, "delta": {"content": w}, "finish_reason": null}])));
    }
    events.push(env(json!([{"index": 0, "delta": {"tool_calls": [{"index": 0, "id": "call_1", "type": "function", "function": {"name": "write_file", "arguments": ""}}]}, "finish_reason": null}])));
    let chars: Vec<char> = args.chars().collect();
    for piece in chars.chunks(7) {
        let a: String = piece.iter().collect();
        events.push(env(json!([{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": a}}]}, "finish_reason": null}])));
    }
    events.push(env(json!([{"index": 0, "delta": {}, "finish_reason": "tool_calls"}])));
    for w in words(&quoting) {
        let lp = chat_logprobs(&w);
        events.push(env(json!([{"index": 1, "delta": {"content": w}, "logprobs": {"content": lp}, "finish_reason": null}])));
    }
    events.push(env(json!([{"index": 1, "delta": {}, "finish_reason": "stop"}])));
    Reply { whole, events }
}

fn completion_reply(q: &str) -> Reply {
    let text = format!("Sure: {q}");
    let ws = words(&text);
    let arrays = |ws: &[String], at: usize| {
        let mut off = at;
        let offsets: Vec<usize> = ws
            .iter()
            .map(|w| {
                let o = off;
                off += w.len();
                o
            })
            .collect();
        json!({"tokens": ws, "token_logprobs": vec![-0.5; ws.len()],
               "top_logprobs": ws.iter().map(|w| json!({ w.clone(): -0.5 })).collect::<Vec<_>>(), "text_offset": offsets})
    };
    let whole = json!({"id": "t1", "object": "text_completion", "created": 1, "model": "m",
        "choices": [{"index": 0, "text": text, "finish_reason": "stop", "logprobs": arrays(&ws, 0)}]});
    let mut events = Vec::new();
    let mut at = 0;
    for w in &ws {
        events.push(json!({"id": "t1", "object": "text_completion", "created": 1, "model": "m",
            "choices": [{"index": 0, "text": w, "finish_reason": null, "logprobs": arrays(std::slice::from_ref(w), at)}]}));
        at += w.len();
    }
    events.push(json!({"id": "t1", "object": "text_completion", "created": 1, "model": "m",
        "choices": [{"index": 0, "text": "", "finish_reason": "stop", "logprobs": null}]}));
    Reply { whole, events }
}

/// The streamed field `pick` of choice `idx`, reassembled.
fn streamed(chunks: &Value, idx: u64, pick: &dyn Fn(&Value) -> Option<String>) -> String {
    chunks
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["choices"].as_array().cloned().unwrap_or_default())
        .filter(|c| c["index"] == idx)
        .filter_map(|c| pick(&c))
        .collect()
}

fn run_client(base: &str) -> Value {
    run_cases(base, None)
}

fn run_cases(base: &str, cases: Option<&[&str]>) -> Value {
    let py =
        std::env::var("RECITAL_TEST_PYTHON").ok().filter(|p| !p.trim().is_empty()).unwrap_or_else(|| {
            let o = Command::new("bash")
                .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/install-test-deps.sh"))
                .stdin(Stdio::null())
                .output()
                .unwrap();
            String::from_utf8_lossy(&o.stdout).lines().last().unwrap_or("").trim().to_string()
        });
    let o = Command::new(&py)
        .arg(SCRIPT)
        .arg(
            match cases {
                Some(c) => json!({"base": base, "cases": c}),
                None => json!({"base": base}),
            }
            .to_string(),
        )
        .env_remove("OPENAI_BASE_URL")
        .env_remove("OPENAI_API_KEY")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {py}: {e}"));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

fn ok<'a>(r: &'a Value, name: &str) -> &'a Value {
    assert_eq!(r[name]["ok"], true, "{name}: {}", r[name]);
    &r[name]["result"]
}

#[test]
fn no_channel_of_an_answer_carries_a_protected_copy() {
    let dir = tempfile::tempdir().unwrap();
    let idx = build_index(dir.path());
    let q = quote(&prose(1, 3000), 200, 290);
    let up_chat = RawUpstream::start(chat_reply(&q));
    let up_text = RawUpstream::start(completion_reply(&q));
    let db = |n: &str| dir.path().join(n).to_str().unwrap().to_string();
    let (d1, d2) = (db("a.sqlite"), db("b.sqlite"));
    let s_chat =
        Server::start(&["--index", idx.to_str().unwrap(), "--db", &d1, "--upstream", &up_chat.base], &[]);
    let s_text =
        Server::start(&["--index", idx.to_str().unwrap(), "--db", &d2, "--upstream", &up_text.base], &[]);

    let r = run_client(&s_chat.base);
    let leak = |v: &Value, what: &str| {
        if let Some(run) = shares_words(&all_strings(v), &q, 12) {
            panic!("{what}: a run of the protected passage reached the client: {run:?}\n{v}");
        }
    };
    // Whole chat, n = 2.
    let w = ok(&r, "chat_whole");
    leak(w, "chat_whole");
    let c0 = &w["choices"][0]["message"];
    assert_eq!(c0["content"], CLEAN, "clean content passes byte for byte: {w}");
    let args: Value = serde_json::from_str(c0["tool_calls"][0]["function"]["arguments"].as_str().unwrap())
        .expect("tool arguments stay valid JSON");
    assert_eq!(args["path"], "essay.md");
    assert!(args["content"].as_str().unwrap().contains("[redacted"), "{args}");
    assert_eq!(c0["tool_calls"][0]["function"]["name"], "write_file");
    let c1 = &w["choices"][1];
    let shown = c1["message"]["content"].as_str().unwrap();
    assert!(shown.starts_with("Sure: [redacted"), "{shown}");
    let lp: String =
        c1["logprobs"]["content"].as_array().unwrap().iter().map(|e| e["token"].as_str().unwrap()).collect();
    assert_eq!(lp, shown, "log-probability tokens concatenate to the text shown");
    let channels: Vec<&str> = w["recital"]["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["channel"].as_str().unwrap())
        .collect();
    for want in ["reasoning", "tool_arguments[0]", "choice 1: text"] {
        assert!(channels.contains(&want), "decision for {want}: {channels:?}");
    }

    // Streamed chat, n = 2.
    let s = ok(&r, "chat_stream");
    leak(s, "chat_stream");
    let content0 = streamed(s, 0, &|c| c["delta"]["content"].as_str().map(str::to_string));
    assert_eq!(content0, CLEAN, "clean streamed content passes byte for byte");
    let args0 = streamed(s, 0, &|c| {
        c["delta"]["tool_calls"]
            .as_array()
            .and_then(|a| a[0]["function"]["arguments"].as_str().map(str::to_string))
    });
    let args: Value =
        serde_json::from_str(&args0).unwrap_or_else(|e| panic!("streamed arguments {args0:?}: {e}"));
    assert!(args["content"].as_str().unwrap().contains("[redacted"), "{args}");
    let name0 = streamed(s, 0, &|c| {
        c["delta"]["tool_calls"]
            .as_array()
            .and_then(|a| a[0]["function"]["name"].as_str().map(str::to_string))
    });
    assert_eq!(name0, "write_file");
    let reasoning = streamed(s, 0, &|c| c["delta"]["reasoning_content"].as_str().map(str::to_string));
    assert!(reasoning.starts_with("The user wants this: [redacted"), "{reasoning}");
    let content1 = streamed(s, 1, &|c| c["delta"]["content"].as_str().map(str::to_string));
    let lp1 = streamed(s, 1, &|c| {
        c["logprobs"]["content"]
            .as_array()
            .map(|a| a.iter().map(|e| e["token"].as_str().unwrap_or("")).collect())
    });
    assert!(content1.starts_with("Sure: [redacted"), "{content1}");
    assert_eq!(lp1, content1, "streamed log-probabilities are forwarded and rebuilt");

    // Legacy completions.
    let r = run_client(&s_text.base);
    for case in ["completion_whole", "completion_stream"] {
        leak(ok(&r, case), case);
    }
    let w = ok(&r, "completion_whole");
    let shown = w["choices"][0]["text"].as_str().unwrap();
    let toks: String = w["choices"][0]["logprobs"]["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert_eq!(toks, shown);

    // The audit log names the channels.
    let audit: Value = client().get(s_chat.url("/v1/audit")).send().unwrap().json().unwrap();
    let text = audit.to_string();
    assert!(text.contains("tool_arguments[0]") && text.contains("reasoning"), "{audit}");
}

/// `text` as a reader sees it: tags, link destinations and emphasis marks
/// dropped, so a run of copied words split by markup still counts as a run.
fn markup_stripped(text: &str) -> String {
    let mut out = String::new();
    let mut skip: Option<char> = None;
    let mut prev = ' ';
    for c in text.chars() {
        match (skip, c) {
            (Some(end), c) if c == end => skip = None,
            (Some(_), _) => {}
            (None, '<') => skip = Some('>'),
            (None, '(') if prev == ']' => skip = Some(')'),
            (None, '*' | '[' | ']') => {}
            (None, c) => out.push(c),
        }
        prev = c;
    }
    out
}

/// Words of `q` joined with `wrap(i, word)` applied to each.
fn wrapped(q: &str, wrap: impl Fn(usize, &str) -> String) -> String {
    q.split_whitespace().enumerate().map(|(i, w)| wrap(i, w)).collect::<Vec<_>>().join(" ")
}

/// A streamed chat answer whose choice `k` streams `texts[k]` a word at a time.
fn chat_stream_reply(texts: &[String]) -> Reply {
    let env = |choices: Value| json!({"id": "c2", "object": "chat.completion.chunk", "created": 1, "model": "m", "choices": choices});
    let mut events = Vec::new();
    for (k, t) in texts.iter().enumerate() {
        events.push(env(
            json!([{"index": k, "delta": {"role": "assistant", "content": ""}, "finish_reason": null}]),
        ));
        for w in words(t) {
            events.push(env(json!([{"index": k, "delta": {"content": w}, "finish_reason": null}])));
        }
        events.push(env(json!([{"index": k, "delta": {}, "finish_reason": "stop"}])));
    }
    Reply { whole: json!({}), events }
}

/// Issue 15 items 5 and 7: streamed through the proxy to the official
/// client, a copy wrapped in Markdown (emphasis on a third of the words, a
/// link), one wrapped in HTML, and a near copy (every 9th word changed) in
/// plain content channels are each redacted before any run of 12 of their
/// words reaches the client, and no byte of a flagged copy is released
/// before its decision (the service's leaked-bytes counter stays 0).
#[test]
fn streamed_copies_inside_markup_and_near_copies_never_reach_the_client() {
    let dir = tempfile::tempdir().unwrap();
    let idx = build_index(dir.path());
    let q = quote(&prose(1, 3000), 200, 290);
    let markdown = wrapped(&q, |i, w| match i % 10 {
        9 => format!("[{w}](https://example.org/notes/{i}/page)"),
        _ if i % 3 == 0 => format!("**{w}**"),
        _ => w.to_string(),
    });
    let html = wrapped(&q, |i, w| match i % 4 {
        0 => format!("<b>{w}</b>"),
        2 => format!("<span class=\"w{i}\">{w}</span>"),
        _ => w.to_string(),
    });
    let near = wrapped(&q, |i, w| if i % 9 == 8 { format!("x{i}word") } else { w.to_string() });
    let texts = [
        format!("Here it is, with my emphasis:\n\n{markdown}\n\nI hope it helps."),
        format!("<p>Here it is:</p>\n<p>{html}</p>"),
        format!("Here it is: {near} I hope it helps."),
    ];
    let up = RawUpstream::start(chat_stream_reply(&texts));
    let db = dir.path().join("db.sqlite");
    let s = Server::start(
        &["--index", idx.to_str().unwrap(), "--db", db.to_str().unwrap(), "--upstream", &up.base],
        &[],
    );
    let r = run_cases(&s.base, Some(&["chat_stream_n3"]));
    let chunks = ok(&r, "chat_stream_n3");
    for (k, what) in ["markdown", "html", "near"].iter().enumerate() {
        let content = streamed(chunks, k as u64, &|c| c["delta"]["content"].as_str().map(str::to_string));
        if let Some(run) = shares_words(&markup_stripped(&content), &q, 12) {
            panic!("{what}: a run of the passage reached the client: {run:?}\n{content}");
        }
        assert!(content.contains("[redacted"), "{what}: {content}");
        assert!(
            content.starts_with("Here it is") || content.starts_with("<p>Here it is"),
            "{what}: {content}"
        );
    }
    let m = client().get(s.url("/metrics")).send().unwrap().text().unwrap();
    assert!(m.contains("recital_stream_leaked_bytes_total 0\n"), "{m}");
}

#[test]
fn markup_stripped_reads_words_through_tags_links_and_emphasis() {
    let t = "<p>a <b>b</b> **c** [d](https://x.test/e) f</p>";
    assert_eq!(markup_stripped(t).split_whitespace().collect::<Vec<_>>(), ["a", "b", "c", "d", "f"]);
}

/// The Responses API answer: reasoning summary with the passage, a function
/// call writing it (escaped JSON), and a message quoting it with
/// log-probabilities; every text also repeated whole in the `.done` events
/// and `response.completed`, as OpenAI's server sends them.
fn responses_reply(q: &str) -> Reply {
    let args = json!({"path": "essay.md", "content": q.replacen(' ', "\n", 3)}).to_string();
    let (reason, says) = (format!("The user wants: {q}"), format!("Sure: {q}"));
    let lps: Vec<Value> =
        words(&says).iter().map(|w| json!({"token": w, "logprob": -0.1, "top_logprobs": []})).collect();
    let reasoning = |text: &str| json!({"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": text}]});
    let call = |a: &str| json!({"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "write_file", "arguments": a, "status": "completed"});
    let message = |t: &str, lp: &[Value]| {
        json!({"type": "message", "id": "msg_1", "role": "assistant", "status": "completed",
        "content": [{"type": "output_text", "text": t, "annotations": [], "logprobs": lp}]})
    };
    let response = |output: Value, status: &str| {
        json!({"id": "resp_1", "object": "response", "created_at": 1, "model": "m",
        "status": status, "output": output, "parallel_tool_calls": true, "tool_choice": "auto", "tools": []})
    };
    // A server-side MCP tool whose output quotes the passage.
    let mcp = |out: Value| json!({"type": "mcp_call", "id": "mcp_1", "server_label": "library", "name": "fetch_page", "arguments": "{\"page\": 3}", "output": out, "error": null});
    let fetched = format!("Page 3:\n{q}");
    let whole = response(
        json!([reasoning(&reason), call(&args), message(&says, &lps), mcp(json!(fetched))]),
        "completed",
    );
    let mut ev = vec![
        json!({"type": "response.created", "sequence_number": 0, "response": response(json!([]), "in_progress")}),
    ];
    let mut push = |mut e: Value| {
        e["sequence_number"] = json!(ev.len());
        ev.push(e);
    };
    push(json!({"type": "response.output_item.added", "output_index": 0, "item": reasoning("")}));
    for w in words(&reason) {
        push(
            json!({"type": "response.reasoning_summary_text.delta", "item_id": "rs_1", "output_index": 0, "summary_index": 0, "delta": w}),
        );
    }
    push(
        json!({"type": "response.reasoning_summary_text.done", "item_id": "rs_1", "output_index": 0, "summary_index": 0, "text": reason}),
    );
    push(
        json!({"type": "response.reasoning_summary_part.done", "item_id": "rs_1", "output_index": 0, "summary_index": 0, "part": {"type": "summary_text", "text": reason}}),
    );
    push(json!({"type": "response.output_item.done", "output_index": 0, "item": reasoning(&reason)}));
    push(json!({"type": "response.output_item.added", "output_index": 1, "item": call("")}));
    let chars: Vec<char> = args.chars().collect();
    for piece in chars.chunks(9) {
        push(
            json!({"type": "response.function_call_arguments.delta", "item_id": "fc_1", "output_index": 1, "delta": piece.iter().collect::<String>()}),
        );
    }
    push(
        json!({"type": "response.function_call_arguments.done", "item_id": "fc_1", "output_index": 1, "name": "write_file", "arguments": args}),
    );
    push(json!({"type": "response.output_item.done", "output_index": 1, "item": call(&args)}));
    push(json!({"type": "response.output_item.added", "output_index": 2, "item": message("", &[])}));
    push(
        json!({"type": "response.content_part.added", "item_id": "msg_1", "output_index": 2, "content_index": 0, "part": {"type": "output_text", "text": "", "annotations": []}}),
    );
    for (w, lp) in words(&says).into_iter().zip(&lps) {
        push(
            json!({"type": "response.output_text.delta", "item_id": "msg_1", "output_index": 2, "content_index": 0, "delta": w, "logprobs": [lp]}),
        );
    }
    push(
        json!({"type": "response.output_text.done", "item_id": "msg_1", "output_index": 2, "content_index": 0, "text": says, "logprobs": lps}),
    );
    push(
        json!({"type": "response.content_part.done", "item_id": "msg_1", "output_index": 2, "content_index": 0, "part": {"type": "output_text", "text": says, "annotations": [], "logprobs": lps}}),
    );
    push(json!({"type": "response.output_item.done", "output_index": 2, "item": message(&says, &lps)}));
    push(json!({"type": "response.output_item.added", "output_index": 3, "item": mcp(Value::Null)}));
    push(json!({"type": "response.output_item.done", "output_index": 3, "item": mcp(json!(fetched))}));
    push(json!({"type": "response.completed", "response": whole.clone()}));
    Reply { whole, events: ev }
}

#[test]
fn the_responses_api_is_filtered_in_every_item_and_event() {
    let dir = tempfile::tempdir().unwrap();
    let idx = build_index(dir.path());
    let q = quote(&prose(1, 3000), 200, 290);
    let up = RawUpstream::start(responses_reply(&q));
    let db = dir.path().join("r.sqlite");
    let s = Server::start(
        &["--index", idx.to_str().unwrap(), "--db", db.to_str().unwrap(), "--upstream", &up.base],
        &[],
    );
    let r = run_cases(&s.base, Some(&["responses_whole", "responses_stream"]));
    let leak = |v: &Value, what: &str| {
        if let Some(run) = shares_words(&all_strings(v), &q, 12) {
            panic!("{what}: a run of the protected passage reached the client: {run:?}\n{v}");
        }
    };
    let w = ok(&r, "responses_whole");
    leak(w, "responses_whole");
    let out = w["output"].as_array().unwrap();
    assert!(out[0]["summary"][0]["text"].as_str().unwrap().starts_with("The user wants: [redacted"), "{w}");
    let args: Value =
        serde_json::from_str(out[1]["arguments"].as_str().unwrap()).expect("arguments stay JSON");
    assert!(args["content"].as_str().unwrap().contains("[redacted"), "{args}");
    let shown = out[2]["content"][0]["text"].as_str().unwrap();
    assert!(shown.starts_with("Sure: [redacted"), "{shown}");
    let lp: String = out[2]["content"][0]["logprobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["token"].as_str().unwrap())
        .collect();
    assert_eq!(lp, shown, "log-probability tokens concatenate to the text shown");
    let fetched = out[3]["output"].as_str().unwrap();
    assert!(fetched.starts_with("Page 3:\n[redacted"), "a server tool's output is redacted: {fetched}");
    let channels = w["recital"]["decisions"].to_string();
    assert!(
        channels.contains("reasoning")
            && channels.contains("tool_arguments")
            && channels.contains("text")
            && channels.contains("tool_output"),
        "{channels}"
    );

    let st = ok(&r, "responses_stream");
    leak(st, "responses_stream");
    let evs = st.as_array().unwrap();
    let text: String = evs
        .iter()
        .filter(|e| e["type"] == "response.output_text.delta")
        .map(|e| e["delta"].as_str().unwrap().to_string())
        .collect();
    assert!(text.starts_with("Sure: [redacted"), "{text}");
    let args: String = evs
        .iter()
        .filter(|e| e["type"] == "response.function_call_arguments.delta")
        .map(|e| e["delta"].as_str().unwrap().to_string())
        .collect();
    let parsed: Value =
        serde_json::from_str(&args).unwrap_or_else(|e| panic!("streamed arguments {args:?}: {e}"));
    assert!(parsed["content"].as_str().unwrap().contains("[redacted"));
    let done = evs.iter().find(|e| e["type"] == "response.completed").expect("completed event");
    assert_eq!(
        done["response"]["output"][2]["content"][0]["text"].as_str().unwrap(),
        text,
        "the final response repeats what was streamed"
    );
    let audit: Value = client().get(s.url("/v1/audit")).send().unwrap().json().unwrap();
    assert!(audit.to_string().contains("/v1/responses"), "{audit}");
}
