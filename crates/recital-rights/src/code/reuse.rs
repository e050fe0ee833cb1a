//! `REUSE.toml` (REUSE specification 3.2+): `[[annotations]]` tables, each
//! with `path` globs (relative to the file's directory; `*` stays within a
//! directory, `**` crosses them), `SPDX-FileCopyrightText`,
//! `SPDX-License-Identifier` and a `precedence`:
//! - `closest` (default): a file's own header wins where it has one;
//! - `aggregate`: the header's licence and the annotation's both apply;
//! - `override`: the annotation wins over the header.
//!
//! When several annotations cover a file, the last one applies.

use globset::{GlobBuilder, GlobMatcher};
use serde::Deserialize;

/// How an annotation relates to a file's own header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Precedence {
    #[default]
    Closest,
    Aggregate,
    Override,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn into_vec(self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s],
            OneOrMany::Many(v) => v,
        }
    }
}

#[derive(Deserialize)]
struct RawAnnotation {
    path: OneOrMany,
    #[serde(default)]
    precedence: Precedence,
    #[serde(rename = "SPDX-FileCopyrightText", default)]
    copyright: Option<OneOrMany>,
    #[serde(rename = "SPDX-License-Identifier", default)]
    license: Option<OneOrMany>,
}

#[derive(Deserialize)]
struct RawFile {
    version: i64,
    #[serde(default)]
    annotations: Vec<RawAnnotation>,
}

/// One annotation, its globs compiled.
pub(crate) struct Annotation {
    globs: Vec<GlobMatcher>,
    pub precedence: Precedence,
    pub license: Option<String>,
    pub holder: Option<String>,
    /// 1-based position among the annotations.
    pub index: usize,
}

/// A parsed `REUSE.toml`.
pub(crate) struct ReuseToml {
    annotations: Vec<Annotation>,
}

impl ReuseToml {
    /// Parses a `REUSE.toml`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let raw: RawFile = toml::from_str(text).map_err(|e| e.to_string())?;
        if raw.version != 1 {
            return Err(format!("version {} is not one this reader knows (1)", raw.version));
        }
        let mut annotations = Vec::with_capacity(raw.annotations.len());
        for (i, a) in raw.annotations.into_iter().enumerate() {
            let at = i + 1;
            let mut globs = Vec::new();
            for p in a.path.into_vec() {
                let g = GlobBuilder::new(&p)
                    .literal_separator(true)
                    .backslash_escape(true)
                    .build()
                    .map_err(|e| format!("annotation {at}: bad path {p:?}: {e}"))?;
                globs.push(g.compile_matcher());
            }
            let license = match a.license.map(OneOrMany::into_vec) {
                Some(ls) if !ls.is_empty() => {
                    let ls: Vec<&str> = ls.iter().map(String::as_str).collect();
                    let joined = super::all_of(&ls);
                    Some(recital_index::check_license(&joined).map_err(|e| format!("annotation {at}: {e}"))?)
                }
                _ => None,
            };
            let holder = a.copyright.map(OneOrMany::into_vec).filter(|v| !v.is_empty()).map(|v| v.join("; "));
            annotations.push(Annotation { globs, precedence: a.precedence, license, holder, index: at });
        }
        Ok(ReuseToml { annotations })
    }

    /// The last annotation covering `rel` (relative to the file's directory).
    pub fn find(&self, rel: &str) -> Option<&Annotation> {
        self.annotations.iter().rev().find(|a| a.globs.iter().any(|g| g.is_match(rel)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The REUSE specification's example, abridged.
    const SPEC: &str = r#"
version = 1
SPDX-PackageName = "Example"

[[annotations]]
path = ["src/*.py", "doc/**"]
precedence = "closest"
SPDX-FileCopyrightText = "2019 Jane Doe <jane@example.com>"
SPDX-License-Identifier = "GPL-3.0-or-later"

[[annotations]]
path = "src/vendored/**"
precedence = "override"
SPDX-FileCopyrightText = ["2020 Upstream", "2021 Another"]
SPDX-License-Identifier = "mit"
"#;

    #[test]
    fn globs_stay_in_their_directory_and_the_last_annotation_wins() {
        let r = ReuseToml::parse(SPEC).unwrap();
        let a = r.find("src/main.py").unwrap();
        assert_eq!(
            (a.license.as_deref(), a.precedence, a.index),
            (Some("GPL-3.0-or-later"), Precedence::Closest, 1)
        );
        assert!(r.find("src/sub/x.py").is_none(), "* does not cross /");
        assert!(r.find("doc/a/b/c.md").is_some());
        let v = r.find("src/vendored/lib/x.py").unwrap();
        assert_eq!(v.license.as_deref(), Some("MIT"));
        assert_eq!(v.holder.as_deref(), Some("2020 Upstream; 2021 Another"));
        assert_eq!(v.precedence, Precedence::Override);
    }

    #[test]
    fn bad_files_say_why() {
        assert!(ReuseToml::parse("version = 2\n").err().unwrap().contains("version 2"));
        let e = ReuseToml::parse(
            "version = 1\n[[annotations]]\npath = \"*\"\nSPDX-License-Identifier = \"GPL 3\"\n",
        )
        .err()
        .unwrap();
        assert!(e.contains("annotation 1") && e.contains("not an SPDX expression"), "{e}");
        assert!(ReuseToml::parse("version = 1\n[[annotations]]\nlicense = 1\n").is_err());
    }
}
