//! `recital-index`: build an index of the bundled sample corpus with its
//! rights sidecar, then ask the one question everything else stands on: how
//! often, and where, does this token sequence occur?
//!
//! `cargo run -p recital-index --example index_usage`

use std::path::Path;

use recital_index::{BuildOptions, Index, IngestOptions, Query, RightsRules};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/sample");
    let dir = tempfile::tempdir()?;
    let at = dir.path().join("index");
    let opts =
        IngestOptions { rights: RightsRules::load(&sample.join("rights.jsonl"))?, ..Default::default() };
    let report = recital_index::build(
        &at,
        &[sample.join("prose"), sample.join("code")],
        &opts,
        &BuildOptions::default(),
    )?;
    println!("{} documents in {:.2} s", report.ingest.docs, report.seconds);

    let index = Index::open(&at)?;
    // Queries are normalised like the corpus: case and spacing do not matter.
    let q = Query::text("TO BE,   or not to be");
    let c = index.count(&q)?;
    println!("{:?}: {} occurrence(s) in {} document(s)", c.query_tokens, c.count, c.doc_count);
    for hit in index.locate(&q, 3)?.hits {
        println!("  {} bytes {}..{}", hit.doc_id, hit.byte_start, hit.byte_end);
    }
    Ok(())
}
