//! `recital-serve` as a library: the whole service (scan and filter API,
//! proxy, registry, audit log, console) from a `ServeConfig`, here on the
//! bundled sample corpus, on loopback, without keys. Try
//! `curl -s localhost:8080/v1/filter -d '{"text": "To be, or not to be, that is the question"}'`,
//! or open http://localhost:8080/console/. Ctrl-C stops it.
//!
//! `cargo run -p recital-serve --example serve_usage [ADDR]`

use std::path::Path;

use recital_index::{BuildOptions, IngestOptions, RightsRules};

fn main() -> anyhow::Result<()> {
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/sample");
    let dir = tempfile::tempdir()?;
    let at = dir.path().join("index");
    let opts =
        IngestOptions { rights: RightsRules::load(&sample.join("rights.jsonl"))?, ..Default::default() };
    recital_index::build(&at, &[sample.join("prose"), sample.join("code")], &opts, &BuildOptions::default())?;

    let mut config = recital_serve::ServeConfig::new(at);
    config.db = recital_serve::store::DbLocation::Sqlite(dir.path().join("recital.db"));
    if let Some(addr) = std::env::args().nth(1) {
        config.addr = addr.parse()?;
    }
    recital_serve::tls::install_crypto_provider();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(recital_serve::run(config))
}
