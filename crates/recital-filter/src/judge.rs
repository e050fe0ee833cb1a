//! The seam between the filter and what it filters against: a [`Judge`]
//! scans a text on some index snapshot and knows which sources are under a
//! rightsholder's notice. The filter asks it and decides with its policy;
//! it never sees where the index, the notices or the metrics live. The
//! service implements it over its live corpus and registry; [`IndexJudge`]
//! is the plain one for the CLI, benchmarks and library users.

use std::sync::Arc;
use std::time::Instant;

use recital_detect::report::Source;
use recital_detect::{Input, ScanMemo, ScanOptions, ScanReport, View};
use recital_index::Index;
use recital_policy::{Decision, Policy, Request};

use crate::error::FilterError;

/// Scans texts and says which sources are notified.
pub trait Judge: Sync {
    /// The policy decisions are taken under.
    fn policy(&self) -> &Policy;

    /// The scan options every span the policy can act on needs.
    fn scan_options(&self) -> &ScanOptions;

    /// Scans a whole text (through its Markdown, HTML and JSON views).
    fn scan(&self, text: &str, opts: &ScanOptions) -> Result<ScanReport, FilterError>;

    /// Scans a window of a growing text that starts at byte `offset` of it,
    /// as given and through its `views` ([`View::all_of_prefix`] of the
    /// window, which the guard has already made to count its hold-back),
    /// reusing `memo` from earlier windows
    /// ([`recital_detect::scan_window_with_views`]): a copy wrapped in markup
    /// must be found while it streams, not only in the whole output.
    fn scan_window(
        &self,
        window: &str,
        views: Vec<View>,
        opts: &ScanOptions,
        memo: &mut ScanMemo,
        offset: usize,
    ) -> Result<ScanReport, FilterError>;

    /// Whether `source` is under a notice that applies in `jurisdiction`.
    fn is_notified(&self, _source: &Source, _jurisdiction: &str) -> bool {
        false
    }

    /// Told how long each scan-and-decide took (metrics).
    fn observe(&self, _seconds: f64) {}
}

/// A jurisdiction as given by a caller (header, flag, key), checked and in
/// the form decisions use: trimmed, upper case, a country code or a group
/// name (letters, digits, `-`, `*`; at most 16 bytes). Every door checks it
/// the same way, so a jurisdiction one accepts, the others accept too.
pub fn jurisdiction(given: &str) -> Result<String, FilterError> {
    let j = given.trim().to_ascii_uppercase();
    if j.is_empty() || j.len() > 16 || !j.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'*')
    {
        return Err(FilterError::Input(format!(
            "jurisdiction {j:?} is not a country code (ISO 3166-1 alpha-2) or a group name"
        )));
    }
    Ok(j)
}

/// Decides on `report` under the judge's policy and notices.
pub fn decide(judge: &dyn Judge, report: &ScanReport, jurisdiction: &str) -> Decision {
    let notified = |s: &Source| judge.is_notified(s, jurisdiction);
    judge.policy().decide(report, &Request { jurisdiction: Some(jurisdiction), notified: &notified })
}

/// Scans `text` and decides, with `context` exempt (`locate`: find each
/// source's position and snippet, which only a report shown to a person needs).
pub fn evaluate(
    judge: &dyn Judge,
    text: &str,
    context: Option<&str>,
    jurisdiction: &str,
    locate: bool,
) -> Result<(ScanReport, Decision), FilterError> {
    let t0 = Instant::now();
    let mut opts = judge.scan_options().clone();
    opts.locate_sources = locate;
    opts.context = context.filter(|c| !c.trim().is_empty()).map(str::to_string);
    let report = judge.scan(text, &opts)?;
    let decision = decide(judge, &report, jurisdiction);
    judge.observe(t0.elapsed().as_secs_f64());
    Ok((report, decision))
}

/// A judge over one index snapshot and a policy, with a fixed set of
/// notified document ids.
pub struct IndexJudge {
    index: Arc<Index>,
    policy: Policy,
    options: ScanOptions,
    notified: Vec<String>,
}

impl IndexJudge {
    /// A judge over `index` deciding under `policy`, scanning with `options`.
    pub fn new(index: Arc<Index>, policy: Policy, options: ScanOptions) -> Self {
        Self { index, policy, options, notified: Vec::new() }
    }

    /// Treats these document ids as notified everywhere.
    pub fn with_notified(mut self, doc_ids: Vec<String>) -> Self {
        self.notified = doc_ids;
        self
    }
}

impl Judge for IndexJudge {
    fn policy(&self) -> &Policy {
        &self.policy
    }

    fn scan_options(&self) -> &ScanOptions {
        &self.options
    }

    fn scan(&self, text: &str, opts: &ScanOptions) -> Result<ScanReport, FilterError> {
        let input = Input::decode(text.as_bytes()).map_err(FilterError::from_scan)?;
        recital_detect::scan_views(&self.index, &input, opts).map_err(FilterError::from_scan)
    }

    fn scan_window(
        &self,
        window: &str,
        views: Vec<View>,
        opts: &ScanOptions,
        memo: &mut ScanMemo,
        offset: usize,
    ) -> Result<ScanReport, FilterError> {
        let input = Input::decode(window.as_bytes()).map_err(FilterError::from_scan)?;
        recital_detect::scan_window_with_views(&self.index, &input, views, opts, memo, offset)
            .map_err(FilterError::from_scan)
    }

    fn is_notified(&self, source: &Source, _jurisdiction: &str) -> bool {
        self.notified.iter().any(|d| d == &source.doc_id)
    }
}
