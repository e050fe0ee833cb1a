//! The web console in a real browser: the real `recital serve` on the
//! bundled sample corpus, driven by Debian's Chromium through playwright-core
//! (`tests/browser/console.mjs`), with axe-core for accessibility. Screenshots
//! of every page go to `$CARGO_TARGET_TMPDIR/console-screenshots/`.
//!
//! Needs `scripts/install-test-browser.sh` (run by `scripts/test.sh`, or here
//! when `RECITAL_TEST_NODE_MODULES` is not set).

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{json, Value};
use support::{client, prose, quote, Server};

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/browser/console.mjs");
const SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/sample");

const ADMIN: &str = "console-admin-key-0123456789";
const RIGHTS: &str = "console-rights-key-0123456789";
const CLIENT: &str = "console-client-key-0123456789";

fn node_modules() -> String {
    std::env::var("RECITAL_TEST_NODE_MODULES").ok().filter(|p| !p.trim().is_empty()).unwrap_or_else(|| {
        let o = Command::new("bash")
            .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/install-test-browser.sh"))
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(o.status.success(), "install-test-browser.sh: {}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stdout).lines().last().unwrap_or("").trim().to_string()
    })
}

fn recital(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_recital")).args(args).output().unwrap()
}

/// The sample corpus (prose and code, with its rights), as `recital demo` indexes it.
fn sample_index(dir: &Path) -> PathBuf {
    let idx = dir.join("idx");
    let s = |p: &str| format!("{SAMPLE}/{p}");
    let o = recital(&[
        "index",
        "build",
        "--index",
        idx.to_str().unwrap(),
        "--rights",
        &s("rights.jsonl"),
        &s("prose"),
        &s("code"),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    idx
}

fn keys_file(dir: &Path) -> PathBuf {
    let p = dir.join("keys.jsonl");
    let lines = [
        json!({"name": "console-admin", "key": ADMIN, "role": "admin"}),
        json!({"name": "console-rights", "key": RIGHTS, "role": "rightsholder"}),
        json!({"name": "console-client", "key": CLIENT, "role": "client"}),
    ];
    std::fs::write(&p, lines.iter().map(Value::to_string).collect::<Vec<_>>().join("\n")).unwrap();
    p
}

fn run_browser(cfg: &Value) -> Value {
    let o = Command::new("node")
        .arg(SCRIPT)
        .arg(cfg.to_string())
        .env("RECITAL_TEST_NODE_MODULES", node_modules())
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run node: {e}"));
    assert!(
        o.status.success(),
        "browser flows failed:\n{}\n{}",
        String::from_utf8_lossy(&o.stderr),
        String::from_utf8_lossy(&o.stdout)
    );
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("summary: {e}: {}", String::from_utf8_lossy(&o.stdout)))
}

#[test]
fn the_console_serves_reviewers_rightsholders_and_admins_in_a_browser() {
    let dir = tempfile::tempdir().unwrap();
    let idx = sample_index(dir.path());
    let demo = std::fs::read_to_string(format!("{SAMPLE}/outputs/demo.txt")).unwrap();
    let html_file = dir.path().join("demo.html");
    let o = recital(&[
        "scan",
        "--index",
        idx.to_str().unwrap(),
        "--html",
        html_file.to_str().unwrap(),
        &format!("{SAMPLE}/outputs/demo.txt"),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let html = std::fs::read_to_string(&html_file).unwrap();
    assert!(!html.contains("src=\"") && !html.contains("<link"), "the --html file loads nothing");
    let reports = dir.path().join("reports");
    std::fs::create_dir_all(reports.join("run1")).unwrap();
    std::fs::write(reports.join("run1/report.html"), "<h1>Audit report for the console test</h1>").unwrap();

    let keys = keys_file(dir.path());
    let db = dir.path().join("db.sqlite");
    let server = Server::start(
        &[
            "--index",
            idx.to_str().unwrap(),
            "--keys",
            keys.to_str().unwrap(),
            "--db",
            db.to_str().unwrap(),
            "--audit-reports",
            reports.to_str().unwrap(),
        ],
        &[],
    );
    let work = prose(71, 600);
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("console-screenshots");
    let summary = run_browser(&json!({
        "base": server.base,
        "keys": {"admin": ADMIN, "rightsholder": RIGHTS, "client": CLIENT},
        "demo": demo,
        "work": work,
        "quote": quote(&work, 100, 190),
        "shots": shots,
        "html_file": html_file,
        "report_run": "run1",
    }));

    let flows: Vec<&str> = summary["flows"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    let expected = [
        "sign-in",
        "scan, span -> source -> back, export",
        "side-by-side",
        "keyboard",
        "csrf",
        "audit refused to a client",
        "registry: register, cite, notice, block, withdraw",
        "audit log for an admin, reports",
        "scan --html",
    ];
    assert_eq!(flows, expected);
    assert_eq!(summary["decisions"]["notified"], "block");
    assert_eq!(summary["decisions"]["registered"], "annotate");
    for shot in summary["screenshots"].as_array().unwrap() {
        let p = shot.as_str().unwrap();
        let bytes = std::fs::read(p).unwrap_or_else(|e| panic!("{p}: {e}"));
        assert!(bytes.starts_with(b"\x89PNG"), "{p} is a PNG");
    }
    // The browser's decisions are the service's: the audit log has them.
    let audit: Value =
        client().get(server.url("/v1/audit?action=block")).bearer_auth(ADMIN).send().unwrap().json().unwrap();
    let records = audit["records"].as_array().unwrap();
    assert!(
        records.iter().any(|r| r["endpoint"] == "/console/scan" && r["key_name"] == "console-rights"),
        "{audit}"
    );
    eprintln!("console: screenshots in {}; axe: {}", shots.display(), summary["axe"]);
}

/// Pages are refused without a session, and the API's JSON errors are not
/// what a browser gets: it is sent to the sign-in page.
#[test]
fn console_pages_need_a_session_and_carry_a_strict_policy() {
    let dir = tempfile::tempdir().unwrap();
    let idx = support::build_index(dir.path());
    let keys = keys_file(dir.path());
    let db = dir.path().join("db.sqlite");
    let server = Server::start(
        &["--index", idx.to_str().unwrap(), "--keys", keys.to_str().unwrap(), "--db", db.to_str().unwrap()],
        &[],
    );
    recital_serve::tls::install_crypto_provider();
    let http =
        reqwest::blocking::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    for path in ["/console/", "/console/audit", "/console/works", "/console/scans/req-0000000000000000"] {
        let r = http.get(server.url(path)).send().unwrap();
        assert_eq!(r.status(), 303, "{path}");
        let to = r.headers()["location"].to_str().unwrap();
        assert!(to.starts_with("/console/login?next=/console/"), "{path} -> {to}");
    }
    let r = http.get(server.url("/console/login")).send().unwrap();
    assert_eq!(r.status(), 200);
    let csp = r.headers()["content-security-policy"].to_str().unwrap().to_string();
    assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"), "{csp}");
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "{cookie}");
    let page = r.text().unwrap();
    assert!(!page.contains("http://") && !page.contains("https://"), "no external asset: {page}");
    let js = http.get(server.url("/console/assets/htmx.min.js")).send().unwrap();
    assert_eq!(js.status(), 200);
    assert!(js.text().unwrap().contains("htmx"));
    // A session id nobody was given is no session.
    let r = http.get(server.url("/console/")).header("cookie", "recital_console=00ff").send().unwrap();
    assert_eq!(r.status(), 303);
}
