//! `recital rights import`, and the signals `index build --rights-from` applies.

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use recital_index::RightsRules;
use recital_rights::{Import, Kind};

use crate::cli::{RightsImportArgs, RightsKind};

fn kind(k: RightsKind) -> Kind {
    match k {
        RightsKind::Auto => Kind::Auto,
        RightsKind::Web => Kind::Web,
        RightsKind::Code => Kind::Code,
        RightsKind::Scancode => Kind::ScanCode,
    }
}

/// Imports `path`, warning about what was skipped.
fn read(path: &Path, k: Kind) -> anyhow::Result<Import> {
    let import = recital_rights::import(path, k)?;
    for w in &import.warnings {
        tracing::warn!("{w}");
    }
    Ok(import)
}

pub fn import(a: RightsImportArgs) -> anyhow::Result<()> {
    let import = read(&a.path, kind(a.kind))?;
    let jsonl = import.to_jsonl();
    match &a.out {
        Some(out) => std::fs::write(out, jsonl).with_context(|| format!("writing {}", out.display()))?,
        None => std::io::stdout().lock().write_all(jsonl.as_bytes())?,
    }
    eprintln!("recital: {} rights record(s) from {}", import.records.len(), a.path.display());
    Ok(())
}

/// The rights rules `--rights-from PATH` applies: what `rights import` would write.
pub fn imported_rules(path: &Path) -> anyhow::Result<RightsRules> {
    let import = read(path, Kind::Auto)?;
    let label = format!("{} (imported)", path.display());
    tracing::info!("{} rights record(s) imported from {}", import.records.len(), path.display());
    Ok(RightsRules::from_jsonl(&import.to_jsonl(), &label, import.base.as_deref())?)
}
