//! What every handler shares.

use std::collections::HashSet;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, RwLock};

use recital_detect::ScanOptions;
use recital_policy::Policy;
use recital_rights::TextCode;

use crate::auth::{AuthMode, KeyCache, RateLimiter};
use crate::config::ServeConfig;
use crate::corpus::Corpus;
use crate::metrics::Metrics;
use crate::store::{AuditEntry, NoticeTarget, Store};

/// Shared state of the service.
pub struct AppState {
    /// Settings.
    pub config: ServeConfig,
    /// The corpus index.
    pub corpus: Corpus,
    /// The policy.
    pub policy: Policy,
    /// Scan thresholds (derived from the policy so that every span it can act on is reported).
    pub scan_options: ScanOptions,
    /// Registry, notices, keys and audit log.
    pub store: Arc<Store>,
    /// Sources under an active notice.
    pub notified: RwLock<Arc<Notified>>,
    /// Rights signals posted to the registry, applied to every scan.
    pub signals: RwLock<Arc<crate::signals::LiveSignals>>,
    /// Authentication mode.
    pub auth: AuthMode,
    /// Verified keys.
    pub keys: KeyCache,
    /// Rate limits.
    pub rate: RateLimiter,
    /// Metrics.
    pub metrics: Metrics,
    /// Client for the upstream model server.
    pub http: reqwest::Client,
    /// Audit entries on their way to the store (written in batches).
    pub audit_tx: tokio::sync::mpsc::Sender<AuditEntry>,
    /// False while shutting down.
    pub ready: AtomicBool,
}

impl AppState {
    /// The current notified set.
    pub fn notified(&self) -> Arc<Notified> {
        self.notified.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The signals in force.
    pub fn signals(&self) -> Arc<crate::signals::LiveSignals> {
        self.signals.read().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// Sources under an active notice, by corpus document id, URL or ISCC
/// Text-Code, with the jurisdictions each notice is limited to (empty:
/// everywhere).
#[derive(Debug, Default)]
pub struct Notified {
    entries: Vec<(NoticeKey, Vec<String>)>,
    doc_ids: HashSet<String>,
    urls: HashSet<String>,
    /// Whether any entry is an ISCC (a source's code is parsed only then).
    by_iscc: bool,
}

#[derive(Debug)]
enum NoticeKey {
    Doc(String),
    Url(String),
    /// A Text-Code: it matches the same code and near ones.
    Iscc(TextCode),
}

impl Notified {
    /// Builds the set from the targets of active notices.
    pub fn new<'a>(targets: impl IntoIterator<Item = (&'a NoticeTarget, &'a [String])>) -> Self {
        let mut n = Notified::default();
        for (t, jur) in targets {
            let key = match t {
                NoticeTarget::Work { work_id } => NoticeKey::Doc(work_id.clone()),
                NoticeTarget::Document { doc_id } => NoticeKey::Doc(doc_id.clone()),
                NoticeTarget::Url { url } => NoticeKey::Url(url.clone()),
                NoticeTarget::Iscc { iscc } => match TextCode::parse(iscc) {
                    Ok(code) => NoticeKey::Iscc(code),
                    Err(e) => {
                        // The store checked it on the way in: a row edited by hand.
                        tracing::error!("a notice's ISCC is unreadable and is not honoured: {e}");
                        continue;
                    }
                },
            };
            match &key {
                NoticeKey::Doc(d) => n.doc_ids.insert(d.clone()),
                NoticeKey::Url(u) => n.urls.insert(u.clone()),
                NoticeKey::Iscc(_) => {
                    n.by_iscc = true;
                    true
                }
            };
            n.entries.push((key, jur.iter().map(|j| j.to_ascii_uppercase()).collect()));
        }
        n
    }

    /// True if a source with this id, URL and ISCC Text-Code is under a
    /// notice that applies in `jurisdiction` (`in_scope` decides membership
    /// of a notice's jurisdiction list, so that groups such as `EU` resolve
    /// as the policy defines them). A notice by ISCC covers the sources whose
    /// code is near its own.
    pub fn contains(
        &self,
        doc_id: &str,
        url: Option<&str>,
        iscc: Option<&str>,
        in_scope: &dyn Fn(&[String]) -> bool,
    ) -> bool {
        let hit_doc = self.doc_ids.contains(doc_id);
        let hit_url = url.is_some_and(|u| self.urls.contains(u));
        let code = iscc.filter(|_| self.by_iscc).and_then(|c| TextCode::parse(c).ok());
        if !hit_doc && !hit_url && code.is_none() {
            return false;
        }
        self.entries.iter().any(|(k, jur)| {
            let same = match k {
                NoticeKey::Doc(d) => d == doc_id,
                NoticeKey::Url(u) => Some(u.as_str()) == url,
                NoticeKey::Iscc(c) => code.as_ref().is_some_and(|code| c.is_near(code)),
            };
            same && (jur.is_empty() || jur.iter().any(|j| j == "*") || in_scope(jur))
        })
    }

    /// Number of notice entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True if there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn in_no_list(_: &[String]) -> bool {
        false
    }

    /// A notice by ISCC covers sources whose code is near its own (a few
    /// bits apart), not others; sources without a code are matched by id
    /// and URL only.
    #[test]
    fn an_iscc_notice_covers_near_codes() {
        let words = |seed: u64| -> Vec<String> {
            let mut x = seed;
            (0..1000)
                .map(|_| {
                    x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    format!("w{}", (x >> 33) % 500)
                })
                .collect()
        };
        let mut text = words(7);
        let code = TextCode::of_text(&text.join(" ")).unwrap();
        text[500] = "changed".into();
        let edited = TextCode::of_text(&text.join(" ")).unwrap();
        let other = TextCode::of_text(&words(8).join(" ")).unwrap();
        assert!(code.is_near(&edited) && !code.is_near(&other));
        let iscc = NoticeTarget::Iscc { iscc: code.as_str().to_string() };
        let doc = NoticeTarget::Document { doc_id: "d1".into() };
        let none: &[String] = &[];
        let de = ["DE".to_string()];
        let n = Notified::new([(&iscc, none), (&doc, &de[..])]);
        assert_eq!(n.len(), 2);
        assert!(n.contains("x", None, Some(code.as_str()), &in_no_list));
        assert!(n.contains("x", None, Some(edited.as_str()), &in_no_list), "a near copy");
        assert!(!n.contains("x", None, Some(other.as_str()), &in_no_list));
        assert!(!n.contains("x", None, Some("not a code"), &in_no_list));
        assert!(!n.contains("x", None, None, &in_no_list));
        assert!(!n.contains("d1", None, None, &in_no_list), "limited to DE");
        assert!(n.contains("d1", None, None, &|j: &[String]| j.contains(&"DE".to_string())));
        let bad = NoticeTarget::Iscc { iscc: "garbage".into() };
        assert!(Notified::new([(&bad, none)]).is_empty(), "an unreadable code is skipped");
    }
}
