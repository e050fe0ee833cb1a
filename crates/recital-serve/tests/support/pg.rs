//! A throwaway PostgreSQL server for tests: `initdb` and `pg_ctl` on a
//! temporary directory and a free loopback port, stopped when dropped.
//!
//! The server binaries are found through `RECITAL_TEST_PG_BIN`, which
//! `scripts/test.sh` sets from `scripts/install-test-postgres.sh`. Without it
//! the test fails and says how to get it: a test that skipped itself would
//! pass without having tested anything.
//!
//! PostgreSQL refuses to run as root, so under root (CI containers) every
//! server command runs as the `postgres` user (`runuser`), and the data
//! directory belongs to that user.
//!
//! Shared by the store's tests (`recital-serve`) and the service's
//! (`recital`), which include this file by path.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A running PostgreSQL server; [`TestPg::create_db`] gives each test its own database.
pub struct TestPg {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
    as_postgres: bool,
}

impl TestPg {
    /// Initialises and starts a server. Panics with a clear message when the
    /// binaries are missing.
    pub fn start() -> TestPg {
        let bin = match std::env::var_os("RECITAL_TEST_PG_BIN") {
            Some(b) if Path::new(&b).join("initdb").exists() => PathBuf::from(b),
            other => panic!(
                "RECITAL_TEST_PG_BIN must name PostgreSQL's server binaries (initdb, pg_ctl), but it is {other:?}: \
                 run the tests with scripts/test.sh, or export \
                 RECITAL_TEST_PG_BIN=\"$(scripts/install-test-postgres.sh)\""
            ),
        };
        let as_postgres = is_root();
        let dir = tempfile::Builder::new().prefix("recital-pg-").tempdir().expect("temporary directory");
        if as_postgres {
            let s = Command::new("chown").args(["-R", "postgres:"]).arg(dir.path()).status().expect("chown");
            assert!(s.success(), "chown of {} to postgres failed", dir.path().display());
        }
        let pg = TestPg { port: free_port(), dir, bin, as_postgres };
        let data = pg.data();
        pg.run(
            "initdb",
            &["-D", &data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C", "--no-sync"],
        );
        pg.start_server();
        pg
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    /// Runs one of the server binaries (as `postgres` under root) and checks it succeeded.
    fn run(&self, tool: &str, args: &[&str]) -> Output {
        let exe = self.bin.join(tool);
        let mut cmd = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&exe);
            c
        } else {
            Command::new(&exe)
        };
        let out = cmd.args(args).current_dir(self.dir.path()).output().expect("running a PostgreSQL tool");
        assert!(
            out.status.success(),
            "{tool} {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// Starts the server (again, after [`TestPg::stop`]) on the same port and data.
    pub fn start_server(&self) {
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c max_connections=50",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("server.log").display().to_string();
        self.run("pg_ctl", &["-D", &self.data(), "-o", &opts, "-l", &log, "-w", "-t", "30", "start"]);
    }

    /// Stops the server at once (`immediate`: as a crash or a pulled cable
    /// looks to its clients).
    pub fn stop(&self) {
        self.run("pg_ctl", &["-D", &self.data(), "-m", "immediate", "-w", "stop"]);
    }

    /// Creates database `name` and gives its URL.
    pub fn create_db(&self, name: &str) -> String {
        let port = self.port.to_string();
        self.run("createdb", &["-h", "127.0.0.1", "-p", &port, "-U", "postgres", name]);
        self.url(name)
    }

    /// The URL of database `name`.
    pub fn url(&self, name: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }

    /// The server's log so far, for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }
}

impl Drop for TestPg {
    fn drop(&mut self) {
        let exe = self.bin.join("pg_ctl");
        let data = self.data();
        let args = ["-D", data.as_str(), "-m", "immediate", "stop"];
        let _ = if self.as_postgres {
            Command::new("runuser").args(["-u", "postgres", "--"]).arg(&exe).args(args).output()
        } else {
            Command::new(&exe).args(args).output()
        };
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// A port free at the moment of asking (the server binds it right after).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port()
}
