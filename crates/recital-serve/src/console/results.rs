//! Scan results at stable URLs (`/console/scans/{request id}`), kept in
//! memory for the retention time the administrator sets
//! (`recital serve --console-retention`), and bounded in number so that a
//! busy console cannot fill the server's memory.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use recital_detect::ScanReport;
use recital_policy::Decision;

use crate::store::Principal;

/// Results kept at most; the oldest go first.
const MAX_RESULTS: usize = 2_000;

/// One scan, as its page shows it.
pub struct StoredScan {
    /// The request id (also in the audit log).
    pub id: String,
    /// Key that ran it.
    pub owner: i64,
    /// The output scanned.
    pub text: String,
    /// The report, snippets already limited.
    pub report: ScanReport,
    /// The decision.
    pub decision: Decision,
    /// When it ran, RFC 3339.
    pub at: String,
    created: Instant,
}

impl StoredScan {
    /// A result created now.
    pub fn new(id: String, owner: i64, text: String, report: ScanReport, decision: Decision) -> StoredScan {
        let at = crate::store::format_rfc3339(crate::store::now_ms());
        StoredScan { id, owner, text, report, decision, at, created: Instant::now() }
    }
}

/// The kept results, oldest first.
pub struct Results {
    retention: Duration,
    items: Mutex<VecDeque<Arc<StoredScan>>>,
}

impl Results {
    /// An empty set that keeps results for `retention`.
    pub fn new(retention: Duration) -> Results {
        Results { retention, items: Mutex::new(VecDeque::new()) }
    }

    /// Keeps a result.
    pub fn put(&self, scan: StoredScan) -> Arc<StoredScan> {
        let scan = Arc::new(scan);
        let mut items = self.items.lock().unwrap_or_else(|p| p.into_inner());
        self.expire(&mut items);
        if items.len() >= MAX_RESULTS {
            items.pop_front();
        }
        items.push_back(scan.clone());
        scan
    }

    /// Result `id` if it is still kept and `who` may see it: the key that
    /// ran it, or an admin (a rightsholder does not read a client's outputs).
    pub fn get(&self, id: &str, who: &Principal) -> Option<Arc<StoredScan>> {
        let mut items = self.items.lock().unwrap_or_else(|p| p.into_inner());
        self.expire(&mut items);
        items.iter().find(|s| s.id == id && (s.owner == who.key_id || who.is_admin())).cloned()
    }

    /// Whether result `id` is still kept (for links from the audit log).
    pub fn has(&self, id: &str) -> bool {
        let items = self.items.lock().unwrap_or_else(|p| p.into_inner());
        items.iter().any(|s| s.id == id && s.created.elapsed() < self.retention)
    }

    fn expire(&self, items: &mut VecDeque<Arc<StoredScan>>) {
        while items.front().is_some_and(|s| s.created.elapsed() >= self.retention) {
            items.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Role;

    fn who(key_id: i64, role: Role) -> Principal {
        Principal {
            key_id,
            name: format!("k{key_id}"),
            role,
            default_jurisdiction: None,
            rate_per_minute: None,
        }
    }

    fn scan(id: &str, owner: i64) -> StoredScan {
        let report = recital_detect::ScanReport {
            schema: recital_detect::report::SCHEMA,
            input_bytes: 0,
            input_chars: 0,
            tokens: 0,
            spans: Vec::new(),
            open: Vec::new(),
            documents: Vec::new(),
            coverage: 0.0,
            exempt_tokens: 0,
            options: recital_detect::report::OptionsUsed {
                min_tokens: 1,
                seed_tokens: 1,
                max_gap: 1,
                boilerplate_count: 1,
                code_min_tokens: 1,
            },
            warnings: Vec::new(),
        };
        let decision = recital_policy::Policy::builtin_default()
            .decide(&report, &recital_policy::Request::from_jurisdiction("EU"));
        StoredScan::new(id.into(), owner, String::new(), report, decision)
    }

    #[test]
    fn a_result_is_for_its_key_and_admins() {
        let r = Results::new(Duration::from_secs(3600));
        r.put(scan("req-1", 1));
        assert!(r.get("req-1", &who(1, Role::Client)).is_some());
        assert!(r.get("req-1", &who(2, Role::Rightsholder)).is_none());
        assert!(r.get("req-1", &who(3, Role::Admin)).is_some());
        assert!(r.get("req-2", &who(1, Role::Client)).is_none());
        assert!(r.has("req-1"));
    }

    #[test]
    fn results_expire_after_the_retention_time() {
        let r = Results::new(Duration::ZERO);
        r.put(scan("req-1", 1));
        assert!(r.get("req-1", &who(1, Role::Admin)).is_none());
        assert!(!r.has("req-1"));
    }
}
