//! Request bodies: JSON parsed with precise, caller-facing errors.
//!
//! axum's own `Json` answers rejections in plain text; ours says what was wrong
//! (line and column of a syntax error, the unknown field, the size limit) in the
//! same JSON error shape as every other error. Every endpoint with a JSON
//! body (the proxy's included) goes through [`require_json`] and [`parse`],
//! so that one rule holds for all of them.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderMap, StatusCode};
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// A JSON request body of type `T`.
pub struct Body<T>(pub T);

impl<S, T> FromRequest<S> for Body<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        require_json(req.headers())?;
        let bytes = Bytes::from_request(req, state).await.map_err(|r| {
            let status = r.status();
            if status == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    status,
                    "body_too_large",
                    "the request body exceeds the size limit of this server",
                )
            } else {
                ApiError::new(
                    status,
                    "invalid_body",
                    format!("could not read the request body: {}", r.body_text()),
                )
            }
        })?;
        parse(&bytes).map(Body)
    }
}

/// The one content-type rule of every endpoint that takes a JSON body: a
/// declared type must be `application/json`, parameters (`; charset=utf-8`)
/// allowed, anything else is a 415. A request that declares no type at all
/// is read as JSON: it is what a hand-written client means, and the body is
/// still checked to be a JSON object.
pub fn require_json(headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(v) = headers.get(header::CONTENT_TYPE) else { return Ok(()) };
    let essence = v.to_str().ok().and_then(|v| v.split(';').next()).map(str::trim).unwrap_or("");
    if essence.eq_ignore_ascii_case("application/json") {
        return Ok(());
    }
    Err(ApiError::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
        format!(
            "the request body must be JSON (Content-Type: application/json), not {:?}",
            String::from_utf8_lossy(v.as_bytes())
        ),
    ))
}

/// Parses a JSON body, naming the place of a syntax error or the bad field.
/// The body must be an object: serde reads a struct from an array too (its
/// fields in order), which would make `["text"]` a scan request.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(ApiError::bad_request(
            "invalid_json",
            "the request body is empty; expected a JSON object",
        ));
    }
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        if let Ok(v) = serde_json::from_slice::<serde_json::Value>(bytes) {
            return Err(ApiError::bad_request(
                "invalid_request",
                format!("the request body must be a JSON object, not {}", json_kind(&v)),
            ));
        }
    }
    serde_json::from_slice(bytes).map_err(|e| {
        use serde_json::error::Category;
        let code = match e.classify() {
            Category::Syntax | Category::Eof | Category::Io => "invalid_json",
            Category::Data => "invalid_request",
        };
        ApiError::bad_request(code, format!("invalid request body: {e}"))
    })
}

fn json_kind(v: &serde_json::Value) -> &'static str {
    use serde_json::Value;
    match v {
        Value::Array(_) => "an array",
        Value::String(_) => "a string",
        Value::Number(_) => "a number",
        Value::Bool(_) => "a boolean",
        Value::Null => "null",
        Value::Object(_) => "an object",
    }
}
