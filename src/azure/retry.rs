//! Retry decisions: which responses are retried, how long to wait, and the server's hints.
//!
//! Policy: 408, 429, 500, 502, 503, 504, connection errors and 409 `AnotherOperationInProgress`
//! are retried up to `max_retries` times. The wait is the server's hint when it sent one
//! (`x-ms-retry-after-ms`, then `retry-after-ms`, then `Retry-After` as seconds or an HTTP date,
//! on any retryable status), otherwise exponential backoff with ±20 % jitter. Requests that
//! are not idempotent (POST actions not marked safe) are retried only when the server cannot
//! have acted on them: 429 (throttled before processing) and failures to connect.

use std::time::{Duration, SystemTime};

use rand::Rng;
use reqwest::header::HeaderMap;

/// How often and how patiently to retry one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// Backoff before the first retry when the server gave no hint.
    pub initial_delay: Duration,
    /// Upper bound for computed backoff.
    pub max_delay: Duration,
    /// Upper bound for a server hint; longer hints are clamped to this.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: super::config::DEFAULT_MAX_RETRIES,
            initial_delay: Duration::from_millis(800),
            max_delay: Duration::from_secs(60),
            max_retry_after: Duration::from_secs(300),
        }
    }
}

impl RetryPolicy {
    /// Backoff before retry number `retry` (0-based), with jitter.
    pub fn backoff(&self, retry: u32) -> Duration {
        let base = self
            .initial_delay
            .saturating_mul(2u32.saturating_pow(retry.min(16)))
            .min(self.max_delay);
        let factor = rand::rng().random_range(0.8..=1.2);
        base.mul_f64(factor).min(self.max_delay)
    }

    /// The wait before the next attempt: the server's hint when present, else backoff.
    pub fn delay(&self, retry: u32, hint: Option<Duration>) -> Duration {
        match hint {
            Some(h) => h.min(self.max_retry_after),
            None => self.backoff(retry),
        }
    }
}

/// Whether a status is transient for every request.
pub fn is_retryable_status(status: u16) -> bool {
    matches!(status, 408 | 429 | 500 | 502 | 503 | 504)
}

/// Whether a 409 body says another operation holds the resource (worth waiting for).
pub fn is_conflict_retryable(code: Option<&str>) -> bool {
    code.is_some_and(|c| c.eq_ignore_ascii_case("AnotherOperationInProgress"))
}

/// Whether a response is worth sending again: any transient status for an idempotent request
/// (and a 409 whose body says another operation holds the resource), only 429 otherwise.
pub fn is_transient(status: u16, body: &[u8], idempotent: bool) -> bool {
    if !idempotent {
        return status == 429;
    }
    is_retryable_status(status)
        || (status == 409
            && is_conflict_retryable(super::error::parse_error_body(body).0.as_deref()))
}

/// The server's retry hint: `x-ms-retry-after-ms`, then `retry-after-ms`, then `Retry-After`
/// (delta-seconds or an HTTP date, relative to `now`).
pub fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let get = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    for name in ["x-ms-retry-after-ms", "retry-after-ms"] {
        if let Some(ms) = get(name).and_then(|v| v.parse::<u64>().ok()) {
            return Some(Duration::from_millis(ms));
        }
    }
    let v = get("retry-after")?;
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    if let Ok(secs) = v.parse::<f64>()
        && secs.is_finite()
        && secs >= 0.0
    {
        return Some(Duration::from_secs_f64(secs));
    }
    let when = httpdate::parse_http_date(v).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn hint_precedence_and_formats() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let all = headers(&[
            ("x-ms-retry-after-ms", "250"),
            ("retry-after-ms", "500"),
            ("retry-after", "7"),
        ]);
        assert_eq!(retry_after(&all, now), Some(Duration::from_millis(250)));
        let two = headers(&[("retry-after-ms", "500"), ("retry-after", "7")]);
        assert_eq!(retry_after(&two, now), Some(Duration::from_millis(500)));
        assert_eq!(
            retry_after(&headers(&[("retry-after", "7")]), now),
            Some(Duration::from_secs(7))
        );
        let date = httpdate::fmt_http_date(now + Duration::from_secs(30));
        assert_eq!(
            retry_after(&headers(&[("retry-after", &date)]), now),
            Some(Duration::from_secs(30))
        );
        let past = httpdate::fmt_http_date(now - Duration::from_secs(30));
        assert_eq!(
            retry_after(&headers(&[("retry-after", &past)]), now),
            Some(Duration::ZERO)
        );
        assert_eq!(retry_after(&headers(&[("retry-after", "soon")]), now), None);
        assert_eq!(retry_after(&HeaderMap::new(), now), None);
    }

    #[test]
    fn backoff_grows_with_jitter_and_is_capped() {
        let p = RetryPolicy {
            initial_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(10),
            ..Default::default()
        };
        for _ in 0..50 {
            let d0 = p.backoff(0);
            assert!(
                d0 >= Duration::from_millis(800) && d0 <= Duration::from_millis(1200),
                "{d0:?}"
            );
            let d2 = p.backoff(2);
            assert!(
                d2 >= Duration::from_millis(3200) && d2 <= Duration::from_millis(4800),
                "{d2:?}"
            );
            assert!(p.backoff(30) <= Duration::from_secs(10));
        }
        assert_eq!(
            p.delay(0, Some(Duration::from_secs(3))),
            Duration::from_secs(3)
        );
        assert_eq!(
            p.delay(0, Some(Duration::from_secs(3600))),
            p.max_retry_after
        );
    }

    #[test]
    fn retryable_statuses() {
        for s in [408, 429, 500, 502, 503, 504] {
            assert!(is_retryable_status(s));
        }
        for s in [200, 400, 401, 403, 404, 409, 501] {
            assert!(!is_retryable_status(s));
        }
        assert!(is_conflict_retryable(Some("anotheroperationinprogress")));
        assert!(!is_conflict_retryable(Some("Conflict")));
        assert!(!is_conflict_retryable(None));
    }
}
