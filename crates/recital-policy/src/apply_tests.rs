//! Redaction markers, merged overlaps, annotation offsets in the filtered text, multibyte text.

use recital_detect::report::Source;
use recital_detect::ScanReport;

use crate::testutil::{exact, policy, report, source, HEADER, RULES};
use crate::{apply, Action, Decision, Filtered, Policy, Request};

fn run(text: &str, r: &ScanReport) -> (Decision, Filtered) {
    let d = policy().decide(r, &Request::from_jurisdiction("US"));
    let f = apply(text, r, &d);
    (d, f)
}

/// Byte range of the first occurrence of `needle` in `hay`.
fn at(hay: &str, needle: &str) -> std::ops::Range<usize> {
    let s = hay.find(needle).unwrap_or_else(|| panic!("{needle:?} in {hay:?}"));
    s..s + needle.len()
}

fn check_offsets(f: &Filtered) {
    let text = f.text.as_deref().unwrap_or("");
    for a in &f.annotations {
        assert!(a.start_offset < a.end_offset && a.end_offset <= text.len(), "{a:?} in {}", text.len());
        assert!(text.is_char_boundary(a.start_offset) && text.is_char_boundary(a.end_offset), "{a:?}");
        assert_eq!(a.offset_unit, "byte");
    }
}

#[test]
fn without_redactions_the_text_is_unchanged_and_annotations_point_at_the_copy() {
    let text = "Préface — 日本語のテキスト: the quick brown fox 🦊 jumps over the lazy dog. Fin.";
    let copy = "日本語のテキスト: the quick brown fox 🦊 jumps";
    let r = report(text, vec![exact(text, at(text, copy), 60, source("fox", "MIT"))], &[]);
    let (d, f) = run(text, &r);
    assert_eq!(d.action, Action::Annotate);
    assert_eq!(f.text.as_deref(), Some(text));
    assert!(!f.blocked);
    assert_eq!(f.annotations.len(), 1);
    let a = &f.annotations[0];
    assert_eq!(&text[a.start_offset..a.end_offset], copy);
    assert_eq!((a.action, a.rule.as_deref()), (Action::Annotate, Some("attribution")));
    assert_eq!(a.citations[0].url.as_deref(), Some("https://example.org/fox"));
    assert_eq!(a.citations[0].license, "MIT");
    check_offsets(&f);
}

#[test]
fn a_redaction_is_replaced_by_a_marker_and_later_annotations_shift() {
    let text = "Intro ✓. GPL text ✂ here. Then — MIT text ✓ there. End";
    let gpl = "GPL text ✂ here.";
    let mit = "MIT text ✓ there.";
    let r = report(
        text,
        vec![
            exact(text, at(text, gpl), 60, source("kernel/inflate", "GPL-2.0-only")),
            exact(text, at(text, mit), 60, source("lib", "MIT")),
        ],
        &[],
    );
    let (d, f) = run(text, &r);
    assert_eq!(d.action, Action::Redact);
    let out = f.text.clone().unwrap_or_default();
    let marker = "[redacted: copies kernel/inflate.txt (GPL-2.0-only)]";
    assert_eq!(out, text.replace(gpl, marker));
    assert_eq!(f.annotations.len(), 2);
    let (red, ann) = (&f.annotations[0], &f.annotations[1]);
    assert_eq!(&out[red.start_offset..red.end_offset], marker);
    assert_eq!((red.action, red.rule.as_deref()), (Action::Redact, Some("copyleft-or-unknown")));
    assert_eq!(&out[ann.start_offset..ann.end_offset], mit, "annotation offsets are into the filtered text");
    check_offsets(&f);
}

#[test]
fn overlapping_redactions_merge_into_one_marker_naming_every_source() {
    let text = "aaa ééé bbb ccc ddd eee";
    let r = report(
        text,
        vec![
            exact(text, at(text, "ééé bbb ccc"), 60, source("one", "GPL-2.0-only")),
            exact(text, at(text, "bbb ccc ddd"), 60, source("two", "LicenseRef-Acme")),
            exact(text, at(text, "ccc"), 60, source("three", "MIT")),
        ],
        &[],
    );
    let (_, f) = run(text, &r);
    let out = f.text.clone().unwrap_or_default();
    assert_eq!(
        out, "aaa [redacted: copies one.txt (GPL-2.0-only)] [redacted: copies two.txt (LicenseRef-Acme)] eee",
        "the covered text is replaced once, by each span's marker"
    );
    assert_eq!(f.annotations.len(), 1, "{:?}", f.annotations);
    let a = &f.annotations[0];
    assert_eq!(a.action, Action::Redact);
    // The annotated span inside the redaction adds its citation to the marker's annotation.
    let ids: Vec<&str> = a.citations.iter().map(|c| c.doc_id.as_str()).collect();
    assert_eq!(ids, vec!["one", "two", "three"]);
    check_offsets(&f);
}

#[test]
fn touching_redactions_stay_separate_and_straddling_annotations_cover_the_marker() {
    let text = "xx AAAA BBBB CCCC yy";
    let r = report(
        text,
        vec![
            exact(text, at(text, "AAAA "), 60, source("a", "GPL-2.0-only")),
            exact(text, at(text, "BBBB"), 60, source("b", "GPL-2.0-only")),
            exact(text, at(text, "BBBB CCCC yy"), 60, source("c", "MIT")),
        ],
        &[],
    );
    let (_, f) = run(text, &r);
    let out = f.text.clone().unwrap_or_default();
    let ma = "[redacted: copies a.txt (GPL-2.0-only)]";
    let mb = "[redacted: copies b.txt (GPL-2.0-only)]";
    assert_eq!(out, format!("xx {ma} {mb} CCCC yy"), "the space after AAAA stays outside the marker");
    let ann = f.annotations.iter().find(|a| a.action == Action::Annotate).unwrap_or_else(|| panic!("{f:?}"));
    assert_eq!(&out[ann.start_offset..ann.end_offset], format!("{mb} CCCC yy"));
    check_offsets(&f);
}

#[test]
fn blocked_responses_have_no_text() {
    let text = "some copied words";
    let r = report(text, vec![exact(text, 0..text.len(), 60, source("a", "MIT"))], &[]);
    let yes = |_: &Source| true;
    let d = policy().decide(&r, &Request { jurisdiction: None, notified: &yes });
    let f = apply(text, &r, &d);
    assert!(f.blocked);
    assert_eq!(f.text, None);
    assert!(f.annotations.is_empty());
}

#[test]
fn offsets_off_char_boundaries_or_past_the_end_do_not_panic() {
    let text = "日本語 and more";
    let mut r = report(text, vec![exact(text, 0..3, 60, source("a", "GPL-2.0-only"))], &[]);
    let mut d = policy().decide(&r, &Request::default());
    // A decision for another text: inside 本, and past the end.
    d.spans[0].byte_start = 4;
    d.spans[0].byte_end = 5;
    let f = apply(text, &r, &d);
    assert_eq!(
        f.text.as_deref(),
        Some("日[redacted: copies a.txt (GPL-2.0-only)]語 and more"),
        "widened to 本"
    );
    d.spans[0].byte_start = 10;
    d.spans[0].byte_end = 500;
    let f = apply(text, &r, &d);
    assert!(f.text.unwrap_or_default().starts_with("日本語 "));
    r.spans.clear();
    let f = apply("", &r, &d);
    assert_eq!(f.text.as_deref(), Some(""));
}

#[test]
fn the_marker_template_is_the_policys() {
    let text = "keep SECRET keep";
    let r = report(text, vec![exact(text, at(text, "SECRET"), 60, source("s", "GPL-2.0-only"))], &[]);
    let src =
        format!("redaction_marker = \"<{{rule}}: {{doc_id}} at {{url}} by {{holder}}>\"\n{HEADER}{RULES}");
    let p = Policy::parse(&src, "m.toml").unwrap_or_else(|e| panic!("{e}"));
    let d = p.decide(&r, &Request::default());
    let want = "<copyleft-or-unknown: s at https://example.org/s by >";
    assert_eq!(d.spans[0].marker.as_deref(), Some(want));
    assert_eq!(p.redaction_marker(&d.spans[0]), want);
    let f = apply(text, &r, &d);
    assert_eq!(f.text, Some(format!("keep {want} keep")));
    // A decision without markers (built by hand) gets the default marker.
    let mut d = d;
    d.spans[0].marker = None;
    assert_eq!(
        apply(text, &r, &d).text.as_deref(),
        Some("keep [redacted: copies s.txt (GPL-2.0-only)] keep")
    );
}

/// The text after redacting `piece` (its first occurrence) as GPL.
fn redacted(text: &str, piece: &str) -> String {
    let r = report(text, vec![exact(text, at(text, piece), 60, source("g", "GPL-2.0-only"))], &[]);
    let (_, f) = run(text, &r);
    check_offsets(&f);
    f.text.unwrap_or_default()
}

const M: &str = "[redacted: copies g.txt (GPL-2.0-only)]";

#[test]
fn a_marker_follows_glued_punctuation_and_takes_in_a_closing_parenthesis() {
    // The shape of issue 22: a fragment from the comma after "statutory" to
    // "(not" gave "statutory[redacted: …] any Contributor)".
    let text = "either expressed, implied, or statutory, including, without limitation, warranties. \
                You (not any Contributor) assume the cost";
    let out = redacted(text, ", including, without limitation, warranties. You (not");
    assert_eq!(out, format!("either expressed, implied, or statutory, {M} assume the cost"));
}

#[test]
fn a_marker_replaces_whole_tokens_and_leaves_whitespace_outside() {
    let text = "keep  SECRET WORDS\n keep";
    assert_eq!(redacted(text, " SECRET WORDS\n "), format!("keep  {M}\n keep"));
    assert_eq!(redacted(text, "CRET WO"), format!("keep  {M}\n keep"), "widened to whole tokens");
    assert_eq!(redacted("a  \t  b", "  \t  "), "a  \t  b", "whitespace alone is nothing to redact");
}

#[test]
fn unpaired_openers_quotes_and_brackets_take_their_partners_when_near() {
    assert_eq!(redacted("see (a b c) d", "b c) d"), format!("see {M}"));
    assert_eq!(redacted("he said \"hello world\" today", "hello world\""), format!("he said {M} today"));
    assert_eq!(redacted("he said \"hello world\" today", "\"hello"), format!("he said {M} today"));
    assert_eq!(redacted("x [one {two} three] y", "[one {two"), format!("x {M} y"));
    let far = "call (a b c d e f g h i j k) end";
    assert_eq!(redacted(far, "(a b"), format!("call {M} c d e f g h i j k) end"), "a partner too far stays");
}
