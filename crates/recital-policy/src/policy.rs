//! A loaded policy and its entry points.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::OnceLock;

use recital_detect::{ScanOptions, ScanReport};

use crate::config::{self, Category, Rule};
use crate::decision::{Action, Decision, Request, SpanDecision};
use crate::error::{PolicyError, Warning};
use crate::jurisdiction::Jurisdictions;
use crate::marker::render_for;
use crate::spdx::{LicenseClass, LicenseTable};

/// The text of the built-in policy, the `everywhere` preset (`policies/everywhere.toml`).
pub const BUILTIN_DEFAULT_TOML: &str = include_str!("../../../policies/everywhere.toml");

/// A checked policy, ready to decide. Cheap to share between threads.
#[derive(Debug, Clone)]
pub struct Policy {
    pub(crate) name: String,
    pub(crate) version: String,
    pub(crate) description: Option<String>,
    pub(crate) default_jurisdiction: String,
    pub(crate) default_category: String,
    pub(crate) default_action: Action,
    pub(crate) redaction_marker: String,
    pub(crate) jurisdictions: Jurisdictions,
    pub(crate) licenses: LicenseTable,
    pub(crate) categories: BTreeMap<String, Category>,
    pub(crate) rules: Vec<Rule>,
}

/// Reads a policy and lists everything wrong with it.
///
/// On success, the policy and its warnings (legal but suspicious: a rule that
/// can never apply, a licence listed in two classes). On failure, *every*
/// error found, in line order, each with its line — what `recital policy
/// check FILE` prints. `origin` names the file in messages.
pub fn check(src: &str, origin: &str) -> Result<(Policy, Vec<Warning>), Vec<PolicyError>> {
    config::read(src, origin)
}

impl Policy {
    /// Reads a policy from TOML text; the error is the first one by line (see
    /// [`check`] for all of them). `origin` names the file in messages.
    pub fn parse(src: &str, origin: &str) -> Result<Policy, PolicyError> {
        match config::read(src, origin) {
            Ok((policy, warnings)) => {
                for w in &warnings {
                    tracing::warn!("{w}");
                }
                Ok(policy)
            }
            Err(mut errors) => Err(errors.swap_remove(0)),
        }
    }

    /// Reads a policy file.
    pub fn load(path: &Path) -> Result<Policy, PolicyError> {
        let src = std::fs::read_to_string(path)
            .map_err(|source| PolicyError::Io { path: path.to_path_buf(), source })?;
        Policy::parse(&src, &path.display().to_string())
    }

    /// The built-in policy: the `everywhere` preset (block notified works,
    /// redact copyleft, proprietary and unlicensed copies over the thresholds,
    /// annotate permissive ones, allow the public domain).
    pub fn builtin_default() -> Policy {
        static BUILTIN: OnceLock<Policy> = OnceLock::new();
        BUILTIN
            .get_or_init(|| match Policy::parse(BUILTIN_DEFAULT_TOML, "everywhere.toml") {
                Ok(p) => p,
                // The preset is tested (tests/presets.rs); this cannot happen in a released build.
                Err(e) => panic!("the built-in policy does not parse: {e}"),
            })
            .clone()
    }

    /// The policy's `name`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The policy's `version`, as written.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Name and version, as decisions cite the policy: `everywhere v1`.
    pub fn label(&self) -> String {
        format!("{} v{}", self.name, self.version)
    }

    /// The policy's `description`, if any.
    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }

    /// Jurisdiction of requests that give none (upper case).
    pub fn default_jurisdiction(&self) -> &str {
        &self.default_jurisdiction
    }

    /// The rule names, in evaluation order.
    pub fn rule_names(&self) -> Vec<&str> {
        self.rules.iter().map(|r| r.name.as_str()).collect()
    }

    /// The class of an SPDX licence expression under this policy's `[licenses]` table.
    pub fn classify_license(&self, license: &str) -> LicenseClass {
        self.licenses.classify(license)
    }

    /// Documents per licence class under this policy, from documents per
    /// licence expression (an index's or a build's counts).
    pub fn class_counts(&self, counts: &[recital_index::LicenseCount]) -> Vec<crate::spdx::ClassCount> {
        crate::spdx::class_counts(&self.licenses, counts.iter().map(|c| (c.license.as_str(), c.docs)))
    }

    /// Smallest span length, in normalised tokens, that can lead to an action
    /// other than allow: the lowest threshold of any rule whose action is not
    /// allow (its own `min_tokens`, else the lowest `min_tokens` of the
    /// categories it applies to), and of every category when the default action
    /// is not allow.
    ///
    /// The streaming proxy holds back `trigger_tokens() - 1` tokens, so that no
    /// complete copy that could be acted on leaves before the decision. When
    /// nothing can lead to an action, this is 1: nothing needs holding back.
    pub fn trigger_tokens(&self) -> usize {
        self.acting_threshold().unwrap_or(1).max(1)
    }

    /// Every span length (in normalised tokens) at which some decision of
    /// this policy can change: each category's and each rule's `min_tokens`,
    /// ascending and distinct. A caller that must know from which length a
    /// source's copy is acted on (the decode-time guard) decides at these
    /// lengths only, since between two of them every decision is the same.
    pub fn length_thresholds(&self) -> Vec<usize> {
        let mut t: Vec<usize> = self
            .categories
            .values()
            .map(|c| c.min_tokens)
            .chain(self.rules.iter().filter_map(|r| r.min_tokens))
            .map(|m| m.max(1))
            .collect();
        t.push(1);
        t.sort_unstable();
        t.dedup();
        t
    }

    /// The lowest threshold that can lead to an action other than allow;
    /// `None` when nothing can.
    fn acting_threshold(&self) -> Option<usize> {
        let lowest = |names: Option<&Vec<String>>| -> Option<usize> {
            match names {
                Some(names) => {
                    names.iter().filter_map(|n| self.categories.get(n)).map(|c| c.min_tokens).min()
                }
                None => self.categories.values().map(|c| c.min_tokens).min(),
            }
        };
        let mut t: Option<usize> = None;
        for r in self.rules.iter().filter(|r| r.action != Action::Allow) {
            if let Some(m) = r.min_tokens.or_else(|| lowest(r.categories.as_ref())) {
                t = Some(t.map_or(m, |t| t.min(m)));
            }
        }
        if self.default_action != Action::Allow {
            if let Some(m) = lowest(None) {
                t = Some(t.map_or(m, |t| t.min(m)));
            }
        }
        t
    }

    /// The scan thresholds for deciding under this policy: the detector's
    /// defaults, with `min_tokens` lowered to [`Policy::trigger_tokens`] where
    /// that is smaller, so that every span the policy can act on is reported
    /// (the policy applies its own, usually larger, thresholds); a policy that
    /// can only allow keeps the default. `recital scan` and the server both
    /// scan with these: one policy, one minimum.
    pub fn scan_options(&self) -> ScanOptions {
        let mut o = ScanOptions::default();
        if let Some(t) = self.acting_threshold() {
            o.min_tokens = o.min_tokens.min(t.max(1));
        }
        o.seed_tokens = o.seed_tokens.min(o.min_tokens);
        o
    }

    /// Whether the request jurisdiction lies within one of `list` (country
    /// codes, this policy's groups, `*`; any case). An empty list is
    /// everywhere. For callers that hold jurisdiction lists of their own, such
    /// as notices limited to some countries.
    pub fn jurisdiction_in(&self, jurisdiction: &str, list: &[String]) -> bool {
        self.jurisdictions.find_within(jurisdiction, list).is_some()
    }

    /// The marker that replaces a redacted span: the policy's
    /// `redaction_marker` filled in with the span's sources and rule. Decisions
    /// carry it already ([`SpanDecision::marker`]); this is for callers that
    /// redact by themselves, such as a streaming proxy.
    pub fn redaction_marker(&self, d: &SpanDecision) -> String {
        render_for(&self.redaction_marker, std::iter::once(d))
    }

    /// Decides what happens to each span of `report`, and to the response.
    pub fn decide(&self, report: &ScanReport, req: &Request<'_>) -> Decision {
        crate::decide::decide(self, report, req)
    }
}
