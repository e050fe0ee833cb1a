//! Why an artefact could not be read or scanned.

use std::path::PathBuf;

/// An error of the artefact scanner. Format errors name the file and the
/// byte offset (in the file, or in the decompressed member they occur in)
/// where the bytes stopped making sense.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ArtefactError {
    /// The file could not be opened or read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The bytes do not follow their format (truncated, lying lengths,
    /// declared sizes past the end of the file, bad headers).
    #[error("{}{member}: offset {offset}: {why}", path.display())]
    Format {
        /// The file.
        path: PathBuf,
        /// The compressed members the error lies in (`" > gzip@1234"`), or empty.
        member: String,
        /// Byte offset in the file or member.
        offset: u64,
        /// What is wrong.
        why: String,
    },
    /// The tokenizer for token-id arrays could not be loaded or used.
    #[error("tokenizer: {0}")]
    Tokenizer(String),
    /// The scanner failed (index errors, invalid options).
    #[error(transparent)]
    Scan(#[from] recital_detect::DetectError),
    /// The consumer of the copies stopped the scan.
    #[error("{0}")]
    Stopped(String),
}

/// Results of this crate.
pub type Result<T, E = ArtefactError> = std::result::Result<T, E>;
