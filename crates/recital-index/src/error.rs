//! The error type of the index crate: every variant names the file or input it is about.

use std::path::{Path, PathBuf};

/// Errors from building, opening and querying an index.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IndexError {
    /// An operating-system error on a path.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file is not a recital index file at all.
    #[error("{path}: not a recital index file (bad magic bytes)")]
    Foreign {
        /// The file.
        path: PathBuf,
    },
    /// The file is damaged.
    #[error("{path}: corrupt index file: {why}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        why: String,
    },
    /// The file was written by another format version.
    #[error("{path}: index format version {found} is not supported by this recital (reads {}..={}); rebuild the index with this version or use a matching recital", supported.0, supported.1)]
    Version {
        /// The file.
        path: PathBuf,
        /// Version in the file.
        found: u32,
        /// Range this build reads.
        supported: (u32, u32),
    },
    /// The input given by the user is unusable.
    #[error("{0}")]
    Input(String),
    /// The operation is not supported here.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// Suffix array construction failed.
    #[error("suffix array construction failed: {0}")]
    Sais(String),
}

impl IndexError {
    /// Wraps an I/O error with its path.
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        IndexError::Io { path: path.to_owned(), source }
    }
}

/// Result alias of the index crate.
pub type Result<T, E = IndexError> = std::result::Result<T, E>;
