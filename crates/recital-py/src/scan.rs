//! `Policy`, `scan_many` and `filter`: the scan and the transport-free
//! filter, as `recital scan` and `recital filter` run them.

use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::PyDict;
use recital_detect::{scan_views, Input, ScanOptions};
use recital_filter::{filter_output, ChannelId, ChannelKind, IndexJudge};
use recital_policy::{Policy, Request};
use serde_json::Value;

use crate::convert::{serialized, to_py};
use crate::err;
use crate::index::{lang, PyIndex};

/// A policy: the built-in default, a TOML file, or TOML text.
#[pyclass(module = "recital._recital", name = "Policy", frozen)]
pub struct PyPolicy {
    policy: Policy,
}

impl PyPolicy {
    /// The policy itself, for the other classes of the module.
    pub(crate) fn policy(&self) -> &Policy {
        &self.policy
    }
}

#[pymethods]
impl PyPolicy {
    #[new]
    #[pyo3(signature = (path=None, *, toml=None))]
    fn new(path: Option<std::path::PathBuf>, toml: Option<&str>) -> PyResult<Self> {
        let policy = match (path, toml) {
            (None, None) => Policy::builtin_default(),
            (Some(p), None) => Policy::load(&p).map_err(err)?,
            (None, Some(t)) => Policy::parse(t, "<toml>").map_err(err)?,
            (Some(_), Some(_)) => return Err(err("give a policy file or TOML text, not both")),
        };
        Ok(Self { policy })
    }

    /// The policy's name and version.
    #[getter]
    fn label(&self) -> String {
        self.policy.label()
    }

    /// The jurisdiction a request without one is judged in.
    #[getter]
    fn default_jurisdiction(&self) -> String {
        self.policy.default_jurisdiction().to_string()
    }

    fn __repr__(&self) -> String {
        format!("Policy({:?})", self.policy.label())
    }
}

/// What a scan runs with: the policy's options, with the caller's overrides.
struct Settings {
    policy: Policy,
    jurisdiction: String,
    opts: ScanOptions,
}

impl Settings {
    fn new(
        policy: Option<&Bound<'_, PyPolicy>>,
        jurisdiction: Option<&str>,
        context: Option<String>,
        min_tokens: Option<usize>,
        code: Option<&str>,
    ) -> PyResult<Self> {
        let policy = policy.map(|p| p.get().policy.clone()).unwrap_or_else(Policy::builtin_default);
        let jurisdiction =
            recital_filter::jurisdiction(jurisdiction.unwrap_or(policy.default_jurisdiction()))
                .map_err(err)?;
        let d = policy.scan_options();
        let min = min_tokens.unwrap_or(d.min_tokens);
        if min == 0 {
            return Err(err("min_tokens must be at least 1"));
        }
        let opts = ScanOptions {
            min_tokens: min,
            seed_tokens: d.seed_tokens.min(min),
            code: code.map(lang).transpose()?,
            context,
            ..d
        };
        Ok(Self { policy, jurisdiction, opts })
    }

    /// The report with the policy's decision added as `decision`: what
    /// `recital scan --json` prints.
    fn scan(&self, index: &recital_index::Index, text: &str) -> Result<Value, String> {
        let input = Input::decode(text.as_bytes()).map_err(|e| e.to_string())?;
        let report = scan_views(index, &input, &self.opts).map_err(|e| e.to_string())?;
        let decision = self.policy.decide(&report, &Request::from_jurisdiction(&self.jurisdiction));
        let mut v = serde_json::to_value(&report).map_err(|e| e.to_string())?;
        v["decision"] = serde_json::to_value(&decision).map_err(|e| e.to_string())?;
        Ok(v)
    }
}

/// Scans each text (None for a missing one) on `threads` threads, without
/// the GIL; returns one `recital.scan/1` dict (with `decision`) per text, or
/// None for a missing text. A text that cannot be scanned raises, naming it.
#[pyfunction]
#[pyo3(signature = (index, texts, *, policy=None, jurisdiction=None, context=None, min_tokens=None, code=None, threads=None))]
#[allow(clippy::too_many_arguments)]
pub fn scan_many(
    py: Python<'_>,
    index: &Bound<'_, PyIndex>,
    texts: Vec<Option<String>>,
    policy: Option<&Bound<'_, PyPolicy>>,
    jurisdiction: Option<&str>,
    context: Option<String>,
    min_tokens: Option<usize>,
    code: Option<&str>,
    threads: Option<usize>,
) -> PyResult<Vec<Py<PyAny>>> {
    let s = Settings::new(policy, jurisdiction, context, min_tokens, code)?;
    let idx = index.get().index.clone();
    let threads = threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .clamp(1, texts.len().max(1));
    let results = py.detach(|| scan_parallel(&idx, &texts, &s, threads));
    let mut out = Vec::with_capacity(results.len());
    for (i, r) in results.into_iter().enumerate() {
        out.push(match r.map_err(|e| err(format!("text {i}: {e}")))? {
            Some(v) => to_py(py, &v)?,
            None => py.None(),
        });
    }
    Ok(out)
}

type ScanResult = Result<Option<Value>, String>;

/// Contiguous parts of `texts`, one per thread, scanned side by side.
fn scan_parallel(
    idx: &Arc<recital_index::Index>,
    texts: &[Option<String>],
    s: &Settings,
    threads: usize,
) -> Vec<ScanResult> {
    let one = |t: &Option<String>| -> ScanResult { t.as_deref().map(|t| s.scan(idx, t)).transpose() };
    if threads <= 1 {
        return texts.iter().map(one).collect();
    }
    let chunk = texts.len().div_ceil(threads);
    std::thread::scope(|sc| {
        let parts: Vec<_> = texts
            .chunks(chunk)
            .map(|part| sc.spawn(move || part.iter().map(one).collect::<Vec<_>>()))
            .collect();
        parts.into_iter().flat_map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))).collect()
    })
}

/// Filters one output as `recital filter` does: the text as it may be
/// shown (None when blocked), its citations and the decision. `json=True`
/// judges the string values of a JSON document (structured output, tool
/// arguments) and keeps it valid JSON.
#[pyfunction]
#[pyo3(signature = (index, text, *, policy=None, jurisdiction=None, context=None, json=false))]
pub fn filter(
    py: Python<'_>,
    index: &Bound<'_, PyIndex>,
    text: &str,
    policy: Option<&Bound<'_, PyPolicy>>,
    jurisdiction: Option<&str>,
    context: Option<String>,
    json: bool,
) -> PyResult<Py<PyAny>> {
    let s = Settings::new(policy, jurisdiction, None, None, None)?;
    let judge = IndexJudge::new(index.get().index.clone(), s.policy, s.opts);
    let kind = if json { ChannelKind::Structured } else { ChannelKind::Text };
    let out = py
        .detach(|| {
            filter_output(&judge, &[(ChannelId::new(0, kind), text)], context.as_deref(), &s.jurisdiction)
        })
        .map_err(err)?;
    let c = &out.channels[0];
    let d = PyDict::new(py);
    d.set_item("action", c.decision.action.name())?;
    d.set_item("text", c.text.clone())?;
    d.set_item("annotations", serialized(py, &c.annotations)?)?;
    d.set_item("decision", serialized(py, &c.decision)?)?;
    Ok(d.into_any().unbind())
}
