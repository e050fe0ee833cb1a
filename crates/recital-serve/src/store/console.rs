//! The web console's durable state: signed-in sessions and scan results at
//! their stable URLs, so that a restart (or another instance on a shared
//! PostgreSQL store) keeps reviewers signed in and their results readable.
//!
//! A session is stored as the SHA-256 of its token, as API keys are (see
//! `keys.rs` for why a fast hash suffices for a random 256-bit token): a copy
//! of the database signs nobody in. A session belongs to a key; once that key
//! is revoked the session no longer authenticates, whatever its expiry.
//!
//! A scan result is stored as the console renders it (its view model and
//! its JSON export, both already limited to what the API may show), never
//! as more of a source than the caller was shown. How long results are kept
//! is the reader's `keep_since` bound: the retention time the administrator
//! sets now, not the one in force when the result was written.

use std::collections::HashSet;

use super::error::StoreError;
use super::keys::{principal_row, PRINCIPAL_COLUMNS};
use super::sql::{args, Tx};
use super::{hash_secret, now_ms, Principal, Store, Timestamp};

/// Sessions kept at most: beyond it the oldest are ended, a bound on the
/// table whatever the number of sign-ins.
pub const MAX_CONSOLE_SESSIONS: usize = 10_000;

/// Scan results kept at most: beyond it the oldest go first, so that a busy
/// console cannot fill the disk within one retention time.
pub const MAX_CONSOLE_SCANS: usize = 20_000;

/// A signed-in console session, as the store gives it back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleSession {
    /// Who signed in (as the key is now: a changed role applies at once).
    pub principal: Principal,
    /// The token every form of this session carries.
    pub csrf: String,
    /// When the session ends.
    pub expires_at: Timestamp,
}

/// A scan result kept for the console.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleScan {
    /// The request id (also in the audit log).
    pub id: String,
    /// Key that ran it.
    pub owner_key: i64,
    /// When it ran.
    pub created_at: Timestamp,
    /// The scan view's model, as JSON.
    pub view: String,
    /// The result as `POST /v1/scan` answers it, as JSON.
    pub export: String,
}

impl Store {
    /// Keeps a session for `key_id` under `token` (only its digest is
    /// stored) until `expires_at`. Expired sessions are removed on the way,
    /// and the oldest ones beyond [`MAX_CONSOLE_SESSIONS`].
    pub fn open_console_session(
        &self,
        token: &str,
        key_id: i64,
        csrf: &str,
        expires_at: Timestamp,
    ) -> Result<(), StoreError> {
        let digest = hash_secret(token);
        let now = now_ms();
        self.write("open console session", |tx| {
            tx.execute("DELETE FROM console_sessions WHERE expires_at <= ?1", args![now])?;
            let oldest = "created_at, token_sha256";
            trim_oldest(tx, "console_sessions", "token_sha256", oldest, MAX_CONSOLE_SESSIONS - 1)?;
            tx.execute(
                "INSERT INTO console_sessions (token_sha256, key_id, csrf, created_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                args![digest[..], key_id, csrf, now, expires_at],
            )?;
            Ok(())
        })
    }

    /// The live session whose token is `token`: not expired, and its key
    /// not revoked.
    pub fn console_session(&self, token: &str) -> Result<Option<ConsoleSession>, StoreError> {
        if token.is_empty() {
            return Ok(None);
        }
        let digest = hash_secret(token);
        let now = now_ms();
        let cols = PRINCIPAL_COLUMNS.split(", ").map(|c| format!("k.{c}")).collect::<Vec<_>>().join(", ");
        self.read("read console session", |tx| {
            let row = tx.query_opt(
                &format!(
                    "SELECT {cols}, s.csrf, s.expires_at FROM console_sessions s
                     JOIN api_keys k ON k.id = s.key_id
                     WHERE s.token_sha256 = ?1 AND s.expires_at > ?2 AND k.revoked_at IS NULL"
                ),
                args![digest[..], now],
            )?;
            row.map(|r| {
                Ok(ConsoleSession { principal: principal_row(&r)?, csrf: r.get(5)?, expires_at: r.get(6)? })
            })
            .transpose()
        })
    }

    /// Ends the session whose token is `token`; true if there was one.
    pub fn close_console_session(&self, token: &str) -> Result<bool, StoreError> {
        let digest = hash_secret(token);
        self.write("close console session", |tx| {
            Ok(tx.execute("DELETE FROM console_sessions WHERE token_sha256 = ?1", args![digest[..]])? > 0)
        })
    }

    /// Keeps a scan result. Results written before `keep_since` are removed
    /// on the way, and the oldest ones beyond [`MAX_CONSOLE_SCANS`].
    pub fn put_console_scan(&self, scan: &ConsoleScan, keep_since: Timestamp) -> Result<(), StoreError> {
        self.write("keep console scan", |tx| {
            tx.execute("DELETE FROM console_scans WHERE created_at < ?1", args![keep_since])?;
            trim_oldest(tx, "console_scans", "seq", "seq", MAX_CONSOLE_SCANS - 1)?;
            tx.execute(
                "INSERT INTO console_scans (id, owner_key, created_at, view, export) VALUES (?1, ?2, ?3, ?4, ?5)",
                args![scan.id, scan.owner_key, scan.created_at, scan.view, scan.export],
            )?;
            Ok(())
        })
    }

    /// Scan result `id` if it was written at or after `keep_since` and `who`
    /// may see it: the key that ran it, or an admin (a rightsholder does not
    /// read a client's outputs). Another key's result is reported exactly as
    /// a result that does not exist.
    pub fn console_scan(
        &self,
        who: &Principal,
        id: &str,
        keep_since: Timestamp,
    ) -> Result<Option<ConsoleScan>, StoreError> {
        let owner = (!who.is_admin()).then_some(who.key_id);
        self.read("read console scan", |tx| {
            let row = tx.query_opt(
                "SELECT id, owner_key, created_at, view, export FROM console_scans
                 WHERE id = ?1 AND created_at >= ?2 AND (CAST(?3 AS BIGINT) IS NULL OR owner_key = ?3)",
                args![id, keep_since, owner],
            )?;
            row.map(|r| {
                Ok(ConsoleScan {
                    id: r.get(0)?,
                    owner_key: r.get(1)?,
                    created_at: r.get(2)?,
                    view: r.get(3)?,
                    export: r.get(4)?,
                })
            })
            .transpose()
        })
    }

    /// Which of `ids` have a result kept since `keep_since` (for the audit
    /// log's links; the page that follows a link checks who may see it).
    pub fn console_scans_kept(
        &self,
        ids: &[String],
        keep_since: Timestamp,
    ) -> Result<HashSet<String>, StoreError> {
        self.read("find console scans", |tx| {
            let mut kept = HashSet::new();
            // One indexed lookup per id, in one snapshot: an audit page has a
            // few dozen rows, and a fixed statement stays prepared once.
            for id in ids {
                let hit = tx.query_opt(
                    "SELECT 1 FROM console_scans WHERE id = ?1 AND created_at >= ?2",
                    args![id, keep_since],
                )?;
                if hit.is_some() {
                    kept.insert(id.clone());
                }
            }
            Ok(kept)
        })
    }
}

/// Deletes the first rows of `table` in `order` (identified by `key`) so
/// that at most `keep` remain.
fn trim_oldest(tx: &mut dyn Tx, table: &str, key: &str, order: &str, keep: usize) -> Result<(), StoreError> {
    let n: i64 = tx.query_one(&format!("SELECT count(*) FROM {table}"), args![])?.get(0)?;
    let excess = n - keep as i64;
    if excess > 0 {
        tx.execute(
            &format!(
                "DELETE FROM {table} WHERE {key} IN (SELECT {key} FROM {table} ORDER BY {order} LIMIT ?1)"
            ),
            args![excess],
        )?;
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::super::tests::fixture;
    use super::*;

    fn scan(id: &str, owner: i64, at: Timestamp) -> ConsoleScan {
        ConsoleScan {
            id: id.into(),
            owner_key: owner,
            created_at: at,
            view: "{}".into(),
            export: "{\"x\":1}".into(),
        }
    }

    #[test]
    pub(crate) fn sessions_authenticate_until_expiry_close_or_revocation() {
        let f = fixture();
        let later = now_ms() + 60_000;
        f.store.open_console_session("tok-a", f.rh_a.key_id, "csrf-a", later).unwrap();
        f.store.open_console_session("tok-c", f.client.key_id, "csrf-c", later).unwrap();
        f.store.open_console_session("tok-old", f.rh_a.key_id, "csrf-o", now_ms() - 1).unwrap();
        let s = f.store.console_session("tok-a").unwrap().expect("a live session");
        assert_eq!((s.principal, s.csrf.as_str(), s.expires_at), (f.rh_a.clone(), "csrf-a", later));
        assert_eq!(f.store.console_session("tok-old").unwrap(), None, "expired");
        assert_eq!(f.store.console_session("tok-b").unwrap(), None, "never opened");
        assert_eq!(f.store.console_session("").unwrap(), None);
        assert!(f.store.close_console_session("tok-a").unwrap());
        assert!(!f.store.close_console_session("tok-a").unwrap());
        assert_eq!(f.store.console_session("tok-a").unwrap(), None, "closed");
        assert!(f.store.console_session("tok-c").unwrap().is_some());
        assert!(f.store.revoke_key("client").unwrap());
        assert_eq!(f.store.console_session("tok-c").unwrap(), None, "its key was revoked");
    }

    #[test]
    pub(crate) fn scans_are_for_their_key_and_admins_within_retention() {
        let f = fixture();
        let now = now_ms();
        f.store.put_console_scan(&scan("req-1", f.client.key_id, now), now - 1000).unwrap();
        f.store.put_console_scan(&scan("req-2", f.rh_a.key_id, now - 5000), now - 10_000).unwrap();
        let got = f.store.console_scan(&f.client, "req-1", now - 1000).unwrap().expect("own result");
        assert_eq!(got, scan("req-1", f.client.key_id, now));
        assert!(f.store.console_scan(&f.admin, "req-1", now - 1000).unwrap().is_some(), "admin");
        assert!(f.store.console_scan(&f.rh_b, "req-1", now - 1000).unwrap().is_none(), "another key");
        assert!(f.store.console_scan(&f.rh_a, "req-2", now - 1000).unwrap().is_none(), "past retention");
        assert!(f.store.console_scan(&f.rh_a, "req-2", now - 10_000).unwrap().is_some());
        let ids = ["req-1".to_string(), "req-2".to_string(), "req-3".to_string()];
        let kept = f.store.console_scans_kept(&ids, now - 1000).unwrap();
        assert_eq!(kept, HashSet::from(["req-1".to_string()]));
        // Writing sweeps what the retention no longer keeps.
        f.store.put_console_scan(&scan("req-3", f.admin.key_id, now), now - 1000).unwrap();
        assert!(f.store.console_scan(&f.admin, "req-2", 0).unwrap().is_none(), "swept");
        assert!(f.store.put_console_scan(&scan("req-3", f.admin.key_id, now), 0).is_err(), "ids are unique");
    }

    #[test]
    pub(crate) fn the_oldest_go_beyond_the_bound() {
        let f = fixture();
        f.store
            .write("fill", |tx| {
                for i in 0..MAX_CONSOLE_SCANS as i64 {
                    tx.execute(
                        "INSERT INTO console_scans (id, owner_key, created_at, view, export) VALUES (?1, ?2, ?3, '', '')",
                        args![format!("req-{i}"), f.admin.key_id, i + 1],
                    )?;
                }
                Ok(())
            })
            .unwrap();
        f.store.put_console_scan(&scan("req-new", f.admin.key_id, now_ms()), 0).unwrap();
        assert!(f.store.console_scan(&f.admin, "req-0", 0).unwrap().is_none(), "the oldest went");
        assert!(f.store.console_scan(&f.admin, "req-1", 0).unwrap().is_some());
        assert!(f.store.console_scan(&f.admin, "req-new", 0).unwrap().is_some());
    }
}
