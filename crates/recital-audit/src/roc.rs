//! Membership-inference evaluation (research note §12 C): ROC curve, ROC-AUC,
//! TPR at a fixed low FPR, FPR at a fixed TPR, and bootstrap intervals.
//!
//! Scores come as two lists, members (the positive class) and non-members,
//! each score oriented so that **higher means member** (turn raw scores with
//! [`crate::membership::MembershipMetric::oriented`]). A point of the ROC
//! curve at threshold `t` classifies "member" every score `≥ t`.
//!
//! Definitions (note §12.13–14):
//!
//! - **ROC-AUC** is the trapezoid area under the full ROC curve, which equals
//!   the Mann–Whitney statistic `U / (n₊ n₋)` with tied member/non-member
//!   pairs counted ½ (sklearn's `roc_auc_score`). [`roc_auc`] computes it from
//!   mid-ranks, [`RocCurve::auc`] by trapezoids; tests check they agree.
//! - **TPR@FPR=α** is the largest TPR over ROC points with FPR ≤ α: no
//!   interpolation between points (mink-plus-plus' `tpr[np.where(fpr <=
//!   α)[0][-1]]`). It is **refused** with fewer than ⌈1/α⌉ negatives: below
//!   that the first false positive already exceeds α, so the number would say
//!   nothing about the low-FPR regime it is named after.
//! - **FPR@TPR=β** (FPR@95%TPR in Min-K%++) is the smallest FPR over points
//!   with TPR ≥ β.
//! - **Bootstrap**: 1,000 resamples by default, paired (the pooled
//!   (score, label) pairs resampled together, as MIMIR's `scipy.stats.bootstrap(...,
//!   paired=True)`) or stratified; mean, standard deviation (ddof = 1, as
//!   scipy's `standard_error`) and a percentile interval, from a seeded
//!   generator ([`crate::rng`]) so that a report can be recomputed.

use serde::{Deserialize, Serialize};

use crate::error::{check_not_nan, AuditError, Result};
use crate::rng::Xoshiro256;

/// The FPRs the note asks every report to give TPR at (§12.14).
pub const STANDARD_FPRS: [f64; 3] = [0.001, 0.01, 0.05];

/// One point of a ROC curve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RocPoint {
    /// Scores `≥ threshold` are classified members (`+∞` for the origin).
    pub threshold: f64,
    /// False positives / negatives.
    pub fpr: f64,
    /// True positives / positives.
    pub tpr: f64,
    /// Members at or above the threshold.
    pub true_positives: usize,
    /// Non-members at or above the threshold.
    pub false_positives: usize,
}

/// A ROC curve: one point per distinct score, from (0, 0) to (1, 1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RocCurve {
    /// Points in order of decreasing threshold.
    pub points: Vec<RocPoint>,
    /// Number of members.
    pub positives: usize,
    /// Number of non-members.
    pub negatives: usize,
}

fn check_scores(members: &[f64], non_members: &[f64]) -> Result<()> {
    check_not_nan("members", members)?;
    check_not_nan("non_members", non_members)?;
    if members.is_empty() {
        return Err(AuditError::NoPositives);
    }
    if non_members.is_empty() {
        return Err(AuditError::NoNegatives);
    }
    Ok(())
}

/// The ROC curve of member and non-member scores (higher = member). Scores
/// may be ±∞ but not NaN (MIMIR drops NaNs silently; we refuse them so the
/// caller decides and reports).
pub fn roc_curve(members: &[f64], non_members: &[f64]) -> Result<RocCurve> {
    check_scores(members, non_members)?;
    let mut pooled: Vec<(f64, bool)> =
        members.iter().map(|&s| (s, true)).chain(non_members.iter().map(|&s| (s, false))).collect();
    pooled.sort_by(|a, b| b.0.total_cmp(&a.0));
    let (p, n) = (members.len(), non_members.len());
    let mut points = vec![RocPoint {
        threshold: f64::INFINITY,
        fpr: 0.0,
        tpr: 0.0,
        true_positives: 0,
        false_positives: 0,
    }];
    let (mut tp, mut fp) = (0usize, 0usize);
    let mut i = 0;
    while i < pooled.len() {
        let threshold = pooled[i].0;
        while i < pooled.len() && pooled[i].0 == threshold {
            if pooled[i].1 {
                tp += 1;
            } else {
                fp += 1;
            }
            i += 1;
        }
        points.push(RocPoint {
            threshold,
            fpr: fp as f64 / n as f64,
            tpr: tp as f64 / p as f64,
            true_positives: tp,
            false_positives: fp,
        });
    }
    Ok(RocCurve { points, positives: p, negatives: n })
}

/// ⌈1/α⌉, the fewest negatives for which TPR@FPR=α is reported (an α whose
/// reciprocal is an integer up to rounding, such as 0.01, needs exactly that
/// integer).
pub fn required_negatives(alpha: f64) -> usize {
    let r = 1.0 / alpha;
    let nearest = r.round();
    if (r - nearest).abs() <= 1e-9 * nearest {
        nearest as usize
    } else {
        r.ceil() as usize
    }
}

fn check_fraction(what: &'static str, value: f64) -> Result<()> {
    if value > 0.0 && value <= 1.0 {
        Ok(())
    } else {
        Err(AuditError::OutOfRange { what, value, constraint: "a fraction in (0, 1]" })
    }
}

impl RocCurve {
    /// Trapezoid area under the curve (sklearn `auc(fpr, tpr)`); equals
    /// [`roc_auc`].
    pub fn auc(&self) -> f64 {
        self.points.windows(2).map(|w| (w[1].fpr - w[0].fpr) * (w[1].tpr + w[0].tpr) * 0.5).sum()
    }

    /// The largest TPR over points with FPR ≤ `alpha` (note §12.14), refused
    /// with [`AuditError::TooFewNegatives`] when there are fewer than
    /// [`required_negatives`]`(alpha)` negatives. FPR is compared as the
    /// double `fp / n₋ ≤ α`, as numpy does.
    pub fn tpr_at_fpr(&self, alpha: f64) -> Result<f64> {
        check_fraction("alpha", alpha)?;
        let required = required_negatives(alpha);
        if self.negatives < required {
            return Err(AuditError::TooFewNegatives { alpha, negatives: self.negatives, required });
        }
        Ok(self.points.iter().filter(|p| p.fpr <= alpha).map(|p| p.tpr).fold(0.0, f64::max))
    }

    /// The smallest FPR over points with TPR ≥ `target_tpr` (FPR@95%TPR with
    /// `0.95`). Always defined: the last point has TPR 1.
    pub fn fpr_at_tpr(&self, target_tpr: f64) -> Result<f64> {
        check_fraction("target_tpr", target_tpr)?;
        Ok(self.points.iter().filter(|p| p.tpr >= target_tpr).map(|p| p.fpr).fold(1.0, f64::min))
    }
}

/// ROC-AUC as the Mann–Whitney statistic: with mid-ranks of the pooled
/// scores, `AUC = (R₊ − n₊(n₊+1)/2) / (n₊ n₋)`, i.e. the probability that a
/// random member outscores a random non-member, ties counting ½. 0.5 is
/// chance; below 0.5 the score is oriented the wrong way.
pub fn roc_auc(members: &[f64], non_members: &[f64]) -> Result<f64> {
    check_scores(members, non_members)?;
    let mut pooled: Vec<(f64, bool)> =
        members.iter().map(|&s| (s, true)).chain(non_members.iter().map(|&s| (s, false))).collect();
    pooled.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut member_rank_sum = 0.0;
    let mut i = 0;
    while i < pooled.len() {
        let mut j = i;
        while j < pooled.len() && pooled[j].0 == pooled[i].0 {
            j += 1;
        }
        // Ranks i+1 ..= j share their mean.
        let mid_rank = (i + 1 + j) as f64 / 2.0;
        let tied_members = pooled[i..j].iter().filter(|x| x.1).count();
        member_rank_sum += mid_rank * tied_members as f64;
        i = j;
    }
    let (p, n) = (members.len() as f64, non_members.len() as f64);
    Ok((member_rank_sum - p * (p + 1.0) / 2.0) / (p * n))
}

/// TPR at FPR = `alpha` of the scores ([`RocCurve::tpr_at_fpr`]).
pub fn tpr_at_fpr(members: &[f64], non_members: &[f64], alpha: f64) -> Result<f64> {
    roc_curve(members, non_members)?.tpr_at_fpr(alpha)
}

/// FPR at TPR = `target_tpr` of the scores ([`RocCurve::fpr_at_tpr`]).
pub fn fpr_at_tpr(members: &[f64], non_members: &[f64], target_tpr: f64) -> Result<f64> {
    roc_curve(members, non_members)?.fpr_at_tpr(target_tpr)
}

/// How bootstrap resamples are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Resampling {
    /// Draw `n₊ + n₋` (score, label) pairs from the pooled set with
    /// replacement: class sizes vary between resamples (MIMIR; note §12.13).
    /// A resample with one class only is discarded and counted.
    Paired,
    /// Draw `n₊` members from the members and `n₋` non-members from the
    /// non-members: class sizes are fixed.
    Stratified,
}

/// Bootstrap settings. The default is the note's: 1,000 paired resamples,
/// 95% percentile interval, seed 0.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BootstrapConfig {
    /// Number of resamples.
    pub resamples: usize,
    /// Seed of the [`Xoshiro256`] generator; report it with the interval.
    pub seed: u64,
    /// Coverage of the percentile interval, in (0, 1).
    pub confidence: f64,
    /// How resamples are drawn.
    pub resampling: Resampling,
}

impl Default for BootstrapConfig {
    fn default() -> Self {
        Self { resamples: 1000, seed: 0, confidence: 0.95, resampling: Resampling::Paired }
    }
}

/// A statistic with its bootstrap distribution summarised.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BootstrapEstimate {
    /// The statistic on the original sample.
    pub estimate: f64,
    /// Mean over the kept resamples.
    pub mean: f64,
    /// Standard deviation over the kept resamples (ddof = 1).
    pub std_dev: f64,
    /// Lower end of the percentile interval.
    pub ci_low: f64,
    /// Upper end of the percentile interval.
    pub ci_high: f64,
    /// Coverage of the interval.
    pub confidence: f64,
    /// Resamples the summary is computed from.
    pub resamples: usize,
    /// Resamples discarded because the statistic was undefined on them.
    pub discarded: usize,
    /// Seed of the generator.
    pub seed: u64,
}

/// The `q`-quantile (`0 ≤ q ≤ 1`) of sorted values with linear interpolation
/// between order statistics: numpy's default `percentile(..., method="linear")`,
/// position `q·(n−1)`. `None` for no values.
pub fn quantile_sorted(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() || !(0.0..=1.0).contains(&q) {
        return None;
    }
    let pos = q * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    let frac = pos - lo as f64;
    Some(sorted[lo] + frac * (sorted[hi] - sorted[lo]))
}

/// The central percentile interval of `values` with coverage `confidence`:
/// the `(1−c)/2` and `(1+c)/2` quantiles ([`quantile_sorted`]).
pub fn percentile_interval(values: &[f64], confidence: f64) -> Result<(f64, f64)> {
    if values.is_empty() {
        return Err(AuditError::Empty { what: "values" });
    }
    check_not_nan("values", values)?;
    if !(confidence > 0.0 && confidence < 1.0) {
        return Err(AuditError::OutOfRange {
            what: "confidence",
            value: confidence,
            constraint: "a fraction in (0, 1)",
        });
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let lo = quantile_sorted(&sorted, (1.0 - confidence) / 2.0).unwrap_or(f64::NAN);
    let hi = quantile_sorted(&sorted, (1.0 + confidence) / 2.0).unwrap_or(f64::NAN);
    Ok((lo, hi))
}

/// Bootstraps any statistic of (members, non-members).
///
/// Resamples on which the statistic fails or is NaN (a paired resample with
/// no member, TPR@α with too few negatives) are discarded and counted in
/// [`BootstrapEstimate::discarded`]; if more than half are, the whole estimate
/// is refused ([`AuditError::BootstrapDegenerate`]).
pub fn bootstrap<F>(
    members: &[f64],
    non_members: &[f64],
    config: &BootstrapConfig,
    mut statistic: F,
) -> Result<BootstrapEstimate>
where
    F: FnMut(&[f64], &[f64]) -> Result<f64>,
{
    if config.resamples == 0 {
        return Err(AuditError::OutOfRange {
            what: "resamples",
            value: 0.0,
            constraint: "at least one resample",
        });
    }
    if !(config.confidence > 0.0 && config.confidence < 1.0) {
        return Err(AuditError::OutOfRange {
            what: "confidence",
            value: config.confidence,
            constraint: "a fraction in (0, 1)",
        });
    }
    let estimate = statistic(members, non_members)?;
    let mut rng = Xoshiro256::seed_from_u64(config.seed);
    let (p, n) = (members.len(), non_members.len());
    let mut m = Vec::with_capacity(p + n);
    let mut nm = Vec::with_capacity(p + n);
    let mut values = Vec::with_capacity(config.resamples);
    let mut discarded = 0;
    for _ in 0..config.resamples {
        m.clear();
        nm.clear();
        match config.resampling {
            Resampling::Paired => {
                for _ in 0..p + n {
                    let i = rng.index(p + n);
                    if i < p {
                        m.push(members[i]);
                    } else {
                        nm.push(non_members[i - p]);
                    }
                }
            }
            Resampling::Stratified => {
                m.extend((0..p).map(|_| members[rng.index(p)]));
                nm.extend((0..n).map(|_| non_members[rng.index(n)]));
            }
        }
        match statistic(&m, &nm) {
            Ok(v) if !v.is_nan() => values.push(v),
            _ => discarded += 1,
        }
    }
    if values.is_empty() || discarded * 2 > config.resamples {
        return Err(AuditError::BootstrapDegenerate { discarded, resamples: config.resamples });
    }
    let k = values.len() as f64;
    let mean = values.iter().sum::<f64>() / k;
    let std_dev = if values.len() > 1 {
        (values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (k - 1.0)).sqrt()
    } else {
        0.0
    };
    let (ci_low, ci_high) = percentile_interval(&values, config.confidence)?;
    Ok(BootstrapEstimate {
        estimate,
        mean,
        std_dev,
        ci_low,
        ci_high,
        confidence: config.confidence,
        resamples: values.len(),
        discarded,
        seed: config.seed,
    })
}

/// Bootstrap of [`roc_auc`].
pub fn bootstrap_auc(
    members: &[f64],
    non_members: &[f64],
    config: &BootstrapConfig,
) -> Result<BootstrapEstimate> {
    bootstrap(members, non_members, config, roc_auc)
}

/// Bootstrap of [`tpr_at_fpr`] at `alpha`. Use [`Resampling::Stratified`]
/// when the negatives are close to ⌈1/α⌉, or paired resamples that fall
/// below it are discarded.
pub fn bootstrap_tpr_at_fpr(
    members: &[f64],
    non_members: &[f64],
    alpha: f64,
    config: &BootstrapConfig,
) -> Result<BootstrapEstimate> {
    bootstrap(members, non_members, config, |m, n| tpr_at_fpr(m, n, alpha))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auc_by_hand() {
        // Pairs (member, non-member): (3,1) win, (3,2) win, (2,1) win, (2,2) tie → 3.5/4.
        let m = [3.0, 2.0];
        let n = [1.0, 2.0];
        assert_eq!(roc_auc(&m, &n), Ok(0.875));
        assert_eq!(roc_curve(&m, &n).unwrap().auc(), 0.875);
        assert_eq!(roc_auc(&[1.0], &[1.0]), Ok(0.5));
        assert_eq!(roc_auc(&[0.0], &[1.0]), Ok(0.0));
        assert_eq!(roc_auc(&[], &[1.0]), Err(AuditError::NoPositives));
        assert_eq!(roc_auc(&[1.0], &[]), Err(AuditError::NoNegatives));
        assert!(roc_auc(&[f64::NAN], &[1.0]).is_err());
        assert_eq!(roc_auc(&[f64::INFINITY], &[f64::NEG_INFINITY]), Ok(1.0));
    }

    #[test]
    fn curve_points_by_hand() {
        let curve = roc_curve(&[0.9, 0.5, 0.5], &[0.5, 0.1]).unwrap();
        let pts: Vec<(f64, f64)> = curve.points.iter().map(|p| (p.fpr, p.tpr)).collect();
        assert_eq!(pts, vec![(0.0, 0.0), (0.0, 1.0 / 3.0), (0.5, 1.0), (1.0, 1.0)]);
        assert_eq!(curve.points[2].threshold, 0.5);
    }

    #[test]
    fn tpr_at_fpr_by_hand() {
        // 100 negatives 0..99, members: 10 at 200 (above all), 10 at 97.5
        // (above all but the negatives 98 and 99).
        let n: Vec<f64> = (0..100).map(f64::from).collect();
        let mut m = vec![200.0; 10];
        m.extend(vec![97.5; 10]);
        // FPR 0 → TPR 0.5; FPR 0.01 (threshold 99) still 0.5; FPR 0.02 → 1.0.
        assert_eq!(tpr_at_fpr(&m, &n, 0.01), Ok(0.5));
        assert_eq!(tpr_at_fpr(&m, &n, 0.02), Ok(1.0));
        assert_eq!(fpr_at_tpr(&m, &n, 0.95), Ok(0.02));
        assert_eq!(fpr_at_tpr(&m, &n, 0.5), Ok(0.0));
        // 0.001 needs 1000 negatives.
        assert_eq!(
            tpr_at_fpr(&m, &n, 0.001),
            Err(AuditError::TooFewNegatives { alpha: 0.001, negatives: 100, required: 1000 })
        );
        assert_eq!(tpr_at_fpr(&m, &[], 0.01), Err(AuditError::NoNegatives));
        assert!(tpr_at_fpr(&m, &n, 0.0).is_err());
    }

    #[test]
    fn tpr_at_fpr_edge_cases() {
        let n: Vec<f64> = (0..20).map(f64::from).collect();
        // All scores tied: the only points are (0,0) and (1,1): TPR@5% = 0.
        let tied_m = vec![1.0; 5];
        let tied_n = vec![1.0; 20];
        assert_eq!(tpr_at_fpr(&tied_m, &tied_n, 0.05), Ok(0.0));
        assert_eq!(roc_auc(&tied_m, &tied_n), Ok(0.5));
        // Perfect separation: TPR 1 at FPR 0.
        assert_eq!(tpr_at_fpr(&[100.0, 101.0], &n, 0.05), Ok(1.0));
        assert_eq!(roc_auc(&[100.0, 101.0], &n), Ok(1.0));
        // Exactly 1/α negatives is enough; one fewer is not.
        assert!(tpr_at_fpr(&[1.0], &n, 0.05).is_ok());
        assert!(matches!(
            tpr_at_fpr(&[1.0], &n[..19], 0.05),
            Err(AuditError::TooFewNegatives { required: 20, .. })
        ));
        assert_eq!(required_negatives(0.01), 100);
        assert_eq!(required_negatives(0.001), 1000);
        assert_eq!(required_negatives(0.03), 34);
    }

    #[test]
    fn quantiles_match_numpy_linear() {
        let v = [1.0, 2.0, 3.0, 4.0];
        // numpy.percentile([1,2,3,4], [2.5, 50, 97.5]) = [1.075, 2.5, 3.925].
        assert!((quantile_sorted(&v, 0.025).unwrap() - 1.075).abs() < 1e-12);
        assert_eq!(quantile_sorted(&v, 0.5), Some(2.5));
        let (lo, hi) = percentile_interval(&[4.0, 1.0, 3.0, 2.0], 0.95).unwrap();
        assert!((lo - 1.075).abs() < 1e-12 && (hi - 3.925).abs() < 1e-12);
        assert_eq!(quantile_sorted(&[], 0.5), None);
    }

    #[test]
    fn bootstrap_is_seeded_and_sane() {
        let m: Vec<f64> = (0..60).map(|i| f64::from(i) * 0.1 + 1.0).collect();
        let n: Vec<f64> = (0..80).map(|i| f64::from(i) * 0.1).collect();
        let cfg = BootstrapConfig::default();
        let a = bootstrap_auc(&m, &n, &cfg).unwrap();
        let b = bootstrap_auc(&m, &n, &cfg).unwrap();
        assert_eq!(a, b, "same seed, same interval");
        let c = bootstrap_auc(&m, &n, &BootstrapConfig { seed: 1, ..cfg }).unwrap();
        assert_ne!(a.ci_low, c.ci_low);
        assert_eq!(a.estimate, roc_auc(&m, &n).unwrap());
        assert!(a.ci_low <= a.estimate && a.estimate <= a.ci_high, "{a:?}");
        assert!(a.std_dev > 0.0 && a.std_dev < 0.1 && a.discarded == 0);
        let s =
            bootstrap_auc(&m, &n, &BootstrapConfig { resampling: Resampling::Stratified, ..cfg }).unwrap();
        assert!((s.mean - a.mean).abs() < 0.02);
    }

    #[test]
    fn bootstrap_refuses_degenerate_resamples() {
        // One member among 200: most paired resamples have no member (e^-1 ≈ 37%)…
        let n: Vec<f64> = (0..200).map(f64::from).collect();
        let est = bootstrap_auc(&[500.0], &n, &BootstrapConfig::default()).unwrap();
        assert!(est.discarded > 300 && est.discarded < 450, "{est:?}");
        // A statistic undefined on most resamples is refused as a whole.
        let m = vec![150.0; 100];
        let n: Vec<f64> = (0..100).map(f64::from).collect();
        let r = bootstrap(&m, &n, &BootstrapConfig::default(), |a, _| {
            if a.len() == 100 {
                Ok(1.0)
            } else {
                Err(AuditError::NoPositives)
            }
        });
        assert!(
            matches!(r, Err(AuditError::BootstrapDegenerate { discarded, resamples: 1000 }) if discarded > 900),
            "{r:?}"
        );
        // TPR@1% with exactly 100 negatives: paired resamples fall below 100
        // negatives about half the time; stratified ones never do.
        let paired = bootstrap_tpr_at_fpr(&m, &n, 0.01, &BootstrapConfig::default());
        let discarded = match paired {
            Ok(est) => est.discarded,
            Err(AuditError::BootstrapDegenerate { discarded, .. }) => discarded,
            Err(e) => panic!("{e}"),
        };
        assert!((380..=560).contains(&discarded), "{discarded}");
        let ok = bootstrap_tpr_at_fpr(
            &m,
            &n,
            0.01,
            &BootstrapConfig { resampling: Resampling::Stratified, ..BootstrapConfig::default() },
        )
        .unwrap();
        assert_eq!((ok.estimate, ok.mean, ok.discarded), (1.0, 1.0, 0));
    }
}
