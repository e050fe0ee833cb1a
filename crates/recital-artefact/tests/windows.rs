//! The windowed scanner against an oracle: copies of indexed documents
//! planted in filler that the index does not have, pushed in pieces of
//! random sizes through windows far smaller than the copies. Every planted
//! copy is inside exactly one reported copy, reported copies never overlap,
//! and there are never more of them than copies planted: a copy that
//! crosses window edges is reported once, whole.

use std::sync::OnceLock;

use proptest::prelude::*;
use recital_artefact::{ArtefactScanner, Encoding, Format, Place, Sink};
use recital_detect::ScanOptions;
use recital_index::{BuildOptions, Index, IngestOptions};
use recital_policy::Policy;

const DOCS: usize = 4;
const DOC_WORDS: usize = 400;

/// Word `i` of the corpus vocabulary, or of the filler's (disjoint).
fn word(filler: bool, i: usize) -> String {
    let syll = ["ka", "lo", "mi", "ve", "tu", "ra", "zen", "po"];
    let mut w = String::from(if filler { "q" } else { "b" });
    let mut i = i + 8;
    while i > 0 {
        w.push_str(syll[i % 8]);
        i /= 8;
    }
    w
}

/// The documents (word indices) and their index, built once.
fn corpus() -> &'static (Vec<Vec<usize>>, tempfile::TempDir) {
    static C: OnceLock<(Vec<Vec<usize>>, tempfile::TempDir)> = OnceLock::new();
    C.get_or_init(|| {
        let mut x: u64 = 0x2545F4914F6CDD1D;
        let docs: Vec<Vec<usize>> = (0..DOCS)
            .map(|_| {
                (0..DOC_WORDS)
                    .map(|_| {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        (x % 3000) as usize
                    })
                    .collect()
            })
            .collect();
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("c");
        std::fs::create_dir(&dir).unwrap();
        for (i, d) in docs.iter().enumerate() {
            let text: Vec<String> = d.iter().map(|&w| word(false, w)).collect();
            std::fs::write(dir.join(format!("d{i}.txt")), text.join(" ")).unwrap();
        }
        recital_index::build(
            &t.path().join("idx"),
            &[dir],
            &IngestOptions::default(),
            &BuildOptions::default(),
        )
        .unwrap();
        (docs, t)
    })
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("RECITAL_PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(24),
        ..ProptestConfig::default()
    })]
    #[test]
    fn each_planted_copy_is_reported_once_whole(
        plan in prop::collection::vec((1usize..60, 0usize..DOCS, 0usize..DOC_WORDS, 12usize..250), 1..6),
        pieces in prop::collection::vec(1usize..400, 1..50),
        window in 600usize..2000,
    ) {
        let (docs, dir) = corpus();
        let idx = Index::open(&dir.path().join("idx")).unwrap();
        let policy = Policy::builtin_default();
        let opts = ScanOptions { min_tokens: 10, seed_tokens: 6, near: false, ..ScanOptions::default() };

        // Filler, copy, filler, copy, …; the copies' byte ranges.
        let mut text = String::new();
        let mut planted: Vec<(usize, usize)> = Vec::new();
        for (k, (fill, d, start, len)) in plan.iter().enumerate() {
            for i in 0..*fill {
                text.push_str(&word(true, k * 100 + i));
                text.push(' ');
            }
            let doc = &docs[*d];
            let start = (*start).min(DOC_WORDS - 12);
            let end = (start + len).min(DOC_WORDS);
            let a = text.len();
            let copy: Vec<String> = doc[start..end].iter().map(|&w| word(false, w)).collect();
            text.push_str(&copy.join(" "));
            planted.push((a, text.len()));
            text.push_str(" qend ");
        }

        let mut scanner = ArtefactScanner::new(&idx, &policy, opts, "EU").unwrap().with_window(window, window / 4);
        scanner.begin(Format::Strings, &[]).unwrap();
        let (mut at, mut p) = (0, 0);
        while at < text.len() {
            let mut n = (at + pieces[p % pieces.len()]).min(text.len());
            while !text.is_char_boundary(n) {
                n += 1;
            }
            let place = Place { offset: Some(at as u64), encoding: Encoding::Utf8, ..Place::default() };
            scanner.text(&text[at..n], place).unwrap();
            at = n;
            p += 1;
        }
        scanner.end().unwrap();
        let mut found: Vec<(usize, usize)> =
            scanner.take_copies().iter().map(|c| (c.span.byte_start, c.span.byte_end)).collect();
        found.sort();
        for w in found.windows(2) {
            prop_assert!(w[0].1 <= w[1].0, "overlapping copies {:?}", found);
        }
        prop_assert!(found.len() <= planted.len(), "{} copies for {} planted: {:?} vs {:?}", found.len(), planted.len(), found, planted);
        for &(a, b) in &planted {
            let holders = found.iter().filter(|&&(s, e)| s <= a && b <= e).count();
            prop_assert_eq!(holders, 1, "planted {:?} in {:?}", (a, b), found);
        }
    }
}
