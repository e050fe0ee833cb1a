//! Sign-in, the scan form, the scan view at its stable URL, and its JSON
//! export: the same evaluation, audit record and snippet limit as
//! `POST /v1/scan`.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;

use recital_detect::ScanReport;
use recital_policy::Decision;

use crate::auth::{principal_for_secret, AuthMode};
use crate::engine;
use crate::error::ApiError;
use crate::store::Principal;

use super::results::{self, StoredScan};
use super::session::{self, Session};
use super::view::ScanView;
use super::{assets, page_error, render, Console, Nav, PageError, PageResult};

#[derive(Template)]
#[template(path = "console/login.html")]
struct LoginPage<'a> {
    csrf: &'a str,
    next: &'a str,
    error: Option<&'a str>,
    open: bool,
}

#[derive(Template)]
#[template(path = "console/home.html")]
struct HomePage {
    nav: Nav,
    jurisdiction: String,
}

#[derive(Template)]
#[template(path = "console/scan.html")]
struct ScanPage<'a> {
    nav: Nav,
    scan: &'a StoredScan,
    view: &'a ScanView,
}

#[derive(Template)]
#[template(path = "console/standalone.html")]
struct StandalonePage<'a> {
    view: ScanView,
    css: &'a str,
    js: &'a str,
}

/// Query of the sign-in page.
#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

/// The sign-in form.
#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    key: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    next: Option<String>,
}

/// A form with only its CSRF token.
#[derive(Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    csrf: String,
}

fn login_page(status: StatusCode, next: &str, error: Option<&str>, open: bool) -> Response {
    let token = session::random_token();
    let mut resp = render(&LoginPage { csrf: &token, next, error, open });
    *resp.status_mut() = status;
    let cookie = session::set_cookie(session::LOGIN_COOKIE, &token, std::time::Duration::from_secs(3600));
    resp.headers_mut().append(header::SET_COOKIE, cookie);
    resp
}

/// `GET /console/login`.
pub async fn login_form(State(c): State<Arc<Console>>, Query(q): Query<NextQuery>) -> Response {
    let next = session::safe_next(q.next.as_deref());
    login_page(StatusCode::OK, &next, None, matches!(c.app.auth, AuthMode::Open(_)))
}

/// `POST /console/login`: an API key for a session cookie.
pub async fn login(State(c): State<Arc<Console>>, headers: HeaderMap, Form(f): Form<LoginForm>) -> Response {
    let open = matches!(c.app.auth, AuthMode::Open(_));
    let next = session::safe_next(f.next.as_deref());
    let expected = session::cookie_value(&headers, session::LOGIN_COOKIE).unwrap_or_default();
    if session::check_origin(&headers).is_err()
        || expected.is_empty()
        || !session::same_token(&expected, &f.csrf)
    {
        return session::csrf_refusal().into_response();
    }
    let principal = match &c.app.auth {
        AuthMode::Open(p) => Ok(p.clone()),
        AuthMode::Keys => principal_for_secret(&c.app, f.key.trim()).await,
    };
    let principal = match principal {
        Ok(p) => p,
        Err(e) if e.status == StatusCode::UNAUTHORIZED => {
            return login_page(StatusCode::UNAUTHORIZED, &next, Some("That API key is not known here."), open)
        }
        Err(e) => return page_error(e.status, &e.message),
    };
    tracing::info!(key = %principal.name, "console sign-in");
    let id = match session::open(&c, &principal).await {
        Ok(id) => id,
        Err(e) => return e.into_response(),
    };
    let mut resp = Redirect::to(&next).into_response();
    let h = resp.headers_mut();
    h.append(header::SET_COOKIE, session::session_cookie(&id));
    h.append(header::SET_COOKIE, session::set_cookie(session::LOGIN_COOKIE, "", Default::default()));
    resp
}

/// `POST /console/logout`.
pub async fn logout(
    State(c): State<Arc<Console>>,
    s: Session,
    headers: HeaderMap,
    Form(f): Form<TokenForm>,
) -> PageResult {
    session::check_origin(&headers)?;
    s.check_csrf(&f.csrf)?;
    session::close(&c, &s.id).await?;
    let mut resp = Redirect::to("/console/login").into_response();
    resp.headers_mut()
        .append(header::SET_COOKIE, session::set_cookie(session::SESSION_COOKIE, "", Default::default()));
    Ok(resp)
}

/// `GET /console/`: the scan form.
pub async fn home(State(c): State<Arc<Console>>, s: Session) -> Response {
    let jurisdiction = s
        .principal
        .default_jurisdiction
        .clone()
        .unwrap_or_else(|| c.app.policy.default_jurisdiction().to_string());
    render(&HomePage { nav: Nav::of(&s), jurisdiction })
}

/// What the scan form sent.
#[derive(Default)]
struct ScanForm {
    csrf: String,
    text: String,
    file: Option<Vec<u8>>,
    context: String,
    jurisdiction: String,
}

async fn read_scan_form(mut m: Multipart) -> Result<ScanForm, PageError> {
    let bad = |e: axum::extract::multipart::MultipartError| PageError::new(e.status(), e.body_text());
    let mut f = ScanForm::default();
    while let Some(field) = m.next_field().await.map_err(bad)? {
        let name = field.name().unwrap_or("").to_string();
        if name == "file" {
            let has_name = field.file_name().is_some_and(|n| !n.is_empty());
            let bytes = field.bytes().await.map_err(bad)?;
            if has_name && !bytes.is_empty() {
                f.file = Some(bytes.to_vec());
            }
            continue;
        }
        let value = field.text().await.map_err(bad)?;
        match name.as_str() {
            "csrf" => f.csrf = value,
            "text" => f.text = value,
            "context" => f.context = value,
            "jurisdiction" => f.jurisdiction = value,
            _ => {}
        }
    }
    Ok(f)
}

/// `POST /console/scan`: scans, keeps the result, and answers with its URL.
pub async fn create(
    State(c): State<Arc<Console>>,
    s: Session,
    headers: HeaderMap,
    m: Multipart,
) -> PageResult {
    let form = read_scan_form(m).await?;
    session::check_origin(&headers)?;
    s.check_csrf(&form.csrf)?;
    let id = scan(&c, &s.principal, form).await?;
    Ok(Redirect::to(&format!("/console/scans/{id}")).into_response())
}

async fn scan(c: &Arc<Console>, who: &Principal, form: ScanForm) -> Result<String, PageError> {
    let text = match form.file {
        Some(bytes) => String::from_utf8(bytes)
            .map_err(|_| ApiError::bad_request("binary_input", "the uploaded file is not UTF-8 text"))?,
        None => form.text,
    };
    if text.trim().is_empty() {
        return Err(
            ApiError::bad_request("invalid_request", "paste an output or choose a file to scan").into()
        );
    }
    let body_j = Some(form.jurisdiction.trim()).filter(|j| !j.is_empty());
    let jurisdiction = engine::jurisdiction(&c.app, &HeaderMap::new(), body_j, who)?;
    let context = Some(form.context).filter(|t| !t.trim().is_empty());
    let app = c.app.clone();
    let (text, mut report, decision) = tokio::task::spawn_blocking(move || {
        engine::evaluate(&app, &text, context, &jurisdiction).map(|(r, d)| (text, r, d))
    })
    .await
    .map_err(|e| ApiError::internal("scan task", e))??;
    let id = engine::request_id();
    engine::record(&c.app, who, "/console/scan", &id, text.len(), &decision, &["text".to_string()]);
    engine::limit_snippets(&mut report);
    let view = ScanView::new(&text, &report, &decision);
    let export = serde_json::json!({"request_id": id, "decision": decision, "report": report}).to_string();
    results::put(c, &id, who.key_id, &view, export).await?;
    Ok(id)
}

fn missing(id: &str) -> Response {
    page_error(
        StatusCode::NOT_FOUND,
        &format!(
            "No scan {id:?} here: it is past the console's retention time, or it was run by another key."
        ),
    )
}

/// `GET /console/scans/{id}`: the scan view.
pub async fn show(State(c): State<Arc<Console>>, s: Session, Path(id): Path<String>) -> PageResult {
    let Some(scan) = results::get(&c, &id, &s.principal).await? else {
        return Ok(missing(&id));
    };
    Ok(render(&ScanPage { nav: Nav::of(&s), scan: &scan, view: &scan.view }))
}

/// `GET /console/scans/{id}/json`: the result as `POST /v1/scan` answers it.
pub async fn export(State(c): State<Arc<Console>>, s: Session, Path(id): Path<String>) -> PageResult {
    let Some(scan) = results::get(&c, &id, &s.principal).await? else {
        return Ok(missing(&id));
    };
    let mut resp =
        ([(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], scan.export).into_response();
    let disposition = format!("attachment; filename=\"recital-{}.json\"", scan.id);
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        resp.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}

/// The scan view as one self-contained HTML file (styles and script inline,
/// no network), for `recital scan --html`. Snippets are limited as the API
/// limits them: the file is meant to be shared.
pub fn scan_html(text: &str, report: &ScanReport, decision: &Decision) -> Result<String, askama::Error> {
    let mut report = report.clone();
    engine::limit_snippets(&mut report);
    let view = ScanView::new(text, &report, decision);
    StandalonePage { view, css: assets::CSS, js: assets::JS }.render()
}
