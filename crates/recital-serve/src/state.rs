//! What every handler shares.

use std::collections::HashSet;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, RwLock};

use recital_detect::ScanOptions;
use recital_policy::Policy;

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
}

/// Sources under an active notice, by corpus document id or URL, with the
/// jurisdictions each notice is limited to (empty: everywhere).
#[derive(Debug, Default)]
pub struct Notified {
    entries: Vec<(NoticeKey, Vec<String>)>,
    doc_ids: HashSet<String>,
    urls: HashSet<String>,
}

#[derive(Debug)]
enum NoticeKey {
    Doc(String),
    Url(String),
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
            };
            match &key {
                NoticeKey::Doc(d) => n.doc_ids.insert(d.clone()),
                NoticeKey::Url(u) => n.urls.insert(u.clone()),
            };
            n.entries.push((key, jur.iter().map(|j| j.to_ascii_uppercase()).collect()));
        }
        n
    }

    /// True if a source with this id and URL is under a notice that applies in
    /// `jurisdiction` (`in_scope` decides membership of a notice's jurisdiction
    /// list, so that groups such as `EU` resolve as the policy defines them).
    pub fn contains(&self, doc_id: &str, url: Option<&str>, in_scope: &dyn Fn(&[String]) -> bool) -> bool {
        let hit_doc = self.doc_ids.contains(doc_id);
        let hit_url = url.is_some_and(|u| self.urls.contains(u));
        if !hit_doc && !hit_url {
            return false;
        }
        self.entries.iter().any(|(k, jur)| {
            let same = match k {
                NoticeKey::Doc(d) => d == doc_id,
                NoticeKey::Url(u) => Some(u.as_str()) == url,
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
