//! Rights signals in the console: the signals posted to the registry
//! (`/v1/signals`: a site's `tdmrep.json`, `robots.txt`, `ai.txt`, or a page
//! with its TDMRep header or `<meta>`), with what each says, where it came
//! from, when it was observed and since when it is in force; a form to post
//! one and a button to withdraw it.
//!
//! The roles are the API's, because every change goes through the API's
//! handlers and every list through the same store query: a rightsholder
//! sees and withdraws its own signals, an admin everyone's; a client is
//! refused. An admin may also ask what the signals say about one URL or
//! indexed document: the statements the index was built with (robots,
//! TDMRep, ai.txt, C2PA, HTML meta imported at build) beside the posted
//! ones in force. That check reads every filer's signals, so it is an
//! admin's, as the list of every filer's signals is.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Form;
use serde::Deserialize;

use recital_index::Provenance;
use recital_rights::WebSignals;

use crate::api::signals as api;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::json::Body;
use crate::store::{NewSignal, RightsSignal};

use super::registry::{blocking, check_form, require_registry, PageQuery, Paging, TokenForm, LIST_PAGE};
use super::session::Session;
use super::{render, Console, Nav, PageError, PageResult};

/// How much of a signal's body the list shows (the rest is the filer's own
/// file, available through the API).
const BODY_SHOWN: usize = 2048;

#[derive(Template)]
#[template(path = "console/signals.html")]
struct SignalsPage {
    nav: Nav,
    signals: Vec<SignalRow>,
    paging: Paging,
    check: Option<Check>,
    /// The form as filed, when it was refused.
    draft: SignalForm,
    message: Option<String>,
    error: Option<String>,
}

/// A signal with what it says.
struct SignalRow {
    signal: RightsSignal,
    /// `robots.txt`, `tdmrep.json`, `ai.txt` or `page`.
    kind: &'static str,
    /// Where its statements were read for: the site's root for a site file.
    probe: String,
    /// Its statements about `probe`.
    says: Vec<Provenance>,
    /// The start of its body.
    body: String,
    /// The body is longer than what is shown.
    cut: bool,
}

/// An admin's question: what do the signals say about this URL or document?
struct Check {
    asked: String,
    /// The indexed document, when `asked` is one's id.
    doc: Option<String>,
    /// The URL the posted signals were asked about.
    url: Option<String>,
    /// What the index was built with.
    index: Vec<Provenance>,
    /// What the posted signals in force say.
    posted: Vec<Provenance>,
}

/// `?check=`: a URL or a document id.
#[derive(Deserialize, Default)]
pub struct CheckQuery {
    #[serde(default)]
    check: Option<String>,
}

/// The post form.
#[derive(Deserialize, Default)]
pub struct SignalForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    url: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    observed: String,
    #[serde(default)]
    tdm_reservation: String,
    #[serde(default)]
    tdm_policy: String,
}

impl SignalForm {
    fn request(&self) -> NewSignal {
        let opt = |v: &str| Some(v.trim().to_string()).filter(|v| !v.is_empty());
        let headers = [("tdm-reservation", &self.tdm_reservation), ("tdm-policy", &self.tdm_policy)]
            .into_iter()
            .filter_map(|(n, v)| opt(v).map(|v| (n.to_string(), v)))
            .collect();
        NewSignal {
            url: self.url.trim().to_string(),
            body: self.body.clone(),
            headers,
            observed: opt(&self.observed),
        }
    }
}

/// Which signal a URL's path makes it, as the reader decides.
fn kind_of(url: &str) -> &'static str {
    let path = reqwest::Url::parse(url).map(|u| u.path().to_string()).unwrap_or_default();
    match path.as_str() {
        "/robots.txt" => "robots.txt",
        "/ai.txt" => "ai.txt",
        "/.well-known/tdmrep.json" => "tdmrep.json",
        _ => "page",
    }
}

/// What one signal says: a site file about the site's root page, a page
/// about itself.
fn row(signal: RightsSignal) -> SignalRow {
    let kind = kind_of(&signal.url);
    let probe = match (kind, reqwest::Url::parse(&signal.url)) {
        ("page", _) | (_, Err(_)) => signal.url.clone(),
        (_, Ok(u)) => format!("{}/", u.origin().ascii_serialization()),
    };
    let mut web = WebSignals::default();
    let headers: Vec<(String, String)> = signal.headers.clone().into_iter().collect();
    let says = match web.add(&signal.url, Some(&signal.observed), &headers, signal.body.as_bytes()) {
        Ok(()) => web.record_for(&probe).map(|r| r.provenance).unwrap_or_default(),
        Err(_) => Vec::new(),
    };
    let mut cut_at = signal.body.len().min(BODY_SHOWN);
    while !signal.body.is_char_boundary(cut_at) {
        cut_at -= 1;
    }
    let (body, cut) = (signal.body[..cut_at].to_string(), cut_at < signal.body.len());
    SignalRow { signal, kind, probe, says, body, cut }
}

async fn check(c: &Console, asked: &str) -> Result<Check, PageError> {
    let index = c.app.corpus.snapshot();
    let id = asked.to_string();
    let doc = tokio::task::spawn_blocking(move || -> recital_index::Result<_> {
        match index.find_doc(&id)? {
            Some(addr) => Ok(Some(index.doc(addr)?)),
            None => Ok(None),
        }
    })
    .await
    .map_err(|e| PageError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
    .map_err(|e| PageError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    let web = |u: &str| u.starts_with("https://") || u.starts_with("http://");
    let url = match &doc {
        Some(d) => d.rights.url.clone().or_else(|| Some(d.id.clone())).filter(|u| web(u.as_str())),
        None => Some(asked.to_string()).filter(|u| web(u.as_str())),
    };
    let live = c.app.signals.read().unwrap_or_else(|p| p.into_inner()).clone();
    let posted = url.as_deref().and_then(|u| live.record_for(u)).map(|r| r.provenance).unwrap_or_default();
    Ok(Check {
        asked: asked.to_string(),
        index: doc.as_ref().map(|d| d.rights.provenance.clone()).unwrap_or_default(),
        doc: doc.map(|d| d.id),
        url,
        posted,
    })
}

struct View {
    after: Option<String>,
    check: Option<String>,
    draft: SignalForm,
    message: Option<String>,
    error: Option<String>,
}

async fn signals_page(c: &Console, s: &Session, v: View) -> PageResult {
    let (store, who, from) = (c.app.store.clone(), s.principal.clone(), v.after.clone());
    let signals = blocking(move || store.list_signals(&who, LIST_PAGE, from.as_deref())).await?;
    let paging = Paging::of(v.after.as_deref(), signals.iter().map(|x| x.id.as_str()));
    let asked = v.check.as_deref().map(str::trim).filter(|a| !a.is_empty());
    let check = match asked {
        Some(a) if s.principal.is_admin() => Some(check(c, a).await?),
        _ => None,
    };
    let status = if v.error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    let page = SignalsPage {
        nav: Nav::of(s),
        signals: signals.into_iter().map(row).collect(),
        paging,
        check,
        draft: SignalForm { csrf: String::new(), ..v.draft },
        message: v.message,
        error: v.error,
    };
    let mut resp = render(&page);
    *resp.status_mut() = status;
    Ok(resp)
}

fn done(message: String) -> View {
    View { after: None, check: None, draft: SignalForm::default(), message: Some(message), error: None }
}

/// `GET /console/signals`: `?after=` pages the list, `?check=` (admins) asks
/// about one URL or document.
pub async fn list(
    State(c): State<Arc<Console>>,
    s: Session,
    Query(page): Query<PageQuery>,
    Query(q): Query<CheckQuery>,
) -> PageResult {
    require_registry(&s)?;
    let view =
        View { after: page.after, check: q.check, draft: SignalForm::default(), message: None, error: None };
    signals_page(&c, &s, view).await
}

/// A refusal of the API as the page again with its message; a failure of
/// the service as an error page.
async fn refused(c: &Console, s: &Session, e: ApiError, draft: SignalForm) -> PageResult {
    if e.status.is_server_error() {
        return Err(e.into());
    }
    signals_page(c, s, View { after: None, check: None, draft, message: None, error: Some(e.message) }).await
}

/// `POST /console/signals`: post a signal; it is in force when the page answers.
pub async fn post(
    State(c): State<Arc<Console>>,
    s: Session,
    headers: HeaderMap,
    Form(f): Form<SignalForm>,
) -> PageResult {
    check_form(&s, &headers, &f.csrf)?;
    match api::create_signal(State(c.app.clone()), Caller(s.principal.clone()), Body(f.request())).await {
        Ok((_, axum::Json(sig))) => {
            let msg =
                format!("Signal {} from {} is in force since {}.", sig.id, sig.url, sig.received_at_rfc3339);
            signals_page(&c, &s, done(msg)).await
        }
        Err(e) => refused(&c, &s, e, f).await,
    }
}

/// `POST /console/signals/{id}/withdraw`.
pub async fn withdraw(
    State(c): State<Arc<Console>>,
    s: Session,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<TokenForm>,
) -> PageResult {
    check_form(&s, &headers, &f.csrf)?;
    match api::withdraw_signal(State(c.app.clone()), Caller(s.principal.clone()), Path(id)).await {
        Ok(axum::Json(sig)) => {
            signals_page(&c, &s, done(format!("Withdrew signal {}: it no longer applies.", sig.id))).await
        }
        Err(e) => refused(&c, &s, e, SignalForm::default()).await,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::store::SignalStatus;

    fn signal(url: &str, body: &str) -> RightsSignal {
        RightsSignal {
            id: "sig-1".into(),
            owner_key: 1,
            owner_name: "k".into(),
            by_admin: false,
            url: url.into(),
            headers: BTreeMap::new(),
            body: body.into(),
            observed: "2026-03-01T00:00:00.000Z".into(),
            status: SignalStatus::Active,
            received_at: 0,
            received_at_rfc3339: String::new(),
            withdrawn_at: None,
        }
    }

    #[test]
    fn a_site_file_speaks_for_its_site_and_a_page_for_itself() {
        let r = row(signal("https://example.org/robots.txt", "User-agent: GPTBot\nDisallow: /\n"));
        assert_eq!((r.kind, r.probe.as_str()), ("robots.txt", "https://example.org/"));
        let opt_out = r.says.iter().find(|p| p.field == "tdm_opt_out").expect("robots.txt reserves");
        assert_eq!((opt_out.value.as_str(), opt_out.applied), ("true", true));
        assert!(opt_out.citation().contains("example.org, 2026-03-01"), "{}", opt_out.citation());
        let mut page = signal("https://example.org/essay", "");
        page.headers.insert("tdm-reservation".into(), "1".into());
        let r = row(page);
        assert_eq!((r.kind, r.probe.as_str()), ("page", "https://example.org/essay"));
        assert!(r.says.iter().any(|p| p.field == "tdm_opt_out" && p.value == "true"), "{:?}", r.says);
        let r = row(signal("https://example.org/ai.txt", "User-Agent: *\nAllow: /\n"));
        assert!(r.says.iter().all(|p| p.value != "true"), "an open ai.txt reserves nothing: {:?}", r.says);
    }

    #[test]
    fn a_long_body_is_cut_on_a_character() {
        let r = row(signal("https://example.org/x", &"é".repeat(BODY_SHOWN)));
        assert!(r.cut && r.body.len() <= BODY_SHOWN && r.body.chars().all(|c| c == 'é'));
        let r = row(signal("https://example.org/x", "short"));
        assert!(!r.cut && r.body == "short");
    }

    #[test]
    fn the_form_sends_only_the_headers_it_has() {
        let f = SignalForm {
            url: " https://example.org/p ".into(),
            tdm_reservation: "1".into(),
            observed: " ".into(),
            ..SignalForm::default()
        };
        let n = f.request();
        assert_eq!(n.url, "https://example.org/p");
        assert_eq!(
            n.headers.into_iter().collect::<Vec<_>>(),
            [("tdm-reservation".to_string(), "1".to_string())]
        );
        assert_eq!(n.observed, None);
    }
}
