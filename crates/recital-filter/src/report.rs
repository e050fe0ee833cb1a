//! The filter's answer as a document: schema `recital.filter/1`, written by
//! `recital filter --json`. A contract: fields are added, never renamed or
//! removed, without a new schema version.
//!
//! ```json
//! {
//!   "schema": "recital.filter/1",
//!   "action": "redact",
//!   "jurisdiction": "EU",
//!   "policy": "everywhere v1",
//!   "channels": [
//!     {
//!       "choice": 0,
//!       "channel": "tool_arguments",
//!       "item": 0,
//!       "text": "{\"path\": \"a.c\", \"content\": \"[redacted: …]\"}",
//!       "annotations": [],
//!       "decision": {"action": "redact", "jurisdiction": "EU", "spans": [], "statement": "…", "policy": "everywhere v1"}
//!     }
//!   ],
//!   "response": {}
//! }
//! ```
//!
//! - `action`: the most severe action over every channel: `allow`,
//!   `annotate`, `redact` or `block`.
//! - `channels`: every channel judged, in the order of the output. `choice`
//!   is the choice (0 for a plain text); `channel` the kind (`text`,
//!   `refusal`, `reasoning`, `tool_arguments`, `structured`); `item` the tool
//!   call's index for `tool_arguments` (4294967295 for a legacy
//!   `function_call`), 0 otherwise. `text` is the channel as it may be shown
//!   (`null` when its choice is blocked; a JSON channel stays a valid JSON
//!   document), `annotations` its citations with byte offsets into `text`,
//!   `decision` the policy's decision with its statement of reasons (span
//!   offsets are bytes of the text judged: for a JSON channel, its decoded
//!   string values).
//! - `response`: only for a whole model API response (`recital filter
//!   --format …`): the response rewritten as it may be shown.

use recital_policy::{Action, Annotation, Decision};
use serde::Serialize;

use crate::whole::FilteredOutput;

/// The schema name and version.
pub const SCHEMA: &str = "recital.filter/1";

/// A filtered output as a `recital.filter/1` document.
#[derive(Debug, Serialize)]
pub struct FilterReport<'a> {
    /// Always [`SCHEMA`].
    pub schema: &'static str,
    /// The most severe action over every channel.
    pub action: Action,
    /// The jurisdiction decided for.
    pub jurisdiction: &'a str,
    /// The policy's name and version.
    pub policy: String,
    /// Every channel, in order.
    pub channels: Vec<ChannelReport<'a>>,
    /// The rewritten model API response, when one was filtered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response: Option<&'a serde_json::Value>,
}

/// One channel of a [`FilterReport`].
#[derive(Debug, Serialize)]
pub struct ChannelReport<'a> {
    /// The choice it belongs to.
    pub choice: u32,
    /// The channel's kind, by name.
    pub channel: &'static str,
    /// The tool call's index; 0 for other kinds.
    pub item: u32,
    /// The text as it may be shown; `None` when its choice is blocked.
    pub text: Option<&'a str>,
    /// Citations, with byte offsets into `text`.
    pub annotations: &'a [Annotation],
    /// The decision and its statement of reasons.
    pub decision: &'a Decision,
}

impl<'a> FilterReport<'a> {
    /// The report of `out`, decided under `policy` (its label) for
    /// `jurisdiction`, with the rewritten `response` if there is one.
    pub fn new(
        out: &'a FilteredOutput,
        jurisdiction: &'a str,
        policy: String,
        response: Option<&'a serde_json::Value>,
    ) -> Self {
        let channels = out
            .channels
            .iter()
            .map(|c| ChannelReport {
                choice: c.channel.choice,
                channel: c.channel.kind.name(),
                item: c.channel.item,
                text: c.text.as_deref(),
                annotations: &c.annotations,
                decision: &c.decision,
            })
            .collect();
        Self { schema: SCHEMA, action: out.action, jurisdiction, policy, channels, response }
    }
}
