//! Code signals end to end: real Debian DEP-5 `copyright` files (this
//! machine's `/usr/share/doc/*/copyright`, and coreutils' as a fixture), a
//! REUSE project's real `.reuse/dep5` (the `half` crate's, 2.7.1), and a
//! generated project in which every code signal speaks, to check the
//! precedence.

use std::path::Path;

use recital_rights::{import, Kind, RightsRecord};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

fn record<'a>(records: &'a [RightsRecord], path: &str) -> &'a RightsRecord {
    records
        .iter()
        .find(|r| r.path.as_deref() == Some(path))
        .unwrap_or_else(|| panic!("no {path} in {records:#?}"))
}

fn signals(r: &RightsRecord, field: &str) -> Vec<(String, bool)> {
    r.provenance.iter().filter(|p| p.field == field).map(|p| (p.signal.clone(), p.applied)).collect()
}

#[test]
fn coreutils_copyright_gives_one_rule_per_files_pattern() {
    let got = import(&Path::new(FIXTURES).join("debian/coreutils.copyright"), Kind::Auto).unwrap();
    assert_eq!(got.kind, Kind::Code);
    let all = record(&got.records, "*");
    assert_eq!(all.license.as_deref(), Some("GPL-3.0-or-later"));
    assert_eq!(all.holder.as_deref(), Some("(C) 1984-2008 Free Software Foundation, Inc."));
    // `Files: lib/fts.c lib/fts_.h` is two rules, after `*` (later rules override).
    let fts = got.records.iter().position(|r| r.path.as_deref() == Some("lib/fts.c")).unwrap();
    assert!(fts > got.records.iter().position(|r| r.path.as_deref() == Some("*")).unwrap());
    assert_eq!(got.records[fts].license.as_deref(), Some("GPL-3.0-or-later AND BSD-4-Clause-UC"));
    assert!(
        got.records[fts].provenance[0].source.ends_with("coreutils.copyright:12"),
        "{:?}",
        got.records[fts].provenance
    );
    // Applied as a sidecar, the last matching paragraph wins.
    let rules = recital_index::RightsRules::from_jsonl(&got.to_jsonl(), "coreutils", None).unwrap();
    let keys = |p: &'static str| recital_index::DocKeys {
        id: p,
        paths: Box::leak(Box::new([p])),
        url: None,
        file: None,
    };
    assert_eq!(rules.resolve(&keys("lib/fts.c"), None, None).license, "GPL-3.0-or-later AND BSD-4-Clause-UC");
    assert_eq!(rules.resolve(&keys("src/ls.c"), None, None).license, "GPL-3.0-or-later");
}

#[test]
fn every_machine_readable_copyright_file_on_this_machine_imports() {
    let mut files = 0;
    let mut records = 0;
    // Packages built from one source share its file (Boost's 2 MB one, a dozen times): each text once.
    let mut seen = std::collections::HashSet::new();
    let mut dirs: Vec<_> =
        std::fs::read_dir("/usr/share/doc").expect("/usr/share/doc (Debian) is readable").collect();
    dirs.sort_by_key(|e| e.as_ref().map(|e| e.path()).ok());
    for entry in dirs {
        let path = entry.unwrap().path().join("copyright");
        let Ok(text) = std::fs::read_to_string(&path) else { continue };
        if !text.starts_with("Format:") || !seen.insert(text) {
            continue;
        }
        files += 1;
        let got = import(&path, Kind::Code).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        for r in &got.records {
            if let Some(l) = &r.license {
                assert!(recital_index::check_license(l).is_ok(), "{}: {l:?} is not SPDX", path.display());
            }
        }
        // What the import writes, the index reads.
        recital_index::RightsRules::from_jsonl(&got.to_jsonl(), &path.display().to_string(), None)
            .unwrap_or_else(|e| panic!("{e}"));
        records += got.records.len();
    }
    assert!(files >= 10, "only {files} machine-readable copyright files under /usr/share/doc");
    assert!(records >= files, "{records} records from {files} files");
}

#[test]
fn a_reuse_projects_dep5() {
    let got = import(&Path::new(FIXTURES).join("half-2.7.1"), Kind::Auto).unwrap();
    assert_eq!(got.kind, Kind::Code);
    assert!(got.warnings.is_empty(), "{:?}", got.warnings);
    for path in ["README.md", "src/lib.rs"] {
        let r = record(&got.records, path);
        assert_eq!(r.license.as_deref(), Some("MIT OR Apache-2.0"));
        assert_eq!(r.holder.as_deref(), Some("2021 Kathryn Long <squeeself@gmail.com>"));
        assert_eq!(signals(r, "license"), [(".reuse/dep5".to_string(), true)]);
    }
    assert_eq!(got.records.len(), 2, "the dep5 file itself is not a work");
}

#[test]
fn every_code_signal_at_once_follows_the_precedence() {
    let d = tempfile::tempdir().unwrap();
    let w = |p: &str, s: &str| {
        let p = d.path().join(p);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, s).unwrap();
    };
    w(
        "REUSE.toml",
        "version = 1\n\n[[annotations]]\npath = \"src/**\"\nSPDX-FileCopyrightText = \"2024 Project\"\nSPDX-License-Identifier = \"Apache-2.0\"\n\n\
         [[annotations]]\npath = \"src/vendor/**\"\nprecedence = \"override\"\nSPDX-License-Identifier = \"BSD-2-Clause\"\n\n\
         [[annotations]]\npath = \"src/both.c\"\nprecedence = \"aggregate\"\nSPDX-License-Identifier = \"MIT\"\n",
    );
    w(
        "debian/copyright",
        "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\nFiles: *\nCopyright: 2020 Packager\nLicense: GPL-2+\n",
    );
    w("src/plain.c", "int plain;\n");
    w("src/own.c", "// SPDX-FileCopyrightText: 2023 Jane Doe\n// SPDX-License-Identifier: MIT\nint own;\n");
    w("src/vendor/v.c", "// SPDX-License-Identifier: GPL-3.0-only\nint v;\n");
    w("src/both.c", "// SPDX-License-Identifier: ISC\nint both;\n");
    w("docs/guide.md", "A guide.\n");
    w("LICENSES/MIT.txt", "MIT License text\n");
    let got = import(d.path(), Kind::Auto).unwrap();
    assert!(got.warnings.is_empty(), "{:?}", got.warnings);
    assert_eq!(got.base.as_deref(), Some(d.path()));
    let s = |v: &[(&str, bool)]| v.iter().map(|(a, b)| (a.to_string(), *b)).collect::<Vec<_>>();
    // REUSE.toml over debian/copyright.
    let plain = record(&got.records, "src/plain.c");
    assert!(plain.iscc.as_deref().is_some_and(|c| c.starts_with("ISCC:EAA")), "{plain:?}");
    assert_eq!(signals(plain, "iscc"), s(&[("ISCC Text-Code", true)]));
    assert_eq!(plain.license.as_deref(), Some("Apache-2.0"));
    assert_eq!(signals(plain, "license"), s(&[("REUSE.toml", true), ("debian/copyright", false)]));
    // The file's own header over REUSE.toml (closest).
    let own = record(&got.records, "src/own.c");
    assert_eq!((own.license.as_deref(), own.holder.as_deref()), (Some("MIT"), Some("2023 Jane Doe")));
    assert_eq!(
        signals(own, "license"),
        s(&[("SPDX header", true), ("REUSE.toml", false), ("debian/copyright", false)])
    );
    // override: the annotation over the header.
    let v = record(&got.records, "src/vendor/v.c");
    assert_eq!(v.license.as_deref(), Some("BSD-2-Clause"));
    assert_eq!(signals(v, "license")[..2], s(&[("REUSE.toml", true), ("SPDX header", false)])[..]);
    // aggregate: both.
    assert_eq!(record(&got.records, "src/both.c").license.as_deref(), Some("ISC AND MIT"));
    // Only debian/copyright speaks for docs; LICENSES/ and debian/ are not works.
    assert_eq!(record(&got.records, "docs/guide.md").license.as_deref(), Some("GPL-2.0-or-later"));
    assert!(!got
        .records
        .iter()
        .any(|r| r.path.as_deref().is_some_and(|p| p.starts_with("LICENSES") || p.starts_with("debian"))));
    // A REUSE.toml that is not valid is an error naming it.
    w("REUSE.toml", "version = 1\n[[annotations]]\npath = \"*\"\nSPDX-License-Identifier = \"GPL 3\"\n");
    let e = import(d.path(), Kind::Auto).unwrap_err().to_string();
    assert!(e.contains("REUSE.toml") && e.contains("annotation 1"), "{e}");
}
