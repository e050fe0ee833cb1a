//! `GET /`: a one-file page to paste an output, scan it and look at the spans,
//! sources and decision. No external assets (the service may run offline).

use axum::response::Html;

/// The page.
pub async fn index() -> Html<&'static str> {
    Html(include_str!("../../assets/index.html"))
}
