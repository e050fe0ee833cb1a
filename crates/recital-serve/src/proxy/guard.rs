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

use std::collections::HashSet;

use recital_detect::ScanReport;
use recital_policy::{Action, Citation, Decision, SpanDecision};
use serde::Serialize;

use crate::error::ApiError;

/// Scans a text and decides (the window of a step).
pub type Evaluator<'a> = dyn FnMut(&str) -> Result<(ScanReport, Decision), ApiError> + 'a;

/// A citation travelling with streamed text (the `recital` extension field).
#[derive(Debug, Clone, Serialize)]
pub struct StreamAnnotation {
    /// Start, in bytes of the text emitted so far for this choice.
    pub start_offset: usize,
    /// End (exclusive).
    pub end_offset: usize,
    /// Always `"byte"`.
    pub offset_unit: &'static str,
    /// `annotate` or `redact`.
    pub action: Action,
    /// Rule that decided.
    pub rule: Option<String>,
    /// Sources with licence and URL.
    pub citations: Vec<Citation>,
}

/// What one step releases.
#[derive(Debug, Default)]
pub struct Step {
    /// Text to send now.
    pub text: String,
    /// Citations for text sent (now or earlier).
    pub annotations: Vec<StreamAnnotation>,
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
        let (_report, mut decision) = eval(&self.text[ws..])?;
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
                annotations.push(StreamAnnotation {
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
                annotations.push(StreamAnnotation {
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
