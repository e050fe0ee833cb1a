//! The console's static files, compiled into the binary so that the service
//! needs no asset directory and no network.

use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// htmx 2.0.11 (npm `htmx.org`, 0BSD: `assets/console/htmx-LICENSE.txt`).
pub const HTMX: &str = include_str!("../../assets/console/htmx-2.0.11.min.js");
/// The console's stylesheet.
pub const CSS: &str = include_str!("../../assets/console/console.css");
/// The scan view's interactions (spans, sources, keyboard).
pub const JS: &str = include_str!("../../assets/console/console.js");

/// `GET /console/assets/{name}`.
pub async fn asset(Path(name): Path<String>) -> Response {
    let (body, kind) = match name.as_str() {
        "htmx.min.js" => (HTMX, "text/javascript; charset=utf-8"),
        "console.css" => (CSS, "text/css; charset=utf-8"),
        "console.js" => (JS, "text/javascript; charset=utf-8"),
        _ => return super::page_error(StatusCode::NOT_FOUND, "no such asset"),
    };
    let mut resp = body.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    // Assets change only with the binary: an hour is safe and saves a
    // round trip per page.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
    resp
}
