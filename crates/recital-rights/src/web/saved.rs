//! A directory of saved responses, laid out as `wget --mirror` writes
//! them: `DIR/HOST/PATH`, so `example.org/books/a.html` is
//! `https://example.org/books/a.html` and the site's files are
//! `example.org/robots.txt`, `example.org/ai.txt` and
//! `example.org/.well-known/tdmrep.json`. A file's headers are either at
//! its start (`wget --save-headers`) or in a sibling `FILE.headers`; a file
//! with neither is a `200` without headers. The capture time is the
//! response's `Date` header, else the file's modification time.
//!
//! A page becomes a record selected by its URL (`doc_url`), which a sidecar
//! matches both in a corpus extracted from the crawl (JSONL with each
//! page's `url`) and in the saved files themselves (`HOST/PATH` under the
//! directory, when it is what gets indexed).

use std::path::{Path, PathBuf};

use chrono::{DateTime, SecondsFormat, Utc};
use url::Url;

use crate::error::{Result, RightsError};
use crate::record::Selector;

use super::http::{self, HttpResponse};
use super::Crawl;

/// Suffix of a file holding another file's response headers.
const HEADERS: &str = ".headers";

/// Reads every saved response under `dir` into `crawl`; returns how many files.
pub(crate) fn read(dir: &Path, crawl: &mut Crawl) -> Result<usize> {
    let mut files = Vec::new();
    walk(dir, &mut files)?;
    files.sort();
    let mut n = 0;
    for f in files {
        let rel = f.strip_prefix(dir).unwrap_or(&f).to_string_lossy().replace('\\', "/");
        if rel.ends_with(HEADERS) || !rel.contains('/') {
            continue;
        }
        let Ok(url) = Url::parse(&format!("https://{rel}")) else {
            crawl.warnings.push(format!("{}: not HOST/PATH; skipped", f.display()));
            continue;
        };
        n += 1;
        match response(&f) {
            Ok(r) => {
                let observed = observed(&r, &f);
                let selector = Selector::DocUrl(recital_index::normalize_url(url.as_str()));
                crawl.add(url, observed, r, selector);
            }
            Err(e) => crawl.warnings.push(format!("{}: {e}; skipped", f.display())),
        }
    }
    Ok(n)
}

/// Files under `dir`, hidden ones skipped except `.well-known`.
fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir).map_err(|e| RightsError::io(dir, e))? {
        let entry = entry.map_err(|e| RightsError::io(dir, e))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') && name != ".well-known" {
            continue;
        }
        let path = entry.path();
        let kind = entry.file_type().map_err(|e| RightsError::io(&path, e))?;
        if kind.is_dir() {
            walk(&path, out)?;
        } else if kind.is_file() {
            out.push(path);
        }
    }
    Ok(())
}

/// The saved response in `file`, with its headers from wherever they are.
fn response(file: &Path) -> std::result::Result<HttpResponse, String> {
    let bytes = std::fs::read(file).map_err(|e| e.to_string())?;
    let side = PathBuf::from(format!("{}{HEADERS}", file.display()));
    if side.is_file() {
        let head = std::fs::read(&side).map_err(|e| e.to_string())?;
        let mut head = head;
        if !head.ends_with(b"\r\n\r\n") && !head.ends_with(b"\n\n") {
            head.extend_from_slice(b"\r\n");
        }
        let (mut r, _) = http::parse_head(&head).map_err(|e| format!("{}: {e}", side.display()))?;
        r.body = bytes;
        return Ok(r);
    }
    if bytes.starts_with(b"HTTP/") {
        return http::parse(&bytes);
    }
    Ok(HttpResponse { status: 200, headers: Vec::new(), body: bytes })
}

/// When the response was captured: its `Date` header, else the file's mtime.
fn observed(r: &HttpResponse, file: &Path) -> Option<String> {
    let date = r
        .header("date")
        .and_then(|d| DateTime::parse_from_rfc2822(d).ok())
        .map(|d| d.with_timezone(&Utc))
        .or_else(|| std::fs::metadata(file).and_then(|m| m.modified()).ok().map(DateTime::<Utc>::from));
    date.map(|d| d.to_rfc3339_opts(SecondsFormat::Secs, true))
}
