//! Tests across modules: tenancy, secrets at rest, crash safety, threads.
//! Module-specific tests live next to their code.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use super::*;

/// A store with one key of each kind (two rightsholders).
pub(crate) struct Fixture {
    pub store: Store,
    pub admin: Principal,
    pub rh_a: Principal,
    pub rh_b: Principal,
    pub client: Principal,
}

pub(crate) fn key(name: &str, secret: &str, role: Role) -> KeySpec {
    KeySpec {
        name: name.into(),
        secret: Secret::Plain(secret.into()),
        role,
        default_jurisdiction: None,
        rate_per_minute: None,
    }
}

pub(crate) fn fixture_in(store: Store) -> Fixture {
    let names = [
        ("admin", Role::Admin),
        ("rh-a", Role::Rightsholder),
        ("rh-b", Role::Rightsholder),
        ("client", Role::Client),
    ];
    let secrets: Vec<String> = names.iter().map(|_| Store::generate_secret()).collect();
    let specs: Vec<KeySpec> = names.iter().zip(&secrets).map(|((n, r), s)| key(n, s, *r)).collect();
    store.replace_configured_keys(&specs).unwrap();
    let mut p = secrets.iter().map(|s| store.authenticate(s).unwrap().unwrap());
    let (admin, rh_a, rh_b, client) =
        (p.next().unwrap(), p.next().unwrap(), p.next().unwrap(), p.next().unwrap());
    Fixture { store, admin, rh_a, rh_b, client }
}

pub(crate) fn fixture() -> Fixture {
    fixture_in(test_store())
}

thread_local! {
    /// Set while [`registry_tests_pass_on_postgres`] runs the tests again:
    /// the server, and how many databases it has made.
    static POSTGRES: std::cell::RefCell<Option<(pg::TestPg, u32)>> = const { std::cell::RefCell::new(None) };
}

/// A fresh, empty store: in memory, or a new PostgreSQL database while the
/// tests run against PostgreSQL.
pub(crate) fn test_store() -> Store {
    POSTGRES.with(|cell| match &mut *cell.borrow_mut() {
        Some((server, made)) => {
            *made += 1;
            let url = server.create_db(&format!("store_test_{made}"));
            Store::open_postgres(&url).unwrap_or_else(|e| panic!("{e}\n{}", server.log()))
        }
        None => Store::open_in_memory().unwrap(),
    })
}

pub(crate) fn new_work(text: &str) -> NewWork {
    NewWork {
        title: Some("A title".into()),
        text: text.into(),
        mode: WorkMode::Text,
        language: None,
        license: "LicenseRef-AllRightsReserved".into(),
        holder: Some("Holder Ltd".into()),
        url: Some("https://holder.example/work".into()),
        tdm_opt_out: true,
        jurisdictions: vec![],
        category: Some("prose".into()),
    }
}

pub(crate) fn doc_notice(doc_id: &str) -> NewNotice {
    NewNotice {
        target: NoticeTarget::Document { doc_id: doc_id.into() },
        reason: "reproduced without licence".into(),
        requested_action: Some("block".into()),
        jurisdictions: vec![],
        contact: None,
    }
}

#[test]
fn db_locations_and_their_display_without_passwords() {
    let pg = DbLocation::parse("postgres://app:pw@db:5432/reg?sslmode=disable");
    assert_eq!(pg, DbLocation::Postgres("postgres://app:pw@db:5432/reg?sslmode=disable".into()));
    assert_eq!(pg.to_string(), "postgres://app:***@db:5432/reg?sslmode=disable");
    assert_eq!(DbLocation::parse("PostgreSQL://h/d").to_string(), "PostgreSQL://h/d");
    assert_eq!(DbLocation::parse("postgres://app@h/d").to_string(), "postgres://app@h/d");
    assert_eq!(DbLocation::parse("recital.db"), DbLocation::Sqlite("recital.db".into()));
    assert_eq!(DbLocation::parse("./postgres.db"), DbLocation::Sqlite("./postgres.db".into()));
    assert!(matches!(Store::open_postgres("mysql://x"), Err(StoreError::Invalid(_))));
}

#[test]
fn store_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Store>();
}

#[test]
fn rightsholders_see_only_their_own_works() {
    let f = fixture();
    let a = f.store.insert_work(&f.rh_a, &new_work("a's protected text")).unwrap();
    let b = f.store.insert_work(&f.rh_b, &new_work("b's protected text")).unwrap();

    assert_eq!(f.store.get_work(&f.rh_a, &a.id).unwrap().map(|w| w.id), Some(a.id.clone()));
    assert_eq!(f.store.get_work(&f.rh_b, &a.id).unwrap(), None, "B cannot read A's work");
    let list_b: Vec<String> =
        f.store.list_works(&f.rh_b, 100, None).unwrap().into_iter().map(|w| w.id).collect();
    assert_eq!(list_b, std::slice::from_ref(&b.id), "B lists only its own");
    assert!(
        matches!(f.store.list_works(&f.rh_b, 100, Some(&a.id)), Err(StoreError::Invalid(_))),
        "A's id is no cursor for B"
    );
    assert_eq!(f.store.withdraw_work(&f.rh_b, &a.id, 1).unwrap(), None, "B cannot withdraw A's work");
    assert_eq!(f.store.get_work(&f.admin, &a.id).unwrap().unwrap().status, WorkStatus::Pending);

    let all: Vec<String> =
        f.store.list_works(&f.admin, 100, None).unwrap().into_iter().map(|w| w.id).collect();
    assert_eq!(all, [a.id.clone(), b.id.clone()], "the admin sees every work");
    assert_eq!(f.store.withdraw_work(&f.admin, &b.id, 7).unwrap().unwrap().status, WorkStatus::Withdrawn);
}

#[test]
fn rightsholders_see_only_their_own_notices() {
    let f = fixture();
    let wa = f.store.insert_work(&f.rh_a, &new_work("a's protected text")).unwrap();
    let on_a = NewNotice { target: NoticeTarget::Work { work_id: wa.id.clone() }, ..doc_notice("x") };
    assert!(
        matches!(f.store.insert_notice(&f.rh_b, &on_a), Err(StoreError::NotFound(_))),
        "B cannot file on A's work, and learns nothing about whether it exists"
    );
    let na = f.store.insert_notice(&f.rh_a, &on_a).unwrap();
    let nb = f.store.insert_notice(&f.rh_b, &doc_notice("corpus/doc")).unwrap();

    assert_eq!(f.store.get_notice(&f.rh_b, &na.id).unwrap(), None);
    assert_eq!(f.store.get_notice(&f.rh_a, &na.id).unwrap().map(|n| n.id), Some(na.id.clone()));
    let list_b: Vec<String> =
        f.store.list_notices(&f.rh_b, 100, None).unwrap().into_iter().map(|n| n.id).collect();
    assert_eq!(list_b, std::slice::from_ref(&nb.id));
    assert_eq!(f.store.withdraw_notice(&f.rh_b, &na.id, 1).unwrap(), None);
    assert_eq!(f.store.get_notice(&f.admin, &na.id).unwrap().unwrap().status, NoticeStatus::Received);
    assert_eq!(f.store.list_notices(&f.admin, 100, None).unwrap().len(), 2);
}

#[test]
fn clients_have_no_access_to_the_registry() {
    let f = fixture();
    let w = f.store.insert_work(&f.rh_a, &new_work("a's protected text")).unwrap();
    let n = f.store.insert_notice(&f.rh_a, &doc_notice("d")).unwrap();
    let forbidden = |r: Result<(), StoreError>| matches!(r, Err(StoreError::Forbidden(_)));
    assert!(forbidden(f.store.list_works(&f.client, 10, None).map(drop)));
    assert!(forbidden(f.store.get_work(&f.client, &w.id).map(drop)));
    assert!(forbidden(f.store.insert_work(&f.client, &new_work("x")).map(drop)));
    assert!(forbidden(f.store.withdraw_work(&f.client, &w.id, 1).map(drop)));
    assert!(forbidden(f.store.insert_notice(&f.client, &doc_notice("d")).map(drop)));
    assert!(forbidden(f.store.get_notice(&f.client, &n.id).map(drop)));
    assert!(forbidden(f.store.list_notices(&f.client, 10, None).map(drop)));
    assert!(forbidden(f.store.withdraw_notice(&f.client, &n.id, 1).map(drop)));
    assert_eq!(f.store.get_work(&f.admin, &w.id).unwrap().unwrap().status, WorkStatus::Pending);
}

#[test]
fn plain_secrets_never_reach_the_database_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    let secret = Store::generate_secret();
    let work_text = "a sentence that must be findable in the file";
    {
        let store = Store::open(&path).unwrap();
        let f = fixture_in(store);
        f.store.upsert_key(&key("runtime", &secret, Role::Client)).unwrap();
        f.store.replace_configured_keys(&[key("cfg", &secret.replace("rk_", "rk_x"), Role::Admin)]).unwrap();
        f.store.insert_work(&f.rh_a, &new_work(work_text)).unwrap();
        assert!(f.store.authenticate(&secret).unwrap().is_some());
    }
    let mut bytes = Vec::new();
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        bytes.extend(std::fs::read(entry.unwrap().path()).unwrap());
    }
    let contains = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
    // Controls: what is stored is visible to this search.
    assert!(contains(work_text.as_bytes()), "control: stored text must be found");
    assert!(contains(&hash_secret(&secret)), "control: the digest is stored");
    assert!(!contains(secret.as_bytes()), "the plain key is in the database file");
    assert!(!contains(&secret.as_bytes()[3..]), "the key's random part is in the database file");
    let store = Store::open(&path).unwrap();
    assert!(store.authenticate(&secret).unwrap().is_some(), "keys survive a reopen");
}

#[test]
fn concurrent_writers_on_one_file_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = std::sync::Arc::new(Store::open(&dir.path().join("s.db")).unwrap());
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let store = store.clone();
            std::thread::spawn(move || {
                for i in 0..25 {
                    store
                        .append_audit(&AuditEntry {
                            at: t * 1000 + i,
                            key_id: None,
                            key_name: Some(format!("t{t}")),
                            endpoint: "/v1/scan".into(),
                            jurisdiction: "*".into(),
                            action: "block".into(),
                            rules: vec!["r".into()],
                            sources: vec![format!("d{i}")],
                            statement: String::new(),
                            request_id: format!("{t}-{i}"),
                            input_bytes: 1,
                            channels: vec!["text".into()],
                        })
                        .unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let all = store.query_audit(&AuditQuery { limit: Some(1000), ..Default::default() }).unwrap();
    assert_eq!(all.len(), 100);
}

/// Set in the re-invoked test binary: the database path the child writes to.
const CRASH_CHILD_ENV: &str = "RECITAL_STORE_CRASH_CHILD";
/// Notices the parent waits for before it kills the child.
const CRASH_ACKS: usize = 5;

/// The child half of [`acknowledged_notices_survive_sigkill`]: a no-op unless
/// re-invoked with [`CRASH_CHILD_ENV`]. Files notices and puts each into
/// effect, printing `ACK <id>` after each acknowledgement, and keeps writing
/// (notices and audit records) until it is killed, so the kill lands in the
/// middle of a transaction.
#[test]
fn crash_child() {
    let Some(path) = std::env::var_os(CRASH_CHILD_ENV) else {
        return;
    };
    let f = fixture_in(Store::open(Path::new(&path)).unwrap());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let mut i = 0u64;
    while std::time::Instant::now() < deadline {
        let n = f.store.insert_notice(&f.rh_a, &doc_notice(&format!("doc-{i}"))).unwrap();
        f.store.mark_notice_effective(&n.id, now_ms()).unwrap();
        println!("ACK {}", n.id);
        f.store
            .append_audit(&AuditEntry {
                at: now_ms(),
                key_id: Some(f.client.key_id),
                key_name: Some("client".into()),
                endpoint: "/v1/scan".into(),
                jurisdiction: "DE".into(),
                action: "block".into(),
                rules: vec!["notice".into()],
                sources: vec![format!("doc-{i}")],
                statement: "noticed".into(),
                request_id: i.to_string(),
                input_bytes: 10,
                channels: vec!["reasoning".into()],
            })
            .unwrap();
        i += 1;
    }
    eprintln!("crash child was not killed within 60 s");
    std::process::exit(2);
}

/// `kill -9` right after acknowledgements: on reopen every acknowledged
/// notice is there and effective, and the file is intact.
#[test]
fn acknowledged_notices_survive_sigkill() {
    if std::env::var_os(CRASH_CHILD_ENV).is_some() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crash.db");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "store::tests::crash_child", "--nocapture", "--test-threads=1"])
        .env(CRASH_CHILD_ENV, &path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut acked = Vec::new();
    let mut other = Vec::new();
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        match line.strip_prefix("ACK ") {
            Some(id) => {
                acked.push(id.to_string());
                if acked.len() == CRASH_ACKS {
                    child.kill().unwrap(); // SIGKILL on Unix
                    break;
                }
            }
            None => other.push(line),
        }
    }
    let status = child.wait().unwrap();
    assert_eq!(acked.len(), CRASH_ACKS, "the child stopped early ({status}); its output: {other:?}");
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(status.signal(), Some(9), "the child must die by SIGKILL, not exit: {status}");
    }

    let store = Store::open(&path).unwrap();
    let ok: String = store.conn().query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(ok, "ok");
    let active = store.active_notices().unwrap();
    for id in &acked {
        let n =
            active.iter().find(|n| &n.id == id).unwrap_or_else(|| panic!("acknowledged notice {id} lost"));
        assert_eq!(n.status, NoticeStatus::Effective, "{id}");
        assert!(n.effect_latency_ms().is_some_and(|ms| ms >= 0));
    }
}

#[test]
fn counts_and_close() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let f = fixture_in(Store::open(&path).unwrap());
    let w = f.store.insert_work(&f.rh_a, &new_work("one")).unwrap();
    f.store.insert_work(&f.rh_a, &new_work("two")).unwrap();
    f.store.mark_work_indexed(&w.id, 1).unwrap();
    let n = f.store.insert_notice(&f.rh_a, &doc_notice("d")).unwrap();
    f.store.insert_notice(&f.rh_a, &doc_notice("e")).unwrap();
    f.store.mark_notice_effective(&n.id, 2).unwrap();
    let c = f.store.counts().unwrap();
    let want = StoreCounts {
        works_pending: 1,
        works_indexed: 1,
        works_withdrawn: 0,
        notices_received: 1,
        notices_effective: 1,
        notices_closed: 0,
        audit_records: 0,
        active_keys: 4,
    };
    assert_eq!(c, want);
    f.store.close().unwrap();
    let wal = dir.path().join("s.db-wal");
    assert!(!wal.exists() || std::fs::metadata(&wal).unwrap().len() == 0, "close checkpoints the WAL");
    assert_eq!(Store::open(&path).unwrap().counts().unwrap(), want);
}

#[path = "../../tests/support/pg.rs"]
mod pg;

/// The store's tests again, each on a fresh database of a real PostgreSQL
/// server: one query layer, two dialects, the same results. (Tests that
/// inspect the SQLite file itself, its pragmas, WAL and crash recovery,
/// stay SQLite-only; the service's tests cover PostgreSQL crashes.)
#[test]
fn registry_tests_pass_on_postgres() {
    use super::{audit, console, keys, notices, reveal, signals, works};
    let tests: &[(&str, fn())] = &[
        ("rightsholders_see_only_their_own_works", rightsholders_see_only_their_own_works),
        ("rightsholders_see_only_their_own_notices", rightsholders_see_only_their_own_notices),
        ("clients_have_no_access_to_the_registry", clients_have_no_access_to_the_registry),
        ("counts_on_postgres", counts_on_postgres),
        ("works: insert", works::tests::insert_returns_metadata_without_text_and_defaults),
        ("works: code language", works::tests::code_works_keep_their_language),
        ("works: invalid", works::tests::invalid_works_are_refused),
        ("works: pending/indexed", works::tests::pending_then_indexed_is_idempotent_and_respects_withdrawal),
        ("works: withdraw", works::tests::withdraw_is_idempotent_and_deletes_the_text),
        ("works: paging", works::tests::paging_walks_every_work_once),
        ("works: search", works::tests::search_finds_any_of_more_works_than_a_page),
        ("notices: life cycle", notices::tests::life_cycle_received_effective_withdrawn),
        ("notices: active", notices::tests::active_notices_lists_received_and_effective_only),
        ("notices: work targets", notices::tests::work_targets_must_be_live_and_visible),
        ("notices: invalid", notices::tests::invalid_notices_are_refused),
        ("notices: iscc", notices::tests::iscc_targets_are_text_codes_stored_canonically),
        ("keys: authenticate", keys::tests::authenticate_by_plain_or_prehashed_secret),
        ("keys: weak", keys::tests::weak_or_malformed_keys_are_refused),
        ("keys: replace configured", keys::tests::configured_keys_are_replaced_and_removed_ones_revoked),
        ("keys: duplicates", keys::tests::duplicate_names_or_secrets_are_refused),
        ("keys: env admin", keys::tests::env_admin_replaced_by_a_keys_file_is_revoked),
        ("audit: round trip", audit::tests::round_trips_a_record),
        ("audit: filters", audit::tests::filters_combine),
        ("audit: paging", audit::tests::pages_newest_first_without_gaps),
        ("audit: limits", audit::tests::default_and_max_limits),
        ("audit: append-only", audit::tests::the_log_is_append_only),
        ("audit: bad batch", audit::tests::a_bad_entry_fails_the_whole_batch),
        ("signals: life cycle", signals::tests::signals_are_filed_listed_and_withdrawn_per_tenant),
        ("signals: invalid", signals::tests::invalid_signals_are_refused),
        ("console: sessions", console::tests::sessions_authenticate_until_expiry_close_or_revocation),
        ("console: scans", console::tests::scans_are_for_their_key_and_admins_within_retention),
        ("reveal: per key and day", reveal::tests::budget_is_per_key_and_per_day_and_never_overdrawn),
        ("reveal: concurrent", reveal::tests::concurrent_takers_share_one_budget),
    ];
    POSTGRES.with(|cell| *cell.borrow_mut() = Some((pg::TestPg::start(), 0)));
    for (name, test) in tests {
        eprintln!("on PostgreSQL: {name}");
        test();
    }
    let made = POSTGRES.with(|cell| cell.borrow_mut().take().map(|(_, n)| n));
    assert!(made.is_some_and(|n| n as usize >= tests.len()), "each test opened its own database: {made:?}");
}

/// What only PostgreSQL has: a second instance on the same database sees
/// the first one's writes, is told of them, and an older recital cannot
/// open a newer schema.
#[test]
fn postgres_is_shared_announces_changes_and_refuses_newer_schemas() {
    let server = pg::TestPg::start();
    let url = server.create_db("shared");
    let a = fixture_in(Store::open_postgres(&url).unwrap());
    let b = Store::open_postgres(&url).unwrap();
    let mut watch = b.watch().expect("a PostgreSQL store can be watched");
    assert!(watch.wait(std::time::Duration::from_millis(10)).unwrap(), "a fresh listener says: reload");
    assert!(!watch.wait(std::time::Duration::from_millis(50)).unwrap(), "nothing happened");
    let n = a.store.insert_notice(&a.rh_a, &doc_notice("doc-1")).unwrap();
    assert!(watch.wait(std::time::Duration::from_secs(5)).unwrap(), "B is told of A's notice");
    assert_eq!(b.active_notices().unwrap().into_iter().map(|n| n.id).collect::<Vec<_>>(), [n.id]);
    let mut own = a.store.watch().unwrap();
    assert!(own.wait(std::time::Duration::from_millis(10)).unwrap());
    b.insert_notice(&a.rh_b, &doc_notice("doc-2")).unwrap();
    assert!(own.wait(std::time::Duration::from_secs(5)).unwrap(), "A is told of B's notice");
    a.store.insert_notice(&a.rh_a, &doc_notice("doc-3")).unwrap();
    assert!(!own.wait(std::time::Duration::from_millis(300)).unwrap(), "A's own changes are not news to A");
    // A second open of an up-to-date database migrates nothing; a newer one is refused.
    drop(Store::open_postgres(&url).unwrap());
    b.write("bump", |tx| tx.execute("UPDATE recital_schema SET version = version + 1", sql::args![]))
        .unwrap();
    match Store::open_postgres(&url) {
        Err(StoreError::NewerSchema { found, supported }) => assert_eq!(found, supported + 1),
        Err(e) => panic!("expected NewerSchema, got {e}"),
        Ok(_) => panic!("a newer schema was opened"),
    }
    // A database with other tables is not taken over.
    let other = server.create_db("other");
    let foreign = Store::open_postgres(&other).unwrap();
    foreign.write("t", |tx| tx.execute("DROP TABLE recital_schema", sql::args![])).unwrap();
    let e = Store::open_postgres(&other).err().expect("a foreign database opened");
    assert!(e.to_string().contains("not a recital store"), "{e}");
    let e = Store::open_postgres("postgres://nobody@127.0.0.1:1/none").err().expect("no server there");
    assert!(matches!(e, StoreError::Unavailable { .. }), "{e}");
}

/// [`counts_and_close`] without the SQLite file.
fn counts_on_postgres() {
    let f = fixture();
    let w = f.store.insert_work(&f.rh_a, &new_work("one")).unwrap();
    f.store.mark_work_indexed(&w.id, 1).unwrap();
    f.store.insert_notice(&f.rh_a, &doc_notice("d")).unwrap();
    f.store
        .append_audit(&AuditEntry {
            at: 1,
            key_id: None,
            key_name: None,
            endpoint: "/v1/scan".into(),
            jurisdiction: "*".into(),
            action: "block".into(),
            rules: vec![],
            sources: vec![],
            statement: String::new(),
            request_id: "r".into(),
            input_bytes: 1,
            channels: vec![],
        })
        .unwrap();
    let c = f.store.counts().unwrap();
    assert_eq!((c.works_indexed, c.notices_received, c.active_keys), (1, 1, 4));
    assert!(c.audit_records >= 1);
    f.store.close().unwrap();
}
