//! Real-corpus test: the King James Bible (Debian `bible-kjv`, public domain),
//! split into chapters, indexed in several shards with a delta and tombstones;
//! counts and document counts must equal a brute-force scan of the same text.
//! Skips, saying so, where the `bible` program is not installed
//! (`scripts/install-test-corpora.sh` installs it).

use std::collections::{HashMap, HashSet};
use std::process::Command;

use recital_index::{BuildOptions, Index, IndexWriter, IngestOptions, Query, Stream};

fn kjv_chapters() -> Option<Vec<(String, String)>> {
    let out = Command::new("bible").arg("gen1:1-rev22:21").output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut chapters: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        let is_heading = !line.starts_with(' ')
            && line.rsplit_once(' ').is_some_and(|(book, n)| !book.is_empty() && n.parse::<u32>().is_ok());
        if is_heading {
            chapters.push((line.trim().to_string(), String::new()));
        } else if let Some((_, body)) = chapters.last_mut() {
            body.push_str(line);
            body.push('\n');
        }
    }
    Some(chapters)
}

fn toks(s: &str) -> Vec<String> {
    let ts = recital_text::tokenize(s);
    (0..ts.len()).map(|i| ts.text(i).to_string()).collect()
}

#[test]
fn kjv_counts_equal_brute_force() {
    let Some(chapters) = kjv_chapters() else {
        eprintln!(
            "SKIPPED kjv_counts_equal_brute_force: the `bible` program (Debian bible-kjv) is not installed"
        );
        return;
    };
    assert!(chapters.len() > 1000, "expected the 1189 chapters, got {}", chapters.len());
    let t = tempfile::tempdir().unwrap();
    let write_jsonl = |name: &str, chs: &[(String, String)]| {
        let p = t.path().join(name);
        let body: String = chs
            .iter()
            .map(|(id, text)| serde_json::json!({"id": id, "text": text}).to_string() + "\n")
            .collect();
        std::fs::write(&p, body).unwrap();
        p
    };
    let (base, delta) = chapters.split_at(chapters.len() - 50);
    let dir = t.path().join("kjv");
    // ~1M tokens in shards of ~200k: several base shards plus a delta.
    let bopts = BuildOptions { shard_tokens: 200_000, ..Default::default() };
    recital_index::build(&dir, &[write_jsonl("base.jsonl", base)], &IngestOptions::default(), &bopts)
        .unwrap();
    let mut w = IndexWriter::open(&dir).unwrap().with_options(bopts);
    w.add_files(&[write_jsonl("delta.jsonl", delta)], &IngestOptions::default()).unwrap();
    w.commit().unwrap();
    let removed = ["Genesis 1", "John 11", "Revelation 22"];
    w.remove(&removed.map(String::from)).unwrap();
    w.commit().unwrap();
    drop(w);
    let idx = Index::open(&dir).unwrap();
    assert!(idx.shard_count() >= 4, "{} shards", idx.shard_count());

    let live: Vec<(&str, Vec<String>)> = chapters
        .iter()
        .filter(|(id, _)| !removed.contains(&id.as_str()))
        .map(|(id, text)| (id.as_str(), toks(text)))
        .collect();
    let mut queries: Vec<Vec<String>> = [
        "In the beginning God created",
        "And God said, Let there be light",
        "Jesus wept.",
        "and it was so",
        "VERILY, VERILY, I say unto thee",
        "the LORD",
        "Amen.",
        "thee",
        "Lazarus, come forth",
        "grace of our Lord Jesus Christ be with you all",
    ]
    .iter()
    .map(|q| toks(q))
    .collect();
    // Windows of 1, 8 and 32 tokens from fixed positions of the corpus (removed chapters included).
    let mut state = 0x9E3779B97F4A7C15u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let all: Vec<Vec<String>> = chapters.iter().map(|(_, t)| toks(t)).collect();
    for len in [1usize, 8, 32] {
        for _ in 0..15 {
            let c = &all[(next() % all.len() as u64) as usize];
            if c.len() > len {
                let s = (next() % (c.len() - len) as u64) as usize;
                queries.push(c[s..s + len].to_vec());
            }
        }
    }
    let mut index_of: HashMap<&str, Vec<(usize, usize)>> = HashMap::new();
    for (d, (_, tk)) in live.iter().enumerate() {
        for (i, t) in tk.iter().enumerate() {
            index_of.entry(t.as_str()).or_default().push((d, i));
        }
    }
    for q in &queries {
        let mut count = 0u64;
        let mut docs = HashSet::new();
        for &(d, i) in index_of.get(q[0].as_str()).map(|v| v.as_slice()).unwrap_or(&[]) {
            let tk = &live[d].1;
            if tk.len() >= i + q.len() && tk[i..i + q.len()] == q[..] {
                count += 1;
                docs.insert(d);
            }
        }
        let got = idx.count(&Query { tokens: q.clone(), stream: Stream::Text }).unwrap();
        assert_eq!(got.count, count, "count of {q:?}");
        assert_eq!(got.doc_count, docs.len() as u64, "doc_count of {q:?}");
    }
    let jesus_wept = idx.locate(&Query::text("Jesus wept."), 10).unwrap();
    assert_eq!(jesus_wept.count, 0, "John 11 was removed");
    let light = idx.locate(&Query::text("let there be light"), 10).unwrap();
    assert_eq!(light.count, 0, "Genesis 1 was removed");
    let grace = idx.locate(&Query::text("The grace of our Lord Jesus Christ be with you all"), 10).unwrap();
    assert!(grace.hits.iter().all(|h| h.doc_id != "Revelation 22"));
    assert!(
        grace
            .hits
            .iter()
            .any(|h| h.doc_id.starts_with("Philippians") || h.doc_id.starts_with("2 Thessalonians")),
        "{:?}",
        grace.hits.iter().map(|h| &h.doc_id).collect::<Vec<_>>()
    );
}

/// The SPDX expression of a file, read independently of recital-text: the text
/// after the tag on the first line that has it, without comment closers.
fn spdx_of(text: &str) -> Option<String> {
    let line = text.lines().take(20).find(|l| l.contains("SPDX-License-Identifier:"))?;
    let expr = line.split("SPDX-License-Identifier:").nth(1)?;
    Some(expr.trim().trim_end_matches("*/").trim().to_string())
}

#[test]
fn linux_lib_licences_counts_and_renamed_code() {
    let tarball = std::path::Path::new("/usr/src/linux-source-6.1.tar.xz");
    if !tarball.exists() {
        eprintln!("SKIPPED linux_lib_licences_counts_and_renamed_code: {} not installed (Debian linux-source-6.1; bench/corpora.sh installs it)", tarball.display());
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let st = Command::new("tar")
        .args([
            "-xJf",
            tarball.to_str().unwrap(),
            "-C",
            t.path().to_str().unwrap(),
            "--no-wildcards-match-slash",
            "--wildcards",
            "linux-source-6.1/lib/*.c",
        ])
        .status()
        .unwrap();
    assert!(st.success());
    let lib = t.path().join("linux-source-6.1/lib");
    let rights = t.path().join("rights.jsonl");
    std::fs::write(
        &rights,
        "{\"path\": \"**\", \"license\": \"GPL-2.0-only\", \"holder\": \"Linux kernel contributors\"}\n",
    )
    .unwrap();
    let opts =
        IngestOptions { rights: recital_index::RightsRules::load(&rights).unwrap(), ..Default::default() };
    let dir = t.path().join("idx");
    recital_index::build(
        &dir,
        std::slice::from_ref(&lib),
        &opts,
        &BuildOptions { shard_tokens: 300_000, ..Default::default() },
    )
    .unwrap();
    let idx = Index::open(&dir).unwrap();
    let mut files: Vec<(String, String)> = std::fs::read_dir(&lib)
        .unwrap()
        .flatten()
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read_to_string(e.path()).unwrap_or_default(),
            )
        })
        .filter(|(_, t)| !t.is_empty())
        .collect();
    files.sort();
    assert!(files.len() > 100, "{} files", files.len());
    assert!(idx.stats().canon_tokens > 0);
    let all: Vec<Vec<String>> = files.iter().map(|(_, t)| toks(t)).collect();
    let mut checked = 0;
    for (i, (name, text)) in files.iter().enumerate().step_by(7) {
        let tk = &all[i];
        if tk.len() < 200 {
            continue;
        }
        // A 12-token window from the middle of the file: its licence and count.
        let q = tk[tk.len() / 2..tk.len() / 2 + 12].to_vec();
        let want: u64 = all
            .iter()
            .map(|d| (0..d.len().saturating_sub(11)).filter(|&j| d[j..j + 12] == q[..]).count() as u64)
            .sum();
        let got = idx.count(&Query { tokens: q.clone(), stream: Stream::Text }).unwrap();
        assert_eq!(got.count, want, "{name}: count of {q:?}");
        let hits = idx.locate(&Query { tokens: q, stream: Stream::Text }, 50).unwrap();
        let hit = hits.hits.iter().find(|h| h.doc_id == *name).expect("the window's own file");
        let expected = spdx_of(text).unwrap_or_else(|| "GPL-2.0-only".into());
        assert_eq!(hit.rights.license, expected, "{name}");
        checked += 1;
    }
    assert!(checked > 15, "{checked} files checked");
    // A function with its local identifiers renamed still matches on the canonical stream.
    let (name, text) = files.iter().find(|(n, _)| n == "bcd.c").expect("lib/bcd.c");
    let renamed = text.replace("val", "v4l").replace("bcd", "bcd_x");
    let q = Query::canonical(&renamed, recital_text::code::Lang::C);
    let r = idx.locate(&q, 5).unwrap();
    assert!(r.hits.iter().any(|h| h.doc_id == *name), "renamed bcd.c found on the canonical stream");
    assert!(idx.count(&Query::text(&renamed)).unwrap().count == 0, "but not on the text stream");
}
