//! Extractors: from the bytes of an artefact to segments of text with their
//! places, pushed into a [`Sink`].
//!
//! A file's format is told by its first bytes, never by its name, and a
//! compressed stream is read as whatever its content is. Everything is read
//! as a stream: no extractor holds more than one value, record or block, so
//! memory does not grow with the file. Declared lengths are checked against
//! what is left of the file before anything is allocated for them.

mod compressed;
mod gguf;
mod jsonl;
mod npy;
#[cfg(feature = "parquet")]
mod parquet;
mod safetensors;
mod sqlite;
mod strings;

use std::io::{BufRead, Read};
use std::path::Path;
use std::sync::Arc;

use crate::error::{ArtefactError, Result};
use crate::place::{members_label, Member, Sink};

pub use npy::TokenDecoder;

/// How artefacts are read.
#[derive(Clone)]
pub struct ExtractOptions {
    /// Decodes token-id arrays (`.npy`); without it they are read as bytes.
    pub tokenizer: Option<Arc<TokenDecoder>>,
    /// Shortest run of printable characters taken from unstructured bytes.
    pub min_run: usize,
    /// How deep compressed members are opened inside each other.
    pub max_depth: usize,
    /// Whether gzip and zstd members found inside unstructured bytes of a
    /// file (not only at its start) are opened.
    pub embedded_members: bool,
}

impl Default for ExtractOptions {
    fn default() -> Self {
        Self { tokenizer: None, min_run: 24, max_depth: 4, embedded_members: true }
    }
}

impl std::fmt::Debug for ExtractOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExtractOptions")
            .field("tokenizer", &self.tokenizer.is_some())
            .field("min_run", &self.min_run)
            .field("max_depth", &self.max_depth)
            .field("embedded_members", &self.embedded_members)
            .finish()
    }
}

/// What reading one file came to.
#[derive(Debug, Clone, Default)]
pub struct FileSummary {
    /// The format of the file's first bytes (`gguf`, `gzip`, `strings`, …).
    pub kind: &'static str,
    /// Bytes of the file read.
    pub bytes: u64,
    /// Compressed members opened (at the start or inside).
    pub members: u64,
    /// Problems that did not stop the file (a damaged member inside it, lines
    /// that are not JSON).
    pub warnings: Vec<String>,
}

/// Reads `path` and pushes its text into `sink`.
pub fn extract_file(path: &Path, opts: &ExtractOptions, sink: &mut dyn Sink) -> Result<FileSummary> {
    let file = std::fs::File::open(path).map_err(|e| io_err(path, e))?;
    let len = file.metadata().map_err(|e| io_err(path, e))?.len();
    let mut summary = FileSummary::default();
    let mut ctx = Ctx { path, opts, members: Vec::new(), summary: &mut summary };
    let mut src = Src::new(Box::new(std::io::BufReader::with_capacity(1 << 16, file)), Some(len));
    ctx.stream(&mut src, sink)?;
    summary.bytes = len;
    Ok(summary)
}

fn io_err(path: &Path, source: std::io::Error) -> ArtefactError {
    ArtefactError::Io { path: path.to_path_buf(), source }
}

/// What an extractor knows of where it is.
pub(crate) struct Ctx<'a> {
    path: &'a Path,
    opts: &'a ExtractOptions,
    /// The members the current stream lies in, outermost first.
    members: Vec<Member>,
    summary: &'a mut FileSummary,
}

/// The formats told by their first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Gguf,
    Safetensors,
    Npy,
    Gzip,
    Zstd,
    Parquet,
    Sqlite,
    Jsonl,
    Strings,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Gguf => "gguf",
            Kind::Safetensors => "safetensors",
            Kind::Npy => "npy",
            Kind::Gzip => "gzip",
            Kind::Zstd => "zstd",
            Kind::Parquet => "parquet",
            Kind::Sqlite => "sqlite",
            Kind::Jsonl => "jsonl",
            Kind::Strings => "strings",
        }
    }

    /// The format whose magic `head` starts with.
    fn sniff(head: &[u8]) -> Kind {
        if head.starts_with(b"GGUF") {
            Kind::Gguf
        } else if head.starts_with(b"\x93NUMPY") {
            Kind::Npy
        } else if head.starts_with(compressed::GZIP_MAGIC) {
            Kind::Gzip
        } else if head.starts_with(compressed::ZSTD_MAGIC) {
            Kind::Zstd
        } else if head.starts_with(b"PAR1") {
            Kind::Parquet
        } else if head.starts_with(b"SQLite format 3\0") {
            Kind::Sqlite
        } else if safetensors::looks_like(head) {
            Kind::Safetensors
        } else if head.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{') {
            Kind::Jsonl
        } else {
            Kind::Strings
        }
    }
}

impl Ctx<'_> {
    /// Reads a stream (the file, or a member's content) as its first bytes say.
    fn stream(&mut self, src: &mut Src<'_>, sink: &mut dyn Sink) -> Result<()> {
        let head = src.peek(64).map_err(|e| self.err(0, e.to_string()))?;
        let kind = Kind::sniff(head);
        if self.members.is_empty() {
            self.summary.kind = kind.name();
        }
        tracing::debug!(path = %self.path.display(), kind = kind.name(), members = %members_label(&self.members), "reading");
        match kind {
            Kind::Gguf => gguf::extract(self, src, sink),
            Kind::Safetensors => safetensors::extract(self, src, sink),
            Kind::Npy => npy::extract(self, src, sink),
            Kind::Gzip | Kind::Zstd => compressed::extract(self, src, kind, sink),
            Kind::Parquet | Kind::Sqlite if !self.members.is_empty() => {
                self.summary.warnings.push(format!(
                    "{}{}: a {} file inside a compressed member is not opened (decompress it first); read as bytes",
                    self.path.display(),
                    members_label(&self.members),
                    kind.name()
                ));
                strings::extract(self, src, sink)
            }
            Kind::Parquet => self.parquet(sink),
            Kind::Sqlite => sqlite::extract(self, sink),
            Kind::Jsonl => jsonl::extract(self, src, sink),
            Kind::Strings => strings::extract(self, src, sink),
        }
    }

    #[cfg(feature = "parquet")]
    fn parquet(&mut self, sink: &mut dyn Sink) -> Result<()> {
        parquet::extract(self, sink)
    }

    #[cfg(not(feature = "parquet"))]
    fn parquet(&mut self, _: &mut dyn Sink) -> Result<()> {
        Err(self.err(
            0,
            "a Parquet file, and this recital was built without Parquet support (cargo feature `parquet`)",
        ))
    }

    /// A format error at `offset` of the current stream.
    fn err(&self, offset: u64, why: impl Into<String>) -> ArtefactError {
        ArtefactError::Format {
            path: self.path.to_path_buf(),
            member: members_label(&self.members),
            offset,
            why: why.into(),
        }
    }

    /// An I/O error of the current stream at `offset`, as a format error
    /// (a decoder's complaint is about the bytes, not the disk).
    fn read_err(&self, offset: u64, e: std::io::Error) -> ArtefactError {
        let why = match e.kind() {
            std::io::ErrorKind::UnexpectedEof => "the data ends early (truncated)".to_string(),
            _ => e.to_string(),
        };
        self.err(offset, why)
    }
}

/// A byte stream that knows its position (for error messages and places),
/// its length when it is a file, and can peek at its first bytes.
pub(crate) struct Src<'r> {
    inner: Box<dyn BufRead + 'r>,
    pos: u64,
    len: Option<u64>,
    head: Vec<u8>,
    head_at: usize,
}

impl<'r> Src<'r> {
    fn new(inner: Box<dyn BufRead + 'r>, len: Option<u64>) -> Self {
        Self { inner, pos: 0, len, head: Vec::new(), head_at: 0 }
    }

    /// Up to `n` first bytes, without consuming them (only at the start).
    fn peek(&mut self, n: usize) -> std::io::Result<&[u8]> {
        while self.head.len() < n {
            let buf = self.inner.fill_buf()?;
            if buf.is_empty() {
                break;
            }
            let take = buf.len().min(n - self.head.len());
            self.head.extend_from_slice(&buf[..take]);
            self.inner.consume(take);
        }
        Ok(&self.head)
    }

    /// Bytes left, when the length is known.
    fn remaining(&self) -> Option<u64> {
        self.len.map(|l| l.saturating_sub(self.pos))
    }

    /// Reads exactly `buf.len()` bytes.
    fn exact(&mut self, buf: &mut [u8]) -> std::io::Result<()> {
        self.read_exact(buf)
    }

    /// Skips `n` bytes.
    fn skip(&mut self, n: u64) -> std::io::Result<()> {
        let got = std::io::copy(&mut self.by_ref().take(n), &mut std::io::sink())?;
        if got < n {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        Ok(())
    }
}

impl Read for Src<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = if self.head_at < self.head.len() {
            let n = buf.len().min(self.head.len() - self.head_at);
            buf[..n].copy_from_slice(&self.head[self.head_at..self.head_at + n]);
            self.head_at += n;
            n
        } else {
            self.inner.read(buf)?
        };
        self.pos += n as u64;
        Ok(n)
    }
}

impl BufRead for Src<'_> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        if self.head_at < self.head.len() {
            return Ok(&self.head[self.head_at..]);
        }
        self.inner.fill_buf()
    }

    fn consume(&mut self, n: usize) {
        if self.head_at < self.head.len() {
            self.head_at += n;
        } else {
            self.inner.consume(n);
        }
        self.pos += n as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_told_by_their_first_bytes() {
        assert_eq!(Kind::sniff(b"GGUF\x03\0\0\0"), Kind::Gguf);
        assert_eq!(Kind::sniff(b"\x93NUMPY\x01\0"), Kind::Npy);
        assert_eq!(Kind::sniff(&[0x1f, 0x8b, 8, 0]), Kind::Gzip);
        assert_eq!(Kind::sniff(&[0x28, 0xb5, 0x2f, 0xfd]), Kind::Zstd);
        assert_eq!(Kind::sniff(b"PAR1...."), Kind::Parquet);
        assert_eq!(Kind::sniff(b"SQLite format 3\0"), Kind::Sqlite);
        assert_eq!(Kind::sniff(b"\x10\0\0\0\0\0\0\0{\"__metadata__\""), Kind::Safetensors);
        assert_eq!(Kind::sniff(b"  {\"text\": 1}"), Kind::Jsonl);
        assert_eq!(Kind::sniff(b"\0\x01random"), Kind::Strings);
    }

    #[test]
    fn a_source_counts_what_it_gives_and_replays_its_head() {
        let data = b"0123456789".to_vec();
        let mut s = Src::new(Box::new(std::io::Cursor::new(data)), Some(10));
        assert_eq!(s.peek(4).unwrap(), b"0123");
        let mut b = [0u8; 6];
        s.exact(&mut b).unwrap();
        assert_eq!(&b, b"012345");
        assert_eq!(s.pos, 6);
        assert_eq!(s.remaining(), Some(4));
        s.skip(2).unwrap();
        assert!(s.skip(3).is_err());
    }
}
