//! Issue 21 end to end, with the real binary: rights signals published on a
//! crawled site (TDMRep's `tdmrep.json`, a page's `tdm-reservation` meta)
//! are imported (`recital rights import`), applied at build time
//! (`recital index build --rights-from`), and used by the EU preset: a copy
//! of a TDM-reserved work is withheld (redacted) for a request from the EU
//! and only cited elsewhere, and the statement of reasons names the signal.
//! The same for a C2PA manifest's training-and-mining assertion.

mod support;

use std::path::Path;
use std::process::{Command, Output};

use support::{prose, quote};

fn recital(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_recital")).args(args).env("NO_COLOR", "1").output().expect("binary runs")
}

fn ok(args: &[&str]) -> String {
    let o = recital(args);
    assert!(o.status.success(), "recital {args:?} failed: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).unwrap()
}

fn eu_preset() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies/eu-only.toml").display().to_string()
}

/// A crawl of example.org saved as `wget --mirror --save-headers` does.
fn save_crawl(dir: &Path) {
    let page = |path: &str, head: &str, body: &str| {
        let p = dir.join("example.org").join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        let headers =
            format!("HTTP/1.1 200 OK\r\nDate: Sun, 01 Mar 2026 09:30:00 GMT\r\nContent-Type: {head}\r\n\r\n");
        std::fs::write(p, format!("{headers}{body}")).unwrap();
    };
    page(
        ".well-known/tdmrep.json",
        "application/json",
        r#"[{"location": "/books/*", "tdm-reservation": 1, "tdm-policy": "https://example.org/tdm-licence"}]"#,
    );
    page("robots.txt", "text/plain", "User-agent: GPTBot\nAllow: /\n");
    page("books/novel.html", "text/html", "<html><head><title>Novel</title></head><body>…</body></html>");
    page("essays/open.html", "text/html", "<html><head></head><body>…</body></html>");
}

#[test]
fn a_tdm_reserved_work_is_withheld_in_the_eu_and_cited_elsewhere() {
    let d = tempfile::tempdir().unwrap();
    let crawl = d.path().join("crawl");
    save_crawl(&crawl);
    // The corpus extracted from the crawl: JSONL with each page's URL, as text pipelines write it.
    let (novel, essay) = (prose(2101, 400), prose(2102, 400));
    let corpus = d.path().join("corpus.jsonl");
    std::fs::write(
        &corpus,
        format!(
            "{}\n{}\n",
            serde_json::json!({"id": "novel", "url": "https://example.org/books/novel.html", "text": novel}),
            serde_json::json!({"id": "essay", "url": "https://example.org/essays/open.html", "text": essay})
        ),
    )
    .unwrap();
    let sidecar = d.path().join("licences.jsonl");
    std::fs::write(&sidecar, "{\"path\": \"**\", \"license\": \"MIT\"}\n").unwrap();

    // 1. The import: one record per page, with provenance.
    let out = ok(&["rights", "import", crawl.to_str().unwrap()]);
    let records: Vec<serde_json::Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(records.len(), 2, "{out}");
    let novel_rec = records
        .iter()
        .find(|r| r["doc_url"] == "https://example.org/books/novel.html")
        .expect("novel record");
    assert_eq!(novel_rec["tdm_opt_out"], true);
    assert_eq!(novel_rec["tdm_policy"], "https://example.org/tdm-licence");
    let applied: Vec<&serde_json::Value> =
        novel_rec["provenance"].as_array().unwrap().iter().filter(|p| p["field"] == "tdm_opt_out").collect();
    assert_eq!(applied[0]["signal"], "tdmrep.json");
    assert_eq!(applied[0]["applied"], true);
    assert_eq!(applied[1]["signal"], "robots.txt", "the losing signal is kept: {novel_rec}");
    assert_eq!(applied[1]["applied"], false);

    // 2. Applied at build time (the licence sidecar on top).
    let idx = d.path().join("idx");
    ok(&[
        "index",
        "build",
        "--index",
        idx.to_str().unwrap(),
        "--rights-from",
        crawl.to_str().unwrap(),
        "--rights",
        sidecar.to_str().unwrap(),
        "--strict",
        corpus.to_str().unwrap(),
    ]);

    // 3. The EU preset: redact the reserved work for DE, cite it for the US; the open essay is cited.
    let output = d.path().join("output.txt");
    std::fs::write(&output, format!("Here it is: {}.", quote(&novel, 100, 180))).unwrap();
    let scan = |j: &str| -> serde_json::Value {
        serde_json::from_str(&ok(&[
            "scan",
            "--index",
            idx.to_str().unwrap(),
            "--policy",
            &eu_preset(),
            "--jurisdiction",
            j,
            "--json",
            output.to_str().unwrap(),
        ]))
        .unwrap()
    };
    let de = scan("DE");
    assert_eq!(de["decision"]["action"], "redact", "{de:#}");
    let span = &de["decision"]["spans"][0];
    assert_eq!(span["rule"], "eea-tdm-opt-out");
    let reason = span["reason"].as_str().unwrap();
    assert!(reason.contains("TDM reservation via tdmrep.json of example.org, 2026-03-01"), "{reason}");
    let source = &de["spans"][0]["sources"][0];
    assert_eq!(source["doc_id"], "novel");
    assert_eq!(source["tdm_opt_out"], true);
    assert_eq!(source["tdm_policy"], "https://example.org/tdm-licence");
    assert!(
        source["provenance"].as_array().is_some_and(|p| p.iter().any(|p| p["signal"] == "tdmrep.json")),
        "{source}"
    );
    let us = scan("US");
    assert_eq!(us["decision"]["action"], "annotate", "{us:#}");
    assert_eq!(us["decision"]["spans"][0]["rule"], "elsewhere-cite");

    std::fs::write(&output, format!("Here it is: {}.", quote(&essay, 100, 180))).unwrap();
    let open = scan("DE");
    assert_eq!(open["decision"]["action"], "annotate", "{open:#}");
    assert_eq!(open["decision"]["spans"][0]["rule"], "eea-attribution");
}

/// The C2PA test assets of crates/recital-rights/tests/fixtures/c2pa (from c2pa-rs).
fn c2pa_fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../recital-rights/tests/fixtures/c2pa").join(name),
    )
    .unwrap()
}

/// The manifest store a JPEG carries in its APP11 segment (one segment: the
/// fixture's store fits), as a sidecar `.c2pa` file holds it.
fn app11_store(jpeg: &[u8]) -> Vec<u8> {
    let mut at = 2;
    loop {
        let len = u16::from_be_bytes([jpeg[at + 2], jpeg[at + 3]]) as usize;
        if jpeg[at + 1] == 0xeb && &jpeg[at + 4..at + 6] == b"JP" {
            return jpeg[at + 12..at + 2 + len].to_vec();
        }
        at += 2 + len;
    }
}

/// A text with a sidecar C2PA manifest (the c2pa-rs asset whose CAWG
/// training-and-mining assertion says `notAllowed`) is TDM-reserved: the
/// EU preset withholds a copy of it in the EU, cites it elsewhere, and the
/// statement of reasons names the manifest and the assertion. A text whose
/// manifest has no such assertion stays open. The JPEG itself imports too.
#[test]
fn a_c2pa_training_mining_assertion_reserves_the_work() {
    let d = tempfile::tempdir().unwrap();
    let corpus = d.path().join("corpus");
    std::fs::create_dir(&corpus).unwrap();
    let (novel, essay) = (prose(2301, 400), prose(2302, 400));
    std::fs::write(corpus.join("novel.txt"), &novel).unwrap();
    std::fs::write(corpus.join("novel.c2pa"), app11_store(&c2pa_fixture("C_with_CAWG_data.jpg"))).unwrap();
    std::fs::write(corpus.join("essay.txt"), &essay).unwrap();
    std::fs::write(corpus.join("essay.c2pa"), c2pa_fixture("manifest_data.c2pa")).unwrap();

    // The import: one record, for the text beside the sidecar; the other manifest says nothing.
    let o = recital(&["rights", "import", corpus.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8(o.stdout).unwrap();
    let records: Vec<serde_json::Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let novel_rec = records.iter().find(|r| r["path"] == "novel.txt").expect("novel record");
    assert_eq!(novel_rec["tdm_opt_out"], true, "{out}");
    assert!(records.iter().all(|r| r["path"] == "novel.txt" || r["tdm_opt_out"].is_null()), "{out}");
    let p = &novel_rec["provenance"][0];
    assert_eq!((p["signal"].as_str(), p["source"].as_str()), (Some("C2PA manifest"), Some("novel.c2pa")));
    assert!(p["detail"].as_str().unwrap().contains("urn:c2pa:822f2ec0-ef27-4d95-88b4-74586c12873d"), "{p}");
    assert!(p["detail"].as_str().unwrap().ends_with("signature present, not validated"), "{p}");
    let warnings = String::from_utf8_lossy(&o.stderr);
    assert!(
        warnings.contains("essay.c2pa: C2PA manifest") && warnings.contains("no training-and-mining"),
        "{warnings}"
    );

    // A single file: the JPEG carrying the manifest.
    let photo = d.path().join("photo.jpg");
    std::fs::write(&photo, c2pa_fixture("C_with_CAWG_data.jpg")).unwrap();
    let rec: serde_json::Value =
        serde_json::from_str(ok(&["rights", "import", photo.to_str().unwrap()]).trim()).unwrap();
    assert_eq!((rec["path"].as_str(), rec["tdm_opt_out"].as_bool()), (Some("photo.jpg"), Some(true)));

    // Applied at build time (a licence sidecar on top), then the EU preset.
    let sidecar = d.path().join("licences.jsonl");
    std::fs::write(&sidecar, "{\"path\": \"**\", \"license\": \"MIT\"}\n").unwrap();
    let idx = d.path().join("idx");
    let (idx_s, corpus_s) = (idx.to_str().unwrap(), corpus.to_str().unwrap());
    ok(&[
        "index",
        "build",
        "--index",
        idx_s,
        "--rights-from",
        corpus_s,
        "--rights",
        sidecar.to_str().unwrap(),
        corpus_s,
    ]);
    let output = d.path().join("output.txt");
    let scan = |text: String, j: &str| -> serde_json::Value {
        std::fs::write(&output, text).unwrap();
        let args = ["scan", "--index", idx.to_str().unwrap(), "--policy", &eu_preset(), "--jurisdiction", j];
        serde_json::from_str(&ok(&[&args[..], &["--json", output.to_str().unwrap()]].concat())).unwrap()
    };
    let copy = format!("Here it is: {}.", quote(&novel, 100, 180));
    let de = scan(copy.clone(), "DE");
    assert_eq!(de["decision"]["action"], "redact", "{de:#}");
    let span = &de["decision"]["spans"][0];
    assert_eq!(span["rule"], "eea-tdm-opt-out");
    let reason = span["reason"].as_str().unwrap();
    assert!(
        reason.contains("TDM reservation via C2PA manifest of novel.c2pa (cawg.training-mining: notAllowed)"),
        "{reason}"
    );
    let us = scan(copy, "US");
    assert_eq!(us["decision"]["action"], "annotate", "{us:#}");
    assert_eq!(us["decision"]["spans"][0]["rule"], "elsewhere-cite");
    let open = scan(format!("Here it is: {}.", quote(&essay, 100, 180)), "DE");
    assert_eq!(open["decision"]["spans"][0]["rule"], "eea-attribution", "{open:#}");
}

/// A broken manifest store: one error naming the file for the file alone, a
/// warning (and the rest imported) inside a directory.
#[test]
fn a_broken_c2pa_store_is_an_error_or_a_warning() {
    let d = tempfile::tempdir().unwrap();
    let mut store = c2pa_fixture("manifest_data.c2pa");
    store[0..4].copy_from_slice(&u32::MAX.to_be_bytes());
    let bad = d.path().join("bad.c2pa");
    std::fs::write(&bad, &store).unwrap();
    let o = recital(&["rights", "import", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("bad.c2pa: C2PA manifest store: byte 0: jumb box claims 4294967295 bytes"), "{err}");
    let plain = d.path().join("plain.png");
    std::fs::write(&plain, b"\x89PNG\r\n\x1a\n\0\0\0\0IEND\0\0\0\0").unwrap();
    let o = recital(&["rights", "import", plain.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no C2PA manifest store"));
    std::fs::write(d.path().join("bad.txt"), prose(2303, 50)).unwrap();
    let o = recital(&["rights", "import", d.path().to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("bad.c2pa") && err.contains("skipped"), "{err}");
}

#[test]
fn an_unreadable_signal_source_is_one_error() {
    let d = tempfile::tempdir().unwrap();
    let bad = d.path().join("scan.json");
    std::fs::write(&bad, "{\"files\": 1}").unwrap();
    let o = recital(&["rights", "import", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("scan.json") && err.contains("ScanCode"), "{err}");
    let o = recital(&["rights", "import", d.path().join("missing").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
}

const ADMIN: &str = "rights-admin-key-0123456789";
const HOLDER: &str = "rights-holder-key-0123456789";

/// The service on `idx` with an admin and a rightsholder key.
fn serve(dir: &Path, idx: &Path, extra: &[&str]) -> support::Server {
    let keys = dir.join("keys.jsonl");
    let lines = [
        serde_json::json!({"name": "admin", "key": ADMIN, "role": "admin"}),
        serde_json::json!({"name": "press", "key": HOLDER, "role": "rightsholder"}),
    ];
    std::fs::write(&keys, lines.iter().map(|l| l.to_string()).collect::<Vec<_>>().join("\n")).unwrap();
    let db = dir.join("db.sqlite");
    let mut args = vec![
        "--index",
        idx.to_str().unwrap(),
        "--keys",
        keys.to_str().unwrap(),
        "--db",
        db.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    support::Server::start(&args, &[])
}

/// `POST /v1/scan` of `text` for jurisdiction `j`.
fn scan_api(server: &support::Server, text: &str, j: &str) -> serde_json::Value {
    let r = support::client()
        .post(server.url("/v1/scan"))
        .bearer_auth(ADMIN)
        .json(&serde_json::json!({"text": text, "jurisdiction": j}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json().unwrap()
}

/// A TDMRep file posted to the running registry (with `recital rights
/// post`) applies to the sources of its site at once, as a notice does:
/// the EU preset withholds the copy, the reason cites the posted signal,
/// and it survives a restart; withdrawn, it stops applying.
#[test]
fn a_signal_posted_to_the_registry_applies_without_a_rebuild() {
    let d = tempfile::tempdir().unwrap();
    let (novel, essay) = (prose(2201, 400), prose(2202, 400));
    let corpus = d.path().join("corpus.jsonl");
    std::fs::write(
        &corpus,
        format!(
            "{}\n{}\n",
            serde_json::json!({"id": "novel", "url": "https://example.org/books/novel.html", "text": novel}),
            serde_json::json!({"id": "essay", "url": "https://example.org/essays/open.html", "text": essay})
        ),
    )
    .unwrap();
    // The operator's sidecar: licences and each document's URL.
    let sidecar = d.path().join("licences.jsonl");
    std::fs::write(
        &sidecar,
        "{\"doc_id\": \"novel\", \"license\": \"MIT\", \"url\": \"https://example.org/books/novel.html\"}\n\
         {\"doc_id\": \"essay\", \"license\": \"MIT\", \"url\": \"https://example.org/essays/open.html\"}\n",
    )
    .unwrap();
    let idx = d.path().join("idx");
    ok(&[
        "index",
        "build",
        "--index",
        idx.to_str().unwrap(),
        "--rights",
        sidecar.to_str().unwrap(),
        corpus.to_str().unwrap(),
    ]);
    let policy = eu_preset();
    let server = serve(d.path(), &idx, &["--policy", &policy]);
    let copy = format!("Here it is: {}.", quote(&novel, 100, 180));
    let rule = |v: &serde_json::Value| v["decision"]["spans"][0]["rule"].as_str().unwrap_or("").to_string();
    assert_eq!(rule(&scan_api(&server, &copy, "DE")), "eea-attribution", "no reservation yet");

    let tdmrep = d.path().join("tdmrep.json");
    std::fs::write(&tdmrep, r#"[{"location": "/books/*", "tdm-reservation": 1, "tdm-policy": "https://example.org/tdm-licence"}]"#)
        .unwrap();
    let post = Command::new(env!("CARGO_BIN_EXE_recital"))
        .args([
            "rights",
            "post",
            "--server",
            &server.base,
            "--url",
            "https://example.org/.well-known/tdmrep.json",
        ])
        .args(["--observed", "2026-03-01T09:30:00Z", tdmrep.to_str().unwrap()])
        .env("RECITAL_API_KEY", HOLDER)
        .output()
        .unwrap();
    assert!(post.status.success(), "{}", String::from_utf8_lossy(&post.stderr));
    let signal: serde_json::Value = serde_json::from_slice(&post.stdout).unwrap();
    assert_eq!((signal["status"].as_str(), signal["owner_name"].as_str()), (Some("active"), Some("press")));

    let de = scan_api(&server, &copy, "DE");
    assert_eq!(de["decision"]["action"], "redact", "{de:#}");
    assert_eq!(rule(&de), "eea-tdm-opt-out");
    let reason = de["decision"]["spans"][0]["reason"].as_str().unwrap();
    assert!(reason.contains("TDM reservation via tdmrep.json of example.org, 2026-03-01"), "{reason}");
    let source = &de["report"]["spans"][0]["sources"][0];
    assert_eq!(
        (source["tdm_opt_out"].as_bool(), source["tdm_policy"].as_str()),
        (Some(true), Some("https://example.org/tdm-licence"))
    );
    assert_eq!(
        rule(&scan_api(&server, &copy, "US")),
        "elsewhere-cite",
        "cited, not withheld, outside the EU"
    );
    let open = format!("Here it is: {}.", quote(&essay, 100, 180));
    assert_eq!(rule(&scan_api(&server, &open, "DE")), "eea-attribution", "the file covers /books/* only");

    // A bad file is refused, not stored.
    let bad = support::client()
        .post(server.url("/v1/signals"))
        .bearer_auth(HOLDER)
        .json(&serde_json::json!({"url": "https://example.org/.well-known/tdmrep.json", "body": "{not json"}))
        .send()
        .unwrap();
    assert_eq!(bad.status(), 400);
    let api: serde_json::Value =
        support::client().get(server.url("/openapi.json")).send().unwrap().json().unwrap();
    assert!(
        api["paths"]["/v1/signals"]["post"].is_object()
            && api["paths"]["/v1/signals/{id}"]["delete"].is_object()
    );
    let targets =
        api["components"]["schemas"]["NoticeRequest"]["properties"]["target"]["oneOf"].as_array().unwrap();
    assert!(
        targets.iter().any(|t| t["properties"]["type"]["const"] == "iscc"),
        "notices by ISCC are documented"
    );

    // Kept across a restart; withdrawn, it stops at once.
    assert_eq!(server.terminate().code(), Some(0));
    let server = serve(d.path(), &idx, &["--policy", &policy]);
    assert_eq!(rule(&scan_api(&server, &copy, "DE")), "eea-tdm-opt-out", "in force after a restart");
    let id = signal["id"].as_str().unwrap();
    let r = support::client()
        .delete(server.url(&format!("/v1/signals/{id}")))
        .bearer_auth(HOLDER)
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(rule(&scan_api(&server, &copy, "DE")), "eea-attribution", "withdrawn");
}

/// A notice names a work by its ISCC Text-Code and covers its near
/// copies: a notice filed with the code of an edited copy of a registered
/// work blocks copies of that work; a code far from it blocks nothing.
#[test]
fn a_notice_by_iscc_covers_the_work_and_its_near_copies() {
    let d = tempfile::tempdir().unwrap();
    let idx = support::build_index(d.path());
    let server = serve(d.path(), &idx, &[]);
    let work = prose(2301, 1200);
    let r = support::client()
        .post(server.url("/v1/works"))
        .bearer_auth(HOLDER)
        .json(&serde_json::json!({"title": "Iscc Novel", "text": work, "license": "MIT"}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 201);
    let registered: serde_json::Value = r.json().unwrap();
    let code = recital_rights::TextCode::of_text(&work).unwrap();
    assert_eq!(registered["iscc"], code.as_str(), "the work's code is computed at registration");

    let copy = format!("Quoted: {}", quote(&work, 300, 400));
    let first = scan_api(&server, &copy, "DE");
    assert_eq!(first["decision"]["action"], "annotate", "{first:#}");
    assert_eq!(first["report"]["spans"][0]["sources"][0]["iscc"], code.as_str(), "sources carry the ISCC");

    // The code of a lightly edited copy (what a rightsholder holding another
    // edition computes): the fewest edits, one word in 250 and up, that move it.
    let edition = [250, 120, 60, 30]
        .into_iter()
        .map(|step| {
            let mut words: Vec<&str> = work.split_whitespace().collect();
            for i in (0..words.len()).step_by(step) {
                words[i] = "edited";
            }
            recital_rights::TextCode::of_text(&words.join(" ")).unwrap()
        })
        .find(|c| *c != code)
        .expect("some edit moves the code");
    assert!(edition.is_near(&code), "{edition} is {} bits from {code}", edition.distance(&code));
    let notice = |iscc: &str| -> serde_json::Value {
        let r = support::client()
            .post(server.url("/v1/notices"))
            .bearer_auth(HOLDER)
            .json(&serde_json::json!({"target": {"type": "iscc", "iscc": iscc}, "reason": "our edition"}))
            .send()
            .unwrap();
        assert_eq!(r.status(), 201);
        r.json().unwrap()
    };
    let far = recital_rights::TextCode::of_text(&prose(2399, 1200)).unwrap();
    let n_far = notice(&far.as_str().to_ascii_lowercase());
    assert_eq!(n_far["target"]["iscc"], far.as_str(), "stored in its canonical form");
    assert_eq!(scan_api(&server, &copy, "DE")["decision"]["action"], "annotate", "a far code covers nothing");
    let n = notice(edition.as_str());
    let blocked = scan_api(&server, &copy, "DE");
    assert_eq!(blocked["decision"]["action"], "block", "{blocked:#}");
    assert_eq!(blocked["decision"]["spans"][0]["rule"], "notified-works");
    let r = support::client()
        .post(server.url("/v1/notices"))
        .bearer_auth(HOLDER)
        .json(&serde_json::json!({"target": {"type": "iscc", "iscc": "ISCC:not-a-code"}, "reason": "x"}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 400, "an ISCC that is not one is refused");
    let id = n["id"].as_str().unwrap();
    let r = support::client()
        .delete(server.url(&format!("/v1/notices/{id}")))
        .bearer_auth(HOLDER)
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(scan_api(&server, &copy, "DE")["decision"]["action"], "annotate", "withdrawn");
}
