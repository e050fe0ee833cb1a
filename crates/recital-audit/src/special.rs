//! Special functions the metrics need: the complementary error function, the
//! standard normal distribution (in log space for the far tails) and Owen's T
//! function, which gives the skew-normal CDF used by extrapolated canary
//! exposure.
//!
//! Rust's standard library has no `erf`, and the workspace has no maths crate,
//! so they are implemented here from their textbook definitions:
//!
//! - `erfc(x)` for `0 ≤ x < 2` as `1 − erf(x)`, with erf from its series of
//!   positive terms `erf(x) = 2/√π · e^{−x²} Σ_{n≥0} 2ⁿ x^{2n+1} / (1·3·…·(2n+1))`
//!   (no cancellation); for `x ≥ 2` from Laplace's continued fraction
//!   `erfc(x) = e^{−x²}/√π · 1/(x + ½/(x + 1/(x + (3/2)/(x + …))))`, evaluated
//!   with the modified Lentz method, which also gives `ln erfc(x)` without
//!   underflow for any `x`.
//! - Owen's T, `T(h, a) = 1/(2π) ∫₀^a exp(−h²(1+x²)/2) / (1+x²) dx`, by adaptive
//!   Gauss–Kronrod (7/15) quadrature of that integral for `|a| ≤ 1` (the
//!   integrand is smooth and positive, so the quadrature reaches a relative
//!   accuracy near machine precision), and for `|a| > 1` through Owen's
//!   identity `T(h, a) = ½Q(h) + ½Q(ah) − Q(h)Q(ah) − T(ah, 1/a)` for `h ≥ 0`,
//!   `a > 0` (Q the normal upper tail). Patefield and Tandy's algorithm is
//!   faster, but needs six method-specific coefficient tables; this costs a few
//!   hundred integrand evaluations per call, which is nothing next to a model
//!   forward pass, and is easy to check.
//!
//! All are tested against published values and, in
//! `tests/against_reference.rs`, against `scipy.special`.

use std::f64::consts::{FRAC_2_SQRT_PI, LN_2, PI, SQRT_2};

/// `ln √(2π)`.
const LN_SQRT_2PI: f64 = 0.918_938_533_204_672_8;
/// `½ ln π`.
const HALF_LN_PI: f64 = 0.572_364_942_924_700_1;
/// Below this, erfc is `1 − erf` from the series; at and above it, the
/// continued fraction.
const ERFC_SWITCH: f64 = 2.0;

/// The complementary error function `erfc(x) = 2/√π ∫ₓ^∞ e^{−t²} dt`.
///
/// Relative accuracy about 1e-14 on the whole line; `erfc(x)` underflows to 0
/// for `x > 26.5` (use [`ln_erfc`] there).
pub fn erfc(x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    if x < 0.0 {
        return 2.0 - erfc(-x);
    }
    if x < ERFC_SWITCH {
        1.0 - erf_series(x)
    } else if x > 27.0 {
        // e^{−x²} underflows: erfc(x) < 5e-319.
        0.0
    } else {
        (-x * x).exp() * (FRAC_2_SQRT_PI / 2.0) / erfc_continued_fraction(x)
    }
}

/// `ln erfc(x)`, accurate where `erfc(x)` itself underflows (`x` up to about
/// 1e154).
pub fn ln_erfc(x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    if x < ERFC_SWITCH {
        erfc(x).ln()
    } else if x.is_infinite() {
        f64::NEG_INFINITY
    } else if x > 1e8 {
        // The fraction is x(1 + 1/(2x²) + …) = x to double precision.
        -x * x - HALF_LN_PI - x.ln()
    } else {
        -x * x - HALF_LN_PI - erfc_continued_fraction(x).ln()
    }
}

/// `erf(x)` for `0 ≤ x < 2` by the series of positive terms.
fn erf_series(x: f64) -> f64 {
    let x2 = x * x;
    let mut term = x;
    let mut sum = x;
    let mut n = 0.0;
    loop {
        n += 1.0;
        term *= 2.0 * x2 / (2.0 * n + 1.0);
        sum += term;
        if term <= sum * 1e-17 {
            break;
        }
    }
    FRAC_2_SQRT_PI * (-x2).exp() * sum
}

/// The continued fraction `x + ½/(x + 1/(x + (3/2)/(x + …)))` for `x ≥ 2`, so
/// that `erfc(x) = e^{−x²} / (√π · cf)`.
fn erfc_continued_fraction(x: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let mut f = x;
    let mut c = f;
    let mut d = 0.0;
    for n in 1..10_000 {
        let a = f64::from(n) * 0.5;
        d = x + a * d;
        if d.abs() < TINY {
            d = TINY;
        }
        c = x + a / c;
        if c.abs() < TINY {
            c = TINY;
        }
        d = 1.0 / d;
        let delta = c * d;
        f *= delta;
        if (delta - 1.0).abs() < 1e-16 {
            break;
        }
    }
    f
}

/// The standard normal density φ(x).
pub fn normal_pdf(x: f64) -> f64 {
    normal_ln_pdf(x).exp()
}

/// `ln φ(x) = −x²/2 − ln √(2π)`.
pub fn normal_ln_pdf(x: f64) -> f64 {
    -0.5 * x * x - LN_SQRT_2PI
}

/// The standard normal CDF Φ(x).
pub fn normal_cdf(x: f64) -> f64 {
    0.5 * erfc(-x / SQRT_2)
}

/// The standard normal upper tail Q(x) = 1 − Φ(x), without cancellation.
pub fn normal_sf(x: f64) -> f64 {
    0.5 * erfc(x / SQRT_2)
}

/// `ln Φ(x)`, accurate in the far left tail (`ln Φ(−40) ≈ −804.6`).
pub fn normal_ln_cdf(x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    if x < 0.0 {
        -LN_2 + ln_erfc(-x / SQRT_2)
    } else {
        (-normal_sf(x)).ln_1p()
    }
}

/// Owen's T function `T(h, a) = 1/(2π) ∫₀^a exp(−h²(1+x²)/2) / (1+x²) dx`.
///
/// Special values: `T(h, 0) = 0`, `T(0, a) = atan(a)/(2π)`,
/// `T(h, 1) = ½ Φ(h) Q(h)`, `T(h, ∞) = ½ Q(|h|)`; it is even in `h` and odd in
/// `a`. Accuracy: relative about 1e-14 for `|a| ≤ 1`, absolute about 1e-16
/// otherwise.
pub fn owens_t(h: f64, a: f64) -> f64 {
    if h.is_nan() || a.is_nan() {
        return f64::NAN;
    }
    let h = h.abs();
    if a < 0.0 {
        return -owens_t(h, -a);
    }
    if a == 0.0 {
        return 0.0;
    }
    if a.is_infinite() {
        return 0.5 * normal_sf(h);
    }
    if a <= 1.0 {
        return owens_t_integral(h, a);
    }
    // Owen (1956): T(h, a) + T(ah, 1/a) = ½Φ(h) + ½Φ(ah) − Φ(h)Φ(ah) for a > 0,
    // written with upper tails, which keeps precision for large h.
    let ah = a * h;
    let (qh, qah) = (normal_sf(h), normal_sf(ah));
    0.5 * qh + 0.5 * qah - qh * qah - owens_t_integral(ah, 1.0 / a)
}

/// `T(h, a)` for `h ≥ 0`, `0 < a ≤ 1` by quadrature of its defining integral,
/// with the factor `e^{−h²/2}` taken out so the integrand is at most 1.
fn owens_t_integral(h: f64, a: f64) -> f64 {
    let scale = (-0.5 * h * h).exp();
    if scale == 0.0 {
        return 0.0;
    }
    let half_h2 = 0.5 * h * h;
    let integral = integrate(|x| (-half_h2 * x * x).exp() / (1.0 + x * x), 0.0, a);
    scale * integral / (2.0 * PI)
}

/// Abscissae of the 15-point Kronrod rule on [−1, 1] (non-negative half,
/// descending; the odd-indexed ones are the 7-point Gauss nodes).
const KRONROD_X: [f64; 8] = [
    0.991_455_371_120_812_6,
    0.949_107_912_342_758_5,
    0.864_864_423_359_769_1,
    0.741_531_185_599_394_4,
    0.586_087_235_467_691_1,
    0.405_845_151_377_397_2,
    0.207_784_955_007_898_5,
    0.0,
];
/// Weights of the 15-point Kronrod rule, matching [`KRONROD_X`].
const KRONROD_W: [f64; 8] = [
    0.022_935_322_010_529_22,
    0.063_092_092_629_978_55,
    0.104_790_010_322_250_2,
    0.140_653_259_715_525_9,
    0.169_004_726_639_267_9,
    0.190_350_578_064_785_4,
    0.204_432_940_075_298_9,
    0.209_482_141_084_727_8,
];
/// Weights of the 7-point Gauss rule at `KRONROD_X[1], [3], [5], [7]`.
const GAUSS_W: [f64; 4] =
    [0.129_484_966_168_869_7, 0.279_705_391_489_276_7, 0.381_830_050_505_118_9, 0.417_959_183_673_469_4];

/// One Gauss–Kronrod 7/15 panel on [a, b]: (Kronrod estimate, error estimate).
fn gauss_kronrod<F: Fn(f64) -> f64>(f: &F, a: f64, b: f64) -> (f64, f64) {
    let centre = 0.5 * (a + b);
    let half = 0.5 * (b - a);
    let fc = f(centre);
    let mut kronrod = fc * KRONROD_W[7];
    let mut gauss = fc * GAUSS_W[3];
    for i in 0..7 {
        let dx = half * KRONROD_X[i];
        let pair = f(centre - dx) + f(centre + dx);
        kronrod += KRONROD_W[i] * pair;
        if i % 2 == 1 {
            gauss += GAUSS_W[i / 2] * pair;
        }
    }
    (kronrod * half, ((kronrod - gauss) * half).abs())
}

/// Adaptive Gauss–Kronrod quadrature of a smooth function on a finite
/// interval, to a relative accuracy of about 1e-15 (QUADPACK's QAG strategy:
/// bisect the panel with the largest error estimate until the total error
/// estimate is small enough).
pub(crate) fn integrate<F: Fn(f64) -> f64>(f: F, a: f64, b: f64) -> f64 {
    const REL_TOL: f64 = 1e-15;
    const ABS_TOL: f64 = 1e-300;
    const MAX_PANELS: usize = 500;
    if a == b {
        return 0.0;
    }
    let (value, error) = gauss_kronrod(&f, a, b);
    let mut panels = vec![(a, b, value, error)];
    loop {
        let total: f64 = panels.iter().map(|p| p.2).sum();
        let total_error: f64 = panels.iter().map(|p| p.3).sum();
        if total_error <= ABS_TOL.max(REL_TOL * total.abs()) || panels.len() >= MAX_PANELS {
            return total;
        }
        let worst =
            panels.iter().enumerate().max_by(|x, y| x.1 .3.total_cmp(&y.1 .3)).map(|(i, _)| i).unwrap_or(0);
        let (lo, hi, _, _) = panels.swap_remove(worst);
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            // The panel cannot be split further in floating point.
            return total;
        }
        let (v1, e1) = gauss_kronrod(&f, lo, mid);
        let (v2, e2) = gauss_kronrod(&f, mid, hi);
        panels.push((lo, mid, v1, e1));
        panels.push((mid, hi, v2, e2));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(got: f64, want: f64, rel: f64) -> bool {
        (got - want).abs() <= rel * want.abs().max(f64::MIN_POSITIVE)
    }

    #[test]
    fn erfc_matches_published_values() {
        // Values as printed by scipy.special.erfc 1.10.1 (Cephes), agreeing with
        // Abramowitz & Stegun table 7.1 where it has them.
        let cases = [
            (0.0, 1.0),
            (0.5, 0.479_500_122_186_953_5),
            (1.0, 0.157_299_207_050_285_13),
            (1.999_999, 0.004_677_755_648_073_952),
            (2.0, 0.004_677_734_981_047_266),
            (3.0, 2.209_049_699_858_544e-5),
            (5.0, 1.537_459_794_428_034_8e-12),
            (10.0, 2.088_487_583_762_545e-45),
            (-1.0, 1.842_700_792_949_715),
        ];
        for (x, want) in cases {
            let got = erfc(x);
            assert!(close(got, want, 1e-13), "erfc({x}) = {got}, want {want}");
        }
    }

    #[test]
    fn infinities_and_huge_arguments() {
        assert_eq!(erfc(f64::INFINITY), 0.0);
        assert_eq!(erfc(f64::NEG_INFINITY), 2.0);
        assert_eq!(erfc(27.5), 0.0);
        assert!(erfc(f64::NAN).is_nan());
        assert_eq!(normal_ln_cdf(f64::INFINITY), 0.0);
        assert_eq!(normal_ln_cdf(f64::NEG_INFINITY), f64::NEG_INFINITY);
        assert_eq!(normal_cdf(f64::INFINITY), 1.0);
        // ln erfc(1e9) = −1e18 − ln(1e9 √π), and continuous across 1e8.
        assert!(close(ln_erfc(1e9), -1e18 - (1e9 * PI.sqrt()).ln(), 1e-15));
        assert!(close(ln_erfc(1e8 * (1.0 - 1e-15)), ln_erfc(1e8 * (1.0 + 1e-15)), 1e-12));
        assert!(close(owens_t(1e10, 0.5), 0.0, 0.0) && owens_t(0.0, 1e300) > 0.24);
    }

    #[test]
    fn erfc_is_continuous_at_the_switch() {
        let below = erfc(ERFC_SWITCH - 1e-12);
        let at = erfc(ERFC_SWITCH);
        assert!(close(below, at, 1e-10), "{below} vs {at}");
    }

    #[test]
    fn ln_erfc_survives_underflow() {
        // erfc(30) ≈ 2.56e-393 underflows a double. Its logarithm from the
        // asymptotic series ln erfc(x) = −x² − ln(x√π) + ln(1 − 1/(2x²) + 3/(4x⁴) − …).
        let x: f64 = 30.0;
        let mut term = 1.0;
        let mut series = 1.0;
        for k in 1..40 {
            term *= -f64::from(2 * k - 1) / (2.0 * x * x);
            series += term;
        }
        let want = -x * x - (x * PI.sqrt()).ln() + series.ln();
        assert!(close(ln_erfc(30.0), want, 1e-13), "{}", ln_erfc(30.0));
        assert_eq!(ln_erfc(f64::INFINITY), f64::NEG_INFINITY);
    }

    #[test]
    fn normal_cdf_values() {
        assert!(close(normal_cdf(-1.0), 0.158_655_253_931_457_05, 1e-14));
        assert!(close(normal_cdf(1.96), 0.975_002_104_851_780, 1e-14));
        assert!(close(normal_sf(8.0), 6.220_960_574_271_785e-16, 1e-12));
        // ln Φ(−40) from the asymptotic series: −x²/2 − ln(−x) − ln√(2π) + ln(1 − 1/x² + 3/x⁴ …).
        let x: f64 = -40.0;
        let series = 1.0 - 1.0 / (x * x) + 3.0 / x.powi(4) - 15.0 / x.powi(6) + 105.0 / x.powi(8);
        let want = -0.5 * x * x - (-x).ln() - LN_SQRT_2PI + series.ln();
        assert!(close(normal_ln_cdf(x), want, 1e-12), "{}", normal_ln_cdf(x));
        assert!(close(normal_ln_cdf(3.0), (-normal_sf(3.0)).ln_1p(), 1e-15));
    }

    #[test]
    fn owens_t_special_values() {
        for h in [0.0, 0.3, 1.0, 2.5, 6.0] {
            let want = 0.5 * normal_cdf(h) * normal_sf(h);
            assert!(close(owens_t(h, 1.0), want, 1e-13), "T({h}, 1)");
            assert!(close(owens_t(h, f64::INFINITY), 0.5 * normal_sf(h), 1e-14));
            assert_eq!(owens_t(h, 0.0), 0.0);
        }
        for a in [0.1f64, 0.5, 1.0, 3.0, 100.0] {
            let want = a.atan() / (2.0 * PI);
            assert!(close(owens_t(0.0, a), want, 1e-13), "T(0, {a})");
        }
        assert_eq!(owens_t(-1.3, 0.7), owens_t(1.3, 0.7));
        assert_eq!(owens_t(1.3, -0.7), -owens_t(1.3, 0.7));
    }

    #[test]
    fn owens_t_published_values() {
        // Patefield & Tandy's (2000) test arguments; values printed by
        // scipy.special.owens_t 1.10.1 (their algorithm, an independent implementation).
        let cases = [
            (0.0625, 0.25, 3.891_193_023_470_137e-2),
            (6.5, 0.4375, 2.000_577_304_850_830_7e-11),
            (7.0, 0.96875, 6.399_062_719_389_87e-13),
            (4.78125, 0.0625, 1.063_297_480_468_746_4e-7),
            (2.0, 0.5, 8.625_077_985_521_508e-3),
            (1.0, 0.9999975, 6.674_180_897_822_86e-2),
        ];
        for (h, a, want) in cases {
            let got = owens_t(h, a);
            assert!(close(got, want, 1e-13), "T({h}, {a}) = {got:e}, want {want:e}");
        }
    }

    #[test]
    fn owens_t_identity_across_the_switch() {
        // For a just above 1 the identity path must agree with the integral path.
        for h in [0.2, 1.0, 3.0] {
            let a = 1.0 + 1e-9;
            assert!(close(owens_t(h, a), owens_t_integral(h, a), 1e-8));
        }
    }

    #[test]
    fn kronrod_rule_is_exact_for_polynomials() {
        // 15-point Kronrod integrates degree ≤ 22 exactly, 7-point Gauss degree ≤ 13.
        for k in 0..=22 {
            let (value, _) = gauss_kronrod(&|x: f64| x.powi(k), -1.0, 1.0);
            let want = if k % 2 == 1 { 0.0 } else { 2.0 / f64::from(k + 1) };
            assert!((value - want).abs() < 1e-14, "x^{k}: {value} vs {want}");
        }
        let (_, err) = gauss_kronrod(&|x: f64| x.powi(12), -1.0, 1.0);
        assert!(err < 1e-14, "Gauss 7 must also be exact for x^12: {err}");
    }

    #[test]
    fn adaptive_quadrature_handles_a_spike() {
        // ∫₀¹⁰ e^{−100x} dx = (1 − e^{−1000})/100.
        let got = integrate(|x| (-100.0 * x).exp(), 0.0, 10.0);
        assert!(close(got, 0.01, 1e-13), "{got}");
    }
}
