//! Property test: the exact spans `scan` reports equal the maximal spans of a
//! brute-force search over the corpus, and their offsets (bytes, chars, UTF-16)
//! round-trip on adversarial Unicode (combining marks, emoji, RTL, CRLF,
//! invisible characters).

use std::collections::BTreeSet;

use proptest::prelude::*;
use recital_detect::{scan, Input, ScanOptions, SpanKind};
use recital_index::{BuildOptions, Index, IngestOptions};

/// Words a reader sees as the same in both forms are fine: the normaliser folds them.
const WORDS: &[&str] = &[
    "a",
    "b",
    "Cat",
    "cat",
    "e\u{301}te\u{301}",
    "été",
    "😀",
    "👍🏽",
    "שלום",
    "مرحبا",
    ",",
    ".",
    "x\u{200B}y",
    "ﬁsh",
];
const SEPS: &[&str] = &[" ", "\r\n", "\t", "  ", "\u{00A0}", " \u{2066}"];

fn text(ix: &[(usize, usize)]) -> String {
    let mut s = String::new();
    for &(w, sep) in ix {
        s.push_str(WORDS[w]);
        s.push_str(SEPS[sep]);
    }
    s
}

fn words() -> impl Strategy<Value = Vec<(usize, usize)>> {
    prop::collection::vec((0..WORDS.len(), 0..SEPS.len()), 0..30)
}

fn toks(s: &str) -> Vec<String> {
    let ts = recital_text::tokenize(s);
    (0..ts.len()).map(|i| ts.text(i).to_string()).collect()
}

fn occurrences(doc: &[String], q: &[String]) -> usize {
    if q.is_empty() || doc.len() < q.len() {
        return 0;
    }
    (0..=doc.len() - q.len()).filter(|&i| doc[i..i + q.len()] == *q).count()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]
    #[test]
    fn exact_spans_equal_brute_force(
        docs in prop::collection::vec(words(), 1..6),
        out_words in words(),
        copy in prop::option::of((0usize..6, 0usize..30, 1usize..12)),
        min in 1usize..5,
    ) {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("c");
        std::fs::create_dir(&dir).unwrap();
        let doc_texts: Vec<String> = docs.iter().map(|d| text(d)).collect();
        for (i, d) in doc_texts.iter().enumerate() {
            std::fs::write(dir.join(format!("d{i}.txt")), d).unwrap();
        }
        let doc_toks: Vec<Vec<String>> = doc_texts.iter().map(|d| toks(d)).collect();
        if doc_toks.iter().all(|d| d.is_empty()) {
            return Ok(());
        }
        let idx_dir = t.path().join("idx");
        recital_index::build(&idx_dir, &[dir], &IngestOptions::default(), &BuildOptions::default()).unwrap();
        let idx = Index::open(&idx_dir).unwrap();

        // The output: random words with (maybe) a stretch copied from a document.
        let mut out = text(&out_words);
        if let Some((d, start, len)) = copy {
            let src = &docs[d % docs.len()];
            let s = start.min(src.len());
            let e = (s + len).min(src.len());
            out.push_str(&text(&src[s..e]));
            out.push_str(&text(&out_words[..out_words.len() / 2]));
        }
        let opts = ScanOptions {
            min_tokens: min,
            seed_tokens: min,
            near: false,
            boilerplate_count: u64::MAX,
            max_sources: 100,
            seed_occurrences: 100,
            merge: false,
            ..ScanOptions::default()
        };
        let input = Input::decode(out.as_bytes()).unwrap();
        let report = scan(&idx, &input, &opts).unwrap();
        let merged = scan(&idx, &input, &ScanOptions { merge: true, ..opts.clone() }).unwrap();

        // Brute force over the output's tokens.
        let ts = recital_text::tokenize(&out);
        let ot: Vec<String> = (0..ts.len()).map(|i| ts.text(i).to_string()).collect();
        let longest = |l: usize| {
            (0..=ot.len() - l).rev().find(|&k| k == 0 || doc_toks.iter().any(|d| occurrences(d, &ot[l..l + k]) > 0)).unwrap()
        };
        let mut want = BTreeSet::new();
        let mut last_end = 0;
        for l in 0..ot.len() {
            let k = longest(l);
            if k > 0 && l + k > last_end {
                last_end = l + k;
                if k >= min {
                    let count: usize = doc_toks.iter().map(|d| occurrences(d, &ot[l..l + k])).sum();
                    want.insert((ts.tokens[l].src.start, ts.tokens[l + k - 1].src.end, k, count as u64));
                }
            }
        }
        let got = exact_spans(&report);
        prop_assert_eq!(&got, &want, "output {:?}", out);
        // Merged, every exact piece lies inside one reported copy.
        for &(a, b, _, _) in &want {
            prop_assert!(merged.spans.iter().any(|s| s.byte_start <= a && b <= s.byte_end), "{a}..{b} in {out:?}");
        }
        for s in report.spans.iter().chain(&merged.spans) {
            // Offsets round-trip: the bytes re-tokenise to a match, chars and UTF-16 agree.
            let slice = &out[s.byte_start..s.byte_end];
            prop_assert_eq!(toks(slice).len(), s.tokens);
            prop_assert_eq!(s.char_start, out[..s.byte_start].chars().count());
            prop_assert_eq!(s.char_end, out[..s.byte_end].chars().count());
            prop_assert_eq!(s.utf16_start, out[..s.byte_start].encode_utf16().count());
            prop_assert_eq!(s.utf16_end, out[..s.byte_end].encode_utf16().count());
            prop_assert_eq!(&s.text, slice);
            prop_assert!(!s.sources.is_empty());
        }
    }
}

/// The exact copies of a report: spans of kind `Exact`, and those of kind
/// `Boilerplate` (exact copies too, but of a repetitive run such as `a a a
/// a a`, or of punctuation alone, which scan reports as stock).
fn exact_spans(report: &recital_detect::ScanReport) -> BTreeSet<(usize, usize, usize, u64)> {
    report
        .spans
        .iter()
        .filter(|s| matches!(s.kind, SpanKind::Exact | SpanKind::Boilerplate))
        .map(|s| (s.byte_start, s.byte_end, s.tokens, s.count))
        .collect()
}

/// Found by the `scan_oracle` fuzz target: a copied run of one repeated
/// token is reported as boilerplate, which the oracle above once left out
/// of the exact copies (and so failed on any corpus with such a run).
#[test]
fn a_repeated_token_run_is_an_exact_copy_of_kind_boilerplate() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("c");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("d0.txt"), "").unwrap();
    std::fs::write(dir.join("d1.txt"), "a a a a a a a e\u{301}te\u{301} ").unwrap();
    let idx_dir = t.path().join("idx");
    recital_index::build(&idx_dir, &[dir], &IngestOptions::default(), &BuildOptions::default()).unwrap();
    let idx = Index::open(&idx_dir).unwrap();
    let out = "😀 a a a a a a a 😀 a a a ";
    let opts = ScanOptions {
        min_tokens: 3,
        seed_tokens: 3,
        near: false,
        boilerplate_count: u64::MAX,
        max_sources: 100,
        seed_occurrences: 100,
        merge: false,
        ..ScanOptions::default()
    };
    let report = scan(&idx, &Input::decode(out.as_bytes()).unwrap(), &opts).unwrap();
    let want: BTreeSet<_> = [(5, 18, 7, 1), (24, 29, 3, 5)].into();
    assert_eq!(exact_spans(&report), want);
    let long = report.spans.iter().find(|s| s.byte_start == 5).unwrap();
    assert_eq!(long.kind, SpanKind::Boilerplate, "seven repeated tokens are a repetitive run");
}
