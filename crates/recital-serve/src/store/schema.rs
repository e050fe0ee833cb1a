//! Connection settings and the versioned schema.
//!
//! The schema version lives in `PRAGMA user_version` (in the file header, so
//! it changes in the same transaction as the tables it describes), and
//! `PRAGMA application_id` marks the file as a recital store, so that a
//! foreign SQLite file given by mistake is refused instead of being grown
//! tables. Migrations only go forwards; each runs in its own transaction
//! together with its version bump, so a crash mid-upgrade leaves the file at
//! the previous version, intact.

use std::time::Duration;

use rusqlite::{Connection, TransactionBehavior};

use super::error::{SqlContext, StoreError};

/// `application_id` of a recital store: "RCTL".
const APPLICATION_ID: i64 = 0x5243_544C;

/// How long a writer waits for another connection's lock before failing
/// (another process, e.g. an admin tool, or a checkpoint).
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Migrations: entry `i` takes the schema from version `i` to `i + 1`.
/// Append only; never edit a released entry.
const MIGRATIONS: &[&str] = &[V1, V2, V3, V4, V5, V6, V7];

/// The schema version this build writes and reads.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Version 1.
///
/// - `api_keys`: only the SHA-256 of a key (`key_sha256`) is kept. Rows are
///   never deleted, only revoked, so works and notices keep their owner;
///   `source` tells keys from the configuration (replaced at each startup)
///   from keys added at run time.
/// - `works` with `work_texts` apart: listing works never reads the texts,
///   and a withdrawal deletes the text.
/// - `notices`: `work_seq` is set exactly when the target is a work.
/// - `audit` with `audit_rules` and `audit_sources`: indexed lookups of
///   "which decisions cited rule R / document D"; all three are append-only,
///   enforced by triggers.
const V1: &str = r#"
CREATE TABLE api_keys (
    id                   INTEGER PRIMARY KEY,
    name                 TEXT    NOT NULL UNIQUE,
    key_sha256           BLOB    NOT NULL UNIQUE CHECK (length(key_sha256) = 32),
    role                 TEXT    NOT NULL CHECK (role IN ('client', 'rightsholder', 'admin')),
    default_jurisdiction TEXT,
    rate_per_minute      INTEGER CHECK (rate_per_minute IS NULL OR rate_per_minute > 0),
    source               TEXT    NOT NULL CHECK (source IN ('config', 'api')),
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL,
    revoked_at           INTEGER
);

CREATE TABLE works (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    id            TEXT    NOT NULL UNIQUE,
    owner_key     INTEGER NOT NULL REFERENCES api_keys(id),
    title         TEXT,
    license       TEXT    NOT NULL,
    holder        TEXT,
    url           TEXT,
    tdm_opt_out   INTEGER NOT NULL CHECK (tdm_opt_out IN (0, 1)),
    jurisdictions TEXT    NOT NULL,
    category      TEXT,
    mode          TEXT    NOT NULL CHECK (mode IN ('text', 'code')),
    status        TEXT    NOT NULL CHECK (status IN ('pending', 'indexed', 'withdrawn')),
    created_at    INTEGER NOT NULL,
    indexed_at    INTEGER,
    withdrawn_at  INTEGER,
    text_bytes    INTEGER NOT NULL
);
CREATE INDEX works_by_owner ON works(owner_key, seq);
CREATE INDEX works_pending ON works(seq) WHERE status = 'pending';

CREATE TABLE work_texts (
    work_seq INTEGER PRIMARY KEY REFERENCES works(seq),
    text     TEXT NOT NULL
);

CREATE TABLE notices (
    seq              INTEGER PRIMARY KEY AUTOINCREMENT,
    id               TEXT    NOT NULL UNIQUE,
    owner_key        INTEGER NOT NULL REFERENCES api_keys(id),
    target_type      TEXT    NOT NULL CHECK (target_type IN ('work', 'document', 'url')),
    target           TEXT    NOT NULL,
    work_seq         INTEGER REFERENCES works(seq),
    reason           TEXT    NOT NULL,
    requested_action TEXT,
    jurisdictions    TEXT    NOT NULL,
    contact          TEXT,
    status           TEXT    NOT NULL CHECK (status IN ('received', 'effective', 'rejected', 'withdrawn')),
    received_at      INTEGER NOT NULL,
    effective_at     INTEGER,
    closed_at        INTEGER,
    status_detail    TEXT,
    CHECK ((target_type = 'work') = (work_seq IS NOT NULL))
);
CREATE INDEX notices_by_owner ON notices(owner_key, seq);
CREATE INDEX notices_active ON notices(seq) WHERE status IN ('received', 'effective');
CREATE INDEX notices_by_work ON notices(work_seq) WHERE work_seq IS NOT NULL;

CREATE TABLE audit (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    at           INTEGER NOT NULL,
    key_id       INTEGER,
    key_name     TEXT,
    endpoint     TEXT    NOT NULL,
    jurisdiction TEXT    NOT NULL,
    action       TEXT    NOT NULL,
    rules        TEXT    NOT NULL,
    sources      TEXT    NOT NULL,
    statement    TEXT    NOT NULL,
    request_id   TEXT    NOT NULL,
    input_bytes  INTEGER NOT NULL
);
CREATE INDEX audit_at ON audit(at);
CREATE INDEX audit_by_action ON audit(action, id);
CREATE INDEX audit_by_key ON audit(key_name, id);

CREATE TABLE audit_rules (
    rule     TEXT    NOT NULL,
    audit_id INTEGER NOT NULL REFERENCES audit(id),
    PRIMARY KEY (rule, audit_id)
) WITHOUT ROWID;

CREATE TABLE audit_sources (
    doc_id   TEXT    NOT NULL,
    audit_id INTEGER NOT NULL REFERENCES audit(id),
    PRIMARY KEY (doc_id, audit_id)
) WITHOUT ROWID;

CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_rules_no_update BEFORE UPDATE ON audit_rules
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_rules_no_delete BEFORE DELETE ON audit_rules
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_sources_no_update BEFORE UPDATE ON audit_sources
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_sources_no_delete BEFORE DELETE ON audit_sources
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"#;

/// Version 2: `works.language`, the programming language a code work was
/// indexed as, so that a work re-indexed after a crash (or a rebuild) gets the
/// same canonical stream as when it was registered.
const V2: &str = "ALTER TABLE works ADD COLUMN language TEXT;";

/// Version 3: each audit record names the channels of the output whose
/// spans were flagged (`text`, `reasoning`, `tool_arguments[0]`, …), a JSON
/// list like `rules` and `sources`. Records written before knew only the text.
const V3: &str = r#"ALTER TABLE audit ADD COLUMN channels TEXT NOT NULL DEFAULT '["text"]';"#;

/// Version 4: the web console's sessions and scan results, so that a
/// restart keeps reviewers signed in and their results at their URLs.
///
/// - `console_sessions`: only the SHA-256 of a session token is kept, as
///   for API keys; a session ends at `expires_at`, at sign-out, or when its
///   key is revoked (the lookup joins `api_keys`).
/// - `console_scans`: the page's view model and the JSON export, both as
///   the API limits them; `created_at` against the retention time decides
///   whether one is still kept, so a shorter retention applies at once.
const V4: &str = r#"
CREATE TABLE console_sessions (
    token_sha256 BLOB    PRIMARY KEY CHECK (length(token_sha256) = 32),
    key_id       INTEGER NOT NULL REFERENCES api_keys(id),
    csrf         TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX console_sessions_by_expiry ON console_sessions(expires_at);
CREATE INDEX console_sessions_by_age ON console_sessions(created_at);

CREATE TABLE console_scans (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    id         TEXT    NOT NULL UNIQUE,
    owner_key  INTEGER NOT NULL REFERENCES api_keys(id),
    created_at INTEGER NOT NULL,
    view       TEXT    NOT NULL,
    export     TEXT    NOT NULL
);
CREATE INDEX console_scans_by_age ON console_scans(created_at);
"#;

/// Version 5: works by ISCC.
///
/// - `works.iscc`: the Text-Code of a registered work, computed when it is
///   registered (works registered before have none until registered again).
/// - `notices.target_type` may be `iscc`. SQLite cannot change a CHECK
///   constraint in place, so the table is rebuilt with its rows, ids and
///   sequence as they were (nothing references `notices`).
const V5: &str = r#"
ALTER TABLE works ADD COLUMN iscc TEXT;

CREATE TABLE notices_v5 (
    seq              INTEGER PRIMARY KEY AUTOINCREMENT,
    id               TEXT    NOT NULL UNIQUE,
    owner_key        INTEGER NOT NULL REFERENCES api_keys(id),
    target_type      TEXT    NOT NULL CHECK (target_type IN ('work', 'document', 'url', 'iscc')),
    target           TEXT    NOT NULL,
    work_seq         INTEGER REFERENCES works(seq),
    reason           TEXT    NOT NULL,
    requested_action TEXT,
    jurisdictions    TEXT    NOT NULL,
    contact          TEXT,
    status           TEXT    NOT NULL CHECK (status IN ('received', 'effective', 'rejected', 'withdrawn')),
    received_at      INTEGER NOT NULL,
    effective_at     INTEGER,
    closed_at        INTEGER,
    status_detail    TEXT,
    CHECK ((target_type = 'work') = (work_seq IS NOT NULL))
);
INSERT INTO notices_v5 (seq, id, owner_key, target_type, target, work_seq, reason, requested_action,
                        jurisdictions, contact, status, received_at, effective_at, closed_at, status_detail)
    SELECT seq, id, owner_key, target_type, target, work_seq, reason, requested_action,
           jurisdictions, contact, status, received_at, effective_at, closed_at, status_detail
    FROM notices;
DROP TABLE notices;
ALTER TABLE notices_v5 RENAME TO notices;
CREATE INDEX notices_by_owner ON notices(owner_key, seq);
CREATE INDEX notices_active ON notices(seq) WHERE status IN ('received', 'effective');
CREATE INDEX notices_by_work ON notices(work_seq) WHERE work_seq IS NOT NULL;
"#;

/// Version 6: rights signals posted to the registry (`signals.rs`), kept
/// as posted (URL, headers as a JSON object, body) and withdrawn rather
/// than deleted, like notices.
const V6: &str = r#"
CREATE TABLE signals (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    id           TEXT    NOT NULL UNIQUE,
    owner_key    INTEGER NOT NULL REFERENCES api_keys(id),
    url          TEXT    NOT NULL,
    headers      TEXT    NOT NULL,
    body         TEXT    NOT NULL,
    observed     TEXT    NOT NULL,
    status       TEXT    NOT NULL CHECK (status IN ('active', 'withdrawn')),
    received_at  INTEGER NOT NULL,
    withdrawn_at INTEGER
);
CREATE INDEX signals_by_owner ON signals(owner_key, seq);
CREATE INDEX signals_active ON signals(seq) WHERE status = 'active';
"#;

/// Version 7: `reveal_spent`, the bytes of source text `/v1/scan` showed each
/// key per UTC day (`--reveal-budget`; see `reveal.rs`), kept here so that
/// a restart does not renew the budget. No foreign key: an open server
/// (no keys) counts against a principal that has no `api_keys` row.
const V7: &str = "
CREATE TABLE reveal_spent (
    key_id INTEGER NOT NULL,
    day    INTEGER NOT NULL,
    bytes  INTEGER NOT NULL CHECK (bytes >= 0),
    PRIMARY KEY (key_id, day)
) WITHOUT ROWID;
";

/// Per-connection settings.
///
/// - WAL: readers do not block the writer, and a commit is one append.
/// - `synchronous=FULL`: in WAL mode, `NORMAL` may lose the last commits on
///   power loss; `FULL` syncs the WAL at every commit, so a returned `Ok`
///   (an acknowledged notice) survives a crash of the process *and* of the
///   machine.
/// - `foreign_keys=ON`: SQLite leaves them off by default.
/// - `busy_timeout`: wait for a lock held by another process rather than
///   failing at once.
pub(super) fn configure(conn: &Connection) -> Result<(), StoreError> {
    conn.busy_timeout(BUSY_TIMEOUT).ctx("set busy timeout")?;
    let mode: String =
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0)).ctx("enable WAL")?;
    // An in-memory database reports "memory"; it has nothing to make durable.
    if !mode.eq_ignore_ascii_case("wal") && !mode.eq_ignore_ascii_case("memory") {
        return Err(StoreError::Invalid(format!(
            "the database refused WAL mode (journal_mode is {mode:?}); is it on a network file system?"
        )));
    }
    conn.pragma_update(None, "synchronous", "FULL").ctx("set synchronous=FULL")?;
    conn.pragma_update(None, "foreign_keys", true).ctx("enable foreign keys")?;
    Ok(())
}

/// Brings the schema up to [`SCHEMA_VERSION`], refusing newer or foreign files.
pub(super) fn migrate(conn: &mut Connection, name: &str) -> Result<(), StoreError> {
    let (version, app_id) = header(conn)?;
    check_header(version, app_id, name)?;
    if version == 0 {
        let tables: i64 = conn
            .query_row("SELECT count(*) FROM sqlite_master WHERE type = 'table'", [], |r| r.get(0))
            .ctx("inspect schema")?;
        if tables > 0 {
            return Err(StoreError::Invalid(format!(
                "{name} is not a recital store: it has {tables} tables but no recital schema version"
            )));
        }
    }
    for target in version + 1..=SCHEMA_VERSION {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).ctx("begin migration")?;
        // Another process may have migrated while we waited for the lock.
        let (now, app_id) = header(&tx)?;
        check_header(now, app_id, name)?;
        if now >= target {
            continue;
        }
        tracing::info!(store = name, from = now, to = target, "migrating store schema");
        tx.execute_batch(MIGRATIONS[(target - 1) as usize]).ctx("apply migration")?;
        tx.pragma_update(None, "user_version", target).ctx("set schema version")?;
        tx.pragma_update(None, "application_id", APPLICATION_ID).ctx("set application id")?;
        tx.commit().ctx("commit migration")?;
    }
    Ok(())
}

fn header(conn: &Connection) -> Result<(i64, i64), StoreError> {
    let version: i64 =
        conn.pragma_query_value(None, "user_version", |r| r.get(0)).ctx("read schema version")?;
    let app_id: i64 =
        conn.pragma_query_value(None, "application_id", |r| r.get(0)).ctx("read application id")?;
    Ok((version, app_id))
}

fn check_header(version: i64, app_id: i64, name: &str) -> Result<(), StoreError> {
    if app_id != 0 && app_id != APPLICATION_ID {
        return Err(StoreError::Invalid(format!(
            "{name} is not a recital store (SQLite application_id is {app_id:#x})"
        )));
    }
    if version > SCHEMA_VERSION {
        return Err(StoreError::NewerSchema { found: version, supported: SCHEMA_VERSION });
    }
    if version < 0 {
        return Err(StoreError::Corrupt(format!("{name}: negative schema version {version}")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::Store;
    use super::*;

    #[test]
    fn file_store_is_wal_full_sync_with_foreign_keys() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.db")).unwrap();
        let conn = store.conn();
        let mode: String = conn.pragma_query_value(None, "journal_mode", |r| r.get(0)).unwrap();
        let sync: i64 = conn.pragma_query_value(None, "synchronous", |r| r.get(0)).unwrap();
        let fk: i64 = conn.pragma_query_value(None, "foreign_keys", |r| r.get(0)).unwrap();
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
        assert_eq!(mode, "wal");
        assert_eq!(sync, 2, "synchronous must be FULL (2)");
        assert_eq!(fk, 1);
        assert_eq!(version, SCHEMA_VERSION);
    }

    #[test]
    fn reopening_keeps_data_and_version() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        drop(Store::open(&path).unwrap());
        let store = Store::open(&path).unwrap();
        let v: i64 = store.conn().pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
        assert_eq!(v, SCHEMA_VERSION);
    }

    #[test]
    fn version_1_store_is_migrated_keeping_its_works() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v1.db");
        {
            // A store as version 1 wrote it, with one work.
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(V1).unwrap();
            conn.pragma_update(None, "user_version", 1).unwrap();
            conn.pragma_update(None, "application_id", APPLICATION_ID).unwrap();
            conn.execute_batch(
                "INSERT INTO api_keys (id, name, key_sha256, role, source, created_at, updated_at)
                     VALUES (1, 'rh', zeroblob(32), 'rightsholder', 'api', 0, 0);
                 INSERT INTO works (id, owner_key, license, tdm_opt_out, jurisdictions, mode, status,
                                    created_at, text_bytes)
                     VALUES ('work-1', 1, 'MIT', 0, '[\"*\"]', 'code', 'indexed', 0, 3);
                 INSERT INTO notices (id, owner_key, target_type, target, work_seq, reason, jurisdictions,
                                      status, received_at, effective_at)
                     VALUES ('ntc-1', 1, 'work', 'work-1', 1, 'mine', '[\"*\"]', 'effective', 5, 6);",
            )
            .unwrap();
        }
        let store = Store::open(&path).unwrap();
        let conn = store.conn();
        let v: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
        assert_eq!(v, SCHEMA_VERSION);
        let (id, lang): (String, Option<String>) =
            conn.query_row("SELECT id, language FROM works", [], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
        assert_eq!((id.as_str(), lang), ("work-1", None));
        drop(conn);
        // The notices table was rebuilt (version 5) with its rows, and takes ISCC targets.
        let n = store.active_notices().unwrap();
        assert_eq!((n.len(), n[0].id.as_str(), n[0].effective_at), (1, "ntc-1", Some(6)));
        let rh = crate::store::Principal {
            key_id: 1,
            name: "rh".into(),
            role: crate::store::Role::Rightsholder,
            default_jurisdiction: None,
            rate_per_minute: None,
        };
        let iscc = crate::store::NewNotice {
            target: crate::store::NoticeTarget::Iscc { iscc: "ISCC:EAASKDNZNYGUUF5A".into() },
            reason: "mine".into(),
            requested_action: None,
            jurisdictions: vec![],
            contact: None,
        };
        let filed = store.insert_notice(&rh, &iscc).unwrap();
        assert!(filed.id != "ntc-1");
        assert_eq!(store.active_notices().unwrap().len(), 2);
    }

    #[test]
    fn newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        drop(Store::open(&path).unwrap());
        {
            let conn = Connection::open(&path).unwrap();
            conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1).unwrap();
        }
        match Store::open(&path) {
            Err(StoreError::NewerSchema { found, supported }) => {
                assert_eq!((found, supported), (SCHEMA_VERSION + 1, SCHEMA_VERSION));
            }
            Err(other) => panic!("expected NewerSchema, got {other}"),
            Ok(_) => panic!("a newer schema was opened"),
        }
        let msg = StoreError::NewerSchema { found: 9, supported: 1 }.to_string();
        assert!(msg.contains("newer") && msg.contains('9') && msg.contains('1'), "{msg}");
    }

    #[test]
    fn foreign_sqlite_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("other.db");
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch("CREATE TABLE mine (x INTEGER)").unwrap();
        }
        let err = Store::open(&path).err().expect("foreign file opened");
        assert!(err.to_string().contains("not a recital store"), "{err}");
        let path2 = dir.path().join("other2.db");
        {
            let conn = Connection::open(&path2).unwrap();
            conn.pragma_update(None, "application_id", 42).unwrap();
        }
        let err = Store::open(&path2).err().expect("foreign application id opened");
        assert!(err.to_string().contains("application_id"), "{err}");
    }

    #[test]
    fn a_file_that_is_not_sqlite_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("junk.db");
        std::fs::write(&path, vec![0x5a; 8192]).unwrap();
        assert!(Store::open(&path).is_err());
    }

    #[cfg(unix)]
    #[test]
    fn new_file_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        drop(Store::open(&path).unwrap());
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "mode {mode:o}");
    }
}
