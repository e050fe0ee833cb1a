//! The extraction attack on `/v1/scan` that the reveal budget
//! (`--reveal-budget`) bounds, shared by the tests that check the budget on
//! one server, across a restart and across instances.

use serde_json::{json, Value};

use super::{client, prose};

/// An attacker who holds a gappy copy of a protected document (every 12th
/// word missing) and scans it window by window, 80 words every 40, to fill
/// it in.
pub struct Prober {
    words: Vec<String>,
    next: usize,
}

/// What a run of probes got.
#[derive(Debug, Default)]
pub struct Probed {
    /// Source bytes shown (the `…` marks show nothing).
    pub shown: usize,
    /// Scans answered.
    pub scans: usize,
    /// The 429 that ended the run: its `Retry-After` and body.
    pub refused: Option<(Option<String>, Value)>,
}

impl Prober {
    pub fn new() -> Prober {
        Prober { words: prose(1, 3000).split_whitespace().map(str::to_string).collect(), next: 0 }
    }

    /// Scans the next windows on `base` (a server's URL) until refused, or
    /// once `stop_after` bytes have been shown, or the document is done.
    pub fn run(&mut self, base: &str, stop_after: usize, key: Option<&str>) -> Probed {
        let mut got = Probed::default();
        while self.next + 80 < self.words.len() && got.shown < stop_after {
            let window: Vec<&str> = self.words[self.next..self.next + 80]
                .iter()
                .enumerate()
                .filter(|(i, _)| i % 12 != 6)
                .map(|(_, w)| w.as_str())
                .collect();
            let mut req = client().post(format!("{base}/v1/scan")).json(&json!({"text": window.join(" ")}));
            if let Some(k) = key {
                req = req.bearer_auth(k);
            }
            let r = req.send().unwrap();
            if r.status() == 429 {
                let retry = r.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_string);
                got.refused = Some((retry, r.json::<Value>().unwrap()));
                return got;
            }
            assert_eq!(r.status(), 200);
            self.next += 40;
            got.scans += 1;
            let v: Value = r.json().unwrap();
            for span in v["report"]["spans"].as_array().unwrap() {
                for src in span["sources"].as_array().unwrap() {
                    got.shown += src["snippet"].as_str().unwrap().replace('…', "").len();
                }
            }
        }
        got
    }
}
