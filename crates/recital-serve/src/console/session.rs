//! Sign-in and sessions: an API key is exchanged once for a random session
//! id in an `HttpOnly`, `SameSite=Strict` cookie, so the key never sits in
//! the page or in script-readable storage. Sessions live in the registry's
//! store (as digests of their ids), so a restart keeps reviewers signed in. Every form carries the session's
//! CSRF token (synchronizer pattern); the sign-in form, which has no session
//! yet, carries a token that must equal a pre-session cookie's.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use cookie::{Cookie, SameSite};

use crate::store::{ConsoleSession, Principal, Role};

use super::{page_error, Console, PageError};

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "recital_console";
/// Name of the pre-session cookie that the sign-in form's token must match.
pub const LOGIN_COOKIE: &str = "recital_console_login";
/// How long a session lasts after sign-in, active or not.
const SESSION_LIFETIME: Duration = Duration::from_secs(8 * 3600);

/// Opens a session for `principal`, kept in the store (as the digest of its
/// id) until [`SESSION_LIFETIME`] has passed; returns its id.
pub async fn open(c: &Console, principal: &Principal) -> Result<String, PageError> {
    let (id, csrf) = (random_token(), random_token());
    let lifetime = i64::try_from(SESSION_LIFETIME.as_millis()).unwrap_or(i64::MAX);
    let expires = crate::store::now_ms().saturating_add(lifetime);
    let (store, token, key) = (c.app.store.clone(), id.clone(), principal.key_id);
    blocking(move || store.open_console_session(&token, key, &csrf, expires)).await?;
    Ok(id)
}

/// Ends a session.
pub async fn close(c: &Console, id: &str) -> Result<(), PageError> {
    let (store, token) = (c.app.store.clone(), id.to_string());
    blocking(move || store.close_console_session(&token)).await.map(|_| ())
}

/// The live session with this id: not expired, not signed out, its key not revoked.
async fn find(c: &Console, id: &str) -> Result<Option<ConsoleSession>, PageError> {
    let (store, token) = (c.app.store.clone(), id.to_string());
    blocking(move || store.console_session(&token)).await
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, crate::store::StoreError> + Send + 'static,
) -> Result<T, PageError> {
    let failed = |e: &dyn std::fmt::Display| {
        PageError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("the console's sessions are not available: {e}"),
        )
    };
    match tokio::task::spawn_blocking(f).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(failed(&e)),
        Err(e) => Err(failed(&e)),
    }
}

/// 32 random bytes in hex.
pub fn random_token() -> String {
    let mut b = [0u8; 32];
    // getrandom fails only where the OS has no entropy source at all: the
    // server could not have generated its open-mode key either.
    getrandom::fill(&mut b).expect("the operating system's random source");
    hex::encode(b)
}

/// Compares two tokens in time independent of where they differ.
pub fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A cookie's value from the request's `Cookie` headers.
pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_string())
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Strict, scoped to the console.
/// `max_age` zero removes the cookie.
pub fn set_cookie(name: &str, value: &str, max_age: Duration) -> HeaderValue {
    let c = Cookie::build((name, value))
        .path("/console")
        .http_only(true)
        .same_site(SameSite::Strict)
        .max_age(cookie::time::Duration::seconds(max_age.as_secs() as i64))
        .build();
    HeaderValue::from_str(&c.to_string()).expect("cookie values are hex")
}

/// The session cookie for a new session.
pub fn session_cookie(id: &str) -> HeaderValue {
    set_cookie(SESSION_COOKIE, id, SESSION_LIFETIME)
}

/// A signed-in caller of a console page.
#[derive(Clone)]
pub struct Session {
    /// Session id (the cookie's value).
    pub id: String,
    /// Who signed in.
    pub principal: Principal,
    /// The token every form of this session carries.
    pub csrf: String,
}

impl Session {
    /// The role's name, as the API spells it.
    pub fn role(&self) -> &'static str {
        crate::auth::role_name(self.principal.role)
    }

    /// Whether the role may use the registry.
    pub fn can_register(&self) -> bool {
        matches!(self.principal.role, Role::Rightsholder | Role::Admin)
    }

    /// Refuses a form whose token is not this session's: a page on another
    /// site cannot read the token, so it cannot make the browser act.
    pub fn check_csrf(&self, token: &str) -> Result<(), PageError> {
        if same_token(&self.csrf, token) {
            Ok(())
        } else {
            Err(csrf_refusal())
        }
    }
}

/// 403 for a form without the right CSRF token.
pub fn csrf_refusal() -> PageError {
    PageError::new(
        StatusCode::FORBIDDEN,
        "This form was refused: its anti-forgery token is missing or stale. Reload the page and try again.",
    )
}

/// Refuses a state-changing request whose `Origin` is another site's (a
/// second line behind the token, for browsers that send `Origin`).
pub fn check_origin(headers: &HeaderMap) -> Result<(), PageError> {
    let (Some(origin), Some(host)) = (headers.get(header::ORIGIN), headers.get(header::HOST)) else {
        return Ok(());
    };
    let origin = origin.to_str().unwrap_or("");
    let host = host.to_str().unwrap_or("");
    let same = origin.strip_prefix("http://").or_else(|| origin.strip_prefix("https://")) == Some(host);
    if same {
        Ok(())
    } else {
        Err(csrf_refusal())
    }
}

impl FromRequestParts<Arc<Console>> for Session {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, console: &Arc<Console>) -> Result<Self, Self::Rejection> {
        let signed_in = match cookie_value(&parts.headers, SESSION_COOKIE) {
            Some(id) => find(console, &id).await.map_err(IntoResponse::into_response)?.map(|s| (id, s)),
            None => None,
        };
        let Some((id, data)) = signed_in else {
            // The router is nested at /console: the path as the browser sent it.
            let uri =
                parts.extensions.get::<axum::extract::OriginalUri>().map(|u| &u.0).unwrap_or(&parts.uri);
            let next = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/console/");
            let target = format!("/console/login?next={}", urlencode(next));
            return Err(Redirect::to(&target).into_response());
        };
        // The key's rate limit holds in the console as in the API.
        if let Err(e) = crate::auth::check_rate(&console.app, &data.principal) {
            return Err(page_error(e.status, &e.message));
        }
        Ok(Session { id, principal: data.principal, csrf: data.csrf })
    }
}

/// Percent-encodes a query value.
pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Where to go after sign-in: a console path only, never another site.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with("/console/") && !n.starts_with("//") && !n.contains('\\') => n.to_string(),
        _ => "/console/".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_compare_whole() {
        assert!(same_token("abcd", "abcd"));
        assert!(!same_token("abcd", "abce"));
        assert!(!same_token("abcd", "abc"));
        assert!(!same_token("", "a"));
    }

    #[test]
    fn next_stays_inside_the_console() {
        assert_eq!(safe_next(Some("/console/works")), "/console/works");
        assert_eq!(safe_next(Some("https://evil.example/")), "/console/");
        assert_eq!(safe_next(Some("//evil.example/console/")), "/console/");
        assert_eq!(safe_next(Some("/console/\\evil")), "/console/");
        assert_eq!(safe_next(None), "/console/");
    }

    #[test]
    fn cookies_are_http_only_and_strict() {
        let c = session_cookie("ab12");
        let s = c.to_str().unwrap();
        assert!(s.contains("HttpOnly"), "{s}");
        assert!(s.contains("SameSite=Strict"), "{s}");
        assert!(s.contains("Path=/console"), "{s}");
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, HeaderValue::from_static("a=1; recital_console=ab12; b=2"));
        assert_eq!(cookie_value(&h, SESSION_COOKIE).as_deref(), Some("ab12"));
        assert_eq!(cookie_value(&h, "zz"), None);
    }

    #[test]
    fn a_foreign_origin_is_refused() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_static("127.0.0.1:8080"));
        assert!(check_origin(&h).is_ok());
        h.insert(header::ORIGIN, HeaderValue::from_static("http://127.0.0.1:8080"));
        assert!(check_origin(&h).is_ok());
        h.insert(header::ORIGIN, HeaderValue::from_static("http://evil.example"));
        assert!(check_origin(&h).is_err());
    }
}
