//! Works registered by rightsholders (`POST /v1/works`).
//!
//! A work is stored with its rights metadata and text, then indexed into a
//! delta shard under its id; its status goes `pending` → `indexed`, or to
//! `withdrawn` when its rightsholder takes it back. The text is never part
//! of [`Work`]: only the indexer reads it ([`Store::work_text`]), so no API
//! that returns a work can be used to extract registered texts. A
//! withdrawal deletes the text.

use serde::{Deserialize, Serialize};

use super::error::{SqlContext, StoreError};
use super::sql::{args, Row, Topic, Tx, Value};
use super::{
    check_len, format_rfc3339, from_json_list, jurisdictions_or_everywhere, now_ms, page_limit, random_id,
    to_json_list, Principal, Scope, Store, Timestamp,
};

/// How the indexer tokenises the work's text.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WorkMode {
    /// Prose: word and punctuation tokens.
    #[default]
    Text,
    /// Source code: lexemes, with the canonical stream for renamed copies.
    Code,
}

named_enum!(WorkMode, "work mode", { Text => "text", Code => "code" });

/// Where a work is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WorkStatus {
    /// Durable, not yet searchable (or indexing was interrupted: see [`Store::pending_works`]).
    Pending,
    /// Searchable in a delta shard.
    Indexed,
    /// Taken back by its rightsholder; its text is deleted.
    Withdrawn,
}

named_enum!(WorkStatus, "work status", { Pending => "pending", Indexed => "indexed", Withdrawn => "withdrawn" });

fn noassertion() -> String {
    "NOASSERTION".into()
}

/// A work as submitted (`POST /v1/works`). Unknown fields are refused, so a
/// misspelt rights flag (`tdm_optout`) is an error rather than a silent
/// `false`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewWork {
    /// Title, for people.
    #[serde(default)]
    pub title: Option<String>,
    /// The text (or source code) to protect.
    pub text: String,
    /// Prose or code.
    #[serde(default)]
    pub mode: WorkMode,
    /// Programming language of code (`c`, `python`, `rust`, …); for code
    /// registered through the API, guessed when absent and stored as found.
    #[serde(default)]
    pub language: Option<String>,
    /// SPDX licence expression; `NOASSERTION` when not given.
    #[serde(default = "noassertion")]
    pub license: String,
    /// Rights holder, as it should appear in citations.
    #[serde(default)]
    pub holder: Option<String>,
    /// Canonical source URL or identifier.
    #[serde(default)]
    pub url: Option<String>,
    /// Text-and-data-mining opt-out (CDSM Art. 4(3)).
    #[serde(default)]
    pub tdm_opt_out: bool,
    /// Jurisdictions where the rights apply; empty means everywhere (`*`).
    #[serde(default)]
    pub jurisdictions: Vec<String>,
    /// Category for policy (prose, lyrics, code, news, …).
    #[serde(default)]
    pub category: Option<String>,
}

/// A registered work, without its text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Work {
    /// Stable unique id (`work-` and 16 hex digits); the document id in the index.
    pub id: String,
    /// Key id of the rightsholder that registered it.
    pub owner_key: i64,
    /// Name of that key.
    pub owner_name: String,
    /// Title.
    pub title: Option<String>,
    /// SPDX licence expression.
    pub license: String,
    /// Rights holder.
    pub holder: Option<String>,
    /// Source URL or identifier.
    pub url: Option<String>,
    /// TDM opt-out declared.
    pub tdm_opt_out: bool,
    /// Jurisdictions where the rights apply (`*` = everywhere).
    pub jurisdictions: Vec<String>,
    /// Category.
    pub category: Option<String>,
    /// Prose or code.
    pub mode: WorkMode,
    /// Programming language a code work is indexed as.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// Life-cycle state.
    pub status: WorkStatus,
    /// When it was registered.
    pub created_at: Timestamp,
    /// `created_at` in RFC 3339 (derived, for people).
    pub created_at_rfc3339: String,
    /// When it became searchable.
    pub indexed_at: Option<Timestamp>,
    /// `indexed_at` in RFC 3339.
    pub indexed_at_rfc3339: Option<String>,
    /// When it was withdrawn.
    pub withdrawn_at: Option<Timestamp>,
    /// `withdrawn_at` in RFC 3339.
    pub withdrawn_at_rfc3339: Option<String>,
    /// Size of the registered text in bytes.
    pub text_bytes: u64,
    /// The text's ISCC Text-Code (ISO 24138), computed at registration: the
    /// identifier a notice can name the work and its near copies by, and
    /// what scan sources of the work carry as `iscc`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iscc: Option<String>,
}

const WORK_SELECT: &str = "SELECT w.id, w.owner_key, k.name, w.title, w.license, w.holder, w.url, w.tdm_opt_out,
        w.jurisdictions, w.category, w.mode, w.status, w.created_at, w.indexed_at, w.withdrawn_at, w.text_bytes,
        w.language, w.iscc
     FROM works w JOIN api_keys k ON k.id = w.owner_key";

fn work_row(r: &Row) -> Result<Work, StoreError> {
    let id: String = r.get(0)?;
    let created_at: Timestamp = r.get(12)?;
    let indexed_at: Option<Timestamp> = r.get(13)?;
    let withdrawn_at: Option<Timestamp> = r.get(14)?;
    let text_bytes: i64 = r.get(15)?;
    let jurisdictions: String = r.get(8)?;
    Ok(Work {
        jurisdictions: from_json_list(&jurisdictions, &format!("work {id} jurisdictions"))?,
        id,
        owner_key: r.get(1)?,
        owner_name: r.get(2)?,
        title: r.get(3)?,
        license: r.get(4)?,
        holder: r.get(5)?,
        url: r.get(6)?,
        tdm_opt_out: r.get(7)?,
        category: r.get(9)?,
        mode: r.get(10)?,
        language: r.get(16)?,
        status: r.get(11)?,
        created_at,
        created_at_rfc3339: format_rfc3339(created_at),
        indexed_at,
        indexed_at_rfc3339: indexed_at.map(format_rfc3339),
        withdrawn_at,
        withdrawn_at_rfc3339: withdrawn_at.map(format_rfc3339),
        text_bytes: text_bytes.max(0) as u64,
        iscc: r.get(17)?,
    })
}

/// Runs a work query and decodes every row.
fn query_works(tx: &mut dyn Tx, sql: &str, args: &[Value]) -> Result<Vec<Work>, StoreError> {
    tx.query(sql, args).ctx("query works")?.iter().map(work_row).collect()
}

fn one_work(tx: &mut dyn Tx, id: &str, owner: Option<i64>) -> Result<Option<Work>, StoreError> {
    let sql = format!("{WORK_SELECT} WHERE w.id = ?1 AND (CAST(?2 AS BIGINT) IS NULL OR w.owner_key = ?2)");
    Ok(query_works(tx, &sql, args![id, owner])?.pop())
}

impl NewWork {
    /// Checks the fields; gives the jurisdictions to store and the licence.
    fn checked(&self) -> Result<(Vec<String>, String), StoreError> {
        if self.text.trim().is_empty() {
            return Err(StoreError::Invalid("text is empty".into()));
        }
        let license =
            if self.license.trim().is_empty() { noassertion() } else { self.license.trim().to_string() };
        check_len("license", &license, 256)?;
        for (field, value, max) in [
            ("title", &self.title, 1024),
            ("holder", &self.holder, 1024),
            ("url", &self.url, 4096),
            ("category", &self.category, 64),
        ] {
            if let Some(v) = value {
                check_len(field, v, max)?;
            }
        }
        if self.jurisdictions.len() > 64 {
            return Err(StoreError::Invalid("at most 64 jurisdictions".into()));
        }
        if let Some(l) = &self.language {
            if recital_text::code::Lang::from_name(l).is_none() {
                return Err(StoreError::Invalid(format!(
                    "unknown language {:?} (c, cpp, python, rust, javascript, typescript, java, go)",
                    l.chars().take(40).collect::<String>()
                )));
            }
        }
        Ok((jurisdictions_or_everywhere(&self.jurisdictions)?, license))
    }
}

impl Store {
    /// Registers a work owned by `owner` (a rightsholder, or an admin acting
    /// for one), status `pending`. `Ok` means the work and its text are on
    /// disk; index it next and then call [`Store::mark_work_indexed`].
    pub fn insert_work(&self, owner: &Principal, w: &NewWork) -> Result<Work, StoreError> {
        Scope::of(owner, "register works")?;
        let (jurisdictions, license) = w.checked()?;
        let iscc = recital_rights::TextCode::of_text(&w.text).map(|c| c.as_str().to_string());
        let now = now_ms();
        self.write("insert work", |tx| {
            let id = fresh_id(tx, "works", "work-")?;
            let seq: i64 = tx
                .query_one(
                    "INSERT INTO works (id, owner_key, title, license, holder, url, tdm_opt_out, jurisdictions,
                                        category, mode, status, created_at, text_bytes, language, iscc)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 'pending', ?11, ?12, ?13, ?14)
                     RETURNING seq",
                    args![
                        id,
                        owner.key_id,
                        w.title,
                        license,
                        w.holder,
                        w.url,
                        w.tdm_opt_out,
                        to_json_list(&jurisdictions),
                        w.category,
                        w.mode,
                        now,
                        w.text.len() as i64,
                        w.language.as_deref().and_then(recital_text::code::Lang::from_name).map(|l| l.name()),
                        iscc
                    ],
                )
                .ctx("insert work")?
                .get(0)?;
            tx.execute("INSERT INTO work_texts (work_seq, text) VALUES (?1, ?2)", args![seq, w.text])
                .ctx("insert work text")?;
            tx.notify(Topic::Works)?;
            one_work(tx, &id, None)?.ok_or_else(|| StoreError::Corrupt(format!("work {id} vanished after insert")))
        })
    }

    /// Records that work `id` is searchable. Idempotent (the first time is
    /// kept). A work withdrawn meanwhile stays withdrawn: the returned status
    /// tells the indexer to tombstone what it just added.
    pub fn mark_work_indexed(&self, id: &str, at: Timestamp) -> Result<WorkStatus, StoreError> {
        self.write("mark work indexed", |tx| {
            let changed = tx
                .execute(
                    "UPDATE works SET status = 'indexed', indexed_at = ?2 WHERE id = ?1 AND status = 'pending'",
                    args![id, at],
                )
                .ctx("mark work indexed")?;
            if changed > 0 {
                tx.notify(Topic::Works)?;
            }
            tx.query_opt("SELECT status FROM works WHERE id = ?1", args![id])
                .ctx("read work status")?
                .ok_or_else(|| StoreError::NotFound(format!("work {id}")))?
                .get(0)
        })
    }

    /// Work `id` as `who` may see it: a rightsholder only its own (another's
    /// is `Ok(None)`, as if absent), an admin any; a client is forbidden.
    pub fn get_work(&self, who: &Principal, id: &str) -> Result<Option<Work>, StoreError> {
        let scope = Scope::of(who, "read works")?;
        self.read("get work", |tx| one_work(tx, id, scope.owner()))
    }

    /// Works visible to `who`, oldest first, at most `limit` (clamped to
    /// `1..=`[`MAX_PAGE`](super::MAX_PAGE)), after the work with id `after`
    /// (the last id of the previous page). An `after` the caller cannot see
    /// is an error, the same as one that does not exist.
    pub fn list_works(
        &self,
        who: &Principal,
        limit: usize,
        after: Option<&str>,
    ) -> Result<Vec<Work>, StoreError> {
        let owner = Scope::of(who, "list works")?.owner();
        self.read("list works", |tx| {
            let from = match after {
                None => 0,
                Some(a) => cursor(tx, "works", a, owner)?,
            };
            let sql = format!(
                "{WORK_SELECT} WHERE (CAST(?1 AS BIGINT) IS NULL OR w.owner_key = ?1) AND w.seq > ?2 ORDER BY w.seq LIMIT ?3"
            );
            query_works(tx, &sql, args![owner, from, page_limit(limit) as i64])
        })
    }

    /// Works visible to `who` whose id or title contains `text`, ignoring
    /// case, oldest first; paging as [`Store::list_works`], with `after` the
    /// last id of the previous page of the same search. The console's work
    /// picker: a rightsholder may hold far more works than one page lists.
    pub fn search_works(
        &self,
        who: &Principal,
        text: &str,
        limit: usize,
        after: Option<&str>,
    ) -> Result<Vec<Work>, StoreError> {
        let owner = Scope::of(who, "search works")?.owner();
        check_len("search text", text, 256)?;
        let pattern = format!("%{}%", like_escaped(text.trim()));
        self.read("search works", |tx| {
            let from = match after {
                None => 0,
                Some(a) => cursor(tx, "works", a, owner)?,
            };
            // LOWER on both sides: SQLite folds ASCII only, PostgreSQL all of
            // Unicode, and either way the pattern is folded as the column is.
            let sql = format!(
                "{WORK_SELECT} WHERE (CAST(?1 AS BIGINT) IS NULL OR w.owner_key = ?1) AND w.seq > ?2
                 AND (LOWER(w.id) LIKE LOWER(?4) ESCAPE '\\' OR LOWER(COALESCE(w.title, '')) LIKE LOWER(?4) ESCAPE '\\')
                 ORDER BY w.seq LIMIT ?3"
            );
            query_works(tx, &sql, args![owner, from, page_limit(limit) as i64, pattern])
        })
    }

    /// Withdraws work `id` for `who` (ownership as in [`Store::get_work`]):
    /// status `withdrawn`, text deleted. Idempotent: withdrawing again
    /// returns the work with its first withdrawal time. `Ok(None)` when the
    /// work does not exist or is not the caller's. The caller must then
    /// tombstone the work in the index.
    pub fn withdraw_work(
        &self,
        who: &Principal,
        id: &str,
        at: Timestamp,
    ) -> Result<Option<Work>, StoreError> {
        let owner = Scope::of(who, "withdraw works")?.owner();
        self.write("withdraw work", |tx| {
            let Some(work) = one_work(tx, id, owner)? else {
                return Ok(None);
            };
            if work.status == WorkStatus::Withdrawn {
                return Ok(Some(work));
            }
            tx.execute(
                "UPDATE works SET status = 'withdrawn', withdrawn_at = ?2 WHERE id = ?1",
                args![id, at],
            )
            .ctx("withdraw work")?;
            tx.execute(
                "DELETE FROM work_texts WHERE work_seq = (SELECT seq FROM works WHERE id = ?1)",
                args![id],
            )
            .ctx("delete work text")?;
            tx.notify(Topic::Works)?;
            one_work(tx, id, None)
        })
    }

    /// Works registered but not yet indexed, oldest first: after a crash
    /// between registration and indexing, index these at startup.
    pub fn pending_works(&self) -> Result<Vec<Work>, StoreError> {
        self.read("pending works", |tx| {
            query_works(tx, &format!("{WORK_SELECT} WHERE w.status = 'pending' ORDER BY w.seq"), args![])
        })
    }

    /// Ids of every withdrawn work, oldest first: at startup, make sure each
    /// is tombstoned in the index (a crash may have come between the
    /// withdrawal's commit and its tombstone).
    pub fn withdrawn_work_ids(&self) -> Result<Vec<String>, StoreError> {
        self.read("withdrawn works", |tx| {
            let rows = tx.query("SELECT id FROM works WHERE status = 'withdrawn' ORDER BY seq", args![])?;
            rows.iter().map(|r| r.get(0)).collect()
        })
    }

    /// The text and mode of work `id`, for the indexer only; `None` when the
    /// work does not exist or was withdrawn. Never expose this through the API.
    pub fn work_text(&self, id: &str) -> Result<Option<(String, WorkMode)>, StoreError> {
        self.read("read work text", |tx| {
            let row = tx.query_opt(
                "SELECT t.text, w.mode FROM works w JOIN work_texts t ON t.work_seq = w.seq
                 WHERE w.id = ?1 AND w.status <> 'withdrawn'",
                args![id],
            )?;
            row.map(|r| Ok((r.get(0)?, r.get(1)?))).transpose()
        })
    }

    /// Works to be searchable (pending or indexed), oldest first: an instance
    /// sharing its store with others indexes those it has not yet.
    pub fn live_works(&self) -> Result<Vec<Work>, StoreError> {
        self.read("live works", |tx| {
            query_works(tx, &format!("{WORK_SELECT} WHERE w.status <> 'withdrawn' ORDER BY w.seq"), args![])
        })
    }
}

/// A random id not yet used in `table`.
pub(super) fn fresh_id(tx: &mut dyn Tx, table: &str, prefix: &str) -> Result<String, StoreError> {
    loop {
        let id = random_id(prefix)?;
        let taken: bool = tx
            .query_one(&format!("SELECT EXISTS (SELECT 1 FROM {table} WHERE id = ?1)"), args![id])
            .ctx("check id")?
            .get(0)?;
        if !taken {
            return Ok(id);
        }
    }
}

/// The `seq` of row `id` in `table` (works or notices) for paging, if
/// `owner` (when given) owns it; otherwise an error.
pub(super) fn cursor(tx: &mut dyn Tx, table: &str, id: &str, owner: Option<i64>) -> Result<i64, StoreError> {
    tx.query_opt(
        &format!("SELECT seq FROM {table} WHERE id = ?1 AND (CAST(?2 AS BIGINT) IS NULL OR owner_key = ?2)"),
        args![id, owner],
    )
    .ctx("resolve cursor")?
    .ok_or_else(|| StoreError::Invalid(format!("after: no such id {id:?}")))?
    .get(0)
}

/// `text` with the LIKE wildcards (and the escape character) taken literally.
fn like_escaped(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::store::tests::{fixture, new_work};

    #[test]
    pub(crate) fn insert_returns_metadata_without_text_and_defaults() {
        let f = fixture();
        let w: NewWork = serde_json::from_str(r#"{"text": "It was a bright cold day in April."}"#).unwrap();
        let work = f.store.insert_work(&f.rh_a, &w).unwrap();
        assert!(work.id.starts_with("work-") && work.id.len() == 5 + 16, "{}", work.id);
        assert_eq!(
            (work.status, work.mode, work.license.as_str()),
            (WorkStatus::Pending, WorkMode::Text, "NOASSERTION")
        );
        assert_eq!(work.jurisdictions, ["*"]);
        assert_eq!((work.owner_key, work.owner_name.as_str()), (f.rh_a.key_id, "rh-a"));
        assert_eq!(work.text_bytes, w.text.len() as u64);
        assert_eq!(work.created_at_rfc3339, format_rfc3339(work.created_at));
        let json = serde_json::to_string(&work).unwrap();
        assert!(!json.contains("bright cold day"), "a work's JSON must not carry its text: {json}");
        assert!(json.contains("\"created_at_rfc3339\""), "{json}");
        assert_eq!(
            f.store.work_text(&work.id).unwrap(),
            Some(("It was a bright cold day in April.".to_string(), WorkMode::Text))
        );
    }

    #[test]
    pub(crate) fn new_work_json_refuses_unknown_fields() {
        let e = serde_json::from_str::<NewWork>(r#"{"text": "x", "tdm_optout": true}"#).unwrap_err();
        assert!(e.to_string().contains("tdm_optout"), "{e}");
    }

    #[test]
    pub(crate) fn code_works_keep_their_language() {
        let f = fixture();
        let w = NewWork { mode: WorkMode::Code, language: Some("Rust".into()), ..new_work("fn main() {}") };
        let id = f.store.insert_work(&f.rh_a, &w).unwrap().id;
        let got = f.store.get_work(&f.rh_a, &id).unwrap().unwrap();
        assert_eq!((got.mode, got.language.as_deref()), (WorkMode::Code, Some("rust")));
        let pending = f.store.pending_works().unwrap();
        assert_eq!(pending.iter().find(|p| p.id == id).unwrap().language.as_deref(), Some("rust"));
        // Prose has none, and the JSON leaves the field out.
        let id = f.store.insert_work(&f.rh_a, &new_work("words")).unwrap().id;
        let prose = f.store.get_work(&f.rh_a, &id).unwrap().unwrap();
        assert_eq!(prose.language, None);
        assert!(!serde_json::to_string(&prose).unwrap().contains("language"));
    }

    #[test]
    pub(crate) fn invalid_works_are_refused() {
        let f = fixture();
        let cases = [
            NewWork { text: "  \n".into(), ..new_work("x") },
            NewWork { jurisdictions: vec!["D E".into()], ..new_work("x") },
            NewWork { title: Some("t".repeat(2000)), ..new_work("x") },
            NewWork { mode: WorkMode::Code, language: Some("cobol".into()), ..new_work("x") },
        ];
        for w in cases {
            assert!(matches!(f.store.insert_work(&f.rh_a, &w), Err(StoreError::Invalid(_))));
        }
        assert!(f.store.list_works(&f.admin, 100, None).unwrap().is_empty());
    }

    #[test]
    pub(crate) fn pending_then_indexed_is_idempotent_and_respects_withdrawal() {
        let f = fixture();
        let a = f.store.insert_work(&f.rh_a, &new_work("first work text")).unwrap();
        let b = f.store.insert_work(&f.rh_b, &new_work("second work text")).unwrap();
        let ids = |v: Vec<Work>| v.into_iter().map(|w| w.id).collect::<Vec<_>>();
        assert_eq!(ids(f.store.pending_works().unwrap()), [a.id.clone(), b.id.clone()]);

        assert_eq!(f.store.mark_work_indexed(&a.id, 1000).unwrap(), WorkStatus::Indexed);
        assert_eq!(f.store.mark_work_indexed(&a.id, 2000).unwrap(), WorkStatus::Indexed);
        let a2 = f.store.get_work(&f.admin, &a.id).unwrap().unwrap();
        assert_eq!((a2.status, a2.indexed_at), (WorkStatus::Indexed, Some(1000)));
        assert_eq!(ids(f.store.pending_works().unwrap()), std::slice::from_ref(&b.id));

        // Withdrawn while indexing: stays withdrawn and says so.
        f.store.withdraw_work(&f.rh_b, &b.id, 3000).unwrap().unwrap();
        assert_eq!(f.store.mark_work_indexed(&b.id, 4000).unwrap(), WorkStatus::Withdrawn);
        assert!(f.store.pending_works().unwrap().is_empty());
        assert!(matches!(f.store.mark_work_indexed("work-nope", 1), Err(StoreError::NotFound(_))));
    }

    #[test]
    pub(crate) fn withdraw_is_idempotent_and_deletes_the_text() {
        let f = fixture();
        let w = f.store.insert_work(&f.rh_a, &new_work("a text to take back later")).unwrap();
        let first = f.store.withdraw_work(&f.rh_a, &w.id, 5000).unwrap().unwrap();
        assert_eq!((first.status, first.withdrawn_at), (WorkStatus::Withdrawn, Some(5000)));
        assert_eq!(first.withdrawn_at_rfc3339.as_deref(), Some("1970-01-01T00:00:05.000Z"));
        let again = f.store.withdraw_work(&f.rh_a, &w.id, 9000).unwrap().unwrap();
        assert_eq!(again, first, "a second withdrawal changes nothing");
        assert_eq!(f.store.work_text(&w.id).unwrap(), None);
        let left: i64 = f
            .store
            .read("count", |tx| tx.query_one("SELECT count(*) FROM work_texts", args![])?.get(0))
            .unwrap();
        assert_eq!(left, 0, "the withdrawn text is deleted");
        assert_eq!(f.store.withdrawn_work_ids().unwrap(), std::slice::from_ref(&w.id));
        assert_eq!(f.store.withdraw_work(&f.rh_a, "work-0000000000000000", 1).unwrap(), None);
    }

    #[test]
    pub(crate) fn paging_walks_every_work_once() {
        let f = fixture();
        let mut made = Vec::new();
        for i in 0..7 {
            made.push(f.store.insert_work(&f.rh_a, &new_work(&format!("text number {i}"))).unwrap().id);
        }
        let mut seen = Vec::new();
        let mut after: Option<String> = None;
        for _ in 0..10 {
            let page = f.store.list_works(&f.rh_a, 3, after.as_deref()).unwrap();
            if page.is_empty() {
                break;
            }
            assert!(page.len() <= 3);
            after = page.last().map(|w| w.id.clone());
            seen.extend(page.into_iter().map(|w| w.id));
        }
        assert_eq!(seen, made);
        assert_eq!(f.store.list_works(&f.rh_a, 0, None).unwrap().len(), 1, "limit 0 is clamped to 1");
        assert!(matches!(f.store.list_works(&f.rh_a, 3, Some("work-nope")), Err(StoreError::Invalid(_))));
    }

    /// The whole search, page by page.
    fn search_all(f: &crate::store::tests::Fixture, who: &Principal, text: &str, page: usize) -> Vec<String> {
        let (mut seen, mut after) = (Vec::new(), None::<String>);
        loop {
            let got = f.store.search_works(who, text, page, after.as_deref()).unwrap();
            assert!(got.len() <= page);
            let Some(last) = got.last() else { return seen };
            after = Some(last.id.clone());
            seen.extend(got.into_iter().map(|w| w.id));
        }
    }

    #[test]
    pub(crate) fn search_finds_any_of_more_works_than_a_page() {
        let f = fixture();
        let mut made = Vec::new();
        for i in 0..(crate::store::MAX_PAGE + 10) {
            let title = match i {
                7 => "Half_off 100% Été".to_string(),
                8 => "Halfxoff 1000 ete".to_string(),
                _ => format!("Catalogue {i:04}"),
            };
            let w = NewWork { title: Some(title.clone()), ..new_work(&format!("text {i}")) };
            made.push((f.store.insert_work(&f.rh_a, &w).unwrap().id, title));
        }
        f.store
            .insert_work(&f.rh_b, &NewWork { title: Some("Catalogue 1003".into()), ..new_work("b") })
            .unwrap();
        // The oracle: every title or id that contains the text, ignoring ASCII case.
        let oracle = |text: &str| -> Vec<String> {
            let t = text.to_ascii_lowercase();
            made.iter()
                .filter(|(id, title)| id.contains(&t) || title.to_ascii_lowercase().contains(&t))
                .map(|(id, _)| id.clone())
                .collect()
        };
        for text in ["catalogue 1003", "CATALOGUE 100", "f_o", "100%", "0%", "1000", "Été", "_", "none such"]
        {
            assert_eq!(search_all(&f, &f.rh_a, text, 7), oracle(text), "{text:?}");
        }
        assert_eq!(search_all(&f, &f.rh_a, "catalogue 1009", 7).len(), 1, "beyond the first 1,000");
        let by_id = &made[crate::store::MAX_PAGE + 5].0;
        assert_eq!(
            search_all(&f, &f.rh_a, &by_id.to_uppercase(), 7),
            std::slice::from_ref(by_id),
            "by id, any case"
        );
        assert_eq!(search_all(&f, &f.rh_b, "catalogue", 7).len(), 1, "only B's own");
        assert_eq!(search_all(&f, &f.admin, "catalogue 1003", 7).len(), 2, "an admin's are everyone's");
        assert!(matches!(f.store.search_works(&f.client, "x", 7, None), Err(StoreError::Forbidden(_))));
        assert!(matches!(
            f.store.search_works(&f.rh_a, &"x".repeat(300), 7, None),
            Err(StoreError::Invalid(_))
        ));
    }
}
