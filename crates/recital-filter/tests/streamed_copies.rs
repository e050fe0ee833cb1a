//! Streamed copies against a real index: a near copy (every 9th word
//! changed) and copies wrapped in Markdown, HTML or JSON escapes inside a
//! plain channel. `/v1/filter` (a whole-output scan) redacts each; streamed
//! word by word through a [`StreamFilter`], none of their words may leave
//! before the redaction marker, and nothing counts as leaked.

use std::sync::Arc;

use recital_filter::{filter_output, ChannelId, ChannelKind, IndexJudge, Judge, StreamFilter};
use recital_index::{BuildOptions, Index, IngestOptions};
use recital_policy::Policy;

/// Deterministic pseudo-prose (the service tests' generator): unique to its seed.
fn prose(seed: u64, words: usize) -> String {
    const W: &[&str] = &[
        "amber",
        "harbour",
        "quietly",
        "lantern",
        "orchard",
        "meridian",
        "velvet",
        "copper",
        "whistle",
        "granite",
        "meadow",
        "silver",
        "thistle",
        "cathedral",
        "ember",
        "falcon",
        "juniper",
        "marrow",
        "pebble",
        "saffron",
        "tundra",
        "vessel",
        "willow",
        "zephyr",
        "beacon",
        "cobalt",
        "driftwood",
        "fennel",
        "gossamer",
        "hollow",
        "indigo",
        "jasmine",
        "kestrel",
        "lichen",
        "mosaic",
        "nectar",
        "obsidian",
        "parchment",
        "quarry",
        "russet",
        "sorrel",
        "tamarind",
        "umber",
        "verdant",
        "wander",
        "yarrow",
        "alder",
        "bramble",
        "cinder",
        "dapple",
    ];
    let mut x = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    let mut out = Vec::new();
    for _ in 0..words {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        out.push(W[((x >> 33) as usize) % W.len()]);
    }
    out.join(" ")
}

struct Fixture {
    _dir: tempfile::TempDir,
    judge: IndexJudge,
    /// 90 words of the indexed document.
    passage: Vec<String>,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let docs = dir.path().join("docs");
    std::fs::create_dir(&docs).unwrap();
    let novel = prose(1, 3000);
    std::fs::write(docs.join("novel.txt"), &novel).unwrap();
    let idx = dir.path().join("idx");
    recital_index::build(&idx, &[docs], &IngestOptions::default(), &BuildOptions::default()).unwrap();
    let index = Arc::new(Index::open(&idx).unwrap());
    let policy = Policy::builtin_default();
    let opts = policy.scan_options();
    let judge = IndexJudge::new(index, policy, opts);
    let passage = novel.split(' ').skip(200).take(90).map(str::to_string).collect();
    Fixture { _dir: dir, judge, passage }
}

/// True if `n` consecutive words of `passage` appear in `text` (markup,
/// punctuation and JSON's `\n` escapes around words ignored).
fn shares_words(text: &str, passage: &[String], n: usize) -> Option<String> {
    let words: Vec<String> = text
        .replace("\\n", " ")
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    let hay = format!(" {} ", words.join(" "));
    passage.windows(n).map(|w| w.join(" ")).find(|w| hay.contains(&format!(" {w} ")))
}

/// Streams `text` through a plain channel in pieces of `step` bytes (on
/// char boundaries); returns what was released and the filter.
fn stream(judge: &dyn Judge, text: &str, step: usize) -> (String, StreamFilter) {
    let id = ChannelId::new(0, ChannelKind::Text);
    let mut f = StreamFilter::new(judge, "EU", "");
    let mut out = String::new();
    let mut at = 0;
    while at < text.len() {
        let mut end = (at + step).min(text.len());
        while !text.is_char_boundary(end) {
            end += 1;
        }
        let s = f.push(judge, id, &text[at..end]).unwrap();
        assert!(s.blocked.is_none());
        out.push_str(&s.text);
        at = end;
    }
    out.push_str(&f.finish(judge, id).unwrap().text);
    (out, f)
}

/// The whole-output filter redacts `text`'s copy; streamed in several
/// chunkings, no run of `n` words of the passage leaves and nothing leaks.
fn assert_streamed_like_whole(fx: &Fixture, text: &str, n: usize) {
    let id = ChannelId::new(0, ChannelKind::Text);
    let whole = filter_output(&fx.judge, &[(id, text)], None, "EU").unwrap();
    let shown = whole.channels[0].text.as_deref().unwrap();
    assert_eq!(shares_words(shown, &fx.passage, n), None, "whole output leaks: {shown}");
    assert!(shown.contains("[redacted"), "the whole output is redacted: {shown}");
    for step in [1, 3, 7, 16] {
        let (out, f) = stream(&fx.judge, text, step);
        assert!(out.contains("[redacted"), "step {step}: {out}");
        assert_eq!(shares_words(&out, &fx.passage, n), None, "step {step} leaks: {out}");
        assert_eq!(f.leaked_bytes(), 0, "step {step}: bytes of a copy released before its decision: {out}");
    }
}

/// Every 9th word changed: exact pieces of 8 words, each shorter than the
/// report minimum, chained into one near copy.
fn near_copy(passage: &[String]) -> String {
    let ws: Vec<String> = passage
        .iter()
        .enumerate()
        .map(|(i, w)| if i % 9 == 8 { format!("x{i}word") } else { w.clone() })
        .collect();
    ws.join(" ")
}

#[test]
fn a_near_copy_is_held_until_it_is_decided() {
    let fx = fixture();
    let text = format!("Here is the passage you asked for: {} I hope it helps.", near_copy(&fx.passage));
    assert_streamed_like_whole(&fx, &text, 3);
}

/// Words joined with `wrap(i, word)` applied to each.
fn wrapped(passage: &[String], wrap: impl Fn(usize, &str) -> String) -> String {
    passage.iter().enumerate().map(|(i, w)| wrap(i, w)).collect::<Vec<_>>().join(" ")
}

#[test]
fn a_markdown_wrapped_copy_is_found_while_it_streams() {
    let fx = fixture();
    // Emphasis on a third of the words, and a link every 10th word: no
    // run of 12 raw tokens is copied.
    let md = wrapped(&fx.passage, |i, w| match i % 10 {
        9 => format!("[{w}](https://example.org/notes/{i}/page)"),
        _ if i % 3 == 0 => format!("**{w}**"),
        _ => w.to_string(),
    });
    let text = format!("Here is the passage, with my emphasis:\n\n{md}\n\nI hope it helps.");
    assert_streamed_like_whole(&fx, &text, 12);
}

#[test]
fn an_html_wrapped_copy_is_found_while_it_streams() {
    let fx = fixture();
    let html = wrapped(&fx.passage, |i, w| match i % 4 {
        0 => format!("<b>{w}</b>"),
        2 => format!("<span class=\"w{i}\">{w}</span>"),
        _ => w.to_string(),
    });
    let text = format!("<p>Here is the passage:</p>\n<p>{html}</p>\n<p>I hope it helps.</p>");
    assert_streamed_like_whole(&fx, &text, 12);
}

#[test]
fn a_json_escaped_copy_in_a_plain_channel_is_found_while_it_streams() {
    let fx = fixture();
    // A model writing a JSON object as its content, without response_format:
    // an escape every fourth word.
    let body = wrapped(&fx.passage, |i, w| if i % 4 == 3 { format!("{w}\n") } else { w.to_string() });
    let text = serde_json::json!({"title": "The passage", "body": body}).to_string();
    assert!(text.contains("\\n"));
    assert_streamed_like_whole(&fx, &text, 12);
}

/// The guard's step on plain prose, which has no view: its cost must not
/// grow with the views (run with `--release --ignored --nocapture`).
#[test]
#[ignore]
fn step_cost_on_plain_prose() {
    let fx = fixture();
    let clean = "The weather today is mild, with a light breeze from the west and some clouds later in \
                 the afternoon. Nothing in this answer copies anything; it is ordinary prose written for \
                 the test, long enough to be streamed in many pieces so that the proxy has to release text \
                 before the upstream finishes. ";
    let text = clean.repeat(6);
    let words: Vec<&str> = text.split_inclusive(' ').collect();
    let id = ChannelId::new(0, ChannelKind::Text);
    let mut runs = Vec::new();
    for _ in 0..41 {
        let mut f = StreamFilter::new(&fx.judge, "EU", "");
        let t0 = std::time::Instant::now();
        for w in &words {
            f.push(&fx.judge, id, w).unwrap();
        }
        runs.push(t0.elapsed().as_secs_f64() * 1e6 / words.len() as f64);
    }
    runs.sort_by(f64::total_cmp);
    eprintln!("plain prose: {} steps, µs per step: median {:.1}, min {:.1}", words.len(), runs[20], runs[0]);
}

/// A copy inside a tool call's arguments, amid code whose `<`, `&&` and
/// `a<b` are not HTML (the HTML view's quick check turns that code away
/// without tokenizing it; an `<em>` around one word keeps the view in
/// play), streamed in fragments of every size: found and redacted, the
/// arguments still valid JSON, the code around the copy passed unchanged.
#[test]
fn a_copy_in_streamed_tool_arguments_amid_code_is_redacted() {
    let fx = fixture();
    let code = "template<typename T> bool less(const T &a, const T &b) { return a<b && !(b<a); }";
    let quote = wrapped(&fx.passage, |i, w| if i == 20 { format!("<em>{w}</em>") } else { w.to_string() });
    let content = format!("{code}\n// {quote}\n{code}\n");
    let args = serde_json::json!({"path": "less.hpp", "content": content}).to_string();
    let id = ChannelId::tool(0, ChannelKind::ToolArguments, 0);
    for step in [1, 2, 5, 11, 64] {
        let mut f = StreamFilter::new(&fx.judge, "EU", "");
        let mut out = String::new();
        let mut at = 0;
        while at < args.len() {
            let mut end = (at + step).min(args.len());
            while !args.is_char_boundary(end) {
                end += 1;
            }
            out.push_str(&f.push(&fx.judge, id, &args[at..end]).unwrap().text);
            at = end;
        }
        out.push_str(&f.finish(&fx.judge, id).unwrap().text);
        let v: serde_json::Value =
            serde_json::from_str(&out).unwrap_or_else(|e| panic!("step {step}: {e}: {out}"));
        let shown = v["content"].as_str().unwrap();
        assert!(shown.contains("[redacted"), "step {step}: {shown}");
        assert!(shown.starts_with(&format!("{code}\n// ")), "step {step}: {shown}");
        assert_eq!(shares_words(shown, &fx.passage, 12), None, "step {step} leaks: {shown}");
        assert_eq!(f.leaked_bytes(), 0, "step {step}");
        let decisions = f.decisions("test");
        assert_eq!(decisions.len(), 1, "step {step}");
        assert_eq!(decisions[0].channel, id);
    }
}
