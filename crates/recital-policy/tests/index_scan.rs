//! End to end: a real index built from files with a rights sidecar, a real
//! scan, and the `eu-only` preset deciding differently for a request from
//! Germany (redact the work whose rightsholder reserved text and data mining,
//! cite the MIT one) and one from the United States (cite both).

use std::path::Path;

use recital_detect::report::Source;
use recital_detect::{scan, Input, ScanOptions, ScanReport};
use recital_index::{BuildOptions, Index, IngestOptions, RightsRules};
use recital_policy::{apply, Action, Policy, Request};

/// `n` words drawn from a fixed vocabulary by a seeded generator: distinct
/// seeds give texts that share no long run of words.
fn prose(seed: u64, n: usize) -> String {
    const VOCAB: &[&str] = &[
        "amber", "beacon", "cobalt", "delta", "ember", "falcon", "garnet", "harbor", "indigo", "juniper",
        "kestrel", "lantern", "meadow", "nectar", "orchid", "pebble", "quartz", "raven", "saffron",
        "thistle", "umber", "velvet", "willow", "yarrow", "zephyr", "anchor", "bramble", "cinder", "dune",
        "eclipse", "fern", "glacier", "heron", "ivory", "jasper", "kelp", "lichen", "marble", "nimbus",
        "opal",
    ];
    let mut x = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            VOCAB[((x >> 33) % VOCAB.len() as u64) as usize]
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn words(s: &str, from: usize, to: usize) -> String {
    s.split(' ').skip(from).take(to - from).collect::<Vec<_>>().join(" ")
}

struct Fixture {
    _dir: tempfile::TempDir,
    index: Index,
    novel: String,
    library: String,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let corpus = dir.path().join("corpus");
    std::fs::create_dir(&corpus).unwrap_or_else(|e| panic!("{e}"));
    let novel = prose(1, 300);
    let library = prose(2, 300);
    std::fs::write(corpus.join("novel.txt"), &novel).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(corpus.join("library.txt"), &library).unwrap_or_else(|e| panic!("{e}"));
    let sidecar = dir.path().join("rights.jsonl");
    std::fs::write(
        &sidecar,
        concat!(
            r#"{"path": "novel.txt", "license": "LicenseRef-AllRightsReserved", "holder": "Acme Books", "url": "https://acme.example/novel", "tdm_opt_out": true, "category": "prose"}"#,
            "\n",
            r#"{"path": "library.txt", "license": "MIT", "url": "https://example.org/library"}"#,
            "\n",
        ),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let rights = RightsRules::load(&sidecar).unwrap_or_else(|e| panic!("{e}"));
    let ingest = IngestOptions { rights, ..IngestOptions::default() };
    let idx = dir.path().join("idx");
    recital_index::build(&idx, &[corpus], &ingest, &BuildOptions::default())
        .unwrap_or_else(|e| panic!("{e}"));
    let index = Index::open(&idx).unwrap_or_else(|e| panic!("{e}"));
    Fixture { _dir: dir, index, novel, library }
}

fn eu_only() -> Policy {
    Policy::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies/eu-only.toml"))
        .unwrap_or_else(|e| panic!("{e}"))
}

fn scan_text(f: &Fixture, text: &str) -> ScanReport {
    let input = Input::decode(text.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
    scan(&f.index, &input, &ScanOptions::default()).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn eu_only_redacts_for_germany_and_cites_for_the_united_states() {
    let f = fixture();
    let copied_novel = words(&f.novel, 100, 170);
    let copied_library = words(&f.library, 20, 80);
    let text = format!(
        "Here is what you asked for. {copied_novel}. And something else, written fresh. {copied_library}. Fin."
    );
    let report = scan_text(&f, &text);
    let doc_of = |s: &recital_detect::Span| s.sources.first().map(|s| s.doc_id.clone()).unwrap_or_default();
    let novel_span = report.spans.iter().position(|s| doc_of(s).contains("novel")).unwrap_or_else(|| {
        panic!("the novel excerpt is found: {}", serde_json::to_string_pretty(&report).unwrap_or_default())
    });
    let lib_span =
        report.spans.iter().position(|s| doc_of(s).contains("library")).unwrap_or_else(|| panic!("library"));
    let src = &report.spans[novel_span].sources[0];
    assert!(
        src.tdm_opt_out && src.license == "LicenseRef-AllRightsReserved",
        "rights reach the report: {src:?}"
    );

    let policy = eu_only();
    // Germany: the EEA rules bite.
    let de = policy.decide(&report, &Request::from_jurisdiction("DE"));
    assert_eq!(de.jurisdiction, "DE");
    assert_eq!(de.action, Action::Redact);
    let (n, l) = (&de.spans[novel_span], &de.spans[lib_span]);
    assert_eq!((n.action, n.rule.as_deref()), (Action::Redact, Some("eea-tdm-opt-out")));
    assert_eq!((l.action, l.rule.as_deref()), (Action::Annotate, Some("eea-attribution")));
    assert!(n.reason.contains("carries a text-and-data-mining opt-out (CDSM Art. 4(3))"), "{}", n.reason);
    assert!(de.statement.contains("under rule \"eea-tdm-opt-out\""), "{}", de.statement);
    assert!(de.statement.contains("the request jurisdiction DE is in EEA"), "{}", de.statement);

    let shown = apply(&text, &report, &de);
    eprintln!(
        "{}\n{}",
        serde_json::to_string_pretty(&de).unwrap_or_default(),
        serde_json::to_string_pretty(&shown).unwrap_or_default()
    );
    let out = shown.text.clone().unwrap_or_default();
    assert!(!out.contains(&copied_novel), "the reserved work is not shown");
    assert!(out.contains(&copied_library), "the MIT work is shown");
    let marker = n.marker.clone().unwrap_or_default();
    assert!(
        marker.starts_with("[redacted: copies ") && marker.contains("LicenseRef-AllRightsReserved"),
        "{marker}"
    );
    assert!(out.contains(&marker), "{out}");
    let cited = shown
        .annotations
        .iter()
        .find(|a| a.action == Action::Annotate)
        .unwrap_or_else(|| panic!("annotation"));
    assert!(
        copied_library.contains(&out[cited.start_offset..cited.end_offset]),
        "the annotation points at the copy"
    );
    assert_eq!(cited.citations[0].url.as_deref(), Some("https://example.org/library"));
    let red =
        shown.annotations.iter().find(|a| a.action == Action::Redact).unwrap_or_else(|| panic!("marker"));
    assert_eq!(&out[red.start_offset..red.end_offset], marker);
    assert_eq!(red.citations[0].holder.as_deref(), Some("Acme Books"));

    // The United States: nothing removed, both cited.
    let us = policy.decide(&report, &Request::from_jurisdiction("us"));
    assert_eq!(us.jurisdiction, "US");
    assert_eq!(us.action, Action::Annotate);
    for i in [novel_span, lib_span] {
        assert_eq!(
            (us.spans[i].action, us.spans[i].rule.as_deref()),
            (Action::Annotate, Some("elsewhere-cite"))
        );
    }
    let shown = apply(&text, &report, &us);
    assert_eq!(shown.text.as_deref(), Some(text.as_str()));
    assert!(shown.annotations.len() >= 2);

    // Norway is in the EEA group (which nests the EU): as Germany.
    let no = policy.decide(&report, &Request::from_jurisdiction("NO"));
    assert_eq!(no.spans[novel_span].action, Action::Redact);
    // No jurisdiction: the policy's default, the EU.
    assert_eq!(policy.decide(&report, &Request::default()).jurisdiction, "EU");
}

#[test]
fn a_notice_blocks_in_the_eea_only() {
    let f = fixture();
    let text = format!("Quote: {}.", words(&f.novel, 10, 90));
    let report = scan_text(&f, &text);
    assert!(!report.spans.is_empty());
    let policy = eu_only();
    let noticed = |s: &Source| s.doc_id.contains("novel");
    let de = policy.decide(&report, &Request { jurisdiction: Some("AT"), notified: &noticed });
    assert_eq!(de.action, Action::Block);
    assert!(
        de.statement.starts_with("Blocked the response under policy \"eu-only\" version 1"),
        "{}",
        de.statement
    );
    assert!(de.statement.contains("it is under a rightsholder notice"), "{}", de.statement);
    let shown = apply(&text, &report, &de);
    assert!(shown.blocked && shown.text.is_none());
    let us = policy.decide(&report, &Request { jurisdiction: Some("US"), notified: &noticed });
    assert_eq!(us.action, Action::Annotate);
}
