//! TDMRep, the W3C community group's TDM Reservation Protocol (final
//! report, 2024): a site's `/.well-known/tdmrep.json`, the `tdm-reservation`
//! and `tdm-policy` HTTP response headers, and the same names as HTML
//! `<meta>` (read in [`super::html`]).
//!
//! `tdm-reservation` is `1` (TDM rights reserved) or `0` (not reserved);
//! `tdm-policy` is a URL of the rightsholder's licensing terms. A
//! `tdmrep.json` is an array of rules, each a `location` path pattern
//! (robots.txt syntax, [`super::pattern`]) with those two properties; the
//! most specific (longest) matching location applies to a page, the first
//! one among equally long ones.

use serde::Deserialize;

use crate::record::{Claim, Field};
use crate::signal::Signal;

use super::pattern;

/// One rule of a `tdmrep.json`.
#[derive(Debug, Clone, Deserialize)]
struct RawRule {
    location: String,
    #[serde(rename = "tdm-reservation")]
    reservation: serde_json::Value,
    #[serde(rename = "tdm-policy", default)]
    policy: Option<String>,
}

/// A checked rule.
#[derive(Debug, Clone)]
pub(crate) struct Rule {
    location: String,
    reserved: bool,
    policy: Option<String>,
}

/// A site's `tdmrep.json`.
#[derive(Debug, Clone, Default)]
pub(crate) struct TdmrepJson {
    rules: Vec<Rule>,
}

/// `1`/`0` (number or string) as a reservation.
pub(crate) fn reservation(v: &str) -> Option<bool> {
    match v.trim() {
        "1" => Some(true),
        "0" => Some(false),
        _ => None,
    }
}

impl TdmrepJson {
    /// Parses a `tdmrep.json`; `at` names it in errors.
    pub fn parse(bytes: &[u8]) -> Result<Self, String> {
        let raw: Vec<RawRule> =
            serde_json::from_slice(bytes).map_err(|e| format!("not a TDMRep rule array: {e}"))?;
        let mut rules = Vec::with_capacity(raw.len());
        for (i, r) in raw.into_iter().enumerate() {
            let text = match &r.reservation {
                serde_json::Value::Number(n) => n.to_string(),
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let reserved = reservation(&text)
                .ok_or_else(|| format!("rule {}: tdm-reservation must be 0 or 1, not {text}", i + 1))?;
            rules.push(Rule { location: r.location, reserved, policy: r.policy });
        }
        Ok(TdmrepJson { rules })
    }

    /// The claims of the rule that applies to `path` (path and query of the page).
    pub fn claims(&self, path: &str, source: &str, observed: Option<&str>) -> Vec<Claim> {
        let mut best: Option<&Rule> = None;
        for r in self.rules.iter().filter(|r| pattern::matches(&r.location, path)) {
            if best.is_none_or(|b| r.location.len() > b.location.len()) {
                best = Some(r);
            }
        }
        let Some(r) = best else { return Vec::new() };
        let detail = format!("location {:?}", r.location);
        let mut out = vec![Claim::new(Signal::TdmrepJson, Field::TdmOptOut, r.reserved.to_string(), source)
            .observed(observed)
            .detail(detail.clone())];
        if let Some(p) = &r.policy {
            out.push(
                Claim::new(Signal::TdmrepJson, Field::TdmPolicy, p, source).observed(observed).detail(detail),
            );
        }
        out
    }
}

/// The claims of a response's `tdm-reservation` / `tdm-policy` headers, or
/// of a page's meta elements of those names (`signal` says which).
pub(crate) fn declared(
    signal: Signal,
    reserved: Option<&str>,
    policy: Option<&str>,
    source: &str,
    observed: Option<&str>,
) -> Vec<Claim> {
    let Some(value) = reserved else { return Vec::new() };
    let Some(reserved) = reservation(value) else {
        tracing::warn!("{source}: {signal} tdm-reservation {value:?} is neither 0 nor 1; ignored");
        return Vec::new();
    };
    let detail = format!("tdm-reservation: {}", value.trim());
    let mut out = vec![Claim::new(signal, Field::TdmOptOut, reserved.to_string(), source)
        .observed(observed)
        .detail(detail.clone())];
    if let Some(p) = policy.filter(|p| !p.trim().is_empty()) {
        out.push(Claim::new(signal, Field::TdmPolicy, p.trim(), source).observed(observed).detail(detail));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The specification's example file (§ "TDM File on the Origin Server").
    const SPEC_EXAMPLE: &str = r#"[
      {"location": "/", "tdm-reservation": 1, "tdm-policy": "https://provider.com/policies/policy.json"},
      {"location": "/images/*", "tdm-reservation": 1, "tdm-policy": "https://provider.com/policies/policy-images.json"},
      {"location": "/open/*", "tdm-reservation": 0}
    ]"#;

    fn tdm(claims: &[Claim]) -> Option<(String, Option<String>)> {
        let r = claims.iter().find(|c| c.field == Field::TdmOptOut)?;
        let p = claims.iter().find(|c| c.field == Field::TdmPolicy).map(|c| c.value.clone());
        Some((r.value.clone(), p))
    }

    #[test]
    fn the_most_specific_location_applies() {
        let f = TdmrepJson::parse(SPEC_EXAMPLE.as_bytes()).unwrap();
        let at = |p| tdm(&f.claims(p, "https://provider.com/.well-known/tdmrep.json", None));
        assert_eq!(
            at("/books/1.html"),
            Some(("true".into(), Some("https://provider.com/policies/policy.json".into())))
        );
        assert_eq!(
            at("/images/cat.jpg").unwrap().1.as_deref(),
            Some("https://provider.com/policies/policy-images.json")
        );
        assert_eq!(at("/open/essay.html"), Some(("false".into(), None)));
        let only_open = TdmrepJson::parse(br#"[{"location": "/open/*", "tdm-reservation": "0"}]"#).unwrap();
        assert!(only_open.claims("/closed", "x", None).is_empty());
    }

    #[test]
    fn bad_files_and_values_are_refused() {
        assert!(TdmrepJson::parse(b"{}").unwrap_err().contains("rule array"));
        let e = TdmrepJson::parse(br#"[{"location": "/", "tdm-reservation": 2}]"#).unwrap_err();
        assert!(e.contains("rule 1") && e.contains("0 or 1"), "{e}");
        assert!(declared(Signal::TdmHeader, Some("yes"), None, "u", None).is_empty());
        let c = declared(Signal::TdmHeader, Some(" 1 "), Some("https://p/policy"), "u", Some("2026-03-01"));
        assert_eq!(tdm(&c), Some(("true".into(), Some("https://p/policy".into()))));
    }
}
