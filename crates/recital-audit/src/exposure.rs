//! Canary exposure (The Secret Sharer, Carlini et al. 2019; research note
//! §5 and §12 D).
//!
//! A canary `s[r]` is a template with a random slot `r ∈ R`; it is inserted
//! into the training data, and reference canaries `r′` of the same format are
//! not. Its **log-perplexity in bits** is `Px(s[r]) = −Σ_t log₂ p(x_t | x_<t)`
//! over the secret part (§12.16, [`log_perplexity_bits`]). Exposure says how
//! many bits of the secret the model gives away:
//!
//! - **by rank** (§12.17): `rank = 1 + |{r′ : Px(s[r′]) < Px(s[r])}|` and
//!   `exposure = log₂ m − log₂ rank` over `m` references, at most `log₂ m`
//!   ([`rank_exposure`]); with the whole space enumerated, `log₂|R| − log₂ rank`
//!   ([`exposure_from_rank`]). The tie rule is a parameter ([`TieRule`]):
//!   the note's strict `<` by default, tensorflow_privacy's `≤` on request.
//! - **by extrapolation** (§12.18): fit a skew-normal to the references'
//!   `Px` and take `exposure = −log₂ F(Px(s[r]))`, at most `log₂|R|`
//!   ([`extrapolated_exposure`]). The note (and tensorflow_privacy's
//!   `skewnorm.fit`) fits by **maximum likelihood**, the default here; the
//!   closed-form method-of-moments fit is offered too and is the MLE's
//!   starting point. The fit's Kolmogorov–Smirnov statistic and the number of
//!   references are reported with every value, as the note asks.
//!
//! The CDF is computed as `ln F` so that exposures far beyond 50 bits (CDF
//! values below 1e-15, where `Φ(z) − 2T(z, α)` cancels catastrophically) keep
//! their precision: for `z < 0` by quadrature of the density's left tail in
//! log space, for `z ≥ 0` with Owen's T ([`crate::special::owens_t`]).

use std::f64::consts::{LN_2, PI};

use serde::{Deserialize, Serialize};

use crate::error::{check_finite, check_non_empty, AuditError, Result};
use crate::special::{integrate, normal_cdf, normal_ln_cdf, normal_ln_pdf, owens_t};

/// `Px = −Σ_t log₂ p(x_t | x_<t)` in bits, from natural-log token
/// probabilities of the canary's secret part (note §12.16).
pub fn log_perplexity_bits(token_log_probs: &[f64]) -> Result<f64> {
    check_non_empty("token_log_probs", token_log_probs)?;
    if let Some(index) = token_log_probs.iter().position(|v| v.is_nan() || *v > 0.0) {
        return Err(AuditError::InvalidValue {
            what: "token_log_probs",
            index,
            value: token_log_probs[index],
            constraint: "a log-probability must be a number ≤ 0",
        });
    }
    Ok(-token_log_probs.iter().sum::<f64>() / LN_2)
}

/// How references with exactly the canary's log-perplexity are ranked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TieRule {
    /// `rank = 1 + |{r′ : Px(r′) < Px(r)}|`: ties go in the canary's favour
    /// (note §12.17).
    #[default]
    Strict,
    /// `rank = 1 + |{r′ : Px(r′) ≤ Px(r)}|`: ties count against the canary
    /// (tensorflow_privacy's `compute_exposure_interpolation`, on tie-free
    /// data the same as `Strict`).
    Inclusive,
}

/// Rank exposure of one canary.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RankExposure {
    /// 1 + the references ranked before the canary.
    pub rank: usize,
    /// Number of references m.
    pub references: usize,
    /// `log₂ m − log₂ rank`.
    pub exposure: f64,
    /// The most this can show, `log₂ m`: a canary at rank 1 may be exposed
    /// far more than that (use extrapolation to see how much).
    pub max_exposure: f64,
    /// The tie rule used.
    pub tie_rule: TieRule,
}

/// The canary's rank among references by log-perplexity (lower `Px` = better
/// rank), under `tie_rule`.
pub fn rank_of(canary_px: f64, reference_px: &[f64], tie_rule: TieRule) -> Result<usize> {
    check_finite("canary_px", &[canary_px])?;
    check_finite("reference_px", reference_px)?;
    let ahead = reference_px
        .iter()
        .filter(|&&r| match tie_rule {
            TieRule::Strict => r < canary_px,
            TieRule::Inclusive => r <= canary_px,
        })
        .count();
    Ok(1 + ahead)
}

/// Exposure by rank among `m` references (note §12.17):
/// `log₂ m − log₂ rank`. It can dip just below 0 when every reference ranks
/// ahead (rank m + 1); it never exceeds `log₂ m`.
pub fn rank_exposure(canary_px: f64, reference_px: &[f64], tie_rule: TieRule) -> Result<RankExposure> {
    check_non_empty("reference_px", reference_px)?;
    let rank = rank_of(canary_px, reference_px, tie_rule)?;
    let m = reference_px.len();
    let max_exposure = (m as f64).log2();
    Ok(RankExposure {
        rank,
        references: m,
        exposure: max_exposure - (rank as f64).log2(),
        max_exposure,
        tie_rule,
    })
}

/// The exact Secret-Sharer exposure `log₂|R| − log₂ rank` when the whole
/// space `R` of `space_size` candidates was ranked (`1 ≤ rank ≤ |R|`).
pub fn exposure_from_rank(space_size: f64, rank: usize) -> Result<f64> {
    if !(space_size >= 1.0 && space_size.is_finite()) {
        return Err(AuditError::OutOfRange {
            what: "space_size",
            value: space_size,
            constraint: "a finite number of candidates ≥ 1",
        });
    }
    if rank == 0 || rank as f64 > space_size {
        return Err(AuditError::OutOfRange {
            what: "rank",
            value: rank as f64,
            constraint: "between 1 and the size of the space",
        });
    }
    Ok(space_size.log2() - (rank as f64).log2())
}

/// Largest skewness a skew-normal can have, `(4−π)/2 · (2/(π−2))^{3/2}` ≈
/// 0.99527.
pub const MAX_SKEWNESS: f64 = 0.995_271_746_431_156;

/// The method-of-moments fit clips the sample skewness to ±0.99 (just inside
/// [`MAX_SKEWNESS`]) before inverting it; beyond it no skew-normal matches the
/// third moment.
pub const MOMENT_SKEWNESS_CLIP: f64 = 0.99;

/// The largest |α| the maximum-likelihood fit explores. The likelihood of
/// half-normal-like samples keeps rising as |α| → ∞ (the MLE does not exist;
/// scipy's `skewnorm.fit` wanders to α ≈ 10⁸ on such data); at |α| = 10⁸,
/// δ = 1 − 5·10⁻¹⁷ and the distribution is a half-normal to double precision.
pub const MAX_FIT_SHAPE: f64 = 1e8;

/// A skew-normal distribution (Azzalini 1985) with density
/// `2/ω · φ(z) Φ(αz)`, `z = (x − ξ)/ω`: scipy's `skewnorm(a=shape, loc=location,
/// scale=scale)`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SkewNormal {
    /// ξ.
    pub location: f64,
    /// ω > 0.
    pub scale: f64,
    /// α (0 is the normal distribution; positive skews right).
    pub shape: f64,
}

/// How a skew-normal is fitted to the references.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FitMethod {
    /// Maximum likelihood (note §12.18; scipy's `skewnorm.fit`, which
    /// tensorflow_privacy calls).
    #[default]
    MaximumLikelihood,
    /// Method of moments in closed form ([`SkewNormal::fit_moments`]).
    Moments,
}

fn sample_moments(samples: &[f64]) -> Result<(f64, f64, f64)> {
    check_finite("samples", samples)?;
    if samples.len() < 3 {
        return Err(AuditError::FitFailed { reason: "at least 3 samples are needed for three parameters" });
    }
    let n = samples.len() as f64;
    let mean = samples.iter().sum::<f64>() / n;
    let m2 = samples.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
    let m3 = samples.iter().map(|x| (x - mean).powi(3)).sum::<f64>() / n;
    if m2 <= 0.0 || !m2.is_finite() {
        return Err(AuditError::FitFailed { reason: "the samples have zero variance" });
    }
    Ok((mean, m2, m3 / m2.powf(1.5)))
}

impl SkewNormal {
    /// A skew-normal with the given parameters (`scale > 0`, all finite).
    pub fn new(location: f64, scale: f64, shape: f64) -> Result<Self> {
        check_finite("skew-normal parameters", &[location, scale, shape])?;
        if scale <= 0.0 {
            return Err(AuditError::OutOfRange {
                what: "scale",
                value: scale,
                constraint: "must be positive",
            });
        }
        Ok(Self { location, scale, shape })
    }

    /// `δ = α / √(1 + α²)`.
    pub fn delta(&self) -> f64 {
        self.shape / (1.0 + self.shape * self.shape).sqrt()
    }

    /// Mean `ξ + ωδ√(2/π)`.
    pub fn mean(&self) -> f64 {
        self.location + self.scale * self.delta() * (2.0 / PI).sqrt()
    }

    /// Variance `ω²(1 − 2δ²/π)`.
    pub fn variance(&self) -> f64 {
        let d = self.delta();
        self.scale * self.scale * (1.0 - 2.0 * d * d / PI)
    }

    /// Skewness `(4−π)/2 · (δ√(2/π))³ / (1 − 2δ²/π)^{3/2}`.
    pub fn skewness(&self) -> f64 {
        let mu = self.delta() * (2.0 / PI).sqrt();
        (4.0 - PI) / 2.0 * mu.powi(3) / (1.0 - mu * mu).powf(1.5)
    }

    fn standardise(&self, x: f64) -> f64 {
        (x - self.location) / self.scale
    }

    /// `ln f(x) = ln 2 − ln ω + ln φ(z) + ln Φ(αz)`.
    pub fn ln_pdf(&self, x: f64) -> f64 {
        let z = self.standardise(x);
        LN_2 - self.scale.ln() + normal_ln_pdf(z) + normal_ln_cdf(self.shape * z)
    }

    /// The density.
    pub fn pdf(&self, x: f64) -> f64 {
        self.ln_pdf(x).exp()
    }

    /// `ln F(x)`, accurate in the far left tail.
    pub fn ln_cdf(&self, x: f64) -> f64 {
        let z = self.standardise(x);
        if z.is_nan() {
            return f64::NAN;
        }
        if z == f64::NEG_INFINITY {
            return f64::NEG_INFINITY;
        }
        if z < 0.0 {
            self.ln_left_tail(z)
        } else {
            // F(z) = Φ(z) − 2T(z, α): no harmful cancellation for z ≥ 0.
            let f = normal_cdf(z) - 2.0 * owens_t(z, self.shape);
            f.clamp(0.0, 1.0).ln()
        }
    }

    /// `ln F(z)` for `z < 0` by `F(z) = ∫₀^∞ 2 φ(z−u) Φ(α(z−u)) du` with the
    /// integrand's value at `u = 0` factored out in log space, so nothing
    /// underflows and no two large numbers are subtracted.
    fn ln_left_tail(&self, z: f64) -> f64 {
        let a = self.shape;
        let ln_phi_az = normal_ln_cdf(a * z);
        // φ(z−u)/φ(z) = e^{zu − u²/2} ≤ e^{zu}, and the Φ ratio is ≤ 1 for
        // α ≥ 0 and ≤ 1/Φ(αz) ≤ 2 for α < 0: past u = 40 / max(1, |z|) the
        // integrand is below 2e^{−40} of its start.
        let upper = 40.0 / z.abs().max(1.0);
        let integral =
            integrate(|u| (z * u - 0.5 * u * u + normal_ln_cdf(a * (z - u)) - ln_phi_az).exp(), 0.0, upper);
        LN_2 + normal_ln_pdf(z) + ln_phi_az + integral.ln()
    }

    /// The CDF `F(x) = Φ(z) − 2T(z, α)`.
    pub fn cdf(&self, x: f64) -> f64 {
        self.ln_cdf(x).exp()
    }

    /// `Σ ln f(x_i)`.
    pub fn log_likelihood(&self, samples: &[f64]) -> f64 {
        samples.iter().map(|&x| self.ln_pdf(x)).sum()
    }

    /// The Kolmogorov–Smirnov statistic `sup |F_n − F|` of the samples against
    /// this distribution (scipy's `kstest(samples, cdf).statistic`): how well
    /// the fit describes the references.
    pub fn ks_statistic(&self, samples: &[f64]) -> f64 {
        let mut sorted = samples.to_vec();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len() as f64;
        sorted
            .iter()
            .enumerate()
            .map(|(i, &x)| {
                let f = self.cdf(x);
                ((i + 1) as f64 / n - f).max(f - i as f64 / n)
            })
            .fold(0.0, f64::max)
    }

    /// Method-of-moments fit in closed form: match the sample mean, variance
    /// and skewness (population moments, ddof = 0; skewness `m₃/m₂^{3/2}`,
    /// scipy's `skew` with `bias=True`), inverting
    /// `|δ| = √(π/2 · |γ|^{2/3} / (|γ|^{2/3} + ((4−π)/2)^{2/3}))`,
    /// `α = δ/√(1−δ²)`, `ω = √(m₂ / (1 − 2δ²/π))`, `ξ = mean − ωδ√(2/π)`.
    /// The skewness is first clipped to ±[`MOMENT_SKEWNESS_CLIP`].
    pub fn fit_moments(samples: &[f64]) -> Result<Self> {
        let (mean, m2, skew) = sample_moments(samples)?;
        let g = skew.clamp(-MOMENT_SKEWNESS_CLIP, MOMENT_SKEWNESS_CLIP);
        let g23 = g.abs().powf(2.0 / 3.0);
        let c = ((4.0 - PI) / 2.0).powf(2.0 / 3.0);
        let delta = (PI / 2.0 * g23 / (g23 + c)).sqrt().copysign(g);
        let shape = delta / (1.0 - delta * delta).sqrt();
        let scale = (m2 / (1.0 - 2.0 * delta * delta / PI)).sqrt();
        let location = mean - scale * delta * (2.0 / PI).sqrt();
        Self::new(location, scale, shape)
    }

    /// Maximum-likelihood fit (note §12.18). The samples are standardised,
    /// the negative mean log-likelihood over `(ξ, ln ω, α)` is minimised by
    /// Nelder–Mead from two starts (the moments fit and the normal fit `α = 0`)
    /// with restarts until it stops improving, and the best is mapped back.
    /// When the likelihood keeps rising as `|α| → ∞` (half-normal-like
    /// samples) the fit stops at `|α| ≤` [`MAX_FIT_SHAPE`], where the
    /// skew-normal is a half-normal to double precision.
    pub fn fit_mle(samples: &[f64]) -> Result<Self> {
        let (mean, m2, _) = sample_moments(samples)?;
        let sd = m2.sqrt();
        let z: Vec<f64> = samples.iter().map(|x| (x - mean) / sd).collect();
        let objective = |theta: &[f64; 3]| -> f64 {
            let (loc, ln_scale, shape) = (theta[0], theta[1], theta[2]);
            if !ln_scale.is_finite() || ln_scale.abs() > 50.0 || shape.is_nan() || shape.abs() > MAX_FIT_SHAPE
            {
                return f64::INFINITY;
            }
            let d = SkewNormal { location: loc, scale: ln_scale.exp(), shape };
            let ll = d.log_likelihood(&z) / z.len() as f64;
            if ll.is_nan() {
                f64::INFINITY
            } else {
                -ll
            }
        };
        let moments = Self::fit_moments(&z)?;
        let starts = [[moments.location, moments.scale.ln(), moments.shape], [0.0, 0.0, 0.0]];
        let mut best: Option<([f64; 3], f64)> = None;
        for start in starts {
            let (theta, value) = minimise_with_restarts(&objective, start);
            if best.is_none_or(|(_, v)| value < v) {
                best = Some((theta, value));
            }
        }
        let Some((theta, value)) = best else {
            return Err(AuditError::FitFailed { reason: "no starting point" });
        };
        if !value.is_finite() {
            return Err(AuditError::FitFailed {
                reason: "the likelihood is not finite anywhere the search went",
            });
        }
        Self::new(mean + sd * theta[0], sd * theta[1].exp(), theta[2])
    }

    /// Fits with `method`.
    pub fn fit(samples: &[f64], method: FitMethod) -> Result<Self> {
        match method {
            FitMethod::MaximumLikelihood => Self::fit_mle(samples),
            FitMethod::Moments => Self::fit_moments(samples),
        }
    }

    /// `−log₂ F(px)`: the exposure of a canary with log-perplexity `px` under
    /// this fit, uncapped.
    pub fn exposure(&self, px: f64) -> f64 {
        -self.ln_cdf(px) / LN_2
    }
}

/// Nelder–Mead from `start`, restarted from its own result until the value
/// stops improving.
fn minimise_with_restarts<F: Fn(&[f64; 3]) -> f64>(f: &F, start: [f64; 3]) -> ([f64; 3], f64) {
    let mut x = start;
    let mut value = f(&x);
    for _ in 0..20 {
        let (nx, nv) = nelder_mead(f, x);
        let improved = nv < value - 1e-14 * (1.0 + value.abs());
        if nv <= value {
            x = nx;
            value = nv;
        }
        if !improved {
            break;
        }
    }
    (x, value)
}

/// Nelder–Mead (standard coefficients 1, 2, ½, ½) on three parameters.
fn nelder_mead<F: Fn(&[f64; 3]) -> f64>(f: &F, start: [f64; 3]) -> ([f64; 3], f64) {
    const MAX_ITERATIONS: usize = 4000;
    let steps = [0.1, 0.1, 0.25_f64.max(0.1 * start[2].abs())];
    let mut simplex: Vec<([f64; 3], f64)> = Vec::with_capacity(4);
    simplex.push((start, f(&start)));
    for (i, step) in steps.iter().enumerate() {
        let mut v = start;
        v[i] += step;
        simplex.push((v, f(&v)));
    }
    for _ in 0..MAX_ITERATIONS {
        simplex.sort_by(|a, b| a.1.total_cmp(&b.1));
        let (best, worst) = (simplex[0].1, simplex[3].1);
        let size = (1..4)
            .flat_map(|i| (0..3).map(move |k| (i, k)))
            .map(|(i, k)| (simplex[i].0[k] - simplex[0].0[k]).abs())
            .fold(0.0, f64::max);
        if (worst - best).abs() <= 1e-15 * (1.0 + best.abs()) && size < 1e-9 {
            break;
        }
        let mut centroid = [0.0; 3];
        for (v, _) in &simplex[..3] {
            for k in 0..3 {
                centroid[k] += v[k] / 3.0;
            }
        }
        let towards = |t: f64| -> [f64; 3] {
            let w = simplex[3].0;
            [
                centroid[0] + t * (w[0] - centroid[0]),
                centroid[1] + t * (w[1] - centroid[1]),
                centroid[2] + t * (w[2] - centroid[2]),
            ]
        };
        let reflected = towards(-1.0);
        let fr = f(&reflected);
        if fr < simplex[0].1 {
            let expanded = towards(-2.0);
            let fe = f(&expanded);
            simplex[3] = if fe < fr { (expanded, fe) } else { (reflected, fr) };
        } else if fr < simplex[2].1 {
            simplex[3] = (reflected, fr);
        } else {
            let contracted = if fr < simplex[3].1 { towards(-0.5) } else { towards(0.5) };
            let fc = f(&contracted);
            if fc < fr.min(simplex[3].1) {
                simplex[3] = (contracted, fc);
            } else {
                let b = simplex[0].0;
                for entry in simplex.iter_mut().skip(1) {
                    let mut v = entry.0;
                    for k in 0..3 {
                        v[k] = b[k] + 0.5 * (v[k] - b[k]);
                    }
                    *entry = (v, f(&v));
                }
            }
        }
    }
    simplex.sort_by(|a, b| a.1.total_cmp(&b.1));
    simplex[0]
}

/// Extrapolated exposure of one canary, with what a report needs to judge it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ExtrapolatedExposure {
    /// `−log₂ F(Px)`, capped at `log₂|R|` when the space size was given.
    pub exposure: f64,
    /// Whether the cap applied.
    pub capped: bool,
    /// The fitted distribution of reference log-perplexities.
    pub fit: SkewNormal,
    /// How it was fitted.
    pub method: FitMethod,
    /// Number of references fitted.
    pub references: usize,
    /// Kolmogorov–Smirnov statistic of the fit on the references.
    pub ks_statistic: f64,
}

/// Exposure of a canary by skew-normal extrapolation (note §12.18): fit the
/// reference log-perplexities (`method`), take `−log₂ F(canary_px)`, and cap
/// it at `log₂ space_size` when the size of the secret space `|R|` is given.
pub fn extrapolated_exposure(
    canary_px: f64,
    reference_px: &[f64],
    method: FitMethod,
    space_size: Option<f64>,
) -> Result<ExtrapolatedExposure> {
    check_finite("canary_px", &[canary_px])?;
    let fit = SkewNormal::fit(reference_px, method)?;
    let raw = fit.exposure(canary_px);
    let (exposure, capped) = match space_size {
        Some(size) if size >= 1.0 && raw > size.log2() => (size.log2(), true),
        Some(size) if !(size >= 1.0 && size.is_finite()) => {
            return Err(AuditError::OutOfRange {
                what: "space_size",
                value: size,
                constraint: "a finite number of candidates ≥ 1",
            })
        }
        _ => (raw, false),
    };
    Ok(ExtrapolatedExposure {
        exposure,
        capped,
        fit,
        method,
        references: reference_px.len(),
        ks_statistic: fit.ks_statistic(reference_px),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(got: f64, want: f64, rel: f64) -> bool {
        (got - want).abs() <= rel * want.abs().max(1e-300)
    }

    #[test]
    fn log_perplexity_in_bits() {
        // Eight digits each with p = 1/10: 8 log2 10 bits.
        let lp = [-(10f64.ln()); 8];
        assert!(close(log_perplexity_bits(&lp).unwrap(), 8.0 * 10f64.log2(), 1e-15));
        assert!(log_perplexity_bits(&[]).is_err());
        assert!(log_perplexity_bits(&[0.5]).is_err());
    }

    #[test]
    fn rank_exposure_by_hand() {
        let refs = [10.0, 20.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0];
        // Best of 8: rank 1, exposure log2 8 = 3.
        let e = rank_exposure(5.0, &refs, TieRule::Strict).unwrap();
        assert_eq!((e.rank, e.exposure, e.max_exposure), (1, 3.0, 3.0));
        // Tied with two references at 20: strict rank 2, inclusive rank 4.
        assert_eq!(rank_of(20.0, &refs, TieRule::Strict), Ok(2));
        assert_eq!(rank_of(20.0, &refs, TieRule::Inclusive), Ok(4));
        assert_eq!(rank_exposure(20.0, &refs, TieRule::Inclusive).unwrap().exposure, 1.0);
        // Worse than all: rank 9, exposure log2(8/9) < 0.
        let e = rank_exposure(99.0, &refs, TieRule::Strict).unwrap();
        assert_eq!(e.rank, 9);
        assert!(close(e.exposure, (8.0f64 / 9.0).log2(), 1e-13));
        assert!(rank_exposure(1.0, &[], TieRule::Strict).is_err());
        assert!(rank_of(f64::NAN, &refs, TieRule::Strict).is_err());
        // Enumerated space of 10^8 pins, rank 1: 26.58 bits (note §10).
        assert!(close(exposure_from_rank(1e8, 1).unwrap(), 26.575_424_759_098_9, 1e-12));
        assert!(exposure_from_rank(10.0, 11).is_err());
        assert!(exposure_from_rank(10.0, 0).is_err());
    }

    #[test]
    fn skew_normal_cdf_closed_forms() {
        // α = 0: Φ. α = 1: Φ(z)². α = −1: 2Φ(z) − Φ(z)².
        let normal = SkewNormal::new(0.0, 1.0, 0.0).unwrap();
        let one = SkewNormal::new(0.0, 1.0, 1.0).unwrap();
        let minus = SkewNormal::new(0.0, 1.0, -1.0).unwrap();
        for z in [-6.0, -2.5, -1.0, -0.1, 0.0, 0.4, 1.0, 3.0] {
            let p = normal_cdf(z);
            assert!(close(normal.cdf(z), p, 1e-13), "α=0, z={z}");
            assert!(close(one.cdf(z), p * p, 1e-13), "α=1, z={z}: {} vs {}", one.cdf(z), p * p);
            assert!(close(minus.cdf(z), 2.0 * p - p * p, 1e-13), "α=−1, z={z}");
        }
        // Deep left tail, where Φ(z) − 2T(z, α) would be all cancellation:
        // ln F(z; 1) = 2 ln Φ(z).
        for z in [-10.0, -30.0, -100.0] {
            assert!(close(one.ln_cdf(z), 2.0 * normal_ln_cdf(z), 1e-12), "z={z}: {}", one.ln_cdf(z));
        }
        assert_eq!(one.ln_cdf(f64::NEG_INFINITY), f64::NEG_INFINITY);
    }

    #[test]
    fn skew_normal_cdf_symmetry_and_paths_agree() {
        // F(x; ξ, ω, α) + F(2ξ − x; ξ, ω, −α) = 1, and the quadrature path
        // (z < 0) meets the Owen's T path (z ≥ 0) at z = 0.
        for shape in [-7.0, -1.5, 0.3, 2.0, 12.0] {
            let d = SkewNormal::new(3.0, 2.0, shape).unwrap();
            let m = SkewNormal::new(3.0, 2.0, -shape).unwrap();
            for x in [-3.0, 0.5, 2.0, 3.0, 4.5, 9.0] {
                let s = d.cdf(x) + m.cdf(6.0 - x);
                assert!((s - 1.0).abs() < 1e-13, "α={shape}, x={x}: {s}");
            }
            let below = d.cdf(3.0 - 1e-12);
            let at = d.cdf(3.0);
            assert!((below - at).abs() < 1e-11, "α={shape}: {below} vs {at}");
            // The Owen's T formula at a moderate negative z agrees to its own
            // absolute accuracy (for α = 12, F ≈ 1e-16 there: the formula is
            // all cancellation, which is why z < 0 takes the quadrature).
            let z = -0.7;
            let via_t = normal_cdf(z) - 2.0 * owens_t(z, shape);
            let got = d.cdf(3.0 + 2.0 * z);
            assert!((got - via_t).abs() < 2e-16, "α={shape}: {got:e} vs {via_t:e}");
        }
    }

    #[test]
    fn pdf_integrates_to_one() {
        let d = SkewNormal::new(1.0, 0.5, 4.0).unwrap();
        let total = integrate(|x| d.pdf(x), -10.0, 12.0);
        assert!((total - 1.0).abs() < 1e-12, "{total}");
        let mean = integrate(|x| x * d.pdf(x), -10.0, 12.0);
        assert!(close(mean, d.mean(), 1e-12));
    }

    #[test]
    fn moments_fit_matches_sample_moments() {
        // Deterministic right-skewed sample.
        let samples: Vec<f64> = (1..=200).map(|i| (f64::from(i) / 201.0).powi(2) * 10.0).collect();
        let fit = SkewNormal::fit_moments(&samples).unwrap();
        let (mean, m2, skew) = sample_moments(&samples).unwrap();
        assert!(skew.abs() < MOMENT_SKEWNESS_CLIP);
        assert!(close(fit.mean(), mean, 1e-12));
        assert!(close(fit.variance(), m2, 1e-12));
        assert!(close(fit.skewness(), skew, 1e-10));
        // Symmetric data: α = 0, normal.
        let sym = [-2.0, -1.0, 0.0, 1.0, 2.0];
        assert!(SkewNormal::fit_moments(&sym).unwrap().shape.abs() < 1e-12);
        assert!(SkewNormal::fit_moments(&[1.0, 1.0, 1.0]).is_err());
        assert!(SkewNormal::fit_moments(&[1.0, 2.0]).is_err());
        assert!(close(SkewNormal::new(0.0, 1.0, 1e9).unwrap().skewness(), MAX_SKEWNESS, 1e-9));
    }

    #[test]
    fn mle_fit_beats_the_moments_fit() {
        let samples: Vec<f64> = (1..=300)
            .map(|i| {
                let u = f64::from(i) / 301.0;
                20.0 + 3.0 * (-(1.0 - u).ln()).sqrt() * if i % 3 == 0 { 0.5 } else { 1.0 }
            })
            .collect();
        let mle = SkewNormal::fit_mle(&samples).unwrap();
        let mom = SkewNormal::fit_moments(&samples).unwrap();
        assert!(mle.log_likelihood(&samples) >= mom.log_likelihood(&samples) - 1e-9);
        // A local optimum check: nudging any parameter does not improve it.
        let ll = mle.log_likelihood(&samples);
        for (dl, ds, da) in [
            (1e-4, 0.0, 0.0),
            (-1e-4, 0.0, 0.0),
            (0.0, 1e-4, 0.0),
            (0.0, -1e-4, 0.0),
            (0.0, 0.0, 1e-3),
            (0.0, 0.0, -1e-3),
        ] {
            let nudged = SkewNormal::new(mle.location + dl, mle.scale + ds, mle.shape + da).unwrap();
            assert!(nudged.log_likelihood(&samples) <= ll + 1e-9, "{nudged:?} beats {mle:?}");
        }
    }

    #[test]
    fn extrapolated_exposure_and_cap() {
        let refs: Vec<f64> = (1..=500)
            .map(|i| {
                26.0 + 4.0 * crate::special::normal_cdf(0.0) * f64::from(i % 37) / 37.0
                    + f64::from(i % 5) * 0.3
            })
            .collect();
        let e = extrapolated_exposure(5.0, &refs, FitMethod::Moments, None).unwrap();
        assert!(e.exposure > 30.0 && !e.capped, "{e:?}");
        assert_eq!(e.references, 500);
        assert!(e.ks_statistic > 0.0 && e.ks_statistic < 0.2);
        let capped = extrapolated_exposure(5.0, &refs, FitMethod::Moments, Some(1e8)).unwrap();
        assert!(capped.capped && close(capped.exposure, 1e8f64.log2(), 1e-15));
        // A canary in the middle of the references is barely exposed.
        let mid = extrapolated_exposure(28.0, &refs, FitMethod::MaximumLikelihood, Some(1e8)).unwrap();
        assert!(mid.exposure < 2.0, "{mid:?}");
        assert!(extrapolated_exposure(5.0, &refs, FitMethod::Moments, Some(0.5)).is_err());
    }
}
