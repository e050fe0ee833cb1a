//! Rights metadata: SPDX licence, holder, source, TDM opt-out, jurisdictions,
//! category — per document, from a sidecar file and from the documents themselves.
//!
//! Sidecar (`--rights FILE`), JSONL or CSV, one rule per line/row:
//! ```json
//! {"path": "prose/kjv/*.txt", "license": "LicenseRef-PublicDomain", "holder": "…",
//!  "url": "…", "tdm_opt_out": false, "jurisdictions": ["*"], "category": "prose"}
//! ```
//! A rule names its documents by `doc_id` (exact) or `path`: a glob matched
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

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use globset::{Glob, GlobMatcher};
use serde::{Deserialize, Serialize};

use crate::error::{IndexError, Result};

pub use crate::license::NOASSERTION;

/// Rights of one document, as stored in the index.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Rights {
    /// SPDX licence expression (or `NOASSERTION`).
    pub license: String,
    /// Rights holder, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holder: Option<String>,
    /// Source URL or identifier, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Text-and-data-mining opt-out declared (CDSM Art. 4(3)).
    #[serde(default)]
    pub tdm_opt_out: bool,
    /// Jurisdictions the rights apply in (`*` = everywhere).
    #[serde(default)]
    pub jurisdictions: Vec<String>,
    /// Category (prose, code, lyrics, news, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
}

impl Default for Rights {
    fn default() -> Self {
        Self {
            license: NOASSERTION.into(),
            holder: None,
            url: None,
            tdm_opt_out: false,
            jurisdictions: vec!["*".into()],
            category: None,
        }
    }
}

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
}

impl Selector {
    fn describe(&self, record: &RuleRecord) -> String {
        match (self, &record.path) {
            (Selector::DocId(id), _) => format!("doc_id {id:?}"),
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
    base: Option<std::path::PathBuf>,
    file: String,
}

impl RightsRules {
    /// Reads a sidecar (`.csv` by extension, otherwise JSONL).
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| IndexError::io(path, e))?;
        let is_csv = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv"));
        let mut records = Vec::new();
        if is_csv {
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
                        "license" => r.license = v,
                        "holder" => r.holder = v,
                        "url" => r.url = v,
                        "tdm_opt_out" => r.tdm_opt_out = v.map(BoolLike::Str),
                        "jurisdictions" => r.jurisdictions = v.map(StrList::Str),
                        "category" => r.category = v,
                        other => {
                            return Err(IndexError::Input(format!(
                                "{}:1: unknown column {other:?} (known: doc_id, path, license, holder, url, tdm_opt_out, jurisdictions, category)",
                                path.display()
                            )))
                        }
                    }
                }
                records.push((line, r));
            }
        } else {
            for (i, l) in text.lines().enumerate() {
                let l = l.trim();
                if l.is_empty() || l.starts_with('#') {
                    continue;
                }
                let r: RuleRecord = serde_json::from_str(l)
                    .map_err(|e| IndexError::Input(format!("{}:{}: {e}", path.display(), i + 1)))?;
                records.push((i + 1, r));
            }
        }
        let mut rules = Vec::with_capacity(records.len());
        for (line, record) in records {
            let at = |why: String| IndexError::Input(format!("{}:{line}: {why}", path.display()));
            let selector = match (&record.doc_id, &record.path) {
                (Some(id), None) => Selector::DocId(id.clone()),
                (None, Some(p)) => Selector::Path(
                    Glob::new(p).map_err(|e| at(format!("bad path glob {p:?}: {e}")))?.compile_matcher(),
                ),
                _ => return Err(at("each rule needs exactly one of \"doc_id\" or \"path\"".into())),
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
            rules.push(Rule { line, selector, record, tdm_opt_out, jurisdictions, hits: AtomicU64::new(0) });
        }
        let base = path.canonicalize().ok().and_then(|p| p.parent().map(|d| d.to_owned()));
        Ok(Self { rules, base, file: path.display().to_string() })
    }

    /// The rules that have matched no document so far (call after ingest),
    /// in file order.
    pub fn unmatched(&self) -> Vec<UnmatchedRule> {
        self.rules
            .iter()
            .filter(|r| r.hits.load(Ordering::Relaxed) == 0)
            .map(|r| UnmatchedRule {
                at: format!("{}:{}", self.file, r.line),
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

    /// Rights of a document: `paths` are the paths path rules are matched against
    /// (the document's path relative to its input root; for a JSONL record also
    /// the record's own path and the dump file's), `file` the file it was read
    /// from, `spdx_line` the document's own SPDX line (wins for the licence),
    /// `record_license` a licence field of its JSONL record.
    pub fn resolve(
        &self,
        doc_id: &str,
        paths: &[&str],
        file: Option<&Path>,
        spdx_line: Option<&str>,
        record_license: Option<&str>,
    ) -> Rights {
        let mut r = Rights::default();
        let from_base: Option<String> = match (&self.base, file) {
            (Some(b), Some(f)) => f
                .canonicalize()
                .ok()
                .and_then(|f| f.strip_prefix(b).ok().map(|p| p.to_string_lossy().replace('\\', "/"))),
            _ => None,
        };
        if let Some(l) = record_license {
            r.license = l.to_string();
        }
        for rule in &self.rules {
            let hit = match &rule.selector {
                Selector::DocId(id) => id == doc_id,
                Selector::Path(g) => {
                    paths.iter().any(|p| g.is_match(p)) || from_base.as_deref().is_some_and(|p| g.is_match(p))
                }
            };
            if !hit {
                continue;
            }
            rule.hits.fetch_add(1, Ordering::Relaxed);
            let rec = &rule.record;
            if let Some(v) = &rec.license {
                r.license = v.clone();
            }
            if let Some(v) = &rec.holder {
                r.holder = Some(v.clone());
            }
            if let Some(v) = &rec.url {
                r.url = Some(v.clone());
            }
            if let Some(v) = rule.tdm_opt_out {
                r.tdm_opt_out = v;
            }
            if let Some(v) = &rule.jurisdictions {
                r.jurisdictions = v.clone();
            }
            if let Some(v) = &rec.category {
                r.category = Some(v.clone());
            }
        }
        if let Some(l) = spdx_line {
            r.license = l.to_string();
        }
        r
    }
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
        let h = rules.resolve("prose/hamlet.txt", &["prose/hamlet.txt"], None, None, None);
        assert_eq!(h.license, "LicenseRef-PublicDomain");
        assert_eq!(h.holder.as_deref(), Some("Everyone"));
        assert!(h.tdm_opt_out);
        assert_eq!(h.jurisdictions, vec!["EU"]);
        let c = rules.resolve("src/a.c", &["src/a.c"], None, Some("GPL-2.0"), None);
        assert_eq!(c.license, "GPL-2.0");
        assert!(!c.tdm_opt_out);
        let none = RightsRules::default().resolve("x", &[], None, None, None);
        assert_eq!(none.license, NOASSERTION);
    }

    #[test]
    fn csv_and_errors_name_the_line() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("r.csv");
        std::fs::write(&p, "path,license,tdm_opt_out,jurisdictions\n*.c,BSD-3-Clause,yes,EU;UK\n").unwrap();
        let rules = RightsRules::load(&p).unwrap();
        let r = rules.resolve("a.c", &["a.c"], None, None, None);
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
        let r = RightsRules::load(&p).unwrap().resolve("a", &["a"], None, None, None);
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
        rules.resolve("src/a.c", &["src/a.c"], None, None, None);
        let u = rules.unmatched();
        assert_eq!(u.len(), 2, "{u:?}");
        assert!(u[0].at.ends_with("r.jsonl:1"), "{u:?}");
        assert!(u[0].to_string().contains("not absolute"), "{}", u[0]);
        assert_eq!(u[1].rule, "doc_id \"gone\"");
        assert!(u[1].hint.is_none());
    }
}
