//! Properties every input must satisfy, checked on random inputs.

use proptest::prelude::*;
use recital_audit::exposure::{rank_exposure, SkewNormal, TieRule};
use recital_audit::extraction::{
    longest_common_subsequence, longest_common_substring, memorisation_score, rouge_l,
};
use recital_audit::membership::{loss, min_k_percent, next_token_stats};
use recital_audit::roc::{required_negatives, roc_auc, roc_curve, tpr_at_fpr};
use recital_audit::special::owens_t;

/// Scores on a coarse grid, so that ties are common.
fn scores(max_len: usize) -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec((-20i32..20).prop_map(|x| f64::from(x) / 4.0), 1..max_len)
}

fn log_probs() -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(-30.0f64..=0.0, 1..120)
}

proptest! {
    #[test]
    fn auc_is_a_probability_and_flips_with_the_sign(m in scores(60), n in scores(60)) {
        let auc = roc_auc(&m, &n).unwrap();
        prop_assert!((0.0..=1.0).contains(&auc));
        let neg = |v: &Vec<f64>| v.iter().map(|x| -x).collect::<Vec<_>>();
        let flipped = roc_auc(&neg(&m), &neg(&n)).unwrap();
        prop_assert!((auc - (1.0 - flipped)).abs() < 1e-12, "{auc} vs 1 − {flipped}");
        // Swapping the classes also flips it, and the trapezoid agrees with Mann–Whitney.
        prop_assert!((auc - (1.0 - roc_auc(&n, &m).unwrap())).abs() < 1e-12);
        prop_assert!((auc - roc_curve(&m, &n).unwrap().auc()).abs() < 1e-12);
    }

    #[test]
    fn tpr_at_fpr_grows_with_alpha_and_is_refused_below_one_over_alpha(
        m in scores(40), n in scores(150)
    ) {
        let mut last = 0.0;
        for alpha in [0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0] {
            match tpr_at_fpr(&m, &n, alpha) {
                Ok(t) => {
                    prop_assert!(n.len() >= required_negatives(alpha));
                    prop_assert!(t >= last && (0.0..=1.0).contains(&t));
                    last = t;
                }
                Err(_) => prop_assert!(n.len() < required_negatives(alpha)),
            }
        }
        prop_assert_eq!(tpr_at_fpr(&m, &n, 1.0).unwrap(), 1.0);
    }

    #[test]
    fn rank_exposure_is_monotone(
        refs in prop::collection::vec(0.0f64..50.0, 1..200),
        a in 0.0f64..60.0,
        b in 0.0f64..60.0,
    ) {
        let (better, worse) = if a <= b { (a, b) } else { (b, a) };
        for tie in [TieRule::Strict, TieRule::Inclusive] {
            let eb = rank_exposure(better, &refs, tie).unwrap();
            let ew = rank_exposure(worse, &refs, tie).unwrap();
            prop_assert!(eb.exposure >= ew.exposure, "{eb:?} {ew:?}");
            prop_assert!(eb.exposure <= eb.max_exposure);
        }
        let strict = rank_exposure(a, &refs, TieRule::Strict).unwrap();
        let inclusive = rank_exposure(a, &refs, TieRule::Inclusive).unwrap();
        prop_assert!(strict.exposure >= inclusive.exposure);
    }

    #[test]
    fn min_k_is_at_most_the_mean_and_grows_with_k(lp in log_probs()) {
        let mean = -loss(&lp).unwrap();
        let mut last = f64::NEG_INFINITY;
        for k in [0.05, 0.1, 0.2, 0.5, 0.9, 1.0] {
            let v = min_k_percent(&lp, k).unwrap();
            prop_assert!(v <= mean + 1e-12, "Min-{k} {v} > mean {mean}");
            prop_assert!(v >= last - 1e-12);
            last = v;
        }
        prop_assert!((min_k_percent(&lp, 1.0).unwrap() - mean).abs() < 1e-12);
    }

    #[test]
    fn next_token_stats_ignore_a_constant_shift(
        logits in prop::collection::vec(-15.0f64..15.0, 2..200),
        shift in -1e4f64..1e4,
    ) {
        let a = next_token_stats(&logits).unwrap();
        let shifted: Vec<f64> = logits.iter().map(|x| x + shift).collect();
        let b = next_token_stats(&shifted).unwrap();
        prop_assert!((a.mu - b.mu).abs() < 1e-9 && (a.sigma - b.sigma).abs() < 1e-9, "{a:?} {b:?}");
        prop_assert!(a.sigma >= 0.0 && a.mu <= 0.0);
        // μ is minus the entropy: between −ln V and 0.
        prop_assert!(a.mu >= -(logits.len() as f64).ln() - 1e-12);
    }

    #[test]
    fn skew_normal_cdf_is_monotone_and_exposure_falls_with_px(
        shape in -15.0f64..15.0,
        x1 in -20.0f64..20.0,
        x2 in -20.0f64..20.0,
    ) {
        let d = SkewNormal::new(1.0, 2.0, shape).unwrap();
        let (lo, hi) = if x1 <= x2 { (x1, x2) } else { (x2, x1) };
        prop_assert!(d.ln_cdf(lo) <= d.ln_cdf(hi) + 1e-12, "{} > {}", d.ln_cdf(lo), d.ln_cdf(hi));
        prop_assert!(d.exposure(lo) >= d.exposure(hi) - 1e-12);
        prop_assert!(d.cdf(hi) <= 1.0 && d.cdf(lo) >= 0.0);
    }

    #[test]
    fn owens_t_is_bounded(h in -12.0f64..12.0, a in 0.0f64..50.0) {
        let t = owens_t(h, a);
        prop_assert!(t >= 0.0 && t <= a.atan() / (2.0 * std::f64::consts::PI) + 1e-16, "T({h}, {a}) = {t}");
        prop_assert!((owens_t(h, -a) + t).abs() < 1e-18);
    }

    #[test]
    fn overlap_bounds(
        a in prop::collection::vec(0u32..6, 0..40),
        b in prop::collection::vec(0u32..6, 0..40),
    ) {
        let lcs = longest_common_subsequence(&a, &b);
        let sub = longest_common_substring(&a, &b);
        prop_assert!(sub <= lcs && lcs <= a.len().min(b.len()));
        prop_assert_eq!(lcs, longest_common_subsequence(&b, &a));
        let r = rouge_l(&a, &b);
        prop_assert!((0.0..=1.0).contains(&r.f_measure));
        prop_assert!(r.f_measure <= r.precision.max(r.recall) + 1e-15);
        if !b.is_empty() {
            let s = memorisation_score(&a, &b).unwrap();
            prop_assert!((0.0..=1.0).contains(&s));
            prop_assert_eq!(memorisation_score(&b, &b).unwrap(), 1.0);
        }
    }
}
