//! What can go wrong while filtering.

/// A filter failure. Input problems are the caller's (`Input`); the rest are
/// the scanner's or the policy's.
#[derive(Debug, thiserror::Error)]
pub enum FilterError {
    /// The output is not text (binary bytes).
    #[error("the text looks binary (NUL or control bytes); it is not a model output")]
    Binary,
    /// The output or its wrapper could not be read.
    #[error("{0}")]
    Input(String),
    /// The scan failed.
    #[error("scan failed: {0}")]
    Scan(#[from] recital_detect::DetectError),
    /// Anything the judge reports (an implementation outside this crate).
    #[error("{0}")]
    Judge(String),
}

impl FilterError {
    /// The scan's error, with binary input told apart (the caller's fault).
    pub fn from_scan(e: recital_detect::DetectError) -> Self {
        match e {
            recital_detect::DetectError::Binary => FilterError::Binary,
            other => FilterError::Scan(other),
        }
    }
}
