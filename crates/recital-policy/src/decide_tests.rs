//! Rule semantics: order, thresholds, conditions, jurisdictions, severity, reasons.

use recital_detect::report::Source;
use recital_detect::SpanKind;
use recital_index::Stream;

use crate::testutil::{exact, policy, policy_with, report, source, span, words};
use crate::{Action, LicenseClass, Policy, Request};

/// A text of 200 words; span `i` covers words `from..to`.
fn text() -> String {
    words(200)
}

/// Byte range of words `from..to` of [`text`].
fn range(from: usize, to: usize) -> std::ops::Range<usize> {
    let t = text();
    let starts: Vec<usize> = std::iter::once(0).chain(t.match_indices(' ').map(|(i, _)| i + 1)).collect();
    let end = if to < starts.len() { starts[to] - 1 } else { t.len() };
    starts[from]..end
}

fn decide_one(
    p: &crate::Policy,
    src: Source,
    tokens: usize,
    jurisdiction: Option<&str>,
) -> crate::SpanDecision {
    let t = text();
    let r = report(&t, vec![exact(&t, range(0, tokens), tokens, src)], &[]);
    let d = p.decide(&r, &Request { jurisdiction, notified: &crate::nothing_notified });
    d.spans.into_iter().next().unwrap_or_else(|| panic!("one span"))
}

#[test]
fn licence_classes_pick_the_rule() {
    let p = policy();
    let cases = [
        ("GPL-2.0-only", Action::Redact, Some("copyleft-or-unknown"), LicenseClass::Copyleft),
        ("MIT", Action::Annotate, Some("attribution"), LicenseClass::Permissive),
        ("MIT OR GPL-3.0-only", Action::Annotate, Some("attribution"), LicenseClass::Permissive),
        ("MIT AND GPL-3.0-only", Action::Redact, Some("copyleft-or-unknown"), LicenseClass::Copyleft),
        ("CC0-1.0", Action::Allow, Some("public-domain"), LicenseClass::PublicDomain),
        ("NOASSERTION", Action::Redact, Some("copyleft-or-unknown"), LicenseClass::Noassertion),
        ("Artistic-2.0", Action::Redact, Some("copyleft-or-unknown"), LicenseClass::Unknown),
        ("MIT OR (", Action::Redact, Some("copyleft-or-unknown"), LicenseClass::Unknown),
    ];
    for (lic, action, rule, class) in cases {
        let d = decide_one(&p, source("a", lic), 60, None);
        assert_eq!((d.action, d.rule.as_deref(), d.license_class), (action, rule, class), "{lic}");
        assert_eq!(d.license, lic);
    }
}

#[test]
fn the_first_matching_rule_decides_even_if_a_later_one_is_stricter() {
    let p = policy_with(
        r#"
[[rules]]
name = "mit-is-fine"
licenses = ["MIT"]
action = "allow"
[[rules]]
name = "block-everything"
action = "block"
"#,
    );
    let d = decide_one(&p, source("a", "MIT"), 60, None);
    assert_eq!((d.action, d.rule.as_deref()), (Action::Allow, Some("mit-is-fine")));
    let d = decide_one(&p, source("a", "Apache-2.0"), 60, None);
    assert_eq!((d.action, d.rule.as_deref()), (Action::Block, Some("block-everything")));
}

#[test]
fn thresholds_per_category() {
    let p = policy();
    // prose: 50 tokens.
    let d = decide_one(&p, source("a", "GPL-2.0-only"), 49, None);
    assert_eq!((d.action, d.rule.as_deref(), d.category.as_str()), (Action::Allow, None, "prose"));
    assert!(d.reason.contains("under the threshold of category prose (49 < 50 tokens)"), "{}", d.reason);
    assert_eq!(decide_one(&p, source("a", "GPL-2.0-only"), 50, None).action, Action::Redact);
    // lyrics: 11.
    let lyrics = Source { category: Some("Lyrics".into()), ..source("song", "LicenseRef-Label") };
    assert_eq!(decide_one(&p, lyrics.clone(), 10, None).action, Action::Allow);
    let d = decide_one(&p, lyrics, 11, None);
    assert_eq!((d.action, d.category.as_str()), (Action::Redact, "lyrics"));
    // A category the policy does not have falls back to the default category.
    let poem = Source { category: Some("poetry".into()), ..source("p", "GPL-2.0-only") };
    let d = decide_one(&p, poem, 30, None);
    assert_eq!((d.action, d.category.as_str()), (Action::Allow, "prose"));
}

#[test]
fn min_chars_is_a_threshold_too() {
    let p = policy();
    let news = Source { category: Some("news".into()), ..source("n", "LicenseRef-Paper") };
    let t = text();
    // 45 tokens (≥ 40) but fewer than 200 characters.
    let r = report(&t, vec![exact(&t, range(0, 45), 45, news.clone())], &[]);
    assert!(t[range(0, 45)].chars().count() < 200);
    let d = p.decide(&r, &Request::default());
    assert_eq!(d.spans[0].action, Action::Allow);
    assert!(d.spans[0].reason.contains("under the threshold of category news ("), "{}", d.spans[0].reason);
    assert!(d.spans[0].reason.contains(" < 200 characters)"), "{}", d.spans[0].reason);
    let r = report(&t, vec![exact(&t, range(0, 70), 70, news)], &[]);
    assert!(t[range(0, 70)].chars().count() >= 200);
    assert_eq!(p.decide(&r, &Request::default()).spans[0].action, Action::Redact);
}

#[test]
fn canonical_code_matches_are_code() {
    let p = policy();
    let t = text();
    let mut s = span(&t, range(0, 60), 60, SpanKind::CodeCanonical, vec![source("lib.c", "GPL-2.0-only")]);
    s.stream = Stream::Canon;
    let d = p.decide(&report(&t, vec![s.clone()], &[]), &Request::default());
    assert_eq!((d.spans[0].category.as_str(), d.spans[0].action), ("code", Action::Allow), "60 < 65 lexemes");
    assert!(d.spans[0].reason.contains("(60 < 65 code lexemes)"), "{}", d.spans[0].reason);
    s.tokens = 65;
    let d = p.decide(&report(&t, vec![s], &[]), &Request::default());
    assert_eq!(d.spans[0].action, Action::Redact);
}

#[test]
fn a_rule_may_set_its_own_threshold_below_the_category() {
    let p = policy_with(
        r#"
[[rules]]
name = "notified-short"
notified = true
min_tokens = 20
action = "block"
"#,
    );
    let t = text();
    let r = report(&t, vec![exact(&t, range(0, 25), 25, source("a", "MIT"))], &[]);
    let yes = |_: &Source| true;
    let d = p.decide(&r, &Request { jurisdiction: None, notified: &yes });
    assert_eq!((d.action, d.spans[0].rule.as_deref()), (Action::Block, Some("notified-short")));
    assert_eq!(p.decide(&r, &Request::default()).action, Action::Allow);
    assert_eq!(p.trigger_tokens(), 20);
}

#[test]
fn notified_sources_block_and_the_closure_sees_each_source() {
    let p = policy();
    let t = text();
    let r = report(
        &t,
        vec![span(&t, range(0, 60), 60, SpanKind::Exact, vec![source("a", "MIT"), source("b", "MIT")])],
        &[],
    );
    let only_b = |s: &Source| s.doc_id == "b";
    let d = p.decide(&r, &Request { jurisdiction: None, notified: &only_b });
    assert_eq!(d.action, Action::Block);
    let s = &d.spans[0];
    assert_eq!(s.rule.as_deref(), Some("notified-works"));
    assert_eq!(
        s.sources.iter().map(|c| c.doc_id.as_str()).collect::<Vec<_>>(),
        vec!["b"],
        "only the blocking source is cited"
    );
    assert!(
        s.reason
            .contains("source \"b.txt\" is licensed MIT (permissive) and it is under a rightsholder notice"),
        "{}",
        s.reason
    );
}

#[test]
fn the_span_takes_its_most_severe_source_and_cites_all_that_give_it() {
    let p = policy();
    let t = text();
    let srcs = vec![
        source("mit", "MIT"),
        source("gpl", "GPL-3.0-only"),
        source("agpl", "GPL-3.0-or-later"),
        source("pd", "CC0-1.0"),
    ];
    let r = report(&t, vec![span(&t, range(0, 60), 60, SpanKind::Exact, srcs)], &[]);
    let d = p.decide(&r, &Request::default());
    let s = &d.spans[0];
    assert_eq!(
        (s.action, s.license.as_str(), s.license_class),
        (Action::Redact, "GPL-3.0-only", LicenseClass::Copyleft)
    );
    assert_eq!(s.sources.iter().map(|c| c.doc_id.as_str()).collect::<Vec<_>>(), vec!["gpl", "agpl"]);
    assert!(s.reason.contains("1 other source leads to the same action: \"agpl.txt\""), "{}", s.reason);
    let strictest = "the strictest outcome across the copy's 4 sources was taken (redact), \
                     decided by source \"gpl.txt\" licensed GPL-3.0-only";
    assert!(s.reason.ends_with(&format!("; {strictest}.")), "{}", s.reason);
    assert!(d.statement.contains(&format!("For bytes 0–{}, {strictest}.", s.byte_end)), "{}", d.statement);
}

#[test]
fn boilerplate_is_always_allowed() {
    let p = policy();
    let t = text();
    let mut s = span(&t, range(0, 80), 80, SpanKind::Boilerplate, vec![source("a", "GPL-2.0-only")]);
    s.count = 5000;
    let yes = |_: &Source| true;
    let d = p.decide(&report(&t, vec![s], &[]), &Request { jurisdiction: None, notified: &yes });
    assert_eq!((d.action, d.spans[0].rule.as_deref()), (Action::Allow, None));
    assert!(d.spans[0].reason.contains("boilerplate"), "{}", d.spans[0].reason);
    assert!(d.spans[0].reason.contains("5000 occurrences"), "{}", d.spans[0].reason);
    assert!(d.statement.contains("1 as boilerplate"), "{}", d.statement);
}

#[test]
fn min_coverage_uses_the_documents_share_of_the_output() {
    let p = policy_with(
        r#"
[[rules]]
name = "mostly-a-copy"
min_coverage = 0.5
action = "block"
"#,
    );
    let t = text();
    let spans = vec![exact(&t, range(0, 60), 60, source("a", "MIT"))];
    let d = p.decide(&report(&t, spans.clone(), &[("a", 0.83)]), &Request::default());
    assert_eq!((d.action, d.spans[0].rule.as_deref()), (Action::Block, Some("mostly-a-copy")));
    assert!(
        d.spans[0].reason.contains("it makes up 83% of the output (the rule requires 50%)"),
        "{}",
        d.spans[0].reason
    );
    let d = p.decide(&report(&t, spans.clone(), &[("a", 0.49)]), &Request::default());
    assert_eq!(d.action, Action::Allow);
    let d = p.decide(&report(&t, spans, &[("other", 0.9)]), &Request::default());
    assert_eq!(d.action, Action::Allow, "another document's coverage does not count");
}

#[test]
fn kinds_and_licence_patterns_are_conditions() {
    let p = policy_with(
        r#"
[[rules]]
name = "near-gpl"
kinds = ["near"]
licenses = ["GPL-*"]
action = "block"
"#,
    );
    let t = text();
    let near = span(&t, range(0, 60), 60, SpanKind::Near, vec![source("a", "MIT OR GPL-2.0-only")]);
    assert_eq!(p.decide(&report(&t, vec![near], &[]), &Request::default()).action, Action::Block);
    let exact_gpl = exact(&t, range(0, 60), 60, source("a", "GPL-2.0-only"));
    assert_eq!(p.decide(&report(&t, vec![exact_gpl], &[]), &Request::default()).action, Action::Allow);
    let near_mit = span(&t, range(0, 60), 60, SpanKind::Near, vec![source("a", "MIT")]);
    assert_eq!(p.decide(&report(&t, vec![near_mit], &[]), &Request::default()).action, Action::Allow);
}

#[test]
fn jurisdictions_of_the_request() {
    let p = policy();
    let opted = Source { tdm_opt_out: true, ..source("a", "MIT") };
    // The EU rule bites for DE, FR, the EU itself, and the default (DE).
    for j in [Some("DE"), Some("fr"), Some(" eu "), None, Some("")] {
        let d = decide_one(&p, opted.clone(), 60, j);
        assert_eq!((d.action, d.rule.as_deref()), (Action::Redact, Some("eu-opt-out")), "{j:?}");
    }
    // Not for NO (EEA but not EU), the EEA as a whole, the US, or an unknown code.
    for j in ["NO", "EEA", "US", "UK"] {
        let d = decide_one(&p, opted.clone(), 60, Some(j));
        assert_eq!((d.action, d.rule.as_deref()), (Action::Annotate, Some("attribution")), "{j}");
    }
    let t = text();
    let r = report(&t, vec![exact(&t, range(0, 60), 60, opted)], &[]);
    let d = p.decide(&r, &Request::from_jurisdiction("uk"));
    assert_eq!(d.jurisdiction, "UK");
    assert!(
        d.statement.contains("request jurisdiction UK (not a jurisdiction this policy defines"),
        "{}",
        d.statement
    );
    let d = p.decide(&r, &Request::default());
    assert_eq!(d.jurisdiction, "DE");
    assert!(d.spans[0].reason.contains("the request jurisdiction DE is in EU"), "{}", d.spans[0].reason);
}

#[test]
fn reasons_cite_the_signal_that_set_the_flag() {
    let p = policy();
    let said =
        |signal: &str, field: &str, value: &str, source: &str, applied: bool| recital_index::Provenance {
            signal: signal.into(),
            field: field.into(),
            value: value.into(),
            source: source.into(),
            observed: Some("2026-03-01T09:30:00Z".into()),
            detail: None,
            applied,
        };
    let opted = Source {
        tdm_opt_out: true,
        provenance: vec![
            said("tdmrep.json", "tdm_opt_out", "true", "https://example.org/.well-known/tdmrep.json", true),
            said("robots.txt", "tdm_opt_out", "false", "https://example.org/robots.txt", false),
            said("REUSE.toml", "license", "MIT", "REUSE.toml", true),
        ],
        ..source("a", "MIT")
    };
    let d = decide_one(&p, opted, 60, Some("DE"));
    assert_eq!(d.action, Action::Redact);
    assert!(
        d.reason
            .contains("opt-out (CDSM Art. 4(3)): TDM reservation via tdmrep.json of example.org, 2026-03-01"),
        "{}",
        d.reason
    );
    assert!(d.reason.contains("licensed MIT (permissive) per REUSE.toml"), "{}", d.reason);
    // The losing robots.txt signal is not cited; a flag typed by hand cites nothing.
    assert!(!d.reason.contains("robots.txt"), "{}", d.reason);
    let typed = decide_one(&p, Source { tdm_opt_out: true, ..source("a", "MIT") }, 60, Some("DE"));
    assert!(typed.reason.contains("(CDSM Art. 4(3))") && !typed.reason.contains(" via "), "{}", typed.reason);
}

#[test]
fn a_sources_own_jurisdictions_limit_every_rule() {
    let p = policy();
    let us_only = Source { jurisdictions: vec!["US".into()], ..source("a", "GPL-2.0-only") };
    let d = decide_one(&p, us_only.clone(), 60, Some("DE"));
    assert_eq!((d.action, d.rule.as_deref()), (Action::Allow, None));
    assert!(
        d.reason
            .contains("the rights of source \"a.txt\" apply in US only, not in the request jurisdiction DE"),
        "{}",
        d.reason
    );
    assert_eq!(decide_one(&p, us_only, 60, Some("us")).action, Action::Redact);
    // Groups of the policy work in a source's list too; so do lower case and "*".
    let eu = Source { jurisdictions: vec!["eu".into()], ..source("a", "GPL-2.0-only") };
    assert_eq!(decide_one(&p, eu.clone(), 60, Some("AT")).action, Action::Redact);
    assert_eq!(decide_one(&p, eu, 60, Some("NO")).action, Action::Allow);
    let anywhere = Source { jurisdictions: vec![], ..source("a", "GPL-2.0-only") };
    assert_eq!(decide_one(&p, anywhere, 60, Some("JP")).action, Action::Redact);
}

#[test]
fn default_action_applies_only_over_the_threshold() {
    let mut p = policy_with("");
    p.default_action = Action::Annotate;
    let d = decide_one(&p, source("a", "GPL-2.0-only"), 60, None);
    assert_eq!((d.action, d.rule.as_deref()), (Action::Annotate, None));
    assert!(d.reason.contains("by the policy's default action, as no rule matched"), "{}", d.reason);
    assert_eq!(decide_one(&p, source("a", "GPL-2.0-only"), 40, None).action, Action::Allow);
}

#[test]
fn response_action_is_the_most_severe_and_spans_keep_report_order() {
    let p = policy();
    let t = text();
    let spans = vec![
        exact(&t, range(0, 55), 55, source("pd", "CC0-1.0")),
        exact(&t, range(60, 115), 55, source("lib", "GPL-2.0-only")),
        exact(&t, range(120, 175), 55, source("mit", "MIT")),
        exact(&t, range(180, 190), 10, source("short", "GPL-2.0-only")),
    ];
    let d = p.decide(&report(&t, spans, &[]), &Request::default());
    assert_eq!(d.action, Action::Redact);
    let actions: Vec<Action> = d.spans.iter().map(|s| s.action).collect();
    assert_eq!(actions, vec![Action::Allow, Action::Redact, Action::Annotate, Action::Allow]);
    assert_eq!(d.spans.iter().map(|s| s.span).collect::<Vec<_>>(), vec![0, 1, 2, 3]);
    assert_eq!(d.spans[1].byte_start, range(60, 115).start);
    assert_eq!(d.policy, "test v3");
    let empty = p.decide(&report(&t, vec![], &[]), &Request::default());
    assert_eq!(empty.action, Action::Allow);
    assert!(empty.statement.ends_with("No copied span was found."), "{}", empty.statement);
}

#[test]
fn statement_names_rule_facts_and_sources() {
    let p = policy_with(
        r#"
[[rules]]
name = "copyleft-or-unknown"
jurisdictions = ["EU"]
license_class = ["copyleft"]
action = "redact"
"#,
    );
    let t = format!("{}{}", "x".repeat(120), words(100));
    let src = Source { path: Some("linux/lib/zlib_inflate/inflate.c".into()), ..source("k", "GPL-2.0-only") };
    let s = exact(&t, 120..480, 64, src);
    let d = p.decide(&report(&t, vec![s], &[]), &Request::from_jurisdiction("DE"));
    assert_eq!(
        d.statement,
        "Redacted parts of the response under policy \"test\" version 3, request jurisdiction DE. \
         Redacted 1 span (bytes 120–480, 64 tokens, exact copy) under rule \"copyleft-or-unknown\": \
         source \"linux/lib/zlib_inflate/inflate.c\" is licensed GPL-2.0-only (copyleft) and the request \
         jurisdiction DE is in EU."
    );
    assert_eq!(
        d.spans[0].reason,
        "Redacted bytes 120–480 (64 tokens, exact copy, category prose) under rule \"copyleft-or-unknown\": \
         source \"linux/lib/zlib_inflate/inflate.c\" is licensed GPL-2.0-only (copyleft) and the request \
         jurisdiction DE is in EU."
    );
}

#[test]
fn statement_groups_spans_by_rule_and_counts_allowed_ones() {
    let p = policy();
    let t = text();
    let yes = |s: &Source| s.doc_id == "n";
    let spans = vec![
        exact(&t, range(0, 55), 55, source("n", "MIT")),
        exact(&t, range(60, 115), 55, source("g1", "GPL-2.0-only")),
        exact(&t, range(120, 175), 55, source("g2", "GPL-3.0-only")),
        exact(&t, range(180, 190), 10, source("s", "MIT")),
        exact(&t, range(190, 199), 9, source("s2", "MIT")),
    ];
    let d = p.decide(&report(&t, spans, &[]), &Request { jurisdiction: Some("US"), notified: &yes });
    assert_eq!(d.action, Action::Block);
    let st = &d.statement;
    assert!(
        st.starts_with("Blocked the response under policy \"test\" version 3, request jurisdiction US."),
        "{st}"
    );
    let block = st.find("Blocked the response over 1 span").unwrap_or_else(|| panic!("{st}"));
    let redact = st.find("Redacted 2 spans (").unwrap_or_else(|| panic!("{st}"));
    assert!(block < redact, "most severe first: {st}");
    assert!(
        st.contains("sources \"g1.txt\" (GPL-2.0-only, copyleft) and \"g2.txt\" (GPL-3.0-only, copyleft)"),
        "{st}"
    );
    assert!(st.contains("under rule \"notified-works\": source \"n.txt\" is licensed MIT (permissive) and it is under a rightsholder notice."), "{st}");
    assert!(st.ends_with("Allowed the other 2 spans: 2 under the threshold of their categories."), "{st}");
}

#[test]
fn scan_options_report_every_span_the_policy_can_act_on() {
    // The built-in policy acts on recipes from 10 tokens: below the detector's 12.
    let builtin = Policy::builtin_default().scan_options();
    assert_eq!((builtin.min_tokens, builtin.seed_tokens), (10, 6));
    // Lyrics from 11 tokens.
    assert_eq!(policy().scan_options().min_tokens, 11);
    // Thresholds above the detector's keep its default; so does a policy that only allows.
    let long = policy_with("[[rules]]\nname = \"a\"\ncategories = [\"prose\"]\naction = \"redact\"\n");
    assert_eq!(long.scan_options().min_tokens, 12);
    let allow = policy_with("[[rules]]\nname = \"a\"\naction = \"allow\"\n");
    assert_eq!(allow.scan_options().min_tokens, 12);
    let tiny = policy_with("[[rules]]\nname = \"a\"\nmin_tokens = 3\naction = \"block\"\n");
    assert_eq!((tiny.scan_options().min_tokens, tiny.scan_options().seed_tokens), (3, 3));
}

#[test]
fn trigger_tokens_is_the_lowest_threshold_that_can_act() {
    // Standard policy: any category can lead to an action; lyrics are shortest.
    assert_eq!(policy().trigger_tokens(), 11);
    // Only allow rules and an allow default: nothing to hold back.
    assert_eq!(policy_with("[[rules]]\nname = \"a\"\naction = \"allow\"\n").trigger_tokens(), 1);
    // A rule limited to categories uses their lowest threshold.
    let p = policy_with("[[rules]]\nname = \"a\"\ncategories = [\"prose\", \"news\"]\naction = \"redact\"\n");
    assert_eq!(p.trigger_tokens(), 40);
    // A default action other than allow counts every category.
    let mut p = p;
    p.default_action = Action::Annotate;
    assert_eq!(p.trigger_tokens(), 11);
}

#[test]
fn jurisdiction_in_follows_the_policys_groups() {
    let p = policy();
    let list = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert!(p.jurisdiction_in("de", &list(&["EEA"])));
    assert!(p.jurisdiction_in("NO", &list(&["US", "eea"])));
    assert!(!p.jurisdiction_in("NO", &list(&["EU"])));
    assert!(p.jurisdiction_in("JP", &list(&[])), "an empty list is everywhere");
    assert!(p.jurisdiction_in("JP", &list(&["*"])));
    assert!(!p.jurisdiction_in("JP", &list(&["US"])));
}

/// The presets do what their headers say (for one source of each kind).
#[test]
fn presets_behave_as_documented() {
    let load = |name: &str| {
        let path = format!("{}/../../policies/{name}.toml", env!("CARGO_MANIFEST_DIR"));
        crate::Policy::load(std::path::Path::new(&path)).unwrap_or_else(|e| panic!("{e}"))
    };
    let yes = |_: &Source| true;
    let act = |p: &crate::Policy, lic: &str, tdm: bool, j: &str, notified: bool| {
        let t = text();
        let src = Source { tdm_opt_out: tdm, ..source("a", lic) };
        let r = report(&t, vec![exact(&t, range(0, 60), 60, src)], &[]);
        let n: &dyn Fn(&Source) -> bool = if notified { &yes } else { &crate::nothing_notified };
        p.decide(&r, &Request { jurisdiction: Some(j), notified: n }).action
    };
    use Action::*;
    let everywhere = load("everywhere");
    for j in ["DE", "US"] {
        assert_eq!(act(&everywhere, "CC0-1.0", false, j, false), Allow);
        assert_eq!(act(&everywhere, "MIT", false, j, false), Annotate);
        assert_eq!(act(&everywhere, "Apache-2.0 OR GPL-2.0-only", false, j, false), Annotate);
        assert_eq!(act(&everywhere, "GPL-2.0-only", false, j, false), Redact);
        assert_eq!(act(&everywhere, "CC-BY-NC-4.0", false, j, false), Redact);
        assert_eq!(act(&everywhere, "NOASSERTION", false, j, false), Redact);
        assert_eq!(act(&everywhere, "MIT", false, j, true), Block);
    }
    let eu = load("eu-only");
    assert_eq!(act(&eu, "MIT", true, "DE", false), Redact, "TDM opt-out in the EEA");
    assert_eq!(act(&eu, "MIT", true, "NO", false), Redact, "Norway is in the EEA");
    assert_eq!(act(&eu, "MIT", true, "US", false), Annotate);
    assert_eq!(act(&eu, "GPL-2.0-only", false, "FR", false), Redact);
    assert_eq!(act(&eu, "GPL-2.0-only", false, "US", false), Annotate);
    assert_eq!(act(&eu, "MIT", false, "DE", true), Block);
    assert_eq!(act(&eu, "MIT", false, "US", true), Annotate);
    assert_eq!(act(&eu, "CC0-1.0", true, "DE", false), Allow);
    let cite = load("permissive-with-attribution");
    assert_eq!(act(&cite, "CC0-1.0", false, "DE", false), Annotate);
    assert_eq!(act(&cite, "GPL-3.0-only", false, "DE", false), Annotate);
    assert_eq!(act(&cite, "NOASSERTION", false, "US", false), Annotate);
    assert_eq!(act(&cite, "LicenseRef-Acme", false, "US", false), Redact);
    assert_eq!(act(&cite, "MIT", false, "US", true), Block);
}
