//! Errors and warnings about a policy file, each with its place in the file.

use std::path::PathBuf;

/// Why a policy could not be read.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// The file is not valid TOML.
    #[error("{origin}:{line}:{col}: {msg}")]
    Parse {
        /// File name (or other origin) of the policy.
        origin: String,
        /// Line, from 1.
        line: usize,
        /// Column in characters, from 1.
        col: usize,
        /// What is wrong.
        msg: String,
    },
    /// The file is valid TOML but not a valid policy.
    #[error("{origin}:{line}: {msg}")]
    Invalid {
        /// File name (or other origin) of the policy.
        origin: String,
        /// Line of the offending key or value, from 1.
        line: usize,
        /// What is wrong, and what would be right.
        msg: String,
    },
    /// The file could not be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
}

impl PolicyError {
    /// The line the error is on (0 for an I/O error).
    pub fn line(&self) -> usize {
        match self {
            PolicyError::Parse { line, .. } | PolicyError::Invalid { line, .. } => *line,
            PolicyError::Io { .. } => 0,
        }
    }
}

/// Something legal but probably not what the author meant.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Warning {
    /// File name (or other origin) of the policy.
    pub origin: String,
    /// Line, from 1.
    pub line: usize,
    /// What looks wrong.
    pub msg: String,
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: warning: {}", self.origin, self.line, self.msg)
    }
}
