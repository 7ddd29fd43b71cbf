//! ARM-shaped error responses.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// An error that ARM (or a resource provider behind it) would return.
///
/// Rendered as `{"error":{"code":..,"message":..}}` with the given status.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{status} {code}: {message}")]
pub struct ArmError {
    /// HTTP status to answer with.
    pub status: StatusCode,
    /// PascalCase error code clients branch on.
    pub code: String,
    /// Human-readable message.
    pub message: String,
    /// Optional `target` field.
    pub target: Option<String>,
    /// Extra headers (e.g. `Retry-After`, `WWW-Authenticate`).
    pub headers: Vec<(header::HeaderName, HeaderValue)>,
}

impl ArmError {
    /// A new error with the given status, code and message.
    pub fn new(status: StatusCode, code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.into(),
            message: message.into(),
            target: None,
            headers: Vec::new(),
        }
    }

    /// 400 with the given code.
    pub fn bad_request(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// 404 with the given code.
    pub fn not_found(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, message)
    }

    /// 409 with the given code.
    pub fn conflict(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }

    /// Adds a response header; invalid values are skipped (they are built by us).
    pub fn with_header(mut self, name: header::HeaderName, value: &str) -> Self {
        if let Ok(v) = HeaderValue::from_str(value) {
            self.headers.push((name, v));
        }
        self
    }

    /// Sets the `target` field.
    pub fn with_target(mut self, target: impl Into<String>) -> Self {
        self.target = Some(target.into());
        self
    }

    /// The JSON body ARM sends.
    pub fn body(&self) -> serde_json::Value {
        let mut err = json!({"code": self.code, "message": self.message});
        if let Some(t) = &self.target {
            err["target"] = json!(t);
        }
        json!({ "error": err })
    }

    /// The `ResourceNotFound` error ARM gives for a missing resource in an existing group.
    pub fn resource_not_found(type_name: &str, name: &str, rg: &str) -> Self {
        Self::not_found(
            "ResourceNotFound",
            format!(
                "The Resource '{type_name}/{name}' under resource group '{rg}' was not found. \
                 For more details please go to https://aka.ms/ARMResourceNotFoundFix"
            ),
        )
    }

    /// The error for a body that is not valid JSON.
    pub fn invalid_json(detail: &str) -> Self {
        Self::bad_request(
            "InvalidRequestContent",
            format!("The request content was invalid and could not be deserialized: '{detail}'."),
        )
    }
}

impl IntoResponse for ArmError {
    fn into_response(self) -> Response {
        let body = self.body();
        let mut resp = (self.status, axum::Json(body)).into_response();
        for (k, v) in self.headers {
            resp.headers_mut().insert(k, v);
        }
        resp
    }
}

/// Errors starting or running the emulator itself (not ARM answers).
#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    /// Certificate generation failed.
    #[error("could not generate the TLS certificate: {0}")]
    Certificate(#[from] rcgen::Error),
    /// TLS configuration failed.
    #[error("could not configure TLS: {0}")]
    Tls(#[from] rustls::Error),
    /// An I/O operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What we were doing.
        context: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The seed or state file was not valid.
    #[error("invalid {what}: {message}")]
    InvalidData {
        /// Which input was invalid (seed, state file).
        what: String,
        /// What was wrong.
        message: String,
    },
    /// The configuration was not allowed.
    #[error("invalid configuration: {0}")]
    Config(String),
}

impl EmulatorError {
    /// Wraps an I/O error with context.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io {
            context: context.into(),
            source,
        }
    }
}
