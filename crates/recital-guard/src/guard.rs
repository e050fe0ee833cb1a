//! The guard shared by every generation: an index snapshot, the policy's
//! protection per document, a tokenizer's vocabulary and the options.

use std::sync::Arc;

use recital_index::Index;
use recital_policy::{Action, Policy};

use crate::protect::Protection;
use crate::session::GuardSession;
use crate::track::Limits;
use crate::vocab::Vocab;
use crate::GuardError;

/// How the guard behaves; the policy decides what it protects.
#[derive(Debug, Clone)]
pub struct GuardOptions {
    /// Where the output will be shown (ISO 3166 code or a policy group):
    /// the policy decides per jurisdiction. Empty: the policy's default.
    pub jurisdiction: String,
    /// The policy actions whose copies are prevented (default: redact and
    /// block; annotated copies may be written, with their citation).
    pub prevent: Vec<Action>,
    /// Text the prompt supplied may be repeated (the filter's context
    /// exemption). Off, a passage quoted in the prompt is protected too.
    pub exempt_context: bool,
    /// Model tokens taken back when every good continuation is banned.
    pub rollback_tokens: usize,
    /// Most rollbacks per generation; past them the guard only masks.
    pub max_rollbacks: usize,
    /// Banned probability mass from which a step counts as stuck (0–1).
    pub stuck_mass: f64,
}

impl Default for GuardOptions {
    fn default() -> Self {
        Self {
            jurisdiction: String::new(),
            prevent: vec![Action::Redact, Action::Block],
            exempt_context: true,
            rollback_tokens: 4,
            max_rollbacks: 32,
            stuck_mass: 0.9,
        }
    }
}

pub(crate) struct Inner {
    pub index: Index,
    pub vocab: Vocab,
    pub protection: Protection,
    pub options: GuardOptions,
    pub limits: Limits,
    /// The shortest piece the filter reports (the policy's scan options).
    pub min_tokens: usize,
    /// The longest threshold of the policy: how far back a copy is measured.
    pub max_threshold: usize,
    /// The shortest length from which the policy acts on anything: no
    /// shorter copy is ever banned.
    pub min_threshold: usize,
}

/// A decode-time guard over one index snapshot, policy and tokenizer.
/// Cheap to clone; each generation takes a [`GuardSession`].
#[derive(Clone)]
pub struct DecodeGuard {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for DecodeGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DecodeGuard")
            .field("index", &self.inner.index.dir())
            .field("vocab", &self.inner.vocab.len())
            .field("options", &self.inner.options)
            .finish()
    }
}

impl DecodeGuard {
    /// A guard for outputs of a model with `vocab`, checked against `index`
    /// under `policy`. The seed and gap of copy tracking are the policy's
    /// scan options, so the guard follows copies as the filter finds them.
    pub fn new(
        index: Index,
        vocab: Vocab,
        policy: Policy,
        mut options: GuardOptions,
    ) -> Result<Self, GuardError> {
        if !(0.0..=1.0).contains(&options.stuck_mass) {
            return Err(GuardError::Input(format!(
                "stuck_mass {} is not between 0 and 1",
                options.stuck_mass
            )));
        }
        if options.prevent.is_empty() {
            return Err(GuardError::Input("nothing to prevent: name at least one action".into()));
        }
        if options.jurisdiction.trim().is_empty() {
            options.jurisdiction = policy.default_jurisdiction().to_string();
        }
        let scan = policy.scan_options();
        let limits = Limits { seed: scan.seed_tokens.max(2), max_gap: scan.max_gap };
        let min_tokens = scan.min_tokens.max(2);
        let max_threshold = policy.length_thresholds().into_iter().max().unwrap_or(1);
        let min_threshold = policy.trigger_tokens().max(2);
        let protection = Protection::new(policy, &options.jurisdiction, options.prevent.clone());
        let inner =
            Inner { index, vocab, protection, options, limits, min_tokens, max_threshold, min_threshold };
        Ok(Self { inner: Arc::new(inner) })
    }

    /// A new generation. `prompt` is what the model was given: with
    /// `exempt_context`, copies of it are not banned.
    pub fn session(&self, prompt: Option<&str>) -> GuardSession {
        GuardSession::new(self.inner.clone(), prompt)
    }

    /// The tokenizer's vocabulary.
    pub fn vocab(&self) -> &Vocab {
        &self.inner.vocab
    }

    /// The policy's label and the jurisdiction guarded for.
    pub fn describe(&self) -> (String, String) {
        (self.inner.protection.policy().label(), self.inner.protection.jurisdiction().to_string())
    }
}
