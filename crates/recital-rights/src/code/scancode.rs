//! ScanCode toolkit JSON output (`scancode --license --copyright --json`):
//! per file, the detected licence and copyright holders.
//!
//! The licence is `detected_license_expression_spdx` (ScanCode 32 and
//! later), else the `spdx_license_key`s of the older `licenses` list joined
//! with `AND`. Holders are `holders[].holder` (`holders[].value` in older
//! versions). Paths start with the scanned directory's name unless the scan
//! ran with `--strip-root`; when every path shares one first component it is
//! taken for that root and dropped, so that paths are relative to the
//! project, as an index's document paths are.

use std::path::Path;

use serde_json::Value;

use crate::error::{Result, RightsError};
use crate::record::{resolve, Claim, Field, RightsRecord, Selector};
use crate::signal::Signal;

/// Records for every file of the ScanCode output at `path` that has a
/// licence or a holder, and warnings.
pub(crate) fn read(path: &Path) -> Result<(Vec<RightsRecord>, Vec<String>)> {
    let text = std::fs::read(path).map_err(|e| RightsError::io(path, e))?;
    let at = path.display().to_string();
    let json: Value =
        serde_json::from_slice(&text).map_err(|e| RightsError::format(&at, format!("not JSON: {e}")))?;
    let files = json
        .get("files")
        .and_then(Value::as_array)
        .ok_or_else(|| RightsError::format(&at, "no \"files\" array: not ScanCode JSON output"))?;
    let files: Vec<&Value> =
        files.iter().filter(|f| f.get("type").and_then(Value::as_str) != Some("directory")).collect();
    let paths: Vec<&str> = files.iter().filter_map(|f| f.get("path").and_then(Value::as_str)).collect();
    let root = common_root(&paths);
    let mut warnings = Vec::new();
    let mut records = Vec::new();
    for f in files {
        let Some(p) = f.get("path").and_then(Value::as_str) else { continue };
        let rel = root.map_or(p, |r| p.strip_prefix(r).and_then(|p| p.strip_prefix('/')).unwrap_or(p));
        let source = format!("{at}: {p}");
        let mut claims = Vec::new();
        if let Some(l) = license(f) {
            match recital_index::check_license(&l) {
                Ok(l) => claims.push(Claim::new(Signal::ScanCode, Field::License, l, &source)),
                Err(e) => warnings.push(format!("{source}: {e}; licence skipped")),
            }
        }
        if let Some(h) = holders(f) {
            claims.push(Claim::new(Signal::ScanCode, Field::Holder, h, &source));
        }
        records.extend(resolve(Selector::Path(rel.to_string()), claims));
    }
    Ok((records, warnings))
}

fn license(f: &Value) -> Option<String> {
    if let Some(l) =
        f.get("detected_license_expression_spdx").and_then(Value::as_str).filter(|l| !l.is_empty())
    {
        return Some(l.to_string());
    }
    let keys: Vec<&str> = f
        .get("licenses")?
        .as_array()?
        .iter()
        .filter_map(|l| l.get("spdx_license_key").and_then(Value::as_str))
        .filter(|k| !k.is_empty())
        .collect();
    (!keys.is_empty()).then(|| super::all_of(&keys))
}

fn holders(f: &Value) -> Option<String> {
    let hs: Vec<&str> = f
        .get("holders")?
        .as_array()?
        .iter()
        .filter_map(|h| h.get("holder").or_else(|| h.get("value")).and_then(Value::as_str))
        .collect();
    let mut unique: Vec<&str> = Vec::new();
    for h in hs {
        if !unique.contains(&h) {
            unique.push(h);
        }
    }
    (!unique.is_empty()).then(|| unique.join("; "))
}

/// The first path component every path shares, if there is one and every
/// path goes below it.
fn common_root<'a>(paths: &[&'a str]) -> Option<&'a str> {
    let first = paths.first()?.split('/').next()?;
    paths.iter().all(|p| p.strip_prefix(first).is_some_and(|r| r.starts_with('/'))).then_some(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_new_and_old_output() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("scan.json");
        std::fs::write(
            &p,
            r#"{"headers": [{"tool_name": "scancode-toolkit"}], "files": [
              {"path": "proj", "type": "directory"},
              {"path": "proj/src/a.c", "type": "file", "detected_license_expression_spdx": "GPL-2.0-or-later",
               "holders": [{"holder": "Jane Doe"}, {"holder": "Jane Doe"}]},
              {"path": "proj/src/b.c", "type": "file", "licenses": [{"key": "mit", "spdx_license_key": "MIT"}, {"key": "bsd-new", "spdx_license_key": "BSD-3-Clause"}]},
              {"path": "proj/README", "type": "file", "detected_license_expression_spdx": "Not A Licence"},
              {"path": "proj/empty.txt", "type": "file"}
            ]}"#,
        )
        .unwrap();
        let (records, warnings) = read(&p).unwrap();
        assert_eq!(records.len(), 2, "{records:?}");
        assert_eq!(records[0].path.as_deref(), Some("src/a.c"));
        assert_eq!(records[0].license.as_deref(), Some("GPL-2.0-or-later"));
        assert_eq!(records[0].holder.as_deref(), Some("Jane Doe"));
        assert_eq!(records[1].license.as_deref(), Some("MIT AND BSD-3-Clause"));
        assert_eq!(records[1].provenance[0].signal, "ScanCode");
        assert!(warnings.len() == 1 && warnings[0].contains("proj/README"), "{warnings:?}");
        std::fs::write(&p, "{\"files\": 3}").unwrap();
        assert!(read(&p).unwrap_err().to_string().contains("not ScanCode"));
    }
}
