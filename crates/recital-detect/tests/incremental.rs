//! Property test: scanning the successive windows of a growing text with a
//! [`ScanMemo`] (what the streaming proxy does after every token) reports
//! exactly what scanning each window afresh reports, whatever the chunking,
//! the window starts, the context and an index change in the middle.

use proptest::prelude::*;
use recital_detect::{scan, scan_window, Input, ScanMemo, ScanOptions};
use recital_index::{BuildOptions, DocInput, DocMode, Index, IngestOptions, Rights};

/// A small vocabulary, so that random outputs match the corpus often.
const WORDS: &[&str] = &["a", "b", "c", "d", "Cat", "cat", "é", "😀", ",", ".", "x\u{200B}y", "3.1"];

fn text(ix: &[usize]) -> String {
    ix.iter().map(|&w| WORDS[w % WORDS.len()]).collect::<Vec<_>>().join(" ")
}

fn words(max: usize) -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(0..WORDS.len(), 0..max)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("RECITAL_PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(40),
        ..ProptestConfig::default()
    })]
    #[test]
    fn memoised_window_scans_equal_fresh_scans(
        docs in prop::collection::vec(words(40), 1..5),
        pieces in prop::collection::vec((words(6), prop::option::of((0usize..5, 0usize..40, 1usize..20))), 1..8),
        cuts in prop::collection::vec(0usize..400, 1..40),
        lookback in 0usize..60,
        min in 2usize..6,
        context in prop::option::of(words(20)),
        added in prop::option::of(words(30)),
    ) {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("c");
        std::fs::create_dir(&dir).unwrap();
        let doc_texts: Vec<String> = docs.iter().map(|d| text(d)).collect();
        for (i, d) in doc_texts.iter().enumerate() {
            std::fs::write(dir.join(format!("d{i}.txt")), d).unwrap();
        }
        if doc_texts.iter().all(|d| d.trim().is_empty()) {
            return Ok(());
        }
        let idx_dir = t.path().join("idx");
        recital_index::build(&idx_dir, &[dir], &IngestOptions::default(), &BuildOptions::default()).unwrap();
        let mut idx = Index::open(&idx_dir).unwrap();

        // The streamed text: random words and copies of document stretches.
        let mut out = String::new();
        for (w, copy) in &pieces {
            out.push_str(&text(w));
            out.push(' ');
            if let Some((d, s, len)) = copy {
                let src = &docs[d % docs.len()];
                let s = (*s).min(src.len());
                out.push_str(&text(&src[s..(s + len).min(src.len())]));
                out.push(' ');
            }
        }
        let opts = ScanOptions {
            min_tokens: min,
            seed_tokens: (min - 1).max(1),
            max_gap: 3,
            boilerplate_count: 50,
            rare_count: 3,
            context: context.map(|c| text(&c)),
            ..ScanOptions::default()
        };

        // Grow the text at the given cuts (any char boundary: words arrive in
        // pieces); each window starts `lookback` bytes before the previous
        // end, at a whitespace, never moving back.
        let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(out.len())).collect();
        cuts.push(out.len());
        cuts.sort();
        let mut memo = ScanMemo::default();
        let (mut ws, mut prev) = (0usize, 0usize);
        for (step, &c) in cuts.iter().enumerate() {
            let mut end = c;
            while !out.is_char_boundary(end) {
                end += 1;
            }
            if let Some(w) = &added {
                if step == cuts.len() / 2 {
                    // A registered work lands mid-stream: a new snapshot.
                    let d = text(w);
                    let d = if d.trim().is_empty() { "cat".to_string() } else { d };
                    let doc = DocInput { id: "added", path: None, text: &d, mode: DocMode::Text, rights: Rights::default() };
                    let mut w = recital_index::IndexWriter::open(&idx_dir).unwrap();
                    w.add_docs(&[doc]).unwrap();
                    idx = w.commit().unwrap();
                }
            }
            let mut start = prev.saturating_sub(lookback).max(ws);
            while !out.is_char_boundary(start) {
                start += 1;
            }
            if let Some(i) = out[start..end].find(char::is_whitespace) {
                if start > 0 {
                    start += i;
                }
            }
            ws = start.min(end);
            prev = end;
            let window = Input::decode(&out.as_bytes()[ws..end]).unwrap();
            let fresh = scan(&idx, &window, &opts).unwrap();
            let memoised = scan_window(&idx, &window, &opts, &mut memo, ws).unwrap();
            prop_assert_eq!(
                serde_json::to_value(&memoised).unwrap(),
                serde_json::to_value(&fresh).unwrap(),
                "window {:?} of {:?}", &out[ws..end], out
            );
        }
    }
}

#[test]
fn the_memo_saves_searches_on_a_growing_text() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("c");
    std::fs::create_dir(&dir).unwrap();
    let doc = "the quick brown fox jumps over the lazy dog and then the dog sleeps in the sun all day long";
    std::fs::write(dir.join("d.txt"), doc).unwrap();
    let idx_dir = t.path().join("idx");
    recital_index::build(&idx_dir, &[dir], &IngestOptions::default(), &BuildOptions::default()).unwrap();
    let idx = Index::open(&idx_dir).unwrap();
    let out = "a reply that quotes: the quick brown fox jumps over the lazy dog, and goes on in other words \
               entirely, with nothing more from the source at all, for quite a while longer than that";
    let mut memo = ScanMemo::default();
    let opts = ScanOptions { min_tokens: 5, seed_tokens: 3, ..ScanOptions::default() };
    let mut last = None;
    for (end, _) in out.char_indices().filter(|(_, c)| *c == ' ') {
        let r =
            scan_window(&idx, &Input::decode(&out.as_bytes()[..end]).unwrap(), &opts, &mut memo, 0).unwrap();
        last = Some(r);
    }
    let r = last.unwrap();
    assert_eq!(r.spans.len(), 1, "{:?}", r.spans);
    // Each step searches only the positions whose match may have grown.
    assert!(memo.reused > 5 * memo.searched, "searched {} reused {}", memo.searched, memo.reused);
}

/// Edited copies from deep inside long documents (chains whose stretches start
/// hundreds of tokens in and are read ahead), two of them from the same
/// document: every memoised window reports what a fresh scan of it reports.
#[test]
fn memoised_windows_equal_fresh_scans_on_edited_copies_of_long_documents() {
    // A seeded stream of words from a 300-word vocabulary: long, rarely repeating runs.
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let mut word = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        format!("w{}", x % 300)
    };
    let docs: Vec<Vec<String>> = (0..3).map(|_| (0..1500).map(|_| word()).collect()).collect();
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("c");
    std::fs::create_dir(&dir).unwrap();
    for (i, d) in docs.iter().enumerate() {
        std::fs::write(dir.join(format!("d{i}.txt")), d.join(" ")).unwrap();
    }
    let idx_dir = t.path().join("idx");
    recital_index::build(&idx_dir, &[dir], &IngestOptions::default(), &BuildOptions::default()).unwrap();
    let idx = Index::open(&idx_dir).unwrap();
    // Two edited copies from document 1 (one word in 9 changed), one from document 2.
    let edited = |d: &[String], from: usize, len: usize| -> Vec<String> {
        d[from..from + len]
            .iter()
            .enumerate()
            .map(|(k, w)| if k % 9 == 4 { "EDIT".into() } else { w.clone() })
            .collect()
    };
    let mut words: Vec<String> = vec!["intro".into(), "words".into()];
    words.extend(edited(&docs[1], 700, 60));
    words.extend(["and".into(), "then".into()]);
    words.extend(edited(&docs[1], 1100, 50));
    words.push("also".into());
    words.extend(edited(&docs[2], 400, 40));
    let out = words.join(" ");
    let opts = ScanOptions { min_tokens: 12, seed_tokens: 4, ..ScanOptions::default() };
    let mut memo = ScanMemo::default();
    let (mut near_seen, mut ws) = (0, 0usize);
    for (end, _) in out.char_indices().filter(|(_, c)| *c == ' ').chain(std::iter::once((out.len(), ' '))) {
        // The window: the last ~400 bytes, from a word start, never moving back.
        if end > 400 {
            let s = end - 400;
            ws = ws.max(s + out[s..end].find(' ').unwrap_or(0));
        }
        let window = Input::decode(&out.as_bytes()[ws..end]).unwrap();
        let fresh = scan(&idx, &window, &opts).unwrap();
        let memoised = scan_window(&idx, &window, &opts, &mut memo, ws).unwrap();
        assert_eq!(
            serde_json::to_value(&memoised).unwrap(),
            serde_json::to_value(&fresh).unwrap(),
            "window {:?}",
            &out[ws..end]
        );
        near_seen += fresh.spans.iter().filter(|s| s.kind == recital_detect::report::SpanKind::Near).count();
    }
    // The edited copies were chained (and extended) as near-verbatim spans.
    assert!(near_seen > 0);
}
