//! Web signals from a crawl's saved responses (nothing here fetches the web):
//! a WARC file ([`warc`](mod@self::warc)) or a directory of saved pages with
//! their headers ([`saved`]).
//!
//! Responses are read in one pass. A site's `/.well-known/tdmrep.json`,
//! `/robots.txt` and `/ai.txt` are kept per origin; of every other
//! successful response (a page) only its TDMRep headers and meta elements
//! are kept. Then each page gets one record: its own declarations, its
//! site's files as they apply to its path, and its URL, resolved by
//! precedence ([`crate::signal`]).

mod aitxt;
mod html;
mod http;
mod pattern;
mod robots;
pub(crate) mod saved;
mod tdmrep;
pub(crate) mod warc;

use std::collections::HashMap;

use url::Url;

use crate::error::{Result, RightsError};
use crate::record::{resolve, Claim, Field, RightsRecord, Selector};
use crate::signal::Signal;

pub use robots::AI_AGENTS;

use self::http::HttpResponse;

/// A site's own files, as found in the crawl.
#[derive(Default)]
struct Site {
    tdmrep: Option<(tdmrep::TdmrepJson, String, Option<String>)>,
    robots: Option<(robots::RobotsTxt, String, Option<String>)>,
    ai: Option<(aitxt::AiTxt, String, Option<String>)>,
}

/// A page: where it is, and what it declares itself.
struct Page {
    url: Url,
    selector: Selector,
    claims: Vec<Claim>,
}

/// A crawl read so far.
#[derive(Default)]
pub(crate) struct Crawl {
    sites: HashMap<String, Site>,
    pages: Vec<Page>,
    /// Problems with single responses (a site file that does not parse).
    pub warnings: Vec<String>,
}

impl Crawl {
    /// Takes one saved response for `url`, fetched at `at` (RFC 3339);
    /// `selector` names the document a page becomes.
    fn add(&mut self, url: Url, at: Option<String>, response: HttpResponse, selector: Selector) {
        if !(200..300).contains(&response.status) {
            return;
        }
        let origin = url.origin().ascii_serialization();
        let source = url.to_string();
        let path = url.path().to_string();
        match path.as_str() {
            "/.well-known/tdmrep.json" => match tdmrep::TdmrepJson::parse(&response.body) {
                Ok(f) => self.sites.entry(origin).or_default().tdmrep = Some((f, source, at)),
                Err(e) => self.warnings.push(format!("{source}: {e}; ignored")),
            },
            "/robots.txt" => {
                self.sites.entry(origin).or_default().robots =
                    Some((robots::RobotsTxt::parse(&response.body), source, at))
            }
            "/ai.txt" => {
                self.sites.entry(origin).or_default().ai =
                    Some((aitxt::AiTxt::parse(&response.body), source, at))
            }
            _ => {
                let mut claims = tdmrep::declared(
                    Signal::TdmHeader,
                    response.header("tdm-reservation"),
                    response.header("tdm-policy"),
                    &source,
                    at.as_deref(),
                );
                if response.is_html() {
                    let meta = html::tdm_meta(&String::from_utf8_lossy(&response.body));
                    claims.extend(tdmrep::declared(
                        Signal::HtmlMeta,
                        meta.reservation.as_deref(),
                        meta.policy.as_deref(),
                        &source,
                        at.as_deref(),
                    ));
                }
                claims.push(
                    Claim::new(Signal::Crawl, Field::Url, source.clone(), source).observed(at.as_deref()),
                );
                self.pages.push(Page { url, selector, claims });
            }
        }
    }

    /// One record per page, in the order the pages were read.
    pub fn records(self) -> Vec<RightsRecord> {
        let Crawl { sites, pages, .. } = self;
        pages
            .into_iter()
            .filter_map(|p| {
                let mut claims = p.claims;
                if let Some(site) = sites.get(&p.url.origin().ascii_serialization()) {
                    claims.extend(site_claims(site, &p.url));
                }
                resolve(p.selector, claims)
            })
            .collect()
    }
}

/// Web signals that arrive one at a time, for a service that applies them
/// to its sources as they come (the registry's `POST /v1/signals`) rather
/// than at index build: a site's `/.well-known/tdmrep.json`, `/robots.txt`
/// or `/ai.txt`, or a page with its TDMRep header or `<meta>`, each with the
/// URL it was fetched from. A later file of a site replaces the earlier one,
/// as a later crawl would.
#[derive(Default)]
pub struct WebSignals {
    crawl: Crawl,
}

impl WebSignals {
    /// Takes the response fetched from `url` (observed at `observed`, RFC
    /// 3339): its headers, as (name, value), and its body. Which signal it
    /// is follows from the URL's path, as in a crawl; any other path is a
    /// page, read for its `tdm-reservation`/`tdm-policy` headers and HTML
    /// `<meta>`. A site file that does not parse is refused.
    pub fn add(
        &mut self,
        url: &str,
        observed: Option<&str>,
        headers: &[(String, String)],
        body: &[u8],
    ) -> Result<()> {
        let parsed = Url::parse(url).map_err(|e| RightsError::format(url, format!("not a URL: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(RightsError::format(url, "web signals come from http(s) URLs"));
        }
        let headers =
            headers.iter().map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string())).collect();
        let response = HttpResponse { status: 200, headers, body: body.to_vec() };
        let before = self.crawl.warnings.len();
        let selector = Selector::DocUrl(parsed.to_string());
        self.crawl.add(parsed, observed.map(str::to_string), response, selector);
        match self.crawl.warnings.drain(before..).next() {
            Some(w) => Err(RightsError::format(url, w)),
            None => Ok(()),
        }
    }

    /// What the signals say about the source at `url`: the page's own
    /// declarations and its site's files as they apply to its path,
    /// resolved by precedence ([`crate::Signal::precedence`]); `None` when
    /// none speaks to it, or `url` is not a web URL.
    pub fn record_for(&self, url: &str) -> Option<RightsRecord> {
        let parsed = Url::parse(url).ok()?;
        let mut claims: Vec<Claim> = self
            .crawl
            .pages
            .iter()
            .filter(|p| p.url == parsed)
            .flat_map(|p| p.claims.iter().filter(|c| c.signal != Signal::Crawl).cloned())
            .collect();
        if let Some(site) = self.crawl.sites.get(&parsed.origin().ascii_serialization()) {
            claims.extend(site_claims(site, &parsed));
        }
        resolve(Selector::DocUrl(parsed.to_string()), claims)
    }
}

/// What a site's files say about the page at `url`.
fn site_claims(site: &Site, url: &Url) -> Vec<Claim> {
    let path = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    };
    let mut out = Vec::new();
    if let Some((f, src, at)) = &site.tdmrep {
        out.extend(f.claims(&path, src, at.as_deref()));
    }
    if let Some((f, src, at)) = &site.robots {
        out.extend(f.claims(url.as_str(), src, at.as_deref()));
    }
    if let Some((f, src, at)) = &site.ai {
        out.extend(f.claims(&path, src, at.as_deref()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn applied(r: &RightsRecord, field: &str) -> Vec<(String, bool)> {
        r.provenance.iter().filter(|p| p.field == field).map(|p| (p.signal.clone(), p.applied)).collect()
    }

    /// Signals posted one by one: the TDMRep specification's `tdmrep.json`
    /// example, a robots.txt for an AI crawler, and a page's own header,
    /// each applying to the pages it covers, by precedence.
    #[test]
    fn posted_signals_apply_to_the_pages_they_cover() {
        let mut s = WebSignals::default();
        let tdmrep = br#"[
            {"location": "/images/*", "tdm-reservation": 1, "tdm-policy": "https://provider.com/policies/policy.json"},
            {"location": "/*", "tdm-reservation": 0}
        ]"#;
        s.add("https://provider.com/.well-known/tdmrep.json", Some("2026-03-01T00:00:00Z"), &[], tdmrep)
            .unwrap();
        s.add("https://provider.com/robots.txt", None, &[], b"User-agent: GPTBot\nDisallow: /\n").unwrap();
        let img = s.record_for("https://provider.com/images/cat.jpg").unwrap();
        assert_eq!(img.tdm_opt_out, Some(true));
        assert_eq!(img.tdm_policy.as_deref(), Some("https://provider.com/policies/policy.json"));
        let page = s.record_for("https://provider.com/articles/1").unwrap();
        assert_eq!(page.tdm_opt_out, Some(false), "tdmrep.json outranks robots.txt");
        assert_eq!(
            applied(&page, "tdm_opt_out"),
            [("tdmrep.json".to_string(), true), ("robots.txt".to_string(), false)]
        );
        // A page's own header outranks its site's file.
        let h = [("TDM-Reservation".to_string(), "1".to_string())];
        s.add("https://provider.com/articles/2", None, &h, b"<p>text</p>").unwrap();
        assert_eq!(s.record_for("https://provider.com/articles/2").unwrap().tdm_opt_out, Some(true));
        assert_eq!(s.record_for("https://provider.com/articles/1").unwrap().tdm_opt_out, Some(false));
        assert!(s.record_for("https://elsewhere.org/a").is_none(), "no signal for another site");
        assert!(s.record_for("not a url").is_none());
    }

    #[test]
    fn bad_signals_are_refused() {
        let mut s = WebSignals::default();
        assert!(s.add("ftp://provider.com/robots.txt", None, &[], b"").is_err());
        assert!(s.add("provider.com/robots.txt", None, &[], b"").is_err());
        let e = s.add("https://provider.com/.well-known/tdmrep.json", None, &[], b"{not json").unwrap_err();
        assert!(e.to_string().contains("tdmrep.json"), "{e}");
        assert!(s.record_for("https://provider.com/a").is_none(), "nothing was kept");
    }
}
