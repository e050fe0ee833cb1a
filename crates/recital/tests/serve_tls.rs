//! `recital serve` in front of an HTTPS upstream whose certificate comes from
//! a private CA made at test time: trusted through `--upstream-ca`, refused
//! (with a 502 that says why) without it. The upstream speaks only TLS, so a
//! call that gets through went over TLS.

mod support;

use std::path::Path;
use std::time::Duration;

use serde_json::{json, Value};
use support::tls::TestPki;
use support::upstream::{Script, Upstream};
use support::{build_index, chat_stream_content, client, prose, sse_events, Server};

fn chat_req(stream: bool) -> Value {
    json!({"model": "scripted", "stream": stream, "messages": [{"role": "user", "content": "Say something."}]})
}

/// `recital serve` on `idx` in front of `upstream`, with `extra` flags and
/// a database of its own, `name`.
fn serve(dir: &Path, name: &str, idx: &Path, upstream: &str, extra: &[&str]) -> Server {
    let db = dir.join(format!("{name}.sqlite"));
    let mut args =
        vec!["--index", idx.to_str().unwrap(), "--db", db.to_str().unwrap(), "--upstream", upstream];
    args.extend_from_slice(extra);
    Server::start(&args, &[])
}

/// Posts a chat completion; the status and the JSON body.
fn post(s: &Server, stream: bool) -> (u16, Value) {
    let r = client().post(s.url("/v1/chat/completions")).json(&chat_req(stream)).send().unwrap();
    (r.status().as_u16(), r.json().unwrap())
}

#[test]
fn https_upstream_is_trusted_through_upstream_ca_and_refused_without_it() {
    let dir = tempfile::tempdir().unwrap();
    let idx = build_index(dir.path());
    let pki = TestPki::new();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, &pki.ca_pem).unwrap();
    // Words of no indexed document: the proxy passes them unchanged.
    let text = prose(99, 40);
    let up = Upstream::start_tls(
        Script { text: text.clone(), delay: Duration::ZERO, die_after: None },
        pki.server,
    );

    let s = serve(dir.path(), "trusted", &idx, &up.base, &["--upstream-ca", ca.to_str().unwrap()]);
    let (status, body) = post(&s, false);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["choices"][0]["message"]["content"], text.as_str());
    let resp = client().post(s.url("/v1/chat/completions")).json(&chat_req(true)).send().unwrap();
    assert_eq!(resp.status(), 200);
    let events = sse_events(resp);
    assert_eq!(events.last().map(String::as_str), Some("[DONE]"));
    let (content, finish, _) = chat_stream_content(&events);
    assert_eq!((content.as_str(), finish.as_deref()), (text.as_str(), Some("stop")));
    assert_eq!(up.served.lock().unwrap().len(), 2);
    drop(s);

    // The system roots alone do not know the private CA.
    let s = serve(dir.path(), "untrusted", &idx, &up.base, &[]);
    let (status, body) = post(&s, false);
    assert_eq!(status, 502, "{body}");
    let msg = body["error"]["message"].as_str().unwrap();
    assert!(msg.contains("certificate") && msg.contains("--upstream-ca"), "{msg}");
    drop(s);

    // Plain HTTP to the same port is not served: the calls above were TLS.
    let plain = up.base.replace("https://", "http://");
    let s = serve(dir.path(), "plain", &idx, &plain, &["--upstream-ca", ca.to_str().unwrap()]);
    assert_eq!(post(&s, false).0, 502);
    assert_eq!(up.served.lock().unwrap().len(), 2, "only the two TLS calls were served");
}

#[test]
fn a_bad_upstream_ca_file_stops_startup_with_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let not_pem = dir.path().join("not-a-cert.pem");
    std::fs::write(&not_pem, "hello\n").unwrap();
    let missing = dir.path().join("missing.pem");
    for (file, want) in [(&not_pem, "no PEM certificate"), (&missing, "No such file")] {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_recital"))
            .args(["serve", "--index"])
            .arg(dir.path().join("idx"))
            .arg("--db")
            .arg(dir.path().join("db"))
            .args(["--addr", "127.0.0.1:0", "--upstream", "https://localhost:1", "--upstream-ca"])
            .arg(file)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(1));
        let e = String::from_utf8_lossy(&o.stderr);
        assert!(e.contains(&*file.to_string_lossy()) && e.contains(want), "{e}");
        assert!(!e.contains("panicked"), "{e}");
    }
}
