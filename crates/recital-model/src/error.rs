//! Errors of model backends.

use std::path::PathBuf;

/// Result alias.
pub type Result<T, E = ModelError> = std::result::Result<T, E>;

/// What can go wrong loading or running a model.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// A file the model needs is missing.
    #[error("model at {dir}: missing {file} ({why})")]
    MissingFile {
        /// Model directory.
        dir: PathBuf,
        /// The missing file.
        file: String,
        /// What it is for.
        why: String,
    },
    /// The model specification names nothing recital can load.
    #[error("cannot load model {spec:?}: {why}")]
    Unsupported {
        /// The path or URL given.
        spec: String,
        /// Why.
        why: String,
    },
    /// The tokenizer does not fit the model.
    #[error("tokenizer mismatch: {0}")]
    TokenizerMismatch(String),
    /// The tokenizer failed.
    #[error("tokenizer: {0}")]
    Tokenizer(String),
    /// A malformed file.
    #[error("{path}: {why}")]
    BadFile {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        why: String,
    },
    /// An OpenAI-compatible endpoint failed or lacks a capability.
    #[error("endpoint {url}: {why}")]
    Endpoint {
        /// The endpoint.
        url: String,
        /// What happened.
        why: String,
    },
    /// The endpoint does not return log-probabilities.
    #[error("endpoint {url} returned no log-probabilities for {what}; the audit needs an endpoint that implements `logprobs` (and `echo` for scoring), such as vLLM or `recital model serve`")]
    NoLogprobs {
        /// The endpoint.
        url: String,
        /// Which request.
        what: String,
    },
    /// A request the model cannot answer (empty context, too long…).
    #[error("{0}")]
    Invalid(String),
    /// An I/O error.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The tensor library failed.
    #[error("tensor: {0}")]
    Tensor(String),
}

impl ModelError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io { path: path.into(), source }
    }
}

#[cfg(feature = "candle")]
impl From<candle_core::Error> for ModelError {
    fn from(e: candle_core::Error) -> Self {
        Self::Tensor(e.to_string())
    }
}
