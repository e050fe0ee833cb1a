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

/// What a short canonical match's comments say: the span grown over the
/// comments beside it that its source has there too ([`widen`]), and the text
/// tokens of every comment of the copy (beside it or between its lexemes)
/// that its source has at the same place, whitespace aside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evidence {
    /// The span with its attached comments.
    pub bytes: Range<usize>,
    /// Text tokens of the comments shared with the source.
    pub comment_tokens: usize,
}

/// [`Evidence`] of the match whose lexemes are `lexemes` (bytes of `text`)
/// against the source range `o`; `before` and `after` as in [`widen`]. Reads
/// the source once.
pub fn evidence(
    index: &Index,
    o: Occurrence,
    text: &str,
    lexemes: &[Range<usize>],
    before: Range<usize>,
    after: Range<usize>,
) -> Result<Evidence, DetectError> {
    let (Some(first), Some(last)) = (lexemes.first(), lexemes.last()) else {
        return Ok(Evidence { bytes: before.start..before.start, comment_tokens: 0 });
    };
    let span = first.start..last.end;
    let verdict = index.with_code_range(o, |src, lx| {
        let src_gaps: Vec<&str> = lx.windows(2).map(|w| &src[w[0].src.end..w[1].src.start]).collect();
        compare(
            text,
            lexemes,
            &before,
            &after,
            src,
            lx.first().zip(lx.last()).map(|(a, b)| a.src.start..b.src.end),
            &src_gaps,
        )
    })?;
    Ok(verdict.unwrap_or(Evidence { bytes: span, comment_tokens: 0 }))
}

/// [`evidence`] on the texts: `src_span` is the source range's lexemes'
/// extent in `src`, `src_gaps` the text between its consecutive lexemes.
fn compare(
    text: &str,
    lexemes: &[Range<usize>],
    before: &Range<usize>,
    after: &Range<usize>,
    src: &str,
    src_span: Option<Range<usize>>,
    src_gaps: &[&str],
) -> Evidence {
    let span = lexemes[0].start..lexemes[lexemes.len() - 1].end;
    let Some(src_span) = src_span.filter(|_| src_gaps.len() + 1 == lexemes.len()) else {
        return Evidence { bytes: span, comment_tokens: 0 };
    };
    let words = |s: &str| recital_text::tokenize(s).len();
    let mut tokens = 0;
    // Between lexemes: the same comment at the same place (layout aside).
    for (w, src_gap) in lexemes.windows(2).zip(src_gaps) {
        let gap = &text[w[0].end..w[1].start];
        if !gap.trim().is_empty() && squeeze(gap) == squeeze(src_gap) {
            tokens += words(gap);
        }
    }
    let (b, a) = (&text[before.clone()], &text[after.clone()]);
    let grow_before = same_before(b, &src[..src_span.start]);
    let grow_after = same_after(a, &src[src_span.end..]);
    tokens += if grow_before { words(b) } else { 0 } + if grow_after { words(a) } else { 0 };
    let start = if grow_before { before.start + (b.len() - b.trim_start().len()) } else { span.start };
    let end = if grow_after { after.start + a.trim_end().len() } else { span.end };
    Evidence { bytes: start..end, comment_tokens: tokens }
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

    /// [`compare`] of `out` against `src`, both lexed as C, with the
    /// comments beside `out`'s lexemes taken from the whole of `out`.
    fn evidence_of(out: &str, src: &str) -> Evidence {
        use recital_text::code::{lexemes, Lang};
        let ol: Vec<Range<usize>> = lexemes(out, Lang::C).map(|l| l.src).collect();
        let sl: Vec<Range<usize>> = lexemes(src, Lang::C).map(|l| l.src).collect();
        let gaps: Vec<&str> = sl.windows(2).map(|w| &src[w[0].end..w[1].start]).collect();
        let span = sl[0].start..sl[sl.len() - 1].end;
        compare(
            out,
            &ol,
            &trimmed(out, 0..ol[0].start),
            &trimmed(out, ol[ol.len() - 1].end..out.len()),
            src,
            Some(span),
            &gaps,
        )
    }

    #[test]
    fn comments_the_source_has_at_the_same_place_are_evidence() {
        let src = "/* free it */
void put(struct p *p)
{
	/* last one */
	if (--p->n == 0)
		free(p);
}";
        // Renamed and re-indented, comments kept: their tokens count, and the
        // span grows over the one above it.
        let out = "/* free
   it */
void drop(struct b *b)
{
  /* last one */
  if (--b->k == 0)
    release(b);
}";
        let e = evidence_of(out, src);
        let words = |s: &str| recital_text::tokenize(s).len();
        assert_eq!(
            e,
            Evidence {
                bytes: 0..out.len(),
                comment_tokens: words("/* free it */") + words("/* last one */")
            }
        );
        // A comment of the writer's own, or one moved elsewhere, is not.
        let out = "/* my own */
void drop(struct b *b)
{
  if (--b->k == 0)
    /* last one */
    release(b);
}";
        let e = evidence_of(out, src);
        assert_eq!(e.comment_tokens, 0);
        assert_eq!(e.bytes, out.find("void").unwrap()..out.len());
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
