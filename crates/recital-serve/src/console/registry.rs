//! The registry for rightsholders: register a work (text or file), list
//! works and notices, file a notice, see since when it is in force,
//! withdraw either. Every change goes through the API's own handlers, so it
//! is effective before the page answers, exactly as the API promises.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Form;
use serde::Deserialize;

use crate::api::registry::{self as api, NoticeRequest};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::json::Body;
use crate::store::{NewWork, Notice, NoticeTarget, Principal, StoreError, Work, WorkMode};

use super::session::{self, Session};
use super::targets::{self, TargetQuery, Targets};
use super::{render, Console, Nav, PageError, PageResult};

#[derive(Template)]
#[template(path = "console/works.html")]
struct WorksPage {
    nav: Nav,
    works: Vec<Work>,
    paging: Paging,
    message: Option<String>,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "console/notices.html")]
struct NoticesPage {
    nav: Nav,
    notices: Vec<NoticeRow>,
    paging: Paging,
    /// The target search as typed, and its results.
    q: String,
    targets: Option<Targets>,
    /// The notice form's fields: chosen from the results, or as filed when refused.
    draft: NoticeDraft,
    message: Option<String>,
    error: Option<String>,
}

/// What the notice form shows in its fields.
#[derive(Deserialize)]
pub struct NoticeDraft {
    #[serde(default = "work_target")]
    target_type: String,
    #[serde(default)]
    target: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    jurisdictions: String,
    #[serde(default)]
    contact: String,
}

fn work_target() -> String {
    "work".into()
}

impl Default for NoticeDraft {
    fn default() -> NoticeDraft {
        NoticeDraft {
            target_type: work_target(),
            target: String::new(),
            reason: String::new(),
            jurisdictions: String::new(),
            contact: String::new(),
        }
    }
}

/// Rows per page of the works and notices lists.
pub(super) const LIST_PAGE: usize = 100;

/// `?after=ID`: the page of a list that follows row `ID` (the API's cursor).
#[derive(Deserialize, Default)]
pub struct PageQuery {
    #[serde(default)]
    pub(super) after: Option<String>,
}

/// Where a list page sits: links to the first and the next page.
pub(super) struct Paging {
    /// The page does not start at the first row.
    pub(super) later: bool,
    /// The cursor of the next page, when this one is full.
    pub(super) next: Option<String>,
}

impl Paging {
    pub(super) fn of<'a>(
        after: Option<&str>,
        ids: impl DoubleEndedIterator<Item = &'a str> + ExactSizeIterator,
    ) -> Paging {
        let full = ids.len() == LIST_PAGE;
        Paging { later: after.is_some(), next: ids.last().filter(|_| full).map(str::to_string) }
    }
}

/// A notice with its target in words.
struct NoticeRow {
    notice: Notice,
    target: String,
}

fn target_text(t: &NoticeTarget) -> String {
    match t {
        NoticeTarget::Work { work_id } => format!("work {work_id}"),
        NoticeTarget::Document { doc_id } => format!("document {doc_id}"),
        NoticeTarget::Url { url } => format!("URL {url}"),
        NoticeTarget::Iscc { iscc } => format!("ISCC {iscc} and near copies"),
    }
}

/// Answers 403 to a client key, as the API does.
pub(super) fn require_registry(s: &Session) -> Result<(), PageError> {
    if s.can_register() {
        Ok(())
    } else {
        Err(PageError::new(StatusCode::FORBIDDEN, "A client key may not use the registry."))
    }
}

/// The checks every registry form passes first: role, origin, CSRF token.
pub(super) fn check_form(s: &Session, headers: &HeaderMap, csrf: &str) -> Result<(), PageError> {
    require_registry(s)?;
    session::check_origin(headers)?;
    s.check_csrf(csrf)
}

pub(super) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, PageError> {
    match tokio::task::spawn_blocking(f).await {
        Ok(Ok(v)) => Ok(v),
        // An unknown `after` cursor: the reader's link, not the service, is wrong.
        Ok(Err(e @ StoreError::Invalid(_))) => Err(PageError::new(StatusCode::BAD_REQUEST, e.to_string())),
        Ok(Err(e)) => Err(PageError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())),
        Err(e) => Err(PageError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())),
    }
}

async fn list_works(
    c: &Console,
    who: &Principal,
    limit: usize,
    after: Option<&str>,
) -> Result<Vec<Work>, PageError> {
    let (store, who, after) = (c.app.store.clone(), who.clone(), after.map(str::to_string));
    blocking(move || store.list_works(&who, limit, after.as_deref())).await
}

async fn works_page(
    c: &Console,
    s: &Session,
    after: Option<&str>,
    message: Option<String>,
    error: Option<String>,
) -> PageResult {
    let works = list_works(c, &s.principal, LIST_PAGE, after).await?;
    let paging = Paging::of(after, works.iter().map(|w| w.id.as_str()));
    let status = if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    let mut resp = render(&WorksPage { nav: Nav::of(s), works, paging, message, error });
    *resp.status_mut() = status;
    Ok(resp)
}

/// The notices page: the filer's notices, the target search, the form.
struct NoticesView {
    after: Option<String>,
    search: TargetQuery,
    draft: NoticeDraft,
    message: Option<String>,
    error: Option<String>,
}

impl NoticesView {
    fn fresh(message: Option<String>, error: Option<String>) -> NoticesView {
        NoticesView {
            after: None,
            search: TargetQuery::default(),
            draft: NoticeDraft::default(),
            message,
            error,
        }
    }
}

async fn notices_page(c: &Console, s: &Session, v: NoticesView) -> PageResult {
    let targets = targets::find(c, s, &v.search).await?;
    let (store, who, from) = (c.app.store.clone(), s.principal.clone(), v.after.clone());
    let notices = blocking(move || store.list_notices(&who, LIST_PAGE, from.as_deref())).await?;
    let paging = Paging::of(v.after.as_deref(), notices.iter().map(|n| n.id.as_str()));
    let notices =
        notices.into_iter().map(|n| NoticeRow { target: target_text(&n.target), notice: n }).collect();
    let status = if v.error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    let page = NoticesPage {
        nav: Nav::of(s),
        notices,
        paging,
        q: v.search.q.clone().unwrap_or_default(),
        targets,
        draft: v.draft,
        message: v.message,
        error: v.error,
    };
    let mut resp = render(&page);
    *resp.status_mut() = status;
    Ok(resp)
}

/// `GET /console/works`.
pub async fn works(State(c): State<Arc<Console>>, s: Session, Query(q): Query<PageQuery>) -> PageResult {
    require_registry(&s)?;
    works_page(&c, &s, q.after.as_deref(), None, None).await
}

/// The register form, read from multipart (the text may be a file).
async fn read_work_form(mut m: Multipart) -> Result<(String, NewWork), PageError> {
    let bad = |e: axum::extract::multipart::MultipartError| PageError::new(e.status(), e.body_text());
    let mut csrf = String::new();
    let mut file: Option<(Option<String>, Vec<u8>)> = None;
    let mut w = NewWork {
        title: None,
        text: String::new(),
        mode: WorkMode::Text,
        language: None,
        license: "NOASSERTION".into(),
        holder: None,
        url: None,
        tdm_opt_out: false,
        jurisdictions: Vec::new(),
        category: None,
    };
    let opt = |v: String| Some(v.trim().to_string()).filter(|v| !v.is_empty());
    while let Some(field) = m.next_field().await.map_err(bad)? {
        let name = field.name().unwrap_or("").to_string();
        if name == "file" {
            let fname = field.file_name().map(str::to_string).filter(|n| !n.is_empty());
            let bytes = field.bytes().await.map_err(bad)?;
            if !bytes.is_empty() {
                file = Some((fname, bytes.to_vec()));
            }
            continue;
        }
        let v = field.text().await.map_err(bad)?;
        match name.as_str() {
            "csrf" => csrf = v,
            "title" => w.title = opt(v),
            "text" => w.text = v,
            "license" => w.license = opt(v).unwrap_or_else(|| "NOASSERTION".into()),
            "holder" => w.holder = opt(v),
            "url" => w.url = opt(v),
            "category" => w.category = opt(v),
            "mode" if v == "code" => w.mode = WorkMode::Code,
            "tdm_opt_out" => w.tdm_opt_out = true,
            "jurisdictions" => w.jurisdictions = split_list(&v),
            _ => {}
        }
    }
    if let Some((fname, bytes)) = file {
        w.text = String::from_utf8(bytes)
            .map_err(|_| PageError::new(StatusCode::BAD_REQUEST, "The uploaded file is not UTF-8 text."))?;
        if w.title.is_none() {
            w.title = fname;
        }
    }
    Ok((csrf, w))
}

fn split_list(v: &str) -> Vec<String> {
    v.split([',', ' ']).map(str::trim).filter(|j| !j.is_empty()).map(str::to_string).collect()
}

/// `POST /console/works`: register a work; it is searchable when the page answers.
pub async fn register(
    State(c): State<Arc<Console>>,
    s: Session,
    headers: HeaderMap,
    m: Multipart,
) -> PageResult {
    require_registry(&s)?;
    let (csrf, work) = read_work_form(m).await?;
    check_form(&s, &headers, &csrf)?;
    let caller = Caller(s.principal.clone());
    match api::create_work(State(c.app.clone()), caller, Body(work)).await {
        Ok((_, axum::Json(w))) => {
            let ms = w.effective_after_ms.unwrap_or(0);
            let msg = format!("Registered {} ({}): searchable after {ms} ms.", w.work.id, title(&w.work));
            works_page(&c, &s, None, Some(msg), None).await
        }
        Err(e) => api_failure(&c, &s, e, Page::Works).await,
    }
}

fn title(w: &Work) -> &str {
    w.title.as_deref().unwrap_or("untitled")
}

enum Page {
    Works,
    /// The notices page, with the form as it was filed.
    Notices(NoticeDraft),
}

/// A refused request: the page again, with the API's message; a failure of
/// the service itself as an error page.
async fn api_failure(c: &Console, s: &Session, e: ApiError, page: Page) -> PageResult {
    if e.status.is_server_error() {
        return Err(e.into());
    }
    match page {
        Page::Works => works_page(c, s, None, None, Some(e.message)).await,
        Page::Notices(draft) => {
            let v = NoticesView { draft, ..NoticesView::fresh(None, Some(e.message)) };
            notices_page(c, s, v).await
        }
    }
}

/// A form with only its CSRF token.
#[derive(Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    pub(super) csrf: String,
}

/// `POST /console/works/{id}/withdraw`.
pub async fn withdraw_work(
    State(c): State<Arc<Console>>,
    s: Session,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<TokenForm>,
) -> PageResult {
    check_form(&s, &headers, &f.csrf)?;
    match api::withdraw_work(State(c.app.clone()), Caller(s.principal.clone()), Path(id)).await {
        Ok(axum::Json(w)) => {
            works_page(&c, &s, None, Some(format!("Withdrew {}: it no longer matches.", w.id)), None).await
        }
        Err(e) => api_failure(&c, &s, e, Page::Works).await,
    }
}

/// `GET /console/notices`: `?after=` pages the notices, `?q=` searches
/// for a target, `?target_type=&target=` fills the form with a choice.
pub async fn notices(
    State(c): State<Arc<Console>>,
    s: Session,
    Query(page): Query<PageQuery>,
    Query(search): Query<TargetQuery>,
    Query(draft): Query<NoticeDraft>,
) -> PageResult {
    require_registry(&s)?;
    notices_page(&c, &s, NoticesView { after: page.after, search, draft, message: None, error: None }).await
}

/// The notice form.
#[derive(Deserialize)]
pub struct NoticeForm {
    #[serde(default)]
    csrf: String,
    #[serde(flatten)]
    fields: NoticeDraft,
}

fn notice_request(f: &NoticeDraft) -> Result<NoticeRequest, ApiError> {
    let target = f.target.trim().to_string();
    if target.is_empty() {
        return Err(ApiError::bad_request(
            "invalid_request",
            "Say which work id, document id, URL or ISCC the notice is about (the search above finds them).",
        ));
    }
    let target = match f.target_type.as_str() {
        "work" => NoticeTarget::Work { work_id: target },
        "document" => NoticeTarget::Document { doc_id: target },
        "url" => NoticeTarget::Url { url: target },
        "iscc" => NoticeTarget::Iscc { iscc: target },
        other => {
            return Err(ApiError::bad_request("invalid_request", format!("unknown target type {other:?}")))
        }
    };
    Ok(NoticeRequest {
        target,
        reason: f.reason.clone(),
        requested_action: None,
        jurisdictions: split_list(&f.jurisdictions),
        contact: Some(f.contact.trim().to_string()).filter(|c| !c.is_empty()),
    })
}

/// The API's refusal in the form's words: an unknown work is one the filer
/// does not hold (the store does not say whose it is).
fn refusal(f: &NoticeDraft, e: ApiError) -> ApiError {
    if e.status == StatusCode::NOT_FOUND && f.target_type == "work" {
        let msg = format!(
            "There is no work {:?} among your works: check the id, or find the work by its title above.",
            f.target.trim()
        );
        return ApiError::new(StatusCode::NOT_FOUND, "not_found", msg);
    }
    e
}

/// `POST /console/notices`: file a notice; it is in force when the page answers.
pub async fn file_notice(
    State(c): State<Arc<Console>>,
    s: Session,
    headers: HeaderMap,
    Form(f): Form<NoticeForm>,
) -> PageResult {
    check_form(&s, &headers, &f.csrf)?;
    let req = match notice_request(&f.fields) {
        Ok(r) => r,
        Err(e) => return api_failure(&c, &s, e, Page::Notices(f.fields)).await,
    };
    match api::create_notice(State(c.app.clone()), Caller(s.principal.clone()), Body(req)).await {
        Ok((_, axum::Json(n))) => {
            let since = n.effective_at_rfc3339.clone().unwrap_or_else(|| "now".into());
            let msg = format!("Notice {} on {} is in force since {since}.", n.id, target_text(&n.target));
            notices_page(&c, &s, NoticesView::fresh(Some(msg), None)).await
        }
        Err(e) => {
            let e = refusal(&f.fields, e);
            api_failure(&c, &s, e, Page::Notices(f.fields)).await
        }
    }
}

/// `POST /console/notices/{id}/withdraw`.
pub async fn withdraw_notice(
    State(c): State<Arc<Console>>,
    s: Session,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<TokenForm>,
) -> PageResult {
    check_form(&s, &headers, &f.csrf)?;
    match api::withdraw_notice(State(c.app.clone()), Caller(s.principal.clone()), Path(id)).await {
        Ok(axum::Json(n)) => {
            let msg = format!("Withdrew notice {}: it no longer applies.", n.id);
            notices_page(&c, &s, NoticesView::fresh(Some(msg), None)).await
        }
        Err(e) => api_failure(&c, &s, e, Page::Notices(NoticeDraft::default())).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_page_links_to_the_next() {
        let ids: Vec<String> = (0..LIST_PAGE).map(|i| format!("work-{i}")).collect();
        let p = Paging::of(None, ids.iter().map(String::as_str));
        assert_eq!((p.later, p.next.as_deref()), (false, Some(format!("work-{}", LIST_PAGE - 1).as_str())));
        let p = Paging::of(Some("work-0"), ids[..3].iter().map(String::as_str));
        assert_eq!((p.later, p.next), (true, None), "a short page is the last");
        let p = Paging::of(None, std::iter::empty());
        assert_eq!((p.later, p.next), (false, None));
    }

    #[test]
    fn lists_split_on_commas_and_spaces() {
        assert_eq!(split_list("DE, FR  EU"), ["DE", "FR", "EU"]);
        assert!(split_list(" , ").is_empty());
    }

    #[test]
    fn notice_forms_become_api_requests() {
        let form = |t: &str, target: &str| NoticeDraft {
            target_type: t.into(),
            target: target.into(),
            reason: "mine".into(),
            jurisdictions: "DE,FR".into(),
            contact: " ".into(),
        };
        let r = notice_request(&form("work", " work-1 ")).unwrap();
        assert_eq!(r.target, NoticeTarget::Work { work_id: "work-1".into() });
        assert_eq!(r.jurisdictions, ["DE", "FR"]);
        assert_eq!(r.contact, None);
        let r = notice_request(&form("document", " novel.txt ")).unwrap();
        assert_eq!(r.target, NoticeTarget::Document { doc_id: "novel.txt".into() });
        let r = notice_request(&form("iscc", "novel.txt")).unwrap();
        assert_eq!(r.target, NoticeTarget::Iscc { iscc: "novel.txt".into() }, "the store checks the code");
        assert!(notice_request(&form("planet", "x")).is_err());
        let e = notice_request(&form("work", "  ")).unwrap_err();
        assert!(e.message.contains("Say which work id"), "{}", e.message);
    }

    #[test]
    fn an_unknown_work_is_refused_in_the_forms_words() {
        let draft = NoticeDraft { target: " work-00 ".into(), ..NoticeDraft::default() };
        let e = refusal(&draft, ApiError::not_found("work work-00"));
        assert_eq!(e.status, StatusCode::NOT_FOUND);
        assert!(e.message.contains("no work \"work-00\" among your works"), "{}", e.message);
        let doc = NoticeDraft { target_type: "document".into(), ..draft };
        let e = refusal(&doc, ApiError::not_found("no live document \"x\" in the corpus index"));
        assert!(e.message.contains("corpus index"), "a document's refusal is the API's own");
    }
}
