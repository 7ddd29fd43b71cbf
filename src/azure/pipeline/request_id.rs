//! Request ids: a fresh `x-ms-client-request-id` per attempt (ARM echoes it back), and the
//! `x-ms-correlation-request-id` shared by every request of one logical call, so that Azure
//! support can find the whole call from one id.

use async_trait::async_trait;
use reqwest::header::{ACCEPT, HeaderName, HeaderValue};

use super::{Call, Next, Outcome, Policy, Request, send_next};

pub(crate) const CLIENT_REQUEST_ID: &str = "x-ms-client-request-id";

#[derive(Debug)]
pub(crate) struct RequestIds;

#[async_trait]
impl Policy for RequestIds {
    async fn send(&self, call: &mut Call<'_>, req: &mut Request, next: Next<'_>) -> Outcome {
        let h = &mut req.headers;
        // A UUID is always a valid header value.
        if let Ok(id) = HeaderValue::try_from(uuid::Uuid::new_v4().to_string()) {
            h.insert(HeaderName::from_static(CLIENT_REQUEST_ID), id);
        }
        h.insert(
            HeaderName::from_static("x-ms-return-client-request-id"),
            HeaderValue::from_static("true"),
        );
        if let Ok(corr) = HeaderValue::try_from(call.correlation_id) {
            h.insert(HeaderName::from_static("x-ms-correlation-request-id"), corr);
        }
        h.insert(ACCEPT, HeaderValue::from_static("application/json"));
        send_next(call, req, next).await
    }
}
