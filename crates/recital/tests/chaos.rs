//! Chaos: the real binary killed with SIGKILL in the middle of every index
//! writer and of registry calls, disks that fill up under a build, an add
//! and a notice, a corrupted shard at start-up, and the registry's database
//! locked by another process under a running server. In each case the error
//! is clear, nothing acknowledged is lost, the index still opens (in its old
//! or its new state, never a mix), and the server keeps serving scans or
//! refuses to start naming the file.
//!
//! A full disk is a small tmpfs (the tests run as root, as CI does); where
//! `mount` is not allowed the index cases fall back to `ulimit -f`
//! (RLIMIT_FSIZE: EFBIG instead of ENOSPC) and the notice case is skipped,
//! each saying so on stderr.

mod support;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::{build_index, client, prose, quote, Server};

fn recital() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_recital"));
    c.env_remove("RECITAL_FAILPOINT").env("NO_COLOR", "1");
    c
}

fn run(args: &[&str]) -> Output {
    recital().args(args).output().expect("binary runs")
}

fn ok(args: &[&str]) -> String {
    let o = run(args);
    assert!(o.status.success(), "recital {args:?} failed: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).unwrap()
}

fn count(idx: &Path, phrase: &str) -> u64 {
    let v: Value = serde_json::from_str(&ok(&["count", "--index", s(idx), "--json", phrase])).unwrap();
    v["count"].as_u64().unwrap()
}

fn stats(idx: &Path) -> Value {
    serde_json::from_str(&ok(&["index", "stats", "--index", s(idx), "--json"])).unwrap()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// `docs` documents of `words` words each (unique text per seed) in `dir`.
fn corpus(dir: &Path, seed: u64, docs: u64, words: usize) -> Vec<(String, String)> {
    std::fs::create_dir_all(dir).unwrap();
    (0..docs)
        .map(|i| {
            let name = format!("doc{}.txt", seed + i);
            let text = prose(seed + i, words);
            std::fs::write(dir.join(&name), &text).unwrap();
            (name, text)
        })
        .collect()
}

/// A phrase of a document that occurs nowhere else (12 words from its middle).
fn phrase(text: &str) -> String {
    quote(text, 200, 212)
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to.parent().unwrap()).unwrap();
    let st = Command::new("cp").arg("-a").arg(from).arg(to).status().unwrap();
    assert!(st.success());
}

/// What a reader of the index may see after a writer was killed: it opens,
/// every checksum holds, and no temporary directory is visible to it.
fn assert_consistent(idx: &Path, what: &str) {
    let o = run(&["index", "verify", "--index", s(idx)]);
    assert!(o.status.success(), "{what}: index verify failed: {}", String::from_utf8_lossy(&o.stderr));
}

/// Runs `args` to completion once to time it, then, on fresh copies of
/// `base`, kills it with SIGKILL at `rounds` points spread over that time
/// and hands each copy to `check` (with the kill's delay), which says
/// whether the writer had committed. One that had not is run again: it
/// succeeds and sweeps what the dead one left.
fn kill_during(
    base: &Path,
    work: &Path,
    args: &[&str],
    rounds: u32,
    mut check: impl FnMut(&Path, Duration) -> bool,
) {
    let with = |idx: &Path| -> Vec<String> {
        args.iter().map(|a| if *a == "IDX" { s(idx).to_string() } else { a.to_string() }).collect()
    };
    let trial = work.join("trial");
    copy_dir(base, &trial);
    let t0 = Instant::now();
    ok(&with(&trial).iter().map(String::as_str).collect::<Vec<_>>());
    let full = t0.elapsed();
    for k in 1..=rounds {
        let idx = work.join(format!("round{k}"));
        copy_dir(base, &idx);
        let delay = full * k / (rounds + 1);
        let mut child =
            recital().args(with(&idx)).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
        std::thread::sleep(delay);
        let _ = child.kill();
        let _ = child.wait();
        let committed = check(&idx, delay);
        eprintln!(
            "{}: killed at {delay:?} of {full:?}: {}",
            args[1],
            if committed { "new state" } else { "old state" }
        );
        if committed {
            continue;
        }
        ok(&with(&idx).iter().map(String::as_str).collect::<Vec<_>>());
        let junk: Vec<String> = std::fs::read_dir(&idx)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(".tmp"))
            .collect();
        assert!(junk.is_empty(), "after a kill at {delay:?} and a rerun: {junk:?}");
    }
}

#[test]
fn kill_9_during_index_add_remove_adopt_and_compact_leaves_the_old_or_the_new_state() {
    let t = tempfile::tempdir().unwrap();
    let base_docs = corpus(&t.path().join("base"), 1, 6, 20_000);
    let new_docs = corpus(&t.path().join("new"), 100, 4, 20_000);
    let base = t.path().join("idx");
    ok(&["index", "build", "--index", s(&base), s(&t.path().join("base"))]);
    let old_docs = stats(&base)["docs"].as_u64().unwrap();

    // add: the new documents are all searchable or none is.
    let new_dir = t.path().join("new");
    kill_during(
        &base,
        &t.path().join("add"),
        &["index", "add", "--index", "IDX", s(&new_dir)],
        10,
        |idx, d| {
            assert_consistent(idx, "add");
            let got: Vec<u64> = new_docs.iter().map(|(_, text)| count(idx, &phrase(text))).collect();
            assert!(got.iter().all(|&c| c == got[0]) && got[0] <= 1, "add killed at {d:?}: partial {got:?}");
            let docs = stats(idx)["docs"].as_u64().unwrap();
            assert_eq!(docs, old_docs + got[0] * new_docs.len() as u64, "add killed at {d:?}");
            assert_eq!(count(idx, &phrase(&base_docs[0].1)), 1);
            got[0] == 1
        },
    );

    // remove: several documents in one call leave together or not at all.
    let gone: Vec<&str> = base_docs[..3].iter().map(|(n, _)| n.as_str()).collect();
    let mut args = vec!["index", "remove", "--index", "IDX"];
    args.extend(&gone);
    kill_during(&base, &t.path().join("remove"), &args, 10, |idx, d| {
        assert_consistent(idx, "remove");
        let got: Vec<u64> = base_docs[..3].iter().map(|(_, text)| count(idx, &phrase(text))).collect();
        assert!(got.iter().all(|&c| c == got[0]), "remove killed at {d:?}: partial {got:?}");
        assert_eq!(count(idx, &phrase(&base_docs[4].1)), 1);
        got[0] == 0
    });

    // adopt: a partition built apart (hard-linked in, the same file system) is
    // all searchable or not at all, and the partition itself is never damaged.
    let part = t.path().join("part");
    ok(&["index", "build", "--index", s(&part), s(&new_dir)]);
    kill_during(
        &base,
        &t.path().join("adopt"),
        &["index", "adopt", "--index", "IDX", s(&part)],
        10,
        |idx, d| {
            assert_consistent(idx, "adopt");
            assert_consistent(&part, "the adopted partition");
            let got: Vec<u64> = new_docs.iter().map(|(_, text)| count(idx, &phrase(text))).collect();
            assert!(
                got.iter().all(|&c| c == got[0]) && got[0] <= 1,
                "adopt killed at {d:?}: partial {got:?}"
            );
            assert_eq!(count(idx, &phrase(&base_docs[0].1)), 1);
            got[0] == 1
        },
    );

    // compact: a base shard, a delta and tombstones merge into one shard, or stay.
    let before = t.path().join("before-compact");
    copy_dir(&base, &before);
    ok(&["index", "add", "--index", s(&before), s(&new_dir)]);
    ok(&["index", "remove", "--index", s(&before), &base_docs[0].0]);
    let shards = |idx: &Path| stats(idx)["shards"].as_array().unwrap().len();
    assert_eq!(shards(&before), 2);
    kill_during(&before, &t.path().join("compact"), &["index", "compact", "--index", "IDX"], 10, |idx, d| {
        assert_consistent(idx, "compact");
        assert!([1, 2].contains(&shards(idx)), "compact killed at {d:?}");
        assert_eq!(
            count(idx, &phrase(&base_docs[0].1)),
            0,
            "compact killed at {d:?}: a removed document is back"
        );
        for (_, text) in base_docs[1..].iter().chain(&new_docs) {
            assert_eq!(count(idx, &phrase(text)), 1, "compact killed at {d:?}");
        }
        shards(idx) == 1
    });
}

fn post(s: &Server, path: &str, body: &Value) -> reqwest::Result<reqwest::blocking::Response> {
    client().post(s.url(path)).json(body).send()
}

fn get(s: &Server, path: &str) -> Value {
    client().get(s.url(path)).send().unwrap().json().unwrap()
}

/// The decision `/v1/filter` makes on `text`, with its first citation's document.
fn filter(s: &Server, text: &str) -> (String, Option<String>) {
    let v: Value = post(s, "/v1/filter", &json!({ "text": text })).unwrap().json().unwrap();
    let doc = v["annotations"][0]["citations"][0]["doc_id"].as_str().map(str::to_string);
    (v["action"].as_str().unwrap_or_default().to_string(), doc)
}

#[test]
fn kill_9_during_registry_calls_loses_nothing_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let idx = build_index(dir.path());
    let db = dir.path().join("db.sqlite");
    let args = ["--index", s(&idx), "--db", s(&db)];
    let acked_works = std::sync::Arc::new(std::sync::Mutex::new(Vec::<(String, String)>::new()));
    let acked_notices = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let targets = ["novel.txt", "essay.txt", "manual.txt", "psalm.txt"];
    for round in 0..3u64 {
        let srv = Server::start(&args, &[]);
        let base = srv.base.clone();
        let (works, notices) = (acked_works.clone(), acked_notices.clone());
        // Registrations and notices back to back until the server dies
        // under them, so that the kill lands inside a call.
        let poster = std::thread::spawn(move || {
            let c = client();
            for i in 0..10_000u64 {
                let text = prose(10_000 + round * 1000 + i, 300);
                let title = format!("w{round}-{i}");
                let w = json!({ "text": text, "license": "MIT", "title": title });
                let Ok(r) = c.post(format!("{base}/v1/works")).json(&w).send() else { return };
                if r.status() == 201 {
                    let v: Value = r.json().unwrap();
                    works.lock().unwrap().push((v["id"].as_str().unwrap().to_string(), text));
                }
                let n = json!({ "target": { "type": "document", "doc_id": targets[i as usize % 4] }, "reason": "takedown" });
                let Ok(r) = c.post(format!("{base}/v1/notices")).json(&n).send() else { return };
                if r.status() == 201 {
                    let v: Value = r.json().unwrap();
                    notices.lock().unwrap().push(v["id"].as_str().unwrap().to_string());
                }
            }
        });
        std::thread::sleep(Duration::from_millis(400 + 350 * round));
        srv.kill9();
        poster.join().unwrap();
    }
    let works = acked_works.lock().unwrap().clone();
    let notices = acked_notices.lock().unwrap().clone();
    assert!(works.len() >= 3 && !notices.is_empty(), "too few calls acknowledged to test: {}", works.len());
    let srv = Server::start(&args, &[]);
    for (id, text) in &works {
        let w = get(&srv, &format!("/v1/works/{id}"));
        assert_eq!(w["id"], id.as_str(), "acknowledged work lost: {w}");
        let (action, doc) = filter(&srv, &quote(text, 20, 120));
        assert_eq!(
            (action.as_str(), doc.as_deref()),
            ("annotate", Some(id.as_str())),
            "work {id} not in force"
        );
    }
    for id in &notices {
        let n = get(&srv, &format!("/v1/notices/{id}"));
        assert_eq!(n["status"], "effective", "acknowledged notice not in force: {n}");
    }
    // The call in flight at each kill is all there or not there at all:
    // every work the registry lists is searchable.
    let listed = get(&srv, "/v1/works?limit=1000");
    for w in listed["works"].as_array().unwrap() {
        let title = w["title"].as_str().unwrap();
        let (r, i) = title[1..].split_once('-').unwrap();
        let text = prose(10_000 + r.parse::<u64>().unwrap() * 1000 + i.parse::<u64>().unwrap(), 300);
        let (_, doc) = filter(&srv, &quote(&text, 20, 120));
        assert_eq!(doc.as_deref(), w["id"].as_str(), "listed but not searchable: {w}");
    }
}

/// Starts `recital serve` that must refuse to start; returns its stderr.
fn serve_refuses(args: &[&str]) -> String {
    let mut child = recital()
        .arg("serve")
        .args(args)
        .args(["--addr", "127.0.0.1:0"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if t0.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            panic!("recital serve started on a corrupted index");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let o = child.wait_with_output().unwrap();
    assert!(!o.status.success());
    String::from_utf8(o.stderr).unwrap()
}

#[test]
fn a_corrupted_shard_at_start_up_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let idx = build_index(dir.path());
    let db = dir.path().join("db.sqlite");
    // Small files are checked when the index opens: the server refuses to start.
    for file in ["docs.tab", "rights.json", "text.vocab", "manifest.json"] {
        let path = if file == "manifest.json" { idx.join(file) } else { idx.join("shard-000001").join(file) };
        let good = std::fs::read(&path).unwrap();
        let mut bad = good.clone();
        let mid = bad.len() / 2;
        bad[mid] ^= 0x55;
        std::fs::write(&path, &bad).unwrap();
        let err = serve_refuses(&["--index", s(&idx), "--db", s(&db)]);
        assert!(err.contains(file) && !err.contains("panicked"), "{file}: {err}");
        std::fs::write(&path, &good).unwrap();
    }
    Server::start(&["--index", s(&idx), "--db", s(&db)], &[]).kill9();
}

#[test]
fn a_corrupted_large_shard_file_is_named_and_scans_refuse_it() {
    // A suffix array over a mebibyte is checked after start-up, in the
    // background: the server starts, logs the file, and every scan that
    // would read it is refused naming it, while the rest keeps answering.
    let t = tempfile::tempdir().unwrap();
    let c = t.path().join("c");
    std::fs::create_dir(&c).unwrap();
    let text = prose(77, 400_000);
    std::fs::write(c.join("big.txt"), &text).unwrap();
    let idx = t.path().join("idx");
    ok(&["index", "build", "--index", s(&idx), s(&c)]);
    let sa = idx.join("shard-000001/text.sa");
    let mut b = std::fs::read(&sa).unwrap();
    assert!(b.len() > 1 << 20, "the test needs a file that is not checked on open");
    let mid = b.len() / 2;
    b[mid] ^= 0x5a;
    std::fs::write(&sa, b).unwrap();
    let db = t.path().join("db.sqlite");
    let srv = Server::start(&["--index", s(&idx), "--db", s(&db)], &[]);
    let r = post(&srv, "/v1/scan", &json!({ "text": quote(&text, 100, 200) })).unwrap();
    let status = r.status();
    let body = r.text().unwrap();
    assert!(
        !status.is_success() && body.contains("text.sa") && body.contains("checksum"),
        "{status}: {body}"
    );
    assert_eq!(client().get(srv.url("/healthz")).send().unwrap().status(), 200);
    let log = srv.stderr.lock().unwrap().clone();
    assert!(log.contains("text.sa"), "the log names the file: {log}");
}

/// A small tmpfs mounted for one test (unmounted when dropped), or `None`
/// with a note where mounting is not allowed.
struct Tmpfs(std::path::PathBuf);

impl Tmpfs {
    fn mount(at: &Path, bytes: u64) -> Option<Tmpfs> {
        std::fs::create_dir_all(at).unwrap();
        let o = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={bytes}"), "tmpfs"])
            .arg(at)
            .output()
            .ok()?;
        if !o.status.success() {
            eprintln!("note: cannot mount a tmpfs here ({})", String::from_utf8_lossy(&o.stderr).trim());
            return None;
        }
        Some(Tmpfs(at.to_owned()))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Runs `recital args`, on a full file system (`limit` None: the tmpfs is
/// small) or with RLIMIT_FSIZE at `limit` KiB (the fallback); it must fail
/// with one clear line naming the cause.
fn fails_for_space(args: &[&str], limit: Option<u64>) -> String {
    let o = match limit {
        None => run(args),
        Some(kib) => Command::new("bash")
            .arg("-c")
            .arg(format!("trap '' XFSZ; ulimit -f {kib}; exec \"$0\" \"$@\""))
            .arg(env!("CARGO_BIN_EXE_recital"))
            .args(args)
            .env("NO_COLOR", "1")
            .output()
            .unwrap(),
    };
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(!o.status.success(), "{args:?} succeeded on a full disk");
    let want = if limit.is_none() { "No space left on device" } else { "File too large" };
    assert!(err.contains(want) && !err.contains("panicked"), "{args:?}: {err}");
    err
}

#[test]
fn a_full_disk_during_build_and_add_leaves_the_previous_index() {
    let t = tempfile::tempdir().unwrap();
    let big = t.path().join("big");
    let big_docs = corpus(&big, 300, 3, 60_000);
    let small = t.path().join("small");
    let small_docs = corpus(&small, 400, 2, 2_000);
    let more = t.path().join("more");
    let more_docs = corpus(&more, 500, 1, 2_000);
    let mnt = t.path().join("mnt");
    let fs = Tmpfs::mount(&mnt, 1 << 20);
    // Fallback: each file may grow to 256 KiB, which the big corpus's
    // suffix array exceeds and the small one's does not.
    let limit = if fs.is_some() { None } else { Some(256) };
    eprintln!(
        "full disk by {}",
        if fs.is_some() { "a 1 MiB tmpfs (ENOSPC)" } else { "RLIMIT_FSIZE (EFBIG)" }
    );
    let root = if fs.is_some() { mnt.clone() } else { t.path().to_owned() };
    let idx = root.join("idx");

    // A build that runs out of space leaves no index, and room for the next.
    fails_for_space(&["index", "build", "--index", s(&idx), s(&big)], limit);
    assert!(!idx.join("manifest.json").exists());
    ok(&["index", "build", "--index", s(&idx), s(&small)]);
    assert_eq!(count(&idx, &phrase(&small_docs[0].1)), 1);

    // An add that runs out of space leaves the index as it was.
    let err = fails_for_space(&["index", "add", "--index", s(&idx), s(&big)], limit);
    assert_eq!(err.lines().filter(|l| l.starts_with("error: ")).count(), 1, "{err}");
    assert_consistent(&idx, "after a full disk");
    assert_eq!(stats(&idx)["docs"], 2);
    assert_eq!(count(&idx, &phrase(&big_docs[0].1)), 0);
    assert_eq!(count(&idx, &phrase(&small_docs[1].1)), 1);
    // The space it took is given back: a small add fits.
    ok(&["index", "add", "--index", s(&idx), s(&more)]);
    assert_eq!(count(&idx, &phrase(&more_docs[0].1)), 1);
    drop(fs);
}

#[test]
fn a_full_disk_during_a_notice_is_a_clear_error_and_scans_go_on() {
    let t = tempfile::tempdir().unwrap();
    let idx = build_index(t.path());
    let mnt = t.path().join("mnt");
    let Some(fs) = Tmpfs::mount(&mnt, 4 << 20) else {
        eprintln!("note: skipped (no tmpfs: a full disk under SQLite cannot be made without one)");
        return;
    };
    let db = mnt.join("db.sqlite");
    let args = ["--index", s(&idx), "--db", s(&db)];
    let srv = Server::start(&args, &[]);
    let notice = |doc: &str| json!({ "target": { "type": "document", "doc_id": doc }, "reason": "takedown" });
    let mut acked = Vec::new();
    let r = post(&srv, "/v1/notices", &notice("novel.txt")).unwrap();
    assert_eq!(r.status(), 201);
    acked.push(r.json::<Value>().unwrap()["id"].as_str().unwrap().to_string());
    // Fill the file system.
    let filler = mnt.join("filler");
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&filler).unwrap();
        let chunk = vec![0u8; 4096];
        while f.write_all(&chunk).is_ok() {}
    }
    let mut refused = None;
    for i in 0..200 {
        let doc = ["essay.txt", "manual.txt", "psalm.txt"][i % 3];
        let r = post(&srv, "/v1/notices", &notice(doc)).unwrap();
        if r.status() == 201 {
            acked.push(r.json::<Value>().unwrap()["id"].as_str().unwrap().to_string());
        } else {
            refused = Some((r.status(), r.text().unwrap()));
            break;
        }
    }
    let (status, body) = refused.expect("no notice was refused on a full disk");
    eprintln!("full disk: {status} {body}");
    assert!(status == 503 && body.contains("full"), "{status}: {body}");
    // Scans go on.
    let text = quote(&prose(3, 3000), 300, 380);
    let r = post(&srv, "/v1/scan", &json!({ "text": text })).unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(client().get(srv.url("/readyz")).send().unwrap().status(), 200);
    // Room again: notices are taken, and every acknowledged one survives a restart.
    std::fs::remove_file(&filler).unwrap();
    let r = post(&srv, "/v1/notices", &notice("psalm.txt")).unwrap();
    assert_eq!(r.status(), 201);
    acked.push(r.json::<Value>().unwrap()["id"].as_str().unwrap().to_string());
    srv.kill9();
    let srv = Server::start(&args, &[]);
    for id in &acked {
        assert_eq!(get(&srv, &format!("/v1/notices/{id}"))["status"], "effective", "{id}");
    }
    srv.kill9();
    drop(fs);
}

#[test]
fn a_locked_registry_database_is_a_clear_error_and_scans_go_on() {
    let t = tempfile::tempdir().unwrap();
    let idx = build_index(t.path());
    let db = t.path().join("db.sqlite");
    let args = ["--index", s(&idx), "--db", s(&db)];
    let srv = Server::start(&args, &[]);
    let notice = |doc: &str| json!({ "target": { "type": "document", "doc_id": doc }, "reason": "takedown" });
    assert_eq!(post(&srv, "/v1/notices", &notice("novel.txt")).unwrap().status(), 201);
    // Another process (a backup, an operator's sqlite3 shell) holds the write lock.
    let other = rusqlite::Connection::open(&db).unwrap();
    other.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let text = quote(&prose(3, 3000), 300, 380);
    let scanning = {
        let base = srv.base.clone();
        let text = text.clone();
        std::thread::spawn(move || {
            let t0 = Instant::now();
            let r = client().post(format!("{base}/v1/scan")).json(&json!({ "text": text })).send().unwrap();
            (r.status(), t0.elapsed())
        })
    };
    let r = post(&srv, "/v1/notices", &notice("essay.txt")).unwrap();
    let (status, body) = (r.status(), r.text().unwrap());
    eprintln!("locked: {status} {body}");
    assert!(status == 503 && body.contains("locked"), "{status}: {body}");
    let (scan_status, took) = scanning.join().unwrap();
    assert_eq!(scan_status, 200);
    assert!(took < Duration::from_secs(3), "a scan waited {took:?} for the registry's lock");
    other.execute_batch("ROLLBACK").unwrap();
    drop(other);
    let r = post(&srv, "/v1/notices", &notice("essay.txt")).unwrap();
    assert_eq!(r.status(), 201);
    let id = r.json::<Value>().unwrap()["id"].as_str().unwrap().to_string();
    srv.kill9();
    let srv = Server::start(&args, &[]);
    assert_eq!(get(&srv, &format!("/v1/notices/{id}"))["status"], "effective");
}
