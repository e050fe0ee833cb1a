//! Rights signals posted to the registry (`/v1/signals`): a site's
//! `tdmrep.json`, `robots.txt` or `ai.txt`, or a page with its TDMRep
//! header or `<meta>`. Like a notice, a signal is in force before the call
//! that posted it returns ([`crate::signals`] says how it applies).

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;

use recital_rights::WebSignals;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::json::Body;
use crate::signals::LiveSignals;
use crate::state::AppState;
use crate::store::{NewSignal, RightsSignal, Role, StoreError};

use super::registry::Page;

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> ApiResult<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::internal("signals task", e))?
        .map_err(|e| ApiError::from_store("registry", e))
}

/// Rebuilds the in-memory signals from the store's active ones.
pub async fn refresh_signals(state: &Arc<AppState>) -> ApiResult<()> {
    let store = state.store.clone();
    let active = blocking(move || store.active_signals()).await?;
    let live = LiveSignals::new(&active);
    *state.signals.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(live);
    Ok(())
}

/// `POST /v1/signals`: post a signal; answers once it is durable and in force.
pub async fn create_signal(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Body(new): Body<NewSignal>,
) -> ApiResult<(StatusCode, Json<RightsSignal>)> {
    caller.require(&[Role::Rightsholder, Role::Admin], "post rights signals")?;
    // Refused now, not skipped at every reload: a file that does not parse,
    // or a URL that is not one.
    let headers: Vec<(String, String)> = new.headers.clone().into_iter().collect();
    WebSignals::default()
        .add(new.url.trim(), None, &headers, new.body.as_bytes())
        .map_err(|e| ApiError::bad_request("invalid_request", e.to_string()))?;
    let (store, who) = (state.store.clone(), caller.0.clone());
    let signal = blocking(move || store.insert_signal(&who, &new)).await?;
    refresh_signals(&state).await?;
    tracing::info!(signal = %signal.id, url = %signal.url, "rights signal in force");
    Ok((StatusCode::CREATED, Json(signal)))
}

/// `GET /v1/signals`.
pub async fn list_signals(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Query(page): Query<Page>,
) -> ApiResult<Json<serde_json::Value>> {
    caller.require(&[Role::Rightsholder, Role::Admin], "list rights signals")?;
    let store = state.store.clone();
    let limit = page.limit.unwrap_or(100).clamp(1, 1000);
    let signals = blocking(move || store.list_signals(&caller.0, limit, page.after.as_deref())).await?;
    Ok(Json(serde_json::json!({ "signals": signals })))
}

/// `DELETE /v1/signals/{id}`: withdraw a signal; it stops applying before
/// the call returns.
pub async fn withdraw_signal(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<RightsSignal>> {
    caller.require(&[Role::Rightsholder, Role::Admin], "withdraw rights signals")?;
    let (store, who, sid) = (state.store.clone(), caller.0.clone(), id.clone());
    let signal = blocking(move || store.withdraw_signal(&who, &sid))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no signal {id:?}")))?;
    refresh_signals(&state).await?;
    tracing::info!(signal = %signal.id, "rights signal withdrawn");
    Ok(Json(signal))
}
