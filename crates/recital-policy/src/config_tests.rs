//! Validation: every error with its exact line, all errors at once, warnings.

use crate::{check, Action, LicenseClass, PolicyError};

/// A valid minimal policy of five lines; rules appended start on line 6.
const BASE: &str = r#"name = "t"
version = 1
default_jurisdiction = "DE"
[categories]
prose = { min_tokens = 50 }
"#;

fn errors(src: &str) -> Vec<(usize, String)> {
    match check(src, "t.toml") {
        Ok(_) => panic!("expected errors in:\n{src}"),
        Err(e) => e.iter().map(|e| (e.line(), e.to_string())).collect(),
    }
}

/// The single error of `src`: its line and message.
fn one(src: &str) -> (usize, String) {
    let e = errors(src);
    assert_eq!(e.len(), 1, "expected one error, got {e:#?}");
    e.into_iter().next().unwrap_or_default()
}

fn assert_one(src: &str, line: usize, needle: &str) {
    let (l, msg) = one(src);
    assert_eq!(l, line, "line of {msg:?}");
    assert!(msg.contains(needle), "{msg:?} should contain {needle:?}");
    assert!(msg.starts_with(&format!("t.toml:{line}: ")), "{msg:?} names the file and line");
}

#[test]
fn minimal_policy_takes_the_documented_defaults() {
    let (p, warnings) = check(BASE, "t.toml").unwrap();
    assert!(warnings.is_empty());
    assert_eq!(p.name(), "t");
    assert_eq!(p.label(), "t v1");
    assert_eq!(p.default_jurisdiction(), "DE");
    assert_eq!(p.default_category, "prose");
    assert_eq!(p.default_action, Action::Allow);
    assert_eq!(p.redaction_marker, "[redacted: copies {source} ({license})]");
    assert!(p.rules.is_empty());
    assert_eq!(
        p.classify_license("MIT"),
        LicenseClass::Unknown,
        "no [licenses] table: nothing is classified"
    );
    // Strings for versions; case-insensitive jurisdictions.
    let src = BASE.replace("version = 1", "version = \"2025-06\"").replace("\"DE\"", "\"de\"");
    let (p, _) = check(&src, "t.toml").unwrap();
    assert_eq!(p.label(), "t v2025-06");
    assert_eq!(p.default_jurisdiction(), "DE");
}

#[test]
fn syntax_errors_have_line_and_column() {
    let errs = check("name = \"x\"\nversion = 1\nfoo = [1,\n", "p.toml").unwrap_err();
    assert!(matches!(&errs[0], PolicyError::Parse { line: 3, col: 10, .. }), "{errs:?}");
    let errs = check("a = 1\na = 2\n", "p.toml").unwrap_err();
    assert!(matches!(&errs[0], PolicyError::Parse { line: 2, col: 1, msg, .. } if msg.contains("duplicate")));
    assert_eq!(errs[0].to_string(), "p.toml:2:1: duplicate key");
}

#[test]
fn unknown_keys_with_suggestions_and_misplaced_top_level_keys() {
    assert_one(
        &format!("licences = {{}}\n{BASE}"),
        1,
        "unknown key \"licences\" at the top level; did you mean \"licenses\"?",
    );
    assert_one(
        &format!("{BASE}[[rules]]\nname = \"r\"\nacton = \"block\"\naction = \"allow\"\n"),
        8,
        "did you mean \"action\"?",
    );
    // The classic TOML mistake: a top-level key written after a table header.
    assert_one(
        &format!("{BASE}[[rules]]\nname = \"r\"\naction = \"allow\"\ndefault_action = \"annotate\"\n"),
        9,
        "it belongs at the top of the file",
    );
    assert_one(
        &format!("{BASE}news = {{ min_tokens = 40, min_char = 200 }}\n"),
        6,
        "did you mean \"min_chars\"?",
    );
    assert_one(&format!("{BASE}[[rule]]\nname = \"r\"\n"), 6, "rules are written as [[rules]] tables");
}

#[test]
fn required_keys_are_reported_at_their_table() {
    assert_one(
        "version = 1\ndefault_jurisdiction = \"DE\"\n[categories]\nprose = { min_tokens = 5 }\n",
        1,
        "has no \"name\"",
    );
    assert_one(
        "name = \"x\"\ndefault_jurisdiction = \"DE\"\n[categories]\nprose = { min_tokens = 5 }\n",
        1,
        "version",
    );
    assert_one(&format!("{BASE}\n[[rules]]\nname = \"r\"\n"), 7, "rule \"r\" has no action");
    assert_one(&format!("{BASE}[[rules]]\naction = \"block\"\n"), 6, "rule 1 (line 6) has no \"name\"");
    assert_one(
        &format!("{BASE}[[rules]]\nname = \"  \"\naction = \"block\"\n"),
        7,
        "\"name\" of rule 1 (line 6) is empty",
    );
    assert_one(&format!("{BASE}other = {{ description = \"x\" }}\n"), 6, "category other has no min_tokens");
}

#[test]
fn unknown_action_class_category_and_kind() {
    assert_one(
        &format!("{BASE}[[rules]]\nname = \"r\"\naction = \"deny\"\n"),
        8,
        "rule \"r\": unknown action \"deny\": expected allow, annotate, redact or block",
    );
    assert_one(
        &format!("{BASE}[[rules]]\nname = \"r\"\nlicense_class = [\n  \"copyleft\",\n  \"copyleftt\",\n]\naction = \"block\"\n"),
        10,
        "unknown licence class \"copyleftt\": expected one of public-domain, permissive, copyleft, proprietary, noassertion, unknown; did you mean \"copyleft\"?",
    );
    assert_one(
        &format!("{BASE}[[rules]]\nname = \"r\"\ncategories = [\"prose\", \"poetry\"]\naction = \"block\"\n"),
        8,
        "unknown category \"poetry\" (categories: prose)",
    );
    assert_one(
        &format!("{BASE}[[rules]]\nname = \"r\"\nkinds = [\"boilerplate\"]\naction = \"block\"\n"),
        8,
        "always allowed",
    );
    assert_one(
        &format!("{BASE}[[rules]]\nname = \"r\"\nkinds = [\"fuzzy\"]\naction = \"block\"\n"),
        8,
        "unknown kind \"fuzzy\"",
    );
    assert_one(&format!("default_action = \"nuke\"\n{BASE}"), 1, "default_action: unknown action \"nuke\"");
    assert_one(
        &format!("default_category = \"lyrics\"\n{BASE}"),
        1,
        "default_category \"lyrics\" is not a category",
    );
}

#[test]
fn licence_table_errors() {
    assert_one(
        &format!("{BASE}[licenses]\ncopyleft = [\"GPL-*\"]\nnoassertion = [\"X\"]\n"),
        8,
        "cannot list noassertion",
    );
    assert_one(&format!("{BASE}[licenses]\npermisive = [\"MIT\"]\n"), 7, "did you mean \"permissive\"?");
    assert_one(&format!("{BASE}[licenses]\npermissive = [\n\"MIT\",\n\"GPL 2.0\"]\n"), 9, "contains ' '");
}

#[test]
fn duplicate_rule_names_point_at_both() {
    assert_one(
        &format!("{BASE}[[rules]]\nname = \"r\"\naction = \"allow\"\n[[rules]]\nname = \"r\"\naction = \"block\"\n"),
        10,
        "duplicate rule name \"r\" (first at line 7)",
    );
}

#[test]
fn jurisdiction_errors_point_at_the_member() {
    let groups = "[jurisdiction_groups]\nEU = [\n  \"DE\",\n  \"UK\",\n]\n";
    assert_one(&format!("{BASE}{groups}"), 9, "unknown jurisdiction \"UK\" in group EU: not an ISO 3166-1 alpha-2 code or a group (the ISO code of the United Kingdom is GB)");
    let cycle = "[jurisdiction_groups]\nA = [\"DE\", \"B\"]\nB = [\"FR\",\n  \"A\"]\n";
    assert_one(&format!("{BASE}{cycle}"), 9, "jurisdiction groups form a cycle: A → B → A");
    assert_one(&format!("{BASE}[jurisdiction_groups]\nEU = []\n"), 7, "jurisdiction group EU has no members");
    assert_one(&format!("{BASE}[jurisdiction_groups]\nFR = [\"DE\"]\n"), 7, "is a country code");
    assert_one(
        &format!("{BASE}[[rules]]\nname = \"r\"\njurisdictions = [\"DE\", \"EU\"]\naction = \"block\"\n"),
        8,
        "unknown jurisdiction \"EU\"",
    );
    assert_one(
        &BASE.replace("\"DE\"", "\"Germany\""),
        3,
        "default_jurisdiction: unknown jurisdiction \"Germany\"",
    );
}

#[test]
fn numbers_out_of_range() {
    assert_one(
        &BASE.replace("min_tokens = 50", "min_tokens = 0"),
        5,
        "category prose: min_tokens must be at least 1, not 0",
    );
    assert_one(
        &BASE.replace("min_tokens = 50", "min_tokens = \"50\""),
        5,
        "must be a whole number, not string",
    );
    assert_one(
        &format!("{BASE}[[rules]]\nname = \"r\"\nmin_tokens = -3\naction = \"block\"\n"),
        8,
        "at least 1, not -3",
    );
    assert_one(
        &format!("{BASE}[[rules]]\nname = \"r\"\nmin_coverage = 1.5\naction = \"block\"\n"),
        8,
        "between 0 and 1",
    );
    assert_one(
        &format!("{BASE}[[rules]]\nname = \"r\"\nmin_coverage = -0.1\naction = \"block\"\n"),
        8,
        "not -0.1",
    );
    assert_one(
        &format!("{BASE}[[rules]]\nname = \"r\"\nmin_coverage = nan\naction = \"block\"\n"),
        8,
        "between 0 and 1",
    );
    let (p, _) =
        check(&format!("{BASE}[[rules]]\nname = \"r\"\nmin_coverage = 1\naction = \"block\"\n"), "t")
            .unwrap();
    assert_eq!(p.rules[0].min_coverage, Some(1.0), "an integer 0 or 1 is a fraction too");
}

#[test]
fn wrong_types_and_empty_lists() {
    assert_one(
        &format!("{BASE}[[rules]]\nname = \"r\"\nnotified = \"yes\"\naction = \"block\"\n"),
        8,
        "must be true or false, not string",
    );
    assert_one(
        &format!("{BASE}[[rules]]\nname = \"r\"\nlicenses = []\naction = \"block\"\n"),
        8,
        "an empty licenses list matches nothing",
    );
    assert_one(
        &format!("{BASE}[[rules]]\nname = \"r\"\nlicenses = [\"MIT\", 3]\naction = \"block\"\n"),
        8,
        "expected a string, not integer",
    );
    assert_one(&format!("rules = 3\n{BASE}"), 1, "must be a list of [[rules]] tables");
    assert_one(&format!("redaction_marker = \"[cut: {{work}}]\"\n{BASE}"), 1, "unknown placeholder {work}");
    // A single string is a one-element list.
    let (p, _) = check(
        &format!("{BASE}[[rules]]\nname = \"r\"\nlicense_class = \"copyleft\"\naction = \"block\"\n"),
        "t",
    )
    .unwrap();
    assert_eq!(p.rules[0].license_class, Some(vec![LicenseClass::Copyleft]));
}

#[test]
fn every_error_is_reported_in_line_order() {
    let src = r#"name = "x"
version = 1
default_jurisdiction = "XX"
[categories]
prose = { min_tokens = 0 }

[[rules]]
name = "a"
acton = "block"

[[rules]]
name = "a"
action = "deny"
min_coverage = 2
"#;
    let errs = errors(src);
    let lines: Vec<usize> = errs.iter().map(|(l, _)| *l).collect();
    assert_eq!(lines, vec![3, 5, 7, 9, 12, 13, 14], "{errs:#?}");
    // parse() returns the first of them.
    let first = crate::Policy::parse(src, "x.toml").unwrap_err();
    assert_eq!(first.line(), 3);
}

#[test]
fn warnings_for_shadowed_rules_and_licences_in_two_classes() {
    let src = format!(
        "{BASE}[licenses]\npermissive = [\"MIT\"]\nproprietary = [\"mit\"]\n\
         [[rules]]\nname = \"all\"\naction = \"annotate\"\n\
         [[rules]]\nname = \"never\"\nnotified = true\naction = \"block\"\n\
         [[rules]]\nname = \"shorter\"\nmin_tokens = 10\naction = \"block\"\n"
    );
    let (_, w) = check(&src, "t.toml").unwrap();
    let got: Vec<(usize, &str)> = w.iter().map(|w| (w.line, w.msg.as_str())).collect();
    assert_eq!(got.len(), 2, "{got:#?}");
    assert_eq!(got[0].0, 8);
    assert!(got[0].1.contains("listed under permissive (line 7) and proprietary; permissive wins"));
    assert_eq!(got[1].0, 12);
    assert!(got[1].1.contains("rule \"never\" can never apply: rule \"all\" (line 9)"));
    assert_eq!(w[1].to_string(), format!("t.toml:12: warning: {}", got[1].1));
}
