//! The bearer token: fetched (from the provider's cache) for every attempt, refreshed once per
//! call when ARM answers 401 (a token revoked or rotated before its expiry).

use std::sync::Arc;

use async_trait::async_trait;
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, HeaderValue};

use super::{Call, Next, Outcome, Policy, Request, send_next};
use crate::azure::credential::TokenProvider;
use crate::azure::error::AzureError;

#[derive(Debug)]
pub(crate) struct BearerToken {
    pub tokens: Arc<dyn TokenProvider>,
    /// OAuth scope, e.g. `https://management.azure.com/.default`.
    pub scope: String,
}

#[async_trait]
impl Policy for BearerToken {
    async fn send(&self, call: &mut Call<'_>, req: &mut Request, next: Next<'_>) -> Outcome {
        let mut force_refresh = false;
        loop {
            let token = call
                .ctx
                .run(
                    self.tokens.token(&self.scope, force_refresh),
                    &call.what,
                    call.started,
                    &call.last_state,
                )
                .await??;
            let mut value =
                HeaderValue::try_from(format!("Bearer {}", token.secret())).map_err(|_| {
                    AzureError::Auth("the access token is not a valid HTTP header value".into())
                })?;
            value.set_sensitive(true);
            req.headers.insert(AUTHORIZATION, value);
            let resp = send_next(call, req, next).await?;
            if resp.status == StatusCode::UNAUTHORIZED && !call.token_refreshed {
                call.token_refreshed = true;
                force_refresh = true;
                continue;
            }
            return Ok(resp);
        }
    }
}
