//! Web signals end to end: a crawl written as a WARC by `warcio` (the
//! Webrecorder library crawlers use), and the same crawl saved as a
//! directory, read into rights records. The TDMRep, robots.txt and ai.txt
//! cases follow each specification's examples.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use recital_rights::{import, Kind, RightsRecord};

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

/// A saved response: URL, status, headers, body.
type Saved = (&'static str, u16, Vec<(&'static str, &'static str)>, &'static str);

/// The crawl.
fn crawl() -> Vec<Saved> {
    let html = ("Content-Type", "text/html; charset=utf-8");
    vec![
        (
            "https://example.org/.well-known/tdmrep.json",
            200,
            vec![("Content-Type", "application/json")],
            r#"[{"location": "/", "tdm-reservation": 1, "tdm-policy": "https://example.org/policies/tdm.json"},
                {"location": "/open/*", "tdm-reservation": 0}]"#,
        ),
        (
            "https://example.org/robots.txt",
            200,
            vec![("Content-Type", "text/plain")],
            "User-agent: GPTBot\nDisallow: /\n\nUser-agent: *\nAllow: /\n",
        ),
        (
            "https://example.org/books/novel.html",
            200,
            vec![html],
            "<html><head><title>Novel</title></head><body>It was a dark night.</body></html>",
        ),
        (
            "https://example.org/open/essay.html",
            200,
            vec![html],
            "<html><head></head><body>An open essay.</body></html>",
        ),
        (
            "https://example.org/open/reserved.html",
            200,
            vec![html],
            r#"<html><head><meta name="tdm-reservation" content="1"><meta name="tdm-policy" content="https://example.org/policies/page.json"></head><body>x</body></html>"#,
        ),
        (
            "https://news.example.com/story",
            200,
            vec![html, ("tdm-reservation", "1"), ("tdm-policy", "https://news.example.com/tdm")],
            "<html><body>Story.</body></html>",
        ),
        (
            "https://blog.example.net/ai.txt",
            200,
            vec![("Content-Type", "text/plain")],
            "# Spawning AI\nUser-Agent: *\nDisallow: *.html\n",
        ),
        ("https://blog.example.net/post.html", 200, vec![html], "<html><body>Post.</body></html>"),
        ("https://blog.example.net/feed.xml", 200, vec![("Content-Type", "application/xml")], "<rss/>"),
        ("https://example.org/gone.html", 404, vec![html], "<html><body>Not found</body></html>"),
    ]
}

/// A Python with `warcio`: `RECITAL_TEST_PYTHON`, or one installed now.
fn python() -> String {
    let py = match std::env::var("RECITAL_TEST_PYTHON") {
        Ok(p) if !p.trim().is_empty() => p,
        _ => {
            let script = Path::new(ROOT).join("scripts/install-test-deps.sh");
            let o = Command::new("bash")
                .arg(&script)
                .stdin(Stdio::null())
                .output()
                .expect("run install-test-deps.sh");
            assert!(
                o.status.success(),
                "install-test-deps.sh failed:\n{}",
                String::from_utf8_lossy(&o.stderr)
            );
            String::from_utf8_lossy(&o.stdout).lines().last().unwrap_or("").trim().to_string()
        }
    };
    py
}

/// Writes the crawl as a gzipped WARC with warcio, every capture dated 2026-03-01.
fn write_warc(path: &Path) {
    let records: Vec<serde_json::Value> = crawl()
        .into_iter()
        .map(|(url, status, headers, body)| serde_json::json!({"url": url, "status": status, "headers": headers, "body": body}))
        .collect();
    let script = r#"
import json, sys, io
from warcio.warcwriter import WARCWriter
from warcio.statusandheaders import StatusAndHeaders
records = json.loads(sys.stdin.read())
reasons = {200: "OK", 404: "Not Found"}
with open(sys.argv[1], "wb") as out:
    w = WARCWriter(out, gzip=True)
    for r in records:
        body = r["body"].encode()
        headers = StatusAndHeaders(f"{r['status']} {reasons[r['status']]}", [tuple(h) for h in r["headers"]] + [("Content-Length", str(len(body)))], protocol="HTTP/1.1")
        rec = w.create_warc_record(r["url"], "response", payload=io.BytesIO(body), http_headers=headers,
                                   warc_headers_dict={"WARC-Date": "2026-03-01T09:30:00Z"})
        w.write_record(rec)
"#;
    let mut child = Command::new(python())
        .args(["-c", script, path.to_str().unwrap()])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run python");
    use std::io::Write;
    child.stdin.take().unwrap().write_all(serde_json::to_string(&records).unwrap().as_bytes()).unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "warcio failed:\n{}", String::from_utf8_lossy(&o.stderr));
}

/// The crawl as a directory: headers inline (wget --save-headers) for
/// example.org, in `.headers` files elsewhere.
fn write_dir(dir: &Path) {
    for (url, status, headers, body) in crawl() {
        let rel = url.strip_prefix("https://").unwrap();
        let path = dir.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let reason = if status == 200 { "OK" } else { "Not Found" };
        let mut head = format!("HTTP/1.1 {status} {reason}\r\nDate: Sun, 01 Mar 2026 09:30:00 GMT\r\n");
        for (k, v) in &headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        if rel.starts_with("example.org/") {
            std::fs::write(&path, format!("{head}{body}")).unwrap();
        } else {
            std::fs::write(&path, body).unwrap();
            std::fs::write(PathBuf::from(format!("{}.headers", path.display())), head).unwrap();
        }
    }
}

fn by_page<'a>(records: &'a [RightsRecord], page: &str) -> &'a RightsRecord {
    records
        .iter()
        .find(|r| r.doc_url.as_deref().is_some_and(|k| k.ends_with(page)))
        .unwrap_or_else(|| panic!("no record for {page} in {records:#?}"))
}

/// The signal that decided `field`, and the ones that lost.
fn decided(r: &RightsRecord, field: &str) -> (String, Vec<String>) {
    let of = |applied: bool| {
        r.provenance
            .iter()
            .filter(move |p| p.field == field && p.applied == applied)
            .map(|p| p.signal.clone())
    };
    (of(true).next().unwrap_or_default(), of(false).collect())
}

fn check(records: &[RightsRecord]) {
    // A page with nothing of its own: the site's tdmrep.json "/" rule, over robots.txt's GPTBot rule.
    let novel = by_page(records, "example.org/books/novel.html");
    assert_eq!(novel.tdm_opt_out, Some(true));
    assert_eq!(novel.tdm_policy.as_deref(), Some("https://example.org/policies/tdm.json"));
    assert_eq!(decided(novel, "tdm_opt_out"), ("tdmrep.json".to_string(), vec!["robots.txt".to_string()]));
    let p = novel.provenance.iter().find(|p| p.applied && p.field == "tdm_opt_out").unwrap();
    assert_eq!(p.source, "https://example.org/.well-known/tdmrep.json");
    assert_eq!(p.observed.as_deref(), Some("2026-03-01T09:30:00Z"));
    assert_eq!(p.citation(), "tdmrep.json of example.org, 2026-03-01");
    assert_eq!(novel.url.as_deref(), Some("https://example.org/books/novel.html"));
    // The more specific location "/open/*" says not reserved; robots.txt's reservation loses to it.
    let essay = by_page(records, "example.org/open/essay.html");
    assert_eq!(essay.tdm_opt_out, Some(false));
    assert_eq!(decided(essay, "tdm_opt_out").1, ["robots.txt"]);
    // The page's own meta elements outrank the site's file.
    let reserved = by_page(records, "example.org/open/reserved.html");
    assert_eq!(reserved.tdm_opt_out, Some(true));
    assert_eq!(
        decided(reserved, "tdm_opt_out"),
        ("html meta".to_string(), vec!["tdmrep.json".to_string(), "robots.txt".to_string()])
    );
    assert_eq!(reserved.tdm_policy.as_deref(), Some("https://example.org/policies/page.json"));
    // Headers.
    let story = by_page(records, "news.example.com/story");
    assert_eq!(
        (story.tdm_opt_out, story.tdm_policy.as_deref()),
        (Some(true), Some("https://news.example.com/tdm"))
    );
    assert_eq!(decided(story, "tdm_opt_out").0, "tdm-reservation header");
    // ai.txt: .html disallowed, .xml not.
    assert_eq!(by_page(records, "blog.example.net/post.html").tdm_opt_out, Some(true));
    assert_eq!(by_page(records, "blog.example.net/feed.xml").tdm_opt_out, Some(false));
    // Site files and failed responses are not pages.
    assert_eq!(records.len(), 6, "{records:#?}");
    assert!(!records.iter().any(|r| format!("{r:?}").contains("gone.html")));
}

#[test]
fn a_warc_written_by_warcio() {
    let d = tempfile::tempdir().unwrap();
    let warc = d.path().join("crawl.warc.gz");
    write_warc(&warc);
    let got = import(&warc, Kind::Auto).unwrap();
    assert!(got.warnings.is_empty(), "{:?}", got.warnings);
    assert_eq!(got.kind, Kind::Web);
    check(&got.records);
    assert!(got.records.iter().all(|r| r.doc_url.is_some() && r.path.is_none()));
    // The JSONL is a sidecar the index reads.
    let rules = recital_index::RightsRules::from_jsonl(&got.to_jsonl(), "crawl", None).unwrap();
    let url = "https://example.org/books/novel.html";
    let keys = recital_index::DocKeys { id: "n1", paths: &[], url: Some(url), file: None };
    assert!(rules.resolve(&keys, None, None).tdm_opt_out);
}

#[test]
fn a_directory_of_saved_responses() {
    let d = tempfile::tempdir().unwrap();
    write_dir(d.path());
    let got = import(d.path(), Kind::Auto).unwrap();
    assert!(got.warnings.is_empty(), "{:?}", got.warnings);
    assert_eq!(got.kind, Kind::Web);
    check(&got.records);
    assert_eq!(
        by_page(&got.records, "news.example.com/story").doc_url.as_deref(),
        Some("https://news.example.com/story")
    );
    // Applied to the saved files themselves (HOST/PATH under the crawl directory).
    let rules =
        recital_index::RightsRules::from_jsonl(&got.to_jsonl(), "crawl", got.base.as_deref()).unwrap();
    let keys =
        recital_index::DocKeys { id: "x", paths: &["example.org/books/novel.html"], url: None, file: None };
    assert!(rules.resolve(&keys, None, None).tdm_opt_out);
}

#[test]
fn a_broken_warc_is_an_error_naming_it() {
    let d = tempfile::tempdir().unwrap();
    let warc = d.path().join("bad.warc");
    std::fs::write(&warc, "WARC/1.0\r\nnot a header line\r\n\r\n").unwrap();
    let e = import(&warc, Kind::Auto).unwrap_err().to_string();
    assert!(e.contains("bad.warc: record 1"), "{e}");
}
