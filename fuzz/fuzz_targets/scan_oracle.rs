//! Differential: the exact spans `scan` reports on a small random corpus
//! and output equal the maximal spans of a brute-force substring search
//! over the normalised tokens (the oracle of recital-detect's
//! `tests/oracle.rs`), and every span's offsets round-trip.
#![no_main]

use std::collections::BTreeSet;

use libfuzzer_sys::fuzz_target;
use recital_detect::{scan, Input, ScanOptions, SpanKind};
use recital_fuzz::{build_index, scratch, Bytes};
use recital_index::Index;

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
    "3.14",
    "½",
    "'",
    "\"",
    "ǅ",
    "İ",
    "ß",
    "ﷺ",
];
const SEPS: &[&str] = &[" ", "\r\n", "\t", "  ", "\u{00A0}", " \u{2066}", "", "\u{301}"];

type Words = Vec<(usize, usize)>;

fn words(b: &mut Bytes<'_>) -> Words {
    let n = b.below(24);
    (0..n).map(|_| (b.below(WORDS.len()), b.below(SEPS.len()))).collect()
}

fn text(ix: &[(usize, usize)]) -> String {
    ix.iter().map(|&(w, s)| format!("{}{}", WORDS[w], SEPS[s])).collect()
}

fn toks(s: &str) -> Vec<String> {
    recital_text::tokenize(s).texts().map(str::to_string).collect()
}

fn occurrences(doc: &[String], q: &[String]) -> usize {
    if q.is_empty() || doc.len() < q.len() {
        return 0;
    }
    (0..=doc.len() - q.len()).filter(|&i| doc[i..i + q.len()] == *q).count()
}

/// Maximal exact spans by brute force: (byte start, byte end, tokens, count).
///
/// Then, as scan does, a span whose bytes lie inside a longer one's with a
/// document in common is folded into it: one source character can give
/// several tokens (`ﷺ` gives four words, all with its bytes), so two token
/// spans can have nested byte ranges.
fn oracle(out: &str, doc_toks: &[Vec<String>], min: usize) -> BTreeSet<(usize, usize, usize, u64)> {
    let ts = recital_text::tokenize(out);
    let ot: Vec<String> = ts.texts().map(str::to_string).collect();
    let longest = |l: usize| {
        (0..=ot.len() - l)
            .rev()
            .find(|&k| k == 0 || doc_toks.iter().any(|d| occurrences(d, &ot[l..l + k]) > 0))
            .unwrap()
    };
    let mut spans = Vec::new();
    let mut last_end = 0;
    for l in 0..ot.len() {
        let k = longest(l);
        if k > 0 && l + k > last_end {
            last_end = l + k;
            if k >= min {
                let q = &ot[l..l + k];
                let count: usize = doc_toks.iter().map(|d| occurrences(d, q)).sum();
                let docs: BTreeSet<usize> =
                    (0..doc_toks.len()).filter(|&d| occurrences(&doc_toks[d], q) > 0).collect();
                spans.push(((ts.tokens[l].src.start, ts.tokens[l + k - 1].src.end, k, count as u64), docs));
            }
        }
    }
    spans.sort_by(|(a, _), (b, _)| (b.1 - b.0).cmp(&(a.1 - a.0)).then(a.0.cmp(&b.0)));
    let mut kept: Vec<((usize, usize, usize, u64), BTreeSet<usize>)> = Vec::new();
    for (f, docs) in spans {
        let inside = |(k, kd): &(_, BTreeSet<usize>)| {
            let k: &(usize, usize, usize, u64) = k;
            k.0 <= f.0 && k.1 >= f.1 && !kd.is_disjoint(&docs)
        };
        if !kept.iter().any(inside) {
            kept.push((f, docs));
        }
    }
    kept.into_iter().map(|(f, _)| f).collect()
}

fuzz_target!(|data: &[u8]| {
    let mut b = Bytes(data);
    let min = 1 + b.below(4);
    let docs: Vec<Words> = (0..1 + b.below(4)).map(|_| words(&mut b)).collect();
    let out_words = words(&mut b);
    let (cd, cs, cl) = (b.below(docs.len()), b.below(30), b.below(12));
    let doc_texts: Vec<String> = docs.iter().map(|d| text(d)).collect();
    let doc_toks: Vec<Vec<String>> = doc_texts.iter().map(|d| toks(d)).collect();
    if doc_toks.iter().all(Vec::is_empty) {
        return;
    }
    // The output: random words with a stretch copied from a document.
    let mut out = text(&out_words);
    let src = &docs[cd];
    let s = cs.min(src.len());
    out.push_str(&text(&src[s..(s + cl).min(src.len())]));
    out.push_str(&text(&out_words[..out_words.len() / 2]));

    let dir = scratch();
    let names: Vec<String> = (0..docs.len()).map(|i| format!("d{i}.txt")).collect();
    let files: Vec<(&str, &str)> =
        names.iter().map(String::as_str).zip(doc_texts.iter().map(String::as_str)).collect();
    let idx = Index::open(&build_index(dir.path(), &files)).unwrap();
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
    let got: BTreeSet<_> = report
        .spans
        .iter()
        // Boilerplate spans are exact copies too (of a repetitive run, or
        // of punctuation alone), reported as stock.
        .filter(|s| matches!(s.kind, SpanKind::Exact | SpanKind::Boilerplate))
        .map(|s| (s.byte_start, s.byte_end, s.tokens, s.count))
        .collect();
    assert_eq!(got, oracle(&out, &doc_toks, min), "output {out:?}, docs {doc_texts:?}");
    let merged = scan(&idx, &input, &ScanOptions { merge: true, near: true, ..opts }).unwrap();
    for s in report.spans.iter().chain(&merged.spans) {
        let slice = &out[s.byte_start..s.byte_end];
        assert_eq!(&s.text, slice);
        assert_eq!(s.char_start, out[..s.byte_start].chars().count());
        assert_eq!(s.utf16_end, out[..s.byte_end].encode_utf16().count());
        assert!(!s.sources.is_empty());
    }
});
