//! Properties over random reports and random policies: deciding and applying
//! never panic, the response action is the most severe span action, and text
//! without redactions comes back unchanged, with annotations on character
//! boundaries of the filtered text.

use proptest::prelude::*;
use recital_detect::report::{Source, Span};
use recital_detect::SpanKind;
use recital_index::Stream;

use crate::testutil::{report, HEADER};
use crate::{apply, Action, Policy, Request};

const PIECES: &[&str] = &["a", "word", " ", "\n", "é", "e\u{301}", "日本", "🦊", "ß", "\u{200B}", "—"];
const LICENSES: &[&str] = &[
    "MIT",
    "GPL-2.0-only",
    "MIT OR GPL-3.0-only",
    "MIT AND LicenseRef-X",
    "CC0-1.0",
    "NOASSERTION",
    "",
    "Artistic-2.0",
    "((MIT",
    "GPL-2.0-only WITH Classpath-exception-2.0",
];
const JURIS: &[&str] = &["*", "EU", "DE", "US", "eea", "UK"];
const CATEGORIES: &[&str] = &["prose", "code", "lyrics", "news", "poetry"];
const KINDS: &[SpanKind] = &[SpanKind::Exact, SpanKind::Near, SpanKind::CodeCanonical, SpanKind::Boilerplate];
const ACTIONS: &[&str] = &["allow", "annotate", "redact", "block"];
const REQUESTS: &[Option<&str>] = &[None, Some("DE"), Some("us"), Some("EEA"), Some("XX"), Some("")];

/// (licence, tdm opt-out, jurisdiction, category, document)
type SourceSpec = (usize, bool, usize, usize, usize);
/// (start in percent of the text, length in bytes, tokens, kind, canon stream, sources)
type SpanSpec = (usize, usize, usize, usize, bool, Vec<SourceSpec>);

fn source(text_len: usize, (lic, tdm, j, cat, doc): SourceSpec) -> Source {
    Source {
        doc_id: format!("d{doc}"),
        path: (doc % 2 == 0).then(|| format!("src/日本/{doc}.rs")),
        license: LICENSES[lic].to_string(),
        holder: None,
        url: None,
        tdm_opt_out: tdm,
        // Mostly everywhere (as most rights are), sometimes limited.
        jurisdictions: JURIS.get(j).map(|j| vec![j.to_string()]).unwrap_or_default(),
        category: CATEGORIES.get(cat).map(|c| c.to_string()),
        tdm_policy: None,
        iscc: None,
        provenance: Vec::new(),
        source_byte_start: 0,
        source_byte_end: text_len,
        snippet: String::new(),
        snippet_hit: [0, 0],
    }
}

/// A span with offsets that may be off character boundaries or past the end.
fn span(text: &str, (start_pct, len, tokens, kind, canon, sources): SpanSpec) -> Span {
    let s = text.len() * start_pct / 100;
    let e = s + len;
    Span {
        byte_start: s,
        byte_end: e,
        char_start: 0,
        char_end: 0,
        utf16_start: 0,
        utf16_end: 0,
        tokens,
        count: 1,
        doc_count: 1,
        kind: KINDS[kind],
        stream: if canon { Stream::Canon } else { Stream::Text },
        similarity: 0.9,
        longest_exact_run: tokens,
        text: text.get(s..e).unwrap_or("").to_string(),
        sources: sources.into_iter().map(|x| source(text.len(), x)).collect(),
    }
}

/// (jurisdiction, classes, tdm, notified, categories, kinds, min_tokens, min_chars, min_coverage, action)
type RuleSpec = (
    Option<usize>,
    Option<Vec<usize>>,
    Option<bool>,
    Option<bool>,
    Option<Vec<usize>>,
    Option<Vec<usize>>,
    Option<usize>,
    Option<usize>,
    Option<f64>,
    usize,
);

fn quoted(items: impl Iterator<Item = String>) -> String {
    format!("[{}]", items.map(|s| format!("{s:?}")).collect::<Vec<_>>().join(", "))
}

fn policy_toml(default_action: usize, rules: &[RuleSpec]) -> String {
    let mut s = format!("default_action = {:?}\n{HEADER}", ACTIONS[default_action]);
    for (i, (j, classes, tdm, notified, cats, kinds, min_tokens, min_chars, cov, action)) in
        rules.iter().enumerate()
    {
        s.push_str(&format!("\n[[rules]]\nname = \"r{i}\"\naction = {:?}\n", ACTIONS[*action]));
        if let Some(j) = j {
            // "UK" is not in the test policy's groups: use GB.
            let name = if JURIS[*j] == "UK" { "GB" } else { JURIS[*j] };
            s.push_str(&format!("jurisdictions = [{name:?}]\n"));
        }
        if let Some(c) = classes {
            let names = c.iter().map(|&k| crate::LicenseClass::ALL[k].name().to_string());
            s.push_str(&format!("license_class = {}\n", quoted(names)));
        }
        if let Some(v) = tdm {
            s.push_str(&format!("tdm_opt_out = {v}\n"));
        }
        if let Some(v) = notified {
            s.push_str(&format!("notified = {v}\n"));
        }
        if let Some(c) = cats {
            s.push_str(&format!("categories = {}\n", quoted(c.iter().map(|&k| CATEGORIES[k].to_string()))));
        }
        if let Some(k) = kinds {
            let names = ["exact", "near", "code-canonical"];
            s.push_str(&format!("kinds = {}\n", quoted(k.iter().map(|&k| names[k].to_string()))));
        }
        if let Some(m) = min_tokens {
            s.push_str(&format!("min_tokens = {m}\n"));
        }
        if let Some(m) = min_chars {
            s.push_str(&format!("min_chars = {m}\n"));
        }
        if let Some(c) = cov {
            s.push_str(&format!("min_coverage = {c:?}\n"));
        }
    }
    s
}

fn rule_spec() -> impl Strategy<Value = RuleSpec> {
    (
        prop::option::of(0..JURIS.len()),
        prop::option::of(prop::collection::vec(0usize..6, 1..3)),
        prop::option::of(any::<bool>()),
        prop::option::of(any::<bool>()),
        // Only the categories the test policy has.
        prop::option::of(prop::collection::vec(0usize..4, 1..3)),
        prop::option::of(prop::collection::vec(0usize..3, 1..3)),
        prop::option::of(1usize..90),
        prop::option::of(1usize..300),
        prop::option::of(0.0f64..=1.0),
        0..ACTIONS.len(),
    )
}

fn span_spec() -> impl Strategy<Value = SpanSpec> {
    (
        0usize..=105,
        0usize..40,
        20usize..130,
        0..KINDS.len(),
        any::<bool>(),
        prop::collection::vec((0..LICENSES.len(), any::<bool>(), 0usize..16, 0usize..6, 0usize..4), 0..3),
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn decide_and_apply_hold_their_promises(
        pieces in prop::collection::vec(0..PIECES.len(), 0..120),
        spans in prop::collection::vec(span_spec(), 0..10),
        coverage in prop::collection::vec(0.0f64..=1.0, 4),
        preset in 0usize..4,
        default_action in 0..ACTIONS.len(),
        rules in prop::collection::vec(rule_spec(), 0..6),
        request in 0..REQUESTS.len(),
        notified_doc in 0usize..12,
    ) {
        let text: String = pieces.iter().map(|&i| PIECES[i]).collect();
        let policy = match preset {
            0 => Policy::builtin_default(),
            1 => Policy::parse(include_str!("../../../policies/eu-only.toml"), "eu-only").unwrap(),
            2 => Policy::parse(include_str!("../../../policies/permissive-with-attribution.toml"), "p").unwrap(),
            _ => {
                let src = policy_toml(default_action, &rules);
                match crate::check(&src, "random.toml") {
                    Ok((p, _)) => p,
                    Err(e) => return Err(TestCaseError::fail(format!("{e:?}\n{src}"))),
                }
            }
        };
        let spans: Vec<Span> = spans.into_iter().map(|s| span(&text, s)).collect();
        let cov: Vec<(String, f64)> = coverage.iter().enumerate().map(|(i, c)| (format!("d{i}"), *c)).collect();
        let cov_refs: Vec<(&str, f64)> = cov.iter().map(|(d, c)| (d.as_str(), *c)).collect();
        let r = report(&text, spans, &cov_refs);
        let notified = |s: &Source| s.doc_id == format!("d{notified_doc}");
        let d = policy.decide(&r, &Request { jurisdiction: REQUESTS[request], notified: &notified });

        prop_assert_eq!(d.spans.len(), r.spans.len());
        let max = d.spans.iter().map(|s| s.action).max().unwrap_or(Action::Allow);
        prop_assert_eq!(d.action, max);
        for (i, (sd, s)) in d.spans.iter().zip(&r.spans).enumerate() {
            prop_assert_eq!(sd.span, i);
            prop_assert_eq!((sd.byte_start, sd.byte_end), (s.byte_start, s.byte_end));
            prop_assert!(!sd.reason.is_empty());
            if let Some(rule) = &sd.rule {
                prop_assert!(sd.reason.contains(&format!("rule {rule:?}")), "{}", sd.reason);
            }
            if s.kind == SpanKind::Boilerplate {
                prop_assert_eq!(sd.action, Action::Allow);
            }
            if sd.action != Action::Allow {
                prop_assert!(!sd.sources.is_empty());
            }
        }
        prop_assert!(d.statement.contains(&format!("request jurisdiction {}", d.jurisdiction)), "{}", d.statement);

        let f = apply(&text, &r, &d);
        if d.action == Action::Block {
            prop_assert!(f.blocked && f.text.is_none());
        } else {
            let out = f.text.clone().unwrap_or_default();
            let redacts = d.spans.iter().any(|s| s.action == Action::Redact);
            if !redacts {
                prop_assert_eq!(&out, &text);
            }
            // An annotated span clear of every redaction shows the same text at its new offsets.
            let snap = |s: usize, e: usize| {
                let e = e.min(text.len());
                let s = (0..=s.min(e)).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0);
                let e = (e..=text.len()).find(|&i| text.is_char_boundary(i)).unwrap_or(text.len());
                (s, e)
            };
            // What is replaced is widened to whole tokens and paired brackets.
            let toks = crate::bounds::token_ranges(&text);
            let reds: Vec<(usize, usize)> = d.spans.iter().filter(|s| s.action == Action::Redact)
                .map(|s| snap(s.byte_start, s.byte_end))
                .filter_map(|(s, e)| crate::bounds::redaction_bounds(&text, &toks, s..e))
                .map(|r| (r.start, r.end)).collect();
            for sd in d.spans.iter().filter(|s| s.action == Action::Annotate) {
                let (s, e) = snap(sd.byte_start, sd.byte_end);
                if s >= e || reds.iter().any(|&(rs, re)| rs < e && s < re) {
                    continue;
                }
                let found = f.annotations.iter().any(|a| {
                    a.action == Action::Annotate && out.get(a.start_offset..a.end_offset) == Some(&text[s..e])
                });
                prop_assert!(found, "annotation for {}..{} ({:?}) in {:?}", s, e, &text[s..e], f.annotations);
            }
            for a in &f.annotations {
                prop_assert!(a.start_offset < a.end_offset && a.end_offset <= out.len(), "{:?}", a);
                prop_assert!(out.is_char_boundary(a.start_offset) && out.is_char_boundary(a.end_offset));
                if a.action == Action::Redact {
                    prop_assert!(out[a.start_offset..a.end_offset].starts_with("[redacted"));
                }
            }
        }
    }
}
