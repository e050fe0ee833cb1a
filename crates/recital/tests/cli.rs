//! Integration tests that run the real `recital` binary.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn recital() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_recital"));
    c.env_remove("RECITAL_FAILPOINT").env("NO_COLOR", "1");
    c
}

fn run(args: &[&str]) -> Output {
    recital().args(args).output().expect("binary runs")
}

fn ok(args: &[&str]) -> String {
    let o = run(args);
    assert!(o.status.success(), "recital {args:?} failed: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).unwrap()
}

fn json(args: &[&str]) -> serde_json::Value {
    serde_json::from_str(&ok(args)).expect("valid JSON")
}

/// Runs a command that must fail, returning its stderr (one line).
fn fails(args: &[&str]) -> String {
    let o = run(args);
    assert!(!o.status.success(), "recital {args:?} should fail");
    let err = String::from_utf8(o.stderr).unwrap();
    let errors: Vec<&str> = err.lines().filter(|l| l.starts_with("error: ")).collect();
    assert_eq!(errors.len(), 1, "exactly one one-line cause expected: {err}");
    assert!(err.trim_end().lines().last().unwrap().starts_with("error: "), "cause comes last: {err}");
    errors[0].to_string()
}

fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/sample")
}

fn corpus(dir: &Path) -> PathBuf {
    let c = dir.join("corpus");
    std::fs::create_dir_all(c.join("prose")).unwrap();
    std::fs::create_dir_all(c.join("code")).unwrap();
    std::fs::write(c.join("prose/a.txt"), "It was the best of times, it was the worst of times.\n").unwrap();
    std::fs::write(c.join("prose/b.txt"), "It was the age of wisdom; it was the best of times again.")
        .unwrap();
    std::fs::write(
        c.join("code/sum.c"),
        "// SPDX-License-Identifier: MIT\nint sum(int *xs, int n) {\n  int total = 0; /* accumulate */\n  for (int i = 0; i < n; i++) total += xs[i];\n  return total;\n}\n",
    )
    .unwrap();
    std::fs::write(
        c.join("rights.jsonl"),
        "{\"path\": \"prose/*\", \"license\": \"LicenseRef-PublicDomain\", \"holder\": \"C. Dickens\", \"category\": \"prose\"}\n{\"path\": \"prose/b.txt\", \"tdm_opt_out\": true, \"jurisdictions\": [\"EU\"]}\n",
    )
    .unwrap();
    c
}

#[test]
fn build_count_locate_stats_round_trip() {
    let t = tempfile::tempdir().unwrap();
    let c = corpus(t.path());
    let idx = t.path().join("idx");
    let (idx_s, rights) = (idx.to_str().unwrap(), c.join("rights.jsonl"));
    let rep = json(&[
        "index",
        "build",
        "--index",
        idx_s,
        "--rights",
        rights.to_str().unwrap(),
        "--json",
        c.join("prose").to_str().unwrap(),
        c.join("code").to_str().unwrap(),
    ]);
    assert_eq!(rep["ingest"]["docs"], 3);

    let v = json(&["count", "--index", idx_s, "--json", "IT WAS THE  best\u{200B} of TIMES"]);
    assert_eq!(v["count"], 2);
    assert_eq!(v["doc_count"], 2);
    assert_eq!(v["tokens"], 6);

    let v = json(&["locate", "--index", idx_s, "--json", "--limit", "5", "best of times"]);
    let hits = v["hits"].as_array().unwrap();
    assert_eq!(hits.len(), 2);
    for h in hits {
        assert_eq!(h["license"], "LicenseRef-PublicDomain");
        let s = h["snippet"].as_str().unwrap();
        let [a, b] =
            [h["snippet_hit"][0].as_u64().unwrap() as usize, h["snippet_hit"][1].as_u64().unwrap() as usize];
        assert_eq!(&s[a..b], "best of times");
    }
    let b = hits.iter().find(|h| h["doc_id"] == "b.txt").expect("b.txt hit");
    assert_eq!(b["tdm_opt_out"], true);
    assert_eq!(b["jurisdictions"], serde_json::json!(["EU"]));

    // Code: SPDX line wins; canonical stream matches renamed identifiers.
    let v = json(&[
        "locate",
        "--index",
        idx_s,
        "--json",
        "--code",
        "c",
        "int add(int *v, int m) { int acc = 0; for (int j = 0; j < m; j++) acc += v[j]; return acc; }",
    ]);
    assert_eq!(v["count"], 1, "{v}");
    assert_eq!(v["hits"][0]["license"], "MIT");
    assert_eq!(v["hits"][0]["doc_id"], "sum.c");

    let s = json(&["index", "stats", "--index", idx_s, "--json"]);
    assert_eq!(s["docs"], 3);
    assert!(s["canon_tokens"].as_u64().unwrap() > 0);
    let human = ok(&["index", "stats", "--index", idx_s]);
    assert!(human.contains("documents    3 live"), "{human}");
    ok(&["index", "verify", "--index", idx_s]);
}

#[test]
fn add_remove_compact_take_effect_at_once() {
    let t = tempfile::tempdir().unwrap();
    let c = corpus(t.path());
    let idx = t.path().join("idx");
    let idx_s = idx.to_str().unwrap();
    ok(&["index", "build", "--index", idx_s, c.join("prose").to_str().unwrap()]);
    let count = |q: &str| json(&["count", "--index", idx_s, "--json", q])["count"].as_u64().unwrap();
    assert_eq!(count("a far, far better thing"), 0);
    let new = t.path().join("new.txt");
    std::fs::write(&new, "It is a far, far better thing that I do, than I have ever done.").unwrap();
    ok(&["index", "add", "--index", idx_s, new.to_str().unwrap()]);
    assert_eq!(count("a far, far better thing"), 1);
    assert_eq!(count("it was the best of times"), 2);
    ok(&["index", "remove", "--index", idx_s, "a.txt"]);
    assert_eq!(count("it was the best of times"), 1);
    assert_eq!(count("worst of times"), 0);
    let err = fails(&["index", "remove", "--index", idx_s, "a.txt", "new.txt"]);
    assert!(err.contains("\"a.txt\""), "{err}");
    assert_eq!(count("a far, far better thing"), 1, "a failed remove changes nothing");
    let r = json(&["index", "compact", "--index", idx_s, "--json"]);
    assert_eq!(r["dropped_docs"], 1);
    assert_eq!(count("it was the best of times"), 1);
    assert_eq!(count("a far, far better thing"), 1);
    let s = json(&["index", "stats", "--index", idx_s, "--json"]);
    assert_eq!(s["docs"], 2);
    assert_eq!(s["removed_docs"], 0);
    assert_eq!(s["shards"].as_array().unwrap().len(), 1);
}

/// Partitions of a corpus built apart and adopted into one index answer
/// as the index built in one go: the same counts and the same locations.
#[test]
fn adopted_partitions_equal_one_build() {
    let t = tempfile::tempdir().unwrap();
    let prose = sample().join("prose");
    let mut files: Vec<PathBuf> = ["kjv", "shakespeare"]
        .iter()
        .flat_map(|d| std::fs::read_dir(prose.join(d)).unwrap().map(|e| e.unwrap().path()))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    let parts: Vec<PathBuf> = (0..3).map(|i| t.path().join(format!("part{i}"))).collect();
    let all = t.path().join("all");
    for p in parts.iter().chain([&all]) {
        std::fs::create_dir_all(p).unwrap();
    }
    for (i, f) in files.iter().enumerate() {
        let name = f.file_name().unwrap();
        std::fs::copy(f, parts[i % 3].join(name)).unwrap();
        std::fs::copy(f, all.join(name)).unwrap();
    }
    let one = t.path().join("one");
    ok(&["index", "build", "--index", one.to_str().unwrap(), all.to_str().unwrap()]);
    let built: Vec<String> = parts
        .iter()
        .map(|p| {
            let d = p.with_extension("idx");
            ok(&["index", "build", "--index", d.to_str().unwrap(), p.to_str().unwrap()]);
            d.to_str().unwrap().to_string()
        })
        .collect();
    let merged = t.path().join("merged");
    let m = merged.to_str().unwrap();
    // Two into a new index, then the third into the existing one.
    let r = json(&["index", "adopt", "--index", m, "--json", &built[0], &built[1]]);
    assert_eq!(r["adopted"].as_array().unwrap().len(), 2, "{r}");
    let human = ok(&["index", "adopt", "--index", m, &built[2]]);
    assert!(human.starts_with("adopted 1 shard(s)"), "{human}");
    for q in ["to be or not to be", "in the beginning", "the lord", "king", "and"] {
        let a = json(&["locate", "--index", one.to_str().unwrap(), "--json", "--limit", "1000", q]);
        let b = json(&["locate", "--index", m, "--json", "--limit", "1000", q]);
        assert_eq!(a["count"], b["count"], "{q}");
        if a["count"].as_u64().unwrap() > 1000 {
            // Which 1,000 hits are listed depends on the shards.
            continue;
        }
        let key = |v: &serde_json::Value| {
            let mut k: Vec<(String, u64)> = v["hits"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| (h["doc_id"].as_str().unwrap().to_string(), h["byte_start"].as_u64().unwrap()))
                .collect();
            k.sort();
            k
        };
        assert_eq!(key(&a), key(&b), "{q}");
    }
    ok(&["index", "verify", "--index", m]);
    let s = json(&["index", "stats", "--index", m, "--json"]);
    assert_eq!(s["docs"].as_u64().unwrap() as usize, files.len());
    // The sources are left as they were; an index with removals is refused.
    ok(&["index", "verify", "--index", &built[0]]);
    let first = files[0].file_name().unwrap().to_str().unwrap().to_string();
    ok(&["index", "remove", "--index", &built[0], &first]);
    let err = fails(&["index", "adopt", "--index", m, &built[0]]);
    assert!(err.contains("has removed documents") && err.contains("compact"), "{err}");
    let err = fails(&["index", "adopt", "--index", m, m]);
    assert!(err.contains("cannot adopt itself"), "{err}");
    let err = fails(&["index", "adopt", "--index", m, t.path().join("nope").to_str().unwrap()]);
    assert!(err.contains("nope"), "{err}");
}

#[test]
fn bad_input_gets_one_line_errors() {
    let t = tempfile::tempdir().unwrap();
    let p = |n: &str| t.path().join(n).to_str().unwrap().to_string();
    // Missing index.
    let e = fails(&["count", "--index", &p("nope"), "x"]);
    assert!(e.contains("not a recital index"), "{e}");
    // An index path that is a file.
    std::fs::write(t.path().join("afile"), "x").unwrap();
    let e = fails(&["count", "--index", &p("afile"), "x"]);
    assert!(e.contains("is a file, not an index directory"), "{e}");
    // Empty input.
    std::fs::create_dir(t.path().join("empty")).unwrap();
    let e = fails(&["index", "build", "--index", &p("i1"), &p("empty")]);
    assert!(e.contains("no documents"), "{e}");
    assert!(!t.path().join("i1").exists());
    // Binary input.
    std::fs::write(t.path().join("bin.dat"), [0u8, 1, 2, 255, 0, 7]).unwrap();
    let e = fails(&["index", "build", "--index", &p("i2"), &p("bin.dat")]);
    assert!(e.contains("no documents"), "{e}");
    // Whitespace-only input.
    std::fs::write(t.path().join("ws.txt"), " \n\t\u{200B} ").unwrap();
    let e = fails(&["index", "build", "--index", &p("i3"), &p("ws.txt")]);
    assert!(e.contains("no text"), "{e}");
    // Missing input path.
    let e = fails(&["index", "build", "--index", &p("i4"), &p("missing.txt")]);
    assert!(e.contains("missing.txt"), "{e}");
    // Malformed JSONL names file and line.
    std::fs::write(t.path().join("d.jsonl"), "{\"id\": 1, \"text\": \"ok\"}\n{not json\n").unwrap();
    let e = fails(&["index", "build", "--index", &p("i5"), &p("d.jsonl")]);
    assert!(e.contains("d.jsonl:2"), "{e}");
    // Building over a non-empty directory is refused and loses nothing.
    std::fs::write(t.path().join("ok.txt"), "some words").unwrap();
    std::fs::create_dir(t.path().join("full")).unwrap();
    std::fs::write(t.path().join("full/keep.txt"), "precious").unwrap();
    let e = fails(&["index", "build", "--index", &p("full"), &p("ok.txt")]);
    assert!(e.contains("not empty"), "{e}");
    assert_eq!(std::fs::read_to_string(t.path().join("full/keep.txt")).unwrap(), "precious");
    // Empty query.
    ok(&["index", "build", "--index", &p("i6"), &p("ok.txt")]);
    let e = fails(&["count", "--index", &p("i6"), " \u{200B} "]);
    assert!(e.contains("no tokens"), "{e}");
    let e = fails(&["count", "--index", &p("i6"), "--code", "cobol", "x"]);
    assert!(e.contains("cobol"), "{e}");
    // Bad rights sidecar names its line.
    std::fs::write(t.path().join("r.jsonl"), "{\"path\": \"*\", \"license\": \"MIT\"}\n{\"license\": 3}\n")
        .unwrap();
    let e = fails(&["index", "build", "--index", &p("i7"), "--rights", &p("r.jsonl"), &p("ok.txt")]);
    assert!(e.contains("r.jsonl:2"), "{e}");
}

#[test]
fn damaged_files_are_refused_by_name() {
    let t = tempfile::tempdir().unwrap();
    let c = corpus(t.path());
    let idx = t.path().join("idx");
    let idx_s = idx.to_str().unwrap().to_string();
    ok(&[
        "index",
        "build",
        "--index",
        &idx_s,
        c.join("prose").to_str().unwrap(),
        c.join("code").to_str().unwrap(),
    ]);
    let shard = idx.join("shard-000001");
    type Damage = Box<dyn Fn(&Path)>;
    let cases: Vec<(&str, Damage, &str)> = vec![
        (
            "text.sa",
            Box::new(|p: &Path| {
                let b = std::fs::read(p).unwrap();
                std::fs::write(p, &b[..b.len() - 10]).unwrap()
            }),
            "truncated",
        ),
        (
            "text.tok",
            Box::new(|p: &Path| {
                let mut b = std::fs::read(p).unwrap();
                b[70] ^= 0x55;
                std::fs::write(p, b).unwrap()
            }),
            "checksum",
        ),
        (
            "docs.tab",
            Box::new(|p: &Path| {
                std::fs::write(p, b"hello, I am not an index file at all......................................................................").unwrap()
            }),
            "not a recital index file",
        ),
        (
            "canon.vocab",
            Box::new(|p: &Path| {
                let mut b = std::fs::read(p).unwrap();
                b[16] = 77;
                std::fs::write(p, b).unwrap()
            }),
            "version 77",
        ),
        ("docs.zst", Box::new(|p: &Path| std::fs::write(p, b"").unwrap()), "not a recital index file"),
    ];
    for (file, damage, needle) in cases {
        let path = shard.join(file);
        let good = std::fs::read(&path).unwrap();
        damage(&path);
        let e = fails(&["count", "--index", &idx_s, "best of times"]);
        assert!(e.contains(file) && e.contains(needle), "{file}: {e}");
        std::fs::write(&path, good).unwrap();
        ok(&["count", "--index", &idx_s, "best of times"]);
    }
    // A manifest from the future.
    let m = idx.join("manifest.json");
    let good = std::fs::read_to_string(&m).unwrap();
    std::fs::write(&m, good.replace("\"format_version\": 4", "\"format_version\": 9")).unwrap();
    let e = fails(&["count", "--index", &idx_s, "x"]);
    assert!(e.contains("manifest.json") && e.contains("version 9"), "{e}");
    std::fs::write(&m, "{ broken").unwrap();
    let e = fails(&["count", "--index", &idx_s, "x"]);
    assert!(e.contains("manifest.json"), "{e}");
}

#[test]
fn crashes_leave_the_previous_state() {
    let t = tempfile::tempdir().unwrap();
    let c = corpus(t.path());
    let idx = t.path().join("idx");
    let idx_s = idx.to_str().unwrap().to_string();
    let prose = c.join("prose");
    // A build killed before its final rename leaves no index and nothing in the target.
    for fp in ["write:after-shard", "build:before-rename"] {
        let o = recital()
            .env("RECITAL_FAILPOINT", fp)
            .args(["index", "build", "--index", &idx_s, "--shard-tokens", "5", prose.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(!o.status.success(), "{fp} must abort");
        assert!(!idx.exists(), "{fp}: target directory must not exist");
        fails(&["count", "--index", &idx_s, "x"]);
    }
    // The next build sweeps the dead build's temporary directory and succeeds.
    ok(&["index", "build", "--index", &idx_s, prose.to_str().unwrap()]);
    let leftovers: Vec<_> = std::fs::read_dir(t.path())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains("recital-build"))
        .collect();
    assert!(leftovers.is_empty(), "stale build directories left: {leftovers:?}");
    let count = |q: &str| json(&["count", "--index", &idx_s, "--json", q])["count"].as_u64().unwrap();
    let new = t.path().join("new.txt");
    std::fs::write(&new, "a far far better thing").unwrap();
    for (fp, args) in [
        ("add:before-manifest", vec!["index", "add", "--index", &idx_s, new.to_str().unwrap()]),
        ("remove:before-manifest", vec!["index", "remove", "--index", &idx_s, "a.txt"]),
    ] {
        let o = recital().env("RECITAL_FAILPOINT", fp).args(&args).output().unwrap();
        assert!(!o.status.success(), "{fp} must abort");
        assert_eq!(count("a far far better thing"), 0, "{fp}");
        assert_eq!(count("best of times"), 2, "{fp}");
    }
    ok(&["index", "add", "--index", &idx_s, new.to_str().unwrap()]);
    ok(&["index", "remove", "--index", &idx_s, "a.txt"]);
    let o = recital()
        .env("RECITAL_FAILPOINT", "compact:before-manifest")
        .args(["index", "compact", "--index", &idx_s])
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert_eq!(count("a far far better thing"), 1);
    assert_eq!(count("best of times"), 1);
    ok(&["index", "compact", "--index", &idx_s]);
    assert_eq!(count("best of times"), 1);
    let junk: Vec<_> = std::fs::read_dir(&idx)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".tmp"))
        .collect();
    assert!(junk.is_empty(), "{junk:?}");
}

#[test]
fn jsonl_dumps_gz_and_zst_with_custom_fields() {
    let t = tempfile::tempdir().unwrap();
    let lines = "{\"doc\": \"r1\", \"content\": \"Call me Ishmael. Some years ago\", \"license\": \"CC0-1.0\"}\n{\"doc\": \"r2\", \"content\": \"never mind how long precisely\"}\n";
    let plain = t.path().join("d.jsonl");
    std::fs::write(&plain, lines).unwrap();
    let gz = t.path().join("d2.jsonl.gz");
    {
        use std::io::Write;
        let mut e = flate2_writer(&gz);
        e.write_all(lines.replace("r1", "g1").replace("r2", "g2").as_bytes()).unwrap();
    }
    let zst = t.path().join("d3.jsonl.zst");
    std::fs::write(&zst, zstd_compress(lines.replace("r1", "z1").replace("r2", "z2").as_bytes())).unwrap();
    let idx = t.path().join("idx");
    let idx_s = idx.to_str().unwrap();
    ok(&[
        "index",
        "build",
        "--index",
        idx_s,
        "--text-field",
        "content",
        "--id-field",
        "doc",
        plain.to_str().unwrap(),
        gz.to_str().unwrap(),
        zst.to_str().unwrap(),
    ]);
    let v = json(&["locate", "--index", idx_s, "--json", "call me ishmael"]);
    assert_eq!(v["count"], 3);
    let ids: Vec<&str> =
        v["hits"].as_array().unwrap().iter().map(|h| h["doc_id"].as_str().unwrap()).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(sorted, vec!["g1", "r1", "z1"]);
    assert_eq!(v["hits"][0]["license"], "CC0-1.0");
    let e =
        fails(&["index", "build", "--index", t.path().join("i2").to_str().unwrap(), plain.to_str().unwrap()]);
    assert!(e.contains("d.jsonl:1") && e.contains("--text-field"), "{e}");
}

fn flate2_writer(p: &Path) -> impl std::io::Write {
    // A gzip member written by the system's gzip keeps this test independent of our own decoder.
    struct Gz(PathBuf, Vec<u8>);
    impl std::io::Write for Gz {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.1.extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    impl Drop for Gz {
        fn drop(&mut self) {
            let raw = self.0.with_extension("");
            std::fs::write(&raw, &self.1).unwrap();
            let st = Command::new("gzip").arg("-f").arg(&raw).status().unwrap();
            assert!(st.success());
        }
    }
    Gz(p.to_owned(), Vec::new())
}

fn zstd_compress(b: &[u8]) -> Vec<u8> {
    let t = tempfile::tempdir().unwrap();
    let raw = t.path().join("x");
    std::fs::write(&raw, b).unwrap();
    if Command::new("zstd").arg("-q").arg("-f").arg(&raw).status().is_ok_and(|s| s.success()) {
        return std::fs::read(t.path().join("x.zst")).unwrap();
    }
    // No zstd binary: a single raw (uncompressed) zstd block frame, written by hand.
    let mut f = vec![0x28, 0xB5, 0x2F, 0xFD, 0x20, b.len() as u8];
    let hdr = ((b.len() as u32) << 3) | 1; // last block, raw
    f.extend_from_slice(&hdr.to_le_bytes()[..3]);
    f.extend_from_slice(b);
    f
}

#[test]
fn demo_runs_on_the_bundled_sample() {
    assert!(
        sample().join("rights.jsonl").exists(),
        "bundled sample corpus missing at {}",
        sample().display()
    );
    let out = ok(&["demo"]);
    assert!(
        out.contains("hamlet.txt") && out.contains("ecclesiastes.txt") && out.contains("adler32.c"),
        "{out}"
    );
    let v: serde_json::Value = serde_json::from_str(&ok(&["demo", "--json"])).unwrap();
    assert_eq!(v["schema"], "recital.scan/1");
    // The decision the text mode prints is in the JSON too.
    let action = v["decision"]["action"].as_str().unwrap();
    assert!(out.contains(&format!(": {action}\n")), "{out}");
    assert_eq!(v["decision"]["spans"].as_array().unwrap().len(), v["spans"].as_array().unwrap().len());
    let spans = v["spans"].as_array().unwrap();
    let kind_of = |doc: &str| {
        spans
            .iter()
            .find(|s| {
                s["sources"].as_array().unwrap().iter().any(|x| x["doc_id"].as_str().unwrap().ends_with(doc))
            })
            .map(|s| s["kind"].as_str().unwrap().to_string())
    };
    assert_eq!(kind_of("hamlet.txt").as_deref(), Some("exact"), "capitals, invisible characters, homoglyphs");
    assert_eq!(kind_of("ecclesiastes.txt").as_deref(), Some("near"), "an edited passage");
    assert_eq!(kind_of("adler32.c").as_deref(), Some("code-canonical"), "renamed variables");
    // The original closing remark is not flagged.
    let text = std::fs::read_to_string(sample().join("outputs/demo.txt")).unwrap();
    let last = text.find("Nothing in this last paragraph").unwrap();
    assert!(spans.iter().all(|s| (s["byte_end"].as_u64().unwrap() as usize) <= last));
}

#[test]
fn jsonl_records_take_rules_of_their_dump_file() {
    let t = tempfile::tempdir().unwrap();
    std::fs::create_dir(t.path().join("dumps")).unwrap();
    std::fs::write(
        t.path().join("dumps/gcide.jsonl"),
        "{\"id\": \"gcide/aardvark\", \"text\": \"An African mammal that eats ants.\"}\n{\"id\": \"gcide/abacus\", \"text\": \"A frame with beads for counting.\", \"license\": \"CC0-1.0\"}\n",
    )
    .unwrap();
    std::fs::write(
        t.path().join("rights.jsonl"),
        "{\"path\": \"**/gcide.jsonl*\", \"license\": \"GPL-3.0-or-later\", \"holder\": \"GNU\"}\n",
    )
    .unwrap();
    let idx = t.path().join("idx");
    ok(&[
        "index",
        "build",
        "--index",
        idx.to_str().unwrap(),
        "--rights",
        t.path().join("rights.jsonl").to_str().unwrap(),
        t.path().join("dumps").to_str().unwrap(),
    ]);
    let v = json(&["locate", "--index", idx.to_str().unwrap(), "--json", "eats ants"]);
    assert_eq!(v["hits"][0]["license"], "GPL-3.0-or-later");
    assert_eq!(v["hits"][0]["holder"], "GNU");
    // The sidecar overrides a record's own licence field.
    let v = json(&["locate", "--index", idx.to_str().unwrap(), "--json", "beads for counting"]);
    assert_eq!(v["hits"][0]["license"], "GPL-3.0-or-later");
}

#[test]
fn policy_check_reports_every_error_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let presets = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies");
    for p in ["everywhere", "eu-only", "permissive-with-attribution"] {
        let out = ok(&["policy", "check", presets.join(format!("{p}.toml")).to_str().unwrap()]);
        assert!(out.contains(": ok"), "{out}");
    }
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "name = \"bad\"\nversion = 1\ndefault_jurisdiction = \"EU\"\n\n[[rules]]\nname = \"r1\"\naction = \"shred\"\n\n[[rules]]\nname = \"r2\"\njurisdictions = [\"XX\"]\naction = \"block\"\n",
    )
    .unwrap();
    let o = run(&["policy", "check", bad.to_str().unwrap()]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("bad.toml:7") && err.contains("shred"), "{err}");
    assert!(err.contains("bad.toml:11") && err.contains("XX"), "{err}");
    let j: serde_json::Value =
        serde_json::from_slice(&run(&["policy", "check", "--json", bad.to_str().unwrap()]).stdout).unwrap();
    assert_eq!(j["ok"], false);
    // Also: no categories (line 1) and an undefined group EU (line 3).
    assert_eq!(j["errors"].as_array().unwrap().len(), 4, "{j}");
}

/// `recital filter` over `input` (written to a file in `dir`); the output.
fn filter(dir: &Path, args: &[&str], input: &str) -> Output {
    let f = dir.join("output.in");
    std::fs::write(&f, input).unwrap();
    recital().arg("filter").args(args).arg(&f).output().expect("binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

/// Words 100..180 of the proprietary novel of `support::build_index`:
/// redacted under the built-in policy.
fn novel_quote() -> String {
    support::quote(&support::prose(1, 3000), 100, 180)
}

const MARKER: &str = "[redacted: copies novel.txt (LicenseRef-Proprietary)]";

#[test]
fn filter_redacts_plain_text_and_json_documents_in_place() {
    let t = tempfile::tempdir().unwrap();
    let idx = support::build_index(t.path());
    let idx = idx.to_str().unwrap();
    let q = novel_quote();
    let o = filter(t.path(), &["--index", idx], &format!("Here it is: {q} That was all."));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // The text as it may be shown, byte for byte: no newline added.
    assert_eq!(stdout(&o), format!("Here it is: {MARKER} That was all."));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("recital: redact (text): ") && err.contains("novel.txt"), "{err}");

    // A tool call's arguments with the copy inside an escaped string: still
    // valid JSON, the marker inside the string, the rest of the document kept.
    let args = serde_json::json!({"path": "notes/a.txt", "content": format!("Quote:\n\t\"{q}\"\n"), "n": 3});
    let o = filter(t.path(), &["--index", idx, "--channel", "tool_arguments"], &args.to_string());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("still valid JSON");
    assert_eq!(v["content"], format!("Quote:\n\t\"{MARKER}\"\n"));
    assert_eq!((v["path"].as_str(), v["n"].as_i64()), (Some("notes/a.txt"), Some(3)));

    // --json: schema recital.filter/1.
    let o =
        filter(t.path(), &["--index", idx, "--json", "--jurisdiction", "de"], &format!("Here it is: {q}"));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["schema"], "recital.filter/1");
    assert_eq!((v["action"].as_str(), v["jurisdiction"].as_str()), (Some("redact"), Some("DE")));
    assert_eq!(v["policy"], "everywhere v1");
    let c = &v["channels"][0];
    assert_eq!(
        (c["choice"].as_u64(), c["channel"].as_str(), c["item"].as_u64()),
        (Some(0), Some("text"), Some(0))
    );
    assert_eq!(c["text"], format!("Here it is: {MARKER}"));
    assert_eq!(c["annotations"][0]["citations"][0]["doc_id"], "novel.txt");
    assert_eq!(c["decision"]["action"], "redact");
    assert!(c["decision"]["statement"].as_str().unwrap().contains("novel.txt"));
    assert!(v.get("response").is_none(), "{v}");
}

#[test]
fn filter_rewrites_every_channel_of_a_saved_openai_response() {
    let t = tempfile::tempdir().unwrap();
    let idx = support::build_index(t.path());
    let idx = idx.to_str().unwrap();
    let q = novel_quote();
    let args = serde_json::json!({"text": q}).to_string();
    let chat = serde_json::json!({
        "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "m",
        "choices": [{
            "index": 0,
            "message": {
                "role": "assistant",
                "content": "I saved the passage.",
                "reasoning_content": format!("The user wants the passage: {q}"),
                "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "save", "arguments": args}}]
            },
            "finish_reason": "tool_calls"
        }],
        "usage": {"prompt_tokens": 5, "completion_tokens": 90, "total_tokens": 95}
    });
    let o = filter(t.path(), &["--index", idx, "--format", "openai-chat"], &chat.to_string());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let msg = &v["choices"][0]["message"];
    assert_eq!(msg["content"], "I saved the passage.");
    assert_eq!(msg["reasoning_content"], format!("The user wants the passage: {MARKER}"));
    let call = &msg["tool_calls"][0];
    assert_eq!((call["id"].as_str(), call["function"]["name"].as_str()), (Some("call_1"), Some("save")));
    let a: serde_json::Value = serde_json::from_str(call["function"]["arguments"].as_str().unwrap()).unwrap();
    assert_eq!(a["text"], MARKER);
    assert_eq!((v["id"].as_str(), v["usage"]["total_tokens"].as_u64()), (Some("chatcmpl-1"), Some(95)));
    assert!(support::shares_words(&stdout(&o), &q, 12).is_none(), "the copy left");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("(reasoning)") && err.contains("(tool_arguments[0])"), "{err}");

    // --json carries every channel and the rewritten response.
    let o = filter(t.path(), &["--index", idx, "--format", "openai-chat", "--json"], &chat.to_string());
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let kinds: Vec<&str> =
        v["channels"].as_array().unwrap().iter().map(|c| c["channel"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["text", "reasoning", "tool_arguments"]);
    assert_eq!(
        v["response"]["choices"][0]["message"]["reasoning_content"],
        format!("The user wants the passage: {MARKER}")
    );

    // A legacy completion, its log-probabilities rebuilt around the marker.
    let words: Vec<String> = format!("Sure: {q}").split_inclusive(' ').map(str::to_string).collect();
    let completion = serde_json::json!({
        "id": "cmpl-1", "object": "text_completion", "created": 1, "model": "m",
        "choices": [{"index": 0, "text": words.concat(), "finish_reason": "stop", "logprobs": {
            "tokens": words, "token_logprobs": vec![-0.5; words.len()],
            "top_logprobs": null, "text_offset": (0..words.len()).collect::<Vec<_>>()}}]
    });
    let o = filter(t.path(), &["--index", idx, "--format", "openai-completion"], &completion.to_string());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let c = &v["choices"][0];
    assert_eq!(c["text"], format!("Sure: {MARKER}"));
    let tokens: Vec<&str> =
        c["logprobs"]["tokens"].as_array().unwrap().iter().map(|t| t.as_str().unwrap()).collect();
    assert_eq!(tokens.concat(), format!("Sure: {MARKER}"));
}

#[test]
fn filter_exit_status_follows_fail_on_and_block() {
    let t = tempfile::tempdir().unwrap();
    let idx = support::build_index(t.path());
    let idx = idx.to_str().unwrap();
    let copy = |seed, from| support::quote(&support::prose(seed, 3000), from, from + 80);
    let redacted = format!("A: {}", novel_quote());
    let annotated = format!("B: {}", copy(3, 200)); // manual.txt, MIT: cited
    let status = |args: &[&str], text: &str| filter(t.path(), &[&["--index", idx][..], args].concat(), text);
    for (args, text, code) in [
        (&[][..], &redacted, 0),
        (&["--fail-on", "annotate"][..], &annotated, 3),
        (&["--fail-on", "redact"][..], &annotated, 0),
        (&["--fail-on", "redact"][..], &redacted, 3),
        (&["--fail-on", "block"][..], &redacted, 0),
        (&["--fail-on", "annotate", "--json"][..], &redacted, 3),
    ] {
        let o = status(args, text);
        assert_eq!(o.status.code(), Some(code), "{args:?}: {}", String::from_utf8_lossy(&o.stderr));
        assert!(!o.stdout.is_empty(), "{args:?}: the text is shown whatever the exit status");
    }
    // A policy that blocks proprietary copies: nothing shown, exit 4; 3 under --fail-on.
    let everywhere =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies/everywhere.toml"))
            .unwrap();
    let blocking = t.path().join("blocking.toml");
    std::fs::write(&blocking, everywhere.replacen("action = \"redact\"", "action = \"block\"", 1)).unwrap();
    let blocking = blocking.to_str().unwrap();
    let o = status(&["--policy", blocking], &redacted);
    assert_eq!(o.status.code(), Some(4), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(o.stdout.is_empty());
    assert!(String::from_utf8_lossy(&o.stderr).contains("recital: block (text): "));
    let o = status(&["--policy", blocking, "--fail-on", "block"], &redacted);
    assert_eq!(o.status.code(), Some(3));
    let o = status(&["--policy", blocking, "--json"], &redacted);
    assert_eq!(o.status.code(), Some(4));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!((v["action"].as_str(), &v["channels"][0]["text"]), (Some("block"), &serde_json::Value::Null));
}

#[test]
fn filter_bad_input_gets_one_line_errors() {
    let t = tempfile::tempdir().unwrap();
    let idx = support::build_index(t.path());
    let idx = idx.to_str().unwrap();
    let p = |n: &str| t.path().join(n).to_str().unwrap().to_string();
    let write = |n: &str, s: &str| std::fs::write(t.path().join(n), s).unwrap();
    write("text.txt", "Just some text, not JSON.");
    write("chat.json", r#"{"object": "chat.completion", "choices": []}"#);
    write("chunk.json", r#"{"object": "chat.completion.chunk", "choices": []}"#);
    write("array.json", "[1, 2]");
    let cases: [(&[&str], &str); 7] = [
        (&["--format", "openai-chat", &p("text.txt")], "not a JSON chat.completion response"),
        (&["--format", "openai-chat", &p("array.json")], "no `choices` array"),
        (&["--format", "openai-completion", &p("chat.json")], "not a \"text_completion\""),
        (&["--format", "openai-chat", &p("chunk.json")], "non-streamed"),
        (
            &["--format", "openai-chat", "--channel", "reasoning", &p("chat.json")],
            "--channel reasoning with --format",
        ),
        (&["--channel", "structured", &p("text.txt")], "reads a JSON document"),
        (&["--jurisdiction", "not a place", &p("text.txt")], "not a country code"),
    ];
    for (args, want) in cases {
        let e = fails(&[&["filter", "--index", idx][..], args].concat());
        assert!(e.contains(want), "{args:?}: {e}");
    }
    let e = fails(&["filter", "--index", &p("nope"), &p("text.txt")]);
    assert!(e.contains("not a recital index"), "{e}");
    let e = fails(&["filter", "--index", idx, &p("missing.txt")]);
    assert!(e.contains("missing.txt"), "{e}");
    std::fs::write(t.path().join("latin1.txt"), b"caf\xe9").unwrap();
    let e = fails(&["filter", "--index", idx, &p("latin1.txt")]);
    assert!(e.contains("not UTF-8 (byte 3)"), "{e}");
    // A usage error is clap's: exit 2.
    assert_eq!(run(&["filter", "--index", idx, "--fail-on", "shred", &p("text.txt")]).status.code(), Some(2));
}

/// A corpus whose rights go wrong in each way that used to pass unnoticed:
/// a sidecar rule with an absolute path (matches nothing), a file whose
/// SPDX tag is not SPDX, a file nothing says anything about.
fn rights_corpus(dir: &Path) -> (PathBuf, PathBuf) {
    let c = dir.join("messy");
    std::fs::create_dir_all(&c).unwrap();
    std::fs::write(c.join("a.txt"), "Some prose under a permissive licence, for counting.\n").unwrap();
    std::fs::write(c.join("b.c"), "// SPDX-License-Identifier: GPL 3\nint f(void) { return 1; }\n").unwrap();
    std::fs::write(c.join("c.txt"), "Prose whose licence nobody stated.\n").unwrap();
    let sidecar = dir.join("rights.jsonl");
    std::fs::write(
        &sidecar,
        "{\"path\": \"/usr/share/common-licenses/GPL*\", \"license\": \"GPL-3.0-only\"}\n{\"path\": \"a.txt\", \"license\": \"mit\"}\n",
    )
    .unwrap();
    (c, sidecar)
}

#[test]
fn rights_problems_are_warnings_or_errors_never_silent() {
    let t = tempfile::tempdir().unwrap();
    let (c, sidecar) = rights_corpus(t.path());
    let (c, sidecar) = (c.to_str().unwrap(), sidecar.to_str().unwrap());
    let idx = t.path().join("idx");
    let idx = idx.to_str().unwrap();
    let o = run(&["index", "build", "--index", idx, "--rights", sidecar, c]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(
            "rights.jsonl:1: rights rule path \"/usr/share/common-licenses/GPL*\" matched no document"
        ) && err.contains("not absolute"),
        "{err}"
    );
    assert!(
        err.contains("b.c: license \"GPL 3\" is not an SPDX expression")
            && err.contains("did you mean GPL-3.0-only or GPL-3.0-or-later?"),
        "{err}"
    );
    // The report counts documents per licence and per class.
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("NOASSERTION 1 of 3 documents"), "{out}");
    assert!(out.contains("classes      permissive 1, noassertion 1, unknown 1 (policy "), "{out}");

    // --strict: each is an error, naming where it is.
    let strict = |sidecar: &str, into: &str| {
        fails(&[
            "index",
            "build",
            "--strict",
            "--index",
            &t.path().join(into).to_string_lossy(),
            "--rights",
            sidecar,
            c,
        ])
    };
    let e = strict(sidecar, "strict1");
    assert!(e.contains("b.c: license \"GPL 3\"") && e.contains("--strict"), "{e}");
    std::fs::write(Path::new(c).join("b.c"), "// SPDX-License-Identifier: GPL-3.0-or-later\nint f(void);\n")
        .unwrap();
    let e = strict(sidecar, "strict2");
    assert!(e.contains("rights.jsonl:1: rights rule path") && e.contains("matched no document"), "{e}");
    assert!(!t.path().join("strict2").join("manifest.json").exists(), "nothing is committed");

    // An invalid licence in the sidecar is an error naming its line, always.
    let bad = t.path().join("bad.jsonl");
    std::fs::write(
        &bad,
        "{\"path\": \"*\", \"license\": \"MIT\"}\n{\"path\": \"b.c\", \"license\": \"GPL 3 or whatever\"}\n",
    )
    .unwrap();
    let e = fails(&[
        "index",
        "build",
        "--index",
        &t.path().join("bad").to_string_lossy(),
        "--rights",
        bad.to_str().unwrap(),
        c,
    ]);
    assert!(e.contains("bad.jsonl:2: license \"GPL 3 or whatever\" is not an SPDX expression"), "{e}");
    assert!(e.contains("did you mean GPL-3.0-only or GPL-3.0-or-later?"), "{e}");

    // `index stats`, human and JSON, and the build's JSON report.
    let s = json(&["index", "stats", "--index", idx, "--json"]);
    assert_eq!(s["noassertion"], 1, "{s}");
    let licenses: Vec<(&str, u64)> = s["licenses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["license"].as_str().unwrap(), l["docs"].as_u64().unwrap()))
        .collect();
    assert_eq!(licenses, [("GPL 3", 1), ("MIT", 1), ("NOASSERTION", 1)], "stored canonical (mit → MIT)");
    assert_eq!(s["license_classes"][0], serde_json::json!({"class": "permissive", "docs": 1}));
    assert!(s["policy"].as_str().unwrap().starts_with("everywhere"), "{s}");
    let human = ok(&["index", "stats", "--index", idx]);
    assert!(
        human.contains("licences     GPL 3 1, MIT 1, NOASSERTION 1; NOASSERTION 1 of 3 documents"),
        "{human}"
    );
    let r = json(&[
        "index",
        "build",
        "--json",
        "--index",
        &t.path().join("j").to_string_lossy(),
        "--rights",
        sidecar,
        c,
    ]);
    assert_eq!(r["ingest"]["noassertion"], 1, "{r}");
    assert_eq!(r["ingest"]["unmatched_rules"][0]["rule"], "path \"/usr/share/common-licenses/GPL*\"");
    assert_eq!(r["license_classes"].as_array().unwrap().len(), 3, "{r}");
}

#[test]
fn skipped_binary_files_are_one_summary_line_and_logs_have_no_colour() {
    let t = tempfile::tempdir().unwrap();
    let c = t.path().join("c");
    std::fs::create_dir(&c).unwrap();
    std::fs::write(c.join("a.txt"), "It was the best of times, it was the worst of times.").unwrap();
    for n in ["x.bin", "y.bin", "z.bin"] {
        std::fs::write(c.join(n), [0u8, 1, 2, 3]).unwrap();
    }
    let idx = t.path().join("i");
    // stderr is a pipe here, and NO_COLOR is unset: still no escape codes.
    let o = recital()
        .env_remove("NO_COLOR")
        .args(["index", "build", "--index", idx.to_str().unwrap(), c.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(o.status.success());
    let (out, err) = (String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    assert!(out.contains("skipped 3 binary file(s) (--verbose lists them)"), "{out}");
    assert!(!err.contains("x.bin") && !err.contains('\u{1b}'), "{err}");
    let o = recital()
        .env_remove("NO_COLOR")
        .args([
            "index",
            "add",
            "--verbose",
            "--index",
            idx.to_str().unwrap(),
            c.join("x.bin").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("x.bin: binary file skipped") && !err.contains('\u{1b}'), "{err}");
}

#[test]
fn a_corrupted_large_file_is_refused_on_first_use() {
    // Over a mebibyte of suffix array: checked on first use, not on open.
    let t = tempfile::tempdir().unwrap();
    let c = t.path().join("c");
    std::fs::create_dir(&c).unwrap();
    let mut x: u64 = 7;
    let mut text = String::new();
    while text.len() < 4_000_000 {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        text.push_str(&format!("w{} ", (x >> 33) % 50_000));
    }
    std::fs::write(c.join("big.txt"), &text).unwrap();
    let idx = t.path().join("idx");
    let idx_s = idx.to_str().unwrap().to_string();
    ok(&["index", "build", "--index", &idx_s, c.to_str().unwrap()]);
    let sa = idx.join("shard-000001/text.sa");
    let mut b = std::fs::read(&sa).unwrap();
    assert!(b.len() > 1 << 20, "the test needs a file that is not checked on open");
    let mid = b.len() / 2;
    b[mid] ^= 0x5a;
    std::fs::write(&sa, b).unwrap();
    let out = t.path().join("out.txt");
    std::fs::write(&out, &text[..400]).unwrap();
    for args in
        [vec!["count", "--index", &idx_s, "w1 w2"], vec!["scan", "--index", &idx_s, out.to_str().unwrap()]]
    {
        let e = fails(&args);
        assert!(e.contains("text.sa") && e.contains("checksum"), "{args:?}: {e}");
    }
}
