//! Rights metadata of one document as the index stores it: SPDX licence,
//! holder, source, TDM opt-out, jurisdictions, category, and the provenance
//! of each field. How they are derived from sidecars is `crate::ingest`.

use serde::{Deserialize, Serialize};

use crate::license::NOASSERTION;

/// Rights of one document, as stored in the index.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Rights {
    /// SPDX licence expression (or `NOASSERTION`).
    pub license: String,
    /// Rights holder, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holder: Option<String>,
    /// Source URL or identifier, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Text-and-data-mining opt-out declared (CDSM Art. 4(3)).
    #[serde(default)]
    pub tdm_opt_out: bool,
    /// Jurisdictions the rights apply in (`*` = everywhere).
    #[serde(default)]
    pub jurisdictions: Vec<String>,
    /// Category (prose, code, lyrics, news, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// Where the rightsholder's TDM licensing terms are (TDMRep `tdm-policy`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tdm_policy: Option<String>,
    /// ISCC code identifying the work across copies (ISO 24138).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iscc: Option<String>,
    /// Which signal said what about these rights, from where and when; the
    /// signals that lost to a higher-precedence one are kept, with
    /// `applied: false`. Empty for rights typed into a sidecar by hand.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub provenance: Vec<Provenance>,
}

/// One signal's statement about one rights field: the provenance of a value.
///
/// `recital rights import` writes these (crate `recital-rights`); they travel
/// with the rights into the index, the scan report's sources and the policy's
/// statement of reasons, which cites the applied one ("TDM reservation via
/// tdmrep.json of example.org, 2026-03-01").
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Provenance {
    /// The signal: `C2PA manifest`, `tdmrep.json`, `tdm-reservation header`, `html meta`,
    /// `robots.txt`, `ai.txt`, `REUSE.toml`, `.reuse/dep5`, `debian/copyright`,
    /// `SPDX header`, `ScanCode`, `SPDX-License-Identifier line`, `sidecar`…
    pub signal: String,
    /// The rights field it speaks to (`tdm_opt_out`, `license`, `holder`,
    /// `tdm_policy`, `url`, `iscc`).
    pub field: String,
    /// What it said, as the field's value (`true`, `MIT`).
    pub value: String,
    /// Where it was read: a URL, or a file with its line (`debian/copyright:12`).
    pub source: String,
    /// When it was observed (the crawl's capture time, RFC 3339), if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed: Option<String>,
    /// The rule or line that said it (`User-agent: GPTBot / Disallow: /`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Whether this statement gave the field its value (false: a signal of
    /// higher precedence, or a later rule, decided it).
    pub applied: bool,
}

impl Provenance {
    /// How a statement of reasons names the signal: `tdmrep.json of
    /// example.org, 2026-03-01` (the host for a URL; for a file, the file, or
    /// `SPDX header in src/a.c`, or `C2PA manifest of photo.jpg
    /// (c2pa.training-mining: notAllowed)`; the day it was observed when known).
    pub fn citation(&self) -> String {
        let file = self
            .source
            .rsplit_once(':')
            .filter(|(_, l)| l.parse::<u32>().is_ok())
            .map_or(&*self.source, |(f, _)| f);
        let mut s = match host_of(&self.source) {
            Some(host) => format!("{} of {host}", self.signal),
            // `debian/copyright:12` says what it is.
            None if file.ends_with(&self.signal) => self.source.clone(),
            // A C2PA manifest is part of its file, and the detail's first
            // clause is the assertion that spoke (`c2pa.training-mining: notAllowed`).
            None if self.signal == "C2PA manifest" => {
                let assertion =
                    self.detail.as_deref().and_then(|d| d.split("; ").next()).filter(|a| !a.is_empty());
                match assertion {
                    Some(a) => format!("{} of {} ({a})", self.signal, self.source),
                    None => format!("{} of {}", self.signal, self.source),
                }
            }
            None => format!("{} in {}", self.signal, self.source),
        };
        if let Some(day) = self.observed.as_deref().map(|d| d.get(..10).unwrap_or(d)) {
            s.push_str(", ");
            s.push_str(day);
        }
        s
    }
}

/// The host of an `http(s)://` URL.
fn host_of(url: &str) -> Option<&str> {
    let rest = url
        .split_once("://")
        .filter(|(s, _)| s.eq_ignore_ascii_case("http") || s.eq_ignore_ascii_case("https"))?
        .1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    Some(host).filter(|h| !h.is_empty())
}

/// A document URL as rules compare it: without its fragment, scheme and host
/// in lower case, an empty path as `/`.
pub fn normalize_url(url: &str) -> String {
    let url = url.trim();
    let url = url.split_once('#').map_or(url, |(u, _)| u);
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_string() };
    let cut = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(cut);
    let tail = if tail.is_empty() || tail.starts_with('?') { format!("/{tail}") } else { tail.to_string() };
    format!("{}://{}{tail}", scheme.to_ascii_lowercase(), authority.to_ascii_lowercase())
}

impl Default for Rights {
    fn default() -> Self {
        Self {
            license: NOASSERTION.into(),
            holder: None,
            url: None,
            tdm_opt_out: false,
            jurisdictions: vec!["*".into()],
            category: None,
            tdm_policy: None,
            iscc: None,
            provenance: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn citations_name_the_signal_and_where() {
        let p = |signal: &str, source: &str, detail: Option<&str>| Provenance {
            signal: signal.into(),
            field: "tdm_opt_out".into(),
            value: "true".into(),
            source: source.into(),
            observed: None,
            detail: detail.map(str::to_string),
            applied: true,
        };
        let c2pa =
            p("C2PA manifest", "photos/a.jpg", Some("c2pa.training-mining: notAllowed; manifest urn:x"));
        assert_eq!(c2pa.citation(), "C2PA manifest of photos/a.jpg (c2pa.training-mining: notAllowed)");
        assert_eq!(p("C2PA manifest", "a.jpg", None).citation(), "C2PA manifest of a.jpg");
        assert_eq!(p("SPDX header", "src/a.c", Some("x; y")).citation(), "SPDX header in src/a.c");
        assert_eq!(p("debian/copyright", "debian/copyright:12", None).citation(), "debian/copyright:12");
    }
}
