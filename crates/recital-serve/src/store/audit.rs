//! The audit log: one record per annotate, redact or block decision, with
//! its reasons (when, which key, which rules, which sources), queried by
//! admins. Append-only, enforced by triggers in the schema, so that neither
//! a bug nor a crafted request can rewrite history through this module.
//!
//! Rules and sources are kept twice: as JSON lists in the record (returned
//! as they were given) and one row each in `audit_rules` / `audit_sources`,
//! which index "every decision that cited rule R / document D" — the query
//! a rightsholder's evidence request or a policy review needs.

use serde::{Deserialize, Serialize};

use super::error::{SqlContext, StoreError};
use super::sql::{args, Row, Tx, Value};
use super::{format_rfc3339, from_json_list, to_json_list, Store, Timestamp};

/// Records returned by a query that gives no limit.
pub const AUDIT_DEFAULT_LIMIT: usize = 100;
/// Most records one query returns.
pub const AUDIT_MAX_LIMIT: usize = 1000;

/// One decision, as the service records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// When the decision was made.
    pub at: Timestamp,
    /// The caller's key id (none for unauthenticated internal calls).
    pub key_id: Option<i64>,
    /// The caller's key name (kept as written: keys can be renamed or revoked later).
    pub key_name: Option<String>,
    /// Which endpoint decided (`/v1/scan`, `/v1/chat/completions`, …).
    pub endpoint: String,
    /// The jurisdiction the policy was applied for.
    pub jurisdiction: String,
    /// `annotate`, `redact` or `block`.
    pub action: String,
    /// The policy rules that fired.
    pub rules: Vec<String>,
    /// Document ids of the matched sources.
    pub sources: Vec<String>,
    /// The statement of reasons given to the caller.
    pub statement: String,
    /// The channels of the output whose spans were flagged (`text`,
    /// `reasoning`, `tool_arguments[0]`, …).
    #[serde(default)]
    pub channels: Vec<String>,
    /// The request id, to join with logs.
    pub request_id: String,
    /// Size of the scanned text (not the text: the log must not become a copy of it).
    pub input_bytes: u64,
}

/// A stored decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// Sequence number; newer records have larger ids.
    pub id: i64,
    /// `at` in RFC 3339.
    pub at_rfc3339: String,
    /// The decision.
    #[serde(flatten)]
    pub entry: AuditEntry,
}

/// Filters for [`Store::query_audit`]; all optional and combined with AND.
/// Deserialises from a query string's fields.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuditQuery {
    /// Records at or after this time.
    pub since: Option<Timestamp>,
    /// Records strictly before this time.
    pub until: Option<Timestamp>,
    /// Only this action.
    pub action: Option<String>,
    /// Only this key's decisions.
    pub key_name: Option<String>,
    /// Only decisions that cited this rule.
    pub rule: Option<String>,
    /// Only decisions that matched this document id.
    pub source: Option<String>,
    /// At most this many ([`AUDIT_DEFAULT_LIMIT`] when absent, clamped to
    /// `1..=`[`AUDIT_MAX_LIMIT`]).
    pub limit: Option<usize>,
    /// Only records with a smaller id: pass the last id of the previous page.
    pub before_id: Option<i64>,
}

impl AuditEntry {
    fn check(&self) -> Result<(), StoreError> {
        if self.action.is_empty() || self.endpoint.is_empty() {
            return Err(StoreError::Invalid("an audit record needs an action and an endpoint".into()));
        }
        Ok(())
    }
}

fn insert(tx: &mut dyn Tx, e: &AuditEntry) -> Result<i64, StoreError> {
    e.check()?;
    let row = tx
        .query_one(
            "INSERT INTO audit (at, key_id, key_name, endpoint, jurisdiction, action, rules, sources, statement,
                                request_id, input_bytes, channels)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
             RETURNING id",
            args![
                e.at,
                e.key_id,
                e.key_name,
                e.endpoint,
                e.jurisdiction,
                e.action,
                to_json_list(&e.rules),
                to_json_list(&e.sources),
                e.statement,
                e.request_id,
                i64::try_from(e.input_bytes).unwrap_or(i64::MAX),
                to_json_list(&e.channels)
            ],
        )
        .ctx("append audit")?;
    let id: i64 = row.get(0)?;
    for r in &e.rules {
        tx.execute(
            "INSERT INTO audit_rules (rule, audit_id) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
            args![r, id],
        )
        .ctx("append audit rule")?;
    }
    for s in &e.sources {
        tx.execute(
            "INSERT INTO audit_sources (doc_id, audit_id) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
            args![s, id],
        )
        .ctx("append audit source")?;
    }
    Ok(id)
}

impl Store {
    /// Appends one decision; returns its id.
    pub fn append_audit(&self, e: &AuditEntry) -> Result<i64, StoreError> {
        self.write("append audit", |tx| insert(tx, e))
    }

    /// Appends decisions in one transaction (one `fsync` for all): for a
    /// service that buffers records. All or none are stored. Returns their ids.
    pub fn append_audit_batch(&self, entries: &[AuditEntry]) -> Result<Vec<i64>, StoreError> {
        if entries.is_empty() {
            return Ok(Vec::new());
        }
        self.write("append audit batch", |tx| entries.iter().map(|e| insert(tx, e)).collect())
    }

    /// Decisions matching `q`, newest first. The caller must be an admin:
    /// this method does not check (the HTTP layer does).
    pub fn query_audit(&self, q: &AuditQuery) -> Result<Vec<AuditRecord>, StoreError> {
        let mut sql = String::from(
            "SELECT a.id, a.at, a.key_id, a.key_name, a.endpoint, a.jurisdiction, a.action, a.rules, a.sources,
                    a.statement, a.request_id, a.input_bytes, a.channels
             FROM audit a WHERE 1 = 1",
        );
        let mut args: Vec<Value> = Vec::new();
        // `cond` has one `?`: it becomes the next numbered placeholder.
        let mut filter = |cond: &str, v: Value| {
            args.push(v);
            sql.push_str(" AND ");
            sql.push_str(&cond.replace('?', &format!("?{}", args.len())));
        };
        if let Some(t) = q.since {
            filter("a.at >= ?", Value::Int(t));
        }
        if let Some(t) = q.until {
            filter("a.at < ?", Value::Int(t));
        }
        if let Some(a) = &q.action {
            filter("a.action = ?", Value::Text(a.clone()));
        }
        if let Some(k) = &q.key_name {
            filter("a.key_name = ?", Value::Text(k.clone()));
        }
        if let Some(r) = &q.rule {
            filter("a.id IN (SELECT audit_id FROM audit_rules WHERE rule = ?)", Value::Text(r.clone()));
        }
        if let Some(s) = &q.source {
            filter("a.id IN (SELECT audit_id FROM audit_sources WHERE doc_id = ?)", Value::Text(s.clone()));
        }
        if let Some(b) = q.before_id {
            filter("a.id < ?", Value::Int(b));
        }
        let limit = q.limit.unwrap_or(AUDIT_DEFAULT_LIMIT).clamp(1, AUDIT_MAX_LIMIT);
        args.push(Value::Int(limit as i64));
        sql.push_str(&format!(" ORDER BY a.id DESC LIMIT ?{}", args.len()));

        let rows = self.read("query audit", |tx| tx.query(&sql, &args))?;
        rows.iter().map(audit_row).collect()
    }
}

fn audit_row(r: &Row) -> Result<AuditRecord, StoreError> {
    let id: i64 = r.get(0)?;
    let at: Timestamp = r.get(1)?;
    let input_bytes: i64 = r.get(11)?;
    let list = |i: usize, what: &str| -> Result<Vec<String>, StoreError> {
        from_json_list(&r.get::<String>(i)?, &format!("audit {id} {what}"))
    };
    Ok(AuditRecord {
        id,
        at_rfc3339: format_rfc3339(at),
        entry: AuditEntry {
            at,
            key_id: r.get(2)?,
            key_name: r.get(3)?,
            endpoint: r.get(4)?,
            jurisdiction: r.get(5)?,
            action: r.get(6)?,
            rules: list(7, "rules")?,
            sources: list(8, "sources")?,
            statement: r.get(9)?,
            request_id: r.get(10)?,
            input_bytes: input_bytes.max(0) as u64,
            channels: list(12, "channels")?,
        },
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn entry(at: Timestamp, key: &str, action: &str, rules: &[&str], sources: &[&str]) -> AuditEntry {
        AuditEntry {
            at,
            key_id: Some(1),
            key_name: Some(key.into()),
            endpoint: "/v1/scan".into(),
            jurisdiction: "DE".into(),
            action: action.into(),
            rules: rules.iter().map(|s| s.to_string()).collect(),
            sources: sources.iter().map(|s| s.to_string()).collect(),
            statement: format!("{action} because {rules:?}"),
            request_id: format!("req-{at}"),
            input_bytes: 123,
            channels: vec!["text".into()],
        }
    }

    fn ids(recs: Vec<AuditRecord>) -> Vec<Timestamp> {
        recs.into_iter().map(|r| r.entry.at).collect()
    }

    fn seeded() -> Store {
        let store = crate::store::tests::test_store();
        store
            .append_audit_batch(&[
                entry(1000, "alice", "block", &["lyrics-11-words"], &["song-1"]),
                entry(2000, "bob", "redact", &["nc-license", "long-span"], &["book-1", "book-2"]),
                entry(3000, "alice", "annotate", &["attribution"], &["book-2"]),
                entry(4000, "bob", "block", &["lyrics-11-words", "long-span"], &["song-1", "song-1"]),
            ])
            .unwrap();
        store.append_audit(&entry(5000, "carol", "redact", &[], &[])).unwrap();
        store
    }

    #[test]
    pub(crate) fn round_trips_a_record() {
        let store = crate::store::tests::test_store();
        let e = entry(1_712_320_496_789, "alice", "block", &["r1", "r1"], &["d1"]);
        let id = store.append_audit(&e).unwrap();
        let got = store.query_audit(&AuditQuery::default()).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!((got[0].id, &got[0].entry), (id, &e), "rules come back as given, duplicates included");
        assert_eq!(got[0].at_rfc3339, "2024-04-05T12:34:56.789Z");
        let json = serde_json::to_value(&got[0]).unwrap();
        assert_eq!(json["action"], "block");
        assert_eq!(json["id"], id);
    }

    #[test]
    pub(crate) fn filters_combine() {
        let store = seeded();
        let q = |f: fn(&mut AuditQuery)| {
            let mut q = AuditQuery::default();
            f(&mut q);
            ids(store.query_audit(&q).unwrap())
        };
        assert_eq!(q(|_| {}), [5000, 4000, 3000, 2000, 1000]);
        assert_eq!(q(|q| q.action = Some("block".into())), [4000, 1000]);
        assert_eq!(q(|q| q.key_name = Some("alice".into())), [3000, 1000]);
        assert_eq!(q(|q| q.rule = Some("long-span".into())), [4000, 2000]);
        assert_eq!(q(|q| q.source = Some("book-2".into())), [3000, 2000]);
        assert_eq!(q(|q| q.source = Some("song-1".into())), [4000, 1000]);
        assert_eq!(
            q(|q| {
                q.since = Some(2000);
                q.until = Some(4000);
            }),
            [3000, 2000],
            "since is inclusive, until exclusive"
        );
        assert_eq!(
            q(|q| {
                q.rule = Some("lyrics-11-words".into());
                q.key_name = Some("bob".into());
            }),
            [4000]
        );
        assert_eq!(q(|q| q.rule = Some("nope".into())), Vec::<Timestamp>::new());
    }

    #[test]
    pub(crate) fn pages_newest_first_without_gaps() {
        let store = crate::store::tests::test_store();
        let batch: Vec<AuditEntry> = (0..25).map(|i| entry(i, "k", "block", &["r"], &["d"])).collect();
        store.append_audit_batch(&batch).unwrap();
        let mut seen = Vec::new();
        let mut before = None;
        for _ in 0..10 {
            let page = store
                .query_audit(&AuditQuery {
                    limit: Some(10),
                    before_id: before,
                    rule: Some("r".into()),
                    ..Default::default()
                })
                .unwrap();
            if page.is_empty() {
                break;
            }
            assert!(page.len() <= 10);
            before = page.last().map(|r| r.id);
            seen.extend(ids(page));
        }
        assert_eq!(seen, (0..25).rev().collect::<Vec<_>>());
        let one = store.query_audit(&AuditQuery { limit: Some(0), ..Default::default() }).unwrap();
        assert_eq!(one.len(), 1, "limit 0 is clamped to 1");
    }

    #[test]
    pub(crate) fn default_and_max_limits() {
        let store = crate::store::tests::test_store();
        let batch: Vec<AuditEntry> = (0..1100).map(|i| entry(i, "k", "block", &[], &[])).collect();
        store.append_audit_batch(&batch).unwrap();
        assert_eq!(store.query_audit(&AuditQuery::default()).unwrap().len(), AUDIT_DEFAULT_LIMIT);
        let all = AuditQuery { limit: Some(5000), ..Default::default() };
        assert_eq!(store.query_audit(&all).unwrap().len(), AUDIT_MAX_LIMIT);
    }

    #[test]
    pub(crate) fn the_log_is_append_only() {
        let store = seeded();
        let exec = |sql: &str| store.write("tamper", |tx| tx.execute(sql, args![]));
        assert!(exec("UPDATE audit SET action = 'allow'").is_err());
        assert!(exec("DELETE FROM audit").is_err());
        assert!(exec("DELETE FROM audit_rules").is_err());
        assert!(exec("UPDATE audit_sources SET doc_id = 'x'").is_err());
        let n: i64 =
            store.read("count", |tx| tx.query_one("SELECT count(*) FROM audit", args![])?.get(0)).unwrap();
        assert_eq!(n, 5);
    }

    #[test]
    pub(crate) fn a_bad_entry_fails_the_whole_batch() {
        let store = crate::store::tests::test_store();
        let mut bad = entry(2, "k", "", &[], &[]);
        bad.action.clear();
        let e = store.append_audit_batch(&[entry(1, "k", "block", &[], &[]), bad]);
        assert!(matches!(e, Err(StoreError::Invalid(_))));
        assert!(store.query_audit(&AuditQuery::default()).unwrap().is_empty());
    }

    #[test]
    pub(crate) fn query_deserialises_from_params_and_refuses_typos() {
        let q: AuditQuery = serde_json::from_str(r#"{"action": "block", "limit": 5}"#).unwrap();
        assert_eq!((q.action.as_deref(), q.limit, q.since), (Some("block"), Some(5), None));
        assert!(serde_json::from_str::<AuditQuery>(r#"{"acton": "block"}"#).is_err());
    }
}
