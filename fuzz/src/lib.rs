//! Glue shared by the fuzz targets: scratch directories on a memory file
//! system, a byte reader that turns fuzz input into choices, and small
//! indexes built through `recital_index`'s public API.
//!
//! The glue stays thin on purpose: every target calls the crates the way
//! the CLI and the server do, so a crash here is a crash there.

use std::path::{Path, PathBuf};

use recital_index::{BuildOptions, IngestOptions};

/// A scratch directory under `$RECITAL_FUZZ_SCRATCH` (the fuzz scripts
/// make one per run and remove it after: the targets' long-lived state,
/// held in statics, is never dropped), else on `/dev/shm` where it exists
/// (targets that build indexes write and fsync files on every execution,
/// which a disk makes 100 times slower than memory), else in the system's
/// temporary directory.
pub fn scratch() -> tempfile::TempDir {
    let mut b = tempfile::Builder::new();
    b.prefix("recital-fuzz-");
    let root = std::env::var_os("RECITAL_FUZZ_SCRATCH").map(PathBuf::from);
    let root = root.unwrap_or_else(|| PathBuf::from("/dev/shm"));
    b.tempdir_in(&root).or_else(|_| b.tempdir()).expect("a scratch directory")
}

/// Reads choices off the front of a fuzz input; every read succeeds (zero
/// when the input is spent), so no input is rejected for being short.
pub struct Bytes<'a>(pub &'a [u8]);

impl<'a> Bytes<'a> {
    /// One byte.
    pub fn u8(&mut self) -> u8 {
        match self.0.split_first() {
            Some((b, rest)) => {
                self.0 = rest;
                *b
            }
            None => 0,
        }
    }
    /// A little-endian u16.
    pub fn u16(&mut self) -> u16 {
        u16::from(self.u8()) | (u16::from(self.u8()) << 8)
    }
    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        usize::from(self.u16()) % n
    }
    /// Everything that is left.
    pub fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.0)
    }
    /// Whether nothing is left.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Builds an index at `dir/idx` from `docs` (file name, contents), written
/// into `dir/docs`; file extensions pick text or code as the CLI does.
pub fn build_index(dir: &Path, docs: &[(&str, &str)]) -> PathBuf {
    let src = dir.join("docs");
    std::fs::create_dir_all(&src).expect("docs dir");
    for (name, body) in docs {
        std::fs::write(src.join(name), body).expect("doc written");
    }
    let idx = dir.join("idx");
    recital_index::build(&idx, &[src], &IngestOptions::default(), &one_thread()).expect("index built");
    idx
}

/// Build options for fuzzing: one tokenising thread (libFuzzer runs one
/// input at a time; more threads only add start-up cost per execution).
pub fn one_thread() -> BuildOptions {
    BuildOptions { threads: 1, ..BuildOptions::default() }
}

/// The fixed little corpus the index and server targets start from: prose,
/// punctuation, non-ASCII text, and code with a canonical stream.
pub const SAMPLE_DOCS: &[(&str, &str)] = &[
    (
        "tale.txt",
        "It was the best of times, it was the worst of times, it was the age of wisdom, \
         it was the age of foolishness, it was the epoch of belief.",
    ),
    ("hamlet.txt", "To be, or not to be, that is the question: Whether 'tis nobler in the mind to suffer."),
    ("uni.txt", "Ｈe\u{200B}LLO “Wörld” — שלום مرحبا 😀 ﬁsh e\u{301}te\u{301}"),
    (
        "sum.c",
        "int sum(const int *a, int n) {\n  int s = 0;\n  for (int i = 0; i < n; i++) s += a[i];\n  return s;\n}\n",
    ),
    ("f.py", "def f(xs):\n    total = 0\n    for x in xs:\n        total += x * 2\n    return total\n"),
];
