//! What can go wrong while guarding.

/// An error of the decode-time guard.
#[derive(Debug, thiserror::Error)]
pub enum GuardError {
    /// The index could not be read.
    #[error(transparent)]
    Index(#[from] recital_index::IndexError),
    /// The caller gave something the guard cannot use.
    #[error("{0}")]
    Input(String),
}
