//! Entra ID token endpoints: the transport azure_identity's credentials send through, and
//! the error answers of token endpoints.
//!
//! azure_identity 1.0 decodes an error answer into a struct that *borrows*
//! `error_description`, which fails on any JSON escape — and real Entra puts `\r\n` in it.
//! The user then saw a serde message instead of Entra's. [`EntraTransport`] therefore turns
//! every non-success answer into an [`EntraError`] itself (owned strings, every field
//! optional) before azure_identity looks at the body. It also makes TLS failures permanent:
//! azure_core retries transport errors, and a certificate that does not verify will not
//! verify on the next attempt either.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use azure_core::error::ErrorKind;
use azure_core::http::{AsyncRawResponse, HttpClient, Request, StatusCode};
use serde_json::Value;

use super::error::{TlsFailure, tls_failure};

/// A token endpoint's error answer (Entra ID, or a managed-identity endpoint).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EntraError {
    /// HTTP status.
    pub status: u16,
    /// OAuth `error`, e.g. `invalid_client`.
    pub error: Option<String>,
    /// The human message, without Entra's `Trace ID: … Timestamp: …` tail.
    pub message: String,
    /// `error_codes`, e.g. `[7000215]`.
    pub codes: Vec<i64>,
    /// `trace_id` (or the one quoted in the description).
    pub trace_id: Option<String>,
    /// `correlation_id` (or `correlationId` of App Service identity endpoints).
    pub correlation_id: Option<String>,
    /// `timestamp`.
    pub timestamp: Option<String>,
}

impl std::error::Error for EntraError {}

impl fmt::Display for EntraError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Entra's description already starts with "AADSTS<code>:"; other endpoints' do not.
        if let Some(code) = self.codes.first()
            && !self.message.starts_with("AADSTS")
        {
            write!(f, "AADSTS{code}: ")?;
        }
        f.write_str(&self.message)?;
        write!(f, " (HTTP {}", self.status)?;
        if let Some(e) = &self.error {
            write!(f, " {e}")?;
        }
        if let Some(t) = &self.trace_id {
            write!(f, "; trace id {t}")?;
        }
        if let Some(c) = &self.correlation_id {
            write!(f, "; correlation id {c}")?;
        }
        if let Some(t) = &self.timestamp {
            write!(f, "; timestamp {t}")?;
        }
        f.write_str(")")
    }
}

/// Collapses runs of whitespace (including Entra's `\r\n`) into single spaces.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The value after `label` in Entra's description tail, up to the next whitespace.
fn quoted_field(description: &str, label: &str) -> Option<String> {
    let start = description.find(label)? + label.len();
    description[start..]
        .split_whitespace()
        .next()
        .map(str::to_string)
}

impl EntraError {
    /// Reads an error answer. Never fails: a body that is not JSON yields the HTTP status
    /// alone (its text is not quoted, it could be anything a proxy returns).
    pub fn parse(status: u16, body: &[u8]) -> Self {
        let mut e = EntraError {
            status,
            ..Default::default()
        };
        let Ok(Value::Object(v)) = serde_json::from_slice::<Value>(body) else {
            e.message = format!(
                "the token endpoint answered HTTP {status} without a JSON error{}",
                if body.is_empty() { "" } else { " body" }
            );
            return e;
        };
        let s = |k: &str| {
            v.get(k)
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        e.error = s("error");
        let description = s("error_description")
            .or_else(|| s("message"))
            .or_else(|| {
                // `{"error": {"code", "message"}}`, as some App Service identity endpoints send.
                v.get("error")
                    .and_then(|x| x.get("message"))
                    .and_then(Value::as_str)
                    .map(str::to_string)
            })
            .unwrap_or_default();
        e.codes = v
            .get("error_codes")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_i64).collect())
            .unwrap_or_default();
        e.trace_id = s("trace_id").or_else(|| quoted_field(&description, "Trace ID:"));
        e.correlation_id = s("correlation_id")
            .or_else(|| s("correlationId"))
            .or_else(|| quoted_field(&description, "Correlation ID:"));
        e.timestamp = s("timestamp");
        // The ids are shown once, from the fields above.
        let body_text = match description.find("Trace ID:") {
            Some(i) => &description[..i],
            None => description.as_str(),
        };
        e.message = one_line(body_text);
        if e.message.is_empty() {
            e.message = match &e.error {
                Some(err) => format!("the token endpoint refused the request ({err})"),
                None => format!("the token endpoint answered HTTP {status}"),
            };
            e.error = None;
        }
        e
    }
}

/// Whether azure_core should try a token request again after this status.
fn transient(status: u16) -> bool {
    super::retry::is_retryable_status(status)
}

/// The HTTP transport given to azure_identity's credentials (see the module docs).
#[derive(Debug, Clone)]
pub(crate) struct EntraTransport {
    http: Arc<reqwest::Client>,
}

impl EntraTransport {
    pub(crate) fn new(http: reqwest::Client) -> Self {
        EntraTransport {
            http: Arc::new(http),
        }
    }
}

#[async_trait]
impl HttpClient for EntraTransport {
    async fn execute_request(&self, request: &Request) -> azure_core::Result<AsyncRawResponse> {
        let host = request.url().host_str().unwrap_or_default().to_string();
        let resp = match self.http.execute_request(request).await {
            Ok(r) => r,
            Err(e) => {
                if let Some(reason) = tls_failure(&e) {
                    // Not Io/Connection: azure_core retries only those.
                    return Err(azure_core::Error::new(
                        ErrorKind::Credential,
                        TlsFailure { host, reason },
                    ));
                }
                return Err(e);
            }
        };
        let status = resp.status();
        if status.is_success() {
            return Ok(resp);
        }
        let body = resp.into_body().collect().await?;
        let err = EntraError::parse(u16::from(status), &body);
        let kind = if transient(u16::from(status)) {
            // Io is what azure_core's retry policy retries (within `max_retries`).
            ErrorKind::Io
        } else {
            ErrorKind::HttpResponse {
                status: StatusCode::from(u16::from(status)),
                error_code: err.codes.first().map(i64::to_string),
                raw_response: None,
            }
        };
        Err(azure_core::Error::new(kind, err))
    }
}

/// The most useful text of a credential error: our own [`EntraError`] or [`TlsFailure`]
/// when one is in the chain (azure_core's outer messages, such as "retry policy expired",
/// hide the cause), else every distinct message of the chain.
pub(crate) fn describe(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    let mut parts: Vec<String> = Vec::new();
    while let Some(err) = cur {
        if let Some(x) = err.downcast_ref::<EntraError>() {
            return x.to_string();
        }
        if let Some(x) = err.downcast_ref::<TlsFailure>() {
            return x.to_string();
        }
        if let Some(reason) = tls_failure(err) {
            return reason;
        }
        let s = err.to_string();
        if !parts.iter().any(|p| p.contains(&s)) {
            parts.push(s);
        }
        cur = err.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Recorded from Entra ID (ids replaced): CRLF inside the description, an error_codes
    /// array and a space-separated timestamp.
    const REAL_INVALID_CLIENT: &str = "{\"error\":\"invalid_client\",\"error_description\":\"AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '11111111-2222-3333-4444-555555555555'. Trace ID: 0b7c2c1e-6a7d-4a2e-9a4b-3c2d1e0f0a00\\r\\nCorrelation ID: 5f6e7d8c-1b2a-4c3d-8e9f-0a1b2c3d4e5f\\r\\nTimestamp: 2025-03-04 10:11:12Z\",\"error_codes\":[7000215],\"timestamp\":\"2025-03-04 10:11:12Z\",\"trace_id\":\"0b7c2c1e-6a7d-4a2e-9a4b-3c2d1e0f0a00\",\"correlation_id\":\"5f6e7d8c-1b2a-4c3d-8e9f-0a1b2c3d4e5f\",\"error_uri\":\"https://login.microsoftonline.com/error?code=7000215\"}";

    #[test]
    fn real_invalid_client_body() {
        let e = EntraError::parse(401, REAL_INVALID_CLIENT.as_bytes());
        assert_eq!(e.codes, vec![7000215]);
        assert_eq!(e.error.as_deref(), Some("invalid_client"));
        assert_eq!(
            e.trace_id.as_deref(),
            Some("0b7c2c1e-6a7d-4a2e-9a4b-3c2d1e0f0a00")
        );
        let s = e.to_string();
        assert!(
            s.starts_with("AADSTS7000215: Invalid client secret provided."),
            "{s}"
        );
        assert!(
            s.contains("trace id 0b7c2c1e-6a7d-4a2e-9a4b-3c2d1e0f0a00"),
            "{s}"
        );
        assert!(!s.contains('\r') && !s.contains('\n'), "{s}");
        assert_eq!(s.matches("0b7c2c1e").count(), 1, "{s}");
    }

    #[test]
    fn other_shapes() {
        let e = EntraError::parse(
            400,
            br#"{"error":"invalid_request","error_description":"Identity not found"}"#,
        );
        assert_eq!(
            e.to_string(),
            "Identity not found (HTTP 400 invalid_request)"
        );
        let e = EntraError::parse(
            400,
            br#"{"statusCode":400,"message":"Unable to load the proper Managed Identity.","correlationId":"c-1"}"#,
        );
        assert_eq!(
            e.to_string(),
            "Unable to load the proper Managed Identity. (HTTP 400; correlation id c-1)"
        );
        let e = EntraError::parse(502, b"<html>bad gateway</html>");
        assert!(!e.to_string().contains("html"), "{e}");
        let e = EntraError::parse(
            401,
            br#"{"error":"invalid_client","error_codes":[7000222]}"#,
        );
        assert!(e.to_string().starts_with("AADSTS7000222: "), "{e}");
    }
}
