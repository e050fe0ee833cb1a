//! `serve_bench soak`: many concurrent streams through the proxy for a long
//! time, with its own scripted upstream in-process (see `bench/soak.sh`).
//!
//! ```text
//! serve_bench soak --proxy URL --upstream ADDR --texts TEXTS.jsonl --policy FILE
//!                  [--streams 1000] [--secs 600] [--delay-ms 500] [--first-ms 100]
//!                  [--ramp-s 10] [--window-s 60] [--server-pid PID] [--sample-s 5]
//!                  [--notice-every-s 120]
//! ```
//!
//! - The upstream (on ADDR, which the proxy's `--upstream` names) answers
//!   `/v1/chat/completions` with text N of TEXTS.jsonl when the prompt says
//!   `bench-text N`, word k at `first + k·delay` ms after the request
//!   arrived (a tokio timer per stream, not a thread: there are thousands),
//!   and records when each request arrived, by its `user` tag.
//! - N slots each run one stream after another through the proxy until
//!   `--secs` have passed (slot starts spread over `--ramp-s`), then finish
//!   the stream they are on. Texts are taken in turn, so the file's mix (1 in
//!   4 quoting) is the mix streamed.
//! - Each stream is checked: a clean text must come out unchanged; a quoting
//!   text must come out filtered (redacted, or blocked once its document is
//!   under a notice) and must not carry `trigger` consecutive words of its
//!   passage (a leak). A transport error, a non-200, an in-stream error or
//!   a stream without a finish is an error.
//! - Added latency per token (clean streams): when the proxy delivered the
//!   token, minus when the upstream sent the chunk that the hold-back rule
//!   (`trigger − 1` tokens and the one being written) let it release. It
//!   includes the request's trip through the proxy and the upstream's timer
//!   lateness; it excludes the deliberate hold-back. Inter-token latency is
//!   the gap between delivered chunks. Both are binned by when the token was
//!   delivered, per `--window-s`.
//! - Every `--sample-s`: the server's RSS, peak RSS, open file descriptors,
//!   threads and CPU time (from `/proc/PID`), streams in flight, load average.
//! - Every `--notice-every-s`: `POST /v1/notices` on the next quoted
//!   document, then `POST /v1/filter` of one of its passages, which must be
//!   blocked; quoting streams of that document that start after the
//!   acknowledgement must end blocked (`finish_reason: content_filter`).

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::{dist, jsonl, one_stream, opts, pct, policy, release_bounds, usage, words, Seen};

/// One text of the soak, prepared once.
struct Text {
    text: String,
    /// The upstream's chunks: its words, each with the whitespace before it.
    pieces: Vec<String>,
    /// Bytes the hold-back rule releases after each chunk (the finish last).
    hold: Vec<usize>,
    /// A quoting text: the quoted document and every run of `trigger`
    /// consecutive (normalised) words of its passage.
    quote: Option<(String, HashSet<String>)>,
    /// The passage itself, for the notice's `/v1/filter` probe.
    passage: Option<String>,
}

/// Lower-case alphanumerics of each word: how the leak check compares text.
fn norm_words(s: &str) -> Vec<String> {
    s.split_whitespace()
        .map(|w| w.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect::<String>())
        .filter(|w| !w.is_empty())
        .collect()
}

fn windows_of(words: &[String], n: usize) -> impl Iterator<Item = String> + '_ {
    words.windows(n).map(|w| w.join(" "))
}

fn load_texts(path: &str, trigger: usize) -> Vec<Text> {
    jsonl(path)
        .iter()
        .map(|v| {
            let text = v["text"].as_str().expect("text").to_string();
            let pieces = words(&text);
            let seen =
                Seen { pieces: pieces.iter().map(|p| (0.0, p.clone())).collect(), ..Default::default() };
            let hold = release_bounds(&seen, trigger, false);
            let passage = v.pointer("/quote/passage").and_then(Value::as_str).map(str::to_string);
            let quote = v.pointer("/quote/doc_id").and_then(Value::as_str).map(|doc| {
                let w = norm_words(passage.as_deref().unwrap_or(""));
                (doc.to_string(), windows_of(&w, trigger).collect())
            });
            Text { text, pieces, hold, quote, passage }
        })
        .collect()
}

// ---------------------------------------------------------------- upstream

struct SoakUpstream {
    texts: Arc<Vec<Text>>,
    delay: Duration,
    first: Duration,
    /// When each request arrived, by its `user` tag; the client takes its own.
    arrivals: Mutex<HashMap<String, Instant>>,
    served: AtomicU64,
}

fn chunk(id: &str, delta: Value, finish: Option<&str>) -> bytes::Bytes {
    let v = json!({"id": id, "object": "chat.completion.chunk", "created": 1_700_000_000u64, "model": "soak",
                   "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]});
    bytes::Bytes::from(format!("data: {v}\n\n"))
}

async fn answer(
    axum::extract::State(up): axum::extract::State<Arc<SoakUpstream>>,
    body: axum::body::Bytes,
) -> axum::response::Response {
    let t0 = tokio::time::Instant::now();
    let req: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let user = req.get("user").and_then(Value::as_str).unwrap_or("").to_string();
    up.arrivals.lock().expect("arrivals").insert(user, t0.into_std());
    let raw = String::from_utf8_lossy(&body);
    let n = raw
        .find("bench-text ")
        .and_then(|i| raw[i + 11..].split(|c: char| !c.is_ascii_digit()).next()?.parse::<usize>().ok())
        .unwrap_or(0);
    let id = format!("cmpl-soak-{}", up.served.fetch_add(1, Ordering::Relaxed));
    let (tx, rx) = tokio::sync::mpsc::channel::<bytes::Bytes>(4);
    let (texts, delay, first) = (up.texts.clone(), up.delay, up.first);
    tokio::spawn(async move {
        let pieces = &texts[n % texts.len()].pieces;
        if tx.send(chunk(&id, json!({"role": "assistant", "content": ""}), None)).await.is_err() {
            return;
        }
        for (k, p) in pieces.iter().enumerate() {
            tokio::time::sleep_until(t0 + first + delay * k as u32).await;
            if tx.send(chunk(&id, json!({"content": p}), None)).await.is_err() {
                return; // the proxy went away (a blocked stream)
            }
        }
        let _ = tx.send(chunk(&id, json!({}), Some("stop"))).await;
        let _ = tx.send(bytes::Bytes::from_static(b"data: [DONE]\n\n")).await;
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|b| (Ok::<_, std::io::Error>(b), rx))
    });
    axum::response::Response::builder()
        .header("content-type", "text/event-stream")
        .header("cache-control", "no-cache")
        .body(axum::body::Body::from_stream(stream))
        .unwrap()
}

fn start_upstream(addr: &str, up: Arc<SoakUpstream>) -> std::thread::JoinHandle<()> {
    let listener = std::net::TcpListener::bind(addr).unwrap_or_else(|e| {
        eprintln!("serve_bench soak: cannot bind the upstream on {addr}: {e}");
        std::process::exit(2)
    });
    listener.set_nonblocking(true).expect("nonblocking");
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        rt.block_on(async move {
            use axum::serve::ListenerExt;
            let listener = tokio::net::TcpListener::from_std(listener).expect("listener").tap_io(|s| {
                let _ = s.set_nodelay(true);
            });
            let app =
                axum::Router::new().route("/v1/chat/completions", axum::routing::post(answer)).with_state(up);
            axum::serve(listener, app).await.expect("serve");
        });
    })
}

// ---------------------------------------------------------------- tallies

/// What one window (`--window-s`) of the run saw.
#[derive(Default)]
struct Window {
    streams: usize,
    clean: usize,
    quoting: usize,
    filtered: usize,
    blocked: usize,
    leaked: usize,
    errors: usize,
    added_ms: Vec<f64>,
    itl_ms: Vec<f64>,
    tokens: usize,
}

#[derive(Default)]
struct Tally {
    windows: Vec<Window>,
    error_examples: Vec<String>,
    leak_examples: Vec<String>,
    /// Quoting streams of a noticed document that started after its
    /// acknowledgement: (blocked, total).
    after_notice: (usize, usize),
    not_blocked_after_notice: Vec<String>,
    /// The upstream never saw the request (no arrival recorded).
    no_arrival: usize,
}

impl Tally {
    fn window(&mut self, t: f64, width: f64) -> &mut Window {
        let i = (t / width).max(0.0) as usize;
        if self.windows.len() <= i {
            self.windows.resize_with(i + 1, Window::default);
        }
        &mut self.windows[i]
    }
}

struct Soak {
    texts: Arc<Vec<Text>>,
    up: Arc<SoakUpstream>,
    url: String,
    start: Instant,
    secs: f64,
    window_s: f64,
    /// The policy's trigger: this many consecutive words of a passage are a leak.
    trigger: usize,
    delay_ms: f64,
    first_ms: f64,
    next_text: AtomicUsize,
    in_flight: AtomicUsize,
    tally: Mutex<Tally>,
    /// Documents under a notice, with when the notice was acknowledged.
    noticed: Mutex<HashMap<String, Instant>>,
    /// The server's `/proc` figures, every `--sample-s`.
    samples: Mutex<Vec<Value>>,
}

impl Soak {
    fn sample(&self, pid: Option<u32>) -> Value {
        let mut v = pid.map_or(json!({}), proc_sample);
        v["t_s"] = json!(self.start.elapsed().as_secs_f64());
        v["in_flight"] = json!(self.in_flight.load(Ordering::Relaxed));
        v["load1"] = json!(loadavg());
        self.samples.lock().expect("samples").push(v.clone());
        v
    }

    fn since(&self, t: Instant) -> f64 {
        t.saturating_duration_since(self.start).as_secs_f64()
    }

    async fn slot(self: Arc<Self>, client: reqwest::Client, slot: usize, ramp: Duration) {
        tokio::time::sleep(ramp).await;
        let mut seq = 0u64;
        while self.start.elapsed().as_secs_f64() < self.secs {
            let i = self.next_text.fetch_add(1, Ordering::Relaxed) % self.texts.len();
            let tag = format!("soak-{slot}-{seq}");
            seq += 1;
            let body = json!({"model": "soak", "stream": true, "max_tokens": 512, "user": tag,
                              "messages": [{"role": "user", "content": format!("Write something. bench-text {i}")}]});
            self.in_flight.fetch_add(1, Ordering::Relaxed);
            let sent = Instant::now();
            let seen = one_stream(&client, &self.url, &body).await;
            self.in_flight.fetch_sub(1, Ordering::Relaxed);
            let arrived = self.up.arrivals.lock().expect("arrivals").remove(&tag);
            self.judge(i, sent, arrived, &seen);
        }
    }

    /// Checks one finished stream and counts it.
    fn judge(&self, i: usize, sent: Instant, arrived: Option<Instant>, seen: &Seen) {
        let text = &self.texts[i];
        let got = seen.text();
        let end = self.since(sent) + seen.end_ms / 1e3;
        let mut t = self.tally.lock().expect("tally");
        if arrived.is_none() {
            t.no_arrival += 1;
        }
        let blocked = seen.finish_reason.as_deref() == Some("content_filter");
        let error = match (&seen.error, &text.quote) {
            (Some(e), _) => Some(e.clone()),
            (None, _) if seen.finish_reason.is_none() => Some("no finish_reason".to_string()),
            (None, None) if got != text.text => Some(format!("clean text {i} changed: {got:?}")),
            _ => None,
        };
        if let Some(e) = error {
            t.window(end, self.window_s).errors += 1;
            if t.error_examples.len() < 5 {
                t.error_examples.push(e);
            }
            return;
        }
        let Some((doc, runs)) = &text.quote else {
            let w = t.window(end, self.window_s);
            w.streams += 1;
            w.clean += 1;
            if let Some(a) = arrived {
                self.latencies(&mut *t, text, sent, a, seen);
            }
            return;
        };
        let leaked = windows_of(&norm_words(&got), self.trigger).any(|w| runs.contains(&w));
        let filtered = blocked || (got != text.text && got.contains("[redacted"));
        if let Some(ack) = self.noticed.lock().expect("noticed").get(doc) {
            if sent > *ack {
                t.after_notice.1 += 1;
                if blocked {
                    t.after_notice.0 += 1;
                } else if t.not_blocked_after_notice.len() < 5 {
                    t.not_blocked_after_notice.push(format!("{doc}: {got:?}"));
                }
            }
        }
        if (leaked || !filtered) && t.leak_examples.len() < 5 {
            t.leak_examples.push(format!("text {i} ({doc}): {got:?}"));
        }
        let w = t.window(end, self.window_s);
        w.streams += 1;
        w.quoting += 1;
        w.filtered += usize::from(filtered);
        w.blocked += usize::from(blocked);
        w.leaked += usize::from(leaked || !filtered);
    }

    /// Added latency beyond the hold-back and inter-token gaps of a clean
    /// stream, each binned by when the token reached the client.
    fn latencies(&self, t: &mut Tally, text: &Text, sent: Instant, arrived: Instant, seen: &Seen) {
        let base = self.since(sent);
        let arr_ms = arrived.saturating_duration_since(sent).as_secs_f64() * 1e3;
        let n = text.pieces.len();
        // When the upstream sent chunk i (the finish chunk right after the last word).
        let sched = |i: usize| arr_ms + self.first_ms + self.delay_ms * i.min(n.saturating_sub(1)) as f64;
        let mut ends = Vec::with_capacity(seen.pieces.len());
        let mut e = 0usize;
        for (_, p) in &seen.pieces {
            e += p.len();
            ends.push(e);
        }
        let mut end = 0usize;
        for p in &text.pieces {
            end += p.len();
            let Some(j) = ends.iter().position(|&v| v >= end) else { continue };
            let rh = text.hold.iter().position(|&v| v >= end).unwrap_or(n);
            let at = seen.pieces[j].0;
            let w = t.window(base + at / 1e3, self.window_s);
            w.added_ms.push(at - sched(rh));
            w.tokens += 1;
        }
        for pair in seen.pieces.windows(2) {
            let at = pair[1].0;
            t.window(base + at / 1e3, self.window_s).itl_ms.push(at - pair[0].0);
        }
    }
}

// ---------------------------------------------------------------- sampling and notices

/// `/proc/PID` figures of the server.
fn proc_sample(pid: u32) -> Value {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kb = |k: &str| -> Option<u64> {
        status.lines().find(|l| l.starts_with(k))?.split_whitespace().nth(1)?.parse().ok()
    };
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).map(|d| d.count()).ok();
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // After the command's closing parenthesis: the state (field 3), then
    // numbers (some may be -1); utime and stime are fields 14 and 15.
    let cpu = stat.rsplit_once(')').map(|(_, rest)| {
        let f: Vec<&str> = rest.split_whitespace().collect();
        let ticks = |i: usize| f.get(i).and_then(|x| x.parse::<u64>().ok()).unwrap_or(0);
        // SAFETY: sysconf has no preconditions.
        let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
        (ticks(11) + ticks(12)) as f64 / hz
    });
    json!({"rss_kb": kb("VmRSS:"), "hwm_kb": kb("VmHWM:"), "fds": fds, "threads": kb("Threads:"),
           "cpu_s": cpu})
}

fn loadavg() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg").ok()?.split_whitespace().next()?.parse().ok()
}

/// Samples the server every `every` into `soak.samples` until aborted.
async fn sampler(soak: Arc<Soak>, pid: Option<u32>, every: Duration) {
    loop {
        soak.sample(pid);
        tokio::time::sleep(every).await;
    }
}

async fn notices(soak: Arc<Soak>, client: reqwest::Client, base: String, every: Duration) -> Vec<Value> {
    // The quoted documents in the order the texts first quote them, each with a passage.
    let mut docs: Vec<(String, String)> = Vec::new();
    for t in soak.texts.iter() {
        if let (Some((d, _)), Some(p)) = (&t.quote, &t.passage) {
            if !docs.iter().any(|(x, _)| x == d) {
                docs.push((d.clone(), p.clone()));
            }
        }
    }
    let mut out = Vec::new();
    for (doc, passage) in docs {
        tokio::time::sleep(every).await;
        if soak.start.elapsed().as_secs_f64() + every.as_secs_f64() / 2.0 > soak.secs {
            break;
        }
        let t0 = Instant::now();
        let r = client
            .post(format!("{base}/v1/notices"))
            .json(&json!({"target": {"type": "document", "doc_id": doc}, "reason": "bench/soak.sh"}))
            .send()
            .await;
        let status = r.as_ref().map_or(0, |r| r.status().as_u16());
        let ack = Instant::now();
        let acknowledged = matches!(status, 200 | 201);
        if acknowledged {
            soak.noticed.lock().expect("noticed").insert(doc.clone(), ack);
        }
        let probe = client.post(format!("{base}/v1/filter")).json(&json!({"text": passage})).send().await;
        let action = match probe {
            Ok(r) => r.json::<Value>().await.ok().and_then(|v| v["action"].as_str().map(str::to_string)),
            Err(_) => None,
        };
        out.push(
            json!({"t_s": soak.since(t0), "doc_id": doc, "status": status, "acknowledged": acknowledged,
                        "ack_ms": (ack - t0).as_secs_f64() * 1e3,
                        "first_filter_after_ack": action,
                        "in_effect": action.as_deref() == Some("block")}),
        );
        eprintln!("serve_bench soak: notice on {doc}: {status}, then /v1/filter says {action:?}");
    }
    out
}

async fn wait_for_proxy(client: &reqwest::Client, base: &str) {
    for _ in 0..600 {
        if client.get(format!("{base}/healthz")).send().await.is_ok_and(|r| r.status().is_success()) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    eprintln!("serve_bench soak: the proxy at {base} did not answer /healthz in 60 s");
    std::process::exit(2)
}

// ---------------------------------------------------------------- main

pub(crate) fn soak(args: &[String]) {
    let (_, named) = opts(args);
    let get = |k: &str| named.get(k).cloned().unwrap_or_else(|| usage());
    let num = |k: &str, d: f64| named.get(k).map_or(d, |v| v.parse::<f64>().expect("number"));
    let trigger = policy(&named).trigger_tokens();
    let texts = Arc::new(load_texts(&get("texts"), trigger));
    let (streams, secs) = (num("streams", 1000.0) as usize, num("secs", 600.0));
    let (delay_ms, first_ms) = (num("delay-ms", 500.0), num("first-ms", 100.0));
    let up = Arc::new(SoakUpstream {
        texts: texts.clone(),
        delay: Duration::from_secs_f64(delay_ms / 1e3),
        first: Duration::from_secs_f64(first_ms / 1e3),
        arrivals: Default::default(),
        served: AtomicU64::new(0),
    });
    let _upstream = start_upstream(&get("upstream"), up.clone());
    let base = get("proxy").trim_end_matches('/').to_string();
    let pid: Option<u32> = named.get("server-pid").map(|p| p.parse().expect("--server-pid PID"));
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let report = rt.block_on(async {
        let client = reqwest::Client::builder()
            .no_proxy()
            .pool_max_idle_per_host(streams + 16)
            .build()
            .expect("client");
        wait_for_proxy(&client, &base).await;
        let soak = Arc::new(Soak {
            texts: texts.clone(),
            up,
            url: format!("{base}/v1/chat/completions"),
            start: Instant::now(),
            secs,
            window_s: num("window-s", 60.0),
            trigger,
            delay_ms,
            first_ms,
            next_text: AtomicUsize::new(0),
            in_flight: AtomicUsize::new(0),
            tally: Default::default(),
            noticed: Default::default(),
            samples: Default::default(),
        });
        eprintln!(
            "serve_bench soak: {streams} streams for {secs} s ({} texts, trigger {trigger})",
            texts.len()
        );
        let ramp = num("ramp-s", 10.0);
        let slots: Vec<_> = (0..streams)
            .map(|s| {
                let r = Duration::from_secs_f64(ramp * s as f64 / streams.max(1) as f64);
                tokio::spawn(soak.clone().slot(client.clone(), s, r))
            })
            .collect();
        let sampling =
            tokio::spawn(sampler(soak.clone(), pid, Duration::from_secs_f64(num("sample-s", 5.0))));
        let every = num("notice-every-s", 120.0);
        let notice_task = (every > 0.0).then(|| {
            tokio::spawn(notices(soak.clone(), client.clone(), base.clone(), Duration::from_secs_f64(every)))
        });
        let progress = {
            let soak = soak.clone();
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(Duration::from_secs(30)).await;
                    let t = soak.tally.lock().expect("tally");
                    let done: usize = t.windows.iter().map(|w| w.streams).sum();
                    let errors: usize = t.windows.iter().map(|w| w.errors).sum();
                    eprintln!(
                        "serve_bench soak: {:.0} s: {done} streams done, {errors} errors, {} in flight",
                        soak.start.elapsed().as_secs_f64(),
                        soak.in_flight.load(Ordering::Relaxed)
                    );
                }
            })
        };
        for s in slots {
            s.await.expect("slot");
        }
        let drained_at = soak.start.elapsed().as_secs_f64();
        progress.abort();
        let notices = match notice_task {
            Some(t) => t.await.expect("notices"),
            None => Vec::new(),
        };
        // One more sample once the connections have been idle a moment.
        tokio::time::sleep(Duration::from_secs(3)).await;
        sampling.abort();
        let after = soak.sample(pid);
        let samples = std::mem::take(&mut *soak.samples.lock().expect("samples"));
        summary(&soak, streams, trigger, drained_at, samples, after, notices)
    });
    println!("{}", serde_json::to_string_pretty(&report).unwrap());
}

fn summary(
    soak: &Soak,
    streams: usize,
    trigger: usize,
    drained_at: f64,
    samples: Vec<Value>,
    after: Value,
    notices: Vec<Value>,
) -> Value {
    let t = soak.tally.lock().expect("tally");
    let sum = |f: fn(&Window) -> usize| -> usize { t.windows.iter().map(f).sum() };
    let windows: Vec<Value> = t
        .windows
        .iter()
        .enumerate()
        .map(|(i, w)| {
            json!({"from_s": i as f64 * soak.window_s, "streams": w.streams, "clean": w.clean, "quoting": w.quoting,
                   "filtered": w.filtered, "blocked": w.blocked, "leaked": w.leaked, "errors": w.errors,
                   "tokens_timed": w.tokens, "added_ms": dist(&w.added_ms), "itl_ms": dist(&w.itl_ms)})
        })
        .collect();
    let all_added: Vec<f64> = t.windows.iter().flat_map(|w| w.added_ms.iter().copied()).collect();
    let all_itl: Vec<f64> = t.windows.iter().flat_map(|w| w.itl_ms.iter().copied()).collect();
    let rss: Vec<f64> = samples.iter().filter_map(|s| s["rss_kb"].as_f64()).collect();
    let fds: Vec<f64> = samples.iter().filter_map(|s| s["fds"].as_f64()).collect();
    let tokens: usize = sum(|w| w.tokens);
    json!({
        "streams_concurrent": streams,
        "secs": soak.secs,
        "drained_at_s": drained_at,
        "delay_ms": soak.delay_ms,
        "first_ms": soak.first_ms,
        "trigger_tokens": trigger,
        "texts": soak.texts.len(),
        "quoting_texts": soak.texts.iter().filter(|t| t.quote.is_some()).count(),
        "upstream_requests": soak.up.served.load(Ordering::Relaxed),
        "streams_completed": sum(|w| w.streams),
        "clean": sum(|w| w.clean),
        "quoting": sum(|w| w.quoting),
        "filtered": sum(|w| w.filtered),
        "blocked": sum(|w| w.blocked),
        "leaked": sum(|w| w.leaked),
        "errors": sum(|w| w.errors),
        "error_examples": t.error_examples,
        "leak_examples": t.leak_examples,
        "no_upstream_arrival": t.no_arrival,
        "quoting_after_notice_blocked": t.after_notice.0,
        "quoting_after_notice": t.after_notice.1,
        "not_blocked_after_notice_examples": t.not_blocked_after_notice,
        "tokens_timed": tokens,
        "tokens_per_s": tokens as f64 / drained_at.max(1e-9),
        "added_ms": dist(&all_added),
        "itl_ms": dist(&all_itl),
        "rss_kb": {"min": pct(&rss, 0.0), "max": pct(&rss, 1.0), "first": rss.first(), "last": rss.last()},
        "fds": {"min": pct(&fds, 0.0), "max": pct(&fds, 1.0), "first": fds.first(), "last": fds.last()},
        "after_drain": after,
        "notices": notices,
        "windows": windows,
        "samples": samples,
    })
}
