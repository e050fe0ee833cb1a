//! `recital-index`: build an index of the bundled sample corpus with its
//! rights sidecar, ask the one question everything else stands on (how
//! often, and where, does this token sequence occur?), then change the index
//! with an `IndexWriter` and look documents up by id.
//!
//! `cargo run -p recital-index --example index_usage`

use std::path::Path;

use recital_index::{
    BuildOptions, DocInput, DocMode, Index, IndexWriter, IngestOptions, Query, Rights, RightsRules,
};

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

    // Changes are staged, then committed at once; the commit returns the
    // new snapshot (the old one stays valid for readers that hold it).
    let mut writer = IndexWriter::open(&at)?;
    let line = "A registered work, searchable once the commit returns.";
    writer.add_docs(&[DocInput {
        id: "work-1",
        path: Some("A registered work"),
        text: line,
        mode: DocMode::Text,
        rights: Rights { license: "LicenseRef-Proprietary".into(), ..Rights::default() },
    }])?;
    let index = writer.commit()?;
    let addr = index.find_doc("work-1")?.expect("just added");
    let doc = index.doc(addr)?;
    println!("{} ({}): {:?}", doc.id, doc.rights.license, index.doc_text(addr)?);
    println!("{} live documents in {} shards", index.docs().count(), index.shard_count());
    Ok(())
}
