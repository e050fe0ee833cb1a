//! Glob patterns for SPDX licence identifiers: `GPL-*`, `LicenseRef-*`, `BSD-?-Clause`.
//!
//! `*` matches any run of characters (also none), `?` exactly one; everything
//! else matches itself, ignoring ASCII case (SPDX identifiers are
//! case-insensitive). There are no character classes and no escapes: SPDX
//! identifiers use only letters, digits, `.`, `-`, `+` and `:`.

/// A licence-identifier pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    text: String,
}

impl Pattern {
    /// Checks and wraps a pattern; the error says which character is not allowed.
    pub fn new(text: &str) -> Result<Pattern, String> {
        if text.is_empty() {
            return Err("an empty licence pattern matches nothing".into());
        }
        if let Some(c) = text.chars().find(|&c| !(is_id_char(c) || c == '*' || c == '?')) {
            return Err(format!(
                "licence pattern {text:?} contains {c:?}; SPDX identifiers use letters, digits, \
                 '.', '-', '+' and ':' (plus '*' and '?' as wildcards)"
            ));
        }
        Ok(Pattern { text: text.to_string() })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether `id` matches the whole pattern (ASCII case ignored).
    pub fn matches(&self, id: &str) -> bool {
        glob_match(self.text.as_bytes(), id.as_bytes())
    }
}

/// Characters of an SPDX identifier (`idstring` plus `:` of `DocumentRef-…:LicenseRef-…`).
pub(crate) fn is_id_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+' | ':')
}

/// Wildcard match with one backtracking point (the last `*`): linear in
/// practice, quadratic at worst, never recursive.
fn glob_match(pat: &[u8], s: &[u8]) -> bool {
    let (mut p, mut i) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while i < s.len() {
        if p < pat.len() && pat[p] == b'*' {
            star = Some((p, i));
            p += 1;
        } else if p < pat.len() && (pat[p] == b'?' || pat[p].eq_ignore_ascii_case(&s[i])) {
            if pat[p] == b'?' {
                // `?` is one character, not one byte.
                i += utf8_len(s[i]);
            } else {
                i += 1;
            }
            p += 1;
        } else if let Some((sp, si)) = star {
            p = sp + 1;
            let next = si + utf8_len(s[si]);
            star = Some((sp, next));
            i = next;
        } else {
            return false;
        }
    }
    pat[p..].iter().all(|&c| c == b'*')
}

/// Length of the UTF-8 sequence that starts with byte `b` (1 for a stray continuation byte).
fn utf8_len(b: u8) -> usize {
    match b {
        0xF0..=0xFF => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, s: &str) -> bool {
        Pattern::new(p).unwrap().matches(s)
    }

    #[test]
    fn literals_match_whole_ids_ignoring_case() {
        assert!(m("MIT", "MIT"));
        assert!(m("MIT", "mit"));
        assert!(!m("MIT", "MIT-0"));
        assert!(!m("MIT-0", "MIT"));
        assert!(!m("GPL-2.0", "LGPL-2.0"));
    }

    #[test]
    fn star_matches_any_run_including_none() {
        assert!(m("GPL-*", "GPL-2.0-only"));
        assert!(m("GPL-*", "GPL-"));
        assert!(!m("GPL-*", "LGPL-2.1-only"));
        assert!(m("*GPL-*", "LGPL-2.1-only"));
        assert!(m("*", ""));
        assert!(m("LicenseRef-*", "LicenseRef-Proprietary"));
        assert!(m("*-only", "GPL-3.0-only"));
        assert!(!m("*-only", "GPL-3.0-or-later"));
        assert!(m("CC-BY-*-4.0", "CC-BY-NC-SA-4.0"));
        assert!(!m("CC-BY-*-4.0", "CC-BY-4.0"));
        // Backtracking: the first `-` after `*` is not the one that must match.
        assert!(m("a*-b", "a-x-b"));
        assert!(m("*a*a*a", "aaaa"));
        assert!(!m("*a*a*a", "aab"));
    }

    #[test]
    fn question_mark_is_one_character() {
        assert!(m("BSD-?-Clause", "BSD-3-Clause"));
        assert!(!m("BSD-?-Clause", "BSD-3-Clause-Clear"));
        assert!(!m("BSD-?-Clause", "BSD--Clause"));
        // One character, even when it is not ASCII (ids from a corrupt sidecar).
        assert!(m("a?b", "aéb"));
        assert!(m("a*b", "aééb"));
    }

    #[test]
    fn patterns_reject_characters_spdx_ids_cannot_have() {
        assert!(Pattern::new("").is_err());
        assert!(Pattern::new("GPL 2.0").unwrap_err().contains("' '"));
        assert!(Pattern::new("[MG]PL").is_err());
        assert!(Pattern::new("DocumentRef-x:LicenseRef-y").is_ok());
        assert!(Pattern::new("GPL-2.0+").is_ok());
    }
}
