//! C2PA manifests: the training-and-mining assertion of a file's active
//! manifest, read as a text-and-data-mining reservation.
//!
//! ## What is read
//!
//! The manifest store of a JPEG (APP11 segments), a PNG (`caBX` chunk) or
//! a sidecar `.c2pa` file (the store itself, which speaks for the file of
//! the same stem beside it: `photo.c2pa` for `photo.jpg`, `story.c2pa` for
//! `story.txt`). Of the store, the *active* manifest (the last one, as the
//! C2PA specification says; earlier ones are the ingredients' history, but
//! when the active one is an update manifest without the assertion, the
//! last standard manifest, whose statement it leaves standing) and
//! in it the assertions `c2pa.training-mining` and `cawg.training-mining`
//! (any version or instance: `.v2`, `__1`), whose `entries` map
//! `c2pa.ai_training`, `c2pa.ai_generative_training`, `c2pa.data_mining`
//! and `c2pa.ai_inference` (or their `cawg.` names) to `{use, constraint_info}`.
//! Older drafts' stand-alone assertions labelled with an entry's name are
//! read as that one entry. CBOR and JSON assertions are both read.
//!
//! ## What it means
//!
//! Training and data mining are text and data mining in the sense of CDSM
//! Art. 2(2); inference (using a model on the file) is not, so
//! `ai_inference` is kept in the provenance's detail but decides nothing.
//! Of the other entries the strictest decides: `notAllowed` reserves TDM
//! rights (`tdm_opt_out: true`); so does `constrained`, which allows
//! mining only on conditions (`constraint_info`, kept as `tdm_policy`, as
//! TDMRep keeps a `tdm-policy`) that nothing here can check were met;
//! `allowed` throughout states that there is no reservation.
//!
//! ## Not validated
//!
//! The claim signature (COSE, X.509) and the hard binding to the asset's
//! bytes are not checked: provenance says `signature present, not
//! validated` or `unsigned`. Validating needs the `c2pa` crate, whose build
//! is out of proportion for reading one assertion (the crate documentation
//! has the numbers); the JUMBF and CBOR around the assertion are read here
//! (`ciborium` for the CBOR). A
//! forged manifest can at worst reserve rights the holder did not, or lift a
//! reservation no other signal made; a TDMRep or robots.txt statement about
//! the same document is a different record (by URL, not by path).

mod carrier;
mod jumbf;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Result, RightsError};
use crate::record::{resolve, Claim, Field, RightsRecord, Selector};
use crate::signal::Signal;

use self::carrier::Format;
use self::jumbf::SuperBox;

/// Labels of the training-and-mining assertion (C2PA 1.x/2.x and CAWG).
const ASSERTIONS: [&str; 2] = ["c2pa.training-mining", "cawg.training-mining"];

/// Entry names (after the `c2pa.`/`cawg.` namespace) that are text and data
/// mining; `ai_inference` is not.
const TDM_ENTRIES: [&str; 3] = ["ai_training", "ai_generative_training", "data_mining"];

/// All entry names, for the older stand-alone assertions.
const ENTRIES: [&str; 4] = ["ai_training", "ai_generative_training", "data_mining", "ai_inference"];

/// How a training-and-mining entry lets the asset be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Usage {
    /// `allowed`.
    Allowed,
    /// `constrained`: allowed on the conditions of `constraint_info`.
    Constrained,
    /// `notAllowed`.
    NotAllowed,
}

impl Usage {
    fn parse(s: &str) -> Option<Usage> {
        match s {
            "allowed" => Some(Usage::Allowed),
            "constrained" => Some(Usage::Constrained),
            "notAllowed" => Some(Usage::NotAllowed),
            _ => None,
        }
    }

    /// The specification's spelling (`notAllowed`).
    pub fn as_str(self) -> &'static str {
        match self {
            Usage::Allowed => "allowed",
            Usage::Constrained => "constrained",
            Usage::NotAllowed => "notAllowed",
        }
    }
}

/// One entry of a training-and-mining assertion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TdmEntry {
    /// The entry (`c2pa.ai_training`, `cawg.data_mining`…).
    pub name: String,
    /// What it allows.
    pub usage: Usage,
    /// The conditions of a `constrained` use, as the manifest states them.
    pub constraint_info: Option<String>,
}

impl TdmEntry {
    /// Whether the entry is about text and data mining (training or mining,
    /// not inference).
    pub fn is_tdm(&self) -> bool {
        TDM_ENTRIES.contains(&local(&self.name))
    }
}

/// One training-and-mining assertion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrainingMining {
    /// Its label in the manifest (`c2pa.training-mining`, `cawg.training-mining__1`).
    pub label: String,
    /// Its entries, in name order.
    pub entries: Vec<TdmEntry>,
}

/// What the active manifest of a C2PA manifest store says, as far as
/// rights go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct C2paManifest {
    /// The manifest's label (`urn:c2pa:…`, `urn:uuid:…`).
    pub label: String,
    /// The claim generator (`name version` of its first tool).
    pub claim_generator: Option<String>,
    /// The claim's `dc:title`.
    pub title: Option<String>,
    /// Whether a claim signature is present (it is not validated).
    pub signed: bool,
    /// Where the store was found (`JPEG APP11 segments`, `PNG caBX chunk`, `manifest store`).
    pub place: &'static str,
    /// The training-and-mining assertions.
    pub training_mining: Vec<TrainingMining>,
    /// Assertions skipped because they do not parse, each saying why.
    pub warnings: Vec<String>,
}

impl C2paManifest {
    /// The active manifest of the store that `bytes` (a JPEG, a PNG, or a
    /// manifest store) carry; `Ok(None)` when they are of another format or
    /// carry no store. `name` names them in errors.
    ///
    /// # Errors
    /// The store is truncated, lies about its lengths, or is not a C2PA
    /// store with a manifest.
    pub fn read(bytes: &[u8], name: &str) -> Result<Option<C2paManifest>> {
        let Some(format) = Format::sniff(bytes) else { return Ok(None) };
        let fail = |why: String| RightsError::format(name, format!("C2PA {}: {why}", format.place()));
        let Some(store) = carrier::store(bytes, format).map_err(fail)? else { return Ok(None) };
        let root = SuperBox::parse(&store).map_err(fail)?;
        if &root.kind != b"c2pa" {
            return Err(fail("not a C2PA manifest store".into()));
        }
        let manifests: Vec<&SuperBox<'_>> =
            root.supers().filter(|s| matches!(&s.kind, b"c2ma" | b"c2um")).collect();
        let active = manifests.last().ok_or_else(|| fail("no manifest in the store".into()))?;
        let m = Self::of(active, format.place());
        if &active.kind == b"c2um" && m.training_mining.is_empty() {
            // An update manifest (new metadata, same content) leaves the
            // asset's statement where it was: its last standard manifest.
            if let Some(standard) = manifests.iter().rev().find(|s| &s.kind == b"c2ma") {
                let mut earlier = Self::of(standard, format.place());
                earlier.warnings.splice(0..0, m.warnings);
                return Ok(Some(earlier));
            }
        }
        Ok(Some(m))
    }

    fn of(manifest: &SuperBox<'_>, place: &'static str) -> C2paManifest {
        let claim = manifest
            .supers()
            .find(|s| s.label == "c2pa.claim" || s.label == "c2pa.claim.v2")
            .and_then(|c| c.content())
            .and_then(|(_, b)| ciborium::from_reader::<ciborium::Value, _>(b).ok());
        let mut m = C2paManifest {
            label: manifest.label.clone(),
            claim_generator: claim.as_ref().and_then(claim_generator),
            title: claim.as_ref().and_then(|c| text(c, "dc:title")),
            signed: manifest
                .child("c2pa.signature")
                .and_then(|s| s.content())
                .is_some_and(|(_, b)| !b.is_empty()),
            place,
            training_mining: Vec::new(),
            warnings: Vec::new(),
        };
        for a in manifest.child("c2pa.assertions").into_iter().flat_map(|s| s.supers()) {
            match training_mining(a) {
                Ok(Some(t)) => m.training_mining.push(t),
                Ok(None) => {}
                Err(e) => {
                    m.warnings.push(format!("C2PA manifest {}: assertion {}: {e}; skipped", m.label, a.label))
                }
            }
        }
        m
    }

    /// Whether the manifest reserves text-and-data-mining rights: the
    /// strictest of its training and mining entries; `None` when it has none.
    pub fn tdm_opt_out(&self) -> Option<bool> {
        self.strictest().map(|(_, e)| e.usage != Usage::Allowed)
    }

    /// The strictest TDM entry and its assertion (the first at equal use).
    fn strictest(&self) -> Option<(&TrainingMining, &TdmEntry)> {
        let all = self.training_mining.iter().flat_map(|t| t.entries.iter().map(move |e| (t, e)));
        all.filter(|(_, e)| e.is_tdm()).fold(None, |best, (t, e)| match best {
            Some((_, b)) if b.usage >= e.usage => best,
            _ => Some((t, e)),
        })
    }

    /// The statements for a rights record, read from `source`.
    pub(crate) fn claims(&self, source: &str) -> Vec<Claim> {
        let Some((assertion, decisive)) = self.strictest() else { return Vec::new() };
        let opt_out = decisive.usage != Usage::Allowed;
        let entries: Vec<String> = self
            .training_mining
            .iter()
            .flat_map(|t| &t.entries)
            .map(|e| format!("{} {}", e.name, e.usage.as_str()))
            .collect();
        let detail = format!(
            "{}: {}; entries {}; manifest {}{}; {}",
            base_label(&assertion.label),
            decisive.usage.as_str(),
            entries.join(", "),
            self.label,
            self.claim_generator.as_deref().map(|g| format!(", claim generator {g}")).unwrap_or_default(),
            if self.signed { "signature present, not validated" } else { "unsigned" },
        );
        let mut out =
            vec![Claim::new(Signal::C2pa, Field::TdmOptOut, opt_out.to_string(), source).detail(&detail)];
        let terms = self.training_mining.iter().flat_map(|t| &t.entries).find_map(|e| {
            (e.is_tdm() && e.usage == Usage::Constrained).then_some(e.constraint_info.as_deref()).flatten()
        });
        if let Some(terms) = terms.filter(|t| !t.trim().is_empty()) {
            out.push(Claim::new(Signal::C2pa, Field::TdmPolicy, terms.trim(), source).detail(detail));
        }
        out
    }
}

/// The training-and-mining assertion that `a` is, if it is one.
fn training_mining(a: &SuperBox<'_>) -> Result<Option<TrainingMining>, String> {
    let base = base_label(&a.label);
    let standalone = ENTRIES.contains(&local(base)) && base.contains('.');
    if !ASSERTIONS.contains(&base) && !standalone {
        return Ok(None);
    }
    let (kind, body) = a.content().ok_or("no content box")?;
    let raw: BTreeMap<String, RawEntry> = if standalone {
        BTreeMap::from([(base.to_string(), decode::<RawEntry>(&kind, body)?)])
    } else {
        decode::<RawAssertion>(&kind, body)?.entries
    };
    let mut entries = Vec::with_capacity(raw.len());
    for (name, e) in raw {
        let usage =
            Usage::parse(&e.usage).ok_or_else(|| format!("entry {name}: unknown use {:?}", e.usage))?;
        entries.push(TdmEntry { name, usage, constraint_info: e.constraint_info });
    }
    Ok(Some(TrainingMining { label: a.label.clone(), entries }))
}

#[derive(Deserialize)]
struct RawAssertion {
    entries: BTreeMap<String, RawEntry>,
}

#[derive(Deserialize)]
struct RawEntry {
    #[serde(rename = "use")]
    usage: String,
    #[serde(default)]
    constraint_info: Option<String>,
}

/// A CBOR or JSON content box as `T`.
fn decode<T: serde::de::DeserializeOwned>(kind: &[u8; 4], body: &[u8]) -> Result<T, String> {
    match kind {
        b"cbor" => ciborium::from_reader(body).map_err(|e| format!("CBOR: {e}")),
        b"json" => serde_json::from_slice(body).map_err(|e| format!("JSON: {e}")),
        other => Err(format!("content box {} is neither CBOR nor JSON", other.escape_ascii())),
    }
}

/// An assertion's label without its instance (`__1`) and version (`.v2`).
fn base_label(label: &str) -> &str {
    let numbered = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let l = label.rsplit_once("__").filter(|(_, n)| numbered(n)).map_or(label, |(l, _)| l);
    l.rsplit_once(".v").filter(|(_, n)| numbered(n)).map_or(l, |(l, _)| l)
}

/// An entry's name without its namespace (`c2pa.ai_training` → `ai_training`).
fn local(name: &str) -> &str {
    name.rsplit_once('.').map_or(name, |(_, n)| n)
}

/// `name version` of the claim's generator: `claim_generator_info` (C2PA 2,
/// a map or a list of maps) or `claim_generator` (C2PA 1, a string).
fn claim_generator(claim: &ciborium::Value) -> Option<String> {
    if let Some(info) = field(claim, "claim_generator_info") {
        let first = info.as_array().and_then(|a| a.first()).unwrap_or(info);
        let name = text(first, "name")?;
        return Some(match text(first, "version") {
            Some(v) => format!("{name} {v}"),
            None => name,
        });
    }
    text(claim, "claim_generator")
}

fn field<'a>(map: &'a ciborium::Value, key: &str) -> Option<&'a ciborium::Value> {
    map.as_map()?.iter().find(|(k, _)| k.as_text() == Some(key)).map(|(_, v)| v)
}

fn text(map: &ciborium::Value, key: &str) -> Option<String> {
    field(map, key)?.as_text().map(str::to_string)
}

/// Extensions of the files a C2PA store is looked for in.
const CARRIERS: [&str; 4] = ["jpg", "jpeg", "png", "c2pa"];

/// Whether `path` is a file a C2PA store is looked for in (by extension).
pub(crate) fn is_carrier(path: &Path) -> bool {
    path.extension().is_some_and(|e| CARRIERS.iter().any(|c| e.eq_ignore_ascii_case(c)))
}

/// A file's path, and what a C2PA manifest says about it.
pub(crate) type Statements = (String, Vec<Claim>);

/// The statements of the C2PA file at `path` (`rel` names it) by the file
/// they speak for (relative like `rel`): the file itself, or for a sidecar
/// `.c2pa` the files of its stem among `files`; `None` when the file holds
/// no manifest store. Skipped assertions, a manifest without a
/// training-and-mining assertion and a sidecar beside no file are warnings.
///
/// # Errors
/// The file cannot be read, or its manifest store is broken.
pub(crate) fn statements(
    path: &Path,
    rel: &str,
    files: &[String],
    warnings: &mut Vec<String>,
) -> Result<Option<Vec<Statements>>> {
    let bytes = std::fs::read(path).map_err(|e| RightsError::io(path, e))?;
    let Some(m) = C2paManifest::read(&bytes, rel)? else { return Ok(None) };
    warnings.extend(m.warnings.iter().map(|w| format!("{rel}: {w}")));
    let claims = m.claims(rel);
    if claims.is_empty() {
        warnings.push(format!("{rel}: C2PA manifest {} has no training-and-mining assertion", m.label));
        return Ok(Some(Vec::new()));
    }
    let sidecar = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("c2pa"));
    if !sidecar {
        return Ok(Some(vec![(rel.to_string(), claims)]));
    }
    let stem = &rel[..rel.len() - ".c2pa".len()];
    let targets: Vec<(String, Vec<Claim>)> = files
        .iter()
        .filter(|f| *f != rel && f.strip_prefix(stem).is_some_and(|t| t.starts_with('.') && !t.contains('/')))
        .map(|f| (f.clone(), claims.clone()))
        .collect();
    if targets.is_empty() {
        warnings
            .push(format!("{rel}: no file {stem}.* beside this C2PA sidecar for it to speak for; skipped"));
    }
    Ok(Some(targets))
}

/// Records from one C2PA file (`recital rights import photo.jpg`), selected
/// by path relative to its directory.
///
/// # Errors
/// The file cannot be read, carries no C2PA manifest store, or its store is
/// broken.
pub(crate) fn import_file(path: &Path) -> Result<(Vec<RightsRecord>, Vec<String>, Option<PathBuf>)> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let rel = path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
    let siblings: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| RightsError::io(dir, e))?
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .map(|e| e.file_name().to_string_lossy().to_string())
        .collect();
    let mut warnings = Vec::new();
    let mut found =
        statements(path, &rel, &siblings, &mut warnings)?.ok_or_else(|| RightsError::Unrecognised {
            path: path.to_path_buf(),
            why: "no C2PA manifest store (looked for JPEG APP11 segments, a PNG caBX chunk, a .c2pa store)"
                .into(),
        })?;
    let mut records = Vec::new();
    found.sort_by(|a, b| a.0.cmp(&b.0));
    for (target, claims) in found {
        records.extend(resolve(Selector::Path(target), claims));
    }
    Ok((records, warnings, Some(dir.to_path_buf())))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::c2pa::carrier::tests::{jpeg_with, png_with};
    use crate::c2pa::jumbf::tests::{boxed, superbox};

    fn cbor(v: serde_json::Value) -> Vec<u8> {
        let mut out = Vec::new();
        ciborium::into_writer(&v, &mut out).unwrap();
        out
    }

    /// A manifest store whose one manifest holds `assertions` (label, CBOR),
    /// a C2PA 2 claim and, if `signed`, a signature box.
    pub(crate) fn store_with(assertions: &[(&str, Vec<u8>)], signed: bool) -> Vec<u8> {
        let boxes: Vec<Vec<u8>> =
            assertions.iter().map(|(l, c)| superbox(b"cbor", l, &[boxed(b"cbor", c)])).collect();
        let claim = cbor(serde_json::json!({
            "claim_generator_info": [{"name": "recital-test", "version": "1.0"}],
            "dc:title": "photo.jpg",
        }));
        let mut parts = vec![
            superbox(b"c2as", "c2pa.assertions", &boxes),
            superbox(b"c2cl", "c2pa.claim.v2", &[boxed(b"cbor", &claim)]),
        ];
        if signed {
            parts.push(superbox(b"c2cs", "c2pa.signature", &[boxed(b"cbor", b"\xd2\x84")]));
        }
        superbox(b"c2pa", "c2pa", &[superbox(b"c2ma", "urn:c2pa:test", &parts)])
    }

    /// A `c2pa.training-mining` assertion's CBOR.
    pub(crate) fn training(entries: serde_json::Value) -> Vec<u8> {
        cbor(serde_json::json!({ "entries": entries }))
    }

    fn fixture(name: &str) -> Vec<u8> {
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/c2pa").join(name)).unwrap()
    }

    #[test]
    fn the_cawg_fixture_reserves_tdm() {
        let m =
            C2paManifest::read(&fixture("C_with_CAWG_data.jpg"), "C_with_CAWG_data.jpg").unwrap().unwrap();
        assert_eq!(m.label, "urn:c2pa:822f2ec0-ef27-4d95-88b4-74586c12873d");
        assert!(m.signed && m.warnings.is_empty(), "{m:?}");
        assert_eq!(m.place, "JPEG APP11 segments");
        let t = &m.training_mining[0];
        assert_eq!(t.label, "cawg.training-mining");
        let names: Vec<(&str, Usage)> = t.entries.iter().map(|e| (e.name.as_str(), e.usage)).collect();
        assert_eq!(
            names,
            [("cawg.ai_generative_training", Usage::NotAllowed), ("cawg.ai_inference", Usage::NotAllowed)]
        );
        assert_eq!(m.tdm_opt_out(), Some(true));
        let c = m.claims("C_with_CAWG_data.jpg");
        assert_eq!(c.len(), 1);
        let d = c[0].detail.as_deref().unwrap();
        assert_eq!(
            d,
            "cawg.training-mining: notAllowed; entries cawg.ai_generative_training notAllowed, \
             cawg.ai_inference notAllowed; manifest urn:c2pa:822f2ec0-ef27-4d95-88b4-74586c12873d, \
             claim generator c2pa cawg test 0.58.0; signature present, not validated"
        );
        assert_eq!(m.title.as_deref(), Some("C_with_CAWG_data.jpg"));
    }

    #[test]
    fn a_store_without_the_assertion_says_nothing() {
        let m = C2paManifest::read(&fixture("manifest_data.c2pa"), "manifest_data.c2pa").unwrap().unwrap();
        assert_eq!(m.label, "contentauth:urn:uuid:b2b1f7fa-b119-4de1-9c0d-c97fbea3f2c3");
        assert_eq!(m.place, "manifest store");
        assert!(m.training_mining.is_empty() && m.signed, "{m:?}");
        assert_eq!(m.claim_generator.as_deref(), Some("make_test_images 0.33.1"));
        assert_eq!(m.tdm_opt_out(), None);
        assert!(m.claims("a.jpg").is_empty());
    }

    #[test]
    fn the_strictest_tdm_entry_decides_and_inference_does_not() {
        let decide = |entries: serde_json::Value| {
            let s = store_with(&[("c2pa.training-mining", training(entries))], false);
            let m = C2paManifest::read(&s, "s").unwrap().unwrap();
            (m.tdm_opt_out(), m.claims("photo.jpg"))
        };
        let (o, c) = decide(serde_json::json!({
            "c2pa.ai_training": {"use": "allowed"},
            "c2pa.data_mining": {"use": "constrained", "constraint_info": " https://example.org/terms "},
            "c2pa.ai_inference": {"use": "notAllowed"},
        }));
        assert_eq!(o, Some(true));
        assert_eq!((c[0].value.as_str(), c[1].value.as_str()), ("true", "https://example.org/terms"));
        assert!(c[0].detail.as_deref().unwrap().starts_with("c2pa.training-mining: constrained;"));
        assert!(c[0].detail.as_deref().unwrap().ends_with("claim generator recital-test 1.0; unsigned"));
        let (o, c) = decide(
            serde_json::json!({"c2pa.ai_training": {"use": "allowed"}, "c2pa.ai_inference": {"use": "notAllowed"}}),
        );
        assert_eq!((o, c.len(), c[0].value.as_str()), (Some(false), 1, "false"));
        let (o, c) = decide(serde_json::json!({"c2pa.ai_inference": {"use": "notAllowed"}}));
        assert_eq!((o, c.len()), (None, 0));
    }

    #[test]
    fn labels_versions_instances_and_older_forms_are_read() {
        assert_eq!(base_label("c2pa.training-mining.v2__3"), "c2pa.training-mining");
        assert_eq!(base_label("cawg.training-mining__1"), "cawg.training-mining");
        assert_eq!(base_label("c2pa.v"), "c2pa.v");
        let old = cbor(serde_json::json!({"use": "notAllowed"}));
        let s = store_with(&[("c2pa.data_mining", old), ("c2pa.actions", cbor(serde_json::json!({})))], true);
        let m = C2paManifest::read(&s, "s").unwrap().unwrap();
        assert_eq!(m.training_mining.len(), 1);
        assert_eq!(m.tdm_opt_out(), Some(true));
        assert!(m.claims("x")[0].detail.as_deref().unwrap().starts_with("c2pa.data_mining: notAllowed;"));
        // A JSON assertion reads as its CBOR would.
        let json = superbox(
            b"json",
            "c2pa.training-mining",
            &[boxed(b"json", br#"{"entries": {"c2pa.ai_training": {"use": "notAllowed"}}}"#)],
        );
        let store = superbox(
            b"c2pa",
            "c2pa",
            &[superbox(b"c2ma", "urn:j", &[superbox(b"c2as", "c2pa.assertions", &[json])])],
        );
        assert_eq!(C2paManifest::read(&store, "s").unwrap().unwrap().tdm_opt_out(), Some(true));
    }

    #[test]
    fn the_last_manifest_is_the_active_one() {
        let ingredient = store_with(
            &[(
                "c2pa.training-mining",
                training(serde_json::json!({"c2pa.ai_training": {"use": "notAllowed"}})),
            )],
            true,
        );
        // Take the ingredient's manifest box out of its store and put a bare manifest after it.
        let inner = SuperBox::parse(&ingredient).unwrap();
        assert_eq!(inner.supers().count(), 1);
        let manifest_box = ingredient[8 + 8 + 22..].to_vec();
        let active = superbox(b"c2ma", "urn:active", &[superbox(b"c2as", "c2pa.assertions", &[])]);
        let store = superbox(b"c2pa", "c2pa", &[manifest_box, active]);
        let m = C2paManifest::read(&store, "s").unwrap().unwrap();
        assert_eq!((m.label.as_str(), m.tdm_opt_out()), ("urn:active", None));
        // An update manifest on top leaves the standard one's statement standing.
        let update = superbox(b"c2um", "urn:update", &[superbox(b"c2as", "c2pa.assertions", &[])]);
        let store = superbox(b"c2pa", "c2pa", &[ingredient[8 + 8 + 22..].to_vec(), update]);
        let m = C2paManifest::read(&store, "s").unwrap().unwrap();
        assert_eq!((m.label.as_str(), m.tdm_opt_out()), ("urn:c2pa:test", Some(true)));
    }

    #[test]
    fn carriers_give_the_same_manifest() {
        let s = store_with(
            &[(
                "cawg.training-mining",
                training(serde_json::json!({"cawg.ai_training": {"use": "notAllowed"}})),
            )],
            true,
        );
        let bare = C2paManifest::read(&s, "s").unwrap().unwrap();
        for (bytes, place) in [(jpeg_with(&s, 50), "JPEG APP11 segments"), (png_with(&s), "PNG caBX chunk")] {
            let m = C2paManifest::read(&bytes, "f").unwrap().unwrap();
            assert_eq!(m.place, place);
            assert_eq!(m.training_mining, bare.training_mining);
        }
        assert_eq!(C2paManifest::read(b"plain text", "t").unwrap(), None);
        assert!(C2paManifest::read(&png_with(b""), "t").is_err(), "an empty caBX is an error");
    }

    #[test]
    fn bad_stores_are_errors_or_warnings_never_panics() {
        let not_c2pa = superbox(b"xxxx", "other", &[]);
        let e = C2paManifest::read(&not_c2pa, "a.c2pa").unwrap_err().to_string();
        assert!(e.starts_with("a.c2pa: C2PA manifest store: not a C2PA manifest store"), "{e}");
        let e = C2paManifest::read(&superbox(b"c2pa", "c2pa", &[]), "a.c2pa").unwrap_err().to_string();
        assert!(e.contains("no manifest"), "{e}");
        let garbage = cbor(serde_json::json!({"entries": {"c2pa.ai_training": {"use": "maybe"}}}));
        let s = store_with(
            &[("c2pa.training-mining", garbage), ("cawg.training-mining", vec![0xbf, 0xff, 0x13])],
            false,
        );
        let m = C2paManifest::read(&s, "s").unwrap().unwrap();
        assert_eq!(m.tdm_opt_out(), None);
        assert_eq!(m.warnings.len(), 2, "{:?}", m.warnings);
        assert!(m.warnings[0].contains("unknown use \"maybe\"; skipped"), "{:?}", m.warnings);
        // Every truncation of a real store is handled.
        let real = fixture("C_with_CAWG_data.jpg");
        for cut in (0..60_000).step_by(97) {
            let _ = C2paManifest::read(&real[..cut], "cut.jpg");
        }
    }

    proptest::proptest! {
        #[test]
        fn any_split_of_the_store_into_app11_segments_reads_the_same(piece in 9usize..600, flip in 0usize..2000, byte: u8) {
            let s = store_with(&[("c2pa.training-mining", training(serde_json::json!({"c2pa.ai_training": {"use": "notAllowed"}})))], true);
            let m = C2paManifest::read(&jpeg_with(&s, piece), "p").unwrap().unwrap();
            proptest::prop_assert_eq!(m.tdm_opt_out(), Some(true));
            let mut bad = s.clone();
            let i = flip % bad.len();
            bad[i] = byte;
            let _ = C2paManifest::read(&bad, "bad");
        }
    }
}
