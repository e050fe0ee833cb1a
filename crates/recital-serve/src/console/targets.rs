//! The notice form's target finder: a search by title or id over the
//! caller's works (in the store) and, for an admin, over the index's
//! document ids, a page at a time. A rightsholder may hold any number of
//! works, so the form cannot list them all; it takes a typed id, and this
//! search finds it. The same results render inside the notices page (a
//! plain GET form, no script needed) and alone, for htmx to swap in as the
//! reader types.
//!
//! Who sees what follows the API: a rightsholder searches only its own
//! works (the store scopes the query as `GET /v1/works` does); the index's
//! documents are listed to admins only, since the API has no document
//! listing for other roles (a rightsholder may still type a document id it
//! saw in a scan result).

use std::sync::Arc;

use askama::Template;
use axum::extract::{Query, State};
use serde::Deserialize;

use recital_index::Index;

use crate::store::Work;

use super::session::Session;
use super::{render, Console, PageError, PageResult};

/// Matches shown per page, of works and of documents each.
const PER_PAGE: usize = 20;

/// The search's part of a query string.
#[derive(Deserialize, Default)]
pub struct TargetQuery {
    /// What to look for in titles and ids.
    #[serde(default)]
    pub q: Option<String>,
    /// The last work id of the previous page of works.
    #[serde(default)]
    pub works_after: Option<String>,
    /// How many matching documents the previous pages showed.
    #[serde(default)]
    pub docs_from: Option<usize>,
}

/// One search's results.
pub struct Targets {
    /// The text searched for.
    pub q: String,
    /// A page of matching works.
    pub works: Vec<Work>,
    /// The page does not start at the first match.
    pub works_later: bool,
    /// The cursor of the next page of works.
    pub works_next: Option<String>,
    /// A page of matching documents; `None` when the caller may not list them.
    pub docs: Option<DocMatches>,
}

/// A page of the index's documents whose id contains the text.
pub struct DocMatches {
    /// The matches.
    pub rows: Vec<DocRow>,
    /// How many matches earlier pages held.
    pub from: usize,
    /// Where the next page starts, when there is one.
    pub next: Option<usize>,
}

/// An indexed document, as the picker shows it.
pub struct DocRow {
    /// Its id.
    pub id: String,
    /// Its path or title.
    pub path: Option<String>,
    /// Its licence.
    pub license: String,
}

/// The results alone, for htmx.
#[derive(Template)]
#[template(path = "console/targets.html")]
struct TargetsFragment {
    targets: Option<Targets>,
}

/// Runs the search in `q`; `None` when there is nothing to search for.
pub async fn find(c: &Console, s: &Session, q: &TargetQuery) -> Result<Option<Targets>, PageError> {
    let Some(text) = q.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    let (store, who, t, after) =
        (c.app.store.clone(), s.principal.clone(), text.to_string(), q.works_after.clone());
    let mut works =
        super::registry::blocking(move || store.search_works(&who, &t, PER_PAGE + 1, after.as_deref()))
            .await?;
    let works_next = (works.len() > PER_PAGE).then(|| {
        works.truncate(PER_PAGE);
        works.last().map(|w| w.id.clone()).unwrap_or_default()
    });
    let docs = if s.principal.is_admin() {
        let (index, t, from) = (c.app.corpus.snapshot(), text.to_string(), q.docs_from.unwrap_or(0));
        let found = tokio::task::spawn_blocking(move || matching_docs(&index, &t, from))
            .await
            .map_err(|e| PageError::new(axum::http::StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
        Some(
            found
                .map_err(|e| PageError::new(axum::http::StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?,
        )
    } else {
        None
    };
    Ok(Some(Targets { q: text.to_string(), works, works_later: q.works_after.is_some(), works_next, docs }))
}

/// The live documents whose id contains `text` (ASCII case ignored), the
/// page that skips `from` of them. One pass over the ids: the index keeps
/// them in a table per shard, and an admin's search is rare.
fn matching_docs(index: &Index, text: &str, from: usize) -> recital_index::Result<DocMatches> {
    let needle = text.to_ascii_lowercase();
    let mut rows = Vec::new();
    let mut seen = 0;
    for addr in index.docs() {
        if !index.doc_id(addr)?.to_ascii_lowercase().contains(&needle) {
            continue;
        }
        seen += 1;
        if seen <= from {
            continue;
        }
        if rows.len() == PER_PAGE {
            return Ok(DocMatches { rows, from, next: Some(from + PER_PAGE) });
        }
        let doc = index.doc(addr)?;
        rows.push(DocRow { id: doc.id, path: doc.path, license: doc.rights.license });
    }
    Ok(DocMatches { rows, from, next: None })
}

/// `GET /console/notices/targets`: the results alone.
pub async fn fragment(State(c): State<Arc<Console>>, s: Session, Query(q): Query<TargetQuery>) -> PageResult {
    super::registry::require_registry(&s)?;
    let targets = find(&c, &s, &q).await?;
    Ok(render(&TargetsFragment { targets }))
}
