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
/// A rightsholder with more works than one list page (or the old form's
/// list of 1,000) holds.
const CATALOGUE: &str = "console-catalogue-key-0123456789";
const CATALOGUE_WORKS: usize = 1_050;

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
        json!({"name": "console-catalogue", "key": CATALOGUE, "role": "rightsholder"}),
    ];
    std::fs::write(&p, lines.iter().map(Value::to_string).collect::<Vec<_>>().join("\n")).unwrap();
    p
}

/// Registers `CATALOGUE_WORKS` works for the catalogue key straight into
/// the store, in seconds. They are marked indexed without being added to
/// the index: the notice form only needs them in the registry, and the
/// server would otherwise recover them one delta shard at a time as
/// interrupted registrations. Their ids, in order.
fn register_catalogue(db: &Path) -> Vec<String> {
    use recital_serve::store::{now_ms, KeySpec, NewWork, Role, Secret, Store};
    let store = Store::open(db).unwrap();
    let who = store
        .upsert_key(&KeySpec {
            name: "console-catalogue".into(),
            secret: Secret::Plain(CATALOGUE.into()),
            role: Role::Rightsholder,
            default_jurisdiction: None,
            rate_per_minute: None,
        })
        .unwrap();
    let ids = (0..CATALOGUE_WORKS)
        .map(|i| {
            let w: NewWork = serde_json::from_value(json!({
                "title": format!("Catalogue work {i:04}"),
                "text": format!("Entry {i} of the catalogue, a short text that only this test registers."),
                "license": "LicenseRef-Proprietary",
            }))
            .unwrap();
            let id = store.insert_work(&who, &w).unwrap().id;
            store.mark_work_indexed(&id, now_ms()).unwrap();
            id
        })
        .collect();
    store.close().unwrap();
    ids
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
    let catalogue = register_catalogue(&db);
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
        "catalogue": {
            "key": CATALOGUE,
            "count": CATALOGUE_WORKS,
            "ids": {"first": catalogue[0], "last": catalogue[CATALOGUE_WORKS - 1]},
        },
        "doc_query": "HAMLET",
        "doc_id": "shakespeare/hamlet.txt",
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
        "notice on an indexed document",
        "notice targets among more than 1,000 works",
        "rights signals",
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

/// A signed-in browser without a browser: the cookies it holds, and the
/// CSRF token of the last page it read.
struct Browser {
    http: reqwest::blocking::Client,
    session: String,
}

/// The value of a `Set-Cookie` named `name`.
fn set_cookie(resp: &reqwest::blocking::Response, name: &str) -> Option<String> {
    resp.headers().get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()).find_map(|c| {
        let (pair, _) = c.split_once(';').unwrap_or((c, ""));
        let (n, v) = pair.split_once('=')?;
        (n == name).then(|| v.to_string())
    })
}

/// An `application/x-www-form-urlencoded` body.
fn form(pairs: &[(&str, &str)]) -> String {
    let enc = |v: &str| -> String {
        v.bytes()
            .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
            .collect()
    };
    pairs.iter().map(|(k, v)| format!("{}={}", enc(k), enc(v))).collect::<Vec<_>>().join("&")
}

/// The page's first form token.
fn csrf_of(page: &str) -> String {
    let at = page.find("name=\"csrf\" value=\"").expect("a form with a CSRF token") + 19;
    page[at..].split('"').next().unwrap().to_string()
}

impl Browser {
    fn sign_in(base: &str, key: &str) -> Browser {
        recital_serve::tls::install_crypto_provider();
        let http =
            reqwest::blocking::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let r = http.get(format!("{base}/console/login")).send().unwrap();
        let login = set_cookie(&r, "recital_console_login").unwrap();
        let token = csrf_of(&r.text().unwrap());
        let r = http
            .post(format!("{base}/console/login"))
            .header("cookie", format!("recital_console_login={login}"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(&[("key", key), ("csrf", &token), ("next", "/console/")]))
            .send()
            .unwrap();
        assert_eq!(r.status(), 303, "signed in");
        let session = set_cookie(&r, "recital_console").expect("a session cookie");
        Browser { http, session }
    }

    fn get(&self, url: &str) -> reqwest::blocking::Response {
        self.http.get(url).header("cookie", format!("recital_console={}", self.session)).send().unwrap()
    }

    /// Scans `text` through the form; the result's URL.
    fn scan(&self, base: &str, text: &str) -> String {
        let home = self.get(&format!("{base}/console/"));
        assert_eq!(home.status(), 200);
        let csrf = csrf_of(&home.text().unwrap());
        let boundary = "recital-test-boundary";
        let body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n\
             --{boundary}\r\nContent-Disposition: form-data; name=\"text\"\r\n\r\n{text}\r\n--{boundary}--\r\n"
        );
        let r = self
            .http
            .post(format!("{base}/console/scan"))
            .header("cookie", format!("recital_console={}", self.session))
            .header("content-type", format!("multipart/form-data; boundary={boundary}"))
            .body(body)
            .send()
            .unwrap();
        assert_eq!(r.status(), 303, "{}", r.text().unwrap_or_default());
        format!("{base}{}", r.headers()["location"].to_str().unwrap())
    }
}

/// Sessions and results live in the store: after a restart of the real
/// server on the same database the reviewer is still signed in and the
/// result is still at its URL; the database holds no session id; signing
/// out ends the session for good.
#[test]
fn console_sessions_and_results_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let idx = support::build_index(dir.path());
    let keys = keys_file(dir.path());
    let db = dir.path().join("db.sqlite");
    let args =
        ["--index", idx.to_str().unwrap(), "--keys", keys.to_str().unwrap(), "--db", db.to_str().unwrap()];
    let server = Server::start(&args, &[]);
    let reviewer = Browser::sign_in(&server.base, CLIENT);
    let novel = prose(1, 3000);
    let result = reviewer.scan(&server.base, &quote(&novel, 200, 260));
    let page = reviewer.get(&result).text().unwrap();
    assert!(page.contains("LicenseRef-Proprietary"), "the novel is cited");
    assert_eq!(server.terminate().code(), Some(0));

    let mut stored = std::fs::read(&db).unwrap();
    stored.extend(std::fs::read(db.with_extension("sqlite-wal")).unwrap_or_default());
    assert!(
        !stored.windows(reviewer.session.len()).any(|w| w == reviewer.session.as_bytes()),
        "only a digest"
    );

    let server = Server::start(&args, &[]);
    let base = result.split("/console/").next().unwrap().to_string();
    let moved = |u: &str| u.replacen(&base, &server.base, 1);
    let home = reviewer.get(&server.url("/console/"));
    assert_eq!(home.status(), 200, "still signed in after the restart");
    let again = reviewer.get(&moved(&result));
    assert_eq!(again.status(), 200);
    let again = again.text().unwrap();
    let id = result.rsplit('/').next().unwrap();
    assert!(again.contains(id) && again.contains("LicenseRef-Proprietary"), "the same result");
    let json: Value = reviewer.get(&format!("{}/json", moved(&result))).json().unwrap();
    assert_eq!(json["request_id"], id);
    assert_eq!(json["decision"]["spans"][0]["license"], "LicenseRef-Proprietary");
    // Another key's session does not see it; an admin's does.
    let other = Browser::sign_in(&server.base, RIGHTS);
    assert_eq!(other.get(&moved(&result)).status(), 404);
    let admin = Browser::sign_in(&server.base, ADMIN);
    assert_eq!(admin.get(&moved(&result)).status(), 200);
    let audit = admin.get(&server.url("/console/audit")).text().unwrap();
    assert!(audit.contains(&format!("href=\"/console/scans/{id}\"")), "the audit log links the kept result");

    // Signing out ends the session, on this instance and any later one.
    let csrf = csrf_of(&home.text().unwrap());
    let r = reviewer
        .http
        .post(server.url("/console/logout"))
        .header("cookie", format!("recital_console={}", reviewer.session))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[("csrf", &csrf)]))
        .send()
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(reviewer.get(&server.url("/console/")).status(), 303, "signed out");
}
