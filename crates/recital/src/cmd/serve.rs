//! `recital serve`: flags, an optional TOML configuration file, and the start.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context};
use serde::Deserialize;

use recital_serve::store::DbLocation;

use crate::cli::ServeArgs;

/// `--config FILE`: one key per flag of `recital serve`, named as the flag.
/// Unknown keys are errors, so a misspelt key is not silently ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct ServeFile {
    index: Option<PathBuf>,
    policy: Option<PathBuf>,
    db: Option<String>,
    addr: Option<SocketAddr>,
    upstream: Option<String>,
    upstream_ca: Option<PathBuf>,
    keys: Option<PathBuf>,
    max_body: Option<usize>,
    upstream_timeout: Option<u64>,
    header_timeout: Option<u64>,
    strict_openai: Option<bool>,
    console_retention: Option<u64>,
    audit_reports: Option<PathBuf>,
    reveal_budget: Option<u64>,
}

impl ServeFile {
    fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let mut f: Self = toml::from_str(&text)
            .with_context(|| format!("{}: not a serve configuration", path.display()))?;
        // Paths in the file are relative to the file, so it works from any directory.
        let dir = path.parent().unwrap_or(Path::new("."));
        for p in [&mut f.index, &mut f.policy, &mut f.upstream_ca, &mut f.keys].into_iter().flatten() {
            if p.is_relative() {
                *p = dir.join(&*p);
            }
        }
        if let Some(db) = &mut f.db {
            if let DbLocation::Sqlite(p) = DbLocation::parse(db) {
                if p.is_relative() {
                    *db = dir.join(p).display().to_string();
                }
            }
        }
        let limits = [
            ("upstream-timeout", f.upstream_timeout, 86_400),
            ("header-timeout", f.header_timeout, 86_400),
            ("console-retention", f.console_retention, 31_536_000),
        ];
        for (key, secs, max) in limits {
            if secs.is_some_and(|s| !(1..=max).contains(&s)) {
                bail!("{}: {key} must be 1 to {max} seconds", path.display());
            }
        }
        Ok(f)
    }
}

/// The service's configuration: each flag, else its key in `--config`, else
/// the default.
fn config(a: ServeArgs) -> anyhow::Result<recital_serve::ServeConfig> {
    let f = match &a.config {
        Some(p) => ServeFile::load(p)?,
        None => ServeFile::default(),
    };
    let Some(index) = a.index.or(f.index) else {
        bail!("no index: give --index DIR, or `index = \"DIR\"` in the --config file");
    };
    let mut c = recital_serve::ServeConfig::new(index);
    c.policy = a.policy.or(f.policy);
    c.db = DbLocation::parse(&a.db.or(f.db).unwrap_or_else(|| "recital.db".into()));
    c.addr = a.addr.or(f.addr).unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080)));
    c.upstream = a.upstream.or(f.upstream);
    c.upstream_ca = a.upstream_ca.or(f.upstream_ca);
    c.keys = a.keys.or(f.keys);
    c.env_key = std::env::var("RECITAL_API_KEY").ok().filter(|k| !k.is_empty());
    c.max_body_bytes = a.max_body.or(f.max_body).unwrap_or(4 << 20);
    c.upstream_timeout = Duration::from_secs(a.upstream_timeout.or(f.upstream_timeout).unwrap_or(120));
    c.header_timeout = Duration::from_secs(a.header_timeout.or(f.header_timeout).unwrap_or(10));
    c.strict_openai = a.strict_openai || f.strict_openai.unwrap_or(false);
    c.console_retention = Duration::from_secs(a.console_retention.or(f.console_retention).unwrap_or(86_400));
    c.audit_reports = a.audit_reports.or(f.audit_reports);
    c.reveal_budget = a.reveal_budget.or(f.reveal_budget);
    if c.reveal_budget == Some(0) {
        bail!("reveal-budget must be at least 1 byte (omit it for no limit)");
    }
    Ok(c)
}

/// Starts the service and runs it until SIGINT/SIGTERM.
pub fn run(a: ServeArgs) -> anyhow::Result<()> {
    let c = config(a)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(recital_serve::run(c))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn args(argv: &[&str]) -> ServeArgs {
        match crate::cli::Cli::parse_from(argv).command {
            crate::cli::Command::Serve(a) => a,
            _ => unreachable!(),
        }
    }

    #[test]
    fn flags_win_over_the_file_and_paths_follow_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("serve.toml");
        std::fs::write(&file, "index = \"idx\"\ndb = \"/var/r.db\"\naddr = \"127.0.0.1:9000\"\nupstream-timeout = 30\nstrict-openai = true\n").unwrap();
        let f = file.to_str().unwrap();
        let c = config(args(&["recital", "serve", "--config", f, "--addr", "127.0.0.1:9001"])).unwrap();
        assert_eq!(c.index, dir.path().join("idx"));
        assert_eq!(c.db, DbLocation::Sqlite(PathBuf::from("/var/r.db")));
        assert_eq!(c.addr.port(), 9001);
        assert_eq!(c.upstream_timeout, Duration::from_secs(30));
        assert_eq!(c.header_timeout, Duration::from_secs(10));
        assert!(c.strict_openai);
    }

    #[test]
    fn db_is_a_file_relative_to_the_config_or_a_postgres_url() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("serve.toml");
        std::fs::write(&file, "index = \"idx\"\ndb = \"r.db\"\n").unwrap();
        let f = file.to_str().unwrap();
        let c = config(args(&["recital", "serve", "--config", f])).unwrap();
        assert_eq!(c.db, DbLocation::Sqlite(dir.path().join("r.db")));
        let url = "postgres://recital@db.internal:5432/registry";
        std::fs::write(&file, format!("index = \"idx\"\ndb = \"{url}\"\n")).unwrap();
        let c = config(args(&["recital", "serve", "--config", f])).unwrap();
        assert_eq!(c.db, DbLocation::Postgres(url.into()), "a URL is not joined to the file's directory");
        let c = config(args(&["recital", "serve", "--index", "i", "--db", "postgresql://h/d"])).unwrap();
        assert_eq!(c.db, DbLocation::Postgres("postgresql://h/d".into()));
        let c = config(args(&["recital", "serve", "--index", "i"])).unwrap();
        assert_eq!(c.db, DbLocation::Sqlite(PathBuf::from("recital.db")));
    }

    #[test]
    fn unknown_keys_and_a_missing_index_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("serve.toml");
        std::fs::write(&file, "index = \"idx\"\nupstream_timeout = 30\n").unwrap();
        let e = config(args(&["recital", "serve", "--config", file.to_str().unwrap()])).unwrap_err();
        assert!(format!("{e:#}").contains("unknown field `upstream_timeout`"), "{e:#}");
        let e = config(args(&["recital", "serve"])).unwrap_err();
        assert!(e.to_string().contains("no index"), "{e}");
    }
}
