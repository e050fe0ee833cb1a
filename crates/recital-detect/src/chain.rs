//! Near-verbatim matches: exact seeds chained across small edits.
//!
//! An edited copy (a few words substituted, inserted or deleted) breaks into
//! exact pieces that each may be too short to report. Pieces found in the *same*
//! document, in the same order in the output and in the document, with small gaps
//! between them on both sides, are chained (co-linear chaining, as in
//! MUMmer/minimap2 and decon's `max_consecutive_misses`). A chain reports the
//! output range it covers, the tokens matched exactly, an edit similarity and
//! its longest exact run.
//!
//! Every measure is also kept over *content tokens* alone (a letter or digit
//! in them, [`is_content`]): two device-tree bindings, two reStructuredText
//! tables or two translations of one page share their `= < > ; | - :` and
//! little else, and a chain whose matches are mostly such marks is a shared
//! template, not a copy. The scan judges near-verbatim matches on these.

/// An exact match of output tokens `[out_start, out_start + len)` with document
/// tokens `[doc_start, doc_start + len)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Seed {
    /// First output token.
    pub out_start: usize,
    /// First document token.
    pub doc_start: usize,
    /// Length in tokens.
    pub len: usize,
    /// Rare in the corpus (specific evidence of copying, not a stock phrase).
    pub rare: bool,
}

impl Seed {
    fn out_end(&self) -> usize {
        self.out_start + self.len
    }
    fn doc_end(&self) -> usize {
        self.doc_start + self.len
    }
}

/// A chain of seeds in one document.
#[derive(Debug, Clone, PartialEq)]
pub struct Chain {
    /// The seeds, in order.
    pub seeds: Vec<Seed>,
    /// Output tokens `[start, end)` the chain spans.
    pub out_start: usize,
    /// End of that range.
    pub out_end: usize,
    /// Document tokens `[start, end)` the chain spans.
    pub doc_start: usize,
    /// End of that range.
    pub doc_end: usize,
    /// Output tokens covered by some seed (or matched by extension).
    pub matched: usize,
    /// Output tokens covered by rare seeds: the evidence that this is a copy of
    /// this document rather than a template it shares with many.
    pub evidence: usize,
    /// `matched / max(output range, document range)`: 1.0 for a verbatim copy.
    pub similarity: f64,
    /// Content tokens among `matched` (see [`is_content`]).
    pub content_matched: usize,
    /// Content tokens among `evidence`.
    pub content_evidence: usize,
    /// Longest seed.
    pub longest_run: usize,
}

/// Whether a token carries content: a letter or a digit (any script). Marks,
/// rules, indentation and markup (`=`, `;`, `<`, `|`, `*`, `#`, `-`) do not.
pub fn is_content(token: &[u8]) -> bool {
    std::str::from_utf8(token).is_ok_and(|t| t.chars().any(char::is_alphanumeric))
}

/// Chains the seeds of one document. `max_gap` bounds the unmatched tokens
/// between consecutive seeds on each side; seeds that overlap in the output
/// (maximal spans can) must keep the same output-to-document offset where they
/// overlap. `content(i)` says whether output token `i` is a content token.
/// Returns the chains (each seed in at most one), best first.
pub fn chain(mut seeds: Vec<Seed>, max_gap: usize, content: impl Fn(usize) -> bool) -> Vec<Chain> {
    seeds.sort();
    seeds.dedup();
    let n = seeds.len();
    // score[j]: tokens matched by the best chain ending at seed j; prev[j]: its predecessor.
    let mut score = vec![0usize; n];
    let mut prev = vec![usize::MAX; n];
    for j in 0..n {
        let sj = seeds[j];
        score[j] = sj.len;
        for i in 0..j {
            let si = seeds[i];
            if !(sj.out_start > si.out_start && sj.doc_start > si.doc_start) {
                continue;
            }
            let gap_out = sj.out_start as isize - si.out_end() as isize;
            let gap_doc = sj.doc_start as isize - si.doc_end() as isize;
            if gap_out > max_gap as isize || gap_doc > max_gap as isize {
                continue;
            }
            // Overlap is only allowed along the same diagonal.
            if (gap_out < 0 || gap_doc < 0)
                && (sj.doc_start as isize - sj.out_start as isize)
                    != (si.doc_start as isize - si.out_start as isize)
            {
                continue;
            }
            let gain = sj.out_end().saturating_sub(si.out_end().max(sj.out_start)).min(sj.len);
            if score[i] + gain > score[j] {
                score[j] = score[i] + gain;
                prev[j] = i;
            }
        }
    }
    // Take chains greedily by score; each seed used once.
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| score[b].cmp(&score[a]).then(a.cmp(&b)));
    let mut used = vec![false; n];
    let mut out = Vec::new();
    for end in order {
        if used[end] {
            continue;
        }
        let mut ix = Vec::new();
        let mut j = end;
        loop {
            if used[j] {
                break;
            }
            ix.push(j);
            if prev[j] == usize::MAX {
                break;
            }
            j = prev[j];
        }
        ix.reverse();
        for &i in &ix {
            used[i] = true;
        }
        let chain_seeds: Vec<Seed> = ix.iter().map(|&i| seeds[i]).collect();
        out.push(summarise(chain_seeds, &content));
    }
    out.sort_by(|a, b| b.matched.cmp(&a.matched).then(a.out_start.cmp(&b.out_start)));
    out
}

fn summarise(seeds: Vec<Seed>, content: &impl Fn(usize) -> bool) -> Chain {
    let out_start = seeds.iter().map(|s| s.out_start).min().unwrap_or(0);
    let out_end = seeds.iter().map(|s| s.out_end()).max().unwrap_or(0);
    let doc_start = seeds.iter().map(|s| s.doc_start).min().unwrap_or(0);
    let doc_end = seeds.iter().map(|s| s.doc_end()).max().unwrap_or(0);
    // Output tokens covered by (rare) seeds: all of them, and the content ones.
    let union = |only_rare: bool| {
        let (mut covered, mut words, mut reach) = (0, 0, 0);
        for s in seeds.iter().filter(|s| s.rare || !only_rare) {
            let a = s.out_start.max(reach);
            if s.out_end() > a {
                covered += s.out_end() - a;
                words += (a..s.out_end()).filter(|&i| content(i)).count();
            }
            reach = reach.max(s.out_end());
        }
        (covered, words)
    };
    let (covered, content_matched) = union(false);
    let (evidence, content_evidence) = union(true);
    let span = (out_end - out_start).max(doc_end - doc_start).max(1);
    Chain {
        longest_run: seeds.iter().map(|s| s.len).max().unwrap_or(0),
        seeds,
        out_start,
        out_end,
        doc_start,
        doc_end,
        matched: covered,
        evidence,
        similarity: covered as f64 / span as f64,
        content_matched,
        content_evidence,
    }
}

/// Extends a chain past its outer seeds across small edits, comparing output
/// and document tokens directly. X-drop scoring: +1 a match, −2 an edit, stop
/// when the score falls `xdrop` below its best. An edit is a substitution, or a
/// token inserted or removed on one side when the next two tokens then agree.
/// Seeds shorter than the seed length are invisible to the index search, so a
/// copy whose first or last words were edited would otherwise lose its edges.
/// Returns the tokens gained as matches (those for which `content(i)` holds,
/// `i` an output position, are added to `content_matched`). The document's token `i` comes from
/// `doc(i)` (`None` past its ends): the walk stops a few edits past the
/// chain, so a caller can fetch the document's tokens only as far as it reads
/// them.
pub fn extend<'a, S: AsRef<[u8]>>(
    c: &mut Chain,
    out: &'a [S],
    doc: impl Fn(usize) -> Option<&'a [u8]>,
    content: impl Fn(usize) -> bool,
    xdrop: i64,
) -> usize {
    // Right: positions after the chain.
    let (dr_out, dr_doc, (gained_r, content_r)) = walk(
        |k| out.get(c.out_end + k).map(|t| t.as_ref()),
        |k| doc(c.doc_end + k),
        |k| content(c.out_end + k),
        xdrop,
    );
    // Left: positions before the chain, walking backwards.
    let (dl_out, dl_doc, (gained_l, content_l)) = walk(
        |k| c.out_start.checked_sub(k + 1).and_then(|i| out.get(i)).map(|t| t.as_ref()),
        |k| c.doc_start.checked_sub(k + 1).and_then(&doc),
        |k| c.out_start.checked_sub(k + 1).is_some_and(&content),
        xdrop,
    );
    c.out_end += dr_out;
    c.doc_end += dr_doc;
    c.out_start -= dl_out;
    c.doc_start -= dl_doc;
    let gained = gained_r + gained_l;
    if gained > 0 {
        c.matched += gained;
        c.content_matched += content_r + content_l;
        let span = (c.out_end - c.out_start).max(c.doc_end - c.doc_start).max(1);
        c.similarity = c.matched as f64 / span as f64;
    }
    gained
}

/// One direction of [`extend`]: `out(k)` and `doc(k)` are the k-th tokens away
/// from the chain. Returns how far the best-scoring end lies on each side and
/// the matches up to it (all, and content tokens: `content(k)`).
fn walk<'a>(
    out: impl Fn(usize) -> Option<&'a [u8]>,
    doc: impl Fn(usize) -> Option<&'a [u8]>,
    content: impl Fn(usize) -> bool,
    xdrop: i64,
) -> (usize, usize, (usize, usize)) {
    let (mut i, mut j) = (0usize, 0usize);
    let (mut score, mut hits) = (0i64, (0usize, 0usize));
    let mut best = (0i64, 0usize, 0usize, (0usize, 0usize));
    while let (Some(o), Some(d)) = (out(i), doc(j)) {
        if o == d {
            score += 1;
            hits.0 += 1;
            hits.1 += usize::from(content(i));
            i += 1;
            j += 1;
        } else {
            score -= 2;
            let agree = |a: usize, b: usize| matches!((out(a), doc(b)), (Some(x), Some(y)) if x == y);
            if agree(i + 1, j) && agree(i + 2, j + 1) {
                i += 1; // a token inserted in the output
            } else if agree(i, j + 1) && agree(i + 1, j + 2) {
                j += 1; // a token removed from the output
            } else {
                i += 1;
                j += 1;
            }
        }
        if score > best.0 {
            best = (score, i, j, hits);
        }
        if score < best.0 - xdrop {
            break;
        }
    }
    (best.1, best.2, best.3)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extension_steps_over_inserted_and_removed_tokens() {
        // "the day of the assembly , saying" with the comma removed in the output.
        let doc: Vec<&str> =
            "in the day of the assembly , saying , let me not hear again".split(' ').collect();
        let out: Vec<&str> = "in the day of the assembly saying , let me not hear again".split(' ').collect();
        // The index found ", let me not hear again" (output 7.., document 8..).
        let mut c = chain(vec![seed(7, 8, 6)], 4, |_| true).remove(0);
        let gained = extend(&mut c, &out, words(&doc), |_| true, 4);
        assert_eq!((c.out_start, c.doc_start), (0, 0), "{c:?}");
        assert_eq!(gained, 7);
        // A word inserted in the output on the right.
        let doc: Vec<&str> = "a b c d e f g h".split(' ').collect();
        let out: Vec<&str> = "a b c d X e f g h".split(' ').collect();
        let mut c = chain(vec![seed(0, 0, 4)], 4, |_| true).remove(0);
        extend(&mut c, &out, words(&doc), |_| true, 4);
        assert_eq!((c.out_end, c.doc_end), (9, 8));
    }

    #[test]
    fn extension_recovers_edited_edges() {
        let doc: Vec<&str> = "vanity of vanities , saith the preacher , vanity of vanities ; all is vanity ."
            .split(' ')
            .collect();
        let out: Vec<&str> =
            "so : vanity of vanities , said the preacher , vanity of vanities ; all is vanity . ok"
                .split(' ')
                .collect();
        // The index found "the preacher … vanity ." (output 7.., document 5..).
        let mut c = chain(vec![seed(7, 5, 11)], 4, |_| true).remove(0);
        let gained = extend(&mut c, &out, words(&doc), |_| true, 4);
        assert_eq!(gained, 4, "vanity of vanities , — across the substituted word");
        assert_eq!((c.out_start, c.out_end, c.doc_start, c.doc_end), (2, 18, 0, 16));
        assert_eq!(c.matched, 15);
        // Nothing to gain: unrelated neighbours.
        let mut c = chain(vec![seed(2, 0, 3)], 4, |_| true).remove(0);
        let unrelated: Vec<&str> = "x y a b c z w".split(' ').collect();
        let d2: Vec<&str> = "a b c q r".split(' ').collect();
        assert_eq!(extend(&mut c, &unrelated, words(&d2), |_| true, 4), 0);
        assert_eq!((c.out_start, c.out_end), (2, 5));
    }

    /// A document of words as `extend` reads it.
    fn words<'a>(doc: &'a [&str]) -> impl Fn(usize) -> Option<&'a [u8]> {
        move |i| doc.get(i).map(|w| w.as_bytes())
    }

    fn seed(out_start: usize, doc_start: usize, len: usize) -> Seed {
        Seed { out_start, doc_start, len, rare: true }
    }

    #[test]
    fn evidence_counts_only_rare_seeds() {
        let mut common = seed(11, 111, 9);
        common.rare = false;
        let c = chain(vec![seed(0, 100, 10), common, seed(21, 121, 9)], 4, |_| true);
        assert_eq!(c[0].matched, 28);
        assert_eq!(c[0].evidence, 19);
    }

    #[test]
    fn substitutions_chain_into_one_match() {
        // 30-token copy with words 10 and 20 substituted: three exact pieces.
        let c = chain(vec![seed(0, 100, 10), seed(11, 111, 9), seed(21, 121, 9)], 4, |_| true);
        assert_eq!(c.len(), 1);
        assert_eq!((c[0].out_start, c[0].out_end, c[0].doc_start, c[0].doc_end), (0, 30, 100, 130));
        assert_eq!(c[0].matched, 28);
        assert!((c[0].similarity - 28.0 / 30.0).abs() < 1e-9);
        assert_eq!(c[0].longest_run, 10);
    }

    #[test]
    fn insertions_and_deletions_chain_but_far_or_reordered_pieces_do_not() {
        // Two words inserted in the output, then three deleted from it.
        let c = chain(vec![seed(0, 0, 8), seed(10, 8, 8), seed(18, 19, 8)], 4, |_| true);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].matched, 24);
        // A piece 50 tokens further on in the document stays apart.
        let c = chain(vec![seed(0, 0, 8), seed(8, 58, 8)], 4, |_| true);
        assert_eq!(c.len(), 2);
        // Reordered pieces are not co-linear.
        let c = chain(vec![seed(0, 20, 8), seed(8, 0, 8)], 4, |_| true);
        assert_eq!(c.len(), 2);
    }

    #[test]
    fn overlapping_seeds_on_one_diagonal_count_once() {
        let c = chain(vec![seed(0, 0, 10), seed(5, 5, 10)], 4, |_| true);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].matched, 15);
        // Overlap on different diagonals is not one copy.
        let c = chain(vec![seed(0, 0, 10), seed(5, 9, 10)], 4, |_| true);
        assert_eq!(c.len(), 2);
    }
}
