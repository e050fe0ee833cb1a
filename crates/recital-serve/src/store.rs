//! The service's durable store: API keys, registered works, notices and the
//! audit log, in an embedded SQLite file (the default) or in PostgreSQL
//! (several instances sharing one registry).
//!
//! Why SQLite by default: the registry and the audit log are small,
//! relational and written at human rates (notices, registrations) or at
//! decision rates (audit); an embedded file needs no second server to
//! operate, and WAL mode with `synchronous=FULL` makes every commit durable
//! before `Ok` is returned, which is what "a notice is acknowledged only once
//! it is durable" needs. Why PostgreSQL as well: a provider runs several
//! instances behind a load balancer, and a SQLite file ties the registry to
//! one machine. The same guarantee holds there (`synchronous_commit = on`),
//! and each instance learns of the others' changes through
//! `LISTEN`/`NOTIFY` ([`Store::watch`]).
//!
//! The API is synchronous: every call takes the connection lock, runs one
//! transaction and returns. The server calls it from
//! `tokio::task::spawn_blocking` so that an `fsync` or a network round trip
//! never stalls the async runtime. [`Store`] is `Send + Sync`.
//!
//! Layout:
//! - `sql.rs`: the backend-neutral face every query is written against
//!   (values, rows, transactions, change topics);
//! - `sqlite.rs` with `schema.rs`: the SQLite backend, its connection
//!   settings, versioned schema and migrations;
//! - `pg.rs`: the PostgreSQL backend, the same schema versions in its
//!   dialect, and the change listener;
//! - `keys.rs` and `keyfile.rs`: API keys (stored as SHA-256 only) and the `--keys` file;
//! - `works.rs`: works registered by rightsholders;
//! - `notices.rs`: notices and their life cycle;
//! - `signals.rs`: rights signals (TDMRep, robots.txt, ai.txt) posted to the registry;
//! - `audit.rs`: the append-only decision log;
//! - `console.rs`: the web console's sessions and kept scan results;
//! - `reveal.rs`: bytes of source text shown per key and day (`--reveal-budget`);
//! - `time.rs`: Unix-millisecond timestamps and their RFC 3339 form;
//! - `error.rs`: [`StoreError`].
//!
//! Tenancy: every read or write of a work or notice takes the caller's
//! [`Principal`]. A rightsholder sees only its own rows, and a row it does not
//! own is reported exactly as a row that does not exist; an admin sees all;
//! a client has no access to the registry ([`StoreError::Forbidden`]).

/// Defines the text form of a closed set of names (a role, a status):
/// `as_str`, `Display`, `FromStr` with an error that lists the allowed
/// names, and the conversions to and from column values, so that the database holds readable
/// words and a row with an unknown word is reported rather than guessed.
macro_rules! named_enum {
    ($ty:ident, $what:literal, { $($variant:ident => $name:literal),+ $(,)? }) => {
        impl $ty {
            /// The name used in JSON and in the database.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($ty::$variant => $name),+
                }
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $ty {
            type Err = $crate::store::StoreError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($name => Ok($ty::$variant),)+
                    other => Err($crate::store::StoreError::Invalid(format!(
                        "unknown {} {:?}: expected one of {}",
                        $what,
                        other,
                        [$($name),+].join(", ")
                    ))),
                }
            }
        }

        impl $crate::store::sql::ToValue for $ty {
            fn to_value(&self) -> $crate::store::sql::Value {
                $crate::store::sql::Value::Text(self.as_str().to_string())
            }
        }

        impl $crate::store::sql::FromValue for $ty {
            fn from_value(v: $crate::store::sql::Value) -> Result<Self, String> {
                let s = String::from_value(v)?;
                s.parse().map_err(|e: $crate::store::StoreError| e.to_string())
            }
        }
    };
}

mod audit;
mod console;
mod error;
mod keyfile;
mod keys;
mod notices;
mod pg;
mod reveal;
mod schema;
mod signals;
mod sql;
mod sqlite;
pub mod time;
mod works;

#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

use error::SqlContext;
use sql::{args, Tx};

pub use audit::{AuditEntry, AuditQuery, AuditRecord, AUDIT_DEFAULT_LIMIT, AUDIT_MAX_LIMIT};
pub use console::{ConsoleScan, ConsoleSession, MAX_CONSOLE_SCANS, MAX_CONSOLE_SESSIONS};
pub use error::StoreError;
pub use keyfile::load_keys_file;
pub use keys::{hash_secret, KeySpec, KeySync, Principal, Role, Secret, MIN_SECRET_LEN};
pub use notices::{NewNotice, Notice, NoticeStatus, NoticeTarget};
pub use pg::ChangeWatch;
pub use schema::SCHEMA_VERSION;
pub use signals::{NewSignal, RightsSignal, SignalStatus, MAX_SIGNAL_BYTES};
pub use time::{format_rfc3339, now_ms, parse_rfc3339, Timestamp};
pub use works::{NewWork, Work, WorkMode, WorkStatus};

/// Largest page any list call returns; a bigger `limit` is clamped to it, so
/// that one request cannot make the service materialise a whole table.
pub const MAX_PAGE: usize = 1000;

/// Where the store lives: `--db FILE` (SQLite, the embedded default) or
/// `--db postgres://…` (PostgreSQL, shared by several instances).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbLocation {
    /// A SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL connection URL (`postgres://` or `postgresql://`).
    Postgres(String),
}

impl DbLocation {
    /// Reads a `--db` value: a PostgreSQL URL by its scheme, else a file path.
    pub fn parse(s: &str) -> DbLocation {
        let lower = s.get(..13).unwrap_or(s).to_ascii_lowercase();
        if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
            DbLocation::Postgres(s.to_string())
        } else {
            DbLocation::Sqlite(PathBuf::from(s))
        }
    }
}

impl std::fmt::Display for DbLocation {
    /// The file, or the URL without its password (for logs).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DbLocation::Sqlite(p) => write!(f, "{}", p.display()),
            DbLocation::Postgres(url) => f.write_str(&redact_password(url)),
        }
    }
}

/// `postgres://user:secret@host/db` as `postgres://user:***@host/db`.
fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_string() };
    let (auth, tail) = match rest.find(['/', '?']) {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    match auth.rsplit_once('@') {
        Some((user, host)) => match user.split_once(':') {
            Some((name, _)) => format!("{scheme}://{name}:***@{host}{tail}"),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

/// The durable store, on one of two backends.
///
/// Every query is written once against `sql.rs`'s `Tx`; the backends differ in
/// how they connect, lock, migrate and announce changes (`sqlite.rs`,
/// `pg.rs`). The hot read, key lookup on every request, should not go
/// through here at all: load [`Store::active_keys`] into memory at startup
/// and use [`hash_secret`] (see its docs).
pub struct Store {
    backend: Backend,
}

enum Backend {
    Sqlite(sqlite::Sqlite),
    /// Boxed: its connection settings are large, and a store is opened once.
    Postgres(Box<pg::Postgres>),
}

impl Store {
    /// Opens (creating if missing) the store at `path`, applies pending
    /// migrations and refuses a file written by a newer recital
    /// ([`StoreError::NewerSchema`]) or a SQLite file that is not a recital
    /// store.
    ///
    /// A new file is created readable by its owner only (on Unix): it holds
    /// the registered works' texts and the key hashes.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        Ok(Store { backend: Backend::Sqlite(sqlite::Sqlite::open(path)?) })
    }

    /// Opens a fresh store that lives in memory only: for tests.
    pub fn open_in_memory() -> Result<Store, StoreError> {
        Ok(Store { backend: Backend::Sqlite(sqlite::Sqlite::open_in_memory()?) })
    }

    /// Connects to the PostgreSQL database at `url`, creating or upgrading
    /// its schema; refuses a database with other tables or a newer schema.
    /// Several instances may open the same database.
    pub fn open_postgres(url: &str) -> Result<Store, StoreError> {
        Ok(Store { backend: Backend::Postgres(Box::new(pg::Postgres::open(url)?)) })
    }

    /// Opens the store at `db`.
    pub fn open_at(db: &DbLocation) -> Result<Store, StoreError> {
        match db {
            DbLocation::Sqlite(path) => Store::open(path),
            DbLocation::Postgres(url) => Store::open_postgres(url),
        }
    }

    /// Closes the database, reporting any error (dropping a `Store` closes it
    /// too, silently). For graceful shutdown: every acknowledged write is
    /// already durable, so this only leaves a tidy state behind (SQLite: the
    /// WAL checkpointed into a single file).
    pub fn close(self) -> Result<(), StoreError> {
        match self.backend {
            Backend::Sqlite(s) => s.close(),
            Backend::Postgres(p) => (*p).close(),
        }
    }

    /// A listener for changes that other instances commit to a shared store
    /// (PostgreSQL); `None` for a SQLite file, which one instance owns.
    pub fn watch(&self) -> Option<ChangeWatch> {
        match &self.backend {
            Backend::Sqlite(_) => None,
            Backend::Postgres(p) => Some(p.watch()),
        }
    }

    /// How many rows are in each state: for metrics and the status page.
    pub fn counts(&self) -> Result<StoreCounts, StoreError> {
        self.read("count rows", |tx| {
            let r = tx.query_one(
                "SELECT
                    (SELECT count(*) FROM works WHERE status = 'pending'),
                    (SELECT count(*) FROM works WHERE status = 'indexed'),
                    (SELECT count(*) FROM works WHERE status = 'withdrawn'),
                    (SELECT count(*) FROM notices WHERE status = 'received'),
                    (SELECT count(*) FROM notices WHERE status = 'effective'),
                    (SELECT count(*) FROM notices WHERE status IN ('rejected', 'withdrawn')),
                    (SELECT coalesce(max(id), 0) FROM audit),
                    (SELECT count(*) FROM api_keys WHERE revoked_at IS NULL)",
                args![],
            )?;
            let n = |i: usize| -> Result<u64, StoreError> { Ok(r.get::<i64>(i)?.max(0) as u64) };
            Ok(StoreCounts {
                works_pending: n(0)?,
                works_indexed: n(1)?,
                works_withdrawn: n(2)?,
                notices_received: n(3)?,
                notices_effective: n(4)?,
                notices_closed: n(5)?,
                audit_records: n(6)?,
                active_keys: n(7)?,
            })
        })
        .ctx("count rows")
    }

    /// The SQLite connection, for tests that inspect the file.
    #[cfg(test)]
    fn conn(&self) -> std::sync::MutexGuard<'_, rusqlite::Connection> {
        match &self.backend {
            Backend::Sqlite(s) => s.conn(),
            Backend::Postgres(_) => panic!("not a SQLite store"),
        }
    }

    /// Runs `f` in one write transaction and commits: writers are serialised
    /// (SQLite's `IMMEDIATE`; an advisory lock on PostgreSQL), so a
    /// read-then-write sees no other writer in between. `Ok` means committed
    /// and durable.
    fn write<T>(
        &self,
        what: &'static str,
        f: impl FnOnce(&mut dyn Tx) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        match &self.backend {
            Backend::Sqlite(s) => s.transaction(what, true, f),
            Backend::Postgres(p) => p.transaction(what, true, f),
        }
        .ctx(what)
    }

    /// Runs `f` in one read transaction, so that a multi-statement read sees
    /// one snapshot.
    fn read<T>(
        &self,
        what: &'static str,
        f: impl FnOnce(&mut dyn Tx) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        match &self.backend {
            Backend::Sqlite(s) => s.transaction(what, false, f),
            Backend::Postgres(p) => p.transaction(what, false, f),
        }
        .ctx(what)
    }
}

/// Rows per state, from [`Store::counts`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StoreCounts {
    /// Works registered, not yet searchable.
    pub works_pending: u64,
    /// Works searchable.
    pub works_indexed: u64,
    /// Works withdrawn.
    pub works_withdrawn: u64,
    /// Notices acknowledged, not yet in effect.
    pub notices_received: u64,
    /// Notices in effect.
    pub notices_effective: u64,
    /// Notices rejected or withdrawn.
    pub notices_closed: u64,
    /// Audit records (the highest id: the log is append-only, so this is
    /// the count without a scan of the table).
    pub audit_records: u64,
    /// Keys that authenticate.
    pub active_keys: u64,
}

/// A fresh random identifier: `prefix` and 16 hex digits (64 bits).
///
/// Why random rather than sequential: a work id becomes a document id in the
/// index, which outlives any one database file (a recreated database must not
/// hand out an id that a delta shard already uses), and sequential ids would
/// tell one tenant how many works or notices the others have.
fn random_id(prefix: &str) -> Result<String, StoreError> {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).map_err(StoreError::Entropy)?;
    Ok(format!("{prefix}{}", hex::encode(bytes)))
}

/// Which rows of the registry a caller may see.
#[derive(Clone, Copy)]
enum Scope {
    /// Every row (admins).
    All,
    /// The rows owned by this key (rightsholders).
    Owner(i64),
}

impl Scope {
    /// The scope of `who`; clients have none: `what` names the refused act.
    fn of(who: &Principal, what: &str) -> Result<Scope, StoreError> {
        match who.role {
            Role::Admin => Ok(Scope::All),
            Role::Rightsholder => Ok(Scope::Owner(who.key_id)),
            Role::Client => Err(StoreError::Forbidden(format!("a client key cannot {what}"))),
        }
    }

    /// The owner to filter on in SQL (`?n IS NULL OR owner_key = ?n`).
    fn owner(self) -> Option<i64> {
        match self {
            Scope::All => None,
            Scope::Owner(id) => Some(id),
        }
    }
}

/// Clamps a requested page size into `1..=MAX_PAGE`.
fn page_limit(limit: usize) -> usize {
    limit.clamp(1, MAX_PAGE)
}

/// Encodes a list of strings as a JSON array for a TEXT column.
fn to_json_list(v: &[String]) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "[]".into())
}

/// Decodes a JSON array column; a malformed one is a corrupt row.
fn from_json_list(s: &str, what: &str) -> Result<Vec<String>, StoreError> {
    serde_json::from_str(s).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

/// Checks a list of jurisdiction codes and gives `["*"]` (everywhere) for an
/// empty list, the same default as the index's rights metadata.
fn jurisdictions_or_everywhere(list: &[String]) -> Result<Vec<String>, StoreError> {
    for j in list {
        check_jurisdiction(j)?;
    }
    Ok(if list.is_empty() { vec!["*".to_string()] } else { list.to_vec() })
}

/// A jurisdiction code: `*`, or 1–16 ASCII letters, digits, `-` or `_`
/// (`DE`, `EU`, `US-CA`). Anything else is a typo or an injection attempt.
fn check_jurisdiction(j: &str) -> Result<(), StoreError> {
    let ok = j == "*"
        || (!j.is_empty()
            && j.len() <= 16
            && j.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    if ok {
        Ok(())
    } else {
        Err(StoreError::Invalid(format!(
            "jurisdiction {j:?}: expected \"*\" or a code such as \"DE\" or \"US-CA\""
        )))
    }
}

/// Rejects an over-long free-text field: the store is not a blob store for
/// metadata, and the HTTP layer's body limit is not the right place to learn
/// that a title is 10 MB.
fn check_len(field: &str, value: &str, max: usize) -> Result<(), StoreError> {
    if value.len() > max {
        return Err(StoreError::Invalid(format!("{field} is {} bytes; at most {max} allowed", value.len())));
    }
    Ok(())
}
