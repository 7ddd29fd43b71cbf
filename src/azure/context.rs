//! Per-call limits: deadline, cancellation and read-after-create tolerance.

use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::error::AzureError;

/// What bounds one logical call (including its retries and polling).
#[derive(Debug, Clone, Default)]
pub struct CallContext {
    /// No sleep or request extends past this instant.
    pub deadline: Option<Instant>,
    /// Fired by Terraform's StopProvider or a cancelled request; every wait ends within a
    /// second (in practice immediately) with [`AzureError::Cancelled`].
    pub cancel: CancellationToken,
    /// When set, a 404 is treated as "not visible yet" and retried until this instant
    /// (ARM is eventually consistent right after a create).
    pub retry_404_until: Option<Instant>,
}

impl CallContext {
    /// A context with a deadline `timeout` from now.
    pub fn with_timeout(timeout: Duration, cancel: CancellationToken) -> Self {
        CallContext {
            deadline: Some(Instant::now() + timeout),
            cancel,
            retry_404_until: None,
        }
    }

    /// Same context, tolerating 404s for `window` from now.
    pub fn tolerate_404_for(mut self, window: Duration) -> Self {
        self.retry_404_until = Some(Instant::now() + window);
        self
    }

    /// Time left before the deadline.
    pub fn remaining(&self) -> Option<Duration> {
        self.deadline
            .map(|d| d.saturating_duration_since(Instant::now()))
    }

    /// Fails fast when already cancelled or past the deadline.
    pub fn check(&self, what: &str, started: Instant, last_state: &str) -> Result<(), AzureError> {
        if self.cancel.is_cancelled() {
            return Err(AzureError::Cancelled {
                what: what.to_string(),
            });
        }
        if let Some(d) = self.deadline
            && Instant::now() >= d
        {
            return Err(AzureError::DeadlineExceeded {
                what: what.to_string(),
                elapsed: started.elapsed(),
                last_state: last_state.to_string(),
            });
        }
        Ok(())
    }

    /// Sleeps for `dur` unless cancelled first; a sleep that would outlast the deadline
    /// fails at once with [`AzureError::DeadlineExceeded`] instead of waiting in vain.
    pub async fn sleep(
        &self,
        dur: Duration,
        what: &str,
        started: Instant,
        last_state: &str,
    ) -> Result<(), AzureError> {
        self.check(what, started, last_state)?;
        if let Some(d) = self.deadline
            && Instant::now() + dur > d
        {
            return Err(AzureError::DeadlineExceeded {
                what: what.to_string(),
                elapsed: started.elapsed(),
                last_state: format!(
                    "{last_state} (next attempt due in {dur:?}, after the deadline)"
                ),
            });
        }
        // No timer for "no wait": tokio's timer ticks once a millisecond, so even a zero sleep
        // would cost up to a millisecond (a poll the server asked for at once).
        if dur.is_zero() {
            return Ok(());
        }
        tokio::select! {
            _ = self.cancel.cancelled() => Err(AzureError::Cancelled { what: what.to_string() }),
            _ = tokio::time::sleep(dur) => Ok(()),
        }
    }

    /// Runs `fut` unless cancelled or the deadline passes first.
    pub async fn run<F, T>(
        &self,
        fut: F,
        what: &str,
        started: Instant,
        last_state: &str,
    ) -> Result<T, AzureError>
    where
        F: std::future::Future<Output = T>,
    {
        self.check(what, started, last_state)?;
        let deadline = self.deadline;
        let timer = async move {
            match deadline {
                Some(d) => tokio::time::sleep_until(d).await,
                None => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = self.cancel.cancelled() => Err(AzureError::Cancelled { what: what.to_string() }),
            _ = timer => Err(AzureError::DeadlineExceeded {
                what: what.to_string(),
                elapsed: started.elapsed(),
                last_state: last_state.to_string(),
            }),
            v = fut => Ok(v),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A poll the server wants at once must not wait for the timer's next tick (up to 1 ms per
    /// poll): a zero wait never reaches the timer, so it even works on a runtime without one.
    #[test]
    fn zero_sleep_does_not_use_the_timer() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(async {
            let ctx = CallContext::default();
            ctx.sleep(Duration::ZERO, "op", Instant::now(), "s")
                .await
                .unwrap();
        });
    }

    #[tokio::test(start_paused = true)]
    async fn sleep_respects_deadline_and_cancel() {
        let started = Instant::now();
        let ctx = CallContext::with_timeout(Duration::from_secs(5), CancellationToken::new());
        ctx.sleep(Duration::from_secs(2), "x", started, "s")
            .await
            .unwrap();
        let e = ctx
            .sleep(Duration::from_secs(10), "op", started, "InProgress")
            .await
            .unwrap_err();
        assert!(matches!(e, AzureError::DeadlineExceeded { .. }), "{e}");
        assert!(e.to_string().contains("InProgress"));
        let ctx = CallContext::default();
        let c2 = ctx.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(100)).await;
            c2.cancel.cancel();
        });
        let t = Instant::now();
        let e = ctx
            .sleep(Duration::from_secs(3600), "op", started, "s")
            .await
            .unwrap_err();
        assert!(e.is_cancelled());
        assert!(t.elapsed() < Duration::from_secs(1));
    }
}
