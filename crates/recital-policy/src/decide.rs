//! From a scan report to a decision: thresholds, rules in file order, the most
//! severe action per span and per response.
//!
//! For each span and each of its sources:
//! 1. a `boilerplate` span is allowed, whatever its sources;
//! 2. a source whose own `jurisdictions` do not include the request's is
//!    allowed: its rights do not reach this request, so no rule bites on it;
//! 3. the rules are tried in file order; the first whose conditions all hold
//!    gives the source's action (thresholds are conditions too: the category's
//!    `min_tokens`/`min_chars`, unless the rule sets its own);
//! 4. no rule matched: the default action if the span reaches its category's
//!    threshold, else allow ("under the threshold").
//!
//! The span takes the most severe action of its sources; the first source
//! giving it decides (licence, category, rule), and every source giving it is
//! cited. The response takes the most severe action of its spans.

use std::collections::HashMap;

use recital_detect::report::{Source, Span};
use recital_detect::{ScanReport, SpanKind};
use recital_index::Stream;

use crate::config::{Category, Rule};
use crate::decision::{Action, Citation, Decision, Request, SpanDecision};
use crate::jurisdiction;
use crate::policy::Policy;
use crate::reasons;
use crate::spdx::{self, LicenseClass};

/// What is known about one source of one span.
pub(crate) struct Facts<'a> {
    pub source: &'a Source,
    pub class: LicenseClass,
    pub category: String,
    pub notified: bool,
    /// The source document's share of the whole output (0..1).
    pub coverage: f64,
}

impl Facts<'_> {
    /// How the source is named: its path, else its id.
    pub fn source_label(&self) -> &str {
        self.source.path.as_deref().filter(|p| !p.is_empty()).unwrap_or(&self.source.doc_id)
    }
}

/// Why a source got its action.
pub(crate) enum Basis {
    /// The rule at this index matched.
    Rule(usize),
    /// No rule matched; the span reaches the category threshold.
    Default,
    /// No rule matched; the span is under its category threshold.
    UnderThreshold { min_tokens: usize, min_chars: Option<usize> },
    /// The source's rights do not apply in the request jurisdiction.
    OutsideSource,
}

/// The action for one source of a span, and why.
pub(crate) struct Outcome<'a> {
    pub facts: Facts<'a>,
    pub action: Action,
    pub basis: Basis,
}

/// Why a span got its action.
pub(crate) enum SpanBasis<'a> {
    Boilerplate,
    NoSource,
    /// `outcomes[deciding]` decided; `cited` are the outcomes with the same action.
    Sources {
        outcomes: Vec<Outcome<'a>>,
        deciding: usize,
        cited: Vec<usize>,
    },
}

/// A span with its decision and the reasoning behind it.
pub(crate) struct Judged<'a> {
    pub span: &'a Span,
    pub decision: SpanDecision,
    pub basis: SpanBasis<'a>,
}

/// The request as judged.
pub(crate) struct Ctx<'p> {
    pub policy: &'p Policy,
    /// Resolved jurisdiction, upper case.
    pub jurisdiction: String,
    /// Whether the policy knows the jurisdiction (a code or one of its groups).
    pub known: bool,
}

pub(crate) fn decide(policy: &Policy, report: &ScanReport, req: &Request<'_>) -> Decision {
    let jurisdiction = match req.jurisdiction.map(jurisdiction::normalize) {
        Some(j) if !j.is_empty() => j,
        _ => policy.default_jurisdiction.clone(),
    };
    let known = policy.jurisdictions.is_known(&jurisdiction);
    let ctx = Ctx { policy, jurisdiction, known };
    let mut coverage: HashMap<&str, f64> = HashMap::new();
    for d in &report.documents {
        let c = coverage.entry(d.doc_id.as_str()).or_insert(0.0);
        *c = c.max(d.coverage);
    }
    let judged: Vec<Judged<'_>> =
        report.spans.iter().enumerate().map(|(i, s)| judge(&ctx, i, s, req, &coverage)).collect();
    let action = judged.iter().map(|j| j.decision.action).max().unwrap_or(Action::Allow);
    let statement = reasons::statement(&ctx, action, &judged);
    tracing::debug!(
        policy = %policy.label(),
        jurisdiction = %ctx.jurisdiction,
        action = %action,
        spans = judged.len(),
        "decided"
    );
    Decision {
        action,
        jurisdiction: ctx.jurisdiction,
        spans: judged.into_iter().map(|j| j.decision).collect(),
        statement,
        policy: policy.label(),
    }
}

/// The category a source's span is judged as.
pub(crate) fn category_of(policy: &Policy, span: &Span, source: Option<&Source>) -> String {
    if let Some(c) = source.and_then(|s| s.category.as_deref()) {
        let c = c.trim().to_lowercase();
        if policy.categories.contains_key(&c) {
            return c;
        }
    }
    if span.stream == Stream::Canon && policy.categories.contains_key("code") {
        return "code".to_string();
    }
    policy.default_category.clone()
}

/// Whether a span reaches a threshold (`min_tokens` and, if set, `min_chars`).
fn reaches(span: &Span, min_tokens: usize, min_chars: Option<usize>, long: bool) -> bool {
    long || span.tokens >= min_tokens && min_chars.is_none_or(|m| span.text.chars().count() >= m)
}

fn category(policy: &Policy, name: &str) -> Category {
    policy.categories.get(name).cloned().unwrap_or(Category { min_tokens: 1, min_chars: None })
}

fn judge<'a>(
    ctx: &Ctx<'_>,
    index: usize,
    span: &'a Span,
    req: &Request<'_>,
    coverage: &HashMap<&str, f64>,
) -> Judged<'a> {
    let p = ctx.policy;
    let first = span.sources.first();
    let facts_of = |s: &'a Source| Facts {
        source: s,
        class: p.licenses.classify(&s.license),
        category: category_of(p, span, Some(s)),
        notified: (req.notified)(s),
        coverage: coverage.get(s.doc_id.as_str()).copied().unwrap_or(0.0),
    };
    let mut decision = SpanDecision {
        span: index,
        byte_start: span.byte_start,
        byte_end: span.byte_end,
        tokens: span.tokens,
        kind: span.kind,
        action: Action::Allow,
        rule: None,
        category: category_of(p, span, first),
        license: first.map_or_else(|| "NOASSERTION".to_string(), |s| s.license.clone()),
        license_class: first.map_or(LicenseClass::Noassertion, |s| p.licenses.classify(&s.license)),
        sources: span.sources.iter().map(Citation::of).collect(),
        reason: String::new(),
        marker: None,
        potential: Action::Allow,
    };
    let basis = if span.kind == SpanKind::Boilerplate {
        SpanBasis::Boilerplate
    } else if span.sources.is_empty() {
        SpanBasis::NoSource
    } else {
        let outcomes: Vec<Outcome<'a>> =
            span.sources.iter().map(|s| evaluate(ctx, span, facts_of(s), false)).collect();
        decision.potential = span
            .sources
            .iter()
            .map(|s| evaluate(ctx, span, facts_of(s), true).action)
            .max()
            .unwrap_or(Action::Allow);
        let action = outcomes.iter().map(|o| o.action).max().unwrap_or(Action::Allow);
        let deciding = outcomes.iter().position(|o| o.action == action).unwrap_or(0);
        let cited: Vec<usize> = (0..outcomes.len()).filter(|&i| outcomes[i].action == action).collect();
        let d = &outcomes[deciding];
        decision.action = action;
        decision.rule = match d.basis {
            Basis::Rule(r) => Some(p.rules[r].name.clone()),
            _ => None,
        };
        decision.category = d.facts.category.clone();
        decision.license = d.facts.source.license.clone();
        decision.license_class = d.facts.class;
        decision.sources = cited.iter().map(|&i| Citation::of(outcomes[i].facts.source)).collect();
        SpanBasis::Sources { outcomes, deciding, cited }
    };
    decision.reason = reasons::span_reason(ctx, span, &decision, &basis);
    if decision.action == Action::Redact {
        decision.marker = Some(p.redaction_marker(&decision));
    }
    Judged { span, decision, basis }
}

/// `long`: judge the span as if it reached every length threshold (what it
/// would get if it kept growing).
fn evaluate<'a>(ctx: &Ctx<'_>, span: &Span, facts: Facts<'a>, long: bool) -> Outcome<'a> {
    let p = ctx.policy;
    if p.jurisdictions.find_within(&ctx.jurisdiction, &facts.source.jurisdictions).is_none() {
        return Outcome { facts, action: Action::Allow, basis: Basis::OutsideSource };
    }
    let cat = category(p, &facts.category);
    for (i, rule) in p.rules.iter().enumerate() {
        if matches(ctx, rule, span, &facts, &cat, long) {
            return Outcome { facts, action: rule.action, basis: Basis::Rule(i) };
        }
    }
    if reaches(span, cat.min_tokens, cat.min_chars, long) {
        Outcome { facts, action: p.default_action, basis: Basis::Default }
    } else {
        let basis = Basis::UnderThreshold { min_tokens: cat.min_tokens, min_chars: cat.min_chars };
        Outcome { facts, action: Action::Allow, basis }
    }
}

/// Whether every condition of `rule` holds for this source of this span.
fn matches(ctx: &Ctx<'_>, rule: &Rule, span: &Span, f: &Facts<'_>, cat: &Category, long: bool) -> bool {
    let p = ctx.policy;
    reaches(span, rule.min_tokens.unwrap_or(cat.min_tokens), rule.min_chars.or(cat.min_chars), long)
        && rule
            .jurisdictions
            .as_ref()
            .is_none_or(|l| p.jurisdictions.find_within(&ctx.jurisdiction, l).is_some())
        && rule.license_class.as_ref().is_none_or(|l| l.contains(&f.class))
        && rule.licenses.as_ref().is_none_or(|l| spdx::any_id_matches(&f.source.license, l))
        && rule.tdm_opt_out.is_none_or(|v| v == f.source.tdm_opt_out)
        && rule.notified.is_none_or(|v| v == f.notified)
        && rule.categories.as_ref().is_none_or(|l| l.contains(&f.category))
        && rule.kinds.as_ref().is_none_or(|l| l.contains(&span.kind))
        && rule.min_coverage.is_none_or(|m| long || f.coverage >= m)
}

#[cfg(test)]
#[path = "decide_tests.rs"]
mod tests;
