//! Errors of the detection crate.

/// Why a scan could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DetectError {
    /// The input looks binary.
    #[error("input looks binary (NUL or control bytes), not text; nothing was scanned")]
    Binary,
    /// A setting is out of range.
    #[error("invalid option: {0}")]
    Options(String),
    /// The index failed.
    #[error(transparent)]
    Index(#[from] recital_index::IndexError),
}
