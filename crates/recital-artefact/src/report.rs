//! The report on a set of artefacts: schema `recital.artefact-scan/1`.
//!
//! Top level: `schema`; `policy` and `jurisdiction` decided under; `files`
//! (each `path`, `kind` — the format of its first bytes —, `bytes`,
//! `members` opened, `copies`, its worst `action`, `warnings`, and `error`
//! when it could not be read to the end); `copies` (each [`ArtefactCopy`]: `file`,
//! `members`, `format`, the place — `offset`, `row`, `index`, `field`,
//! `encoding` —, `span` as in `recital.scan/1` with offsets into the
//! segment's text, and `decision` as in `recital.scan/1`'s decision spans);
//! `action`, the most severe decision, `distributable` and a `statement`;
//! `bytes` and `seconds`. Fields may be added within a schema version; none
//! is removed or renamed.

use recital_policy::Action;
use serde::Serialize;

use crate::copy::ArtefactCopy;

/// Schema identifier of [`ArtefactReport`].
pub const SCHEMA: &str = "recital.artefact-scan/1";

/// One file's part of the report.
#[derive(Serialize, Clone, Debug)]
pub struct FileReport {
    /// The file, as named.
    pub path: String,
    /// The format of its first bytes.
    pub kind: &'static str,
    /// Its size.
    pub bytes: u64,
    /// Compressed members opened in it.
    pub members: u64,
    /// Copies found in it.
    pub copies: usize,
    /// The most severe decision on them (`allow` for none).
    pub action: Action,
    /// Problems that did not stop it.
    pub warnings: Vec<String>,
    /// Why it could not be read to the end (copies before the error are kept).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The report on the artefacts scanned.
#[derive(Serialize, Clone, Debug)]
pub struct ArtefactReport {
    /// Always [`SCHEMA`].
    pub schema: &'static str,
    /// Name and version of the policy.
    pub policy: String,
    /// Jurisdiction of the distribution decided on.
    pub jurisdiction: String,
    /// The files.
    pub files: Vec<FileReport>,
    /// Every copy found.
    pub copies: Vec<ArtefactCopy>,
    /// The most severe decision over the copies.
    pub action: Action,
    /// Whether the policy lets the artefacts be distributed as they are
    /// (nothing to redact or block; citations may be owed).
    pub distributable: bool,
    /// What was decided and why, in a sentence or two.
    pub statement: String,
    /// Bytes of the files.
    pub bytes: u64,
    /// Time taken.
    pub seconds: f64,
}

/// The distribution decision over `copies`: the worst action, whether that
/// allows distribution, and a statement.
pub fn distribution(copies: &[ArtefactCopy], policy: &str, jurisdiction: &str) -> (Action, bool, String) {
    let worst = copies.iter().map(ArtefactCopy::action).max().unwrap_or(Action::Allow);
    let count = |a: Action| copies.iter().filter(|c| c.action() == a).count();
    let statement = match worst {
        Action::Allow if copies.is_empty() => {
            format!("No copy of an indexed work was found; policy {policy} sees nothing against distribution in {jurisdiction}.")
        }
        Action::Allow => format!(
            "{} cop(ies) of indexed works found, all allowed by policy {policy} (under its thresholds or freely licensed): distributable in {jurisdiction}.",
            copies.len()
        ),
        Action::Annotate => format!(
            "{} cop(ies) found; policy {policy} allows distribution in {jurisdiction} with attribution: {} cop(ies) must be cited with source and licence.",
            copies.len(),
            count(Action::Annotate)
        ),
        _ => format!(
            "Not distributable as it is in {jurisdiction} under policy {policy}: it stores {} cop(ies) that the policy redacts and {} that it blocks (of {} found); remove them or obtain the rights.",
            count(Action::Redact),
            count(Action::Block),
            copies.len()
        ),
    };
    (worst, worst <= Action::Annotate, statement)
}
