//! `recital count` and `recital locate`.

use std::io::Read;

use anyhow::Context;
use recital_index::{Index, Query};
use recital_text::code::Lang;

use crate::cli::{LocateArgs, QueryArgs};
use crate::output::{highlight, print_json, use_color};

fn query_of(a: &QueryArgs) -> anyhow::Result<Query> {
    let text = if a.text == "-" {
        let mut buf = Vec::new();
        std::io::stdin().read_to_end(&mut buf).context("reading standard input")?;
        String::from_utf8_lossy(&buf).into_owned()
    } else {
        a.text.clone()
    };
    let q = match &a.code {
        Some(l) => {
            let lang = Lang::from_name(l).with_context(|| {
                format!("unknown language {l:?} (c, cpp, python, rust, javascript, typescript, java, go)")
            })?;
            Query::canonical(&text, lang)
        }
        None => Query::text(&text),
    };
    if q.tokens.is_empty() {
        anyhow::bail!(
            "the query has no tokens after normalisation (empty or only whitespace/ignorable characters)"
        );
    }
    Ok(q)
}

pub fn count(a: QueryArgs) -> anyhow::Result<()> {
    let idx = Index::open(&a.index)?;
    let q = query_of(&a)?;
    let t0 = std::time::Instant::now();
    let r = idx.count(&q)?;
    let us = t0.elapsed().as_secs_f64() * 1e6;
    if a.json {
        let mut v = serde_json::to_value(&r)?;
        v["elapsed_us"] = serde_json::json!(us.round());
        return print_json(&v);
    }
    println!(
        "{} occurrence(s) in {}{} document(s) ({} tokens)",
        r.count,
        if r.doc_count_exact { "" } else { "at least " },
        r.doc_count,
        r.tokens
    );
    Ok(())
}

pub fn locate(a: LocateArgs) -> anyhow::Result<()> {
    let idx = Index::open(&a.query.index)?;
    let q = query_of(&a.query)?;
    let r = idx.locate(&q, a.limit)?;
    if a.query.json {
        return print_json(&r);
    }
    let color = use_color();
    println!("{} occurrence(s); showing {}", r.count, r.hits.len());
    for h in &r.hits {
        println!(
            "{}  [{}]{}  tokens {}..{}  bytes {}..{}",
            h.doc_id,
            h.rights.license,
            if h.rights.tdm_opt_out { " TDM-opt-out" } else { "" },
            h.token_start,
            h.token_end,
            h.byte_start,
            h.byte_end
        );
        println!("    {}", highlight(&h.snippet, h.snippet_hit[0], h.snippet_hit[1], color));
    }
    Ok(())
}
