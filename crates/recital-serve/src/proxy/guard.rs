//! The hold-back guard: releases streamed text only once it is decided.
//!
//! With a policy whose shortest trigger is `t` tokens, the guard withholds the
//! last `t − 1` complete tokens (and the token still being written). Any exact
//! copy of `t` or more tokens therefore has its first token still held when it
//! is first detected: an exact match grows from its start, so if a copy reached
//! `t` tokens only after its start was released, it would have covered the
//! whole held tail — `t − 1` tokens plus its released part — one scan earlier
//! and been detected then. So no token of a flagged exact copy leaves before
//! its decision. A redacted span that reaches into the held tail may still
//! grow, so text is released only up to its start until it closes; the same
//! holds for an unfinished copy still under its category's (larger) threshold
//! whose potential action is to redact or block. Near-
//! verbatim chains can reach back over released pieces shorter than the
//! threshold; the guard then redacts from the released boundary on and records
//! the leaked prefix length (`leaked_bytes`).
//!
//! The guard rescans a window: the unreleased text plus `lookback` bytes
//! before it, so work per step stays bounded however long the stream runs.
//! The window's start in the text goes to the evaluator, which keeps the scan
//! work of earlier steps that still holds (the proxy's keeps a
//! `recital_detect::ScanMemo` per stream), so a step searches the index only
//! where the new text can change an answer.

use std::collections::HashSet;

use recital_policy::{Action, Annotation, Decision, SpanDecision};

use crate::error::ApiError;

/// Scans a text and decides: the window of a step, and the byte offset where
/// it starts in the stream's text (successive windows overlap, and an
/// evaluator may keep work between them: `recital_detect::ScanMemo`).
pub type Evaluator<'a> = dyn FnMut(&str, usize) -> Result<Decision, ApiError> + 'a;

/// What one step releases.
#[derive(Debug, Default)]
pub struct Step {
    /// Text to send now.
    pub text: String,
    /// Citations for text sent (now or earlier); offsets are bytes of the
    /// text emitted so far for this choice.
    pub annotations: Vec<Annotation>,
    /// Set when the response must be blocked: send nothing more.
    pub blocked: Option<Decision>,
}

/// Hold-back state of one streamed choice.
pub struct Guard {
    text: String,
    released: usize,
    emitted: usize,
    hold: usize,
    lookback: usize,
    /// `(input offset, emitted offset)` after each redaction.
    breaks: Vec<(usize, usize)>,
    annotated: HashSet<(usize, usize)>,
    /// Every non-allow span decision, offsets into the whole text (for the audit log).
    pub flagged: Vec<SpanDecision>,
    /// Bytes of flagged spans released before their decision (near-verbatim only).
    pub leaked_bytes: usize,
    /// Scans run (for metrics and tests).
    pub scans: usize,
    marker: Box<dyn Fn(&SpanDecision) -> String + Send + Sync>,
}

impl Guard {
    /// A guard that withholds `hold` complete tokens and rescans `lookback`
    /// bytes of released text; `marker` renders a redaction.
    pub fn new(
        hold: usize,
        lookback: usize,
        marker: Box<dyn Fn(&SpanDecision) -> String + Send + Sync>,
    ) -> Self {
        Self {
            text: String::new(),
            released: 0,
            emitted: 0,
            hold,
            lookback,
            breaks: vec![(0, 0)],
            annotated: HashSet::new(),
            flagged: Vec::new(),
            leaked_bytes: 0,
            scans: 0,
            marker,
        }
    }

    /// Appends streamed text.
    pub fn push(&mut self, delta: &str) {
        self.text.push_str(delta);
    }

    /// All text received so far.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Bytes emitted to the client so far.
    pub fn emitted(&self) -> usize {
        self.emitted
    }

    /// Decides and releases what can be released; `finished` releases
    /// everything (the upstream is done). `eval` scans a text and decides.
    pub fn step(&mut self, finished: bool, eval: &mut Evaluator<'_>) -> Result<Step, ApiError> {
        let b0 = if finished { self.text.len() } else { self.hold_boundary() };
        if b0 <= self.released {
            return Ok(Step::default());
        }
        let ws = self.window_start();
        self.scans += 1;
        let mut decision = eval(&self.text[ws..], ws)?;
        for s in &mut decision.spans {
            s.byte_start += ws;
            s.byte_end += ws;
        }
        for s in decision.spans.iter().filter(|s| s.action != Action::Allow) {
            if !self.flagged.iter().any(|f| f.byte_start == s.byte_start && f.byte_end == s.byte_end) {
                self.flagged.push(s.clone());
            }
        }
        if decision.action == Action::Block {
            return Ok(Step { blocked: Some(decision), ..Default::default() });
        }
        // Redactions still to be released, clamped to the released boundary.
        let mut reds: Vec<(usize, usize, &SpanDecision)> = decision
            .spans
            .iter()
            .filter(|s| s.action == Action::Redact && s.byte_end > self.released)
            .map(|s| (s.byte_start.max(self.released), s.byte_end, s))
            .collect();
        reds.sort_by_key(|r| (r.0, std::cmp::Reverse(r.1)));
        // Release up to b0, but never into a redaction that is not closed, nor
        // into an unfinished span that would be redacted or blocked if it grew
        // (a copy still under its category's threshold).
        let mut boundary = b0;
        if !finished {
            for s in decision.spans.iter().filter(|s| s.potential >= Action::Redact && s.byte_end > b0) {
                boundary = boundary.min(s.byte_start.max(self.released));
            }
        }
        loop {
            let before = boundary;
            for &(s, e, _) in &reds {
                if s < boundary && e > boundary {
                    boundary = s;
                }
            }
            if boundary == before {
                break;
            }
        }
        let mut out = String::new();
        let mut annotations = Vec::new();
        let mut pos = self.released;
        for &(s, e, d) in reds.iter().filter(|r| r.1 <= boundary) {
            if s < pos {
                // Overlaps a redaction already written: extend it.
                if e > pos {
                    pos = e;
                    self.breaks.push((pos, self.emitted + out.len()));
                }
                continue;
            }
            if d.byte_start < self.released {
                self.leaked_bytes += self.released - d.byte_start;
            }
            out.push_str(&self.text[pos..s]);
            let start = self.emitted + out.len();
            out.push_str(&(self.marker)(d));
            let end = self.emitted + out.len();
            pos = e;
            self.breaks.push((pos, end));
            if self.annotated.insert((d.byte_start, d.byte_end)) {
                annotations.push(Annotation {
                    start_offset: start,
                    end_offset: end,
                    offset_unit: "byte",
                    action: Action::Redact,
                    rule: d.rule.clone(),
                    citations: d.sources.clone(),
                });
            }
        }
        if pos < boundary {
            out.push_str(&self.text[pos..boundary]);
        }
        self.emitted += out.len();
        self.released = boundary.max(pos);
        // Annotations of spans whose end is now released.
        for d in decision.spans.iter().filter(|s| s.action == Action::Annotate && s.byte_end <= self.released)
        {
            if self.annotated.insert((d.byte_start, d.byte_end)) {
                annotations.push(Annotation {
                    start_offset: self.map(d.byte_start),
                    end_offset: self.map(d.byte_end),
                    offset_unit: "byte",
                    action: Action::Annotate,
                    rule: d.rule.clone(),
                    citations: d.sources.clone(),
                });
            }
        }
        Ok(Step { text: out, annotations, blocked: None })
    }

    /// Start of the held tail: `hold` complete tokens plus the one being written.
    fn hold_boundary(&self) -> usize {
        let tail = &self.text[self.released..];
        let toks = recital_text::tokenize(tail).tokens;
        let held = self.hold + 1;
        if toks.len() <= held {
            self.released
        } else {
            self.released + toks[toks.len() - held].src.start
        }
    }

    /// Where the rescanned window starts: `lookback` bytes before the released
    /// boundary, moved forward to a whitespace so no word is cut.
    fn window_start(&self) -> usize {
        if self.released <= self.lookback {
            return 0;
        }
        let mut ws = self.released - self.lookback;
        while !self.text.is_char_boundary(ws) {
            ws += 1;
        }
        match self.text[ws..self.released].find(char::is_whitespace) {
            Some(i) => ws + i,
            None => ws,
        }
    }

    /// Emitted offset of input offset `p` (a position inside a redaction maps
    /// to the end of its marker).
    fn map(&self, p: usize) -> usize {
        let i = self.breaks.partition_point(|&(ip, _)| ip <= p);
        let (ip, ep) = self.breaks[i.saturating_sub(1)];
        (ep + p.saturating_sub(ip)).min(self.emitted)
    }
}

#[cfg(test)]
mod tests {
    //! The guard against a brute-force model of the scanner: the protected
    //! work is a word sequence; a "span" is, from each word of the window, the
    //! longest run of words that occurs in the work (the maximal-span rule),
    //! reported from `MIN` words; it is redacted from `THRESHOLD` words and,
    //! shorter, allowed with potential `redact` — like a prose copy under its
    //! category threshold.
    use super::*;
    use proptest::prelude::*;
    use recital_detect::SpanKind;
    use recital_policy::{LicenseClass, SpanDecision};

    const MIN: usize = 4;
    const THRESHOLD: usize = 8;
    const WORK: &[&str] = &[
        "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet", "kilo",
        "lima", "mike", "november", "oscar", "papa", "quebec", "romeo", "sierra", "tango",
    ];
    const NOISE: &[&str] = &["one", "two", "three", "four", "five", "six"];

    fn words(text: &str) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        let mut start = None;
        for (i, c) in text.char_indices() {
            match (c.is_whitespace(), start) {
                (false, None) => start = Some(i),
                (true, Some(s)) => {
                    out.push((s, i));
                    start = None;
                }
                _ => {}
            }
        }
        if let Some(s) = start {
            out.push((s, text.len()));
        }
        out
    }

    fn eval(window: &str) -> Decision {
        let ws = words(window);
        let w: Vec<&str> = ws.iter().map(|&(a, b)| &window[a..b]).collect();
        let mut spans = Vec::new();
        let mut reach = 0;
        for i in 0..w.len() {
            // Longest run from i that occurs in WORK (contiguously).
            let mut best = 0;
            for k in 0..WORK.len() {
                let mut n = 0;
                while i + n < w.len() && k + n < WORK.len() && w[i + n] == WORK[k + n] {
                    n += 1;
                }
                best = best.max(n);
            }
            if best >= MIN && i + best > reach {
                reach = i + best;
                let action = if best >= THRESHOLD { Action::Redact } else { Action::Allow };
                spans.push(SpanDecision {
                    span: spans.len(),
                    byte_start: ws[i].0,
                    byte_end: ws[i + best - 1].1,
                    tokens: best,
                    kind: SpanKind::Exact,
                    action,
                    rule: (action == Action::Redact).then(|| "protect".to_string()),
                    category: "prose".into(),
                    license: "LicenseRef-Test".into(),
                    license_class: LicenseClass::Proprietary,
                    sources: Vec::new(),
                    reason: String::new(),
                    marker: None,
                    potential: Action::Redact,
                });
            }
        }
        let action = spans.iter().map(|s| s.action).max().unwrap_or(Action::Allow);
        Decision { action, jurisdiction: "EU".into(), spans, statement: String::new(), policy: "test".into() }
    }

    fn run(text: &str, cuts: &[usize]) -> (String, Guard) {
        let mut g = Guard::new(MIN - 1, 64, Box::new(|_| "[X]".to_string()));
        let mut out = String::new();
        let mut pos = 0;
        for &c in cuts.iter().chain(std::iter::once(&text.len())) {
            let c = c.clamp(pos, text.len());
            g.push(&text[pos..c]);
            pos = c;
            out.push_str(&g.step(false, &mut |w: &str, _| Ok(eval(w))).unwrap().text);
        }
        out.push_str(&g.step(true, &mut |w: &str, _| Ok(eval(w))).unwrap().text);
        (out, g)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(
            std::env::var("RECITAL_PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(256)))]

        /// Text is released in order, whatever the chunking; a copy of at least
        /// THRESHOLD words is replaced whole and none of its words leaves; a
        /// shorter one, and everything else, passes unchanged.
        #[test]
        fn copies_never_leak_and_other_text_passes(
            pre in proptest::collection::vec(0..NOISE.len(), 0..30),
            from in 0..WORK.len(),
            len in 0..=WORK.len(),
            post in proptest::collection::vec(0..NOISE.len(), 0..30),
            cuts in proptest::collection::vec(0..400usize, 0..40),
        ) {
            let len = len.min(WORK.len() - from);
            let copy: Vec<&str> = WORK[from..from + len].to_vec();
            let mut all: Vec<&str> = pre.iter().map(|&i| NOISE[i]).collect();
            all.extend(&copy);
            all.extend(post.iter().map(|&i| NOISE[i]));
            let text = all.join(" ");
            let mut cuts = cuts;
            cuts.sort();
            let (out, g) = run(&text, &cuts);
            if len >= THRESHOLD {
                let expect = [
                    pre.iter().map(|&i| NOISE[i]).collect::<Vec<_>>().join(" "),
                    "[X]".to_string(),
                    post.iter().map(|&i| NOISE[i]).collect::<Vec<_>>().join(" "),
                ]
                .iter()
                .filter(|s| !s.is_empty())
                .cloned()
                .collect::<Vec<_>>();
                let got: Vec<&str> = out.split_whitespace().collect();
                let want: Vec<&str> = expect.iter().flat_map(|s| s.split_whitespace()).collect();
                prop_assert_eq!(got, want, "text {:?} out {:?}", text, out);
                prop_assert!(!copy.iter().any(|w| out.contains(w)));
                prop_assert_eq!(g.leaked_bytes, 0);
            } else {
                prop_assert_eq!(&out, &text);
            }
        }
    }

    #[test]
    fn releases_as_tokens_complete_not_at_the_end() {
        let mut g = Guard::new(2, 64, Box::new(|_| "[X]".to_string()));
        let mut got = Vec::new();
        for w in ["one ", "two ", "three ", "four ", "five ", "six "] {
            g.push(w);
            got.push(g.step(false, &mut |w: &str, _| Ok(eval(w))).unwrap().text);
        }
        // Three tokens held (two complete plus the one being written): release starts at the fourth.
        assert_eq!(got, vec!["", "", "", "one ", "two ", "three "]);
        assert_eq!(g.step(true, &mut |w: &str, _| Ok(eval(w))).unwrap().text, "four five six ");
    }
}
