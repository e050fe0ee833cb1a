//! The one path from text to decision that every endpoint uses: scan on the
//! current index snapshot, decide under the policy for the request's
//! jurisdiction and the live notices, count it, and log non-allow decisions.

use std::sync::Arc;

use recital_filter::FilterError;

use recital_detect::ScanReport;
use recital_policy::{Action, Decision};

use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{now_ms, AuditEntry, Principal};

/// The service as the filter's [`recital_filter::Judge`]: scans on the
/// current index snapshot, with the notices in force, counted in the metrics.
impl recital_filter::Judge for AppState {
    fn policy(&self) -> &recital_policy::Policy {
        &self.policy
    }

    fn scan_options(&self) -> &recital_detect::ScanOptions {
        &self.scan_options
    }

    fn scan(&self, text: &str, opts: &recital_detect::ScanOptions) -> Result<ScanReport, FilterError> {
        let mut report = self.corpus.scan(text, opts).map_err(FilterError::from_scan)?;
        self.signals().apply(&mut report);
        Ok(report)
    }

    fn scan_window(
        &self,
        window: &str,
        views: Vec<recital_detect::View>,
        opts: &recital_detect::ScanOptions,
        memo: &mut recital_detect::ScanMemo,
        offset: usize,
    ) -> Result<ScanReport, FilterError> {
        let mut report =
            self.corpus.scan_window(window, views, opts, memo, offset).map_err(FilterError::from_scan)?;
        self.signals().apply(&mut report);
        Ok(report)
    }

    fn is_notified(&self, src: &recital_detect::report::Source, jurisdiction: &str) -> bool {
        let policy = &self.policy;
        self.notified().contains(
            &src.doc_id,
            src.url.as_deref(),
            src.iscc.as_deref(),
            &|list: &[String]| policy.jurisdiction_in(jurisdiction, list),
        )
    }

    fn observe(&self, seconds: f64) {
        self.metrics.scan_seconds.observe(seconds);
    }
}

/// A filter error as the caller sees it.
pub fn api_error(e: FilterError) -> ApiError {
    match e {
        FilterError::Binary => ApiError::bad_request("binary_input", e.to_string()),
        FilterError::Input(m) => ApiError::bad_request("invalid_output", m),
        other => ApiError::internal("scan", other),
    }
}

/// Scans `text` with `context` exempt and decides. Blocking: run it on a
/// blocking thread.
pub fn evaluate(
    state: &AppState,
    text: &str,
    context: Option<String>,
    jurisdiction: &str,
) -> Result<(ScanReport, Decision), ApiError> {
    recital_filter::evaluate(state, text, context.as_deref(), jurisdiction, true).map_err(api_error)
}

/// [`evaluate`] for callers that use the decision and not the report's
/// source locations (`/v1/filter`): sources carry their document and rights
/// but no byte range or snippet, which saves decoding document text. The
/// decision is the same.
pub fn evaluate_decision(
    state: &AppState,
    text: &str,
    context: Option<String>,
    jurisdiction: &str,
) -> Result<(ScanReport, Decision), ApiError> {
    recital_filter::evaluate(state, text, context.as_deref(), jurisdiction, false).map_err(api_error)
}

/// Longest source snippet an API response carries, in bytes.
pub const MAX_SNIPPET_BYTES: usize = 240;

/// Trims every source snippet to the matched text (at most
/// [`MAX_SNIPPET_BYTES`]): the context around a match would let a caller walk
/// through a protected document one query at a time, turning the filter into
/// an extraction oracle.
///
/// A near-verbatim span is a copy with edits: its source text holds words the
/// caller left out or changed, and showing them would fill in exactly what
/// the caller did not have. Those words are shown as `…` (see
/// [`mask_unquoted`]).
pub fn limit_snippets(report: &mut ScanReport) {
    for span in &mut report.spans {
        let near = span.kind == recital_detect::SpanKind::Near;
        for src in &mut span.sources {
            let [a, b] = src.snippet_hit;
            let (a, b) = (a.min(src.snippet.len()), b.min(src.snippet.len()));
            let mut hit = src.snippet.get(a..b).unwrap_or("").to_string();
            if near {
                hit = mask_unquoted(&hit, &span.text);
            }
            if hit.len() > MAX_SNIPPET_BYTES {
                let mut cut = MAX_SNIPPET_BYTES;
                while !hit.is_char_boundary(cut) {
                    cut -= 1;
                }
                hit.truncate(cut);
                hit.push('…');
            }
            src.snippet_hit = [0, hit.len()];
            src.snippet = hit;
        }
    }
}

/// Cuts the snippets of `report`, in order, so that together they show at
/// most `allowance` bytes of source text (what the caller's reveal budget has
/// left); the rest are emptied. Returns the bytes shown (the `…` marks do
/// not count: they reveal nothing).
pub fn cap_snippets(report: &mut ScanReport, allowance: u64) -> u64 {
    let mut left = allowance as usize;
    let mut shown = 0u64;
    for src in report.spans.iter_mut().flat_map(|s| s.sources.iter_mut()) {
        let bytes = src.snippet.replace('…', "").len();
        if bytes > left {
            let mut cut = left.min(src.snippet.len());
            while !src.snippet.is_char_boundary(cut) {
                cut -= 1;
            }
            src.snippet.truncate(cut);
        }
        let now = src.snippet.replace('…', "").len();
        src.snippet_hit = [0, src.snippet.len()];
        left -= now;
        shown += now as u64;
    }
    shown
}

/// `source` with every word that is not aligned to a word of `quoted`
/// replaced by `…` (runs of them by one): what remains is a subsequence of
/// the caller's own words, in the source's spelling. Words are compared by
/// their letters and digits, case-folded, so that punctuation and case
/// differences from normalisation do not hide a quoted word.
pub fn mask_unquoted(source: &str, quoted: &str) -> String {
    let key = |w: &str| -> String {
        w.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect()
    };
    let src: Vec<&str> = source.split_whitespace().collect();
    let src_keys: Vec<String> = src.iter().map(|w| key(w)).collect();
    let quoted_keys: Vec<String> = quoted.split_whitespace().map(key).collect();
    let mut keep = vec![false; src.len()];
    for op in similar::capture_diff_slices(similar::Algorithm::Myers, &src_keys, &quoted_keys) {
        if let similar::DiffOp::Equal { old_index, len, .. } = op {
            keep[old_index..old_index + len].iter_mut().for_each(|k| *k = true);
        }
    }
    let mut out: Vec<&str> = Vec::with_capacity(src.len());
    for (w, k) in src.iter().zip(keep) {
        if k {
            out.push(w);
        } else if out.last() != Some(&"…") {
            out.push("…");
        }
    }
    out.join(" ")
}

/// Resolves the request's jurisdiction: the `X-Recital-Jurisdiction` header,
/// else the body's field, else the key's default, else the policy's default.
pub fn jurisdiction(
    state: &AppState,
    headers: &axum::http::HeaderMap,
    body: Option<&str>,
    caller: &Principal,
) -> Result<String, ApiError> {
    let from_header = match headers.get("x-recital-jurisdiction") {
        Some(v) => Some(
            v.to_str()
                .map_err(|_| {
                    ApiError::bad_request("invalid_jurisdiction", "X-Recital-Jurisdiction is not ASCII")
                })?
                .trim()
                .to_string(),
        ),
        None => None,
    };
    let j = from_header
        .or_else(|| body.map(str::to_string))
        .or_else(|| caller.default_jurisdiction.clone())
        .unwrap_or_else(|| state.policy.default_jurisdiction().to_string());
    recital_filter::jurisdiction(&j).map_err(|e| ApiError::bad_request("invalid_jurisdiction", e.to_string()))
}

/// Counts a decision and, unless it allows everything, queues an audit
/// record naming the output's `channels` whose spans were flagged.
pub fn record(
    state: &Arc<AppState>,
    caller: &Principal,
    endpoint: &str,
    request_id: &str,
    input_bytes: usize,
    d: &Decision,
    channels: &[String],
) {
    let action = action_name(d.action);
    state.metrics.decision(action);
    if d.action == Action::Allow {
        return;
    }
    let mut rules: Vec<String> = Vec::new();
    let mut sources: Vec<String> = Vec::new();
    for s in d.spans.iter().filter(|s| s.action != Action::Allow) {
        if let Some(r) = &s.rule {
            if !rules.contains(r) {
                rules.push(r.clone());
            }
        }
        for c in &s.sources {
            if !sources.contains(&c.doc_id) {
                sources.push(c.doc_id.clone());
            }
        }
    }
    let entry = AuditEntry {
        at: now_ms(),
        key_id: (caller.key_id != 0).then_some(caller.key_id),
        key_name: Some(caller.name.clone()),
        endpoint: endpoint.to_string(),
        jurisdiction: d.jurisdiction.clone(),
        action: action.to_string(),
        rules,
        sources,
        statement: d.statement.clone(),
        request_id: request_id.to_string(),
        input_bytes: input_bytes as u64,
        channels: channels.to_vec(),
    };
    if state.audit_tx.try_send(entry).is_err() {
        tracing::error!(request_id, "audit queue full or closed: audit record dropped");
    }
}

/// Lower-case action name.
pub fn action_name(a: Action) -> &'static str {
    match a {
        Action::Allow => "allow",
        Action::Annotate => "annotate",
        Action::Redact => "redact",
        Action::Block => "block",
    }
}

/// A fresh request id.
pub fn request_id() -> String {
    let mut b = [0u8; 8];
    let _ = getrandom::fill(&mut b);
    format!("req-{}", hex::encode(b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn words_the_caller_left_out_or_changed_are_not_shown() {
        let source = "It was the best of times, it was the worst of times";
        let quoted = "it was the best of times it was the  of times"; // "worst" left out
        assert_eq!(mask_unquoted(source, quoted), "It was the best of times, it was the … of times");
        let changed = "it was the best of days, it was the worst of times";
        assert_eq!(mask_unquoted(source, changed), "It was the best of … it was the worst of times");
        assert_eq!(mask_unquoted(source, source), source, "a full quote shows the quote");
        assert_eq!(mask_unquoted("one two three four", "one four"), "one … four", "a run is one mark");
    }

    /// Brute-force oracle: is `a` a subsequence of `b`?
    fn is_subsequence(a: &[String], b: &[String]) -> bool {
        let mut it = b.iter();
        a.iter().all(|x| it.any(|y| y == x))
    }

    fn key(w: &str) -> String {
        w.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect()
    }

    proptest! {
        /// Whatever the caller sends, every word shown is one of the
        /// caller's own, in the caller's order, and the source is never
        /// longer than it was.
        #[test]
        fn shown_words_are_a_subsequence_of_the_quote(
            source in proptest::collection::vec("[a-dA-D]{1,3}[,.]?", 0..30),
            quoted in proptest::collection::vec("[a-dA-D]{1,3}", 0..30),
        ) {
            let (source, quoted) = (source.join(" "), quoted.join(" "));
            let shown = mask_unquoted(&source, &quoted);
            let shown_keys: Vec<String> = shown.split_whitespace().filter(|w| *w != "…").map(key).collect();
            let quoted_keys: Vec<String> = quoted.split_whitespace().map(key).collect();
            prop_assert!(is_subsequence(&shown_keys, &quoted_keys), "{shown:?} from {quoted:?}");
            prop_assert!(shown.split_whitespace().count() <= source.split_whitespace().count());
            let source_keys: Vec<String> = source.split_whitespace().map(key).collect();
            prop_assert!(is_subsequence(&shown_keys, &source_keys));
        }
    }
}
