//! Rights metadata: SPDX licence, holder, source, TDM opt-out, jurisdictions,
//! category — per document, from a sidecar file and from the documents themselves.
//!
//! Sidecar (`--rights FILE`), JSONL or CSV, one rule per line/row:
//! ```json
//! {"path": "prose/kjv/*.txt", "license": "LicenseRef-PublicDomain", "holder": "…",
//!  "url": "…", "tdm_opt_out": false, "jurisdictions": ["*"], "category": "prose"}
//! ```
//! A rule names its documents by `doc_id` (exact), by `doc_url` (the page a
//! document was extracted from: a JSONL record's `url` field, or an id that
//! is an `http(s)` URL; a file saved by a mirror as `HOST/PATH`, relative to
//! the input root or the sidecar's directory, counts as `https://HOST/PATH`),
//! or by `path`: a glob matched
//! against the document's path relative to its input root *and*, for files that
//! lie under the sidecar's own directory, against the path relative to that
//! directory — so a sidecar at the top of a corpus works whichever of its
//! subdirectories are given as inputs. A JSONL record is matched by its own
//! `path`/`title` field (or id) and by the path of the dump file it came from,
//! so one rule can cover a whole dump (`"path": "**/gcide.jsonl*"`). Rules apply in file order and later
//! rules override earlier ones field by field, so a file can start with defaults.
//! CSV has the same column names; `jurisdictions` there is `;`-separated.
//!
//! Precedence for the licence: an `SPDX-License-Identifier:` line in the document
//! itself (it is the author's own statement and the most specific), then the
//! sidecar, then a `license` field of a JSONL record, else `NOASSERTION`.
//!
//! Nothing here fails silently. A sidecar licence that is not an SPDX
//! expression is an error naming its line and the nearest identifiers
//! ([`crate::license`]). Each rule counts the documents it matched, so that a
//! rule that matched none (an absolute path, a typo in a glob: every
//! document then quietly `NOASSERTION`) is reported after ingest
//! ([`RightsRules::unmatched`]): a warning, an error under `--strict`.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use globset::{Glob, GlobMatcher};
use serde::{Deserialize, Serialize};

use crate::error::{IndexError, Result};
use crate::rights::{normalize_url, Provenance, Rights};

/// One sidecar rule as written in the file: every field optional.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleRecord {
    #[serde(default)]
    doc_id: Option<String>,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    license: Option<String>,
    #[serde(default)]
    holder: Option<String>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    tdm_opt_out: Option<BoolLike>,
    #[serde(default)]
    jurisdictions: Option<StrList>,
    #[serde(default)]
    category: Option<String>,
    #[serde(default)]
    doc_url: Option<String>,
    #[serde(default)]
    tdm_policy: Option<String>,
    #[serde(default)]
    iscc: Option<String>,
    #[serde(default)]
    provenance: Vec<Provenance>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum BoolLike {
    Bool(bool),
    Str(String),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum StrList {
    List(Vec<String>),
    Str(String),
}

enum Selector {
    DocId(String),
    Path(GlobMatcher),
    /// A document URL, normalised ([`normalize_url`]), and where a mirror
    /// saves it (`HOST/PATH`).
    DocUrl {
        url: String,
        saved: Option<String>,
    },
}

impl Selector {
    fn describe(&self, record: &RuleRecord) -> String {
        match (self, &record.path) {
            (Selector::DocId(id), _) => format!("doc_id {id:?}"),
            (Selector::DocUrl { url, .. }, _) => format!("doc_url {url:?}"),
            (Selector::Path(_), Some(p)) => format!("path {p:?}"),
            (Selector::Path(g), None) => format!("path {:?}", g.glob().glob()),
        }
    }
}

struct Rule {
    line: usize,
    selector: Selector,
    record: RuleRecord,
    tdm_opt_out: Option<bool>,
    jurisdictions: Option<Vec<String>>,
    /// Derived, not written by the user: not reported when it matches nothing.
    quiet: bool,
    /// The directory of the rule's file (paths may be relative to it).
    base: Option<Arc<PathBuf>>,
    /// The file the rule came from, for reports.
    file: Arc<str>,
    /// Documents matched so far (atomic: ingest runs on a reader thread
    /// while the rules are shared).
    hits: AtomicU64,
}

/// A sidecar rule that matched no document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnmatchedRule {
    /// `FILE:LINE` of the rule.
    pub at: String,
    /// Its selector: `path "…"` or `doc_id "…"`.
    pub rule: String,
    /// Why it may have matched nothing, when that can be guessed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

impl std::fmt::Display for UnmatchedRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: rights rule {} matched no document", self.at, self.rule)?;
        if let Some(h) = &self.hint {
            write!(f, " ({h})")?;
        }
        Ok(())
    }
}

/// Parsed sidecar rules.
#[derive(Default)]
pub struct RightsRules {
    rules: Vec<Rule>,
}

impl RightsRules {
    /// Reads a sidecar (`.csv` by extension, otherwise JSONL).
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| IndexError::io(path, e))?;
        let is_csv = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv"));
        let records = if is_csv {
            csv_records(&text, path)?
        } else {
            jsonl_records(&text, &path.display().to_string())?
        };
        let base = path.canonicalize().ok().and_then(|p| p.parent().map(|d| d.to_owned()));
        Self::compile(records, &path.display().to_string(), base, false)
    }

    /// Rules from JSONL text that did not come from a file the user wrote:
    /// the rights records `recital rights import` derives from a crawl or a
    /// code project. `label` names them in errors; `base` is the directory
    /// their paths are relative to. A derived record that matches no document
    /// is not reported (a crawl holds more pages than a corpus keeps).
    pub fn from_jsonl(text: &str, label: &str, base: Option<&Path>) -> Result<Self> {
        let records = jsonl_records(text, label)?;
        let base = base.and_then(|b| b.canonicalize().ok());
        Self::compile(records, label, base, true)
    }

    /// These rules followed by `later`'s, which override them field by field
    /// (each rule keeps its own file and base directory).
    pub fn then(mut self, later: RightsRules) -> RightsRules {
        self.rules.extend(later.rules);
        self
    }

    fn compile(
        records: Vec<(usize, RuleRecord)>,
        file: &str,
        base: Option<std::path::PathBuf>,
        quiet: bool,
    ) -> Result<Self> {
        let base = base.map(Arc::new);
        let file: Arc<str> = Arc::from(file);
        let mut rules = Vec::with_capacity(records.len());
        for (line, record) in records {
            let at = |why: String| IndexError::Input(format!("{file}:{line}: {why}"));
            let selector = match (&record.doc_id, &record.path, &record.doc_url) {
                (Some(id), None, None) => Selector::DocId(id.clone()),
                (None, Some(p), None) => Selector::Path(
                    Glob::new(p).map_err(|e| at(format!("bad path glob {p:?}: {e}")))?.compile_matcher(),
                ),
                (None, None, Some(u)) => {
                    let url = normalize_url(u);
                    let saved = url.split_once("://").map(|(_, rest)| rest.to_string());
                    Selector::DocUrl { url, saved }
                }
                _ => {
                    return Err(at(
                        "each rule needs exactly one of \"doc_id\", \"path\" or \"doc_url\"".into()
                    ))
                }
            };
            let tdm_opt_out = match &record.tdm_opt_out {
                None => None,
                Some(BoolLike::Bool(b)) => Some(*b),
                Some(BoolLike::Str(s)) => Some(match s.to_ascii_lowercase().as_str() {
                    "true" | "yes" | "1" => true,
                    "false" | "no" | "0" | "" => false,
                    _ => return Err(at(format!("tdm_opt_out must be true or false, not {s:?}"))),
                }),
            };
            let jurisdictions = record.jurisdictions.as_ref().map(|j| match j {
                StrList::List(v) => v.clone(),
                StrList::Str(s) => {
                    s.split([';', ',']).map(|x| x.trim().to_string()).filter(|x| !x.is_empty()).collect()
                }
            });
            let mut record = record;
            if let Some(l) = &record.license {
                if l.trim().is_empty() {
                    return Err(at("empty license".into()));
                }
                record.license = Some(crate::license::check(l).map_err(|e| at(e.to_string()))?);
            }
            rules.push(Rule {
                line,
                selector,
                record,
                tdm_opt_out,
                jurisdictions,
                quiet,
                base: base.clone(),
                file: file.clone(),
                hits: AtomicU64::new(0),
            });
        }
        Ok(Self { rules })
    }

    /// The rules that have matched no document so far (call after ingest),
    /// in file order.
    pub fn unmatched(&self) -> Vec<UnmatchedRule> {
        self.rules
            .iter()
            .filter(|r| !r.quiet && r.hits.load(Ordering::Relaxed) == 0)
            .map(|r| UnmatchedRule {
                at: format!("{}:{}", r.file, r.line),
                rule: r.selector.describe(&r.record),
                hint: hint(r),
            })
            .collect()
    }

    /// Number of rules.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// True when there are no rules.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Rights of a document: `keys` name it (its id, the paths path rules
    /// are matched against, its URL, the file it was read from), `spdx_line`
    /// is the document's own SPDX line (wins for the licence),
    /// `record_license` a licence field of its JSONL record.
    ///
    /// Rules apply in order, later ones overriding earlier ones field by
    /// field; a field's provenance from an overridden rule stays, with
    /// `applied: false`.
    pub fn resolve(
        &self,
        keys: &DocKeys<'_>,
        spdx_line: Option<&str>,
        record_license: Option<&str>,
    ) -> Rights {
        let mut r = Rights::default();
        let url = keys.url.map(normalize_url);
        let mut from_base: Vec<(*const PathBuf, Option<String>)> = Vec::new();
        if let Some(l) = record_license {
            r.license = l.to_string();
        }
        for rule in &self.rules {
            let hit = match &rule.selector {
                Selector::DocId(id) => id == keys.id,
                Selector::DocUrl { url: u, saved } => {
                    url.as_deref() == Some(u.as_str())
                        || saved.as_deref().is_some_and(|s| {
                            keys.paths.contains(&s)
                                || relative_to_base(rule, keys.file, &mut from_base) == Some(s)
                        })
                }
                Selector::Path(g) => {
                    keys.paths.iter().any(|p| g.is_match(p))
                        || relative_to_base(rule, keys.file, &mut from_base).is_some_and(|p| g.is_match(p))
                }
            };
            if hit {
                rule.hits.fetch_add(1, Ordering::Relaxed);
                rule.apply(&mut r);
            }
        }
        if let Some(l) = spdx_line {
            if !r.provenance.is_empty() {
                // Imported signals are on record: say what overrode them.
                supersede(&mut r.provenance, "license");
                r.provenance.push(Provenance {
                    signal: "SPDX-License-Identifier line".into(),
                    field: "license".into(),
                    value: l.to_string(),
                    source: keys.file.map_or_else(|| keys.id.to_string(), |f| f.display().to_string()),
                    observed: None,
                    detail: None,
                    applied: true,
                });
            }
            r.license = l.to_string();
        }
        r
    }
}

/// What names a document to the rules.
#[derive(Debug, Clone, Copy, Default)]
pub struct DocKeys<'a> {
    /// Its id (`doc_id` rules).
    pub id: &'a str,
    /// Paths `path` rules are matched against: the document's path relative
    /// to its input root; for a JSONL record also its own path and the dump
    /// file's.
    pub paths: &'a [&'a str],
    /// Its URL, if it has one (`doc_url` rules): a JSONL record's `url`.
    pub url: Option<&'a str>,
    /// The file it was read from (`path` rules relative to a sidecar's directory).
    pub file: Option<&'a Path>,
}

impl Rule {
    /// Applies the rule's fields to `r`, keeping the provenance of what it overrides.
    fn apply(&self, r: &mut Rights) {
        let rec = &self.record;
        if let Some(v) = &rec.license {
            supersede(&mut r.provenance, "license");
            r.license = v.clone();
        }
        if let Some(v) = &rec.holder {
            supersede(&mut r.provenance, "holder");
            r.holder = Some(v.clone());
        }
        if let Some(v) = &rec.url {
            supersede(&mut r.provenance, "url");
            r.url = Some(v.clone());
        }
        if let Some(v) = self.tdm_opt_out {
            supersede(&mut r.provenance, "tdm_opt_out");
            r.tdm_opt_out = v;
        }
        if let Some(v) = &rec.tdm_policy {
            supersede(&mut r.provenance, "tdm_policy");
            r.tdm_policy = Some(v.clone());
        }
        if let Some(v) = &rec.iscc {
            supersede(&mut r.provenance, "iscc");
            r.iscc = Some(v.clone());
        }
        if let Some(v) = &self.jurisdictions {
            r.jurisdictions = v.clone();
        }
        if let Some(v) = &rec.category {
            r.category = Some(v.clone());
        }
        for p in &rec.provenance {
            if !r.provenance.contains(p) {
                r.provenance.push(p.clone());
            }
        }
    }
}

/// Marks the provenance of `field` as no longer deciding it.
fn supersede(provenance: &mut [Provenance], field: &str) {
    for p in provenance.iter_mut().filter(|p| p.field == field) {
        p.applied = false;
    }
}

/// The document's path relative to the rule's base directory, if it lies
/// under it (computed once per base and document).
fn relative_to_base<'c>(
    rule: &Rule,
    file: Option<&Path>,
    cache: &'c mut Vec<(*const PathBuf, Option<String>)>,
) -> Option<&'c str> {
    let base = rule.base.as_ref()?;
    let key = Arc::as_ptr(base);
    let i = match cache.iter().position(|(k, _)| *k == key) {
        Some(i) => i,
        None => {
            let rel = file.and_then(|f| f.canonicalize().ok()).and_then(|f| {
                f.strip_prefix(base.as_path()).ok().map(|p| p.to_string_lossy().replace('\\', "/"))
            });
            cache.push((key, rel));
            cache.len() - 1
        }
    };
    cache[i].1.as_deref()
}

/// The rules of a CSV sidecar, with their lines.
fn csv_records(text: &str, path: &Path) -> Result<Vec<(usize, RuleRecord)>> {
    let mut records = Vec::new();
    let mut rdr = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(text.as_bytes());
    for (i, rec) in rdr.deserialize::<std::collections::HashMap<String, String>>().enumerate() {
        let line = i + 2;
        let rec = rec.map_err(|e| IndexError::Input(format!("{}:{line}: {e}", path.display())))?;
        let mut r = RuleRecord::default();
        for (k, v) in rec {
            let v = if v.is_empty() { None } else { Some(v) };
            match k.as_str() {
                "doc_id" => r.doc_id = v,
                "path" => r.path = v,
                "doc_url" => r.doc_url = v,
                "license" => r.license = v,
                "holder" => r.holder = v,
                "url" => r.url = v,
                "tdm_opt_out" => r.tdm_opt_out = v.map(BoolLike::Str),
                "tdm_policy" => r.tdm_policy = v,
                "iscc" => r.iscc = v,
                "jurisdictions" => r.jurisdictions = v.map(StrList::Str),
                "category" => r.category = v,
                other => {
                    return Err(IndexError::Input(format!(
                        "{}:1: unknown column {other:?} (known: doc_id, path, doc_url, license, holder, url, tdm_opt_out, tdm_policy, iscc, jurisdictions, category)",
                        path.display()
                    )))
                }
            }
        }
        records.push((line, r));
    }
    Ok(records)
}

/// The rules of a JSONL sidecar, with their lines (`#` comments and blank lines skipped).
fn jsonl_records(text: &str, file: &str) -> Result<Vec<(usize, RuleRecord)>> {
    let mut records = Vec::new();
    for (i, l) in text.lines().enumerate() {
        let l = l.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        let r: RuleRecord =
            serde_json::from_str(l).map_err(|e| IndexError::Input(format!("{file}:{}: {e}", i + 1)))?;
        records.push((i + 1, r));
    }
    Ok(records)
}

/// A likely reason for a rule to match nothing.
fn hint(rule: &Rule) -> Option<String> {
    let p = rule.record.path.as_deref()?;
    if p.starts_with('/') || p.as_bytes().get(1) == Some(&b':') {
        return Some(
            "paths are relative to the input root or to the sidecar's directory, not absolute".into(),
        );
    }
    if p.starts_with("./") {
        return Some("paths are matched without a leading \"./\"".into());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::license::NOASSERTION;

    /// A document named by one path, which is also its id.
    fn keys(path: &'static str) -> DocKeys<'static> {
        let paths: &'static [&'static str] = Box::leak(Box::new([path]));
        DocKeys { id: path, paths, url: None, file: None }
    }

    #[test]
    fn later_rules_override_and_spdx_wins() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("r.jsonl");
        std::fs::write(
            &p,
            r#"{"path": "**", "license": "MIT", "holder": "Everyone"}
# comment
{"path": "prose/*.txt", "license": "LicenseRef-PublicDomain", "category": "prose"}
{"doc_id": "prose/hamlet.txt", "tdm_opt_out": true, "jurisdictions": ["EU"]}
"#,
        )
        .unwrap();
        let rules = RightsRules::load(&p).unwrap();
        let h = rules.resolve(&keys("prose/hamlet.txt"), None, None);
        assert_eq!(h.license, "LicenseRef-PublicDomain");
        assert_eq!(h.holder.as_deref(), Some("Everyone"));
        assert!(h.tdm_opt_out);
        assert_eq!(h.jurisdictions, vec!["EU"]);
        let c = rules.resolve(&keys("src/a.c"), Some("GPL-2.0"), None);
        assert_eq!(c.license, "GPL-2.0");
        assert!(!c.tdm_opt_out);
        let none = RightsRules::default().resolve(&DocKeys { id: "x", ..DocKeys::default() }, None, None);
        assert_eq!(none.license, NOASSERTION);
    }

    #[test]
    fn csv_and_errors_name_the_line() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("r.csv");
        std::fs::write(&p, "path,license,tdm_opt_out,jurisdictions\n*.c,BSD-3-Clause,yes,EU;UK\n").unwrap();
        let rules = RightsRules::load(&p).unwrap();
        let r = rules.resolve(&keys("a.c"), None, None);
        assert_eq!(r.license, "BSD-3-Clause");
        assert!(r.tdm_opt_out);
        assert_eq!(r.jurisdictions, vec!["EU", "UK"]);
        let bad = d.path().join("bad.jsonl");
        std::fs::write(&bad, "{\"path\": \"*\"}\n{\"license\": \"MIT\"}\n").unwrap();
        let e = RightsRules::load(&bad).err().unwrap().to_string();
        assert!(e.contains("bad.jsonl:2"), "{e}");
        std::fs::write(&bad, "{\"path\": \"*\", \"licence\": \"MIT\"}\n").unwrap();
        let e = RightsRules::load(&bad).err().unwrap().to_string();
        assert!(e.contains("bad.jsonl:1") && e.contains("licence"), "{e}");
    }

    #[test]
    fn invalid_licences_name_the_line_and_the_nearest_ids() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("r.jsonl");
        std::fs::write(&p, "{\"path\": \"**\", \"license\": \"mit\"}\n{\"path\": \"*.c\", \"license\": \"GPL 3 or whatever\"}\n")
            .unwrap();
        let e = RightsRules::load(&p).err().unwrap().to_string();
        assert!(e.contains("r.jsonl:2") && e.contains("GPL-3.0-only or GPL-3.0-or-later"), "{e}");
        std::fs::write(&p, "{\"path\": \"**\", \"license\": \"mit or apache-2.0\"}\n").unwrap();
        let r = RightsRules::load(&p).unwrap().resolve(&keys("a"), None, None);
        assert_eq!(r.license, "MIT OR Apache-2.0");
    }

    #[test]
    fn rules_that_match_nothing_are_reported_with_a_hint() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("r.jsonl");
        std::fs::write(
            &p,
            "{\"path\": \"/usr/share/common-licenses/GPL*\", \"license\": \"GPL-3.0-only\"}\n\
             {\"path\": \"src/*.c\", \"license\": \"MIT\"}\n{\"doc_id\": \"gone\", \"holder\": \"X\"}\n",
        )
        .unwrap();
        let rules = RightsRules::load(&p).unwrap();
        assert_eq!(rules.unmatched().len(), 3);
        rules.resolve(&keys("src/a.c"), None, None);
        let u = rules.unmatched();
        assert_eq!(u.len(), 2, "{u:?}");
        assert!(u[0].at.ends_with("r.jsonl:1"), "{u:?}");
        assert!(u[0].to_string().contains("not absolute"), "{}", u[0]);
        assert_eq!(u[1].rule, "doc_id \"gone\"");
        assert!(u[1].hint.is_none());
    }

    #[test]
    fn derived_rules_keep_provenance_and_match_urls() {
        let prov = |signal: &str, value: &str, applied: bool| Provenance {
            signal: signal.into(),
            field: "tdm_opt_out".into(),
            value: value.into(),
            source: "https://Example.org/.well-known/tdmrep.json".into(),
            observed: Some("2026-03-01T10:00:00Z".into()),
            detail: None,
            applied,
        };
        let line = serde_json::json!({"doc_url": "HTTPS://EXAMPLE.org/a#top", "tdm_opt_out": true,
            "provenance": [prov("tdmrep.json", "true", true), prov("robots.txt", "false", false)]});
        let derived = RightsRules::from_jsonl(
            &format!("{line}\n{{\"doc_url\": \"https://example.org/unseen\", \"tdm_opt_out\": true}}\n"),
            "crawl",
            None,
        )
        .unwrap();
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("r.jsonl");
        std::fs::write(
            &p,
            "{\"path\": \"**\", \"license\": \"MIT\"}\n{\"doc_id\": \"b\", \"tdm_opt_out\": false}\n",
        )
        .unwrap();
        let rules = derived.then(RightsRules::load(&p).unwrap());
        let paths = ["a"];
        let a = rules.resolve(
            &DocKeys { id: "a", paths: &paths, url: Some("https://example.org/a"), file: None },
            None,
            None,
        );
        assert!(a.tdm_opt_out);
        assert_eq!(a.license, "MIT");
        assert_eq!(a.provenance.len(), 2, "{a:?}");
        assert!(a.provenance[0].applied && !a.provenance[1].applied);
        assert_eq!(a.provenance[0].citation(), "tdmrep.json of Example.org, 2026-03-01");
        // The hand-written rule for "b" overrides the derived one: its signal is kept, not applied.
        let paths = ["b"];
        let b = rules.resolve(
            &DocKeys { id: "b", paths: &paths, url: Some("https://example.org/a"), file: None },
            Some("GPL-2.0"),
            None,
        );
        assert!(!b.tdm_opt_out);
        assert!(b.provenance.iter().all(|p| !p.applied || p.field == "license"), "{b:?}");
        assert_eq!(b.provenance.last().unwrap().signal, "SPDX-License-Identifier line");
        // The derived rule that matched nothing is not reported; a user's would be.
        assert!(rules.unmatched().is_empty(), "{:?}", rules.unmatched());
        assert!(RightsRules::from_jsonl("{\"doc_id\": \"a\", \"doc_url\": \"x\"}", "crawl", None).is_err());
    }

    #[test]
    fn urls_normalise() {
        assert_eq!(normalize_url("HTTPS://Example.ORG"), "https://example.org/");
        assert_eq!(normalize_url("https://example.org?q=1#x"), "https://example.org/?q=1");
        assert_eq!(normalize_url("https://example.org/A/b#c"), "https://example.org/A/b");
    }
}
