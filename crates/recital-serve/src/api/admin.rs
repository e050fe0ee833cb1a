//! Admin and operations endpoints: the audit log, health, readiness, metrics.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::{AuditQuery, Role};

/// Query of `GET /v1/audit`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditParams {
    /// From this time (unix milliseconds).
    pub since: Option<i64>,
    /// Until this time (unix milliseconds).
    pub until: Option<i64>,
    /// Only this action (`annotate`, `redact`, `block`).
    pub action: Option<String>,
    /// Only this key name.
    pub key: Option<String>,
    /// Only decisions under this rule.
    pub rule: Option<String>,
    /// Only decisions citing this source document.
    pub source: Option<String>,
    /// At most this many (default 100, at most 1000).
    pub limit: Option<usize>,
    /// Older than this record id (paging, newest first).
    pub before: Option<i64>,
}

/// `GET /v1/audit`: the audit log, newest first (admins only).
pub async fn audit(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Query(p): Query<AuditParams>,
) -> ApiResult<Json<serde_json::Value>> {
    caller.require(&[Role::Admin], "read the audit log")?;
    if let Some(a) = &p.action {
        if !matches!(a.as_str(), "annotate" | "redact" | "block") {
            return Err(ApiError::bad_request(
                "invalid_request",
                format!("`action` must be annotate, redact or block, not {a:?}"),
            ));
        }
    }
    let q = AuditQuery {
        since: p.since,
        until: p.until,
        action: p.action,
        key_name: p.key,
        rule: p.rule,
        source: p.source,
        limit: Some(p.limit.unwrap_or(100).clamp(1, 1000)),
        before_id: p.before,
    };
    let store = state.store.clone();
    let records = tokio::task::spawn_blocking(move || store.query_audit(&q))
        .await
        .map_err(|e| ApiError::internal("audit task", e))?
        .map_err(|e| ApiError::from_store("audit query", e))?;
    Ok(Json(serde_json::json!({ "records": records })))
}

/// `GET /healthz`: the process is up.
pub async fn healthz() -> impl IntoResponse {
    Json(serde_json::json!({"status": "ok"}))
}

/// `GET /readyz`: the index is open and the server is not shutting down.
pub async fn readyz(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    if state.ready.load(Ordering::Relaxed) {
        let docs = state.corpus.snapshot().stats().docs;
        (StatusCode::OK, Json(serde_json::json!({"status": "ready", "docs": docs})))
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, Json(serde_json::json!({"status": "shutting down"})))
    }
}

/// `GET /metrics`: Prometheus text format.
pub async fn metrics(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    let snap = state.corpus.snapshot();
    // Per-shard figures only: the whole-index stats tally licences over
    // every document, too much for each scrape.
    let shards = snap.shard_stats();
    let docs: u64 = shards.iter().map(|s| s.docs - s.removed_docs).sum();
    let body = state.metrics.render(&[
        ("recital_index_docs", "Live documents in the index.", docs as f64),
        ("recital_index_shards", "Shards in the index.", shards.len() as f64),
        ("recital_index_generation", "Manifest generation of the index.", snap.generation() as f64),
        ("recital_notices_active", "Active notices.", state.notified().len() as f64),
        (
            "recital_signals_active",
            "Rights signals posted to the registry and in force.",
            state.signals().len() as f64,
        ),
    ]);
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body)
}
