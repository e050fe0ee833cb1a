//! The scan API as an extraction oracle: what `/v1/scan` shows of a
//! protected source must not add to what the caller already sent.

mod support;

use serde_json::{json, Value};
use support::probe::{Probed, Prober};
use support::{build_index, client, prose, quote, Server};

fn key(w: &str) -> String {
    w.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect()
}

/// A near-verbatim copy with words left out: the source snippets show the
/// caller's words and `…` where the source has words the caller did not send.
#[test]
fn near_match_snippets_do_not_fill_in_words_left_out() {
    let dir = tempfile::tempdir().unwrap();
    let idx = build_index(dir.path());
    let db = dir.path().join("db.sqlite");
    let s = Server::start(&["--index", idx.to_str().unwrap(), "--db", db.to_str().unwrap()], &[]);
    let text = prose(1, 3000); // novel.txt
    let copied = quote(&text, 400, 520);
    let words: Vec<&str> = copied.split(' ').collect();
    // Every 12th word left out: exact runs of 11 words, chained into one near span.
    let sent: Vec<&str> = words.iter().enumerate().filter(|(i, _)| i % 12 != 6).map(|(_, w)| *w).collect();
    let sent = sent.join(" ");
    let v: Value =
        client().post(s.url("/v1/scan")).json(&json!({"text": sent})).send().unwrap().json().unwrap();
    let spans = v["report"]["spans"].as_array().expect("spans");
    let near: Vec<&Value> = spans.iter().filter(|s| s["kind"] == "near").collect();
    assert!(!near.is_empty(), "the edited copy is reported as a near match: {v}");
    let sent_keys: Vec<String> = sent.split_whitespace().map(key).collect();
    let mut masked = 0;
    for span in near {
        for src in span["sources"].as_array().unwrap() {
            let snippet = src["snippet"].as_str().unwrap().trim_end_matches('…');
            masked += snippet.matches('…').count();
            let shown: Vec<String> = snippet.split_whitespace().filter(|w| *w != "…").map(key).collect();
            let mut it = sent_keys.iter();
            assert!(
                shown.iter().all(|w| it.any(|x| x == w)),
                "the snippet shows words the caller did not send: {snippet:?}"
            );
        }
    }
    assert!(masked > 0, "the left-out words are marked, not silently dropped: {v}");
}

/// Whatever the attacker tries, the source text it is shown stays within the
/// key's daily budget, and then scans are refused with a 429 that says why
/// and until when.
#[test]
fn rebuilding_a_document_from_repeated_scans_gets_no_more_than_the_budget() {
    const BUDGET: usize = 3000;
    let dir = tempfile::tempdir().unwrap();
    let idx = build_index(dir.path());
    let db = dir.path().join("db.sqlite");
    let budget = BUDGET.to_string();
    let s = Server::start(
        &["--index", idx.to_str().unwrap(), "--db", db.to_str().unwrap(), "--reveal-budget", &budget],
        &[],
    );
    let novel = prose(1, 3000);
    let Probed { shown, scans, refused } = Prober::new().run(&s.base, usize::MAX, None);
    let (retry, body) = refused.expect("the budget ran out before the document did");
    println!("rebuild attempt: {scans} scans answered, {shown} source bytes shown (budget {BUDGET})");
    assert!(shown <= BUDGET, "{shown} bytes shown, budget {BUDGET}");
    assert!(shown >= BUDGET / 2, "the budget was used, not refused early: {shown}");
    assert!(scans >= 2, "{scans}");
    let msg = body["error"]["message"].as_str().unwrap_or_default();
    assert_eq!(body["error"]["code"], "reveal_budget_spent", "{body}");
    assert!(
        msg.contains("3000 bytes of protected source text for today") && msg.contains("midnight UTC"),
        "{msg}"
    );
    let retry: u64 = retry.expect("Retry-After").parse().unwrap();
    assert!((1..=86_400).contains(&retry), "{retry}");
    // The filter shows no source text and goes on.
    let r = client().post(s.url("/v1/filter")).json(&json!({"text": quote(&novel, 10, 90)})).send().unwrap();
    assert_eq!(r.status(), 200);
}

/// The budget is counted in the store: a server killed (SIGKILL, as a crash
/// or a deploy would) and started again on the same database goes on from
/// what was left, instead of granting the whole budget again.
#[test]
fn the_reveal_budget_survives_a_restart() {
    const BUDGET: usize = 3000;
    let dir = tempfile::tempdir().unwrap();
    let idx = build_index(dir.path());
    let db = dir.path().join("db.sqlite");
    let budget = BUDGET.to_string();
    let args = ["--index", idx.to_str().unwrap(), "--db", db.to_str().unwrap(), "--reveal-budget", &budget];
    let mut prober = Prober::new();
    let s = Server::start(&args, &[]);
    let before = prober.run(&s.base, BUDGET * 2 / 3, None);
    assert!(before.refused.is_none() && before.shown >= BUDGET / 2, "{before:?}");
    s.kill9();
    let s = Server::start(&args, &[]);
    let after = prober.run(&s.base, usize::MAX, None);
    println!("before the restart {} bytes shown, after it {} (budget {BUDGET})", before.shown, after.shown);
    assert!(after.refused.is_some(), "the budget ran out after the restart: {after:?}");
    assert!(after.shown <= BUDGET - before.shown, "only the remainder is shown: {before:?} then {after:?}");
    assert!(after.shown > 0, "the remainder is shown: {after:?}");
}
