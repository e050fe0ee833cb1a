//! `recital scan`: which spans of a model output copy indexed material, and
//! what the policy decides about it; or the same for many outputs at once
//! (`--jsonl`: the batch and CI path, [`recital_filter::batch`]).

use std::io::BufRead;
use std::sync::Arc;

use anyhow::Context;
use recital_detect::{scan_views, Input, ScanOptions, SpanKind};
use recital_filter::{BatchOptions, IndexJudge};
use recital_index::Index;
use recital_policy::{Action, Policy, Request};
use recital_text::code::Lang;

use super::filter::EXIT_FAIL_ON;
use super::input;
use crate::cli::ScanArgs;
use crate::output::{self, highlight, print_json, use_color};

fn lang(name: &Option<String>) -> anyhow::Result<Option<Lang>> {
    name.as_deref()
        .map(|l| {
            Lang::from_name(&l.to_ascii_lowercase()).with_context(|| {
                format!("unknown language {l:?} (c, cpp, python, rust, javascript, typescript, java, go)")
            })
        })
        .transpose()
}

pub fn run(a: ScanArgs) -> anyhow::Result<u8> {
    if let Err(e) = a.check() {
        e.exit();
    }
    let idx = Index::open(&a.index)?;
    // The same thresholds the server derives from the same policy.
    let policy = input::policy(a.policy.as_deref())?;
    let jurisdiction =
        recital_filter::jurisdiction(a.jurisdiction.as_deref().unwrap_or(policy.default_jurisdiction()))?;
    let opts = scan_options(&a, &policy)?;
    let worst = if a.jsonl.is_some() || a.parquet.is_some() {
        batch(&a, idx, policy, opts, jurisdiction)?
    } else {
        single(&a, &idx, &policy, &opts, &jurisdiction)?
    };
    Ok(exit_status(worst, a.fail_on))
}

/// 3 when the worst decision reached `--fail-on` (as `recital filter`),
/// else 0: a scan shows nothing, so a block alone is no failure.
fn exit_status(worst: Action, fail_on: Option<Action>) -> u8 {
    match fail_on {
        Some(level) if worst >= level => EXIT_FAIL_ON,
        _ => 0,
    }
}

/// The policy's scan options, with the flags that override them.
fn scan_options(a: &ScanArgs, policy: &Policy) -> anyhow::Result<ScanOptions> {
    let d = policy.scan_options();
    Ok(ScanOptions {
        min_tokens: a.min_tokens.unwrap_or(d.min_tokens),
        seed_tokens: a.seed_tokens.unwrap_or(d.seed_tokens.min(a.min_tokens.unwrap_or(d.min_tokens))),
        max_gap: a.max_gap.unwrap_or(d.max_gap),
        boilerplate_count: a.boilerplate_count.unwrap_or(d.boilerplate_count),
        max_sources: a.max_sources.unwrap_or(d.max_sources),
        code_min_tokens: a.code_min_tokens.unwrap_or(d.code_min_tokens),
        code: lang(&a.code)?,
        fence_default: lang(&a.fence_default)?,
        ..d
    })
}

/// One output: the report and the decision, printed; the decision's action.
fn single(
    a: &ScanArgs,
    idx: &Index,
    policy: &Policy,
    opts: &ScanOptions,
    jurisdiction: &str,
) -> anyhow::Result<Action> {
    let path = a.input.as_deref().unwrap_or("-");
    let bytes = input::read(path)?;
    let input = Input::decode(&bytes).with_context(|| format!("scanning {path}"))?;
    let opts = ScanOptions { context: input::context(a.context.as_deref())?, ..opts.clone() };
    let t0 = std::time::Instant::now();
    // Through the output's JSON, Markdown and HTML views too (spans still
    // point into the input as given).
    let report = scan_views(idx, &input, &opts)?;
    let elapsed = t0.elapsed();
    let decision = policy.decide(&report, &Request::from_jurisdiction(jurisdiction));
    for w in &report.warnings {
        tracing::warn!("{w}");
    }
    if let Some(out) = &a.html {
        let html =
            recital_serve::scan_html(&input.text, &report, &decision).context("rendering the scan view")?;
        std::fs::write(out, html).with_context(|| format!("writing {}", out.display()))?;
    }
    if a.json {
        print_json(&output::WithDecision { report: &report, decision: &decision })?;
    } else {
        print_report(&report, elapsed);
        output::decision(&decision);
    }
    Ok(decision.action)
}

/// Many outputs (JSONL or Parquet): one line each on stdout, a summary on
/// stderr; the most severe decision's action.
fn batch(
    a: &ScanArgs,
    idx: Index,
    policy: Policy,
    opts: ScanOptions,
    jurisdiction: String,
) -> anyhow::Result<Action> {
    let mut bopts = BatchOptions::new(jurisdiction);
    if let Some(f) = &a.text_field {
        bopts.text_field = f.clone();
    }
    if let Some(f) = &a.id_field {
        bopts.id_field = f.clone();
    }
    bopts.skip_bad = a.skip_bad_lines;
    bopts.context = input::context(a.context.as_deref())?;
    if let Some(n) = a.threads {
        bopts.threads = n as usize;
    }
    let judge = IndexJudge::new(Arc::new(idx), policy, opts);
    let mut out = output::JsonLines::stdout();
    let emit = |line: &recital_filter::BatchLine| {
        out.write(line).map_err(|e| recital_filter::FilterError::Input(format!("writing the results: {e}")))
    };
    let summary = match (&a.jsonl, &a.parquet) {
        (Some(path), _) => {
            let name = if path == "-" { "standard input" } else { path };
            let reader: Box<dyn BufRead> = if path == "-" {
                Box::new(std::io::stdin().lock())
            } else {
                let f = std::fs::File::open(path).with_context(|| format!("opening {path}"))?;
                Box::new(std::io::BufReader::with_capacity(1 << 20, f))
            };
            recital_filter::scan_jsonl(&judge, reader, name, &bopts, emit, |bad| {
                output::skipped_line(name, bad)
            })?
        }
        (None, Some(path)) => parquet(&judge, path, &bopts, emit)?,
        (None, None) => unreachable!("batch() runs only with --jsonl or --parquet"),
    };
    out.finish().context("writing the results")?;
    output::batch_summary(&summary);
    Ok(summary.worst)
}

#[cfg(feature = "parquet")]
fn parquet(
    judge: &IndexJudge,
    path: &std::path::Path,
    opts: &BatchOptions,
    emit: impl FnMut(&recital_filter::BatchLine) -> Result<(), recital_filter::FilterError>,
) -> anyhow::Result<recital_filter::BatchSummary> {
    let name = path.display().to_string();
    Ok(recital_filter::scan_parquet(judge, path, opts, emit, |bad| output::skipped_line(&name, bad))?)
}

#[cfg(not(feature = "parquet"))]
fn parquet(
    _: &IndexJudge,
    _: &std::path::Path,
    _: &BatchOptions,
    _: impl FnMut(&recital_filter::BatchLine) -> Result<(), recital_filter::FilterError>,
) -> anyhow::Result<recital_filter::BatchSummary> {
    anyhow::bail!("--parquet: this recital was built without Parquet support (cargo feature `parquet`)")
}

/// Prints a report for a person: a summary line, each span with its sources,
/// then the documents by share of the output.
pub fn print_report(report: &recital_detect::ScanReport, elapsed: std::time::Duration) {
    let color = use_color();
    let copies = report.spans.iter().filter(|s| s.kind != SpanKind::Boilerplate).count();
    println!(
        "{} span(s) copied from the index, {} boilerplate; {:.1}% of {} tokens covered; minimum {} tokens ({:.1} ms)",
        copies,
        report.spans.len() - copies,
        report.coverage * 100.0,
        report.tokens,
        report.options.min_tokens,
        elapsed.as_secs_f64() * 1e3
    );
    for s in &report.spans {
        let kind = match s.kind {
            SpanKind::Exact => "exact",
            SpanKind::Near => "near",
            SpanKind::CodeCanonical => "code-canonical",
            SpanKind::Boilerplate => "boilerplate",
        };
        let excerpt: String = if s.text.chars().count() > 160 {
            let head: String = s.text.chars().take(100).collect();
            let tail: String = s.text.chars().rev().take(50).collect::<Vec<_>>().into_iter().rev().collect();
            format!("{head} … {tail}")
        } else {
            s.text.clone()
        };
        let excerpt = excerpt.split_whitespace().collect::<Vec<_>>().join(" ");
        println!(
            "\n{kind:<14} bytes {}..{}  {} tokens  {} occurrence(s) in the corpus{}",
            s.byte_start,
            s.byte_end,
            s.tokens,
            s.count,
            if s.kind == SpanKind::Near {
                format!("  similarity {:.2}", s.similarity)
            } else {
                String::new()
            }
        );
        println!("  {}", highlight(&excerpt, 0, excerpt.len(), color));
        for src in &s.sources {
            println!(
                "  ← {} [{}]{}{}",
                src.doc_id,
                src.license,
                src.holder.as_deref().map(|h| format!(" {h}")).unwrap_or_default(),
                if src.tdm_opt_out { " (TDM opt-out)" } else { "" }
            );
        }
    }
    if !report.documents.is_empty() {
        println!("\nsources by share of the output:");
        for d in &report.documents {
            println!(
                "  {:5.1}%  {} [{}]  longest exact run {} tokens",
                d.coverage * 100.0,
                d.doc_id,
                d.license,
                d.longest_exact_run
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fail_on_alone_sets_the_status() {
        assert_eq!(exit_status(Action::Block, None), 0);
        assert_eq!(exit_status(Action::Annotate, Some(Action::Redact)), 0);
        assert_eq!(exit_status(Action::Redact, Some(Action::Redact)), EXIT_FAIL_ON);
        assert_eq!(exit_status(Action::Block, Some(Action::Annotate)), EXIT_FAIL_ON);
    }
}
