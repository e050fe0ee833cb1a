//! Helper of `bench/serve.sh`: the in-process baseline of `/v1/scan`, a
//! scripted OpenAI-compatible streaming upstream, and a streaming client that
//! pairs direct and proxied streams token by token. Prints JSON.
//!
//! ```text
//! serve_bench inproc   INDEX OUTPUTS.jsonl [--policy FILE] [--rounds N] [--secs S]
//!                      [--threads 1,2] [--variants scan_default,...]
//! serve_bench upstream ADDR TEXTS.jsonl [--delay-ms 20] [--first-ms 20] [--log FILE]
//! serve_bench stream   --direct URL --proxy URL --index DIR --streams N --concurrency C
//!                      [--policy FILE] [--texts N] [--offset K]
//!                      [--endpoint chat|completions|tool-calls|responses]
//!                      [--prompts FILE --model M --max-tokens K] [--flush 1] [--relay-log FILE]
//!                      [--passthrough 1]
//! serve_bench relay    ADDR UPSTREAM_URL LOG.jsonl|- [--workers N]
//! serve_bench guard    INDEX TEXTS.jsonl [--policy FILE] [--rounds N] [--gap-us N]
//! serve_bench soak     --proxy URL --upstream ADDR --texts TEXTS.jsonl --policy FILE [...]
//! ```
//!
//! `soak` (`bench/soak.sh`) is in `soak.rs`, which documents it.
//!
//! - `inproc`: the same 1 KB outputs that `wrk` posts to `/v1/scan`, scanned
//!   in-process several ways, each timed per output (1 thread, `--rounds`
//!   rounds after a warm-up pass; 0: skipped) and for throughput with 1 and
//!   2 threads sharing the state for `--secs` seconds each: `scan_default` (`recital_detect::scan` with default
//!   `ScanOptions`, what `bench_scan` times), `scan_service` (the options the
//!   service derives from the policy), `evaluate` (`recital_filter::evaluate`
//!   with sources located, what `engine::evaluate` runs in a request's
//!   blocking task: scan + policy decision) and `evaluate_json` (evaluate +
//!   the `/v1/scan` response serialised), and as a
//!   diagnostic `scan_service_no_sources` (`max_sources = 0`: no document
//!   text decoded for attribution; not a usable configuration).
//! - `upstream`: answers `/v1/chat/completions`, `/v1/completions` and
//!   `/v1/responses`. The text is line N of TEXTS.jsonl when the request
//!   contains `bench-text N`. Streamed word by word (a word and the
//!   whitespace before it) on a fixed schedule from the moment the request
//!   arrives: word k at `first + k·delay` ms; then a `finish_reason` chunk and
//!   `[DONE]`. A chat request with `tools` gets a `write_file` tool call
//!   instead, the text JSON-escaped inside its arguments
//!   (`{"path": "notes.md", "content": "…"}`), one escaped word per
//!   `tool_calls[0].function.arguments` fragment. `/v1/responses` streams
//!   `response.output_text.delta` events, then `output_text.done`,
//!   `content_part.done` and `output_item.done` (the finish, logged as such)
//!   and `response.completed`, each repeating the whole text. Each stream has its
//!   own thread sleeping to the deadlines (tokio's timer has 1 ms ticks).
//!   TCP_NODELAY is set on accepted connections (as uvicorn does). `--log`
//!   writes when each request arrived and each chunk left, in the relay's log
//!   format, for `stream --relay-log`.
//! - `stream`: rounds of C concurrent streams, the same texts once directly and
//!   once through the proxy (order alternating per round), and pairs them; see
//!   `analyse` for the definitions. `--passthrough 1` when `--proxy` is a
//!   `relay` (no hold-back: each chunk is released as it comes), the baseline
//!   of what one more hop costs on the machine. `--endpoint` picks the API
//!   and where the text travels in it (`tool-calls`: the arguments of a tool
//!   call, judged through the JSON lens; `responses`: the Responses API, whose
//!   `.done` and `response.completed` events are checked against the deltas:
//!   `repeats_differing`). With `SERVE_BENCH_DUMP=FILE`,
//!   one JSON line per token (its overhead and the chunk that released it).
//! - `guard`: the proxy's filter step (`recital_filter::StreamFilter`, judged
//!   by an `IndexJudge` over the index: no server state) over the texts word
//!   by word, in-process: time per step and index searches per
//!   step; `--gap-us` sleeps before each step, as between a real stream's
//!   chunks (the step then runs with cold caches, as it does in the server).

use std::collections::HashMap;
use std::io::BufRead;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;

mod soak;
use serde_json::{json, Value};

fn usage() -> ! {
    eprintln!("usage: serve_bench inproc|upstream|stream|relay|guard|soak ... (see src/main.rs)");
    std::process::exit(2)
}

fn main() {
    // Before any reqwest client: recital-serve's reqwest runs on rustls, which
    // panics without a process-wide crypto provider.
    recital_serve::tls::install_crypto_provider();
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("inproc") => inproc(&args[1..]),
        Some("upstream") => upstream(&args[1..]),
        Some("stream") => stream(&args[1..]),
        Some("relay") => relay(&args[1..]),
        Some("guard") => guard(&args[1..]),
        Some("soak") => soak::soak(&args[1..]),
        _ => usage(),
    }
}

/// `--name value` options and positional arguments.
fn opts(args: &[String]) -> (Vec<String>, HashMap<String, String>) {
    let (mut pos, mut named) = (Vec::new(), HashMap::new());
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if let Some(k) = a.strip_prefix("--") {
            named.insert(k.to_string(), it.next().cloned().unwrap_or_else(|| usage()));
        } else {
            pos.push(a.clone());
        }
    }
    (pos, named)
}

fn jsonl(path: &str) -> Vec<Value> {
    let f = std::fs::File::open(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    std::io::BufReader::new(f)
        .lines()
        .map_while(Result::ok)
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(&l).expect("JSON line"))
        .collect()
}

fn pct(v: &[f64], p: f64) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    if v.is_empty() {
        return f64::NAN;
    }
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

fn dist(v: &[f64]) -> Value {
    json!({"n": v.len(), "p50": pct(v, 0.5), "p90": pct(v, 0.9), "p99": pct(v, 0.99),
           "max": pct(v, 1.0), "min": pct(v, 0.0),
           "mean": if v.is_empty() { f64::NAN } else { v.iter().sum::<f64>() / v.len() as f64 }})
}

fn policy(named: &HashMap<String, String>) -> recital_policy::Policy {
    match named.get("policy") {
        Some(p) => recital_policy::Policy::load(std::path::Path::new(p)).expect("policy"),
        None => recital_policy::Policy::builtin_default(),
    }
}

/// CPU seconds (user + system) this process has used.
fn cpu_seconds() -> f64 {
    // SAFETY: getrusage fills the zeroed struct.
    let ru = unsafe {
        let mut ru: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut ru);
        ru
    };
    let t = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 * 1e-6;
    t(ru.ru_utime) + t(ru.ru_stime)
}

/// (busy, total) jiffies of all CPUs, from /proc/stat.
fn machine_ticks() -> (u64, u64) {
    let s = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let v: Vec<u64> =
        s.lines().next().unwrap_or("").split_whitespace().skip(1).filter_map(|x| x.parse().ok()).collect();
    let total: u64 = v.iter().sum();
    let idle = v.get(3).copied().unwrap_or(0) + v.get(4).copied().unwrap_or(0);
    (total - idle, total)
}

// ---------------------------------------------------------------- inproc

fn inproc(args: &[String]) {
    let (pos, named) = opts(args);
    let [index, outputs] = &pos[..] else { usage() };
    let rounds: usize = named.get("rounds").map_or(3, |r| r.parse().expect("--rounds N"));
    let secs: f64 = named.get("secs").map_or(3.0, |r| r.parse().expect("--secs S"));
    let only: Option<Vec<String>> = named.get("variants").map(|v| v.split(',').map(str::to_string).collect());
    let threads_list: Vec<usize> = named
        .get("threads")
        .map_or(vec![1, 2], |v| v.split(',').map(|t| t.parse().expect("--threads 1,2")).collect());
    let texts: Vec<String> =
        jsonl(outputs).iter().map(|v| v["text"].as_str().expect("text").to_string()).collect();
    let pol = policy(&named);
    let snapshot = judge_index(index);
    let judge = recital_filter::IndexJudge::new(snapshot.clone(), pol.clone(), pol.scan_options());
    let jur = pol.default_jurisdiction().to_ascii_uppercase();
    let default_opts = recital_detect::ScanOptions::default();
    let service_opts = recital_filter::Judge::scan_options(&judge).clone();

    type Job<'a> = Box<dyn Fn(&str) -> usize + Sync + 'a>;
    let scan_with = |o: recital_detect::ScanOptions| -> Job<'_> {
        let snap = snapshot.clone();
        Box::new(move |t: &str| {
            let input = recital_detect::Input::decode(t.as_bytes()).expect("decode");
            recital_detect::scan(&snap, &input, &o).expect("scan").spans.len()
        })
    };
    // What a `/v1/scan` request's blocking task runs (`engine::evaluate`: the
    // filter's `evaluate` with sources located), on the plain judge.
    let (j1, jd) = (jur.clone(), &judge);
    let evaluate: Job<'_> = Box::new(move |t: &str| {
        let (r, _d) = recital_filter::evaluate(jd, t, None, &j1, true).expect("evaluate");
        r.spans.len()
    });
    let j2 = jur.clone();
    let evaluate_json: Job<'_> = Box::new(move |t: &str| {
        let (mut report, decision) = recital_filter::evaluate(jd, t, None, &j2, true).expect("evaluate");
        recital_serve::engine::limit_snippets(&mut report);
        let resp = recital_serve::api::scan::ScanResponse {
            request_id: recital_serve::engine::request_id(),
            decision,
            report,
        };
        serde_json::to_vec(&resp).expect("json").len()
    });
    let mut no_sources = service_opts.clone();
    no_sources.max_sources = 0;
    let variants: Vec<(&str, Job<'_>)> = vec![
        ("scan_default", scan_with(default_opts.clone())),
        ("scan_service", scan_with(service_opts.clone())),
        // Diagnostic: the service's scan without attributing sources (no
        // document text decoded); not a usable configuration.
        ("scan_service_no_sources", scan_with(no_sources)),
        ("evaluate", evaluate),
        ("evaluate_json", evaluate_json),
    ];
    let variants: Vec<(&str, Job<'_>)> = variants
        .into_iter()
        .filter(|(n, _)| only.as_ref().is_none_or(|o| o.iter().any(|x| x == n)))
        .collect();
    // Page cache and allocator warm-up before anything is timed.
    for (_, job) in &variants {
        for t in &texts {
            std::hint::black_box(job(t));
        }
    }
    let mut out = serde_json::Map::new();
    for (name, job) in &variants {
        // Warm-up pass (also: the mean of what each job returns).
        let mut ret = 0usize;
        for t in &texts {
            ret += job(t);
        }
        let mut lat = Vec::with_capacity(texts.len() * rounds);
        for _ in 0..rounds {
            for t in &texts {
                let t0 = Instant::now();
                std::hint::black_box(job(t));
                lat.push(t0.elapsed().as_secs_f64() * 1e3);
            }
        }
        let mut v = json!({"latency_ms": dist(&lat), "returned_mean": ret as f64 / texts.len() as f64});
        // Throughput: `threads` threads sharing the state, each taking the
        // next output, for `secs` seconds.
        for &threads in &threads_list {
            let next = AtomicUsize::new(0);
            let (c0, t0, m0) = (cpu_seconds(), Instant::now(), machine_ticks());
            let stop = Duration::from_secs_f64(secs);
            std::thread::scope(|s| {
                for _ in 0..threads {
                    s.spawn(|| loop {
                        if t0.elapsed() >= stop {
                            break;
                        }
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        std::hint::black_box(job(&texts[i % texts.len()]));
                    });
                }
            });
            let total = next.load(Ordering::Relaxed);
            let el = t0.elapsed().as_secs_f64();
            v[format!("throughput_{threads}t")] = json!(total as f64 / el);
            v[format!("cpu_ms_per_op_{threads}t")] = json!((cpu_seconds() - c0) * 1e3 / total as f64);
            let m1 = machine_ticks();
            v[format!("machine_busy_{threads}t")] = json!((m1.0 - m0.0) as f64 / (m1.1 - m0.1).max(1) as f64);
        }
        eprintln!(
            "serve_bench inproc: {name}: p50 {:.3} ms, p99 {:.3} ms, {:.0}/s on 1 thread, {:.0}/s on 2",
            v["latency_ms"]["p50"].as_f64().unwrap_or(f64::NAN),
            v["latency_ms"]["p99"].as_f64().unwrap_or(f64::NAN),
            v["throughput_1t"].as_f64().unwrap_or(f64::NAN),
            v["throughput_2t"].as_f64().unwrap_or(f64::NAN)
        );
        out.insert(name.to_string(), v);
    }
    let stats = snapshot.stats();
    let report = json!({
        "index": index,
        "outputs": texts.len(),
        "output_bytes_mean": texts.iter().map(String::len).sum::<usize>() as f64 / texts.len() as f64,
        "rounds": rounds,
        "policy": pol.name(),
        "trigger_tokens": pol.trigger_tokens(),
        "service_min_tokens": service_opts.min_tokens,
        "service_seed_tokens": service_opts.seed_tokens,
        "default_min_tokens": default_opts.min_tokens,
        "default_seed_tokens": default_opts.seed_tokens,
        "docs": stats.docs,
        "text_tokens": stats.shards.iter().map(|s| s.text_tokens).sum::<u64>(),
        "variants": out,
    });
    println!("{}", serde_json::to_string_pretty(&report).unwrap());
}

// ---------------------------------------------------------------- guard

/// The proxy's streaming filter alone, in-process: each text streamed word by
/// word (as the scripted upstream sends it) through a `StreamFilter` over an
/// `IndexJudge`, every step timed on one thread after a warm-up round: the CPU
/// time one upstream token costs the proxy (with N streams ticking in
/// lockstep on 2 cores, a release waits for about N/2 such steps).
fn guard(args: &[String]) {
    let (pos, named) = opts(args);
    let [index, texts] = &pos[..] else { usage() };
    let rounds: usize = named.get("rounds").map_or(2, |r| r.parse().expect("--rounds N"));
    // A pause before each step, as between a real stream's chunks (caches go cold).
    let gap = Duration::from_micros(named.get("gap-us").map_or(0, |r| r.parse().expect("--gap-us N")));
    let lines = jsonl(texts);
    let texts: Vec<String> = lines.iter().map(|v| v["text"].as_str().expect("text").to_string()).collect();
    // The prompt (exempt context) of each text: its `prompt` field, else the scripted upstream's.
    let prompts: Vec<String> = lines
        .iter()
        .enumerate()
        .map(|(i, v)| {
            v["prompt"].as_str().map_or_else(|| format!("Write something. bench-text {i}"), str::to_string)
        })
        .collect();
    let judge = index_judge(index, &named);
    let jur = recital_filter::Judge::policy(&judge).default_jurisdiction().to_ascii_uppercase();
    let (mut steps_ms, mut scans, mut tokens, mut released) = (Vec::new(), 0usize, 0usize, 0usize);
    let (mut searched, mut reused) = (0usize, 0usize);
    let mut finish_ms = Vec::new();
    let mut c0 = cpu_seconds();
    for round in 0..=rounds {
        if round == 1 {
            c0 = cpu_seconds();
        }
        for (i, text) in texts.iter().enumerate() {
            let mut g = GuardRun::new(&judge, &prompts[i], &jur);
            let pieces = words(text);
            for piece in &pieces {
                if !gap.is_zero() {
                    std::thread::sleep(gap);
                }
                let t = Instant::now();
                let out = g.step(piece, false);
                if round > 0 {
                    steps_ms.push(t.elapsed().as_secs_f64() * 1e3);
                }
                released += out;
            }
            if !gap.is_zero() {
                std::thread::sleep(gap);
            }
            let t = Instant::now();
            released += g.step("", true);
            if round > 0 {
                finish_ms.push(t.elapsed().as_secs_f64() * 1e3);
            }
            if round > 0 {
                scans += g.scans();
                tokens += pieces.len();
                let (s, r) = g.filter.memo_counts();
                (searched, reused) = (searched + s, reused + r);
            }
        }
        if round == 0 {
            // Warm-up round (page cache, allocator, caches) not counted.
            steps_ms.clear();
        }
    }
    let cpu = cpu_seconds() - c0;
    let report = json!({
        "index": index,
        "texts": texts.len(),
        "rounds": rounds,
        "tokens": tokens,
        "lookback_bytes": recital_filter::LOOKBACK_BYTES,
        "step_ms": dist(&steps_ms),
        "finish_step_ms": dist(&finish_ms),
        "scans_per_token": scans as f64 / tokens.max(1) as f64,
        "lengths_searched_per_scan": searched as f64 / scans.max(1) as f64,
        "lengths_reused_per_scan": reused as f64 / scans.max(1) as f64,
        "cpu_ms_per_token": cpu * 1e3 / tokens.max(1) as f64,
        "released_bytes": released,
    });
    eprintln!(
        "serve_bench guard: step p50 {:.3} ms, p99 {:.3} ms, mean {:.3} ms over {} steps",
        pct(&steps_ms, 0.5),
        pct(&steps_ms, 0.99),
        steps_ms.iter().sum::<f64>() / steps_ms.len().max(1) as f64,
        steps_ms.len()
    );
    println!("{}", serde_json::to_string_pretty(&report).unwrap());
}

/// One streamed answer's text channel through the filter the proxy's relay
/// runs (`recital_filter::StreamFilter`: the same guard, hold-back, lookback
/// and memo), judged by an [`recital_filter::IndexJudge`] over the index.
struct GuardRun<'a> {
    judge: &'a recital_filter::IndexJudge,
    filter: recital_filter::StreamFilter,
    id: recital_filter::ChannelId,
}

impl<'a> GuardRun<'a> {
    fn new(judge: &'a recital_filter::IndexJudge, prompt: &str, jur: &str) -> Self {
        let filter = recital_filter::StreamFilter::new(judge, jur, prompt);
        Self { judge, filter, id: Mode::Chat.channel() }
    }

    /// Pushes a piece and steps (`finished`: the channel's end); returns the bytes released.
    fn step(&mut self, piece: &str, finished: bool) -> usize {
        let step = if finished {
            self.filter.finish(self.judge, self.id)
        } else {
            self.filter.push(self.judge, self.id, piece)
        };
        step.map(|s| s.text.len()).unwrap_or(0)
    }

    fn scans(&self) -> usize {
        self.filter.scans()
    }
}

/// The index at `dir` (base and delta shards, as the service opens it).
fn judge_index(dir: &str) -> Arc<recital_index::Index> {
    Arc::new(recital_index::Index::open(std::path::Path::new(dir)).unwrap_or_else(|e| {
        eprintln!("serve_bench: cannot open the index {dir}: {e}");
        std::process::exit(2)
    }))
}

/// The plain judge over the index (no SQLite, no server state; no notices):
/// the policy of `--policy` (else the built-in one) and the scan options the
/// service derives from it.
fn index_judge(dir: &str, named: &HashMap<String, String>) -> recital_filter::IndexJudge {
    let pol = policy(named);
    let opts = pol.scan_options();
    recital_filter::IndexJudge::new(judge_index(dir), pol, opts)
}

// ---------------------------------------------------------------- upstream

struct Upstream {
    texts: Vec<String>,
    delay: Duration,
    first: Duration,
    served: AtomicUsize,
    /// `--log FILE`: when each stream's request arrived and each chunk was
    /// sent, in the relay's log format (see [`EventLog`]).
    log: Option<EventLog>,
}

/// The log of the scripted upstream and of the recording relay: one JSON
/// line per request, `{"user": ..., "events": [[t_ns, content, finished], ...]}`
/// (CLOCK_MONOTONIC ns; the upstream adds `"arrived": t_ns` and stamps a
/// chunk when it hands it to the server, at its deadline; the relay stamps
/// it on arrival from the model server). `stream --relay-log` reads it: the
/// proxied tokens are then timed from the moment the chunk that released
/// them was sent, not against a separate direct run (whose own timer
/// jitter, and a whole stream shifted by when its request reached the
/// upstream, would otherwise count in every token's overhead).
struct EventLog {
    file: std::sync::Mutex<std::fs::File>,
    /// Lines of finished streams, queued at their `[DONE]` and written when
    /// a later request arrives: `stream --relay-log` sends a one-token
    /// request before each run, so they are written before the run's
    /// streams start, not while they are timed (serialising a stream's
    /// events at its end took the CPU just when the proxy released the
    /// held-back tail: a measured ~1.4 ms delay of the final release).
    pending: std::sync::Mutex<Vec<Value>>,
}

impl EventLog {
    fn create(path: &str) -> Self {
        let file = std::fs::File::create(path).unwrap_or_else(|e| {
            eprintln!("serve_bench: cannot create the log {path}: {e}");
            std::process::exit(2)
        });
        Self { file: std::sync::Mutex::new(file), pending: Default::default() }
    }

    fn queue(&self, line: Value) {
        self.pending.lock().expect("pending").push(line);
    }

    fn write_pending(&self) {
        let lines = std::mem::take(&mut *self.pending.lock().expect("pending"));
        if lines.is_empty() {
            return;
        }
        use std::io::Write;
        // One write: a `Value` formatted into the file directly makes a
        // write(2) per JSON piece.
        let text: String = lines.iter().map(|l| l.to_string() + "\n").collect();
        let _ = self.file.lock().expect("log").write_all(text.as_bytes());
    }
}

/// Pieces of `text` streamed one per chunk: each word with the whitespace before it.
fn words(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    for c in text.chars() {
        if c.is_whitespace() {
            if in_word {
                out.push(std::mem::take(&mut cur));
                in_word = false;
            }
        } else {
            in_word = true;
        }
        cur.push(c);
    }
    if !cur.is_empty() {
        if in_word || out.is_empty() {
            out.push(cur);
        } else if let Some(l) = out.last_mut() {
            l.push_str(&cur);
        }
    }
    out
}

fn upstream(args: &[String]) {
    let (pos, named) = opts(args);
    let [addr, texts] = &pos[..] else { usage() };
    let ms = |k: &str, d: u64| Duration::from_millis(named.get(k).map_or(d, |v| v.parse().expect("ms")));
    let up = Arc::new(Upstream {
        texts: jsonl(texts).iter().map(|v| v["text"].as_str().expect("text").to_string()).collect(),
        delay: ms("delay-ms", 20),
        first: ms("first-ms", 20),
        served: AtomicUsize::new(0),
        log: named.get("log").map(|p| EventLog::create(p)),
    });
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    rt.block_on(async move {
        use axum::serve::ListenerExt;
        let listener = tokio::net::TcpListener::bind(addr.as_str()).await.expect("bind");
        let local = listener.local_addr().unwrap();
        let listener = listener.tap_io(|s| {
            let _ = s.set_nodelay(true);
        });
        let app = axum::Router::new()
            .route(
                "/v1/chat/completions",
                axum::routing::post(|st: axum::extract::State<Arc<Upstream>>, body: axum::body::Bytes| {
                    answer(st, body, Mode::Chat)
                }),
            )
            .route(
                "/v1/completions",
                axum::routing::post(|st: axum::extract::State<Arc<Upstream>>, body: axum::body::Bytes| {
                    answer(st, body, Mode::Completions)
                }),
            )
            .route(
                "/v1/responses",
                axum::routing::post(|st: axum::extract::State<Arc<Upstream>>, body: axum::body::Bytes| {
                    answer(st, body, Mode::Responses)
                }),
            )
            .route("/health", axum::routing::get(|| async { "ok" }))
            .with_state(up);
        eprintln!("serve_bench upstream: listening on http://{local}");
        axum::serve(listener, app).await.expect("serve");
    });
}

/// Which API, and where in it the text travels (`stream --endpoint`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// `POST /v1/chat/completions`: the text in `delta.content`.
    Chat,
    /// `POST /v1/completions`: the text in `choices[].text`.
    Completions,
    /// `POST /v1/chat/completions` with `tools`: the text, JSON-escaped, in
    /// the `content` string of the arguments of a `write_file` call, streamed
    /// as `tool_calls[0].function.arguments` fragments (a word each).
    ToolCalls,
    /// `POST /v1/responses`: `response.output_text.delta` events; the text
    /// again, whole, in `response.output_text.done`, `content_part.done`,
    /// `output_item.done` and `response.completed`.
    Responses,
}

impl Mode {
    fn parse(s: &str) -> Self {
        match s {
            "chat" => Mode::Chat,
            "completions" => Mode::Completions,
            "tool-calls" => Mode::ToolCalls,
            "responses" => Mode::Responses,
            _ => usage(),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Mode::Chat => "chat",
            Mode::Completions => "completions",
            Mode::ToolCalls => "tool-calls",
            Mode::Responses => "responses",
        }
    }

    fn path(self) -> &'static str {
        match self {
            Mode::Chat | Mode::ToolCalls => "/v1/chat/completions",
            Mode::Completions => "/v1/completions",
            Mode::Responses => "/v1/responses",
        }
    }

    /// The channel the proxy judges the text in (its lens: plain text, or
    /// the JSON document's decoded strings).
    fn channel(self) -> recital_filter::ChannelId {
        use recital_filter::{ChannelId, ChannelKind};
        match self {
            Mode::Chat | Mode::Completions => ChannelId::new(0, ChannelKind::Text),
            Mode::ToolCalls => ChannelId::tool(0, ChannelKind::ToolArguments, 0),
            Mode::Responses => ChannelId::tool(0, ChannelKind::Text, 0),
        }
    }
}

/// The arguments document of the scripted tool call, around the text.
const TOOL_OPEN: &str = r#"{"path": "notes.md", "content": ""#;
const TOOL_CLOSE: &str = r#""}"#;

/// The pieces a text is streamed in: its words (each with the whitespace
/// before it); in tool-call streams each word JSON-escaped, the document's
/// opening before the first and its closing after the last.
fn pieces_for(mode: Mode, text: &str) -> Vec<String> {
    let ws = words(text);
    if mode != Mode::ToolCalls {
        return ws;
    }
    let esc = |w: &str| {
        let q = serde_json::to_string(w).expect("string");
        q[1..q.len() - 1].to_string()
    };
    let mut out: Vec<String> = ws.iter().map(|w| esc(w)).collect();
    if out.is_empty() {
        out.push(String::new());
    }
    out[0].insert_str(0, TOOL_OPEN);
    if let Some(l) = out.last_mut() {
        l.push_str(TOOL_CLOSE);
    }
    out
}

/// One SSE frame of the scripted upstream.
struct Frame {
    bytes: bytes::Bytes,
    /// Sent at `first + k·delay` (`Some(k)`) or at once.
    due: Option<u32>,
    /// Logged as `[t, content, finished]`.
    log: Option<(String, bool)>,
}

/// A Responses event as SSE (named after its `type`).
fn typed_event(v: &Value) -> String {
    format!("event: {}\ndata: {v}\n\n", v["type"].as_str().unwrap_or("message"))
}

async fn answer(
    axum::extract::State(up): axum::extract::State<Arc<Upstream>>,
    body: axum::body::Bytes,
    path: Mode,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let t0 = Instant::now();
    let arrived = mono_ns();
    let req: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    // A chat request with tools is answered with a tool call (as a model
    // told to use its tool would).
    let mode = match path {
        Mode::Chat if req.get("tools").and_then(Value::as_array).is_some_and(|t| !t.is_empty()) => {
            Mode::ToolCalls
        }
        m => m,
    };
    let user = req.get("user").and_then(Value::as_str).unwrap_or("").to_string();
    let raw = String::from_utf8_lossy(&body);
    let n = raw
        .find("bench-text ")
        .and_then(|i| raw[i + 11..].split(|c: char| !c.is_ascii_digit()).next()?.parse::<usize>().ok())
        .unwrap_or(0);
    let text = up.texts[n % up.texts.len()].clone();
    let served = up.served.fetch_add(1, Ordering::Relaxed);
    let id = format!("cmpl-bench-{served}");
    let model = req.get("model").cloned().unwrap_or(json!("bench-upstream"));
    let chat = matches!(mode, Mode::Chat | Mode::ToolCalls);
    let object = if chat { "chat.completion.chunk" } else { "text_completion" };
    let call = |args: &str| {
        json!({"index": 0, "id": format!("call_bench_{served}"), "type": "function",
               "function": {"name": "write_file", "arguments": args}})
    };
    let chunk = |content: Option<&str>, role: bool, finish: Option<&str>| -> bytes::Bytes {
        let choice = if chat {
            let mut delta = serde_json::Map::new();
            if role {
                delta.insert("role".into(), json!("assistant"));
            }
            match (mode, content) {
                (Mode::ToolCalls, Some(c)) if role => {
                    delta.insert("tool_calls".into(), json!([call(c)]));
                }
                (Mode::ToolCalls, Some(c)) => {
                    delta.insert("tool_calls".into(), json!([{"index": 0, "function": {"arguments": c}}]));
                }
                (_, Some(c)) => {
                    delta.insert("content".into(), json!(c));
                }
                _ => {}
            }
            json!({"index": 0, "delta": delta, "finish_reason": finish})
        } else {
            json!({"index": 0, "text": content.unwrap_or(""), "finish_reason": finish, "logprobs": null})
        };
        let v = json!({"id": id, "object": object, "created": 1_700_000_000u64, "model": model, "choices": [choice]});
        bytes::Bytes::from(format!("data: {v}\n\n"))
    };
    // Responses: the message item and the response around it.
    let item_id = format!("msg_bench_{served}");
    let item = |text: Option<&str>| {
        let content = match text {
            Some(t) => json!([{"type": "output_text", "text": t, "annotations": []}]),
            None => json!([]),
        };
        json!({"id": item_id, "type": "message", "role": "assistant",
               "status": if text.is_some() { "completed" } else { "in_progress" }, "content": content})
    };
    let response = |status: &str, output: Value| {
        json!({"id": format!("resp_bench_{served}"), "object": "response", "created_at": 1_700_000_000u64,
               "status": status, "model": model, "output": output})
    };
    if !req.get("stream").and_then(Value::as_bool).unwrap_or(false) {
        if let Some(log) = &up.log {
            log.write_pending();
        }
        let whole = pieces_for(mode, &text).concat();
        return axum::Json(match mode {
            Mode::Responses => response("completed", json!([item(Some(&text))])),
            _ => {
                let choice = match mode {
                    Mode::Chat => json!({"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}),
                    Mode::ToolCalls => json!({"index": 0, "message": {"role": "assistant", "content": null,
                                              "tool_calls": [call(&whole)]}, "finish_reason": "tool_calls"}),
                    _ => json!({"index": 0, "text": text, "finish_reason": "stop", "logprobs": null}),
                };
                json!({"id": id, "object": if chat {"chat.completion"} else {"text_completion"},
                       "created": 1_700_000_000u64, "model": model, "choices": [choice]})
            }
        })
        .into_response();
    }
    let pieces = pieces_for(mode, &text);
    let n_pieces = pieces.len() as u32;
    let last = n_pieces.saturating_sub(1);
    let mut frames: Vec<Frame> = Vec::with_capacity(pieces.len() + 3);
    let terminal: bytes::Bytes;
    if mode == Mode::Responses {
        let mut seq = 0u64;
        let mut ev = |mut v: Value| {
            v["sequence_number"] = json!(seq);
            seq += 1;
            typed_event(&v)
        };
        let part = |t: &str| json!({"type": "output_text", "text": t, "annotations": []});
        let loc = json!({"item_id": item_id, "output_index": 0, "content_index": 0});
        let with = |mut v: Value, extra: &Value| {
            for (k, x) in extra.as_object().expect("object") {
                v[k] = x.clone();
            }
            v
        };
        let head = ev(json!({"type": "response.created", "response": response("in_progress", json!([]))}))
            + &ev(json!({"type": "response.output_item.added", "output_index": 0, "item": item(None)}))
            + &ev(with(json!({"type": "response.content_part.added", "part": part("")}), &loc));
        frames.push(Frame { bytes: head.into(), due: None, log: None });
        for (k, p) in pieces.iter().enumerate() {
            let e = ev(with(json!({"type": "response.output_text.delta", "delta": p, "logprobs": []}), &loc));
            frames.push(Frame { bytes: e.into(), due: Some(k as u32), log: Some((p.clone(), false)) });
        }
        let done = ev(with(json!({"type": "response.output_text.done", "text": text, "logprobs": []}), &loc))
            + &ev(with(json!({"type": "response.content_part.done", "part": part(&text)}), &loc))
            + &ev(json!({"type": "response.output_item.done", "output_index": 0, "item": item(Some(&text))}));
        frames.push(Frame { bytes: done.into(), due: Some(last), log: Some((String::new(), true)) });
        terminal = ev(json!({"type": "response.completed", "response": response("completed", json!([item(Some(&text))]))}))
            .into();
    } else {
        // The role chunk (in tool-call streams with the call's id and name)
        // at once; word k at first + k·delay; the finish chunk right after the last.
        if chat {
            frames.push(Frame { bytes: chunk(Some(""), true, None), due: None, log: None });
        }
        for (k, p) in pieces.iter().enumerate() {
            frames.push(Frame {
                bytes: chunk(Some(p), false, None),
                due: Some(k as u32),
                log: Some((p.clone(), false)),
            });
        }
        let finish = if mode == Mode::ToolCalls { "tool_calls" } else { "stop" };
        frames.push(Frame {
            bytes: chunk(None, false, Some(finish)),
            due: Some(last),
            log: Some((String::new(), true)),
        });
        terminal = bytes::Bytes::from_static(b"data: [DONE]\n\n");
    }
    let (tx, rx) = tokio::sync::mpsc::channel::<bytes::Bytes>(frames.len() + 2);
    let (delay, first) = (up.delay, up.first);
    std::thread::spawn(move || {
        // Earlier streams' log lines, before this one's first deadline.
        if let Some(log) = &up.log {
            log.write_pending();
        }
        let mut events = Vec::new();
        for f in frames {
            if let Some(k) = f.due {
                let due = t0 + first + delay * k;
                let now = Instant::now();
                if due > now {
                    std::thread::sleep(due - now);
                }
            }
            let t = mono_ns();
            if tx.blocking_send(f.bytes).is_err() {
                return; // client went away
            }
            if let (Some(_), Some((content, fin))) = (&up.log, f.log) {
                events.push(json!([t, content, fin]));
            }
        }
        // Queued before the stream's end, at which the client may send its next request.
        if let Some(log) = &up.log {
            log.queue(json!({"user": user, "arrived": arrived, "events": events}));
        }
        let _ = tx.blocking_send(terminal);
    });
    let body = axum::body::Body::from_stream(tokio_stream_from(rx).map(Ok::<_, std::io::Error>));
    axum::response::Response::builder()
        .header("content-type", "text/event-stream")
        .header("cache-control", "no-cache")
        .body(body)
        .unwrap()
}

fn tokio_stream_from(
    mut rx: tokio::sync::mpsc::Receiver<bytes::Bytes>,
) -> impl futures_util::Stream<Item = bytes::Bytes> {
    futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

// ---------------------------------------------------------------- relay

struct Relay {
    upstream: String,
    http: reqwest::Client,
    /// `None` (LOG `-`): forward only, parse no event (the null hop; the
    /// request body is still read for its `user` tag).
    log: Option<EventLog>,
}

/// `serve_bench relay ADDR UPSTREAM_URL LOG.jsonl|- [--workers N]`: forwards `/v1/...` POSTs to
/// the upstream and streams the answer back unchanged, logging when each SSE
/// event arrived from the upstream (CLOCK_MONOTONIC ns), per request, keyed by
/// the request's `user` field: one JSON line per request,
/// `{"user": ..., "events": [[t_ns, content, finished], ...]}`.
fn relay(args: &[String]) {
    let (pos, named) = opts(args);
    let [addr, upstream, log] = &pos[..] else { usage() };
    let workers: usize = named.get("workers").map_or(1, |w| w.parse().expect("--workers N"));
    let st = Arc::new(Relay {
        upstream: upstream.trim_end_matches('/').to_string(),
        http: reqwest::Client::builder().no_proxy().build().expect("client"),
        log: (log != "-").then(|| EventLog::create(log)),
    });
    let rt =
        tokio::runtime::Builder::new_multi_thread().worker_threads(workers).enable_all().build().unwrap();
    rt.block_on(async move {
        use axum::serve::ListenerExt;
        let listener = tokio::net::TcpListener::bind(addr.as_str()).await.expect("bind");
        let local = listener.local_addr().unwrap();
        let listener = listener.tap_io(|s| {
            let _ = s.set_nodelay(true);
        });
        let app = axum::Router::new()
            .route(
                "/v1/{*rest}",
                axum::routing::post(
                    |axum::extract::State(st): axum::extract::State<Arc<Relay>>,
                     axum::extract::Path(rest): axum::extract::Path<String>,
                     body: axum::body::Bytes| relay_one(st, rest, body),
                ),
            )
            .with_state(st);
        eprintln!("serve_bench relay: listening on http://{local}");
        axum::serve(listener, app).await.expect("serve");
    });
}

async fn relay_one(st: Arc<Relay>, rest: String, body: axum::body::Bytes) -> axum::response::Response {
    use axum::response::IntoResponse;
    if let Some(log) = &st.log {
        log.write_pending();
    }
    let req: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let user = req.get("user").and_then(Value::as_str).unwrap_or("").to_string();
    let resp = match st
        .http
        .post(format!("{}/v1/{rest}", st.upstream))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
    {
        Ok(r) => r,
        Err(e) => return (axum::http::StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
    };
    let status = resp.status().as_u16();
    let ctype = resp.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let (tx, rx) = tokio::sync::mpsc::channel::<bytes::Bytes>(1024);
    tokio::spawn(async move {
        let mut stream = resp.bytes_stream();
        let (mut buf, mut events) = (Vec::<u8>::new(), Vec::<Value>::new());
        // Queued at `[DONE]`, before it is forwarded: a client that stops
        // reading there (recital does) may send its next request before the
        // upstream closes, and must find this stream's line already queued.
        let mut queued = false;
        while let Some(Ok(b)) = stream.next().await {
            let t = mono_ns();
            if st.log.is_some() {
                buf.extend_from_slice(&b);
            }
            while let Some(end) = find_event_end(&buf) {
                let ev: Vec<u8> = buf.drain(..end).collect();
                let ev = String::from_utf8_lossy(&ev);
                let data: String =
                    ev.lines().filter_map(|l| l.strip_prefix("data:")).map(str::trim_start).collect();
                let v = serde_json::from_str::<Value>(&data).ok();
                if let Some(v) = &v {
                    for (content, fin) in event_pieces(v) {
                        events.push(json!([t, content, fin]));
                    }
                }
                if (data.trim() == "[DONE]" || v.as_ref().is_some_and(is_final_event)) && !queued {
                    queued = true;
                    if let Some(log) = &st.log {
                        log.queue(json!({"user": user, "events": std::mem::take(&mut events)}));
                    }
                }
            }
            if tx.send(b).await.is_err() {
                break;
            }
        }
        if let (Some(log), false) = (&st.log, queued) {
            log.queue(json!({"user": user, "events": events}));
        }
    });
    axum::response::Response::builder()
        .status(status)
        .header("content-type", if ctype.is_empty() { "application/json".to_string() } else { ctype })
        .body(axum::body::Body::from_stream(tokio_stream_from(rx).map(Ok::<_, std::io::Error>)))
        .unwrap()
}

// ---------------------------------------------------------------- stream client

/// One streamed response as the client saw it.
#[derive(Debug, Default, Clone)]
struct Seen {
    /// CLOCK_MONOTONIC at the send, ns (to compare with the relay's log).
    t0_ns: u64,
    /// The `user` tag sent with the request.
    tag: String,
    /// Content pieces: (ms after the request was sent, text).
    pieces: Vec<(f64, String)>,
    /// ms after send of the chunk carrying `finish_reason` (Responses:
    /// `response.output_text.done`), or of the end of the body.
    finish_ms: Option<f64>,
    /// `finish_reason` (Responses: the final event's `response.status`).
    finish_reason: Option<String>,
    /// Responses: the text as the `.done` events and `response.completed`
    /// repeat it, one entry per event.
    repeats: Vec<String>,
    end_ms: f64,
    status: u16,
    error: Option<String>,
}

impl Seen {
    fn text(&self) -> String {
        self.pieces.iter().map(|p| p.1.as_str()).collect()
    }
}

/// CLOCK_MONOTONIC in ns: the same clock in every process of the machine.
fn mono_ns() -> u64 {
    // SAFETY: clock_gettime fills the zeroed struct.
    let ts = unsafe {
        let mut ts: libc::timespec = std::mem::zeroed();
        libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts);
        ts
    };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// The text pieces of one streamed event, whichever the API (the formats do
/// not overlap), each with whether it ends the text: the chunk carrying
/// `finish_reason`, or `response.output_text.done`.
fn event_pieces(v: &Value) -> Vec<(String, bool)> {
    if let Some(ty) = v.get("type").and_then(Value::as_str) {
        return match ty {
            "response.output_text.delta" => vec![(v["delta"].as_str().unwrap_or("").to_string(), false)],
            "response.output_text.done" => vec![(String::new(), true)],
            _ => Vec::new(),
        };
    }
    let choices = v.get("choices").and_then(Value::as_array).into_iter().flatten();
    choices
        .map(|c| {
            let mut content = c
                .pointer("/delta/content")
                .or_else(|| c.get("text"))
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            for call in c.pointer("/delta/tool_calls").and_then(Value::as_array).into_iter().flatten() {
                content.push_str(call.pointer("/function/arguments").and_then(Value::as_str).unwrap_or(""));
            }
            (content, c.get("finish_reason").is_some_and(|f| !f.is_null()))
        })
        .collect()
}

/// A Responses stream's last event.
fn is_final_event(v: &Value) -> bool {
    matches!(
        v.get("type").and_then(Value::as_str),
        Some("response.completed" | "response.incomplete" | "response.failed")
    )
}

/// The text a Responses summary event repeats (`None`: not one of them).
fn repeated_text(v: &Value) -> Option<String> {
    let texts = |content: Option<&Value>| -> String {
        content
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect()
    };
    match v.get("type").and_then(Value::as_str)? {
        "response.output_text.done" => Some(v["text"].as_str().unwrap_or("").to_string()),
        "response.content_part.done" => {
            Some(v.pointer("/part/text").and_then(Value::as_str).unwrap_or("").to_string())
        }
        "response.output_item.done" => Some(texts(v.pointer("/item/content"))),
        "response.completed" => Some(
            v.pointer("/response/output")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|item| texts(item.get("content")))
                .collect(),
        ),
        _ => None,
    }
}

async fn one_stream(client: &reqwest::Client, url: &str, body: &Value) -> Seen {
    let tag = body.get("user").and_then(Value::as_str).unwrap_or("").to_string();
    let (t0, t0_ns) = (Instant::now(), mono_ns());
    let mut seen = Seen { tag, t0_ns, ..Default::default() };
    let ms = |t0: Instant| t0.elapsed().as_secs_f64() * 1e3;
    let resp = match client.post(url).json(body).send().await {
        Ok(r) => r,
        Err(e) => {
            seen.error = Some(format!("send: {e}"));
            return seen;
        }
    };
    seen.status = resp.status().as_u16();
    if !resp.status().is_success() {
        seen.error = Some(format!("status {}: {}", seen.status, resp.text().await.unwrap_or_default()));
        return seen;
    }
    let mut buf: Vec<u8> = Vec::new();
    let mut body = resp.bytes_stream();
    'read: while let Some(b) = body.next().await {
        let t = ms(t0);
        let b = match b {
            Ok(b) => b,
            Err(e) => {
                seen.error = Some(format!("read: {e}"));
                break;
            }
        };
        buf.extend_from_slice(&b);
        // Complete events end with a blank line.
        while let Some(end) = find_event_end(&buf) {
            let ev: Vec<u8> = buf.drain(..end).collect();
            let ev = String::from_utf8_lossy(&ev);
            let data: String = ev
                .lines()
                .filter_map(|l| l.strip_prefix("data:"))
                .map(|d| d.strip_prefix(' ').unwrap_or(d))
                .collect::<Vec<_>>()
                .join("\n");
            if data.trim() == "[DONE]" {
                break 'read;
            }
            let Ok(v) = serde_json::from_str::<Value>(&data) else { continue };
            if v.get("error").is_some() || v.get("type").and_then(Value::as_str) == Some("error") {
                seen.error = Some(format!("in-stream error: {v}"));
            }
            for (s, fin) in event_pieces(&v) {
                if !s.is_empty() {
                    seen.pieces.push((t, s));
                }
                if fin {
                    seen.finish_ms.get_or_insert(t);
                }
            }
            for c in v.get("choices").and_then(Value::as_array).into_iter().flatten() {
                if let Some(f) = c.get("finish_reason").and_then(Value::as_str) {
                    seen.finish_reason.get_or_insert(f.to_string());
                }
            }
            if let Some(r) = repeated_text(&v) {
                seen.repeats.push(r);
            }
            if is_final_event(&v) {
                let status = v.pointer("/response/status").and_then(Value::as_str).unwrap_or("?");
                seen.finish_reason.get_or_insert(status.to_string());
                break 'read;
            }
        }
    }
    seen.end_ms = ms(t0);
    if seen.finish_ms.is_none() {
        seen.finish_ms = Some(seen.end_ms);
    }
    seen
}

fn find_event_end(buf: &[u8]) -> Option<usize> {
    let a = buf.windows(2).position(|w| w == b"\n\n").map(|i| i + 2);
    let b = buf.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4);
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, y) => x.or(y),
    }
}

/// Byte offset up to which the proxy's guard has released the text after each
/// direct chunk: all but the last `trigger` tokens (`trigger − 1` complete ones
/// and the one possibly still being written), everything once finished. In
/// a JSON channel (`json`: tool-call arguments) the tokens are those of the
/// decoded strings, and the bound is where that token's raw bytes start.
fn release_bounds(direct: &Seen, trigger: usize, json: bool) -> Vec<usize> {
    let mut text = String::new();
    let mut strings = recital_detect::JsonStrings::new();
    let mut best = 0usize;
    let mut out = Vec::with_capacity(direct.pieces.len() + 1);
    for (_, p) in &direct.pieces {
        text.push_str(p);
        if json {
            strings.push(p);
        }
        let view = if json { strings.view() } else { text.as_str() };
        let ts = recital_text::tokenize(view);
        if ts.len() > trigger {
            let v = ts.tokens[ts.len() - trigger].src.start;
            best = best.max(if json { strings.raw_start(v) } else { v });
        }
        out.push(best);
    }
    out.push(text.len()); // the finish chunk
    out
}

struct Pair {
    direct: Seen,
    proxy: Seen,
    /// The prompt (the guard's exempt context).
    prompt: String,
}

/// The guard's release bounds for a direct stream, from the filter the
/// proxy's relay runs (`recital_filter::StreamFilter`, on the channel the
/// dialect puts the text in: same guard, lens, policy, hold-back and
/// lookback), run offline over the same chunks with an `IndexJudge` over the
/// same index (no notices): bytes emitted after each chunk, the finish chunk
/// last. `None` if the filter changed the text (redaction) or blocked it.
fn simulated_bounds(
    judge: &recital_filter::IndexJudge,
    mode: Mode,
    direct: &Seen,
    prompt: &str,
) -> Option<Vec<usize>> {
    let jur = recital_filter::Judge::policy(judge).default_jurisdiction().to_ascii_uppercase();
    let mut f = recital_filter::StreamFilter::new(judge, &jur, prompt);
    let id = mode.channel();
    let (mut out, mut emitted) = (Vec::with_capacity(direct.pieces.len() + 1), String::new());
    let n = direct.pieces.len();
    for k in 0..=n {
        let step = match direct.pieces.get(k) {
            Some((_, piece)) => f.push(judge, id, piece),
            None => f.finish(judge, id),
        }
        .ok()?;
        if step.blocked.is_some() {
            return None;
        }
        emitted.push_str(&step.text);
        out.push(emitted.len());
    }
    (emitted == direct.text()).then_some(out)
}

/// A stream as the relay saw it arrive from the upstream, times from `t0_ns`.
fn seen_from_relay(events: &[Value], t0_ns: u64) -> Seen {
    let mut s = Seen::default();
    let ms = |t: u64| (t as f64 - t0_ns as f64) / 1e6;
    for e in events {
        let (t, c, fin) =
            (e[0].as_u64().unwrap_or(0), e[1].as_str().unwrap_or(""), e[2].as_bool().unwrap_or(false));
        if !c.is_empty() {
            s.pieces.push((ms(t), c.to_string()));
        }
        if fin && s.finish_ms.is_none() {
            s.finish_ms = Some(ms(t));
        }
        s.end_ms = ms(t);
    }
    s
}

/// Definitions (times in ms from the moment each request was sent; the
/// direct and the proxied stream of a pair carry the same text on the same
/// schedule; "token" = one upstream chunk, a word for the scripted upstream).
/// a_direct is the reference: with `--relay-log`, when the logged upstream
/// (or the relay in front of a model server) sent each chunk of the proxied
/// stream itself; otherwise the arrivals of the paired direct run.
/// - r_hold(i): the upstream token whose arrival releases token i under the
///   hold-back alone (`release_bounds`: all but the last `trigger` recital
///   tokens released; the finish chunk releases the rest).
/// - r_guard(i): the upstream token after which the service's guard really
///   released i (`simulated_bounds`): later than r_hold(i) when the guard held
///   text on purpose (an unfinished copy that would be redacted if it grew).
/// - `added_beyond_hold_back_ms`: a_proxy(i) − a_direct(r_hold(i)), a_proxy(i)
///   the arrival of the proxied piece that completes token i.
/// - `overhead_ms`: a_proxy(i) − a_direct(r_guard(i)): the time the proxy took
///   to check and forward the release (the figure for the issue's "added
///   inter-token p99 beyond the hold-back").
/// - `overhead_vs_direct_run_ms` (with a log only): the same against the
///   paired direct run's arrivals; it adds the two runs' timer jitter, and
///   a whole stream's shift when its request reached the upstream later.
/// - `tokens_held_longer`: tokens with r_guard(i) > r_hold(i).
/// - TTFT: first content piece; ITL: gaps between consecutive content pieces.
fn analyse(
    pairs: &[Pair],
    trigger: usize,
    judge: &recital_filter::IndexJudge,
    mode: Mode,
    relay: Option<&HashMap<String, Vec<Value>>>,
    passthrough: bool,
) -> Value {
    let mut direct_path = Vec::new();
    let (mut ttft_d, mut ttft_p, mut ttft_added, mut ttft_over) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut itl_d, mut itl_p, mut added, mut overhead) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut overhead_vs_direct = Vec::new();
    // Pairs timed against the direct run because the log had no line for them.
    let mut fallbacks = 0usize;
    let (mut held, mut held_by, mut unmatched_pieces) = (0usize, Vec::new(), 0usize);
    let (mut total_d, mut total_p) = (Vec::new(), Vec::new());
    let (mut mismatched, mut errors, mut pieces_d, mut pieces_p) = (0usize, Vec::new(), 0usize, 0usize);
    let (mut redacted, mut not_simulated) = (0usize, 0usize);
    let mut finish_reasons: HashMap<String, usize> = HashMap::new();
    // Responses: the proxied `.done` / `response.completed` events checked
    // against the deltas the client received, and those that differed.
    let (mut repeats_checked, mut repeats_differing) = (0usize, 0usize);
    let mut tokens_per_stream = Vec::new();
    // Per-token rows for diagnosis, written where SERVE_BENCH_DUMP names a file.
    let mut rows = Vec::new();
    for p in pairs {
        for s in [&p.direct, &p.proxy] {
            if let Some(e) = &s.error {
                errors.push(e.clone());
            }
        }
        *finish_reasons.entry(p.proxy.finish_reason.clone().unwrap_or_else(|| "none".into())).or_default() +=
            1;
        let proxied = p.proxy.text();
        repeats_checked += p.proxy.repeats.len();
        repeats_differing += p.proxy.repeats.iter().filter(|r| **r != proxied).count();
        if p.direct.pieces.is_empty() || p.proxy.pieces.is_empty() {
            continue;
        }
        pieces_d += p.direct.pieces.len();
        pieces_p += p.proxy.pieces.len();
        tokens_per_stream.push(p.direct.pieces.len() as f64);
        ttft_d.push(p.direct.pieces[0].0);
        ttft_p.push(p.proxy.pieces[0].0);
        total_d.push(p.direct.finish_ms.unwrap_or(p.direct.end_ms));
        total_p.push(p.proxy.finish_ms.unwrap_or(p.proxy.end_ms));
        itl_d.extend(p.direct.pieces.windows(2).map(|w| w[1].0 - w[0].0));
        itl_p.extend(p.proxy.pieces.windows(2).map(|w| w[1].0 - w[0].0));
        // The upstream's chunks this proxied stream was made of, with their
        // arrival times from the proxied request's send: at the relay in the
        // same run when there is one, else those of the direct stream.
        let reference = match relay.and_then(|r| r.get(&p.proxy.tag)) {
            Some(evs) => {
                if let Some(dref) = relay.and_then(|r| r.get(&p.direct.tag)) {
                    let dref = seen_from_relay(dref, p.direct.t0_ns);
                    if dref.text() == p.direct.text() {
                        direct_path.extend(p.direct.pieces.iter().zip(&dref.pieces).map(|(a, b)| a.0 - b.0));
                    }
                }
                seen_from_relay(evs, p.proxy.t0_ns)
            }
            None => {
                if relay.is_some() {
                    fallbacks += 1;
                }
                p.direct.clone()
            }
        };
        if reference.text() != p.proxy.text() {
            // The policy changed the text (a redaction marker) or something broke.
            if p.proxy.text().contains("[redacted") {
                redacted += 1;
            } else {
                mismatched += 1;
            }
            continue;
        }
        // A pass-through hop (`--passthrough`: the baseline for what any
        // extra hop costs on this machine) releases each chunk as it comes.
        let passthrough_bounds = || {
            let mut e = 0usize;
            let mut v: Vec<usize> = reference
                .pieces
                .iter()
                .map(|(_, s)| {
                    e += s.len();
                    e
                })
                .collect();
            v.push(e);
            v
        };
        let sim = if passthrough {
            passthrough_bounds()
        } else {
            let Some(sim) = simulated_bounds(judge, mode, &reference, &p.prompt) else {
                not_simulated += 1;
                continue;
            };
            sim
        };
        let hold = if passthrough {
            sim.clone()
        } else {
            release_bounds(&reference, trigger, mode == Mode::ToolCalls)
        };
        let times: Vec<f64> = reference
            .pieces
            .iter()
            .map(|x| x.0)
            .chain(std::iter::once(reference.finish_ms.unwrap_or(reference.end_ms)))
            .collect();
        let mut ends = Vec::with_capacity(p.proxy.pieces.len());
        let mut e = 0usize;
        for (_, s) in &p.proxy.pieces {
            e += s.len();
            ends.push(e);
            if !sim.contains(&e) {
                unmatched_pieces += 1;
            }
        }
        let first = |b: &[usize], x: usize| b.iter().position(|&v| v >= x).unwrap_or(b.len() - 1);
        // With a logged reference, the old figure too: against the paired
        // direct run's arrivals (its timer jitter and start included).
        let direct_times: Option<Vec<f64>> =
            (relay.is_some() && p.direct.text() == reference.text()).then(|| {
                p.direct
                    .pieces
                    .iter()
                    .map(|x| x.0)
                    .chain(std::iter::once(p.direct.finish_ms.unwrap_or(p.direct.end_ms)))
                    .collect()
            });
        let mut end = 0usize;
        for (i, (_, s)) in reference.pieces.iter().enumerate() {
            end += s.len();
            let Some(j) = ends.iter().position(|&v| v >= end) else { continue };
            let t = p.proxy.pieces[j].0;
            let (rh, rg) = (first(&hold, end), first(&sim, end));
            let (a, o) = (t - times[rh], t - times[rg]);
            added.push(a);
            overhead.push(o);
            if let Some(dt) = direct_times.as_ref().filter(|dt| dt.len() == times.len()) {
                overhead_vs_direct.push(t - dt[rg]);
            }
            rows.push(json!({"stream": p.proxy.tag, "token": i, "tokens": reference.pieces.len(),
                             "released_by": rg, "piece": j, "overhead_ms": o, "added_ms": a}));
            if rg > rh {
                held += 1;
                held_by.push((rg - rh) as f64);
            }
            if i == 0 {
                // The first proxied piece completes token 0 at the earliest.
                let r0 = first(&sim, ends[0]);
                ttft_added.push(p.proxy.pieces[0].0 - times[first(&hold, ends[0])]);
                ttft_over.push(p.proxy.pieces[0].0 - times[r0]);
            }
        }
    }
    if let Ok(path) = std::env::var("SERVE_BENCH_DUMP") {
        let lines: Vec<String> = rows.iter().map(|r| r.to_string()).collect();
        std::fs::write(&path, lines.join("\n") + "\n").expect("write SERVE_BENCH_DUMP");
    }
    let ratio = |a: &[f64], b: &[f64], q: f64| pct(a, q) / pct(b, q);
    json!({
        "pairs": pairs.len(),
        "trigger_tokens": trigger,
        "hold_back_tokens": trigger.saturating_sub(1),
        "words_per_stream": dist(&tokens_per_stream),
        "pieces_direct": pieces_d,
        "pieces_proxy": pieces_p,
        "text_mismatches": mismatched,
        "texts_redacted": redacted,
        "not_simulated": not_simulated,
        "pieces_not_at_a_guard_bound": unmatched_pieces,
        "errors": errors.len(),
        "error_examples": errors.iter().take(3).collect::<Vec<_>>(),
        "proxy_finish_reasons": finish_reasons,
        "repeats_checked": repeats_checked,
        "repeats_differing": repeats_differing,
        "ttft_direct_ms": dist(&ttft_d),
        "ttft_proxy_ms": dist(&ttft_p),
        "ttft_ratio_p50": ratio(&ttft_p, &ttft_d, 0.5),
        "ttft_added_beyond_hold_back_ms": dist(&ttft_added),
        "ttft_overhead_ms": dist(&ttft_over),
        "itl_direct_ms": dist(&itl_d),
        "itl_proxy_ms": dist(&itl_p),
        "itl_ratio_p50": ratio(&itl_p, &itl_d, 0.5),
        "itl_ratio_p99": ratio(&itl_p, &itl_d, 0.99),
        "added_beyond_hold_back_ms": dist(&added),
        "overhead_ms": dist(&overhead),
        "overhead_vs_direct_run_ms": dist(&overhead_vs_direct),
        "reference": if relay.is_some() { "relay (same run)" } else { "direct stream (paired run)" },
        "reference_fallbacks": fallbacks,
        "direct_path_ms": dist(&direct_path),
        "words_held_longer": held,
        "words_held_longer_by_tokens": dist(&held_by),
        "total_direct_ms": dist(&total_d),
        "total_proxy_ms": dist(&total_p),
    })
}

/// Puts the prompt where `mode`'s API takes it.
fn set_prompt(body: &mut Value, mode: Mode, prompt: &str) {
    match mode {
        Mode::Chat | Mode::ToolCalls => body["messages"] = json!([{"role": "user", "content": prompt}]),
        Mode::Completions => body["prompt"] = json!(prompt),
        Mode::Responses => body["input"] = json!(prompt),
    }
}

fn stream(args: &[String]) {
    let (_, named) = opts(args);
    let get = |k: &str| named.get(k).cloned().unwrap_or_else(|| usage());
    let num = |k: &str, d: usize| named.get(k).map_or(d, |v| v.parse().expect("number"));
    let (direct, proxy) = (get("direct"), get("proxy"));
    let (streams, conc) = (num("streams", 8), num("concurrency", 1).max(1));
    let ntexts = num("texts", streams);
    let offset = num("offset", 0);
    // With a log, the one-token request before each run also has the
    // upstream (or the relay) write the lines of the streams before it.
    let flush = named.get("flush").is_some_and(|f| f == "1") || named.contains_key("relay-log");
    let mode = named.get("endpoint").map_or(Mode::Chat, |e| Mode::parse(e));
    let trigger = policy(&named).trigger_tokens();
    let prompts: Option<Vec<String>> = named
        .get("prompts")
        .map(|p| jsonl(p).iter().map(|v| v["prompt"].as_str().expect("prompt").to_string()).collect());
    let model = named.get("model").cloned().unwrap_or_else(|| "bench".into());
    let max_tokens = num("max-tokens", 256);
    let path = mode.path();
    let prompt_of = |i: usize| -> String {
        match &prompts {
            Some(ps) => ps[i % ps.len()].clone(),
            None => format!("Write something. bench-text {}", offset + i % ntexts.max(1)),
        }
    };
    let body = |i: usize| -> Value {
        let prompt = prompt_of(i);
        let mut b = json!({"model": model, "stream": true, "temperature": 0});
        set_prompt(&mut b, mode, &prompt);
        if mode == Mode::Responses {
            b["max_output_tokens"] = json!(max_tokens);
        } else {
            b["max_tokens"] = json!(max_tokens);
            b["seed"] = json!(1);
        }
        if mode == Mode::ToolCalls {
            b["tools"] = json!([{"type": "function", "function": {
                "name": "write_file", "description": "Writes a file.",
                "parameters": {"type": "object", "required": ["path", "content"], "properties": {
                    "path": {"type": "string"}, "content": {"type": "string"}}}}}]);
            b["tool_choice"] = json!({"type": "function", "function": {"name": "write_file"}});
        }
        b
    };
    // A one-token request with another prompt (its `user` is "flush").
    let flush_body = || -> Value {
        let mut fb = body(usize::MAX / 2);
        fb["stream"] = json!(false);
        fb[if mode == Mode::Responses { "max_output_tokens" } else { "max_tokens" }] = json!(1);
        fb["user"] = json!("flush");
        set_prompt(&mut fb, mode, "Say one word.");
        fb
    };
    // Tags the requests of this run (`user`), so that a relay log that
    // several runs append to is never read for another run's streams.
    let run_id = format!("{:x}", mono_ns());
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let pairs = rt.block_on(async {
        let client =
            reqwest::Client::builder().no_proxy().pool_max_idle_per_host(256).build().expect("client");
        let mut pairs = Vec::new();
        let rounds = streams.div_ceil(conc);
        let t0 = Instant::now();
        for r in 0..rounds {
            let ids: Vec<usize> = (r * conc..((r + 1) * conc).min(streams)).collect();
            let run = |base: String, side: &'static str| {
                let client = client.clone();
                let ids = ids.clone();
                let bodies: Vec<Value> = ids
                    .iter()
                    .map(|&i| {
                        let mut b = body(i);
                        b["user"] = json!(format!("bench-{i}-{side}-{run_id}"));
                        b
                    })
                    .collect();
                let flush_url = format!("{}{}", direct.trim_end_matches('/'), path);
                async move {
                    if flush {
                        // A different prompt first, so that the model server
                        // cannot reuse the previous request's evaluated prompt.
                        let _ = client.post(&flush_url).json(&flush_body()).send().await.map(|r| r.bytes());
                    }
                    let url = format!("{}{}", base.trim_end_matches('/'), path);
                    let futs = bodies.iter().map(|b| one_stream(&client, &url, b));
                    futures_util::future::join_all(futs).await
                }
            };
            let (d, p) = if r % 2 == 0 {
                let d = run(direct.clone(), "direct").await;
                (d, run(proxy.clone(), "proxy").await)
            } else {
                let p = run(proxy.clone(), "proxy").await;
                (run(direct.clone(), "direct").await, p)
            };
            pairs.extend(d.into_iter().zip(p).zip(&ids).map(|((direct, proxy), &i)| Pair {
                direct,
                proxy,
                prompt: prompt_of(i),
            }));
            eprintln!(
                "serve_bench stream: round {}/{rounds} ({} streams at once) done after {:.1} s",
                r + 1,
                ids.len(),
                t0.elapsed().as_secs_f64()
            );
        }
        if named.contains_key("relay-log") {
            // The relay writes a stream's log line when the next request
            // arrives: one more, so that the last streams' are written.
            let url = format!("{}{}", direct.trim_end_matches('/'), path);
            let _ = client.post(&url).json(&flush_body()).send().await.map(|r| r.bytes());
        }
        pairs
    });
    // The guard, run offline on the direct streams (after the measurement).
    let index = named.get("index").cloned().unwrap_or_else(|| usage());
    let judge = index_judge(&index, &named);
    let log_lines: Vec<Value> = named.get("relay-log").map(|p| jsonl(p)).unwrap_or_default();
    let user = |v: &Value| v["user"].as_str().map(str::to_string);
    let relay_log: Option<HashMap<String, Vec<Value>>> = named.contains_key("relay-log").then(|| {
        log_lines.iter().filter_map(|v| Some((user(v)?, v["events"].as_array()?.clone()))).collect()
    });
    // When the log is the scripted upstream's: how long each request took
    // to reach it, from the client's send (the proxy's share of TTFT that
    // precedes the first chunk).
    let arrivals: HashMap<String, u64> =
        log_lines.iter().filter_map(|v| Some((user(v)?, v["arrived"].as_u64()?))).collect();
    let to_upstream = |side: fn(&Pair) -> &Seen| -> Vec<f64> {
        pairs
            .iter()
            .filter_map(|p| Some((*arrivals.get(&side(p).tag)? as f64 - side(p).t0_ns as f64) / 1e6))
            .collect()
    };
    let (to_up_direct, to_up_proxy) = (to_upstream(|p| &p.direct), to_upstream(|p| &p.proxy));
    let passthrough = named.get("passthrough").is_some_and(|f| f == "1");
    let mut v = analyse(&pairs, trigger, &judge, mode, relay_log.as_ref(), passthrough);
    if !to_up_proxy.is_empty() {
        v["request_to_upstream_ms"] = json!({"direct": dist(&to_up_direct), "proxy": dist(&to_up_proxy)});
    }
    v["passthrough"] = json!(passthrough);
    v["concurrency"] = json!(conc);
    v["endpoint"] = json!(path);
    v["stream_kind"] = json!(mode.name());
    println!("{}", serde_json::to_string_pretty(&v).unwrap());
}
