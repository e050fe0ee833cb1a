//! The audit report: per-probe results aggregated into extraction rates by
//! duplicate count, membership ROC, exposure, the taxonomy and the works the
//! model reproduced, with a plain-language summary for a legal reader.
//! [`html`] renders it as one self-contained page with plots.

pub mod html;
mod summary;

use std::collections::BTreeMap;

use recital_model::ModelInfo;
use serde::{Deserialize, Serialize};

use crate::membership::MembershipMetric;
use crate::probes::{bucket_label, bucket_of, SamplingFrame};
use crate::roc::{bootstrap_auc, required_negatives, roc_auc, roc_curve, tpr_at_fpr, BootstrapConfig};
use crate::run::{AuditConfig, ProbeResult};
use crate::taxonomy::{Category, MemorisationType, MEMORISATION_TYPES};

/// The report's schema identifier.
pub const SCHEMA: &str = "recital.audit/1";

/// A proportion with its 95 % Wilson score interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Rate {
    /// Successes.
    pub k: usize,
    /// Trials.
    pub n: usize,
    /// k / n.
    pub rate: f64,
    /// Lower end of the 95 % Wilson interval.
    pub ci_low: f64,
    /// Upper end.
    pub ci_high: f64,
}

impl Rate {
    /// `k` of `n` (n > 0).
    pub fn new(k: usize, n: usize) -> Self {
        let (kf, nf) = (k as f64, n.max(1) as f64);
        let p = kf / nf;
        let z = 1.959_963_984_540_054_f64;
        let denom = 1.0 + z * z / nf;
        let centre = (p + z * z / (2.0 * nf)) / denom;
        let half = z * (p * (1.0 - p) / nf + z * z / (4.0 * nf * nf)).sqrt() / denom;
        Self { k, n, rate: p, ci_low: (centre - half).max(0.0), ci_high: (centre + half).min(1.0) }
    }
}

/// Results of one duplicate-count bucket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DuplicateBucket {
    /// `1`, `2–3`, `4–7`…
    pub bucket: String,
    /// Smallest duplicate count of the bucket.
    pub min_duplicates: u64,
    /// Largest.
    pub max_duplicates: u64,
    /// Greedy extraction.
    pub extraction: Rate,
    /// Mean memorisation score.
    pub mean_memorisation_score: f64,
    /// Mean LOSS (nats/token).
    pub mean_loss: f64,
    /// Membership AUC of LOSS: this bucket's members against every non-member.
    pub membership_auc: Option<f64>,
    /// Mean rank exposure of this bucket's canaries.
    pub mean_rank_exposure: Option<f64>,
    /// Median extrapolated exposure of this bucket's canaries.
    pub median_extrapolated_exposure: Option<f64>,
}

/// One membership score's power.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MembershipRow {
    /// Metric name (`loss`, `zlib_ratio`, `min_k_percent`, `min_k_plus_plus`, `reference_ratio`).
    pub metric: String,
    /// ROC-AUC, scores oriented so that higher means member.
    pub auc: f64,
    /// 95 % bootstrap interval (1,000 paired resamples, the audit's seed).
    pub auc_ci: Option<(f64, f64)>,
    /// TPR at 1 % FPR, or `None` with the reason in `tpr_note`.
    pub tpr_at_1pct_fpr: Option<f64>,
    /// Why TPR@1%FPR is missing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tpr_note: Option<String>,
    /// ROC curve points (FPR, TPR), thinned to at most 200.
    pub roc: Vec<(f64, f64)>,
}

/// A metric the audit could not compute, and why (research §11: every
/// report says what its access mode leaves out).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OmittedMetric {
    /// Metric name, as in [`MembershipRow::metric`].
    pub metric: String,
    /// Why it is missing.
    pub why: String,
}

/// Membership inference over probes with known membership.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Membership {
    /// Members scored.
    pub members: usize,
    /// Non-members scored.
    pub non_members: usize,
    /// Per metric.
    pub metrics: Vec<MembershipRow>,
    /// What the scores are computed on.
    pub note: String,
}

/// A prefix-length sweep point over the swept probes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepRow {
    /// Prompt tokens.
    pub prefix_tokens: usize,
    /// Extraction at that prompt length.
    pub extraction: Rate,
}

/// Extraction results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Extraction {
    /// Probes that are training text (member or unknown).
    pub overall: Rate,
    /// Mean memorisation score.
    pub mean_memorisation_score: f64,
    /// Probes whose greedy continuation reproduced at least half the suffix tokens in place.
    pub half_memorised: Rate,
    /// Prefix-length sweep, full prompt last.
    pub sweep: Vec<SweepRow>,
    /// Histogram of memorisation scores: 10 bins of width 0.1 (the last includes 1.0).
    pub memorisation_score_histogram: Vec<usize>,
    /// Non-members' extraction (a control: should be ≈ 0).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub non_members: Option<Rate>,
}

/// A memorised sequence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Memorised {
    /// Probe id.
    pub id: String,
    /// Work or document.
    pub work: String,
    /// SPDX licence, if known.
    pub license: Option<String>,
    /// Corpus duplicates.
    pub duplicates: Option<u64>,
    /// Category.
    pub category: Category,
    /// The reproduced text (at most 300 characters).
    pub text: String,
}

/// A work's share of the reproduced text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkRow {
    /// Document id, path or title.
    pub work: String,
    /// Licence.
    pub license: Option<String>,
    /// Rights holder.
    pub holder: Option<String>,
    /// Probes from it.
    pub probes: usize,
    /// Probes extracted.
    pub extracted: usize,
}

/// Taxonomy of the memorised sequences.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Taxonomy {
    /// Counts per category.
    pub counts: BTreeMap<String, usize>,
    /// τ, the recitation threshold.
    pub duplicate_threshold: u64,
    /// What each category means (research §9).
    pub types: Vec<MemorisationType>,
}

/// The audit report (`report.json`).
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Schema identifier.
    pub schema: &'static str,
    /// recital version.
    pub recital_version: String,
    /// When it was made (UTC, RFC 3339).
    pub created: String,
    /// The audited model.
    pub model: ModelInfo,
    /// The reference model, if any.
    pub reference: Option<ModelInfo>,
    /// What the auditor could see.
    pub access: String,
    /// Settings.
    pub config: AuditConfig,
    /// How the probes were obtained.
    pub sampling: SamplingFrame,
    /// Probes run.
    pub probes: usize,
    /// Greedy extraction.
    pub extraction: Extraction,
    /// By duplicate count (probes with a known count, non-members excluded).
    pub by_duplicates: Vec<DuplicateBucket>,
    /// Membership inference, when probes carry membership labels of both kinds.
    pub membership: Option<Membership>,
    /// Membership scores left out of every probe, with the reason (Min-K%++
    /// on an endpoint; the reference ratio without `--reference`).
    pub omitted_metrics: Vec<OmittedMetric>,
    /// Inserted canaries (members) measured for exposure.
    pub canaries: usize,
    /// Median extrapolated exposure of never-inserted canaries (the
    /// baseline: what exposure looks like without training on the secret).
    pub non_member_median_exposure: Option<f64>,
    /// Output side: generated continuations containing a corpus match of at
    /// least `suffix_tokens / 2` corpus tokens.
    pub output_verbatim: Option<Rate>,
    /// Taxonomy of memorised sequences.
    pub taxonomy: Taxonomy,
    /// Works whose text the model reproduced, most first.
    pub works: Vec<WorkRow>,
    /// Memorised sequences (at most 200, most duplicated first).
    pub memorised: Vec<Memorised>,
    /// Plain-language summary, one paragraph per entry.
    pub summary: Vec<String>,
}

fn mean(xs: impl Iterator<Item = f64>) -> Option<f64> {
    let (s, n) = xs.fold((0.0, 0usize), |(s, n), x| (s + x, n + 1));
    (n > 0).then(|| s / n as f64)
}

fn median(mut xs: Vec<f64>) -> Option<f64> {
    if xs.is_empty() {
        return None;
    }
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    Some(if n % 2 == 1 { xs[n / 2] } else { (xs[n / 2 - 1] + xs[n / 2]) / 2.0 })
}

fn work_of(r: &ProbeResult) -> String {
    r.source
        .as_ref()
        .and_then(|s| s.path.clone().or_else(|| s.doc_id.clone()))
        .unwrap_or_else(|| "(unknown source)".into())
}

fn membership(results: &[ProbeResult], config: &AuditConfig) -> Option<Membership> {
    let members: Vec<&ProbeResult> = results.iter().filter(|r| r.member == Some(true)).collect();
    let non: Vec<&ProbeResult> = results.iter().filter(|r| r.member == Some(false)).collect();
    if members.is_empty() || non.is_empty() {
        return None;
    }
    type Getter = fn(&ProbeResult) -> Option<f64>;
    let metrics: [(MembershipMetric, Getter); 5] = [
        (MembershipMetric::Loss, |r| Some(r.loss)),
        (MembershipMetric::ZlibRatio, |r| Some(r.zlib_ratio)),
        (MembershipMetric::MinKPercent, |r| Some(r.min_k_percent)),
        (MembershipMetric::MinKPlusPlus, |r| r.min_k_plus_plus),
        (MembershipMetric::ReferenceRatio, |r| r.reference.as_ref().map(|x| x.ratio)),
    ];
    let mut rows = Vec::new();
    for (metric, get) in metrics {
        let oriented = |v: &[&ProbeResult]| -> Option<Vec<f64>> {
            v.iter().map(|r| get(r).map(|x| metric.oriented(x))).collect::<Option<Vec<f64>>>()
        };
        let (Some(m), Some(n)) = (oriented(&members), oriented(&non)) else { continue };
        let Ok(auc) = roc_auc(&m, &n) else { continue };
        let boot = BootstrapConfig { seed: config.seed, ..Default::default() };
        let auc_ci = bootstrap_auc(&m, &n, &boot).ok().map(|b| (b.ci_low, b.ci_high));
        let (tpr, note) = match tpr_at_fpr(&m, &n, 0.01) {
            Ok(t) => (Some(t), None),
            Err(_) => (
                None,
                Some(format!(
                    "refused: TPR at 1% FPR needs at least {} non-members, there are {}",
                    required_negatives(0.01),
                    n.len()
                )),
            ),
        };
        let roc = roc_curve(&m, &n)
            .map(|c| {
                let pts: Vec<(f64, f64)> = c.points.iter().map(|p| (p.fpr, p.tpr)).collect();
                let step = pts.len().div_ceil(200).max(1);
                let mut thin: Vec<(f64, f64)> = pts.iter().step_by(step).copied().collect();
                if let Some(&last) = pts.last() {
                    if thin.last() != Some(&last) {
                        thin.push(last);
                    }
                }
                thin
            })
            .unwrap_or_default();
        rows.push(MembershipRow {
            metric: metric.name().into(),
            auc,
            auc_ci,
            tpr_at_1pct_fpr: tpr,
            tpr_note: note,
            roc,
        });
    }
    Some(Membership {
        members: members.len(),
        non_members: non.len(),
        metrics: rows,
        note: "scores of the true continuation given the prompt; higher-is-member orientation; ties count ½ (Mann–Whitney)"
            .into(),
    })
}

/// Why Min-K%++ is missing on a model of this access.
pub const MIN_K_PLUS_PLUS_NEEDS: &str = "Min-K%++ needs the full next-token distribution (the mean and standard deviation \
     of log p over the whole vocabulary at every position); an endpoint gives the log-probability of each token and the \
     top-k alternatives at most";

/// Membership scores no probe has, with the reason.
fn omitted_metrics(results: &[ProbeResult], model: &ModelInfo) -> Vec<OmittedMetric> {
    let mut out = Vec::new();
    if !results.is_empty() && results.iter().all(|r| r.min_k_plus_plus.is_none()) {
        let why = match model.access {
            recital_model::Access::TokenLogprobs => MIN_K_PLUS_PLUS_NEEDS.to_string(),
            recital_model::Access::FullDistribution => {
                "every probe had a one-hot next-token distribution at some position, where the Min-K%++ z-score is \
                 undefined"
                    .to_string()
            }
        };
        out.push(OmittedMetric { metric: MembershipMetric::MinKPlusPlus.name().into(), why });
    }
    if !results.is_empty() && results.iter().all(|r| r.reference.is_none()) {
        out.push(OmittedMetric {
            metric: MembershipMetric::ReferenceRatio.name().into(),
            why: "no reference model was given (--reference)".into(),
        });
    }
    out
}

fn by_duplicates(results: &[ProbeResult]) -> Vec<DuplicateBucket> {
    let non_loss: Vec<f64> = results.iter().filter(|r| r.member == Some(false)).map(|r| -r.loss).collect();
    let mut groups: BTreeMap<(u64, u64), Vec<&ProbeResult>> = BTreeMap::new();
    for r in results.iter().filter(|r| r.member != Some(false)) {
        if let Some(d) = r.duplicates {
            groups.entry(bucket_of(d.max(1))).or_default().push(r);
        }
    }
    groups
        .into_iter()
        .map(|((lo, hi), v)| {
            let k = v.iter().filter(|r| r.extracted).count();
            let member_loss: Vec<f64> =
                v.iter().filter(|r| r.member == Some(true)).map(|r| -r.loss).collect();
            let exposures: Vec<&crate::run::ExposureResult> =
                v.iter().filter_map(|r| r.exposure.as_ref()).collect();
            DuplicateBucket {
                bucket: bucket_label(lo),
                min_duplicates: lo,
                max_duplicates: hi,
                extraction: Rate::new(k, v.len()),
                mean_memorisation_score: mean(v.iter().map(|r| r.memorisation_score)).unwrap_or(0.0),
                mean_loss: mean(v.iter().map(|r| r.loss)).unwrap_or(0.0),
                membership_auc: if member_loss.is_empty() || non_loss.is_empty() {
                    None
                } else {
                    roc_auc(&member_loss, &non_loss).ok()
                },
                mean_rank_exposure: mean(exposures.iter().map(|e| e.rank_exposure)),
                median_extrapolated_exposure: median(
                    exposures.iter().filter_map(|e| e.extrapolated).collect(),
                ),
            }
        })
        .collect()
}

/// Aggregates per-probe results.
pub fn build(
    results: &[ProbeResult],
    model: &ModelInfo,
    reference: Option<&ModelInfo>,
    config: &AuditConfig,
    sampling: &SamplingFrame,
    created: String,
) -> Report {
    let training: Vec<&ProbeResult> = results.iter().filter(|r| r.member != Some(false)).collect();
    let non: Vec<&ProbeResult> = results.iter().filter(|r| r.member == Some(false)).collect();
    let extracted = training.iter().filter(|r| r.extracted).count();
    let mut hist = vec![0usize; 10];
    for r in &training {
        hist[((r.memorisation_score * 10.0) as usize).min(9)] += 1;
    }
    let mut sweep: BTreeMap<usize, (usize, usize)> = BTreeMap::new();
    for r in &training {
        for s in &r.sweep {
            let e = sweep.entry(s.prefix_tokens).or_default();
            e.0 += usize::from(s.extracted);
            e.1 += 1;
        }
    }
    let swept: Vec<&&ProbeResult> = training.iter().filter(|r| !r.sweep.is_empty()).collect();
    let mut sweep_rows: Vec<SweepRow> = sweep
        .into_iter()
        .map(|(k, (e, n))| SweepRow { prefix_tokens: k, extraction: Rate::new(e, n) })
        .collect();
    if !swept.is_empty() {
        let full = swept.iter().filter(|r| r.extracted).count();
        let k = swept.iter().map(|r| r.prefix_tokens).max().unwrap_or(0);
        sweep_rows.push(SweepRow { prefix_tokens: k, extraction: Rate::new(full, swept.len()) });
    }
    let extraction = Extraction {
        overall: Rate::new(extracted, training.len()),
        mean_memorisation_score: mean(training.iter().map(|r| r.memorisation_score)).unwrap_or(0.0),
        half_memorised: Rate::new(
            training.iter().filter(|r| r.memorisation_score >= 0.5).count(),
            training.len(),
        ),
        sweep: sweep_rows,
        memorisation_score_histogram: hist,
        non_members: (!non.is_empty())
            .then(|| Rate::new(non.iter().filter(|r| r.extracted).count(), non.len())),
    };
    let mut counts: BTreeMap<String, usize> =
        MEMORISATION_TYPES.iter().map(|t| (t.name.to_string(), 0usize)).collect();
    let mut memorised = Vec::new();
    for r in &training {
        if let Some(c) = &r.classification {
            *counts.entry(c.category.memorisation_type().name.to_string()).or_default() += 1;
            let text: String = r.suffix.chars().take(300).collect();
            memorised.push(Memorised {
                id: r.id.clone(),
                work: work_of(r),
                license: r.source.as_ref().and_then(|s| s.license.clone()),
                duplicates: r.duplicates,
                category: c.category,
                text,
            });
        }
    }
    memorised.sort_by(|a, b| b.duplicates.cmp(&a.duplicates).then(a.id.cmp(&b.id)));
    memorised.truncate(200);
    let mut works: BTreeMap<String, WorkRow> = BTreeMap::new();
    for r in &training {
        let w = works.entry(work_of(r)).or_insert_with(|| WorkRow {
            work: work_of(r),
            license: r.source.as_ref().and_then(|s| s.license.clone()),
            holder: r.source.as_ref().and_then(|s| s.holder.clone()),
            probes: 0,
            extracted: 0,
        });
        w.probes += 1;
        w.extracted += usize::from(r.extracted);
    }
    let mut works: Vec<WorkRow> = works.into_values().filter(|w| w.extracted > 0).collect();
    works.sort_by(|a, b| b.extracted.cmp(&a.extracted).then(a.work.cmp(&b.work)));
    let with_match: Vec<&&ProbeResult> = training.iter().filter(|r| r.output_match.is_some()).collect();
    let output_verbatim = (!with_match.is_empty()).then(|| {
        let long = with_match
            .iter()
            .filter(|r| r.output_match.as_ref().is_some_and(|m| m.tokens * 2 >= r.suffix_tokens.max(2)))
            .count();
        Rate::new(long, with_match.len())
    });
    let mut report = Report {
        schema: SCHEMA,
        recital_version: env!("CARGO_PKG_VERSION").into(),
        created,
        model: model.clone(),
        reference: reference.cloned(),
        access: model.access.describe(),
        config: config.clone(),
        sampling: sampling.clone(),
        probes: results.len(),
        extraction,
        by_duplicates: by_duplicates(results),
        membership: membership(results, config),
        omitted_metrics: omitted_metrics(results, model),
        canaries: results.iter().filter(|r| r.exposure.is_some() && r.member != Some(false)).count(),
        non_member_median_exposure: median(
            results
                .iter()
                .filter(|r| r.member == Some(false))
                .filter_map(|r| r.exposure.as_ref()?.extrapolated)
                .collect(),
        ),
        output_verbatim,
        taxonomy: Taxonomy {
            counts,
            duplicate_threshold: config.taxonomy.duplicate_threshold,
            types: MEMORISATION_TYPES.to_vec(),
        },
        works,
        memorised,
        summary: vec![],
    };
    report.summary = summary::write(&report);
    report
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::ProbeResult;

    #[test]
    fn wilson_interval_by_hand() {
        // 0 of 10: upper end z²/(n+z²) = 3.8415/13.8415.
        let r = Rate::new(0, 10);
        assert_eq!(r.ci_low, 0.0);
        assert!((r.ci_high - 0.277_533).abs() < 1e-5, "{}", r.ci_high);
        // 5 of 10: symmetric around 0.5; statsmodels proportion_confint(5, 10, method="wilson") = (0.2366, 0.7634).
        let r = Rate::new(5, 10);
        assert!((r.ci_low - 0.236_593).abs() < 1e-5 && (r.ci_high - 0.763_407).abs() < 1e-5, "{r:?}");
    }

    fn result(id: usize, member: Option<bool>, dup: u64, extracted: bool, loss: f64) -> ProbeResult {
        ProbeResult {
            id: format!("p{id}"),
            member,
            duplicates: Some(dup),
            source: None,
            prefix_tokens: 4,
            suffix_tokens: 4,
            suffix: "a b c d".into(),
            generated: "a b c d".into(),
            extracted,
            memorisation_score: if extracted { 1.0 } else { 0.25 },
            lcs_ratio: 1.0,
            rouge_l: 1.0,
            loss,
            zlib_ratio: 1.0 / loss,
            min_k_percent: -loss,
            min_k_plus_plus: None,
            reference: None,
            exposure: None,
            output_match: None,
            sweep: vec![],
            classification: None,
        }
    }

    #[test]
    fn aggregates_by_bucket_and_refuses_unsupported_tpr() {
        let mut rs = Vec::new();
        for i in 0..10 {
            rs.push(result(i, Some(true), 1, false, 3.0 + i as f64 * 0.1));
            rs.push(result(100 + i, Some(true), 40, i < 8, 0.5));
            rs.push(result(200 + i, Some(false), 0, false, 1.0 + i as f64 * 0.1));
        }
        let info = ModelInfo {
            source: "m".into(),
            backend: "test".into(),
            architecture: "t".into(),
            access: recital_model::Access::TokenLogprobs,
            parameters: None,
            vocab_size: 10,
            context_length: 16,
            tokenizer_sha256: None,
            weights_sha256: None,
            weights_digest_kind: None,
            device: None,
            dtype: None,
            scoring: None,
        };
        let r = build(&rs, &info, None, &AuditConfig::default(), &SamplingFrame::default(), "now".into());
        assert_eq!(r.by_duplicates.len(), 2);
        assert_eq!(r.by_duplicates[0].bucket, "1");
        assert_eq!(r.by_duplicates[1].bucket, "32–63");
        assert_eq!(r.by_duplicates[1].extraction.k, 8);
        assert_eq!(r.extraction.overall.k, 8);
        assert_eq!(r.extraction.overall.n, 20, "non-members are not training text");
        assert_eq!(r.extraction.non_members.unwrap().n, 10);
        // Members at one copy have higher LOSS than every non-member: AUC 0 for that bucket.
        assert_eq!(r.by_duplicates[0].membership_auc, Some(0.0));
        assert_eq!(r.by_duplicates[1].membership_auc, Some(1.0));
        let m = r.membership.unwrap();
        let loss = m.metrics.iter().find(|x| x.metric == "loss").unwrap();
        assert!(
            loss.tpr_at_1pct_fpr.is_none() && loss.tpr_note.as_deref().unwrap().contains("100 non-members")
        );
        assert!(m.metrics.iter().all(|x| x.metric != "min_k_plus_plus"), "no μ/σ, no Min-K%++");
        // …and the report says why, in report.json and in the summary.
        let why = r.omitted_metrics.iter().find(|o| o.metric == "min_k_plus_plus").unwrap();
        assert!(why.why.contains("full next-token distribution") && why.why.contains("top-k"), "{why:?}");
        assert!(r.omitted_metrics.iter().any(|o| o.metric == "reference_ratio"));
        assert!(r.summary.iter().any(|p| p.contains("Min-K%++ needs the full")), "{:?}", r.summary);
        assert!(r.summary.iter().any(|p| p.contains("8 of 20")), "{:?}", r.summary);
    }
}
