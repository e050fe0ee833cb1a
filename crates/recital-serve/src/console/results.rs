//! Scan results at stable URLs (`/console/scans/{request id}`), kept in the
//! registry's store for the retention time the administrator sets
//! (`recital serve --console-retention`): a restart, or another instance on
//! a shared PostgreSQL store, serves the same URL. The store bounds their
//! number, so a busy console cannot fill the disk.

use std::time::Duration;

use axum::http::StatusCode;

use crate::store::{format_rfc3339, now_ms, ConsoleScan, Principal, Timestamp};

use super::view::ScanView;
use super::{Console, PageError};

/// One kept scan, as its page shows it.
pub struct StoredScan {
    /// The request id (also in the audit log).
    pub id: String,
    /// When it ran, RFC 3339.
    pub at: String,
    /// The scan view, snippets already limited.
    pub view: ScanView,
    /// The result as `POST /v1/scan` answers it, as JSON.
    pub export: String,
}

/// The oldest time a result may have to be kept now.
fn keep_since(retention: Duration) -> Timestamp {
    now_ms().saturating_sub(i64::try_from(retention.as_millis()).unwrap_or(i64::MAX))
}

fn store_failure(e: impl std::fmt::Display) -> PageError {
    PageError::new(StatusCode::INTERNAL_SERVER_ERROR, format!("the console's store failed: {e}"))
}

/// Keeps the result of scan `id` run by `owner`.
pub async fn put(
    c: &Console,
    id: &str,
    owner: i64,
    view: &ScanView,
    export: String,
) -> Result<(), PageError> {
    let scan = ConsoleScan {
        id: id.to_string(),
        owner_key: owner,
        created_at: now_ms(),
        view: serde_json::to_string(view).map_err(store_failure)?,
        export,
    };
    let (store, since) = (c.app.store.clone(), keep_since(c.app.config.console_retention));
    tokio::task::spawn_blocking(move || store.put_console_scan(&scan, since))
        .await
        .map_err(store_failure)?
        .map_err(store_failure)
}

/// Result `id` if it is still kept and `who` may see it: the key that ran
/// it, or an admin.
pub async fn get(c: &Console, id: &str, who: &Principal) -> Result<Option<StoredScan>, PageError> {
    let (store, since) = (c.app.store.clone(), keep_since(c.app.config.console_retention));
    let (id, who) = (id.to_string(), who.clone());
    let got = tokio::task::spawn_blocking(move || store.console_scan(&who, &id, since))
        .await
        .map_err(store_failure)?
        .map_err(store_failure)?;
    let Some(scan) = got else { return Ok(None) };
    let view: ScanView = serde_json::from_str(&scan.view).map_err(|e| {
        PageError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("result {} was kept in a form this version cannot read: {e}", scan.id),
        )
    })?;
    Ok(Some(StoredScan { at: format_rfc3339(scan.created_at), id: scan.id, view, export: scan.export }))
}

/// The oldest result the console keeps now (for the audit log's links,
/// through [`crate::store::Store::console_scans_kept`]).
pub fn kept_since(c: &Console) -> Timestamp {
    keep_since(c.app.config.console_retention)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retention_counts_back_from_now_without_overflow() {
        let now = now_ms();
        let since = keep_since(Duration::from_secs(60));
        assert!((now - 60_000..=now_ms() - 60_000).contains(&since), "{since} vs {now}");
        assert!(keep_since(Duration::MAX) < 0, "a retention past the epoch keeps everything");
        assert!(keep_since(Duration::ZERO) >= now);
    }
}
