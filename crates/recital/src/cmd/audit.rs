//! `recital audit`, `recital canary-lab` and `recital model serve`.

use std::sync::Arc;

use anyhow::{bail, Context};
use indicatif::{ProgressBar, ProgressStyle};
use recital_audit::probes::{read_probes, sample_from_index, SamplingFrame};
use recital_audit::report;
use recital_audit::run::{run as run_audit, write_atomic, AuditConfig, Subject};
use recital_model::openai::EndpointOptions;

use crate::cli::{AuditArgs, CanaryLabArgs, ModelServeArgs};

fn progress_bar(len: u64, what: &str) -> ProgressBar {
    let pb = ProgressBar::new(len);
    pb.set_style(
        ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} ({per_sec}, ETA {eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    pb.set_message(what.to_string());
    pb
}

fn now_rfc3339() -> String {
    use recital_serve::store::time::{format_rfc3339, now_ms};
    format_rfc3339(now_ms())
}

/// `recital audit`.
pub fn run(a: AuditArgs) -> anyhow::Result<()> {
    if !(a.request_timeout.is_finite() && a.request_timeout > 0.0 && a.request_timeout <= 86_400.0) {
        bail!("--request-timeout {} is not a number of seconds in (0, 86400]", a.request_timeout);
    }
    if a.retries > 100 {
        bail!("--retries {} is more than 100", a.retries);
    }
    let endpoint = EndpointOptions {
        api_key: a
            .api_key
            .clone()
            .or_else(|| std::env::var("RECITAL_MODEL_API_KEY").ok().filter(|k| !k.is_empty())),
        tokenizer: a.tokenizer.clone(),
        cache_dir: Some(a.out.join("cache")),
        timeout: std::time::Duration::from_secs_f64(a.request_timeout),
        retries: a.retries,
        ..Default::default()
    };
    if a.prefix_tokens == 0 || a.suffix_tokens == 0 {
        bail!("--prefix-tokens and --suffix-tokens must be at least 1");
    }
    if a.exposure_references > 100_000 {
        bail!(
            "--exposure-references {} is more than 100000 (each is a scored sequence per canary)",
            a.exposure_references
        );
    }
    if a.samples == Some(0) {
        bail!("--samples must be at least 1");
    }
    if a.index.is_none() && a.probes.is_none() {
        bail!("give --index (to sample probes from the training corpus) or --probes FILE, or both");
    }
    let model = recital_model::open(&a.model, endpoint.clone())
        .with_context(|| format!("opening model {}", a.model))?;
    let reference = a
        .reference
        .as_deref()
        .map(|r| {
            recital_model::open(r, endpoint.clone()).with_context(|| format!("opening reference model {r}"))
        })
        .transpose()?;
    let index = a
        .index
        .as_deref()
        .map(|d| recital_index::Index::open(d).with_context(|| format!("opening index {}", d.display())))
        .transpose()?;
    let (mut probes, frame) = match (&a.probes, &index) {
        (Some(file), _) => {
            let p = read_probes(file, &*model, a.prefix_tokens, a.suffix_tokens)?;
            let frame = SamplingFrame {
                method: "file".into(),
                from: file.display().to_string(),
                seed: a.seed,
                prefix_tokens: a.prefix_tokens,
                suffix_tokens: a.suffix_tokens,
                note: "probes as given in the file (text records cut into consecutive windows)".into(),
                ..Default::default()
            };
            (p, frame)
        }
        (None, Some(ix)) => {
            let n = a.samples.unwrap_or(200);
            sample_from_index(ix, &*model, n, a.prefix_tokens, a.suffix_tokens, a.seed)?
        }
        (None, None) => unreachable!("checked above"),
    };
    if let (Some(n), Some(_)) = (a.samples, &a.probes) {
        probes.truncate(n);
    }
    let local = !a.model.starts_with("http://") && !a.model.starts_with("https://");
    let config = AuditConfig {
        prefix_tokens: a.prefix_tokens,
        suffix_tokens: a.suffix_tokens,
        exposure_references: a.exposure_references,
        seed: a.seed,
        concurrency: if local { 1 } else { a.concurrency.max(1) },
        sweep: if a.no_sweep { vec![] } else { a.sweep.clone() },
        ..Default::default()
    };
    let subject = Subject { model: &*model, reference: reference.as_deref(), index: index.as_ref() };
    let pb = progress_bar(probes.len() as u64, "probes");
    let results = run_audit(&subject, &probes, &config, &a.out, &|done, _| pb.set_position(done as u64))?;
    pb.finish_and_clear();
    let rep = report::build(
        &results,
        model.info(),
        reference.as_deref().map(|r| r.info()),
        &config,
        &frame,
        now_rfc3339(),
    );
    let json = serde_json::to_vec_pretty(&rep)?;
    write_atomic(&a.out.join("report.json"), &json)?;
    write_atomic(&a.out.join("report.html"), report::html::render(&rep).as_bytes())?;
    for p in &rep.summary {
        println!("{p}\n");
    }
    println!("report: {}  {}", a.out.join("report.json").display(), a.out.join("report.html").display());
    Ok(())
}

/// `recital canary-lab`.
#[cfg(feature = "candle")]
pub fn canary_lab(a: CanaryLabArgs) -> anyhow::Result<()> {
    let cfg = recital_audit::lab::LabConfig {
        epochs: a.epochs,
        save_epochs: a.save_epochs,
        per_bucket: a.per_bucket,
        buckets: a.buckets,
        non_members: a.non_members,
        background_lines: a.background_lines,
        seed: a.seed,
        ..Default::default()
    };
    let pb = progress_bar(0, "training");
    let rep = recital_audit::lab::build(&a.out, &cfg, |epoch, step, total, loss| {
        pb.set_length(total as u64);
        pb.set_position(step as u64);
        pb.set_message(format!("epoch {epoch}, loss {loss:.3}"));
    })?;
    pb.finish_and_clear();
    println!(
        "canary lab in {}: {} tokens/epoch, vocabulary {}, {} parameters, {} steps in {:.0} s, final loss {:.3}",
        a.out.display(),
        rep.tokens,
        rep.vocab_size,
        rep.training.parameters,
        rep.training.steps,
        rep.training.seconds,
        rep.training.epoch_loss.last().copied().unwrap_or(f64::NAN)
    );
    for m in &rep.models {
        println!("model: {}", m.display());
    }
    println!("index: {}\nprobes: {}", rep.index.display(), rep.probes.display());
    Ok(())
}

/// `recital canary-lab` without candle.
#[cfg(not(feature = "candle"))]
pub fn canary_lab(_a: CanaryLabArgs) -> anyhow::Result<()> {
    bail!("this recital was built without local models; rebuild with `cargo build --features candle`")
}

/// `recital model serve`.
pub fn serve_model(a: ModelServeArgs) -> anyhow::Result<()> {
    let spec = a.model.display().to_string();
    let model: Arc<dyn recital_model::LanguageModel> = Arc::from(
        recital_model::open(&spec, EndpointOptions::default())
            .with_context(|| format!("opening model {spec}"))?,
    );
    let name = a.name.unwrap_or_else(|| {
        a.model.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "model".into())
    });
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(async move {
        let shutdown = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        recital_model::serve::serve(model, name, a.addr, shutdown).await
    })?;
    Ok(())
}
