//! `recital serve --db postgres://…`: two real instances on one real
//! PostgreSQL server (started by the test, see `support/pg.rs`) share works,
//! notices, keys and the audit log, and what one acknowledges is in force on
//! the other within 5 s; PostgreSQL going away costs the registry (503) but
//! not the scans.

mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};
use support::pg::TestPg;
use support::probe::Prober;
use support::{build_index, client, prose, quote, Server};

const ADMIN: &str = "rk_admin_0123456789abcdef";
const CLIENT: &str = "rk_client_0123456789abcdef";
const PRESS: &str = "rk_press_0123456789abcdef";

/// How long a change made through one instance may take to apply on another.
const CROSS_INSTANCE_LIMIT: Duration = Duration::from_secs(5);

fn keys_file(dir: &Path) -> PathBuf {
    let p = dir.join("keys.jsonl");
    std::fs::write(
        &p,
        format!(
            "{}\n{}\n{}\n",
            json!({"name": "admin", "key": ADMIN, "role": "admin"}),
            json!({"name": "client", "key": CLIENT, "role": "client"}),
            json!({"name": "press", "key": PRESS, "role": "rightsholder"}),
        ),
    )
    .unwrap();
    p
}

/// A copy of the index directory: each instance keeps its own delta shards.
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

fn call(s: &Server, method: Method, path: &str, key: &str, body: Option<Value>) -> (u16, Value) {
    let mut req = client().request(method, s.url(path)).bearer_auth(key);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().unwrap();
    let status = r.status().as_u16();
    (status, r.json().unwrap_or(Value::Null))
}

fn filter_action(s: &Server, text: &str) -> String {
    let (status, v) = call(s, Method::POST, "/v1/filter", CLIENT, Some(json!({"text": text})));
    assert_eq!(status, 200, "{v}");
    v["action"].as_str().unwrap_or_default().to_string()
}

/// Polls `s` until a filter of `text` gives `action`; the time it took.
fn until_action(s: &Server, text: &str, action: &str, what: &str) -> Duration {
    let t0 = Instant::now();
    loop {
        if filter_action(s, text) == action {
            return t0.elapsed();
        }
        assert!(
            t0.elapsed() < CROSS_INSTANCE_LIMIT,
            "{what}: not {action} on the other instance after {CROSS_INSTANCE_LIMIT:?}; its log:\n{}",
            s.stderr.lock().unwrap()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

struct Pair {
    _dir: tempfile::TempDir,
    pg: TestPg,
    a: Server,
    b: Server,
}

fn two_instances(extra: &[&str]) -> Pair {
    let dir = tempfile::tempdir().unwrap();
    let idx = build_index(dir.path());
    let keys = keys_file(dir.path());
    let pg = TestPg::start();
    let url = pg.create_db("recital");
    let start = |name: &str| {
        let own = dir.path().join(name);
        copy_dir(&idx, &own);
        let mut args = vec!["--index", own.to_str().unwrap(), "--db", &url, "--keys", keys.to_str().unwrap()];
        args.extend_from_slice(extra);
        Server::start(&args, &[("RUST_LOG", "recital_serve=info")])
    };
    let a = start("idx-a");
    let b = start("idx-b");
    Pair { _dir: dir, pg, a, b }
}

#[test]
fn two_instances_on_one_postgres_share_the_registry_within_5_s() {
    let Pair { _dir, pg: _pg, a, b } = two_instances(&[]);
    // A work registered on A matches on B, from B's own delta shard.
    let work_text = prose(4242, 300);
    let quoted = quote(&work_text, 20, 100);
    assert_eq!(filter_action(&b, &quoted), "allow", "an unregistered text matches nothing");
    let (status, w) = call(
        &a,
        Method::POST,
        "/v1/works",
        PRESS,
        Some(json!({"title": "Shared Work", "text": work_text, "license": "MIT"})),
    );
    assert_eq!(status, 201, "{w}");
    let work_ms = until_action(&b, &quoted, "annotate", "a work registered on A");
    let wid = w["id"].as_str().unwrap().to_string();
    let (_, listed) = call(&b, Method::GET, &format!("/v1/works/{wid}"), PRESS, None);
    assert_eq!(listed["status"], "indexed", "B reads A's work from the shared store: {listed}");

    // A notice filed on A blocks on B.
    let manual = quote(&prose(3, 3000), 300, 380); // manual.txt, MIT: annotated until notified
    assert_eq!(filter_action(&b, &manual), "annotate");
    let t0 = Instant::now();
    let (status, n) = call(
        &a,
        Method::POST,
        "/v1/notices",
        PRESS,
        Some(json!({"target": {"type": "document", "doc_id": "manual.txt"}, "reason": "takedown"})),
    );
    let post_ms = t0.elapsed();
    assert_eq!((status, n["status"].as_str()), (201, Some("effective")), "{n}");
    let notice_ms = until_action(&b, &manual, "block", "a notice filed on A");

    // Withdrawals on B take effect on A.
    let nid = n["id"].as_str().unwrap();
    let (status, _) = call(&b, Method::DELETE, &format!("/v1/notices/{nid}"), PRESS, None);
    assert_eq!(status, 200);
    let lift_ms = until_action(&a, &manual, "annotate", "a notice withdrawn on B");
    let (status, _) = call(&b, Method::DELETE, &format!("/v1/works/{wid}"), PRESS, None);
    assert_eq!(status, 200);
    let withdraw_ms = until_action(&a, &quoted, "allow", "a work withdrawn on B");

    // One audit log: B's admin sees the decisions made on A.
    let t0 = Instant::now();
    loop {
        let (_, log) = call(&b, Method::GET, "/v1/audit?action=block", ADMIN, None);
        if log["records"].as_array().is_some_and(|r| !r.is_empty()) {
            break;
        }
        assert!(
            t0.elapsed() < CROSS_INSTANCE_LIMIT,
            "A's block decisions never reached the shared audit log"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    println!(
        "cross-instance effect on PostgreSQL: work {} ms, notice {} ms (POST on A took {} ms), \
         notice withdrawal {} ms, work withdrawal {} ms",
        work_ms.as_millis(),
        notice_ms.as_millis(),
        post_ms.as_millis(),
        lift_ms.as_millis(),
        withdraw_ms.as_millis()
    );
}

#[test]
fn postgres_going_away_gives_503_on_the_registry_and_scans_go_on() {
    let Pair { _dir, pg, a, b } = two_instances(&[]);
    drop(b);
    let manual = quote(&prose(3, 3000), 300, 380);
    assert_eq!(filter_action(&a, &manual), "annotate");
    let (status, _) = call(&a, Method::GET, "/v1/notices", PRESS, None);
    assert_eq!(status, 200, "the rightsholder's key is known before the outage");

    pg.stop();
    let notice = json!({"target": {"type": "document", "doc_id": "manual.txt"}, "reason": "takedown"});
    let t0 = Instant::now();
    let (status, v) = call(&a, Method::POST, "/v1/notices", PRESS, Some(notice.clone()));
    let took = t0.elapsed();
    assert_eq!(status, 503, "{v}");
    let msg = v["error"]["message"].as_str().unwrap_or_default();
    assert!(msg.contains("database is unavailable") && msg.contains("retry"), "{v}");
    assert!(took < Duration::from_secs(10), "the refusal took {took:?}");
    for _ in 0..5 {
        assert_eq!(filter_action(&a, &manual), "annotate", "scans go on without the database");
    }
    let (status, v) = call(&a, Method::GET, "/readyz", ADMIN, None);
    assert_eq!(status, 200, "{v}");

    pg.start_server();
    // The decisions made during the outage reach the audit log once it is
    // back: 1 annotate before, 5 during.
    let t0 = Instant::now();
    loop {
        let (status, log) = call(&a, Method::GET, "/v1/audit?action=annotate", ADMIN, None);
        let n = log["records"].as_array().map_or(0, Vec::len);
        if status == 200 && n == 6 {
            break;
        }
        assert!(n <= 6 && t0.elapsed() < Duration::from_secs(15), "{n} annotate records (want 6): {log}");
        std::thread::sleep(Duration::from_millis(100));
    }
    let t0 = Instant::now();
    let (status, n) = loop {
        let (status, n) = call(&a, Method::POST, "/v1/notices", PRESS, Some(notice.clone()));
        if status != 503 || t0.elapsed() > Duration::from_secs(10) {
            break (status, n);
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(status, 201, "the store reconnects once PostgreSQL is back: {n}");
    assert_eq!(filter_action(&a, &manual), "block");
}

/// The reveal budget is one count in the shared database: what a key was
/// shown through one instance is spent on the other, and alternating between
/// them (as a load balancer does) gets no more than one budget.
#[test]
fn two_instances_share_one_reveal_budget() {
    const BUDGET: usize = 3000;
    let Pair { _dir, pg: _pg, a, b } = two_instances(&["--reveal-budget", "3000"]);
    let mut prober = Prober::new();
    let on_a = prober.run(&a.base, BUDGET / 2, Some(CLIENT));
    assert!(on_a.refused.is_none() && on_a.shown >= BUDGET / 3, "{on_a:?}");
    let on_b = prober.run(&b.base, usize::MAX, Some(CLIENT));
    println!("shown through A {} bytes, then through B {} (budget {BUDGET})", on_a.shown, on_b.shown);
    assert!(on_b.refused.is_some(), "B ran out of budget: {on_b:?}");
    assert!(
        on_b.shown > 0 && on_b.shown <= BUDGET - on_a.shown,
        "B shows only what A left: {on_a:?} {on_b:?}"
    );
    let again = prober.run(&a.base, usize::MAX, Some(CLIENT));
    assert!(again.refused.is_some() && again.scans == 0, "A knows the budget is spent: {again:?}");
    // Another key has its own budget.
    let (status, v) =
        call(&b, Method::POST, "/v1/scan", ADMIN, Some(json!({"text": quote(&prose(1, 3000), 0, 80)})));
    assert_eq!(status, 200, "{v}");
}

#[test]
fn an_unreachable_postgres_at_startup_is_a_clear_error_without_the_password() {
    let dir = tempfile::tempdir().unwrap();
    let idx = build_index(dir.path());
    let url = "postgres://recital:s3cret-pw@127.0.0.1:1/registry";
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_recital"))
        .args(["serve", "--index", idx.to_str().unwrap(), "--db", url, "--addr", "127.0.0.1:0"])
        .env_remove("RECITAL_API_KEY")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(
        err.contains("opening the database postgres://recital:***@127.0.0.1:1/registry")
            && err.contains("database is unavailable"),
        "{err}"
    );
    assert!(!err.contains("s3cret-pw"), "the password is printed: {err}");
}
