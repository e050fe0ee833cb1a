//! [`StoreError`]: what can go wrong in the store, split so that the HTTP
//! layer can map each kind to a status (403, 404, 400, 500) without parsing
//! messages.

use std::path::PathBuf;

/// An error from the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite failed; `context` says what the store was doing.
    #[error("store: {context}: {source}")]
    Sqlite {
        /// What the store was doing.
        context: String,
        /// SQLite's error.
        #[source]
        source: rusqlite::Error,
    },
    /// PostgreSQL refused a statement; `context` says what the store was doing.
    #[error("store: {context}: {source}")]
    Postgres {
        /// What the store was doing.
        context: String,
        /// The client's error (with the server's message and SQLSTATE).
        #[source]
        source: postgres::Error,
    },
    /// The database server cannot be reached (down, restarting, network
    /// gone). Nothing was written; the caller may retry. The HTTP layer
    /// answers 503.
    #[error("store: {context}: the database is unavailable: {message}")]
    Unavailable {
        /// What the store was doing.
        context: String,
        /// Why, as the client saw it.
        message: String,
    },
    /// A file (the database or the keys file) could not be read or created.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The caller's role may not do this at all (not a question of which
    /// rows it owns; that case is [`StoreError::NotFound`]).
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// No such row, or one the caller may not see: the two are deliberately
    /// indistinguishable, so that ids of other tenants cannot be probed.
    #[error("not found: {0}")]
    NotFound(String),
    /// The input is malformed or not allowed in the row's current state.
    #[error("invalid: {0}")]
    Invalid(String),
    /// The database was written by a newer recital; opening it with this one
    /// could misread or damage it, so it is refused.
    #[error(
        "store schema version {found} is newer than this recital supports ({supported}); upgrade recital or use another database file"
    )]
    NewerSchema {
        /// The file's `user_version`.
        found: i64,
        /// The highest version this build knows.
        supported: i64,
    },
    /// A row holds a value the store never writes (edited by hand, or a bug).
    #[error("store is corrupt: {0}")]
    Corrupt(String),
    /// The operating system's random source failed (ids and secrets need it).
    #[error("OS random source failed: {0}")]
    Entropy(getrandom::Error),
}

impl StoreError {
    /// Wraps a SQLite error with what the store was doing.
    pub(crate) fn sqlite(context: impl Into<String>, source: rusqlite::Error) -> Self {
        StoreError::Sqlite { context: context.into(), source }
    }

    /// Whether the database could not be written for a reason outside the
    /// request (a database server that cannot be reached, another process
    /// holding SQLite's lock, a full or read-only disk, an I/O error): the write did not happen, and the same call
    /// may succeed later, so the service answers 503, not 500.
    pub fn is_unavailable(&self) -> bool {
        use rusqlite::ErrorCode as C;
        if matches!(self, StoreError::Unavailable { .. }) {
            return true;
        }
        let StoreError::Sqlite { source, .. } = self else { return false };
        matches!(
            source.sqlite_error_code(),
            Some(
                C::DatabaseBusy
                    | C::DatabaseLocked
                    | C::DiskFull
                    | C::ReadOnly
                    | C::SystemIoFailure
                    | C::CannotOpen
            )
        )
    }
}

/// Adds context to a database error: what the store was doing.
pub(crate) trait SqlContext<T> {
    /// Maps the error into a [`StoreError`] that says `context`.
    fn ctx(self, context: &str) -> Result<T, StoreError>;
}

impl<T> SqlContext<T> for rusqlite::Result<T> {
    fn ctx(self, context: &str) -> Result<T, StoreError> {
        self.map_err(|e| StoreError::sqlite(context, e))
    }
}

/// A backend's error gets the business operation's name instead of the
/// statement-level one (`execute`, `query`); other errors pass unchanged.
impl<T> SqlContext<T> for Result<T, StoreError> {
    fn ctx(self, what: &str) -> Result<T, StoreError> {
        self.map_err(|e| match e {
            StoreError::Sqlite { source, .. } => StoreError::Sqlite { context: what.into(), source },
            StoreError::Postgres { source, .. } => StoreError::Postgres { context: what.into(), source },
            StoreError::Unavailable { message, .. } => {
                StoreError::Unavailable { context: what.into(), message }
            }
            other => other,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sqlite(code: i32) -> StoreError {
        StoreError::sqlite(
            "insert notice",
            rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(code), None),
        )
    }

    #[test]
    fn locks_full_disks_and_io_errors_are_unavailability_not_bugs() {
        use rusqlite::ffi;
        for code in
            [ffi::SQLITE_BUSY, ffi::SQLITE_LOCKED, ffi::SQLITE_FULL, ffi::SQLITE_READONLY, ffi::SQLITE_IOERR]
        {
            assert!(sqlite(code).is_unavailable(), "{code}");
        }
        for code in [ffi::SQLITE_CONSTRAINT, ffi::SQLITE_CORRUPT, ffi::SQLITE_MISUSE] {
            assert!(!sqlite(code).is_unavailable(), "{code}");
        }
        assert!(!StoreError::Invalid("x".into()).is_unavailable());
    }
}
