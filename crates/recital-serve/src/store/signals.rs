//! Rights signals posted to the registry (`POST /v1/signals`): a site's
//! `tdmrep.json`, `robots.txt` or `ai.txt`, or a page with its TDMRep
//! header or `<meta>`, as a crawler saved them, with the URL each came from.
//!
//! They take effect as notices do, without an index rebuild: the service
//! keeps the active ones in memory ([`Store::active_signals`]) and applies
//! them to the sources of every scan. Like notices they are filed by
//! rightsholders and admins, seen only by their filer (and admins), and
//! withdrawn rather than deleted.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::error::{SqlContext, StoreError};
use super::sql::{args, Row, Topic, Tx, Value};
use super::works::{cursor, fresh_id};
use super::{check_len, format_rfc3339, now_ms, page_limit, Principal, Scope, Store, Timestamp};

/// Largest signal body: site files are small, and a page is read for its
/// `<meta>` only.
pub const MAX_SIGNAL_BYTES: usize = 1 << 20;

/// A signal as posted. Unknown fields are refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewSignal {
    /// Where it was fetched from: `https://HOST/.well-known/tdmrep.json`,
    /// `https://HOST/robots.txt`, `https://HOST/ai.txt`, or a page.
    pub url: String,
    /// The file's content, or the page's HTML.
    #[serde(default)]
    pub body: String,
    /// The response headers that carry signals (`tdm-reservation`,
    /// `tdm-policy`, `content-type`).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// When it was observed, RFC 3339; default: when it is posted.
    #[serde(default)]
    pub observed: Option<String>,
}

/// Where a signal is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SignalStatus {
    /// Applied to every scan.
    Active,
    /// Taken back by its filer.
    Withdrawn,
}

named_enum!(SignalStatus, "signal status", { Active => "active", Withdrawn => "withdrawn" });

/// A stored signal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RightsSignal {
    /// Unique id (`sig-` and 16 hex digits).
    pub id: String,
    /// Key id of the filer.
    pub owner_key: i64,
    /// Name of that key.
    pub owner_name: String,
    /// Whether the filer's key is an admin's (an admin's signal may lift a
    /// reservation that the index holds; a rightsholder's may only add one).
    pub by_admin: bool,
    /// Where it was fetched from.
    pub url: String,
    /// Its headers.
    pub headers: BTreeMap<String, String>,
    /// Its content.
    pub body: String,
    /// When it was observed, RFC 3339.
    pub observed: String,
    /// Life-cycle state.
    pub status: SignalStatus,
    /// When it was posted.
    pub received_at: Timestamp,
    /// `received_at` in RFC 3339.
    pub received_at_rfc3339: String,
    /// When it was withdrawn.
    pub withdrawn_at: Option<Timestamp>,
}

const SIGNAL_SELECT: &str = "SELECT s.id, s.owner_key, k.name, k.role, s.url, s.headers, s.body, s.observed,
        s.status, s.received_at, s.withdrawn_at
     FROM signals s JOIN api_keys k ON k.id = s.owner_key";

fn signal_row(r: &Row) -> Result<RightsSignal, StoreError> {
    let id: String = r.get(0)?;
    let role: super::Role = r.get(3)?;
    let headers: String = r.get(5)?;
    let received_at: Timestamp = r.get(9)?;
    Ok(RightsSignal {
        headers: serde_json::from_str(&headers)
            .map_err(|e| StoreError::Corrupt(format!("signal {id} headers: {e}")))?,
        id,
        owner_key: r.get(1)?,
        owner_name: r.get(2)?,
        by_admin: role == super::Role::Admin,
        url: r.get(4)?,
        body: r.get(6)?,
        observed: r.get(7)?,
        status: r.get(8)?,
        received_at,
        received_at_rfc3339: format_rfc3339(received_at),
        withdrawn_at: r.get(10)?,
    })
}

fn query_signals(tx: &mut dyn Tx, sql: &str, args: &[Value]) -> Result<Vec<RightsSignal>, StoreError> {
    tx.query(sql, args).ctx("query signals")?.iter().map(signal_row).collect()
}

fn one_signal(tx: &mut dyn Tx, id: &str, owner: Option<i64>) -> Result<Option<RightsSignal>, StoreError> {
    let sql = format!("{SIGNAL_SELECT} WHERE s.id = ?1 AND (CAST(?2 AS BIGINT) IS NULL OR s.owner_key = ?2)");
    Ok(query_signals(tx, &sql, args![id, owner])?.pop())
}

impl NewSignal {
    /// Checks the fields; gives the observation time to store.
    fn checked(&self, now: Timestamp) -> Result<String, StoreError> {
        let url = self.url.trim();
        let web = url.starts_with("https://") || url.starts_with("http://");
        if !web || url.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(StoreError::Invalid(format!(
                "url {:?}: expected the http(s) URL the signal was fetched from",
                url.chars().take(80).collect::<String>()
            )));
        }
        check_len("url", url, 4096)?;
        check_len("body", &self.body, MAX_SIGNAL_BYTES)?;
        if self.headers.len() > 32 {
            return Err(StoreError::Invalid("at most 32 headers".into()));
        }
        for (name, value) in &self.headers {
            check_len("header name", name, 128)?;
            check_len("header value", value, 4096)?;
        }
        match &self.observed {
            None => Ok(format_rfc3339(now)),
            Some(t) => match super::parse_rfc3339(t) {
                Some(ms) => Ok(format_rfc3339(ms)),
                None => Err(StoreError::Invalid(format!("observed {t:?}: expected an RFC 3339 time"))),
            },
        }
    }
}

impl Store {
    /// Stores a signal posted by `who`, active at once. The caller checks
    /// that it parses (the store keeps what it is given).
    pub fn insert_signal(&self, who: &Principal, s: &NewSignal) -> Result<RightsSignal, StoreError> {
        Scope::of(who, "post rights signals")?;
        let now = now_ms();
        let observed = s.checked(now)?;
        let headers = serde_json::to_string(&s.headers).map_err(|e| StoreError::Invalid(e.to_string()))?;
        self.write("insert signal", |tx| {
            let id = fresh_id(tx, "signals", "sig-")?;
            tx.execute(
                "INSERT INTO signals (id, owner_key, url, headers, body, observed, status, received_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'active', ?7)",
                args![id, who.key_id, s.url.trim(), headers, s.body, observed, now],
            )
            .ctx("insert signal")?;
            tx.notify(Topic::Signals)?;
            one_signal(tx, &id, None)?
                .ok_or_else(|| StoreError::Corrupt(format!("signal {id} vanished after insert")))
        })
    }

    /// Withdraws signal `id` for `who` (its filer or an admin); idempotent.
    /// `None` when `who` has no such signal.
    pub fn withdraw_signal(&self, who: &Principal, id: &str) -> Result<Option<RightsSignal>, StoreError> {
        let owner = Scope::of(who, "withdraw rights signals")?.owner();
        let now = now_ms();
        self.write("withdraw signal", |tx| {
            let changed = tx.execute(
                "UPDATE signals SET status = 'withdrawn', withdrawn_at = ?3
                 WHERE id = ?1 AND (CAST(?2 AS BIGINT) IS NULL OR owner_key = ?2) AND status = 'active'",
                args![id, owner, now],
            )?;
            if changed > 0 {
                tx.notify(Topic::Signals)?;
            }
            one_signal(tx, id, owner)
        })
    }

    /// Signals visible to `who`, oldest first; paging as [`Store::list_works`].
    pub fn list_signals(
        &self,
        who: &Principal,
        limit: usize,
        after: Option<&str>,
    ) -> Result<Vec<RightsSignal>, StoreError> {
        let owner = Scope::of(who, "list rights signals")?.owner();
        self.read("list signals", |tx| {
            let from = match after {
                None => 0,
                Some(a) => cursor(tx, "signals", a, owner)?,
            };
            let sql = format!(
                "{SIGNAL_SELECT} WHERE (CAST(?1 AS BIGINT) IS NULL OR s.owner_key = ?1) AND s.seq > ?2 ORDER BY s.seq LIMIT ?3"
            );
            query_signals(tx, &sql, args![owner, from, page_limit(limit) as i64])
        })
    }

    /// Every active signal, oldest first: what the service applies.
    pub fn active_signals(&self) -> Result<Vec<RightsSignal>, StoreError> {
        self.read("active signals", |tx| {
            query_signals(tx, &format!("{SIGNAL_SELECT} WHERE s.status = 'active' ORDER BY s.seq"), args![])
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::super::tests::fixture;
    use super::*;

    fn robots(url: &str) -> NewSignal {
        NewSignal {
            url: url.into(),
            body: "User-agent: GPTBot\nDisallow: /\n".into(),
            headers: BTreeMap::new(),
            observed: Some("2026-03-01T00:00:00Z".into()),
        }
    }

    #[test]
    pub(crate) fn signals_are_filed_listed_and_withdrawn_per_tenant() {
        let f = fixture();
        let a = f.store.insert_signal(&f.rh_a, &robots("https://a.example/robots.txt")).unwrap();
        assert_eq!(
            (a.status, a.observed.as_str(), a.by_admin),
            (SignalStatus::Active, "2026-03-01T00:00:00.000Z", false)
        );
        let mut h = BTreeMap::new();
        h.insert("tdm-reservation".to_string(), "1".to_string());
        let page =
            NewSignal { url: "https://b.example/p".into(), body: String::new(), headers: h, observed: None };
        let b = f.store.insert_signal(&f.admin, &page).unwrap();
        assert!(b.by_admin);
        assert_eq!(b.headers["tdm-reservation"], "1");
        assert_eq!(f.store.list_signals(&f.rh_a, 10, None).unwrap(), std::slice::from_ref(&a));
        assert!(f.store.list_signals(&f.rh_b, 10, None).unwrap().is_empty());
        assert_eq!(f.store.list_signals(&f.admin, 10, None).unwrap().len(), 2);
        assert_eq!(f.store.list_signals(&f.admin, 1, Some(&a.id)).unwrap(), std::slice::from_ref(&b));
        assert!(matches!(f.store.insert_signal(&f.client, &page), Err(StoreError::Forbidden(_))));
        assert_eq!(f.store.withdraw_signal(&f.rh_b, &a.id).unwrap(), None, "not B's");
        let w = f.store.withdraw_signal(&f.rh_a, &a.id).unwrap().unwrap();
        assert_eq!(w.status, SignalStatus::Withdrawn);
        assert_eq!(f.store.withdraw_signal(&f.rh_a, &a.id).unwrap().unwrap().withdrawn_at, w.withdrawn_at);
        assert_eq!(f.store.active_signals().unwrap(), [b]);
    }

    #[test]
    pub(crate) fn invalid_signals_are_refused() {
        let f = fixture();
        for url in ["", "example.org/robots.txt", "ftp://a/robots.txt", "https://a.example/x y"] {
            assert!(
                matches!(f.store.insert_signal(&f.admin, &robots(url)), Err(StoreError::Invalid(_))),
                "{url:?}"
            );
        }
        let late = NewSignal { observed: Some("yesterday".into()), ..robots("https://a.example/robots.txt") };
        assert!(matches!(f.store.insert_signal(&f.admin, &late), Err(StoreError::Invalid(_))));
        let big =
            NewSignal { body: "x".repeat(MAX_SIGNAL_BYTES + 1), ..robots("https://a.example/robots.txt") };
        assert!(matches!(f.store.insert_signal(&f.admin, &big), Err(StoreError::Invalid(_))));
    }
}
