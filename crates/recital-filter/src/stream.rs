//! A streamed output: every channel has its own guard and scan memo, so the
//! hold-back invariant holds per channel (a copy split between the reasoning
//! and the answer is two copies, each judged on its own), and a block in any
//! channel of a choice ends that choice.

use std::time::{Duration, Instant};

use recital_detect::{ScanMemo, ScanOptions, ScanReport, Span};
use recital_policy::{Action, Decision, SpanDecision};
use serde::Serialize;

use crate::channel::ChannelId;
use crate::error::FilterError;
use crate::guard::{Guard, Marker, Step};
use crate::judge::{decide, Judge};
use crate::lens;

/// Released text rescanned before the held tail at each step. A flagged
/// exact copy never starts in released text (see [`crate::Guard`]), so this
/// is only context for near-verbatim chains; it bounds the work per streamed
/// token (the scan is linear in the window), which is the proxy's added
/// latency.
pub const LOOKBACK_BYTES: usize = 384;

/// One channel under check.
struct Channel {
    id: ChannelId,
    guard: Guard,
    memo: ScanMemo,
    done: bool,
    last_step: Duration,
}

/// The hold-back filter of one streamed output.
pub struct StreamFilter {
    jurisdiction: String,
    opts: ScanOptions,
    hold: usize,
    lookback: usize,
    marker: Marker,
    channels: Vec<Channel>,
    blocked: Vec<(u32, Decision)>,
}

/// What a stream's channels flagged, for the audit log.
#[derive(Debug, Clone, Serialize)]
pub struct ChannelDecision {
    /// The channel.
    pub channel: ChannelId,
    /// Its decision: the flagged spans (offsets into the channel's judged
    /// text) and the most severe action.
    pub decision: Decision,
}

impl StreamFilter {
    /// A filter for one output to a request from `jurisdiction` whose prompt
    /// was `context` (repeating it is not flagged). It holds back the
    /// policy's shortest trigger minus one token per channel.
    pub fn new(judge: &dyn Judge, jurisdiction: &str, context: &str) -> Self {
        let policy = judge.policy().clone();
        let mut opts = judge.scan_options().clone();
        opts.locate_sources = false;
        opts.open_candidates = true;
        opts.context = (!context.trim().is_empty()).then(|| context.to_string());
        Self {
            jurisdiction: jurisdiction.to_string(),
            opts,
            hold: judge.policy().trigger_tokens().saturating_sub(1),
            lookback: LOOKBACK_BYTES,
            marker: std::sync::Arc::new(move |d: &SpanDecision| policy.redaction_marker(d)),
            channels: Vec::new(),
            blocked: Vec::new(),
        }
    }

    /// Appends a fragment of channel `id` and releases what is decided.
    pub fn push(&mut self, judge: &dyn Judge, id: ChannelId, delta: &str) -> Result<Step, FilterError> {
        self.step(judge, id, Some(delta), false)
    }

    /// Channel `id` is complete: decides and releases everything it holds.
    pub fn finish(&mut self, judge: &dyn Judge, id: ChannelId) -> Result<Step, FilterError> {
        self.step(judge, id, None, true)
    }

    /// Finishes every open channel of `choice` (every choice when `None`),
    /// in the order they opened.
    pub fn finish_choice(
        &mut self,
        judge: &dyn Judge,
        choice: Option<u32>,
    ) -> Result<Vec<(ChannelId, Step)>, FilterError> {
        let open: Vec<ChannelId> = self
            .channels
            .iter()
            .filter(|c| !c.done && choice.is_none_or(|k| c.id.choice == k))
            .map(|c| c.id)
            .collect();
        let mut out = Vec::new();
        for id in open {
            out.push((id, self.finish(judge, id)?));
        }
        Ok(out)
    }

    /// Whether a choice was blocked (by any of its channels).
    pub fn blocked(&self, choice: u32) -> Option<&Decision> {
        self.blocked.iter().find(|b| b.0 == choice).map(|b| &b.1)
    }

    /// Whether channel `id` has been opened.
    pub fn has(&self, id: ChannelId) -> bool {
        self.channels.iter().any(|c| c.id == id)
    }

    /// Bytes of channel `id` emitted so far (where the offsets of its next
    /// step's annotations are counted from).
    pub fn emitted(&self, id: ChannelId) -> usize {
        self.channels.iter().find(|c| c.id == id).map_or(0, |c| c.guard.emitted())
    }

    /// How long the last step of channel `id` took (a caller may run the
    /// next one off its async worker when it was long).
    pub fn last_step(&self, id: ChannelId) -> Duration {
        self.channels.iter().find(|c| c.id == id).map_or(Duration::ZERO, |c| c.last_step)
    }

    /// Match lengths searched in the index and reused from earlier steps,
    /// summed over the channels (for benchmarks: the work a step saves).
    pub fn memo_counts(&self) -> (usize, usize) {
        self.channels.iter().fold((0, 0), |(s, r), c| (s + c.memo.searched, r + c.memo.reused))
    }

    /// Judged and raw bytes received, summed over the channels.
    pub fn bytes(&self) -> usize {
        self.channels.iter().map(|c| c.guard.raw().len()).sum()
    }

    /// Bytes of flagged near-verbatim spans released before their decision.
    pub fn leaked_bytes(&self) -> usize {
        self.channels.iter().map(|c| c.guard.leaked_bytes).sum()
    }

    /// Scans run, summed over the channels.
    pub fn scans(&self) -> usize {
        self.channels.iter().map(|c| c.guard.scans).sum()
    }

    /// Every channel that flagged something, with its decision.
    pub fn decisions(&self, policy: &str) -> Vec<ChannelDecision> {
        let mut out = Vec::new();
        for c in self.channels.iter().filter(|c| !c.guard.flagged.is_empty()) {
            let spans = c.guard.flagged.clone();
            let action = spans.iter().map(|s| s.action).max().unwrap_or(Action::Allow);
            let statement = spans.iter().map(|s| s.reason.clone()).collect::<Vec<_>>().join(" ");
            let decision = Decision {
                action,
                jurisdiction: self.jurisdiction.clone(),
                spans,
                statement,
                policy: policy.to_string(),
            };
            out.push(ChannelDecision { channel: c.id, decision });
        }
        out
    }

    fn channel(&mut self, id: ChannelId) -> &mut Channel {
        if let Some(i) = self.channels.iter().position(|c| c.id == id) {
            return &mut self.channels[i];
        }
        let lens = lens::for_format(id.kind.format());
        let guard = Guard::with_lens(lens, self.hold, self.lookback, self.marker.clone());
        self.channels.push(Channel {
            id,
            guard,
            memo: ScanMemo::default(),
            done: false,
            last_step: Duration::ZERO,
        });
        self.channels.last_mut().expect("just pushed")
    }

    fn step(
        &mut self,
        judge: &dyn Judge,
        id: ChannelId,
        delta: Option<&str>,
        finished: bool,
    ) -> Result<Step, FilterError> {
        if self.blocked(id.choice).is_some() {
            return Ok(Step::default());
        }
        let (opts, jurisdiction) = (&self.opts, self.jurisdiction.as_str());
        let Some(i) = self.channels.iter().position(|c| c.id == id) else {
            self.channel(id);
            return self.step(judge, id, delta, finished);
        };
        let ch = &mut self.channels[i];
        if ch.done {
            return Ok(Step::default());
        }
        if let Some(d) = delta {
            ch.guard.push(d);
        }
        let t0 = Instant::now();
        let Channel { guard, memo, .. } = ch;
        let step = guard.step(finished, &mut |window: &str, offset: usize, views| {
            let mut report = judge.scan_window(window, views, opts, memo, offset)?;
            let open = std::mem::take(&mut report.open);
            let mut decision = decide(judge, &report, jurisdiction);
            decision.spans.extend(holds(judge, report, open, jurisdiction));
            Ok(decision)
        })?;
        judge.observe(t0.elapsed().as_secs_f64());
        ch.last_step = t0.elapsed();
        ch.done |= finished;
        if let Some(d) = &step.blocked {
            self.blocked.push((id.choice, d.clone()));
        }
        Ok(step)
    }
}

/// The open candidates of a window's scan as allowed spans that carry their
/// potential action: the guard releases no text from the start of one whose
/// potential is to redact or block (it runs to the window's end), so a near
/// copy's first pieces, each too short to report, wait for its decision.
/// They are never acted on themselves: whatever their length, what is
/// redacted is what the scan reports.
fn holds(
    judge: &dyn Judge,
    mut report: ScanReport,
    open: Vec<Span>,
    jurisdiction: &str,
) -> Vec<SpanDecision> {
    if open.is_empty() {
        return Vec::new();
    }
    report.spans = open;
    let mut held = decide(judge, &report, jurisdiction).spans;
    for d in &mut held {
        d.action = Action::Allow;
        d.rule = None;
        d.marker = None;
    }
    held
}
