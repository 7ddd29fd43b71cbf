//! The Azure Resource Manager layer: configuration, credentials, a retrying request
//! pipeline, long-running operation polling, errors and resource ids. It knows nothing
//! about Terraform.
//!
//! Typical use:
//! ```no_run
//! # async fn demo() -> Result<(), amlauth::azure::AzureError> {
//! use amlauth::azure::{AuthConfig, ArmClient, CallContext, ResourceId, process_env};
//! let resolved = AuthConfig::default().resolve(&process_env)?;
//! let client = ArmClient::from_config(&resolved)?;
//! let id = ResourceId::ml_workspace("/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws")?;
//! let ws = client.get_json(&id, "2025-06-01", &CallContext::default()).await?;
//! # let _ = ws; Ok(()) }
//! ```

pub mod assertion;
pub mod certificate;
pub mod client;
pub mod cloud;
pub mod config;
pub mod context;
pub mod credential;
pub(crate) mod endpoint;
pub mod entra;
pub mod error;
pub mod http;
pub mod lro;
pub mod managed_identity;
pub mod pipeline;
pub mod resource_id;
pub mod retry;

use std::sync::Arc;

pub use client::{ArmClient, ArmClientOptions, ArmPager};
pub use cloud::Cloud;
pub use config::{AuthConfig, ResolvedAuthConfig, process_env};
pub use context::CallContext;
pub use credential::{AuthMethod, CredentialChain, CredentialOptions, StaticToken, TokenProvider};
pub use error::{ArmErrorDetails, AzureError};
pub use lro::PollPolicy;
pub use resource_id::{ResourceId, ResourceIdError};
pub use retry::RetryPolicy;

impl ArmClient {
    /// Builds the client and its credential chain from resolved provider settings.
    pub fn from_config(cfg: &ResolvedAuthConfig) -> Result<Self, AzureError> {
        let http = http::build_http_client(cfg.ca_bundle.as_deref())?;
        let chain = CredentialChain::new(
            cfg,
            CredentialOptions {
                http: http.clone(),
                cli_executor: None,
            },
        );
        Self::with_token_provider(cfg, Arc::new(chain), http)
    }

    /// Builds the client from resolved settings with a given token provider and HTTP client.
    pub fn with_token_provider(
        cfg: &ResolvedAuthConfig,
        tokens: Arc<dyn TokenProvider>,
        http: reqwest::Client,
    ) -> Result<Self, AzureError> {
        ArmClient::new(
            tokens,
            ArmClientOptions {
                base_url: cfg.cloud.resource_manager.clone(),
                scope: cfg.cloud.resource_manager_scope(),
                retry: RetryPolicy {
                    max_retries: cfg.max_retries,
                    ..Default::default()
                },
                poll: PollPolicy::default(),
                http,
                attempt_timeout: client::DEFAULT_ATTEMPT_TIMEOUT,
            },
        )
    }
}
