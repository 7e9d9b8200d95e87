//! Error types: [`ApiError`] is an Intercom `error.list` response; [`SimError`] is a startup/shutdown failure.

use std::sync::atomic::{AtomicU64, Ordering};

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

static REQUEST_SEQ: AtomicU64 = AtomicU64::new(1);

/// A fresh UUID-shaped request id (Intercom returns one in every error body). Deterministic per process.
pub fn request_id() -> String {
    let n = REQUEST_SEQ.fetch_add(1, Ordering::Relaxed);
    format!("5e1a0000-0000-4000-8000-{n:012x}")
}

/// One failure the simulator answers with, rendered as
/// `{"type":"error.list","request_id":…,"errors":[{"code","message","field"?}]}` (spec schema `error`).
#[derive(Debug, Clone)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Intercom error code, e.g. `parameter_invalid`.
    pub code: &'static str,
    /// Human message.
    pub message: String,
    /// Offending request field, when there is one.
    pub field: Option<String>,
}

impl ApiError {
    /// Any status and code.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            field: None,
        }
    }
    /// Attach the offending field name.
    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }
    /// 400 `parameter_invalid`.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "parameter_invalid", message)
    }
    /// 400 `parameter_invalid` naming `field`.
    pub fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        Self::invalid(message).with_field(field)
    }
    /// 400 `parameter_not_found`: a required field is missing.
    pub fn missing(field: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "parameter_not_found",
            format!("{field} is required"),
        )
        .with_field(field)
    }
    /// 404 `not_found` with a message such as `Resource Not Found`.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }
    /// 401 `unauthorized` (`Access Token Invalid`).
    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Access Token Invalid",
        )
    }
    /// The JSON body.
    pub fn body(&self) -> serde_json::Value {
        let mut e = json!({"code": self.code, "message": self.message});
        if let Some(f) = &self.field {
            e["field"] = json!(f);
        }
        json!({"type": "error.list", "request_id": request_id(), "errors": [e]})
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, axum::Json(self.body())).into_response()
    }
}

/// Result type of route handlers.
pub type ApiResult<T> = Result<T, ApiError>;

/// Failures of the simulator process itself (not of API requests).
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The token environment variable is not set (its value is never printed).
    #[error("environment variable {0} (the API token) is not set")]
    MissingToken(String),
    /// The `--seed-admins` file could not be read or parsed.
    #[error("seed admins file {path}: {reason}")]
    SeedAdmins {
        /// File path.
        path: String,
        /// What went wrong.
        reason: String,
    },
    /// A `--fault` spec is malformed.
    #[error("bad fault spec: {0}")]
    Fault(String),
    /// Socket or file I/O.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The cause.
        source: std::io::Error,
    },
}
