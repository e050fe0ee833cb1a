//! DEP-5, the machine-readable Debian `copyright` format (also REUSE's
//! legacy `.reuse/dep5`), read with `debian-copyright`: `Files` paragraphs
//! of glob patterns (relative to the source root; `*` crosses `/`) with a
//! `Copyright` and a `License`. For a file, the last matching paragraph
//! applies (the format's rule).
//!
//! Debian's short licence names are mostly SPDX identifiers, but not all:
//! `GPL-2+`, `Expat`, `public-domain`. [`spdx_of`] maps the documented
//! ones; a name it cannot map becomes `LicenseRef-<name>` (a licence the
//! file names but SPDX does not list: the policy classes it as the policy's
//! `LicenseRef-*` patterns say), with a warning.

use debian_copyright::lossless::Copyright;
use debian_copyright::{GlobPattern, LicenseExpr};

/// One `Files` paragraph.
pub(crate) struct Paragraph {
    pub patterns: Vec<String>,
    /// SPDX expression of its `License`, if it has one.
    pub license: Option<String>,
    /// Its `Copyright` lines, joined.
    pub holder: Option<String>,
    /// 1-based line of the paragraph's `Files:` field.
    pub line: usize,
    globs: Vec<GlobPattern>,
}

impl Paragraph {
    /// Whether the paragraph covers `rel` (a path relative to the source root).
    pub fn matches(&self, rel: &str) -> bool {
        self.globs.iter().any(|g| g.is_match(rel))
    }
}

/// A parsed DEP-5 file.
pub(crate) struct Dep5 {
    pub paragraphs: Vec<Paragraph>,
}

impl Dep5 {
    /// Parses DEP-5 text; `at` names the file in warnings. `matching`:
    /// compile the patterns for [`Dep5::find`] (a regular expression each,
    /// which a file with thousands of patterns, like Boost's, feels).
    pub fn parse(text: &str, at: &str, matching: bool, warnings: &mut Vec<String>) -> Result<Self, String> {
        let (c, errors) = Copyright::from_str_relaxed(text).map_err(|e| match e {
            debian_copyright::lossless::Error::NotMachineReadable => {
                "not a machine-readable (DEP-5) copyright file: no \"Format:\" line first".to_string()
            }
            other => other.to_string(),
        })?;
        for e in errors {
            warnings.push(format!("{at}: {e}"));
        }
        // The same licence names recur in every paragraph.
        let mut names: std::collections::HashMap<String, (String, bool)> = std::collections::HashMap::new();
        // `FilesParagraph::line` counts from the start of the text on every
        // call; the `Files:` lines, read once, are the same in order.
        let files_lines: Vec<usize> = text
            .lines()
            .enumerate()
            .filter(|(_, l)| l.get(..6).is_some_and(|f| f.eq_ignore_ascii_case("files:")))
            .map(|(i, _)| i + 1)
            .collect();
        let counted = files_lines.len() == c.iter_files().count();
        let paragraphs = c
            .iter_files()
            .enumerate()
            .map(|(i, p)| {
                let line =
                    if counted { files_lines[i] } else { p.files_line().unwrap_or_else(|| p.line()) + 1 };
                let license = p.license().and_then(|l| l.name().map(str::to_string)).and_then(|name| {
                    let (spdx, mapped) = names.entry(name.clone()).or_insert_with(|| spdx_of(&name)).clone();
                    if !mapped {
                        warnings
                            .push(format!("{at}:{line}: licence {name:?} is not SPDX; recorded as {spdx}"));
                    }
                    Some(spdx).filter(|s| !s.is_empty())
                });
                let holders: Vec<String> = p
                    .copyright()
                    .into_iter()
                    .map(|c| c.trim().to_string())
                    .filter(|c| !c.is_empty())
                    .collect();
                let patterns = p.files();
                let globs = patterns
                    .iter()
                    .filter(|_| matching)
                    .filter_map(|g| match GlobPattern::try_new(g) {
                        Ok(g) => Some(g),
                        Err(e) => {
                            warnings.push(format!("{at}:{line}: {e}; the pattern matches nothing"));
                            None
                        }
                    })
                    .collect();
                Paragraph {
                    patterns,
                    license,
                    holder: (!holders.is_empty()).then(|| holders.join("; ")),
                    line,
                    globs,
                }
            })
            .collect();
        Ok(Dep5 { paragraphs })
    }

    /// The last paragraph covering `rel`.
    pub fn find(&self, rel: &str) -> Option<&Paragraph> {
        self.paragraphs.iter().rev().find(|p| p.matches(rel))
    }
}

/// The SPDX expression of a DEP-5 `License` name, and whether every
/// licence in it was mapped (else the unmapped ones are `LicenseRef-…`).
pub(crate) fn spdx_of(name: &str) -> (String, bool) {
    let expr = LicenseExpr::parse(name.trim());
    let all = std::cell::Cell::new(true);
    let mapped = expr.map_leaves(|leaf| match leaf {
        LicenseExpr::Name(n) => LicenseExpr::Name(one(n).unwrap_or_else(|| {
            all.set(false);
            license_ref(n)
        })),
        LicenseExpr::WithException(n, e) => {
            let n = one(n).unwrap_or_else(|| {
                all.set(false);
                license_ref(n)
            });
            match exception(e) {
                Some(e) => LicenseExpr::WithException(n, e),
                None => {
                    // The exception only widens what is allowed: without it the
                    // licence reads stricter, never looser.
                    all.set(false);
                    LicenseExpr::Name(n)
                }
            }
        }
        other => other.clone(),
    });
    let text = mapped.to_spdx_string();
    match recital_index::check_license(&text) {
        Ok(canonical) => (canonical, all.get()),
        Err(_) => (license_ref(name), false),
    }
}

/// One Debian licence name as an SPDX identifier.
fn one(name: &str) -> Option<String> {
    let n = name.trim();
    let lower = n.to_ascii_lowercase().replace("gplv", "gpl-");
    let fixed = match lower.as_str() {
        "expat" => return Some("MIT".into()),
        "public-domain" | "public domain" | "pd" => return Some("LicenseRef-PublicDomain".into()),
        "perl" => return Some("(Artistic-1.0-Perl OR GPL-1.0-or-later)".into()),
        "artistic" => return Some("Artistic-1.0".into()),
        "gpl" => return Some("GPL-1.0-or-later".into()),
        "lgpl" => return Some("LGPL-2.0-or-later".into()),
        "bsd-2" => return Some("BSD-2-Clause".into()),
        "bsd-3" => return Some("BSD-3-Clause".into()),
        "bsd-4" => return Some("BSD-4-Clause".into()),
        _ => lower,
    };
    // GPL-2, GPL-2+, LGPL-2.1+, AGPL-3, GFDL-1.3+: versions with `-only` / `-or-later`.
    for family in ["agpl", "lgpl", "gpl", "gfdl"] {
        if let Some(v) = fixed.strip_prefix(family).and_then(|r| r.strip_prefix('-')) {
            let (v, later) = match v.strip_suffix('+') {
                Some(v) => (v, true),
                None => (v, false),
            };
            if v.is_empty() || !v.chars().all(|c| c.is_ascii_digit() || c == '.') {
                break;
            }
            let v = if v.contains('.') { v.to_string() } else { format!("{v}.0") };
            let id =
                format!("{}-{v}-{}", family.to_ascii_uppercase(), if later { "or-later" } else { "only" });
            return recital_index::check_license(&id).ok();
        }
    }
    // Apache-2, MPL-2, CC-BY-SA-3 (a bare major version).
    let candidates = [n.to_string(), format!("{n}.0")];
    candidates.into_iter().find_map(|c| recital_index::check_license(&c).ok().filter(|c| !c.contains(' ')))
}

/// A Debian exception name (`Autoconf exception`, `OpenSSL-exception`) as SPDX.
fn exception(e: &str) -> Option<String> {
    let e = e.trim().replace(' ', "-");
    let guesses =
        [e.clone(), format!("{e}-exception"), format!("{}-exception-2.0", e.trim_end_matches("-exception"))];
    for g in guesses {
        if recital_index::check_license(&format!("MIT WITH {g}")).is_ok() {
            return Some(g);
        }
    }
    None
}

/// `LicenseRef-` and the name with every character SPDX does not allow in
/// an id replaced by `-`.
fn license_ref(name: &str) -> String {
    let id: String =
        name.trim().chars().map(|c| if c.is_ascii_alphanumeric() || c == '.' { c } else { '-' }).collect();
    let id = id.trim_matches('-');
    if id.is_empty() {
        String::new()
    } else {
        format!("LicenseRef-{id}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debian_names_map_to_spdx() {
        for (debian, spdx) in [
            ("GPL-2+", "GPL-2.0-or-later"),
            ("GPL-2", "GPL-2.0-only"),
            ("GPLv3+", "GPL-3.0-or-later"),
            ("LGPL-2.1+", "LGPL-2.1-or-later"),
            ("Expat", "MIT"),
            ("BSD-3-clause", "BSD-3-Clause"),
            ("BSD-3", "BSD-3-Clause"),
            ("Apache-2.0", "Apache-2.0"),
            ("MPL-2", "MPL-2.0"),
            ("public-domain", "LicenseRef-PublicDomain"),
            ("GPL-1+ or Artistic", "GPL-1.0-or-later OR Artistic-1.0"),
            ("LGPL-3+ or GPL-2+", "LGPL-3.0-or-later OR GPL-2.0-or-later"),
            ("BSL-1.0 and MIT", "BSL-1.0 AND MIT"),
        ] {
            assert_eq!(spdx_of(debian), (spdx.to_string(), true), "{debian}");
        }
        let (e, ok) = spdx_of("GPL-2+ with Autoconf exception");
        assert!(ok && e.starts_with("GPL-2.0-or-later WITH Autoconf-exception"), "{e}");
        let (e, ok) = spdx_of("BSD-BY-LC-NE");
        assert_eq!((e.as_str(), ok), ("LicenseRef-BSD-BY-LC-NE", false));
        assert!(recital_index::check_license(&spdx_of("Permission to use, copy: see below").0).is_ok());
    }

    #[test]
    fn the_last_matching_paragraph_applies() {
        let text = "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\n\
                    Files: *\nCopyright: 2001 A. Author\nLicense: GPL-2+\n\n\
                    Files: lib/*.c\n  doc/*\nCopyright: 2005 B. Other\n           2006 C. Third\nLicense: Expat\n\n\
                    License: GPL-2+\n This is the GPL.\n";
        let mut w = Vec::new();
        let d = Dep5::parse(text, "copyright", true, &mut w).unwrap();
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(d.paragraphs.len(), 2);
        let p = d.find("lib/x/y.c").unwrap();
        assert_eq!(p.license.as_deref(), Some("MIT"));
        assert_eq!(p.holder.as_deref(), Some("2005 B. Other; 2006 C. Third"));
        assert_eq!(p.line, 7);
        assert_eq!(d.find("src/main.c").unwrap().license.as_deref(), Some("GPL-2.0-or-later"));
        assert!(Dep5::parse("Files: *\n", "c", true, &mut w).err().unwrap().contains("machine-readable"));
    }
}
