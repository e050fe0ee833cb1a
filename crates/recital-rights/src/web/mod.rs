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
