//! One copy, one decision: however a copy is cut into overlapping or adjacent
//! `near` pieces, with its sources spread among them, merging the pieces
//! ([`recital_detect::merge`]) and deciding gives what deciding the whole copy
//! gives: the same action, covered bytes, sources and filtered text.

use proptest::prelude::*;
use recital_detect::merge::{merge_copies, MergeLimits};
use recital_detect::report::{Source, Span};
use recital_detect::{ScanReport, SpanKind};

use crate::testutil::{policy, report, source, span};
use crate::{apply, Request};

const LICENSES: &[&str] = &["MIT", "GPL-2.0-only", "CC0-1.0", "LicenseRef-Acme", "MPL-2.0", "Apache-2.0"];
const REQUESTS: &[&str] = &["DE", "US"];
const LIMITS: MergeLimits = MergeLimits { max_gap: 8, max_sources: 5 };

/// `n` one-token words, a comma now and then.
fn text(n: usize) -> String {
    (0..n).map(|i| if i % 7 == 6 { ",".to_string() } else { format!("w{i}") }).collect::<Vec<_>>().join(" ")
}

/// Byte range of tokens `a..b` of `t` (words separated by single spaces).
fn bytes(t: &str, a: usize, b: usize) -> std::ops::Range<usize> {
    let ts = recital_text::tokenize(t);
    ts.tokens[a].src.start..ts.tokens[b - 1].src.end
}

/// Token ranges covering `from..to`, each starting inside or right after the
/// previous one: `(length, overlap)` per piece, clipped to the copy.
fn cut(from: usize, to: usize, shape: &[(usize, usize)]) -> Vec<(usize, usize)> {
    let mut pieces = Vec::new();
    let mut start = from;
    for &(len, back) in shape.iter().cycle() {
        let end = (start + len).min(to);
        pieces.push((start, end));
        if end == to {
            break;
        }
        start = end - back.min(end - start - 1);
    }
    pieces
}

fn near(t: &str, a: usize, b: usize, sources: Vec<Source>) -> Span {
    let mut s = span(t, bytes(t, a, b), b - a, SpanKind::Near, sources);
    s.similarity = 0.9;
    s
}

fn rights((lic, tdm, us_only): (usize, bool, bool), i: usize) -> Source {
    let mut s = source(&format!("s{i}"), LICENSES[lic]);
    s.tdm_opt_out = tdm;
    if us_only {
        s.jurisdictions = vec!["US".to_string()];
    }
    s
}

fn ids(r: &ScanReport) -> Vec<String> {
    let mut v: Vec<String> =
        r.spans.iter().flat_map(|s| s.sources.iter().map(|x| x.doc_id.clone())).collect();
    v.sort();
    v
}

proptest! {
    #[test]
    fn a_copy_cut_into_near_pieces_is_decided_as_the_whole_copy(
        words in 20usize..140,
        at in 0usize..20,
        len in 2usize..120,
        srcs in prop::collection::vec((0..LICENSES.len(), any::<bool>(), any::<bool>()), 1..6),
        shape in prop::collection::vec((1usize..40, 0usize..40), 1..8),
        spread in prop::collection::vec(0usize..8, 6),
    ) {
        let t = text(words);
        let a = at.min(words - 2);
        let b = (a + len).min(words);
        let all: Vec<Source> = srcs.iter().enumerate().map(|(i, &r)| rights(r, i)).collect();
        let whole = report(&t, vec![near(&t, a, b, all.clone())], &[]);

        let pieces = cut(a, b, &shape);
        let k = pieces.len();
        let cut_spans: Vec<Span> = pieces
            .iter()
            .enumerate()
            .map(|(p, &(s, e))| {
                let mine = (0..all.len()).filter(|&j| spread[j] % k == p || j == p % all.len());
                near(&t, s, e, mine.map(|j| all[j].clone()).collect())
            })
            .collect();
        let merged = report(&t, merge_copies(cut_spans, &t, LIMITS), &[]);

        prop_assert_eq!(merged.spans.len(), 1, "{:?}", pieces);
        let (m, w) = (&merged.spans[0], &whole.spans[0]);
        prop_assert_eq!((m.byte_start, m.byte_end, m.tokens), (w.byte_start, w.byte_end, w.tokens));
        prop_assert_eq!(ids(&merged), ids(&whole));
        let p = policy();
        for j in REQUESTS {
            let req = Request::from_jurisdiction(j);
            let (dm, dw) = (p.decide(&merged, &req), p.decide(&whole, &req));
            prop_assert_eq!(dm.action, dw.action, "{} {:?}: {}", j, pieces, dm.statement);
            prop_assert_eq!(dm.spans[0].action, dw.spans[0].action);
            prop_assert_eq!(dm.spans[0].potential, dw.spans[0].potential);
            // The same text is hidden (the markers may name the sources in another order).
            let shown = |r: &ScanReport, d: &crate::Decision| {
                let out = apply(&t, r, d).text.unwrap_or_default();
                d.spans[0].marker.as_deref().map_or(out.clone(), |m| out.replace(m, "#"))
            };
            prop_assert_eq!(shown(&merged, &dm), shown(&whole, &dw));
        }
    }
}

#[test]
fn pieces_under_the_threshold_alone_are_redacted_together() {
    // Three 30-token pieces of a 70-token copy, each under prose's 50.
    let t = text(100);
    let gpl = source("gpl", "GPL-2.0-only");
    let cut_spans = vec![
        near(&t, 10, 40, vec![gpl.clone()]),
        near(&t, 35, 65, vec![source("mit", "MIT")]),
        near(&t, 50, 80, vec![gpl]),
    ];
    let alone = policy().decide(&report(&t, cut_spans.clone(), &[]), &Request::default());
    assert_eq!(alone.action, crate::Action::Allow, "{}", alone.statement);
    let merged = report(&t, merge_copies(cut_spans, &t, LIMITS), &[]);
    let d = policy().decide(&merged, &Request::default());
    assert_eq!((merged.spans.len(), d.action), (1, crate::Action::Redact), "{}", d.statement);
    assert!(
        d.statement.contains("the strictest outcome across the copy's 2 sources was taken (redact)"),
        "{}",
        d.statement
    );
}
