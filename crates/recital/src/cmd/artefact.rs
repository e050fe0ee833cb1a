//! `recital artefact scan`: copies of indexed works stored inside model
//! artefacts and datastores, and whether the policy lets them be distributed
//! ([`recital_artefact`] does the reading and scanning).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use recital_artefact::{
    distribution, extract_file, ArtefactCopy, ArtefactReport, ArtefactScanner, ExtractOptions, FileReport,
    Sink, TokenDecoder,
};
use recital_index::Index;
use recital_policy::Action;

use super::filter::EXIT_FAIL_ON;
use super::input;
use crate::cli::ArtefactScanArgs;
use crate::output::print_json;

pub fn scan(a: ArtefactScanArgs) -> anyhow::Result<u8> {
    let t0 = std::time::Instant::now();
    let idx = Index::open(&a.index)?;
    let policy = input::policy(a.policy.as_deref())?;
    let jurisdiction =
        recital_filter::jurisdiction(a.jurisdiction.as_deref().unwrap_or(policy.default_jurisdiction()))?;
    let mut opts = policy.scan_options();
    if let Some(n) = a.min_tokens {
        opts.min_tokens = n;
        opts.seed_tokens = opts.seed_tokens.min(n);
    }
    let tokenizer = a.tokenizer.as_deref().map(TokenDecoder::from_file).transpose()?.map(Arc::new);
    let extract = ExtractOptions {
        tokenizer,
        min_run: a.min_run as usize,
        embedded_members: !a.no_embedded_members,
        ..ExtractOptions::default()
    };
    let files = files_of(&a.paths)?;
    let mut scanner = ArtefactScanner::new(&idx, &policy, opts, &jurisdiction)?;
    let mut reports = Vec::new();
    let mut copies = Vec::new();
    let mut failed = 0usize;
    for path in &files {
        let name = path.display().to_string();
        scanner.set_file(&name);
        let t = std::time::Instant::now();
        let read = extract_file(path, &extract, &mut scanner);
        // Whatever was read before an error is still scanned.
        let flushed = scanner.end();
        let found = scanner.take_copies();
        let (summary, error) = match (read, flushed) {
            (Ok(s), Ok(())) => (s, None),
            (Err(e), _) | (Ok(_), Err(e)) => {
                failed += 1;
                eprintln!("recital: {e}");
                (Default::default(), Some(e.to_string()))
            }
        };
        for w in &summary.warnings {
            eprintln!("recital: warning: {w}");
        }
        let file = FileReport {
            path: name,
            kind: summary.kind,
            bytes: std::fs::metadata(path).map(|m| m.len()).unwrap_or(summary.bytes),
            members: summary.members,
            copies: found.len(),
            action: found.iter().map(ArtefactCopy::action).max().unwrap_or(Action::Allow),
            warnings: summary.warnings,
            error,
        };
        if !a.json {
            print_file(&file, &found, t.elapsed());
        }
        reports.push(file);
        copies.extend(found);
    }
    let (action, distributable, statement) = distribution(&copies, &policy.label(), &jurisdiction);
    let bytes = reports.iter().map(|f| f.bytes).sum();
    let report = ArtefactReport {
        schema: recital_artefact::SCHEMA,
        policy: policy.label(),
        jurisdiction,
        files: reports,
        copies,
        action,
        distributable,
        statement,
        bytes,
        seconds: t0.elapsed().as_secs_f64(),
    };
    if a.json {
        print_json(&report)?;
    } else {
        print_summary(&report, scanner.stats());
    }
    if failed > 0 {
        anyhow::bail!(
            "{failed} of {} file(s) could not be read to the end (their copies so far are reported)",
            files.len()
        );
    }
    Ok(match a.fail_on {
        Some(level) if report.action >= level => EXIT_FAIL_ON,
        _ => 0,
    })
}

/// The files named, directories read recursively in name order.
fn files_of(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        walk(p, &mut out)?;
    }
    Ok(out)
}

fn walk(p: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    let meta = std::fs::metadata(p).with_context(|| format!("{}", p.display()))?;
    if meta.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(p)
            .with_context(|| format!("reading {}", p.display()))?
            .map(|e| e.map(|e| e.path()))
            .collect::<Result<_, _>>()
            .with_context(|| format!("reading {}", p.display()))?;
        entries.sort();
        for e in entries {
            walk(&e, out)?;
        }
    } else {
        out.push(p.to_path_buf());
    }
    Ok(())
}

/// One file's copies, for a person.
fn print_file(file: &FileReport, copies: &[ArtefactCopy], elapsed: std::time::Duration) {
    println!(
        "{} ({}, {} bytes{}): {} cop(ies), {:.2} s",
        file.path,
        file.kind,
        file.bytes,
        if file.members > 0 { format!(", {} compressed member(s)", file.members) } else { String::new() },
        copies.len(),
        elapsed.as_secs_f64()
    );
    for c in copies {
        let mut at = Vec::new();
        if !c.members.is_empty() {
            at.push(format!("in{}", recital_artefact::members_label(&c.members)));
        }
        at.push(c.format.name().to_string());
        if let Some(f) = &c.place.field {
            at.push(f.clone());
        }
        if let Some(r) = c.place.row {
            at.push(format!("row {r}"));
        }
        if let Some(i) = c.place.index {
            at.push(format!("element {i}"));
        }
        if let Some(o) = c.place.offset {
            at.push(format!("offset {o}"));
        }
        let s = &c.span;
        println!(
            "\n  {:<8} {}  text bytes {}..{}  {} tokens → {}",
            serde_json::to_value(s.kind).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default(),
            at.join("  "),
            s.byte_start,
            s.byte_end,
            s.tokens,
            c.decision.action.name()
        );
        let excerpt: String = s.text.split_whitespace().collect::<Vec<_>>().join(" ");
        let excerpt: String = if excerpt.chars().count() > 120 {
            format!("{} …", excerpt.chars().take(120).collect::<String>())
        } else {
            excerpt
        };
        println!("    \"{excerpt}\"");
        for src in &s.sources {
            println!(
                "    ← {} [{}]{}",
                src.doc_id,
                src.license,
                src.holder.as_deref().map(|h| format!(" {h}")).unwrap_or_default()
            );
        }
    }
}

/// The distribution decision and the throughput, for a person.
fn print_summary(r: &ArtefactReport, stats: recital_artefact::ScanStats) {
    let mb = r.bytes as f64 / 1e6;
    println!(
        "\n{} file(s), {:.1} MB in {:.2} s ({:.1} MB/s); {} segment(s), {:.1} MB of text; {} cop(ies)",
        r.files.len(),
        mb,
        r.seconds,
        mb / r.seconds.max(1e-9),
        stats.segments,
        stats.text_bytes as f64 / 1e6,
        r.copies.len()
    );
    println!("distribution ({}): {}\n  {}", r.policy, r.action.name(), r.statement);
}
