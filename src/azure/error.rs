//! The error type of the ARM layer.

use std::time::Duration;

use thiserror::Error;

use super::resource_id::ResourceIdError;

/// An error ARM returned (or an operation that ended badly), with everything needed to
/// diagnose it and to quote to Azure support.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ArmErrorDetails {
    /// HTTP status of the failing response (200 for a failed long-running operation whose
    /// status URL reported `Failed`).
    pub status: u16,
    /// ARM's `error.code` (or `x-ms-error-code`), e.g. `ResourceNotFound`.
    pub code: Option<String>,
    /// ARM's `error.message` (or a short description when the body had none).
    pub message: String,
    /// `x-ms-request-id` of the failing response.
    pub request_id: Option<String>,
    /// `x-ms-correlation-request-id` of the failing response (or the one we sent).
    pub correlation_id: Option<String>,
    /// The resource the call was about.
    pub resource_id: Option<String>,
    /// HTTP method and operation, e.g. `PUT` or `LRO poll`.
    pub operation: String,
}

impl std::fmt::Display for ArmErrorDetails {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ", self.operation)?;
        if let Some(id) = &self.resource_id {
            write!(f, "{id} ")?;
        }
        write!(f, "failed with HTTP {}", self.status)?;
        if let Some(code) = &self.code {
            write!(f, " ({code})")?;
        }
        write!(f, ": {}", self.message)?;
        if let Some(r) = &self.request_id {
            write!(f, " [x-ms-request-id: {r}]")?;
        }
        if let Some(c) = &self.correlation_id {
            write!(f, " [x-ms-correlation-request-id: {c}]")?;
        }
        Ok(())
    }
}

/// Everything that can go wrong in the ARM layer.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum AzureError {
    /// A provider setting (or its environment variable) is invalid.
    #[error("invalid provider setting `{setting}`: {message}")]
    Config {
        /// Name of the setting as the user writes it (e.g. `environment`).
        setting: String,
        /// What is wrong and what was expected.
        message: String,
    },
    /// No credential could produce a token. The message lists each method tried; it never
    /// contains a secret.
    #[error("authentication failed: {0}")]
    Auth(String),
    /// ARM answered with an error status.
    #[error("{0}")]
    Arm(Box<ArmErrorDetails>),
    /// A long-running operation finished in state `Failed` or `Canceled`.
    #[error("long-running operation ended in state {state}: {details}")]
    OperationFailed {
        /// Terminal state as ARM spelled it.
        state: String,
        /// ARM's error for the operation.
        details: Box<ArmErrorDetails>,
    },
    /// The request could not be sent or no response arrived, after all retries.
    #[error("{operation} {url} failed after {attempts} attempt(s): {message}")]
    Transport {
        /// HTTP method.
        operation: String,
        /// URL without its query string.
        url: String,
        /// How many attempts were made.
        attempts: u32,
        /// The last transport error.
        message: String,
    },
    /// The caller's cancellation token fired (Terraform stopped the provider or the request).
    #[error("{what} was cancelled (Terraform asked the provider to stop)")]
    Cancelled {
        /// What was in progress.
        what: String,
    },
    /// The caller's deadline passed.
    #[error(
        "{what} did not finish before the deadline ({elapsed:?} elapsed); the last state was: {last_state}"
    )]
    DeadlineExceeded {
        /// What was in progress.
        what: String,
        /// Time spent.
        elapsed: Duration,
        /// Last observed state (status code or provisioning state).
        last_state: String,
    },
    /// A response could not be understood.
    #[error("unexpected response from {url}: {message}")]
    InvalidResponse {
        /// URL without its query string.
        url: String,
        /// What was wrong.
        message: String,
    },
    /// A resource id is malformed or of the wrong kind.
    #[error(transparent)]
    ResourceId(#[from] ResourceIdError),
    /// An endpoint URL is not acceptable (not https outside loopback, or unparsable).
    #[error("endpoint {url:?} refused: {reason}")]
    InsecureEndpoint {
        /// The URL.
        url: String,
        /// Why.
        reason: String,
    },
}

impl AzureError {
    /// True when ARM said the resource does not exist (HTTP 404, or codes such as
    /// `ResourceNotFound`, `ResourceGroupNotFound`).
    pub fn is_not_found(&self) -> bool {
        match self {
            AzureError::Arm(d) => {
                d.status == 404
                    || d.code.as_deref().is_some_and(|c| {
                        c.eq_ignore_ascii_case("ResourceNotFound")
                            || c.eq_ignore_ascii_case("ResourceGroupNotFound")
                            || c.eq_ignore_ascii_case("NotFound")
                    })
            }
            _ => false,
        }
    }

    /// True for cancellation by the caller.
    pub fn is_cancelled(&self) -> bool {
        matches!(self, AzureError::Cancelled { .. })
    }

    /// ARM error details, when the error came from ARM.
    pub fn arm_details(&self) -> Option<&ArmErrorDetails> {
        match self {
            AzureError::Arm(d) => Some(d),
            AzureError::OperationFailed { details, .. } => Some(details),
            _ => None,
        }
    }

    /// ARM's error code, if any.
    pub fn code(&self) -> Option<&str> {
        self.arm_details().and_then(|d| d.code.as_deref())
    }

    /// `x-ms-request-id` of the failing response, if any.
    pub fn request_id(&self) -> Option<&str> {
        self.arm_details().and_then(|d| d.request_id.as_deref())
    }

    /// HTTP status, if the error came from a response.
    pub fn status(&self) -> Option<u16> {
        self.arm_details().map(|d| d.status)
    }

    pub(crate) fn config(setting: &str, message: impl Into<String>) -> Self {
        AzureError::Config {
            setting: setting.to_string(),
            message: message.into(),
        }
    }
}

/// A TLS handshake that failed for a reason retrying cannot fix (the certificate does not
/// verify, or the peer does not speak TLS as expected).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error(
    "TLS connection to {host} failed: {reason}. If the server's certificate is issued by a private CA (an emulator, a TLS-inspecting proxy), trust that CA with the provider setting `ca_bundle` (or ARM_CA_BUNDLE)"
)]
pub struct TlsFailure {
    /// Host name that was contacted.
    pub host: String,
    /// What rustls reported, in words.
    pub reason: String,
}

/// The TLS reason behind a transport error, when there is one. Walks the source chain,
/// looking inside `io::Error`s (whose `source()` skips the error they wrap).
pub(crate) fn tls_failure(e: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut cur = Some(e);
    while let Some(err) = cur {
        if let Some(t) = err.downcast_ref::<rustls::Error>() {
            return Some(describe_rustls(t));
        }
        if let Some(inner) = err
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            && let Some(r) = tls_failure(inner)
        {
            return Some(r);
        }
        cur = err.source();
    }
    None
}

/// A failed request in words: the TLS reason with the `ca_bundle` hint when the failure is
/// one, else `other()`.
pub(crate) fn tls_or_else(
    host: &str,
    e: &(dyn std::error::Error + 'static),
    other: impl FnOnce() -> String,
) -> String {
    match tls_failure(e) {
        Some(reason) => TlsFailure {
            host: host.to_string(),
            reason,
        }
        .to_string(),
        None => other(),
    }
}

fn describe_rustls(e: &rustls::Error) -> String {
    use rustls::CertificateError as C;
    match e {
        rustls::Error::InvalidCertificate(c) => match c {
            C::UnknownIssuer => {
                "the server's certificate is not issued by a trusted CA (unknown issuer)".into()
            }
            C::NotValidForName | C::NotValidForNameContext { .. } => {
                "the server's certificate is not valid for this host name".into()
            }
            C::Expired | C::ExpiredContext { .. } => "the server's certificate has expired".into(),
            C::Other(o) if format!("{o:?}").contains("CaUsedAsEndEntity") => {
                "the server presented a CA certificate as its own (end-entity) certificate".into()
            }
            other => format!("the server's certificate was refused ({other:?})"),
        },
        other => other.to_string(),
    }
}

/// Extracts ARM's `{"error": {"code", "message"}}` (also accepts a top-level
/// `{"code","message"}`, which some RPs send).
pub(crate) fn parse_error_body(body: &[u8]) -> (Option<String>, Option<String>) {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) else {
        return (None, None);
    };
    let obj = v.get("error").filter(|e| e.is_object()).unwrap_or(&v);
    let s = |k: &str| obj.get(k).and_then(|x| x.as_str()).map(str::to_string);
    (s("code"), s("message"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_body_shapes() {
        let (c, m) = parse_error_body(br#"{"error":{"code":"Conflict","message":"busy"}}"#);
        assert_eq!(
            (c.as_deref(), m.as_deref()),
            (Some("Conflict"), Some("busy"))
        );
        let (c, m) = parse_error_body(br#"{"code":"X","message":"y"}"#);
        assert_eq!((c.as_deref(), m.as_deref()), (Some("X"), Some("y")));
        assert_eq!(parse_error_body(b"<html>"), (None, None));
    }

    #[test]
    fn display_carries_ids() {
        let e = AzureError::Arm(Box::new(ArmErrorDetails {
            status: 404,
            code: Some("ResourceNotFound".into()),
            message: "gone".into(),
            request_id: Some("req-1".into()),
            correlation_id: Some("corr-1".into()),
            resource_id: Some("/subscriptions/s".into()),
            operation: "GET".into(),
        }));
        let s = e.to_string();
        for needle in [
            "GET /subscriptions/s",
            "404",
            "ResourceNotFound",
            "gone",
            "req-1",
            "corr-1",
        ] {
            assert!(s.contains(needle), "{s}");
        }
        assert!(e.is_not_found());
        assert_eq!(e.request_id(), Some("req-1"));
    }
}
