//! `recital-detect`: scan a model output for the spans that copy an indexed
//! corpus — exact, near-verbatim and renamed code — with their sources and
//! licences. The output here is the demo's: Hamlet in capitals with invisible
//! characters and homoglyphs, an edited Ecclesiastes, a renamed zlib function.
//!
//! `cargo run -p recital-detect --example detect_usage`

use std::path::Path;

use recital_detect::{scan, Input, ScanOptions};
use recital_index::{BuildOptions, Index, IngestOptions, RightsRules};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/sample");
    let dir = tempfile::tempdir()?;
    let at = dir.path().join("index");
    let opts =
        IngestOptions { rights: RightsRules::load(&sample.join("rights.jsonl"))?, ..Default::default() };
    recital_index::build(&at, &[sample.join("prose"), sample.join("code")], &opts, &BuildOptions::default())?;
    let index = Index::open(&at)?;

    let output = std::fs::read(sample.join("outputs/demo.txt"))?;
    let report = scan(&index, &Input::decode(&output)?, &ScanOptions::default())?;
    println!("{} tokens, {:.0} % copied", report.tokens, report.coverage * 100.0);
    for s in &report.spans {
        let src = &s.sources[0];
        println!(
            "{:?} bytes {}..{} ({} tokens): {} [{}]",
            s.kind, s.byte_start, s.byte_end, s.tokens, src.doc_id, src.license
        );
    }
    Ok(())
}
