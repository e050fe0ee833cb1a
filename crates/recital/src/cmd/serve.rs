//! `recital serve`.

use std::time::Duration;

use anyhow::Context;

use crate::cli::ServeArgs;

/// Starts the service and runs it until SIGINT/SIGTERM.
pub fn run(a: ServeArgs) -> anyhow::Result<()> {
    let mut c = recital_serve::ServeConfig::new(a.index);
    c.policy = a.policy;
    c.db = a.db;
    c.addr = a.addr;
    c.upstream = a.upstream;
    c.upstream_ca = a.upstream_ca;
    c.keys = a.keys;
    c.env_key = std::env::var("RECITAL_API_KEY").ok().filter(|k| !k.is_empty());
    c.max_body_bytes = a.max_body;
    c.upstream_timeout = Duration::from_secs(a.upstream_timeout);
    c.header_timeout = Duration::from_secs(a.header_timeout);
    c.strict_openai = a.strict_openai;
    c.console_retention = Duration::from_secs(a.console_retention);
    c.audit_reports = a.audit_reports;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(recital_serve::run(c))
}
