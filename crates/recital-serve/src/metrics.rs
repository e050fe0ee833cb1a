//! Prometheus metrics, rendered by hand in the text exposition format: a dozen
//! counters and two histograms do not justify a metrics framework, and the
//! format is stable and simple.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// Upper bounds (seconds) of the latency histogram buckets.
const BUCKETS: [f64; 14] =
    [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0];

/// A latency histogram.
#[derive(Default)]
pub struct Histogram {
    counts: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

impl Histogram {
    /// Records one observation.
    pub fn observe(&self, seconds: f64) {
        for (i, b) in BUCKETS.iter().enumerate() {
            if seconds <= *b {
                self.counts[i].fetch_add(1, Ordering::Relaxed);
            }
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_micros.fetch_add((seconds * 1e6) as u64, Ordering::Relaxed);
    }

    fn render(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        for (i, b) in BUCKETS.iter().enumerate() {
            let _ = writeln!(out, "{name}_bucket{{le=\"{b}\"}} {}", self.counts[i].load(Ordering::Relaxed));
        }
        let n = self.count.load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {n}");
        let _ = writeln!(out, "{name}_sum {}", self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6);
        let _ = writeln!(out, "{name}_count {n}");
    }
}

/// Everything the service counts.
#[derive(Default)]
pub struct Metrics {
    /// Requests by (route, status).
    requests: Mutex<BTreeMap<(String, u16), u64>>,
    /// Decisions by action.
    decisions: Mutex<BTreeMap<String, u64>>,
    /// Scan latency.
    pub scan_seconds: Histogram,
    /// Notice acknowledgement to effect.
    pub notice_effect_seconds: Histogram,
    /// Proxied completions (streamed or not).
    pub proxy_requests: AtomicU64,
    /// Upstream failures (connect, status, broken stream).
    pub upstream_errors: AtomicU64,
    /// Upstream requests cancelled on a block or a client disconnect.
    pub upstream_cancelled: AtomicU64,
    /// Requests refused by rate limits.
    pub rate_limited: AtomicU64,
    /// Bytes of flagged copies a stream released before their decision
    /// (the guard's `leaked_bytes`): zero while the hold-back holds.
    pub stream_leaked_bytes: AtomicU64,
}

impl Metrics {
    /// Counts a finished request.
    pub fn request(&self, route: &str, status: u16) {
        let mut m = self.requests.lock().unwrap_or_else(|p| p.into_inner());
        *m.entry((route.to_string(), status)).or_default() += 1;
    }

    /// Counts a decision.
    pub fn decision(&self, action: &str) {
        let mut m = self.decisions.lock().unwrap_or_else(|p| p.into_inner());
        *m.entry(action.to_string()).or_default() += 1;
    }

    /// The exposition text; `gauges` are appended as given (name, help, value).
    pub fn render(&self, gauges: &[(&str, &str, f64)]) -> String {
        let mut out = String::new();
        out.push_str("# HELP recital_requests_total HTTP requests by route and status.\n# TYPE recital_requests_total counter\n");
        for ((route, status), n) in self.requests.lock().unwrap_or_else(|p| p.into_inner()).iter() {
            let _ = writeln!(out, "recital_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}");
        }
        out.push_str("# HELP recital_decisions_total Policy decisions by action.\n# TYPE recital_decisions_total counter\n");
        for (action, n) in self.decisions.lock().unwrap_or_else(|p| p.into_inner()).iter() {
            let _ = writeln!(out, "recital_decisions_total{{action=\"{action}\"}} {n}");
        }
        self.scan_seconds.render(&mut out, "recital_scan_seconds", "Time to scan one text and decide.");
        self.notice_effect_seconds.render(
            &mut out,
            "recital_notice_effect_seconds",
            "Time from receiving a notice or work to it being effective in scans.",
        );
        for (name, help, v) in [
            ("recital_proxy_requests_total", "Completions proxied.", &self.proxy_requests),
            ("recital_upstream_errors_total", "Upstream failures.", &self.upstream_errors),
            ("recital_upstream_cancelled_total", "Upstream requests cancelled.", &self.upstream_cancelled),
            ("recital_rate_limited_total", "Requests refused by rate limits.", &self.rate_limited),
            (
                "recital_stream_leaked_bytes_total",
                "Bytes of flagged copies streamed before their decision.",
                &self.stream_leaked_bytes,
            ),
        ] {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}",
                v.load(Ordering::Relaxed)
            );
        }
        for (name, help, v) in gauges {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {v}");
        }
        out
    }
}
