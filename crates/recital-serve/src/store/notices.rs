//! Notices (`POST /v1/notices`): a rightsholder asks that a registered work,
//! a document of the corpus, or a URL be acted on.
//!
//! Life cycle: `received` (durable: acknowledge now) → `effective` (the
//! delta shard or the in-memory notified set honours it; `effective_at -
//! received_at` is the notice-to-effect time) → possibly `withdrawn` by its
//! filer or `rejected` by an admin. [`Store::active_notices`] (received or
//! effective) is what the service must honour; it rebuilds its in-memory set
//! from it at startup, so a notice acknowledged before a crash is honoured
//! after it.

use serde::{Deserialize, Serialize};

use super::error::{SqlContext, StoreError};
use super::sql::{args, Row, Topic, Tx, Value};
use super::works::{cursor, fresh_id};
use super::{
    check_len, format_rfc3339, from_json_list, jurisdictions_or_everywhere, now_ms, page_limit, to_json_list,
    Principal, Scope, Store, Timestamp, WorkStatus,
};

/// What a notice is about. JSON: `{"type": "work", "work_id": "work-…"}`,
/// `{"type": "document", "doc_id": "…"}`, `{"type": "url", "url": "…"}` or
/// `{"type": "iscc", "iscc": "ISCC:…"}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum NoticeTarget {
    /// A work registered through the API (the filer's own, unless an admin files).
    Work {
        /// The work's id.
        work_id: String,
    },
    /// A document of the corpus, by its document id in the index.
    Document {
        /// The document id.
        doc_id: String,
    },
    /// A source URL or identifier, as in the corpus's rights metadata.
    Url {
        /// The URL or identifier.
        url: String,
    },
    /// A work by its ISCC Text-Code (ISO 24138): every source whose code is
    /// that one or near it ([`recital_rights::TextCode::is_near`]: a copy,
    /// reformatted or lightly edited), wherever it sits in the corpus.
    Iscc {
        /// The Text-Code, stored as `ISCC:` and upper-case base32.
        iscc: String,
    },
}

impl NoticeTarget {
    fn kind(&self) -> &'static str {
        match self {
            NoticeTarget::Work { .. } => "work",
            NoticeTarget::Document { .. } => "document",
            NoticeTarget::Url { .. } => "url",
            NoticeTarget::Iscc { .. } => "iscc",
        }
    }

    fn value(&self) -> &str {
        match self {
            NoticeTarget::Work { work_id } => work_id,
            NoticeTarget::Document { doc_id } => doc_id,
            NoticeTarget::Url { url } => url,
            NoticeTarget::Iscc { iscc } => iscc,
        }
    }

    fn from_parts(kind: &str, value: String) -> Result<NoticeTarget, StoreError> {
        Ok(match kind {
            "work" => NoticeTarget::Work { work_id: value },
            "document" => NoticeTarget::Document { doc_id: value },
            "url" => NoticeTarget::Url { url: value },
            "iscc" => NoticeTarget::Iscc { iscc: value },
            other => return Err(StoreError::Corrupt(format!("notice target type {other:?}"))),
        })
    }
}

/// Where a notice is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NoticeStatus {
    /// Durable and acknowledged; being put into effect.
    Received,
    /// Honoured by the scanner.
    Effective,
    /// Refused by an admin (see `status_detail`).
    Rejected,
    /// Taken back by its filer.
    Withdrawn,
}

named_enum!(NoticeStatus, "notice status", {
    Received => "received",
    Effective => "effective",
    Rejected => "rejected",
    Withdrawn => "withdrawn",
});

/// A notice as filed. Unknown fields are refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewNotice {
    /// What it is about.
    pub target: NoticeTarget,
    /// Why: the claim, for the record and for reviewers.
    pub reason: String,
    /// The action asked for (`block`, `redact`, `annotate`); policy decides.
    #[serde(default)]
    pub requested_action: Option<String>,
    /// Where it applies; empty means everywhere (`*`).
    #[serde(default)]
    pub jurisdictions: Vec<String>,
    /// How to reach the filer about this notice.
    #[serde(default)]
    pub contact: Option<String>,
}

/// A stored notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    /// Unique id (`ntc-` and 16 hex digits).
    pub id: String,
    /// Key id of the filer.
    pub owner_key: i64,
    /// Name of that key.
    pub owner_name: String,
    /// What it is about.
    pub target: NoticeTarget,
    /// The filer's reason.
    pub reason: String,
    /// The action asked for.
    pub requested_action: Option<String>,
    /// Where it applies (`*` = everywhere).
    pub jurisdictions: Vec<String>,
    /// The filer's contact.
    pub contact: Option<String>,
    /// Life-cycle state.
    pub status: NoticeStatus,
    /// When it became durable (and was acknowledged).
    pub received_at: Timestamp,
    /// `received_at` in RFC 3339.
    pub received_at_rfc3339: String,
    /// When it took effect.
    pub effective_at: Option<Timestamp>,
    /// `effective_at` in RFC 3339.
    pub effective_at_rfc3339: Option<String>,
    /// When it was rejected or withdrawn.
    pub closed_at: Option<Timestamp>,
    /// `closed_at` in RFC 3339.
    pub closed_at_rfc3339: Option<String>,
    /// Why it was rejected, or other detail on its status.
    pub status_detail: Option<String>,
}

impl Notice {
    /// The document id the scanner should flag, when the target names one
    /// (a work's id is its document id). A URL target has none: the service
    /// resolves it against the corpus's rights metadata.
    pub fn doc_id(&self) -> Option<&str> {
        match &self.target {
            NoticeTarget::Work { work_id } => Some(work_id),
            NoticeTarget::Document { doc_id } => Some(doc_id),
            NoticeTarget::Url { .. } | NoticeTarget::Iscc { .. } => None,
        }
    }

    /// Notice-to-effect time in milliseconds, once effective.
    pub fn effect_latency_ms(&self) -> Option<i64> {
        self.effective_at.map(|e| e - self.received_at)
    }

    /// Whether the service must honour it (received or effective).
    pub fn is_active(&self) -> bool {
        matches!(self.status, NoticeStatus::Received | NoticeStatus::Effective)
    }
}

const NOTICE_SELECT: &str = "SELECT n.id, n.owner_key, k.name, n.target_type, n.target, n.reason,
        n.requested_action, n.jurisdictions, n.contact, n.status, n.received_at, n.effective_at, n.closed_at,
        n.status_detail
     FROM notices n JOIN api_keys k ON k.id = n.owner_key";

fn notice_row(r: &Row) -> Result<Notice, StoreError> {
    let id: String = r.get(0)?;
    let received_at: Timestamp = r.get(10)?;
    let effective_at: Option<Timestamp> = r.get(11)?;
    let closed_at: Option<Timestamp> = r.get(12)?;
    let (kind, value, jurisdictions): (String, String, String) = (r.get(3)?, r.get(4)?, r.get(7)?);
    Ok(Notice {
        target: NoticeTarget::from_parts(&kind, value)?,
        jurisdictions: from_json_list(&jurisdictions, &format!("notice {id} jurisdictions"))?,
        id,
        owner_key: r.get(1)?,
        owner_name: r.get(2)?,
        reason: r.get(5)?,
        requested_action: r.get(6)?,
        contact: r.get(8)?,
        status: r.get(9)?,
        received_at,
        received_at_rfc3339: format_rfc3339(received_at),
        effective_at,
        effective_at_rfc3339: effective_at.map(format_rfc3339),
        closed_at,
        closed_at_rfc3339: closed_at.map(format_rfc3339),
        status_detail: r.get(13)?,
    })
}

fn query_notices(tx: &mut dyn Tx, sql: &str, args: &[Value]) -> Result<Vec<Notice>, StoreError> {
    tx.query(sql, args).ctx("query notices")?.iter().map(notice_row).collect()
}

fn one_notice(tx: &mut dyn Tx, id: &str, owner: Option<i64>) -> Result<Option<Notice>, StoreError> {
    let sql = format!("{NOTICE_SELECT} WHERE n.id = ?1 AND (CAST(?2 AS BIGINT) IS NULL OR n.owner_key = ?2)");
    Ok(query_notices(tx, &sql, args![id, owner])?.pop())
}

impl NewNotice {
    /// Checks the fields; gives the jurisdictions and the target's value to
    /// store (an ISCC in its canonical form, so that it compares as written).
    fn checked(&self) -> Result<(Vec<String>, String), StoreError> {
        if self.reason.trim().is_empty() {
            return Err(StoreError::Invalid("reason is empty".into()));
        }
        check_len("reason", &self.reason, 16 * 1024)?;
        let target = self.target.value();
        if target.trim().is_empty() || target.chars().any(char::is_control) {
            return Err(StoreError::Invalid(format!(
                "{} target is empty or has control characters",
                self.target.kind()
            )));
        }
        check_len("target", target, 4096)?;
        if let Some(c) = &self.contact {
            check_len("contact", c, 1024)?;
        }
        if let Some(a) = &self.requested_action {
            let ok = !a.is_empty() && a.len() <= 32 && a.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
            if !ok {
                return Err(StoreError::Invalid(format!(
                    "requested_action {a:?}: expected a lowercase word such as \"block\""
                )));
            }
        }
        if self.jurisdictions.len() > 64 {
            return Err(StoreError::Invalid("at most 64 jurisdictions".into()));
        }
        let value = match &self.target {
            NoticeTarget::Iscc { iscc } => recital_rights::TextCode::parse(iscc)
                .map_err(|e| {
                    StoreError::Invalid(format!(
                        "{e}; expected an ISCC Text-Code such as ISCC:EAASKDNZNYGUUF5A"
                    ))
                })?
                .as_str()
                .to_string(),
            other => other.value().to_string(),
        };
        Ok((jurisdictions_or_everywhere(&self.jurisdictions)?, value))
    }
}

impl Store {
    /// Files a notice for `who`, status `received`. `Ok` means it is on disk:
    /// the service may acknowledge it once it has also put it into effect.
    ///
    /// A rightsholder may target only its own works (another's is
    /// [`StoreError::NotFound`], as if absent); document and URL targets are
    /// open to rightsholders and admins; clients are forbidden. A withdrawn
    /// work cannot be the target (it is no longer searchable).
    pub fn insert_notice(&self, who: &Principal, n: &NewNotice) -> Result<Notice, StoreError> {
        let owner = Scope::of(who, "file notices")?.owner();
        let (jurisdictions, target) = n.checked()?;
        let now = now_ms();
        self.write("insert notice", |tx| {
            let work_seq = match &n.target {
                NoticeTarget::Work { work_id } => {
                    let row: Option<(i64, WorkStatus)> = tx
                        .query_opt(
                            "SELECT seq, status FROM works WHERE id = ?1 AND (CAST(?2 AS BIGINT) IS NULL OR owner_key = ?2)",
                            args![work_id, owner],
                        )
                        .ctx("look up notice target")?
                        .map(|r| Ok::<_, StoreError>((r.get(0)?, r.get(1)?)))
                        .transpose()?;
                    match row {
                        None => return Err(StoreError::NotFound(format!("work {work_id}"))),
                        Some((_, WorkStatus::Withdrawn)) => {
                            return Err(StoreError::Invalid(format!("work {work_id} is withdrawn")))
                        }
                        Some((seq, _)) => Some(seq),
                    }
                }
                _ => None,
            };
            let id = fresh_id(tx, "notices", "ntc-")?;
            tx.execute(
                "INSERT INTO notices (id, owner_key, target_type, target, work_seq, reason, requested_action,
                                      jurisdictions, contact, status, received_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'received', ?10)",
                args![
                    id,
                    who.key_id,
                    n.target.kind(),
                    target,
                    work_seq,
                    n.reason,
                    n.requested_action,
                    to_json_list(&jurisdictions),
                    n.contact,
                    now
                ],
            )
            .ctx("insert notice")?;
            tx.notify(Topic::Notices)?;
            one_notice(tx, &id, None)?
                .ok_or_else(|| StoreError::Corrupt(format!("notice {id} vanished after insert")))
        })
    }

    /// Records that notice `id` is in effect. Idempotent (the first time is
    /// kept); a notice withdrawn or rejected meanwhile stays so, and the
    /// returned status says which.
    pub fn mark_notice_effective(&self, id: &str, at: Timestamp) -> Result<NoticeStatus, StoreError> {
        self.write("mark notice effective", |tx| {
            tx.execute(
                "UPDATE notices SET status = 'effective', effective_at = ?2 WHERE id = ?1 AND status = 'received'",
                args![id, at],
            )
            .ctx("mark notice effective")?;
            notice_status(tx, id)
        })
    }

    /// Rejects notice `id` (an admin's review), with `detail` for the filer.
    /// Lifts an effective notice; a withdrawn or already rejected one is left
    /// as it is. Returns the resulting status.
    pub fn reject_notice(&self, id: &str, detail: &str) -> Result<NoticeStatus, StoreError> {
        check_len("detail", detail, 4096)?;
        self.write("reject notice", |tx| {
            let changed = tx
                .execute(
                    "UPDATE notices SET status = 'rejected', status_detail = ?2, closed_at = ?3
                     WHERE id = ?1 AND status IN ('received', 'effective')",
                    args![id, detail, now_ms()],
                )
                .ctx("reject notice")?;
            if changed > 0 {
                tx.notify(Topic::Notices)?;
            }
            notice_status(tx, id)
        })
    }

    /// Withdraws notice `id` for its filer (or an admin). Idempotent;
    /// `Ok(None)` when absent or not the caller's. A rejected notice stays
    /// rejected.
    pub fn withdraw_notice(
        &self,
        who: &Principal,
        id: &str,
        at: Timestamp,
    ) -> Result<Option<Notice>, StoreError> {
        let owner = Scope::of(who, "withdraw notices")?.owner();
        self.write("withdraw notice", |tx| {
            let Some(n) = one_notice(tx, id, owner)? else {
                return Ok(None);
            };
            if !n.is_active() {
                return Ok(Some(n));
            }
            tx.execute(
                "UPDATE notices SET status = 'withdrawn', closed_at = ?2 WHERE id = ?1",
                args![id, at],
            )
            .ctx("withdraw notice")?;
            tx.notify(Topic::Notices)?;
            one_notice(tx, id, None)
        })
    }

    /// Notice `id` as `who` may see it (ownership as for works).
    pub fn get_notice(&self, who: &Principal, id: &str) -> Result<Option<Notice>, StoreError> {
        let owner = Scope::of(who, "read notices")?.owner();
        self.read("get notice", |tx| one_notice(tx, id, owner))
    }

    /// Notices visible to `who`, oldest first; paging as [`Store::list_works`].
    pub fn list_notices(
        &self,
        who: &Principal,
        limit: usize,
        after: Option<&str>,
    ) -> Result<Vec<Notice>, StoreError> {
        let owner = Scope::of(who, "list notices")?.owner();
        self.read("list notices", |tx| {
            let from = match after {
                None => 0,
                Some(a) => cursor(tx, "notices", a, owner)?,
            };
            let sql = format!(
                "{NOTICE_SELECT} WHERE (CAST(?1 AS BIGINT) IS NULL OR n.owner_key = ?1) AND n.seq > ?2 ORDER BY n.seq LIMIT ?3"
            );
            query_notices(tx, &sql, args![owner, from, page_limit(limit) as i64])
        })
    }

    /// Every notice the service must honour (received or effective), oldest
    /// first: to build the in-memory notified set at startup and after each
    /// change, and to finish putting `received` ones into effect after a crash.
    pub fn active_notices(&self) -> Result<Vec<Notice>, StoreError> {
        self.read("active notices", |tx| {
            query_notices(
                tx,
                &format!("{NOTICE_SELECT} WHERE n.status IN ('received', 'effective') ORDER BY n.seq"),
                args![],
            )
        })
    }
}

fn notice_status(tx: &mut dyn Tx, id: &str) -> Result<NoticeStatus, StoreError> {
    tx.query_opt("SELECT status FROM notices WHERE id = ?1", args![id])
        .ctx("read notice status")?
        .ok_or_else(|| StoreError::NotFound(format!("notice {id}")))?
        .get(0)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::store::tests::{doc_notice, fixture, new_work};

    #[test]
    pub(crate) fn target_json_is_tagged() {
        let t: NoticeTarget = serde_json::from_str(r#"{"type": "work", "work_id": "work-1"}"#).unwrap();
        assert_eq!(t, NoticeTarget::Work { work_id: "work-1".into() });
        let t = NoticeTarget::Url { url: "https://example.org/x".into() };
        assert_eq!(serde_json::to_string(&t).unwrap(), r#"{"type":"url","url":"https://example.org/x"}"#);
        assert!(serde_json::from_str::<NoticeTarget>(r#"{"type": "work", "doc_id": "x"}"#).is_err());
        let n: NewNotice =
            serde_json::from_str(r#"{"target": {"type": "document", "doc_id": "d1"}, "reason": "mine"}"#)
                .unwrap();
        assert_eq!((n.requested_action, n.jurisdictions.len()), (None, 0));
    }

    #[test]
    pub(crate) fn life_cycle_received_effective_withdrawn() {
        let f = fixture();
        let n = f.store.insert_notice(&f.rh_a, &doc_notice("corpus/doc-1")).unwrap();
        assert!(n.id.starts_with("ntc-"));
        assert_eq!(
            (n.status, n.effective_at, n.jurisdictions.clone()),
            (NoticeStatus::Received, None, vec!["*".to_string()])
        );
        assert_eq!(n.doc_id(), Some("corpus/doc-1"));
        let at = n.received_at + 42;
        assert_eq!(f.store.mark_notice_effective(&n.id, at).unwrap(), NoticeStatus::Effective);
        assert_eq!(f.store.mark_notice_effective(&n.id, at + 1000).unwrap(), NoticeStatus::Effective);
        let e = f.store.get_notice(&f.rh_a, &n.id).unwrap().unwrap();
        assert_eq!(
            (e.status, e.effective_at, e.effect_latency_ms()),
            (NoticeStatus::Effective, Some(at), Some(42))
        );
        assert_eq!(e.effective_at_rfc3339.as_deref(), Some(format_rfc3339(at).as_str()));

        let w = f.store.withdraw_notice(&f.rh_a, &n.id, at + 5).unwrap().unwrap();
        assert_eq!((w.status, w.closed_at), (NoticeStatus::Withdrawn, Some(at + 5)));
        let again = f.store.withdraw_notice(&f.rh_a, &n.id, at + 99).unwrap().unwrap();
        assert_eq!(again, w);
        assert_eq!(f.store.mark_notice_effective(&n.id, at + 6).unwrap(), NoticeStatus::Withdrawn);
        assert!(f.store.active_notices().unwrap().is_empty());
        assert!(matches!(f.store.mark_notice_effective("ntc-nope", 1), Err(StoreError::NotFound(_))));
    }

    #[test]
    pub(crate) fn active_notices_lists_received_and_effective_only() {
        let f = fixture();
        let a = f.store.insert_notice(&f.rh_a, &doc_notice("d-a")).unwrap();
        let b = f.store.insert_notice(&f.rh_b, &doc_notice("d-b")).unwrap();
        let c = f.store.insert_notice(&f.admin, &doc_notice("d-c")).unwrap();
        let d = f.store.insert_notice(&f.rh_a, &doc_notice("d-d")).unwrap();
        f.store.mark_notice_effective(&b.id, b.received_at + 1).unwrap();
        assert_eq!(
            f.store.reject_notice(&c.id, "not a rightsholder of d-c").unwrap(),
            NoticeStatus::Rejected
        );
        f.store.withdraw_notice(&f.rh_a, &d.id, d.received_at + 1).unwrap();
        let active: Vec<(String, NoticeStatus)> =
            f.store.active_notices().unwrap().into_iter().map(|n| (n.id, n.status)).collect();
        assert_eq!(active, [(a.id, NoticeStatus::Received), (b.id, NoticeStatus::Effective)]);
        let rejected = f.store.get_notice(&f.admin, &c.id).unwrap().unwrap();
        assert_eq!(rejected.status_detail.as_deref(), Some("not a rightsholder of d-c"));
        assert!(rejected.closed_at.is_some());
        // Rejection does not overwrite a withdrawal.
        assert_eq!(f.store.reject_notice(&d.id, "late").unwrap(), NoticeStatus::Withdrawn);
    }

    #[test]
    pub(crate) fn work_targets_must_be_live_and_visible() {
        let f = fixture();
        let w = f.store.insert_work(&f.rh_a, &new_work("text of a registered work")).unwrap();
        let on_work = NewNotice {
            target: NoticeTarget::Work { work_id: w.id.clone() },
            reason: "copied by a model".into(),
            requested_action: Some("block".into()),
            jurisdictions: vec!["DE".into(), "FR".into()],
            contact: Some("legal@a.example".into()),
        };
        let n = f.store.insert_notice(&f.rh_a, &on_work).unwrap();
        assert_eq!(
            (n.doc_id(), n.jurisdictions.clone()),
            (Some(w.id.as_str()), vec!["DE".to_string(), "FR".to_string()])
        );
        // The admin may file on anyone's work.
        f.store.insert_notice(&f.admin, &on_work).unwrap();
        let missing = NewNotice {
            target: NoticeTarget::Work { work_id: "work-0000000000000000".into() },
            ..on_work.clone()
        };
        assert!(matches!(f.store.insert_notice(&f.rh_a, &missing), Err(StoreError::NotFound(_))));
        f.store.withdraw_work(&f.rh_a, &w.id, 1).unwrap();
        assert!(matches!(f.store.insert_notice(&f.rh_a, &on_work), Err(StoreError::Invalid(_))));
    }

    #[test]
    pub(crate) fn invalid_notices_are_refused() {
        let f = fixture();
        let cases = [
            NewNotice { reason: " ".into(), ..doc_notice("d") },
            NewNotice { requested_action: Some("DROP TABLE".into()), ..doc_notice("d") },
            NewNotice { jurisdictions: vec!["".into()], ..doc_notice("d") },
            doc_notice(""),
            doc_notice("a\nb"),
        ];
        for n in cases {
            assert!(matches!(f.store.insert_notice(&f.rh_a, &n), Err(StoreError::Invalid(_))), "{n:?}");
        }
        assert!(f.store.list_notices(&f.admin, 10, None).unwrap().is_empty());
    }

    #[test]
    pub(crate) fn iscc_targets_are_text_codes_stored_canonically() {
        let f = fixture();
        let by_iscc = |iscc: &str| NewNotice {
            target: NoticeTarget::Iscc { iscc: iscc.into() },
            ..doc_notice("unused")
        };
        let n = f.store.insert_notice(&f.rh_a, &by_iscc(" iscc:eaaskdnznyguuf5a ")).unwrap();
        assert_eq!(n.target, NoticeTarget::Iscc { iscc: "ISCC:EAASKDNZNYGUUF5A".into() });
        assert_eq!(n.doc_id(), None);
        assert_eq!(f.store.active_notices().unwrap()[0].target, n.target);
        let json = serde_json::to_value(&n.target).unwrap();
        assert_eq!(json, serde_json::json!({"type": "iscc", "iscc": "ISCC:EAASKDNZNYGUUF5A"}));
        // Not an ISCC, and an ISCC that is no Text-Code (a Meta-Code header).
        for bad in ["ISCC:nope!", "hello", "ISCC:AAAQCAQDAQCQMBYI"] {
            let e = f.store.insert_notice(&f.rh_a, &by_iscc(bad)).unwrap_err();
            assert!(matches!(e, StoreError::Invalid(_)) && e.to_string().contains("Text-Code"), "{bad}: {e}");
        }
    }
}
