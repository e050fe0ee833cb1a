//! What a policy decides: actions, per-span decisions, citations, and the request they answer.

use recital_detect::report::Source;
use recital_detect::SpanKind;
use serde::{Deserialize, Serialize};

use crate::spdx::LicenseClass;

/// What happens to a span, and to a response (ordered from mildest to most severe).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Shown as is.
    Allow,
    /// Shown with a citation: source, licence, URL.
    Annotate,
    /// Replaced by a marker naming the source.
    Redact,
    /// The whole response is withheld.
    Block,
}

impl Action {
    /// Every action, mildest first.
    pub const ALL: [Action; 4] = [Action::Allow, Action::Annotate, Action::Redact, Action::Block];

    /// The name used in policy files and JSON.
    pub fn name(self) -> &'static str {
        match self {
            Action::Allow => "allow",
            Action::Annotate => "annotate",
            Action::Redact => "redact",
            Action::Block => "block",
        }
    }

    /// The action with this name (exact, lower case).
    pub fn from_name(name: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.name() == name)
    }
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The facts of a request that are not in the scan report.
pub struct Request<'a> {
    /// Jurisdiction of the request (`X-Recital-Jurisdiction`, else the API key's
    /// default): an ISO 3166-1 alpha-2 code or a group of the policy, any case.
    /// `None` (or blank) means the policy's `default_jurisdiction`.
    pub jurisdiction: Option<&'a str>,
    /// The registry: whether this source is under a rightsholder's notice.
    pub notified: &'a dyn Fn(&Source) -> bool,
}

/// For requests made without a notice registry: nothing is notified.
pub fn nothing_notified(_: &Source) -> bool {
    false
}

impl Default for Request<'static> {
    /// The policy's default jurisdiction and no notices.
    fn default() -> Self {
        Request { jurisdiction: None, notified: &nothing_notified }
    }
}

impl<'a> Request<'a> {
    /// A request from `jurisdiction` with no notices.
    pub fn from_jurisdiction(jurisdiction: &'a str) -> Request<'a> {
        Request { jurisdiction: Some(jurisdiction), notified: &nothing_notified }
    }
}

impl std::fmt::Debug for Request<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Request").field("jurisdiction", &self.jurisdiction).finish_non_exhaustive()
    }
}

/// A source as cited to the user (the shape Copilot, Azure and Gemini use: where, and under which licence).
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct Citation {
    /// External document id.
    pub doc_id: String,
    /// Path or title.
    pub path: Option<String>,
    /// Source URL.
    pub url: Option<String>,
    /// SPDX licence expression (`NOASSERTION` when unknown).
    pub license: String,
    /// Rights holder.
    pub holder: Option<String>,
}

impl Citation {
    /// The citation of a report source.
    pub fn of(s: &Source) -> Citation {
        Citation {
            doc_id: s.doc_id.clone(),
            path: s.path.clone(),
            url: s.url.clone(),
            license: s.license.clone(),
            holder: s.holder.clone(),
        }
    }

    /// How the source is named in reasons and markers: its path, else its id.
    pub fn label(&self) -> &str {
        self.path.as_deref().filter(|p| !p.is_empty()).unwrap_or(&self.doc_id)
    }
}

/// The decision on one span of the report.
#[derive(Serialize, Clone, Debug)]
pub struct SpanDecision {
    /// Index into the report's spans.
    pub span: usize,
    /// Start of the span in the output, in bytes.
    pub byte_start: usize,
    /// End of the span (exclusive), in bytes.
    pub byte_end: usize,
    /// Length of the span in tokens of the stream that matched.
    pub tokens: usize,
    /// Kind of match.
    pub kind: SpanKind,
    /// What happens to the span.
    pub action: Action,
    /// The rule that decided; `None` when no rule did (under the threshold,
    /// boilerplate, outside the source's jurisdictions, or the default action).
    pub rule: Option<String>,
    /// Category the span was judged as.
    pub category: String,
    /// Licence of the deciding source.
    pub license: String,
    /// Class of that licence.
    pub license_class: LicenseClass,
    /// The sources the decision rests on: every source that led to `action`.
    pub sources: Vec<Citation>,
    /// One sentence naming the rule, the facts and the sources.
    pub reason: String,
    /// For a redacted span, the text that replaces it: the policy's
    /// `redaction_marker` filled in with this span's sources.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub marker: Option<String>,
    /// The action this span would get if it kept growing past every length
    /// threshold (and coverage condition). A streaming filter must hold back
    /// an unfinished span whose potential is `redact` or `block`, even while
    /// it is still short enough to be allowed.
    pub potential: Action,
}

/// The decision on a whole response.
#[derive(Serialize, Clone, Debug)]
pub struct Decision {
    /// The most severe action over the spans (block > redact > annotate > allow).
    pub action: Action,
    /// Jurisdiction the request was judged under, upper case.
    pub jurisdiction: String,
    /// One decision per report span, in the report's order, allowed ones included.
    pub spans: Vec<SpanDecision>,
    /// Statement of reasons for the whole response: what was decided, on which
    /// facts, under which rule (in the manner of DSA Art. 17).
    pub statement: String,
    /// Name and version of the policy (`everywhere v1`).
    pub policy: String,
}
