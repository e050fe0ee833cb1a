//! Test support for the service: a corpus with rights, the real `recital serve`
//! binary on loopback, and a scripted OpenAI-compatible upstream (plain HTTP,
//! or HTTPS with a private CA made at test time).
#![allow(dead_code)]

#[path = "../../../recital-serve/tests/support/pg.rs"]
pub mod pg;
pub mod probe;
pub mod raw_upstream;
pub mod tls;
pub mod upstream;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Deterministic pseudo-prose: words from a fixed list, picked by a seeded LCG,
/// so the text is unique to its seed and occurs nowhere else.
pub fn prose(seed: u64, words: usize) -> String {
    const W: &[&str] = &[
        "amber",
        "harbour",
        "quietly",
        "lantern",
        "orchard",
        "meridian",
        "velvet",
        "copper",
        "whistle",
        "granite",
        "meadow",
        "silver",
        "thistle",
        "cathedral",
        "ember",
        "falcon",
        "juniper",
        "marrow",
        "pebble",
        "saffron",
        "tundra",
        "vessel",
        "willow",
        "zephyr",
        "beacon",
        "cobalt",
        "driftwood",
        "fennel",
        "gossamer",
        "hollow",
        "indigo",
        "jasmine",
        "kestrel",
        "lichen",
        "mosaic",
        "nectar",
        "obsidian",
        "parchment",
        "quarry",
        "russet",
        "sorrel",
        "tamarind",
        "umber",
        "verdant",
        "wander",
        "yarrow",
        "alder",
        "bramble",
        "cinder",
        "dapple",
    ];
    let mut x = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    let mut out = String::new();
    for i in 0..words {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let w = W[((x >> 33) as usize) % W.len()];
        if i > 0 {
            out.push(if i % 13 == 0 { '\n' } else { ' ' });
        }
        out.push_str(w);
        if i % 11 == 10 {
            out.push(',');
        }
    }
    out.push('.');
    out
}

/// Builds a small index with documents under different rights:
/// `novel.txt` (proprietary), `essay.txt` (CC-BY-4.0, TDM opt-out in the EU),
/// `manual.txt` (MIT) and `psalm.txt` (public domain).
pub fn build_index(dir: &Path) -> PathBuf {
    let c = dir.join("corpus");
    std::fs::create_dir_all(&c).unwrap();
    std::fs::write(c.join("novel.txt"), prose(1, 3000)).unwrap();
    std::fs::write(c.join("essay.txt"), prose(2, 2000)).unwrap();
    std::fs::write(c.join("manual.txt"), prose(3, 2000)).unwrap();
    std::fs::write(c.join("psalm.txt"), prose(4, 2000)).unwrap();
    std::fs::write(
        c.join("rights.jsonl"),
        [
            r#"{"path": "novel.txt", "license": "LicenseRef-Proprietary", "holder": "Example Press", "url": "https://example.org/novel", "category": "prose"}"#,
            r#"{"path": "essay.txt", "license": "CC-BY-4.0", "holder": "E. Ssayist", "url": "https://example.org/essay", "tdm_opt_out": true, "jurisdictions": ["EU"], "category": "prose"}"#,
            r#"{"path": "manual.txt", "license": "MIT", "holder": "Manual Authors", "url": "https://example.org/manual", "category": "prose"}"#,
            r#"{"path": "psalm.txt", "license": "CC0-1.0", "holder": "Nobody", "url": "https://example.org/psalm", "category": "prose"}"#,
        ]
        .join("\n"),
    )
    .unwrap();
    let idx = dir.join("idx");
    let o = Command::new(env!("CARGO_BIN_EXE_recital"))
        .args(["index", "build", "--index"])
        .arg(&idx)
        .arg("--rights")
        .arg(c.join("rights.jsonl"))
        .arg(c.join("novel.txt"))
        .arg(c.join("essay.txt"))
        .arg(c.join("manual.txt"))
        .arg(c.join("psalm.txt"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    idx
}

/// Words `from..to` of a document as one line (how a model would quote it).
pub fn quote(text: &str, from: usize, to: usize) -> String {
    text.split_whitespace().skip(from).take(to - from).collect::<Vec<_>>().join(" ")
}

/// A running `recital serve`.
pub struct Server {
    pub child: Child,
    pub base: String,
    pub stderr: std::sync::Arc<std::sync::Mutex<String>>,
}

impl Server {
    /// Starts the binary with `args` (plus `--addr 127.0.0.1:0`) and waits for it to listen.
    pub fn start(args: &[&str], env: &[(&str, &str)]) -> Server {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_recital"));
        cmd.arg("serve").args(args).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped());
        if !args.contains(&"--addr") {
            cmd.args(["--addr", "127.0.0.1:0"]);
        }
        cmd.env_remove("RECITAL_API_KEY");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().unwrap();
        let err = child.stderr.take().unwrap();
        let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let log2 = log.clone();
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                if let Some(rest) = line.split("listening on http://").nth(1) {
                    let addr = rest.split_whitespace().next().unwrap_or("").to_string();
                    if let Some(t) = tx.take() {
                        let _ = t.send(addr);
                    }
                }
                log2.lock().unwrap().push_str(&line);
                log2.lock().unwrap().push('\n');
            }
        });
        let addr = rx.recv_timeout(Duration::from_secs(60)).unwrap_or_else(|_| {
            let _ = child.kill();
            panic!("server did not start: {}", log.lock().unwrap())
        });
        Server { child, base: format!("http://{addr}"), stderr: log }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// SIGKILL, as a crash would.
    pub fn kill9(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM and wait for a clean exit.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        unsafe_sigterm(self.child.id());
        let t0 = Instant::now();
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                return s;
            }
            if t0.elapsed() > Duration::from_secs(20) {
                let _ = self.child.kill();
                panic!("server did not stop on SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn unsafe_sigterm(pid: u32) {
    let _ = Command::new("kill").args(["-TERM", &pid.to_string()]).status();
}

/// A blocking HTTP client with a timeout.
pub fn client() -> reqwest::blocking::Client {
    recital_serve::tls::install_crypto_provider();
    reqwest::blocking::Client::builder().timeout(Duration::from_secs(60)).build().unwrap()
}

/// Reads an SSE response to its end: the data of every event, in order.
pub fn sse_events(resp: reqwest::blocking::Response) -> Vec<String> {
    let mut out = Vec::new();
    let mut data = Vec::new();
    for line in BufReader::new(resp).lines() {
        let line = line.unwrap();
        if line.is_empty() {
            if !data.is_empty() {
                out.push(data.join("\n"));
                data.clear();
            }
        } else if let Some(d) = line.strip_prefix("data: ") {
            data.push(d.to_string());
        }
    }
    if !data.is_empty() {
        out.push(data.join("\n"));
    }
    out
}

/// The content of a chat stream's choice 0, its finish reason, and the `recital` extensions seen.
pub fn chat_stream_content(events: &[String]) -> (String, Option<String>, Vec<serde_json::Value>) {
    let mut content = String::new();
    let mut finish = None;
    let mut ext = Vec::new();
    for e in events {
        if e == "[DONE]" {
            continue;
        }
        let v: serde_json::Value = serde_json::from_str(e).unwrap_or_else(|_| panic!("not JSON: {e}"));
        if let Some(x) = v.get("recital") {
            ext.push(x.clone());
        }
        for c in v["choices"].as_array().into_iter().flatten() {
            if let Some(t) = c.pointer("/delta/content").and_then(|t| t.as_str()) {
                content.push_str(t);
            }
            if let Some(f) = c.get("finish_reason").and_then(|f| f.as_str()) {
                finish = Some(f.to_string());
            }
        }
    }
    (content, finish, ext)
}

/// True if any `n` consecutive words of `needle` appear in `hay`.
pub fn shares_words(hay: &str, needle: &str, n: usize) -> Option<String> {
    let norm = |s: &str| {
        s.split_whitespace()
            .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()).to_lowercase())
            .collect::<Vec<_>>()
    };
    let h = norm(hay).join(" ");
    let w = norm(needle);
    w.windows(n).map(|x| x.join(" ")).find(|x| h.contains(x.as_str()))
}

/// Every string anywhere in `v` (object keys included), joined: what a
/// client could show, to look for a copy in.
pub fn all_strings(v: &serde_json::Value) -> String {
    use serde_json::Value;
    fn walk(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::String(s) => out.push(s.clone()),
            Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
            Value::Object(o) => o.iter().for_each(|(k, x)| {
                out.push(k.clone());
                walk(x, out)
            }),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(v, &mut out);
    out.join(" ")
}
