//! The web console at `/console/`: pages for the people around the filter
//! (reviewers, rightsholders, administrators, auditors) on top of the same
//! engine, registry, store and audit log as the API.
//!
//! Server-rendered HTML (askama templates under `templates/console/`) with
//! one vendored script library (htmx, `assets/console/`, 0BSD) and a small
//! script for the scan view's keyboard and click interactions: no build
//! step, no CDN, every asset served from here, so it works offline.
//!
//! - `session.rs`: sign-in with an API key, the session cookie, CSRF;
//! - `scan.rs`: the scan form, the result at a stable URL, its JSON export;
//! - `view.rs`: the scan view's model (segments, spans, sources, alignment),
//!   also used by `recital scan --html` through [`scan_html`];
//! - `results.rs`: scan results kept in the store for the configured retention time;
//! - `registry.rs`: works and notices for rightsholders;
//! - `signals.rs`: rights signals posted to the registry, what they say, since when;
//! - `targets.rs`: the notice form's search for a work or an indexed document;
//! - `audit.rs`: the audit log and its dashboard for admins, audit reports.
//!
//! What a page shows of a source is what the API shows: snippets trimmed by
//! [`crate::engine::limit_snippets`], whatever the role.

mod assets;
mod audit;
mod registry;
mod results;
mod scan;
mod session;
mod signals;
mod targets;
mod view;

use std::sync::Arc;

use askama::Template;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;

use crate::state::AppState;

pub use scan::scan_html;

/// What the console keeps beside the service's state.
pub struct Console {
    /// The service.
    app: Arc<AppState>,
}

/// The console's routes, to be nested at `/console`.
pub fn router(app: Arc<AppState>) -> Router {
    let console = Arc::new(Console { app });
    Router::new()
        .route("/", get(scan::home))
        .route("/login", get(scan::login_form).post(scan::login))
        .route("/logout", post(scan::logout))
        .route("/scan", post(scan::create))
        .route("/scans/{id}", get(scan::show))
        .route("/scans/{id}/json", get(scan::export))
        .route("/works", get(registry::works).post(registry::register))
        .route("/works/{id}/withdraw", post(registry::withdraw_work))
        .route("/notices", get(registry::notices).post(registry::file_notice))
        .route("/notices/targets", get(targets::fragment))
        .route("/notices/{id}/withdraw", post(registry::withdraw_notice))
        .route("/signals", get(signals::list).post(signals::post))
        .route("/signals/{id}/withdraw", post(signals::withdraw))
        .route("/audit", get(audit::log))
        .route("/reports", get(audit::reports))
        .route("/reports/{run}/report.html", get(audit::report))
        .route("/assets/{name}", get(assets::asset))
        .fallback(|| async { page_error(StatusCode::NOT_FOUND, "There is no such page in the console.") })
        .layer(axum::middleware::map_response(security_headers))
        .with_state(console)
}

/// Every console response: no framing by other sites, no sniffing, scripts
/// and styles from this origin only (no inline script can run).
async fn security_headers(mut resp: Response) -> Response {
    let h = resp.headers_mut();
    h.entry(header::CONTENT_SECURITY_POLICY).or_insert(HeaderValue::from_static(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; \
         form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    ));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    h.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-store"));
    resp
}

/// The header and navigation of every signed-in page.
pub struct Nav {
    /// Key name.
    pub name: String,
    /// Role name.
    pub role: &'static str,
    /// CSRF token for the page's forms.
    pub csrf: String,
    /// May use the registry.
    pub registry: bool,
    /// May read the audit log.
    pub admin: bool,
}

impl Nav {
    fn of(s: &session::Session) -> Nav {
        Nav {
            name: s.principal.name.clone(),
            role: s.role(),
            csrf: s.csrf.clone(),
            registry: s.can_register(),
            admin: s.principal.is_admin(),
        }
    }
}

/// A page that says what went wrong.
#[derive(Template)]
#[template(path = "console/error.html")]
struct ErrorPage<'a> {
    status: u16,
    message: &'a str,
}

/// A page's failure: its status and a message for the reader (small, so
/// that `Result`s of it stay cheap to move).
pub struct PageError {
    status: StatusCode,
    message: String,
}

impl PageError {
    /// A failure with this status and message.
    pub fn new(status: StatusCode, message: impl Into<String>) -> PageError {
        PageError { status, message: message.into() }
    }
}

impl From<crate::error::ApiError> for PageError {
    fn from(e: crate::error::ApiError) -> PageError {
        PageError::new(e.status, e.message)
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        page_error(self.status, &self.message)
    }
}

/// A page, or why not.
pub type PageResult = Result<Response, PageError>;

/// An error as a page with its status.
pub fn page_error(status: StatusCode, message: &str) -> Response {
    let mut resp = render(&ErrorPage { status: status.as_u16(), message });
    *resp.status_mut() = status;
    resp
}

/// Renders a template as an HTML response.
pub fn render<T: Template>(t: &T) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!("console template: {e}");
            (StatusCode::INTERNAL_SERVER_ERROR, "the page could not be rendered").into_response()
        }
    }
}
