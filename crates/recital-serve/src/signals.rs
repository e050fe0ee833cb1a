//! Rights signals in force: the registry's active signals
//! ([`crate::store::Store::active_signals`]) read once into memory and
//! applied to the sources of every scan before the policy decides, so that
//! a signal takes effect when it is posted, as a notice does, without an
//! index rebuild.
//!
//! What a signal changes: for a source whose URL it covers, the fields it
//! speaks to (`tdm_opt_out`, `tdm_policy`), resolved among the posted
//! signals by the documented precedence (`recital_rights::Signal`). A
//! posted signal is the newest statement about the source, so it decides
//! over what the index was built with; the index's statements stay in the
//! source's provenance, no longer applied, and the statement of reasons
//! cites the posted one. One limit: only an admin's signal may *lift* a
//! reservation the index holds. A rightsholder can reserve its works at
//! once, but cannot, by posting a permissive robots.txt for someone else's
//! site, unblock their text.

use std::collections::HashSet;

use recital_detect::report::Source;
use recital_detect::ScanReport;
use recital_index::Provenance;
use recital_rights::WebSignals;

use crate::store::RightsSignal;

/// The fields a posted signal can decide.
const FIELDS: [&str; 2] = ["tdm_opt_out", "tdm_policy"];

/// Active signals, ready to apply.
#[derive(Default)]
pub struct LiveSignals {
    web: WebSignals,
    /// URLs (as parsed) of the signals admins posted.
    by_admin: HashSet<String>,
    count: usize,
}

impl LiveSignals {
    /// Reads the active signals, oldest first (a later file of a site
    /// replaces an earlier one). One that no longer parses is skipped and
    /// logged: it was checked when posted.
    pub fn new(signals: &[RightsSignal]) -> LiveSignals {
        let mut live = LiveSignals::default();
        for s in signals {
            let headers: Vec<(String, String)> = s.headers.clone().into_iter().collect();
            if let Err(e) = live.web.add(&s.url, Some(&s.observed), &headers, s.body.as_bytes()) {
                tracing::error!(signal = %s.id, "a stored rights signal is not applied: {e}");
                continue;
            }
            if s.by_admin {
                live.by_admin.insert(canonical(&s.url));
            }
            live.count += 1;
        }
        live
    }

    /// Signals in force.
    pub fn len(&self) -> usize {
        self.count
    }

    /// True if there are none.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// What the signals in force say about the source at `url`, every
    /// statement with its provenance (the console's check of one URL).
    pub fn record_for(&self, url: &str) -> Option<recital_rights::RightsRecord> {
        self.web.record_for(url)
    }

    /// Applies the signals to every source of `report`.
    pub fn apply(&self, report: &mut ScanReport) {
        if self.is_empty() {
            return;
        }
        for span in report.spans.iter_mut().chain(report.open.iter_mut()) {
            for src in &mut span.sources {
                self.apply_to(src);
            }
        }
    }

    fn apply_to(&self, src: &mut Source) {
        // The source's URL, or its id where that is one (a crawl's JSONL).
        let web = |u: &&str| u.starts_with("https://") || u.starts_with("http://");
        let url = src.url.as_deref().or_else(|| Some(src.doc_id.as_str()).filter(web));
        let Some(record) = url.and_then(|u| self.web.record_for(u)) else {
            return;
        };
        let mut decided: Vec<&str> = Vec::new();
        if let Some(reserved) = record.tdm_opt_out {
            let lifts = src.tdm_opt_out && !reserved;
            let by_admin = record
                .provenance
                .iter()
                .find(|p| p.applied && p.field == "tdm_opt_out")
                .is_some_and(|p| self.by_admin.contains(&canonical(&p.source)));
            if !lifts || by_admin {
                src.tdm_opt_out = reserved;
                decided.push("tdm_opt_out");
            }
        }
        if let Some(policy) = record.tdm_policy {
            src.tdm_policy = Some(policy);
            decided.push("tdm_policy");
        }
        merge_provenance(&mut src.provenance, record.provenance, &decided);
    }
}

/// The posted statements first (applied where they decided), then the
/// index's, those about a field the posted ones decided no longer applied.
fn merge_provenance(index: &mut Vec<Provenance>, posted: Vec<Provenance>, decided: &[&str]) {
    for p in index.iter_mut().filter(|p| decided.contains(&p.field.as_str())) {
        p.applied = false;
    }
    let posted = posted.into_iter().filter(|p| FIELDS.contains(&p.field.as_str())).map(|mut p| {
        p.applied &= decided.contains(&p.field.as_str());
        p
    });
    let mut merged: Vec<Provenance> = posted.collect();
    merged.append(index);
    *index = merged;
}

/// A URL as the signal reader writes it (so that a filer's URL and a
/// provenance `source` compare equal).
fn canonical(url: &str) -> String {
    reqwest::Url::parse(url).map(|u| u.to_string()).unwrap_or_else(|_| url.to_string())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::store::SignalStatus;

    fn signal(url: &str, body: &str, by_admin: bool) -> RightsSignal {
        RightsSignal {
            id: "sig-1".into(),
            owner_key: 1,
            owner_name: "k".into(),
            by_admin,
            url: url.into(),
            headers: BTreeMap::new(),
            body: body.into(),
            observed: "2026-03-01T00:00:00Z".into(),
            status: SignalStatus::Active,
            received_at: 0,
            received_at_rfc3339: String::new(),
            withdrawn_at: None,
        }
    }

    fn source(url: &str, tdm_opt_out: bool) -> Source {
        Source {
            doc_id: "d".into(),
            path: None,
            license: "MIT".into(),
            holder: None,
            url: Some(url.into()),
            tdm_opt_out,
            jurisdictions: vec!["*".into()],
            category: None,
            tdm_policy: None,
            iscc: None,
            provenance: vec![Provenance {
                signal: "sidecar".into(),
                field: "tdm_opt_out".into(),
                value: tdm_opt_out.to_string(),
                source: "rights.jsonl".into(),
                observed: None,
                detail: None,
                applied: true,
            }],
            source_byte_start: 0,
            source_byte_end: 0,
            snippet: String::new(),
            snippet_hit: [0, 0],
        }
    }

    const SHUT_OUT: &str = "User-agent: GPTBot\nDisallow: /\n";
    const LET_IN: &str = "User-agent: GPTBot\nAllow: /\n";

    #[test]
    fn a_posted_reservation_applies_and_is_cited_first() {
        let live = LiveSignals::new(&[signal("https://example.org/robots.txt", SHUT_OUT, false)]);
        assert_eq!(live.len(), 1);
        let mut s = source("https://example.org/manual", false);
        live.apply_to(&mut s);
        assert!(s.tdm_opt_out);
        let first = &s.provenance[0];
        assert_eq!((first.signal.as_str(), first.applied), ("robots.txt", true));
        assert!(first.citation().contains("example.org"), "{}", first.citation());
        assert!(!s.provenance[1].applied, "the index's statement is kept, no longer applied");
        let mut other = source("https://elsewhere.org/a", false);
        live.apply_to(&mut other);
        assert!(!other.tdm_opt_out && other.provenance.len() == 1, "another site is untouched");
        let mut by_id = Source { doc_id: "https://example.org/page".into(), url: None, ..source("", false) };
        live.apply_to(&mut by_id);
        assert!(by_id.tdm_opt_out, "a source whose id is its URL");
    }

    #[test]
    fn only_an_admin_lifts_a_reservation_the_index_holds() {
        let rh = LiveSignals::new(&[signal("https://example.org/robots.txt", LET_IN, false)]);
        let mut s = source("https://example.org/essay", true);
        rh.apply_to(&mut s);
        assert!(s.tdm_opt_out, "a rightsholder's signal cannot lift it");
        assert!(s.provenance.iter().all(|p| p.signal != "robots.txt" || !p.applied));
        assert!(s.provenance.iter().any(|p| p.signal == "sidecar" && p.applied));
        let admin = LiveSignals::new(&[signal("https://example.org/robots.txt", LET_IN, true)]);
        let mut s = source("https://example.org/essay", true);
        admin.apply_to(&mut s);
        assert!(!s.tdm_opt_out, "an admin's can");
    }

    #[test]
    fn an_unreadable_stored_signal_is_skipped() {
        let live = LiveSignals::new(&[signal("https://example.org/.well-known/tdmrep.json", "{oops", true)]);
        assert!(live.is_empty());
    }
}
