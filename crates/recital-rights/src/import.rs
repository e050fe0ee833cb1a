//! One entry point: a path in, rights records out, whatever signals the
//! path holds.

use std::path::{Path, PathBuf};

use crate::c2pa;
use crate::code;
use crate::error::{Result, RightsError};
use crate::record::RightsRecord;
use crate::web::{self, Crawl};

/// What a path holds, when it is not to be guessed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Kind {
    /// Guess from the path: a `.warc[.gz]` file is a crawl, `REUSE.toml`,
    /// `dep5` and `copyright` files are code, a `.json` file is ScanCode
    /// output, a `.jpg`, `.jpeg`, `.png` or `.c2pa` file C2PA; a directory with `REUSE.toml`, `.reuse/dep5`,
    /// `debian/copyright` or `LICENSES/` is a code project, one whose
    /// entries are host names (`example.org/`) a saved crawl, any other a
    /// code project (SPDX headers).
    #[default]
    Auto,
    /// A crawl: a WARC file or a directory of saved responses.
    Web,
    /// A code project directory, or one REUSE.toml / dep5 / copyright file.
    Code,
    /// ScanCode toolkit JSON output.
    ScanCode,
    /// A file with a C2PA manifest (JPEG, PNG), or a sidecar `.c2pa`
    /// manifest store. A directory is read as a code project, whose JPEG,
    /// PNG and `.c2pa` files are read for C2PA too.
    C2pa,
}

/// Rights records derived from one path.
#[derive(Debug, Clone)]
pub struct Import {
    /// The records, one sidecar line each.
    pub records: Vec<RightsRecord>,
    /// Problems that skipped a part of the input (a response that does not
    /// parse, a licence that is not SPDX), each naming where.
    pub warnings: Vec<String>,
    /// The directory `path` selectors are relative to, if any.
    pub base: Option<PathBuf>,
    /// What was read.
    pub kind: Kind,
}

impl Import {
    /// The records as a JSONL rights sidecar.
    pub fn to_jsonl(&self) -> String {
        let mut out = String::new();
        for r in &self.records {
            out.push_str(&r.to_json_line());
            out.push('\n');
        }
        out
    }
}

/// Reads the signals at `path` into rights records.
///
/// # Errors
/// The path cannot be read, is of no kind this crate reads, or a file that
/// is nothing but a signal (a WARC, a REUSE.toml, ScanCode output) does not
/// parse. Problems with parts of a larger input are warnings.
pub fn import(path: &Path, kind: Kind) -> Result<Import> {
    let meta = std::fs::metadata(path).map_err(|e| RightsError::io(path, e))?;
    let kind = match kind {
        Kind::Auto => guess(path, meta.is_dir()),
        k => k,
    };
    match kind {
        Kind::Web => {
            let mut crawl = Crawl::default();
            let base = if meta.is_dir() {
                web::saved::read(path, &mut crawl)?;
                Some(path.to_path_buf())
            } else {
                web::warc::read(path, &mut crawl)?;
                None
            };
            let warnings = std::mem::take(&mut crawl.warnings);
            Ok(Import { records: crawl.records(), warnings, base, kind })
        }
        Kind::C2pa if !meta.is_dir() => {
            let (records, warnings, base) = c2pa::import_file(path)?;
            Ok(Import { records, warnings, base, kind })
        }
        Kind::ScanCode => {
            let (records, warnings) = code::scancode::read(path)?;
            Ok(Import { records, warnings, base: None, kind })
        }
        Kind::Code | Kind::C2pa | Kind::Auto => {
            let (records, warnings, base) = code::read(path, meta.is_dir())?;
            Ok(Import { records, warnings, base, kind: Kind::Code })
        }
    }
}

/// The kind of `path`, guessed.
fn guess(path: &Path, is_dir: bool) -> Kind {
    let name = path.file_name().map(|n| n.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
    if !is_dir {
        return if web::warc::is_warc(path) {
            Kind::Web
        } else if c2pa::is_carrier(path) {
            Kind::C2pa
        } else if name.ends_with(".json") {
            Kind::ScanCode
        } else {
            Kind::Code
        };
    }
    if code::is_project(path) {
        return Kind::Code;
    }
    let hosts = std::fs::read_dir(path)
        .map(|rd| {
            rd.filter_map(|e| e.ok()).any(|e| {
                let n = e.file_name().to_string_lossy().to_string();
                e.path().is_dir() && !n.starts_with('.') && n.contains('.') && url::Host::parse(&n).is_ok()
            })
        })
        .unwrap_or(false);
    if hosts {
        Kind::Web
    } else {
        Kind::Code
    }
}
