//! Provider authentication settings, their environment-variable fallbacks and validation.
//!
//! [`AuthConfig`] mirrors the provider block: every field is optional. [`AuthConfig::resolve`]
//! fills unset fields from the azurerm environment variables (the environment is passed in as
//! a lookup function so tests never touch the process environment), applies defaults and
//! validates, producing a [`ResolvedAuthConfig`]. Empty strings count as unset, as in azurerm.
//!
//! | setting | environment variable(s) | default |
//! |---|---|---|
//! | `subscription_id` | `ARM_SUBSCRIPTION_ID` | |
//! | `tenant_id` | `ARM_TENANT_ID` | |
//! | `client_id` / `client_id_file_path` | `ARM_CLIENT_ID` / `ARM_CLIENT_ID_FILE_PATH` | |
//! | `client_secret` / `client_secret_file_path` | `ARM_CLIENT_SECRET` / `ARM_CLIENT_SECRET_FILE_PATH` | |
//! | `client_certificate_path` / `client_certificate` | `ARM_CLIENT_CERTIFICATE_PATH` / `ARM_CLIENT_CERTIFICATE` | |
//! | `client_certificate_password` | `ARM_CLIENT_CERTIFICATE_PASSWORD` | |
//! | `use_oidc` | `ARM_USE_OIDC` | false |
//! | `oidc_token` / `oidc_token_file_path` | `ARM_OIDC_TOKEN` / `ARM_OIDC_TOKEN_FILE_PATH` | |
//! | `oidc_request_url` | `ARM_OIDC_REQUEST_URL`, then `ACTIONS_ID_TOKEN_REQUEST_URL` | |
//! | `oidc_request_token` | `ARM_OIDC_REQUEST_TOKEN`, then `ACTIONS_ID_TOKEN_REQUEST_TOKEN` | |
//! | `use_aks_workload_identity` | `ARM_USE_AKS_WORKLOAD_IDENTITY` (+ `AZURE_FEDERATED_TOKEN_FILE`, `AZURE_CLIENT_ID`, `AZURE_TENANT_ID`) | false |
//! | `use_msi` / `msi_endpoint` | `ARM_USE_MSI` / `ARM_MSI_ENDPOINT` (+ `IDENTITY_ENDPOINT`, `IDENTITY_HEADER`) | false / IMDS |
//! | `use_cli` | `ARM_USE_CLI` | true |
//! | `environment` | `ARM_ENVIRONMENT` | `public` |
//! | `resource_manager_endpoint` | `ARM_RESOURCE_MANAGER_ENDPOINT` | the cloud's |
//! | `resource_manager_audience` | `ARM_RESOURCE_MANAGER_AUDIENCE` | the endpoint |
//! | `authority_host` | `ARM_AUTHORITY_HOST` | the cloud's |
//! | `ca_bundle` | `ARM_CA_BUNDLE` | system roots only |
//! | `max_retries` | `ARM_MAX_RETRIES` | 6 |
//!
//! The last five are this provider's own (azurerm configures custom clouds through a
//! metadata host instead).

use std::path::{Path, PathBuf};
use std::time::Duration;

use azure_core::credentials::Secret;
use base64::Engine as _;
use url::Url;

use super::cloud::{Cloud, parse_endpoint};
use super::error::AzureError;

/// Default number of retries for a retryable response or connection error.
pub const DEFAULT_MAX_RETRIES: u32 = 6;
/// Largest accepted `max_retries`.
pub const MAX_MAX_RETRIES: u32 = 30;

/// Provider settings as written in configuration (all optional).
#[derive(Clone, Default)]
pub struct AuthConfig {
    /// `subscription_id` / `ARM_SUBSCRIPTION_ID`.
    pub subscription_id: Option<String>,
    /// `tenant_id` / `ARM_TENANT_ID`.
    pub tenant_id: Option<String>,
    /// `client_id` / `ARM_CLIENT_ID`.
    pub client_id: Option<String>,
    /// `client_id_file_path` / `ARM_CLIENT_ID_FILE_PATH`.
    pub client_id_file_path: Option<String>,
    /// `client_secret` / `ARM_CLIENT_SECRET` (sensitive).
    pub client_secret: Option<String>,
    /// `client_secret_file_path` / `ARM_CLIENT_SECRET_FILE_PATH`.
    pub client_secret_file_path: Option<String>,
    /// `client_certificate_path` / `ARM_CLIENT_CERTIFICATE_PATH`: PEM file with the certificate
    /// and its unencrypted RSA key (PKCS#12 is refused with a conversion hint).
    pub client_certificate_path: Option<String>,
    /// `client_certificate` / `ARM_CLIENT_CERTIFICATE`: the same PEM, base64-encoded (sensitive).
    pub client_certificate: Option<String>,
    /// `client_certificate_password` / `ARM_CLIENT_CERTIFICATE_PASSWORD` (sensitive).
    pub client_certificate_password: Option<String>,
    /// `use_oidc` / `ARM_USE_OIDC`.
    pub use_oidc: Option<bool>,
    /// `oidc_token` / `ARM_OIDC_TOKEN` (sensitive).
    pub oidc_token: Option<String>,
    /// `oidc_token_file_path` / `ARM_OIDC_TOKEN_FILE_PATH`.
    pub oidc_token_file_path: Option<String>,
    /// `oidc_request_url` / `ARM_OIDC_REQUEST_URL` / `ACTIONS_ID_TOKEN_REQUEST_URL`.
    pub oidc_request_url: Option<String>,
    /// `oidc_request_token` / `ARM_OIDC_REQUEST_TOKEN` / `ACTIONS_ID_TOKEN_REQUEST_TOKEN` (sensitive).
    pub oidc_request_token: Option<String>,
    /// `use_aks_workload_identity` / `ARM_USE_AKS_WORKLOAD_IDENTITY`: OIDC with the token file
    /// from `AZURE_FEDERATED_TOKEN_FILE`.
    pub use_aks_workload_identity: Option<bool>,
    /// `use_msi` / `ARM_USE_MSI`.
    pub use_msi: Option<bool>,
    /// `msi_endpoint` / `ARM_MSI_ENDPOINT`.
    pub msi_endpoint: Option<String>,
    /// `use_cli` / `ARM_USE_CLI` (default true).
    pub use_cli: Option<bool>,
    /// `environment` / `ARM_ENVIRONMENT`: `public` (default), `usgovernment`, `china`.
    pub environment: Option<String>,
    /// `resource_manager_endpoint` / `ARM_RESOURCE_MANAGER_ENDPOINT`: overrides the cloud's ARM URL.
    pub resource_manager_endpoint: Option<String>,
    /// `resource_manager_audience` / `ARM_RESOURCE_MANAGER_AUDIENCE`: token audience
    /// (defaults to the cloud's, or to `resource_manager_endpoint` when that is overridden).
    pub resource_manager_audience: Option<String>,
    /// `authority_host` / `ARM_AUTHORITY_HOST`: Entra ID base URL (must be https).
    pub authority_host: Option<String>,
    /// `ca_bundle` / `ARM_CA_BUNDLE`: PEM file with extra trusted CA certificates.
    pub ca_bundle: Option<String>,
    /// `max_retries` / `ARM_MAX_RETRIES`.
    pub max_retries: Option<i64>,
}

impl std::fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let set = |o: &Option<String>| if o.is_some() { "<set>" } else { "<unset>" };
        f.debug_struct("AuthConfig")
            .field("subscription_id", &self.subscription_id)
            .field("tenant_id", &self.tenant_id)
            .field("client_id", &self.client_id)
            .field("client_secret", &set(&self.client_secret))
            .field("client_certificate", &set(&self.client_certificate))
            .field(
                "client_certificate_password",
                &set(&self.client_certificate_password),
            )
            .field("oidc_token", &set(&self.oidc_token))
            .field("oidc_request_token", &set(&self.oidc_request_token))
            .field("use_oidc", &self.use_oidc)
            .field("use_msi", &self.use_msi)
            .field("use_cli", &self.use_cli)
            .field("environment", &self.environment)
            .finish_non_exhaustive()
    }
}

/// Where the client certificate comes from.
#[derive(Debug, Clone)]
pub enum CertificateSource {
    /// A certificate file.
    Path(PathBuf),
    /// The base64 `client_certificate` setting (validated, kept encoded).
    Inline(Secret),
}

/// App Service / Functions managed identity endpoint (`IDENTITY_ENDPOINT` + `IDENTITY_HEADER`).
#[derive(Debug, Clone)]
pub struct AppServiceIdentity {
    /// `IDENTITY_ENDPOINT`.
    pub endpoint: Url,
    /// `IDENTITY_HEADER`.
    pub header: Secret,
}

/// Settings after environment fallback, defaults and validation.
#[derive(Debug, Clone)]
pub struct ResolvedAuthConfig {
    /// Subscription id, if known.
    pub subscription_id: Option<String>,
    /// Tenant id.
    pub tenant_id: Option<String>,
    /// Client (application) id.
    pub client_id: Option<String>,
    /// Client secret.
    pub client_secret: Option<Secret>,
    /// Client certificate.
    pub client_certificate: Option<CertificateSource>,
    /// Certificate password.
    pub client_certificate_password: Option<Secret>,
    /// OIDC enabled.
    pub use_oidc: bool,
    /// Static OIDC token.
    pub oidc_token: Option<Secret>,
    /// File holding the OIDC token (re-read on each token request).
    pub oidc_token_file_path: Option<PathBuf>,
    /// GitHub Actions token request URL.
    pub oidc_request_url: Option<Url>,
    /// GitHub Actions request bearer token.
    pub oidc_request_token: Option<Secret>,
    /// Managed identity enabled.
    pub use_msi: bool,
    /// Custom IMDS-style endpoint.
    pub msi_endpoint: Option<Url>,
    /// App Service identity endpoint from the environment.
    pub app_service_identity: Option<AppServiceIdentity>,
    /// Azure CLI enabled.
    pub use_cli: bool,
    /// Endpoints.
    pub cloud: Cloud,
    /// Extra trusted CAs.
    pub ca_bundle: Option<PathBuf>,
    /// Retries per request.
    pub max_retries: u32,
}

impl ResolvedAuthConfig {
    /// Every secret value in the configuration, used to scrub error messages.
    pub fn secret_values(&self) -> Vec<String> {
        let mut v: Vec<String> = [
            &self.client_secret,
            &self.client_certificate_password,
            &self.oidc_token,
            &self.oidc_request_token,
        ]
        .into_iter()
        .flatten()
        .map(|s| s.secret().to_string())
        .collect();
        if let Some(CertificateSource::Inline(s)) = &self.client_certificate {
            v.push(s.secret().to_string());
        }
        if let Some(a) = &self.app_service_identity {
            v.push(a.header.secret().to_string());
        }
        v.retain(|s| !s.is_empty());
        v
    }
}

/// Looks up an environment variable; `None` when unset.
pub type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Reads the real process environment.
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

fn non_empty(v: Option<String>) -> Option<String> {
    v.filter(|s| !s.trim().is_empty())
}

struct Resolver<'a> {
    env: EnvLookup<'a>,
}

impl Resolver<'_> {
    fn string(&self, value: &Option<String>, vars: &[&str]) -> Option<String> {
        non_empty(value.clone()).or_else(|| vars.iter().find_map(|v| non_empty((self.env)(v))))
    }

    fn boolean(
        &self,
        setting: &str,
        value: Option<bool>,
        var: &str,
    ) -> Result<Option<bool>, AzureError> {
        if value.is_some() {
            return Ok(value);
        }
        match non_empty((self.env)(var)) {
            None => Ok(None),
            Some(s) => match s.trim().to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" => Ok(Some(true)),
                "false" | "0" | "no" => Ok(Some(false)),
                _ => Err(AzureError::config(
                    setting,
                    format!("environment variable {var} is {s:?}; expected true or false"),
                )),
            },
        }
    }
}

/// IMDS is plain http on a link-local address by design, so `msi_endpoint` may use http on
/// loopback or link-local hosts.
fn parse_msi_endpoint(value: &str) -> Result<Url, AzureError> {
    let u = Url::parse(value.trim()).map_err(|e| {
        AzureError::config("msi_endpoint", format!("{value:?} is not a URL ({e}); expected e.g. http://169.254.169.254/metadata/identity/oauth2/token"))
    })?;
    let link_local = matches!(u.host(), Some(url::Host::Ipv4(ip)) if ip.is_link_local());
    if u.scheme() == "http" && link_local {
        return Ok(u);
    }
    super::cloud::check_endpoint_scheme(&u)
        .map_err(|reason| AzureError::config("msi_endpoint", reason))?;
    Ok(u)
}

/// Largest secret value accepted (client secret, passwords, tokens, client id).
pub const MAX_SECRET_BYTES: usize = 64 * 1024;
/// Largest client certificate accepted (the PEM, after base64 decoding).
pub const MAX_CERTIFICATE_BYTES: usize = 1024 * 1024;
/// Largest `ca_bundle` accepted (full system bundles are a few hundred KiB).
pub const MAX_CA_BUNDLE_BYTES: usize = 8 * 1024 * 1024;
/// How long reading one file setting may take (a stalled network mount must not hang the
/// provider).
pub const FILE_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Reads a file named by a setting: a regular file only (not a FIFO, socket or device such as
/// `/dev/zero`), at most `max` bytes, within [`FILE_READ_TIMEOUT`]. Blocking: async callers
/// use `spawn_blocking`.
pub fn read_setting_file(setting: &str, path: &Path, max: usize) -> Result<Vec<u8>, AzureError> {
    let shown = path.display().to_string();
    let err = |m: String| AzureError::config(setting, format!("{shown}: {m}"));
    // stat() does not open: a FIFO nobody writes to cannot block us here.
    let meta = std::fs::metadata(path).map_err(|e| err(format!("cannot read it ({e})")))?;
    if !meta.is_file() {
        return Err(err(
            "is not a regular file (devices, FIFOs and sockets are refused)".into(),
        ));
    }
    if meta.len() > max as u64 {
        return Err(err(format!(
            "is {} bytes; at most {max} bytes are accepted",
            meta.len()
        )));
    }
    // The read itself runs on its own thread so a hung file system costs a timeout, not the
    // provider.
    let (tx, rx) = std::sync::mpsc::channel();
    let p = path.to_path_buf();
    std::thread::Builder::new()
        .name("read-setting-file".into())
        .spawn(move || {
            let read = (|| {
                use std::io::Read as _;
                let f = std::fs::File::open(&p)?;
                let mut buf = Vec::new();
                f.take(max as u64 + 1).read_to_end(&mut buf)?;
                Ok::<_, std::io::Error>(buf)
            })();
            let _ = tx.send(read);
        })
        .map_err(|e| err(format!("cannot start reading it ({e})")))?;
    match rx.recv_timeout(FILE_READ_TIMEOUT) {
        Ok(Ok(buf)) if buf.len() > max => Err(err(format!(
            "is larger than {max} bytes, the most accepted"
        ))),
        Ok(Ok(buf)) => Ok(buf),
        Ok(Err(e)) => Err(err(format!("cannot read it ({e})"))),
        Err(_) => Err(err(format!(
            "reading it did not finish within {} seconds",
            FILE_READ_TIMEOUT.as_secs()
        ))),
    }
}

/// Refuses a value larger than `max` bytes (a mistaken file content or a hostile value would
/// otherwise cost memory and time everywhere it is used).
pub(crate) fn check_size(setting: &str, value: &str, max: usize) -> Result<(), AzureError> {
    if value.len() > max {
        return Err(AzureError::config(
            setting,
            format!(
                "the value is {} bytes; at most {max} bytes are accepted",
                value.len()
            ),
        ));
    }
    Ok(())
}

fn read_trimmed_file(setting: &str, path: &str) -> Result<String, AzureError> {
    let bytes = read_setting_file(setting, Path::new(path), MAX_SECRET_BYTES)?;
    let text = String::from_utf8(bytes)
        .map_err(|_| AzureError::config(setting, format!("{path:?} is not UTF-8 text")))?;
    let t = text.trim().to_string();
    if t.is_empty() {
        return Err(AzureError::config(
            setting,
            format!("file {path:?} is empty"),
        ));
    }
    Ok(t)
}

impl AuthConfig {
    /// Fills unset fields from the environment, applies defaults and validates.
    pub fn resolve(&self, env: EnvLookup<'_>) -> Result<ResolvedAuthConfig, AzureError> {
        let r = Resolver { env };
        let environment = r.string(&self.environment, &["ARM_ENVIRONMENT"]);
        let mut cloud = match &environment {
            Some(name) => Cloud::from_name(name)?,
            None => Cloud::public(),
        };
        if let Some(ep) = r.string(
            &self.resource_manager_endpoint,
            &["ARM_RESOURCE_MANAGER_ENDPOINT"],
        ) {
            let u = parse_endpoint("resource_manager_endpoint", &ep)?;
            cloud.resource_manager_audience = u.as_str().trim_end_matches('/').to_string();
            cloud.resource_manager = u;
            cloud.name = "custom".into();
        }
        if let Some(aud) = r.string(
            &self.resource_manager_audience,
            &["ARM_RESOURCE_MANAGER_AUDIENCE"],
        ) {
            cloud.resource_manager_audience = aud.trim().trim_end_matches("/.default").to_string();
        }
        if let Some(host) = r.string(&self.authority_host, &["ARM_AUTHORITY_HOST"]) {
            let u = parse_endpoint("authority_host", &host)?;
            if u.scheme() != "https" {
                return Err(AzureError::config(
                    "authority_host",
                    "the token endpoint must use https:// (azure_identity refuses http); point it at an https server and trust its CA with ca_bundle",
                ));
            }
            cloud.authority_host = u;
        }

        let client_id = match r.string(&self.client_id, &["ARM_CLIENT_ID"]) {
            Some(id) => Some(id.trim().to_string()),
            None => match r.string(&self.client_id_file_path, &["ARM_CLIENT_ID_FILE_PATH"]) {
                Some(p) => Some(read_trimmed_file("client_id_file_path", &p)?),
                None => None,
            },
        };
        let inline_secret = non_empty(self.client_secret.clone());
        let secret_path = non_empty(self.client_secret_file_path.clone());
        if inline_secret.is_some() && secret_path.is_some() {
            return Err(AzureError::config(
                "client_secret",
                "set either client_secret or client_secret_file_path, not both",
            ));
        }
        let client_secret = match inline_secret {
            Some(s) => Some(s),
            None => match secret_path {
                Some(p) => Some(read_trimmed_file("client_secret_file_path", &p)?),
                None => match r.string(&None, &["ARM_CLIENT_SECRET"]) {
                    Some(s) => Some(s),
                    None => match r.string(&None, &["ARM_CLIENT_SECRET_FILE_PATH"]) {
                        Some(p) => Some(read_trimmed_file("client_secret_file_path", &p)?),
                        None => None,
                    },
                },
            },
        };

        let cert_path = r.string(
            &self.client_certificate_path,
            &["ARM_CLIENT_CERTIFICATE_PATH"],
        );
        let cert_inline = r.string(&self.client_certificate, &["ARM_CLIENT_CERTIFICATE"]);
        let client_certificate = match (cert_path, cert_inline) {
            (Some(_), Some(_)) => {
                return Err(AzureError::config(
                    "client_certificate",
                    "set either client_certificate (base64) or client_certificate_path, not both",
                ));
            }
            (Some(p), None) => {
                // Read once here (ConfigureProvider runs off the RPC thread), bounded.
                let pem = read_setting_file(
                    "client_certificate_path",
                    Path::new(&p),
                    MAX_CERTIFICATE_BYTES,
                )?;
                Some(CertificateSource::Inline(Secret::new(
                    base64::engine::general_purpose::STANDARD.encode(pem),
                )))
            }
            (None, Some(b64)) => {
                // base64 is 4/3 of the PEM; refuse before decoding.
                check_size(
                    "client_certificate",
                    &b64,
                    MAX_CERTIFICATE_BYTES / 3 * 4 + 4,
                )?;
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(b64.trim())
                    .map_err(|e| {
                        AzureError::config(
                            "client_certificate",
                            format!("not valid base64 ({e}); expected a base64-encoded PEM certificate with its key"),
                        )
                    })?;
                // Keep the bytes base64 in a Secret so they never print.
                let b64 = base64::engine::general_purpose::STANDARD.encode(bytes);
                Some(CertificateSource::Inline(Secret::new(b64)))
            }
            (None, None) => None,
        };
        let client_certificate_password = r
            .string(
                &self.client_certificate_password,
                &["ARM_CLIENT_CERTIFICATE_PASSWORD"],
            )
            .map(Secret::new);

        let use_aks = r
            .boolean(
                "use_aks_workload_identity",
                self.use_aks_workload_identity,
                "ARM_USE_AKS_WORKLOAD_IDENTITY",
            )?
            .unwrap_or(false);
        let mut use_oidc = r
            .boolean("use_oidc", self.use_oidc, "ARM_USE_OIDC")?
            .unwrap_or(false);
        let oidc_token = r
            .string(&self.oidc_token, &["ARM_OIDC_TOKEN"])
            .map(Secret::new);
        let mut oidc_token_file_path = r
            .string(&self.oidc_token_file_path, &["ARM_OIDC_TOKEN_FILE_PATH"])
            .map(PathBuf::from);
        let mut client_id = client_id;
        let mut tenant_id = r.string(&self.tenant_id, &["ARM_TENANT_ID"]);
        if use_aks {
            use_oidc = true;
            if oidc_token_file_path.is_none() {
                oidc_token_file_path = r
                    .string(&None, &["AZURE_FEDERATED_TOKEN_FILE"])
                    .map(PathBuf::from);
            }
            if client_id.is_none() {
                client_id = r.string(&None, &["AZURE_CLIENT_ID"]);
            }
            if tenant_id.is_none() {
                tenant_id = r.string(&None, &["AZURE_TENANT_ID"]);
            }
        }
        let oidc_request_url = match r.string(
            &self.oidc_request_url,
            &["ARM_OIDC_REQUEST_URL", "ACTIONS_ID_TOKEN_REQUEST_URL"],
        ) {
            Some(u) => Some(parse_endpoint("oidc_request_url", &u)?),
            None => None,
        };
        let oidc_request_token = r
            .string(
                &self.oidc_request_token,
                &["ARM_OIDC_REQUEST_TOKEN", "ACTIONS_ID_TOKEN_REQUEST_TOKEN"],
            )
            .map(Secret::new);

        let use_msi = r
            .boolean("use_msi", self.use_msi, "ARM_USE_MSI")?
            .unwrap_or(false);
        let msi_endpoint = match r.string(&self.msi_endpoint, &["ARM_MSI_ENDPOINT"]) {
            Some(u) => Some(parse_msi_endpoint(&u)?),
            None => None,
        };
        let app_service_identity = match (
            non_empty((r.env)("IDENTITY_ENDPOINT")),
            non_empty((r.env)("IDENTITY_HEADER")),
        ) {
            (Some(ep), Some(h)) => Some(AppServiceIdentity {
                endpoint: parse_endpoint("IDENTITY_ENDPOINT", &ep)?,
                header: Secret::new(h),
            }),
            _ => None,
        };
        let use_cli = r
            .boolean("use_cli", self.use_cli, "ARM_USE_CLI")?
            .unwrap_or(true);

        let ca_bundle = r
            .string(&self.ca_bundle, &["ARM_CA_BUNDLE"])
            .map(PathBuf::from);
        if let Some(p) = &ca_bundle
            && !p.is_file()
        {
            return Err(AzureError::config(
                "ca_bundle",
                format!(
                    "{} is not a readable file; expected a PEM file of CA certificates",
                    p.display()
                ),
            ));
        }
        let max_retries = match self.max_retries {
            Some(n) => n,
            None => match non_empty((r.env)("ARM_MAX_RETRIES")) {
                Some(s) => s.trim().parse::<i64>().map_err(|_| {
                    AzureError::config(
                        "max_retries",
                        format!(
                            "environment variable ARM_MAX_RETRIES is {s:?}; expected a whole number"
                        ),
                    )
                })?,
                None => i64::from(DEFAULT_MAX_RETRIES),
            },
        };
        let max_retries = u32::try_from(max_retries)
            .ok()
            .filter(|n| *n <= MAX_MAX_RETRIES)
            .ok_or_else(|| {
                AzureError::config(
                    "max_retries",
                    format!("{max_retries} is out of range; expected 0 to {MAX_MAX_RETRIES}"),
                )
            })?;

        let tenant_id = tenant_id.map(|s| s.trim().to_string());
        if let Some(t) = &tenant_id
            && !t
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
        {
            return Err(AzureError::config(
                "tenant_id",
                format!(
                    "{t:?} is not a tenant id; expected a GUID or a domain such as contoso.onmicrosoft.com"
                ),
            ));
        }
        let subscription_id = r
            .string(&self.subscription_id, &["ARM_SUBSCRIPTION_ID"])
            .map(|s| s.trim().to_string());
        if let Some(s) = &subscription_id
            && !s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            return Err(AzureError::config(
                "subscription_id",
                format!(
                    "{s:?} is not a subscription id; expected a GUID such as 00000000-0000-0000-0000-000000000000"
                ),
            ));
        }

        for (setting, value) in [
            ("client_id", client_id.as_deref()),
            ("client_secret", client_secret.as_deref()),
            (
                "client_certificate_password",
                client_certificate_password.as_ref().map(Secret::secret),
            ),
            ("oidc_token", oidc_token.as_ref().map(Secret::secret)),
            (
                "oidc_request_token",
                oidc_request_token.as_ref().map(Secret::secret),
            ),
        ] {
            if let Some(v) = value {
                check_size(setting, v, MAX_SECRET_BYTES)?;
            }
        }

        Ok(ResolvedAuthConfig {
            subscription_id,
            tenant_id,
            client_id,
            client_secret: client_secret.map(Secret::new),
            client_certificate,
            client_certificate_password,
            use_oidc,
            oidc_token,
            oidc_token_file_path,
            oidc_request_url,
            oidc_request_token,
            use_msi,
            msi_endpoint,
            app_service_identity,
            use_cli,
            cloud,
            ca_bundle,
            max_retries,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k: &str| m.get(k).cloned()
    }

    #[test]
    fn config_wins_over_env_and_env_fills_gaps() {
        let cfg = AuthConfig {
            client_id: Some("cfg-client".into()),
            ..Default::default()
        };
        let e = env(&[
            ("ARM_CLIENT_ID", "env-client"),
            ("ARM_TENANT_ID", "env-tenant"),
            ("ARM_CLIENT_SECRET", "s3cret"),
            ("ARM_SUBSCRIPTION_ID", "sub"),
            ("ARM_USE_CLI", "false"),
        ]);
        let r = cfg.resolve(&e).unwrap();
        assert_eq!(r.client_id.as_deref(), Some("cfg-client"));
        assert_eq!(r.tenant_id.as_deref(), Some("env-tenant"));
        assert_eq!(r.client_secret.as_ref().map(|s| s.secret()), Some("s3cret"));
        assert_eq!(r.subscription_id.as_deref(), Some("sub"));
        assert!(!r.use_cli);
        assert_eq!(r.max_retries, DEFAULT_MAX_RETRIES);
        assert_eq!(r.secret_values(), vec!["s3cret".to_string()]);
        assert!(!format!("{r:?}").contains("s3cret"));
    }

    #[test]
    fn defaults() {
        let r = AuthConfig::default().resolve(&env(&[])).unwrap();
        assert!(r.use_cli && !r.use_msi && !r.use_oidc);
        assert_eq!(r.cloud, Cloud::public());
        assert!(r.client_id.is_none());
    }

    #[test]
    fn github_actions_variables_are_fallbacks() {
        let r = AuthConfig::default()
            .resolve(&env(&[
                (
                    "ACTIONS_ID_TOKEN_REQUEST_URL",
                    "https://token.actions.example/x?a=1",
                ),
                ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "gh-token"),
                ("ARM_USE_OIDC", "TRUE"),
            ]))
            .unwrap();
        assert!(r.use_oidc);
        assert_eq!(
            r.oidc_request_url.unwrap().host_str(),
            Some("token.actions.example")
        );
        assert_eq!(r.oidc_request_token.unwrap().secret(), "gh-token");
        let r = AuthConfig::default()
            .resolve(&env(&[
                ("ACTIONS_ID_TOKEN_REQUEST_URL", "https://a.example"),
                ("ARM_OIDC_REQUEST_URL", "https://b.example"),
            ]))
            .unwrap();
        assert_eq!(r.oidc_request_url.unwrap().host_str(), Some("b.example"));
    }

    #[test]
    fn invalid_settings_name_the_setting() {
        // A bad setting in the configuration, and what the error must name.
        type Set = fn(&mut AuthConfig);
        let settings: [(Set, &str); 8] = [
            (|c| c.environment = Some("mars".into()), "`environment`"),
            (|c| c.max_retries = Some(-1), "`max_retries`"),
            (
                |c| {
                    c.client_certificate = Some("AAAA".into());
                    c.client_certificate_path = Some("/x.pfx".into());
                },
                "`client_certificate`",
            ),
            (|c| c.client_certificate = Some("%%%".into()), "base64"),
            (
                |c| c.resource_manager_endpoint = Some("http://example.com".into()),
                "`resource_manager_endpoint`",
            ),
            (
                |c| c.authority_host = Some("http://127.0.0.1:1".into()),
                "`authority_host`",
            ),
            (
                |c| c.ca_bundle = Some("/nonexistent/ca.pem".into()),
                "`ca_bundle`",
            ),
            (
                |c| c.client_secret_file_path = Some("/nonexistent/secret".into()),
                "`client_secret_file_path`",
            ),
        ];
        for (set, needle) in settings {
            let mut cfg = AuthConfig::default();
            set(&mut cfg);
            let e = cfg.resolve(&env(&[])).unwrap_err().to_string();
            assert!(e.contains(needle), "expected {needle} in {e}");
        }
        // A bad environment variable, and what the error must name.
        let variables = [
            ("ARM_ENVIRONMENT", "moon", "`environment`"),
            ("ARM_USE_MSI", "maybe", "`use_msi`"),
            ("ARM_MAX_RETRIES", "many", "`max_retries`"),
        ];
        for (var, value, needle) in variables {
            let e = AuthConfig::default()
                .resolve(&env(&[(var, value)]))
                .unwrap_err()
                .to_string();
            assert!(e.contains(needle), "expected {needle} in {e}");
        }
    }

    #[test]
    fn custom_endpoints_and_aks() {
        let dir = tempfile::tempdir().unwrap();
        let tok = dir.path().join("tok");
        std::fs::write(&tok, "jwt").unwrap();
        let r = AuthConfig {
            resource_manager_endpoint: Some("https://localhost:8443/".into()),
            authority_host: Some("https://localhost:8443".into()),
            use_aks_workload_identity: Some(true),
            ..Default::default()
        }
        .resolve(&env(&[
            ("AZURE_FEDERATED_TOKEN_FILE", tok.to_str().unwrap()),
            ("AZURE_CLIENT_ID", "aks-client"),
            ("AZURE_TENANT_ID", "aks-tenant"),
        ]))
        .unwrap();
        assert_eq!(r.cloud.resource_manager.as_str(), "https://localhost:8443/");
        assert_eq!(
            r.cloud.resource_manager_scope(),
            "https://localhost:8443/.default"
        );
        assert!(r.use_oidc);
        assert_eq!(r.oidc_token_file_path.as_deref(), Some(tok.as_path()));
        assert_eq!(r.client_id.as_deref(), Some("aks-client"));
        assert_eq!(r.tenant_id.as_deref(), Some("aks-tenant"));
    }
}
