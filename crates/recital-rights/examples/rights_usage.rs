//! `recital-rights`: turn a published rights signal into rights records
//! (a sidecar for `recital index build --rights`), with the provenance of
//! every field. By default it reads a Debian DEP-5 `copyright` file of this
//! machine; give any crawl (WARC), code project, REUSE.toml or ScanCode
//! JSON instead.
//!
//! `cargo run -p recital-rights --example rights_usage [PATH]`

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/share/doc/coreutils/copyright"));
    let import = recital_rights::import(&path, recital_rights::Kind::Auto)?;
    for w in &import.warnings {
        eprintln!("warning: {w}");
    }
    println!("{} record(s) from {} ({:?})", import.records.len(), path.display(), import.kind);
    for r in import.records.iter().take(5) {
        println!(
            "  {} -> {}",
            r.path.as_deref().or(r.doc_url.as_deref()).or(r.doc_id.as_deref()).unwrap_or("?"),
            r.license.as_deref().unwrap_or("NOASSERTION")
        );
    }
    // As a sidecar, provenance included:
    print!("{}", import.to_jsonl().lines().next().map(|l| format!("{l}\n")).unwrap_or_default());
    Ok(())
}
