//! Comments attached to a canonical code match.
//!
//! The canonical stream has no comments, so a `code-canonical` span runs
//! from its first lexeme to its last: the comment above a copied function
//! (its doc comment, a banner) and one after its last lexeme are left out,
//! although they were copied with it. A renamer leaves comments alone, so
//! where the output's comment next to the span is, whitespace aside, the
//! comment next to the source's range, it is part of the copy and the span
//! grows over it. A comment the source does not have there stays out.

use std::ops::Range;

use recital_index::{Index, Occurrence};

use crate::error::DetectError;

/// The text of `s` without its whitespace: layout differs between a copy and
/// its source (re-indented, re-wrapped), the comment's characters do not.
fn squeeze(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

/// Whether `out_gap` (the output's comments right before a match) ends the
/// source's text before its range, `src_before`, whitespace aside.
pub fn same_before(out_gap: &str, src_before: &str) -> bool {
    let o = squeeze(out_gap);
    !o.is_empty() && squeeze(tail(src_before, out_gap.len() * 2 + 64)).ends_with(&o)
}

/// Whether `out_gap` (the output's comments right after a match) begins the
/// source's text after its range, `src_after`, whitespace aside.
pub fn same_after(out_gap: &str, src_after: &str) -> bool {
    let o = squeeze(out_gap);
    !o.is_empty() && squeeze(head(src_after, out_gap.len() * 2 + 64)).starts_with(&o)
}

/// At most the last `n` bytes of `s`, cut at a character boundary.
fn tail(s: &str, n: usize) -> &str {
    let mut at = s.len().saturating_sub(n);
    while !s.is_char_boundary(at) {
        at += 1;
    }
    &s[at..]
}

/// At most the first `n` bytes of `s`, cut at a character boundary.
fn head(s: &str, n: usize) -> &str {
    let mut at = n.min(s.len());
    while !s.is_char_boundary(at) {
        at -= 1;
    }
    &s[..at]
}

/// `r` (bytes of `text`) without the whitespace at its ends.
pub fn trimmed(text: &str, r: Range<usize>) -> Range<usize> {
    let t = &text[r.clone()];
    let start = r.start + (t.len() - t.trim_start().len());
    start..(start + t.trim().len())
}

/// `span` (bytes of `text`) grown over the comments in `before` and `after`
/// (the bytes between it and the lexemes or region bounds around it) that
/// the source range `o` has beside it too. Reads the source only when there
/// is a comment to check.
pub fn widen(
    index: &Index,
    o: Occurrence,
    text: &str,
    span: Range<usize>,
    before: Range<usize>,
    after: Range<usize>,
) -> Result<Range<usize>, DetectError> {
    let (b, a) = (&text[before.clone()], &text[after.clone()]);
    if b.trim().is_empty() && a.trim().is_empty() {
        return Ok(span);
    }
    let verdict = index.with_code_range(o, |src, lx| match (lx.first(), lx.last()) {
        (Some(first), Some(last)) => {
            (same_before(b, &src[..first.src.start]), same_after(a, &src[last.src.end..]))
        }
        _ => (false, false),
    })?;
    let (grow_before, grow_after) = verdict.unwrap_or((false, false));
    let start = if grow_before { before.start + (b.len() - b.trim_start().len()) } else { span.start };
    let end = if grow_after { after.start + a.trim_end().len() } else { span.end };
    Ok(start..end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_comment_the_source_has_there_is_part_of_the_copy() {
        let src = "}\n\n/* update state and return */\n    strm->next_in = in;";
        let cut = src.find("strm").unwrap();
        // Re-indented in the copy: the same comment.
        assert!(same_before("\n  /* update state\n     and return */\n  ", &src[..cut]));
        assert!(same_after(" // done\n", " // done\n}\n"));
        // Another comment, or one the source has elsewhere, is not.
        assert!(!same_before("/* update the state */\n", &src[..cut]));
        assert!(!same_before("/* update state and return */\n", "/* update state and return */ x = 1;\n"));
        assert!(!same_after("// done", "\n}\n// done"));
        // No comment: nothing to grow over.
        assert!(!same_before(" \n\t", &src[..cut]));
        assert!(!same_after("", "// x"));
    }

    #[test]
    fn trimmed_drops_the_whitespace_at_the_ends() {
        let t = "x; \n /* c */\n\ty";
        assert_eq!(&t[trimmed(t, 2..14)], "/* c */");
        assert!(trimmed(t, 2..5).is_empty());
    }

    #[test]
    fn cuts_keep_to_character_boundaries() {
        assert_eq!(tail("é/* ü */", 6), " ü */");
        assert_eq!(head("/* ü */", 4), "/* ");
        assert!(same_before("/* ü */", "x;\n/* ü */\n"));
    }
}
