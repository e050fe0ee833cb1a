//! Rights records: the sidecar's fields plus provenance, and how the
//! statements of several signals about one document become one record.

use serde::Serialize;

use recital_index::Provenance;

use crate::signal::Signal;

/// Which documents a record applies to: exactly one selector, as in a sidecar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    /// A document id.
    DocId(String),
    /// A glob over document paths (relative to the input root or the
    /// directory the signals were read from).
    Path(String),
    /// A document's URL (a JSONL record's `url`, or an id that is a URL).
    DocUrl(String),
}

/// The rights of the documents a selector names, with the provenance of each
/// value: a line of a rights sidecar (`recital index build --rights`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RightsRecord {
    /// Selector `doc_id`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub doc_id: Option<String>,
    /// Selector `path`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Selector `doc_url`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub doc_url: Option<String>,
    /// SPDX licence expression.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
    /// Rights holder.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub holder: Option<String>,
    /// Source URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Text-and-data-mining rights reserved (CDSM Art. 4(3)).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tdm_opt_out: Option<bool>,
    /// TDMRep `tdm-policy`: where the TDM licensing terms are.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tdm_policy: Option<String>,
    /// ISCC code identifying the work (a Text-Code of a file's text).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iscc: Option<String>,
    /// Every statement about these fields, applied or outranked.
    pub provenance: Vec<Provenance>,
}

impl RightsRecord {
    /// The record as one sidecar line (JSON, no newline).
    pub fn to_json_line(&self) -> String {
        serde_json::to_string(self).expect("a rights record serialises")
    }
}

/// A rights field a signal can speak to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Field {
    TdmOptOut,
    TdmPolicy,
    License,
    Holder,
    Url,
    Iscc,
}

impl Field {
    fn name(self) -> &'static str {
        match self {
            Field::TdmOptOut => "tdm_opt_out",
            Field::TdmPolicy => "tdm_policy",
            Field::License => "license",
            Field::Holder => "holder",
            Field::Url => "url",
            Field::Iscc => "iscc",
        }
    }
}

/// One signal's statement about one field of one document.
#[derive(Debug, Clone)]
pub(crate) struct Claim {
    pub signal: Signal,
    pub field: Field,
    pub value: String,
    /// URL or `FILE[:LINE]` it was read from.
    pub source: String,
    pub observed: Option<String>,
    pub detail: Option<String>,
}

impl Claim {
    pub fn new(signal: Signal, field: Field, value: impl Into<String>, source: impl Into<String>) -> Self {
        Claim { signal, field, value: value.into(), source: source.into(), observed: None, detail: None }
    }

    pub fn observed(mut self, at: Option<&str>) -> Self {
        self.observed = at.map(str::to_string);
        self
    }

    pub fn detail(mut self, d: impl Into<String>) -> Self {
        self.detail = Some(d.into());
        self
    }

    fn provenance(&self, applied: bool) -> Provenance {
        Provenance {
            signal: self.signal.name().to_string(),
            field: self.field.name().to_string(),
            value: self.value.clone(),
            source: self.source.clone(),
            observed: self.observed.clone(),
            detail: self.detail.clone(),
            applied,
        }
    }
}

/// The record for `selector` from every claim about its documents: per
/// field, the claim of highest precedence ([`Signal::precedence`]) decides;
/// at equal precedence the first, except that a TDM reservation wins over
/// its absence. `None` when there is no claim.
pub(crate) fn resolve(selector: Selector, mut claims: Vec<Claim>) -> Option<RightsRecord> {
    if claims.is_empty() {
        return None;
    }
    // Stable: claims of equal rank keep the order they were read in.
    claims.sort_by_key(|c| {
        let reserved = c.field == Field::TdmOptOut && c.value == "true";
        (c.field, std::cmp::Reverse(c.signal.precedence()), !reserved)
    });
    let (doc_id, path, doc_url) = match selector {
        Selector::DocId(s) => (Some(s), None, None),
        Selector::Path(s) => (None, Some(s), None),
        Selector::DocUrl(s) => (None, None, Some(s)),
    };
    let mut r = RightsRecord {
        doc_id,
        path,
        doc_url,
        license: None,
        holder: None,
        url: None,
        tdm_opt_out: None,
        tdm_policy: None,
        iscc: None,
        provenance: Vec::with_capacity(claims.len()),
    };
    let mut last: Option<Field> = None;
    for c in &claims {
        let first = last != Some(c.field);
        last = Some(c.field);
        r.provenance.push(c.provenance(first));
        if !first {
            continue;
        }
        let v = Some(c.value.clone());
        match c.field {
            Field::TdmOptOut => r.tdm_opt_out = Some(c.value == "true"),
            Field::TdmPolicy => r.tdm_policy = v,
            Field::License => r.license = v,
            Field::Holder => r.holder = v,
            Field::Url => r.url = v,
            Field::Iscc => r.iscc = v,
        }
    }
    Some(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precedence_decides_and_losers_stay() {
        let c = |s, f, v: &str| Claim::new(s, f, v, "https://example.org/x");
        let r = resolve(
            Selector::DocUrl("https://example.org/a".into()),
            vec![
                c(Signal::RobotsTxt, Field::TdmOptOut, "true"),
                c(Signal::TdmrepJson, Field::TdmOptOut, "false"),
                c(Signal::AiTxt, Field::TdmOptOut, "true"),
                c(Signal::Crawl, Field::Url, "https://example.org/a"),
            ],
        )
        .unwrap();
        assert_eq!(r.tdm_opt_out, Some(false));
        let tdm: Vec<(&str, bool)> = r
            .provenance
            .iter()
            .filter(|p| p.field == "tdm_opt_out")
            .map(|p| (p.signal.as_str(), p.applied))
            .collect();
        assert_eq!(tdm, [("tdmrep.json", true), ("robots.txt", false), ("ai.txt", false)]);
        assert_eq!(r.url.as_deref(), Some("https://example.org/a"));
        let line: serde_json::Value = serde_json::from_str(&r.to_json_line()).unwrap();
        assert_eq!(line["doc_url"], "https://example.org/a");
        assert!(line.get("path").is_none() && line.get("license").is_none());
    }

    #[test]
    fn a_reservation_wins_a_tie() {
        let c = |v: &str| Claim::new(Signal::RobotsTxt, Field::TdmOptOut, v, "r");
        let r = resolve(Selector::Path("a".into()), vec![c("false"), c("true")]).unwrap();
        assert_eq!(r.tdm_opt_out, Some(true));
        assert!(resolve(Selector::Path("a".into()), vec![]).is_none());
    }
}
