//! SPDX licence expressions as they enter the index: checked, so that a
//! licence no policy can read is caught where it is written, not found later
//! as an `unknown` class in a decision; and counted, so that a build and
//! `index stats` say how much of a corpus has a licence at all.
//!
//! The grammar and the licence list are the `spdx` crate's (the one
//! cargo-deny uses), not a list kept here. Accepted: identifiers of the SPDX
//! licence list, deprecated ones included (`GPL-2.0`: the Linux kernel's
//! files still say it), `+` on any of them, `WITH` an exception of the list,
//! `LicenseRef-…`/`DocumentRef-…:LicenseRef-…`, `AND`/`OR` (upper or lower
//! case) and parentheses; and the special values `NOASSERTION` and `NONE`.
//! SPDX identifiers match case-insensitively, so `mit` is accepted and stored
//! as `MIT`, the spelling the policy's patterns and a reader expect.
//!
//! A rejected expression names the failing term and suggests the nearest
//! identifiers (edit distance over the list, `GPL 3` → `GPL-3.0-only`,
//! `GPL-3.0-or-later`), since the usual mistake is a licence's common name.

use std::collections::HashMap;
use std::fmt;

use serde::Serialize;
use spdx::{Expression, ParseMode};

/// The licence of a document about which nothing is known.
pub const NOASSERTION: &str = "NOASSERTION";

/// Special values SPDX allows where an expression goes.
const SPECIAL: [&str; 2] = [NOASSERTION, "NONE"];

/// Suggestions offered at most.
const MAX_SUGGESTIONS: usize = 3;

/// SPDX as written in the wild, minus the crates.io habits (`/` for `OR`,
/// `Apache` for `Apache-2.0`): those are guesses, and a guess about a
/// licence is what this check exists to refuse.
const MODE: ParseMode = ParseMode {
    allow_slash_as_or_operator: false,
    allow_imprecise_license_names: false,
    allow_postfix_plus_on_gpl: true,
    allow_deprecated: true,
    allow_unknown: false,
};

/// An expression that is not SPDX.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidLicense {
    /// The expression as given.
    pub expression: String,
    /// The term at fault, if one is.
    pub term: Option<String>,
    /// What is wrong with it.
    pub reason: String,
    /// The nearest valid identifiers, best first (empty when none is near).
    pub suggestions: Vec<String>,
}

impl fmt::Display for InvalidLicense {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "license {:?} is not an SPDX expression (", self.expression)?;
        match &self.term {
            Some(t) => write!(f, "{}: {t:?})", self.reason)?,
            None => write!(f, "{})", self.reason)?,
        }
        match self.suggestions.as_slice() {
            [] => write!(f, "; a licence outside the SPDX list is written LicenseRef-<name>"),
            [one] => write!(f, "; did you mean {one}?"),
            many => write!(f, "; did you mean {}?", many.join(" or ")),
        }
    }
}

/// Checks an SPDX expression; the expression to store (trimmed, identifiers
/// and operators in their canonical case).
pub fn check(expression: &str) -> Result<String, InvalidLicense> {
    let t = expression.trim();
    if let Some(s) = SPECIAL.iter().find(|s| s.eq_ignore_ascii_case(t)) {
        return Ok(s.to_string());
    }
    let canon = canonical_case(t);
    match Expression::parse_mode(&canon, MODE) {
        Ok(_) => Ok(canon),
        Err(e) => Err(invalid(t, e)),
    }
}

fn invalid(expression: &str, e: spdx::error::ParseError) -> InvalidLicense {
    use spdx::error::Reason;
    let span = e.span.start.min(expression.len())..e.span.end.min(expression.len());
    let term = expression.get(span.clone()).filter(|t| !t.trim().is_empty()).map(str::to_string);
    // After `WITH` an exception is meant, whatever the lexer took it for.
    let exception =
        expression[..span.start].split_whitespace().last().is_some_and(|w| w.eq_ignore_ascii_case("with"));
    let suggestions = match e.reason {
        Reason::UnknownTerm | Reason::UnknownLicense | Reason::UnknownException => {
            nearest(&phrase(expression, span.start), exception)
        }
        _ => Vec::new(),
    };
    InvalidLicense { expression: expression.to_string(), term, reason: e.reason.to_string(), suggestions }
}

/// The words between the operators around byte `at`: what the writer
/// meant as one licence (`GPL 3` of `GPL 3 or whatever`, `MIT License`
/// where `License` is the term at fault).
fn phrase(expression: &str, at: usize) -> String {
    let is_op = |w: &str| ["and", "or", "with"].iter().any(|op| w.eq_ignore_ascii_case(op));
    // Parentheses split like spaces (same length: offsets stay).
    let spaced: String = expression.chars().map(|c| if matches!(c, '(' | ')') { ' ' } else { c }).collect();
    let mut words: Vec<(usize, &str)> = Vec::new();
    let mut offset = 0;
    for w in spaced.split(' ') {
        if !w.trim().is_empty() {
            words.push((offset, w.trim()));
        }
        offset += w.len() + 1;
    }
    let Some(i) = words.iter().position(|(o, w)| o + w.len() > at) else { return String::new() };
    let first = words[..i].iter().rposition(|(_, w)| is_op(w)).map_or(0, |j| j + 1);
    let last = words[i..].iter().position(|(_, w)| is_op(w)).map_or(words.len(), |j| i + j);
    words[first..last].iter().map(|(_, w)| *w).collect::<Vec<_>>().join(" ")
}

/// Identifiers and operators in the case SPDX spells them; every other
/// character as it was, so error spans still point into the original.
fn canonical_case(expression: &str) -> String {
    let mut out = String::with_capacity(expression.len());
    let mut rest = expression;
    while !rest.is_empty() {
        let end = rest.find(|c: char| !is_term_char(c)).unwrap_or(rest.len());
        if end == 0 {
            let c = rest.chars().next().expect("not empty");
            out.push(c);
            rest = &rest[c.len_utf8()..];
            continue;
        }
        out.push_str(&canonical_term(&rest[..end]));
        rest = &rest[end..];
    }
    out
}

fn is_term_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | ':' | '+')
}

fn canonical_term(term: &str) -> String {
    if ["AND", "OR", "WITH"].iter().any(|op| term.eq_ignore_ascii_case(op)) {
        return term.to_ascii_uppercase();
    }
    let (id, plus) = match term.strip_suffix('+') {
        Some(id) => (id, "+"),
        None => (term, ""),
    };
    // Spelled right: two binary searches; only a miss scans the list.
    if spdx::license_id(id).is_some() || spdx::exception_id(id).is_some() {
        return term.to_string();
    }
    let names = spdx::identifiers::LICENSES.iter().map(|l| l.name);
    let mut names = names.chain(spdx::identifiers::EXCEPTIONS.iter().map(|e| e.name));
    match names.find(|n| n.eq_ignore_ascii_case(id)) {
        Some(n) => format!("{n}{plus}"),
        None => term.to_string(),
    }
}

/// The identifiers nearest to `written`, by edit distance between their
/// keys (see [`key`]); a deprecated GNU identifier stands for its `-only`
/// and `-or-later` successors, which share its key.
fn nearest(written: &str, exceptions: bool) -> Vec<String> {
    let want = key(written);
    if want.is_empty() {
        return Vec::new();
    }
    let candidates: Vec<&'static str> = if exceptions {
        spdx::identifiers::EXCEPTIONS
            .iter()
            .filter(|e| e.flags & spdx::flags::IS_DEPRECATED == 0)
            .map(|e| e.name)
            .collect()
    } else {
        spdx::identifiers::LICENSES
            .iter()
            .filter(|l| l.flags & spdx::flags::IS_DEPRECATED == 0)
            .map(|l| l.name)
            .collect()
    };
    let mut scored: Vec<(usize, &str)> =
        candidates.into_iter().map(|n| (distance(&want, &key(n)), n)).collect();
    scored.sort();
    let best = scored.first().map(|s| s.0).unwrap_or(usize::MAX);
    // Far from everything: a suggestion would be noise.
    if best > (want.len() / 3).max(2) {
        return Vec::new();
    }
    scored.into_iter().take_while(|s| s.0 == best).take(MAX_SUGGESTIONS).map(|s| s.1.to_string()).collect()
}

/// What makes two spellings of a licence alike: letters and digits only,
/// lower case, a version's `.0` and the words "license"/"licence" and the
/// GNU suffixes dropped (`GPL-3.0-only` and `GPL 3` both `gpl3`).
fn key(name: &str) -> String {
    let lower = name.to_ascii_lowercase();
    let mut s = lower.as_str();
    for suffix in ["-only", "-or-later"] {
        s = s.strip_suffix(suffix).unwrap_or(s);
    }
    let s = s.replace("license", "").replace("licence", "").replace(".0", "");
    s.chars().filter(char::is_ascii_alphanumeric).collect()
}

/// Levenshtein distance (the keys are short).
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diag = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let sub = diag + usize::from(ca != *cb);
            diag = row[j + 1];
            row[j + 1] = sub.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    row[b.len()]
}

/// Documents with one licence expression.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LicenseCount {
    /// The expression as stored.
    pub license: String,
    /// Documents with it.
    pub docs: u64,
}

/// Documents counted per licence expression.
#[derive(Debug, Clone, Default)]
pub struct LicenseTally(HashMap<String, u64>);

impl LicenseTally {
    /// Counts `docs` documents with `license`.
    pub fn add(&mut self, license: &str, docs: u64) {
        match self.0.get_mut(license) {
            Some(n) => *n += docs,
            None => {
                self.0.insert(license.to_string(), docs);
            }
        }
    }

    /// Documents whose licence is `NOASSERTION`.
    pub fn noassertion(&self) -> u64 {
        self.0.get(NOASSERTION).copied().unwrap_or(0)
    }

    /// Every expression, most documents first (then by name: stable output).
    pub fn counts(&self) -> Vec<LicenseCount> {
        let mut v: Vec<LicenseCount> =
            self.0.iter().map(|(l, n)| LicenseCount { license: l.clone(), docs: *n }).collect();
        v.sort_by(|a, b| b.docs.cmp(&a.docs).then_with(|| a.license.cmp(&b.license)));
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_expressions_are_kept_in_canonical_case() {
        for (given, stored) in [
            ("MIT", "MIT"),
            (" mit ", "MIT"),
            ("MIT OR Apache-2.0", "MIT OR Apache-2.0"),
            ("mit or apache-2.0", "MIT OR Apache-2.0"),
            ("GPL-2.0 WITH Linux-syscall-note", "GPL-2.0 WITH Linux-syscall-note"),
            ("GPL-2.0+", "GPL-2.0+"),
            ("(GPL-2.0-only OR BSD-3-Clause)", "(GPL-2.0-only OR BSD-3-Clause)"),
            ("LicenseRef-PublicDomain", "LicenseRef-PublicDomain"),
            ("noassertion", "NOASSERTION"),
            ("NONE", "NONE"),
        ] {
            assert_eq!(check(given).as_deref(), Ok(stored), "{given}");
        }
    }

    #[test]
    fn invalid_expressions_name_the_term_and_the_nearest_ids() {
        let e = check("GPL 3 or whatever").unwrap_err();
        assert_eq!(e.term.as_deref(), Some("GPL"));
        assert_eq!(e.suggestions, ["GPL-3.0-only", "GPL-3.0-or-later"]);
        let msg = e.to_string();
        assert!(msg.contains("did you mean GPL-3.0-only or GPL-3.0-or-later?"), "{msg}");
        assert_eq!(check("Apache 2").unwrap_err().suggestions, ["Apache-2.0"]);
        assert_eq!(check("MIT License").unwrap_err().suggestions, ["MIT"]);
        assert_eq!(check("BSD-3-Clauses").unwrap_err().suggestions, ["BSD-3-Clause"]);
        assert_eq!(check("GPL-2.0 WITH Linux-syscal-note").unwrap_err().suggestions, ["Linux-syscall-note"]);
        let far = check("see the README for terms").unwrap_err();
        assert!(far.suggestions.is_empty(), "{far:?}");
        assert!(far.to_string().contains("LicenseRef-"), "{far}");
        assert!(check("MIT AND").is_err());
        assert!(check("(MIT").is_err());
        assert!(check("").is_err());
    }

    #[test]
    fn tally_counts_most_first() {
        let mut t = LicenseTally::default();
        for l in ["MIT", "NOASSERTION", "MIT", "Zlib", "NOASSERTION", "MIT"] {
            t.add(l, 1);
        }
        assert_eq!(t.noassertion(), 2);
        let c = t.counts();
        assert_eq!(c[0], LicenseCount { license: "MIT".into(), docs: 3 });
        assert_eq!(c[1].license, "NOASSERTION");
        assert_eq!(c[2].license, "Zlib");
    }
}
