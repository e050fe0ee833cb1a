//! Running an audit: every probe through the model (and the reference
//! model), every metric of research §12 per probe, written as it completes
//! to `results.jsonl` so that an interrupted audit resumes where it stopped.

use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Mutex};

use recital_index::{Index, Query, Stream};
use recital_model::{Decoding, LanguageModel};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{AuditError, Result};
use crate::exposure::{extrapolated_exposure, log_perplexity_bits, rank_exposure, FitMethod, TieRule};
use crate::extraction::{is_extractable, lcs_ratio, memorisation_score, rouge_l};
use crate::membership::{self, DEFAULT_MIN_K};
use crate::probes::{Probe, ProbeSource, ProbeText};
use crate::rng::Xoshiro256;
use crate::taxonomy::{classify, Classification, SequenceEvidence, TaxonomyConfig};

/// Settings of an audit run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuditConfig {
    /// Prompt tokens k of sampled probes.
    pub prefix_tokens: usize,
    /// Continuation tokens ℓ of sampled probes.
    pub suffix_tokens: usize,
    /// Alternatives each canary is ranked against (exposure).
    pub exposure_references: usize,
    /// k of Min-K% and Min-K%++ (fraction of tokens).
    pub min_k: f64,
    /// Seed of everything random in the run.
    pub seed: u64,
    /// Shorter prompt lengths tried on the first `sweep_probes` probes.
    pub sweep: Vec<usize>,
    /// How many probes get the prefix-length sweep.
    pub sweep_probes: usize,
    /// Probes in flight at once (endpoints); local models run one at a time.
    pub concurrency: usize,
    /// Taxonomy thresholds.
    pub taxonomy: TaxonomyConfig,
}

impl Default for AuditConfig {
    fn default() -> Self {
        Self {
            prefix_tokens: 32,
            suffix_tokens: 32,
            exposure_references: 1000,
            min_k: DEFAULT_MIN_K,
            seed: 0,
            sweep: vec![8, 16],
            sweep_probes: 200,
            concurrency: 1,
            taxonomy: TaxonomyConfig::default(),
        }
    }
}

/// Exposure of one canary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExposureResult {
    /// The canary's log-perplexity Px in bits.
    pub px_bits: f64,
    /// Rank among the alternatives (1 = most likely).
    pub rank: usize,
    /// `log₂ m − log₂ rank`.
    pub rank_exposure: f64,
    /// `log₂ m`, the most rank exposure can show.
    pub rank_exposure_max: f64,
    /// Skew-normal extrapolated exposure, capped at `log₂|R|` (None when the fit failed).
    pub extrapolated: Option<f64>,
    /// Kolmogorov–Smirnov statistic of the fit.
    pub fit_ks: Option<f64>,
    /// `log₂|R|`.
    pub space_bits: f64,
}

/// The longest stretch of the generated text found verbatim in the corpus.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutputMatch {
    /// Its length in corpus tokens.
    pub tokens: usize,
    /// Its occurrences in the corpus.
    pub count: u64,
}

/// One point of the prefix-length sweep.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SweepResult {
    /// Prompt tokens given.
    pub prefix_tokens: usize,
    /// Whether the suffix came out exactly.
    pub extracted: bool,
}

/// Reference-model results of one probe.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReferenceResult {
    /// The reference's LOSS on the suffix.
    pub loss: f64,
    /// Reference ratio `LOSS_ref ÷ LOSS_target` (Carlini et al. 2021,
    /// research §12.8; higher means member).
    pub ratio: f64,
    /// Whether the reference model also extracts the suffix.
    pub extracted: bool,
}

/// Every measurement of one probe.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProbeResult {
    /// Probe id.
    pub id: String,
    /// Ground-truth membership, if known.
    pub member: Option<bool>,
    /// Corpus duplicates of the probed sequence, if known.
    pub duplicates: Option<u64>,
    /// Provenance.
    pub source: Option<ProbeSource>,
    /// Prompt tokens.
    pub prefix_tokens: usize,
    /// True continuation tokens.
    pub suffix_tokens: usize,
    /// The true continuation.
    pub suffix: String,
    /// The greedy continuation (as many tokens as the suffix).
    pub generated: String,
    /// k-extractable: the greedy continuation equals the suffix.
    pub extracted: bool,
    /// Biderman's memorisation score (fraction of positions matching).
    pub memorisation_score: f64,
    /// LCS of generated and true suffix ÷ suffix length.
    pub lcs_ratio: f64,
    /// ROUGE-L F1 of generated against true suffix.
    pub rouge_l: f64,
    /// LOSS of the suffix given the prefix (nats/token; lower = member).
    pub loss: f64,
    /// zlib ratio (higher = member).
    pub zlib_ratio: f64,
    /// Min-K% (higher = member).
    pub min_k_percent: f64,
    /// Min-K%++ (white-box only; higher = member).
    pub min_k_plus_plus: Option<f64>,
    /// Reference-model results.
    pub reference: Option<ReferenceResult>,
    /// Canary exposure.
    pub exposure: Option<ExposureResult>,
    /// Output side: the longest verbatim corpus match in the generated text.
    pub output_match: Option<OutputMatch>,
    /// Prefix-length sweep.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sweep: Vec<SweepResult>,
    /// Taxonomy of an extracted sequence.
    pub classification: Option<Classification>,
}

/// What an audit runs against.
pub struct Subject<'a> {
    /// The audited model.
    pub model: &'a dyn LanguageModel,
    /// A reference model (never trained on the corpus), if any.
    pub reference: Option<&'a dyn LanguageModel>,
    /// The training corpus index, if any.
    pub index: Option<&'a Index>,
}

/// A probe's prefix and suffix ids: the sampler's when it cut them, else
/// the probe's text tokenised as one and split at the prompt's boundary.
fn ids_of(model: &dyn LanguageModel, probe: &Probe, text: &ProbeText) -> Result<(Vec<u32>, Vec<u32>)> {
    match (&probe.prefix_ids, &probe.suffix_ids) {
        (Some(p), Some(s)) => Ok((p.clone(), s.clone())),
        _ => text.encode(model),
    }
}

fn output_match(index: &Index, text: &str) -> Option<OutputMatch> {
    let q = Query::text(text);
    let lens = index.match_lengths(Stream::Text, &q.tokens);
    let (at, &len) = lens.iter().enumerate().max_by_key(|(i, l)| (**l, std::cmp::Reverse(*i)))?;
    if len == 0 {
        return Some(OutputMatch { tokens: 0, count: 0 });
    }
    let count = index.count_tokens(Stream::Text, &q.tokens[at..at + len as usize]);
    Some(OutputMatch { tokens: len as usize, count })
}

/// Measures one probe.
pub fn measure(
    subject: &Subject<'_>,
    probe: &Probe,
    config: &AuditConfig,
    probe_no: usize,
) -> Result<ProbeResult> {
    let model = subject.model;
    let text = ProbeText::of(model, probe)?;
    let (prefix, suffix) =
        ids_of(model, probe, &text).map_err(|e| AuditError::Input(format!("probe {}: {e}", probe.id)))?;
    if prefix.is_empty() || suffix.is_empty() {
        return Err(AuditError::Input(format!("probe {}: prefix or suffix has no tokens", probe.id)));
    }
    let gen = model.generate(&prefix, suffix.len(), Decoding::Greedy)?;
    let generated = model.decode(&gen.tokens)?;
    let extracted = is_extractable(&gen.tokens, &suffix);
    let scored = model.score(&prefix, &suffix)?;
    let lp = &scored.log_probs;
    let loss = membership::loss(lp)?;
    let min_k_plus_plus = match &scored.stats {
        Some(stats) => {
            let stats: Vec<membership::NextTokenStats> =
                stats.iter().map(|s| membership::NextTokenStats { mu: s.mean, sigma: s.std }).collect();
            membership::min_k_plus_plus(lp, &stats, config.min_k).ok()
        }
        None => None,
    };
    let reference = match subject.reference {
        Some(r) => {
            let (rp, rs) = text
                .encode(r)
                .map_err(|e| AuditError::Input(format!("probe {} (reference model): {e}", probe.id)))?;
            let rscored = r.score(&rp, &rs)?;
            let rloss = membership::loss(&rscored.log_probs)?;
            let rgen = if extracted { r.generate(&rp, rs.len(), Decoding::Greedy)?.tokens } else { vec![] };
            Some(ReferenceResult {
                loss: rloss,
                ratio: membership::reference_ratio(lp, &rscored.log_probs)?,
                extracted: extracted && is_extractable(&rgen, &rs),
            })
        }
        None => None,
    };
    let exposure = match &probe.secret {
        Some(space) if config.exposure_references > 0 => {
            // Alternatives are distinct from the canary, so the space must hold enough of them
            // (a space of one secret would otherwise never finish drawing).
            if space.size() - 1.0 < config.exposure_references as f64 {
                return Err(AuditError::Input(format!(
                    "probe {}: a secret space of {} cannot supply {} alternatives; lower --exposure-references",
                    probe.id,
                    space.size(),
                    config.exposure_references
                )));
            }
            let mut rng =
                Xoshiro256::seed_from_u64(config.seed ^ (probe_no as u64).wrapping_mul(0x9E37_79B9));
            let mut alts = Vec::with_capacity(config.exposure_references);
            // Alternatives are tokenised in the canary's context, as the canary is.
            let canary = space.secret_of(&probe.suffix);
            while alts.len() < config.exposure_references {
                let s = space.draw_like(text.suffix(), &mut rng);
                if space.secret_of(&s) != canary {
                    alts.push(text.encode_suffix_after(model, &prefix, &s)?);
                }
            }
            let refs: Vec<f64> = model
                .score_many(&prefix, &alts)?
                .iter()
                .map(|s| log_perplexity_bits(&s.log_probs))
                .collect::<Result<_>>()?;
            let px = log_perplexity_bits(lp)?;
            let rank = rank_exposure(px, &refs, TieRule::default())?;
            let extra =
                extrapolated_exposure(px, &refs, FitMethod::MaximumLikelihood, Some(space.size())).ok();
            Some(ExposureResult {
                px_bits: px,
                rank: rank.rank,
                rank_exposure: rank.exposure,
                rank_exposure_max: rank.max_exposure,
                extrapolated: extra.map(|e| e.exposure),
                fit_ks: extra.map(|e| e.ks_statistic),
                space_bits: space.size().log2(),
            })
        }
        _ => None,
    };
    let mut sweep = Vec::new();
    if probe_no < config.sweep_probes {
        for &k in &config.sweep {
            if k > 0 && k < prefix.len() {
                let g = model.generate(&prefix[prefix.len() - k..], suffix.len(), Decoding::Greedy)?;
                sweep.push(SweepResult { prefix_tokens: k, extracted: is_extractable(&g.tokens, &suffix) });
            }
        }
    }
    let duplicates =
        probe.duplicates.or_else(|| subject.index.map(|ix| crate::probes::corpus_count(ix, text.text())));
    let classification = extracted.then(|| {
        classify(
            &SequenceEvidence {
                tokens: &suffix,
                text: &probe.suffix,
                duplicate_count: duplicates.unwrap_or(0),
                reference_model_extracts: reference.as_ref().is_some_and(|r| r.extracted),
            },
            &config.taxonomy,
        )
    });
    Ok(ProbeResult {
        id: probe.id.clone(),
        member: probe.member,
        duplicates,
        source: probe.source.clone(),
        prefix_tokens: prefix.len(),
        suffix_tokens: suffix.len(),
        suffix: probe.suffix.clone(),
        generated: generated.clone(),
        extracted,
        memorisation_score: memorisation_score(&gen.tokens, &suffix)?,
        lcs_ratio: lcs_ratio(&gen.tokens, &suffix).unwrap_or(0.0),
        rouge_l: rouge_l(&gen.tokens, &suffix).f_measure,
        loss,
        zlib_ratio: membership::zlib_ratio(&probe.suffix, lp)?,
        min_k_percent: membership::min_k_percent(lp, config.min_k)?,
        min_k_plus_plus,
        reference,
        exposure,
        output_match: subject.index.and_then(|ix| output_match(ix, &generated)),
        sweep,
        classification,
    })
}

/// The identity of a run: model, reference, probes and settings. Results in
/// an audit directory are reused only under the same fingerprint.
pub fn fingerprint(subject: &Subject<'_>, probes: &[Probe], config: &AuditConfig) -> String {
    let mut h = Sha256::new();
    // How probes become token ids and counts: results of an audit that
    // tokenised prefix and suffix apart (before issue 16) are not reused.
    h.update(b"probe-text/2\n");
    let info = |m: &dyn LanguageModel| {
        let i = m.info();
        format!("{}|{}|{:?}|{:?}", i.source, i.backend, i.weights_sha256, i.tokenizer_sha256)
    };
    h.update(info(subject.model));
    if let Some(r) = subject.reference {
        h.update(info(r));
    }
    h.update(serde_json::to_vec(config).unwrap_or_default());
    for p in probes {
        h.update(serde_json::to_vec(p).unwrap_or_default());
    }
    hex::encode(h.finalize())
}

#[derive(Serialize, Deserialize)]
struct RunStamp {
    fingerprint: String,
    probes: usize,
}

/// Runs every probe not already in `out/results.jsonl` (same fingerprint),
/// appending each result as it completes; returns all results in probe
/// order. `on_progress(done, total)` is called after each probe.
pub fn run(
    subject: &Subject<'_>,
    probes: &[Probe],
    config: &AuditConfig,
    out: &Path,
    on_progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<Vec<ProbeResult>> {
    if probes.is_empty() {
        return Err(AuditError::Input("no probes to run".into()));
    }
    std::fs::create_dir_all(out).map_err(|e| AuditError::io(out, e))?;
    let fp = fingerprint(subject, probes, config);
    let stamp_path = out.join("run.json");
    let results_path = out.join("results.jsonl");
    let mut done: HashMap<String, ProbeResult> = HashMap::new();
    if let Ok(bytes) = std::fs::read(&stamp_path) {
        let stamp: RunStamp = serde_json::from_slice(&bytes)
            .map_err(|e| AuditError::Input(format!("{}: {e}", stamp_path.display())))?;
        if stamp.fingerprint != fp {
            return Err(AuditError::Input(format!(
                "{} holds results of a different audit (model, probes or settings differ); choose another --out or delete it",
                out.display()
            )));
        }
        done = read_results(&results_path)?;
    } else {
        let stamp = serde_json::to_vec_pretty(&RunStamp { fingerprint: fp, probes: probes.len() })
            .map_err(|e| AuditError::Input(e.to_string()))?;
        write_atomic(&stamp_path, &stamp)?;
        let _ = std::fs::remove_file(&results_path);
    }
    if !done.is_empty() {
        tracing::info!(
            reused = done.len(),
            total = probes.len(),
            "resuming audit from {}",
            results_path.display()
        );
    }
    // Rewrite the file with only complete lines, then append.
    let mut file = std::fs::File::create(&results_path).map_err(|e| AuditError::io(&results_path, e))?;
    for p in probes {
        if let Some(r) = done.get(&p.id) {
            writeln!(file, "{}", serde_json::to_string(r).unwrap_or_default())
                .map_err(|e| AuditError::io(&results_path, e))?;
        }
    }
    let todo: Vec<usize> = (0..probes.len()).filter(|&i| !done.contains_key(&probes[i].id)).collect();
    let total = probes.len();
    let finished = AtomicUsize::new(done.len());
    on_progress(done.len(), total);
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let first_error: Mutex<Option<AuditError>> = Mutex::new(None);
    let (tx, rx) = mpsc::channel::<ProbeResult>();
    let workers = config.concurrency.max(1).min(todo.len().max(1));
    std::thread::scope(|scope| -> Result<()> {
        for _ in 0..workers {
            let tx = tx.clone();
            let (next, failed, first_error, todo) = (&next, &failed, &first_error, &todo);
            scope.spawn(move || loop {
                if failed.load(Ordering::Relaxed) {
                    break;
                }
                let k = next.fetch_add(1, Ordering::Relaxed);
                let Some(&i) = todo.get(k) else { break };
                match measure(subject, &probes[i], config, i) {
                    Ok(r) => {
                        if tx.send(r).is_err() {
                            break;
                        }
                    }
                    Err(e) => {
                        failed.store(true, Ordering::Relaxed);
                        let e = match e {
                            AuditError::Input(m) => AuditError::Input(m),
                            other => AuditError::Input(format!("probe {}: {other}", probes[i].id)),
                        };
                        first_error.lock().unwrap_or_else(|p| p.into_inner()).get_or_insert(e);
                        break;
                    }
                }
            });
        }
        drop(tx);
        for r in rx {
            writeln!(file, "{}", serde_json::to_string(&r).unwrap_or_default())
                .and_then(|_| file.flush())
                .map_err(|e| AuditError::io(&results_path, e))?;
            done.insert(r.id.clone(), r);
            on_progress(finished.fetch_add(1, Ordering::Relaxed) + 1, total);
        }
        Ok(())
    })?;
    if let Some(e) = first_error.into_inner().unwrap_or_else(|p| p.into_inner()) {
        return Err(e);
    }
    file.sync_all().map_err(|e| AuditError::io(&results_path, e))?;
    Ok(probes.iter().filter_map(|p| done.remove(&p.id)).collect())
}

/// The complete results of an earlier run, by probe id (none when the file
/// does not exist). A line cut short by an interruption is skipped, and its
/// probe redone. Numbers read back are the numbers written, bit for bit
/// (serde_json's `float_roundtrip`): a resumed audit reports what an
/// uninterrupted one does.
fn read_results(path: &Path) -> Result<HashMap<String, ProbeResult>> {
    let mut done = HashMap::new();
    let Ok(f) = std::fs::File::open(path) else { return Ok(done) };
    for line in std::io::BufReader::new(f).lines() {
        let line = line.map_err(|e| AuditError::io(path, e))?;
        if let Ok(r) = serde_json::from_str::<ProbeResult>(&line) {
            done.insert(r.id.clone(), r);
        }
    }
    Ok(done)
}

/// Writes a file under a temporary name, then renames it into place.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp: PathBuf = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).map_err(|e| AuditError::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| AuditError::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(id: &str, loss: f64) -> ProbeResult {
        ProbeResult {
            id: id.into(),
            member: Some(true),
            duplicates: Some(3),
            source: None,
            prefix_tokens: 8,
            suffix_tokens: 8,
            suffix: "w9 w10".into(),
            generated: "w9 w10".into(),
            extracted: true,
            memorisation_score: 1.0,
            lcs_ratio: 1.0,
            rouge_l: 1.0,
            loss,
            zlib_ratio: 37.0 / loss,
            min_k_percent: -loss * 1.7,
            min_k_plus_plus: Some(loss.sqrt()),
            reference: None,
            exposure: None,
            output_match: None,
            sweep: vec![],
            classification: None,
        }
    }

    /// Without serde_json's `float_roundtrip`, about one f64 in nine reads
    /// back one ulp off; these four do (found by a seeded search).
    #[test]
    fn resumed_results_are_bit_identical() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("results.jsonl");
        let losses = [10.317529449369799, 0.41976141852037996, 11.828288335594435, 3.9512434809257844];
        let written: Vec<ProbeResult> =
            losses.iter().enumerate().map(|(i, &l)| result(&format!("p{i}"), l)).collect();
        let mut text = String::new();
        for r in &written {
            text.push_str(&serde_json::to_string(r).unwrap());
            text.push('\n');
        }
        text.push_str("{\"id\": \"cut sho"); // an interrupted last line
        std::fs::write(&path, text).unwrap();
        let read = read_results(&path).unwrap();
        assert_eq!(read.len(), written.len());
        for w in &written {
            let r = &read[&w.id];
            for (a, b) in [
                (r.loss, w.loss),
                (r.zlib_ratio, w.zlib_ratio),
                (r.min_k_percent, w.min_k_percent),
                (r.min_k_plus_plus.unwrap(), w.min_k_plus_plus.unwrap()),
            ] {
                assert_eq!(a.to_bits(), b.to_bits(), "wrote {b:?}, read back {a:?}");
            }
        }
        assert!(read_results(&dir.path().join("absent.jsonl")).unwrap().is_empty());
    }
}
