//! `Index`, `IndexWriter` and `build`: an index opened, changed and built
//! from Python.

use std::path::PathBuf;
use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::PyTuple;
use recital_index::{
    BuildOptions, DocInput, DocMode, Index, IndexWriter, IngestOptions, ModeChoice, Query, Rights,
    RightsRules,
};
use recital_text::code::Lang;
use serde::Deserialize;

use crate::convert::{from_py, serialized};
use crate::err;

/// A language by the CLI's name for it.
pub fn lang(name: &str) -> PyResult<Lang> {
    Lang::from_name(&name.to_ascii_lowercase()).ok_or_else(|| {
        err(format!("unknown language {name:?} (c, cpp, python, rust, javascript, typescript, java, go)"))
    })
}

/// A query as `recital count` reads one: text, or code in a language.
fn query(text: &str, code: Option<&str>) -> PyResult<Query> {
    let q = match code {
        Some(l) => Query::canonical(text, lang(l)?),
        None => Query::text(text),
    };
    if q.tokens.is_empty() {
        return Err(err(
            "the query has no tokens after normalisation (empty or only whitespace/ignorable characters)",
        ));
    }
    Ok(q)
}

/// An open index: an immutable snapshot, safe to share between threads.
/// It pickles by path, so that worker processes reopen it.
#[pyclass(module = "recital._recital", name = "Index", frozen)]
pub struct PyIndex {
    path: PathBuf,
    pub(crate) index: Arc<Index>,
}

impl PyIndex {
    pub(crate) fn wrap(index: Index) -> Self {
        Self { path: index.dir().to_owned(), index: Arc::new(index) }
    }
}

#[pymethods]
impl PyIndex {
    #[new]
    fn new(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        let index = py.detach(|| Index::open(&path)).map_err(err)?;
        Ok(Self::wrap(index))
    }

    /// The index directory.
    #[getter]
    fn path(&self) -> PathBuf {
        self.path.clone()
    }

    /// The manifest generation of this snapshot.
    #[getter]
    fn generation(&self) -> u64 {
        self.index.generation()
    }

    /// Occurrences of `text` (normalised as the corpus is): the dict
    /// `recital count --json` prints, without the timing.
    #[pyo3(signature = (text, *, code=None))]
    fn count(&self, py: Python<'_>, text: &str, code: Option<&str>) -> PyResult<Py<PyAny>> {
        let q = query(text, code)?;
        let r = py.detach(|| self.index.count(&q)).map_err(err)?;
        serialized(py, &r)
    }

    /// Where `text` occurs, up to `limit` hits: the dict `recital locate
    /// --json` prints.
    #[pyo3(signature = (text, *, limit=10, code=None))]
    fn locate(&self, py: Python<'_>, text: &str, limit: usize, code: Option<&str>) -> PyResult<Py<PyAny>> {
        let q = query(text, code)?;
        let r = py.detach(|| self.index.locate(&q, limit)).map_err(err)?;
        serialized(py, &r)
    }

    /// Statistics: the dict `recital index stats --json` prints.
    fn stats(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let s = py.detach(|| self.index.stats());
        serialized(py, &s)
    }

    /// The live document with id `id` (its rights and text), or None.
    fn get(&self, py: Python<'_>, id: &str) -> PyResult<Py<PyAny>> {
        let found = py.detach(|| -> recital_index::Result<_> {
            let Some(a) = self.index.find_doc(id)? else { return Ok(None) };
            Ok(Some((self.index.doc(a)?, self.index.doc_text(a)?)))
        });
        match found.map_err(err)? {
            None => Ok(py.None()),
            Some((doc, text)) => serialized(
                py,
                &serde_json::json!({
                    "id": doc.id, "path": doc.path, "text": text, "rights": doc.rights,
                    "code": doc.mode.lang().map(|l| l.name()),
                }),
            ),
        }
    }

    /// Live documents.
    fn __len__(&self) -> usize {
        self.index.docs().count()
    }

    fn __repr__(&self) -> String {
        format!("Index({:?}, generation={})", self.path.display().to_string(), self.index.generation())
    }

    /// Pickled as its path: a worker process reopens the index (its files
    /// are memory-mapped, so every process on a machine shares one copy).
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyTuple>)> {
        let cls = slf.get_type().into_any();
        let args = PyTuple::new(slf.py(), [slf.get().path.display().to_string()])?;
        Ok((cls, args))
    }
}

/// A document to index, as Python hands it over.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DocSpec {
    id: String,
    text: String,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    license: Option<String>,
    #[serde(default)]
    holder: Option<String>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    tdm_opt_out: bool,
    #[serde(default)]
    jurisdictions: Option<Vec<String>>,
    #[serde(default)]
    category: Option<String>,
}

/// Owned documents, read from Python dicts.
struct Docs(Vec<(DocSpec, DocMode, Rights)>);

impl Docs {
    fn read(docs: &Bound<'_, PyAny>) -> PyResult<Self> {
        let mut out = Vec::new();
        for (i, d) in docs.try_iter()?.enumerate() {
            let spec: DocSpec =
                serde_json::from_value(from_py(&d?)?).map_err(|e| err(format!("document {i}: {e}")))?;
            let mode = match &spec.code {
                Some(l) => DocMode::Code(lang(l)?),
                None => DocMode::Text,
            };
            let rights = rights(&spec).map_err(|e| err(format!("document {i}: {e}")))?;
            out.push((spec, mode, rights));
        }
        Ok(Self(out))
    }

    fn inputs(&self) -> Vec<DocInput<'_>> {
        self.0
            .iter()
            .map(|(s, mode, rights)| DocInput {
                id: &s.id,
                path: s.path.as_deref(),
                text: &s.text,
                mode: *mode,
                rights: rights.clone(),
            })
            .collect()
    }
}

/// The rights of a document, its licence checked as a sidecar's is.
fn rights(s: &DocSpec) -> Result<Rights, String> {
    let mut r = Rights::default();
    if let Some(l) = &s.license {
        r.license = recital_index::check_license(l).map_err(|e| e.to_string())?;
    }
    r.holder = s.holder.clone();
    r.url = s.url.clone();
    r.tdm_opt_out = s.tdm_opt_out;
    if let Some(j) = &s.jurisdictions {
        r.jurisdictions = j.clone();
    }
    r.category = s.category.clone();
    Ok(r)
}

/// Ingest settings as `recital index build` takes them.
fn ingest_options(rights: Option<PathBuf>, mode: &str) -> PyResult<IngestOptions> {
    let mode = match mode {
        "auto" => ModeChoice::Auto,
        "text" => ModeChoice::Text,
        "code" => ModeChoice::Code,
        m => return Err(err(format!("unknown mode {m:?} (auto, text, code)"))),
    };
    let rights = match rights {
        Some(p) => RightsRules::load(&p).map_err(err)?,
        None => RightsRules::default(),
    };
    Ok(IngestOptions { mode, rights, ..Default::default() })
}

fn build_options(shard_tokens: Option<u64>) -> PyResult<BuildOptions> {
    let mut b = BuildOptions::default();
    if let Some(n) = shard_tokens {
        if n == 0 {
            return Err(err("shard_tokens must be at least 1"));
        }
        b.shard_tokens = n;
    }
    Ok(b)
}

/// Builds a new index at `path` from files, directories and JSONL dumps
/// (`inputs`, as `recital index build`), or from `docs` (dicts with `id`,
/// `text` and optionally `path`, `code`, `license`, `holder`, `url`,
/// `tdm_opt_out`, `jurisdictions`, `category`). Returns the build report.
#[pyfunction]
#[pyo3(signature = (path, inputs=None, *, docs=None, rights=None, mode="auto", shard_tokens=None))]
pub fn build(
    py: Python<'_>,
    path: PathBuf,
    inputs: Option<Vec<PathBuf>>,
    docs: Option<&Bound<'_, PyAny>>,
    rights: Option<PathBuf>,
    mode: &str,
    shard_tokens: Option<u64>,
) -> PyResult<Py<PyAny>> {
    let bopts = build_options(shard_tokens)?;
    let report = match (inputs, docs) {
        (Some(inputs), None) => {
            let opts = ingest_options(rights, mode)?;
            py.detach(|| recital_index::build(&path, &inputs, &opts, &bopts)).map_err(err)?
        }
        (None, Some(docs)) => {
            let docs = Docs::read(docs)?;
            py.detach(|| recital_index::build_docs(&path, &docs.inputs(), &bopts)).map_err(err)?
        }
        _ => return Err(err("give either inputs (files and directories) or docs (dicts), not both")),
    };
    serialized(py, &report)
}

/// The writer of an index: it holds the index's write lock, stages changes
/// and makes them visible at once with `commit()`. As a context manager it
/// commits when the block ends without an exception and rolls back otherwise.
#[pyclass(module = "recital._recital", name = "IndexWriter")]
pub struct PyIndexWriter {
    writer: Option<IndexWriter>,
}

impl PyIndexWriter {
    fn get(&mut self) -> PyResult<&mut IndexWriter> {
        self.writer.as_mut().ok_or_else(|| err("this IndexWriter is closed"))
    }
}

#[pymethods]
impl PyIndexWriter {
    #[new]
    #[pyo3(signature = (path, *, shard_tokens=None))]
    fn new(py: Python<'_>, path: PathBuf, shard_tokens: Option<u64>) -> PyResult<Self> {
        let opts = build_options(shard_tokens)?;
        let w = py.detach(|| IndexWriter::open(&path)).map_err(err)?;
        Ok(Self { writer: Some(w.with_options(opts)) })
    }

    /// Stages the documents of files, directories and JSONL dumps.
    #[pyo3(signature = (inputs, *, rights=None, mode="auto"))]
    fn add_files(
        &mut self,
        py: Python<'_>,
        inputs: Vec<PathBuf>,
        rights: Option<PathBuf>,
        mode: &str,
    ) -> PyResult<Py<PyAny>> {
        let opts = ingest_options(rights, mode)?;
        let w = self.get()?;
        let r = py.detach(|| w.add_files(&inputs, &opts)).map_err(err)?;
        serialized(py, &r)
    }

    /// Stages documents given as dicts (as `build(docs=...)` takes them).
    fn add_docs(&mut self, py: Python<'_>, docs: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        let docs = Docs::read(docs)?;
        let w = self.get()?;
        let r = py.detach(|| w.add_docs(&docs.inputs())).map_err(err)?;
        serialized(py, &r)
    }

    /// Stages the removal of every live document with one of these ids.
    fn remove(&mut self, py: Python<'_>, ids: Vec<String>) -> PyResult<Py<PyAny>> {
        let w = self.get()?;
        let r = py.detach(|| w.remove(&ids)).map_err(err)?;
        serialized(py, &r)
    }

    /// Stages the merge of delta shards and the dropping of removed documents.
    fn compact(&mut self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let w = self.get()?;
        let r = py.detach(|| w.compact()).map_err(err)?;
        serialized(py, &r)
    }

    /// Stages the shards of indexes built elsewhere (copied; left as they are).
    fn adopt(&mut self, py: Python<'_>, sources: Vec<PathBuf>) -> PyResult<Py<PyAny>> {
        let w = self.get()?;
        let r = py.detach(|| w.adopt(&sources)).map_err(err)?;
        serialized(py, &r)
    }

    /// Commits the staged changes and returns the new snapshot.
    fn commit(&mut self, py: Python<'_>) -> PyResult<PyIndex> {
        let w = self.get()?;
        let index = py.detach(|| w.commit()).map_err(err)?;
        Ok(PyIndex::wrap(index))
    }

    /// Drops the staged changes.
    fn rollback(&mut self) -> PyResult<()> {
        self.get()?.rollback();
        Ok(())
    }

    /// Rolls back what is staged and releases the write lock.
    fn close(&mut self) {
        self.writer = None;
    }

    fn __enter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    #[pyo3(signature = (exc_type, _exc=None, _tb=None))]
    fn __exit__(
        &mut self,
        py: Python<'_>,
        exc_type: Option<&Bound<'_, PyAny>>,
        _exc: Option<&Bound<'_, PyAny>>,
        _tb: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<bool> {
        if exc_type.is_none_or(|t| t.is_none()) {
            self.commit(py)?;
        }
        self.close();
        Ok(false)
    }
}

/// Builds a new index at `path` from the shards of indexes built elsewhere
/// (one per partition of a corpus): the last step of a distributed build.
/// Returns the adopted shards.
#[pyfunction]
pub fn assemble(py: Python<'_>, path: PathBuf, sources: Vec<PathBuf>) -> PyResult<Py<PyAny>> {
    let shards = py.detach(|| recital_index::assemble(&path, &sources)).map_err(err)?;
    serialized(py, &shards)
}
