//! The one error type of the crate: every variant names the file, URL or
//! line at fault.

use std::path::PathBuf;

/// Why signals could not be imported.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RightsError {
    /// A file could not be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A file is not what its kind promises (a WARC that does not parse, a
    /// REUSE.toml that is not TOML, ScanCode output that is not JSON).
    #[error("{at}: {why}")]
    Format {
        /// `FILE` or `FILE:LINE`.
        at: String,
        /// What is wrong.
        why: String,
    },
    /// Nothing to import from this path.
    #[error("{}: {why}", path.display())]
    Unrecognised {
        /// The path given.
        path: PathBuf,
        /// What was looked for.
        why: String,
    },
}

impl RightsError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        RightsError::Io { path: path.into(), source }
    }

    pub(crate) fn format(at: impl Into<String>, why: impl Into<String>) -> Self {
        RightsError::Format { at: at.into(), why: why.into() }
    }
}

/// Results of this crate.
pub type Result<T, E = RightsError> = std::result::Result<T, E>;
