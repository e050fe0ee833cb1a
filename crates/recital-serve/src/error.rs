//! One error type for every endpoint, rendered the way OpenAI-compatible
//! clients expect (`{"error": {"message", "type", "code"}}`), so the official
//! client libraries surface our messages unchanged.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// An error answered to the caller. The message is meant for them: it says what
/// was wrong with the request and never leaks internals beyond a short cause.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Machine-readable code (`invalid_json`, `unauthorized`, …).
    pub code: &'static str,
    /// Human-readable message.
    pub message: String,
    /// Seconds to wait before retrying (429).
    pub retry_after: Option<u64>,
}

impl ApiError {
    /// An error with a status, code and message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into(), retry_after: None }
    }
    /// 400: the request is malformed.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }
    /// 401: no or unknown API key.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }
    /// 403: the key's role may not do this.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }
    /// 404: absent, or not the caller's (indistinguishable on purpose).
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }
    /// 500: our fault; the cause is logged, the caller gets a short message.
    pub fn internal(context: &str, err: impl std::fmt::Display) -> Self {
        tracing::error!("{context}: {err}");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal_error", format!("{context}: {err}"))
    }
    /// 502/504: the upstream model server failed.
    pub fn upstream(status: StatusCode, message: impl Into<String>) -> Self {
        Self::new(status, "upstream_error", message)
    }
    /// 503: not ready (index loading, shutting down).
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message)
    }

    /// A store error: 403, 404 and 400 for the caller's mistakes, 503 when
    /// the database is unreachable (nothing was written; retry), 500 else.
    pub fn from_store(context: &str, e: crate::store::StoreError) -> Self {
        use crate::store::StoreError;
        match e {
            StoreError::Forbidden(m) => ApiError::forbidden(m),
            StoreError::NotFound(m) => ApiError::not_found(m),
            StoreError::Invalid(m) => ApiError::bad_request("invalid_request", m),
            e if e.is_unavailable() => {
                tracing::error!("{context}: {e}");
                let mut err = ApiError::unavailable(format!(
                    "{context}: {e}; the database cannot be written now, nothing was recorded: retry shortly"
                ));
                err.retry_after = Some(1);
                err
            }
            other => ApiError::internal(context, other),
        }
    }

    /// The OpenAI-style error type for the status.
    fn kind(&self) -> &'static str {
        match self.status.as_u16() {
            400 | 405 | 413 | 415 | 422 => "invalid_request_error",
            401 => "authentication_error",
            403 => "permission_error",
            404 => "not_found_error",
            429 => "rate_limit_error",
            502..=504 => "upstream_error",
            _ => "server_error",
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({"error": {"message": self.message, "type": self.kind(), "code": self.code}});
        let mut resp = (self.status, axum::Json(body)).into_response();
        if self.status == StatusCode::PAYLOAD_TOO_LARGE {
            // The rest of the body was never read, so the connection cannot
            // carry another request: say so, or a client that pools
            // connections sends its next request into one the server closes.
            resp.headers_mut()
                .insert(axum::http::header::CONNECTION, axum::http::HeaderValue::from_static("close"));
        }
        if let Some(s) = self.retry_after {
            if let Ok(v) = s.to_string().parse() {
                resp.headers_mut().insert(axum::http::header::RETRY_AFTER, v);
            }
        }
        resp
    }
}

/// Result of a handler.
pub type ApiResult<T> = Result<T, ApiError>;
