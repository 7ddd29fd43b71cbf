//! Emulator settings: what a test or the command line can choose.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Tenant used when none is configured.
pub const DEFAULT_TENANT_ID: &str = "72f988bf-0000-4000-8000-00000000e001";
/// Subscription that exists from the start when none is configured.
pub const DEFAULT_SUBSCRIPTION_ID: &str = "00000000-0000-4000-8000-000000000001";
/// Default audience an OIDC token must carry for a federated credential.
pub const DEFAULT_FEDERATION_AUDIENCE: &str = "api://AzureADTokenExchange";
/// `client_assertion_type` value Entra ID requires.
pub const JWT_BEARER_ASSERTION_TYPE: &str =
    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// How long each kind of long-running operation takes before it reaches its final state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OperationDurations {
    /// Workspace create/update/delete.
    #[serde(with = "millis")]
    pub workspace: Duration,
    /// Compute create/update/delete.
    #[serde(with = "millis")]
    pub compute: Duration,
    /// Registry create/update/delete.
    #[serde(with = "millis")]
    pub registry: Duration,
}

impl Default for OperationDurations {
    fn default() -> Self {
        let short = Duration::from_millis(300);
        Self {
            workspace: short,
            compute: short,
            registry: short,
        }
    }
}

impl OperationDurations {
    /// Every operation completes immediately (for benchmarks).
    pub fn zero() -> Self {
        Self {
            workspace: Duration::ZERO,
            compute: Duration::ZERO,
            registry: Duration::ZERO,
        }
    }
}

/// Which answer shapes the emulator uses where recorded Azure traffic differs from the REST spec.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Shapes {
    /// What Azure was recorded sending: registry admin PATCH answers `200` at once; no
    /// `identity` key on a compute or registry without one; no `secrets` object on datastores;
    /// datastore create answers `201` with `Location` = the datastore's URL; a compute identity
    /// PUT answers `201` `Creating` (async); a user-assigned identity's own `id` says
    /// `/resourcegroups/`; registry identity `type` in lower camel case.
    #[default]
    Reality,
    /// What the REST spec describes (`--spec-shapes`).
    Spec,
}

impl Shapes {
    /// Whether the spec's shapes are answered.
    pub fn spec(self) -> bool {
        self == Shapes::Spec
    }

    /// Whether recorded Azure's shapes are answered.
    pub fn reality(self) -> bool {
        self == Shapes::Reality
    }
}

/// Switches for the ways real Azure is looser than its spec (fact sheet §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Quirks {
    /// Reality's shapes (default) or the spec's.
    pub shapes: Shapes,
    /// Re-case ids in responses the way ARM does (lower-cased identity ids, `Microsoft.Keyvault`, ...).
    pub recase_ids: bool,
    /// Answer operations the spec marks long-running synchronously (200 + final body).
    pub sync_long_running: bool,
    /// Leave the `secrets` block out of datastore responses entirely.
    pub omit_datastore_secrets_block: bool,
    /// Allow a workspace to go from `SystemAssigned,UserAssigned` to `SystemAssigned`.
    pub allow_workspace_identity_downgrade: bool,
    /// Answer enum values re-cased (`systemAssigned`, `accessKey`), as some services do.
    pub recase_enums: bool,
    /// Answer timestamps with seven fraction digits and a `+00:00` offset instead of `Z`.
    pub alternate_timestamps: bool,
    /// Refuse compute and datastore writes (409) while their workspace has an operation running.
    pub workspace_child_conflicts: bool,
    /// Items per page of the workspace, compute, datastore, registry, role assignment and
    /// role definition lists; more come through `nextLink` (`$skiptoken`), as ARM pages. 0
    /// answers everything in one page.
    pub list_page_size: usize,
}

/// Default [`Quirks::list_page_size`]: the Azure ML datastore list's default `count`. ARM
/// documents no page size for the other lists (role assignments included), so they share it.
pub const DEFAULT_LIST_PAGE_SIZE: usize = 30;

impl Default for Quirks {
    fn default() -> Self {
        Self {
            shapes: Shapes::Reality,
            recase_ids: true,
            sync_long_running: false,
            omit_datastore_secrets_block: false,
            allow_workspace_identity_downgrade: false,
            recase_enums: false,
            alternate_timestamps: false,
            workspace_child_conflicts: false,
            list_page_size: DEFAULT_LIST_PAGE_SIZE,
        }
    }
}

/// A federated identity credential: which OIDC tokens may be exchanged, for which app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Federation {
    /// The application (client) id the exchange is for.
    pub client_id: String,
    /// Required `iss` claim.
    pub issuer: String,
    /// Required `sub` claim.
    pub subject: String,
    /// Required `aud` entry.
    #[serde(default = "default_audience")]
    pub audience: String,
}

fn default_audience() -> String {
    DEFAULT_FEDERATION_AUDIENCE.to_string()
}

/// A service principal that authenticates with a certificate: it signs a client assertion whose
/// `iss` and `sub` are its client id and whose `aud` is the token endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CertificateClient {
    /// Application (client) id.
    pub client_id: String,
    /// Expected `x5t` header (base64url SHA-1 thumbprint); any certificate when absent.
    #[serde(default)]
    pub x5t: Option<String>,
}

/// A service principal that may use the client-credentials grant.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientSecret {
    /// Application (client) id.
    pub client_id: String,
    /// The secret; never logged.
    pub client_secret: String,
}

impl std::fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientSecret")
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .finish()
    }
}

/// Everything needed to start an emulator.
#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    /// Address to bind; port 0 picks a free one.
    pub listen: SocketAddr,
    /// Allow binding a non-loopback address.
    pub allow_non_loopback: bool,
    /// Serve HTTPS with a generated certificate (otherwise plain HTTP).
    pub https: bool,
    /// Also serve the managed-identity endpoint on a plain-HTTP loopback port, like App Service does.
    pub managed_identity_http: bool,
    /// Tenant the token endpoint serves.
    pub tenant_id: String,
    /// Lifetime of issued access tokens.
    pub token_lifetime: Duration,
    /// Durations of long-running operations.
    pub durations: OperationDurations,
    /// `Retry-After` seconds sent with long-running answers.
    pub retry_after_secs: u64,
    /// Largest accepted request body in bytes (bigger gets 413).
    pub max_body_bytes: usize,
    /// How long a connection may take to send a request's headers before it is closed.
    pub header_read_timeout: Duration,
    /// Secret expected in `X-IDENTITY-HEADER` by the managed-identity endpoint.
    pub identity_header: String,
    /// Client-credential principals. Empty means any client id with any non-empty secret works.
    pub clients: Vec<ClientSecret>,
    /// Federated credentials accepted for client assertions.
    pub federations: Vec<Federation>,
    /// Certificate-based principals (client assertions signed by the app itself).
    pub certificate_clients: Vec<CertificateClient>,
    /// Subscriptions that exist from the start (besides seeded ones).
    pub subscriptions: Vec<String>,
    /// Seed document applied at start (after the state file, if any, was loaded).
    pub seed: Option<serde_json::Value>,
    /// File the state is persisted to after every change.
    pub state_file: Option<PathBuf>,
    /// Behaviour switches.
    pub quirks: Quirks,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            allow_non_loopback: false,
            https: true,
            managed_identity_http: true,
            tenant_id: DEFAULT_TENANT_ID.to_string(),
            token_lifetime: Duration::from_secs(3600),
            durations: OperationDurations::default(),
            retry_after_secs: 1,
            max_body_bytes: 4 * 1024 * 1024,
            header_read_timeout: Duration::from_secs(30),
            identity_header: "emulator-identity-header".to_string(),
            clients: Vec::new(),
            federations: Vec::new(),
            certificate_clients: Vec::new(),
            subscriptions: vec![DEFAULT_SUBSCRIPTION_ID.to_string()],
            seed: None,
            state_file: None,
            quirks: Quirks::default(),
        }
    }
}

mod millis {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        Ok(Duration::from_millis(u64::deserialize(d)?))
    }
}
