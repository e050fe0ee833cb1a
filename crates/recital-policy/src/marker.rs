//! The redaction marker: a template such as `[redacted: copies {source} ({license})]`.

use crate::decision::{Citation, SpanDecision};

/// Placeholders of `redaction_marker`.
pub(crate) const MARKER_FIELDS: &[&str] = &["source", "license", "doc_id", "path", "url", "holder", "rule"];
/// The marker when the policy sets none.
pub(crate) const DEFAULT_MARKER: &str = "[redacted: copies {source} ({license})]";

/// Checks the placeholders of a redaction marker template.
pub(crate) fn check_marker(m: &str) -> Result<(), String> {
    let mut rest = m;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            return Err(format!("redaction_marker has a '{{' without '}}': {m:?}"));
        };
        let field = &after[..close];
        if !MARKER_FIELDS.contains(&field) {
            return Err(format!(
                "redaction_marker: unknown placeholder {{{field}}}; known: {}",
                MARKER_FIELDS.iter().map(|f| format!("{{{f}}}")).collect::<Vec<_>>().join(", ")
            ));
        }
        rest = &after[close + 1..];
    }
    if rest.contains('}') {
        return Err(format!("redaction_marker has a '}}' without '{{': {m:?}"));
    }
    Ok(())
}

/// Fills a (checked) marker template; unknown placeholders stay as written.
pub(crate) fn render_marker(template: &str, field: &dyn Fn(&str) -> Option<String>) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) => {
                let name = &after[..close];
                match field(name) {
                    Some(v) => out.push_str(&v),
                    None => {
                        out.push('{');
                        out.push_str(name);
                        out.push('}');
                    }
                }
                rest = &after[close + 1..];
            }
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// The sources of some span decisions, each document once, in order.
pub(crate) fn citations<'a>(ds: impl Iterator<Item = &'a SpanDecision>) -> Vec<Citation> {
    let mut out: Vec<Citation> = Vec::new();
    for d in ds {
        for c in &d.sources {
            if !out.iter().any(|x| x.doc_id == c.doc_id) {
                out.push(c.clone());
            }
        }
    }
    out
}

/// The marker for some span decisions: `{source}` names the first source
/// (and how many more), `{license}` lists every distinct licence, `{rule}`
/// every distinct rule; the other fields are the first source's.
pub(crate) fn render_for<'a>(template: &str, ds: impl Iterator<Item = &'a SpanDecision> + Clone) -> String {
    let cites = citations(ds.clone());
    let first = cites.first();
    let mut licenses: Vec<&str> = Vec::new();
    for c in &cites {
        if !licenses.contains(&c.license.as_str()) {
            licenses.push(&c.license);
        }
    }
    let mut rules: Vec<String> = Vec::new();
    for r in ds.filter_map(|d| d.rule.clone()) {
        if !rules.contains(&r) {
            rules.push(r);
        }
    }
    render_marker(template, &|field| {
        Some(match field {
            "source" => match cites.len() {
                0 => "an indexed work".to_string(),
                1 => cites[0].label().to_string(),
                n => format!("{} and {} more", cites[0].label(), n - 1),
            },
            "license" if licenses.is_empty() => "NOASSERTION".to_string(),
            "license" => licenses.join(", "),
            "doc_id" => first.map(|c| c.doc_id.clone()).unwrap_or_default(),
            "path" => first.and_then(|c| c.path.clone()).unwrap_or_default(),
            "url" => first.and_then(|c| c.url.clone()).unwrap_or_default(),
            "holder" => first.and_then(|c| c.holder.clone()).unwrap_or_default(),
            "rule" => rules.join(", "),
            _ => return None,
        })
    })
}
