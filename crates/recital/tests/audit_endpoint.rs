//! `recital audit` through the endpoint backend, without local models: the
//! duplicate counts of probes sampled with a Metaspace tokenizer (issue 16's
//! reproduction), and `--request-timeout` / `--retries` bounding how long a
//! hanging server can hold an audit.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

fn recital(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_recital"))
        .args(args)
        .env_remove("RECITAL_MODEL_API_KEY")
        .output()
        .unwrap()
}

/// An OpenAI-compatible server on loopback: `answer(request line, body)`
/// gives the JSON of the response, or `None` to hold the connection open.
fn stub_server(answer: impl Fn(&str, &[u8]) -> Option<String> + Send + Sync + 'static) -> String {
    stub_server_status(move |first, body| answer(first, body).map(|r| (200, r)))
}

/// As [`stub_server`], with the status of each answer.
fn stub_server_status(
    answer: impl Fn(&str, &[u8]) -> Option<(u16, String)> + Send + Sync + 'static,
) -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", l.local_addr().unwrap());
    let answer = Arc::new(answer);
    std::thread::spawn(move || {
        for conn in l.incoming() {
            let Ok(mut conn) = conn else { continue };
            let answer = answer.clone();
            std::thread::spawn(move || {
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
                match answer(&first, &body) {
                    Some((status, resp)) => {
                        let _ = write!(
                            conn,
                            "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{resp}",
                            resp.len()
                        );
                    }
                    None => std::thread::sleep(Duration::from_secs(60)),
                }
            });
        }
    });
    base
}

const MODELS: &str = r#"{"object":"list","data":[{"id":"m","object":"model"}]}"#;

/// A server that lists a model and answers `/v1/completions` never,
/// counting the requests.
fn hanging_server(completions: Arc<AtomicUsize>) -> String {
    stub_server(move |first, _| {
        if first.contains("/v1/models") {
            return Some(MODELS.into());
        }
        completions.fetch_add(1, Ordering::SeqCst);
        None
    })
}

/// A server that completes every prompt of token ids with token 1, and
/// echoes prompts with log-probability −0.5 per token.
fn constant_server() -> String {
    stub_server(|first, body| {
        if first.contains("/v1/models") {
            return Some(MODELS.into());
        }
        let req: Value = serde_json::from_slice(body).ok()?;
        let prompt = req["prompt"].as_array()?.len();
        let n = req["max_tokens"].as_u64()? as usize;
        let logprobs = if req["echo"] == true {
            let mut lps = vec![Value::Null];
            lps.extend(std::iter::repeat_n(json!(-0.5), prompt));
            json!({"token_logprobs": lps})
        } else {
            json!({"tokens": vec!["token_id:1"; n], "token_logprobs": vec![-0.5; n]})
        };
        Some(json!({"choices": [{"index": 0, "text": "", "logprobs": logprobs}]}).to_string())
    })
}

/// Issue 16's reproduction: 16-word passages in 1, 3 and 8 documents, 12
/// probes of 8 + 8 tokens sampled through a WordLevel tokenizer on
/// Metaspace, whose decoder drops the space between two separately decoded
/// halves. Each probe's `duplicates` is its passage's number of documents.
#[test]
fn metaspace_probes_count_their_corpus_duplicates() {
    let tmp = tempfile::tempdir().unwrap();
    let corpus = tmp.path().join("corpus");
    std::fs::create_dir(&corpus).unwrap();
    let mut copies_of = std::collections::HashMap::new();
    let mut vocab = serde_json::Map::new();
    vocab.insert("<unk>".into(), json!(0));
    for (p, copies) in [(0, 1), (1, 3), (2, 8)] {
        let words: Vec<String> = (0..16).map(|i| format!("p{p}w{i}")).collect();
        for w in &words {
            vocab.insert(format!("\u{2581}{w}"), json!(vocab.len()));
        }
        for c in 0..copies {
            let name = format!("p{p}-{c}.txt");
            std::fs::write(corpus.join(&name), words.join(" ")).unwrap();
            copies_of.insert(name, copies);
        }
    }
    let metaspace =
        json!({"type": "Metaspace", "replacement": "\u{2581}", "prepend_scheme": "always", "split": true});
    let tokenizer = json!({
        "version": "1.0", "truncation": null, "padding": null, "added_tokens": [], "normalizer": null,
        "pre_tokenizer": metaspace, "post_processor": null, "decoder": metaspace,
        "model": {"type": "WordLevel", "vocab": vocab, "unk_token": "<unk>"},
    });
    let tok = tmp.path().join("tokenizer.json");
    std::fs::write(&tok, tokenizer.to_string()).unwrap();
    let index = tmp.path().join("index");
    let o = recital(&["index", "build", "--index", index.to_str().unwrap(), corpus.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let url = constant_server();
    let out = tmp.path().join("out");
    let o = recital(&[
        "audit",
        "--index",
        index.to_str().unwrap(),
        "--model",
        &url,
        "--tokenizer",
        tok.to_str().unwrap(),
        "--samples",
        "12",
        "--prefix-tokens",
        "8",
        "--suffix-tokens",
        "8",
        "--no-sweep",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let results = std::fs::read_to_string(out.join("results.jsonl")).unwrap();
    let results: Vec<Value> = results.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(results.len(), 12);
    for r in &results {
        let doc = r["source"]["doc_id"].as_str().unwrap();
        assert_eq!(r["duplicates"], json!(copies_of[doc]), "{r}");
        assert_eq!(r["suffix_tokens"], 8);
    }
    let report: Value = serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    let buckets: Vec<&str> =
        report["by_duplicates"].as_array().unwrap().iter().map(|b| b["bucket"].as_str().unwrap()).collect();
    assert_eq!(buckets, ["1", "2–3", "8–15"]);
    // The endpoint gives no next-token distribution, and the report says so.
    let omitted = report["omitted_metrics"].as_array().unwrap();
    assert!(
        omitted.iter().any(|o| o["metric"] == "min_k_plus_plus"
            && o["why"].as_str().unwrap().contains("full next-token distribution")),
        "{omitted:?}"
    );
}

/// A whitespace tokenizer.json of a few words.
const TOKENIZER: &str = r#"{"version":"1.0","truncation":null,"padding":null,"added_tokens":[],"normalizer":null,
"pre_tokenizer":{"type":"WhitespaceSplit"},"post_processor":null,"decoder":null,
"model":{"type":"WordLevel","vocab":{"[UNK]":0,"the":1,"pin":2,"of":3,"ada":4,"is":5,"1":6,"2":7},"unk_token":"[UNK]"}}"#;

#[test]
fn request_timeout_and_retries_bound_a_hanging_endpoint() {
    let tmp = tempfile::tempdir().unwrap();
    let tok = tmp.path().join("tokenizer.json");
    std::fs::write(&tok, TOKENIZER).unwrap();
    let probes = tmp.path().join("probes.jsonl");
    std::fs::write(&probes, "{\"prefix\": \"the pin of ada is\", \"suffix\": \"1 2\"}\n").unwrap();
    let completions = Arc::new(AtomicUsize::new(0));
    let url = hanging_server(completions.clone());
    let out = tmp.path().join("out");
    let args = |timeout: &str, retries: &str| -> Vec<String> {
        [
            "audit",
            "--model",
            &url,
            "--tokenizer",
            tok.to_str().unwrap(),
            "--probes",
            probes.to_str().unwrap(),
            "--request-timeout",
            timeout,
            "--retries",
            retries,
            "--out",
            out.to_str().unwrap(),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    let run = |a: Vec<String>| recital(&a.iter().map(String::as_str).collect::<Vec<_>>());

    let t0 = Instant::now();
    let o = run(args("0.5", "2"));
    let took = t0.elapsed();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    let last = err.lines().last().unwrap_or_default();
    assert!(last.starts_with("error: ") && !err.contains("panicked"), "{err}");
    assert!(last.contains("request timeout of 500ms") && last.contains("after 3 attempts"), "{err}");
    // Three attempts of 0.5 s and back-offs of 0.25 s and 0.5 s: well under the default's minutes.
    assert_eq!(completions.load(Ordering::SeqCst), 3);
    assert!(took < Duration::from_secs(20), "took {took:?}");
    assert!(took >= Duration::from_millis(1500), "the timeout was not waited for: {took:?}");

    for (timeout, retries, want) in
        [("0", "1", "--request-timeout"), ("nan", "1", "--request-timeout"), ("1", "1000", "--retries")]
    {
        let o = run(args(timeout, retries));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success() && err.contains(want), "{timeout} {retries}: {err}");
    }
}

/// A toy model over [`TOKENIZER`]'s words: log p(word `w` at position `i`)
/// = −(0.1·(i + 1) + 0.01·id(w)), so the greedy word is always "the".
fn toy_lp(pos: usize, id: usize) -> f64 {
    -(0.1 * (pos + 1) as f64 + 0.01 * id as f64)
}

const WORDS: [&str; 7] = ["the", "pin", "of", "ada", "is", "1", "2"];

/// A server in llama-cpp-python's manner: a prompt of token ids is a 500
/// ("Input should be a valid string"), and for a model without BOS its
/// echo scores token `i` with the distribution after token `i`, and lists
/// that distribution's alternatives. A token forced with `logit_bias`
/// reports `forced_lp(its unbiased log-probability)`.
fn text_only_shifted_server(forced_lp: fn(f64) -> f64) -> String {
    let id = |w: &str| WORDS.iter().position(|x| *x == w).map_or(0, |p| p + 1);
    stub_server_status(move |first, body| {
        if first.contains("/v1/models") {
            return Some((200, MODELS.into()));
        }
        let req: Value = serde_json::from_slice(body).ok()?;
        let Some(prompt) = req["prompt"].as_str() else {
            let why = "{'type': 'string_type', 'loc': ('body', 'prompt', 'str'), 'msg': 'Input should be a valid string'}";
            return Some((500, json!({"error": {"message": why}}).to_string()));
        };
        let words: Vec<&str> = prompt.split_whitespace().collect();
        let n = words.len();
        let alternatives = |pos: usize| -> Value {
            WORDS
                .iter()
                .map(|w| (w.to_string(), json!(toy_lp(pos, id(w)))))
                .collect::<serde_json::Map<_, _>>()
                .into()
        };
        let (text, logprobs) = if req["echo"] == true {
            let mut lps: Vec<Value> = (0..n).map(|i| json!(toy_lp(i + 1, id(words[i])))).collect();
            let mut tops: Vec<Value> = (0..n).map(|i| alternatives(i + 1)).collect();
            lps[0] = Value::Null;
            tops[0] = Value::Null;
            (prompt.to_string(), json!({"tokens": words, "token_logprobs": lps, "top_logprobs": tops}))
        } else {
            let bias = req["logit_bias"].as_object().and_then(|b| b.keys().next().cloned());
            let biased = bias.and_then(|k| k.parse::<usize>().ok()).map(|k| WORDS[k - 1]);
            let word = biased.unwrap_or("the");
            let k = req["max_tokens"].as_u64()? as usize;
            let gen: Vec<&str> = (0..k).map(|_| word).collect();
            let lp = |j: usize| toy_lp(n + j, id(word));
            let lps: Vec<f64> =
                (0..k).map(|j| if biased.is_some() { forced_lp(lp(j)) } else { lp(j) }).collect();
            let tops: Vec<Value> = (0..k).map(|j| alternatives(n + j)).collect();
            (
                format!(" {}", gen.join(" ")),
                json!({"tokens": gen, "token_logprobs": lps, "top_logprobs": tops}),
            )
        };
        let resp = json!({"choices": [{"index": 0, "text": text, "logprobs": logprobs}], "usage": {"prompt_tokens": n}});
        Some((200, resp.to_string()))
    })
}

/// Audits the toy probe "the pin of ada is" → "1 2" through `url`.
fn audit_toy_probe(url: &str, tmp: &std::path::Path) -> Output {
    let tok = tmp.join("tokenizer.json");
    std::fs::write(&tok, TOKENIZER).unwrap();
    let probes = tmp.join("probes.jsonl");
    std::fs::write(&probes, "{\"prefix\": \"the pin of ada is\", \"suffix\": \"1 2\"}\n").unwrap();
    let out = tmp.join("out");
    recital(&[
        "audit",
        "--model",
        url,
        "--tokenizer",
        tok.to_str().unwrap(),
        "--probes",
        probes.to_str().unwrap(),
        "--retries",
        "0",
        "--out",
        out.to_str().unwrap(),
    ])
}

/// A server that refuses token ids and echoes one position off is found
/// out, and scored in place: the probe's LOSS is the toy model's. Its
/// forced tokens are 0.05 nats off, as a prompt cache that re-evaluates
/// one token alone made llama-cpp-python's on a CI machine.
#[test]
fn a_text_only_server_with_a_shifted_echo_is_scored_in_place() {
    let tmp = tempfile::tempdir().unwrap();
    let url = text_only_shifted_server(|lp| lp + 0.05);
    let o = audit_toy_probe(&url, tmp.path());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = tmp.path().join("out");
    let results = std::fs::read_to_string(out.join("results.jsonl")).unwrap();
    let r: Value = serde_json::from_str(results.lines().next().unwrap()).unwrap();
    // "1" after five words, "2" after six: ids 6 and 7.
    let want = -(toy_lp(5, 6) + toy_lp(6, 7)) / 2.0;
    assert!((r["loss"].as_f64().unwrap() - want).abs() < 1e-9, "{r}");
    let report: Value = serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    let scoring = report["model"]["scoring"].as_str().unwrap();
    assert!(scoring.contains("text prompts") && scoring.contains("one position off"), "{scoring}");
}

/// A server whose forced tokens report the biased log-probability (about
/// 0) cannot be scored through forcing, and the audit says so.
#[test]
fn a_server_reporting_biased_forced_log_probabilities_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let url = text_only_shifted_server(|_| -1e-6);
    let o = audit_toy_probe(&url, tmp.path());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "{err}");
    assert!(err.contains("a token forced with logit_bias") && !err.contains("panicked"), "{err}");
}
