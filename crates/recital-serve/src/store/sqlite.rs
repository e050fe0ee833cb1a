//! The embedded backend: one SQLite file (the default, for one instance).
//!
//! One connection behind a mutex: writes in SQLite are serialised anyway, and
//! the registry's read traffic is light. Settings and migrations are in
//! `schema.rs`.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, TransactionBehavior};

use super::error::{SqlContext, StoreError};
use super::schema;
use super::sql::{Row, Topic, Tx, Value};

pub(super) struct Sqlite {
    conn: Mutex<Connection>,
}

impl Sqlite {
    pub(super) fn open(path: &Path) -> Result<Sqlite, StoreError> {
        create_private(path)?;
        let conn =
            Connection::open(path).map_err(|e| StoreError::sqlite(format!("open {}", path.display()), e))?;
        Self::from_connection(conn, &path.display().to_string())
    }

    pub(super) fn open_in_memory() -> Result<Sqlite, StoreError> {
        let conn = Connection::open_in_memory().map_err(|e| StoreError::sqlite("open in-memory store", e))?;
        Self::from_connection(conn, ":memory:")
    }

    fn from_connection(mut conn: Connection, name: &str) -> Result<Sqlite, StoreError> {
        schema::configure(&conn)?;
        schema::migrate(&mut conn, name)?;
        Ok(Sqlite { conn: Mutex::new(conn) })
    }

    /// Checkpoints the WAL into the main file and closes the database.
    pub(super) fn close(self) -> Result<(), StoreError> {
        let conn = self.conn.into_inner().unwrap_or_else(|poisoned| poisoned.into_inner());
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())).ctx("checkpoint")?;
        conn.close().map_err(|(_, e)| StoreError::sqlite("close", e))
    }

    /// The connection. A poisoned lock is taken over: a panic in another
    /// caller dropped its transaction, which SQLite rolled back, so the
    /// connection is in a consistent state.
    pub(super) fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Runs `f` in one transaction and commits. A write is `IMMEDIATE`: it
    /// takes the write lock up front, so a read-then-write never fails half
    /// way with `SQLITE_BUSY` upgrading its lock. A read is deferred, so that
    /// a multi-statement read sees one snapshot.
    pub(super) fn transaction<T>(
        &self,
        what: &'static str,
        write: bool,
        f: impl FnOnce(&mut dyn Tx) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.conn();
        let behavior = if write { TransactionBehavior::Immediate } else { TransactionBehavior::Deferred };
        let tx = conn.transaction_with_behavior(behavior).map_err(|e| StoreError::sqlite(what, e))?;
        let out = f(&mut SqliteTx(&tx))?;
        tx.commit().map_err(|e| StoreError::sqlite(what, e))?;
        Ok(out)
    }
}

struct SqliteTx<'a, 'c>(&'a rusqlite::Transaction<'c>);

impl Tx for SqliteTx<'_, '_> {
    fn execute(&mut self, sql: &str, args: &[Value]) -> Result<u64, StoreError> {
        let mut stmt = self.0.prepare_cached(sql).ctx("prepare")?;
        let n = stmt.execute(rusqlite::params_from_iter(args)).ctx("execute")?;
        Ok(n as u64)
    }

    fn query(&mut self, sql: &str, args: &[Value]) -> Result<Vec<Row>, StoreError> {
        let mut stmt = self.0.prepare_cached(sql).ctx("prepare")?;
        let columns = stmt.column_count();
        let mut rows = stmt.query(rusqlite::params_from_iter(args)).ctx("query")?;
        let mut out = Vec::new();
        while let Some(r) = rows.next().ctx("query")? {
            let row =
                (0..columns).map(|i| r.get_ref(i).map(value_of)).collect::<Result<_, _>>().ctx("read row")?;
            out.push(Row(row));
        }
        Ok(out)
    }

    fn notify(&mut self, _topic: Topic) -> Result<(), StoreError> {
        // One file, one process: nobody else to tell.
        Ok(())
    }
}

fn value_of(v: ValueRef<'_>) -> Value {
    match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::Int(i),
        // The schema has no REAL column; shown as text, it fails any typed read.
        ValueRef::Real(f) => Value::Text(f.to_string()),
        ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => Value::Blob(b.to_vec()),
    }
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Value::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Value::Int(i) => ToSqlOutput::Borrowed(ValueRef::Integer(*i)),
            Value::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
            Value::Blob(b) => ToSqlOutput::Borrowed(ValueRef::Blob(b)),
        })
    }
}

/// Creates `path` with owner-only permissions if it does not exist yet.
/// SQLite gives its `-wal` and `-shm` files the main file's permissions.
fn create_private(path: &Path) -> Result<(), StoreError> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    match opts.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(StoreError::Io { path: path.to_path_buf(), source: e }),
    }
}
