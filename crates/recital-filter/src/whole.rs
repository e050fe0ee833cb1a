//! A whole (non-streamed) output: every channel judged at once, rewritten
//! for the client. A block in any channel of a choice withholds the whole
//! choice, since its other channels were generated from the same copy.

use recital_policy::{Action, Annotation, Decision};
use serde::Serialize;

use crate::channel::{ChannelId, Format};
use crate::error::FilterError;
use crate::guard::{Guard, Redaction};
use crate::judge::{evaluate, Judge};
use crate::lens;

/// One channel as it may be shown.
#[derive(Debug, Clone, Serialize)]
pub struct ChannelResult {
    /// The channel.
    pub channel: ChannelId,
    /// The text as it may be shown; `None` when its choice is blocked.
    pub text: Option<String>,
    /// Citations, with byte offsets into `text`.
    pub annotations: Vec<Annotation>,
    /// The channel's decision (span offsets are bytes of the text judged:
    /// for JSON channels, its decoded string values).
    pub decision: Decision,
    /// The raw ranges replaced by markers (what a caller rebuilding
    /// per-token data, such as log-probabilities, must drop).
    #[serde(skip)]
    pub redactions: Vec<Redaction>,
}

/// A whole output as it may be shown.
#[derive(Debug, Clone, Serialize)]
pub struct FilteredOutput {
    /// The most severe action over every channel.
    pub action: Action,
    /// Every channel given, in order.
    pub channels: Vec<ChannelResult>,
}

impl FilteredOutput {
    /// The result for channel `id`.
    pub fn get(&self, id: ChannelId) -> Option<&ChannelResult> {
        self.channels.iter().find(|c| c.channel == id)
    }

    /// Whether choice `choice` is withheld.
    pub fn blocked(&self, choice: u32) -> bool {
        self.channels.iter().any(|c| c.channel.choice == choice && c.decision.action == Action::Block)
    }

    /// The channels that were not simply allowed.
    pub fn flagged(&self) -> impl Iterator<Item = &ChannelResult> {
        self.channels.iter().filter(|c| c.decision.action != Action::Allow)
    }
}

/// Judges every channel of an output (with `context`, the prompt, exempt)
/// and rewrites it for the client.
pub fn filter_output(
    judge: &dyn Judge,
    channels: &[(ChannelId, &str)],
    context: Option<&str>,
    jurisdiction: &str,
) -> Result<FilteredOutput, FilterError> {
    let mut out = Vec::with_capacity(channels.len());
    for &(id, text) in channels {
        out.push(match id.kind.format() {
            Format::Plain => plain(judge, id, text, context, jurisdiction)?,
            Format::Json => json(judge, id, text, context, jurisdiction)?,
        });
    }
    let blocked: Vec<u32> =
        out.iter().filter(|c| c.decision.action == Action::Block).map(|c| c.channel.choice).collect();
    for c in out.iter_mut().filter(|c| blocked.contains(&c.channel.choice)) {
        c.text = None;
        c.annotations.clear();
    }
    let action = out.iter().map(|c| c.decision.action).max().unwrap_or(Action::Allow);
    Ok(FilteredOutput { action, channels: out })
}

fn plain(
    judge: &dyn Judge,
    id: ChannelId,
    text: &str,
    context: Option<&str>,
    jurisdiction: &str,
) -> Result<ChannelResult, FilterError> {
    let (report, decision) = evaluate(judge, text, context, jurisdiction, false)?;
    let f = recital_policy::apply(text, &report, &decision);
    let redactions = decision
        .spans
        .iter()
        .filter(|d| d.action >= Action::Redact)
        .map(|d| Redaction { raw: d.byte_start..d.byte_end, marker: d.marker.clone().unwrap_or_default() })
        .collect();
    Ok(ChannelResult { channel: id, text: f.text, annotations: f.annotations, decision, redactions })
}

/// A JSON document: judged on its string values, rewritten by the same guard
/// that streams use, in one finished step, so that a redaction lands inside
/// the strings and the document stays valid.
fn json(
    judge: &dyn Judge,
    id: ChannelId,
    text: &str,
    context: Option<&str>,
    jurisdiction: &str,
) -> Result<ChannelResult, FilterError> {
    let policy = judge.policy().clone();
    let marker = std::sync::Arc::new(move |d: &recital_policy::SpanDecision| policy.redaction_marker(d));
    let mut guard = Guard::with_lens(lens::for_format(Format::Json), 0, usize::MAX, marker);
    guard.push(text);
    let (_, decision) = evaluate(judge, guard.text(), context, jurisdiction, false)?;
    let judged = decision.clone();
    let step = guard.step(true, &mut |_, _, _| Ok(judged.clone()))?;
    let text = step.blocked.is_none().then_some(step.text);
    Ok(ChannelResult {
        channel: id,
        text,
        annotations: step.annotations,
        decision,
        redactions: step.redactions,
    })
}
