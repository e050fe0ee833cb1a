//! The plain-language summary: what was tested, what the model reproduced,
//! how often, from which works, with what confidence — and, as plainly, what
//! was *not* observed. It never claims more than the numbers show: with no
//! extraction it says so and says what the absence does and does not prove.

use super::{Rate, Report};

fn pct(r: &Rate) -> String {
    format!(
        "{} of {} ({:.1} %, 95 % interval {:.1}–{:.1} %)",
        r.k,
        r.n,
        100.0 * r.rate,
        100.0 * r.ci_low,
        100.0 * r.ci_high
    )
}

/// Paragraphs of the summary.
pub(super) fn write(r: &Report) -> Vec<String> {
    let mut out = Vec::new();
    let m = &r.model;
    out.push(format!(
        "What was tested. The model {} ({}, {}) was given {} probes: each is the beginning of a text (the prompt) and the \
         model's own continuation was compared with the true continuation. Probes came from {} ({}; seed {}). Access: {}. \
         Every continuation was decoded greedily, which makes the result reproducible.",
        m.source,
        m.architecture,
        m.backend,
        r.probes,
        r.sampling.from,
        r.sampling.method,
        r.sampling.seed,
        r.access
    ));
    if let Some(how) = &m.scoring {
        out.push(format!("How prompts were scored: {how}."));
    }
    let e = &r.extraction;
    if e.overall.n == 0 {
        out.push("No probe was a training text, so extraction was not measured.".into());
    } else if e.overall.k == 0 {
        out.push(format!(
            "What the model reproduced. In none of the {} training-text probes did the model reproduce the true continuation \
             word for word (95 % interval 0–{:.1} %). This audit therefore found no evidence of verbatim memorisation of the \
             probed texts. It is not proof that the model memorised nothing: only these probes were tested, with greedy \
             decoding; {:.0} % of continuations matched at least half of the true tokens in place.",
            e.overall.n,
            100.0 * e.overall.ci_high,
            100.0 * e.half_memorised.rate
        ));
    } else {
        out.push(format!(
            "What the model reproduced. Given the prompt, the model reproduced the true continuation word for word in {}. \
             On average {:.0} % of continuation tokens matched in place (memorisation score).",
            pct(&e.overall),
            100.0 * e.mean_memorisation_score
        ));
    }
    if let Some(n) = &e.non_members {
        out.push(format!(
            "Control. Texts known not to be in the training data were reproduced in {} — {}",
            pct(n),
            if n.k == 0 {
                "as expected, so the extraction above is not an artefact of predictable text."
            } else {
                "such texts are predictable from their prompt; weigh the extraction rate above against this control."
            }
        ));
    }
    let buckets: Vec<_> = r.by_duplicates.iter().filter(|b| b.extraction.n > 0).collect();
    if buckets.len() >= 2 {
        let first = buckets[0];
        let last = buckets[buckets.len() - 1];
        out.push(format!(
            "How often. Texts that occur {} time(s) in the training data were reproduced in {:.1} % of probes; texts that \
             occur {} times in {:.1} %. Repetition in the training data is the strongest known driver of memorisation.",
            first.bucket,
            100.0 * first.extraction.rate,
            last.bucket,
            100.0 * last.extraction.rate
        ));
    }
    if !r.works.is_empty() {
        let list: Vec<String> = r
            .works
            .iter()
            .take(5)
            .map(|w| {
                format!(
                    "{} ({}{}; {} of {} probes)",
                    w.work,
                    w.license.as_deref().unwrap_or("licence unknown"),
                    w.holder.as_deref().map(|h| format!(", {h}")).unwrap_or_default(),
                    w.extracted,
                    w.probes
                )
            })
            .collect();
        out.push(format!(
            "From which works. Reproduced text came from {} work(s), most often: {}.",
            r.works.len(),
            list.join("; ")
        ));
    }
    let t = &r.taxonomy.counts;
    let total: usize = t.values().sum();
    if total > 0 {
        out.push(format!(
            "What kind of memorisation. Of the {total} reproduced sequences, {} are recitation (text duplicated at least {} \
             times in the training data), {} reconstruction (templated or predictable text), {} recollection (rare text \
             seen few times: the long tail) and {} out-of-distribution strings (random, secret-like).",
            t.get("recitation").unwrap_or(&0),
            r.taxonomy.duplicate_threshold,
            t.get("reconstruction").unwrap_or(&0),
            t.get("recollection").unwrap_or(&0),
            t.get("out_of_distribution").unwrap_or(&0)
        ));
    }
    if let Some(mem) = &r.membership {
        if let Some(loss) = mem.metrics.iter().find(|m| m.metric == "loss") {
            let strength = if loss.auc < 0.6 {
                "no better than chance at telling them apart"
            } else if loss.auc < 0.8 {
                "somewhat able to tell them apart"
            } else {
                "clearly able to tell them apart"
            };
            out.push(format!(
                "Membership. Comparing {} texts that were in the training data with {} that were not, the model's confidence \
                 (LOSS) gives an AUC of {:.2}{}: {strength}. An AUC of 0.5 means no signal.",
                mem.members,
                mem.non_members,
                loss.auc,
                loss.auc_ci.map(|(a, b)| format!(" (95 % interval {a:.2}–{b:.2})")).unwrap_or_default()
            ));
        }
    }
    if !r.omitted_metrics.is_empty() {
        let list: Vec<String> =
            r.omitted_metrics.iter().map(|o| format!("{}: {}", o.metric, o.why)).collect();
        out.push(format!("Not measured. {}.", list.join("; ")));
    }
    if r.canaries > 0 {
        let best = r
            .by_duplicates
            .iter()
            .filter_map(|b| b.median_extrapolated_exposure.map(|x| (b.bucket.clone(), x)))
            .next_back();
        if let Some((bucket, x)) = best {
            out.push(format!(
                "Canaries. {} inserted secrets were ranked against random alternatives; those inserted {bucket} times reach a \
                 median exposure of {x:.1} bits (each bit halves the guesses an attacker needs){}.",
                r.canaries,
                r.non_member_median_exposure
                    .map(|b| format!(", against {b:.1} bits for secrets never inserted"))
                    .unwrap_or_default()
            ));
        }
    }
    out
}
