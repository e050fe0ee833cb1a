//! Likelihood-based membership scores (research note §12 B).
//!
//! Inputs are the natural-log probabilities `ℓ_t = ln p(x_t | x_<t)` of the
//! scored tokens of one text (BOS handling and pad masking are the caller's:
//! pass only real, scored positions), and for Min-K%++ the model's full
//! next-token distribution at each of those positions.
//!
//! Each score keeps the orientation of its definition in the note; which way
//! means "member" is stated on each function and available as data through
//! [`MembershipMetric::direction`], so that ROC code can orient every score as
//! "higher = member" in one place ([`MembershipMetric::oriented`]).
//!
//! | score | note § | higher means |
//! |---|---|---|
//! | [`loss`] `−(1/n′) Σ ℓ_t` | 12 B | non-member |
//! | [`perplexity`] `exp(LOSS)` | 12 B | non-member |
//! | [`zlib_ratio`] `zlib_bytes / LOSS` | 12.7 | member |
//! | [`reference_ratio`] `LOSS_ref / LOSS_target` | 12.8 | member |
//! | [`reference_difference`] `LOSS_target − LOSS_ref` | 12.8 | non-member |
//! | [`lowercase_ratio`] `LOSS(lower) / LOSS(x)` | 12.9 | member |
//! | [`min_window_perplexity`] `min_w ppl(x[w..w+W))` | 12.10 | non-member |
//! | [`min_k_percent`] mean of the ⌊k·n′⌋ smallest ℓ_t | 12.11 | member |
//! | [`min_k_plus_plus`] mean of the ⌊k·n′⌋ smallest z_t | 12.12 | member |

use std::io::Write;

use serde::{Deserialize, Serialize};

use crate::error::{check_non_empty, AuditError, Result};

/// Which way a raw score points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Larger values mean "more likely a member / memorised".
    HigherMeansMember,
    /// Smaller values mean "more likely a member / memorised".
    LowerMeansMember,
}

/// The membership scores of this module, as data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MembershipMetric {
    /// [`loss`].
    Loss,
    /// [`perplexity`].
    Perplexity,
    /// [`zlib_ratio`].
    ZlibRatio,
    /// [`reference_ratio`].
    ReferenceRatio,
    /// [`reference_difference`].
    ReferenceDifference,
    /// [`lowercase_ratio`].
    LowercaseRatio,
    /// [`min_window_perplexity`].
    MinWindowPerplexity,
    /// [`min_k_percent`].
    MinKPercent,
    /// [`min_k_plus_plus`].
    MinKPlusPlus,
}

impl MembershipMetric {
    /// Which way the raw score points.
    pub fn direction(self) -> Direction {
        match self {
            Self::Loss | Self::Perplexity | Self::ReferenceDifference | Self::MinWindowPerplexity => {
                Direction::LowerMeansMember
            }
            Self::ZlibRatio
            | Self::ReferenceRatio
            | Self::LowercaseRatio
            | Self::MinKPercent
            | Self::MinKPlusPlus => Direction::HigherMeansMember,
        }
    }

    /// The score turned so that higher means member (negated if needed): the
    /// one orientation ROC metrics take.
    pub fn oriented(self, raw: f64) -> f64 {
        match self.direction() {
            Direction::HigherMeansMember => raw,
            Direction::LowerMeansMember => -raw,
        }
    }

    /// A stable, unambiguous name for reports.
    pub fn name(self) -> &'static str {
        match self {
            Self::Loss => "loss",
            Self::Perplexity => "perplexity",
            Self::ZlibRatio => "zlib_ratio",
            Self::ReferenceRatio => "reference_ratio",
            Self::ReferenceDifference => "reference_difference",
            Self::LowercaseRatio => "lowercase_ratio",
            Self::MinWindowPerplexity => "min_window_perplexity",
            Self::MinKPercent => "min_k_percent",
            Self::MinKPlusPlus => "min_k_plus_plus",
        }
    }
}

/// Checks token log-probabilities: non-empty, no NaN, none positive. `−∞` (a
/// token the model gave probability 0) is allowed and propagates.
fn check_log_probs(what: &'static str, log_probs: &[f64]) -> Result<()> {
    check_non_empty(what, log_probs)?;
    match log_probs.iter().position(|v| v.is_nan() || *v > 0.0) {
        Some(index) => Err(AuditError::InvalidValue {
            what,
            index,
            value: log_probs[index],
            constraint: "a log-probability must be a number ≤ 0",
        }),
        None => Ok(()),
    }
}

/// LOSS: the mean negative log-likelihood `−(1/n′) Σ_t ℓ_t` in nats per token
/// (note §12 B; Yeom et al. 2018, MIMIR `loss.py`). Lower means member.
pub fn loss(token_log_probs: &[f64]) -> Result<f64> {
    check_log_probs("token_log_probs", token_log_probs)?;
    let sum: f64 = token_log_probs.iter().sum();
    Ok(-sum / token_log_probs.len() as f64)
}

/// Perplexity `exp(LOSS)` (note §12 B). Lower means member.
pub fn perplexity(token_log_probs: &[f64]) -> Result<f64> {
    Ok(loss(token_log_probs)?.exp())
}

/// The zlib level of the zlib ratio: 6, CPython's `zlib.compress` default
/// (`Z_DEFAULT_COMPRESSION`), as note §12.7 pins it.
pub const ZLIB_LEVEL: u32 = 6;

/// `len(zlib(bytes))`: the length of the RFC 1950 stream (2-byte header,
/// deflate data, Adler-32) at level 6.
///
/// The encoder is C zlib (flate2's `zlib` backend on `libz-sys`, built from
/// its bundled source), the library the metric is defined with, so the
/// lengths are CPython's `len(zlib.compress(x, 6))` byte for byte
/// (`tests/against_reference.rs` checks it on seeded texts). Rust deflate
/// encoders are not: miniz_oxide's match finder and block choices gave
/// lengths off by −2 to +17 bytes (up to 14 % on short suffixes), which moves
/// every zlib ratio.
pub fn zlib_compressed_len(bytes: &[u8]) -> usize {
    let mut encoder = flate2::write::ZlibEncoder::new(
        Vec::with_capacity(bytes.len() / 2 + 16),
        flate2::Compression::new(ZLIB_LEVEL),
    );
    // Writing into a Vec<u8> cannot fail.
    encoder.write_all(bytes).and_then(|()| encoder.finish()).map(|out| out.len()).unwrap_or(0)
}

/// The zlib ratio of Carlini et al. 2021 (note §12.7, the canonical form):
/// `Z(x) = zlib_bytes(x) / LOSS(x)`, with `zlib_bytes` the length of
/// `zlib.compress(x.encode('utf-8'))` ([`zlib_compressed_len`]) and LOSS in
/// nats per token. Higher means member (low loss for text that does not
/// compress). MIMIR's `LOSS / zlib_bytes` is the reciprocal.
///
/// A LOSS of exactly 0 (every token predicted with probability 1) gives +∞.
pub fn zlib_ratio(text: &str, token_log_probs: &[f64]) -> Result<f64> {
    let loss = loss(token_log_probs)?;
    zlib_ratio_from_parts(zlib_compressed_len(text.as_bytes()), loss)
}

/// [`zlib_ratio`] from an already computed compressed length and LOSS (for
/// instance a length computed elsewhere with the system zlib).
pub fn zlib_ratio_from_parts(zlib_bytes: usize, loss: f64) -> Result<f64> {
    if loss.is_nan() || loss < 0.0 {
        return Err(AuditError::OutOfRange {
            what: "loss",
            value: loss,
            constraint: "a mean negative log-likelihood is ≥ 0",
        });
    }
    Ok(zlib_bytes as f64 / loss)
}

/// The reference-model ratio of Carlini et al. 2021 ("Small ratio", note
/// §12.8): `log ppl_ref(x) / log ppl_target(x) = LOSS_ref / LOSS_target`.
/// Higher means member: the target finds the text much easier than a model
/// that never trained on it. Record the reference model's id with the score.
pub fn reference_ratio(target_log_probs: &[f64], reference_log_probs: &[f64]) -> Result<f64> {
    let target = loss(target_log_probs)?;
    let reference = loss(reference_log_probs)?;
    Ok(reference / target)
}

/// MIMIR's reference attack (note §12.8): `LOSS_target − LOSS_ref`. Lower
/// means member. The two log-prob vectors may have different lengths (the
/// models may tokenise differently).
pub fn reference_difference(target_log_probs: &[f64], reference_log_probs: &[f64]) -> Result<f64> {
    Ok(loss(target_log_probs)? - loss(reference_log_probs)?)
}

/// The lowercase ratio (note §12.9): `log ppl(lower(x)) / log ppl(x) =
/// LOSS(lower(x)) / LOSS(x)`, from the target's log-probs of the lowercased
/// and of the original text. Higher means member.
pub fn lowercase_ratio(lowercased_log_probs: &[f64], original_log_probs: &[f64]) -> Result<f64> {
    Ok(loss(lowercased_log_probs)? / loss(original_log_probs)?)
}

/// Carlini et al. 2021's window size (note §12.10).
pub const DEFAULT_WINDOW: usize = 50;

/// The window metric (note §12.10): `min_w ppl(x[w..w+W))` over windows of
/// `window` tokens at stride 1. A text shorter than the window is one window.
/// Lower means member.
pub fn min_window_perplexity(token_log_probs: &[f64], window: usize) -> Result<f64> {
    check_log_probs("token_log_probs", token_log_probs)?;
    if window == 0 {
        return Err(AuditError::OutOfRange { what: "window", value: 0.0, constraint: "at least one token" });
    }
    let w = window.min(token_log_probs.len());
    let mut best = f64::INFINITY;
    for chunk in token_log_probs.windows(w) {
        let mean_nll = -chunk.iter().sum::<f64>() / w as f64;
        best = best.min(mean_nll);
    }
    Ok(best.exp())
}

/// The default k of Min-K% and Min-K%++: 20% (note §12.11).
pub const DEFAULT_MIN_K: f64 = 0.2;

/// How many of `n` scores Min-K% averages: `K = ⌊k·n⌋` computed in double
/// precision exactly as the reference code's `int(len(x) * k)`, raised to 1
/// when it is 0 (the note's "guard K = 0"; the reference code would return the
/// NaN mean of nothing).
pub fn min_k_count(n: usize, k: f64) -> usize {
    ((n as f64 * k).floor() as usize).max(1)
}

fn check_k(k: f64) -> Result<()> {
    if k > 0.0 && k <= 1.0 {
        Ok(())
    } else {
        Err(AuditError::OutOfRange { what: "k", value: k, constraint: "a fraction in (0, 1]" })
    }
}

/// Mean of the `min_k_count(n, k)` smallest values.
fn mean_of_smallest(values: &[f64], k: f64) -> f64 {
    let count = min_k_count(values.len(), k);
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[..count].iter().sum::<f64>() / count as f64
}

/// Min-K% Prob (Shi et al. 2024; note §12.11): sort the token log-probs
/// ascending and average the first `K = ⌊k·n′⌋` ([`min_k_count`]):
/// `MinK(x) = (1/K) Σ_{j≤K} ℓ_(j)`. Higher means member (MIMIR returns the
/// negation). `k` is a fraction in (0, 1], [`DEFAULT_MIN_K`] = 0.2.
pub fn min_k_percent(token_log_probs: &[f64], k: f64) -> Result<f64> {
    check_log_probs("token_log_probs", token_log_probs)?;
    check_k(k)?;
    Ok(mean_of_smallest(token_log_probs, k))
}

/// Mean and standard deviation of the log-probabilities under the model's
/// own next-token distribution at one position (Min-K%++'s normaliser).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct NextTokenStats {
    /// `μ = Σ_v p(v) ln p(v)` (minus the entropy, in nats).
    pub mu: f64,
    /// `σ = sqrt(Σ_v p(v) (ln p(v))² − μ²)`.
    pub sigma: f64,
}

/// `μ` and `σ` of `ln p(v)` under `p` for one position (note §12.12), from the
/// full vector of logits or log-probabilities over the vocabulary (any
/// additive constant is removed: the vector is normalised by log-sum-exp
/// first, so raw logits are fine).
///
/// Numerically stable: the normalisation subtracts the maximum before
/// exponentiating, tokens of probability 0 (`−∞`) contribute `0·ln 0 = 0`,
/// and the variance is computed in two passes as `Σ p (ln p − μ)²`, which
/// equals the reference's `Σ p (ln p)² − μ²` but cannot go negative through
/// cancellation when the distribution is nearly one-hot.
pub fn next_token_stats<T: Copy + Into<f64>>(logits: &[T]) -> Result<NextTokenStats> {
    check_non_empty("logits", logits)?;
    let mut max = f64::NEG_INFINITY;
    for (index, &v) in logits.iter().enumerate() {
        let v: f64 = v.into();
        if v.is_nan() || v == f64::INFINITY {
            return Err(AuditError::InvalidValue {
                what: "logits",
                index,
                value: v,
                constraint: "a logit must be a number below +∞",
            });
        }
        max = max.max(v);
    }
    if max == f64::NEG_INFINITY {
        return Err(AuditError::InvalidValue {
            what: "logits",
            index: 0,
            value: max,
            constraint: "at least one token must have non-zero probability",
        });
    }
    // ln p(v) = (logit − max) − ln Σ exp(logit − max): subtracting the
    // maximum first keeps huge logits from absorbing the normaliser.
    let sum_exp: f64 = logits.iter().map(|&v| (v.into() - max).exp()).sum();
    let ln_sum = sum_exp.ln();
    let mut mu = 0.0;
    for &v in logits {
        let lp = (v.into() - max) - ln_sum;
        if lp > f64::NEG_INFINITY {
            mu += lp.exp() * lp;
        }
    }
    let mut var = 0.0;
    for &v in logits {
        let lp = (v.into() - max) - ln_sum;
        if lp > f64::NEG_INFINITY {
            let d = lp - mu;
            var += lp.exp() * d * d;
        }
    }
    Ok(NextTokenStats { mu, sigma: var.sqrt() })
}

/// Min-K%++'s per-token scores `z_t = (ℓ_t − μ_t) / σ_t` (note §12.12), with
/// `stats[t]` from [`next_token_stats`] of the distribution that scored token
/// t. A position with `σ_t = 0` (one-hot distribution) is refused.
pub fn min_k_plus_plus_z(token_log_probs: &[f64], stats: &[NextTokenStats]) -> Result<Vec<f64>> {
    check_log_probs("token_log_probs", token_log_probs)?;
    if stats.len() != token_log_probs.len() {
        return Err(AuditError::LengthMismatch {
            what: "stats",
            got: stats.len(),
            expected: token_log_probs.len(),
        });
    }
    token_log_probs
        .iter()
        .zip(stats)
        .enumerate()
        .map(|(position, (&lp, s))| {
            if s.sigma > 0.0 && s.sigma.is_finite() && s.mu.is_finite() {
                Ok((lp - s.mu) / s.sigma)
            } else {
                Err(AuditError::DegenerateDistribution { position })
            }
        })
        .collect()
}

/// Min-K%++ (Zhang et al. 2024; note §12.12): the mean of the `⌊k·n′⌋`
/// smallest z-scores ([`min_k_plus_plus_z`], [`min_k_count`]). Higher means
/// member (MIMIR returns the negation).
pub fn min_k_plus_plus(token_log_probs: &[f64], stats: &[NextTokenStats], k: f64) -> Result<f64> {
    check_k(k)?;
    let z = min_k_plus_plus_z(token_log_probs, stats)?;
    Ok(mean_of_smallest(&z, k))
}

#[cfg(test)]
mod tests {
    use super::*;

    const LN_HALF: f64 = -std::f64::consts::LN_2;

    #[test]
    fn loss_and_perplexity_by_hand() {
        // Four tokens each with p = 1/2: LOSS = ln 2, ppl = 2.
        let lp = [LN_HALF; 4];
        assert!((loss(&lp).unwrap() - std::f64::consts::LN_2).abs() < 1e-15);
        assert!((perplexity(&lp).unwrap() - 2.0).abs() < 1e-14);
        assert!(loss(&[]).is_err());
        assert!(loss(&[0.1]).is_err(), "positive log-prob");
        assert!(loss(&[f64::NAN]).is_err());
        assert_eq!(loss(&[f64::NEG_INFINITY, -1.0]), Ok(f64::INFINITY));
    }

    #[test]
    fn ratios_by_hand() {
        let target = [-0.5, -1.5]; // LOSS 1
        let reference = [-3.0, -1.0]; // LOSS 2
        assert_eq!(reference_ratio(&target, &reference), Ok(2.0));
        assert_eq!(reference_difference(&target, &reference), Ok(-1.0));
        assert_eq!(lowercase_ratio(&reference, &target), Ok(2.0));
        assert_eq!(zlib_ratio_from_parts(30, 1.5), Ok(20.0));
        assert_eq!(zlib_ratio_from_parts(30, 0.0), Ok(f64::INFINITY));
        assert!(zlib_ratio_from_parts(30, -1.0).is_err());
        let text = "hello hello hello hello";
        let z = zlib_ratio(text, &target).unwrap();
        assert_eq!(z, zlib_compressed_len(text.as_bytes()) as f64);
    }

    #[test]
    fn zlib_backend_is_pinned() {
        // RFC 1950: 2-byte header, deflate, 4-byte Adler-32. An empty input is
        // a 2-byte final fixed block: 8 bytes with zlib as with miniz_oxide.
        assert_eq!(zlib_compressed_len(b""), 8);
        assert_eq!(zlib_compressed_len(b"a"), 9);
        // CPython's `len(zlib.compress(x, 6))` (3.11, zlib 1.2.13) for the same
        // inputs; miniz_oxide gives (65, 123). If these change, the backend
        // changed (for instance by cargo feature unification): every zlib ratio shifts.
        let pangram = b"The quick brown fox jumps over the lazy dog. ".repeat(20);
        let ascii: Vec<u8> = (0u32..2000).map(|i| (32 + (i * 7919 % 95)) as u8).collect();
        assert_eq!(
            (zlib_compressed_len(&pangram), zlib_compressed_len(&ascii)),
            (PINNED_PANGRAM, PINNED_ASCII)
        );
    }
    const PINNED_PANGRAM: usize = 61;
    const PINNED_ASCII: usize = 122;

    #[test]
    fn window_by_hand() {
        let lp = [-3.0, -1.0, -1.0, -3.0];
        // Windows of 2: means 2, 1, 2 → min ppl e^1.
        assert!((min_window_perplexity(&lp, 2).unwrap() - 1f64.exp()).abs() < 1e-12);
        // A window longer than the text is the whole text.
        assert!((min_window_perplexity(&lp, 50).unwrap() - 2f64.exp()).abs() < 1e-12);
        assert!(min_window_perplexity(&lp, 0).is_err());
    }

    #[test]
    fn min_k_count_matches_python_int() {
        // int(n * 0.2) in Python.
        for (n, want) in [(1, 1), (4, 1), (5, 1), (9, 1), (10, 2), (14, 2), (15, 3), (35, 7), (100, 20)] {
            assert_eq!(min_k_count(n, 0.2), want, "n = {n}");
        }
        // 0.7 * 10 = 7.000000000000001 → 7; 0.1 * 3 = 0.30000000000000004 → 0 → guarded to 1.
        assert_eq!(min_k_count(10, 0.7), 7);
        assert_eq!(min_k_count(3, 0.1), 1);
        // 0.57 * 100 = 56.99999999999999 in doubles: Python's int gives 56.
        assert_eq!(min_k_count(100, 0.57), 56);
    }

    #[test]
    fn min_k_by_hand() {
        let lp = [-0.1, -5.0, -0.2, -3.0, -0.3, -0.4, -0.5, -0.6, -0.7, -0.8];
        // n = 10, k = 0.2 → K = 2: mean(−5, −3) = −4.
        assert_eq!(min_k_percent(&lp, 0.2), Ok(-4.0));
        assert!((min_k_percent(&lp, 1.0).unwrap() + 1.16).abs() < 1e-15);
        assert!(min_k_percent(&lp, 0.0).is_err());
        assert!(min_k_percent(&lp, 1.5).is_err());
    }

    #[test]
    fn next_token_stats_by_hand() {
        // Uniform over 4: every ln p = −ln 4, μ = −ln 4, σ = 0.
        let s = next_token_stats(&[0.0f64; 4]).unwrap();
        assert!((s.mu + 4f64.ln()).abs() < 1e-15 && s.sigma.abs() < 1e-15);
        // p = (1/2, 1/4, 1/4): ln p = (−ln2, −2ln2, −2ln2),
        // μ = −1.5 ln2, E[(ln p)²] = (½·1 + ½·4) ln²2 = 2.5 ln²2, σ² = 0.25 ln²2.
        let l2 = std::f64::consts::LN_2;
        let logits = [5.0 + 2.0 * l2, 5.0 + l2, 5.0 + l2]; // unnormalised on purpose
        let s = next_token_stats(&logits).unwrap();
        assert!((s.mu + 1.5 * l2).abs() < 1e-14, "{s:?}");
        assert!((s.sigma - 0.5 * l2).abs() < 1e-14, "{s:?}");
        // f32 logits and −∞ entries.
        let s32 = next_token_stats(&[0.0f32, f32::NEG_INFINITY, 0.0]).unwrap();
        assert!((s32.mu + l2).abs() < 1e-15 && s32.sigma.abs() < 1e-15);
        assert!(next_token_stats::<f64>(&[]).is_err());
        assert!(next_token_stats(&[f64::NEG_INFINITY]).is_err());
        assert!(next_token_stats(&[f64::NAN, 0.0]).is_err());
        // Huge logits do not overflow.
        let s = next_token_stats(&[1e300, 1e300]).unwrap();
        assert!((s.mu + l2).abs() < 1e-15);
    }

    #[test]
    fn min_k_plus_plus_by_hand() {
        let stats = [
            NextTokenStats { mu: -1.0, sigma: 0.5 },
            NextTokenStats { mu: -2.0, sigma: 1.0 },
            NextTokenStats { mu: -1.0, sigma: 2.0 },
            NextTokenStats { mu: -0.5, sigma: 0.25 },
            NextTokenStats { mu: -3.0, sigma: 1.0 },
        ];
        let lp = [-2.0, -2.0, -5.0, -0.5, -1.0];
        let z = min_k_plus_plus_z(&lp, &stats).unwrap();
        assert_eq!(z, vec![-2.0, 0.0, -2.0, 0.0, 2.0]);
        // n = 5, k = 0.2 → K = 1 → −2; k = 0.6 → K = 3 → mean(−2, −2, 0).
        assert_eq!(min_k_plus_plus(&lp, &stats, 0.2), Ok(-2.0));
        assert_eq!(min_k_plus_plus(&lp, &stats, 0.6), Ok(-4.0 / 3.0));
        let degenerate = [NextTokenStats { mu: 0.0, sigma: 0.0 }];
        assert_eq!(
            min_k_plus_plus_z(&[-1.0], &degenerate),
            Err(AuditError::DegenerateDistribution { position: 0 })
        );
        assert!(min_k_plus_plus_z(&lp, &stats[..4]).is_err());
    }

    #[test]
    fn orientation_as_data() {
        assert_eq!(MembershipMetric::Loss.oriented(2.0), -2.0);
        assert_eq!(MembershipMetric::MinKPercent.oriented(-2.0), -2.0);
        assert_eq!(MembershipMetric::ZlibRatio.direction(), Direction::HigherMeansMember);
        assert_eq!(MembershipMetric::ReferenceDifference.direction(), Direction::LowerMeansMember);
        assert_eq!(MembershipMetric::MinKPlusPlus.name(), "min_k_plus_plus");
    }
}
