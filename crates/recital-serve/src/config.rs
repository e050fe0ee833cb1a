//! Settings of `recital serve`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::store::DbLocation;

/// Everything `recital serve` is told on its command line.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// Index directory.
    pub index: PathBuf,
    /// Policy file (the built-in "everywhere" preset when absent).
    pub policy: Option<PathBuf>,
    /// Database of the registry, notices, keys and audit log: a SQLite file,
    /// or a PostgreSQL database shared with other instances.
    pub db: DbLocation,
    /// Address to listen on.
    pub addr: SocketAddr,
    /// OpenAI-compatible upstream (`http://host:port`, with or without `/v1`).
    pub upstream: Option<String>,
    /// PEM file of CA certificates trusted for an `https://` upstream, on
    /// top of the system's (a model server behind a private CA).
    pub upstream_ca: Option<PathBuf>,
    /// Keys file (JSONL).
    pub keys: Option<PathBuf>,
    /// An admin key from the environment (`RECITAL_API_KEY`).
    pub env_key: Option<String>,
    /// Largest request body, in bytes.
    pub max_body_bytes: usize,
    /// Time allowed for the upstream to answer (and between streamed chunks).
    pub upstream_timeout: Duration,
    /// Time allowed for a client to send its request body.
    pub body_timeout: Duration,
    /// Time allowed for a client to send a request's line and headers, from
    /// the moment the server waits for them. Without it a client that sends
    /// half a header and stalls (slowloris) holds its connection and task for
    /// ever; it also bounds how long an idle keep-alive connection stays open.
    pub header_timeout: Duration,
    /// Strip every non-standard field from proxied responses.
    pub strict_openai: bool,
    /// How long the web console keeps a scan result at its URL.
    pub console_retention: Duration,
    /// Directory of audit runs whose `report.html` the console lists.
    pub audit_reports: Option<PathBuf>,
    /// Bytes of protected source text that `/v1/scan` may show one key per
    /// UTC day; `None`: no limit.
    pub reveal_budget: Option<u64>,
}

impl ServeConfig {
    /// Defaults for everything but the index.
    pub fn new(index: PathBuf) -> Self {
        Self {
            index,
            policy: None,
            db: DbLocation::Sqlite(PathBuf::from("recital.db")),
            addr: "127.0.0.1:8080".parse().expect("valid address"),
            upstream: None,
            upstream_ca: None,
            keys: None,
            env_key: None,
            max_body_bytes: 4 << 20,
            upstream_timeout: Duration::from_secs(120),
            body_timeout: Duration::from_secs(30),
            header_timeout: Duration::from_secs(10),
            strict_openai: false,
            console_retention: Duration::from_secs(24 * 3600),
            audit_reports: None,
            reveal_budget: None,
        }
    }
}
