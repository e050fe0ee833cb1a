//! Request bodies: JSON parsed with precise, caller-facing errors.
//!
//! axum's own `Json` answers rejections in plain text; ours says what was wrong
//! (line and column of a syntax error, the unknown field, the size limit) in the
//! same JSON error shape as every other error.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
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
        let is_json = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.trim_start().to_ascii_lowercase().starts_with("application/json"))
            .unwrap_or(true);
        if !is_json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "the request body must be JSON (Content-Type: application/json)",
            ));
        }
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

/// Parses a JSON body, naming the place of a syntax error or the bad field.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(ApiError::bad_request(
            "invalid_json",
            "the request body is empty; expected a JSON object",
        ));
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
