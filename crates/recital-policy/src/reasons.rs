//! Statements of reasons: what was decided, on which facts, under which rule
//! (in the manner of DSA Art. 17). Plain, factual sentences built only from
//! the report, the request and the policy — never from guesses.

use recital_detect::report::{Source, Span};
use recital_detect::SpanKind;
use recital_index::Stream;

use crate::config::Rule;
use crate::decide::{Basis, Ctx, Judged, Outcome, SpanBasis};
use crate::decision::{Action, SpanDecision};
use crate::jurisdiction::EVERYWHERE;

/// Sources named in one sentence before "and N more".
const NAMED_SOURCES: usize = 3;
/// Span ranges listed in one statement sentence before "and N more".
const NAMED_SPANS: usize = 3;

/// The one-sentence reason of a span decision.
pub(crate) fn span_reason(ctx: &Ctx<'_>, span: &Span, d: &SpanDecision, basis: &SpanBasis<'_>) -> String {
    let bytes = format!("bytes {}–{}", span.byte_start, span.byte_end);
    let at = format!("{bytes} ({}, category {})", details(span), d.category);
    match basis {
        SpanBasis::Boilerplate => format!(
            "Allowed {bytes} ({}): too common in the indexed corpus ({} occurrences) to be a copy of any one source.",
            details(span),
            span.count
        ),
        SpanBasis::NoSource => format!("Allowed {at}: no source document is attributed to it."),
        SpanBasis::Sources { outcomes, deciding, cited } => {
            let o = &outcomes[*deciding];
            let mut s = match &o.basis {
                Basis::Rule(r) => {
                    let rule = &ctx.policy.rules[*r];
                    format!(
                        "{} {at} under rule {:?}: {}.",
                        span_verb(d.action),
                        rule.name,
                        join(&clauses(ctx, Some(rule), &[o]))
                    )
                }
                Basis::Default => format!(
                    "{} {at} by the policy's default action, as no rule matched: {}.",
                    span_verb(d.action),
                    join(&clauses(ctx, None, &[o]))
                ),
                Basis::UnderThreshold { min_tokens, min_chars } => format!(
                    "Allowed {bytes} ({}): under the threshold of category {} ({}); {}.",
                    details(span),
                    d.category,
                    shortfall(span, *min_tokens, *min_chars),
                    join(&clauses(ctx, None, &[o]))
                ),
                Basis::OutsideSource => format!(
                    "Allowed {at}: the rights of source {:?} apply in {} only, not in the request jurisdiction {}.",
                    o.facts.source_label(),
                    o.facts.source.jurisdictions.join(", "),
                    ctx.jurisdiction
                ),
            };
            let others: Vec<&Outcome<'_>> =
                cited.iter().filter(|&&i| i != *deciding).map(|&i| &outcomes[i]).collect();
            if !others.is_empty() {
                s.pop();
                s.push_str(&format!(
                    "; {} other source{} lead{} to the same action: {}.",
                    others.len(),
                    plural(others.len()),
                    if others.len() == 1 { "s" } else { "" },
                    name_list(others.iter().map(|o| format!("{:?}", o.facts.source_label())).collect())
                ));
            }
            if let Some(c) = strictest(outcomes, *deciding) {
                s.pop();
                s.push_str(&format!("; {c}."));
            }
            s
        }
    }
}

/// The statement of reasons for a whole response.
pub(crate) fn statement(ctx: &Ctx<'_>, action: Action, judged: &[Judged<'_>]) -> String {
    let p = ctx.policy;
    let mut out = format!(
        "{} under policy {:?} version {}, request jurisdiction {}",
        response_verb(action),
        p.name,
        p.version,
        ctx.jurisdiction
    );
    if !ctx.known {
        out.push_str(" (not a jurisdiction this policy defines: only rules that apply everywhere can apply)");
    }
    out.push('.');
    if judged.is_empty() {
        out.push_str(" No copied span was found.");
        return out;
    }
    // One sentence per (action, rule), most severe first, rules in order of appearance.
    for act in [Action::Block, Action::Redact, Action::Annotate] {
        let mut groups: Vec<(Option<usize>, Vec<&Judged<'_>>)> = Vec::new();
        for j in judged.iter().filter(|j| j.decision.action == act) {
            let key = deciding(j).and_then(|o| match o.basis {
                Basis::Rule(r) => Some(r),
                _ => None,
            });
            match groups.iter_mut().find(|(k, _)| *k == key) {
                Some((_, v)) => v.push(j),
                None => groups.push((key, vec![j])),
            }
        }
        for (rule, spans) in groups {
            out.push(' ');
            out.push_str(&group_sentence(ctx, act, rule.map(|r| &p.rules[r]), &spans));
        }
    }
    let allowed: Vec<&Judged<'_>> = judged.iter().filter(|j| j.decision.action == Action::Allow).collect();
    if !allowed.is_empty() {
        out.push(' ');
        out.push_str(&allowed_sentence(ctx, &allowed, allowed.len() == judged.len()));
    }
    out
}

fn group_sentence(ctx: &Ctx<'_>, act: Action, rule: Option<&Rule>, spans: &[&Judged<'_>]) -> String {
    let mut ranges: Vec<String> = spans.iter().take(NAMED_SPANS).map(|j| facts_of_span(j.span)).collect();
    if spans.len() > NAMED_SPANS {
        ranges.push(format!("and {} more", spans.len() - NAMED_SPANS));
    }
    // The deciding source of every span, each document once.
    let mut sources: Vec<&Outcome<'_>> = Vec::new();
    for o in spans.iter().filter_map(|j| deciding(j)) {
        if !sources.iter().any(|s| s.facts.source.doc_id == o.facts.source.doc_id) {
            sources.push(o);
        }
    }
    let by = match rule {
        Some(r) => format!("under rule {:?}", r.name),
        None => "by the policy's default action, as no rule matched".to_string(),
    };
    let mut out = format!(
        "{} {} span{} ({}) {by}: {}.",
        group_verb(act),
        spans.len(),
        plural(spans.len()),
        ranges.join("; "),
        join(&clauses(ctx, rule, &sources))
    );
    for j in spans.iter().take(NAMED_SPANS) {
        if let SpanBasis::Sources { outcomes, deciding, .. } = &j.basis {
            if let Some(c) = strictest(outcomes, *deciding) {
                out.push_str(&format!(" For bytes {}–{}, {c}.", j.span.byte_start, j.span.byte_end));
            }
        }
    }
    out
}

/// For a copy with several sources (a passage several documents hold, or
/// pieces merged into one copy): that the strictest of their outcomes was
/// taken, and which source and licence gave it.
fn strictest(outcomes: &[Outcome<'_>], deciding: usize) -> Option<String> {
    if outcomes.len() < 2 {
        return None;
    }
    let d = &outcomes[deciding];
    Some(format!(
        "the strictest outcome across the copy's {} sources was taken ({}), decided by source {:?} licensed {}",
        outcomes.len(),
        d.action,
        d.facts.source_label(),
        license_text(&d.facts.source.license)
    ))
}

fn allowed_sentence(ctx: &Ctx<'_>, allowed: &[&Judged<'_>], all: bool) -> String {
    let mut under = 0;
    let mut boilerplate = 0;
    let mut outside = 0;
    let mut unattributed = 0;
    let mut by_default = 0;
    let mut by_rule: Vec<(String, usize)> = Vec::new();
    for j in allowed {
        match &j.basis {
            SpanBasis::Boilerplate => boilerplate += 1,
            SpanBasis::NoSource => unattributed += 1,
            SpanBasis::Sources { outcomes, deciding, .. } => match outcomes[*deciding].basis {
                Basis::UnderThreshold { .. } => under += 1,
                Basis::OutsideSource => outside += 1,
                Basis::Default => by_default += 1,
                Basis::Rule(r) => {
                    let name = &ctx.policy.rules[r].name;
                    match by_rule.iter_mut().find(|(n, _)| n == name) {
                        Some((_, c)) => *c += 1,
                        None => by_rule.push((name.clone(), 1)),
                    }
                }
            },
        }
    }
    let mut parts = Vec::new();
    for (name, n) in by_rule {
        parts.push(format!("{n} under rule {name:?}"));
    }
    if under > 0 {
        parts.push(format!(
            "{under} under the threshold of {}",
            if under == 1 { "its category" } else { "their categories" }
        ));
    }
    if boilerplate > 0 {
        parts.push(format!("{boilerplate} as boilerplate"));
    }
    if outside > 0 {
        parts.push(format!("{outside} because the source's rights do not apply in {}", ctx.jurisdiction));
    }
    if by_default > 0 {
        parts.push(format!("{by_default} by the default action"));
    }
    if unattributed > 0 {
        parts.push(format!("{unattributed} without an attributed source"));
    }
    let n = allowed.len();
    format!("Allowed {}{} span{}: {}.", if all { "" } else { "the other " }, n, plural(n), join(&parts))
}

/// The deciding outcome of a span, if it has sources and is not boilerplate.
fn deciding<'j, 'a>(j: &'j Judged<'a>) -> Option<&'j Outcome<'a>> {
    match &j.basis {
        SpanBasis::Sources { outcomes, deciding, .. } => outcomes.get(*deciding),
        _ => None,
    }
}

/// The facts a rule rests on, as clauses: the sources and their licences, then
/// what the rule's conditions checked (notice, TDM reservation, coverage,
/// jurisdiction).
fn clauses(ctx: &Ctx<'_>, rule: Option<&Rule>, sources: &[&Outcome<'_>]) -> Vec<String> {
    let mut out = Vec::new();
    let one = sources.len() == 1;
    if one {
        let f = &sources[0].facts;
        out.push(format!(
            "source {:?} is licensed {} ({}){}",
            f.source_label(),
            license_text(&f.source.license),
            f.class,
            signal(f.source, "license", " per ")
        ));
    } else {
        let named: Vec<String> = sources
            .iter()
            .map(|o| {
                let f = &o.facts;
                format!("{:?} ({}, {})", f.source_label(), license_text(&f.source.license), f.class)
            })
            .collect();
        out.push(format!("sources {}", name_list(named)));
    }
    let Some(rule) = rule else { return out };
    let subject = if one { "it" } else { "each" };
    match rule.notified {
        Some(true) => out.push(format!("{subject} is under a rightsholder notice")),
        Some(false) => out.push(format!("{subject} is under no rightsholder notice")),
        None => {}
    }
    // The signal that set the flag, when imported signals did (one source only).
    let tdm_signal =
        |lead| if one { signal(sources[0].facts.source, "tdm_opt_out", lead) } else { String::new() };
    match rule.tdm_opt_out {
        Some(true) => out.push(format!(
            "{subject} carries a text-and-data-mining opt-out (CDSM Art. 4(3)){}",
            tdm_signal(": TDM reservation via ")
        )),
        Some(false) => {
            out.push(format!("{subject} carries no text-and-data-mining opt-out{}", tdm_signal(" per ")))
        }
        None => {}
    }
    if let Some(m) = rule.min_coverage {
        if one {
            out.push(format!(
                "it makes up {} of the output (the rule requires {})",
                percent(sources[0].facts.coverage),
                percent(m)
            ));
        } else {
            out.push(format!("each makes up at least {} of the output", percent(m)));
        }
    }
    if let Some(list) = &rule.jurisdictions {
        match ctx.policy.jurisdictions.find_within(&ctx.jurisdiction, list) {
            Some(EVERYWHERE) | None => {}
            Some(item) if item == ctx.jurisdiction => {
                out.push(format!("the request jurisdiction is {}", ctx.jurisdiction))
            }
            Some(item) => out.push(format!("the request jurisdiction {} is in {item}", ctx.jurisdiction)),
        }
    }
    out
}

/// The imported signal that gave `field` its value, cited after `lead`
/// (`: TDM reservation via tdmrep.json of example.org, 2026-03-01`); empty
/// when the value was typed into a sidecar by hand.
fn signal(source: &Source, field: &str, lead: &str) -> String {
    source
        .provenance
        .iter()
        .find(|p| p.applied && p.field == field)
        .map(|p| format!("{lead}{}", p.citation()))
        .unwrap_or_default()
}

/// `bytes 120–480, 64 tokens, exact copy`.
fn facts_of_span(span: &Span) -> String {
    format!("bytes {}–{}, {}", span.byte_start, span.byte_end, details(span))
}

/// `64 tokens, exact copy`.
fn details(span: &Span) -> String {
    let unit = if span.stream == Stream::Canon { "code lexemes" } else { "tokens" };
    let kind = match span.kind {
        SpanKind::Exact => "exact copy".to_string(),
        SpanKind::Near => format!("near-verbatim copy, similarity {:.2}", span.similarity),
        SpanKind::CodeCanonical => "code copy with identifiers and literals changed".to_string(),
        SpanKind::Boilerplate => "boilerplate".to_string(),
    };
    format!("{} {unit}, {kind}", span.tokens)
}

/// `12 < 50 tokens`, or the characters when the tokens were enough.
fn shortfall(span: &Span, min_tokens: usize, min_chars: Option<usize>) -> String {
    let unit = if span.stream == Stream::Canon { "code lexemes" } else { "tokens" };
    if span.tokens < min_tokens {
        return format!("{} < {min_tokens} {unit}", span.tokens);
    }
    let chars = span.text.chars().count();
    format!("{chars} < {} characters", min_chars.unwrap_or(0))
}

fn license_text(l: &str) -> &str {
    let t = l.trim();
    if t.is_empty() {
        "NOASSERTION"
    } else {
        t
    }
}

fn percent(f: f64) -> String {
    format!("{:.0}%", f * 100.0)
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

fn span_verb(a: Action) -> &'static str {
    match a {
        Action::Allow => "Allowed",
        Action::Annotate => "Annotated",
        Action::Redact => "Redacted",
        Action::Block => "Blocked the response for",
    }
}

fn group_verb(a: Action) -> &'static str {
    match a {
        Action::Allow => "Allowed",
        Action::Annotate => "Annotated",
        Action::Redact => "Redacted",
        Action::Block => "Blocked the response over",
    }
}

fn response_verb(a: Action) -> &'static str {
    match a {
        Action::Allow => "Allowed the response",
        Action::Annotate => "Allowed the response with citations",
        Action::Redact => "Redacted parts of the response",
        Action::Block => "Blocked the response",
    }
}

/// `"a", "b" and 2 more`.
fn name_list(mut names: Vec<String>) -> String {
    if names.len() > NAMED_SOURCES {
        let more = names.len() - NAMED_SOURCES;
        names.truncate(NAMED_SOURCES);
        names.push(format!("{more} more"));
    }
    join(&names)
}

/// `a`, `a and b`, `a, b and c`.
fn join(parts: &[String]) -> String {
    match parts {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}
