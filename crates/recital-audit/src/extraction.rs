//! Extraction and verbatim-overlap metrics on token ids (research note §12 A
//! and E).
//!
//! Everything here compares sequences of token ids (`&[u32]`); the model only
//! enters through the greedy continuation the caller passes in (or the
//! generator closure of [`prefix_length_sweep`]). The overlap metrics of §12 E
//! are defined on normalised words or characters: pass word ids (after
//! N_word normalisation) or `char as u32` (after N_char normalisation) and they
//! compute exactly the quantities the note defines.
//!
//! | metric | note § | function |
//! |---|---|---|
//! | k-extractable (Carlini 2022 Def. 3.1) | 12.1 | [`is_extractable`], [`prefix_length_sweep`] |
//! | memorisation score (Biderman 2023) | 12.2 | [`memorisation_score`] |
//! | LCS(character), LCS(word) (CoTaEval) | 12.19, 12.20 | [`longest_common_substring`], [`lcs_word`] |
//! | ACS(word) (CoTaEval) | 12.21 | [`accumulated_common_substrings`] |
//! | ROUGE-1, ROUGE-L (rouge_score, β = 1) | 12.22 | [`rouge_1`], [`rouge_l`] |
//! | longest common subsequence (Karamolegkou) | 12.25 | [`longest_common_subsequence`], [`lcs_ratio`] |

use serde::{Deserialize, Serialize};

use crate::error::{AuditError, Result};

/// Prefix and suffix lengths of a discoverable-extraction probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtractionConfig {
    /// k: tokens of true training text given as the prompt.
    pub prefix_len: usize,
    /// ℓ: tokens the greedy continuation must reproduce.
    pub suffix_len: usize,
}

impl ExtractionConfig {
    /// (k = 50, ℓ = 50): Google's lm-extraction-benchmark and Al-Kaswan et al.
    /// (note §12.1).
    pub const LM_EXTRACTION_BENCHMARK: Self = Self { prefix_len: 50, suffix_len: 50 };
    /// (k = 32, ℓ = 32): Pythia's `eval_memorization.py` (Biderman 2023).
    pub const PYTHIA: Self = Self { prefix_len: 32, suffix_len: 32 };

    /// Splits a training sequence into the probe's prompt `x[0..k]` and true
    /// suffix `x[k..k+ℓ]`, or `None` when the sequence is shorter than `k + ℓ`.
    pub fn split<'a>(&self, sequence: &'a [u32]) -> Option<(&'a [u32], &'a [u32])> {
        let end = self.prefix_len.checked_add(self.suffix_len)?;
        if sequence.len() < end {
            return None;
        }
        Some((&sequence[..self.prefix_len], &sequence[self.prefix_len..end]))
    }
}

/// The context lengths of Carlini et al. 2022 §4.3: k ∈ {50, 100, …, 450}
/// with a 50-token suffix (sequence lengths 100 to 500).
pub const CARLINI_2022_PREFIX_LENGTHS: [usize; 9] = [50, 100, 150, 200, 250, 300, 350, 400, 450];

/// `1[ĝ = s]`: whether the greedy continuation reproduces the true suffix
/// exactly (note §12.1).
///
/// Only the first `ℓ = true_suffix.len()` generated tokens are compared, as
/// the reference code slices them (`generations[:, 32:64]`); a generation
/// shorter than ℓ (stopped early) is not a match. An empty suffix is refused
/// by [`memorisation_score`] and never counts as extracted here.
pub fn is_extractable(generated: &[u32], true_suffix: &[u32]) -> bool {
    !true_suffix.is_empty()
        && generated.len() >= true_suffix.len()
        && generated[..true_suffix.len()] == *true_suffix
}

/// The memorisation score `M = (1/ℓ) Σ_{i=1..ℓ} 1[ĝ_i = s_i]` of Biderman et
/// al. 2023 (note §12.2): the fraction of suffix positions where the greedy
/// continuation has the true token.
///
/// Position-wise, not LCS-based and not re-aligned: one inserted token shifts
/// everything after it to mismatches, exactly as `(true_continuation ==
/// generations[:, 32:64]).float().mean()` does. Positions the generation does
/// not reach (it stopped early) count as mismatches; tokens beyond ℓ are
/// ignored. "Memorised" means `M = 1`, i.e. [`is_extractable`].
pub fn memorisation_score(generated: &[u32], true_suffix: &[u32]) -> Result<f64> {
    if true_suffix.is_empty() {
        return Err(AuditError::Empty { what: "true_suffix" });
    }
    let matches = generated.iter().zip(true_suffix).filter(|(g, s)| g == s).count();
    Ok(matches as f64 / true_suffix.len() as f64)
}

/// Mean of 0/1 outcomes: the extraction rate over a sample (note §12.1).
/// `None` for an empty sample. The caller must report the sampling frame.
pub fn extraction_rate(outcomes: &[bool]) -> Option<f64> {
    if outcomes.is_empty() {
        return None;
    }
    Some(outcomes.iter().filter(|&&x| x).count() as f64 / outcomes.len() as f64)
}

/// One point of a prefix-length sweep.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SweepPoint {
    /// Tokens of context k.
    pub prefix_len: usize,
    /// Whether the greedy continuation reproduced the suffix exactly.
    pub extractable: bool,
    /// The memorisation score of the continuation.
    pub score: f64,
}

/// Discoverable extraction of one training sequence at several context
/// lengths (Carlini et al. 2022 §3.2): for each k, prompt with `x[0..k]` and
/// compare the greedy continuation with `x[k..k+suffix_len]`.
///
/// `generate(prompt, n)` must return the greedy continuation of `prompt` for
/// `n` tokens. Context lengths the sequence is too short for are skipped, so
/// the result can have fewer points than `prefix_lengths`; each point names
/// its k.
pub fn prefix_length_sweep<E, G>(
    sequence: &[u32],
    prefix_lengths: &[usize],
    suffix_len: usize,
    mut generate: G,
) -> std::result::Result<Vec<SweepPoint>, E>
where
    G: FnMut(&[u32], usize) -> std::result::Result<Vec<u32>, E>,
{
    let mut points = Vec::with_capacity(prefix_lengths.len());
    if suffix_len == 0 {
        return Ok(points);
    }
    for &prefix_len in prefix_lengths {
        let config = ExtractionConfig { prefix_len, suffix_len };
        let Some((prefix, suffix)) = config.split(sequence) else {
            continue;
        };
        let generated = generate(prefix, suffix_len)?;
        let score = memorisation_score(&generated, suffix).unwrap_or(0.0);
        points.push(SweepPoint { prefix_len, extractable: is_extractable(&generated, suffix), score });
    }
    Ok(points)
}

/// Length of the longest common **subsequence** (not necessarily contiguous)
/// of `a` and `b`: the quantity under ROUGE-L and Karamolegkou et al.'s LCS
/// (note §12.22, §12.25). O(|a|·|b|) time, O(min(|a|, |b|)) memory.
pub fn longest_common_subsequence(a: &[u32], b: &[u32]) -> usize {
    let (long, short) = if a.len() >= b.len() { (a, b) } else { (b, a) };
    if short.is_empty() {
        return 0;
    }
    let mut prev = vec![0usize; short.len() + 1];
    let mut cur = vec![0usize; short.len() + 1];
    for &x in long {
        for (j, &y) in short.iter().enumerate() {
            cur[j + 1] = if x == y { prev[j] + 1 } else { cur[j].max(prev[j + 1]) };
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[short.len()]
}

/// Karamolegkou et al.'s LCS ratio (note §12.25): the longest common
/// subsequence divided by the reference length (`None` for an empty
/// reference).
pub fn lcs_ratio(output: &[u32], reference: &[u32]) -> Option<f64> {
    if reference.is_empty() {
        return None;
    }
    Some(longest_common_subsequence(output, reference) as f64 / reference.len() as f64)
}

/// Length of the longest common **substring** (contiguous run) of `a` and
/// `b`. On N_char-normalised characters this is CoTaEval's LCS(character)
/// (note §12.19). O(|a|·|b|) time, O(min) memory.
pub fn longest_common_substring(a: &[u32], b: &[u32]) -> usize {
    let (long, short) = if a.len() >= b.len() { (a, b) } else { (b, a) };
    let mut prev = vec![0usize; short.len() + 1];
    let mut cur = vec![0usize; short.len() + 1];
    let mut best = 0;
    for &x in long {
        for (j, &y) in short.iter().enumerate() {
            cur[j + 1] = if x == y { prev[j] + 1 } else { 0 };
            best = best.max(cur[j + 1]);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    best
}

/// CoTaEval's minimum run for the word metrics (`min_tokens=3` in
/// `process.py`).
pub const COTAEVAL_MIN_WORDS: usize = 3;

/// CoTaEval's LCS(word) (note §12.20): the longest common contiguous run of
/// N_word-normalised words, counted as 0 when shorter than `min_run` (3 in
/// CoTaEval, [`COTAEVAL_MIN_WORDS`]).
///
/// This is the definition in the note. CoTaEval's `process.py` reports the
/// longest run among those its ACS pass *keeps*, which can be shorter when a
/// longer run overlaps an earlier kept one; we report the true longest run.
pub fn lcs_word(output: &[u32], reference: &[u32], min_run: usize) -> usize {
    let best = longest_common_substring(output, reference);
    if best >= min_run.max(1) {
        best
    } else {
        0
    }
}

/// CoTaEval's ACS(word), accumulated common substrings (note §12.21).
///
/// Exactly `process.py`'s `find_common_sequences`: every common run of at
/// least `min_run` words is listed as the interval of the *output* it covers
/// (one per cell `dp[i][j] ≥ min_run` of the common-suffix table, so a long
/// run also contributes its shorter prefixes, which start at the same word);
/// the intervals are
/// sorted by start, longest first; an interval is kept when it starts after
/// the end of the last kept one; ACS is the sum of the kept lengths.
pub fn accumulated_common_substrings(output: &[u32], reference: &[u32], min_run: usize) -> usize {
    let min_run = min_run.max(1);
    // (start, end inclusive) in the output, as in process.py.
    let mut intervals: Vec<(usize, usize)> = Vec::new();
    let mut prev = vec![0usize; reference.len() + 1];
    let mut cur = vec![0usize; reference.len() + 1];
    for (i, &x) in output.iter().enumerate() {
        for (j, &y) in reference.iter().enumerate() {
            cur[j + 1] = if x == y { prev[j] + 1 } else { 0 };
            let run = cur[j + 1];
            if run >= min_run {
                intervals.push((i + 1 - run, i));
            }
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    intervals.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
    let mut last_end: Option<usize> = None;
    let mut total = 0;
    for (start, end) in intervals {
        if last_end.is_none_or(|e| start > e) {
            total += end + 1 - start;
            last_end = Some(end);
        }
    }
    total
}

/// Precision, recall and F-measure of an overlap score.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Rouge {
    /// Overlap over candidate (output) length.
    pub precision: f64,
    /// Overlap over reference length.
    pub recall: f64,
    /// F_β of precision and recall (β = 1 unless stated).
    pub f_measure: f64,
}

impl Rouge {
    fn from_overlap(overlap: usize, candidate_len: usize, reference_len: usize, beta: f64) -> Self {
        if candidate_len == 0 || reference_len == 0 {
            return Self { precision: 0.0, recall: 0.0, f_measure: 0.0 };
        }
        let precision = overlap as f64 / candidate_len as f64;
        let recall = overlap as f64 / reference_len as f64;
        let b2 = beta * beta;
        let denominator = recall + b2 * precision;
        let f_measure = if denominator > 0.0 { (1.0 + b2) * precision * recall / denominator } else { 0.0 };
        Self { precision, recall, f_measure }
    }
}

/// ROUGE-L of a candidate (model output) against a reference, as Google's
/// `rouge_score` computes it (note §12.22): with `L` the longest common
/// subsequence, `P = L/|candidate|`, `R = L/|reference|` and
/// `F = 2PR/(P + R)` (**β = 1**); all three are 0 when either side is empty
/// or nothing is shared. CopyBench's literal-copying flag is `F ≥ 0.8` on the
/// first 50 words.
pub fn rouge_l(candidate: &[u32], reference: &[u32]) -> Rouge {
    rouge_l_beta(candidate, reference, 1.0)
}

/// ROUGE-L with a general `β` (Lin 2004: `F_β = (1+β²)PR/(R + β²P)`); β = 1
/// is [`rouge_l`], which is what the field's tools report.
pub fn rouge_l_beta(candidate: &[u32], reference: &[u32], beta: f64) -> Rouge {
    let lcs = longest_common_subsequence(candidate, reference);
    Rouge::from_overlap(lcs, candidate.len(), reference.len(), beta)
}

/// ROUGE-1 (note §12.22): clipped unigram overlap
/// `Σ_w min(count_cand(w), count_ref(w))`, with precision, recall and F (β = 1)
/// as in [`rouge_l`].
pub fn rouge_1(candidate: &[u32], reference: &[u32]) -> Rouge {
    let mut a = candidate.to_vec();
    let mut b = reference.to_vec();
    a.sort_unstable();
    b.sort_unstable();
    let (mut i, mut j, mut overlap) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                overlap += 1;
                i += 1;
                j += 1;
            }
        }
    }
    Rouge::from_overlap(overlap, candidate.len(), reference.len(), 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_match_and_score() {
        let suffix = [5, 6, 7, 8];
        assert!(is_extractable(&[5, 6, 7, 8], &suffix));
        assert!(is_extractable(&[5, 6, 7, 8, 9], &suffix), "tokens beyond ℓ are ignored");
        assert!(!is_extractable(&[5, 6, 7], &suffix), "stopped early");
        assert!(!is_extractable(&[5, 6, 0, 8], &suffix));
        assert!(!is_extractable(&[], &[]));
        assert_eq!(memorisation_score(&[5, 6, 7, 8], &suffix), Ok(1.0));
        assert_eq!(memorisation_score(&[5, 0, 7, 0], &suffix), Ok(0.5));
        // One inserted token shifts the rest: positional, not re-aligned.
        assert_eq!(memorisation_score(&[9, 5, 6, 7], &suffix), Ok(0.0));
        assert_eq!(memorisation_score(&[5, 6], &suffix), Ok(0.5));
        assert!(memorisation_score(&[1], &[]).is_err());
    }

    #[test]
    fn splits_and_sweeps() {
        let seq: Vec<u32> = (0..100).collect();
        let (p, s) = ExtractionConfig::LM_EXTRACTION_BENCHMARK.split(&seq).unwrap();
        assert_eq!((p.len(), s.len(), s[0]), (50, 50, 50));
        let (p, s) = ExtractionConfig::PYTHIA.split(&seq).unwrap();
        assert_eq!((p.len(), s, p[31]), (32, &seq[32..64], 31));
        assert!(ExtractionConfig::LM_EXTRACTION_BENCHMARK.split(&seq[..99]).is_none());

        // A "model" that continues by counting up, but only from prompts of ≥ 40 tokens.
        let seq: Vec<u32> = (0..120).collect();
        let points = prefix_length_sweep(&seq, &[20, 40, 70, 80], 50, |prompt, n| {
            let last = *prompt.last().unwrap();
            let good = prompt.len() >= 40;
            Ok::<_, ()>((1..=n as u32).map(|i| if good { last + i } else { 0 }).collect())
        })
        .unwrap();
        assert_eq!(points.len(), 3, "k = 80 needs 130 tokens");
        assert_eq!((points[0].prefix_len, points[0].extractable, points[0].score), (20, false, 0.0));
        assert_eq!((points[1].prefix_len, points[1].extractable, points[1].score), (40, true, 1.0));
        assert_eq!(CARLINI_2022_PREFIX_LENGTHS.last(), Some(&450));
        assert_eq!(extraction_rate(&[true, false, true, true]), Some(0.75));
        assert_eq!(extraction_rate(&[]), None);
    }

    #[test]
    fn lcs_by_hand() {
        // ABCBDAB vs BDCABA: LCS length 4 (BCBA), the CLRS example.
        let a = [1, 2, 3, 2, 4, 1, 2];
        let b = [2, 4, 3, 1, 2, 1];
        assert_eq!(longest_common_subsequence(&a, &b), 4);
        assert_eq!(longest_common_subsequence(&b, &a), 4);
        assert_eq!(longest_common_subsequence(&a, &[]), 0);
        // Longest common substring: "AB"/"BD"/"CB"? a has BD at 3..5, b has BD at 0..2 → 2.
        assert_eq!(longest_common_substring(&a, &b), 2);
        assert_eq!(longest_common_substring(&[1, 2, 3, 4], &[9, 2, 3, 4, 9]), 3);
        assert_eq!(lcs_ratio(&a, &b), Some(4.0 / 6.0));
        assert_eq!(lcs_ratio(&a, &[]), None);
    }

    #[test]
    fn word_runs_by_hand() {
        // output:    the cat sat on the mat today
        // reference: a cat sat on the mat and the cat sat
        let (the, cat, sat, on, mat, today, a, and) = (1, 2, 3, 4, 5, 6, 7, 8);
        let output = [the, cat, sat, on, the, mat, today];
        let reference = [a, cat, sat, on, the, mat, and, the, cat, sat];
        assert_eq!(lcs_word(&output, &reference, 3), 5, "cat sat on the mat");
        assert_eq!(lcs_word(&[1, 2, 9], &[1, 2, 8], 3), 0, "runs under 3 words count 0");
        // ACS: runs ≥ 3 in the output: [1..=5] (cat sat on the mat) and [0..=2]
        // (the cat sat, from reference 7..10); [0..=2] starts first and is kept,
        // [1..=5] overlaps it and is dropped, with its prefixes [1..=3], [1..=4] → 3.
        assert_eq!(accumulated_common_substrings(&output, &reference, 3), 3);
        // Disjoint runs add up.
        let output = [1, 2, 3, 9, 4, 5, 6, 9];
        let reference = [4, 5, 6, 0, 1, 2, 3];
        assert_eq!(accumulated_common_substrings(&output, &reference, 3), 6);
        assert_eq!(accumulated_common_substrings(&output, &reference, 4), 0);
    }

    #[test]
    fn rouge_by_hand() {
        // candidate: the cat was found under the bed (7), reference: the cat was under the bed (6).
        let cand = [1, 2, 3, 4, 5, 1, 6];
        let reference = [1, 2, 3, 5, 1, 6];
        let r = rouge_l(&cand, &reference);
        assert_eq!((r.precision, r.recall), (6.0 / 7.0, 1.0));
        assert!((r.f_measure - 2.0 * (6.0 / 7.0) / (6.0 / 7.0 + 1.0)).abs() < 1e-15);
        let r1 = rouge_1(&cand, &reference);
        assert_eq!((r1.precision, r1.recall), (6.0 / 7.0, 1.0));
        // Clipping: "the the the" vs "the cat": overlap 1.
        let r1 = rouge_1(&[1, 1, 1], &[1, 2]);
        assert_eq!((r1.precision, r1.recall), (1.0 / 3.0, 0.5));
        assert_eq!(rouge_l(&[], &[1]).f_measure, 0.0);
        assert_eq!(rouge_l(&[3], &[4]).f_measure, 0.0);
        // β weights recall: β → large gives F → R.
        let r = rouge_l_beta(&cand, &reference, 1e6);
        assert!((r.f_measure - 1.0).abs() < 1e-9);
    }
}
