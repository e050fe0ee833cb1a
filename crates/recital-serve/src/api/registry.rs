//! The rightsholder registry: works (`/v1/works`) and notices (`/v1/notices`).
//!
//! "Mend once notified": a registered work is in a delta shard of the index,
//! and a notice is in the live notified set, before the call that registered or
//! filed it returns. Nothing is acknowledged before it is durable in SQLite.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};

use recital_index::{DocMode, Rights};
use recital_text::code::Lang;

use crate::auth::Caller;
use crate::corpus::{has_live_doc, live_among, NewDoc};
use crate::error::{ApiError, ApiResult};
use crate::json::Body;
use crate::state::{AppState, Notified};
use crate::store::{
    self, now_ms, NewNotice, NewWork, Notice, NoticeTarget, Role, StoreError, Work, WorkMode,
};

/// Largest work accepted through the API (a book is a few MB).
const MAX_WORK_BYTES: usize = 16 << 20;

/// A work as answered, with how long it took to become effective.
#[derive(Serialize)]
pub struct WorkResponse {
    /// The work (never its text).
    #[serde(flatten)]
    pub work: Work,
    /// Milliseconds from receipt until the work was searchable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effective_after_ms: Option<u64>,
}

/// Paging of list endpoints.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Page {
    /// At most this many (default 100, at most 1000).
    #[serde(default)]
    pub limit: Option<usize>,
    /// Continue after this id.
    #[serde(default)]
    pub after: Option<String>,
}

fn store_err(e: StoreError) -> ApiError {
    ApiError::from_store("registry", e)
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> ApiResult<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::internal("registry task", e))?
        .map_err(store_err)
}

/// Rebuilds the in-memory notified set from the store's active notices.
pub async fn refresh_notified(state: &Arc<AppState>) -> ApiResult<()> {
    let store = state.store.clone();
    let active = blocking(move || store.active_notices()).await?;
    let n = Notified::new(active.iter().map(|n| (&n.target, n.jurisdictions.as_slice())));
    *state.notified.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(n);
    Ok(())
}

/// The language a code work is indexed as: the one given, else the title's
/// file extension, else a guess from the text; `None` indexes it as text.
fn code_language(given: Option<&str>, title: Option<&str>, text: &str) -> Option<Lang> {
    given
        .and_then(Lang::from_name)
        .or_else(|| title.and_then(|t| Lang::from_path(std::path::Path::new(t))))
        .or_else(|| recital_detect::code::guess_lang(text))
}

/// The index document for a stored work (its language as stored, so a work
/// indexed again after a restart gets the same streams).
pub fn work_doc(w: &Work, text: String, mode: WorkMode) -> NewDoc {
    let mode = match mode {
        WorkMode::Text => DocMode::Text,
        WorkMode::Code => match code_language(w.language.as_deref(), w.title.as_deref(), &text) {
            Some(l) => DocMode::Code(l),
            None => DocMode::Text,
        },
    };
    NewDoc {
        id: w.id.clone(),
        title: w.title.clone(),
        text,
        mode,
        rights: Rights {
            license: w.license.clone(),
            holder: w.holder.clone(),
            url: w.url.clone(),
            tdm_opt_out: w.tdm_opt_out,
            jurisdictions: w.jurisdictions.clone(),
            category: w.category.clone(),
            iscc: w.iscc.clone(),
            ..Rights::default()
        },
    }
}

/// `POST /v1/works`: register a work; answers once it is searchable.
pub async fn create_work(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Body(mut new): Body<NewWork>,
) -> ApiResult<(StatusCode, Json<WorkResponse>)> {
    caller.require(&[Role::Rightsholder, Role::Admin], "register works")?;
    let t0 = Instant::now();
    if new.text.trim().is_empty() {
        return Err(ApiError::bad_request(
            "invalid_request",
            "`text` is empty: a work needs its text to be found",
        ));
    }
    if new.text.len() > MAX_WORK_BYTES {
        return Err(ApiError::bad_request(
            "invalid_request",
            format!("`text` exceeds {MAX_WORK_BYTES} bytes"),
        ));
    }
    if let Some(name) = new.language.as_deref() {
        if Lang::from_name(name).is_none() {
            return Err(ApiError::bad_request(
                "invalid_request",
                format!(
                    "unknown `language` {:?} (c, cpp, python, rust, javascript, typescript, java, go)",
                    name.chars().take(40).collect::<String>()
                ),
            ));
        }
    }
    if new.license.trim().is_empty() || new.license.len() > 512 {
        return Err(ApiError::bad_request(
            "invalid_request",
            "`license` must be an SPDX expression or NOASSERTION",
        ));
    }
    // Code is stored with the language it is indexed as (given or found).
    if new.mode == WorkMode::Code {
        new.language = code_language(new.language.as_deref(), new.title.as_deref(), &new.text)
            .map(|l| l.name().to_string());
    }
    let mode = new.mode;
    let text = new.text.clone();
    let (store, owner) = (state.store.clone(), caller.0.clone());
    let work = blocking(move || store.insert_work(&owner, &new)).await?;
    state
        .corpus
        .add(vec![work_doc(&work, text, mode)])
        .await
        .map_err(|e| ApiError::internal("adding the work to the index", e))?;
    let (store, id, at) = (state.store.clone(), work.id.clone(), now_ms());
    if blocking(move || store.mark_work_indexed(&id, at)).await? == store::WorkStatus::Withdrawn {
        // Withdrawn while it was being indexed: the withdrawal wins.
        state
            .corpus
            .remove(vec![work.id.clone()])
            .await
            .map_err(|e| ApiError::internal("removing the work", e))?;
    }
    let elapsed = t0.elapsed();
    state.metrics.notice_effect_seconds.observe(elapsed.as_secs_f64());
    // Merge delta shards in the background, off this request's path.
    let st = state.clone();
    tokio::spawn(async move {
        match st.corpus.compact_deltas_if_many().await {
            Ok(true) => tracing::info!("merged the delta shards of registered works"),
            Ok(false) => {}
            Err(e) => tracing::error!("merging delta shards failed (the index is unchanged): {e}"),
        }
    });
    let (store, who, id) = (state.store.clone(), caller.0.clone(), work.id.clone());
    let work = blocking(move || store.get_work(&who, &id)).await?.unwrap_or(work);
    tracing::info!(work = %work.id, ms = elapsed.as_millis() as u64, "work registered and searchable");
    Ok((
        StatusCode::CREATED,
        Json(WorkResponse { work, effective_after_ms: Some(elapsed.as_millis() as u64) }),
    ))
}

/// `GET /v1/works`.
pub async fn list_works(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Query(page): Query<Page>,
) -> ApiResult<Json<serde_json::Value>> {
    caller.require(&[Role::Rightsholder, Role::Admin], "list works")?;
    let store = state.store.clone();
    let limit = page.limit.unwrap_or(100).clamp(1, 1000);
    let works = blocking(move || store.list_works(&caller.0, limit, page.after.as_deref())).await?;
    Ok(Json(serde_json::json!({ "works": works })))
}

/// `GET /v1/works/{id}`.
pub async fn get_work(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Work>> {
    caller.require(&[Role::Rightsholder, Role::Admin], "read works")?;
    let store = state.store.clone();
    let missing = format!("no work {id:?}");
    blocking(move || store.get_work(&caller.0, &id))
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found(missing))
}

/// `DELETE /v1/works/{id}`: withdraw a work; it stops matching at once.
pub async fn withdraw_work(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Work>> {
    caller.require(&[Role::Rightsholder, Role::Admin], "withdraw works")?;
    let (store, who, wid) = (state.store.clone(), caller.0.clone(), id.clone());
    let work = blocking(move || store.withdraw_work(&who, &wid, now_ms()))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no work {id:?}")))?;
    state
        .corpus
        .remove(vec![work.id.clone()])
        .await
        .map_err(|e| ApiError::internal("removing the work from the index", e))?;
    refresh_notified(&state).await?;
    Ok(Json(work))
}

/// Body of `POST /v1/notices`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoticeRequest {
    /// What the notice is about.
    pub target: NoticeTarget,
    /// Why (free text, kept for the statement of reasons).
    pub reason: String,
    /// Action asked for (informative; the policy decides).
    #[serde(default)]
    pub requested_action: Option<String>,
    /// Jurisdictions the notice is limited to (default: everywhere).
    #[serde(default)]
    pub jurisdictions: Vec<String>,
    /// Contact of the notifier.
    #[serde(default)]
    pub contact: Option<String>,
}

/// `POST /v1/notices`: file a notice; answers once it is durable and effective.
pub async fn create_notice(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Body(req): Body<NoticeRequest>,
) -> ApiResult<(StatusCode, Json<Notice>)> {
    caller.require(&[Role::Rightsholder, Role::Admin], "file notices")?;
    let t0 = Instant::now();
    if req.reason.trim().is_empty() {
        return Err(ApiError::bad_request(
            "invalid_request",
            "`reason` is empty: say what the notice is about",
        ));
    }
    if let NoticeTarget::Document { doc_id } = &req.target {
        let live = has_live_doc(&state.corpus.snapshot(), doc_id)
            .map_err(|e| ApiError::internal("looking up the document", e))?;
        if !live {
            return Err(ApiError::not_found(format!("no live document {doc_id:?} in the corpus index")));
        }
    }
    if let NoticeTarget::Url { url } = &req.target {
        if url.trim().is_empty() {
            return Err(ApiError::bad_request("invalid_request", "`target.url` is empty"));
        }
    }
    let new = NewNotice {
        target: req.target,
        reason: req.reason,
        requested_action: req.requested_action,
        jurisdictions: req.jurisdictions,
        contact: req.contact,
    };
    let (store, who) = (state.store.clone(), caller.0.clone());
    let notice = blocking(move || store.insert_notice(&who, &new)).await?;
    refresh_notified(&state).await?;
    let (store, id) = (state.store.clone(), notice.id.clone());
    blocking(move || store.mark_notice_effective(&id, now_ms())).await?;
    state.metrics.notice_effect_seconds.observe(t0.elapsed().as_secs_f64());
    let (store, who, id) = (state.store.clone(), caller.0.clone(), notice.id.clone());
    let notice = blocking(move || store.get_notice(&who, &id)).await?.unwrap_or(notice);
    tracing::info!(notice = %notice.id, ms = t0.elapsed().as_millis() as u64, "notice effective");
    Ok((StatusCode::CREATED, Json(notice)))
}

/// `GET /v1/notices`.
pub async fn list_notices(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Query(page): Query<Page>,
) -> ApiResult<Json<serde_json::Value>> {
    caller.require(&[Role::Rightsholder, Role::Admin], "list notices")?;
    let store = state.store.clone();
    let limit = page.limit.unwrap_or(100).clamp(1, 1000);
    let notices = blocking(move || store.list_notices(&caller.0, limit, page.after.as_deref())).await?;
    Ok(Json(serde_json::json!({ "notices": notices })))
}

/// `GET /v1/notices/{id}`: status and timestamps.
pub async fn get_notice(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Notice>> {
    caller.require(&[Role::Rightsholder, Role::Admin], "read notices")?;
    let store = state.store.clone();
    let missing = format!("no notice {id:?}");
    blocking(move || store.get_notice(&caller.0, &id))
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found(missing))
}

/// `DELETE /v1/notices/{id}`: withdraw a notice; it stops applying before
/// the call returns.
pub async fn withdraw_notice(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Notice>> {
    caller.require(&[Role::Rightsholder, Role::Admin], "withdraw notices")?;
    let (store, who, nid) = (state.store.clone(), caller.0.clone(), id.clone());
    let notice = blocking(move || store.withdraw_notice(&who, &nid, now_ms()))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no notice {id:?}")))?;
    refresh_notified(&state).await?;
    tracing::info!(notice = %notice.id, "notice withdrawn");
    Ok(Json(notice))
}

/// After a restart: index works whose registration was cut short, and make
/// received notices effective (the notified set is rebuilt from the store).
pub async fn recover(state: &Arc<AppState>) -> anyhow::Result<()> {
    let store = state.store.clone();
    let pending = tokio::task::spawn_blocking(move || store.pending_works()).await??;
    for w in pending {
        let snap = state.corpus.snapshot();
        if !has_live_doc(&snap, &w.id)? {
            let store = state.store.clone();
            let id = w.id.clone();
            let Some((text, mode)) = tokio::task::spawn_blocking(move || store.work_text(&id)).await?? else {
                continue;
            };
            state.corpus.add(vec![work_doc(&w, text, mode)]).await?;
        }
        let store = state.store.clone();
        let id = w.id.clone();
        tokio::task::spawn_blocking(move || store.mark_work_indexed(&id, now_ms())).await??;
        tracing::info!(work = %w.id, "recovered a work whose registration was interrupted");
    }
    // A withdrawal commits before its tombstone: finish any cut short.
    let store = state.store.clone();
    let withdrawn = tokio::task::spawn_blocking(move || store.withdrawn_work_ids()).await??;
    state.corpus.remove(withdrawn).await?;
    refresh_notified(state).await.map_err(|e| anyhow::anyhow!("{}", e.message))?;
    super::signals::refresh_signals(state).await.map_err(|e| anyhow::anyhow!("{}", e.message))?;
    let store = state.store.clone();
    let active = tokio::task::spawn_blocking(move || store.active_notices()).await??;
    for n in active.into_iter().filter(|n| n.status == store::NoticeStatus::Received) {
        let store = state.store.clone();
        tokio::task::spawn_blocking(move || store.mark_notice_effective(&n.id, now_ms())).await??;
    }
    Ok(())
}

/// Brings this instance up to date with a store that other instances share
/// (PostgreSQL): the notified set from the active notices, its own delta
/// shard from the shared works (each live work it has not indexed yet is
/// added in one delta shard, each withdrawn one tombstoned), and its cache
/// of verified keys from the active keys. Run on every change another
/// instance announces, and on a slow poll in case an announcement was lost.
pub async fn sync_shared(state: &Arc<AppState>) -> anyhow::Result<()> {
    refresh_notified(state).await.map_err(|e| anyhow::anyhow!("{}", e.message))?;
    super::signals::refresh_signals(state).await.map_err(|e| anyhow::anyhow!("{}", e.message))?;
    let store = state.store.clone();
    let live = tokio::task::spawn_blocking(move || store.live_works()).await??;
    let indexed = live_among(&state.corpus.snapshot(), &live.iter().map(|w| w.id.as_str()).collect())?;
    let mut docs = Vec::new();
    for w in live.into_iter().filter(|w| !indexed.contains(&w.id)) {
        let (store, id) = (state.store.clone(), w.id.clone());
        // Withdrawn since the list was read: nothing to index.
        if let Some((text, mode)) = tokio::task::spawn_blocking(move || store.work_text(&id)).await?? {
            docs.push(work_doc(&w, text, mode));
        }
    }
    if !docs.is_empty() {
        let n = docs.len();
        state.corpus.add(docs).await?;
        tracing::info!(works = n, "indexed works registered through another instance");
    }
    let store = state.store.clone();
    let withdrawn = tokio::task::spawn_blocking(move || store.withdrawn_work_ids()).await??;
    state.corpus.remove(withdrawn).await?;
    let store = state.store.clone();
    let keys = tokio::task::spawn_blocking(move || store.active_keys()).await??;
    state.keys.retain_active(&keys);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn work(mode: WorkMode, language: Option<&str>, title: Option<&str>) -> Work {
        Work {
            id: "work-1".into(),
            owner_key: 1,
            owner_name: "rh".into(),
            title: title.map(String::from),
            license: "MIT".into(),
            holder: None,
            url: None,
            tdm_opt_out: false,
            jurisdictions: vec!["*".into()],
            category: None,
            mode,
            language: language.map(String::from),
            status: store::WorkStatus::Pending,
            created_at: 0,
            created_at_rfc3339: String::new(),
            indexed_at: None,
            indexed_at_rfc3339: None,
            withdrawn_at: None,
            withdrawn_at_rfc3339: None,
            text_bytes: 1,
            iscc: Some("ISCC:EAASKDNZNYGUUF5A".into()),
        }
    }

    /// A work indexed again after a restart gets the language it was
    /// registered with, even where nothing else would tell it.
    #[test]
    fn work_doc_uses_the_stored_language() {
        let text = "x = y".to_string();
        let d = work_doc(&work(WorkMode::Code, Some("rust"), Some("untitled")), text.clone(), WorkMode::Code);
        assert!(matches!(d.mode, DocMode::Code(Lang::Rust)), "{:?}", d.mode);
        let d = work_doc(&work(WorkMode::Code, None, Some("lib.py")), text.clone(), WorkMode::Code);
        assert!(matches!(d.mode, DocMode::Code(Lang::Python)), "{:?}", d.mode);
        let d = work_doc(&work(WorkMode::Text, Some("rust"), None), text, WorkMode::Text);
        assert!(matches!(d.mode, DocMode::Text), "{:?}", d.mode);
        assert_eq!(d.rights.iscc.as_deref(), Some("ISCC:EAASKDNZNYGUUF5A"), "sources carry the work's ISCC");
    }

    #[test]
    fn a_locked_or_full_database_is_503_saying_nothing_was_recorded() {
        let busy =
            rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_FULL), None);
        let e = store_err(StoreError::Sqlite { context: "insert notice".into(), source: busy });
        assert_eq!(e.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(e.retry_after, Some(1));
        assert!(
            e.message.contains("database or disk is full") && e.message.contains("nothing was recorded"),
            "{}",
            e.message
        );
        let constraint =
            rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CONSTRAINT), None);
        let e = store_err(StoreError::Sqlite { context: "insert notice".into(), source: constraint });
        assert_eq!(e.status, StatusCode::INTERNAL_SERVER_ERROR);
    }
}
