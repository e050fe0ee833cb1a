//! `recital rights import`, and the signals `index build --rights-from` applies.

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use recital_index::RightsRules;
use recital_rights::{Import, Kind};

use crate::cli::{RightsImportArgs, RightsKind, RightsPostArgs};

fn kind(k: RightsKind) -> Kind {
    match k {
        RightsKind::Auto => Kind::Auto,
        RightsKind::Web => Kind::Web,
        RightsKind::Code => Kind::Code,
        RightsKind::Scancode => Kind::ScanCode,
        RightsKind::C2pa => Kind::C2pa,
    }
}

/// Imports `path`, warning about what was skipped.
fn read(path: &Path, k: Kind) -> anyhow::Result<Import> {
    let import = recital_rights::import(path, k)?;
    for w in &import.warnings {
        tracing::warn!("{w}");
    }
    Ok(import)
}

pub fn import(a: RightsImportArgs) -> anyhow::Result<()> {
    let import = read(&a.path, kind(a.kind))?;
    let jsonl = import.to_jsonl();
    match &a.out {
        Some(out) => std::fs::write(out, jsonl).with_context(|| format!("writing {}", out.display()))?,
        None => std::io::stdout().lock().write_all(jsonl.as_bytes())?,
    }
    eprintln!("recital: {} rights record(s) from {}", import.records.len(), a.path.display());
    Ok(())
}

/// The JSON body of `POST /v1/signals` for `a` (reading its file).
fn signal_body(a: &RightsPostArgs) -> anyhow::Result<serde_json::Value> {
    let mut headers = serde_json::Map::new();
    for h in &a.headers {
        let (name, value) =
            h.split_once(':').with_context(|| format!("--header {h:?}: expected NAME: VALUE"))?;
        headers.insert(name.trim().to_ascii_lowercase(), value.trim().into());
    }
    let body = match (&a.file, a.no_body) {
        (_, true) => String::new(),
        (Some(p), false) if p.as_os_str() != "-" => {
            std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?
        }
        _ => std::io::read_to_string(std::io::stdin().lock()).context("reading standard input")?,
    };
    let mut v = serde_json::json!({"url": a.url, "body": body, "headers": headers});
    if let Some(t) = &a.observed {
        v["observed"] = t.clone().into();
    }
    Ok(v)
}

/// `recital rights post`: one signal to a running service.
pub fn post(a: RightsPostArgs) -> anyhow::Result<()> {
    let key = std::env::var("RECITAL_API_KEY")
        .ok()
        .filter(|k| !k.is_empty())
        .context("set RECITAL_API_KEY to a rightsholder's or an admin's key")?;
    let body = signal_body(&a)?;
    let url = format!("{}/v1/signals", a.server.trim_end_matches('/'));
    recital_serve::tls::install_crypto_provider();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let (status, answer) = rt
        .block_on(async {
            let resp = reqwest::Client::new().post(&url).bearer_auth(&key).json(&body).send().await?;
            let status = resp.status();
            anyhow::Ok((status, resp.text().await?))
        })
        .with_context(|| format!("posting to {url}"))?;
    if !status.is_success() {
        anyhow::bail!("{url} answered {status}: {answer}");
    }
    let signal: serde_json::Value = serde_json::from_str(&answer).context("the service's answer")?;
    println!("{}", serde_json::to_string_pretty(&signal)?);
    eprintln!("recital: signal {} for {} is in force", signal["id"].as_str().unwrap_or("?"), a.url);
    Ok(())
}

/// The rights rules `--rights-from PATH` applies: what `rights import` would write.
pub fn imported_rules(path: &Path) -> anyhow::Result<RightsRules> {
    let import = read(path, Kind::Auto)?;
    let label = format!("{} (imported)", path.display());
    tracing::info!("{} rights record(s) imported from {}", import.records.len(), path.display());
    Ok(RightsRules::from_jsonl(&import.to_jsonl(), &label, import.base.as_deref())?)
}
