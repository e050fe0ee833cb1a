//! Maximal exact spans from per-position match lengths.
//!
//! Given, for every start position `l` of the output's tokens, the length of the
//! longest prefix of `tokens[l..]` found in the corpus, a span `[l, l + len)` is
//! *maximal* when no earlier start reaches as far: it is then not contained in
//! any other match (OLMoTrace's rule: scan `l` ascending, keep a span iff its end
//! exceeds every earlier end). Maximal spans may overlap each other.

/// A half-open token range `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TokenSpan {
    /// First token.
    pub start: usize,
    /// One past the last token.
    pub end: usize,
}

impl TokenSpan {
    /// Number of tokens.
    pub fn len(&self) -> usize {
        self.end - self.start
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.end <= self.start
    }
}

/// Every maximal span, in order of start, of at least `min_len` tokens (≥ 1).
pub fn maximal_spans(lengths: &[u32], min_len: usize) -> Vec<TokenSpan> {
    let mut out = Vec::new();
    let mut last_end = 0usize;
    for (l, &len) in lengths.iter().enumerate() {
        let end = l + len as usize;
        if len > 0 && end > last_end {
            last_end = end;
            if len as usize >= min_len.max(1) {
                out.push(TokenSpan { start: l, end });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Brute force: a match [l, l+len_l) is maximal iff no other match contains it.
    fn brute(lengths: &[u32], min_len: usize) -> Vec<TokenSpan> {
        let spans: Vec<TokenSpan> = lengths
            .iter()
            .enumerate()
            .filter(|(_, &len)| len > 0)
            .map(|(l, &len)| TokenSpan { start: l, end: l + len as usize })
            .collect();
        spans
            .iter()
            .filter(|a| !spans.iter().any(|b| b != *a && b.start <= a.start && b.end >= a.end))
            .filter(|a| a.len() >= min_len.max(1))
            .copied()
            .collect()
    }

    proptest! {
        #[test]
        fn equals_brute_force(raw in prop::collection::vec(0u32..12, 0..60), min_len in 0usize..6) {
            // Real match lengths satisfy len[l+1] >= len[l] - 1 and never run past the end.
            let n = raw.len();
            let mut lengths = raw.clone();
            for l in 0..n {
                lengths[l] = lengths[l].min((n - l) as u32);
                if l > 0 {
                    lengths[l] = lengths[l].max(lengths[l - 1].saturating_sub(1));
                }
            }
            prop_assert_eq!(maximal_spans(&lengths, min_len), brute(&lengths, min_len));
        }
    }
}
