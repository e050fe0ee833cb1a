//! # recital-py
//!
//! The native half of the `recital` Python package (`recital._recital`):
//! `Index` (count, locate, stats, get; pickled by path), `IndexWriter`,
//! `build`, `assemble`, `Policy`, `filter` and `scan_many` (behind `scan`
//! and `scan_batch`), and the decode-time guard (`Vocab`, `Guard`,
//! `GuardSession`, behind `recital.guard`). The
//! Python half (`python/recital/`) adds Arrow tables, type stubs and
//! `recital.ray`.
//!
//! Results are the CLI's JSON shapes as Python dicts and lists
//! (`recital.scan/1` for a scan), and errors are `recital.RecitalError` with
//! the CLI's messages. Every call that reads an index or scans releases the
//! GIL, so Python threads scan in parallel.

mod convert;
mod guard;
mod index;
mod scan;

use pyo3::prelude::*;

pyo3::create_exception!(
    _recital,
    RecitalError,
    pyo3::exceptions::PyException,
    "An error of recital (bad input, a damaged index): the message is the CLI's."
);

/// A Python exception carrying `e`'s message.
pub(crate) fn err(e: impl std::fmt::Display) -> PyErr {
    RecitalError::new_err(e.to_string())
}

#[pymodule]
fn _recital(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("RecitalError", m.py().get_type::<RecitalError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<index::PyIndex>()?;
    m.add_class::<index::PyIndexWriter>()?;
    m.add_class::<scan::PyPolicy>()?;
    m.add_class::<guard::PyVocab>()?;
    m.add_class::<guard::PyGuard>()?;
    m.add_class::<guard::PyGuardSession>()?;
    m.add_function(wrap_pyfunction!(index::build, m)?)?;
    m.add_function(wrap_pyfunction!(index::assemble, m)?)?;
    m.add_function(wrap_pyfunction!(scan::scan_many, m)?)?;
    m.add_function(wrap_pyfunction!(scan::filter, m)?)?;
    Ok(())
}
