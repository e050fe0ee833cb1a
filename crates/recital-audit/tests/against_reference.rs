//! recital-audit's metrics against the reference formulas run in Python
//! (`tests/reference.py`): sklearn's `roc_auc_score`/`roc_curve`,
//! `scipy.stats.skewnorm` (CDF, log-density, MLE fit, `kstest`),
//! `scipy.special.owens_t`/`log_ndtr`, CPython's `zlib` and `math.erfc`, the
//! mink-plus-plus / MIMIR formulas in numpy, CoTaEval's ACS and rouge_score's
//! formulas, on seeded random inputs.
//!
//! The interpreter is `$RECITAL_AUDIT_PYTHON` if set, otherwise the first of
//! `python3`, `/usr/bin/python3`, `/usr/local/bin/python3`, `python` that has
//! numpy, scipy and sklearn (then numpy and scipy, then any that runs). With
//! none of them the script computes every reference except the MLE fit in
//! pure Python and says so. The test fails when no Python can be found unless
//! `RECITAL_AUDIT_SKIP_PYTHON=1` says to skip it; `RECITAL_AUDIT_REQUIRE_SCIPY=1`
//! makes a missing scipy a failure.

use std::io::Write;
use std::process::{Command, Stdio};

use recital_audit::exposure::{extrapolated_exposure, rank_exposure, FitMethod, SkewNormal, TieRule};
use recital_audit::extraction::{
    accumulated_common_substrings, longest_common_subsequence, longest_common_substring, memorisation_score,
    rouge_1, rouge_l,
};
use recital_audit::membership::{
    min_k_percent, min_k_plus_plus, next_token_stats, zlib_compressed_len, zlib_ratio_from_parts,
    NextTokenStats,
};
use recital_audit::rng::Xoshiro256;
use recital_audit::roc::{
    fpr_at_tpr, percentile_interval, quantile_sorted, required_negatives, roc_auc, roc_curve, tpr_at_fpr,
};
use recital_audit::special::{erfc, normal_cdf, normal_ln_cdf, owens_t};
use recital_audit::AuditError;
use serde_json::{json, Value};

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/reference.py");

/// Python interpreters to try, best first.
fn find_python() -> Option<String> {
    if let Ok(p) = std::env::var("RECITAL_AUDIT_PYTHON") {
        return Some(p);
    }
    let candidates = ["python3", "/usr/bin/python3", "/usr/local/bin/python3", "python"];
    let works = |py: &str, code: &str| {
        Command::new(py)
            .args(["-c", code])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
    };
    for probe in ["import numpy, scipy, sklearn", "import numpy, scipy", "import json, zlib, math"] {
        if let Some(py) = candidates.iter().find(|py| works(py, probe)) {
            return Some((*py).to_string());
        }
    }
    None
}

fn run_reference(python: &str, cases: &[Value]) -> Value {
    let mut child = Command::new(python)
        .arg(SCRIPT)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {python} {SCRIPT}: {e}"));
    let input = serde_json::to_vec(&json!({ "cases": cases })).unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(
        output.status.success(),
        "{python} {SCRIPT} failed: {}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        let text = String::from_utf8_lossy(&output.stdout);
        let at = e.column().saturating_sub(200);
        let context: String = text.chars().skip(at).take(400).collect();
        panic!("{SCRIPT} wrote invalid JSON ({e}) near: {context}")
    })
}

// --- seeded random inputs ---------------------------------------------------

struct Gen(Xoshiro256);

impl Gen {
    fn uniform(&mut self) -> f64 {
        self.0.next_f64()
    }
    fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.0.index(hi - lo + 1)
    }
    /// Standard normal by Box–Muller.
    fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.uniform();
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
    /// Skew-normal by Azzalini's representation δ|U₀| + √(1−δ²) U₁.
    fn skew_normal(&mut self, loc: f64, scale: f64, shape: f64) -> f64 {
        let delta = shape / (1.0 + shape * shape).sqrt();
        let (u0, u1) = (self.normal(), self.normal());
        loc + scale * (delta * u0.abs() + (1.0 - delta * delta).sqrt() * u1)
    }
    fn log_probs(&mut self, n: usize) -> Vec<f64> {
        (0..n)
            .map(|_| {
                let u = 1.0 - self.uniform();
                if self.uniform() < 0.05 {
                    -20.0 * u - 10.0
                } else {
                    u.ln() * 3.0 * self.uniform()
                }
            })
            .collect()
    }
    fn tokens(&mut self, n: usize, alphabet: u32) -> Vec<u32> {
        (0..n).map(|_| self.0.below(u64::from(alphabet)) as u32).collect()
    }
}

fn log_softmax(row: &[f64]) -> Vec<f64> {
    let max = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let ln_sum = row.iter().map(|v| (v - max).exp()).sum::<f64>().ln();
    row.iter().map(|v| (v - max) - ln_sum).collect()
}

// --- comparison helpers -----------------------------------------------------

struct Check {
    failures: Vec<String>,
    compared: usize,
}

impl Check {
    fn close(&mut self, what: &str, got: f64, want: f64, rel: f64, abs: f64) {
        self.compared += 1;
        let ok = (got - want).abs() <= abs + rel * want.abs() || (got == want);
        if !ok {
            self.failures.push(format!(
                "{what}: rust {got:.17e}, reference {want:.17e} (diff {:.3e})",
                (got - want).abs()
            ));
        }
    }
    fn eq<T: PartialEq + std::fmt::Debug>(&mut self, what: &str, got: T, want: T) {
        self.compared += 1;
        if got != want {
            self.failures.push(format!("{what}: rust {got:?}, reference {want:?}"));
        }
    }
    fn holds(&mut self, what: &str, ok: bool, detail: String) {
        self.compared += 1;
        if !ok {
            self.failures.push(format!("{what}: {detail}"));
        }
    }
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap_or_else(|| panic!("expected an array, got {v}"))
        .iter()
        .map(|x| x.as_f64().unwrap_or(f64::NAN))
        .collect()
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("expected a number, got {v}"))
}

#[test]
fn metrics_match_the_python_reference() {
    let Some(python) = find_python() else {
        if std::env::var("RECITAL_AUDIT_SKIP_PYTHON").as_deref() == Ok("1") {
            eprintln!("SKIPPED: no python3 found and RECITAL_AUDIT_SKIP_PYTHON=1");
            return;
        }
        panic!(
            "no Python interpreter found for {SCRIPT}: install python3 (with numpy, scipy and \
             sklearn for the library references), point RECITAL_AUDIT_PYTHON at one, or set \
             RECITAL_AUDIT_SKIP_PYTHON=1 to skip this test explicitly"
        );
    };
    let mut g = Gen(Xoshiro256::seed_from_u64(0x05ec_17a1));
    let mut cases: Vec<Value> = Vec::new();

    // Min-K%: lengths 1..200 (K from the guard to 100), k from 5% to 100%.
    let mut min_k_inputs = Vec::new();
    for i in 0..40 {
        let n = if i < 5 { i + 1 } else { g.range(1, 200) };
        let lp = g.log_probs(n);
        let k = [0.05, 0.1, 0.2, 0.2, 0.3, 0.5, 0.57, 1.0][i % 8];
        cases.push(json!({"id": format!("min_k/{i}"), "kind": "min_k", "log_probs": lp, "k": k}));
        min_k_inputs.push((lp, k));
    }

    // Min-K%++: full distributions. Rows are kept away from uniform (σ ≈ 0),
    // where the reference's Σp·logp² − μ² cancels and is the inaccurate side.
    let mut mkpp_inputs = Vec::new();
    for i in 0..25 {
        let positions = g.range(1, 40);
        let vocab = g.range(2, 300);
        let scale = [0.7, 2.0, 5.0, 12.0][i % 4];
        let logits: Vec<Vec<f64>> = (0..positions)
            .map(|_| {
                let mut row: Vec<f64> = (0..vocab).map(|_| g.normal() * scale).collect();
                if g.uniform() < 0.2 {
                    let hot = g.0.index(vocab);
                    row[hot] += 25.0; // nearly one-hot
                }
                row
            })
            .collect();
        let tokens: Vec<usize> = (0..positions).map(|_| g.0.index(vocab)).collect();
        let k = [0.2, 0.1, 0.5, 1.0][i % 4];
        cases.push(json!({"id": format!("mkpp/{i}"), "kind": "min_k_pp", "logits": logits, "tokens": tokens, "k": k}));
        mkpp_inputs.push((logits, tokens, k));
    }

    // zlib: prose-like, random printable, repetitive and non-ASCII texts.
    let words = ["the", "pin", "of", "alice", "is", "ophelia", "séance", "日本語", "tokens", "1234", "\n"];
    let mut texts = Vec::new();
    for i in 0..60 {
        let n = g.range(16, 400);
        let text: String = match i % 3 {
            0 => (0..n).map(|_| words[g.0.index(words.len())]).collect::<Vec<_>>().join(" "),
            1 => (0..n * 2).map(|_| char::from(32 + g.0.below(95) as u8)).collect(),
            _ => "abcabcabd ".repeat(n / 4 + 1),
        };
        texts.push(text);
    }
    let mut losses: Vec<f64> = (0..texts.len()).map(|_| 0.2 + 5.0 * g.uniform()).collect();
    // Short suffixes (4–40 words), where deflate encoders differ most; from
    // their own generator, so that the other cases' inputs stay as they were.
    let mut short = Gen(Xoshiro256::seed_from_u64(16));
    for _ in 0..150 {
        let n = short.range(4, 40);
        texts.push((0..n).map(|_| words[short.0.index(words.len())]).collect::<Vec<_>>().join(" "));
        losses.push(0.2 + 5.0 * short.uniform());
    }
    cases.push(json!({"id": "zlib", "kind": "zlib", "texts": texts, "losses": losses}));

    // ROC: ties (scores on a coarse grid), sizes around 1/α, edge cases.
    let alphas = [0.001, 0.01, 0.05, 0.1];
    let tpr_targets = [0.5, 0.95];
    let mut roc_inputs: Vec<(Vec<f64>, Vec<f64>)> = Vec::new();
    for i in 0..30 {
        let p = g.range(1, 400);
        let n = [5, 19, 20, 99, 100, 101, 999, 1000, 1500][i % 9];
        let shift = g.uniform() * 2.0;
        let grid = [0.0, 0.5, 0.1][i % 3];
        let round = |x: f64| if grid > 0.0 { (x / grid).round() * grid } else { x };
        let m: Vec<f64> = (0..p).map(|_| round(g.normal() + shift)).collect();
        let nm: Vec<f64> = (0..n).map(|_| round(g.normal())).collect();
        roc_inputs.push((m, nm));
    }
    roc_inputs.push((vec![1.0; 7], vec![1.0; 120])); // all tied
    roc_inputs.push(((0..50).map(|x| 100.0 + f64::from(x)).collect(), (0..200).map(f64::from).collect())); // separated
    roc_inputs.push(((0..50).map(f64::from).collect(), (0..200).map(|x| 100.0 + f64::from(x)).collect())); // reversed
    for (i, (m, nm)) in roc_inputs.iter().enumerate() {
        cases.push(json!({"id": format!("roc/{i}"), "kind": "roc", "members": m, "non_members": nm,
                          "alphas": alphas, "tpr_targets": tpr_targets}));
    }

    // Percentiles (numpy "linear").
    let pct_values: Vec<f64> = (0..37).map(|_| g.normal()).collect();
    let qs = [0.0, 0.025, 0.05, 0.5, 0.95, 0.975, 1.0];
    cases.push(json!({"id": "percentile", "kind": "percentile", "values": pct_values, "qs": qs}));

    // Skew-normal density and CDF, including far left tails.
    let sn_params = [
        (0.0, 1.0, 0.0),
        (10.0, 2.0, 3.0),
        (-5.0, 0.5, -4.0),
        (28.0, 4.0, 1.5),
        (0.0, 1.0, 12.0),
        (3.0, 7.0, -0.8),
    ];
    for (i, &(loc, scale, shape)) in sn_params.iter().enumerate() {
        let xs: Vec<f64> = [-12.0, -8.0, -5.0, -3.0, -1.5, -0.5, 0.0, 0.3, 1.0, 2.0, 4.0]
            .iter()
            .map(|z| loc + scale * z)
            .collect();
        cases.push(json!({"id": format!("snp/{i}"), "kind": "skewnorm_points", "location": loc, "scale": scale, "shape": shape, "xs": xs}));
    }

    // Extrapolated exposure: references drawn from skew-normals, one from a
    // sum of per-digit surprisals (like real canary perplexities), and one
    // exponential (skewness 2: beyond any skew-normal, the MLE runs to α → ∞).
    let mut exposure_inputs = Vec::new();
    for i in 0..7 {
        let m = [200, 500, 1000, 2000, 300, 1000, 1000][i];
        let refs: Vec<f64> = if i == 5 {
            (0..m).map(|_| (0..8).map(|_| -(0.02 + 0.3 * g.uniform()).log2()).sum()).collect()
        } else if i == 6 {
            (0..m).map(|_| 20.0 - 3.0 * (1.0 - g.uniform()).ln()).collect()
        } else {
            let shape = [2.0, -3.0, 0.5, 6.0, 0.0][i];
            (0..m).map(|_| g.skew_normal(27.0, 3.0, shape)).collect()
        };
        let canaries = vec![1.0, 5.0, 10.0, 15.0, 18.0, 20.0, 23.0, 26.0, 28.0, 31.0];
        cases.push(json!({"id": format!("sne/{i}"), "kind": "skewnorm_exposure", "references": refs, "canaries": canaries}));
        exposure_inputs.push((refs, canaries));
    }

    // Owen's T over a wide range, including a near 1 and large h.
    let mut hs = Vec::new();
    let mut as_ = Vec::new();
    for i in 0..300 {
        let h = match i % 5 {
            0 => g.uniform() * 0.5,
            1 => g.uniform() * 3.0,
            2 => g.uniform() * 10.0,
            3 => -g.uniform() * 6.0,
            _ => 5.0 + g.uniform() * 30.0,
        };
        let a = match i % 4 {
            0 => g.uniform(),
            1 => 1.0 + (g.uniform() - 0.5) * 1e-3,
            2 => 1.0 + g.uniform() * 30.0,
            _ => -g.uniform() * 5.0,
        };
        hs.push(h);
        as_.push(a);
    }
    cases.push(json!({"id": "owens_t", "kind": "owens_t", "h": hs, "a": as_}));

    let xs: Vec<f64> = (0..161).map(|i| -40.0 + f64::from(i) * 0.5).collect();
    cases.push(json!({"id": "normal", "kind": "normal", "xs": xs}));

    // Overlap metrics on token ids, with planted common runs.
    let mut pairs = Vec::new();
    for i in 0..60 {
        let alphabet = [3, 5, 20, 1000][i % 4];
        let (la, lb) = (g.range(0, 60), g.range(0, 60));
        let mut a = g.tokens(la, alphabet);
        let mut b = g.tokens(lb, alphabet);
        if i % 3 == 0 && !a.is_empty() {
            let start = g.0.index(a.len());
            let run = a[start..].iter().take(12).copied().collect::<Vec<_>>();
            let at = g.0.index(b.len() + 1);
            b.splice(at..at, run);
        }
        if i % 7 == 0 {
            a = b.clone();
            if let Some(x) = a.get_mut(3) {
                *x = 999_999;
            }
        }
        pairs.push((a, b));
    }
    cases.push(json!({"id": "overlap", "kind": "overlap", "pairs": pairs}));

    // Rank exposure: continuous (tie-free, also against tensorflow_privacy) and tied.
    let refs: Vec<f64> = (0..1000).map(|_| 20.0 + 5.0 * g.normal()).collect();
    let canaries: Vec<f64> = (0..20).map(|_| 5.0 + 25.0 * g.uniform()).collect();
    cases.push(json!({"id": "rank/continuous", "kind": "rank_exposure", "references": refs, "canaries": canaries, "tie_free": true}));
    let tied_refs: Vec<f64> = (0..300).map(|_| g.0.below(20) as f64).collect();
    let tied_canaries: Vec<f64> = (0..20).map(f64::from).collect();
    cases.push(json!({"id": "rank/tied", "kind": "rank_exposure", "references": tied_refs, "canaries": tied_canaries}));

    let out = run_reference(&python, &cases);
    let backend = &out["backend"];
    let r = &out["results"];
    let has_scipy = !backend["scipy"].is_null();
    let has_numpy = !backend["numpy"].is_null();
    eprintln!("reference backend: {python} {backend}");
    if std::env::var("RECITAL_AUDIT_REQUIRE_SCIPY").as_deref() == Ok("1") {
        assert!(has_scipy, "RECITAL_AUDIT_REQUIRE_SCIPY=1 but {python} has no scipy: {backend}");
    }
    if !has_scipy {
        eprintln!(
            "NOTE: {python} lacks numpy/scipy/sklearn; references are pure Python and the \
             maximum-likelihood skew-normal comparison is skipped"
        );
    }
    let mut c = Check { failures: Vec::new(), compared: 0 };

    for (i, (lp, k)) in min_k_inputs.iter().enumerate() {
        let want = f(&r[format!("min_k/{i}")]["value"]);
        c.close(&format!("min_k/{i}"), min_k_percent(lp, *k).unwrap(), want, 1e-13, 1e-13);
    }

    for (i, (logits, tokens, k)) in mkpp_inputs.iter().enumerate() {
        let res = &r[format!("mkpp/{i}")];
        let stats: Vec<NextTokenStats> = logits.iter().map(|row| next_token_stats(row).unwrap()).collect();
        let token_lp: Vec<f64> = logits.iter().zip(tokens).map(|(row, &t)| log_softmax(row)[t]).collect();
        let (mu, sigma) = (floats(&res["mu"]), floats(&res["sigma"]));
        for (t, s) in stats.iter().enumerate() {
            c.close(&format!("mkpp/{i} mu[{t}]"), s.mu, mu[t], 1e-11, 1e-13);
            // σ from Σp·logp² − μ² (reference) has absolute error ~1e-16·μ²/σ.
            c.close(&format!("mkpp/{i} sigma[{t}]"), s.sigma, sigma[t], 1e-8, 1e-12);
        }
        let tlp_ref = floats(&res["token_log_probs"]);
        for (t, (&a, &b)) in token_lp.iter().zip(&tlp_ref).enumerate() {
            c.close(&format!("mkpp/{i} token_lp[{t}]"), a, b, 1e-13, 1e-13);
        }
        let got = min_k_plus_plus(&token_lp, &stats, *k).unwrap();
        c.close(&format!("mkpp/{i} value"), got, f(&res["value"]), 1e-8, 1e-10);
    }

    {
        let res = &r["zlib"];
        let lengths: Vec<usize> =
            res["lengths"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as usize).collect();
        let ratios = floats(&res["ratios"]);
        for (i, text) in texts.iter().enumerate() {
            // The formula, on CPython's byte count: exact.
            let got = zlib_ratio_from_parts(lengths[i], losses[i]).unwrap();
            c.close(&format!("zlib ratio/{i}"), got, ratios[i], 1e-15, 0.0);
            // The byte count itself: C zlib, byte-identical to CPython's.
            let ours = zlib_compressed_len(text.as_bytes());
            c.holds(
                &format!("zlib length/{i}"),
                ours == lengths[i],
                format!(
                    "{ours} bytes vs CPython zlib {} {} for a {}-byte text",
                    res["zlib_version"],
                    lengths[i],
                    text.len()
                ),
            );
        }
    }

    let mut understated = 0;
    for (i, (m, nm)) in roc_inputs.iter().enumerate() {
        let res = &r[format!("roc/{i}")];
        let id = format!("roc/{i} (n+ {}, n- {})", m.len(), nm.len());
        let want_auc = f(&res["auc"]);
        c.close(
            &format!("{id} auc vs {}", res["auc_source"]),
            roc_auc(m, nm).unwrap(),
            want_auc,
            1e-12,
            1e-14,
        );
        c.close(
            &format!("{id} auc pairwise"),
            roc_auc(m, nm).unwrap(),
            f(&res["auc_pairwise"]),
            1e-12,
            1e-14,
        );
        c.close(&format!("{id} trapezoid auc"), roc_curve(m, nm).unwrap().auc(), want_auc, 1e-12, 1e-14);
        let tprs = floats(&res["tpr_at_fpr"]);
        let sklearn_default = res.get("tpr_at_fpr_sklearn_default").filter(|v| !v.is_null()).map(floats);
        for (j, &alpha) in alphas.iter().enumerate() {
            let got = tpr_at_fpr(m, nm, alpha);
            if nm.len() >= required_negatives(alpha) {
                let got = got.unwrap();
                // JSON floats: serde_json's default parser can be 1 ulp off.
                c.close(&format!("{id} tpr@{alpha}"), got, tprs[j], 4.5e-16, 0.0);
                if let Some(d) = &sklearn_default {
                    if (d[j] - got).abs() > 1e-12 {
                        understated += 1;
                        eprintln!(
                            "{id}: TPR@{alpha} is {got:.4} on the full ROC, {:.4} on sklearn's default \
                             (drop_intermediate=True) curve",
                            d[j]
                        );
                    }
                }
            } else {
                c.holds(
                    &format!("{id} tpr@{alpha} refused"),
                    matches!(got, Err(AuditError::TooFewNegatives { .. })),
                    format!("{got:?} with {} negatives", nm.len()),
                );
            }
        }
        let fprs = floats(&res["fpr_at_tpr"]);
        for (j, &beta) in tpr_targets.iter().enumerate() {
            c.close(&format!("{id} fpr@tpr{beta}"), fpr_at_tpr(m, nm, beta).unwrap(), fprs[j], 4.5e-16, 0.0);
        }
    }
    eprintln!("TPR@FPR: {understated} values differ between the full ROC and sklearn's default curve");

    {
        let want = floats(&r["percentile"]["values"]);
        let mut sorted = pct_values.clone();
        sorted.sort_by(f64::total_cmp);
        for (j, &q) in qs.iter().enumerate() {
            c.close(
                &format!("percentile q={q}"),
                quantile_sorted(&sorted, q).unwrap(),
                want[j],
                1e-14,
                1e-15,
            );
        }
        let (lo, hi) = percentile_interval(&pct_values, 0.95).unwrap();
        c.close("percentile interval low", lo, want[1], 1e-14, 1e-15);
        c.close("percentile interval high", hi, want[5], 1e-14, 1e-15);
    }

    for (i, &(loc, scale, shape)) in sn_params.iter().enumerate() {
        let res = &r[format!("snp/{i}")];
        let d = SkewNormal::new(loc, scale, shape).unwrap();
        let xs: Vec<f64> = [-12.0, -8.0, -5.0, -3.0, -1.5, -0.5, 0.0, 0.3, 1.0, 2.0, 4.0]
            .iter()
            .map(|z| loc + scale * z)
            .collect();
        let logpdf = floats(&res["logpdf"]);
        let quad = floats(&res["cdf_quad"]);
        for (j, &x) in xs.iter().enumerate() {
            let id = format!("snp/{i} (a={shape}) x={x}");
            if logpdf[j].is_finite() {
                c.close(&format!("{id} logpdf"), d.ln_pdf(x), logpdf[j], 1e-11, 1e-11);
            }
            // Against quadrature of the density: relative accuracy even where
            // the CDF is 1e-100.
            if quad[j] > 1e-290 {
                let tol = if has_scipy { 1e-9 } else { 1e-6 };
                c.close(&format!("{id} ln cdf vs quad"), d.ln_cdf(x), quad[j].ln(), tol, tol);
            }
            if has_scipy {
                let lib = f(&res["cdf_scipy"][j]);
                // scipy's Φ(z) − 2T(z, α) is accurate to ~1e-16 absolute only.
                c.close(&format!("{id} cdf vs scipy"), d.cdf(x), lib, 1e-11, 5e-16);
            }
        }
    }

    for (i, (refs, canaries)) in exposure_inputs.iter().enumerate() {
        let res = &r[format!("sne/{i}")];
        let id = format!("sne/{i} ({} refs)", refs.len());
        let mom = SkewNormal::fit_moments(refs).unwrap();
        let want = &res["moments"];
        c.close(&format!("{id} moments shape"), mom.shape, f(&want["shape"]), 1e-9, 1e-12);
        c.close(&format!("{id} moments location"), mom.location, f(&want["location"]), 1e-11, 1e-12);
        c.close(&format!("{id} moments scale"), mom.scale, f(&want["scale"]), 1e-11, 1e-12);
        let quad_exposures = &res["exposure_moments_quad"];
        for (j, &px) in canaries.iter().enumerate() {
            let e = extrapolated_exposure(px, refs, FitMethod::Moments, None).unwrap();
            if let Some(want) = quad_exposures[j].as_f64() {
                let tol = if has_scipy { 1e-8 } else { 1e-5 };
                c.close(&format!("{id} exposure(px={px}) vs quad"), e.exposure, want, tol, tol);
            }
            if has_scipy {
                let cdf = f(&res["cdf_moments_scipy"][j]);
                if cdf > 1e-6 {
                    let want = f(&res["exposure_moments_scipy"][j]);
                    c.close(
                        &format!("{id} exposure(px={px}) vs scipy skewnorm.cdf"),
                        e.exposure,
                        want,
                        1e-9,
                        1e-9,
                    );
                }
            }
        }
        let ks = mom.ks_statistic(refs);
        c.close(&format!("{id} KS statistic"), ks, f(&res["ks_moments"]), 1e-8, 1e-9);
        if let Some(mle) = res["mle"].as_object() {
            let ours = SkewNormal::fit_mle(refs).unwrap();
            let ll_ours = ours.log_likelihood(refs);
            let ll_scipy = f(&mle["log_likelihood"]);
            c.holds(
                &format!("{id} MLE log-likelihood ≥ scipy's"),
                ll_ours >= ll_scipy - 1e-7 * ll_scipy.abs().max(1.0),
                format!("ours {ll_ours} at {ours:?}, scipy {ll_scipy} at {mle:?}"),
            );
            eprintln!(
                "{id}: MLE ll ours {ll_ours:.6} scipy {ll_scipy:.6}; shape {:.4}/{:.4} loc {:.4}/{:.4} scale {:.4}/{:.4}",
                ours.shape, f(&mle["shape"]), ours.location, f(&mle["location"]), ours.scale, f(&mle["scale"])
            );
        }
    }

    {
        let want = floats(&r["owens_t"]["values"]);
        let scipy_source = r["owens_t"]["source"] == "scipy";
        for (j, (&h, &a)) in hs.iter().zip(&as_).enumerate() {
            let (rel, abs) = if scipy_source { (1e-11, 2e-16) } else { (1e-9, 1e-12) };
            c.close(&format!("owens_t({h}, {a})"), owens_t(h, a), want[j], rel, abs);
        }
    }

    {
        let res = &r["normal"];
        let (e, p, l) = (floats(&res["erfc"]), floats(&res["ndtr"]), floats(&res["log_ndtr"]));
        for (j, &x) in xs.iter().enumerate() {
            c.close(&format!("erfc({x})"), erfc(x), e[j], 1e-13, 0.0);
            c.close(&format!("Phi({x})"), normal_cdf(x), p[j], 1e-13, 0.0);
            if l[j].is_finite() && (has_scipy || x > -37.0) {
                // For x > 6 scipy returns −ndtr(−x), whose cephes erfc is only
                // good to ~1e-13 there (the asymptotic series agrees with us).
                let rel = if x > 6.0 { 3e-13 } else { 1e-13 };
                c.close(&format!("ln Phi({x})"), normal_ln_cdf(x), l[j], rel, 1e-300);
            }
        }
    }

    {
        let res = r["overlap"]["pairs"].as_array().unwrap();
        for (i, ((a, b), want)) in pairs.iter().zip(res).enumerate() {
            let id = format!("overlap/{i} (|a| {}, |b| {})", a.len(), b.len());
            c.eq(
                &format!("{id} lcs"),
                longest_common_subsequence(a, b) as u64,
                want["lcs"].as_u64().unwrap(),
            );
            c.eq(
                &format!("{id} lcsubstr"),
                longest_common_substring(a, b) as u64,
                want["lcsubstr"].as_u64().unwrap(),
            );
            c.eq(
                &format!("{id} acs"),
                accumulated_common_substrings(a, b, 3) as u64,
                want["acs"].as_u64().unwrap(),
            );
            let rl = rouge_l(a, b);
            let w = floats(&want["rouge_l"]);
            c.close(&format!("{id} rouge_l p"), rl.precision, w[0], 1e-15, 0.0);
            c.close(&format!("{id} rouge_l r"), rl.recall, w[1], 1e-15, 0.0);
            c.close(&format!("{id} rouge_l f"), rl.f_measure, w[2], 1e-15, 1e-16);
            let r1 = rouge_1(a, b);
            let w = floats(&want["rouge_1"]);
            c.close(&format!("{id} rouge_1 f"), r1.f_measure, w[2], 1e-15, 1e-16);
            match want["memorisation_score"].as_f64() {
                Some(s) => c.close(
                    &format!("{id} memorisation score"),
                    memorisation_score(a, b).unwrap(),
                    s,
                    4.5e-16,
                    0.0,
                ),
                None => c.holds(
                    &format!("{id} memorisation score"),
                    memorisation_score(a, b).is_err(),
                    "empty suffix accepted".into(),
                ),
            }
        }
    }

    for (name, refs, canaries) in
        [("rank/continuous", &refs, &canaries), ("rank/tied", &tied_refs, &tied_canaries)]
    {
        let res = &r[name];
        let strict = floats(&res["strict"]);
        let inclusive = floats(&res["inclusive"]);
        for (j, &px) in canaries.iter().enumerate() {
            c.close(
                &format!("{name} strict px={px}"),
                rank_exposure(px, refs, TieRule::Strict).unwrap().exposure,
                strict[j],
                1e-14,
                1e-14,
            );
            c.close(
                &format!("{name} inclusive px={px}"),
                rank_exposure(px, refs, TieRule::Inclusive).unwrap().exposure,
                inclusive[j],
                1e-14,
                1e-14,
            );
            if let Some(tf) = res.get("tensorflow_privacy").filter(|v| !v.is_null()) {
                c.close(
                    &format!("{name} vs tensorflow_privacy px={px}"),
                    rank_exposure(px, refs, TieRule::Inclusive).unwrap().exposure,
                    f(&tf[j]),
                    1e-14,
                    1e-14,
                );
            }
        }
    }
    if has_numpy {
        assert!(r["rank/continuous"].get("tensorflow_privacy").is_some());
    }

    eprintln!("{} comparisons, {} failures", c.compared, c.failures.len());
    assert!(
        c.failures.is_empty(),
        "{} of {} comparisons with {python} ({backend}) failed:\n{}",
        c.failures.len(),
        c.compared,
        c.failures.join("\n")
    );
}
