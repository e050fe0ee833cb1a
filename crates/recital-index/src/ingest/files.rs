//! Reading corpora: directories of files, single files, and JSONL dumps
//! (`.jsonl`, `.jsonl.gz`, `.jsonl.zst`, also `.ndjson`) with configurable text and
//! id fields, each document resolved to its rights.
//!
//! Directory walks are sorted (builds are reproducible), skip hidden entries, and
//! skip binary files (a NUL byte in the first 8 KiB) with a warning; invalid UTF-8
//! is decoded lossily with a warning. Progress (bytes, rate, ETA) goes to stderr
//! when it is a terminal.
//!
//! Rights problems are never silent: a licence a document declares (its
//! `SPDX-License-Identifier:` line, a JSONL record's `license`) that is not
//! SPDX is a warning naming the file (and line) with the nearest identifiers,
//! and is stored as written (the policy classes it `unknown`, which is what
//! it is); a sidecar rule that matched no document is a warning. Under
//! [`IngestOptions::strict`] both are errors. The report counts documents
//! per licence expression and how many are `NOASSERTION`.

use std::cell::Cell;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use indicatif::ProgressBar;
use recital_text::code::Lang;

use super::sidecar::{DocKeys, RightsRules, UnmatchedRule};
use crate::doctable::DocMode;
use crate::error::{IndexError, Result};
use crate::license::{self, LicenseCount, LicenseTally};
use crate::shard_build::DocInput;

/// Invalid licences warned about one by one; the rest are counted.
const LICENSE_WARNINGS: u64 = 10;

/// How to decide between text and code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ModeChoice {
    /// Code when the file extension (or a JSONL `lang` field) names a known language.
    #[default]
    Auto,
    /// Everything is prose.
    Text,
    /// Everything with a known language is code; the rest falls back to text with a warning.
    Code,
}

/// Ingestion settings.
#[derive(Default)]
pub struct IngestOptions {
    /// Text or code.
    pub mode: ModeChoice,
    /// JSONL field holding the text (default `text`).
    pub text_field: Option<String>,
    /// JSONL field holding the document id (default `id`).
    pub id_field: Option<String>,
    /// Rights sidecar rules.
    pub rights: RightsRules,
    /// Show progress bars.
    pub progress: bool,
    /// Rights problems are errors: a sidecar rule that matches no document,
    /// a document's own licence that is not SPDX.
    pub strict: bool,
}

/// What ingestion saw.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct IngestReport {
    /// Documents passed on.
    pub docs: u64,
    /// Bytes of document text.
    pub text_bytes: u64,
    /// Files skipped as binary.
    pub skipped_binary: u64,
    /// Documents decoded lossily (invalid UTF-8).
    pub lossy_utf8: u64,
    /// Code-mode files whose language is unknown (indexed as text).
    pub unknown_language: u64,
    /// Documents per licence expression, most first.
    pub licenses: Vec<LicenseCount>,
    /// Documents whose licence is `NOASSERTION` (nothing is known).
    pub noassertion: u64,
    /// Documents whose own licence (SPDX line, JSONL field) is not SPDX.
    pub invalid_licenses: u64,
    /// Sidecar rules that matched no document.
    pub unmatched_rules: Vec<UnmatchedRule>,
    #[serde(skip)]
    tally: LicenseTally,
}

impl IngestReport {
    fn count(&mut self, rights: &crate::Rights) {
        self.docs += 1;
        self.tally.add(&rights.license, 1);
    }
}

pub(super) struct InputFile {
    pub(super) path: PathBuf,
    pub(super) rel: String,
    size: u64,
}

fn is_jsonl(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    [".jsonl", ".ndjson", ".jsonl.gz", ".ndjson.gz", ".jsonl.zst", ".ndjson.zst", ".jsonl.zstd"]
        .iter()
        .any(|s| n.ends_with(s))
}

fn is_parquet(name: &str) -> bool {
    name.to_ascii_lowercase().ends_with(".parquet")
}

#[cfg(feature = "parquet")]
use super::parquet::read_parquet;

#[cfg(not(feature = "parquet"))]
fn read_parquet(
    f: &InputFile,
    _: &IngestOptions,
    _: &mut IngestReport,
    _: &mut impl FnMut(&DocInput<'_>) -> Result<()>,
) -> Result<()> {
    Err(IndexError::Input(format!(
        "{}: Parquet input needs recital built with the `parquet` feature",
        f.path.display()
    )))
}

fn collect(inputs: &[PathBuf]) -> Result<Vec<InputFile>> {
    let mut out = Vec::new();
    for input in inputs {
        let meta = std::fs::metadata(input).map_err(|e| IndexError::io(input, e))?;
        if meta.is_file() {
            let rel = input.file_name().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
            out.push(InputFile { path: input.clone(), rel, size: meta.len() });
        } else if meta.is_dir() {
            walk(input, input, &mut out)?;
        } else {
            return Err(IndexError::Input(format!("{}: not a file or directory", input.display())));
        }
    }
    Ok(out)
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<InputFile>) -> Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| IndexError::io(dir, e))?
        .collect::<std::io::Result<Vec<_>>>()
        .map_err(|e| IndexError::io(dir, e))?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = e.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        let path = e.path();
        let ft = e.file_type().map_err(|x| IndexError::io(&path, x))?;
        if ft.is_dir() {
            walk(root, &path, out)?;
        } else if ft.is_file() || (ft.is_symlink() && path.is_file()) {
            let size = std::fs::metadata(&path).map_err(|x| IndexError::io(&path, x))?.len();
            let rel = path.strip_prefix(root).unwrap_or(&path).to_string_lossy().replace('\\', "/");
            out.push(InputFile { path, rel, size });
        }
    }
    Ok(())
}

struct Counting<R> {
    inner: R,
    n: Rc<Cell<u64>>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let k = self.inner.read(buf)?;
        self.n.set(self.n.get() + k as u64);
        Ok(k)
    }
}

fn mode_for(choice: ModeChoice, lang: Option<Lang>, report: &mut IngestReport) -> DocMode {
    match (choice, lang) {
        (ModeChoice::Text, _) => DocMode::Text,
        (_, Some(l)) => DocMode::Code(l),
        (ModeChoice::Code, None) => {
            report.unknown_language += 1;
            DocMode::Text
        }
        (ModeChoice::Auto, None) => DocMode::Text,
    }
}

/// Reads every document of `inputs` and hands it to `sink`, in a stable order.
pub fn ingest(
    inputs: &[PathBuf],
    opts: &IngestOptions,
    mut sink: impl FnMut(&DocInput<'_>) -> Result<()>,
) -> Result<IngestReport> {
    if inputs.is_empty() {
        return Err(IndexError::Input("no input given".into()));
    }
    let files = collect(inputs)?;
    let total: u64 = files.iter().map(|f| f.size).sum();
    let pb = crate::progress::bytes(total, "reading + tokens", opts.progress);
    let mut report = IngestReport::default();
    let mut done = 0u64;
    for f in &files {
        if is_jsonl(&f.rel) {
            read_jsonl(f, opts, &mut report, &mut sink, &pb, done)?;
        } else if is_parquet(&f.rel) {
            read_parquet(f, opts, &mut report, &mut sink)?;
        } else {
            read_plain(f, opts, &mut report, &mut sink)?;
        }
        done += f.size;
        pb.set_position(done);
    }
    pb.finish_and_clear();
    report.licenses = report.tally.counts();
    report.noassertion = report.tally.noassertion();
    check_rules(opts, &mut report)?;
    if report.invalid_licenses > LICENSE_WARNINGS {
        tracing::warn!(
            "{} document(s) declare a licence that is not an SPDX expression",
            report.invalid_licenses
        );
    }
    if report.skipped_binary > 0 {
        // The build report carries the number (`skipped_binary`) for the caller to show.
        tracing::info!("skipped {} binary file(s)", report.skipped_binary);
    }
    if report.lossy_utf8 > 0 {
        tracing::warn!("{} document(s) were not valid UTF-8 and were decoded lossily", report.lossy_utf8);
    }
    if report.unknown_language > 0 {
        tracing::warn!(
            "{} file(s) in code mode have no known language and were indexed as text",
            report.unknown_language
        );
    }
    Ok(report)
}

/// Reports the sidecar rules that matched nothing: warnings, or an error
/// under `strict`.
fn check_rules(opts: &IngestOptions, report: &mut IngestReport) -> Result<()> {
    report.unmatched_rules = opts.rights.unmatched();
    for u in &report.unmatched_rules {
        tracing::warn!("{u}");
    }
    match report.unmatched_rules.as_slice() {
        [] => Ok(()),
        _ if !opts.strict => Ok(()),
        [one] => Err(IndexError::Input(format!("{one} (--strict)"))),
        [first, rest @ ..] => Err(IndexError::Input(format!(
            "{first}, and {} more rule(s) matched none (--strict)",
            rest.len()
        ))),
    }
}

/// The licence a document declares itself, checked: canonical when it is
/// SPDX; as written, with a warning (an error under `strict`), when not.
/// `at` names where it was declared.
fn own_license(
    declared: Option<&str>,
    at: impl FnOnce() -> String,
    opts: &IngestOptions,
    report: &mut IngestReport,
) -> Result<Option<String>> {
    let Some(l) = declared else { return Ok(None) };
    match license::check(l) {
        Ok(canonical) => Ok(Some(canonical)),
        Err(e) if opts.strict => Err(IndexError::Input(format!("{}: {e} (--strict)", at()))),
        Err(e) => {
            report.invalid_licenses += 1;
            if report.invalid_licenses <= LICENSE_WARNINGS {
                tracing::warn!("{}: {e}; stored as written", at());
            }
            Ok(Some(l.to_string()))
        }
    }
}

fn read_plain(
    f: &InputFile,
    opts: &IngestOptions,
    report: &mut IngestReport,
    sink: &mut impl FnMut(&DocInput<'_>) -> Result<()>,
) -> Result<()> {
    let bytes = std::fs::read(&f.path).map_err(|e| IndexError::io(&f.path, e))?;
    if bytes[..bytes.len().min(8192)].contains(&0) {
        // One summary line at the end; --verbose lists each.
        tracing::info!("{}: binary file skipped", f.path.display());
        report.skipped_binary += 1;
        return Ok(());
    }
    let text = match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!("{}: invalid UTF-8, decoded lossily", f.path.display());
            report.lossy_utf8 += 1;
            String::from_utf8_lossy(e.as_bytes()).into_owned()
        }
    };
    let mode = mode_for(opts.mode, Lang::from_path(&f.path), report);
    let declared = recital_text::spdx::identifier(&text);
    let spdx = own_license(declared.as_deref(), || f.path.display().to_string(), opts, report)?;
    let keys = DocKeys { id: &f.rel, paths: &[&f.rel], url: None, file: Some(&f.path) };
    let rights = opts.rights.resolve(&keys, spdx.as_deref(), None);
    report.count(&rights);
    report.text_bytes += text.len() as u64;
    sink(&DocInput { id: &f.rel, path: Some(&f.rel), text: &text, mode, rights })
}

fn is_web_url(s: &str) -> bool {
    let l = s.get(..8).unwrap_or(s).to_ascii_lowercase();
    l.starts_with("http://") || l.starts_with("https://")
}

fn read_jsonl(
    f: &InputFile,
    opts: &IngestOptions,
    report: &mut IngestReport,
    sink: &mut impl FnMut(&DocInput<'_>) -> Result<()>,
    pb: &ProgressBar,
    done: u64,
) -> Result<()> {
    let file = std::fs::File::open(&f.path).map_err(|e| IndexError::io(&f.path, e))?;
    let counter = Rc::new(Cell::new(0u64));
    let raw = Counting { inner: file, n: counter.clone() };
    let lower = f.rel.to_ascii_lowercase();
    let reader: Box<dyn Read> = if lower.ends_with(".gz") {
        Box::new(flate2::read::MultiGzDecoder::new(raw))
    } else if lower.ends_with(".zst") || lower.ends_with(".zstd") {
        Box::new(zstd::stream::read::Decoder::new(raw).map_err(|e| IndexError::io(&f.path, e))?)
    } else {
        Box::new(raw)
    };
    let mut rdr = BufReader::with_capacity(1 << 20, reader);
    let mut line = Vec::new();
    let mut lineno = 0usize;
    loop {
        line.clear();
        let k = rdr.read_until(b'\n', &mut line).map_err(|e| IndexError::io(&f.path, e))?;
        if k == 0 {
            break;
        }
        lineno += 1;
        if lineno.is_multiple_of(256) {
            pb.set_position(done + counter.get());
        }
        let trimmed = line.trim_ascii();
        if trimmed.is_empty() {
            continue;
        }
        let at = |why: String| IndexError::Input(format!("{}:{lineno}: {why}", f.path.display()));
        let value: serde_json::Value = match serde_json::from_slice(trimmed) {
            Ok(v) => v,
            Err(e) => {
                // Invalid UTF-8 inside a record: decode lossily, then parse.
                let lossy = String::from_utf8_lossy(trimmed);
                if matches!(lossy, std::borrow::Cow::Owned(_)) {
                    report.lossy_utf8 += 1;
                    serde_json::from_str(&lossy).map_err(|e| at(format!("invalid JSON: {e}")))?
                } else {
                    return Err(at(format!("invalid JSON: {e}")));
                }
            }
        };
        let obj = value.as_object().ok_or_else(|| at("a JSONL record must be a JSON object".into()))?;
        record_doc(f, obj, &lineno.to_string(), opts, report, sink)?;
    }
    Ok(())
}

/// The document of one record (a JSONL line, a Parquet row, numbered `n`):
/// its text and id fields, and `path` or `title`, `lang`, `license` and `url`.
pub(super) fn record_doc(
    f: &InputFile,
    obj: &serde_json::Map<String, serde_json::Value>,
    n: &str,
    opts: &IngestOptions,
    report: &mut IngestReport,
    sink: &mut impl FnMut(&DocInput<'_>) -> Result<()>,
) -> Result<()> {
    let text_field = opts.text_field.as_deref().unwrap_or("text");
    let id_field = opts.id_field.as_deref().unwrap_or("id");
    let at = |why: String| IndexError::Input(format!("{}:{n}: {why}", f.path.display()));
    let text = match obj.get(text_field) {
        Some(serde_json::Value::String(s)) => s.as_str(),
        Some(_) => return Err(at(format!("field {text_field:?} is not a string"))),
        None => return Err(at(format!("record has no field {text_field:?} (choose it with --text-field)"))),
    };
    let id = match obj.get(id_field) {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Number(n)) => n.to_string(),
        _ => format!("{}:{n}", f.rel),
    };
    let str_field = |k: &str| obj.get(k).and_then(|v| v.as_str());
    let path = str_field("path").or_else(|| str_field("title")).map(str::to_string);
    let lang = ["lang", "language"]
        .iter()
        .find_map(|k| str_field(k))
        .and_then(Lang::from_name)
        .or_else(|| path.as_deref().and_then(|p| Lang::from_path(Path::new(p))));
    let mode = mode_for(opts.mode, lang, report);
    let here = || format!("{}:{n}", f.path.display());
    let declared = recital_text::spdx::identifier(text);
    let spdx = own_license(declared.as_deref(), here, opts, report)?;
    let declared = str_field("license").or_else(|| str_field("spdx"));
    let record_license = own_license(declared, here, opts, report)?;
    let record_path = path.as_deref().unwrap_or(&id);
    // The page a crawl-derived record came from: its `url` field, else an id that is a URL.
    let url = str_field("url").or_else(|| Some(id.as_str()).filter(|i| is_web_url(i)));
    let keys = DocKeys { id: &id, paths: &[record_path, &f.rel], url, file: Some(&f.path) };
    let rights = opts.rights.resolve(&keys, spdx.as_deref(), record_license.as_deref());
    report.count(&rights);
    report.text_bytes += text.len() as u64;
    sink(&DocInput { id: &id, path: path.as_deref(), text, mode, rights })
}
