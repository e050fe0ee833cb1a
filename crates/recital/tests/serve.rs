//! `recital serve` end to end: the real binary on loopback with a real index
//! and a scripted OpenAI-compatible upstream.

mod support;

use std::time::Duration;

use serde_json::{json, Value};
use support::upstream::{Script, Upstream};
use support::{build_index, chat_stream_content, client, prose, quote, shares_words, sse_events, Server};

const POLICIES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../policies");

fn policy(name: &str) -> String {
    format!("{POLICIES}/{name}.toml")
}

/// A model answer that quotes 90 words of `doc` (seed) between words of its own.
fn answer_quoting(seed: u64) -> (String, String) {
    let q = quote(&prose(seed, 3000), 200, 290);
    (format!("Certainly. Here is the passage you asked about: {q} I hope this helps with your essay."), q)
}

fn chat_req(stream: bool) -> Value {
    json!({"model": "scripted", "stream": stream, "messages": [{"role": "user", "content": "Quote the passage, please."}]})
}

#[test]
fn stream_redacts_a_protected_copy_and_never_emits_its_words() {
    let dir = tempfile::tempdir().unwrap();
    let idx = build_index(dir.path());
    let (text, q) = answer_quoting(1);
    let up = Upstream::start(Script { text: text.clone(), delay: Duration::from_millis(2), die_after: None });
    let db = dir.path().join("db.sqlite");
    let s = Server::start(
        &["--index", idx.to_str().unwrap(), "--db", db.to_str().unwrap(), "--upstream", &up.base],
        &[],
    );
    let resp = client().post(s.url("/v1/chat/completions")).json(&chat_req(true)).send().unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
    let events = sse_events(resp);
    assert_eq!(events.last().map(String::as_str), Some("[DONE]"));
    let (content, finish, ext) = chat_stream_content(&events);
    assert_eq!(finish.as_deref(), Some("stop"));
    assert!(content.starts_with("Certainly. Here is the passage you asked about:"), "{content}");
    assert!(content.ends_with("I hope this helps with your essay."), "{content}");
    // Exactly the copy is replaced: not one of its words leaves, everything else does.
    assert_eq!(
        content,
        "Certainly. Here is the passage you asked about: [redacted: copies novel.txt (LicenseRef-Proprietary)] I hope this helps with your essay."
    );
    // No 6 consecutive words of the protected passage ever left the proxy.
    assert_eq!(shares_words(&content, &q, 6), None, "{content}");
    let cites =
        ext.iter().flat_map(|e| e["annotations"].as_array().cloned().unwrap_or_default()).collect::<Vec<_>>();
    assert!(!cites.is_empty(), "a redaction travels with a citation: {ext:?}");
    let c = &cites[0];
    assert_eq!(c["action"], "redact");
    assert_eq!(c["citations"][0]["license"], "LicenseRef-Proprietary");
    assert_eq!(c["citations"][0]["url"], "https://example.org/novel");
    let (a, b) = (c["start_offset"].as_u64().unwrap() as usize, c["end_offset"].as_u64().unwrap() as usize);
    assert!(
        content[a..b].starts_with("[redacted"),
        "annotation offsets point at the marker: {:?}",
        &content[a..b]
    );
    assert_eq!(up.last().words_sent, text.split_whitespace().count());
}

#[test]
fn stream_streams_before_the_end_and_unflagged_text_passes_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let idx = build_index(dir.path());
    let text = "The weather today is mild, with a light breeze from the west and some clouds later in the afternoon. \
                Nothing in this answer copies anything; it is ordinary prose written for the test, long enough to be streamed \
                in many pieces so that the proxy has to release text before the upstream finishes."
        .to_string();
    let up =
        Upstream::start(Script { text: text.clone(), delay: Duration::from_millis(20), die_after: None });
    let db = dir.path().join("db.sqlite");
    let s = Server::start(
        &["--index", idx.to_str().unwrap(), "--db", db.to_str().unwrap(), "--upstream", &up.base],
        &[],
    );
    let t0 = std::time::Instant::now();
    let resp = client().post(s.url("/v1/chat/completions")).json(&chat_req(true)).send().unwrap();
    // The first content must arrive long before the upstream's last word (~60 words × 20 ms).
    let mut first_content = None;
    let mut content = String::new();
    use std::io::BufRead;
    for line in std::io::BufReader::new(resp).lines() {
        let line = line.unwrap();
        let Some(d) = line.strip_prefix("data: ") else { continue };
        if d == "[DONE]" {
            break;
        }
        let v: Value = serde_json::from_str(d).unwrap();
        if let Some(t) = v.pointer("/choices/0/delta/content").and_then(Value::as_str) {
            if !t.is_empty() && first_content.is_none() {
                first_content = Some(t0.elapsed());
            }
            content.push_str(t);
        }
    }
    let total = t0.elapsed();
    assert_eq!(content, text);
    let first = first_content.unwrap();
    assert!(first < total / 2, "first text after {first:?} of {total:?}: the proxy must stream, not buffer");
}

#[test]
fn finished_streams_give_the_upstream_connection_back_for_the_next_request() {
    let dir = tempfile::tempdir().unwrap();
    let idx = build_index(dir.path());
    let text = "A short answer of ordinary words, written for this test and found in no corpus at all, \
                long enough to be streamed in a few dozen pieces."
        .to_string();
    let up = Upstream::start_keep_alive(Script {
        text: text.clone(),
        delay: Duration::from_millis(1),
        die_after: None,
    });
    let db = dir.path().join("db.sqlite");
    let s = Server::start(
        &["--index", idx.to_str().unwrap(), "--db", db.to_str().unwrap(), "--upstream", &up.base],
        &[],
    );
    for i in 0..3 {
        let resp = client().post(s.url("/v1/chat/completions")).json(&chat_req(true)).send().unwrap();
        let (content, finish, _) = chat_stream_content(&sse_events(resp));
        assert_eq!(content, text, "stream {i}");
        assert_eq!(finish.as_deref(), Some("stop"));
        // The body's end is read after `[DONE]`, off the stream's path.
        std::thread::sleep(Duration::from_millis(300));
    }
    assert_eq!(up.served.lock().unwrap().len(), 3);
    assert!(up.served.lock().unwrap().iter().all(|r| r.finished && !r.hung_up));
    assert_eq!(
        up.connections.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "the three streams must reuse one upstream connection"
    );
}

#[test]
fn block_ends_the_stream_with_content_filter_and_cancels_the_upstream() {
    let dir = tempfile::tempdir().unwrap();
    let idx = build_index(dir.path());
    let pol = dir.path().join("block.toml");
    std::fs::write(
        &pol,
        std::fs::read_to_string(policy("everywhere")).unwrap().replace(
            "license_class = [\"copyleft\", \"proprietary\", \"noassertion\", \"unknown\"]\naction = \"redact\"",
            "license_class = [\"copyleft\", \"proprietary\", \"noassertion\", \"unknown\"]\naction = \"block\"",
        ),
    )
    .unwrap();
    let (mut text, q) = answer_quoting(1);
    text.push(' ');
    // A long tail the upstream should never get to send.
    text.push_str(&prose(99, 400));
    // Keep-alive, as model servers answer: the proxy must close the connection
    // to cancel, not leave it for reuse.
    let up = Upstream::start_keep_alive(Script {
        text: text.clone(),
        delay: Duration::from_millis(5),
        die_after: None,
    });
    let db = dir.path().join("db.sqlite");
    let s = Server::start(
        &[
            "--index",
            idx.to_str().unwrap(),
            "--db",
            db.to_str().unwrap(),
            "--upstream",
            &up.base,
            "--policy",
            pol.to_str().unwrap(),
        ],
        &[],
    );
    let events =
        sse_events(client().post(s.url("/v1/chat/completions")).json(&chat_req(true)).send().unwrap());
    let (content, finish, ext) = chat_stream_content(&events);
    assert_eq!(finish.as_deref(), Some("content_filter"), "{events:?}");
    assert_eq!(shares_words(&content, &q, 6), None, "no words of the blocked copy: {content}");
    assert!(
        ext.iter().any(|e| e["action"] == "block" && e["statement"].as_str().unwrap().contains("novel.txt")),
        "{ext:?}"
    );
    // The upstream is cancelled: it sees the connection close long before its ~550 words are out.
    std::thread::sleep(Duration::from_millis(500));
    let served = up.last();
    assert!(served.hung_up, "upstream not cancelled: {served:?}");
    assert!(served.words_sent < text.split_whitespace().count() - 200, "{served:?}");
    // The block is in the audit log with its rule and source.
    let audit: Value = client().get(s.url("/v1/audit?action=block")).send().unwrap().json().unwrap();
    let r = &audit["records"][0];
    assert_eq!(r["endpoint"], "/v1/chat/completions");
    assert!(r["rules"].as_array().unwrap().iter().any(|x| x == "copyleft-proprietary-or-unlicensed"), "{r}");
    assert!(r["sources"].as_array().unwrap().iter().any(|x| x.as_str().unwrap().contains("novel")), "{r}");
}

#[test]
fn jurisdiction_changes_the_decision_per_policy() {
    let dir = tempfile::tempdir().unwrap();
    let idx = build_index(dir.path());
    let (text, q) = answer_quoting(2); // essay.txt: CC-BY-4.0, TDM opt-out in the EU
    let up = Upstream::start(Script { text: text.clone(), delay: Duration::from_millis(1), die_after: None });
    let db = dir.path().join("db.sqlite");
    let s = Server::start(
        &[
            "--index",
            idx.to_str().unwrap(),
            "--db",
            db.to_str().unwrap(),
            "--upstream",
            &up.base,
            "--policy",
            &policy("eu-only"),
        ],
        &[],
    );
    let run = |j: &str| {
        let events = sse_events(
            client()
                .post(s.url("/v1/chat/completions"))
                .header("X-Recital-Jurisdiction", j)
                .json(&chat_req(true))
                .send()
                .unwrap(),
        );
        chat_stream_content(&events)
    };
    let (de, _, de_ext) = run("DE");
    assert!(de.contains("[redacted"), "DE: the opt-out work is redacted: {de}");
    assert_eq!(shares_words(&de, &q, 6), None);
    assert!(de_ext.iter().any(|e| e["annotations"][0]["action"] == "redact"));
    let (us, _, _) = run("US");
    assert_eq!(us, text, "US: the opt-out's rights are limited to the EU; shown unchanged");
    // Same through /v1/filter.
    let f = |j: &str| -> Value {
        client()
            .post(s.url("/v1/filter"))
            .json(&json!({"text": text, "jurisdiction": j}))
            .send()
            .unwrap()
            .json()
            .unwrap()
    };
    assert_eq!(f("FR")["action"], "redact");
    assert_eq!(f("US")["action"], "allow");
    assert_eq!(f("US")["text"], text.as_str());
}

#[test]
fn unary_completion_is_filtered_and_the_prompt_is_exempt() {
    let dir = tempfile::tempdir().unwrap();
    let idx = build_index(dir.path());
    let (text, q) = answer_quoting(1);
    let up = Upstream::start(Script { text: text.clone(), delay: Duration::ZERO, die_after: None });
    let db = dir.path().join("db.sqlite");
    let s = Server::start(
        &["--index", idx.to_str().unwrap(), "--db", db.to_str().unwrap(), "--upstream", &up.base],
        &[],
    );
    let v: Value =
        client().post(s.url("/v1/chat/completions")).json(&chat_req(false)).send().unwrap().json().unwrap();
    let content = v["choices"][0]["message"]["content"].as_str().unwrap();
    assert!(content.contains("[redacted"), "{v}");
    assert_eq!(shares_words(content, &q, 6), None);
    assert_eq!(v["recital"]["decisions"][0]["action"], "redact");
    // The caller supplied the passage in the prompt: repeating it is not a copy to filter.
    let mut req = chat_req(false);
    req["messages"][0]["content"] = json!(format!("Proofread this: {q}"));
    let v: Value = client().post(s.url("/v1/chat/completions")).json(&req).send().unwrap().json().unwrap();
    assert_eq!(v["choices"][0]["message"]["content"], text.as_str(), "{v}");
    // Legacy completions, streamed.
    let events = sse_events(
        client()
            .post(s.url("/v1/completions"))
            .json(&json!({"model": "m", "prompt": "Say it", "stream": true}))
            .send()
            .unwrap(),
    );
    let mut out = String::new();
    for e in events.iter().filter(|e| *e != "[DONE]") {
        let v: Value = serde_json::from_str(e).unwrap();
        out.push_str(v["choices"][0]["text"].as_str().unwrap_or(""));
    }
    assert!(out.contains("[redacted") && shares_words(&out, &q, 6).is_none(), "{out}");
}

fn keys_file(dir: &std::path::Path) -> std::path::PathBuf {
    let p = dir.join("keys.jsonl");
    std::fs::write(
        &p,
        [
            r#"{"name": "admin", "key": "rk_admin_0123456789abcdef", "role": "admin"}"#,
            r#"{"name": "acme", "key": "rk_client_0123456789abcdef", "role": "client", "default_jurisdiction": "DE"}"#,
            r#"{"name": "press-a", "key": "rk_rh_a_0123456789abcdef", "role": "rightsholder"}"#,
            r#"{"name": "press-b", "key": "rk_rh_b_0123456789abcdef", "role": "rightsholder"}"#,
            r#"{"name": "tiny", "key": "rk_tiny_0123456789abcdef", "role": "client", "rate_per_minute": 2}"#,
        ]
        .join("\n"),
    )
    .unwrap();
    p
}

fn authed(method: reqwest::Method, s: &Server, path: &str, key: &str) -> reqwest::blocking::RequestBuilder {
    client().request(method, s.url(path)).bearer_auth(key)
}

#[test]
fn registry_works_notices_roles_and_tenants() {
    let dir = tempfile::tempdir().unwrap();
    let idx = build_index(dir.path());
    let keys = keys_file(dir.path());
    let db = dir.path().join("db.sqlite");
    let s = Server::start(
        &["--index", idx.to_str().unwrap(), "--db", db.to_str().unwrap(), "--keys", keys.to_str().unwrap()],
        &[],
    );
    use reqwest::Method;
    // No key, a wrong key.
    assert_eq!(client().post(s.url("/v1/scan")).json(&json!({"text": "x"})).send().unwrap().status(), 401);
    assert_eq!(
        authed(Method::POST, &s, "/v1/scan", "nope").json(&json!({"text": "x"})).send().unwrap().status(),
        401
    );
    // A rightsholder registers a work; it matches at once.
    let work_text = prose(500, 400);
    let r = authed(Method::POST, &s, "/v1/works", "rk_rh_a_0123456789abcdef")
        .json(&json!({"title": "A Private Poem Cycle", "text": work_text, "license": "LicenseRef-Proprietary", "holder": "Press A", "url": "https://a.example/poems"}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 201);
    let w: Value = r.json().unwrap();
    let wid = w["id"].as_str().unwrap().to_string();
    assert_eq!(w["status"], "indexed", "{w}");
    assert!(w.get("text").is_none(), "the API never returns a work's text: {w}");
    let out = format!("As requested: {}", quote(&work_text, 100, 180));
    let v: Value = authed(Method::POST, &s, "/v1/filter", "rk_client_0123456789abcdef")
        .json(&json!({"text": out}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(v["action"], "redact", "{v}");
    assert_eq!(v["jurisdiction"], "DE", "the key's default jurisdiction");
    // /v1/scan shows the matched text of a source, never the text around it (no extraction oracle).
    let v: Value = authed(Method::POST, &s, "/v1/scan", "rk_client_0123456789abcdef")
        .json(&json!({"text": out}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let src = &v["report"]["spans"][0]["sources"][0];
    let snip = src["snippet"].as_str().unwrap();
    assert!(
        !snip.is_empty() && out.to_lowercase().contains(&snip.trim_end_matches('…').to_lowercase()),
        "{src}"
    );
    // Client keys cannot use the registry; the other rightsholder cannot see A's work or notice it.
    assert_eq!(
        authed(Method::GET, &s, "/v1/works", "rk_client_0123456789abcdef").send().unwrap().status(),
        403
    );
    assert_eq!(
        authed(Method::GET, &s, &format!("/v1/works/{wid}"), "rk_rh_b_0123456789abcdef")
            .send()
            .unwrap()
            .status(),
        404
    );
    let b_list: Value =
        authed(Method::GET, &s, "/v1/works", "rk_rh_b_0123456789abcdef").send().unwrap().json().unwrap();
    assert_eq!(b_list["works"].as_array().unwrap().len(), 0);
    let r = authed(Method::POST, &s, "/v1/notices", "rk_rh_b_0123456789abcdef")
        .json(&json!({"target": {"type": "work", "work_id": wid}, "reason": "not mine but I try"}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(
        authed(Method::DELETE, &s, &format!("/v1/works/{wid}"), "rk_rh_b_0123456789abcdef")
            .send()
            .unwrap()
            .status(),
        404
    );
    // A notice by the owner takes effect for the next request: block.
    let r = authed(Method::POST, &s, "/v1/notices", "rk_rh_a_0123456789abcdef")
        .json(&json!({"target": {"type": "work", "work_id": wid}, "reason": "reproduced without licence"}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 201);
    let n: Value = r.json().unwrap();
    assert_eq!(n["status"], "effective", "{n}");
    assert!(n["effective_at"].as_i64().unwrap() >= n["received_at"].as_i64().unwrap());
    let nid = n["id"].as_str().unwrap().to_string();
    let v: Value = authed(Method::POST, &s, "/v1/filter", "rk_client_0123456789abcdef")
        .json(&json!({"text": out}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(v["action"], "block", "{v}");
    assert!(v["text"].is_null());
    assert_eq!(
        authed(Method::GET, &s, &format!("/v1/notices/{nid}"), "rk_rh_b_0123456789abcdef")
            .send()
            .unwrap()
            .status(),
        404
    );
    assert_eq!(
        authed(Method::GET, &s, &format!("/v1/notices/{nid}"), "rk_rh_a_0123456789abcdef")
            .send()
            .unwrap()
            .status(),
        200
    );
    // A notice on a corpus document (no registration needed).
    let r = authed(Method::POST, &s, "/v1/notices", "rk_rh_b_0123456789abcdef")
        .json(&json!({"target": {"type": "document", "doc_id": "manual.txt"}, "reason": "our manual"}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 201);
    let doc_notice: Value = r.json().unwrap();
    let manual_quote = json!({"text": quote(&prose(3, 3000), 10, 90)});
    let v: Value = authed(Method::POST, &s, "/v1/filter", "rk_client_0123456789abcdef")
        .json(&manual_quote)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(v["action"], "block", "{v}");
    // Withdrawn by its filer (not by another tenant, not by a client), the
    // notice stops applying before the call returns.
    let path = format!("/v1/notices/{}", doc_notice["id"].as_str().unwrap());
    let status = |key: &str| authed(Method::DELETE, &s, &path, key).send().unwrap().status().as_u16();
    assert_eq!(status("rk_client_0123456789abcdef"), 403);
    assert_eq!(status("rk_rh_a_0123456789abcdef"), 404);
    let n: Value =
        authed(Method::DELETE, &s, &path, "rk_rh_b_0123456789abcdef").send().unwrap().json().unwrap();
    assert_eq!(n["status"], "withdrawn", "{n}");
    assert!(n["closed_at"].as_i64().is_some(), "{n}");
    let v: Value = authed(Method::POST, &s, "/v1/filter", "rk_client_0123456789abcdef")
        .json(&manual_quote)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(v["action"], "annotate", "MIT again once the notice is withdrawn: {v}");
    // The audit log is for admins only.
    assert_eq!(
        authed(Method::GET, &s, "/v1/audit", "rk_rh_a_0123456789abcdef").send().unwrap().status(),
        403
    );
    let a: Value = authed(Method::GET, &s, "/v1/audit?action=block", "rk_admin_0123456789abcdef")
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert!(a["records"].as_array().unwrap().len() >= 2, "{a}");
    assert_eq!(a["records"][0]["key_name"], "acme");
    // Withdrawal: the work stops matching.
    let r =
        authed(Method::DELETE, &s, &format!("/v1/works/{wid}"), "rk_rh_a_0123456789abcdef").send().unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = authed(Method::POST, &s, "/v1/filter", "rk_client_0123456789abcdef")
        .json(&json!({"text": out}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(v["action"], "allow", "{v}");
    // Rate limits: 2 per minute.
    let codes: Vec<u16> = (0..3)
        .map(|_| {
            authed(Method::POST, &s, "/v1/scan", "rk_tiny_0123456789abcdef")
                .json(&json!({"text": "hello"}))
                .send()
                .unwrap()
                .status()
                .as_u16()
        })
        .collect();
    assert_eq!(codes, vec![200, 200, 429]);
    // The refusal says which limit applies: the key's own.
    let r = authed(Method::POST, &s, "/v1/scan", "rk_tiny_0123456789abcdef")
        .json(&json!({"text": "hi"}))
        .send()
        .unwrap();
    let v: Value = r.json().unwrap();
    let m = v["error"]["message"].as_str().unwrap();
    assert!(m.contains("\"tiny\" is limited to 2 requests per minute (its rate_per_minute)"), "{m}");
}

#[test]
fn notice_survives_kill_9_and_stays_effective() {
    let dir = tempfile::tempdir().unwrap();
    let idx = build_index(dir.path());
    let db = dir.path().join("db.sqlite");
    let args = ["--index", idx.to_str().unwrap(), "--db", db.to_str().unwrap()];
    let s = Server::start(&args, &[]);
    let text = quote(&prose(3, 3000), 300, 380); // manual.txt, MIT: annotated until notified
    let v: Value =
        client().post(s.url("/v1/filter")).json(&json!({"text": text})).send().unwrap().json().unwrap();
    assert_eq!(v["action"], "annotate");
    let work_text = prose(777, 300);
    let w: Value = client()
        .post(s.url("/v1/works"))
        .json(&json!({"text": work_text, "license": "MIT"}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let n: Value = client()
        .post(s.url("/v1/notices"))
        .json(&json!({"target": {"type": "document", "doc_id": "manual.txt"}, "reason": "takedown"}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    s.kill9();
    let s = Server::start(&args, &[]);
    let got: Value = client()
        .get(s.url(&format!("/v1/notices/{}", n["id"].as_str().unwrap())))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(got["status"], "effective", "{got}");
    let v: Value =
        client().post(s.url("/v1/filter")).json(&json!({"text": text})).send().unwrap().json().unwrap();
    assert_eq!(v["action"], "block", "{v}");
    let v: Value = client()
        .post(s.url("/v1/filter"))
        .json(&json!({"text": quote(&work_text, 10, 90)}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(v["action"], "annotate", "the registered work survived too: {v}");
    assert_eq!(v["annotations"][0]["citations"][0]["doc_id"], w["id"]);
}

#[test]
fn bad_requests_get_clear_errors_and_leave_the_server_healthy() {
    let dir = tempfile::tempdir().unwrap();
    let idx = build_index(dir.path());
    let db = dir.path().join("db.sqlite");
    let up =
        Upstream::start(Script { text: prose(5, 200), delay: Duration::from_millis(1), die_after: Some(40) });
    let s = Server::start(
        &[
            "--index",
            idx.to_str().unwrap(),
            "--db",
            db.to_str().unwrap(),
            "--upstream",
            &up.base,
            "--max-body",
            "100000",
            "--header-timeout",
            "1",
        ],
        &[],
    );
    // Half a request line and headers, then nothing (slowloris): disconnected once
    // --header-timeout has passed, while the requests below are served meanwhile.
    use std::io::{Read, Write};
    let half_sent = std::time::Instant::now();
    let mut half = std::net::TcpStream::connect(s.base.trim_start_matches("http://")).unwrap();
    write!(half, "POST /v1/scan HTTP/1.1\r\nHost: x\r\nContent-Ty").unwrap();
    let err = |r: reqwest::blocking::Response| -> (u16, String) {
        let st = r.status().as_u16();
        let v: Value = r.json().unwrap();
        (st, v["error"]["message"].as_str().unwrap_or("").to_string())
    };
    let c = client();
    let (st, m) = err(c
        .post(s.url("/v1/scan"))
        .header("content-type", "application/json")
        .body("{\"text\": ")
        .send()
        .unwrap());
    assert_eq!(st, 400);
    assert!(m.contains("line 1"), "{m}");
    let (st, m) = err(c.post(s.url("/v1/scan")).json(&json!({"text": "x", "txet": 1})).send().unwrap());
    assert_eq!(st, 400);
    assert!(m.contains("unknown field `txet`"), "{m}");
    let big = c.post(s.url("/v1/scan")).json(&json!({"text": "a ".repeat(100_000)})).send().unwrap();
    // The unread rest of the body ends the connection, and the answer says so
    // (a pooling client would otherwise send its next request into it).
    assert_eq!(big.headers().get("connection").and_then(|v| v.to_str().ok()), Some("close"));
    let (st, _) = err(big);
    assert_eq!(st, 413);
    let (st, m) = err(c.post(s.url("/v1/chat/completions")).json(&json!({"model": "m"})).send().unwrap());
    assert_eq!(st, 400, "{m}");
    let (st, _) = err(c.get(s.url("/v1/nothing")).send().unwrap());
    assert_eq!(st, 404);
    // A struct is not read from an array (serde would take its fields in order).
    let (st, m) = err(c.post(s.url("/v1/scan")).json(&json!(["text"])).send().unwrap());
    assert_eq!(st, 400, "{m}");
    assert!(m.contains("must be a JSON object, not an array"), "{m}");
    let (st, m) = err(c.post(s.url("/v1/works")).json(&json!(["title", "some text"])).send().unwrap());
    assert_eq!(st, 400, "{m}");
    let works: Value = c.get(s.url("/v1/works")).send().unwrap().json().unwrap();
    assert_eq!(works["works"], json!([]), "no work registered");
    let (st, m) = err(c.post(s.url("/v1/chat/completions")).json(&json!("hello")).send().unwrap());
    assert_eq!((st, m.contains("not a string")), (400, true), "{m}");
    // A method an endpoint does not take: 405 with the JSON error and Allow.
    let r = c.get(s.url("/v1/scan")).send().unwrap();
    assert_eq!(r.headers().get("allow").and_then(|v| v.to_str().ok()), Some("POST"));
    let (st, m) = err(r);
    assert_eq!(st, 405);
    assert!(m.contains("GET is not allowed"), "{m}");
    let r = c.put(s.url("/v1/works/w1")).send().unwrap();
    let v: Value = r.json().unwrap();
    assert_eq!(v["error"]["code"], "method_not_allowed");
    // One content-type rule for every JSON endpoint, the proxy's included:
    // application/json with parameters, or none; anything else is a 415.
    for path in ["/v1/scan", "/v1/filter", "/v1/works", "/v1/chat/completions", "/v1/completions"] {
        let (st, m) =
            err(c.post(s.url(path)).header("content-type", "text/plain").body("{}").send().unwrap());
        assert_eq!(st, 415, "{path}: {m}");
        assert!(m.contains("application/json") && m.contains("text/plain"), "{m}");
    }
    for ct in [Some("application/json; charset=utf-8"), Some("Application/JSON"), None] {
        let mut req = c.post(s.url("/v1/scan")).body(r#"{"text": "typed or not"}"#);
        if let Some(ct) = ct {
            req = req.header("content-type", ct);
        }
        assert_eq!(req.send().unwrap().status(), 200, "{ct:?}");
        let mut req = c.post(s.url("/v1/chat/completions")).body(r#"{"model": "m"}"#);
        if let Some(ct) = ct {
            req = req.header("content-type", ct);
        }
        let (st, m) = err(req.send().unwrap());
        assert_eq!(st, 400, "{ct:?}: read as JSON, then refused for its content: {m}");
    }
    let (st, m) = err(c
        .post(s.url("/v1/notices"))
        .json(&json!({"target": {"type": "document", "doc_id": "no-such-doc"}, "reason": "x"}))
        .send()
        .unwrap());
    assert_eq!(st, 404, "{m}");
    // A slow client: headers, then nothing. The server must not wait forever, nor stop serving others.
    let mut slow = std::net::TcpStream::connect(s.base.trim_start_matches("http://")).unwrap();
    write!(slow, "POST /v1/scan HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{\"te").unwrap();
    let ok = c.post(s.url("/v1/scan")).json(&json!({"text": "still serving"})).send().unwrap();
    assert_eq!(ok.status(), 200);
    // An upstream that dies mid-stream: the client gets an error event, the server stays up.
    let events = sse_events(c.post(s.url("/v1/chat/completions")).json(&chat_req(true)).send().unwrap());
    let last: Value = serde_json::from_str(events.last().unwrap()).unwrap();
    assert_eq!(last["error"]["type"], "upstream_error", "{events:?}");
    // An upstream that is not there.
    drop(slow);
    // The half-sent request's connection is closed (hyper may answer 408 first), not left open.
    half.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut rest = Vec::new();
    match half.read_to_end(&mut rest) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
        Err(e) => panic!("a half-sent request's connection still open after {:?}: {e}", half_sent.elapsed()),
    }
    let waited = half_sent.elapsed();
    assert!(
        waited >= Duration::from_millis(900) && waited < Duration::from_secs(8),
        "closed after {waited:?}"
    );
    let rest = String::from_utf8_lossy(&rest);
    assert!(rest.is_empty() || rest.starts_with("HTTP/1.1 408"), "{rest}");
    let h: Value = c.get(s.url("/healthz")).send().unwrap().json().unwrap();
    assert_eq!(h["status"], "ok");
    let r: Value = c.get(s.url("/readyz")).send().unwrap().json().unwrap();
    assert_eq!(r["status"], "ready");
    let m = c.get(s.url("/metrics")).send().unwrap().text().unwrap();
    assert!(m.contains("recital_requests_total{route=\"/v1/scan\",status=\"400\"}"), "{m}");
    assert!(m.contains("recital_upstream_errors_total 1"), "{m}");
    let api: Value = c.get(s.url("/openapi.json")).send().unwrap().json().unwrap();
    assert!(api["paths"]["/v1/notices/{id}"]["get"].is_object());
    assert!(api["paths"]["/v1/notices/{id}"]["delete"].is_object());
    assert_eq!(s.terminate().code(), Some(0));
}

#[test]
fn a_zero_rate_limit_is_refused_saying_what_omitting_it_means() {
    let dir = tempfile::tempdir().unwrap();
    let idx = build_index(dir.path());
    let keys = dir.path().join("keys.jsonl");
    std::fs::write(
        &keys,
        r#"{"name": "z", "key": "rk_zero_0123456789abcdef", "role": "client", "rate_per_minute": 0}"#,
    )
    .unwrap();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_recital"))
        .args(["serve", "--index", idx.to_str().unwrap(), "--addr", "127.0.0.1:0", "--keys"])
        .arg(&keys)
        .arg("--db")
        .arg(dir.path().join("db"))
        .output()
        .unwrap();
    assert!(!o.status.success());
    let e = String::from_utf8_lossy(&o.stderr);
    // There is no server-wide default rate to fall back on.
    assert!(e.contains("rate_per_minute must be at least 1 (omit it for no rate limit)"), "{e}");
    assert!(!e.contains("default"), "{e}");
}

#[test]
fn refuses_to_run_open_on_a_public_address() {
    let dir = tempfile::tempdir().unwrap();
    let idx = build_index(dir.path());
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_recital"))
        .args(["serve", "--index", idx.to_str().unwrap(), "--db"])
        .arg(dir.path().join("db"))
        .args(["--addr", "0.0.0.0:0"])
        .env_remove("RECITAL_API_KEY")
        .output()
        .unwrap();
    assert!(!o.status.success());
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("without authentication") && e.contains("--keys"), "{e}");
}

/// Timeouts out of range are refused before anything starts (a huge one used
/// to overflow the timer's deadline and panic a worker on the first request).
#[test]
fn timeouts_out_of_range_are_refused() {
    for (flag, value) in [
        ("--header-timeout", "0"),
        ("--header-timeout", "18446744073709551615"),
        ("--upstream-timeout", "99999999999"),
    ] {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_recital"))
            .args(["serve", "--index", "/nonexistent", "--addr", "127.0.0.1:0", flag, value])
            .output()
            .unwrap();
        assert!(!o.status.success());
        let e = String::from_utf8_lossy(&o.stderr);
        assert!(e.contains(flag) && e.contains("1..=86400"), "{e}");
    }
}

#[test]
fn many_registrations_are_merged_in_the_background_and_still_match() {
    let dir = tempfile::tempdir().unwrap();
    let idx = build_index(dir.path());
    let db = dir.path().join("db.sqlite");
    let s = Server::start(&["--index", idx.to_str().unwrap(), "--db", db.to_str().unwrap()], &[]);
    let texts: Vec<String> = (0..9).map(|i| prose(900 + i, 200)).collect();
    for t in &texts {
        let r = client()
            .post(s.url("/v1/works"))
            .json(&json!({"text": t, "license": "LicenseRef-Mine"}))
            .send()
            .unwrap();
        assert_eq!(r.status(), 201);
    }
    let shards = || -> u64 {
        let m = client().get(s.url("/metrics")).send().unwrap().text().unwrap();
        m.lines()
            .find_map(|l| l.strip_prefix("recital_index_shards "))
            .unwrap()
            .trim()
            .parse::<f64>()
            .unwrap() as u64
    };
    let t0 = std::time::Instant::now();
    while shards() > 3 && t0.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(shards() <= 3, "delta shards not merged: {}", shards());
    for t in &texts {
        let v: Value = client()
            .post(s.url("/v1/filter"))
            .json(&json!({"text": quote(t, 20, 100)}))
            .send()
            .unwrap()
            .json()
            .unwrap();
        assert_eq!(v["action"], "redact", "{v}");
    }
}
