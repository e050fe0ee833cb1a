//! Detection accuracy at default thresholds (issue #3, "Accuracy suite").
//!
//! Part of a real corpus is indexed; model-like outputs mix copied excerpts
//! (verbatim or under exactly one perturbation), held-out text of the same
//! corpus and connective sentences, with character-level ground truth; each
//! output is scanned with default `ScanOptions`. The suite itself (generator,
//! perturbations, scoring, and how held-out text that the corpus itself
//! repeats is scored) is `examples/accuracy/suite/`, shared with the
//! benchmark `bench/accuracy.sh`, which runs it on bigger corpora.
//!
//! Targets (the "Must show"): recall ≥ 0.99 on verbatim excerpts of
//! ≥ 20 tokens; ≥ 0.95 under each single perturbation; ≥ 0.99 of held-out
//! text not flagged; code with renamed identifiers recall ≥ 0.9. The tables
//! are printed (run with `--nocapture` to see them when the test passes).
//!
//! Corpora: the King James Bible from the `bible` program (Debian
//! `bible-kjv`; skipped, saying so, where it is missing) and the bundled
//! sample code in `data/sample/code` (C, Python, Rust, JavaScript, Go).

#[path = "../examples/accuracy/suite/mod.rs"]
mod suite;

use std::path::Path;

use suite::{corpus, Corpus};

/// Outputs generated per class (each holds 2 copied excerpts, or held-out text only).
const OUTPUTS_PER_CLASS: usize = 100;
const SEED: u64 = 3;

/// Targets of the issue that the detector does not reach yet, each with the
/// floor measured when it was recorded: the test fails below the floor (a
/// regression) and reports the gap above it. Remove an entry once its target is
/// met. Kept in the open on purpose: issue #3 stays open until this is empty.
const KNOWN_GAPS: &[(&str, &str, f64)] = &[];

fn check(c: Corpus) {
    let t = tempfile::tempdir().expect("tempdir");
    let t0 = std::time::Instant::now();
    let index = corpus::build_index(&c, t.path());
    let built = t0.elapsed().as_secs_f64();
    let res = suite::run_corpus(&c, &index, OUTPUTS_PER_CLASS, SEED);
    let scan_s: f64 = res.rows.iter().map(|(_, t)| t.scan_seconds).sum();
    eprintln!("\n{} (index built in {built:.1} s; scans took {scan_s:.1} s)", res.describe);
    eprintln!("{}", res.markdown(true));
    eprintln!("{}", res.markdown_held(true));
    let ex = res.examples(3);
    if !ex.is_empty() {
        eprintln!("Misses and false positives (worst first):\n{ex}");
    }
    let mut failures = Vec::new();
    for (class, tally) in &res.rows {
        let Some(target) = class.target() else { continue };
        let v = tally.headline(*class);
        if v >= target {
            continue;
        }
        match KNOWN_GAPS.iter().find(|(corpus, name, _)| *corpus == res.corpus && *name == class.name()) {
            Some((_, _, floor)) if v >= *floor => {
                eprintln!(
                    "KNOWN GAP {} / {}: {v:.4} < target {target} (floor {floor})",
                    res.corpus,
                    class.name()
                )
            }
            _ => failures.push(format!("{} / {}: {v:.4} < {target}", res.corpus, class.name())),
        }
    }
    assert!(failures.is_empty(), "accuracy targets missed:\n  {}", failures.join("\n  "));
}

#[test]
fn accuracy_prose_kjv() {
    let Some(c) = corpus::kjv() else {
        eprintln!("SKIPPED: accuracy_prose_kjv: the `bible` program (Debian bible-kjv) is not installed");
        return;
    };
    check(c);
}

#[test]
fn accuracy_code_sample() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/sample/code");
    let c = corpus::code_dir("sample-code", &root, 4, 1 << 20).expect("data/sample/code has source files");
    check(c);
}

/// The scorer's code verification: a consistent renaming is the same code, a
/// shared shape with other names and literals is not.
#[test]
fn renamed_similarity_tells_renaming_from_shape() {
    use recital_text::code::Lang;
    let src = "static int probe(struct dev *d) { int n = d->count; return n + 4; }";
    let renamed = "static int attach(struct dev *p) { int k = p->count; return k + 4; }";
    assert_eq!(suite::renamed_similarity(src, renamed, Lang::C), 1.0);
    // The same shape, but names that do not map one to one and other literals.
    let shape = "static int probe(struct dev *probe) { int dev = d->d; return n + 7; }";
    let s = suite::renamed_similarity(src, shape, Lang::C);
    assert!(s < 0.85, "{s}");
    // Comments and layout weigh nothing.
    let laid = "static int probe(struct dev *d)\n{\n\t/* count */ int n = d->count;\n\treturn n + 4;\n}";
    assert_eq!(suite::renamed_similarity(src, laid, Lang::C), 1.0);
    assert_eq!(suite::renamed_similarity("", "", Lang::C), 1.0);
}
