//! Builders for hand-made scan reports and policies in unit tests.

use std::ops::Range;

use recital_detect::report::{DocumentMatch, OptionsUsed, Source, Span, SCHEMA};
use recital_detect::{ScanReport, SpanKind};
use recital_index::Stream;

use crate::Policy;

/// A small policy with every kind of rule; tests add rules with [`policy_with`].
pub const HEADER: &str = r#"name = "test"
version = 3
default_jurisdiction = "DE"

[jurisdiction_groups]
EU = ["DE", "FR", "AT"]
EEA = ["EU", "NO"]

[licenses]
public-domain = ["CC0-1.0"]
permissive = ["MIT", "Apache-2.0"]
copyleft = ["GPL-*"]
proprietary = ["LicenseRef-*"]

[categories]
prose = { min_tokens = 50 }
code = { min_tokens = 65 }
lyrics = { min_tokens = 11 }
news = { min_tokens = 40, min_chars = 200 }
"#;

/// The rules of the standard test policy (as in the `everywhere` preset, plus an EU opt-out rule).
pub const RULES: &str = r#"
[[rules]]
name = "notified-works"
notified = true
action = "block"

[[rules]]
name = "public-domain"
license_class = ["public-domain"]
action = "allow"

[[rules]]
name = "eu-opt-out"
jurisdictions = ["EU"]
tdm_opt_out = true
action = "redact"

[[rules]]
name = "copyleft-or-unknown"
license_class = ["copyleft", "proprietary", "noassertion", "unknown"]
action = "redact"

[[rules]]
name = "attribution"
license_class = ["permissive"]
action = "annotate"
"#;

/// The standard test policy.
pub fn policy() -> Policy {
    policy_with(RULES)
}

/// [`HEADER`] plus `rules`.
pub fn policy_with(rules: &str) -> Policy {
    let src = format!("{HEADER}{rules}");
    match Policy::parse(&src, "test.toml") {
        Ok(p) => p,
        Err(e) => panic!("test policy: {e}"),
    }
}

/// A source with a path, a URL and rights everywhere.
pub fn source(doc_id: &str, license: &str) -> Source {
    Source {
        doc_id: doc_id.to_string(),
        path: Some(format!("{doc_id}.txt")),
        license: license.to_string(),
        holder: None,
        url: Some(format!("https://example.org/{doc_id}")),
        tdm_opt_out: false,
        jurisdictions: vec!["*".to_string()],
        category: None,
        tdm_policy: None,
        iscc: None,
        provenance: Vec::new(),
        source_byte_start: 0,
        source_byte_end: 0,
        snippet: String::new(),
        snippet_hit: [0, 0],
    }
}

/// A text-stream span over `range` of `text`.
pub fn span(text: &str, range: Range<usize>, tokens: usize, kind: SpanKind, sources: Vec<Source>) -> Span {
    let (s, e) = (range.start, range.end);
    Span {
        byte_start: s,
        byte_end: e,
        char_start: text[..s].chars().count(),
        char_end: text[..e].chars().count(),
        utf16_start: text[..s].encode_utf16().count(),
        utf16_end: text[..e].encode_utf16().count(),
        tokens,
        count: 1,
        doc_count: 1,
        kind,
        stream: Stream::Text,
        similarity: 1.0,
        longest_exact_run: tokens,
        text: text[s..e].to_string(),
        sources,
    }
}

/// An exact span of `tokens` tokens with one source.
pub fn exact(text: &str, range: Range<usize>, tokens: usize, src: Source) -> Span {
    span(text, range, tokens, SpanKind::Exact, vec![src])
}

/// A report of `text` with these spans and per-document coverage.
pub fn report(text: &str, spans: Vec<Span>, coverage: &[(&str, f64)]) -> ScanReport {
    ScanReport {
        open: Vec::new(),
        schema: SCHEMA,
        input_bytes: text.len(),
        input_chars: text.chars().count(),
        tokens: text.split_whitespace().count(),
        spans,
        documents: coverage
            .iter()
            .map(|(id, c)| DocumentMatch {
                doc_id: id.to_string(),
                path: None,
                license: "NOASSERTION".into(),
                coverage: *c,
                matched_tokens: 0,
                similarity: 1.0,
                longest_exact_run: 0,
            })
            .collect(),
        coverage: 0.0,
        exempt_tokens: 0,
        options: OptionsUsed {
            min_tokens: 12,
            seed_tokens: 6,
            max_gap: 8,
            boilerplate_count: 200,
            code_min_tokens: 25,
        },
        warnings: Vec::new(),
    }
}

/// `n` words of filler text.
pub fn words(n: usize) -> String {
    (0..n).map(|i| format!("w{i}")).collect::<Vec<_>>().join(" ")
}
