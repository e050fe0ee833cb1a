//! Copy tracks: the output followed along one indexed document, across the
//! small edits that near-verbatim detection forgives.
//!
//! A track starts where the output's last `seed` tokens occur in a protected
//! document, and is stretched back over the exact run before them. Each
//! committed output token then either continues it (the next source token,
//! or one up to `max_gap` further on: source words left out), or is an
//! insertion; a track dies after more than `max_gap` output tokens without a
//! match, or when, long enough to judge, its edits pass a quarter of its
//! matches. These are the detector's own chaining limits
//! (`ScanOptions::max_gap`, `seed_tokens`, and a similarity below the 0.85
//! near-verbatim bar, with a margin), so a track lives as long as the filter
//! could still join more of the output to the copy.

use recital_index::DocAddr;

/// Most edits a live track may have per matched token, once it has
/// [`JUDGED_AFTER`] matches: the detector judges similarity over the whole
/// merged copy, so a few early edits must not end a track that a long copy
/// will dilute.
const MAX_EDIT_RATIO: f64 = 0.25;
const JUDGED_AFTER: usize = 24;

/// One copy being followed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Track {
    pub addr: DocAddr,
    /// The source position expected next.
    pub next: usize,
    /// Output index of the track's first matched token.
    pub start: usize,
    /// Output index of its last matched token.
    pub last: usize,
    /// Exact run of matches ending at `last`.
    pub run: usize,
    pub matched: usize,
    pub edits: usize,
}

/// The limits tracks follow, from the policy's scan options.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub seed: usize,
    pub max_gap: usize,
}

impl Track {
    /// A track of the copy of `addr` whose last `run` tokens end at output
    /// index `last`, expecting source position `next`.
    pub fn new(addr: DocAddr, next: usize, start: usize, last: usize, run: usize) -> Self {
        Self { addr, next, start, last, run, matched: run, edits: 0 }
    }

    /// Follows output token `x` at output index `i`; false when the track
    /// has died. `src(p)` is the document's token at position `p` (`None`
    /// past its end).
    pub fn advance<'s>(
        &mut self,
        i: usize,
        x: &str,
        lim: Limits,
        mut src: impl FnMut(usize) -> Option<&'s str>,
    ) -> bool {
        let gap_out = i - self.last - 1;
        let mut found = None;
        for k in 0..=lim.max_gap {
            match src(self.next + k) {
                Some(s) if s == x => {
                    found = Some(k);
                    break;
                }
                Some(_) => {}
                None => break,
            }
        }
        match found {
            Some(k) => {
                self.edits += gap_out.max(k);
                self.run = if k == 0 && gap_out == 0 { self.run + 1 } else { 1 };
                self.matched += 1;
                self.next += k + 1;
                self.last = i;
            }
            None if gap_out + 1 > lim.max_gap => return false,
            None => {}
        }
        self.matched < JUDGED_AFTER || (self.edits as f64) <= self.matched as f64 * MAX_EDIT_RATIO
    }

    /// The source tokens that would go on with this copy next (the caller
    /// has found that going on would take it to a threshold). `tail` is the
    /// output's committed tokens, of which the last has index
    /// `tail.len() - 1`.
    ///
    /// - A copy that matched the last token may not go on by its next one.
    /// - One broken by `g` tokens may not resume at any of the next `g + 1`
    ///   source tokens (the output substituted or inserted them): the
    ///   detector extends a chain across such edits token by token (X-drop).
    /// - Nor by a token that completes an exact piece of `seed` tokens within
    ///   `max_gap` of where it broke: such a piece chains on its own.
    pub fn forbidden<'s, S: AsRef<str>>(
        &self,
        tail: &[S],
        lim: Limits,
        mut src: impl FnMut(usize) -> Option<&'s str>,
        mut out: impl FnMut(&'s str),
    ) {
        let n = tail.len();
        if n == 0 || self.last >= n {
            return;
        }
        let broken = n - 1 - self.last;
        for k in 0..=broken.min(lim.max_gap) {
            if let Some(w) = src(self.next + k) {
                out(w);
            }
        }
        if broken == 0 {
            return;
        }
        let need = lim.seed.saturating_sub(1);
        if need > n {
            return;
        }
        let recent = &tail[n - need..];
        for p in self.next..=self.next + lim.max_gap {
            if p < need {
                continue;
            }
            let Some(w) = src(p) else { break };
            let piece = (0..need).all(|q| src(p - need + q) == Some(recent[q].as_ref()));
            if piece {
                out(w);
            }
        }
    }

    /// Output tokens from the first match to the last.
    pub fn len(&self) -> usize {
        self.last + 1 - self.start
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIM: Limits = Limits { seed: 3, max_gap: 2 };

    fn words(s: &str) -> Vec<&str> {
        s.split(' ').collect()
    }

    fn track() -> Track {
        // Output tokens 0..3 copied source tokens 0..3 (matches counted as
        // for a longer copy, so that one edit is within the similarity bar).
        Track { addr: DocAddr::new(0, 0), next: 3, start: 0, last: 2, run: 3, matched: 10, edits: 0 }
    }

    fn forbidden(t: &Track, src: &[&'static str], out: &[&str]) -> Vec<&'static str> {
        let mut f = Vec::new();
        t.forbidden(out, LIM, |p| src.get(p).copied(), |w| f.push(w));
        f
    }

    #[test]
    fn an_unbroken_copy_goes_on_by_its_next_token() {
        let src = words("a b c d e f g");
        assert_eq!(forbidden(&track(), &src, &words("a b c")), ["d"]);
    }

    #[test]
    fn edits_keep_the_track_and_a_new_piece_is_stopped() {
        let src: Vec<&'static str> = words("a b c d e f g h");
        let mut t = track();
        // The output substitutes X for d, then copies e f.
        let out = words("a b c X e f");
        for (i, x) in out.iter().enumerate().skip(3) {
            assert!(t.advance(i, x, LIM, |p| src.get(p).copied()));
        }
        assert_eq!((t.next, t.last, t.run, t.edits), (6, 5, 2, 1));
        // `e f` + `g` would go on with the copy: stopped.
        assert_eq!(forbidden(&t, &src, &out), ["g"]);
        // One more inserted token: the next two source tokens are stopped.
        let out = words("a b c X e f Y");
        assert!(t.advance(6, "Y", LIM, |p| src.get(p).copied()));
        assert_eq!(forbidden(&t, &src, &out), ["g", "h"]);
    }

    #[test]
    fn a_long_detour_ends_the_track() {
        let src = words("a b c d e f g h");
        let mut t = track();
        for (i, x) in ["X", "Y", "Z"].iter().enumerate() {
            let alive = t.advance(3 + i, x, LIM, |p| src.get(p).copied());
            assert_eq!(alive, i < 2, "dies after more than max_gap insertions");
        }
    }

    #[test]
    fn skipped_source_words_realign() {
        let src = words("a b c d e f g h");
        let mut t = track();
        assert!(t.advance(3, "f", LIM, |p| src.get(p).copied()));
        assert_eq!((t.next, t.edits, t.run), (6, 2, 1));
    }
}
