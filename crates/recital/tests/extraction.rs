//! The scan API as an extraction oracle: what `/v1/scan` shows of a
//! protected source must not add to what the caller already sent.

mod support;

use serde_json::{json, Value};
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
