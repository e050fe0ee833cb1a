//! The official `openai` Python client, installed from PyPI and used unchanged,
//! against the real `recital serve` binary in front of a scripted upstream:
//! streamed and whole chat completions, streamed legacy completions, redaction
//! with the `recital` extension field, a block, `--strict-openai`, and errors
//! the client maps to its own exception classes.
//!
//! The client comes from `RECITAL_TEST_PYTHON` (`scripts/test.sh` sets it); when
//! that is unset the test installs it itself with `scripts/install-test-deps.sh`.
//! The client runs `tests/python/openai_client.py`, which prints what it saw as
//! JSON; the assertions are here.

mod support;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::upstream::{Script, Upstream};
use support::{build_index, prose, quote, shares_words, Server};

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/openai_client.py");
/// The Python run is a handful of requests; anything near this is a hang.
const PYTHON_TIMEOUT: Duration = Duration::from_secs(300);

const CLEAN: &str = "The weather today is mild, with a light breeze from the west and some clouds later in the \
                     afternoon. Nothing in this answer copies anything; it is ordinary prose written for the test, \
                     long enough to be streamed in many pieces.";
const GOOD_KEY: &str = "rk_client_0123456789abcdef";

/// A model answer that quotes 90 words of `doc` (seed) between words of its own.
fn answer_quoting(seed: u64) -> (String, String) {
    let q = quote(&prose(seed, 3000), 200, 290);
    (format!("Certainly. Here is the passage you asked about: {q} I hope this helps with your essay."), q)
}

/// A Python with the `openai` package: `RECITAL_TEST_PYTHON`, or one installed now.
fn python() -> String {
    let py = match std::env::var("RECITAL_TEST_PYTHON") {
        Ok(p) if !p.trim().is_empty() => p,
        _ => {
            let script = Path::new(ROOT).join("scripts/install-test-deps.sh");
            let o = Command::new("bash").arg(&script).stdin(Stdio::null()).output().unwrap_or_else(|e| {
                panic!("cannot run {}: {e}", script.display());
            });
            let out = String::from_utf8_lossy(&o.stdout);
            let err = String::from_utf8_lossy(&o.stderr);
            let py = out.lines().last().unwrap_or("").trim().to_string();
            assert!(
                o.status.success() && !py.is_empty(),
                "RECITAL_TEST_PYTHON is unset and installing the openai Python client failed \
                 ({} exited with {}); this test needs Python 3 with venv and PyPI access.\n{err}{out}",
                script.display(),
                o.status
            );
            py
        }
    };
    let o = Command::new(&py)
        .args(["-c", "import openai, sys; sys.stdout.write(openai.__version__)"])
        .output()
        .unwrap_or_else(|e| panic!("cannot run the test Python {py:?}: {e}"));
    assert!(
        o.status.success(),
        "the test Python {py:?} cannot import openai (run scripts/install-test-deps.sh, or unset \
         RECITAL_TEST_PYTHON to let the test install it):\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    py
}

/// Runs the client script with `cfg`; its JSON output.
fn run_client(py: &str, cfg: &Value) -> Value {
    let mut cmd = Command::new(py);
    cmd.arg(SCRIPT).arg(cfg.to_string()).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    cmd.env("PYTHONDONTWRITEBYTECODE", "1").env("PYTHONUNBUFFERED", "1");
    // Loopback only: no proxy from the environment, no settings of a real account.
    for k in ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"] {
        cmd.env_remove(k);
    }
    for k in ["OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID", "OPENAI_LOG"] {
        cmd.env_remove(k);
    }
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("cannot run {py:?}: {e}"));
    let pipe = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut s = String::new();
            let _ = r.read_to_string(&mut s);
            s
        })
    };
    let out = pipe(Box::new(child.stdout.take().unwrap()));
    let err = pipe(Box::new(child.stderr.take().unwrap()));
    let t0 = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if t0.elapsed() > PYTHON_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the openai client script ran over {PYTHON_TIMEOUT:?}:\n{}", err.join().unwrap());
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let (out, err) = (out.join().unwrap(), err.join().unwrap());
    assert!(status.success(), "the openai client script failed ({status}):\n{err}\n{out}");
    serde_json::from_str(&out)
        .unwrap_or_else(|e| panic!("the script's output is not JSON ({e}):\n{out}\n{err}"))
}

/// The result of case `name`, which must have run without an exception.
fn ok<'a>(r: &'a Value, name: &str) -> &'a Value {
    let c = &r[name];
    assert_eq!(c["ok"], true, "case {name} raised {}: {}\n{}", c["exception"], c["message"], c["traceback"]);
    &c["result"]
}

fn strs(v: &Value) -> Vec<&str> {
    v.as_array().into_iter().flatten().filter_map(Value::as_str).collect()
}

fn keys_file(dir: &Path) -> PathBuf {
    let p = dir.join("keys.jsonl");
    std::fs::write(&p, format!(r#"{{"name": "acme", "key": "{GOOD_KEY}", "role": "client"}}"#)).unwrap();
    p
}

#[test]
fn official_openai_python_client_streams_through_the_proxy() {
    let t0 = Instant::now();
    let py = python();
    let dir = tempfile::tempdir().unwrap();
    let idx = build_index(dir.path());
    let idx = idx.to_str().unwrap();
    let block_policy = dir.path().join("block.toml");
    std::fs::write(
        &block_policy,
        std::fs::read_to_string(Path::new(ROOT).join("policies/everywhere.toml")).unwrap().replace(
            "license_class = [\"copyleft\", \"proprietary\", \"noassertion\", \"unknown\"]\naction = \"redact\"",
            "license_class = [\"copyleft\", \"proprietary\", \"noassertion\", \"unknown\"]\naction = \"block\"",
        ),
    )
    .unwrap();
    assert!(std::fs::read_to_string(&block_policy).unwrap().contains("action = \"block\""));
    let keys = keys_file(dir.path());

    let (quoting, q) = answer_quoting(1);
    let mut blocked = quoting.clone();
    blocked.push(' ');
    blocked.push_str(&prose(99, 400)); // a tail the upstream should never get to send
    let script = |text: &str, ms: u64, die_after| Script {
        text: text.to_string(),
        delay: Duration::from_millis(ms),
        die_after,
    };
    let up_clean = Upstream::start(script(CLEAN, 2, None));
    let up_quote = Upstream::start(script(&quoting, 1, None));
    let up_block = Upstream::start(script(&blocked, 2, None));
    let up_dies = Upstream::start(script(&prose(5, 200), 1, Some(40)));

    let mut n = 0;
    let mut serve = |up: &Upstream, extra: &[&str]| {
        n += 1;
        let db = dir.path().join(format!("db{n}.sqlite"));
        let mut args = vec!["--index", idx, "--db", db.to_str().unwrap(), "--upstream", &up.base];
        args.extend_from_slice(extra);
        Server::start(&args, &[])
    };
    let s_clean = serve(&up_clean, &[]);
    let s_quote = serve(&up_quote, &[]);
    let s_block = serve(&up_block, &["--policy", block_policy.to_str().unwrap()]);
    let s_strict = serve(&up_quote, &["--strict-openai"]);
    let s_dies = serve(&up_dies, &[]);
    let s_keys = serve(&up_clean, &["--keys", keys.to_str().unwrap()]);
    let setup = t0.elapsed();

    let r = run_client(
        &py,
        &json!({
            "clean": s_clean.base, "quote": s_quote.base, "block": s_block.base, "strict": s_strict.base,
            "dies": s_dies.base, "keys": s_keys.base, "good_key": GOOD_KEY,
        }),
    );
    eprintln!("openai {} (python {py}); setup {setup:?}, total {:?}", r["openai_version"], t0.elapsed());
    let redacted = "Certainly. Here is the passage you asked about: [redacted: copies novel.txt (LicenseRef-Proprietary)] I hope this helps with your essay.";

    // (a) Unflagged text passes unchanged, in many chunks, each a valid ChatCompletionChunk.
    let c = ok(&r, "clean_stream");
    assert_eq!(c["content"], CLEAN, "{c}");
    assert_eq!(c["finish_reason"], "stop", "{c}");
    assert!(c["content_chunks"].as_u64().unwrap() > 5, "streamed in pieces, not buffered: {c}");
    assert_eq!(c["invalid"], json!([]), "chunks the client's own model rejects: {c}");
    assert_eq!(strs(&c["roles"]), ["assistant"], "{c}");
    assert_eq!(strs(&c["objects"]), ["chat.completion.chunk"], "{c}");
    assert_eq!(c["recital"], json!([]), "nothing to say about unflagged text: {c}");
    let c = ok(&r, "clean_unary");
    assert_eq!(c["content"], CLEAN, "{c}");
    assert_eq!(c["finish_reason"], "stop", "{c}");
    assert_eq!(c["invalid"], Value::Null, "{c}");
    assert_eq!(c["recital"]["decisions"], json!([]), "{c}");
    let c = ok(&r, "clean_completion_stream");
    assert_eq!(c["text"], CLEAN, "{c}");
    assert_eq!(c["finish_reason"], "stop", "{c}");
    assert!(c["chunks"].as_u64().unwrap() > 5, "{c}");

    // (b) The copy of the proprietary novel is replaced by the marker, and the
    // client exposes the citation in the `recital` extension field.
    let c = ok(&r, "quote_stream");
    assert_eq!(c["content"], redacted, "{c}");
    assert_eq!(shares_words(c["content"].as_str().unwrap(), &q, 6), None, "{c}");
    assert_eq!(c["finish_reason"], "stop", "{c}");
    assert_eq!(c["invalid"], json!([]), "{c}");
    assert!(c["recital_in_to_dict"].as_u64().unwrap() > 0, "chunk.to_dict() keeps `recital`: {c}");
    let cites: Vec<&Value> =
        c["recital"].as_array().unwrap().iter().flat_map(|e| e["annotations"].as_array().unwrap()).collect();
    assert!(!cites.is_empty(), "{c}");
    assert_eq!(cites[0]["action"], "redact", "{c}");
    assert_eq!(cites[0]["citations"][0]["license"], "LicenseRef-Proprietary", "{c}");
    assert_eq!(cites[0]["citations"][0]["url"], "https://example.org/novel", "{c}");
    let c = ok(&r, "quote_unary");
    assert_eq!(c["content"], redacted, "{c}");
    assert_eq!(c["invalid"], Value::Null, "{c}");
    assert_eq!(c["recital"]["decisions"][0]["action"], "redact", "{c}");
    let c = ok(&r, "quote_completion_stream");
    let text = c["text"].as_str().unwrap();
    assert!(text.contains("[redacted: copies novel.txt"), "{c}");
    assert_eq!(shares_words(text, &q, 6), None, "{c}");
    assert!(
        c["recital"].as_array().unwrap().iter().any(|e| e["annotations"][0]["action"] == "redact"),
        "{c}"
    );

    // (c) A block ends the stream with `content_filter`; the client does not raise.
    let c = ok(&r, "block_stream");
    assert_eq!(c["finish_reason"], "content_filter", "{c}");
    assert_eq!(shares_words(c["content"].as_str().unwrap(), &q, 6), None, "{c}");
    assert_eq!(c["invalid"], json!([]), "{c}");
    assert!(
        c["recital"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "block" && e["statement"].as_str().unwrap_or("").contains("novel.txt")),
        "{c}"
    );
    let c = ok(&r, "block_unary");
    assert_eq!(c["finish_reason"], "content_filter", "{c}");
    assert_eq!(c["content"], "", "{c}");
    assert_eq!(c["invalid"], Value::Null, "{c}");
    assert_eq!(c["recital"]["decisions"][0]["action"], "block", "{c}");
    let cancelled = || {
        let served = up_block.served.lock().unwrap().clone();
        served.iter().any(|s| s.body.contains("\"stream\":true") && s.hung_up)
    };
    let t = Instant::now();
    while !cancelled() && t.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        cancelled(),
        "the upstream of the blocked stream is cancelled: {:?}",
        up_block.served.lock().unwrap()
    );

    // (d) --strict-openai: the same filtering, and not one field the client does not know.
    let c = ok(&r, "strict_stream");
    assert_eq!(c["content"], redacted, "{c}");
    assert_eq!(c["recital"], json!([]), "{c}");
    assert_eq!(c["recital_in_to_dict"], 0, "{c}");
    assert_eq!(c["extra_keys"], json!([]), "{c}");
    assert_eq!(c["invalid"], json!([]), "{c}");
    let c = ok(&r, "strict_unary");
    assert_eq!(c["content"], redacted, "{c}");
    assert_eq!(c["recital"], Value::Null, "{c}");
    assert_eq!(c["extra_keys"], json!([]), "{c}");
    let c = ok(&r, "strict_completion_stream");
    assert!(c["text"].as_str().unwrap().contains("[redacted"), "{c}");
    assert_eq!(c["extra_keys"], json!([]), "{c}");

    // (e) Errors surface as the client's own exception classes, with our messages.
    let e = ok(&r, "wrong_key");
    assert_eq!(e["raised"], "AuthenticationError", "{e}");
    assert_eq!(e["status"], 401, "{e}");
    assert_eq!(e["body"]["message"], "unknown API key", "{e}");
    assert!(e["str"].as_str().unwrap().contains("unknown API key"), "{e}");
    assert_eq!(e["type"], "authentication_error", "{e}");
    let e = ok(&r, "bad_messages");
    assert_eq!(e["raised"], "BadRequestError", "{e}");
    assert_eq!(e["status"], 400, "{e}");
    assert_eq!(e["body"]["message"], "`messages` must be an array", "{e}");
    assert_eq!(e["type"], "invalid_request_error", "{e}");
    let e = ok(&r, "bad_prompt");
    assert_eq!(e["raised"], "BadRequestError", "{e}");
    assert_eq!(e["body"]["message"], "`prompt` is required", "{e}");
    assert_eq!(ok(&r, "good_key")["content"], CLEAN);
    // An upstream that dies mid-stream: the error event becomes openai.APIError.
    let e = ok(&r, "upstream_dies");
    assert_eq!(e["raised"], "APIError", "{e}");
    assert_eq!(e["type"], "upstream_error", "{e}");
    assert!(e["str"].as_str().unwrap().contains("upstream"), "{e}");
}
