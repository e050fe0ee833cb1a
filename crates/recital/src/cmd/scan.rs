//! `recital scan`: which spans of a model output copy indexed material.

use anyhow::Context;
use recital_detect::{scan_views, Input, ScanOptions, SpanKind};
use recital_index::Index;
use recital_text::code::Lang;

use super::input;
use crate::cli::ScanArgs;
use crate::output::{highlight, print_json, use_color};

fn lang(name: &Option<String>) -> anyhow::Result<Option<Lang>> {
    name.as_deref()
        .map(|l| {
            Lang::from_name(&l.to_ascii_lowercase()).with_context(|| {
                format!("unknown language {l:?} (c, cpp, python, rust, javascript, typescript, java, go)")
            })
        })
        .transpose()
}

pub fn run(a: ScanArgs) -> anyhow::Result<()> {
    let idx = Index::open(&a.index)?;
    let bytes = input::read(&a.input)?;
    let input = Input::decode(&bytes).with_context(|| format!("scanning {}", a.input))?;
    let context = input::context(a.context.as_deref())?;
    // The same thresholds the server derives from the same policy.
    let policy = input::policy(a.policy.as_deref())?;
    let d = policy.scan_options();
    let opts = ScanOptions {
        min_tokens: a.min_tokens.unwrap_or(d.min_tokens),
        seed_tokens: a.seed_tokens.unwrap_or(d.seed_tokens.min(a.min_tokens.unwrap_or(d.min_tokens))),
        max_gap: a.max_gap.unwrap_or(d.max_gap),
        boilerplate_count: a.boilerplate_count.unwrap_or(d.boilerplate_count),
        max_sources: a.max_sources.unwrap_or(d.max_sources),
        code_min_tokens: a.code_min_tokens.unwrap_or(d.code_min_tokens),
        code: lang(&a.code)?,
        fence_default: lang(&a.fence_default)?,
        context,
        ..d
    };
    let t0 = std::time::Instant::now();
    // Through the output's JSON, Markdown and HTML views too (spans still
    // point into the input as given).
    let report = scan_views(&idx, &input, &opts)?;
    let elapsed = t0.elapsed();
    for w in &report.warnings {
        tracing::warn!("{w}");
    }
    if a.json {
        return print_json(&report);
    }
    print_report(&report, elapsed);
    Ok(())
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
