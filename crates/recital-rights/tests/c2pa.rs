//! C2PA end to end through `import`: the c2pa-rs test assets
//! (tests/fixtures/c2pa) in a directory beside the texts they speak for,
//! merged per file with the other signals (an SPDX header's licence), and
//! the same store carried by a PNG and by a sidecar.

use std::path::Path;

use recital_rights::{import, Kind, RightsRecord};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/c2pa");

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(Path::new(FIXTURES).join(name)).unwrap()
}

fn record<'a>(records: &'a [RightsRecord], path: &str) -> &'a RightsRecord {
    records
        .iter()
        .find(|r| r.path.as_deref() == Some(path))
        .unwrap_or_else(|| panic!("no {path} in {records:#?}"))
}

/// The store in the JPEG fixture's APP11 segment (one segment).
fn store_of_jpeg(jpeg: &[u8]) -> Vec<u8> {
    let at = 20; // SOI, then a 16-byte JFIF APP0: the APP11 segment follows.
    assert_eq!(&jpeg[at..at + 2], b"\xff\xeb");
    let len = u16::from_be_bytes([jpeg[at + 2], jpeg[at + 3]]) as usize;
    jpeg[at + 12..at + 2 + len].to_vec()
}

/// A PNG with `store` in its caBX chunk (CRCs zero: they are not read).
fn png_with(store: &[u8]) -> Vec<u8> {
    let chunk = |kind: &[u8], data: &[u8]| {
        let mut c = (data.len() as u32).to_be_bytes().to_vec();
        c.extend_from_slice(kind);
        c.extend_from_slice(data);
        c.extend_from_slice(&[0; 4]);
        c
    };
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    out.extend(chunk(b"IHDR", &[0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0]));
    out.extend(chunk(b"caBX", store));
    out.extend(chunk(b"IEND", b""));
    out
}

#[test]
fn a_directory_of_works_with_manifests() {
    let d = tempfile::tempdir().unwrap();
    let root = d.path();
    let jpeg = fixture("C_with_CAWG_data.jpg");
    std::fs::write(root.join("cover.jpg"), &jpeg).unwrap();
    std::fs::create_dir(root.join("art")).unwrap();
    std::fs::write(root.join("art/still.png"), png_with(&store_of_jpeg(&jpeg))).unwrap();
    std::fs::write(root.join("story.txt"), "// SPDX-License-Identifier: CC-BY-4.0\nOnce upon a time.\n")
        .unwrap();
    std::fs::write(root.join("story.c2pa"), store_of_jpeg(&jpeg)).unwrap();
    std::fs::write(root.join("plain.c2pa"), fixture("manifest_data.c2pa")).unwrap();
    std::fs::write(root.join("plain.txt"), "No manifest speaks against mining this.\n").unwrap();
    let got = import(root, Kind::Auto).unwrap();
    assert_eq!(got.kind, Kind::Code);

    for path in ["cover.jpg", "art/still.png", "story.txt"] {
        let r = record(&got.records, path);
        assert_eq!(r.tdm_opt_out, Some(true), "{r:?}");
        let p = r.provenance.iter().find(|p| p.field == "tdm_opt_out").unwrap();
        assert_eq!(p.signal, "C2PA manifest");
        assert!(p.detail.as_deref().unwrap().starts_with("cawg.training-mining: notAllowed;"), "{p:?}");
    }
    // The sidecar speaks for the text; the text's own header still gives its licence.
    let story = record(&got.records, "story.txt");
    assert_eq!(story.license.as_deref(), Some("CC-BY-4.0"));
    assert_eq!(story.provenance.iter().find(|p| p.field == "tdm_opt_out").unwrap().source, "story.c2pa");
    assert!(got.records.iter().all(|r| r.path.as_deref() != Some("story.c2pa") || r.tdm_opt_out.is_none()));
    assert!(got.records.iter().all(|r| r.path.as_deref() != Some("plain.txt") || r.tdm_opt_out.is_none()));
    assert!(
        got.warnings.iter().any(|w| w.starts_with("plain.c2pa: C2PA manifest contentauth:urn:uuid:")),
        "{:?}",
        got.warnings
    );

    // Applied as a sidecar: the text is reserved, the other is not.
    let rules = recital_index::RightsRules::from_jsonl(&got.to_jsonl(), "imported", Some(root)).unwrap();
    let resolve = |path: &str| {
        let paths = [path];
        let keys = recital_index::DocKeys { id: path, paths: &paths, url: None, file: None };
        rules.resolve(&keys, None, None)
    };
    assert!(resolve("story.txt").tdm_opt_out);
    assert!(!resolve("plain.txt").tdm_opt_out);
}

#[test]
fn one_file_alone() {
    let d = tempfile::tempdir().unwrap();
    let photo = d.path().join("photo.JPG");
    std::fs::write(&photo, fixture("C_with_CAWG_data.jpg")).unwrap();
    let got = import(&photo, Kind::Auto).unwrap();
    assert_eq!(got.kind, Kind::C2pa);
    assert_eq!(got.base.as_deref(), Some(d.path()));
    assert_eq!(got.records.len(), 1);
    assert_eq!((got.records[0].path.as_deref(), got.records[0].tdm_opt_out), (Some("photo.JPG"), Some(true)));
    // A sidecar with nothing beside it: a warning, no record.
    let lone = d.path().join("lone.c2pa");
    std::fs::write(&lone, store_of_jpeg(&fixture("C_with_CAWG_data.jpg"))).unwrap();
    let got = import(&lone, Kind::C2pa).unwrap();
    assert!(got.records.is_empty());
    assert!(got.warnings[0].contains("no file lone.* beside"), "{:?}", got.warnings);
}
