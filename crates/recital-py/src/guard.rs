//! `Vocab`, `Guard` and `GuardSession`: the decode-time guard
//! (`recital-guard`) for Python generation loops and logits processors.

use std::sync::Arc;

use pyo3::prelude::*;
use recital_guard::{Advice, DecodeGuard, GuardOptions, GuardSession, Vocab};
use recital_policy::{Action, Policy};

use crate::err;
use crate::index::PyIndex;
use crate::scan::PyPolicy;

/// A tokenizer's vocabulary: each token id's bytes, normalised and sorted
/// once, shared by every guard made with it.
#[pyclass(module = "recital._recital", name = "Vocab", frozen)]
pub struct PyVocab {
    vocab: Arc<Vocab>,
}

#[pymethods]
impl PyVocab {
    /// `pieces[i]` is token `i`'s bytes as written after another token
    /// (SentencePiece's `▁` as a space, byte-level BPE's bytes decoded).
    #[new]
    fn new(py: Python<'_>, pieces: Vec<Vec<u8>>) -> PyResult<Self> {
        let vocab = py.detach(|| Vocab::from_pieces(pieces)).map_err(err)?;
        Ok(Self { vocab: Arc::new(vocab) })
    }

    fn __len__(&self) -> usize {
        self.vocab.len()
    }

    /// Token `id`'s bytes.
    fn piece<'py>(&self, py: Python<'py>, id: u32) -> Bound<'py, pyo3::types::PyBytes> {
        pyo3::types::PyBytes::new(py, self.vocab.piece(id))
    }

    fn __repr__(&self) -> String {
        format!("Vocab({} tokens)", self.vocab.len())
    }
}

/// The decode-time guard: an index, a policy, a vocabulary and options.
#[pyclass(module = "recital._recital", name = "Guard", frozen)]
pub struct PyGuard {
    guard: DecodeGuard,
}

#[pymethods]
impl PyGuard {
    #[new]
    #[pyo3(signature = (index, vocab, *, policy=None, jurisdiction=None, prevent=None, exempt_context=true,
                        rollback_tokens=4, max_rollbacks=32, stuck_mass=0.9))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        index: &Bound<'_, PyIndex>,
        vocab: &Bound<'_, PyVocab>,
        policy: Option<&Bound<'_, PyPolicy>>,
        jurisdiction: Option<&str>,
        prevent: Option<Vec<String>>,
        exempt_context: bool,
        rollback_tokens: usize,
        max_rollbacks: usize,
        stuck_mass: f64,
    ) -> PyResult<Self> {
        let policy = policy.map(|p| p.get().policy().clone()).unwrap_or_else(Policy::builtin_default);
        let jurisdiction = match jurisdiction {
            Some(j) => recital_filter::jurisdiction(j).map_err(err)?,
            None => String::new(),
        };
        let prevent = match prevent {
            None => GuardOptions::default().prevent,
            Some(names) => names
                .iter()
                .map(|n| {
                    Action::from_name(n)
                        .ok_or_else(|| err(format!("unknown action {n:?}: allow, annotate, redact or block")))
                })
                .collect::<PyResult<Vec<_>>>()?,
        };
        let options = GuardOptions {
            jurisdiction,
            prevent,
            exempt_context,
            rollback_tokens,
            max_rollbacks,
            stuck_mass,
        };
        let index = (*index.get().index).clone();
        let vocab = (*vocab.get().vocab).clone();
        let guard = py.detach(|| DecodeGuard::new(index, vocab, policy, options)).map_err(err)?;
        Ok(Self { guard })
    }

    /// A new generation; with `exempt_context`, copies of `prompt` pass.
    #[pyo3(signature = (prompt=None))]
    fn session(&self, prompt: Option<&str>) -> PyGuardSession {
        PyGuardSession { session: self.guard.session(prompt) }
    }

    fn __repr__(&self) -> String {
        let (policy, jurisdiction) = self.guard.describe();
        format!("Guard(policy={policy:?}, jurisdiction={jurisdiction:?}, vocab={})", self.guard.vocab().len())
    }
}

/// One generation under guard.
#[pyclass(module = "recital._recital", name = "GuardSession")]
pub struct PyGuardSession {
    session: GuardSession,
}

#[pymethods]
impl PyGuardSession {
    /// Feeds the token the model emitted.
    fn push(&mut self, py: Python<'_>, token: u32) {
        let s = &mut self.session;
        py.detach(|| s.push(token));
    }

    /// Feeds several tokens.
    fn extend(&mut self, py: Python<'_>, tokens: Vec<u32>) {
        let s = &mut self.session;
        py.detach(|| tokens.into_iter().for_each(|t| s.push(t)));
    }

    /// Takes back every generated token after the first `keep`.
    fn truncate(&mut self, py: Python<'_>, keep: usize) {
        let s = &mut self.session;
        py.detach(|| s.truncate(keep));
    }

    /// The token ids that must not come next, sorted.
    fn banned(&mut self, py: Python<'_>) -> Vec<u32> {
        let s = &mut self.session;
        py.detach(|| s.banned())
    }

    /// After masking `banned()`, which held `banned_mass` of the
    /// probability: `None` to sample, or the number of generated tokens to
    /// keep (the session has rolled back; rewind the model likewise).
    fn advise(&mut self, banned_mass: f64) -> Option<usize> {
        match self.session.advise(banned_mass) {
            Advice::Sample => None,
            Advice::Rollback { keep } => Some(keep),
        }
    }

    /// The generated tokens.
    #[getter]
    fn tokens(&self) -> Vec<u32> {
        self.session.tokens().to_vec()
    }

    /// The output so far.
    #[getter]
    fn text(&self) -> String {
        self.session.text()
    }

    /// Rollbacks made.
    #[getter]
    fn rollbacks(&self) -> usize {
        self.session.rollbacks()
    }

    fn __len__(&self) -> usize {
        self.session.tokens().len()
    }
}
