//! `POST /v1/scan` (detections and decision) and `POST /v1/filter` (the text
//! as it may be shown).

use std::sync::Arc;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use serde::{Deserialize, Serialize};

use recital_detect::ScanReport;
use recital_policy::{Annotation, Decision};

use crate::auth::Caller;
use crate::engine;
use crate::error::{ApiError, ApiResult};
use crate::json::Body;
use crate::state::AppState;

/// Text the caller supplied to the model: one string or several.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Context {
    /// One text.
    One(String),
    /// Several texts (prompt, retrieved passages…).
    Many(Vec<String>),
}

impl Context {
    /// All of it as one text, pieces separated by blank lines.
    pub fn joined(self) -> String {
        match self {
            Context::One(s) => s,
            Context::Many(v) => v.join("\n\n"),
        }
    }
}

/// Body of `/v1/scan` and `/v1/filter`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScanRequest {
    /// The model output to check.
    pub text: String,
    /// Prompt or retrieved text: repeating it is not flagged.
    #[serde(default)]
    pub context: Option<Context>,
    /// Jurisdiction (the `X-Recital-Jurisdiction` header wins).
    #[serde(default)]
    pub jurisdiction: Option<String>,
}

/// Answer of `/v1/scan`.
#[derive(Serialize)]
pub struct ScanResponse {
    /// Request id (also in the audit log).
    pub request_id: String,
    /// The decision, with a statement of reasons.
    pub decision: Decision,
    /// The detections (schema `recital.scan/1`).
    pub report: ScanReport,
}

/// Answer of `/v1/filter`.
#[derive(Serialize)]
pub struct FilterResponse {
    /// Request id.
    pub request_id: String,
    /// `allow`, `annotate`, `redact` or `block`.
    pub action: recital_policy::Action,
    /// True if the whole text is withheld.
    pub blocked: bool,
    /// The text as it may be shown (`null` when blocked).
    pub text: Option<String>,
    /// Citations, with byte offsets into `text`.
    pub annotations: Vec<Annotation>,
    /// Statement of reasons.
    pub statement: String,
    /// Jurisdiction decided for.
    pub jurisdiction: String,
}

async fn run(
    state: &Arc<AppState>,
    caller: &Caller,
    headers: &HeaderMap,
    req: ScanRequest,
    endpoint: &'static str,
) -> ApiResult<(String, String, ScanReport, Decision)> {
    let jurisdiction = engine::jurisdiction(state, headers, req.jurisdiction.as_deref(), &caller.0)?;
    let st = state.clone();
    let text = req.text;
    let context = req.context.map(Context::joined);
    let j = jurisdiction.clone();
    // `/v1/filter` answers with the text and citations only: no source locations.
    let evaluate = if endpoint == "/v1/scan" { engine::evaluate } else { engine::evaluate_decision };
    let (text, report, decision) =
        tokio::task::spawn_blocking(move || evaluate(&st, &text, context, &j).map(|(r, d)| (text, r, d)))
            .await
            .map_err(|e| ApiError::internal("scan task", e))??;
    let request_id = engine::request_id();
    engine::record(state, &caller.0, endpoint, &request_id, text.len(), &decision, &["text".to_string()]);
    Ok((request_id, text, report, decision))
}

/// `POST /v1/scan`.
pub async fn scan(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    headers: HeaderMap,
    Body(req): Body<ScanRequest>,
) -> ApiResult<Json<ScanResponse>> {
    let allowance = reveal_allowance(&state, &caller).await?;
    let (request_id, _text, mut report, decision) = run(&state, &caller, &headers, req, "/v1/scan").await?;
    engine::limit_snippets(&mut report);
    if let Some((day, left)) = allowance {
        let shown = engine::cap_snippets(&mut report, left);
        if shown > 0 {
            // Another request of the key (here or on another instance) may
            // have spent part of `left` meanwhile: show what the store grants.
            let granted = take_reveal(&state, &caller, day, shown).await?;
            if granted < shown {
                engine::cap_snippets(&mut report, granted);
            }
        }
    }
    Ok(Json(ScanResponse { request_id, decision, report }))
}

/// Runs a store call off the async runtime.
async fn blocking<T: Send + 'static>(
    state: &Arc<AppState>,
    what: &'static str,
    f: impl FnOnce(&crate::store::Store) -> Result<T, crate::store::StoreError> + Send + 'static,
) -> ApiResult<T> {
    let store = state.store.clone();
    tokio::task::spawn_blocking(move || f(&store))
        .await
        .map_err(|e| ApiError::internal(what, e))?
        .map_err(|e| ApiError::from_store(what, e))
}

/// The day and the source bytes this scan may show (`None`: no budget), or
/// 429 when the key's budget for the day is spent. The count is the store's,
/// so a restart does not renew it and instances sharing a database share it.
async fn reveal_allowance(state: &Arc<AppState>, caller: &Caller) -> ApiResult<Option<(i64, u64)>> {
    let Some(budget) = state.config.reveal_budget else {
        return Ok(None);
    };
    let (day, wait) = crate::auth::reveal_day(crate::store::now_ms());
    let key = caller.0.key_id;
    let used = blocking(state, "reveal budget", move |s| s.revealed(key, day)).await?;
    match budget.saturating_sub(used) {
        0 => Err(budget_spent(caller, budget, wait)),
        left => Ok(Some((day, left))),
    }
}

/// Counts `shown` bytes against the key's budget for `day`; the bytes the
/// store granted (fewer once the budget ran out meanwhile).
async fn take_reveal(state: &Arc<AppState>, caller: &Caller, day: i64, shown: u64) -> ApiResult<u64> {
    let budget = state.config.reveal_budget.unwrap_or(u64::MAX);
    let key = caller.0.key_id;
    blocking(state, "reveal budget", move |s| s.take_reveal(key, day, shown, budget)).await
}

fn budget_spent(caller: &Caller, budget: u64, wait: u64) -> ApiError {
    let mut e = ApiError::new(
        axum::http::StatusCode::TOO_MANY_REQUESTS,
        "reveal_budget_spent",
        format!(
            "key {:?} has been shown its {budget} bytes of protected source text for today \
             (--reveal-budget); /v1/scan answers again at midnight UTC, in {wait} s; \
             /v1/filter, which shows no source text, is not limited",
            caller.0.name
        ),
    );
    e.retry_after = Some(wait);
    e
}

/// `POST /v1/filter`.
pub async fn filter(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    headers: HeaderMap,
    Body(req): Body<ScanRequest>,
) -> ApiResult<Json<FilterResponse>> {
    let (request_id, text, report, decision) = run(&state, &caller, &headers, req, "/v1/filter").await?;
    let f = recital_policy::apply(&text, &report, &decision);
    Ok(Json(FilterResponse {
        request_id,
        action: decision.action,
        blocked: f.blocked,
        text: f.text,
        annotations: f.annotations,
        statement: decision.statement,
        jurisdiction: decision.jurisdiction,
    }))
}
