//! Code signals: a project's REUSE files, Debian `copyright`, the SPDX
//! headers of its files, and ScanCode output.
//!
//! A project directory gives one record per file that any signal speaks
//! for, selected by its path relative to the project (its document path
//! when the project is indexed); the signals are resolved per file by
//! precedence ([`crate::signal`]). A lone DEP-5 `copyright` file, with no
//! project beside it (`/usr/share/doc/PKG/copyright`), gives one record per
//! `Files` paragraph, in file order, its patterns as `path` globs: a
//! sidecar's later rules override earlier ones, which is DEP-5's own rule
//! that the last matching paragraph applies.

mod dep5;
mod header;
pub(crate) mod iscc;
mod reuse;
pub(crate) mod scancode;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::c2pa;
use crate::error::{Result, RightsError};
use crate::record::{resolve, Claim, Field, RightsRecord, Selector};
use crate::signal::Signal;

use self::dep5::Dep5;
use self::reuse::{Precedence, ReuseToml};

/// Directories of a project that hold licence texts and metadata, not works.
const NOT_WORKS: &[&str] = &["LICENSES", "debian", ".reuse"];

/// `a AND b`, each operand parenthesised when it is itself compound.
pub(crate) fn all_of(parts: &[&str]) -> String {
    let wrap =
        |p: &&str| if p.trim().contains(' ') { format!("({})", p.trim()) } else { p.trim().to_string() };
    match parts {
        [one] => one.trim().to_string(),
        many => many.iter().map(wrap).collect::<Vec<_>>().join(" AND "),
    }
}

/// Whether `dir` looks like a code project with licensing metadata.
pub(crate) fn is_project(dir: &Path) -> bool {
    ["REUSE.toml", ".reuse/dep5", "debian/copyright", "LICENSES"].iter().any(|p| dir.join(p).exists())
}

/// Records from a project directory, or from one REUSE.toml, dep5 or
/// copyright file; with warnings and the directory paths are relative to.
pub(crate) fn read(path: &Path, is_dir: bool) -> Result<(Vec<RightsRecord>, Vec<String>, Option<PathBuf>)> {
    if is_dir {
        return project(path);
    }
    let name = path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
    let parent = path.parent().unwrap_or(Path::new("."));
    match name.as_str() {
        "REUSE.toml" => project(parent),
        "dep5" if parent.ends_with(".reuse") => project(parent.parent().unwrap_or(Path::new("."))),
        _ => {
            let (records, warnings) = lone_dep5(path)?;
            // `debian/copyright` globs are relative to the source tree above `debian/`.
            let base =
                parent.ends_with("debian").then(|| parent.parent().unwrap_or(Path::new(".")).to_path_buf());
            Ok((records, warnings, base))
        }
    }
}

/// One record per `Files` paragraph of a DEP-5 file.
fn lone_dep5(path: &Path) -> Result<(Vec<RightsRecord>, Vec<String>)> {
    let text = std::fs::read_to_string(path).map_err(|e| RightsError::io(path, e))?;
    let at = path.display().to_string();
    let mut warnings = Vec::new();
    let d = Dep5::parse(&text, &at, false, &mut warnings).map_err(|e| RightsError::format(&at, e))?;
    let mut records = Vec::new();
    for p in &d.paragraphs {
        let source = format!("{at}:{}", p.line);
        for pattern in &p.patterns {
            let mut claims = Vec::new();
            if let Some(l) = &p.license {
                claims.push(
                    Claim::new(Signal::DebianCopyright, Field::License, l, &source)
                        .detail(format!("Files: {pattern}")),
                );
            }
            if let Some(h) = &p.holder {
                claims.push(Claim::new(Signal::DebianCopyright, Field::Holder, h, &source));
            }
            records.extend(resolve(Selector::Path(glob_of(pattern)), claims));
        }
    }
    Ok((records, warnings))
}

/// A DEP-5 pattern as a sidecar `path` glob: DEP-5 has only `*` (which
/// crosses `/`, as the sidecar's does), `?` and backslash escapes, so the
/// characters a glob reads as classes or alternatives are escaped.
fn glob_of(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len());
    for c in pattern.chars() {
        if matches!(c, '[' | ']' | '{' | '}') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The signals of a project directory, per file.
struct Project {
    root: PathBuf,
    reuse: Option<ReuseToml>,
    dep5: Option<Dep5>,
    debian: Option<Dep5>,
    warnings: Vec<String>,
}

fn project(root: &Path) -> Result<(Vec<RightsRecord>, Vec<String>, Option<PathBuf>)> {
    let mut p =
        Project { root: root.to_path_buf(), reuse: None, dep5: None, debian: None, warnings: Vec::new() };
    let reuse_toml = root.join("REUSE.toml");
    if reuse_toml.is_file() {
        let text = std::fs::read_to_string(&reuse_toml).map_err(|e| RightsError::io(&reuse_toml, e))?;
        p.reuse = Some(
            ReuseToml::parse(&text).map_err(|e| RightsError::format(reuse_toml.display().to_string(), e))?,
        );
    }
    p.dep5 = p.load_dep5(".reuse/dep5")?;
    p.debian = p.load_dep5("debian/copyright")?;
    let mut files = Vec::new();
    walk(root, root, &mut files)?;
    files.sort();
    let mut c2pa = p.c2pa_claims(&files);
    let mut records = Vec::new();
    for rel in files {
        let mut claims = p.claims(&rel);
        claims.extend(c2pa.remove(&rel).unwrap_or_default());
        records.extend(resolve(Selector::Path(rel), claims));
    }
    Ok((records, p.warnings, Some(root.to_path_buf())))
}

impl Project {
    fn load_dep5(&mut self, rel: &str) -> Result<Option<Dep5>> {
        let path = self.root.join(rel);
        if !path.is_file() {
            return Ok(None);
        }
        let text = std::fs::read_to_string(&path).map_err(|e| RightsError::io(&path, e))?;
        Dep5::parse(&text, rel, true, &mut self.warnings)
            .map(Some)
            .map_err(|e| RightsError::format(path.display().to_string(), e))
    }

    /// The statements of the project's C2PA files (JPEG, PNG, `.c2pa`
    /// sidecars), by the file they speak for; a broken store is a warning.
    fn c2pa_claims(&mut self, files: &[String]) -> BTreeMap<String, Vec<Claim>> {
        let mut out: BTreeMap<String, Vec<Claim>> = BTreeMap::new();
        for rel in files.iter().filter(|f| c2pa::is_carrier(Path::new(f))) {
            match c2pa::statements(&self.root.join(rel), rel, files, &mut self.warnings) {
                Ok(found) => {
                    for (target, claims) in found.into_iter().flatten() {
                        out.entry(target).or_default().extend(claims);
                    }
                }
                Err(e) => self.warnings.push(format!("{e}; skipped")),
            }
        }
        out
    }

    /// Every signal's statements about the file at `rel`.
    fn claims(&mut self, rel: &str) -> Vec<Claim> {
        let mut out = Vec::new();
        let header = match header::read(&self.root.join(rel), rel) {
            Ok(h) => h,
            Err(e) => {
                self.warnings.push(format!("{rel}: {e}"));
                header::Header::default()
            }
        };
        let own_license = header.license.as_deref().and_then(|l| match recital_index::check_license(l) {
            Ok(l) => Some(l),
            Err(e) => {
                self.warnings.push(format!("{}: {e}; header licence skipped", header.from));
                None
            }
        });
        if let Some(l) = &own_license {
            out.push(Claim::new(Signal::SpdxHeader, Field::License, l, &header.from));
        }
        if let Some(h) = &header.holder {
            out.push(Claim::new(Signal::SpdxHeader, Field::Holder, h, &header.from));
        }
        if let Some(code) = iscc::text_code(&self.root.join(rel)) {
            out.push(Claim::new(Signal::IsccText, Field::Iscc, code, rel).detail("64-bit Text-Code"));
        }
        if let Some(a) = self.reuse.as_ref().and_then(|r| r.find(rel)) {
            let source = "REUSE.toml";
            let detail = format!("annotation {}", a.index);
            let signal =
                if a.precedence == Precedence::Override { Signal::ReuseOverride } else { Signal::ReuseToml };
            let license = match (&a.license, &own_license, a.precedence) {
                (Some(t), Some(h), Precedence::Aggregate) => {
                    Some((Signal::ReuseOverride, all_of(&[h.as_str(), t.as_str()])))
                }
                (Some(t), _, _) => Some((signal, t.clone())),
                _ => None,
            };
            if let Some((signal, l)) = license {
                out.push(
                    Claim::new(signal, Field::License, l, source)
                        .detail(format!("{detail}, precedence {:?}", a.precedence).to_lowercase()),
                );
            }
            if let Some(h) = &a.holder {
                out.push(Claim::new(signal, Field::Holder, h, source).detail(detail));
            }
        }
        for (d, signal, name) in [
            (&self.dep5, Signal::ReuseDep5, ".reuse/dep5"),
            (&self.debian, Signal::DebianCopyright, "debian/copyright"),
        ] {
            if let Some(p) = d.as_ref().and_then(|d| d.find(rel)) {
                let source = format!("{name}:{}", p.line);
                if let Some(l) = &p.license {
                    out.push(Claim::new(signal, Field::License, l, &source));
                }
                if let Some(h) = &p.holder {
                    out.push(Claim::new(signal, Field::Holder, h, &source));
                }
            }
        }
        out
    }
}

/// Paths (relative, `/`-separated) of the files under `dir`: hidden
/// entries, licence texts and `debian/` left out, and `.license` companions
/// (they speak for their file).
fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) -> Result<()> {
    for entry in std::fs::read_dir(dir).map_err(|e| RightsError::io(dir, e))? {
        let entry = entry.map_err(|e| RightsError::io(dir, e))?;
        let name = entry.file_name().to_string_lossy().to_string();
        let path = entry.path();
        if name.starts_with('.') || (dir == root && NOT_WORKS.contains(&name.as_str())) {
            continue;
        }
        let kind = entry.file_type().map_err(|e| RightsError::io(&path, e))?;
        if kind.is_dir() {
            walk(root, &path, out)?;
        } else if kind.is_file() && !name.ends_with(".license") && name != "REUSE.toml" {
            let rel = path.strip_prefix(root).unwrap_or(&path).to_string_lossy().replace('\\', "/");
            out.push(rel);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dep5_patterns_become_literal_globs() {
        let g = glob_of("lib/[portins*.{c}");
        assert_eq!(g, "lib/\\[portins*.\\{c\\}");
        let m = globset::Glob::new(&g).unwrap().compile_matcher();
        assert!(m.is_match("lib/[portinsX/y.{c}"));
        assert!(!m.is_match("lib/p.c"));
        assert_eq!(all_of(&["MIT"]), "MIT");
        assert_eq!(all_of(&["MIT OR Apache-2.0", "ISC"]), "(MIT OR Apache-2.0) AND ISC");
    }
}
