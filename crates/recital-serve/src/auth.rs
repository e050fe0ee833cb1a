//! Who is calling: API keys (`Authorization: Bearer KEY`, or `x-api-key`
//! as Anthropic's clients send it) with roles, and
//! per-key rate limits.
//!
//! Keys are looked up by their SHA-256 in the store; a verified key is cached
//! in memory by that hash, so the hot path (every scan) never waits on SQLite.
//! Without keys the server runs open on loopback only, every caller an admin.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::StatusCode;
use sha2::Digest;

use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{Principal, Role};

/// How the server authenticates.
#[derive(Debug, Clone)]
pub enum AuthMode {
    /// Keys from the store (a keys file or `RECITAL_API_KEY`).
    Keys,
    /// No keys: loopback only, every caller is this admin (a stored key, so
    /// that works and notices filed in this mode have an owner).
    Open(Principal),
}

/// Verified keys, by SHA-256 of the secret.
#[derive(Default)]
pub struct KeyCache(Mutex<HashMap<[u8; 32], Principal>>);

impl KeyCache {
    /// Keeps only the cached keys that are still `active` (as
    /// [`Store::active_keys`](crate::store::Store::active_keys) lists them),
    /// with their current role and limits: a key revoked or changed through
    /// another instance stops working here too.
    pub fn retain_active(&self, active: &[([u8; 32], Principal)]) {
        let current: HashMap<&[u8; 32], &Principal> = active.iter().map(|(d, p)| (d, p)).collect();
        let mut cache = self.0.lock().unwrap_or_else(|p| p.into_inner());
        cache.retain(|digest, p| match current.get(digest) {
            Some(now) => {
                *p = (*now).clone();
                true
            }
            None => false,
        });
    }
}

/// Per-key token buckets.
#[derive(Default)]
pub struct RateLimiter(Mutex<HashMap<i64, (f64, Instant)>>);

impl RateLimiter {
    /// Takes one token from the key's bucket (capacity and refill: `per_minute`);
    /// on refusal, the seconds until a token is back.
    pub fn check(&self, key: i64, per_minute: u32) -> Result<(), u64> {
        let cap = per_minute.max(1) as f64;
        let rate = cap / 60.0;
        let now = Instant::now();
        let mut m = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let (tokens, last) = m.entry(key).or_insert((cap, now));
        *tokens = (*tokens + now.duration_since(*last).as_secs_f64() * rate).min(cap);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - *tokens) / rate).ceil() as u64)
        }
    }
}

const DAY_MS: i64 = 86_400_000;

/// The UTC day (days since the Unix epoch) of `now_ms`, and the seconds
/// until the next one begins: the reveal budget (`--reveal-budget`, counted
/// in the store) renews at midnight UTC.
pub fn reveal_day(now_ms: i64) -> (i64, u64) {
    let day = now_ms.div_euclid(DAY_MS);
    (day, (((day + 1) * DAY_MS - now_ms + 999) / 1000).max(1) as u64)
}

/// The caller of a request, authenticated and within its rate limit.
#[derive(Debug, Clone)]
pub struct Caller(pub Principal);

impl Caller {
    /// Refuses unless the caller has one of `roles`.
    pub fn require(&self, roles: &[Role], what: &str) -> Result<(), ApiError> {
        if roles.contains(&self.0.role) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!("a {} key may not {what}", role_name(self.0.role))))
        }
    }
}

/// Lower-case role name.
pub fn role_name(r: Role) -> &'static str {
    match r {
        Role::Client => "client",
        Role::Rightsholder => "rightsholder",
        Role::Admin => "admin",
    }
}

/// The key a request presents: `Authorization: Bearer KEY` (OpenAI's
/// clients) or `x-api-key: KEY` (Anthropic's).
fn presented_key(headers: &axum::http::HeaderMap) -> Result<String, ApiError> {
    if let Some(v) = headers.get("x-api-key") {
        return v
            .to_str()
            .ok()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .ok_or_else(|| ApiError::unauthorized("malformed x-api-key header"));
    }
    let header = headers.get(axum::http::header::AUTHORIZATION).ok_or_else(|| {
        ApiError::unauthorized("missing API key: send `Authorization: Bearer KEY` or `x-api-key: KEY`")
    })?;
    header
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .ok_or_else(|| ApiError::unauthorized("malformed Authorization header: expected `Bearer KEY`"))
}

impl FromRequestParts<Arc<AppState>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState>) -> Result<Self, Self::Rejection> {
        let principal = match &state.auth {
            AuthMode::Open(p) => p.clone(),
            AuthMode::Keys => principal_for_secret(state, &presented_key(&parts.headers)?).await?,
        };
        check_rate(state, &principal)?;
        Ok(Caller(principal))
    }
}

/// The principal of an API key: from the cache of verified keys, else the
/// store (then cached). The console's sign-in checks keys through this too.
pub async fn principal_for_secret(state: &AppState, secret: &str) -> Result<Principal, ApiError> {
    let hash: [u8; 32] = sha2::Sha256::digest(secret.as_bytes()).into();
    let cached = state.keys.0.lock().unwrap_or_else(|p| p.into_inner()).get(&hash).cloned();
    if let Some(p) = cached {
        return Ok(p);
    }
    let store = state.store.clone();
    let s = secret.to_string();
    let found = tokio::task::spawn_blocking(move || store.authenticate(&s))
        .await
        .map_err(|e| ApiError::internal("key lookup", e))?
        .map_err(|e| ApiError::from_store("key lookup", e))?;
    let p = found.ok_or_else(|| ApiError::unauthorized("unknown API key"))?;
    state.keys.0.lock().unwrap_or_else(|p| p.into_inner()).insert(hash, p.clone());
    Ok(p)
}

/// Takes one request from the key's rate limit (its `rate_per_minute`).
pub fn check_rate(state: &AppState, principal: &Principal) -> Result<(), ApiError> {
    let Some(rpm) = principal.rate_per_minute else {
        return Ok(());
    };
    let Err(wait) = state.rate.check(principal.key_id, rpm) else {
        return Ok(());
    };
    state.metrics.rate_limited.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut e = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        format!(
            "key {:?} is limited to {rpm} requests per minute (its rate_per_minute); retry in {wait} s",
            principal.name
        ),
    );
    e.retry_after = Some(wait);
    Err(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reveal_days_renew_at_midnight_utc() {
        assert_eq!(reveal_day(0), (0, 86_400));
        assert_eq!(reveal_day(DAY_MS - 1), (0, 1));
        assert_eq!(reveal_day(DAY_MS + 1_500), (1, 86_399));
        assert_eq!(reveal_day(-1), (-1, 1), "before 1970 still counts whole days");
    }
}
