//! `recital-policy`: a policy in TOML decides what happens to each copy a
//! scan found — allow, annotate, redact or block — per jurisdiction, with a
//! statement of reasons, and `apply` rewrites the text accordingly.
//!
//! `cargo run -p recital-policy --example policy_usage`

use std::path::Path;

use recital_detect::{scan, Input};
use recital_index::{BuildOptions, Index, IngestOptions, RightsRules};
use recital_policy::{apply, Policy, Request};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let sample = root.join("data/sample");
    let dir = tempfile::tempdir()?;
    let at = dir.path().join("index");
    let opts =
        IngestOptions { rights: RightsRules::load(&sample.join("rights.jsonl"))?, ..Default::default() };
    recital_index::build(&at, &[sample.join("prose"), sample.join("code")], &opts, &BuildOptions::default())?;
    let index = Index::open(&at)?;

    // The EU-only preset: copies of opted-out works are redacted in the EU only.
    let policy = Policy::load(&root.join("policies/eu-only.toml"))?;
    let output = std::fs::read_to_string(sample.join("outputs/demo.txt"))?;
    let report = scan(&index, &Input::decode(output.as_bytes())?, &policy.scan_options())?;
    for j in ["EU", "US"] {
        let d = policy.decide(&report, &Request::from_jurisdiction(j));
        println!("{j}: {:?}\n  {}", d.action, d.statement);
        let shown = apply(&output, &report, &d);
        match shown.text {
            Some(t) => println!("  shown: {}…", t.chars().take(160).collect::<String>()),
            None => println!("  blocked"),
        }
    }
    Ok(())
}
