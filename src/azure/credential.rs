//! Credentials: choosing an authentication method as azurerm does, getting tokens, caching.
//!
//! Methods are considered in azurerm's order: client certificate, client secret, OIDC
//! (static token, token file, GitHub Actions request URL), managed identity, Azure CLI. A
//! method takes part when it is enabled and its settings are present. The first one that
//! yields a token is kept for the life of the provider.
//!
//! A configured service principal (certificate, secret or OIDC) that fails ends the search:
//! falling back to, say, the developer's CLI login would silently act as another identity.
//! Managed identity may fall through to the CLI, as both are ambient. When nothing works,
//! one error lists every method with why it was not used or how it failed; known secret
//! values are scrubbed from it.
//!
//! Tokens are cached per (tenant, scope) until five minutes before expiry. A forced refresh
//! (after a 401) rebuilds the underlying credential so its own cache cannot hand back the
//! rejected token.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use azure_core::cloud::{CloudConfiguration, CustomConfiguration};
use azure_core::credentials::{AccessToken, Secret, TokenCredential, TokenRequestOptions};
use azure_core::http::{
    ClientMethodOptions, ClientOptions, ExponentialRetryOptions, RetryOptions, Transport,
};
use azure_identity::{
    AzureCliCredential, AzureCliCredentialOptions, ClientAssertion, ClientAssertionCredential,
    ClientAssertionCredentialOptions, ClientSecretCredential, ClientSecretCredentialOptions,
    Executor,
};
use time::OffsetDateTime;

use super::assertion::{FileAssertion, GitHubAssertion, StaticAssertion};
use super::certificate::{CertificateAssertion, load_certificate_bytes};
use super::config::ResolvedAuthConfig;
use super::entra::{EntraTransport, describe};
use super::error::AzureError;
use super::managed_identity::{ManagedIdentity, MiSource, default_imds};

/// Source of bearer tokens for ARM requests.
#[async_trait]
pub trait TokenProvider: Send + Sync + fmt::Debug {
    /// A token for `scope`; `force_refresh` bypasses caches (used after a 401).
    async fn token(&self, scope: &str, force_refresh: bool) -> Result<Secret, AzureError>;
}

/// A fixed token (tests and tools that already hold one).
#[derive(Debug, Clone)]
pub struct StaticToken(pub Secret);

#[async_trait]
impl TokenProvider for StaticToken {
    async fn token(&self, _scope: &str, _force_refresh: bool) -> Result<Secret, AzureError> {
        Ok(self.0.clone())
    }
}

/// An authentication method, named as in diagnostics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    /// Service principal with a PKCS#12 certificate.
    ClientCertificate,
    /// Service principal with a client secret.
    ClientSecret,
    /// OIDC with a token given directly.
    OidcToken,
    /// OIDC with a token read from a file on every request.
    OidcTokenFile,
    /// OIDC with a token requested from GitHub Actions.
    OidcGitHubActions,
    /// Managed identity (App Service endpoint, custom endpoint or IMDS).
    ManagedIdentity,
    /// The Azure CLI's logged-in account.
    AzureCli,
}

impl fmt::Display for AuthMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AuthMethod::ClientCertificate => "client certificate",
            AuthMethod::ClientSecret => "client secret",
            AuthMethod::OidcToken => "OIDC token",
            AuthMethod::OidcTokenFile => "OIDC token file",
            AuthMethod::OidcGitHubActions => "OIDC via GitHub Actions token request",
            AuthMethod::ManagedIdentity => "managed identity",
            AuthMethod::AzureCli => "Azure CLI",
        })
    }
}

type Builder = Box<dyn Fn() -> Result<Arc<dyn TokenCredential>, String> + Send + Sync>;

struct Candidate {
    method: AuthMethod,
    /// Explicitly configured service principal: failure ends the search.
    explicit: bool,
    build: Builder,
    current: Mutex<Option<Arc<dyn TokenCredential>>>,
}

impl Candidate {
    fn credential(&self, rebuild: bool) -> Result<Arc<dyn TokenCredential>, String> {
        let mut cur = self
            .current
            .lock()
            .map_err(|_| "credential lock poisoned".to_string())?;
        if !rebuild && let Some(c) = cur.as_ref() {
            return Ok(c.clone());
        }
        let c = (self.build)()?;
        *cur = Some(c.clone());
        Ok(c)
    }
}

/// Everything besides the resolved settings that credentials need.
#[derive(Clone)]
pub struct CredentialOptions {
    /// HTTP client for token endpoints (carries the CA bundle and proxy settings).
    pub http: reqwest::Client,
    /// Runs `az`; `None` uses azure_identity's default process executor.
    pub cli_executor: Option<Arc<dyn Executor>>,
}

impl fmt::Debug for CredentialOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CredentialOptions").finish_non_exhaustive()
    }
}

/// The provider's credential: the methods that may be used, in order, and a token cache.
pub struct CredentialChain {
    candidates: Vec<Candidate>,
    skipped: Vec<(AuthMethod, String)>,
    chosen: Mutex<Option<usize>>,
    cache: Mutex<HashMap<(String, String), AccessToken>>,
    tenant: String,
    gate: tokio::sync::Mutex<()>,
}

impl fmt::Debug for CredentialChain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CredentialChain")
            .field("methods", &self.methods())
            .field("tenant", &self.tenant)
            .finish_non_exhaustive()
    }
}

fn client_options(cfg: &ResolvedAuthConfig, http: &reqwest::Client) -> ClientOptions {
    let mut custom = CustomConfiguration::default();
    custom.authority_host = cfg
        .cloud
        .authority_host
        .as_str()
        .trim_end_matches('/')
        .to_string();
    ClientOptions {
        transport: Some(Transport::new(Arc::new(EntraTransport::new(http.clone())))),
        cloud: Some(Arc::new(CloudConfiguration::Custom(custom))),
        // azure_core's own retry loop, bounded by the provider's `max_retries` like ARM calls.
        retry: RetryOptions::exponential(ExponentialRetryOptions {
            max_retries: cfg.max_retries,
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn err_string(e: azure_core::Error) -> String {
    describe(&e)
}

impl CredentialChain {
    /// Works out which methods apply to `cfg` and prepares them (no network access yet).
    pub fn new(cfg: &ResolvedAuthConfig, opts: CredentialOptions) -> Self {
        // Token endpoints and tools may echo what they were sent; values this short would mask
        // ordinary words, so they are left alone (as before the redactors were merged).
        for secret in cfg.secret_values() {
            if secret.len() >= 4 {
                crate::logging::redact::register_secret(&secret);
            }
        }
        let mut candidates = Vec::new();
        let mut skipped = Vec::new();
        let tenant = cfg.tenant_id.clone();
        let client = cfg.client_id.clone();
        let sp_missing = |what: &str| -> Option<String> {
            let mut missing = Vec::new();
            if tenant.is_none() {
                missing.push("tenant_id");
            }
            if client.is_none() {
                missing.push("client_id");
            }
            (!missing.is_empty())
                .then(|| format!("{what} is set but {} is not", missing.join(" and ")))
        };
        let mut push = |method, explicit, build: Builder| {
            candidates.push(Candidate {
                method,
                explicit,
                build,
                current: Mutex::new(None),
            })
        };

        // 1. Client certificate.
        match &cfg.client_certificate {
            None => skipped.push((
                AuthMethod::ClientCertificate,
                "client_certificate(_path) is not set".into(),
            )),
            Some(cert_source) => match sp_missing("client_certificate") {
                Some(why) => skipped.push((AuthMethod::ClientCertificate, why)),
                None => {
                    let source = cert_source.clone();
                    let tenant = cfg.tenant_id.clone().unwrap_or_default();
                    let client = cfg.client_id.clone().unwrap_or_default();
                    let password_set = cfg.client_certificate_password.is_some();
                    let endpoint = format!(
                        "{}/{}/oauth2/v2.0/token",
                        cfg.cloud.authority_host.as_str().trim_end_matches('/'),
                        tenant
                    );
                    let co = client_options(cfg, &opts.http);
                    push(
                        AuthMethod::ClientCertificate,
                        true,
                        Box::new(move || {
                            let pem = load_certificate_bytes(&source)?;
                            let assertion = CertificateAssertion::from_pem(
                                &pem,
                                password_set,
                                &client,
                                &endpoint,
                            )?;
                            let cred = ClientAssertionCredential::new(
                                tenant.clone(),
                                client.clone(),
                                assertion,
                                Some(ClientAssertionCredentialOptions {
                                    client_options: co.clone(),
                                }),
                            )
                            .map_err(err_string)?;
                            Ok(cred as Arc<dyn TokenCredential>)
                        }),
                    )
                }
            },
        }

        // 2. Client secret.
        match &cfg.client_secret {
            None => skipped.push((AuthMethod::ClientSecret, "client_secret is not set".into())),
            Some(secret) => match sp_missing("client_secret") {
                Some(why) => skipped.push((AuthMethod::ClientSecret, why)),
                None => {
                    let (t, c, s) = (
                        cfg.tenant_id.clone().unwrap_or_default(),
                        cfg.client_id.clone().unwrap_or_default(),
                        secret.clone(),
                    );
                    let co = client_options(cfg, &opts.http);
                    push(
                        AuthMethod::ClientSecret,
                        true,
                        Box::new(move || {
                            let cred = ClientSecretCredential::new(
                                &t,
                                c.clone(),
                                s.clone(),
                                Some(ClientSecretCredentialOptions {
                                    client_options: co.clone(),
                                }),
                            )
                            .map_err(err_string)?;
                            Ok(cred as Arc<dyn TokenCredential>)
                        }),
                    )
                }
            },
        }

        // 3. OIDC in its three forms.
        if !cfg.use_oidc {
            skipped.push((AuthMethod::OidcToken, "use_oidc is false".into()));
        } else {
            let assertion_builder = |assertion: Arc<dyn ClientAssertion>| -> Builder {
                let t = cfg.tenant_id.clone().unwrap_or_default();
                let c = cfg.client_id.clone().unwrap_or_default();
                let co = client_options(cfg, &opts.http);
                Box::new(move || {
                    let cred = ClientAssertionCredential::new(
                        t.clone(),
                        c.clone(),
                        SharedAssertion(assertion.clone()),
                        Some(ClientAssertionCredentialOptions {
                            client_options: co.clone(),
                        }),
                    )
                    .map_err(err_string)?;
                    Ok(cred as Arc<dyn TokenCredential>)
                })
            };
            let github: Option<Arc<dyn ClientAssertion>> =
                match (&cfg.oidc_request_url, &cfg.oidc_request_token) {
                    (Some(url), Some(tok)) => Some(Arc::new(GitHubAssertion {
                        url: url.clone(),
                        token: tok.clone(),
                        http: opts.http.clone(),
                    })),
                    _ => None,
                };
            // Each OIDC form: the assertion (when configured), its method and its setting.
            type Source = (Option<Arc<dyn ClientAssertion>>, AuthMethod, &'static str);
            let sources: [Source; 3] = [
                (
                    cfg.oidc_token
                        .clone()
                        .map(|t| Arc::new(StaticAssertion(t)) as Arc<dyn ClientAssertion>),
                    AuthMethod::OidcToken,
                    "oidc_token",
                ),
                (
                    cfg.oidc_token_file_path
                        .clone()
                        .map(|p| Arc::new(FileAssertion(p)) as Arc<dyn ClientAssertion>),
                    AuthMethod::OidcTokenFile,
                    "oidc_token_file_path",
                ),
                (github, AuthMethod::OidcGitHubActions, "oidc_request_url"),
            ];
            let mut any = false;
            for (assertion, method, setting) in sources {
                let Some(assertion) = assertion else { continue };
                any = true;
                match sp_missing(setting) {
                    Some(why) => skipped.push((method, why)),
                    None => push(method, true, assertion_builder(assertion)),
                }
            }
            if cfg.oidc_request_url.is_some() != cfg.oidc_request_token.is_some() {
                any = true;
                skipped.push((
                    AuthMethod::OidcGitHubActions,
                    "oidc_request_url and oidc_request_token must both be set".into(),
                ));
            }
            if !any {
                skipped.push((
                    AuthMethod::OidcToken,
                    "use_oidc is true but none of oidc_token, oidc_token_file_path, oidc_request_url is set".into(),
                ));
            }
        }

        // 4. Managed identity.
        if cfg.use_msi {
            let source = match (&cfg.msi_endpoint, &cfg.app_service_identity) {
                (Some(ep), _) => MiSource::Imds(ep.clone()),
                (None, Some(app)) => MiSource::AppService(app.clone()),
                (None, None) => MiSource::Imds(default_imds()),
            };
            let mi = Arc::new(ManagedIdentity {
                http: opts.http.clone(),
                source,
                client_id: cfg.client_id.clone(),
            });
            push(
                AuthMethod::ManagedIdentity,
                false,
                Box::new(move || Ok(mi.clone() as Arc<dyn TokenCredential>)),
            );
        } else {
            skipped.push((AuthMethod::ManagedIdentity, "use_msi is false".into()));
        }

        // 5. Azure CLI.
        if cfg.use_cli {
            let tenant = cfg.tenant_id.clone();
            let exec = opts.cli_executor.clone();
            push(
                AuthMethod::AzureCli,
                false,
                Box::new(move || {
                    let cred = AzureCliCredential::new(Some(AzureCliCredentialOptions {
                        tenant_id: tenant.clone(),
                        executor: exec.clone(),
                        ..Default::default()
                    }))
                    .map_err(err_string)?;
                    Ok(cred as Arc<dyn TokenCredential>)
                }),
            );
        } else {
            skipped.push((AuthMethod::AzureCli, "use_cli is false".into()));
        }

        CredentialChain {
            candidates,
            skipped,
            chosen: Mutex::new(None),
            cache: Mutex::new(HashMap::new()),
            tenant: cfg.tenant_id.clone().unwrap_or_default(),
            gate: tokio::sync::Mutex::new(()),
        }
    }

    /// The methods that will be tried, in order.
    pub fn methods(&self) -> Vec<AuthMethod> {
        self.candidates.iter().map(|c| c.method).collect()
    }

    /// The method that produced the first token, once one has.
    pub fn chosen_method(&self) -> Option<AuthMethod> {
        let idx = (*self.chosen.lock().ok()?)?;
        self.candidates.get(idx).map(|c| c.method)
    }

    /// Masks secrets in a message: the configured ones were registered with the redactor in
    /// [`CredentialChain::new`], shapes (tokens, assertions) are recognised there too.
    fn scrub(&self, s: &str) -> String {
        crate::logging::redact::redact(s).into_owned()
    }

    fn cached(&self, key: &(String, String)) -> Option<Secret> {
        let cache = self.cache.lock().ok()?;
        let t = cache.get(key)?;
        (t.expires_on - time::Duration::minutes(5) > OffsetDateTime::now_utc())
            .then(|| t.token.clone())
    }

    async fn try_candidate(
        &self,
        idx: usize,
        scope: &str,
        rebuild: bool,
    ) -> Result<AccessToken, String> {
        let c = &self.candidates[idx];
        let cred = c.credential(rebuild)?;
        cred.get_token(&[scope], None::<TokenRequestOptions<'_>>)
            .await
            .map_err(|e| self.scrub(&describe(&e)))
    }
}

#[async_trait]
impl TokenProvider for CredentialChain {
    async fn token(&self, scope: &str, force_refresh: bool) -> Result<Secret, AzureError> {
        let key = (self.tenant.clone(), scope.to_string());
        if !force_refresh && let Some(t) = self.cached(&key) {
            return Ok(t);
        }
        // One acquisition at a time, so parallel resources don't all spawn `az`.
        let _g = self.gate.lock().await;
        if !force_refresh && let Some(t) = self.cached(&key) {
            return Ok(t);
        }
        let chosen = self.chosen.lock().ok().and_then(|c| *c);
        if let Some(idx) = chosen {
            let method = self.candidates[idx].method;
            return match self.try_candidate(idx, scope, force_refresh).await {
                Ok(tok) => {
                    let s = tok.token.clone();
                    if let Ok(mut c) = self.cache.lock() {
                        c.insert(key, tok);
                    }
                    Ok(s)
                }
                Err(e) => Err(AzureError::Auth(format!(
                    "{method} authentication failed: {e}"
                ))),
            };
        }
        let mut tried: Vec<String> = Vec::new();
        for idx in 0..self.candidates.len() {
            let c = &self.candidates[idx];
            match self.try_candidate(idx, scope, force_refresh).await {
                Ok(tok) => {
                    tracing::debug!(method = %c.method, "authenticated");
                    if let Ok(mut ch) = self.chosen.lock() {
                        *ch = Some(idx);
                    }
                    let s = tok.token.clone();
                    if let Ok(mut cache) = self.cache.lock() {
                        cache.insert(key, tok);
                    }
                    return Ok(s);
                }
                Err(e) => {
                    tried.push(format!("{}: failed: {e}", c.method));
                    if c.explicit {
                        tried.push("(later methods were not tried because a configured service principal failed)".into());
                        break;
                    }
                }
            }
        }
        let mut lines = tried;
        for (m, why) in &self.skipped {
            lines.push(format!("{m}: not used: {why}"));
        }
        let msg = if self.candidates.is_empty() {
            format!(
                "no authentication method is configured.\n  - {}",
                lines.join("\n  - ")
            )
        } else {
            format!(
                "no authentication method produced a token.\n  - {}",
                lines.join("\n  - ")
            )
        };
        Err(AzureError::Auth(self.scrub(&msg)))
    }
}

/// Wraps an `Arc<dyn ClientAssertion>` so the generic credential can own it.
#[derive(Debug, Clone)]
struct SharedAssertion(Arc<dyn ClientAssertion>);

#[async_trait]
impl ClientAssertion for SharedAssertion {
    async fn secret(&self, options: Option<ClientMethodOptions<'_>>) -> azure_core::Result<String> {
        self.0.secret(options).await
    }
}
