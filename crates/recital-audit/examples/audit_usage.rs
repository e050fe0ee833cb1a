//! `recital-audit`'s metrics on numbers you already have: extraction of a
//! suffix, membership inference judged by ROC-AUC and TPR at low FPR, and a
//! canary's exposure. (`recital audit` computes the inputs from a model and
//! an index; here they are made up with a fixed seed.)
//!
//! `cargo run -p recital-audit --example audit_usage`

use recital_audit::exposure::{rank_exposure, TieRule};
use recital_audit::extraction::{is_extractable, memorisation_score};
use recital_audit::membership::loss;
use recital_audit::roc::{roc_auc, tpr_at_fpr};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Greedy extraction: did the model complete the prefix with the true suffix?
    let truth = [5, 9, 2, 7, 7, 1, 4, 8];
    let generated = [5, 9, 2, 7, 3, 1, 4, 8];
    println!(
        "extractable: {}, memorisation score {:.3}",
        is_extractable(&generated, &truth),
        memorisation_score(&generated, &truth)?
    );

    // Membership inference: LOSS per sequence from per-token log-probabilities,
    // members (seen in training) lower than non-members. Scores are oriented so
    // that higher means "member", hence the minus sign.
    let mut x: u64 = 42;
    let mut draw = |shift: f64| {
        let lps: Vec<f64> = (0..32)
            .map(|_| {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                -((x >> 11) as f64 / (1u64 << 53) as f64) * 4.0 - shift
            })
            .collect();
        -loss(&lps).expect("non-empty")
    };
    let members: Vec<f64> = (0..200).map(|_| draw(0.0)).collect();
    let non_members: Vec<f64> = (0..200).map(|_| draw(0.3)).collect();
    println!(
        "ROC-AUC {:.3}, TPR at 1 % FPR {:.3}",
        roc_auc(&members, &non_members)?,
        tpr_at_fpr(&members, &non_members, 0.01)?
    );

    // Exposure: how the canary's perplexity ranks among references of the
    // same secret space (log2 of the space size minus log2 of the rank).
    let canary_px = 3.5;
    let references: Vec<f64> = (0..999).map(|i| 20.0 + (i % 97) as f64 * 0.1).collect();
    let e = rank_exposure(canary_px, &references, TieRule::Strict)?;
    println!("canary rank {} of {}, exposure {:.2} bits", e.rank, e.references + 1, e.exposure);
    Ok(())
}
