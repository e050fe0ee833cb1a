//! Sign-in and sessions: an API key is exchanged once for a random session
//! id in an `HttpOnly`, `SameSite=Strict` cookie, so the key never sits in
//! the page or in script-readable storage. Every form carries the session's
//! CSRF token (synchronizer pattern); the sign-in form, which has no session
//! yet, carries a token that must equal a pre-session cookie's.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use cookie::{Cookie, SameSite};

use crate::store::{Principal, Role};

use super::{page_error, Console, PageError};

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "recital_console";
/// Name of the pre-session cookie that the sign-in form's token must match.
pub const LOGIN_COOKIE: &str = "recital_console_login";
/// How long a session lasts after sign-in, active or not.
const SESSION_LIFETIME: Duration = Duration::from_secs(8 * 3600);
/// Sessions kept at most (the oldest go first): a bound on memory whatever
/// the number of sign-ins.
const MAX_SESSIONS: usize = 10_000;

/// One signed-in browser.
#[derive(Clone)]
struct SessionData {
    principal: Principal,
    csrf: String,
    created: Instant,
}

/// Live sessions, by id.
#[derive(Default)]
pub struct Sessions(Mutex<HashMap<String, SessionData>>);

impl Sessions {
    /// Opens a session for `principal`; returns its id.
    pub fn open(&self, principal: Principal) -> String {
        let id = random_token();
        let mut m = self.0.lock().unwrap_or_else(|p| p.into_inner());
        m.retain(|_, s| s.created.elapsed() < SESSION_LIFETIME);
        if m.len() >= MAX_SESSIONS {
            if let Some(oldest) = m.iter().min_by_key(|(_, s)| s.created).map(|(k, _)| k.clone()) {
                m.remove(&oldest);
            }
        }
        m.insert(id.clone(), SessionData { principal, csrf: random_token(), created: Instant::now() });
        id
    }

    /// Ends a session.
    pub fn close(&self, id: &str) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).remove(id);
    }

    fn get(&self, id: &str) -> Option<SessionData> {
        let m = self.0.lock().unwrap_or_else(|p| p.into_inner());
        m.get(id).filter(|s| s.created.elapsed() < SESSION_LIFETIME).cloned()
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
        let signed_in = cookie_value(&parts.headers, SESSION_COOKIE)
            .and_then(|id| console.sessions.get(&id).map(|s| (id, s)));
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
    fn sessions_open_and_close() {
        let s = Sessions::default();
        let p = Principal {
            key_id: 1,
            name: "k".into(),
            role: Role::Client,
            default_jurisdiction: None,
            rate_per_minute: None,
        };
        let id = s.open(p);
        assert!(s.get(&id).is_some());
        assert!(s.get("nope").is_none());
        s.close(&id);
        assert!(s.get(&id).is_none());
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
