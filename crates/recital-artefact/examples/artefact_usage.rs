//! Scanning an artefact with `recital-artefact`: index the bundled sample
//! prose with Hamlet under a proprietary licence, hide a passage of it in
//! a blob of random bytes as UTF-16 (as Windows and .NET resources store
//! strings) and another in a JSON Lines datastore, and ask whether the
//! files may be distributed.
//!
//! `cargo run -p recital-artefact --example artefact_usage`

use std::path::Path;

use recital_artefact::{distribution, extract_file, ArtefactScanner, ExtractOptions, Sink};
use recital_index::{BuildOptions, Index, IngestOptions, RightsRules};
use recital_policy::Policy;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/sample");
    let dir = tempfile::tempdir()?;
    let rules = dir.path().join("rights.jsonl");
    std::fs::write(
        &rules,
        "{\"path\": \"shakespeare/*\", \"license\": \"LicenseRef-Proprietary\", \"holder\": \"A Publisher\"}\n",
    )?;
    let opts = IngestOptions { rights: RightsRules::load(&rules)?, ..Default::default() };
    recital_index::build(&dir.path().join("i"), &[sample.join("prose")], &opts, &BuildOptions::default())?;
    let index = Index::open(&dir.path().join("i"))?;

    let hamlet = std::fs::read_to_string(sample.join("prose/shakespeare/hamlet.txt"))?;
    let passage = &hamlet[20_000..20_600];
    let passage = &passage[passage.find('\n').unwrap_or(0)..];
    let mut blob: Vec<u8> = (0..65_536u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    blob.extend(passage.encode_utf16().flat_map(u16::to_le_bytes));
    blob.extend((0..4096u32).map(|i| (i.wrapping_mul(40_503) >> 7) as u8));
    let weights = dir.path().join("weights.bin");
    std::fs::write(&weights, &blob)?;
    let store = dir.path().join("datastore.jsonl");
    std::fs::write(
        &store,
        format!(
            "{}\n{}\n",
            serde_json::json!({"id": 1, "text": "a record of no work"}),
            serde_json::json!({"id": 2, "text": passage})
        ),
    )?;

    // The built-in policy redacts long copies of a proprietary work: such
    // an artefact is not for distribution.
    let policy = Policy::builtin_default();
    let mut scanner = ArtefactScanner::new(&index, &policy, policy.scan_options(), "EU")?;
    for file in [&weights, &store] {
        scanner.set_file(&file.display().to_string());
        let summary = extract_file(file, &ExtractOptions::default(), &mut scanner)?;
        scanner.end()?;
        let copies = scanner.take_copies();
        let (action, _, statement) = distribution(&copies, "built-in", "EU");
        println!("{} ({}): {action:?}, {statement}", file.display(), summary.kind);
        for c in &copies {
            let src = &c.span.sources[0];
            println!(
                "  {:?} at {:?} ({:?}, row {:?}): {} tokens of {} under {}",
                c.format,
                c.place.offset,
                c.place.encoding,
                c.place.row,
                c.span.tokens,
                src.doc_id,
                src.license
            );
        }
    }
    Ok(())
}
