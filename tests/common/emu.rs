//! The ARM emulator, in-process, for end-to-end tests: seeded with a standard fixture,
//! reachable by the provider over HTTPS, and controllable (drift, faults, journal).

use std::path::{Path, PathBuf};

use amlauth_emulator::{Emulator, EmulatorConfig, JournalEntry, RunningEmulator, Shapes};
use serde_json::{Value, json};

pub const SUB: &str = "00000000-0000-4000-8000-000000000001";
pub const TENANT: &str = "72f988bf-0000-4000-8000-00000000e001";
pub const CLIENT_ID: &str = "11111111-0000-4000-8000-00000000c11e";
pub const CLIENT_SECRET: &str = "e2e-client-secret-value";

pub fn rg() -> String {
    format!("/subscriptions/{SUB}/resourceGroups/rg-e2e")
}
pub fn workspace(name: &str) -> String {
    format!(
        "{}/providers/Microsoft.MachineLearningServices/workspaces/{name}",
        rg()
    )
}
pub fn registry(name: &str) -> String {
    format!(
        "{}/providers/Microsoft.ContainerRegistry/registries/{name}",
        rg()
    )
}
pub fn uai(name: &str) -> String {
    format!(
        "{}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}",
        rg()
    )
}
pub fn compute(ws: &str, name: &str) -> String {
    format!("{}/computes/{name}", workspace(ws))
}
pub fn datastore(ws: &str, name: &str) -> String {
    format!("{}/datastores/{name}", workspace(ws))
}

/// The standard fixture: two workspaces (one with a registry, one without), three
/// user-assigned identities, computes and datastores of several kinds.
pub fn standard_seed() -> Value {
    json!({
        "clients": [{ "clientId": CLIENT_ID, "clientSecret": CLIENT_SECRET }],
        "subscriptions": [{
            "id": SUB,
            "resourceGroups": [{
                "name": "rg-e2e",
                "location": "eastus",
                "identities": [{ "name": "uai-one" }, { "name": "uai-two" }, { "name": "uai-three" }],
                "registries": [{ "name": "acre2eone", "adminUserEnabled": true }, { "name": "acre2etwo", "adminUserEnabled": true }],
                "workspaces": [
                    {
                        "name": "ws-one",
                        "identity": "SystemAssigned",
                        "containerRegistry": "acre2eone",
                        "computes": [{ "name": "cluster-a", "maxNodes": 4 }, { "name": "cluster-b", "maxNodes": 2 }],
                        "datastores": [
                            { "name": "blob_data", "type": "AzureBlob", "accountName": "ste2e", "containerName": "data",
                              "credentials": { "accountKey": "seeded-account-key" } },
                            { "name": "files_data", "type": "AzureFile", "accountName": "ste2e", "fileShareName": "share",
                              "credentials": { "accountKey": "seeded-account-key" } },
                            { "name": "lake_data", "type": "AzureDataLakeGen2", "accountName": "ste2elake", "filesystem": "lake",
                              "credentials": "None" }
                        ]
                    },
                    { "name": "ws-two", "identity": "SystemAssigned" }
                ]
            }]
        }]
    })
}

/// Which answer shapes the e2e suite runs against: `AMLAUTH_EMULATOR_SHAPES=spec` for the REST
/// spec's, anything else (default `reality`) for what Azure was recorded sending.
/// `scripts/test.sh` runs the e2e tests once with each.
pub fn shapes() -> Shapes {
    match std::env::var("AMLAUTH_EMULATOR_SHAPES").as_deref() {
        Ok(s) if s.eq_ignore_ascii_case("spec") => Shapes::Spec,
        _ => Shapes::Reality,
    }
}

/// Whether the emulator answers in the spec's shapes (see [`shapes`]).
pub fn spec_shapes() -> bool {
    shapes().spec()
}

/// A running emulator plus the runtime that drives it.
pub struct Emu {
    rt: tokio::runtime::Runtime,
    emu: Option<RunningEmulator>,
    pub ca_path: PathBuf,
    http: reqwest::Client,
}

impl Emu {
    /// Starts an emulator seeded with `seed`, writing its CA into `dir`.
    pub fn start(seed: Value, dir: &Path) -> Self {
        Self::start_with(seed, dir, |_| {})
    }

    /// Like [`Emu::start`], with `tweak` applied to the configuration (shapes already set).
    pub fn start_with(seed: Value, dir: &Path, tweak: impl FnOnce(&mut EmulatorConfig)) -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let mut config = EmulatorConfig {
            seed: Some(seed),
            ..EmulatorConfig::default()
        };
        config.quirks.shapes = shapes();
        tweak(&mut config);
        let emu = rt
            .block_on(Emulator::start(config))
            .expect("emulator starts");
        let ca = emu.ca_pem().expect("https emulator has a CA").to_string();
        let ca_path = dir.join("emulator-ca.pem");
        std::fs::write(&ca_path, &ca).expect("write CA");
        let http = reqwest::Client::builder()
            .add_root_certificate(reqwest::Certificate::from_pem(ca.as_bytes()).expect("CA"))
            .no_proxy()
            .build()
            .expect("http client");
        Self {
            rt,
            emu: Some(emu),
            ca_path,
            http,
        }
    }

    fn inner(&self) -> &RunningEmulator {
        self.emu.as_ref().expect("running")
    }

    pub fn base_url(&self) -> String {
        self.inner().base_url().to_string()
    }

    /// Environment that points the provider at this emulator (as a user would with ARM_*).
    pub fn provider_env(&self) -> Vec<(String, String)> {
        let url = self.base_url();
        vec![
            ("ARM_RESOURCE_MANAGER_ENDPOINT".into(), url.clone()),
            ("ARM_AUTHORITY_HOST".into(), url),
            ("ARM_CA_BUNDLE".into(), self.ca_path.display().to_string()),
            ("ARM_TENANT_ID".into(), TENANT.into()),
            ("ARM_CLIENT_ID".into(), CLIENT_ID.into()),
            ("ARM_CLIENT_SECRET".into(), CLIENT_SECRET.into()),
            ("ARM_USE_CLI".into(), "false".into()),
        ]
    }

    fn control(
        &self,
        method: reqwest::Method,
        path_and_query: &str,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let url = format!("{}/_emulator{path_and_query}", self.base_url());
        self.send(
            self.http.request(method, &url),
            body,
            "control API reachable",
        )
    }

    /// Sends `req` with `body` as JSON (if any): the status and the JSON answer (null if none).
    fn send(
        &self,
        mut req: reqwest::RequestBuilder,
        body: Option<&Value>,
        reachable: &str,
    ) -> (u16, Value) {
        if let Some(b) = body {
            req = req.json(b);
        }
        self.rt.block_on(async {
            let resp = req.send().await.expect(reachable);
            let status = resp.status().as_u16();
            let v = resp.json::<Value>().await.unwrap_or(Value::Null);
            (status, v)
        })
    }

    fn enc(id: &str) -> String {
        url::form_urlencoded::byte_serialize(id.as_bytes()).collect()
    }

    /// The stored resource body, if it exists.
    pub fn resource(&self, id: &str) -> Option<Value> {
        self.stored(id).map(|r| r["body"].clone())
    }

    /// The stored record: `id`, `kind`, `body` and `private` (secrets the API never returns).
    pub fn stored(&self, id: &str) -> Option<Value> {
        let (status, v) = self.control(
            reqwest::Method::GET,
            &format!("/resource?id={}", Self::enc(id)),
            None,
        );
        (status == 200).then_some(v)
    }

    /// Out-of-band change (JSON merge patch) to create drift.
    pub fn patch(&self, id: &str, patch: Value) {
        let (status, v) = self.control(
            reqwest::Method::PATCH,
            &format!("/resource?id={}", Self::enc(id)),
            Some(&patch),
        );
        assert_eq!(status, 200, "patch {id}: {v}");
    }

    /// Out-of-band delete.
    pub fn delete(&self, id: &str) {
        let (status, v) = self.control(
            reqwest::Method::DELETE,
            &format!("/resource?id={}", Self::enc(id)),
            None,
        );
        assert!(status < 300, "delete {id}: {v}");
    }

    /// Adds a fault rule (see docs/emulator.md); returns its id.
    pub fn fault(&self, rule: Value) -> String {
        let (status, v) = self.control(reqwest::Method::POST, "/faults", Some(&rule));
        assert!(status < 300, "fault {rule}: {v}");
        v.get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    }

    pub fn clear_faults(&self) {
        self.inner().clear_faults();
    }

    pub fn journal(&self) -> Vec<JournalEntry> {
        self.inner().journal()
    }

    pub fn clear_journal(&self) {
        self.inner().clear_journal();
    }

    /// Sets the lists' page size through the control API (`PATCH /settings`); 0 = one page.
    pub fn set_list_page_size(&self, n: usize) {
        let patch = json!({"quirks": {"listPageSize": n}});
        let (status, v) = self.control(reqwest::Method::PATCH, "/settings", Some(&patch));
        assert!(status < 300, "settings {patch}: {v}");
        assert_eq!(v["quirks"]["listPageSize"], n, "{v}");
    }

    /// A bearer token for the emulator's ARM API, issued to the standard client.
    pub fn arm_token(&self) -> String {
        let url = format!("{}/{TENANT}/oauth2/v2.0/token", self.base_url());
        self.rt.block_on(async {
            let resp = self
                .http
                .post(&url)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(
                    url::form_urlencoded::Serializer::new(String::new())
                        .append_pair("grant_type", "client_credentials")
                        .append_pair("client_id", CLIENT_ID)
                        .append_pair("client_secret", CLIENT_SECRET)
                        .append_pair("scope", "https://management.azure.com/.default")
                        .finish(),
                )
                .send()
                .await
                .expect("token endpoint reachable");
            let status = resp.status();
            let v: Value = resp.json().await.unwrap_or(Value::Null);
            assert!(status.is_success(), "token: {status} {v}");
            v["access_token"]
                .as_str()
                .expect("access_token")
                .to_string()
        })
    }

    /// One ARM request as a client such as azurerm sends it (bearer token, JSON body);
    /// `path_and_query` starts with `/subscriptions/…` and carries `api-version`.
    pub fn arm(
        &self,
        method: reqwest::Method,
        path_and_query: &str,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let token = self.arm_token();
        let url = format!("{}{path_and_query}", self.base_url().trim_end_matches('/'));
        self.send(
            self.http.request(method, &url).bearer_auth(token),
            body,
            "ARM reachable",
        )
    }

    /// ARM calls (not token requests) in the journal, as "METHOD path" lines.
    pub fn arm_calls(&self) -> Vec<String> {
        self.journal()
            .into_iter()
            .filter(|e| e.path.starts_with("/subscriptions/"))
            .map(|e| format!("{} {}", e.method, e.path))
            .collect()
    }
}

impl Drop for Emu {
    fn drop(&mut self) {
        if let Some(emu) = self.emu.take() {
            self.rt.block_on(emu.shutdown());
        }
    }
}
