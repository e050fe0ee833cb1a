//! `recital index build|add|remove|compact|stats|verify`.

use anyhow::Context;
use recital_index::{BuildOptions, Index, IndexWriter, IngestOptions, ModeChoice, RightsRules};

use super::input;
use crate::cli::{AdoptArgs, BuildArgs, IndexOnly, RemoveArgs, StatsArgs};
use crate::output::{self, bytes, print_json};

fn ingest_options(a: &BuildArgs) -> anyhow::Result<IngestOptions> {
    // Imported signals first: a hand-written sidecar overrides them.
    let mut rights = RightsRules::default();
    for from in &a.rights_from {
        rights = rights.then(super::rights::imported_rules(from)?);
    }
    if let Some(p) = &a.rights {
        rights = rights.then(RightsRules::load(p)?);
    }
    let mode = if a.code {
        ModeChoice::Code
    } else if a.text {
        ModeChoice::Text
    } else {
        ModeChoice::Auto
    };
    Ok(IngestOptions {
        mode,
        text_field: Some(a.text_field.clone()),
        id_field: Some(a.id_field.clone()),
        rights,
        progress: !a.json,
        strict: a.strict,
    })
}

pub fn build(a: BuildArgs, add: bool) -> anyhow::Result<()> {
    if a.shard_tokens == 0 {
        anyhow::bail!("--shard-tokens must be at least 1");
    }
    let opts = ingest_options(&a)?;
    let policy = input::policy(a.policy.as_deref())?;
    let bopts = BuildOptions { shard_tokens: a.shard_tokens, ..Default::default() };
    let report = if add {
        let mut w = IndexWriter::open(&a.index)?.with_options(bopts);
        let report = w.add_files(&a.inputs, &opts)?;
        w.commit()?;
        report
    } else {
        recital_index::build(&a.index, &a.inputs, &opts, &bopts)?
    };
    let classes = policy.class_counts(&report.ingest.licenses);
    if a.json {
        return print_json(&output::WithClasses {
            report: &report,
            license_classes: classes,
            policy: policy.label(),
        });
    }
    let docs: u64 = report.shards.iter().map(|s| s.docs).sum();
    let toks: u64 = report.shards.iter().map(|s| s.text_tokens).sum();
    let canon: u64 = report.shards.iter().map(|s| s.canon_tokens).sum();
    let src: u64 = report.shards.iter().map(|s| s.source_bytes).sum();
    println!(
        "{} {} document(s), {} text tokens, {} code tokens ({}) into {} shard(s) of {} in {:.2} s ({:.1} MB/s)",
        if add { "added" } else { "indexed" },
        docs,
        toks,
        canon,
        bytes(src),
        report.shards.len(),
        a.index.display(),
        report.seconds,
        src as f64 / 1e6 / report.seconds.max(1e-9)
    );
    if report.ingest.skipped_binary > 0 {
        println!("skipped {} binary file(s) (--verbose lists them)", report.ingest.skipped_binary);
    }
    let i = &report.ingest;
    output::licenses(&i.licenses, i.noassertion, &classes, &policy.label());
    Ok(())
}

pub fn remove(a: RemoveArgs) -> anyhow::Result<()> {
    let mut w = IndexWriter::open(&a.index)?;
    let r = w.remove(&a.ids)?;
    w.commit()?;
    if a.json {
        return print_json(&r);
    }
    println!("removed {} document(s) from {}", r.removed, r.shards.join(", "));
    Ok(())
}

pub fn compact(a: IndexOnly) -> anyhow::Result<()> {
    let mut w = IndexWriter::open(&a.index)?;
    let r = w.compact()?;
    w.commit()?;
    if a.json {
        return print_json(&r);
    }
    if r.merged.is_empty() {
        println!("nothing to compact");
    } else {
        println!(
            "merged {} shard(s) into {}, dropped {} removed document(s)",
            r.merged.len(),
            r.written.iter().map(|w| w.name.as_str()).collect::<Vec<_>>().join(", "),
            r.dropped_docs
        );
    }
    Ok(())
}

pub fn adopt(a: AdoptArgs) -> anyhow::Result<()> {
    let t0 = std::time::Instant::now();
    let shards = if a.index.join("manifest.json").exists() {
        let mut w = IndexWriter::open(&a.index)?;
        let shards = w.adopt(&a.sources)?;
        w.commit()?;
        shards
    } else {
        recital_index::assemble(&a.index, &a.sources)?
    };
    if a.json {
        return print_json(&serde_json::json!({"adopted": shards, "seconds": t0.elapsed().as_secs_f64()}));
    }
    let docs: u64 = shards.iter().map(|s| s.docs).sum();
    let src: u64 = shards.iter().map(|s| s.source_bytes).sum();
    println!(
        "adopted {} shard(s) from {} index(es): {} document(s), {} of source, into {}",
        shards.len(),
        a.sources.len(),
        docs,
        bytes(src),
        a.index.display()
    );
    Ok(())
}

pub fn stats(a: StatsArgs) -> anyhow::Result<()> {
    let idx = Index::open(&a.index)?;
    let policy = input::policy(a.policy.as_deref())?;
    let s = idx.stats();
    let classes = policy.class_counts(&s.licenses);
    if a.json {
        return print_json(&output::WithClasses {
            report: &s,
            license_classes: classes,
            policy: policy.label(),
        });
    }
    println!("index        {}", s.index.display());
    println!(
        "generation   {} (format v{}, normaliser v{})",
        s.generation, s.format_version, s.normalizer_version
    );
    println!("documents    {} live, {} removed", s.docs, s.removed_docs);
    println!("tokens       {} text, {} canonical code", s.text_tokens, s.canon_tokens);
    println!("source       {}", bytes(s.source_bytes));
    println!(
        "on disk      {} ({:.2} bytes per source byte, {:.2} bytes per token)",
        bytes(s.disk_bytes),
        s.bytes_per_source_byte,
        s.bytes_per_token
    );
    output::licenses(&s.licenses, s.noassertion, &classes, &policy.label());
    println!(
        "{:<14} {:>6} {:>9} {:>8} {:>12} {:>12} {:>10}",
        "shard", "kind", "docs", "removed", "text tok", "code tok", "disk"
    );
    for sh in &s.shards {
        println!(
            "{:<14} {:>6} {:>9} {:>8} {:>12} {:>12} {:>10}",
            sh.name,
            format!("{:?}", sh.kind).to_lowercase(),
            sh.docs,
            sh.removed_docs,
            sh.text_tokens,
            sh.canon_tokens,
            bytes(sh.disk_bytes)
        );
    }
    Ok(())
}

pub fn verify(a: IndexOnly) -> anyhow::Result<()> {
    let idx = Index::open(&a.index)?;
    idx.verify().with_context(|| format!("verifying {}", a.index.display()))?;
    if a.json {
        return print_json(&serde_json::json!({"ok": true, "shards": idx.shard_count()}));
    }
    println!("ok: {} shard(s), every checksum matches", idx.shard_count());
    Ok(())
}
