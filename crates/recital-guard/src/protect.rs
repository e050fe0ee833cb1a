//! From which length a copy of a document must not be written: the policy's
//! own decision, asked once per kind of rights and cached.
//!
//! The guard does not restate the policy's rules. It asks the policy to
//! decide a span of each length at which a decision can change
//! ([`Policy::length_thresholds`]), copied from the document alone, and takes
//! the shortest whose action is one the guard prevents. The span is given
//! every benefit of the doubt a copy could have (any number of characters,
//! the whole output), so the guard is never laxer than the filter would be
//! on the finished text.

use std::collections::HashMap;
use std::sync::Mutex;

use recital_detect::report::{DocumentMatch, OptionsUsed, Source, Span};
use recital_detect::{ScanReport, SpanKind};
use recital_index::{Index, Rights, Stream};
use recital_policy::{Action, Policy, Request};

/// What the guard prevents, per document: the shortest copy the policy acts
/// on with one of the prevented actions, in the request's jurisdiction.
pub(crate) struct Protection {
    policy: Policy,
    jurisdiction: String,
    prevent: Vec<Action>,
    by_rights: Mutex<HashMap<RightsKey, Option<usize>>>,
}

/// The rights facts that the policy reads.
#[derive(Clone, PartialEq, Eq, Hash)]
struct RightsKey {
    license: String,
    tdm_opt_out: bool,
    jurisdictions: Vec<String>,
    category: Option<String>,
}

impl Protection {
    pub(crate) fn new(policy: Policy, jurisdiction: &str, prevent: Vec<Action>) -> Self {
        Self {
            policy,
            jurisdiction: jurisdiction.to_string(),
            prevent,
            by_rights: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn policy(&self) -> &Policy {
        &self.policy
    }

    pub(crate) fn jurisdiction(&self) -> &str {
        &self.jurisdiction
    }

    /// The shortest copy of a document with these rights that must not be
    /// written (in normalised tokens); `None` when no copy of it is
    /// prevented.
    pub(crate) fn threshold(&self, rights: &Rights) -> Option<usize> {
        let key = RightsKey {
            license: rights.license.clone(),
            tdm_opt_out: rights.tdm_opt_out,
            jurisdictions: rights.jurisdictions.clone(),
            category: rights.category.clone(),
        };
        let mut cache = self.by_rights.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(t) = cache.get(&key) {
            return *t;
        }
        let t = self.ask(rights);
        cache.insert(key, t);
        t
    }

    /// The threshold of the document at `addr` in `index`; `None` when its
    /// copies are not prevented or it cannot be read.
    pub(crate) fn threshold_of(&self, index: &Index, addr: recital_index::DocAddr) -> Option<usize> {
        let doc = index.doc(addr).ok()?;
        self.threshold(&doc.rights)
    }

    fn ask(&self, rights: &Rights) -> Option<usize> {
        let req = Request::from_jurisdiction(&self.jurisdiction);
        for len in self.policy.length_thresholds() {
            for kind in [SpanKind::Exact, SpanKind::Near] {
                let report = one_span(rights, len, kind);
                let action = self.policy.decide(&report, &req).action;
                if self.prevent.contains(&action) {
                    return Some(len);
                }
            }
        }
        None
    }
}

/// A report with one span of `len` tokens copied from a document with
/// `rights`, as long in characters as any rule could ask and covering the
/// whole output.
fn one_span(rights: &Rights, len: usize, kind: SpanKind) -> ScanReport {
    const CHARS: usize = 1 << 20;
    let source = Source {
        doc_id: "guard-probe".into(),
        path: None,
        license: rights.license.clone(),
        holder: rights.holder.clone(),
        url: rights.url.clone(),
        tdm_opt_out: rights.tdm_opt_out,
        jurisdictions: rights.jurisdictions.clone(),
        category: rights.category.clone(),
        tdm_policy: rights.tdm_policy.clone(),
        iscc: rights.iscc.clone(),
        provenance: rights.provenance.clone(),
        source_byte_start: 0,
        source_byte_end: 0,
        snippet: String::new(),
        snippet_hit: [0, 0],
    };
    let span = Span {
        byte_start: 0,
        byte_end: CHARS,
        char_start: 0,
        char_end: CHARS,
        utf16_start: 0,
        utf16_end: CHARS,
        tokens: len,
        count: 1,
        doc_count: 1,
        kind,
        stream: Stream::Text,
        similarity: 1.0,
        longest_exact_run: len,
        text: String::new(),
        sources: vec![source],
    };
    let document = DocumentMatch {
        doc_id: "guard-probe".into(),
        path: None,
        license: rights.license.clone(),
        coverage: 1.0,
        matched_tokens: len,
        similarity: 1.0,
        longest_exact_run: len,
    };
    ScanReport {
        schema: recital_detect::report::SCHEMA,
        input_bytes: CHARS,
        input_chars: CHARS,
        tokens: len,
        spans: vec![span],
        open: Vec::new(),
        documents: vec![document],
        coverage: 1.0,
        exempt_tokens: 0,
        options: OptionsUsed {
            min_tokens: len,
            seed_tokens: len,
            max_gap: 0,
            boilerplate_count: u64::MAX,
            code_min_tokens: len,
        },
        warnings: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rights(license: &str, opt_out: bool) -> Rights {
        Rights {
            license: license.into(),
            holder: None,
            url: None,
            tdm_opt_out: opt_out,
            jurisdictions: Vec::new(),
            category: None,
            tdm_policy: None,
            iscc: None,
            provenance: Vec::new(),
        }
    }

    #[test]
    fn the_builtin_policy_protects_copyleft_from_its_threshold() {
        let p = Protection::new(Policy::builtin_default(), "DE", vec![Action::Redact, Action::Block]);
        let gpl = p.threshold(&rights("GPL-2.0-only", false));
        let mit = p.threshold(&rights("MIT", false));
        assert!(gpl.is_some(), "GPL copies are redacted by the built-in policy");
        assert_eq!(mit, None, "MIT copies are only annotated");
        // Asked again: the cache gives the same answer.
        assert_eq!(p.threshold(&rights("GPL-2.0-only", false)), gpl);
    }

    #[test]
    fn the_threshold_is_where_the_policy_starts_acting() {
        let toml = r#"
name = "t"
version = 1
default_jurisdiction = "EU"
[jurisdiction_groups]
EU = ["DE", "FR"]
[licenses]
copyleft = ["GPL-*"]
[categories]
prose = { min_tokens = 30 }
[[rules]]
name = "copyleft-in-eu"
jurisdictions = ["EU"]
license_class = ["copyleft"]
action = "redact"
"#;
        let policy = Policy::parse(toml, "t.toml").unwrap();
        let eu = Protection::new(policy.clone(), "DE", vec![Action::Redact, Action::Block]);
        assert_eq!(eu.threshold(&rights("GPL-3.0-only", false)), Some(30));
        let us = Protection::new(policy, "US", vec![Action::Redact, Action::Block]);
        assert_eq!(us.threshold(&rights("GPL-3.0-only", false)), None, "the rule holds in the EU only");
    }
}
